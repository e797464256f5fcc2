"""The node subgradient's passes (``_pmedian_kernel``): prefix search, the two site counts,
and the narrow (int32 / float32) storage of the sorted costs, each against a plain reference.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import embedsite.siting._pmedian_bb as bb
import embedsite.siting._pmedian_kernel as _k


@st.composite
def _rows_and_lams(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer costs (clients x sites, many ties), multipliers on and between the costs, and
    a guess of each prefix length anywhere in ``0..n``."""
    m = draw(st.integers(1, 12))
    n = draw(st.integers(1, 15))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    C = rng.integers(0, 6, size=(m, n)).astype(np.float64)
    lam = rng.integers(0, 8, size=m) + rng.choice([0.0, 0.5], size=m)
    guess = rng.integers(0, n + 1, size=m)
    return C, lam, guess


@settings(max_examples=200, deadline=None)
@given(_rows_and_lams())
def test_prefix_from_any_guess_is_the_count_below(
    inst: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """``_prefix`` finds the entries strictly below the multiplier whatever its start."""
    C, lam, guess = inst
    _, wcs, _ = bb._sorted_rows(C, np.ones(C.shape[0]))
    for i in range(C.shape[0]):
        want = int(np.searchsorted(wcs[i], lam[i], side="left"))
        assert _k._prefix(wcs, i, float(lam[i]), int(guess[i])) == want


@settings(max_examples=200, deadline=None)
@given(_rows_and_lams(), st.integers(0, 2**32 - 1))
def test_dense_count_equals_the_walk(
    inst: tuple[np.ndarray, np.ndarray, np.ndarray], seed: int
) -> None:
    """Both counts of a client's Lagrangian sites below its multiplier agree, and match
    numpy; clients outside ``mv`` (multiplier ``-inf`` in the dense pass) count 0."""
    C, lam, _ = inst
    m, n = C.shape
    rng = np.random.default_rng(seed)
    order, wcs, wct = bb._sorted_rows(C, np.ones(m))
    k = int(rng.integers(1, n + 1))
    livel = rng.permutation(n).astype(np.int64)
    bi = rng.choice(n, size=k, replace=False).astype(np.int64)
    sites = livel[bi]
    mv = np.sort(rng.choice(m, size=int(rng.integers(1, m + 1)), replace=False))
    lamf = np.full(m, -np.inf)
    lamf[mv] = lam[mv]
    pe = np.array([np.searchsorted(wcs[i], lam[i], side="left") for i in mv], dtype=np.int64)
    in_s = np.zeros(n, dtype=np.bool_)
    in_s[sites] = True
    walk = np.full(m, -1, dtype=np.int64)
    dense = np.full(m, -1, dtype=np.int64)
    _k._count_walk(order, mv.astype(np.int64), mv.size, pe, in_s, walk)
    _k._count_dense(wct, livel, bi, k, lamf, dense)
    want = (C[:, sites] < lam[:, None]).sum(axis=1)
    assert np.array_equal(walk[mv], want[mv])
    assert np.array_equal(dense[mv], want[mv])
    outside = np.setdiff1d(np.arange(m), mv)
    assert np.all(dense[outside] == 0)


def test_sorted_rows_narrow_only_when_exact() -> None:
    """Integer costs are stored as float32 (same values); costs no float32 holds stay float64."""
    rng = np.random.default_rng(3)
    C = rng.integers(1, 100, size=(7, 9)).astype(np.float64)
    w = rng.integers(1, 4, size=7).astype(np.float64)
    order, wcs, wct = bb._sorted_rows(C, w)
    assert order.dtype == np.int32
    assert wcs.dtype == np.float32 and wct.dtype == np.float32
    wc = w[:, None] * C
    assert np.array_equal(wcs.astype(np.float64), np.take_along_axis(wc, order, axis=1))
    assert np.array_equal(wct.astype(np.float64), wc.T)
    for bad in (C + 0.1, C * 2.0**25 + 1.0, np.where(C > 50, np.inf, C)):
        _, wcs2, wct2 = bb._sorted_rows(bad, w)
        assert wcs2.dtype == np.float64 and wct2.dtype == np.float64
        assert np.array_equal(wct2, (w[:, None] * bad).T)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40))
def test_node_bound_same_in_float32_and_float64(seed: int, iters: int) -> None:
    """The node kernel gives bit-identical results on float32 and float64 storage of the
    same integer costs (every sum is in float64)."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(5, 30))
    n = int(rng.integers(4, 25))
    k = int(rng.integers(1, n))
    C = rng.integers(1, 40, size=(m, n)).astype(np.float64)
    order, wcs, wct = bb._sorted_rows(C, np.ones(m))
    assert wcs.dtype == np.float32
    lam0 = C.min(axis=1) * 1.2 + 1.0
    target = float(np.sort(C, axis=1)[:, 0].sum() + rng.integers(0, 5 * m))
    outs = []
    for a, b in ((wcs, wct), (wcs.astype(np.float64), wct.astype(np.float64))):
        lam = lam0.copy()
        res = [np.zeros(n, np.bool_), np.zeros(n, np.bool_), lam0.copy(), np.zeros(k, np.int64)]
        freq = np.zeros(n)
        steps = np.zeros(1, np.int64)
        low = _k.node_subgradient(
            order, a, b, np.arange(m, dtype=np.int64), m, lam, np.full(m, np.inf),
            np.ones(n, np.bool_), k, target, 0.001 * target, iters, 2.0, 5, 20, 0.4,
            res[0], res[1], res[2], res[3], freq, steps,
        )  # fmt: skip
        outs.append((low, res, freq, steps[0], lam))
    (l32, r32, f32, s32, lam32), (l64, r64, f64, s64, lam64) = outs
    assert s32 == s64 >= 1
    assert l32 == l64
    assert np.array_equal(lam32, lam64) and np.array_equal(f32, f64)
    for x, y in zip(r32, r64, strict=True):
        assert np.array_equal(x, y)

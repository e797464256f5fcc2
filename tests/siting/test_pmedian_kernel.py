"""Compiled p-median kernels against the numpy implementation they replaced, and brute force.

``_np_lagrangian`` and ``_np_node_bound`` are copies of the numpy root Lagrangian and node
subgradient of commit 61176b4 (``_pmedian_lagrangian._lagrangian``,
``_pmedian_bb._node_bound``): the compiled kernels follow the same arithmetic, so on costs
without ties they take the same steps and fix the same sites.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from siting_helpers import pmedian_optima, small_integer_pmedian

import embedsite.siting._pmedian_bb as bb
import embedsite.siting._pmedian_exact as pe
import embedsite.siting._pmedian_tree_kernel as _tk
from embedsite.siting._orlib import random_instance

# ------------------------------------------------------------------ numpy references (61176b4)


def _boundary_tie(rho: np.ndarray, k: int) -> bool:
    """The k-th and (k+1)-th smallest rho equal and negative: either may join the solution.

    The two implementations may then pick different sites, take different subgradients and
    part ways (both valid); ties at 0 (sites no client wants) change nothing.
    """
    r = np.sort(rho)
    return bool(r[k] < -1e-12 and r[k] - r[k - 1] <= 1e-9 * (1.0 + abs(r[k])))


TIES: list[bool] = []  # set by the references: a boundary tie was met


def _np_lagrangian(
    C: np.ndarray, w: np.ndarray, p: int, ub: float, delta: float, lam0: np.ndarray, max_iter: int
) -> tuple[float, np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]:
    """The numpy root subgradient with fixing (dense arithmetic only; no deadline)."""
    n_all = C.shape[1]
    lam = lam0.copy()
    closed = np.zeros(n_all, dtype=bool)
    opened = np.zeros(n_all, dtype=bool)
    best, beta, stall, it = -np.inf, 2.0, 0, 0
    best_sites, best_lam = np.arange(p), lam.copy()
    ids = np.arange(n_all)
    wc = w[:, None] * C
    span = float(wc.max()) * 2.0 + 1.0
    for it in range(1, max_iter + 1):  # noqa: B007
        n = ids.size
        if n <= p:
            best = ub - delta
            if n == p:
                v = float(w @ C[:, ids].min(axis=1))
                best, best_sites = min(v, ub - delta), ids.copy()
            break
        lam = np.minimum(lam, span / 2.0)
        r = np.minimum(wc - lam[:, None], 0.0)
        rho = r.sum(axis=0)
        TIES.append(_boundary_tie(rho, p))
        part = np.argpartition(rho, p)
        S = part[:p]
        rho_p = rho[S].max()
        rho_p1 = rho[part[p]]
        L = float(lam.sum() + rho[S].sum())
        if best == -np.inf or best + 1e-9 * max(1.0, abs(best)) < L:
            best, stall = L, 0
            best_sites, best_lam = ids[S], lam.copy()
        else:
            stall += 1
            if stall >= 15:
                beta, stall = beta / 2, 0
        in_s = np.zeros(n, dtype=bool)
        in_s[S] = True
        shut = ~in_s & (L + rho - rho_p > ub - delta)
        closed[ids[shut]] = True
        opened[ids[in_s & (L - rho + rho_p1 > ub - delta)]] = True
        lift = np.where(in_s, L - rho + rho_p1, L + rho - rho_p)  # a test on the line: rounding
        TIES.append(bool(np.any(np.abs(lift - (ub - delta)) <= 1e-9 * max(1.0, abs(ub)))))
        if best > ub - delta or beta < 5e-3:
            break
        g = 1.0 - (r[:, S] < 0).sum(axis=1)
        nn = float(g @ g)
        if nn == 0:
            break
        lam = np.maximum(lam + beta * (ub - L) / nn * g, 0.0)
        gone = closed[ids]
        if gone.sum() > 0.1 * n:
            keep = ~gone
            ids, wc = ids[keep], wc[:, keep]
    return min(best, ub - delta), closed, opened & ~closed, it, best_sites, best_lam


def _np_node_bound(
    wc: np.ndarray, k: int, target: float, lam: np.ndarray, iters: int, beta: float
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The numpy node subgradient (stall 5, window 20, progress 0.4)."""
    n = wc.shape[1]
    dead = np.zeros(n, dtype=bool)
    opened = np.zeros(n, dtype=bool)
    best, best_lam, best_s = -np.inf, lam, np.arange(k)
    stall = 0
    history: list[float] = []
    freq = np.zeros(n)
    idx = np.arange(n)
    cur = wc
    for it in range(iters):
        r = np.minimum(cur - lam[:, None], 0.0)
        rho = r.sum(axis=0)
        nl = idx.size
        if nl <= k:
            break
        TIES.append(_boundary_tie(rho, k))
        part = np.argpartition(rho, k)
        S = part[:k]
        rho_k = rho[S].max()
        rho_k1 = rho[part[k]]
        low = float(lam.sum() + rho[S].sum())
        if best == -np.inf or low > best + 1e-9 * max(1.0, abs(best)):
            best, best_lam, best_s, stall = low, lam, idx[S], 0
        else:
            stall += 1
            if stall >= 5:
                beta, stall = beta / 2, 0
        if best >= target:
            break
        history.append(best)
        if it >= 20 and best - history[it - 20] < 0.4 * (target - best):
            break
        in_s = np.zeros(nl, dtype=bool)
        in_s[S] = True
        freq[idx[S]] += 1.0
        shut = ~in_s & (low + rho - rho_k >= target)
        opened[idx[in_s & (low - rho + rho_k1 >= target)]] = True
        # a fixing test that lands on the target itself is decided by rounding: the kernel
        # sums rho in another order (hypothesis found one at exactly 0.0 from the target)
        tol = 1e-9 * max(1.0, abs(target))
        lift = np.where(in_s, low - rho + rho_k1, low + rho - rho_k)
        TIES.append(bool(np.any(np.abs(lift - target) <= tol)))
        g = 1.0 - (r[:, S] < 0).sum(axis=1)
        nn = float(g @ g)
        if nn == 0 or beta < 1e-3:
            break
        lam = np.maximum(lam + beta * (target - low) / nn * g, 0.0)
        if shut.any():
            dead[idx[shut]] = True
            keep = ~shut
            idx, cur = idx[keep], cur[:, keep]
    freq /= max(1.0, freq.sum() / k)
    return best, dead, opened & ~dead, best_lam, best_s, freq


# ------------------------------------------------------------------------------- instances


@st.composite
def _tie_free(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Continuous random costs and weights (no ties), p, and a target factor."""
    m = draw(st.integers(3, 40))
    n = draw(st.integers(3, 30))
    p = draw(st.integers(1, n - 1))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    cost = rng.random((m, n)) * 100.0
    w = rng.random(m) + 0.5
    return cost, w, p, draw(st.floats(1.0, 1.3))


def _heuristic_ub(cost: np.ndarray, w: np.ndarray, p: int, factor: float) -> float:
    sel = np.argsort(w @ cost)[:p]
    return factor * float(w @ cost[:, sel].min(axis=1))


# ------------------------------------------------------------------------------------ root


@settings(max_examples=150, deadline=None)
@given(_tie_free(), st.integers(1, 25))
def test_root_kernel_equals_the_numpy_subgradient(
    inst: tuple[np.ndarray, np.ndarray, int, float], iters: int
) -> None:
    """Same bound, same fixed sites, same multipliers, step for step."""
    cost, w, p, factor = inst
    ub = _heuristic_ub(cost, w, p, factor)
    lam0 = w * cost.min(axis=1)
    TIES.clear()
    ref = _np_lagrangian(cost, w, p, ub, 1e-9 * ub, lam0, iters)
    assume(not any(TIES))
    got = pe._lagrangian(cost, w, p, ub, 1e-9 * ub, lam0, max_iter=iters, deadline=np.inf)
    assert np.isclose(got.bound, ref[0], rtol=1e-9, atol=1e-9)
    assert np.array_equal(got.closed, ref[1])
    assert np.array_equal(got.opened, ref[2])
    assert got.iterations == ref[3]
    # sites no client wants tie at rho = 0: the two may pick different ones among those
    rho = np.minimum(w[:, None] * cost - got.lam[:, None], 0.0).sum(axis=0)
    assert np.isclose(rho[got.sites].sum(), rho[np.asarray(ref[4])].sum(), rtol=1e-9, atol=1e-9)
    assert np.allclose(got.lam, ref[5], rtol=1e-9, atol=1e-9)


def test_root_kernel_deadline_stops_in_chunks() -> None:
    inst = random_instance(300, 10, seed=3)
    w = np.ones(300)
    lam0 = inst.cost.min(axis=1)
    ub = 1.05 * pe.heuristic_pmedian(inst.cost, 10).objective
    full = pe._lagrangian(inst.cost, w, 10, ub, 0.999, lam0, max_iter=400, deadline=np.inf)
    cut = pe._lagrangian(inst.cost, w, 10, ub, 0.999, lam0, max_iter=400, deadline=0.0)
    ref = _np_lagrangian(inst.cost, w, 10, ub, 0.999, lam0, 400)
    assert full.iterations == ref[3] > 10
    assert np.isclose(full.bound, ref[0], rtol=1e-9)
    assert cut.iterations == 10  # one chunk, then the (passed) deadline
    assert 0 < cut.bound <= full.bound + 1e-9


# ------------------------------------------------------------------------------------ node


@settings(max_examples=150, deadline=None)
@given(_tie_free(), st.integers(1, 60))
def test_node_kernel_equals_the_numpy_subgradient(
    inst: tuple[np.ndarray, np.ndarray, int, float], iters: int
) -> None:
    """Without a cap on the multipliers the sorted-prefix kernel is the dense numpy loop."""
    cost, w, p, factor = inst
    wc = w[:, None] * cost
    target = _heuristic_ub(cost, w, p, factor) - 0.5
    lam = wc.min(axis=1) * 1.01
    TIES.clear()
    ref = _np_node_bound(wc, p, target, lam.copy(), iters, 2.0)
    assume(not any(TIES))
    got = bb._node_bound(wc, p, target, lam.copy(), iters, 2.0)
    assert np.isclose(got[0], ref[0], rtol=1e-9, atol=1e-9)
    assert np.array_equal(got[1], ref[1])
    assert np.array_equal(got[2], ref[2])
    assert np.allclose(got[3], ref[3], rtol=1e-9, atol=1e-9)
    rho = np.minimum(wc - got[3][:, None], 0.0).sum(axis=0)
    assert np.isclose(rho[got[4]].sum(), rho[np.asarray(ref[4])].sum(), rtol=1e-9, atol=1e-9)
    # the share of steps each site spent in the Lagrangian solution: k sites per step (the
    # sites themselves may differ among those tied at rho = 0 in earlier steps)
    assert np.isclose(got[5].sum(), ref[5].sum())
    assert np.all((got[5] >= 0) & (got[5] <= 1))


@settings(max_examples=120, deadline=None)
@given(small_integer_pmedian(), st.integers(0, 2), st.sampled_from([0.0, 0.001, 0.3]))
def test_node_kernel_with_caps_keeps_every_optimum(
    inst: tuple[np.ndarray, np.ndarray, int], n_open: int, aim: float
) -> None:
    """A node with sites forced open (clients capped there): bound and fixing stay exact.

    The node problem: open ``n_open`` sites, choose ``p`` more among the rest; the kernel
    walks the uncapped sorted costs with multipliers held below the caps. Steps aiming
    ``aim`` (relative) above the target change only the step sizes: still exact.
    """
    cost, w, p = inst
    n = cost.shape[1]
    n_open = min(n_open, n - p - 1)
    if n_open < 0:
        return
    forced = list(range(n_open))
    free = np.arange(n_open, n)
    base = cost[:, forced].min(axis=1) if forced else np.full(len(w), np.inf)
    capped = np.minimum(cost[:, free], base[:, None])
    opt, optima = pmedian_optima(capped, w, p)
    cap = w * base
    lam = np.minimum(w * capped.min(axis=1) * 1.2, cap)
    low, dead, opened, lam_b, sites, freq = bb._node_bound(
        w[:, None] * cost[:, free], p, opt + 0.5, lam, 200, 2.0, cap=cap, aim=aim * (opt + 1)
    )
    assert low <= opt + 1e-9
    assert np.all(lam_b <= cap + 1e-12) and np.all(lam_b >= 0)
    assert not any(dead[list(s)].any() for s in optima)
    assert all(set(np.flatnonzero(opened).tolist()) <= s for s in optima)
    assert sites.size == p and np.all((freq >= 0) & (freq <= 1))


# ----------------------------------------------------------------------- tree and enumeration


_TREE_KNOBS = (
    "_ITERS", "_ENUM_WORK", "_SHALLOW", "_SHALLOW_ITERS", "_RULE", "_RELIABLE",
    "_STRONG_DEPTH", "_STRONG_CANDS", "_STRONG_ITERS", "_STRONG_PC", "_AIM",
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    small_integer_pmedian(),
    st.booleans(),
    st.sampled_from([0, 1, 3]),
    st.sampled_from([0, 2]),
    st.sampled_from([0, 1, 2]),
    st.sampled_from([(0, 1, 1, 0), (1, 4, 3, 1), (3, 2, 1, 0), (9, 8, 5, 1)]),
    st.sampled_from([0.0, 0.001, 0.3]),
)
@example(  # a strong fixing left a node whose open sites settle every client: it was dropped
    (np.array([[0.0, 0, 0, 0, 0], [1, 1, 1, 0, 1]]), np.ones(2), 3),
    False, 1, 0, 0, (1, 4, 3, 1), 0.0,
)  # fmt: skip
def test_compiled_tree_proves_the_brute_force_optimum(
    inst: tuple[np.ndarray, np.ndarray, int],
    good_start: bool,
    iters: int,
    shallow: int,
    rule: int,
    strong: tuple[int, int, int, int],
    aim: float,
) -> None:
    """Few subgradient steps per node: the tree branches deep and must still be exact.

    ``shallow``: levels run with the long subgradient (0: none, every node short);
    ``rule``: 0 most fractional, 1 pseudo-cost branching, 2 reliability branching (strong
    branching on candidates with unreliable pseudo-costs); ``strong``: depth below which
    every node strong-branches, candidates, child steps, whether child gains seed the
    pseudo-costs. Strong branching fixes sites whose child is pruned: those fixings too must
    keep the optimum. ``aim``: the nodes' steps aim that share of the incumbent above the
    pruning target (0.3: far above, large steps).
    """
    cost, w, p = inst
    opt, optima = pmedian_optima(cost, w, p)
    start = np.array(sorted(optima[0])) if good_start else np.argsort(w @ cost)[::-1][:p]
    saved = [getattr(bb, name) for name in _TREE_KNOBS]
    bb._ITERS, bb._ENUM_WORK = max(iters, 1), (0.0 if iters else 1e9)
    bb._SHALLOW, bb._SHALLOW_ITERS = shallow, 3 * max(iters, 1)
    bb._RULE, bb._RELIABLE = rule, 1.0
    bb._STRONG_DEPTH, bb._STRONG_CANDS, bb._STRONG_ITERS, bb._STRONG_PC = strong
    bb._AIM = aim
    try:
        res = bb.branch_and_bound(cost, w, p, start, np.zeros(len(w)), (0.999, 0.0), np.inf)
    finally:
        for name, value in zip(_TREE_KNOBS, saved, strict=True):
            setattr(bb, name, value)
    assert res.proven
    assert res.value == opt
    assert set(res.sites.tolist()) in optima
    assert res.bound <= opt


@settings(max_examples=60, deadline=None)
@given(_tie_free())
def test_compiled_tree_with_relative_tolerance(
    inst: tuple[np.ndarray, np.ndarray, int, float],
) -> None:
    cost, w, p, _ = inst
    if cost.shape[1] > 14:
        cost = cost[:, :14]
        p = min(p, 13)
    opt = pmedian_optima(cost, w, p)[0]
    start = np.argsort(w @ cost)[::-1][:p]
    res = bb.branch_and_bound(cost, w, p, start, np.zeros(len(w)), (1e-16, 1e-7), np.inf)
    assert res.proven
    assert res.value <= opt * (1 + 1e-7) + 1e-12
    assert np.isclose(res.value, float(w @ cost[:, res.sites].min(axis=1)), rtol=1e-12)
    assert res.bound <= opt + 1e-9


def test_compiled_tree_deadline_bound_below_the_optimum() -> None:
    inst = random_instance(300, 10, seed=2)
    w = np.ones(300)
    opt = pe.solve_pmedian(inst.cost, 10).objective
    poor = np.argsort(w @ inst.cost)[::-1][:10]
    t0 = time.perf_counter()
    cut = bb.branch_and_bound(inst.cost, w, 10, poor, np.zeros(300), (0.999, 0.0), t0 + 0.05)
    assert time.perf_counter() - t0 < 1.0  # batches of about 20 ms watch the deadline
    assert not cut.proven
    assert np.isfinite(cut.bound) and cut.bound <= opt <= cut.value


@settings(max_examples=100, deadline=None)
@given(small_integer_pmedian(), st.data())
def test_strong_child_bound_below_the_child_optimum(
    inst: tuple[np.ndarray, np.ndarray, int], data: st.DataObject
) -> None:
    """A strong-branching child's bound never exceeds its brute-force optimum.

    The child fixes one site closed or open (and maybe others); its optimum is enumerated
    over the plans of ``p`` sites that respect the fixings. With a target above every plan
    the subgradient runs its full budget from arbitrary multipliers.
    """
    cost, w, p = inst
    m, n = cost.shape
    state = np.array(data.draw(st.lists(st.sampled_from([0, 0, 1, 2]), min_size=n, max_size=n)))
    state = state.astype(np.int8)
    lam = np.array(data.draw(st.lists(st.floats(0, 150), min_size=m, max_size=m)))
    iters = data.draw(st.sampled_from([1, 5, 40]))
    plans = [
        s for s in itertools.combinations(range(n), p)
        if all(state[j] != 1 for j in s) and all(j in s for j in np.flatnonzero(state == 2))
    ]  # fmt: skip
    order, wcs, wct = bb._sorted_rows(cost, w)
    big = 2.0 * float(cost.max()) + 1.0
    fvec = np.array([1e9, 0.5, 0.0])
    work_i = np.empty((3, max(m, n) + p), dtype=np.int64)
    work_f = np.empty((5, max(m, n)))
    work_b = np.zeros((3, n), dtype=np.bool_)
    steps = np.zeros(1, dtype=np.int64)
    low = _tk._child_bound(
        np.ascontiguousarray(cost), w, order, wcs, wct, p, state, lam, fvec, iters, 2.0, 5, big,
        work_i, work_f, work_b, np.empty(p, dtype=np.int64), steps,
    )  # fmt: skip
    if not plans:
        return  # infeasible fixings: the tree never bounds such a node (any value is moot)
    opt = min(float(w @ cost[:, list(s)].min(axis=1)) for s in plans)
    assert low <= opt + 1e-7 * max(1.0, abs(opt))
    nopen, nfree = int((state == 2).sum()), int((state == 0).sum())
    if p - nopen > 0 and nfree > p - nopen:
        assert np.isfinite(low)  # a real bound was computed

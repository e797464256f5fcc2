"""2SFCA / E2SFCA / Gaussian 2SFCA against hand-worked numbers and a dense brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from embedsite._access import AccessResult, two_step_fca
from embedsite.errors import InputError, PopulationError

R = 1000.0
STEPS = [(R / 3, 1.0), (2 * R / 3, 0.68), (R, 0.22)]


def _hand() -> sparse.coo_array:
    # facility 0 reaches points 0 (200 m) and 1 (600 m); facility 1 reaches 1 (400 m),
    # 2 (800 m), and point 0 only at 1200 m: stored but beyond the 1 km radius
    return sparse.coo_array(
        ([200.0, 600.0, 400.0, 800.0, 1200.0], ([0, 0, 1, 1, 1], [0, 1, 1, 2, 0])), shape=(2, 3)
    )


def test_hand_worked_classic() -> None:
    res = two_step_fca(_hand(), [10, 20], [100, 200, 300], radius_m=R)
    # R_0 = 10 / (100 + 200) = 1/30; R_1 = 20 / (200 + 300) = 1/25
    np.testing.assert_allclose(res.facility_ratio, [1 / 30, 1 / 25], rtol=1e-12)
    np.testing.assert_allclose(res.demand_in_reach, [300, 500])
    # A_0 = 1/30; A_1 = 1/30 + 1/25 = 11/150; A_2 = 1/25
    np.testing.assert_allclose(res.ratio, [1 / 30, 11 / 150, 1 / 25], rtol=1e-12)
    np.testing.assert_allclose(res.supply_in_reach, [10, 30, 20])
    # 100/30 + 200*11/150 + 300/25 = 30 = all supply, over 600 residents
    assert res.served_supply == 30
    assert res.mean_ratio == pytest.approx(0.05, rel=1e-12)
    assert res.facilities_without_demand.size == 0


def test_hand_worked_e2sfca_steps() -> None:
    steps = [(300, 1.0), (700, 0.5), (1000, 0.1)]
    res = two_step_fca(_hand(), [10, 20], [100, 200, 300], radius_m=R, decay=steps)
    # weights: (0,0)=1, (0,1)=0.5, (1,1)=0.5, (1,2)=0.1
    # D_0 = 100 + 0.5*200 = 200 -> R_0 = 0.05;  D_1 = 0.5*200 + 0.1*300 = 130 -> R_1 = 2/13
    np.testing.assert_allclose(res.demand_in_reach, [200, 130])
    np.testing.assert_allclose(res.facility_ratio, [0.05, 2 / 13], rtol=1e-12)
    # A = [0.05, 0.5*0.05 + 0.5*2/13, 0.1*2/13]
    np.testing.assert_allclose(res.ratio, [0.05, 0.025 + 1 / 13, 1 / 65], rtol=1e-12)
    # 5 + 200*(0.025 + 1/13) + 300/65 = 5 + 5 + 20 = 30
    assert float(res.ratio @ np.array([100, 200, 300])) == pytest.approx(30, rel=1e-12)


def test_gaussian_weights_dai_2010() -> None:
    d = sparse.coo_array(([1e-12, R / 2, R], ([0, 1, 2], [0, 0, 0])), shape=(3, 1))
    res = two_step_fca(d, [1, 1, 1], [1], radius_m=R, decay="gaussian")
    floor = math.exp(-0.5)
    half = (math.exp(-0.125) - floor) / (1 - floor)
    np.testing.assert_allclose(res.demand_in_reach, [1, half, 0], atol=1e-12)
    # the facility exactly at the radius has weight 0: no demand in reach
    assert res.facilities_without_demand.tolist() == [2]


# ---------------------------------------------------------------- brute force (dense loops)


def _w_scalar(d: float, decay: object, r: float) -> float:
    if decay is None:
        return 1.0
    if decay == "gaussian":
        return (math.exp(-0.5 * (d / r) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5))
    if decay == "linear":
        return 1.0 - d / r
    for upper, weight in decay:  # type: ignore[attr-defined]
        if d <= upper:
            return weight
    return 0.0


def _brute(dense: np.ndarray, S: np.ndarray, P: np.ndarray, r: float, decay: object):
    k, m = dense.shape
    D = np.zeros(k)
    for j in range(k):
        for i in range(m):
            if dense[j, i] <= r:
                D[j] += _w_scalar(dense[j, i], decay, r) * P[i]
    Rj = np.array([S[j] / D[j] if D[j] > 0 else np.nan for j in range(k)])
    A = np.zeros(m)
    SR = np.zeros(m)
    for i in range(m):
        for j in range(k):
            if dense[j, i] <= r:
                w = _w_scalar(dense[j, i], decay, r)
                SR[i] += w * S[j]
                if D[j] > 0:
                    A[i] += w * Rj[j]
    return A, Rj, D, SR


@st.composite
def _instances(draw):
    k = draw(st.integers(0, 6))
    m = draw(st.integers(0, 8))
    r = draw(st.sampled_from([300.0, 500.0, 1000.0]))
    cell = st.one_of(
        st.none(),
        st.floats(0, 1.5 * r, allow_nan=False, allow_subnormal=False),
        st.sampled_from([0.0, r / 3, 2 * r / 3, r]),
    )
    dense = np.array([[draw(cell) for _ in range(m)] for _ in range(k)], dtype=float).reshape(k, m)
    dense[np.isnan(dense)] = np.inf  # None -> absent
    amount = st.one_of(st.just(0.0), st.floats(1e-6, 1000))
    S = np.array([draw(amount) for _ in range(k)], dtype=float)
    P = np.array([draw(amount) for _ in range(m)], dtype=float)
    return dense, S, P, r


def _to_sparse(dense: np.ndarray) -> sparse.coo_array:
    rows, cols = np.nonzero(np.isfinite(dense))
    return sparse.coo_array((dense[rows, cols], (rows, cols)), shape=dense.shape)


DECAYS = [None, "gaussian", "steps", "linear"]


def _decay_arg(name: object, r: float):
    if name == "steps":
        return [(r / 3, 1.0), (2 * r / 3, 0.68), (r, 0.22)]
    if name == "linear":
        return lambda d: 1.0 - d / r
    return name


@settings(max_examples=150, deadline=None)
@given(inst=_instances(), name=st.sampled_from(DECAYS))
def test_equals_dense_brute_force(inst, name) -> None:
    dense, S, P, r = inst
    decay = _decay_arg(name, r)
    res = two_step_fca(_to_sparse(dense), S, P, radius_m=r, decay=decay)
    ref_decay = _decay_arg(name, r) if name == "steps" else name
    A, Rj, D, SR = _brute(dense, S, P, r, ref_decay)
    kw = {"rtol": 1e-9, "atol": 1e-9}
    np.testing.assert_allclose(res.ratio, A, **kw)
    np.testing.assert_allclose(res.facility_ratio, Rj, equal_nan=True, **kw)
    np.testing.assert_allclose(res.demand_in_reach, D, **kw)
    np.testing.assert_allclose(res.supply_in_reach, SR, **kw)
    # supply conservation: sum_i A_i P_i == sum_j S_j over facilities with demand in reach
    assert float(res.ratio @ P) == pytest.approx(S[D > 0].sum(), rel=1e-9, abs=1e-9)
    assert res.served_supply == pytest.approx(S[D > 0].sum(), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(inst=_instances(), name=st.sampled_from(DECAYS))
def test_transpose_relation(inst, name) -> None:
    """One weight matrix serves both steps: swapping the roles of supply and demand on the
    transposed matrix swaps the catchment sums, and the sparse format does not matter."""
    dense, S, P, r = inst
    d = _to_sparse(dense)
    decay = _decay_arg(name, r)
    fwd = two_step_fca(d, S, P, radius_m=r, decay=decay)
    rev = two_step_fca(d.T, P, S, radius_m=r, decay=decay)
    np.testing.assert_allclose(rev.demand_in_reach, fwd.supply_in_reach, rtol=1e-12)
    np.testing.assert_allclose(rev.supply_in_reach, fwd.demand_in_reach, rtol=1e-12)
    for other in (d.tocsr(), d.tocsc(), sparse.coo_matrix(d)):
        again = two_step_fca(other, S, P, radius_m=r, decay=decay)
        np.testing.assert_array_equal(again.ratio, fwd.ratio)


# ---------------------------------------------------------------- edge cases


def test_facility_without_demand_is_nan_and_left_out() -> None:
    d = sparse.coo_array(([100.0, 100.0], ([0, 1], [0, 1])), shape=(2, 2))
    res = two_step_fca(d, [5, 7], [10, 0], radius_m=R)
    assert res.facility_ratio[0] == 0.5
    assert np.isnan(res.facility_ratio[1])
    assert res.facilities_without_demand.tolist() == [1]
    assert res.ratio.tolist() == [0.5, 0.0]
    assert res.served_supply == 5  # facility 1's 7 places serve nobody
    assert res.supply_in_reach.tolist() == [5.0, 7.0]


def test_demand_without_facility_in_reach_gets_zero() -> None:
    d = sparse.coo_array(([100.0, 1500.0], ([0, 0], [0, 1])), shape=(1, 3))
    res = two_step_fca(d, [4], [2, 3, 5], radius_m=R)
    assert res.ratio.tolist() == [2.0, 0.0, 0.0]
    assert res.supply_in_reach.tolist() == [4.0, 0.0, 0.0]
    assert res.mean_ratio == pytest.approx(4 / 10)


def test_pairs_beyond_radius_are_ignored() -> None:
    near = _hand()
    far = sparse.coo_array(
        (
            np.append(near.data, [1000.0001]),  # (1, 0) is already stored at 1200 m
            (np.append(near.row, [0]), np.append(near.col, [2])),
        ),
        shape=near.shape,
    )
    without = sparse.coo_array((near.data[:4], (near.row[:4], near.col[:4])), shape=near.shape)
    for decay in DECAYS:
        a = two_step_fca(far, [10, 20], [100, 200, 300], radius_m=R, decay=_decay_arg(decay, R))
        b = two_step_fca(without, [10, 20], [100, 200, 300], radius_m=R, decay=_decay_arg(decay, R))
        np.testing.assert_array_equal(a.ratio, b.ratio)
        np.testing.assert_array_equal(a.demand_in_reach, b.demand_in_reach)


def test_explicit_zero_distance_counts() -> None:
    d = sparse.coo_array(([0.0], ([0], [0])), shape=(1, 1))
    res = two_step_fca(d, [3], [6], radius_m=R, decay="gaussian")
    assert res.ratio.tolist() == [0.5]


def test_empty_and_result_is_read_only() -> None:
    res = two_step_fca(sparse.coo_array((0, 0)), [], [], radius_m=R)
    assert res.ratio.shape == (0,)
    assert np.isnan(res.mean_ratio)
    S = np.array([10.0, 20.0])
    res = two_step_fca(_hand(), S, [100, 200, 300], radius_m=R)
    assert isinstance(res, AccessResult)
    with pytest.raises(ValueError):
        res.ratio[0] = 1.0
    S[0] = 99  # the caller's array stays writeable and the result is not aliased to it
    assert res.supply[0] == 10


# ---------------------------------------------------------------- bad inputs


GOOD = {"supply": [10, 20], "demand": [100, 200, 300]}


@pytest.mark.parametrize(
    ("change", "error", "phrase"),
    [
        ({"distances": np.ones((2, 3))}, InputError, "scipy sparse"),
        ({"supply": [10]}, InputError, "supply has shape (1,), needs (2,)"),
        ({"supply": [10, -1]}, InputError, "finite and >= 0"),
        ({"supply": [10, np.nan]}, InputError, "[1]=nan"),
        ({"supply": ["a", "b"]}, InputError, "numeric"),
        ({"demand": [1, 2]}, PopulationError, "demand has shape (2,), needs (3,)"),
        ({"demand": [1, -2, 3]}, PopulationError, "[1]=-2.0"),
        ({"demand": [1, 2, np.inf]}, PopulationError, "finite and >= 0"),
        ({"demand": [1, 2, np.nan]}, PopulationError, "demand must be"),
        ({"radius_m": 0}, InputError, "radius_m must be"),
        ({"radius_m": -5.0}, InputError, "> 0"),
        ({"radius_m": np.nan}, InputError, "finite"),
        ({"radius_m": "far"}, InputError, "radius_m"),
        ({"radius_m": True}, InputError, "radius_m"),
        ({"decay": "exponential"}, InputError, "unknown decay"),
        ({"decay": [(500, 1.0), (300, 0.5)]}, InputError, "strictly increasing"),
        ({"decay": [(500, 1.0), (500, 0.5)]}, InputError, "strictly increasing"),
        ({"decay": [(0, 1.0)]}, InputError, "> 0"),
        ({"decay": [(300, 1.5), (1000, 0.5)]}, InputError, "[0, 1]"),
        ({"decay": [(300, -0.1)]}, InputError, "[0, 1]"),
        ({"decay": []}, InputError, "non-empty sequence"),
        ({"decay": [1, 2, 3]}, InputError, "(upper_distance, weight)"),
        ({"decay": lambda d: 2.0 - d / R}, InputError, "must lie in [0, 1]"),
        ({"decay": lambda d: np.full(d.shape, np.nan)}, InputError, "must lie in [0, 1]"),
        ({"decay": lambda d: np.ones(len(d) + 1)}, InputError, "one weight per distance"),
    ],
)
def test_bad_inputs(change, error, phrase) -> None:
    args = {"distances": _hand(), **GOOD, "radius_m": R, **change}
    with pytest.raises(error) as info:
        two_step_fca(
            args["distances"],
            args["supply"],
            args["demand"],
            radius_m=args["radius_m"],
            decay=args.get("decay"),
        )
    assert phrase in str(info.value)


@pytest.mark.parametrize(
    ("data", "phrase"),
    [([100.0, -1.0], "(0, 1)=-1.0"), ([100.0, np.nan], ">= 0 and not NaN")],
)
def test_bad_distances(data, phrase) -> None:
    d = sparse.coo_array((data, ([0, 0], [0, 1])), shape=(2, 3))
    with pytest.raises(InputError, match=None) as info:
        two_step_fca(d, **GOOD, radius_m=R)
    assert phrase in str(info.value)


def test_duplicate_pairs_rejected() -> None:
    d = sparse.coo_array(([100.0, 300.0], ([0, 0], [1, 1])), shape=(2, 3))
    with pytest.raises(InputError, match="duplicate"):
        two_step_fca(d, **GOOD, radius_m=R)


def test_overflowing_ratio_rejected() -> None:
    d = sparse.coo_array(([100.0], ([0], [0])), shape=(1, 1))
    with pytest.raises(PopulationError, match="overflows"):
        two_step_fca(d, [4.0], [1e-308], radius_m=R)


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="radius_m"):
        two_step_fca(_hand(), **GOOD, radius_m=-1)


def test_supply_conserved_at_scale() -> None:
    rng = np.random.default_rng(7)
    k, m, r = 300, 4000, 800.0
    d = sparse.random_array((k, m), density=0.02, rng=rng, format="coo")
    d = sparse.coo_array((d.data * 1.2 * r, (d.row, d.col)), shape=(k, m))
    S = rng.uniform(0, 500, k)
    P = rng.integers(0, 300, m).astype(float)
    for decay in DECAYS:
        res = two_step_fca(d, S, P, radius_m=r, decay=_decay_arg(decay, r))
        assert float(res.ratio @ P) == pytest.approx(res.served_supply, rel=1e-10)
        assert res.mean_ratio == pytest.approx(res.served_supply / P.sum(), rel=1e-10)


def test_asymmetric_steps_would_break_conservation() -> None:
    """Why one matrix serves both steps: step 2 on different distances (the PySAL access #18
    pitfall) no longer hands out exactly the supply; the result here does."""
    d = _hand()
    S, P = np.array([10.0, 20.0]), np.array([100.0, 200.0, 300.0])
    res = two_step_fca(d, S, P, radius_m=R)
    other = np.full(d.shape, np.inf)
    other[d.row, d.col] = d.data
    other[0, 2] = 900.0  # the way back from point 2 to facility 0 is "shorter"
    W2 = (other <= R).astype(float)  # step 2 read on the other direction
    wrong = W2.T @ np.nan_to_num(res.facility_ratio)
    assert float(wrong @ P) != pytest.approx(S.sum())
    assert float(res.ratio @ P) == pytest.approx(S.sum(), rel=1e-12)


def test_steps_as_numpy_array() -> None:
    steps = np.array([(300, 1.0), (700, 0.5), (1000, 0.1)])
    res = two_step_fca(_hand(), [10, 20], [100, 200, 300], radius_m=R, decay=steps)
    np.testing.assert_allclose(res.demand_in_reach, [200, 130])

"""LSCP: brute force on tiny instances, the infeasibility message, reductions, heuristic bound."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siting_helpers import as_sparse, brute_lscp, instances, nearest

from embedsite.errors import InfeasibleModelError, InputError
from embedsite.siting import LSCP

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(inst=instances(), radius=st.integers(100, 900), use_sparse=st.booleans(),
       unit=st.booleans())  # fmt: skip
def test_equals_brute_force(inst, radius, use_sparse, unit):
    cost, w, fixed, site_cost = inst
    site_cost = np.ones_like(site_cost) if unit else site_cost
    expected = brute_lscp(cost, w, fixed, site_cost, radius)
    model = LSCP.from_cost_matrix(
        as_sparse(cost) if use_sparse else cost, radius=radius, weights=w, fixed=fixed,
        site_cost=site_cost,
    )  # fmt: skip
    if expected is None:
        with pytest.raises(InfeasibleModelError, match="no candidate site within"):
            model.solve()
        with pytest.raises(InfeasibleModelError):
            model.solve("heuristic")
        return
    exact = model.solve()
    assert exact.status == "optimal"
    assert exact.objective == pytest.approx(expected)
    heur = model.solve("heuristic")
    assert heur.objective >= expected - 1e-9
    assert heur.bound <= expected + 1e-9  # the Lagrangian bound is valid
    for res in (exact, heur):
        assert ((nearest(cost, res.open_mask) <= radius) | (w <= 0)).all()


def test_infeasible_names_the_clients_and_their_nearest_site():
    cost = np.array([[100.0, 200.0], [900.0, 1200.0], [np.inf, np.inf]])
    model = LSCP.from_cost_matrix(cost, radius=500, client_labels=["home-a", "home-b", "home-c"])
    with pytest.raises(InfeasibleModelError) as err:
        model.solve()
    text = str(err.value)
    assert "'home-b' (nearest site 900 m)" in text
    assert "'home-c' (no site in reach)" in text
    assert "home-a" not in text
    # or skip the uncoverable ones and say which
    skip = LSCP.from_cost_matrix(cost, radius=500, uncoverable="skip",
                                 client_labels=["home-a", "home-b", "home-c"]).solve()  # fmt: skip
    assert skip.selected.tolist() == [0]
    assert skip.stats["uncoverable"] == ["home-b", "home-c"]
    assert skip.coverage_gain["covered_after"].iloc[0] == 1
    # weight 0 removes a client from the constraints
    ok = LSCP.from_cost_matrix(cost, radius=500, weights=[1, 0, 0]).solve()
    assert ok.selected.tolist() == [0]


def test_existing_sites_close_part_of_the_gap():
    # site 0 (existing) covers clients 0-1; the rest needs site 2 only
    cost = np.array([[50, 900, 900], [60, 100, 900], [900, 100, 90], [900, 900, 80.0]])
    free = LSCP.from_cost_matrix(cost, radius=200).solve()
    assert free.objective == 2
    kept = LSCP.from_cost_matrix(cost, radius=200, fixed=[0]).solve()
    assert kept.selected.tolist() == [2] and kept.fixed.tolist() == [0]
    assert kept.coverage_gain["covered_before"].iloc[0] == 2
    assert kept.coverage_gain["covered_after"].iloc[0] == 4


def test_cheapest_not_fewest_with_site_costs():
    # one site (cost 10) covers both, two sites cost 3 + 3
    cost = np.array([[100, 100, 900], [100, 900, 100.0]])
    res = LSCP.from_cost_matrix(cost, radius=150, site_cost=[10, 3, 3]).solve()
    assert res.selected.tolist() == [1, 2] and res.objective == 6
    # unknown cost (NaN) counts as one unit
    res = LSCP.from_cost_matrix(cost, radius=150, site_cost=[np.nan, 3, 3]).solve()
    assert res.selected.tolist() == [0] and res.objective == 1


def test_larger_instance_equals_scipy_milp_without_reductions():
    from scipy.optimize import LinearConstraint, milp

    rng = np.random.default_rng(3)
    clients, sites = rng.uniform(0, 3000, (300, 2)), rng.uniform(0, 3000, (60, 2))
    cost = np.hypot(*(clients[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    radius = 700
    ours = LSCP.from_cost_matrix(cost, radius=radius).solve()
    heur = LSCP.from_cost_matrix(cost, radius=radius).solve("heuristic")
    A = (cost <= radius).astype(float)
    ref = milp(np.ones(60), constraints=LinearConstraint(A, lb=1), integrality=np.ones(60),
               bounds=(0, 1))  # fmt: skip
    assert ours.objective == pytest.approx(ref.fun)
    assert ours.objective <= heur.objective
    assert heur.bound <= ours.objective
    assert ours.stats["groups"] < 300  # identical coverage sets were merged


def test_bad_parameters():
    with pytest.raises(InputError, match="radius"):
        LSCP.from_cost_matrix(np.ones((2, 2)))
    with pytest.raises(InputError, match="radius"):
        LSCP.from_cost_matrix(np.ones((2, 2)), radius=-5)


def test_time_limit_keeps_the_greedy_plan_and_a_lagrangian_bound():
    from embedsite.errors import SolverTimeLimitWarning

    rng = np.random.default_rng(0)
    clients, sites = rng.uniform(0, 5000, (1500, 2)), rng.uniform(0, 5000, (200, 2))
    cost = np.hypot(*(clients[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    model = LSCP.from_cost_matrix(cost, radius=600)
    with pytest.warns(SolverTimeLimitWarning, match="time limit"):
        res = model.solve(time_limit=0.0)
    heur = model.solve("heuristic")
    assert res.status == "time_limit"
    assert res.objective <= heur.objective
    assert 0 < res.bound <= res.objective and res.gap > 0
    assert res.bound >= heur.bound  # at least the Lagrangian bound


@st.composite
def cover_matrices(draw):
    n = draw(st.integers(1, 25))
    m = draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    A = (rng.random((n, m)) < draw(st.floats(0.05, 0.7))).astype(np.int8)
    A[np.arange(n), rng.integers(0, m, n)] = 1  # every row coverable
    if draw(st.booleans()):  # repeated rows and columns: ties in the dominance rules
        A = np.vstack([A, A[: n // 2]])
        A = np.hstack([A, A[:, : m // 2]])
    cost = rng.integers(1, 4, A.shape[1]).astype(float) if draw(st.booleans()) else None
    return A, np.ones(A.shape[1]) if cost is None else cost


def _milp_cover(A, cost):
    from scipy.optimize import LinearConstraint, milp

    res = milp(cost, constraints=LinearConstraint(A, lb=1), integrality=np.ones(len(cost)),
               bounds=(0, 1))  # fmt: skip
    return res.fun, res.x


@FAST
@given(inst=cover_matrices())
def test_set_cover_reductions_never_change_the_optimum(inst):
    from scipy import sparse

    from embedsite.siting._cover import reduce_set_cover

    A, cost = inst
    full, _ = _milp_cover(A.astype(float), cost)
    red = reduce_set_cover(sparse.csr_array(A), cost)
    assert len(np.intersect1d(red.forced, red.sites)) == 0
    y = np.zeros(A.shape[1])
    y[red.forced] = 1
    value = float(cost[red.forced].sum())
    if red.A.shape[0]:
        sub, x = _milp_cover(red.A.toarray().astype(float), cost[red.sites])
        value += sub
        y[red.sites[x > 0.5]] = 1
    assert value == pytest.approx(full)
    assert (A @ y >= 1).all()  # the reduced plan covers every original row
    assert red.stats["rows_left"] <= A.shape[0] and red.stats["columns_left"] <= A.shape[1]


@FAST
@given(inst=cover_matrices(), superset=st.booleans(), chunk=st.integers(1, 40))
def test_dense_and_blocked_sparse_dominance_agree(inst, superset, chunk):
    """Small instances take the dense overlap product, large ones the sparse blocks: the
    same rows are dominated either way, those of a brute-force containment test (rows
    without entries take no part: the callers drop them)."""
    from scipy import sparse

    import embedsite.siting._cover as cover

    A, _ = inst
    rng = np.random.default_rng(A.shape[0] * 31 + A.shape[1])
    K = sparse.csr_array(A if superset else A.T)
    rank = rng.permutation(K.shape[0])
    dense = cover._dominated(K, rank, superset=superset)
    saved = cover._DENSE_MAX
    try:
        cover._DENSE_MAX = 0  # force the blocked sparse products
        blocked = cover._dominated(K, rank, superset=superset, chunk_nnz=chunk)
    finally:
        cover._DENSE_MAX = saved
    Kd = K.toarray().astype(bool)
    size = Kd.sum(axis=1)
    inter = Kd.astype(int) @ Kd.T.astype(int)
    contained = (inter == (size[None, :] if superset else size[:, None])) & (inter > 0)
    expect = (contained & (rank[None, :] < rank[:, None])).any(axis=1)
    assert np.array_equal(dense, expect) and np.array_equal(blocked, expect)


@FAST
@given(seed=st.integers(0, 2**32 - 1), radius=st.integers(300, 900), unit=st.booleans())
def test_reduced_lscp_equals_the_unreduced_milp(seed, radius, unit):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(5, 60)), int(rng.integers(3, 20))
    clients, sites = rng.uniform(0, 2000, (n, 2)), rng.uniform(0, 2000, (m, 2))
    cost = np.hypot(*(clients[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    keep = (cost <= radius).any(axis=1)
    if not keep.any():
        return
    cost = cost[keep]
    site_cost = np.ones(m) if unit else rng.integers(1, 5, m).astype(float)
    res = LSCP.from_cost_matrix(cost, radius=radius, site_cost=site_cost).solve()
    heur = LSCP.from_cost_matrix(cost, radius=radius, site_cost=site_cost).solve("heuristic")
    full, _ = _milp_cover((cost <= radius).astype(float), site_cost)
    assert res.status == "optimal" and res.objective == pytest.approx(full)
    res.verify()  # constraints re-checked on the original problem
    assert (nearest(cost, res.open_mask) <= radius).all()
    assert heur.bound <= full + 1e-9 <= heur.objective + 2e-9
    assert (nearest(cost, heur.open_mask) <= radius).all()


@FAST
@given(inst=cover_matrices(), chunk=st.integers(1, 60))
def test_dominance_in_blocks_equals_one_block_and_a_direct_check(inst, chunk):
    from scipy import sparse

    from embedsite.siting._cover import _dominated

    A, _ = inst
    K = sparse.csr_array(A)
    rank = np.lexsort((np.arange(A.shape[0]), A.sum(axis=1))).argsort()
    got = _dominated(K, rank, superset=True, chunk_nnz=chunk)
    assert np.array_equal(got, _dominated(K, rank, superset=True))
    sub = (A[:, None, :] <= A[None, :, :]).all(axis=2)  # sub[k, i]: N_k within N_i
    direct = ((sub.T & (rank[None, :] < rank[:, None])) & ~np.eye(len(A), dtype=bool)).any(1)
    assert np.array_equal(got, direct)


def test_highs_start_handed_back_is_not_taken_for_the_optimum():
    """HiGHS 1.16 reported objective 19 on this instance's reduced core but returned the
    greedy start (cost 20) as its solution; solve_mip must return an x of its objective."""
    rng = np.random.default_rng(165808)
    n, m = int(rng.integers(5, 60)), int(rng.integers(3, 20))
    clients, sites = rng.uniform(0, 2000, (n, 2)), rng.uniform(0, 2000, (m, 2))
    cost = np.hypot(*(clients[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    cost = cost[(cost <= 481).any(axis=1)]
    site_cost = rng.integers(1, 5, m).astype(float)
    full, _ = _milp_cover((cost <= 481).astype(float), site_cost)
    res = LSCP.from_cost_matrix(cost, radius=481, site_cost=site_cost).solve()
    assert full == 19.0
    assert res.status == "optimal" and res.objective == pytest.approx(full)
    assert float(site_cost[np.asarray(res.selected, dtype=int)].sum()) == pytest.approx(full)

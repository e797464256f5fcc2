"""PCenter: brute force, the heuristic's lower bound, infeasibility, existing sites."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siting_helpers import as_sparse, brute_pcenter, instances, nearest

from embedsite.errors import InfeasibleModelError, InputError
from embedsite.siting import PCenter

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(inst=instances(), p=st.integers(0, 3), use_sparse=st.booleans())
def test_equals_brute_force(inst, p, use_sparse):
    cost, w, fixed, _ = inst
    expected = brute_pcenter(cost, w, fixed, p)
    model = PCenter.from_cost_matrix(as_sparse(cost) if use_sparse else cost, p=p, weights=w,
                                     fixed=fixed)  # fmt: skip
    if not np.isfinite(expected):
        with pytest.raises(InfeasibleModelError):
            model.solve()
        return
    exact = model.solve()
    assert exact.status == "optimal"
    assert exact.objective == pytest.approx(expected)
    heur = model.solve("heuristic")
    assert heur.objective >= expected - 1e-9
    assert heur.bound <= expected + 1e-9


def test_existing_sites_count():
    cost = np.array([[10, 500, 900], [20, 400, 100], [900, 50, 800.0]])
    assert PCenter.from_cost_matrix(cost, p=1).solve().objective == 500
    kept = PCenter.from_cost_matrix(cost, p=1, fixed=[0]).solve()
    assert kept.selected.tolist() == [1] and kept.objective == 50
    assert PCenter.from_cost_matrix(cost, p=0, fixed=[0]).solve().objective == 900


def test_unreachable_client_is_named():
    cost = np.array([[10, 500], [np.inf, np.inf]])
    with pytest.raises(InfeasibleModelError, match="'far'"):
        PCenter.from_cost_matrix(cost, p=1, client_labels=["near", "far"]).solve()


def test_too_few_sites_for_the_known_distances():
    # sparse: each client reaches only its own site; one site cannot serve both
    cost = as_sparse(np.array([[10.0, np.inf], [np.inf, 20.0]]))
    with pytest.raises(InfeasibleModelError, match="raise p"):
        PCenter.from_cost_matrix(cost, p=1).solve()
    assert PCenter.from_cost_matrix(cost, p=2).solve().objective == 20


def test_larger_instance_equals_assignment_milp():
    from scipy.optimize import LinearConstraint, milp
    from scipy.sparse import csr_array, eye, hstack, kron

    rng = np.random.default_rng(5)
    n, m, p = 40, 15, 3
    cost = rng.integers(0, 2000, (n, m)).astype(float)
    ours = PCenter.from_cost_matrix(cost, p=p).solve()
    # classic formulation: min D, sum_j x_ij = 1, x_ij <= y_j, sum y = p, sum_j d_ij x_ij <= D
    nx = n * m
    rows_assign = hstack([csr_array((n, m)), kron(eye(n), np.ones((1, m))), csr_array((n, 1))])
    link = hstack([-kron(np.ones((n, 1)), eye(m)), eye(nx), csr_array((nx, 1))])
    count = hstack([csr_array(np.ones((1, m))), csr_array((1, nx + 1))])
    dist = hstack([csr_array((n, m)), kron(eye(n), np.ones((1, m))).multiply(cost.ravel()),
                   csr_array(-np.ones((n, 1)))])  # fmt: skip
    c = np.zeros(m + nx + 1)
    c[-1] = 1
    cons = [LinearConstraint(rows_assign, 1, 1), LinearConstraint(link, -np.inf, 0),
            LinearConstraint(count, p, p), LinearConstraint(dist, -np.inf, 0)]  # fmt: skip
    integ = np.concatenate([np.ones(m), np.zeros(nx + 1)])
    bounds = (np.zeros(m + nx + 1), np.concatenate([np.ones(m + nx), [np.inf]]))
    ref = milp(c, constraints=cons, integrality=integ, bounds=bounds)
    assert ours.objective == pytest.approx(ref.fun)


def test_bad_parameters():
    with pytest.raises(InputError, match="PCenter needs p"):
        PCenter.from_cost_matrix(np.ones((2, 2)))


@st.composite
def tied_instances(draw):
    """Few distinct distances (many ties), some existing sites, sometimes beyond reach."""
    n = draw(st.integers(1, 9))
    m = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    cost = rng.integers(0, 5, size=(n, m)).astype(float) * 100.0
    if draw(st.booleans()):
        cost[rng.random((n, m)) < 0.2] = np.inf
    w = rng.integers(0, 3, size=n).astype(float)
    fixed = np.zeros(m, dtype=bool)
    fixed[rng.choice(m, size=draw(st.integers(0, max(0, m - 1))), replace=False)] = True
    return cost, w, fixed


@FAST
@given(inst=tied_instances(), p=st.integers(0, 3), use_sparse=st.booleans())
def test_relaxation_equals_brute_force_with_ties_and_fixed_sites(inst, p, use_sparse):
    cost, w, fixed = inst
    expected = brute_pcenter(cost, w, fixed, p)
    model = PCenter.from_cost_matrix(as_sparse(cost) if use_sparse else cost, p=p, weights=w,
                                     fixed=fixed)  # fmt: skip
    if not np.isfinite(expected):
        with pytest.raises(InfeasibleModelError):
            model.solve()
        return
    res = model.solve()
    assert res.status == "optimal" and res.bound == res.objective
    assert res.objective == pytest.approx(expected)
    assert len(res.selected) <= p
    res.verify()
    if (w > 0).any():  # the plan's own worst walk, recomputed here
        assert nearest(cost, res.open_mask)[w > 0].max() == pytest.approx(expected)


def _points(n, m, seed):
    rng = np.random.default_rng(seed)
    c, s = rng.uniform(0, 3000, (n, 2)), rng.uniform(0, 3000, (m, 2))
    return np.hypot(*(c[:, None, :] - s[None, :, :]).transpose(2, 0, 1))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relaxation_uses_few_clients_and_matches_the_full_binary_search(seed):
    # the reference: a binary search over every distance, each probe an exact set cover
    # over all clients (scipy's milp), independent of the relaxation's subsets
    from scipy.optimize import LinearConstraint, milp

    cost = _points(150, 25, seed)
    p = 4
    res = PCenter.from_cost_matrix(cost, p=p).solve()
    values = np.unique(cost)
    values = values[values >= cost.min(axis=1).max()]

    def needs(r):
        A = (cost <= r).astype(float)
        return milp(np.ones(25), constraints=LinearConstraint(A, lb=1), integrality=np.ones(25),
                    bounds=(0, 1)).fun  # fmt: skip

    lo, hi = 0, len(values) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if needs(values[mid]) <= p + 1e-9:
            hi = mid
        else:
            lo = mid + 1
    assert res.status == "optimal"
    assert res.objective == pytest.approx(values[lo])
    assert res.stats["rounds"] >= 1
    assert res.stats["clients_used"] < 150  # a relaxation: not every client was needed


def test_time_limit_returns_the_best_plan_with_a_valid_bound():
    from embedsite.errors import SolverTimeLimitWarning

    cost = _points(400, 60, 7)
    model = PCenter.from_cost_matrix(cost, p=8)
    exact = model.solve()
    with pytest.warns(SolverTimeLimitWarning):
        cut = model.solve(time_limit=0.0)
    assert cut.status == "time_limit"
    assert cost.min(axis=1).max() <= cut.bound <= exact.objective <= cut.objective
    cut.verify()
    assert nearest(cost, cut.open_mask).max() == pytest.approx(cut.objective)


@FAST
@given(inst=instances(max_clients=12, max_sites=8), p=st.integers(1, 3))
def test_swaps_never_lengthen_the_radius_nor_exceed_p(inst, p):
    from embedsite.siting._problem import make_problem
    from embedsite.siting.pcenter import _swapper

    cost, _, fixed, _ = inst
    prob = make_problem(cost, fixed=fixed)
    active = np.arange(cost.shape[0])
    cand = np.flatnonzero(~fixed)
    start = cand[:p]

    def radius(plan):
        mask = fixed.copy()
        mask[plan] = True
        return nearest(cost, mask).max()

    out = _swapper(prob, active, cand, p)(start)
    assert len(out) <= p and set(out.tolist()) <= set(cand.tolist())
    assert radius(out) <= radius(start)

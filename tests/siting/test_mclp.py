"""MCLP: brute force (p and budget), monotone in p, capacitated against enumeration + LP,
the heuristic's submodular bound, and the time limit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siting_helpers import allocation_lp, as_sparse, brute_mclp, instances, nearest, subsets

from embedsite.errors import InputError, SolverTimeLimitWarning
from embedsite.siting import MCLP

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(inst=instances(), radius=st.integers(100, 900), p=st.integers(0, 3),
       use_sparse=st.booleans())  # fmt: skip
def test_equals_brute_force_with_p(inst, radius, p, use_sparse):
    cost, w, fixed, _ = inst
    expected = brute_mclp(cost, w, fixed, radius, p)
    model = MCLP.from_cost_matrix(as_sparse(cost) if use_sparse else cost, radius=radius, p=p,
                                  weights=w, fixed=fixed)  # fmt: skip
    exact = model.solve()
    assert exact.status == "optimal"
    assert exact.objective == pytest.approx(expected)
    assert len(exact.selected) <= p
    heur = model.solve("heuristic")
    assert heur.objective <= expected + 1e-9
    assert heur.bound >= expected - 1e-9  # submodular bound is valid
    gain = exact.coverage_gain.iloc[0]
    assert gain["newly_covered"] == pytest.approx(exact.objective)


@FAST
@given(inst=instances(), radius=st.integers(100, 900), budget=st.integers(0, 8))
def test_equals_brute_force_with_budget(inst, radius, budget):
    cost, w, fixed, site_cost = inst
    expected = brute_mclp(cost, w, fixed, radius, None, site_cost, budget)
    model = MCLP.from_cost_matrix(cost, radius=radius, budget=budget, weights=w, fixed=fixed,
                                  site_cost=site_cost)  # fmt: skip
    exact = model.solve()
    assert exact.objective == pytest.approx(expected)
    assert site_cost[exact.selected.to_numpy()].sum() <= budget
    heur = model.solve("heuristic")
    assert heur.objective <= expected + 1e-9 <= heur.bound + 2e-9


@settings(max_examples=25, deadline=None)
@given(inst=instances(max_clients=12, max_sites=8), radius=st.integers(200, 700))
def test_objective_non_decreasing_in_p(inst, radius):
    cost, w, fixed, _ = inst
    values = [MCLP.from_cost_matrix(cost, radius=radius, p=p, weights=w, fixed=fixed)
              .solve().objective for p in range(4)]  # fmt: skip
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(values))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(max_clients=6, max_sites=5), radius=st.integers(200, 900),
       p=st.integers(0, 2), caps=st.lists(st.integers(0, 12), min_size=5, max_size=5))  # fmt: skip
def test_capacitated_equals_enumeration_with_lp_allocation(inst, radius, p, caps):
    cost, w, fixed, _ = inst
    m = cost.shape[1]
    cap = np.asarray(caps[:m], dtype=float)
    q = w  # demand = the weight (residents) by default
    before = allocation_lp(cost, w, q, cap, fixed, limit=radius, kind="mclp")
    best = -np.inf
    for S in subsets(np.flatnonzero(~fixed), range(min(p, int((~fixed).sum())) + 1)):
        mask = fixed.copy()
        mask[list(S)] = True
        best = max(best, allocation_lp(cost, w, q, cap, mask, limit=radius, kind="mclp"))
    model = MCLP.from_cost_matrix(cost, radius=radius, p=p, weights=w, fixed=fixed, capacity=cap)
    res = model.solve()
    assert res.objective == pytest.approx(best - before, abs=1e-6)
    load = res.allocation.groupby("site")["amount"].sum()
    assert (load.to_numpy() <= cap[load.index.to_numpy(dtype=int)] + 1e-6).all()
    heur = model.solve("heuristic")
    assert heur.objective <= res.objective + 1e-6


def test_capacity_changes_the_plan():
    # site 0 reaches everybody but holds 5 residents; sites 1 and 2 split them
    cost = np.array([[100, 100, 900], [100, 100, 900], [100, 900, 100], [100, 900, 100.0]])
    w = np.array([5, 5, 5, 5.0])
    free = MCLP.from_cost_matrix(cost, radius=200, p=1, weights=w).solve()
    assert free.selected.tolist() == [0] and free.objective == 20
    capped = MCLP.from_cost_matrix(cost, radius=200, p=1, weights=w, capacity=[5, 10, 10]).solve()
    assert capped.selected.tolist() in ([1], [2]) and capped.objective == pytest.approx(10)
    two = MCLP.from_cost_matrix(cost, radius=200, p=2, weights=w, capacity=[5, 10, 10]).solve()
    assert sorted(two.selected.tolist()) == [1, 2] and two.objective == pytest.approx(20)
    # demand in another unit: each resident needs 0.5 place, so site 0 takes 10 residents
    half = MCLP.from_cost_matrix(cost, radius=200, p=1, weights=w, capacity=[5, 10, 10],
                                 demand=w * 0.5).solve()  # fmt: skip
    assert half.objective == pytest.approx(10)
    shares = two.allocation.groupby("client")["share"].sum()
    assert np.allclose(shares.to_numpy(), 1.0)


def test_time_limit_returns_best_plan_with_gap_and_warning():
    rng = np.random.default_rng(11)
    clients, sites = rng.uniform(0, 5000, (3000, 2)), rng.uniform(0, 5000, (400, 2))
    cost = np.hypot(*(clients[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 50, 3000).astype(float)
    model = MCLP.from_cost_matrix(cost, radius=450, p=25, weights=w)
    with pytest.warns(SolverTimeLimitWarning, match="gap"):
        res = model.solve(time_limit=0.0)
    assert res.status == "time_limit"
    assert res.bound >= res.objective and res.gap >= 0
    heur = model.solve("heuristic")
    assert res.objective >= heur.objective - 1e-6  # never worse than the warm start
    covered = w[nearest(cost, res.open_mask) <= 450].sum()
    assert res.objective == pytest.approx(covered)


def test_bad_parameters():
    cost = np.ones((2, 2))
    with pytest.raises(InputError, match=r"p= .* or budget="):
        MCLP.from_cost_matrix(cost, radius=100)
    with pytest.raises(InputError, match="whole number"):
        MCLP.from_cost_matrix(cost, radius=100, p=1.5)
    with pytest.raises(InputError, match="budget"):
        MCLP.from_cost_matrix(cost, radius=100, budget=-1)

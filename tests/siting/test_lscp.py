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

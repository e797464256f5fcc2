"""PMedian: brute force, OR-Library pmed1's published optimum, unreached clients, capacities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siting_helpers import ORLIB, allocation_lp, as_sparse, brute_pmedian, instances, read_orlib

from embedsite.errors import InfeasibleModelError, InputError
from embedsite.siting import PMedian

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(inst=instances(), p=st.integers(0, 3), use_sparse=st.booleans(),
       unreached=st.sampled_from([None, 1500.0]))  # fmt: skip
def test_equals_brute_force(inst, p, use_sparse, unreached):
    cost, w, fixed, _ = inst
    n_new = int((~fixed).sum())
    if p > n_new:
        with pytest.raises(InputError, match="candidates"):
            PMedian.from_cost_matrix(cost, p=p, fixed=fixed)
        return
    expected = brute_pmedian(cost, w, fixed, p, unreached)
    model = PMedian.from_cost_matrix(as_sparse(cost) if use_sparse else cost, p=p, weights=w,
                                     fixed=fixed, unreached_cost=unreached)  # fmt: skip
    if not np.isfinite(expected):
        with pytest.raises(InfeasibleModelError):
            model.solve()
        return
    exact = model.solve()
    assert exact.status == "optimal"
    assert exact.objective == pytest.approx(expected)
    assert len(exact.selected) == p
    try:
        heur = model.solve("heuristic")
    except InfeasibleModelError:  # a heuristic may miss the only plan that reaches everybody
        return
    assert heur.objective >= expected - 1e-9


def test_orlib_pmed1_published_optimum():
    if not (ORLIB / "pmed1.txt").exists():
        pytest.skip("../shared/orlib is not present")
    cost = read_orlib("pmed1")
    res = PMedian.from_cost_matrix(cost, p=5).solve()
    assert res.status == "optimal" and res.objective == 5819
    heur = PMedian.from_cost_matrix(cost, p=5).solve("heuristic")
    assert heur.objective >= 5819


def test_unreached_clients_named_or_charged():
    cost = np.array([[100.0, np.inf], [np.inf, np.inf], [np.inf, 50.0]])
    with pytest.raises(InfeasibleModelError, match="'lost'"):
        PMedian.from_cost_matrix(cost, p=1, client_labels=["a", "lost", "b"]).solve()
    res = PMedian.from_cost_matrix(cost, p=1, unreached_cost=1000, weights=[1, 1, 3]).solve()
    # open site 1: a unreached (1000) + lost (1000) + 3 * 50
    assert res.selected.tolist() == [1] and res.objective == 2150
    assert res.assignment.tolist() == [None, None, 1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(max_clients=6, max_sites=5, allow_inf=False), p=st.integers(1, 2),
       caps=st.lists(st.integers(1, 25), min_size=5, max_size=5))  # fmt: skip
def test_capacitated_equals_enumeration_with_lp_allocation(inst, p, caps):
    import itertools

    cost, w, fixed, _ = inst
    m = cost.shape[1]
    cap = np.asarray(caps[:m], dtype=float)
    new = np.flatnonzero(~fixed)
    if p > len(new):
        return
    best = np.inf
    for S in itertools.combinations(new.tolist(), p):
        mask = fixed.copy()
        mask[list(S)] = True
        best = min(best, allocation_lp(cost, w, w, cap, mask, limit=np.inf, kind="pmedian"))
    model = PMedian.from_cost_matrix(cost, p=p, weights=w, fixed=fixed, capacity=cap)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleModelError, match="capacity"):
            model.solve()
        return
    res = model.solve()
    assert res.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    load = res.allocation.groupby("site")["amount"].sum()
    assert (load.to_numpy() <= cap[load.index.to_numpy(dtype=int)] + 1e-6).all()


def test_capacity_moves_residents_to_a_farther_site():
    cost = np.array([[100, 300], [100, 300.0]])
    w = np.array([10, 10.0])
    res = PMedian.from_cost_matrix(cost, p=0, fixed=[0, 1], weights=w, capacity=[12, 50]).solve()
    # 12 residents at 100 m, 8 at 300 m
    assert res.objective == pytest.approx(12 * 100 + 8 * 300)
    assert res.allocation["amount"].sum() == pytest.approx(20)

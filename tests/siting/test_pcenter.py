"""PCenter: brute force, the heuristic's lower bound, infeasibility, existing sites."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siting_helpers import as_sparse, brute_pcenter, instances

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

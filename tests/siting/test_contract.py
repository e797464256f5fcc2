"""One contract every siting model keeps (the scikit-learn estimator_checks idea).

Parametrised over every model, variant and solver: solve never mutates the model, results
are frozen and verified (a tampered result is refused), existing sites are kept, results
speak in labels, dense and sparse inputs agree, and bad input raises a clear error.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest
from siting_helpers import as_sparse

from embedsite.errors import EmptyInputError, InputError, SolverError
from embedsite.siting import LSCP, MCLP, PCenter, PMedian, SitingResult

RNG = np.random.default_rng(2024)
_C, _S = RNG.uniform(0, 2000, (25, 2)), RNG.uniform(0, 2000, (10, 2))
COST = np.round(np.hypot(*(_C[:, None, :] - _S[None, :, :]).transpose(2, 0, 1)))
CLIENTS = [f"home-{i}" for i in range(25)]
SITES = [f"site-{j}" for j in range(10)]
WEIGHTS = RNG.integers(1, 40, 25).astype(float)
FIXED = ["site-0", "site-3"]
RADIUS = float(np.ceil(COST.min(axis=1).max()))  # every client reachable: LSCP feasible

CASES = {
    "LSCP": (LSCP, {"radius": RADIUS}, {}),
    "LSCP-cost": (LSCP, {"radius": RADIUS}, {"site_cost": np.arange(1, 11.0)}),
    "MCLP": (MCLP, {"radius": 500.0, "p": 2}, {}),
    "MCLP-budget": (MCLP, {"radius": 500.0, "budget": 5.0}, {"site_cost": np.arange(1, 11.0)}),
    "MCLP-capacity": (MCLP, {"radius": 500.0, "p": 2}, {"capacity": np.full(10, 60.0)}),
    "PMedian": (PMedian, {"p": 2}, {}),
    "PMedian-capacity": (PMedian, {"p": 3}, {"capacity": np.full(10, 150.0)}),
    "PCenter": (PCenter, {"p": 2}, {}),
}
PARAMS = [pytest.param(name, solver, id=f"{name}-{solver}")
          for name in CASES for solver in ("highs", "heuristic")]  # fmt: skip


def build(name, cost=None, **over):
    cls, params, data = CASES[name]
    frame = pd.DataFrame(COST if cost is None else cost, index=CLIENTS, columns=SITES)
    kwargs = {"weights": WEIGHTS, "fixed": FIXED, **data, **params, **over}
    return cls.from_cost_matrix(frame, **kwargs)


@pytest.fixture(scope="module")
def solved():
    cache = {}

    def get(name, solver):
        if (name, solver) not in cache:
            cache[name, solver] = build(name).solve(solver)
        return cache[name, solver]

    return get


@pytest.mark.parametrize(("name", "solver"), PARAMS)
def test_solve_does_not_mutate_the_model(name, solver):
    model = build(name)
    params, text = copy.deepcopy(model.get_params()), repr(model)
    prob = model.problem
    arrays = {f.name: copy.deepcopy(getattr(prob, f.name)) for f in dataclasses.fields(prob)}
    res = model.solve(solver)
    again = model.solve(solver)
    assert model.get_params() == params and repr(model) == text
    assert model.problem is prob
    for key, before in arrays.items():
        after = getattr(prob, key)
        if isinstance(before, np.ndarray):
            np.testing.assert_array_equal(after, before)
    assert res is not again and res.selected.equals(again.selected)  # deterministic
    assert res.objective == again.objective


@pytest.mark.parametrize(("name", "solver"), PARAMS)
def test_result_is_frozen_and_problem_read_only(name, solver, solved):
    res = solved(name, solver)
    assert isinstance(res, SitingResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.objective = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.problem.weights[0] = 99.0
    with pytest.raises(TypeError):
        res.params["p"] = 99  # type: ignore[index]


@pytest.mark.parametrize(("name", "solver"), PARAMS)
def test_verify_passes_and_a_tampered_result_is_refused(name, solver, solved):
    res = solved(name, solver)
    res.verify()
    with pytest.raises(SolverError, match="objective"):
        dataclasses.replace(res, objective=res.objective + 7.0)
    with pytest.raises(SolverError, match="fixed"):
        dataclasses.replace(res, selected=res.selected.append(pd.Index(["site-0"])))
    with pytest.raises(SolverError, match="not sites"):
        dataclasses.replace(res, selected=res.selected.append(pd.Index(["nowhere"])))
    with pytest.raises(SolverError, match="not open"):
        closed = next(s for s in SITES if s not in set(res.selected) | set(FIXED))
        dataclasses.replace(res, assignment=res.assignment.where(res.assignment.isna(), closed))


@pytest.mark.parametrize(("name", "solver"), PARAMS)
def test_fixed_sites_are_kept_and_labels_are_used(name, solver, solved):
    res = solved(name, solver)
    assert res.fixed.tolist() == FIXED
    assert not set(res.selected) & set(FIXED)
    assert set(res.selected) <= set(SITES)
    assert res.assignment.index.tolist() == CLIENTS
    open_labels = set(res.selected) | set(FIXED)
    assert set(res.assignment.dropna()) <= open_labels
    gdf = res.to_geodataframe()
    assert set(gdf.index) == open_labels
    assert gdf.loc[FIXED, "new"].eq(False).all()
    assert gdf["clients"].sum() == res.assignment.notna().sum()
    gain = res.coverage_gain.iloc[0]
    assert gain["served"] == pytest.approx(WEIGHTS.sum())
    assert gain["covered_after"] >= gain["covered_before"] - 1e-9
    assert res.status in ("optimal", "time_limit", "feasible", "heuristic")
    if solver == "highs":
        assert res.status == "optimal" and res.gap == 0
    summary = res.summary()
    assert summary["new_sites"] == len(res.selected)


@pytest.mark.parametrize("name", list(CASES))
def test_dense_sparse_and_permuted_sites_agree(name, solved):
    # exact solves only: heuristics may break ties differently
    solver = "highs"
    res = solved(name, solver)
    cls, params, data = CASES[name]
    sparse_res = cls.from_cost_matrix(as_sparse(COST), weights=WEIGHTS, fixed=[0, 3],
                                      **data, **params).solve(solver)  # fmt: skip
    assert sparse_res.objective == pytest.approx(res.objective)
    order = np.arange(10)[::-1]
    perm = pd.DataFrame(COST[:, order], index=CLIENTS, columns=np.asarray(SITES)[order])
    kwargs = {k: (v[order] if isinstance(v, np.ndarray) else v) for k, v in data.items()}
    permuted = cls.from_cost_matrix(perm, weights=WEIGHTS, fixed=FIXED, **kwargs, **params)
    assert permuted.solve(solver).objective == pytest.approx(res.objective)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_raises_clear_errors(name):
    bad = COST.copy()
    bad[1, 2] = np.nan
    with pytest.raises(InputError, match="NaN or negative"):
        build(name, cost=bad)
    with pytest.raises(InputError, match="weights"):
        build(name, weights=-WEIGHTS)
    with pytest.raises(InputError, match="weights has 3 values"):
        build(name, weights=[1, 2, 3])
    with pytest.raises(InputError, match="not site labels"):
        build(name, fixed=["site-99"])
    with pytest.raises(EmptyInputError):
        CASES[name][0].from_cost_matrix(np.zeros((0, 3)), **CASES[name][1])
    model = build(name)
    with pytest.raises(InputError, match="solver"):
        model.solve("cplex")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="time_limit"):
        model.solve(time_limit=-1)
    with pytest.raises(InputError, match="not bound"):
        CASES[name][0](**CASES[name][1]).solve()
    with pytest.raises(InputError, match="unique"):
        CASES[name][0].from_cost_matrix(COST, site_labels=["a"] * 10, **CASES[name][1])

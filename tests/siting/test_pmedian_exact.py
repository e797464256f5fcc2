"""Exact p-median engine: published optima, brute force, bounds, truncation, edge cases."""

from __future__ import annotations

import csv
import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from siting_helpers import pmedian_optima, small_integer_pmedian

import embedsite.siting._pmedian_bb as bb
import embedsite.siting._pmedian_exact as pe
from conftest import SHARED, shared_file
from embedsite.errors import InputError
from embedsite.siting._orlib import distance_matrix, random_instance, read_pmed
from embedsite.siting._pmedian_exact import (
    heuristic_pmedian,
    solve_pmedian,
    unreached_penalty,
)

ORLIB = SHARED / "orlib"


def _value(cost: np.ndarray, w: np.ndarray, sel: np.ndarray) -> float:
    """Objective of an open set, with the documented inf penalty (independent recomputation)."""
    c = np.where(np.isinf(cost), unreached_penalty(cost, w), cost)
    if len(sel) == 0:
        return float(w.sum() * unreached_penalty(cost, w))
    return float(w @ c[:, list(sel)].min(axis=1))


def _brute(cost: np.ndarray, p: int, w: np.ndarray, fixed: np.ndarray) -> float:
    new = np.flatnonzero(~fixed)
    fix = list(np.flatnonzero(fixed))
    k = min(p, new.size)
    return min(_value(cost, w, fix + list(s)) for s in itertools.combinations(new, k))


# --------------------------------------------------------------------------------- OR-Library


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_orlib_published_optima(k: int) -> None:
    optima = {
        r["instance"]: float(r["optimal"])
        for r in csv.DictReader(shared_file(ORLIB / "optima.csv").read_text().splitlines())
    }
    inst = read_pmed(shared_file(ORLIB / f"pmed{k}.txt"))
    sol = solve_pmedian(inst.cost, inst.p)
    assert sol.status == "optimal"
    assert sol.objective == optima[inst.name]
    assert sol.bound == sol.objective
    assert sol.selected.size == inst.p
    assert _value(inst.cost, np.ones(inst.n), sol.selected) == optima[inst.name]
    heur = heuristic_pmedian(inst.cost, inst.p)
    assert optima[inst.name] <= heur.objective <= 1.01 * optima[inst.name]


def test_distance_matrix_last_duplicate_counts_and_matches_networkx() -> None:
    rng = np.random.default_rng(3)
    edges = np.column_stack(
        [rng.integers(0, 12, 40), rng.integers(0, 12, 40), rng.integers(1, 9, 40)]
    )
    d = distance_matrix(12, edges)
    g = nx.Graph()
    g.add_nodes_from(range(12))
    for i, j, c in edges:  # networkx keeps the last attribute written: the same convention
        if i != j:
            g.add_edge(int(i), int(j), weight=int(c))
    ref = dict(nx.all_pairs_dijkstra_path_length(g))
    for i in range(12):
        for j in range(12):
            assert d[i, j] == ref[i].get(j, np.inf)


def test_random_instance_family() -> None:
    a = random_instance(120, 5, seed=4)
    b = random_instance(120, 5, seed=4)
    assert np.array_equal(a.edges, b.edges)
    assert len(a.edges) == 120 * 120 // 50
    assert a.edges[:, 2].min() >= 1 and a.edges[:, 2].max() <= 100
    keys = np.minimum(a.edges[:, 0], a.edges[:, 1]) * 120 + np.maximum(a.edges[:, 0], a.edges[:, 1])
    assert np.unique(keys).size == len(keys)
    assert np.isfinite(a.cost).all()  # connected
    assert np.array_equal(a.cost, a.cost.T) and (np.diag(a.cost) == 0).all()


# --------------------------------------------------------------------------------- brute force


@st.composite
def _instances(draw: st.DrawFn) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    m = draw(st.integers(1, 9))
    n = draw(st.integers(1, 8))
    integer = draw(st.booleans())
    vals = st.integers(0, 30).map(float) if integer else st.floats(0, 50, allow_nan=False)
    cost = np.array(draw(st.lists(vals, min_size=m * n, max_size=m * n))).reshape(m, n)
    inf = np.array(draw(st.lists(st.booleans(), min_size=m * n, max_size=m * n))).reshape(m, n)
    if draw(st.booleans()):
        cost[inf & (np.arange(n) % 2 == 0)] = np.inf
    wvals = st.sampled_from([0.0, 1.0, 2.0, 3.0]) if integer else st.floats(0, 5)
    w = np.array(draw(st.lists(wvals, min_size=m, max_size=m)))
    fixed = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))) & draw(st.booleans())
    p = draw(st.integers(0, 3))
    return cost, p, w, fixed


@settings(max_examples=100, deadline=None)
@given(_instances())
def test_exact_equals_brute_force(inst: tuple[np.ndarray, int, np.ndarray, np.ndarray]) -> None:
    cost, p, w, fixed = inst
    opt = _brute(cost, p, w, fixed)
    sol = solve_pmedian(cost, p, weights=w, fixed=fixed)
    tol = 1e-6 * max(1.0, opt)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(opt, abs=tol)
    assert sol.objective == pytest.approx(_value(cost, w, sol.selected), abs=tol)
    assert sol.bound <= sol.objective + tol
    assert sol.bound >= opt - tol - 1e-7 * max(1.0, opt)
    assert set(np.flatnonzero(fixed)) <= set(sol.selected.tolist())
    assert sol.selected.size == fixed.sum() + min(p, (~fixed).sum())
    keep = w > 0
    reached = np.isfinite(cost[keep][:, sol.selected]).any(axis=1) if sol.selected.size else []
    assert sol.stats["unreached_clients"] == int(keep.sum() - np.sum(reached))


@settings(max_examples=60, deadline=None)
@given(_instances())
def test_heuristic_never_below_optimum(
    inst: tuple[np.ndarray, int, np.ndarray, np.ndarray],
) -> None:
    cost, p, w, fixed = inst
    opt = _brute(cost, p, w, fixed)
    sol = heuristic_pmedian(cost, p, weights=w, fixed=fixed)
    tol = 1e-6 * max(1.0, opt)
    assert sol.objective >= opt - tol
    assert sol.objective == pytest.approx(_value(cost, w, sol.selected), abs=tol)
    assert sol.bound <= opt + tol
    assert sol.selected.size == fixed.sum() + min(p, (~fixed).sum())


@settings(max_examples=40, deadline=None)
@given(_instances())
def test_lagrangian_polish_never_worse_and_bound_valid(
    inst: tuple[np.ndarray, int, np.ndarray, np.ndarray],
) -> None:
    cost, p, w, fixed = inst
    opt = _brute(cost, p, w, fixed)
    plain = heuristic_pmedian(cost, p, weights=w, fixed=fixed, lagrangian=False)
    polished = heuristic_pmedian(cost, p, weights=w, fixed=fixed)
    tol = 1e-6 * max(1.0, opt)
    assert opt - tol <= polished.objective <= plain.objective + tol
    assert plain.bound - tol <= polished.bound <= opt + tol


def test_heuristic_bound_is_the_lagrangian_not_the_trivial_one() -> None:
    inst = random_instance(150, 8, seed=2)
    exact = solve_pmedian(inst.cost, 8)
    heur = heuristic_pmedian(inst.cost, 8)
    trivial = heuristic_pmedian(inst.cost, 8, lagrangian=False).bound
    assert trivial < 0.9 * exact.objective  # every client at its nearest site: far below
    assert 0.98 * exact.objective <= heur.bound <= exact.objective
    assert heur.stats["lagrangian_iterations"] > 0


# ------------------------------------------------------------------------ bounds, truncation


@pytest.mark.parametrize("seed", range(4))
def test_lagrangian_bound_below_optimum(seed: int) -> None:
    inst = random_instance(60, 4, seed=seed)
    opt = solve_pmedian(inst.cost, 4).objective
    w = np.ones(60)
    # ub far above the optimum: nothing is fixed, the bound alone is checked
    lag = pe._lagrangian(
        inst.cost, w, 4, 2 * opt, 0.999, inst.cost.min(axis=1), max_iter=300, deadline=np.inf
    )
    assert 0.9 * opt < lag.bound <= opt
    # ub = optimum: every fixing must keep some optimal solution reachable within delta
    lag = pe._lagrangian(
        inst.cost, w, 4, opt, 0.999, inst.cost.min(axis=1), max_iter=300, deadline=np.inf
    )
    assert lag.bound <= opt


def test_truncation_loop_raises_caps_and_stays_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caps at the start's nearest distance and a poor start force re-solves; answers stay exact."""

    def no_lagrangian(C, w, p, ub, delta, lam0, *, max_iter, deadline):  # type: ignore[no-untyped-def]
        n = C.shape[1]
        return pe._Lagr(-np.inf, np.zeros(n, bool), np.zeros(n, bool), 0, np.arange(0), np.zeros(0))

    def poor_start(C, w, p, seed, restarts, deadline=np.inf):  # type: ignore[no-untyped-def]
        sel = np.argsort(w @ C)[::-1][:p]  # the p worst single sites
        return np.sort(sel), float(w @ C[:, sel].min(axis=1)), 0

    monkeypatch.setattr(pe, "_lagrangian", no_lagrangian)
    monkeypatch.setattr(pe, "_heuristic", poor_start)
    monkeypatch.setattr(pe, "_BB_MAX_P", -1)  # the radius MIP, not the branch-and-bound
    monkeypatch.setattr(pe, "_kth_open", lambda C, cols, k: C[:, cols].min(axis=1))
    rounds = []
    for seed in range(5):
        inst = random_instance(14, 3, seed=seed, m=20)
        opt = _brute(inst.cost, 3, np.ones(14), np.zeros(14, bool))
        sol = solve_pmedian(inst.cost, 3)
        assert sol.status == "optimal" and sol.objective == opt
        rounds.append(sol.stats["rounds"])
    assert max(rounds) >= 2


def test_time_limit_returns_incumbent_with_bound() -> None:
    inst = random_instance(200, 5, seed=11)
    sol = solve_pmedian(inst.cost, 5, time_limit=1e-4)
    assert sol.status in ("time_limit", "optimal")
    assert sol.bound <= sol.objective
    assert sol.objective == _value(inst.cost, np.ones(200), sol.selected)
    full = solve_pmedian(inst.cost, 5)
    assert full.status == "optimal" and full.objective <= sol.objective
    assert sol.bound <= full.objective


def test_mid_size_exact_and_heuristic_gap() -> None:
    inst = random_instance(150, 8, seed=2)
    exact = solve_pmedian(inst.cost, 8)
    heur = heuristic_pmedian(inst.cost, 8)
    assert exact.status == "optimal" and exact.bound == exact.objective
    assert exact.objective <= heur.objective <= 1.01 * exact.objective


# --------------------------------------------------------------------------------- edge cases


def test_p_zero_with_fixed_and_open_all() -> None:
    cost = np.array([[1.0, 5.0, 2.0], [4.0, 1.0, 3.0]])
    sol = solve_pmedian(cost, 0, fixed=np.array([False, True, False]))
    assert sol.selected.tolist() == [1] and sol.objective == 6.0 and sol.status == "optimal"
    sol = solve_pmedian(cost, 10)
    assert sol.selected.tolist() == [0, 1, 2] and sol.objective == 2.0
    sol = solve_pmedian(cost, 0)
    assert sol.selected.size == 0 and sol.stats["unreached_clients"] == 2
    assert sol.objective == 2 * unreached_penalty(cost)


def test_duplicates_are_aggregated_without_changing_the_answer() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 20, size=(6, 5)).astype(float)
    cost = np.vstack([base, base[:3]])  # duplicate clients
    cost = np.hstack([cost, cost[:, :2]])  # duplicate sites
    w = rng.integers(1, 4, size=9).astype(float)
    sol = solve_pmedian(cost, 3, weights=w)
    assert sol.objective == _brute(cost, 3, w, np.zeros(7, bool))
    assert sol.stats["clients"] <= 6 and sol.stats["sites"] <= 5
    assert sol.selected.size == 3 and np.unique(sol.selected).size == 3


def test_unreachable_clients_counted_and_weight_zero_dropped() -> None:
    cost = np.array([[1.0, np.inf], [np.inf, np.inf], [2.0, 1.0], [np.inf, 9.0]])
    w = np.array([1.0, 0.0, 1.0, 1.0])
    sol = solve_pmedian(cost, 1, weights=w)
    assert sol.selected.tolist() == [
        0
    ]  # reaches 2 of 3 clients; site 1 also reaches 2 but costs 10
    assert sol.stats["unreached_clients"] == 1
    assert sol.objective == 1 + 2 + unreached_penalty(cost, w)
    sol = solve_pmedian(cost, 1, weights=np.array([1.0, 1.0, 1.0, 1.0]))
    assert sol.stats["unreached_clients"] == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cost": np.array([[np.nan]]), "p": 1}, "NaN"),
        ({"cost": np.array([[-1.0]]), "p": 1}, ">= 0"),
        ({"cost": np.ones((2, 2)), "p": -1}, "non-negative"),
        ({"cost": np.ones((2, 2)), "p": 1, "weights": np.ones(3)}, "one value per client"),
        ({"cost": np.ones((2, 2)), "p": 1, "weights": np.array([1.0, -2.0])}, "finite"),
        ({"cost": np.ones(3), "p": 1}, "2-D"),
        ({"cost": np.ones((2, 2)), "p": 1, "fixed": [5]}, "positions"),
    ],
)
def test_bad_input_raises(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        solve_pmedian(**kwargs)


# ----------------------------------------------------------- Lagrangian branch-and-bound


@settings(max_examples=80, deadline=None)
@given(small_integer_pmedian(), st.booleans(), st.booleans())
def test_branch_and_bound_proves_the_brute_force_optimum(
    inst: tuple[np.ndarray, np.ndarray, int], good_start: bool, enumerate_leaves: bool
) -> None:
    cost, w, p = inst
    # without enumeration every node is bounded and branched (the logic under test)
    work = bb._ENUM_WORK if enumerate_leaves else 0.0
    opt, optima = pmedian_optima(cost, w, p)
    start = np.array(sorted(optima[0])) if good_start else np.argsort(w @ cost)[::-1][:p]
    saved, bb._ENUM_WORK = bb._ENUM_WORK, work
    try:
        res = bb.branch_and_bound(cost, w, p, start, np.zeros(len(w)), (0.999, 0.0), np.inf)
    finally:
        bb._ENUM_WORK = saved
    assert res.proven
    assert res.value == opt
    assert set(res.sites.tolist()) in optima
    assert res.bound <= opt


@settings(max_examples=80, deadline=None)
@given(small_integer_pmedian())
def test_node_bound_and_fixing_keep_every_optimum(inst: tuple[np.ndarray, np.ndarray, int]) -> None:
    """Bound <= optimum; no optimal site closed; every opened site in every optimum."""
    cost, w, p = inst
    opt, optima = pmedian_optima(cost, w, p)
    wc = w[:, None] * cost
    lam = wc.min(axis=1)
    # target just above the optimum: "better" solutions are exactly the optimal ones
    low, dead, opened, _, sites, freq = bb._node_bound(wc, p, opt + 0.5, lam, 200, 2.0)
    assert low <= opt + 1e-9
    assert not any(dead[list(s)].any() for s in optima)
    assert all(set(np.flatnonzero(opened).tolist()) <= s for s in optima)
    assert sites.size == p and np.all(freq >= 0)
    # target far above: nothing may be fixed that the bound alone cannot justify
    low2 = bb._node_bound(wc, p, 10 * opt + 10, lam, 200, 2.0)[0]
    assert low2 <= opt + 1e-9


@settings(max_examples=60, deadline=None)
@given(small_integer_pmedian())
def test_root_lagrangian_fixing_keeps_every_optimum(
    inst: tuple[np.ndarray, np.ndarray, int],
) -> None:
    cost, w, p = inst
    opt, optima = pmedian_optima(cost, w, p)
    lag = pe._lagrangian(
        cost, w, p, opt + 1.0, 0.5, cost.min(axis=1) * w, max_iter=200, deadline=np.inf
    )
    assert lag.bound <= opt + 1e-9
    assert not any(lag.closed[list(s)].any() for s in optima)
    assert all(set(np.flatnonzero(lag.opened).tolist()) <= s for s in optima)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_enumerate_matches_brute_force(k: int) -> None:
    rng = np.random.default_rng(k)
    cost = rng.integers(0, 50, size=(30, 9)).astype(float)
    w = rng.integers(1, 4, size=30).astype(float)
    base = rng.integers(10, 60, size=30).astype(float)
    pick, val = bb._enumerate(cost, w, base, k)
    ref = min(
        float(w @ np.minimum(base, cost[:, list(s)].min(axis=1)))
        for s in itertools.combinations(range(9), k)
    )
    assert val == ref
    assert val == float(w @ np.minimum(base, cost[:, pick].min(axis=1)))


@pytest.mark.parametrize(("n", "p", "seed"), [(100, 5, 5), (150, 5, 3), (150, 8, 2)])
def test_branch_and_bound_agrees_with_the_radius_mip(
    n: int, p: int, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Instances the root does not settle (the tree branches): B&B and radius MIP agree."""
    inst = random_instance(n, p, seed=seed)
    monkeypatch.setattr(pe, "_BB_MIN_SIZE", 0)  # these are small: force the B&B
    with_bb = solve_pmedian(inst.cost, p)
    monkeypatch.setattr(pe, "_BB_MAX_P", -1)
    with_mip = solve_pmedian(inst.cost, p)
    assert with_bb.status == with_mip.status == "optimal"
    assert with_bb.objective == with_mip.objective == with_bb.bound
    assert "bb_nodes" not in with_mip.stats
    assert with_bb.stats["bb_nodes"] > 1


@pytest.mark.parametrize(("n", "p", "seed"), [(200, 33, 5), (250, 28, 1), (200, 67, 4)])
def test_branch_and_bound_above_25_sites_left_agrees_with_the_radius_mip(
    n: int, p: int, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """26-90 sites left after root fixing go to the B&B (_BB_MAX_P = 90): same optimum.

    (200, 67, 4) leaves 44, above the switch of 40 before pseudo-cost branching.
    """
    inst = random_instance(n, p, seed=seed)
    with_bb = solve_pmedian(inst.cost, p)
    assert 25 < p - with_bb.stats["fixed_open"] <= pe._BB_MAX_P
    assert with_bb.stats["bb_nodes"] > 1
    monkeypatch.setattr(pe, "_BB_MAX_P", -1)
    with_mip = solve_pmedian(inst.cost, p)
    assert with_bb.status == with_mip.status == "optimal"
    assert with_bb.objective == with_mip.objective == with_bb.bound
    assert with_bb.objective == _value(inst.cost, np.ones(n), with_bb.selected)


def _assert_radius_mip_optimum(cost, p, got, monkeypatch):
    """``got`` is proven optimal at the radius MIP's optimum (the B&B switched off)."""
    monkeypatch.setattr(pe, "_BB_MAX_P", -1)
    mip = solve_pmedian(cost, p)
    assert got.status == mip.status == "optimal"
    assert got.objective == mip.objective == got.bound
    assert got.objective == _value(cost, np.ones(len(cost)), got.selected)


@pytest.mark.parametrize(
    ("shallow", "rule", "most"),
    [(0, 0, None), (4, 0, 2200), (0, 1, 600), (pytest.param(None, None, 100, id="default"))],
)
def test_shallow_subgradient_and_pseudo_costs_prove_in_fewer_nodes(
    shallow: int | None, rule: int | None, most: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(300, 60, 1): the tree of f3c4f65 (every node short, most fractional) took 2,762 nodes.

    The long subgradient at the first 4 levels alone: 1,921; pseudo-cost branching alone:
    441; both: 134 (all with the steps aiming at the target, ``_AIM = 0``; the default
    aims above it: 73). Node counts are deterministic; every variant reaches the radius
    MIP's optimum.
    """
    inst = random_instance(300, 60, seed=1)
    if shallow is not None:
        monkeypatch.setattr(bb, "_AIM", 0.0)
        monkeypatch.setattr(bb, "_SHALLOW", shallow)
        monkeypatch.setattr(bb, "_RULE", rule)
    got = solve_pmedian(inst.cost, 60)
    _assert_radius_mip_optimum(inst.cost, 60, got, monkeypatch)
    if most is None:
        assert got.stats["bb_nodes"] > 2500  # the old tree: the instance is a real test
    else:
        assert got.stats["bb_nodes"] <= most


@pytest.mark.parametrize(("strong", "most", "least"), [(0, 73, 73), (3, 40, 1)])
def test_strong_branching_proves_in_fewer_nodes(
    strong: int, most: int, least: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(300, 60, 1): 73 nodes with the default tree; strong branching at depth < 3 (8
    candidates, 30 child steps, gains seeding the pseudo-costs): 17 (134 and 60 with the
    steps aiming at the target, ``_AIM = 0``). Both reach the radius MIP's optimum. Node
    counts are deterministic.
    """
    inst = random_instance(300, 60, seed=1)
    monkeypatch.setattr(bb, "_STRONG_DEPTH", strong)
    monkeypatch.setattr(bb, "_STRONG_CANDS", 8)
    monkeypatch.setattr(bb, "_STRONG_ITERS", 30)
    monkeypatch.setattr(bb, "_STRONG_PC", 1)
    got = solve_pmedian(inst.cost, 60)
    _assert_radius_mip_optimum(inst.cost, 60, got, monkeypatch)
    assert least <= got.stats["bb_nodes"] <= most
    assert (got.stats["bb_strong"] > 0) == (strong > 0)


def test_steps_aiming_above_the_target_prove_in_fewer_nodes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """(600, 10, 2): 562 nodes with the Polyak steps aiming at the pruning target, 389 with
    the default ``_AIM`` (0.1% of the incumbent above it). Node counts are deterministic;
    both prove the same optimum.
    """
    inst = random_instance(600, 10, seed=2)
    aimed = solve_pmedian(inst.cost, 10)
    monkeypatch.setattr(bb, "_AIM", 0.0)
    at_target = solve_pmedian(inst.cost, 10)
    assert aimed.stats["bb_nodes"] == 389
    assert at_target.stats["bb_nodes"] == 562
    assert aimed.status == at_target.status == "optimal"
    assert aimed.objective == at_target.objective == aimed.bound
    assert aimed.objective == _value(inst.cost, np.ones(600), aimed.selected)


def test_branch_and_bound_deadline_keeps_a_valid_bound() -> None:
    inst = random_instance(150, 8, seed=2)
    opt = solve_pmedian(inst.cost, 8).objective
    w = np.ones(150)
    poor = np.argsort(w @ inst.cost)[::-1][:8]
    # a deadline already passed: one batch of nodes (4) runs, far too few from the worst
    # start without root fixing (the full tree below takes about 40)
    cut = bb.branch_and_bound(inst.cost, w, 8, poor, np.zeros(150), (0.999, 0.0), 0.0)
    assert not cut.proven and cut.nodes == 4
    assert np.isfinite(cut.bound)
    assert cut.bound <= opt <= cut.value
    assert cut.value == float(w @ inst.cost[:, cut.sites].min(axis=1))
    full = bb.branch_and_bound(inst.cost, w, 8, poor, np.zeros(150), (0.999, 0.0), np.inf)
    assert full.proven and full.value == opt

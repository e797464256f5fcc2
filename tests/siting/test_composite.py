"""CompositePlan: brute force on tiny instances, the composite rule, verify(), Helsinki."""

from __future__ import annotations

import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedsite.errors import (
    InfeasibleModelError,
    InputError,
    SolverError,
    SolverTimeLimitWarning,
)
from embedsite.siting.composite import DEFAULT_AREA_M2, CompositePlan
from embedsite.standards import Standards

STD = Standards.default()
POOL = [
    "nursery",  # infant_care (core)
    "elderly_day_care_center",  # elderly_care (core)
    "community_canteen",  # meal_aid (core)
    "after_school_care",  # after_school (core)
    "community_health_station",  # health
    "culture_activity_station",  # culture
]


def brute_force(reach, weights, covered, floor, area, cost, allowed, types, mode, budget, p):
    """Best newly covered weight over every assignment of a set of types to every site."""
    n_sites, n_types = allowed.shape
    rule = STD.composite
    options = []  # per site: the type sets it may host
    for j in range(n_sites):
        opts = []
        for mask in itertools.product([False, True], repeat=n_types):
            hosted = [types[t] for t in range(n_types) if mask[t]]
            if any(not allowed[j, t] for t in range(n_types) if mask[t]):
                continue
            if sum(area[t] for t in range(n_types) if mask[t]) > floor[j] + 1e-9:
                continue
            if len(hosted) >= 2:
                if mode == "scattered":
                    continue
                if not rule.check(hosted, floor[j]).passed:
                    continue
            opts.append(np.array(mask))
        options.append(opts)
    best, best_plan = 0.0, np.zeros((n_sites, n_types), bool)
    for combo in itertools.product(*options):
        x = np.array(combo).reshape(n_sites, n_types)
        opened = x.any(axis=1)
        if p is not None and opened.sum() > p:
            continue
        if budget is not None and cost[opened].sum() > budget + 1e-9:
            continue
        value = 0.0
        for t in range(n_types):
            hit = covered[:, t] | (reach[t][x[:, t]].any(axis=0))
            value += float(weights[hit & ~covered[:, t], t].sum())
        if value > best + 1e-9:
            best, best_plan = value, x
    return best, best_plan


def _draw_array(draw, elements, shape, dtype=None):
    size = int(np.prod(shape))
    values = draw(st.lists(elements, min_size=size, max_size=size))
    return np.array(values, dtype=dtype).reshape(shape)


@st.composite
def instances(draw):
    n_sites = draw(st.integers(1, 4))
    n_types = draw(st.integers(1, 3))
    n_clients = draw(st.integers(1, 8))
    types = draw(st.permutations(POOL))[:n_types]
    reach = _draw_array(draw, st.booleans(), (n_types, n_sites, n_clients), bool)
    weights = _draw_array(draw, st.integers(0, 6), (n_clients, n_types), float)
    mostly_false = st.sampled_from([False, False, False, True])
    covered = _draw_array(draw, mostly_false, (n_clients, n_types), bool)
    floor_choices = st.sampled_from([250.0, 500.0, 650.0, 900.0, 1300.0])
    floor = _draw_array(draw, floor_choices, (n_sites,), float)
    area = _draw_array(draw, st.sampled_from([100.0, 200.0, 350.0]), (n_types,), float)
    cost = _draw_array(draw, st.integers(1, 3), (n_sites,), float)
    allowed = ~_draw_array(draw, mostly_false, (n_sites, n_types), bool)
    budget = draw(st.one_of(st.none(), st.integers(0, 7).map(float)))
    p = draw(st.integers(0, 4)) if budget is None else draw(st.one_of(st.none(), st.integers(0, 4)))
    return reach, weights, covered, floor, area, cost, allowed, types, budget, p


def build(inst, mode, **kw):
    reach, weights, covered, floor, area, cost, allowed, types, budget, p = inst
    return CompositePlan.from_arrays(
        {t: reach[i] for i, t in enumerate(types)}, weights, floor,
        area_m2=dict(zip(types, area, strict=True)), site_cost=cost, allowed=allowed,
        covered=covered, mode=mode, budget=budget, p=p, **kw,
    )  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_equals_brute_force_both_modes(inst):
    reach, weights, covered, floor, area, cost, allowed, types, budget, p = inst
    values = {}
    for mode in ("composite", "scattered"):
        expected, _ = brute_force(
            reach, weights, covered, floor, area, cost, allowed, types, mode, budget, p
        )
        res = build(inst, mode).solve(mip_gap=0.0)
        assert res.status == "optimal"
        assert res.objective == pytest.approx(expected, abs=1e-6)
        assert res.bound >= res.objective - 1e-9
        # the dual bound is tight at optimality, up to the tie-breaks (< 1.25e-3 w_min)
        assert res.bound <= expected + 1.25e-3 * res.problem.w_min() + 1e-9
        assert res.gap <= 1.25e-3 + 1e-9
        heur = build(inst, mode).solve("heuristic")
        assert heur.objective <= expected + 1e-9
        assert heur.bound >= expected - 1e-9  # the heuristic's bound is a valid bound
        values[mode] = res.objective
    # every scattered plan is a composite plan
    assert values["composite"] >= values["scattered"] - 1e-9


def _three(floor, *, types=("nursery", "elderly_day_care_center", "community_canteen"), **kw):
    """One client per type, every site reaching all of them."""
    n = len(floor)
    reach = {t: np.ones((n, 1), bool) for t in types}
    return CompositePlan.from_arrays(reach, np.ones((1, len(types))), floor, area_m2=150.0, **kw)


def test_small_site_never_hosts_two_types_in_composite_mode():
    res = _three([500.0], p=1).solve()
    assert res.hosts.to_numpy().sum() == 1  # 3 x 150 m² fit, but 500 < 600 m²
    assert res.objective == 1.0
    res = _three([600.0], p=1).solve()
    assert res.hosts.to_numpy().sum() == 3
    assert res.objective == 3.0
    assert bool(res.sites["rule_passed"].iloc[0])
    assert "preferred" in res.sites["rule_notes"].iloc[0]  # 600 < 800 m² preferred


def test_two_types_cannot_form_a_complex():
    # two functions (< 3) however large the site
    res = _three([5000.0], types=("nursery", "elderly_day_care_center"), p=1).solve()
    assert res.hosts.to_numpy().sum() == 1
    assert res.n_complexes == 0


def test_complex_needs_two_core_functions():
    one_core = ("nursery", "community_health_station", "culture_activity_station")
    res = _three([2000.0], types=one_core, p=1).solve()
    assert res.hosts.to_numpy().sum() == 1  # 3 functions but only infant care is core
    two_core = ("nursery", "community_canteen", "culture_activity_station")
    res = _three([2000.0], types=two_core, p=1).solve()
    assert res.hosts.to_numpy().sum() == 3
    check = STD.composite.check(list(res.hosts.columns[res.hosts.iloc[0]]), 2000.0)
    assert check.passed and len(check.functions) >= 3


def test_complex_floor_area_used_mode():
    # 3 x 150 = 450 m² used < 600: allowed on the 900 m² site by default, not with "used"
    assert _three([900.0], p=1).solve().objective == 3.0
    assert _three([900.0], p=1, complex_area="used").solve().objective == 1.0
    assert _three([900.0], p=1, complex_area="used").solve("heuristic").objective == 1.0


def test_scattered_never_colocates_and_budget_holds():
    rng = np.random.default_rng(3)
    types = ["nursery", "elderly_day_care_center", "community_canteen", "after_school_care"]
    reach = {t: rng.random((12, 40)) < 0.25 for t in types}
    cost = rng.integers(1, 5, 12).astype(float)
    for mode in ("scattered", "composite"):
        plan = CompositePlan.from_arrays(
            reach, rng.integers(0, 9, (40, 4)).astype(float), rng.choice([400.0, 900.0], 12),
            site_cost=cost, budget=7.0, mode=mode,
        )  # fmt: skip
        for solver in ("highs", "heuristic"):
            res = plan.solve(solver)  # type: ignore[arg-type]
            assert res.cost <= 7.0
            assert cost[np.isin(plan.problem.site_labels, res.selected)].sum() == res.cost
            if mode == "scattered":
                assert (res.hosts.sum(axis=1) == 1).all()
            else:
                assert res.sites.loc[res.sites["is_complex"], "rule_passed"].all()


def test_cost_per_m2_counts_the_floor_area():
    plan = _three([900.0], budget=1.0 + 2 * 150.0, cost_per_m2=1.0)
    res = plan.solve()
    assert res.objective == 1.0  # a complex would cost 1 + 450
    plan = _three([900.0], budget=1.0 + 3 * 150.0, cost_per_m2=1.0)
    res = plan.solve()
    assert res.objective == 3.0 and res.cost == pytest.approx(451.0)


def test_verify_catches_tampered_plans():
    types = ("nursery", "elderly_day_care_center", "community_canteen")
    reach = {t: np.array([[1, 0], [0, 1]], bool) for t in types}
    plan = CompositePlan.from_arrays(
        reach, np.ones((2, 3)), [500.0, 900.0], area_m2=150.0, p=1, site_cost=[1.0, 1.0]
    )
    res = plan.solve()
    assert list(res.selected) == [1] and res.objective == 3.0
    two_at_small = np.array([[1, 1, 0], [0, 0, 0]], bool)
    with pytest.raises(SolverError, match="composite rule"):
        dataclasses.replace(res, hosts_array=two_at_small, objective=2.0)
    with pytest.raises(SolverError, match="differs"):
        dataclasses.replace(res, objective=3.5)
    with pytest.raises(SolverError, match="more than p"):
        dataclasses.replace(res, hosts_array=np.array([[1, 0, 0], [1, 1, 1]], bool), objective=4)
    with pytest.raises(SolverError, match="budget"):
        dataclasses.replace(res, budget=0.5)
    with pytest.raises(SolverError, match="co-locates"):
        dataclasses.replace(res, mode="scattered")
    big = np.array([[0, 0, 0], [1, 1, 1]], bool)
    with pytest.raises(SolverError, match="floor area"):
        dataclasses.replace(res, hosts_array=big, problem=dataclasses.replace(
            res.problem, area=np.array([400.0, 400.0, 400.0])))  # fmt: skip
    with pytest.raises(SolverError, match="not allowed"):
        dataclasses.replace(res, problem=dataclasses.replace(
            res.problem, allowed=np.zeros((2, 3), bool)))  # fmt: skip


def test_min_share_and_infeasibility():
    types = ("nursery", "elderly_day_care_center")
    reach = {t: np.array([[1, 0, 0], [0, 1, 0]], bool) for t in types}
    w = np.ones((3, 2))
    res = CompositePlan.from_arrays(reach, w, [900.0, 900.0], p=2,
                                    min_share={"nursery": 0.6}).solve()  # fmt: skip
    assert res.coverage_gain.loc["nursery", "share_after"] >= 0.6
    with pytest.raises(InfeasibleModelError, match=r"nursery: min_share 0\.9"):
        CompositePlan.from_arrays(reach, w, [900.0, 900.0], p=2,
                                  min_share={"nursery": 0.9}).solve()  # fmt: skip
    with pytest.raises(InfeasibleModelError, match="raise the budget or p"):
        CompositePlan.from_arrays(reach, w, [900.0, 900.0], p=1,
                                  min_share={"nursery": 0.6, "elderly_day_care_center": 0.3}
                                  ).solve()  # fmt: skip


def test_type_weights_and_areas():
    types = ("nursery", "elderly_day_care_center")
    reach = {t: np.array([[1, 0], [0, 1]], bool) for t in types}
    w = np.array([[1.0, 0.0], [0.0, 9.0]])
    plan = CompositePlan.from_arrays(reach, w, [900.0, 900.0], p=1)
    assert plan.solve().objective == 9.0  # residents: the 9 elderly
    assert list(plan.problem.area) == [DEFAULT_AREA_M2, 350.0]  # no standard area / 350 m²
    w2 = np.array([[1.0, 0.0], [0.0, 9.0], [3.0, 0.0]])
    reach2 = {t: np.array([[1, 0, 0], [0, 1, 0]], bool) for t in types}
    share = CompositePlan.from_arrays(reach2, w2, [900.0, 900.0], p=1, type_weights="share")
    # nursery share 1/4 vs elderly share 9/9: the elderly site again, objective = 1.0 share
    assert share.solve().objective == pytest.approx(1.0)
    explicit = CompositePlan.from_arrays(reach2, w2, [900.0, 900.0], p=1,
                                         type_weights={"nursery": 10.0})  # fmt: skip
    assert explicit.solve().objective == 10.0


def test_bad_input():
    reach = {"nursery": np.ones((2, 2), bool)}
    with pytest.raises(InputError, match="budget"):
        CompositePlan.from_arrays(reach, np.ones((2, 1)), [100.0, 100.0])
    with pytest.raises(InputError, match="function tags"):
        CompositePlan.from_arrays({"x": np.ones((2, 2))}, np.ones((2, 1)), [1.0, 1.0], p=1)
    with pytest.raises(InputError, match="floor_area_m2"):
        CompositePlan.from_arrays(reach, np.ones((2, 1)), [100.0, 0.0], p=1)
    with pytest.raises(InputError, match="mode"):
        CompositePlan.from_arrays(reach, np.ones((2, 1)), [1.0, 1.0], p=1, mode="mixed")
    with pytest.raises(InputError, match="holds no data"):
        CompositePlan(p=1).solve()
    ok = CompositePlan.from_arrays({"x": np.ones((2, 2))}, np.ones((2, 1)), [300.0, 300.0], p=1,
                                   functions={"x": ["meal_aid"]})  # fmt: skip
    assert ok.solve().objective == 2.0
    plan = CompositePlan.from_arrays(reach, np.ones((2, 1)), [300.0, 300.0], p=1)
    assert "CompositePlan(mode='composite'" in repr(plan)
    plan.solve()
    assert plan.get_params()["p"] == 1  # solve never mutates the model


# --- Helsinki sample ------------------------------------------------------------------------
TYPES = ["nursery", "elderly_day_care_center", "community_canteen", "after_school_care"]


@pytest.fixture(scope="module")
def helsinki(helsinki_net):
    import embedsite.demand as ed
    import embedsite.facilities as ef
    from conftest import SAMPLE
    from embedsite import coverage
    from embedsite._osmfeatures import read_features

    net = helsinki_net
    homes = ed.from_osm_file(SAMPLE, net, on_far="drop")
    supply = ef.from_osm_file(SAMPLE, net)
    cov = coverage.compute(net, homes, supply, types=TYPES)
    b = read_features(SAMPLE, ["building"], tags=["building", "building:levels"], nodes=False)
    b = b.to_crs(net.crs)
    b = b[b["building"].isin(["commercial", "retail", "office", "public", "yes"])]
    levels = pd.to_numeric(b["building:levels"], errors="coerce").fillna(3.0).clip(1, 8)
    points = gpd.GeoDataFrame(
        {"floor_area_m2": (b.area * levels).to_numpy(), "land_area_m2": b.area.to_numpy()},
        geometry=b.geometry.centroid.to_numpy(), crs=net.crs,
        index=pd.Index([f"way/{i}" for i in b["osm_id"]]),
    )  # fmt: skip
    points = points[points["floor_area_m2"] >= 150.0].iloc[::3]  # a third, for speed
    snapped = net.snap(points, on_far="drop", max_distance=80.0)
    cand = points.loc[snapped.index].join(snapped.drop(columns="geometry"))
    # cost: 1 unit per site plus a fit-out cost per m² (see cost_per_m2 in the plan)
    cand["cost"] = 1.0
    cand["allowed_types"] = ""
    cand.loc[cand.index[::4], "allowed_types"] = "nursery;社区食堂"  # some sites restricted
    return cov, cand


@pytest.mark.parametrize("budget", [3.0, 6.0])
def test_helsinki_composite_beats_scattered(helsinki, budget):
    cov, cand = helsinki
    plan = CompositePlan.from_coverage(cov, cand, budget=budget, cost_per_m2=1e-3)
    cmp = plan.compare(mip_gap=0.0)
    comp, scat = cmp.composite, cmp.scattered
    assert comp.status == scat.status == "optimal"
    # the composite option set contains every scattered plan: never worse
    assert comp.objective >= scat.objective - 1e-6
    assert comp.n_complexes >= 1 and comp.objective > scat.objective
    assert scat.n_complexes == 0 and comp.cost <= budget and scat.cost <= budget
    # recompute coverage from the walk distances of the chosen sites another way
    import embedsite._paths as ep

    net = cov.network
    u, v = net.edge_nodes
    for res in (comp, scat):
        hosts = res.hosts
        for t in TYPES:
            sites = cand.loc[hosts.index[hosts[t].to_numpy()]]
            served = cov.served(t).to_numpy()
            near = ep.nearest_source(net.csr, u, v, sites, cov.demand.points,
                                     limit=STD[t].walk_radius_m)  # fmt: skip
            now = cov.covered[t].to_numpy() | np.isfinite(near.distance)
            expected = float(served[now].sum())
            assert res.coverage_gain.loc[t, "covered_after"] == pytest.approx(expected)
    allowed = cand["allowed_types"].loc[comp.selected]
    restricted = comp.hosts[(allowed != "").to_numpy()]
    assert not restricted[["elderly_day_care_center", "after_school_care"]].to_numpy().any()
    table = cmp.by_type
    assert list(table.index) == TYPES
    assert (table["composite"] >= table["covered_before"] - 1e-9).all()
    assert (table["share_composite"] <= 1 + 1e-12).all()
    summary = cmp.summary
    assert summary.loc["composite", "complexes"] == comp.n_complexes
    complexes = cmp.complexes
    assert complexes["rule_passed"].all() and (complexes["n_functions"] >= 3).all()
    for label, row in complexes.iterrows():
        check = STD.composite.check(row["functions"].split(";"), cand.loc[label, "floor_area_m2"])
        assert check.passed
    gdf = comp.to_geodataframe()
    assert gdf.crs == cand.crs and set(gdf.index) == set(comp.selected)
    assert gdf.geometry.equals(cand.geometry.loc[gdf.index])
    assert "land_area_m2" in gdf.columns and "new_nursery" in gdf.columns
    heur = plan.solve("heuristic")
    assert heur.objective <= comp.objective + 1e-9


def test_helsinki_from_coverage_checks(helsinki):
    cov, cand = helsinki
    with pytest.raises(InputError, match="CRS"):
        CompositePlan.from_coverage(cov, cand.to_crs(4326), p=1)
    with pytest.raises(InputError, match="floor_area_m2"):
        CompositePlan.from_coverage(cov, cand.drop(columns="floor_area_m2"), p=1)
    with pytest.raises(InputError, match="not analysed"):
        CompositePlan.from_coverage(cov, cand, p=1, types=["kindergarten"])


def test_tie_breaks_prefer_complexes_then_cheaper_sites():
    # three sites each reaching the one client of every type: one complex or three single
    # sites cover the same; the complex wins, at the cheapest site able to host it
    plan = _three([900.0, 900.0, 1200.0], p=3, site_cost=[2.0, 1.0, 1.5], budget=10.0)
    res = plan.solve()
    assert res.objective == 3.0 and res.n_complexes == 1 and list(res.selected) == [1]
    heur = plan.solve("heuristic")
    assert heur.n_complexes == 1 and list(heur.selected) == [1]
    # scattered: three sites needed; with costs 2, 1, 1.5 and budget 10 all three open
    scat = CompositePlan.from_arrays(
        {t: np.ones((3, 1), bool) for t in plan.problem.types}, np.ones((1, 3)),
        [900.0, 900.0, 1200.0], area_m2=150.0, p=3, site_cost=[2.0, 1.0, 1.5], budget=10.0,
        mode="scattered",
    ).solve()  # fmt: skip
    assert scat.objective == 3.0 and len(scat.selected) == 3 and scat.cost == 4.5
    # one uncovered client of one type, two equal sites: the cheaper one
    cheap = CompositePlan.from_arrays({"nursery": np.ones((2, 1), bool)}, np.full((1, 1), 0.01),
                                      [300.0, 300.0], site_cost=[3.0, 2.0], budget=5.0)  # fmt: skip
    assert list(cheap.solve().selected) == [1]


def test_time_limit_returns_the_best_plan_with_a_warning():
    rng = np.random.default_rng(0)
    n, m = 60, 400
    reach = {t: rng.random((n, m)) < 8 / n for t in POOL[:5]}
    plan = CompositePlan.from_arrays(
        reach, rng.integers(0, 5, (m, 5)).astype(float), rng.choice([300.0, 700.0, 2000.0], n),
        site_cost=rng.integers(1, 4, n).astype(float), budget=6.0,
    )  # fmt: skip
    with pytest.warns(SolverTimeLimitWarning, match="time limit"):
        res = plan.solve(time_limit=0.05)
    assert res.status == "time_limit" and res.gap > 0
    # HiGHS starts from the greedy plan, so it is never worse than the heuristic
    assert res.objective >= plan.solve("heuristic").objective - 1e-9
    assert res.bound >= res.objective


def test_prune_drops_facilities_that_cover_nobody_new():
    from embedsite.siting._composite_heuristic import prune

    types = ("nursery", "elderly_day_care_center", "community_canteen", "after_school_care")
    reach = {t: np.ones((3, 2), bool) for t in types}
    plan = CompositePlan.from_arrays(reach, np.ones((2, 4)), [900.0, 900.0, 300.0], p=3,
                                     area_m2=150.0, site_cost=[1.0, 1.0, 2.0])  # fmt: skip
    pr = plan.problem
    hosts = np.array([[1, 1, 1, 1], [0, 0, 0, 0], [1, 0, 0, 0]], bool)
    pruned = prune(plan, pr, hosts)
    # the single site is redundant; the complex keeps the 4 functions (each covers someone)
    assert pruned.tolist() == [[True] * 4, [False] * 4, [False] * 4]
    assert pr.coverage_value(pruned) == pr.coverage_value(hosts) == 8.0
    # two complexes reaching the same clients: the second goes entirely
    hosts = np.array([[1, 1, 1, 0], [1, 1, 1, 1], [0, 0, 0, 0]], bool)
    pruned = prune(plan, pr, hosts)
    assert pr.coverage_value(pruned) == 8.0 and pruned.sum() == 4
    # a complex whose after-school care is also given (and more) by a single site sheds it and
    # stays a valid 3-function complex
    reach2 = dict(reach, after_school_care=np.array([[1, 0], [1, 1], [0, 0]], bool))
    plan2 = CompositePlan.from_arrays(reach2, np.ones((2, 4)), [900.0, 900.0, 300.0], p=3,
                                      area_m2=150.0)  # fmt: skip
    hosts = np.array([[1, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]], bool)
    pruned = prune(plan2, plan2.problem, hosts)
    assert pruned.astype(int).tolist() == [[1, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert plan2.problem.coverage_value(pruned) == 8.0


@pytest.mark.parametrize(
    "kw",
    [
        {"covered": np.ones((4, 3), bool), "p": 2},  # everybody covered already
        {"p": 0},
        {"budget": 0.0},
        {"weights": np.zeros((4, 3)), "p": 2},  # nobody to serve
    ],
)
def test_nothing_to_gain_opens_nothing(kw):
    types = ["nursery", "elderly_day_care_center", "community_canteen"]
    reach = {t: np.ones((3, 4), bool) for t in types}
    weights = kw.pop("weights", np.ones((4, 3)))
    plan = CompositePlan.from_arrays(reach, weights, [900.0, 500.0, 300.0], **kw)
    for solver in ("highs", "heuristic"):
        res = plan.solve(solver)  # type: ignore[arg-type]
        assert res.objective == 0.0 and len(res.selected) == 0
        assert len(res.sites) == 0 and len(res.to_geodataframe()) == 0
        cmp = plan.compare(solver)  # type: ignore[arg-type]
        assert cmp.complexes.empty and (cmp.summary["sites"] == 0).all()

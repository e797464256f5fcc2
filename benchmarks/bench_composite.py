"""Benchmark the composite plan: complexes vs scattered (插花) sites on the Helsinki gap problem.

Four facility types with the complex's core functions (nursery, elderly day care, community
canteen, after-school care) on the shipped Helsinki sample: residents from the buildings,
existing facilities from OSM (they cover whom they reach), candidate sites = the centroids of
the non-residential buildings (commercial, retail, office, public, "yes") with at least
150 m² of floor area (footprint x ``building:levels``, 3 when untagged), snapped within 80 m.
At each number of sites ``p`` (and at two cost budgets), in one process:

* ``CompositePlan(mode="composite")`` and ``mode="scattered"`` with HiGHS (``mip_gap=0``),
* the greedy heuristic (``solver="heuristic"``) in both modes,
* the peer a planner would use today: spopt's ``MCLP`` (PuLP + CBC) once per type, on the
  same exact walk distances (a dense clients x sites matrix, as spopt needs), ``p`` split
  between the types in proportion to their uncovered residents. Types picked at the same
  site are counted (``shared``) and checked against the floor area and the composite rule
  (``broken``): spopt cannot know that the sites are shared.

HiGHS gets ``--time-limit`` seconds (default 30) per solve and reports its gap when it stops
there. ``--scale`` adds seeded random instances (5 types, 8 sites reach a client on average)
to show where the exact model stops being practical.

Run from the repository root::

    python benchmarks/bench_composite.py [--repeat N] [--scale] [--time-limit S]

A plain script, never collected by pytest.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

import embedsite.demand as ed
import embedsite.facilities as ef
import embedsite.network as en
from bench_network import machine, show, timed
from embedsite import coverage
from embedsite._osmfeatures import read_features
from embedsite._paths import pair_distances, source_node_distances
from embedsite.errors import SolverTimeLimitWarning
from embedsite.siting.composite import CompositePlan
from embedsite.standards import Standards

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "helsinki.osm.pbf"
TYPES = ["nursery", "elderly_day_care_center", "community_canteen", "after_school_care"]
P_VALUES = (2, 4, 8, 12)
BUDGETS = (4.0, 8.0)  # cost budgets: 1 per site + 0.5 per 1000 m² of floor area hosted
COST_PER_M2 = 0.5e-3


def helsinki() -> tuple[Any, gpd.GeoDataFrame]:
    net = en.from_osm_file(SAMPLE)
    homes = ed.from_osm_file(SAMPLE, net, on_far="drop")
    supply = ef.from_osm_file(SAMPLE, net)
    cov = coverage.compute(net, homes, supply, types=TYPES)
    b = read_features(SAMPLE, ["building"], tags=["building", "building:levels"], nodes=False)
    b = b.to_crs(net.crs)
    b = b[b["building"].isin(["commercial", "retail", "office", "public", "yes"])]
    levels = pd.to_numeric(b["building:levels"], errors="coerce").fillna(3.0).clip(1, 8)
    points = gpd.GeoDataFrame(
        {"floor_area_m2": (b.area * levels).to_numpy()},
        geometry=b.geometry.centroid.to_numpy(),
        crs=net.crs,
        index=pd.Index([f"way/{i}" for i in b["osm_id"]]),
    )
    points = points[points["floor_area_m2"] >= 150.0]
    points = points[~points.index.duplicated()]
    snapped = net.snap(points, on_far="drop", max_distance=80.0)
    cand = points.loc[snapped.index].join(snapped.drop(columns="geometry"))
    cand["cost"] = 1.0
    return cov, cand


def spopt_per_type(cov: Any, cand: gpd.GeoDataFrame, p: int, plan: CompositePlan) -> dict:
    """spopt MCLP per type on the uncovered residents, p split by uncovered residents."""
    import pulp
    from spopt.locate import MCLP

    std = Standards.default()
    net = cov.network
    u, v = net.edge_nodes
    targets = cov.demand.points
    t0 = time.perf_counter()
    node_dist = source_node_distances(net.csr, u, v, cand, limit=500.0)
    uncovered = {t: cov.served(t).to_numpy() * ~cov.covered[t].to_numpy() for t in TYPES}
    total = sum(float(w.sum()) for w in uncovered.values())
    share = np.array([uncovered[t].sum() / total for t in TYPES]) * p
    p_t = np.floor(share).astype(int)
    p_t[np.argsort(-(share - p_t))[: p - int(p_t.sum())]] += 1
    chosen: dict[str, list[int]] = {}
    for t, k in zip(TYPES, p_t, strict=True):
        if k == 0:
            chosen[t] = []
            continue
        radius = std[t].walk_radius_m
        pairs = pair_distances(node_dist, u, v, cand, targets, limit=radius).tocsr()
        dense = np.full((len(targets), len(cand)), 1e7)
        coo = pairs.tocoo()
        dense[coo.col, coo.row] = coo.data
        model = MCLP.from_cost_matrix(dense, uncovered[t], service_radius=radius, p_facilities=k)
        model = model.solve(pulp.PULP_CBC_CMD(msg=False))
        chosen[t] = [j for j, clients in enumerate(model.fac2cli) if len(clients)]
        if len(chosen[t]) < k:  # spopt lists only sites with clients; keep the open ones
            opened = [j for j, var in enumerate(model.fac_vars) if var.value() > 0.5]
            chosen[t] = opened
    seconds = time.perf_counter() - t0
    pr = plan.problem
    hosts = np.zeros((pr.n_sites, pr.n_types), bool)
    for ti, t in enumerate(TYPES):
        hosts[chosen[t], ti] = True
    value = pr.coverage_value(hosts)
    shared = np.flatnonzero(hosts.sum(axis=1) >= 2)
    broken = 0
    for j in shared:
        hosted = tuple(t for t, on in zip(TYPES, hosts[j], strict=True) if on)
        too_big = float(hosts[j] @ pr.area) > pr.floor_area[j]
        broken += int(too_big or not pr.check_rule(hosted, float(pr.floor_area[j])).passed)
    return {"s": seconds, "objective": value, "sites": int(hosts.any(axis=1).sum()),
            "shared": len(shared), "broken": broken}  # fmt: skip


def run_helsinki(repeat: int, time_limit: float, case: str | None = None) -> None:
    cov, cand = helsinki()
    served = {t: float(cov.served(t).sum()) for t in TYPES}
    before = {t: float((cov.served(t) * cov.covered[t]).sum()) for t in TYPES}
    print(f"\nHelsinki: {len(cov.demand)} resident points, {len(cand)} candidate sites")
    print("served / covered before: " + ", ".join(
        f"{t} {served[t]:.0f}/{before[t]:.0f}" for t in TYPES))  # fmt: skip
    t0 = time.perf_counter()
    base = CompositePlan.from_coverage(cov, cand, p=1)
    print(f"from_coverage (walk distances + model data): {time.perf_counter() - t0:.3f} s")
    exact_rows, other_rows = [], []
    settings: list[dict[str, Any]] = [{"p": p} for p in P_VALUES]
    settings += [{"budget": b, "cost_per_m2": COST_PER_M2} for b in BUDGETS]
    if case is not None:  # one limit only, e.g. "budget=8" or "p=4"
        settings = [st for st in settings if case in {f"{k}={v:g}" for k, v in st.items()}]
        if not settings:
            raise SystemExit(f"--case {case!r} matches no limit (p=2,4,8,12, budget=4,8)")
    for setting in settings:
        name = ", ".join(f"{k}={v:g}" for k, v in setting.items())
        ex: dict[str, Any] = {"limit": name}
        ot: dict[str, Any] = {"limit": name}
        results = {}
        for mode in ("composite", "scattered"):
            plan = CompositePlan(mode=mode, **setting)  # type: ignore[arg-type]
            plan._problem = base.problem
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SolverTimeLimitWarning)
                s, res = timed(
                    lambda plan=plan: plan.solve(mip_gap=0.0, time_limit=time_limit), repeat
                )
            hs, heur = timed(lambda plan=plan: plan.solve("heuristic"), repeat)
            results[mode] = res
            m = mode[:4]
            ex[f"{m}_s"] = s
            ex[f"{m}_obj"] = res.objective
            ex[f"{m}_gap_%"] = 100 * res.gap
            ex[f"{m}_sites"] = len(res.selected)
            ot[f"{m}_heur_s"] = hs
            ot[f"{m}_heur_obj"] = heur.objective
            ot[f"{m}_heur/exact"] = heur.objective / max(res.objective, 1e-9)
        comp, scat = results["composite"], results["scattered"]
        ex["complexes"] = comp.n_complexes
        ex["comp/scat"] = comp.objective / max(scat.objective, 1e-9)
        ex["area_comp_m2"] = comp.floor_area_used_m2
        ex["area_scat_m2"] = scat.floor_area_used_m2
        if "p" in setting:
            peer = spopt_per_type(cov, cand, int(setting["p"]), base)
            ot["spopt_s"] = peer["s"]
            ot["spopt_obj"] = peer["objective"]
            ot["spopt_shared/broken"] = f"{peer['shared']}/{peer['broken']}"
        else:
            ot["spopt_s"] = ot["spopt_obj"] = float("nan")
            ot["spopt_shared/broken"] = "-"
        exact_rows.append(ex)
        other_rows.append(ot)
        print(f"  done {name}", file=sys.stderr)
    show(f"Helsinki, exact (HiGHS, mip_gap=0, time limit {time_limit:g} s): residents newly "
         "covered, summed over the four types", exact_rows)  # fmt: skip
    show("Helsinki, heuristic and peer (spopt MCLP once per type)", other_rows)


def run_scale(time_limit: float) -> None:
    rows = []
    types = [*TYPES, "community_health_station"]
    for n, m in ((50, 500), (200, 2000), (1000, 10000)):
        rng = np.random.default_rng(n)
        reach = {t: rng.random((n, m)) < 8 / n for t in types}
        t0 = time.perf_counter()
        plan = CompositePlan.from_arrays(
            reach, rng.integers(0, 5, (m, len(types))).astype(float),
            rng.choice([300.0, 700.0, 1000.0, 2000.0], n),
            site_cost=rng.integers(1, 4, n).astype(float), budget=n / 10,
        )  # fmt: skip
        build = time.perf_counter() - t0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SolverTimeLimitWarning)
            t0 = time.perf_counter()
            exact = plan.solve(time_limit=time_limit)
            s = time.perf_counter() - t0
        t0 = time.perf_counter()
        heur = plan.solve("heuristic")
        hs = time.perf_counter() - t0
        rows.append({"sites": n, "clients": m, "build_s": build, "highs_s": s,
                     "status": exact.status, "highs_obj": exact.objective, "bound": exact.bound,
                     "gap": exact.gap, "heur_s": hs, "heur_obj": heur.objective})  # fmt: skip
        print(f"  done {n} x {m}", file=sys.stderr)
    show(f"Random instances (5 types, budget = sites / 10, HiGHS time limit {time_limit:g} s)",
         rows)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--scale", action="store_true", help="add random larger instances")
    parser.add_argument("--time-limit", type=float, default=30.0, help="HiGHS limit (s)")
    parser.add_argument("--case", help="run one Helsinki limit only, e.g. budget=8 or p=4")
    args = parser.parse_args(argv)
    logging.getLogger("embedsite").setLevel(logging.ERROR)
    print(machine())
    run_helsinki(max(1, args.repeat), args.time_limit, args.case)
    if args.scale:
        run_scale(args.time_limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

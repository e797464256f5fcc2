"""Benchmark the siting stage: LSCP, MCLP, p-center, p-median through embedsite and spopt.

The same instances go through embedsite (``embedsite.siting``: HiGHS through highspy on a
sparse, reduced model; and the heuristics) and through spopt 0.7 (``spopt.locate``, built
with PuLP and solved by CBC, and by HiGHS through ``pulp.HiGHS`` where available), in one
process. Times are end to end from the same dense cost matrix: model construction plus
solve. Objectives are compared (``obj_ratio`` = spopt / embedsite; 1.000 means the same
optimum).

Instances:

* random: clients and candidate sites uniform in a 5 km square (seeded), Euclidean metres,
  client weights 1-50; LSCP radius 600 m (or the smallest multiple of 50 m that makes it
  feasible), MCLP radius 400 m with p = 10, p-center and p-median with p = 10. Sizes S
  (400 x 80), M (1500 x 200), L (4000 x 400). spopt's p-center and p-median build n x m
  assignment variables through PuLP; they run on S only (as does the stand-in p-median).
* real gap problems: the sample city (Helsinki) and the Chengdu extract, residents from OSM
  buildings, existing facilities of the type kept as fixed sites, candidate sites at every
  third street node (a stand-in for embedsite.candidates), walk distances exact on the
  network (``from_coverage``). LSCP closes the whole gap, MCLP with p = 2.

Run from the repository root::

    python benchmarks/bench_siting.py [--repeat N] [--quick] [--peer-time-limit S]
        [--sizes S,M,L] [--models LSCP,MCLP,PCenter,PMedian] [--mclp-p 10,20,50]
        [--time-limit S] [--no-peers] [--no-real]

The p-median core in this branch is a stand-in (assignment formulation); its figures are
re-taken when the fast core lands. A plain script, never collected by pytest.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import functools
import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import embedsite.demand as ed
import embedsite.facilities as ef
import embedsite.network as en
from bench_network import machine, show, timed
from embedsite import coverage
from embedsite.errors import SolverTimeLimitWarning
from embedsite.siting import LSCP, MCLP, PCenter, PMedian

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"S": (400, 80), "M": (1500, 200), "L": (4000, 400)}
# spopt p-center / p-median: n x m assignment variables through PuLP; on M (300k) CBC ran far
# past its 60 s limit (still in the root LP after 8 min under load), so they run on S only
PEER_MAX_ASSIGN = 400 * 80
REAL = {
    "Helsinki": (ROOT / "data" / "sample" / "helsinki.osm.pbf", "community_health_station"),
    "Chengdu": (ROOT.parent / "shared" / "data" / "osm" / "chengdu_center.osm", "kindergarten"),
}


def instance(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """Costs, weights, and the LSCP radius: 600 m, or the smallest multiple of 50 m that
    every client reaches a site within (so that the LSCP is feasible)."""
    rng = np.random.default_rng(seed)
    c, s = rng.uniform(0, 5000, (n, 2)), rng.uniform(0, 5000, (m, 2))
    cost = np.hypot(*(c[:, None, :] - s[None, :, :]).transpose(2, 0, 1))
    radius = max(600.0, float(np.ceil(cost.min(axis=1).max() / 50) * 50))
    return cost, rng.integers(1, 50, n).astype(float), radius


def peer_solvers(limit: float) -> dict[str, Any]:
    import pulp

    out = {"cbc": lambda: pulp.PULP_CBC_CMD(msg=False, timeLimit=limit)}
    if "HiGHS" in pulp.listSolvers(onlyAvailable=True):
        out["pulp-highs"] = lambda: pulp.HiGHS(msg=False, timeLimit=limit)
    return out


def spopt_run(model: str, cost: np.ndarray, w: np.ndarray, solver: Any,
              fixed: np.ndarray | None = None, radius: float = 600.0,
              p: int = 10) -> tuple[float, str]:  # fmt: skip
    """(objective, status) of spopt on the instance."""
    import pulp
    from spopt import locate

    extra = 0 if fixed is None else int(fixed.sum())
    if model == "LSCP":
        m = locate.LSCP.from_cost_matrix(cost, service_radius=radius,
                                         predefined_facilities_arr=fixed)  # fmt: skip
    elif model == "MCLP":
        m = locate.MCLP.from_cost_matrix(cost, w, service_radius=radius, p_facilities=p + extra,
                                         predefined_facilities_arr=fixed)  # fmt: skip
    elif model == "PCenter":
        m = locate.PCenter.from_cost_matrix(cost, p_facilities=10)
    else:
        m = locate.PMedian.from_cost_matrix(cost, w, p_facilities=10)
    m = m.solve(solver())
    # PuLP's status says "Optimal" for a CBC run stopped at its time limit with an incumbent;
    # sol_status tells them apart (1: optimal solution found, 2: a solution found)
    sol = getattr(m.problem, "sol_status", 1)
    status = pulp.LpStatus[m.problem.status]
    if status == "Optimal" and sol != 1:
        status = "stopped, not proven"
    return float(pulp.value(m.problem.objective)), status


P_MCLP, P_REAL = 10, 2


def ours(model: str, cost: np.ndarray, w: np.ndarray, solver: str, *, radius: float,
         p_mclp: int = P_MCLP, time_limit: float | None = None) -> Any:  # fmt: skip
    limit = {"time_limit": time_limit} if solver == "highs" else {}
    with warnings.catch_warnings():  # a time limit is reported in the status column
        warnings.simplefilter("ignore", SolverTimeLimitWarning)
        if model == "LSCP":
            return LSCP.from_cost_matrix(cost, radius=radius).solve(solver, **limit)
        if model == "MCLP":
            return MCLP.from_cost_matrix(cost, radius=400.0, p=p_mclp, weights=w).solve(
                solver, **limit
            )
        if model == "PCenter":
            return PCenter.from_cost_matrix(cost, p=10).solve(solver, **limit)
        return PMedian.from_cost_matrix(cost, p=10, weights=w).solve(solver, **limit)


def bench_random(sizes: list[str], models: list[str], repeat: int, limit: float,
                 *, mclp_p: tuple[int, ...] = (P_MCLP,), time_limit: float | None = None,
                 peers_on: bool = True) -> list[dict]:  # fmt: skip
    rows = []
    peers = peer_solvers(limit) if peers_on else {}
    runs = [(mod, k) for mod in models for k in (mclp_p if mod == "MCLP" else (P_MCLP,))]
    for size in sizes:
        n, m = SIZES[size]
        cost, w, radius = instance(n, m)
        for model, p_mclp in runs:
            if model == "PMedian" and n * m > PEER_MAX_ASSIGN:
                continue  # the stand-in p-median core is the assignment formulation too
            run = functools.partial(ours, model, cost, w, radius=radius, p_mclp=p_mclp,
                                    time_limit=time_limit)  # fmt: skip
            t_ex, res = timed(functools.partial(run, "highs"), repeat)
            t_he, heur = timed(functools.partial(run, "heuristic"), repeat)
            label = {"LSCP": f" r={radius:.0f}", "MCLP": f" p={p_mclp}"}.get(model, "")
            row: dict[str, Any] = {
                "model": model + label,
                "size": f"{size} {n}x{m}", "embedsite_s": t_ex,
                "status": res.status, "objective": float(res.objective),
                "bound": float(res.bound),
                "heuristic_s": t_he, "heur_obj_ratio": float(heur.objective / res.objective)
                if res.objective else 1.0,
            }  # fmt: skip
            for pname, solver in peers.items():
                if model in ("PCenter", "PMedian") and n * m > PEER_MAX_ASSIGN:
                    row[f"{pname}_s"], row[f"{pname}_ratio"] = "-", "-"
                    row[f"{pname}_speedup"] = "-"
                    continue
                t0 = time.perf_counter()
                try:
                    r = radius if model == "LSCP" else 400.0
                    obj, status = spopt_run(model, cost, w, solver, radius=r, p=p_mclp)
                except RuntimeError:  # spopt raises when the solver returns no solution
                    t = time.perf_counter() - t0
                    row[f"{pname}_s"], row[f"{pname}_speedup"] = t, f"{t / t_ex:,.1f}x"
                    row[f"{pname}_ratio"] = f"no solution in {limit:g} s"
                    continue
                t = time.perf_counter() - t0
                row[f"{pname}_s"] = t
                row[f"{pname}_speedup"] = f"{t / t_ex:,.1f}x"
                row[f"{pname}_ratio"] = (
                    (f"{obj / res.objective:.4f}" + ("" if status == "Optimal" else f" ({status})"))
                    if res.objective
                    else "-"
                )
            rows.append(row)
            print(f"  {model} {size}: {row}", file=sys.stderr)
    return rows


def bench_real(repeat: int, limit: float) -> list[dict]:
    rows = []
    peers = peer_solvers(limit)
    for city, (path, ftype) in REAL.items():
        if not path.exists():
            print(f"  {path} is missing: {city} skipped", file=sys.stderr)
            continue
        net = en.from_osm_file(path)
        homes = ed.from_osm_file(path, net, on_far="drop")
        supply = ef.from_osm_file(path, net)
        cov = coverage.compute(net, homes, supply, types=[ftype])
        import geopandas as gpd

        nodes = net.nodes.iloc[::3]
        pts = gpd.GeoDataFrame(geometry=nodes.geometry.to_numpy(), crs=net.crs,
                               index=[f"node:{i}" for i in range(len(nodes))])  # fmt: skip
        cand = net.snap(pts).assign(cost=np.nan, allowed_types="")
        builds = {
            "LSCP": functools.partial(LSCP.from_coverage, cov, cand, ftype, uncoverable="skip"),
            "MCLP": functools.partial(MCLP.from_coverage, cov, cand, ftype, p=P_REAL),
        }
        for name, build in builds.items():
            t_build, model = timed(build, repeat)
            t_solve, res = timed(model.solve, repeat)
            prob = model.problem
            gain = res.coverage_gain.iloc[0]
            row: dict[str, Any] = {
                "city": city, "type": ftype, "model": name,
                "clients x sites": f"{prob.n_clients}x{prob.n_sites}",
                "fixed": int(prob.fixed.sum()),
                "build_s": t_build, "solve_s": t_solve, "new_sites": len(res.selected),
                "share_before": float(gain["share_before"]),
                "share_after": float(gain["share_after"]), "status": res.status,
                "uncoverable": len(res.stats.get("uncoverable", [])),
            }  # fmt: skip
            dense = prob.dense_cost(1e7)
            if name == "LSCP":  # spopt has no "skip": give it only the coverable residents
                dense = dense[(dense <= prob.radius).any(axis=1)]
            for pname, solver in peers.items():
                t0 = time.perf_counter()
                try:
                    obj, status = spopt_run(name, dense, prob.weights, solver, fixed=prob.fixed,
                                            radius=float(prob.radius), p=P_REAL)  # fmt: skip
                except Exception as exc:  # report the peer's failure, keep benchmarking
                    row[f"{pname}_s"], row[f"{pname}_check"] = "-", type(exc).__name__
                    continue
                t = time.perf_counter() - t0
                row[f"{pname}_s"] = t
                if name == "LSCP":  # spopt counts the fixed sites in its objective
                    same = obj - prob.fixed.sum() == res.objective
                else:  # spopt: total covered weight; embedsite: newly covered
                    same = abs(obj - gain["covered_after"]) < 1e-6 * max(1, obj)
                row[f"{pname}_check"] = ("same" if same else f"differs ({obj:.6g})") + (
                    "" if status == "Optimal" else f" {status}")  # fmt: skip
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="embedsite runs per timing")
    parser.add_argument("--quick", action="store_true", help="size S and the sample only")
    parser.add_argument("--peer-time-limit", type=float, default=120.0,
                        help="seconds given to each spopt solve")  # fmt: skip
    parser.add_argument("--models", default="LSCP,MCLP,PCenter,PMedian")
    parser.add_argument("--sizes", default="S,M,L", help="random instance sizes to run")
    parser.add_argument("--mclp-p", default=str(P_MCLP),
                        help="comma-separated site counts of the random MCLP runs")  # fmt: skip
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds for embedsite's HiGHS solves (default: none)")  # fmt: skip
    parser.add_argument("--no-peers", action="store_true", help="embedsite only (no spopt)")
    parser.add_argument("--no-real", action="store_true", help="skip the real gap problems")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # PuLP 3.3 -> 4.0 notices
    warnings.filterwarnings("ignore", category=FutureWarning)
    import pulp
    import spopt

    print(machine())
    print(f"spopt {spopt.__version__}, pulp {pulp.__version__}; peers: "
          f"{', '.join(peer_solvers(1.0))}")  # fmt: skip
    sizes = ["S"] if args.quick else [x for x in args.sizes.split(",") if x]
    models = args.models.split(",")
    show("Random instances (spopt objective / embedsite objective as *_ratio)",
         bench_random(sizes, models, args.repeat, args.peer_time_limit,
                      mclp_p=tuple(int(k) for k in args.mclp_p.split(",")),
                      time_limit=args.time_limit, peers_on=not args.no_peers))  # fmt: skip
    if not args.no_real:
        show("Real gap problems (from_coverage; spopt on the same matrix)",
             bench_real(args.repeat, args.peer_time_limit))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

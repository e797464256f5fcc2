"""Benchmark the scoring stage: a whole country-sized run on Andorra (the largest extract).

Stages timed once each (network, residents, facilities, coverage of every type), then the
scoring itself, median of ``--repeat`` runs:

* ``scoring.score(None, cov)``: every resident point assigned to a 500 m hexagon in one
  STRtree query, every metric of every type by ``np.bincount`` and one sort for the 90th
  percentiles;
* ``Coverage.by_neighbourhood(grid)``: the same statistics as a long table (it shares the
  vectorised aggregation since commit "Coverage: one vectorised aggregation ...");
* the peer recipe a user would write with geopandas and pandas: ``sjoin`` of the resident
  points to the hexagons, then per type a ``groupby(...).apply`` computing served, covered,
  the weighted mean and the weighted 90th percentile per hexagon; checked to give the same
  served / covered totals and the same percentiles;
* ``scoring.score(None, cov, plan=...)`` with a 20-site plan (coverage recomputed).

Peak memory is the process's peak resident set size (``ru_maxrss``) after each step, so it
includes the network and the coverage. Figures go to the "Scoring" section of
docs/benchmarks.md.

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_scoring.py [--repeat 3] [--hex 500] [--partitions 4]

``--partitions N`` also runs the whole pipeline on N strips of Andorra through
``batch.score_partitions``, sequentially and on 2 processes.

A plain script, never collected by pytest.
"""

from __future__ import annotations

import argparse
import logging
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

import embedsite.demand as ed
import embedsite.facilities as ef
import embedsite.network as en
from embedsite import coverage, scoring

ROOT = Path(__file__).resolve().parents[1]
ANDORRA = ROOT.parent / "shared" / "data" / "osm" / "andorra.osm.pbf"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = func()
    return out, time.perf_counter() - t


def median_time(func: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    times, out = [], None
    for _ in range(repeat):
        out, dt = timed(func)
        times.append(dt)
    return out, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hex", type=float, default=500.0, help="hexagon side, metres")
    parser.add_argument("--plan-sites", type=int, default=20)
    parser.add_argument("--partitions", type=int, default=0, help="also time a batch run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows: list[tuple[str, float, float]] = []

    net, t = timed(lambda: en.from_osm_file(ANDORRA))
    rows.append((f"network ({len(net.nodes):,} nodes, {len(net.edges):,} edges)", t, peak_mb()))
    homes, t = timed(lambda: ed.from_osm_file(ANDORRA, net, on_far="drop"))
    rows.append((f"residents ({len(homes):,} points, {homes.total:,.0f} people)", t, peak_mb()))
    supply, t = timed(lambda: ef.from_osm_file(ANDORRA, net))
    rows.append((f"facilities ({len(supply):,})", t, peak_mb()))
    cov, t = timed(lambda: coverage.compute(net, homes, supply))
    rows.append((f"coverage ({len(cov.types)} types)", t, peak_mb()))

    grid = scoring.hex_grid(homes.points, size_m=args.hex, only_occupied=True)
    table, t_score = median_time(lambda: scoring.score(grid, cov), args.repeat)
    rows.append((f"score: {len(grid):,} hexagons x {len(cov.types)} types", t_score, peak_mb()))
    long, t_long = median_time(lambda: cov.by_neighbourhood(grid), args.repeat)
    rows.append(("Coverage.by_neighbourhood (long table)", t_long, peak_mb()))
    ref, t_peer = median_time(lambda: pandas_recipe(cov, grid), max(1, min(args.repeat, 3)))
    rows.append(("peer: geopandas sjoin + pandas groupby.apply per type", t_peer, peak_mb()))
    summed = long.groupby(level="facility_type")[["served", "covered"]].sum()
    for key in cov.types:
        assert np.isclose(table[f"{key}.served"].sum(), summed.loc[key, "served"])
        assert np.isclose(table[f"{key}.covered"].sum(), summed.loc[key, "covered"])
        assert np.isclose(table[f"{key}.served"].sum(), ref[key]["served"].sum())
        assert np.isclose(table[f"{key}.covered"].sum(), ref[key]["covered"].sum())
        p90 = table[f"{key}.p90_walk_m"].reindex(ref[key].index).to_numpy(float)
        want = ref[key]["p90"].to_numpy(float)
        assert np.array_equal(p90, want, equal_nan=True), key

    gaps = cov.gaps("nursery").nlargest(args.plan_sites, "served")
    plan = gpd.GeoDataFrame(geometry=gaps.geometry.to_numpy(), crs=net.crs)
    plan["facility_type"], plan["floor_area_m2"] = "nursery", 300.0
    after, t_plan = median_time(lambda: scoring.score(grid, cov, plan=plan), args.repeat)
    rows.append((f"score with a {len(plan)}-site plan (coverage recomputed)", t_plan, peak_mb()))
    gain = after["nursery.covered_after"].sum() - after["nursery.covered"].sum()

    print(f"\nAndorra, {platform.python_version()}, {platform.machine()}, "
          f"hexagon side {args.hex:g} m, median of {args.repeat} for the scoring rows")  # fmt: skip
    print(f"{'step':<64} {'time s':>8} {'peak RSS MB':>12}")
    for name, secs, mem in rows:
        print(f"{name:<64} {secs:>8.3f} {mem:>12.0f}")
    print(f"\nscore vs peer: {t_peer / t_score:.1f}x faster; totals and p90 agree for every type")
    print(f"plan: {gain:,.0f} more residents aged 0-3 within 300 m of a nursery")
    if args.partitions:
        batch_runs(args.partitions)


def pandas_recipe(cov: coverage.Coverage, grid: gpd.GeoDataFrame) -> dict[str, Any]:
    """What an analyst writes with geopandas and pandas: sjoin, then groupby.apply per type."""
    import pandas as pd

    pts = cov.demand.points
    cells = gpd.GeoDataFrame({"pos": np.arange(len(grid))}, geometry=grid.geometry.to_numpy(),
                             crs=grid.crs)  # fmt: skip
    joined = gpd.sjoin(pts[["geometry"]], cells, how="inner", predicate="intersects")
    joined = joined.sort_values("pos", kind="stable")  # a point on a shared edge: first cell
    joined = joined[~joined.index.duplicated(keep="first")]
    joined["index_right"] = grid.index.to_numpy()[joined["pos"].to_numpy()]
    out = {}
    for key in cov.types:
        frame = pd.DataFrame({
            "cell": joined["index_right"].to_numpy(),
            "served": cov.served(key).reindex(joined.index).to_numpy(float),
            "dist": cov.distance[key].reindex(joined.index).to_numpy(float),
            "covered": cov.covered[key].reindex(joined.index).to_numpy(bool),
        })  # fmt: skip

        def stats(g: pd.DataFrame) -> pd.Series:
            ok = np.isfinite(g["dist"]) & (g["served"] > 0)
            return pd.Series({
                "served": g["served"].sum(),
                "covered": g.loc[g["covered"], "served"].sum(),
                "mean": np.average(g.loc[ok, "dist"], weights=g.loc[ok, "served"])
                if ok.any() else np.nan,
                "p90": coverage.weighted_quantile(
                    g["dist"].to_numpy(), g["served"].to_numpy(), 0.9),
            })  # fmt: skip

        out[key] = frame.groupby("cell")[["served", "dist", "covered"]].apply(stats)
    return out


def batch_runs(n: int) -> None:
    """The whole pipeline on ``n`` vertical strips of Andorra: one process, then 2."""
    import shapely

    from embedsite import batch

    net = en.from_osm_file(ANDORRA)
    w, s, e, nn = net.nodes.to_crs(4326).total_bounds
    xs = np.linspace(w, e, n + 1)
    parts = [batch.Partition(f"strip{i}", ANDORRA, area=shapely.box(xs[i], s, xs[i + 1], nn))
             for i in range(n)]  # fmt: skip
    seq, t_seq = timed(lambda: batch.score_partitions(parts, backend="sequential"))
    par, t_par = timed(lambda: batch.score_partitions(parts, backend="processes", max_workers=2))
    assert seq.drop(columns="geometry").equals(par.drop(columns="geometry"))
    print(f"\nbatch, {n} strips (whole pipeline per strip, {len(seq)} hexagons):")
    print(f"sequential {t_seq:.1f} s, 2 processes {t_par:.1f} s ({t_seq / t_par:.2f}x)")


if __name__ == "__main__":
    main()

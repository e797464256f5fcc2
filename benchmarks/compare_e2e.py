"""End to end, interleaved: embedsite vs pandana vs the networkx analyst recipe.

On a loaded shared machine, timings taken minutes apart are not comparable; here each
round runs the three one after the other, and the medians of the rounds are compared.

* embedsite: ``embedsite_e2e`` of bench_coverage.py (snap 500 facilities and the
  residents from raw points, then 10 passes of the engine);
* pandana: ``Network`` + ``precompute`` + ``get_node_ids`` + per type ``set_pois`` and
  ``nearest_pois`` (``pandana_run``);
* (a'): the networkx analyst recipe (``nx_single_analyst``), on a graph built beforehand.

Run from the repository root::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/compare_e2e.py [--rounds 5] [--no-nx]

A plain script, never collected by pytest.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import logging
import statistics
import time
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

import embedsite.network as en
from bench_coverage import (
    N_RES,
    RES_MAX_M,
    embedsite_e2e,
    facilities,
    nx_single_analyst,
    pandana_run,
    random_snapped,
)
from bench_network import FILES, machine, show


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def one(name: str, rounds: int, with_nx: bool) -> dict[str, Any]:
    net = en.from_osm_file(FILES[name])
    _, fac_xy = facilities(net)
    pts, res = random_snapped(net, N_RES, RES_MAX_M, seed=2)
    res_xy = shapely.get_coordinates(pts.loc[res.index].to_numpy())
    fac_pts = gpd.GeoSeries(shapely.points(fac_xy), crs=net.crs)
    res_pts = pts.loc[res.index].reset_index(drop=True)
    nodes = net.nodes[["x", "y"]].reset_index(drop=True)
    u, v = net.edge_nodes
    edges = pd.DataFrame({"u": u, "v": v, "length": net.edge_lengths})
    G = net.to_networkx() if with_nx else None
    t_es, t_pd, t_nx = [], [], []
    for _ in range(rounds):
        t_es.append(_timed(lambda: embedsite_e2e(net, fac_pts, res_pts)))
        t_pd.append(_timed(lambda: pandana_run(nodes, edges, fac_xy, res_xy)))
        if G is not None:
            t_nx.append(_timed(lambda: nx_single_analyst(G, fac_xy, res_xy)))
    es, pdn = statistics.median(t_es), statistics.median(t_pd)
    row: dict[str, Any] = {"network": name, "residents": len(res), "embedsite_e2e_s": es,
                           "pandana_e2e_s": pdn, "pandana/embedsite": pdn / es}  # fmt: skip
    if t_nx:
        nx_s = statistics.median(t_nx)
        row |= {"nx_analyst_e2e_s (a')": nx_s, "a'/embedsite": nx_s / es}
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-nx", action="store_true", help="leave out the networkx recipe")
    args = parser.parse_args()
    logging.getLogger("embedsite").setLevel(logging.ERROR)
    print(machine())
    rows = [one(name, args.rounds, not args.no_nx) for name in ("Nanjing", "Chengdu", "Andorra")]
    show(f"End to end, interleaved, medians of {args.rounds} rounds, seconds", rows)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

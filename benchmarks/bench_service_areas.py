"""Benchmark service areas: exact walking isochrones of 50 facilities, radius 500 m.

Compares ``embedsite._service_areas.service_areas`` (polygons: reached street space cut at
the exact walk distance from each snap position, buffered by 25 m) with the isochrone recipe
of the osmnx-examples notebooks (``make_iso_polys``), in one process: per facility the
nearest node, ``nx.ego_graph(G, node, radius=500, distance="length")``, then the subgraph's
edge geometries buffered by 25 m (node buffer 0) and unioned. ``G = net.to_networkx()``, so
both work on the same streets.

The two do not compute the same thing: the recipe starts from the nearest node and keeps
whole edges whose *start* is reached, while embedsite starts from the snap position and cuts
edges where the radius ends. The first isochrone's reached street length of each is printed
to show the difference. ``kind="lines"`` (the exact reached streets, before buffering) is
timed too: the GEOS union of the 25 m buffers, which both methods do, dominates the polygons.
``method="grid"`` (the same polygons traced as a level set of the distance to the reached
lines on a 5 m lattice, :mod:`embedsite._service_grid`) is timed warm, with its largest
symmetric difference to the exact polygons (relative to the area) and its largest boundary
offset (distance from a boundary vertex to the reached lines, minus the 25 m buffer).
Polygons are timed cold (the network's memoised tile unions dropped before every run, so
their one-off construction is included) and warm (memoised, as for every later call on the
same network and buffer).

Run from the repository root::

    python benchmarks/bench_service_areas.py [--repeat N] [--n 50] [--radius 500]

A plain script, never collected by pytest.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, Point

import embedsite.network as en
from embedsite._service_areas import service_areas

ROOT = Path(__file__).resolve().parents[1]
FILES = {
    "Helsinki": ROOT / "data" / "sample" / "helsinki.osm.pbf",
    "Nanjing": ROOT.parent / "shared" / "data" / "osm" / "nanjing_xinjiekou.osm",
}
EDGE_BUFF = 25.0
NODE_BUFF = 0.0


def facilities(net: en.PedestrianNetwork, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` seeded random points in the network's bounds, snapped."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = net.nodes.total_bounds
    pts = gpd.GeoDataFrame(
        geometry=shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)),
        crs=net.crs,
    )
    return net.snap(pts, max_distance=100_000)


def make_iso_polys(G: nx.MultiGraph, center_node: Any, radius: float) -> Any:
    """The osmnx-examples recipe (13-isolines-isochrones), by walk length instead of time."""
    subgraph = nx.ego_graph(G, center_node, radius=radius, distance="length")
    node_points = [Point((data["x"], data["y"])) for node, data in subgraph.nodes(data=True)]
    nodes_gdf = gpd.GeoDataFrame({"id": list(subgraph.nodes)}, geometry=node_points)
    nodes_gdf = nodes_gdf.set_index("id")
    edge_lines = []
    for n_fr, n_to in subgraph.edges():
        f = nodes_gdf.loc[n_fr].geometry
        t = nodes_gdf.loc[n_to].geometry
        edge_lookup = G.get_edge_data(n_fr, n_to)[0].get("geometry", LineString([f, t]))
        edge_lines.append(edge_lookup)
    n = nodes_gdf.buffer(NODE_BUFF).geometry
    e = gpd.GeoSeries(edge_lines).buffer(EDGE_BUFF).geometry
    all_gs = list(n) + list(e)
    return gpd.GeoSeries(all_gs).union_all(), subgraph


def ego_recipe(
    G: nx.MultiGraph, net: en.PedestrianNetwork, fac: gpd.GeoDataFrame, radius: float
) -> tuple[list[Any], float]:
    """Isochrones of every facility by the recipe; the first one's reached street length."""
    nodes = net.nodes
    xy = nodes[["x", "y"]].to_numpy()
    polys, first_len = [], 0.0
    for i, pt in enumerate(fac.geometry):  # nearest node, as osmnx.distance.nearest_nodes
        node = nodes.index[int(np.argmin(np.hypot(*(xy - [pt.x, pt.y]).T)))]
        poly, sub = make_iso_polys(G, node, radius)
        polys.append(poly)
        if i == 0:
            first_len = sum(d["length"] for _, _, d in sub.edges(data=True))
    return polys, first_len


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of embedsite (median)")
    parser.add_argument("--repeat-peer", type=int, default=3, help="runs of the recipe")
    parser.add_argument("--n", type=int, default=50, help="facilities")
    parser.add_argument("--radius", type=float, default=500.0, help="walk radius, metres")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor()}")
    print(f"{args.n} facilities, radius {args.radius:g} m, buffer {EDGE_BUFF:g} m\n")
    rows, grid_rows = [], []
    for name, path in FILES.items():
        if not path.exists():
            print(f"{name}: {path} missing, skipped")
            continue
        net = en.from_osm_file(path)
        fac = facilities(net, args.n)
        G = net.to_networkx()
        service_areas(net, fac.iloc[:2], args.radius)  # warm imports

        def cold() -> Any:
            net._derived.clear()  # noqa: B023  (drop the memoised tile unions)
            return service_areas(net, fac, args.radius)  # noqa: B023

        t_cold, _ = timed(cold, args.repeat)
        t_es, areas = timed(lambda: service_areas(net, fac, args.radius), args.repeat)  # noqa: B023
        t_grid, grid = timed(
            lambda: service_areas(net, fac, args.radius, method="grid"),  # noqa: B023
            args.repeat,
        )
        ex, gr = areas.geometry.to_numpy(), grid.geometry.to_numpy()
        has = shapely.area(ex) > 0
        sym = float(
            (shapely.area(shapely.symmetric_difference(ex, gr))[has] / shapely.area(ex)[has]).max()
        )
        t_lines, lines = timed(
            lambda: service_areas(net, fac, args.radius, kind="lines"),  # noqa: B023
            args.repeat,
        )
        t_ego, (_, ego_len) = timed(
            lambda: ego_recipe(G, net, fac, args.radius),  # noqa: B023
            args.repeat_peer,
        )
        first = areas["street_length_m"].iloc[0]
        dev = max(_boundary_offset(g, ln) for g, ln in zip(gr, lines.geometry, strict=True))
        rows.append((name, len(net.edges), t_cold, t_es, t_lines, t_ego, first, ego_len))
        grid_rows.append((name, t_grid, t_ego, sym, dev))
    print(
        f"{'network':<10}{'edges':>7}{'poly cold s':>12}{'poly s':>9}{'lines s':>9}"
        f"{'ego recipe s':>14}{'ratio cold':>11}{'ratio poly':>11}{'ratio lines':>12}"
        f"{'exact 1st m':>13}{'ego 1st m':>11}"
    )
    for name, m, t_cold, t_es, t_lines, t_ego, es_len, ego_len in rows:
        print(
            f"{name:<10}{m:>7,}{t_cold:>12.4f}{t_es:>9.4f}{t_lines:>9.4f}{t_ego:>14.3f}"
            f"{t_ego / t_cold:>10.1f}x{t_ego / t_es:>10.1f}x{t_ego / t_lines:>11.1f}x"
            f"{es_len:>13,.0f}{ego_len:>11,.0f}"
        )
    h = EDGE_BUFF / 5
    print(f"\nmethod='grid' (lattice {h:g} m; warm): the same polygons traced on a lattice")
    print(f"{'network':<10}{'grid s':>9}{'ratio grid':>11}{'max symdiff / area':>20}"
          f"{'max |d(boundary, lines) - buffer| m':>37}")  # fmt: skip
    for name, t_grid, t_ego, sym, dev in grid_rows:
        print(f"{name:<10}{t_grid:>9.4f}{t_ego / t_grid:>10.1f}x{sym:>20.5f}{dev:>37.2f}")


def _boundary_offset(poly: Any, lines: Any) -> float:
    """Largest gap between ``buffer_m`` and the distance from a boundary vertex of ``poly``
    to the reached ``lines`` (0 for an exact buffer)."""
    pts = shapely.points(shapely.get_coordinates(shapely.boundary(poly)))
    if len(pts) == 0:
        return 0.0
    return float(np.abs(shapely.distance(lines, pts) - EDGE_BUFF).max())


if __name__ == "__main__":
    main()

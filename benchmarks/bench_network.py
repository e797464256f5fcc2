"""Benchmark stage 1: build a walk network from OSM, and snap points onto it.

Compares embedsite with osmnx, the tool a user would pick instead, in one process:

1. build: ``embedsite.network.from_osm_file(path)`` (read, filter, simplify, project,
   largest component) vs ``osmnx.graph_from_xml`` + ``project_graph`` + ``to_undirected``
   on an OSM XML pre-filtered to the ways embedsite's WalkFilter accepts (graph_from_xml has
   no filter of its own). Writing that XML is timed once and reported, not counted.
2. snap: 100,000 seeded random points in the network's bounds, ``net.snap`` vs
   ``osmnx.distance.nearest_edges`` on the projected undirected osmnx graph.

Run from the repository root::

    python benchmarks/bench_network.py [--repeat N] [--quick]

A plain script, never collected by pytest.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import pandas as pd
import shapely

import embedsite.network as en

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "osm"
FILES = {
    "Nanjing": SHARED / "nanjing_xinjiekou.osm",
    "Chengdu": SHARED / "chengdu_center.osm",
    "Andorra": SHARED / "andorra.osm.pbf",
    "Helsinki": ROOT / "data" / "sample" / "helsinki.osm.pbf",
}
QUICK = ("Nanjing", "Helsinki")
SNAP_ON = ("Andorra", "Chengdu")
N_POINTS = 100_000
#: Large enough that every point in the bounds snaps: the same result as nearest_edges.
SNAP_MAX_M = 100_000.0
AGREE_SAMPLE = 5_000
#: The tags WalkFilter looks at.
FILTER_KEYS = ("highway", "foot", "access", "service", "area", "sidewalk")
FILTER_KEYS += ("sidewalk:both", "sidewalk:left", "sidewalk:right")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time in seconds over ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def machine() -> str:
    cpu = platform.processor() or "?"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    pkgs = ("embedsite", "osmnx", "networkx", "shapely", "osmium", "geopandas", "numpy")
    versions = ", ".join(f"{p} {version(p)}" for p in pkgs)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    git = ["git", "-C", str(ROOT)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True)
        dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--", "src"]).returncode
        commit = head.stdout.decode().strip() + (" + uncommitted src changes" if dirty else "")
    except OSError:
        commit = "unknown"
    return (
        f"CPU: {cpu}, {os.cpu_count()} cores (load average {load})\n"
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}\n"
        f"{versions}; embedsite commit {commit}"
    )


def _runs(way: osmium.osm.Way) -> list[list[int]]:
    """Node refs of a way split into runs of nodes present in the file (>= 2 nodes each)."""
    runs: list[list[int]] = [[]]
    for n in way.nodes:
        if n.location.valid():
            runs[-1].append(n.ref)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if len(r) > 1]


def write_walk_xml(src: Path, dst: Path) -> tuple[int, int]:
    """Write to ``dst`` (OSM XML) the ways of ``src`` that WalkFilter accepts, with their
    nodes. A way cut at the extract's edge is split at its missing nodes (as embedsite does;
    osmnx refuses edges to absent nodes); extra pieces get negative ids.
    Returns (ways kept, pieces written)."""
    ids, records = [], []
    for way in osmium.FileProcessor(str(src), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        ids.append(way.id)
        records.append({k: way.tags.get(k) for k in FILTER_KEYS})
    mask = en.WalkFilter().mask(pd.DataFrame.from_records(records, columns=list(FILTER_KEYS)))
    keep = set(np.asarray(ids)[mask].tolist())
    pieces = 0
    ways = osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    ways = ways.with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
    with osmium.BackReferenceWriter(str(dst), ref_src=str(src), overwrite=True) as writer:
        for way in ways:
            if way.id not in keep:
                continue
            for i, refs in enumerate(_runs(way)):
                pieces += 1
                writer.add_way(way.replace(id=way.id if i == 0 else -pieces, nodes=refs))
    return len(keep), pieces


def osmnx_build(xml: Path) -> nx.MultiGraph:
    G = ox.graph_from_xml(xml, bidirectional=True, simplify=True, retain_all=False)
    return ox.convert.to_undirected(ox.project_graph(G))


def graph_length_km(G: nx.MultiGraph) -> float:
    return sum(d["length"] for _, _, d in G.edges(data=True)) / 1000


def great_circle_km(net: en.PedestrianNetwork) -> float:
    """embedsite's edges re-measured as osmnx does (great circle, not WGS-84 geodesic)."""
    coords, idx = shapely.get_coordinates(
        net.edges.to_crs(4326).geometry.to_numpy(), return_index=True
    )
    lat, lon = coords[:, 1], coords[:, 0]
    seg = ox.distance.great_circle(lat[:-1], lon[:-1], lat[1:], lon[1:])
    return float(seg[idx[1:] == idx[:-1]].sum()) / 1000


def bench_build(
    name: str, path: Path, tmp: Path, repeat: int, peer_repeat: int
) -> tuple[dict[str, Any], en.PedestrianNetwork, nx.MultiGraph]:
    xml = tmp / f"{name}_walk.osm"
    t0 = time.perf_counter()
    n_ways, n_pieces = write_walk_xml(path, xml)
    t_convert = time.perf_counter() - t0
    t_es, net = timed(lambda: en.from_osm_file(path), repeat)
    t_ox, G = timed(lambda: osmnx_build(xml), peer_repeat)
    km_es = float(net.edge_lengths.sum()) / 1000
    km_ox = graph_length_km(G)
    u, v = net.edge_nodes
    degree = np.bincount(np.concatenate([u, v]), minlength=len(net.nodes))
    row = {
        "network": name,
        "embedsite_s": t_es,
        "osmnx_s": t_ox,
        "speedup": t_ox / t_es,
        "xml_prep_s": t_convert,
        "osmnx+prep_s": t_ox + t_convert,
        "ways": n_ways,
        "pieces": n_pieces,
        "nodes_es": len(net.nodes),
        "nodes_ox": G.number_of_nodes(),
        "deg2_es": int((degree == 2).sum()),
        "edges_es": len(net.edges),
        "edges_ox": G.number_of_edges(),
        "loops_es": int((u == v).sum()),
        "loops_ox": nx.number_of_selfloops(G),
        "km_es": km_es,
        "km_ox": km_ox,
        "dlen_pct": 100 * (km_es - km_ox) / km_ox,
        "dlen_gc_pct": 100 * (great_circle_km(net) - km_ox) / km_ox,
    }
    return row, net, G


def bench_snap(
    name: str, net: en.PedestrianNetwork, G: nx.MultiGraph, repeat: int, seed: int = 0
) -> dict[str, Any]:
    minx, miny, maxx, maxy = net.nodes.total_bounds
    rng = np.random.default_rng(seed)
    x = rng.uniform(minx, maxx, N_POINTS)
    y = rng.uniform(miny, maxy, N_POINTS)
    pts = gpd.GeoSeries(shapely.points(x, y), crs=net.crs)

    def first_call() -> gpd.GeoDataFrame:
        # a shallow copy of a network never snapped: its STRtree is built in the call
        return copy.copy(net).snap(pts, max_distance=SNAP_MAX_M)

    t_first, _ = timed(first_call, repeat)
    net.snap(pts.iloc[:1], max_distance=SNAP_MAX_M)  # builds and keeps the tree
    t_warm, snapped = timed(lambda: net.snap(pts, max_distance=SNAP_MAX_M), repeat)
    t_500, _ = timed(lambda: net.snap(pts, max_distance=500.0, on_far="drop"), repeat)
    t_ox, _ = timed(lambda: ox.distance.nearest_edges(G, x, y), repeat)
    sample = rng.choice(N_POINTS, AGREE_SAMPLE, replace=False)
    _, d_ox = ox.distance.nearest_edges(G, x[sample], y[sample], return_dist=True)
    d_es = snapped["access_m"].to_numpy()[sample]
    diff = np.abs(d_es - d_ox)
    return {
        "network": name,
        "points": N_POINTS,
        "embedsite_warm_s": t_warm,
        "embedsite_first_s": t_first,
        "osmnx_s": t_ox,
        "speedup_warm": t_ox / t_warm,
        "speedup_first": t_ox / t_first,
        "embedsite_500m_drop_s": t_500,
        "agree_1cm_pct": 100 * float((diff <= 0.01).mean()),
        "median_access_m": float(np.median(d_es)),
        "max_abs_diff_m": float(diff.max()),
    }


def show(title: str, rows: list[dict[str, Any]]) -> None:
    """Print rows as a Markdown table (floats to 3 significant places after the point)."""
    print(f"\n## {title}\n")
    if not rows:
        print("(nothing run)")
        return
    cols = list(rows[0])

    def fmt(v: Any) -> str:
        return f"{v:,.3f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else v

    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---:" for _ in cols) + "|")
    for r in rows:
        print("| " + " | ".join(fmt(r[c]) for c in cols) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing (median)")
    parser.add_argument("--peer-repeat", type=int, default=3, help="runs of the osmnx build")
    parser.add_argument("--quick", action="store_true", help="Nanjing and Helsinki only")
    args = parser.parse_args(argv)
    logging.getLogger("embedsite").setLevel(logging.ERROR)  # the 500 m snap drops many points
    repeat = max(1, args.repeat)
    peer_repeat = max(1, min(args.peer_repeat, repeat))
    names = QUICK if args.quick else tuple(FILES)

    print(f"# bench_network.py {' '.join(sys.argv[1:])}\n")
    print(machine())
    print(f"repeat={repeat} (osmnx build: {peer_repeat}), median wall time in seconds")
    build_rows, snap_rows = [], []
    with tempfile.TemporaryDirectory(prefix="bench_network_") as d:
        for name in names:
            path = FILES[name]
            if not path.exists():
                print(f"skipped {name}: {path} is absent")
                continue
            print(f"building {name} ...", flush=True)
            row, net, G = bench_build(name, path, Path(d), repeat, peer_repeat)
            build_rows.append(row)
            if name in SNAP_ON:
                print(f"snapping {N_POINTS:,} points on {name} ...", flush=True)
                snap_rows.append(bench_snap(name, net, G, repeat))
    timing = ("network", "embedsite_s", "osmnx_s", "speedup", "xml_prep_s", "osmnx+prep_s")
    show(
        "Network build, seconds (embedsite on the original file, osmnx on the filtered XML)",
        [{k: r[k] for k in timing} for r in build_rows],
    )
    show(
        "Network build, counts (undirected) and street length",
        [{k: v for k, v in r.items() if k == "network" or k not in timing} for r in build_rows],
    )
    show(f"Snapping {N_POINTS:,} points", snap_rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

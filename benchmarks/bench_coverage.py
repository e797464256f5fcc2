"""Benchmark stage 3: walk distance from every resident to the nearest facility of each type.

Compares embedsite's engine (``embedsite._paths.nearest_sources`` as ``coverage.compute``
calls it: one bounded multi-source search per type, then one pass over the residents for all
types, exact from snap positions, distances only) with what a user would do instead, in one
process. ``with_labels_s`` is the same call also finding which facility is nearest, as
``Coverage.nearest`` runs it on first use.

(a) networkx ``single_source_dijkstra_path_length`` with a cutoff from every facility's nearest
    node, then per resident the min over facilities from its nearest node (node to node);
(a') the same as an analyst writes it end to end (``nx_single_analyst``): osmnx nearest nodes
    of residents and facilities, one cutoff Dijkstra per facility, and per facility a pandas
    ``residents["node"].map(dist)`` keeping the minimum per type; against embedsite end to
    end from the raw points (``embedsite_e2e``: snap both, then the engine);
(b) networkx ``multi_source_dijkstra_path_length`` per type from the facilities' nearest nodes;
(d) pandana: ``Network`` + ``precompute`` + ``set_pois`` + ``nearest_pois`` + ``get_node_ids``.

10 types x 50 facilities (seeded random points within 100 m of a street: a stand-in supply),
100,000 seeded random residents (dropped beyond 500 m of a street), search limit 1500 m.
``--growth`` adds synthetic square grids (100 m blocks), each size in a fresh subprocess.

Run from the repository root::

    python benchmarks/bench_coverage.py [--repeat N] [--quick] [--growth]

A plain script, never collected by pytest.
"""

from __future__ import annotations

import os

# pandana's contraction-hierarchy build uses OpenMP: with 2 threads on this shared 2-core
# machine, every build after the first in a process took 1-2.5 s instead of 0.01-0.09 s.
# One thread is the fair setting for the peer (override by setting the variable yourself).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import gc
import json
import logging
import subprocess
import sys
import time
from importlib.metadata import version
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandana
import pandas as pd
import shapely
from pyproj import Transformer

import embedsite.network as en
from bench_network import FILES, machine, show, timed
from embedsite._paths import nearest_source, nearest_sources, prepare_targets

NAMES = ("Nanjing", "Chengdu", "Andorra")
QUICK = ("Nanjing",)
N_TYPES, N_FAC, N_RES = 10, 50, 100_000
LIMIT, RADIUS = 1500.0, 500.0
FAC_MAX_M, RES_MAX_M = 100.0, 500.0
GROWTH = (10_000, 100_000, 1_000_000)
PEER_GROWTH_MAX = 100_000  # (a') on grids up to this size (a 1M-node networkx graph: ~GBs)
BLOCK = 100.0


def random_snapped(net: en.PedestrianNetwork, n: int, max_m: float, seed: int):
    """``n`` seeded uniform points in the network's bounds, snapped (far ones dropped)."""
    minx, miny, maxx, maxy = net.nodes.total_bounds
    rng = np.random.default_rng(seed)
    pts = gpd.GeoSeries(
        shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)), crs=net.crs
    )
    return pts, net.snap(pts, max_distance=max_m, on_far="drop")


GROUPS = np.repeat(np.arange(N_TYPES), N_FAC)  # facility type of each facility row
LIMITS = np.full(N_TYPES, LIMIT)


def facilities(net: en.PedestrianNetwork, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """10 types x 50 snapped facilities (type ``GROUPS``, one table as ``Facilities.points``),
    and their original (x, y) for the node-based peers."""
    pts, snapped = random_snapped(net, 40 * N_TYPES * N_FAC, FAC_MAX_M, seed)
    snapped = snapped.iloc[: N_TYPES * N_FAC]
    assert len(snapped) == N_TYPES * N_FAC, "too few facility points near a street"
    xy = shapely.get_coordinates(pts.loc[snapped.index].to_numpy())
    return snapped, xy


def embedsite_run(csr, u, v, fac, res, labels: bool = False) -> np.ndarray:
    """As ``coverage.compute``: the residents' arrays prepared once, one call for all types,
    distances only (``Coverage.nearest`` runs it again with ``labels`` on first use)."""
    targets = prepare_targets(res, u, v)
    return nearest_sources(csr, u, v, fac, GROUPS, targets, limits=LIMITS, labels=labels).distance


def nx_single(G, node_ids, fac_xy, res_node) -> np.ndarray:
    """(a): one cutoff Dijkstra per facility, min per type, vectorised lookup per resident."""
    fac_node = ox.distance.nearest_nodes(G, fac_xy[:, 0], fac_xy[:, 1])
    out = np.full((len(res_node), N_TYPES), np.inf)
    for t in range(N_TYPES):
        parts = []
        for f in fac_node[t * N_FAC : (t + 1) * N_FAC]:
            d = nx.single_source_dijkstra_path_length(G, f, cutoff=LIMIT, weight="length")
            parts.append(pd.Series(d, dtype=float))
        best = pd.concat(parts).groupby(level=0).min()
        out[:, t] = best.reindex(node_ids).to_numpy(float, na_value=np.inf)[res_node]
    return out


def nx_single_analyst(G, fac_xy, res_xy) -> np.ndarray:
    """(a'): what an analyst writes, end to end: nearest nodes of residents and facilities
    (osmnx), one cutoff Dijkstra per facility, and per facility a pandas ``map`` of the
    residents' nodes onto its distances, keeping the minimum per type."""
    residents = pd.DataFrame({"node": ox.distance.nearest_nodes(G, res_xy[:, 0], res_xy[:, 1])})
    fac_node = ox.distance.nearest_nodes(G, fac_xy[:, 0], fac_xy[:, 1])
    for t in range(N_TYPES):
        best = pd.Series(np.inf, index=residents.index)
        for f in fac_node[t * N_FAC : (t + 1) * N_FAC]:
            d = nx.single_source_dijkstra_path_length(G, f, cutoff=LIMIT, weight="length")
            best = np.minimum(best, residents["node"].map(d).fillna(np.inf))
        residents[f"type_{t}"] = best
    return residents.drop(columns="node").to_numpy(float)


def embedsite_e2e(net, fac_pts, res_pts) -> np.ndarray:
    """embedsite end to end, from the raw points: snap facilities and residents, then the engine."""
    fac = net.snap(fac_pts, max_distance=FAC_MAX_M)
    res = net.snap(res_pts, max_distance=RES_MAX_M, on_far="drop")
    csr, (u, v) = net.csr, net.edge_nodes
    return embedsite_run(csr, u, v, fac, res)


def nx_multi(G, node_ids, fac_xy, res_node) -> np.ndarray:
    """(b): one multi-source cutoff Dijkstra per type from the facilities' nearest nodes."""
    fac_node = ox.distance.nearest_nodes(G, fac_xy[:, 0], fac_xy[:, 1])
    out = np.full((len(res_node), N_TYPES), np.inf)
    for t in range(N_TYPES):
        src = set(fac_node[t * N_FAC : (t + 1) * N_FAC].tolist())
        d = nx.multi_source_dijkstra_path_length(G, src, cutoff=LIMIT, weight="length")
        out[:, t] = (
            pd.Series(d, dtype=float).reindex(node_ids).to_numpy(float, na_value=np.inf)[res_node]
        )
    return out


def pandana_run(nodes, edges, fac_xy, res_xy, net=None) -> tuple[np.ndarray, Any]:
    """(d): build (unless ``net`` is given), precompute, POIs per type, queries, residents."""
    if net is None:
        net = pandana.Network(nodes["x"], nodes["y"], edges["u"], edges["v"], edges[["length"]])
    net.precompute(LIMIT)
    out = np.empty((len(res_xy), N_TYPES))
    res_node = net.get_node_ids(pd.Series(res_xy[:, 0]), pd.Series(res_xy[:, 1])).to_numpy()
    for t in range(N_TYPES):
        sl = slice(t * N_FAC, (t + 1) * N_FAC)
        net.set_pois(f"t{t}", LIMIT, 1, pd.Series(fac_xy[sl, 0]), pd.Series(fac_xy[sl, 1]))
        d = net.nearest_pois(LIMIT, f"t{t}", num_pois=1)[1].to_numpy(float)
        out[:, t] = np.where(d >= LIMIT, np.inf, d)[res_node]  # pandana fills misses with LIMIT
    return out, net


def diff_stats(exact: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    """Share (%) differing by > 50 m, median |diff| (m) where both reach, share (%) where
    only one reaches within the limit."""
    both = np.isfinite(exact) & np.isfinite(other)
    d = np.abs(exact[both] - other[both])
    one = 100 * float((np.isfinite(exact) != np.isfinite(other)).mean())
    return 100 * float((d > 50).sum() / exact.size), float(np.median(d)), one


def bench_city(name: str, repeat: int, peer_repeat: int) -> dict[str, Any]:
    net = en.from_osm_file(FILES[name])
    csr, (u, v) = net.csr, net.edge_nodes
    fac, fac_xy = facilities(net)
    pts, _ = random_snapped(net, N_RES, RES_MAX_M, seed=2)
    t_snap, res = timed(lambda: net.snap(pts, max_distance=RES_MAX_M, on_far="drop"), repeat)
    res_xy = shapely.get_coordinates(pts.loc[res.index].to_numpy())
    t_es, d_es = timed(lambda: embedsite_run(csr, u, v, fac, res), repeat)
    t_lab, d_lab = timed(lambda: embedsite_run(csr, u, v, fac, res, labels=True), repeat)
    assert np.array_equal(d_lab, d_es)

    G = net.to_networkx()
    node_ids = net.nodes.index.to_numpy()
    t_nn, res_node_id = timed(lambda: ox.distance.nearest_nodes(G, res_xy[:, 0], res_xy[:, 1]),
                              peer_repeat)  # fmt: skip
    res_node = pd.Index(node_ids).get_indexer(res_node_id)
    t_a, d_a = timed(lambda: nx_single(G, node_ids, fac_xy, res_node), peer_repeat)
    t_b, d_b = timed(lambda: nx_multi(G, node_ids, fac_xy, res_node), peer_repeat)
    t_a2, d_a2 = timed(lambda: nx_single_analyst(G, fac_xy, res_xy), peer_repeat)
    fac_pts = gpd.GeoSeries(shapely.points(fac_xy), crs=net.crs)
    res_pts = pts.loc[res.index].reset_index(drop=True)
    t_e2e, _ = timed(lambda: embedsite_e2e(net, fac_pts, res_pts), repeat)

    nodes = net.nodes[["x", "y"]].reset_index(drop=True)
    edges = pd.DataFrame({"u": u, "v": v, "length": net.edge_lengths})
    t_pd, (d_pd, pnet) = timed(lambda: pandana_run(nodes, edges, fac_xy, res_xy), peer_repeat)
    t_pd_nb, _ = timed(lambda: pandana_run(nodes, edges, fac_xy, res_xy, pnet), peer_repeat)
    pd50, pd_med, pd_one = diff_stats(d_es, d_pd)
    b50, b_med, _ = diff_stats(d_es, d_b)
    fin = np.isfinite(d_b)
    a_vs_b = np.abs(d_a[fin] - d_b[fin]).max(initial=0.0)
    assert (np.isfinite(d_a) == fin).all() and a_vs_b < 1e-6, (
        "networkx (a) and (b) disagree"
    )  # same node-to-node quantity
    assert np.array_equal(np.isfinite(d_a2), fin) and np.abs(d_a2[fin] - d_b[fin]).max() < 1e-6
    return {
        "network": name,
        "nodes": len(net.nodes),
        "residents": len(res),
        "embedsite_s": t_es,
        "with_labels_s": t_lab,
        "snap_res_s": t_snap,
        "nx_single_s (a)": t_a,
        "a/es": t_a / t_es,
        "a/with_labels": t_a / t_lab,
        "nx_multi_s (b)": t_b,
        "b/es": t_b / t_es,
        "res_nearest_node_s": t_nn,
        "embedsite_e2e_s": t_e2e,
        "nx_analyst_e2e_s (a')": t_a2,
        "a'/es_e2e": t_a2 / t_e2e,
        "pandana_e2e_s (d)": t_pd,
        "d/(es+snap)": t_pd / (t_es + t_snap),
        "pandana_no_build_s": t_pd_nb,
        "d_nobuild/es": t_pd_nb / t_es,
        "pd_gt50m_%": pd50,
        "pd_med_abs_m": pd_med,
        "pd_reach_differs_%": pd_one,
        "b_gt50m_%": b50,
        "b_med_abs_m": b_med,
        "_net": net,
        "_G": G,
    }


def on_node_check(net: en.PedestrianNetwork, G: nx.MultiGraph, seed: int = 3) -> dict[str, Any]:
    """Facilities and residents placed exactly on nodes: embedsite must equal networkx (b)."""
    rng = np.random.default_rng(seed)
    nodes = net.nodes
    fac = nodes.iloc[rng.choice(len(nodes), N_FAC, replace=False)]
    res_i = rng.choice(len(nodes), 5_000)
    src = net.snap(fac.geometry, max_distance=1.0)
    res = net.snap(nodes.geometry.iloc[res_i].reset_index(drop=True), max_distance=1.0)
    u, v = net.edge_nodes
    d_es = nearest_source(net.csr, u, v, src, res, limit=LIMIT).distance
    d = nx.multi_source_dijkstra_path_length(G, set(fac.index), cutoff=LIMIT, weight="length")
    d_nx = pd.Series(d, dtype=float).reindex(nodes.index[res_i]).to_numpy(float, na_value=np.inf)
    same_reach = bool((np.isfinite(d_es) == np.isfinite(d_nx)).all())
    fin = np.isfinite(d_nx)
    diff = float(np.abs(d_es[fin] - d_nx[fin]).max(initial=0.0))
    return {"residents_on_nodes": len(res), "reached": int(fin.sum()),
            "same_reach": same_reach, "max_abs_diff_m": diff}  # fmt: skip


def grid_network(n_nodes: int) -> en.PedestrianNetwork:
    """A square street grid with 100 m blocks in UTM 50N, built straight into a
    PedestrianNetwork (numpy + shapely; no networkx graph, no from_graph)."""
    side = round(n_nodes**0.5)
    ij = np.arange(side * side).reshape(side, side)
    x = 600_000 + BLOCK * np.tile(np.arange(side), side).astype(float)
    y = 3_540_000 + BLOCK * np.repeat(np.arange(side), side).astype(float)
    lon, lat = Transformer.from_crs(32650, 4326, always_xy=True).transform(x, y)
    nodes = gpd.GeoDataFrame({"x": x, "y": y, "lon": lon, "lat": lat},
                             geometry=shapely.points(x, y), crs=32650,
                             index=pd.Index(np.arange(side * side), name="osmid"))  # fmt: skip
    a = np.concatenate([ij[:, :-1].ravel(), ij[:-1, :].ravel()])
    b = np.concatenate([ij[:, 1:].ravel(), ij[1:, :].ravel()])
    coords = np.stack([np.column_stack([x[a], y[a]]), np.column_stack([x[b], y[b]])], axis=1)
    edges = gpd.GeoDataFrame(
        {"u": a, "v": b, "key": 0, "length": BLOCK, "osmid": np.arange(len(a)),
         "highway": "footway"}, geometry=shapely.linestrings(coords), crs=32650)  # fmt: skip
    edges.index.name = "edge"
    return en.PedestrianNetwork(nodes, edges, en.BuildReport(source="synthetic grid"))


def hwm_mb() -> float:
    """Peak resident memory of this process so far (VmHWM), MB."""
    with open("/proc/self/status", encoding="utf-8") as f:
        return next(int(x.split()[1]) for x in f if x.startswith("VmHWM")) / 1024


def rss_mb() -> float:
    """Resident memory of this process now (VmRSS), MB."""
    with open("/proc/self/status", encoding="utf-8") as f:
        return next(int(x.split()[1]) for x in f if x.startswith("VmRSS")) / 1024


def growth_one(n_nodes: int) -> dict[str, Any]:
    """One growth size, in a fresh subprocess: VmHWM is reset by exec, so it is this size's
    peak (ru_maxrss is not: it keeps the forking parent's peak across exec)."""
    t0 = time.perf_counter()
    net = grid_network(n_nodes)
    t_build, mb_build = time.perf_counter() - t0, hwm_mb()
    gc.collect()
    rss_net = rss_mb()  # after the build's transient GeoDataFrames are gone
    csr, (u, v) = net.csr, net.edge_nodes
    fac, _ = facilities(net)  # also builds the snapping index (not timed below)
    mb_index = hwm_mb()
    minx, miny, maxx, maxy = net.nodes.total_bounds
    rng = np.random.default_rng(2)
    n = len(net)
    pts = gpd.GeoSeries(
        shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)), crs=net.crs
    )
    t0 = time.perf_counter()
    res = net.snap(pts, max_distance=RES_MAX_M)
    t_snap, mb_snap = time.perf_counter() - t0, hwm_mb()
    rss_snap = rss_mb()
    t0 = time.perf_counter()
    d = embedsite_run(csr, u, v, fac, res)
    t_cov = time.perf_counter() - t0
    side = round(n_nodes**0.5)
    peak = hwm_mb()
    peer: dict[str, Any] = {}
    if n_nodes <= PEER_GROWTH_MAX:  # after the memory peak: the networkx graph is big
        G = nx.Graph(crs=net.crs)
        nodes = net.nodes
        G.add_nodes_from(
            (int(i), {"x": x, "y": y})
            for i, x, y in zip(nodes.index, nodes["x"], nodes["y"], strict=True)
        )
        G.add_edges_from(zip(u.tolist(), v.tolist(), [{"length": BLOCK}] * len(u),
                             strict=True))  # fmt: skip
        fac_xy = shapely.get_coordinates(fac.geometry.to_numpy())
        res_xy = shapely.get_coordinates(pts.to_numpy())
        t0 = time.perf_counter()
        nx_single_analyst(G, fac_xy, res_xy)
        t_a2 = time.perf_counter() - t0
        fac_pts = gpd.GeoSeries(shapely.points(fac_xy), crs=net.crs)
        t0 = time.perf_counter()
        embedsite_e2e(net, fac_pts, pts)
        t_e2e = time.perf_counter() - t0
        peer = {"embedsite_e2e_s": t_e2e, "nx_analyst_e2e_s (a')": t_a2,
                "a'/es_e2e": t_a2 / t_e2e}  # fmt: skip
    return {"grid": f"{side} x {side}", "nodes": len(net), "edges": len(net.edge_lengths),
            "residents": len(res), "build_s": t_build, "snap_res_s": t_snap,
            "embedsite_10_types_s": t_cov, "per_type_s": t_cov / N_TYPES,
            "covered_500m_%": 100 * float((d <= RADIUS).mean()),
            "rss_net_MB": rss_net, "rss_after_snap_MB": rss_snap,
            "hwm_build_MB": mb_build, "hwm_index_MB": mb_index, "hwm_snap_MB": mb_snap,
            "peak_MB": peak, **peer}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per embedsite timing")
    parser.add_argument("--peer-repeat", type=int, default=3, help="runs per peer timing")
    parser.add_argument("--quick", action="store_true", help="Nanjing only, small growth")
    parser.add_argument("--growth", action="store_true", help="synthetic grid growth curve")
    parser.add_argument("--growth-size", type=int, help=argparse.SUPPRESS)  # subprocess
    args = parser.parse_args(argv)
    logging.getLogger("embedsite").setLevel(logging.ERROR)  # far random points are dropped
    if args.growth_size:
        print(json.dumps(growth_one(args.growth_size)))
        return 0
    repeat = max(1, args.repeat)
    peer_repeat = max(1, min(args.peer_repeat, repeat))
    print(f"# bench_coverage.py {' '.join(sys.argv[1:])}\n")
    print(machine())
    print(", ".join(f"{p} {version(p)}" for p in ("pandana", "scipy", "pandas")), end="; ")
    print(f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    print(f"repeat={repeat} (peers: {peer_repeat}), median wall time in seconds")
    rows, checks = [], []
    for name in QUICK if args.quick else NAMES:
        if not FILES[name].exists():
            print(f"skipped {name}: {FILES[name]} is absent")
            continue
        print(f"coverage on {name} ...", flush=True)
        row = bench_city(name, repeat, peer_repeat)
        checks.append({"network": name, **on_node_check(row.pop("_net"), row.pop("_G"))})
        rows.append(row)
    cols = ("network", "nodes", "residents", "embedsite_s", "snap_res_s", "nx_single_s (a)",
            "a/es", "with_labels_s", "a/with_labels", "nx_multi_s (b)", "b/es",
            "res_nearest_node_s", "embedsite_e2e_s",
            "nx_analyst_e2e_s (a')", "a'/es_e2e", "pandana_e2e_s (d)",
            "d/(es+snap)", "pandana_no_build_s", "d_nobuild/es")  # fmt: skip
    show(f"Coverage, {N_TYPES} types x {N_FAC} facilities, seconds",
         [{k: r[k] for k in cols} for r in rows])  # fmt: skip
    rest = [{k: v for k, v in r.items() if k == "network" or k not in cols} for r in rows]
    show("Node-to-node peers vs embedsite's exact distances (random residents)", rest)
    show("Exactness check: facilities and residents on nodes, embedsite vs networkx (b)", checks)
    if args.growth:
        grow = []
        for n in GROWTH[:2] if args.quick else GROWTH:
            print(f"growth: {n:,} nodes (subprocess) ...", flush=True)
            cmd = [sys.executable, __file__, "--growth-size", str(n)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode:
                print(f"  failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            grow.append(json.loads(out.stdout.strip().splitlines()[-1]))
        keys = list(dict.fromkeys(k for r in grow for k in r))
        grow = [{k: r.get(k, "-") for k in keys} for r in grow]  # (a') only on small grids
        show("Growth (synthetic square grids, 100 m blocks; residents = nodes)", grow)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

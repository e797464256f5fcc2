"""The many-source walk-distance engine against networkx Dijkstra with points inserted."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from embedsite._paths import nearest_source, source_node_distances
from test_network import _insert_points


def _random_points(net, n, seed):
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = net.nodes.total_bounds
    pts = gpd.GeoDataFrame(
        geometry=shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)),
        crs=net.crs,
    )
    return net.snap(pts, max_distance=10_000)


def _engine(net, sources, targets, limit=np.inf):
    u, v = net.edge_nodes
    return nearest_source(net.csr, u, v, sources, targets, limit=limit)


def test_equals_networkx_multi_source_dijkstra(nanjing_net):
    snapped = _random_points(nanjing_net, 260, seed=1)
    sources = snapped.iloc[:60]
    targets = snapped.iloc[60:]
    got = _engine(nanjing_net, sources, targets)
    H = _insert_points(
        nanjing_net.to_networkx(), snapped, nanjing_net.edge_lengths, nanjing_net.edges
    )
    ref = nx.multi_source_dijkstra_path_length(
        H, {("a", s) for s in sources.index}, weight="length"
    )
    expected = np.array([ref.get(("a", t), np.inf) for t in targets.index])
    np.testing.assert_allclose(got.distance, expected, atol=1e-6)
    # the named source is at that distance
    reached = got.source >= 0
    pair = nanjing_net.walk_distance(
        sources.iloc[got.source[reached]], targets.iloc[np.flatnonzero(reached)]
    )
    np.testing.assert_allclose(pair, got.distance[reached], atol=1e-6)


def test_limit_cuts_exactly(nanjing_net):
    snapped = _random_points(nanjing_net, 200, seed=2)
    sources, targets = snapped.iloc[:20], snapped.iloc[20:]
    full = _engine(nanjing_net, sources, targets)
    cut = _engine(nanjing_net, sources, targets, limit=300.0)
    inside = full.distance <= 300.0
    np.testing.assert_allclose(cut.distance[inside], full.distance[inside])
    assert np.isinf(cut.distance[~inside]).all()
    assert (cut.source[~inside] == -1).all()


def test_same_edge_and_empty(nanjing_net):
    e = nanjing_net.edges.iloc[int(np.argmax(nanjing_net.edge_lengths))]
    pts = gpd.GeoDataFrame(
        geometry=[e.geometry.interpolate(f, normalized=True) for f in (0.3, 0.35, 0.9)],
        crs=nanjing_net.crs,
    )
    s = nanjing_net.snap(pts)
    got = _engine(nanjing_net, s.iloc[[0]], s.iloc[[1, 2]])
    assert got.distance[0] == pytest.approx(0.05 * e["length"], rel=1e-2)
    assert got.distance[1] == pytest.approx(0.6 * e["length"], rel=1e-2)
    none = _engine(nanjing_net, s.iloc[[]], s)
    assert np.isinf(none.distance).all() and (none.source == -1).all()


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 8), st.integers(0, 2**31 - 1), st.floats(50, 2000))
def test_matches_pairwise_minimum(helsinki_net, k, seed, limit):
    snapped = _random_points(helsinki_net, k + 12, seed=seed)
    sources, targets = snapped.iloc[:k], snapped.iloc[k:]
    got = _engine(helsinki_net, sources, targets, limit=limit)
    pair = np.stack(
        [helsinki_net.walk_distance(sources.iloc[[i] * len(targets)], targets) for i in range(k)]
    )
    best = pair.min(axis=0)
    best[best > limit] = np.inf
    np.testing.assert_allclose(got.distance, best, atol=1e-6)


def test_pair_distances_equal_pairwise_walk_distances(nanjing_net):
    from embedsite._paths import pair_distances, source_node_distances

    snapped = _random_points(nanjing_net, 90, seed=4)
    sources, targets = snapped.iloc[:10], snapped.iloc[10:]
    u, v = nanjing_net.edge_nodes
    limit = 900.0
    nd = source_node_distances(nanjing_net.csr, u, v, sources, limit=limit, block=3)
    got = pair_distances(nd, u, v, sources, targets, limit=limit).toarray()
    got[got == 0] = np.inf
    ref = np.stack(
        [nanjing_net.walk_distance(sources.iloc[[i] * len(targets)], targets) for i in range(10)]
    )
    ref[ref > limit] = np.inf
    np.testing.assert_allclose(got, ref, atol=1e-6)
    # the nearest of the pairs is what nearest_source finds
    near = _engine(nanjing_net, sources, targets, limit=limit)
    np.testing.assert_allclose(got.min(axis=0), near.distance, atol=1e-6)


@st.composite
def _random_street_graph(draw):
    """A random connected planar-ish street graph in UTM 50N metres, osmnx style."""
    n = draw(st.integers(4, 25))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1500, (n, 2)) + np.array([660_000.0, 3_545_000.0])
    G = nx.MultiDiGraph(crs="EPSG:32650")
    for i in range(n):
        G.add_node(i, x=float(xy[i, 0]), y=float(xy[i, 1]))
    order = rng.permutation(n)
    extra = draw(st.integers(0, 2 * n))
    pairs = [(order[i], order[i + 1]) for i in range(n - 1)]  # a spanning path
    pairs += [tuple(rng.choice(n, 2, replace=False)) for _ in range(extra)]
    for a, b in pairs:
        a, b = int(a), int(b)
        line = shapely.LineString([xy[a], xy[b]])
        G.add_edge(a, b, length=float(line.length), geometry=line, highway="footway")
    return G, seed


@settings(max_examples=40, deadline=None)
@given(_random_street_graph(), st.floats(100, 3000))
def test_random_graphs_match_networkx(graph_seed, limit):
    from embedsite import network as en

    G, seed = graph_seed
    net = en.from_graph(G, component="all", simplify=False)
    rng = np.random.default_rng(seed + 1)
    minx, miny, maxx, maxy = net.nodes.total_bounds
    pts = gpd.GeoDataFrame(
        geometry=shapely.points(rng.uniform(minx, maxx, 12), rng.uniform(miny, maxy, 12)),
        crs=net.crs,
    )
    snapped = net.snap(pts, max_distance=1e5)
    sources, targets = snapped.iloc[:3], snapped.iloc[3:]
    got = _engine(net, sources, targets, limit=limit)
    H = _insert_points(net.to_networkx(), snapped, net.edge_lengths, net.edges)
    ref = nx.multi_source_dijkstra_path_length(
        H, {("a", s) for s in sources.index}, weight="length"
    )
    expected = np.array([ref.get(("a", t), np.inf) for t in targets.index])
    expected[expected > limit] = np.inf
    np.testing.assert_allclose(got.distance, expected, atol=1e-6)


def test_source_node_distances_progress_bar(nanjing_net, capsys):
    import embedsite

    net = nanjing_net
    u, v = net.edge_nodes
    src = net.snap(net.nodes.geometry.iloc[:10].reset_index(drop=True), max_distance=1.0)
    quiet = source_node_distances(net.csr, u, v, src, limit=400.0, block=3)
    capsys.readouterr()
    with embedsite.config_context(progress=True):
        shown = source_node_distances(net.csr, u, v, src, limit=400.0, block=3)
    err = capsys.readouterr().err
    assert "walk distances from sources" in err and "4/4" in err
    assert (shown != quiet).nnz == 0
    whole = source_node_distances(net.csr, u, v, src, limit=400.0)  # one block
    assert (whole != quiet).nnz == 0

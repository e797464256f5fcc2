"""The many-source walk-distance engine against networkx Dijkstra with points inserted."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse import csgraph

from embedsite._graphbuild import adjacency, ranges
from embedsite._paths import (
    NearestSource,
    nearest_source,
    nearest_sources,
    pair_distances,
    prepare_targets,
    source_node_distances,
)
from embedsite.errors import InputError
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


# --- the compiled engine against the scipy implementation it replaced -----------------------
# (embedsite._paths before the kernels, kept here verbatim as the reference: an augmented CSR
# with a virtual node per source, scipy's csgraph.dijkstra, numpy per-target work)


def _scipy_augmented(csr, u, v, src_edge, src_to_u, src_to_v, src_access):
    n = csr.shape[0]
    k = len(src_edge)
    a, b = u[src_edge], v[src_edge]
    wa = np.maximum(src_access + src_to_u, 1e-9)
    wb = np.maximum(src_access + src_to_v, 1e-9)
    loop = a == b
    wa = np.where(loop, np.minimum(wa, wb), wa)
    cols = np.column_stack([a, b])
    weights = np.column_stack([wa, wb])
    count = np.where(loop, 1, 2)
    swap = ~loop & (b < a)
    cols[swap] = cols[swap][:, ::-1]
    weights[swap] = weights[swap][:, ::-1]
    keep = np.column_stack([np.ones(k, dtype=bool), ~loop])
    indptr = np.concatenate([csr.indptr, csr.indptr[-1] + np.cumsum(count)])
    indices = np.concatenate([csr.indices, cols[keep]])
    data = np.concatenate([csr.data, weights[keep]])
    return sparse.csr_array((data, indices, indptr), shape=(n + k, n + k))


@dataclass(frozen=True)
class _ScipyTargets:
    tu: np.ndarray
    tv: np.ndarray
    to_u: np.ndarray
    to_v: np.ndarray
    position: np.ndarray
    access: np.ndarray
    order: np.ndarray
    edges: np.ndarray

    def __len__(self) -> int:
        return len(self.tu)


def _scipy_prepare_targets(targets, edge_u, edge_v):
    edge = targets["edge"].to_numpy(np.int64)
    order = np.argsort(edge, kind="stable")
    return _ScipyTargets(
        tu=edge_u[edge],
        tv=edge_v[edge],
        to_u=targets["to_u_m"].to_numpy(float),
        to_v=targets["to_v_m"].to_numpy(float),
        position=targets["position_m"].to_numpy(float),
        access=targets["access_m"].to_numpy(float),
        order=order,
        edges=edge[order],
    )


def _scipy_nearest_source(csr, edge_u, edge_v, sources, targets, *, limit=np.inf):
    t = targets if isinstance(targets, _ScipyTargets) else _scipy_prepare_targets(
        targets, edge_u, edge_v)  # fmt: skip
    n_t = len(t)
    if len(sources) == 0 or n_t == 0:
        return NearestSource(np.full(n_t, np.inf), np.full(n_t, -1, dtype=np.int64))
    n = csr.shape[0]
    s_edge = sources["edge"].to_numpy(np.int64)
    s_acc = sources["access_m"].to_numpy(float)
    graph = _scipy_augmented(
        csr,
        edge_u,
        edge_v,
        s_edge,
        sources["to_u_m"].to_numpy(float),
        sources["to_v_m"].to_numpy(float),
        s_acc,
    )
    dist, _, origin = csgraph.dijkstra(
        graph,
        directed=True,
        indices=np.arange(n, n + len(sources)),
        min_only=True,
        limit=limit,
        return_predecessors=True,
    )
    origin = np.where(origin >= n, origin - n, -1)
    via_u = dist[t.tu]
    via_u += t.to_u
    via_v = dist[t.tv]
    via_v += t.to_v
    who = origin[np.where(via_u <= via_v, t.tu, t.tv)]
    best = np.minimum(via_u, via_v, out=via_u)
    lo = np.searchsorted(t.edges, s_edge, side="left")
    n_same = np.searchsorted(t.edges, s_edge, side="right") - lo
    if n_same.any():
        pos, s_of = ranges(lo, n_same)
        t_of = t.order[pos]
        direct = np.abs(t.position[t_of] - sources["position_m"].to_numpy(float)[s_of])
        direct += s_acc[s_of]
        shortest = np.full(n_t, np.inf)
        np.minimum.at(shortest, t_of, direct)
        ties = direct == shortest[t_of]
        first_src = np.full(n_t, len(s_edge), dtype=np.int64)
        np.minimum.at(first_src, t_of[ties], s_of[ties])
        closer = np.flatnonzero(shortest < best)
        best[closer] = shortest[closer]
        who[closer] = first_src[closer]
    total = best
    total += t.access
    beyond = ~(total <= limit)
    total[beyond] = np.inf
    who[beyond] = -1
    return NearestSource(total, who.astype(np.int64, copy=False))


def _scipy_source_node_distances(csr, edge_u, edge_v, sources, *, limit, block=64):
    n = csr.shape[0]
    k = len(sources)
    if k == 0:
        return sparse.csr_array((0, n))
    graph = _scipy_augmented(
        csr,
        edge_u,
        edge_v,
        sources["edge"].to_numpy(),
        sources["to_u_m"].to_numpy(float),
        sources["to_v_m"].to_numpy(float),
        sources["access_m"].to_numpy(float),
    )
    rows, cols, vals = [], [], []
    for start in range(0, k, block):
        idx = np.arange(n + start, n + min(start + block, k))
        dist = np.atleast_2d(csgraph.dijkstra(graph, directed=True, indices=idx, limit=limit))
        r, c = np.nonzero(np.isfinite(dist[:, :n]))
        rows.append(r + start)
        cols.append(c)
        vals.append(dist[r, c])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    v = np.concatenate(vals)
    return sparse.coo_array((np.maximum(v, 1e-12), (r, c)), shape=(k, n)).tocsr()


@st.composite
def _edge_graph(draw):
    """Street edges as arrays, made for ties: small integer lengths (zero-length streets
    among them), self-loops, parallel edges, points sharing edges and positions, integer
    access and limits that cut at node distances exactly."""
    n = draw(st.integers(1, 12))
    m = draw(st.integers(1, 24))
    ints = st.integers(0, n - 1)
    u = np.array(draw(st.lists(ints, min_size=m, max_size=m)), dtype=np.int64)
    v = np.array(draw(st.lists(ints, min_size=m, max_size=m)), dtype=np.int64)
    length = np.array(draw(st.lists(st.integers(0, 9), min_size=m, max_size=m)), dtype=float)
    fractional = draw(st.booleans())  # sometimes off the integer lattice
    if fractional:
        length *= draw(st.floats(0.3, 3.0))

    def points(count):
        edge = np.array(draw(st.lists(st.integers(0, m - 1), min_size=count, max_size=count)))
        edge = edge.astype(np.int64)
        frac = np.array(draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(0, 1),
                                      min_size=count, max_size=count)))  # fmt: skip
        pos = frac * length[edge]
        acc = np.array(draw(st.lists(st.integers(0, 3), min_size=count, max_size=count)))
        to_v = length[edge] - pos
        return pd.DataFrame({"edge": edge, "position_m": pos, "to_u_m": pos, "to_v_m": to_v,
                             "access_m": acc.astype(float)})  # fmt: skip

    sources = points(draw(st.integers(0, 7)))
    targets = points(draw(st.integers(0, 25)))
    limit = draw(st.sampled_from([np.inf, 0.0]) | st.integers(0, 40).map(float)
                 | st.floats(0, 40))  # fmt: skip
    csr = adjacency(u, v, length, n)
    return csr, u, v, sources, targets, limit


def _per_source_nodes(csr, u, v, sources, limit):
    """Dense sources x nodes distances, one scipy search per source (the reference)."""
    nd = _scipy_source_node_distances(csr, u, v, sources, limit=limit).toarray()
    nd[nd == 0] = np.inf
    return nd


@settings(max_examples=120, deadline=None)
@given(_edge_graph(), st.data())
def test_several_sets_equal_one_set_at_a_time(case, data):
    """Every set of one nearest_sources call equals its own search (rows mapped back), and
    its distances the scipy engine's, whatever the sets' sizes, order and limits."""
    csr, u, v, sources, targets, _ = case
    k = data.draw(st.integers(1, 4))
    groups = np.array(data.draw(st.lists(st.integers(-1, k - 1), min_size=len(sources),
                                         max_size=len(sources))), dtype=np.int64)  # fmt: skip
    limits = np.array(data.draw(st.lists(st.sampled_from([np.inf, 0.0]) | st.integers(0, 40)
                                         .map(float), min_size=k, max_size=k)))  # fmt: skip
    got = nearest_sources(csr, u, v, sources, groups, targets, limits=limits)
    assert got.source is not None and got.distance.shape == got.source.shape == (len(targets), k)
    bare = nearest_sources(csr, u, v, sources, groups, targets, limits=limits, labels=False)
    assert bare.source is None  # distances only: the same ones, bit for bit
    np.testing.assert_array_equal(bare.distance, got.distance)
    for j in range(k):
        rows = np.flatnonzero(groups == j)
        one = nearest_source(csr, u, v, sources.iloc[rows], targets, limit=limits[j])
        np.testing.assert_array_equal(got.distance[:, j], one.distance)
        np.testing.assert_array_equal(got.source[:, j], np.append(rows, -1)[one.source])
        ref = _scipy_nearest_source(csr, u, v, sources.iloc[rows], targets, limit=limits[j])
        np.testing.assert_array_equal(got.distance[:, j], ref.distance)


def test_several_sets_reject_bad_groups_and_limits(nanjing_net):
    snapped = _random_points(nanjing_net, 30, seed=4)
    u, v = nanjing_net.edge_nodes
    src, tgt = snapped.iloc[:10], snapped.iloc[10:]
    with pytest.raises(InputError, match="groups has 3 entries for 10 sources"):
        nearest_sources(nanjing_net.csr, u, v, src, np.zeros(3), tgt, limits=[100.0])
    with pytest.raises(InputError, match="groups name set 2 but only 2 limits"):
        nearest_sources(nanjing_net.csr, u, v, src, np.full(10, 2), tgt, limits=[1.0, 2.0])
    with pytest.raises(InputError, match="limits must be walk distances"):
        nearest_sources(nanjing_net.csr, u, v, src, np.zeros(10), tgt, limits=[np.nan])


def test_points_snapped_to_another_network_are_rejected(nanjing_net):
    # the kernels index by edge without a bounds check: an edge beyond this network (points
    # snapped to a larger one) must be an error naming it, for sources as for targets
    snapped = _random_points(nanjing_net, 20, seed=5)
    u, v = nanjing_net.edge_nodes
    csr, n = nanjing_net.csr, len(u)
    good, bad = snapped.iloc[:10], snapped.iloc[10:].copy()
    bad.loc[bad.index[3], "edge"] = n + 7
    msg = f"name edges .*{n + 7} but the network has {n}"
    with pytest.raises(InputError, match="sources " + msg):
        nearest_sources(csr, u, v, bad, np.zeros(10), good, limits=[500.0])
    with pytest.raises(InputError, match="targets " + msg):
        nearest_sources(csr, u, v, good, np.zeros(10), bad, limits=[500.0])
    with pytest.raises(InputError, match="sources " + msg):
        source_node_distances(csr, u, v, bad, limit=500.0)
    nd = source_node_distances(csr, u, v, good, limit=500.0)
    with pytest.raises(InputError, match="targets " + msg):
        pair_distances(nd, u, v, good, bad, limit=500.0)
    bad.loc[bad.index[3], "edge"] = -1
    with pytest.raises(InputError, match="sources name edges -1"):
        nearest_sources(csr, u, v, bad, np.zeros(10), good, limits=[500.0])


@settings(max_examples=150, deadline=None)
@given(_edge_graph())
def test_kernel_equals_scipy_engine(case):
    csr, u, v, sources, targets, limit = case
    got = nearest_source(csr, u, v, sources, targets, limit=limit)
    ref = _scipy_nearest_source(csr, u, v, sources, targets, limit=limit)
    np.testing.assert_array_equal(got.distance, ref.distance)
    assert ((got.source == -1) == np.isinf(got.distance)).all()
    again = nearest_source(csr, u, v, sources, prepare_targets(targets, u, v), limit=limit)
    np.testing.assert_array_equal(again.distance, got.distance)
    np.testing.assert_array_equal(again.source, got.source)
    if len(sources) == 0 or len(targets) == 0:
        assert (got.source == ref.source).all()
        return
    # the tie rule, by brute force from one search per source: per end node the lowest source
    # at its distance; u before v; a source on the same edge only when strictly closer, the
    # lowest of equal ones
    nd = _per_source_nodes(csr, u, v, sources, limit)
    te = targets["edge"].to_numpy()
    tu, tv = u[te], v[te]
    du, dv = nd[:, tu].min(axis=0), nd[:, tv].min(axis=0)
    ou = np.where(np.isinf(du), -1, np.argmax(nd[:, tu] == du, axis=0))  # -1: unreached
    ov = np.where(np.isinf(dv), -1, np.argmax(nd[:, tv] == dv, axis=0))
    via_u, via_v = du + targets["to_u_m"].to_numpy(), dv + targets["to_v_m"].to_numpy()
    best = np.minimum(via_u, via_v)
    who = np.where(via_u <= via_v, ou, ov)
    for j in range(len(targets)):
        for i in range(len(sources)):
            if sources["edge"].iat[i] == te[j]:
                d = abs(targets["position_m"].iat[j] - sources["position_m"].iat[i])
                d += sources["access_m"].iat[i]
                if d < best[j]:
                    best[j], who[j] = d, i
    total = best + targets["access_m"].to_numpy()
    within = total <= limit
    np.testing.assert_array_equal(got.distance, np.where(within, total, np.inf))
    np.testing.assert_array_equal(got.source, np.where(within, who, -1))
    # where the nearest source is unique, scipy named the same one
    unique = within & np.isfinite(total)
    if unique.any():
        per = nd[:, tu] + targets["to_u_m"].to_numpy()
        per = np.minimum(per, nd[:, tv] + targets["to_v_m"].to_numpy())
        for i in range(len(sources)):
            same = te == sources["edge"].iat[i]
            d = np.abs(targets["position_m"].to_numpy() - sources["position_m"].iat[i])
            per[i, same] = np.minimum(per[i, same], d[same] + sources["access_m"].iat[i])
        per += targets["access_m"].to_numpy()
        n_best = (per == per.min(axis=0)).sum(axis=0)
        one = unique & (n_best == 1)
        np.testing.assert_array_equal(got.source[one], ref.source[one])
        np.testing.assert_array_equal(got.source[one], per.argmin(axis=0)[one])


@settings(max_examples=100, deadline=None)
@given(_edge_graph(), st.integers(1, 4))
def test_source_node_distances_equal_scipy(case, block):
    csr, u, v, sources, _, limit = case
    got = source_node_distances(csr, u, v, sources, limit=limit, block=block)
    ref = _scipy_source_node_distances(csr, u, v, sources, limit=limit)
    assert got.shape == ref.shape
    got.sort_indices()
    np.testing.assert_array_equal(got.indptr, ref.indptr)
    np.testing.assert_array_equal(got.indices, ref.indices)
    np.testing.assert_array_equal(got.data, ref.data)


def _points(edge, pos, length, acc):
    edge = np.asarray(edge)
    pos = np.asarray(pos, dtype=float)
    to_v = length[edge] - pos
    return pd.DataFrame({"edge": edge, "position_m": pos, "to_u_m": pos, "to_v_m": to_v,
                         "access_m": np.asarray(acc, float)})  # fmt: skip


def test_ties_and_exact_limit():
    # path 0-1-2-3-4-5 with integer lengths: every sum below is exact
    u = np.array([0, 1, 2, 3, 4])
    v = np.array([1, 2, 3, 4, 5])
    length = np.array([2.0, 4.0, 2.0, 4.0, 3.0])
    csr = adjacency(u, v, length, 6)
    a = _points([0], [0.0], length, [1])  # at node 0: d[1] = 3
    b = _points([2], [2.0], length, [1])  # at node 3: d[2] = 3, d[4] = 5
    mid = _points([1], [2.0], length, [0])  # middle of 1-2: 5 via node 1 (a) and via node 2 (b)
    for order, via_u_source in (([a, b], 0), ([b, a], 1)):
        got = nearest_source(csr, u, v, pd.concat(order, ignore_index=True), mid)
        assert got.distance[0] == 5.0 and got.source[0] == via_u_source  # u on a tie
    # node 2 is reached at 3 from a source on 2-3 and from one on 1-2: the lowest source row
    c = _points([1], [4.0], length, [3])  # at node 2, access 3
    at2 = _points([2], [0.0], length, [0])
    for order, lowest in (([b, c], 0), ([c, b], 0)):
        got = nearest_source(csr, u, v, pd.concat(order, ignore_index=True), at2)
        assert got.distance[0] == 3.0 and got.source[0] == lowest
    # a source on the target's own edge wins only when strictly closer
    x = _points([1], [1.0], length, [0])  # on 1-2, 2 from the target directly
    y = _points([2], [0.0], length, [1])  # at node 2: 2 from the target via node 2
    t = _points([1], [3.0], length, [0])
    got = nearest_source(csr, u, v, pd.concat([x, y], ignore_index=True), t)
    assert got.distance[0] == 2.0 and got.source[0] == 1
    x_closer = _points([1], [1.5], length, [0])
    got = nearest_source(csr, u, v, pd.concat([x_closer, y], ignore_index=True), t)
    assert got.distance[0] == 1.5 and got.source[0] == 0
    # a node exactly at the limit is reached, a hair beyond it is not
    at4 = _points([4], [0.0], length, [0])  # node 4, 5 from b
    assert nearest_source(csr, u, v, b, at4, limit=5.0).distance[0] == 5.0
    far = nearest_source(csr, u, v, b, at4, limit=np.nextafter(5.0, 0))
    assert np.isinf(far.distance[0]) and far.source[0] == -1
    nd = source_node_distances(csr, u, v, b, limit=5.0).toarray()
    np.testing.assert_array_equal(nd, [[0, 0, 3, 1, 5, 0]])


def test_source_edge_beyond_the_nodes_and_unreached_edges():
    """A source whose edge ends lie beyond its set's limit still reaches the targets on its
    own edge directly; a target on an edge that no set reaches gets inf/-1 in every set."""
    # path 0-1-2-3-4 with two long middle streets; integer lengths: every sum is exact
    u, v = np.array([0, 1, 2, 3]), np.array([1, 2, 3, 4])
    length = np.array([3.0, 100.0, 100.0, 3.0])
    csr = adjacency(u, v, length, 5)
    sources = pd.concat([_points([1], [50.0], length, [2]),  # set 0: mid-street on 1-2
                         _points([1], [40.0], length, [1]),  # set 1: on the same street
                         _points([3], [3.0], length, [0])],  # set 1: at node 4
                        ignore_index=True)  # fmt: skip
    groups = np.array([0, 1, 1])
    targets = pd.concat([_points([1], [55.0], length, [1]),  # on 1-2, whose ends none reach
                         _points([2], [99.0], length, [0]),  # on 2-3, 1 from node 3
                         _points([0], [2.0], length, [3])],  # on 0-1: no set reaches it
                        ignore_index=True)  # fmt: skip
    got = nearest_sources(csr, u, v, sources, groups, targets, limits=[10.0, 20.0])
    # target 0: set 0 directly 5 + 2 + 1 = 8; set 1: row 1 directly 15 + 1 + 1 = 17
    # target 1: set 1 via node 3 (3 from row 2) 3 + 1 + 0 = 4; set 0 is 52+ away
    # target 2: node 1 is 52 from set 0 and 41 from set 1, beyond 10 and 20
    np.testing.assert_array_equal(got.distance, [[8.0, 17.0], [np.inf, 4.0],
                                                 [np.inf, np.inf]])  # fmt: skip
    np.testing.assert_array_equal(got.source, [[0, 1], [-1, 2], [-1, -1]])
    assert got.source.dtype == np.int32 and got.distance.dtype == np.float64


# --- pair_distances (compiled join) against the pandas join it replaced --------------------


def _pandas_pair_distances(node_dist, edge_u, edge_v, sources, targets, *, limit):
    """embedsite._paths.pair_distances before the kernel, verbatim (merge + groupby)."""
    k, m = node_dist.shape[0], len(targets)
    if k == 0 or m == 0:
        return sparse.coo_array((k, m))
    coo = node_dist.tocoo()
    reach = pd.DataFrame({"s": coo.row, "node": coo.col, "d": coo.data})
    t_edge = targets["edge"].to_numpy()
    t_acc = targets["access_m"].to_numpy(float)
    t_all = np.arange(m)
    ends = pd.DataFrame(
        {
            "t": np.concatenate([t_all, t_all]),
            "node": np.concatenate([edge_u[t_edge], edge_v[t_edge]]),
            "off": np.concatenate(
                [targets["to_u_m"].to_numpy(float), targets["to_v_m"].to_numpy(float)]
            ),
        }
    )
    pairs = reach.merge(ends, on="node")
    pairs["d"] = pairs["d"] + pairs["off"] + t_acc[pairs["t"].to_numpy()]
    s_edge = sources["edge"].to_numpy()
    same = pd.DataFrame({"s": np.arange(k), "edge": s_edge}).merge(
        pd.DataFrame({"t": np.arange(m), "edge": t_edge}), on="edge"
    )
    if len(same):
        s_i, t_i = same["s"].to_numpy(), same["t"].to_numpy()
        direct = (
            np.abs(
                sources["position_m"].to_numpy(float)[s_i]
                - targets["position_m"].to_numpy(float)[t_i]
            )
            + sources["access_m"].to_numpy(float)[s_i]
            + t_acc[t_i]
        )
        pairs = pd.concat([pairs, pd.DataFrame({"s": s_i, "t": t_i, "d": direct})])
    best = pairs.groupby(["s", "t"], sort=False)["d"].min()
    best = best[best <= limit]
    s_idx = best.index.get_level_values(0).to_numpy()
    t_idx = best.index.get_level_values(1).to_numpy()
    return sparse.coo_array((np.maximum(best.to_numpy(), 1e-12), (s_idx, t_idx)), shape=(k, m))


def _dense_with_absent(coo):
    """A pair matrix as dense with absent pairs ``inf`` (stored ones are never 0)."""
    out = np.full(coo.shape, np.inf)
    out[coo.row, coo.col] = coo.data
    return out


@settings(max_examples=150, deadline=None)
@given(_edge_graph())
def test_pair_distances_equal_pandas_join(case):
    csr, u, v, sources, targets, limit = case
    nd = source_node_distances(csr, u, v, sources, limit=limit)
    got = pair_distances(nd, u, v, sources, targets, limit=limit)
    ref = _pandas_pair_distances(nd, u, v, sources, targets, limit=limit)
    assert got.shape == ref.shape == (len(sources), len(targets))
    assert got.nnz == ref.nnz
    # bit-identical values, same pairs (the kernel's order: by source, then target)
    np.testing.assert_array_equal(_dense_with_absent(got), _dense_with_absent(ref))
    keys = got.row.astype(np.int64) * max(len(targets), 1) + got.col
    assert (np.diff(keys) > 0).all()
    if len(sources) == 0 or len(targets) == 0:
        return
    # brute force: per pair the min over both end nodes of the target, and the direct walk
    nd_dense = _per_source_nodes(csr, u, v, sources, limit)
    te = targets["edge"].to_numpy()
    brute = np.minimum(
        nd_dense[:, u[te]] + targets["to_u_m"].to_numpy(),
        nd_dense[:, v[te]] + targets["to_v_m"].to_numpy(),
    )
    for i in range(len(sources)):
        same = te == sources["edge"].iat[i]
        d = np.abs(targets["position_m"].to_numpy() - sources["position_m"].iat[i])
        brute[i, same] = np.minimum(brute[i, same], d[same] + sources["access_m"].iat[i])
    brute += targets["access_m"].to_numpy()
    brute[~(brute <= limit)] = np.inf
    np.testing.assert_allclose(
        np.maximum(_dense_with_absent(got), 1e-12), np.maximum(brute, 1e-12), rtol=0, atol=1e-9
    )

"""The pedestrian network: lengths, topology, snapping, routing, interchange, bad input."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

import embedsite.network as en
from conftest import CHENGDU, NANJING, SAMPLE, SHANGHAI, shared_file
from embedsite.errors import (
    CRSError,
    DataFileError,
    EmbedsiteError,
    EmptyInputError,
    FarFromNetworkError,
    InputError,
)

GEOD = Geod(ellps="WGS84")


def _xml_ways(path: Path) -> tuple[dict[int, tuple[float, float]], dict[int, list[int]]]:
    """Nodes and way node lists read with the standard library (independent of pyosmium)."""
    root = ET.parse(path).getroot()
    nodes = {
        int(n.get("id")): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")
    }
    ways = {int(w.get("id")): [int(nd.get("ref")) for nd in w.iter("nd")] for w in root.iter("way")}
    return nodes, ways


# --- lengths and topology ----------------------------------------------------------------------
def test_edge_lengths_equal_geodesic_way_lengths(nanjing_net_all):
    """Unsimplified edges of a way add up to the way's geodesic length (read independently)."""
    nodes, ways = _xml_ways(NANJING)
    edges = nanjing_net_all.edges
    per_way = edges.groupby("osmid")["length"].sum()
    assert len(per_way) > 300
    for osmid, total in per_way.items():
        coords = np.array([nodes[r] for r in ways[osmid]])
        # drop repeated consecutive nodes, as the builder does
        keep = np.ones(len(coords), bool)
        keep[1:] = (np.diff(coords, axis=0) != 0).any(axis=1)
        expected = GEOD.line_length(coords[keep, 0], coords[keep, 1])
        assert total == pytest.approx(expected, rel=1e-9, abs=1e-6), osmid


def test_projected_geometry_matches_length(nanjing_net):
    """In UTM the drawn length differs from the geodesic length only by the scale factor."""
    edges = nanjing_net.edges
    ratio = edges.geometry.length.sum() / edges["length"].sum()
    assert 0.999 < ratio < 1.001
    per_edge = edges.geometry.length / edges["length"].clip(lower=1e-9)
    assert per_edge[edges["length"] > 5].between(0.998, 1.002).all()


def test_simplification_keeps_every_metre(nanjing_net):
    import embedsite.network as en

    plain = en.from_osm_file(NANJING, simplify=False)
    assert nanjing_net.edge_lengths.sum() == pytest.approx(plain.edge_lengths.sum(), rel=1e-12)
    assert len(nanjing_net.edges) < len(plain.edges)
    # no node of degree 2 is left where the street type does not change
    e = nanjing_net.edges
    ends = pd.concat([e[["u", "highway"]].rename(columns={"u": "n"}),
                      e[["v", "highway"]].rename(columns={"v": "n"})])  # fmt: skip
    deg = ends.groupby("n")["highway"].agg(["size", "nunique"])
    loops = set(e.loc[e["u"] == e["v"], "u"])
    mergeable = deg[(deg["size"] == 2) & (deg["nunique"] == 1) & ~deg.index.isin(loops)]
    assert len(mergeable) == 0


def test_geometry_runs_from_u_to_v(nanjing_net):
    e = nanjing_net.edges
    n = nanjing_net.nodes
    start = shapely.get_coordinates(shapely.get_point(e.geometry.to_numpy(), 0))
    end = shapely.get_coordinates(shapely.get_point(e.geometry.to_numpy(), -1))
    np.testing.assert_allclose(start, n.loc[e["u"], ["x", "y"]].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(end, n.loc[e["v"], ["x", "y"]].to_numpy(), atol=1e-6)


def test_components_are_reported_not_hidden(nanjing_net):
    everything = en.from_osm_file(NANJING, component="all")
    r = nanjing_net.report
    assert r.components == everything.report.components > 1
    assert r.dropped_components == r.components - 1
    assert everything.edge_lengths.sum() == pytest.approx(
        nanjing_net.edge_lengths.sum() + r.dropped_length_m, rel=1e-9
    )
    assert len(everything.nodes) == len(nanjing_net.nodes) + r.dropped_nodes
    # what is kept is one connected piece
    G = nanjing_net.to_networkx()
    assert nx.is_connected(G)
    s = nanjing_net.summary()
    assert s["components_dropped"] == r.dropped_components


def test_walk_filter_rules():
    f = en.WalkFilter()
    ways = pd.DataFrame(
        {
            "highway": ["footway", "motorway", "trunk", "trunk", "cycleway", "cycleway",
                        "residential", "residential", "service", "construction", "steps"],
            "sidewalk": [None, None, "both", None, None, None, None, None, None, None, None],
            "foot": [None, None, None, None, "yes", None, "no", None, None, None, None],
            "access": [None, None, None, None, None, None, None, "private", None, None, None],
            "service": [None] * 8 + ["private", None, None],
        }
    )  # fmt: skip
    assert f.mask(ways).tolist() == [
        True, False, True, False, True, False, False, False, False, False, True,
    ]  # fmt: skip
    text = str(f)
    assert "trunk" in text and "foot" in text


def test_filter_is_applied_and_tags_are_kept(nanjing_net):
    e = nanjing_net.edges
    assert not e["highway"].isin(["motorway", "construction", "proposed"]).any()
    assert {"highway", "name", "osmid"} <= set(e.columns)
    assert e["name"].dropna().str.contains("路").any()  # Chinese street names survive


def test_chinese_extracts_project_to_their_utm_zone():
    assert en.from_osm_file(shared_file(NANJING)).crs.to_epsg() == 32650
    assert en.from_osm_file(shared_file(CHENGDU)).crs.to_epsg() == 32648
    assert en.from_osm_file(shared_file(SHANGHAI)).crs.to_epsg() == 32651


def test_named_crs_is_used():
    net = en.from_osm_file(NANJING, crs="EPSG:4549")  # CGCS2000 3-degree GK CM 120E
    assert net.crs.to_epsg() == 4549
    with pytest.raises(CRSError, match="metres"):
        en.from_osm_file(NANJING, crs="EPSG:4326")


def test_clip_to_bbox_and_polygon():
    bbox = (118.770, 32.040, 118.785, 32.050)
    net = en.from_osm_file(NANJING, bbox=bbox, component="all")
    inside = shapely.box(*bbox)
    assert shapely.contains_xy(inside, net.nodes["lon"], net.nodes["lat"]).all()
    poly = gpd.GeoDataFrame(geometry=[inside], crs=4326).to_crs(32650)
    net2 = en.from_osm_file(NANJING, polygon=poly, component="all")
    assert net2.edge_lengths.sum() == pytest.approx(net.edge_lengths.sum(), rel=1e-9)
    assert net.report.clipped


# --- routing -----------------------------------------------------------------------------------
def test_csr_shortest_paths_equal_networkx_dijkstra(nanjing_net):
    G = nanjing_net.to_networkx()
    ids = nanjing_net.nodes.index.to_numpy()
    rng = np.random.default_rng(7)
    sources = rng.choice(len(ids), 15, replace=False)
    dist = nanjing_net.node_distances(sources)
    for row, s in enumerate(sources):
        ref = nx.single_source_dijkstra_path_length(G, ids[s], weight="length")
        got = dist[row]
        expected = np.array([ref.get(i, np.inf) for i in ids])
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def _insert_points(G: nx.MultiGraph, snapped: gpd.GeoDataFrame, lengths: np.ndarray, edges):
    """networkx graph with every snapped point inserted as a node on its edge."""
    H = nx.MultiGraph(G)
    for e, grp in snapped.groupby("edge"):
        u, v, k = edges.loc[e, ["u", "v", "key"]]
        H.remove_edge(u, v, key=k)
        chain = [(0.0, u)]
        for label, pos in grp["position_m"].sort_values().items():
            chain.append((pos, ("p", label)))
        chain.append((lengths[e], v))
        for (p0, a), (p1, b) in itertools.pairwise(chain):
            H.add_edge(a, b, length=p1 - p0)
    for label, acc in snapped["access_m"].items():
        H.add_edge(("p", label), ("a", label), length=acc)
    return H


def test_walk_distance_equals_dijkstra_with_points_inserted(nanjing_net):
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = nanjing_net.nodes.total_bounds
    n = 40
    pts = gpd.GeoDataFrame(
        geometry=shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)),
        crs=nanjing_net.crs,
    )
    snapped = nanjing_net.snap(pts, max_distance=5000)
    H = _insert_points(
        nanjing_net.to_networkx(), snapped, nanjing_net.edge_lengths, nanjing_net.edges
    )
    a = snapped.iloc[: n // 2]
    b = snapped.iloc[n // 2 :]
    got = nanjing_net.walk_distance(a, b)
    for i, (la, lb) in enumerate(zip(a.index, b.index, strict=True)):
        ref = nx.dijkstra_path_length(H, ("a", la), ("a", lb), weight="length")
        assert got[i] == pytest.approx(ref, abs=1e-6)


def test_walk_distance_on_one_edge_is_direct(nanjing_net):
    e = nanjing_net.edges.iloc[int(np.argmax(nanjing_net.edge_lengths))]
    line = e.geometry
    pts = gpd.GeoDataFrame(
        geometry=[line.interpolate(0.2, normalized=True), line.interpolate(0.7, normalized=True)],
        crs=nanjing_net.crs,
    )
    s = nanjing_net.snap(pts)
    d = nanjing_net.walk_distance(s.iloc[[0]], s.iloc[[1]])[0]
    assert d == pytest.approx(0.5 * e["length"], rel=2e-3)


# --- snapping ----------------------------------------------------------------------------------
def test_snap_matches_brute_force_shapely(nanjing_net):
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = nanjing_net.nodes.total_bounds
    pts = gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(300)]},
        geometry=shapely.points(rng.uniform(minx, maxx, 300), rng.uniform(miny, maxy, 300)),
        crs=nanjing_net.crs,
        index=pd.RangeIndex(100, 400),
    ).to_crs(4326)  # any CRS in
    s = nanjing_net.snap(pts, max_distance=10_000)
    assert s.index.equals(pts.index)
    geoms = nanjing_net.edges.geometry.to_numpy()
    projected = pts.to_crs(nanjing_net.crs).geometry.to_numpy()
    brute = shapely.distance(projected[:, None], geoms[None, :]).min(axis=1)
    np.testing.assert_allclose(s["access_m"], brute, atol=1e-6)
    assert (s["position_m"] >= 0).all()
    np.testing.assert_allclose(
        s["to_u_m"] + s["to_v_m"], nanjing_net.edge_lengths[s["edge"]], atol=1e-6
    )
    # the snapped point lies on its edge
    on = shapely.distance(s.geometry.to_numpy(), geoms[s["edge"].to_numpy()])
    assert on.max() < 1e-6


def test_far_points_are_named_or_dropped(nanjing_net):
    pts = gpd.GeoDataFrame(
        {"name": ["near", "far"]},
        geometry=[shapely.Point(118.778, 32.044), shapely.Point(118.95, 32.2)],
        crs=4326,
        index=["home-1", "home-2"],
    )
    with pytest.raises(FarFromNetworkError, match="home-2") as info:
        nanjing_net.snap(pts, max_distance=300)
    assert "GCJ-02" in str(info.value) and "on_far='drop'" in str(info.value)
    kept = nanjing_net.snap(pts, max_distance=300, on_far="drop")
    assert list(kept.index) == ["home-1"]


def test_snap_bad_inputs(nanjing_net):
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(118.778, 32.044)])
    with pytest.raises(CRSError):
        nanjing_net.snap(pts)
    with pytest.raises(InputError, match="points"):
        nanjing_net.snap(
            gpd.GeoDataFrame(geometry=[shapely.box(118.77, 32.04, 118.78, 32.05)], crs=4326)
        )
    with pytest.raises(InputError, match="GeoDataFrame"):
        nanjing_net.snap([(118.778, 32.044)])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="max_distance"):
        nanjing_net.snap(pts.set_crs(4326), max_distance=-1)


# --- interchange and persistence ---------------------------------------------------------------
def test_to_networkx_is_usable_by_osmnx(nanjing_net):
    import osmnx as ox

    G = nanjing_net.to_networkx(directed=True)
    nodes, edges = ox.convert.graph_to_gdfs(G)
    assert len(nodes) == len(nanjing_net.nodes)
    assert len(edges) == 2 * len(nanjing_net.edges)
    assert edges["length"].sum() == pytest.approx(2 * nanjing_net.edge_lengths.sum())
    x, y = nanjing_net.nodes.iloc[0][["x", "y"]]
    assert ox.distance.nearest_nodes(G, x, y) == nanjing_net.nodes.index[0]


def test_from_graph_round_trip(nanjing_net):
    again = en.from_graph(nanjing_net.to_networkx(directed=True))
    assert len(again.nodes) == len(nanjing_net.nodes)
    assert again.edge_lengths.sum() == pytest.approx(nanjing_net.edge_lengths.sum(), rel=1e-9)
    assert again.crs == nanjing_net.crs


def test_from_osmnx_graph_of_the_same_file():
    import osmnx as ox

    G = ox.graph_from_xml(shared_file(NANJING), simplify=False, retain_all=True)
    ours = en.from_osm_file(NANJING, component="all", simplify=False)
    walkable = set(ours.edges["osmid"])
    G.remove_edges_from([(u, v, k) for u, v, k, o in G.edges(keys=True, data="osmid")
                         if o not in walkable])  # fmt: skip
    G.remove_nodes_from([n for n, d in G.degree() if d == 0])
    plain = en.from_graph(G, component="all", simplify=False)
    assert plain.crs.to_epsg() == 32650
    assert set(plain.edges["osmid"]) == walkable
    # osmnx measures great-circle chords, embedsite ellipsoidal geodesics: within 0.5%
    assert plain.edge_lengths.sum() == pytest.approx(ours.edge_lengths.sum(), rel=5e-3)
    simple = en.from_graph(G, component="all")
    assert len(simple.nodes) == len(en.from_osm_file(NANJING, component="all").nodes)


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_save_and_load(nanjing_net, tmp_path, suffix):
    path = nanjing_net.save(tmp_path / f"nanjing{suffix}")
    again = en.load(path)
    assert len(again.edges) == len(nanjing_net.edges)
    np.testing.assert_allclose(again.edge_lengths, nanjing_net.edge_lengths)
    np.testing.assert_allclose(again.nodes.loc[nanjing_net.nodes.index, "lon"],
                               nanjing_net.nodes["lon"], atol=1e-9)  # fmt: skip
    assert again.crs == nanjing_net.crs
    assert again.report == nanjing_net.report
    assert [p.name for p in tmp_path.iterdir()] == [f"nanjing{suffix}"]


def test_failed_save_leaves_nothing(nanjing_net, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        Path(args[1]).write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", boom)
    with pytest.raises(OSError, match="disk full"):
        nanjing_net.save(tmp_path / "net.gpkg")
    assert list(tmp_path.iterdir()) == []


# --- bad input ---------------------------------------------------------------------------------
def test_missing_broken_and_unknown_files(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        en.from_osm_file(tmp_path / "nowhere.osm.pbf")
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"\x00\x01 not a pbf at all")
    with pytest.raises(DataFileError, match=r"broken\.osm\.pbf"):
        en.from_osm_file(bad)
    truncated = tmp_path / "truncated.osm"
    truncated.write_text(NANJING.read_text(encoding="utf-8")[:200_000], encoding="utf-8")
    with pytest.raises(DataFileError, match="truncated"):
        en.from_osm_file(truncated)
    odd = tmp_path / "streets.txt"
    odd.write_text("x")
    with pytest.raises(DataFileError, match="format"):
        en.from_osm_file(odd)
    with pytest.raises(DataFileError):
        en.load(bad)
    with pytest.raises(InputError, match=r"\.gpkg"):
        en.from_osm_file(SAMPLE).save(tmp_path / "net.shp")


def test_no_streets(tmp_path):
    empty = tmp_path / "empty.osm"
    empty.write_text(
        '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="32.0" lon="118.0"/>'
        '<way id="5"><nd ref="1"/><tag k="building" v="yes"/></way></osm>'
    )
    with pytest.raises(EmptyInputError, match="highway"):
        en.from_osm_file(empty)
    with pytest.raises(EmptyInputError, match="inside the requested area"):
        en.from_osm_file(NANJING, bbox=(10.0, 10.0, 10.1, 10.1))


def test_bad_areas():
    with pytest.raises(InputError, match="west, south, east, north"):
        en.from_osm_file(NANJING, bbox=(32.04, 118.77, 32.05, 118.78))
    with pytest.raises(CRSError, match="WGS-84"):
        en.from_osm_file(NANJING, polygon=shapely.box(660_000, 3_540_000, 661_000, 3_541_000))
    with pytest.raises(InputError, match="either"):
        en.from_osm_file(NANJING, bbox=(1, 2, 3, 4), polygon=shapely.box(1, 2, 3, 4))


def test_bad_graphs():
    G = nx.MultiDiGraph()
    with pytest.raises(EmptyInputError):
        en.from_graph(G)
    G.add_edge(1, 2, length=5.0)
    with pytest.raises(CRSError, match="crs"):
        en.from_graph(G)


def test_errors_are_catchable_as_builtins(tmp_path):
    with pytest.raises(OSError):
        en.from_osm_file(tmp_path / "missing.osm")
    with pytest.raises(EmbedsiteError):
        en.from_osm_file(tmp_path / "missing.osm")


# --- the online path, offline ------------------------------------------------------------------
@pytest.fixture
def recorded_overpass(monkeypatch):
    """Answer osmnx's Overpass request with a response recorded from the Nanjing extract.

    The recording is osmnx's own JSON form of the Nanjing Overpass extract (its XML reader),
    narrowed to the walkable ways as the server would do with embedsite's filter.
    """
    import osmnx as ox
    from osmnx import _osm_xml, _overpass

    data = _osm_xml._overpass_json_from_xml(shared_file(NANJING), "utf-8")
    ways = [el for el in data["elements"] if el["type"] == "way"]
    tags = pd.DataFrame([w.get("tags", {}) for w in ways])
    walkable = en.WalkFilter().mask(tags)
    keep_ways = [w for w, ok in zip(ways, walkable, strict=True) if ok]
    response = {
        "elements": [el for el in data["elements"] if el["type"] == "node"] + keep_ways,
    }
    sent = []

    def fake_request(query):
        sent.append(query["data"])
        return response

    monkeypatch.setattr(_overpass, "_overpass_request", fake_request)
    monkeypatch.setattr(ox.settings, "use_cache", False)
    return sent


def test_from_polygon_offline(recorded_overpass):
    bbox = (118.770, 32.040, 118.785, 32.050)
    net = en.from_bbox(bbox, component="all")
    assert recorded_overpass, "osmnx did not ask Overpass"
    assert any('"highway"~"^(corridor|footway' in q for q in recorded_overpass)
    offline = en.from_osm_file(NANJING, bbox=bbox, component="all")
    assert net.crs == offline.crs
    # the same streets inside the box, built two ways (osmnx measures great-circle chords)
    assert net.edge_lengths.sum() == pytest.approx(offline.edge_lengths.sum(), rel=5e-3)


def test_from_place_offline(recorded_overpass, monkeypatch):
    import osmnx as ox

    area = gpd.GeoDataFrame(geometry=[shapely.box(118.770, 32.040, 118.785, 32.050)], crs=4326)
    monkeypatch.setattr(ox, "geocode_to_gdf", lambda name: area)
    net = en.from_place("新街口, 南京市, 中国")
    assert len(net.edges) > 50

    def not_found(name):
        raise ox._errors.InsufficientResponseError("no results")

    monkeypatch.setattr(ox, "geocode_to_gdf", not_found)
    with pytest.raises(InputError, match="could not find the place"):
        en.from_place("nowhere at all")


# --- properties --------------------------------------------------------------------------------
def test_simplification_preserves_distances_between_junctions(nanjing_net):
    plain = en.from_osm_file(NANJING, simplify=False)
    common = nanjing_net.nodes.index.intersection(plain.nodes.index)
    rng = np.random.default_rng(5)
    src = rng.choice(common.to_numpy(), 10, replace=False)
    pos_s = nanjing_net.nodes.index.get_indexer(src)
    pos_p = plain.nodes.index.get_indexer(src)
    d_s = nanjing_net.node_distances(pos_s)[:, nanjing_net.nodes.index.get_indexer(common)]
    d_p = plain.node_distances(pos_p)[:, plain.nodes.index.get_indexer(common)]
    np.testing.assert_allclose(d_s, d_p, atol=1e-6)


def test_reads_compressed_xml(tmp_path):
    import bz2

    packed = tmp_path / "nanjing.osm.bz2"
    packed.write_bytes(bz2.compress(shared_file(NANJING).read_bytes()))
    a = en.from_osm_file(packed)
    b = en.from_osm_file(NANJING)
    assert a.edge_lengths.sum() == pytest.approx(b.edge_lengths.sum(), rel=1e-12)


def test_swapped_lat_lon_points_are_named(nanjing_net):
    from embedsite.errors import CoordinateSystemError

    pts = gpd.GeoDataFrame(geometry=[shapely.Point(32.044, 118.778)], crs=4326)
    with pytest.raises(CoordinateSystemError, match="swap"):
        nanjing_net.snap(pts)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=3, max_size=3, unique=True))
def test_walk_distance_is_a_metric(helsinki_net, xy):
    minx, miny, maxx, maxy = helsinki_net.nodes.total_bounds
    pts = gpd.GeoDataFrame(
        geometry=[shapely.Point(minx + a * (maxx - minx), miny + b * (maxy - miny)) for a, b in xy],
        crs=helsinki_net.crs,
    )
    s = helsinki_net.snap(pts, max_distance=5000)
    a, b, c = (s.iloc[[i]] for i in range(3))
    ab = helsinki_net.walk_distance(a, b)[0]
    ba = helsinki_net.walk_distance(b, a)[0]
    bc = helsinki_net.walk_distance(b, c)[0]
    ac = helsinki_net.walk_distance(a, c)[0]
    assert ab == pytest.approx(ba, abs=1e-6)
    assert ac <= ab + bc + 1e-6
    euclid = pts.geometry.iloc[0].distance(pts.geometry.iloc[1])
    assert ab >= euclid * 0.998 - 1e-6  # never shorter than the straight line (UTM scale)

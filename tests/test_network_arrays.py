"""The network keeps arrays, not GeoDataFrames: the frames it builds on demand are exact."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

import embedsite.network as en
from embedsite import _netparts


@pytest.mark.parametrize("cache_max", [200_000, 0])  # objects kept (small) or remade (large)
def test_frames_are_rebuilt_equal_and_independent(nanjing_net, monkeypatch, cache_max):
    monkeypatch.setattr(_netparts, "_CACHE_MAX_EDGES", cache_max)
    net = en.PedestrianNetwork(nanjing_net.nodes, nanjing_net.edges, nanjing_net.report)
    assert net._parts.cache == {}
    edges, nodes = net.edges, net.nodes
    assert_geodataframe_equal(net.edges, edges, check_less_precise=False)
    assert_geodataframe_equal(net.nodes, nodes, check_less_precise=False)
    edges.loc[0, "length"] = -1.0
    edges.loc[0, "geometry"] = shapely.LineString([(0, 0), (1, 1)])
    nodes.loc[nodes.index[0], "x"] = 0.0
    assert net.edges.loc[0, "length"] > 0 and net.edge_lengths[0] > 0
    assert net.edges.geometry.iloc[0].length > 2
    assert net.nodes["x"].iloc[0] != 0.0
    # the geometry is the nodes' own x/y, bit for bit
    np.testing.assert_array_equal(shapely.get_x(net.nodes.geometry), net.nodes["x"])
    np.testing.assert_array_equal(shapely.get_y(net.nodes.geometry), net.nodes["y"])
    assert sorted(net._parts.cache) == ([] if cache_max == 0 else ["lines", "points"])
    geoms = net.edge_geometry
    if cache_max:
        assert geoms is net.edge_geometry and not geoms.flags.writeable
    assert shapely.equals_exact(geoms, nanjing_net.edge_geometry, tolerance=0).all()


def test_network_holds_no_geodataframes_or_shapely_lines(nanjing_net, monkeypatch):
    monkeypatch.setattr(_netparts, "_CACHE_MAX_EDGES", 0)  # as a network of 1M nodes
    net = en.PedestrianNetwork(nanjing_net.nodes, nanjing_net.edges, nanjing_net.report)
    lonlat = nanjing_net.nodes.to_crs(4326).geometry.iloc[:30]
    assert net.check_coordinate_system(lonlat).best == "wgs84"
    assert len(net.edges) and len(net.nodes) and len(net.snap(lonlat))
    assert not any(isinstance(v, gpd.GeoDataFrame | gpd.GeoSeries) for v in vars(net).values())
    parts = net._parts
    assert parts.lines.objects is None and parts.lines.coords is not None
    assert parts.lines.coords.dtype == np.float64 and not parts.lines.coords.flags.writeable
    assert len(parts.lines) == len(net.edge_lengths)
    assert parts.cache == {}


def test_public_constructor_round_trip_is_exact(nanjing_net):
    net = nanjing_net
    again = en.PedestrianNetwork(net.nodes, net.edges, net.report)
    assert_geodataframe_equal(again.edges, net.edges, check_less_precise=False)
    assert_geodataframe_equal(again.nodes, net.nodes, check_less_precise=False)
    assert (again.csr != net.csr).nnz == 0
    assert again.summary().equals(net.summary())


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_save_load_keeps_every_coordinate(nanjing_net, tmp_path, suffix):
    net = nanjing_net
    again = en.load(net.save(tmp_path / f"n{suffix}"))
    a, b = net.edges, again.edges
    assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), tolerance=0).all()
    for col in ("u", "v", "key", "length", "osmid", "highway"):
        np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())
    # x/y exactly; a .parquet file has no node layer, so lon/lat are recomputed from x/y
    exact = ["x", "y", "lon", "lat"] if suffix == ".gpkg" else ["x", "y"]
    nodes = again.nodes.loc[net.nodes.index]
    pd.testing.assert_frame_equal(net.nodes[exact], nodes[exact], check_exact=True)
    np.testing.assert_allclose(nodes[["lon", "lat"]], net.nodes[["lon", "lat"]], atol=1e-9)


X0 = np.array([600_000.0, 3_540_000.0])  # UTM 50N, near Nanjing


def _tiny_frames(lines: list[shapely.Geometry]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 100.0]]) + X0
    nodes = gpd.GeoDataFrame(
        {"x": xy[:, 0], "y": xy[:, 1], "lon": 0.0, "lat": 0.0},
        geometry=shapely.points(xy),
        index=pd.Index([10, 20, 30], name="osmid"),
        crs=32650,
    )
    edges = gpd.GeoDataFrame(
        {"u": [10, 20], "v": [20, 30], "key": 0, "length": [100.0, 100.0], "osmid": [1, 2],
         "highway": "footway"},
        geometry=lines, crs=32650,
    )  # fmt: skip
    edges.index.name = "edge"
    return nodes, edges


def test_lines_that_do_not_fit_the_ragged_form_are_kept_as_they_are():
    x, y = X0
    lines_3d = [
        shapely.LineString([(x, y, 5), (x + 100, y, 6)]),
        shapely.LineString([(x + 100, y, 6), (x + 100, y + 100, 7)]),
    ]
    nodes, edges = _tiny_frames(lines_3d)
    net = en.PedestrianNetwork(nodes, edges, en.BuildReport(source="tiny"))
    assert net._parts.lines.objects is not None
    assert shapely.equals_exact(net.edges.geometry.to_numpy(), np.array(lines_3d), 0).all()
    assert shapely.has_z(net.edge_geometry).all()
    snapped = net.snap(gpd.GeoSeries([shapely.Point(x + 60, y + 10)], crs=32650))
    assert snapped["edge"].iloc[0] == 0
    assert snapped["position_m"].iloc[0] == pytest.approx(60.0)
    assert snapped["access_m"].iloc[0] == pytest.approx(10.0)


def test_ragged_lines_give_the_same_segments_as_shapely(nanjing_net):
    lines = _netparts.Lines.of(nanjing_net.edge_geometry)
    coords, idx = lines.coordinates()
    ref_coords, ref_idx = shapely.get_coordinates(nanjing_net.edge_geometry, return_index=True)
    np.testing.assert_array_equal(coords, ref_coords)
    np.testing.assert_array_equal(idx, ref_idx)
    first, last = lines.ends()
    np.testing.assert_array_equal(
        first, shapely.get_coordinates(shapely.get_point(nanjing_net.edge_geometry, 0))
    )
    np.testing.assert_array_equal(
        last, shapely.get_coordinates(shapely.get_point(nanjing_net.edge_geometry, -1))
    )

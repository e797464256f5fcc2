"""Exact network service areas against networkx Dijkstra with the sources inserted."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from embedsite._paths import source_node_distances
from embedsite._service_areas import service_areas
from embedsite.errors import CRSError, InputError, MissingColumnError
from test_network import _insert_points


def _sources(net, n, seed):
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = net.nodes.total_bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    w, h = (maxx - minx) / 4, (maxy - miny) / 4  # the middle, so areas rarely hit the edge
    pts = gpd.GeoDataFrame(
        {"name": [f"f{i}" for i in range(n)]},
        geometry=shapely.points(rng.uniform(cx - w, cx + w, n), rng.uniform(cy - h, cy + h, n)),
        crs=net.crs,
    ).set_index("name")
    return net.snap(pts, max_distance=10_000)


def _reference_length(H, label, r):
    """Reached street length of one source: every edge of H from both ends, capped at L."""
    dist = nx.single_source_dijkstra_path_length(H, ("a", label), cutoff=r, weight="length")
    total = 0.0
    for a, b, length in H.edges(data="length"):
        if (isinstance(a, tuple) and a[0] == "a") or (isinstance(b, tuple) and b[0] == "a"):
            continue  # an access link, not street
        reach = max(0.0, r - dist.get(a, np.inf)) + max(0.0, r - dist.get(b, np.inf))
        total += min(length, reach)
    return total


@pytest.fixture(scope="module")
def nanjing_sources(nanjing_net):
    return _sources(nanjing_net, 6, seed=5)


@pytest.mark.parametrize("r", [300.0, 500.0])
def test_street_length_equals_networkx(nanjing_net, nanjing_sources, r):
    net, src = nanjing_net, nanjing_sources
    got = service_areas(net, src, r, kind="lines")
    assert got.index.equals(src.index)
    assert got.crs == net.crs
    H = _insert_points(net.to_networkx(), src, net.edge_lengths, net.edges)
    for label in src.index:
        ref = _reference_length(H, label, r)
        assert ref > 0
        assert got.loc[label, "street_length_m"] == pytest.approx(ref, rel=1e-6)


def test_per_source_radius_and_shared_node_dist(nanjing_net, nanjing_sources):
    net, src = nanjing_net, nanjing_sources
    radii = np.array([100.0, 200.0, 300.0, 400.0, 500.0, 600.0])
    u, v = net.edge_nodes
    nd = source_node_distances(net.csr, u, v, src, limit=600.0)
    both = service_areas(net, src, radii, kind="lines", node_dist=nd)
    for label, r in zip(src.index, radii, strict=True):
        one = service_areas(net, src.loc[[label]], r, kind="lines")
        assert both.loc[label, "street_length_m"] == pytest.approx(
            one.loc[label, "street_length_m"], rel=1e-12
        )


def test_reached_points_are_within_the_radius(nanjing_net, nanjing_sources):
    net = nanjing_net
    r = 400.0
    lines = service_areas(net, nanjing_sources, r, kind="lines")
    for label, geom in lines.geometry.items():
        parts = shapely.get_parts(geom)
        # interior points of every part, and the far ends of a few
        fr = np.array([0.01, 0.25, 0.5, 0.75, 0.99])
        pts = shapely.line_interpolate_point(parts[:, None], fr[None, :], normalized=True)
        pts = np.concatenate([pts.ravel(), shapely.get_point(parts[:20], -1)])
        snapped = net.snap(gpd.GeoDataFrame(geometry=pts, crs=net.crs), max_distance=1.0)
        assert snapped["access_m"].max() < 1e-6  # they lie on streets
        origin = nanjing_sources.loc[[label] * len(snapped)]
        d = net.walk_distance(origin, snapped)
        assert d.max() <= r + 1e-6, (label, d.max())


def test_polygon_is_buffered_street_space(nanjing_net, nanjing_sources):
    net, src = nanjing_net, nanjing_sources
    r, buf = 500.0, 25.0
    poly = service_areas(net, src, r, buffer_m=buf)
    lines = service_areas(net, src, r, kind="lines")
    assert list(poly.columns) == ["street_length_m", "area_m2", "geometry"]
    np.testing.assert_allclose(poly["street_length_m"], lines["street_length_m"])
    assert (poly.geom_type.isin(["Polygon", "MultiPolygon"])).all()
    np.testing.assert_allclose(poly["area_m2"], poly.area)
    # projected metres may exceed geodesic ones by the CRS scale factor (< 0.1 % here)
    circle = src.geometry.buffer((r - src["access_m"]) * 1.001 + buf + 1e-6, quad_segs=64)
    assert poly.geometry.within(circle).all()
    hull = lines.geometry.convex_hull.area
    assert (poly["area_m2"] < hull).all()
    # the lines are covered by their street space
    assert poly.geometry.covers(lines.geometry).all()


def test_source_beyond_its_radius_gets_empty_geometry(nanjing_net, nanjing_sources):
    src = nanjing_sources.iloc[:2].copy()
    src["access_m"] = [1000.0, 0.0]
    out = service_areas(nanjing_net, src, 300.0)
    assert out["street_length_m"].iloc[0] == 0.0
    assert out.geometry.iloc[0].is_empty
    assert out["street_length_m"].iloc[1] > 0


def test_short_radius_stays_on_the_own_edge(nanjing_net):
    net = nanjing_net
    e = int(np.argmax(net.edge_lengths))
    line = net.edges.geometry.iloc[e]
    pt = gpd.GeoDataFrame(geometry=[line.interpolate(0.5, normalized=True)], crs=net.crs)
    src = net.snap(pt)
    assert src["edge"].iloc[0] == e
    out = service_areas(net, src, 10.0, kind="lines")
    assert out["street_length_m"].iloc[0] == pytest.approx(20.0)
    assert out.geometry.iloc[0].length == pytest.approx(20.0, rel=2e-3)


def test_helsinki_lines_are_on_the_streets(helsinki_net):
    src = _sources(helsinki_net, 5, seed=2)
    out = service_areas(helsinki_net, src, 500.0, kind="lines")
    streets = shapely.union_all(helsinki_net.edges.geometry.to_numpy())
    for geom in out.geometry:
        assert geom.length > 0
        assert shapely.hausdorff_distance(geom, shapely.intersection(geom, streets)) < 1e-6


def test_empty_sources(nanjing_net, nanjing_sources):
    for kind, cols in [("polygon", ["street_length_m", "area_m2"]), ("lines", ["street_length_m"])]:
        out = service_areas(nanjing_net, nanjing_sources.iloc[:0], 300.0, kind=kind)
        assert len(out) == 0
        assert list(out.columns) == [*cols, "geometry"]
        assert out.crs == nanjing_net.crs


@pytest.mark.parametrize("radius", [0.0, -5.0, np.nan, [300.0, np.nan]])
def test_bad_radius(nanjing_net, nanjing_sources, radius):
    with pytest.raises(InputError, match="radius_m"):
        service_areas(nanjing_net, nanjing_sources.iloc[:2], radius)


def test_bad_arguments(nanjing_net, nanjing_sources):
    src = nanjing_sources.iloc[:2]
    with pytest.raises(InputError, match="radius_m"):
        service_areas(nanjing_net, src, [1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="kind"):
        service_areas(nanjing_net, src, 300.0, kind="hull")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="buffer_m"):
        service_areas(nanjing_net, src, 300.0, buffer_m=0.0)
    with pytest.raises(MissingColumnError):
        service_areas(nanjing_net, src[["geometry"]], 300.0)
    with pytest.raises(CRSError):
        service_areas(nanjing_net, src.to_crs(4326), 300.0)


@settings(max_examples=40, deadline=None)
@given(
    r1=st.floats(1.0, 1500.0, allow_nan=False),
    extra=st.floats(0.0, 800.0, allow_nan=False),
    which=st.integers(0, 5),
)
def test_street_length_monotone_in_radius(nanjing_net, nanjing_sources, r1, extra, which):
    src = nanjing_sources.iloc[[which]]
    a = service_areas(nanjing_net, src, r1, kind="lines")["street_length_m"].iloc[0]
    b = service_areas(nanjing_net, src, r1 + extra, kind="lines")["street_length_m"].iloc[0]
    assert b >= a - 1e-9 * max(a, 1.0)


def _reference_polygons(lines: gpd.GeoDataFrame, buffer_m: float) -> np.ndarray:
    """The definition, the slow way: every reached piece buffered, then unioned per area."""
    return np.array(
        [
            shapely.union_all(shapely.buffer(shapely.get_parts(g), buffer_m))
            if not g.is_empty
            else shapely.Polygon()
            for g in lines.geometry
        ],
        dtype=object,
    )


def _check_street_space(poly, lines, buffer_m):
    """lines within the polygon, the polygon within buffer_m of the lines, equal to the
    union of the pieces' buffers."""
    ref = _reference_polygons(lines, buffer_m)
    got = poly.geometry.to_numpy()
    assert shapely.is_valid(got).all()
    scale = np.maximum(shapely.area(ref), 1.0)
    np.testing.assert_allclose(poly["area_m2"], shapely.area(ref), rtol=1e-9, atol=1e-6)
    assert (shapely.area(shapely.symmetric_difference(got, ref)) <= 1e-9 * scale + 1e-6).all()
    reached = ~shapely.is_empty(lines.geometry.to_numpy())
    assert (shapely.is_empty(got) == ~reached).all()
    assert shapely.covers(
        shapely.buffer(got[reached], 1e-6), lines.geometry.to_numpy()[reached]
    ).all()
    # nothing farther than buffer_m: the boundary, densified to 1 m, and sample points inside
    for g, line in zip(got, lines.geometry.to_numpy(), strict=True):
        if g.is_empty:
            assert line.is_empty
            continue
        edge = shapely.get_coordinates(shapely.segmentize(g.boundary, 1.0))
        inside = shapely.get_coordinates(shapely.intersection(shapely.points(_grid_in(g, 400)), g))
        pts = shapely.points(np.vstack([edge, inside]))
        assert shapely.distance(pts, line).max() <= buffer_m + 1e-6


def _grid_in(g, n):
    minx, miny, maxx, maxy = g.bounds
    side = int(np.sqrt(n))
    x, y = np.meshgrid(np.linspace(minx, maxx, side), np.linspace(miny, maxy, side))
    return np.column_stack([x.ravel(), y.ravel()])


@pytest.mark.parametrize("tiles", [False, True])
def test_polygons_are_the_union_of_the_buffered_pieces(nanjing_net, nanjing_sources, tiles):
    net, src = nanjing_net, nanjing_sources
    net._derived.pop("service_areas.tiles", None)
    if tiles:  # force the memoised quadtree path on a few areas
        from embedsite._service_areas import _Tiles

        net._derived["service_areas.tiles"] = {20.0: _Tiles.of(net.edge_geometry, 20.0)}
    try:
        poly = service_areas(net, src, 450.0, buffer_m=20.0)
        lines = service_areas(net, src, 450.0, kind="lines")
        _check_street_space(poly, lines, 20.0)
    finally:
        net._derived.pop("service_areas.tiles", None)


def test_many_helsinki_areas_use_the_tiles_and_equal_the_definition(helsinki_net):
    net = helsinki_net
    net._derived.pop("service_areas.tiles", None)
    src = _sources(net, 20, seed=11)
    poly = service_areas(net, src, 500.0)
    assert 25.0 in net._derived["service_areas.tiles"]  # the quadtree path ran
    again = service_areas(net, src, 500.0)  # memoised: same polygons
    assert (shapely.area(shapely.symmetric_difference(poly.geometry, again.geometry)) < 1e-6).all()
    lines = service_areas(net, src, 500.0, kind="lines")
    _check_street_space(poly, lines, 25.0)


@settings(max_examples=10, deadline=None)
@given(
    r=st.floats(5.0, 900.0, allow_nan=False),
    buf=st.floats(2.0, 60.0, allow_nan=False),
    which=st.lists(st.integers(0, 5), min_size=1, max_size=4, unique=True),
)
def test_tiled_polygons_contain_the_lines_and_nothing_farther(
    nanjing_net, nanjing_sources, r, buf, which
):
    from embedsite._service_areas import _Tiles

    net, src = nanjing_net, nanjing_sources.iloc[which]
    net._derived["service_areas.tiles"] = {buf: _Tiles.of(net.edge_geometry, buf)}
    try:
        poly = service_areas(net, src, r, buffer_m=buf)
    finally:
        net._derived.pop("service_areas.tiles", None)
    lines = service_areas(net, src, r, kind="lines")
    _check_street_space(poly, lines, buf)


def test_progress_bar_on_many_areas(nanjing_net, capsys, monkeypatch):
    import embedsite
    from embedsite import _service_areas

    monkeypatch.setattr(_service_areas, "_CHUNK", 2)  # 6 areas: three chunks
    src = _sources(nanjing_net, 6, seed=5)
    quiet = service_areas(nanjing_net, src, 300.0)
    capsys.readouterr()
    with embedsite.config_context(progress=True):
        shown = service_areas(nanjing_net, src, 300.0)
    err = capsys.readouterr().err
    assert "service-area polygons" in err and "3/3" in err
    np.testing.assert_allclose(shown["area_m2"], quiet["area_m2"], rtol=1e-12)

"""Service-area polygons traced on a lattice (``method="grid"``) against the exact ones."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import embedsite.network as en
from embedsite._service_areas import service_areas
from embedsite._service_grid import _assemble, _trace
from embedsite.errors import InputError
from test_paths import _random_points as _sources


def _boundary_offset(polys, lines, buffer_m):
    """Per area, the largest |distance from a boundary vertex to the reached lines - buffer|."""
    out = []
    for poly, line in zip(polys, lines, strict=True):
        pts = shapely.points(shapely.get_coordinates(shapely.boundary(poly)))
        out.append(np.abs(shapely.distance(line, pts) - buffer_m).max() if len(pts) else 0.0)
    return np.array(out)


def _check_against_exact(net, src, radius, buffer_m, h, sym_tol):
    exact = service_areas(net, src, radius, buffer_m=buffer_m)
    grid = service_areas(net, src, radius, buffer_m=buffer_m, method="grid", resolution_m=h)
    lines = service_areas(net, src, radius, kind="lines").geometry.to_numpy()
    assert grid.index.equals(exact.index) and grid.crs == exact.crs
    np.testing.assert_array_equal(grid["street_length_m"], exact["street_length_m"])
    g, x = grid.geometry.to_numpy(), exact.geometry.to_numpy()
    assert shapely.is_valid(g).all()
    reached = ~shapely.is_empty(lines)
    assert (shapely.is_empty(g) == ~reached).all()
    # every reached street is inside, every boundary point within h of the exact boundary
    assert shapely.covers(g[reached], lines[reached]).all()
    assert (_boundary_offset(g[reached], lines[reached], buffer_m) <= h).all()
    sym = shapely.area(shapely.symmetric_difference(g[reached], x[reached]))
    assert (sym <= sym_tol * shapely.area(x[reached])).all()
    np.testing.assert_allclose(grid["area_m2"], shapely.area(g))
    return grid, exact


def test_grid_polygons_match_exact_on_helsinki(helsinki_net):
    src = _sources(helsinki_net, 20, seed=1)
    grid, exact = _check_against_exact(helsinki_net, src, 500.0, 25.0, 5.0, sym_tol=0.01)
    # measured: areas within 0.5 % and boundaries within h / 2 on this sample
    rel = np.abs(grid["area_m2"] - exact["area_m2"]) / exact["area_m2"]
    assert rel.max() < 0.005


@settings(max_examples=12, deadline=None)
@given(
    radius=st.floats(50, 900),
    buffer_m=st.floats(5, 40),
    fraction=st.sampled_from([0.1, 0.2, 0.35]),
    seed=st.integers(0, 10_000),
)
def test_grid_polygons_match_exact_on_nanjing(nanjing_net, radius, buffer_m, fraction, seed):
    h = buffer_m * fraction
    _check_against_exact(nanjing_net, _sources(nanjing_net, 4, seed), radius, buffer_m, h,
                         sym_tol=0.05)  # fmt: skip


def test_a_straight_street_gives_the_stadium():
    # one 400 m street; a facility in its middle, reaching 150 m each way: the exact buffer
    # is a 300 m x 2b rectangle with two half disks (straight sides exact on the lattice)
    g = nx.MultiGraph(crs="EPSG:32650")
    x0, y0 = 500_000.0, 3_500_000.0
    g.add_node(1, x=x0, y=y0)
    g.add_node(2, x=x0 + 400, y=y0)
    g.add_edge(1, 2, highway="residential", length=400.0)
    net = en.from_graph(g, simplify=False)
    src = net.snap(gpd.GeoSeries([shapely.Point(x0 + 200, y0)], crs=32650), max_distance=1)
    b = 20.0
    got = service_areas(net, src, 150.0, buffer_m=b, method="grid", resolution_m=4.0)
    poly = got.geometry.iloc[0]
    stadium = shapely.LineString([(x0 + 50, y0), (x0 + 350, y0)]).buffer(b, quad_segs=256)
    assert poly.area == pytest.approx(stadium.area, rel=2e-3)
    assert shapely.hausdorff_distance(poly, stadium) < 1.0
    xs, ys = shapely.get_coordinates(poly.exterior).T
    side = (xs > x0 + 60) & (xs < x0 + 340)
    assert side.sum() >= 4
    np.testing.assert_allclose(np.abs(ys[side] - y0), b, atol=1e-6)  # the straight sides, exact


def _contourpy_area(z, level):
    contourpy = pytest.importorskip("contourpy")
    gen = contourpy.contour_generator(z=z, name="serial",
                                      fill_type=contourpy.FillType.OuterOffset)  # fmt: skip
    polys, offsets = gen.filled(-1.0, level)
    total = 0.0
    for pts, off in zip(polys, offsets, strict=True):
        rings = [shapely.LinearRing(pts[off[i] : off[i + 1]]) for i in range(len(off) - 1)]
        total += shapely.Polygon(rings[0], rings[1:]).area
    return total


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(4, 30), st.integers(4, 30), st.floats(0.2, 0.8))
def test_tracer_equals_contourpy(seed, n_row, n_col, level):
    """The compiled marching squares against contourpy's (an independent implementation):
    the same filled area on random smooth fields, with holes, islands and saddles."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n_row, 0:n_col]
    z = np.zeros((n_row, n_col))
    for _ in range(4):  # a few bumps, some of them negative (holes)
        cx, cy, w = rng.uniform(0, n_col), rng.uniform(0, n_row), rng.uniform(1, 6)
        z += rng.choice([-1.0, 1.0]) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * w * w))
    d = np.clip(0.5 - z, 0.0, 2.0)  # a distance-like field, low = inside
    d[0, :] = d[-1, :] = d[:, 0] = d[:, -1] = 2.0  # the border outside, as in a tile
    start_at = np.full(2 * d.size, -1, np.int64)
    ptr, x, y = _trace(d * d, level, start_at, np.empty(2 * d.size, np.int64))
    assert (start_at == -1).all()  # the scratch is left clean for the next area
    if len(ptr) == 1:
        assert _contourpy_area(d, level) == 0.0
        return
    n_pts = np.diff(ptr)
    rings = shapely.linearrings(np.column_stack([x, y]),
                                indices=np.repeat(np.arange(len(n_pts)), n_pts))  # fmt: skip
    out = _assemble(rings, np.zeros(len(rings), np.int64), np.array([shapely.Polygon()]))
    assert shapely.is_valid(out[0])
    assert out[0].area == pytest.approx(_contourpy_area(d, level), rel=1e-9, abs=1e-9)


def test_grid_rejects_bad_method_and_resolution(nanjing_net):
    src = _sources(nanjing_net, 2, seed=3)
    with pytest.raises(InputError, match="method must be 'exact' or 'grid'"):
        service_areas(nanjing_net, src, 300.0, method="raster")  # type: ignore[arg-type]
    for bad in (0.0, -1.0, np.nan, 30.0):
        with pytest.raises(InputError, match="resolution_m must be positive metres"):
            service_areas(nanjing_net, src, 300.0, method="grid", resolution_m=bad)
    # a lattice too fine for memory is refused with the spacing that would do
    with pytest.raises(InputError, match=r"lattice vertices at resolution_m=0.05 .* use "
                                         r"resolution_m >= \d"):  # fmt: skip
        service_areas(nanjing_net, src, 600.0, method="grid", resolution_m=0.05)


def test_coverage_service_areas_pass_the_method(nanjing_net):
    from embedsite import coverage  # noqa: F401  (the API path is Coverage.service_areas)

    src = _sources(nanjing_net, 3, seed=8)
    exact = service_areas(nanjing_net, src, 400.0)
    grid = service_areas(nanjing_net, src, 400.0, method="grid")  # resolution buffer / 5
    rel = np.abs(grid["area_m2"] - exact["area_m2"]) / exact["area_m2"]
    assert rel.max() < 0.02

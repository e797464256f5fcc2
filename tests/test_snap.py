"""The nearest-segment search of ``snap`` (compiled grid) against GEOS' nearest search,
brute force and the k-d tree search it replaced."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ANDORRA, shared_file
from embedsite import _graphbuild
from embedsite.errors import FarFromNetworkError


def _random_xy(net, n, seed, grow=0.0):
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = net.nodes.total_bounds
    return np.column_stack(
        [rng.uniform(minx - grow, maxx + grow, n), rng.uniform(miny - grow, maxy + grow, n)]
    )


@pytest.mark.parametrize("max_distance", [30.0, 500.0, 5_000.0])
def test_nearest_equals_geos_on_random_points(helsinki_net, max_distance):
    seg = _graphbuild.Segments.of(helsinki_net.edge_geometry)
    xy = _random_xy(helsinki_net, 5_000, seed=4, grow=800.0)
    got = seg.nearest(xy, max_distance)
    ref = seg.geos_nearest(xy)
    d_ref = seg.distance(xy, ref)
    np.testing.assert_array_equal(got >= 0, d_ref <= max_distance)
    ok = got >= 0
    np.testing.assert_allclose(seg.distance(xy[ok], got[ok]), d_ref[ok], rtol=0, atol=1e-9)
    # where the two pick different segments it is a tie: the lowest such segment is taken
    differ = ok & (got != ref)
    assert (got[differ] < ref[differ]).all()


@settings(max_examples=15, deadline=None)
@given(
    cell=st.floats(4.0, 400.0),
    rings=st.sampled_from([0, 1, 2, 3, 6]),
    seed=st.integers(0, 10_000),
)
def test_any_cell_and_rings_stay_exact(nanjing_net, cell, rings, seed):
    """The exactness argument does not depend on the tuning: fine or coarse cells, few or
    many rings per level, the answer is the brute-force nearest segment."""
    seg = dataclasses.replace(
        _graphbuild.Segments.of(nanjing_net.edge_geometry, cell=cell), rings=rings
    )
    xy = _random_xy(nanjing_net, 300, seed=seed, grow=300.0)
    got = seg.nearest(xy, 400.0)
    every = np.arange(len(seg.start))
    brute = seg.distance(xy[:, None, :], every[None, :])
    best = brute.min(axis=1)
    np.testing.assert_array_equal(got >= 0, best <= 400.0)
    ok = got >= 0
    np.testing.assert_allclose(brute[ok, got[ok]], best[ok], rtol=0, atol=1e-9)
    lowest = np.argmax(brute[ok] <= best[ok, None], axis=1)  # first segment at the minimum
    np.testing.assert_array_equal(got[ok], lowest)


def test_points_on_nodes_snap_to_the_lowest_tied_segment(nanjing_net):
    net = nanjing_net
    seg = _graphbuild.Segments.of(net.edge_geometry)
    xy = net.nodes[["x", "y"]].to_numpy()
    got = seg.nearest(xy, 1.0)
    assert (got >= 0).all()
    every = np.arange(len(seg.start))
    brute = seg.distance(xy[:, None, :], every[None, :])
    assert np.abs(brute[np.arange(len(xy)), got]).max() < 1e-9
    np.testing.assert_array_equal(got, np.argmax(brute <= brute.min(axis=1)[:, None], axis=1))
    snapped = net.snap(gpd.GeoSeries(shapely.points(xy), crs=net.crs), max_distance=1.0)
    assert snapped["access_m"].max() < 1e-9


def test_far_message_names_exact_distances(nanjing_net):
    net = nanjing_net
    seg = _graphbuild.Segments.of(net.edge_geometry)
    minx, miny, maxx, maxy = net.nodes.total_bounds
    xy = np.array([[maxx + 3_000.0, maxy + 4_000.0], [(minx + maxx) / 2, (miny + maxy) / 2]])
    pts = gpd.GeoSeries(shapely.points(xy), crs=net.crs, index=["far", "mid"])
    exact = seg.distance(xy[:1], seg.geos_nearest(xy[:1]))[0]
    with pytest.raises(FarFromNetworkError, match=rf"'far' \({exact:,.0f} m\)"):
        net.snap(pts, max_distance=100.0)
    kept = net.snap(pts, max_distance=100.0, on_far="drop")
    assert list(kept.index) == ["mid"]


# --- the compiled grid against brute force on random segments ---------------------------


def _brute(start, vector, xy, max_distance):
    """Nearest segment by numpy over every segment (lowest on ties), -1 beyond the limit."""
    seg = _graphbuild.Segments(
        start=start, vector=vector, **{k: None for k in _UNUSED}
    )  # only distance() is used
    every = np.arange(len(start))
    d = seg.distance(xy[:, None, :], every[None, :])
    best = d.min(axis=1)
    pick = np.argmax(d <= best[:, None], axis=1)
    return np.where(best <= max_distance, pick, -1), best


_UNUSED = ("offset", "edge", "edge_length", "bounds", "cell", "nx", "ny", "base",
           "cell_start", "cell_seg", "grid_start", "grid_vector", "grid_id", "eps")  # fmt: skip


def _segments(coords: np.ndarray, cell: float | None, rings: int) -> _graphbuild.Segments:
    """Segments of two-point lines ``coords[i] -> coords[i + 1]`` for even ``i``."""
    idx = np.repeat(np.arange(len(coords) // 2), 2)
    seg = _graphbuild.Segments.from_coords(coords, idx, len(coords) // 2, cell=cell)
    return dataclasses.replace(seg, rings=rings)


@st.composite
def _scenes(draw):
    n_seg = draw(st.integers(1, 40))
    span = draw(st.sampled_from([1.0, 50.0, 2_000.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, span, (n_seg, 2))
    b = a + rng.normal(0, span / draw(st.sampled_from([2.0, 20.0, 200.0])), (n_seg, 2))
    kind = draw(st.sampled_from(["plain", "duplicates", "zero", "lattice"]))
    if kind == "duplicates":  # the same segment several times, also reversed
        k = max(n_seg // 3, 1)
        a[-k:], b[-k:] = b[:k], a[:k]
    elif kind == "zero":  # zero-length segments (a node drawn twice)
        b[::3] = a[::3]
    elif kind == "lattice":  # a street grid of round coordinates: ties everywhere
        a, b = np.round(a / 10) * 10, np.round(b / 10) * 10
        b[:, 1] = np.where(rng.random(n_seg) < 0.5, a[:, 1], b[:, 1])
    coords = np.stack([a, b], axis=1).reshape(-1, 2) + 600_000.0  # UTM-sized values
    n_pt = draw(st.integers(1, 60))
    far = draw(st.sampled_from([0.0, span, 10 * span + 600.0]))
    xy = rng.uniform(-far, span + far, (n_pt, 2)) + 600_000.0
    if kind == "lattice":
        xy[::2] = np.round(xy[::2] / 5) * 5  # on lattice nodes and midpoints: exact ties
    cell = draw(st.sampled_from([None, 0.01, 0.3, 3.0]))
    cell = None if cell is None else cell * span
    rings = draw(st.sampled_from([0, 1, 2, 4]))
    return coords, xy, cell, rings


@settings(max_examples=300, deadline=None)
@given(scene=_scenes(), max_distance=st.sampled_from([1e-3, 5.0, 100.0, 1e4, 1e9]))
def test_grid_equals_brute_force_on_random_segments(scene, max_distance):
    coords, xy, cell, rings = scene
    seg = _segments(coords, cell, rings)
    want, best = _brute(seg.start, seg.vector, xy, max_distance)
    got, dist = seg.nearest_distance(xy, max_distance)
    np.testing.assert_array_equal(got, want)
    ok = got >= 0
    np.testing.assert_array_equal(dist[ok], best[ok])  # the same arithmetic: bit for bit
    assert np.isinf(dist[~ok]).all()


@settings(max_examples=50, deadline=None)
@given(scene=_scenes())
def test_max_distance_exactly_at_the_distance(scene):
    """A point exactly ``max_distance`` from its segment is kept; one ulp less drops it."""
    coords, xy, cell, rings = scene
    seg = _segments(coords, cell, rings)
    _, best = _brute(seg.start, seg.vector, xy, np.inf)
    for i in range(min(len(xy), 5)):
        if best[i] <= 0:
            continue
        at = seg.nearest(xy[i : i + 1], float(best[i]))
        below = seg.nearest(xy[i : i + 1], float(np.nextafter(best[i], 0)))
        assert at[0] >= 0 and below[0] == -1


def test_nan_and_far_points_get_minus_one(nanjing_net):
    seg = _graphbuild.Segments.of(nanjing_net.edge_geometry)
    minx, miny, maxx, maxy = nanjing_net.nodes.total_bounds
    xy = np.array([[np.nan, miny], [minx, np.inf], [maxx + 1e7, maxy], [minx, miny - 1e12]])
    np.testing.assert_array_equal(seg.nearest(xy, 500.0), -1)
    # a huge limit: the far points still find their (brute-force) nearest segment
    got = seg.nearest(xy[2:], 1e13)
    every = np.arange(len(seg.start))
    brute = seg.distance(xy[2:, None, :], every[None, :])
    np.testing.assert_array_equal(got, np.argmin(brute, axis=1))


def test_empty_segments_and_points():
    seg = _segments(np.zeros((0, 2)), None, 2)
    assert seg.nearest(np.array([[1.0, 2.0]]), 10.0).tolist() == [-1]
    seg = _segments(np.array([[0.0, 0.0], [1.0, 0.0]]), None, 2)
    assert seg.nearest(np.zeros((0, 2)), 10.0).shape == (0,)


def test_every_segment_is_listed_in_the_cells_it_crosses(nanjing_net):
    """The bound of the search: a point of a segment lies in a cell listing it (checked at
    101 points along every segment, on every level)."""
    seg = _graphbuild.Segments.of(nanjing_net.edge_geometry)
    x0, y0 = seg.bounds[:2]
    listed = set()
    for k in range(len(seg.nx)):
        for c in range(seg.nx[k] * seg.ny[k]):
            g = seg.base[k] + c
            for s in seg.cell_seg[seg.cell_start[g] : seg.cell_start[g + 1]]:
                listed.add((k, c, int(seg.grid_id[s])))
    for t in np.linspace(0.0, 1.0, 101):
        probe = seg.start + t * seg.vector
        for k in range(len(seg.nx)):
            h = seg.cell * 2.0**k
            cx = np.floor((probe[:, 0] - x0) / h).astype(int)
            cy = np.floor((probe[:, 1] - y0) / h).astype(int)
            cells = cy * seg.nx[k] + cx
            assert all((k, int(c), s) in listed for s, c in enumerate(cells))


@pytest.mark.slow
def test_grid_picks_the_kdtree_segment_on_andorra():
    """100,000 random points over a real extract (up to kilometres from a street): the
    compiled grid picks the same segment as the k-d tree search it replaced."""
    import embedsite.network as en
    from _snap_reference import KDTreeSegments

    andorra_net = en.from_osm_file(shared_file(ANDORRA))
    geom = andorra_net.edge_geometry
    new, old = _graphbuild.Segments.of(geom), KDTreeSegments.of(geom)
    xy = _random_xy(andorra_net, 100_000, seed=21, grow=300.0)
    for max_distance in (25.0, 500.0):
        got = new.nearest(xy, max_distance)
        np.testing.assert_array_equal(got, old.nearest(xy, max_distance))
        assert (got >= 0).any() and (got < 0).any()


def test_grid_picks_the_kdtree_segment_on_nanjing(nanjing_net):
    from _snap_reference import KDTreeSegments

    geom = nanjing_net.edge_geometry
    new, old = _graphbuild.Segments.of(geom), KDTreeSegments.of(geom)
    xy = _random_xy(nanjing_net, 100_000, seed=22, grow=300.0)
    np.testing.assert_array_equal(new.nearest(xy, 500.0), old.nearest(xy, 500.0))


def test_snap_columns_equal_the_numpy_projection(nanjing_net):
    """The compiled projection gives what the numpy one of the k-d tree version gave."""
    from _snap_reference import KDTreeSegments

    net = nanjing_net
    new = _graphbuild.Segments.of(net.edge_geometry)
    old = KDTreeSegments.of(net.edge_geometry)
    xy = _random_xy(net, 20_000, seed=5)
    s = new.nearest(xy, 500.0)
    xy, s = xy[s >= 0], s[s >= 0]
    edge, position, to_v, access, foot = new.columns(xy, s, net.edge_lengths)
    a, d = old.start[s], old.vector[s]
    dd = np.einsum("ij,ij->i", d, d)
    t = np.clip(np.divide(np.einsum("ij,ij->i", xy - a, d), dd, out=np.zeros(len(s)),
                          where=dd > 0), 0.0, 1.0)  # fmt: skip
    want_foot = a + t[:, None] * d
    along = old.offset[s] + t * np.sqrt(dd)
    np.testing.assert_array_equal(edge, old.edge[s])
    np.testing.assert_allclose(foot, want_foot, rtol=0, atol=1e-9)
    np.testing.assert_allclose(access, np.hypot(*(xy - want_foot).T), rtol=0, atol=1e-9)
    glen = old.edge_length[edge]
    frac = np.divide(along, glen, out=np.zeros_like(along), where=glen > 0)
    want = np.clip(frac, 0.0, 1.0) * net.edge_lengths[edge]
    np.testing.assert_allclose(position, want, rtol=0, atol=1e-9)
    np.testing.assert_allclose(to_v, net.edge_lengths[edge] - want, rtol=0, atol=1e-9)


def test_snap_of_lonlat_points_equals_snap_of_reprojected_points(nanjing_net):
    net = nanjing_net
    xy = _random_xy(net, 2_000, seed=8)
    pts = gpd.GeoSeries(shapely.points(xy), crs=net.crs)
    direct = net.snap(pts, on_far="drop")
    via = net.snap(pts.to_crs(4326), on_far="drop")
    assert direct.index.equals(via.index)
    np.testing.assert_array_equal(direct["edge"], via["edge"])
    np.testing.assert_allclose(direct["access_m"], via["access_m"], rtol=0, atol=1e-6)

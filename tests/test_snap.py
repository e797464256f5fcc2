"""The k-d tree snapping index against GEOS' nearest search and brute force."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

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
    spacing=st.floats(0.5, 200.0),
    passes=st.sampled_from([(1,), (2, 3), (8, 32), (4,)]),
    seed=st.integers(0, 10_000),
)
def test_any_spacing_and_passes_stay_exact(nanjing_net, spacing, passes, seed):
    """The exactness argument does not depend on the tuning: coarse or fine samples, few or
    many asked per pass, the answer is the brute-force nearest segment."""
    seg = dataclasses.replace(
        _graphbuild.Segments.of(nanjing_net.edge_geometry, spacing=spacing), passes=passes
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


def test_chunks_give_the_same_answer(nanjing_net, monkeypatch):
    seg = _graphbuild.Segments.of(nanjing_net.edge_geometry)
    xy = _random_xy(nanjing_net, 1_000, seed=9, grow=200.0)
    whole = seg.nearest(xy, 300.0)
    monkeypatch.setattr(_graphbuild, "_CHUNK", 37)  # 28 chunks, the last one short
    np.testing.assert_array_equal(seg.nearest(xy, 300.0), whole)
    assert (whole >= 0).any() and (whole < 0).any()


def test_z_order_and_chunks_do_not_change_the_answer(nanjing_net, monkeypatch):
    seg = _graphbuild.Segments.of(nanjing_net.edge_geometry)
    xy = _random_xy(nanjing_net, 1_000, seed=11, grow=200.0)
    monkeypatch.setattr(_graphbuild, "_SORT_MIN", 10**9)
    plain = seg.nearest(xy, 300.0)
    monkeypatch.setattr(_graphbuild, "_SORT_MIN", 0)
    monkeypatch.setattr(_graphbuild, "_SORT_MIN_SAMPLES", 0)
    monkeypatch.setattr(_graphbuild, "_CHUNK", 37)
    np.testing.assert_array_equal(seg.nearest(xy, 300.0), plain)
    np.testing.assert_array_equal(seg.nearest(xy[::-1], 300.0), plain[::-1])
    code = _graphbuild._morton(xy)
    assert len(np.unique(code)) > 990  # distinct cells: the order is spatial, not arbitrary


def test_samples_are_piece_midpoints_within_half_spacing(nanjing_net):
    """The exactness bound: every point of a segment is within spacing / 2 of a sample of
    that segment (checked at 11 points along every segment)."""
    seg = _graphbuild.Segments.of(nanjing_net.edge_geometry)
    pts = seg.samples.data
    for t in np.linspace(0.0, 1.0, 11):
        probe = seg.start + t * seg.vector
        d = np.full(len(probe), np.inf)
        np.minimum.at(d, seg.sample_segment, np.hypot(*(pts - probe[seg.sample_segment]).T))
        assert (d <= seg.spacing / 2 + 1e-9).all()

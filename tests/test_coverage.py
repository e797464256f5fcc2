"""Coverage: exact walk distances per type, recomputed another way, and the tables on top."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

import embedsite.demand as ed
import embedsite.facilities as ef
from conftest import NANJING, shared_file
from embedsite import coverage
from embedsite.errors import InputError, UnknownFacilityTypeError
from embedsite.standards import Standards
from test_network import _insert_points


@pytest.fixture(scope="module")
def nanjing_inputs(nanjing_net):
    homes = ed.from_osm_file(shared_file(NANJING), nanjing_net, on_far="drop")
    supply = ef.from_osm_file(NANJING, nanjing_net)
    return nanjing_net, homes, supply


@pytest.fixture(scope="module")
def nanjing_cov(nanjing_inputs):
    net, homes, supply = nanjing_inputs
    return coverage.compute(net, homes, supply)


def _halves(net, crs=None, **columns):
    """Two neighbourhoods splitting the network's extent west/east."""
    minx, miny, maxx, maxy = net.nodes.total_bounds
    mid = (minx + maxx) / 2
    return gpd.GeoDataFrame(
        {"name": ["west", "east"], **columns},
        geometry=[shapely.box(minx - 1e4, miny - 1e4, mid, maxy + 1e4),
                  shapely.box(mid, miny - 1e4, maxx + 1e4, maxy + 1e4)],
        crs=net.crs,
    ).to_crs(crs or net.crs)  # fmt: skip


def test_distances_equal_networkx_with_points_inserted(nanjing_inputs, nanjing_cov):
    net, homes, supply = nanjing_inputs
    res = homes.points
    fac = supply.points
    both = pd.concat([res[["edge", "position_m", "access_m"]].set_axis(
        [("r", i) for i in res.index]), fac[["edge", "position_m", "access_m"]].set_axis(
        [("f", i) for i in fac.index])])  # fmt: skip
    H = _insert_points(net.to_networkx(), both, net.edge_lengths, net.edges)
    for key in ("junior_middle_school", "primary_school", "kindergarten"):
        src = {("a", ("f", i)) for i in fac.index[fac["facility_type"] == key]}
        ref = nx.multi_source_dijkstra_path_length(H, src, weight="length")
        expected = np.array([ref.get(("a", ("r", i)), np.inf) for i in res.index])
        got = nanjing_cov.distance[key].to_numpy()
        limit = nanjing_cov.max_walk_m[key]
        expected[expected > limit] = np.inf
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_shares_recomputed_by_hand(nanjing_inputs, nanjing_cov):
    _net, homes, _supply = nanjing_inputs
    table = nanjing_cov.by_type
    for key in ("junior_middle_school", "kindergarten", "nursery"):
        ftype = nanjing_cov.standards[key]
        served = homes.population(ftype.age_group).to_numpy()
        within = nanjing_cov.distance[key].to_numpy() <= ftype.walk_radius_m
        assert table.loc[key, "served"] == pytest.approx(served.sum())
        assert table.loc[key, "covered"] == pytest.approx(served[within].sum())
        assert table.loc[key, "uncovered"] == pytest.approx(served[~within].sum())
        gaps = nanjing_cov.gaps(key)
        assert gaps["served"].sum() == pytest.approx(served[~within].sum())
    # no nursery is mapped: every 0-3 year old is a gap
    assert table.loc["nursery", "share_covered"] == 0
    assert table.loc["junior_middle_school", "share_covered"] > 0.5


def test_nearest_is_the_facility_at_that_distance(nanjing_inputs, nanjing_cov):
    net, homes, supply = nanjing_inputs
    key = "primary_school"
    near = nanjing_cov.nearest[key]
    ok = near.notna()
    res = homes.points.loc[ok]
    fac = supply.points.loc[near[ok].to_numpy()]
    np.testing.assert_allclose(
        net.walk_distance(fac, res), nanjing_cov.distance[key][ok].to_numpy(), atol=1e-6
    )
    # the facilities' own labels (object, None where none is reached), never a coerced dtype
    assert all(d == np.dtype(object) for d in nanjing_cov.nearest.dtypes)
    assert set(near[ok]) <= set(supply.points.index) and near[~ok].isna().all()
    assert ok.equals(np.isfinite(nanjing_cov.distance[key]))


def test_nearest_is_found_on_first_use_and_a_pass_per_type_agrees(
    nanjing_inputs, nanjing_cov, monkeypatch
):
    """compute finds distances only; the labels come on first use, from the same searches.
    Under a progress bar (one pass per type) both equal the one pass for all types."""
    import embedsite

    net, homes, supply = nanjing_inputs
    fresh = coverage.compute(net, homes, supply)
    assert "nearest" not in vars(fresh)  # not found by compute
    pd.testing.assert_frame_equal(fresh.nearest, nanjing_cov.nearest)
    assert fresh.nearest is fresh.nearest  # found once, then kept
    monkeypatch.setattr(coverage, "_PROGRESS_WORK", 0)
    with embedsite.config_context(progress=True):
        per_type = coverage.compute(net, homes, supply)
        pd.testing.assert_frame_equal(per_type.distance, nanjing_cov.distance)
        pd.testing.assert_frame_equal(per_type.nearest, nanjing_cov.nearest)
    # every facility type has a column, and a reached distance names a facility of that type
    kinds = supply.points["facility_type"]
    for key in per_type.types:
        named = per_type.nearest[key].dropna()
        assert (kinds.loc[named.to_numpy()] == key).all()


def test_by_neighbourhood_adds_up(nanjing_inputs, nanjing_cov):
    net, _homes, _ = nanjing_inputs
    halves = _halves(net, crs=4326)
    table = nanjing_cov.by_neighbourhood(halves, name_column="name")
    summed = table.groupby(level="facility_type")[["served", "covered"]].sum()
    whole = nanjing_cov.by_type
    np.testing.assert_allclose(summed.loc[whole.index, "served"], whole["served"], rtol=1e-9)
    np.testing.assert_allclose(summed.loc[whole.index, "covered"], whole["covered"], rtol=1e-9)


def test_by_neighbourhood_equals_a_loop_over_cells(nanjing_inputs, nanjing_cov):
    # recomputed another way: per cell, the residents it covers (first cell on shared edges),
    # served/covered sums, weighted mean and coverage.weighted_quantile per type
    from embedsite.scoring import hex_grid

    _net, homes, _ = nanjing_inputs
    cells = hex_grid(homes.points, size_m=120.0)
    table = nanjing_cov.by_neighbourhood(cells)
    pts = homes.points.geometry.to_numpy()
    taken = np.zeros(len(pts), dtype=bool)
    seen = []
    for label, cell in zip(cells.index, cells.geometry.to_numpy(), strict=True):
        mask = shapely.intersects(cell, pts) & ~taken
        taken |= mask
        if not mask.any():
            continue
        seen.append(label)
        for key in nanjing_cov.types:
            row = table.loc[(label, key)]
            served = nanjing_cov.served(key).to_numpy(float)[mask]
            dist = nanjing_cov.distance[key].to_numpy(float)[mask]
            cov = nanjing_cov.covered[key].to_numpy()[mask]
            assert row["served"] == pytest.approx(served.sum(), rel=1e-12, abs=1e-9)
            assert row["covered"] == pytest.approx(served[cov].sum(), rel=1e-12, abs=1e-9)
            assert row["p90_walk_m"] == coverage.weighted_quantile(dist, served, 0.9) or (
                np.isnan(row["p90_walk_m"]) and served.sum() == 0
            )
            ok = np.isfinite(dist) & (served > 0)
            if ok.any():
                mean = np.average(dist[ok], weights=served[ok])
                assert row["mean_walk_m"] == pytest.approx(mean, rel=1e-9)
    assert list(table.index.get_level_values("area").unique()) == seen
    assert len(seen) > 20


def test_a_resident_on_a_shared_edge_counts_once(nanjing_inputs, nanjing_cov):
    _, homes, _ = nanjing_inputs
    p = homes.points.geometry.iloc[0]
    x0, y0, x1, y1 = homes.points.total_bounds
    halves = gpd.GeoDataFrame(
        {"name": ["west", "east"]},
        geometry=[
            shapely.box(x0 - 1, y0 - 1, p.x, y1 + 1),
            shapely.box(p.x, y0 - 1, x1 + 1, y1 + 1),
        ],
        crs=homes.points.crs,
    )
    table = nanjing_cov.by_neighbourhood(halves, name_column="name")
    summed = table.groupby(level="facility_type")["served"].sum()
    whole = nanjing_cov.by_type["served"]
    np.testing.assert_allclose(summed.loc[whole.index], whole, rtol=1e-12)
    norm = nanjing_cov.area_norm(halves, name_column="name")
    assert norm["households"].sum() == pytest.approx(homes.points["households"].sum())


def test_coverage_grows_with_the_radius(nanjing_inputs):
    net, homes, supply = nanjing_inputs
    base = supply.standards
    shares = []
    for radius in (150.0, 300.0, 600.0, 1200.0):
        t = dataclasses.replace(base["junior_middle_school"], walk_radius_m=radius)
        std = Standards([t])
        cov = coverage.compute(net, homes, supply, std, max_walk_m=3000)
        shares.append(cov.by_type.loc["junior_middle_school", "share_covered"])
    assert shares == sorted(shares) and shares[0] < shares[-1]


def test_weighted_quantile_matches_repetition():
    rng = np.random.default_rng(1)
    v = rng.uniform(0, 1000, 50)
    w = rng.integers(1, 5, 50).astype(float)
    rep = np.repeat(v, w.astype(int))
    assert coverage.weighted_quantile(v, w, 0.9) == pytest.approx(
        np.quantile(rep, 0.9, method="inverted_cdf")
    )


def test_bad_input(nanjing_inputs, nanjing_cov):
    net, homes, supply = nanjing_inputs
    with pytest.raises(UnknownFacilityTypeError, match="kindergarten"):
        coverage.compute(net, homes, supply, types=["kindergarden"])
    with pytest.raises(InputError, match="max_walk_m"):
        coverage.compute(net, homes, supply, types=["kindergarten"], max_walk_m=-5)
    cov = coverage.compute(net, homes, supply, types=["kindergarten"])
    with pytest.raises(InputError, match="analysed"):
        cov.gaps("nursery")
    far = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(InputError, match="inside the neighbourhood"):
        nanjing_cov.by_neighbourhood(far)


def test_area_norm_per_100_households(nanjing_inputs, nanjing_cov):
    net, homes, _ = nanjing_inputs
    halves = _halves(net, space=[1200.0, 0.0])
    table = nanjing_cov.area_norm(halves, name_column="name", floor_area_column="space")
    assert table["households"].sum() == pytest.approx(homes.points["households"].sum())
    west = table.loc["west"]
    expected = 1200.0 / (west["households"] / 100)
    assert west["m2_per_100_households"] == pytest.approx(expected)
    assert west["meets_min"] == (expected >= 30)
    assert west["shortfall_min_m2"] == pytest.approx(max(0.0, west["households"] * 0.30 - 1200))
    east = table.loc["east"]
    assert not east["meets_min"] and east["shortfall_target_m2"] == pytest.approx(
        east["households"] * 0.80
    )
    # from the mapped facilities: none has a known floor area in OSM here, and it says so
    mapped = nanjing_cov.area_norm(halves, name_column="name")
    assert (mapped["floor_area_m2"] == 0).all()
    with pytest.raises(InputError, match="no column"):
        nanjing_cov.area_norm(halves, floor_area_column="nope")


def test_area_norm_from_facility_floor_areas(nanjing_inputs):
    net, homes, _ = nanjing_inputs
    nodes = net.nodes.sort_values("x")
    west_nodes = nodes.iloc[:3]
    table = pd.DataFrame(
        {"type": ["日间照料中心", "社区食堂", "幼儿园"], "area": [300.0, 500.0, 2000.0],
         "lon": west_nodes["lon"].to_numpy(), "lat": west_nodes["lat"].to_numpy()}
    )  # fmt: skip
    supply = ef.from_table(
        table, net, type_column="type", floor_area_column="area", coordinate_system="wgs84"
    )
    cov = coverage.compute(net, homes, supply, types=["elderly_day_care_center"])
    halves = _halves(net)
    norm = cov.area_norm(halves, name_column="name")
    # the kindergarten is education, not community service space
    assert norm.loc["west", "floor_area_m2"] == pytest.approx(800.0)
    assert norm.loc["east", "floor_area_m2"] == 0.0


def test_two_step_fca_on_the_network(nanjing_inputs):
    net, homes, _ = nanjing_inputs
    nodes = net.nodes.sample(6, random_state=3)
    table = pd.DataFrame(
        {"type": "托育", "places": [20.0, 40.0, 10.0, 30.0, 25.0, 15.0],
         "lon": nodes["lon"].to_numpy(), "lat": nodes["lat"].to_numpy()}
    )  # fmt: skip
    supply = ef.from_table(table, net, type_column="type", capacity_column="places")
    cov = coverage.compute(net, homes, supply, types=["nursery"])
    res = cov.access("nursery")
    served = homes.population("0-3").to_numpy()
    # supply is conserved: every place within reach of someone is shared out to residents
    reach = ~np.isnan(res.facility_ratio)
    assert (res.ratio * served).sum() == pytest.approx(table["places"].to_numpy()[reach].sum())
    # residents with no nursery within 300 m have no access
    assert (res.ratio[~cov.covered["nursery"].to_numpy()] == 0).all()
    gauss = cov.access("nursery", decay="gaussian")
    assert (gauss.ratio >= 0).all()
    with pytest.raises(InputError, match="no column"):
        cov.access("nursery", capacity="beds")


def test_service_areas_of_a_type(nanjing_inputs, nanjing_cov):
    _, _, supply = nanjing_inputs
    areas = nanjing_cov.service_areas("junior_middle_school", kind="lines")
    schools = supply.of_type("junior_middle_school")
    assert list(areas.index) == list(schools.index)
    assert (areas["street_length_m"] > 0).all()
    polys = nanjing_cov.service_areas("junior_middle_school")
    # every covered resident's point is near some reached street of the type
    covered = nanjing_cov.covered["junior_middle_school"]
    assert polys.geometry.union_all().area > 0 and covered.any()

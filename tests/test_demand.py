"""Tests of embedsite.demand on the Helsinki sample and the Nanjing Xinjiekou extract."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedsite.demand as ed
from conftest import NANJING, SAMPLE, shared_file
from embedsite._osmfeatures import read_features
from embedsite.crs import wgs84_to_bd09, wgs84_to_gcj02
from embedsite.errors import (
    CoordinateSystemError,
    CRSError,
    DataFileError,
    EmptyInputError,
    FarFromNetworkError,
    InputError,
    MissingColumnError,
    PopulationError,
)

SNAP = ["edge", "u", "v", "position_m", "to_u_m", "to_v_m", "access_m"]
BANDS = ["pop_0_3", "pop_3_6", "pop_6_12", "pop_12_15", "pop_60plus"]


def conserved(d: ed.Demand) -> None:
    r = d.report
    assert r.population_in == pytest.approx(r.population_snapped + r.population_dropped, 1e-9)
    assert d.total == pytest.approx(r.population_snapped, rel=1e-9)
    assert len(d) == r.points_snapped == r.points - len(r.dropped_rows)


@pytest.fixture(scope="module")
def nanjing_path():
    return shared_file(NANJING)


@pytest.fixture(scope="module")
def nanjing_buildings(nanjing_path):
    b = read_features(nanjing_path, ["building"], tags=["building", "building:levels"], nodes=False)
    b.index = [f"{t}/{i}" for t, i in zip(b.osm_type, b.osm_id, strict=True)]
    return b


@pytest.fixture(scope="module")
def nanjing_compounds(nanjing_path):
    lu = read_features(nanjing_path, ["landuse"], nodes=False)
    lu = lu[lu["landuse"] == "residential"]
    lu.index = [f"way/{i}" for i in lu.osm_id]
    return lu


@pytest.fixture(scope="module")
def nanjing_demand(nanjing_path, nanjing_net):
    return ed.from_osm_file(nanjing_path, nanjing_net, on_far="drop")


# --------------------------------------------------------------------------- OSM / buildings
def test_nanjing_osm_demand(nanjing_demand, nanjing_net):
    d, r = nanjing_demand, nanjing_demand.report
    conserved(d)
    p = d.points
    assert p.crs == nanjing_net.crs
    for col in ["population", "households", *BANDS, *SNAP, "entry", "gate_id", "source"]:
        assert col in p.columns
    assert r.rows_in == 1277 and 400 < r.rows_used < 1277
    assert r.levels_given + r.levels_filled == r.rows_used
    assert sum(n for _, n in r.levels_filled_by) == r.levels_filled > 0
    assert r.compounds == 11
    assert 20_000 < d.total < 100_000
    assert np.allclose(p["households"], p["population"] / 2.62)
    assert p.index[0].startswith("way/")
    assert set(p["entry"]) == {"street"} and p["gate_id"].isna().all()


def test_summary_and_population(nanjing_demand):
    s = nanjing_demand.summary()
    assert list(s.columns) == ["value", "share"]
    assert s.loc["residents 居民", "value"] == pytest.approx(nanjing_demand.total)
    assert s.loc["aged 60+ (60岁及以上)", "share"] == pytest.approx(0.187)
    assert s.loc["households 户数", "value"] == pytest.approx(nanjing_demand.households)
    pd.testing.assert_series_equal(
        nanjing_demand.population("0-3"), nanjing_demand.points["pop_0_3"]
    )
    with pytest.raises(InputError, match=r"valid ones.*did you mean '60\+'"):
        nanjing_demand.population("60")
    assert "residents" in repr(nanjing_demand)


def test_helsinki_far_residents_dropped_or_raised(helsinki_net):
    d = ed.from_osm_file(SAMPLE, helsinki_net, max_distance=15, on_far="drop")
    conserved(d)
    assert d.report.dropped_rows and d.report.population_dropped > 0
    with pytest.raises(FarFromNetworkError, match="farther than 15 m"):
        ed.from_osm_file(SAMPLE, helsinki_net, max_distance=15)


def _box_buildings(**cols):
    # three 20 x 10 m buildings near Helsinki streets, in a metric CRS (area exactly 200 m²)
    x0, y0 = 385600.0, 6672200.0
    geoms = [shapely.box(x0 + 40 * i, y0, x0 + 40 * i + 20, y0 + 10) for i in range(3)]
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=32635, index=["a", "b", "c"])


def test_levels_filled_by_rule_and_counted(helsinki_net):
    b = _box_buildings(building=["apartments", "house", "residential"],
                       **{"building:levels": ["4", None, "n/a"]})  # fmt: skip
    d = ed.from_buildings(b, helsinki_net, floor_area_per_person_m2=40, max_distance=2000,
                          default_levels={"house": 3, "*": 5})  # fmt: skip
    assert d.report.levels_given == 1 and d.report.levels_filled == 2
    assert dict(d.report.levels_filled_by) == {"building=house -> 3": 1, "default * -> 5": 1}
    assert d.points["population"].tolist() == pytest.approx([20.0, 15.0, 25.0])
    d2 = ed.from_buildings(b, helsinki_net, default_levels=2, max_distance=2000)
    assert d2.report.levels_filled_by == (("default_levels=2", 2),)


def test_residential_filter_and_yes_in_compounds(helsinki_net):
    b = _box_buildings(building=["yes", "office", "apartments"])
    d = ed.from_buildings(b, helsinki_net, max_distance=2000)
    assert list(d.points.index) == ["c"]
    comp = gpd.GeoDataFrame(geometry=[b.geometry.iloc[0].buffer(5)], crs=32635)
    d = ed.from_buildings(b, helsinki_net, compounds=comp, max_distance=2000)
    assert list(d.points.index) == ["a", "c"]
    d = ed.from_buildings(b, helsinki_net, residential=None, max_distance=2000)
    assert len(d) == 3


def test_dwellings_vs_area_rule(helsinki_net):
    b = _box_buildings(building=["apartments"] * 3, flats=[10, 0, 4], people=[5.5, 0, 1])
    area = ed.from_buildings(b, helsinki_net, max_distance=2000)
    assert area.points["population"].tolist() == pytest.approx([200 * 6 / 36.5] * 3)
    dw = ed.from_buildings(b, helsinki_net, dwellings="flats", max_distance=2000)
    assert dw.points["population"].tolist() == pytest.approx([26.2, 0.0, 10.48])
    assert dw.points["households"].tolist() == pytest.approx([10, 0, 4])
    given_ = ed.from_buildings(b.to_crs(4326), helsinki_net, population="people", max_distance=2000)
    assert given_.total == pytest.approx(6.5) and "column" in given_.report.rule
    with pytest.raises(InputError, match="not both"):
        ed.from_buildings(b, helsinki_net, population="people", dwellings="flats")


# --------------------------------------------------------------------------- polygons
def test_dasymetric_spread_keeps_polygon_totals(nanjing_net, nanjing_buildings, nanjing_compounds):
    polys = nanjing_compounds.assign(pop=np.arange(1, 12) * 1000.0 + 0.5)
    d = ed.from_polygons(polys, nanjing_net, population_column="pop",
                         buildings=nanjing_buildings, on_far="drop")  # fmt: skip
    conserved(d)
    assert d.report.population_in == pytest.approx(polys["pop"].sum(), rel=1e-12)
    p = d.points
    from_b = p.index.isin(nanjing_buildings.index)
    assert from_b.sum() > 300
    owner = gpd.sjoin(p[from_b].to_crs(4326)[["geometry", "population"]],
                      polys[["geometry"]], predicate="within")  # fmt: skip
    grid_owner = p.index[~from_b].str.rsplit("/", n=1).str[0]
    per = pd.concat([
        owner.groupby("index_right")["population"].sum(),
        p.loc[~from_b, "population"].groupby(grid_owner.to_numpy()).sum(),
    ]).groupby(level=0).sum()  # fmt: skip
    assert per.reindex(polys.index).to_numpy() == pytest.approx(polys["pop"].to_numpy(), 1e-9)


def test_polygons_grid_and_age_columns(nanjing_net, nanjing_compounds):
    polys = nanjing_compounds.assign(pop=1000.0, old=300.0, tiny=10.0)
    d = ed.from_polygons(polys, nanjing_net, population_column="pop", grid_spacing_m=40,
                         age_columns={"60+": "old", "0-3": "tiny"}, on_far="drop")  # fmt: skip
    conserved(d)
    assert d.report.rule == "grid" and d.report.population_in == 11_000
    p = d.points
    assert np.allclose(p["pop_60plus"], 0.3 * p["population"])
    assert np.allclose(p["pop_0_3"], 0.01 * p["population"])
    assert np.allclose(p["pop_3_6"], 0.0379 * p["population"])
    assert (p.groupby(p.index.str.rsplit("/", n=1).str[0])["population"].sum() <= 1000 + 1e-9).all()
    # the smallest compound (450 m²) is smaller than a 40 m cell: one point
    small = polys.to_crs(nanjing_net.crs).area.idxmin()
    assert f"{small}/0" in p.index and f"{small}/1" not in p.index


# --------------------------------------------------------------------------- raster
def _write_raster(path, values, *, transform, nodata=-99999.0, crs="EPSG:4326"):
    import rasterio

    with rasterio.open(path, "w", driver="GTiff", height=values.shape[0], width=values.shape[1],
                       count=1, dtype="float32", crs=crs, transform=transform,
                       nodata=nodata) as dst:  # fmt: skip
        dst.write(values.astype("float32"), 1)
    return path


def test_raster_spread_totals(tmp_path, nanjing_net, nanjing_buildings):
    from affine import Affine

    values = np.array([[1000, 0, 250.5], [-99999, 400, 30], [12, 7, 3000]], dtype=float)
    tr = Affine(0.004, 0, 118.772, 0, -0.004, 32.050)
    path = _write_raster(tmp_path / "pop.tif", values, transform=tr)
    b = nanjing_buildings[nanjing_buildings["building"] == "residential"]
    d = ed.from_raster(path, nanjing_net, buildings=b, on_far="drop")
    conserved(d)
    valid = values[values >= 0]
    assert d.report.population_in == pytest.approx(valid.sum(), rel=1e-12)
    assert d.report.rows_used == int((valid > 0).sum())
    p = d.points
    cells = p.index[p.index.str.startswith("cell/")]
    assert 0 < len(cells) < 7 and p.index.isin(b.index).sum() >= 3
    assert "cell/1_0" not in p.index and "cell/0_1" not in p.index  # nodata and zero cells
    # no buildings: every populated cell becomes its centre point
    d0 = ed.from_raster(path, nanjing_net, buildings=None, on_far="drop")
    assert len(d0) + len(d0.report.dropped_rows) == 7
    bad = _write_raster(tmp_path / "bad.tif", values * -1, transform=tr, nodata=0)
    with pytest.raises(PopulationError, match="negative and not nodata"):
        ed.from_raster(bad, nanjing_net, buildings=None)
    with pytest.raises(DataFileError, match="does not exist"):
        ed.from_raster(tmp_path / "none.tif", nanjing_net, buildings=None)


# --------------------------------------------------------------------------- points
def test_csv_points_gcj02_and_bd09(tmp_path, nanjing_net, nanjing_demand):
    pts = nanjing_demand.points.to_crs(4326).geometry.iloc[:40]
    lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    people = np.linspace(1, 40, 40)
    wgs = ed.from_points(pd.DataFrame({"lon": lon, "lat": lat, "people": people}),
                         nanjing_net, population_column="people")  # fmt: skip
    glon, glat = wgs84_to_gcj02(lon, lat)
    pd.DataFrame({"id": range(40), "LNG": glon, "Lat": glat, "people": people}).to_csv(
        tmp_path / "gcj.csv", index=False
    )
    gcj = ed.from_points(tmp_path / "gcj.csv", nanjing_net, population_column="people",
                         coordinate_system="gcj02", id_column="id")  # fmt: skip
    assert gcj.points.index.tolist() == list(range(40))
    dist = shapely.distance(gcj.points.geometry.array, wgs.points.geometry.array)
    assert dist.max() < 1.0
    assert (gcj.points["edge"].to_numpy() == wgs.points["edge"].to_numpy()).all()
    blon, blat = wgs84_to_bd09(lon, lat)
    g = gpd.GeoDataFrame({"people": people}, geometry=gpd.points_from_xy(blon, blat), crs=4326)
    bd = ed.from_points(g, nanjing_net, population_column="people", coordinate_system="bd09")
    assert shapely.distance(bd.points.geometry.array, wgs.points.geometry.array).max() < 1.0
    # GCJ-02 declared as WGS-84 is caught against the streets and named, with the fix
    with pytest.raises(CoordinateSystemError, match=r"GCJ-02.*source='gcj02'"):
        ed.from_points(tmp_path / "gcj.csv", nanjing_net, population_column="people")
    # fewer than 20 points are not judged: too few to tell an offset from chance
    few = ed.from_points(
        pd.read_csv(tmp_path / "gcj.csv").head(5), nanjing_net, population_column="people"
    )
    assert len(few.points) == 5


# --------------------------------------------------------------------------- gates
def test_gated_compound_enters_by_its_gate(nanjing_net, nanjing_compounds):
    comp = nanjing_compounds.loc[["way/857726131"]].to_crs(nanjing_net.crs)  # 华侨路二十六号小区
    poly = comp.geometry.iloc[0]
    resident = shapely.Point(poly.representative_point())
    residents = gpd.GeoDataFrame({"people": [100.0]}, geometry=[resident], crs=nanjing_net.crs)
    naive = ed.from_points(residents, nanjing_net, population_column="people")
    e0 = naive.points["edge"].iloc[0]
    # a gate on the compound boundary whose nearest street is not the resident's
    ring = shapely.segmentize(poly.exterior, 2.0)
    cand = gpd.GeoDataFrame(geometry=shapely.points(shapely.get_coordinates(ring)),
                            crs=nanjing_net.crs)  # fmt: skip
    snaps = nanjing_net.snap(cand)
    other = snaps[snaps["edge"] != e0]
    assert len(other), "the compound must touch more than one street"
    gate_pos = other.index[np.argmax(shapely.distance(cand.geometry.array[other.index],
                                                      resident))]  # fmt: skip
    gate = cand.geometry.iloc[gate_pos]
    gates = gpd.GeoDataFrame({"compound": ["way/857726131"]}, index=["north gate"],
                             geometry=[gate], crs=nanjing_net.crs)  # fmt: skip
    gated = ed.from_points(residents, nanjing_net, population_column="people",
                           compounds=comp, gates=gates)  # fmt: skip
    p, g = gated.points.iloc[0], snaps.loc[gate_pos]
    assert p["entry"] == "gate" and p["gate_id"] == "north gate"
    assert p["edge"] == g["edge"] != e0
    inside = resident.distance(gates.geometry.iloc[0])
    assert p["access_m"] == pytest.approx(inside + g["access_m"])
    assert p["access_m"] > naive.points["access_m"].iloc[0]
    assert p.geometry.equals(resident)
    r = gated.report
    assert (r.compounds_with_gates, r.gates_found, r.points_via_gates) == (1, 1, 1)
    assert r.population_via_gates == 100.0
    # the same gate found by proximity to the boundary, and a detour factor
    by_near = ed.from_points(residents, nanjing_net, population_column="people", compounds=comp,
                             gates=gates.drop(columns="compound"), detour_factor=1.5)  # fmt: skip
    assert by_near.points["access_m"].iloc[0] == pytest.approx(1.5 * inside + g["access_m"])
    # a gate 30 m away from the boundary belongs to no compound: the naive snap
    away = gpd.GeoDataFrame(geometry=[shapely.Point(poly.bounds[0] - 30, poly.bounds[1] - 30)],
                            crs=nanjing_net.crs)  # fmt: skip
    plain = ed.from_points(residents, nanjing_net, population_column="people",
                           compounds=comp, gates=away)  # fmt: skip
    assert plain.points["entry"].iloc[0] == "street" and plain.report.compounds_with_gates == 0
    assert plain.points["access_m"].iloc[0] == naive.points["access_m"].iloc[0]


def test_gates_of_buildings_in_compound(nanjing_net, nanjing_buildings, nanjing_compounds):
    comp = nanjing_compounds.loc[["way/857726131"]]
    gate = shapely.Point(shapely.get_coordinates(comp.geometry.iloc[0].exterior)[0])
    gates = gpd.GeoDataFrame(geometry=[gate], index=["g1"], crs=4326)
    d = ed.from_buildings(nanjing_buildings, nanjing_net, compounds=nanjing_compounds,
                          gates=gates, on_far="drop")  # fmt: skip
    conserved(d)
    via = d.points[d.points["entry"] == "gate"]
    assert len(via) == d.report.points_via_gates >= 7 and set(via["gate_id"]) == {"g1"}
    assert d.report.compounds_with_gates == 1 and d.report.compounds == 11


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("value", "shown"),
    [(np.nan, "nan"), (-3.0, "-3.0"), (np.inf, "inf"), ("many", "'many'")],
)
def test_bad_population_values(helsinki_net, value, shown):
    t = pd.DataFrame({"lon": [24.94, 24.95], "lat": [60.17, 60.17], "pop": [1.0, value]},
                     index=["ok", "bad row"])  # fmt: skip
    with pytest.raises(PopulationError, match=f"'bad row': {shown}.*Fill or drop"):
        ed.from_points(t, helsinki_net, population_column="pop")


def test_bad_inputs(helsinki_net, tmp_path):
    b = _box_buildings(building=["apartments"] * 3, flats=[1, 2, 3])
    with pytest.raises(EmptyInputError, match="empty"):
        ed.from_buildings(b.iloc[:0], helsinki_net)
    with pytest.raises(MissingColumnError, match=r"available columns.*did you mean 'flats'"):
        ed.from_buildings(b, helsinki_net, dwellings="flat")
    with pytest.raises(MissingColumnError, match="no column 'lvl'"):
        ed.from_buildings(b, helsinki_net, levels="lvl")
    with pytest.raises(CRSError, match="no CRS"):
        ed.from_buildings(b.set_crs(None, allow_override=True), helsinki_net)
    with pytest.raises(InputError, match="must be polygons"):
        ed.from_buildings(b.set_geometry(b.centroid), helsinki_net)
    with pytest.raises(InputError, match="share of the population in \\[0, 1\\]"):
        ed.from_buildings(b, helsinki_net, age_profile={"60+": 18.7})
    with pytest.raises(InputError, match="add up to"):
        ed.from_buildings(b, helsinki_net, age_profile={"60+": 0.7, "6-12": 0.5})
    with pytest.raises(InputError, match=r"unknown age profile 'china2020'.*did you mean"):
        ed.from_buildings(b, helsinki_net, age_profile="china2020")
    over = gpd.GeoDataFrame({"p": [1.0], "o": [2.0]}, geometry=[b.geometry.iloc[0]], crs=32635)
    with pytest.raises(PopulationError, match="exceeds the population"):
        ed.from_polygons(over, helsinki_net, population_column="p", age_columns={"60+": "o"})
    with pytest.raises(InputError, match="on_far must be"):
        ed.from_buildings(b, helsinki_net, on_far="ignore")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="duplicate index labels"):
        ed.from_buildings(b.set_axis(["a", "a", "b"]), helsinki_net)
    with pytest.raises(InputError, match="gates need their compounds"):
        ed.from_buildings(b, helsinki_net, gates=gpd.GeoDataFrame(geometry=[b.centroid.iloc[0]],
                                                                  crs=32635))  # fmt: skip
    with pytest.raises(DataFileError, match="cannot read the table"):
        ed.from_points(tmp_path / "missing.csv", helsinki_net, population_column="p")
    with pytest.raises(MissingColumnError, match="given as lon="):
        ed.from_points(pd.DataFrame({"east": [1.0], "p": [1.0]}), helsinki_net,
                       population_column="p")  # fmt: skip
    with pytest.raises(EmptyInputError, match="no residents"):
        ed.from_buildings(_box_buildings(building=["office"] * 3), helsinki_net)


# --------------------------------------------------------------------------- properties
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pops=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30),
    max_distance=st.sampled_from([5.0, 30.0, 500.0]),
    share=st.floats(0, 0.5),
)
def test_conservation_property(helsinki_net, pops, max_distance, share):
    rng = np.random.default_rng(len(pops))
    t = pd.DataFrame({
        "lon": rng.uniform(24.93, 24.96, len(pops)), "lat": rng.uniform(60.165, 60.175, len(pops)),
        "p": pops,
    })  # fmt: skip
    profile = {"0-3": share / 4, "3-6": share / 4, "12-15": share / 4, "60+": share / 4}
    d = ed.from_points(t, helsinki_net, population_column="p", max_distance=max_distance,
                       on_far="drop", age_profile=profile)  # fmt: skip
    conserved(d)
    assert d.report.population_in == pytest.approx(sum(pops), rel=1e-9)
    p = d.points
    assert np.allclose(p[BANDS].sum(axis=1), share * p["population"], rtol=1e-9, atol=1e-9)
    assert (p[BANDS].sum(axis=1) <= p["population"] * (1 + 1e-12) + 1e-12).all()


def test_from_osm_file_reads_only_the_buildings_in_a_polygon(helsinki_net):
    """polygon= keeps the buildings that intersect it, with the same residents as a full read
    (no building outside it, every building wholly inside it)."""
    area = shapely.box(24.935, 60.165, 24.945, 60.17)
    full = ed.from_osm_file(SAMPLE, helsinki_net, on_far="drop").points
    part = ed.from_osm_file(SAMPLE, helsinki_net, on_far="drop", polygon=area).points
    assert 0 < len(part) < len(full)
    assert set(part.index) <= set(full.index)
    cols = ["population", "households", "pop_60plus", "edge", "access_m"]
    pd.testing.assert_frame_equal(part[cols], full.loc[part.index, cols])
    b = read_features(SAMPLE, ["building"], nodes=False)
    labels = b["osm_type"] + "/" + b["osm_id"].astype(str)
    inside = set(labels[b.within(area)]) & set(full.index)
    outside = set(labels[~b.intersects(area)])
    assert inside <= set(part.index)
    assert not outside & set(part.index)
    with pytest.raises(EmptyInputError, match="inside the polygon"):
        ed.from_osm_file(SAMPLE, helsinki_net, polygon=shapely.box(10, 10, 10.001, 10.001))

"""Candidate sites: OSM tag rules, land use, floor area, user tables, leftover corners."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import embedsite.candidates as ec
import embedsite.network as en
from conftest import CHENGDU, NANJING, SAMPLE, shared_file
from embedsite._osmfeatures import read_features
from embedsite.crs import wgs84_to_gcj02
from embedsite.errors import (
    CoordinateSystemError,
    CRSError,
    FarFromNetworkError,
    InputError,
    MissingColumnError,
    UnknownFacilityTypeError,
)

HEL = (24.945, 60.170)  # central Helsinki, a few metres from a street


# --------------------------------------------------------------------------- an independent count
def _tags_of_file(path: Path) -> list[dict[str, str]]:
    """Tags of every node with tags, closed way with all its nodes in the file, and
    multipolygon relation, read without embedsite: a plain XML parse (.osm) or pyosmium's
    raw objects (.pbf). Ways cut by the extract's edge cannot be areas."""
    out: list[dict[str, str]] = []
    if path.suffix == ".osm":
        root = ET.parse(path).getroot()
        node_ids = {n.get("id") for n in root.iter("node")}
        for el in root:
            tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
            nds = [n.get("ref") for n in el.findall("nd")]
            if el.tag == "way" and not (
                len(nds) >= 4 and nds[0] == nds[-1] and all(n in node_ids for n in nds)
            ):
                continue
            if el.tag == "relation" and tags.get("type") != "multipolygon":
                continue
            if el.tag in ("node", "way", "relation") and tags:
                out.append(tags)
        return out
    import osmium

    for obj in osmium.FileProcessor(str(path)).with_locations():
        tags = dict(obj.tags)
        if obj.is_way():
            nodes = obj.nodes
            closed = len(nodes) >= 4 and nodes[0].ref == nodes[-1].ref
            if not (closed and all(n.location.valid() for n in nodes)):
                continue
        if obj.is_relation() and tags.get("type") != "multipolygon":
            continue
        if tags:
            out.append(tags)
    return out


def _expected_kind(t: dict[str, str]) -> str | None:
    """The shipped rules written out by hand, first match wins ("excluded": left out)."""

    def has(k: str) -> bool:
        return t.get(k) not in (None, "", "no")

    def val(k: str, *values: str) -> bool:
        return any(v.strip() in values for v in t.get(k, "").split(";"))

    if val("building", "ruins", "construction", "collapsed", "destroyed"):
        return "excluded"
    street = ("underground", "multi-storey", "rooftop", "lane", "street_side", "on_street",
              "layby", "inline")  # fmt: skip
    if val("parking", *street) and val("amenity", "parking"):
        return "excluded"
    if has("disused:building") or has("abandoned:building"):
        return "vacant_building"
    if val("building", "vacant", "abandoned", "disused"):
        return "vacant_building"
    if has("building") and any(t.get(k) == "yes" for k in ("disused", "abandoned", "vacant")):
        return "vacant_building"
    if has("disused:shop") or has("disused:amenity"):
        return "vacant_building"
    if val("amenity", "community_centre"):
        return "community_centre"
    if val("building", "industrial", "manufacture", "factory"):
        return "industrial_building"
    if val("building", "warehouse", "storage"):
        return "warehouse"
    if val("building", "retail", "supermarket", "shop", "mall"):
        return "retail_building"
    if val("building", "commercial", "office"):
        return "commercial_building"
    if val("amenity", "parking"):
        return "parking"
    if val("landuse", "brownfield"):
        return "brownfield"
    return None


@pytest.fixture(scope="module")
def chengdu_net():
    return en.from_osm_file(shared_file(CHENGDU))


@pytest.fixture(scope="module")
def extracts(helsinki_net, nanjing_net, chengdu_net):
    return {
        "helsinki": (SAMPLE, helsinki_net),
        "nanjing": (shared_file(NANJING), nanjing_net),
        "chengdu": (shared_file(CHENGDU), chengdu_net),
    }


@pytest.fixture(scope="module")
def helsinki(helsinki_net):
    return ec.from_osm_file(SAMPLE, helsinki_net)


@pytest.mark.parametrize("place", ["helsinki", "nanjing", "chengdu"])
def test_counts_by_kind_match_an_independent_parse(extracts, place):
    path, net = extracts[place]
    cands = ec.from_osm_file(path, net)
    expected = Counter(k for k in map(_expected_kind, _tags_of_file(path)) if k)
    seen = Counter(cands.points["kind"]) + Counter(cands.rejected["kind"].dropna())
    seen["excluded"] = int(cands.rejected["kind"].isna().sum())
    assert +seen == +expected
    # every feature matched is either a candidate or rejected, once, with a reason
    assert not cands.points.index.isin(cands.rejected.index).any()
    assert cands.rejected["reason"].str.len().gt(0).all()
    assert cands.report.n_candidates == len(cands) and cands.report.n_rejected == len(
        cands.rejected
    )
    assert sum(cands.report.rejected_by_reason.values()) == len(cands.rejected)


def test_nanjing_and_chengdu_figures(extracts):
    """What the extracts hold, pinned (regression), with the reasons for what is left out."""
    nj = ec.from_osm_file(*extracts["nanjing"])
    assert nj.points["kind"].value_counts().to_dict() == {
        "commercial_building": 48, "parking": 12, "retail_building": 4,
    }  # fmt: skip
    assert nj.rejected["reason"].str.startswith("inside osm:way/").sum() == 10
    cd = ec.from_osm_file(*extracts["chengdu"])
    assert cd.points["kind"].value_counts().to_dict() == {
        "parking": 23, "commercial_building": 16, "retail_building": 2, "industrial_building": 1,
    }  # fmt: skip
    (why,) = cd.rejected["reason"]
    assert why.startswith("land use transport (交通运输用地) not allowed by the 2024 guide")
    assert "landuse=railway" in why


def test_columns_and_contract(helsinki, helsinki_net):
    p = helsinki.points
    assert list(p.columns) == [*ec.POINT_COLUMNS, "geometry"]
    assert p.crs == helsinki_net.crs and p.index.is_unique and p.index.name == "candidate"
    assert (p.geom_type == "Point").all()
    assert set(p["source"]) == {"osm:helsinki.osm.pbf"} and set(p["matched_by"]) == {"tag"}
    assert p["floor_area_m2"].gt(0).all() and p["floor_area_m2"].ge(100).all()
    assert p["land_use"].map(lambda v: v is None or isinstance(v, str)).all()
    assert p["name"].map(lambda v: v is None or isinstance(v, str)).all()
    assert p["osm_id"].str.match(r"^(node|way|relation)/\d+$").all()
    assert p["access_m"].le(500).all()
    # the snap columns are exactly what the network's snap returns for the same points
    again = helsinki_net.snap(p.geometry)
    for col in ("edge", "position_m", "to_u_m", "to_v_m", "access_m"):
        np.testing.assert_allclose(p[col].to_numpy(float), again[col].to_numpy(float))
    # sites are the footprints; the point lies in its site
    sites = helsinki.sites
    assert sites.index.equals(p.index)
    assert shapely.intersects(sites.to_numpy(), p.geometry.to_numpy()).all()
    assert helsinki.to_geodataframe().equals(p)
    assert helsinki.points is not helsinki.points  # copies


def test_floor_area_from_levels_recomputed(helsinki, helsinki_net):
    """footprint x building:levels, recomputed from the raw tags and the footprint area."""
    raw = read_features(SAMPLE, ["building"], tags=["building", "building:levels"], nodes=False)
    raw.index = "osm:" + raw["osm_type"] + "/" + raw["osm_id"].astype(str)
    p = helsinki.points
    given = p[p["floor_area_from"].str.endswith("levels (building:levels)")]
    assert len(given) == 7
    levels = pd.to_numeric(raw.loc[given.index, "building:levels"]).to_numpy()
    area = raw.loc[given.index].to_crs(helsinki_net.crs).area.to_numpy()
    np.testing.assert_allclose(given["floor_area_m2"].to_numpy(), area * levels, rtol=1e-9)
    assert not given["floor_area_estimated"].any()
    # defaults: commercial 6 levels, retail 2, parking land x 0.4
    rest = p[p["floor_area_estimated"] & p["footprint_m2"].notna()]
    lv = rest["kind"].map({"commercial_building": 6, "retail_building": 2})
    np.testing.assert_allclose(rest["floor_area_m2"], rest["footprint_m2"] * lv)
    lots = p[p["land_area_m2"].notna()]
    assert set(lots["kind"]) == {"parking"}
    np.testing.assert_allclose(lots["floor_area_m2"], lots["land_area_m2"] * 0.4)
    np.testing.assert_allclose(lots["land_area_m2"], helsinki.sites[lots.index].area)


# --------------------------------------------------------------------------- synthetic rules
def _square(cx: float, cy: float, w: float, h: float | None = None) -> shapely.Polygon:
    h = w if h is None else h
    return shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _near_street(net: en.PedestrianNetwork, n: int) -> np.ndarray:
    """n points 15 m off the middle of n distinct long edges of the network (metric CRS)."""
    e = net.edges
    long = e[e["length"] > 60].geometry.to_numpy()[:: max(1, int((e["length"] > 60).sum() // n))]
    mid = shapely.line_interpolate_point(long[:n], 0.5, normalized=True)
    return shapely.get_coordinates(mid) + np.array([15.0, 15.0])


def _frame(rows: list[dict], geoms: list, crs) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows)
    frame.insert(0, "osm_id", np.arange(1, len(rows) + 1))
    frame.insert(0, "osm_type", "way")
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)


def _first(value: str) -> str:
    return "yes" if value in ("", "*") else value.split("|")[0]


@pytest.mark.parametrize("i", range(len(ec.read_candidate_rules())))
def test_every_kind_rule(helsinki_net, i):
    rule = ec.read_candidate_rules().iloc[i]
    tags = {rule["key"]: _first(rule["value"])}
    if rule["and_key"]:
        tags[rule["and_key"]] = _first(rule["and_value"])
    (xy,) = _near_street(helsinki_net, 1)
    feats = _frame([tags], [_square(*xy, 40)], helsinki_net.crs)
    c = ec.from_osm_features(feats, helsinki_net, land_use_filter=False)
    if rule["kind"] == "":
        assert len(c) == 0
        assert c.rejected["reason"].tolist() == [rule["note"]]
        return
    (row,) = c.points.itertuples()
    assert row.kind == rule["kind"] and row.match_rule.startswith(f"{rule['key']}=")
    cov, levels = rule["coverage"], rule["default_levels"]
    assert row.floor_area_m2 == pytest.approx(1600 * cov * levels)
    assert row.floor_area_estimated
    assert row.land_use == (rule["land_use"] or None)


@pytest.mark.parametrize("i", range(len(ec.read_land_use_rules())))
def test_every_land_use_rule(helsinki_net, i):
    rule = ec.read_land_use_rules().iloc[i]
    tags = {rule["key"]: _first(rule["value"])}
    if rule["and_key"]:
        tags[rule["and_key"]] = _first(rule["and_value"])
    (xy,) = _near_street(helsinki_net, 1)
    feats = _frame([tags, {"building": "commercial"}], [_square(*xy, 200), _square(*xy, 20)],
                   helsinki_net.crs)  # fmt: skip
    cls = ec.LAND_USE_CLASSES[rule["land_use"]]
    c = ec.from_osm_features(feats, helsinki_net)
    if cls.allowed:
        assert c.points["land_use"].tolist() == [cls.key]
        assert c.points["land_use_from"].iloc[0] == (
            f"{rule['key']}={rule['value']}"
            + (f" & {rule['and_key']}={rule['and_value']}" if rule["and_key"] else "")
            + " (osm:way/1)"
        )
    else:
        assert len(c) == 0
        assert c.rejected.loc["osm:way/2", "reason"].startswith(
            f"land use {cls.key} ({cls.name_zh}) not allowed by the 2024 guide"
        )
        kept = ec.from_osm_features(feats, helsinki_net, land_use_filter=False)
        assert kept.points["land_use"].tolist() == [cls.key]


def test_smallest_container_and_implied_land_use(helsinki_net):
    a, b, c = _near_street(helsinki_net, 3)
    feats = _frame(
        [{"landuse": "residential"}, {"landuse": "railway"}, {"building": "warehouse"},
         {"building": "retail"}, {"amenity": "parking"}],
        [_square(*a, 400), _square(*a, 100), _square(*a, 30), _square(*b, 30), _square(*c, 30)],
        helsinki_net.crs,
    )  # fmt: skip
    got = ec.from_osm_features(feats, helsinki_net, land_use_filter=False).points
    assert got["land_use"].to_dict() == {
        "osm:way/3": "transport",  # the railway yard inside the residential area
        "osm:way/4": "commercial",  # implied by building=retail
        "osm:way/5": None,  # a car park says nothing
    }
    assert (
        got.loc["osm:way/4", "land_use_from"] == "implied by building=retail|supermarket|shop|mall"
    )
    only = ec.from_osm_features(feats, helsinki_net, land_use_filter=["transport"])
    assert list(only.points.index) == ["osm:way/3", "osm:way/5"]
    assert only.rejected.loc["osm:way/4", "reason"].startswith(
        "land use commercial (商业服务业用地) not allowed by land_use_filter [implied by"
    )


def test_floor_area_arithmetic(helsinki_net):
    a, b, c, d = _near_street(helsinki_net, 4)
    feats = _frame(
        [{"building": "commercial", "building:levels": "4"}, {"building": "office"},
         {"amenity": "parking", "parking": "surface"}, {"amenity": "community_centre"},
         {"building": "retail", "building:levels": "3"}],
        [_square(*a, 20, 30), _square(*b, 20, 30), _square(*c, 40, 50), shapely.Point(d),
         _square(*d + 40, 5)],
        helsinki_net.crs,
    )  # fmt: skip
    c_ = ec.from_osm_features(feats, helsinki_net)
    p = c_.points
    assert p["floor_area_m2"].round(6).to_dict() == {
        "osm:way/1": 2400.0, "osm:way/2": 3600.0, "osm:way/3": 800.0, "osm:way/4": 400.0,
    }  # fmt: skip
    assert p["floor_area_estimated"].tolist() == [False, True, True, True]
    assert p.loc["osm:way/3", "land_area_m2"] == pytest.approx(2000)
    assert np.isnan(p.loc["osm:way/1", "land_area_m2"])
    assert p.loc["osm:way/1", "footprint_m2"] == pytest.approx(600)
    assert p.loc["osm:way/2", "floor_area_from"] == (
        "footprint x 6 levels (default for a commercial_building)"
    )
    assert c_.rejected.loc["osm:way/5", "reason"] == "floor area 75 m² below the minimum 100 m²"
    low = ec.from_osm_features(feats, helsinki_net, min_floor_area_m2=50)
    assert "osm:way/5" in low.points.index


def test_node_inside_same_kind_area_is_a_part(helsinki_net):
    (a,) = _near_street(helsinki_net, 1)
    feats = _frame([{"amenity": "parking"}, {"amenity": "parking"}],
                   [_square(*a, 40), shapely.Point(a)], helsinki_net.crs)  # fmt: skip
    c = ec.from_osm_features(feats, helsinki_net)
    assert list(c.points.index) == ["osm:way/1"]
    assert c.rejected.loc["osm:way/2", "reason"].startswith("inside osm:way/1")


def test_far_sites_dropped_or_raised(helsinki_net):
    (a,) = _near_street(helsinki_net, 1)
    feats = _frame([{"building": "retail"}, {"building": "retail"}],
                   [_square(*a, 20), _square(*a + 5000, 20)], helsinki_net.crs)  # fmt: skip
    c = ec.from_osm_features(feats, helsinki_net)
    assert list(c.points.index) == ["osm:way/1"]
    assert c.rejected.loc["osm:way/2", "reason"] == "farther than 500 m from every street"
    with pytest.raises(FarFromNetworkError, match="osm:way/2"):
        ec.from_osm_features(feats, helsinki_net, on_far="raise")


def test_kinds_filter(helsinki, helsinki_net):
    parking = ec.from_osm_file(SAMPLE, helsinki_net, kinds=["parking"])
    assert parking.points.equals(helsinki.points[helsinki.points["kind"] == "parking"])
    with pytest.raises(InputError, match="leftover_corner"):
        ec.from_osm_file(SAMPLE, helsinki_net, kinds=["leftover_corner"])
    none = ec.from_osm_file(SAMPLE, helsinki_net, kinds=["brownfield"])  # none in the sample
    assert len(none) == 0 and list(none.points.columns) == [*ec.POINT_COLUMNS, "geometry"]
    assert none.summary()["count"].sum() == 0 and len(none.allows("托育")) == 0


def test_summary_and_allows(helsinki):
    s = helsinki.summary()
    assert list(s.index) == list(ec.KINDS)
    p = helsinki.points
    assert s["count"].to_dict() == {k: int((p["kind"] == k).sum()) for k in ec.KINDS}
    assert s.loc["parking", "floor_area_m2"] == pytest.approx(
        p.loc[p["kind"] == "parking", "floor_area_m2"].sum()
    )
    assert s.loc["community_centre", "estimated"] == 3
    assert helsinki.allows("幼儿园").all() and helsinki.allows("幼儿园").index.equals(p.index)
    with pytest.raises(UnknownFacilityTypeError, match="nursery"):
        helsinki.allows("nursey")


# --------------------------------------------------------------------------- tables
def _table(net: en.PedestrianNetwork, n: int = 3) -> pd.DataFrame:
    lonlat = gpd.GeoSeries(shapely.points(_near_street(net, n)), crs=net.crs).to_crs(4326)
    return pd.DataFrame(
        {"lon": lonlat.x.to_numpy(), "lat": lonlat.y.to_numpy(), "面积": [320.0, 150.0, 800.0][:n],
         "租金": [12000, None, 0][:n], "可用": ["托育;助餐点", "", "kindergarten"][:n],
         "用地": ["居住用地", "M1", "08"][:n]},
        index=[f"r{i}" for i in range(n)],
    )  # fmt: skip


def test_table_with_all_columns(nanjing_net):
    df = _table(nanjing_net)
    c = ec.from_table(df, nanjing_net, floor_area_column="面积", cost_column="租金",
                      allowed_types_column="可用", land_use_column="用地")  # fmt: skip
    p = c.points
    assert p["kind"].eq("user").all() and p["source"].eq("table").all()
    assert p["allowed_types"].tolist() == ["nursery;community_canteen", "", "kindergarten"]
    assert p["land_use"].tolist() == ["residential", "industrial_1", "public_service"]
    np.testing.assert_array_equal(p["cost"].to_numpy(), [12000, np.nan, 0])
    assert not p["floor_area_estimated"].any()
    assert c.allows("托育").tolist() == [True, True, False]
    assert c.allows("kindergarten").tolist() == [False, True, True]


def test_table_gcj02(nanjing_net):
    df = _table(nanjing_net)
    wgs = ec.from_table(df, nanjing_net, floor_area_column="面积")
    glon, glat = wgs84_to_gcj02(df["lon"].to_numpy(), df["lat"].to_numpy())
    gcj = df.assign(lon=glon, lat=glat)
    assert (
        shapely.distance(  # the offset is hundreds of metres in Nanjing
            gpd.GeoSeries(gpd.points_from_xy(glon, glat), crs=4326).to_crs(nanjing_net.crs).values,
            wgs.points.geometry.values,
        ).min()
        > 100
    )
    got = ec.from_table(gcj, nanjing_net, floor_area_column="面积", coordinate_system="gcj02")
    assert shapely.distance(got.points.geometry.values, wgs.points.geometry.values).max() < 1.0
    assert got.points["edge"].tolist() == wgs.points["edge"].tolist()


def test_gcj02_declared_wgs84_is_caught(nanjing_net):
    mid = nanjing_net.edges.sample(30, random_state=2).geometry.interpolate(0.5, normalized=True)
    wgs = gpd.GeoSeries(mid.to_numpy(), crs=nanjing_net.crs).to_crs(4326)
    glon, glat = wgs84_to_gcj02(wgs.x.to_numpy(), wgs.y.to_numpy())
    table = pd.DataFrame({"面积": 200.0, "lon": glon, "lat": glat})
    with pytest.raises(CoordinateSystemError, match="gcj02"):
        ec.from_table(table, nanjing_net, floor_area_column="面积")
    ok = ec.from_table(table, nanjing_net, floor_area_column="面积", coordinate_system="gcj02")
    assert ok.points["access_m"].max() < 1.0  # back on the streets they came from


def test_table_polygons_without_floor_area(helsinki_net):
    (a,) = _near_street(helsinki_net, 1)
    gdf = gpd.GeoDataFrame({"name": ["x"]}, geometry=[_square(*a, 20)], crs=helsinki_net.crs)
    c = ec.from_table(gdf, helsinki_net, name_column="name")
    assert c.points["floor_area_m2"].iloc[0] == pytest.approx(400)
    assert c.points["floor_area_estimated"].iloc[0] and c.points["name"].iloc[0] == "x"


FA = {"floor_area_column": "面积"}


@pytest.mark.parametrize(
    ("change", "kw", "error", "phrase"),
    [
        ({}, {"floor_area_column": "area"}, MissingColumnError, "no column 'area'"),
        ({}, {**FA, "cost_column": "rent"}, MissingColumnError, "no column 'rent'"),
        ({}, {}, MissingColumnError, "floor_area_column="),
        ({"面积": [320.0, np.nan, 5]}, FA, InputError, "'r1': nan"),
        ({"面积": [320.0, -5.0, 5]}, FA, InputError, "'r1': -5.0"),
        ({"面积": [320.0, 0.0, 5]}, FA, InputError, "positive number"),
        ({"租金": [1, -3, None]}, {**FA, "cost_column": "租金"}, InputError, "'r1': -3"),
        ({"租金": [1, "free", None]}, {**FA, "cost_column": "租金"}, InputError, "'r1': 'free'"),
        ({"可用": ["托育所所", "", ""]}, {**FA, "allowed_types_column": "可用"},
         UnknownFacilityTypeError, "did you mean"),
        ({"用地": ["工业用地", "", ""]}, {**FA, "land_use_column": "用地"}, InputError,
         "did you mean"),
        ({"lat": [1e6, 2e6, 3e6]}, FA, InputError, "lat"),
    ],
)  # fmt: skip
def test_table_bad_input(nanjing_net, change, kw, error, phrase):
    df = _table(nanjing_net).assign(**change)
    with pytest.raises(error, match=phrase):
        ec.from_table(df, nanjing_net, **kw)


def test_bad_crs_and_options(helsinki_net):
    (a,) = _near_street(helsinki_net, 1)
    no_crs = gpd.GeoDataFrame({"building": ["retail"]}, geometry=[_square(*a, 20)])
    with pytest.raises(CRSError):
        ec.from_osm_features(no_crs, helsinki_net)
    metres_as_degrees = no_crs.set_crs(4326)  # projected coordinates declared as lon/lat
    with pytest.raises(InputError):
        ec.from_osm_features(metres_as_degrees, helsinki_net)
    gdf = no_crs.set_crs(helsinki_net.crs)
    bad = [{"land_use_filter": "yes"}, {"land_use_filter": ["nope"]}, {"max_distance_m": -1},
           {"on_far": "skip"}, {"min_floor_area_m2": np.nan}]  # fmt: skip
    for kw in bad:
        with pytest.raises(InputError):
            ec.from_osm_features(gdf, helsinki_net, **kw)
    with pytest.raises(MissingColumnError, match="building"):
        ec.from_osm_features(gdf.rename(columns={"building": "b"}), helsinki_net)
    with pytest.raises(CRSError):
        ec.leftover_corners(helsinki_net, no_crs)


def test_bad_rules(tmp_path):
    bad = pd.DataFrame({"kind": ["parking"], "key": ["amenity"], "value": ["parking"],
                        "land_use": [""], "default_levels": ["1"], "coverage": ["2"],
                        "point_floor_area_m2": ["10"], "allowed_types": [""]})  # fmt: skip
    with pytest.raises(InputError, match="unknown kind"):
        ec.read_candidate_rules(bad.assign(kind="shed", coverage="1"))
    with pytest.raises(InputError, match="unknown land-use class"):
        ec.read_candidate_rules(bad.assign(land_use="farm", coverage="1"))
    with pytest.raises(InputError, match="coverage"):
        ec.read_candidate_rules(bad)
    with pytest.raises(UnknownFacilityTypeError):
        ec.read_candidate_rules(bad.assign(coverage="1", allowed_types="托育所所"))
    with pytest.raises(InputError, match="unknown land-use class"):
        ec.read_land_use_rules(
            pd.DataFrame({"land_use": ["farm"], "key": ["landuse"], "value": ["farmland"]})
        )


# --------------------------------------------------------------------------- leftover corners
def _grid_network() -> en.PedestrianNetwork:
    """Two 100 x 100 m blocks side by side (streets of 'residential' class), in UTM 50N."""
    g = nx.MultiGraph(crs="EPSG:32650")
    x0, y0 = 500_000.0, 3_500_000.0
    pts = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (0, 100), 5: (100, 100), 6: (200, 100)}
    for n, (x, y) in pts.items():
        g.add_node(n, x=x0 + x, y=y0 + y)
    for u, v in [(1, 2), (2, 3), (4, 5), (5, 6), (1, 4), (2, 5), (3, 6)]:
        g.add_edge(u, v, highway="residential", length=100.0)
    return en.from_graph(g, simplify=False)


def test_corners_on_a_designed_block():
    net = _grid_network()
    x0, y0 = 500_000.0, 3_500_000.0

    def box(a, b, c, d):
        return shapely.box(x0 + a, y0 + b, x0 + c, y0 + d)

    # block 1 inner square (half width 5 m): [5, 95]^2. Buildings leave a 30 x 30 corner and
    # a 3 m strip; block 2 has no building at all
    buildings = gpd.GeoDataFrame(
        geometry=[box(5, 5, 95, 65), box(35, 65, 95, 92), box(35, 92, 38, 95)], crs=net.crs
    )
    c = ec.leftover_corners(net, buildings, road_half_width_m=5.0)
    (site,) = c.sites
    assert site.area == pytest.approx(900, rel=1e-6)
    assert site.symmetric_difference(box(5, 65, 35, 95)).area < 1e-6
    row = c.points.iloc[0]
    assert row["land_area_m2"] == pytest.approx(900) and row["floor_area_m2"] == pytest.approx(360)
    assert row["floor_area_estimated"] and row["kind"] == "leftover_corner"
    reasons = c.rejected["reason"].tolist()
    assert any(r.startswith("narrower than 10 m") for r in reasons)  # the 57 x 3 m strip
    assert any(r.startswith("area 8,100 m² above the maximum 5000 m²") for r in reasons)
    roomy = ec.leftover_corners(net, buildings, road_half_width_m=5.0, max_area_m2=10_000)
    assert len(roomy) == 1
    assert roomy.rejected["reason"].str.startswith("its block has no mapped building").sum() == 1
    keep_empty = ec.leftover_corners(net, buildings, road_half_width_m=5.0,
                                     require_buildings=False, max_area_m2=10_000)  # fmt: skip
    assert sorted(keep_empty.sites.area.round(3)) == [900.0, 8100.0]
    small = ec.leftover_corners(net, buildings, road_half_width_m=5.0, min_area_m2=1000)
    assert len(small) == 0
    # a park excluded from the free land
    park = gpd.GeoSeries([box(5, 80, 20, 95)], crs=net.crs)
    parked = ec.leftover_corners(net, buildings, road_half_width_m=5.0, exclude=park)
    assert parked.sites.area.iloc[0] == pytest.approx(900 - 225)


@pytest.fixture(scope="module")
def nanjing_corners(nanjing_net):
    buildings = read_features(shared_file(NANJING), ["building"], nodes=False)
    return ec.leftover_corners(nanjing_net, buildings), buildings.to_crs(nanjing_net.crs)


def test_corners_avoid_buildings_and_roads(nanjing_corners, nanjing_net):
    corners, buildings = nanjing_corners
    sites = corners.sites.to_numpy()
    assert len(sites) >= 20
    area = shapely.area(sites)
    assert (area >= 150).all() and (area <= 5000).all()
    assert not shapely.is_empty(shapely.buffer(sites, -5)).any()  # 10 m wide somewhere
    half = ec._corners.half_widths(nanjing_net.edges, None)
    roads = shapely.buffer(nanjing_net.edges.geometry.to_numpy(), half, quad_segs=4)
    for layer in (roads, shapely.polygons(shapely.get_exterior_ring(
            shapely.get_parts(buildings.geometry.to_numpy())))):  # fmt: skip
        i, j = shapely.STRtree(layer).query(sites, predicate="intersects")
        overlap = shapely.area(shapely.intersection(sites[i], layer[j]))
        assert overlap.max(initial=0) < 1e-6
    np.testing.assert_allclose(corners.points["floor_area_m2"], area * 0.4)
    assert corners.points["access_m"].lt(200).all()


def test_corner_areas_recomputed_with_geopandas_overlay(nanjing_corners, nanjing_net):
    """Each of a few corners equals the piece geopandas' overlay leaves of its block."""
    corners, buildings = nanjing_corners
    edges = nanjing_net.edges
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.node(
        shapely.multilinestrings(edges.geometry.to_numpy())))))  # fmt: skip
    half = ec._corners.half_widths(edges, None)
    roads = gpd.GeoDataFrame(geometry=edges.geometry.buffer(half, quad_segs=4), crs=edges.crs)
    filled = gpd.GeoDataFrame(
        geometry=buildings.geometry.explode().exterior.map(shapely.Polygon), crs=edges.crs
    )
    for label, point in corners.points.geometry.iloc[:: max(1, len(corners) // 6)].items():
        (block,) = faces[shapely.contains(faces, point)]
        piece = gpd.GeoDataFrame(geometry=[block], crs=edges.crs)
        for layer in (roads, filled):
            near = layer[layer.intersects(block)]
            piece = gpd.overlay(piece, near, how="difference", keep_geom_type=True)
        parts = piece.explode(index_parts=False)
        (match,) = parts.geometry[parts.contains(point)]
        assert match.area == pytest.approx(corners.sites[label].area, rel=1e-6)


# --------------------------------------------------------------------------- combine
def test_combine(helsinki, helsinki_net, nanjing_net):
    corners = ec.leftover_corners(helsinki_net, read_features(SAMPLE, ["building"], nodes=False))
    both = ec.combine(helsinki, corners)
    assert len(both) == len(helsinki) + len(corners) and both.points.index.is_unique
    assert both.summary().loc["leftover_corner", "count"] == len(corners)
    assert len(both.rejected) == len(helsinki.rejected) + len(corners.rejected)
    again = ec.combine(helsinki, helsinki)
    assert len(again) == len(helsinki)
    assert again.rejected["reason"].eq(
        "repeats the same site of an earlier candidate set"
    ).sum() == len(helsinki)
    t = ec.from_table(_table(helsinki_net), helsinki_net, floor_area_column="面积")
    with pytest.raises(InputError, match="distinct indexes"):
        ec.combine(t, t)
    with pytest.raises(InputError, match="same network"):
        ec.combine(helsinki, ec.from_table(_table(nanjing_net), nanjing_net,
                                           floor_area_column="面积"))  # fmt: skip
    with pytest.raises(InputError):
        ec.combine()


@pytest.mark.parametrize("many", [0, 10**9])
def test_corners_same_by_either_subtraction(nanjing_corners, nanjing_net, monkeypatch, many):
    """Dissolving every block's obstacles first, or none, gives the same corners."""
    corners, buildings = nanjing_corners
    monkeypatch.setattr(ec._corners, "_MANY", many)
    again = ec.leftover_corners(nanjing_net, buildings)
    assert again.points.index.equals(corners.points.index)
    np.testing.assert_allclose(again.sites.area, corners.sites.area, rtol=1e-9)


_GRID: list[en.PedestrianNetwork] = []


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 90), st.floats(0, 90), st.floats(2, 60), st.floats(2, 60)),
        min_size=1,
        max_size=6,
    )
)
def test_corners_are_the_free_land_property(boxes):
    """With no size limits, the corners tile exactly the blocks' free land: inner squares
    (the streets' 5 m half width removed) minus the union of the buildings."""
    if not _GRID:
        _GRID.append(_grid_network())
    net = _GRID[0]
    x0, y0 = 500_000.0, 3_500_000.0
    geoms = [shapely.box(x0 + x, y0 + y, x0 + x + w, y0 + y + h) for x, y, w, h in boxes]
    buildings = gpd.GeoDataFrame(geometry=geoms, crs=net.crs)
    c = ec.leftover_corners(net, buildings, road_half_width_m=5.0, min_area_m2=0,
                            max_area_m2=1e9, min_width_m=0, require_buildings=False)  # fmt: skip
    inner = shapely.union(
        shapely.box(x0 + 5, y0 + 5, x0 + 95, y0 + 95),
        shapely.box(x0 + 105, y0 + 5, x0 + 195, y0 + 95),
    )
    free = inner.difference(shapely.union_all(geoms))
    got = c.sites.to_numpy()
    assert shapely.area(got).sum() == pytest.approx(free.area, abs=1e-3)
    assert shapely.union_all(got).symmetric_difference(free).area < 1e-3
    overlap = shapely.area(shapely.intersection(got[:, None], np.asarray(geoms)[None, :]))
    assert overlap.max(initial=0) < 1e-6

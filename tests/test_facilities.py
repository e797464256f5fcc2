"""Existing facilities: OSM tag and name rules, POI exports, user tables, bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import embedsite.facilities as ef
from conftest import NANJING, SAMPLE, shared_file
from embedsite.crs import wgs84_to_bd09, wgs84_to_gcj02
from embedsite.errors import (
    CoordinateSystemError,
    CRSError,
    EmptyInputError,
    FarFromNetworkError,
    InputError,
    MissingColumnError,
    UnknownFacilityTypeError,
)

HEL = (24.945, 60.170)  # a point in central Helsinki, a few metres from a street


@pytest.fixture(scope="module")
def nanjing(nanjing_net):
    return ef.from_osm_file(shared_file(NANJING), nanjing_net)


@pytest.fixture(scope="module")
def helsinki(helsinki_net):
    return ef.from_osm_file(SAMPLE, helsinki_net)


def _features(rows: list[dict], jitter: float = 2e-4) -> gpd.GeoDataFrame:
    """Synthetic OSM-like nodes near HEL, one per dict of tags."""
    n = len(rows)
    x = HEL[0] + jitter * (np.arange(n) % 5)
    y = HEL[1] + jitter / 2 * (np.arange(n) // 5)
    frame = pd.DataFrame(rows)
    frame.insert(0, "osm_id", np.arange(1, n + 1))
    frame.insert(0, "osm_type", "node")
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=4326)


def _types(fac: ef.Facilities) -> dict[str, set[str]]:
    p = fac.points
    return p.groupby("feature_id")["facility_type"].agg(set).to_dict()


# --------------------------------------------------------------------------- real extracts
def test_wulaocun_kindergarten_tagged_as_school(nanjing):
    k = nanjing.of_type("幼儿园")
    assert list(k.index) == ["osm:way/318197098"]
    row = k.iloc[0]
    assert row["name"] == "五老村幼儿园"
    assert row["matched_by"] == "tag"
    assert row["match_rule"].startswith("amenity=school & name~/幼儿园")
    assert row["access_m"] < 50 and row.geometry.geom_type == "Point"


def test_nanjing_counts_and_reports(nanjing, nanjing_net):
    counts = nanjing.points["facility_type"].value_counts().to_dict()
    assert counts == {"junior_middle_school": 8, "primary_school": 5, "kindergarten": 1}
    assert nanjing.types == ("kindergarten", "primary_school", "junior_middle_school")
    assert nanjing.points.crs == nanjing_net.crs
    assert list(nanjing.points.columns) == [*ef.POINT_COLUMNS, "geometry"]
    um = nanjing.unmatched
    reason = um["reason"]
    # parts of a mapped school are reported, not counted twice
    assert "inside osm:way/223942597" in reason["osm:node/7174066385"]
    assert "inside osm:way/147399444" in reason["osm:way/680512978"]
    assert nanjing.report.n_duplicates == 5
    # school and staff canteens are no community canteens; hospitals are no facility type
    assert "excluded" in reason["osm:way/192501883"]  # 教工食堂
    assert "hospital" in reason["osm:way/147112317"]
    assert "fits none" in reason["osm:way/445000811"]  # 南京幼儿高等师范学校
    assert nanjing.report.n_features == 14 and nanjing.report.n_unmatched == len(um)


def test_helsinki_sample(helsinki):
    assert helsinki.types == ("nursery", "community_health_station", "community_service_station")
    s = helsinki.summary()
    assert s.loc["community_health_station", "count"] == 7
    assert (s["tag"] == s["count"]).all()
    um = helsinki.unmatched
    assert "social_facility" in um.loc["osm:node/410088134", "reason"]  # outreach for the ill
    assert um["detail"].str.contains("amenity=school").sum() == 3  # Finnish school names
    assert "Facilities(11 points" in repr(helsinki)


def test_summary_labels(nanjing):
    s = nanjing.summary()
    assert list(s.columns) == [
        "name_zh", "name_en", "count", "tag", "name", "category", "user",
        "with_floor_area", "with_capacity",
    ]  # fmt: skip
    assert s.loc["kindergarten", "name_zh"] == "幼儿园"
    assert s.loc["primary_school", "name_en"] == "primary school"
    assert s.loc["nursery", "count"] == 0  # every standards type is listed
    assert s["count"].sum() == len(nanjing)


def test_results_are_copies(helsinki):
    p = helsinki.points
    p["facility_type"] = "x"
    assert "x" not in set(helsinki.points["facility_type"])
    with pytest.raises(AttributeError):
        helsinki.points = p  # type: ignore[misc]


# --------------------------------------------------------------------------- OSM rules
TAG_CASES = [
    ({"amenity": "kindergarten"}, {"kindergarten"}),
    ({"amenity": "childcare"}, {"nursery"}),
    ({"amenity": "school", "name": "五老村幼儿园"}, {"kindergarten"}),
    ({"amenity": "school", "name": "汉中门小学"}, {"primary_school"}),
    ({"amenity": "school", "isced:level": "1"}, {"primary_school"}),
    ({"amenity": "school", "name": "南京市第九初级中学"}, {"junior_middle_school"}),
    ({"amenity": "school", "name": "南京五中"}, {"junior_middle_school"}),
    ({"amenity": "school", "isced:level": "2"}, {"junior_middle_school"}),
    ({"amenity": "school", "isced:level": "1;2"}, {"primary_school", "junior_middle_school"}),
    ({"amenity": "school", "name": "南京市第三高级中学"}, set()),
    ({"amenity": "social_facility", "social_facility": "day_care",
      "social_facility:for": "senior"}, {"elderly_day_care_center"}),
    ({"social_facility": "outreach", "social_facility:for": "elderly"},
     {"elderly_day_care_center"}),
    ({"social_facility": "assisted_living", "social_facility:for": "senior"},
     {"elderly_day_care_center"}),
    ({"social_facility": "nursing_home"}, {"nursing_home"}),
    ({"amenity": "nursing_home"}, {"nursing_home"}),
    ({"social_facility": "day_care", "social_facility:for": "child"}, {"nursery"}),
    ({"social_facility": "day_care", "social_facility:for": "juvenile"}, {"after_school_care"}),
    ({"social_facility": "group_home", "social_facility:for": "disabled"},
     {"disability_service_station"}),
    ({"social_facility": "soup_kitchen", "social_facility:for": "senior"}, {"community_canteen"}),
    ({"social_facility": "outreach", "social_facility:for": "diseased"}, set()),
    ({"healthcare": "centre"}, {"community_health_center"}),
    ({"amenity": "clinic", "name": "华侨路社区卫生服务中心"}, {"community_health_center"}),
    ({"amenity": "clinic", "name": "华侨路社区卫生服务中心五老村服务站"},
     {"community_health_station"}),
    ({"amenity": "doctors"}, {"community_health_station"}),
    ({"healthcare": "clinic"}, {"community_health_station"}),
    ({"amenity": "clinic", "name": "秦淮区妇幼保健所"}, set()),
    ({"amenity": "clinic", "name": "贝佳口腔诊所"}, set()),
    ({"amenity": "hospital", "name": "江苏省中医院"}, set()),
    ({"amenity": "community_centre"}, {"community_service_station"}),
    ({"amenity": "townhall", "name": "五老村社区居委会"}, {"community_service_station"}),
    ({"amenity": "townhall", "name": "玄武区人民政府"}, set()),
    ({"office": "employment_agency"}, {"employment_service_station"}),
    # tags win over names; several tag rules give several types
    ({"amenity": "kindergarten", "name": "阳光托老所"}, {"kindergarten"}),
    ({"amenity": "clinic", "name": "五老村社区卫生服务中心", "social_facility": "day_care",
      "social_facility:for": "senior"}, {"community_health_center", "elderly_day_care_center"}),
]  # fmt: skip


def test_tag_rules(helsinki_net):
    feats = _features([tags for tags, _ in TAG_CASES])
    fac = ef.from_osm_features(feats, helsinki_net)
    got = _types(fac)
    for i, (tags, expected) in enumerate(TAG_CASES, start=1):
        assert got.get(f"osm:node/{i}", set()) == expected, tags
    # every typed tag rule of the shipped table is exercised
    rules = ef.read_rules()
    tag_rules = rules[(rules["key"] != "") & (rules["facility_type"] != "")]
    labels = (
        tag_rules["key"] + "=" + tag_rules["value"]
        + np.where(tag_rules["and_key"] != "",
                   " & " + tag_rules["and_key"] + "=" + tag_rules["and_value"], "")
        + np.where(tag_rules["name_pattern"] != "",
                   " & name~/" + tag_rules["name_pattern"] + "/", "")
    )  # fmt: skip
    assert set(labels) <= set(fac.points["match_rule"])
    # the feature with two types has two rows, labelled by type
    both = fac.points[fac.points["feature_id"] == f"osm:node/{len(TAG_CASES)}"]
    assert sorted(both.index) == [
        f"osm:node/{len(TAG_CASES)}#community_health_center",
        f"osm:node/{len(TAG_CASES)}#elderly_day_care_center",
    ]
    # the rest of the rejected ones are reported with a reason
    rejected = {f"osm:node/{i}" for i, (_, e) in enumerate(TAG_CASES, start=1) if not e}
    assert rejected <= set(fac.unmatched.index)
    assert fac.unmatched["reason"].str.len().gt(10).all()


NAME_CASES = {
    "五老村幼儿园": {"kindergarten"},
    "金色摇篮托育中心": {"nursery"},
    "红黄蓝早教": {"nursery"},
    "江东街道托儿所": {"nursery"},
    "幸福里社区日间照料中心": {"elderly_day_care_center"},
    "秦淮区托老所": {"elderly_day_care_center"},
    "颐和居家养老服务中心": {"elderly_day_care_center"},
    "鼓楼区社会福利院": {"nursing_home"},
    "九龙湖养老院": {"nursing_home"},
    "夕阳红养老院日间照料中心": {"nursing_home", "elderly_day_care_center"},
    "中国人寿养老保险": set(),
    "五老村长者食堂": {"community_canteen"},
    "街道老年助餐点": {"community_canteen"},
    "社区食堂": {"community_canteen"},
    "教工食堂": set(),
    "二食堂": set(),
    "华侨路社区卫生服务中心": {"community_health_center"},
    "华侨路社区卫生服务中心五老村服务站": {"community_health_station"},
    "五老村卫生室": {"community_health_station"},
    "五老村社区服务中心": {"community_service_station"},
    "新街口党群服务中心": {"community_service_station"},
    "五老村社区居委会": {"community_service_station"},
    "秦淮区就业服务中心": {"employment_service_station"},
    "人力资源服务站": {"employment_service_station"},
    "秦淮区残疾人之家": {"disability_service_station"},
    "社区康复站": {"disability_service_station"},
    "江苏省人民医院康复科": set(),
    "阳光四点半课堂": {"after_school_care"},
    "小状元课后托管": {"after_school_care"},
    "汉中门小学": {"primary_school"},
    "中小学教材书店": set(),
    "南京市第九初级中学": {"junior_middle_school"},
    "金陵中学": {"junior_middle_school"},
    "南京市第三高级中学": set(),
    "五老村文化活动站": {"culture_activity_station"},
    "南京幼儿高等师范学校": set(),
    "瑞幸咖啡": set(),
}


def test_name_rules(helsinki_net):
    names = list(NAME_CASES)
    feats = _features([{"name": n} for n in names], jitter=3e-4)
    fac = ef.from_osm_features(feats, helsinki_net)
    got = _types(fac)
    for i, name in enumerate(names, start=1):
        assert got.get(f"osm:node/{i}", set()) == NAME_CASES[name], name
    assert set(fac.points["matched_by"]) == {"name"}
    # excluded names are reported; names that never looked relevant are not
    assert f"osm:node/{names.index('教工食堂') + 1}" in fac.unmatched.index
    assert f"osm:node/{names.index('瑞幸咖啡') + 1}" not in fac.unmatched.index


def test_name_zh_column_is_matched(helsinki_net):
    feats = _features([{"name": "Kids Park", "name:zh": "阳光幼儿园"}])
    assert _types(ef.from_osm_features(feats, helsinki_net)) == {"osm:node/1": {"kindergarten"}}


def test_floor_area_and_capacity(helsinki_net):
    net_crs = helsinki_net.crs
    centre = gpd.GeoSeries([shapely.Point(HEL)], crs=4326).to_crs(net_crs).iloc[0]
    square = shapely.box(centre.x - 10, centre.y - 10, centre.x + 10, centre.y + 10)  # 400 m²
    feats = gpd.GeoDataFrame(
        {"amenity": ["kindergarten", "kindergarten"], "building:levels": ["3", None],
         "capacity": ["120", None], "name": ["A", "B"]},
        geometry=[square, shapely.Point(centre.x + 200, centre.y)], crs=net_crs,
    )  # fmt: skip
    p = ef.from_osm_features(feats, helsinki_net).points
    assert p.loc["0", "floor_area_m2"] == pytest.approx(1200.0)
    assert bool(p.loc["0", "floor_area_estimated"])
    assert p.loc["0", "capacity"] == 120 and p.loc["0", "capacity_unit"] == "places"
    assert np.isnan(p.loc["1", "floor_area_m2"]) and pd.isna(p.loc["1", "capacity_unit"])
    assert square.contains(p.loc["0", "geometry"])  # areas become a point inside them


def test_custom_mapping(helsinki_net, tmp_path):
    rules = ef.read_rules()
    extra = pd.DataFrame([{"facility_type": "老年人日间照料中心（托老所）", "key": "amenity",
                           "value": "social_centre", "name_pattern": "", "name_exclude": "",
                           "and_key": "", "and_value": "", "note": ""}])  # fmt: skip
    path = tmp_path / "rules.csv"
    pd.concat([extra, rules]).to_csv(path, index=False)
    feats = _features([{"amenity": "social_centre"}])
    fac = ef.from_osm_features(feats, helsinki_net, mapping=path)
    assert fac.types == ("elderly_day_care_center",)


# --------------------------------------------------------------------------- POI exports
def _street_points(net, n: int) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat of points 15 m beside the middle of n long street edges."""
    edges = net.edges
    edges = edges[edges["length"] > 60].iloc[:: max(1, len(edges) // (3 * n))].iloc[:n]
    mid = shapely.line_interpolate_point(edges.geometry.to_numpy(), 0.5, normalized=True)
    pts = gpd.GeoSeries(shapely.transform(mid, lambda c: c + np.array([0.0, 15.0])), crs=net.crs)
    wgs = pts.to_crs(4326)
    return wgs.x.to_numpy(), wgs.y.to_numpy()


def test_amap_export(nanjing_net, tmp_path):
    lon, lat = _street_points(nanjing_net, 9)
    glon, glat = wgs84_to_gcj02(lon, lat)
    rows = [
        ("B0FFA1", "五老村幼儿园", "科教文化服务;学校;幼儿园", "141204"),
        ("B0FFA2", "华侨路社区卫生服务中心", "医疗保健服务;诊所;诊所", "090300"),
        ("B0FFA3", "五老村长者食堂", "餐饮服务;中餐厅;中餐厅", "050100"),
        ("B0FFA4", "贝佳口腔诊所", "医疗保健服务;诊所;诊所", "090300"),
        ("B0FFA5", "江苏省中医院", "医疗保健服务;综合医院;三级甲等医院", "090101"),
        ("B0FFA6", "如家酒店", "住宿服务;宾馆酒店;经济型连锁酒店", "100105"),
        ("B0FFA7", "汉庭酒店", "住宿服务;宾馆酒店;经济型连锁酒店", "100105"),
        ("B0FFA8", "苏果便利", "购物服务;便民商店/便利店;便民商店/便利店", "060200"),
        ("B0FFA1", "五老村幼儿园", "科教文化服务;学校;幼儿园", "141204"),  # repeated id
    ]
    df = pd.DataFrame(rows, columns=["id", "name", "type", "typecode"])
    df["address"] = "秦淮区"
    df["location"] = [f"{x:.6f},{y:.6f}" for x, y in zip(glon, glat, strict=True)]
    df["pname"], df["cityname"], df["adname"] = "江苏省", "南京市", "秦淮区"
    path = tmp_path / "amap.csv"
    df.to_csv(path, index=False, encoding="gb18030")  # as exported on Chinese Windows
    fac = ef.from_poi_export(path, nanjing_net, provider="amap")
    p = fac.points
    assert p["facility_type"].to_dict() == {
        "amap:B0FFA1": "kindergarten",
        "amap:B0FFA2": "community_health_center",
        "amap:B0FFA3": "community_canteen",
    }
    assert p["matched_by"].tolist() == ["category", "category", "name"]
    # GCJ-02 converted: the snap is where the WGS-84 originals snap
    truth = nanjing_net.snap(
        gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[:3], lat[:3]), crs=4326)
    )
    original = gpd.GeoSeries(gpd.points_from_xy(lon[:3], lat[:3]), crs=4326).to_crs(p.crs)
    assert (p.distance(original, align=False) < 0.5).all()  # 6 decimals in "lng,lat": ~0.1 m
    assert (p["edge"].to_numpy() == truth["edge"].to_numpy()).all()
    np.testing.assert_allclose(p["position_m"], truth["position_m"], atol=0.5)
    np.testing.assert_allclose(p["access_m"], truth["access_m"], atol=0.5)
    assert p["access_m"].lt(20).all()
    um = fac.unmatched
    assert fac.report.unknown_categories == {
        "住宿服务;宾馆酒店;经济型连锁酒店": 2,
        "购物服务;便民商店/便利店;便民商店/便利店": 1,
    }
    assert "hospital" in um.loc["amap:B0FFA5", "reason"]
    assert "fits none" in um.loc["amap:B0FFA4", "reason"]
    assert "repeats amap:B0FFA1" in um.loc["amap:B0FFA1#8", "reason"]
    assert len(um) == 6 and fac.report.n_read == 9


def test_amap_typecode_only_and_lonlat_columns(nanjing_net):
    lon, lat = _street_points(nanjing_net, 2)
    glon, glat = wgs84_to_gcj02(lon, lat)
    df = pd.DataFrame({"name": ["某小学", "某中学"], "typecode": ["141203", "141202"],
                       "lng": glon, "lat": glat})  # fmt: skip
    fac = ef.from_poi_export(df, nanjing_net, provider="amap")
    assert fac.points["facility_type"].tolist() == ["primary_school", "junior_middle_school"]
    assert fac.points["match_rule"].iloc[0] == "amap typecode 141203*"


def test_baidu_export(nanjing_net):
    lon, lat = _street_points(nanjing_net, 4)
    blon, blat = wgs84_to_bd09(lon, lat)
    df = pd.DataFrame({
        "uid": ["u1", "u2", "u3", "u4"],
        "name": ["五老村幼儿园", "五老村社区居委会", "夕阳红养老院", "某某宾馆"],
        "tag": ["教育培训;幼儿园", "政府机构;居民委员会", "政府机构;福利机构", "酒店;快捷酒店"],
        "lng": blon, "lat": blat,
    })  # fmt: skip
    fac = ef.from_poi_export(df, nanjing_net, provider="baidu")
    p = fac.points
    assert p["facility_type"].to_dict() == {
        "baidu:u1": "kindergarten",
        "baidu:u2": "community_service_station",
        "baidu:u3": "nursing_home",
    }
    assert p.loc["baidu:u3", "matched_by"] == "name"
    truth = nanjing_net.snap(gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326))
    np.testing.assert_allclose(p["position_m"], truth["position_m"].iloc[:3], atol=0.5)
    assert (p["edge"].to_numpy() == truth["edge"].iloc[:3].to_numpy()).all()
    assert dict(fac.report.unknown_categories) == {"酒店;快捷酒店": 1}


def test_tencent_category_separator(nanjing_net):
    lon, lat = _street_points(nanjing_net, 1)
    glon, glat = wgs84_to_gcj02(lon, lat)
    df = pd.DataFrame({"id": ["t1"], "name": ["阳光幼儿园"], "category": ["教育学校:幼儿园"],
                       "lng": glon, "lat": glat})  # fmt: skip
    fac = ef.from_poi_export(df, nanjing_net, provider="tencent")
    assert fac.points["facility_type"].tolist() == ["kindergarten"]


# --------------------------------------------------------------------------- user tables
def test_user_table_with_chinese_types(nanjing_net, tmp_path):
    lon, lat = _street_points(nanjing_net, 4)
    df = pd.DataFrame({
        "设施名称": ["五老村托育园", "五老村幼儿园", "综合体", "老年食堂"],
        "类型": ["托育", "kindergarten", "日间照料中心、社区食堂", "社区食堂（助餐点）"],
        "经度": lon, "纬度": lat, "建筑面积": [200, 1800, 900, None], "床位": [None, 180, 20, 40],
    }, index=["F1", "F2", "F3", "F4"])  # fmt: skip
    path = tmp_path / "city.csv"
    df.to_csv(path)
    table = pd.read_csv(path, index_col=0)
    fac = ef.from_table(table, nanjing_net, type_column="类型", name_column="设施名称",
                        floor_area_column="建筑面积", capacity_column="床位")  # fmt: skip
    p = fac.points
    assert p["facility_type"].to_dict() == {
        "F1": "nursery",
        "F2": "kindergarten",
        "F3#elderly_day_care_center": "elderly_day_care_center",
        "F3#community_canteen": "community_canteen",
        "F4": "community_canteen",
    }
    assert set(p["matched_by"]) == {"user"}
    assert p.loc["F2", "floor_area_m2"] == 1800 and p.loc["F2", "capacity_unit"] == "places"
    assert np.isnan(p.loc["F1", "capacity"]) and pd.isna(p.loc["F1", "capacity_unit"])
    s = fac.summary()
    assert (
        s.loc["community_canteen", "user"] == 2 and s.loc["community_canteen", "with_capacity"] == 2
    )


def test_user_geodataframe_gcj02(nanjing_net):
    lon, lat = _street_points(nanjing_net, 2)
    glon, glat = wgs84_to_gcj02(lon, lat)
    gdf = gpd.GeoDataFrame({"type": ["nursery", "幼儿园"]},
                           geometry=gpd.points_from_xy(glon, glat), crs=4326)  # fmt: skip
    fac = ef.from_table(gdf, nanjing_net, type_column="type", coordinate_system="gcj02")
    truth = nanjing_net.snap(gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326))
    np.testing.assert_allclose(fac.points["access_m"], truth["access_m"], atol=0.01)
    assert list(fac.points.index) == [0, 1]


def test_table_rows_without_type_are_reported(nanjing_net):
    lon, lat = _street_points(nanjing_net, 2)
    df = pd.DataFrame({"type": ["nursery", None], "lon": lon, "lat": lat})
    fac = ef.from_table(df, nanjing_net, type_column="type")
    assert len(fac) == 1 and "no facility type" in fac.unmatched.loc[1, "reason"]


# --------------------------------------------------------------------------- bad input
def _table(lon=(118.78,), lat=(32.04,), **cols) -> pd.DataFrame:
    return pd.DataFrame({"type": ["kindergarten"] * len(lon), "lon": lon, "lat": lat, **cols})


@pytest.mark.parametrize(
    ("call", "error", "phrase"),
    [
        (lambda net: ef.from_osm_features(_features([{"amenity": "kindergarten"}]).set_crs(
            None, allow_override=True), net), CRSError, "no CRS"),
        (lambda net: ef.from_osm_features(_features([{"amenity": "x"}]).iloc[:0], net),
         EmptyInputError, "empty"),
        (lambda net: ef.from_osm_features(_features([{"foo": "x"}]), net), MissingColumnError,
         "available columns"),
        (lambda net: ef.from_table(_table(), net, type_column="类型"), MissingColumnError,
         "available columns"),
        (lambda net: ef.from_table(_table().drop(columns="lon"), net, type_column="type"),
         MissingColumnError, "longitude"),
        (lambda net: ef.from_table(_table().iloc[:0], net, type_column="type"), EmptyInputError,
         "empty"),
        (lambda net: ef.from_table(_table(lon=["x"]), net, type_column="type"), InputError,
         "non-numeric"),
        (lambda net: ef.from_table(_table(lon=(32.04,), lat=(118.78,)), net, type_column="type"),
         CoordinateSystemError, "swapped"),
        (lambda net: ef.from_table(_table((118.78, 118.78), (32.04, 32.04)).set_index(
            pd.Index([1, 1])), net, type_column="type"), InputError, "unique"),
        (lambda net: ef.from_table(_table().assign(type="幼儿圆"), net, type_column="type"),
         UnknownFacilityTypeError, "did you mean '幼儿园'"),
        (lambda net: ef.from_table(_table(lon=(118.90,)), net, type_column="type"),
         FarFromNetworkError, "farther than 500 m"),
        (lambda net: ef.from_table(_table(), net, type_column="type", on_far="skip"), InputError,
         "on_far"),
        (lambda net: ef.from_poi_export(_table(), net, provider="google"), InputError,
         "provider"),
        (lambda net: ef.from_poi_export(_table().rename(columns={"type": "kind"}).assign(
            name="x"), net, provider="amap"),
         MissingColumnError, "category column"),
        (lambda net: ef.from_osm_features(_features([{"amenity": "x"}]), net,
                                          mapping=pd.DataFrame({"key": ["a"]})),
         MissingColumnError, "lacks column"),
    ],
)  # fmt: skip
def test_bad_input(nanjing_net, call, error, phrase):
    with pytest.raises(error, match=phrase):
        call(nanjing_net)


def test_bad_rules():
    rules = ef.read_rules()
    with pytest.raises(InputError, match="regular expression"):
        ef.read_rules(rules.assign(name_pattern="(幼儿园"))
    with pytest.raises(UnknownFacilityTypeError, match="Known types"):
        ef.read_rules(rules.assign(facility_type="daycare"))
    with pytest.raises(InputError, match="provider"):
        ef.read_poi_categories(ef.read_poi_categories().assign(provider="google"))


def test_unknown_type_lookup(helsinki):
    with pytest.raises(UnknownFacilityTypeError, match="did you mean"):
        helsinki.of_type("kindergarden")
    with pytest.raises(KeyError):  # catchable as the builtin
        helsinki.of_type("no such type")


def test_far_features_dropped_and_reported(nanjing_net):
    lon, lat = _street_points(nanjing_net, 1)
    df = _table(lon=(lon[0], 118.90), lat=(lat[0], 32.04))
    fac = ef.from_table(df, nanjing_net, type_column="type", on_far="drop", max_distance=100)
    assert len(fac) == 1 and fac.report.n_far == 1
    assert "farther than 100 m" in fac.unmatched.loc[1, "reason"]


def test_gcj02_table_declared_wgs84_is_named(nanjing_net):
    from embedsite.crs import wgs84_to_gcj02
    from embedsite.errors import CoordinateSystemError

    mid = nanjing_net.edges.sample(30, random_state=2).geometry.interpolate(0.5, normalized=True)
    wgs = gpd.GeoSeries(mid.to_numpy(), crs=nanjing_net.crs).to_crs(4326)
    glon, glat = wgs84_to_gcj02(wgs.x.to_numpy(), wgs.y.to_numpy())
    table = pd.DataFrame({"type": "幼儿园", "lon": glon, "lat": glat})
    with pytest.raises(CoordinateSystemError, match=r"GCJ-02.*source='gcj02'"):
        ef.from_table(table, nanjing_net, type_column="type")
    ok = ef.from_table(table, nanjing_net, type_column="type", coordinate_system="gcj02")
    assert ok.points["access_m"].max() < 1.0  # back on the streets they came from
    # the same points exported by Amap but handed over as WGS-84 (provider says GCJ-02)
    amap = pd.DataFrame(
        {"name": [f"幼儿园{i}" for i in range(30)], "type": "科教文化服务;学校;幼儿园",
         "lon": wgs.x.to_numpy(), "lat": wgs.y.to_numpy()}
    )  # fmt: skip
    with pytest.raises(CoordinateSystemError, match="already WGS-84"):
        ef.from_poi_export(amap, nanjing_net, provider="amap")


def test_unnamed_part_of_an_unnamed_area_has_a_reason(helsinki_net):
    # a kindergarten node inside a larger kindergarten area is a part of it; with no names the
    # reason must still say so (pandas 3 turned "label (None)" into a missing value)
    centre = gpd.GeoSeries([shapely.Point(HEL)], crs=4326).to_crs(helsinki_net.crs).iloc[0]
    square = shapely.box(centre.x - 30, centre.y - 30, centre.x + 30, centre.y + 30)
    feats = gpd.GeoDataFrame(
        {"amenity": ["kindergarten", "kindergarten"], "name": [None, None]},
        geometry=[square, centre], crs=helsinki_net.crs,
    )  # fmt: skip
    fac = ef.from_osm_features(feats, helsinki_net)
    assert list(fac.points.index) == ["0"]
    reason = fac.unmatched.loc["1", "reason"]
    assert isinstance(reason, str) and reason.startswith("inside 0 (unnamed), also kindergarten")


def test_from_osm_file_reads_only_the_features_in_a_polygon(helsinki_net):
    """polygon= keeps the facilities inside it, snapped as in a full read, and none outside."""
    area = shapely.box(24.935, 60.165, 24.95, 60.172)
    full = ef.from_osm_file(SAMPLE, helsinki_net).points
    part = ef.from_osm_file(SAMPLE, helsinki_net, polygon=area).points
    assert 0 < len(part) < len(full)
    inside = full.to_crs(4326).within(area)
    assert set(part.index) == set(full.index[inside])  # the sample's facilities are points
    cols = ["facility_type", "edge", "access_m"]
    pd.testing.assert_frame_equal(part[cols], full.loc[part.index, cols])

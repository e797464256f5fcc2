"""Tests for embedsite.crs: WGS-84/GCJ-02/BD-09 conversions, checks and metric CRSs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, Polygon

from embedsite import crs as ecrs
from embedsite.errors import CoordinateSystemError, CRSError, EmptyInputError, InputError

GEOD = pyproj.Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist)


def _close(actual: tuple[np.ndarray, np.ndarray], expected, tol: float) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=0, atol=tol)


# --------------------------------------------------------------------------- reference values
# googollee/eviltransform, python/test.py and go/transform_test.go (TESTS):
# (wgs lon, wgs lat, gcj lon, gcj lat), asserted there to 6 decimals.
EVILTRANSFORM = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]

# hujiulong/gcoord, test/fixtures/china-cities.json: WGS84, GCJ02 and BD09 of city centres,
# published to 7 decimals. gcoord asserts GCJ02<->WGS84 to 4 decimals (the fixture's WGS-84
# values differ from the formula by ~5e-6 deg) and GCJ02->BD09 to 6 decimals.
GCOORD_CITIES = {
    "Zhumadian": ((114.0164322, 33.0133556), (114.022306, 33.0115324), (114.0287781, 33.0176697)),
    "Shaoyang": ((111.4622119, 27.242124), (111.4677938, 27.2388981), (111.4742271, 27.2451662)),
    "Nagqu": ((92.0499619, 31.4784436), (92.0512438, 31.4762063), (92.0576832, 31.4824421)),
    "Shenyang": ((123.4253306, 41.8032629), (123.4314787, 41.8057023), (123.438095, 41.8114013)),
    "Jiuquan": ((98.4937175, 39.7319946), (98.4943595, 39.7328234), (98.5008441, 39.7388949)),
    "Taizhou": ((119.9183831, 32.4580023), (119.9231242, 32.4557802), (119.9296902, 32.4615531)),
    "Qinzhou": ((108.6503952, 21.9828281), (108.6541485, 21.9799392), (108.6607283, 21.9856319)),
}


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM)
def test_eviltransform_reference(wlon: float, wlat: float, glon: float, glat: float) -> None:
    _close(ecrs.wgs84_to_gcj02(wlon, wlat), [glon, glat], 1e-6)
    back = ecrs.gcj02_to_wgs84(glon, glat)
    _close(back, [wlon, wlat], 1e-6)
    assert _metres(*back, wlon, wlat) < 0.01  # eviltransform's gcj2wgs_exact promises 0.5 m


def test_coordtransform_reference() -> None:
    # wandergis/coordtransform, test/app.js (results listed there for the input 116.404, 39.915)
    _close(ecrs.wgs84_to_gcj02(116.404, 39.915), [116.41024449916938, 39.91640428150164], 1e-9)
    _close(ecrs.gcj02_to_bd09(116.404, 39.915), [116.41036949371029, 39.92133699351021], 1e-9)
    # their inverses are one-step closed-form approximations; ours iterate to exactness
    _close(ecrs.bd09_to_gcj02(116.404, 39.915), [116.39762729119315, 39.90865673957631], 1e-6)
    _close(ecrs.gcj02_to_wgs84(116.404, 39.915), [116.39775550083061, 39.91359571849836], 1e-6)


def test_gcoord_unit_reference() -> None:
    # hujiulong/gcoord, test/unit/crs/GCJ02.spec.js and BD09.spec.ts, input (123, 45), 5 decimals
    _close(ecrs.gcj02_to_wgs84(123, 45), [122.99395597, 44.99804071], 1e-6)
    _close(ecrs.gcj02_to_bd09(123, 45), [123.00636499, 45.00636899], 1e-6)
    _close(ecrs.bd09_to_gcj02(123, 45), [122.99363304, 44.99365430], 1e-6)
    _close(ecrs.bd09_to_wgs84(123, 45), [122.98762210, 44.99171540], 2e-6)


@pytest.mark.parametrize("city", sorted(GCOORD_CITIES))
def test_gcoord_cities_reference(city: str) -> None:
    wgs, gcj, bd = GCOORD_CITIES[city]
    _close(ecrs.gcj02_to_bd09(*gcj), bd, 1e-6)
    _close(ecrs.bd09_to_gcj02(*bd), gcj, 1e-6)
    _close(ecrs.wgs84_to_gcj02(*wgs), gcj, 1e-5)
    _close(ecrs.gcj02_to_wgs84(*gcj), wgs, 1e-5)
    _close(ecrs.wgs84_to_bd09(*wgs), bd, 1e-5)
    _close(ecrs.bd09_to_wgs84(*bd), wgs, 1e-5)


def test_vectorised_matches_scalar_and_keeps_shape() -> None:
    wlon = np.array([[p[0] for p in EVILTRANSFORM], [p[0] + 0.5 for p in EVILTRANSFORM]])
    wlat = np.array([[p[1] for p in EVILTRANSFORM], [p[1] - 0.5 for p in EVILTRANSFORM]])
    lon, lat = ecrs.wgs84_to_bd09(wlon, wlat)
    assert lon.shape == lat.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            _close(ecrs.wgs84_to_bd09(wlon[i, j], wlat[i, j]), [lon[i, j], lat[i, j]], 0)
    scalar = ecrs.gcj02_to_wgs84(116.4, 39.9)
    assert scalar[0].shape == () and scalar[0].dtype == np.float64


def test_inputs_not_mutated_and_nan_passes_through() -> None:
    lon = np.array([118.78, np.nan, 118.79])
    lat = np.array([32.04, 32.05, np.nan])
    before = lon.copy()
    for func in (ecrs.gcj02_to_wgs84, ecrs.bd09_to_wgs84, ecrs.wgs84_to_bd09):
        out_lon, out_lat = func(lon, lat)
        assert np.isnan(out_lon[1]) or np.isnan(out_lat[1])
        assert np.isfinite(out_lon[0]) and np.isfinite(out_lat[0])
    np.testing.assert_array_equal(lon, before)


# --------------------------------------------------------------------------- round trips
china_points = st.lists(
    st.tuples(st.floats(73.0, 135.0), st.floats(18.0, 53.0)), min_size=1, max_size=40
)


@settings(max_examples=200, deadline=None)
@given(china_points)
def test_round_trip_gcj02(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    glon, glat = ecrs.wgs84_to_gcj02(lon, lat)
    assert np.all(_metres(lon, lat, glon, glat) > 1.0)  # an offset was applied
    back = ecrs.gcj02_to_wgs84(glon, glat)
    assert np.max(_metres(*back, lon, lat)) < 1.0
    assert np.max(np.abs(np.subtract(back, (lon, lat)))) < 1e-8  # in fact exact


@settings(max_examples=200, deadline=None)
@given(china_points)
def test_round_trip_bd09(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    back = ecrs.bd09_to_wgs84(*ecrs.wgs84_to_bd09(lon, lat))
    assert np.max(_metres(*back, lon, lat)) < 1.0
    bd = ecrs.gcj02_to_bd09(*ecrs.bd09_to_gcj02(lon, lat))
    assert np.max(np.abs(np.subtract(bd, (lon, lat)))) < 1e-8


@pytest.mark.parametrize(
    "func",
    [
        ecrs.wgs84_to_gcj02,
        ecrs.gcj02_to_wgs84,
        ecrs.gcj02_to_bd09,
        ecrs.bd09_to_gcj02,
        ecrs.wgs84_to_bd09,
        ecrs.bd09_to_wgs84,
    ],
)
def test_outside_china_unchanged(func) -> None:
    # Paris, New York, Sydney, Moscow, and just outside each edge of CHINA_BBOX
    lon = np.array([2.35, -74.0, 151.2, 37.6, 71.9, 137.9, 100.0, 100.0])
    lat = np.array([48.85, 40.7, -33.9, 55.75, 30.0, 30.0, 0.8, 55.9])
    out_lon, out_lat = func(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


# --------------------------------------------------------------------------- GeoDataFrames
@pytest.fixture
def mixed_gdf() -> gpd.GeoDataFrame:
    geoms = [
        Point(118.78, 32.04),
        LineString([(118.70, 32.00), (118.80, 32.10)]),
        Polygon([(118.7, 32.0), (118.8, 32.0), (118.8, 32.1), (118.7, 32.0)]),
        Point(118.79, 32.05, 12.5),
    ]
    return gpd.GeoDataFrame(
        {"name": ["a", "b", "c", "d"], "beds": [1, 2, 3, 4]},
        geometry=geoms,
        index=pd.Index(["k1", "k2", "k3", "k4"], name="site"),
        crs="EPSG:4326",
    )


def test_convert_coordinates_any_geometry(mixed_gdf: gpd.GeoDataFrame) -> None:
    original = mixed_gdf.copy()
    out = ecrs.to_wgs84(mixed_gdf, source="gcj02")
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs.to_epsg() == 4326
    assert list(out.columns) == list(mixed_gdf.columns)
    assert out.index.equals(mixed_gdf.index)
    assert out.geom_type.tolist() == mixed_gdf.geom_type.tolist()
    got = shapely.get_coordinates(np.asarray(out.geometry.array))
    src = shapely.get_coordinates(np.asarray(mixed_gdf.geometry.array))
    _close(ecrs.gcj02_to_wgs84(src[:, 0], src[:, 1]), got.T, 1e-12)
    assert out.geometry.iloc[3].has_z and out.geometry.iloc[3].z == 12.5
    assert not out.geometry.iloc[0].has_z
    assert mixed_gdf.equals(original)  # input untouched


def test_convert_coordinates_series_and_identity(mixed_gdf: gpd.GeoDataFrame) -> None:
    series = ecrs.convert_coordinates(mixed_gdf.geometry, source="wgs84", target="bd09")
    assert isinstance(series, gpd.GeoSeries)
    back = ecrs.convert_coordinates(series, source="bd09", target="wgs84")
    assert back.geom_equals_exact(mixed_gdf.geometry, tolerance=1e-8).all()
    same = ecrs.convert_coordinates(mixed_gdf, source="wgs84", target="wgs84")
    assert same.geom_equals_exact(mixed_gdf.geometry, tolerance=0).all()
    assert same is not mixed_gdf


def test_convert_coordinates_errors(mixed_gdf: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="'wgs84', 'gcj02', 'bd09'") as info:
        ecrs.to_wgs84(mixed_gdf, source="baidu")  # type: ignore[arg-type]
    assert not isinstance(info.value, CRSError)
    with pytest.raises(InputError, match="target='epsg:4326'"):
        ecrs.convert_coordinates(mixed_gdf, source="wgs84", target="epsg:4326")  # type: ignore[arg-type]
    with pytest.raises(CRSError, match="needs lon/lat"):
        ecrs.to_wgs84(mixed_gdf.to_crs(32650), source="gcj02")
    with pytest.raises(CRSError, match="no CRS"):
        ecrs.to_wgs84(mixed_gdf.set_crs(None, allow_override=True), source="gcj02")


# --------------------------------------------------------------------------- checks
def test_check_crs() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(118.78, 32.04)], crs=4326)
    assert ecrs.check_crs(gdf).equals(pyproj.CRS.from_epsg(4326))
    with pytest.raises(CRSError, match=r"facilities has no CRS; set it with gdf\.set_crs\(4326\)"):
        ecrs.check_crs(gpd.GeoDataFrame(geometry=[Point(118.78, 32.04)]), name="facilities")
    with pytest.raises(EmptyInputError, match="demand is empty"):
        ecrs.check_crs(gpd.GeoDataFrame(geometry=[], crs=4326), name="demand")


def test_check_lonlat_accepts_good_data() -> None:
    ecrs.check_lonlat([[118.78, 32.04], [-74.0, 40.7]])
    ecrs.check_lonlat((np.array([118.78, 118.79, 118.8]), np.array([32.04, 32.05, 32.06])))
    # Svalbard next to Beijing: valid, not every point looks swapped and none has lat > 90
    ecrs.check_lonlat(gpd.GeoSeries([Point(15.6, 78.2), Point(116.4, 39.9)], crs=4326))
    ecrs.check_lonlat(gpd.GeoSeries([Point(668000, 3546000)], crs=32650))
    ecrs.check_lonlat(gpd.GeoSeries([Point(118.78, 32.04), None], crs=4326))


def test_check_lonlat_swapped() -> None:
    gdf = gpd.GeoDataFrame(
        geometry=[Point(32.04, 118.78), Point(32.05, 118.79)], index=["x", "y"], crs=4326
    )
    with pytest.raises(CoordinateSystemError, match="lat/lon swapped") as info:
        ecrs.check_lonlat(gdf, name="schools")
    message = str(info.value)
    assert "schools" in message and "'x': (32.04, 118.78)" in message
    assert "points_from_xy" in message and "c[:, ::-1]" in message
    # one swapped row among good ones is still reported as swapped (its latitude is > 90)
    with pytest.raises(CoordinateSystemError, match="swapped"):
        ecrs.check_lonlat([[118.78, 32.04], [32.04, 118.78]])
    # swapped Xinjiang (Kashgar, Urumqi) has valid-looking Arctic latitudes: all rows match
    with pytest.raises(CoordinateSystemError, match="swapped"):
        ecrs.check_lonlat([[39.47, 75.99], [43.83, 87.62]])
    # a pair of arrays works too
    with pytest.raises(CoordinateSystemError, match="swapped"):
        ecrs.check_lonlat((np.array([32.04, 39.9, 22.5]), np.array([118.78, 116.4, 114.1])))


def test_check_lonlat_out_of_range() -> None:
    with pytest.raises(CoordinateSystemError, match=r"latitude outside \[-90, 90\]"):
        ecrs.check_lonlat([[118.78, 32.04], [60.0, -95.0]])
    metres = gpd.GeoSeries([Point(668000.0, 3546000.0), Point(669000.0, 3547000.0)], crs=4326)
    with pytest.raises(CoordinateSystemError, match="values like metres") as info:
        ecrs.check_lonlat(metres)
    assert "668000" in str(info.value) and "set_crs(<EPSG code>" in str(info.value)


def test_check_lonlat_degrees_in_projected_crs() -> None:
    degrees = gpd.GeoSeries([Point(118.78, 32.04), Point(118.79, 32.05)], crs=32650)
    with pytest.raises(CoordinateSystemError, match="degrees used as metres") as info:
        ecrs.check_lonlat(degrees, name="roads")
    assert "set_crs(4326, allow_override=True)" in str(info.value)
    assert "UTM zone 50N" in str(info.value)


def test_check_lonlat_empty() -> None:
    with pytest.raises(EmptyInputError, match="0 rows"):
        ecrs.check_lonlat(gpd.GeoSeries([], crs=4326))
    with pytest.raises(EmptyInputError, match="no finite coordinates"):
        ecrs.check_lonlat(gpd.GeoSeries([Point()], crs=4326))
    with pytest.raises(EmptyInputError, match="no finite coordinates"):
        ecrs.check_lonlat(np.empty((0, 2)))


# --------------------------------------------------------------------------- offset detection
@pytest.fixture(scope="module")
def nanjing() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A 10 x 10 grid of main roads (~2 km apart) around Nanjing and points on the roads."""
    x0, y0, spacing, n = 118.78, 32.04, 0.021, 9
    lo_x, lo_y = x0 - n * spacing / 2, y0 - n * spacing / 2
    hi_x, hi_y = lo_x + n * spacing, lo_y + n * spacing
    lines = [
        LineString([(lo_x + i * spacing, lo_y), (lo_x + i * spacing, hi_y)]) for i in range(n + 1)
    ]
    lines += [
        LineString([(lo_x, lo_y + i * spacing), (hi_x, lo_y + i * spacing)]) for i in range(n + 1)
    ]
    streets = gpd.GeoDataFrame({"street": range(len(lines))}, geometry=lines, crs=4326)
    rng = np.random.default_rng(42)
    which = rng.integers(0, len(lines), 150)
    on = shapely.line_interpolate_point(np.asarray(lines)[which], rng.random(150), normalized=True)
    points = gpd.GeoDataFrame({"poi": range(150)}, geometry=on, crs=4326)
    return streets, points


@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09"])
def test_guess_coordinate_system(nanjing, system: str) -> None:
    streets, points = nanjing
    shifted = ecrs.convert_coordinates(points, source="wgs84", target=system)
    guess = ecrs.guess_coordinate_system(shifted, streets.geometry)
    assert guess.best == system
    assert guess.n_points == 150
    assert set(guess.median_distance_m) == {"wgs84", "gcj02", "bd09"}
    assert guess.median_distance_m[system] < 2.0
    others = [d for s, d in guess.median_distance_m.items() if s != system]
    assert min(others) > 100.0
    # a projected reference layer works the same
    assert ecrs.guess_coordinate_system(shifted, streets.to_crs(4549)).best == system


def test_guess_coordinate_system_subsamples(nanjing) -> None:
    streets, points = nanjing
    guess = ecrs.guess_coordinate_system(points, streets, max_points=40)
    assert guess.n_points <= 40 and guess.best == "wgs84"


def test_check_offset(nanjing) -> None:
    streets, points = nanjing
    assert ecrs.check_offset(points, streets).best == "wgs84"
    gcj = ecrs.convert_coordinates(points, source="wgs84", target="gcj02")
    with pytest.raises(CoordinateSystemError, match=r"look like GCJ-02 \(Amap/Tencent\)") as info:
        ecrs.check_offset(gcj, streets)
    assert "embedsite.crs.to_wgs84(gdf, source='gcj02')" in str(info.value)
    assert ecrs.check_offset(gcj, streets, declared="gcj02").best == "gcj02"
    bd = ecrs.convert_coordinates(points, source="wgs84", target="bd09")
    with pytest.raises(CoordinateSystemError, match=r"BD-09 \(Baidu\)"):
        ecrs.check_offset(bd, streets, declared="gcj02")
    with pytest.raises(CoordinateSystemError, match="already WGS-84"):
        ecrs.check_offset(points, streets, declared="bd09")
    with pytest.raises(InputError, match="valid ones are"):
        ecrs.check_offset(points, streets, declared="wgs")  # type: ignore[arg-type]


def test_check_offset_dense_grid() -> None:
    # streets ~1.2 km apart: BD-09 points read as WGS-84 land ~90 m from some street
    spacing = 0.0123
    lines = [
        LineString([(118.7 + i * spacing, 32.0), (118.7 + i * spacing, 32.1)]) for i in range(9)
    ]
    lines += [
        LineString([(118.7, 32.0 + i * spacing), (118.8, 32.0 + i * spacing)]) for i in range(9)
    ]
    streets = gpd.GeoSeries(lines, crs=4326)
    on = shapely.line_interpolate_point(
        np.asarray(lines), np.linspace(0.05, 0.95, 18), normalized=True
    )
    bd = ecrs.convert_coordinates(gpd.GeoSeries(on, crs=4326), source="wgs84", target="bd09")
    guess = ecrs.check_offset(bd, streets)  # below the default 100 m: passes
    assert guess.best == "bd09" and guess.median_distance_m["wgs84"] < 100
    with pytest.raises(CoordinateSystemError, match="source='bd09'"):
        ecrs.check_offset(bd, streets, min_distance_m=30)


def test_guess_needs_crs(nanjing) -> None:
    streets, points = nanjing
    with pytest.raises(CRSError, match="points has no CRS"):
        ecrs.guess_coordinate_system(points.set_crs(None, allow_override=True), streets)
    with pytest.raises(EmptyInputError, match="reference is empty"):
        ecrs.guess_coordinate_system(points, streets.iloc[:0])


# --------------------------------------------------------------------------- metric CRSs
def test_utm_crs() -> None:
    assert ecrs.utm_crs(118.78, 32.04).to_epsg() == 32650  # Nanjing
    assert ecrs.utm_crs(104.07, 30.67).to_epsg() == 32648  # Chengdu
    assert ecrs.utm_crs(-70.6, -33.4).to_epsg() == 32719  # Santiago
    assert ecrs.utm_crs(180.0, 0.0).to_epsg() == 32660
    assert ecrs.utm_crs(-180.0, 0.0).to_epsg() == 32601
    with pytest.raises(CoordinateSystemError, match="not swapped"):
        ecrs.utm_crs(32.04, 118.78)


def test_gauss_kruger_crs() -> None:
    nanjing = ecrs.gauss_kruger_crs(118.78)
    assert nanjing.to_epsg() == 4549 and "CM 120E" in nanjing.name
    assert ecrs.gauss_kruger_crs(117.2).to_epsg() == 4548  # Hefei, CM 117E
    six = ecrs.gauss_kruger_crs(118.78, zone_width=6)
    assert six.to_epsg() == 4498 and six.name.endswith("zone 20")
    for cm in range(75, 136, 3):
        crs = ecrs.gauss_kruger_crs(cm + 1.4)
        assert crs.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"
        params = {p.name: p.value for p in crs.coordinate_operation.params}
        assert params["False easting"] == 500000  # no zone prefix in the false easting
    for zone in range(13, 24):
        crs = ecrs.gauss_kruger_crs(zone * 6 - 3.5, zone_width=6)
        assert crs.name == f"CGCS2000 / Gauss-Kruger zone {zone}"
    with pytest.raises(InputError, match="outside China's 3-degree"):
        ecrs.gauss_kruger_crs(2.35)
    with pytest.raises(InputError, match="zones 13-23"):
        ecrs.gauss_kruger_crs(140.0, zone_width=6)
    with pytest.raises(InputError, match="zone_width must be 3 or 6"):
        ecrs.gauss_kruger_crs(118.0, zone_width=4)  # type: ignore[arg-type]


def test_local_metric_crs(mixed_gdf: gpd.GeoDataFrame) -> None:
    assert ecrs.local_metric_crs(mixed_gdf).to_epsg() == 32650
    assert ecrs.local_metric_crs(mixed_gdf.to_crs(4549)).to_epsg() == 32650
    assert ecrs.local_metric_crs(Point(104.07, 30.67)).to_epsg() == 32648
    assert ecrs.local_metric_crs(mixed_gdf, crs="EPSG:4549").to_epsg() == 4549
    with pytest.raises(CRSError, match="not a projected CRS in metres"):
        ecrs.local_metric_crs(mixed_gdf, crs=4326)
    with pytest.raises(CRSError, match="US survey foot"):
        ecrs.local_metric_crs(mixed_gdf, crs=2263)  # NY State Plane, US feet
    with pytest.raises(CRSError, match="no CRS"):
        ecrs.local_metric_crs(mixed_gdf.set_crs(None, allow_override=True))
    with pytest.raises(EmptyInputError, match="empty"):
        ecrs.local_metric_crs(Point())
    with pytest.raises(CoordinateSystemError, match="swapped"):
        ecrs.local_metric_crs(Point(32.04, 118.78))


def test_to_metric(mixed_gdf: gpd.GeoDataFrame) -> None:
    out = ecrs.to_metric(mixed_gdf)
    assert out.crs.to_epsg() == 32650
    assert out.index.equals(mixed_gdf.index)
    x, y = out.geometry.iloc[0].x, out.geometry.iloc[0].y
    assert 600_000 < x < 700_000 and 3_500_000 < y < 3_600_000
    assert ecrs.to_metric(mixed_gdf, 4549).crs.to_epsg() == 4549
    with pytest.raises(CRSError, match="not a projected CRS"):
        ecrs.to_metric(mixed_gdf, crs=4490)
    swapped = gpd.GeoDataFrame(geometry=[Point(39.47, 75.99)], crs=4326)  # Kashgar, swapped
    with pytest.raises(CoordinateSystemError, match="swapped"):
        ecrs.to_metric(swapped)
    degrees = mixed_gdf.set_crs(32650, allow_override=True)
    with pytest.raises(CoordinateSystemError, match="degrees used as metres"):
        ecrs.to_metric(degrees)


def test_error_classes_are_value_errors() -> None:
    with pytest.raises(ValueError):
        ecrs.to_wgs84(gpd.GeoDataFrame(geometry=[Point(1, 1)], crs=4326), source="bd")  # type: ignore[arg-type]

"""Chinese coordinate systems (WGS-84, GCJ-02, BD-09), sanity checks and local metric CRSs.

OpenStreetMap and GPS data are WGS-84. Maps from Amap (高德) and Tencent use GCJ-02, an
obfuscated lon/lat shifted by roughly 300-600 m inside China; Baidu (百度) adds a further
shift on top of GCJ-02, called BD-09. All three are longitude/latitude in degrees and usually
arrive labelled EPSG:4326, so the CRS alone cannot tell them apart: :func:`check_offset`
compares the data with WGS-84 streets to find out.

The offsets follow the widely published reverse-engineered formulas (Krasovsky ellipsoid
a = 6378245 m, e² = 0.00669342162296594323 for GCJ-02; the ``x_pi = π·3000/180`` rotation for
BD-09). The inverse transforms are not closed-form: they iterate the forward transform until
the residual is below 1e-9 degrees (about 0.1 mm).

Outside China the offsets are not applied: a point whose lon/lat lies outside the rectangle
72.004-137.8347 E, 0.8293-55.8271 N (the box used by the eviltransform family of libraries,
which contains all of mainland China including Mohe and Fuyuan) is returned unchanged.
Taiwan, Hong Kong and Macao fall inside the box and are shifted like the mainland.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast, get_args

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from embedsite._offsets import (
    _CONVERTERS,
    CHINA_BBOX,
    Array,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from embedsite.errors import CoordinateSystemError, CRSError, EmptyInputError, InputError

__all__ = [
    "CHINA_BBOX",
    "CoordinateSystem",
    "CoordinateSystemGuess",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_crs",
    "check_lonlat",
    "check_offset",
    "convert_coordinates",
    "gauss_kruger_crs",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "guess_coordinate_system",
    "local_metric_crs",
    "to_metric",
    "to_wgs84",
    "utm_crs",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

CoordinateSystem = Literal["wgs84", "gcj02", "bd09"]
_SYSTEMS: tuple[str, ...] = get_args(CoordinateSystem)
_LABELS = {"wgs84": "WGS-84 (GPS/OSM)", "gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}

_G = TypeVar("_G", gpd.GeoDataFrame, gpd.GeoSeries)


# --------------------------------------------------------------------------- checks
def _check_system(value: object, argument: str) -> CoordinateSystem:
    if value not in _SYSTEMS:
        valid = ", ".join(repr(s) for s in _SYSTEMS)
        raise InputError(
            f"{argument}={value!r} is not a known coordinate system; valid ones are {valid} "
            "(WGS-84 for GPS/OSM, GCJ-02 for Amap/Tencent, BD-09 for Baidu)"
        )
    return cast(CoordinateSystem, value)


def _first(labels: Any, values: NDArray[Any], mask: NDArray[np.bool_], n: int = 3) -> str:
    rows = np.flatnonzero(mask)[:n]
    shown = ", ".join(f"{labels[i]!r}: ({values[i, 0]:.6g}, {values[i, 1]:.6g})" for i in rows)
    more = f" and {int(mask.sum()) - len(rows)} more" if mask.sum() > len(rows) else ""
    return f"{{{shown}}}{more}"


def check_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str = "layer") -> pyproj.CRS:
    """Check that a layer has rows and a CRS, and return the CRS.

    Parameters
    ----------
    gdf
        The layer to check.
    name
        What to call the layer in error messages.

    Returns
    -------
    pyproj.CRS
        The layer's CRS.

    Raises
    ------
    EmptyInputError
        If the layer has no rows.
    CRSError
        If the layer has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> check_crs(gpd.GeoDataFrame(geometry=[Point(118.78, 32.04)], crs=4326)).to_epsg()
    4326
    """
    if len(gdf) == 0:
        raise EmptyInputError(f"{name} is empty (0 rows); pass a layer with at least one feature")
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no CRS; set it with gdf.set_crs(4326) if lon/lat (WGS-84, or GCJ-02/"
            "BD-09 before converting with embedsite.crs.to_wgs84), or with the projected EPSG "
            "code of your data, e.g. gdf.set_crs(4549) for CGCS2000 3-degree CM 120E"
        )
    return pyproj.CRS.from_user_input(gdf.crs)


def check_lonlat(
    data: gpd.GeoDataFrame | gpd.GeoSeries | ArrayLike,
    *,
    name: str = "layer",
) -> None:
    """Check that coordinates are plausible longitude/latitude (or plausible metres).

    A layer with a projected CRS only fails if *all* its coordinates fit in degree ranges
    (degrees labelled as metres). Otherwise, and for arrays or layers without a CRS, the
    values are read as lon/lat and must have ``|lon| <= 180`` and ``|lat| <= 90``. Data that
    looks like China with the axes swapped (lat in 73..136, lon in 3..54) is reported as
    swapped if any such point has ``|lat| > 90`` or all points look that way (swapped data
    from Xinjiang has valid-looking Arctic latitudes; genuine Arctic-only data, e.g. Svalbard,
    is therefore rejected too).

    Parameters
    ----------
    data
        A GeoDataFrame/GeoSeries, an ``(n, 2)`` array of ``(lon, lat)`` rows, or a tuple
        ``(lon_array, lat_array)``.
    name
        What to call the data in error messages.

    Raises
    ------
    EmptyInputError
        If there are no coordinates.
    CoordinateSystemError
        If the coordinates look swapped, out of range, metres in a geographic CRS or degrees
        in a projected one.

    Examples
    --------
    >>> check_lonlat([[118.78, 32.04], [118.79, 32.05]])
    >>> check_lonlat([[32.04, 118.78]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    embedsite.errors.CoordinateSystemError: layer: lat/lon swapped? ...
    """
    crs: pyproj.CRS | None = None
    if isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        if len(data) == 0:
            raise EmptyInputError(f"{name} is empty (0 rows)")
        crs = None if data.crs is None else pyproj.CRS.from_user_input(data.crs)
        b = shapely.bounds(np.asarray(data.geometry.array))
        labels: Any = data.index
        lo, hi = b[:, :2], b[:, 2:]
    else:
        if isinstance(data, tuple) and len(data) == 2:  # a (lon_array, lat_array) pair
            arr = np.column_stack(np.broadcast_arrays(*map(np.ravel, data))).astype(np.float64)
        else:
            arr = np.asarray(data, dtype=np.float64).reshape(-1, 2)
        labels, lo, hi = np.arange(len(arr)), arr, arr
    _check_lonlat_bounds(crs, labels, lo, hi, name=name)


def _check_lonlat_bounds(
    crs: pyproj.CRS | None, labels: Any, lo: np.ndarray, hi: np.ndarray, *, name: str
) -> None:
    """:func:`check_lonlat` on the lower and upper corners of the geometries' bounds (for
    points, twice their coordinates) and the CRS they are labelled with."""
    valid = np.isfinite(lo).all(axis=1)
    if not valid.any():
        raise EmptyInputError(f"{name} has no finite coordinates (all empty or NaN)")
    xmag = np.fmax(np.abs(lo[:, 0]), np.abs(hi[:, 0]))
    ymag = np.fmax(np.abs(lo[:, 1]), np.abs(hi[:, 1]))

    if crs is not None and crs.is_projected:
        if np.all((xmag <= 180) & (ymag <= 90) | ~valid):
            raise CoordinateSystemError(
                f"{name}: degrees used as metres? the CRS is {crs.name!r} (metres) but every "
                f"coordinate lies within ±180/±90, e.g. {_first(labels, lo, valid)}; if these are "
                "lon/lat, fix the label with gdf.set_crs(4326, allow_override=True), then "
                "reproject with embedsite.crs.to_metric(gdf)"
            )
        return

    swapped = valid & (lo[:, 1] >= 73) & (hi[:, 1] <= 136) & (lo[:, 0] >= 3) & (hi[:, 0] <= 54)
    if swapped.any() and ((swapped & (ymag > 90)).any() or swapped.sum() == valid.sum()):
        raise CoordinateSystemError(
            f"{name}: lat/lon swapped? {int(swapped.sum())} point(s) read as (lon, lat) have "
            f"latitude 73..136 and longitude 3..54, e.g. {_first(labels, lo, swapped)}; "
            "swap with gdf.geometry = shapely.transform(gdf.geometry.values, lambda c: c[:, ::-1]) "
            "or build points as gpd.points_from_xy(df.lon, df.lat) (x is the longitude)"
        )
    metres = valid & ((xmag > 180) | (ymag > 90))
    if metres.any():
        what = "values like metres" if (xmag[metres] > 180).any() else "latitude outside [-90, 90]"
        crs_txt = f"the geographic CRS {crs.name!r}" if crs is not None else "lon/lat"
        raise CoordinateSystemError(
            f"{name}: {what} in {crs_txt}: {int(metres.sum())} point(s) outside lon ±180 / "
            f"lat ±90, e.g. {_first(labels, lo, metres)}; if the data is projected, set its "
            "real CRS with gdf.set_crs(<EPSG code>, allow_override=True)"
        )


# --------------------------------------------------------------------------- GeoDataFrames
def _coords_func(source: str, target: str) -> Callable[[NDArray[np.float64]], Array]:
    convert = _CONVERTERS[(source, target)]

    def func(coords: NDArray[np.float64]) -> Array:
        out = np.array(coords, dtype=np.float64)
        out[:, 0], out[:, 1] = convert(coords[:, 0], coords[:, 1])
        return out

    return func


def convert_coordinates(
    gdf: _G, *, source: CoordinateSystem, target: CoordinateSystem = "wgs84"
) -> _G:
    """Convert a lon/lat layer between WGS-84, GCJ-02 and BD-09.

    Parameters
    ----------
    gdf
        A GeoDataFrame or GeoSeries of any geometry type whose CRS is geographic (lon/lat;
        GCJ-02 and BD-09 data is normally labelled EPSG:4326).
    source, target
        The coordinate system the data is in, and the one wanted.

    Returns
    -------
    GeoDataFrame or GeoSeries
        A new object with the same index and columns, in EPSG:4326 coordinates of ``target``.

    Raises
    ------
    InputError
        If ``source`` or ``target`` is not one of ``'wgs84'``, ``'gcj02'``, ``'bd09'``.
    CRSError
        If the layer has no CRS or a projected one.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> gcj = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(116.404, 39.915)], crs=4326)
    >>> bd = convert_coordinates(gcj, source="gcj02", target="bd09")
    >>> print(f"{bd.geometry.x.iloc[0]:.6f} {bd.geometry.y.iloc[0]:.6f}")
    116.410369 39.921337
    """
    source = _check_system(source, "source")
    target = _check_system(target, "target")
    crs = check_crs(gdf)
    if not crs.is_geographic:
        raise CRSError(
            f"convert_coordinates needs lon/lat but the layer's CRS is {crs.name!r}; "
            "GCJ-02/BD-09 data is lon/lat: label it with gdf.set_crs(4326, allow_override=True)"
        )
    check_lonlat(gdf)
    geoms = np.asarray(gdf.geometry.array)
    if source != target:
        geoms = shapely.transform(geoms, _coords_func(source, target), include_z=None)
    series = gpd.GeoSeries(geoms, index=gdf.index, crs="EPSG:4326", name=gdf.geometry.name)
    if isinstance(gdf, gpd.GeoSeries):
        return series
    out = gdf.copy()
    out[gdf.geometry.name] = series
    return out.set_crs("EPSG:4326", allow_override=True)


def to_wgs84(gdf: _G, *, source: CoordinateSystem) -> _G:
    """Convert a GCJ-02 or BD-09 lon/lat layer to WGS-84 (EPSG:4326).

    Shorthand for ``convert_coordinates(gdf, source=source, target="wgs84")``.

    Parameters
    ----------
    gdf
        A GeoDataFrame or GeoSeries in a geographic CRS (usually labelled EPSG:4326).
    source
        The system the coordinates are really in: ``'wgs84'``, ``'gcj02'`` or ``'bd09'``.

    Returns
    -------
    GeoDataFrame or GeoSeries
        A new object, same index and columns, in WGS-84 (EPSG:4326).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> gcj = gpd.GeoSeries([Point(121.531541859215, 31.17530398364597)], crs=4326)
    >>> p = to_wgs84(gcj, source="gcj02").iloc[0]
    >>> print(f"{p.x:.6f} {p.y:.6f}")
    121.527211 31.177428
    """
    return convert_coordinates(gdf, source=source, target="wgs84")


@dataclass(frozen=True)
class CoordinateSystemGuess:
    """Which coordinate system makes points fit WGS-84 reference geometries best.

    Attributes
    ----------
    best
        The system with the smallest median distance.
    median_distance_m
        For each of ``'wgs84'``, ``'gcj02'``, ``'bd09'``: the median distance in metres from
        the points, read in that system and converted to WGS-84, to the nearest reference.
    n_points
        How many points were compared.
    """

    best: CoordinateSystem
    median_distance_m: dict[str, float]
    n_points: int


def guess_coordinate_system(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    reference: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_points: int = 5000,
) -> CoordinateSystemGuess:
    """Guess whether lon/lat points are WGS-84, GCJ-02 or BD-09 from WGS-84 reference data.

    For each hypothesis the points are converted to WGS-84, projected to the local UTM zone
    and their median distance to the nearest reference geometry (e.g. OSM streets) is
    measured. Inside China the wrong hypotheses are off by ~300-600 m (GCJ-02) or more
    (BD-09), so the right one stands out.

    Parameters
    ----------
    points
        Lon/lat points (any geometry type) in a geographic CRS, system unknown.
    reference
        Geometries known to be WGS-84 (any CRS), e.g. the streets of the same area.
    max_points
        Compare at most this many points (evenly spaced through the layer).

    Returns
    -------
    CoordinateSystemGuess

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, Point
    >>> streets = gpd.GeoSeries([LineString([(118.70, 32.04), (118.86, 32.04)])], crs=4326)
    >>> lon, lat = wgs84_to_gcj02([118.75, 118.80], [32.04, 32.04])
    >>> pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326)
    >>> guess_coordinate_system(pts, streets).best
    'gcj02'
    """
    check_crs(points, name="points")
    check_crs(reference, name="reference")
    step = max(1, -(-len(points) // max_points))
    sample = points.iloc[::step]
    ref = gpd.GeoSeries(reference.geometry).to_crs("EPSG:4326")
    metric = local_metric_crs(ref)
    tree = shapely.STRtree(np.asarray(ref.to_crs(metric).array))
    medians: dict[str, float] = {}
    for system in _SYSTEMS:
        wgs = convert_coordinates(gpd.GeoSeries(sample.geometry), source=cast(Any, system))
        geoms = np.asarray(wgs.to_crs(metric).array)
        _, dist = tree.query_nearest(geoms, return_distance=True, all_matches=False)
        medians[system] = float(np.median(dist)) if len(dist) else float("nan")
    best = min(_SYSTEMS, key=lambda s: medians[s] if np.isfinite(medians[s]) else np.inf)
    logger.debug("median distances to the reference per system: %s", medians)
    return CoordinateSystemGuess(cast(CoordinateSystem, best), medians, len(sample))


def check_offset(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    reference: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    declared: CoordinateSystem = "wgs84",
    min_distance_m: float = 100.0,
) -> CoordinateSystemGuess:
    """Check that lon/lat points are in the declared system, against WGS-84 reference data.

    Fails when another system fits clearly better: its median distance to the reference is
    under a third of the declared system's, and the declared system's median is over
    ``min_distance_m``. A wrong system moves points by 300-1000 m, but on a dense street grid
    a moved point is never far from *some* street; compare with main roads only (or lower
    ``min_distance_m``) when blocks are much smaller than the offset.

    Parameters
    ----------
    points
        Lon/lat points in a geographic CRS.
    reference
        WGS-84 geometries of the same area, e.g. OSM streets.
    declared
        The system the points are believed to be in.
    min_distance_m
        The declared system's median distance must exceed this for the check to fail.

    Returns
    -------
    CoordinateSystemGuess
        The evidence, when the check passes.

    Raises
    ------
    CoordinateSystemError
        If the points look like another system; the message says how to convert them.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> streets = gpd.GeoSeries([LineString([(118.70, 32.04), (118.86, 32.04)])], crs=4326)
    >>> pts = gpd.GeoSeries(gpd.points_from_xy([118.75, 118.80], [32.04, 32.04]), crs=4326)
    >>> check_offset(pts, streets).best
    'wgs84'
    """
    declared = _check_system(declared, "declared")
    guess = guess_coordinate_system(points, reference)
    d = guess.median_distance_m
    best = guess.best
    if best != declared and d[declared] > min_distance_m and d[best] < d[declared] / 3.0:
        if best == "wgs84":
            fix = "they are already WGS-84: use them as they are (source='wgs84')"
        else:
            fix = f"convert with embedsite.crs.to_wgs84(gdf, source={best!r})"
        xy = shapely.bounds(np.asarray(points.geometry.array[:3]))[:, :2]
        raise CoordinateSystemError(
            f"these points look like {_LABELS[best]}, not {_LABELS[declared]}: the median "
            f"distance to the reference is {d[best]:.0f} m as {best} but {d[declared]:.0f} m "
            f"as {declared} (first points: {np.round(xy, 6).tolist()}); {fix}"
        )
    return guess


# --------------------------------------------------------------------------- metric CRSs
def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """Return the WGS-84 UTM zone CRS (EPSG:326xx north, 327xx south) of a point.

    The Norway/Svalbard zone exceptions are not applied.

    Parameters
    ----------
    lon, lat
        A WGS-84 point in degrees.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CoordinateSystemError
        If the point is not a valid lon/lat.

    Examples
    --------
    >>> utm_crs(118.78, 32.04).to_epsg()
    32650
    >>> utm_crs(-70.6, -33.4).to_epsg()
    32719
    """
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise CoordinateSystemError(
            f"utm_crs needs lon in [-180, 180] and lat in [-90, 90], got ({lon}, {lat}); "
            "check that the data is lon/lat (not metres) and not swapped"
        )
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def gauss_kruger_crs(lon: float, *, zone_width: Literal[3, 6] = 3) -> pyproj.CRS:
    """Return the CGCS2000 Gauss-Krüger CRS whose zone contains a longitude.

    3-degree zones: EPSG:4534-4554 (central meridians 75E-135E); 6-degree zones:
    EPSG:4491-4501 (zones 13-23). Both are the variants without a zone prefix in the false
    easting (x = 500 000 m on the central meridian).

    Parameters
    ----------
    lon
        Longitude in degrees (73.5-136.5 for 3-degree zones, 72-138 for 6-degree zones).
    zone_width
        3 (large-scale urban mapping, the usual choice for a city) or 6.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    InputError
        If the longitude is outside China's zones or ``zone_width`` is not 3 or 6.

    Examples
    --------
    >>> gauss_kruger_crs(118.78).name
    'CGCS2000 / 3-degree Gauss-Kruger CM 120E'
    >>> gauss_kruger_crs(118.78, zone_width=6).to_epsg()
    4498
    """
    if zone_width == 3:
        cm = 3 * round(lon / 3.0)
        if not 75 <= cm <= 135:
            raise InputError(
                f"longitude {lon} is outside China's 3-degree Gauss-Kruger zones "
                "(73.5E-136.5E); use utm_crs(lon, lat) instead"
            )
        return pyproj.CRS.from_epsg(4534 + (cm - 75) // 3)
    if zone_width == 6:
        zone = int(lon // 6.0) + 1
        if not 13 <= zone <= 23:
            raise InputError(
                f"longitude {lon} is outside China's 6-degree Gauss-Kruger zones 13-23 "
                "(72E-138E); use utm_crs(lon, lat) instead"
            )
        return pyproj.CRS.from_epsg(4491 + zone - 13)
    raise InputError(f"zone_width must be 3 or 6, got {zone_width!r}")


def local_metric_crs(
    data: gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry,
    *,
    crs: Any = None,
) -> pyproj.CRS:
    """Return a projected CRS in metres for the data: the one named, or the local UTM zone.

    Parameters
    ----------
    data
        A layer with a CRS, or a shapely geometry in WGS-84 lon/lat.
    crs
        Anything :meth:`pyproj.CRS.from_user_input` accepts; it must be projected with metre
        units. When omitted, the UTM zone of the centre of the data's WGS-84 bounds is used.

    Raises
    ------
    CRSError
        If ``crs`` is geographic or not in metres, or the layer has no CRS.

    Examples
    --------
    >>> from shapely import Point
    >>> local_metric_crs(Point(118.78, 32.04)).to_epsg()
    32650
    >>> local_metric_crs(Point(118.78, 32.04), crs=4549).to_epsg()
    4549
    """
    if crs is not None:
        chosen = pyproj.CRS.from_user_input(crs)
        units = {axis.unit_name for axis in chosen.axis_info}
        if not chosen.is_projected or not units <= {"metre", "meter"}:
            raise CRSError(
                f"crs={chosen.name!r} is not a projected CRS in metres (units: "
                f"{', '.join(sorted(units)) or 'none'}); name a metric one, e.g. 32650 (UTM 50N) "
                "or embedsite.crs.gauss_kruger_crs(lon), or leave crs=None for the UTM zone"
            )
        return chosen
    if isinstance(data, BaseGeometry):
        if data.is_empty:
            raise EmptyInputError("the geometry is empty; cannot choose a local metric CRS")
        check_lonlat(np.asarray(data.bounds).reshape(2, 2), name="geometry")
        x0, y0, x1, y1 = data.bounds
    else:
        check_crs(data)
        check_lonlat(data)
        box = gpd.GeoSeries([shapely.box(*data.total_bounds)], crs=data.crs)
        x0, y0, x1, y1 = box.to_crs("EPSG:4326").total_bounds
    return utm_crs((x0 + x1) / 2.0, (y0 + y1) / 2.0)


def to_metric(gdf: _G, crs: Any = None) -> _G:
    """Reproject a layer to a projected metric CRS (the one named, else the local UTM zone).

    Parameters
    ----------
    gdf
        A GeoDataFrame or GeoSeries with a CRS and plausible coordinates.
    crs
        A projected CRS in metres; ``None`` picks the UTM zone of the data.

    Returns
    -------
    GeoDataFrame or GeoSeries
        A new object in the metric CRS.

    Raises
    ------
    CRSError
        If the layer has no CRS or ``crs`` is not projected in metres.
    CoordinateSystemError
        If the coordinates look swapped or in the wrong unit (see :func:`check_lonlat`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(118.78, 32.04)], crs=4326)
    >>> to_metric(pts).crs.to_epsg()
    32650
    """
    check_crs(gdf)
    check_lonlat(gdf)
    return gdf.to_crs(local_metric_crs(gdf, crs=crs))

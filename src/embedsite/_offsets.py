"""GCJ-02 and BD-09 point transforms (private; the public names are in :mod:`embedsite.crs`).

Plain arrays of longitudes and latitudes in and out. The formulas, the iterated inverses and
the box outside which points are returned unchanged are described once, in
:mod:`embedsite.crs` (the page users read); the checks, the GeoDataFrame conversions and
the metric CRSs are there too.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CHINA_BBOX",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: (min lon, min lat, max lon, max lat) inside which the GCJ-02/BD-09 offsets apply.
CHINA_BBOX: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as used by GCJ-02
_EE = 0.00669342162296594323  # Krasovsky first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-9
_MAX_ITER = 30

Array = NDArray[np.float64]


# --------------------------------------------------------------------------- point transforms
def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x.copy(), y.copy()


def _in_china(lon: Array, lat: Array) -> NDArray[np.bool_]:
    x0, y0, x1, y1 = CHINA_BBOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def _gcj_delta(lon: Array, lat: Array) -> tuple[Array, Array]:
    """GCJ-02 minus WGS-84, in degrees, evaluated at a WGS-84 point."""
    x = lon - 105.0
    y = lat - 35.0
    periodic = 20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += (
        2.0
        / 3.0
        * (
            periodic
            + 20.0 * np.sin(np.pi * y)
            + 40.0 * np.sin(np.pi * y / 3.0)
            + 160.0 * np.sin(np.pi * y / 12.0)
            + 320.0 * np.sin(np.pi * y / 30.0)
        )
    )
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += (
        2.0
        / 3.0
        * (
            periodic
            + 20.0 * np.sin(np.pi * x)
            + 40.0 * np.sin(np.pi * x / 3.0)
            + 150.0 * np.sin(np.pi * x / 12.0)
            + 300.0 * np.sin(np.pi * x / 30.0)
        )
    )
    # the raw values are metres on the Krasovsky ellipsoid: turn them into degrees
    phi = np.radians(lat)
    w = 1.0 - _EE * np.sin(phi) ** 2
    meridian_radius = _A * (1.0 - _EE) / (w * np.sqrt(w))
    parallel_radius = _A / np.sqrt(w) * np.cos(phi)
    return np.degrees(d_lon / parallel_radius), np.degrees(d_lat / meridian_radius)


def _invert(
    forward: Callable[[Array, Array], tuple[Array, Array]],
    lon: Array,
    lat: Array,
    guess: tuple[Array, Array],
) -> tuple[Array, Array]:
    """Solve ``forward(x, y) == (lon, lat)`` by fixed-point iteration from ``guess``.

    Every forward transform here is the identity plus a smooth, slowly varying shift, so
    ``x <- x - (forward(x) - target)`` contracts fast (each step divides the error by ~100).
    """
    x, y = guess
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        rx, ry = fx - lon, fy - lat
        x, y = x - rx, y - ry
        if not np.any((np.abs(rx) > _TOL_DEG) | (np.abs(ry) > _TOL_DEG)):
            break  # NaN compares False, so missing coordinates do not keep the loop going
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert WGS-84 lon/lat to GCJ-02 (Amap, Tencent).

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees; scalars or arrays that broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)``; points outside :data:`CHINA_BBOX` are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02([116.377817, 2.35], [39.911954, 48.85])
    >>> print(f"{lon[0]:.6f} {lat[0]:.6f}")
    116.384047 39.913345
    >>> print(f"{lon[1]:.2f} {lat[1]:.2f}")
    2.35 48.85
    """
    x, y = _as_arrays(lon, lat)
    inside = _in_china(x, y)
    dx, dy = _gcj_delta(x[inside], y[inside])
    x[inside] += dx
    y[inside] += dy
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert GCJ-02 lon/lat to WGS-84, exactly inverting :func:`wgs84_to_gcj02`.

    The inverse iterates the forward transform until the residual is below 1e-9 degrees
    (at most 30 steps; 4-5 are usual), so it is exact to well under a millimetre.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 ``(lon, lat)``; points outside :data:`CHINA_BBOX` are returned unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(116.38404722455657, 39.91334545536069)
    >>> print(f"{float(lon):.6f} {float(lat):.6f}")
    116.377817 39.911954
    """
    x, y = _as_arrays(lon, lat)
    inside = _in_china(x, y)
    gx, gy = x[inside], y[inside]
    dx, dy = _gcj_delta(gx, gy)
    x[inside], y[inside] = _invert(wgs84_to_gcj02, gx, gy, (gx - dx, gy - dy))
    return x, y


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert GCJ-02 lon/lat to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)``; points outside :data:`CHINA_BBOX` are returned unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> print(f"{float(lon):.6f} {float(lat):.6f}")
    116.410369 39.921337
    """
    x, y = _as_arrays(lon, lat)
    inside = _in_china(x, y)
    gx, gy = x[inside], y[inside]
    r = np.hypot(gx, gy) + 2e-5 * np.sin(gy * _X_PI)
    theta = np.arctan2(gy, gx) + 3e-6 * np.cos(gx * _X_PI)
    x[inside] = r * np.cos(theta) + 0.0065
    y[inside] = r * np.sin(theta) + 0.006
    return x, y


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert BD-09 (Baidu) lon/lat to GCJ-02, exactly inverting :func:`gcj02_to_bd09`.

    Starts from the usual closed-form approximation (good to about 1e-6 degrees) and refines
    it by iterating the forward transform until the residual is below 1e-9 degrees.

    Parameters
    ----------
    lon, lat
        BD-09 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)``; points outside :data:`CHINA_BBOX` are returned unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.41036949371029, 39.92133699351021)
    >>> print(f"{float(lon):.6f} {float(lat):.6f}")
    116.404000 39.915000
    """
    x, y = _as_arrays(lon, lat)
    inside = _in_china(x, y)
    bx, by = x[inside], y[inside]
    sx, sy = bx - 0.0065, by - 0.006
    r = np.hypot(sx, sy) - 2e-5 * np.sin(sy * _X_PI)
    theta = np.arctan2(sy, sx) - 3e-6 * np.cos(sx * _X_PI)
    start = (r * np.cos(theta), r * np.sin(theta))
    x[inside], y[inside] = _invert(gcj02_to_bd09, bx, by, start)
    return x, y


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert WGS-84 lon/lat to BD-09 (through GCJ-02).

    Parameters
    ----------
    lon, lat
        WGS-84 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)``; points outside :data:`CHINA_BBOX` are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(114.0164322, 33.0133556)  # Zhumadian
    >>> print(f"{float(lon):.4f} {float(lat):.4f}")
    114.0288 33.0177
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert BD-09 (Baidu) lon/lat to WGS-84 (through GCJ-02), exact to under 1 mm.

    Parameters
    ----------
    lon, lat
        BD-09 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 ``(lon, lat)``; points outside :data:`CHINA_BBOX` are returned unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(114.0287781, 33.0176697)  # Zhumadian
    >>> print(f"{float(lon):.4f} {float(lat):.4f}")
    114.0164 33.0134
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS: dict[tuple[str, str], Callable[[ArrayLike, ArrayLike], tuple[Array, Array]]] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}

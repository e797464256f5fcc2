"""Reading and writing the planner's layers (private, for the command line).

GeoPackage, GeoParquet, GeoJSON, Shapefile (UTF-8 or GBK attributes: a ``.cpg`` file is
honoured; without one UTF-8 is tried, then GB18030, a superset of GBK) and CSV (UTF-8 or
GBK) with lon/lat columns in a declared coordinate system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from embedsite._io import atomic_path
from embedsite.crs import CoordinateSystem, to_wgs84
from embedsite.errors import CRSError, DataFileError, EmptyInputError, MissingColumnError

VECTOR = (".gpkg", ".geojson", ".json", ".shp", ".parquet", ".geoparquet", ".csv")
_LON = ("lon", "lng", "longitude", "x", "经度")
_LAT = ("lat", "latitude", "y", "纬度")


def read_table(path: str | Path, what: str) -> pd.DataFrame | gpd.GeoDataFrame:
    """A GeoDataFrame (vector formats) or a DataFrame (CSV), with readable errors."""
    p = Path(path)
    suffix = p.suffix.lower()
    if not p.exists():
        raise DataFileError(f"{what}: the file {str(p)!r} does not exist")
    if suffix not in VECTOR:
        raise DataFileError(
            f"{what}: cannot read {p.name!r}; use GeoPackage (.gpkg), GeoParquet (.parquet), "
            "GeoJSON (.geojson), Shapefile (.shp) or CSV with lon/lat (.csv)"
        )
    try:
        if suffix == ".csv":
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    return pd.read_csv(p, encoding=encoding)
                except UnicodeDecodeError:
                    continue
            raise DataFileError(f"{what}: cannot decode {str(p)!r} as UTF-8 or GBK")
        if suffix in (".parquet", ".geoparquet"):
            return gpd.read_parquet(p)
        if suffix == ".shp" and not p.with_suffix(".cpg").exists():
            try:
                return gpd.read_file(p, encoding="utf-8")
            except UnicodeDecodeError:
                return gpd.read_file(p, encoding="gb18030")
        return gpd.read_file(p)
    except DataFileError:
        raise
    except Exception as exc:  # GDAL, pyarrow and pandas raise many types for broken files
        raise DataFileError(
            f"{what}: cannot read {str(p)!r} ({type(exc).__name__}: {exc})"
        ) from exc


def read_points(
    path: str | Path, what: str, *, coordinate_system: CoordinateSystem = "wgs84"
) -> gpd.GeoDataFrame:
    """A layer as a GeoDataFrame: CSV lon/lat columns become WGS-84 points."""
    table = read_table(path, what)
    if len(table) == 0:
        raise EmptyInputError(f"{what}: {str(path)!r} has no rows")
    if isinstance(table, gpd.GeoDataFrame):
        if table.crs is None:
            raise CRSError(
                f"{what}: {str(path)!r} has no coordinate reference system; add one (e.g. a "
                ".prj file, or in QGIS: Layer > Set CRS) and try again"
            )
        if coordinate_system != "wgs84" and table.crs.is_geographic:
            table = to_wgs84(table, source=coordinate_system)
        return table
    lower = {str(c).lower(): str(c) for c in table.columns}
    lon = next((lower[c] for c in _LON if c in lower), None)
    lat = next((lower[c] for c in _LAT if c in lower), None)
    if lon is None or lat is None:
        raise MissingColumnError(
            f"{what}: {str(path)!r} needs longitude and latitude columns (one of "
            f"{', '.join(_LON)} and one of {', '.join(_LAT)}); its columns: {list(table.columns)}"
        )
    gdf = gpd.GeoDataFrame(
        table.drop(columns=[lon, lat]),
        geometry=gpd.points_from_xy(pd.to_numeric(table[lon], errors="coerce"),
                                    pd.to_numeric(table[lat], errors="coerce")),
        crs=4326,
    )  # fmt: skip
    return to_wgs84(gdf, source=coordinate_system) if coordinate_system != "wgs84" else gdf


def write_table(frame: pd.DataFrame | gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write atomically: .gpkg, .parquet, .geojson (geometry kept) or .csv (lon/lat)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".gpkg", ".parquet", ".geoparquet", ".geojson", ".csv"):
        raise DataFileError(
            f"cannot write {p.name!r}: use .gpkg, .parquet, .geojson or .csv (Shapefile would "
            "cut the column names to 10 characters)"
        )
    out: Any = frame
    with atomic_path(p) as tmp:
        if suffix == ".csv":
            if isinstance(frame, gpd.GeoDataFrame):
                pts = frame.to_crs(4326).geometry.representative_point()
                out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
                out["lon"], out["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
            out.to_csv(tmp, encoding="utf-8-sig")
        elif not isinstance(frame, gpd.GeoDataFrame):
            raise DataFileError(f"{p.name!r}: a table without geometry can only go to .csv")
        elif suffix in (".parquet", ".geoparquet"):
            frame.to_parquet(tmp)
        else:
            driver = "GPKG" if suffix == ".gpkg" else "GeoJSON"
            frame.to_file(tmp, driver=driver, **({"layer": p.stem} if driver == "GPKG" else {}))
    return p

"""Private helpers of the table and POI-export readers (see :mod:`embedsite.facilities`).

Column detection (case-insensitive, with the usual English and Chinese names), coordinates
from lon/lat columns or an Amap ``location``, CSV reading as UTF-8 or GBK (GB18030), numbers
in text cells, and facility types written as keys or Chinese names.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"Lng": [118.8], "纬度": [32.0]})
>>> _find(frame, None, _LON, "table"), _find(frame, None, _LAT, "table")
('Lng', '纬度')
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from embedsite._facilityrules import _text
from embedsite.crs import CoordinateSystem, check_crs, check_lonlat, to_wgs84
from embedsite.errors import (
    DataFileError,
    EmptyInputError,
    InputError,
    MissingColumnError,
    UnknownFacilityTypeError,
)
from embedsite.network import PedestrianNetwork
from embedsite.standards import Standards

_LON = ("lon", "lng", "longitude", "经度")
_LAT = ("lat", "latitude", "纬度")
_TYPE_SEPARATORS = r"[;；、,，|]"
# provider: (coordinate system, category columns, typecode columns, id columns), by preference
_PROVIDERS: dict[str, tuple[CoordinateSystem, tuple[str, ...], tuple[str, ...], tuple[str, ...]]]
_PROVIDERS = {
    "amap": ("gcj02", ("type", "category"), ("typecode",), ("id", "poi_id")),
    "baidu": ("bd09", ("tag", "type", "category"), (), ("uid", "id")),
    "tencent": ("gcj02", ("category", "type"), (), ("id",)),
}


# --------------------------------------------------------------------------- checks
def _number(frame: pd.DataFrame, column: str | None) -> np.ndarray:
    """Leading number of each cell ("120", "120 places"); NaN where none."""
    text = _text(frame, column)
    return pd.to_numeric(text.str.extract(r"(\d+(?:\.\d+)?)")[0], errors="coerce").to_numpy(float)


def _in_network_crs(gdf: gpd.GeoDataFrame, network: PedestrianNetwork, what: str) -> gpd.GeoSeries:
    crs = check_crs(gdf, name=what)
    bad = gdf.geometry.isna() | gdf.geometry.is_empty
    if bad.any():
        raise InputError(
            f"{what} has {int(bad.sum())} rows without geometry (first: "
            f"{list(gdf.index[bad][:5])}); drop or fix them first"
        )
    if crs.is_geographic:
        check_lonlat(gdf, name=what)
    return gdf.geometry.to_crs(network.crs)


def _check_options(max_distance: float, on_far: str) -> None:
    if on_far not in ("raise", "drop"):
        raise InputError(f"on_far must be 'raise' or 'drop', not {on_far!r}")
    if not np.isfinite(max_distance) or max_distance <= 0:
        raise InputError(f"max_distance must be a positive number of metres, not {max_distance}")


# --------------------------------------------------------------------------- tables
def _read_table(table: pd.DataFrame | str | Path, what: str) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    if not isinstance(table, str | Path):
        raise InputError(
            f"{what} must be a DataFrame, GeoDataFrame or CSV path, not {type(table).__name__}"
        )
    for encoding in ("utf-8-sig", "gb18030"):  # Chinese exports are often GBK
        try:
            return pd.read_csv(table, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (OSError, pd.errors.ParserError) as exc:
            raise DataFileError(f"cannot read {what} {str(table)!r}: {exc}") from exc
    raise DataFileError(f"cannot decode {what} {str(table)!r} as UTF-8 or GB18030")


def _find(frame: pd.DataFrame, given: str | None, options: Iterable[str], what: str) -> str | None:
    """The column named ``given`` (an error if absent), else the first of ``options`` present."""
    if given is not None:
        if given not in frame.columns:
            raise MissingColumnError(
                f"{what} has no column {given!r}; available columns: {list(frame.columns)}"
            )
        return given
    lower = {str(c).lower(): str(c) for c in frame.columns}
    return next((lower[o] for o in options if o in lower), None)


def _column(
    frame: pd.DataFrame, given: str | None, options: Iterable[str], what: str, role: str
) -> str:
    found = _find(frame, given, options, what)
    if found is None:
        raise MissingColumnError(
            f"{what} has no {role} column (looked for {', '.join(options)}); available columns: "
            f"{list(frame.columns)}; name it with the matching argument"
        )
    return found


def _table_points(
    table: pd.DataFrame,
    *,
    lon: str | None,
    lat: str | None,
    system: CoordinateSystem,
    what: str,
    network: PedestrianNetwork | None = None,
) -> gpd.GeoDataFrame:
    """Points of a table (its geometry, lon/lat columns or an Amap "lng,lat" location), WGS-84.

    With a network, the raw points are first checked against its streets for a coordinate
    system mix-up (GCJ-02/BD-09 declared as another system).
    """
    if len(table) == 0:
        raise EmptyInputError(f"{what} is empty (0 rows); pass at least one facility")
    if isinstance(table, gpd.GeoDataFrame) and lon is None and lat is None:
        gdf = table
        check_crs(gdf, name=what)
    else:
        if (
            lon is None
            and lat is None
            and "location" in table.columns
            and not any(str(c).lower() in (*_LON, *_LAT) for c in table.columns)
        ):
            xy = table["location"].astype(str).str.split(",", n=1, expand=True)
            xy = xy.reindex(columns=[0, 1])
            x, y, cols = xy[0], xy[1], ["location"]
        else:
            cols = [
                _column(table, lon, _LON, what, "longitude"),
                _column(table, lat, _LAT, what, "latitude"),
            ]
            x, y = table[cols[0]], table[cols[1]]
        x = pd.to_numeric(x, errors="coerce")
        y = pd.to_numeric(y, errors="coerce")
        bad = (x.isna() | y.isna()).to_numpy()
        if bad.any():
            raise InputError(
                f"{what}: {int(bad.sum())} row(s) have missing or non-numeric coordinates in "
                f"{cols}, e.g. {table.loc[bad, cols].head(3).to_dict('index')}; fix or drop them"
            )
        frame = pd.DataFrame(
            table.drop(columns=getattr(table, "geometry", pd.Series()).name or [], errors="ignore")
        )
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
    if network is not None:
        check_lonlat(gdf, name=what)
        network.check_coordinate_system(gdf, declared=system)
    if system != "wgs84":
        return to_wgs84(gdf, source=system)  # checks lon/lat (swapped axes, metres)
    return gdf


def _resolve_types(
    raw: pd.Series, standards: Standards, column: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split multi-type cells, look up each distinct value once -> (pos, key, value)."""
    text = raw.astype(object).where(raw.notna(), "").astype(str).reset_index(drop=True)
    long = text.str.split(_TYPE_SEPARATORS).explode().str.strip()
    pos = long.index.to_numpy(dtype=int)
    keep = (long != "").to_numpy()
    values, pos = long.to_numpy(dtype=object)[keep], pos[keep]
    unknown = [v for v in pd.unique(values) if v not in standards]
    if unknown:
        try:
            standards[unknown[0]]
        except UnknownFacilityTypeError as exc:
            n = int(np.isin(values, unknown).sum())
            raise UnknownFacilityTypeError(
                f"column {column!r} has {len(unknown)} unknown facility type(s) in {n} row(s): "
                f"{unknown[:5]}; use standards keys or Chinese names. {exc}"
            ) from None
    keys = {v: standards[v].key for v in pd.unique(values)}  # one lookup per distinct value
    return pos, pd.Series(values).map(keys).to_numpy(dtype=object), values


def _category_columns(
    frame: pd.DataFrame,
    category_column: str | None,
    code_column: str | None,
    cat_options: tuple[str, ...],
    code_options: tuple[str, ...],
    what: str,
) -> tuple[str | None, str | None]:
    """The category and typecode columns of a POI export; an error if it has neither."""
    cat_col = _find(frame, category_column, cat_options, what)
    code_col = _find(frame, code_column, code_options, what)
    if cat_col is None and code_col is None:
        raise MissingColumnError(
            f"{what} has no category column (looked for {', '.join(cat_options + code_options)}); "
            f"available columns: {list(frame.columns)}; name it with category_column="
        )
    return cat_col, code_col


def _poi_labels(
    frame: pd.DataFrame, id_col: str | None, provider: str
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Labels ``"<provider>:<id>"`` (repeats get ``"#<row>"``), repeat mask, what each repeats."""
    ids = (frame[id_col] if id_col else frame.index.to_series()).astype(str).to_numpy(dtype=object)
    labels = pd.Series(provider + ":" + ids, dtype=object)
    dup = labels.duplicated().to_numpy()
    first = labels[dup].to_numpy()
    labels[dup] = labels[dup] + "#" + pd.Series(np.flatnonzero(dup), dtype=str).to_numpy()
    return labels, dup, first

"""Stage 2 supply: the existing facilities, typed and placed on the pedestrian network.

A :class:`Facilities` holds one row per facility and type: the standards key, how it was
matched (``"tag"``, ``"name"``, ``"category"``, ``"user"``) and by which rule, floor area and
capacity where known, and its snap onto the streets. Candidates that looked relevant but fit
no type are in :attr:`Facilities.unmatched` with the reason; nothing is dropped silently.

* :func:`from_osm_file` / :func:`from_osm_features`: OpenStreetMap, by tag rules, then Chinese
  name patterns (care facilities in Chinese cities are thinly tagged);
* :func:`from_poi_export`: Amap/Baidu/Tencent exports (GCJ-02/BD-09 converted to WGS-84), by
  the provider's category, then name patterns;
* :func:`from_table`: the city's own list, types given as keys or Chinese names.

The rules are readable CSV tables shipped with the package (:func:`read_rules`,
:func:`read_poi_categories`); pass your own with ``mapping=`` / ``categories=``.

Examples
--------
>>> import embedsite.network as en
>>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
>>> fac = from_osm_file("data/sample/helsinki.osm.pbf", net)
>>> fac.types
('nursery', 'community_health_station', 'community_service_station')
>>> fac.summary().loc["community_service_station", "name_zh"]
'社区服务站'
>>> fac.summary().loc[["community_service_station"], ["count", "tag", "name"]].to_numpy().tolist()
[[3, 3, 0]]
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from embedsite._facilityrules import (
    _NAME_TAGS,
    _POI_COLUMNS,
    _RULE_COLUMNS,
    _category_bases,
    _check_table,
    _inside_same_type,
    _name_bases,
    _name_text,
    _osm_bases,
    _resolve,
    _rule_table,
    _run_rules,
    _text,
    _unmatched,
)
from embedsite._facilitytables import (
    _PROVIDERS,
    _category_columns,
    _check_options,
    _column,
    _find,
    _in_network_crs,
    _number,
    _poi_labels,
    _read_table,
    _resolve_types,
    _table_points,
)
from embedsite._graphbuild import clip_geometry
from embedsite._osmfeatures import read_features
from embedsite.crs import CoordinateSystem, check_crs
from embedsite.errors import (
    EmptyInputError,
    InputError,
    MissingColumnError,
)
from embedsite.network import PedestrianNetwork
from embedsite.standards import Standards

__all__ = [
    "OSM_KEYS",
    "POINT_COLUMNS",
    "Facilities",
    "FacilitiesReport",
    "MatchedBy",
    "Provider",
    "from_osm_features",
    "from_osm_file",
    "from_poi_export",
    "from_table",
    "read_poi_categories",
    "read_rules",
]

log = logging.getLogger(__name__)

MatchedBy = Literal["tag", "name", "category", "user"]
Provider = Literal["amap", "baidu", "tencent"]
OnFar = Literal["raise", "drop"]
MATCHED_BY: tuple[str, ...] = get_args(MatchedBy)
#: OSM keys an object must carry one of to be read by :func:`from_osm_file`.
OSM_KEYS = ("amenity", "social_facility", "healthcare", "office", "building", "shop", "leisure",
            "name")  # fmt: skip
_EXTRA_TAGS = ("name:zh", "social_facility:for", "capacity", "building:levels", "isced:level")
SNAP_COLUMNS = ("edge", "u", "v", "position_m", "to_u_m", "to_v_m", "access_m")
POINT_COLUMNS = ("facility_type", "name", "matched_by", "match_rule", "floor_area_m2",
                 "floor_area_estimated", "capacity", "capacity_unit", "source", "feature_id",
                 *SNAP_COLUMNS)  # fmt: skip


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class FacilitiesReport:
    """What a loader read, matched and left out.

    Attributes
    ----------
    source
        Where the facilities came from (``"osm:<file>"``, ``"amap"``, ``"table"``...).
    n_read, n_features, n_points, n_unmatched
        Features (rows) read; features kept; rows of ``points`` (one per feature and type);
        rows of ``unmatched``.
    n_far, n_duplicates
        Features left out as farther from every street than ``max_distance``, and as parts or
        repeats of another feature of the same type.
    unknown_categories
        POI categories no rule knows, with how many unmatched rows carry each.
    """

    source: str
    n_read: int
    n_features: int
    n_points: int
    n_unmatched: int
    n_far: int = 0
    n_duplicates: int = 0
    unknown_categories: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


class Facilities:
    """Existing facilities as typed points snapped onto a pedestrian network (immutable).

    Build one with a loader (:func:`from_osm_file`, :func:`from_poi_export`,
    :func:`from_table`...), not with this constructor.

    Attributes
    ----------
    points : GeoDataFrame
        In the network CRS, indexed by stable labels (``"osm:way/123"``, ``"amap:B0FF..."``,
        the user's index; ``"<label>#<type>"`` when a feature serves several types), with the
        columns of :data:`POINT_COLUMNS`: ``facility_type`` (standards key), ``name``,
        ``matched_by``, ``match_rule``, ``floor_area_m2`` (NaN when unknown),
        ``floor_area_estimated`` (footprint x building:levels), ``capacity`` (NaN when
        unknown), ``capacity_unit``, ``source``, ``feature_id`` (the source feature's label),
        the snap columns of :meth:`~embedsite.network.PedestrianNetwork.snap`, and the
        facility's point as ``geometry`` (areas: a point inside them).
    unmatched : GeoDataFrame
        Candidates not kept: ``name``, ``reason``, ``detail`` (tags or category), ``source``.
    report : FacilitiesReport
    standards : Standards

    Examples
    --------
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> fac = from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> fac.of_type("社区卫生服务站")["matched_by"].unique().tolist()
    ['tag']
    >>> bool(fac.points["access_m"].lt(100).all())
    True
    """

    __slots__ = ("_points", "_report", "_standards", "_unmatched")

    def __init__(
        self,
        points: gpd.GeoDataFrame,
        unmatched: gpd.GeoDataFrame,
        report: FacilitiesReport,
        standards: Standards,
    ) -> None:
        self._points = points
        self._unmatched = unmatched
        self._report = report
        self._standards = standards

    @property
    def points(self) -> gpd.GeoDataFrame:
        """The facilities, one row per facility and type (a copy)."""
        return self._points.copy()

    @property
    def unmatched(self) -> gpd.GeoDataFrame:
        """Relevant-looking candidates that were not kept, with the reason (a copy)."""
        return self._unmatched.copy()

    @property
    def report(self) -> FacilitiesReport:
        """What the loader read, matched and left out."""
        return self._report

    @property
    def standards(self) -> Standards:
        """The standards registry the facility types come from."""
        return self._standards

    @property
    def types(self) -> tuple[str, ...]:
        """The facility type keys present, in standards order."""
        present = set(self._points["facility_type"])
        return tuple(k for k in self._standards if k in present)

    def __len__(self) -> int:
        return len(self._points)

    def __repr__(self) -> str:
        counts = self._points["facility_type"].value_counts()
        shown = ", ".join(f"{k}: {counts[k]}" for k in self.types) or "none"
        return (
            f"Facilities({len(self)} points from {self._report.source}: {shown}; "
            f"{len(self._unmatched)} unmatched)"
        )

    def of_type(self, facility_type: str) -> gpd.GeoDataFrame:
        """The facilities of one type, by key or Chinese name (a copy; maybe empty).

        Raises
        ------
        UnknownFacilityTypeError
            If the standards do not know the type (the message lists the known ones).

        Examples
        --------
        >>> import embedsite.network as en
        >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
        >>> fac = from_osm_file("data/sample/helsinki.osm.pbf", net)
        >>> len(fac.of_type("kindergarten")), len(fac.of_type("托育"))
        (0, 1)
        """
        key = self._standards[facility_type].key
        return self._points[self._points["facility_type"] == key].copy()

    def summary(self) -> pd.DataFrame:
        """One row per standards type: names, count, how matched, floor area/capacity known.

        Returns
        -------
        DataFrame
            Index ``facility_type``; columns ``name_zh``, ``name_en``, ``count``, a count per
            way of matching (``tag``, ``name``, ``category``, ``user``), ``with_floor_area``,
            ``with_capacity``. Types without facilities have zero counts.

        Examples
        --------
        >>> import embedsite.network as en
        >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
        >>> s = from_osm_file("data/sample/helsinki.osm.pbf", net).summary()
        >>> s.loc["nursery", "name_en"]
        'nursery / childcare centre (under 3)'
        >>> s.loc[["nursery"], ["count", "tag", "name"]].to_numpy().tolist()
        [[1, 1, 0]]
        """
        p = self._points
        keys = pd.Index(list(self._standards), name="facility_type")
        names = self._standards.to_frame()[["name_zh", "name_en"]].reindex(keys)
        by = pd.crosstab(p["facility_type"], p["matched_by"])
        by = by.reindex(index=keys, columns=list(MATCHED_BY), fill_value=0)
        g = p.groupby("facility_type")
        known = pd.DataFrame(
            {"with_floor_area": g["floor_area_m2"].count(), "with_capacity": g["capacity"].count()}
        ).reindex(keys, fill_value=0)
        count = g.size().reindex(keys, fill_value=0).rename("count")
        out = pd.concat([names, count, by, known], axis=1)
        return out.astype(dict.fromkeys([*out.columns[2:]], int))


# --------------------------------------------------------------------------- rule tables
def read_rules(
    source: pd.DataFrame | str | Path | None = None, *, standards: Standards | None = None
) -> pd.DataFrame:
    """The OSM tag and Chinese name rules: the shipped ``facility_rules.csv``, or your own.

    Parameters
    ----------
    source
        A table or CSV path with columns ``facility_type``, ``key``, ``value``, ``and_key``,
        ``and_value``, ``name_pattern``, ``name_exclude``, ``note`` (the shipped file's header
        explains them); ``None`` reads the shipped rules.
    standards
        Registry the types are checked against (Chinese names become keys).

    Returns
    -------
    DataFrame
        One rule a row, in the order they are tried.

    Raises
    ------
    UnknownFacilityTypeError, MissingColumnError, InputError
        An unknown type, a missing column, an invalid regular expression.

    Examples
    --------
    >>> rules = read_rules()
    >>> rules.query("key == 'amenity' and value == 'kindergarten'")["facility_type"].tolist()
    ['kindergarten']
    """
    table = _rule_table(source, "data/facility_rules.csv", _RULE_COLUMNS, "rules")
    empty = (table["key"] == "") & (table["name_pattern"] == "")
    if empty.any():
        raise InputError(f"rules need a key or a name_pattern; rows {list(table.index[empty])}")
    return _check_table(table, standards or Standards.default(), "rules")


def read_poi_categories(
    source: pd.DataFrame | str | Path | None = None, *, standards: Standards | None = None
) -> pd.DataFrame:
    """The POI category rules: the shipped ``poi_categories.csv``, or your own.

    Parameters
    ----------
    source
        A table or CSV path with columns ``provider`` (amap/baidu/tencent), ``field``
        (``"category"``: a category path, levels joined by ``;``; ``"code"``: an Amap
        typecode prefix), ``category``, ``facility_type`` (empty: known, but no facility
        type), ``name_pattern``, ``name_exclude``, ``note``; ``None`` reads the shipped table.
    standards
        Registry the types are checked against.

    Examples
    --------
    >>> cats = read_poi_categories()
    >>> cats.query("category == '教育培训;幼儿园'")["facility_type"].tolist()
    ['kindergarten']
    """
    table = _rule_table(source, "data/poi_categories.csv", _POI_COLUMNS, "POI categories")
    bad = ~table["field"].isin(["category", "code"]) | ~table["provider"].isin(_PROVIDERS)
    if bad.any():
        raise InputError(
            "POI category rules need provider amap/baidu/tencent and field 'category' or 'code'; "
            f"bad rows: {table[bad].head(3).to_dict('records')}"
        )
    return _check_table(table, standards or Standards.default(), "POI categories")


# --------------------------------------------------------------------------- assembly
def _finish(
    cands: gpd.GeoDataFrame,
    hits: pd.DataFrame,
    reasons: pd.DataFrame,
    network: PedestrianNetwork,
    standards: Standards,
    *,
    source: str,
    max_distance: float,
    on_far: OnFar,
    report_all: bool,
    within: bool = False,
    capacity_unit: str | None = None,
    categories: pd.Series | None = None,
) -> Facilities:
    """Candidates (network CRS; label, name, detail, floor area, capacity) + hits -> result."""
    geoms = cands.geometry.to_numpy()
    pts = shapely.point_on_surface(geoms)
    labels = cands["label"].to_numpy(dtype=object)
    chosen = _resolve(hits)
    reasons = reasons[~reasons["pos"].isin(chosen["pos"])]  # matched: only later drops count
    extra, n_dup, n_far = [], 0, 0
    if within and len(chosen):
        rows, why_dup = _inside_same_type(chosen, geoms, pts, cands)
        chosen = chosen[~np.isin(np.arange(len(chosen)), rows)].reset_index(drop=True)
        extra.append(why_dup)
        n_dup = len(np.setdiff1d(why_dup["pos"], chosen["pos"]))
    upos = np.unique(chosen["pos"].to_numpy())
    to_snap = gpd.GeoDataFrame(geometry=pts[upos], index=pd.Index(labels[upos]), crs=network.crs)
    if len(upos):
        snapped = network.snap(to_snap, max_distance=max_distance, on_far=on_far)
    else:
        snapped = to_snap.assign(**dict.fromkeys(SNAP_COLUMNS, 0.0))
    if len(snapped) < len(upos):
        far = upos[~pd.Index(labels[upos]).isin(snapped.index)]
        n_far = len(far)
        why_far = f"farther than {max_distance:g} m from every street"
        extra.append(pd.DataFrame({"pos": far, "reason": why_far}))
        chosen = chosen[~chosen["pos"].isin(far)].reset_index(drop=True)
    pos = chosen["pos"].to_numpy()
    ftype = chosen["facility_type"]
    feature = pd.Series(labels[pos], dtype=object)
    multi = pd.Series(pos).duplicated(keep=False).to_numpy()
    index = feature.where(~multi, feature.astype(str) + "#" + ftype)
    units = {k: capacity_unit or standards[k].capacity_unit or "places" for k in ftype.unique()}
    capacity = cands["capacity"].to_numpy(dtype=float)[pos]
    snap = snapped.loc[feature.to_numpy()]
    points = gpd.GeoDataFrame(
        {
            "facility_type": ftype.to_numpy(),
            "name": cands["name"].to_numpy()[pos],
            "matched_by": chosen["matched_by"].to_numpy(),
            "match_rule": chosen["match_rule"].to_numpy(),
            "floor_area_m2": cands["floor_area_m2"].to_numpy(dtype=float)[pos],
            "floor_area_estimated": cands["floor_area_estimated"].to_numpy(dtype=bool)[pos],
            "capacity": capacity,
            "capacity_unit": ftype.map(units).where(~np.isnan(capacity), None).to_numpy(),
            "source": source,
            "feature_id": feature.to_numpy(),
            **{c: snap[c].to_numpy() for c in SNAP_COLUMNS},
        },
        geometry=pts[pos],
        index=pd.Index(index.to_numpy(), name="facility"),
        crs=network.crs,
    )
    why = pd.concat([reasons, *extra], ignore_index=True)
    kept = np.unique(pos)
    unmatched, up = _unmatched(cands, pts, why, kept, report_all, source, network.crs)
    unknown = {} if categories is None else categories.iloc[up].value_counts().to_dict()
    report = FacilitiesReport(
        source=source, n_read=len(cands), n_features=len(kept), n_points=len(points),
        n_unmatched=len(unmatched), n_far=n_far, n_duplicates=n_dup,
        unknown_categories=MappingProxyType({str(k): int(v) for k, v in unknown.items()}),
    )  # fmt: skip
    log.info("%s: %d facilities, %d unmatched", source, len(points), len(unmatched))
    return Facilities(points, unmatched, report, standards)


# --------------------------------------------------------------------------- OpenStreetMap
def from_osm_file(
    path: str | Path,
    network: PedestrianNetwork,
    *,
    standards: Standards | None = None,
    mapping: pd.DataFrame | str | Path | None = None,
    max_distance: float = 500.0,
    on_far: OnFar = "drop",
    polygon: shapely.Polygon | shapely.MultiPolygon | gpd.GeoDataFrame | None = None,
) -> Facilities:
    """Read facilities from an OSM XML/PBF file: nodes and areas with :data:`OSM_KEYS`.

    Parameters
    ----------
    path
        OSM XML or PBF file (read offline with pyosmium).
    network
        The pedestrian network the facilities are snapped onto.
    standards, mapping, max_distance, on_far
        As for :func:`from_osm_features`. Features farther than ``max_distance`` from every
        street are dropped and reported by default (an extract reaches past its streets).
    polygon
        Read only the features that intersect this area (WGS-84 shapely geometry or a
        GeoDataFrame), e.g. the area the network was cut at: the rest of the file is outside
        the study area, not far from its streets.

    Returns
    -------
    Facilities

    Raises
    ------
    DataFileError
        If the file is missing or unreadable.

    Examples
    --------
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> fac = from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> fac.report.source, len(fac) >= 7
    ('osm:helsinki.osm.pbf', True)
    >>> "osm:node/410088134" in fac.unmatched.index  # outreach for the ill: no type
    True
    """
    std = standards or Standards.default()
    rules = read_rules(mapping, standards=std)
    keys = [k for k in dict.fromkeys([*OSM_KEYS, *rules["key"]]) if k]
    tags = [t for t in dict.fromkeys([*keys, *rules["and_key"], *_EXTRA_TAGS]) if t]
    clip = clip_geometry(polygon, None)
    feats = read_features(path, keys, tags=tags, area=clip)
    if len(feats) == 0:
        where = "" if clip is None else " inside the polygon"
        raise EmptyInputError(
            f"{str(path)!r} holds no nodes or areas{where} with any of the keys {keys}"
        )
    return from_osm_features(
        feats, network, standards=std, mapping=rules, max_distance=max_distance,
        on_far=on_far, source=f"osm:{Path(path).name}",
    )  # fmt: skip


def from_osm_features(
    features: gpd.GeoDataFrame,
    network: PedestrianNetwork,
    *,
    standards: Standards | None = None,
    mapping: pd.DataFrame | str | Path | None = None,
    max_distance: float = 500.0,
    on_far: OnFar = "drop",
    source: str = "osm",
) -> Facilities:
    """Type OSM features by tag rules, then by Chinese name patterns, and snap them.

    A feature that a typed tag rule matches keeps the tag types; name rules (``name`` and
    ``name:zh``) type only the others. A feature may get several types (several rules), and
    then has one row per type, labelled ``"<label>#<type>"``. Features inside an area of the
    same type (a node inside its own school, the buildings of a school) are dropped and
    reported. Floor area is footprint x ``building:levels`` for areas that carry it
    (``floor_area_estimated``); capacity comes from ``capacity``.

    Parameters
    ----------
    features
        Nodes and areas with tag columns (as from ``embedsite._osmfeatures.read_features``);
        labels are ``"osm:<osm_type>/<osm_id>"`` when those columns exist, else the index.
    network
        The pedestrian network to snap onto.
    standards
        Registry of facility types (default :meth:`Standards.default`).
    mapping
        Tag and name rules (see :func:`read_rules`); default the shipped table.
    max_distance, on_far
        Snapping limit in metres; ``"drop"`` reports far features in ``unmatched``,
        ``"raise"`` raises :class:`~embedsite.errors.FarFromNetworkError`.
    source
        Recorded in the ``source`` column.

    Returns
    -------
    Facilities

    Raises
    ------
    CRSError, EmptyInputError, MissingColumnError
        No CRS; no rows; none of the tag or name columns the rules use.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> feats = gpd.GeoDataFrame(
    ...     {"amenity": ["school", "restaurant"], "name": ["五老村幼儿园", "长者食堂"]},
    ...     geometry=[shapely.Point(24.945, 60.170), shapely.Point(24.941, 60.171)], crs=4326)
    >>> fac = from_osm_features(feats, net)
    >>> fac.points[["facility_type", "matched_by"]].values.tolist()
    [['kindergarten', 'tag'], ['community_canteen', 'name']]
    """
    _check_options(max_distance, on_far)
    if not isinstance(features, gpd.GeoDataFrame):
        raise InputError(f"features must be a GeoDataFrame, not {type(features).__name__}")
    std = standards or Standards.default()
    rules = read_rules(mapping, standards=std)
    used = [c for c in dict.fromkeys([*rules["key"], *rules["and_key"], *_NAME_TAGS]) if c]
    check_crs(features, name="features")
    if not any(c in features for c in used):
        raise MissingColumnError(
            f"features has none of the tag or name columns the rules use ({', '.join(used)}); "
            f"available columns: {list(features.columns)}"
        )
    geoms = _in_network_crs(features, network, "features")
    if {"osm_type", "osm_id"} <= set(features.columns):
        labels = "osm:" + features["osm_type"].astype(str) + "/" + features["osm_id"].astype(str)
    else:
        labels = pd.Series(features.index.astype(str), index=features.index)
    if labels.duplicated().any():
        raise InputError(
            f"feature labels must be unique; repeated: {list(labels[labels.duplicated()][:5])}"
        )
    frame = pd.DataFrame(features.drop(columns=features.geometry.name))
    names = _name_text(frame)
    bases, conds, by = _osm_bases(rules, frame, names)
    hits, reasons = _run_rules(rules, bases, conds, by, [0] * len(rules), names)
    footprint = shapely.area(geoms.to_numpy())
    floor = footprint * _number(frame, "building:levels")
    floor[~(floor > 0)] = np.nan
    shown = [c for c in dict.fromkeys([*rules["key"], *rules["and_key"]]) if c and c in frame]
    detail: pd.Series = pd.Series("", index=frame.index, dtype=object)
    for key in shown:  # one vectorised pass per tag key
        value = _text(frame, key)
        detail = detail + np.where(value != "", key + "=" + value + "; ", "")
    cands = gpd.GeoDataFrame(
        {"label": labels.to_numpy(), "name": _text(frame, "name").replace("", None).to_numpy(),
         "detail": detail.str.rstrip("; ").to_numpy(), "floor_area_m2": floor,
         "floor_area_estimated": ~np.isnan(floor), "capacity": _number(frame, "capacity")},
        geometry=geoms.to_numpy(), crs=network.crs,
    )  # fmt: skip
    return _finish(cands, hits, reasons, network, std, source=source, max_distance=max_distance,
                   on_far=on_far, report_all=False, within=True)  # fmt: skip


def from_table(
    table: pd.DataFrame | str | Path,
    network: PedestrianNetwork,
    *,
    type_column: str,
    name_column: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    coordinate_system: CoordinateSystem = "wgs84",
    floor_area_column: str | None = None,
    capacity_column: str | None = None,
    capacity_unit: str | None = None,
    standards: Standards | None = None,
    max_distance: float = 500.0,
    on_far: OnFar = "raise",
    source: str = "table",
) -> Facilities:
    """Read the city's own facility list: a GeoDataFrame, or a DataFrame/CSV with lon/lat.

    Parameters
    ----------
    table
        A GeoDataFrame (any CRS; areas become a point inside them), or a DataFrame or CSV
        path (UTF-8 or GBK) with longitude/latitude columns. Its index labels the facilities.
    network
        The pedestrian network to snap onto.
    type_column
        Facility types as standards keys or Chinese names (``"幼儿园"``); several in one
        cell separated by ``;``, ``、`` or ``,`` give one row per type.
    name_column, floor_area_column, capacity_column
        Optional columns for the name, floor area (m²) and capacity.
    lon, lat
        Coordinate columns (default: ``lon``/``lng``/``longitude``/``经度`` and
        ``lat``/``latitude``/``纬度``, or an Amap-style ``location`` "lng,lat").
    coordinate_system
        ``"wgs84"``, ``"gcj02"`` (Amap/Tencent) or ``"bd09"`` (Baidu): converted to WGS-84.
    capacity_unit
        Unit of the capacity column (default: the type's unit in the standards, else places).
    standards, max_distance, on_far, source
        As for :func:`from_osm_features` (far rows raise by default).

    Returns
    -------
    Facilities

    Raises
    ------
    UnknownFacilityTypeError
        A type value is unknown (the message lists the known types and the closest match).
    MissingColumnError
        A named column (type, name, floor area, capacity, lon/lat) is not in the table.
    EmptyInputError
        The table has no rows.
    CRSError
        A GeoDataFrame without a CRS.
    CoordinateSystemError
        Lon/lat out of range or swapped, or the points fit the streets clearly better in
        another system than ``coordinate_system`` (e.g. unconverted GCJ-02).
    FarFromNetworkError
        Rows farther than ``max_distance`` from every street (with ``on_far="raise"``).

    Examples
    --------
    >>> import pandas as pd
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> df = pd.DataFrame({"类型": ["幼儿园", "托育;助餐点"], "lon": [24.945, 24.941],
    ...                    "lat": [60.170, 60.171]}, index=["k1", "c2"])
    >>> fac = from_table(df, net, type_column="类型")
    >>> fac.points["facility_type"].to_dict()
    {'k1': 'kindergarten', 'c2#nursery': 'nursery', 'c2#community_canteen': 'community_canteen'}
    """
    _check_options(max_distance, on_far)
    std = standards or Standards.default()
    df = _read_table(table, "table")
    if len(df) == 0:
        raise EmptyInputError("table is empty (0 rows); pass at least one facility")
    for col in (type_column, name_column, floor_area_column, capacity_column):
        _find(df, col, (), "table")
    if df.index.duplicated().any():
        raise InputError(f"the table's index labels facilities and must be unique; repeated: "
                         f"{list(df.index[df.index.duplicated()][:5])}")  # fmt: skip
    geoms = _in_network_crs(
        _table_points(
            df, lon=lon, lat=lat, system=coordinate_system, what="table", network=network
        ),
        network,
        "table",
    )
    pos, keys, values = _resolve_types(df[type_column], std, type_column)
    hits = pd.DataFrame({"pos": pos, "facility_type": keys, "matched_by": "user",
                         "match_rule": type_column + "=" + pd.Series(values, dtype=object),
                         "spec": 0, "order": 0})  # fmt: skip
    missing = np.setdiff1d(np.arange(len(df)), pos)
    reasons = pd.DataFrame({"pos": missing, "reason": f"no facility type in {type_column!r}"})
    floor = _number(df, floor_area_column)
    cands = gpd.GeoDataFrame(
        {"label": df.index.to_numpy(dtype=object),
         "name": _text(df, name_column).replace("", None).to_numpy() if name_column else None,
         "detail": _text(df, type_column).to_numpy(), "floor_area_m2": floor,
         "floor_area_estimated": False, "capacity": _number(df, capacity_column)},
        geometry=geoms.to_numpy(), crs=network.crs,
    )  # fmt: skip
    return _finish(cands, hits, reasons, network, std, source=source, max_distance=max_distance,
                   on_far=on_far, report_all=True, capacity_unit=capacity_unit)  # fmt: skip


def from_poi_export(
    table: pd.DataFrame | str | Path,
    network: PedestrianNetwork,
    *,
    provider: Provider,
    name_column: str = "name",
    category_column: str | None = None,
    code_column: str | None = None,
    id_column: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    coordinate_system: CoordinateSystem | None = None,
    standards: Standards | None = None,
    categories: pd.DataFrame | str | Path | None = None,
    mapping: pd.DataFrame | str | Path | None = None,
    max_distance: float = 500.0,
    on_far: OnFar = "raise",
) -> Facilities:
    """Read an Amap, Baidu or Tencent POI export, typed by category and then by name.

    Expected columns (found case-insensitively; name others with the arguments):

    * Amap (高德, GCJ-02): ``name``, ``type`` ("医疗保健服务;诊所;诊所", several joined by
      ``|``), ``typecode`` ("090300"), ``location`` ("lng,lat") or ``lon``/``lng`` and
      ``lat`` columns, ``id``;
    * Baidu (百度, BD-09): ``name``, ``tag`` (or ``type``; "教育培训;幼儿园"), ``lng``/``lat``,
      ``uid``;
    * Tencent (腾讯, GCJ-02): ``name``, ``category`` ("教育学校:幼儿园"), ``lng``/``lat``, ``id``.

    The most specific category rule wins (:func:`read_poi_categories`); rows no typed
    category rule matches fall back to the name rules of :func:`read_rules`. Every row not
    kept is in ``unmatched`` with its reason; categories no rule knows are counted in
    ``report.unknown_categories``. Rows repeating an id are reported, not typed twice.

    Parameters
    ----------
    table
        A DataFrame, GeoDataFrame (lon/lat) or CSV path (UTF-8 or GBK).
    network
        The pedestrian network to snap onto.
    provider
        ``"amap"``, ``"baidu"`` or ``"tencent"``.
    name_column, category_column, code_column, id_column, lon, lat
        Column names, when not the usual ones.
    coordinate_system
        What the coordinates are in; default the provider's (GCJ-02, or BD-09 for Baidu).
        Pass ``"wgs84"`` for an export already converted.
    standards, categories, mapping
        Facility types, POI category rules and name rules (default: the shipped tables).
    max_distance, on_far
        Snapping limit and what to do beyond it (raise by default).

    Returns
    -------
    Facilities

    Examples
    --------
    >>> import pandas as pd
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> amap = pd.DataFrame({
    ...     "id": ["B001", "B002", "B003"], "name": ["阳光幼儿园", "长者食堂", "某某宾馆"],
    ...     "type": ["科教文化服务;学校;幼儿园", "餐饮服务;中餐厅;中餐厅", "住宿服务;宾馆酒店"],
    ...     "location": ["24.945,60.170", "24.941,60.171", "24.943,60.169"]})
    >>> fac = from_poi_export(amap, net, provider="amap")  # outside China GCJ-02 = WGS-84
    >>> fac.points[["facility_type", "matched_by"]].values.tolist()
    [['kindergarten', 'category'], ['community_canteen', 'name']]
    >>> dict(fac.report.unknown_categories)
    {'住宿服务;宾馆酒店': 1}
    """
    _check_options(max_distance, on_far)
    if provider not in _PROVIDERS:
        raise InputError(f"provider must be one of {list(_PROVIDERS)}, not {provider!r}")
    std = standards or Standards.default()
    system, cat_options, code_options, id_options = _PROVIDERS[provider]
    what = f"the {provider} export"
    df = _read_table(table, what)
    if len(df) == 0:
        raise EmptyInputError(f"{what} is empty (0 rows)")
    name_col = _column(df, name_column, (), what, "name")
    cat_col, code_col = _category_columns(
        df, category_column, code_column, cat_options, code_options, what
    )
    gdf = _table_points(
        df, lon=lon, lat=lat, system=coordinate_system or system, what=what, network=network
    )
    geoms = _in_network_crs(gdf, network, what)
    labels, dup, first = _poi_labels(df, _find(df, id_column, id_options, what), provider)
    cats = _text(df, cat_col).str.replace(r"\s*[:：>]\s*", ";", regex=True).str.strip()
    codes = _text(df, code_col).str.strip() if code_col else pd.Series("", index=df.index)
    crules = read_poi_categories(categories, standards=std)
    fields = ["category"] * (cat_col is not None) + ["code"] * (code_col is not None)
    crules = crules[(crules["provider"] == provider) & crules["field"].isin(fields)]
    crules = crules.reset_index(drop=True)
    nrules = read_rules(mapping, standards=std).query("key == ''").reset_index(drop=True)
    names = _name_text(df, [name_col])
    bases, conds, spec = _category_bases(crules, cats, codes, dup, provider)
    known = np.logical_or.reduce(bases) if bases else np.zeros(len(df), bool)
    nb, nc = _name_bases(nrules, names)
    rules = pd.concat([crules, nrules], ignore_index=True)
    rules = rules[["facility_type", "name_pattern", "name_exclude", "note"]]
    by = ["category"] * len(crules) + ["name"] * len(nrules)
    hits, reasons = _run_rules(rules, bases + [b & ~dup for b in nb], conds + nc, by,
                               spec + [0] * len(nrules), names)  # fmt: skip
    extra = pd.DataFrame(
        {"pos": np.flatnonzero(dup), "reason": [f"repeats {f} (same id)" for f in first]}
    )
    unknown = ~known & ~dup & (cats != "").to_numpy()
    u = pd.DataFrame(
        {
            "pos": np.flatnonzero(unknown),
            "reason": f"unknown {provider} category; no name rule matches",
        }
    )
    detail = cats + (" (" + codes + ")").where(codes != "", "")
    cands = gpd.GeoDataFrame(
        {"label": labels.to_numpy(), "name": _text(df, name_col).replace("", None).to_numpy(),
         "detail": detail.to_numpy(), "floor_area_m2": np.nan, "floor_area_estimated": False,
         "capacity": np.nan},
        geometry=geoms.to_numpy(), crs=network.crs,
    )  # fmt: skip
    return _finish(cands, hits, pd.concat([reasons, extra, u], ignore_index=True), network, std,
                   source=provider, max_distance=max_distance, on_far=on_far, report_all=True,
                   categories=cats.where(unknown, None))  # fmt: skip

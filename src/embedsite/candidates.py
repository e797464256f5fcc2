"""Stage 4 supply: candidate sites for new facilities, placed on the pedestrian network.

A :class:`Candidates` holds one row per site that could take embedded service facilities: its
kind, usable floor area (estimated where the data give none, and flagged), land area, cost,
the facility types it may take, its land-use class and its snap onto the streets. Features
looked at and left out are in :attr:`Candidates.rejected` with the reason.

* :func:`from_osm_file` / :func:`from_osm_features`: OpenStreetMap: vacant, disused and
  abandoned buildings and premises, industrial buildings and warehouses, retail and
  commercial buildings, surface car parks, brownfield land and existing community centres
  (rules: ``data/candidate_rules.csv``, :func:`read_candidate_rules`);
* :func:`from_table`: the city's own list (vacant rooms, rented floors...) with floor area,
  rent or cost, allowed facility types and land use;
* :func:`leftover_corners`: unbuilt corners of street blocks (金角银边);
* :func:`combine`: several of these as one set of candidates.

Land use
--------
The 2024 construction guide (城市社区嵌入式服务设施建设导则(试行)) allows embedded facilities on
residential, public administration and service, commercial, class-1 industrial, new-type
industrial, class-1 logistics/warehouse and plaza land (:data:`LAND_USE_CLASSES`). A site
takes the class of the smallest mapped landuse polygon containing it
(``data/land_use_rules.csv``), else the class its own tags imply (a retail building is on
commercial land), else it is unknown (``land_use`` None: kept, and counted in the report,
because most Chinese OSM extracts map few landuse polygons). OSM has no industrial class:
``landuse=industrial`` is taken as class 1 unless ``industrial=*`` names a polluting trade.
Government-built non-profit facilities may keep the original land use for five years: pass
``land_use_filter=False`` (or the classes you accept) for them.

Floor area (assumptions, confidence low)
----------------------------------------
Buildings: footprint x ``building:levels`` where tagged (not estimated), else footprint x the
kind's ``default_levels`` (estimated). Land (car parks, brownfield, leftover corners): land
area x a site coverage of 0.4 x one storey, a new single-storey building (estimated). Nodes
(no footprint): the kind's ``point_floor_area_m2`` (estimated). ``min_floor_area_m2=100``
is the floor area of a small single-function site (a meal-aid point, a childcare room);
use 600 for an embedded service complex.

Examples
--------
>>> import embedsite.network as en
>>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
>>> cands = from_osm_file("data/sample/helsinki.osm.pbf", net)
>>> cands.summary().loc["community_centre", "count"]
np.int64(3)
>>> bool(cands.points["floor_area_m2"].ge(100).all())
True
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from embedsite import _candidate_build as _b
from embedsite import _corners
from embedsite._candidate_build import POINT_COLUMNS, OnFar
from embedsite._candidate_rules import (
    KINDS,
    LAND_USE_CLASSES,
    LandUseClass,
    allowed_classes,
    first_match,
    joined_types,
    read_kind_rules,
    read_land_use_rules,
    resolve_land_use,
    tag_columns,
)
from embedsite._corners import HALF_WIDTH_M
from embedsite._facilityrules import _inside_same_type, _text
from embedsite._facilitytables import _find, _in_network_crs, _read_table, _table_points
from embedsite._osmfeatures import read_features
from embedsite.crs import CoordinateSystem, check_crs
from embedsite.errors import EmptyInputError, InputError, MissingColumnError
from embedsite.network import PedestrianNetwork
from embedsite.standards import Standards

__all__ = [
    "HALF_WIDTH_M",
    "KINDS",
    "LAND_USE_CLASSES",
    "POINT_COLUMNS",
    "Candidates",
    "CandidatesReport",
    "LandUseClass",
    "combine",
    "from_osm_features",
    "from_osm_file",
    "from_table",
    "leftover_corners",
    "read_candidate_rules",
    "read_land_use_rules",
]

log = logging.getLogger(__name__)

LandUseFilter = bool | Collection[str]
_MAYBE_NONE = ("name", "osm_id", "land_use", "land_use_from")
_EXTRA_TAGS = ("name", "name:zh", "building:levels")
SITE_COVERAGE = 0.4  # leftover corners: footprint share of a new single-storey building


def read_candidate_rules(
    source: pd.DataFrame | str | Path | None = None, *, standards: Standards | None = None
) -> pd.DataFrame:
    """The OSM tag -> candidate kind rules: the shipped ``candidate_rules.csv``, or your own.

    Columns ``kind`` (empty: relevant but not a candidate, the ``note`` is the reason),
    ``key``, ``value``, ``and_key``, ``and_value``, ``land_use`` (class the object implies),
    ``default_levels``, ``coverage``, ``point_floor_area_m2``, ``allowed_types``, ``note``;
    the shipped file's header explains them. The first rule a feature matches decides.

    Examples
    --------
    >>> rules = read_candidate_rules()
    >>> rules.query("kind == 'warehouse'")[["value", "land_use"]].values.tolist()
    [['warehouse|storage', 'logistics_1']]
    """
    return read_kind_rules(source, standards=standards)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class CandidatesReport:
    """What a loader read, kept and left out.

    Attributes
    ----------
    source
        ``"osm:<file>"``, ``"table"``, ``"leftover_corner"`` or ``"combined"``.
    n_read
        Features, rows or block pieces looked at.
    n_candidates, n_rejected
        Rows of ``points`` and of ``rejected``.
    n_estimated, n_land_use_unknown
        Candidates whose floor area is estimated; whose land-use class is unknown.
    rejected_by_reason
        How many features each kind of reason left out (reasons cut at the first ``(``).
    """

    source: str
    n_read: int
    n_candidates: int
    n_rejected: int
    n_estimated: int
    n_land_use_unknown: int
    rejected_by_reason: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


class Candidates:
    """Candidate sites snapped onto a pedestrian network (immutable).

    Build one with a loader (:func:`from_osm_file`, :func:`from_table`,
    :func:`leftover_corners`, :func:`combine`), not with this constructor.

    Attributes
    ----------
    points : GeoDataFrame
        In the network CRS, indexed by unique labels (``"osm:way/123"``, ``"corner:17"``, the
        table's index), with :data:`POINT_COLUMNS`: ``kind``, ``name``, ``source``,
        ``osm_id`` (``"way/123"``; None off OSM), ``matched_by`` (``"tag"``, ``"user"``,
        ``"geometry"``) and ``match_rule``, ``floor_area_m2`` (> 0),
        ``floor_area_estimated``, ``floor_area_from`` (how it was computed),
        ``footprint_m2`` and ``land_area_m2`` (NaN when not known), ``cost`` (NaN: unknown),
        ``allowed_types`` (``;``-separated standards keys; ``""``: any), ``land_use`` (a key
        of :data:`LAND_USE_CLASSES` or None), ``land_use_from``, the snap columns of
        :meth:`~embedsite.network.PedestrianNetwork.snap`, and the site's point as
        ``geometry`` (areas: a point inside them).
    sites : GeoSeries
        The site geometries (footprints, lots, corners; points for nodes), same index.
    rejected : GeoDataFrame
        Features left out: ``name``, ``kind``, ``reason``, ``detail``, ``source``.
    report : CandidatesReport
    standards : Standards

    Examples
    --------
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> cands = from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> site = cands.points.loc["osm:node/4989964863"]  # a node: floor area assumed
    >>> site["kind"], site["floor_area_m2"], bool(site["floor_area_estimated"])
    ('community_centre', np.float64(400.0), True)
    """

    __slots__ = ("_points", "_rejected", "_report", "_sites", "_standards")

    def __init__(
        self,
        points: gpd.GeoDataFrame,
        sites: gpd.GeoSeries,
        rejected: gpd.GeoDataFrame,
        report: CandidatesReport,
        standards: Standards,
    ) -> None:
        self._points = points
        self._sites = sites
        self._rejected = rejected
        self._report = report
        self._standards = standards

    @property
    def points(self) -> gpd.GeoDataFrame:
        """The candidate sites, one row each (a copy)."""
        return self._points.copy()

    @property
    def sites(self) -> gpd.GeoSeries:
        """The site geometries in the network CRS (a copy), aligned with :attr:`points`."""
        return self._sites.copy()

    @property
    def rejected(self) -> gpd.GeoDataFrame:
        """Features looked at and left out, with the reason (a copy)."""
        return self._rejected.copy()

    @property
    def report(self) -> CandidatesReport:
        """What the loader read, kept and left out."""
        return self._report

    @property
    def standards(self) -> Standards:
        """The standards registry the facility types come from."""
        return self._standards

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds present, in :data:`KINDS` order."""
        present = set(self._points["kind"])
        return tuple(k for k in KINDS if k in present)

    def __len__(self) -> int:
        return len(self._points)

    def __repr__(self) -> str:
        counts = self._points["kind"].value_counts()
        shown = ", ".join(f"{k}: {counts[k]}" for k in self.kinds) or "none"
        return (
            f"Candidates({len(self)} sites from {self._report.source}: {shown}; "
            f"{len(self._rejected)} rejected)"
        )

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """The candidate sites as a GeoDataFrame: the same as :attr:`points`."""
        return self.points

    def allows(self, facility_type: str) -> pd.Series:
        """Whether each site may take ``facility_type`` (key or Chinese name), aligned.

        Raises
        ------
        UnknownFacilityTypeError
            If the standards do not know the type (the message lists the known ones).

        Examples
        --------
        >>> import embedsite.network as en
        >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
        >>> cands = from_osm_file("data/sample/helsinki.osm.pbf", net)
        >>> bool(cands.allows("托育").all())  # the shipped OSM rules allow every type
        True
        """
        key = self._standards[facility_type].key
        allowed = self._points["allowed_types"].astype(str)
        ok = (allowed == "") | (";" + allowed + ";").str.contains(f";{key};", regex=False)
        return ok.rename(key)

    def summary(self) -> pd.DataFrame:
        """One row per kind: count, floor area (total, median, estimated), land use known.

        Returns
        -------
        DataFrame
            Index ``kind`` (every kind of :data:`KINDS`; zero rows for absent kinds); columns
            ``count``, ``floor_area_m2`` (total), ``median_floor_area_m2``, ``estimated``,
            ``land_area_m2`` (total), ``with_cost``, ``land_use_unknown``.

        Examples
        --------
        >>> import embedsite.network as en
        >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
        >>> s = from_osm_file("data/sample/helsinki.osm.pbf", net).summary()
        >>> int(s["count"].sum()) == len(from_osm_file("data/sample/helsinki.osm.pbf", net))
        True
        """
        p = self._points
        g = p.groupby("kind")
        out = pd.DataFrame(
            {
                "count": g.size(),
                "floor_area_m2": g["floor_area_m2"].sum(),
                "median_floor_area_m2": g["floor_area_m2"].median(),
                "estimated": g["floor_area_estimated"].sum(),
                "land_area_m2": g["land_area_m2"].sum(),
                "with_cost": g["cost"].count(),
                "land_use_unknown": g["land_use"].apply(lambda s: int(s.isna().sum())),
            }
        )
        out = out.reindex(pd.Index(KINDS, name="kind"))
        ints = ["count", "estimated", "with_cost", "land_use_unknown"]
        out[ints] = out[ints].fillna(0).astype(int)
        out[["floor_area_m2", "land_area_m2"]] = out[["floor_area_m2", "land_area_m2"]].fillna(0.0)
        return out


# --------------------------------------------------------------------------- assembly
def _finish(
    cands: gpd.GeoDataFrame,
    sites: np.ndarray,
    rejected: list[gpd.GeoDataFrame],
    network: PedestrianNetwork,
    standards: Standards,
    *,
    source: str,
    n_read: int,
    keep_classes: frozenset[str],
    min_floor_area_m2: float,
    max_distance_m: float,
    on_far: OnFar,
) -> Candidates:
    points, site_geoms, rej = _b.finish(
        cands, sites, rejected, network, keep_classes=keep_classes,
        min_floor_area_m2=min_floor_area_m2, max_distance_m=max_distance_m, on_far=on_far,
        source=source,
    )  # fmt: skip
    return _result(points, site_geoms, rej, standards, source=source, n_read=n_read)


def _result(
    points: gpd.GeoDataFrame,
    sites: gpd.GeoSeries,
    rejected: gpd.GeoDataFrame,
    standards: Standards,
    *,
    source: str,
    n_read: int,
) -> Candidates:
    points = points.astype(dict.fromkeys(_MAYBE_NONE, object))
    for col in _MAYBE_NONE:  # str or None, as the contract says (not NaN)
        points[col] = points[col].where(points[col].notna(), None)
    why = rejected["reason"].astype(str).str.replace(r"\s*[\(\[].*$", "", regex=True)
    why = why.str.replace(r"\d[\d,.]*", "N", regex=True)
    counts = why.value_counts()
    report = CandidatesReport(
        source=source, n_read=n_read, n_candidates=len(points), n_rejected=len(rejected),
        n_estimated=int(points["floor_area_estimated"].sum()),
        n_land_use_unknown=int(points["land_use"].isna().sum()),
        rejected_by_reason=MappingProxyType({str(k): int(v) for k, v in counts.items()}),
    )  # fmt: skip
    log.info("%s: %d candidates, %d rejected", source, len(points), len(rejected))
    return Candidates(points, sites, rejected, report, standards)


# --------------------------------------------------------------------------- OpenStreetMap
def from_osm_file(
    path: str | Path,
    network: PedestrianNetwork,
    *,
    kinds: Iterable[str] | None = None,
    land_use_filter: LandUseFilter = True,
    min_floor_area_m2: float = 100.0,
    max_distance_m: float = 500.0,
    on_far: OnFar = "drop",
    rules: pd.DataFrame | str | Path | None = None,
    land_use_rules: pd.DataFrame | str | Path | None = None,
    standards: Standards | None = None,
) -> Candidates:
    """Read candidate sites from an OSM XML/PBF file (offline, pyosmium).

    Reads the nodes and areas carrying a key the rules use (buildings, amenities, landuse,
    ``disused:*``...), then works as :func:`from_osm_features`.

    Parameters
    ----------
    path
        OSM XML or PBF file.
    network
        The pedestrian network the sites are snapped onto.
    kinds, land_use_filter, min_floor_area_m2, max_distance_m, on_far, rules, land_use_rules,
    standards
        As for :func:`from_osm_features`.

    Returns
    -------
    Candidates

    Raises
    ------
    DataFileError, EmptyInputError
        The file is missing or unreadable; it holds none of the tags.

    Examples
    --------
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> cands = from_osm_file("data/sample/helsinki.osm.pbf", net, kinds=["parking"])
    >>> cands.kinds, cands.report.source
    (('parking',), 'osm:helsinki.osm.pbf')
    """
    std = standards or Standards.default()
    krules = read_kind_rules(rules, standards=std)
    lrules = read_land_use_rules(land_use_rules)
    keys = tag_columns(krules, lrules)
    feats = read_features(path, keys, tags=[*keys, *_EXTRA_TAGS])
    if len(feats) == 0:
        raise EmptyInputError(f"{str(path)!r} holds no nodes or areas with any of the keys {keys}")
    return from_osm_features(
        feats, network, kinds=kinds, land_use_filter=land_use_filter,
        min_floor_area_m2=min_floor_area_m2, max_distance_m=max_distance_m, on_far=on_far,
        rules=krules, land_use_rules=lrules, standards=std, source=f"osm:{Path(path).name}",
    )  # fmt: skip


def from_osm_features(
    features: gpd.GeoDataFrame,
    network: PedestrianNetwork,
    *,
    kinds: Iterable[str] | None = None,
    land_use_filter: LandUseFilter = True,
    min_floor_area_m2: float = 100.0,
    max_distance_m: float = 500.0,
    on_far: OnFar = "drop",
    rules: pd.DataFrame | str | Path | None = None,
    land_use_rules: pd.DataFrame | str | Path | None = None,
    standards: Standards | None = None,
    source: str = "osm",
) -> Candidates:
    """Find candidate sites among OSM features by tag rules; judge land use and floor area.

    Each feature gets the kind of the first rule it matches (:func:`read_candidate_rules`);
    features no rule matches are not candidates (and not reported). A node inside an area of
    the same kind (a car-park node inside its lot) is left out as a part of it. Land use,
    floor area and the defaults are described in the module docstring.

    Parameters
    ----------
    features
        Nodes and areas with tag columns (as from ``embedsite._osmfeatures.read_features``)
        in any CRS; labels are ``"osm:<osm_type>/<osm_id>"`` when those columns exist, else
        the index. Land-use polygons are taken from the same frame.
    network
        The pedestrian network to snap onto.
    kinds
        Kinds to keep (default all OSM kinds of :data:`KINDS`).
    land_use_filter
        ``True``: leave out sites on land the 2024 guide does not allow; ``False``: keep all;
        or a collection of :data:`LAND_USE_CLASSES` keys to allow.
    min_floor_area_m2
        Sites with less usable floor area are left out.
    max_distance_m, on_far
        Snapping limit in metres; ``"drop"`` (default) reports far sites in ``rejected``,
        ``"raise"`` raises :class:`~embedsite.errors.FarFromNetworkError`.
    rules, land_use_rules
        Tag rules (:func:`read_candidate_rules`) and land-use rules
        (:func:`read_land_use_rules`); default the shipped tables.
    standards
        Registry the allowed facility types come from.
    source
        Recorded in the ``source`` column (``"osm"`` in it for every OSM source).

    Returns
    -------
    Candidates

    Raises
    ------
    CRSError, InputError, MissingColumnError
        No CRS; not a GeoDataFrame, repeated labels or bad options; no tag column the rules use.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> feats = gpd.GeoDataFrame(
    ...     {"building": ["warehouse", "retail"], "building:levels": [None, "3"],
    ...      "landuse": [None, None]},
    ...     geometry=[shapely.Point(24.945, 60.170).buffer(0.0003),
    ...               shapely.Point(24.941, 60.171).buffer(0.0002)], crs=4326)
    >>> c = from_osm_features(feats, net)
    >>> c.points[["kind", "floor_area_estimated", "land_use"]].values.tolist()
    [['warehouse', True, 'logistics_1'], ['retail_building', False, 'commercial']]
    """
    _b.check_options(min_floor_area_m2, max_distance_m, on_far)
    keep_classes = allowed_classes(land_use_filter)
    wanted = _b.check_kinds(kinds)
    if not isinstance(features, gpd.GeoDataFrame):
        raise InputError(f"features must be a GeoDataFrame, not {type(features).__name__}")
    std = standards or Standards.default()
    krules = read_kind_rules(rules, standards=std)
    lrules = read_land_use_rules(land_use_rules)
    check_crs(features, name="features")
    used = tag_columns(krules)
    if not any(c in features for c in used):
        raise MissingColumnError(
            f"features has none of the tag columns the candidate rules use ({', '.join(used)}); "
            f"available columns: {list(features.columns)}"
        )
    if len(features) == 0:
        raise EmptyInputError("features is empty (0 rows)")
    geoms = _in_network_crs(features, network, "features").to_numpy()
    if {"osm_type", "osm_id"} <= set(features.columns):
        osm_id = features["osm_type"].astype(str) + "/" + features["osm_id"].astype(str)
        labels = ("osm:" + osm_id).to_numpy(dtype=object)
        osm_ids = osm_id.to_numpy(dtype=object)
    else:
        labels = features.index.astype(str).to_numpy(dtype=object)
        osm_ids = np.full(len(features), None, dtype=object)
    repeated = pd.Index(labels)[pd.Index(labels).duplicated()]
    if len(repeated):
        raise InputError(f"feature labels must be unique; repeated: {list(repeated[:5])}")
    frame = pd.DataFrame(features.drop(columns=features.geometry.name))
    names = _text(frame, "name").replace("", None).to_numpy(dtype=object)
    rule, conds = first_match(krules, frame)
    kinds_of = krules["kind"].to_numpy(dtype=object)
    kind = kinds_of[np.maximum(rule, 0)]
    kind[rule < 0] = None
    pts = shapely.point_on_surface(geoms)
    detail_arr = _b.tag_detail(frame, used)
    rejected: list[gpd.GeoDataFrame] = []
    excluded = np.flatnonzero(kind == "")
    notes = krules["note"].to_numpy(dtype=object)
    cond_arr = np.asarray(conds, dtype=object)
    rejected.append(_b.rejected_frame(
        labels[excluded], names[excluded], np.full(len(excluded), None),
        notes[rule[excluded]], detail_arr[excluded],
        pts[excluded], source, network.crs))  # fmt: skip
    pos = np.flatnonzero(pd.Series(kind).isin(list(wanted)).to_numpy())
    if len(pos):  # a node inside an area of the same kind is a part of it
        chosen = pd.DataFrame({"pos": pos, "facility_type": kind[pos]})
        cands_lab = pd.DataFrame({"label": labels, "name": names})
        _, why = _inside_same_type(chosen, geoms, pts, cands_lab)
        dup = why["pos"].to_numpy(dtype=int)
        rejected.append(_b.rejected_frame(
            labels[dup], names[dup], kind[dup], why["reason"].to_numpy(dtype=object),
            detail_arr[dup], pts[dup], source, network.crs))  # fmt: skip
        pos = np.setdiff1d(pos, dup)
    land_use, land_from = _b.osm_land_use(pos, rule, krules, lrules, frame, geoms, pts, labels,
                                        conds)  # fmt: skip
    r = rule[pos]
    floor, use_given, how, footprint, land = _b.osm_floor_area(
        pos, rule, krules, frame, geoms, kind
    )
    cands = gpd.GeoDataFrame(
        {"kind": kind[pos], "name": names[pos], "source": source, "osm_id": osm_ids[pos],
         "matched_by": "tag", "match_rule": cond_arr[r], "floor_area_m2": floor,
         "floor_area_estimated": ~use_given, "floor_area_from": how,
         "footprint_m2": footprint, "land_area_m2": land, "cost": np.nan,
         "allowed_types": krules["allowed_types"].to_numpy(dtype=object)[r],
         "land_use": land_use, "land_use_from": land_from, "_detail": detail_arr[pos]},
        geometry=pts[pos], index=pd.Index(labels[pos], dtype=object), crs=network.crs,
    )  # fmt: skip
    return _finish(cands, geoms[pos], rejected, network, std, keep_classes=keep_classes,
                   min_floor_area_m2=min_floor_area_m2, max_distance_m=max_distance_m,
                   on_far=on_far, source=source, n_read=len(features))  # fmt: skip


# --------------------------------------------------------------------------- tables
def from_table(
    table: pd.DataFrame | str | Path,
    network: PedestrianNetwork,
    *,
    floor_area_column: str | None = None,
    cost_column: str | None = None,
    allowed_types_column: str | None = None,
    land_use_column: str | None = None,
    name_column: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    coordinate_system: CoordinateSystem = "wgs84",
    land_use_filter: LandUseFilter = True,
    min_floor_area_m2: float = 100.0,
    max_distance_m: float = 500.0,
    on_far: OnFar = "raise",
    standards: Standards | None = None,
    source: str = "table",
) -> Candidates:
    """Read the city's own candidate sites: a GeoDataFrame, or a DataFrame/CSV with lon/lat.

    Parameters
    ----------
    table
        A GeoDataFrame (any CRS; polygons become a point inside them) or a DataFrame or CSV
        path (UTF-8 or GBK) with longitude/latitude columns. Its index labels the sites.
    network
        The pedestrian network to snap onto.
    floor_area_column
        Usable floor area (m², > 0). Without it, polygons get footprint x 1 storey
        (estimated) and points are an error.
    cost_column
        Rent or cost (>= 0; empty cells: unknown).
    allowed_types_column
        Facility types each site may take, as keys or Chinese names (``"托育;助餐点"``);
        empty cells: any type.
    land_use_column
        Land-use class as a key, Chinese name (``"居住用地"``) or code (``"07"``, ``"M1"``,
        ``"100101"``) of :data:`LAND_USE_CLASSES`; empty cells: unknown.
    name_column, lon, lat
        Optional name column; coordinate columns (default ``lon``/``lng``/``经度`` and
        ``lat``/``纬度``).
    coordinate_system
        ``"wgs84"``, ``"gcj02"`` (Amap/Tencent) or ``"bd09"`` (Baidu): converted to WGS-84.
    land_use_filter, min_floor_area_m2, max_distance_m, on_far, standards, source
        As for :func:`from_osm_features` (far rows raise by default).

    Returns
    -------
    Candidates
        ``kind`` is ``"user"``, ``matched_by`` ``"user"``.

    Raises
    ------
    MissingColumnError, InputError, UnknownFacilityTypeError, CRSError, CoordinateSystemError
        A named column is absent; a floor area is missing, zero or negative, a cost negative;
        an unknown type or land-use name (with the closest ones); no or a wrong CRS.

    Examples
    --------
    >>> import pandas as pd
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> df = pd.DataFrame({"面积": [320.0, 150.0], "租金": [12000, None],
    ...                    "可用": ["托育;助餐点", ""], "用地": ["居住用地", "M2"],
    ...                    "lon": [24.945, 24.941], "lat": [60.170, 60.171]}, index=["a", "b"])
    >>> c = from_table(df, net, floor_area_column="面积", cost_column="租金",
    ...                allowed_types_column="可用", land_use_column="用地")
    >>> c.points[["allowed_types", "land_use", "cost"]].values.tolist()
    [['nursery;community_canteen', 'residential', 12000.0]]
    >>> c.rejected.loc["b", "reason"]
    "land use industrial_2 (二类工业用地) not allowed by the 2024 guide [column '用地']"
    """
    _b.check_options(min_floor_area_m2, max_distance_m, on_far)
    keep_classes = allowed_classes(land_use_filter)
    std = standards or Standards.default()
    df = _read_table(table, "table")
    if len(df) == 0:
        raise EmptyInputError("table is empty (0 rows); pass at least one candidate site")
    for col in (floor_area_column, cost_column, allowed_types_column, land_use_column,
                name_column):  # fmt: skip
        _find(df, col, (), "table")
    if df.index.duplicated().any():
        raise InputError(f"the table's index labels the sites and must be unique; repeated: "
                         f"{list(df.index[df.index.duplicated()][:5])}")  # fmt: skip
    gdf = _table_points(df, lon=lon, lat=lat, system=coordinate_system, what="table",
                        network=network)  # fmt: skip
    geoms = _in_network_crs(gdf, network, "table").to_numpy()
    area = shapely.area(geoms)
    labels = df.index.astype(str).to_numpy(dtype=object)
    if floor_area_column is not None:
        floor = _b.numbers(df, floor_area_column, labels, positive=True)
        estimated = np.zeros(len(df), dtype=bool)
        how = np.full(len(df), f"column {floor_area_column!r}", dtype=object)
    elif (area > 0).all():
        floor, estimated = area, np.ones(len(df), dtype=bool)
        how = np.full(len(df), "footprint x 1 storey (no floor area column)", dtype=object)
    else:
        raise MissingColumnError(
            "candidate sites need a usable floor area: name it with floor_area_column= "
            f"(available columns: {list(df.columns)}); only polygon rows can do without"
        )
    cost = (_b.numbers(df, cost_column, labels, positive=False) if cost_column
            else np.full(len(df), np.nan))  # fmt: skip
    allowed = (joined_types(df[allowed_types_column], std, allowed_types_column)
               if allowed_types_column else np.full(len(df), "", dtype=object))  # fmt: skip
    if land_use_column:
        land_use = resolve_land_use(df[land_use_column], land_use_column).to_numpy(dtype=object)
        land_from = np.full(len(df), None, dtype=object)
        land_from[~pd.isna(land_use)] = f"column {land_use_column!r}"
    else:
        land_use = land_from = np.full(len(df), None, dtype=object)
    names = (_text(df, name_column).replace("", None).to_numpy(dtype=object) if name_column
             else np.full(len(df), None, dtype=object))  # fmt: skip
    cands = gpd.GeoDataFrame(
        {"kind": "user", "name": names, "source": source, "osm_id": None, "matched_by": "user",
         "match_rule": "row of the table", "floor_area_m2": floor,
         "floor_area_estimated": estimated, "floor_area_from": how,
         "footprint_m2": np.where(area > 0, area, np.nan), "land_area_m2": np.nan, "cost": cost,
         "allowed_types": allowed, "land_use": land_use, "land_use_from": land_from,
         "_detail": ""},
        geometry=shapely.point_on_surface(geoms), index=pd.Index(labels, dtype=object),
        crs=network.crs,
    )  # fmt: skip
    return _finish(cands, geoms, [], network, std, keep_classes=keep_classes,
                   min_floor_area_m2=min_floor_area_m2, max_distance_m=max_distance_m,
                   on_far=on_far, source=source, n_read=len(df))  # fmt: skip


# --------------------------------------------------------------------------- corners
def leftover_corners(
    network: PedestrianNetwork,
    buildings: gpd.GeoDataFrame | gpd.GeoSeries | str | Path,
    *,
    min_area_m2: float = 150.0,
    max_area_m2: float = 5000.0,
    min_width_m: float = 10.0,
    road_half_width_m: Mapping[str, float] | float | None = None,
    exclude: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    require_buildings: bool = True,
    coverage: float = SITE_COVERAGE,
    min_floor_area_m2: float = 0.0,
    max_distance_m: float = 500.0,
    on_far: OnFar = "drop",
    standards: Standards | None = None,
) -> Candidates:
    """Leftover corners (金角银边): unbuilt pieces of street blocks, as candidate sites.

    Blocks are the faces of the network's street lines (noded, then polygonised). From each
    block the road space (each edge buffered by its half width), the building footprints
    (courtyards filled) and the ``exclude`` areas are removed; each remaining piece is a
    corner if its area lies in ``[min_area_m2, max_area_m2]`` and it is at least
    ``min_width_m`` wide somewhere (a negative buffer of half that width is not empty: a thin
    strip along a street is not a site). Floor area = land area x ``coverage`` x one storey,
    flagged estimated. Land use is unknown (``None``). The computation is vectorised over
    blocks (see ``embedsite._corners``).

    Parameters
    ----------
    network
        The pedestrian network: its edges bound the blocks, and the corners snap onto it.
    buildings
        Building footprints (polygons, any CRS), or an OSM file to read them from (its
        ``building=*`` areas). Points and lines are ignored.
    min_area_m2, max_area_m2, min_width_m
        Size limits of a corner (m², m², m). Pieces over ``max_area_m2`` are more likely
        land whose buildings are missing from the map than a corner.
    road_half_width_m
        Half road widths in metres by ``highway`` value (merged over :data:`HALF_WIDTH_M`;
        ``"*"`` for the rest), or one number for every edge. An edge's ``width`` tag, where
        it has one, wins.
    exclude
        Areas that are not free land either (parks, water, existing sites), any CRS.
    require_buildings
        Leave out pieces of blocks where no building is mapped (unmapped, not empty).
    coverage
        Share of a corner a new single-storey building may cover (default 0.4).
    min_floor_area_m2, max_distance_m, on_far, standards
        As for :func:`from_osm_features`.

    Returns
    -------
    Candidates
        ``kind`` and ``source`` ``"leftover_corner"``, labels ``"corner:<n>"``;
        :attr:`Candidates.sites` holds the corner polygons. Pieces of 1 m² or more that were
        left out are in ``rejected`` with the reason.

    Raises
    ------
    CRSError, InputError
        Buildings without a CRS; bad limits.

    Examples
    --------
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> corners = leftover_corners(net, "data/sample/helsinki.osm.pbf")
    >>> bool(corners.sites.area.ge(150).all()) and corners.kinds == ("leftover_corner",)
    True
    """
    _b.check_options(min_floor_area_m2, max_distance_m, on_far)
    for name, value in (("min_area_m2", min_area_m2), ("max_area_m2", max_area_m2),
                        ("min_width_m", min_width_m)):  # fmt: skip
        if not np.isfinite(value) or value < 0:
            raise InputError(f"{name} must be a number >= 0, not {value}")
    if max_area_m2 < min_area_m2:
        raise InputError(f"max_area_m2 ({max_area_m2}) is below min_area_m2 ({min_area_m2})")
    if not 0 < coverage <= 1:
        raise InputError(f"coverage is a share of the land in (0, 1], not {coverage}")
    std = standards or Standards.default()
    if isinstance(buildings, str | Path):
        buildings = read_features(buildings, ["building"], nodes=False)
    b = _b.layer(buildings, network, "buildings")
    ex = _b.layer(exclude, network, "exclude") if exclude is not None else np.array([], object)
    edges = network.edges
    half = _corners.half_widths(edges, road_half_width_m)
    got = _corners.pieces(
        edges.geometry.to_numpy(), half, b, ex, min_area_m2=min_area_m2,
        max_area_m2=max_area_m2, min_width_m=min_width_m, require_buildings=require_buildings,
    )  # fmt: skip
    labels = pd.Series(np.arange(len(got.geometry)), dtype=str).radd("corner:").to_numpy(object)
    area = shapely.area(got.geometry)
    pts = shapely.point_on_surface(got.geometry)
    keep = got.reason == ""
    out = ~keep & (area >= 1.0)
    rejected = [_b.rejected_frame(
        labels[out], np.full(out.sum(), None), np.full(out.sum(), "leftover_corner"),
        got.reason[out], "block " + pd.Series(got.block[out], dtype=str).to_numpy(object),
        pts[out], "leftover_corner", network.crs)]  # fmt: skip
    k = np.flatnonzero(keep)
    cands = gpd.GeoDataFrame(
        {"kind": "leftover_corner", "name": None, "source": "leftover_corner", "osm_id": None,
         "matched_by": "geometry",
         "match_rule": "block " + pd.Series(got.block[k], dtype=str).to_numpy(object)
         + f" minus roads and buildings; >= {min_area_m2:g} m², >= {min_width_m:g} m wide",
         "floor_area_m2": area[k] * coverage, "floor_area_estimated": True,
         "floor_area_from": f"land x {coverage:g} coverage x 1 storey (a new building, assumed)",
         "footprint_m2": np.nan, "land_area_m2": area[k], "cost": np.nan, "allowed_types": "",
         "land_use": None, "land_use_from": None, "_detail": ""},
        geometry=pts[k], index=pd.Index(labels[k], dtype=object), crs=network.crs,
    )  # fmt: skip
    return _finish(cands, got.geometry[k], rejected, network, std,
                   keep_classes=allowed_classes(False), min_floor_area_m2=min_floor_area_m2,
                   max_distance_m=max_distance_m, on_far=on_far, source="leftover_corner",
                   n_read=len(got.geometry))  # fmt: skip


# --------------------------------------------------------------------------- combine
def combine(*candidates: Candidates) -> Candidates:
    """Several candidate sets as one, with unique labels.

    A label seen in an earlier set is left out (and reported) when it is the same OSM
    feature, e.g. read twice; two different sites sharing a label are an error.

    Raises
    ------
    InputError
        No candidates given, not :class:`Candidates`, a label shared by different sites, or
        sets snapped onto networks of different CRS.

    Examples
    --------
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> a = from_osm_file("data/sample/helsinki.osm.pbf", net, kinds=["parking"])
    >>> b = from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> both = combine(a, b)
    >>> len(both) == len(b), both.report.source
    (True, 'combined(osm:helsinki.osm.pbf, osm:helsinki.osm.pbf)')
    """
    if not candidates or not all(isinstance(c, Candidates) for c in candidates):
        raise InputError("combine takes one or more Candidates objects")
    crs = candidates[0]._points.crs
    if any(c._points.crs != crs for c in candidates):
        raise InputError("combine needs candidates snapped onto the same network (CRS differ)")
    points = pd.concat([c._points for c in candidates])
    sites = pd.concat([c._sites for c in candidates])
    repeated = points.index.duplicated(keep="first")
    if repeated.any():
        first = points[~repeated]
        again = points[repeated]
        same = again["osm_id"].notna().to_numpy() & (
            first.loc[again.index, "osm_id"].to_numpy() == again["osm_id"].to_numpy()
        )
        if not same.all():
            raise InputError(
                "labels repeat across the candidate sets for different sites: "
                f"{list(again.index[~same][:5])}; give the tables distinct indexes (e.g. "
                "df.index = 'mine:' + df.index.astype(str))"
            )
    dup = _b.rejected_frame(
        points.index[repeated].to_numpy(dtype=object), points["name"].to_numpy()[repeated],
        points["kind"].to_numpy()[repeated],
        np.full(int(repeated.sum()), "repeats the same site of an earlier candidate set"),
        np.full(int(repeated.sum()), ""), points.geometry.to_numpy()[repeated], "combined", crs,
    )  # fmt: skip
    rejected = pd.concat([*[c._rejected for c in candidates if len(c._rejected)], dup])
    rejected = gpd.GeoDataFrame(rejected, geometry="geometry", crs=crs)
    out = gpd.GeoDataFrame(points[~repeated], geometry="geometry", crs=crs)
    source = "combined(" + ", ".join(c._report.source for c in candidates) + ")"
    return _result(out, gpd.GeoSeries(sites[~repeated], crs=crs), rejected,
                   candidates[0]._standards, source=source,
                   n_read=sum(c._report.n_read for c in candidates))  # fmt: skip

"""Stage 2 demand: residents as weighted points snapped onto the pedestrian network.

A :class:`Demand` holds one point per place where residents live (a building, a grid point of
a neighbourhood, a raster cell, a row of a table) with its number of residents, households,
residents by age band and where it joins the street network. Loaders are functions:

* :func:`from_buildings`: building footprints; residents = floor area / floor area per
  person, or dwellings x household size, or a population column;
* :func:`from_osm_file`: residential buildings, compounds (小区) and their gates from OSM;
* :func:`from_polygons`: neighbourhood or compound totals spread over their buildings
  (dasymetric, by floor area) or over a regular grid of points;
* :func:`from_raster`: a WorldPop-style population GeoTIFF spread over buildings;
* :func:`from_points`: a table of points (CSV or DataFrame) in WGS-84, GCJ-02 or BD-09.

Defaults and their sources
--------------------------
``floor_area_per_person_m2 = 36.5``
    Housing floor area per person of city households, 7th national census (2020): 36.52 m²
    (城市家庭户人均住房建筑面积). Footprint x levels is the gross floor area (建筑面积) the
    census figure also counts. Confidence medium: it varies between cities (lower in old
    cores such as Xinjiekou, higher in new districts); set it per city where known.
``household_size = 2.62``
    Persons per family household, 7th national census (2020). Confidence high (national).
Default levels (:data:`DEFAULT_LEVELS`)
    An assumption (confidence low): 6 for apartment and residential blocks, the walk-up
    slabs (多层住宅) that dominate Chinese urban housing (GB 50096 requires lifts from 7
    storeys), 2 for houses, 6 for anything else. Counted in :attr:`DemandReport.levels_filled`.
Residential buildings (:data:`RESIDENTIAL_BUILDINGS`)
    ``building`` in apartments, residential, house, dormitory, detached, semidetached_house,
    terrace, bungalow; ``building=yes`` counts only inside a landuse=residential compound.
Age profile ``"china_2020"`` (``data/age_profiles.csv``)
    7th census national shares: 60+ 18.70 % (high confidence); 0-14 17.95 % split into
    0-3 3.00 %, 3-6 3.79 %, 6-12 7.54 %, 12-15 3.62 % from the census five-year groups and
    the 2016-2020 birth counts (medium confidence). National, not urban-only: city cores
    usually hold fewer children and, in old districts, more elderly; override with
    ``age_profile=`` or ``age_columns=`` where local figures exist.

Gated compounds (小区)
----------------------
Where ``compounds`` and ``gates`` are given, a gate belongs to a compound if the ``gates``
layer names it in ``gate_compound_column`` or, without that column, if it lies within
``gate_tolerance_m`` of the compound's boundary. Residents of a compound with gates reach
the streets only through them: they are placed at their nearest gate's snap position, with
``access_m`` = straight distance resident-gate (inside the compound) x ``detour_factor`` +
the gate's own access distance. Residents of compounds without gates snap to the nearest
street as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from embedsite import _demand_build as _b
from embedsite._graphbuild import clip_geometry
from embedsite._osmfeatures import read_features
from embedsite.crs import CoordinateSystem, check_lonlat, to_wgs84
from embedsite.errors import CRSError, DataFileError, EmptyInputError, InputError, PopulationError
from embedsite.network import PedestrianNetwork
from embedsite.standards import HOUSEHOLD_SIZE

__all__ = [
    "AGE_BANDS",
    "BAND_COLUMNS",
    "DEFAULT_LEVELS",
    "GATE_BARRIERS",
    "RESIDENTIAL_BUILDINGS",
    "Demand",
    "DemandReport",
    "from_buildings",
    "from_osm_file",
    "from_points",
    "from_polygons",
    "from_raster",
]

log = logging.getLogger(__name__)

AGE_BANDS = _b.AGE_BANDS
BAND_COLUMNS = _b.BAND_COLUMNS
RESIDENTIAL_BUILDINGS = _b.RESIDENTIAL_BUILDINGS
DEFAULT_LEVELS = _b.DEFAULT_LEVELS
GATE_BARRIERS = _b.GATE_BARRIERS
_ENTRANCES = _b.ENTRANCES
OnFar = _b.OnFar
_SNAP = ["edge", "u", "v", "position_m", "to_u_m", "to_v_m", "access_m"]


@dataclass(frozen=True)
class DemandReport:
    """What a loader read, counted, filled and dropped: nothing is dropped silently.

    ``population_in == population_snapped + population_dropped`` (up to rounding).
    """

    source: str
    rule: str
    rows_in: int
    rows_used: int
    points: int
    points_snapped: int
    population_in: float
    population_snapped: float
    population_dropped: float
    dropped_rows: tuple[Any, ...] = ()
    levels_given: int = 0
    levels_filled: int = 0
    levels_filled_by: tuple[tuple[str, int], ...] = ()
    floor_area_per_person_m2: float | None = None
    household_size: float = HOUSEHOLD_SIZE
    age_profile: str = "china_2020"
    compounds: int = 0
    compounds_with_gates: int = 0
    gates_found: int = 0
    gates_snapped: int = 0
    points_via_gates: int = 0
    population_via_gates: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)


_SUMMARY_ROWS = {
    "population": "residents 居民",
    "households": "households 户数",
    "hundreds_of_households": "hundreds of households 百户",
    "pop_0_3": "aged 0-3 (0-3岁)",
    "pop_3_6": "aged 3-6 (3-6岁)",
    "pop_6_12": "aged 6-12 (6-12岁)",
    "pop_12_15": "aged 12-15 (12-15岁)",
    "pop_60plus": "aged 60+ (60岁及以上)",
    "via_gates": "residents entering by compound gates 经小区门进出的居民",
    "points": "resident points 居民点",
}


class Demand:
    """Residents as weighted points on a pedestrian network (immutable).

    Build one with a loader (:func:`from_buildings`, :func:`from_osm_file`, ...).

    Attributes
    ----------
    points : GeoDataFrame
        One row per resident point, labelled as in the source, in the network CRS: columns
        ``population`` (residents), ``households`` (= population / household size, in
        households), ``pop_0_3``, ``pop_3_6``, ``pop_6_12``, ``pop_12_15``, ``pop_60plus``
        (residents of each age band), the snap columns of
        :meth:`~embedsite.network.PedestrianNetwork.snap` (``edge``, ``u``, ``v``,
        ``position_m``, ``to_u_m``, ``to_v_m``, ``access_m``), ``entry`` ("street" or
        "gate"), ``gate_id`` (the gate label or None), ``source`` and the resident point as
        ``geometry``.
    report : DemandReport
        What the loader did.

    Examples
    --------
    >>> import embedsite.network as en, embedsite.demand as ed
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> d = ed.from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> d.total > 1000 and d.points.crs == net.crs
    True
    >>> bool(abs(d.population("all").sum() - d.total) < 1e-6)
    True
    """

    def __init__(self, points: gpd.GeoDataFrame, report: DemandReport) -> None:
        self._points = points
        self._report = report

    @property
    def points(self) -> gpd.GeoDataFrame:
        """The resident points (a copy; see the class docstring for columns)."""
        return self._points.copy()

    @property
    def report(self) -> DemandReport:
        """What the loader read, filled and dropped."""
        return self._report

    @property
    def total(self) -> float:
        """Residents on the network (snapped), all ages."""
        return float(self._points["population"].sum())

    @property
    def households(self) -> float:
        """Households on the network (residents / household size)."""
        return float(self._points["households"].sum())

    def __len__(self) -> int:
        return len(self._points)

    def __repr__(self) -> str:
        return (
            f"<Demand: {self.total:,.0f} residents at {len(self):,} points from "
            f"{self._report.source!r}>"
        )

    def population(self, age_group: str = "all") -> pd.Series:
        """Residents of one age group at each point.

        Parameters
        ----------
        age_group
            One of :data:`embedsite.standards.AGE_GROUPS`: "0-3", "3-6", "6-12", "12-15",
            "60+" or "all".

        Examples
        --------
        >>> import embedsite.network as en, embedsite.demand as ed
        >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
        >>> d = ed.from_osm_file("data/sample/helsinki.osm.pbf", net)
        >>> bool((d.population("60+") < d.population("all")).all())
        True
        """
        if age_group == "all":
            return self._points["population"].copy()
        if age_group not in BAND_COLUMNS:
            valid = ", ".join(repr(a) for a in (*AGE_BANDS, "all"))
            raise InputError(
                f"unknown age group {age_group!r}; valid ones: {valid}"
                f"{_b.did_you_mean(age_group, (*AGE_BANDS, 'all'))}"
            )
        return self._points[BAND_COLUMNS[age_group]].copy()

    def summary(self) -> pd.DataFrame:
        """Totals with Chinese and English labels: ``value`` and ``share`` of residents.

        Examples
        --------
        >>> import embedsite.network as en, embedsite.demand as ed
        >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
        >>> s = ed.from_osm_file("data/sample/helsinki.osm.pbf", net).summary()
        >>> float(s.loc["aged 60+ (60岁及以上)", "share"])
        0.187
        """
        p = self._points
        total = self.total
        values = {
            c: float(p[c].sum()) for c in ("population", "households", *BAND_COLUMNS.values())
        }
        values["hundreds_of_households"] = values["households"] / 100.0
        values["via_gates"] = float(p.loc[p["entry"] == "gate", "population"].sum())
        values["points"] = float(len(p))
        rows = list(_SUMMARY_ROWS)
        value = [values[k] for k in rows]
        share = [
            values[k] / total if total > 0 and k.startswith(("pop", "via")) else np.nan
            for k in rows
        ]
        out = pd.DataFrame(
            {"value": value, "share": np.round(share, 6)},
            index=pd.Index([_SUMMARY_ROWS[k] for k in rows], name="item 项目"),
        )
        return out


# --------------------------------------------------------------------------- assembling
def _assemble(
    source: str,
    rule: str,
    labels: pd.Index,
    geoms: np.ndarray,
    population: np.ndarray,
    shares: np.ndarray,
    network: PedestrianNetwork,
    acc: _b.Access,
    *,
    household_size: float,
    profile: _b.AgeProfile,
    population_in: float,
    **report: Any,
) -> Demand:
    """Snap resident points (metric, network CRS) and build the :class:`Demand`."""
    if len(geoms) == 0:
        raise EmptyInputError(
            f"{source}: no residents found ({report.get('rows_in', 0)} rows read); check the "
            "residential filter, the population column or the extent of the data"
        )
    notes = list(report.pop("notes", ()))
    gate_of = np.full(len(geoms), -1, dtype=np.int64)
    inside_m = np.zeros(len(geoms))
    extra: dict[str, Any] = {}
    if acc.compounds is not None:
        comp, g, c, gsnap, gnotes = _b.gate_pairs(acc, network)
        notes += gnotes
        where = _b.containing(geoms, comp)
        gpts = _b.metric(acc.gates, network) if acc.gates is not None else np.empty(0, object)
        pair, inside_m = _b.nearest_gate(where, geoms, c, gpts[g])
        gate_of = np.where(pair >= 0, g[np.maximum(pair, 0)], -1) if len(g) else gate_of
        extra = {
            "compounds": len(comp),
            "compounds_with_gates": len(np.unique(c)),
            "gates_found": len(np.unique(g)),
            "gates_snapped": len(gsnap),
        }
    via = gate_of >= 0
    street = gpd.GeoSeries(geoms[~via], index=labels[~via], crs=network.crs)
    if len(street):
        snapped = network.snap(street, max_distance=acc.max_distance, on_far=acc.on_far)
        snap_cols = pd.DataFrame(snapped[_SNAP]).reindex(labels)
    else:
        snap_cols = pd.DataFrame(np.nan, index=labels, columns=_SNAP)
    gate_id = np.full(len(geoms), None, dtype=object)
    if via.any():
        assert acc.gates is not None
        gs = pd.DataFrame(gsnap[_SNAP]).loc[gate_of[via]]
        gs["access_m"] = gs["access_m"].to_numpy() + inside_m[via] * acc.detour_factor
        snap_cols.loc[labels[via], _SNAP] = gs.to_numpy()
        gate_id[via] = acc.gates.index.to_numpy()[gate_of[via]]
    kept = snap_cols["edge"].notna().to_numpy()
    for col in ("edge", "u", "v"):
        snap_cols[col] = snap_cols[col].astype(np.int64 if kept.all() else "Int64")
    dropped = tuple(labels[~kept].tolist())
    bands = population[:, None] * shares
    frame = pd.DataFrame(
        {"population": population, "households": population / household_size},
        index=labels,
    )
    for j, col in enumerate(BAND_COLUMNS.values()):
        frame[col] = bands[:, j]
    frame = pd.concat([frame, snap_cols], axis=1)
    frame["entry"] = np.where(via, "gate", "street")
    frame["gate_id"] = gate_id
    frame["source"] = source
    points = gpd.GeoDataFrame(frame, geometry=geoms, crs=network.crs)[kept]
    for col in ("edge", "u", "v"):
        points[col] = points[col].astype(np.int64)
    pop_dropped = float(population[~kept].sum())
    rep = DemandReport(
        source=source,
        rule=rule,
        points=len(geoms),
        points_snapped=int(kept.sum()),
        population_in=population_in,
        population_snapped=float(population[kept].sum()),
        population_dropped=pop_dropped,
        dropped_rows=dropped,
        household_size=household_size,
        age_profile=profile.name,
        points_via_gates=int((via & kept).sum()),
        population_via_gates=float(population[via & kept].sum()),
        notes=tuple(notes),
        **extra,
        **report,
    )
    if dropped:
        log.warning(
            "%s: %d resident points (%.0f residents) dropped as farther than %g m from streets",
            source,
            len(dropped),
            pop_dropped,
            acc.max_distance,
        )
    return Demand(points, rep)


# --------------------------------------------------------------------------- loaders
def from_buildings(
    buildings: gpd.GeoDataFrame,
    network: PedestrianNetwork,
    *,
    population: str | None = None,
    dwellings: str | None = None,
    levels: str | None = "building:levels",
    building_column: str = "building",
    residential: Collection[str] | None = RESIDENTIAL_BUILDINGS,
    residential_in_compounds: Collection[str] = ("yes",),
    floor_area_per_person_m2: float = 36.5,
    household_size: float = HOUSEHOLD_SIZE,
    default_levels: Mapping[str, float] | float | None = None,
    age_profile: str | Mapping[str, float] | None = None,
    age_columns: Mapping[str, str] | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    gate_compound_column: str = "compound",
    gate_tolerance_m: float = 5.0,
    detour_factor: float = 1.0,
    max_distance: float = 500.0,
    on_far: OnFar = "raise",
) -> Demand:
    """Residents of buildings, one point per building (its representative point).

    Residents per building, by the first rule that applies:

    1. ``population`` column: taken as given (every row counts);
    2. ``dwellings`` column: dwellings x ``household_size`` (every row counts);
    3. otherwise footprint area (m², in the network's metric CRS) x levels /
       ``floor_area_per_person_m2``, for residential buildings only: ``building`` in
       ``residential``, or in ``residential_in_compounds`` (default "yes") inside one of
       ``compounds``. ``residential=None`` counts every building. Missing or unusable
       ``levels`` are filled from ``default_levels`` (default :data:`DEFAULT_LEVELS`: by
       ``building`` value, then ``"*"``; or one number) and counted in the report.

    Parameters
    ----------
    buildings
        Polygons (points too with ``population``/``dwellings``) in any CRS; the index labels
        the resident points.
    network
        The pedestrian network; points are returned in its CRS.
    floor_area_per_person_m2, household_size
        See the module docstring for the defaults and their sources.
    age_profile, age_columns
        Shares by age band (a profile name in ``data/age_profiles.csv``, default
        "china_2020", or a mapping ``{"0-3": 0.03, ...}``), or columns of residents by band
        (``{"60+": "elderly"}``; other bands from the profile).
    compounds, gates, gate_compound_column, gate_tolerance_m, detour_factor
        Gated compounds (小区): see the module docstring.
    max_distance, on_far
        Residents farther than ``max_distance`` m from every street raise
        :class:`~embedsite.errors.FarFromNetworkError`, or with ``on_far="drop"`` are left
        out and listed in ``report.dropped_rows``.

    Examples
    --------
    >>> import embedsite.network as en, embedsite.demand as ed
    >>> from embedsite._osmfeatures import read_features
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> b = read_features("data/sample/helsinki.osm.pbf", ["building"],
    ...                   tags=["building", "building:levels"], nodes=False)
    >>> d = ed.from_buildings(b, net, residential=["apartments"])
    >>> d.report.rows_used == len(d) and d.report.levels_filled < d.report.rows_used
    True
    """
    b = _b.check_layer(
        buildings, name="buildings", kinds=("Polygon", "MultiPolygon", "Point", "MultiPoint")
    )
    size = _b.positive(household_size, "household_size", low=1.0 - 1e-9, high=6.0)
    acc = _b.access(
        compounds, gates, gate_compound_column, gate_tolerance_m, detour_factor, max_distance,
        on_far,
    )  # fmt: skip
    geoms = _b.metric(b, network)
    extra: dict[str, Any] = {}
    if population is not None and dwellings is not None:
        raise InputError("give population= or dwellings=, not both")
    if population is not None or dwellings is not None:
        column = population if population is not None else dwellings
        assert column is not None
        _b.require_column(b, column, name="buildings", argument="population" if population
                          is not None else "dwellings")  # fmt: skip
        pop = _b.check_population(b[column], name="buildings", column=column)
        if dwellings is not None:
            pop = pop * size
        rule = f"column {column!r}" if population is not None else f"dwellings x {size:g}"
        keep = np.ones(len(b), dtype=bool)
    else:
        fa = _b.positive(floor_area_per_person_m2, "floor_area_per_person_m2", low=5, high=200)
        if not np.isin(shapely.get_type_id(geoms), (3, 6)).all():
            raise InputError(
                "buildings must be polygons to count residents by floor area; for points "
                "pass population= or dwellings="
            )
        comp = _b.metric(acc.compounds, network) if acc.compounds is not None else None
        keep, area, extra = _b.floor_area(
            b, geoms, comp, levels=levels, building_column=building_column,
            default_levels=default_levels, residential=residential,
            residential_in_compounds=residential_in_compounds,
        )  # fmt: skip
        pop = area / fa
        rule = f"floor area / {fa:g} m² per person"
        extra["floor_area_per_person_m2"] = fa
    shares, profile = _b.profile_shares(b, pop, age_columns, age_profile, "buildings")
    pts = shapely.point_on_surface(geoms[keep])
    return _assemble(
        "buildings", rule, b.index[keep], pts, pop[keep], shares[keep], network, acc,
        household_size=size, profile=profile, population_in=float(pop[keep].sum()),
        rows_in=len(b), rows_used=int(keep.sum()), **extra,
    )  # fmt: skip


def from_osm_file(
    path: str | Path,
    network: PedestrianNetwork,
    *,
    polygon: shapely.Polygon | shapely.MultiPolygon | gpd.GeoDataFrame | None = None,
    **kw: Any,
) -> Demand:
    """Residents of the residential buildings of an OSM file (XML or PBF).

    Reads buildings (with ``building:levels``), landuse=residential compounds and gate nodes
    (``barrier`` in :data:`GATE_BARRIERS`, or ``entrance`` in yes/main/service/secondary)
    and calls :func:`from_buildings`. Labels are ``"way/<id>"``, ``"relation/<id>"`` and
    ``"node/<id>"``. ``compounds=``/``gates=`` in ``kw`` replace the ones read; other
    keywords go to :func:`from_buildings`. With ``polygon`` (WGS-84 shapely geometry or a
    GeoDataFrame, e.g. the area a network was cut at with
    :func:`embedsite.network.from_osm_file`), only the features that intersect it are read:
    the rest of the file is outside the study area, not far from its streets.

    Examples
    --------
    >>> import embedsite.network as en, embedsite.demand as ed
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> d = ed.from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> d.report.source, d.report.levels_filled + d.report.levels_given == d.report.rows_used
    ('buildings', True)
    """
    clip = clip_geometry(polygon, None)
    tags = ["building", "building:levels", "building:flats", "name"]
    b = read_features(path, ["building"], tags=tags, nodes=False, area=clip)
    if len(b) == 0:
        where = "" if clip is None else " inside the polygon"
        raise EmptyInputError(
            f"{str(path)!r} holds no buildings{where}; residents cannot be placed"
        )
    b.index = pd.Index(_b.osm_labels(b), name="osm")
    if "compounds" not in kw:
        lu = read_features(path, ["landuse"], tags=["landuse", "name"], nodes=False, area=clip)
        lu = lu[lu["landuse"] == "residential"]
        lu.index = pd.Index(_b.osm_labels(lu), name="osm")
        kw["compounds"] = lu if len(lu) else None
    if "gates" not in kw and kw["compounds"] is not None:
        g = read_features(path, ["barrier", "entrance"], areas=False, area=clip)
        g = g[g["barrier"].isin(GATE_BARRIERS) | g["entrance"].isin(_ENTRANCES)]
        g.index = pd.Index(_b.osm_labels(g), name="osm")
        kw["gates"] = g if len(g) else None
    demand = from_buildings(b, network, **kw)
    cut = b.attrs.get("incomplete_areas", ())
    if not cut:
        return demand
    note = (
        f"{len(cut)} buildings could not be read (a node outside the extract or a broken "
        f"ring: {', '.join(cut[:3])}{', ...' if len(cut) > 3 else ''}); residents of any "
        "of them are missing: extract a larger area around the study area"
    )
    return Demand(demand.points, replace(demand.report, notes=(*demand.report.notes, note)))


def from_polygons(
    polygons: gpd.GeoDataFrame,
    network: PedestrianNetwork,
    *,
    population_column: str,
    buildings: gpd.GeoDataFrame | None = None,
    levels: str | None = "building:levels",
    building_column: str = "building",
    residential: Collection[str] | None = RESIDENTIAL_BUILDINGS,
    default_levels: Mapping[str, float] | float | None = None,
    grid_spacing_m: float = 50.0,
    household_size: float = HOUSEHOLD_SIZE,
    age_profile: str | Mapping[str, float] | None = None,
    age_columns: Mapping[str, str] | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    gate_compound_column: str = "compound",
    gate_tolerance_m: float = 5.0,
    detour_factor: float = 1.0,
    max_distance: float = 500.0,
    on_far: OnFar = "raise",
) -> Demand:
    """Residents of compounds or neighbourhoods, spread over their buildings or area.

    Each polygon's ``population_column`` is spread (dasymetric) over the buildings whose
    representative point lies in it, in proportion to floor area (footprint x levels, filled
    as in :func:`from_buildings`; ``building=yes`` counts as residential inside the
    polygons). A polygon without such buildings, or every polygon when ``buildings`` is None,
    is spread evenly over a regular grid of points ``grid_spacing_m`` apart (cell centres
    inside it; its representative point when it is smaller than a cell). Each polygon's
    total is kept exactly; points are labelled ``"<polygon>/<k>"`` (grid) or by building.
    Age columns of the polygons are spread with the residents.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> import embedsite.network as en, embedsite.demand as ed
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> poly = gpd.GeoDataFrame({"pop": [1200.0]}, index=["block"], crs=4326,
    ...     geometry=[shapely.box(24.935, 60.165, 24.945, 60.170)])
    >>> d = ed.from_polygons(poly, net, population_column="pop")
    >>> round(d.total, 6), len(d) > 20
    (1200.0, True)
    """
    polys = _b.check_layer(polygons, name="polygons", kinds=("Polygon", "MultiPolygon"))
    _b.require_column(polys, population_column, name="polygons", argument="population_column")
    totals = _b.check_population(polys[population_column], name="polygons",
                                 column=population_column)  # fmt: skip
    size = _b.positive(household_size, "household_size", low=1.0 - 1e-9, high=6.0)
    spacing = _b.positive(grid_spacing_m, "grid_spacing_m", low=1.0, high=5000.0)
    acc = _b.access(
        compounds, gates, gate_compound_column, gate_tolerance_m, detour_factor, max_distance,
        on_far,
    )  # fmt: skip
    shares_p, profile = _b.profile_shares(polys, totals, age_columns, age_profile, "polygons")
    pgeoms = _b.metric(polys, network)
    labels: list[Any] = []
    parts_pt, parts_pop, parts_share = [], [], []
    extra: dict[str, Any] = {}
    covered = np.zeros(len(polys), dtype=bool)
    if buildings is not None:
        b = _b.check_layer(buildings, name="buildings", kinds=("Polygon", "MultiPolygon"))
        bgeoms = _b.metric(b, network)
        keep, area, extra = _b.floor_area(
            b, bgeoms, pgeoms, levels=levels, building_column=building_column,
            default_levels=default_levels, residential=residential,
            residential_in_compounds=("yes",),
        )  # fmt: skip
        bpts = shapely.point_on_surface(bgeoms)
        owner = np.where(keep, _b.containing(bpts, pgeoms), -1)
        inb = owner >= 0
        covered[np.unique(owner[inb])] = True
        take = inb & covered[np.maximum(owner, 0)]
        pop = _b.spread(area[take], owner[take], np.where(covered, totals, 0.0))
        labels += b.index[take].tolist()
        parts_pt.append(bpts[take])
        parts_pop.append(pop)
        parts_share.append(shares_p[owner[take]])
        extra["notes"] = [*extra.get("notes", []), f"{int(covered.sum())} polygons had buildings"]
    rest = np.flatnonzero(~covered)
    if len(rest):
        owner_g, gpts = _b.grid_points(pgeoms[rest], spacing)
        poly_pos = rest[owner_g]
        pop = _b.spread(np.ones(len(gpts)), owner_g, totals[rest])
        k = pd.Series(owner_g).groupby(owner_g).cumcount().to_numpy()
        plabels = polys.index.to_numpy()[poly_pos]
        labels += [f"{p}/{i}" for p, i in zip(plabels.tolist(), k.tolist(), strict=True)]
        parts_pt.append(gpts)
        parts_pop.append(pop)
        parts_share.append(shares_p[poly_pos])
    return _assemble(
        "polygons", "dasymetric (floor area)" if buildings is not None else "grid",
        pd.Index(labels), np.concatenate(parts_pt), np.concatenate(parts_pop),
        np.concatenate(parts_share), network, acc, household_size=size, profile=profile,
        population_in=float(totals.sum()), rows_in=len(polys), rows_used=len(polys), **extra,
    )  # fmt: skip


def from_raster(
    path: str | Path,
    network: PedestrianNetwork,
    *,
    buildings: gpd.GeoDataFrame | None,
    band: int = 1,
    levels: str | None = "building:levels",
    building_column: str = "building",
    residential: Collection[str] | None = None,
    default_levels: Mapping[str, float] | float | None = None,
    household_size: float = HOUSEHOLD_SIZE,
    age_profile: str | Mapping[str, float] | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    gate_compound_column: str = "compound",
    gate_tolerance_m: float = 5.0,
    detour_factor: float = 1.0,
    max_distance: float = 500.0,
    on_far: OnFar = "raise",
) -> Demand:
    """Residents of a population raster (WorldPop-style GeoTIFF of persons per cell).

    Each cell's people are spread over the buildings whose representative point falls in
    it, by floor area (``residential=None`` by default: the raster already says where people
    live); a cell without buildings keeps its people at the cell centre (label
    ``"cell/<row>_<col>"``). Nodata cells count as empty; only cells with people make
    points. Buildings outside the raster get no one.

    Examples
    --------
    >>> import tempfile, numpy as np, rasterio
    >>> from affine import Affine
    >>> import embedsite.network as en, embedsite.demand as ed
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> path = tempfile.mkdtemp() + "/pop.tif"
    >>> with rasterio.open(path, "w", driver="GTiff", height=2, width=2, count=1,
    ...                    dtype="float32", crs="EPSG:4326",
    ...                    transform=Affine(0.005, 0, 24.935, 0, -0.0025, 60.17)) as dst:
    ...     dst.write(np.array([[100, 0], [50, 25]], dtype="float32"), 1)
    >>> d = ed.from_raster(path, net, buildings=None)
    >>> d.total, len(d)
    (175.0, 3)
    """
    try:
        import rasterio
        from rasterio.transform import rowcol, xy
    except ImportError as exc:  # pragma: no cover - rasterio is the [raster] extra
        raise ImportError("from_raster needs rasterio: pip install 'embedsite[raster]'") from exc
    size = _b.positive(household_size, "household_size", low=1.0 - 1e-9, high=6.0)
    acc = _b.access(
        compounds, gates, gate_compound_column, gate_tolerance_m, detour_factor, max_distance,
        on_far,
    )  # fmt: skip
    p = Path(path)
    if not p.is_file():
        raise DataFileError(f"population raster {str(p)!r} does not exist")
    try:
        with rasterio.open(p) as src:
            if not 1 <= band <= src.count:
                raise InputError(f"band={band} is out of range; {p.name} has {src.count} band(s)")
            data = src.read(band, masked=True)
            transform, rcrs = src.transform, src.crs
    except rasterio.errors.RasterioIOError as exc:
        raise DataFileError(f"cannot read population raster {str(p)!r}: {exc}") from exc
    if rcrs is None:
        raise CRSError(f"population raster {p.name} has no CRS; WorldPop rasters are EPSG:4326")
    values = np.ma.filled(data.astype(float), 0.0)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        r, c = np.nonzero(bad)
        cells = ", ".join(
            f"(row {i}, col {j}): {values[i, j]}" for i, j in zip(r[:5], c[:5], strict=True)
        )
        raise PopulationError(
            f"population raster {p.name} has {int(bad.sum())} cells that are NaN, infinite or "
            f"negative and not nodata: {cells}; set the file's nodata value or fix the cells"
        )
    height, width = values.shape
    cell_pop = values.ravel()
    labels: list[Any] = []
    parts_pt, parts_pop = [], []
    covered = np.zeros(cell_pop.size, dtype=bool)
    extra: dict[str, Any] = {"notes": []}
    if buildings is not None:
        b = _b.check_layer(buildings, name="buildings", kinds=("Polygon", "MultiPolygon"))
        bgeoms = _b.metric(b, network)
        keep, area, extra = _b.floor_area(
            b, bgeoms, None, levels=levels, building_column=building_column,
            default_levels=default_levels, residential=residential, residential_in_compounds=(),
        )  # fmt: skip
        bpts = shapely.point_on_surface(bgeoms)
        rpts = gpd.GeoSeries(bpts, crs=network.crs).to_crs(rcrs)
        rows, cols = rowcol(transform, rpts.x.to_numpy(), rpts.y.to_numpy())
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        inr = keep & (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        cell = np.where(inr, rows * width + cols, -1)
        take = inr & (cell_pop[np.maximum(cell, 0)] > 0)
        covered[cell[take]] = True
        pop = _b.spread(area[take], cell[take], cell_pop)
        empty_n, out_n = int(inr.sum() - take.sum()), int((keep & ~inr).sum())
        extra["notes"] = [
            *extra["notes"],
            f"{empty_n} buildings in empty cells and {out_n} outside the raster got no one",
        ]
        labels += b.index[take].tolist()
        parts_pt.append(bpts[take])
        parts_pop.append(pop)
    rest = np.flatnonzero((cell_pop > 0) & ~covered)
    r, c = rest // width, rest % width
    xs, ys = xy(transform, r, c, offset="center")
    centres = gpd.GeoSeries(gpd.points_from_xy(np.ravel(xs), np.ravel(ys)), crs=rcrs)
    labels += _b.cell_labels(r, c)
    parts_pt.append(np.asarray(centres.to_crs(network.crs).array))
    parts_pop.append(cell_pop[rest])
    pop_all = np.concatenate(parts_pop)
    profile = _b.resolve_profile(age_profile)
    shares = np.tile(np.asarray(profile.shares), (len(pop_all), 1))
    return _assemble(
        "raster", "raster cells spread by floor area", pd.Index(labels),
        np.concatenate(parts_pt), pop_all, shares, network, acc, household_size=size,
        profile=profile, population_in=float(cell_pop.sum()),
        rows_in=int(cell_pop.size), rows_used=int((cell_pop > 0).sum()), **extra,
    )  # fmt: skip


def from_points(
    table: pd.DataFrame | gpd.GeoDataFrame | str | Path,
    network: PedestrianNetwork,
    *,
    population_column: str,
    lon: str | None = None,
    lat: str | None = None,
    coordinate_system: CoordinateSystem = "wgs84",
    id_column: str | None = None,
    household_size: float = HOUSEHOLD_SIZE,
    age_profile: str | Mapping[str, float] | None = None,
    age_columns: Mapping[str, str] | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    gate_compound_column: str = "compound",
    gate_tolerance_m: float = 5.0,
    detour_factor: float = 1.0,
    max_distance: float = 500.0,
    on_far: OnFar = "raise",
) -> Demand:
    """Residents at points of a table: a CSV path, a DataFrame with lon/lat, or points.

    Lon/lat columns are found by name (lon/lng/longitude/x/经度, lat/latitude/y/纬度)
    unless named; they are converted from ``coordinate_system`` ("wgs84", "gcj02" for
    Amap/Tencent, "bd09" for Baidu) to WGS-84. A GeoDataFrame of points in a geographic CRS
    is converted the same way. Rows are labelled by ``id_column`` or the table's index.

    Examples
    --------
    >>> import pandas as pd
    >>> import embedsite.network as en, embedsite.demand as ed
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> t = pd.DataFrame({"lon": [24.94, 24.95], "lat": [60.17, 60.17], "people": [30, 12]})
    >>> d = ed.from_points(t, net, population_column="people")
    >>> d.total, list(d.points["entry"])
    (42.0, ['street', 'street'])
    """
    system = coordinate_system
    if isinstance(table, str | Path):
        try:
            table = pd.read_csv(table)
        except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataFileError(f"cannot read the table {str(table)!r}: {exc}") from exc
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"table must be a DataFrame, GeoDataFrame or CSV path, not {table!r}")
    if len(table) == 0:
        raise EmptyInputError("the table of resident points is empty (0 rows)")
    if id_column is not None:
        _b.require_column(table, id_column, name="table", argument="id_column")
        table = table.set_index(id_column)
    if isinstance(table, gpd.GeoDataFrame):
        pts = _b.check_layer(table, name="table", kinds=("Point",))
        network.check_coordinate_system(pts, declared=system)
        if system != "wgs84":
            pts = to_wgs84(pts, source=system)
    else:
        lon = lon or _b.find_column(table, ("lon", "lng", "longitude", "x", "经度"), "lon")
        lat = lat or _b.find_column(table, ("lat", "latitude", "y", "纬度"), "lat")
        for col, arg in ((lon, "lon"), (lat, "lat")):
            _b.require_column(table, col, name="table", argument=arg)
        xy_ = table[[lon, lat]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        if not np.isfinite(xy_).all():
            bad = table.index[~np.isfinite(xy_).all(axis=1)][:5].tolist()
            raise InputError(f"rows {bad} have missing or non-numeric {lon}/{lat}; fix or drop")
        check_lonlat(xy_, name="table")
        pts = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(xy_[:, 0], xy_[:, 1]),
                               crs="EPSG:4326")  # fmt: skip
        pts = _b.check_layer(pts, name="table", kinds=("Point",))
        network.check_coordinate_system(pts, declared=system)
        if system != "wgs84":
            pts = to_wgs84(pts, source=system)
    _b.require_column(pts, population_column, name="table", argument="population_column")
    pop = _b.check_population(pts[population_column], name="table", column=population_column)
    size = _b.positive(household_size, "household_size", low=1.0 - 1e-9, high=6.0)
    acc = _b.access(
        compounds, gates, gate_compound_column, gate_tolerance_m, detour_factor, max_distance,
        on_far,
    )  # fmt: skip
    shares, profile = _b.profile_shares(pts, pop, age_columns, age_profile, "table")
    return _assemble(
        "points", f"column {population_column!r}", pts.index, _b.metric(pts, network), pop,
        shares, network, acc, household_size=size, profile=profile,
        population_in=float(pop.sum()), rows_in=len(pts), rows_used=len(pts),
    )  # fmt: skip

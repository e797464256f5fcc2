"""Stage 5: score every neighbourhood against the norms, before and after a plan.

:func:`score` turns a :class:`~embedsite.coverage.Coverage` into one row per neighbourhood
polygon (社区/街道 boundaries, any user layer, or a hexagon grid from :func:`hex_grid`): for
each facility type the residents served, covered and uncovered, the mean and 90th-percentile
walk, a pass/fail against the type's walk-radius norm with the clause it comes from; the
community service floor area per 100 households against the 30 / 80 m² norm; and a composite
score from 0 (nobody covered, no floor area) to 100 (everybody covered, the target area met).

The composite score is a weighted mean of components, each between 0 and 1:

* per facility type ``k``: the share of the served age group within the walk radius;
* ``"area_norm"``: ``min(m² per 100 households / target, 1)`` (target 80 m² by default).

Weights default to 1 for every analysed type and for ``"area_norm"``; pass ``weights=`` to
change them (a type left out weighs 0). A component that is undefined in a neighbourhood
(nobody of the served age lives there, or no households) is left out and the remaining
weights are renormalised, so a neighbourhood is never punished for having no children.

Batch runs over many partitions (districts of a city, several OSM files) are in
:mod:`embedsite.batch`.

Examples
--------
>>> import embedsite.network as en, embedsite.demand as ed, embedsite.facilities as ef
>>> from embedsite import coverage, scoring
>>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
>>> homes = ed.from_osm_file("data/sample/helsinki.osm.pbf", net, on_far="drop")
>>> supply = ef.from_osm_file("data/sample/helsinki.osm.pbf", net)
>>> cov = coverage.compute(net, homes, supply, types=["community_health_station", "nursery"])
>>> table = scoring.score(None, cov)
>>> bool(table["score"].between(0, 100).all()), int(table["rank"].iloc[0])
(True, 1)
>>> bool(abs(table["population"].sum() - homes.total) < 1e-6)
True
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from embedsite import _aggregate as _agg
from embedsite.coverage import Coverage, community_space_types, compute
from embedsite.errors import CRSError, EmptyInputError, InputError, MissingColumnError
from embedsite.facilities import POINT_COLUMNS, SNAP_COLUMNS, Facilities
from embedsite.standards import Standards

__all__ = ["HEX_SIZE_M", "METRICS", "hex_grid", "norms", "plan_sites", "score", "with_plan"]

log = logging.getLogger(__name__)

#: Side length (= circumradius) of the default hexagon cell in metres: a cell is about
#: 0.65 km², a little smaller than a typical Chinese 社区 (0.5-2 km²).
HEX_SIZE_M: float = 500.0
#: Per-type columns of :func:`score`, as ``"<type>.<metric>"``.
METRICS: tuple[str, ...] = (
    "served", "covered", "uncovered", "share_covered", "mean_walk_m", "p90_walk_m", "pass",
)  # fmt: skip


# --------------------------------------------------------------------------- hexagon grid
def hex_grid(
    extent: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    size_m: float = HEX_SIZE_M,
    only_occupied: bool = False,
) -> gpd.GeoDataFrame:
    """A grid of pointy-top hexagons covering ``extent`` (in its projected CRS).

    Parameters
    ----------
    extent
        Geometries in a projected CRS in metres (e.g. ``demand.points``); the grid covers
        their bounding box.
    size_m
        Side length of a hexagon (= distance from its centre to a corner), metres. A cell's
        area is ``3 * sqrt(3) / 2 * size_m**2`` (500 m: 0.65 km²).
    only_occupied
        Keep only the cells that contain (or touch) a geometry of ``extent``.

    Returns
    -------
    GeoDataFrame
        Indexed by ``"hex_<column>_<row>"`` labels, with ``name`` (the same label), in the
        CRS of ``extent``. The lattice is fixed in the CRS (cell centres at multiples of the
        spacing), so two extents in the same CRS get the same cells and labels.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts = gpd.GeoSeries([shapely.Point(0, 0), shapely.Point(2000, 1000)], crs=32650)
    >>> grid = hex_grid(pts, size_m=500)
    >>> round(float(grid.area.iloc[0]) / 1e6, 4)
    0.6495
    >>> bool(shapely.box(0, 0, 2000, 1000).difference(grid.union_all()).area < 1e-6)
    True
    >>> len(hex_grid(pts, size_m=500, only_occupied=True))
    2
    """
    crs = extent.crs
    if crs is None:
        raise CRSError("the extent has no CRS; set it with .set_crs(...)")
    if not crs.is_projected:
        raise CRSError(
            f"hex_grid needs a projected CRS in metres, not {crs.to_string()}; reproject the "
            "extent first (e.g. to the network's CRS: gdf.to_crs(net.crs))"
        )
    if not (np.isfinite(size_m) and size_m > 0):
        raise InputError(f"size_m must be a positive number of metres, not {size_m!r}")
    if len(extent) == 0:
        raise EmptyInputError("the extent is empty; there is nothing to cover with hexagons")
    minx, miny, maxx, maxy = extent.total_bounds
    w = np.sqrt(3.0) * size_m  # width across flats: column spacing
    h = 1.5 * size_m  # row spacing
    # a lattice fixed in the CRS (centres at multiples of the spacing), so cells and labels
    # are the same whatever the extent: partitions of a city share them. One spare column
    # and row on each side, so a point on the bounding box lies inside a cell.
    cols = np.arange(int(np.floor(minx / w)) - 1, int(np.ceil(maxx / w)) + 2)
    rows = np.arange(int(np.floor(miny / h)) - 1, int(np.ceil(maxy / h)) + 2)
    grid_c, grid_r = np.meshgrid(cols, rows)
    cc, rr = grid_c.ravel(), grid_r.ravel()
    cx = cc * w + (rr % 2) * w / 2.0
    cy = rr * h
    angles = np.deg2rad(90.0 + 60.0 * np.arange(7))
    ring = np.stack(
        [cx[:, None] + size_m * np.cos(angles), cy[:, None] + size_m * np.sin(angles)], axis=-1
    )
    polys = shapely.polygons(ring)
    labels = pd.Index([f"hex_{c}_{r}" for c, r in zip(cc, rr, strict=True)], name="cell")
    grid = gpd.GeoDataFrame({"name": labels.to_numpy()}, geometry=polys, index=labels, crs=crs)
    # drop cells outside the bounding box altogether
    keep = shapely.intersects(polys, shapely.box(*extent.total_bounds))
    if only_occupied:
        tree = shapely.STRtree(polys)
        hit = np.unique(tree.query(extent.geometry.to_numpy(), predicate="intersects")[1])
        occupied = np.zeros(len(polys), dtype=bool)
        occupied[hit] = True
        keep &= occupied
    return grid[keep]


# --------------------------------------------------------------------------- the plan
def plan_sites(plan: Any) -> gpd.GeoDataFrame:
    """The new sites of a plan as one GeoDataFrame with ``facility_type``.

    ``plan`` is a GeoDataFrame of new sites (returned as is), a siting result
    (:class:`~embedsite.siting.SitingResult` or
    :class:`~embedsite.siting.CompositeResult`: their ``new_sites()``), or a list of
    these (one plan per facility type, say), concatenated.

    Examples
    --------
    >>> import numpy as np
    >>> from embedsite.siting import MCLP
    >>> res = MCLP.from_cost_matrix(np.array([[100.0, 900.0]]), radius=300, p=1).solve()
    >>> plan_sites([res, res]).shape[0]
    2
    """
    if isinstance(plan, gpd.GeoDataFrame):
        return plan
    if hasattr(plan, "new_sites"):
        out: gpd.GeoDataFrame = plan.new_sites()
        return out
    if isinstance(plan, list | tuple):
        if not plan:
            raise InputError("the plan is an empty list; pass at least one result or GeoDataFrame")
        parts = [plan_sites(p) for p in plan]
        crs = next((p.crs for p in parts if p.crs is not None), None)
        parts = [p.to_crs(crs) if p.crs is not None and crs is not None else p for p in parts]
        frame = pd.concat(parts, keys=range(len(parts)))
        frame.index = pd.Index([f"{k}:{i}" for k, i in frame.index], name="site")
        return gpd.GeoDataFrame(frame, geometry=parts[0].geometry.name, crs=crs)
    raise InputError(
        "the plan must be a GeoDataFrame of new sites, a siting result (SitingResult, "
        f"CompositeResult) or a list of them, not {type(plan).__name__}"
    )


def with_plan(coverage: Coverage, plan: Any, *, max_distance: float = 500.0) -> Coverage:
    """Coverage after adding the sites of a plan to the existing facilities.

    Parameters
    ----------
    coverage
        Coverage before the plan.
    plan
        New sites: a GeoDataFrame in any CRS with ``facility_type`` (key or Chinese name),
        optional ``floor_area_m2``, ``capacity`` and ``name`` columns, and point (or area)
        geometries, e.g. ``SitingResult.to_geodataframe()``.
    max_distance
        Largest distance from a site to a street (metres) before it is an error.

    Returns
    -------
    Coverage
        Recomputed on the same network, demand, standards, types and search limits.

    Examples
    --------
    >>> import embedsite.network as en, embedsite.demand as ed, embedsite.facilities as ef
    >>> import geopandas as gpd, shapely
    >>> from embedsite import coverage
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> homes = ed.from_osm_file("data/sample/helsinki.osm.pbf", net, on_far="drop")
    >>> supply = ef.from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> cov = coverage.compute(net, homes, supply, types=["kindergarten"])
    >>> home = homes.points.geometry.iloc[:1].to_crs(4326)  # a kindergarten at a home
    >>> plan = gpd.GeoDataFrame({"facility_type": ["幼儿园"]}, geometry=home.to_numpy(), crs=4326)
    >>> after = with_plan(cov, plan)
    >>> gain = after.by_type["covered"] - cov.by_type["covered"]
    >>> bool(gain["kindergarten"] > 0)
    True
    """
    facilities = _add_sites(coverage.facilities, plan, coverage, max_distance=max_distance)
    limits = coverage.max_walk_m
    defaults = pd.Series(
        {k: max(3 * coverage.standards[k].walk_radius_m, 2000.0) for k in coverage.types}
    )
    same_default = bool(np.allclose(limits.reindex(defaults.index), defaults))
    return compute(
        coverage.network, coverage.demand, facilities, coverage.standards,
        types=list(coverage.types), max_walk_m=None if same_default else float(limits.max()),
    )  # fmt: skip


def _add_sites(
    facilities: Facilities, plan: Any, coverage: Coverage, *, max_distance: float
) -> Facilities:
    """A new Facilities: the existing points plus the plan's sites, snapped (labels plan:...)."""
    plan = plan_sites(plan)
    if not isinstance(plan, gpd.GeoDataFrame):
        raise InputError(f"the plan must be a GeoDataFrame of new sites, not {type(plan).__name__}")
    if plan.crs is None:
        raise CRSError("the plan has no CRS; set it with .set_crs(...) (e.g. 4326 for lon/lat)")
    if "facility_type" not in plan.columns:
        raise MissingColumnError(
            f"the plan has no 'facility_type' column (columns: {list(plan.columns)}); it needs "
            "the type key or Chinese name of each new site"
        )
    net = coverage.network
    std = coverage.standards
    if len(plan) == 0:
        return facilities
    keys = np.array([std[str(t)].key for t in plan["facility_type"]], dtype=object)
    geoms = plan.geometry.to_crs(net.crs).to_numpy()
    pts = shapely.point_on_surface(geoms)
    labels = pd.Index([f"plan:{i}" for i in plan.index], name="facility")
    if labels.duplicated().any():
        raise InputError(
            f"the plan's index must be unique; repeated: {list(labels[labels.duplicated()][:5])}"
        )
    snapped = net.snap(
        gpd.GeoDataFrame(geometry=pts, index=labels, crs=net.crs),
        max_distance=max_distance, on_far="raise",
    )  # fmt: skip

    def column(name: str) -> np.ndarray:
        if name not in plan.columns:
            return np.full(len(plan), np.nan)
        return pd.to_numeric(plan[name], errors="coerce").to_numpy(float)

    capacity = column("capacity")
    units = np.array([std[k].capacity_unit or "places" for k in keys], dtype=object)
    names: Any = plan["name"].to_numpy(dtype=object) if "name" in plan.columns else None
    new = gpd.GeoDataFrame(
        {
            "facility_type": keys, "name": names, "matched_by": "user", "match_rule": "plan",
            "floor_area_m2": column("floor_area_m2"), "floor_area_estimated": False,
            "capacity": capacity,
            "capacity_unit": pd.Series(units).where(~np.isnan(capacity), None).to_numpy(),
            "source": "plan", "feature_id": labels.to_numpy(),
            **{c: snapped[c].to_numpy() for c in SNAP_COLUMNS},
        },
        geometry=pts, index=labels, crs=net.crs,
    )  # fmt: skip
    old = facilities.points
    clash = labels.intersection(old.index)
    if len(clash):
        raise InputError(f"plan labels clash with existing facilities: {list(clash[:5])}")
    points = gpd.GeoDataFrame(
        pd.concat([old, new[[*POINT_COLUMNS, "geometry"]]]), geometry="geometry", crs=net.crs
    )
    report = dataclasses.replace(
        facilities.report, source=f"{facilities.report.source}+plan", n_points=len(points)
    )
    return Facilities(points, facilities.unmatched, report, facilities.standards)


# --------------------------------------------------------------------------- aggregation
def norms(standards: Standards, types: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The norms :func:`score` checks, with their thresholds, clauses and confidence.

    One row per facility type (residents of the served age group within the walk radius)
    and two for the floor-area norm (minimum and target per 100 households).

    Examples
    --------
    >>> t = norms(Standards.default(), ["nursery"])
    >>> float(t.loc["nursery", "threshold"]), t.loc["nursery", "unit"]
    (300.0, 'walk radius m')
    >>> float(t.loc["area_norm.meets_min", "threshold"])
    30.0
    """
    rows: list[dict[str, Any]] = []
    for key in types:
        ft = standards[key]
        rows.append({"norm": key, "name_zh": ft.name_zh, "name_en": ft.name_en,
                     "threshold": ft.walk_radius_m, "unit": "walk radius m",
                     "column": f"{key}.pass", "source": ft.source, "confidence": ft.confidence,
                     "is_default": ft.is_default})  # fmt: skip
        if ft.capacity_per_1000 is not None:
            basis = "residents" if ft.capacity_norm_basis == "all" else ft.capacity_norm_basis
            rows.append({"norm": f"{key}.meets_capacity", "name_zh": ft.name_zh,
                         "name_en": f"{ft.name_en}: capacity", "threshold": ft.capacity_per_1000,
                         "unit": f"{ft.capacity_unit} per 1000 {basis}",
                         "column": f"{key}.meets_capacity", "source": ft.source,
                         "confidence": ft.confidence, "is_default": False})  # fmt: skip
    a = standards.area_norm
    for level, value in (("min", a.min_m2_per_100_households),
                         ("target", a.target_m2_per_100_households)):  # fmt: skip
        col = f"area_norm.meets_{level}"
        rows.append({"norm": col, "name_zh": "社区综合服务设施面积",
                     "name_en": f"community service floor area ({level})", "threshold": value,
                     "unit": "m² per 100 households", "column": col, "source": a.source,
                     "confidence": a.confidence, "is_default": False})  # fmt: skip
    return pd.DataFrame(rows).set_index("norm")


def _weights(
    types: tuple[str, ...], weights: Mapping[str, float] | None, std: Standards
) -> dict[str, float]:
    if weights is None:
        return {**dict.fromkeys(types, 1.0), "area_norm": 1.0}
    out: dict[str, float] = {}
    for name, value in weights.items():
        key = "area_norm" if name == "area_norm" else std[name].key
        if key != "area_norm" and key not in types:
            raise InputError(f"weight for {key!r}, which was not analysed; analysed: {list(types)}")
        if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
            raise InputError(f"weights must be finite numbers >= 0; {name!r}: {value!r}")
        out[key] = float(value)
    if sum(out.values()) <= 0:
        raise InputError(f"the weights add up to 0: {out}; give at least one a positive weight")
    return out


def _capacity(
    cov: Coverage, key: str, polygons: gpd.GeoDataFrame, n: int, total: Any
) -> dict[str, np.ndarray]:
    """Capacity (places, beds) of a type's facilities per 1000 of the norm's population."""
    ft = cov.standards[key]
    basis = cov.demand.population(str(ft.capacity_norm_basis)).to_numpy(float)
    people = total(basis)
    fac = cov.facilities.points
    fac = fac[fac["facility_type"] == key]
    cap: np.ndarray = np.zeros(n)
    unknown: np.ndarray = np.zeros(n)
    if len(fac):
        where = _agg.assign(fac, polygons)
        value = pd.to_numeric(fac["capacity"], errors="coerce").to_numpy(float)
        cap = _agg.group_sum(where, np.nan_to_num(value), n)
        unknown = _agg.group_sum(where, np.isnan(value).astype(float), n)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(people > 0, cap / np.where(people > 0, people, 1.0) * 1000.0, np.nan)
    norm = float(ft.capacity_per_1000 or 0.0)
    return {
        f"{key}.capacity": cap,
        f"{key}.without_capacity": np.rint(unknown),
        f"{key}.capacity_per_1000": per,
        f"{key}.meets_capacity": ~(per < norm - 1e-12),
    }


def _floor_area(cov: Coverage, polygons: gpd.GeoDataFrame, n: int) -> np.ndarray:
    """Known floor area of the community service facilities in each polygon (m²).

    The same types as :meth:`Coverage.area_norm`: 5-min, 10-min and community tiers, not
    education or outdoor sports; unknown floor area adds nothing.
    """
    keys = community_space_types(cov.standards)
    fac = cov.facilities.points
    fac = fac[fac["facility_type"].isin(keys)]
    if len(fac) == 0:
        return np.zeros(n)
    area = fac["floor_area_m2"].fillna(0.0).to_numpy(float)
    return _agg.group_sum(_agg.assign(fac, polygons), area, n)


def _table(
    cov: Coverage,
    polygons: gpd.GeoDataFrame,
    labels: pd.Index,
    name_column: str | None,
    weights: dict[str, float],
    coverage_target: float,
) -> pd.DataFrame:
    """The per-neighbourhood metrics of one coverage (no geometry, no ranking)."""
    points = cov.demand.points
    n = len(polygons)
    group = _agg.assign(points, polygons)  # -1: outside every polygon, left out

    def total(w: np.ndarray) -> np.ndarray:
        return _agg.group_sum(group, w, n)

    cols: dict[str, Any] = {
        "population": total(points["population"].to_numpy(float)),
        "households": total(points["households"].to_numpy(float)),
    }
    parts = []
    for key in cov.types:
        served = cov.served(key).to_numpy(float)
        dist = cov.distance[key].to_numpy(float)
        covered = cov.covered[key].to_numpy(bool)
        stats = _agg.type_stats(served, dist, covered, group, n)
        share = stats["share_covered"]
        for col in ("served", "covered", "uncovered", "share_covered", "mean_walk_m", "p90_walk_m"):
            cols[f"{key}.{col}"] = stats[col]
        # NaN share (nobody served here) passes: nobody is left without the service
        cols[f"{key}.pass"] = ~(share < coverage_target - 1e-12)
        parts.append((weights.get(key, 0.0), share))
        ft = cov.standards[key]
        if ft.capacity_per_1000 is not None and ft.capacity_norm_basis is not None:
            cols.update(_capacity(cov, key, polygons, n, total))
    frame = pd.DataFrame(cols, index=labels)
    norm = cov.standards.area_norm
    target = norm.target_m2_per_100_households
    floor = _floor_area(cov, polygons, n)
    hundreds = cols["households"] / 100.0
    with np.errstate(invalid="ignore", divide="ignore"):
        per100 = np.where(hundreds > 0, floor / np.where(hundreds > 0, hundreds, 1.0), np.nan)
    frame["area_norm.floor_area_m2"] = floor
    frame["area_norm.m2_per_100_households"] = per100
    frame["area_norm.meets_min"] = per100 >= norm.min_m2_per_100_households
    frame["area_norm.meets_target"] = per100 >= target
    frame["area_norm.shortfall_min_m2"] = np.clip(
        hundreds * norm.min_m2_per_100_households - floor, 0.0, None
    )
    frame["area_norm.shortfall_target_m2"] = np.clip(hundreds * target - floor, 0.0, None)
    ratio = np.minimum(per100 / target, 1.0)
    parts.append((weights.get("area_norm", 0.0), ratio))
    num = np.zeros(n)
    den = np.zeros(n)
    for w, comp in parts:
        if w == 0:
            continue
        ok = np.isfinite(comp)
        num += np.where(ok, w * np.where(ok, comp, 0.0), 0.0)
        den += np.where(ok, w, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["score"] = np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1.0), np.nan)
    frame["passes"] = frame[[f"{k}.pass" for k in cov.types]].sum(axis=1).astype(int)
    return frame


def score(
    neighbourhoods: gpd.GeoDataFrame | None,
    coverage: Coverage,
    standards: Standards | None = None,
    *,
    plan: Any = None,
    weights: Mapping[str, float] | None = None,
    name_column: str | None = None,
    coverage_target: float = 1.0,
    hex_size_m: float = HEX_SIZE_M,
) -> gpd.GeoDataFrame:
    """Score every neighbourhood against the norms; worst gaps first.

    Parameters
    ----------
    neighbourhoods
        Polygons in any CRS (社区/街道 boundaries, a user layer), or None for a hexagon grid
        (:func:`hex_grid`, side ``hex_size_m``) over the resident points, keeping the cells
        with residents. Labels are ``name_column`` (or the index) and must be unique.
    coverage
        Coverage before the plan.
    standards
        The standards to read clauses and norms from; by default the coverage's.
    plan
        New sites (a GeoDataFrame, a siting result or a list of them, see :func:`plan_sites`),
        or an already recomputed coverage after the plan.
        The same columns then appear again with the suffix ``_after`` (``score_after``,
        ``nursery.share_covered_after``...), plus ``score_gain``.
    weights
        Weight of each component of the composite score: facility type keys and
        ``"area_norm"`` (default 1 each; see the module docstring).
    name_column
        Column of ``neighbourhoods`` with their names.
    coverage_target
        Share of the served age group within the walk radius needed to pass a type's norm;
        1.0 (everybody, as the standards ask) by default.
    hex_size_m
        Hexagon side when ``neighbourhoods`` is None.

    Returns
    -------
    GeoDataFrame
        One row per neighbourhood, in the CRS of ``neighbourhoods`` (the network's for the
        grid), indexed by label, sorted by ``score`` ascending then population descending
        (``rank`` 1 = worst). Columns: ``name``, ``population``, ``households``; per type
        ``<type>.served``, ``.covered``, ``.uncovered``, ``.share_covered``, ``.mean_walk_m``,
        ``.p90_walk_m`` (residents of the served age group; mean over those reached within
        the search), ``.pass`` (share >= ``coverage_target``; :func:`norms` gives the clause
        of each); for types with a capacity norm (nursery: 4.5 places per 1000 residents)
        ``<type>.capacity`` (known capacity of its facilities inside), ``.without_capacity``
        (facilities of unknown capacity), ``.capacity_per_1000`` and ``.meets_capacity``
        (NaN, no population of the basis, passes); ``area_norm.floor_area_m2``,
        ``.m2_per_100_households``, ``.meets_min``,
        ``.meets_target``, ``.shortfall_min_m2``, ``.shortfall_target_m2`` (as
        :meth:`Coverage.area_norm`, on the same assignment of points to polygons);
        ``score`` (0-100), ``passes`` (types passed), ``rank``.
        Residents outside every polygon are left out (logged).

    Examples
    --------
    >>> import embedsite.network as en, embedsite.demand as ed, embedsite.facilities as ef
    >>> from embedsite import coverage
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> homes = ed.from_osm_file("data/sample/helsinki.osm.pbf", net, on_far="drop")
    >>> supply = ef.from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> cov = coverage.compute(net, homes, supply, types=["community_health_station"])
    >>> t = score(None, cov, weights={"community_health_station": 1.0})
    >>> row = t.iloc[-1]
    >>> bool(abs(row["score"] - 100 * row["community_health_station.share_covered"]) < 1e-9)
    True
    """
    std = standards if standards is not None else coverage.standards
    if not (0.0 < coverage_target <= 1.0):
        raise InputError(f"coverage_target is a share between 0 and 1, not {coverage_target!r}")
    net_crs = coverage.network.crs
    if neighbourhoods is None:
        polys = hex_grid(coverage.demand.points, size_m=hex_size_m, only_occupied=True)
        out_crs = net_crs
        labels = pd.Index(polys.index, name="neighbourhood")
    else:
        if not isinstance(neighbourhoods, gpd.GeoDataFrame):
            raise InputError(
                "neighbourhoods must be a GeoDataFrame of polygons, not "
                f"{type(neighbourhoods).__name__}"
            )
        if neighbourhoods.crs is None:
            raise CRSError("the neighbourhood polygons have no CRS; set it with .set_crs(...)")
        if len(neighbourhoods) == 0:
            raise EmptyInputError("no neighbourhood polygons were given")
        if name_column is not None and name_column not in neighbourhoods.columns:
            raise MissingColumnError(
                f"no column {name_column!r} in the neighbourhoods; columns: "
                f"{list(neighbourhoods.columns)}"
            )
        raw = neighbourhoods[name_column] if name_column is not None else neighbourhoods.index
        labels = pd.Index(np.asarray(raw, dtype=object), name="neighbourhood")
        if labels.duplicated().any():
            raise InputError(
                f"neighbourhood names must be unique; repeated: "
                f"{list(pd.unique(labels[labels.duplicated()]))[:5]}; dissolve them first or "
                "pass another name_column"
            )
        out_crs = neighbourhoods.crs
        polys = neighbourhoods.to_crs(net_crs)
    polys = gpd.GeoDataFrame(geometry=polys.geometry.to_numpy(), crs=net_crs)
    w = _weights(coverage.types, weights, std)
    if std is not coverage.standards:
        coverage = dataclasses.replace(coverage, standards=std)
    before = _table(coverage, polys, labels, None, w, coverage_target)
    if float(before["population"].sum()) == 0.0 and coverage.demand.total > 0:
        raise InputError(
            "no resident point lies inside the neighbourhood polygons; check that they cover "
            "the study area and have the right CRS"
        )
    outside = coverage.demand.total - float(before["population"].sum())
    if outside > 1e-6:
        log.info("%.0f residents lie outside every neighbourhood polygon", outside)
    frame = before
    if plan is not None:
        after_cov = plan if isinstance(plan, Coverage) else with_plan(coverage, plan)
        after = _table(after_cov, polys, labels, None, w, coverage_target)
        after = after.drop(columns=["population", "households"]).add_suffix("_after")
        frame = pd.concat([before, after], axis=1)
        frame["score_gain"] = frame["score_after"] - frame["score"]
    frame.insert(0, "name", labels.to_numpy())
    order = np.lexsort((-frame["population"].to_numpy(), np.nan_to_num(frame["score"], nan=101.0)))
    frame = frame.iloc[order]
    frame["rank"] = np.arange(1, len(frame) + 1)
    geom = gpd.GeoSeries(polys.geometry.to_numpy()[order], crs=net_crs).to_crs(out_crs)
    return gpd.GeoDataFrame(frame, geometry=geom.to_numpy(), crs=out_crs)

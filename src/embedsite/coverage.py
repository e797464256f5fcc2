"""Stage 3: who can walk to what, per facility type.

:func:`compute` runs one bounded multi-source shortest-path pass per facility type over the
network's CSR form (:mod:`embedsite._paths`): every resident point gets the exact walk distance
to the nearest facility of each type (access + along-edge network distance + access, from
snap positions, never node to node) and whether it lies within the type's walk radius; which
facility that is, :attr:`Coverage.nearest`, is found on first use. The result is a frozen
:class:`Coverage`.

Covered shares count the residents of the age group a type serves (0-3 for nurseries, 60+
for elderly day care, everybody for health stations...), from the demand's age bands.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from embedsite import _aggregate as _agg
from embedsite._access import AccessResult, Decay, two_step_fca
from embedsite._config import show_progress
from embedsite._paths import (
    NearestSource,
    nearest_sources,
    pair_distances,
    prepare_targets,
    source_node_distances,
)
from embedsite._service_areas import service_areas
from embedsite.demand import Demand
from embedsite.errors import InputError
from embedsite.facilities import Facilities
from embedsite.network import PedestrianNetwork
from embedsite.standards import Standards

__all__ = ["Coverage", "community_space_types", "compute", "weighted_quantile"]

log = logging.getLogger(__name__)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` weighted by ``weights`` (inverted CDF; inf allowed).

    Examples
    --------
    >>> weighted_quantile(np.array([100.0, 200.0, np.inf]), np.array([1.0, 8.0, 1.0]), 0.9)
    200.0
    >>> weighted_quantile(np.array([100.0, 200.0, np.inf]), np.array([1.0, 7.0, 2.0]), 0.9)
    inf
    """
    keep = weights > 0
    v, w = values[keep], weights[keep]
    if len(v) == 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1]))
    return float(v[order][min(k, len(v) - 1)])


@dataclass(frozen=True)
class Coverage:
    """Walk distances from every resident point to the nearest facility of each type.

    Attributes
    ----------
    distance : DataFrame
        Walk distance in metres (index: resident points, columns: facility types); ``inf``
        beyond ``max_walk_m`` of the search.
    nearest : DataFrame
        Label of the nearest facility (or ``None``), same shape; found on first use (see
        :attr:`nearest`), not by :func:`compute`.
    covered : DataFrame
        Whether the nearest facility is within the type's walk radius, same shape.
    network, demand, facilities, standards
        The inputs.
    max_walk_m : Series
        How far each type's search went (metres).
    """

    distance: pd.DataFrame
    covered: pd.DataFrame
    network: PedestrianNetwork
    demand: Demand
    facilities: Facilities
    standards: Standards
    max_walk_m: pd.Series

    @cached_property
    def nearest(self) -> pd.DataFrame:
        """Label of the nearest facility of each type (or ``None`` beyond the search), same
        shape as :attr:`distance`.

        Found on first use and then kept: :func:`compute` finds only the distances, which is
        what shares, gaps statistics and scores need (the labels cost 35-40% of the pass over
        the residents, and a table of object labels as much again). The searches are run
        again with labels; they give the same distances, bit for bit.
        """
        keys = list(self.distance.columns)
        supply = self.facilities.points
        limits = self.max_walk_m.reindex(keys).to_numpy(float)
        found = _walk(self.network, self.demand.points, supply, keys, limits, labels=True)
        labels = np.empty(len(supply) + 1, dtype=object)  # source -1 (none): the last, None
        labels[:-1] = np.asarray(supply.index, dtype=object)
        # object labels as given (pandas would infer a string dtype: a copy, 80 ms at 94k x 10)
        return pd.DataFrame(labels[found.source], index=self.distance.index,
                            columns=self.distance.columns, dtype=object, copy=False)  # fmt: skip

    @property
    def types(self) -> tuple[str, ...]:
        """The facility types analysed."""
        return tuple(self.distance.columns)

    def served(self, facility_type: str) -> pd.Series:
        """Residents of the age group the type serves, per resident point."""
        ftype = self.standards[facility_type]
        return self.demand.population(ftype.age_group)

    @property
    def by_type(self) -> pd.DataFrame:
        """Per type: residents served, covered, share covered, uncovered, mean/p90 distance.

        Distances are weighted by the residents of the served age group; ``mean_walk_m`` is
        over those reached within ``max_walk_m`` (``beyond_search`` counts the others) and
        ``p90_walk_m`` is ``inf`` when more than a tenth are beyond the search.
        """
        whole = np.zeros(len(self.distance), dtype=np.int64)
        return _stats(self, whole, pd.Index(["all"], name="area")).droplevel("area")

    def by_neighbourhood(
        self, neighbourhoods: gpd.GeoDataFrame, *, name_column: str | None = None
    ) -> pd.DataFrame:
        """The :attr:`by_type` table for each neighbourhood polygon (社区/街道 or any layer).

        Resident points are assigned to the polygon they lie in or on (on a shared edge: the
        first polygon; points outside every polygon are left out and counted in the log), the
        same rule as :meth:`area_norm` and :func:`embedsite.scoring.score`. Polygons sharing
        a ``name_column`` value form one neighbourhood. Rows: (neighbourhood, type), in the
        order of the polygons; neighbourhoods without a resident point are left out.
        """
        group, labels = _assign(self.demand.points, neighbourhoods, name_column)
        outside = int((group < 0).sum())
        if outside:
            log.info("%d resident points lie outside every neighbourhood polygon", outside)
        if outside == len(group):
            raise InputError(
                "no resident point lies inside the neighbourhood polygons; check that they "
                "cover the study area and have the right CRS"
            )
        table = _stats(self, group, labels)
        has_points = np.bincount(group[group >= 0], minlength=len(labels)) > 0
        return table[np.repeat(has_points, len(self.types))]

    def area_norm(
        self,
        neighbourhoods: gpd.GeoDataFrame,
        *,
        name_column: str | None = None,
        floor_area_column: str | None = None,
        types: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Community service floor area per 100 households, against the norm (30 / 80 m²).

        The programme's norm is per 100 **households** (每百户): households are the demand's
        (residents / household size). The floor area of a neighbourhood is, by default, the
        sum of ``floor_area_m2`` of the existing facilities inside it whose types count as
        community service space: 5-min, 10-min and community tiers, not education or
        outdoor sports (the 15-minute centres serve a whole sub-district). A facility with
        unknown floor area adds nothing and is counted in ``facilities_without_area``, so a
        low figure may be missing data, not missing space. When the planner knows the floor
        area per neighbourhood, name its column with ``floor_area_column``.

        Returns one row per neighbourhood: ``households``, ``floor_area_m2``,
        ``m2_per_100_households``, ``meets_min``/``meets_target`` and the floor area still
        needed for each (``shortfall_min_m2``, ``shortfall_target_m2``).
        """
        norm = self.standards.area_norm
        group, labels = _assign(self.demand.points, neighbourhoods, name_column)
        n = len(labels)
        out = pd.DataFrame(index=labels)
        out["households"] = _agg.group_sum(
            group, self.demand.points["households"].to_numpy(float), n
        )
        if floor_area_column is not None:
            if floor_area_column not in neighbourhoods.columns:
                raise InputError(
                    f"no column {floor_area_column!r} in the neighbourhoods; columns: "
                    f"{list(neighbourhoods.columns)}"
                )
            given = np.nan_to_num(neighbourhoods[floor_area_column].to_numpy(float))
            codes = pd.Index(labels).get_indexer(
                np.asarray(neighbourhoods[name_column] if name_column is not None
                           else neighbourhoods.index, dtype=object))  # fmt: skip
            out["floor_area_m2"] = _agg.group_sum(codes, given, n)
            out["facilities_without_area"] = 0
        else:
            keys = (
                [self.standards[t].key for t in types]
                if types is not None
                else community_space_types(self.standards)
            )
            fac = self.facilities.points
            fac = fac[fac["facility_type"].isin(keys)]
            where, _ = _assign(fac, neighbourhoods, name_column)
            known = fac["floor_area_m2"].notna().to_numpy()
            out["floor_area_m2"] = _agg.group_sum(
                where, fac["floor_area_m2"].fillna(0.0).to_numpy(float), n
            )
            out["facilities_without_area"] = _agg.group_sum(
                where, (~known).astype(float), n
            ).astype(int)
        hundreds = out["households"] / 100.0
        out["m2_per_100_households"] = np.where(
            hundreds > 0, out["floor_area_m2"] / hundreds.where(hundreds > 0, 1.0), np.nan
        )
        out["min_m2_per_100_households"] = norm.min_m2_per_100_households
        out["target_m2_per_100_households"] = norm.target_m2_per_100_households
        out["meets_min"] = out["m2_per_100_households"] >= norm.min_m2_per_100_households
        out["meets_target"] = out["m2_per_100_households"] >= norm.target_m2_per_100_households
        out["shortfall_min_m2"] = (
            hundreds * norm.min_m2_per_100_households - out["floor_area_m2"]
        ).clip(lower=0.0)
        out["shortfall_target_m2"] = (
            hundreds * norm.target_m2_per_100_households - out["floor_area_m2"]
        ).clip(lower=0.0)
        return out

    def service_areas(
        self,
        facility_type: str,
        *,
        kind: Literal["polygon", "lines"] = "polygon",
        buffer_m: float = 25.0,
        radius_m: float | None = None,
        method: Literal["exact", "grid"] = "exact",
        resolution_m: float | None = None,
    ) -> gpd.GeoDataFrame:
        """The street space each facility of a type reaches within the walk radius.

        Reached parts of edges are cut at the exact remaining distance from the facility's
        snap position (never node to node, never a convex hull or a Euclidean circle);
        ``kind="polygon"`` buffers them by ``buffer_m``, exactly (``method="exact"``) or
        traced on a lattice of ``resolution_m`` (``method="grid"``: boundary within about
        half the spacing, several times faster; see
        :func:`embedsite._service_areas.service_areas`). One row per facility, in the network
        CRS, with ``street_length_m`` (and ``area_m2`` for polygons).
        """
        key = self.standards[facility_type].key
        radius = float(radius_m) if radius_m is not None else self.standards[key].walk_radius_m
        sources = self.facilities.points
        sources = sources[sources["facility_type"] == key]
        areas = service_areas(self.network, sources, radius, buffer_m=buffer_m, kind=kind,
                              method=method, resolution_m=resolution_m)  # fmt: skip
        return areas.assign(facility_type=key, name=sources["name"].reindex(areas.index))

    def access(
        self,
        facility_type: str,
        *,
        capacity: str = "capacity",
        decay: Decay = None,
        radius_m: float | None = None,
    ) -> AccessResult:
        """Capacity-aware access of each resident point to a type (2SFCA, E2SFCA, Gaussian).

        Supply is the facilities' ``capacity`` column (places, beds...) or another numeric
        column such as ``floor_area_m2``; demand is the residents of the served age group.
        Both steps use the same exact walk distances within the radius (the type's, unless
        ``radius_m`` is given), so the demand a facility sees is the demand that sees it.
        ``ratio`` of the result is aligned with ``demand.points`` (supply per resident);
        ``facility_ratio`` with ``facilities.of_type(facility_type)``.
        """
        key = self.standards[facility_type].key
        radius = float(radius_m) if radius_m is not None else self.standards[key].walk_radius_m
        sources = self.facilities.points
        sources = sources[sources["facility_type"] == key]
        if capacity not in sources.columns:
            raise InputError(
                f"facilities have no column {capacity!r}; numeric columns: "
                f"{list(sources.select_dtypes('number').columns)}"
            )
        supply = pd.to_numeric(sources[capacity], errors="coerce")
        if len(sources) and supply.isna().any():
            raise InputError(
                f"{int(supply.isna().sum())} of {len(sources)} {key} facilities have no "
                f"{capacity!r} (first: {list(sources.index[supply.isna()][:5])}); load them "
                "from a table with capacity_column=/floor_area_column=, or fill the values"
            )
        u, v = self.network.edge_nodes
        targets = self.demand.points
        node_dist = source_node_distances(self.network.csr, u, v, sources, limit=radius)
        pairs = pair_distances(node_dist, u, v, sources, targets, limit=radius)
        return two_step_fca(
            pairs, supply.to_numpy(float), self.served(key).to_numpy(float),
            radius_m=radius, decay=decay,
        )  # fmt: skip

    def gaps(self, facility_type: str) -> gpd.GeoDataFrame:
        """Resident points not covered by the type, with their served residents and walk
        distance, ready for the siting stage (network CRS)."""
        key = self.standards[facility_type].key
        if key not in self.distance.columns:
            raise InputError(f"{key!r} was not analysed; analysed types: {list(self.types)}")
        points = self.demand.points
        miss = ~self.covered[key].to_numpy()
        out = points.loc[miss, ["geometry", "edge", "position_m", "to_u_m", "to_v_m", "access_m"]]
        out = out.assign(
            served=self.served(key).to_numpy()[miss],
            walk_m=self.distance[key].to_numpy()[miss],
            nearest=self.nearest[key].to_numpy()[miss],
        )
        out = out[out["served"] > 0]
        return gpd.GeoDataFrame(out, geometry="geometry", crs=points.crs)


def community_space_types(standards: Standards) -> list[str]:
    """Types whose floor area counts as community service space for the area norm.

    The 5-min, 10-min and community tiers, not education or outdoor sports (the 15-minute
    centres serve a whole sub-district).
    """
    return [
        t.key
        for t in standards.values()
        if t.tier in ("5min", "10min", "community")
        and not {"education", "sports"} & set(t.functions)
    ]


def _assign(
    points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, name_column: str | None
) -> tuple[np.ndarray, pd.Index]:
    """Group code per point (-1 outside every polygon) and the group labels.

    A point on the shared edge of two polygons belongs to the first; polygons sharing a
    label (``name_column``) form one group.
    """
    if polygons.crs is None:
        raise InputError("the neighbourhood polygons have no CRS; set it with .set_crs(...)")
    if name_column is not None and name_column not in polygons.columns:
        raise InputError(
            f"no column {name_column!r} in the neighbourhoods; columns: {list(polygons.columns)}"
        )
    polys = polygons.to_crs(points.crs)
    labels = polys[name_column] if name_column is not None else pd.Series(polys.index)
    codes, uniques = pd.factorize(np.asarray(labels, dtype=object))
    where = _agg.assign(points, polys)
    group = np.where(where >= 0, codes[np.maximum(where, 0)], -1)
    return group, pd.Index(uniques, name="area")


def _stats(cov: Coverage, group: np.ndarray, labels: pd.Index) -> pd.DataFrame:
    """The by-type table per group (rows: (area, facility_type)), one vectorised pass."""
    n = len(labels)
    counts = cov.facilities.points["facility_type"].value_counts()
    frames = []
    for key in cov.types:
        ftype = cov.standards[key]
        stats = _agg.type_stats(
            cov.served(key).to_numpy(float),
            cov.distance[key].to_numpy(float),
            cov.covered[key].to_numpy(bool),
            group,
            n,
        )
        frame = pd.DataFrame(
            {
                "area": labels,
                "facility_type": key,
                "name_zh": ftype.name_zh,
                "name_en": ftype.name_en,
                "age_group": ftype.age_group,
                "radius_m": ftype.walk_radius_m,
                "facilities": int(counts.get(key, 0)),
                **{c: stats[c] for c in _STAT_COLUMNS},
            }
        )
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    # area-major, types in analysis order within each area (one table per area, stacked)
    order = np.arange(len(out)).reshape(len(cov.types), n).T.ravel()
    return out.iloc[order].set_index(["area", "facility_type"])


_PROGRESS_WORK = 2_000_000  # residents x types above which a progress bar is worth a pass per type

_STAT_COLUMNS = (
    "served",
    "covered",
    "share_covered",
    "uncovered",
    "mean_walk_m",
    "p90_walk_m",
    "beyond_search",
)


def _walk(
    network: PedestrianNetwork,
    targets: pd.DataFrame,
    supply: pd.DataFrame,
    keys: Sequence[str],
    limits: np.ndarray,
    *,
    labels: bool,
) -> NearestSource:
    """The engine for :func:`compute` and :attr:`Coverage.nearest`: walk distances (and, with
    ``labels``, the nearest facility's row of ``supply``) from every snapped target to the
    nearest facility of each type ``keys[j]``, searched up to ``limits[j]``."""
    csr = network.csr
    u, v = network.edge_nodes
    prepared = prepare_targets(targets, u, v)  # once for all types
    kinds = pd.Index(supply["facility_type"])
    group = pd.Index(keys).get_indexer(kinds)  # -1: a type not analysed
    chunks: Iterable[np.ndarray] = [np.arange(len(keys))]
    if show_progress() and len(keys) > 1 and len(targets) * len(keys) >= _PROGRESS_WORK:
        from tqdm.auto import tqdm

        what = "nearest facility by type" if labels else "coverage by type"
        chunks = tqdm(np.arange(len(keys))[:, None], desc=what, unit="type")
    parts = []
    for chunk in chunks:  # one pass for all types (or one per type under a progress bar)
        code = np.full(len(keys), -1)
        code[chunk] = np.arange(len(chunk))
        parts.append(nearest_sources(csr, u, v, supply, np.where(group >= 0, code[group], -1),
                                     prepared, limits=limits[chunk], labels=labels))  # fmt: skip
    if len(parts) == 1:
        return parts[0]
    sources = [r.source for r in parts if r.source is not None]
    return NearestSource(
        np.hstack([r.distance for r in parts]), np.hstack(sources) if labels else None
    )


def compute(
    network: PedestrianNetwork,
    demand: Demand,
    facilities: Facilities,
    standards: Standards | None = None,
    *,
    types: Sequence[str] | None = None,
    max_walk_m: float | None = None,
) -> Coverage:
    """Walk distance from every resident point to the nearest facility of each type.

    Parameters
    ----------
    network
        The pedestrian network both inputs were snapped to.
    demand, facilities
        Residents and existing facilities (stage 2).
    standards
        The standards in force (radius and served age group per type); by default the
        facilities' standards.
    types
        Facility types to analyse (keys or Chinese names); by default every type of the
        standards. A type with no facility leaves everybody uncovered: that is a gap too.
    max_walk_m
        How far each search goes; by default three times the type's radius (at least
        2 km), so mean and 90th-percentile distances are meaningful beyond the radius.

    Examples
    --------
    >>> import embedsite.network as en, embedsite.demand as ed, embedsite.facilities as ef
    >>> from embedsite import coverage
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> homes = ed.from_osm_file("data/sample/helsinki.osm.pbf", net, on_far="drop")
    >>> supply = ef.from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> cov = coverage.compute(net, homes, supply, types=["community_health_station"])
    >>> row = cov.by_type.loc["community_health_station"]
    >>> bool(0 < row["share_covered"] < 1 and row["radius_m"] == 300)
    True
    """
    standards = standards if standards is not None else facilities.standards
    keys = list(
        dict.fromkeys(standards[t].key for t in (types if types is not None else list(standards)))
    )
    if not keys:
        raise InputError("no facility types to analyse; pass types=[...] or a non-empty standards")
    if max_walk_m is not None and not (max_walk_m > 0):
        raise InputError(f"max_walk_m must be a positive number of metres, not {max_walk_m}")
    targets = demand.points  # each a copy: taken once
    supply = facilities.points
    for name, table in (("demand", targets), ("facilities", supply)):
        if table.crs != network.crs:
            raise InputError(
                f"the {name} were snapped to another network (CRS {table.crs}); load them "
                "again with this network"
            )
    radii = np.array([standards[key].walk_radius_m for key in keys], dtype=float)
    limits = (
        np.full(len(keys), max_walk_m) if max_walk_m is not None else np.maximum(3 * radii, 2000.0)
    )
    distance = _walk(network, targets, supply, keys, limits, labels=False).distance
    index, columns = targets.index, pd.Index(keys)
    return Coverage(
        distance=pd.DataFrame(distance, index=index, columns=columns, copy=False),
        covered=pd.DataFrame(distance <= radii, index=index, columns=columns, copy=False),
        network=network,
        demand=demand,
        facilities=facilities,
        standards=standards,
        max_walk_m=pd.Series(limits, index=columns, name="max_walk_m"),
    )

"""Build a :class:`SitingProblem` from a coverage analysis and candidate sites (private).

Clients are the resident points with residents of the type's age group; sites are the
existing facilities of the type (fixed) and the candidates that allow it (new). Walk
distances are exact from snap positions and sparse: one bounded Dijkstra block per group of
sites (:func:`embedsite._paths.source_node_distances`) joined to the residents on the edges
reached (:func:`embedsite._paths.pair_distances`); pairs beyond the bound are never stored.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from scipy import sparse

from embedsite._paths import pair_distances, source_node_distances
from embedsite.errors import CRSError, EmptyInputError, InputError, MissingColumnError
from embedsite.siting._problem import SitingProblem, make_problem

if TYPE_CHECKING:
    from embedsite.coverage import Coverage

log = logging.getLogger(__name__)

SNAP_COLUMNS = ("edge", "position_m", "to_u_m", "to_v_m", "access_m")


def _allowed(candidates: Any, points: gpd.GeoDataFrame, key: str) -> np.ndarray:
    allows = getattr(candidates, "allows", None)
    if callable(allows):
        return np.asarray(allows(key), dtype=bool)
    if "allowed_types" not in points.columns:
        return np.ones(len(points), dtype=bool)
    raw = points["allowed_types"].fillna("").astype(str).str.strip()
    lists = raw.str.split(";")
    return np.asarray(
        (raw == "") | lists.map(lambda keys: key in {k.strip() for k in keys}), dtype=bool
    )


def candidate_points(candidates: Any, crs: CRS) -> gpd.GeoDataFrame:
    """The candidates' GeoDataFrame, checked: network CRS, snap columns, unique labels."""
    points = getattr(candidates, "points", candidates)
    if not isinstance(points, gpd.GeoDataFrame):
        raise InputError(
            "candidates must be a Candidates object or a GeoDataFrame of snapped sites, not "
            f"{type(points).__name__}"
        )
    if points.crs is None or CRS(points.crs) != CRS(crs):
        raise CRSError(
            f"the candidates are in CRS {points.crs}, not the network's ({CRS(crs).name}); "
            "snap them with this network (network.snap(points)) first"
        )
    missing = [c for c in SNAP_COLUMNS if c not in points.columns]
    if missing:
        raise MissingColumnError(
            f"the candidates lack the snap columns {missing}; snap them with "
            "network.snap(points) and keep its columns"
        )
    if points.index.has_duplicates:
        dup = points.index[points.index.duplicated()].unique()[:5].tolist()
        raise InputError(f"candidate labels must be unique; repeated: {dup}")
    return points


def _per_site(value: Any, sites: gpd.GeoDataFrame, name: str) -> np.ndarray:
    if isinstance(value, str):
        if value not in sites.columns:
            raise MissingColumnError(
                f"{name}={value!r} is not a column of the sites (candidates and existing "
                f"facilities); columns: {list(sites.columns)}"
            )
        out = pd.to_numeric(sites[value], errors="coerce")
    else:
        out = pd.Series(value).reindex(sites.index)
    out = out.astype(float)
    if out.isna().any():
        bad = sites.index[out.isna().to_numpy()]
        raise InputError(
            f"{len(bad)} sites have no {name} (first: {bad[:5].tolist()}); fill the values "
            f"or pass {name} as a Series indexed by every site label"
        )
    return out.to_numpy(float)


def build_problem(
    coverage: Coverage,
    candidates: Any,
    key: str,
    *,
    radius: float,
    limit: float,
    site_cost: str | None,
    capacity: Any,
    demand: Any,
    unreached_cost: float | None,
    include_existing: bool,
) -> SitingProblem:
    """Clients, sites and sparse exact walk distances within ``limit`` metres."""
    net = coverage.network
    if not (np.isfinite(limit) and limit > 0):
        raise InputError(f"max_walk_m must be a positive number of metres, not {limit!r}")
    cand = candidate_points(candidates, net.crs)
    allowed = _allowed(candidates, cand, key)
    cand = cand[allowed]
    need = coverage.standards[key].min_building_area_m2
    if need is not None and "floor_area_m2" in cand.columns:
        area = pd.to_numeric(cand["floor_area_m2"], errors="coerce")
        small = (area < need).to_numpy()  # unknown floor area (NaN) stays a candidate
        if small.any():
            log.info("%d candidates have less than the %g m² a %s needs; left out",
                     int(small.sum()), need, key)  # fmt: skip
            cand = cand[~small]
    existing = coverage.facilities.points
    existing = existing[existing["facility_type"] == key] if include_existing else existing[:0]
    clash = cand.index.isin(existing.index)
    if clash.any():
        log.info("%d candidates are existing %s facilities; kept as existing", clash.sum(), key)
        cand = cand[~clash]
    if len(cand) == 0 and len(existing) == 0:
        raise EmptyInputError(
            f"no candidate site allows {key!r} and none exists; check the candidates' allowed_types"
        )
    keep_cols = [c for c in cand.columns if c != "geometry"]
    new = gpd.GeoDataFrame(cand[keep_cols].assign(existing=False), geometry=cand.geometry,
                           crs=net.crs)  # fmt: skip
    old = gpd.GeoDataFrame(
        existing.drop(columns=["geometry"]).assign(existing=True, cost=0.0),
        geometry=existing.geometry, crs=net.crs,
    )  # fmt: skip
    sites = pd.concat([old, new])
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=net.crs)
    if sites.index.has_duplicates:
        dup = sites.index[sites.index.duplicated()].unique()[:5].tolist()
        raise InputError(f"site labels repeat across candidates and facilities: {dup}")
    fixed = sites["existing"].to_numpy(bool)
    if site_cost is not None and site_cost in sites.columns:
        cost_of_site = pd.to_numeric(sites[site_cost], errors="coerce").to_numpy(float)
        cost_of_site = np.where(fixed, 0.0, np.where(np.isnan(cost_of_site), 1.0, cost_of_site))
    else:
        cost_of_site = np.where(fixed, 0.0, 1.0)
    cap = _per_site(capacity, sites, "capacity") if capacity is not None else None

    served = coverage.served(key)
    points = coverage.demand.points
    keep = (served > 0).to_numpy()
    clients = points[keep]
    if len(clients) == 0:
        raise EmptyInputError(f"nobody of the age group {key!r} serves lives in the study area")
    weights = served.to_numpy(float)[keep]
    use = None
    if demand is not None:
        if np.isscalar(demand):
            use = weights * float(demand)  # type: ignore[arg-type]
        else:
            use = pd.Series(demand).reindex(clients.index).astype(float).to_numpy()
            if np.isnan(use).any():
                raise InputError("demand must give a value for every resident point served")

    u, v = net.edge_nodes
    node_dist = source_node_distances(net.csr, u, v, sites, limit=limit)
    pairs = pair_distances(node_dist, u, v, sites, clients, limit=limit)
    cost = sparse.csr_array(pairs.T.tocsr())
    log.info("%s: %d clients x %d sites (%d fixed), %d pairs within %g m", key, len(clients),
             len(sites), fixed.sum(), cost.nnz, limit)  # fmt: skip
    site_table = sites.drop(columns=[*list(SNAP_COLUMNS), "u", "v"], errors="ignore")
    client_table = gpd.GeoDataFrame({"served": weights}, geometry=clients.geometry.to_numpy(),
                                    index=clients.index, crs=net.crs)  # fmt: skip
    return make_problem(
        cost,
        weights=weights,
        fixed=fixed,
        site_cost=cost_of_site,
        capacity=cap,
        demand=use,
        radius=radius,
        unreached_cost=unreached_cost,
        facility_type=key,
        client_labels=clients.index,
        site_labels=sites.index,
        sites=site_table,
        clients=client_table,
    )

"""Assembly of candidate sites (private; see :mod:`embedsite.candidates`).

Option checks, the land-use / minimum floor area / snapping pipeline every loader ends with,
OSM land use from containing polygons, numeric columns of user tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from embedsite._candidate_rules import GUIDE_ALLOWED, KINDS, LAND_USE_CLASSES, first_match
from embedsite._demand_build import parse_levels
from embedsite._facilityrules import _text
from embedsite.crs import check_crs
from embedsite.errors import InputError
from embedsite.network import PedestrianNetwork

OnFar = Literal["raise", "drop"]
SNAP_COLUMNS = ("edge", "u", "v", "position_m", "to_u_m", "to_v_m", "access_m")
#: Columns of :attr:`embedsite.candidates.Candidates.points` (besides ``geometry``).
POINT_COLUMNS = ("kind", "name", "source", "osm_id", "matched_by", "match_rule",
                 "floor_area_m2", "floor_area_estimated", "floor_area_from", "footprint_m2",
                 "land_area_m2", "cost", "allowed_types", "land_use", "land_use_from",
                 *SNAP_COLUMNS)  # fmt: skip
OSM_KINDS = tuple(k for k in KINDS if k not in ("leftover_corner", "user"))
_REJECTED_COLUMNS = ("name", "kind", "reason", "detail", "source")


def check_options(min_floor_area_m2: float, max_distance_m: float, on_far: str) -> None:
    if on_far not in ("raise", "drop"):
        raise InputError(f"on_far must be 'raise' or 'drop', not {on_far!r}")
    if not np.isfinite(max_distance_m) or max_distance_m <= 0:
        raise InputError(
            f"max_distance_m must be a positive number of metres, not {max_distance_m}"
        )
    if not np.isfinite(min_floor_area_m2) or min_floor_area_m2 < 0:
        raise InputError(f"min_floor_area_m2 must be >= 0 m², not {min_floor_area_m2}")


def rejected_frame(
    labels: np.ndarray, names: np.ndarray, kinds: np.ndarray, reasons: np.ndarray,
    details: np.ndarray, points: np.ndarray, source: str, crs: object,
) -> gpd.GeoDataFrame:  # fmt: skip
    return gpd.GeoDataFrame(
        {"name": names, "kind": kinds, "reason": reasons, "detail": details, "source": source},
        geometry=points, index=pd.Index(labels, name="feature", dtype=object), crs=crs,
    )  # fmt: skip


def empty_rejected(crs: object) -> gpd.GeoDataFrame:
    e = np.array([], dtype=object)
    return rejected_frame(e, e, e, e, e, e, "", crs)


def finish(
    cands: gpd.GeoDataFrame,
    sites: np.ndarray,
    rejected: list[gpd.GeoDataFrame],
    network: PedestrianNetwork,
    *,
    keep_classes: frozenset[str],
    min_floor_area_m2: float,
    max_distance_m: float,
    on_far: OnFar,
    source: str,
) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries, gpd.GeoDataFrame]:
    """Candidates (network CRS, index labels, all columns but snap) -> land-use filter,
    minimum floor area, snap -> (points, sites, rejected). Each feature left out gets its
    first reason."""
    reason = pd.Series("", index=cands.index, dtype=object)
    lu = cands["land_use"]
    bad = lu.notna() & ~lu.isin(list(keep_classes))
    if bad.any():
        zh = lu[bad].map({k: c.name_zh for k, c in LAND_USE_CLASSES.items()})
        by = " by the 2024 guide" if keep_classes == GUIDE_ALLOWED else " by land_use_filter"
        reason[bad] = ("land use " + lu[bad].astype(str) + " (" + zh + ") not allowed" + by
                       + " [" + cands.loc[bad, "land_use_from"].astype(str) + "]")  # fmt: skip
    floor = cands["floor_area_m2"]
    small = (reason == "") & (floor < min_floor_area_m2)
    est = np.where(cands["floor_area_estimated"], " (estimated)", "")
    below = f" below the minimum {min_floor_area_m2:g} m²"
    reason[small] = ("floor area " + floor[small].round().astype(int).astype(str) + " m²"
                     + est[small.to_numpy()] + below)  # fmt: skip
    ok = (reason == "").to_numpy().copy()
    if ok.any():
        snapped = network.snap(cands.geometry[ok], max_distance=max_distance_m, on_far=on_far)
    else:
        snapped = gpd.GeoDataFrame(columns=list(SNAP_COLUMNS), geometry=[], crs=network.crs)
    far = ok & ~cands.index.isin(snapped.index)
    reason[far] = f"farther than {max_distance_m:g} m from every street"
    ok &= ~far
    out = cands[ok].copy()
    snap = snapped.loc[out.index]
    for c in SNAP_COLUMNS:
        out[c] = snap[c].to_numpy()
    out = out[[*POINT_COLUMNS, "geometry"]]
    out.index.name = "candidate"
    drop = ~ok
    pts = cands.geometry.to_numpy()
    rejected.append(
        rejected_frame(
            cands.index.to_numpy(dtype=object)[drop], cands["name"].to_numpy()[drop],
            cands["kind"].to_numpy()[drop], reason.to_numpy()[drop],
            cands["_detail"].to_numpy()[drop], pts[drop], source, network.crs,
        )
    )  # fmt: skip
    rej = pd.concat([empty_rejected(network.crs), *[r for r in rejected if len(r)]])
    rej = gpd.GeoDataFrame(rej, geometry="geometry", crs=network.crs)
    return out, gpd.GeoSeries(sites[ok], index=out.index, crs=network.crs), rej


def check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return OSM_KINDS
    given = [kinds] if isinstance(kinds, str) else list(kinds)
    bad = [k for k in given if k not in OSM_KINDS]
    if bad or not given:
        raise InputError(f"kinds must name OSM kinds among {list(OSM_KINDS)}; got {given}")
    return tuple(given)


def osm_land_use(
    pos: np.ndarray, rule: np.ndarray, krules: pd.DataFrame, lrules: pd.DataFrame,
    frame: pd.DataFrame, geoms: np.ndarray, pts: np.ndarray, labels: np.ndarray,
    conds: list[str],
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Class of the smallest classified landuse polygon containing each site, else implied."""
    land_use = np.full(len(pos), None, dtype=object)
    land_from = np.full(len(pos), None, dtype=object)
    implied = krules["land_use"].to_numpy(dtype=object)[rule[pos]]
    has = implied != ""
    land_use[has] = implied[has]
    land_from[has] = "implied by " + np.asarray(conds, dtype=object)[rule[pos][has]]
    lrule, lconds = first_match(lrules, frame)
    area = shapely.area(geoms)
    lpos = np.flatnonzero((lrule >= 0) & (area > 0))
    if len(lpos) and len(pos):
        ci, li = shapely.STRtree(geoms[lpos]).query(pts[pos], predicate="within")
        self_hit = pos[ci] == lpos[li]
        ci, li = ci[~self_hit], li[~self_hit]
        order = np.lexsort((area[lpos[li]], ci))  # smallest container first
        ci, li = ci[order], li[order]
        first = np.unique(ci, return_index=True)[1]
        ci, li = ci[first], lpos[li[first]]
        land_use[ci] = lrules["land_use"].to_numpy(dtype=object)[lrule[li]]
        land_from[ci] = np.asarray(lconds, dtype=object)[lrule[li]] + " (" + labels[li] + ")"
    return land_use, land_from


def numbers(df: pd.DataFrame, column: str, labels: np.ndarray, *, positive: bool) -> np.ndarray:
    """A numeric column: floor areas must be > 0 everywhere; costs >= 0 or empty."""
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    empty = raw.isna().to_numpy() | raw.astype(str).str.strip().eq("").to_numpy()
    text = np.isnan(values) & ~empty
    what = "floor area (m²)" if positive else "cost"
    if positive:
        bad = np.isnan(values) | ~(values > 0) | ~np.isfinite(values)
        rule = "a positive number on every row (NaN, zero and negative are not floor areas)"
    else:
        bad = text | (values < 0) | np.isinf(values)
        rule = "a number >= 0 or empty (unknown)"
    if bad.any():
        shown = dict(zip(labels[bad][:5], raw[bad].head(5).tolist(), strict=True))
        raise InputError(
            f"column {column!r} ({what}) must be {rule}; {int(bad.sum())} bad row(s), e.g. "
            f"{shown}; fix or drop them"
        )
    return values


def layer(
    layer: gpd.GeoDataFrame | gpd.GeoSeries, network: PedestrianNetwork, what: str
) -> np.ndarray:
    if not isinstance(layer, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(f"{what} must be a GeoDataFrame or GeoSeries, not {type(layer).__name__}")
    check_crs(layer, name=what)
    geoms = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    return geoms.to_crs(network.crs).to_numpy()


def osm_floor_area(
    pos: np.ndarray, rule: np.ndarray, krules: pd.DataFrame, frame: pd.DataFrame,
    geoms: np.ndarray, kind: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Floor area of the OSM sites at ``pos`` -> (floor, levels given, how, footprint, land)."""
    r = rule[pos]
    area = shapely.area(geoms[pos])
    cov = krules["coverage"].to_numpy(dtype=float)[r]
    default = krules["default_levels"].to_numpy(dtype=float)[r]
    point_area = krules["point_floor_area_m2"].to_numpy(dtype=float)[r]
    if "building:levels" in frame:
        given = parse_levels(frame["building:levels"].iloc[pos])
    else:
        given = np.full(len(pos), np.nan)
    is_area, building = area > 0, cov >= 1
    use_given = is_area & building & ~np.isnan(given)
    levels = np.where(use_given, given, default)
    floor = np.where(is_area, area * cov * levels, point_area)
    kinds_pos = kind[pos].astype(str)
    lv = pd.Series(levels).map("{:g}".format).to_numpy(dtype=object)
    how = np.select(
        [~is_area, use_given, building],
        ["node: " + pd.Series(point_area).map("{:g}".format).to_numpy(dtype=object)
         + " m² assumed for a " + kinds_pos,
         "footprint x " + lv + " levels (building:levels)",
         "footprint x " + lv + " levels (default for a " + kinds_pos + ")"],
        "land x " + pd.Series(cov).map("{:g}".format).to_numpy(dtype=object) + " coverage x "
        + lv + " storey (a new building, assumed)",
    )  # fmt: skip
    footprint = np.where(is_area & building, area, np.nan)
    return floor, use_given, how, footprint, np.where(is_area & ~building, area, np.nan)


def tag_detail(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """``"key=value; ..."`` of the rule keys each feature carries (one pass per key)."""
    detail = pd.Series("", index=frame.index, dtype=object)
    for key in [c for c in keys if c in frame]:
        value = _text(frame, key)
        detail = detail + np.where(value != "", key + "=" + value + "; ", "")
    return detail.str.rstrip("; ").to_numpy(dtype=object)

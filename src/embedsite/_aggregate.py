"""Per-polygon aggregation of resident points, vectorised (private).

One rule assigns a point to a polygon everywhere (coverage tables, the area norm, scores): the
first polygon (lowest position) the point lies in or on, so a resident on the shared edge of
two neighbourhoods counts once, never twice and never nowhere. Sums are ``np.bincount`` over
group codes, quantiles one sort of (group, value); no loop over polygons or people.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["assign", "group_quantile", "group_sum", "type_stats"]


def assign(points: gpd.GeoSeries | gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Position of the polygon each point lies in or on (the first one), -1 outside all.

    Both must be in the same CRS (callers reproject).
    """
    tree = shapely.STRtree(polygons.geometry.to_numpy())
    pi, gi = tree.query(points.geometry.to_numpy(), predicate="intersects")
    out = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((gi, pi))  # first polygon (lowest position) per point
    pi, gi = pi[order], gi[order]
    first = np.unique(pi, return_index=True)[1]
    out[pi[first]] = gi[first]
    return out


def group_sum(group: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``weights`` per group ``0..n-1``; rows with group -1 are left out."""
    inside = group >= 0
    return np.bincount(group[inside], weights=weights[inside], minlength=n)[:n]


def group_quantile(
    group: np.ndarray, values: np.ndarray, weights: np.ndarray, n: int, q: float
) -> np.ndarray:
    """Weighted ``q`` quantile of ``values`` per group (as :func:`coverage.weighted_quantile`).

    NaN for a group with no positive weight.
    """
    keep = (weights > 0) & (group >= 0)
    g, v, w = group[keep], values[keep], weights[keep]
    out = np.full(n, np.nan)
    if len(g) == 0:
        return out
    order = np.lexsort((v, g))
    g, v, w = g[order], v[order], w[order]
    cum = np.cumsum(w)
    start = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    offset = np.repeat(np.r_[0.0, cum[start[1:] - 1]], np.diff(np.r_[start, len(g)]))
    within = cum - offset
    total = np.bincount(g, weights=w, minlength=n)[g]
    ok = within >= q * total - 1e-9 * total
    # a group's last row always satisfies ok (within == total), so every group gets a value
    gg = g[ok]
    first = np.unique(gg, return_index=True)
    out[first[0]] = v[ok][first[1]]
    return out


def type_stats(
    served: np.ndarray, dist: np.ndarray, covered: np.ndarray, group: np.ndarray, n: int
) -> dict[str, np.ndarray]:
    """Served, covered, share, uncovered, mean/p90 walk and beyond-search per group.

    ``served`` are the residents of the type's age group per point, ``dist`` their walk
    distance (``inf`` beyond the search), ``covered`` within the radius. The mean is over the
    residents reached within the search; the p90 is ``inf`` when more than a tenth are beyond.
    """
    reached = np.isfinite(dist) & (served > 0)
    s = group_sum(group, served, n)
    c = group_sum(group, np.where(covered, served, 0.0), n)
    num = group_sum(group, np.where(reached, served * np.where(reached, dist, 0.0), 0.0), n)
    den = group_sum(group, np.where(reached, served, 0.0), n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(s > 0, c / np.where(s > 0, s, 1.0), np.nan)
        mean = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return {
        "served": s,
        "covered": c,
        "share_covered": share,
        "uncovered": s - c,
        "mean_walk_m": mean,
        "p90_walk_m": group_quantile(group, dist, served, n, 0.9),
        "beyond_search": group_sum(group, np.where(np.isfinite(dist), 0.0, served), n),
    }

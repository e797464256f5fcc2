"""Exact network service areas (walking isochrones) of snapped facilities.

A service area is the street space a facility reaches on foot within its radius: every piece of
every street edge whose walk distance from the facility (access + along the streets, from the
snap position, never node to node) is at most the radius. For an edge ``(u, v)`` of length
``L`` and node distances ``du``, ``dv`` the reached parts are ``[0, r - du]`` from ``u`` and
``[L - (r - dv), L]`` from ``v``; the facility's own edge is also reached directly around its
snap position. The edges are cut at those exact distances with shapely's array functions in
one pass over all (facility, edge) pairs; nothing loops per edge or per facility in Python.

``kind="polygon"`` buffers those reached lines by ``buffer_m``: the *buffered reached street
space*. It is neither a convex hull (which would claim blocks and water no street reaches)
nor a Euclidean circle (which ignores the street layout).

How the polygons are built (the GEOS union of overlapping buffers is the cost, about 95% of
it; buffering is cheap). When many areas are asked of a network (together they reach at
least as many pieces as the network has edges), the network first gets, once per
``buffer_m`` and memoised on it, the buffer of every whole edge and a quadtree of square
tiles (side ``buffer_m``, doubling up to the whole network; an edge belongs to the tile of its
midpoint) holding the union of the buffers of each tile's edges, built bottom-up. An area
then takes, coarsest first, the union polygon of every tile whose edges it reaches entirely,
the cached buffer of every other whole reached edge, and buffers only its partly reached
pieces; one cascaded union of those few parts gives the polygon. The result is the same set
as the union of the buffers of the reached pieces (it only regroups that union), so it holds
every reached line and nothing farther than ``buffer_m`` from them; on Helsinki an area is
then built from about a fifth of the parts. Fewer areas are unioned piece by piece.

``method="grid"`` draws the same set without a union: the level ``buffer_m`` of the exact
distance to the reached pieces, sampled on a lattice of ``resolution_m`` and traced by
marching squares (:mod:`embedsite._service_grid`): boundaries within about
``resolution_m / 2`` of the exact ones, 5-8x faster; for maps of many facilities.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from scipy import sparse

from embedsite._config import show_progress
from embedsite._graphbuild import ranges
from embedsite._paths import source_node_distances
from embedsite._service_grid import edge_axis, grid_polygons, on_axis
from embedsite.errors import CRSError, InputError, MissingColumnError
from embedsite.network import PedestrianNetwork

__all__ = ["service_areas"]

Kind = Literal["polygon", "lines"]
Method = Literal["exact", "grid"]
_SNAP_COLUMNS = ("edge", "position_m", "to_u_m", "to_v_m", "access_m")


def service_areas(
    network: PedestrianNetwork,
    sources: gpd.GeoDataFrame,
    radius_m: float | ArrayLike,
    *,
    buffer_m: float = 25.0,
    kind: Kind = "polygon",
    node_dist: sparse.csr_array | None = None,
    method: Method = "exact",
    resolution_m: float | None = None,
) -> gpd.GeoDataFrame:
    """The street space each source reaches on foot within its radius.

    Parameters
    ----------
    network
        The pedestrian network.
    sources
        Snapped points (:meth:`PedestrianNetwork.snap` output), e.g. facilities.
    radius_m
        Walk radius in metres: one number, or one per source. The source's access distance
        (from the point to its street) counts against it.
    buffer_m
        Half-width in metres of the street space around the reached lines (``kind="polygon"``).
    kind
        ``"polygon"`` (default): the reached lines buffered by ``buffer_m``, the *buffered
        reached street space* (never a convex hull, never a Euclidean circle).
        ``"lines"``: the reached street pieces, exact to the metre, as a MultiLineString.
    node_dist
        Walk distances from the sources to the street nodes
        (:func:`embedsite._paths.source_node_distances` of the same sources with a limit of at
        least the largest radius), to reuse a search already made; computed when ``None``.
    method
        How polygons are drawn. ``"exact"`` (default): the union of the buffered reached
        pieces, exact to GEOS precision. ``"grid"``: the same set traced as the level
        ``buffer_m`` of the exact distance to the reached pieces sampled on a lattice of
        spacing ``resolution_m`` (:mod:`embedsite._service_grid`): the boundary within about
        ``resolution_m / 2`` of the exact one, courtyards narrower than the lattice may close,
        every reached line inside; several times faster, for maps of many facilities.
    resolution_m
        Lattice spacing of ``method="grid"`` in metres; by default ``buffer_m / 5``.

    Returns
    -------
    GeoDataFrame
        Index of ``sources``, in the network CRS: ``street_length_m`` (reached street length,
        geodesic metres), ``area_m2`` (polygons only) and ``geometry``. A source whose access
        alone exceeds its radius gets an empty geometry and zero length.

    Raises
    ------
    InputError
        A radius that is not positive or NaN, a bad ``buffer_m``/``kind``, or sources that are
        not snapped onto this network (``MissingColumnError``, ``CRSError``).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> import embedsite.network as en
    >>> from embedsite._service_areas import service_areas
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> pts = gpd.GeoDataFrame({"name": ["school", "clinic"]},
    ...                        geometry=[shapely.Point(24.94, 60.17), shapely.Point(24.95, 60.17)],
    ...                        crs=4326).set_index("name")
    >>> areas = service_areas(net, net.snap(pts), 500)
    >>> list(areas.columns), list(areas.index)
    (['street_length_m', 'area_m2', 'geometry'], ['school', 'clinic'])
    >>> bool((areas["street_length_m"] > 1000).all())
    True
    >>> lines = service_areas(net, net.snap(pts), 500, kind="lines")
    >>> lines.geom_type.unique().tolist()
    ['MultiLineString']
    """
    radius, columns, h = _check(
        network, sources, radius_m, buffer_m, kind, node_dist, method, resolution_m
    )
    k = len(sources)
    if k == 0:
        empty = {c: pd.Series(dtype=float) for c in columns}
        return gpd.GeoDataFrame(
            empty, geometry=gpd.GeoSeries(crs=network.crs), index=sources.index[:0]
        )
    edge_u, edge_v = network.edge_nodes
    length = network.edge_lengths
    if node_dist is None:
        csr = network.csr
        node_dist = source_node_distances(csr, edge_u, edge_v, sources, limit=float(radius.max()))
    s, e, lo, hi = _reached_intervals(node_dist, edge_u, edge_v, length, sources, radius)
    street = np.bincount(s, weights=hi - lo, minlength=k)
    geoms = network.edge_geometry
    data: dict[str, np.ndarray] = {"street_length_m": street}
    if kind == "polygon" and method == "grid":
        out = grid_polygons(geoms, length, s, e, lo, hi, k, buffer_m, h)
        data["area_m2"] = shapely.area(out)
        return gpd.GeoDataFrame(data, geometry=out, index=sources.index, crs=network.crs)
    lines = _cut(geoms, length, e, lo, hi)
    if kind == "lines":
        out = np.array([shapely.MultiLineString()] * k, dtype=object)
        if len(lines):
            shapely.multilinestrings(lines, indices=s, out=out)
    else:
        progress = show_progress()
        cache = network._derived.setdefault(_TILES_KEY, {})
        if buffer_m not in cache and len(s) >= len(length):
            cache[buffer_m] = _Tiles.of(geoms, buffer_m)
        tiles = cache.get(buffer_m)
        if tiles is None:
            out = _union_by_group(shapely.buffer(lines, buffer_m), s, k, progress=progress)
        else:
            full = (lo <= 0.0) & (hi >= length[e])
            group, polys, rest = tiles.parts(s, e, full)
            pieces = tiles.buffers[e[rest]]  # whole edges: their cached buffer
            partial = ~full[rest]
            pieces[partial] = shapely.buffer(lines[rest][partial], buffer_m)
            out = _union_by_group(
                np.concatenate([polys, pieces]),
                np.concatenate([group, s[rest]]),
                k,
                progress=progress,
            )
        data["area_m2"] = shapely.area(out)
    return gpd.GeoDataFrame(data, geometry=out, index=sources.index, crs=network.crs)


_TILES_KEY = "service_areas.tiles"


@dataclass(frozen=True)
class _Tiles:
    """The buffer of every whole edge, and the union of those buffers over a quadtree of
    square tiles (finest level first; an edge is in the tile of its midpoint)."""

    buffers: np.ndarray  # (m,) buffer of each edge
    tile: tuple[np.ndarray, ...]  # per level: tile of each edge
    union: tuple[np.ndarray, ...]  # per level: union of the buffers of each tile's edges
    size: tuple[np.ndarray, ...]  # per level: edges in each tile

    @classmethod
    def of(
        cls,
        geoms: np.ndarray,
        buffer_m: float,
        *,
        side_m: float | None = None,
        max_levels: int = 16,
    ) -> _Tiles:
        side = buffer_m if side_m is None else side_m
        buffers = shapely.buffer(geoms, buffer_m)
        mid = shapely.get_coordinates(shapely.line_interpolate_point(geoms, 0.5, normalized=True))
        mid = mid - mid.min(axis=0)
        tiles, unions, sizes = [], [], []
        below, below_union = np.arange(len(geoms)), buffers
        for level in range(max_levels):
            cell = np.floor(mid / (side * 2.0**level)).astype(np.int64)
            _, tile = np.unique(cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1],
                                return_inverse=True)  # fmt: skip
            tile = tile.ravel()
            n_tiles = int(tile.max()) + 1
            # tiles nest (same origin, doubling side): each finer tile has one parent
            parent = np.empty(len(below_union), dtype=np.int64)
            parent[below] = tile
            union = _union_by_group(below_union, parent, n_tiles)
            tiles.append(tile)
            unions.append(union)
            sizes.append(np.bincount(tile, minlength=n_tiles))
            if n_tiles == 1:
                break
            below, below_union = tile, union
        return cls(buffers, tuple(tiles), tuple(unions), tuple(sizes))

    def parts(
        self, s: np.ndarray, e: np.ndarray, full: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The tile unions each area takes (its number, the polygon), coarsest first, for
        the tiles whose edges it reaches entirely (pieces ``(s, e)``, whole where ``full``),
        and a mask of the pieces those tiles leave over."""
        covered = np.zeros(len(s), dtype=bool)
        groups, polys = [], []
        for tile, union, size in zip(
            self.tile[::-1], self.union[::-1], self.size[::-1], strict=True
        ):
            n_tiles = len(size)
            key = s.astype(np.int64) * n_tiles + tile[e]
            uniq, count = np.unique(key[full], return_counts=True)
            t_of = uniq % n_tiles
            whole = uniq[(count == size[t_of]) & (size[t_of] > 1)]
            hit = full & ~covered & np.isin(key, whole)
            chosen = np.unique(key[hit])
            groups.append(chosen // n_tiles)
            polys.append(union[chosen % n_tiles])
            covered |= hit
        return np.concatenate(groups), np.concatenate(polys), ~covered


def _union_by_group(
    polys: np.ndarray, group: np.ndarray, k: int, *, progress: bool = False
) -> np.ndarray:
    """Union of the polygons of each group ``0..k-1``: one GEOS cascaded union per group, in
    one call over a padded groups x parts array per chunk of groups; an empty polygon for a
    group with none. ``progress`` draws a bar over the chunks."""
    out = np.array([shapely.Polygon()] * k, dtype=object)
    if len(polys) == 0:
        return out
    order = np.argsort(group, kind="stable")
    group, polys = group[order], polys[order]
    count = np.bincount(group, minlength=k)
    first = np.cumsum(count) - count
    chunks: Iterable[int] = range(0, k, _CHUNK)
    if progress and k > _CHUNK:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc="service-area polygons", unit="chunk",
                      total=-(-k // _CHUNK))  # fmt: skip
    for a in chunks:  # chunks of areas (for the progress bar), one GEOS call each
        b = min(a + _CHUNK, k)
        lo, hi = first[a], first[b - 1] + count[b - 1]
        g = group[lo:hi] - a
        rank = np.arange(hi - lo) - (first[a:b] - lo)[g]
        padded = np.full((b - a, max(int(count[a:b].max()), 1)), None, dtype=object)
        padded[g, rank] = polys[lo:hi]
        united = shapely.union_all(padded, axis=1)
        has = count[a:b] > 0
        out[a:b][has] = united[has]
    return out


_CHUNK = 256  # areas per GEOS union call


def _check(
    network: PedestrianNetwork,
    sources: gpd.GeoDataFrame,
    radius_m: float | ArrayLike,
    buffer_m: float,
    kind: str,
    node_dist: sparse.csr_array | None,
    method: str,
    resolution_m: float | None,
) -> tuple[np.ndarray, list[str], float]:
    """Validate the public arguments once; return the per-source radius, the output columns
    and the lattice spacing of ``method="grid"``."""
    if kind not in ("polygon", "lines"):
        raise InputError(f"kind must be 'polygon' or 'lines', not {kind!r}")
    if kind == "polygon" and not (np.isfinite(buffer_m) and buffer_m > 0):
        raise InputError(f"buffer_m must be a positive number of metres, not {buffer_m}")
    if method not in ("exact", "grid"):
        raise InputError(f"method must be 'exact' or 'grid', not {method!r}")
    h = buffer_m / 5 if resolution_m is None else float(resolution_m)
    if method == "grid" and not (np.isfinite(h) and 0 < h <= buffer_m):
        raise InputError(
            f"resolution_m must be positive metres, at most buffer_m ({buffer_m}), not {h}"
        )
    if not isinstance(sources, gpd.GeoDataFrame):
        raise InputError(
            f"sources must be a GeoDataFrame from network.snap(...), not {type(sources).__name__}"
        )
    missing = [c for c in _SNAP_COLUMNS if c not in sources.columns]
    if missing:
        raise MissingColumnError(
            f"sources lack the snap columns {missing}; pass network.snap(points), not the points"
        )
    if len(sources) and (sources.crs is None or not network.crs.equals(sources.crs)):
        raise CRSError(
            f"sources are in {sources.crs!r}, the network in {network.crs.name!r}; snap them "
            "onto this network with network.snap(points)"
        )
    edge = sources["edge"].to_numpy()
    if len(edge) and (edge.min() < 0 or edge.max() >= len(network.edge_lengths)):
        raise InputError("sources' 'edge' values are not edges of this network; snap onto it")
    try:
        radius = np.broadcast_to(np.asarray(radius_m, dtype=float), (len(sources),)).copy()
    except ValueError as exc:
        raise InputError(
            f"radius_m must be one number or one per source ({len(sources)}), not "
            f"{np.shape(radius_m)}"
        ) from exc
    bad = ~(radius > 0)  # NaN is bad too
    if bad.any():
        raise InputError(
            f"radius_m must be positive metres; got {radius[bad][:5].tolist()} for sources "
            f"{list(sources.index[bad][:5])}"
        )
    if node_dist is not None and node_dist.shape != (len(sources), len(network)):
        raise InputError(
            f"node_dist has shape {node_dist.shape}, expected (sources, nodes) = "
            f"{(len(sources), len(network))}: use source_node_distances of these sources"
        )
    columns = ["street_length_m"] + (["area_m2"] if kind == "polygon" else [])
    return radius, columns, h


def _reached_intervals(
    node_dist: sparse.csr_array,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    length: np.ndarray,
    sources: pd.DataFrame,
    radius: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint reached intervals ``[lo, hi]`` (geodesic metres from ``u``) of (source, edge),
    sorted by source then edge."""
    m = len(length)
    coo = sparse.coo_array(node_dist)
    ok = coo.data <= radius[coo.row]
    src, node, slack = coo.row[ok], coo.col[ok], radius[coo.row[ok]] - coo.data[ok]
    # incidence: the edge ends at every node, grouped by node
    ends = np.concatenate([edge_u, edge_v])
    order = np.argsort(ends, kind="stable")
    n = node_dist.shape[1]
    degree = np.bincount(ends, minlength=n)
    first = np.cumsum(degree) - degree
    pos, grp = ranges(first[node], degree[node])
    end = order[pos]
    e = end % m
    from_v = end >= m
    sl = slack[grp]
    big_l = length[e]
    lo = np.where(from_v, np.maximum(0.0, big_l - sl), 0.0)
    hi = np.where(from_v, big_l, np.minimum(big_l, sl))
    # the source's own edge, reached directly around the snap position
    own_slack = radius - sources["access_m"].to_numpy(float)
    own = np.flatnonzero(own_slack > 0)
    own_e = sources["edge"].to_numpy()[own]
    own_pos = sources["position_m"].to_numpy(float)[own]
    s = np.concatenate([src[grp], own])
    e = np.concatenate([e, own_e])
    lo = np.concatenate([lo, np.maximum(0.0, own_pos - own_slack[own])])
    hi = np.concatenate([hi, np.minimum(length[own_e], own_pos + own_slack[own])])
    # union of the (up to three) intervals of each (source, edge)
    key = s.astype(np.int64) * m + e
    srt = np.lexsort((lo, key))
    key, s, e, lo, hi = key[srt], s[srt], e[srt], lo[srt], hi[srt]
    reach = pd.Series(hi).groupby(key).cummax().to_numpy()
    new = np.ones(len(key), dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (lo[1:] > reach[:-1])
    starts = np.flatnonzero(new)
    if len(starts) == 0:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty.astype(np.int64), empty, empty
    m_hi = np.maximum.reduceat(hi, starts)
    m_lo = lo[starts]
    keep = m_hi > m_lo
    return s[starts][keep], e[starts][keep], m_lo[keep], m_hi[keep]


def _cut(
    geoms: np.ndarray, length: np.ndarray, e: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """The parts ``[lo, hi]`` (geodesic metres from ``u``) of edges ``e`` as LineStrings."""
    if len(e) == 0:
        return np.zeros(0, dtype=object)
    axis = edge_axis(geoms, length)
    coords, along, first, last, _ = axis
    f, la = first[e], last[e]
    a, b = on_axis(axis, e, lo), on_axis(axis, e, hi)
    k0 = np.maximum(np.searchsorted(along, a, side="right"), f + 1)
    k1 = np.minimum(np.searchsorted(along, b, side="left"), la)
    n_in = np.maximum(k1 - k0, 0)

    def point_at(t: np.ndarray) -> np.ndarray:
        j = np.clip(np.searchsorted(along, t, side="right") - 1, f, la - 1)
        seg = along[j + 1] - along[j]
        frac = np.divide(t - along[j], seg, out=np.zeros_like(t), where=seg > 0)
        frac = np.clip(frac, 0.0, 1.0)[:, None]
        return coords[j] + frac * (coords[j + 1] - coords[j])

    n_pts = n_in + 2
    out_first = np.cumsum(n_pts) - n_pts
    out = np.empty((int(n_pts.sum()), 2))
    out[out_first] = point_at(a)
    out[out_first + n_pts - 1] = point_at(b)
    pos, grp = ranges(k0, n_in)
    out[out_first[grp] + 1 + (pos - k0[grp])] = coords[pos]
    return shapely.linestrings(out, indices=np.repeat(np.arange(len(e)), n_pts))

"""Vectorised construction of a pedestrian graph from OSM way pieces (private).

Every step works on whole numpy arrays: ways are cut into pieces where nodes are missing or
clipped away, pieces are cut into edges at shared nodes, and chains of edges through degree-2
nodes are merged with shapely's ``line_merge``. Only the rare closed chains (a loop through a
single junction, or a ring with no junction at all) are oriented in Python.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from embedsite.crs import check_crs
from embedsite.errors import CRSError, InputError

if TYPE_CHECKING:
    from embedsite._osmread import WayTable

__all__ = [
    "EdgeArrays",
    "Segments",
    "adjacency",
    "clip_geometry",
    "geodesic_lengths",
    "merge_degree2",
    "nodes_from_edges",
    "pieces",
    "pieces_to_edges",
    "ranges",
]

_GEOD = Geod(ellps="WGS84")


@dataclass
class EdgeArrays:
    """Edges by node position: ``u``/``v`` index ``node_id``; ``row`` indexes the tag table."""

    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    geometry: np.ndarray
    row: np.ndarray


@dataclass(frozen=True)
class Segments:
    """The straight segments of every edge, indexed for exact nearest-segment queries.

    The index is a k-d tree (scipy ``cKDTree``) of sample points: every segment is cut into
    pieces at most ``spacing`` long and each piece's midpoint is a sample, so every point of a
    segment lies within ``spacing / 2`` of one of its samples (the bound is widened by 1 um
    against rounding). For a query point, the segments of its ``k`` nearest samples are
    candidates and the nearest of them (numpy projection) is at ``d``. Any segment nearer
    than ``d`` would have a sample within ``d + spacing / 2``; when the ``k``-th sample is
    farther than that, no segment was missed and the answer is exact. The few points where it
    is not (far from the streets, many samples about as near) are asked again with more
    samples, and the last few for every sample within ``d + spacing / 2``. Exact ties go to
    the lowest segment. Cheaper than GEOS' nearest search per point (an STRtree of the
    segments is built only to measure the few far points an error message names), and
    smaller in memory than shapely segments.
    """

    start: np.ndarray  # (k, 2) first point of each segment
    vector: np.ndarray  # (k, 2) segment end minus start
    offset: np.ndarray  # drawn length along the edge up to the segment's start
    edge: np.ndarray  # edge position of each segment
    edge_length: np.ndarray  # drawn (projected) length of each edge
    spacing: float  # largest gap between samples along a segment
    samples: cKDTree  # sample points along the segments
    sample_segment: np.ndarray  # segment of each sample
    passes: tuple[int, ...] = (8, 32)  # samples asked per point, then of the unsure
    _geos: dict[str, shapely.STRtree] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, geometry: np.ndarray, *, spacing: float | None = None) -> Segments:
        """The segments of shapely lines (by position in ``geometry``)."""
        coords, idx = shapely.get_coordinates(geometry, return_index=True)
        return cls.from_coords(coords, idx, len(geometry), spacing=spacing)

    @classmethod
    def from_coords(
        cls, coords: np.ndarray, idx: np.ndarray, n_lines: int, *, spacing: float | None = None
    ) -> Segments:
        """The segments of lines given as coordinates and the line of each (ascending)."""
        same = idx[1:] == idx[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        edge = idx[:-1][same]
        vec = b - a
        seg_len = np.hypot(vec[:, 0], vec[:, 1])
        cum = np.cumsum(seg_len) - seg_len
        first = np.searchsorted(edge, np.arange(n_lines))
        first = np.minimum(first, max(len(edge) - 1, 0))
        offset = cum - cum[first[edge]]
        edge_length = np.bincount(edge, weights=seg_len, minlength=n_lines)
        # samples about one typical segment apart (5-50 m): few per segment, small tree
        if spacing is None:
            spacing = float(np.clip(np.median(seg_len), 5.0, 50.0)) if len(seg_len) else 5.0
        # samples are the midpoints of pieces at most `spacing` long: every point of a
        # segment lies within spacing / 2 of one, and (unlike sampling the piece ends) no two
        # segments meeting at a junction put a sample on the same spot
        n_pieces = np.maximum(np.ceil(seg_len / spacing), 1).astype(np.int64)
        pos, grp = ranges(np.zeros(len(a), dtype=np.int64), n_pieces)
        frac = (pos + 0.5) / n_pieces[grp]
        pts = a[grp] + frac[:, None] * vec[grp]
        index_dtype = np.int32 if len(a) < 2**31 else np.int64
        return cls(
            start=a,
            vector=vec,
            offset=offset,
            edge=edge.astype(index_dtype),
            edge_length=edge_length,
            spacing=spacing,
            samples=cKDTree(pts, balanced_tree=False),
            sample_segment=grp.astype(index_dtype),
        )

    def distance(self, xy: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """Distance from each point to a segment (broadcasting ``xy[:, None]`` over ``seg``)."""
        dx, dy = self.vector[seg, 0], self.vector[seg, 1]
        rx, ry = xy[..., 0] - self.start[seg, 0], xy[..., 1] - self.start[seg, 1]
        dd = dx * dx + dy * dy
        t = np.divide(rx * dx + ry * dy, dd, out=np.zeros(rx.shape), where=dd > 0)
        np.clip(t, 0.0, 1.0, out=t)
        rx -= t * dx
        ry -= t * dy
        return np.sqrt(rx * rx + ry * ry)

    def nearest(self, xy: np.ndarray, max_distance: float) -> np.ndarray:
        """The nearest segment of each point, exactly, where it is at most ``max_distance``
        away; -1 where every segment is farther.

        On a large tree the points are asked in Z order (Morton code), so that consecutive
        queries walk the same branches (about 2x faster on 400,000 samples than random
        order; the answer does not depend on the order). They go in chunks of 65,536, so
        the candidate arrays (points x samples asked) stay small however many points come."""
        xy = np.asarray(xy, dtype=float)
        if len(xy) <= _SORT_MIN or len(self.sample_segment) <= _SORT_MIN_SAMPLES:
            return self._nearest(xy, max_distance)  # small tree: it stays in cache anyway
        order = np.argsort(_morton(xy), kind="stable")
        seg = np.empty(len(xy), dtype=np.int64)
        for i in range(0, len(xy), _CHUNK):
            part = order[i : i + _CHUNK]
            seg[part] = self._nearest(xy[part], max_distance)
        return seg

    def _nearest(self, xy: np.ndarray, max_distance: float) -> np.ndarray:
        if len(xy) > _CHUNK:
            return np.concatenate(
                [self._nearest(xy[i : i + _CHUNK], max_distance) for i in range(0, len(xy), _CHUNK)]
            )
        n = len(xy)
        seg = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        half = self.spacing / 2 + 1e-6  # 1 um of slack: rounding never breaks the bound
        bound = max_distance + half  # a segment within max_distance has a sample within this
        n_samples = len(self.sample_segment)
        todo = np.arange(n)
        for k in self.passes:
            if len(todo) == 0:
                break
            k = min(k, n_samples)
            d_k, i_k = self.samples.query(xy[todo], k=k, distance_upper_bound=bound)
            d_k, i_k = d_k.reshape(len(todo), k), i_k.reshape(len(todo), k)
            found = i_k < n_samples
            cand = np.where(found, self.sample_segment[np.minimum(i_k, n_samples - 1)], -1).astype(
                np.int64
            )
            dc = np.where(found, self.distance(xy[todo][:, None, :], np.maximum(cand, 0)), np.inf)
            best = dc.min(axis=1)
            tie = np.where(dc == best[:, None], cand, np.iinfo(np.int64).max).min(axis=1)
            # exact when every sample within best + spacing / 2 came back: the k-th is
            # farther, or fewer than k lie within the bound (then also when none does)
            sure = (d_k[:, -1] > best + half) | ~found[:, -1]
            done = todo[sure]
            near = np.isfinite(best[sure])
            seg[done[near]] = tie[sure][near]
            dist[todo] = best  # the unsure keep an upper bound of their distance
            todo = todo[~sure]
        if len(todo):  # the few left: every sample within best + spacing / 2, exactly
            balls = self.samples.query_ball_point(xy[todo], r=dist[todo] + half)
            count = np.fromiter(map(len, balls), dtype=np.int64, count=len(balls))
            flat = np.fromiter(itertools.chain.from_iterable(balls), dtype=np.int64,
                               count=int(count.sum()))  # fmt: skip
            row = np.repeat(np.arange(len(todo)), count)
            cand = self.sample_segment[flat].astype(np.int64)
            dc = self.distance(xy[todo][row], cand)
            order = np.lexsort((cand, dc, row))  # per point: nearest, then lowest segment
            first = np.ones(len(order), dtype=bool)
            first[1:] = row[order][1:] != row[order][:-1]
            pick = order[first]
            seg[todo[row[pick]]] = cand[pick]
            dist[todo[row[pick]]] = dc[pick]
        seg[dist > max_distance] = -1
        return seg

    def geos_nearest(self, xy: np.ndarray) -> np.ndarray:
        """Nearest segment by GEOS' STRtree (built on first use), one per point."""
        if "tree" not in self._geos:
            end = self.start + self.vector
            lines = shapely.linestrings(
                np.stack([self.start, end], axis=1).reshape(-1, 2),
                indices=np.repeat(np.arange(len(self.start)), 2),
            )
            self._geos["tree"] = shapely.STRtree(lines)
        # without max_distance: with it GEOS first collects every segment in range (slow)
        _, s = self._geos["tree"].query_nearest(shapely.points(xy), all_matches=False)
        return np.asarray(s, dtype=np.int64)

    def project(self, xy: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Project points onto segments: drawn distance along the edge, the foot, the distance."""
        a = self.start[seg]
        d = self.vector[seg]
        dd = np.einsum("ij,ij->i", d, d)
        t = np.divide(np.einsum("ij,ij->i", xy - a, d), dd, out=np.zeros(len(seg)), where=dd > 0)
        t = np.clip(t, 0.0, 1.0)
        foot = a + t[:, None] * d
        along = self.offset[seg] + t * np.sqrt(dd)
        dist = np.hypot(*(xy - foot).T)
        return along, foot, dist


_CHUNK = 2**16  # points per nearest-segment query
_SORT_MIN = 4096  # fewer points are asked in their own order
_SORT_MIN_SAMPLES = 65_536  # and so are the points of a tree this small (no gain measured)


def _morton(xy: np.ndarray) -> np.ndarray:
    """Z-order (Morton) code of points on a 65,536 x 65,536 grid over their bounds."""
    lo = np.nanmin(xy, axis=0)
    span = np.maximum(np.nanmax(xy, axis=0) - lo, 1e-9)
    q = np.nan_to_num((xy - lo) / span * 65535.0).astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1))


def ranges(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(s, s + n)`` for every (s, n), and the group of each element."""
    group = np.repeat(np.arange(len(starts)), lengths)
    first = np.cumsum(lengths) - lengths
    pos = starts[group] + (np.arange(int(lengths.sum())) - first[group])
    return pos, group


def segment_lengths(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Geodesic (WGS-84 ellipsoid) length in metres of each consecutive pair of points."""
    if len(lon) < 2:
        return np.zeros(0)
    _, _, dist = _GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.asarray(dist, dtype=float)


def pieces_to_edges(
    node_id: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    piece: np.ndarray,
) -> tuple[np.ndarray, EdgeArrays]:
    """Cut pieces (consecutive runs of nodes sharing a piece label) into edges at graph nodes.

    A graph node is a piece end, or a node that occurs more than once (shared by pieces or
    visited twice by one). Lengths are geodesic sums over the OSM segments; geometries are
    WGS-84 LineStrings. Returns the unique node ids and the edges (``row`` is the piece).
    """
    n = len(node_id)
    uniq, inverse, counts = np.unique(node_id, return_inverse=True, return_counts=True)
    graph_node = counts[inverse] > 1
    graph_node[0] = graph_node[-1] = True
    change = np.flatnonzero(piece[1:] != piece[:-1])
    graph_node[change] = True
    graph_node[change + 1] = True
    pos = np.flatnonzero(graph_node)
    start, end = pos[:-1], pos[1:]
    same = piece[start] == piece[end]
    start, end = start[same], end[same]
    cum = np.zeros(n)
    np.cumsum(segment_lengths(lon, lat), out=cum[1:])
    coord_pos, group = ranges(start, end - start + 1)
    geometry = shapely.linestrings(lon[coord_pos], lat[coord_pos], indices=group)
    edges = EdgeArrays(
        u=inverse[start],
        v=inverse[end],
        length=cum[end] - cum[start],
        geometry=np.asarray(geometry),
        row=piece[start],
    )
    return uniq, edges


def _first_last_coords(geometry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first = shapely.get_coordinates(shapely.get_point(geometry, 0))
    last = shapely.get_coordinates(shapely.get_point(geometry, -1))
    return first, last


def _rotate_ring(line: shapely.LineString, start_xy: np.ndarray) -> shapely.LineString:
    coords = np.asarray(line.coords)
    ring = coords[:-1]
    k = int(np.argmin(np.hypot(*(ring - start_xy).T)))
    rotated = np.vstack([ring[k:], ring[:k], ring[k : k + 1]])
    return shapely.LineString(rotated)


def merge_degree2(
    edges: EdgeArrays,
    node_xy: np.ndarray,
    highway: np.ndarray,
) -> EdgeArrays:
    """Merge chains of edges through degree-2 nodes where the street type does not change.

    The merged edge keeps the tag row of its longest member, the summed length and the
    line-merged geometry, oriented from ``u`` to ``v``. A degree-2 node where ``highway``
    changes (say a footway becomes steps) stays, so each edge has one street type.
    """
    m = len(edges.u)
    n = len(node_xy)
    if m == 0:
        return edges
    ends = np.concatenate([edges.u, edges.v])
    edge_of_end = np.concatenate([np.arange(m), np.arange(m)])
    degree = np.bincount(ends, minlength=n)
    order = np.argsort(ends, kind="stable")
    sorted_ends = ends[order]
    first = np.searchsorted(sorted_ends, np.arange(n))
    cand = np.flatnonzero(degree == 2)
    e1 = edge_of_end[order[first[cand]]]
    e2 = edge_of_end[order[first[cand] + 1]]
    hw = np.asarray(highway, dtype=object)
    ok = (e1 != e2) & (hw[e1] == hw[e2])
    e1, e2, merged_nodes = e1[ok], e2[ok], cand[ok]
    if len(merged_nodes) == 0:
        return edges
    adj = sparse.coo_array((np.ones(len(e1)), (e1, e2)), shape=(m, m))
    _, comp = csgraph.connected_components(adj, directed=False)
    sizes = np.bincount(comp)
    multi = sizes[comp] > 1
    keep = ~multi

    members = np.flatnonzero(multi)
    members = members[np.argsort(comp[members], kind="stable")]
    mcomp = comp[members]
    labels, local = np.unique(mcomp, return_inverse=True)
    k = len(labels)
    merged_geom = np.asarray(
        shapely.line_merge(shapely.multilinestrings(edges.geometry[members], indices=local))
    )
    merged_len = np.bincount(local, weights=edges.length[members], minlength=k)
    longest = (
        pd.DataFrame({"c": local, "len": edges.length[members], "row": edges.row[members]})
        .sort_values(["c", "len"], ascending=[True, False], kind="stable")
        .drop_duplicates("c")
    )
    merged_row = longest["row"].to_numpy()

    # chain ends: member end nodes that occur an odd number of times within the chain
    is_merged_node = np.zeros(n, dtype=bool)
    is_merged_node[merged_nodes] = True
    end_nodes = np.concatenate([edges.u[members], edges.v[members]])
    end_comp = np.concatenate([local, local])
    key = end_comp.astype(np.int64) * n + end_nodes
    ukey, kcount = np.unique(key, return_counts=True)
    odd = ukey[kcount % 2 == 1]
    odd_comp, odd_node = odd // n, odd % n
    u = np.full(k, -1, dtype=np.int64)
    v = np.full(k, -1, dtype=np.int64)
    first_idx = np.searchsorted(odd_comp, np.arange(k))
    has_ends = np.bincount(odd_comp, minlength=k) == 2
    u[has_ends] = odd_node[first_idx[has_ends]]
    v[has_ends] = odd_node[first_idx[has_ends] + 1]

    simple = has_ends & (shapely.get_type_id(merged_geom) == 1)
    start_xy, _ = _first_last_coords(merged_geom[simple])
    d_u = np.hypot(*(node_xy[u[simple]] - start_xy).T)
    d_v = np.hypot(*(node_xy[v[simple]] - start_xy).T)
    swap = d_v < d_u
    su, sv = u[simple], v[simple]
    u[simple] = np.where(swap, sv, su)
    v[simple] = np.where(swap, su, sv)

    # closed chains: a loop through one junction, or a ring with no junction (rare; in Python)
    for c in np.flatnonzero(~simple):
        mem = np.flatnonzero(local == c)
        nodes_c = np.unique(np.concatenate([edges.u[members[mem]], edges.v[members[mem]]]))
        junction = nodes_c[~is_merged_node[nodes_c]]
        anchor = int(junction[0]) if len(junction) else int(nodes_c[0])
        line = shapely.line_merge(shapely.MultiLineString(list(edges.geometry[members[mem]])))
        if line.geom_type != "LineString":  # pragma: no cover - defensive
            line = shapely.LineString(shapely.get_coordinates(line))
        merged_geom[c] = _rotate_ring(line, node_xy[anchor])
        u[c] = v[c] = anchor

    return EdgeArrays(
        u=np.concatenate([edges.u[keep], u]),
        v=np.concatenate([edges.v[keep], v]),
        length=np.concatenate([edges.length[keep], merged_len]),
        geometry=np.concatenate([edges.geometry[keep], merged_geom]),
        row=np.concatenate([edges.row[keep], merged_row]),
    )


def geodesic_lengths(geometry: np.ndarray) -> np.ndarray:
    coords, idx = shapely.get_coordinates(geometry, return_index=True)
    seg = segment_lengths(coords[:, 0], coords[:, 1])
    same = idx[1:] == idx[:-1]
    return np.bincount(idx[:-1][same], weights=seg[same], minlength=len(geometry))


def clip_geometry(
    polygon: shapely.Polygon | shapely.MultiPolygon | gpd.GeoDataFrame | gpd.GeoSeries | None,
    bbox: tuple[float, float, float, float] | None,
) -> shapely.Geometry | None:
    if polygon is not None and bbox is not None:
        raise InputError("give either polygon or bbox, not both")
    if bbox is not None:
        if len(bbox) != 4:
            raise InputError("bbox is (west, south, east, north) in WGS-84 degrees")
        w, s, e, n = (float(b) for b in bbox)
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            raise InputError(
                f"bbox {bbox} is not (west, south, east, north) in WGS-84 degrees with "
                "west < east and south < north; check the order (osmnx 2 uses the same order)."
            )
        return shapely.box(w, s, e, n)
    if polygon is None:
        return None
    if isinstance(polygon, gpd.GeoDataFrame | gpd.GeoSeries):
        check_crs(polygon, name="polygon")
        return shapely.union_all(polygon.to_crs(4326).geometry.to_numpy())
    if not isinstance(polygon, shapely.Polygon | shapely.MultiPolygon):
        raise InputError(
            f"polygon must be a shapely Polygon or a GeoDataFrame, not {type(polygon)}"
        )
    minx, miny, maxx, maxy = polygon.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise CRSError(
            f"polygon bounds {polygon.bounds} are not WGS-84 degrees; pass a GeoDataFrame "
            "with its CRS set, or reproject the polygon to EPSG:4326."
        )
    return polygon


def pieces(
    ways: WayTable, walkable: np.ndarray, clip: shapely.Geometry | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Cut walkable ways into runs of present (and, when clipping, inside) nodes."""
    counts = np.diff(ways.offsets)
    way_of = np.repeat(np.arange(ways.n_ways), counts)
    present = ~np.isnan(ways.lon)
    missing = int((~present & walkable[way_of]).sum())
    keep = walkable[way_of] & present
    if clip is not None:
        inside = np.zeros(len(keep), dtype=bool)
        inside[keep] = shapely.intersects_xy(clip, ways.lon[keep], ways.lat[keep])
        keep &= inside
    start = np.ones(len(keep), dtype=bool)
    start[1:] = (way_of[1:] != way_of[:-1]) | ~keep[:-1]
    piece = np.cumsum(start)[keep]
    node_id = ways.node_id[keep]
    lon, lat, wo = ways.lon[keep], ways.lat[keep], way_of[keep]
    # drop a node repeated back to back within a piece
    dup = np.zeros(len(node_id), dtype=bool)
    dup[1:] = (node_id[1:] == node_id[:-1]) & (piece[1:] == piece[:-1])
    node_id, lon, lat, wo, piece = node_id[~dup], lon[~dup], lat[~dup], wo[~dup], piece[~dup]
    # pieces of a single node carry no street
    _, piece, sizes = np.unique(piece, return_inverse=True, return_counts=True)
    ok = sizes[piece] > 1
    node_id, lon, lat, wo, piece = node_id[ok], lon[ok], lat[ok], wo[ok], piece[ok]
    first_of_piece, piece = np.unique(piece, return_index=True, return_inverse=True)[1:]
    return node_id, lon, lat, piece, wo[first_of_piece], missing


def adjacency(u: np.ndarray, v: np.ndarray, length: np.ndarray, n: int) -> sparse.csr_array:
    """Symmetric CSR of the shortest edge between each pair of nodes, without self-loops."""
    ok = u != v
    i = np.concatenate([u[ok], v[ok]])
    j = np.concatenate([v[ok], u[ok]])
    w = np.concatenate([length[ok], length[ok]])
    order = np.lexsort((w, j, i))
    i, j, w = i[order], j[order], w[order]
    first = np.ones(len(i), dtype=bool)
    first[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
    # a zero-length street (duplicated node positions) must stay an edge for csgraph
    w = np.maximum(w[first], 1e-9)
    return sparse.csr_array((w, (i[first], j[first])), shape=(n, n))


def nodes_from_edges(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = edges.geometry.to_numpy()
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    ids = np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()])
    xy = np.vstack([start, end])
    uniq, first = np.unique(ids, return_index=True)
    xy = xy[first]
    to_ll = Transformer.from_crs(edges.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    return gpd.GeoDataFrame(
        {"x": xy[:, 0], "y": xy[:, 1], "lon": lon, "lat": lat},
        geometry=shapely.points(xy),
        index=pd.Index(uniq, name="osmid"),
        crs=edges.crs,
    )

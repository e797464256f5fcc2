"""Vectorised construction of a pedestrian graph from OSM way pieces (private).

Every step works on whole numpy arrays: ways are cut into pieces where nodes are missing or
clipped away, pieces are cut into edges at shared nodes, and chains of edges through degree-2
nodes are merged with shapely's ``line_merge``. Only the rare closed chains (a loop through a
single junction, or a ring with no junction at all) are oriented in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer
from scipy import sparse
from scipy.sparse import csgraph

from embedsite import _snap_kernel
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

    The index is a pyramid of uniform grids (``_snap_kernel``): level 0 has square cells
    about one and a half typical segments wide (10 to 60 m, and wide enough that there are
    at most about ``_CELLS_PER_SEGMENT`` = 8 cells per segment), each next level cells
    twice as wide, up to a grid of 2 x 2 cells; every cell lists the segments that come
    within ``eps`` of it. A point scans its cell and rings of cells around it, keeping the
    nearest segment seen (exact distance), until the best distance is below the distance
    to the edge of the block scanned (no segment never seen can be nearer) or the block's
    edge passes ``max_distance``. Far from every street the search goes up a level after
    ``rings`` rings, so its cost stays bounded. Exact ties go to the lowest segment. An
    STRtree of the segments is built only to measure the few far points an error message
    names.
    """

    start: np.ndarray  # (k, 2) first point of each segment
    vector: np.ndarray  # (k, 2) segment end minus start
    offset: np.ndarray  # drawn length along the edge up to the segment's start
    edge: np.ndarray  # edge position of each segment
    edge_length: np.ndarray  # drawn (projected) length of each edge
    bounds: np.ndarray  # (x0, y0, x1, y1) of the segments; (x0, y0) is the grid origin
    cell: float  # cell width of level 0, metres
    nx: np.ndarray  # cells across each level
    ny: np.ndarray  # cells up each level
    base: np.ndarray  # first cell of each level in cell_start
    cell_start: np.ndarray  # segments of cell g: cell_seg[cell_start[g]:cell_start[g + 1]]
    cell_seg: np.ndarray  # (int32) segments listed per cell, by grid number, ascending
    grid_start: np.ndarray  # start of each segment in the grid's spatial (Z) order
    grid_vector: np.ndarray  # vector of each segment in that order
    grid_id: np.ndarray  # segment (position in start) of each grid number
    eps: float  # slack above rounding, metres
    rings: int = 2  # rings scanned per level before going up one
    _geos: dict[str, shapely.STRtree] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, geometry: np.ndarray, *, cell: float | None = None) -> Segments:
        """The segments of shapely lines (by position in ``geometry``)."""
        coords, idx = shapely.get_coordinates(geometry, return_index=True)
        return cls.from_coords(coords, idx, len(geometry), cell=cell)

    @classmethod
    def from_coords(
        cls, coords: np.ndarray, idx: np.ndarray, n_lines: int, *, cell: float | None = None
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
        index_dtype = np.int32 if len(a) < 2**31 else np.int64
        grid = _grid(np.ascontiguousarray(a), np.ascontiguousarray(vec), seg_len, cell)
        return cls(
            start=np.ascontiguousarray(a),
            vector=np.ascontiguousarray(vec),
            offset=offset,
            edge=edge.astype(index_dtype),
            edge_length=edge_length,
            **grid,
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
        away; -1 where every segment is farther (or a coordinate is not finite)."""
        return self.nearest_distance(xy, max_distance)[0]

    def nearest_distance(
        self, xy: np.ndarray, max_distance: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`nearest`, and the distance to that segment (``inf`` where -1)."""
        xy = np.ascontiguousarray(xy, dtype=float).reshape(-1, 2)
        if len(self.start) == 0:
            return np.full(len(xy), -1, dtype=np.int64), np.full(len(xy), np.inf)
        # neighbours asked one after another (cells of about 8 x 8 of level 0): the cells
        # and segments they read stay in cache
        k = min(3, len(self.nx) - 1)
        x0, y0 = self.bounds[0], self.bounds[1]
        order = _snap_kernel.cell_order(xy, x0, y0, self.cell * 2.0**k, self.nx[k], self.ny[k])
        seg, dist = _snap_kernel.nearest_segments(
            xy, order, self.grid_start, self.grid_vector, self.bounds, self.cell, self.nx,
            self.ny, self.base, self.cell_start, self.cell_seg, self.grid_id, int(self.rings),
            self.eps, float(max_distance),
        )  # fmt: skip
        return seg, dist

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

    def columns(
        self, xy: np.ndarray, seg: np.ndarray, length: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What ``snap`` returns for points with a segment: edge, metres along it from
        ``u`` (the projection's share of the drawn line times ``length[edge]``), metres to
        ``v``, access distance and the foot of the projection."""
        xy = np.ascontiguousarray(xy, dtype=float).reshape(-1, 2)
        seg = np.ascontiguousarray(seg, dtype=np.int64)
        edge, position, to_v, access, foot = _snap_kernel.snap_columns(
            xy, seg, self.start, self.vector, self.offset, self.edge, self.edge_length,
            np.ascontiguousarray(length, dtype=float),
        )  # fmt: skip
        return edge.astype(self.edge.dtype), position, to_v, access, foot

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays of the segments and their grid, bytes."""
        return sum(
            v.nbytes for v in (self.start, self.vector, self.offset, self.edge, self.edge_length,
                               self.cell_start, self.cell_seg, self.grid_start,
                               self.grid_vector, self.grid_id)
        )  # fmt: skip


_CELLS_PER_SEGMENT = 8  # at most about this many level-0 cells per segment


def _grid(
    start: np.ndarray, vector: np.ndarray, seg_len: np.ndarray, cell: float | None
) -> dict[str, Any]:
    """The pyramid of grids of ``Segments`` (see its docstring), as its fields."""
    if len(start):
        ends = np.concatenate([start, start + vector])
        lo, hi = ends.min(axis=0), ends.max(axis=0)
    else:
        lo = hi = np.zeros(2)
    scale = float(np.abs(np.concatenate([lo, hi])).max())
    eps = max(1e-6, 1e-12 * scale)
    width, height = float(hi[0] - lo[0]), float(hi[1] - lo[1])
    if cell is None:  # about one and a half typical segments wide, 10 to 60 m
        cell = float(np.clip(1.5 * np.median(seg_len), 10.0, 60.0)) if len(seg_len) else 10.0
        # no more than about eight cells per segment, however sparse the streets
        fine = (width * height / (_CELLS_PER_SEGMENT * len(seg_len) + 1024)) ** 0.5
        cell = max(cell, fine)
    # the origin a little off the segments' low corner: a street grid of round coordinates
    # then never runs along cell edges (where it would be listed in the cells of both sides)
    x0, y0 = lo[0] - 0.37 * cell, lo[1] - 0.37 * cell
    # segments numbered in Z order of their midpoints: the segments of a cell and of its
    # neighbours then lie side by side in memory
    grid_id = np.argsort(_morton(start + vector / 2), kind="stable")
    start = np.ascontiguousarray(start[grid_id])
    vector = np.ascontiguousarray(vector[grid_id])
    bounds = np.array([x0, y0, hi[0], hi[1]], dtype=float)
    nx, ny, counts = [], [], []
    h = cell
    for _ in range(64):
        kx = int((hi[0] - x0) // h) + 1
        ky = int((hi[1] - y0) // h) + 1
        nx.append(kx)
        ny.append(ky)
        counts.append(_snap_kernel.count_cells(start, vector, x0, y0, h, kx, ky, eps))
        if kx <= 2 and ky <= 2:
            break
        h *= 2.0
    sizes = np.array([len(c) for c in counts], dtype=np.int64)
    base = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    cell_start = np.zeros(int(sizes.sum()) + 1, dtype=np.int64)
    np.cumsum(np.concatenate(counts), out=cell_start[1:])
    cell_seg = np.empty(int(cell_start[-1]), dtype=np.int32)
    h = cell
    for k in range(len(nx)):
        first = cell_start[base[k] : base[k] + sizes[k]]
        _snap_kernel.fill_cells(start, vector, x0, y0, h, nx[k], ny[k], eps, first, cell_seg)
        h *= 2.0
    return {
        "bounds": bounds, "cell": float(cell), "nx": np.array(nx, dtype=np.int64),
        "ny": np.array(ny, dtype=np.int64), "base": base, "cell_start": cell_start,
        "cell_seg": cell_seg, "eps": eps, "grid_start": start, "grid_vector": vector,
        "grid_id": grid_id.astype(np.int32 if len(grid_id) < 2**31 else np.int64),
    }  # fmt: skip


def _morton(xy: np.ndarray) -> np.ndarray:
    """Z-order (Morton) code of points on a 65,536 x 65,536 grid over their bounds."""
    if len(xy) == 0:
        return np.zeros(0, dtype=np.uint64)
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

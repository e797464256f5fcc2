"""Service-area polygons from a sampled distance field (``method="grid"``; private).

The exact polygons (:mod:`embedsite._service_areas`) are the union of the reached street
pieces buffered by ``buffer_m``: a GEOS union of many overlapping buffers, about 9-15 ms an
area on the Helsinki sample. This module draws the same set, ``{x : d(x, R) <= buffer_m}``
for the reached pieces ``R``, as a level set instead of a union, in one compiled pass over
the areas (:func:`_area_rings`):

1. per area, a square lattice of spacing ``h`` (``resolution_m``; the same lattice for every
   area, on multiples of ``h``) over the area's extent grown by ``buffer_m + h``;
2. at every lattice vertex within ``buffer_m + h`` of a reached piece, the exact squared
   distance to the nearest reached piece (:func:`_stamp`: each segment of each piece, over
   the vertices of its bounding box grown by that much, a branch-free loop that vectorises;
   clipping each row to the segment's capsule measured 1.5x slower); the other vertices hold
   ``(buffer_m + h)^2``, a lower bound. A vertex next to one inside the area is within
   ``buffer_m + h`` (the distance is 1-Lipschitz), so every lattice edge the boundary
   crosses has two exact ends;
3. marching squares on that field (:func:`_trace`): the crossing of each such lattice edge,
   by linear interpolation of the distances, linked cell to cell into closed rings with the
   inside on the left; saddle cells are decided by the mean of their corners (contourpy's
   rule: the tests check the same filled area as contourpy on random fields);
4. rings to shapely polygons (:func:`_assemble`): counter-clockwise rings are shells, each
   clockwise ring a hole of the smallest shell of its area containing it.

The distance to a straight piece is linear across it, so straight boundaries come out exact;
round caps and the creases where two pieces' buffers meet are cut by chords of the lattice
cells, and courtyards narrower than the lattice may close: every boundary point is within
``h`` of distance ``buffer_m`` from the reached lines (tested; measured within ``h / 2``
on Helsinki and Nanjing), and every reached line is inside. The work per area follows its
lattice and its pieces: no union, no GEOS overlay.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from embedsite._jit import grow, kernel
from embedsite.errors import InputError

__all__ = ["edge_axis", "grid_polygons", "on_axis"]

_MAX_VERTICES = 25_000_000  # lattice vertices of one area: 20 bytes each in the kernel


def edge_axis(
    geoms: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The edges' vertices on one increasing drawn axis.

    Returns ``coords`` (all edge vertices), ``along`` (each vertex's position on an axis that
    runs through every edge in turn: drawn metres, a gap of 1 between edges), ``first`` and
    ``last`` (each edge's first and last vertex) and ``ratio`` (drawn length / geodesic
    ``length`` per edge, to place geodesic positions on the drawn line).
    """
    coords, cidx = shapely.get_coordinates(geoms, return_index=True)
    step = np.hypot(*np.diff(coords, axis=0).T)
    step[cidx[1:] != cidx[:-1]] = 1.0  # a gap between edges keeps the global axis sorted
    along = np.concatenate([[0.0], np.cumsum(step)])
    first = np.searchsorted(cidx, np.arange(len(geoms)))
    last = np.searchsorted(cidx, np.arange(len(geoms)), side="right") - 1
    drawn = along[last] - along[first]
    ratio = np.divide(drawn, length, out=np.zeros_like(drawn), where=length > 0)
    return coords, along, first, last, ratio


def on_axis(axis: tuple[np.ndarray, ...], e: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Positions on :func:`edge_axis`' axis of the points ``x`` geodesic metres from the start
    of edges ``e`` (clamped to the drawn line)."""
    _, along, first, last, ratio = axis
    drawn = along[last[e]] - along[first[e]]
    return along[first[e]] + np.minimum(x * ratio[e], drawn)


@kernel
def _stamp(
    ax: float,
    ay: float,
    bx: float,
    by: float,
    gx0: int,
    gy0: int,
    n_col: int,
    n_row: int,
    h: float,
    reach: float,
    field: np.ndarray,
) -> None:
    """Lower ``field`` to the squared distance to segment ``AB`` at the lattice vertices of
    its bounding box grown by ``reach``: vertex ``(gx0 + ix, gy0 + iy)``, at
    ``(gx * h, gy * h)``, is ``field[iy, ix]`` (``0 <= ix < n_col``, ``0 <= iy < n_row``)."""
    ux, uy = bx - ax, by - ay
    uu = ux * ux + uy * uy
    inv = 1.0 / uu if uu > 0 else 0.0
    ix_lo = max(0, math.floor((min(ax, bx) - reach) / h) - gx0)
    ix_hi = min(n_col - 1, math.ceil((max(ax, bx) + reach) / h) - gx0)
    iy0 = max(0, math.floor((min(ay, by) - reach) / h) - gy0)
    iy1 = min(n_row - 1, math.ceil((max(ay, by) + reach) / h) - gy0)
    wx0 = gx0 * h - ax
    for iy in range(iy0, iy1 + 1):
        vy = (gy0 + iy) * h
        wy = vy - ay
        for ix in range(ix_lo, ix_hi + 1):  # branch-free, so it vectorises
            wx = wx0 + ix * h
            f = min(max((wx * ux + wy * uy) * inv, 0.0), 1.0)
            rx, ry = wx - f * ux, wy - f * uy
            field[iy, ix] = min(field[iy, ix], rx * rx + ry * ry)


@kernel
def _stamp_piece(
    coords: np.ndarray,
    along: np.ndarray,
    j0: int,
    j1: int,
    a: float,
    b: float,
    gx0: int,
    gy0: int,
    n_col: int,
    n_row: int,
    h: float,
    reach: float,
    field: np.ndarray,
) -> None:
    """:func:`_stamp` every segment ``j0 .. j1 - 1`` of an edge, cut to ``[a, b]`` (positions
    on :func:`edge_axis`' axis)."""
    for j in range(j0, j1):
        s0, s1 = max(a, along[j]), min(b, along[j + 1])
        if s1 < s0:
            continue
        seg = along[j + 1] - along[j]
        dx, dy = coords[j + 1, 0] - coords[j, 0], coords[j + 1, 1] - coords[j, 1]
        f0 = (s0 - along[j]) / seg if seg > 0 else 0.0
        f1 = (s1 - along[j]) / seg if seg > 0 else 0.0
        _stamp(coords[j, 0] + f0 * dx, coords[j, 1] + f0 * dy, coords[j, 0] + f1 * dx,
               coords[j, 1] + f1 * dy, gx0, gy0, n_col, n_row, h, reach, field)  # fmt: skip


@kernel
def _crossing(f: np.ndarray, cid: int, n_row: int, n_col: int, level: float) -> tuple[float, float]:
    """Lattice coordinates (x, y) where the lattice edge ``cid`` (:func:`_trace`) crosses
    ``level``, interpolating the distances (square roots of ``f``) linearly."""
    vertical = cid >= n_row * n_col
    k = cid - n_row * n_col if vertical else cid
    iy, ix = k // n_col, k % n_col
    d0 = math.sqrt(f[iy, ix])
    d1 = math.sqrt(f[iy + 1, ix]) if vertical else math.sqrt(f[iy, ix + 1])
    t = (level - d0) / (d1 - d0)
    return (ix, iy + t) if vertical else (ix + t, iy)


@kernel
def _trace(
    f: np.ndarray,
    level: float,
    start_at: np.ndarray,
    seg_to: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marching squares on ``f`` (squared distances, ``n_row`` x ``n_col``; the border
    outside): the rings of ``sqrt(f) <= level``, inside on the left (shells counter-clockwise,
    holes clockwise), in lattice coordinates: ``ptr`` (ring starts, one more), ``x``, ``y``
    (each ring closed).

    A lattice edge is a crossing when its two ends are on either side; walking a cell's
    corners counter-clockwise, the crossing where it goes from inside to outside is an *exit*
    and the next the other way an *entry*, and the cell's boundary runs from an exit to an
    entry; in a saddle cell (corners alternating) the cell's centre (the mean distance)
    decides which pairs join. Crossings are numbered ``iy * n_col + ix`` for the edge from
    vertex ``(ix, iy)`` to the right and ``n_row * n_col + iy * n_col + ix`` for the one
    upwards; ``start_at`` (-1 on entry, left so) and ``seg_to`` are scratch of ``2 n_row
    n_col`` entries.
    """
    n_row, n_col = f.shape
    l2 = level * level
    nh = n_row * n_col
    n_seg = 0
    seg_from = np.empty(64, np.int64)
    for iy in range(n_row - 1):
        for ix in range(n_col - 1):
            i0 = f[iy, ix] <= l2
            i1 = f[iy, ix + 1] <= l2
            i2 = f[iy + 1, ix + 1] <= l2
            i3 = f[iy + 1, ix] <= l2
            if i0 == i1 and i1 == i2 and i2 == i3:
                continue
            ins = (i0, i1, i2, i3)
            edge = (iy * n_col + ix, nh + iy * n_col + ix + 1, (iy + 1) * n_col + ix,
                    nh + iy * n_col + ix)  # fmt: skip
            ex0, ex1, en0 = -1, -1, -1  # exits (at most two), the first entry
            for k in range(4):
                if ins[k] != ins[(k + 1) % 4]:
                    if not ins[k]:
                        en0 = k if en0 < 0 else en0
                    elif ex0 < 0:
                        ex0 = k
                    else:
                        ex1 = k
            if n_seg + 2 > len(seg_from):
                seg_from = grow(seg_from, 2 * len(seg_from), n_seg)
            if ex1 < 0:  # one exit, one entry
                seg_from[n_seg] = edge[ex0]
                seg_to[edge[ex0]] = edge[en0]
                start_at[edge[ex0]] = n_seg
                n_seg += 1
                continue
            # a saddle: from each exit to the next entry counter-clockwise when the centre is
            # inside (the inside corners join across it), else to the previous one
            mean = (math.sqrt(f[iy, ix]) + math.sqrt(f[iy, ix + 1])
                    + math.sqrt(f[iy + 1, ix + 1]) + math.sqrt(f[iy + 1, ix])) / 4  # fmt: skip
            step = 1 if mean <= level else 3
            for a in (ex0, ex1):
                b = (a + step) % 4
                seg_from[n_seg] = edge[a]
                seg_to[edge[a]] = edge[b]
                start_at[edge[a]] = n_seg
                n_seg += 1
    x = np.empty(n_seg + 64, np.float64)
    y = np.empty(n_seg + 64, np.float64)
    ptr = np.zeros(n_seg + 1, np.int64)  # at most one ring per segment
    n, n_rings = 0, 0
    for s0 in range(n_seg):
        c = seg_from[s0]
        if start_at[c] < 0:  # already in a ring
            continue
        begin = c
        while True:
            if n + 2 > len(x):
                x, y = grow(x, 2 * len(x), n), grow(y, 2 * len(y), n)
            x[n], y[n] = _crossing(f, c, n_row, n_col, level)
            n += 1
            start_at[c] = -1
            c = seg_to[c]
            if c == begin:
                break
        x[n], y[n] = x[ptr[n_rings]], y[ptr[n_rings]]  # closed
        n += 1
        n_rings += 1
        ptr[n_rings] = n
    return ptr[: n_rings + 1], x[:n], y[:n]


@kernel
def _area_rings(
    coords: np.ndarray,
    along: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    piece_ptr: np.ndarray,
    p_edge: np.ndarray,
    p_a: np.ndarray,
    p_b: np.ndarray,
    gx0: np.ndarray,
    gy0: np.ndarray,
    n_col: np.ndarray,
    n_row: np.ndarray,
    h: float,
    reach: float,
    level: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every area's rings in world coordinates: ``ring_area``, ``ptr``, ``x``, ``y``.

    Area ``i`` has pieces ``piece_ptr[i]`` to ``piece_ptr[i + 1]`` (parts ``[p_a, p_b]`` of
    edges ``p_edge`` on :func:`edge_axis`' axis) and the lattice block of ``n_row[i]`` x
    ``n_col[i]`` vertices from vertex ``(gx0[i], gy0[i])``: its squared-distance field is
    stamped (:func:`_stamp_piece`), then traced (:func:`_trace`) at ``level``. One buffer
    serves every area in turn.
    """
    k = len(gx0)
    biggest = 1
    for i in range(k):
        biggest = max(biggest, n_row[i] * n_col[i])
    buf = np.empty(biggest, np.float64)
    start_at = np.full(2 * biggest, -1, np.int32)  # lattice edges < 2**31 (checked)
    seg_to = np.empty(2 * biggest, np.int32)
    ring_area = np.empty(16, np.int64)
    ptr = np.zeros(17, np.int64)
    xs = np.empty(1024, np.float64)
    ys = np.empty(1024, np.float64)
    n_rings, n_pts = 0, 0
    for i in range(k):
        if piece_ptr[i] == piece_ptr[i + 1]:
            continue
        f = buf[: n_row[i] * n_col[i]].reshape(n_row[i], n_col[i])
        f[:] = reach * reach
        for q in range(piece_ptr[i], piece_ptr[i + 1]):
            e = p_edge[q]
            _stamp_piece(coords, along, first[e], last[e], p_a[q], p_b[q], gx0[i], gy0[i],
                         n_col[i], n_row[i], h, reach, f)  # fmt: skip
        rp, rx, ry = _trace(f, level, start_at, seg_to)
        nr, npt = len(rp) - 1, len(rx)
        while n_rings + nr + 1 > len(ring_area):
            ring_area = grow(ring_area, 2 * len(ring_area), n_rings)
            ptr = grow(ptr, 2 * len(ptr), n_rings + 1)
        while n_pts + npt > len(xs):
            xs, ys = grow(xs, 2 * len(xs), n_pts), grow(ys, 2 * len(ys), n_pts)
        ring_area[n_rings : n_rings + nr] = i
        ptr[n_rings + 1 : n_rings + nr + 1] = rp[1:] + n_pts
        xs[n_pts : n_pts + npt] = (rx + gx0[i]) * h
        ys[n_pts : n_pts + npt] = (ry + gy0[i]) * h
        n_rings += nr
        n_pts += npt
    return ring_area[:n_rings], ptr[: n_rings + 1], xs[:n_pts], ys[:n_pts]


def grid_polygons(
    geoms: np.ndarray,
    length: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    k: int,
    buffer_m: float,
    resolution_m: float,
) -> np.ndarray:
    """Per area ``0..k-1``: the reached pieces ``(s, e, lo, hi)`` (geodesic metres from each
    edge's ``u``, sorted by area) buffered by ``buffer_m``, as the ``d <= buffer_m`` level
    set of the distance field on a lattice of spacing ``resolution_m`` (module docstring).
    An area with no piece gets an empty Polygon."""
    out = np.array([shapely.Polygon()] * k, dtype=object)
    if len(s) == 0:
        return out
    h = float(resolution_m)
    reach = buffer_m + h  # exact up to here: a vertex next to one inside is within it
    axis = edge_axis(geoms, length)
    coords, along, first, last, _ = axis
    pa, pb = on_axis(axis, e, lo), on_axis(axis, e, hi)
    # each area's extent (its pieces' edges' bounds), grown and put on the common lattice
    bounds = shapely.bounds(geoms)[e]
    piece_ptr = np.searchsorted(s, np.arange(k + 1))
    has = piece_ptr[1:] > piece_ptr[:-1]
    lo_xy = np.zeros((k, 2))
    hi_xy = np.zeros((k, 2))
    starts = piece_ptr[:-1][has]
    lo_xy[has] = np.minimum.reduceat(bounds[:, :2], starts) - reach
    hi_xy[has] = np.maximum.reduceat(bounds[:, 2:], starts) + reach
    g0 = np.floor(lo_xy / h).astype(np.int64)  # lattice vertex (g0 + i) * h
    size = np.ceil(hi_xy / h).astype(np.int64) - g0 + 1  # vertices (x, y)
    vertices = size[:, 0] * size[:, 1]
    if vertices.max() > _MAX_VERTICES:
        worst = int(np.argmax(vertices))
        need = h * math.sqrt(vertices[worst] / _MAX_VERTICES)
        raise InputError(
            f"the service area of the source at position {worst} spans "
            f"{int(vertices[worst]):,} lattice vertices at resolution_m={h:g} (at most "
            f"{_MAX_VERTICES:,}, about {_MAX_VERTICES * 20 // 2**20} MB); use "
            f"resolution_m >= {math.ceil(need * 10) / 10:g} or method='exact'"
        )
    ring_area, ptr, x, y = _area_rings(coords, along, first, last, piece_ptr, e, pa, pb,
                                       g0[:, 0].copy(), g0[:, 1].copy(), size[:, 0].copy(),
                                       size[:, 1].copy(), h, reach, buffer_m)  # fmt: skip
    if len(ring_area) == 0:
        return out
    n_pts = np.diff(ptr)
    rings = shapely.linearrings(np.column_stack([x, y]),
                                indices=np.repeat(np.arange(len(n_pts)), n_pts))  # fmt: skip
    return _assemble(rings, ring_area, out)


def _assemble(rings: np.ndarray, ring_area: np.ndarray, out: np.ndarray) -> np.ndarray:
    """(Multi)Polygons per area from its rings: counter-clockwise ones are shells, each
    clockwise one a hole of the smallest shell of its area that contains it."""
    shell = shapely.is_ccw(rings)
    shells, holes = np.flatnonzero(shell), np.flatnonzero(~shell)
    shell_poly = shapely.polygons(rings[shells])
    owner = np.full(len(holes), -1, np.int64)  # position in `shells`
    n_shells = np.bincount(ring_area[shells], minlength=len(out))
    # an area with one shell: its holes are that shell's
    only = np.full(len(out), -1, np.int64)
    only[ring_area[shells]] = np.arange(len(shells))  # (meaningful where n_shells == 1)
    alone = n_shells[ring_area[holes]] == 1
    owner[alone] = only[ring_area[holes[alone]]]
    test = np.flatnonzero(~alone)
    if len(test):
        probe = shapely.get_point(rings[holes[test]], 0)
        hole_i, shell_j = shapely.STRtree(shell_poly).query(probe, predicate="within")
        hole_i = test[hole_i]
        same = ring_area[holes[hole_i]] == ring_area[shells[shell_j]]
        hole_i, shell_j = hole_i[same], shell_j[same]
        order = np.lexsort((shapely.area(shell_poly)[shell_j], hole_i))  # smallest first
        hole_i, shell_j = hole_i[order], shell_j[order]
        keep = np.ones(len(hole_i), dtype=bool)
        keep[1:] = hole_i[1:] != hole_i[:-1]
        owner[hole_i[keep]] = shell_j[keep]
    # rings in polygon order: each shell, then its holes
    poly_of = np.concatenate([np.arange(len(shells)), owner[owner >= 0]])
    members = np.concatenate([shells, holes[owner >= 0]])
    is_hole = np.concatenate([np.zeros(len(shells), bool), np.ones(int((owner >= 0).sum()), bool)])
    order = np.lexsort((is_hole, poly_of))
    polys = shapely.polygons(rings[members[order]], indices=poly_of[order])
    area_of = ring_area[shells]
    by_area = np.argsort(area_of, kind="stable")
    shapely.multipolygons(polys[by_area], indices=area_of[by_area], out=out)
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out

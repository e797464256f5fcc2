"""Compiled kernels of the exact nearest-segment search of ``snap`` (private).

The index is a pyramid of uniform grids over the segments' bounds: level ``k`` has square
cells ``cell * 2**k`` wide, all levels sharing one origin, and lists in each cell every
segment that comes within ``eps`` of it. A point scans the cells of its level-0 grid in
growing square rings around its own cell, keeping the nearest segment seen (exact
point-segment distance; ties to the lowest segment). Once rings ``0..r`` are scanned, a
segment never seen lies wholly outside their square block, so it is at least as far as the
block's edge: the search stops when the best distance is below that bound, or the bound
passes ``max_distance``. A point that is not settled within ``rings`` rings (far from every
street) goes up a level, where cells are twice as wide; cells lying inside the block
already scanned are skipped, and so is any cell farther than the best distance. The top
level scans as many rings as needed. A point hundreds of metres from every street thus
scans a bounded number of cells per level, and a few levels. Each step keeps ``eps``
(a micrometre or more, far above rounding) of slack, so the answer is exactly the
brute-force nearest segment.

The distance is computed with the same floating-point operations as
``Segments.distance`` (projection parameter clipped to [0, 1], ``sqrt`` of the squared
offset), so its ties are the same.
"""

from __future__ import annotations

import math

import numpy as np

from embedsite._jit import kernel

__all__ = [
    "cell_order",
    "count_cells",
    "fill_cells",
    "nearest_segments",
    "project",
    "snap_columns",
]


@kernel
def _cell_range(lo: float, hi: float, origin: float, h: float, n: int) -> tuple[int, int]:
    a = math.floor((lo - origin) / h)
    b = math.floor((hi - origin) / h)
    return max(a, 0), min(b, n - 1)


@kernel
def _register(
    start: np.ndarray,
    vector: np.ndarray,
    x0: float,
    y0: float,
    h: float,
    nx: int,
    ny: int,
    eps: float,
    count: np.ndarray,
    pos: np.ndarray,
    cell_seg: np.ndarray,
    fill: bool,
) -> None:
    """Every cell the segment comes within ``eps`` of, row by row: in each row the cells
    spanned by the part of the segment inside the row's band (widened by ``eps``)."""
    for s in range(start.shape[0]):
        ax, ay = start[s, 0], start[s, 1]
        bx, by = ax + vector[s, 0], ay + vector[s, 1]
        if by < ay:
            ax, ay, bx, by = bx, by, ax, ay
        r0, r1 = _cell_range(ay - eps, by + eps, y0, h, ny)
        ddy = by - ay
        for r in range(r0, r1 + 1):
            t0, t1 = 0.0, 1.0
            if ddy > 0.0:
                t0 = max(0.0, (y0 + r * h - eps - ay) / ddy)
                t1 = min(1.0, (y0 + (r + 1) * h + eps - ay) / ddy)
                if t1 < t0:  # pragma: no cover - rounding guard
                    t0, t1 = t1, t0
            xa = ax + t0 * (bx - ax)
            xb = ax + t1 * (bx - ax)
            c0, c1 = _cell_range(min(xa, xb) - eps, max(xa, xb) + eps, x0, h, nx)
            for c in range(c0, c1 + 1):
                cell = r * nx + c
                if fill:
                    cell_seg[pos[cell]] = s
                    pos[cell] += 1
                else:
                    count[cell] += 1


@kernel
def count_cells(
    start: np.ndarray,
    vector: np.ndarray,
    x0: float,
    y0: float,
    h: float,
    nx: int,
    ny: int,
    eps: float,
) -> np.ndarray:
    """Number of segments listed in each cell of one level (row-major, ``ny * nx``)."""
    count = np.zeros(nx * ny, dtype=np.int64)
    dummy = np.zeros(0, dtype=np.int64)
    _register(start, vector, x0, y0, h, nx, ny, eps, count, dummy, dummy.astype(np.int32), False)
    return count


@kernel
def fill_cells(
    start: np.ndarray,
    vector: np.ndarray,
    x0: float,
    y0: float,
    h: float,
    nx: int,
    ny: int,
    eps: float,
    first: np.ndarray,
    cell_seg: np.ndarray,
) -> None:
    """Write the segments of each cell of one level into ``cell_seg`` from ``first[cell]``
    on (ascending segment order within a cell)."""
    pos = first.copy()
    _register(start, vector, x0, y0, h, nx, ny, eps, pos, pos, cell_seg, True)


@kernel
def _distance(px: float, py: float, start: np.ndarray, vector: np.ndarray, s: int) -> float:
    dx, dy = vector[s, 0], vector[s, 1]
    rx, ry = px - start[s, 0], py - start[s, 1]
    dd = dx * dx + dy * dy
    t = 0.0
    if dd > 0.0:
        t = (rx * dx + ry * dy) / dd
        t = min(max(t, 0.0), 1.0)
    rx -= t * dx
    ry -= t * dy
    return math.sqrt(rx * rx + ry * ry)


@kernel
def cell_order(xy: np.ndarray, x0: float, y0: float, h: float, nx: int, ny: int) -> np.ndarray:
    """The points ordered by the grid cell they fall in (row-major; outside the grid, the
    nearest border cell), by counting sort: neighbours are then asked one after another."""
    n = xy.shape[0]
    key = np.zeros(n, dtype=np.int64)
    count = np.zeros(nx * ny + 1, dtype=np.int64)
    for i in range(n):
        fx = (xy[i, 0] - x0) / h
        fy = (xy[i, 1] - y0) / h
        c = 0
        if np.isfinite(fx) and np.isfinite(fy):
            cx = int(min(max(fx, 0.0), nx - 1.0))
            cy = int(min(max(fy, 0.0), ny - 1.0))
            c = cy * nx + cx
        key[i] = c
        count[c + 1] += 1
    for c in range(nx * ny):
        count[c + 1] += count[c]
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[count[key[i]]] = i
        count[key[i]] += 1
    return order


@kernel
def _scan(
    px: float,
    py: float,
    g: int,
    start: np.ndarray,
    vector: np.ndarray,
    cell_start: np.ndarray,
    cell_seg: np.ndarray,
    seg_id: np.ndarray,
    best: float,
    bseg: int,
) -> tuple[float, int]:
    """The nearest of ``best`` (segment ``bseg``, by its number in the caller's order) and
    the segments of cell ``g``; of equal distances the lowest number."""
    for e in range(cell_start[g], cell_start[g + 1]):
        s = cell_seg[e]
        d = _distance(px, py, start, vector, s)
        if d < best or (d == best and seg_id[s] < bseg):
            best = d
            bseg = seg_id[s]
    return best, bseg


@kernel
def nearest_segments(
    xy: np.ndarray,
    order: np.ndarray,
    start: np.ndarray,
    vector: np.ndarray,
    bounds: np.ndarray,
    cell: float,
    nx: np.ndarray,
    ny: np.ndarray,
    base: np.ndarray,
    cell_start: np.ndarray,
    cell_seg: np.ndarray,
    seg_id: np.ndarray,
    rings: int,
    eps: float,
    max_distance: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest segment of each point (-1 beyond ``max_distance``) and its distance.

    The points are asked in ``order``. ``bounds`` is ``(x0, y0, x1, y1)`` of the segments
    (``x0, y0`` the grid origin); level ``k`` has ``nx[k] * ny[k]`` cells whose lists start
    at ``cell_start[base[k] + cell]``. ``start``, ``vector`` and ``cell_seg`` number the
    segments in the grid's own (spatial) order; ``seg_id`` gives the caller's number of
    each, which the result uses and ties go by.
    """
    n = xy.shape[0]
    seg = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    x0, y0, x1, y1 = bounds[0], bounds[1], bounds[2], bounds[3]
    n_levels = nx.shape[0]
    for oi in range(n):
        i = order[oi]
        px, py = xy[i, 0], xy[i, 1]
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        ox = max(x0 - px, 0.0, px - x1)
        oy = max(y0 - py, 0.0, py - y1)
        if math.sqrt(ox * ox + oy * oy) - eps > max_distance:
            continue  # farther than max_distance from the segments' bounds
        best = np.inf
        bseg = np.iinfo(np.int64).max
        lower = 0.0  # no segment never seen is nearer than this
        # the block scanned at the previous level (none yet)
        sx0, sy0, sx1, sy1 = np.inf, np.inf, -np.inf, -np.inf
        h = cell
        done = False
        for k in range(n_levels):
            cx = math.floor(min(max((px - x0) / h, -4e15), 4e15))
            cy = math.floor(min(max((py - y0) / h, -4e15), 4e15))
            kx, ky, kb = nx[k], ny[k], base[k]
            last = k == n_levels - 1
            bx0 = bx1 = by0 = by1 = 0.0
            # the rings nearer than the grid's nearest cell are empty: start at it
            r = max(-cx, cx - (kx - 1), -cy, cy - (ky - 1), 0)
            if not last and r > rings:  # every ring of this level is empty
                r = rings
                bx0, bx1 = x0 + (cx - r) * h, x0 + (cx + r + 1) * h
                by0, by1 = y0 + (cy - r) * h, y0 + (cy + r + 1) * h
                lower = max(lower, min(px - bx0, bx1 - px, py - by0, by1 - py))
                if lower - eps > max_distance:
                    break
                sx0, sy0, sx1, sy1 = bx0, by0, bx1, by1
                h *= 2.0
                continue
            while last or r <= rings:
                i0, i1, j0, j1 = cx - r, cx + r, cy - r, cy + r
                bx0, bx1 = x0 + i0 * h, x0 + (i1 + 1) * h
                by0, by1 = y0 + j0 * h, y0 + (j1 + 1) * h
                for j in range(max(j0, 0), min(j1, ky - 1) + 1):
                    gy0 = y0 + j * h
                    gy1 = gy0 + h
                    qy = max(gy0 - py, 0.0, py - gy1)
                    if qy - eps > best:
                        continue  # the whole row is farther than the best
                    c, c_end, step = max(i0, 0), min(i1, kx - 1), 1
                    if j in (j0, j1):  # the ring's bottom or top row: the cells of it
                        if best < np.inf:  # that come nearer than the best
                            w = math.sqrt(max((best + eps) ** 2 - qy * qy, 0.0)) + eps
                            c = max(c, math.floor(max((px - w - x0) / h, -1.0)))
                            c_end = min(c_end, math.floor(min((px + w - x0) / h, kx)))
                    else:  # a row in between: its two end cells
                        c, c_end, step = i0, i1, max(i1 - i0, 1)
                    row_inside = gy0 >= sy0 + eps and gy1 <= sy1 - eps
                    while c <= c_end:
                        if 0 <= c < kx:
                            gx0 = x0 + c * h
                            gx1 = gx0 + h
                            if not (row_inside and gx0 >= sx0 + eps and gx1 <= sx1 - eps):
                                qx = max(gx0 - px, 0.0, px - gx1)
                                if math.sqrt(qx * qx + qy * qy) - eps <= best:
                                    best, bseg = _scan(px, py, kb + j * kx + c, start, vector,
                                                       cell_start, cell_seg, seg_id, best,
                                                       bseg)  # fmt: skip
                        c += step
                lower = max(lower, min(px - bx0, bx1 - px, py - by0, by1 - py))
                if best < lower - eps or lower - eps > max_distance:
                    done = True
                    break
                if i0 <= 0 and j0 <= 0 and i1 >= kx - 1 and j1 >= ky - 1:
                    done = True  # the block covers every cell: every segment was seen
                    break
                r += 1
            if done:
                break
            sx0, sy0, sx1, sy1 = bx0, by0, bx1, by1
            h *= 2.0
        if best <= max_distance:
            seg[i] = bseg
            dist[i] = best
    return seg, dist


@kernel
def project(
    xy: np.ndarray,
    seg: np.ndarray,
    start: np.ndarray,
    vector: np.ndarray,
    offset: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drawn distance along the edge, the foot and the distance of each point's projection
    onto its segment (as the numpy projection it replaced; tests/test_snap.py checks it)."""
    n = seg.shape[0]
    along = np.empty(n)
    foot = np.empty((n, 2))
    dist = np.empty(n)
    for i in range(n):
        s = seg[i]
        ax, ay = start[s, 0], start[s, 1]
        dx, dy = vector[s, 0], vector[s, 1]
        dd = dx * dx + dy * dy
        t = 0.0
        if dd > 0.0:
            t = ((xy[i, 0] - ax) * dx + (xy[i, 1] - ay) * dy) / dd
            t = min(max(t, 0.0), 1.0)
        fx, fy = ax + t * dx, ay + t * dy
        foot[i, 0] = fx
        foot[i, 1] = fy
        along[i] = offset[s] + t * math.sqrt(dd)
        dist[i] = math.hypot(xy[i, 0] - fx, xy[i, 1] - fy)
    return along, foot, dist


@kernel
def snap_columns(
    xy: np.ndarray,
    seg: np.ndarray,
    start: np.ndarray,
    vector: np.ndarray,
    offset: np.ndarray,
    seg_edge: np.ndarray,
    drawn: np.ndarray,
    length: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The columns of ``snap`` for points with a segment (``seg >= 0``): edge, metres along
    it from ``u`` (the projection's share of the drawn line ``drawn[edge]`` times the
    edge's ``length``), metres to ``v``, access distance and the foot of the projection."""
    n = seg.shape[0]
    along, foot, access = project(xy, seg, start, vector, offset)
    edge = np.empty(n, dtype=np.int64)
    position = np.empty(n)
    to_v = np.empty(n)
    for i in range(n):
        e = seg_edge[seg[i]]
        edge[i] = e
        frac = along[i] / drawn[e] if drawn[e] > 0.0 else 0.0
        position[i] = min(max(frac, 0.0), 1.0) * length[e]
        to_v[i] = length[e] - position[i]
    return edge, position, to_v, access, foot

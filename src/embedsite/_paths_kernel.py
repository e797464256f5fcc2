"""Compiled kernels of the walk-distance engine (private; wrappers in :mod:`embedsite._paths`).

Plain arrays in, plain arrays out. The street graph is the symmetric CSR of
``PedestrianNetwork.csr`` (``indptr``, ``indices``, ``data``: positive lengths, zero-length
streets stored as 1e-9, no self-loops). A source or target is a snapped point: its edge's end
nodes ``u``/``v``, the along-edge offsets ``to_u``/``to_v`` to them, its ``position`` along the
edge and its ``access`` (straight line to the street).

Each source enters the search at its edge's two ends with the distances
``max(access + to_u, 1e-9)`` and ``max(access + to_v, 1e-9)`` (the shorter of the two, at the
one node, on a self-loop edge), exactly the links the scipy implementation added as a virtual
node per source. The search is a 4-ary-heap Dijkstra bounded by ``limit`` (a node farther
than ``limit`` is never reached, as in scipy's ``limit``). Ties: a node reached at the same
distance from several sources belongs to the lowest source position (a relaxation compares
distance, then source; see :func:`_search`).
"""

from __future__ import annotations

import numpy as np

from embedsite._jit import grow, inline_kernel, kernel

_MIN_LINK = 1e-9  # a zero-cost link, as the scipy version stored it (csgraph drops zeros)


@kernel
def _less(d1: float, s1: int | np.int64, d2: float, s2: int | np.int64) -> bool:
    return bool((d1 < d2) | ((d1 == d2) & (s1 < s2)))  # no branch: the outcome is a coin toss


_U0 = np.uint64(0)  # heap slots and node positions are unsigned in the search (see _search)
_U1 = np.uint64(1)
_U2 = np.uint64(2)
_U4 = np.uint64(4)


@inline_kernel
def _sift_up(
    hk: np.ndarray, hn: np.ndarray, pos: np.ndarray, j: np.uint64, d: float, node: np.uint64
) -> None:
    """Put ``node`` at distance ``d`` into heap slot ``j`` and sift it up to its place (a
    4-ary heap: slot ``j``'s parent is ``(j - 1) // 4``)."""
    while j > _U0:
        p = (j - _U1) >> _U2
        if not d < hk[p]:
            break
        hk[j], hn[j] = hk[p], hn[p]
        pos[np.uint64(hn[j])] = j
        j = p
    hk[j], hn[j] = d, node
    pos[node] = j


@kernel
def seed_links(
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    s_edge: np.ndarray,
    s_to_u: np.ndarray,
    s_to_v: np.ndarray,
    s_acc: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each source's entry nodes and distances (``b == -1``: one entry, a self-loop edge)."""
    k = len(s_edge)
    a = np.empty(k, np.int64)
    b = np.empty(k, np.int64)
    wa = np.empty(k, np.float64)
    wb = np.empty(k, np.float64)
    for i in range(k):
        e = s_edge[i]
        a[i] = edge_u[e]
        b[i] = edge_v[e]
        wa[i] = max(s_acc[i] + s_to_u[i], _MIN_LINK)
        wb[i] = max(s_acc[i] + s_to_v[i], _MIN_LINK)
        if a[i] == b[i]:
            wa[i] = min(wa[i], wb[i])
            b[i] = -1
    return a, b, wa, wb


@kernel
def _search(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    seed_a: np.ndarray,
    seed_b: np.ndarray,
    seed_wa: np.ndarray,
    seed_wb: np.ndarray,
    lo: int,
    hi: int,
    limit: float,
    dist: np.ndarray,
    origin: np.ndarray,
    hk: np.ndarray,
    hn: np.ndarray,
    pos: np.ndarray,
    touched: np.ndarray,
) -> int:
    """One bounded Dijkstra from sources ``lo`` to ``hi - 1`` at once, in reused buffers.

    Per node: ``dist`` to the nearest source (kept only up to ``limit``) and ``origin``, that
    source (the lowest index among equally near ones: a relaxation takes a path when it is
    shorter, or as short from a lower source). The buffers hold ``inf``/-1/-1
    (``dist``/``origin``/``pos``) for every node on entry; the nodes given a distance are
    listed in ``touched`` (their count is returned) so the caller reads them and resets them,
    and a search costs what it reaches, not the network's size.

    The queue is an indexed 4-ary heap of distances (``hk``) beside their nodes (``hn``);
    ``pos`` is each node's heap slot (-1 never queued, -2 settled). It orders by distance
    alone: which of two equally near nodes is settled first cannot change any result, since
    every street is longer than half a unit in the last place of any distance below
    8,000 km (lengths are at least 1e-9 m), so a node's final distance and origin come from
    nodes strictly nearer, all settled before it. Measured against the binary heap keyed by
    (distance, source) that it replaced: the same outputs, 10 searches of 50 sources 25%
    faster on Andorra, Chengdu and Nanjing (1.32 -> 0.99, 2.63 -> 1.95, 0.45 -> 0.33 ms,
    medians of 61, interleaved); keying the binary heap by distance alone gave 9%, a 4-ary
    heap keyed by (distance, source) 5-9%, an 8-ary one no more than the 4-ary. A pop moves
    the root's hole down to a leaf (the least of up to four children each level), then
    sifts the last entry up into it. A dead end (one street) first reached from its one
    neighbour is final at once and never queued: 20% of the nodes a search reaches on
    Andorra, 8-10% less time. The sift, :func:`_sift_up`, is inlined
    (``inline_kernel``): as a plain called kernel the heap steps took the search 25% longer.
    Heap slots and nodes are indexed as ``uint64``: numba wraps a signed index that is
    negative around the array's end, which costs a shift, a mask and an add per access and
    keeps every array's length in a register; with unsigned indexes the compiled search has
    none of that, and 10 searches on Andorra took 17% less time (1.84 -> 1.52 ms).
    """
    size = _U0
    n_touched = _U0
    q, q_end = np.uint64(2 * lo), np.uint64(2 * hi)  # the sources' entries first, then the search
    i = end = _U0
    while True:
        seeding = q < q_end
        if seeding:  # a source's entry node, as if along a one-link edge from the source
            i, end = q >> _U1, q & _U1
            q += _U1
            entry = seed_a[i] if end == _U0 else seed_b[i]
            if entry < 0:
                continue
            node = np.uint64(entry)
            d, s, first, last = 0.0, np.int64(i), _U0, _U1
        else:
            if size == _U0:
                break
            node, d = np.uint64(hn[0]), hk[0]
            s = origin[node]
            pos[node] = -2
            size -= _U1
            if size > _U0:  # the root's hole down to a leaf, then the last entry up into it
                lk, ln = hk[size], hn[size]
                j = _U0
                c = _U1
                while c < size:
                    best, bk = c, hk[c]
                    for cc in range(c + _U1, min(c + _U4, size)):
                        x = hk[cc]
                        less = x < bk
                        bk = x if less else bk
                        best = np.uint64(cc) if less else best
                    hk[j], hn[j] = bk, hn[best]
                    pos[np.uint64(hn[j])] = j
                    j = best
                    c = (j << _U2) + _U1
                _sift_up(hk, hn, pos, j, lk, np.uint64(ln))
            first, last = np.uint64(indptr[node]), np.uint64(indptr[node + _U1])
        for k in range(first, last):
            e = np.uint64(k)
            if seeding:
                w = node
                nd = seed_wa[i] if end == _U0 else seed_wb[i]
            else:
                w = np.uint64(indices[e])
                if pos[w] == -2:
                    continue
                nd = d + data[e]
            if nd <= limit and _less(nd, s, dist[w], origin[w]):
                dist[w] = nd
                origin[w] = s
                if pos[w] == -1:
                    touched[n_touched] = w
                    n_touched += _U1
                    if not seeding and indptr[w + _U1] - indptr[w] == 1:
                        pos[w] = -2  # a dead end reached from its one neighbour: final
                        continue
                    j = size
                    size += _U1
                else:
                    j = np.uint64(pos[w])
                _sift_up(hk, hn, pos, j, nd, w)
    return int(n_touched)


@kernel
def _buffers(n: int) -> tuple[np.ndarray, ...]:
    """:func:`_search`'s buffers for ``n`` nodes, in their entry state."""
    return (np.full(n, np.inf), np.full(n, -1, np.int64), np.empty(n, np.float64),
            np.empty(n, np.int64), np.full(n, -1, np.int64), np.empty(n, np.int64))  # fmt: skip


@kernel
def by_edge(edge: np.ndarray, n_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """Items (targets or sources) by edge, a stable counting sort: ``order`` (the item at each
    sorted position) and ``ptr`` (``n_edges + 1``): edge ``e``'s items, ascending, are
    ``order[ptr[e]:ptr[e + 1]]``."""
    ptr = np.zeros(n_edges + 1, np.int64)
    for t in range(len(edge)):
        ptr[edge[t] + 1] += 1
    for e in range(n_edges):
        ptr[e + 1] += ptr[e]
    fill = ptr[:-1].copy()
    order = np.empty(len(edge), np.int64)
    for t in range(len(edge)):
        order[fill[edge[t]]] = t
        fill[edge[t]] += 1
    return order, ptr


@kernel
def _fill_rows(
    dist: np.ndarray,
    label: np.ndarray,
    reached: np.ndarray,
    limits: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    s_edge: np.ndarray,
    s_set: np.ndarray,
    s_acc: np.ndarray,
    s_pos: np.ndarray,
    s_row: np.ndarray,
    t_edge: np.ndarray,
    to_u: np.ndarray,
    to_v: np.ndarray,
    access: np.ndarray,
    position: np.ndarray,
    out_d: np.ndarray,
    out_s: np.ndarray,
    labels: bool,
) -> None:
    """Every target's walk distance and nearest source in every set, from the node block.

    ``dist``/``label`` are (nodes, sets): each node's distance to the nearest source of each
    set and that source's row (``s_row``; -1 unreached, always with ``inf``; ``label`` has no
    rows and is never read without ``labels``); ``reached`` flags
    the nodes some set reached. Per target, in the targets' own order, and per set: via the
    street nodes, ``min(d[u] + to_u, d[v] + to_v)`` (``u`` on a tie), ``+ access``, and
    ``inf``/-1 beyond the set's limit. Then, for each set with sources on the target's edge,
    that set's entry again with the sources reached directly along the edge, in row order,
    each taken when strictly shorter than the best so far, ``+ access`` and the limit. The
    edge's sources are one flat loop, a run per set started afresh at a flagged source and
    written at each step (the run's last write stands): 7-20% faster than a loop per run
    (Andorra, Chengdu, Nanjing), whose exits the branch predictor could not guess.

    Every row of ``out_d``/``out_s`` (targets, sets) is written in order: the outputs need no
    initial fill, and the writes stream (the earlier pass by edge, writing each target's row
    where it fell, spent most of its time on those scattered writes). The distances and the
    labels are two loops over the sets: both vectorise, with both labels loaded and one
    selected (a label loaded only on the side that wins compiles to a branch, and that
    branch is a coin toss; measured: one loop doing both took the Andorra pass from 1.8 to
    3.5 ms). A target whose edge no set reaches and no source stands on gets ``inf``/-1
    without reading the block: on a large network most of it lies beyond every radius, and
    its rows are far apart in memory. A target reads its edge's ends, its sources' range and
    whether anything reaches it as one 16-byte record (``per_edge``, made once: 5-7% faster
    than four arrays). With ``labels`` false only ``out_d`` is written (the
    label loop is 35-40% of the pass) and ``out_s`` may have no rows.
    """
    n_sets = len(limits)
    order, ptr = by_edge(s_edge, len(edge_u))  # stable: by set, rows ascending within one
    e_set, e_pos = s_set[order], s_pos[order]
    e_acc, e_row = s_acc[order], s_row[order]
    e_first = np.empty(len(order), np.bool_)  # a source that starts its edge's run of a set
    for q in range(len(order)):
        e_first[q] = q == 0 or e_set[q] != e_set[q - 1] or s_edge[order[q]] != s_edge[order[q - 1]]
    n_e = len(edge_u)
    per_edge = np.empty((n_e, 4), np.int32)  # a target's edge in one read: u, v, its sources
    for e in range(n_e):
        a, b = edge_u[e], edge_v[e]
        dead = not (reached[a] or reached[b]) and ptr[e] == ptr[e + 1]
        per_edge[e, 0], per_edge[e, 1] = -1 if dead else a, b  # -1: nothing reaches it
        per_edge[e, 2], per_edge[e, 3] = ptr[e], ptr[e + 1]
    for t in range(len(t_edge)):
        e = t_edge[t]
        a, b, lo, hi = per_edge[e, 0], per_edge[e, 1], per_edge[e, 2], per_edge[e, 3]
        if a < 0:
            out_d[t, :] = np.inf
            if labels:
                out_s[t, :] = -1
            continue
        tu, tv, acc = to_u[t], to_v[t], access[t]
        for j in range(n_sets):
            best = min(dist[a, j] + tu, dist[b, j] + tv) + acc
            out_d[t, j] = best if best <= limits[j] else np.inf
        for j in range(n_sets if labels else 0):
            wu, wv = label[a, j], label[b, j]
            who = wu if dist[a, j] + tu <= dist[b, j] + tv else wv
            out_s[t, j] = who if out_d[t, j] != np.inf else -1
        p = position[t]
        near, who = 0.0, np.int32(-1)
        for q in range(lo, hi):  # the sources on this edge, a run per set
            j = e_set[q]
            x, y = dist[a, j] + tu, dist[b, j] + tv
            first = e_first[q]
            near = min(x, y) if first else near
            direct = abs(p - e_pos[q]) + e_acc[q]
            shorter = direct < near
            near = direct if shorter else near
            total = near + acc
            ok = total <= limits[j]
            out_d[t, j] = total if ok else np.inf  # the run's last source writes last
            if labels:  # (without, the block has no label rows to read)
                who = (label[a, j] if x <= y else label[b, j]) if first else who
                who = e_row[q] if shorter else who
                out_s[t, j] = who if ok else -1


@kernel
def nearest_all(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    s_edge: np.ndarray,
    s_to_u: np.ndarray,
    s_to_v: np.ndarray,
    s_acc: np.ndarray,
    s_pos: np.ndarray,
    s_row: np.ndarray,
    set_start: np.ndarray,
    limits: np.ndarray,
    t_edge: np.ndarray,
    to_u: np.ndarray,
    to_v: np.ndarray,
    access: np.ndarray,
    position: np.ndarray,
    out_d: np.ndarray,
    out_s: np.ndarray,
    labels: bool,
) -> None:
    """Per target and source set: the walk distance to the set's nearest source and its row.

    The sources of all sets are concatenated, set ``j`` being entries ``set_start[j]`` to
    ``set_start[j + 1]``, searched up to ``limits[j]``: one bounded multi-source Dijkstra per
    set fills column ``j`` of a (nodes, sets) block (the nearest source kept as its ``s_row``:
    within a set the rows ascend with the source indices, so the search's ties resolve the
    same), then :func:`_fill_rows` writes every row of ``out_d``/``out_s`` (targets, sets):
    the distance and the nearest source's ``s_row``, -1 when none is within the limit
    (``out_s`` only with ``labels``; without, the block keeps no labels either).
    """
    n_sets = len(limits)
    n = len(indptr) - 1
    dist = np.full((n, n_sets), np.inf)
    label = np.full((n if labels else 0, n_sets), -1, np.int32)  # rows < 2**31 (caller checks)
    reached = np.zeros(n, np.bool_)
    d, o, hk, hn, pos, touched = _buffers(n)
    a, b, wa, wb = seed_links(edge_u, edge_v, s_edge, s_to_u, s_to_v, s_acc)
    for j in range(n_sets):
        n_touched = _search(indptr, indices, data, a, b, wa, wb, set_start[j],
                            set_start[j + 1], limits[j], d, o, hk, hn, pos,
                            touched)  # fmt: skip
        for r in range(n_touched):
            w = touched[r]
            dist[w, j] = d[w]
            if labels:
                label[w, j] = s_row[o[w]]
            reached[w] = True
            d[w], o[w], pos[w] = np.inf, -1, -1
    s_set = np.empty(len(s_edge), np.int64)
    for j in range(n_sets):
        s_set[set_start[j] : set_start[j + 1]] = j
    _fill_rows(dist, label, reached, limits, edge_u, edge_v, s_edge, s_set, s_acc, s_pos, s_row,
               t_edge, to_u, to_v, access, position, out_d, out_s, labels)  # fmt: skip


@kernel
def per_source_dijkstra(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    seed_a: np.ndarray,
    seed_b: np.ndarray,
    seed_wa: np.ndarray,
    seed_wb: np.ndarray,
    limit: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each source's own bounded search, as CSR rows (``indptr``, node columns sorted,
    distances); work per source follows the nodes it reaches, not the network."""
    n = len(indptr) - 1
    k = len(seed_a)
    dist, origin, hk, hn, pos, touched = _buffers(n)
    out_ptr = np.zeros(k + 1, np.int64)
    out_col = np.empty(max(n, 16), np.int64)
    out_val = np.empty(max(n, 16), np.float64)
    nnz = 0
    for i in range(k):
        n_touched = _search(indptr, indices, data, seed_a, seed_b, seed_wa, seed_wb, i, i + 1,
                            limit, dist, origin, hk, hn, pos, touched)  # fmt: skip
        if nnz + n_touched > len(out_col):
            cap_out = max(2 * len(out_col), nnz + n_touched)
            out_col, out_val = grow(out_col, cap_out, nnz), grow(out_val, cap_out, nnz)
        cols = np.sort(touched[:n_touched])
        for r in range(n_touched):
            c = cols[r]
            out_col[nnz + r] = c
            out_val[nnz + r] = max(dist[c], 1e-12)
            dist[c], origin[c], pos[c] = np.inf, -1, -1
        nnz += n_touched
        out_ptr[i + 1] = nnz
    return out_ptr, out_col[:nnz].copy(), out_val[:nnz].copy()


@kernel
def pair_join(
    nd_indptr: np.ndarray,
    nd_indices: np.ndarray,
    nd_data: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    s_edge: np.ndarray,
    s_acc: np.ndarray,
    s_pos: np.ndarray,
    t_edge: np.ndarray,
    t_to_u: np.ndarray,
    t_to_v: np.ndarray,
    t_acc: np.ndarray,
    t_pos: np.ndarray,
    n_nodes: int,
    limit: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source, target) pair within ``limit`` from the sources' node distances.

    Per source row of ``nd`` (CSR of node distances): each reached node's distance plus the
    offset and access of every target standing on an edge at that node (``(d + off) + acc``),
    then the targets on the source's own edge reached directly along it
    (``(|position difference| + source access) + target access``); per pair the minimum, kept
    when ``<= limit`` and stored at least 1e-12. Returns rows, columns (targets ascending per
    source) and distances. Work follows the pairs within reach; memory one float per target.
    """
    k = len(nd_indptr) - 1
    m = len(t_edge)
    n = n_nodes
    # the targets at each node (both ends of their edge), as a CSR: node -> (target, offset)
    at_ptr = np.zeros(n + 1, np.int64)
    for t in range(m):
        at_ptr[edge_u[t_edge[t]] + 1] += 1
        at_ptr[edge_v[t_edge[t]] + 1] += 1
    for j in range(n):
        at_ptr[j + 1] += at_ptr[j]
    fill = at_ptr[:-1].copy()
    at_t = np.empty(2 * m, np.int64)
    at_off = np.empty(2 * m, np.float64)
    for t in range(m):
        j = edge_u[t_edge[t]]
        at_t[fill[j]] = t
        at_off[fill[j]] = t_to_u[t]
        fill[j] += 1
        j = edge_v[t_edge[t]]
        at_t[fill[j]] = t
        at_off[fill[j]] = t_to_v[t]
        fill[j] += 1
    order, on_edge = by_edge(t_edge, len(edge_u))
    best = np.full(m, np.inf)
    touched = np.empty(m, np.int64)
    cap = max(16, 4 * m)
    out_r = np.empty(cap, np.int64)
    out_c = np.empty(cap, np.int64)
    out_v = np.empty(cap, np.float64)
    nnz = 0
    for i in range(k):
        n_t = 0
        for q in range(nd_indptr[i], nd_indptr[i + 1]):
            j = nd_indices[q]
            d = nd_data[q]
            for p in range(at_ptr[j], at_ptr[j + 1]):
                t = at_t[p]
                c = d + at_off[p] + t_acc[t]
                if best[t] == np.inf:
                    touched[n_t] = t
                    n_t += 1
                if c < best[t]:
                    best[t] = c
        for p in range(on_edge[s_edge[i]], on_edge[s_edge[i] + 1]):  # targets on its edge
            t = order[p]
            c = abs(s_pos[i] - t_pos[t]) + s_acc[i] + t_acc[t]
            if best[t] == np.inf:
                touched[n_t] = t
                n_t += 1
            if c < best[t]:
                best[t] = c
        if nnz + n_t > cap:
            cap = max(2 * cap, nnz + n_t)
            out_r, out_c = grow(out_r, cap, nnz), grow(out_c, cap, nnz)
            out_v = grow(out_v, cap, nnz)
        if 16 * n_t > m:  # many reached: a scan of all targets is cheaper than a sort
            for t in range(m):
                if best[t] != np.inf:
                    if best[t] <= limit:
                        out_r[nnz] = i
                        out_c[nnz] = t
                        out_v[nnz] = max(best[t], 1e-12)
                        nnz += 1
                    best[t] = np.inf
        else:
            cols = np.sort(touched[:n_t])
            for x in range(n_t):
                t = cols[x]
                if best[t] <= limit:
                    out_r[nnz] = i
                    out_c[nnz] = t
                    out_v[nnz] = max(best[t], 1e-12)
                    nnz += 1
                best[t] = np.inf
    return out_r[:nnz].copy(), out_c[:nnz].copy(), out_v[:nnz].copy()

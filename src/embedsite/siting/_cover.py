"""Coverage matrices: reductions, greedy and swap heuristics, a Lagrangian bound (private).

Shared by LSCP, MCLP and p-center. ``A`` is always a clients x sites 0/1 ``csr_array`` of
"site within the radius of the client"; everything is sparse matrix-vector work, with
Python loops only over the sites a plan opens.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = [
    "Reduced",
    "ReducedCover",
    "greedy_cover",
    "greedy_max_cover",
    "lagrangian_cover_bound",
    "reduce_cover",
    "reduce_set_cover",
    "swap_max_cover",
]

_MAX_PRODUCT_NNZ = 20_000_000  # skip the dominance test when A^T A would be larger
_DENSE_MAX = 4_000_000  # dominance tests with at most this many overlap/matrix entries go dense


def _row_keys(A: sparse.csr_array, seed: int = 12345) -> np.ndarray:
    """Two random-projection hashes per row: equal rows get equal keys (collisions ~ 2^-100)."""
    rng = np.random.default_rng(seed)
    r = rng.random((A.shape[1], 2)) + 0.5
    keys = np.asarray(A.astype(float) @ r)
    return keys


def _group_rows(A: sparse.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each group, group of each row) for identical rows of ``A``."""
    keys = _row_keys(A)
    nnz = np.diff(A.indptr).astype(float)
    stacked = np.column_stack([keys, nnz])
    _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    return first, inverse.ravel()


@dataclass(frozen=True)
class Reduced:
    """A reduced cover instance: ``A`` (groups x kept sites), group weights, which original
    sites the columns are (``sites``), which group each original client fell in (``group``,
    -1 = dropped), and counts for the stats."""

    A: sparse.csr_array
    weights: np.ndarray
    sites: np.ndarray
    group: np.ndarray
    stats: dict[str, int]


def reduce_cover(
    A: sparse.csr_array,
    weights: np.ndarray,
    candidate: np.ndarray,
    site_cost: np.ndarray,
    *,
    dominance: bool = True,
) -> Reduced:
    """Keep the clients that matter and the columns worth opening.

    ``A`` holds only the clients still to cover (weight > 0, not covered by a fixed site)
    and ``candidate`` marks the new sites. Clients with the same set of covering
    candidates are merged (weights added); identical candidate columns keep the cheapest;
    a column whose clients are a strict subset of a no-dearer column's is dropped.
    """
    cols = np.flatnonzero(candidate)
    sub = sparse.csr_array(A[:, cols])
    stats = {"clients": int(A.shape[0]), "sites": len(cols)}
    first, inverse = _group_rows(sub)
    G = sparse.csr_array(sub[first])
    gw = np.bincount(inverse, weights=weights, minlength=len(first))
    # identical columns: keep the cheapest (then the first)
    Gt = sparse.csr_array(G.T)
    _cfirst, cinv = _group_rows(Gt)
    cost = site_cost[cols]
    order = np.lexsort((np.arange(len(cols)), cost, cinv))
    keep_first = np.ones(len(order), dtype=bool)
    keep_first[1:] = cinv[order][1:] != cinv[order][:-1]
    keep = np.zeros(len(cols), dtype=bool)
    keep[order[keep_first]] = True
    keep &= np.diff(Gt.indptr) > 0  # a column covering nobody is never worth opening
    if dominance and keep.sum() > 1:
        K = sparse.csr_array(G[:, np.flatnonzero(keep)], dtype=np.int32)
        row_nnz = np.diff(K.indptr).astype(float)
        if float((row_nnz**2).sum()) <= _MAX_PRODUCT_NNZ:
            overlap = sparse.csr_array(K.T @ K).tocoo()
            size = np.asarray(K.sum(axis=0)).ravel()
            kc = cost[np.flatnonzero(keep)]
            i, j, v = overlap.row, overlap.col, overlap.data
            dom = (i != j) & (v == size[i]) & (size[j] > size[i]) & (kc[j] <= kc[i])
            dropped = np.zeros(len(size), dtype=bool)
            dropped[np.unique(i[dom])] = True
            kept_pos = np.flatnonzero(keep)
            keep[kept_pos[dropped]] = False
    final = sparse.csr_array(G[:, np.flatnonzero(keep)])
    stats.update(groups=int(final.shape[0]), kept_sites=int(keep.sum()))
    return Reduced(final, gw, cols[keep], inverse, stats)


@dataclass(frozen=True)
class ReducedCover:
    """A set cover reduced without changing its optimum: ``A`` (rows left x columns left),
    which original columns the columns are (``sites``), the original columns every optimal
    cover of the reduced rows opens (``forced``: a row they alone cover), and counts."""

    A: sparse.csr_array
    sites: np.ndarray
    forced: np.ndarray
    stats: dict[str, int]


def _dominated(
    K: sparse.csr_array, rank: np.ndarray, *, superset: bool, chunk_nnz: int = 4_000_000
) -> np.ndarray:
    """Rows of ``K`` dominated by another row, ties broken by ``rank`` (smaller wins).

    ``superset=True`` (cover rows): row i goes when some row k with a smaller rank has
    ``N_k <= N_i`` (covering k covers i). ``superset=False`` (columns, as rows of the
    transpose): row i goes when some row k with a smaller rank has ``N_i <= N_k``.
    The rank must order subsets first (rows) or no-dearer supersets first (columns), so
    that the relation is a strict order and the undominated rows always survive.
    The overlaps ``K K^T`` are computed in blocks of rows of about ``chunk_nnz`` entries,
    so memory stays bounded whatever the number of rows (small ``K``: one dense product).
    A row without entries is never dominated nor dominating (callers drop such rows).
    """
    K = sparse.csr_array(K, dtype=np.int32)  # overlap counts overflow int8
    n = K.shape[0]
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    if n * max(n, K.shape[1]) <= _DENSE_MAX:  # small: one dense product, no sparse overhead
        D = K.toarray().astype(np.float32)  # counts below 2**24 are exact in float32
        overlap = D @ D.T
        size_d = np.diff(K.indptr).astype(np.float32)
        inside = overlap == (size_d[None, :] if superset else size_d[:, None])
        inside &= overlap > 0  # as the sparse product: an empty row takes no part
        return (inside & (rank[None, :] < rank[:, None])).any(axis=1)
    Kt = sparse.csc_array(K.T)
    size = np.diff(K.indptr)
    colsize = np.diff(sparse.csc_array(K).indptr).astype(np.int64)
    per_row = np.zeros(n, dtype=np.int64)
    np.add.at(per_row, np.repeat(np.arange(n), size), colsize[K.indices])
    starts = [0]
    total = np.cumsum(per_row)
    while starts[-1] < n:  # blocks of rows: one sparse product each
        base = total[starts[-1] - 1] if starts[-1] else 0
        stop = int(np.searchsorted(total, base + chunk_nnz, side="right"))
        starts.append(max(stop, starts[-1] + 1))
    for start, stop in itertools.pairwise(starts):
        block = sparse.csr_array(K[start:stop] @ Kt).tocoo()
        i = block.row.astype(np.int64) + start
        k = block.col.astype(np.int64)
        inside = (block.data == size[k]) if superset else (block.data == size[i])
        dom = inside & (i != k) & (rank[k] < rank[i])
        out[np.unique(i[dom])] = True
    return out


def reduce_set_cover(
    A: sparse.csr_array, cost: np.ndarray, *, max_rounds: int = 50
) -> ReducedCover:
    """Reduce ``min c y`` s.t. ``A y >= 1``, ``y`` binary, without changing its optimum.

    Repeated until nothing changes (Toregas & ReVelle 1973; Garfinkel & Nemhauser): a row
    that a single column covers forces that column (and the rows it covers are dropped);
    a row covered whenever another is (its columns a superset) is dropped; a column whose
    rows are a subset of a no-dearer column's is dropped (identical columns keep the
    cheapest, then the first). Every row of ``A`` must have a column.
    """
    A = sparse.csr_array(A, dtype=np.int8)
    rows = np.arange(A.shape[0])
    cols = np.arange(A.shape[1])
    forced: list[np.ndarray] = []
    stats = {"rows": int(A.shape[0]), "columns": int(A.shape[1]), "forced": 0,
             "reduction_rounds": 0}  # fmt: skip
    K = A
    for _ in range(max_rounds):
        stats["reduction_rounds"] += 1
        n_before = K.shape
        # a row only one column covers forces it
        nnz = np.diff(K.indptr)
        single = nnz == 1
        if single.any():
            must = np.unique(K.indices[K.indptr[:-1][single]])
            forced.append(cols[must])
            hit = np.asarray(K[:, must].sum(axis=1)).ravel() > 0
            keep_c = np.ones(K.shape[1], dtype=bool)
            keep_c[must] = False
            K = sparse.csr_array(K[np.flatnonzero(~hit)][:, np.flatnonzero(keep_c)])
            rows, cols = rows[~hit], cols[keep_c]
        if K.shape[0] == 0:
            break
        # rows: a superset of another row is redundant (identical rows keep the first)
        nnz = np.diff(K.indptr)
        order = np.lexsort((np.arange(K.shape[0]), nnz))
        rank = np.empty(K.shape[0], dtype=np.int64)
        rank[order] = np.arange(K.shape[0])
        drop_r = _dominated(K, rank, superset=True)
        # columns: a subset of a no-dearer column is never needed
        Kt = sparse.csr_array(K[np.flatnonzero(~drop_r)].T)
        csize = np.diff(Kt.indptr)
        c = cost[cols]
        corder = np.lexsort((np.arange(len(cols)), -csize, c))
        crank = np.empty(len(cols), dtype=np.int64)
        crank[corder] = np.arange(len(cols))
        drop_c = _dominated(Kt, crank, superset=False) | (csize == 0)
        K = sparse.csr_array(K[np.flatnonzero(~drop_r)][:, np.flatnonzero(~drop_c)])
        rows, cols = rows[~drop_r], cols[~drop_c]
        if K.shape == n_before:
            break
    K.sort_indices()
    forced_all = np.sort(np.concatenate(forced)) if forced else np.zeros(0, dtype=np.int64)
    stats.update(rows_left=int(K.shape[0]), columns_left=int(K.shape[1]),
                 forced=len(forced_all))  # fmt: skip
    return ReducedCover(K, cols, forced_all.astype(np.int64), stats)


def greedy_cover(A: sparse.csr_array, cost: np.ndarray) -> np.ndarray:
    """Chvátal's greedy set cover, then redundant sites removed (dearest first).

    Every row of ``A`` must be coverable. Returns the chosen column positions.
    """
    n, _m = A.shape
    At = sparse.csr_array(A.T)
    uncovered = np.ones(n, dtype=float)
    chosen: list[int] = []
    count = np.zeros(n, dtype=np.int64)
    safe = np.where(cost > 0, cost, 1e-12)
    while uncovered.any():
        gain = At @ uncovered
        j = int(np.argmax(np.where(gain > 0, gain / safe, -1.0)))
        chosen.append(j)
        rows = At.indices[At.indptr[j] : At.indptr[j + 1]]
        uncovered[rows] = 0.0
        count[rows] += 1
    # drop redundant sites, dearest first
    for j in sorted(chosen, key=lambda k: -cost[k]):
        rows = At.indices[At.indptr[j] : At.indptr[j + 1]]
        if (count[rows] >= 2).all():
            count[rows] -= 1
            chosen.remove(j)
    return np.sort(np.asarray(chosen, dtype=np.int64))


def lagrangian_cover_bound(
    A: sparse.csr_array, cost: np.ndarray, upper: float, *, iterations: int = 300
) -> float:
    """A lower bound on the cheapest cover: Lagrangian relaxation of the cover rows.

    ``L(u) = sum(u) + sum_j min(0, c_j - (A^T u)_j)`` is a lower bound for any ``u >= 0``;
    ``u`` follows subgradient steps (Held-Karp rule) toward ``upper`` (a known cover's cost).
    """
    n = A.shape[0]
    if n == 0:
        return 0.0
    At = sparse.csr_array(A.T)
    # start from u_i = cheapest cover of i divided by how many columns cover it
    colmin = np.full(n, np.inf)
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    np.minimum.at(colmin, rows, cost[A.indices])
    u = colmin / np.maximum(np.diff(A.indptr), 1)
    best = -np.inf
    step = 2.0
    stall = 0
    for _ in range(iterations):
        reduced = cost - At @ u
        x = reduced < 0
        value = float(u.sum() + reduced[x].sum())
        if value > best + 1e-9:
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 20:
                step /= 2
                stall = 0
                if step < 1e-4:
                    break
        g = 1.0 - A @ x.astype(float)
        norm = float(g @ g)
        if norm == 0:
            break
        u = np.maximum(0.0, u + step * (upper - value) / norm * g)
    return best


def greedy_max_cover(
    A: sparse.csr_array,
    weights: np.ndarray,
    p: int | None,
    cost: np.ndarray | None = None,
    budget: float | None = None,
) -> np.ndarray:
    """Greedy maximum coverage: at most ``p`` columns, or columns within ``budget``.

    With a budget the best gain per unit cost that still fits is taken (and the single best
    column alone is kept if it beats the whole greedy set, the classic guard).
    """
    _n, m = A.shape
    At = sparse.csr_array(A.T)
    left = weights.astype(float).copy()
    chosen: list[int] = []
    spent = 0.0
    avail = np.ones(m, dtype=bool)
    while True:
        if p is not None and len(chosen) >= p:
            break
        gain = At @ left
        if budget is not None and cost is not None:
            fits = avail & (spent + cost <= budget + 1e-9)
            score = np.where(fits & (gain > 0), gain / np.maximum(cost, 1e-12), -1.0)
        else:
            score = np.where(avail & (gain > 0), gain, -1.0)
        j = int(np.argmax(score))
        if score[j] <= 0:
            break
        chosen.append(j)
        avail[j] = False
        if cost is not None:
            spent += float(cost[j])
        left[At.indices[At.indptr[j] : At.indptr[j + 1]]] = 0.0
    out = np.asarray(chosen, dtype=np.int64)
    if budget is not None and cost is not None and len(out):
        gain0 = At @ weights.astype(float)
        fits = cost <= budget + 1e-9
        j = int(np.argmax(np.where(fits, gain0, -1.0)))
        if gain0[j] > covered_weight(A, weights, out):
            out = np.asarray([j], dtype=np.int64)
    return out


def covered_weight(A: sparse.csr_array, weights: np.ndarray, cols: np.ndarray) -> float:
    """Weight of the rows of ``A`` covered by at least one of ``cols``."""
    if len(cols) == 0:
        return 0.0
    hit = np.asarray(A[:, cols].sum(axis=1)).ravel() > 0
    return float(weights[hit].sum())


def swap_max_cover(
    A: sparse.csr_array,
    weights: np.ndarray,
    chosen: np.ndarray,
    *,
    cost: np.ndarray | None = None,
    budget: float | None = None,
    max_rounds: int = 200,
) -> np.ndarray:
    """Best-improvement 1-swap local search for maximum coverage (vectorised per round).

    For every open column ``s`` and closed column ``j`` the change of covered weight of
    swapping them is ``gain0_j + shared_sj - loss_s``: ``gain0`` the weight only ``j``
    would newly cover, ``loss`` the weight only ``s`` covers, ``shared`` the weight covered
    only by ``s`` that ``j`` also covers. The best positive swap (that keeps the budget) is
    made until none is left.
    """
    chosen = np.asarray(chosen, dtype=np.int64).copy()
    if len(chosen) == 0:
        return chosen
    _n, _m = A.shape
    At = sparse.csr_array(A.T)
    w = weights.astype(float)
    for _ in range(max_rounds):
        cnt = np.asarray(A[:, chosen].sum(axis=1)).ravel()
        gain0 = At @ (w * (cnt == 0))
        only = cnt == 1
        S = sparse.csr_array(A[:, chosen])
        loss = S.T @ (w * only)
        shared = (At @ sparse.csr_array(S.multiply((w * only)[:, None]))).toarray()  # m x |S|
        delta = gain0[:, None] + shared - loss[None, :]
        delta[chosen, :] = -np.inf
        if budget is not None and cost is not None:
            spent = float(cost[chosen].sum())
            fits = spent - cost[chosen][None, :] + cost[:, None] <= budget + 1e-9
            delta[~fits] = -np.inf
        j, s = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if delta[j, s] <= 1e-9 * max(1.0, float(w.sum())):
            break
        chosen[s] = j
    return np.sort(chosen)


def max_cover_upper_bound(
    A: sparse.csr_array,
    weights: np.ndarray,
    chosen: np.ndarray,
    p: int | None,
    cost: np.ndarray | None = None,
    budget: float | None = None,
) -> float:
    """A valid upper bound on maximum coverage from submodularity.

    For any plan ``T``, ``f(T) <= f(S) + sum_{j in T} gain_j(S)``; so the optimum is at most
    ``f(S)`` plus the ``p`` largest marginal gains (or the fractional knapsack of the gains
    within the budget). Also capped by the weight any column reaches at all.
    """
    w = weights.astype(float)
    cnt = np.asarray(A[:, chosen].sum(axis=1)).ravel() if len(chosen) else np.zeros(A.shape[0])
    base = float(w[cnt > 0].sum())
    gain = sparse.csr_array(A.T) @ (w * (cnt == 0))
    if budget is not None and cost is not None:
        free = cost <= 0
        extra = float(gain[free].sum())
        c, g = cost[~free], gain[~free]
        order = np.argsort(-g / c, kind="stable")
        room = budget
        for k in order:  # fractional knapsack: loop over the sites, at most until it fills
            if room <= 0:
                break
            take = min(1.0, room / c[k])
            extra += take * g[k]
            room -= take * c[k]
    else:
        extra = float(np.sort(gain)[::-1][: int(p or 0)].sum())
    reachable = float(w[np.diff(A.indptr) > 0].sum())
    return min(base + extra, reachable)

"""p-median heuristic on a reduced dense matrix: greedy, then vectorised fast interchange.

Private helper of :mod:`embedsite.siting._pmedian_exact` (Whitaker 1983: best-improvement
swap with nearest / second-nearest bookkeeping, every (in, out) pair evaluated at once).
"""

from __future__ import annotations

import math
import time

import numpy as np

__all__: list[str] = []


def _nearest_two(C: np.ndarray, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance to the nearest open site, its position in ``sel``, distance to the second."""
    cs = C[:, sel]
    if sel.size == 1:
        return cs[:, 0], np.zeros(len(C), dtype=np.int64), np.full(len(C), np.inf)
    part = np.argpartition(cs, 1, axis=1)[:, :2]
    rows = np.arange(len(C))
    a, b = cs[rows, part[:, 0]], cs[rows, part[:, 1]]
    swap = b < a
    a1 = np.where(swap, part[:, 1], part[:, 0])
    return np.minimum(a, b), a1, np.maximum(a, b)


def _greedy(C: np.ndarray, w: np.ndarray, p: int) -> np.ndarray:
    """Greedy add with incremental gains (only clients whose distance drops are touched)."""
    d = C.max(axis=1)
    gain = w @ (d[:, None] - C)
    chosen: list[int] = []
    is_open = np.zeros(C.shape[1], dtype=bool)
    for _ in range(p):
        g = np.where(is_open, -np.inf, gain)
        j = int(np.argmax(g))
        chosen.append(j)
        is_open[j] = True
        new_d = np.minimum(d, C[:, j])
        hit = np.flatnonzero(new_d < d)
        if hit.size:
            sub = C[hit]
            gain -= w[hit] @ (
                np.maximum(d[hit, None] - sub, 0) - np.maximum(new_d[hit, None] - sub, 0)
            )
        d = new_d
    return np.array(chosen, dtype=np.int64)


def _nearest_two_idx(
    C: np.ndarray, sel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(d1, position of nearest in sel, d2, position of second nearest) for p >= 2."""
    cs = C[:, sel]
    part = np.argpartition(cs, 1, axis=1)[:, :2]
    rows = np.arange(len(C))
    a, b = cs[rows, part[:, 0]], cs[rows, part[:, 1]]
    swap = b < a
    a1 = np.where(swap, part[:, 1], part[:, 0])
    a2 = np.where(swap, part[:, 0], part[:, 1])
    return np.minimum(a, b), a1, np.maximum(a, b), a2


def _accumulate(
    C: np.ndarray,
    w: np.ndarray,
    rows: np.ndarray,
    d1: np.ndarray,
    a1: np.ndarray,
    d2: np.ndarray,
    sign: float,
    gain: np.ndarray,
    extra: np.ndarray,
    loss: np.ndarray,
) -> None:
    """Add (sign=+1) or remove (-1) the swap-evaluation terms of ``rows`` (in place).

    Opening ``j`` and closing the site at position ``r`` changes the objective by
    ``-(gain_j - loss_r + extra_rj)`` with ``gain_j = sum_i w_i max(0, d1_i - c_ij)``,
    ``loss_r = sum_{a1_i = r} w_i (d2_i - d1_i)`` and
    ``extra_rj = sum_{a1_i = r} w_i max(0, d2_i - max(c_ij, d1_i))``.
    """
    if rows.size == 0:
        return
    cr, wr, d1r, d2r, ar = C[rows], w[rows], d1[rows], d2[rows], a1[rows]
    gain += sign * (wr @ np.maximum(d1r[:, None] - cr, 0.0))
    ext = np.maximum(d2r[:, None] - np.maximum(cr, d1r[:, None]), 0.0)
    ext *= wr[:, None]
    order = np.argsort(ar, kind="stable")
    ars = ar[order]
    starts = np.flatnonzero(np.r_[True, ars[1:] != ars[:-1]])
    extra[ars[starts]] += sign * np.add.reduceat(ext[order], starts, axis=0)
    loss += sign * np.bincount(ar, weights=wr * (d2r - d1r), minlength=loss.size)


def _local_search(
    C: np.ndarray, w: np.ndarray, sel: np.ndarray, deadline: float = math.inf
) -> tuple[np.ndarray, float]:
    """Best-improvement swap until no (in, out) pair improves (or the deadline passes).

    Whitaker's fast interchange: the terms of every (in, out) pair are kept in ``gain``,
    ``loss`` and ``extra`` and, after a swap, updated only for the clients whose nearest or
    second-nearest open site changed. The returned objective is recomputed from scratch.
    """
    m, n = C.shape
    p = sel.size
    sel = sel.copy()
    if p == 1:  # one open site: the exact answer is the best column
        col_cost = w @ C
        return np.array([int(np.argmin(col_cost))]), float(col_cost.min())
    scale = 1e-9 * max(1.0, float(w.sum() * C.max()))
    everyone = np.arange(m)
    swaps = 0
    while True:
        if swaps % 64 == 0:  # (re)build from scratch: clears rounding drift
            d1, a1, d2, a2 = _nearest_two_idx(C, sel)
            gain, extra, loss = np.zeros(n), np.zeros((p, n)), np.zeros(p)
            _accumulate(C, w, everyone, d1, a1, d2, 1.0, gain, extra, loss)
        profit = extra + gain[None, :] - loss[:, None]
        profit[:, sel] = -np.inf
        k = int(np.argmax(profit))
        r, j = divmod(k, n)
        if profit[r, j] <= scale or time.perf_counter() > deadline or swaps > 100 * p + 1000:
            break
        hit = np.flatnonzero((a1 == r) | (a2 == r) | (C[:, j] < d2))
        _accumulate(C, w, hit, d1, a1, d2, -1.0, gain, extra, loss)
        sel[r] = j
        h1, h_a1, h2, h_a2 = _nearest_two_idx(C[hit], sel)
        d1[hit], a1[hit], d2[hit], a2[hit] = h1, h_a1, h2, h_a2
        _accumulate(C, w, hit, d1, a1, d2, 1.0, gain, extra, loss)
        swaps += 1
    return np.sort(sel), float(w @ C[:, sel].min(axis=1))


def _heuristic(
    C: np.ndarray,
    w: np.ndarray,
    p: int,
    seed: int,
    restarts: int | None,
    deadline: float = math.inf,
) -> tuple[np.ndarray, float, int]:
    """Best of greedy + swap and ``restarts`` random starts + swap (reduced problem)."""
    n = C.shape[1]
    if restarts is None:
        restarts = 8 if p <= 10 else (3 if p <= 30 else 0)
        if C.size <= 50_000:  # small matrices: the exact stage finds the rest faster
            restarts = min(restarts, 2)
        restarts = min(restarts, max(0, int(3e6 // max(1, C.size))))
    best, best_obj = _local_search(C, w, _greedy(C, w, p), deadline)
    rng = np.random.default_rng(seed)
    for _ in range(restarts):
        if time.perf_counter() > deadline:
            break
        sel, obj = _local_search(C, w, rng.choice(n, size=p, replace=False), deadline)
        if obj < best_obj - 1e-12 * max(1.0, best_obj):
            best, best_obj = sel, obj
    return best, best_obj, restarts

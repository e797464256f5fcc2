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


def _local_search(
    C: np.ndarray, w: np.ndarray, sel: np.ndarray, deadline: float = math.inf
) -> tuple[np.ndarray, float]:
    """Best-improvement swap until no (in, out) pair improves (or the deadline passes)."""
    n = C.shape[1]
    p = sel.size
    sel = sel.copy()
    scale = 1e-12 * max(1.0, float(w.sum() * C.max()))
    while True:
        d1, a1, d2 = _nearest_two(C, sel)
        if p == 1:  # one open site: the exact answer is the best column
            col_cost = w @ C
            return np.array([int(np.argmin(col_cost))]), float(col_cost.min())
        loss = np.bincount(a1, weights=w * (d2 - d1), minlength=p)
        near = d2[:, None] > C
        if np.count_nonzero(near) > 0.05 * near.size:
            # many (client, site) pairs inside the second-nearest distance (small p): dense
            # arithmetic and one matrix product (clients grouped by their nearest open site)
            gain = w @ np.maximum(d1[:, None] - C, 0.0)
            m_ext = np.maximum(d2[:, None] - np.maximum(C, d1[:, None]), 0.0) * w[:, None]
            group = np.zeros((p, C.shape[0]))
            group[a1, np.arange(C.shape[0])] = 1.0
            extra = group @ m_ext
        else:
            ii, jj = np.nonzero(near)
            cij = C[ii, jj]
            wi = w[ii]
            gain = np.bincount(jj, weights=wi * np.maximum(d1[ii] - cij, 0.0), minlength=n)
            extra = np.bincount(
                a1[ii] * n + jj, weights=wi * (d2[ii] - np.maximum(cij, d1[ii])), minlength=p * n
            ).reshape(p, n)
        profit = extra + gain[None, :] - loss[:, None]
        profit[:, sel] = -np.inf
        k = int(np.argmax(profit))
        r, j = divmod(k, n)
        if profit[r, j] <= scale or time.perf_counter() > deadline:
            return np.sort(sel), float(w @ d1)
        sel[r] = j


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

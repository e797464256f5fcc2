"""Lagrangian bound of the p-median with variable fixing (Beasley 1993), private.

Private helper of :mod:`embedsite.siting._pmedian_exact`: subgradient on the assignment
constraints of the reduced dense matrix, dense or sorted-prefix arithmetic by density, and
reduced-cost fixing of sites (closed / opened for every solution better than the
incumbent).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__: list[str] = []


# ---------------------------------------------------------------------------------------------
# Lagrangian bound with variable fixing
# ---------------------------------------------------------------------------------------------


@dataclass
class _Lagr:
    bound: float
    closed: np.ndarray  # bool per column: no solution better than UB opens it
    opened: np.ndarray  # bool per column: every solution better than UB opens it
    iterations: int
    sites: np.ndarray  # the p sites of the Lagrangian solution at the best multipliers
    lam: np.ndarray  # the best multipliers


def _lagrangian(
    C: np.ndarray,
    w: np.ndarray,
    p: int,
    ub: float,
    delta: float,
    lam0: np.ndarray,
    *,
    max_iter: int,
    deadline: float,
) -> _Lagr:
    """Subgradient on ``sum_j x_ij = 1``; fixes sites by Lagrangian reduced costs.

    ``L(lam) = sum_i lam_i + sum of the p smallest rho_j``, ``rho_j = sum_i min(0, w_i c_ij -
    lam_i)``. With site ``j`` forced in (out), the bound becomes ``L + rho_j - rho_(p)``
    (``L - rho_j + rho_(p+1)``); above ``ub - delta`` no better solution opens (closes) it.
    Closed sites are dropped as they are found (valid for solutions better than ``ub``).
    """
    m, n_all = C.shape
    lam = lam0.copy()
    closed = np.zeros(n_all, dtype=bool)
    opened = np.zeros(n_all, dtype=bool)
    best, beta, stall, it = -np.inf, 2.0, 0, 0
    best_sites, best_lam = np.arange(p), lam.copy()
    ids = np.arange(n_all)  # original columns still alive
    wc = w[:, None] * C
    order: Any = None
    wc_sorted: Any = None
    flat_key: Any = None
    shift: Any = None
    row_start: Any = None
    span = float(wc.max()) * 2.0 + 1.0
    dense = True
    for it in range(1, max_iter + 1):  # noqa: B007
        n = ids.size
        if n <= p:
            # a better solution uses only live sites: none if fewer than p, else all of them
            best = ub - delta
            if n == p:
                v = float(w @ C[:, ids].min(axis=1))
                best, best_sites = min(v, ub - delta), ids.copy()
            break
        lam = np.minimum(lam, span / 2.0)
        used_dense = dense
        if used_dense:
            r = np.minimum(wc - lam[:, None], 0.0)
            rho = r.sum(axis=0)
            # long prefixes (small p): dense arithmetic is faster than gathering them
            dense = p <= 10 or np.count_nonzero(r) > 0.05 * m * n
        else:
            if order is None:  # per client, sites by increasing w c: the prefix < lam counts
                order = np.argsort(wc, axis=1, kind="stable")
                wc_sorted = np.take_along_axis(wc, order, axis=1)
            if flat_key is None:  # rows end to end with a gap: one searchsorted for all
                row_start = np.arange(m) * n
                shift = np.arange(m) * span
                flat_key = (wc_sorted + shift[:, None]).ravel()
            k = np.searchsorted(flat_key, lam + shift, side="left") - row_start
            total = int(k.sum())
            rows = np.repeat(np.arange(m), k)
            pos = np.arange(total) + np.repeat(row_start - (np.cumsum(k) - k), k)
            cols = order.ravel()[pos]
            val = wc_sorted.ravel()[pos] - lam[rows]
            rho = np.bincount(cols, weights=val, minlength=n)
            dense = total > 0.1 * m * n
        part = np.argpartition(rho, p)
        S = part[:p]
        rho_p = rho[S].max()
        rho_p1 = rho[part[p]]
        L = float(lam.sum() + rho[S].sum())
        if best == -np.inf or best + 1e-9 * max(1.0, abs(best)) < L:
            best, stall = L, 0
            best_sites, best_lam = ids[S], lam.copy()
        else:
            stall += 1
            if stall >= 15:
                beta, stall = beta / 2, 0
        in_s = np.zeros(n, dtype=bool)
        in_s[S] = True
        shut = ~in_s & (L + rho - rho_p > ub - delta)
        closed[ids[shut]] = True
        opened[ids[in_s & (L - rho + rho_p1 > ub - delta)]] = True
        if best > ub - delta or beta < 5e-3 or time.perf_counter() > deadline:
            break
        if used_dense:
            g = 1.0 - (r[:, S] < 0).sum(axis=1)
        else:
            g = 1.0 - np.bincount(rows, weights=in_s[cols], minlength=m)
        nn = float(g @ g)
        if nn == 0:
            break  # the Lagrangian solution is feasible: L is its cost
        lam = np.maximum(lam + beta * (ub - L) / nn * g, 0.0)
        gone = closed[ids]
        if gone.sum() > 0.1 * n:  # drop closed sites, keeping the sorted order without a sort
            keep = ~gone
            ids, wc = ids[keep], wc[:, keep]
            if order is not None:
                mask = keep[order]
                remap = np.cumsum(keep) - 1
                order = remap[order[mask]].reshape(m, -1)
                wc_sorted = wc_sorted[mask].reshape(m, -1)
                flat_key = None
    # dropping closed sites makes the bound valid only for solutions better than ub
    return _Lagr(min(best, ub - delta), closed, opened & ~closed, it, best_sites, best_lam)

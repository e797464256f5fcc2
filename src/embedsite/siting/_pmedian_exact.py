"""Exact and heuristic p-median on dense arrays (private; stand-in).

This stand-in is replaced by the fast core (radius formulation + Lagrangian + greedy/swap)
at merge; it keeps the agreed signature so that :class:`~embedsite.siting.PMedian` runs now.
It solves the classic assignment formulation (ReVelle & Swain 1970) with HiGHS, and a greedy
plus best-improvement swap heuristic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from embedsite.siting._highs import solve_mip

__all__ = ["PMedianSolution", "heuristic_pmedian", "solve_pmedian"]


@dataclass(frozen=True)
class PMedianSolution:
    """Open sites (positions, fixed included, sorted), objective, bound, status, details."""

    selected: np.ndarray
    objective: float
    bound: float
    status: str
    runtime_s: float
    stats: dict[str, Any] = field(default_factory=dict)


def _inputs(
    cost: np.ndarray, weights: np.ndarray | None, fixed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    c = np.asarray(cost, dtype=float)
    n, m = c.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    fx = np.zeros(m, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    finite = c[np.isfinite(c)]
    big = (float(finite.max()) if len(finite) else 1.0) * 10.0 + 1.0
    return np.where(np.isfinite(c), c, big), w, fx, big


def _objective(c: np.ndarray, w: np.ndarray, open_mask: np.ndarray) -> float:
    return float(w @ c[:, open_mask].min(axis=1))


def heuristic_pmedian(
    cost: np.ndarray,
    p: int,
    *,
    weights: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    seed: int = 0,
    restarts: int | None = None,
) -> PMedianSolution:
    """Greedy addition then best-improvement swaps (``p`` new sites on top of ``fixed``)."""
    t0 = time.perf_counter()
    c, w, fx, big = _inputs(cost, weights, fixed)
    n, _m = c.shape
    open_mask = fx.copy()
    cur = c[:, fx].min(axis=1) if fx.any() else np.full(n, big * 10)
    for _ in range(p):
        totals = (w[:, None] * np.minimum(cur[:, None], c)).sum(axis=0)
        totals[open_mask] = np.inf
        j = int(np.argmin(totals))
        open_mask[j] = True
        cur = np.minimum(cur, c[:, j])
    rounds = 0
    while p > 0 and rounds < 500:
        rounds += 1
        best_delta, move = -1e-9, None
        current = _objective(c, w, open_mask)
        for s in np.flatnonzero(open_mask & ~fx):  # one step per open site, not per client
            rest = open_mask.copy()
            rest[s] = False
            base = c[:, rest].min(axis=1) if rest.any() else np.full(n, big * 10)
            totals = (w[:, None] * np.minimum(base[:, None], c)).sum(axis=0)
            totals[open_mask] = np.inf
            j = int(np.argmin(totals))
            delta = totals[j] - current
            if delta < best_delta:
                best_delta, move = delta, (s, j)
        if move is None:
            break
        open_mask[move[0]] = False
        open_mask[move[1]] = True
    sel = np.flatnonzero(open_mask)
    obj = float(w @ np.asarray(cost, dtype=float)[:, open_mask].min(axis=1))
    return PMedianSolution(sel, obj, np.nan, "heuristic", time.perf_counter() - t0,
                           {"swap_rounds": rounds, "penalty": big})  # fmt: skip


def solve_pmedian(
    cost: np.ndarray,
    p: int,
    *,
    weights: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    seed: int = 0,
) -> PMedianSolution:
    """Exact p-median by the assignment formulation with HiGHS (warm-started by the
    heuristic): min sum w_i c_ij x_ij, sum_j x_ij = 1, x_ij <= y_j, sum_new y_j = p."""
    t0 = time.perf_counter()
    c, w, fx, big = _inputs(cost, weights, fixed)
    n, m = c.shape
    heur = heuristic_pmedian(cost, p, weights=weights, fixed=fixed, seed=seed)
    # columns: y (m) then x (n*m, row-major: i*m + j)
    nx = n * m
    i_idx = np.repeat(np.arange(n), m)
    j_idx = np.tile(np.arange(m), n)
    x_cols = m + np.arange(nx)
    assign = sparse.csr_array((np.ones(nx), (i_idx, x_cols)), shape=(n, m + nx))
    link = sparse.csr_array(
        (np.concatenate([np.ones(nx), -np.ones(nx)]),
         (np.concatenate([np.arange(nx), np.arange(nx)]), np.concatenate([x_cols, j_idx]))),
        shape=(nx, m + nx),
    )  # fmt: skip
    count = sparse.csr_array(
        (np.ones(int((~fx).sum())), (np.zeros(int((~fx).sum()), dtype=int), np.flatnonzero(~fx))),
        shape=(1, m + nx),
    )
    A = sparse.vstack([assign, link, count], format="csr")
    lo = np.concatenate([np.ones(n), np.full(nx, -np.inf), [float(p)]])
    hi = np.concatenate([np.ones(n), np.zeros(nx), [float(p)]])
    col_lo = np.concatenate([fx.astype(float), np.zeros(nx)])
    col_hi = np.ones(m + nx)
    obj = np.concatenate([np.zeros(m), (w[:, None] * c).ravel()])
    start = np.zeros(m + nx)
    start[heur.selected] = 1.0
    near = heur.selected[np.argmin(c[:, heur.selected], axis=1)]
    start[m + np.arange(n) * m + near] = 1.0
    integral = bool(np.all(obj == np.round(obj)))
    out = solve_mip(
        obj, A, lo, hi, col_lo, col_hi, np.concatenate([np.ones(m, bool), np.zeros(nx, bool)]),
        time_limit=time_limit, mip_gap=mip_gap, start=start,
        abs_gap=0.999 if integral else None,
    )  # fmt: skip
    sel = np.flatnonzero(out.x[:m] > 0.5) if out.x is not None else heur.selected
    mask = np.zeros(m, dtype=bool)
    mask[sel] = True
    penalised = _objective(c, w, mask)
    if penalised > _objective(c, w, np.isin(np.arange(m), heur.selected)):
        sel, mask = heur.selected, np.isin(np.arange(m), heur.selected)
        penalised = _objective(c, w, mask)
    true_obj = float(w @ np.asarray(cost, dtype=float)[:, mask].min(axis=1))
    bound = float(out.bound)
    if integral and np.isfinite(bound):
        bound = float(np.ceil(bound - 1e-6))
    status = out.status if out.status != "infeasible" else "time_limit"
    if status == "optimal":
        bound = penalised
    return PMedianSolution(np.sort(sel), true_obj, min(bound, penalised), status,
                           time.perf_counter() - t0,
                           {"heuristic_objective": heur.objective, "nodes": out.nodes,
                            "penalty": big})  # fmt: skip

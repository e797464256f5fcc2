"""Greedy construction and drop-and-refill local search for the composite plan (private).

Moves are (site, function set): open a closed site with a feasible set of types, or enlarge
an open site's set (a single-function site becoming a complex). The gain of every move comes
from one sites x types matrix ``G`` (the weight each type at each site would newly cover),
kept up to date incrementally: opening or closing a facility touches only the columns of the
clients it reaches. No loop over clients or nonzeros in Python.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from embedsite.siting._composite_result import CompositeProblem

if TYPE_CHECKING:
    from embedsite.siting.composite import CompositePlan

__all__ = ["greedy_hosts"]

_MAX_SUBSET = 5  # function sets of at most this many types
_PASSES = 3  # local-search passes over the open sites


class _Moves:
    """The function sets and which site can host which set."""

    def __init__(self, plan: CompositePlan, pr: CompositeProblem) -> None:
        t_n = pr.n_types
        sizes = [1] if plan.mode == "scattered" else range(1, min(t_n, _MAX_SUBSET) + 1)
        rows = []
        for size in sizes:
            for combo in combinations(range(t_n), size):
                row = np.zeros(t_n, bool)
                row[list(combo)] = True
                rows.append(row)
        self.masks = np.array(rows, bool).reshape(-1, t_n)
        self.size = self.masks.sum(axis=1)
        self.used = self.masks.astype(float) @ pr.area
        elig = pr.eligible()
        fits = (self.masks[None, :, :] <= elig[:, None, :]).all(axis=2)
        fits &= self.used[None, :] <= pr.floor_area[:, None] + 1e-9
        multi = self.size >= 2
        if plan.mode == "composite" and multi.any():
            rule = pr.rule
            ok = np.zeros(len(self.masks), bool)
            for s in np.flatnonzero(multi):  # the rule per function set (few), not per site
                tags = {f for t in np.flatnonzero(self.masks[s]) for f in pr.functions[t]}
                ok[s] = len(tags) >= rule.min_functions and (
                    len(tags & set(rule.core_functions)) >= rule.min_core_functions
                )
            if plan.complex_area == "site":
                big = np.broadcast_to(pr.floor_area[:, None] >= rule.min_floor_area_m2, fits.shape)
            else:
                big = np.broadcast_to(self.used[None, :] >= rule.min_floor_area_m2, fits.shape)
            fits &= ~multi[None, :] | (ok[None, :] & big)
        self.fits = fits


class _State:
    """A plan with its cover counts and the gain matrix ``G`` (sites x types)."""

    def __init__(self, pr: CompositeProblem) -> None:
        self.pr = pr
        self.w0 = pr.weights * ~pr.covered * pr.alpha[None, :]
        self.rows = [sparse.csr_array(r) for r in pr.reach]
        self.cols = [sparse.csc_array(r) for r in pr.reach]
        self.hosts = np.zeros((pr.n_sites, pr.n_types), bool)
        self.count = np.zeros(pr.weights.shape, np.int32)
        self.gain = np.column_stack(
            [self.rows[t] @ self.w0[:, t] for t in range(pr.n_types)]
        ).reshape(pr.n_sites, pr.n_types)
        self.value = 0.0

    def copy(self) -> _State:
        new = object.__new__(_State)
        new.__dict__.update(self.__dict__)
        new.hosts = self.hosts.copy()
        new.count = self.count.copy()
        new.gain = self.gain.copy()
        return new

    def _clients(self, j: int, t: int) -> np.ndarray:
        r = self.rows[t]
        return r.indices[r.indptr[j] : r.indptr[j + 1]]

    def add(self, j: int, types: np.ndarray) -> None:
        for t in types:
            cl = self._clients(j, t)
            newly = cl[self.count[cl, t] == 0]
            self.count[cl, t] += 1
            if len(newly):
                self.gain[:, t] -= self.cols[t][:, newly] @ self.w0[newly, t]
                self.value += float(self.w0[newly, t].sum())
        self.hosts[j, types] = True

    def remove(self, j: int, types: np.ndarray) -> None:
        for t in types:
            cl = self._clients(j, t)
            self.count[cl, t] -= 1
            lost = cl[self.count[cl, t] == 0]
            if len(lost):
                self.gain[:, t] += self.cols[t][:, lost] @ self.w0[lost, t]
                self.value -= float(self.w0[lost, t].sum())
        self.hosts[j, types] = False

    def spent(self, cost_per_m2: float) -> float:
        opened = self.hosts.any(axis=1)
        used = float((self.hosts @ self.pr.area).sum())
        return float(self.pr.site_cost[opened].sum()) + cost_per_m2 * used


def _fill(plan: CompositePlan, mv: _Moves, st: _State, ratio: bool) -> None:
    """Add the best move (new weight per cost, or new weight) until nothing fits or gains."""
    pr = st.pr
    cpm2 = float(plan.cost_per_m2)
    ties = 1.0 - 1e-9 * mv.size
    while True:
        opened: np.ndarray = np.asarray(st.hosts.any(axis=1))
        left = np.inf if plan.budget is None else plan.budget - st.spent(cpm2) + 1e-9
        can_open = plan.p is None or int(opened.sum()) < plan.p
        best, pick = 0.0, None
        if can_open:  # open a closed site with a set
            gain = st.gain @ mv.masks.T.astype(float)
            cost = pr.site_cost[:, None] + cpm2 * mv.used[None, :]
            ok = mv.fits & ~opened[:, None] & (cost <= left) & (gain > 1e-12)
            if ok.any():
                score = gain / np.maximum(cost, 1e-9) if ratio else gain
                score = np.where(ok, score * ties[None, :], -np.inf)
                jj, ss = np.unravel_index(int(np.argmax(score)), score.shape)
                best, pick = float(score[jj, ss]), (int(jj), int(ss))
        o = np.flatnonzero(opened)
        if len(o) and plan.mode == "composite":  # enlarge an open site's set
            cur = st.hosts[o]
            sup = (mv.masks[None, :, :] >= cur[:, None, :]).all(axis=2)
            sup &= mv.size[None, :] > cur.sum(axis=1)[:, None]
            part = mv.masks[None, :, :] & ~cur[:, None, :]
            gain = np.einsum("kt,kst->ks", st.gain[o], part.astype(float))
            cost = cpm2 * (mv.used[None, :] - (cur @ pr.area)[:, None])
            ok = mv.fits[o] & sup & (cost <= left) & (gain > 1e-12)
            if ok.any():
                score = gain / np.maximum(cost, 1e-9) if ratio else gain
                score = np.where(ok, score * (1.0 - 1e-9 * part.sum(axis=2)), -np.inf)
                kk, ss = np.unravel_index(int(np.argmax(score)), score.shape)
                if pick is None or score[kk, ss] > best:
                    best, pick = float(score[kk, ss]), (int(o[kk]), int(ss))
        if pick is None:
            return
        site, chosen = pick
        st.add(site, np.flatnonzero(mv.masks[chosen] & ~st.hosts[site]))


def greedy_hosts(plan: CompositePlan, pr: CompositeProblem) -> np.ndarray:
    """Greedy plans, each improved by drop-and-refill local search; the best, sites x types.

    Greedy: repeatedly take the move with the largest new weight, or (with a budget, a second
    run) the largest new weight per unit cost; among equal scores the one adding fewer
    facilities. Local search: for each open site, close it or shrink its set to a smaller
    feasible one, and refill greedily; keep the change when the plan covers more. At most
    three passes; deterministic.
    """
    mv = _Moves(plan, pr)
    best: _State | None = None
    for ratio in (False, True) if plan.budget is not None else (False,):
        st = _State(pr)
        _fill(plan, mv, st, ratio)
        for _ in range(_PASSES):
            improved = False
            for j in np.flatnonzero(st.hosts.any(axis=1)):
                cur = st.hosts[j].copy()
                # close the site, or keep a smaller feasible set of its functions
                smaller = mv.fits[j] & (mv.masks <= cur).all(axis=1) & (mv.size < cur.sum())
                for keep in [np.zeros_like(cur), *mv.masks[smaller]]:
                    trial = st.copy()
                    trial.remove(int(j), np.flatnonzero(cur & ~keep))
                    _fill(plan, mv, trial, ratio)
                    if trial.value > st.value + 1e-9 * max(1.0, st.value):
                        st, improved = trial, True
                        break
            if not improved:
                break
        tol = 1e-9 * max(1.0, st.value)
        cpm2 = float(plan.cost_per_m2)
        if (
            best is None
            or st.value > best.value + tol
            or (st.value >= best.value - tol and st.spent(cpm2) < best.spent(cpm2) - 1e-9)
        ):  # more cover, or as much for less
            best = st
    assert best is not None
    return best.hosts

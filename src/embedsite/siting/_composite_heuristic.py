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

from embedsite._graphbuild import ranges
from embedsite.siting._composite_result import CompositeProblem

if TYPE_CHECKING:
    from embedsite.siting.composite import CompositePlan

__all__ = ["greedy_hosts", "prune"]

_MAX_SUBSET = 5  # function sets of at most this many types
_PASSES = 3  # local-search passes over the open sites
_MAX_TRIALS = 1500  # local-search trials per greedy run (bounds the time on large plans)


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
        self.masks_t = self.masks.T.astype(float)
        self.open_cost = pr.site_cost[:, None] + float(plan.cost_per_m2) * self.used[None, :]


class _State:
    """A plan with its cover counts and the gain matrix ``G`` (sites x types)."""

    def __init__(self, pr: CompositeProblem, cost_per_m2: float = 0.0) -> None:
        self.pr = pr
        self.cpm2 = float(cost_per_m2)
        self.cost = 0.0
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

    def _reaching(self, clients: np.ndarray, t: int) -> np.ndarray:
        """Weight of ``clients`` for type ``t`` summed per site reaching them (CSC gather)."""
        c = self.cols[t]
        starts = c.indptr[clients]
        counts = c.indptr[clients + 1] - starts
        pos, grp = ranges(starts, counts)
        return np.bincount(
            c.indices[pos], weights=self.w0[clients, t][grp], minlength=self.pr.n_sites
        )

    def add(self, j: int, types: np.ndarray) -> None:
        opened = self.hosts[j].any()
        for t in types:
            cl = self._clients(j, t)
            newly = cl[self.count[cl, t] == 0]
            self.count[cl, t] += 1
            if len(newly):
                self.gain[:, t] -= self._reaching(newly, t)
                self.value += float(self.w0[newly, t].sum())
        self.hosts[j, types] = True
        self.cost += self.cpm2 * float(self.pr.area[types].sum())
        if not opened and len(types):
            self.cost += float(self.pr.site_cost[j])

    def remove(self, j: int, types: np.ndarray) -> None:
        for t in types:
            cl = self._clients(j, t)
            self.count[cl, t] -= 1
            lost = cl[self.count[cl, t] == 0]
            if len(lost):
                self.gain[:, t] += self._reaching(lost, t)
                self.value -= float(self.w0[lost, t].sum())
        was_open = self.hosts[j].any()
        self.hosts[j, types] = False
        self.cost -= self.cpm2 * float(self.pr.area[types].sum())
        if was_open and not self.hosts[j].any():
            self.cost -= float(self.pr.site_cost[j])

    def spent(self, cost_per_m2: float) -> float:
        return self.cost


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
            gain = st.gain @ mv.masks_t
            cost = mv.open_cost
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
    three passes and 1500 trials per run; deterministic.
    """
    mv = _Moves(plan, pr)
    best: _State | None = None
    for ratio in (False, True) if plan.budget is not None else (False,):
        st = _State(pr, float(plan.cost_per_m2))
        _fill(plan, mv, st, ratio)
        trials = 0
        for _ in range(_PASSES):
            improved = False
            for j in np.flatnonzero(st.hosts.any(axis=1)):
                if trials >= _MAX_TRIALS:
                    break
                cur = st.hosts[j].copy()
                # close the site, or keep a smaller feasible set of its functions
                smaller = mv.fits[j] & (mv.masks <= cur).all(axis=1) & (mv.size < cur.sum())
                for keep in [np.zeros_like(cur), *mv.masks[smaller]]:
                    trials += 1
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
    return prune(plan, pr, best.hosts)


def prune(plan: CompositePlan, pr: CompositeProblem, hosts: np.ndarray) -> np.ndarray:
    """Drop every facility that covers nobody the others do not, keeping each site feasible.

    Coverage is unchanged; cost and the number of sites can only fall. Whole sites go first
    (the costliest first), then single functions of complexes whose remaining set is still a
    valid complex (or a single site). Tie-breaks in the MIP objective can be below the
    solver's tolerances on real weights; this makes "no redundant facility" hold anyway.
    """
    st = _State(pr, float(plan.cost_per_m2))
    for j in np.flatnonzero(hosts.any(axis=1)):
        st.add(int(j), np.flatnonzero(hosts[j]))

    def loses(j: int, types: np.ndarray) -> bool:
        for t in types:
            cl = st._clients(j, t)
            if (st.w0[cl, t] * (st.count[cl, t] == 1)).sum() > 0:
                return True
        return False

    opened = np.flatnonzero(st.hosts.any(axis=1))
    for j in opened[np.argsort(-pr.site_cost[opened], kind="stable")]:
        types = np.flatnonzero(st.hosts[j])
        if not loses(int(j), types):
            st.remove(int(j), types)
    if plan.mode == "composite":
        for j in np.flatnonzero(st.hosts.sum(axis=1) >= 2):
            for t in np.flatnonzero(st.hosts[j]):
                rest = st.hosts[j].copy()
                rest[t] = False
                if rest.sum() >= 2:
                    names = tuple(pr.types[k] for k in np.flatnonzero(rest))
                    area = (
                        float(pr.floor_area[j])
                        if plan.complex_area == "site"
                        else float(rest @ pr.area)
                    )
                    if not pr.check_rule(names, area).passed:
                        continue
                if not loses(int(j), np.array([t])):
                    st.remove(int(j), np.array([t]))
    return st.hosts

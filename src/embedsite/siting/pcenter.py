"""p-center: the new sites that make the longest walk to the nearest open site shortest."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from scipy import sparse

from embedsite.errors import InfeasibleModelError, InputError, SolverError
from embedsite.siting._cover import greedy_cover, reduce_set_cover
from embedsite.siting._highs import solve_mip
from embedsite.siting._problem import SitingProblem
from embedsite.siting.base import Plan, SitingModel, is_site_count
from embedsite.siting.lscp import _unreachable
from embedsite.siting.result import SitingResult

__all__ = ["PCenter"]


class PCenter(SitingModel):
    r"""Vertex p-center problem (Hakimi 1964), with existing sites kept.

    Open at most ``p`` new sites so that the longest walk from a client (weight > 0) to
    its nearest open site, new or existing, is shortest:

    .. math::

        \min_{Y \subseteq J \setminus F,\ |Y| \le p} \; \max_{i : w_i > 0} \;
        \min_{j \in Y \cup F} d_{ij}.

    Solved exactly as a sequence of covering problems: the optimum is one of the distinct
    distances :math:`d_{ij}`, and a radius :math:`r` is achievable iff the set cover
    :math:`\min \sum_j y_j` s.t. :math:`\sum_{j: d_{ij} \le r} y_j \ge 1` for the clients
    the existing sites leave beyond :math:`r` needs at most ``p`` sites. A binary search
    over the sorted distances with the greedy cover gives a first plan, improved by
    best-improvement swaps (this is ``solver="heuristic"``; its bound is every client's
    nearest-site distance). The exact
    solver then relaxes the clients (Chen & Chen 2009): the p-center of a few clients is a
    lower bound of the whole one, and its plan, evaluated on every client, an upper bound.
    Each round solves a subset's p-center exactly (galloping search over the subset's own
    distances between the proven bound and the best plan's radius; each probe the greedy
    cover, then the set cover reduced (forced sites, dominated clients and sites) and a
    HiGHS feasibility MIP of only the subset's rows) and adds up to ``max(10, p)`` clients
    its plan leaves farthest, preferring ones no common site reaches (the plan, improved by
    swaps, is also tried on every client); it stops when the
    bound meets the best plan. At ``time_limit`` the best plan is returned with the proven
    bound. Weights only choose which clients count (w > 0); the objective is unweighted, as
    in the classic model. ``result.stats`` has the rounds, probes and subset size.

    Parameters
    ----------
    p
        Most new sites to open.
    radius
        Optional walk radius (metres) that :attr:`SitingResult.coverage_gain` reports
        against (``from_coverage`` defaults it to the type's radius).

    References
    ----------
    Hakimi, S. L. (1964). Optimum locations of switching centers and the absolute centers
    and medians of a graph. *Operations Research* 12(3), 450-459.
    Minieka, E. (1970). The m-center problem. *SIAM Review* 12(1), 138-139 (the solution
    by a sequence of set covering problems).
    Chen, D. & Chen, R. (2009). New relaxation-based algorithms for the optimal solution of
    the continuous and discrete p-center problems. *Computers & Operations Research* 36(5),
    1646-1655.

    Examples
    --------
    >>> import numpy as np
    >>> from embedsite.siting import PCenter
    >>> cost = np.array([[100, 700, 900], [300, 200, 800], [900, 600, 100]])
    >>> res = PCenter.from_cost_matrix(cost, p=2).solve()
    >>> res.selected.tolist(), res.objective
    ([0, 2], 300.0)
    """

    name = "PCenter"
    sense = "min"
    _needs_unreached = False

    def __init__(self, p: int | None = None, radius: float | None = None) -> None:
        self.p = p
        self.radius = radius

    def _validate_params(self, problem: SitingProblem) -> None:
        if not is_site_count(self.p):
            raise InputError(f"PCenter needs p= a whole number of new sites >= 0, not {self.p!r}")
        if self.radius is not None and not (np.isfinite(self.radius) and self.radius >= 0):
            raise InputError(f"radius must be a number of metres >= 0, not {self.radius!r}")

    def _reach(self, radius: float, max_walk_m: float | None) -> float:
        return float(max_walk_m) if max_walk_m is not None else 3.0 * radius

    def _search(
        self, problem: SitingProblem, *, exact: bool, time_limit: float | None,
        mip_gap: float | None,
    ) -> Plan:  # fmt: skip
        p = int(self.p)  # type: ignore[arg-type]
        active = np.flatnonzero(problem.weights > 0)
        nearest_any = problem.open_cost(np.ones(problem.n_sites, dtype=bool))[active]
        if (~np.isfinite(nearest_any)).any():
            raise _unreachable(problem, active[~np.isfinite(nearest_any)], np.inf)
        if len(active) == 0:
            return Plan(np.zeros(0, dtype=np.int64), 0.0, 0.0, "optimal", {})
        lower = float(nearest_any.max())
        values = _distinct(problem, active, lower)
        deadline = None if time_limit is None else time.perf_counter() + time_limit
        cand = np.flatnonzero(~problem.fixed)
        stats: dict[str, int] = {"values": len(values), "mip_probes": 0, "greedy_probes": 0,
                                 "rounds": 0}  # fmt: skip

        def probe(r: float, use_mip: bool) -> tuple[bool | None, np.ndarray]:
            """Whether radius r is achievable for every client (None: undecided)."""
            A = problem.within(r)
            by_fixed = (
                np.asarray(A[:, np.flatnonzero(problem.fixed)].sum(axis=1)).ravel() > 0
                if problem.fixed.any()
                else np.zeros(problem.n_clients, dtype=bool)
            )
            need = active[~by_fixed[active]]
            if len(need) == 0:
                return True, np.zeros(0, dtype=np.int64)
            sub = sparse.csr_array(A[need][:, cand])
            ok, cols = _cover_probe(sub, p, use_mip, deadline, stats)
            return ok, cand[cols]

        # the heuristic: binary search over every distance with the greedy cover alone
        hi = len(values) - 1
        ok, best = probe(float(values[hi]), False)
        if not ok:  # the greedy cover needs more than p sites even at the largest distance
            ok, best = probe(float(values[hi]), exact)
        if ok is False or (ok is None and not exact):
            raise InfeasibleModelError(
                f"no plan of {p} new sites (plus {int(problem.fixed.sum())} existing) reaches "
                f"every client within the distances known (largest {values[hi]:,.0f} m); raise "
                "p, or max_walk_m when the model was built from a coverage"
            )
        if ok is None:
            raise SolverError("HiGHS found no plan before the time limit; raise time_limit")
        lo = 0
        while lo < hi:
            mid = (lo + hi) // 2
            ok, plan = probe(float(values[mid]), False)
            if ok:
                hi, best = mid, plan
            else:
                lo = mid + 1

        def radius_of(new: np.ndarray) -> tuple[float, np.ndarray]:
            open_mask = problem.fixed.copy()
            open_mask[new] = True
            dist = problem.open_cost(open_mask)[active]
            return float(dist.max()), dist

        improve = _swapper(problem, active, cand, p)
        best = improve(best)
        objective, _ = radius_of(best)
        if not exact:
            status = "optimal" if objective <= lower else "heuristic"
            return Plan(np.sort(best), objective, min(lower, objective), status, stats)
        best, objective, bound, status = _relaxation(
            problem,
            active,
            cand,
            p,
            best,
            objective,
            lower,
            radius_of,
            deadline,
            stats,
            improve,
        )
        stats["clients_used"] = stats.pop("subset")
        return Plan(np.sort(best), objective, min(bound, objective), status, stats)

    def _solve_highs(
        self, problem: SitingProblem, *, time_limit: float | None, mip_gap: float | None,
        seed: int,
    ) -> Plan:  # fmt: skip
        return self._search(problem, exact=True, time_limit=time_limit, mip_gap=mip_gap)

    def _solve_heuristic(self, problem: SitingProblem, *, seed: int) -> Plan:
        return self._search(problem, exact=False, time_limit=None, mip_gap=None)

    @staticmethod
    def _check(result: SitingResult) -> float:
        prob = result.problem
        p = int(result.params["p"])
        if len(result.selected) > p:
            raise SolverError(f"PCenter plan opens {len(result.selected)} new sites, p={p}")
        active = prob.weights > 0
        if not active.any():
            return 0.0
        worst = float(prob.open_cost(result.open_mask)[active].max())
        if not np.isfinite(worst):
            raise SolverError("PCenter plan leaves a client that no open site reaches")
        return worst


def _distinct(problem: SitingProblem, rows: np.ndarray, lower: float) -> np.ndarray:
    """Sorted distinct finite distances >= ``lower`` from the given clients."""
    if problem.is_sparse:
        sub = sparse.csr_array(problem.cost)[rows]
        vals = sub.data
    else:
        vals = np.asarray(problem.cost)[rows].ravel()
        vals = vals[np.isfinite(vals)]
    vals = np.unique(vals)
    return vals[vals >= lower]


def _cover_probe(
    sub: sparse.csr_array, p: int, use_mip: bool, deadline: float | None,
    stats: dict[str, int],
) -> tuple[bool | None, np.ndarray]:  # fmt: skip
    """Can at most ``p`` columns cover every row of ``sub``? (None: undecided in time.)

    The greedy cover answers "yes" when it needs at most ``p`` columns; with ``use_mip`` a
    Lagrangian bound above ``p`` answers "no", and a set-cover feasibility MIP the rest.
    Returns the answer and the column positions of a cover when there is one.
    """
    none = np.zeros(0, dtype=np.int64)
    if sub.shape[0] == 0:
        return True, none
    if (np.diff(sub.indptr) == 0).any():
        return False, none
    cover = greedy_cover(sub, np.ones(sub.shape[1]))
    stats["greedy_probes"] += 1
    if len(cover) <= p:
        return True, cover
    if not use_mip:
        return False, none
    red = reduce_set_cover(sub, np.ones(sub.shape[1]))
    k = p - len(red.forced)  # sites the rows that are left may still use
    if k < 0:
        return False, none
    if red.A.shape[0] == 0:
        return True, red.forced
    left = None if deadline is None else max(deadline - time.perf_counter(), 0.0)
    if left == 0.0:
        return None, none
    n_rows, n_cols = red.A.shape
    A_all = sparse.vstack([red.A, sparse.csr_array(np.ones((1, n_cols)))], format="csr")
    # a feasibility problem: any cover of at most k sites answers the probe
    out = solve_mip(
        np.zeros(n_cols), A_all, np.concatenate([np.ones(n_rows), [-np.inf]]),
        np.concatenate([np.full(n_rows, np.inf), [float(k)]]), np.zeros(n_cols),
        np.ones(n_cols), np.ones(n_cols, dtype=bool), time_limit=left,
    )  # fmt: skip
    stats["mip_probes"] += 1
    if out.status == "infeasible":
        return False, none
    if out.x is not None:
        return True, np.concatenate([red.forced, red.sites[np.flatnonzero(out.x > 0.5)]])
    return None, none


def _dense_rows(problem: SitingProblem, rows: np.ndarray) -> np.ndarray:
    """The cost rows of the given clients as a dense array (``inf`` beyond reach)."""
    if not problem.is_sparse:
        return np.asarray(problem.cost, dtype=float)[rows]
    sub = sparse.csr_array(problem.cost)[rows]
    out = np.full(sub.shape, np.inf)
    out[np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr)), sub.indices] = sub.data
    return out


def _relaxation(
    problem: SitingProblem, active: np.ndarray, cand: np.ndarray, p: int, best: np.ndarray,
    objective: float, lower: float, radius_of: Any, deadline: float | None,
    stats: dict[str, int], improve: Any,
) -> tuple[np.ndarray, float, float, str]:  # fmt: skip
    """Exact p-center by client relaxation (Chen & Chen 2009).

    The p-center of a subset of the clients is a lower bound of the whole one, and its plan
    an upper bound once evaluated on every client. Starting from the clients the heuristic
    plan leaves farthest, each round solves the subset's p-center exactly (galloping search
    over the subset's own distances, from the bound already proven up to the best plan's
    radius: greedy cover, set-cover reductions, then a feasibility MIP of only the subset's
    rows), and adds clients its plan leaves beyond the subset's radius; it stops when the
    bound meets the best plan. Returns (plan, radius, bound, status).
    """
    fixed = problem.fixed
    add = max(10, p)  # clients added per round
    _, dist = radius_of(best)
    subset = active[_spread(problem, active, dist, cand, -np.inf, add, objective)]
    bound = lower
    status = "optimal"
    while objective > bound:
        stats["rounds"] += 1
        D = _dense_rows(problem, subset)
        vals = np.unique(D[np.isfinite(D)])
        # the proven bound itself, then the subset's distances between it and the best plan
        vals = np.concatenate([[bound], vals[(vals > bound) & (vals < objective)]])
        lo, hi = 0, len(vals)  # vals[hi:] are at least the best plan's radius
        plan, found = None, -1
        undecided = False
        step = 1  # galloping up from the bound (the subset's radius is often near it)
        while lo < hi:
            mid = min(lo + step - 1, hi - 1, (lo + hi) // 2) if step else (lo + hi) // 2
            step = 2 * step if step else 0
            A = np.less_equal(D, float(vals[mid]))
            need = ~A[:, fixed].any(axis=1) if fixed.any() else np.ones(len(subset), bool)
            ok, cols = _cover_probe(
                sparse.csr_array(A[need][:, cand].astype(np.int8)), p, True, deadline, stats
            )
            if ok is None:
                undecided = True
                break
            if not ok:
                lo = mid + 1
                continue
            hi, plan, found, step = mid, cand[cols], mid, 0
            radius, _ = radius_of(plan)  # every plan found is a plan for all clients
            if radius < objective:
                best, objective = plan, radius
                hi = min(hi, int(np.searchsorted(vals, objective, side="left")))
        if undecided:
            bound = max(bound, float(vals[lo]))  # every smaller value is proven too small
            status = "time_limit"
            break
        if found != lo or plan is None:  # nothing below the best plan's radius is possible
            bound = objective
            break
        bound = max(bound, float(vals[lo]))
        _, dist = radius_of(plan)  # the subset's plan picks the clients to add
        better = improve(plan)  # and, improved by swaps, may be a better plan for all
        radius, _ = radius_of(better)
        if radius < objective:
            best, objective = better, radius
        if objective <= bound:
            break
        far = _spread(problem, active, dist, cand, bound, add, bound)
        if len(far) == 0:
            break
        subset = np.union1d(subset, active[far])
    stats["subset"] = len(subset)
    return best, objective, min(bound, objective), status


def _spread(
    problem: SitingProblem, active: np.ndarray, dist: np.ndarray, cand: np.ndarray,
    beyond: float, most: int, reach: float,
) -> np.ndarray:  # fmt: skip
    """Up to ``most`` clients farther than ``beyond`` from the plan, farthest first, no two
    sharing a candidate within ``reach`` (so each needs a site of its own)."""
    far = np.flatnonzero(dist > beyond)
    if len(far) == 0:
        return far
    far = far[np.argsort(-dist[far], kind="stable")]
    C = sparse.csr_array((_dense_rows(problem, active[far])[:, cand] <= reach).astype(np.int8))
    alive = np.ones(len(far), dtype=bool)
    used = np.zeros(len(cand))
    picked: list[int] = []
    while len(picked) < most and alive.any():  # at most ``most`` rounds
        k = int(np.argmax(alive))
        picked.append(k)
        used[C.indices[C.indptr[k] : C.indptr[k + 1]]] = 1.0
        alive &= (C @ used) == 0
        alive[k] = False
    rest = np.setdiff1d(np.arange(len(far)), picked)[: most - len(picked)]
    return far[np.concatenate([np.asarray(picked, dtype=np.int64), rest])]


_SWAP_MAX_CELLS = 20_000_000  # swaps need the dense clients x sites costs; skip above this


def _swapper(problem: SitingProblem, active: np.ndarray, cand: np.ndarray, p: int) -> Any:
    """A function improving a plan's radius by best-improvement swaps (one site in, one
    out, or one added while fewer than ``p`` are open), the worst client's candidates only.

    For every open new site ``s`` the distance of each client without ``s`` is its nearest
    or, if ``s`` was its nearest, its second nearest open site; the radius after adding
    ``j`` is the largest of the minimum of that and ``d_ij``, computed for all the ``j``
    closer to the worst client than the radius at once. Stops when no swap shortens it.
    """
    if len(active) * problem.n_sites > _SWAP_MAX_CELLS or len(cand) == 0:
        return lambda plan: plan
    D = _dense_rows(problem, active)
    fixed_pos = np.flatnonzero(problem.fixed)

    def improve(plan: np.ndarray, rounds: int = 200) -> np.ndarray:
        plan = np.unique(np.asarray(plan, dtype=np.int64))
        for _ in range(rounds):  # at most ``rounds`` swaps, each a vectorised evaluation
            open_pos = np.concatenate([fixed_pos, plan])
            sub = D[:, open_pos] if len(open_pos) else np.full((len(active), 1), np.inf)
            order = np.argsort(sub, axis=1)[:, :2]
            d1 = np.take_along_axis(sub, order[:, :1], axis=1).ravel()
            d2 = (np.take_along_axis(sub, order[:, 1:2], axis=1).ravel()
                  if sub.shape[1] > 1 else np.full(len(active), np.inf))  # fmt: skip
            first = open_pos[order[:, 0]] if len(open_pos) else np.full(len(active), -1)
            radius = float(d1.max())
            worst = int(np.argmax(d1))
            closed = np.setdiff1d(cand, plan)
            J = closed[D[worst, closed] < radius]
            if len(J) == 0:
                break
            DJ = D[:, J]
            best_r, best_move = radius, None
            if len(plan) < p:  # add one site
                r_add = np.minimum(d1[:, None], DJ).max(axis=0)
                k = int(np.argmin(r_add))
                if r_add[k] < best_r:
                    best_r, best_move = float(r_add[k]), (None, J[k])
            for s in plan:  # at most p removals
                base = np.where(first == s, d2, d1)
                r_sw = np.minimum(base[:, None], DJ).max(axis=0)
                k = int(np.argmin(r_sw))
                if r_sw[k] < best_r - 1e-12:
                    best_r, best_move = float(r_sw[k]), (s, J[k])
            if best_move is None:
                break
            out, into = best_move
            plan = np.sort(np.append(plan[plan != out] if out is not None else plan, into))
        return plan

    return improve

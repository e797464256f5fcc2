"""p-center: the new sites that make the longest walk to the nearest open site shortest."""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

from embedsite.errors import InfeasibleModelError, InputError, SolverError
from embedsite.siting._cover import greedy_cover, lagrangian_cover_bound, reduce_cover
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
    over the sorted distances between a lower bound (every client's nearest site) and a
    heuristic plan's radius runs HiGHS on that set cover only where the greedy cover does
    not already answer. ``solver="heuristic"`` runs the same search with the greedy cover
    alone; its bound is the lower bound. Weights only choose which clients count (w > 0);
    the objective is unweighted, as in the classic model.

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
                                 "lagrangian_probes": 0}  # fmt: skip

        def probe(r: float) -> tuple[bool | None, np.ndarray]:
            """Whether radius r is achievable (None: undecided at the time limit)."""
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
            if (np.diff(sub.indptr) == 0).any():
                return False, np.zeros(0, dtype=np.int64)
            cover = greedy_cover(sub, np.ones(len(cand)))
            stats["greedy_probes"] += 1
            if len(cover) <= p:
                return True, cand[cover]
            if not exact:
                return False, np.zeros(0, dtype=np.int64)
            red = reduce_cover(sub, np.ones(len(need)), np.ones(len(cand), dtype=bool),
                               np.ones(len(cand)))  # fmt: skip
            # a Lagrangian bound above p proves "not achievable" without a MIP
            if np.ceil(lagrangian_cover_bound(red.A, np.ones(red.A.shape[1]), len(cover))
                       - 1e-9) > p:  # fmt: skip
                stats["lagrangian_probes"] += 1
                return False, np.zeros(0, dtype=np.int64)
            left = None if deadline is None else max(deadline - time.perf_counter(), 0.0)
            keep = red.sites
            sub = red.A
            n_rows, n_cols = sub.shape
            A_all = sparse.vstack([sub, sparse.csr_array(np.ones((1, n_cols)))], format="csr")
            # a feasibility problem: any cover of at most p sites answers the probe
            out = solve_mip(
                np.zeros(n_cols), A_all, np.concatenate([np.ones(n_rows), [-np.inf]]),
                np.concatenate([np.full(n_rows, np.inf), [float(p)]]), np.zeros(n_cols),
                np.ones(n_cols), np.ones(n_cols, dtype=bool), time_limit=left,
            )  # fmt: skip
            stats["mip_probes"] += 1
            if out.status == "infeasible":
                return False, np.zeros(0, dtype=np.int64)
            if out.x is not None:
                return True, cand[keep[np.flatnonzero(out.x > 0.5)]]
            return None, np.zeros(0, dtype=np.int64)

        # upper end: the largest distance must be achievable, else no plan of p sites exists
        hi = len(values) - 1
        ok, best = probe(float(values[hi]))
        if ok is False:
            raise InfeasibleModelError(
                f"no plan of {p} new sites (plus {int(problem.fixed.sum())} existing) reaches "
                f"every client within the distances known (largest {values[hi]:,.0f} m); raise "
                "p, or max_walk_m when the model was built from a coverage"
            )
        if ok is None:
            raise SolverError("HiGHS found no plan before the time limit; raise time_limit")
        lo = 0  # values[:lo] are proven (or, heuristic, believed) not achievable
        status = "optimal" if exact else "heuristic"
        while lo < hi:
            mid = (lo + hi) // 2
            ok, plan = probe(float(values[mid]))
            if ok is None:
                status = "time_limit"
                break
            if ok:
                hi, best = mid, plan
            else:
                lo = mid + 1
        bound = float(values[lo]) if exact else lower
        open_mask = problem.fixed.copy()
        open_mask[best] = True
        objective = float(problem.open_cost(open_mask)[active].max())
        if exact and status == "optimal":
            bound = objective
        elif not exact and objective <= lower:
            status = "optimal"
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

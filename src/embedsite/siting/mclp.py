"""Maximal covering location: the new sites that bring the most residents within the walk
radius, with ``p`` sites or within a budget (optionally with capacities)."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from embedsite.errors import InputError, SolverError
from embedsite.siting._cover import (
    Reduced,
    covered_weight,
    greedy_max_cover,
    max_cover_upper_bound,
    reduce_cover,
    swap_max_cover,
)
from embedsite.siting._highs import solve_mip
from embedsite.siting._problem import SitingProblem
from embedsite.siting.base import Plan, SitingModel, is_site_count
from embedsite.siting.result import SitingResult

__all__ = ["MCLP"]


class MCLP(SitingModel):
    r"""Maximal covering location problem (Church & ReVelle 1974), with existing sites.

    Open at most ``p`` new sites (and/or new sites costing at most ``budget``) so that the
    weight of clients **newly** brought within the radius is largest; clients an existing
    site already covers count as a constant and are left out. With :math:`N_i = \{j :
    d_{ij} \le r\}` over the new sites, for the clients :math:`i` not yet covered:

    .. math::

        \max \sum_i w_i z_i \quad \text{s.t.} \quad z_i \le \sum_{j \in N_i} y_j, \quad
        \sum_j y_j \le p, \quad \sum_j c_j y_j \le B, \quad
        y_j \in \{0,1\}, \; 0 \le z_i \le 1.

    ``objective`` is the newly covered weight (``coverage_gain`` has before and after).
    Clients with the same covering set are merged and dominated candidates dropped before
    solving. ``solver="heuristic"`` is greedy plus best-improvement swaps; its bound comes
    from submodularity (the plan's coverage plus the largest marginal gains), so its gap
    is known.

    **Capacitated** (Pirkul & Schilling 1991): with ``capacity`` on the problem, a site
    :math:`j` serves at most :math:`Q_j` of demand (``demand``, by default the client's
    weight, e.g. residents; or places, m²...), existing sites included. Allocation is
    fractional (ArcGIS "maximize capacitated coverage" style): a resident point may be
    split between sites, :math:`x_{ij} \ge 0` the share of client :math:`i` served by
    :math:`j \in N_i`, :math:`\sum_j x_{ij} \le 1`, :math:`\sum_i q_i x_{ij} \le Q_j y_j`,
    :math:`x_{ij} \le y_j`, maximising :math:`\sum_{ij} w_i x_{ij}` minus what the
    existing sites alone can serve. The result's ``allocation`` lists the shares.

    Parameters
    ----------
    radius
        Walk radius in metres (``from_coverage`` defaults it to the type's radius).
    p
        Most new sites to open.
    budget
        Largest total ``site_cost`` of the new sites.

    References
    ----------
    Church, R. & ReVelle, C. (1974). The maximal covering location problem. *Papers of the
    Regional Science Association* 32, 101-118.
    Pirkul, H. & Schilling, D. A. (1991). The maximal covering location problem with
    capacities on total workload. *Management Science* 37(2), 233-248.

    Examples
    --------
    >>> import numpy as np
    >>> from embedsite.siting import MCLP
    >>> cost = np.array([[100, 900], [200, 900], [900, 300]])
    >>> res = MCLP.from_cost_matrix(cost, radius=400, p=1, weights=[10, 10, 30]).solve()
    >>> res.selected.tolist(), res.objective
    ([1], 30.0)
    """

    name = "MCLP"
    sense = "max"

    def __init__(
        self, radius: float | None = None, p: int | None = None, budget: float | None = None
    ) -> None:
        self.radius = radius
        self.p = p
        self.budget = budget

    def _validate_params(self, problem: SitingProblem) -> None:
        if self.radius is None or not (np.isfinite(self.radius) and self.radius >= 0):
            raise InputError(f"MCLP needs radius= a number of metres >= 0, not {self.radius!r}")
        if self.p is None and self.budget is None:
            raise InputError("MCLP needs p= (most new sites) or budget= (most site cost)")
        if self.p is not None and not is_site_count(self.p):
            raise InputError(f"p must be a whole number of new sites >= 0, not {self.p!r}")
        if self.budget is not None and not (np.isfinite(self.budget) and self.budget >= 0):
            raise InputError(f"budget must be a number >= 0, not {self.budget!r}")

    def _assign_limit(self, problem: SitingProblem) -> float:
        return float(self.radius)  # type: ignore[arg-type]

    # ---- uncapacitated ---------------------------------------------------------------------
    def _prepare(self, problem: SitingProblem) -> Reduced:
        A = problem.within(float(self.radius))  # type: ignore[arg-type]
        fixed = problem.fixed
        by_fixed = (
            np.asarray(A[:, np.flatnonzero(fixed)].sum(axis=1)).ravel() > 0
            if fixed.any()
            else np.zeros(problem.n_clients, dtype=bool)
        )
        need = (problem.weights > 0) & ~by_fixed
        A_need = sparse.csr_array(A[np.flatnonzero(need)])
        reach = np.asarray(A_need[:, np.flatnonzero(~fixed)].sum(axis=1)).ravel() > 0
        rows = np.flatnonzero(need)[reach]
        red = reduce_cover(
            sparse.csr_array(A[rows]), problem.weights[rows], ~fixed, problem.site_cost
        )
        red.stats["unreachable_clients"] = int((~reach).sum())
        return red

    def _limits(self, n_cols: int) -> tuple[int | None, float | None]:
        p = None if self.p is None else min(int(self.p), n_cols)
        return p, None if self.budget is None else float(self.budget)

    def _heuristic(self, red: Reduced, cost: np.ndarray) -> tuple[np.ndarray, float]:
        p, budget = self._limits(red.A.shape[1])
        pick = greedy_max_cover(red.A, red.weights, p, cost, budget)
        if len(pick):
            pick = swap_max_cover(red.A, red.weights, pick, cost=cost, budget=budget)
        return pick, covered_weight(red.A, red.weights, pick)

    def _solve_heuristic(self, problem: SitingProblem, *, seed: int) -> Plan:
        if problem.capacity is not None:
            from embedsite.siting._capacitated import heuristic_cmclp

            return heuristic_cmclp(self, problem)
        red = self._prepare(problem)
        if red.A.shape[0] == 0 or red.A.shape[1] == 0:
            return Plan(np.zeros(0, dtype=np.int64), 0.0, 0.0, "optimal", dict(red.stats))
        cost = problem.site_cost[red.sites]
        pick, obj = self._heuristic(red, cost)
        p, budget = self._limits(red.A.shape[1])
        bound = max_cover_upper_bound(red.A, red.weights, pick, p, cost, budget)
        status = "optimal" if bound <= obj + 1e-9 * max(1.0, obj) else "heuristic"
        return Plan(red.sites[pick], obj, max(bound, obj), status, dict(red.stats))

    def _solve_highs(
        self, problem: SitingProblem, *, time_limit: float | None, mip_gap: float | None,
        seed: int,
    ) -> Plan:  # fmt: skip
        if problem.capacity is not None:
            from embedsite.siting._capacitated import solve_cmclp

            return solve_cmclp(self, problem, time_limit=time_limit, mip_gap=mip_gap)
        red = self._prepare(problem)
        n, m = red.A.shape
        if n == 0 or m == 0:
            return Plan(np.zeros(0, dtype=np.int64), 0.0, 0.0, "optimal", dict(red.stats))
        cost = problem.site_cost[red.sites]
        pick0, obj0 = self._heuristic(red, cost)
        p, budget = self._limits(m)
        # columns: y (m, binary) then z (n, continuous)
        rows = [sparse.hstack([-red.A, sparse.eye_array(n)], format="csr")]
        lo, hi = [np.full(n, -np.inf)], [np.zeros(n)]
        if p is not None:
            rows.append(sparse.csr_array(np.concatenate([np.ones(m), np.zeros(n)])[None, :]))
            lo.append(np.array([-np.inf]))
            hi.append(np.array([float(p)]))
        if budget is not None:
            rows.append(sparse.csr_array(np.concatenate([cost, np.zeros(n)])[None, :]))
            lo.append(np.array([-np.inf]))
            hi.append(np.array([budget]))
        start = np.zeros(m + n)
        start[pick0] = 1.0
        start[m:] = np.asarray(red.A[:, pick0].sum(axis=1)).ravel() > 0 if len(pick0) else 0.0
        out = solve_mip(
            np.concatenate([np.zeros(m), red.weights]), sparse.vstack(rows, format="csr"),
            np.concatenate(lo), np.concatenate(hi), np.zeros(m + n), np.ones(m + n),
            np.concatenate([np.ones(m, dtype=bool), np.zeros(n, dtype=bool)]),
            maximize=True, time_limit=time_limit, mip_gap=mip_gap, start=start,
        )  # fmt: skip
        if out.status == "infeasible":
            raise SolverError("HiGHS reports the MCLP infeasible; this is a bug in embedsite")
        pick = np.flatnonzero(out.x[:m] > 0.5) if out.x is not None else pick0
        obj = covered_weight(red.A, red.weights, pick)
        if obj < obj0 - 1e-9:  # never return worse than the warm start
            pick, obj = pick0, obj0
        bound = out.bound if np.isfinite(out.bound) else np.inf
        if out.status != "optimal":  # the submodular bound may be tighter than HiGHS's
            bound = min(bound, max_cover_upper_bound(red.A, red.weights, pick, p, cost, budget))
        stats = dict(red.stats, nodes=out.nodes, heuristic_objective=obj0)
        if out.status == "optimal":
            bound = obj
        return Plan(red.sites[pick], obj, max(bound, obj), out.status, stats)

    @staticmethod
    def _check(result: SitingResult) -> float:
        prob = result.problem
        params = result.params
        pos = prob.site_labels.get_indexer(result.selected)
        if params.get("p") is not None and len(pos) > int(params["p"]):
            raise SolverError(f"MCLP plan opens {len(pos)} new sites, more than p={params['p']}")
        if params.get("budget") is not None:
            spent = float(prob.site_cost[pos].sum())
            if spent > float(params["budget"]) * (1 + 1e-9) + 1e-9:
                raise SolverError(f"MCLP plan costs {spent:g}, over the budget {params['budget']}")
        if prob.capacity is not None:
            from embedsite.siting._capacitated import check_allocation

            return check_allocation(result, float(params["radius"]), newly=True)
        radius = float(params["radius"])
        w = prob.weights
        after = w[prob.open_cost(result.open_mask) <= radius].sum()
        before = w[prob.open_cost(prob.fixed) <= radius].sum()
        return float(after - before)

"""p-median: the new sites that make the residents' total walk to the nearest open site
shortest (optionally with capacities)."""

from __future__ import annotations

import numpy as np

from embedsite.errors import InfeasibleModelError, InputError, SolverError
from embedsite.siting._problem import SitingProblem
from embedsite.siting.base import Plan, SitingModel, is_site_count
from embedsite.siting.result import SitingResult

__all__ = ["PMedian"]


class PMedian(SitingModel):
    r"""p-median problem (Hakimi 1964; ReVelle & Swain 1970), with existing sites kept.

    Open exactly ``p`` new sites; every client walks to its nearest open site (new or
    existing); minimise the weighted total walk:

    .. math::

        \min_{Y \subseteq J \setminus F,\ |Y| = p} \; \sum_i w_i \min_{j \in Y \cup F}
        d_{ij}.

    ``solver="highs"`` proves the optimum (see ``embedsite.siting._pmedian_exact``);
    ``solver="heuristic"`` is greedy addition plus best-improvement swaps. Clients with
    identical cost rows are merged before solving. A client that no site reaches (``inf``,
    or absent from a sparse matrix) costs ``unreached_cost`` metres when given
    (``from_coverage`` charges ``max_walk_m``, a lower bound of that walk); without it, a
    plan leaving such a client is infeasible and the error names the clients.

    **Capacitated**: with ``capacity`` on the problem, site :math:`j` serves at most
    :math:`Q_j` of demand (``demand``, by default the weight), existing sites included.
    Allocation is fractional (a resident point may be split between sites):

    .. math::

        \min \sum_{ij} w_i d_{ij} x_{ij} \;\; \text{s.t.} \;\; \sum_j x_{ij} = 1, \;
        \sum_i q_i x_{ij} \le Q_j y_j, \; x_{ij} \le y_j, \; \sum_{j \notin F} y_j = p,
        \; y_j = 1 \, (j \in F), \; y \in \{0,1\}, \; x \ge 0,

    with an "unserved" option at ``unreached_cost`` per metre-weight when that is given
    (else every client must be served). ``allocation`` on the result lists the shares.

    Parameters
    ----------
    p
        Number of new sites to open.
    radius
        Optional walk radius (metres) that :attr:`SitingResult.coverage_gain` reports
        against (``from_coverage`` defaults it to the type's radius).

    References
    ----------
    Hakimi, S. L. (1964). Optimum locations of switching centers and the absolute centers
    and medians of a graph. *Operations Research* 12(3), 450-459.
    ReVelle, C. & Swain, R. (1970). Central facilities location. *Geographical Analysis*
    2(1), 30-42.

    Examples
    --------
    >>> import numpy as np
    >>> from embedsite.siting import PMedian
    >>> cost = np.array([[0, 500, 900], [400, 100, 800], [900, 600, 0]])
    >>> res = PMedian.from_cost_matrix(cost, p=2, weights=[1, 2, 1]).solve()
    >>> res.selected.tolist(), res.objective
    ([1, 2], 700.0)
    """

    name = "PMedian"
    sense = "min"
    _needs_unreached = True

    def __init__(self, p: int | None = None, radius: float | None = None) -> None:
        self.p = p
        self.radius = radius

    def _validate_params(self, problem: SitingProblem) -> None:
        if not is_site_count(self.p):
            raise InputError(f"PMedian needs p= a whole number of new sites >= 0, not {self.p!r}")
        n_new = int((~problem.fixed).sum())
        if int(self.p) > n_new:  # type: ignore[arg-type]
            raise InputError(f"p={self.p} new sites asked for, but only {n_new} candidates")
        if self.radius is not None and not (np.isfinite(self.radius) and self.radius >= 0):
            raise InputError(f"radius must be a number of metres >= 0, not {self.radius!r}")

    def _reach(self, radius: float, max_walk_m: float | None) -> float:
        return float(max_walk_m) if max_walk_m is not None else 3.0 * radius

    def _reduced(self, problem: SitingProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dense costs of the merged clients, their weights, group of each client)."""
        fill = problem.unreached_cost if problem.unreached_cost is not None else np.inf
        active = np.flatnonzero(problem.weights > 0)
        dense = problem.dense_cost(fill)[active]
        if problem.unreached_cost is None:
            never = ~np.isfinite(dense).any(axis=1)
            if never.any():
                from embedsite.siting.lscp import _unreachable

                raise _unreachable(problem, active[never], np.inf)
        rows, inverse = np.unique(dense, axis=0, return_inverse=True)
        group = np.full(problem.n_clients, -1, dtype=np.int64)
        group[active] = inverse.ravel()
        w = np.bincount(inverse.ravel(), weights=problem.weights[active], minlength=len(rows))
        return rows, w, group

    def _finish(self, problem: SitingProblem, sol, stats: dict) -> Plan:  # type: ignore[no-untyped-def]
        open_new = np.setdiff1d(sol.selected, np.flatnonzero(problem.fixed))
        mask = problem.fixed.copy()
        mask[open_new] = True
        left = np.flatnonzero((problem.weights > 0) & ~np.isfinite(problem.open_cost(mask)))
        # the core charges an unreachable client a penalty that outweighs any walk, so an
        # exact plan leaving one unreached means no plan of p new sites reaches everybody
        if len(left) and problem.unreached_cost is None:
            shown = problem.client_labels[left][:5].tolist()
            raise InfeasibleModelError(
                f"no plan of {self.p} new sites found reaches every client: {len(left)} stay "
                f"beyond reach (first: {shown}). Raise p, add candidate sites near them, or "
                "pass unreached_cost= to charge them a walk instead"
            )
        return Plan(open_new, float(sol.objective), float(sol.bound), sol.status, stats)

    def _nothing_to_choose(self, problem: SitingProblem) -> Plan:
        """p = 0: the existing sites alone (no solver needed)."""
        dist = problem.open_cost(problem.fixed)
        if problem.unreached_cost is not None:
            dist = np.where(np.isfinite(dist), dist, problem.unreached_cost)
        active = problem.weights > 0
        total = float(problem.weights[active] @ dist[active])
        if not np.isfinite(total):
            left = problem.client_labels[active & ~np.isfinite(dist)][:5].tolist()
            raise InfeasibleModelError(
                f"with p=0 the existing sites leave clients beyond reach (first: {left}); "
                "raise p or pass unreached_cost="
            )
        return Plan(np.zeros(0, dtype=np.int64), total, total, "optimal", {})

    def _solve_highs(
        self, problem: SitingProblem, *, time_limit: float | None, mip_gap: float | None,
        seed: int,
    ) -> Plan:  # fmt: skip
        if problem.capacity is not None:
            from embedsite.siting._capacitated import solve_cpmedian

            return solve_cpmedian(self, problem, time_limit=time_limit, mip_gap=mip_gap)
        from embedsite.siting._pmedian_exact import solve_pmedian

        if self.p == 0:
            return self._nothing_to_choose(problem)
        cost, w, _ = self._reduced(problem)
        sol = solve_pmedian(cost, int(self.p), weights=w, fixed=problem.fixed,  # type: ignore[arg-type]
                            time_limit=time_limit, mip_gap=mip_gap, seed=seed)  # fmt: skip
        return self._finish(problem, sol, dict(sol.stats, clients=len(cost)))

    def _solve_heuristic(self, problem: SitingProblem, *, seed: int) -> Plan:
        if problem.capacity is not None:
            from embedsite.siting._capacitated import heuristic_cpmedian

            return heuristic_cpmedian(self, problem)
        from embedsite.siting._pmedian_exact import heuristic_pmedian

        if self.p == 0:
            return self._nothing_to_choose(problem)
        cost, w, _ = self._reduced(problem)
        sol = heuristic_pmedian(cost, int(self.p), weights=w, fixed=problem.fixed,  # type: ignore[arg-type]
                                seed=seed)  # fmt: skip
        return self._finish(problem, sol, dict(sol.stats, clients=len(cost)))

    @staticmethod
    def _check(result: SitingResult) -> float:
        prob = result.problem
        p = int(result.params["p"])
        if len(result.selected) != p:
            raise SolverError(f"PMedian plan opens {len(result.selected)} new sites, not p={p}")
        if prob.capacity is not None:
            from embedsite.siting._capacitated import check_allocation

            return check_allocation(result, None, newly=False)
        dist = prob.open_cost(result.open_mask)
        if prob.unreached_cost is not None:
            dist = np.where(np.isfinite(dist), dist, prob.unreached_cost)
        active = prob.weights > 0
        total = float(prob.weights[active] @ dist[active])
        if not np.isfinite(total):
            raise SolverError("PMedian plan leaves clients that no open site reaches")
        return total

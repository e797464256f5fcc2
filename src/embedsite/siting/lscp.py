"""Location set covering: the fewest (or cheapest) new sites that put every resident within
the walk radius of an open site."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy import sparse

from embedsite.errors import InfeasibleModelError, InputError, SolverError
from embedsite.siting._cover import (
    Reduced,
    greedy_cover,
    lagrangian_cover_bound,
    reduce_cover,
    reduce_set_cover,
)
from embedsite.siting._highs import solve_mip
from embedsite.siting._problem import SitingProblem
from embedsite.siting.base import Plan, SitingModel
from embedsite.siting.result import SitingResult

__all__ = ["LSCP"]


class LSCP(SitingModel):
    r"""Location set covering problem (Toregas, Swain, ReVelle & Bergman 1971).

    Choose the cheapest set of new sites so that every client with weight > 0 has an open
    site (new or existing) within the walk radius :math:`r`. With :math:`N_i = \{j : d_{ij}
    \le r\}`, site costs :math:`c_j` (1 each by default, so "fewest sites") and the existing
    sites :math:`F`:

    .. math::

        \min \sum_{j \notin F} c_j y_j \quad \text{s.t.} \quad
        \sum_{j \in N_i} y_j \ge 1 \;\; \forall i : w_i > 0, \qquad
        y_j = 1 \;\; (j \in F), \qquad y_j \in \{0, 1\}.

    Before solving, clients already covered by an existing site are dropped, clients with
    the same set of covering candidates are merged, identical candidates keep the cheapest,
    and a candidate covering a strict subset of a no-dearer one's clients is dropped; then,
    repeated until nothing changes, a client only one candidate reaches forces that site,
    a client whose covering set contains another client's is dropped (covering the other
    covers it), and dominated candidates go again. None of this changes the optimum
    (``result.stats`` counts what each step removed). ``solver="highs"`` proves it;
    ``solver="heuristic"`` is Chvátal's greedy with redundant sites removed, bounded from
    below by a Lagrangian relaxation (so its gap is known).

    Clients that no site reaches within the radius make the model infeasible: the
    :class:`~embedsite.errors.InfeasibleModelError` names them and their nearest site.

    Parameters
    ----------
    radius
        Walk radius in metres (``from_coverage`` defaults it to the type's radius).
    uncoverable
        ``"raise"`` (default): clients no site reaches within the radius make the model
        infeasible. ``"skip"``: cover everybody who can be covered; the others are listed
        in ``result.stats["uncoverable"]`` (labels) and left uncovered.

    References
    ----------
    Toregas, C., Swain, R., ReVelle, C. & Bergman, L. (1971). The location of emergency
    service facilities. *Operations Research* 19(6), 1363-1373.

    Examples
    --------
    >>> import numpy as np
    >>> from embedsite.siting import LSCP
    >>> cost = np.array([[100, 900, 900], [900, 200, 900], [900, 250, 300]])
    >>> res = LSCP.from_cost_matrix(cost, radius=400).solve()
    >>> res.selected.tolist(), res.objective, res.status
    ([0, 1], 2.0, 'optimal')
    >>> LSCP.from_cost_matrix(cost, radius=400, fixed=[1]).solve().selected.tolist()
    [0]
    """

    name = "LSCP"
    sense = "min"

    def __init__(
        self, radius: float | None = None, uncoverable: Literal["raise", "skip"] = "raise"
    ) -> None:
        self.radius = radius
        self.uncoverable = uncoverable

    def _validate_params(self, problem: SitingProblem) -> None:
        if self.radius is None or not (np.isfinite(self.radius) and self.radius >= 0):
            raise InputError(f"LSCP needs radius= a number of metres >= 0, not {self.radius!r}")
        if self.uncoverable not in ("raise", "skip"):
            raise InputError(f"uncoverable must be 'raise' or 'skip', not {self.uncoverable!r}")

    def _assign_limit(self, problem: SitingProblem) -> float:
        return float(self.radius)  # type: ignore[arg-type]

    def _prepare(self, problem: SitingProblem) -> Reduced:
        radius = float(self.radius)  # type: ignore[arg-type]
        A = problem.within(radius)
        fixed = problem.fixed
        by_fixed = (
            np.asarray(A[:, np.flatnonzero(fixed)].sum(axis=1)).ravel() > 0
            if fixed.any()
            else np.zeros(problem.n_clients, dtype=bool)
        )
        need = (problem.weights > 0) & ~by_fixed
        A_need = sparse.csr_array(A[np.flatnonzero(need)])
        reach = np.asarray(A_need[:, np.flatnonzero(~fixed)].sum(axis=1)).ravel()
        lost = np.flatnonzero(need)[reach == 0]
        if len(lost) and self.uncoverable == "raise":
            raise _unreachable(problem, lost, radius)
        if len(lost):
            need[lost] = False
            A_need = sparse.csr_array(A[np.flatnonzero(need)])
        red = reduce_cover(A_need, problem.weights[need], ~fixed, problem.site_cost)
        red.stats["covered_by_fixed"] = int(((problem.weights > 0) & by_fixed).sum())
        red.stats["uncoverable"] = problem.client_labels[lost].tolist()
        return red

    def _solve_heuristic(self, problem: SitingProblem, *, seed: int) -> Plan:
        red = self._prepare(problem)
        if red.A.shape[0] == 0:
            return Plan(np.zeros(0, dtype=np.int64), 0.0, 0.0, "optimal", dict(red.stats))
        cost_all = problem.site_cost[red.sites]
        core = reduce_set_cover(red.A, cost_all)
        stats: dict[str, Any] = dict(red.stats, **core.stats)
        base = float(cost_all[core.forced].sum())
        cost = cost_all[core.sites]
        if core.A.shape[0] == 0:
            return Plan(red.sites[core.forced], base, base, "optimal", stats)
        pick = greedy_cover(core.A, cost)
        obj = base + float(cost[pick].sum())
        bound = base + lagrangian_cover_bound(core.A, cost, obj - base)
        if _integral(cost_all):
            bound = float(np.ceil(bound - 1e-9))
        status = "optimal" if bound >= obj - 1e-9 else "heuristic"
        chosen = np.concatenate([core.forced, core.sites[pick]])
        return Plan(red.sites[chosen], obj, min(bound, obj), status, stats)

    def _solve_highs(
        self, problem: SitingProblem, *, time_limit: float | None, mip_gap: float | None,
        seed: int,
    ) -> Plan:  # fmt: skip
        red = self._prepare(problem)
        if red.A.shape[0] == 0:
            return Plan(np.zeros(0, dtype=np.int64), 0.0, 0.0, "optimal", dict(red.stats))
        cost_all = problem.site_cost[red.sites]
        integral = _integral(cost_all)
        core = reduce_set_cover(red.A, cost_all)
        base = float(cost_all[core.forced].sum())
        stats: dict[str, Any] = dict(red.stats, **core.stats)
        if core.A.shape[0] == 0:  # the reductions alone solved it
            stats.update(nodes=0, greedy_objective=base)
            return Plan(red.sites[core.forced], base, base, "optimal", stats)
        cost = cost_all[core.sites]
        greedy = greedy_cover(core.A, cost)
        start = np.zeros(len(cost))
        start[greedy] = 1.0
        n_rows, n_cols = core.A.shape
        out = solve_mip(
            cost, core.A, np.ones(n_rows), np.full(n_rows, np.inf), np.zeros(n_cols),
            np.ones(n_cols), np.ones(n_cols, dtype=bool), time_limit=time_limit,
            mip_gap=mip_gap, start=start, abs_gap=0.999 if integral else None, offset=base,
        )  # fmt: skip
        if out.status == "infeasible":  # cannot happen after the reach check
            raise SolverError("HiGHS reports the set cover infeasible although every client "
                              "is reachable; this is a bug in embedsite")  # fmt: skip
        x = out.x if out.x is not None else start
        pick = np.flatnonzero(x > 0.5)
        obj = base + float(cost[pick].sum())
        bound = out.bound if np.isfinite(out.bound) else np.nan
        if integral and np.isfinite(bound):
            bound = float(np.ceil(bound - 1e-6))
        stats.update(nodes=out.nodes, greedy_objective=base + float(cost[greedy].sum()))
        status = out.status
        if status != "optimal":  # the Lagrangian bound may be tighter than HiGHS's
            lagr = base + lagrangian_cover_bound(core.A, cost, obj - base)
            if integral:
                lagr = float(np.ceil(lagr - 1e-9))
            bound = max(bound, lagr) if np.isfinite(bound) else lagr
        if status == "optimal":
            bound = obj
        chosen = np.concatenate([core.forced, core.sites[pick]])
        return Plan(red.sites[chosen], obj, min(bound, obj), status, stats)

    @staticmethod
    def _check(result: SitingResult) -> float:
        prob = result.problem
        radius = float(result.params["radius"])
        dist = prob.open_cost(result.open_mask)
        bad = (prob.weights > 0) & ~(dist <= radius)
        if result.params.get("uncoverable") == "skip":  # only who some site can reach
            bad &= prob.open_cost(np.ones(prob.n_sites, dtype=bool)) <= radius
        if bad.any():
            raise SolverError(
                f"LSCP plan leaves {int(bad.sum())} clients beyond {radius:g} m: "
                f"{prob.client_labels[bad][:5].tolist()}"
            )
        pos = prob.site_labels.get_indexer(result.selected)
        return float(prob.site_cost[pos].sum())


def _integral(cost: np.ndarray) -> bool:
    return bool(np.all(cost == np.round(cost)))


def _unreachable(problem: SitingProblem, rows: np.ndarray, radius: float) -> InfeasibleModelError:
    """The error naming the clients no site (new or existing) reaches within ``radius``."""
    nearest = problem.open_cost(np.ones(problem.n_sites, dtype=bool))[rows]
    labels = problem.client_labels[rows]
    shown = ", ".join(
        f"{lab!r} ({'no site in reach' if not np.isfinite(d) else f'nearest site {d:,.0f} m'})"
        for lab, d in zip(labels[:5], nearest[:5], strict=False)
    )
    weight = float(problem.weights[rows].sum())
    return InfeasibleModelError(
        f"{len(rows)} clients ({weight:,.0f} residents) have no candidate site within the "
        f"{radius:g} m radius, so no plan covers everybody: {shown}"
        f"{' ...' if len(rows) > 5 else ''}. Add candidate sites near them, raise the "
        "radius, or use MCLP to cover as many as possible."
    )

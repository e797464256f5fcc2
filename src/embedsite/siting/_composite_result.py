"""The data and the frozen results of :class:`~embedsite.siting.composite.CompositePlan` (private).

:class:`CompositeProblem` is the one internal representation (plain arrays, trusted);
:class:`CompositeResult` is what a solve returns. Its constructor re-checks every constraint
and recomputes the objective from the chosen sites and functions (:meth:`CompositeResult.verify`),
so a result that exists is a plan that holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from embedsite.errors import SolverError
from embedsite.standards import CompositeRule, RuleCheck, Standards

__all__ = ["CompositeComparison", "CompositeProblem", "CompositeResult"]

Mode = Literal["composite", "scattered"]
Status = Literal["optimal", "time_limit", "feasible", "heuristic"]
ComplexArea = Literal["site", "used"]
_TOL = 1e-6
_SITE_COLUMNS = ["functions", "functions_zh", "n_functions", "floor_area_used_m2",
                 "floor_area_m2", "cost", "is_complex", "rule_passed", "rule_reasons",
                 "rule_reasons_zh", "rule_notes"]  # fmt: skip


@dataclass(frozen=True, eq=False)
class CompositeProblem:
    """Several facility types, candidate sites with floor area, clients with weights per type.

    ``reach[t]`` is a sites x clients boolean CSR: site ``j`` is within type ``t``'s walk
    radius of client ``i``. ``weights``/``covered`` are clients x types (served residents,
    already covered by an existing facility). ``allowed`` is sites x types; ``area`` the floor
    area one facility of each type needs; ``functions`` the function tags of each type.
    """

    types: tuple[str, ...]
    reach: tuple[sparse.csr_array, ...]
    weights: np.ndarray
    covered: np.ndarray
    floor_area: np.ndarray
    site_cost: np.ndarray
    allowed: np.ndarray
    area: np.ndarray
    functions: tuple[tuple[str, ...], ...]
    alpha: np.ndarray
    site_labels: pd.Index
    client_labels: pd.Index
    rule: CompositeRule
    standards: Standards
    names_zh: tuple[str, ...]
    radius: np.ndarray
    sites: gpd.GeoDataFrame | None = None

    @property
    def n_sites(self) -> int:
        return len(self.site_labels)

    @property
    def n_types(self) -> int:
        return len(self.types)

    def w_min(self) -> float:
        """The smallest positive weight of a client still to cover (1 when there is none)."""
        w = (self.weights * ~self.covered) * self.alpha[None, :]
        w = w[w > 0]
        return float(w.min()) if len(w) else 1.0

    def gap(self, objective: float, bound: float) -> float:
        """Relative gap of ``objective`` to ``bound``, over ``max(objective, w_min)``."""
        return max(bound - objective, 0.0) / max(abs(objective), self.w_min(), 1e-12)

    def eligible(self) -> np.ndarray:
        """Sites x types: the type is allowed at the site and fits its floor area alone."""
        return self.allowed & (self.area[None, :] <= self.floor_area[:, None] + _TOL)

    def covered_after(self, hosts: np.ndarray) -> np.ndarray:
        """Clients x types covered once the sites x types plan ``hosts`` is built."""
        out: np.ndarray = self.covered.copy()
        for t in range(self.n_types):
            chosen = np.flatnonzero(hosts[:, t])
            if len(chosen):
                out[:, t] |= np.asarray(self.reach[t][chosen].sum(axis=0)).ravel() > 0
        return out

    def coverage_value(self, hosts: np.ndarray) -> float:
        """The objective: sum over types of alpha_t times the newly covered weight."""
        new = self.covered_after(hosts) & ~self.covered
        return float(((self.weights * new) @ self.alpha).sum())

    def check_rule(self, functions: tuple[str, ...], floor_area_m2: float) -> RuleCheck:
        """:meth:`CompositeRule.check` on the function tags of the given types."""
        tags = [tag for t in functions for tag in self.functions[self.types.index(t)]]
        return self.rule.check(tags, floor_area_m2, standards=self.standards)


@dataclass(frozen=True, eq=False)
class CompositeResult:
    """A solved composite (or scattered) plan; frozen, verified on construction.

    Attributes
    ----------
    selected : Index
        Labels of the candidate sites opened.
    hosts : DataFrame
        Booleans, sites opened x facility types: which functions each opened site hosts.
    objective : float
        Newly covered weight, ``sum_t alpha_t sum_i w_it`` over clients covered by the plan and
        not before (recomputed from ``hosts``; tie-break terms excluded).
    bound : float
        Proven upper bound on ``objective`` (HiGHS dual bound; for the heuristic, the weight of
        every client some eligible site reaches).
    gap : float
        ``(bound - objective) / max(objective, w_min)``, ``w_min`` the lightest client's
        weight (so an objective of 0 gives a finite gap).
    status : {"optimal", "time_limit", "feasible", "heuristic"}
    mode : {"composite", "scattered"}
    model, solver, runtime_s
        ``"CompositePlan"``, ``"highs"`` or ``"heuristic"``, wall time of the solve.
    budget, p
        The budget on total site cost and the largest number of sites, as solved.
    """

    problem: CompositeProblem = field(repr=False)
    hosts_array: np.ndarray = field(repr=False)
    objective: float
    bound: float
    gap: float
    status: Status
    mode: Mode
    solver: str
    runtime_s: float
    budget: float | None
    p: int | None
    complex_area: ComplexArea = "site"
    min_share: tuple[float, ...] | None = None
    cost_per_m2: float = 0.0
    model: str = "CompositePlan"

    def __post_init__(self) -> None:
        self.verify()

    # --- views -------------------------------------------------------------------------
    @property
    def _open(self) -> np.ndarray:
        return np.asarray(self.hosts_array.any(axis=1))

    @property
    def selected(self) -> pd.Index:
        """Labels of the opened sites."""
        return self.problem.site_labels[self._open]

    @property
    def hosts(self) -> pd.DataFrame:
        """Opened sites x types: which functions each opened site hosts."""
        pr = self.problem
        return pd.DataFrame(
            self.hosts_array[self._open], index=self.selected, columns=pd.Index(pr.types)
        )

    @property
    def cost(self) -> float:
        """Total cost: the opened sites' costs plus ``cost_per_m2`` times the floor area used."""
        return float(self.problem.site_cost[self._open].sum()) + self.cost_per_m2 * (
            self.floor_area_used_m2
        )

    @property
    def floor_area_used_m2(self) -> float:
        """Floor area the hosted facilities take, summed over the opened sites."""
        return float((self.hosts_array @ self.problem.area).sum())

    @property
    def n_complexes(self) -> int:
        """Opened sites hosting two or more types."""
        return int((self.hosts_array.sum(axis=1) >= 2).sum())

    @property
    def coverage_gain(self) -> pd.DataFrame:
        """Per facility type: served, covered_before, covered_after, shares, newly_covered."""
        pr = self.problem
        after = pr.covered_after(self.hosts_array)
        served = pr.weights.sum(axis=0)
        before = (pr.weights * pr.covered).sum(axis=0)
        cov_after = (pr.weights * after).sum(axis=0)
        safe = np.where(served > 0, served, 1.0)
        out = pd.DataFrame(
            {
                "name_zh": pr.names_zh,
                "served": served,
                "covered_before": before,
                "covered_after": cov_after,
                "share_before": np.where(served > 0, before / safe, np.nan),
                "share_after": np.where(served > 0, cov_after / safe, np.nan),
                "newly_covered": cov_after - before,
                "sites": self.hosts_array.sum(axis=0),
            },
            index=pd.Index(pr.types, name="facility_type"),
        )
        return out

    @property
    def sites(self) -> gpd.GeoDataFrame:
        """The opened sites: functions hosted, floor area used/available, complex rule check.

        Columns: ``functions`` (type keys, ``;``-joined), ``functions_zh`` (Chinese names,
        ``、``-joined), ``n_functions``, ``floor_area_used_m2``, ``floor_area_m2``, ``cost``,
        ``is_complex`` (two or more types), ``rule_passed`` (None for a single-function site),
        ``rule_reasons`` and ``rule_notes`` (``; ``-joined, English), ``rule_reasons_zh``; the
        candidates' geometry when the plan was built from them.
        """
        pr = self.problem
        idx = np.flatnonzero(self._open)
        rows = []
        for j in idx:  # one row per opened site (a handful), not per client
            hosted = tuple(t for t, on in zip(pr.types, self.hosts_array[j], strict=True) if on)
            names = [pr.names_zh[pr.types.index(t)] for t in hosted]
            used = float(self.hosts_array[j] @ pr.area)
            row: dict[str, object] = {
                "functions": ";".join(hosted),
                "functions_zh": "、".join(names),
                "n_functions": len(hosted),
                "floor_area_used_m2": used,
                "floor_area_m2": float(pr.floor_area[j]),
                "cost": float(pr.site_cost[j]),
                "is_complex": len(hosted) >= 2,
                "rule_passed": None,
                "rule_reasons": "",
                "rule_reasons_zh": "",
                "rule_notes": "",
            }
            if len(hosted) >= 2:
                check = pr.check_rule(hosted, self._rule_area(int(j)))
                row.update(
                    rule_passed=check.passed,
                    rule_reasons="; ".join(check.reasons),
                    rule_reasons_zh="；".join(check.reasons_zh),
                    rule_notes="; ".join(check.notes),
                )
            rows.append(row)
        frame = pd.DataFrame(rows, index=pr.site_labels[idx], columns=_SITE_COLUMNS)
        if len(frame):
            frame["rule_passed"] = frame["rule_passed"].astype("boolean")
        frame.index.name = "site"
        if pr.sites is not None:
            geom = pr.sites.geometry.loc[frame.index]
            return gpd.GeoDataFrame(frame, geometry=geom.to_numpy(), crs=pr.sites.crs)
        empty = gpd.GeoSeries([None] * len(frame), index=frame.index)
        return gpd.GeoDataFrame(frame, geometry=empty)

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """The opened sites with the candidates' own columns and what each hosts.

        Also one ``new_<type>`` column per type: the weight (residents) the site's facility
        of that type newly covers alone (NaN where the site does not host the type).
        """
        pr = self.problem
        out = self.sites
        idx = np.flatnonzero(self._open)
        uncovered = pr.weights * ~pr.covered
        for t, key in enumerate(pr.types):
            alone = pr.reach[t][idx] @ uncovered[:, t]
            out[f"new_{key}"] = np.where(self.hosts_array[idx, t], alone, np.nan)
        if pr.sites is not None:
            extra = pr.sites.drop(columns=[pr.sites.geometry.name]).loc[out.index]
            extra = extra.drop(columns=[c for c in extra.columns if c in out.columns])
            out = out.join(extra)
        return out

    def new_sites(self) -> gpd.GeoDataFrame:
        """One row per (site, type) the plan opens, with ``facility_type``: a plan to score.

        A complex hosting three types gives three rows at the same place (labelled
        ``site:type``), each with the floor area that type takes (``floor_area_m2``) and the
        site it belongs to (``site``); the input of :func:`embedsite.scoring.score`
        (``plan=``) and :func:`embedsite.report.write_report`.
        """
        pr = self.problem
        idx = np.flatnonzero(self._open)
        rows_j, rows_t = np.nonzero(self.hosts_array[idx])
        sites = pr.site_labels[idx[rows_j]]
        types = [pr.types[t] for t in rows_t]
        labels = pd.Index([f"{s}:{t}" for s, t in zip(sites, types, strict=True)], name="site_type")
        out = pd.DataFrame(
            {
                "site": np.asarray(sites, dtype=object),
                "facility_type": types,
                "floor_area_m2": pr.area[rows_t],
                "is_complex": self.hosts_array[idx[rows_j]].sum(axis=1) >= 2,
            },
            index=labels,
        )
        if pr.sites is not None:
            geom = pr.sites.geometry.loc[out["site"]].to_numpy()
            return gpd.GeoDataFrame(out, geometry=geom, crs=pr.sites.crs)
        return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries([None] * len(out), index=out.index))

    def _rule_area(self, j: int) -> float:
        if self.complex_area == "used":
            return float(self.hosts_array[j] @ self.problem.area)
        return float(self.problem.floor_area[j])

    # --- verification --------------------------------------------------------------------
    def verify(self) -> None:
        """Re-check every constraint and the objective; raise :class:`SolverError` if broken.

        Checked: every hosted type is allowed at its site; the hosted floor area fits the
        site's; the budget and the number of sites; in ``"scattered"`` mode no site hosts two
        types; in ``"composite"`` mode every site hosting two or more types passes
        :meth:`CompositeRule.check`; the per-type minimum shares; and ``objective`` equals
        the newly covered weight recomputed from the hosted types.
        """
        pr = self.problem
        x = np.asarray(self.hosts_array, dtype=bool)
        if x.shape != (pr.n_sites, pr.n_types):
            raise SolverError(
                f"the plan has shape {x.shape}, expected sites x types {(pr.n_sites, pr.n_types)}"
            )
        problems: list[str] = []
        bad = x & ~pr.allowed
        if bad.any():
            j, t = np.nonzero(bad)
            pairs = [(pr.site_labels[a], pr.types[b]) for a, b in zip(j[:5], t[:5], strict=True)]
            problems.append(f"types hosted where not allowed (site, type): {pairs}")
        used = x @ pr.area
        over = used > pr.floor_area + _TOL
        if over.any():
            first = [
                (pr.site_labels[j], float(used[j]), float(pr.floor_area[j]))
                for j in np.flatnonzero(over)[:5]
            ]
            problems.append(f"floor area used above the site's (site, used, available): {first}")
        opened = x.any(axis=1)
        spent = float(pr.site_cost[opened].sum() + self.cost_per_m2 * used.sum())
        if self.budget is not None and spent > self.budget * (1 + 1e-9) + _TOL:
            problems.append(f"cost {spent:g} exceeds the budget {self.budget:g}")
        if self.p is not None and int(opened.sum()) > self.p:
            problems.append(f"{int(opened.sum())} sites opened, more than p = {self.p}")
        multi = np.flatnonzero(x.sum(axis=1) >= 2)
        if self.mode == "scattered" and len(multi):
            problems.append(
                f"scattered plan co-locates types at sites {list(pr.site_labels[multi[:5]])}"
            )
        if self.mode == "composite":
            for jj in multi.tolist():  # the complexes: a handful
                hosted = tuple(t for t, on in zip(pr.types, x[jj], strict=True) if on)
                check = pr.check_rule(hosted, self._rule_area(jj))
                if not check.passed:
                    problems.append(
                        f"site {pr.site_labels[jj]!r} hosts {list(hosted)} but fails the "
                        f"composite rule: {'; '.join(check.reasons)}"
                    )
        value = pr.coverage_value(x)
        if self.min_share is not None:
            after = pr.covered_after(x)
            served = pr.weights.sum(axis=0)
            got = (pr.weights * after).sum(axis=0)
            for t_i, need in enumerate(self.min_share):
                lack = need * served[t_i] - _TOL * max(served[t_i], 1.0)
                if np.isfinite(need) and got[t_i] < lack:
                    problems.append(
                        f"{pr.types[t_i]}: share covered {got[t_i] / served[t_i]:.4f} below the "
                        f"required {need:g}"
                    )
        scale = max(1.0, abs(value))
        if not abs(value - self.objective) <= 1e-7 * scale:
            problems.append(
                f"objective {self.objective!r} differs from {value!r} recomputed from the plan"
            )
        if not (self.bound >= value - 1e-6 * scale):
            problems.append(f"bound {self.bound!r} is below the objective {value!r}")
        if problems:
            raise SolverError(
                f"{self.model} ({self.mode}, {self.solver}) returned a plan that does not "
                f"hold: {' | '.join(problems)}. This is a bug; please report it with the data."
            )


@dataclass(frozen=True, eq=False)
class CompositeComparison:
    """A composite plan and a scattered (插花) plan solved for the same budget, side by side.

    Attributes
    ----------
    composite, scattered : CompositeResult
    """

    composite: CompositeResult
    scattered: CompositeResult

    @property
    def by_type(self) -> pd.DataFrame:
        """Per type: served, covered before, covered by each plan, and the shares."""
        a, b = self.composite.coverage_gain, self.scattered.coverage_gain
        out = a[["name_zh", "served", "covered_before", "share_before"]].copy()
        out["composite"] = a["covered_after"]
        out["scattered"] = b["covered_after"]
        out["share_composite"] = a["share_after"]
        out["share_scattered"] = b["share_after"]
        out["sites_composite"] = a["sites"]
        out["sites_scattered"] = b["sites"]
        return out

    @property
    def summary(self) -> pd.DataFrame:
        """One row per plan: objective, bound, gap, status, sites, complexes, area, cost."""
        rows = {}
        for name, r in (("composite", self.composite), ("scattered", self.scattered)):
            rows[name] = {
                "objective": r.objective,
                "bound": r.bound,
                "gap": r.gap,
                "status": r.status,
                "sites": len(r.selected),
                "complexes": r.n_complexes,
                "facilities": int(r.hosts_array.sum()),
                "floor_area_used_m2": r.floor_area_used_m2,
                "cost": r.cost,
                "budget": r.budget,
                "p": r.p,
                "runtime_s": r.runtime_s,
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    @property
    def complexes(self) -> pd.DataFrame:
        """The composite plan's complexes with the rule check, its reasons and notes."""
        s = self.composite.sites
        return pd.DataFrame(s.loc[s["is_complex"].astype(bool).to_numpy(), _SITE_COLUMNS])

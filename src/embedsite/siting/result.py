"""The frozen outcome of solving a siting model, checked before anybody sees it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from embedsite.errors import SolverError
from embedsite.siting._problem import SitingProblem

__all__ = ["SitingResult", "Status"]

Status = Literal["optimal", "time_limit", "feasible", "heuristic"]
_STATUSES = ("optimal", "time_limit", "feasible", "heuristic")


def relative_gap(objective: float, bound: float) -> float:
    """``|objective - bound| / max(|objective|, 1e-9)``; NaN when the bound is unknown."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return float("nan")
    return abs(objective - bound) / max(abs(objective), 1e-9)


@dataclass(frozen=True, eq=False)
class SitingResult:
    """A siting plan: the new sites chosen, the existing ones kept, and what they achieve.

    Never built by hand: every model's ``solve`` returns one. It is checked when it is made
    (:meth:`verify`): the constraints of its model are re-checked and the objective is
    recomputed from the chosen sites, so a solver's word is never trusted alone.

    Attributes
    ----------
    selected : Index
        Labels of the NEW sites chosen (never the fixed ones), in site order.
    fixed : Index
        Labels of the existing sites, all kept open.
    objective, bound, gap
        The plan's objective (recomputed), the best proven bound (``nan`` when none is
        known) and their relative gap (0 when optimal).
    status
        ``"optimal"`` (proven), ``"time_limit"`` (stopped with a gap), ``"feasible"``
        (a plan, gap unknown) or ``"heuristic"`` (from a heuristic, with a bound where a
        cheap valid one exists).
    model, solver, runtime_s
        Model name (``"LSCP"``...), ``"highs"`` or ``"heuristic"``, wall time of the solve.
    assignment : Series
        Client label -> label of the open site serving it (nearest open site within reach,
        or the largest share of a capacitated allocation), None when no open site serves it.
    allocation : DataFrame or None
        Capacitated models only: rows (``client``, ``site``, ``share``, ``amount``), where
        ``share`` is the fraction of the client's demand that site serves.
    params : Mapping
        The model's parameters (``p``, ``budget``, ``radius``...).
    stats : Mapping
        Solver details (nodes, reduction sizes, heuristic objective...).
    problem : SitingProblem
        The problem solved (read-only arrays).
    """

    model: str
    solver: str
    status: Status
    selected: pd.Index
    fixed: pd.Index
    objective: float
    bound: float
    gap: float
    runtime_s: float
    assignment: pd.Series
    problem: SitingProblem = field(repr=False)
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    stats: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    allocation: pd.DataFrame | None = field(default=None, repr=False)
    check: Callable[[SitingResult], float] | None = field(default=None, repr=False)
    sense: Literal["min", "max"] = field(default="min", repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "stats", MappingProxyType(dict(self.stats)))
        self.verify()

    @property
    def open_mask(self) -> np.ndarray:
        """Per site of the problem: open in this plan (fixed or selected)."""
        mask = self.problem.fixed.copy()
        mask[self.problem.site_labels.get_indexer(self.selected)] = True
        return mask

    def verify(self) -> None:
        """Re-check the plan against its model; raise :class:`SolverError` on any mismatch.

        Checks that the selected labels are known, new and unique; that every fixed site is
        kept; the assignment (index = client labels, only open sites); the objective
        recomputed by the model's own checker (which also re-checks its constraints); and
        that the bound does not cut off the objective.

        Examples
        --------
        >>> import dataclasses, numpy as np
        >>> from embedsite.siting import LSCP
        >>> res = LSCP.from_cost_matrix(np.array([[100.0, 900.0]]), radius=300).solve()
        >>> res.verify()  # already done when the result was made
        >>> dataclasses.replace(res, objective=0.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        embedsite.errors.SolverError: LSCP: the objective reported (0.0) differs ... (1.0)
        """
        prob = self.problem
        if self.status not in _STATUSES:
            raise SolverError(f"unknown status {self.status!r}; expected one of {_STATUSES}")
        pos = prob.site_labels.get_indexer(self.selected)
        if (pos < 0).any() or self.selected.has_duplicates:
            raise SolverError(
                f"selected sites {self.selected[pos < 0][:5].tolist()} are not sites of the "
                "problem (or repeat)"
            )
        if prob.fixed[pos].any():
            raise SolverError(
                f"selected holds fixed sites {self.selected[prob.fixed[pos]][:5].tolist()}; "
                "fixed sites are kept, not chosen"
            )
        if not self.fixed.equals(prob.site_labels[prob.fixed]):
            raise SolverError("the plan does not keep every fixed (existing) site")
        if not self.assignment.index.equals(prob.client_labels):
            raise SolverError("the assignment is not indexed by the client labels")
        open_labels = set(prob.site_labels[self.open_mask])
        used = self.assignment.dropna()
        stray = [s for s in pd.unique(used.to_numpy()) if s not in open_labels]
        if stray:
            raise SolverError(f"clients are assigned to sites that are not open: {stray[:5]}")
        if self.check is not None:
            recomputed = float(self.check(self))
            if not _close(recomputed, self.objective):
                raise SolverError(
                    f"{self.model}: the objective reported ({self.objective!r}) differs from "
                    f"the one recomputed from the chosen sites ({recomputed!r})"
                )
        if math.isfinite(self.bound) and math.isfinite(self.objective):
            slack = 1e-6 * max(1.0, abs(self.objective))
            wrong = (
                self.bound > self.objective + slack
                if self.sense == "min"
                else self.bound < self.objective - slack
            )
            if wrong:
                raise SolverError(
                    f"{self.model}: bound {self.bound!r} cuts off the plan's objective "
                    f"{self.objective!r}"
                )

    @property
    def coverage_gain(self) -> pd.DataFrame:
        """Residents covered before (existing sites) and after (with the new ones).

        One row per facility type (``"all"`` when the problem has none): ``served`` (sum of
        client weights), ``covered_before`` / ``covered_after`` (weight within the radius of
        an open site; without a radius, reached at all), their shares, and
        ``newly_covered``. Distance only: capacities are left aside here (see
        :attr:`allocation` for who a capacitated plan actually serves).
        """
        prob = self.problem
        limit = prob.radius if prob.radius is not None else np.inf
        w = prob.weights
        before = float(w[prob.open_cost(prob.fixed) <= limit].sum())
        after = float(w[prob.open_cost(self.open_mask) <= limit].sum())
        served = float(w.sum())
        row = {
            "served": served,
            "covered_before": before,
            "covered_after": after,
            "share_before": before / served if served > 0 else float("nan"),
            "share_after": after / served if served > 0 else float("nan"),
            "newly_covered": after - before,
        }
        index = pd.Index([prob.facility_type or "all"], name="facility_type")
        return pd.DataFrame([row], index=index)

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """The open sites (existing first, then new) with their columns and what they serve.

        Columns: ``new`` (chosen by this plan), ``site_cost``, ``capacity`` (when the model
        has one), ``clients`` (clients assigned), ``served`` (their weight), plus every
        column of the site table the problem was built from (geometry included; without
        one, the geometry is empty).

        Examples
        --------
        >>> import numpy as np
        >>> from embedsite.siting import MCLP
        >>> cost = np.array([[100.0, 900.0], [150.0, 900.0], [900.0, 100.0]])
        >>> res = MCLP.from_cost_matrix(cost, radius=300, p=1, fixed=[1]).solve()
        >>> gdf = res.to_geodataframe()
        >>> gdf.index.tolist(), gdf["new"].tolist(), gdf["served"].tolist()
        ([1, 0], [False, True], [1.0, 2.0])
        """
        prob = self.problem
        labels = prob.site_labels[self.open_mask]
        pos = prob.site_labels.get_indexer(labels)
        assigned = self.assignment.dropna()
        w = pd.Series(prob.weights, index=prob.client_labels).loc[assigned.index]
        out = pd.DataFrame(index=labels)
        out["new"] = ~prob.fixed[pos]
        out["site_cost"] = prob.site_cost[pos]
        if prob.capacity is not None:
            out["capacity"] = prob.capacity[pos]
        out["clients"] = assigned.value_counts().reindex(labels).fillna(0).astype(int).to_numpy()
        out["served"] = w.groupby(assigned.to_numpy()).sum().reindex(labels).fillna(0.0)
        if self.allocation is not None and len(self.allocation):
            amount = self.allocation.groupby("site")["amount"].sum()
            out["allocated"] = amount.reindex(labels).fillna(0.0).to_numpy()
        out = out.sort_values("new", kind="stable")
        if prob.sites is not None:
            extra = prob.sites.loc[out.index]
            cols = [c for c in extra.columns if c not in out.columns]
            return gpd.GeoDataFrame(out.join(extra[cols]), geometry="geometry", crs=prob.sites.crs)
        return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries([None] * len(out), index=out.index))

    def new_sites(self) -> gpd.GeoDataFrame:
        """The new sites only, one row each, with ``facility_type``: a plan to score.

        The input of :func:`embedsite.scoring.score` (``plan=``) and
        :func:`embedsite.report.write_report`: every column of :meth:`to_geodataframe` for
        the sites this plan opens, and ``facility_type`` (the type planned).

        Examples
        --------
        >>> import numpy as np
        >>> from embedsite.siting import MCLP
        >>> cost = np.array([[100.0, 900.0], [150.0, 900.0], [900.0, 100.0]])
        >>> res = MCLP.from_cost_matrix(cost, radius=300, p=1, fixed=[1]).solve()
        >>> res.new_sites().index.tolist()
        [0]
        """
        out = self.to_geodataframe()
        out = out[out["new"].to_numpy(bool)].copy()
        out["facility_type"] = self.problem.facility_type
        return out

    def summary(self) -> pd.Series:
        """One line per headline figure (model, status, objective, bound, gap, sites...)."""
        return pd.Series(
            {
                "model": self.model,
                "solver": self.solver,
                "status": self.status,
                "objective": self.objective,
                "bound": self.bound,
                "gap": self.gap,
                "new_sites": len(self.selected),
                "fixed_sites": len(self.fixed),
                "runtime_s": self.runtime_s,
            }
        )


def _close(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))

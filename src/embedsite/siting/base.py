"""What every siting model shares: parameters, the two constructors, and ``solve``.

A model is built in two steps, as in scikit-learn: ``__init__`` only stores parameters, and a
constructor binds it to a :class:`~embedsite.siting._problem.SitingProblem`
(:meth:`SitingModel.from_cost_matrix` on plain arrays, :meth:`SitingModel.from_coverage` on a
coverage analysis and candidate sites). :meth:`SitingModel.solve` never changes the model: it
returns a new frozen :class:`~embedsite.siting.result.SitingResult`, checked before it is
returned.
"""

from __future__ import annotations

import inspect
import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from embedsite.errors import InputError, SolverTimeLimitWarning
from embedsite.siting._problem import SitingProblem, make_problem
from embedsite.siting.result import SitingResult, relative_gap

if TYPE_CHECKING:
    from embedsite.coverage import Coverage

__all__ = ["Plan", "SitingModel", "Solver"]

log = logging.getLogger(__name__)

Solver = Literal["highs", "heuristic"]


def is_site_count(value: object) -> bool:
    """Whether ``value`` is a whole number of sites >= 0 (a bool is not)."""
    return not isinstance(value, bool) and isinstance(value, int | np.integer) and bool(value >= 0)


@dataclass
class Plan:
    """What a model's solver hands back to :meth:`SitingModel.solve` (positions, internal)."""

    open_new: np.ndarray  # positions of the NEW sites opened
    objective: float
    bound: float
    status: str
    stats: dict[str, Any] = field(default_factory=dict)
    allocation: pd.DataFrame | None = None
    assignment: np.ndarray | None = None  # site position per client (-1: none), optional


class SitingModel:
    """Base class of the siting models (not used directly)."""

    name: ClassVar[str] = "model"
    sense: ClassVar[Literal["min", "max"]] = "min"
    _problem: SitingProblem | None = None

    # ---- parameters, scikit-learn style ---------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """The model's parameters, as given to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if v is not None)
        bound = "" if self._problem is None else (
            f"; {self._problem.n_clients} clients x {self._problem.n_sites} sites"
        )  # fmt: skip
        return f"{type(self).__name__}({args}){bound}"

    @property
    def problem(self) -> SitingProblem:
        """The problem the model is bound to (built by a ``from_...`` constructor)."""
        if self._problem is None:
            raise InputError(
                f"this {type(self).__name__} is not bound to data; build it with "
                f"{type(self).__name__}.from_cost_matrix(...) or .from_coverage(...)"
            )
        return self._problem

    def _validate_params(self, problem: SitingProblem) -> None:
        """Check the parameters against the problem (subclasses extend)."""

    def _bind(self, problem: SitingProblem) -> SitingModel:
        self._validate_params(problem)
        self._problem = problem
        return self

    # ---- constructors ---------------------------------------------------------------------
    @classmethod
    def from_cost_matrix(
        cls,
        cost: Any,
        *,
        weights: Any = None,
        fixed: Any = None,
        site_cost: Any = None,
        capacity: Any = None,
        demand: Any = None,
        client_labels: Any = None,
        site_labels: Any = None,
        unreached_cost: float | None = None,
        facility_type: str | None = None,
        **params: Any,
    ) -> Any:
        """Bind a model to a clients x sites walk-cost matrix.

        Parameters
        ----------
        cost
            Dense array (``inf`` = beyond reach), DataFrame (index and columns become the
            labels) or scipy sparse matrix (an absent entry = beyond reach), in metres.
        weights
            Residents per client (default 1 each).
        fixed
            Existing sites that stay open and count: a boolean mask or site labels.
        site_cost
            Cost of opening each site (default 1; NaN = unknown = 1).
        capacity, demand
            Capacitated models: how much demand each site can serve, and how much each
            client uses (default its weight), in the same unit (residents, places, m²).
        client_labels, site_labels
            Labels of the rows and columns (default 0..n-1 unless ``cost`` is a DataFrame).
        unreached_cost
            What a p-median charges a client no open site reaches (default: infeasible).
        facility_type
            Name the results report coverage under.
        **params
            The model's own parameters (``radius``, ``p``, ``budget``...).

        Examples
        --------
        >>> import pandas as pd
        >>> from embedsite.siting import MCLP
        >>> cost = pd.DataFrame([[100, 900], [800, 200]], index=["home-a", "home-b"],
        ...                     columns=["school", "library"])
        >>> model = MCLP.from_cost_matrix(cost, radius=300, p=1, weights=[40, 60])
        >>> model
        MCLP(radius=300, p=1); 2 clients x 2 sites
        >>> model.solve().selected.tolist()
        ['library']
        """
        model = cls(**params)
        radius = getattr(model, "radius", None)
        problem = make_problem(
            cost,
            weights=weights,
            fixed=fixed,
            site_cost=site_cost,
            capacity=capacity,
            demand=demand,
            radius=radius,
            unreached_cost=unreached_cost,
            facility_type=facility_type,
            client_labels=client_labels,
            site_labels=site_labels,
        )
        return model._bind(problem)

    @classmethod
    def from_coverage(
        cls,
        coverage: Coverage,
        candidates: Any,
        facility_type: str,
        *,
        max_walk_m: float | None = None,
        site_cost: str | None = "cost",
        capacity: Any = None,
        demand: Any = None,
        unreached_cost: float | None = None,
        include_existing: bool = True,
        **params: Any,
    ) -> Any:
        """Bind a model to a coverage analysis: residents, candidate sites, existing ones.

        Clients are the resident points with residents of the type's age group (weights);
        sites are the candidates that allow the type (new) and the existing facilities of
        the type (fixed, when ``include_existing``). Walk distances are exact (snap
        positions, network paths) and sparse: pairs beyond the search bound are never
        stored.

        Parameters
        ----------
        coverage
            A :class:`~embedsite.coverage.Coverage` of the same network.
        candidates
            A ``Candidates`` object (its ``.points``) or a GeoDataFrame with the snap
            columns of :meth:`PedestrianNetwork.snap`, in the network CRS, indexed by
            unique labels; optional ``cost``, ``allowed_types`` (';'-separated keys,
            "" = any type) and ``floor_area_m2`` (a site smaller than the type's
            ``min_building_area_m2`` in the standards is left out; unknown area is kept).
        facility_type
            Key or name of the type being planned.
        max_walk_m
            Search bound of the distances (p-median, p-center); default three times the
            type's radius. LSCP and MCLP only need distances within the radius.
        site_cost
            Candidate column holding the cost of a site (NaN = 1 unit); None for 1 each.
            Existing sites cost 0.
        capacity
            Capacitated models: a column name present in both the candidates and the
            facilities (e.g. ``"floor_area_m2"``, ``"capacity"``), or a Series indexed by
            site labels.
        demand
            Capacity each resident point uses when served: a Series indexed like the
            demand's points, or a number per served resident (e.g. m² per resident).
            Default: the served residents themselves.
        unreached_cost
            p-median: metres charged to a resident point no open site reaches within
            ``max_walk_m`` (default ``max_walk_m``, a lower bound of that walk).
        include_existing
            Keep the existing facilities of the type as fixed sites (default True).
        **params
            The model's own parameters (``p``, ``budget``...; ``radius`` defaults to the
            type's walk radius).

        Examples
        --------
        Close the sample city's health-station gap, keeping its 7 stations (candidate
        sites here: every third street node):

        >>> import embedsite.network as en, embedsite.demand as ed, embedsite.facilities as ef
        >>> from embedsite import coverage
        >>> from embedsite.siting import LSCP, MCLP
        >>> path = "data/sample/helsinki.osm.pbf"
        >>> net = en.from_osm_file(path)
        >>> homes = ed.from_osm_file(path, net, on_far="drop")
        >>> cov = coverage.compute(net, homes, ef.from_osm_file(path, net),
        ...                        types=["community_health_station"])
        >>> sites = net.snap(net.nodes.iloc[::3].reset_index(drop=True))
        >>> sites = sites.rename(index="node:{}".format)
        >>> plan = LSCP.from_coverage(cov, sites, "community_health_station").solve()
        >>> len(plan.selected), len(plan.fixed), plan.status
        (6, 7, 'optimal')
        >>> plan.coverage_gain[["share_before", "share_after"]].round(2).values.tolist()
        [[0.44, 1.0]]
        >>> two = MCLP.from_coverage(cov, sites, "community_health_station", p=2).solve()
        >>> round(float(two.coverage_gain["share_after"].iloc[0]), 2)
        0.8
        """
        from embedsite.siting._from_coverage import build_problem

        key = coverage.standards[facility_type].key
        params = dict(params)
        if "radius" in cls._param_names() and params.get("radius") is None:
            params["radius"] = coverage.standards[key].walk_radius_m
        model = cls(**params)
        radius = float(getattr(model, "radius", None) or coverage.standards[key].walk_radius_m)
        reach = model._reach(radius, max_walk_m)
        unreached = unreached_cost
        if unreached is None and model._needs_unreached:
            unreached = reach
        problem = build_problem(
            coverage,
            candidates,
            key,
            radius=radius,
            limit=reach,
            site_cost=site_cost,
            capacity=capacity,
            demand=demand,
            unreached_cost=(
                unreached_cost
                if unreached_cost is not None or not model._needs_unreached
                else reach
            ),
            include_existing=include_existing,
        )
        return model._bind(problem)

    _needs_unreached: ClassVar[bool] = False

    def _reach(self, radius: float, max_walk_m: float | None) -> float:
        """How far from_coverage computes distances (cover models: the radius)."""
        return radius

    # ---- solving --------------------------------------------------------------------------
    def solve(
        self,
        solver: Solver = "highs",
        *,
        time_limit: float | None = None,
        mip_gap: float | None = None,
        seed: int = 0,
    ) -> SitingResult:
        """Solve the model; return a new, verified :class:`SitingResult`.

        Parameters
        ----------
        solver
            ``"highs"``: exact, HiGHS through highspy (a proven optimum, or the best plan
            and its gap at ``time_limit``). ``"heuristic"``: fast, no proof (a bound where
            a cheap valid one exists).
        time_limit
            Seconds for HiGHS; at the limit the best plan is returned with its gap and a
            :class:`~embedsite.errors.SolverTimeLimitWarning`.
        mip_gap
            Relative gap at which HiGHS may stop (default: prove optimality).
        seed
            Random seed of the heuristics.

        Examples
        --------
        >>> import numpy as np
        >>> from embedsite.siting import PCenter
        >>> model = PCenter.from_cost_matrix(np.array([[100, 900], [700, 50]]), p=1)
        >>> exact, quick = model.solve(), model.solve("heuristic")
        >>> exact.objective, exact.status, quick.objective >= exact.objective
        (700.0, 'optimal', True)
        """
        problem = self.problem
        if solver not in ("highs", "heuristic"):
            raise InputError(f"solver must be 'highs' or 'heuristic', not {solver!r}")
        for name, value in (("time_limit", time_limit), ("mip_gap", mip_gap)):
            if value is not None and not (
                isinstance(value, int | float) and math.isfinite(value) and value >= 0
            ):
                raise InputError(f"{name} must be a number >= 0, not {value!r}")
        t0 = time.perf_counter()
        if solver == "highs":
            plan = self._solve_highs(problem, time_limit=time_limit, mip_gap=mip_gap, seed=seed)
        else:
            plan = self._solve_heuristic(problem, seed=seed)
        runtime = time.perf_counter() - t0
        open_mask = problem.fixed.copy()
        open_mask[plan.open_new] = True
        if plan.assignment is None:
            limit = self._assign_limit(problem)
            site_pos = problem.nearest_open(open_mask, limit)
        else:
            site_pos = plan.assignment
        labels = np.asarray(problem.site_labels, dtype=object)
        assignment = pd.Series(
            np.where(site_pos >= 0, labels[np.maximum(site_pos, 0)], None),
            index=problem.client_labels,
            dtype=object,
            name="site",
        )
        selected = problem.site_labels[np.sort(np.unique(plan.open_new))]
        objective = float(plan.objective)
        result = SitingResult(
            model=self.name,
            solver=solver,
            status=plan.status,  # type: ignore[arg-type]
            selected=selected,
            fixed=problem.site_labels[problem.fixed],
            objective=objective,
            bound=float(plan.bound),
            gap=0.0 if plan.status == "optimal" else relative_gap(objective, float(plan.bound)),
            runtime_s=runtime,
            assignment=assignment,
            problem=problem,
            params=self.get_params(),
            stats=plan.stats,
            allocation=plan.allocation,
            check=type(self)._check,
            sense=self.sense,
        )
        if plan.status == "time_limit":
            warnings.warn(
                f"{self.name}: HiGHS stopped at the time limit ({time_limit} s); the best plan "
                f"found has objective {objective:.6g}, bound {plan.bound:.6g}, gap "
                f"{result.gap:.2%}. Raise time_limit, or accept the plan with its gap.",
                SolverTimeLimitWarning,
                stacklevel=2,
            )
        log.info("%s solved (%s, %s) in %.3f s: objective %.6g", self.name, solver,
                 plan.status, runtime, objective)  # fmt: skip
        return result

    def _assign_limit(self, problem: SitingProblem) -> float:
        return np.inf

    def _solve_highs(
        self, problem: SitingProblem, *, time_limit: float | None, mip_gap: float | None,
        seed: int,
    ) -> Plan:  # fmt: skip
        raise NotImplementedError

    def _solve_heuristic(self, problem: SitingProblem, *, seed: int) -> Plan:
        raise NotImplementedError

    @staticmethod
    def _check(result: SitingResult) -> float:
        """Re-check the plan's constraints and return its objective recomputed."""
        raise NotImplementedError

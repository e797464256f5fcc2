r"""Composite complexes or scattered (插花) sites: several facility types sited at once.

:class:`CompositePlan` decides, for several facility types together, which candidate sites
open and which set of functions each hosts, so that the hosted floor area fits the site and
every site hosting two or more types is a community embedded service complex
(社区嵌入式服务综合体) under the composite rule (:class:`~embedsite.standards.CompositeRule`).
:meth:`CompositePlan.compare` solves the same data for the same budget twice, once allowing
complexes and once with single-function sites only, and reports both side by side.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from embedsite._paths import pair_distances, source_node_distances
from embedsite.errors import (
    CRSError,
    EmptyInputError,
    InfeasibleModelError,
    InputError,
    MissingColumnError,
    SolverError,
    SolverTimeLimitWarning,
)
from embedsite.siting._composite_heuristic import greedy_hosts
from embedsite.siting._composite_result import (
    ComplexArea,
    CompositeComparison,
    CompositeProblem,
    CompositeResult,
    Mode,
)
from embedsite.siting.base import is_site_count
from embedsite.standards import Standards

__all__ = ["DEFAULT_AREA_M2", "CompositeComparison", "CompositePlan", "CompositeResult"]

log = logging.getLogger(__name__)

#: Floor area (m²) assumed for one facility of a type whose standard gives no minimum
#: building area (nursery, canteen, after-school care...): an embedsite default, not a norm.
DEFAULT_AREA_M2: float = 200.0
_SNAP = ("edge", "position_m", "to_u_m", "to_v_m", "access_m")


class CompositePlan:
    r"""Multi-type maximal covering with co-location and floor-area knapsacks per site.

    Sites :math:`j` (floor area :math:`A_j`, cost :math:`c_j`), facility types :math:`t`
    (walk radius :math:`r_t`, floor area :math:`a_t` of one facility, function tags
    :math:`F_t`), clients :math:`i` with weight :math:`w_{it}` (residents of the age group
    type :math:`t` serves) and :math:`N_{it} = \{j : d_{ij} \le r_t\}`; clients already
    within :math:`r_t` of an existing facility of type :math:`t` are covered and left out.
    Binary :math:`x_{jt}` (site :math:`j` hosts type :math:`t`), :math:`y_j` (site opened),
    :math:`k_j` (site is a complex), continuous :math:`z_{it}, g_{jf} \in [0, 1]`:

    .. math::

        \max \; & \sum_t \alpha_t \sum_i w_{it} z_{it}
                 - \varepsilon_y \sum_j y_j - \varepsilon_x \sum_{j,t} x_{jt}
                 + \varepsilon_k \sum_j k_j - \varepsilon_c \,\mathrm{cost} \\
        \text{s.t.} \; & \textstyle\sum_t a_t x_{jt} \le A_j y_j, \quad
                 x_{jt} \le y_j \le \sum_t x_{jt}, \quad x_{jt} = 0 \text{ unless allowed} \\
        & z_{it} \le \textstyle\sum_{j \in N_{it}} x_{jt} \\
        & \mathrm{cost} = \textstyle\sum_j c_j y_j + c_{m^2} \sum_{j,t} a_t x_{jt} \le B,
          \quad \sum_j y_j \le p \quad \text{(either or both)} \\
        & \textstyle\sum_t x_{jt} \le 1 + (T_j - 1) k_j, \quad k_j \le y_j,
          \quad k_j = 0 \text{ if } A_j < A^{\min} \\
        & g_{jf} \le \textstyle\sum_{t : f \in F_t} x_{jt}, \quad
          \sum_f g_{jf} \ge m_F k_j, \quad \sum_{f \in \mathcal{C}} g_{jf} \ge m_C k_j

    with :math:`T_j` the number of types site :math:`j` may host, :math:`A^{\min}` = 600 m²,
    :math:`m_F` = 3 functions, :math:`m_C` = 2 core functions of
    :math:`\mathcal{C}` = {elderly care, infant care, after-school care, meal aid}
    (城市社区嵌入式服务设施建设导则(试行), 2024; the figures of the standards in force).
    :math:`g_{jf}` counts distinct function tags (it can reach 1 only if a hosted type has
    tag :math:`f`). In ``mode="scattered"`` (插花) the complex rows are replaced by
    :math:`\sum_t x_{jt} \le 1`. Every scattered plan is a composite plan, so for the same
    data and budget the composite optimum is never below the scattered one.

    The covering part is the maximal covering location problem (Church & ReVelle 1974, *Papers
    of the Regional Science Association* 32: 101-118), one copy per facility type sharing the
    sites, as in multi-level / multi-service covering models (Moore & ReVelle 1982, "The
    hierarchical service location problem", *Management Science* 28(7): 775-780; review:
    Şahin & Süral 2007, *Computers & Operations Research* 34(8): 2310-2331). The floor-area
    knapsack per site and the linearisation of the complex rule (:math:`k_j`, :math:`g_{jf}`)
    are embedsite's. :math:`c_{m^2}` is ``cost_per_m2`` (fit-out cost per m² of hosted
    floor area; 0 by default, so a complex costs what its site costs).

    ``type_weights`` sets :math:`\alpha_t`: ``"residents"`` (default, :math:`\alpha_t = 1`:
    the objective is resident-services newly covered, so larger groups weigh more),
    ``"share"`` (:math:`\alpha_t = 1 / \text{served}_t`: each type's share counts alike) or a
    mapping type -> weight.

    Tie-breaks, all tiny next to one client (:math:`w_{\min}`, the smallest client weight):
    :math:`\varepsilon_c` = ``cost_tie_break`` :math:`\cdot w_{\min}` / (cost of every
    eligible facility), and, with :math:`s = w_{\min} / (n (T + 2))` and
    :math:`b` = ``complex_bonus``, :math:`\varepsilon_y = 4 b s` per site,
    :math:`\varepsilon_x = 2 b s` per facility and :math:`\varepsilon_k = b s` per complex.
    Together they weigh less than ``cost_tie_break + 2.5 complex_bonus`` (1.25e-3) of the
    lightest client, so they only choose among plans of (almost) equal coverage: the cheaper,
    then the one on fewer sites (one complex rather than several single sites: policy prefers
    一站式 complexes), with no facility that covers nobody, then the one with more complexes.
    Since :math:`\varepsilon_k < \varepsilon_x < \varepsilon_y`, the bonus never pays for
    opening a site or adding a function. ``objective`` excludes them. On real weights these
    terms can fall below HiGHS's tolerances (it warns of "excessively small costs"), so every
    plan is also pruned after solving: a facility whose clients are all covered by another,
    or a site with only such facilities, is dropped, coverage unchanged and every complex
    still passing the rule.

    Floor area of one facility :math:`a_t`: ``area_m2[type]`` if given, else the type's
    ``min_building_area_m2``, else :data:`DEFAULT_AREA_M2` (200 m², an embedsite default:
    no standard sizes nurseries, canteens or after-school care). ``complex_area="site"``
    (default) applies the 600 m² minimum to the site's floor area (the complex takes the whole
    building); ``"used"`` to the floor area its functions take.

    Parameters
    ----------
    mode
        ``"composite"`` (complexes allowed and preferred) or ``"scattered"`` (one type per site).
    budget, p
        Budget on the total cost of opened sites and/or the largest number of sites.
    type_weights, complex_bonus, cost_tie_break, complex_area
        See above.
    cost_per_m2
        Fit-out cost per m² of hosted floor area, added to the sites' costs in the budget.
    min_share
        Optional type -> share in [0, 1] that must be covered after the plan (a hard
        requirement; an unmeetable one raises :class:`InfeasibleModelError` naming it).

    Examples
    --------
    Two sites, three types; site 0 (900 m²) can host all three, site 1 (300 m²) one:

    >>> reach = {t: np.array([[1, 1, 0], [0, 0, 1]], bool)
    ...          for t in ["nursery", "elderly_day_care_center", "community_canteen"]}
    >>> plan = CompositePlan.from_arrays(reach, np.ones((3, 3)), [900.0, 300.0],
    ...                                  area_m2=300.0, p=1)
    >>> res = plan.solve()
    >>> res.objective, list(res.selected), res.status
    (6.0, [0], 'optimal')
    >>> site = res.sites.iloc[0]
    >>> site["functions_zh"], bool(site["is_complex"]), bool(site["rule_passed"])
    ('托儿所（托育机构）、老年人日间照料中心（托老所）、社区食堂（助餐点）', True, True)
    >>> cmp = plan.compare()
    >>> cmp.summary[["objective", "sites", "complexes"]].to_dict("index")["scattered"]
    {'objective': 2.0, 'sites': 1, 'complexes': 0}
    """

    def __init__(
        self,
        mode: Mode = "composite",
        *,
        budget: float | None = None,
        p: int | None = None,
        type_weights: Literal["residents", "share"] | Mapping[str, float] = "residents",
        complex_bonus: float = 1e-4,
        cost_tie_break: float = 1e-3,
        complex_area: ComplexArea = "site",
        min_share: Mapping[str, float] | None = None,
        cost_per_m2: float = 0.0,
    ) -> None:
        self.mode = mode
        self.budget = budget
        self.p = p
        self.type_weights = type_weights
        self.complex_bonus = complex_bonus
        self.cost_tie_break = cost_tie_break
        self.complex_area = complex_area
        self.min_share = min_share
        self.cost_per_m2 = cost_per_m2
        self._problem: CompositeProblem | None = None

    def get_params(self) -> dict[str, Any]:
        """The parameters given to ``__init__``."""
        keys = ("mode", "budget", "p", "type_weights", "complex_bonus", "cost_tie_break",
                "complex_area", "min_share", "cost_per_m2")  # fmt: skip
        return {k: getattr(self, k) for k in keys}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        bound = "" if self._problem is None else f"; {self._problem.n_sites} sites"
        return f"CompositePlan({args}{bound})"

    @property
    def problem(self) -> CompositeProblem:
        """The bound data (from :meth:`from_arrays` or :meth:`from_coverage`)."""
        if self._problem is None:
            raise InputError(
                "this CompositePlan holds no data; build it with CompositePlan.from_arrays(...) "
                "or CompositePlan.from_coverage(...)"
            )
        return self._problem

    # --- constructors ----------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        reach: Mapping[str, Any],
        weights: Any,
        floor_area_m2: Any,
        *,
        area_m2: float | Mapping[str, float] | None = None,
        site_cost: Any = None,
        allowed: Any = None,
        covered: Any = None,
        functions: Mapping[str, Sequence[str]] | None = None,
        standards: Standards | None = None,
        site_labels: Sequence[Any] | None = None,
        client_labels: Sequence[Any] | None = None,
        sites: gpd.GeoDataFrame | None = None,
        **params: Any,
    ) -> CompositePlan:
        """A plan on plain arrays.

        Parameters
        ----------
        reach
            Type key -> sites x clients boolean array or sparse matrix (site within the
            type's radius of the client). Keys are facility types of ``standards``, or any
            label when ``functions`` gives their function tags.
        weights
            Clients x types (columns in ``reach`` order, or a DataFrame with type columns).
        floor_area_m2
            Floor area of each site (> 0).
        area_m2
            Floor area one facility needs: one number for every type or type -> m²
            (default: see the class docstring).
        site_cost, allowed, covered
            Cost per site (default 1); sites x types booleans (default all); clients x types
            already covered by existing facilities (default none).
        functions, standards
            Function tags per type (default: the types' in ``standards``, itself
            :meth:`Standards.default` when None); the composite rule is ``standards.composite``.
        site_labels, client_labels, sites
            Labels (default 0..n-1), and a GeoDataFrame of the sites for the output geometry.
        **params
            Parameters of :class:`CompositePlan` (``mode``, ``budget``, ``p``...).

        Examples
        --------
        >>> reach = {"nursery": [[1, 1, 0], [0, 1, 1]], "community_canteen": [[0, 0, 0], [0, 0, 1]]}
        >>> weights = [[1.0, 0.0], [1.0, 0.0], [1.0, 5.0]]  # clients x types
        >>> plan = CompositePlan.from_arrays(reach, weights, [250.0, 250.0], p=2,
        ...                                  mode="scattered")
        >>> plan.problem.area.tolist()  # no standard area for either: DEFAULT_AREA_M2
        [200.0, 200.0]
        >>> plan.solve().hosts.astype(int).to_dict("index")
        {0: {'nursery': 1, 'community_canteen': 0}, 1: {'nursery': 0, 'community_canteen': 1}}
        """
        std = Standards.default() if standards is None else standards
        types = tuple(str(t) for t in reach)
        if not types:
            raise EmptyInputError("reach names no facility type")
        mats = [sparse.csr_array(sparse.csr_array(reach[t]).astype(bool)) for t in reach]
        n_sites, n_clients = mats[0].shape
        for t, m in zip(types, mats, strict=True):
            if m.shape != (n_sites, n_clients):
                raise InputError(
                    f"reach[{t!r}] has shape {m.shape}; every type needs sites x clients "
                    f"{(n_sites, n_clients)}"
                )
        w = _matrix("weights", weights, types, n_clients, float)
        if not np.isfinite(w).all() or (w < 0).any():
            raise InputError("weights must be finite and >= 0")
        cov = (
            np.zeros((n_clients, len(types)), bool)
            if covered is None
            else _matrix("covered", covered, types, n_clients, bool)
        )
        area_site = np.asarray(floor_area_m2, dtype=float).ravel()
        if area_site.shape != (n_sites,) or not (np.isfinite(area_site) & (area_site > 0)).all():
            raise InputError(
                f"floor_area_m2 needs {n_sites} finite values > 0 (one per site), got "
                f"{area_site[:5].tolist()}..."
            )
        cost = np.ones(n_sites) if site_cost is None else np.asarray(site_cost, float).ravel()
        if cost.shape != (n_sites,) or not (np.isfinite(cost) & (cost >= 0)).all():
            raise InputError(f"site_cost needs {n_sites} finite values >= 0 (one per site)")
        allow = (
            np.ones((n_sites, len(types)), bool)
            if allowed is None
            else _matrix("allowed", allowed, types, n_sites, bool)
        )
        tags, names, radius, area = [], [], [], []
        for t in types:
            ft = std.get(t) if t in std else None
            if functions is not None and t in functions:
                tags.append(tuple(functions[t]))
            elif ft is not None:
                tags.append(tuple(ft.functions))
            else:
                raise InputError(
                    f"{t!r} is not a facility type of the standards; give its function tags "
                    "with functions={type: [tags]}"
                )
            names.append(ft.name_zh if ft is not None else t)
            radius.append(ft.walk_radius_m if ft is not None else np.nan)
            area.append(_type_area(t, ft, area_m2))
        served = w.sum(axis=0)
        plan = cls(**params)
        plan._check_params(types)
        alpha = plan._alpha(types, served)
        plan._problem = CompositeProblem(
            types=types,
            reach=tuple(mats),
            weights=w,
            covered=cov,
            floor_area=area_site,
            site_cost=cost,
            allowed=allow,
            area=np.asarray(area, float),
            functions=tuple(tags),
            alpha=alpha,
            site_labels=pd.Index(range(n_sites) if site_labels is None else list(site_labels)),
            client_labels=pd.Index(
                range(n_clients) if client_labels is None else list(client_labels)
            ),
            rule=std.composite,
            standards=std,
            names_zh=tuple(names),
            radius=np.asarray(radius, float),
            sites=sites,
        )
        return plan

    @classmethod
    def from_coverage(
        cls,
        coverage: Any,
        candidates: Any,
        *,
        types: Sequence[str] | None = None,
        area_m2: float | Mapping[str, float] | None = None,
        **params: Any,
    ) -> CompositePlan:
        """A plan from a :class:`~embedsite.coverage.Coverage` and candidate sites.

        Parameters
        ----------
        coverage
            Stage 3 result: clients are its resident points, weights the residents of each
            type's age group, and those within a type's radius of an existing facility of the
            type count as covered.
        candidates
            A GeoDataFrame (or an object with ``.points``, e.g. ``Candidates``) in the
            network CRS with the snap columns (``edge``, ``position_m``, ``to_u_m``,
            ``to_v_m``, ``access_m``) and ``floor_area_m2``; optional ``cost`` (NaN: 1 unit)
            and ``allowed_types`` (``;``-separated type keys or Chinese names; ``""``: any).
        types
            Facility types to plan (keys or Chinese names; default: the coverage's types).
        area_m2, **params
            As in :meth:`from_arrays`.

        Examples
        --------
        >>> import embedsite.network as en, embedsite.demand as ed, embedsite.facilities as ef
        >>> from embedsite import coverage
        >>> path = "data/sample/helsinki.osm.pbf"
        >>> net = en.from_osm_file(path)
        >>> homes = ed.from_osm_file(path, net, on_far="drop")
        >>> cov = coverage.compute(net, homes, ef.from_osm_file(path, net),
        ...                        types=["nursery", "elderly_day_care_center"])
        >>> sites = net.snap(homes.points.geometry.iloc[:10]).assign(floor_area_m2=1000.0)
        >>> res = CompositePlan.from_coverage(cov, sites, p=2).solve()
        >>> bool(res.objective > 0 and len(res.selected) <= 2)
        True
        """
        std: Standards = coverage.standards
        pts = getattr(candidates, "points", candidates)
        if not isinstance(pts, gpd.GeoDataFrame):
            raise InputError(
                f"candidates must be a GeoDataFrame or have .points, not {type(pts).__name__}"
            )
        if len(pts) == 0:
            raise EmptyInputError("no candidate sites")
        net = coverage.network
        if pts.crs is None or pts.crs != net.crs:
            raise CRSError(
                f"candidates are in CRS {pts.crs}, the network in {net.crs}; snap them with "
                "network.snap(...) (or candidates.from_table(..., network))"
            )
        missing = [c for c in (*_SNAP, "floor_area_m2") if c not in pts.columns]
        if missing:
            raise MissingColumnError(
                f"candidates lack column(s) {missing}; they need the snap columns of "
                "PedestrianNetwork.snap and floor_area_m2"
            )
        keys = [std[t].key for t in (types if types is not None else coverage.types)]
        absent = [k for k in keys if k not in coverage.types]
        if absent:
            raise InputError(f"{absent} were not analysed; analysed types: {list(coverage.types)}")
        floor = pd.to_numeric(pts["floor_area_m2"], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(floor) & (floor > 0))
        if bad.any():
            raise InputError(
                f"{int(bad.sum())} candidates have no floor_area_m2 > 0 (first: "
                f"{list(pts.index[bad][:5])}); fill or drop them"
            )
        cost = (
            pd.to_numeric(pts["cost"], errors="coerce").fillna(1.0).to_numpy(float)
            if "cost" in pts.columns
            else np.ones(len(pts))
        )
        allowed = _allowed(pts, keys, std)
        targets = coverage.demand.points
        u, v = net.edge_nodes
        radii = np.array([std[k].walk_radius_m for k in keys])
        node_dist = source_node_distances(net.csr, u, v, pts, limit=float(radii.max()))
        reach: dict[str, sparse.csr_array] = {}
        by_radius: dict[float, sparse.csr_array] = {}
        for key, r in zip(keys, radii, strict=True):  # one join per distinct radius
            if r not in by_radius:
                pairs = pair_distances(node_dist, u, v, pts, targets, limit=float(r))
                by_radius[r] = sparse.csr_array(pairs.astype(bool))
            reach[key] = by_radius[r]
        weights = np.column_stack([coverage.served(k).to_numpy(float) for k in keys])
        covered = np.column_stack([coverage.covered[k].to_numpy(bool) for k in keys])
        return cls.from_arrays(
            reach, weights, floor, area_m2=area_m2, site_cost=cost, allowed=allowed,
            covered=covered, standards=std, site_labels=list(pts.index),
            client_labels=list(targets.index), sites=pts, **params,
        )  # fmt: skip

    # --- solving -------------------------------------------------------------------------------
    def solve(
        self,
        solver: Literal["highs", "heuristic"] = "highs",
        *,
        time_limit: float | None = None,
        mip_gap: float | None = None,
    ) -> CompositeResult:
        """Solve exactly with HiGHS (``solver="highs"``) or greedily (``"heuristic"``).

        ``time_limit`` in seconds and ``mip_gap`` (relative; HiGHS default 1e-4) apply to
        HiGHS. A stop at the time limit returns the best plan with ``status="time_limit"``
        and a :class:`SolverTimeLimitWarning`. The model is never modified.

        Examples
        --------
        >>> reach = {"nursery": np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], bool)}
        >>> plan = CompositePlan.from_arrays(reach, [[1.0], [2.0], [4.0]], [300.0] * 3, p=1)
        >>> exact = plan.solve()
        >>> exact.objective, list(exact.selected), exact.status
        (6.0, [1], 'optimal')
        >>> plan.solve("heuristic").objective
        6.0
        """
        pr = self.problem
        self._check_params(pr.types)
        if solver == "highs":
            from embedsite.siting._composite_mip import solve_mip

            return solve_mip(self, pr, time_limit=time_limit, mip_gap=mip_gap)
        if solver == "heuristic":
            return _greedy(self, pr)
        raise InputError(f"solver must be 'highs' or 'heuristic', not {solver!r}")

    def compare(
        self,
        solver: Literal["highs", "heuristic"] = "highs",
        *,
        time_limit: float | None = None,
        mip_gap: float | None = None,
    ) -> CompositeComparison:
        """Solve the composite and the scattered (插花) plan for the same budget, side by side.

        Both use the same data, budget and ``p``; the composite optimum is never below the
        scattered one (every scattered plan is a composite plan).

        Examples
        --------
        >>> types = ["nursery", "elderly_day_care_center", "community_canteen"]
        >>> reach = {t: np.ones((2, 4), bool) for t in types}
        >>> cmp = CompositePlan.from_arrays(reach, np.ones((4, 3)), [900.0, 400.0], p=1).compare()
        >>> cmp.by_type[["covered_before", "composite", "scattered"]].sum().tolist()
        [0.0, 12.0, 4.0]
        >>> cmp.complexes["functions"].tolist()
        ['nursery;elderly_day_care_center;community_canteen']
        """
        out = {}
        for mode in ("composite", "scattered"):
            twin = type(self)(**{**self.get_params(), "mode": mode})
            twin._problem = self.problem
            out[mode] = twin.solve(solver, time_limit=time_limit, mip_gap=mip_gap)
        return CompositeComparison(composite=out["composite"], scattered=out["scattered"])

    # --- helpers -------------------------------------------------------------------------
    def _check_params(self, types: Sequence[str]) -> None:
        if self.mode not in ("composite", "scattered"):
            raise InputError(f"mode must be 'composite' or 'scattered', not {self.mode!r}")
        if self.complex_area not in ("site", "used"):
            raise InputError(f"complex_area must be 'site' or 'used', not {self.complex_area!r}")
        if self.budget is None and self.p is None:
            raise InputError("give a budget (total site cost), p (number of sites), or both")
        if self.budget is not None and not (np.isfinite(self.budget) and self.budget >= 0):
            raise InputError(f"budget must be a finite number >= 0, not {self.budget!r}")
        if self.p is not None and not is_site_count(self.p):
            raise InputError(f"p must be a whole number >= 0, not {self.p!r}")
        if not (isinstance(self.cost_per_m2, int | float) and np.isfinite(self.cost_per_m2)
                and self.cost_per_m2 >= 0):  # fmt: skip
            raise InputError(f"cost_per_m2 must be a finite number >= 0, not {self.cost_per_m2!r}")
        for name in ("complex_bonus", "cost_tie_break"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value <= 0.01):
                raise InputError(f"{name} must be a number in [0, 0.01], not {value!r}")
        for t, share in (self.min_share or {}).items():
            if t not in types:
                raise InputError(f"min_share names {t!r}, not a planned type; types: {types}")
            if not 0 <= share <= 1:
                raise InputError(f"min_share[{t!r}] must be in [0, 1], not {share!r}")

    def _alpha(self, types: Sequence[str], served: np.ndarray) -> np.ndarray:
        tw = self.type_weights
        if tw == "residents":
            return np.ones(len(types))
        if tw == "share":
            return np.where(served > 0, 1.0 / np.where(served > 0, served, 1.0), 0.0)
        if isinstance(tw, Mapping):
            unknown = [t for t in tw if t not in types]
            if unknown:
                raise InputError(f"type_weights names {unknown}, not planned types {types}")
            out = np.array([float(tw.get(t, 1.0)) for t in types])
            if not (np.isfinite(out) & (out >= 0)).all():
                raise InputError(f"type_weights must be finite and >= 0, not {dict(tw)}")
            return out
        raise InputError(f"type_weights must be 'residents', 'share' or a mapping, not {tw!r}")

    def _min_share(self, pr: CompositeProblem) -> tuple[float, ...] | None:
        if not self.min_share:
            return None
        return tuple(float(self.min_share.get(t, np.nan)) for t in pr.types)

    def _result(self, pr: CompositeProblem, hosts: np.ndarray, **kw: Any) -> CompositeResult:
        return CompositeResult(
            problem=pr, hosts_array=hosts, mode=self.mode, budget=self.budget, p=self.p,
            complex_area=self.complex_area, min_share=self._min_share(pr),
            cost_per_m2=float(self.cost_per_m2), **kw,
        )  # fmt: skip


def _matrix(name: str, value: Any, types: Sequence[str], rows: int, dtype: type) -> np.ndarray:
    if isinstance(value, pd.DataFrame):
        missing = [t for t in types if t not in value.columns]
        if missing:
            raise MissingColumnError(f"{name} lacks the type column(s) {missing}")
        value = value[list(types)]
    arr: np.ndarray = np.asarray(value, dtype=dtype)
    if arr.ndim == 1 and len(types) == 1:
        arr = arr[:, None]
    if arr.shape != (rows, len(types)):
        raise InputError(f"{name} has shape {arr.shape}, expected {(rows, len(types))}")
    return arr


def _type_area(key: str, ft: Any, area_m2: float | Mapping[str, float] | None) -> float:
    if isinstance(area_m2, Mapping) and key in area_m2:
        value = float(area_m2[key])
    elif area_m2 is not None and not isinstance(area_m2, Mapping):
        value = float(area_m2)
    elif ft is not None and ft.min_building_area_m2 is not None:
        value = float(ft.min_building_area_m2)
    else:
        log.info("%s: no minimum building area in the standards; assuming %g m²", key,
                 DEFAULT_AREA_M2)  # fmt: skip
        value = DEFAULT_AREA_M2
    if not (np.isfinite(value) and value >= 0):
        raise InputError(f"area_m2 for {key!r} must be a finite number >= 0, not {value!r}")
    return value


def _allowed(pts: pd.DataFrame, keys: Sequence[str], std: Standards) -> np.ndarray:
    if "allowed_types" not in pts.columns:
        return np.ones((len(pts), len(keys)), bool)
    raw = pts["allowed_types"].fillna("").astype(str).str.strip()
    codes, uniques = pd.factorize(raw)
    table = np.zeros((len(uniques), len(keys)), bool)
    for u_i, text in enumerate(uniques):  # one parse per distinct value, not per row
        names = [s.strip() for s in text.split(";") if s.strip()]
        if not names:
            table[u_i] = True
            continue
        resolved = {std[n].key for n in names}
        table[u_i] = [k in resolved for k in keys]
    return table[codes]


def _greedy(plan: CompositePlan, pr: CompositeProblem) -> CompositeResult:
    """The greedy plan, verified, with the trivial bound (every reachable client covered)."""
    start = time.perf_counter()
    hosts = greedy_hosts(plan, pr)
    value = pr.coverage_value(hosts)
    elig = pr.eligible()
    reachable = np.column_stack(
        [np.asarray(pr.reach[t][elig[:, t]].sum(axis=0)).ravel() > 0 for t in range(pr.n_types)]
    ).reshape(-1, pr.n_types)
    bound = max(float(((pr.weights * (reachable & ~pr.covered)) @ pr.alpha).sum()), value)
    if plan.min_share and not _meets_shares(plan, pr, hosts):
        raise SolverError(
            f"the greedy plan does not reach min_share {dict(plan.min_share)}; use "
            "solver='highs', which meets it whenever a plan can"
        )
    return plan._result(
        pr, hosts, objective=value, bound=bound, gap=pr.gap(value, bound), status="heuristic",
        solver="heuristic", runtime_s=time.perf_counter() - start,
    )  # fmt: skip


def _meets_shares(plan: CompositePlan, pr: CompositeProblem, hosts: np.ndarray) -> bool:
    after = pr.covered_after(hosts)
    served = pr.weights.sum(axis=0)
    got = (pr.weights * after).sum(axis=0)
    need = np.array([(plan.min_share or {}).get(t, 0.0) for t in pr.types]) * served
    return bool((got >= need - 1e-6 * np.maximum(served, 1.0)).all())


def _warn_time_limit(gap: float) -> None:
    warnings.warn(
        f"HiGHS stopped at the time limit with a relative gap of {gap:.3%}; the plan is "
        "feasible but may not be optimal (raise time_limit or mip_gap)",
        SolverTimeLimitWarning,
        stacklevel=4,
    )


def _infeasible(plan: CompositePlan, pr: CompositeProblem) -> InfeasibleModelError:
    """An error naming why no plan meets the requirements."""
    causes = []
    if plan.min_share:
        elig = pr.eligible()
        served = pr.weights.sum(axis=0)
        for t, key in enumerate(pr.types):
            need = plan.min_share.get(key)
            if need is None:
                continue
            reach_any = np.asarray(pr.reach[t][elig[:, t]].sum(axis=0)).ravel() > 0
            best = float((pr.weights[:, t] * (reach_any | pr.covered[:, t])).sum())
            share = best / served[t] if served[t] > 0 else 1.0
            if share < need:
                causes.append(
                    f"{key}: min_share {need:g} but at most {share:.4f} can be covered even "
                    "with every eligible site"
                )
        if not causes:
            causes.append(
                f"min_share {dict(plan.min_share)} cannot be met within budget={plan.budget} "
                f"and p={plan.p}; raise the budget or p, or lower the shares"
            )
    else:
        causes.append(f"no plan within budget={plan.budget}, p={plan.p}")
    return InfeasibleModelError("no composite plan is feasible: " + "; ".join(causes))


def _check_solution(value: float, claimed: float, plan: CompositePlan) -> None:
    if claimed > value + 1e-6 * max(1.0, abs(value)):
        raise SolverError(
            f"HiGHS claims coverage {claimed!r} but the chosen sites cover {value!r}; the "
            f"{plan.mode} model is inconsistent (a bug: please report it)"
        )

"""Capacitated MCLP and p-median with fractional allocation (private).

Both models share one sparse formulation over the (client, site) pairs within reach:
site variables ``y`` (binary; fixed sites held at 1), allocation shares ``x_ij >= 0``,
capacity rows ``sum_i q_i x_ij <= Q_j y_j`` and the strong linking rows ``x_ij <= y_j``.
With the sites fixed the same model is the allocation LP, which the heuristics and the
checks use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from embedsite.errors import InfeasibleModelError, SolverError
from embedsite.siting._highs import MipOutcome, solve_mip
from embedsite.siting._problem import SitingProblem
from embedsite.siting.base import Plan

if TYPE_CHECKING:
    from embedsite.siting.mclp import MCLP
    from embedsite.siting.pmedian import PMedian
    from embedsite.siting.result import SitingResult

Kind = Literal["mclp", "pmedian"]


def _pairs(problem: SitingProblem, limit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(client, site, distance) of every pair within ``limit`` for clients of weight > 0."""
    if problem.is_sparse:
        coo = sparse.csr_array(problem.cost).tocoo()
        i, j, d = coo.row, coo.col, coo.data
    else:
        c = np.asarray(problem.cost)
        i, j = np.nonzero(np.isfinite(c))
        d = c[i, j]
    keep = (d <= limit) & (problem.weights[i] > 0)
    order = np.lexsort((j[keep], i[keep]))
    return i[keep][order].astype(np.int64), j[keep][order].astype(np.int64), d[keep][order]


def _build(
    problem: SitingProblem, kind: Kind, limit: float, *, p: int | None, budget: float | None,
    y_lo: np.ndarray, y_hi: np.ndarray, integer: bool,
) -> tuple[np.ndarray, sparse.csr_array, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
           np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:  # fmt: skip
    n, m = problem.n_clients, problem.n_sites
    w, q = problem.weights, problem.usage()
    i, j, d = _pairs(problem, limit)
    k = len(i)
    cap = problem.capacity.copy()  # type: ignore[union-attr]
    cap[~np.isfinite(cap)] = float(q.sum()) + 1.0
    unserved = kind == "pmedian" and problem.unreached_cost is not None
    active = np.flatnonzero(w > 0)
    nu = len(active) if unserved else 0
    ncol = m + k + nu
    xc = m + np.arange(k)
    uc = m + k + np.arange(nu)
    blocks = []
    lo, hi = [], []
    # client rows
    rows_c = np.concatenate([i, active[np.arange(nu)]]) if unserved else i
    cols_c = np.concatenate([xc, uc]) if unserved else xc
    blocks.append(sparse.csr_array((np.ones(len(rows_c)), (rows_c, cols_c)), shape=(n, ncol)))
    if kind == "mclp":
        lo.append(np.full(n, -np.inf))
        hi.append(np.ones(n))
    else:
        eq = (w > 0).astype(float)
        lo.append(eq)
        hi.append(eq)
    # capacity rows
    blocks.append(sparse.csr_array(
        (np.concatenate([q[i], -cap]), (np.concatenate([j, np.arange(m)]),
                                       np.concatenate([xc, np.arange(m)]))),
        shape=(m, ncol)))  # fmt: skip
    lo.append(np.full(m, -np.inf))
    hi.append(np.zeros(m))
    # linking rows for new sites only
    new_pair = ~problem.fixed[j]
    kn = int(new_pair.sum())
    r = np.arange(kn)
    blocks.append(sparse.csr_array(
        (np.concatenate([np.ones(kn), -np.ones(kn)]),
         (np.concatenate([r, r]), np.concatenate([xc[new_pair], j[new_pair]]))),
        shape=(kn, ncol)))  # fmt: skip
    lo.append(np.full(kn, -np.inf))
    hi.append(np.zeros(kn))
    new = np.flatnonzero(~problem.fixed)
    if p is not None:
        blocks.append(sparse.csr_array((np.ones(len(new)), (np.zeros(len(new), int), new)),
                                       shape=(1, ncol)))  # fmt: skip
        lo.append(np.array([float(p) if kind == "pmedian" else -np.inf]))
        hi.append(np.array([float(p)]))
    if budget is not None:
        blocks.append(sparse.csr_array((problem.site_cost[new], (np.zeros(len(new), int), new)),
                                       shape=(1, ncol)))  # fmt: skip
        lo.append(np.array([-np.inf]))
        hi.append(np.array([budget]))
    A = sparse.vstack(blocks, format="csr")
    if kind == "mclp":
        c = np.concatenate([np.zeros(m), w[i], np.zeros(nu)])
    else:
        U = problem.unreached_cost or 0.0
        c = np.concatenate([np.zeros(m), w[i] * d, w[active] * U if unserved else []])
    col_lo = np.concatenate([y_lo, np.zeros(k + nu)])
    col_hi = np.concatenate([y_hi, np.ones(k + nu)])
    ints = np.concatenate([np.full(m, integer), np.zeros(k + nu, dtype=bool)])
    return c, A, np.concatenate(lo), np.concatenate(hi), col_lo, col_hi, ints, (i, j, d), active


def _run(
    problem: SitingProblem, kind: Kind, limit: float, *, p: int | None, budget: float | None,
    open_mask: np.ndarray | None = None, time_limit: float | None = None,
    mip_gap: float | None = None,
) -> tuple[MipOutcome, tuple[np.ndarray, np.ndarray, np.ndarray]]:  # fmt: skip
    fixed = problem.fixed.astype(float)
    if open_mask is None:
        y_lo, y_hi, integer = fixed, np.ones(problem.n_sites), True
    else:
        y_lo = y_hi = open_mask.astype(float)
        integer, p, budget = False, None, None
    c, A, lo, hi, clo, chi, ints, pairs, _ = _build(
        problem, kind, limit, p=p, budget=budget, y_lo=y_lo, y_hi=y_hi, integer=integer
    )
    out = solve_mip(c, A, lo, hi, clo, chi, ints, maximize=kind == "mclp",
                    time_limit=time_limit, mip_gap=mip_gap)  # fmt: skip
    return out, pairs


def _allocation(
    problem: SitingProblem, x: np.ndarray, pairs: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[pd.DataFrame, np.ndarray]:
    """The allocation table (shares > 1e-9) and the main site of each client (-1: none)."""
    i, j, _ = pairs
    m = problem.n_sites
    share = np.clip(x[m : m + len(i)], 0.0, 1.0)
    keep = share > 1e-9
    q = problem.usage()
    table = pd.DataFrame({
        "client": np.asarray(problem.client_labels, dtype=object)[i[keep]],
        "site": np.asarray(problem.site_labels, dtype=object)[j[keep]],
        "share": share[keep],
        "amount": share[keep] * q[i[keep]],
    })  # fmt: skip
    main = np.full(problem.n_clients, -1, dtype=np.int64)
    if keep.any():
        ii, jj, ss = i[keep], j[keep], share[keep]
        order = np.lexsort((-ss, ii))
        first = np.ones(len(order), dtype=bool)
        first[1:] = ii[order][1:] != ii[order][:-1]
        main[ii[order][first]] = jj[order][first]
    return table, main


def _fixed_only(problem: SitingProblem, radius: float) -> float:
    """Weight the existing sites alone serve within the radius under their capacities."""
    if not problem.fixed.any():
        return 0.0
    out, _ = _run(problem, "mclp", radius, p=None, budget=None, open_mask=problem.fixed)
    return float(out.objective) if out.x is not None else 0.0


def _plan_from(
    problem: SitingProblem, kind: Kind, out: MipOutcome, pairs: tuple, offset: float,
    stats: dict,
) -> Plan:  # fmt: skip
    m = problem.n_sites
    x = out.x
    assert x is not None
    open_new = np.flatnonzero((x[:m] > 0.5) & ~problem.fixed)
    table, main = _allocation(problem, x, pairs)
    obj = float(out.objective) - offset
    bound = float(out.bound) - offset if np.isfinite(out.bound) else np.nan
    if out.status == "optimal":
        bound = obj
    return Plan(open_new, obj, bound, out.status, stats, allocation=table, assignment=main)


def solve_cmclp(model: MCLP, problem: SitingProblem, *, time_limit: float | None,
                mip_gap: float | None) -> Plan:  # fmt: skip
    """Capacitated MCLP by HiGHS."""
    radius = float(model.radius)  # type: ignore[arg-type]
    before = _fixed_only(problem, radius)
    out, pairs = _run(problem, "mclp", radius, p=model.p, budget=model.budget,
                      time_limit=time_limit, mip_gap=mip_gap)  # fmt: skip
    if out.x is None:
        raise SolverError("HiGHS found no capacitated MCLP plan before the time limit; raise it")
    plan = _plan_from(problem, "mclp", out, pairs, before, {"covered_before": before})
    if plan.status != "optimal":
        plan.bound = max(plan.bound, plan.objective) if np.isfinite(plan.bound) else np.nan
    return plan


def heuristic_cmclp(model: MCLP, problem: SitingProblem) -> Plan:
    """Greedy on capacity-capped gains, then the exact allocation LP for the sites chosen."""
    radius = float(model.radius)  # type: ignore[arg-type]
    before = _fixed_only(problem, radius)
    A = problem.within(radius)
    w, q = problem.weights.astype(float), problem.usage().astype(float)
    left = np.where(w > 0, 1.0, 0.0)
    if problem.fixed.any():  # what fixed sites reach is taken first, capacity aside
        left[np.asarray(A[:, np.flatnonzero(problem.fixed)].sum(axis=1)).ravel() > 0] = 0.0
    At = sparse.csr_array(A.T)
    cap = np.where(np.isfinite(problem.capacity), problem.capacity, np.inf)  # type: ignore[arg-type]
    avail = ~problem.fixed
    chosen: list[int] = []
    spent = 0.0
    cost = problem.site_cost
    while model.p is None or len(chosen) < model.p:
        dem = At @ (left * q)
        gw = At @ (left * w)
        frac = np.where(dem > 0, np.minimum(1.0, cap / np.maximum(dem, 1e-12)), 1.0)
        gain = gw * frac
        ok = avail & (gain > 0)
        if model.budget is not None:
            ok &= spent + cost <= model.budget + 1e-9
        if not ok.any():
            break
        score = gain / np.maximum(cost, 1e-12) if model.budget is not None else gain
        jbest = int(np.argmax(np.where(ok, score, -1.0)))
        chosen.append(jbest)
        avail[jbest] = False
        spent += float(cost[jbest])
        rows = At.indices[At.indptr[jbest] : At.indptr[jbest + 1]]
        left[rows] *= 1.0 - frac[jbest]
    mask = problem.fixed.copy()
    mask[chosen] = True
    out, pairs = _run(problem, "mclp", radius, p=None, budget=None, open_mask=mask)
    plan = _plan_from(problem, "mclp", out, pairs, before, {"covered_before": before})
    plan.open_new = np.asarray(sorted(chosen), dtype=np.int64)
    plan.status, plan.bound = "heuristic", np.nan
    return plan


def solve_cpmedian(model: PMedian, problem: SitingProblem, *, time_limit: float | None,
                   mip_gap: float | None) -> Plan:  # fmt: skip
    """Capacitated p-median by HiGHS."""
    out, pairs = _run(problem, "pmedian", np.inf, p=model.p, budget=None,
                      time_limit=time_limit, mip_gap=mip_gap)  # fmt: skip
    if out.status == "infeasible":
        raise _no_capacity(problem, model.p)  # type: ignore[arg-type]
    if out.x is None:
        raise SolverError("HiGHS found no capacitated p-median plan before the time limit")
    return _plan_from(problem, "pmedian", out, pairs, 0.0, {})


def heuristic_cpmedian(model: PMedian, problem: SitingProblem) -> Plan:
    """Uncapacitated greedy + swap sites, then the exact allocation LP for them."""
    from embedsite.siting._pmedian_exact import heuristic_pmedian

    fill = problem.unreached_cost if problem.unreached_cost is not None else np.inf
    sol = heuristic_pmedian(problem.dense_cost(fill), int(model.p),  # type: ignore[arg-type]
                            weights=problem.weights, fixed=problem.fixed)  # fmt: skip
    mask = np.zeros(problem.n_sites, dtype=bool)
    mask[sol.selected] = True
    mask |= problem.fixed
    out, pairs = _run(problem, "pmedian", np.inf, p=None, budget=None, open_mask=mask)
    if out.x is None:
        raise InfeasibleModelError(
            "the heuristic's sites cannot serve every client within their capacities; try "
            "solver='highs', raise p, or pass unreached_cost="
        )
    plan = _plan_from(problem, "pmedian", out, pairs, 0.0, {})
    plan.open_new = np.flatnonzero(mask & ~problem.fixed)
    plan.status, plan.bound = "heuristic", np.nan
    return plan


def _no_capacity(problem: SitingProblem, p: int) -> InfeasibleModelError:
    cap = problem.capacity
    assert cap is not None
    best_new = np.sort(cap[~problem.fixed])[::-1][:p].sum()
    total = float(cap[problem.fixed].sum() + best_new)
    need = float(problem.usage()[problem.weights > 0].sum())
    return InfeasibleModelError(
        f"no plan of {p} new sites serves every client: the existing sites plus the {p} "
        f"largest candidates hold {total:,.1f} of capacity for {need:,.1f} of demand, or "
        "some clients reach no site with room. Raise p, add capacity, or pass "
        "unreached_cost= to let clients go unserved at a cost"
    )


def check_allocation(result: SitingResult, radius: float | None, *, newly: bool) -> float:
    """Re-check a capacitated plan's allocation; return its objective recomputed."""
    prob = result.problem
    table = result.allocation
    if table is None:
        raise SolverError("a capacitated plan must carry its allocation")
    ci = prob.client_labels.get_indexer(pd.Index(table["client"]))
    sj = prob.site_labels.get_indexer(pd.Index(table["site"]))
    if (ci < 0).any() or (sj < 0).any():
        raise SolverError("the allocation names unknown clients or sites")
    if not result.open_mask[sj].all():
        raise SolverError("the allocation sends clients to sites that are not open")
    share = table["share"].to_numpy(float)
    if (share < -1e-9).any():
        raise SolverError("the allocation has negative shares")
    d = prob.pair_cost(ci, sj)
    limit = radius if radius is not None else np.inf
    if (~(d <= limit * (1 + 1e-9) + 1e-9)).any():
        raise SolverError("the allocation serves clients from beyond the radius or reach")
    q = prob.usage()
    per_client = np.bincount(ci, weights=share, minlength=prob.n_clients)
    if (per_client > 1 + 1e-6).any():
        raise SolverError("the allocation serves some client more than once")
    load = np.bincount(sj, weights=share * q[ci], minlength=prob.n_sites)
    cap = prob.capacity
    assert cap is not None
    over = load > cap + 1e-6 * np.maximum(1.0, cap)
    if over.any():
        raise SolverError(
            f"the allocation overloads sites {prob.site_labels[over][:5].tolist()} "
            f"(load {load[over][:5].tolist()}, capacity {cap[over][:5].tolist()})"
        )
    w = prob.weights
    if newly:
        served = float((w[ci] * share).sum())
        return served - _fixed_only(prob, float(radius))  # type: ignore[arg-type]
    rest = np.clip(1.0 - per_client, 0.0, 1.0)
    active = w > 0
    if prob.unreached_cost is None:
        if (rest[active] > 1e-6).any():
            raise SolverError("the capacitated p-median plan leaves clients unserved")
        extra = 0.0
    else:
        extra = float((w[active] * rest[active]).sum() * prob.unreached_cost)
    return float((w[ci] * d * share).sum()) + extra

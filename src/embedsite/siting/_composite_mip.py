"""The HiGHS model of :class:`~embedsite.siting.composite.CompositePlan` (private).

Built in bulk: every block of rows is a set of (row, column, value) arrays made with numpy
and sparse products, one block per constraint family (a loop per facility type at most),
then one CSC matrix handed to HiGHS.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from embedsite._graphbuild import ranges
from embedsite.errors import InputError, SolverError
from embedsite.siting._composite_heuristic import greedy_hosts, prune
from embedsite.siting._composite_result import CompositeProblem, CompositeResult, Status
from embedsite.siting._highs import new_highs

if TYPE_CHECKING:
    from embedsite.siting.composite import CompositePlan

__all__ = ["solve_mip"]

_INF = np.inf


class _Rows:
    """Accumulates constraint rows as COO triplets with their bounds."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.n = 0

    def add(self, n_rows: int, r: np.ndarray, c: np.ndarray, v: float | np.ndarray,
            lo: float | np.ndarray, hi: float | np.ndarray) -> None:  # fmt: skip
        if n_rows == 0:
            return
        self.r.append(np.asarray(r, np.int64) + self.n)
        self.c.append(np.asarray(c, np.int64))
        self.v.append(np.broadcast_to(np.asarray(v, float), np.shape(r)).astype(float))
        self.lo.append(np.broadcast_to(np.asarray(lo, float), (n_rows,)).astype(float))
        self.hi.append(np.broadcast_to(np.asarray(hi, float), (n_rows,)).astype(float))
        self.n += n_rows

    def matrix(self, n_cols: int) -> tuple[sparse.csc_array, np.ndarray, np.ndarray]:
        if not self.r:
            return sparse.csc_array((0, n_cols)), np.zeros(0), np.zeros(0)
        a = sparse.coo_array(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
            shape=(self.n, n_cols),
        ).tocsc()
        a.sum_duplicates()
        return a, np.concatenate(self.lo), np.concatenate(self.hi)


def _same_rows(blk: sparse.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """Group identical rows of a CSR with sorted indices and no empty row.

    Returns the first row of each group and the group of every row. Rows are hashed (a
    seeded random 64-bit number per column, summed with wrap-around, and the row length),
    then every row is compared with its group's first row; on any collision no row is merged.
    """
    m = blk.shape[0]
    if m == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    nnz = np.diff(blk.indptr)
    rand = np.random.default_rng(20240101).integers(1, 2**62, blk.shape[1], dtype=np.int64)
    h = np.add.reduceat(rand.astype(np.uint64)[blk.indices], blk.indptr[:-1]).view(np.int64)
    _, first, group = np.unique(
        np.column_stack([h, nnz]), axis=0, return_index=True, return_inverse=True
    )
    group = np.asarray(group).ravel()
    rep = first[group]
    pos, _ = ranges(blk.indptr[:-1], nnz)
    pos_rep, _ = ranges(blk.indptr[rep], nnz[rep])
    if not np.array_equal(blk.indices[pos], blk.indices[pos_rep]):  # pragma: no cover
        return np.arange(m), np.arange(m)
    return first, group


def _max_open(plan: CompositePlan, pr: CompositeProblem, elig: np.ndarray) -> int:
    """The most sites any feasible plan opens (``p``, or the budget over the cheapest site)."""
    n = pr.n_sites
    cap = n
    if plan.p is not None:
        cap = min(cap, int(plan.p))
    if plan.budget is not None:
        fit = np.where(elig, plan.cost_per_m2 * pr.area[None, :], np.inf).min(
            axis=1, initial=np.inf
        )
        cheapest = float((pr.site_cost + fit).min()) if n else np.inf
        if cheapest > 0 and np.isfinite(cheapest):
            cap = min(cap, int(np.floor(float(plan.budget) / cheapest + 1e-9)))
    return max(cap, 0)


def interchangeable(
    plan: CompositePlan, pr: CompositeProblem, need: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Group sites no plan can tell apart; mark the copies beyond the most sites one opens.

    Two sites are interchangeable when they reach the same clients still to cover for every
    type they are eligible for, are eligible for the same types, cost the same and have the
    same floor area, floor areas at or above ``max(sum of the type areas, complex minimum)``
    counting as equal (no plan can use more). A plan opens at most ``S`` sites (``p`` or the
    budget over the cheapest site with its cheapest facility), so keeping the first ``S``
    sites of each group loses no optimum: a plan's sites of a group can be relabelled.

    Returns the group of every site and a boolean mask of the sites to leave out.
    """
    n, t_n = pr.n_sites, pr.n_types
    elig = pr.eligible()
    s_max = _max_open(plan, pr, elig)
    if n == 0 or s_max >= n:
        return np.arange(n), np.zeros(n, bool)
    top = max(float(pr.area.sum()), float(pr.rule.min_floor_area_m2))
    floor = np.minimum(pr.floor_area, top)
    _, prof = np.unique(np.column_stack([floor, pr.site_cost, elig]), axis=0, return_inverse=True)
    prof = np.asarray(prof).ravel()
    blocks = [sparse.csr_array((np.ones(n), (np.arange(n), prof)), shape=(n, int(prof.max()) + 1))]
    for t in range(t_n):  # reach of the clients still to cover, at eligible sites only
        r = sparse.csr_array(pr.reach[t]).astype(float)
        r = sparse.csr_array(r[:, need[t]])
        blocks.append(sparse.csr_array(sparse.diags_array(elig[:, t].astype(float)) @ r))
    key = sparse.csr_array(sparse.hstack(blocks, format="csr"))
    key.eliminate_zeros()
    key.sort_indices()
    _, group = _same_rows(key)
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    return group, rank >= s_max


def _relabel(hosts: np.ndarray, group: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """Move a plan's facilities off left-out sites onto unused kept sites of the same group."""
    if not (hosts[drop].any(axis=1)).any():
        return hosts
    out = hosts.copy()
    used = hosts.any(axis=1)
    for j in np.flatnonzero(drop & used):  # a few opened sites at most
        free = np.flatnonzero((group == group[j]) & ~drop & ~out.any(axis=1))
        out[free[0]] = out[j]
        out[j] = False
    return out


def _columns(
    pr: CompositeProblem,
    hosts: np.ndarray,
    n_cols: int,
    xj: np.ndarray,
    xt: np.ndarray,
    off_y: int,
    off_z: int,
    zt: np.ndarray,
    z_reach: list[sparse.csr_array],
    complex_cols: Any,
) -> np.ndarray:
    """The column values of the MIP for the sites x types plan ``hosts``."""
    col = np.zeros(n_cols)
    col[: len(xj)] = hosts[xj, xt]
    col[off_y : off_y + pr.n_sites] = hosts.any(axis=1)
    z = []
    for t, blk in enumerate(z_reach):  # a z is covered if any of its sites hosts the type
        on = hosts[pr.eligible()[:, t], t].astype(float)
        z.append((blk @ on) > 0)
    col[off_z : off_z + len(zt)] = np.concatenate(z) if z else []
    if complex_cols:
        off_k, off_g, gj, gf, tag_of = complex_cols
        col[off_k : off_k + pr.n_sites] = hosts.sum(axis=1) >= 2
        col[off_g : off_g + len(gj)] = (hosts.astype(int) @ tag_of.astype(int))[gj, gf] > 0
    return col


def solve_mip(
    plan: CompositePlan,
    pr: CompositeProblem,
    *,
    time_limit: float | None,
    mip_gap: float | None,
    reduce: bool = True,
) -> CompositeResult:
    """Build and solve the MILP of the class docstring; verify and return the plan.

    ``reduce`` leaves out the copies of interchangeable sites beyond the most sites a plan
    opens (:func:`interchangeable`); off only to test that it changes no optimum.
    """
    import highspy

    from embedsite.siting.composite import (
        _check_solution,
        _infeasible,
        _meets_shares,
        _warn_time_limit,
    )

    start = time.perf_counter()
    n, t_n = pr.n_sites, pr.n_types
    composite = plan.mode == "composite"
    elig = pr.eligible()
    xj, xt = np.nonzero(elig)  # x columns: eligible (site, type) pairs, site-major
    nx = len(xj)
    col_x = np.full((n, t_n), -1, np.int64)
    col_x[xj, xt] = np.arange(nx)
    off_y = nx
    n_cols = nx + n
    # clients needing cover per type: weight > 0, not covered, reached by an eligible site;
    # clients reached by the same set of sites share one z (their weights summed)
    z_t, z_reach, z_w, needs = [], [], [], []
    for t in range(t_n):  # one sparse block per type
        sub = sparse.csr_array(pr.reach[t][elig[:, t]].T)  # clients x eligible sites of t
        need = (pr.weights[:, t] > 0) & ~pr.covered[:, t] & (np.diff(sub.indptr) > 0)
        needs.append(need)
        idx = np.flatnonzero(need)
        blk = sparse.csr_array(sub[idx])
        blk.sort_indices()
        first, group = _same_rows(blk)
        z_t.append(np.full(len(first), t))
        z_reach.append(blk[first])
        z_w.append(np.bincount(group, weights=pr.weights[idx, t], minlength=len(first)))
    zt = np.concatenate(z_t)
    nz = len(zt)
    off_z = n_cols
    n_cols += nz
    w_raw = np.concatenate(z_w)  # residents per z
    wz = w_raw * pr.alpha[zt]
    w_min = pr.w_min()
    if composite:
        off_k = n_cols
        n_cols += n
        tags = sorted({f for fs in pr.functions for f in fs})
        tag_of = np.zeros((t_n, len(tags)), bool)
        for t, fs in enumerate(pr.functions):
            tag_of[t, [tags.index(f) for f in fs]] = True
        site_tag = (elig.astype(int) @ tag_of.astype(int)) > 0  # sites x tags possible
        gj, gf = np.nonzero(site_tag)
        off_g = n_cols
        n_cols += len(gj)

    rows = _Rows()
    ar = np.arange(n)
    # floor area: sum_t a_t x_jt - A_j y_j <= 0
    rows.add(n, np.concatenate([xj, ar]), np.concatenate([np.arange(nx), off_y + ar]),
             np.concatenate([pr.area[xt], -pr.floor_area]), -_INF, 0.0)  # fmt: skip
    # x_jt - y_j <= 0
    rows.add(nx, np.r_[np.arange(nx), np.arange(nx)], np.r_[np.arange(nx), off_y + xj],
             np.r_[np.ones(nx), -np.ones(nx)], -_INF, 0.0)  # fmt: skip
    # y_j - sum_t x_jt <= 0: an opened site hosts something
    rows.add(n, np.r_[ar, xj], np.r_[off_y + ar, np.arange(nx)],
             np.r_[np.ones(n), -np.ones(nx)], -_INF, 0.0)  # fmt: skip
    # cover: z_it - sum_{j in N_it} x_jt <= 0, one block per type
    base = 0
    for t in range(t_n):
        blk = z_reach[t]
        m = blk.shape[0]
        sites_t = np.flatnonzero(elig[:, t])
        counts = np.diff(blk.indptr)
        r = np.repeat(np.arange(m), counts)
        cols = col_x[sites_t[blk.indices], t]
        rows.add(m, np.r_[np.arange(m), r], np.r_[off_z + base + np.arange(m), cols],
                 np.r_[np.ones(m), -np.ones(len(r))], -_INF, 0.0)  # fmt: skip
        base += m
    x_cost = plan.cost_per_m2 * pr.area[xt]  # fit-out cost of each hosted facility
    if plan.budget is not None:
        rows.add(1, np.zeros(n + nx), np.r_[off_y + ar, np.arange(nx)],
                 np.r_[pr.site_cost, x_cost], -_INF, float(plan.budget))  # fmt: skip
    if plan.p is not None:
        rows.add(1, np.zeros(n), off_y + ar, 1.0, -_INF, float(plan.p))
    if plan.min_share:
        served = pr.weights.sum(axis=0)
        for t, key in enumerate(pr.types):
            if key not in plan.min_share:
                continue
            before = float((pr.weights[:, t] * pr.covered[:, t]).sum())
            need = plan.min_share[key] * served[t] - before
            sel = np.flatnonzero(zt == t)
            rows.add(1, np.zeros(len(sel)), off_z + sel, w_raw[sel],
                     need - 1e-9 * max(served[t], 1.0), _INF)  # fmt: skip
    types_at = elig.sum(axis=1)
    if composite:
        rule = pr.rule
        # sum_t x_jt - (T_j - 1) k_j <= 1 (y_j on the right is tighter on paper, but presolve
        # finds it: same root bound on Helsinki and slower branching in 3 of 4 runs)
        rows.add(n, np.r_[xj, ar], np.r_[np.arange(nx), off_k + ar],
                 np.r_[np.ones(nx), -np.maximum(types_at - 1, 0)], -_INF, 1.0)  # fmt: skip
        # k_j - y_j <= 0
        rows.add(n, np.r_[ar, ar], np.r_[off_k + ar, off_y + ar],
                 np.r_[np.ones(n), -np.ones(n)], -_INF, 0.0)  # fmt: skip
        # g_jf - sum_{t: f in F_t} x_jt <= 0
        ng = len(gj)
        pair_t = np.nonzero(tag_of[:, gf].T)  # (g row, type) pairs
        g_row, g_type = pair_t
        g_x = col_x[gj[g_row], g_type]
        keep = g_x >= 0
        rows.add(ng, np.r_[np.arange(ng), g_row[keep]], np.r_[off_g + np.arange(ng), g_x[keep]],
                 np.r_[np.ones(ng), -np.ones(int(keep.sum()))], -_INF, 0.0)  # fmt: skip
        # m_F k_j - sum_f g_jf <= 0 and m_C k_j - sum_{f core} g_jf <= 0
        core = np.isin(np.asarray(tags, dtype=object)[gf], list(rule.core_functions))
        rows.add(n, np.r_[ar, gj], np.r_[off_k + ar, off_g + np.arange(ng)],
                 np.r_[np.full(n, rule.min_functions), -np.ones(ng)], -_INF, 0.0)  # fmt: skip
        rows.add(n, np.r_[ar, gj[core]], np.r_[off_k + ar, off_g + np.flatnonzero(core)],
                 np.r_[np.full(n, rule.min_core_functions), -np.ones(int(core.sum()))],
                 -_INF, 0.0)  # fmt: skip
        if plan.complex_area == "used":
            rows.add(n, np.r_[ar, xj], np.r_[off_k + ar, np.arange(nx)],
                     np.r_[np.full(n, rule.min_floor_area_m2), -pr.area[xt]],
                     -_INF, 0.0)  # fmt: skip
    else:
        rows.add(n, xj, np.arange(nx), 1.0, -_INF, 1.0)  # one type per site
    a, row_lo, row_hi = rows.matrix(n_cols)

    cost = np.zeros(n_cols)
    cost[off_z : off_z + nz] = wz
    total_cost = float(pr.site_cost.sum() + x_cost.sum())  # no plan costs more
    eps_c = plan.cost_tie_break * w_min / max(total_cost, 1e-12)
    cost[off_y : off_y + n] = -eps_c * pr.site_cost
    scale = plan.complex_bonus * w_min / max(n * (t_n + 2), 1)
    cost[:nx] = -eps_c * x_cost - 2 * scale  # per facility
    cost[off_y : off_y + n] -= 4 * scale  # per site
    lower = np.zeros(n_cols)
    upper = np.ones(n_cols)
    integrality = np.zeros(n_cols, np.int64)
    integrality[: nx + n] = 1
    if composite:
        cost[off_k : off_k + n] = scale  # per complex
        integrality[off_k : off_k + n] = 1
        can = types_at >= 2
        if plan.complex_area == "site":
            can &= pr.floor_area >= rule.min_floor_area_m2
        upper[off_k : off_k + n] = can.astype(float)

    if reduce:
        group, drop = interchangeable(plan, pr, needs)
    else:
        group, drop = np.arange(n), np.zeros(n, bool)
    upper[off_y : off_y + n][drop] = 0.0
    upper[:nx][drop[xj]] = 0.0
    if composite:
        upper[off_k : off_k + n][drop] = 0.0

    # the root LP is highly degenerate for dual simplex (200 random sites: not solved in
    # 30 s; with the interior point method 2.7 s), and strong branching took 80% of the LP
    # iterations on Helsinki's budget cases: fewer observations before pseudo costs are
    # trusted (2, not 8) halves the time (docs/benchmarks.md, Composite plan)
    h = new_highs(random_seed=0, mip_lp_solver="ipm", mip_pscost_minreliable=2)
    if time_limit is not None:
        if not time_limit > 0:
            raise InputError(f"time_limit must be > 0 seconds, not {time_limit!r}")
        h.setOptionValue("time_limit", float(time_limit))
    if mip_gap is not None:
        if not 0 <= mip_gap < 1:
            raise InputError(f"mip_gap must be in [0, 1), not {mip_gap!r}")
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = row_lo
    lp.row_upper_ = row_hi
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = a.shape[0]
    lp.integrality_ = [highspy.HighsVarType(int(v)) for v in integrality]
    h.passModel(lp)
    start_plan = greedy_hosts(plan, pr)  # a feasible start: HiGHS always has a plan to return
    start_plan = _relabel(start_plan, group, drop)
    if not plan.min_share or _meets_shares(plan, pr, start_plan):
        sol = highspy.HighsSolution()
        sol.col_value = _columns(pr, start_plan, n_cols, xj, xt, off_y, off_z, zt, z_reach,
                                 composite and (off_k, off_g, gj, gf, tag_of))  # fmt: skip
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    ms = highspy.HighsModelStatus
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        raise _infeasible(plan, pr)
    out_status: Status
    if status == ms.kOptimal:
        out_status = "optimal"
    elif status == ms.kTimeLimit and has_solution:
        out_status = "time_limit"
    else:
        raise SolverError(
            f"HiGHS ended with status {h.modelStatusToString(status)!r} and no usable plan "
            f"({n} sites, {t_n} types, {nz} clients to cover); raise time_limit or use "
            "solver='heuristic'"
        )
    col = np.asarray(h.getSolution().col_value)
    hosts = np.zeros((n, t_n), bool)
    hosts[xj, xt] = col[:nx] > 0.5
    value = pr.coverage_value(hosts)
    claimed = float(col[off_z : off_z + nz] @ wz)
    _check_solution(value, claimed, plan)
    hosts = prune(plan, pr, hosts)  # no facility that covers nobody new (same coverage)
    dual = float(info.mip_dual_bound)
    # the tie-breaks take at most eps_c * total_cost + (4 + 2 T) s n from the coverage
    slack = eps_c * total_cost + scale * n * (4 + 2 * t_n)
    bound = dual + slack if np.isfinite(dual) else float(wz.sum())
    bound = max(min(bound, float(wz.sum())), value)
    gap = pr.gap(value, bound)
    if out_status == "time_limit":
        _warn_time_limit(gap)
    return plan._result(
        pr, hosts, objective=value, bound=bound, gap=gap, status=out_status,
        solver="highs", runtime_s=time.perf_counter() - start,
    )  # fmt: skip

r"""Exact and heuristic p-median on a dense cost matrix (private engine of ``PMedian``).

Minimise :math:`\sum_i w_i \min_{j \in S} c_{ij}` over sets :math:`S` of ``p`` new sites
(fixed sites are open on top). Works on plain numpy arrays; the siting package wraps it.

How :func:`solve_pmedian` proves optimality, in order:

1. **Reduction.** Weight-0 clients are dropped; ``inf`` costs become the penalty
   :func:`unreached_penalty`; fixed sites cap every client's cost at its nearest fixed site;
   clients whose capped row is constant become a constant; identical client rows are merged
   (weights summed); identical site columns keep one representative.
2. **Heuristic** (:func:`heuristic_pmedian`): greedy, then best-improvement swap
   (Whitaker's fast interchange with nearest / second-nearest bookkeeping, vectorised over
   all (in, out) pairs at once), plus random restarts when ``p`` is small.
3. **Lagrangian bound** (Beasley 1993): subgradient on the assignment constraints; a site
   whose Lagrangian bound with it forced open (closed) exceeds the incumbent is fixed closed
   (open) — only solutions better than the incumbent are searched for
   (:mod:`embedsite.siting._pmedian_lagrangian`).
4. **Up to** ``_BB_MAX_P`` (90) **sites left to choose after fixing: Lagrangian
   branch-and-bound** on the sites (:mod:`embedsite.siting._pmedian_bb`): the same bound
   and fixing at every node, warm started from the parent (a longer subgradient in the
   first levels), pseudo-cost branching, enumeration of nodes with few completions. There
   the LP bound is 0.1-0.5% below the optimum and HiGHS spends 0.1-1 s per node on the
   degenerate radius LP; a node here costs 1-2 ms.
5. **Otherwise, radius formulation in chain form** (Elloumi 2010; García, Labbé & Marín 2011): per
   client the distinct distances :math:`D^1 < D^2 < \dots`, :math:`z_{ik}` = "not served
   within :math:`D^k`", rows :math:`z_{ik} - z_{i,k-1} + \sum_{j: c_{ij} = D^k} y_j \ge 0`.
   Only levels below a per-client cap (the third-nearest open site of the incumbent, never
   beyond the level that holds ``n - p + 1`` sites) enter the model; its optimum is then a
   lower bound. If the answer serves a client beyond its cap, those caps are raised to the
   answer's distances and the model is solved again, until the bound meets the incumbent.
   Solved by HiGHS (highspy, its default thread count, warm started from the incumbent).

With integer weighted costs the search stops when ``objective - bound < 1`` (the optimum is
an integer), otherwise at a relative gap of ``1e-7`` or the ``mip_gap`` asked for.

References
----------
J.E. Beasley (1993), Lagrangean heuristics for location problems, EJOR 65, 383-399.
S. Elloumi (2010), A tighter formulation of the p-median problem, J. Comb. Optim. 19, 69-83.
S. García, M. Labbé, A. Marín (2011), Solving large p-median problems with a radius
formulation, INFORMS Journal on Computing 23(4), 546-556.
R. Whitaker (1983), A fast algorithm for the greedy interchange for large-scale clustering
and median location problems, INFOR 21, 95-108.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from embedsite.errors import InputError, SolverError
from embedsite.siting._highs import new_highs
from embedsite.siting._pmedian_bb import branch_and_bound
from embedsite.siting._pmedian_heuristic import (
    _greedy,
    _heuristic,
    _local_search,
    _nearest_two,
)
from embedsite.siting._pmedian_lagrangian import _Lagr as _Lagr  # re-exported for tests
from embedsite.siting._pmedian_lagrangian import _lagrangian

__all__ = ["PMedianSolution", "heuristic_pmedian", "solve_pmedian", "unreached_penalty"]

logger = logging.getLogger(__name__)

_MAX_WEIGHT_RATIO = 1e9  # cap of W / w_min in unreached_penalty
_REL_TOL = 1e-7  # relative optimality tolerance for non-integer costs
_INT_DELTA = 0.999  # with integer costs, any solution better than UB is <= UB - 1
_DEBUG_HIGHS = False
# small p: Lagrangian branch-and-bound on the sites (_pmedian_bb) instead of the radius MIP;
# compiled, it beat HiGHS on all 12 instances with 33-40 sites left to choose that were
# measured (grid p = 33: 2.0 -> 0.7 s, 7.3 -> 1.5 s wall; off-grid seeds alike) but not at
# 50 (one of three 5.6 s against 1.7 s) nor 67-90 (900, 90, 2: unproven at 30 s against
# 5.4 s); see docs/benchmarks.md. With pseudo-cost branching (a190c92) the B&B also
# wins at 50-90 (21 instances, limit 20 s): (800, 50, 2) 0.8 against 1.2 s, (900, 90, 2)
# 2.7 / 3.6 s, (900, 50, 900) 0.6 / 3.3 s, (800, 50, 3) 12.0 s against unproven; the
# losses are under 0.1 s on instances both settle in under 0.4 s: 90
_BB_MAX_P = 90
_BB_MIN_SIZE = 0  # compiled B&B: faster than the radius MIP at any size (pmed2-3)
_NO_RESTART_SIZE = 20_000  # clients x sites up to which the heuristic makes no restarts
_CAP_RANK = 3  # initial truncation: distance to the k-th nearest open site of the incumbent
# (3rd: (800, 33, 2) 20 -> 7 s CPU, one HiGHS solve instead of two, the other p >= 33 grid
# instances unchanged; small models (pmed2-3) stay at the 2nd, 15-25% faster there)
_CAP_RANK_SMALL = 2
# the incumbent comes from our own heuristic: HiGHS' primal heuristics (sub-MIPs) only cost
# time here, and restarts after root fixing rebuilt the cut loop for little gain (measured)
_HIGHS_EXTRA: dict[str, Any] = {
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_allow_restart": False,
    # no strong branching: pseudo-costs from the first branchings are enough here, and
    # strong branching on the degenerate radius LP cost more than it saved (n = 600-900:
    # 1.3-2x faster to the proof, measured)
    "mip_pscost_minreliable": 0,
}


@dataclass(frozen=True)
class PMedianSolution:
    """The answer of :func:`solve_pmedian` or :func:`heuristic_pmedian`.

    Attributes
    ----------
    selected
        Sorted int positions (columns of ``cost``) of the open sites: the ``p`` new ones and
        every fixed one.
    objective
        :math:`\\sum_i w_i \\min_{j\\,open} c_{ij}`, recomputed from ``selected``; an
        unreachable client (``inf`` to every open site) counts :func:`unreached_penalty`.
    bound
        A proven lower bound on the optimum (equal to ``objective`` when proven optimal with
        integer costs).
    status
        ``"optimal"``, ``"feasible"`` (stopped at the ``mip_gap`` asked for), ``"time_limit"``
        or ``"heuristic"``.
    runtime_s
        Wall time of the call.
    stats
        Diagnostics: ``heuristic_objective``, ``lagrangian_bound``, ``fixed_closed``,
        ``fixed_open``, ``levels`` (rows of each radius model), ``rounds``, ``nodes``,
        ``unreached_clients``, ``penalty``, ``clients`` / ``sites`` after reduction, ...
    """

    selected: np.ndarray
    objective: float
    bound: float
    status: str
    runtime_s: float
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative gap ``(objective - bound) / objective`` (0 when the objective is 0)."""
        if self.objective <= 0:
            return 0.0
        return max(0.0, (self.objective - self.bound) / self.objective)


def unreached_penalty(cost: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The finite cost that stands for ``inf`` (a client no open site reaches).

    ``M = (largest finite cost + 1) * W / w_min``, with ``W`` the total and ``w_min`` the
    smallest positive client weight (``W / w_min`` is the number of clients without
    weights): leaving one more client unreached, even the lightest, costs more than any
    finite assignment of all the others, so the solver first reaches as many clients as it
    can (by weight), then minimises distance. ``W / w_min`` is capped at ``1e9``.

    Examples
    --------
    >>> import numpy as np
    >>> unreached_penalty(np.array([[1.0, np.inf], [3.0, 2.0]]))
    8.0
    >>> unreached_penalty(np.array([[1.0, np.inf], [3.0, 2.0]]), np.array([1.0, 3.0]))
    16.0
    """
    c = np.asarray(cost, dtype=float)
    finite = c[np.isfinite(c)]
    top = float(finite.max()) if finite.size else 0.0
    if weights is None:
        return (top + 1.0) * max(1, c.shape[0])
    w = np.asarray(weights, dtype=float)
    pos = w[w > 0]
    if pos.size == 0:
        return top + 1.0
    with np.errstate(over="ignore"):
        ratio = float(pos.sum() / pos.min())
    # capped so the model stays well scaled: beyond a weight ratio of 1e9 the lightest
    # clients may be left unreached in favour of shorter walks for the heaviest
    return (top + 1.0) * min(ratio, _MAX_WEIGHT_RATIO)


# ---------------------------------------------------------------------------------------------
# validation and reduction
# ---------------------------------------------------------------------------------------------


@dataclass
class _Reduced:
    """The problem after reduction (internal)."""

    cost: np.ndarray  # penalised original matrix (clients x sites)
    weights: np.ndarray  # original weights
    fixed_idx: np.ndarray  # original positions of fixed sites
    new_idx: np.ndarray  # original positions of new (non-fixed) sites
    C: np.ndarray  # reduced clients x distinct useful new sites (capped at fixed)
    w: np.ndarray
    col: np.ndarray  # original position of each column of C
    offset: float  # constant part of the objective
    p: int  # new sites asked for
    integral: bool
    penalty: float


def _validate(
    cost: np.ndarray, p: int, weights: np.ndarray | None, fixed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2:
        raise InputError(f"cost must be a 2-D clients x sites array; got shape {c.shape}")
    if c.shape[1] == 0:
        raise InputError("cost has no site columns; give at least one candidate site")
    if np.isnan(c).any():
        r, s = np.argwhere(np.isnan(c))[0]
        raise InputError(f"cost holds NaN (first at client {r}, site {s}); use np.inf")
    if (c < 0).any():
        r, s = np.argwhere(c < 0)[0]
        raise InputError(f"cost must be >= 0; cost[{r}, {s}] = {c[r, s]}")
    if int(p) != p or p < 0:
        raise InputError(f"p must be a non-negative integer; got {p!r}")
    w = np.ones(c.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (c.shape[0],):
        raise InputError(f"weights must have one value per client ({c.shape[0]}); got {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))[:5]
        raise InputError(f"weights must be finite and >= 0; bad at {bad.tolist()}: {w[bad]}")
    f = np.zeros(c.shape[1], dtype=bool)
    if fixed is not None:
        fa = np.asarray(fixed)
        if fa.dtype == bool:
            if fa.shape != (c.shape[1],):
                raise InputError(f"a boolean fixed mask needs {c.shape[1]} values; got {fa.shape}")
            f = fa.copy()
        else:
            fa = fa.astype(np.int64).ravel()
            if fa.size and (fa.min() < 0 or fa.max() >= c.shape[1]):
                raise InputError(f"fixed site positions must lie in 0..{c.shape[1] - 1}: {fa}")
            f[fa] = True
    return c, w, f


def _group_equal(a: np.ndarray) -> np.ndarray:
    """Group id per row of ``a`` such that rows with one id are exactly equal (hash + verify)."""
    m = a.shape[0]
    if m <= 1:
        return np.zeros(m, dtype=np.int64)
    rng = np.random.default_rng(12345)
    h = a @ rng.random((a.shape[1], 2))
    order = np.lexsort((h[:, 1], h[:, 0]))
    same = np.all(a[order[1:]] == a[order[:-1]], axis=1)
    gid_sorted = np.concatenate([[0], np.cumsum(~same)])
    gid = np.empty(m, dtype=np.int64)
    gid[order] = gid_sorted
    return gid


def _is_integral(x: np.ndarray) -> bool:
    return bool(np.all(x == np.round(x)))


def _reduce(c: np.ndarray, w: np.ndarray, f: np.ndarray, p: int) -> _Reduced:
    penalty = unreached_penalty(c, w)
    cp = np.where(np.isinf(c), penalty, c)
    fixed_idx = np.flatnonzero(f)
    new_idx = np.flatnonzero(~f)
    keep = w > 0
    cw, ww = cp[keep], w[keep]
    integral = _is_integral(ww[:, None] * cw) if cw.size else True
    cn = cw[:, new_idx]
    if fixed_idx.size:
        cap = cw[:, fixed_idx].min(axis=1)
        cn = np.minimum(cn, cap[:, None])
    offset = 0.0
    if cn.shape[1]:
        lo, hi = cn.min(axis=1), cn.max(axis=1)
        const = lo == hi
        offset = float(ww[const] @ lo[const])
        cn, ww = cn[~const], ww[~const]
    elif cw.shape[0]:
        base = cw[:, fixed_idx].min(axis=1) if fixed_idx.size else np.full(len(ww), penalty)
        offset = float(ww @ base)
        cn, ww = cn[:0], ww[:0]
    col = new_idx
    if cn.shape[0] and cn.shape[1] > 1:
        gid = _group_equal(cn)
        first = np.unique(gid, return_index=True)[1]
        ww = np.bincount(gid, weights=ww)[gid[first]]
        cn = cn[first]
        sid = _group_equal(cn.T)
        firstc = np.sort(np.unique(sid, return_index=True)[1])
        cn, col = cn[:, firstc], new_idx[firstc]
    return _Reduced(cp, w, fixed_idx, new_idx, cn, ww, col, offset, int(p), integral, penalty)


def _objective(red: _Reduced, selected: np.ndarray) -> tuple[float, int]:
    """True objective and unreached count of ``selected`` on the original problem."""
    keep = red.weights > 0
    if selected.size == 0:
        return float(red.weights[keep].sum() * red.penalty), int(keep.sum())
    d = red.cost[keep][:, selected].min(axis=1)
    unreached = int((d >= red.penalty).sum())
    return float(red.weights[keep] @ d), unreached


def _finish(
    red: _Reduced, cols: np.ndarray, bound_red: float, status: str, t0: float, stats: dict
) -> PMedianSolution:
    """Map reduced columns back, pad to p new sites, recompute the objective, check bound."""
    chosen = red.col[np.asarray(cols, dtype=np.int64)]
    need = min(red.p, red.new_idx.size) - chosen.size
    if need > 0:
        spare = np.setdiff1d(red.new_idx, chosen)
        chosen = np.concatenate([chosen, spare[:need]])
    selected = np.sort(np.concatenate([red.fixed_idx, chosen]).astype(np.int64))
    obj, unreached = _objective(red, selected)
    bound = bound_red + red.offset
    tol = 1e-6 * max(1.0, abs(obj))
    if status == "optimal" and (red.integral or np.isnan(bound)):
        bound = obj
    if bound > obj + tol:
        raise SolverError(f"p-median bound {bound} exceeds the objective {obj}: please report")
    stats.update(unreached_clients=unreached, penalty=red.penalty, integral=red.integral)
    return PMedianSolution(selected, obj, min(bound, obj), status, time.perf_counter() - t0, stats)


def _delta(red: _Reduced, ub: float) -> float:
    """How far below ``ub`` a better plan must be: 1 with integer costs, else relative."""
    return _INT_DELTA if red.integral else _REL_TOL * max(abs(ub), 1e-9)


def _trivial(red: _Reduced) -> tuple[np.ndarray, float] | None:
    """Columns and reduced bound when there is nothing to choose, else None.

    Nothing to choose: ``p = 0`` (only the fixed sites), every client constant, or ``p`` at
    least the number of distinct useful sites (open them all).
    """
    C, w = red.C, red.w
    if red.p == 0:
        return np.zeros(0, dtype=np.int64), np.nan  # nan: the bound is the objective
    if C.shape[0] == 0:
        return np.arange(min(red.p, C.shape[1])), 0.0
    if red.p >= C.shape[1]:
        return np.arange(C.shape[1]), float(w @ C.min(axis=1))
    return None


def heuristic_pmedian(
    cost: np.ndarray,
    p: int,
    *,
    weights: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    seed: int = 0,
    restarts: int | None = None,
    lagrangian: bool = True,
) -> PMedianSolution:
    """Good p-median solution fast: greedy, fast-interchange swap, random restarts, then a
    Lagrangian bound and a swap search from the Lagrangian solution.

    Parameters
    ----------
    cost
        Dense ``(clients, sites)`` costs, ``>= 0``; ``np.inf`` = unreachable.
    p
        Number of NEW sites to open (fixed sites are open on top).
    weights
        Client weights ``>= 0`` (default 1); weight-0 clients are ignored.
    fixed
        Boolean mask or int positions of sites that are open already.
    seed
        Seed of the random restarts.
    restarts
        Random starts after the greedy one; default 8 for ``p <= 10``, 3 for ``p <= 30``,
        else 0 (fewer on very large matrices).
    lagrangian
        After the swap search, run the Lagrangian relaxation of the assignment constraints
        (compiled subgradient, for at most as long as the search took) and restart the swap
        search from the sites of its best solution (the Lagrangian heuristic: on 2000
        clients x 2000-5000 candidates it lowered the plan by 0.4-0.8% and gave a proven
        bound within 0.6% of it). ``False``: greedy + swap only, and the trivial bound.

    Returns
    -------
    PMedianSolution
        ``status="heuristic"``; ``bound`` is a proven lower bound on the optimum (the
        Lagrangian bound, or with ``lagrangian=False`` every client at its nearest site).

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0, 4, 9], [4, 0, 5], [9, 5, 0], [8, 4, 1.0]])
    >>> sol = heuristic_pmedian(cost, 1)
    >>> sol.selected.tolist(), sol.objective
    ([1], 13.0)
    """
    t0 = time.perf_counter()
    c, w, f = _validate(cost, p, weights, fixed)
    red = _reduce(c, w, f, int(p))
    stats: dict[str, Any] = {"clients": red.C.shape[0], "sites": red.C.shape[1]}
    triv = _trivial(red)
    if triv is not None:
        return _finish(red, triv[0], triv[1], "optimal", t0, stats)
    C, ww = red.C, red.w
    sel, obj, used = _heuristic(C, ww, red.p, seed, restarts)
    stats.update(heuristic_objective=obj + red.offset, restarts=used)
    bound = float(ww @ C.min(axis=1))
    if lagrangian:
        sel, obj, bound = _lagrangian_polish(C, ww, red, sel, obj, bound, t0, stats)
    return _finish(red, sel, bound, "heuristic", t0, stats)


def _lagrangian_polish(
    C: np.ndarray,
    ww: np.ndarray,
    red: _Reduced,
    sel: np.ndarray,
    obj: float,
    bound: float,
    t0: float,
    stats: dict[str, Any],
) -> tuple[np.ndarray, float, float]:
    """Lagrangian bound and Lagrangian heuristic after greedy + swap (reduced problem).

    The subgradient runs for at most as long as the greedy + swap took (and 1,000 steps),
    then the swap search restarts from the sites of the Lagrangian solution at the best
    multipliers and the better plan is kept. The bound ``min(L, obj)`` is valid: the
    subgradient's fixing makes ``L`` a bound on every plan better than ``obj``.
    """
    k = red.p
    t1 = time.perf_counter()
    delta = _delta(red, obj)
    lag = _lagrangian(
        C, ww, k, obj, delta, ww * _nearest_two(C, sel)[0],
        max_iter=1000, deadline=t1 + max(t1 - t0, 0.02),
    )  # fmt: skip
    bound = max(bound, min(lag.bound, obj))
    stats.update(lagrangian_bound=bound + red.offset, lagrangian_iterations=lag.iterations)
    if obj - bound > delta and lag.sites.size == k:
        sel2, obj2 = _local_search(C, ww, np.unique(lag.sites), math.inf)
        if sel2.size == k and obj2 < obj - 1e-9 * max(1.0, obj):
            sel, obj = sel2, obj2
            stats["lagrangian_heuristic"] = obj + red.offset
    stats["time_lagrangian_s"] = time.perf_counter() - t1
    return sel, obj, bound


# ---------------------------------------------------------------------------------------------
# radius formulation (chain form), truncated, solved by HiGHS
# ---------------------------------------------------------------------------------------------


def _radius_model(
    C: np.ndarray, w: np.ndarray, cap: np.ndarray, p: int
) -> tuple[Any, np.ndarray, np.ndarray, float]:
    """HighsLp of the chain radius model truncated at ``cap`` (cost of client = min(d, cap)).

    Columns: ``y_0..y_{n-1}`` then one ``z`` per (client, distinct distance below its cap).
    Returns the model, the client and the level value of every ``z``, and the offset.
    """
    import highspy

    n = C.shape[1]
    ii, jj = np.nonzero(cap[:, None] > C)
    cc = C[ii, jj]
    order = np.lexsort((cc, ii))
    ii, jj, cc = ii[order], jj[order], cc[order]
    offset = float(w @ np.minimum(C.min(axis=1), cap))
    k = ii.size
    new = np.ones(k, dtype=bool)
    if k:
        new[1:] = (ii[1:] != ii[:-1]) | (cc[1:] != cc[:-1])
    lev = np.cumsum(new) - 1
    zc, zv = ii[new], cc[new]
    nz = zc.size
    first = np.ones(nz, dtype=bool)
    last = np.ones(nz, dtype=bool)
    if nz:
        first[1:] = zc[1:] != zc[:-1]
        last[:-1] = zc[1:] != zc[:-1]
    nxt = np.empty(nz)
    nxt[:-1] = zv[1:]
    nxt[last] = cap[zc[last]]
    zcost = w[zc] * (nxt - zv)
    zi = np.arange(nz)
    rows = np.concatenate([zi, zi[~first], lev, np.full(n, nz)])
    cols = np.concatenate([n + zi, n + zi[~first] - 1, jj, np.arange(n)])
    vals = np.concatenate([np.ones(nz), -np.ones((~first).sum()), np.ones(k), np.ones(n)])
    a = sparse.csr_array((vals, (rows, cols)), shape=(nz + 1, n + nz))
    lp = highspy.HighsLp()
    lp.num_col_ = n + nz
    lp.num_row_ = nz + 1
    lp.col_cost_ = np.concatenate([np.zeros(n), zcost])
    lp.col_lower_ = np.zeros(n + nz)
    # z <= 1 is implied; leaving it out halves the dual simplex iterations (measured)
    lp.col_upper_ = np.concatenate([np.ones(n), np.full(nz, np.inf)])
    lp.row_lower_ = np.concatenate([first.astype(float), [p]])
    lp.row_upper_ = np.concatenate([np.full(nz, np.inf), [p]])
    lp.offset_ = offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n + [highspy.HighsVarType.kContinuous] * nz
    return lp, zc, zv, offset


def _solve_radius(
    C: np.ndarray,
    w: np.ndarray,
    cap: np.ndarray,
    p: int,
    start: np.ndarray,
    *,
    abs_gap: float,
    rel_gap: float,
    time_left: float,
    seed: int,
) -> tuple[np.ndarray | None, float, int, int, bool]:
    """Solve one truncated model. Returns (open columns or None, dual bound, rows, nodes, done)."""
    import highspy

    lp, zc, zv, _ = _radius_model(C, w, cap, p)
    h = new_highs(output_flag=_DEBUG_HIGHS)
    for key, value in _HIGHS_EXTRA.items():
        h.setOptionValue(key, value)
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("mip_abs_gap", float(abs_gap))
    h.setOptionValue("time_limit", float(max(time_left, 0.01)))
    h.passModel(lp)
    d = C[:, start].min(axis=1)
    y0 = np.zeros(C.shape[1])
    y0[start] = 1.0
    sol = highspy.HighsSolution()
    sol.col_value = np.concatenate([y0, (d[zc] > zv).astype(float)])
    h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    nodes = int(info.mip_node_count)
    if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        raise SolverError(f"HiGHS stopped the radius model with status {status}")
    bound = float(info.mip_dual_bound)
    y = np.asarray(h.getSolution().col_value)[: C.shape[1]]
    cols = np.flatnonzero(y > 0.5) if info.primal_solution_status == 2 else None
    if cols is not None and cols.size != p:
        cols = None
    return cols, bound, lp.num_row_, nodes, status == highspy.HighsModelStatus.kOptimal


# ---------------------------------------------------------------------------------------------
# the exact driver
# ---------------------------------------------------------------------------------------------


def _kth_open(C: np.ndarray, cols: np.ndarray, k: int) -> np.ndarray:
    """Distance of every client to its k-th nearest site among ``cols`` (1-based k)."""
    cs = C[:, cols]
    k = min(k, cs.shape[1])
    return np.partition(cs, k - 1, axis=1)[:, k - 1]


def solve_pmedian(
    cost: np.ndarray,
    p: int,
    *,
    weights: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    seed: int = 0,
) -> PMedianSolution:
    """Solve a p-median to proven optimality (heuristic, Lagrangian fixing, radius MIP).

    Parameters
    ----------
    cost
        Dense ``(clients, sites)`` costs, ``>= 0``; ``np.inf`` = unreachable (charged
        :func:`unreached_penalty`, counted in ``stats["unreached_clients"]``).
    p
        Number of NEW sites to open; fixed sites are open on top. ``p`` at least the number
        of new sites opens them all.
    weights
        Client weights ``>= 0`` (default 1); weight-0 clients are dropped.
    fixed
        Boolean mask or int positions of sites open already.
    time_limit
        Seconds for the whole call; on expiry the best solution found is returned with
        ``status="time_limit"`` and its proven bound.
    mip_gap
        Relative gap at which to stop (``status="feasible"`` if it is above the default
        tolerance). Default: proven optimum (integer costs: ``objective - bound < 1``;
        otherwise relative ``1e-7``).
    seed
        Seed of the heuristic's random restarts and of HiGHS.

    Returns
    -------
    PMedianSolution

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[0, 4, 9], [4, 0, 5], [9, 5, 0], [8, 4, 1.0]])
    >>> sol = solve_pmedian(cost, 2)
    >>> sol.selected.tolist(), sol.objective, sol.status
    ([1, 2], 5.0, 'optimal')
    >>> solve_pmedian(cost, 1, fixed=[0]).selected.tolist()
    [0, 2]
    """
    t0 = time.perf_counter()
    deadline = t0 + (float(time_limit) if time_limit is not None else math.inf)
    c, w, f = _validate(cost, p, weights, fixed)
    if mip_gap is not None and not 0 <= mip_gap < 1:
        raise InputError(f"mip_gap must lie in [0, 1); got {mip_gap}")
    red = _reduce(c, w, f, int(p))
    stats: dict[str, Any] = {"clients": red.C.shape[0], "sites": red.C.shape[1]}
    triv = _trivial(red)
    if triv is not None:
        return _finish(red, triv[0], triv[1], "optimal", t0, stats)
    C, ww, k = red.C, red.w, red.p
    # small matrices: no random restarts, the exact stages find anything better faster
    restarts = 0 if C.size <= _NO_RESTART_SIZE else None
    sel, ub, _ = _heuristic(C, ww, k, seed, restarts, t0 + 0.3 * (deadline - t0))
    best = sel
    t1 = time.perf_counter()
    stats.update(heuristic_objective=ub + red.offset, time_heuristic_s=t1 - t0)
    lb = float(ww @ C.min(axis=1))

    def tolerance(ub: float) -> tuple[float, float]:
        """(delta: prove ub - lb <= delta, default delta)."""
        base = _delta(red, ub)
        return (base if mip_gap is None else max(base, mip_gap * abs(ub))), base

    delta, _ = tolerance(ub)
    # the same tolerance as (absolute, relative) for the compiled branch-and-bound
    gap = 0.0 if mip_gap is None else float(mip_gap)
    bb_tol = (_INT_DELTA, gap) if red.integral else (1e-16, max(_REL_TOL, gap))
    d1 = _nearest_two(C, sel)[0]
    lag = _lagrangian(
        C,
        ww,
        k,
        ub,
        delta,
        ww * d1,
        max_iter=400 if C.size > 50_000 else 120,  # small: HiGHS proves faster
        deadline=min(deadline, t1 + 0.3 * (deadline - t1)),
    )
    lb = max(lb, lag.bound)
    if ub - lb > delta and lag.sites.size == k:
        # Lagrangian heuristic: swap search from the Lagrangian solution; a better incumbent
        # means a second, short pass fixes more sites (earlier fixings stay valid)
        sel2, ub2 = _local_search(C, ww, np.unique(lag.sites), t1 + 0.5 * (deadline - t1))
        if sel2.size == k and ub2 < ub - 1e-9 * max(1.0, ub):
            sel, ub, best = sel2, ub2, sel2
            delta, _ = tolerance(ub)
            lag2 = _lagrangian(
                C,
                ww,
                k,
                ub,
                delta,
                lag.lam,
                max_iter=150,
                deadline=min(deadline, t1 + 0.4 * (deadline - t1)),
            )
            lag.closed |= lag2.closed
            lag.opened = (lag.opened | lag2.opened) & ~lag.closed
            lb = max(lb, lag2.bound)
            stats["lagrangian_heuristic"] = ub + red.offset
    t2 = time.perf_counter()
    stats.update(
        lagrangian_bound=lag.bound + red.offset,
        lagrangian_iterations=lag.iterations,
        fixed_closed=int(lag.closed.sum()),
        fixed_open=int(lag.opened.sum()),
        time_lagrangian_s=t2 - t1,
        levels=[],
        nodes=0,
        rounds=0,
    )
    status = "time_limit"
    if ub - lb <= delta * (1 + 1e-6):
        status = "optimal"
    else:
        alive = np.flatnonzero(~lag.closed & ~lag.opened)
        forced = np.flatnonzero(lag.opened)
        ks = k - forced.size
        Cs = C[:, alive]
        if forced.size:
            Cs = np.minimum(Cs, C[:, forced].min(axis=1)[:, None])
        if ks <= 0 or alive.size <= ks:
            # at most one candidate set is left for a better solution (none if too few sites)
            cols = np.concatenate([forced, alive])[:k]
            if cols.size == k:
                val = float(ww @ C[:, cols].min(axis=1))
                if val < ub:
                    ub, best = val, cols
            lb = max(lb, ub - delta)
            status = "optimal"
        else:
            pos = np.full(C.shape[1], -1)
            pos[alive] = np.arange(alive.size)
            if np.isin(forced, sel).all() and (pos[sel] >= 0).sum() == ks:
                start = pos[sel][pos[sel] >= 0]
            else:
                start, _ = _local_search(Cs, ww, _greedy(Cs, ww, ks), deadline)
            never = np.partition(Cs, Cs.shape[1] - ks, axis=1)[:, Cs.shape[1] - ks]
            rank = _CAP_RANK if Cs.size >= _BB_MIN_SIZE else _CAP_RANK_SMALL
            cap = np.minimum(_kth_open(Cs, start, rank), never)
            if ks <= _BB_MAX_P and Cs.size >= _BB_MIN_SIZE:
                bb = branch_and_bound(Cs, ww, ks, start, lag.lam, bb_tol, deadline)
                stats.update(bb.stats)
                if bb.value < ub:
                    ub, best = bb.value, np.concatenate([forced, alive[bb.sites]])
                if bb.proven:
                    lb = max(lb, ub - tolerance(ub)[0])
                    status = "optimal"
                else:  # deadline: the least bound of the subtrees left open
                    lb = max(lb, min(bb.bound, ub))
            while status != "optimal":
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                delta, base = tolerance(ub)
                got, lbt, rows, nodes, ok = _solve_radius(
                    Cs,
                    ww,
                    cap,
                    ks,
                    start,
                    abs_gap=_INT_DELTA if red.integral else 0.0,
                    rel_gap=mip_gap
                    if mip_gap is not None
                    else (0.0 if red.integral else _REL_TOL / 2),
                    time_left=left,
                    seed=seed,
                )
                stats["levels"].append(rows)
                stats["nodes"] += nodes
                stats["rounds"] += 1
                lb = max(lb, min(lbt, ub - delta))
                if got is None:
                    break
                cols = got
                d = Cs[:, cols].min(axis=1)
                val = float(ww @ d)
                if val < ub:
                    ub, best, start = val, np.concatenate([forced, alive[cols]]), cols
                    delta, base = tolerance(ub)
                over = d > cap
                if ub - lb <= delta * (1 + 1e-6) or (ok and not over.any()):
                    # the truncated model was solved within HiGHS' gap and its answer is
                    # served within the caps: its true cost is within that gap of the bound
                    status = "optimal" if ub - lb <= base * (1 + 1e-6) + 1e-12 else "feasible"
                    if ok and not over.any() and mip_gap is None:
                        status = "optimal"
                    break
                if not ok:
                    break
                cap[over] = np.minimum(np.maximum(d[over], cap[over]), never[over])
    stats["time_mip_s"] = time.perf_counter() - t2
    return _finish(red, np.sort(best), lb, status, t0, stats)

r"""Lagrangian branch-and-bound on the facility variables of a p-median (private).

Private helper of :mod:`embedsite.siting._pmedian_exact`, after Beasley (1993): every node
fixes some sites open (``O``) and some closed; its bound is the Lagrangian relaxation of the
assignment constraints on the node's problem (clients capped at their nearest site in ``O``,
``k = p - |O|`` sites still to choose among the free ones), improved by a short subgradient
run warm started from the parent's multipliers, with the reduced-cost tests of the root
(a free site whose forced opening / closing lifts the bound above the incumbent is closed /
opened in the whole subtree). A node whose bound reaches ``ub - delta`` holds no better
solution and is pruned; a node with few completions (``C(free, k)`` times its clients
below ``_ENUM_WORK``) is enumerated exactly; otherwise it branches on a free site, open
first, depth first. Which site: by **pseudo-costs** (the bound each earlier branching on a
site gained, per unit of its estimated LP value moved, averaged per site and direction;
a site seen fewer than ``_RELIABLE`` times takes the mean of all sites), the best weighted
score of the two children's estimated gains (mu = 1/6); before any branching has been seen, the most
fractional site (the share of subgradient steps whose Lagrangian solution held it, an
estimate of its LP value, closest to 1/2; 2-5x fewer nodes than the site of the Lagrangian
solution with the most negative reduced cost, measured). The incumbent is
usually optimal already, so every node must be bounded anyway, and depth first keeps the
tree small in memory.

Strong branching near the root (both children of a few candidate sites bounded by a short
subgradient) and reliability branching are implemented but off by default: measured on
the OR-Library family they made the trees larger as often as smaller (``_STRONG_DEPTH``).

How long a node's subgradient runs depends on its depth: the first ``_SHALLOW`` levels get
up to ``_SHALLOW_ITERS`` steps and no early stop, deeper nodes at most ``_ITERS`` steps and
stop as soon as their bound stops closing the gap. Measured on the hard instances of the
OR-Library family (n 800-900, p 10-33), most nodes are lost to a weakly optimised node
bound, not to the LP gap: the same tree with 1,000 steps at every node needs 594 nodes on
(900, 33, 3) against 2,407 with 60 steps and the early stop, while the root Lagrangian is
within 2.5 of the LP bound (6,820.9 against 6,823.4, optimum 6,837). A pruned shallow node
removes a large subtree, so the long runs pay there; deeper, they cost more than they save.

The steps aim above the incumbent (``_AIM``): a Polyak step towards the pruning target
itself shrinks to nothing as the bound approaches it, and most nodes of these trees have a
bound just below it. Measured on the 8 slowest known instances of the family, aiming 0.1%
of the incumbent higher took the trees from 66,332 nodes (2 unproven at 30 s) to 16,819.
The trees are chaotic, though: started from the optimum instead of a plan 3 above it,
(800, 50, 3) needed more than 33,892 nodes instead of 7,486 without the aim (measured).

Why: on small ``p`` at large ``n`` the LP bound (which the Lagrangian reaches) is about 1%
below the optimum, so branching is unavoidable; one node here costs a few milliseconds of
vectorised numpy on the sites the root left, where one node of HiGHS on the radius model
re-solves a highly degenerate LP with thousands of rows.

References
----------
J.E. Beasley (1993), Lagrangean heuristics for location problems, EJOR 65, 383-399.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from embedsite.siting import _pmedian_kernel as _k
from embedsite.siting import _pmedian_tree_kernel as _tk

__all__: list[str] = []

# subgradient per node (measured on (600-900, 5-20) instances of the OR-Library family):
# up to 60 steps from the parent's multipliers, Polyak steps towards the incumbent with
# factor 2 halved after 5 steps without a better bound (200 steps / 10: 15% fewer nodes but
# 1.5-2x the CPU time on (900, 10), (800, 20), (900, 20))
_ITERS = 60
_BETA = 2.0
_STALL = 5
# stop a node when its last 20 steps closed less than 40% of the gap left and branch
# (15 steps / 10%: 1.35x the CPU on (900, 20), (800, 20), (900, 10), (600, 10), (800, 10))
_WINDOW = 20
_PROGRESS = 0.4
# the first _SHALLOW levels of the tree (a pruned node there removes a large subtree): up to
# _SHALLOW_ITERS steps, beta halved after _SHALLOW_STALL stalled steps, no early stop. On
# 7 instances (n 800-900, p 10-33) 200 steps at depth < 4 took the sum of the proof times
# from 20.1 to 12.9 s and the slowest from 8.8 to 2.5 s ((900, 33, 4): 5,432 -> 1,184
# nodes); depth < 3, < 5, < 8, < 12 and 400 steps / stall 15 were 16-21 s (measured)
_SHALLOW = 4
_SHALLOW_ITERS = 200
_SHALLOW_STALL = 10
# branching: 0 most fractional, 1 pseudo-costs (most fractional until some are seen). On 9
# instances (n 600-900, p 10-33) pseudo-costs (product score) with reliability 4 took the
# nodes from 9,237 to 6,170 and the sum of proof times from 16.0 to 12.6 s; reliability 1:
# 7,218 nodes, 14.3 s; the weighted score: 6,127 nodes, and (800, 33, 3) 19,937 nodes / 52 s
# (most fractional) -> 5,567 / 9.9 s (product) -> 3,297 / 6.2 s (weighted); gains not
# divided by the LP value moved: 40,837 nodes in all, far worse (measured)
_RULE = 1
_RELIABLE = 4.0
# strong branching (_pmedian_tree_kernel._strong_site) at the nodes of depth < _STRONG_DEPTH:
# the _STRONG_CANDS free sites of best pseudo-cost score, both children bounded by
# _STRONG_ITERS subgradient steps from the node's multipliers, the max-min (weighted) gain
# chosen; a pruned child fixes its site the other way. _RULE = 2 also strong-branches, at
# any depth, the candidates whose pseudo-costs are not yet reliable (reliability
# branching). OFF by default: no setting tried made the tree smaller overall. On the
# pmed6-40 family + hard list (91 instances) depth < 1 / 16 candidates / 60 steps took the
# summed proof time from 49.1 to 62.5 s ((700, 5, 1) 106 -> 793 nodes) and (800, 50, 3)
# 10.4 -> 10.1 s; on the 5 misses of the seed scan it proved (800, 20, 6) in 7.2 s (base
# unproven at 20 s) but (800, 50, 3) went unproven at 20 s with most other settings (depth
# < 3, 30 or 100 steps, reliability branching, seeding off), measured
_STRONG_DEPTH = 0
_STRONG_CANDS = 8
_STRONG_ITERS = 30
_STRONG_PC = 1  # 1: the strong children's gains enter the pseudo-costs
# Polyak steps of the tree aim _AIM * ub above the node's pruning target: the step
# beta (target + aim - L) / |g|^2 no longer vanishes as the bound nears the target, so the
# many nodes just below it get pruned instead of stalling there. Replaying the B&B of
# (800, 33, 3), (900, 90, 2), (800, 20, 2), (800, 50, 3) and the seed scan's 4 misses:
# 0 (aim at the target): 66,332 nodes, 2 unproven at 30 s; 0.00075: 20,158; 0.001:
# 16,819, all 8 proven within 12 s; 0.0015: 21,396; 0.002: 24,578; 0.004: 26,809 (measured)
_AIM = 0.001
_ENUM_WORK = 2e4  # clients x subsets below which a node's completions are all tried


@dataclass
class BBResult:
    """Outcome of :func:`branch_and_bound` (internal)."""

    sites: np.ndarray  # best solution found (columns of C), sorted
    value: float  # its cost
    proven: bool  # True: no solution better than ``value - delta`` exists
    bound: float  # proven lower bound (``value - delta`` when proven)
    nodes: int
    stats: dict[str, float] = field(default_factory=dict)


def _sorted_rows(C: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per client its columns by increasing cost, the weighted costs in that order, and the
    weighted costs transposed (sites x clients).

    The columns are int32 and the costs float32 when every weighted cost is exactly a
    float32 (integer costs below 2**24, as on the OR-Library family): the kernels read the
    same values at half the memory traffic (they promote them to float64 before any
    arithmetic, so results are unchanged). Otherwise the costs stay float64.
    """
    wc = w[:, None] * C
    order = np.argsort(C, axis=1, kind="stable").astype(np.int32)
    wcs = np.take_along_axis(wc, order, axis=1)
    dtype = np.float32 if _exact_float32(wc) else np.float64
    return (
        np.ascontiguousarray(order),
        np.ascontiguousarray(wcs, dtype=dtype),
        np.ascontiguousarray(wc.T, dtype=dtype),
    )


def _exact_float32(a: np.ndarray) -> bool:
    """Whether every entry of ``a`` is a float32 exactly (finite, no rounding)."""
    with np.errstate(over="ignore"):
        b = a.astype(np.float32)
    return bool(np.all(np.isfinite(b)) and np.array_equal(b.astype(np.float64), a))


def _node_bound(
    wc: np.ndarray,
    k: int,
    target: float,
    lam: np.ndarray,
    iters: int,
    beta: float,
    cap: np.ndarray | None = None,
    aim: float = 0.0,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One node's subgradient (:func:`_pmedian_kernel.node_subgradient`) on dense ``wc``.

    ``wc`` are the weighted costs (clients x free sites), every client taking part; ``cap``
    (default ``inf``) bounds the multipliers; the steps aim ``aim`` above ``target``.
    Returns the best bound, the closed and opened masks (valid for solutions below
    ``target``), the best multipliers, the Lagrangian sites there and the share of steps
    each site was in the Lagrangian solution. For tests and diagnostics: the tree calls the
    kernel directly.
    """
    wc = np.ascontiguousarray(wc, dtype=np.float64)
    m, n = wc.shape
    order, wcs, wct = _sorted_rows(wc, np.ones(m))
    mv = np.arange(m, dtype=np.int64)
    lam = np.array(lam, dtype=np.float64)
    capv = np.full(m, np.inf) if cap is None else np.asarray(cap, dtype=np.float64)
    lam = np.minimum(lam, capv)
    live = np.ones(n, dtype=bool)
    dead = np.zeros(n, dtype=bool)
    opened = np.zeros(n, dtype=bool)
    best_lam = lam.copy()
    best_s = np.zeros(k, dtype=np.int64)
    freq = np.zeros(n)
    steps = np.zeros(1, dtype=np.int64)
    low = _k.node_subgradient(
        order, wcs, wct, mv, m, lam, capv, live, k, float(target), float(aim), int(iters),
        float(beta),
        _STALL, _WINDOW, _PROGRESS, dead, opened, best_lam, best_s, freq, steps,
    )  # fmt: skip
    return float(low), dead, opened, best_lam, best_s, freq


def _enumerate(C: np.ndarray, w: np.ndarray, base: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Best ``k`` columns of ``C`` (all subsets tried) for clients already at ``base``."""
    C = np.ascontiguousarray(C, dtype=np.float64)
    m, n = C.shape
    pick = np.zeros(k, dtype=np.int64)
    val = _k.enumerate_best(
        C, np.asarray(w, dtype=np.float64), np.arange(m, dtype=np.int64), m,
        np.asarray(base, dtype=np.float64), np.arange(n, dtype=np.int64), n, k, pick,
    )  # fmt: skip
    return pick, float(val)


def branch_and_bound(
    C: np.ndarray,
    w: np.ndarray,
    p: int,
    start: np.ndarray,
    lam0: np.ndarray,
    tol: tuple[float, float],
    deadline: float,
) -> BBResult:
    """Prove (or improve) the incumbent ``start`` of the p-median ``C, w, p`` by Lagrangian B&B.

    ``tol = (absolute, relative)``: a solution better than ``ub`` costs at most ``ub -
    delta``, ``delta = max(absolute, relative * |ub|)``; ``lam0`` warm starts the root (the
    root Lagrangian's multipliers). The tree runs in :func:`_pmedian_tree_kernel.bb_run`, in
    batches of nodes sized to about 20 ms so the ``deadline`` (a ``perf_counter`` time) is
    checked between them.
    """
    t0 = time.perf_counter()
    C = np.ascontiguousarray(C, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    m, n = C.shape
    best = np.sort(np.asarray(start, dtype=np.int64))
    ub = float(w @ C[:, best].min(axis=1))
    fvec = np.array([ub, float(tol[0]), float(tol[1])])
    order, wcs, wct = _sorted_rows(C, w)
    depth = n + 4  # depth first: one waiting sibling per level, levels fix >= 1 site each
    st_state = np.zeros((depth, n), dtype=np.int8)
    st_lam = np.empty((depth, m))
    st_lam[0] = lam0
    st_bound = np.full(depth, -np.inf)
    st_depth = np.zeros(depth, dtype=np.int64)
    st_branch = np.full(depth, -1, dtype=np.int64)  # 2 * site + (1: opened, 0: closed)
    st_frac = np.zeros(depth)
    pc = np.zeros((4, n))  # pseudo-costs: down sum, down count, up sum, up count
    ivec = np.array([1, 0, 0, 0, 0], dtype=np.int64)
    params = np.array(
        [_ITERS, _BETA, _STALL, _WINDOW, _PROGRESS, _ENUM_WORK, _SHALLOW, _SHALLOW_ITERS,
         _SHALLOW_STALL, _RULE, _RELIABLE, _STRONG_DEPTH, _STRONG_CANDS, _STRONG_ITERS,
         _STRONG_PC, _AIM],
        dtype=np.float64,
    )  # fmt: skip
    batch = 4
    proven = True
    while ivec[0] > 0:  # the first batch always runs: a deadline leaves a finite bound
        tb = time.perf_counter()
        done = int(ivec[1])
        _tk.bb_run(
            C, w, order, wcs, wct, p, st_state, st_lam, st_bound, st_depth, st_branch, st_frac, pc,
            best, fvec, ivec,
            params, batch,
        )  # fmt: skip
        now = time.perf_counter()
        if ivec[0] > 0 and now > deadline:
            proven = False
            break
        per = (now - tb) / max(1, int(ivec[1]) - done)
        batch = int(min(max(1.0, 0.02 / max(per, 1e-6)), 1e6))
    ub = float(fvec[0])
    delta = max(fvec[1], fvec[2] * abs(ub))
    # on a deadline: every better solution lies in an unexplored subtree, each at least its
    # parent's bound
    bound = ub - delta
    if not proven:
        bound = min(bound, float(st_bound[: ivec[0]].min()))
    nodes = int(ivec[1])
    stats = {
        "bb_nodes": nodes,
        "bb_enumerated": int(ivec[2]),
        "bb_steps": int(ivec[3]),
        "bb_strong": int(ivec[4]),
        "bb_s": time.perf_counter() - t0,
    }
    return BBResult(best, ub, proven, bound, nodes, stats)

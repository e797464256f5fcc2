r"""Compiled kernel of the p-median branch-and-bound tree, with strong branching (private).

Private to :mod:`embedsite.siting._pmedian_bb` (numba through :func:`embedsite._jit.kernel`).
The node bound is :func:`embedsite.siting._pmedian_kernel.node_subgradient` (Beasley 1993);
this module holds the depth-first tree around it (:func:`bb_run`), the incumbent updates,
pseudo-cost branching and strong branching near the root. Split from ``_pmedian_kernel``
to keep each module under 800 lines.
"""

from __future__ import annotations

import numpy as np

from embedsite._jit import kernel
from embedsite.siting._pmedian_kernel import enumerate_best, node_subgradient

__all__: list[str] = []


@kernel
def _value(C: np.ndarray, w: np.ndarray, cols: np.ndarray, ncols: int) -> float:
    """``sum_i w_i min_{j in cols[:ncols]} C_ij``."""
    total = 0.0
    for i in range(C.shape[0]):
        d = np.inf
        for s in range(ncols):
            d = min(d, C[i, cols[s]])
        total += w[i] * d
    return total


@kernel
def _delta(ub: float, tol_abs: float, tol_rel: float) -> float:
    return max(tol_abs, tol_rel * abs(ub))


@kernel
def _push(
    st_state: np.ndarray,
    st_lam: np.ndarray,
    st_bound: np.ndarray,
    top: int,
    state: np.ndarray,
    lam: np.ndarray,
    bound: float,
) -> int:
    if top >= st_state.shape[0]:
        raise RuntimeError("p-median branch-and-bound stack overflow")
    st_state[top, :] = state
    st_lam[top, :] = lam
    st_bound[top] = bound
    return top + 1


@kernel
def _take(
    C: np.ndarray,
    w: np.ndarray,
    cols: np.ndarray,
    ncols: int,
    best: np.ndarray,
    fvec: np.ndarray,
) -> bool:
    """Make ``cols[:ncols]`` (``p`` sites) the incumbent if it beats ``ub - delta``."""
    val = _value(C, w, cols, ncols)
    if val < fvec[0] - _delta(fvec[0], fvec[1], fvec[2]):
        fvec[0] = val
        best[:] = np.sort(cols[:ncols])
        return True
    return False


@kernel
def _node_start(
    mv: np.ndarray,
    nmv: int,
    w: np.ndarray,
    base: np.ndarray,
    lam_node: np.ndarray,
    cur: np.ndarray,
    cap: np.ndarray,
    lam: np.ndarray,
    live: np.ndarray,
    dead: np.ndarray,
    opnd: np.ndarray,
    freq: np.ndarray,
) -> None:
    """A node's starting state: each moving client's cap and multiplier (the parent's, held
    below the cap), the free sites live, no site fixed or opened by the node yet."""
    for q in range(nmv):
        i = mv[q]
        cap[q] = w[i] * base[i]
        lam[q] = min(lam_node[i], cap[q])
    for j in range(len(live)):
        live[j] = cur[j] == 0
        dead[j] = False
        opnd[j] = False
        freq[j] = 0.0


@kernel
def _pc_means(pc: np.ndarray) -> tuple[bool, float, float]:
    """Whether pseudo-costs were seen in both directions, and the mean down / up gain."""
    sd = 0.0
    nd = 0.0
    su = 0.0
    nu = 0.0
    for j in range(pc.shape[1]):
        sd += pc[0, j]
        nd += pc[1, j]
        su += pc[2, j]
        nu += pc[3, j]
    seen = nd > 0.0 and nu > 0.0
    return seen, (sd / nd if nd > 0.0 else 0.0), (su / nu if nu > 0.0 else 0.0)


@kernel
def _pc_score(pc: np.ndarray, j: int, f: float, md: float, mu: float, reliable: float) -> float:
    """Site ``j``'s weighted pseudo-cost score (:func:`_pseudo_cost_site`)."""
    d = pc[0, j] / pc[1, j] if pc[1, j] >= reliable else md
    u = pc[2, j] / pc[3, j] if pc[3, j] >= reliable else mu
    a = d * f
    b = u * (1.0 - f)
    return (5.0 * min(a, b) + max(a, b)) / 6.0


@kernel
def _pseudo_cost_site(
    pc: np.ndarray,
    free: np.ndarray,
    nfree: int,
    cur: np.ndarray,
    freq: np.ndarray,
    reliable: float,
) -> int:
    """The free site with the best pseudo-cost product score, or -1 if none is reliable.

    ``pc`` rows: summed down gains, down count, summed up gains, up count (per unit of the
    estimated LP value moved). A direction seen fewer than ``reliable`` times takes the mean
    of all sites in that direction. Estimated gains ``a = down * f``, ``b = up * (1 - f)``
    (``f`` the site's share of Lagrangian solutions); score ``(5 min(a, b) + max(a, b)) / 6``
    (the weighted score of Linderoth & Savelsbergh 1999, mu = 1/6; the product
    ``max(a, eps) * max(b, eps)`` took (800, 33, 3) 5,567 nodes against 3,297, measured).
    """
    seen, md, mu = _pc_means(pc)
    if not seen:
        return -1
    jb = -1
    top = -1.0
    for s in range(nfree):
        j = free[s]
        if cur[j] != 0:
            continue
        score = _pc_score(pc, j, freq[j], md, mu, reliable)
        if score > top:
            top = score
            jb = j
    return jb


@kernel
def _split(cur: np.ndarray, cols: np.ndarray, free: np.ndarray) -> tuple[int, int]:
    """Open sites of the node state ``cur`` into ``cols``, free ones into ``free``; counts."""
    nopen = 0
    nfree = 0
    for j in range(cur.shape[0]):
        if cur[j] == 2:
            cols[nopen] = j
            nopen += 1
        elif cur[j] == 0:
            free[nfree] = j
            nfree += 1
    return nopen, nfree


@kernel
def _moving(
    C: np.ndarray,
    w: np.ndarray,
    order: np.ndarray,
    cur: np.ndarray,
    cols: np.ndarray,
    nopen: int,
    big: float,
    base: np.ndarray,
    mv: np.ndarray,
) -> tuple[int, float]:
    """Per client its cost at the nearest open site (``base``, ``big`` if none).

    The clients some free site brings closer (``mv``) and their count; the others are a
    constant, their summed weighted cost returned as the offset.
    """
    m, n = C.shape
    for i in range(m):
        b = big
        for s in range(nopen):
            b = min(b, C[i, cols[s]])
        base[i] = b
    nmv = 0
    offset = 0.0
    for i in range(m):
        moving = False
        for t in range(n):
            j = order[i, t]
            if cur[j] == 0:
                moving = C[i, j] < base[i]
                break
        if moving:
            mv[nmv] = i
            nmv += 1
        else:
            offset += w[i] * base[i]
    return nmv, offset


@kernel
def _child_bound(
    C: np.ndarray,
    w: np.ndarray,
    order: np.ndarray,
    wcs: np.ndarray,
    wct: np.ndarray,
    p: int,
    cur: np.ndarray,
    lam_node: np.ndarray,
    fvec: np.ndarray,
    iters: int,
    beta: float,
    stall: int,
    big: float,
    work_i: np.ndarray,
    work_f: np.ndarray,
    work_b: np.ndarray,
    best_s: np.ndarray,
    steps: np.ndarray,
) -> float:
    """Lagrangian bound of the node ``cur`` after a short subgradient (strong branching).

    ``iters`` steps from ``lam_node`` (no early stop), stopped once the bound reaches the
    incumbent's target, which the steps aim at (no ``aim`` above it: strong branching, off
    by default, was measured before the aim existed). ``-inf`` when the node has at most
    one completion (no bound is computed; the tree settles such nodes itself). Scratch
    space: ``work_i`` (3 x max(m, n) int64), ``work_f`` (5 x max(m, n) float64),
    ``work_b`` (3 x n bool).
    """
    cols = work_i[0]
    free = work_i[1]
    mv = work_i[2]
    nopen, nfree = _split(cur, cols, free)
    k = p - nopen
    if k <= 0 or nfree <= k:
        return -np.inf
    base = work_f[0]
    nmv, offset = _moving(C, w, order, cur, cols, nopen, big, base, mv)
    if nmv == 0:
        return offset
    cap = work_f[1]
    lam = work_f[2]
    best_lam = work_f[3]
    freq = work_f[4]
    live = work_b[0]
    dead = work_b[1]
    opnd = work_b[2]
    _node_start(mv, nmv, w, base, lam_node, cur, cap, lam, live, dead, opnd, freq)
    ub = fvec[0]
    target = ub - _delta(ub, fvec[1], fvec[2]) - offset
    low = node_subgradient(
        order, wcs, wct, mv, nmv, lam, cap, live, k, target, 0.0, iters, beta, stall, iters, 0.0,
        dead, opnd, best_lam, best_s, freq, steps,
    )  # fmt: skip
    return low + offset


@kernel
def _rank_sites(
    pc: np.ndarray,
    free: np.ndarray,
    nfree: int,
    cur: np.ndarray,
    freq: np.ndarray,
    reliable: float,
    cand: np.ndarray,
    ncand: int,
) -> int:
    """The ``ncand`` free sites of best pseudo-cost score into ``cand`` (best first); count.

    The score is that of :func:`_pseudo_cost_site`; before any pseudo-cost is seen in both
    directions, fractionality ``-|f - 1/2|``.
    """
    seen, md, mu = _pc_means(pc)
    sc = np.full(ncand, -np.inf)
    nc = 0
    for s in range(nfree):
        j = free[s]
        if cur[j] != 0:
            continue
        f = freq[j]
        score = _pc_score(pc, j, f, md, mu, reliable) if seen else -abs(f - 0.5)
        if nc < ncand or score > sc[nc - 1]:
            pos = min(nc, ncand - 1)
            while pos > 0 and sc[pos - 1] < score:
                sc[pos] = sc[pos - 1]
                cand[pos] = cand[pos - 1]
                pos -= 1
            sc[pos] = score
            cand[pos] = j
            nc = min(nc + 1, ncand)
    return nc


@kernel
def _strong_site(
    C: np.ndarray,
    w: np.ndarray,
    order: np.ndarray,
    wcs: np.ndarray,
    wct: np.ndarray,
    p: int,
    cur: np.ndarray,
    lam_node: np.ndarray,
    here: float,
    free: np.ndarray,
    nfree: int,
    freq: np.ndarray,
    pc: np.ndarray,
    fvec: np.ndarray,
    ivec: np.ndarray,
    params: np.ndarray,
    big: float,
    cand: np.ndarray,
    work_i: np.ndarray,
    work_f: np.ndarray,
    work_b: np.ndarray,
    best_s: np.ndarray,
    every: bool,
) -> tuple[int, bool]:
    """Strong branching: the candidate site whose two children gain the most bound.

    The ``params[12]`` free sites of best pseudo-cost score (:func:`_rank_sites`) each get
    both children bounded by :func:`_child_bound` (``params[13]`` steps from the node's
    multipliers); score ``(5 min(a, b) + max(a, b)) / 6`` of the gains ``a``, ``b`` over
    ``here``. The gains also enter the pseudo-costs. A child whose bound reaches the target
    holds no better solution: the site is fixed the other way in ``cur`` (valid for the whole
    subtree). Unless ``every``, a candidate whose pseudo-costs are reliable in both
    directions (seen ``params[10]`` times) is scored from them instead (reliability
    branching, Achterberg, Koch & Martin 2005). Returns the site to branch on (``-1``: none
    left unfixed) and whether the node itself holds no better solution (both children of a
    candidate pruned).
    """
    reliable = params[10]
    iters = int(params[13])
    beta = params[1]
    stall = int(params[2])
    seed_pc = params[14] > 0.0
    nc = _rank_sites(pc, free, nfree, cur, freq, reliable, cand, int(params[12]))
    jb = -1
    top = -np.inf
    for c in range(nc):
        j = cand[c]
        f = freq[j]
        if not every and pc[1, j] >= reliable and pc[3, j] >= reliable:
            a = pc[0, j] / pc[1, j] * f
            b = pc[2, j] / pc[3, j] * (1.0 - f)
            score = (5.0 * min(a, b) + max(a, b)) / 6.0
            if score > top:
                top = score
                jb = j
            continue
        cur[j] = 1
        dn = _child_bound(
            C, w, order, wcs, wct, p, cur, lam_node, fvec, iters, beta, stall, big,
            work_i, work_f, work_b, best_s, ivec[3:4],
        )  # fmt: skip
        cur[j] = 2
        up = _child_bound(
            C, w, order, wcs, wct, p, cur, lam_node, fvec, iters, beta, stall, big,
            work_i, work_f, work_b, best_s, ivec[3:4],
        )  # fmt: skip
        cur[j] = 0
        ivec[4] += 2
        if dn > -np.inf and seed_pc:
            pc[0, j] += max(dn - here, 0.0) / max(f, 0.05)
            pc[1, j] += 1.0
        if up > -np.inf and seed_pc:
            pc[2, j] += max(up - here, 0.0) / max(1.0 - f, 0.05)
            pc[3, j] += 1.0
        target = fvec[0] - _delta(fvec[0], fvec[1], fvec[2])
        if dn >= target and up >= target:
            return -1, True
        if dn >= target:
            cur[j] = 2
            continue
        if up >= target:
            cur[j] = 1
            continue
        a = max(dn - here, 0.0)
        b = max(up - here, 0.0)
        score = (5.0 * min(a, b) + max(a, b)) / 6.0
        if score > top:
            top = score
            jb = j
    return jb, False


@kernel
def bb_run(
    C: np.ndarray,
    w: np.ndarray,
    order: np.ndarray,
    wcs: np.ndarray,
    wct: np.ndarray,
    p: int,
    st_state: np.ndarray,
    st_lam: np.ndarray,
    st_bound: np.ndarray,
    st_depth: np.ndarray,
    st_branch: np.ndarray,
    st_frac: np.ndarray,
    pc: np.ndarray,
    best: np.ndarray,
    fvec: np.ndarray,
    ivec: np.ndarray,
    params: np.ndarray,
    max_nodes: int,
) -> None:
    """Process up to ``max_nodes`` nodes of the depth-first tree (its state in the arguments).

    Stack: ``st_state`` (per node and site: 0 free, 1 closed, 2 open), ``st_lam``
    (warm-start multipliers per client), ``st_bound`` (the parent's bound, valid for the
    node's subtree), ``st_depth`` (branchings above the node), ``st_branch`` (``2 * site +
    1`` opened / ``2 * site`` closed by the branching that made the node, ``-1`` none) and
    ``st_frac`` (that site's share of Lagrangian solutions at the parent), ``ivec = [top,
    nodes, enumerated, subgradient steps]``; ``pc`` (4 x sites) the pseudo-costs, kept
    across calls. Incumbent ``best`` (``p`` sorted columns) of cost ``fvec[0]``; ``delta =
    max(fvec[1], fvec[2] * |ub|)``. ``params = [iters, beta, stall, window, progress,
    enumeration work, shallow depth, shallow iters, shallow stall, rule, reliable, strong
    depth, strong candidates, strong iters, strong seeding, aim]`` (the node's Polyak steps
    aim ``aim * ub`` above its pruning target); ``ivec[4]`` counts the strong-branching
    children bounded. Nodes at depth below the strong depth branch by :func:`_strong_site`.
    """
    m, n = C.shape
    iters = int(params[0])
    beta0 = params[1]
    stall_lim = int(params[2])
    window = int(params[3])
    progress = params[4]
    enum_work = params[5]
    shallow = int(params[6])
    rule = int(params[9])
    reliable = params[10]
    strong_depth = int(params[11])
    cand = np.empty(max(int(params[12]), 1), dtype=np.int64)
    work_i = np.empty((3, max(m, n) + p), dtype=np.int64)
    work_f = np.empty((5, max(m, n)))
    work_b = np.zeros((3, n), dtype=np.bool_)
    best_s2 = np.empty(p, dtype=np.int64)
    cur = np.empty(n, dtype=np.int8)
    lam_node = np.empty(m)
    base = np.empty(m)
    mv = np.empty(m, dtype=np.int64)
    lam_mv = np.empty(m)
    cap = np.empty(m)
    best_lam = np.empty(m)
    free = np.empty(n, dtype=np.int64)
    cols = np.empty(p + n, dtype=np.int64)
    live = np.zeros(n, dtype=np.bool_)
    dead = np.zeros(n, dtype=np.bool_)
    opnd = np.zeros(n, dtype=np.bool_)
    freq = np.zeros(n)
    best_s = np.empty(p, dtype=np.int64)
    pick = np.empty(p, dtype=np.int64)
    big = 0.0
    for i in range(m):
        for j in range(n):
            big = max(big, C[i, j])
    big = 2.0 * big + 1.0
    top = ivec[0]
    done = 0
    while top > 0 and done < max_nodes:
        top -= 1
        done += 1
        ivec[1] += 1
        cur[:] = st_state[top]
        lam_node[:] = st_lam[top]
        dep = st_depth[top]
        parent_bound = st_bound[top]
        branched = st_branch[top]
        branched_frac = st_frac[top]
        nopen, nfree = _split(cur, cols, free)
        k = p - nopen
        if k <= 0 or nfree <= k:
            # at most one completion: the open sites and every free one
            nc = nopen
            for s in range(min(nfree, max(k, 0))):
                cols[nc] = free[s]
                nc += 1
            if nc == p:
                _take(C, w, cols, nc, best, fvec)
            continue
        nmv, offset = _moving(C, w, order, cur, cols, nopen, big, base, mv)
        if nmv == 0:
            # every completion costs the same as the open sites alone: keep one if better
            # (without this such a node was dropped unrecorded; strong branching's
            # fixings reach it, found by the hypothesis test)
            for s in range(k):
                cols[nopen + s] = free[s]
            _take(C, w, cols, p, best, fvec)
            continue
        ub = fvec[0]
        target = ub - _delta(ub, fvec[1], fvec[2]) - offset
        work = float(nmv)
        for s in range(k):
            work = work * (nfree - s) / (s + 1)
            if work > enum_work:
                break
        if work <= enum_work:
            ivec[2] += 1
            val = enumerate_best(C, w, mv, nmv, base, free, nfree, k, pick)
            if val < target:
                for s in range(k):
                    cols[nopen + s] = free[pick[s]]
                _take(C, w, cols, p, best, fvec)
            continue
        _node_start(mv, nmv, w, base, lam_node, cur, cap, lam_mv, live, dead, opnd, freq)
        deep = dep >= shallow  # shallow nodes: a longer subgradient, no early stop
        low = node_subgradient(
            order,
            wcs,
            wct,
            mv,
            nmv,
            lam_mv,
            cap,
            live,
            k,
            target,
            params[15] * ub,
            iters if deep else int(params[7]),
            beta0,
            stall_lim if deep else int(params[8]),
            window if deep else int(params[7]),
            progress if deep else 0.0,
            dead,
            opnd,
            best_lam,
            best_s,
            freq,
            ivec[3:4],
        )
        if branched >= 0 and low > -np.inf:
            # pseudo-cost: the bound gained by this branching, per unit of the site's
            # estimated LP value moved (f down to 0, or up to 1)
            jd = branched // 2
            up = branched % 2
            moved = (1.0 - branched_frac) if up == 1 else branched_frac
            gain = max(low + offset - parent_bound, 0.0)
            pc[2 * up, jd] += gain / max(moved, 0.05)
            pc[2 * up + 1, jd] += 1.0
        if low >= target:
            continue
        nlive = 0
        for s in range(nfree):
            if not dead[free[s]]:
                nlive += 1
        for s in range(nfree):
            j = free[s]
            if dead[j]:
                cur[j] = 1
        if nlive <= k:  # at most one completion is left: the remaining sites
            if nlive == k:
                for s in range(nfree):
                    if cur[free[s]] == 0:
                        cur[free[s]] = 2
                top = _push(st_state, st_lam, st_bound, top, cur, lam_node, low + offset)
                st_depth[top - 1] = dep + 1
                st_branch[top - 1] = -1
            continue
        # the Lagrangian solution is a feasible plan: keep it if it beats the incumbent
        for s in range(k):
            cols[nopen + s] = best_s[s]
        if _take(C, w, cols, p, best, fvec):
            ub = fvec[0]
            target = ub - _delta(ub, fvec[1], fvec[2]) - offset
            if low >= target:
                continue
        for q in range(nmv):
            lam_node[mv[q]] = best_lam[q]
        now_open = nopen
        for s in range(nfree):
            j = free[s]
            if opnd[j]:
                cur[j] = 2
                now_open += 1
        if now_open >= p:  # more sites must open than allowed: nothing better
            if now_open == p:
                top = _push(st_state, st_lam, st_bound, top, cur, lam_node, low + offset)
                st_depth[top - 1] = dep + 1
                st_branch[top - 1] = -1
            continue
        # branch on the most fractional free site: the share of the subgradient steps
        # whose Lagrangian solution held it (an estimate of its LP value) closest to 1/2
        jb = -1
        here = low + offset
        if dep < strong_depth or rule == 2:
            jb, pruned = _strong_site(
                C, w, order, wcs, wct, p, cur, lam_node, here, free, nfree, freq, pc, fvec, ivec,
                params, big, cand, work_i, work_f, work_b, best_s2, dep < strong_depth,
            )  # fmt: skip
            if pruned:
                continue
            now_open = 0
            nfree_now = 0
            for j in range(n):
                if cur[j] == 2:
                    now_open += 1
                elif cur[j] == 0:
                    nfree_now += 1
            if now_open > p or now_open + nfree_now < p:
                continue  # the fixings leave no plan of p sites
            if jb < 0 or now_open == p or now_open + nfree_now == p:
                # every candidate fixed, or one completion left: bound the node again
                top = _push(st_state, st_lam, st_bound, top, cur, lam_node, here)
                st_depth[top - 1] = dep
                st_branch[top - 1] = -1
                continue
        elif rule >= 1:
            jb = _pseudo_cost_site(pc, free, nfree, cur, freq, reliable)
        if jb < 0:
            far = np.inf
            for s in range(nfree):
                j = free[s]
                if cur[j] == 0 and abs(freq[j] - 0.5) < far:
                    far = abs(freq[j] - 0.5)
                    jb = j
        cur[jb] = 1
        top = _push(st_state, st_lam, st_bound, top, cur, lam_node, here)  # jb closed
        st_depth[top - 1] = dep + 1
        st_branch[top - 1] = 2 * jb
        st_frac[top - 1] = freq[jb]
        cur[jb] = 2
        top = _push(st_state, st_lam, st_bound, top, cur, lam_node, here)  # jb open: first
        st_depth[top - 1] = dep + 1
        st_branch[top - 1] = 2 * jb + 1
        st_frac[top - 1] = freq[jb]
    ivec[0] = top

r"""Compiled kernels of the exact p-median: Lagrangian subgradient, fixing, branch-and-bound.

Private to :mod:`embedsite.siting._pmedian_lagrangian`, :mod:`embedsite.siting._pmedian_bb`
and :mod:`embedsite.siting._pmedian_tree_kernel`
(numba through :func:`embedsite._jit.kernel`). The mathematics is Beasley (1993): with
multipliers :math:`\lambda` on the assignment constraints,
:math:`L(\lambda) = \sum_i \lambda_i + \sum_{j \in S} \rho_j`,
:math:`\rho_j = \sum_i \min(0, w_i c_{ij} - \lambda_i)`, ``S`` the ``k`` most negative
:math:`\rho_j`; a site outside ``S`` forced open lifts the bound to
:math:`L + \rho_j - \rho_{(k)}`, a site of ``S`` forced closed to
:math:`L - \rho_j + \rho_{(k+1)}`.

Two evaluations of :math:`\rho`:

* the root (:func:`root_steps`) walks the dense ``clients x live sites`` matrix row by row
  (``rho[t] += min(wc[i, t] - lam[i], 0)`` over a contiguous row: SIMD), compacting closed
  columns away in place;
* a branch-and-bound node (:func:`node_subgradient`) walks, per client, its sites sorted by cost
  up to the first one not below :math:`\lambda_i` (every later site adds 0; the rho of sites
  the node has fixed is computed too and never read): about 5% of the dense entries on the
  OR-Library family. The subgradient counts, per client, the Lagrangian sites below
  :math:`\lambda_i`, by a walk of the same prefixes or by ``k`` dense passes over the
  transposed costs, whichever is less work (:data:`_DENSE_RATIO`). A node caps
  a client's cost at its nearest site forced open; since :math:`\lambda_i` is kept at or
  below that cap, capped entries never enter the sum and the sorted order needs no update.

The depth-first tree around the node bound is in
:mod:`embedsite.siting._pmedian_tree_kernel` (one compiled call per batch of nodes; the
Python wrapper checks the deadline between batches).
"""

from __future__ import annotations

import numpy as np

from embedsite._jit import kernel

__all__: list[str] = []

# codes returned by root_steps
ROOT_MORE = 0  # step budget used up: call again
ROOT_DONE = 1  # converged, bound above the target, or no progress possible
ROOT_FEW = 2  # at most p live sites left: the caller settles it

# node_subgradient counts each client's Lagrangian sites below its multiplier by the dense
# transposed compares (k x clients) when k * clients <= _DENSE_RATIO * (entries of the
# prefixes), by the walk over the prefixes otherwise (both give the same counts). Measured
# in the B&B of (900, 20, 10) (k * m about 1.1x the prefix entries): always dense 70.8
# us/step, always walking 91.0; (800, 50, 3) (about 5x): 64.9 against 44.8; 3.0 took both
# to 57.8-72.6 / 45.2-48.5 (dense compares about 0.3 ns each, the walk about 1.6 ns an entry)
_DENSE_RATIO = 3.0


@kernel
def select_k(
    rho: np.ndarray, live: np.ndarray, nl: int, k: int, bv: np.ndarray, bi: np.ndarray
) -> None:
    """The ``k + 1`` smallest ``rho[live[t]]`` (``t < nl``), ascending, into ``bv`` / ``bi``.

    ``bi`` receives positions ``t`` into ``live``; needs ``nl > k``. Insertion into a sorted
    buffer: most ``rho`` are 0 or above the ``(k+1)``-th once the buffer is full.
    """
    for s in range(k + 1):
        bv[s] = np.inf
        bi[s] = -1
    for t in range(nl):
        v = rho[live[t]]
        if v < bv[k]:
            pos = k
            while pos > 0 and bv[pos - 1] > v:
                bv[pos] = bv[pos - 1]
                bi[pos] = bi[pos - 1]
                pos -= 1
            bv[pos] = v
            bi[pos] = t


# ---------------------------------------------------------------------------------------------
# root: dense rows, chunked so the caller can watch a deadline
# ---------------------------------------------------------------------------------------------


@kernel
def root_steps(
    W: np.ndarray,
    ids: np.ndarray,
    lam: np.ndarray,
    best_lam: np.ndarray,
    best_sites: np.ndarray,
    closed: np.ndarray,
    opened: np.ndarray,
    istate: np.ndarray,
    fstate: np.ndarray,
    p: int,
    ub: float,
    target: float,
    span: float,
    max_iter: int,
    steps: int,
) -> int:
    """Up to ``steps`` subgradient steps of the root Lagrangian (its state in the arguments).

    ``W`` (clients x sites, C order) holds the weighted costs of the live sites in its first
    ``istate[0]`` columns, their original columns in ``ids``; closed sites are compacted
    away in place once they are more than 10% of the live ones. ``istate = [live,
    iteration, stall]``, ``fstate = [best bound, beta]``. ``target = ub - delta``: a site
    whose forced opening (closing) lifts the bound above it is closed (opened) for every
    solution better than the incumbent. Polyak steps towards ``ub``, ``beta`` halved after
    15 steps without a better bound. Returns :data:`ROOT_MORE`, :data:`ROOT_DONE` or
    :data:`ROOT_FEW`.
    """
    m = W.shape[0]
    n = W.shape[1]
    rho = np.empty(n)
    g = np.empty(m)
    bv = np.empty(p + 1)
    bi = np.empty(p + 1, dtype=np.int64)
    pos = np.arange(n)
    in_s = np.zeros(n, dtype=np.bool_)
    half = span / 2.0
    for _ in range(steps):
        nl = istate[0]
        if istate[1] >= max_iter:
            return ROOT_DONE
        istate[1] += 1
        if nl <= p:
            return ROOT_FEW
        low = 0.0
        for i in range(m):
            if lam[i] > half:
                lam[i] = half
            low += lam[i]
        for t in range(nl):
            rho[t] = 0.0
        for i in range(m):
            li = lam[i]
            for t in range(nl):
                rho[t] += min(W[i, t] - li, 0.0)
        select_k(rho, pos, nl, p, bv, bi)
        rho_p = bv[p - 1]
        rho_p1 = bv[p]
        for s in range(p):
            low += bv[s]
        best = fstate[0]
        if best == -np.inf or best + 1e-9 * max(1.0, abs(best)) < low:
            fstate[0] = low
            istate[2] = 0
            for s in range(p):
                best_sites[s] = ids[bi[s]]
            best_lam[:] = lam
        else:
            istate[2] += 1
            if istate[2] >= 15:
                fstate[1] /= 2.0
                istate[2] = 0
        for s in range(p):
            in_s[bi[s]] = True
        gone = 0
        for t in range(nl):
            j = ids[t]
            if in_s[t]:
                if low - rho[t] + rho_p1 > target:
                    opened[j] = True
            elif low + rho[t] - rho_p > target:
                closed[j] = True
            if closed[j]:
                gone += 1
        for s in range(p):
            in_s[bi[s]] = False
        if fstate[0] > target or fstate[1] < 5e-3:
            return ROOT_DONE
        nn = 0.0
        for i in range(m):
            li = lam[i]
            cnt = 0
            for s in range(p):
                if W[i, bi[s]] < li:
                    cnt += 1
            g[i] = 1.0 - cnt
            nn += g[i] * g[i]
        if nn == 0.0:
            return ROOT_DONE  # the Lagrangian solution is feasible: L is its cost
        step = fstate[1] * (ub - low) / nn
        for i in range(m):
            lam[i] = max(lam[i] + step * g[i], 0.0)
        if gone > 0.1 * nl:  # drop closed columns in place, order kept
            keep = 0
            for t in range(nl):
                if not closed[ids[t]]:
                    pos[keep] = t
                    keep += 1
            for i in range(m):
                for u in range(keep):
                    W[i, u] = W[i, pos[u]]
            for u in range(keep):
                ids[u] = ids[pos[u]]
            for t in range(n):
                pos[t] = t
            istate[0] = keep
    return ROOT_MORE


# ---------------------------------------------------------------------------------------------
# branch-and-bound: one node's subgradient on sorted prefixes, enumeration, the tree loop
# ---------------------------------------------------------------------------------------------


@kernel
def _prefix(wcs: np.ndarray, i: int, li: float, t: int) -> int:
    """Length of row ``i``'s prefix of ``wcs`` below ``li``, searched from the guess ``t``.

    The previous step's length: multipliers move little per step, so the search is short.
    """
    n = wcs.shape[1]
    while t > 0 and wcs[i, t - 1] >= li:
        t -= 1
    while t < n and wcs[i, t] < li:
        t += 1
    return t


@kernel
def _count_walk(
    order: np.ndarray,
    mv: np.ndarray,
    nmv: int,
    pe: np.ndarray,
    in_s: np.ndarray,
    cnt: np.ndarray,
) -> None:
    """Per moving client ``mv[q]``, the sites with ``in_s`` among its prefix ``pe[q]``."""
    for q in range(nmv):
        i = mv[q]
        c = 0
        for t in range(pe[q]):
            c += in_s[order[i, t]]
        cnt[i] = c


@kernel
def _count_dense(
    wct: np.ndarray,
    livel: np.ndarray,
    bi: np.ndarray,
    k: int,
    lamf: np.ndarray,
    cnt: np.ndarray,
) -> None:
    """Per client ``i``, the Lagrangian sites ``j = livel[bi[:k]]`` with ``wct[j, i] <
    lamf[i]``: the count of :func:`_count_walk` (the same compares of the same values), as
    ``k`` contiguous passes over the clients (SIMD) instead of one walk per client."""
    m = wct.shape[1]
    for i in range(m):
        cnt[i] = 0
    for s in range(k):
        j = livel[bi[s]]
        for i in range(m):
            cnt[i] += wct[j, i] < lamf[i]


@kernel
def node_subgradient(
    order: np.ndarray,
    wcs: np.ndarray,
    wct: np.ndarray,
    mv: np.ndarray,
    nmv: int,
    lam: np.ndarray,
    cap: np.ndarray,
    live: np.ndarray,
    k: int,
    target: float,
    aim: float,
    iters: int,
    beta: float,
    stall_lim: int,
    window: int,
    progress: float,
    dead: np.ndarray,
    opnd: np.ndarray,
    best_lam: np.ndarray,
    best_s: np.ndarray,
    freq: np.ndarray,
    steps: np.ndarray,
) -> float:
    """Subgradient on one node; returns its best bound (``-inf`` if no step ran).

    Clients ``mv[:nmv]`` (rows of ``order`` / ``wcs``: per client its sites by increasing
    weighted cost; ``wct`` the weighted costs transposed, sites x clients) with multipliers
    ``lam[:nmv]`` kept in ``[0, cap]`` (``cap`` = the weighted cost of the client's nearest
    site forced open: entries at or above it add 0);
    sites with ``live`` set are the node's free ones; ``steps[0]`` counts the steps taken.
    On return ``dead`` / ``opnd`` mark the live sites closed / opened for every solution
    below ``target`` (``live`` is cleared for the dead ones), ``best_lam[:nmv]`` the best
    multipliers, ``best_s[:k]`` the Lagrangian sites there, ``freq`` the share of steps each
    site was in the Lagrangian solution.
    Polyak steps ``beta (target + aim - L) / |g|^2``: ``aim >= 0`` keeps the step from
    vanishing as ``L`` nears ``target`` (only the step size: pruning and fixing test against
    ``target``, so any ``aim`` keeps the bound valid).
    Stops when the bound reaches ``target``, fewer than ``k + 1`` sites live, or the last
    ``window`` steps closed less than ``progress`` of the gap left; ``beta`` is halved after
    ``stall_lim`` steps without a better bound.
    """
    n = order.shape[1]
    rho = np.zeros(n)
    in_s = np.zeros(n, dtype=np.bool_)
    shut = np.zeros(n, dtype=np.bool_)
    livel = np.empty(n, dtype=np.int64)
    bv = np.empty(k + 1)
    bi = np.empty(k + 1, dtype=np.int64)
    g = np.empty(max(nmv, 1))
    pe = np.zeros(max(nmv, 1), dtype=np.int64)  # per client: its prefix below lam, length
    m = wct.shape[1]
    lamf = np.full(m, -np.inf)  # lam by client (-inf: not moving, never counted)
    cnt = np.zeros(m, dtype=np.int64)
    hist = np.empty(max(iters, 1))
    nl = 0
    for j in range(n):
        if live[j]:
            livel[nl] = j
            nl += 1
    for s in range(min(k, nl)):
        best_s[s] = livel[s]
    for q in range(nmv):
        lamf[mv[q]] = lam[q]
    best = -np.inf
    stall = 0
    recorded = 0
    for it in range(iters):
        if nl <= k:
            break
        steps[0] += 1
        for j in range(n):
            rho[j] = 0.0
        low = 0.0
        tot = 0
        for q in range(nmv):
            i = mv[q]
            li = lam[q]
            low += li
            t = _prefix(wcs, i, li, pe[q])
            pe[q] = t
            tot += t
            # every site of the prefix, live or not: rho of a site not live is never read,
            # and a counted loop without the live test is cheaper (measured below)
            for u in range(t):
                rho[order[i, u]] += wcs[i, u] - li
        select_k(rho, livel, nl, k, bv, bi)
        rho_k = bv[k - 1]
        rho_k1 = bv[k]
        for s in range(k):
            low += bv[s]
        if best == -np.inf or low > best + 1e-9 * max(1.0, abs(best)):
            best = low
            stall = 0
            for q in range(nmv):
                best_lam[q] = lam[q]
            for s in range(k):
                best_s[s] = livel[bi[s]]
        else:
            stall += 1
            if stall >= stall_lim:
                beta /= 2.0
                stall = 0
        if best >= target:
            break
        hist[it] = best
        if it >= window and best - hist[it - window] < progress * (target - best):
            break
        for s in range(k):
            in_s[livel[bi[s]]] = True
        recorded += 1
        for t in range(nl):
            j = livel[t]
            if in_s[j]:
                freq[j] += 1.0
                if low - rho[j] + rho_k1 >= target:
                    opnd[j] = True
            elif low + rho[j] - rho_k >= target:
                shut[j] = True
        nn = 0.0
        if k * m <= _DENSE_RATIO * tot:
            _count_dense(wct, livel, bi, k, lamf, cnt)
        else:
            _count_walk(order, mv, nmv, pe, in_s, cnt)
        for q in range(nmv):
            gq = 1.0 - cnt[mv[q]]
            if gq > 0.0 and lam[q] >= cap[q]:
                gq = 0.0  # projected: lam may not rise above the cap
            g[q] = gq
            nn += gq * gq
        for s in range(k):
            in_s[livel[bi[s]]] = False
        if nn == 0.0 or beta < 1e-3:
            break
        step = beta * (target + aim - low) / nn
        for q in range(nmv):
            lam[q] = min(max(lam[q] + step * g[q], 0.0), cap[q])
            lamf[mv[q]] = lam[q]
        keep = 0
        for t in range(nl):
            j = livel[t]
            if shut[j]:
                shut[j] = False
                dead[j] = True
                live[j] = False
            else:
                livel[keep] = j
                keep += 1
        nl = keep
    if recorded > 0:
        for j in range(n):
            freq[j] /= recorded
    for j in range(n):
        if dead[j]:
            opnd[j] = False
    return best


@kernel
def enumerate_best(
    C: np.ndarray,
    w: np.ndarray,
    mv: np.ndarray,
    nmv: int,
    base: np.ndarray,
    free: np.ndarray,
    nfree: int,
    k: int,
    pick: np.ndarray,
) -> float:
    """Best ``k`` of the sites ``free[:nfree]`` for clients ``mv[:nmv]`` already at ``base``.

    Every subset is tried (prefix minima kept per position of the combination); the
    positions into ``free`` of the best go to ``pick[:k]``. Returns its cost over those
    clients, ``sum w_i min(base_i, min_{j in subset} C_ij)``.
    """
    pm = np.empty((k + 1, max(nmv, 1)))
    for q in range(nmv):
        pm[0, q] = base[mv[q]]
    combo = np.arange(k)
    best = np.inf
    first = 0  # prefix minima valid up to position ``first``
    while True:
        for t in range(first, k):
            col = free[combo[t]]
            for q in range(nmv):
                pm[t + 1, q] = min(pm[t, q], C[mv[q], col])
        val = 0.0
        for q in range(nmv):
            val += w[mv[q]] * pm[k, q]
        if val < best:
            best = val
            for t in range(k):
                pick[t] = combo[t]
        t = k - 1
        while t >= 0 and combo[t] == nfree - k + t:
            t -= 1
        if t < 0:
            break
        combo[t] += 1
        for u in range(t + 1, k):
            combo[u] = combo[u - 1] + 1
        first = t
    return best

"""Lagrangian bound of the p-median with variable fixing (Beasley 1993), private.

Private helper of :mod:`embedsite.siting._pmedian_exact`: subgradient on the assignment
constraints of the reduced dense matrix and reduced-cost fixing of sites (closed / opened for
every solution better than the incumbent). The steps run compiled
(:func:`embedsite.siting._pmedian_kernel.root_steps`: one pass over the dense rows of the
live sites per step, closed sites compacted away), in chunks when a deadline is set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from embedsite.siting import _pmedian_kernel as _k

__all__: list[str] = []


# ---------------------------------------------------------------------------------------------
# Lagrangian bound with variable fixing
# ---------------------------------------------------------------------------------------------


@dataclass
class _Lagr:
    bound: float
    closed: np.ndarray  # bool per column: no solution better than UB opens it
    opened: np.ndarray  # bool per column: every solution better than UB opens it
    iterations: int
    sites: np.ndarray  # the p sites of the Lagrangian solution at the best multipliers
    lam: np.ndarray  # the best multipliers


def _lagrangian(
    C: np.ndarray,
    w: np.ndarray,
    p: int,
    ub: float,
    delta: float,
    lam0: np.ndarray,
    *,
    max_iter: int,
    deadline: float,
) -> _Lagr:
    """Subgradient on ``sum_j x_ij = 1``; fixes sites by Lagrangian reduced costs.

    ``L(lam) = sum_i lam_i + sum of the p smallest rho_j``, ``rho_j = sum_i min(0, w_i c_ij -
    lam_i)``. With site ``j`` forced in (out), the bound becomes ``L + rho_j - rho_(p)``
    (``L - rho_j + rho_(p+1)``); above ``ub - delta`` no better solution opens (closes) it.
    Closed sites are dropped as they are found (valid for solutions better than ``ub``).
    Polyak steps towards ``ub`` with factor 2, halved after 15 steps without a better bound;
    stops at ``max_iter`` steps, a factor below ``5e-3``, a bound above ``ub - delta``, or
    the ``deadline`` (``perf_counter`` time, checked every 10 steps).
    """
    n_all = C.shape[1]
    W = np.ascontiguousarray(w[:, None] * C, dtype=np.float64)
    span = float(W.max()) * 2.0 + 1.0 if W.size else 1.0
    lam = np.array(lam0, dtype=np.float64)
    best_lam = lam.copy()
    best_sites = np.arange(p, dtype=np.int64)
    ids = np.arange(n_all, dtype=np.int64)
    closed = np.zeros(n_all, dtype=bool)
    opened = np.zeros(n_all, dtype=bool)
    istate = np.array([n_all, 0, 0], dtype=np.int64)
    fstate = np.array([-np.inf, 2.0])
    chunk = max_iter if deadline == np.inf else 10
    target = ub - delta
    code = _k.ROOT_MORE
    while code == _k.ROOT_MORE:
        code = _k.root_steps(
            W, ids, lam, best_lam, best_sites, closed, opened, istate, fstate,
            p, ub, target, span, max_iter, chunk,
        )  # fmt: skip
        if code == _k.ROOT_MORE and time.perf_counter() > deadline:
            break
    best = float(fstate[0])
    if code == _k.ROOT_FEW:
        # a better solution uses only live sites: none if fewer than p, else all of them
        live = ids[: istate[0]].copy()
        best = target
        if live.size == p:
            v = float(w @ C[:, live].min(axis=1))
            best, best_sites = min(v, target), live
    # dropping closed sites makes the bound valid only for solutions better than ub
    return _Lagr(min(best, target), closed, opened & ~closed, int(istate[1]), best_sites, best_lam)

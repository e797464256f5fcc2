"""Capacity-aware accessibility: two-step floating catchment areas on sparse walk distances.

Step 1 gives every facility ``j`` a supply-to-demand ratio over the residents in its catchment;
step 2 sums, for every resident point ``i``, the ratios of the facilities it reaches
(Luo & Wang 2003, 2SFCA), optionally weighting both steps by distance: step zones (Luo & Qi
2009, E2SFCA) or a Gaussian (Dai 2010). See :func:`two_step_fca` for the formulas.

References: Luo W., Wang F. (2003) Environment and Planning B 30(6):865-884; Luo W., Qi Y.
(2009) Health & Place 15(4):1100-1107; Dai D. (2010) Health & Place 16(5):1038-1052.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import sparse

from embedsite.errors import EmbedsiteError, InputError, PopulationError

__all__ = ["AccessResult", "Decay", "two_step_fca"]

Decay = Literal["gaussian"] | Sequence[tuple[float, float]] | Callable[[np.ndarray], Any] | None
_FIRST = 5  # offending values shown in a message


@dataclass(frozen=True)
class AccessResult:
    """Result of :func:`two_step_fca` (read-only arrays, positions as in the inputs).

    Attributes
    ----------
    ratio
        ``A_i`` (m,): supply per resident for each resident point; 0 with no facility in reach.
    facility_ratio
        ``R_j`` (k,): supply per weighted resident in reach; NaN with no demand in reach.
    demand_in_reach, supply_in_reach
        (k,) ``sum_i w(d_ij) P_i`` and (m,) ``sum_j w(d_ij) S_j``: weighted catchment sums.
    supply, demand
        The inputs, as float arrays.
    """

    ratio: np.ndarray
    facility_ratio: np.ndarray
    demand_in_reach: np.ndarray
    supply_in_reach: np.ndarray
    supply: np.ndarray
    demand: np.ndarray

    @property
    def facilities_without_demand(self) -> np.ndarray:
        """Positions of facilities with no weighted demand in reach (left out of step 2)."""
        return np.flatnonzero(~(self.demand_in_reach > 0))

    @property
    def served_supply(self) -> float:
        """``sum_j S_j`` over facilities with demand in reach (equals ``sum_i A_i P_i``)."""
        return float(self.supply[self.demand_in_reach > 0].sum())

    @property
    def mean_ratio(self) -> float:
        """Demand-weighted mean ratio ``sum_i A_i P_i / sum_i P_i`` (NaN without residents)."""
        total = float(self.demand.sum())
        return float(self.ratio @ self.demand) / total if total > 0 else float("nan")


def _show(idx: np.ndarray, values: np.ndarray) -> str:
    pairs = ", ".join(f"[{i}]={float(values[i])!r}" for i in idx[:_FIRST])
    return pairs + (f" ... ({idx.size} in all)" if idx.size > _FIRST else "")


def _amounts(values: Any, n: int, name: str, err: type[InputError]) -> np.ndarray:
    try:
        arr = np.array(values, dtype=float)  # a copy: frozen below
    except (TypeError, ValueError) as exc:
        raise err(f"{name} must be numeric: {exc}. Pass an array of numbers.") from None
    if arr.shape != (n,):
        side = "row (facility)" if name == "supply" else "column (resident point)"
        raise err(f"{name} has shape {arr.shape}, needs ({n},): one per distance {side}.")
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if bad.size:
        raise err(f"{name} must be finite and >= 0; bad at {_show(bad, arr)}. Fill or drop them.")
    return arr


def _weights(d: np.ndarray, decay: Decay, radius_m: float) -> np.ndarray:
    if decay is None:
        return np.ones_like(d)
    if isinstance(decay, str) and decay != "gaussian":
        raise InputError(f"unknown decay {decay!r}: use None, 'gaussian', steps or a callable.")
    if isinstance(decay, str):  # "gaussian"
        floor = np.exp(-0.5)
        return (np.exp(-0.5 * (d / radius_m) ** 2) - floor) / (1.0 - floor)
    if callable(decay):
        try:
            w = np.broadcast_to(np.asarray(decay(d.copy()), dtype=float), d.shape)
        except (TypeError, ValueError) as exc:
            raise InputError(f"decay callable must return one weight per distance: {exc}") from exc
        bad = np.flatnonzero(~((w >= 0) & (w <= 1)))
        if bad.size:
            raise InputError(
                f"decay weights must lie in [0, 1]; got {_show(bad, w)} "
                f"at distances {d[bad[:_FIRST]].tolist()}. Rescale the decay function."
            )
        return np.array(w)
    try:
        steps = np.asarray(decay, dtype=float)
    except (TypeError, ValueError):
        steps = np.empty(0)
    if steps.ndim != 2 or steps.shape[1] != 2 or len(steps) == 0:
        raise InputError(
            f"decay steps must be a non-empty sequence of (upper_distance, weight) pairs, "
            f"e.g. [(r/3, 1.0), (2r/3, 0.68), (r, 0.22)]; got {decay!r}."
        )
    upper, weight = steps[:, 0], steps[:, 1]
    if not (np.all(np.isfinite(upper)) and upper[0] > 0 and np.all(np.diff(upper) > 0)):
        msg = f"decay step distances must be finite, > 0 and strictly increasing; got {upper}"
        raise InputError(msg + ". Sort the zones by distance.")
    if not np.all((weight >= 0) & (weight <= 1)):
        raise InputError(f"decay step weights must lie in [0, 1]; got {weight.tolist()}.")
    # zone = first step whose upper distance is >= d; beyond the last step weighs 0
    zone = np.searchsorted(upper, d, side="left")
    return np.append(weight, 0.0)[zone]


def two_step_fca(
    distances: sparse.sparray | sparse.spmatrix,
    supply: Any,
    demand: Any,
    *,
    radius_m: float,
    decay: Decay = None,
) -> AccessResult:
    """Two-step floating catchment area (2SFCA / E2SFCA / Gaussian 2SFCA) accessibility.

    Parameters
    ----------
    distances
        Sparse (k facilities x m resident points) walk distances in metres, e.g. from
        ``_paths.pair_distances``. An absent pair is unreachable; a stored pair farther than
        ``radius_m`` is ignored. A pair at distance 0 must be stored explicitly. Duplicate
        pairs, negative or NaN distances are errors.
    supply
        (k,) capacity of each facility (places, beds, m² of floor), finite and >= 0.
    demand
        (m,) residents of the served age group at each point, finite and >= 0.
    radius_m
        Catchment radius in metres, > 0.
    decay
        ``None``: weight 1 within the radius (Luo & Wang 2003). ``"gaussian"``: Dai (2010),
        ``w(d) = (exp(-(d/r)²/2) - exp(-1/2)) / (1 - exp(-1/2))``, 1 at d = 0 and 0 at d = r.
        A sequence of ``(upper_distance, weight)`` steps, upper distances strictly
        increasing (Luo & Qi 2009 E2SFCA, e.g. ``[(r/3, 1.0), (2*r/3, 0.68), (r, 0.22)]``):
        ``d`` takes the weight of the first step with ``d <= upper``, 0 beyond the last.
        Or a vectorised callable mapping a distance array to weights in [0, 1].

    Returns
    -------
    AccessResult
        ``facility_ratio`` is NaN for a facility with no weighted demand in reach (reported
        by ``facilities_without_demand``); such a facility adds nothing in step 2.

    Notes
    -----
    With ``W_ji = w(d_ji)`` for ``d_ji <= r`` (facilities x residents):

    .. math::

        R_j = \\frac{S_j}{\\sum_i W_{ji} P_i}, \\qquad A_i = \\sum_j W_{ji} R_j

    Both steps use ONE matrix: step 1 is ``W @ P``, step 2 is ``W.T @ R``. Known pitfall:
    PySAL ``access`` mis-estimated 2SFCA demand with asymmetric travel matrices
    (pysal/access#18); when step 1 reads ``d_ij`` and step 2 a different ``d_ji``, catchments
    disagree and supply is not conserved. Walking distances are symmetric and embedsite uses
    the same stored distance in both steps, so it avoids this by construction; supply is
    conserved, ``sum_i A_i P_i == sum_j S_j`` over facilities with demand in reach (checked
    on every call). A transposed matrix is caught by the shape checks unless it is square.

    Raises
    ------
    InputError
        Bad distances, supply, radius or decay (shape, sign, NaN, weights outside [0, 1],
        steps not increasing).
    PopulationError
        Bad demand (shape, negative, NaN or infinite values).

    Examples
    --------
    Two facilities, three resident points, 1 km radius; facility 1 reaches point 0 only at
    1200 m, beyond the radius:

    >>> import numpy as np
    >>> from scipy import sparse
    >>> d = sparse.coo_array(([200.0, 600.0, 400.0, 800.0, 1200.0],
    ...                       ([0, 0, 1, 1, 1], [0, 1, 1, 2, 0])), shape=(2, 3))
    >>> res = two_step_fca(d, [10, 20], [100, 200, 300], radius_m=1000)
    >>> res.facility_ratio.tolist()  # 10 / 300 and 20 / 500
    [0.03333333333333333, 0.04]
    >>> res.ratio.round(4).tolist()
    [0.0333, 0.0733, 0.04]
    >>> res.mean_ratio, res.served_supply  # 30 places over 600 residents
    (0.05, 30.0)
    >>> e2 = two_step_fca(d, [10, 20], [100, 200, 300], radius_m=1000,
    ...                   decay=[(300, 1.0), (700, 0.5), (1000, 0.1)])
    >>> e2.demand_in_reach.tolist()
    [200.0, 130.0]
    """
    if not sparse.issparse(distances) or len(distances.shape) != 2:
        raise InputError(
            f"distances must be a 2-D scipy sparse matrix (facilities x residents); got "
            f"{type(distances).__name__}. Use _paths.pair_distances or scipy.sparse.coo_array."
        )
    try:
        r = float(radius_m)
    except (TypeError, ValueError):
        r = float("nan")
    if isinstance(radius_m, bool) or not (np.isfinite(r) and r > 0):
        raise InputError(f"radius_m must be a finite number of metres > 0; got {radius_m!r}.")
    k, m = distances.shape
    S = _amounts(supply, k, "supply", InputError)
    P = _amounts(demand, m, "demand", PopulationError)

    coo = sparse.coo_array(distances)
    row, col = coo.row.astype(np.int64), coo.col.astype(np.int64)
    dist = np.asarray(coo.data, dtype=float)
    bad = np.flatnonzero(~(dist >= 0))
    if bad.size:
        raise InputError(
            "distances must be >= 0 and not NaN; bad pairs (facility, resident)=distance: "
            + ", ".join(f"({row[i]}, {col[i]})={float(dist[i])!r}" for i in bad[:_FIRST])
        )
    key = row * m + col
    if np.unique(key).size != key.size:
        raise InputError("distances holds duplicate pairs; keep one (the minimum) per pair.")
    near = dist <= r
    row, col, dist = row[near], col[near], dist[near]
    W = sparse.csr_array((_weights(dist, decay, r), (row, col)), shape=(k, m))

    demand_in_reach = np.asarray(W @ P, dtype=float)  # step 1 denominators
    served = demand_in_reach > 0
    R = np.full(k, np.nan)
    with np.errstate(over="ignore"):
        R[served] = S[served] / demand_in_reach[served]
    huge = np.flatnonzero(np.isinf(R))
    if huge.size:
        raise PopulationError(
            f"supply per resident overflows at facilities {huge[:_FIRST].tolist()}: their "
            f"demand in reach is tiny ({_show(huge, demand_in_reach)}). Round demand to people."
        )
    # step 2 over the SAME pairs and weights (d_ij = d_ji)
    ratio = np.asarray(W.T @ np.where(served, R, 0.0), dtype=float)
    result = AccessResult(
        ratio=ratio,
        facility_ratio=R,
        demand_in_reach=demand_in_reach,
        supply_in_reach=np.asarray(W.T @ S, dtype=float),
        supply=S,
        demand=P,
    )
    for arr in (ratio, R, demand_in_reach, result.supply_in_reach, S, P):
        arr.setflags(write=False)
    got, want = float(result.ratio @ P), result.served_supply
    if not np.isclose(got, want, rtol=1e-7, atol=1e-9 * max(1.0, float(S.sum()))):
        raise EmbedsiteError(f"2SFCA supply not conserved: {got!r} != {want!r} (a bug)")
    return result

"""The one internal representation of a siting problem, and its boundary checks (private).

Every model is bound to a :class:`SitingProblem`: plain arrays of walk costs between clients
(resident points) and sites (candidates and existing facilities), built either from a matrix
(:meth:`~embedsite.siting.base.SitingModel.from_cost_matrix`) or from a coverage analysis
(:meth:`~embedsite.siting.base.SitingModel.from_coverage`). Models read it, never write it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from embedsite.errors import EmptyInputError, InputError

__all__ = ["SitingProblem", "make_problem"]


@dataclass(frozen=True, eq=False)
class SitingProblem:
    """Walk costs between clients and sites, with what each client weighs and each site costs.

    Attributes
    ----------
    cost
        Clients x sites walk distances in metres: a ``scipy.sparse.csr_array`` (an absent
        entry means "beyond reach"; a stored entry, even 0, is a distance) or a dense float
        array (``inf`` means beyond reach).
    weights
        Residents (or any demand) per client, >= 0. Clients of weight 0 never constrain a
        plan.
    client_labels, site_labels
        Unique labels of the rows and columns; results speak in these, never in positions.
    fixed
        Per site: an existing facility that stays open and counts.
    site_cost
        Per site: the cost of opening it (LSCP minimises it; MCLP may cap it with a budget).
    capacity
        Per site: how much client demand it can serve (same unit as ``demand``), or None.
    demand
        Per client: how much capacity it uses when served (by default its weight).
    radius
        Walk radius in metres within which a client counts as covered, or None.
    unreached_cost
        Distance a p-median charges a client that no open site reaches (None: such a plan is
        infeasible).
    facility_type
        The standards key of the type being planned, or None.
    sites, clients
        Optional GeoDataFrames aligned with the labels (their columns go to
        :meth:`SitingResult.to_geodataframe`).
    """

    cost: sparse.csr_array | np.ndarray
    weights: np.ndarray
    client_labels: pd.Index
    site_labels: pd.Index
    fixed: np.ndarray
    site_cost: np.ndarray
    capacity: np.ndarray | None = None
    demand: np.ndarray | None = None
    radius: float | None = None
    unreached_cost: float | None = None
    facility_type: str | None = None
    sites: gpd.GeoDataFrame | None = field(default=None, repr=False)
    clients: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("weights", "fixed", "site_cost", "capacity", "demand"):
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        if isinstance(self.cost, np.ndarray):
            self.cost.setflags(write=False)

    @property
    def n_clients(self) -> int:
        """Number of clients (rows)."""
        return int(self.cost.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of sites (columns), new and fixed."""
        return int(self.cost.shape[1])

    @property
    def is_sparse(self) -> bool:
        """Whether :attr:`cost` is sparse."""
        return sparse.issparse(self.cost)

    def usage(self) -> np.ndarray:
        """Capacity each client uses when fully served (``demand``, else its weight)."""
        return self.demand if self.demand is not None else self.weights

    def within(self, radius: float) -> sparse.csr_array:
        """Boolean clients x sites matrix: the site is within ``radius`` of the client."""
        if self.is_sparse:
            c = sparse.csr_array(self.cost)
            keep = c.data <= radius
            rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
            counts = np.bincount(rows[keep], minlength=c.shape[0])
            indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            return sparse.csr_array(
                (np.ones(int(keep.sum()), dtype=np.int8), c.indices[keep], indptr), shape=c.shape
            )
        return sparse.csr_array(np.asarray(self.cost) <= radius, dtype=np.int8)

    def dense_cost(self, fill: float = np.inf) -> np.ndarray:
        """Clients x sites costs as a dense array, ``fill`` where beyond reach."""
        if self.is_sparse:
            c = sparse.csr_array(self.cost)
            out = np.full(c.shape, fill, dtype=float)
            rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
            out[rows, c.indices] = c.data
            return out
        out = np.array(self.cost, dtype=float)
        if fill != np.inf:
            out[~np.isfinite(out)] = fill
        return out

    def pair_cost(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Cost of the given (client, site) position pairs (``inf`` where beyond reach)."""
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        if not self.is_sparse:
            return np.asarray(self.cost)[rows, cols].astype(float)
        c = sparse.csr_array(self.cost)
        m = c.shape[1]
        entry_rows = np.repeat(np.arange(c.shape[0], dtype=np.int64), np.diff(c.indptr))
        keys = entry_rows * m + c.indices
        want = rows * m + cols
        at = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
        out = np.full(len(want), np.inf)
        if len(keys):
            hit = keys[at] == want
            out[hit] = c.data[at[hit]]
        return out

    def open_cost(self, open_mask: np.ndarray) -> np.ndarray:
        """Per client: distance to the nearest open site (``inf`` when none reaches it)."""
        if not open_mask.any():
            return np.full(self.n_clients, np.inf)
        if self.is_sparse:
            c = sparse.csr_array(self.cost)[:, np.flatnonzero(open_mask)].tocsr()
            best = np.full(c.shape[0], np.inf)
            rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
            np.minimum.at(best, rows, c.data)
            return best
        return np.asarray(self.cost)[:, open_mask].min(axis=1)

    def nearest_open(self, open_mask: np.ndarray, limit: float = np.inf) -> np.ndarray:
        """Per client: position of the nearest open site within ``limit`` (-1 when none)."""
        pos = np.flatnonzero(open_mask)
        out = np.full(self.n_clients, -1, dtype=np.int64)
        if len(pos) == 0:
            return out
        if self.is_sparse:
            c = sparse.csr_array(self.cost)[:, pos].tocoo()
            ok = c.data <= limit
            r, col, d = c.row[ok], c.col[ok], c.data[ok]
            order = np.lexsort((col, d, r))
            r, col = r[order], col[order]
            first = np.ones(len(r), dtype=bool)
            first[1:] = r[1:] != r[:-1]
            out[r[first]] = pos[col[first]]
            return out
        sub = np.asarray(self.cost)[:, pos]
        arg = np.argmin(sub, axis=1)
        best = sub[np.arange(len(arg)), arg]
        ok = np.isfinite(best) & (best <= limit)
        out[ok] = pos[arg[ok]]
        return out


def _labels(given: Any, n: int, what: str) -> pd.Index:
    if given is None:
        return pd.RangeIndex(n, name=what)
    index = pd.Index(given)
    if len(index) != n:
        raise InputError(f"{len(index)} {what} labels for {n} {what}s; give one label per {what}")
    if index.has_duplicates:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise InputError(f"{what} labels must be unique; repeated: {dup}")
    return index


def _vector(
    value: Any, n: int, name: str, default: float, *, allow_nan: bool = False
) -> np.ndarray:
    if value is None:
        return np.full(n, default, dtype=float)
    scalar = np.isscalar(value)
    arr = np.full(n, float(value)) if scalar else np.asarray(value, dtype=float).ravel()
    if arr.shape != (n,):
        raise InputError(f"{name} has {arr.size} values for {n} entries; give one per entry")
    bad = (~np.isfinite(arr) if not allow_nan else np.isinf(arr)) | (arr < 0)
    if bad.any():
        where = np.flatnonzero(bad)[:5].tolist()
        raise InputError(
            f"{name} must be finite and >= 0; bad values at positions {where}: "
            f"{arr[bad][:5].tolist()}"
        )
    return arr


def make_problem(
    cost: Any,
    *,
    weights: Any = None,
    fixed: Any = None,
    site_cost: Any = None,
    capacity: Any = None,
    demand: Any = None,
    radius: float | None = None,
    unreached_cost: float | None = None,
    facility_type: str | None = None,
    client_labels: Any = None,
    site_labels: Any = None,
    sites: gpd.GeoDataFrame | None = None,
    clients: gpd.GeoDataFrame | None = None,
) -> SitingProblem:
    """Check plain inputs once and build a :class:`SitingProblem` (copies, read-only).

    ``cost`` may be a dense array, a DataFrame (its index and columns become the labels)
    or any scipy sparse matrix. ``fixed`` is a boolean mask or a list of site labels.
    """
    if isinstance(cost, pd.DataFrame):
        client_labels = cost.index if client_labels is None else client_labels
        site_labels = cost.columns if site_labels is None else site_labels
        cost = cost.to_numpy(dtype=float)
    mat: Any
    if sparse.issparse(cost):
        mat = sparse.csr_array(cost, dtype=float, copy=True)
        mat.sum_duplicates()
        mat.sort_indices()
        values: np.ndarray = np.asarray(mat.data)
        bad = ~np.isfinite(values) | (values < 0)
    else:
        mat = np.array(cost, dtype=float, copy=True)
        if mat.ndim != 2:
            raise InputError(f"cost must be a 2-D clients x sites matrix, not shape {mat.shape}")
        values = mat
        bad = np.isnan(mat) | (mat < 0) | (mat == -np.inf)
    if bad.any():
        raise InputError(
            f"cost has {int(bad.sum())} NaN or negative distances (first: "
            f"{values[bad][:5].tolist()}); use inf (dense) or leave the entry out (sparse) "
            "for pairs beyond reach"
        )
    n, m = mat.shape
    if n == 0 or m == 0:
        raise EmptyInputError(f"cost has shape {mat.shape}; a siting model needs clients and sites")
    w = _vector(weights, n, "weights", 1.0)
    sl = _labels(site_labels, m, "site")
    cl = _labels(client_labels, n, "client")
    if fixed is None:
        fx = np.zeros(m, dtype=bool)
    else:
        arr = np.asarray(fixed)
        if arr.dtype == bool and arr.shape == (m,):
            fx = arr.copy()
        else:
            wanted = pd.Index(np.atleast_1d(arr))
            missing = wanted.difference(sl)
            if len(missing):
                raise InputError(
                    f"fixed names {len(missing)} sites that are not site labels: "
                    f"{missing[:5].tolist()}; pass a boolean mask or labels of the sites"
                )
            fx = sl.isin(wanted)
    sc = _vector(site_cost, m, "site_cost", 1.0, allow_nan=True)
    sc = np.where(np.isnan(sc), 1.0, sc)  # unknown cost counts as one unit per site
    cap = _vector(capacity, m, "capacity", np.inf) if capacity is not None else None
    dem = _vector(demand, n, "demand", 1.0) if demand is not None else None
    for name, value in (("radius", radius), ("unreached_cost", unreached_cost)):
        if value is not None and not (np.isfinite(value) and value >= 0):
            raise InputError(f"{name} must be a finite number >= 0 of metres, not {value!r}")
    return SitingProblem(
        cost=mat,
        weights=w,
        client_labels=cl,
        site_labels=sl,
        fixed=fx,
        site_cost=sc,
        capacity=cap,
        demand=dem,
        radius=float(radius) if radius is not None else None,
        unreached_cost=float(unreached_cost) if unreached_cost is not None else None,
        facility_type=facility_type,
        sites=sites,
        clients=clients,
    )

"""Exact walk distances from many snapped sources to many snapped targets (private).

The engine of the coverage stage. Every source (a facility snapped onto a street edge) enters
the street graph at the two ends of its edge, at its access distance plus the distance along
the edge to that end. One multi-source Dijkstra bounded by the walk radius then gives every
street node its distance to the nearest source and which source that is. A target (a
resident) on edge ``(u, v)`` at ``to_u``/``to_v`` with access ``a`` is at
``min(d[u] + to_u, d[v] + to_v) + a``; a source on the same edge is also reached directly
along it. Nothing is dense in sources x targets.

The searches and the per-target pass are compiled kernels (:mod:`embedsite._paths_kernel`,
numba) working on the CSR arrays directly, with no Python step per node, source or target.
:func:`nearest_sources` answers several source sets (the facility types of a coverage run) in
one call: one search per set into a (nodes, sets) block, then a single pass over the targets
that writes every set's answer for a target at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from embedsite import _paths_kernel as _kernel
from embedsite._config import show_progress
from embedsite.errors import InputError

__all__ = [
    "NearestSource",
    "Targets",
    "nearest_source",
    "nearest_sources",
    "pair_distances",
    "prepare_targets",
    "source_node_distances",
]


@dataclass(frozen=True)
class NearestSource:
    """For each target: walk distance (m, ``inf`` beyond the limit) and nearest source position
    (row of the sources table, -1 when none is within the limit; ``None`` when the call was
    asked for distances only)."""

    distance: np.ndarray
    source: np.ndarray | None


@dataclass(frozen=True)
class Targets:
    """Snapped points as the plain arrays the kernels read (``PedestrianNetwork.snap``
    columns): each point's ``edge``, ``to_u``, ``to_v``, ``access`` and ``position``, in the
    points' own order. :func:`prepare_targets` makes them once for many
    :func:`nearest_source` calls (the engine reads targets in this order and writes its
    answers in it); the sources go through the same conversion on every call."""

    edge: np.ndarray
    to_u: np.ndarray
    to_v: np.ndarray
    access: np.ndarray
    position: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)


def _snapped(points: pd.DataFrame, n_edges: int, what: str) -> Targets:
    """``points``' snap columns as arrays, their edges checked against the network's
    ``n_edges`` (the kernels index by edge without a bounds check)."""
    t = Targets(
        points["edge"].to_numpy(np.int64),
        points["to_u_m"].to_numpy(float),
        points["to_v_m"].to_numpy(float),
        points["access_m"].to_numpy(float),
        points["position_m"].to_numpy(float),
    )
    edge = t.edge
    if len(edge) and not (edge.min() >= 0 and edge.max() < n_edges):
        raise InputError(
            f"{what} name edges {edge.min()}..{edge.max()} but the network has {n_edges}: "
            "snap them with this network"
        )
    return t


def prepare_targets(targets: pd.DataFrame, edge_u: np.ndarray, edge_v: np.ndarray) -> Targets:
    """The arrays of snapped ``targets`` (``PedestrianNetwork.snap`` output) for the engine."""
    return _snapped(targets, len(edge_u), "targets")


def nearest_source(
    csr: sparse.csr_array,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    sources: pd.DataFrame,
    targets: pd.DataFrame | Targets,
    *,
    limit: float = np.inf,
) -> NearestSource:
    """Walk distance from every target to its nearest source, exact from snap positions.

    Parameters
    ----------
    csr
        Symmetric street adjacency (``PedestrianNetwork.csr``).
    edge_u, edge_v
        Node positions of each edge's ends (``PedestrianNetwork.edge_nodes``).
    sources, targets
        Snapped points (``PedestrianNetwork.snap`` output): ``edge``, ``position_m``,
        ``to_u_m``, ``to_v_m``, ``access_m``; ``targets`` may be :func:`prepare_targets`'
        arrays, to prepare them once for many source sets.
    limit
        Largest walk distance of interest (the walk radius); farther is ``inf``.
    """
    block = nearest_sources(
        csr, edge_u, edge_v, sources, np.zeros(len(sources), np.int64), targets, limits=[limit]
    )
    assert block.source is not None
    return NearestSource(block.distance[:, 0].copy(), block.source[:, 0].astype(np.int64))


def nearest_sources(
    csr: sparse.csr_array,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    sources: pd.DataFrame,
    groups: np.ndarray,
    targets: pd.DataFrame | Targets,
    *,
    limits: Sequence[float] | np.ndarray,
    labels: bool = True,
) -> NearestSource:
    """:func:`nearest_source` for several source sets at once (one per facility type).

    One bounded search per set, then a single pass over the targets that writes every set's
    answer for a target at once: the per-target work, most of a pass, is shared by the sets.

    Parameters
    ----------
    csr, edge_u, edge_v
        As :func:`nearest_source`.
    sources
        Snapped points of every set, one table.
    groups
        Set of each row of ``sources`` (``0 .. len(limits) - 1``; -1 leaves a row out).
    targets
        Snapped targets, or :func:`prepare_targets`' arrays.
    limits
        Largest walk distance of interest per set.
    labels
        Whether to find which source is nearest (``source``); without, only the distances
        (the same values, bit for bit) are written, and the pass over the targets takes
        35-40% less time.

    Returns
    -------
    NearestSource
        ``distance``: float64 ``(targets, sets)``; ``source``: int32 ``(targets, sets)``, the
        row of ``sources`` of each target's nearest source in each set, -1 when none is within
        the set's limit (``None`` without ``labels``). Column ``j`` equals
        :func:`nearest_source` of ``sources[groups == j]`` (rows mapped back), exactly.
    """
    t = targets if isinstance(targets, Targets) else prepare_targets(targets, edge_u, edge_v)
    limits = np.asarray(limits, dtype=float).reshape(-1)
    groups = np.asarray(groups, dtype=np.int64).reshape(-1)
    k, n_t = len(limits), len(t)
    if len(groups) != len(sources):
        raise InputError(f"groups has {len(groups)} entries for {len(sources)} sources")
    if len(groups) and groups.max() >= k:
        raise InputError(f"groups name set {groups.max()} but only {k} limits are given")
    if np.isnan(limits).any() or (limits < 0).any():
        raise InputError(f"limits must be walk distances >= 0 (m), not {limits.tolist()}")
    if len(sources) >= np.iinfo(np.int32).max:
        raise InputError(f"{len(sources)} sources are more than an int32 block can number")
    if n_t == 0 or k == 0 or len(sources) == 0:
        none = np.full((n_t, k), -1, np.int32) if labels else None
        return NearestSource(np.full((n_t, k), np.inf), none)
    distance = np.empty((n_t, k))  # the kernel writes every row
    source = np.empty((n_t if labels else 0, k), np.int32)
    s = _snapped(sources, len(edge_u), "sources")
    keep = np.flatnonzero(groups >= 0)
    row = keep[np.argsort(groups[keep], kind="stable")]  # by set, rows ascending within one
    set_start = np.searchsorted(groups[row], np.arange(k + 1)).astype(np.int64)
    _kernel.nearest_all(
        csr.indptr,
        csr.indices,
        csr.data,
        edge_u,
        edge_v,
        s.edge[row],
        s.to_u[row],
        s.to_v[row],
        s.access[row],
        s.position[row],
        row.astype(np.int32),
        set_start,
        limits,
        t.edge,
        t.to_u,
        t.to_v,
        t.access,
        t.position,
        distance,
        source,
        bool(labels),
    )
    return NearestSource(distance, source if labels else None)


def source_node_distances(
    csr: sparse.csr_array,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    sources: pd.DataFrame,
    *,
    limit: float,
    block: int = 64,
) -> sparse.csr_array:
    """Walk distance from each source to every street node within ``limit`` (sparse).

    Row ``i`` is source ``i`` (a snapped point: its access plus the along-edge offset to each
    end are included); column ``j`` is node position ``j``. Absent entries are farther than
    ``limit``. A source standing exactly on a node has that node at its access distance
    (stored, never dropped as zero). One compiled bounded search per source: work and memory
    follow the nodes each one reaches, not the network's size. Sources go in blocks of
    ``block`` rows only for the progress bar, shown when there is more than one block and
    progress bars are on (``embedsite.config_context(progress=True)``).
    """
    n = csr.shape[0]
    k = len(sources)
    if k == 0:
        return sparse.csr_array((0, n))
    s = _snapped(sources, len(edge_u), "sources")
    a, b, wa, wb = _kernel.seed_links(edge_u, edge_v, s.edge, s.to_u, s.to_v, s.access)
    ptrs, cols, vals = [], [], []
    starts: Iterable[int] = range(0, k, block)
    if show_progress() and k > block:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="walk distances from sources", unit="block",
                      total=-(-k // block))  # fmt: skip
    nnz = 0
    for start in starts:  # blocks of sources, for the progress bar: each a compiled loop
        part = slice(start, min(start + block, k))
        ptr, col, val = _kernel.per_source_dijkstra(
            csr.indptr, csr.indices, csr.data, a[part], b[part], wa[part], wb[part], float(limit)
        )
        ptrs.append(ptr[1:] + nnz)
        cols.append(col)
        vals.append(val)
        nnz += len(col)
    indptr = np.concatenate([np.zeros(1, np.int64), *ptrs])
    out = sparse.csr_array((np.concatenate(vals), np.concatenate(cols), indptr), shape=(k, n))
    return out


def pair_distances(
    node_dist: sparse.csr_array,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    sources: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    limit: float,
) -> sparse.coo_array:
    """Walk distances of every (source, target) pair within ``limit``, as a sparse matrix.

    ``node_dist`` is :func:`source_node_distances` of the same sources. Entry ``(i, j)`` is
    the exact walk distance from source ``i`` to target ``j`` (access + along-edge network
    distance + access); pairs farther than ``limit`` are absent. Built by joining node
    distances to the targets standing on edges at those nodes, in one compiled pass
    (:func:`embedsite._paths_kernel.pair_join`; entries sorted by source, then target): memory
    follows the number of pairs within reach, never sources x targets.
    """
    k, m = node_dist.shape[0], len(targets)
    if k == 0 or m == 0:
        return sparse.coo_array((k, m))
    csr = sparse.csr_array(node_dist)
    s = _snapped(sources, len(edge_u), "sources")
    t = _snapped(targets, len(edge_u), "targets")
    rows, cols, vals = _kernel.pair_join(
        csr.indptr,
        csr.indices,
        csr.data,
        edge_u,
        edge_v,
        s.edge,
        s.access,
        s.position,
        t.edge,
        t.to_u,
        t.to_v,
        t.access,
        t.position,
        int(node_dist.shape[1]),
        float(limit),
    )
    return sparse.coo_array((vals, (rows, cols)), shape=(k, m))

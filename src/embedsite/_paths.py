"""Exact walk distances from many snapped sources to many snapped targets (private).

The engine of the coverage stage. Every source (a facility snapped onto a street edge) becomes a
virtual node joined to the two ends of its edge by the access distance plus the distance along
the edge to that end. One multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra`` with
``min_only=True``), bounded by the walk radius, then gives every street node its distance to
the nearest source and which source that is. A target (a resident) on edge ``(u, v)`` at
``to_u``/``to_v`` with access ``a`` is at ``min(d[u] + to_u, d[v] + to_v) + a``; a source on the
same edge is also reached directly along it. Nothing is dense in sources x targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from embedsite._config import show_progress
from embedsite._graphbuild import ranges

__all__ = [
    "NearestSource",
    "Targets",
    "nearest_source",
    "pair_distances",
    "prepare_targets",
    "source_node_distances",
]


@dataclass(frozen=True)
class NearestSource:
    """For each target: walk distance (m, ``inf`` beyond the limit) and nearest source position
    (row of the sources table, -1 when none is within the limit)."""

    distance: np.ndarray
    source: np.ndarray


def _augmented(
    csr: sparse.csr_array,
    u: np.ndarray,
    v: np.ndarray,
    src_edge: np.ndarray,
    src_to_u: np.ndarray,
    src_to_v: np.ndarray,
    src_access: np.ndarray,
) -> sparse.csr_array:
    """The street graph plus one virtual node per source, joined only outwards.

    Only the ``k`` new rows are built; the street rows are reused as they are (their
    column indices stay valid, the new columns being unreachable from them).
    """
    n = csr.shape[0]
    k = len(src_edge)
    a, b = u[src_edge], v[src_edge]
    # csgraph drops explicit zeros from sparse input: keep zero-cost links as tiny ones
    wa = np.maximum(src_access + src_to_u, 1e-9)
    wb = np.maximum(src_access + src_to_v, 1e-9)
    loop = a == b  # a source on a self-loop edge: one link, the shorter way round
    wa = np.where(loop, np.minimum(wa, wb), wa)
    cols = np.column_stack([a, b])
    weights = np.column_stack([wa, wb])
    count = np.where(loop, 1, 2)
    swap = ~loop & (b < a)  # CSR rows want sorted columns
    cols[swap] = cols[swap][:, ::-1]
    weights[swap] = weights[swap][:, ::-1]
    keep = np.column_stack([np.ones(k, dtype=bool), ~loop])
    indptr = np.concatenate([csr.indptr, csr.indptr[-1] + np.cumsum(count)])
    indices = np.concatenate([csr.indices, cols[keep]])
    data = np.concatenate([csr.data, weights[keep]])
    return sparse.csr_array((data, indices, indptr), shape=(n + k, n + k))


@dataclass(frozen=True)
class Targets:
    """Snapped targets as plain arrays, prepared once for many :func:`nearest_source` calls.

    ``order`` sorts the targets by edge and ``edges`` holds their edges in that order, so the
    targets sharing an edge with a source are found by binary search per source.
    """

    tu: np.ndarray
    tv: np.ndarray
    to_u: np.ndarray
    to_v: np.ndarray
    position: np.ndarray
    access: np.ndarray
    order: np.ndarray
    edges: np.ndarray

    def __len__(self) -> int:
        return len(self.tu)


def prepare_targets(targets: pd.DataFrame, edge_u: np.ndarray, edge_v: np.ndarray) -> Targets:
    """The arrays of snapped ``targets`` (``PedestrianNetwork.snap`` output) for the engine."""
    edge = targets["edge"].to_numpy(np.int64)
    order = np.argsort(edge, kind="stable")
    return Targets(
        tu=edge_u[edge],
        tv=edge_v[edge],
        to_u=targets["to_u_m"].to_numpy(float),
        to_v=targets["to_v_m"].to_numpy(float),
        position=targets["position_m"].to_numpy(float),
        access=targets["access_m"].to_numpy(float),
        order=order,
        edges=edge[order],
    )


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
    t = targets if isinstance(targets, Targets) else prepare_targets(targets, edge_u, edge_v)
    n_t = len(t)
    if len(sources) == 0 or n_t == 0:
        return NearestSource(np.full(n_t, np.inf), np.full(n_t, -1, dtype=np.int64))
    n = csr.shape[0]
    s_edge = sources["edge"].to_numpy(np.int64)
    s_acc = sources["access_m"].to_numpy(float)
    graph = _augmented(
        csr,
        edge_u,
        edge_v,
        s_edge,
        sources["to_u_m"].to_numpy(float),
        sources["to_v_m"].to_numpy(float),
        s_acc,
    )
    dist, _, origin = csgraph.dijkstra(
        graph,
        directed=True,
        indices=np.arange(n, n + len(sources)),
        min_only=True,
        limit=limit,
        return_predecessors=True,
    )
    origin = np.where(origin >= n, origin - n, -1)
    via_u = dist[t.tu]
    via_u += t.to_u
    via_v = dist[t.tv]
    via_v += t.to_v
    who = origin[np.where(via_u <= via_v, t.tu, t.tv)]
    best = np.minimum(via_u, via_v, out=via_u)

    # a source on the target's own edge is also reached directly along it: per source, the
    # targets of its edge are a range of the edge-sorted targets (binary search, no pass
    # over all targets)
    lo = np.searchsorted(t.edges, s_edge, side="left")
    n_same = np.searchsorted(t.edges, s_edge, side="right") - lo
    if n_same.any():
        pos, s_of = ranges(lo, n_same)
        t_of = t.order[pos]
        direct = np.abs(t.position[t_of] - sources["position_m"].to_numpy(float)[s_of])
        direct += s_acc[s_of]
        # per target: the shortest direct walk, then the first source achieving it
        # (ufunc.at, no sort of the matches: dense edges hold thousands of targets)
        shortest = np.full(n_t, np.inf)
        np.minimum.at(shortest, t_of, direct)
        ties = direct == shortest[t_of]
        first_src = np.full(n_t, len(s_edge), dtype=np.int64)
        np.minimum.at(first_src, t_of[ties], s_of[ties])
        closer = np.flatnonzero(shortest < best)
        best[closer] = shortest[closer]
        who[closer] = first_src[closer]

    total = best
    total += t.access
    beyond = ~(total <= limit)
    total[beyond] = np.inf
    who[beyond] = -1
    return NearestSource(total, who.astype(np.int64, copy=False))


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
    (stored, never dropped as zero). Sources are run in blocks of ``block`` rows so memory
    stays ``block x nodes``. A progress bar shows when there is more than one block and
    progress bars are on (``embedsite.config_context(progress=True)``).
    """
    n = csr.shape[0]
    k = len(sources)
    if k == 0:
        return sparse.csr_array((0, n))
    graph = _augmented(
        csr,
        edge_u,
        edge_v,
        sources["edge"].to_numpy(),
        sources["to_u_m"].to_numpy(float),
        sources["to_v_m"].to_numpy(float),
        sources["access_m"].to_numpy(float),
    )
    rows, cols, vals = [], [], []
    starts: Iterable[int] = range(0, k, block)
    if show_progress() and k > block:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="walk distances from sources", unit="block",
                      total=-(-k // block))  # fmt: skip
    for start in starts:  # blocks of sources, not one Python step per source
        idx = np.arange(n + start, n + min(start + block, k))
        dist = np.atleast_2d(csgraph.dijkstra(graph, directed=True, indices=idx, limit=limit))
        r, c = np.nonzero(np.isfinite(dist[:, :n]))
        rows.append(r + start)
        cols.append(c)
        vals.append(dist[r, c])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    v = np.concatenate(vals)
    out = sparse.coo_array((np.maximum(v, 1e-12), (r, c)), shape=(k, n)).tocsr()
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
    distances to the targets standing on edges at those nodes: memory follows the number of
    pairs within reach, never sources x targets.
    """
    k, m = node_dist.shape[0], len(targets)
    if k == 0 or m == 0:
        return sparse.coo_array((k, m))
    coo = node_dist.tocoo()
    reach = pd.DataFrame({"s": coo.row, "node": coo.col, "d": coo.data})
    t_edge = targets["edge"].to_numpy()
    t_acc = targets["access_m"].to_numpy(float)
    t_all = np.arange(m)
    ends = pd.DataFrame(
        {
            "t": np.concatenate([t_all, t_all]),
            "node": np.concatenate([edge_u[t_edge], edge_v[t_edge]]),
            "off": np.concatenate(
                [targets["to_u_m"].to_numpy(float), targets["to_v_m"].to_numpy(float)]
            ),
        }
    )
    pairs = reach.merge(ends, on="node")
    pairs["d"] = pairs["d"] + pairs["off"] + t_acc[pairs["t"].to_numpy()]
    s_edge = sources["edge"].to_numpy()
    same = pd.DataFrame({"s": np.arange(k), "edge": s_edge}).merge(
        pd.DataFrame({"t": np.arange(m), "edge": t_edge}), on="edge"
    )
    if len(same):
        s_i, t_i = same["s"].to_numpy(), same["t"].to_numpy()
        direct = (
            np.abs(
                sources["position_m"].to_numpy(float)[s_i]
                - targets["position_m"].to_numpy(float)[t_i]
            )
            + sources["access_m"].to_numpy(float)[s_i]
            + t_acc[t_i]
        )
        pairs = pd.concat([pairs, pd.DataFrame({"s": s_i, "t": t_i, "d": direct})])
    best = pairs.groupby(["s", "t"], sort=False)["d"].min()
    best = best[best <= limit]
    s_idx = best.index.get_level_values(0).to_numpy()
    t_idx = best.index.get_level_values(1).to_numpy()
    return sparse.coo_array((np.maximum(best.to_numpy(), 1e-12), (s_idx, t_idx)), shape=(k, m))

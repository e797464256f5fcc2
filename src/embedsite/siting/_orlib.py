"""OR-Library p-median instances (Beasley 1985): reader and a generator of the same family.

The OR-Library ``pmed`` files describe an undirected graph on vertices ``1..n`` with integer
edge costs; the p-median cost matrix is the all-pairs shortest-path distance over that graph,
every vertex being both a client (weight 1) and a candidate site. Where an edge is listed more
than once the LAST cost counts: that convention reproduces the published optima.

:func:`random_instance` draws graphs of the same family (connected, integer edge costs
uniform in 1..100, ``n**2 / 50`` edges as in pmed1-40). They are *the same family, not the
published instances*: their optima are unknown and must be proven by the solver.

References
----------
J.E. Beasley, "A note on solving large p-median problems", European Journal of Operational
Research 21 (1985) 270-273.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from embedsite.errors import DataFileError, InputError

__all__ = ["ORLibInstance", "distance_matrix", "random_instance", "read_pmed"]


@dataclass(frozen=True)
class ORLibInstance:
    """A p-median instance of the OR-Library family.

    Attributes
    ----------
    name
        File stem (``"pmed1"``) or ``"random-n{n}-seed{seed}"``.
    n, p
        Vertices and the number of medians asked for.
    edges
        ``(m, 3)`` int array of ``i, j, cost`` (0-based vertices), as read or drawn.
    cost
        ``(n, n)`` float all-pairs shortest-path distances.
    """

    name: str
    n: int
    p: int
    edges: np.ndarray
    cost: np.ndarray


def distance_matrix(n: int, edges: np.ndarray) -> np.ndarray:
    """All-pairs shortest-path distances of an undirected graph; the last duplicate edge counts.

    Parameters
    ----------
    n
        Number of vertices (0-based ``0..n-1``).
    edges
        ``(m, 3)`` array of ``i, j, cost``.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` float distances (``inf`` between components).

    Examples
    --------
    >>> import numpy as np
    >>> d = distance_matrix(3, np.array([[0, 1, 5], [1, 2, 1], [0, 1, 2]]))
    >>> d[0].tolist()
    [0.0, 2.0, 3.0]
    """
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 3)
    if len(e) and (e[:, :2].min() < 0 or e[:, :2].max() >= n):
        raise InputError(f"edge endpoints must lie in 0..{n - 1}; got {e[:, :2].min()}..")
    i = np.minimum(e[:, 0], e[:, 1])
    j = np.maximum(e[:, 0], e[:, 1])
    key = i * n + j
    # keep the LAST occurrence of every undirected edge
    _, first_rev = np.unique(key[::-1], return_index=True)
    keep = len(key) - 1 - first_rev
    i, j, c = i[keep], j[keep], e[keep, 2].astype(float)
    loop = i != j
    i, j, c = i[loop], j[loop], c[loop]
    g = sparse.coo_array((c, (i, j)), shape=(n, n)).tocsr()
    return np.asarray(csgraph.shortest_path(g, method="D", directed=False))


def read_pmed(path: str | Path) -> ORLibInstance:
    """Read an OR-Library ``pmedN.txt`` file.

    Parameters
    ----------
    path
        The file: first line ``n m p``, then ``m`` lines ``i j cost`` (1-based vertices).

    Returns
    -------
    ORLibInstance

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = pathlib.Path(d) / "tiny.txt"
    ...     _ = f.write_text("3 3 1\\n1 2 4\\n2 3 1\\n1 2 2\\n")
    ...     inst = read_pmed(f)
    >>> inst.n, inst.p, inst.cost[0].tolist()
    (3, 1, [0.0, 2.0, 3.0])
    """
    path = Path(path)
    try:
        tokens = path.read_text().split()
    except OSError as exc:
        raise DataFileError(f"cannot read OR-Library file {str(path)!r}: {exc}") from exc
    try:
        n, m, p = (int(t) for t in tokens[:3])
        body = np.array(tokens[3 : 3 + 3 * m], dtype=np.int64)
    except ValueError as exc:
        raise DataFileError(f"{str(path)!r} is not an OR-Library pmed file: {exc}") from exc
    if body.size != 3 * m:
        raise DataFileError(
            f"{str(path)!r} announces {m} edges but holds {body.size // 3}; the file is cut"
        )
    edges = body.reshape(m, 3)
    edges[:, :2] -= 1
    return ORLibInstance(path.stem, n, p, edges, distance_matrix(n, edges))


def random_instance(n: int, p: int, *, seed: int = 0, m: int | None = None) -> ORLibInstance:
    """Draw a connected random graph of the OR-Library pmed family (not a published instance).

    Construction (after Beasley 1985): a random Hamiltonian path through the ``n`` vertices
    makes the graph connected; further distinct vertex pairs are drawn uniformly until the
    graph has ``m`` edges (default ``n**2 // 50``, the pmed1-40 density, at least ``n - 1``);
    every edge cost is an integer uniform in 1..100. The cost matrix is the shortest-path
    distance, every vertex a client of weight 1 and a candidate site.

    Parameters
    ----------
    n
        Vertices (>= 2).
    p
        Medians asked for (stored on the instance).
    seed
        Seed of the numpy generator.
    m
        Number of edges; default ``n**2 // 50``.

    Returns
    -------
    ORLibInstance

    Examples
    --------
    >>> inst = random_instance(50, 5, seed=1)
    >>> inst.cost.shape, bool(np.isfinite(inst.cost).all()), len(inst.edges)
    ((50, 50), True, 50)
    """
    if n < 2:
        raise InputError(f"n must be at least 2; got {n}")
    max_edges = n * (n - 1) // 2
    m = max(n - 1, n * n // 50) if m is None else int(m)
    if not n - 1 <= m <= max_edges:
        raise InputError(f"m must lie in {n - 1}..{max_edges} for n = {n}; got {m}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    a, b = order[:-1], order[1:]
    key = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
    while len(key) < m:
        need = m - len(key)
        u = rng.integers(0, n, size=2 * need + 8)
        v = rng.integers(0, n, size=2 * need + 8)
        ok = u != v
        extra = np.minimum(u, v)[ok] * n + np.maximum(u, v)[ok]
        extra = extra[~np.isin(extra, key)]
        _, first = np.unique(extra, return_index=True)
        extra = extra[np.sort(first)][:need]
        key = np.concatenate([key, extra])
    cost = rng.integers(1, 101, size=len(key))
    edges = np.column_stack([key // n, key % n, cost]).astype(np.int64)
    return ORLibInstance(f"random-n{n}-seed{seed}", n, p, edges, distance_matrix(n, edges))

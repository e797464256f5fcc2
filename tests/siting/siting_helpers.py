"""Shared by the siting tests: brute force on tiny instances, random instances, the sample."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "helsinki.osm.pbf"
ORLIB = ROOT.parent / "shared" / "orlib"


def subsets(items: np.ndarray, sizes: range):
    for k in sizes:
        yield from itertools.combinations(items.tolist(), k)


def nearest(cost: np.ndarray, open_mask: np.ndarray) -> np.ndarray:
    if not open_mask.any():
        return np.full(cost.shape[0], np.inf)
    return cost[:, open_mask].min(axis=1)


def brute_lscp(cost, w, fixed, site_cost, radius):
    """Cheapest set of new sites covering every w>0 client (None: infeasible)."""
    new = np.flatnonzero(~fixed)
    best = None
    for S in subsets(new, range(len(new) + 1)):
        mask = fixed.copy()
        mask[list(S)] = True
        if ((nearest(cost, mask) <= radius) | (w <= 0)).all():
            value = float(site_cost[list(S)].sum())
            best = value if best is None else min(best, value)
    return best


def brute_mclp(cost, w, fixed, radius, p, site_cost=None, budget=None):
    new = np.flatnonzero(~fixed)
    before = w[nearest(cost, fixed) <= radius].sum()
    best = 0.0
    top = len(new) if p is None else min(p, len(new))
    for S in subsets(new, range(top + 1)):
        if budget is not None and site_cost[list(S)].sum() > budget + 1e-9:
            continue
        mask = fixed.copy()
        mask[list(S)] = True
        best = max(best, float(w[nearest(cost, mask) <= radius].sum() - before))
    return best


def brute_pmedian(cost, w, fixed, p, unreached=None):
    new = np.flatnonzero(~fixed)
    best = np.inf
    c = cost if unreached is None else np.where(np.isfinite(cost), cost, unreached)
    for S in itertools.combinations(new.tolist(), p):
        mask = fixed.copy()
        mask[list(S)] = True
        d = nearest(c, mask)
        if unreached is not None:
            d = np.where(np.isfinite(d), d, unreached)
        act = w > 0
        best = min(best, float(w[act] @ d[act]) if np.isfinite(d[act]).all() else np.inf)
    return best


def brute_pcenter(cost, w, fixed, p):
    new = np.flatnonzero(~fixed)
    best = np.inf
    act = w > 0
    if not act.any():
        return 0.0
    for S in subsets(new, range(min(p, len(new)) + 1)):
        mask = fixed.copy()
        mask[list(S)] = True
        best = min(best, float(nearest(cost, mask)[act].max()))
    return best


def allocation_lp(cost, w, q, cap, open_mask, *, limit, kind, unreached=None):
    """Optimal fractional allocation for fixed open sites, by scipy's linprog."""
    n, m = cost.shape
    pairs = [(i, j) for i in range(n) for j in range(m)
             if open_mask[j] and w[i] > 0 and cost[i, j] <= limit]  # fmt: skip
    act = np.flatnonzero(w > 0)
    nu = len(act) if (kind == "pmedian" and unreached is not None) else 0
    k = len(pairs)
    if k + nu == 0:
        return 0.0 if kind == "mclp" or len(act) == 0 else np.inf
    if kind == "mclp":
        c = -np.array([w[i] for i, _ in pairs])
    else:
        c = np.array(
            [w[i] * cost[i, j] for i, j in pairs] + [w[i] * (unreached or 0) for i in act[:nu]]
        )
    A_client = np.zeros((n, k + nu))
    for t, (i, _) in enumerate(pairs):
        A_client[i, t] = 1
    for t, i in enumerate(act[:nu]):
        A_client[i, k + t] = 1
    A_cap = np.zeros((m, k + nu))
    for t, (i, j) in enumerate(pairs):
        A_cap[j, t] = q[i]
    capv = np.where(np.isfinite(cap), cap, 1e12)
    if kind == "mclp":
        res = linprog(c, A_ub=np.vstack([A_client, A_cap]), b_ub=np.concatenate([np.ones(n), capv]),
                      bounds=(0, 1), method="highs")  # fmt: skip
        return -res.fun
    rows = act
    res = linprog(c, A_ub=A_cap, b_ub=capv, A_eq=A_client[rows], b_eq=np.ones(len(rows)),
                  bounds=(0, 1), method="highs")  # fmt: skip
    return res.fun if res.status == 0 else np.inf


@st.composite
def instances(draw, *, max_clients=7, max_sites=6, allow_inf=True):
    """A small random instance: integer costs (some beyond reach), weights, fixed sites."""
    n = draw(st.integers(1, max_clients))
    m = draw(st.integers(1, max_sites))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 1000, size=(n, m)).astype(float)
    if allow_inf and draw(st.booleans()):
        cost[rng.random((n, m)) < 0.25] = np.inf
    w = rng.integers(0, 10, size=n).astype(float)
    if draw(st.booleans()):
        w[w == 0] = 1.0
    n_fixed = draw(st.integers(0, max(0, m - 1)))
    fixed = np.zeros(m, dtype=bool)
    fixed[rng.choice(m, size=n_fixed, replace=False)] = True
    site_cost = rng.integers(1, 5, size=m).astype(float)
    return cost, w, fixed, site_cost


def as_sparse(cost: np.ndarray) -> sparse.csr_array:
    """The same costs as a sparse matrix: absent = beyond reach (zeros kept as entries)."""
    r, c = np.nonzero(np.isfinite(cost))
    return sparse.csr_array((cost[r, c], (r, c)), shape=cost.shape)


def read_orlib(name: str) -> np.ndarray:
    """All-pairs shortest-path costs of an OR-Library p-median instance (last edge counts)."""
    from scipy.sparse.csgraph import shortest_path

    lines = (ORLIB / f"{name}.txt").read_text().split("\n")
    n, _m, _p = map(int, lines[0].split())
    edges = {}
    for line in lines[1:]:
        parts = line.split()
        if len(parts) == 3:
            i, j, c = map(int, parts)
            edges[(min(i, j), max(i, j))] = c
    g = np.full((n, n), np.inf)
    for (i, j), c in edges.items():
        g[i - 1, j - 1] = g[j - 1, i - 1] = c
    np.fill_diagonal(g, 0)
    return shortest_path(sparse.csr_array(np.where(np.isfinite(g), g, 0)), directed=False)


@functools.cache
def sample_inputs():
    """Helsinki sample: network, coverage of three types, candidate sites (street nodes)."""
    import embedsite.demand as ed
    import embedsite.facilities as ef
    import embedsite.network as en
    from embedsite import coverage

    net = en.from_osm_file(SAMPLE)
    homes = ed.from_osm_file(SAMPLE, net, on_far="drop")
    supply = ef.from_osm_file(SAMPLE, net)
    cov = coverage.compute(
        net, homes, supply, types=["community_health_station", "nursery", "kindergarten"]
    )
    return net, cov, candidates_on(net, step=10)


def candidates_on(net, *, step: int = 10, allowed: str = "") -> gpd.GeoDataFrame:
    """Candidate sites at every ``step``-th street node, with the Candidates column contract."""
    nodes = net.nodes.iloc[::step]
    pts = gpd.GeoDataFrame(
        geometry=nodes.geometry.to_numpy(),
        index=[f"cand:{i}" for i in range(len(nodes))],
        crs=net.crs,
    )
    snapped = net.snap(pts)
    rng = np.random.default_rng(7)
    return snapped.assign(
        kind="user",
        name=None,
        source="table",
        osm_id=None,
        floor_area_m2=rng.uniform(150, 900, len(snapped)).round(),
        floor_area_estimated=False,
        land_area_m2=np.nan,
        cost=np.nan,
        allowed_types=allowed,
        land_use=None,
    )


@st.composite
def small_integer_pmedian(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """A tiny p-median with integer costs 0-40 (ties likely) and weights 1-3."""
    m = draw(st.integers(2, 9))
    n = draw(st.integers(2, 8))
    cost = np.array(draw(st.lists(st.integers(0, 40), min_size=m * n, max_size=m * n)), float)
    w = np.array(draw(st.lists(st.integers(1, 3), min_size=m, max_size=m)), float)
    p = draw(st.integers(1, n - 1))
    return cost.reshape(m, n), w, p


def pmedian_optima(cost: np.ndarray, w: np.ndarray, p: int) -> tuple[float, list[set[int]]]:
    """The p-median optimum by enumeration, and every set of ``p`` sites reaching it."""
    vals = {
        s: float(w @ cost[:, list(s)].min(axis=1))
        for s in itertools.combinations(range(cost.shape[1]), p)
    }
    opt = min(vals.values())
    return opt, [set(s) for s, v in vals.items() if v == opt]

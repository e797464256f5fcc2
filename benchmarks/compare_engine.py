"""The coverage engine before and after the compiled kernels, interleaved in one process.

Per network (Nanjing, Chengdu, Andorra; the work of bench_coverage.py: 10 types x 50 seeded
facilities, 100k seeded residents, limit 1500 m) each round times, one after the other:

* ``kernel``: ``embedsite_run`` of bench_coverage.py (``prepare_targets`` + 10
  ``_paths.nearest_source``, now the numba kernel);
* ``scipy``: the same with the scipy implementation it replaced (augmented CSR +
  ``csgraph.dijkstra(min_only=True)`` + numpy per-target work), kept verbatim in
  tests/test_paths.py as the tests' reference;
* ``nodes kernel`` / ``nodes scipy``: ``source_node_distances`` of the 500 facilities with
  limit 1500 m, and the scipy version (used by service areas, siting and 2SFCA).

The first call of each kernel in this process is reported apart (``cold``: numba compiling, or
loading its on-disk cache). Both give the same distances (checked each round).

Run from the repository root::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/compare_engine.py [--rounds 7] [--quick]

A plain script, never collected by pytest.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import logging
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import embedsite.network as en
from bench_coverage import LIMIT, N_RES, QUICK, RES_MAX_M, embedsite_run, facilities, random_snapped
from bench_network import FILES, machine, show, timed
from embedsite._paths import source_node_distances

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_paths import (
    _scipy_nearest_source,
    _scipy_prepare_targets,
    _scipy_source_node_distances,
)

NAMES = ("Nanjing", "Chengdu", "Andorra")


def _scipy_run(csr, u, v, per_type, res) -> np.ndarray:
    targets = _scipy_prepare_targets(res, u, v)
    return np.column_stack([_scipy_nearest_source(csr, u, v, s, targets, limit=LIMIT).distance
                            for s in per_type])  # fmt: skip


def one(name: str, rounds: int) -> dict[str, Any]:
    net = en.from_osm_file(FILES[name])
    csr, (u, v) = net.csr, net.edge_nodes
    per_type, _ = facilities(net)
    _, res = random_snapped(net, N_RES, RES_MAX_M, seed=2)
    everyone = pd.concat(per_type)
    t_cold, _ = timed(lambda: embedsite_run(csr, u, v, per_type, res), 1)
    t_cold_nodes, _ = timed(lambda: source_node_distances(csr, u, v, everyone, limit=LIMIT), 1)
    times: dict[str, list[float]] = {k: [] for k in ("kernel", "scipy", "nk", "ns")}
    for _ in range(rounds):
        t, d_k = timed(lambda: embedsite_run(csr, u, v, per_type, res), 1)
        times["kernel"].append(t)
        t, d_s = timed(lambda: _scipy_run(csr, u, v, per_type, res), 1)
        times["scipy"].append(t)
        np.testing.assert_allclose(d_k, d_s, rtol=0, atol=1e-9)
        t, n_k = timed(lambda: source_node_distances(csr, u, v, everyone, limit=LIMIT), 1)
        times["nk"].append(t)
        t, n_s = timed(lambda: _scipy_source_node_distances(csr, u, v, everyone, limit=LIMIT), 1)
        times["ns"].append(t)
        assert (n_k != n_s).nnz == 0
    med = {k: statistics.median(x) for k, x in times.items()}
    return {
        "network": name,
        "nodes": len(net.nodes),
        "residents": len(res),
        "kernel cold s": t_cold,
        "kernel s": med["kernel"],
        "scipy s": med["scipy"],
        "scipy/kernel": med["scipy"] / med["kernel"],
        "per type ms": 1e3 * med["kernel"] / len(per_type),
        "nodes kernel cold s": t_cold_nodes,
        "nodes kernel s": med["nk"],
        "nodes scipy s": med["ns"],
        "nodes scipy/kernel": med["ns"] / med["nk"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="Nanjing only")
    args = ap.parse_args()
    logging.getLogger("embedsite").setLevel(logging.WARNING)
    print(machine(), f"load average {os.getloadavg()}")
    rows = [one(n, args.rounds) for n in (QUICK if args.quick else NAMES)]
    show("coverage engine: compiled kernel vs scipy (interleaved)", rows)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()

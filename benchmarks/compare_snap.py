"""Before/after of the nearest-segment search of ``snap``, in one process, interleaved.

The old ``Segments`` is loaded from a copy of an earlier ``_graphbuild.py``; both answer the
same 100,000 seeded random points (``max_distance=500``) on the same network, and must give
the same segments. Also times creating the snapped points with and without the cyclic GC,
the index build of each, and prints the first (cold) call of the new search: compilation
or loading numba's on-disk cache.

Run from the repository root::

    git show 61176b4:src/embedsite/_graphbuild.py > /tmp/old_graphbuild.py
    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/compare_snap.py /tmp/old_graphbuild.py

A plain script, never collected by pytest.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

import embedsite.network as en
from bench_coverage import grid_network
from bench_network import FILES, show
from embedsite import _graphbuild


def _load_old(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("old_graphbuild", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_graphbuild"] = mod
    spec.loader.exec_module(mod)
    return mod


def _median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _one(name: str, net: en.PedestrianNetwork, old: Any, repeat: int) -> dict[str, Any]:
    xy0 = net.nodes[["x", "y"]].to_numpy()
    (minx, miny), (maxx, maxy) = xy0.min(axis=0), xy0.max(axis=0)
    rng = np.random.default_rng(2)
    xy = np.column_stack([rng.uniform(minx, maxx, 100_000), rng.uniform(miny, maxy, 100_000)])
    geom = net.edge_geometry
    t0 = time.perf_counter()
    s_old = old.Segments.of(geom)
    t_build_old = time.perf_counter() - t0
    t0 = time.perf_counter()
    s_new = _graphbuild.Segments.of(geom)
    t_build_new = time.perf_counter() - t0
    same = np.array_equal(s_old.nearest(xy, 500.0), s_new.nearest(xy, 500.0))
    t_old, t_new = [], []
    for _ in range(repeat):  # interleaved: both see the same load
        t_old.append(_median(lambda: s_old.nearest(xy, 500.0), 1))
        t_new.append(_median(lambda: s_new.nearest(xy, 500.0), 1))
    res = gpd.GeoSeries(shapely.points(xy[s_new.nearest(xy, 500.0) >= 0]), crs=net.crs)
    net.snap(res)  # builds the network's own index
    t_snap = _median(lambda: net.snap(res), repeat)
    gc.collect()
    t_gc = _median(lambda: shapely.points(xy), repeat)
    gc.disable()
    t_nogc = _median(lambda: shapely.points(xy), repeat)
    gc.enable()
    before, now = statistics.median(t_old), statistics.median(t_new)
    return {
        "network": name, "segments": len(s_new.start),
        "build_before_s": t_build_old, "build_now_s": t_build_new,
        "index_MB_now": s_new.nbytes / 1e6,
        "nearest_before_s": before, "nearest_now_s": now, "ratio": before / now,
        "same_segments": same, "residents": len(res), "snap_residents_now_s": t_snap,
        "points_gc_s": t_gc, "points_no_gc_s": t_nogc,
    }  # fmt: skip


def main(argv: list[str]) -> int:
    old = _load_old(argv[0])
    t0 = time.perf_counter()  # the first call: compiles, or loads numba's on-disk cache
    _graphbuild.Segments.of(np.array([shapely.LineString([(0, 0), (1, 1)])])).nearest(
        np.zeros((1, 2)), 1.0
    )
    print(f"cold first call (build + search of one point): {time.perf_counter() - t0:.3f} s")
    rows = [_one(name, en.from_osm_file(FILES[name]), old, 3)
            for name in ("Nanjing", "Chengdu", "Andorra")]  # fmt: skip
    rows.append(_one("grid 316 x 316", grid_network(100_000), old, 3))
    print("load average:", ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    show("Nearest segment of 100,000 random points (max 500 m), before vs now", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

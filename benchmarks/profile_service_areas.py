"""Profile the service-area polygons and time the union variants tried for issue 5.

On the 50 Helsinki areas of ``bench_service_areas.py`` (radius 500 m, buffer 25 m, warm
tiles) this prints where the time goes (the parts each area is assembled from, their
vertices, the final union against the rest), then times, in one process and interleaved
with the exact union that ``service_areas`` uses, the variants tried to make that union
cheaper, with how far each result is from the exact polygons:

- ``union_all(parts, grid_size=g)``: OverlayNG with a fixed precision model;
- the parts simplified by a small tolerance before the exact union;
- the partly reached buffers unioned first, then with the tile unions (two stages);
- the quadtree's finest tile side (12.5 m instead of ``buffer_m``).

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/profile_service_areas.py [--repeat 3]

A plain script, never collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
import embedsite._service_areas as sa
import embedsite.network as en
from bench_service_areas import FILES, facilities


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def per_area(polys: np.ndarray, group: np.ndarray, k: int, **kw: Any) -> np.ndarray:
    """One ``union_all`` per area (``grid_size`` has no axis form)."""
    return np.array([shapely.union_all(polys[group == i], **kw) for i in range(k)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    net = en.from_osm_file(FILES["Helsinki"])
    fac = facilities(net, 50)
    sa.service_areas(net, fac, 500)  # builds the tiles
    captured: dict[str, Any] = {}
    exact_union = sa._union_by_group

    def capture(polys: np.ndarray, group: np.ndarray, k: int, progress: bool = False) -> Any:
        captured["parts"] = (polys, group, k)
        return exact_union(polys, group, k, progress=progress)

    sa._union_by_group = capture  # type: ignore[assignment]
    t_all, _ = timed(lambda: sa.service_areas(net, fac, 500), args.repeat)
    sa._union_by_group = exact_union
    polys, group, k = captured["parts"]
    t_exact, exact = timed(lambda: exact_union(polys, group, k), args.repeat)
    n_v = shapely.get_num_coordinates(polys)
    print(f"load average {os.getloadavg()}")
    print(f"service_areas warm {t_all:.3f} s, of which the final union {t_exact:.3f} s")
    print(f"parts {len(polys)} ({len(polys) / k:.0f} per area), vertices {n_v.sum():,} "
          f"(per part median {np.median(n_v):.0f}, max {n_v.max()}), output vertices "
          f"{shapely.get_num_coordinates(exact).sum():,}")  # fmt: skip
    a_exact = shapely.area(exact)

    def report(name: str, t: float, out: np.ndarray) -> None:
        rel = np.abs(shapely.area(out) / a_exact - 1).max()
        sym = shapely.area(shapely.symmetric_difference(exact, out)).max()
        print(f"{name:<28}{t:>8.3f} s {t_exact / t:>6.2f}x   max rel area {rel:.1e}  "
              f"max sym diff {sym:.3g} m2")  # fmt: skip

    for g in (1e-3, 1e-2, 1e-1):
        t, out = timed(lambda: per_area(polys, group, k, grid_size=g), args.repeat)  # noqa: B023
        report(f"grid_size {g:g} m", t, out)
    for tol in (0.01, 0.05, 0.2):
        simple = shapely.simplify(polys, tol)
        t, out = timed(lambda: exact_union(simple, group, k), args.repeat)  # noqa: B023
        report(f"simplify {tol:g} m", t, out)
    big = n_v > 40  # tile unions and long edges

    def two_stage() -> np.ndarray:
        small = exact_union(polys[~big], group[~big], k)
        return exact_union(
            np.concatenate([polys[big], small]), np.concatenate([group[big], np.arange(k)]), k
        )

    t, out = timed(two_stage, args.repeat)
    report("small parts first", t, out)
    tiles = {side: sa._Tiles.of(net.edge_geometry, 25.0, side_m=side) for side in (25.0, 12.5)}
    times: dict[float, list[float]] = {25.0: [], 12.5: []}
    for _ in range(args.repeat):
        for side, tile in tiles.items():
            net._derived[sa._TILES_KEY] = {25.0: tile}
            t, _ = timed(lambda: sa.service_areas(net, fac, 500), 1)
            times[side].append(t)
    for side, ts in times.items():
        print(f"tile side {side:g} m: service_areas warm {statistics.median(ts):.3f} s")


if __name__ == "__main__":
    main()

"""Before/after of the snapping and service-area changes of commit 835c287, in one process.

* Service-area polygons on Helsinki, 50 areas, radius 500 m, buffer 25 m: the old
  construction (buffer every reached piece, one cascaded union per area) against
  ``service_areas`` now (memoised tile unions, warm).
* The nearest-segment step of snapping 100,000 seeded random points (max_distance 500 m):
  GEOS ``STRtree.query_nearest`` on the segments (the old snap) against the k-d tree search
  (``Segments.nearest``), and the whole ``snap`` now.

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/compare_before_after.py

A plain script, never collected by pytest.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

import embedsite.network as en
from bench_service_areas import FILES as SA_FILES
from bench_service_areas import facilities
from embedsite import _service_areas as sa

SNAP_FILES = {
    "Nanjing": SA_FILES["Nanjing"],
    "Chengdu": SA_FILES["Nanjing"].parent / "chengdu_center.osm",
    "Andorra": SA_FILES["Nanjing"].parent / "andorra.osm.pbf",
}


def median_time(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    logging.getLogger("embedsite").setLevel(logging.ERROR)
    net = en.from_osm_file(SA_FILES["Helsinki"])
    fac = facilities(net, 50)
    lines = sa.service_areas(net, fac, 500.0, kind="lines")
    parts, group = shapely.get_parts(lines.geometry.to_numpy(), return_index=True)
    sa.service_areas(net, fac, 500.0)  # builds the memoised tiles
    old = median_time(lambda: sa._union_by_group(shapely.buffer(parts, 25.0), group, 50))
    new = median_time(lambda: sa.service_areas(net, fac, 500.0))
    print(f"Helsinki, 50 polygons: per-piece union {old:.3f} s, tile unions {new:.3f} s "
          f"({old / new:.1f}x)")  # fmt: skip
    for name, path in SNAP_FILES.items():
        if not path.exists():
            continue
        net = en.from_osm_file(path)
        minx, miny, maxx, maxy = net.nodes.total_bounds
        rng = np.random.default_rng(2)
        n = 100_000
        pts = gpd.GeoSeries(
            shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)), crs=net.crs
        )
        net.snap(pts.iloc[:5], max_distance=1e5)
        seg = net._segments
        assert seg is not None
        xy = shapely.get_coordinates(pts.to_numpy())
        seg.geos_nearest(xy[:10])  # builds the STRtree
        t_old = median_time(lambda: seg.geos_nearest(xy))  # noqa: B023
        t_new = median_time(lambda: seg.nearest(xy, 500.0))  # noqa: B023
        t_snap = median_time(lambda: net.snap(pts, max_distance=500.0, on_far="drop"))  # noqa: B023
        print(f"{name}: nearest segment of 100k points: GEOS {t_old:.3f} s, k-d tree "
              f"{t_new:.3f} s ({t_old / t_new:.1f}x); whole snap now {t_snap:.3f} s "
              f"(with GEOS ~{t_snap - t_new + t_old:.3f} s)")  # fmt: skip


if __name__ == "__main__":
    main()

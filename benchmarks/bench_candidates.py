"""Benchmark leftover corners (金角银边): embedsite vs the geopandas overlay recipe.

**embedsite**: ``embedsite.candidates.leftover_corners(net, buildings,
require_buildings=False)``: street blocks polygonised from the noded edges, road buffers by
highway class, building footprints (courtyards filled) and the per-block differences as
array calls over all blocks (see ``embedsite/_corners.py``), pieces judged by area and width,
then snapped.

**Peer**: the recipe a user would write with geopandas: blocks = ``shapely.ops.polygonize``
of the unioned edges, ``gpd.overlay(blocks, road_buffers, how="difference")``, then
``gpd.overlay(..., buildings, how="difference")``, ``explode``, the same area and width
filters. Both get the same buildings (footprint parts with courtyards filled) and the same
half widths, so they compute the same pieces; the table shows the number of corners and
their total area from each. The recipe does not snap; embedsite's time includes snapping.

Also timed: ``candidates.from_osm_file`` (reading and judging the OSM candidates) with the
count of each kind.

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_candidates.py [--repeat 3] [--peer-repeat 1]

A plain script, never collected by pytest.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

import embedsite.candidates as ec
import embedsite.network as en
from embedsite import _corners
from embedsite._osmfeatures import read_features

ROOT = Path(__file__).resolve().parents[1]
OSM = ROOT.parent / "shared" / "data" / "osm"
FILES = {
    "Helsinki": ROOT / "data" / "sample" / "helsinki.osm.pbf",
    "Nanjing": OSM / "nanjing_xinjiekou.osm",
    "Chengdu": OSM / "chengdu_center.osm",
    "Andorra": OSM / "andorra.osm.pbf",
}
MIN_AREA, MAX_AREA, MIN_WIDTH = 150.0, 5000.0, 10.0


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def recipe(edges: gpd.GeoDataFrame, half: np.ndarray, buildings: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The geopandas overlay recipe: blocks minus road buffers minus buildings, filtered."""
    blocks = gpd.GeoDataFrame(
        geometry=list(shapely.ops.polygonize(edges.geometry.union_all())), crs=edges.crs
    )
    roads = gpd.GeoDataFrame(geometry=edges.geometry.buffer(half, quad_segs=4), crs=edges.crs)
    free = gpd.overlay(blocks, roads, how="difference", keep_geom_type=True)
    free = gpd.overlay(free, buildings, how="difference", keep_geom_type=True)
    pieces = free.explode(index_parts=False).geometry
    area = pieces.area
    wide = ~pieces.buffer(-MIN_WIDTH / 2, quad_segs=2).is_empty
    return pieces[(area >= MIN_AREA) & (area <= MAX_AREA) & wide]


def markdown(frame: pd.DataFrame) -> str:
    """A GitHub table (no tabulate dependency)."""
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]  # fmt: skip
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-repeat", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"python {platform.python_version()}, shapely {shapely.__version__} "
          f"(GEOS {shapely.geos_version_string}), geopandas {gpd.__version__}")  # fmt: skip
    rows, kinds = [], {}
    for place, path in FILES.items():
        if not path.exists():
            print(f"skip {place}: {path} missing")
            continue
        net = en.from_osm_file(path)
        raw = read_features(path, ["building"], nodes=False).to_crs(net.crs)
        parts = shapely.get_parts(raw.geometry.to_numpy())
        parts = parts[shapely.get_type_id(parts) == 3]
        filled = shapely.polygons(shapely.get_exterior_ring(parts))
        filled = filled[shapely.is_valid(filled)]
        buildings = gpd.GeoDataFrame(geometry=filled, crs=net.crs)
        edges = net.edges
        half = _corners.half_widths(edges, None)
        t_osm, cands = timed(lambda p=path, n=net: ec.from_osm_file(p, n), args.repeat)
        kinds[place] = cands.points["kind"].value_counts().to_dict()
        t_es, corners = timed(
            lambda n=net, b=buildings: ec.leftover_corners(n, b, require_buildings=False),
            args.repeat,
        )
        t_peer, pieces = timed(lambda e=edges, h=half, b=buildings: recipe(e, h, b),
                               args.peer_repeat)  # fmt: skip
        rows.append({
            "extract": place, "edges": len(edges), "buildings": len(buildings),
            "osm candidates s": round(t_osm, 3), "osm candidates": len(cands),
            "corners embedsite s": round(t_es, 3), "overlay recipe s": round(t_peer, 3),
            "ratio": f"{t_peer / t_es:.1f}x",
            "corners (es/recipe)": f"{len(corners)}/{len(pieces)}",
            "corner m² (es/recipe)":
                f"{corners.sites.area.sum():,.0f}/{pieces.area.sum():,.0f}",
        })  # fmt: skip
        print(rows[-1])
    print(markdown(pd.DataFrame(rows)))
    print(markdown(pd.DataFrame(kinds).fillna(0).astype(int).rename_axis("kind").reset_index()))


if __name__ == "__main__":
    main()

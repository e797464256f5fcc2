"""Cells of notebooks/batch.ipynb, read by build_notebooks.py (which sets the cell ids,
strips outputs and formats the code with ruff). Edit here, then rebuild:
``python notebooks/build_notebooks.py``.
"""

from __future__ import annotations

import textwrap

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell


def _md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(textwrap.dedent(text).strip())


def _code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(textwrap.dedent(text).strip())


CELLS = [
    _md(
        """
        # Batch scoring of a city on a Dask cluster

        批量评分：把一座城市分块，在 Dask 集群上并行计算，可断点续算。

        A city, let alone a province, is scored in pieces (partitions, 分区): each partition
        is one district's network, residents, facilities, coverage and scores, computed on
        whichever worker is free. `embedsite.batch.score_partitions(..., backend="dask")` sends
        the partitions to a `dask.distributed` cluster, writes each finished partition as a
        GeoParquet file as soon as it is done, and on a rerun skips the partitions already
        written: a crash, a killed worker or a pre-empted machine loses only the partitions in
        flight.

        Here the shipped sample (central Helsinki, OpenStreetMap) is split into four districts
        of 200 m hexagons and scored on a two-worker local cluster in a few seconds; the last
        section shows what changes for a province on a real cluster.
        """
    ),
    _code(
        """
        import matplotlib

        matplotlib.use("Agg")  # no window; the inline backend below renders with Agg too
        %matplotlib inline
        import logging
        import sys
        import tempfile
        import time
        from pathlib import Path

        import matplotlib.pyplot as plt
        import numpy as np
        import pandas as pd
        from distributed import Client, LocalCluster

        import embedsite.demand as ed
        import embedsite.facilities as ef
        import embedsite.network as en
        from embedsite import coverage, plotting, scoring
        from embedsite.batch import Partition, read_partitions, score_partitions

        path = "data/sample/helsinki.osm.pbf"  # central Helsinki, © OpenStreetMap, ODbL
        # the types with facilities in the sample (a type with none scores 0 everywhere)
        TYPES = ("nursery", "community_health_station", "community_service_station")

        # embedsite logs (never prints) what a batch run skips: show its INFO lines here
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logging.getLogger("embedsite.batch").addHandler(handler)
        logging.getLogger("embedsite.batch").setLevel(logging.INFO)
        """
    ),
    _md(
        """
        ## 1. Neighbourhoods and partitions 评分单元与分区

        The unit of the scores is a neighbourhood: the city's 社区 polygons where it has them,
        here a grid of 200 m hexagons over the homes (`scoring.hex_grid`; the lattice is fixed
        in the CRS, so every run and every partition gets the same cells and labels). The cells
        are grouped into four districts (NE, NW, SE, SW around the median cell), standing in
        for a city's 街道 or 区.

        A `Partition` names one self-contained piece of work: the OSM file, the district's
        area (WGS-84) and the neighbourhoods to score in it. The worker reads the streets,
        homes and facilities of the area grown by `margin_m`, so a resident near a district
        boundary still reaches the nursery across it, and scores only the district's own
        cells, so the partitions' tables simply add up to the city's. The margin must be at
        least the largest walking radius analysed: here 300 m (all three types are 5-minute
        services); the default, 2 km, is safe for the 15-minute types' 1 km too.
        """
    ),
    _code(
        """
        net = en.from_osm_file(path)
        homes = ed.from_osm_file(path, net, on_far="drop")
        cells = scoring.hex_grid(homes.points, size_m=200, only_occupied=True)
        centre = cells.geometry.centroid
        north = np.where(centre.y > centre.y.median(), "N", "S")
        east = np.where(centre.x > centre.x.median(), "E", "W")
        cells["district"] = np.char.add(north.astype(str), east.astype(str))

        wgs = cells.to_crs(4326)
        parts = [
            Partition(name, path, area=group.union_all(), name_column="name", types=TYPES,
                      neighbourhoods=group[["name", "geometry"]], margin_m=300)
            for name, group in wgs.groupby("district")
        ]
        pd.DataFrame({"district": [p.name for p in parts],
                      "cells": [len(p.neighbourhoods) for p in parts],
                      "area_km2": cells.dissolve("district").area.to_numpy() / 1e6}).round(3)
        """
    ),
    _code(
        """
        fig, ax = plt.subplots(figsize=(7, 7))
        net.edges.plot(ax=ax, color="#cccccc", linewidth=0.5)
        cells.plot(ax=ax, column="district", categorical=True, cmap="Set2", alpha=0.8,
                   edgecolor="white", legend=True, legend_kwds={"loc": "upper left"})
        ax.scatter(homes.points.geometry.x, homes.points.geometry.y, s=6, c="black")
        ax.set_title("four districts of 200 m hexagons (black: homes)")
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.text(0.99, 0.01, plotting.ATTRIBUTION, transform=ax.transAxes, ha="right", fontsize=7)
        plt.show()
        """
    ),
    _md(
        """
        ## 2. A local Dask cluster 本地集群

        Two workers of one thread each, in this process (`processes=False`): it starts in a
        fraction of a second, which suits a tutorial run in CI on a small machine. On a
        workstation use `processes=True` (one process per core, no shared interpreter lock);
        on a cluster, connect to its scheduler (section 6). `dashboard_address=":0"` puts the
        scheduler's web server (the dashboard) on any free port: on its default 8787, taken by
        another notebook or cluster, distributed would warn (`dashboard_address=None` does not
        avoid that: the scheduler still binds 8787 for its other web routes).
        """
    ),
    _code(
        """
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                               dashboard_address=":0")
        client = Client(cluster)
        print(client)
        """
    ),
    _md(
        """
        ## 3. Score every partition, resumably 并行评分与断点续算

        With `output_dir`, each worker writes its partition's table to `<name>.parquet` the
        moment it is done (to a temporary file first, then renamed, so a file is either whole
        or absent). The call returns the partitions' tables concatenated, in the order given.
        """
    ),
    _code(
        """
        out = Path(tempfile.mkdtemp()) / "scores"
        start = time.perf_counter()
        table = score_partitions(parts, backend="dask", client=client, output_dir=out)
        print(f"{len(parts)} partitions scored in {time.perf_counter() - start:.1f} s")
        sorted(f.name for f in out.glob("*.parquet"))
        """
    ),
    _md(
        """
        Now suppose the machine scoring `NE` died before its file was written: delete it and
        run the same call again. The three partitions already on disk are read back, not
        recomputed (the log line says so, and their files keep their modification times);
        only `NE` goes to the cluster. Resuming a province after a failure is just rerunning
        the script.
        """
    ),
    _code(
        """
        written = {f.name: f.stat().st_mtime_ns for f in out.glob("*.parquet")}
        (out / "NE.parquet").unlink()  # as if the worker scoring NE had been killed
        start = time.perf_counter()
        again = score_partitions(parts, backend="dask", client=client, output_dir=out)
        print(f"resumed in {time.perf_counter() - start:.1f} s")
        pd.Series({name: "recomputed" if (out / name).stat().st_mtime_ns != t else "kept"
                   for name, t in written.items()}, name="on the rerun")
        """
    ),
    _md(
        """
        ## 4. Combine the partitions 合并结果

        `read_partitions(output_dir)` reads every partition file back into one GeoDataFrame
        (WGS-84), e.g. in a later session or on another machine. Each partition ranked its own
        cells; rank them again city-wide. A check that partitioning changes nothing that
        matters: the same cells scored in one piece, on the whole city's coverage, give the
        same scores, because every walk of up to 300 m from a district's homes stays inside
        its margin. What lies beyond the margin a partition does not see: the northern
        districts have no nursery within 300 m of their area, so their mean walk to one is
        unknown (`NaN`) where the one-piece run finds 0.8-1.6 km. Use a margin as large as
        the walks you want to report (the default 2 km), or read the long walks from a
        one-piece run of the district's surroundings.
        """
    ),
    _code(
        """
        scores = read_partitions(out).sort_values(["score", "population"], ascending=[True, False])
        scores["rank"] = np.arange(1, len(scores) + 1)
        assert scores.index.is_unique and len(scores) == len(cells)

        cov = coverage.compute(net, homes, ef.from_osm_file(path, net), types=list(TYPES))
        whole = scoring.score(cells[["name", "geometry"]], cov, name_column="name")
        whole = whole.reindex(scores.index)
        gap = (scores["score"] - whole["score"]).abs().max()
        print(f"{len(scores)} neighbourhoods from {scores['partition'].nunique()} partitions; "
              f"largest score difference from the one-piece run: {gap:.2g}")
        assert gap < 1e-9
        pd.DataFrame({"partition": scores["partition"], "score": scores["score"],
                      "one_piece": whole["score"],
                      "nursery_mean_walk_m": scores["nursery.mean_walk_m"],
                      "one_piece_nursery_mean_walk_m": whole["nursery.mean_walk_m"]}).round(1)
        """
    ),
    _code(
        """
        fig, ax = plt.subplots(figsize=(8, 8))
        plotting.plot_scores(scores, coverage=cov, ax=ax, labels="en")
        districts = scores.to_crs(net.crs).dissolve("partition")
        districts.boundary.plot(ax=ax, color="black", linewidth=1.5)
        for name, centre in districts.geometry.representative_point().items():
            ax.annotate(name, (centre.x, centre.y), fontsize=12, weight="bold")
        plt.show()
        """
    ),
    _md(
        """
        ## 5. The worst neighbourhoods 最需改善的单元

        Worst first: the composite score (0-100: the share of each type's served age group
        within its radius, and the floor area per 100 households against the 80 m² target,
        equally weighted), the people living there and the components behind it. OSM gives
        no floor areas, so the area component is 0 everywhere and no cell can score above 75
        here (the coverage notebook shows how a facility register fills it in). The worst
        cells, weighted by the people in them, are the ones to take to the siting stage
        (`siting.ipynb`).
        """
    ),
    _code(
        """
        shares = [f"{t}.share_covered" for t in TYPES]
        worst = scores.head(6)[["partition", "population", "households", "score", *shares,
                                "area_norm.m2_per_100_households"]]
        worst.rename(columns=lambda c: c.removesuffix(".share_covered")).round(2)
        """
    ),
    _md(
        """
        ## 6. A province on a real cluster 全省规模

        Nothing in the calls above is local. For a province:

        ```python
        from distributed import Client

        client = Client("tcp://scheduler:8786")  # the cluster's scheduler (SSH, Kubernetes, HPC)
        parts = [Partition(f"{city}_{street}", f"/data/osm/{city}.osm.pbf", area=polygon,
                           neighbourhoods=shequ_of_street, name_column="社区名称")
                 for city, street, polygon, shequ_of_street in districts]
        table = score_partitions(parts, backend="dask", client=client,
                                 output_dir="/shared/scores/2026")
        ```

        * **One partition per 街道 (sub-district)** of a few hundred thousand residents keeps a
          worker's memory to the network around it (the walk search is bounded by the radius,
          so nothing grows with the size of the province); `batch.score_city(osm, districts,
          ...)` builds the partitions from district polygons in one call.
        * **Paths are shared**: every worker must see the OSM files and `output_dir` at the same
          paths (a network file system or an object store mounted on every node).
        * **Resuming** is rerunning the same script: finished 街道 are read back from
          `output_dir`; failed ones are named in the error and nothing else is lost.
        * **Processes, not threads**, on real workers (`dask worker --nthreads 1 --nworkers N`),
          since most of the work holds Python's interpreter lock.
        * The margin (`margin_m`, 2 km by default) must be at least the largest walking
          radius analysed, so that a resident near a district's edge sees the facilities
          beyond it; the check in section 4 is how to confirm it on two neighbouring
          districts before the whole run.
        * Each partition parses its OSM file and keeps what lies in its area: give it the
          city's extract (`osmium extract`), not the province's, or every worker parses the
          province once per 街道.
        """
    ),
    _code(
        """
        client.close()
        cluster.close()
        print("cluster closed:", cluster.status.name)
        """
    ),
]

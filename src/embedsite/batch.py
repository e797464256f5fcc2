"""Score many partitions (districts of a city, several cities): on local cores or on Dask.

A :class:`Partition` names one self-contained piece of work: an OSM file, optionally clipped
to an area (a district polygon with a margin, so residents near its edge still reach the
facilities across it), and the neighbourhoods to score in it (or a hexagon grid).
:func:`score_partition` runs the whole pipeline on one partition (network, residents,
facilities, coverage, :func:`embedsite.scoring.score`).

:func:`score_partitions` runs many: ``backend="processes"`` over local cores
(:mod:`concurrent.futures`, with a progress bar), ``backend="dask"`` on a
``dask.distributed`` cluster (a ``LocalCluster`` or any remote one), or ``"sequential"``.
With ``output_dir`` the run is resumable: each finished partition is written atomically as
GeoParquet (``<name>.parquet``) and a rerun skips the partitions already there, so a crash or
a killed worker loses nothing but the partitions in flight.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from embedsite._config import show_progress
from embedsite._io import atomic_path
from embedsite.errors import DataFileError, InputError

__all__ = [
    "Backend",
    "Partition",
    "read_partitions",
    "score_city",
    "score_partition",
    "score_partitions",
]

log = logging.getLogger(__name__)

Backend = Literal["processes", "dask", "sequential"]
_NAME_RE = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Partition:
    """One piece of a batch run.

    Parameters
    ----------
    name
        Unique label, also the output file name (letters, digits, ``_``, ``-``, Chinese).
    osm
        OSM XML/PBF file.
    area
        Clip the network to this area (WGS-84 shapely geometry), grown by ``margin_m``;
        None for the whole file.
    neighbourhoods
        Polygons to score (any CRS) or None for a hexagon grid (side ``hex_size_m``): the
        cells with residents, cut at ``area`` when it is given, so the partitions of a city
        tile it and their totals add up (a cell on a boundary appears once per partition,
        with the same label).
    name_column, hex_size_m, types, margin_m
        As for :func:`embedsite.scoring.score`; facility types to analyse (None: all);
        margin around ``area`` in metres (default 2000, the default search limit).
    """

    name: str
    osm: str | Path
    area: shapely.Geometry | None = None
    neighbourhoods: gpd.GeoDataFrame | None = None
    name_column: str | None = None
    hex_size_m: float = 500.0
    types: tuple[str, ...] | None = None
    margin_m: float = 2000.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME_RE.fullmatch(self.name):
            raise InputError(
                f"partition name {self.name!r} must be letters, digits, '_', '-' or Chinese "
                "characters (it names the output file)"
            )


def score_partition(part: Partition) -> gpd.GeoDataFrame:
    """Run the pipeline on one partition and score it (WGS-84 output, ``partition`` column).

    Examples
    --------
    >>> part = Partition("helsinki", "data/sample/helsinki.osm.pbf",
    ...                  types=("community_health_station",))
    >>> table = score_partition(part)
    >>> table["partition"].unique().tolist(), table.crs.to_epsg()
    (['helsinki'], 4326)
    """
    import embedsite.demand as ed
    import embedsite.facilities as ef
    import embedsite.network as en
    from embedsite import coverage, scoring

    polygon = None
    if part.area is not None:
        local = gpd.GeoSeries([part.area], crs=4326)
        metric = local.to_crs(local.estimate_utm_crs())
        polygon = metric.buffer(part.margin_m).to_crs(4326).iloc[0]
    net = en.from_osm_file(part.osm, polygon=polygon)
    # the residents and facilities of the same area: the rest of the file is another
    # partition's, not "far from the streets" (which the loaders would warn about)
    homes = ed.from_osm_file(part.osm, net, on_far="drop", polygon=polygon)
    supply = ef.from_osm_file(part.osm, net, polygon=polygon)
    cov = coverage.compute(net, homes, supply, types=list(part.types) if part.types else None)
    hoods = part.neighbourhoods
    if hoods is None and part.area is not None:
        # hexagons of the fixed lattice, cut at the area: partitions tile the city exactly
        area = gpd.GeoSeries([part.area], crs=4326).to_crs(net.crs)
        grid = scoring.hex_grid(area, size_m=part.hex_size_m)
        cut = grid.geometry.intersection(area.iloc[0])
        grid = grid.set_geometry(cut)[~cut.is_empty & (cut.area > 0)]
        pts = homes.points
        hit = shapely.STRtree(grid.geometry.to_numpy()).query(
            pts.geometry.to_numpy(), predicate="intersects"
        )[1]
        hoods = grid.iloc[np.unique(hit)]
    table = scoring.score(
        hoods, cov, name_column=part.name_column if part.neighbourhoods is not None else None,
        hex_size_m=part.hex_size_m,
    )  # fmt: skip
    table = table.to_crs(4326)
    table.insert(0, "partition", part.name)
    return table


def _write(table: gpd.GeoDataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        table.to_parquet(tmp)


def _run_one(
    func: Callable[[Partition], gpd.GeoDataFrame], part: Partition, out: str | None
) -> gpd.GeoDataFrame:
    """Score one partition and, with an output folder, write it (on the worker)."""
    table = func(part)
    if out is not None:
        _write(table, Path(out) / f"{part.name}.parquet")
    return table


def read_partitions(output_dir: str | Path, names: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Read the GeoParquet files a resumable run wrote (all, or the ``names`` given).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = score_partitions([Partition("hel", "data/sample/helsinki.osm.pbf",
    ...                          types=("nursery",))], backend="sequential", output_dir=d)
    ...     read_partitions(d)["partition"].unique().tolist()
    ['hel']
    """
    folder = Path(output_dir)
    files = (
        sorted(folder.glob("*.parquet"))
        if names is None
        else [folder / f"{n}.parquet" for n in names]
    )
    files = [f for f in files if not f.name.startswith(".")]
    if not files:
        raise DataFileError(f"no partition files (*.parquet) in {str(folder)!r}")
    try:
        frames = [gpd.read_parquet(f) for f in files]
    except Exception as exc:  # pyarrow raises several types
        raise DataFileError(f"cannot read the partition files in {str(folder)!r}: {exc}") from exc
    return gpd.GeoDataFrame(pd.concat(frames), crs=frames[0].crs)


def score_partitions(
    partitions: Sequence[Partition],
    *,
    backend: Backend = "processes",
    max_workers: int | None = None,
    client: Any = None,
    output_dir: str | Path | None = None,
    func: Callable[[Partition], gpd.GeoDataFrame] = score_partition,
) -> gpd.GeoDataFrame:
    """Score many partitions in parallel; resumable with ``output_dir``.

    Parameters
    ----------
    partitions
        The work, with unique names.
    backend
        ``"processes"`` (local cores, :class:`concurrent.futures.ProcessPoolExecutor`),
        ``"dask"`` (a ``dask.distributed`` client: ``client``, or a ``LocalCluster`` started
        and closed here) or ``"sequential"``.
    max_workers
        Processes for ``"processes"`` (default: the number of cores).
    client
        A ``distributed.Client`` for ``"dask"`` (any cluster: local, SSH, Kubernetes...). The
        workers must see the OSM files and ``output_dir`` at the same paths.
    output_dir
        Folder for one GeoParquet file per finished partition, written atomically by the
        worker as soon as it finishes; partitions with a file already there are read back,
        not recomputed. Without it nothing is kept if the run fails.
    func
        What to run per partition (default :func:`score_partition`; any picklable callable
        taking a :class:`Partition` and returning a GeoDataFrame).

    Returns
    -------
    GeoDataFrame
        The partitions' tables concatenated in the order of ``partitions``.

    Examples
    --------
    >>> parts = [Partition("hel", "data/sample/helsinki.osm.pbf", types=("nursery",))]
    >>> score_partitions(parts, backend="sequential")["partition"].unique().tolist()
    ['hel']
    """
    parts = list(partitions)
    if not parts:
        raise InputError("no partitions to score")
    names = [p.name for p in parts]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"partition names must be unique; repeated: {dup[:5]}")
    if backend not in ("processes", "dask", "sequential"):
        raise InputError(f"backend must be 'processes', 'dask' or 'sequential', not {backend!r}")
    out = None
    done: dict[str, gpd.GeoDataFrame] = {}
    if output_dir is not None:
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        out = str(folder)
        for p in parts:
            f = folder / f"{p.name}.parquet"
            if f.exists():
                done[p.name] = gpd.read_parquet(f)
        if done:
            log.info("%d of %d partitions already in %s; skipped", len(done), len(parts), folder)
    todo = [p for p in parts if p.name not in done]
    errors: dict[str, BaseException] = {}
    bar = None
    if show_progress() and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="scoring partitions", unit="partition")
    try:
        if backend == "sequential":
            for p in todo:
                try:
                    done[p.name] = _run_one(func, p, out)
                except Exception as exc:
                    errors[p.name] = exc
                if bar is not None:
                    bar.update()
        elif backend == "processes":
            # spawn, not fork: the parent may hold threads (Dask, tqdm, BLAS) a fork would copy
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=max_workers, mp_context=ctx) as pool:
                futs: dict[Future[gpd.GeoDataFrame], str] = {
                    pool.submit(_run_one, func, p, out): p.name for p in todo
                }
                for fut in as_completed(futs):
                    _collect(futs[fut], fut, done, errors, bar)
        else:
            _run_dask(func, todo, out, client, done, errors, bar)
    finally:
        if bar is not None:
            bar.close()
    if errors:
        failed = ", ".join(sorted(errors))
        first = next(iter(errors.values()))
        kept = f"; the {len(done)} finished ones are kept in {out}, rerun to resume" if out else ""
        first.add_note(f"{len(errors)} of {len(parts)} partitions failed ({failed}){kept}")
        raise first
    frames = [done[n] for n in names]
    return gpd.GeoDataFrame(pd.concat(frames), crs=frames[0].crs)


def _collect(
    name: str,
    fut: Any,
    done: dict[str, gpd.GeoDataFrame],
    errors: dict[str, BaseException],
    bar: Any,
) -> None:
    """Keep a finished future's table, or its error (the other partitions go on)."""
    try:
        done[name] = fut.result()
    except Exception as exc:
        log.warning("partition %s failed: %s", name, exc)
        errors[name] = exc
    if bar is not None:
        bar.update()


def _run_dask(
    func: Callable[[Partition], gpd.GeoDataFrame],
    todo: list[Partition],
    out: str | None,
    client: Any,
    done: dict[str, gpd.GeoDataFrame],
    errors: dict[str, BaseException],
    bar: Any,
) -> None:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - dask is an optional dependency
        raise ImportError(
            "backend='dask' needs dask.distributed: pip install 'embedsite[dask]'"
        ) from exc
    own = None
    if client is None:
        # the scheduler's web server on any free port: on its default 8787, already taken by
        # another notebook or cluster, it warns (dashboard_address=None still binds 8787)
        own = Client(LocalCluster(processes=True, threads_per_worker=1, dashboard_address=":0"))
        client = own
    try:
        futs = {
            client.submit(
                _run_one, func, p, out, key=f"embedsite-score-{p.name}", pure=False
            ): p.name
            for p in todo
        }
        for fut in dask_completed(list(futs)):
            _collect(futs[fut], fut, done, errors, bar)
    finally:
        if own is not None:
            cluster = own.cluster
            own.close()
            if cluster is not None:
                cluster.close()


def score_city(
    osm: str | Path,
    districts: gpd.GeoDataFrame,
    *,
    name_column: str | None = None,
    backend: Backend = "processes",
    max_workers: int | None = None,
    client: Any = None,
    output_dir: str | Path | None = None,
    hex_size_m: float = 500.0,
    types: Sequence[str] | None = None,
    margin_m: float = 2000.0,
) -> gpd.GeoDataFrame:
    """Score a whole city district by district (one partition each), in parallel.

    Each district's network is cut at the district grown by ``margin_m``, so residents
    near its edge reach facilities across it; its hexagons are cut at the district, so
    the districts' totals add up to the city's. Names (``name_column`` or the index) are
    made safe for file names (other characters become ``_``).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> d = gpd.GeoDataFrame({"区": ["西区", "东区"]}, crs=4326, geometry=[
    ...     shapely.box(24.92, 60.16, 24.944, 60.19), shapely.box(24.944, 60.16, 24.97, 60.19)])
    >>> t = score_city("data/sample/helsinki.osm.pbf", d, name_column="区",
    ...                backend="sequential", types=["nursery"], margin_m=300)
    >>> sorted(t["partition"].unique())
    ['东区', '西区']
    """
    if districts.crs is None:
        raise InputError("the districts have no CRS; set it with .set_crs(...)")
    if name_column is not None and name_column not in districts.columns:
        raise InputError(
            f"no column {name_column!r} in the districts; columns: {list(districts.columns)}"
        )
    raw = districts[name_column] if name_column is not None else districts.index.to_series()
    names = [re.sub(r"[^A-Za-z0-9_\-\u4e00-\u9fff]+", "_", str(v)).strip("_") or "district"
             for v in raw]  # fmt: skip
    geoms = districts.geometry.to_crs(4326).to_numpy()
    parts = [
        Partition(name, osm, area=geom, hex_size_m=hex_size_m,
                  types=tuple(types) if types else None, margin_m=margin_m)
        for name, geom in zip(names, geoms, strict=True)
    ]  # fmt: skip
    return score_partitions(parts, backend=backend, max_workers=max_workers, client=client,
                            output_dir=output_dir)  # fmt: skip

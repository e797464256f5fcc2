"""Read the highway ways of an OpenStreetMap file into flat arrays (private).

pyosmium (libosmium) reads OSM XML (``.osm``, ``.osm.bz2``, ``.osm.gz``) and PBF
(``.osm.pbf``) with the same code and keeps node locations in a C++ index, so a way arrives
with its coordinates. Only ways carrying a ``highway`` tag are handed to Python; their node
references and coordinates go straight into flat lists, which become numpy arrays. One pass,
no intermediate XML, no per-node Python objects kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from embedsite.errors import DataFileError, EmptyInputError

__all__ = ["WAY_TAGS", "WayTable", "check_osm_path", "read_highways"]

#: OSM way tags kept on every edge (and used by the pedestrian filter).
WAY_TAGS: tuple[str, ...] = (
    "highway",
    "name",
    "name:zh",
    "name:en",
    "ref",
    "foot",
    "access",
    "service",
    "footway",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
    "area",
    "bicycle",
    "surface",
    "smoothness",
    "lit",
    "width",
    "incline",
    "wheelchair",
    "ramp",
    "step_count",
    "bridge",
    "tunnel",
    "layer",
    "oneway",
    "junction",
    "crossing",
    "maxspeed",
    "lanes",
)

_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml", ".o5m")

#: libosmium stores an undefined coordinate as this fixed-point value.
_UNDEFINED = np.iinfo(np.int32).max


@dataclass(frozen=True)
class WayTable:
    """Highway ways of an OSM file as flat arrays.

    The nodes of way ``i`` are ``node_id[offsets[i]:offsets[i + 1]]``; ``lon``/``lat`` are NaN
    where the file references a node it does not contain (ways cut at an extract's edge).
    """

    way_id: np.ndarray
    tags: pd.DataFrame
    offsets: np.ndarray
    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    @property
    def n_ways(self) -> int:
        return len(self.way_id)


def check_osm_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise DataFileError(
            f"OpenStreetMap file {str(p)!r} does not exist; check the path "
            f"(the working directory is {str(Path.cwd())!r})."
        )
    if p.is_dir():
        raise DataFileError(f"{str(p)!r} is a folder; give the path of an .osm or .osm.pbf file.")
    name = p.name.lower()
    if not name.endswith(_SUFFIXES):
        raise DataFileError(
            f"cannot tell the format of {str(p)!r} from its name; OpenStreetMap files end in "
            f"{', '.join(_SUFFIXES)}. Rename the file or convert it (e.g. with osmium cat)."
        )
    return p


def read_highways(path: str | Path) -> WayTable:
    """Read every way tagged ``highway=*`` from an OSM XML or PBF file.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file.

    Returns
    -------
    WayTable
        The ways, their kept tags (:data:`WAY_TAGS`) and their nodes with coordinates.

    Raises
    ------
    DataFileError
        The file is missing, of an unknown format or cannot be parsed.
    EmptyInputError
        The file holds no highway ways.
    """
    import osmium

    p = check_osm_path(path)
    way_ids: list[int] = []
    counts: list[int] = []
    refs: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    records: list[dict[str, str]] = []
    try:
        processor = (
            osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in processor:
            assert isinstance(way, osmium.osm.Way)
            nodes = way.nodes
            refs.extend([n.ref for n in nodes])
            xs.extend([n.x for n in nodes])
            ys.extend([n.y for n in nodes])
            counts.append(len(nodes))
            way_ids.append(way.id)
            records.append(dict(way.tags))
    except RuntimeError as exc:  # libosmium parse errors arrive as RuntimeError
        raise DataFileError(
            f"cannot read OpenStreetMap file {str(p)!r}: {exc}. The file may be truncated or "
            "not OSM data; download or export it again."
        ) from exc
    if not way_ids:
        raise EmptyInputError(
            f"{str(p)!r} holds no ways tagged highway=*, so there are no streets to walk on. "
            "Check that the extract covers the area and was exported with its ways."
        )
    x = np.asarray(xs, dtype=np.int64)
    y = np.asarray(ys, dtype=np.int64)
    missing = (x == _UNDEFINED) | (y == _UNDEFINED)
    lon = np.where(missing, np.nan, x / 1e7)
    lat = np.where(missing, np.nan, y / 1e7)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    tags = pd.DataFrame.from_records(records, columns=list(WAY_TAGS))
    return WayTable(
        way_id=np.asarray(way_ids, dtype=np.int64),
        tags=tags,
        offsets=offsets,
        node_id=np.asarray(refs, dtype=np.int64),
        lon=lon,
        lat=lat,
    )

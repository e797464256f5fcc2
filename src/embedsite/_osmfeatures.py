"""Read tagged OpenStreetMap features (buildings, POIs, land use, gates) from a file (private).

pyosmium assembles areas (closed ways and multipolygon relations) in C++; geometries arrive
as WKB and become a shapely array in one call. Only objects with at least one of the wanted
keys reach Python. XML and PBF are read alike, offline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from embedsite._osmread import check_osm_path
from embedsite.errors import DataFileError

__all__ = ["read_features"]

log = logging.getLogger(__name__)


def read_features(
    path: str | Path,
    keys: Iterable[str],
    *,
    tags: Iterable[str] | None = None,
    nodes: bool = True,
    areas: bool = True,
    lines: bool = False,
    area: shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """Read OSM objects that carry any of ``keys`` as a GeoDataFrame in WGS-84.

    Parameters
    ----------
    path
        OSM XML or PBF file.
    keys
        OSM keys to select on (e.g. ``["building", "amenity"]``): an object carrying any of
        them is read.
    tags
        Which tag columns to keep (default: ``keys`` plus ``name``); every other tag is
        dropped. Missing tags are ``None``.
    nodes, areas, lines
        Which kinds of objects to read: tagged nodes (points), areas (closed ways and
        multipolygon relations, as (multi)polygons) and open ways (lines).
    area
        Keep only the objects that intersect this WGS-84 geometry (a study area, e.g. the
        polygon a network was cut at); default all.

    Returns
    -------
    GeoDataFrame
        Columns ``osm_type`` ("node", "way" or "relation"), ``osm_id``, the kept tags and
        ``geometry`` (EPSG:4326). ``attrs["incomplete_areas"]`` names (``"way/<id>"``,
        ``"relation/<id>"``) the areas that carry the keys but could not be assembled (a
        member outside the extract, a broken ring); they are left out and logged.

    Examples
    --------
    >>> b = read_features("data/sample/helsinki.osm.pbf", ["building"], nodes=False)
    >>> bool((b.geom_type.isin(["Polygon", "MultiPolygon"])).all()) and len(b) > 100
    True
    """
    import osmium

    p = check_osm_path(path)
    keys = list(keys)
    keep = list(dict.fromkeys([*(tags or keys), "name"]))
    wkb = osmium.geom.WKBFactory()
    kinds: list[str] = []
    ids: list[int] = []
    records: list[dict[str, str | None]] = []
    geoms: list[str] = []
    entities = osmium.osm.NODE | osmium.osm.WAY | osmium.osm.RELATION
    area_ways: set[int] = set()  # closed ways and multipolygons that should become areas
    area_relations: set[int] = set()
    try:
        proc = osmium.FileProcessor(str(p), entities).with_locations()
        if areas:
            proc = proc.with_areas(osmium.filter.KeyFilter(*keys))
        proc = proc.with_filter(osmium.filter.KeyFilter(*keys))
        for item in proc:
            obj: Any = item
            if obj.is_node():
                if not nodes:
                    continue
                assert isinstance(obj, osmium.osm.Node)
                if not obj.location.valid():
                    continue
                geom = wkb.create_point(obj)
                kinds.append("node")
                ids.append(obj.id)
            elif obj.is_area():
                if not areas:
                    continue
                assert isinstance(obj, osmium.osm.Area)
                try:
                    geom = wkb.create_multipolygon(obj)
                except RuntimeError:  # broken ring in the data: skip that object
                    continue
                kinds.append("way" if obj.from_way() else "relation")
                ids.append(obj.orig_id())
            elif obj.is_way():
                assert isinstance(obj, osmium.osm.Way)
                if obj.is_closed():
                    if areas and obj.tags.get("area") != "no":
                        area_ways.add(obj.id)
                    continue
                if not lines:
                    continue
                try:
                    geom = wkb.create_linestring(obj)
                except (RuntimeError, osmium.InvalidLocationError):
                    continue
                kinds.append("way")
                ids.append(obj.id)
            else:
                if areas and obj.is_relation() and obj.tags.get("type") == "multipolygon":
                    area_relations.add(obj.id)
                continue
            geoms.append(geom)
            records.append({k: obj.tags.get(k) for k in keep})
    except RuntimeError as exc:
        raise DataFileError(
            f"cannot read OpenStreetMap file {str(p)!r}: {exc}. The file may be truncated or "
            "not OSM data; download or export it again."
        ) from exc
    geometry = shapely.from_wkb(np.asarray([bytes.fromhex(g) for g in geoms], dtype=object))
    # single-part areas are plain polygons, as a planner expects
    parts = shapely.get_num_geometries(geometry)
    single = (shapely.get_type_id(geometry) == 6) & (parts == 1)
    geometry[single] = shapely.get_geometry(geometry[single], 0)
    frame = pd.DataFrame.from_records(records, columns=keep)
    frame.insert(0, "osm_id", np.asarray(ids, dtype=np.int64))
    frame.insert(0, "osm_type", kinds)
    out = gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
    if area is not None:
        out = out[shapely.intersects(geometry, area)]
    out.attrs["incomplete_areas"] = _incomplete(out, area_ways, area_relations, keys, p)
    return out


def _incomplete(
    read: gpd.GeoDataFrame, ways: set[int], relations: set[int], keys: list[str], path: Path
) -> tuple[str, ...]:
    """Labels of the areas that could not be assembled (cut by the extract's edge, broken)."""
    got = {
        kind: set(read["osm_id"][read["osm_type"] == kind].tolist()) for kind in ("way", "relation")
    }
    missing = [f"way/{i}" for i in sorted(ways - got["way"])]
    missing += [f"relation/{i}" for i in sorted(relations - got["relation"])]
    if missing:
        log.info(
            "%s: %d areas with %s could not be assembled (members outside the extract or "
            "broken rings) and are left out: %s%s; extract a larger area to include them",
            path.name, len(missing), "/".join(keys), ", ".join(missing[:5]),
            ", ..." if len(missing) > 5 else "",
        )  # fmt: skip
    return tuple(missing)

"""Online loaders of the pedestrian network: Overpass through osmnx (private).

Re-exported by :mod:`embedsite.network`; each download ends in
:func:`embedsite.network.from_graph` with the same :class:`~embedsite.network.WalkFilter` as
the offline reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import shapely

from embedsite import _graphbuild
from embedsite._walkfilter import WalkFilter
from embedsite.errors import DataFileError, EmptyInputError, InputError

if TYPE_CHECKING:
    from embedsite.network import PedestrianNetwork

__all__ = ["from_bbox", "from_place", "from_polygon"]

Component = Literal["largest", "all"]


def from_polygon(
    polygon: shapely.Polygon | shapely.MultiPolygon | gpd.GeoDataFrame,
    *,
    walk_filter: WalkFilter | None = None,
    crs: Any = None,
    component: Component = "largest",
) -> PedestrianNetwork:
    """Download the pedestrian network inside a polygon from Overpass (through osmnx).

    osmnx's cache (``osmnx.settings.use_cache``, ``cache_folder``) applies: a repeated
    request is answered from disk. The polygon is WGS-84 (or a GeoDataFrame in any CRS).
    """
    import osmnx as ox

    area = _graphbuild.clip_geometry(polygon, None)
    assert area is not None
    filt = (walk_filter or WalkFilter()).to_overpass()
    try:
        G = ox.graph_from_polygon(
            area, custom_filter=filt, simplify=False, retain_all=True, truncate_by_edge=False
        )
    except (ox._errors.InsufficientResponseError, ValueError) as exc:
        raise EmptyInputError(
            f"Overpass returned no walkable streets for this area ({exc}); check the polygon "
            "(WGS-84 longitude/latitude) and that OpenStreetMap maps streets there."
        ) from exc
    except OSError as exc:
        raise DataFileError(
            f"the Overpass download failed: {exc}. Check the connection or osmnx's "
            "overpass_url setting, or download an extract and use from_osm_file."
        ) from exc
    from embedsite.network import from_graph

    return from_graph(G, crs=crs, component=component)


def from_bbox(
    bbox: tuple[float, float, float, float],
    *,
    walk_filter: WalkFilter | None = None,
    crs: Any = None,
    component: Component = "largest",
) -> PedestrianNetwork:
    """Download the pedestrian network in ``(west, south, east, north)`` WGS-84 degrees."""
    area = _graphbuild.clip_geometry(None, bbox)
    assert area is not None
    return from_polygon(area, walk_filter=walk_filter, crs=crs, component=component)


def from_place(
    name: str,
    *,
    walk_filter: WalkFilter | None = None,
    crs: Any = None,
    component: Component = "largest",
) -> PedestrianNetwork:
    """Geocode a place name with osmnx (Nominatim) and download its pedestrian network.

    Examples
    --------
    >>> import embedsite.network as en
    >>> net = en.from_place("玄武区, 南京市, 中国")  # doctest: +SKIP
    """
    import osmnx as ox

    try:
        area = ox.geocode_to_gdf(name)
    except (ox._errors.InsufficientResponseError, TypeError, ValueError) as exc:
        raise InputError(
            f"could not find the place {name!r} ({exc}); try a fuller name such as "
            "'玄武区, 南京市, 中国' or use from_polygon with a boundary you have."
        ) from exc
    return from_polygon(area, walk_filter=walk_filter, crs=crs, component=component)

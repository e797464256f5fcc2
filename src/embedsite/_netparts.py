"""What a :class:`~embedsite.network.PedestrianNetwork` keeps, as arrays (private).

A network of a million nodes and two million edges would hold three million shapely objects
if it kept its ``nodes``/``edges`` GeoDataFrames (about 0.8 GB of its 1.25 GB). It keeps
plain tables and coordinate arrays instead, and builds the GeoDataFrames when asked:

* nodes: the attribute table (``x``, ``y``, ``lon``, ``lat``; index ``osmid``) and the
  ``(n, 2)`` point coordinates;
* edges: the attribute table (``u``, ``v``, ``key``, ``length``, tags; index ``edge``) and
  the street lines as one coordinate array with offsets (shapely's ragged form,
  :func:`shapely.to_ragged_array`), rebuilt exactly by :func:`shapely.from_ragged_array`.

Lines that do not fit that form (a Z coordinate, a geometry type other than LineString) are
kept as shapely objects, so nothing a caller passes is ever changed.

Also here: the projection, simplification and component step every loader ends in
(:func:`assemble`) and the checks of points given to ``snap``.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import GeometryArray
from pyproj import CRS, Transformer
from scipy.sparse import csgraph

from embedsite import _graphbuild
from embedsite.crs import _check_lonlat_bounds, check_crs, check_lonlat, local_metric_crs
from embedsite.errors import EmptyInputError, InputError

if TYPE_CHECKING:
    from embedsite.network import BuildReport

__all__ = ["Lines", "NetworkParts", "assemble", "no_gc", "parts_of", "points_in", "points_xy"]

log = logging.getLogger(__name__)

Component = Literal["largest", "all"]


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many shapely objects are created.

    Creating 100,000 shapely geometries triggers collections that walk every live object;
    in a session holding a few hundred thousand objects that took 80% of the time
    (0.53 s instead of 0.10 s for 100k points). No reference cycles are created meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class Lines:
    """Street lines as one ``(N, 2)`` coordinate array and ``m + 1`` offsets, or (when they
    do not fit that form) as the shapely objects themselves."""

    coords: np.ndarray | None
    offsets: np.ndarray | None
    objects: np.ndarray | None = None

    @classmethod
    def of(cls, geometry: np.ndarray) -> Lines:
        geometry = np.asarray(geometry, dtype=object)
        types = shapely.get_type_id(geometry)
        if len(geometry) and (types == 1).all() and not shapely.has_z(geometry).any():
            _, coords, (offsets,) = shapely.to_ragged_array(geometry, include_z=False)
            for arr in (coords, offsets):
                arr.flags.writeable = False
            return cls(coords, offsets)
        return cls(None, None, geometry)

    def __len__(self) -> int:
        if self.objects is not None:
            return len(self.objects)
        assert self.offsets is not None
        return len(self.offsets) - 1

    def shapely(self) -> np.ndarray:
        """New shapely LineStrings (the same coordinates, bit for bit)."""
        if self.objects is not None:
            return self.objects
        assert self.coords is not None and self.offsets is not None
        with no_gc():
            return np.asarray(
                shapely.from_ragged_array(
                    shapely.GeometryType.LINESTRING, self.coords, (self.offsets,)
                )
            )

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """All coordinates and the line each belongs to (as ``get_coordinates``)."""
        if self.objects is not None:
            coords, idx = shapely.get_coordinates(self.objects, return_index=True)
            return coords, idx
        assert self.coords is not None and self.offsets is not None
        idx = np.repeat(np.arange(len(self)), np.diff(self.offsets))
        return self.coords, idx

    def ends(self) -> tuple[np.ndarray, np.ndarray]:
        """First and last coordinate of every line."""
        if self.objects is not None:
            first = shapely.get_coordinates(shapely.get_point(self.objects, 0))
            last = shapely.get_coordinates(shapely.get_point(self.objects, -1))
            return first, last
        assert self.coords is not None and self.offsets is not None
        return self.coords[self.offsets[:-1]], self.coords[self.offsets[1:] - 1]


@dataclass(frozen=True)
class NetworkParts:
    """The content of a network: attribute tables without geometry, and coordinates."""

    node_table: pd.DataFrame  # index osmid; x, y, lon, lat, ...
    node_xy: np.ndarray  # (n, 2) point coordinates
    node_columns: tuple[str, ...]  # column order of the nodes GeoDataFrame
    node_geometry_name: str
    edge_table: pd.DataFrame  # index edge; u, v, key, length, osmid, tags ...
    lines: Lines
    edge_columns: tuple[str, ...]
    edge_geometry_name: str
    crs: CRS

    # the shapely objects, once built, while the network is small (see _CACHE_MAX_EDGES)
    cache: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def _cached(self, key: str, build: Callable[[], np.ndarray]) -> np.ndarray:
        if key in self.cache:
            return self.cache[key]
        arr = build()
        if len(self.edge_table) <= _CACHE_MAX_EDGES:
            arr.flags.writeable = False
            self.cache[key] = arr
        return arr

    def node_points(self) -> np.ndarray:
        def build() -> np.ndarray:
            with no_gc():
                return np.asarray(shapely.points(self.node_xy))

        return self._cached("points", build)

    def edge_lines(self) -> np.ndarray:
        return self._cached("lines", self.lines.shapely)

    def nodes_frame(self) -> gpd.GeoDataFrame:
        return _frame(
            self.node_table, self.node_points(), self.node_geometry_name, self.node_columns,
            self.crs,
        )  # fmt: skip

    def edges_frame(self) -> gpd.GeoDataFrame:
        return _frame(
            self.edge_table, self.edge_lines(), self.edge_geometry_name, self.edge_columns,
            self.crs,
        )  # fmt: skip


# Up to this many edges the built shapely objects are kept (about 70 MB at the limit), so
# repeated .nodes/.edges/.edge_geometry cost a table copy; larger networks rebuild them on
# each access instead of holding millions of objects (0.8 GB at a million nodes).
_CACHE_MAX_EDGES = 200_000


def _frame(
    table: pd.DataFrame, geometry: np.ndarray, name: str, columns: tuple[str, ...], crs: CRS
) -> gpd.GeoDataFrame:
    # copy-on-write (pandas 3): the caller may change the frame, never the network's table
    frame = gpd.GeoDataFrame(table, geometry=GeometryArray(geometry, crs=crs), crs=crs)
    if name != "geometry":
        frame = frame.rename_geometry(name)
    if tuple(frame.columns) != columns:
        frame = frame[list(columns)]
    return frame


def parts_of(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> NetworkParts:
    """Take GeoDataFrames apart (the public constructor's path)."""
    if nodes.crs is None:
        raise InputError("the nodes GeoDataFrame has no CRS; set the network's projected CRS")
    node_geom = nodes.geometry.name
    edge_geom = edges.geometry.name
    return NetworkParts(
        node_table=pd.DataFrame(nodes.drop(columns=node_geom)),
        node_xy=shapely.get_coordinates(nodes.geometry.to_numpy()),
        node_columns=tuple(nodes.columns),
        node_geometry_name=node_geom,
        edge_table=pd.DataFrame(edges.drop(columns=edge_geom)),
        lines=Lines.of(edges.geometry.to_numpy()),
        edge_columns=tuple(edges.columns),
        edge_geometry_name=edge_geom,
        crs=CRS.from_user_input(nodes.crs),
    )


def points_in(points: gpd.GeoDataFrame | gpd.GeoSeries, crs: CRS, *, name: str) -> gpd.GeoSeries:
    """The points' geometry in ``crs``, after the checks every snap makes."""
    if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(
            f"{name} must be a GeoDataFrame or GeoSeries of points, not {type(points).__name__}"
        )
    check_crs(points, name=name)
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    check_lonlat(geoms, name=name)  # swapped lat/lon, degrees used as metres
    arr = geoms.to_numpy()
    empty = shapely.is_missing(arr) | shapely.is_empty(arr)
    if empty.any():
        raise InputError(
            f"{name} has {int(empty.sum())} rows without geometry (first: "
            f"{list(geoms.index[empty][:5])}); drop or fix them first."
        )
    kinds = np.unique(shapely.get_type_id(arr))
    if (kinds != 0).any():
        found = sorted(set(geoms.geom_type.unique()))
        raise InputError(
            f"{name} must be points, found {found}; use .representative_point() or "
            ".centroid for polygons."
        )
    if CRS.from_user_input(geoms.crs) == crs:
        return geoms
    with no_gc():
        return geoms.to_crs(crs)


def points_xy(
    points: gpd.GeoDataFrame | gpd.GeoSeries, crs: CRS, *, name: str
) -> tuple[pd.Index, np.ndarray]:
    """The points' index and ``(n, 2)`` coordinates in ``crs``, after the checks of
    :func:`points_in`, without building reprojected geometries.

    One pass reads the type of every geometry and one its coordinates: when every geometry
    is a point and there is one coordinate per row, none is missing or empty (the slower
    checks of :func:`points_in` then only run to word an error). Coordinates in another CRS
    are transformed as ``to_crs`` does (pyproj, ``always_xy``).
    """
    if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(
            f"{name} must be a GeoDataFrame or GeoSeries of points, not {type(points).__name__}"
        )
    source = check_crs(points, name=name)
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    arr = geoms.to_numpy()
    xy = shapely.get_coordinates(arr)
    if len(xy) != len(arr) or (shapely.get_type_id(arr) != 0).any():
        points_in(points, crs, name=name)  # raises, naming the rows
        raise InputError(f"{name} must be points with one coordinate each")  # pragma: no cover
    _check_lonlat_bounds(source, geoms.index, xy, xy, name=name)
    if source != crs:
        x, y = Transformer.from_crs(source, crs, always_xy=True).transform(xy[:, 0], xy[:, 1])
        xy = np.column_stack([x, y])
    return geoms.index, xy


def isna(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def flatten_list(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def assemble(
    node_id: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    edges: _graphbuild.EdgeArrays,
    tags: pd.DataFrame,
    report: BuildReport,
    *,
    crs: Any,
    component: Component,
    simplify: bool,
) -> tuple[NetworkParts, dict[str, Any]]:
    """Project, simplify and keep the wanted component; the parts and the report's new
    fields (components found and dropped)."""
    if component not in ("largest", "all"):
        raise InputError(f"component must be 'largest' or 'all', not {component!r}")
    if len(edges.u) == 0:
        raise EmptyInputError("the network has no edges; there is nothing to walk on.")
    centre = gpd.GeoSeries(
        [shapely.Point(float(np.mean(lon)), float(np.mean(lat)))], crs="EPSG:4326"
    )
    target = local_metric_crs(centre, crs=crs)
    to_xy = Transformer.from_crs("EPSG:4326", target, always_xy=True)
    x, y = to_xy.transform(lon, lat)
    xy = np.column_stack([x, y])

    def project(coords: np.ndarray) -> np.ndarray:
        px, py = to_xy.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([px, py])

    edges.geometry = np.asarray(shapely.transform(edges.geometry, project))
    if simplify:
        highway = tags["highway"].to_numpy(dtype=object)[edges.row]
        edges = _graphbuild.merge_degree2(edges, xy, highway)

    n = len(node_id)
    adj = _graphbuild.adjacency(edges.u, edges.v, edges.length, n)
    used = np.zeros(n, dtype=bool)
    used[edges.u] = used[edges.v] = True
    _, label = csgraph.connected_components(adj, directed=False)
    label = np.where(used, label, -1)
    comp_ids, comp_sizes = np.unique(label[used], return_counts=True)
    keep_node = used.copy()
    dropped_nodes, dropped_len, dropped_comp = 0, 0.0, 0
    if component == "largest" and len(comp_ids) > 1:
        main = comp_ids[np.argmax(comp_sizes)]
        keep_node = label == main
        drop_edge = ~keep_node[edges.u]
        dropped_nodes = int((used & ~keep_node).sum())
        dropped_len = float(edges.length[drop_edge].sum())
        dropped_comp = len(comp_ids) - 1
        log.info(
            "kept the largest connected part: dropped %d smaller parts with %d nodes and "
            "%.0f m of streets",
            dropped_comp, dropped_nodes, dropped_len,
        )  # fmt: skip
        sel = ~drop_edge
        edges = _graphbuild.EdgeArrays(
            u=edges.u[sel], v=edges.v[sel], length=edges.length[sel],
            geometry=edges.geometry[sel], row=edges.row[sel],
        )  # fmt: skip
    fields = {
        **asdict(report),
        "components": len(comp_ids),
        "dropped_components": dropped_comp,
        "dropped_nodes": dropped_nodes,
        "dropped_length_m": dropped_len,
    }
    node_table = pd.DataFrame(
        {"x": x[keep_node], "y": y[keep_node], "lon": lon[keep_node], "lat": lat[keep_node]},
        index=pd.Index(node_id[keep_node], name="osmid"),
    )
    u_id, v_id = node_id[edges.u], node_id[edges.v]
    lo, hi = np.minimum(u_id, v_id), np.maximum(u_id, v_id)
    key = pd.DataFrame({"a": lo, "b": hi}).groupby(["a", "b"]).cumcount().to_numpy()
    edge_tags = tags.iloc[edges.row].reset_index(drop=True)
    edge_table = pd.concat(
        [pd.DataFrame({"u": u_id, "v": v_id, "key": key, "length": edges.length}), edge_tags],
        axis=1,
    )
    edge_table = edge_table.dropna(axis=1, how="all")
    columns = (*edge_table.columns, "geometry")
    for col in ("highway", "osmid"):
        if col not in edge_table.columns:
            edge_table[col] = tags[col].iloc[0] if col in tags else None
            columns = (*columns, col)
    edge_table.index.name = "edge"
    parts = NetworkParts(
        node_table=node_table,
        node_xy=xy[keep_node],
        node_columns=("x", "y", "lon", "lat", "geometry"),
        node_geometry_name="geometry",
        edge_table=edge_table,
        lines=Lines.of(edges.geometry),
        edge_columns=columns,
        edge_geometry_name="geometry",
        crs=CRS.from_user_input(target),
    )
    return parts, fields

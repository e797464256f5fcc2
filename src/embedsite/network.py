"""Stage 1: the pedestrian network residents walk on.

A :class:`PedestrianNetwork` is an undirected street graph in a local metric CRS: nodes are
junctions and dead ends, edges carry their OSM tags, exact street geometry and length in
metres, and a CSR adjacency (scipy.sparse) serves the many-source shortest paths of the
coverage stage. Loaders are functions beside it:

* :func:`from_osm_file`: OSM XML or PBF, read offline by pyosmium;
* :func:`from_graph`: an osmnx/networkx graph;
* :func:`from_place`, :func:`from_polygon`, :func:`from_bbox`: online, through osmnx's
  Overpass download and cache, with the same :class:`WalkFilter`;
* :func:`load`: a network saved with :meth:`PedestrianNetwork.save`.

Walk distance between two places is defined once, here: the places are snapped onto the
nearest street edge (:meth:`PedestrianNetwork.snap`), and the distance is access distance +
network distance between the two snap positions along the edges + access distance.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import GeometryArray
from pyproj import CRS
from scipy import sparse
from scipy.sparse import csgraph

from embedsite import _graphbuild, _netparts
from embedsite._io import atomic_path
from embedsite._online import from_bbox, from_place, from_polygon
from embedsite._osmread import WAY_TAGS, read_highways
from embedsite._walkfilter import WalkFilter
from embedsite.crs import (
    CoordinateSystem,
    CoordinateSystemGuess,
    check_offset,
)
from embedsite.errors import (
    CRSError,
    DataFileError,
    EmptyInputError,
    FarFromNetworkError,
    InputError,
)

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "BuildReport",
    "PedestrianNetwork",
    "WalkFilter",
    "from_bbox",
    "from_graph",
    "from_osm_file",
    "from_place",
    "from_polygon",
    "load",
]

log = logging.getLogger(__name__)

Component = Literal["largest", "all"]


@dataclass(frozen=True)
class BuildReport:
    """What happened while a network was built: nothing is dropped silently."""

    source: str
    ways_read: int = 0
    ways_walkable: int = 0
    missing_node_refs: int = 0
    components: int = 1
    dropped_components: int = 0
    dropped_nodes: int = 0
    dropped_length_m: float = 0.0
    clipped: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


class PedestrianNetwork:
    """An undirected pedestrian street graph in a local metric CRS.

    Build one with a loader (:func:`from_osm_file`, :func:`from_graph`, :func:`from_place`,
    ...), not with this constructor. The object does not change after it is built.

    Attributes
    ----------
    nodes : GeoDataFrame
        Index ``osmid`` (OSM node id); columns ``x``, ``y`` (metres, in :attr:`crs`), ``lon``,
        ``lat`` (WGS-84), ``geometry``.
    edges : GeoDataFrame
        Index ``edge`` (0..m-1); columns ``u``, ``v`` (node ids), ``key`` (0 unless parallel),
        ``length`` (metres along the street), ``osmid`` (the OSM way), the kept OSM tags and the
        street ``geometry`` from ``u`` to ``v``.
    crs : pyproj.CRS
        The projected CRS of nodes and edges (metres).
    report : BuildReport
        What the loader read, dropped and why.

    Examples
    --------
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> net.crs.to_epsg()
    32635
    >>> bool(net.edges["length"].gt(0).all())
    True
    """

    def __init__(
        self,
        nodes: gpd.GeoDataFrame,
        edges: gpd.GeoDataFrame,
        report: BuildReport,
    ) -> None:
        self._setup(_netparts.parts_of(nodes, edges), report)

    @classmethod
    def _from_parts(cls, parts: _netparts.NetworkParts, report: BuildReport) -> PedestrianNetwork:
        """A network from its tables and coordinate arrays (no shapely objects made)."""
        net = cls.__new__(cls)
        net._setup(parts, report)
        return net

    def _setup(self, parts: _netparts.NetworkParts, report: BuildReport) -> None:
        # tables and coordinate arrays, not GeoDataFrames: at 1M nodes the shapely objects
        # were 0.8 GB of the network's 1.25 GB; .nodes/.edges build the frames when asked
        self._parts = parts
        self._report = report
        index = pd.Index(parts.node_table.index)
        table = parts.edge_table
        self._u_id = table["u"].to_numpy()
        self._v_id = table["v"].to_numpy()
        self._u = index.get_indexer(self._u_id)
        self._v = index.get_indexer(self._v_id)
        self._length = table["length"].to_numpy(dtype=float)
        self._csr = _graphbuild.adjacency(self._u, self._v, self._length, len(index))
        for arr in (self._u, self._v, self._length, *_csr_arrays(self._csr)):
            arr.flags.writeable = False  # shared, never copied: callers get read-only views
        self._segments: _graphbuild.Segments | None = None
        self._edges_lonlat: gpd.GeoSeries | None = None
        # derived data later stages memoise on the network (keyed by their own names), e.g.
        # the service-area tile unions; never part of the network's value
        self._derived: dict[str, Any] = {}

    # --- read-only views -------------------------------------------------------------------
    @property
    def nodes(self) -> gpd.GeoDataFrame:
        """The junctions and dead ends (see the class docstring for columns).

        A new frame on each access, made from the network's arrays (the caller may change
        it). The point objects are kept up to 200,000 edges; a larger network makes them
        again each time (about 1 s per million nodes) rather than hold them.
        """
        return self._parts.nodes_frame()

    @property
    def edges(self) -> gpd.GeoDataFrame:
        """The street edges with tags and geometry.

        A new frame on each access, made from the network's table and coordinate arrays
        (the caller may change it). The line objects are kept up to 200,000 edges; a larger
        network makes them again each time (about 1 s per million edges) rather than hold
        them: fetch the frame once there.
        """
        return self._parts.edges_frame()

    @property
    def crs(self) -> CRS:
        """The projected CRS of the network (metres)."""
        return self._parts.crs

    @property
    def report(self) -> BuildReport:
        """What the loader read and dropped."""
        return self._report

    @property
    def csr(self) -> sparse.csr_array:
        """Symmetric CSR adjacency of node positions; weights are the shortest parallel edge
        length in metres (self-loops left out). Row ``i`` is ``nodes.index[i]``.

        The network's own matrix, not a copy (its arrays are read-only): fetching it is free.
        """
        return self._csr

    @property
    def edge_nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions (rows of :attr:`csr`) of each edge's ``u`` and ``v`` node (read-only
        views, not copies)."""
        return self._u, self._v

    @property
    def edge_lengths(self) -> np.ndarray:
        """Edge lengths in metres, by edge position (a read-only view)."""
        return self._length

    @property
    def edge_geometry(self) -> np.ndarray:
        """The street geometry of each edge (shapely LineStrings, by edge position; a
        read-only array), without the :attr:`edges` table."""
        return self._parts.edge_lines()

    def __len__(self) -> int:
        return len(self._parts.node_table)

    def __repr__(self) -> str:
        km = self._length.sum() / 1000
        return (
            f"<PedestrianNetwork: {len(self):,} nodes, {len(self._u):,} edges, "
            f"{km:,.1f} km of streets, CRS {self.crs.name!r}>"
        )

    # --- summary ---------------------------------------------------------------------------
    def summary(self) -> pd.Series:
        """Key figures of the network and of how it was built.

        Examples
        --------
        >>> import embedsite.network as en
        >>> s = en.from_osm_file("data/sample/helsinki.osm.pbf").summary()
        >>> int(s["nodes"]) > 1000 and s["street_length_km"] > 50
        True
        """
        lengths = self._parts.edge_table.groupby("highway", dropna=False)["length"].sum() / 1000
        xy = self._parts.node_xy
        minx, miny = xy.min(axis=0)
        maxx, maxy = xy.max(axis=0)
        degree = np.bincount(np.concatenate([self._u, self._v]), minlength=len(self)).astype(float)
        r = self._report
        data: dict[str, Any] = {
            "source": r.source,
            "crs": self.crs.name,
            "nodes": len(self),
            "edges": len(self._u),
            "street_length_km": round(float(self._length.sum()) / 1000, 3),
            "extent_km": f"{(maxx - minx) / 1000:.2f} x {(maxy - miny) / 1000:.2f}",
            "mean_degree": round(float(degree.mean()), 3) if len(degree) else 0.0,
            "dead_ends": int((degree == 1).sum()),
            "ways_read": r.ways_read,
            "ways_walkable": r.ways_walkable,
            "missing_node_refs": r.missing_node_refs,
            "components_found": r.components,
            "components_dropped": r.dropped_components,
            "nodes_dropped": r.dropped_nodes,
            "length_dropped_km": round(r.dropped_length_m / 1000, 3),
        }
        for hw, km in lengths.sort_values(ascending=False).items():
            data[f"km_{hw}"] = round(float(km), 3)
        return pd.Series(data, name="network")

    # --- graph interchange -----------------------------------------------------------------
    def to_networkx(self, *, directed: bool = False) -> nx.MultiGraph:
        """The network as a networkx graph that osmnx functions accept.

        Parameters
        ----------
        directed
            ``False`` (default): an undirected ``MultiGraph``. ``True``: a ``MultiDiGraph``
            with both directions of every edge (the form of an osmnx walk graph).

        Returns
        -------
        networkx.MultiGraph or networkx.MultiDiGraph
            ``G.graph["crs"]`` is the projected CRS; nodes carry ``x``, ``y``, ``lon``,
            ``lat``; edges carry ``length`` (metres), ``geometry`` and the OSM tags.

        Examples
        --------
        >>> import embedsite.network as en
        >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
        >>> G = net.to_networkx()
        >>> G.number_of_nodes() == len(net.nodes)
        True
        """
        import networkx as nx

        graph: nx.MultiGraph = nx.MultiDiGraph() if directed else nx.MultiGraph()
        graph.graph["crs"] = self.crs
        graph.graph["created_with"] = "embedsite"
        nodes = self._parts.node_table
        graph.add_nodes_from(zip(nodes.index.tolist(), nodes.to_dict("records"), strict=True))
        edges = self.edges
        attrs = edges.drop(columns=["u", "v", "key"])
        records = [{k: v for k, v in r.items() if not _isna(v)} for r in attrs.to_dict("records")]
        u = edges["u"].tolist()
        v = edges["v"].tolist()
        keys = edges["key"].tolist()
        graph.add_edges_from(zip(u, v, keys, records, strict=True))
        if directed:
            reverse = []
            for a, b, rec in zip(u, v, records, strict=True):
                r2 = dict(rec)
                r2["geometry"] = rec["geometry"].reverse()
                reverse.append((b, a, r2))
            graph.add_edges_from(reverse)
        return graph

    # --- snapping --------------------------------------------------------------------------
    def snap(
        self,
        points: gpd.GeoDataFrame | gpd.GeoSeries,
        *,
        max_distance: float = 500.0,
        on_far: Literal["raise", "drop"] = "raise",
    ) -> gpd.GeoDataFrame:
        """Snap points onto the nearest street edge.

        Parameters
        ----------
        points
            Point geometries in any CRS (they are reprojected to the network's).
        max_distance
            Largest access distance in metres from a point to a street. Points farther away
            raise :class:`~embedsite.errors.FarFromNetworkError` naming them, or with
            ``on_far="drop"`` are logged and left out of the result.
        on_far
            ``"raise"`` (default) or ``"drop"``.

        Returns
        -------
        GeoDataFrame
            Aligned with the input index (less dropped rows), in the network CRS, with
            ``edge`` (position in :attr:`edges`), ``u``, ``v``, ``position_m`` (metres along
            the edge from ``u``), ``to_u_m``/``to_v_m`` (metres along the edge to each end),
            ``access_m`` (straight-line distance from the point to the street) and the snapped
            point as ``geometry``.

        Notes
        -----
        The nearest street segment is found exactly, not approximately: a compiled search
        over a pyramid of uniform grids of the segments scans the cells around each point,
        nearest first, until the distance to the edge of the cells scanned proves that no
        nearer segment was missed (far from every street it moves to coarser cells, so its
        cost stays bounded). Of two segments at exactly the same distance (a point on a
        junction) the lower one wins. The index is built on the first call and kept.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> import embedsite.network as en
        >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
        >>> pts = gpd.GeoDataFrame(geometry=[shapely.Point(24.94, 60.17)], crs=4326)
        >>> snapped = net.snap(pts)
        >>> bool(snapped["access_m"].iloc[0] < 100)
        True
        """
        index, xy = _netparts.points_xy(points, self.crs, name="points")
        if max_distance <= 0 or not np.isfinite(max_distance):
            raise InputError(
                f"max_distance must be a positive number of metres, not {max_distance}"
            )
        if on_far not in ("raise", "drop"):
            raise InputError(f"on_far must be 'raise' or 'drop', not {on_far!r}")
        if self._segments is None:
            coords, line = self._parts.lines.coordinates()
            self._segments = _graphbuild.Segments.from_coords(coords, line, len(self._u))
        seg = self._segments
        nearest_seg = seg.nearest(xy, max_distance)  # exact; -1 beyond max_distance
        far = nearest_seg < 0
        if far.any():
            labels = index[far]
            shown_xy = xy[np.flatnonzero(far)[:5]]  # measured exactly for the message only
            dist = seg.distance(shown_xy, seg.geos_nearest(shown_xy))
            shown = ", ".join(
                f"{lab!r} ({d:,.0f} m)" for lab, d in zip(labels[:5], dist[:5], strict=False)
            )
            msg = (
                f"{int(far.sum())} of {len(xy)} points lie farther than {max_distance:g} m from "
                f"every street: {shown}{' ...' if far.sum() > 5 else ''}. Check their CRS and "
                "coordinate system (GCJ-02/BD-09 points are offset by hundreds of metres), "
                "load a network covering them, raise max_distance, or pass on_far='drop' to "
                "leave them out."
            )
            if on_far == "raise":
                raise FarFromNetworkError(msg)
            log.warning(msg)
            keep = ~far
            xy, nearest_seg, index = xy[keep], nearest_seg[keep], index[keep]
        e, position, to_v, access, snapped_xy = seg.columns(xy, nearest_seg, self._length)
        with _netparts.no_gc():
            snapped_pt = GeometryArray(shapely.points(snapped_xy), crs=self.crs)
        frame = pd.DataFrame(
            {
                "edge": e,
                "u": self._u_id[e],
                "v": self._v_id[e],
                "position_m": position,
                "to_u_m": position.copy(),
                "to_v_m": to_v,
                "access_m": access,
                "geometry": snapped_pt,
            },
            index=index,
            copy=False,
        )
        return gpd.GeoDataFrame(frame, geometry="geometry", copy=False)

    def check_coordinate_system(
        self,
        points: gpd.GeoDataFrame | gpd.GeoSeries,
        *,
        declared: CoordinateSystem = "wgs84",
        min_points: int = 20,
        min_distance_m: float = 15.0,
    ) -> CoordinateSystemGuess | None:
        """Check lon/lat points against these streets for a GCJ-02/BD-09 mix-up.

        Each hypothesis (WGS-84, GCJ-02, BD-09) is converted to WGS-84 and its median
        distance to the nearest street measured. When another system puts the points clearly
        nearer the streets than the declared one (under a third of its median, which is over
        ``min_distance_m``), :class:`~embedsite.errors.CoordinateSystemError` says which
        system they look like and how to convert. Fewer than ``min_points`` points, or
        points in a projected CRS, are not checked (``None``).

        Examples
        --------
        >>> import geopandas as gpd
        >>> import embedsite.network as en
        >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
        >>> pts = net.nodes.to_crs(4326).geometry.iloc[:30]
        >>> net.check_coordinate_system(pts).best
        'wgs84'
        """
        if len(points) < min_points or not CRS.from_user_input(points.crs).is_geographic:
            return None
        lonlat = self._edges_lonlat
        if lonlat is None:
            lonlat = gpd.GeoSeries(self.edge_geometry, crs=self.crs).to_crs(4326)
            if len(self._u) <= _netparts._CACHE_MAX_EDGES:  # kept only while small
                self._edges_lonlat = lonlat
        return check_offset(
            points.to_crs(4326),
            lonlat,
            declared=declared,
            min_distance_m=min_distance_m,
        )

    # --- distances -------------------------------------------------------------------------
    def node_distances(
        self, sources: Sequence[int] | np.ndarray, *, cutoff: float | None = None
    ) -> np.ndarray:
        """Shortest-path distances (metres) from node positions to every node (dense rows).

        A plain wrapper of ``scipy.sparse.csgraph.dijkstra`` on :attr:`csr`; unreachable or
        beyond ``cutoff`` is ``inf``. For many sources use the coverage stage instead.
        """
        idx = np.asarray(sources, dtype=np.int64)
        limit = np.inf if cutoff is None else float(cutoff)
        return np.atleast_2d(csgraph.dijkstra(self._csr, directed=False, indices=idx, limit=limit))

    def walk_distance(
        self, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame
    ) -> np.ndarray:
        """Walk distance in metres between snapped points, pair by pair.

        ``origins`` and ``destinations`` are results of :meth:`snap` of equal length. The
        distance is access + along-edge network distance between the snap positions + access
        (``inf`` when the two are not connected).

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> import embedsite.network as en
        >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
        >>> pts = gpd.GeoDataFrame(geometry=[shapely.Point(24.94, 60.17),
        ...                                  shapely.Point(24.95, 60.17)], crs=4326)
        >>> s = net.snap(pts)
        >>> d = net.walk_distance(s.iloc[[0]], s.iloc[[1]])
        >>> bool(550 < d[0] < 2000)  # about 555 m apart as the crow flies
        True
        """
        if len(origins) != len(destinations):
            raise InputError(
                f"origins ({len(origins)}) and destinations ({len(destinations)}) must pair up"
            )
        a_e = origins["edge"].to_numpy()
        b_e = destinations["edge"].to_numpy()
        a_ends = np.column_stack([self._u[a_e], self._v[a_e]])
        b_ends = np.column_stack([self._u[b_e], self._v[b_e]])
        a_off = origins[["to_u_m", "to_v_m"]].to_numpy()
        b_off = destinations[["to_u_m", "to_v_m"]].to_numpy()
        uniq, inv = np.unique(a_ends, return_inverse=True)
        inv = inv.reshape(a_ends.shape)
        dist = self.node_distances(uniq)
        best = np.full(len(a_e), np.inf)
        for i in range(2):
            for j in range(2):
                cand = a_off[:, i] + dist[inv[:, i], b_ends[:, j]] + b_off[:, j]
                best = np.minimum(best, cand)
        same = a_e == b_e
        direct = np.abs(origins["position_m"].to_numpy() - destinations["position_m"].to_numpy())
        best[same] = np.minimum(best[same], direct[same])
        return best + origins["access_m"].to_numpy() + destinations["access_m"].to_numpy()

    # --- persistence -----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the network to a GeoPackage (``.gpkg``: layers ``nodes``, ``edges``) or
        GeoParquet (``.parquet``: the edges; nodes are rebuilt from their ends).

        The file is written under a temporary name and renamed, so a failed write never
        leaves a half-written file at ``path``.
        """
        p = Path(path)
        suffix = p.suffix.lower()
        edges = self.edges
        meta = json.dumps({"report": asdict(self._report), "format": 1}, ensure_ascii=False)
        if suffix == ".gpkg":
            with atomic_path(p) as tmp:
                edges.to_file(tmp, layer="edges", driver="GPKG")
                self.nodes.to_file(tmp, layer="nodes", driver="GPKG", mode="a")
                meta_frame = gpd.GeoDataFrame(
                    {"embedsite_meta": [meta]}, geometry=[None], crs=self.crs
                )
                meta_frame.to_file(tmp, layer="embedsite_meta", driver="GPKG", mode="a")
        elif suffix in (".parquet", ".geoparquet"):
            with atomic_path(p) as tmp:
                edges.assign(embedsite_meta=meta).to_parquet(tmp)
        else:
            raise InputError(
                f"cannot save a network as {p.name!r}: use a .gpkg (GeoPackage) or .parquet "
                "(GeoParquet) file name"
            )
        return p


# --------------------------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------------------------
def from_osm_file(
    path: str | Path,
    *,
    polygon: shapely.Polygon | shapely.MultiPolygon | gpd.GeoDataFrame | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    walk_filter: WalkFilter | None = None,
    crs: Any = None,
    component: Component = "largest",
    simplify: bool = True,
) -> PedestrianNetwork:
    """Build the pedestrian network from an OpenStreetMap file, offline.

    Parameters
    ----------
    path
        OSM XML (``.osm``, ``.osm.bz2``) or PBF (``.osm.pbf``).
    polygon
        Keep only streets inside this area (WGS-84 shapely geometry, or a GeoDataFrame in any
        CRS). Ways are cut where they leave it.
    bbox
        ``(west, south, east, north)`` in WGS-84 degrees; an alternative to ``polygon``.
    walk_filter
        Which ways are walkable; :class:`WalkFilter` by default.
    crs
        The projected CRS to use (e.g. ``"EPSG:4547"``, CGCS2000 3-degree Gauss-Kruger CM
        114E); by default the UTM zone of the network's centre.
    component
        ``"largest"`` (default) keeps the largest connected part and reports what was
        dropped; ``"all"`` keeps every part.
    simplify
        Merge chains through degree-2 nodes (default) so that nodes are junctions and ends.

    Returns
    -------
    PedestrianNetwork

    Examples
    --------
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf", bbox=(24.93, 60.16, 24.96, 60.175))
    >>> net.report.clipped
    True
    """
    walk_filter = walk_filter or WalkFilter()
    ways = read_highways(path)
    clip = _graphbuild.clip_geometry(polygon, bbox)
    walkable = walk_filter.mask(ways.tags)
    if not walkable.any():
        raise EmptyInputError(
            f"none of the {ways.n_ways} highway ways in {str(path)!r} is walkable under the "
            "pedestrian filter; check the file or pass a WalkFilter that admits its ways."
        )
    node_id, lon, lat, piece, piece_way, missing = _graphbuild.pieces(ways, walkable, clip)
    if len(node_id) == 0:
        raise EmptyInputError(
            f"no walkable street of {str(path)!r} lies inside the requested area; check the "
            "polygon/bbox (WGS-84 degrees, west-south-east-north) against the file's extent."
        )
    uniq, edges = _graphbuild.pieces_to_edges(node_id, lon, lat, piece)
    tags = ways.tags.iloc[piece_way].reset_index(drop=True)
    tags.insert(0, "osmid", ways.way_id[piece_way])
    # node coordinates: first occurrence of each unique node
    first = np.unique(node_id, return_index=True)[1]
    report = BuildReport(
        source=str(path),
        ways_read=ways.n_ways,
        ways_walkable=int(walkable.sum()),
        missing_node_refs=missing,
        clipped=clip is not None,
    )
    return _assemble(
        uniq, lon[first], lat[first], edges, tags, report,
        crs=crs, component=component, simplify=simplify,
    )  # fmt: skip


def from_graph(
    graph: nx.Graph,
    *,
    crs: Any = None,
    component: Component = "largest",
    simplify: bool = True,
) -> PedestrianNetwork:
    """Build the pedestrian network from an osmnx or networkx graph.

    The graph needs a ``crs`` graph attribute and node ``x``/``y`` (an osmnx graph has
    them). Directed graphs are made undirected with ``osmnx.convert.to_undirected``; edge
    ``length`` is kept when present (osmnx's, in metres), else measured.

    Examples
    --------
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> again = en.from_graph(net.to_networkx(directed=True))
    >>> len(again.edges) == len(net.edges)
    True
    """
    import networkx as nx
    import osmnx as ox

    if graph.number_of_edges() == 0:
        raise EmptyInputError("the graph has no edges; there is nothing to walk on.")
    if "crs" not in graph.graph:
        raise CRSError(
            "the graph has no 'crs' attribute; set it, e.g. G.graph['crs'] = 'EPSG:4326' for "
            "an osmnx graph in longitude/latitude."
        )
    G = graph
    if G.is_directed():
        G = nx.MultiDiGraph(G)
        # osmnx pairs the two directions of a street by OSM id; plain graphs have none
        for _, _, data in G.edges(data=True):
            data.setdefault("osmid", -1)
        G = ox.convert.to_undirected(G)
    elif not G.is_multigraph():
        G = nx.MultiGraph(G)
    node, data = next(iter(G.nodes(data=True)))
    if "x" not in data or "y" not in data:
        raise InputError(f"node {node!r} has no 'x'/'y' attributes; osmnx graphs carry them.")
    nodes, edges = ox.convert.graph_to_gdfs(G, fill_edge_geometry=True)
    src_crs = CRS.from_user_input(nodes.crs)
    if not src_crs.is_geographic:
        nodes = nodes.to_crs(4326)
        edges = edges.to_crs(4326)
    edges = edges.reset_index()
    node_ids = nodes.index.to_numpy()
    geometry = np.asarray(edges.geometry.to_numpy())
    if "length" in edges.columns and edges["length"].notna().all():
        length = edges["length"].to_numpy(dtype=float)
    else:
        length = _graphbuild.geodesic_lengths(geometry)
    tags = pd.DataFrame({c: edges[c] if c in edges.columns else None for c in ("osmid", *WAY_TAGS)})
    tags = tags.map(_flatten_list)
    # a plain networkx graph has no OSM ids: -1 marks an edge that is not an OSM way
    osmid = edges["osmid"] if "osmid" in edges.columns else pd.Series(-1, index=edges.index)
    tags["osmid"] = (
        osmid.map(lambda o: o[0] if isinstance(o, list) else o).fillna(-1).astype("int64")
    )
    pos = pd.Index(node_ids).get_indexer
    arrays = _graphbuild.EdgeArrays(
        u=pos(edges["u"].to_numpy()),
        v=pos(edges["v"].to_numpy()),
        length=length,
        geometry=geometry,
        row=np.arange(len(edges)),
    )
    report = BuildReport(source=f"networkx {type(graph).__name__}", ways_read=0)
    return _assemble(
        node_ids, nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy(), arrays, tags,
        report, crs=crs if crs is not None else (None if src_crs.is_geographic else src_crs),
        component=component, simplify=simplify,
    )  # fmt: skip


def load(path: str | Path) -> PedestrianNetwork:
    """Read a network written by :meth:`PedestrianNetwork.save`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import embedsite.network as en
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     again = en.load(net.save(pathlib.Path(d) / "net.gpkg"))
    >>> len(again.edges) == len(net.edges)
    True
    """
    p = Path(path)
    if not p.exists():
        raise DataFileError(f"network file {str(p)!r} does not exist")
    try:
        if p.suffix.lower() == ".gpkg":
            edges = gpd.read_file(p, layer="edges")
            nodes = gpd.read_file(p, layer="nodes").set_index("osmid")
            meta_raw = gpd.read_file(p, layer="embedsite_meta")["embedsite_meta"].iloc[0]
        else:
            edges = gpd.read_parquet(p)
            meta_raw = edges["embedsite_meta"].iloc[0]
            edges = edges.drop(columns="embedsite_meta")
            nodes = _graphbuild.nodes_from_edges(edges)
    except Exception as exc:  # any reader failure is a broken file for the user
        raise DataFileError(
            f"cannot read a saved network from {str(p)!r}: {exc}. Was it written by "
            "PedestrianNetwork.save (.gpkg or .parquet)?"
        ) from exc
    meta = json.loads(meta_raw)
    rep = meta["report"]
    rep["notes"] = tuple(rep.get("notes", ()))
    edges.index.name = "edge"
    return PedestrianNetwork(nodes, edges, BuildReport(**rep))


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _csr_arrays(csr: sparse.csr_array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return csr.data, csr.indices, csr.indptr


_isna = _netparts.isna
_flatten_list = _netparts.flatten_list


def _assemble(
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
) -> PedestrianNetwork:
    """Project, simplify, keep the wanted component and wrap the result."""
    parts, fields = _netparts.assemble(
        node_id, lon, lat, edges, tags, report, crs=crs, component=component, simplify=simplify
    )
    return PedestrianNetwork._from_parts(parts, BuildReport(**fields))

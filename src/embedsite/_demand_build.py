"""Building blocks of :mod:`embedsite.demand` (private): checks, levels, age shares, gates, grids.

Everything here works on clean arrays in the network's metric CRS; the public loaders in
:mod:`embedsite.demand` validate their inputs first.
"""

from __future__ import annotations

import csv
import difflib
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from embedsite.crs import check_crs
from embedsite.errors import EmptyInputError, InputError, MissingColumnError, PopulationError
from embedsite.network import PedestrianNetwork

#: The age bands of :data:`embedsite.standards.AGE_GROUPS` (without "all"), in order.
AGE_BANDS: tuple[str, ...] = ("0-3", "3-6", "6-12", "12-15", "60+")
#: Column of :attr:`Demand.points` holding each age band (residents).
BAND_COLUMNS: dict[str, str] = {
    "0-3": "pop_0_3",
    "3-6": "pop_3_6",
    "6-12": "pop_6_12",
    "12-15": "pop_12_15",
    "60+": "pop_60plus",
}
_PROFILE_FILE = "data/age_profiles.csv"
#: ``building`` values counted as residential everywhere.
RESIDENTIAL_BUILDINGS: tuple[str, ...] = (
    "apartments", "residential", "house", "dormitory", "detached", "semidetached_house",
    "terrace", "bungalow",
)  # fmt: skip
#: Levels assumed where ``building:levels`` is missing, by ``building`` value; ``"*"`` = other.
DEFAULT_LEVELS: Mapping[str, float] = {
    "apartments": 6, "residential": 6, "dormitory": 6, "house": 2, "detached": 2,
    "semidetached_house": 2, "terrace": 2, "bungalow": 1, "*": 6,
}  # fmt: skip
#: OSM ``barrier`` values read as compound gates (and ``entrance`` values in ``ENTRANCES``).
GATE_BARRIERS: tuple[str, ...] = (
    "gate", "lift_gate", "swing_gate", "sliding_gate", "entrance", "turnstile",
)  # fmt: skip
ENTRANCES = ("yes", "main", "service", "secondary", "entrance")
OnFar = Literal["raise", "drop"]


# --------------------------------------------------------------------------- validation
def did_you_mean(word: object, choices: Collection[str]) -> str:
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f"; did you mean {match[0]!r}?" if match else ""


def require_column(frame: pd.DataFrame, column: str, *, name: str, argument: str) -> None:
    """Raise :class:`MissingColumnError` naming the available columns and the closest one."""
    if column in frame.columns:
        return
    cols = [str(c) for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    shown = ", ".join(repr(c) for c in cols[:20]) + (" ..." if len(cols) > 20 else "")
    raise MissingColumnError(
        f"{name} has no column {column!r} (given as {argument}=); available columns: "
        f"{shown or 'none'}{did_you_mean(column, cols)}"
    )


def check_layer(gdf: object, *, name: str, kinds: Collection[str]) -> gpd.GeoDataFrame:
    """A non-empty GeoDataFrame with a CRS, unique labels and geometry of ``kinds``."""
    if isinstance(gdf, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=gdf)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{name} must be a GeoDataFrame, not {type(gdf).__name__}")
    check_crs(gdf, name=name)
    geoms = gdf.geometry
    bad = (geoms.isna() | geoms.is_empty).to_numpy()
    if bad.all():
        raise EmptyInputError(f"{name} has no geometry (all {len(gdf)} rows are empty)")
    if bad.any():
        raise InputError(
            f"{name} has {int(bad.sum())} rows without geometry (first: "
            f"{list(gdf.index[bad][:5])}); drop them with gdf[~gdf.geometry.is_empty] first"
        )
    found = set(geoms.geom_type.unique())
    if found - set(kinds):
        raise InputError(
            f"{name} must hold {'/'.join(sorted(kinds))} geometries, found {sorted(found)}"
        )
    if not gdf.index.is_unique:
        dup = gdf.index[gdf.index.duplicated()].unique()[:5].tolist()
        raise InputError(
            f"{name} has duplicate index labels {dup}; resident points keep the source labels, "
            "so make them unique (e.g. gdf.reset_index(drop=True))"
        )
    return gdf


def check_population(values: pd.Series, *, name: str, column: str) -> np.ndarray:
    """Float population counts; NaN, infinite, negative or non-numeric -> PopulationError."""
    numeric = pd.to_numeric(values, errors="coerce")
    arr = numeric.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raw = values.to_numpy()
        shown = ", ".join(f"{lab!r}: {_plain(raw[i])!r}" for lab, i in zip(
            values.index[bad][:5], np.flatnonzero(bad)[:5], strict=True))  # fmt: skip
        more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
        raise PopulationError(
            f"{name} column {column!r} must hold finite numbers >= 0; {int(bad.sum())} rows "
            f"are NaN, infinite, negative or not numbers: {{{shown}}}{more}. Fill or drop "
            f"them first, e.g. gdf[{column!r}] = pd.to_numeric(gdf[{column!r}], "
            "errors='coerce').fillna(0)"
        )
    return arr


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def positive(value: object, where: str, *, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where} must be a finite number, not {value!r}")
    if not low < value <= high:
        raise InputError(f"{where} must be in ({low:g}, {high:g}], not {value!r}")
    return float(value)


# --------------------------------------------------------------------------- age profiles
@dataclass(frozen=True)
class AgeProfile:
    """Shares of residents by age band (each in [0, 1], summing to at most 1)."""

    name: str
    shares: tuple[float, ...]
    confidence: tuple[str, ...]


def read_profiles() -> dict[str, AgeProfile]:
    text = resources.files("embedsite").joinpath(_PROFILE_FILE).read_text(encoding="utf-8")
    rows: dict[str, dict[str, tuple[float, str]]] = {}
    for rec in csv.DictReader(text.splitlines()):
        rows.setdefault(rec["profile"], {})[rec["age_group"]] = (
            float(rec["share"]),
            rec["confidence"],
        )
    return {
        name: AgeProfile(
            name,
            tuple(bands[b][0] for b in AGE_BANDS),
            tuple(bands[b][1] for b in AGE_BANDS),
        )
        for name, bands in rows.items()
    }


def resolve_profile(age_profile: str | Mapping[str, float] | None) -> AgeProfile:
    """The named profile of the data file, or a mapping of shares by band, validated."""
    if age_profile is None:
        age_profile = "china_2020"
    if isinstance(age_profile, str):
        known = read_profiles()
        if age_profile not in known:
            raise InputError(
                f"unknown age profile {age_profile!r}; known: {', '.join(map(repr, known))}"
                f"{did_you_mean(age_profile, known)}; or pass a mapping of shares by age band"
            )
        return known[age_profile]
    if not isinstance(age_profile, Mapping):
        raise InputError(
            f"age_profile must be a profile name or a mapping of shares, not {age_profile!r}"
        )
    unknown = set(age_profile) - set(AGE_BANDS)
    if unknown:
        raise InputError(
            f"age_profile has unknown age bands {sorted(map(str, unknown))}; valid bands: "
            f"{', '.join(AGE_BANDS)}"
        )
    shares = []
    for band in AGE_BANDS:
        v = age_profile.get(band, 0.0)
        ok = isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0
        if not ok:
            raise InputError(
                f"age_profile[{band!r}] must be a share of the population in [0, 1], not {v!r}"
                " (give 0.0187 for 1.87 %, not 1.87)"
            )
        shares.append(float(v))
    if sum(shares) > 1.0 + 1e-9:
        raise InputError(
            f"age_profile shares add up to {sum(shares):.4f} > 1; the bands do not overlap, so "
            "their shares of the population cannot exceed 1"
        )
    return AgeProfile("custom", tuple(shares), ("user",) * len(AGE_BANDS))


def band_shares(
    frame: pd.DataFrame,
    population: np.ndarray,
    age_columns: Mapping[str, str] | None,
    profile: AgeProfile,
    *,
    name: str,
) -> np.ndarray:
    """(n, 5) shares of each row's residents by band: from columns where given, else profile."""
    shares = np.tile(np.asarray(profile.shares, dtype=float), (len(frame), 1))
    if not age_columns:
        return shares
    unknown = set(age_columns) - set(AGE_BANDS)
    if unknown:
        raise InputError(
            f"age_columns has unknown age bands {sorted(map(str, unknown))}; valid bands: "
            f"{', '.join(AGE_BANDS)}"
        )
    for band, column in age_columns.items():
        require_column(frame, column, name=name, argument=f"age_columns[{band!r}]")
        counts = check_population(frame[column], name=name, column=column)
        over = counts > population * (1 + 1e-9) + 1e-9
        if over.any():
            first = frame.index[over][:5].tolist()
            raise PopulationError(
                f"{name}: age band {band!r} (column {column!r}) exceeds the population in "
                f"{int(over.sum())} rows (first: {first}); age columns are residents, not shares"
            )
        col = AGE_BANDS.index(band)
        shares[:, col] = np.divide(
            counts, population, out=np.zeros_like(counts), where=population > 0
        )
    total = shares.sum(axis=1)
    if (total > 1 + 1e-9).any():
        first = frame.index[total > 1 + 1e-9][:5].tolist()
        raise PopulationError(
            f"{name}: the age bands add up to more than the population in rows {first}"
        )
    return shares


# --------------------------------------------------------------------------- buildings
def parse_levels(values: pd.Series) -> np.ndarray:
    """Number of levels from OSM text ("6", "5.5", "3;5" -> 3); NaN where unusable."""
    if pd.api.types.is_numeric_dtype(values):
        out = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        first = values.astype("string").str.extract(r"(\d+(?:\.\d+)?)", expand=False)
        out = pd.to_numeric(first, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out[~((out > 0) & (out <= 200))] = np.nan  # 0, negative or absurd: treat as missing
    return out


def fill_levels(
    given: np.ndarray, kinds: np.ndarray, default: Mapping[str, float] | float
) -> tuple[np.ndarray, tuple[tuple[str, int], ...]]:
    """Fill NaN levels by building kind (then the ``"*"`` default); counts by rule."""
    levels = given.copy()
    missing = np.isnan(levels)
    if not missing.any():
        return levels, ()
    if not isinstance(default, Mapping):
        levels[missing] = default
        return levels, ((f"default_levels={default:g}", int(missing.sum())),)
    rules: list[tuple[str, int]] = []
    kind_s = pd.Series(kinds, dtype=object)
    by_kind = kind_s.map({k: float(v) for k, v in default.items() if k != "*"}).to_numpy(float)
    use = missing & ~np.isnan(by_kind)
    levels[use] = by_kind[use]
    for kind, n in kind_s[use].value_counts().sort_index().items():
        rules.append((f"building={kind} -> {float(default[str(kind)]):g}", int(n)))
    rest = np.isnan(levels)
    if rest.any():
        levels[rest] = float(default["*"])
        rules.append((f"default * -> {float(default['*']):g}", int(rest.sum())))
    return levels, tuple(rules)


def containing(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Position of the (smallest) polygon containing each point, -1 where none."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(polygons) == 0 or len(points) == 0:
        return out
    pt, poly = shapely.STRtree(polygons).query(points, predicate="within")
    if len(pt):
        area = shapely.area(polygons)[poly]
        order = np.lexsort((-area, pt))  # per point, largest first, so the smallest wins last
        out[pt[order]] = poly[order]
    return out


def spread(weights: np.ndarray, group: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Share ``totals[g]`` over the members of each group ``g`` in proportion to ``weights``.

    Groups whose weights sum to 0 share equally. Sum per group equals the total.
    """
    n_groups = len(totals)
    wsum = np.bincount(group, weights=weights, minlength=n_groups)
    count = np.bincount(group, minlength=n_groups).astype(float)
    zero = wsum[group] <= 0
    frac = np.where(zero, 1.0 / np.maximum(count[group], 1.0), weights / np.where(zero, 1.0,
                    wsum[group]))  # fmt: skip
    return totals[group] * frac


def grid_points(polygons: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Regular grid points (``spacing_m`` apart, cell centres) inside each polygon.

    Returns the polygon position of each point and the points. A polygon too small to hold a
    grid point gets its representative point instead.
    """
    b = shapely.bounds(polygons)
    nx = np.maximum(np.floor((b[:, 2] - b[:, 0]) / spacing_m).astype(np.int64), 0) + 1
    ny = np.maximum(np.floor((b[:, 3] - b[:, 1]) / spacing_m).astype(np.int64), 0) + 1
    cells = nx * ny
    if cells.sum() > 20_000_000:
        raise InputError(
            f"a {spacing_m:g} m grid over these polygons needs {cells.sum():,} points; "
            "raise grid_spacing_m or pass buildings"
        )
    poly = np.repeat(np.arange(len(polygons)), cells)
    k = np.arange(cells.sum()) - np.repeat(np.cumsum(cells) - cells, cells)
    ix, iy = k % nx[poly], k // nx[poly]
    # centre the lattice on the polygon's bounds
    ox = b[poly, 0] + ((b[poly, 2] - b[poly, 0]) - (nx[poly] - 1) * spacing_m) / 2
    oy = b[poly, 1] + ((b[poly, 3] - b[poly, 1]) - (ny[poly] - 1) * spacing_m) / 2
    x, y = ox + ix * spacing_m, oy + iy * spacing_m
    inside = shapely.contains_xy(polygons[poly], x, y)
    poly, pts = poly[inside], shapely.points(x[inside], y[inside])
    empty = np.setdiff1d(np.arange(len(polygons)), poly)
    if len(empty):
        poly = np.concatenate([poly, empty])
        pts = np.concatenate([pts, shapely.point_on_surface(polygons[empty])])
        order = np.argsort(poly, kind="stable")
        poly, pts = poly[order], pts[order]
    return poly, pts


# --------------------------------------------------------------------------- gates
def assign_gates(
    gates: np.ndarray, compounds: np.ndarray, tolerance_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """(gate position, compound position) pairs: gates within ``tolerance_m`` of a boundary."""
    if len(gates) == 0 or len(compounds) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    tree = shapely.STRtree(shapely.boundary(compounds))
    g, c = tree.query(gates, predicate="dwithin", distance=tolerance_m)
    return g.astype(np.int64), c.astype(np.int64)


def nearest_gate(
    resident_compound: np.ndarray,
    residents: np.ndarray,
    gate_compound: np.ndarray,
    gates: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For each resident in a compound with gates: its nearest gate and the straight distance.

    Returns the gate position (-1 for residents without a gated compound) and the distance
    (NaN there). Pairs residents with their compound's gates by a join, no loop per resident.
    """
    n = len(residents)
    best_gate = np.full(n, -1, dtype=np.int64)
    best_dist = np.full(n, np.nan)
    inside = np.flatnonzero(resident_compound >= 0)
    if len(inside) == 0 or len(gates) == 0:
        return best_gate, best_dist
    left = pd.DataFrame({"r": inside, "c": resident_compound[inside]})
    right = pd.DataFrame({"g": np.arange(len(gate_compound)), "c": gate_compound})
    pairs = left.merge(right, on="c", how="inner")
    if pairs.empty:
        return best_gate, best_dist
    r, g = pairs["r"].to_numpy(), pairs["g"].to_numpy()
    pairs["d"] = shapely.distance(residents[r], gates[g])
    top = pairs.sort_values(["r", "d", "g"]).drop_duplicates("r")
    best_gate[top["r"].to_numpy()] = top["g"].to_numpy()
    best_dist[top["r"].to_numpy()] = top["d"].to_numpy()
    return best_gate, best_dist


def cell_labels(rows: np.ndarray, cols: np.ndarray) -> list[str]:
    return [f"cell/{r}_{c}" for r, c in zip(rows.tolist(), cols.tolist(), strict=True)]


def osm_labels(frame: Any) -> list[str]:
    return [
        f"{t}/{i}"
        for t, i in zip(frame["osm_type"].tolist(), frame["osm_id"].tolist(), strict=True)
    ]


# --------------------------------------------------------------------------- assembling parts
@dataclass(frozen=True)
class Access:
    compounds: gpd.GeoDataFrame | None
    gates: gpd.GeoDataFrame | None
    gate_compound_column: str
    gate_tolerance_m: float
    detour_factor: float
    max_distance: float
    on_far: OnFar


def access(
    compounds: gpd.GeoDataFrame | None,
    gates: gpd.GeoDataFrame | None,
    gate_compound_column: str,
    gate_tolerance_m: float,
    detour_factor: float,
    max_distance: float,
    on_far: OnFar,
) -> Access:
    if on_far not in ("raise", "drop"):
        raise InputError(f"on_far must be 'raise' or 'drop', not {on_far!r}")
    positive(max_distance, "max_distance")
    positive(gate_tolerance_m, "gate_tolerance_m", high=100.0)
    positive(detour_factor, "detour_factor", low=0.999999, high=5.0)
    if compounds is not None:
        compounds = check_layer(compounds, name="compounds", kinds=("Polygon", "MultiPolygon"))
    if gates is not None:
        gates = check_layer(gates, name="gates", kinds=("Point",))
        if compounds is None:
            raise InputError("gates need their compounds: pass compounds= (the 小区 polygons)")
    return Access(
        compounds,
        gates,
        gate_compound_column,
        gate_tolerance_m,
        detour_factor,
        max_distance,
        on_far,
    )


def metric(gdf: gpd.GeoDataFrame | gpd.GeoSeries, network: PedestrianNetwork) -> np.ndarray:
    return np.asarray(gdf.geometry.to_crs(network.crs).array)


def gate_pairs(
    acc: Access, network: PedestrianNetwork
) -> tuple[np.ndarray, np.ndarray, np.ndarray, gpd.GeoDataFrame, list[str]]:
    """Compound polygons and (gate, compound) pairs of snapped gates, plus the gate snaps."""
    notes: list[str] = []
    assert acc.compounds is not None
    comp = metric(acc.compounds, network)
    if acc.gates is None:
        return comp, np.empty(0, np.int64), np.empty(0, np.int64), gpd.GeoDataFrame(), notes
    gates = acc.gates
    gpts = metric(gates, network)
    if acc.gate_compound_column in gates.columns:
        pos = acc.compounds.index.get_indexer(gates[acc.gate_compound_column])
        unknown = pos < 0
        if unknown.any():
            notes.append(
                f"{int(unknown.sum())} gates name no known compound in "
                f"{acc.gate_compound_column!r} (first: {gates.index[unknown][:5].tolist()})"
            )
        g, c = np.flatnonzero(~unknown), pos[~unknown]
    else:
        g, c = assign_gates(gpts, comp, acc.gate_tolerance_m)
    if len(g) == 0:
        return comp, g, c, gpd.GeoDataFrame(), notes
    used = np.unique(g)
    snap = network.snap(
        gpd.GeoSeries(gpts[used], index=pd.RangeIndex(len(gpts))[used], crs=network.crs),
        max_distance=acc.max_distance,
        on_far="drop",
    )
    if len(snap) < len(used):
        notes.append(f"{len(used) - len(snap)} gates lie farther than max_distance from streets")
    ok = np.isin(g, snap.index.to_numpy())
    return comp, g[ok], c[ok], snap, notes


def floor_area(
    b: gpd.GeoDataFrame,
    geoms: np.ndarray,
    comp: np.ndarray | None,
    *,
    levels: str | None,
    building_column: str,
    default_levels: Mapping[str, float] | float | None,
    residential: Collection[str] | None,
    residential_in_compounds: Collection[str],
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Residential mask, floor area (m²) and the levels figures for the report."""
    notes: list[str] = []
    has_kind = building_column in b.columns
    kinds = b[building_column].astype(object).to_numpy() if has_kind else np.full(len(b), "*")
    keep = np.ones(len(b), dtype=bool)
    if residential is not None and has_kind:
        keep = np.isin(kinds, list(residential))
        maybe = np.isin(kinds, list(residential_in_compounds))
        if maybe.any():
            pts = shapely.point_on_surface(geoms[maybe])
            inside = containing(pts, comp) >= 0 if comp is not None else np.zeros(len(pts), bool)
            keep[np.flatnonzero(maybe)[inside]] = True
    elif residential is not None:
        notes.append(f"no {building_column!r} column: every building counted as residential")
    if levels is not None and levels in b.columns:
        given = parse_levels(b[levels])
    elif levels is not None and levels != "building:levels":
        require_column(b, levels, name="buildings", argument="levels")
        given = np.full(len(b), np.nan)  # pragma: no cover - require_column raised
    else:
        given = np.full(len(b), np.nan)
    default = DEFAULT_LEVELS if default_levels is None else default_levels
    if isinstance(default, Mapping) and "*" not in default:
        default = {**default, "*": DEFAULT_LEVELS["*"]}
    elif not isinstance(default, Mapping):
        positive(default, "default_levels", high=200)
    filled, rules = fill_levels(given[keep], kinds[keep].astype(str), default)
    lv = np.full(len(b), np.nan)
    lv[keep] = filled
    area = np.where(keep, shapely.area(geoms) * np.nan_to_num(lv), 0.0)
    stats = {
        "levels_given": int((~np.isnan(given[keep])).sum()),
        "levels_filled": int(np.isnan(given[keep]).sum()),
        "levels_filled_by": rules,
        "notes": notes,
    }
    return keep, area, stats


def profile_shares(
    frame: pd.DataFrame,
    population: np.ndarray,
    age_columns: Mapping[str, str] | None,
    age_profile: str | Mapping[str, float] | None,
    name: str,
) -> tuple[np.ndarray, AgeProfile]:
    profile = resolve_profile(age_profile)
    shares = band_shares(frame, population, age_columns, profile, name=name)
    if age_columns:
        profile = replace(profile, name=f"columns ({profile.name} for the rest)")
    return shares, profile


def find_column(table: pd.DataFrame, names: tuple[str, ...], what: str) -> str:
    lower = {str(c).lower(): str(c) for c in table.columns}
    for n in names:
        if n in lower:
            return lower[n]
    require_column(table, names[0], name="table", argument=what)
    return names[0]  # pragma: no cover - require_column raised

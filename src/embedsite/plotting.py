"""Maps: coverage and gaps per type, service areas, scores and a plan (matplotlib, folium).

Needs the optional dependencies ``pip install 'embedsite[maps]'`` (matplotlib, folium);
they are imported when a function is called, with a clear message when missing.

Every map carries "© OpenStreetMap contributors". Labels are Chinese and English when a font
with Chinese glyphs is found (matplotlib's own list, then ``fc-list :lang=zh``; on Debian
``apt-get install fonts-noto-cjk``), English only otherwise, so no "Glyph missing" warning is
ever raised; force one with ``labels="en"`` or ``labels="zh"``.

Examples
--------
>>> import embedsite.network as en, embedsite.demand as ed, embedsite.facilities as ef
>>> from embedsite import coverage, plotting
>>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
>>> homes = ed.from_osm_file("data/sample/helsinki.osm.pbf", net, on_far="drop")
>>> supply = ef.from_osm_file("data/sample/helsinki.osm.pbf", net)
>>> cov = coverage.compute(net, homes, supply, types=["community_health_station"])
>>> ax = plotting.plot_coverage(cov, "community_health_station", labels="en")
>>> ax.get_title()
'community health service station: 43.7% of residents within 300 m'
>>> plotting.ATTRIBUTION in [t.get_text() for t in ax.texts]
True
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from embedsite.coverage import Coverage
from embedsite.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import folium
    from matplotlib.axes import Axes

__all__ = [
    "ATTRIBUTION",
    "Labels",
    "cjk_font",
    "folium_map",
    "plot_coverage",
    "plot_plan",
    "plot_scores",
    "plot_service_areas",
]

log = logging.getLogger(__name__)

#: The attribution every map of OpenStreetMap data must carry (ODbL).
ATTRIBUTION = "© OpenStreetMap contributors"
Labels = Literal["auto", "zh", "en"]
_CJK_SAMPLE = "社区嵌入式服务设施覆盖托育幼儿园老年人日间照料中心卫生站评分规划新增居民步行"
_CJK_NAMES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
              "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei",
              "PingFang SC", "Heiti SC", "Noto Serif CJK SC", "AR PL UMing CN")  # fmt: skip
_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
            "#666666", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6")  # fmt: skip


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError(
            "embedsite.plotting needs matplotlib: pip install 'embedsite[maps]'"
        ) from exc
    return plt


def _has_glyphs(path: str, text: str) -> bool:
    from matplotlib import ft2font

    try:
        font = ft2font.FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(ch)) != 0 for ch in set(text))


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """A font family with Chinese glyphs that matplotlib can use, or None.

    Looks in matplotlib's font list for well-known CJK families, then asks fontconfig
    (``fc-list :lang=zh``) and registers what it finds. The result is cached.

    Examples
    --------
    >>> name = cjk_font()
    >>> name is None or isinstance(name, str)
    True
    """
    from matplotlib import font_manager as fm

    def usable() -> str | None:
        by_name = {f.name: f.fname for f in fm.fontManager.ttflist}
        for name in _CJK_NAMES:
            if name in by_name and _has_glyphs(by_name[name], _CJK_SAMPLE):
                return name
        return None

    found = usable()
    if found is None and shutil.which("fc-list"):
        try:
            out = subprocess.run(
                ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20,
                check=False,
            ).stdout  # fmt: skip
        except (OSError, subprocess.SubprocessError):  # pragma: no cover
            out = ""
        files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
        files.sort(key=lambda f: ("Sans" not in f, "Bold" in f, f))
        for path in files:
            if not _has_glyphs(path, _CJK_SAMPLE):
                continue
            try:
                fm.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # pragma: no cover
                continue
        found = usable()
        if found is None:
            for f in fm.fontManager.ttflist:
                if f.fname in files and _has_glyphs(f.fname, _CJK_SAMPLE):
                    found = f.name
                    break
    if found is None:
        log.info("no font with Chinese glyphs found; maps use English labels "
                 "(Debian: apt-get install fonts-noto-cjk)")  # fmt: skip
    return found


def _mode(labels: Labels) -> Literal["zh", "en"]:
    if labels not in ("auto", "zh", "en"):
        raise InputError(f"labels must be 'auto', 'zh' or 'en', not {labels!r}")
    if labels == "en":
        return "en"
    font = cjk_font()
    if font is None:
        if labels == "zh":
            raise InputError(
                "labels='zh' needs a font with Chinese glyphs and none was found; install one "
                "(Debian/Ubuntu: apt-get install fonts-noto-cjk) or use labels='en'"
            )
        return "en"
    return "zh"


@contextmanager
def _fonts(mode: str) -> Iterator[None]:
    plt = _pyplot()
    rc: dict[str, Any] = {}
    if mode == "zh":
        # concrete family names (not "sans-serif"), so texts keep the font until they are drawn
        rc = {"font.family": [cjk_font(), "DejaVu Sans"]}
    with plt.rc_context(rc):
        yield


def _label(mode: str, zh: str, en: str) -> str:
    return f"{zh} {en}" if mode == "zh" else en


def _type_label(cov_std: Any, key: str, mode: str) -> str:
    ft = cov_std[key]
    short_en = ft.name_en.split(" (")[0].split(" /")[0]
    return f"{ft.name_zh} {short_en}" if mode == "zh" else short_en


def _axes(ax: Axes | None, figsize: tuple[float, float] = (8.0, 8.0)) -> Axes:
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _finish(ax: Axes, title: str) -> Axes:
    # the title Text exists since the Axes were made, maybe by the caller outside _fonts:
    # give it the family in force now, or a Chinese title renders without glyphs
    ax.set_title(title, fontfamily=_pyplot().rcParams["font.family"])
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.text(0.99, 0.01, ATTRIBUTION, transform=ax.transAxes, ha="right", va="bottom",
            fontsize=7, color="#333333",
            bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1.5})  # fmt: skip
    return ax


def _streets(ax: Axes, cov: Coverage) -> None:
    cov.network.edges.plot(ax=ax, color="#bbbbbb", linewidth=0.5, zorder=1)


def _key(cov: Coverage, facility_type: str) -> str:
    key = cov.standards[facility_type].key
    if key not in cov.types:
        raise InputError(f"{key!r} was not analysed; analysed types: {list(cov.types)}")
    return key


def _sizes(served: np.ndarray) -> np.ndarray:
    top = float(served.max()) if len(served) and served.max() > 0 else 1.0
    return 4.0 + 60.0 * np.sqrt(served / top)


def plot_coverage(
    coverage: Coverage, facility_type: str, *, ax: Axes | None = None, labels: Labels = "auto"
) -> Axes:
    """Residents covered (green) and not (red, sized by residents served), and facilities.

    Returns the matplotlib Axes (a new figure unless ``ax`` is given). See the module
    docstring for an example.
    """
    key = _key(coverage, facility_type)
    mode = _mode(labels)
    with _fonts(mode):
        ax = _axes(ax)
        _streets(ax, coverage)
        pts = coverage.demand.points
        served = coverage.served(key).to_numpy(float)
        ok = coverage.covered[key].to_numpy(bool)
        size = _sizes(served)
        has = served > 0
        ax.scatter(pts.geometry.x[ok & has], pts.geometry.y[ok & has], s=size[ok & has],
                   c="#1a9850", alpha=0.6, linewidths=0, zorder=2,
                   label=_label(mode, "已覆盖居民", "residents covered"))  # fmt: skip
        ax.scatter(pts.geometry.x[~ok & has], pts.geometry.y[~ok & has], s=size[~ok & has],
                   c="#d73027", alpha=0.6, linewidths=0, zorder=2,
                   label=_label(mode, "未覆盖居民", "residents not covered (gap)"))  # fmt: skip
        fac = coverage.facilities.points
        fac = fac[fac["facility_type"] == key]
        if len(fac):
            ax.scatter(fac.geometry.x, fac.geometry.y, marker="^", s=60, c="#2c7bb6",
                       edgecolors="black", linewidths=0.5, zorder=3,
                       label=_label(mode, "现有设施", "existing facilities"))  # fmt: skip
        row = coverage.by_type.loc[key]
        share = row["share_covered"]
        radius = coverage.standards[key].walk_radius_m
        tail = (f"{share:.1%} of residents within {radius:g} m" if np.isfinite(share)
                else "nobody of the served age group")  # fmt: skip
        if mode == "zh":
            tail = f"{tail} (步行{radius:g}米覆盖率)"
        ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
        return _finish(ax, f"{_type_label(coverage.standards, key, mode)}: {tail}")


def plot_service_areas(
    coverage: Coverage,
    facility_type: str,
    *,
    ax: Axes | None = None,
    labels: Labels = "auto",
    buffer_m: float = 25.0,
    method: Literal["exact", "grid"] = "exact",
) -> Axes:
    """The street space each facility of a type reaches within its walk radius.

    ``method="grid"`` draws the polygons on a lattice of ``buffer_m / 5`` (boundaries within
    about a tenth of the buffer, several times faster: for maps of many facilities; see
    :meth:`embedsite.coverage.Coverage.service_areas`)."""
    key = _key(coverage, facility_type)
    mode = _mode(labels)
    with _fonts(mode):
        ax = _axes(ax)
        _streets(ax, coverage)
        areas = coverage.service_areas(key, buffer_m=buffer_m, method=method)
        if len(areas):
            areas.plot(ax=ax, color="#2c7bb6", alpha=0.35, edgecolor="#2c7bb6", zorder=2)
        fac = coverage.facilities.points
        fac = fac[fac["facility_type"] == key]
        if len(fac):
            ax.scatter(fac.geometry.x, fac.geometry.y, marker="^", s=50, c="#2c7bb6",
                       edgecolors="black", linewidths=0.5, zorder=3)  # fmt: skip
        radius = coverage.standards[key].walk_radius_m
        title = _label(mode, f"服务范围（步行{radius:g}米）", f"service areas ({radius:g} m walk)")
        return _finish(ax, f"{_type_label(coverage.standards, key, mode)}: {title}")


def plot_scores(
    scores: gpd.GeoDataFrame,
    *,
    column: str = "score",
    ax: Axes | None = None,
    labels: Labels = "auto",
    coverage: Coverage | None = None,
) -> Axes:
    """Choropleth of a :func:`embedsite.scoring.score` column (0-100 scores by default)."""
    if column not in scores.columns:
        raise InputError(
            f"no column {column!r} in the scores; columns: {list(scores.columns)[:20]}"
        )
    mode = _mode(labels)
    with _fonts(mode):
        ax = _axes(ax)
        frame = scores
        if coverage is not None:
            frame = scores.to_crs(coverage.network.crs)
        is_score = column.startswith("score") and column != "score_gain"
        kw: dict[str, Any] = {"vmin": 0, "vmax": 100} if is_score else {}
        frame.plot(ax=ax, column=column, cmap="RdYlGn", edgecolor="white", linewidth=0.5,
                   legend=True, zorder=1, missing_kwds={"color": "#eeeeee"}, **kw)  # fmt: skip
        if coverage is not None:
            coverage.network.edges.plot(ax=ax, color="#555555", linewidth=0.3, alpha=0.5,
                                        zorder=2)  # fmt: skip
        name = {"score": ("综合评分", "composite score (0-100)"),
                "score_after": ("规划后综合评分", "composite score after the plan"),
                "score_gain": ("评分提升", "score gain from the plan")}.get(column)  # fmt: skip
        title = _label(mode, *name) if name else column
        return _finish(ax, title)


def plot_plan(
    coverage: Coverage,
    plan: gpd.GeoDataFrame,
    *,
    facility_type: str | None = None,
    after: Coverage | None = None,
    ax: Axes | None = None,
    labels: Labels = "auto",
) -> Axes:
    """A plan's new sites over the existing facilities; with ``facility_type``, also the
    residents the plan newly covers (``after``: the coverage after the plan, recomputed
    with :func:`embedsite.scoring.with_plan` when not given)."""
    if plan.crs is None:
        raise InputError("the plan has no CRS; set it with .set_crs(...)")
    mode = _mode(labels)
    with _fonts(mode):
        ax = _axes(ax)
        _streets(ax, coverage)
        sites = plan.to_crs(coverage.network.crs)
        keys = sorted({coverage.standards[str(t)].key for t in sites["facility_type"]})
        if facility_type is not None:
            from embedsite.scoring import with_plan

            key = _key(coverage, facility_type)
            after = after if after is not None else with_plan(coverage, plan)
            pts = coverage.demand.points
            served = coverage.served(key).to_numpy(float)
            new = after.covered[key].to_numpy(bool) & ~coverage.covered[key].to_numpy(bool)
            new &= served > 0
            ax.scatter(pts.geometry.x[new], pts.geometry.y[new], s=_sizes(served)[new],
                       c="#fdae61", alpha=0.7, linewidths=0, zorder=2,
                       label=_label(mode, "新覆盖居民", "residents newly covered"))  # fmt: skip
            keys = [key]
        fac = coverage.facilities.points
        fac = fac[fac["facility_type"].isin(keys)]
        if len(fac):
            ax.scatter(fac.geometry.x, fac.geometry.y, marker="^", s=50, c="#2c7bb6",
                       edgecolors="black", linewidths=0.5, zorder=3,
                       label=_label(mode, "现有设施", "existing facilities"))  # fmt: skip
        mine = sites[[coverage.standards[str(t)].key in keys for t in sites["facility_type"]]]
        pts_new = mine.geometry.representative_point()
        ax.scatter(pts_new.x, pts_new.y, marker="*", s=180, c="#d7191c", edgecolors="black",
                   linewidths=0.6, zorder=4,
                   label=_label(mode, "规划新增设施", "planned new sites"))  # fmt: skip
        ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
        head = _type_label(coverage.standards, keys[0], mode) + ": " if len(keys) == 1 else ""
        return _finish(
            ax, head + _label(mode, f"规划 {len(mine)} 处", f"plan, {len(mine)} new sites")
        )


# --------------------------------------------------------------------------- folium
def _folium() -> Any:
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError("folium_map needs folium: pip install 'embedsite[maps]'") from exc
    return folium


def _wgs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(4326)


def folium_map(
    coverage: Coverage,
    *,
    types: Sequence[str] | None = None,
    scores: gpd.GeoDataFrame | None = None,
    plan: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    service_areas: bool = True,
    gaps: bool = True,
    tiles: str | None = "OpenStreetMap",
) -> folium.Map:
    """An interactive map: a layer per facility type, service areas, gaps, scores, the plan.

    Labels and pop-ups are Chinese and English (the browser draws Chinese itself). The
    OpenStreetMap tiles and their attribution load from the web when the page is opened;
    ``tiles=None`` leaves the background out (the attribution stays on the map).

    Examples
    --------
    >>> import embedsite.network as en, embedsite.demand as ed, embedsite.facilities as ef
    >>> from embedsite import coverage
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> homes = ed.from_osm_file("data/sample/helsinki.osm.pbf", net, on_far="drop")
    >>> supply = ef.from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> cov = coverage.compute(net, homes, supply, types=["community_health_station"])
    >>> html = folium_map(cov).get_root().render()
    >>> "社区卫生服务站" in html and "OpenStreetMap contributors" in html
    True
    """
    folium = _folium()
    std = coverage.standards
    keys = [_key(coverage, t) for t in types] if types is not None else list(coverage.types)
    pts = _wgs(coverage.demand.points)
    minx, miny, maxx, maxy = pts.total_bounds
    fmap = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None,
                      control_scale=True)  # fmt: skip
    if tiles is not None:
        folium.TileLayer(tiles, attr=ATTRIBUTION, name="OpenStreetMap").add_to(fmap)
    else:
        fmap.get_root().html.add_child(folium.Element(
            f'<div style="position:fixed;bottom:4px;right:6px;z-index:9999;font-size:11px;'
            f'background:white;padding:1px 4px">{ATTRIBUTION}</div>'))  # fmt: skip
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    facilities = _wgs(coverage.facilities.points)
    for i, key in enumerate(keys):
        ft = std[key]
        colour = _COLOURS[i % len(_COLOURS)]
        share = float(
            coverage.by_type["share_covered"].to_numpy(float)[list(coverage.types).index(key)]
        )
        group = folium.FeatureGroup(
            name=f"{ft.name_zh} {ft.name_en} ({share:.0%} 覆盖 covered)", show=i == 0
        )
        if service_areas:
            areas = coverage.service_areas(key)
            if len(areas):
                folium.GeoJson(
                    _wgs(areas[["geometry"]]).__geo_interface__, name=f"{ft.name_zh} service areas",
                    style_function=lambda _f, c=colour: {"color": c, "weight": 1,
                                                         "fillColor": c, "fillOpacity": 0.25},
                ).add_to(group)  # fmt: skip
        here = facilities[facilities["facility_type"] == key]
        for label, row in here.iterrows():  # facilities, not residents: few per type
            name = row["name"] if isinstance(row["name"], str) else str(label)
            folium.Marker(
                [row.geometry.y, row.geometry.x],
                tooltip=f"{ft.name_zh} / {ft.name_en}: {name}",
                icon=folium.Icon(color="blue", icon="info-sign"),
            ).add_to(group)
        if gaps:
            miss = coverage.gaps(key)
            if len(miss):
                g = _wgs(miss[["served", "walk_m", "geometry"]]).copy()
                g["walk_m"] = g["walk_m"].where(np.isfinite(g["walk_m"]), None)
                folium.GeoJson(
                    g.__geo_interface__, name=f"{ft.name_zh} gaps",
                    marker=folium.CircleMarker(radius=3, color="#d73027", fill=True,
                                               fill_opacity=0.7, weight=0),
                    tooltip=folium.GeoJsonTooltip(["served", "walk_m"],
                                                  aliases=["未覆盖 uncovered", "步行 walk m"]),
                ).add_to(group)  # fmt: skip
        group.add_to(fmap)
    if scores is not None:
        _score_layer(folium, fmap, scores)
    if candidates is not None:
        _points_layer(folium, fmap, candidates, "候选地块 candidate sites", "#7570b3", std)
    if plan is not None:
        _points_layer(folium, fmap, plan, "规划新增 planned sites", "#d7191c", std)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def _score_layer(folium: Any, fmap: Any, scores: gpd.GeoDataFrame) -> None:
    cols = [c for c in ("name", "population", "score", "score_after", "passes") if c in scores]
    frame = _wgs(scores[[*cols, "geometry"]]).copy()
    frame["score"] = frame["score"].round(1)
    colours = ("#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850")

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        s = feature["properties"].get("score")
        c = "#cccccc" if s is None else colours[min(int(s // (100 / len(colours))), 5)]
        return {"color": "white", "weight": 1, "fillColor": c, "fillOpacity": 0.55}

    folium.GeoJson(
        frame.__geo_interface__, name="综合评分 composite score", style_function=style,
        tooltip=folium.GeoJsonTooltip(cols, aliases=[_ALIASES.get(c, c) for c in cols]),
    ).add_to(fmap)  # fmt: skip


_ALIASES = {"name": "名称 name", "population": "人口 population", "score": "评分 score",
            "score_after": "规划后 after plan", "passes": "达标类型数 types passed"}  # fmt: skip


def _points_layer(
    folium: Any, fmap: Any, sites: gpd.GeoDataFrame, title: str, colour: str, std: Any
) -> None:
    if sites.crs is None:
        raise InputError(f"{title}: the layer has no CRS; set it with .set_crs(...)")
    group = folium.FeatureGroup(name=title)
    frame = _wgs(sites)
    geoms = frame.geometry.representative_point()
    kinds = (
        frame["facility_type"] if "facility_type" in frame else pd.Series(None, index=frame.index)
    )
    for label, pt, kind in zip(frame.index, geoms, kinds, strict=True):
        text = str(label)
        if isinstance(kind, str) and kind in std:
            text = f"{std[kind].name_zh} / {std[kind].name_en}: {label}"
        folium.CircleMarker([pt.y, pt.x], radius=7, color=colour, fill=True, fill_opacity=0.9,
                            tooltip=text).add_to(group)  # fmt: skip
    group.add_to(fmap)

"""A self-contained HTML report of a run: what a planner takes to the meeting.

:func:`write_report` writes one HTML file that needs nothing else: the maps are PNG images
embedded as base64 (no tiles, no script, no network), the tables are plain HTML. It holds
the inputs, the standards in force with their sources and confidence, coverage per type,
the scores per neighbourhood, the proposed plan and its gain, and notes on the method.
The interactive folium map, which loads Leaflet and tiles from the web, can be written
beside it (``folium_path=``) and is linked from the report.

Examples
--------
>>> import tempfile, pathlib
>>> import embedsite.network as en, embedsite.demand as ed, embedsite.facilities as ef
>>> from embedsite import coverage, report
>>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
>>> homes = ed.from_osm_file("data/sample/helsinki.osm.pbf", net, on_far="drop")
>>> supply = ef.from_osm_file("data/sample/helsinki.osm.pbf", net)
>>> cov = coverage.compute(net, homes, supply, types=["community_health_station"])
>>> with tempfile.TemporaryDirectory() as d:
...     path = report.write_report(pathlib.Path(d) / "report.html", cov, labels="en")
...     text = path.read_text(encoding="utf-8")
>>> "data:image/png;base64," in text and "OpenStreetMap contributors" in text
True
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from embedsite._io import atomic_path
from embedsite.coverage import Coverage
from embedsite.errors import InputError

__all__ = ["plan_gain", "write_report"]

log = logging.getLogger(__name__)

_CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",
"WenQuanYi Zen Hei",sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:3px solid #2c7bb6;padding-bottom:.2em}
h2{font-size:1.25em;margin-top:1.8em;color:#2c7bb6}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0;width:auto}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right;vertical-align:top}
th{background:#eef3f8}td.t,th.t{text-align:left}
.maps{display:flex;flex-wrap:wrap;gap:10px}.maps figure{margin:0;width:48%}
.maps img{width:100%;border:1px solid #ddd}figcaption{font-size:.8em;color:#555}
.fail{color:#b2182b;font-weight:bold}.pass{color:#1a9850}
.wide{overflow-x:auto}.note{font-size:.85em;color:#444}footer{margin-top:2em;font-size:.8em;color:#666}
"""


def plan_gain(before: Coverage, after: Coverage) -> pd.DataFrame:
    """Per type: residents served, covered before and after a plan, shares and the gain.

    Examples
    --------
    >>> import embedsite.network as en, embedsite.demand as ed, embedsite.facilities as ef
    >>> from embedsite import coverage
    >>> net = en.from_osm_file("data/sample/helsinki.osm.pbf")
    >>> homes = ed.from_osm_file("data/sample/helsinki.osm.pbf", net, on_far="drop")
    >>> supply = ef.from_osm_file("data/sample/helsinki.osm.pbf", net)
    >>> cov = coverage.compute(net, homes, supply, types=["nursery"])
    >>> float(plan_gain(cov, cov).loc["nursery", "newly_covered"])
    0.0
    """
    b, a = before.by_type, after.by_type.reindex(before.by_type.index)
    out = pd.DataFrame(
        {
            "name_zh": b["name_zh"],
            "served": b["served"],
            "covered_before": b["covered"],
            "covered_after": a["covered"],
            "share_before": b["share_covered"],
            "share_after": a["share_covered"],
            "newly_covered": a["covered"] - b["covered"],
            "facilities_before": b["facilities"],
            "facilities_after": a["facilities"],
        }
    )
    return out


def _png(ax: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(ax.figure)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(frame: pd.DataFrame, *, index: bool = True) -> str:
    def cell(v: Any, col: str) -> str:
        if isinstance(v, bool | np.bool_):
            if not (col.endswith("pass") or "meets" in col):
                return "yes" if v else "no"
            return '<span class="pass">✔</span>' if v else '<span class="fail">✘</span>'
        if isinstance(v, float | np.floating):
            x = float(v)
            if np.isnan(x):
                return "–"
            if np.isinf(x):
                return "∞"
            return f"{x:,.3f}" if abs(x) < 1 and x != 0 else f"{x:,.1f}"
        return html.escape(str(v))

    cols = list(frame.columns)
    corner = f'<th class="t">{html.escape(str(frame.index.name or ""))}</th>' if index else ""
    head = corner + "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    rows = []
    for label, row in frame.iterrows():  # report tables: tens of rows, not residents
        first = f'<td class="t">{html.escape(str(label))}</td>' if index else ""
        tds = "".join(
            f'<td class="t">{cell(v, str(c))}</td>' if isinstance(v, str)
            else f"<td>{cell(v, str(c))}</td>"
            for c, v in zip(cols, row.to_numpy(), strict=True)
        )  # fmt: skip
        rows.append(f"<tr>{first}{tds}</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<div class="wide">{table}</div>'


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{html.escape(title)}</h2>{body}</section>'


def _maps(cov: Coverage, scores: gpd.GeoDataFrame | None, plan: gpd.GeoDataFrame | None,
          after: Coverage | None, types: list[str], labels: Any) -> str:  # fmt: skip
    try:
        from embedsite import plotting
    except ImportError:  # pragma: no cover - matplotlib missing
        return '<p class="note">No maps: matplotlib is not installed (embedsite[maps]).</p>'
    figs: list[tuple[str, str]] = []
    if scores is not None:
        figs.append(("综合评分 composite score", _png(plotting.plot_scores(
            scores, coverage=cov, labels=labels))))  # fmt: skip
        if "score_after" in scores.columns:
            figs.append(("规划后评分 score after the plan", _png(plotting.plot_scores(
                scores, column="score_after", coverage=cov, labels=labels))))  # fmt: skip
    for key in types:
        ft = cov.standards[key]
        figs.append((f"{ft.name_zh} {ft.name_en}: coverage and gaps",
                     _png(plotting.plot_coverage(cov, key, labels=labels))))  # fmt: skip
    if plan is not None and len(plan):
        keys = pd.unique(pd.Series([cov.standards[str(t)].key for t in plan["facility_type"]]))
        for key in keys:
            if key in cov.types:
                figs.append((f"{cov.standards[key].name_zh}: plan", _png(plotting.plot_plan(
                    cov, plan, facility_type=key, after=after, labels=labels))))  # fmt: skip
    items = "".join(
        f'<figure><img alt="{html.escape(cap)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(cap)}</figcaption></figure>"
        for cap, data in figs
    )
    return f'<div class="maps">{items}</div>'


def write_report(
    path: str | Path,
    coverage: Coverage,
    *,
    scores: gpd.GeoDataFrame | None = None,
    plan: Any = None,
    title: str = "社区嵌入式服务设施评估 Community embedded service facilities",
    map_types: Sequence[str] | None = None,
    max_rows: int = 200,
    folium_path: str | Path | None = None,
    labels: Any = "auto",
) -> Path:
    """Write the HTML report of a run (atomically) and return its path.

    Parameters
    ----------
    path
        The ``.html`` file to write.
    coverage
        The coverage before any plan.
    scores
        :func:`embedsite.scoring.score` output (with ``_after`` columns when it was scored
        with the plan).
    plan
        New sites (GeoDataFrame with ``facility_type``, any CRS), a siting result or a list
        of them (:func:`embedsite.scoring.plan_sites`): the report recomputes the coverage
        after it and tabulates the gain per type.
    title
        Page title.
    map_types
        Facility types to draw a coverage map for (default: at most six analysed types with
        residents served: those with facilities first, the lowest coverage first).
    max_rows
        Neighbourhoods listed (the worst first).
    folium_path
        Also write the interactive folium map there (loads Leaflet and tiles from the web
        when opened) and link it from the report.
    labels
        ``"auto"``, ``"zh"`` or ``"en"`` for the map labels (see :mod:`embedsite.plotting`).
    """
    from embedsite import __version__
    from embedsite.scoring import norms, plan_sites, with_plan

    plan = plan_sites(plan) if plan is not None else None
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"the report is an HTML file; give a path ending in .html, not {target}")
    std = coverage.standards
    by_type = coverage.by_type
    after = with_plan(coverage, plan) if plan is not None and len(plan) else None
    if map_types is None:
        ranked = by_type[by_type["served"] > 0].assign(none=lambda t: t["facilities"] == 0)
        types = list(ranked.sort_values(["none", "share_covered"]).index[:6])
    else:
        types = [std[t].key for t in map_types]
    net = coverage.network
    dem = coverage.demand
    fac = coverage.facilities
    inputs = pd.DataFrame(
        {"value": [
            f"{len(net):,} nodes, {len(net.edge_lengths):,} edges, "
            f"{float(net.edge_lengths.sum()) / 1000:,.1f} km of street; CRS {net.crs}",
            f"{dem.total:,.0f} residents, {dem.households:,.0f} households at {len(dem):,} "
            f"points ({dem.report.source})",
            f"{len(fac):,} facilities of {len(fac.types)} types ({fac.report.source})",
            f"{len(coverage.types)} facility types analysed",
        ]},
        index=pd.Index(["步行网络 network", "居民 demand", "现有设施 facilities",
                        "设施类型 types"], name="input"),
    )  # fmt: skip
    frame = std.to_frame()
    cols = [c for c in ("name_zh", "name_en", "tier", "walk_radius_m", "age_group",
                        "confidence", "is_default", "source") if c in frame.columns]  # fmt: skip
    std_table = frame.loc[list(coverage.types), cols]
    an = std.area_norm
    area_table = pd.DataFrame(
        {"min m²/100 households": [an.min_m2_per_100_households],
         "target m²/100 households": [an.target_m2_per_100_households],
         "household size": [an.household_size], "confidence": [an.confidence],
         "source": [an.source]},
        index=pd.Index(["每百户社区综合服务设施面积 floor area norm"], name="norm"),
    )  # fmt: skip
    cov_cols = ["name_zh", "radius_m", "facilities", "served", "covered", "share_covered",
                "uncovered", "mean_walk_m", "p90_walk_m"]  # fmt: skip
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">embedsite {html.escape(__version__)} · '
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC</p>",
        _section("inputs", "输入 Inputs", _fmt(inputs)),
        _section(
            "standards",
            "现行标准 Standards in force (sources, confidence)",
            _fmt(std_table) + _fmt(area_table),
        ),
        _section("coverage", "各类设施覆盖 Coverage per facility type", _fmt(by_type[cov_cols])),
    ]
    if scores is not None:
        share_cols = [
            f"{k}.share_covered" for k in coverage.types if f"{k}.share_covered" in scores
        ]
        keep = ["name", "population", "households", "score",
                *(["score_after", "score_gain"] if "score_after" in scores else []), "passes",
                "area_norm.m2_per_100_households", "area_norm.meets_min", *share_cols]  # fmt: skip
        shown = pd.DataFrame(scores[[c for c in keep if c in scores.columns]]).head(max_rows)
        more = (f'<p class="note">{len(scores) - max_rows} more neighbourhoods not shown.</p>'
                if len(scores) > max_rows else "")  # fmt: skip
        clauses = norms(std, coverage.types)[["name_zh", "threshold", "unit", "column",
                                               "confidence", "source"]]  # fmt: skip
        parts.append(_section(
            "scores", "各社区评分 Scores per neighbourhood (worst first)",
            _fmt(shown) + more + "<h3>Norms checked 核查的标准</h3>" + _fmt(clauses),
        ))  # fmt: skip
    if plan is not None and after is not None:
        sites = pd.DataFrame(plan.drop(columns=plan.geometry.name)).copy()
        pts = plan.to_crs(4326).geometry.representative_point()
        sites["lon"], sites["lat"] = pts.x.round(6), pts.y.round(6)
        gain = plan_gain(coverage, after)
        parts.append(_section(
            "plan", "规划方案及其效果 The plan and its gain",
            f"<p>{len(plan)} new sites 新增设施</p>" + _fmt(sites) + _fmt(gain),
        ))  # fmt: skip
    parts.append(_section("maps", "地图 Maps", _maps(coverage, scores, plan, after, types, labels)))
    if folium_path is not None:
        from embedsite.plotting import folium_map

        fpath = Path(folium_path)
        fmap = folium_map(coverage, scores=scores, plan=plan)
        with atomic_path(fpath) as tmp:
            fmap.save(str(tmp))
        parts.append(f'<p><a href="{html.escape(fpath.name)}">交互地图 Interactive map</a> '
                     "(needs a network connection for the background tiles)</p>")  # fmt: skip
    parts.append(_section("method", "方法说明 Method notes", _METHOD))
    parts.append("<footer>Map data © OpenStreetMap contributors, ODbL 1.0. "
                 "Standards figures: see their sources above.</footer>")  # fmt: skip
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    log.info("wrote the report %s (%d kB)", target, len(page) // 1024)
    return target


_METHOD = """
<ul class="note">
<li>Walk distances are exact network distances over the OpenStreetMap pedestrian network:
from each resident point's snap position along its street (plus the straight access
distance) to the nearest facility's snap position, never node to node and never a
Euclidean circle.</li>
<li>Residents are placed at buildings (floor area / area per person) and split into age
groups by the national age profile; each facility type counts only the age group it
serves (0-3 nurseries, 3-6 kindergartens, 60+ elderly care, everybody for health
stations...).</li>
<li>A type's norm passes in a neighbourhood when the share of its served residents within
the walk radius reaches the coverage target (100% by default); a neighbourhood where
nobody of the age group lives passes.</li>
<li>Floor area per 100 households counts the floor area of the existing 5-minute,
10-minute and community facilities inside the neighbourhood; facilities without a known
floor area add nothing, so a low figure may be missing data, not missing space.</li>
<li>The composite score (0-100) is the weighted mean of each type's covered share and of
min(m² per 100 households / target, 1); weights 1 each unless given; components
undefined in a neighbourhood are left out and the weights renormalised.</li>
<li>The plan's sites are snapped to the network like the existing facilities and the
coverage is recomputed with them; nothing else changes.</li>
</ul>
"""

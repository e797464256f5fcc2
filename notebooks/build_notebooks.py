"""Build the tutorial notebooks of this folder from the cells below, outputs stripped.

Run from the repository root after editing a cell: ``python notebooks/build_notebooks.py``.
The quickstart and siting cells are below; the longer notebooks keep theirs in
``cells_<name>.py`` beside this file.
The notebooks are executed by ``tests/test_notebooks.py`` (working directory: the repository
root, so the sample path is relative to it); their outputs are never committed.
"""

from __future__ import annotations

import runpy
import subprocess
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def _setup(extra: str = "") -> str:
    """The first code cell: imports (isort order, ``extra`` after pandas) and the sample."""
    return f"""\
import matplotlib

matplotlib.use("Agg")  # no window; the inline backend below renders with Agg too
%matplotlib inline
import matplotlib.pyplot as plt
{extra}
import embedsite.candidates as ec
import embedsite.demand as ed
import embedsite.facilities as ef
import embedsite.network as en
from embedsite import coverage, plotting
from embedsite.siting import MCLP, CompositePlan

path = "data/sample/helsinki.osm.pbf"  # central Helsinki, © OpenStreetMap contributors, ODbL
CORE = ["nursery", "elderly_day_care_center", "community_canteen", "after_school_care"]"""


QUICKSTART = [
    new_markdown_cell(
        "# Quickstart: from an OpenStreetMap file to a report\n\n"
        "The shipped sample (central Helsinki, OpenStreetMap) goes through the whole pipeline: "
        "the pedestrian network, the residents, the existing facilities, who can walk to what "
        "within the life-circle radii, where to add sites, the scores per 500 m hexagon and the "
        "HTML report. Everything runs offline in well under a minute.\n\n"
        "快速上手：从 OSM 文件到评估报告。"
    ),
    new_code_cell(_setup()),
    new_markdown_cell(
        "## 1. Pedestrian network 步行网络\n\nStreets and paths a pedestrian may use, "
        "projected to metres (the UTM zone of the centre unless `crs=` is given)."
    ),
    new_code_cell("net = en.from_osm_file(path)\nnet.summary()"),
    new_markdown_cell(
        "## 2. Residents and existing facilities 居民与现有设施\n\n"
        "Residential buildings become resident points split by age band; points too far from "
        'any street are dropped (`on_far="drop"`). Facilities are matched from OSM tags and '
        "Chinese names to the national facility types."
    ),
    new_code_cell(
        'homes = ed.from_osm_file(path, net, on_far="drop")\n'
        "supply = ef.from_osm_file(path, net)\n"
        "table = supply.summary()\n"
        'table[table["count"] > 0]'
    ),
    new_markdown_cell(
        "## 3. Walking coverage 步行覆盖\n\nThe exact walk distance (access to the street, "
        "along the streets, access to the door) from every resident point to the nearest "
        "facility of each type, against the type's radius and served age group."
    ),
    new_code_cell(
        "cov = coverage.compute(net, homes, supply)\n"
        'cov.by_type[["name_zh", "radius_m", "facilities", "served", "share_covered", '
        '"p90_walk_m"]]'
    ),
    new_markdown_cell(
        "## 4. A map 地图\n\nResidents who can walk to a nursery (托育) are green, the others "
        "red, sized by the children they count."
    ),
    new_code_cell('ax = plotting.plot_coverage(cov, "nursery")\nplt.show()'),
    new_markdown_cell(
        "## 5. Candidate sites 候选点位\n\nTagged OSM buildings and land that the 2024 guide "
        "allows (vacant, retail, commercial, car parks, community centres...) plus the "
        "leftover corners of street blocks (金角银边)."
    ),
    new_code_cell(
        "cands = ec.combine(ec.from_osm_file(path, net), ec.leftover_corners(net, path))\n"
        'cands.summary()[["count", "floor_area_m2"]]'
    ),
    new_markdown_cell(
        "## 6. Three new nurseries 新增三处托育\n\nThe maximal covering location problem "
        "(MCLP), solved exactly with HiGHS, keeping the existing nurseries."
    ),
    new_code_cell(
        'nurseries = MCLP.from_coverage(cov, cands, "nursery", p=3).solve()\n'
        'print("new sites:", list(nurseries.selected))\n'
        "nurseries.coverage_gain"
    ),
    new_markdown_cell(
        "## 7. Composite complexes vs scattered sites 一站式综合体 vs 插花\n\nFour sites for "
        "the four core types: once allowing a site to host several functions, once one "
        "function per site, same budget."
    ),
    new_code_cell(
        "cmp = CompositePlan.from_coverage(cov, cands, types=CORE, p=4).compare()\n"
        'cmp.by_type[["name_zh", "served", "share_before", "share_composite", '
        '"share_scattered"]]'
    ),
    new_markdown_cell(
        "## 8. Scores before and after the plan 评分\n\nA 500 m hexagon grid (or your own "
        "社区 polygons), scored 0-100 against the norms, worst first."
    ),
    new_code_cell(
        "from embedsite import scoring\n\n"
        "scores = scoring.score(None, cov, plan=cmp.composite)\n"
        'scores[["population", "score", "score_after", "score_gain"]].head()'
    ),
    new_code_cell(
        "fig, (before, after) = plt.subplots(1, 2, figsize=(12, 6))\n"
        'plotting.plot_scores(scores, column="score", ax=before, coverage=cov)\n'
        'plotting.plot_scores(scores, column="score_after", ax=after, coverage=cov)\n'
        "plt.show()"
    ),
    new_markdown_cell(
        "## 9. The report 报告\n\nOne self-contained HTML file with the tables and maps, "
        "written atomically."
    ),
    new_code_cell(
        "import tempfile\nfrom pathlib import Path\n\nfrom embedsite import report\n\n"
        'tmp = Path(tempfile.mkdtemp()) / "report.html"\n'
        "out = report.write_report(tmp, cov, scores=scores, plan=cmp.composite)\n"
        'print(out, f"{out.stat().st_size / 1e6:.1f} MB")'
    ),
]

SITING = [
    new_markdown_cell(
        "# Siting: composite complexes, scattered 插花 sites, budget and trade-off\n\n"
        "Where to add facilities on the shipped sample, and how much each extra site buys. "
        "选址：一站式综合体与插花、预算、站点数与新增覆盖的权衡。"
    ),
    new_code_cell(
        _setup("import pandas as pd\n") + "\n\nnet = en.from_osm_file(path)\n"
        'homes = ed.from_osm_file(path, net, on_far="drop")\n'
        "cov = coverage.compute(net, homes, ef.from_osm_file(path, net))\n"
        "cands = ec.combine(ec.from_osm_file(path, net), ec.leftover_corners(net, path))\n"
        'cov.by_type.loc[CORE, ["name_zh", "radius_m", "served", "share_covered"]]'
    ),
    new_markdown_cell(
        "## 1. Four sites: composite vs 插花\n\nWith `p=4`, a composite plan may put several "
        "functions into one building (a complex needs ≥ 600 m², ≥ 3 functions, ≥ 2 core "
        "ones); the scattered plan opens one function per site. The composite optimum is "
        "never below the scattered one."
    ),
    new_code_cell(
        "cmp = CompositePlan.from_coverage(cov, cands, types=CORE, p=4).compare()\n"
        'cmp.summary[["objective", "sites", "complexes", "facilities", "floor_area_used_m2"]]'
    ),
    new_code_cell(
        'cmp.by_type[["name_zh", "served", "covered_before", "composite", "scattered", '
        '"sites_composite", "sites_scattered"]]'
    ),
    new_code_cell(
        'cmp.composite.sites[["functions_zh", "floor_area_used_m2", "floor_area_m2", '
        '"is_complex", "rule_passed"]]'
    ),
    new_markdown_cell(
        "## 2. A budget instead of a number of sites 预算约束\n\nEach candidate costs its "
        "`cost` column (1 unit where unknown); `budget=6` lets the plan pick any sites whose "
        "costs add up to at most 6."
    ),
    new_code_cell(
        "by_budget = CompositePlan.from_coverage(cov, cands, types=CORE, budget=6).compare()\n"
        'by_budget.summary[["objective", "sites", "complexes", "cost", "budget"]]'
    ),
    new_markdown_cell(
        "## 3. Where the composite plan puts its sites 点位地图\n\nThe nursery coverage map "
        "with the chosen sites on top."
    ),
    new_code_cell(
        'ax = plotting.plot_coverage(cov, "nursery")\n'
        "chosen = cmp.composite.to_geodataframe().to_crs(net.crs)\n"
        'chosen.plot(ax=ax, marker="*", color="gold", edgecolor="black", markersize=300, '
        "zorder=5)\n"
        'ax.set_title("composite plan, p = 4")\n'
        "plt.show()"
    ),
    new_markdown_cell(
        "## 4. Trade-off curve 权衡曲线\n\nNewly covered children (nursery, MCLP solved "
        "exactly) against the number of new sites, p = 1..6. The curve is concave: each extra "
        "site buys fewer residents than the one before."
    ),
    new_code_cell(
        "rows = []\n"
        "for p in range(1, 7):\n"
        '    result = MCLP.from_coverage(cov, cands, "nursery", p=p).solve()\n'
        '    gain = result.coverage_gain.loc["nursery"]\n'
        '    rows.append({"p": p, "newly_covered": gain["newly_covered"], '
        '"share_after": gain["share_after"]})\n'
        'curve = pd.DataFrame(rows).set_index("p")\n'
        "curve"
    ),
    new_code_cell(
        "fig, ax = plt.subplots(figsize=(6, 4))\n"
        'ax.plot(curve.index, curve["newly_covered"], marker="o")\n'
        'ax.set_xlabel("new nursery sites (p)")\n'
        'ax.set_ylabel("newly covered children")\n'
        'ax.set_title("MCLP trade-off, central Helsinki (OSM)")\n'
        "ax.grid(alpha=0.3)\n"
        "plt.show()"
    ),
]


def _cells(name: str) -> list[nbformat.NotebookNode]:
    """The cells of a notebook kept in its own file, ``cells_<name>.py`` beside this one."""
    cells: list[nbformat.NotebookNode] = runpy.run_path(str(HERE / f"cells_{name}.py"))["CELLS"]
    return cells


def _notebook(name: str, cells: list) -> nbformat.NotebookNode:
    for i, cell in enumerate(cells):
        cell.id = f"{name}-{i:02d}"  # stable ids: rebuilding an unchanged notebook is a no-op
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(out_dir: Path = HERE) -> list[Path]:
    """Write every notebook into ``out_dir`` (this folder by default); return the paths."""
    written = []
    for name, cells in (
        ("quickstart", QUICKSTART),
        ("coverage", _cells("coverage")),
        ("siting", SITING),
        ("batch", _cells("batch")),
    ):
        nb = _notebook(name, cells)
        nbformat.validate(nb)
        target = out_dir / f"{name}.ipynb"
        tmp = out_dir / f".{name}.tmp.ipynb"  # ruff picks the notebook format by suffix
        nbformat.write(nb, tmp)
        # the cells' code in the house format (ruff formats and lints notebooks too)
        subprocess.run(["ruff", "format", "--quiet", str(tmp)], check=True)
        tmp.replace(target)
        written.append(target)
    return written


if __name__ == "__main__":
    main()

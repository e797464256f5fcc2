"""The HTML report: self-contained, the right tables, atomic, and rendered in headless chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser

import geopandas as gpd
import pytest

import embedsite.demand as ed
import embedsite.facilities as ef
from conftest import SAMPLE
from embedsite import coverage, report, scoring
from embedsite.errors import DataFileError, InputError

pytest.importorskip("matplotlib")

TYPES = ["community_health_station", "community_service_station", "nursery"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run",
          "--hide-scrollbars"]  # fmt: skip


@pytest.fixture(scope="module")
def run(helsinki_net, tmp_path_factory):
    homes = ed.from_osm_file(SAMPLE, helsinki_net, on_far="drop")
    supply = ef.from_osm_file(SAMPLE, helsinki_net)
    cov = coverage.compute(helsinki_net, homes, supply, types=TYPES)
    gaps = cov.gaps("nursery").nlargest(2, "served")
    plan = gpd.GeoDataFrame(
        {"facility_type": ["nursery", "托育"], "floor_area_m2": [300.0, 200.0],
         "name": ["新托育点一", "新托育点二"]},
        geometry=gaps.geometry.to_numpy(), crs=cov.network.crs,
    ).to_crs(4326)  # fmt: skip
    scores = scoring.score(None, cov, plan=plan)
    folder = tmp_path_factory.mktemp("report")
    path = report.write_report(
        folder / "report.html", cov, scores=scores, plan=plan, folium_path=folder / "map.html"
    )
    return cov, plan, scores, path


class _Tables(HTMLParser):
    """Sections, tables (as lists of row texts) and image sources of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._section = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section = a["id"]
            self.sections.append(a["id"])
        elif tag == "img":
            self.images.append(a["src"])
        elif tag in ("script", "link", "iframe"):
            self.external.append(tag)
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables.setdefault(self._section, []).append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _parse(path) -> _Tables:
    p = _Tables()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_report_is_self_contained_with_every_section(run):
    _cov, _plan, _scores, path = run
    page = _parse(path)
    assert page.sections == ["inputs", "standards", "coverage", "scores", "plan", "maps",
                             "method"]  # fmt: skip
    assert not page.external  # no script, stylesheet or frame to fetch
    text = path.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="https?:', text)
    assert len(page.images) >= 2 + len(TYPES)  # scores before/after, a map per type, the plan
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "OpenStreetMap contributors" in text
    assert (path.parent / "map.html").exists() and 'href="map.html"' in text
    assert not list(path.parent.glob(".*.tmp*"))  # atomic writes left nothing behind


def test_report_tables_hold_the_figures(run):
    cov, plan, scores, path = run
    page = _parse(path)
    rows = {r[0]: r for r in page.tables["coverage"][1:]}
    head = page.tables["coverage"][0]
    for key in TYPES:
        share = cov.by_type.loc[key, "share_covered"]
        got = rows[key][head.index("share_covered")]
        assert got == (f"{share:,.3f}" if 0 < share < 1 else f"{share:,.1f}")
    std_rows = {r[0]: r for r in page.tables["standards"][1:]}
    for key in TYPES:
        assert cov.standards[key].source in std_rows[key]
    score_rows = page.tables["scores"]
    names = [r[0] for r in score_rows[1 : len(scores) + 1]]
    assert names == list(scores.index)  # worst first
    col = score_rows[0].index("area_norm.meets_min")
    marks = [r[col] for r in score_rows[1 : len(scores) + 1]]
    assert marks == ["✔" if v else "✘" for v in scores["area_norm.meets_min"]]
    gain = report.plan_gain(cov, scoring.with_plan(cov, plan))
    assert gain.loc["nursery", "newly_covered"] > 0
    plan_rows = {r[0]: r for r in page.tables["plan"] if r and r[0] in gain.index}
    head = next(r for r in page.tables["plan"] if "newly_covered" in r)
    assert plan_rows["nursery"][head.index("newly_covered")] == (
        f"{gain.loc['nursery', 'newly_covered']:,.1f}"
    )
    assert "新托育点一" in path.read_text(encoding="utf-8")


def test_report_errors(run, tmp_path):
    cov = run[0]
    with pytest.raises(InputError, match=r"ending in \.html"):
        report.write_report(tmp_path / "report.pdf", cov, labels="en")
    with pytest.raises(DataFileError, match="does not exist"):
        report.write_report(tmp_path / "nowhere" / "report.html", cov, labels="en")
    assert not (tmp_path / "nowhere").exists()


def _chromium(args, tmp_path, timeout=120):
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_in_headless_chromium(run, tmp_path):
    import matplotlib.image as mpimg

    path = run[3]
    url = path.resolve().as_uri()
    dom = _chromium(["--dump-dom", "--enable-logging=stderr", "--v=0", url], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<section id="scores">' in dom.stdout and "<table>" in dom.stdout
    assert dom.stdout.count("data:image/png;base64,") == len(_parse(path).images)
    assert _console_errors(dom.stderr) == []
    shot = tmp_path / "report.png"
    res = _chromium([f"--screenshot={shot}", "--window-size=1200,2400", url], tmp_path)
    assert res.returncode == 0 and shot.exists(), res.stderr[-2000:]
    img = mpimg.imread(shot)[..., :3]
    assert img.shape[:2] == (2400, 1200)
    ink = (img < 0.9).any(axis=-1).mean()  # share of pixels that are not (near) white
    assert 0.02 < ink < 0.9 and float(img.std()) > 0.05


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_console_check_would_catch_an_error(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('boom')</script></body></html>")
    res = _chromium(["--dump-dom", "--enable-logging=stderr", "--v=0", bad.as_uri()], tmp_path)
    assert any("boom" in line for line in _console_errors(res.stderr))

"""Static and interactive maps: what is drawn, attribution, Chinese labels or English ones."""

from __future__ import annotations

import io
import json
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

import embedsite.demand as ed
import embedsite.facilities as ef
from conftest import SAMPLE
from embedsite import coverage, plotting, scoring
from embedsite.errors import InputError

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

TYPES = ["community_health_station", "community_service_station", "nursery"]


@pytest.fixture(scope="module")
def cov(helsinki_net):
    homes = ed.from_osm_file(SAMPLE, helsinki_net, on_far="drop")
    supply = ef.from_osm_file(SAMPLE, helsinki_net)
    return coverage.compute(helsinki_net, homes, supply, types=TYPES)


@pytest.fixture(scope="module")
def plan(cov):
    gaps = cov.gaps("nursery").nlargest(2, "served")
    return gpd.GeoDataFrame(
        {"facility_type": ["nursery", "nursery"], "floor_area_m2": [300.0, 200.0]},
        geometry=gaps.geometry.to_numpy(), crs=cov.network.crs,
    ).to_crs(4326)  # fmt: skip


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _png(ax) -> bytes:
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=60)  # any "Glyph missing" warning is an error
    return buf.getvalue()


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_coverage_map_draws_covered_and_gaps(cov):
    key = "community_health_station"
    ax = plotting.plot_coverage(cov, key, labels="en")
    served = cov.served(key).to_numpy()
    ok = cov.covered[key].to_numpy()
    green, red, fac = (len(c.get_offsets()) for c in ax.collections[1:4])
    assert green == int((ok & (served > 0)).sum()) and red == int((~ok & (served > 0)).sum())
    assert fac == len(cov.facilities.of_type(key))
    share = cov.by_type.loc[key, "share_covered"]
    assert ax.get_title().endswith(f"{share:.1%} of residents within 300 m")
    assert plotting.ATTRIBUTION in _texts(ax)
    assert _png(ax).startswith(b"\x89PNG")


def test_every_map_carries_the_attribution(cov, plan):
    scores = scoring.score(None, cov, plan=plan)
    axes = [
        plotting.plot_service_areas(cov, "community_service_station", labels="en"),
        plotting.plot_scores(scores, labels="en", coverage=cov),
        plotting.plot_scores(scores, column="score_gain", labels="en"),
        plotting.plot_plan(cov, plan, facility_type="nursery", labels="en"),
        plotting.plot_plan(cov, plan, labels="en"),
    ]
    for ax in axes:
        assert plotting.ATTRIBUTION in _texts(ax)
        _png(ax)


def test_service_area_map_draws_the_grid_polygons(cov):
    key = "community_service_station"
    ax = plotting.plot_service_areas(cov, key, labels="en", method="grid")
    drawn = ax.collections[1]  # after the streets: the areas' patches
    areas = cov.service_areas(key, method="grid")
    assert len(drawn.get_paths()) == int(shapely.get_num_geometries(areas.geometry).sum())
    _png(ax)


def test_plan_map_shows_the_newly_covered(cov, plan):
    after = scoring.with_plan(cov, plan)
    ax = plotting.plot_plan(cov, plan, facility_type="nursery", after=after, labels="en")
    served = cov.served("nursery").to_numpy()
    new = after.covered["nursery"].to_numpy() & ~cov.covered["nursery"].to_numpy() & (served > 0)
    assert new.sum() > 0
    assert len(ax.collections[1].get_offsets()) == new.sum()
    assert len(ax.collections[-1].get_offsets()) == len(plan)  # the stars
    assert ax.get_title().endswith("plan, 2 new sites")


def test_chinese_labels_with_a_cjk_font(cov):
    if plotting.cjk_font() is None:
        pytest.skip("no font with Chinese glyphs (Debian: apt-get install fonts-noto-cjk)")
    ax = plotting.plot_coverage(cov, "nursery", labels="auto")
    assert ax.get_title().startswith("托儿所")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "已覆盖居民 residents covered" in legend
    _png(ax)  # no Glyph-missing warning: the CJK font has them


def test_chinese_title_on_axes_the_caller_made(cov):
    """Axes made before the call (outside the CJK font context) still get Chinese glyphs."""
    if plotting.cjk_font() is None:
        pytest.skip("no font with Chinese glyphs (Debian: apt-get install fonts-noto-cjk)")
    fig, (left, right) = plt.subplots(1, 2)
    plotting.plot_coverage(cov, "nursery", ax=left)
    plotting.plot_scores(scoring.score(None, cov), ax=right)
    assert right.get_title().startswith("综合评分")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    assert not [str(w.message) for w in seen if "Glyph" in str(w.message)]
    plt.close(fig)


def test_english_labels_without_a_cjk_font(cov, monkeypatch):
    monkeypatch.setattr(plotting, "cjk_font", lambda: None)
    ax = plotting.plot_coverage(cov, "nursery")  # auto -> English
    title = ax.get_title()
    assert title.startswith("nursery") and not any("\u4e00" <= ch <= "\u9fff" for ch in title)
    _png(ax)
    with pytest.raises(InputError, match="fonts-noto-cjk"):
        plotting.plot_coverage(cov, "nursery", labels="zh")


def test_chinese_without_a_font_would_warn():
    """The guard above matters: DejaVu Sans alone has no Chinese glyphs."""
    with plt.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        fig, ax = plt.subplots()
        ax.set_title("托儿所")
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fig.savefig(io.BytesIO(), format="png")
    assert any("Glyph" in str(w.message) for w in seen)


def test_bad_arguments(cov):
    with pytest.raises(InputError, match="labels"):
        plotting.plot_coverage(cov, "nursery", labels="fr")
    with pytest.raises(InputError, match="not analysed"):
        plotting.plot_coverage(cov, "kindergarten", labels="en")
    with pytest.raises(InputError, match="no column"):
        plotting.plot_scores(scoring.score(None, cov), column="nope", labels="en")


class _Html(str):
    """Page text where a string may also appear JSON-escaped (folium's options)."""

    def __contains__(self, text: object) -> bool:
        return str.__contains__(self, text) or str.__contains__(self, json.dumps(text)[1:-1])


def test_folium_map_layers(cov, plan):
    scores = scoring.score(None, cov, plan=plan)
    fmap = plotting.folium_map(cov, scores=scores, plan=plan, candidates=plan)
    html = _Html(fmap.get_root().render())
    assert plotting.ATTRIBUTION in html
    for key in TYPES:
        ft = cov.standards[key]
        assert f"{ft.name_zh} {ft.name_en}" in html
    assert "综合评分 composite score" in html and "规划新增 planned sites" in html
    assert "候选地块 candidate sites" in html
    # one marker per existing facility of the types shown
    n_fac = sum(len(cov.facilities.of_type(k)) for k in TYPES)
    assert html.count("L.marker(") == n_fac
    # one circle marker per planned site and per candidate
    assert html.count("L.circleMarker(") == 2 * len(plan)
    bare = _Html(plotting.folium_map(cov, types=["nursery"], tiles=None, gaps=False)
                 .get_root().render())  # fmt: skip
    assert plotting.ATTRIBUTION in bare and "tile.openstreetmap.org" not in bare
    gaps = cov.gaps("nursery")
    assert np.isfinite(gaps["served"]).all()

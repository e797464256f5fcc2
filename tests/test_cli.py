"""The command line: the demo, each command, and one-paragraph errors with exit code 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import embedsite.network as en
from conftest import NANJING, shared_file
from embedsite.cli import app

runner = CliRunner()


def test_demo_on_the_shipped_sample(tmp_path):
    """The whole pipeline: network, residents, supply, coverage, candidates, plan, scores."""
    out = tmp_path / "demo.html"
    result = runner.invoke(app, ["demo", "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert "Scores 评分" in result.output and "score_after" in result.output
    text = out.read_text(encoding="utf-8")
    assert '<section id="scores">' in text and "data:image/png;base64," in text
    assert '<section id="plan">' in text
    assert "步行网络" in result.output
    assert "street_length_km" in result.output
    assert "居民" in result.output and "households 户数" in result.output
    assert "现有设施" in result.output and "community_health_station" in result.output
    assert "步行覆盖" in result.output and "share_covered" in result.output
    assert "候选点位" in result.output and "leftover_corner" in result.output
    assert "一站式" in result.output and "share_composite" in result.output
    assert "综合体点位" in result.output


def test_network_writes_a_file(tmp_path):
    out = tmp_path / "nanjing.gpkg"
    result = runner.invoke(app, ["network", str(shared_file(NANJING)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(en.load(out).edges) == len(en.from_osm_file(NANJING).edges)


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["network", "/nowhere/streets.osm"], "does not exist"),
        (["network", str(NANJING), "--bbox", "32", "118", "33", "119"], "west, south, east"),
        (["network", str(NANJING), "--crs", "EPSG:4326"], "metres"),
        (["standards", "--format", "xml"], "--format"),
    ],
)
def test_errors_are_one_paragraph(args, phrase, tmp_path):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert phrase in result.output
    assert "Traceback" not in result.output


def test_broken_file_is_a_message(tmp_path):
    bad = tmp_path / "city.osm.pbf"
    bad.write_bytes(b"garbage")
    result = runner.invoke(app, ["network", str(bad)])
    assert result.exit_code == 2
    assert "DataFileError" in result.output and "Traceback" not in result.output


def test_standards_export(tmp_path):
    out = tmp_path / "standards.toml"
    result = runner.invoke(app, ["standards", "--format", "toml", "--out", str(out)])
    assert result.exit_code == 0, result.output
    import embedsite.standards as es

    again = es.load(out)
    assert (
        again["kindergarten"].walk_radius_m == es.Standards.default()["kindergarten"].walk_radius_m
    )
    table = runner.invoke(app, ["standards"])
    assert "幼儿园" in table.output


# --------------------------------------------------------------------------- stages 3-5
_QUICK = ["--types", "nursery,community_health_station"]


def _sample_cov(helsinki_net, facilities=None):
    import embedsite.demand as ed
    import embedsite.facilities as ef
    from conftest import SAMPLE
    from embedsite import coverage

    homes = ed.from_osm_file(SAMPLE, helsinki_net, on_far="drop")
    supply = facilities if facilities is not None else ef.from_osm_file(SAMPLE, helsinki_net)
    return coverage.compute(helsinki_net, homes, supply,
                            types=["nursery", "community_health_station"])  # fmt: skip


def _facility_table():
    import geopandas as gpd
    import shapely

    return gpd.GeoDataFrame(
        {"类型": ["托育", "社区卫生服务站", "幼儿园"], "名称": ["小太阳托育", "卫生站", "阳光"]},
        geometry=[shapely.Point(24.9445, 60.1705), shapely.Point(24.9410, 60.1690),
                  shapely.Point(24.9500, 60.1720)],
        crs=4326,
    )  # fmt: skip


def test_coverage_command_writes_the_tables(tmp_path, helsinki_net):
    import geopandas as gpd
    import pandas as pd

    from conftest import SAMPLE

    out, gaps = tmp_path / "by_type.csv", tmp_path / "gaps.gpkg"
    result = runner.invoke(app, ["coverage", str(SAMPLE), *_QUICK, "-o", str(out),
                                 "--gaps", str(gaps)])  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, index_col=0, encoding="utf-8-sig")
    ref = _sample_cov(helsinki_net).by_type
    assert table.loc["community_health_station", "share_covered"] == pytest.approx(
        ref.loc["community_health_station", "share_covered"]
    )
    pts = gpd.read_file(gaps)
    assert len(pts) == ref.loc["nursery", "facilities"] * 0 + len(
        _sample_cov(helsinki_net).distance
    )
    assert pts["community_health_station.covered"].sum() > 0


def _write_formats(tmp_path):
    """The facility table in every input format (Shapefile and one CSV in GBK)."""
    gdf = _facility_table()
    paths = {}
    for suffix in (".gpkg", ".parquet", ".geojson"):
        p = tmp_path / f"fac{suffix}"
        gdf.to_parquet(p) if suffix == ".parquet" else gdf.to_file(p)
        paths[suffix] = p
    shp = tmp_path / "fac_gbk.shp"
    gdf.to_file(shp, encoding="gbk")
    shp.with_suffix(".cpg").unlink()  # as often from Chinese desktop GIS: no code page file
    paths[".shp"] = shp
    table = gdf.drop(columns="geometry").assign(lon=gdf.geometry.x, lat=gdf.geometry.y)
    table.to_csv(tmp_path / "fac_utf8.csv", index=False, encoding="utf-8")
    table.to_csv(tmp_path / "fac_gbk.csv", index=False, encoding="gbk")
    paths[".csv"] = tmp_path / "fac_utf8.csv"
    paths["gbk.csv"] = tmp_path / "fac_gbk.csv"
    return paths


def test_score_reads_every_input_format(tmp_path, helsinki_net):
    import geopandas as gpd

    import embedsite.facilities as ef
    from conftest import SAMPLE

    ref_fac = ef.from_table(_facility_table(), helsinki_net, type_column="类型")
    ref = _sample_cov(helsinki_net, ref_fac).by_type
    for kind, path in _write_formats(tmp_path).items():
        out = tmp_path / f"scores_{kind.strip('.')}.parquet"
        result = runner.invoke(app, ["score", str(SAMPLE), *_QUICK, "--facilities", str(path),
                                     "--type-column", "类型", "-o", str(out)])  # fmt: skip
        assert result.exit_code == 0, (kind, result.output)
        table = gpd.read_parquet(out)
        for key in ("nursery", "community_health_station"):
            assert table[f"{key}.covered"].sum() == pytest.approx(ref.loc[key, "covered"]), kind
        assert table["nursery.covered"].sum() > 0


def test_score_with_a_plan_and_neighbourhoods(tmp_path, helsinki_net):
    import geopandas as gpd
    import pandas as pd
    import shapely

    from conftest import SAMPLE

    cov = _sample_cov(helsinki_net)
    gap = cov.gaps("nursery").nlargest(1, "served").to_crs(4326).geometry.iloc[0]
    pd.DataFrame({"type": ["托育"], "经度": [gap.x], "纬度": [gap.y]}).to_csv(
        tmp_path / "plan.csv", index=False
    )
    w, s, e, n = helsinki_net.nodes.to_crs(4326).total_bounds
    mid = (w + e) / 2
    hoods = gpd.GeoDataFrame({"社区": ["西社区", "东社区"]}, crs=4326,
                             geometry=[shapely.box(w - 1, s - 1, mid, n + 1),
                                       shapely.box(mid, s - 1, e + 1, n + 1)])  # fmt: skip
    hoods.to_file(tmp_path / "hoods.gpkg")
    out = tmp_path / "scores.csv"
    result = runner.invoke(app, ["score", str(SAMPLE), *_QUICK, "--plan",
                                 str(tmp_path / "plan.csv"), "--type-column", "type",
                                 "--neighbourhoods", str(tmp_path / "hoods.gpkg"),
                                 "--name-column", "社区", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, index_col=0, encoding="utf-8-sig")
    assert set(table.index) == {"西社区", "东社区"}
    assert (table["nursery.covered_after"] >= table["nursery.covered"]).all()
    assert table["nursery.covered_after"].sum() > table["nursery.covered"].sum()
    assert table["population"].sum() == pytest.approx(cov.demand.total)


def test_report_command(tmp_path):
    from conftest import SAMPLE

    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(SAMPLE), *_QUICK, "-o", str(out),
                                 "--map", str(tmp_path / "map.html")])  # fmt: skip
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert '<section id="coverage">' in text and "社区卫生服务站" in text
    assert (tmp_path / "map.html").stat().st_size > 1000


def _bad_inputs(tmp_path):
    gdf = _facility_table()
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"not a geopackage at all")
    no_crs = tmp_path / "no_crs.shp"
    gdf.to_file(no_crs)
    no_crs.with_suffix(".prj").unlink()
    no_lonlat = tmp_path / "no_lonlat.csv"
    gdf.drop(columns="geometry").to_csv(no_lonlat, index=False)
    good = tmp_path / "good.geojson"
    gdf.to_file(good)
    xlsx = tmp_path / "fac.xlsx"
    xlsx.write_bytes(b"PK")
    return {
        "broken": (["--facilities", str(broken), "--type-column", "类型"], "DataFileError"),
        "no_crs": (["--facilities", str(no_crs), "--type-column", "类型"], "CRSError"),
        "no_lonlat": (["--facilities", str(no_lonlat), "--type-column", "类型"], "longitude"),
        "column": (["--facilities", str(good), "--type-column", "kind"], "kind"),
        "system": (
            ["--facilities", str(good), "--type-column", "类型", "--coordinate-system", "gps"],
            "--coordinate-system",
        ),
        "format": (["--facilities", str(xlsx)], "GeoPackage (.gpkg)"),
        "missing": (["--facilities", str(tmp_path / "nowhere.gpkg")], "does not exist"),
        "type": (["--types", "kindergarden"], "kindergarten"),
    }


@pytest.mark.parametrize(
    "case", ["broken", "no_crs", "no_lonlat", "column", "system", "format", "missing", "type"]
)
def test_score_errors_are_one_paragraph(case, tmp_path):
    from conftest import SAMPLE

    args, phrase = _bad_inputs(tmp_path)[case]
    result = runner.invoke(app, ["score", str(SAMPLE), *args])
    assert result.exit_code == 2, result.output
    assert phrase in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 3


def test_outputs_are_atomic_and_checked(tmp_path):
    from conftest import SAMPLE

    bad = runner.invoke(app, ["score", str(SAMPLE), *_QUICK, "-o", str(tmp_path / "s.shp")])
    assert bad.exit_code == 2 and "Shapefile" in bad.output
    res = runner.invoke(app, ["report", str(SAMPLE), *_QUICK, "-o", str(tmp_path / "r.pdf")])
    assert res.exit_code == 2 and ".html" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_csv_in_gcj02_is_converted(tmp_path):
    import numpy as np
    import pandas as pd

    from embedsite import crs
    from embedsite._layers import read_points

    lon, lat = np.array([118.7800, 118.7900]), np.array([32.0400, 32.0500])  # Nanjing (Amap)
    path = tmp_path / "amap.csv"
    pd.DataFrame({"名称": ["甲", "乙"], "经度": lon, "纬度": lat}).to_csv(
        path, index=False, encoding="gbk"
    )
    pts = read_points(path, "test", coordinate_system="gcj02")
    wlon, wlat = crs.gcj02_to_wgs84(lon, lat)
    np.testing.assert_allclose(pts.geometry.x, wlon, atol=1e-9)
    np.testing.assert_allclose(pts.geometry.y, wlat, atol=1e-9)
    assert np.abs(pts.geometry.x - lon).max() > 1e-4  # really moved (GCJ-02 offset ~500 m)
    assert list(pts["名称"]) == ["甲", "乙"]


def test_residents_from_points_and_polygons(tmp_path, helsinki_net):
    import geopandas as gpd
    import pandas as pd
    import shapely

    from conftest import SAMPLE

    pd.DataFrame({"lon": [24.944, 24.948], "lat": [60.170, 60.172], "人口": [120, 80]}).to_csv(
        tmp_path / "people.csv", index=False, encoding="gbk"
    )
    w, s, e, n = helsinki_net.nodes.to_crs(4326).total_bounds
    mid = (w + e) / 2
    gpd.GeoDataFrame({"人口": [1000, 3000]}, crs=4326,
                     geometry=[shapely.box(w, s, mid, n), shapely.box(mid, s, e, n)]
                     ).to_file(tmp_path / "compounds.gpkg")  # fmt: skip
    for layer, total in (("people.csv", 200.0), ("compounds.gpkg", 4000.0)):
        out = tmp_path / f"{layer}.csv"
        result = runner.invoke(app, ["score", str(SAMPLE), *_QUICK, "--residents",
                                     str(tmp_path / layer), "--population-column", "人口",
                                     "-o", str(out)])  # fmt: skip
        assert result.exit_code == 0, (layer, result.output)
        table = pd.read_csv(out, index_col=0, encoding="utf-8-sig")
        assert table["population"].sum() == pytest.approx(total), layer
    bad = runner.invoke(app, ["score", str(SAMPLE), "--residents", str(tmp_path / "people.csv")])
    assert bad.exit_code == 2 and "--population-column" in bad.output


def _sample() -> str:
    from embedsite.cli import sample_path

    return str(sample_path())


def test_site_mclp_writes_the_new_sites_and_they_score(tmp_path, helsinki_net):
    """The plan the site command writes is the plan a solver returns, and it scores."""
    import geopandas as gpd

    out = tmp_path / "plan.gpkg"
    result = runner.invoke(app, ["site", _sample(), "--type", "托育", "--p", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "optimal" in result.output and "newly_covered" in result.output
    plan = gpd.read_file(out)
    assert len(plan) == 2 and set(plan["facility_type"]) == {"nursery"}
    scored = tmp_path / "scores.csv"
    again = runner.invoke(app, ["score", _sample(), "--types", "nursery", "--plan", str(out),
                                "-o", str(scored)])  # fmt: skip
    assert again.exit_code == 0, again.output
    import pandas as pd

    table = pd.read_csv(scored)
    assert table["nursery.covered_after"].sum() > table["nursery.covered"].sum()


def test_site_lscp_lists_the_residents_no_candidate_reaches():
    stop = runner.invoke(app, ["site", _sample(), "--type", "幼儿园", "--model", "lscp"])
    assert stop.exit_code == 2 and "no candidate site within the 300 m radius" in stop.output
    skip = runner.invoke(app, ["site", _sample(), "--type", "幼儿园", "--model", "lscp",
                               "--skip-uncoverable"])  # fmt: skip
    assert skip.exit_code == 0, skip.output
    assert "optimal" in skip.output and "have no candidate within the radius" in skip.output


def test_site_composite_compares_both_plans(tmp_path):
    out = tmp_path / "plan.geojson"
    result = runner.invoke(app, ["site", _sample(), "--model", "composite", "--p", "2",
                                 "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "share_composite" in result.output and "share_scattered" in result.output
    assert out.exists()


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--p", "2"], "--type"),
        (["--type", "托育", "--model", "knapsack"], "--model must be one of"),
        (["--type", "托育", "--model", "pmedian"], "--p N"),
        (["--type", "托育"], "--p N (new sites) or --budget"),
        (["--type", "托育", "--p", "2", "--solver", "cplex"], "--solver"),
        (["--type", "rocket_launch_site", "--p", "1"], "rocket_launch_site"),
    ],
)
def test_site_errors_are_one_paragraph(args, phrase):
    result = runner.invoke(app, ["site", _sample(), *args])
    assert result.exit_code == 2, result.output
    assert phrase in result.output and "Traceback" not in result.output

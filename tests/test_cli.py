"""The command line: the demo, each command, and one-paragraph errors with exit code 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import embedsite.network as en
from conftest import NANJING, shared_file
from embedsite.cli import app

runner = CliRunner()


def test_demo_on_the_shipped_sample():
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "步行网络" in result.output
    assert "street_length_km" in result.output
    assert "居民" in result.output and "households 户数" in result.output
    assert "现有设施" in result.output and "community_health_station" in result.output
    assert "步行覆盖" in result.output and "share_covered" in result.output


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

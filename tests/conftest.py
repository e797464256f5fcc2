"""Shared fixtures: real OpenStreetMap networks, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "helsinki.osm.pbf"
SHARED = ROOT.parent / "shared"
OSM = SHARED / "data" / "osm"
NANJING = OSM / "nanjing_xinjiekou.osm"
CHENGDU = OSM / "chengdu_center.osm"
SHANGHAI = OSM / "shanghai_peoples_square_streets.osm"
ANDORRA = OSM / "andorra.osm.pbf"


def shared_file(path: Path) -> Path:
    """A file of ../shared (the test data beside the repository), or skip with the reason."""
    if not path.exists():
        pytest.skip(f"{path} is not present: clone the repository beside ../shared")
    return path


@pytest.fixture(scope="session")
def helsinki_net():
    import embedsite.network as en

    return en.from_osm_file(SAMPLE)


@pytest.fixture(scope="session")
def nanjing_net():
    import embedsite.network as en

    return en.from_osm_file(shared_file(NANJING))


@pytest.fixture(scope="session")
def nanjing_net_all():
    import embedsite.network as en

    return en.from_osm_file(shared_file(NANJING), component="all", simplify=False)

"""Reading tagged OSM features (buildings, POIs, gates) from files."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conftest import NANJING, SAMPLE, shared_file
from embedsite._osmfeatures import read_features
from embedsite.errors import DataFileError


def test_nanjing_buildings_and_pois_match_the_xml():
    path = shared_file(NANJING)
    feats = read_features(path, ["building", "amenity"], tags=["building", "amenity"])
    root = ET.parse(path).getroot()
    tagged_nodes = {
        int(n.get("id"))
        for n in root.iter("node")
        if any(t.get("k") in ("building", "amenity") for t in n.iter("tag"))
    }
    closed_building_ways = {
        int(w.get("id"))
        for w in root.iter("way")
        if any(t.get("k") in ("building", "amenity") for t in w.iter("tag"))
        and w.findall("nd")[0].get("ref") == w.findall("nd")[-1].get("ref")
        and len(w.findall("nd")) >= 4
    }
    got_nodes = set(feats.loc[feats["osm_type"] == "node", "osm_id"])
    got_ways = set(feats.loc[feats["osm_type"] == "way", "osm_id"])
    assert got_nodes == tagged_nodes
    # every closed tagged way becomes an area (a few broken rings may be skipped)
    assert len(got_ways & closed_building_ways) >= 0.99 * len(closed_building_ways)
    assert feats.crs.to_epsg() == 4326
    schools = feats[feats["amenity"] == "school"]
    assert schools["name"].str.contains("幼儿园").any()  # 五老村幼儿园 is tagged as a school


def test_areas_are_valid_polygons():
    feats = read_features(SAMPLE, ["building"], nodes=False)
    assert feats.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert feats.is_valid.mean() > 0.99


def test_broken_file(tmp_path):
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'")
    with pytest.raises(DataFileError):
        read_features(bad, ["building"])

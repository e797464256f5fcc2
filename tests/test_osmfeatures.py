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


def test_areas_that_cannot_be_assembled_are_named():
    # Nanjing: every closed way or multipolygon carrying a key that did not become an area is
    # listed in attrs["incomplete_areas"], and nothing else (recounted from the XML)
    path = shared_file(NANJING)
    keys = ("building", "amenity")
    feats = read_features(path, keys, tags=list(keys))
    root = ET.parse(path).getroot()

    def tagged(e):
        return any(t.get("k") in keys for t in e.iter("tag"))

    closed = {
        int(w.get("id"))
        for w in root.iter("way")
        if tagged(w) and w.findall("nd")[0].get("ref") == w.findall("nd")[-1].get("ref")
    }
    multi = {
        int(r.get("id"))
        for r in root.iter("relation")
        if tagged(r) and any(t.get("k") == "type" and t.get("v") == "multipolygon"
                             for t in r.iter("tag"))
    }  # fmt: skip
    got = {k: set(feats.loc[feats["osm_type"] == k, "osm_id"]) for k in ("way", "relation")}
    expected = [f"way/{i}" for i in sorted(closed - got["way"])]
    expected += [f"relation/{i}" for i in sorted(multi - got["relation"])]
    assert list(feats.attrs["incomplete_areas"]) == expected
    assert "relation/7098215" in expected  # a multipolygon with members outside the extract


def test_buildings_cut_by_the_extract_edge_reach_the_demand_report():
    import osmium

    import embedsite.demand as ed
    import embedsite.network as en

    cut = read_features(SAMPLE, ["building"], nodes=False).attrs["incomplete_areas"]
    ways = {int(c.split("/")[1]) for c in cut if c.startswith("way/")}
    seen: dict[int, int] = {}

    class Missing(osmium.SimpleHandler):
        def way(self, w):
            if w.id in ways:
                seen[w.id] = sum(not n.location.valid() for n in w.nodes)

    Missing().apply_file(str(SAMPLE), locations=True)
    assert len(ways) > 10 and set(seen) == ways and min(seen.values()) >= 1
    net = en.from_osm_file(SAMPLE)
    notes = ed.from_osm_file(SAMPLE, net).report.notes
    assert any(n.startswith(f"{len(cut)} buildings could not be read") for n in notes)

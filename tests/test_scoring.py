"""Neighbourhood scores recomputed by hand, totals, norms, the plan, and the batch runners."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import embedsite.demand as ed
import embedsite.facilities as ef
from conftest import NANJING, SAMPLE, shared_file
from embedsite import batch, coverage, scoring
from embedsite._aggregate import group_quantile
from embedsite.coverage import weighted_quantile
from embedsite.errors import CRSError, InputError, MissingColumnError

TYPES = ["community_health_station", "community_service_station", "nursery"]


@pytest.fixture(scope="module")
def nanjing_cov(nanjing_net):
    homes = ed.from_osm_file(shared_file(NANJING), nanjing_net, on_far="drop")
    supply = ef.from_osm_file(NANJING, nanjing_net)
    return coverage.compute(nanjing_net, homes, supply)


@pytest.fixture(scope="module")
def helsinki_cov(helsinki_net):
    homes = ed.from_osm_file(SAMPLE, helsinki_net, on_far="drop")
    supply = ef.from_osm_file(SAMPLE, helsinki_net)
    return coverage.compute(helsinki_net, homes, supply, types=TYPES)


def _halves(net, crs=4326):
    minx, miny, maxx, maxy = net.nodes.total_bounds
    mid = (minx + maxx) / 2
    return gpd.GeoDataFrame(
        {"name": ["west", "east"]},
        geometry=[shapely.box(minx - 1e4, miny - 1e4, mid, maxy + 1e4),
                  shapely.box(mid, miny - 1e4, maxx + 1e4, maxy + 1e4)],
        crs=net.crs,
    ).to_crs(crs)  # fmt: skip


def test_scores_recomputed_by_hand(helsinki_cov):
    cov = helsinki_cov
    halves = _halves(cov.network)
    weights = {"community_health_station": 2.0, "community_service_station": 1.0,
               "nursery": 0.5, "area_norm": 1.5}  # fmt: skip
    table = scoring.score(halves, cov, name_column="name", weights=weights, coverage_target=0.4)
    x = cov.demand.points.geometry.x.to_numpy()
    mid = float(halves.to_crs(cov.network.crs).geometry.iloc[0].bounds[2])
    target = cov.standards.area_norm.target_m2_per_100_households
    area = cov.area_norm(halves, name_column="name")
    for name, mask in (("west", x < mid), ("east", x >= mid)):
        row = table.loc[name]
        num, den = 0.0, 0.0
        for key in TYPES:
            served = cov.served(key).to_numpy()[mask]
            dist = cov.distance[key].to_numpy()[mask]
            within = dist <= cov.standards[key].walk_radius_m
            share = served[within].sum() / served.sum()
            assert row[f"{key}.served"] == pytest.approx(served.sum())
            assert row[f"{key}.covered"] == pytest.approx(served[within].sum())
            assert row[f"{key}.share_covered"] == pytest.approx(share)
            reached = np.isfinite(dist)
            assert row[f"{key}.mean_walk_m"] == pytest.approx(
                np.average(dist[reached], weights=served[reached])
            )
            assert row[f"{key}.p90_walk_m"] == pytest.approx(weighted_quantile(dist, served, 0.9))
            assert row[f"{key}.pass"] == (share >= 0.4)
            num += weights[key] * share
            den += weights[key]
        ratio = min(area.loc[name, "m2_per_100_households"] / target, 1.0)
        num += weights["area_norm"] * ratio
        den += weights["area_norm"]
        assert row["score"] == pytest.approx(100 * num / den)
        assert row["population"] == pytest.approx(cov.demand.points["population"][mask].sum())
    # ranked worst first
    assert table["score"].is_monotonic_increasing
    assert table["rank"].tolist() == [1, 2]
    assert table.crs == halves.crs


def test_matches_by_neighbourhood(nanjing_cov):
    halves = _halves(nanjing_cov.network)
    table = scoring.score(halves, nanjing_cov, name_column="name")
    ref = nanjing_cov.by_neighbourhood(halves, name_column="name")
    for (name, key), row in ref.iterrows():
        for metric in ("served", "covered", "uncovered", "share_covered", "mean_walk_m",
                       "p90_walk_m"):  # fmt: skip
            np.testing.assert_allclose(
                table.loc[name, f"{key}.{metric}"], row[metric], rtol=1e-9, equal_nan=True
            )


def test_hex_grid_totals_add_to_the_city(nanjing_cov):
    table = scoring.score(None, nanjing_cov)
    whole = nanjing_cov.by_type
    assert table["population"].sum() == pytest.approx(nanjing_cov.demand.total)
    for key in nanjing_cov.types:
        assert table[f"{key}.served"].sum() == pytest.approx(whole.loc[key, "served"])
        assert table[f"{key}.covered"].sum() == pytest.approx(whole.loc[key, "covered"])
    assert (table["population"] > 0).all()  # only occupied cells
    assert table.index.str.startswith("hex_").all()
    assert table.crs == nanjing_cov.network.crs
    # cell area: 3 * sqrt(3) / 2 * s^2
    np.testing.assert_allclose(table.area, 1.5 * np.sqrt(3) * 500.0**2)


def test_pass_fail_follows_the_norms(nanjing_cov):
    table = scoring.score(None, nanjing_cov, coverage_target=0.5)
    for key in nanjing_cov.types:
        share = table[f"{key}.share_covered"]
        expected = ~(share < 0.5)  # NaN (nobody served) passes
        assert (table[f"{key}.pass"] == expected).all()
    m2 = table["area_norm.m2_per_100_households"]
    assert (table["area_norm.meets_min"] == (m2 >= 30)).all()
    assert (table["area_norm.meets_target"] == (m2 >= 80)).all()
    clauses = scoring.norms(nanjing_cov.standards, nanjing_cov.types)
    assert clauses.loc["kindergarten", "source"] == nanjing_cov.standards["kindergarten"].source
    assert "导则" in clauses.loc["area_norm.meets_min", "source"]
    assert set(clauses["column"]) <= set(table.columns)


def test_plan_never_lowers_coverage_and_adds_floor_area(nanjing_cov):
    gaps = nanjing_cov.gaps("nursery").nlargest(4, "served")
    plan = gpd.GeoDataFrame(
        {"facility_type": ["托育", "nursery", "community_service_station", "nursery"],
         "floor_area_m2": [200.0, np.nan, 5000.0, 150.0]},
        geometry=gaps.geometry.to_numpy(), crs=nanjing_cov.network.crs,
    ).to_crs(4326)  # fmt: skip
    table = scoring.score(None, nanjing_cov, plan=plan)
    for key in nanjing_cov.types:
        assert (table[f"{key}.covered_after"] >= table[f"{key}.covered"] - 1e-9).all()
    assert table["nursery.covered_after"].sum() > table["nursery.covered"].sum() == 0
    assert (table["score_gain"] >= -1e-9).all() and table["score_gain"].max() > 0
    total_before = table["area_norm.floor_area_m2"].sum()
    # the station's 5000 m2 and the nurseries' 350 m2 count as community service space
    std = nanjing_cov.standards
    keys = [t.key for t in std.values() if t.tier in ("5min", "10min", "community")
            and not {"education", "sports"} & set(t.functions)]  # fmt: skip
    assert {"nursery", "community_service_station"} <= set(keys)
    assert table["area_norm.floor_area_m2_after"].sum() == pytest.approx(total_before + 5350.0)
    after = scoring.with_plan(nanjing_cov, plan)
    assert len(after.facilities) == len(nanjing_cov.facilities) + 4
    assert after.by_type.loc["nursery", "covered"] == pytest.approx(
        table["nursery.covered_after"].sum()
    )


def test_default_weights_are_equal(helsinki_cov):
    a = scoring.score(None, helsinki_cov)
    w = {**dict.fromkeys(TYPES, 3.0), "area_norm": 3.0}
    b = scoring.score(None, helsinki_cov, weights=w)
    np.testing.assert_allclose(a.loc[b.index, "score"], b["score"])
    only = scoring.score(None, helsinki_cov, weights={"community_health_station": 1.0})
    np.testing.assert_allclose(only["score"], 100 * only["community_health_station.share_covered"])


@pytest.mark.parametrize(
    ("kwargs", "error", "phrase"),
    [
        ({"weights": {"kindergarten": 1.0}}, InputError, "not analysed"),
        ({"weights": {"nursery": -1.0}}, InputError, ">= 0"),
        ({"weights": {"nursery": 0.0}}, InputError, "add up to 0"),
        ({"coverage_target": 1.5}, InputError, "between 0 and 1"),
        ({"name_column": "nom"}, MissingColumnError, "nom"),
    ],
)
def test_bad_arguments(helsinki_cov, kwargs, error, phrase):
    halves = _halves(helsinki_cov.network)
    with pytest.raises(error, match=phrase):
        scoring.score(halves, helsinki_cov, **kwargs)


def test_bad_neighbourhoods(helsinki_cov):
    halves = _halves(helsinki_cov.network)
    with pytest.raises(CRSError, match="no CRS"):
        scoring.score(halves.set_crs(None, allow_override=True), helsinki_cov)
    twice = halves.assign(name=["a", "a"])
    with pytest.raises(InputError, match="unique"):
        scoring.score(twice, helsinki_cov, name_column="name")
    far = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(InputError, match="no resident point"):
        scoring.score(far, helsinki_cov)
    plan = gpd.GeoDataFrame({"kind": ["x"]}, geometry=[shapely.Point(24.94, 60.17)], crs=4326)
    with pytest.raises(MissingColumnError, match="facility_type"):
        scoring.score(None, helsinki_cov, plan=plan)


def test_hex_grid_needs_metres():
    pts = gpd.GeoSeries([shapely.Point(24.9, 60.1)], crs=4326)
    with pytest.raises(CRSError, match="projected"):
        scoring.hex_grid(pts)
    metric = pts.to_crs(32635)
    grid = scoring.hex_grid(metric, size_m=100)
    assert grid.covers(metric.iloc[0]).sum() >= 1


# --------------------------------------------------------------------------- batch
def _parts():
    # three partitions of the sample: the whole file and two halves by area
    w, s, e, n = 24.92, 60.16, 24.968, 60.19
    mid = (w + e) / 2
    t = ("community_health_station", "community_service_station")
    return [
        batch.Partition("all", SAMPLE, types=t),
        batch.Partition("west", SAMPLE, area=shapely.box(w, s, mid, n), types=t, margin_m=300),
        batch.Partition("east", SAMPLE, area=shapely.box(mid, s, e, n), types=t, margin_m=300),
    ]


@pytest.fixture(scope="module")
def sequential():
    return batch.score_partitions(_parts(), backend="sequential")


def _same(a, b):
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
    )
    assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all()


def test_partition_of_the_whole_file_equals_score(sequential, helsinki_net):
    homes = ed.from_osm_file(SAMPLE, helsinki_net, on_far="drop")
    supply = ef.from_osm_file(SAMPLE, helsinki_net)
    cov = coverage.compute(helsinki_net, homes, supply, types=list(_parts()[0].types))
    direct = scoring.score(None, cov).to_crs(4326)
    got = sequential[sequential["partition"] == "all"].drop(columns="partition")
    _same(got, direct)
    assert set(sequential["partition"]) == {"all", "west", "east"}


def test_partitions_tile_the_city(sequential):
    by = sequential.groupby("partition")
    pop = by["population"].sum()
    assert pop["west"] + pop["east"] == pytest.approx(pop["all"], rel=1e-6)
    for key in ("community_health_station", "community_service_station"):
        served = by[f"{key}.served"].sum()
        assert served["west"] + served["east"] == pytest.approx(served["all"], rel=1e-6)
    halves = set(sequential.index[sequential["partition"] != "all"])
    assert halves <= set(sequential.index[sequential["partition"] == "all"])  # same lattice
    west = sequential[sequential["partition"] == "west"]
    assert (west.geometry.bounds["maxx"] <= 24.944 + 1e-5).all()  # cut at the area


def test_processes_equal_sequential(sequential, tmp_path):
    got = batch.score_partitions(_parts(), backend="processes", max_workers=2, output_dir=tmp_path)
    _same(got, sequential)
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == [
        "all.parquet",
        "east.parquet",
        "west.parquet",
    ]
    _same(batch.read_partitions(tmp_path, ["all", "west", "east"]), sequential)
    dgpd = pytest.importorskip("dask_geopandas")
    with warnings.catch_warnings():  # dask's own use of a deprecated pandas keyword
        warnings.simplefilter("ignore", getattr(pd.errors, "Pandas4Warning", FutureWarning))
        lazy = dgpd.read_parquet(sorted(tmp_path.glob("*.parquet")))  # a GeoParquet dataset
        total = float(lazy["population"].sum().compute())
    assert lazy.npartitions == 3
    assert total == pytest.approx(sequential["population"].sum())


def _count_calls(part):
    """Score a partition, leaving a trace file per call (to see what was recomputed)."""
    folder = Path(os.environ["EMBEDSITE_TEST_TRACE"])
    (folder / f"{part.name}.{os.getpid()}.{len(list(folder.iterdir()))}").touch()
    if (folder.parent / "fail-east").exists() and part.name == "east":
        raise RuntimeError("east failed on purpose")
    return batch.score_partition(part)


def test_resumes_after_a_failure(sequential, tmp_path, monkeypatch):
    trace = tmp_path / "trace"
    trace.mkdir()
    monkeypatch.setenv("EMBEDSITE_TEST_TRACE", str(trace))
    (tmp_path / "fail-east").touch()
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="on purpose"):
        batch.score_partitions(_parts(), backend="sequential", output_dir=out, func=_count_calls)
    assert sorted(p.stem for p in out.glob("*.parquet")) == ["all", "west"]
    (tmp_path / "fail-east").unlink()
    for f in trace.iterdir():
        f.unlink()
    got = batch.score_partitions(_parts(), backend="sequential", output_dir=out, func=_count_calls)
    assert [f.name.split(".")[0] for f in trace.iterdir()] == ["east"]  # only east recomputed
    _same(got, sequential)


def _die_once(part):
    """Kill the worker process the first time the 'west' partition runs."""
    marker = Path(os.environ["EMBEDSITE_TEST_MARKER"])
    if part.name == "west" and not marker.exists():
        marker.touch()
        os._exit(1)
    return batch.score_partition(part)


def test_dask_survives_a_killed_worker(sequential, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import cloudpickle

    import test_scoring

    cloudpickle.register_pickle_by_value(test_scoring)  # workers need not import the tests
    marker = tmp_path / "killed"
    monkeypatch.setenv("EMBEDSITE_TEST_MARKER", str(marker))
    out = tmp_path / "out"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            env={"EMBEDSITE_TEST_MARKER": str(marker), "OMP_NUM_THREADS": "1"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        got = batch.score_partitions(
            _parts(), backend="dask", client=client, output_dir=out, func=_die_once
        )
    cloudpickle.unregister_pickle_by_value(test_scoring)
    assert marker.exists()  # a worker really died
    _same(got, sequential)
    assert sorted(p.stem for p in out.glob("*.parquet")) == ["all", "east", "west"]
    again = batch.score_partitions(_parts(), backend="sequential", output_dir=out,
                                   func=_explode)  # fmt: skip
    _same(again, sequential)  # everything read back, nothing recomputed


def test_dask_without_a_client_starts_a_quiet_cluster(sequential):
    """The LocalCluster started for backend="dask" warns about nothing, even with the
    dashboard's default port taken (by another notebook, another cluster)."""
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as busy:
        try:
            busy.bind(("127.0.0.1", 8787))
            busy.listen()
        except OSError:
            pass  # already taken: the same situation
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = batch.score_partitions(_parts()[1:2], backend="dask")
    assert not [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    _same(got, sequential[sequential["partition"] == "west"])


def _explode(part):
    raise AssertionError(f"{part.name} was recomputed")


def test_score_city_equals_the_partitions(sequential):
    w, s, e, n = 24.92, 60.16, 24.968, 60.19
    mid = (w + e) / 2
    districts = gpd.GeoDataFrame({"name": ["west", "east"]}, crs=3067, geometry=gpd.GeoSeries(
        [shapely.box(w, s, mid, n), shapely.box(mid, s, e, n)], crs=4326).to_crs(3067))  # fmt: skip
    got = batch.score_city(SAMPLE, districts, name_column="name", backend="sequential",
                           types=_parts()[1].types, margin_m=300)  # fmt: skip
    want = sequential[sequential["partition"] != "all"]
    assert set(got["partition"]) == {"west", "east"}
    for part in ("west", "east"):
        a, b = got[got["partition"] == part], want[want["partition"] == part]
        pd.testing.assert_index_equal(a.index, b.index)
        np.testing.assert_allclose(a["score"], b["score"], rtol=1e-9)
        np.testing.assert_allclose(a["population"], b["population"], rtol=1e-9)


def test_partition_names():
    with pytest.raises(InputError, match="partition name"):
        batch.Partition("a/b", SAMPLE)
    with pytest.raises(InputError, match="unique"):
        batch.score_partitions([batch.Partition("a", SAMPLE)] * 2, backend="sequential")


def test_area_norm_columns_equal_coverage_area_norm(nanjing_cov):
    """Floor areas of new sites land in the right halves, as Coverage.area_norm says."""
    pts = nanjing_cov.demand.points.iloc[::60]
    kinds = np.resize(["community_service_station", "nursery"], len(pts))
    plan = gpd.GeoDataFrame({"facility_type": kinds}, geometry=pts.geometry.to_numpy(),
                            crs=pts.crs)  # fmt: skip
    plan["floor_area_m2"] = np.linspace(100.0, 9000.0, len(plan))
    cov = scoring.with_plan(nanjing_cov, plan)
    halves = _halves(cov.network)
    table = scoring.score(halves, cov, name_column="name")
    ref = cov.area_norm(halves, name_column="name")
    assert (ref["floor_area_m2"] > 0).all() and ref["meets_min"].any()
    for col in ("floor_area_m2", "m2_per_100_households", "meets_min", "meets_target",
                "shortfall_min_m2", "shortfall_target_m2"):  # fmt: skip
        np.testing.assert_allclose(
            table.loc[ref.index, f"area_norm.{col}"].to_numpy(float), ref[col].to_numpy(float)
        )
    assert table["households"].sum() == pytest.approx(cov.demand.households)


def test_capacity_norm_recomputed_by_hand(helsinki_cov):
    """Nursery places per 1000 residents (all ages) vs 4.5, from the plan's capacities."""
    cov = helsinki_cov
    halves = _halves(cov.network)
    pts = cov.demand.points.to_crs(4326)
    x = cov.demand.points.geometry.x.to_numpy()
    mid = float(halves.to_crs(cov.network.crs).geometry.iloc[0].bounds[2])
    west, east = np.flatnonzero(x < mid)[0], np.flatnonzero(x >= mid)[0]
    plan = gpd.GeoDataFrame(
        {"facility_type": ["nursery"] * 3, "capacity": [20.0, 15.0, np.nan]},
        geometry=pts.geometry.iloc[[west, west, east]].to_numpy(), crs=4326,
    )  # fmt: skip
    after = scoring.with_plan(cov, plan)
    table = scoring.score(halves, after, name_column="name")
    existing = cov.facilities.of_type("nursery")
    ex_x = existing.geometry.x.to_numpy()
    ex_cap = existing["capacity"].to_numpy(float)
    for name, mask, new_cap, new_unknown in (
        ("west", x < mid, 35.0, 0),
        ("east", x >= mid, 0.0, 1),
    ):
        side = ex_x < mid if name == "west" else ex_x >= mid
        cap = new_cap + np.nansum(ex_cap[side])
        people = cov.demand.points["population"].to_numpy()[mask].sum()
        row = table.loc[name]
        assert row["nursery.capacity"] == pytest.approx(cap)
        assert row["nursery.without_capacity"] == new_unknown + np.isnan(ex_cap[side]).sum()
        assert row["nursery.capacity_per_1000"] == pytest.approx(cap / people * 1000)
        assert row["nursery.meets_capacity"] == (cap / people * 1000 >= 4.5)
    assert "nursery.meets_capacity" in scoring.norms(cov.standards, cov.types).index


@given(
    st.lists(
        st.tuples(st.integers(-1, 4), st.sampled_from([0.0, 50.0, 120.0, 300.0, np.inf]),
                  st.sampled_from([0.0, 0.5, 1.0, 3.0])),
        min_size=1, max_size=40,
    ),
    st.sampled_from([0.1, 0.5, 0.9, 1.0]),
)  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_group_quantile_equals_weighted_quantile_per_group(rows, q):
    group = np.array([r[0] for r in rows])
    values = np.array([r[1] for r in rows])
    weights = np.array([r[2] for r in rows])
    got = group_quantile(group, values, weights, 5, q)
    for g in range(5):
        mask = group == g
        want = weighted_quantile(values[mask], weights[mask], q)
        assert (np.isnan(got[g]) and np.isnan(want)) or got[g] == want


def test_a_clipped_partition_warns_about_nothing(caplog):
    """Residents and facilities outside a partition's clip are outside it, not "farther than
    500 m from every street": they are left out before snapping, with no warning."""
    part = batch.Partition("corner", SAMPLE, area=shapely.box(24.935, 60.165, 24.945, 60.17),
                           types=("community_health_station",), margin_m=300)  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="embedsite"):
        table = batch.score_partition(part)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert table["population"].sum() > 0

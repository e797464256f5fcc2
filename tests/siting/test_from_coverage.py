"""from_coverage on the shipped sample: exact walk distances, clients, sites and their columns."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from siting_helpers import candidates_on, sample_inputs

from embedsite.errors import CRSError, EmptyInputError, InputError, MissingColumnError
from embedsite.siting import LSCP, MCLP, PCenter, PMedian

TYPE = "community_health_station"


@pytest.fixture(scope="module")
def sample():
    return sample_inputs()


def test_clients_weights_and_fixed_sites(sample):
    _net, cov, cand = sample
    model = LSCP.from_coverage(cov, cand, TYPE)
    prob = model.problem
    served = cov.served(TYPE)
    assert prob.client_labels.equals(served.index[served > 0])
    np.testing.assert_allclose(prob.weights, served[served > 0].to_numpy())
    existing = cov.facilities.points
    existing = existing[existing["facility_type"] == TYPE]
    assert prob.site_labels[prob.fixed].equals(existing.index)
    assert (~prob.fixed).sum() == len(cand)
    assert prob.radius == cov.standards[TYPE].walk_radius_m == model.radius
    assert prob.is_sparse and prob.cost.data.max() <= prob.radius
    assert (prob.site_cost[prob.fixed] == 0).all() and (prob.site_cost[~prob.fixed] == 1).all()


def test_distance_to_existing_sites_equals_coverage(sample):
    """The sparse pair distances, min over the fixed sites, equal coverage.compute's
    nearest-facility distances (another code path: one multi-source Dijkstra)."""
    _net, cov, cand = sample
    prob = PMedian.from_coverage(cov, cand, TYPE, p=1, max_walk_m=2000).problem
    ours = prob.open_cost(prob.fixed)
    ref = cov.distance[TYPE].reindex(prob.client_labels).to_numpy()
    ref = np.where(ref <= 2000, ref, np.inf)
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_candidate_distances_equal_networkx(sample):
    net, cov, cand = sample
    prob = MCLP.from_coverage(cov, cand.iloc[:5], TYPE, p=1, include_existing=False).problem
    G = net.to_networkx()
    homes = cov.demand.points.loc[prob.client_labels]
    nodes_u, nodes_v = net.edge_nodes
    node_ids = net.nodes.index.to_numpy()
    dense = prob.dense_cost()
    for j, label in enumerate(prob.site_labels):
        site = cand.loc[label]
        # candidates sit on street nodes (access 0): distance to the node nearer along the edge
        start = node_ids[nodes_u[site["edge"]]] if site["to_u_m"] <= site["to_v_m"] \
            else node_ids[nodes_v[site["edge"]]]  # fmt: skip
        dist = nx.single_source_dijkstra_path_length(G, start, cutoff=400, weight="length")
        lead = min(site["to_u_m"], site["to_v_m"])
        assert lead < 1e-6
        for i, (_, home) in enumerate(homes.iterrows()):
            u, v = node_ids[nodes_u[home["edge"]]], node_ids[nodes_v[home["edge"]]]
            via = min(dist.get(u, np.inf) + home["to_u_m"], dist.get(v, np.inf) + home["to_v_m"])
            if home["edge"] == site["edge"]:
                via = min(via, abs(home["position_m"] - site["position_m"]))
            expected = via + home["access_m"]
            got = dense[i, j]
            if expected <= prob.radius - 1e-6:
                assert got == pytest.approx(expected, abs=1e-6)
            elif expected > prob.radius + 1e-6:
                assert not np.isfinite(got)


def test_every_model_solves_the_sample_gap(sample):
    net, cov, cand = sample
    before = cov.by_type.loc[TYPE, "covered"]
    lscp = LSCP.from_coverage(cov, cand, TYPE).solve()
    gain = lscp.coverage_gain.loc[TYPE]
    assert gain["covered_before"] == pytest.approx(before)
    assert gain["share_after"] == pytest.approx(1.0)
    mclp = MCLP.from_coverage(cov, cand, TYPE, p=2).solve()
    assert mclp.objective == pytest.approx(mclp.coverage_gain.loc[TYPE, "newly_covered"])
    assert 0 < mclp.objective < gain["newly_covered"] + 1e-9
    assert len(mclp.selected) <= 2 < len(lscp.selected)
    pm = PMedian.from_coverage(cov, cand, TYPE, p=2).solve()
    assert pm.problem.unreached_cost == 3 * 300
    pc = PCenter.from_coverage(cov, cand, TYPE, p=len(lscp.selected)).solve()
    assert pc.objective <= 300  # as many sites as the LSCP needs bring everybody within 300 m
    gdf = lscp.to_geodataframe()
    assert gdf.crs == net.crs and {"kind", "floor_area_m2", "existing"} <= set(gdf.columns)
    assert gdf["new"].sum() == len(lscp.selected)


def test_allowed_types_and_candidates_object(sample):
    _net, cov, cand = sample
    odd = np.arange(len(cand)) % 2 == 1
    mixed = cand.assign(allowed_types=np.where(odd, f"{TYPE};nursery", "nursery;kindergarten"))
    prob = MCLP.from_coverage(cov, mixed, TYPE, p=1).problem
    assert (~prob.fixed).sum() == (np.arange(len(cand)) % 2 == 1).sum()

    class Cands:  # the Candidates duck type: .points and .allows
        points = cand

        @staticmethod
        def allows(key):
            return pd.Series(np.arange(len(cand)) < 7, index=cand.index)

    prob = MCLP.from_coverage(cov, Cands(), TYPE, p=1).problem
    assert list(prob.site_labels[~prob.fixed]) == list(cand.index[:7])
    with pytest.raises(EmptyInputError, match="allows"):
        MCLP.from_coverage(cov, cand.assign(allowed_types="nursery"), TYPE, p=1,
                           include_existing=False)  # fmt: skip


def test_capacity_and_costs_from_columns(sample):
    _net, cov, cand = sample
    cands = cand.assign(capacity=500.0, cost=np.where(np.arange(len(cand)) < 3, np.nan, 2.0))
    existing = cov.facilities.of_type("nursery")
    # the mapped nursery has no capacity: refused, naming it
    with pytest.raises(InputError, match=existing.index[0]):
        MCLP.from_coverage(cov, cands, "nursery", p=2, capacity="capacity")
    caps = pd.concat([pd.Series(40.0, index=existing.index), cands["capacity"]])
    res = MCLP.from_coverage(cov, cands, "nursery", p=2, capacity=caps).solve()
    assert res.problem.capacity[res.problem.fixed].tolist() == [40.0]
    load = res.allocation.groupby("site")["amount"].sum()
    assert (load <= 500 + 1e-6).all()
    prob = res.problem
    assert list(prob.site_cost[~prob.fixed][:4]) == [1.0, 1.0, 1.0, 2.0]
    with pytest.raises(InputError, match="236 sites have no capacity"):
        MCLP.from_coverage(cov, cand.drop(columns="floor_area_m2"), TYPE, p=1,
                           capacity="floor_area_m2")  # fmt: skip
    with pytest.raises(MissingColumnError, match="'places' is not a column"):
        MCLP.from_coverage(cov, cand, TYPE, p=1, capacity="places")


def test_bad_candidates(sample):
    net, cov, cand = sample
    with pytest.raises(CRSError, match="snap them"):
        LSCP.from_coverage(cov, cand.to_crs(4326), TYPE)
    with pytest.raises(MissingColumnError, match="snap columns"):
        LSCP.from_coverage(cov, cand.drop(columns="access_m"), TYPE)
    raw = gpd.GeoDataFrame(geometry=cand.geometry, crs=cand.crs)
    with pytest.raises(MissingColumnError):
        LSCP.from_coverage(cov, raw, TYPE)
    assert len(candidates_on(net, step=50)) < len(cand)


def test_candidates_smaller_than_the_type_needs_are_left_out(sample):
    """A type with a minimum floor area in the standards is never planned on a smaller site."""
    _net, cov, cand = sample
    need = cov.standards[TYPE].min_building_area_m2
    if need is None:
        pytest.skip(f"{TYPE} has no minimum floor area in the default standards")
    sized = cand.copy()
    sized["floor_area_m2"] = np.where(np.arange(len(sized)) % 2 == 0, need - 1.0, need + 1.0)
    sized.iloc[1, sized.columns.get_loc("floor_area_m2")] = np.nan  # unknown: kept
    prob = MCLP.from_coverage(cov, sized, TYPE, p=1).problem
    new = set(prob.site_labels[~prob.fixed])
    big = set(sized.index[~(sized["floor_area_m2"] < need)])
    assert new == big

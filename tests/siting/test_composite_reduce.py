"""Leaving out interchangeable sites (``_composite_mip.interchangeable``) changes no optimum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedsite.siting._composite_mip import interchangeable, solve_mip
from embedsite.siting.composite import CompositePlan

TYPES = ("nursery", "elderly_day_care_center", "community_canteen", "after_school_care")


def _instance(seed: int, mode: str, limit: dict) -> CompositePlan:
    """Sites made of copies of a few base sites (so many are interchangeable)."""
    rng = np.random.default_rng(seed)
    n_base, n_clients, t_n = int(rng.integers(2, 5)), int(rng.integers(3, 9)), 3
    copies = rng.integers(1, 5, n_base)
    base_reach = rng.random((t_n, n_base, n_clients)) < 0.45
    base_floor = rng.choice([250.0, 650.0, 900.0, 2000.0, 5000.0], n_base)
    base_cost = rng.integers(1, 3, n_base).astype(float)
    rows = np.repeat(np.arange(n_base), copies)
    floor = base_floor[rows]
    big = floor >= 2000.0  # above every type's area and the complex minimum: all alike
    floor[big] = rng.choice([2000.0, 5000.0], int(big.sum()))
    return CompositePlan.from_arrays(
        {t: base_reach[i][rows] for i, t in enumerate(TYPES[:t_n])},
        rng.integers(0, 6, (n_clients, t_n)).astype(float), floor,
        area_m2={"nursery": 200.0, "elderly_day_care_center": 350.0, "community_canteen": 200.0},
        site_cost=base_cost[rows], mode=mode, cost_per_m2=0.5e-3, **limit,
    )  # fmt: skip


LIMITS = st.one_of(
    st.integers(1, 4).map(lambda p: {"p": p}),
    st.sampled_from([1.0, 1.5, 2.2, 3.0, 4.5]).map(lambda b: {"budget": b}),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from(["composite", "scattered"]), LIMITS)
def test_reduced_equals_unreduced_optimum(seed, mode, limit):
    plan = _instance(seed, mode, limit)
    pr = plan.problem
    full = solve_mip(plan, pr, time_limit=None, mip_gap=0.0, reduce=False)
    red = solve_mip(plan, pr, time_limit=None, mip_gap=0.0, reduce=True)
    assert full.status == red.status == "optimal"
    assert red.objective == pytest.approx(full.objective, abs=1e-6)
    # the reduced plan opens only kept sites (the same need masks as the model's)
    need = [(pr.weights[:, t] > 0) & ~pr.covered[:, t] for t in range(pr.n_types)]
    _, drop = interchangeable(plan, pr, need)
    assert not red.hosts_array[drop].any()


def test_copies_beyond_the_most_sites_opened_are_left_out():
    # 6 copies of one site (two with different, but unusable, extra floor area) and a
    # different site; p = 2 keeps 2 copies; a budget of 2.5 at cost 1 + 0.1..0.175 also 2
    reach = {"nursery": np.array([[1, 1, 0]] * 6 + [[0, 0, 1]], bool)}
    floor = np.array([900.0, 900.0, 2000.0, 9000.0, 900.0, 900.0, 900.0])
    for limit in ({"p": 2}, {"budget": 2.5}):
        plan = CompositePlan.from_arrays(reach, np.ones((3, 1)), floor, cost_per_m2=0.5e-3, **limit)
        pr = plan.problem
        need = [np.ones(3, bool)]
        group, drop = interchangeable(plan, pr, need)
        # floor areas at or above top (type areas, complex minimum) count as equal
        top = max(float(pr.area.sum()), float(pr.rule.min_floor_area_m2))
        same = np.minimum(floor, top)
        for j in np.flatnonzero(drop):
            kept = np.flatnonzero((group == group[j]) & ~drop)
            assert len(kept) == 2
            assert (same[kept] == same[j]).all()
        assert not drop[-1]
        _, counts = np.unique(group[:6], return_counts=True)
        assert int(drop.sum()) == sum(max(int(c) - 2, 0) for c in counts)
        assert int(drop.sum()) >= 2  # the six copies fall in at most two floor classes
        res = plan.solve(mip_gap=0.0)
        assert res.objective == pytest.approx(3.0)

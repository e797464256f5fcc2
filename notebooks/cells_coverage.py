"""Cells of notebooks/coverage.ipynb, read by build_notebooks.py (which sets the cell ids,
strips outputs and formats the code with ruff). Edit here, then rebuild:
``python notebooks/build_notebooks.py``.
"""

from __future__ import annotations

import textwrap

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell


def _md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(textwrap.dedent(text).strip())


def _code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(textwrap.dedent(text).strip())


CELLS = [
    _md(
        """
        # Coverage in depth: who can walk to what, and how much of it

        覆盖分析详解：居民步行可达哪些设施、可达多少。

        The quickstart answers "is there a nursery within 300 m?" in one line. This notebook
        opens that line up for a planner, on the shipped sample (central Helsinki,
        OpenStreetMap; the same steps run on any Chinese city's extract):

        1. the facility types, their walking radii and the age groups they serve (the 5-, 10-
           and 15-minute life circles, 生活圈);
        2. how a walk distance is measured, checked against networkx for one resident;
        3. coverage per type, and the spread of walk distances behind the averages;
        4. what changes when a city sets its own radius or age group;
        5. service areas (服务范围) and the gaps they leave (服务盲区), ready for siting;
        6. capacity-aware access (2SFCA / E2SFCA): a station within reach may still be crowded;
        7. the floor-area norm per 100 households (每百户 30 / 80 m²) per neighbourhood.
        """
    ),
    _code(
        """
        import matplotlib

        matplotlib.use("Agg")  # no window; the inline backend below renders with Agg too
        %matplotlib inline
        import itertools

        import matplotlib.pyplot as plt
        import networkx as nx
        import numpy as np
        import pandas as pd
        import shapely
        from shapely.ops import substring

        import embedsite.demand as ed
        import embedsite.facilities as ef
        import embedsite.network as en
        from embedsite import coverage, plotting, scoring, standards

        path = "data/sample/helsinki.osm.pbf"  # central Helsinki, © OpenStreetMap, ODbL


        def finish(ax, title):
            \"\"\"A map's title, equal axes and the OpenStreetMap attribution it must carry.\"\"\"
            ax.set_title(title)
            ax.set_aspect("equal")
            ax.set_axis_off()
            ax.text(0.99, 0.01, plotting.ATTRIBUTION, transform=ax.transAxes, ha="right",
                    va="bottom", fontsize=7)


        net = en.from_osm_file(path)
        homes = ed.from_osm_file(path, net, on_far="drop")
        supply = ef.from_osm_file(path, net)
        cov = coverage.compute(net, homes, supply)  # every type of the national standards
        print(net, homes, supply, sep="\\n")
        """
    ),
    _md(
        """
        ## 1. Facility types, radii and age groups 设施类型、服务半径与服务人群

        The standards registry (`embedsite.standards`) holds, for each community facility type,
        its Chinese and English name, its life-circle tier, the walking radius within which a
        resident counts as served, the age group it serves, and the clause each figure comes
        from with a confidence. The tiers follow GB 50180-2018 (城市居住区规划设计标准):

        | tier | 生活圈 | walk radius | typical facilities |
        |---|---|---|---|
        | 5 min | 五分钟生活圈 | 300 m | nursery 托育, kindergarten 幼儿园, day care 日间照料 |
        | 10 min | 十分钟生活圈 | 500 m | primary school 小学, after-school care 儿童托管 |
        | 15 min | 十五分钟生活圈 | 800-1000 m | health centre 社区卫生服务中心, 初中 |

        `walk_minutes` turns the radius into minutes at 1.2 m/s, or 0.9 m/s for types serving
        residents aged 60+ (who walk more slowly). Where no standard gives a radius, the tier's
        radius is used and `is_default` says so.
        """
    ),
    _code(
        """
        std = standards.Standards.default()
        registry = std.to_frame()
        registry[["name_zh", "name_en", "tier", "walk_radius_m", "walk_minutes", "age_group",
                  "is_default", "confidence"]]
        """
    ),
    _md(
        """
        A type serves one age group, so its coverage counts only those residents: the share of
        **children aged 0-3** within 300 m of a nursery, the share of **residents aged 60+**
        within 300 m of an elderly day-care centre. Residents per age group come from the
        demand's age bands (here the 7th census national profile; give local figures where
        known).
        """
    ),
    _code(
        """
        groups = ["all", "0-3", "3-6", "6-12", "12-15", "60+"]
        pd.Series({g: homes.population(g).sum() for g in groups}, name="residents").round(0)
        """
    ),
    _md(
        """
        ## 2. How a walk distance is measured 步行距离的定义

        A resident does not live on a street node, and neither does a health station. The walk
        distance from a home to a facility is the sum of five legs:

        1. **access**: from the home to the nearest point of the street network (a straight
           line; through the gate for a gated compound 小区);
        2. **along the home's street** from that snap point to one end of the street segment;
        3. **network**: the shortest path between street nodes;
        4. **along the facility's street** from a node to the facility's snap point;
        5. **access**: from the street to the facility.

        Both ends of both segments are tried (and a facility on the home's own segment is
        reached directly along it); the shortest combination is the walk. Nothing is rounded to
        the nearest node, which at the 300 m tier would be a large error. Below, the most
        populous home of the sample and its nearest health station (社区卫生服务站), recomputed
        independently with networkx.
        """
    ),
    _code(
        """
        T = "community_health_station"
        home_id = homes.points["population"].idxmax()
        home = homes.points.loc[home_id]
        fac = supply.points.loc[cov.nearest.loc[home_id, T]]
        assert home["edge"] != fac["edge"]  # otherwise the direct walk along the edge counts too

        G = net.to_networkx()
        combos = []
        for a in ("u", "v"):  # the end of the home's segment the walk leaves by
            for b in ("u", "v"):  # the end of the station's segment it arrives by
                network_m = nx.shortest_path_length(G, home[a], fac[b], weight="length")
                combos.append((home[f"to_{a}_m"] + network_m + fac[f"to_{b}_m"], a, b, network_m))
        along, a, b, network_m = min(combos)
        check = home["access_m"] + along + fac["access_m"]
        legs = pd.Series(
            {
                "1 access, home to street": home["access_m"],
                f"2 along the home's street to its end {a}": home[f"to_{a}_m"],
                "3 network, node to node (networkx)": network_m,
                f"4 along the station's street from its end {b}": fac[f"to_{b}_m"],
                "5 access, street to station": fac["access_m"],
                "walk distance, networkx check": check,
                "walk distance, embedsite": cov.distance.loc[home_id, T],
                "straight line, for comparison": home.geometry.distance(fac.geometry),
            },
            name="metres",
        )
        assert abs(check - cov.distance.loc[home_id, T]) < 1e-6
        legs.round(1)
        """
    ),
    _code(
        """
        nodes = nx.shortest_path(G, home[a], fac[b], weight="length")
        route = [min(G[p][q].values(), key=lambda e: e["length"])["geometry"]
                 for p, q in itertools.pairwise(nodes)]


        def piece(point, end):
            \"\"\"The part of a snapped point's street segment between it and end u or v.\"\"\"
            line = net.edge_geometry[point["edge"]]
            at = point["position_m"] / net.edge_lengths[point["edge"]] * line.length
            return substring(line, 0, at) if end == "u" else substring(line, at, line.length)


        def snapped(point):
            line = net.edge_geometry[point["edge"]]
            return line.interpolate(point["position_m"] / net.edge_lengths[point["edge"]],
                                    normalized=True)


        fig, ax = plt.subplots(figsize=(8, 8))
        net.edges.plot(ax=ax, color="#cccccc", linewidth=0.6)
        walk = [*route, piece(home, a), piece(fac, b)]
        for k, line in enumerate(walk):
            ax.plot(*line.xy, color="#2c7bb6", linewidth=3, label="walk" if k == 0 else None)
        for k, point in enumerate((home, fac)):
            s = snapped(point)
            ax.plot([point.geometry.x, s.x], [point.geometry.y, s.y], color="#d7191c",
                    linestyle="--", linewidth=2, label="access legs" if k == 0 else None)
        ax.scatter(home.geometry.x, home.geometry.y, s=120, c="#1a9850", edgecolors="black",
                   zorder=5, label=f"home ({home['population']:.0f} residents)")
        ax.scatter(fac.geometry.x, fac.geometry.y, s=120, marker="^", c="#2c7bb6",
                   edgecolors="black", zorder=5, label="health station")
        circle = home.geometry.buffer(300).boundary
        ax.plot(*circle.xy, color="grey", linestyle=":", label="300 m as the crow flies")
        x0, y0, x1, y1 = shapely.union_all([*walk, circle]).bounds
        ax.set_xlim(x0 - 100, x1 + 100)
        ax.set_ylim(y0 - 100, y1 + 100)
        ax.legend(loc="upper left", fontsize=8)
        finish(ax, f"walk {check:.0f} m vs {legs.iloc[-1]:.0f} m in a straight line")
        plt.show()
        """
    ),
    _md(
        """
        The dotted circle is what a Euclidean buffer would call "within 300 m": it ignores
        blocks, water and missing crossings. The walk distance is what a resident walks.

        ## 3. Coverage per type 分类型覆盖率

        For every type: residents of the served age group (`served`), how many live within the
        radius of the nearest facility (`covered`, `share_covered`), and the walk to the nearest
        facility weighted by residents (`mean_walk_m`, `p90_walk_m`: nine in ten residents walk
        at most this far). The search runs to three times the radius (at least 2 km), so the
        distances beyond the radius are exact too; `beyond_search` counts residents with no
        facility that close, and a p90 of `inf` means more than a tenth of them.

        A type with no facility in the area is left in the table on purpose: nobody is covered,
        and that is a gap as well.
        """
    ),
    _code(
        """
        by_type = cov.by_type
        by_type[["name_zh", "age_group", "radius_m", "facilities", "served", "share_covered",
                 "mean_walk_m", "p90_walk_m", "beyond_search"]].round(2)
        """
    ),
    _code(
        """
        fig, ax = plt.subplots(figsize=(8, 6))
        shares = by_type["share_covered"].sort_values()
        colours = ["#1a9850" if n else "#bbbbbb" for n in by_type.loc[shares.index, "facilities"]]
        bars = ax.barh(by_type.loc[shares.index, "name_en"], 100 * shares, color=colours)
        ax.bar_label(bars, fontsize=8, padding=3, labels=[
            f"{100 * v:.0f}%" if n else "no facility"
            for v, n in zip(shares, by_type.loc[shares.index, "facilities"], strict=True)])
        ax.set_xlabel("% of the served age group within the walking radius")
        ax.set_xlim(0, 100)
        ax.set_title("coverage per type, central Helsinki (OSM)")
        ax.grid(axis="x", alpha=0.3)
        plt.show()
        """
    ),
    _md(
        """
        ## 4. The distribution behind the averages 步行距离分布

        A mean walk of 250 m may hide a third of residents at 600 m. A histogram of walk
        distances, weighted by the residents of the served age group, shows the whole picture;
        the dashed line is the radius, everything right of it is a gap. Shown for the types
        that have facilities in the sample.
        """
    ),
    _code(
        """
        present = list(supply.types)
        fig, axes = plt.subplots(1, len(present), figsize=(4.5 * len(present), 3.8))
        for ax, key in zip(np.atleast_1d(axes), present, strict=True):
            d = cov.distance[key].to_numpy()
            w = cov.served(key).to_numpy()
            reached = np.isfinite(d)
            ax.hist(d[reached], bins=np.arange(0, cov.max_walk_m[key] + 100, 100),
                    weights=w[reached], color="#2c7bb6")
            ax.axvline(std[key].walk_radius_m, color="#d7191c", linestyle="--",
                       label=f"radius {std[key].walk_radius_m:g} m")
            ax.set_title(std[key].name_en, fontsize=9)
            ax.set_xlabel("walk to the nearest facility (m)")
            ax.legend(fontsize=8)
        np.atleast_1d(axes)[0].set_ylabel("residents of the served age group")
        plt.tight_layout()
        plt.show()
        """
    ),
    _md(
        """
        ## 5. A city's own radius or age group 地方标准

        The programme asks cities not to apply one rule everywhere (不搞一刀切): a city writes
        its own standards file (TOML) with only the figures it changes, read over the national
        defaults with `standards.load(path)` or, inline, `standards.loads(text)`. Two variants
        for health stations: a 500 m radius (the 10-minute circle) and counting only residents
        aged 60+, the most frequent users. The override records where the figure comes from.
        """
    ),
    _code(
        """
        wider = standards.loads("[types.community_health_station]\\nwalk_radius_m = 500")
        older = standards.loads('[types.community_health_station]\\nage_group = "60+"')
        variants = {
            "national default": cov,
            "radius 500 m": coverage.compute(net, homes, supply, wider, types=[T]),
            "served: 60+": coverage.compute(net, homes, supply, older, types=[T]),
        }
        cols = ["radius_m", "age_group", "served", "covered", "share_covered", "p90_walk_m"]
        print(wider[T].source[:90], "...")
        pd.DataFrame({name: c.by_type.loc[T, cols] for name, c in variants.items()}).T
        """
    ),
    _md(
        """
        The wider radius covers more residents. Counting only residents aged 60+ changes
        how many are served, which is what sizes a facility, but not the share: the sample
        spreads the national age profile evenly over every building, so each age group lives
        exactly where everybody lives. With local age figures per building or per 社区
        (`age_columns=` of the demand loaders) the shares differ too, and an elderly service
        can look well placed for the population as a whole yet badly placed for the elderly.

        Coverage can only grow with the radius. The curve below comes straight from the walk
        distances already computed (no new search), for every radius from 100 m to 1 km: it
        tells a planner how sensitive the verdict is to the standard, and where one more
        minute of walking buys the most.
        """
    ),
    _code(
        """
        radii = np.arange(100, 1001, 25)
        fig, ax = plt.subplots(figsize=(7, 4))
        for key in present:
            d = cov.distance[key].to_numpy()[:, None]
            w = cov.served(key).to_numpy()
            share = (w[:, None] * (d <= radii)).sum(axis=0) / w.sum()
            ax.plot(radii, 100 * share, label=std[key].name_en)
        for r, tier in ((300, "5 min"), (500, "10 min"), (1000, "15 min")):
            ax.axvline(r, color="grey", linestyle=":")
            ax.text(r, 2, f" {tier}", fontsize=8, color="grey")
        ax.set_xlabel("walking radius (m)")
        ax.set_ylabel("% of the served age group covered")
        ax.set_ylim(0, 100)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        plt.show()
        """
    ),
    _md(
        """
        ## 6. Service areas 服务范围

        A facility's service area is the street space it reaches within its radius: every
        street piece whose walk distance from the facility is at most 300 m, cut at the exact
        metre and buffered by 25 m (`kind="lines"` gives the bare lines). It is not a circle
        and not a convex hull, which would both claim blocks no street reaches. Whether a
        resident is covered is still decided by their own walk distance (with their access
        leg); the polygons are how to show it on a map.
        """
    ),
    _code(
        """
        areas = cov.service_areas(T)
        radius = std[T].walk_radius_m
        areas.assign(circle_m2=np.pi * radius**2)[["name", "street_length_m", "area_m2",
                                                   "circle_m2"]].round(0)
        """
    ),
    _code(
        """
        fig, ax = plt.subplots(figsize=(8, 8))
        net.edges.plot(ax=ax, color="#cccccc", linewidth=0.5)
        areas.plot(ax=ax, color="#2c7bb6", alpha=0.3)
        stations = supply.of_type(T)
        stations.buffer(radius).boundary.plot(ax=ax, color="grey", linestyle=":", linewidth=0.8)
        pts = homes.points
        ok = cov.covered[T].to_numpy()
        size = 5 + 60 * np.sqrt(pts["population"] / pts["population"].max())
        ax.scatter(pts.geometry.x[ok], pts.geometry.y[ok], s=size[ok], c="#1a9850",
                   label="residents covered", zorder=3)
        ax.scatter(pts.geometry.x[~ok], pts.geometry.y[~ok], s=size[~ok], c="#d73027",
                   label="residents not covered", zorder=3)
        ax.scatter(stations.geometry.x, stations.geometry.y, marker="^", s=80, c="#2c7bb6",
                   edgecolors="black", label="health stations", zorder=4)
        ax.legend(loc="upper left", fontsize=8)
        finish(ax, f"health stations: service areas ({radius:g} m walk) vs circles (dotted)")
        plt.show()
        """
    ),
    _md(
        """
        ## 7. Gaps, ready for siting 服务盲区

        `cov.gaps(type)` lists the resident points outside every facility's reach, with the
        residents of the served age group there and how far they walk now. These are the demand
        a new site should capture: `MCLP.from_coverage(cov, candidates, "nursery", p=3)`
        (see `siting.ipynb`) maximises exactly the served residents of these points brought
        within the radius. The sample has a single nursery, and no home lies within 300 m of
        it: every child aged 0-3 is in a gap, and the farthest walk 1.6 km.
        """
    ),
    _code(
        """
        gaps = cov.gaps("nursery")
        assert np.isclose(gaps["served"].sum(), by_type.loc["nursery", "uncovered"])
        print(f"{gaps['served'].sum():.0f} of {by_type.loc['nursery', 'served']:.0f} children "
              f"aged 0-3 at {len(gaps)} points have no nursery within 300 m; the farthest walk "
              f"{gaps['walk_m'].max():.0f} m")
        gaps[["served", "walk_m", "access_m", "nearest"]].sort_values(
            "served", ascending=False
        ).head().round(1)
        """
    ),
    _code(
        """
        fig, ax = plt.subplots(figsize=(8, 8))
        net.edges.plot(ax=ax, color="#cccccc", linewidth=0.5)
        cov.service_areas("nursery").plot(ax=ax, color="#1a9850", alpha=0.25)
        dots = ax.scatter(gaps.geometry.x, gaps.geometry.y,
                          s=10 + 200 * np.sqrt(gaps["served"] / gaps["served"].max()),
                          c=gaps["walk_m"], cmap="OrRd", vmin=300, edgecolors="black",
                          linewidths=0.3, zorder=3)
        fig.colorbar(dots, ax=ax, shrink=0.6, label="walk to the nearest nursery now (m)")
        nurseries = supply.of_type("nursery")
        ax.scatter(nurseries.geometry.x, nurseries.geometry.y, marker="^", s=100, c="#1a9850",
                   edgecolors="black", zorder=4)
        finish(ax, "nursery gaps: children 0-3 beyond 300 m (size), their walk now (colour)")
        plt.show()
        """
    ),
    _md(
        """
        ## 8. Capacity-aware access: 2SFCA vs E2SFCA 供需比

        Coverage is yes or no: a station within 300 m of 3,000 residents covers them all, and
        so does one within 300 m of 300. The two-step floating catchment area (2SFCA, Luo & Wang
        2003) counts how much of it each resident gets:

        1. each station's supply (here its floor area, m²) is divided by the residents within
           its radius: a supply-to-demand ratio per station;
        2. each resident adds up the ratios of the stations within their radius.

        The result is floor area per resident, and it adds up: summed over residents it equals
        the supply of the stations that have residents in reach. The enhanced 2SFCA (E2SFCA,
        Luo & Qi 2009) weights both steps by distance zones (here 1.0 up to 100 m, 0.68 to
        200 m, 0.22 to 300 m): a resident 280 m away counts for less in a station's crowd and
        gets less of its space, which is closer to how people choose.

        OpenStreetMap gives no floor areas, so the stations get illustrative ones within the
        standard's 120-270 m² (the service stations 600-1,000 m²); a planner reads them from
        the facility register (台账) and loads it with `ef.from_table(...,
        floor_area_column=...)`, as below.
        """
    ),
    _code(
        """
        register = supply.points[["facility_type", "name", "geometry"]].copy()
        for key in supply.types:
            lo = std[key].min_building_area_m2
            hi = std[key].max_building_area_m2
            if lo is not None and hi is not None:
                rows = register["facility_type"] == key
                register.loc[rows, "floor_area_m2"] = np.linspace(lo, hi, int(rows.sum())).round()
        surveyed = ef.from_table(register, net, type_column="facility_type", name_column="name",
                                 floor_area_column="floor_area_m2")
        cov_s = coverage.compute(net, homes, surveyed, types=present)
        zones = [(100, 1.0), (200, 0.68), (300, 0.22)]
        two = cov_s.access(T, capacity="floor_area_m2")
        enhanced = cov_s.access(T, capacity="floor_area_m2", decay=zones)
        assert np.isclose(two.ratio @ two.demand, two.served_supply)  # supply is conserved
        pd.DataFrame(
            {
                "floor_area_m2": two.supply,
                "residents_in_reach_2SFCA": two.demand_in_reach,
                "m2_per_1000_2SFCA": 1000 * two.facility_ratio,
                "weighted_residents_E2SFCA": enhanced.demand_in_reach,
                "m2_per_1000_E2SFCA": 1000 * enhanced.facility_ratio,
            },
            index=surveyed.of_type(T)["name"].fillna("(no name)"),
        ).round(1)
        """
    ),
    _code(
        """
        fig, axes = plt.subplots(1, 2, figsize=(14, 7))
        top = 1000 * max(two.ratio.max(), enhanced.ratio.max())
        for ax, res, name in ((axes[0], two, "2SFCA"), (axes[1], enhanced, "E2SFCA")):
            net.edges.plot(ax=ax, color="#cccccc", linewidth=0.5)
            value = 1000 * res.ratio
            none = value == 0
            ax.scatter(pts.geometry.x[none], pts.geometry.y[none], s=size[none], c="#bbbbbb",
                       label="no station within 300 m", zorder=3)
            dots = ax.scatter(pts.geometry.x[~none], pts.geometry.y[~none], s=size[~none],
                              c=value[~none], cmap="viridis", vmin=0, vmax=top, zorder=3)
            ax.scatter(stations.geometry.x, stations.geometry.y, marker="^", s=80, c="white",
                       edgecolors="black", zorder=4)
            ax.legend(loc="upper left", fontsize=8)
            finish(ax, f"{name}: health-station m² per 1000 residents\\n"
                       f"(mean {1000 * res.mean_ratio:.0f} m² per 1000)")
        fig.colorbar(dots, ax=axes, shrink=0.6, label="m² per 1000 residents")
        plt.show()
        """
    ),
    _md(
        """
        Three of the seven stations have no home within 300 m (`NaN` above,
        `two.facilities_without_demand`): their space serves nobody in the sample. Of the
        others, the stations with 1,700-1,800 residents in reach offer under 100 m² per 1000,
        the one with 500 residents nearly five times as much, although every resident counted
        is "covered" in section 3. 2SFCA shares a station equally among everybody within 300 m;
        E2SFCA gives the near residents more and the far ones less, so a home next to a station
        and one at the edge of its reach no longer look the same. The mean is the same in both
        maps: the same square metres are shared out, only differently. Coverage says *whether*,
        2SFCA says *how much*: a planner adding a site where the ratio is lowest relieves
        crowding, not only distance.

        ## 9. Floor area per 100 households 每百户服务面积

        The 2024 guide (城市社区嵌入式服务设施建设导则) asks for at least 30 m² of community
        service floor area per 100 households, 80 m² where the city can. Households are the
        residents divided by the household size (2.62, 7th census). `cov.area_norm(polygons)`
        sums the floor area of the community-tier facilities inside each neighbourhood (社区);
        OSM has no 社区 boundaries for the sample, so 250 m hexagons stand in for them (pass the
        city's 社区 polygons instead). With the OSM data alone, floor areas are unknown: every
        neighbourhood shows 0 m², and `facilities_without_area` says the figure is missing data,
        not missing space. With the register's floor areas (a facility outside every occupied
        hexagon counts for nobody, like the four central stations here):
        """
    ),
    _code(
        """
        hoods = scoring.hex_grid(homes.points, size_m=250, only_occupied=True)
        osm_only = cov.area_norm(hoods)
        norm = cov_s.area_norm(hoods)
        norm.assign(without_area_in_osm=osm_only["facilities_without_area"])[
            ["households", "floor_area_m2", "m2_per_100_households", "meets_min", "meets_target",
             "shortfall_min_m2", "without_area_in_osm"]
        ].round(1)
        """
    ),
    _code(
        """
        value = norm["m2_per_100_households"].reindex(hoods.index)
        band = np.select([value >= 80, value >= 30], ["≥ 80 m² (target)", "30-80 m² (minimum met)"],
                         "< 30 m² (below the minimum)")
        colours = {"< 30 m² (below the minimum)": "#d73027", "30-80 m² (minimum met)": "#fee08b",
                   "≥ 80 m² (target)": "#1a9850"}
        fig, ax = plt.subplots(figsize=(8, 8))
        for label, colour in colours.items():
            part = hoods[band == label]
            if len(part):
                part.plot(ax=ax, color=colour, edgecolor="white", alpha=0.8, label=label)
        net.edges.plot(ax=ax, color="#555555", linewidth=0.3, alpha=0.5)
        counted = surveyed.points[surveyed.points["floor_area_m2"].notna()]
        ax.scatter(counted.geometry.x, counted.geometry.y, marker="^", s=60, c="#2c7bb6",
                   edgecolors="black", zorder=4, label="facilities with floor area")
        for label, cell in hoods.iterrows():
            c = cell.geometry.centroid
            text = f"{value[label]:.0f}" if np.isfinite(value[label]) else "-"
            ax.annotate(text, (c.x, c.y), ha="center", fontsize=8)
        handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours.values()]
        ax.legend(handles, list(colours), loc="upper left", fontsize=8,
                  title="m² per 100 households")
        finish(ax, "community service floor area per 100 households (250 m hexagons)")
        plt.show()
        """
    ),
    _md(
        """
        The area norm and the walking coverage answer different questions: a neighbourhood can
        meet 30 m² per 100 households with one large centre that half of it cannot reach in
        five minutes, or be within 300 m of a station too small for it. `scoring.score(...)`
        combines them into one 0-100 score per neighbourhood (quickstart, batch notebook), and
        the siting notebook chooses where to add sites.
        """
    ),
]

"""The ``embedsite`` command line.

Every command reads files, runs one stage of the pipeline and writes its output atomically.
A broken file, a missing column or a wrong CRS ends with a one-paragraph message and a
non-zero exit code, never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from embedsite.errors import EmbedsiteError

app = typer.Typer(
    name="embedsite",
    help=(
        "Plan community embedded service facilities (城市社区嵌入式服务设施) on real "
        "pedestrian networks: walk distances, coverage gaps and where to add facilities."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "helsinki.osm.pbf"
_STATE: dict[str, bool] = {"debug": False}


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"embedsite: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _run(func: Callable[[], Any]) -> Any:
    """Run a command body; turn embedsite's errors into a message and exit code 2."""
    try:
        return func()
    except EmbedsiteError as exc:
        if _STATE["debug"]:
            raise
        _fail(f"{type(exc).__name__}: {exc}")
    except (OSError, ValueError) as exc:
        if _STATE["debug"]:
            raise
        _fail(f"{type(exc).__name__}: {exc}. Run with --debug for details.")


def sample_path() -> Path:
    """The shipped sample extract (central Helsinki, © OpenStreetMap contributors, ODbL)."""
    if not _SAMPLE.exists():
        _fail(
            f"the sample extract is not at {_SAMPLE}; run embedsite from a checkout of the "
            "repository (pip install -e .) or pass --osm with an .osm/.osm.pbf file."
        )
    return _SAMPLE


@app.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of errors.")] = False,
) -> None:
    """Plan community embedded service facilities on pedestrian networks."""
    _STATE["debug"] = debug
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def demo(
    osm: Annotated[
        Path | None, typer.Option(help="An .osm/.osm.pbf file instead of the shipped sample.")
    ] = None,
    report_path: Annotated[
        Path | None, typer.Option("--report", help="Also write the HTML report to this file.")
    ] = None,
) -> None:
    """Run the pipeline on the shipped sample (central Helsinki) and print what it found.

    The whole pipeline: the pedestrian network, the residents (demand), the existing
    facilities (supply), all snapped to the network, who can walk to each type (coverage),
    candidate sites (OSM buildings and leftover corners), a plan of four sites for the core
    types (nursery, elderly day care, canteen, after-school care) as composite complexes
    against scattered 插花 sites, and the scores of a 500 m hexagon grid before and after the
    plan; ``--report`` writes the HTML report.
    """
    import embedsite.demand as ed
    import embedsite.facilities as ef
    import embedsite.network as en

    path = osm or sample_path()

    def body() -> None:
        net = en.from_osm_file(path)
        typer.echo("== Pedestrian network 步行网络 ==")
        typer.echo(net.summary().to_string())
        residents = ed.from_osm_file(path, net, on_far="drop")
        typer.echo("\n== Residents 居民 (demand) ==")
        typer.echo(residents.summary().to_string(float_format=lambda v: f"{v:,.2f}"))
        supply = ef.from_osm_file(path, net)
        table = supply.summary()
        typer.echo("\n== Existing facilities 现有设施 (supply) ==")
        typer.echo(table[table["count"] > 0].to_string())
        typer.echo(
            f"{len(supply.unmatched)} candidate features matched no facility type "
            "(see Facilities.unmatched)."
        )
        from embedsite import coverage

        cov = coverage.compute(net, residents, supply)
        cols = ["name_zh", "radius_m", "facilities", "served", "share_covered", "p90_walk_m"]
        typer.echo("\n== Walking coverage 步行覆盖 (residents of the served age group) ==")
        typer.echo(
            cov.by_type[cols].to_string(
                formatters={
                    "served": "{:,.0f}".format,
                    "share_covered": "{:.1%}".format,
                    "p90_walk_m": "{:,.0f}".format,
                }
            )
        )
        sites = _osm_candidates(path, net)
        typer.echo("\n== Candidate sites 候选点位 ==")
        typer.echo(sites.summary()[["count", "floor_area_m2"]].to_string(
            float_format=lambda v: f"{v:,.0f}"))  # fmt: skip
        from embedsite.siting import CompositePlan

        plan = CompositePlan.from_coverage(cov, sites, types=list(DEMO_TYPES), p=4)
        both = plan.compare(time_limit=60)
        _show_comparison(both)
        from embedsite import scoring

        table = scoring.score(None, cov, plan=both.composite)
        _show_scores(table)
        if report_path is not None:
            from embedsite.report import write_report

            write_report(report_path, cov, scores=table, plan=both.composite)
            typer.echo(f"wrote {report_path}")
        typer.echo("\nData © OpenStreetMap contributors, ODbL.")

    _run(body)


@app.command()
def network(
    osm: Annotated[Path, typer.Argument(help="OpenStreetMap file (.osm, .osm.bz2, .osm.pbf).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the network to a .gpkg or .parquet file."),
    ] = None,
    bbox: Annotated[
        tuple[float, float, float, float] | None,
        typer.Option(help="Clip to WEST SOUTH EAST NORTH in WGS-84 degrees."),
    ] = None,
    crs: Annotated[
        str | None, typer.Option(help="Projected CRS to use, e.g. EPSG:4547; default: UTM.")
    ] = None,
    keep_all: Annotated[
        bool, typer.Option(help="Keep every connected part, not only the largest.")
    ] = False,
) -> None:
    """Build the pedestrian network of an OSM file, print its summary, optionally save it."""
    import embedsite.network as en

    def body() -> None:
        net = en.from_osm_file(osm, bbox=bbox, crs=crs, component="all" if keep_all else "largest")
        typer.echo(net.summary().to_string())
        if out is not None:
            net.save(out)
            typer.echo(f"wrote {out}")

    _run(body)


@app.command()
def standards(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table (default) or toml.")] = "table",
    city: Annotated[
        Path | None, typer.Option(help="A city's own standards TOML file (overrides).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
) -> None:
    """Print or export the facility standards in force (with sources and confidence)."""
    import embedsite.standards as es
    from embedsite._io import atomic_path

    def body() -> None:
        rules = es.load(city) if city is not None else es.Standards.default()
        if fmt == "toml":
            text = es.dumps(rules)
        elif fmt == "table":
            frame = rules.to_frame()
            cols = [
                c
                for c in ("name_zh", "name_en", "tier", "walk_radius_m", "age_group", "confidence")
                if c in frame.columns
            ]
            text = frame[cols].to_string()
        else:
            _fail(f"--format must be 'table' or 'toml', not {fmt!r}")
            return
        if out is None:
            typer.echo(text)
        else:
            with atomic_path(out) as tmp:
                tmp.write_text(text + "\n", encoding="utf-8")
            typer.echo(f"wrote {out}")

    _run(body)


# --------------------------------------------------------------------------- stage 3-5
_OSM_ARG = typer.Argument(help="OpenStreetMap file (.osm, .osm.bz2, .osm.pbf) of the study area.")
_FAC_HELP = (
    "The city's own facility list instead of OpenStreetMap's: GeoPackage, GeoParquet, "
    "GeoJSON, Shapefile (UTF-8 or GBK) or CSV with lon/lat columns."
)
OsmArg = Annotated[Path, _OSM_ARG]
FacOpt = Annotated[Path | None, typer.Option("--facilities", help=_FAC_HELP)]
TypeColOpt = Annotated[
    str, typer.Option(help="Column of --facilities/--plan with the facility type (key or 中文名).")
]
SystemOpt = Annotated[
    str,
    typer.Option(
        "--coordinate-system",
        help="Coordinates of CSV/lon-lat inputs: wgs84 (GPS, OSM), gcj02 (Amap, Tencent) or "
        "bd09 (Baidu).",
    ),
]
TypesOpt = Annotated[
    str | None,
    typer.Option(
        help="Facility types to analyse, comma-separated (default: all), e.g. 托育,幼儿园."
    ),
]
CityOpt = Annotated[Path | None, typer.Option("--standards", help="A city's standards TOML file.")]
HoodsOpt = Annotated[
    Path | None,
    typer.Option(
        "--neighbourhoods",
        help="社区/街道 polygons to score (any vector format above); default: a hexagon grid.",
    ),
]
NameOpt = Annotated[str | None, typer.Option(help="Column with the neighbourhood names.")]
HexOpt = Annotated[float, typer.Option(help="Hexagon side in metres for the default grid.")]
PlanOpt = Annotated[
    Path | None,
    typer.Option(help="New sites to score after (facility type column, points or lon/lat CSV)."),
]
TargetOpt = Annotated[
    float, typer.Option(help="Share within the walk radius a type needs to pass (0-1).")
]


def _system(value: str) -> Any:
    if value not in ("wgs84", "gcj02", "bd09"):
        _fail(f"--coordinate-system must be wgs84, gcj02 or bd09, not {value!r}")
    return value


ResOpt = Annotated[
    Path | None,
    typer.Option(
        "--residents",
        help="Residents instead of OSM buildings: points (or lon/lat CSV) or 小区/社区 polygons "
        "with a population column (spread over the OSM buildings inside).",
    ),
]
PopOpt = Annotated[str, typer.Option(help="Column of --residents with the number of residents.")]


def _residents(osm: Path, path: Path | None, population_column: str, system: str, net: Any) -> Any:
    import embedsite.demand as ed

    if path is None:
        return ed.from_osm_file(osm, net, on_far="drop")
    from embedsite._layers import read_points
    from embedsite._osmfeatures import read_features
    from embedsite.errors import MissingColumnError

    layer = read_points(path, "--residents", coordinate_system=_system(system))
    if population_column not in layer.columns:
        raise MissingColumnError(
            f"--residents: {path.name!r} has no column {population_column!r}; its columns: "
            f"{list(layer.columns)}; name it with --population-column"
        )
    kinds = set(layer.geometry.geom_type)
    if kinds <= {"Point"}:
        return ed.from_points(layer, net, population_column=population_column, on_far="drop")
    buildings = read_features(osm, ["building"], tags=["building", "building:levels"],
                              nodes=False)  # fmt: skip
    return ed.from_polygons(layer, net, population_column=population_column,
                            buildings=buildings if len(buildings) else None,
                            on_far="drop")  # fmt: skip


def _study(
    osm: Path,
    facilities: Path | None,
    type_column: str,
    system: str,
    types: str | None,
    city: Path | None,
    residents: Path | None = None,
    population_column: str = "population",
) -> Any:
    """Network, residents and facilities of an OSM file (or the user's list) -> coverage."""
    import embedsite.facilities as ef
    import embedsite.network as en
    import embedsite.standards as es
    from embedsite import coverage
    from embedsite._layers import read_points

    rules = es.load(city) if city is not None else es.Standards.default()
    net = en.from_osm_file(osm)
    homes = _residents(osm, residents, population_column, system, net)
    if facilities is not None:
        table = read_points(facilities, "--facilities", coordinate_system=_system(system))
        supply = ef.from_table(table, net, type_column=type_column, standards=rules,
                               source=f"table:{facilities.name}", on_far="drop")  # fmt: skip
    else:
        supply = ef.from_osm_file(osm, net, standards=rules)
    keys = [t.strip() for t in types.split(",") if t.strip()] if types else None
    return coverage.compute(net, homes, supply, rules, types=keys)


def _plan(path: Path | None, type_column: str, system: str) -> Any:
    if path is None:
        return None
    from embedsite._layers import read_points
    from embedsite.errors import MissingColumnError

    plan = read_points(path, "--plan", coordinate_system=_system(system))
    if type_column not in plan.columns:
        raise MissingColumnError(
            f"--plan: {path.name!r} has no column {type_column!r} with the facility types; "
            f"its columns: {list(plan.columns)}; name it with --type-column"
        )
    return plan.rename(columns={type_column: "facility_type"})


def _scores(cov: Any, hoods: Path | None, name_column: str | None, hex_size: float,
            plan: Any, target: float) -> Any:  # fmt: skip
    from embedsite import scoring
    from embedsite._layers import read_points

    polys = read_points(hoods, "--neighbourhoods") if hoods is not None else None
    return scoring.score(polys, cov, plan=plan, name_column=name_column,
                         coverage_target=target, hex_size_m=hex_size)  # fmt: skip


DEMO_TYPES = ("nursery", "elderly_day_care_center", "community_canteen", "after_school_care")
MODELS = ("mclp", "lscp", "pmedian", "pcenter", "composite")


def _osm_candidates(osm: Path, net: Any) -> Any:
    """Candidate sites of an OSM file: tagged buildings and land, plus leftover corners."""
    import embedsite.candidates as ec

    return ec.combine(ec.from_osm_file(osm, net), ec.leftover_corners(net, osm))


def _show_comparison(both: Any) -> None:
    typer.echo("\n== Plan 规划: composite complexes 一站式 vs scattered 插花 (same budget) ==")
    cols = [c for c in ("name_zh", "served", "share_before", "share_composite",
                        "share_scattered") if c in both.by_type.columns]  # fmt: skip
    typer.echo(both.by_type[cols].to_string(float_format=lambda v: f"{v:,.3f}"))
    summary = both.summary
    keep = [c for c in ("objective", "status", "gap", "sites", "complexes", "cost")
            if c in summary.columns]  # fmt: skip
    typer.echo(summary[keep].to_string(float_format=lambda v: f"{v:,.3f}"))
    sites = both.composite.sites
    typer.echo("composite plan sites 综合体点位:")
    typer.echo(sites[["functions_zh", "floor_area_used_m2", "floor_area_m2", "is_complex",
                      "rule_passed"]].to_string(float_format=lambda v: f"{v:,.0f}"))  # fmt: skip


def _show_scores(table: Any, rows: int = 10) -> None:
    cols = [c for c in ("population", "score", "score_after", "passes",
                        "area_norm.m2_per_100_households") if c in table.columns]  # fmt: skip
    typer.echo(f"\n== Scores 评分 (worst {min(rows, len(table))} of {len(table)}) ==")
    typer.echo(table[cols].head(rows).to_string(float_format=lambda v: f"{v:,.1f}"))


@app.command("coverage")
def coverage_cmd(
    osm: OsmArg,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the table per type (.csv).")
    ] = None,
    gaps: Annotated[
        Path | None,
        typer.Option(
            help="Write every resident point with its walk distance and covered flag "
            "per type (.gpkg, .parquet, .geojson or .csv)."
        ),
    ] = None,
    facilities: FacOpt = None,
    type_column: TypeColOpt = "facility_type",
    coordinate_system: SystemOpt = "wgs84",
    types: TypesOpt = None,
    city: CityOpt = None,
    residents: ResOpt = None,
    population_column: PopOpt = "population",
) -> None:
    """Who can walk to what: residents of the served age group within each type's radius."""
    from embedsite._layers import write_table

    def body() -> None:
        cov = _study(osm, facilities, type_column, coordinate_system, types, city, residents,
                     population_column)  # fmt: skip
        table = cov.by_type
        cols = ["name_zh", "radius_m", "facilities", "served", "share_covered", "p90_walk_m"]
        typer.echo(table[cols].to_string(float_format=lambda v: f"{v:,.3f}"))
        if out is not None:
            write_table(table, out)
            typer.echo(f"wrote {out}")
        if gaps is not None:
            pts = cov.demand.points[["population", "households", "geometry"]]
            cols_d = cov.distance.add_suffix(".walk_m")
            cols_c = cov.covered.add_suffix(".covered")
            write_table(pts.join(cols_d).join(cols_c), gaps)
            typer.echo(f"wrote {gaps}")

    _run(body)


@app.command()
def score(
    osm: OsmArg,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the scores (.gpkg, .parquet, .geojson, .csv)."),
    ] = None,
    neighbourhoods: HoodsOpt = None,
    name_column: NameOpt = None,
    hex_size: HexOpt = 500.0,
    plan: PlanOpt = None,
    facilities: FacOpt = None,
    type_column: TypeColOpt = "facility_type",
    coordinate_system: SystemOpt = "wgs84",
    types: TypesOpt = None,
    city: CityOpt = None,
    coverage_target: TargetOpt = 1.0,
    residents: ResOpt = None,
    population_column: PopOpt = "population",
) -> None:
    """Score every neighbourhood (0-100) against the norms, worst first; before/after a plan."""
    from embedsite._layers import write_table

    def body() -> None:
        cov = _study(osm, facilities, type_column, coordinate_system, types, city, residents,
                     population_column)  # fmt: skip
        sites = _plan(plan, type_column, coordinate_system)
        table = _scores(cov, neighbourhoods, name_column, hex_size, sites, coverage_target)
        _show_scores(table)
        if out is not None:
            write_table(table, out)
            typer.echo(f"wrote {out}")

    _run(body)


@app.command()
def site(
    osm: OsmArg,
    facility_type: Annotated[
        str | None,
        typer.Option("--type", help="Facility type to plan (key or 中文名), e.g. 托育 or nursery."),
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            help="mclp: most residents newly covered by --p sites (or within --budget); lscp: "
            "fewest/cheapest sites covering everybody; pmedian: least total walk with --p "
            "sites; pcenter: least worst walk with --p sites; composite: several --types at "
            "once, complexes (一站式) against scattered 插花 sites for the same budget."
        ),
    ] = "mclp",
    p: Annotated[int | None, typer.Option(help="Number of new sites.")] = None,
    budget: Annotated[
        float | None, typer.Option(help="Budget in the candidates' cost unit (mclp, composite).")
    ] = None,
    candidates: Annotated[
        Path | None,
        typer.Option(
            help="Your own candidate sites (vector file or lon/lat CSV) instead of OSM's "
            "buildings and leftover corners."
        ),
    ] = None,
    floor_area_column: Annotated[
        str | None, typer.Option(help="Column of --candidates with the usable floor area (m²).")
    ] = None,
    cost_column: Annotated[
        str | None, typer.Option(help="Column of --candidates with the cost of each site.")
    ] = None,
    skip_uncoverable: Annotated[
        bool,
        typer.Option(
            help="lscp: cover everybody a candidate can reach and list the rest, instead of "
            "stopping when some residents have no candidate within the radius."
        ),
    ] = False,
    solver: Annotated[str, typer.Option(help="highs (exact) or heuristic.")] = "highs",
    time_limit: Annotated[
        float | None, typer.Option(help="Seconds before the best plan so far is returned.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the new sites (.gpkg, .parquet, .geojson, .csv)."),
    ] = None,
    facilities: FacOpt = None,
    type_column: TypeColOpt = "facility_type",
    coordinate_system: SystemOpt = "wgs84",
    types: TypesOpt = None,
    city: CityOpt = None,
    residents: ResOpt = None,
    population_column: PopOpt = "population",
) -> None:
    """Where to add facilities so residents can walk to them, keeping the existing ones."""
    from embedsite._layers import write_table

    if model not in MODELS:
        _fail(f"--model must be one of {', '.join(MODELS)}, not {model!r}")
    if solver not in ("highs", "heuristic"):
        _fail(f"--solver must be highs or heuristic, not {solver!r}")
    if model != "composite" and facility_type is None:
        _fail("give the facility type to plan with --type (e.g. --type 托育), or --model composite")
    if model in ("pmedian", "pcenter") and p is None:
        _fail(f"--model {model} needs the number of new sites: --p N")
    if model in ("mclp", "composite") and p is None and budget is None:
        _fail(f"--model {model} needs --p N (new sites) or --budget B")

    def body() -> None:
        import embedsite.candidates as ec
        from embedsite import siting
        from embedsite._layers import read_points

        planned = [t.strip() for t in types.split(",") if t.strip()] if types else []
        keys = (planned or list(DEMO_TYPES)) if model == "composite" else [str(facility_type)]
        cov = _study(osm, facilities, type_column, coordinate_system, ",".join(keys), city,
                     residents, population_column)  # fmt: skip
        if candidates is not None:
            table = read_points(candidates, "--candidates", coordinate_system=_system(
                coordinate_system))  # fmt: skip
            sites = ec.from_table(table, cov.network, floor_area_column=floor_area_column,
                                  cost_column=cost_column, standards=cov.standards,
                                  on_far="drop", source=f"table:{candidates.name}")  # fmt: skip
        else:
            sites = _osm_candidates(osm, cov.network)
        typer.echo(f"{len(sites)} candidate sites; residents from {cov.demand.report.source}")
        if model == "composite":
            plan = siting.CompositePlan.from_coverage(cov, sites, types=keys, p=p, budget=budget)
            both = plan.compare(solver, time_limit=time_limit)  # type: ignore[arg-type]
            _show_comparison(both)
            chosen = both.composite.new_sites()
        else:
            cls: Any = {"mclp": siting.MCLP, "lscp": siting.LSCP, "pmedian": siting.PMedian,
                        "pcenter": siting.PCenter}[model]  # fmt: skip
            params: dict[str, Any] = {}
            if p is not None:
                params["p"] = p
            if budget is not None and model == "mclp":
                params["budget"] = budget
            if model == "lscp" and skip_uncoverable:
                params["uncoverable"] = "skip"
            bound = cls.from_coverage(cov, sites, keys[0], **params)
            result = bound.solve(solver, time_limit=time_limit)
            typer.echo(result.summary().to_string())
            typer.echo(result.coverage_gain.to_string(float_format=lambda v: f"{v:,.3f}"))
            lost = list(result.stats.get("uncoverable", []))
            if lost:
                typer.echo(f"{len(lost)} resident points have no candidate within the radius "
                           f"(first: {lost[:5]}); add candidate sites near them")  # fmt: skip
            chosen = result.new_sites()
            show = [c for c in ("kind", "name", "floor_area_m2", "served") if c in chosen]
            typer.echo(chosen[show].to_string(float_format=lambda v: f"{v:,.1f}"))
        if out is not None:
            write_table(chosen, out)
            typer.echo(f"wrote {out} ({len(chosen)} new sites; score them with --plan)")

    _run(body)


@app.command()
def report(
    osm: OsmArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML report to write.")],
    interactive: Annotated[
        Path | None,
        typer.Option("--map", help="Also write the interactive (folium) map to this .html."),
    ] = None,
    neighbourhoods: HoodsOpt = None,
    name_column: NameOpt = None,
    hex_size: HexOpt = 500.0,
    plan: PlanOpt = None,
    facilities: FacOpt = None,
    type_column: TypeColOpt = "facility_type",
    coordinate_system: SystemOpt = "wgs84",
    types: TypesOpt = None,
    city: CityOpt = None,
    coverage_target: TargetOpt = 1.0,
    residents: ResOpt = None,
    population_column: PopOpt = "population",
) -> None:
    """Write a self-contained HTML report: inputs, standards, coverage, scores, maps, plan."""

    def body() -> None:
        from embedsite.report import write_report

        cov = _study(osm, facilities, type_column, coordinate_system, types, city, residents,
                     population_column)  # fmt: skip
        sites = _plan(plan, type_column, coordinate_system)
        table = _scores(cov, neighbourhoods, name_column, hex_size, sites, coverage_target)
        _show_scores(table, rows=5)
        write_report(out, cov, scores=table, plan=sites, folium_path=interactive)
        typer.echo(f"wrote {out}")

    try:
        _run(body)
    except ImportError as exc:
        _fail(f"{exc}")


def main() -> None:
    """Entry point of the ``embedsite`` console script."""
    app(prog_name="embedsite")


if __name__ == "__main__":  # pragma: no cover
    main()

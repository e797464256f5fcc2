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
) -> None:
    """Run the pipeline on the shipped sample (central Helsinki) and print what it found.

    Stages so far: the pedestrian network, the residents (demand), the existing facilities
    (supply), all snapped to the network, and who can walk to each type (coverage).
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


def main() -> None:
    """Entry point of the ``embedsite`` console script."""
    app(prog_name="embedsite")


if __name__ == "__main__":  # pragma: no cover
    main()

"""The documentation cannot rot: the how-tos' code runs, the site builds with --strict.

Every ```` ```python ```` block of a ``docs/howto/*.md`` page runs, in the page's order, in one
namespace per page, with a fresh temporary folder as the working directory. That folder
looks like a checkout: ``data/`` is the repository's (so ``data/sample/helsinki.osm.pbf``
works as in the README) and ``../shared`` is the shared test data beside the repository. A
block right after the line ``<!-- docs-test: skip -->`` is shown, not run (it needs a real
cluster or the user's own files); ``docs/howto/index.md`` documents the convention.
"""

from __future__ import annotations

import importlib.util
import linecache
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOWTO = ROOT / "docs" / "howto"
SHARED = ROOT.parent / "shared"
SKIP = "<!-- docs-test: skip -->"
PAGES = sorted(p for p in HOWTO.glob("*.md") if p.name != "index.md")

_FENCE = re.compile(
    r"^(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)


def code_blocks(text: str) -> list[tuple[int, str, bool]]:
    """The ``python`` fenced blocks of a Markdown page: (line, code, runs?)."""
    blocks = []
    for m in _FENCE.finditer(text):
        words = m.group("info").split()
        if not words or words[0] != "python":
            continue
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        line = text.count("\n", 0, m.start()) + 2  # the first line of code
        blocks.append((line, m.group("body"), before != SKIP))
    return blocks


def test_code_blocks_parser():
    page = (
        "# t\n\n```python\nx = 1\n```\n\ntext\n\n<!-- docs-test: skip -->\n```python\nboom()\n```\n"
        "\n```bash\nls\n```\n\n````python\ny = x + 1\n````\n"
    )
    assert code_blocks(page) == [(4, "x = 1\n", True), (11, "boom()\n", False),
                                 (19, "y = x + 1\n", True)]  # fmt: skip


def test_every_howto_page_is_tested():
    assert {p.stem for p in PAGES} >= {"standards", "population", "poi", "dask"}
    for page in PAGES:
        runs = [b for b in code_blocks(page.read_text(encoding="utf-8")) if b[2]]
        assert runs, f"{page.name} has no python block that runs: a how-to must be tested"


def test_every_public_module_has_an_api_page():
    import types

    import embedsite
    import embedsite.siting

    api = ROOT / "docs" / "api"
    modules = {n for n in embedsite.__all__ if isinstance(getattr(embedsite, n), types.ModuleType)}
    modules |= {"plotting", "report", "cli"}  # imported on use, not by the package
    missing = sorted(m for m in modules if not (api / f"{m}.md").is_file())
    assert not missing, f"no API page docs/api/<module>.md for {missing}"
    siting = (api / "siting.md").read_text(encoding="utf-8")
    undocumented = [
        n for n in embedsite.siting.__all__ if f"::: embedsite.siting.{n}\n" not in siting
    ]
    assert not undocumented, f"docs/api/siting.md lacks {undocumented}"


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A working directory shaped like a checkout beside ../shared."""
    work = tmp_path / "embedsite"
    work.mkdir()
    (work / "data").symlink_to(ROOT / "data", target_is_directory=True)
    if SHARED.exists():
        (tmp_path / "shared").symlink_to(SHARED, target_is_directory=True)
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_howto_code_runs(page, checkout, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    text = page.read_text(encoding="utf-8")
    if "../shared/" in text and not SHARED.exists():
        pytest.skip(f"{page.name} uses the shared test data; {SHARED} is not present")
    namespace: dict[str, object] = {"__name__": f"howto_{page.stem}"}
    # tracebacks name the page and its line ("docs/howto/poi.md", line 42) and show the code
    name = str(page.relative_to(ROOT))
    linecache.cache[name] = (len(text), None, text.splitlines(keepends=True), name)
    for line, code, runs in code_blocks(text):
        if runs:
            exec(compile("\n" * (line - 1) + code, name, "exec"), namespace)


def _load_griffe_rst():
    spec = importlib.util.spec_from_file_location("griffe_rst", ROOT / "docs/_ext/griffe_rst.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rst_roles_become_cross_references():
    griffe = pytest.importorskip("griffe", reason="mkdocstrings (the docs extra) is not installed")
    rst = _load_griffe_rst()
    pkg = griffe.load("embedsite", search_paths=[str(ROOT / "src")])
    std = pkg["standards"]
    text = (
        ":func:`load` and :class:`~embedsite.coverage.Coverage`, :meth:`Standards.default`, "
        ":class:`pandas.DataFrame`, :func:`embedsite._paths.pair_distances`, :math:`r_t`\n"
        "\n.. math::\n\n    \\min \\sum_j y_j\n\nafter\n"
    )
    out = rst.rewrite(std, text)
    assert "[`load`][embedsite.standards.load]" in out
    assert "[`Coverage`][embedsite.coverage.Coverage]" in out
    assert "[`Standards.default`][embedsite.standards.Standards.default]" in out
    # outside the public API: plain code, no link that could not resolve
    assert "`pandas.DataFrame`," in out and "[`pandas" not in out
    assert "`embedsite._paths.pair_distances`" in out and "][embedsite._paths" not in out
    assert "`r_t`" in out and ":math:" not in out
    assert "```latex\n\\min \\sum_j y_j\n```\n\nafter" in out
    # reST definition lists become Markdown ones, except in the sections griffe parses
    text = (
        "Intro.\n\nDefaults\n--------\n``a = 1``\n    First.\n``b = 2``\n    Second,\n"
        "    two lines.\n\nParameters\n----------\nx\n    The x.\n"
    )
    assert rst.rewrite(std, text) == (
        "Intro.\n\nDefaults\n--------\n``a = 1``\n:   First.\n\n``b = 2``\n:   Second,\n"
        "    two lines.\n\nParameters\n----------\nx\n    The x."
    )


def test_docs_build_strict(tmp_path):
    """``mkdocs build --strict``: every griffe/mkdocstrings/link warning is an error."""
    if not all(importlib.util.find_spec(m) for m in ("mkdocs", "mkdocstrings", "material")):
        pytest.skip("mkdocs/mkdocstrings are not installed: pip install -e '.[docs]'")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    api = {p.name: p.read_text(encoding="utf-8") for p in (site / "api").glob("*.html")}
    assert set(api) >= {f"{m}.html" for m in (
        "network", "standards", "demand", "facilities", "coverage", "candidates", "siting",
        "scoring", "batch", "plotting", "report", "cli", "crs", "errors", "config")}  # fmt: skip
    for name, html in api.items():  # the reST roles were all turned into links or code
        assert not re.search(r":(class|func|meth|attr|data|mod|math):<code>", html), name
    # a cross-reference from one module's docstring to another page resolved to a link
    assert 'href="errors.html#embedsite.errors.InfeasibleModelError"' in api["siting.html"]
    # the command line page lists every command, generated from the typer app
    for command in ("demo", "network", "standards", "coverage", "score", "site", "report"):
        assert f"embedsite {command}</code>" in api["cli.html"], command
    # read offline: no page pulls a script, a style sheet, a font or an image from the web
    for page in site.rglob("*.html"):
        remote = re.findall(r'<(?:script|link|img)[^>]*(?:src|href)="https?://', page.read_text())
        assert not remote, f"{page.relative_to(site)} loads {len(remote)} remote resource(s)"
    # every notebook of the repository has a page and a download
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert (site / "notebooks" / f"{nb.stem}.html").is_file(), nb.name
        assert (site / "notebooks" / nb.name).read_bytes() == nb.read_bytes()


def test_links_to_repository_files_outside_docs():
    """Benchmarks or guides may link to ../notebooks or ../benchmarks: the site still builds."""
    pytest.importorskip("mkdocs", reason="mkdocs (the docs extra) is not installed")
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs/_ext/hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = SimpleNamespace(file=SimpleNamespace(src_uri="howto/x.md"))
    config = {"docs_dir": str(ROOT / "docs")}
    text = (
        "[nb](../../notebooks/quickstart.ipynb) [me](../../README.md#documentation) "
        "[g](../guide.md) [gone](../../no/such.py) [web](https://example.org/a.md)\n"
        "```python\n'[nb](../../README.md)'\n```\n"
    )
    assert hooks._repository_links(text, page, config) == (
        "[nb](../notebooks/quickstart.md) me (`README.md`) "
        "[g](../guide.md) [gone](../../no/such.py) [web](https://example.org/a.md)\n"
        "```python\n'[nb](../../README.md)'\n```\n"
    )

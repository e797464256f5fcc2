"""MkDocs hooks of the embedsite documentation (``hooks:`` in ``mkdocs.yml``).

* The command-line page (``api/cli.md``) is generated at build time from the typer app with
  typer's own ``utils docs`` command, so it lists exactly the commands and options that the
  installed ``embedsite`` has.
* Every ``notebooks/*.ipynb`` of the repository becomes a page (its Markdown cells, and its
  code cells as code blocks; the outputs are stripped in git and nothing is executed) and a
  download, and is added under "Notebooks" in the navigation: a new notebook appears without
  touching ``mkdocs.yml``.

Nothing here reaches the network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
CLI_MARKER = "<!-- embedsite-cli -->"
NOTEBOOK_LIST_MARKER = "<!-- embedsite-notebooks -->"

# [text](target) with a relative target: the notebooks' links point at files of the
# repository, not of the site, so they are kept as text (absolute http(s) links stay links)
_LINK = re.compile(r"(!?)\[([^\]]*)\]\((?!https?://)([^)]*)\)")


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _cells(path: Path) -> list[dict[str, Any]]:
    try:
        cells: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError) as exc:
        raise PluginError(f"cannot read the notebook {path}: {exc}") from exc
    return cells


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _title_and_summary(path: Path) -> tuple[str, str]:
    """The first ``# heading`` of a notebook and the paragraph after it."""
    for cell in _cells(path):
        if cell.get("cell_type") != "markdown":
            continue
        text = _unlink(_source(cell)).strip()
        title = path.stem
        heading = re.match(r"#\s+(.+)", text)
        if heading:
            title = heading.group(1).strip()
            text = text[heading.end() :].strip()
        return title, text.split("\n\n", 1)[0].strip()
    return path.stem, ""


def _unlink(text: str) -> str:
    return _LINK.sub(lambda m: "" if m.group(1) else m.group(2), text)


def _notebook_page(path: Path) -> str:
    parts = []
    for cell in _cells(path):
        source = _source(cell).rstrip()
        if not source:
            continue
        if cell.get("cell_type") == "markdown":
            parts.append(_unlink(source))
        elif cell.get("cell_type") == "code":
            parts.append(f"```python\n{source}\n```")
    body = "\n\n".join(parts)
    note = (
        f'!!! note "Run it yourself"\n    Download [`{path.name}`]({path.name}) or open '
        f"`notebooks/{path.name}` of the repository in Jupyter; the outputs (maps, tables) are "
        "not stored, run the cells to see them. CI executes every notebook "
        "(`tests/test_notebooks.py`)."
    )
    # the note goes after the first heading so the page keeps the notebook's title
    head, sep, rest = body.partition("\n")
    if head.startswith("# "):
        return f"{head}\n\n{note}\n{sep}{rest}\n"
    return f"# {path.stem}\n\n{note}\n\n{body}\n"


def on_config(config: Any) -> Any:
    """Put one page per notebook under the "Notebooks" entry of the navigation."""
    pages = [{_title_and_summary(p)[0]: f"notebooks/{p.stem}.md"} for p in _notebooks()]
    for i, entry in enumerate(config["nav"] or []):
        if isinstance(entry, dict) and "Notebooks" in entry:
            index = entry["Notebooks"]
            config["nav"][i] = {"Notebooks": [index, *pages] if isinstance(index, str) else index}
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add a generated page and a download for every notebook of the repository."""
    for path in _notebooks():
        files.append(
            File.generated(config, f"notebooks/{path.stem}.md", content=_notebook_page(path))
        )
        files.append(
            File(
                f"notebooks/{path.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


def _cli_markdown() -> str:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="100")
    cmd = [sys.executable, "-m", "typer", "embedsite.cli", "utils", "docs", "--name", "embedsite"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        err = getattr(exc, "stderr", "") or ""
        raise PluginError(
            f"could not document the command line with {' '.join(cmd)}: {exc}\n{err}"
        ) from exc
    text = done.stdout
    # the page has its own title: every heading one level down, the top one dropped
    text = re.sub(r"^# `embedsite`\n", "", text, count=1)
    return re.sub(r"^(#+) ", r"\1# ", text, flags=re.M)


_REPO_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>(?!https?://|mailto:|#)[^)\s]+)\)")
_FENCED = re.compile(r"^(```+|~~~+).*?^\1[ \t]*$", re.M | re.S)


def _repository_links(markdown: str, page: Any, config: Any) -> str:
    """Links from a page to files of the repository outside ``docs/``, made to work.

    ``../notebooks/x.ipynb`` goes to the notebook's page; any other existing file of the
    checkout (``../benchmarks/bench.py``, ``../README.md``) becomes its path as code, since
    the site does not carry it. Links inside ``docs/`` and broken links are left to
    ``mkdocs --strict``, which reports them.
    """
    docs = Path(config["docs_dir"]).resolve()
    here = (docs / page.file.src_uri).parent

    def fix(m: re.Match[str]) -> str:
        target = m.group("target").split("#", 1)[0]
        path = (here / target).resolve()
        if not target or path.is_relative_to(docs) or not path.is_relative_to(ROOT):
            return m.group(0)
        if not path.exists():
            return m.group(0)
        if path.parent == NOTEBOOKS and path.suffix == ".ipynb":
            page_uri = docs / "notebooks" / f"{path.stem}.md"
            return f"[{m.group('text')}]({os.path.relpath(page_uri, here)})"
        return f"{m.group('text')} (`{path.relative_to(ROOT).as_posix()}`)"

    parts, last = [], 0
    for fence in _FENCED.finditer(markdown):  # code blocks are left as they are
        parts += [_REPO_LINK.sub(fix, markdown[last : fence.start()]), fence.group(0)]
        last = fence.end()
    parts.append(_REPO_LINK.sub(fix, markdown[last:]))
    return "".join(parts)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Fill the generated parts of the CLI page and of the notebooks index; fix repo links."""
    markdown = _repository_links(markdown, page, config)
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, _cli_markdown())
    if NOTEBOOK_LIST_MARKER in markdown:
        rows = []
        for path in _notebooks():
            title, summary = _title_and_summary(path)
            rows.append(
                f"- [**{title}**]({path.stem}.md) (download [`{path.name}`]({path.name})): "
                f"{summary}"
            )
        markdown = markdown.replace(NOTEBOOK_LIST_MARKER, "\n".join(rows) or "(no notebooks)")
    return markdown

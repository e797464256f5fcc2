"""Every tutorial notebook runs from top to bottom, shows a figure, and is committed clean.

The notebooks are executed with nbclient in a python3 kernel whose working directory is the
repository root (they read ``data/sample/helsinki.osm.pbf`` by a relative path), so none of
them rots as the API moves.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIMEOUT_S = 300


def test_the_tutorial_notebooks_are_there() -> None:
    names = {p.stem for p in NOTEBOOKS}
    assert {"quickstart", "coverage", "siting", "batch"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; rebuild or strip them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_shows_a_figure(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = nbformat.read(path, as_version=4)
    # the kernel inherits this environment: the worktree's src first, a headless backend
    src = str(ROOT / "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    # without PYTEST_CURRENT_TEST, or ipykernel would not route descriptor 1 (C code's
    # stdout, e.g. a solver banner) into the cells, and the check below could not fail
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    client.execute(env=env)  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    # a warning in a tutorial (a missing glyph, a deprecation) is a defect of the tutorial
    warned = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not warned, warned
    # a library writes nothing to stdout on its own (the HiGHS banner once did, in kernels)
    printed = "".join(o.text for o in outputs if o.output_type == "stream")
    assert "HiGHS" not in printed, printed
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no figure"
    # every code cell ran, in order
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))


def test_committed_notebooks_match_their_builder(tmp_path: Path) -> None:
    """notebooks/build_notebooks.py is the source: a hand edit of a notebook would be lost."""
    import importlib.util
    import shutil

    if shutil.which("ruff") is None:
        pytest.skip("ruff (dev extra) is needed to rebuild the notebooks")
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", NOTEBOOKS[0].parent / "build_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    built = builder.main(tmp_path)
    assert {p.name for p in built} == {p.name for p in NOTEBOOKS}
    stale = [p.name for p in built if p.read_bytes() != (NOTEBOOKS[0].parent / p.name).read_bytes()]
    assert not stale, f"{stale} differ from the builder; run python notebooks/build_notebooks.py"

"""The documentation builds with warnings as errors, and its pages hold what they promise.

Runs the README's build command (``sphinx -W --keep-going -n``, which executes every tutorial
notebook) into a temporary folder, then checks the built HTML: every tutorial shows executed
output and at least one figure, and every public name has an API page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import graphfit as gf
from graphfit.backend import stack

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = sorted(p.stem for p in (DOCS / "tutorials").glob("*.md") if p.stem != "index")
#: Pages that are notebooks executed at build time.
NOTEBOOKS = [*(f"tutorials/{name}" for name in TUTORIALS), "guides/coming_from_pymc"]
#: The tutorials call ArviZ 1's plots, so they run on the PyMC 6 / ArviZ 1 stack (Python
#: 3.12+, a stage of .ci/run); on ArviZ 0.x the pages are built without running them.
EXECUTE = "force" if stack.ARVIZ_1 else "off"


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_nb")
    out = tmp_path_factory.mktemp("docs")
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-n",
        "-b",
        "html",
        "-d",
        str(out / "doctrees"),
        str(DOCS),
        str(out / "html"),
    ]
    # The notebooks' kernels import graphfit from this checkout, installed or not.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "GRAPHFIT_DOCS_EXECUTE": EXECUTE, "PYTHONPATH": path}
    build = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    assert build.returncode == 0, f"sphinx failed:\n{build.stdout[-5000:]}\n{build.stderr[-5000:]}"
    return out / "html"


@pytest.mark.slow
def test_there_are_tutorials() -> None:
    assert {
        "identical_datasets",
        "variable_model",
        "relational_model",
        "single_dataset",
    } <= set(TUTORIALS)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_pages_show_executed_output_and_a_figure(html: Path, name: str) -> None:
    if EXECUTE == "off":
        pytest.skip("the tutorials run on the ArviZ 1 stack (Python 3.12+) only")
    page = (html / f"{name}.html").read_text(encoding="utf-8")
    assert "cell_output" in page, f"{name}: no executed output"
    assert "Traceback" not in page, f"{name}: a cell raised"
    assert "<img" in page, f"{name}: no figure"


@pytest.mark.slow
def test_tutorials_name_their_example_scripts() -> None:
    for name in TUTORIALS:
        assert (ROOT / "examples" / f"{name}.py").exists(), name
        source = (DOCS / "tutorials" / f"{name}.md").read_text(encoding="utf-8")
        assert f"examples/{name}.py" in source, name


@pytest.mark.slow
def test_every_public_name_has_an_api_page(html: Path) -> None:
    generated = html / "api" / "generated"
    assert (generated / "graphfit.NUTS.html").exists()
    missing = []
    for module in (gf, gf.ex, gf.math, gf.util):
        for name in module.__all__:
            if name in ("ex", "math", "util", "__version__"):
                continue
            if not (generated / f"{module.__name__}.{name}.html").exists():
                missing.append(f"{module.__name__}.{name}")
    assert not missing, f"no API page for: {', '.join(missing)}"
    nuts = (generated / "graphfit.NUTS.html").read_text(encoding="utf-8")
    assert "Examples" in nuts
    assert 'id="graphfit.__version__"' in (html / "api" / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_migration_guides_are_built(html: Path) -> None:
    pyautofit = (html / "guides" / "coming_from_pyautofit.html").read_text(encoding="utf-8")
    for name in ("af.Model", "af.Collection", "af.AnalysisFactor", "af.FactorGraphModel"):
        assert name in pyautofit

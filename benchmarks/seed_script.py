"""The seed cookbook script, run whole, with PyAutoFit and with graphfit.

The seed cookbook is ``autofit_workspace``'s ``scripts/cookbooks/multiple_datasets.py``: three
``DynestyStatic(path_prefix="features", sample="rwalk", name=...)`` fits (identical, variable
and relational models) of the workspace's datasets, with their ``model.info`` printouts, plots
and output folders.  PyAutoFit's users run it as a script, so each row is the wall time of whole
fresh processes:

- ``PyAutoFit``: the script as published, in a Python that has autofit;
- ``graphfit``: the same file with its one line ``import autofit as af`` made
  ``import graphfit as af`` and nothing else.

graphfit does not ship PyAutoFit's script (its code stays in its own repository): pass a copy
with ``--script``.  One way to get it::

    git clone --depth 1 https://github.com/Jammy2211/autofit_workspace /tmp/workspace
    python benchmarks/seed_script.py \\
        --script /tmp/workspace/scripts/cookbooks/multiple_datasets.py \\
        --autofit-python /tmp/afenv/bin/python --graphfit-python /tmp/gfenv/bin/python

(``cold_start.py`` says how to make PyAutoFit's venv; ``--graphfit-python`` is best a venv with
``pip install "graphfit[dynesty]"`` and nothing else, so that each side imports only what its
users install.)  Each run works in an empty folder holding a link to the workspace's
``dataset/example_1d`` (``../shared/datasets/example_1d``), so every fit writes a new output
folder and nothing is resumed; matplotlib draws with the Agg backend.  The sides run in turn,
repeat after repeat; each row is the median, with every run's time.  The ``max log L`` columns
are the script's printed maximum log-likelihood instances, which must agree between the sides.
It prints a markdown table and writes ``benchmarks/results/seed_script.json``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parents[1] / "shared" / "datasets" / "example_1d"
IMPORT = re.compile(r"^import autofit as af(?=\r?$)", re.MULTILINE)  # the file has CRLF lines
COLUMNS = ["side", "wall s", "all wall s", "printed centres", "wall / PyAutoFit"]


def script_for(side: str, source: str) -> str:
    """The script ``side`` runs: PyAutoFit's as published, graphfit's with the import swapped."""
    if side == "PyAutoFit":
        return source
    swapped, count = IMPORT.subn("import graphfit as af", source)
    if count != 1:
        raise SystemExit("the script must have exactly one line 'import autofit as af'")
    return swapped


def run(side: str, source: str, python: str) -> tuple[float, list[float]]:
    """One whole process of ``side``: its wall time and the centres the script printed."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "dataset").mkdir()
        os.symlink(WORKSPACE, work / "dataset" / "example_1d")
        path = work / "multiple_datasets.py"
        path.write_text(script_for(side, source))
        env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
        clock = time.perf_counter()
        done = subprocess.run(
            [python, str(path)], cwd=work, capture_output=True, text=True, env=env, timeout=3600
        )
        wall = time.perf_counter() - clock
    if done.returncode != 0:
        raise RuntimeError(f"{side} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    centres = [float(v) for v in re.findall(r"^Centre =\s+(\S+)", done.stdout, re.MULTILINE)]
    return wall, centres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", required=True, help="a copy of multiple_datasets.py")
    parser.add_argument("--autofit-python", required=True, help="a Python that has autofit")
    parser.add_argument(
        "--graphfit-python", default=None, help="graphfit's Python (default: this one)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per side")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from _common import markdown_table, write_json

    source = Path(args.script).read_text()
    pythons = {"graphfit": args.graphfit_python or sys.executable, "PyAutoFit": args.autofit_python}
    runs: dict[str, list[float]] = {side: [] for side in pythons}
    printed: dict[str, list[float]] = {}
    for repeat in range(args.repeats):
        order = list(pythons) if repeat % 2 == 0 else list(pythons)[::-1]
        for side in order:
            wall, centres = run(side, source, pythons[side])
            runs[side].append(wall)
            printed[side] = centres
            print(f"{side}: {wall:.1f} s", flush=True)
    reference = statistics.median(runs["PyAutoFit"])
    rows = [
        {
            "side": side,
            "wall s": statistics.median(walls),
            "all wall s": ", ".join(f"{w:.1f}" for w in walls),
            "printed centres": ", ".join(f"{c:.2f}" for c in printed[side]),
            "wall / PyAutoFit": statistics.median(walls) / reference,
        }
        for side, walls in runs.items()
    ]
    print(markdown_table(rows, COLUMNS))
    settings = {
        "repeats": args.repeats,
        "script": "autofit_workspace scripts/cookbooks/multiple_datasets.py, import swapped",
        "process": "one per run, output to a new folder",
        "graphfit python": pythons["graphfit"],
    }
    print(write_json("seed_script", rows, settings))


if __name__ == "__main__":
    main()

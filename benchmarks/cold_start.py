"""Cold-start benchmark: whole-process wall time of one cookbook fit, as a script runs it.

Each measurement is a fresh Python process that imports, builds, fits and exits
(``_cold_child.py`` for graphfit and the hand-written PyMC + nutpie model, ``_cold_autofit.py``
for PyAutoFit with ``DynestyStatic(sample="rwalk")`` as in the cookbook).  The sides run in
turn, repeat after repeat, on the workspace's datasets, and each row is the median of the
repeats.  Three kinds of row:

- ``warm``: a rerun of the script: PyTensor's and numba's caches on disk hold the compiled
  code of an earlier run of the same model (one unrecorded run per side fills them);
- ``cold``: the first run on a fresh machine: each process gets empty caches
  (``PYTENSOR_FLAGS=base_compiledir=...`` and ``NUMBA_CACHE_DIR`` in a new folder);
- ``refit``: a second fit of the same model in the same process (a notebook cell run again).

PyAutoFit needs its own Python (recent autofit releases need Python 3.12)::

    PYENV_VERSION=3.12.1 python3.12 -m venv /tmp/afenv && /tmp/afenv/bin/pip install autofit
    python benchmarks/cold_start.py --autofit-python /tmp/afenv/bin/python

Without ``--autofit-python`` (or when it cannot import autofit) the PyAutoFit column is skipped.
It prints a markdown table and writes ``benchmarks/results/cold_start.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from _common import markdown_table, write_json

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parents[1] / "shared" / "datasets" / "example_1d"
PROBLEMS = ("identical", "variable", "relational", "hierarchical")
STAGES = ("import", "build", "start", "compile", "sample", "post-process")
COLUMNS = [
    "problem",
    "kind",
    "side",
    "wall s",
    "startup+exit s",
    *[f"{s} s" for s in STAGES],
    "min ESS",
    "wall / PyAutoFit",
    "runs",
]


def run_child(side: str, problem: str, kind: str, autofit_python: str | None) -> dict:
    """One fresh process; its wall time, stages and ESS."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as folder:
        if kind == "cold":
            env["PYTENSOR_FLAGS"] = f"base_compiledir={folder}/pytensor"
            env["NUMBA_CACHE_DIR"] = f"{folder}/numba"
        if side == "PyAutoFit":
            command = [autofit_python, str(HERE / "_cold_autofit.py"), problem, str(WORKSPACE)]
        else:
            command = [sys.executable, str(HERE / "_cold_child.py"), side, problem]
            if kind == "refit":
                command.append("--refit")
        clock = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=folder, timeout=3600
        )
        wall = time.perf_counter() - clock
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{side} {problem} ({kind}) failed:\n{done.stderr[-3000:]}")
    out = json.loads(lines[-1][len("RESULT ") :])
    out["wall"] = wall
    return out


def summarise(problem: str, kind: str, side: str, runs: list[dict]) -> dict:
    """The row of the median run of ``runs`` (by wall time, or by refit time)."""
    key = "refit" if kind == "refit" else "wall"
    ordered = sorted(runs, key=lambda r: r[key])
    median = ordered[len(ordered) // 2]
    row = {"problem": problem, "kind": kind, "side": side, "runs": len(runs)}
    if kind == "refit":
        row["wall s"] = median["refit"]
    else:
        row["wall s"] = median["wall"]
        row["startup+exit s"] = median["wall"] - median["in-process"]
        for stage in STAGES:
            if stage in median["stages"]:
                row[f"{stage} s"] = median["stages"][stage]
    row["min ESS"] = median["ess"]
    row["all wall s"] = [r[key] for r in runs]
    return row


def autofit_works(python: str | None) -> bool:
    if not python:
        return False
    done = subprocess.run([python, "-c", "import autofit"], capture_output=True, check=False)
    return done.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=PROBLEMS)
    parser.add_argument("--kinds", nargs="+", default=["warm", "refit", "cold"])
    parser.add_argument("--repeats", type=int, default=5, help="runs per side and row")
    parser.add_argument(
        "--cold-problems",
        nargs="+",
        default=["identical"],
        choices=PROBLEMS,
        help="problems with cold rows (each cold run compiles everything again)",
    )
    parser.add_argument("--autofit-python", default=None, help="a Python that has autofit")
    args = parser.parse_args()
    autofit = autofit_works(args.autofit_python)
    if not autofit:
        print("PyAutoFit column skipped: pass --autofit-python (see the module docstring).")
    rows = []
    for problem in args.problems:
        for kind in args.kinds:
            if kind == "cold" and problem not in args.cold_problems:
                continue
            sides = ["graphfit", "hand-written"]
            if autofit and kind != "refit":
                sides.append("PyAutoFit")
            if kind in ("warm", "refit"):  # fill the disk caches first
                for side in sides[:2]:
                    run_child(_child_side(side), problem, "warm", None)
            runs = {side: [] for side in sides}
            for repeat in range(args.repeats):
                # alternate the order, so a side is not always first after another's run
                order = sides if repeat % 2 == 0 else sides[::-1]
                for side in order:
                    child = side if side == "PyAutoFit" else _child_side(side)
                    runs[side].append(run_child(child, problem, kind, args.autofit_python))
            found = [summarise(problem, kind, side, runs[side]) for side in sides]
            reference = next((r for r in found if r["side"] == "PyAutoFit"), None)
            for row in found:
                if reference is not None:
                    row["wall / PyAutoFit"] = row["wall s"] / reference["wall s"]
                print(markdown_table([row], COLUMNS).splitlines()[-1], flush=True)
            rows.extend(found)
    print(markdown_table(rows, COLUMNS))
    write_json(
        "cold_start",
        rows,
        {
            "problems": args.problems,
            "kinds": args.kinds,
            "repeats": args.repeats,
            "cold problems": args.cold_problems,
            "graphfit": "gf.NUTS(random_seed=1) defaults (nutpie, 4 chains x 1000 draws)",
            "hand-written": "nutpie.compile_pymc_model + nutpie.sample(chains=4, cores=2)",
            "PyAutoFit": "DynestyStatic(sample='rwalk')" if autofit else "skipped",
        },
        extra={"note": f"graphfit at commit {_commit()}"},
    )


def _commit() -> str:
    """The checkout's commit, with ``+changes`` when its tracked files differ from it."""
    run = partial(subprocess.run, capture_output=True, text=True, cwd=HERE, check=False)
    head = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip() or "unknown"
    dirty = run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    return head + ("+changes" if dirty else "")


def _child_side(side: str) -> str:
    return "graphfit" if side == "graphfit" else "handwritten"


if __name__ == "__main__":
    main()

"""DynestyStatic at PyAutoFit's defaults: the seed cookbook's dynesty fits, graphfit and PyAutoFit.

The cookbook fits its identical, variable and relational models with
``DynestyStatic(path_prefix="features", sample="rwalk", name=...)``.  ``gf.DynestyStatic`` takes
PyAutoFit's defaults (50 live points, ``walks=5``, ``facc=0.2``, dynesty's stopping rule), so the
same line does the same amount of work in both.  Each fit runs in a fresh process, as a script
does: this file with ``--child`` for graphfit, ``_cold_autofit.py`` for PyAutoFit (both
``DynestyStatic(sample="rwalk")`` without an output folder), the sides in turn, on the
workspace's datasets.  Each row is the median of the repeats of one side:

- ``wall s``: the whole process, from start to exit;
- ``fit s``: ``search.fit`` (graphfit: building and compiling the model, nested sampling and
  the results; PyAutoFit: its ``search.fit``);
- ``calls``: likelihood calls (graphfit only: PyAutoFit's child does not report them);
- ``ESS``: Kish's effective sample size of the weighted nested samples;
- ``log Z``: graphfit's log evidence, whose likelihood keeps the Gaussian normalisation that
  PyAutoFit's example analysis leaves out (about +230 per workspace dataset).

PyAutoFit needs its own Python (see ``cold_start.py``)::

    python benchmarks/dynesty_defaults.py --autofit-python /tmp/afenv/bin/python

PyAutoFit's venv holds autofit and what it needs.  ``--graphfit-python`` runs graphfit's fits in
another Python, such as a venv with ``pip install "graphfit[dynesty]"`` and nothing else, so that
each side imports only what a user of it installs: an environment with the test extras makes
every fit import more (xarray imports dask when it is installed, about 0.5 s).

Without ``--autofit-python`` the PyAutoFit rows are skipped.  It prints a markdown table and
writes ``benchmarks/results/dynesty_defaults.json`` (``--name``: another file, for another
stack's rows); with ``--nlive`` (a smoke test of this script at other settings than the
defaults) nothing is written.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parents[1] / "shared" / "datasets" / "example_1d"
PROBLEMS = ("identical", "variable", "relational")
COLUMNS = ["problem", "side", "wall s", "fit s", "calls", "ESS", "log Z", "wall / PyAutoFit"]


def child(problem: str, nlive: int | None, seed: int) -> None:
    """One graphfit fit (in this process): prints ``RESULT {json}``."""
    sys.path[:0] = [str(HERE.parent), str(HERE)]
    import _cold_child
    import cookbook

    import graphfit as gf

    builders = {
        "identical": cookbook.graph_identical,
        "variable": cookbook.graph_population,
        "relational": cookbook.graph_relational,
    }
    graph = builders[problem](_cold_child.load(problem))
    settings = {} if nlive is None else {"nlive": nlive}
    search = gf.DynestyStatic(sample="rwalk", random_seed=seed, **settings)
    clock = time.perf_counter()
    result = search.fit(model=graph.global_prior_model, analysis=graph)
    fit = time.perf_counter() - clock
    stats = result.idata.sample_stats
    out = {
        "fit": fit,
        "calls": int(stats["n_calls"]),
        "ess": float(stats["kish_ess"]),
        "log_z": result.log_evidence.value,
    }
    print("RESULT " + json.dumps(out), flush=True)


def run(side: str, problem: str, args: argparse.Namespace, seed: int) -> dict:
    """One fresh process of ``side``; its wall time and what it reported."""
    if side == "PyAutoFit":
        command = [args.autofit_python, str(HERE / "_cold_autofit.py"), problem, str(WORKSPACE)]
    else:
        python = args.graphfit_python or sys.executable
        command = [python, str(Path(__file__).resolve()), "--child", problem]
        command += ["--seed", str(seed)]
        if args.nlive is not None:
            command += ["--nlive", str(args.nlive)]
    with tempfile.TemporaryDirectory() as folder:  # PyAutoFit writes into its working folder
        clock = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=folder, timeout=3600)
        wall = time.perf_counter() - clock
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{side} {problem} failed:\n{done.stderr[-3000:]}")
    out = json.loads(lines[-1][len("RESULT ") :])
    if side == "PyAutoFit":  # _cold_autofit.py reports stages from its top
        out = {"fit": out["stages"]["sample"], "ess": out["ess"]}
    return {"wall": wall, **out}


def row(problem: str, side: str, runs: list[dict]) -> dict:
    def median(key: str) -> float | None:
        values = [r[key] for r in runs if key in r]
        return statistics.median(values) if values else None

    return {
        "problem": problem,
        "side": side,
        "wall s": median("wall"),
        "fit s": median("fit"),
        "calls": median("calls"),
        "ESS": median("ess"),
        "log Z": median("log_z"),
        "wall / PyAutoFit": None,
        "runs": len(runs),
    }


def table(rows: list[dict]) -> str:
    """The markdown table of ``rows`` (a figure not measured is left blank)."""
    from _common import markdown_table

    blank = [{key: "" if value is None else value for key, value in r.items()} for r in rows]
    return markdown_table(blank, COLUMNS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=PROBLEMS)
    parser.add_argument("--repeats", type=int, default=3, help="runs per side and problem")
    parser.add_argument("--autofit-python", default=None, help="a Python that has autofit")
    parser.add_argument(
        "--graphfit-python",
        default=None,
        help="the Python of graphfit's fits (default: this one): a venv with graphfit[dynesty]",
    )
    parser.add_argument("--nlive", type=int, default=None, help="smoke tests: not the defaults")
    parser.add_argument(
        "--name",
        default="dynesty_defaults",
        help="results file: benchmarks/results/<name>.json (another stack's rows under their own)",
    )
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=PROBLEMS, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.nlive, args.seed)
        return

    from _common import write_json

    sides = ["graphfit"]
    if args.autofit_python is not None and args.nlive is None:
        sides.append("PyAutoFit")
    else:
        print("PyAutoFit rows skipped: pass --autofit-python (and no --nlive).")
    rows = []
    for problem in args.problems:
        runs: dict[str, list[dict]] = {side: [] for side in sides}
        for repeat in range(args.repeats):
            for side in sides:
                runs[side].append(run(side, problem, args, seed=repeat + 1))
        problem_rows = [row(problem, side, runs[side]) for side in sides]
        if "PyAutoFit" in runs:
            reference = problem_rows[-1]["wall s"]
            for entry in problem_rows:
                entry["wall / PyAutoFit"] = entry["wall s"] / reference
        rows += problem_rows
        print(table(problem_rows), flush=True)
    print(table(rows))
    if args.nlive is None:
        settings = {
            "repeats": args.repeats,
            "search": 'DynestyStatic(sample="rwalk") at the defaults, no output folder',
            "process": "one per fit",
            "graphfit python": args.graphfit_python or sys.executable,
        }
        print(write_json(args.name, rows, settings))


if __name__ == "__main__":
    main()

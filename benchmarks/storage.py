"""Storage benchmark: bytes of a saved fit's folder, and the time to save and load it.

The cookbook's population problem (shared centre, per-dataset normalization and sigma) with 3
and 20 datasets of 100 points is fitted with ``gf.MAP`` and with a small NUTS fit (2 chains
of 200 draws after 200 tuning steps), without a name; the fit is then saved with
``graphfit.io.output.save_result`` (timed: ``save s``) to a new folder, whose files are summed
(``folder bytes``; ``netcdf bytes`` for the ``.nc`` files, ``plot bytes`` for the PNGs), and
loaded back without the model with ``gf.load_result`` with every dataset's ``idata`` read
(timed: ``load s``).  ``layout`` says which graphfit wrote the folder: run it once in a copy of
the commit before a change of the folder format and once after, both into one file::

    git worktree add /tmp/wt_storage <commit>
    cp benchmarks/storage.py /tmp/wt_storage/benchmarks/
    python /tmp/wt_storage/benchmarks/storage.py --label "format 2" --into benchmarks/results
    python benchmarks/storage.py --label "format 3"

Each run replaces the rows of its own label in ``benchmarks/results/storage.json`` and keeps
the others; it prints a markdown table of its rows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from _common import RESULTS, graph_population, markdown_table, simulate_population, write_json

import graphfit as gf
from graphfit.io.identifier import fit_identity
from graphfit.io.output import save_result

COLUMNS = [
    "layout",
    "search",
    "datasets",
    "folder bytes",
    "netcdf bytes",
    "plot bytes",
    "files",
    "save s",
    "load s",
]
SIZES = (3, 20)
NOTE = (
    "each layout's rows come from its own run (see runs); save s includes computing the fit "
    "bands (format 3) or writing the PNG plots (format 2)"
)


def _searches() -> dict[str, gf.Search]:
    return {
        "MAP": gf.MAP(random_seed=1, progressbar=False),
        "NUTS 2x200": gf.NUTS(draws=200, tune=200, chains=2, random_seed=1, progressbar=False),
    }


def _bytes(folder: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in folder.rglob(pattern) if p.is_file())


def measure(label: str) -> list[dict[str, object]]:
    """One row per search and number of datasets."""
    import time

    rows = []
    with tempfile.TemporaryDirectory() as root:
        for n in SIZES:
            datasets, _ = simulate_population(n, seed=n)
            graph = graph_population(datasets)
            for search_name, search in _searches().items():
                result_list = search.fit(model=graph.global_prior_model, analysis=graph)
                search.name = f"storage_{n}"  # the folder's identity names the search's settings
                search.output_path = root
                identity = fit_identity(graph, search)
                folder = Path(root) / search_name.replace(" ", "_") / str(n)
                start = time.perf_counter()
                save_result(result_list, folder, search=search, identity=identity)
                saved = time.perf_counter() - start
                start = time.perf_counter()
                loaded = gf.load_result(folder)
                views = [result.idata for result in loaded]
                load = time.perf_counter() - start
                assert len(views) == n
                rows.append(
                    {
                        "layout": label,
                        "search": search_name,
                        "datasets": n,
                        "folder bytes": _bytes(folder, "*"),
                        "netcdf bytes": _bytes(folder, "*.nc"),
                        "plot bytes": _bytes(folder, "*.png"),
                        "files": sum(1 for p in folder.rglob("*") if p.is_file()),
                        "save s": saved,
                        "load s": load,
                    }
                )
                print(markdown_table(rows[-1:], COLUMNS).splitlines()[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="the layout measured (e.g. 'format 3')")
    parser.add_argument("--into", default=str(RESULTS), help="folder of storage.json")
    args = parser.parse_args()
    rows = measure(args.label)
    print(markdown_table(rows, COLUMNS))
    commit = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    path = Path(args.into) / "storage.json"
    kept, runs = [], {}
    if path.is_file():
        old = json.loads(path.read_text())
        kept = [row for row in old["rows"] if row["layout"] != args.label]
        runs = {k: v for k, v in old.get("runs", {}).items() if k != args.label}
    written = write_json(
        "storage",
        kept + rows,
        {"sizes": list(SIZES), "points per dataset": 100, "searches": list(_searches())},
        {"note": NOTE},
    )
    payload = json.loads(written.read_text())
    runs[args.label] = {k: payload[k] for k in ("date", "command")} | {"commit": commit}
    payload["runs"] = runs
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=float))
    if written.resolve() != path.resolve():
        written.unlink()


if __name__ == "__main__":
    main()

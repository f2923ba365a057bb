"""Refit benchmark: how long a notebook's second fit of the cookbook variable model takes.

In one process (a notebook's kernel), the cookbook variable model (3 datasets, shared centre,
per-dataset normalization and sigma) is fitted with ``gf.NUTS()`` at its defaults, then fitted
again four ways, each timed as the whole ``search.fit`` call:

* ``same graph``: the same graph object, unchanged (the compiled model is reused);
* ``new data``: the same graph with each dataset's data replaced by another noise realisation
  (the structure is unchanged: the compiled models are reused, the new data swapped in);
* ``new prior``: the centre's prior replaced by a narrower one of the same kind (the structure
  is unchanged: the compiled models are reused, the new prior's bounds swapped in);
* ``new graph, same spec``: a new graph built from the same datasets and priors, as a
  notebook cell run twice does (the same structure: the compiled models are reused).

Each row is the median over ``--repeats`` processes (fresh ones: the first fit pays the imports
and the C-module index, as a notebook's first cell does).  Every process draws its own noise
realisations (seeded from the operating system), so no on-disk cache holds a model compiled
for its data: with fixed seeds, a model compiled with its data as constants was found in
PyTensor's numba cache from the previous run and the "new data" refit looked three times
cheaper than it is for data never fitted before. ``ratio`` is the refit's time over the
first fit's. Run from the repository root::

    python benchmarks/refit.py --repeats 3

It prints a markdown table and writes ``benchmarks/results/refit.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from _common import markdown_table, write_json

COLUMNS = ["fit", "seconds", "ratio"]
KINDS = ["first fit", "same graph", "new data", "new prior", "new graph, same spec"]


def one_process() -> dict[str, float]:
    """Fit the variable model five ways in this process; seconds per fit."""
    import numpy as np

    import graphfit as gf

    def datasets(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return [
            gf.ex.simulate_gaussian_dataset(50.0, 50.0, s, seed=seed + k)
            for k, s in enumerate([10.0, 20.0, 30.0])
        ]

    centre = gf.UniformPrior(0.0, 100.0)

    def graph(data: list[tuple[np.ndarray, np.ndarray]]) -> tuple[gf.FactorGraphModel, list]:
        models, factors = [], []
        for values, noise in data:
            model = gf.Model(gf.ex.Gaussian)
            model.centre = centre
            model.normalization = gf.LogUniformPrior(1e-2, 1e2)
            model.sigma = gf.GaussianPrior(10.0, 5.0, lower_limit=0.0)
            models.append(model)
            factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(values, noise)))
        return gf.FactorGraphModel(*factors), models

    def fit(target: gf.FactorGraphModel) -> float:
        clock = time.perf_counter()
        gf.NUTS(random_seed=1, progressbar=False).fit(target.global_prior_model, target)
        return time.perf_counter() - clock

    base = int.from_bytes(os.urandom(3), "little")  # data no earlier run has compiled
    data = datasets(base)
    first, models = graph(data)
    out = {"first fit": fit(first), "same graph": fit(first)}
    for factor, (values, _) in zip(first.factors, datasets(base + 30), strict=True):
        factor.analysis.data = values
    out["new data"] = fit(first)
    narrower = gf.UniformPrior(30.0, 70.0)  # one prior, still shared by the datasets
    for model in models:
        model.centre = narrower
    out["new prior"] = fit(first)
    out["new graph, same spec"] = fit(graph(data)[0])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_process()))
        return
    runs = []
    for _ in range(args.repeats):
        done = subprocess.run(
            [sys.executable, __file__, "--child"], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first = statistics.median(run["first fit"] for run in runs)
    rows = []
    for kind in KINDS:
        seconds = statistics.median(run[kind] for run in runs)
        rows.append({"fit": kind, "seconds": seconds, "ratio": seconds / first})
    print(markdown_table(rows, COLUMNS))
    write_json(
        "refit",
        rows,
        {"repeats": args.repeats, "search": "gf.NUTS() defaults", "process": "one per repeat"},
        {"runs": runs},
    )


if __name__ == "__main__":
    main()

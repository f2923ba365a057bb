"""Independent fits benchmark: ``gf.fit_each`` sequential, on a process pool and on Dask.

N datasets of the cookbook's 1D Gaussian (centre, normalization, sigma: 3 free parameters each)
are fitted one by one with NUTS (nutpie, 2 chains in one thread per fit), three ways:

* ``sequential``: ``executor=None``, every fit in this process;
* ``pool``: ``executor=2``, a local pool of 2 worker processes;
* ``dask``: ``client.get_executor()`` of a ``dask.distributed.LocalCluster`` with 2 worker
  processes of 1 thread each.

Every dataset has the same structure, so each process should compile the model once (the
``compiles`` column: 1 for sequential, one per worker process for the others) and then only swap
the data.  Target on 2 cores: pool and Dask at least 1.7x faster than sequential.

Run from the repository root::

    python benchmarks/fit_each.py            # N = 200
    python benchmarks/fit_each.py --n 10     # a quick smoke run

It prints a markdown table and writes ``benchmarks/results/fit_each.json``.  Wall-clock times
include starting the workers and their first compile.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from _common import markdown_table, timed, write_json

import graphfit as gf

COLUMNS = [
    "mode",
    "workers",
    "fits",
    "failed",
    "compiles",
    "total s",
    "s / fit",
    "speed-up",
    "median centre error / sd",
]


def factors(n: int, seed: int = 0) -> tuple[list[gf.AnalysisFactor], np.ndarray]:
    """N cookbook Gaussians with centres spread over 30-70 (one model object, priors per fit)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(30.0, 70.0, n)
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(0.0, 100.0)
    model.normalization = gf.LogUniformPrior(1e-2, 1e2)
    model.sigma = gf.GaussianPrior(10.0, 5.0, lower_limit=0.0)
    out = [
        gf.AnalysisFactor(
            model,
            gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(centre=c, seed=seed * 100_000 + k)),
            name=f"dataset_{k}",
        )
        for k, c in enumerate(centres)
    ]
    return out, centres


def row(mode: str, workers: int, result_list, seconds: float, centres: np.ndarray) -> dict:
    errors = []
    for result, centre in zip(result_list, centres, strict=True):
        if getattr(result, "failed", False):
            continue
        samples = result.idata.posterior["centre"].values.ravel()
        errors.append(abs(np.median(samples) - centre) / samples.std())
    return {
        "mode": mode,
        "workers": workers,
        "fits": result_list.stats["fits"],
        "failed": result_list.stats["failed"],
        "compiles": result_list.compile_count,
        "total s": seconds,
        "s / fit": seconds / len(result_list),
        "median centre error / sd": float(np.median(errors)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="number of datasets")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--modes", nargs="+", default=["sequential", "pool", "dask"])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--progress", action="store_true", help="show fit_each's progress bar")
    args = parser.parse_args()
    # workers started with spawn import graphfit from the repository root
    root = str(Path(__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    sys.path.insert(0, root)

    fits, centres = factors(args.n)
    search = gf.NUTS(
        draws=args.draws,
        tune=args.tune,
        chains=2,
        cores=1,  # one thread per fit: the parallelism is across datasets
        sampler="nutpie",
        random_seed=args.seed,
        progressbar=False,
    )
    rows = []
    for mode in args.modes:
        if mode == "sequential":
            result_list, seconds = timed(lambda: gf.fit_each(fits, search, progress=args.progress))
            rows.append(row(mode, 1, result_list, seconds, centres))
        elif mode == "pool":
            result_list, seconds = timed(
                lambda: gf.fit_each(fits, search, executor=args.workers, progress=args.progress)
            )
            rows.append(row(mode, args.workers, result_list, seconds, centres))
        elif mode == "dask":
            from distributed import Client, LocalCluster

            def run_dask():
                with (
                    LocalCluster(
                        n_workers=args.workers,
                        processes=True,
                        threads_per_worker=1,
                        dashboard_address=":0",
                    ) as cluster,
                    Client(cluster) as client,
                ):
                    return gf.fit_each(
                        fits, search, executor=client.get_executor(), progress=args.progress
                    )

            result_list, seconds = timed(run_dask)
            rows.append(row(mode, args.workers, result_list, seconds, centres))
        else:
            raise SystemExit(f"unknown mode {mode!r}; use sequential, pool or dask")
        print(markdown_table([rows[-1]], COLUMNS).splitlines()[-1], flush=True)
    sequential = next((r["total s"] for r in rows if r["mode"] == "sequential"), None)
    for r in rows:
        r["speed-up"] = sequential / r["total s"] if sequential else float("nan")
    print()
    print(f"{args.n} datasets, NUTS nutpie 2 chains x {args.draws} draws (+{args.tune} tune)")
    print(markdown_table(rows, COLUMNS))
    print(f"\nwrote {write_json('fit_each', rows, vars(args))}")


if __name__ == "__main__":
    main()

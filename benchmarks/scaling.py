"""Scaling benchmark: compile time, sampling time and ESS/s against the number of datasets.

N datasets of 100 points with a shared centre and per-dataset normalization and sigma, fitted by
graphfit (vectorised), graphfit with one node per dataset (unvectorised; only up to
``--max-unvectorised`` datasets, since its compile time grows with N), and the hand-written
vectorised PyMC model, all with the same sampler and seed in one run.

Run from the repository root::

    python benchmarks/scaling.py --sizes 3 10 30 100 300 1000 --sampler nutpie

It prints a markdown table and writes ``benchmarks/results/scaling_<sampler>.json``.
"""

from __future__ import annotations

import argparse
import logging
import warnings
from functools import partial

from _common import (
    convergence,
    graph_population,
    handwritten_population,
    markdown_table,
    sample_handwritten,
    simulate_population,
    timed,
    write_json,
)

import graphfit as gf

COLUMNS = [
    "N",
    "variant",
    "build s",
    "compile s",
    "sampling s",
    "total s",
    "min ESS",
    "max R-hat",
    "ESS/s",
]


def row(build, total, sampling, idata):
    """One table row from timings and the fit's InferenceData."""
    ess, rhat = convergence(idata, ["centre", "normalization", "sigma"])
    return {
        "build s": build,
        "compile s": total - sampling,
        "sampling s": sampling,
        "total s": total,
        "min ESS": ess,
        "max R-hat": rhat,
        "ESS/s": ess / total,
    }


def run_graphfit(datasets, *, vectorize, args):
    graph = graph_population(datasets, vectorize=vectorize)
    _, build = timed(lambda: graph.to_pymc())
    search = gf.NUTS(
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
        progressbar=False,
        sampler=args.sampler,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gf.ConvergenceWarning)  # reported in the table instead
        result_list, fit = timed(lambda: search.fit(model=graph.global_prior_model, analysis=graph))
    return row(build, build + fit, result_list.timings["sample"], result_list.idata)


def run_handwritten(datasets, args):
    model, build = timed(lambda: handwritten_population(datasets))
    (idata, _compile, sampling), fit = timed(
        lambda: sample_handwritten(
            model,
            sampler=args.sampler,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            seed=args.seed,
        )
    )
    return row(build, build + fit, sampling, idata)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 10, 30, 100, 300, 1000])
    parser.add_argument("--sampler", default="nutpie", choices=["pymc", "nutpie", "numpyro"])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-unvectorised", type=int, default=10)
    parser.add_argument("--skip-handwritten", action="store_true")
    parser.add_argument(
        "--max-handwritten", type=int, default=None, help="largest N for the hand-written model"
    )
    parser.add_argument("--no-warmup", action="store_true")
    args = parser.parse_args()
    logging.getLogger("pymc").setLevel(logging.WARNING)

    if not args.no_warmup:  # imports, C compile cache and numba warm-up outside the timings
        datasets, _ = simulate_population(2)
        run_graphfit(datasets, vectorize=True, args=args)
        if not args.skip_handwritten:
            run_handwritten(datasets, args)
    rows = []
    for n in args.sizes:
        datasets, _ = simulate_population(n)
        variants = [
            ("graphfit vectorised", lambda d=datasets: run_graphfit(d, vectorize=True, args=args))
        ]
        if n <= args.max_unvectorised:
            variants.append(
                (
                    "graphfit unvectorised",
                    lambda d=datasets: run_graphfit(d, vectorize=False, args=args),
                )
            )
        if not args.skip_handwritten and (
            args.max_handwritten is None or n <= args.max_handwritten
        ):
            variants.append(("hand-written PyMC", partial(run_handwritten, datasets, args)))
        for name, run in variants:
            row = {"N": n, "variant": name, **run()}
            rows.append(row)
            print(markdown_table([row], COLUMNS).splitlines()[-1], flush=True)
    print()
    print(f"sampler={args.sampler}, {args.chains} chains x {args.draws} draws (+{args.tune} tune)")
    print(markdown_table(rows, COLUMNS))
    path = write_json(f"scaling_{args.sampler}", rows, vars(args))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()

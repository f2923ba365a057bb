"""Cookbook benchmark: graphfit against hand-written PyMC on the cookbook problems.

Problems: identical datasets (3 datasets, 3 shared parameters), variable model (shared centre,
per-dataset normalization and sigma), relational model (``sigma = m*x + c``), and a 10-dataset
population (shared centre, per-dataset normalization and sigma).  For each problem and sampler,
graphfit and a hand-written vectorised PyMC model of the same problem are fitted with the same
sampler settings and seed, in one run.  An optional column fits the same datasets with PyAutoFit
and Dynesty when ``autofit`` is installed; otherwise it is skipped.

Run from the repository root::

    python benchmarks/cookbook.py --samplers pymc nutpie

It prints a markdown table and writes ``benchmarks/results/cookbook.json``.  Each problem is fitted
once before timing (``--no-warmup`` to skip), so both sides use a warm PyTensor compile cache;
then graphfit and the hand-written model are fitted in turn ``--repeats`` times (default 3) and
each row is the run with the median total time (nutpie's compile time alone varies by 0.5 s
between identical runs).  graphfit's per-process structure cache is cleared before each of its
fits, so that both sides compile their model every time (a refit of the same structure in one
process skips compiling: ``benchmarks/refit.py`` measures that).
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import warnings
from functools import partial

import numpy as np
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
from graphfit.backend.structures import clear_cache

COLUMNS = [
    "problem",
    "sampler",
    "variant",
    "compile s",
    "sampling s",
    "total s",
    "min ESS",
    "max R-hat",
    "ESS/s",
    "total / hand-written",
]
X_RELATIONAL = np.array([1.0, 2.0, 3.0])


def identical_data():
    return [gf.ex.simulate_gaussian_dataset(50.0, 25.0, 10.0, seed=k) for k in range(3)]


def variable_data():
    return [
        gf.ex.simulate_gaussian_dataset(50.0, 50.0, s, seed=10 + k)
        for k, s in enumerate([10.0, 20.0, 30.0])
    ]


def relational_data():
    return [
        gf.ex.simulate_gaussian_dataset(50.0, 50.0, 5.0 * x + 3.0, seed=20 + k)
        for k, x in enumerate(X_RELATIONAL)
    ]


def graph_identical(datasets):
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(0.0, 100.0)
    model.normalization = gf.LogUniformPrior(1e-2, 1e2)
    model.sigma = gf.GaussianPrior(10.0, 5.0, lower_limit=0.0, upper_limit=np.inf)
    return gf.FactorGraphModel(
        *[gf.AnalysisFactor(model, gf.ex.Analysis(d, n)) for d, n in datasets]
    )


def graph_relational(datasets):
    model = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian))
    sigma_m = gf.UniformPrior(-10.0, 10.0, name="sigma_m")
    sigma_c = gf.UniformPrior(-10.0, 10.0, name="sigma_c")
    factors = []
    for x, (data, noise) in zip(X_RELATIONAL, datasets, strict=True):
        own = model.copy()
        own.gaussian.sigma = sigma_m * float(x) + sigma_c
        factors.append(gf.AnalysisFactor(own, gf.ex.Analysis(data, noise)))
    return gf.FactorGraphModel(*factors)


def _profile(pm, x, centre, normalization, sigma):
    return (normalization / (sigma * np.sqrt(2 * np.pi))) * pm.math.exp(
        -0.5 * ((x - centre) / sigma) ** 2
    )


def _stacked(datasets):
    """Data and noise stacked to (dataset, x), and the x values."""
    data, noise = np.stack([d for d, _ in datasets]), np.stack([n for _, n in datasets])
    return data, noise, np.arange(data.shape[1], dtype=float)


def hand_identical(datasets):
    import pymc as pm

    data, noise, x = _stacked(datasets)
    with pm.Model(coords={"dataset": range(len(datasets)), "x": x}) as model:
        centre = pm.Uniform("centre", 0.0, 100.0)
        log_norm = pm.Uniform("log_normalization", np.log(1e-2), np.log(1e2))
        normalization = pm.Deterministic("normalization", pm.math.exp(log_norm))
        sigma = pm.TruncatedNormal("sigma", mu=10.0, sigma=5.0, lower=0.0)
        mu = _profile(pm, x, centre, normalization, sigma)
        pm.Normal("obs", mu=mu[None, :], sigma=noise, observed=data, dims=("dataset", "x"))
    return model


def hand_relational(datasets):
    import pymc as pm

    data, noise, x = _stacked(datasets)
    with pm.Model(coords={"dataset": range(len(datasets)), "x": x}) as model:
        centre = pm.Uniform("gaussian.centre", 0.0, 100.0)
        log_norm = pm.Uniform("log_normalization", np.log(1e-6), np.log(1e6))
        normalization = pm.Deterministic("gaussian.normalization", pm.math.exp(log_norm))
        m = pm.Uniform("sigma_m", -10.0, 10.0)
        c = pm.Uniform("sigma_c", -10.0, 10.0)
        sigma = pm.Deterministic("gaussian.sigma", m * X_RELATIONAL + c, dims="dataset")
        mu = _profile(pm, x[None, :], centre, normalization, sigma[:, None])
        pm.Normal("obs", mu=mu, sigma=noise, observed=data, dims=("dataset", "x"))
    return model


PROBLEMS = {
    "identical (3)": (
        identical_data,
        graph_identical,
        hand_identical,
        ["centre", "normalization", "sigma"],
    ),
    "variable (3)": (
        variable_data,
        graph_population,
        handwritten_population,
        ["centre", "normalization", "sigma"],
    ),
    "relational (3)": (
        relational_data,
        graph_relational,
        hand_relational,
        ["gaussian.centre", "gaussian.normalization", "sigma_m", "sigma_c"],
    ),
    "population (10)": (
        lambda: simulate_population(10)[0],
        graph_population,
        handwritten_population,
        ["centre", "normalization", "sigma"],
    ),
}


def fit_graphfit(make_graph, datasets, var_names, sampler, args):
    clear_cache()  # compile as the hand-written model does, not reuse the warm-up's model
    graph = make_graph(datasets)
    search = gf.NUTS(
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
        progressbar=False,
        sampler=sampler,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gf.ConvergenceWarning)  # reported in the table
        result_list, total = timed(
            lambda: search.fit(model=graph.global_prior_model, analysis=graph)
        )
    sampling = result_list.timings["sample"]
    ess, rhat = convergence(result_list.idata, var_names)
    return {
        "compile s": total - sampling,
        "sampling s": sampling,
        "total s": total,
        "min ESS": ess,
        "max R-hat": rhat,
        "ESS/s": ess / total,
    }


def fit_handwritten(make_model, datasets, var_names, sampler, args):
    model, build = timed(lambda: make_model(datasets))
    (idata, _compile, sampling), total = timed(
        lambda: sample_handwritten(
            model,
            sampler=sampler,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            seed=args.seed,
        )
    )
    ess, rhat = convergence(idata, var_names)
    total += build
    return {
        "compile s": total - sampling,
        "sampling s": sampling,
        "total s": total,
        "min ESS": ess,
        "max R-hat": rhat,
        "ESS/s": ess / total,
    }


def autofit_available(python: str) -> bool:
    """Whether ``python`` can import autofit."""
    done = subprocess.run([python, "-c", "import autofit"], capture_output=True, check=False)
    return done.returncode == 0


def fit_autofit(datasets, python: str):  # pragma: no cover - optional column
    """PyAutoFit + Dynesty on the same data, in a subprocess of ``python`` (it registers global
    state, and recent autofit releases need another Python) run in a temporary folder (it
    writes its output folder there)."""
    code = (
        "import time, json, sys, numpy as np, autofit as af\n"
        "data = json.loads(sys.stdin.read())\n"
        "t = time.perf_counter()\n"
        "model = af.Model(af.ex.Gaussian)\n"
        "factors = [af.AnalysisFactor(model, af.ex.Analysis("
        "data=np.array(d), noise_map=np.array(n))) for d, n in data]\n"
        "graph = af.FactorGraphModel(*factors)\n"
        "af.DynestyStatic(sample='rwalk').fit(model=graph.global_prior_model, analysis=graph)\n"
        "print(time.perf_counter() - t)\n"
    )
    payload = [[d.tolist(), n.tolist()] for d, n in datasets]
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [python, "-c", code],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=1800,
            check=True,
            cwd=folder,
        )
    return float(out.stdout.strip().splitlines()[-1])


def import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samplers", nargs="+", default=["pymc", "nutpie"], choices=["pymc", "nutpie", "numpyro"]
    )
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--name",
        default="cookbook",
        help="results file: benchmarks/results/<name>.json (a subset of the rows under its own)",
    )
    parser.add_argument(
        "--autofit-python",
        default=sys.executable,
        help="Python with autofit installed, for the PyAutoFit column (default: this one)",
    )
    args = parser.parse_args()
    logging.getLogger("pymc").setLevel(logging.WARNING)

    print(
        f"import graphfit: {import_seconds('graphfit'):.2f} s, "
        f"import graphfit + pymc: {import_seconds('graphfit, pymc'):.2f} s, "
        f"import pymc: {import_seconds('pymc'):.2f} s"
    )
    autofit = autofit_available(args.autofit_python)
    rows = []
    for problem in args.problems:
        make_data, make_graph, make_model, var_names = PROBLEMS[problem]
        datasets = make_data()
        for sampler in args.samplers:
            runs = [
                ("graphfit", partial(fit_graphfit, make_graph, datasets, var_names, sampler, args)),
                (
                    "hand-written PyMC",
                    partial(fit_handwritten, make_model, datasets, var_names, sampler, args),
                ),
            ]
            if not args.no_warmup:
                for _, run in runs:
                    run()
            repeats: dict[str, list[dict]] = {name: [] for name, _ in runs}
            for _ in range(args.repeats):
                for name, run in runs:
                    repeats[name].append(run())
            measured = {
                name: sorted(values, key=lambda v: v["total s"])[len(values) // 2]
                for name, values in repeats.items()
            }
            reference = measured["hand-written PyMC"]["total s"]
            for name, values in measured.items():
                row = {
                    "problem": problem,
                    "sampler": sampler,
                    "variant": name,
                    **values,
                    "total / hand-written": values["total s"] / reference,
                }
                rows.append(row)
                print(markdown_table([row], COLUMNS).splitlines()[-1], flush=True)
        if autofit and problem.startswith("identical"):
            seconds = fit_autofit(datasets, args.autofit_python)
            rows.append(
                {
                    "problem": problem,
                    "sampler": "dynesty",
                    "variant": "PyAutoFit",
                    "total s": seconds,
                }
            )
    if not autofit:
        print(
            f"PyAutoFit column skipped: {args.autofit_python} cannot import autofit "
            "(pip install autofit, or pass --autofit-python)."
        )
    print()
    print(f"{args.chains} chains x {args.draws} draws (+{args.tune} tune), seed {args.seed}")
    print(markdown_table(rows, COLUMNS))
    print(f"\nwrote {write_json(args.name, rows, vars(args))}")


if __name__ == "__main__":
    main()

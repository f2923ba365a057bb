"""Divergences on weak hierarchical data: graphfit at its defaults against hand-written PyMC.

The workspace's ``gaussian_x1__hierarchical`` data (10 faint Gaussians, signal-to-noise about 1
per pixel; each centre drawn from a population with mean ~ N(50, 10) and sigma ~ N(10, 5), both
cut to [0, 100]; normalization ~ N(3, 5) and sigma ~ N(10, 10) cut at 0, free per dataset), as
the HowToFit tutorial fits them. graphfit runs ``gf.NUTS()`` with every default (``"auto"``
makes the population non-centred and sets ``target_accept`` to 0.95, see
``graphfit.search.adaptation``), and again with ``target_accept=0.8``, the default before
``"auto"``; the reference is the non-centred model a PyMC user writes by hand, sampled by
nutpie with its defaults (4 x 1000 draws after 1000 tuning steps, target_accept 0.8). All run
the same seeds, one after the other in one process, each compiled once before the timed fits.

Each row is one seed: divergent transitions, the largest R-hat and smallest bulk ESS of the two
hyperparameters, and their posterior means. Run from the repository root (needs ``../shared``
beside the clone)::

    python benchmarks/divergences.py --seeds 15

It prints a markdown table and writes ``benchmarks/results/divergences.json``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from _common import markdown_table, write_json

import graphfit as gf

WORKSPACE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "datasets"
    / "example_1d"
    / "gaussian_x1__hierarchical"
)
COLUMNS = ["side", "seed", "divergences", "max R-hat", "min ESS", "mean", "sigma", "seconds"]


def load() -> list[tuple[np.ndarray, np.ndarray]]:
    """The ten datasets' data and noise maps."""
    out = []
    for k in range(10):
        folder = WORKSPACE / f"dataset_{k}"
        out.append(
            (
                np.array(json.loads((folder / "data.json").read_text())),
                np.array(json.loads((folder / "noise_map.json").read_text())),
            )
        )
    return out


def graphfit_graph(datasets) -> gf.FactorGraphModel:
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.GaussianPrior(mean=50.0, sigma=10.0, lower_limit=0.0, upper_limit=100.0),
        sigma=gf.GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=100.0),
    )
    factors = []
    for data, noise in datasets:
        model = gf.Model(gf.ex.Gaussian)
        model.centre = gf.GaussianPrior(mean=50.0, sigma=20.0, lower_limit=0.0, upper_limit=100.0)
        model.normalization = gf.GaussianPrior(mean=3.0, sigma=5.0, lower_limit=0.0)
        model.sigma = gf.GaussianPrior(mean=10.0, sigma=10.0, lower_limit=0.0)
        population.add_drawn_variable(model.centre)
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)))
    return gf.FactorGraphModel(*factors, population)


def handwritten(datasets):
    """The non-centred model by hand: centre = mean + sigma * offset."""
    import pymc as pm

    data = np.stack([d for d, _ in datasets])
    noise = np.stack([s for _, s in datasets])
    x = np.arange(data.shape[1], dtype=float)
    with pm.Model(coords={"dataset": np.arange(len(datasets))}) as model:
        mean = pm.TruncatedNormal("mean", 50.0, 10.0, lower=0.0, upper=100.0)
        spread = pm.TruncatedNormal("sigma", 10.0, 5.0, lower=0.0, upper=100.0)
        offset = pm.Normal("offset", 0.0, 1.0, dims="dataset")
        centre = mean + spread * offset
        norm = pm.TruncatedNormal("normalization", 3.0, 5.0, lower=0.0, dims="dataset")
        width = pm.TruncatedNormal("width", 10.0, 10.0, lower=0.0, dims="dataset")
        profile = (norm[:, None] / (width[:, None] * np.sqrt(2.0 * np.pi))) * pm.math.exp(
            -0.5 * ((x[None, :] - centre[:, None]) / width[:, None]) ** 2
        )
        pm.Normal("obs", mu=profile, sigma=noise, observed=data)
    return model


def row(side: str, seed: int, idata, names: tuple[str, str], seconds: float) -> dict:
    import arviz as az

    summary = az.summary(idata, var_names=list(names), kind="diagnostics", round_to="none")
    posterior = idata.posterior
    return {
        "side": side,
        "seed": seed,
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "max R-hat": round(float(summary["r_hat"].max()), 4),
        "min ESS": round(float(summary["ess_bulk"].min())),
        "mean": float(posterior[names[0]].mean()),
        "sigma": float(posterior[names[1]].mean()),
        "seconds": seconds,
    }


def main() -> None:
    import nutpie

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=15)
    args = parser.parse_args()
    datasets = load()
    graph = graphfit_graph(datasets)
    compiled = nutpie.compile_pymc_model(handwritten(datasets))
    warnings.simplefilter("ignore")  # each side's divergence warnings: counted in the table
    gf.NUTS(random_seed=0, progressbar=False).fit(graph.global_prior_model, graph)  # warm
    rows = []
    for seed in range(1, args.seeds + 1):
        clock = time.perf_counter()
        result_list = gf.NUTS(random_seed=seed, progressbar=False).fit(
            graph.global_prior_model, graph
        )
        seconds = time.perf_counter() - clock
        names = ("hierarchical_0.mean", "hierarchical_0.sigma")
        rows.append(row("graphfit", seed, result_list.idata, names, seconds))
        clock = time.perf_counter()
        result_list = gf.NUTS(random_seed=seed, progressbar=False, target_accept=0.8).fit(
            graph.global_prior_model, graph
        )
        seconds = time.perf_counter() - clock
        rows.append(row("graphfit, target_accept=0.8", seed, result_list.idata, names, seconds))
        clock = time.perf_counter()
        idata = nutpie.sample(compiled, seed=seed, chains=4, cores=2, progress_bar=False)
        seconds = time.perf_counter() - clock
        rows.append(row("hand-written", seed, idata, ("mean", "sigma"), seconds))
    print(markdown_table(rows, COLUMNS))
    write_json(
        "divergences",
        rows,
        {
            "seeds": args.seeds,
            "search": "gf.NUTS() defaults, and with target_accept=0.8; nutpie defaults by hand",
        },
        {
            "what": "the workspace's gaussian_x1__hierarchical data; graphfit at its defaults "
            "and with target_accept=0.8, the hand-written non-centred model with nutpie's "
            "defaults",
            "process": "one process, each side compiled before the timed fits",
        },
    )


if __name__ == "__main__":
    main()

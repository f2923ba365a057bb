"""Cookbook "Result List": what a joint fit gives back, dataset by dataset.

Three 1D Gaussians share their centre (50) and have their own normalization and sigma
(40/10, 60/20, 80/30); the factors are named ``narrow``, ``medium`` and ``wide``.  After one
joint NUTS fit the script indexes the result list by position and name, prints each dataset's
parameters, instances and the convergence table, and writes a fit plot per dataset, all
datasets in one figure, and a posterior predictive check of one dataset.

Run from the repository root::

    python examples/result_list.py

The plots are written to ``examples/output/result_list/``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import arviz as az
import matplotlib.pyplot as plt

import graphfit as gf

OUTPUT = Path(__file__).resolve().parent / "output" / "result_list"
NAMES = ("narrow", "medium", "wide")
#: (normalization, sigma) of each dataset; all have centre 50.
TRUTHS = ((40.0, 10.0), (60.0, 20.0), (80.0, 30.0))


def main(random_seed: int = 3) -> gf.ResultList:
    """Simulate, fit jointly, print the per-dataset results and save the plots."""
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)

    analysis_factor_list = []
    for seed, (name, (normalization, sigma)) in enumerate(zip(NAMES, TRUTHS, strict=True)):
        data, noise_map = gf.ex.simulate_gaussian_dataset(
            centre=50.0, normalization=normalization, sigma=sigma, seed=30 + seed
        )
        model_analysis = model.copy()
        model_analysis.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e3)
        model_analysis.sigma = gf.UniformPrior(lower_limit=0.0, upper_limit=50.0)
        analysis = gf.ex.Analysis(data=data, noise_map=noise_map)
        analysis_factor_list.append(
            gf.AnalysisFactor(prior_model=model_analysis, analysis=analysis, name=name)
        )
    factor_graph = gf.FactorGraphModel(*analysis_factor_list)

    search = gf.NUTS(random_seed=random_seed, progressbar=False)
    result_list = search.fit(model=factor_graph.global_prior_model, analysis=factor_graph)

    # Index by position or by name; each result is one dataset's view of the joint posterior.
    print(result_list.names, result_list[0] is result_list["narrow"])
    for result in result_list:
        print(f"{result.name}: {list(result.idata.posterior.data_vars)}")
        print("  max log-likelihood:", result.max_log_likelihood_instance)
        print("  median PDF:        ", result.median_pdf_instance)
    print()
    print(result_list.diagnostics.table)
    print()
    print(az.summary(result_list["narrow"].idata, kind="stats"))

    OUTPUT.mkdir(parents=True, exist_ok=True)
    for path in result_list.save_plots(OUTPUT):
        print(f"fit plot: {path}")
    figure = result_list.plot_fits()
    figure.savefig(OUTPUT / "all_datasets.png", dpi=100)
    plt.close(figure)

    figure = result_list["narrow"].plot_ppc(num_samples=100)
    figure.savefig(OUTPUT / "ppc_narrow.png", dpi=100)
    plt.close(figure)
    print(f"plots in {OUTPUT}")
    return result_list


if __name__ == "__main__":
    main()

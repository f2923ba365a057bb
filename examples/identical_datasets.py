"""Cookbook "Model Fit": one Gaussian model fitted jointly to three identical datasets.

The three datasets hold the same 1D Gaussian (centre 50, normalization 25, sigma 10) with
different noise realisations, simulated with seeds 0, 1 and 2.  Every ``AnalysisFactor`` gets the
same ``gf.Model``, so its three priors are three parameters shared by all datasets.

Run from the repository root::

    python examples/identical_datasets.py

The fit plot is written to ``examples/output/identical_datasets.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import graphfit as gf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _plotting import save_fit_plot

#: True values of the simulated signal, by posterior variable name.
TRUTH = {"centre": 50.0, "normalization": 25.0, "sigma": 10.0}
SEEDS = (0, 1, 2)


def main(random_seed: int = 1) -> gf.ResultList:
    """Simulate the datasets, fit them jointly with NUTS, print and plot the results."""
    data_list, noise_map_list = [], []
    for seed in SEEDS:
        data, noise_map = gf.ex.simulate_gaussian_dataset(**TRUTH, seed=seed)
        data_list.append(data)
        noise_map_list.append(noise_map)

    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    model.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2)
    model.sigma = gf.GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=np.inf)

    analysis_list = [
        gf.ex.Analysis(data=data, noise_map=noise_map)
        for data, noise_map in zip(data_list, noise_map_list, strict=True)
    ]
    analysis_factor_list = [
        gf.AnalysisFactor(prior_model=model, analysis=analysis) for analysis in analysis_list
    ]
    factor_graph = gf.FactorGraphModel(*analysis_factor_list)
    print(factor_graph.global_prior_model.info)

    search = gf.NUTS(random_seed=random_seed, progressbar=False)
    result_list = search.fit(model=factor_graph.global_prior_model, analysis=factor_graph)

    # The model is shared, so every result holds the same max-log-likelihood instance.
    print(result_list[0].max_log_likelihood_instance)
    print(result_list[1].max_log_likelihood_instance)
    print(result_list[2].max_log_likelihood_instance)
    print()
    print(result_list.diagnostics.table)
    print()
    print(result_list[0].summary(kind="stats"))

    save_fit_plot(result_list, "identical_datasets.png", "Identical datasets, one model")
    return result_list


if __name__ == "__main__":
    main()

"""Cookbook "Relational Model": sigma follows ``sigma = sigma_m * x + sigma_c`` across datasets.

Three datasets of a 1D Gaussian share centre (50) and normalization (50); their sigma is
``5 * x + 3`` for x = 1, 2, 3 (8, 13, 18).  The model gives each dataset's ``gaussian.sigma`` the
relation ``sigma_m * x + sigma_c`` of two shared priors, so the model has 4 free parameters however
many datasets are added.  Each relation is compiled to a ``pm.Deterministic``.

Run from the repository root::

    python examples/relational_model.py

The fit plot is written to ``examples/output/relational_model.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import graphfit as gf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _plotting import save_fit_plot

#: True values of the simulated signal, by posterior variable name.
TRUTH = {
    "gaussian.centre": 50.0,
    "gaussian.normalization": 50.0,
    "sigma_m": 5.0,
    "sigma_c": 3.0,
}
X_LIST = (1.0, 2.0, 3.0)
SEEDS = (20, 21, 22)


def main(random_seed: int = 3) -> gf.ResultList:
    """Simulate the datasets, fit the relational model with NUTS, print and plot the results."""
    analysis_list = []
    for x, seed in zip(X_LIST, SEEDS, strict=True):
        data, noise_map = gf.ex.simulate_gaussian_dataset(
            centre=TRUTH["gaussian.centre"],
            normalization=TRUTH["gaussian.normalization"],
            sigma=TRUTH["sigma_m"] * x + TRUTH["sigma_c"],
            seed=seed,
        )
        analysis_list.append(gf.ex.Analysis(data=data, noise_map=noise_map))

    model = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian))
    sigma_m = gf.UniformPrior(lower_limit=-10.0, upper_limit=10.0, name="sigma_m")
    sigma_c = gf.UniformPrior(lower_limit=-10.0, upper_limit=10.0, name="sigma_c")

    analysis_factor_list = []
    for x, analysis in zip(X_LIST, analysis_list, strict=True):
        sigma_relation = (sigma_m * x) + sigma_c
        model_analysis = model.copy()
        model_analysis.gaussian.sigma = sigma_relation
        analysis_factor_list.append(
            gf.AnalysisFactor(prior_model=model_analysis, analysis=analysis)
        )

    factor_graph = gf.FactorGraphModel(*analysis_factor_list)
    print(factor_graph.global_prior_model.info)

    search = gf.NUTS(random_seed=random_seed, progressbar=False)
    result_list = search.fit(model=factor_graph.global_prior_model, analysis=factor_graph)

    # Each result's sigma follows the relation: at the max-log-likelihood sample, whose
    # sigma_m and sigma_c are shown, and in every posterior draw.
    chain, draw = result_list.max_log_likelihood_index
    for x, result in zip(X_LIST, result_list, strict=True):
        instance = result.max_log_likelihood_instance
        posterior = result.idata.posterior
        m = float(posterior["sigma_m"][chain, draw])
        c = float(posterior["sigma_c"][chain, draw])
        follows = np.allclose(
            posterior["gaussian.sigma"], posterior["sigma_m"] * x + posterior["sigma_c"]
        )
        print("Max Log Likelihood Model:", result.name)
        print("Centre = ", instance.gaussian.centre)
        print("Normalization = ", instance.gaussian.normalization)
        print("Sigma = ", instance.gaussian.sigma)
        print(f"sigma_m * x + sigma_c = {m:.4f} * {x} + {c:.4f} = {m * x + c:.4f}")
        print("sigma == sigma_m * x + sigma_c in every draw:", follows)
        print()
    print(result_list.diagnostics.table)
    print()
    print(result_list.summary(var_names=list(TRUTH), kind="stats"))

    save_fit_plot(result_list, "relational_model.png", "sigma = sigma_m * x + sigma_c")
    return result_list


if __name__ == "__main__":
    main()

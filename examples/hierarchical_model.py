"""Hierarchical model: ten datasets whose centres are drawn from one population.

Each dataset is a 1D Gaussian of known width and normalization whose centre is drawn from
Normal(50, 10).  A ``gf.HierarchicalFactor`` declares that population, with hyperpriors on its
mean and sigma; every dataset's ``centre`` is added as a drawn variable, so its own prior is
replaced by the population.  The fit returns each centre and the population's mean and sigma.
Run as a script, it fits the ten datasets again with profiles ten times fainter (a peak
signal-to-noise of 1 per pixel), where the centres are marginalised over a grid.

Run from the repository root::

    python examples/hierarchical_model.py

The fit plot is written to ``examples/output/hierarchical_model.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import graphfit as gf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _plotting import save_fit_plot

POPULATION_MEAN, POPULATION_SIGMA = 50.0, 10.0
NORMALIZATION, SIGMA = 1.5, 5.0


def main(random_seed: int = 1, normalization: float = NORMALIZATION) -> gf.ResultList:
    """Simulate ten datasets, fit the hierarchical model with NUTS, print and plot the results."""
    centres = np.random.default_rng(5).normal(POPULATION_MEAN, POPULATION_SIGMA, 10)
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.UniformPrior(lower_limit=0.0, upper_limit=100.0),
        sigma=gf.UniformPrior(lower_limit=0.0, upper_limit=50.0),
    )
    analysis_factor_list = []
    for k, centre in enumerate(centres):
        data, noise_map = gf.ex.simulate_gaussian_dataset(
            centre=centre, normalization=normalization, sigma=SIGMA, seed=300 + k
        )
        model = gf.Model(gf.ex.Gaussian, normalization=normalization, sigma=SIGMA)
        population.add_drawn_variable(model.centre)
        analysis = gf.ex.Analysis(data=data, noise_map=noise_map)
        analysis_factor_list.append(gf.AnalysisFactor(prior_model=model, analysis=analysis))

    factor_graph = gf.FactorGraphModel(*analysis_factor_list, population)
    print(factor_graph.global_prior_model.info)
    print(f"population parametrised as: {population.resolved_parametrization}")

    # weak data: the population's sigma is sampled at about a sixth of the draws' worth, so
    # twice the draws keep its R-hat clear of 1.01 (docs/tutorials/hierarchical_model.md)
    draws = 1000 if normalization == NORMALIZATION else 2000
    search = gf.NUTS(draws=draws, random_seed=random_seed, progressbar=False)
    result_list = search.fit(model=factor_graph.global_prior_model, analysis=factor_graph)

    posterior = result_list.population
    for name, truth in (("mean", POPULATION_MEAN), ("sigma", POPULATION_SIGMA)):
        low, high = np.quantile(posterior[name].values, [0.025, 0.975])
        print(f"population {name}: 95% interval [{low:.2f}, {high:.2f}] (truth {truth})")
    for result, centre in zip(result_list, centres, strict=True):
        draws = result.idata.posterior["centre"]
        print(
            f"{result.name}: centre {float(draws.mean()):.2f} +- {float(draws.std()):.2f}"
            f" (truth {centre:.2f})"
        )
    print(result_list.diagnostics.table.loc[["hierarchical_0.mean", "hierarchical_0.sigma"]])

    if normalization == NORMALIZATION:
        save_fit_plot(result_list, "hierarchical_model.png", "Centres drawn from one population")
    return result_list


if __name__ == "__main__":
    main()
    # ten times fainter profiles (peak signal-to-noise 1 per pixel): the centres are marginalised
    main(normalization=0.5)

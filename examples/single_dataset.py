"""Fit one dataset: ``search.fit(model=model, analysis=analysis)`` returns a single ``gf.Result``.

One 1D Gaussian (centre 50, normalization 25, sigma 10), simulated with seed 0, fitted by a
``gf.Model`` with the cookbook's priors.  Without a factor graph there is no result list: the
search returns the ``Result`` of the one dataset.

Run from the repository root::

    python examples/single_dataset.py

The fit plot is written to ``examples/output/single_dataset.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import arviz as az
import numpy as np

import graphfit as gf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _plotting import save_fit_plot


def main(random_seed: int = 4) -> gf.Result:
    """Simulate one dataset, fit it with NUTS, print and plot the result."""
    data, noise_map = gf.ex.simulate_gaussian_dataset(
        centre=50.0, normalization=25.0, sigma=10.0, seed=0
    )
    analysis = gf.ex.Analysis(data=data, noise_map=noise_map)

    model = gf.Model(
        gf.ex.Gaussian,
        centre=gf.UniformPrior(lower_limit=0.0, upper_limit=100.0),
        normalization=gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2),
        sigma=gf.GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=np.inf),
    )
    print(model.info)

    search = gf.NUTS(random_seed=random_seed, progressbar=False)
    result = search.fit(model=model, analysis=analysis)

    instance = result.max_log_likelihood_instance
    print("Max Log Likelihood Model:")
    print("Centre = ", instance.centre)
    print("Normalization = ", instance.normalization)
    print("Sigma = ", instance.sigma)
    print()
    print(az.summary(result.idata).to_string())

    save_fit_plot([result], "single_dataset.png", "Single dataset")
    return result


if __name__ == "__main__":
    main()

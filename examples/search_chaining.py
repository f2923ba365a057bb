"""Search chaining: a fast ``gf.MAP`` fit into ``gf.NUTS`` through ``result.model``.

A broad Gaussian (centre 40, normalization 25, sigma 8) and a narrow exponential (centre 75,
normalization 6, rate 0.4), simulated with seed 3, fitted in three stages, as in the tutorial
"Search chaining":

1. the Gaussian alone, with ``gf.MAP``;
2. the Gaussian and the exponential, with ``gf.MAP``: the Gaussian's priors are taken from stage
   1's ``result.model`` (``model.take_attributes``);
3. the same model with ``gf.NUTS``, on stage 2's ``result.model``.

Run from the repository root::

    python examples/search_chaining.py

The fit plot is written to ``examples/output/search_chaining.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import arviz as az

import graphfit as gf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _plotting import save_fit_plot


def main(random_seed: int = 4) -> gf.Result:
    """Fit the dataset in three stages; print and plot the last."""
    data, noise_map = gf.ex.simulate_dataset(
        [
            gf.ex.Gaussian(centre=40.0, normalization=25.0, sigma=8.0),
            gf.ex.Exponential(centre=75.0, normalization=6.0, rate=0.4),
        ],
        seed=3,
    )
    analysis = gf.ex.Analysis(data=data, noise_map=noise_map)

    model_1 = gf.Collection(
        gaussian=gf.Model(
            gf.ex.Gaussian,
            centre=gf.UniformPrior(lower_limit=0.0, upper_limit=100.0),
            normalization=gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2),
            sigma=gf.UniformPrior(lower_limit=0.0, upper_limit=25.0),
        )
    )
    result_1 = gf.MAP(random_seed=1).fit(model=model_1, analysis=analysis)
    print(result_1.model.info)

    model_2 = gf.Collection(
        gaussian=gf.ex.Gaussian,
        exponential=gf.Model(
            gf.ex.Exponential,
            centre=gf.UniformPrior(lower_limit=0.0, upper_limit=100.0),
            normalization=gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2),
            rate=gf.UniformPrior(lower_limit=0.0, upper_limit=1.0),
        ),
    )
    model_2.take_attributes(result_1.model)
    result_2 = gf.MAP(random_seed=1).fit(model=model_2, analysis=analysis)

    search = gf.NUTS(random_seed=random_seed, progressbar=False)
    result_3 = search.fit(model=result_2.model, analysis=analysis)
    print(result_3.info)
    print(az.summary(result_3.idata).to_string())

    save_fit_plot([result_3], "search_chaining.png", "Search chaining")
    return result_3


if __name__ == "__main__":
    main()

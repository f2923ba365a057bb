"""Your own component and analysis: numpy code as written for PyAutoFit, with ``xp``, and as a
black box.

One 1D Gaussian (centre 50, normalization 25, sigma 10), simulated with seed 0, fitted three
ways, as in the tutorial "Your own model and analysis":

1. numpy code with PyAutoFit's signatures (``model_data_from(self, xvalues)``,
   ``log_likelihood_function(self, instance)``): ``np.sum`` cannot sum a symbolic parameter, so
   the likelihood runs as numpy code with finite-difference gradients and a
   ``gf.NumpyLikelihoodWarning`` says so (fitted here with ``gf.MAP``);
2. the same code written with the array namespace ``xp``: compiled, with exact gradients
   (fitted with ``gf.NUTS``);
3. the numpy analysis with ``black_box = True``: no gradient (fitted with ``gf.MAP``, which
   then optimises without gradients).

Run from the repository root::

    python examples/own_code.py

The fit plot is written to ``examples/output/own_code.png``.  ``benchmarks/own_code.py`` times
the three paths with ``gf.NUTS()``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import arviz as az
import matplotlib.pyplot as plt
import numpy as np

import graphfit as gf

OUTPUT = Path(__file__).resolve().parent / "output"


class Gaussian:
    """A profile written with numpy calls on its parameters, as in PyAutoFit."""

    def __init__(self, centre=30.0, normalization=1.0, sigma=5.0):
        self.centre = centre
        self.normalization = normalization
        self.sigma = sigma

    def model_data_from(self, xvalues):
        peak = np.divide(self.normalization, self.sigma * np.sqrt(2.0 * np.pi))
        return peak * np.exp(-0.5 * np.square(np.divide(xvalues - self.centre, self.sigma)))


class Analysis(gf.Analysis):
    """PyAutoFit's signature, ``log_likelihood_function(self, instance)``, in numpy."""

    def __init__(self, data, noise_map):
        self.data = data
        self.noise_map = noise_map

    def log_likelihood_function(self, instance):
        model_data = instance.model_data_from(xvalues=np.arange(self.data.shape[0]))
        chi_squared = np.sum(((self.data - model_data) / self.noise_map) ** 2)
        return -0.5 * (chi_squared + np.sum(np.log(2.0 * np.pi * self.noise_map**2)))


class GaussianXp:
    """The same profile with the array namespace ``xp``."""

    def __init__(self, centre=30.0, normalization=1.0, sigma=5.0):
        self.centre = centre
        self.normalization = normalization
        self.sigma = sigma

    def model_data_from(self, xvalues, xp=np):
        peak = self.normalization / (self.sigma * xp.sqrt(2.0 * xp.pi))
        return peak * xp.exp(-0.5 * ((xp.asarray(xvalues) - self.centre) / self.sigma) ** 2)


class AnalysisXp(gf.Analysis):
    """The same likelihood with the array namespace ``xp``."""

    def __init__(self, data, noise_map):
        self.data = data
        self.noise_map = noise_map

    def log_likelihood_function(self, instance, xp=np):
        model_data = instance.model_data_from(np.arange(self.data.shape[0]), xp)
        chi_squared = xp.sum(((self.data - model_data) / self.noise_map) ** 2)
        return -0.5 * (chi_squared + np.sum(np.log(2.0 * np.pi * self.noise_map**2)))


class LegacyAnalysis(Analysis):
    """The numpy analysis as a black box: called with numbers only, no gradient."""

    black_box = True


def priors() -> dict[str, gf.Prior]:
    return {
        "centre": gf.UniformPrior(lower_limit=0.0, upper_limit=100.0),
        "normalization": gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2),
        "sigma": gf.UniformPrior(lower_limit=0.0, upper_limit=25.0),
    }


def main(random_seed: int = 4) -> dict[str, gf.Result]:
    """Fit the dataset three ways, print the results and plot them."""
    data, noise_map = gf.ex.simulate_gaussian_dataset(
        centre=50.0, normalization=25.0, sigma=10.0, seed=0
    )
    results = {
        "numpy, MAP": gf.MAP(random_seed=1).fit(
            model=gf.Model(Gaussian, **priors()), analysis=Analysis(data, noise_map)
        ),
        "xp, NUTS": gf.NUTS(random_seed=random_seed, progressbar=False).fit(
            model=gf.Model(GaussianXp, **priors()), analysis=AnalysisXp(data, noise_map)
        ),
        "black box, MAP": gf.MAP(random_seed=1).fit(
            model=gf.Model(Gaussian, **priors()), analysis=LegacyAnalysis(data, noise_map)
        ),
    }
    for label, result in results.items():
        print(f"{label}: {result.instance.__dict__}")
    print(az.summary(results["xp, NUTS"].idata).to_string())

    xvalues = np.arange(data.shape[0])
    figure = gf.ex.plot_profile_1d(
        xvalues, data, noise_map=noise_map, title="One dataset, three paths"
    )
    ax = figure.axes[0]
    for (label, result), style in zip(results.items(), ("--", "-", ":"), strict=True):
        ax.plot(xvalues, result.instance.model_data_from(xvalues), style, label=label)
    ax.legend(loc="upper left")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / "own_code.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"fit plot: {path}")
    return results


if __name__ == "__main__":
    main()

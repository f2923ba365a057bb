"""Example components, analysis, plots and data simulation (``gf.ex``)."""

from graphfit.ex.analysis import Analysis
from graphfit.ex.components import Exponential, Gaussian
from graphfit.ex.plot import plot_profile_1d
from graphfit.ex.simulate import simulate_dataset, simulate_gaussian_dataset

__all__ = [
    "Analysis",
    "Exponential",
    "Gaussian",
    "plot_profile_1d",
    "simulate_dataset",
    "simulate_gaussian_dataset",
]

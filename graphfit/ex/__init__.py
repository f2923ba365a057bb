"""Example components, analyses, plots and data simulation (``gf.ex``)."""

from graphfit.ex.analysis import Analysis, HistogramAnalysis, ImagingAnalysis, RobustAnalysis
from graphfit.ex.components import Exponential, Gaussian, Gaussian2D
from graphfit.ex.plot import plot_profile_1d
from graphfit.ex.simulate import (
    simulate_dataset,
    simulate_gaussian_dataset,
    simulate_histogram,
    simulate_image,
)

__all__ = [
    "Analysis",
    "Exponential",
    "Gaussian",
    "Gaussian2D",
    "HistogramAnalysis",
    "ImagingAnalysis",
    "RobustAnalysis",
    "plot_profile_1d",
    "simulate_dataset",
    "simulate_gaussian_dataset",
    "simulate_histogram",
    "simulate_image",
]

"""The example analysis: a 1D profile with Gaussian noise."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphfit.analysis import Analysis as _AnalysisBase
from graphfit.observations import GaussianObservation, check_data, check_noise_map

__all__ = ["Analysis"]


class Analysis(_AnalysisBase):
    """Fit 1D data with Gaussian noise by a component or the sum of a Collection's components.

    The x values are ``arange(len(data))``.  The likelihood is a real PyMC ``Normal`` node with
    the noise map as its standard deviation (full Gaussian likelihood, normalisation included).

    Parameters
    ----------
    data
        1D array of measured values.
    noise_map
        1D array of their standard deviations, same length, all ``> 0``.

    Raises
    ------
    DataError
        On data and noise map of different lengths, NaN or inf values, or noise ``<= 0``.

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> analysis = gf.ex.Analysis(data=data, noise_map=noise_map)
    >>> analysis.xvalues[:3]
    array([0., 1., 2.])
    """

    def __init__(self, data: Any, noise_map: Any) -> None:
        self.data = check_data(data, field="data", owner="ex.Analysis")
        if self.data.ndim != 1:
            from graphfit.exceptions import DataError

            raise DataError(f"ex.Analysis: data must be 1D, got shape {self.data.shape}.")
        self.noise_map = check_noise_map(noise_map, self.data, owner="ex.Analysis")
        self.xvalues = np.arange(self.data.shape[0], dtype=float)

    def model_data_from(self, instance: Any, xp: Any = np) -> Any:
        """The model's prediction of the data: a component's profile, or the sum over a
        Collection's components."""
        if hasattr(instance, "model_data_from"):
            return instance.model_data_from(self.xvalues, xp=xp)
        total = 0.0
        for component in instance:
            if hasattr(component, "model_data_from"):
                total = total + component.model_data_from(self.xvalues, xp=xp)
        return total

    def vectorize_key(self) -> Any:
        """Analyses of data with the same length can be stacked (x is ``arange(len(data))``)."""
        return (type(self), self.data.shape)

    def observation(self, instance: Any, xp: Any = np) -> GaussianObservation:
        return GaussianObservation(
            model_data=self.model_data_from(instance, xp),
            data=self.data,
            noise_map=self.noise_map,
            dims=("x",),
        )

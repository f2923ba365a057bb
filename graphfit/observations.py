"""Observations: how an analysis declares a real observed node of the PyMC model.

An :class:`~graphfit.analysis.Analysis` whose ``observation`` method returns one of these gets a
genuine PyMC likelihood node (``pm.Normal(..., observed=data)``), so PyMC itself provides the
pointwise log-likelihood and posterior predictive draws.  The log-likelihood is the full one,
normalisation term included.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphfit.exceptions import DataError

__all__ = ["GaussianObservation", "Observation", "check_data", "check_noise_map"]

_LOG_2PI = float(np.log(2.0 * np.pi))


def check_data(data: Any, *, field: str = "data", owner: str = "Analysis") -> np.ndarray:
    """Return ``data`` as a float array, raising :class:`DataError` on NaN, inf or no values.

    Examples
    --------
    >>> from graphfit.observations import check_data
    >>> check_data([1.0, 2.0]).dtype
    dtype('float64')
    """
    try:
        array = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as error:
        raise DataError(f"{owner}: {field} could not be read as numbers ({error}).") from None
    if array.size == 0:
        raise DataError(f"{owner}: {field} is empty; give at least one value.")
    bad = ~np.isfinite(array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = index[0] if len(index) == 1 else index
        raise DataError(
            f"{owner}: {field} has {int(bad.sum())} NaN or inf value(s), the first at index "
            f"{where} ({float(array[index])!r}); all values must be finite. Mask or remove them."
        )
    return array


def check_noise_map(
    noise_map: Any, data: np.ndarray, *, field: str = "noise_map", owner: str = "Analysis"
) -> np.ndarray:
    """Check a noise map (standard deviations) against its data and return it as floats.

    Raises
    ------
    DataError
        On a shape different from the data's, NaN or inf, or a value ``<= 0``.
    """
    noise = check_data(noise_map, field=field, owner=owner)
    if noise.shape != data.shape:
        raise DataError(
            f"{owner}: data has shape {data.shape} but {field} has shape {noise.shape}; "
            "they must have the same shape (one noise value per data point)."
        )
    bad = noise <= 0.0
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = index[0] if len(index) == 1 else index
        raise DataError(
            f"{owner}: {field} has {int(bad.sum())} value(s) <= 0, the first at index {where} "
            f"({float(noise[index])!r}); a noise map holds standard deviations, which must be > 0."
        )
    return noise


class Observation:
    """Base class of observed-node declarations.

    Examples
    --------
    >>> import graphfit as gf
    >>> issubclass(gf.GaussianObservation, gf.Observation)
    True
    >>> gf.GaussianObservation.distribution
    'Normal'
    """

    #: Name of the PyMC distribution the compiler uses.
    distribution: str = ""

    def log_likelihood(self, xp: Any = np) -> Any:
        """Pointwise log-likelihood computed with namespace ``xp``."""
        raise NotImplementedError


class GaussianObservation(Observation):
    """Data with independent Gaussian noise of known standard deviation (a noise map).

    ``log L = sum(-0.5 * ((data - model_data) / noise_map)**2 - log(noise_map) - 0.5 * log(2 pi))``

    Parameters
    ----------
    model_data
        The model's prediction of ``data`` (array or tensor of the same shape).
    data
        Observed values.
    noise_map
        Standard deviation of each value, ``> 0``.
    dims
        Optional names of the data's dimensions (e.g. ``("x",)``); default ``obs_dim_0``, ...

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> obs = gf.GaussianObservation(np.zeros(2), np.zeros(2), np.ones(2))
    >>> round(float(obs.log_likelihood().sum()), 4)
    -1.8379
    """

    distribution = "Normal"

    def __init__(
        self,
        model_data: Any,
        data: Any,
        noise_map: Any,
        dims: tuple[str, ...] | None = None,
    ) -> None:
        self.model_data = model_data
        self.data = np.asarray(data, dtype=float)
        self.noise_map = np.asarray(noise_map, dtype=float)
        if self.noise_map.shape != self.data.shape:
            raise DataError(
                f"GaussianObservation: data has shape {self.data.shape} but noise_map has shape "
                f"{self.noise_map.shape}; they must match."
            )
        self.dims = tuple(dims) if dims is not None else None

    def log_likelihood(self, xp: Any = np) -> Any:
        residual = (self.model_data - self.data) / self.noise_map
        return -0.5 * residual**2 - np.log(self.noise_map) - 0.5 * _LOG_2PI

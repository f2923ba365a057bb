"""The log-normal prior."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphfit.exceptions import PriorError
from graphfit.spec.priors.base import PopulationFamily, Prior, PyMCForm, check_number

__all__ = ["LogGaussianPrior"]


class LogGaussianPrior(Prior):
    """Log-normal prior: ``log x`` is Gaussian with ``mean`` and ``sigma``; compiles to
    ``pm.LogNormal(mu=mean, sigma=sigma)``.

    Parameters
    ----------
    mean
        Mean of ``log x``.
    sigma
        Standard deviation of ``log x``, ``> 0``.

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.LogGaussianPrior(mean=0.0, sigma=1.0)
    LogGaussianPrior(mean=0.0, sigma=1.0)
    """

    __slots__ = ("mean", "sigma")
    arguments = ("mean", "sigma")
    population_family = PopulationFamily("gaussian", required=("mean", "sigma"), log=True)

    def __init__(self, mean: float = 0.0, sigma: float = 1.0, *, name: str | None = None) -> None:
        kind = type(self).__name__
        self.mean = check_number(kind, "mean", mean)
        self.sigma = check_number(kind, "sigma", sigma)
        if self.sigma <= 0.0:
            raise PriorError(f"{kind}: sigma = {self.sigma!r} must be > 0.")
        super().__init__(name=name)

    def pymc_form(self) -> PyMCForm:
        return PyMCForm("LogNormal", {"mu": self.mean, "sigma": self.sigma})

    @classmethod
    def ppf(cls, q: Any, mean: Any = 0.0, sigma: Any = 1.0) -> Any:
        from scipy.special import ndtri

        return np.exp(mean + sigma * ndtri(np.asarray(q, dtype=float)))

    def median(self) -> float:
        return math.exp(self.mean)

    def support(self) -> tuple[float, float]:
        return 0.0, math.inf

    def logpdf(self, x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            log_x = np.log(x)
            value = -0.5 * ((log_x - self.mean) / self.sigma) ** 2 - log_x
        return np.where(x > 0, value - math.log(self.sigma * math.sqrt(2.0 * math.pi)), -np.inf)

"""Example model components: 1D profiles written with an array namespace ``xp``."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from graphfit.priors import LogUniformPrior, Prior, UniformPrior

__all__ = ["Exponential", "Gaussian"]


class Gaussian:
    """A 1D Gaussian profile whose ``normalization`` is its area.

    ``normalization / (sigma * sqrt(2 pi)) * exp(-0.5 * ((x - centre) / sigma)**2)``

    Parameters
    ----------
    centre
        Position of the peak on the x axis.
    normalization
        Area under the profile.
    sigma
        Width (standard deviation).

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> profile = gf.ex.Gaussian(centre=50.0, normalization=25.0, sigma=10.0)
    >>> round(float(profile.model_data_from(np.array([50.0]))[0]), 4)
    0.9974
    """

    default_priors: ClassVar[dict[str, Prior]] = {
        "centre": UniformPrior(lower_limit=0.0, upper_limit=100.0),
        "normalization": LogUniformPrior(lower_limit=1e-6, upper_limit=1e6),
        "sigma": UniformPrior(lower_limit=0.0, upper_limit=25.0),
    }

    def __init__(self, centre: float = 30.0, normalization: float = 1.0, sigma: float = 5.0):
        self.centre = centre
        self.normalization = normalization
        self.sigma = sigma

    def model_data_from(self, xvalues: Any, xp: Any = np) -> Any:
        """The profile at ``xvalues``, computed with array namespace ``xp``."""
        transformed = xp.asarray(xvalues) - self.centre
        return (self.normalization / (self.sigma * xp.sqrt(2.0 * xp.pi))) * xp.exp(
            -0.5 * (transformed / self.sigma) ** 2
        )

    def __repr__(self) -> str:
        return (
            f"Gaussian(centre={self.centre!r}, normalization={self.normalization!r}, "
            f"sigma={self.sigma!r})"
        )


class Exponential:
    """A 1D two-sided exponential profile whose ``normalization`` is its area.

    ``normalization * rate / 2 * exp(-rate * |x - centre|)``

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> profile = gf.ex.Exponential(centre=50.0, normalization=20.0, rate=0.1)
    >>> round(float(profile.model_data_from(np.array([50.0]))[0]), 4)
    1.0
    """

    default_priors: ClassVar[dict[str, Prior]] = {
        "centre": UniformPrior(lower_limit=0.0, upper_limit=100.0),
        "normalization": LogUniformPrior(lower_limit=1e-6, upper_limit=1e6),
        "rate": UniformPrior(lower_limit=0.0, upper_limit=10.0),
    }

    def __init__(self, centre: float = 30.0, normalization: float = 1.0, rate: float = 0.01):
        self.centre = centre
        self.normalization = normalization
        self.rate = rate

    def model_data_from(self, xvalues: Any, xp: Any = np) -> Any:
        """The profile at ``xvalues``, computed with array namespace ``xp``."""
        transformed = xp.asarray(xvalues) - self.centre
        return self.normalization * self.rate * 0.5 * xp.exp(-self.rate * xp.abs(transformed))

    def __repr__(self) -> str:
        return (
            f"Exponential(centre={self.centre!r}, normalization={self.normalization!r}, "
            f"rate={self.rate!r})"
        )

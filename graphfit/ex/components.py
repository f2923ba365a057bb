"""Example model components: 1D profiles and a 2D image written with an array namespace ``xp``."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from graphfit.spec.priors import LogUniformPrior, Prior, UniformPrior

__all__ = ["Exponential", "Gaussian", "Gaussian2D"]


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


class Gaussian2D:
    """A circular 2D Gaussian whose ``normalization`` is its volume (total flux).

    ``normalization / (2 pi sigma**2) * exp(-0.5 * r**2 / sigma**2)`` with
    ``r**2 = (x - centre_x)**2 + (y - centre_y)**2``

    Parameters
    ----------
    centre_x, centre_y
        Position of the peak.
    normalization
        Volume under the image.
    sigma
        Width (standard deviation along each axis).

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> blob = gf.ex.Gaussian2D(centre_x=5.0, centre_y=5.0, normalization=100.0, sigma=2.0)
    >>> y, x = np.mgrid[0:11, 0:11].astype(float)
    >>> image = blob.image_from(x, y)
    >>> image.shape, round(float(image.sum()), 2)
    ((11, 11), 98.91)
    """

    default_priors: ClassVar[dict[str, Prior]] = {
        "centre_x": UniformPrior(lower_limit=0.0, upper_limit=100.0),
        "centre_y": UniformPrior(lower_limit=0.0, upper_limit=100.0),
        "normalization": LogUniformPrior(lower_limit=1e-6, upper_limit=1e6),
        "sigma": UniformPrior(lower_limit=0.0, upper_limit=25.0),
    }

    def __init__(
        self,
        centre_x: float = 0.0,
        centre_y: float = 0.0,
        normalization: float = 1.0,
        sigma: float = 1.0,
    ):
        self.centre_x = centre_x
        self.centre_y = centre_y
        self.normalization = normalization
        self.sigma = sigma

    def image_from(self, x_grid: Any, y_grid: Any, xp: Any = np) -> Any:
        """The image at pixel coordinates ``x_grid``, ``y_grid``, computed with namespace ``xp``."""
        dx = xp.asarray(x_grid) - self.centre_x
        dy = xp.asarray(y_grid) - self.centre_y
        radius2 = (dx**2 + dy**2) / self.sigma**2
        return self.normalization / (2.0 * xp.pi * self.sigma**2) * xp.exp(-0.5 * radius2)

    def __repr__(self) -> str:
        return (
            f"Gaussian2D(centre_x={self.centre_x!r}, centre_y={self.centre_y!r}, "
            f"normalization={self.normalization!r}, sigma={self.sigma!r})"
        )

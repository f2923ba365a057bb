"""Priors: the free parameters of a model.

A prior object *is* a parameter: using the same object in two places makes one shared parameter,
and every new prior object is a new parameter.  Priors hold numbers only; the compiler
(:mod:`graphfit.backend.variables`) turns them into PyMC random variables.

==========================  ============================================================
graphfit                    PyMC distribution it compiles to
==========================  ============================================================
``UniformPrior``            ``pm.Uniform(lower, upper)``
``LogUniformPrior``         density proportional to ``1/x`` on ``[lower, upper]`` (sampled
                            as a uniform in ``log x``)
``GaussianPrior``           ``pm.Normal``, or ``pm.TruncatedNormal`` when a limit is finite
``TruncatedGaussianPrior``  ``pm.TruncatedNormal(mu, sigma, lower, upper)``
``LogGaussianPrior``        ``pm.LogNormal(mu=mean, sigma=sigma)``: ``log x ~ Normal``
==========================  ============================================================
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from graphfit.exceptions import PriorError, check_name
from graphfit.spec.relations import Expression

__all__ = [
    "GaussianPrior",
    "LogGaussianPrior",
    "LogUniformPrior",
    "Prior",
    "TruncatedGaussianPrior",
    "UniformPrior",
]

_ids = itertools.count()


def _number(prior: str, field: str, value: Any, *, allow_inf: bool = False) -> float:
    """Validate one numeric prior argument and return it as a float."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise PriorError(
            f"{prior}: {field} must be a real number, got {value!r} of type {type(value).__name__}."
        )
    value = float(value)
    if math.isnan(value):
        raise PriorError(f"{prior}: {field} is NaN; it must be a real number.")
    if math.isinf(value) and not allow_inf:
        raise PriorError(f"{prior}: {field} = {value} is not finite; it must be a finite number.")
    return value


def _limits(prior: str, lower: float, upper: float) -> None:
    if not lower < upper:
        raise PriorError(
            f"{prior}: lower_limit = {lower!r} must be smaller than upper_limit = {upper!r}; "
            "swap them or widen the range."
        )


class Prior(Expression):
    """Base class of all priors.

    Subclasses set ``arguments``, the names of their constructor arguments, in order.

    Parameters
    ----------
    name
        Optional name of the parameter in the compiled PyMC model and the posterior.  Without
        one, a prior is named by the model path where it is used (``centre``,
        ``gaussian.sigma``).

    Examples
    --------
    >>> import graphfit as gf
    >>> prior = gf.UniformPrior(lower_limit=0.0, upper_limit=1.0, name="p")
    >>> isinstance(prior, gf.Prior), prior.values
    (True, {'lower_limit': 0.0, 'upper_limit': 1.0})
    >>> prior.new() is prior  # same kind and arguments, but a new parameter
    False
    """

    __slots__ = ("id", "name")
    arguments: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, name: str | None = None) -> None:
        check_name(type(self).__name__, name, PriorError)
        self.name = name
        self.id = next(_ids)

    @property
    def values(self) -> dict[str, float]:
        """The prior's arguments by name (``{"lower_limit": 0.0, "upper_limit": 100.0}``)."""
        return {arg: getattr(self, arg) for arg in self.arguments}

    def new(self) -> Prior:
        """A new, independent prior of the same kind and arguments (a new parameter)."""
        return type(self)(**self.values, name=self.name)

    # -- Expression interface --------------------------------------------------------------
    def priors(self) -> list[Prior]:
        return [self]

    def evaluate(self, values: Mapping[Prior, Any], xp: Any = np) -> Any:
        return values[self]

    def expression_text(self, names: Mapping[Prior, str]) -> str:
        return names.get(self, self.name or f"{type(self).__name__}#{self.id}")

    # -- text --------------------------------------------------------------------------------
    def shown_values(self) -> dict[str, float]:
        """Arguments shown in ``repr`` and ``model.info`` (infinite limits are left out)."""
        return {
            k: v for k, v in self.values.items() if not (k.endswith("_limit") and math.isinf(v))
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.shown_values().items())
        if self.name is not None:
            args = f"{args}, name={self.name!r}" if args else f"name={self.name!r}"
        return f"{type(self).__name__}({args})"

    def info_text(self, index: int) -> str:
        """The prior as one ``model.info`` entry: ``UniformPrior [0], lower_limit = 0.0, ...``."""
        args = ", ".join(f"{k} = {v!r}" for k, v in self.shown_values().items())
        return f"{type(self).__name__} [{index}], {args}"

    def median(self) -> float:
        """Median of the prior distribution."""
        return float(self.quantile(0.5))

    def logpdf(self, x: Any) -> Any:
        """Log density of the prior at ``x`` (numpy; ``-inf`` outside its support).

        Examples
        --------
        >>> import graphfit as gf
        >>> float(gf.UniformPrior(0.0, 4.0).logpdf(1.0))  # log(1/4)
        -1.3862943611198906
        """
        return self._scipy().logpdf(x)

    def quantile(self, q: Any) -> Any:
        """Quantile function (inverse cumulative distribution) of the prior at ``q``.

        Examples
        --------
        >>> import graphfit as gf
        >>> float(gf.GaussianPrior(10.0, 2.0).quantile(0.5))
        10.0
        """
        return self._scipy().ppf(q)

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the prior allows (infinite where it has no limit).

        Examples
        --------
        >>> import graphfit as gf
        >>> gf.GaussianPrior(10.0, 5.0, lower_limit=0.0).support()
        (0.0, inf)
        """
        return (
            float(getattr(self, "lower_limit", -math.inf)),
            float(getattr(self, "upper_limit", math.inf)),
        )

    def _scipy(self) -> Any:
        """The prior as a frozen ``scipy.stats`` distribution."""
        raise NotImplementedError


class UniformPrior(Prior):
    """Uniform prior on ``[lower_limit, upper_limit]``.

    Parameters
    ----------
    lower_limit, upper_limit
        Finite bounds, ``lower_limit < upper_limit``.
    name
        Optional parameter name (see :class:`Prior`).

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    UniformPrior(lower_limit=0.0, upper_limit=100.0)
    """

    __slots__ = ("lower_limit", "upper_limit")
    arguments = ("lower_limit", "upper_limit")

    def __init__(
        self, lower_limit: float = 0.0, upper_limit: float = 1.0, *, name: str | None = None
    ):
        kind = type(self).__name__
        self.lower_limit = _number(kind, "lower_limit", lower_limit)
        self.upper_limit = _number(kind, "upper_limit", upper_limit)
        _limits(kind, self.lower_limit, self.upper_limit)
        super().__init__(name=name)

    def median(self) -> float:
        return 0.5 * (self.lower_limit + self.upper_limit)

    def _scipy(self) -> Any:
        from scipy import stats

        return stats.uniform(self.lower_limit, self.upper_limit - self.lower_limit)

    def logpdf(self, x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        inside = (x >= self.lower_limit) & (x <= self.upper_limit)
        return np.where(inside, -math.log(self.upper_limit - self.lower_limit), -np.inf)


class LogUniformPrior(Prior):
    """Prior uniform in ``log x`` on ``[lower_limit, upper_limit]``, ``0 < lower_limit``.

    Its density is ``1 / (x * log(upper_limit / lower_limit))``.

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2)
    LogUniformPrior(lower_limit=0.01, upper_limit=100.0)
    """

    __slots__ = ("lower_limit", "upper_limit")
    arguments = ("lower_limit", "upper_limit")

    def __init__(
        self, lower_limit: float = 1e-6, upper_limit: float = 1e6, *, name: str | None = None
    ):
        kind = type(self).__name__
        self.lower_limit = _number(kind, "lower_limit", lower_limit)
        self.upper_limit = _number(kind, "upper_limit", upper_limit)
        if self.lower_limit <= 0.0:
            raise PriorError(
                f"{kind}: lower_limit = {self.lower_limit!r} must be > 0 (the prior is uniform "
                "in log x); use a small positive number such as 1e-6."
            )
        _limits(kind, self.lower_limit, self.upper_limit)
        super().__init__(name=name)

    def median(self) -> float:
        return math.sqrt(self.lower_limit * self.upper_limit)

    def _scipy(self) -> Any:
        from scipy import stats

        return stats.loguniform(self.lower_limit, self.upper_limit)

    def logpdf(self, x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        inside = (x >= self.lower_limit) & (x <= self.upper_limit)
        norm = math.log(math.log(self.upper_limit / self.lower_limit))
        with np.errstate(all="ignore"):
            return np.where(inside, -np.log(x) - norm, -np.inf)


class GaussianPrior(Prior):
    """Gaussian prior, truncated to ``[lower_limit, upper_limit]`` when a limit is finite.

    Parameters
    ----------
    mean
        Mean of the (untruncated) Gaussian.
    sigma
        Its standard deviation, ``> 0``.
    lower_limit, upper_limit
        Truncation limits; ``-inf`` and ``inf`` (the defaults) mean no truncation.

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> gf.GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=np.inf)
    GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)
    """

    __slots__ = ("lower_limit", "mean", "sigma", "upper_limit")
    arguments = ("mean", "sigma", "lower_limit", "upper_limit")

    def __init__(
        self,
        mean: float = 0.0,
        sigma: float = 1.0,
        lower_limit: float = -math.inf,
        upper_limit: float = math.inf,
        *,
        name: str | None = None,
    ) -> None:
        kind = type(self).__name__
        self.mean = _number(kind, "mean", mean)
        self.sigma = _number(kind, "sigma", sigma)
        if self.sigma <= 0.0:
            raise PriorError(f"{kind}: sigma = {self.sigma!r} must be > 0.")
        self.lower_limit = _number(kind, "lower_limit", lower_limit, allow_inf=True)
        self.upper_limit = _number(kind, "upper_limit", upper_limit, allow_inf=True)
        if self.lower_limit == math.inf or self.upper_limit == -math.inf:
            raise PriorError(
                f"{kind}: lower_limit = {self.lower_limit!r} and upper_limit = "
                f"{self.upper_limit!r} leave no room; lower_limit may be -inf, upper_limit inf."
            )
        _limits(kind, self.lower_limit, self.upper_limit)
        super().__init__(name=name)

    @property
    def truncated(self) -> bool:
        """True when either limit is finite."""
        return math.isfinite(self.lower_limit) or math.isfinite(self.upper_limit)

    def median(self) -> float:
        from scipy.special import ndtr, ndtri

        a = (self.lower_limit - self.mean) / self.sigma
        b = (self.upper_limit - self.mean) / self.sigma
        return float(self.mean + self.sigma * ndtri(0.5 * (ndtr(a) + ndtr(b))))

    def _scipy(self) -> Any:
        from scipy import stats

        if not self.truncated:
            return stats.norm(self.mean, self.sigma)
        a = (self.lower_limit - self.mean) / self.sigma
        b = (self.upper_limit - self.mean) / self.sigma
        return stats.truncnorm(a, b, loc=self.mean, scale=self.sigma)

    def logpdf(self, x: Any) -> Any:
        from scipy.special import ndtr

        x = np.asarray(x, dtype=float)
        a = (self.lower_limit - self.mean) / self.sigma
        b = (self.upper_limit - self.mean) / self.sigma
        norm = math.log(self.sigma * math.sqrt(2.0 * math.pi) * float(ndtr(b) - ndtr(a)))
        inside = (x >= self.lower_limit) & (x <= self.upper_limit)
        return np.where(inside, -0.5 * ((x - self.mean) / self.sigma) ** 2 - norm, -np.inf)


class TruncatedGaussianPrior(GaussianPrior):
    """Gaussian prior truncated to ``[lower_limit, upper_limit]``.

    The same distribution as :class:`GaussianPrior` with limits; the limits are required.

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.TruncatedGaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=30.0)
    TruncatedGaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=30.0)
    """

    __slots__ = ()

    def __init__(
        self,
        mean: float,
        sigma: float,
        lower_limit: float,
        upper_limit: float,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(mean, sigma, lower_limit, upper_limit, name=name)


class LogGaussianPrior(Prior):
    """Log-normal prior: ``log x`` is Gaussian with ``mean`` and ``sigma``.

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

    def __init__(self, mean: float = 0.0, sigma: float = 1.0, *, name: str | None = None) -> None:
        kind = type(self).__name__
        self.mean = _number(kind, "mean", mean)
        self.sigma = _number(kind, "sigma", sigma)
        if self.sigma <= 0.0:
            raise PriorError(f"{kind}: sigma = {self.sigma!r} must be > 0.")
        super().__init__(name=name)

    def median(self) -> float:
        return math.exp(self.mean)

    def support(self) -> tuple[float, float]:
        return 0.0, math.inf

    def _scipy(self) -> Any:
        from scipy import stats

        return stats.lognorm(self.sigma, scale=math.exp(self.mean))

    def logpdf(self, x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            log_x = np.log(x)
            value = -0.5 * ((log_x - self.mean) / self.sigma) ** 2 - log_x
        return np.where(x > 0, value - math.log(self.sigma * math.sqrt(2.0 * math.pi)), -np.inf)

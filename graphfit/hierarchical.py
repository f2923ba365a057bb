"""Hierarchical factors: per-dataset parameters drawn from a population with hyperpriors.

``HierarchicalFactor(gf.GaussianPrior, mean=<prior>, sigma=<prior>)`` declares a population;
``add_drawn_variable(prior)`` puts one dataset's parameter in it.  This is the textbook
hierarchical model: each drawn parameter is distributed as the population given the
hyperparameters, and **its own prior is replaced by the population** (PyAutoFit instead keeps the
drawn variable's prior and multiplies it by the population density, so its effective prior is
the product of the two).

Two parametrisations are available: centred (``x ~ Normal(mean, sigma)``) and non-centred
(``x = mean + sigma * z`` with ``z ~ Normal(0, 1)``).  Non-centred avoids the funnel a centred
hierarchy has when each dataset constrains its parameter weakly; centred is far better when the
data constrain each parameter well (measured: on 10 datasets with a peak signal-to-noise of 3 per
pixel, centred gave R-hat 1.00 and non-centred chains that never mixed, R-hat 1.7).

``"auto"`` (the default) chooses by the strength of the data, when the factor graph is built:
for each drawn parameter it computes the standard deviation the dataset's likelihood alone would
give it, ``1 / sqrt(Fisher information)``, at the prior medians with the parameter at the
population's centre (the Fisher information is the curvature of the log-likelihood of noise-free
data, by central finite differences with numpy; for a custom ``log_likelihood_function`` the
curvature of the actual log-likelihood).  When the median of these, divided by the population's
spread (the median of its ``sigma`` prior; ``(upper - lower) / sqrt(12)`` for a uniform
population; in log space for a log-Gaussian one), exceeds ``WEAK_DATA_RATIO`` the data are weak
and the population is non-centred, otherwise centred.  ``population.data_strength`` keeps the
ratio.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from graphfit.exceptions import FactorGraphError, PriorError, check_name
from graphfit.priors import (
    GaussianPrior,
    LogGaussianPrior,
    Prior,
    TruncatedGaussianPrior,
    UniformPrior,
)
from graphfit.relations import Expression

__all__ = ["HierarchicalFactor"]

_SUPPORTED = (GaussianPrior, TruncatedGaussianPrior, LogGaussianPrior, UniformPrior)
_PARAMETRIZATIONS = ("auto", "centred", "non_centred")

#: ``"auto"`` non-centres a population when a typical drawn parameter's likelihood standard
#: deviation is larger than this many times the population's spread.
WEAK_DATA_RATIO = 1.0


def _lower_bound(prior: Prior) -> float:
    """Smallest value a prior allows."""
    if isinstance(prior, LogGaussianPrior):
        return 0.0
    return float(getattr(prior, "lower_limit", -math.inf))


class HierarchicalFactor:
    """A population distribution shared by per-dataset parameters.

    Parameters
    ----------
    distribution
        The population's distribution: ``gf.GaussianPrior``, ``gf.TruncatedGaussianPrior``
        (give fixed ``lower_limit`` and ``upper_limit``), ``gf.LogGaussianPrior`` or
        ``gf.UniformPrior``.
    name
        Name of the factor; its hyperparameters are ``<name>.<argument>`` in the posterior.
        Default ``hierarchical_<i>`` by position among the graph's hierarchical factors.
    parametrization
        ``"auto"`` (currently centred, see the module notes), ``"centred"`` or
        ``"non_centred"``.
    **parameters
        The distribution's arguments: priors (hyperparameters), relations or fixed numbers.
        A scale (``sigma``) must be positive: its prior's lower limit must be ``>= 0``.

    Raises
    ------
    FactorGraphError
        For an unsupported distribution, missing or unknown arguments, or a bad
        parametrisation.
    PriorError
        When a hyperprior allows a non-positive ``sigma``.

    Examples
    --------
    >>> import graphfit as gf
    >>> population = gf.HierarchicalFactor(
    ...     gf.GaussianPrior,
    ...     mean=gf.UniformPrior(0.0, 100.0),
    ...     sigma=gf.UniformPrior(0.0, 50.0),
    ... )
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> population.add_drawn_variable(model.centre)
    >>> len(population.drawn)
    1
    """

    def __init__(
        self,
        distribution: type,
        name: str | None = None,
        parametrization: str = "auto",
        **parameters: Any,
    ) -> None:
        if not (isinstance(distribution, type) and issubclass(distribution, _SUPPORTED)):
            raise FactorGraphError(
                f"HierarchicalFactor: distribution must be one of GaussianPrior, "
                f"TruncatedGaussianPrior, LogGaussianPrior or UniformPrior, got {distribution!r}."
            )
        if parametrization not in _PARAMETRIZATIONS:
            raise FactorGraphError(
                f"HierarchicalFactor: parametrization must be one of {_PARAMETRIZATIONS}, got "
                f"{parametrization!r}."
            )
        check_name("HierarchicalFactor", name, FactorGraphError)
        arguments = distribution.arguments
        required = {
            GaussianPrior: ("mean", "sigma"),
            TruncatedGaussianPrior: ("mean", "sigma", "lower_limit", "upper_limit"),
            LogGaussianPrior: ("mean", "sigma"),
            UniformPrior: ("lower_limit", "upper_limit"),
        }[next(c for c in distribution.__mro__ if c in _SUPPORTED and c is not Prior)]
        unknown = sorted(set(parameters) - set(arguments))
        if unknown:
            raise FactorGraphError(
                f"HierarchicalFactor({distribution.__name__}): unknown argument(s) "
                f"{', '.join(unknown)}; it takes {', '.join(arguments)}."
            )
        missing = [a for a in required if a not in parameters]
        if missing:
            raise FactorGraphError(
                f"HierarchicalFactor({distribution.__name__}): missing argument(s) "
                f"{', '.join(missing)}."
            )
        for argument, value in parameters.items():
            if not isinstance(value, Expression) and not (
                isinstance(value, numbers.Real) and math.isfinite(float(value))
            ):
                raise FactorGraphError(
                    f"HierarchicalFactor: {argument} must be a prior, a relation or a finite "
                    f"number, got {value!r}."
                )
        sigma = parameters.get("sigma")
        if isinstance(sigma, Prior) and _lower_bound(sigma) < 0.0:
            raise PriorError(
                f"HierarchicalFactor: the prior of sigma, {sigma!r}, allows values <= 0; a "
                "population's sigma must be positive. Give it lower_limit=0.0, e.g. "
                "gf.UniformPrior(lower_limit=0.0, upper_limit=...) or "
                "gf.GaussianPrior(mean, sigma, lower_limit=0.0)."
            )
        if isinstance(sigma, numbers.Real) and sigma <= 0:
            raise PriorError(f"HierarchicalFactor: sigma = {sigma!r} must be > 0.")
        if distribution is TruncatedGaussianPrior:
            for limit in ("lower_limit", "upper_limit"):
                if not isinstance(parameters[limit], numbers.Real):
                    raise FactorGraphError(
                        f"HierarchicalFactor(TruncatedGaussianPrior): {limit} must be a fixed "
                        f"number, got {parameters[limit]!r}."
                    )
        self.distribution = distribution
        self.name = name
        self.parametrization = parametrization
        self.parameters: dict[str, Any] = dict(parameters)
        self.drawn: list[Prior] = []
        #: Median over drawn parameters of (likelihood sd / population spread), set when a
        #: factor graph is built; ``None`` before, or when it could not be computed.
        self.data_strength: float | None = None

    def add_drawn_variable(self, prior: Prior) -> None:
        """Make ``prior`` (one dataset's parameter) a draw from this population.

        Raises
        ------
        FactorGraphError
            If ``prior`` is not a prior or was already added.
        """
        if not isinstance(prior, Prior):
            raise FactorGraphError(
                f"add_drawn_variable: expected a prior (a model's free parameter), got "
                f"{prior!r} of type {type(prior).__name__}."
            )
        if any(p is prior for p in self.drawn):
            raise FactorGraphError(f"add_drawn_variable: {prior!r} was already added.")
        self.drawn.append(prior)

    @property
    def resolved_parametrization(self) -> str:
        """``"centred"`` or ``"non_centred"``; ``"auto"`` follows :attr:`data_strength`."""
        if self.distribution is TruncatedGaussianPrior:
            return "centred"  # a truncated population has no simple non-centred form
        if self.parametrization != "auto":
            return self.parametrization
        weak = self.data_strength is not None and self.data_strength > WEAK_DATA_RATIO
        return "non_centred" if weak else "centred"

    def measure_data_strength(self, factors: Any) -> float | None:
        """Set and return :attr:`data_strength` from the datasets of ``factors``.

        ``factors`` are the graph's :class:`~graphfit.factor_graph.AnalysisFactor` objects.
        Returns ``None`` (and ``"auto"`` stays centred) when the likelihood cannot be evaluated
        with numpy at the prior medians.
        """
        centre, spread, log_space = self._centre_and_spread()
        ratios = []
        for prior in self.drawn:
            for factor in factors:
                if any(p is prior for p in factor.prior_model.priors()):
                    sd = _likelihood_sd(factor, prior, centre)
                    if log_space:
                        sd = sd / centre
                    ratios.append(sd / spread)
                    break
        finite = [r for r in ratios if not math.isnan(r)]
        self.data_strength = float(np.median(finite)) if finite else None
        return self.data_strength

    def _centre_and_spread(self) -> tuple[float, float, bool]:
        """A typical drawn value, the population's spread, and whether that spread is in log."""

        def median(name: str) -> float:
            value = self.parameters[name]
            if isinstance(value, Expression):
                return float(value.evaluate({p: p.median() for p in value.priors()}, np))
            return float(value)

        if self.distribution is UniformPrior:
            lower, upper = median("lower_limit"), median("upper_limit")
            return 0.5 * (lower + upper), (upper - lower) / math.sqrt(12.0), False
        if self.distribution is LogGaussianPrior:
            return math.exp(median("mean")), median("sigma"), True
        return median("mean"), median("sigma"), False

    def hyper_priors(self) -> list[tuple[str, Prior]]:
        """``(argument, prior)`` for every free hyperparameter, in argument order."""
        out: list[tuple[str, Prior]] = []
        for argument in self.distribution.arguments:
            value = self.parameters.get(argument)
            if isinstance(value, Expression):
                for prior in value.priors():
                    if all(prior is not p for _, p in out):
                        out.append(
                            (argument if value is prior else f"{argument}_{len(out)}", prior)
                        )
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return (
            f"HierarchicalFactor({self.distribution.__name__}, {args}, "
            f"drawn variables: {len(self.drawn)})"
        )


def _likelihood_sd(factor: Any, prior: Prior, value: float) -> float:
    """Standard deviation of ``prior`` from the factor's likelihood alone, at ``value``.

    ``1 / sqrt(I)`` with ``I`` the curvature of the log-likelihood of noise-free data (the
    Fisher information) for an observation, or of the actual log-likelihood for a custom
    ``log_likelihood_function``; ``inf`` where the curvature is not negative, NaN on failure.
    """
    import copy

    model, analysis = factor.prior_model, factor.analysis
    values = {p: p.median() for p in model.priors()}
    step = 1e-3 * max(abs(value), 1e-3)

    def instance(theta: float) -> Any:
        return model.instance_from({**values, prior: theta}, np)

    try:
        with np.errstate(all="ignore"):
            if analysis.uses_observation():
                expected = np.asarray(analysis.observation(instance(value), np).model_data)

                def loglike(theta: float) -> float:
                    observation = copy.copy(analysis.observation(instance(theta), np))
                    observation.data = expected
                    return float(np.sum(observation.log_likelihood(np)))

            else:

                def loglike(theta: float) -> float:
                    return float(np.sum(analysis.log_likelihood_function(instance(theta), np)))

            centre = loglike(value)
            curvature = (loglike(value + step) - 2.0 * centre + loglike(value - step)) / step**2
    except Exception:  # any failure only means "no measurement"
        return math.nan
    if not math.isfinite(curvature):
        return math.nan
    return 1.0 / math.sqrt(-curvature) if curvature < 0 else math.inf

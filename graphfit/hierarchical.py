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
``"auto"`` currently means centred: choosing by the strength of the data is not implemented yet.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

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
        """``"centred"`` or ``"non_centred"`` (``"auto"`` resolves to centred)."""
        if self.distribution is TruncatedGaussianPrior:
            return "centred"  # a truncated population has no simple non-centred form
        return "centred" if self.parametrization == "auto" else self.parametrization

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

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

A third, ``"marginalized"`` (see :mod:`graphfit.backend.marginal`), integrates each drawn parameter
out over a grid and draws it after sampling; it is the one that works when each dataset constrains
its parameter so weakly that the likelihood has separated modes (a faint peak's centre), which
neither other parametrisation lets NUTS move between.  It needs each drawn parameter to be a
scalar with a bounded prior, in exactly one dataset's likelihood (not in an assertion or a
hyperparameter, nor a black box).  The grid spans the drawn parameters' prior range, widened
(up to 4 times) until the probed likelihoods are flat beyond it, with cells of a third of the
narrowest likelihood standard deviation found.

``"auto"`` (the default) marginalises when the grid needs at most ``AUTO_MAX_CELLS`` cells and
``AUTO_MAX_WORK`` likelihood terms per evaluation.  Otherwise it chooses by the strength of the
data against the spread the population's *posterior* gives it (see
:mod:`graphfit.plan.parametrization`): up to 16 drawn parameters are fitted to their datasets alone
with numpy, the population's spread is estimated from those fits, and when a typical dataset's
standard deviation exceeds ``WEAK_DATA_RATIO`` times the spread's 10% posterior quantile the
population is non-centred, otherwise centred.  Truncated populations are always centred (they
have no non-centred form).  ``population.data_strength`` keeps the ratio and
``population.parametrization_reason`` says in one line why the parametrisation was chosen.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from graphfit.exceptions import FactorGraphError, PriorError, check_name
from graphfit.spec.priors import PopulationFamily, Prior
from graphfit.spec.relations import Expression
from graphfit.spec.services import call

__all__ = [
    "AUTO_MAX_CELLS",
    "AUTO_MAX_WORK",
    "CELLS_PER_SD",
    "FLAT_TOLERANCE",
    "MAX_CELLS",
    "WEAK_DATA_RATIO",
    "HierarchicalFactor",
    "population_kinds",
]


def population_kinds() -> list[type]:
    """The prior kinds that declare a :class:`~graphfit.PopulationFamily` (and so
    can be a population's distribution), in order of definition."""
    kinds, pending = [], list(Prior.__subclasses__())
    while pending:
        kind = pending.pop(0)
        if kind.population_family is not None and kind not in kinds:
            kinds.append(kind)
        pending.extend(kind.__subclasses__())
    return kinds


_PARAMETRIZATIONS = ("auto", "centred", "non_centred", "marginalized")
#: Grid cells per likelihood standard deviation of a marginalised drawn parameter (the
#: log-likelihood is interpolated linearly between edges, an error of at most
#: ``1 / (8 * CELLS_PER_SD**2)`` in log units per dataset).
CELLS_PER_SD = 3
#: ``"auto"`` marginalises a population when its grid needs at most this many cells (the
#: likelihood's standard deviation is at least 1/64 of the drawn parameters' range: the data
#: leave room for separated modes) ...
AUTO_MAX_CELLS = 320
#: ... and cells times the data points of its datasets stay below this (the cost of one
#: evaluation of the marginal likelihood, in likelihood terms).
AUTO_MAX_WORK = 4_000_000
#: The grid is widened until the log-likelihood beyond it is this close to its value far away.
FLAT_TOLERANCE = 0.01
#: Largest grid of an explicitly marginalised population.
MAX_CELLS = 8192
#: ``"auto"`` non-centres a population when the median of its datasets' likelihood standard
#: deviations exceeds this many times the 10% posterior quantile of the population's spread.
WEAK_DATA_RATIO = 1.0


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
        ``"auto"`` (see the module notes), ``"centred"``, ``"non_centred"`` or
        ``"marginalized"`` (integrated out over a grid; a graph where that is impossible
        raises :class:`~graphfit.FactorGraphError` naming the reason).
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
        if not (
            isinstance(distribution, type)
            and issubclass(distribution, Prior)
            and distribution.population_family is not None
        ):
            names = [kind.__name__ for kind in population_kinds()]
            raise FactorGraphError(
                f"HierarchicalFactor: distribution must be one of {', '.join(names[:-1])} or "
                f"{names[-1]} (a prior kind with a population_family), got {distribution!r}."
            )
        if parametrization not in _PARAMETRIZATIONS:
            raise FactorGraphError(
                f"HierarchicalFactor: parametrization must be one of {_PARAMETRIZATIONS}, got "
                f"{parametrization!r}."
            )
        check_name("HierarchicalFactor", name, FactorGraphError)
        arguments = distribution.arguments
        required = distribution.population_family.required
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
        if isinstance(sigma, Prior) and sigma.support()[0] < 0.0:
            raise PriorError(
                f"HierarchicalFactor: the prior of sigma, {sigma!r}, allows values <= 0; a "
                "population's sigma must be positive. Give it lower_limit=0.0, e.g. "
                "gf.UniformPrior(lower_limit=0.0, upper_limit=...) or "
                "gf.GaussianPrior(mean, sigma, lower_limit=0.0)."
            )
        if isinstance(sigma, numbers.Real) and sigma <= 0:
            raise PriorError(f"HierarchicalFactor: sigma = {sigma!r} must be > 0.")
        if distribution.population_family.truncated:
            for limit in ("lower_limit", "upper_limit"):
                if not isinstance(parameters[limit], numbers.Real):
                    raise FactorGraphError(
                        f"HierarchicalFactor({distribution.__name__}): {limit} must be a fixed "
                        f"number, got {parameters[limit]!r}."
                    )
        self.distribution = distribution
        self.name = name
        self.parametrization = parametrization
        self.parameters: dict[str, Any] = dict(parameters)
        self.drawn: list[Prior] = []
        #: The graph's analysis factors (set when a factor graph is built), from which
        #: :attr:`data_strength` is measured when first needed.
        self._factors: list[Any] | None = None
        self._data_strength: float | None = None
        self._strength: dict[str, Any] | None = None
        #: ``(drawn prior, value, sd)`` of every probed dataset's own fit, set with
        #: :attr:`data_strength`.
        self._estimates: list[tuple[Prior, float, float]] = []
        #: Whether :attr:`data_strength` was measured for the current factors.
        self.data_strength_measured = False
        #: Edges of the grid the drawn parameters are marginalised over (set when a factor
        #: graph is built); ``None`` when the population cannot be marginalised, with the
        #: reason in ``grid_problem``.
        self.grid: np.ndarray | None = None
        self.grid_problem: str | None = "no factor graph was built"
        #: Cells times data points of the datasets, the work of one marginal likelihood.
        self.grid_work: int = 0

    @property
    def marginalized(self) -> bool:
        """True when the drawn parameters are integrated out over :attr:`grid`: asked for, or
        chosen by ``"auto"`` because the grid is small (known without measuring the strength
        of the data)."""
        if self.parametrization != "auto":
            return self.parametrization == "marginalized"
        return (
            self.grid is not None
            and len(self.grid) - 1 <= AUTO_MAX_CELLS
            and self.grid_work <= AUTO_MAX_WORK
        )

    @property
    def family(self) -> PopulationFamily:
        """The family of the population's distribution (see
        :class:`~graphfit.PopulationFamily`)."""
        family = self.distribution.population_family
        assert family is not None, "__init__ accepts only prior kinds with a population_family"
        return family

    @property
    def truncated(self) -> bool:
        """True for a Gaussian population with limits (compiled as a truncated normal, which
        has no non-centred form)."""
        return self.family.shape == "gaussian" and any(
            self.parameters.get(k) is not None for k in ("lower_limit", "upper_limit")
        )

    def set_factors(self, factors: Any) -> None:
        """Hold the graph's analysis factors; :attr:`data_strength` is measured from them when
        first needed (it is not measured for an explicit parametrisation)."""
        self._factors = list(factors)
        self._data_strength, self._strength = None, None
        self._estimates = []
        self.data_strength_measured = False

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
        """``"centred"``, ``"non_centred"`` or ``"marginalized"``; ``"auto"`` marginalises
        where the grid is small (:attr:`grid`), else follows :attr:`data_strength`."""
        if self.parametrization != "auto":
            if self.parametrization == "non_centred" and self.truncated:
                return "centred"  # a truncated population has no simple non-centred form
            return self.parametrization
        if self.marginalized:
            return "marginalized"
        if self.truncated:
            return "centred"
        strength = self.data_strength
        weak = strength is None or strength > WEAK_DATA_RATIO
        return "non_centred" if weak else "centred"

    def measure_grid(self, factors: list[Any], problem: str | None = None) -> np.ndarray | None:
        """Choose the grid its drawn parameters would be marginalised over and set :attr:`grid`
        (see :func:`graphfit.plan.population.measure_grid`).

        ``factors[k]`` is the :class:`~graphfit.AnalysisFactor` whose likelihood holds drawn
        parameter ``k``; ``problem``, when given, is a reason the graph's structure rules
        marginalisation out.
        """
        return call("measure_grid", self, factors, problem)

    def measure_data_strength(self, factors: Any) -> float | None:
        """Set and return :attr:`data_strength` from the datasets of ``factors`` (see
        :func:`graphfit.plan.population.measure_data_strength`); ``None`` when it could not be
        measured (then ``"auto"`` is non-centred, the safe choice for data of unknown strength).
        """
        return call("measure_data_strength", self, factors)

    def start_values(self) -> dict[Prior, float]:
        """Where the start search can begin, from the datasets' own fits (see
        :func:`graphfit.plan.population.start_values`); empty when fewer than two datasets could
        be fitted alone."""
        self._measure_when_needed()
        return call("start_values", self)

    @property
    def data_strength(self) -> float | None:
        """Median over the probed datasets of (a drawn parameter's standard deviation from its
        dataset alone) / (the 10% posterior quantile of the population's spread); above
        :data:`~graphfit.spec.hierarchical.WEAK_DATA_RATIO` the data are weak.  Measured when
        first needed (``None`` before a factor graph is built, or when it could not be
        measured)."""
        self._measure_when_needed()
        return self._data_strength

    def _measure_when_needed(self) -> None:
        """Measure the data's strength (and the datasets' own estimates) once, on first use."""
        if not self.data_strength_measured and self._factors is not None:
            self.measure_data_strength(self._factors)

    @property
    def parametrization_reason(self) -> str:
        """One line saying why :attr:`resolved_parametrization` was chosen.

        Examples
        --------
        >>> import graphfit as gf
        >>> population = gf.HierarchicalFactor(
        ...     gf.GaussianPrior, mean=0.0, sigma=1.0, parametrization="non_centred"
        ... )
        >>> population.parametrization_reason
        'non_centred: chosen with parametrization="non_centred"'
        """
        chosen = self.resolved_parametrization
        if self.parametrization != "auto":
            if chosen != self.parametrization:
                return f"{chosen}: a truncated population has no non-centred form"
            return f'{chosen}: chosen with parametrization="{self.parametrization}"'
        if chosen == "marginalized":
            assert self.grid is not None  # "auto" marginalises only a population with a grid
            return (
                f"marginalized: the data constrain the drawn parameters so weakly that a grid of "
                f"{len(self.grid) - 1} cells spans them (at most {AUTO_MAX_CELLS}), which "
                "integrates out separated likelihood modes"
            )
        if self.truncated:
            return "centred: a truncated population has no non-centred form"
        strength = self.data_strength
        detail = self._strength or {}
        if strength is None:
            return (
                "non_centred: the strength of the data could not be measured with numpy, and "
                "non-centred is safe for weak data"
            )
        relation = "above" if chosen == "non_centred" else "not above"
        return (
            f"{chosen}: a drawn parameter's standard deviation from its dataset alone (median "
            f"{detail['median_sd']:.3g} over {detail['datasets']} datasets) is {strength:.2g} "
            f"times the population spread's 10% posterior quantile ({detail['q10']:.3g}), "
            f"{relation} {WEAK_DATA_RATIO:g}"
        )

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

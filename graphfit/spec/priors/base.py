"""The base of every prior kind, and what a kind declares so that the rest of graphfit needs no
knowledge of it.

A prior kind is one module: a :class:`~graphfit.Prior` subclass that validates its arguments
and defines

* ``pymc_form()``: the PyMC distribution it compiles to, by name, with its arguments (the
  backend builds it; no other module knows the kind);
* ``ppf`` (vectorised over stacked arguments), ``logpdf`` and ``median`` in numpy;
  ``quantile``, ``draw`` and ``support`` follow from them and its limits;
* optionally ``population_family``, the family a :class:`~graphfit.HierarchicalFactor`
  population of that kind belongs to (:class:`PopulationFamily`).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from graphfit.exceptions import GraphfitError, PriorError, check_name
from graphfit.spec.relations import Expression

__all__ = ["PopulationFamily", "Prior", "PyMCForm", "check_limits", "check_number"]

_ids = itertools.count()


def check_number(
    prior: str,
    field: str,
    value: Any,
    *,
    allow_inf: bool = False,
    error: type[GraphfitError] = PriorError,
) -> float:
    """Validate one numeric argument (of a prior, unless ``error`` says otherwise) and return
    it as a float: a real number (not a bool), not NaN, and finite unless ``allow_inf``.

    Examples
    --------
    >>> from graphfit.spec.priors.base import check_number
    >>> check_number("UniformPrior", "lower_limit", 1)
    1.0
    >>> check_number("UniformPrior", "upper_limit", float("inf"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphfit.exceptions.PriorError: UniformPrior: upper_limit = inf is not finite; ...
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(
            f"{prior}: {field} must be a real number, got {value!r} of type {type(value).__name__}."
        )
    value = float(value)
    if math.isnan(value):
        raise error(f"{prior}: {field} is NaN; it must be a real number.")
    if math.isinf(value) and not allow_inf:
        raise error(f"{prior}: {field} = {value} is not finite; it must be a finite number.")
    return value


def check_limits(prior: str, lower: float, upper: float) -> None:
    """Raise a :class:`~graphfit.exceptions.PriorError` unless ``lower < upper``."""
    if not lower < upper:
        raise PriorError(
            f"{prior}: lower_limit = {lower!r} must be smaller than upper_limit = {upper!r}; "
            "swap them or widen the range."
        )


@dataclass(frozen=True)
class PyMCForm:
    """The PyMC distribution a prior compiles to.

    Attributes
    ----------
    distribution
        Name of a PyMC distribution (``"Normal"`` builds ``pm.Normal``), or of one the backend
        defines itself (``"LogUniform"``, see :mod:`graphfit.backend.variables`).
    parameters
        Its keyword arguments; ``None`` leaves one out (an infinite truncation limit).  Priors
        of one kind whose forms leave out the same arguments are stacked into one vector
        variable.
    log_interval
        Whether numeric assertion bounds (``prior > 2``) cut the variable's interval in
        ``log x`` rather than in ``x``.

    Examples
    --------
    >>> import graphfit as gf
    >>> form = gf.GaussianPrior(1.0, 2.0, lower_limit=0.0).pymc_form()
    >>> form.distribution, form.parameters
    ('TruncatedNormal', {'mu': 1.0, 'sigma': 2.0, 'lower': 0.0, 'upper': None})
    """

    distribution: str
    parameters: dict[str, float | None] = field(default_factory=dict)
    log_interval: bool = False


@dataclass(frozen=True)
class PopulationFamily:
    """The family of a population (:class:`~graphfit.HierarchicalFactor`) of one prior kind.

    The non-centred forms, the marginalisation grid and the population's start values are
    written once per family; a prior kind that declares one can be a population's distribution.

    Attributes
    ----------
    shape
        ``"gaussian"`` (location ``mean``, scale ``sigma``) or ``"uniform"`` (``lower_limit``,
        ``upper_limit``).
    required
        The arguments a population of the kind must be given.
    log
        Gaussian in ``log x`` (a log-normal population).
    truncated
        Gaussian cut to fixed ``lower_limit`` and ``upper_limit``.

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.LogGaussianPrior.population_family
    PopulationFamily(shape='gaussian', required=('mean', 'sigma'), log=True, truncated=False)
    >>> gf.LogUniformPrior.population_family is None  # not a population's distribution
    True
    """

    shape: str
    required: tuple[str, ...]
    log: bool = False
    truncated: bool = False

    @property
    def bounded(self) -> bool:
        """The population's values lie within fixed or given limits."""
        return self.shape == "uniform" or self.truncated


class Prior(Expression):
    """Base class of all priors.

    Subclasses set ``arguments``, the names of their constructor arguments, in order, and
    define :meth:`pymc_form`, :meth:`ppf`, :meth:`logpdf` and usually :meth:`median`.

    Parameters
    ----------
    name
        Optional name of the parameter in the compiled PyMC model and the posterior.  Without
        one, a prior is named by the model path where it is used (``centre``,
        ``gaussian.sigma``).  A name is one parameter: two different priors of one
        :class:`~graphfit.FactorGraphModel` may not share it.

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
    #: The family of a population of this kind; ``None``: it cannot be a population.
    population_family: ClassVar[PopulationFamily | None] = None

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

    # -- what a kind declares ------------------------------------------------------------------
    def pymc_form(self) -> PyMCForm:
        """The PyMC distribution this prior compiles to (see :class:`PyMCForm`)."""
        raise NotImplementedError(f"{type(self).__name__} does not define pymc_form()")

    @classmethod
    def ppf(cls, q: Any, *args: Any, **values: Any) -> Any:
        """Quantile function of the kind at ``q``, for arguments ``values`` (numbers, or
        arrays stacked over several priors of the kind).

        Each kind names its own arguments (those of its constructor); this declaration takes
        any, so that each kind's signature is a valid override of it.

        Examples
        --------
        >>> import numpy as np
        >>> import graphfit as gf
        >>> gf.UniformPrior.ppf(0.5, lower_limit=np.array([0.0, 10.0]), upper_limit=20.0).tolist()
        [10.0, 15.0]
        """
        raise NotImplementedError(f"{cls.__name__} does not define ppf()")

    def logpdf(self, x: Any) -> Any:
        """Log density of the prior at ``x`` (numpy; ``-inf`` outside its support).

        Examples
        --------
        >>> import graphfit as gf
        >>> float(gf.UniformPrior(0.0, 4.0).logpdf(1.0))  # log(1/4)
        -1.3862943611198906
        """
        raise NotImplementedError(f"{type(self).__name__} does not define logpdf()")

    # -- what follows from it ------------------------------------------------------------------
    def quantile(self, q: Any) -> Any:
        """Quantile function (inverse cumulative distribution) of the prior at ``q``.

        Examples
        --------
        >>> import graphfit as gf
        >>> float(gf.GaussianPrior(10.0, 2.0).quantile(0.5))
        10.0
        """
        return type(self).ppf(q, **self.values)

    def median(self) -> float:
        """Median of the prior distribution."""
        return float(self.quantile(0.5))

    def draw(self, size: int | tuple[int, ...] | None = None, rng: Any = None) -> Any:
        """Random values from the prior (inverse-CDF sampling with a numpy generator).

        Examples
        --------
        >>> import numpy as np
        >>> import graphfit as gf
        >>> values = gf.UniformPrior(2.0, 3.0).draw(1000, rng=np.random.default_rng(0))
        >>> bool(values.min() >= 2.0 and values.max() <= 3.0)
        True
        """
        rng = np.random.default_rng(rng)
        return self.quantile(rng.uniform(size=size))

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

    def batch_key(self) -> tuple:
        """Priors with equal keys can be stacked into one vector variable: the same kind and
        PyMC distribution, leaving out the same arguments.

        Examples
        --------
        >>> import graphfit as gf
        >>> gf.GaussianPrior(0.0, 1.0).batch_key() == gf.GaussianPrior(5.0, 2.0).batch_key()
        True
        >>> gf.GaussianPrior(0.0, 1.0).batch_key() == gf.GaussianPrior(0.0, 1.0, 0.0).batch_key()
        False
        """
        form = self.pymc_form()
        left_out = tuple(sorted(k for k, v in form.parameters.items() if v is None))
        return (type(self), form.distribution, left_out)

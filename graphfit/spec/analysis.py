"""The :class:`Analysis` base class: how one dataset is compared with a model instance."""

from __future__ import annotations

import functools
import inspect
from typing import Any, ClassVar

import numpy as np

from graphfit.exceptions import FactorGraphError
from graphfit.spec.observations import Observation

__all__ = ["Analysis", "accepts_xp", "call_log_likelihood", "numpy_log_likelihood"]


class Analysis:
    """Base class for the analysis of one dataset.

    A subclass does one of two things:

    * override :meth:`observation` to return an
      :class:`~graphfit.spec.observations.Observation` (model data, data and noise model).  The
      compiler then makes a real PyMC observed node, so PyMC provides the pointwise
      log-likelihood and posterior predictive draws.  :class:`graphfit.ex.Analysis` does this.
    * override :meth:`log_likelihood_function` to return a log-likelihood, a scalar or a
      pointwise array, written with the array namespace ``xp``.  The compiler adds it to the
      joint model as a potential and records it as the dataset's pointwise log-likelihood.

    If a subclass overrides ``log_likelihood_function`` below a class that defines
    ``observation``, its own log-likelihood is used.

    ``log_likelihood_function(self, instance)`` without ``xp`` (PyAutoFit's signature) is
    accepted too.  The compiler then tries the code on symbolic parameters: code that only does
    arithmetic traces into the same fast graph as ``xp`` code; code that calls numpy on the
    parameters (``np.exp``, ``np.sum``, ``scipy.stats``, an ``if`` on a parameter) is run as
    numpy code with finite-difference gradients, and a
    :class:`~graphfit.NumpyLikelihoodWarning` says so and how to get the fast path.
    A likelihood that has no usable gradient at all (a noisy simulator) sets
    ``black_box = True`` (see :class:`~graphfit.spec.black_box.BlackBoxAnalysis`).

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> class LineAnalysis(gf.Analysis):
    ...     def __init__(self, x, y, noise):
    ...         self.x, self.y, self.noise = x, y, noise
    ...     def log_likelihood_function(self, instance, xp=np):
    ...         model_y = instance.slope * self.x + instance.intercept
    ...         return -0.5 * ((self.y - model_y) / self.noise) ** 2
    """

    #: True for a numpy-only likelihood without gradients (see ``BlackBoxAnalysis``).
    black_box: ClassVar[bool] = False

    def observation(self, instance: Any, xp: Any = np) -> Observation:
        """Declare the observed node of this dataset for a model ``instance``.

        ``instance`` holds tensors when the compiler calls this (``xp`` is then the PyTensor
        namespace) and floats when results call it (``xp`` is numpy).
        """
        raise NotImplementedError(
            f"{type(self).__name__} defines neither observation() nor log_likelihood_function(); "
            "override one of them."
        )

    def log_likelihood_function(self, instance: Any, xp: Any = np) -> Any:
        """Log-likelihood of the data for a model ``instance`` (scalar or pointwise array).

        The default evaluates :meth:`observation`'s full log-likelihood.
        """
        return self.observation(instance, xp).log_likelihood(xp)

    def coords(self) -> dict[str, Any]:
        """Coordinate values of the observation's dims, by dim name (``{"x": self.xvalues}``).

        The results label the dataset's observed data, pointwise log-likelihood and constant
        data (the noise map) with them, as PyMC's ``coords`` do: ``result.idata.observed_data``
        is then indexed by the analysis's own x values rather than ``0, 1, 2, ...``.  Each
        entry names one of the dims of :meth:`observation` (its ``dims``) and holds one value
        per point along it; a dim not named keeps ``0, 1, 2, ...``.  The default: ``{}``.

        Examples
        --------
        >>> import numpy as np
        >>> import graphfit as gf
        >>> data, noise_map = gf.ex.simulate_gaussian_dataset(size=3, seed=0)
        >>> gf.ex.Analysis(data, noise_map, xvalues=[0.5, 1.5, 2.5]).coords()
        {'x': array([0.5, 1.5, 2.5])}
        >>> gf.Analysis().coords()
        {}
        """
        return {}

    def vectorize_key(self) -> Any:
        """A hashable that is equal for analyses whose datasets can be stacked, else ``None``.

        Return a key (e.g. the class and the data shape) when :meth:`observation` depends on this
        analysis only through its data and noise map, so that the first analysis of a group can
        compute the model data of all of them from a batched instance.  graphfit checks the
        claim numerically before stacking.  The default, ``None``, never stacks.
        """
        return None

    @classmethod
    def uses_observation(cls) -> bool:
        """True when this class declares an observed node rather than a custom likelihood."""
        observation_owner = _definer(cls, "observation")
        likelihood_owner = _definer(cls, "log_likelihood_function")
        if observation_owner is Analysis:
            return False
        if likelihood_owner is Analysis:
            return True
        mro = cls.__mro__
        return mro.index(observation_owner) <= mro.index(likelihood_owner)


@functools.lru_cache(maxsize=1024)
def _takes_xp(function: Any) -> bool:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin or extension function: assume numpy's rules
        return True
    kinds = [p.kind for p in signature.parameters.values()]
    if "xp" in signature.parameters or inspect.Parameter.VAR_KEYWORD in kinds:
        return True
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    first = list(signature.parameters)[:1]
    count = sum(kind in positional for kind in kinds)
    # an unbound function counts its ``self``; a bound method does not
    return count >= (3 if first == ["self"] else 2)


def accepts_xp(method: Any) -> bool:
    """Whether ``method(argument, xp)`` is a valid call: it has an ``xp`` parameter, a second
    positional one, or ``*args``/``**kwargs``.  ``model_data_from(self, xvalues)`` and
    ``log_likelihood_function(self, instance)`` (PyAutoFit's signatures) do not.

    Examples
    --------
    >>> import numpy as np
    >>> class Line:
    ...     def model_data_from(self, xvalues):
    ...         return 2.0 * xvalues
    ...     def with_namespace(self, xvalues, xp=np):
    ...         return 2.0 * xp.asarray(xvalues)
    >>> accepts_xp(Line().model_data_from), accepts_xp(Line().with_namespace)
    (False, True)
    >>> class Named:  # the first parameter need not be called self
    ...     def log_likelihood_function(s, instance):
    ...         return 0.0
    >>> accepts_xp(Named().log_likelihood_function)
    False
    """
    return _takes_xp(method)  # a bound method's signature leaves out its first parameter


def call_log_likelihood(analysis: Any, instance: Any, xp: Any = np) -> Any:
    """``analysis.log_likelihood_function(instance, xp)``, or ``(instance)`` when the method
    takes no ``xp`` (see :func:`accepts_xp`).

    Raises
    ------
    FactorGraphError
        When the method returns ``None`` (a ``return`` left out).

    Examples
    --------
    >>> class Forgetful(Analysis):
    ...     def log_likelihood_function(self, instance, xp=np):
    ...         -0.5 * xp.sum((instance - 1.0) ** 2)
    >>> try:
    ...     call_log_likelihood(Forgetful(), np.zeros(2))
    ... except ValueError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    Forgetful.log_likelihood_function() returned None; it must return the log-likelihood, ...
    """
    function = analysis.log_likelihood_function
    value = function(instance, xp) if accepts_xp(function) else function(instance)
    if value is None:
        raise FactorGraphError(
            f"{type(analysis).__name__}.log_likelihood_function() returned None; it must return "
            "the log-likelihood, a number or an array of one value per data point (is a "
            "`return` missing?), computed with the array namespace xp (def "
            "log_likelihood_function(self, instance, xp=np): ... return -0.5 * xp.sum(...)), "
            "or with numpy on a class that sets black_box = True (no gradients)."
        )
    return value


def numpy_log_likelihood(analysis: Any, instance: Any) -> Any:
    """The log-likelihood of ``analysis`` for an ``instance`` of floats, computed with numpy:
    pointwise for an analysis that declares an observation, else what its
    ``log_likelihood_function`` returns."""
    if analysis.uses_observation() and not getattr(analysis, "black_box", False):
        return analysis.observation(instance, np).log_likelihood(np)
    return call_log_likelihood(analysis, instance, np)


def _definer(cls: type, attribute: str) -> type:
    for klass in cls.__mro__:
        if attribute in klass.__dict__:
            return klass
    return object

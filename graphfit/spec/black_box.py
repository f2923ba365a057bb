"""Black-box likelihoods: numpy-only code (a legacy simulator, a compiled library) in the graph.

An analysis says it is a black box with the class attribute ``black_box = True`` (or by
subclassing :class:`BlackBoxAnalysis`).  Its ``log_likelihood_function(instance)`` is then
called with an instance built from plain floats and must return numbers (a scalar or a
pointwise array); it never sees PyTensor and needs no ``xp``.  The compiler wraps it in a
PyTensor ``Op`` with no gradient, whose output is the pointwise log-likelihood: the joint model
gets its sum as a potential and keeps the pointwise values for LOO and WAIC.

Because there is no gradient, gradient-based samplers cannot run: :class:`~graphfit.NUTS` hands
such graphs to :class:`~graphfit.SMC` (saying so in a log message), :class:`~graphfit.MAP`
optimises without gradients, and :class:`~graphfit.DynestyStatic` works unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from graphfit.spec.analysis import Analysis

if TYPE_CHECKING:
    pass

__all__ = ["BlackBoxAnalysis", "is_black_box"]


class BlackBoxAnalysis(Analysis):
    """Base class of analyses whose log-likelihood is numpy-only code without gradients.

    Override ``log_likelihood_function(instance)``: ``instance`` holds floats and the return
    value is the log-likelihood, a scalar or one value per data point (full normalisation
    terms included, as for any likelihood).  Any analysis class can say the same by setting
    the class attribute ``black_box = True``.

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> class LegacyLine(gf.BlackBoxAnalysis):
    ...     def __init__(self, x, y, noise):
    ...         self.x, self.y, self.noise = x, y, noise
    ...     def log_likelihood_function(self, instance):
    ...         residual = (self.y - (instance.slope * self.x + instance.intercept)) / self.noise
    ...         return -0.5 * residual**2 - np.log(np.sqrt(2 * np.pi) * self.noise)
    >>> LegacyLine.black_box, LegacyLine.uses_observation()
    (True, False)
    """

    black_box: ClassVar[bool] = True

    def log_likelihood_function(self, instance: Any) -> Any:  # type: ignore[override]
        """Log-likelihood of the data for an ``instance`` of floats (numpy only)."""
        raise NotImplementedError(
            f"{type(self).__name__} is a black-box analysis but does not define "
            "log_likelihood_function(instance)."
        )


def is_black_box(analysis: Any) -> bool:
    """True when ``analysis`` declares a black-box likelihood (``black_box = True``)."""
    return bool(getattr(analysis, "black_box", False))

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

import numpy as np

from graphfit.analysis import Analysis
from graphfit.exceptions import FactorGraphError

if TYPE_CHECKING:
    from graphfit.factor_graph import AnalysisFactor
    from graphfit.priors import Prior

__all__ = ["BlackBoxAnalysis", "black_box_log_likelihood", "is_black_box"]


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


def _evaluate(factor: AnalysisFactor, priors: list[Prior], values: Any) -> np.ndarray:
    instance = factor.prior_model.instance_from(
        dict(zip(priors, (float(v) for v in values), strict=True)), np
    )
    with np.errstate(all="ignore"):
        return np.asarray(factor.analysis.log_likelihood_function(instance), dtype=float)


def black_box_log_likelihood(name: str, factor: AnalysisFactor, tensors: dict[Prior, Any]) -> Any:
    """The pointwise log-likelihood tensor of a black-box factor (an ``Op`` of its priors).

    The analysis is called once at the priors' medians to learn the output's shape.

    Raises
    ------
    FactorGraphError
        When the analysis also declares an observation, or its log-likelihood at the prior
        medians is not a real number or array of them.
    """
    import pytensor.tensor as pt
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op

    analysis = factor.analysis
    if analysis.uses_observation():
        raise FactorGraphError(
            f"dataset {name!r}: {type(analysis).__name__} sets black_box = True but declares "
            "observation(); a black-box analysis defines log_likelihood_function(instance) "
            "returning numbers instead."
        )
    priors = list(factor.prior_model.priors())
    try:
        probe = _evaluate(factor, priors, [p.median() for p in priors])
    except (TypeError, ValueError) as error:
        raise FactorGraphError(
            f"dataset {name!r}: the black-box log_likelihood_function of "
            f"{type(analysis).__name__} did not return numbers at the prior medians ({error})."
        ) from error
    shape = probe.shape
    size = int(np.prod(shape))

    class BlackBoxLogLikelihood(Op):
        """Pointwise log-likelihood of one black-box dataset (no gradient)."""

        __props__ = ()

        def make_node(self, values: Any) -> Apply:
            values = pt.as_tensor_variable(values)
            return Apply(self, [values], [pt.dvector()])

        def perform(self, node: Any, inputs: Any, outputs: Any) -> None:
            out = _evaluate(factor, priors, inputs[0]).reshape(-1)
            if out.size != size:
                out = np.full(size, -np.inf)  # a wrong-sized answer means no valid likelihood
            outputs[0][0] = np.where(np.isnan(out), -np.inf, out)

        def __str__(self) -> str:
            return f"BlackBoxLogLikelihood[{name}]"

    values = pt.stack([pt.cast(pt.as_tensor(tensors[p]), "float64") for p in priors])
    flat = BlackBoxLogLikelihood()(values)
    return flat.reshape(shape) if shape else flat[0]

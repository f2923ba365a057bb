"""The black-box likelihood as a PyTensor ``Op``: a numpy-only ``log_likelihood_function`` of a
:class:`~graphfit.BlackBoxAnalysis`, called with the dataset's parameter values as floats.

The ``Op`` has no gradient, so a graph holding one is sampled with a gradient-free search (see
:mod:`graphfit.search`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphfit.exceptions import FactorGraphError
from graphfit.spec.factor_graph import AnalysisFactor
from graphfit.spec.priors import Prior

__all__ = ["black_box_log_likelihood"]


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
    # import time: `import graphfit` loads numpy only
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

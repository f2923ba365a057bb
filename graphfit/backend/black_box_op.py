"""Numpy likelihoods as PyTensor Ops, called with the dataset's parameter values as floats.

Two kinds of analysis run this way:

* a :class:`~graphfit.BlackBoxAnalysis` (``black_box = True``): the ``Op`` has no gradient, so
  a graph holding one is sampled with a gradient-free search (see :mod:`graphfit.search`);
* an analysis whose code cannot be traced symbolically (numpy calls on the parameters, see
  :mod:`graphfit.backend.tracing`): the ``Op``'s gradient is a second ``Op`` computing the
  Jacobian of the pointwise log-likelihood by central finite differences, so NUTS and
  gradient-based optimisers still run.

Central differences with step ``h = eps**(1/3) * max(|x|, 1)`` have error of order ``h**2``
in the derivative (relative error about ``1e-10`` for smooth code), far below what NUTS
notices.  Where one side is not finite (a parameter at the edge of where the code is defined)
the one-sided difference is used.  Code that raises Python's arithmetic errors there
(``math.log`` of a negative number, a division by zero) counts as not finite, as numpy's
NaN and inf do; its other errors pass through.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from graphfit.exceptions import FactorGraphError, GraphfitError, for_dataset
from graphfit.spec.analysis import numpy_log_likelihood
from graphfit.spec.factor_graph import AnalysisFactor
from graphfit.spec.priors import Prior

__all__ = ["black_box_log_likelihood", "evaluate_numpy", "finite_difference_jacobian"]

_STEP = np.finfo(float).eps ** (1.0 / 3.0)


@functools.cache
def _numpy_code_op() -> type:
    """The base class of these Ops.  PyTensor's numba backend (PyMC 6's default) runs an ``Op``
    it has no numba form of in numba's object mode, warning once per ``Op`` that it does; for
    these Ops calling Python is the point, so that warning is left out."""
    # import time: `import graphfit` loads numpy only
    from pytensor.graph.op import Op

    class NumpyCodeOp(Op):
        """An ``Op`` whose ``perform`` calls the user's numpy code."""

    if importlib.util.find_spec("numba") is not None:
        # optional: numba, with PyTensor's numba backend (nutpie's and PyMC 6's dependency)
        from pytensor.link.numba.dispatch import basic

        @basic.numba_funcify.register(NumpyCodeOp)
        def _object_mode(op: Any, node: Any = None, **kwargs: Any) -> Any:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Numba will use object mode", UserWarning)
                return basic.generate_fallback_impl(op, node, **kwargs)

    return NumpyCodeOp


def evaluate_numpy(factor: AnalysisFactor, priors: list[Prior], values: Any) -> np.ndarray:
    """The factor's log-likelihood computed with numpy, its ``priors`` at ``values`` (the
    analysis's own code; numpy's floating-point warnings silenced)."""
    instance = factor.prior_model.instance_from(
        dict(zip(priors, (float(v) for v in values), strict=True)), np
    )
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(numpy_log_likelihood(factor.analysis, instance), dtype=float)


def finite_difference_jacobian(
    function: Callable[[np.ndarray], np.ndarray], values: np.ndarray, size: int
) -> np.ndarray:
    """Jacobian ``(size, len(values))`` of the flat output of ``function`` at ``values``, by
    central differences (one-sided where one side is not finite, zero where neither is).

    Examples
    --------
    >>> import numpy as np
    >>> jacobian = finite_difference_jacobian(lambda v: np.array([v[0] * v[1], v[0] ** 2]),
    ...                                       np.array([2.0, 3.0]), 2)
    >>> np.round(jacobian, 6).tolist()
    [[3.0, 2.0], [4.0, 0.0]]
    """
    values = np.asarray(values, dtype=float)
    jacobian = np.zeros((size, values.size))
    centre = None
    for j in range(values.size):
        step = _STEP * max(abs(values[j]), 1.0)
        up, down = values.copy(), values.copy()
        up[j] += step
        down[j] -= step
        high, low = function(up).reshape(-1), function(down).reshape(-1)
        column = (high - low) / (2.0 * step)
        bad = ~np.isfinite(column)
        if bad.any():
            if centre is None:
                centre = function(values).reshape(-1)
            forward, backward = (high - centre) / step, (centre - low) / step
            column = np.where(bad, np.where(np.isfinite(forward), forward, backward), column)
            column = np.where(np.isfinite(column), column, 0.0)
        jacobian[:, j] = column
    return jacobian


def black_box_log_likelihood(
    name: str, factor: AnalysisFactor, tensors: dict[Prior, Any], gradient: bool = False
) -> Any:
    """The pointwise log-likelihood tensor of a numpy factor (an ``Op`` of its priors).

    The analysis is called once at the priors' medians to learn the output's shape.  With
    ``gradient``, the ``Op`` has a finite-difference gradient (see the module docstring).

    Raises
    ------
    FactorGraphError
        When a black-box analysis also declares an observation, or the log-likelihood at the
        prior medians is not a real number or array of them.
    """
    # import time: `import graphfit` loads numpy only
    import pytensor.tensor as pt
    from pytensor.graph.basic import Apply

    # a class made at run time (PyTensor is imported late): as a base class, mypy takes it as Any
    Op: Any = _numpy_code_op()
    analysis = factor.analysis
    if not gradient and analysis.uses_observation():
        raise FactorGraphError(
            f"dataset {name!r}: {type(analysis).__name__} sets black_box = True but declares "
            "observation(); a black-box analysis defines log_likelihood_function(instance) "
            "returning numbers instead."
        )
    priors = list(factor.prior_model.priors())
    try:
        probe = evaluate_numpy(factor, priors, [p.median() for p in priors])
    except GraphfitError as error:
        raise for_dataset(name, error) from None
    except Exception as error:  # any failure of user code at the prior medians
        raise FactorGraphError(
            f"dataset {name!r}: the numpy log-likelihood of {type(analysis).__name__} did not "
            f"return numbers at the prior medians ({type(error).__name__}: {error})."
        ) from error
    shape = probe.shape
    size = int(np.prod(shape))

    def evaluate(values: np.ndarray) -> np.ndarray:
        try:
            out = evaluate_numpy(factor, priors, values).reshape(-1)
        except GraphfitError:
            raise
        except (ArithmeticError, ValueError):  # math.log(-1.0), 1 / 0.0: numpy's NaN or inf
            return np.full(size, -np.inf)
        if out.size != size:
            return np.full(size, -np.inf)  # a wrong-sized answer means no valid likelihood
        return np.where(np.isnan(out), -np.inf, out)

    class NumpyLogLikelihoodJacobian(Op):
        """Finite-difference Jacobian of one numpy dataset's pointwise log-likelihood."""

        __props__ = ()

        def make_node(self, values: Any) -> Apply:
            return Apply(self, [pt.as_tensor_variable(values)], [pt.dmatrix()])

        def perform(self, node: Any, inputs: Any, outputs: Any) -> None:
            outputs[0][0] = finite_difference_jacobian(evaluate, inputs[0], size)

        def __str__(self) -> str:
            return f"NumpyLogLikelihoodJacobian[{name}]"

    class NumpyLogLikelihood(Op):
        """Pointwise log-likelihood of one numpy dataset."""

        __props__ = ()

        def make_node(self, values: Any) -> Apply:
            values = pt.as_tensor_variable(values)
            return Apply(self, [values], [pt.dvector()])

        def perform(self, node: Any, inputs: Any, outputs: Any) -> None:
            outputs[0][0] = evaluate(inputs[0])

        def __str__(self) -> str:
            return f"NumpyLogLikelihood[{name}]"

    class DifferentiableNumpyLogLikelihood(NumpyLogLikelihood):
        """With the finite-difference gradient: ``pullback`` is what PyTensor 3 calls, ``grad``
        what PyTensor 2 calls."""

        def pullback(self, inputs: Any, outputs: Any, cotangents: Any) -> list[Any]:
            return [pt.dot(cotangents[0], NumpyLogLikelihoodJacobian()(inputs[0]))]

        def grad(self, inputs: Any, output_gradients: Any) -> list[Any]:
            return self.pullback(inputs, None, output_gradients)

    values = pt.stack([pt.cast(pt.as_tensor(tensors[p]), "float64") for p in priors])
    op = DifferentiableNumpyLogLikelihood() if gradient else NumpyLogLikelihood()
    flat = op(values)
    return flat.reshape(shape) if shape else flat[0]

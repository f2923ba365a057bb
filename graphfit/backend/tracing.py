"""Whether a dataset's code traces into a PyTensor graph, or must run as numpy code.

User code is called with symbolic parameters when the model is compiled.  Code written with the
array namespace ``xp`` (or plain arithmetic) becomes a small graph with exact gradients.  Code
written with numpy calls on the parameters, as PyAutoFit's analyses are, goes wrong in one of
three ways, each found here before anything is compiled:

* it raises (``scipy.stats`` on a tensor, an ``if`` on a parameter, ``np.sum(..., out=)``);
* numpy makes an object array, one symbolic scalar per data point (``np.subtract(x, centre)``);
* the graph grows with the data (Python's ``sum`` over a tensor, or an object array reduced to
  one tensor): PyTensor and numba then compile for minutes at gigabytes of memory.

Such a dataset's likelihood is evaluated with numpy instead, through an ``Op`` whose gradient
comes from finite differences (:mod:`graphfit.backend.black_box_op`), and a
:class:`NumpyLikelihoodWarning` says so once per analysis class.  The trial trace runs under a
time limit (where signals allow) and its graph size is counted up to ``NODE_LIMIT``.
"""

from __future__ import annotations

import signal
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphfit.backend.black_box_op import evaluate_numpy
from graphfit.backend.tensor_namespace import pytensor_namespace
from graphfit.exceptions import DataError, FactorGraphError, GraphfitError, for_dataset
from graphfit.spec.analysis import call_log_likelihood
from graphfit.spec.black_box import is_black_box
from graphfit.util import user_stacklevel

__all__ = [
    "NODE_LIMIT",
    "TRACE_SECONDS",
    "NumpyLikelihoodWarning",
    "Trace",
    "graph_size",
    "numpy_code_factors",
    "trace_analysis",
]

#: Largest graph of one dataset's likelihood traced symbolically.  Graphs of written-out
#: models are tens of operations (graphfit's Gaussian profile: 14, with its Gaussian
#: likelihood: 23); numpy code on the parameters makes about 10 per data point (604 for 60
#: points), and a graph of 1227 such operations took nutpie's compiler over 11 minutes.
NODE_LIMIT = 250
#: Seconds the trial trace of one analysis may take before its code is run as numpy.
TRACE_SECONDS = 10.0


class NumpyLikelihoodWarning(UserWarning):
    """A dataset's likelihood runs as numpy code with finite-difference gradients (slower than
    code written with ``xp``); the message says why and what to change."""


@dataclass(frozen=True)
class Trace:
    """The outcome of tracing one analysis: ``symbolic`` or not, and why not."""

    symbolic: bool
    reason: str = ""


class _TraceTimeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float) -> Any:
    """Raise :class:`_TraceTimeout` in the block after ``seconds`` (main thread of a process
    with ``SIGALRM`` only; elsewhere no limit)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _TraceTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def graph_size(outputs: list[Any], limit: int = NODE_LIMIT) -> int:
    """Number of operations computing ``outputs``, counted up to ``limit + 1``."""
    seen: set[int] = set()
    stack = [v for v in outputs if getattr(v, "owner", None) is not None]
    while stack and len(seen) <= limit:
        node = stack.pop().owner
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(v for v in node.inputs if v.owner is not None and id(v.owner) not in seen)
    return len(seen)


def _outputs(analysis: Any, instance: Any, xp: Any) -> list[Any]:
    """What the compiler would take from the analysis: an observation's predicted quantities
    or the custom log-likelihood."""
    if analysis.uses_observation():
        return list(analysis.observation(instance, xp).predicted().values())
    return [call_log_likelihood(analysis, instance, xp)]


#: What a tracing error's text says the code did, and what to write instead.
_CAUSES = (
    (
        "converted to Python float",
        "it passes a parameter to a function of Python's math module (math.log, math.exp, ...) "
        "or to float(), which take numbers only; use xp.log, xp.exp, ... instead",
    ),
    (
        "converted to Python boolean",
        "it tests a parameter with Python's if (or and, or, min, max); write the choice with "
        "xp.where(condition, value_if_true, value_if_false) instead",
    ),
)


def _reason(error: Exception) -> str:
    """Why tracing failed, in words, from the error the user's code raised."""
    text = f"{type(error).__name__}: {error}".strip().rstrip(":.").strip()
    for marker, cause in _CAUSES:
        if marker in str(error):
            return f"{cause} (it raised {text})"
    return f"it raised {text}"


def trace_analysis(analysis: Any, instance: Any, xp: Any) -> Trace:
    """Trace ``analysis`` on an ``instance`` of symbolic parameters and say whether its graph
    can be compiled.  graphfit's own errors (bad data, a wrong observation) pass through."""
    import pytensor.tensor as pt  # import time: `import graphfit` loads numpy only

    name = type(analysis).__name__
    try:
        with _time_limit(TRACE_SECONDS), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = _outputs(analysis, instance, xp)
            tensors = []
            for value in values:
                if isinstance(value, np.ndarray) and value.dtype == object:
                    return Trace(
                        False,
                        f"numpy made an array of {value.size} separate symbolic values from the "
                        "model's parameters (a numpy function such as np.subtract or np.exp was "
                        "given a parameter)",
                    )
                tensors.append(pt.as_tensor(value))
    except GraphfitError:
        raise
    except _TraceTimeout:
        return Trace(False, f"tracing {name}'s code took more than {TRACE_SECONDS:g} s")
    except Exception as error:  # numpy, SciPy or Python control flow on a symbolic parameter
        return Trace(False, _reason(error))
    size = graph_size(tensors)
    if size > NODE_LIMIT:
        return Trace(
            False,
            f"its graph has more than {NODE_LIMIT} operations (code that loops over data "
            "points, such as Python's sum(), makes one operation per point)",
        )
    return Trace(True)


def warn_numpy_path(names: str, analysis: Any, reason: str) -> None:
    """The one notice for the datasets ``names`` whose likelihood runs as numpy code."""
    cls = type(analysis).__name__
    warnings.warn(
        f"dataset(s) {names}: {cls}'s code cannot be compiled symbolically: {reason}. graphfit "
        "runs it as numpy code, with gradients from finite differences (2 calls per free "
        "parameter per gradient), which is correct but slower, and NUTS uses PyMC's sampler. "
        "For the fast path, write it with the array namespace: add an `xp` "
        "argument (def log_likelihood_function(self, instance, xp=np), "
        "def model_data_from(self, xvalues, xp=np)) and use xp.exp, xp.sum, xp.where, ... where "
        "the code has np.exp, np.sum, math.log, if, ... on parameters. Code that cannot be "
        "written so, or has no useful gradient (a simulator, a jump), sets black_box = True on "
        "its class and is fitted without gradients.",
        NumpyLikelihoodWarning,
        stacklevel=user_stacklevel(),  # the user's line, not graphfit's
    )


def _classes(model: Any) -> tuple[type, ...]:
    """The user classes a model builds (its own and its components'), depth first."""
    own = (model.cls,) if hasattr(model, "cls") else ()
    nested = tuple(c for _, v in model.items() if hasattr(v, "items") for c in _classes(v))
    return own + nested


def _runs_on_numbers(factor: Any) -> bool:
    """Whether the factor's likelihood computes with numpy at the prior medians.  graphfit's
    own errors (a log-likelihood of ``None``) pass through."""
    priors = list(factor.prior_model.priors())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluate_numpy(factor, priors, [p.median() for p in priors])
    except GraphfitError:
        raise
    except Exception:
        return False
    return True


def numpy_code_factors(
    graph: Any, plan: Any, tensors: dict[Any, Any], marginalised: set[int]
) -> set[int]:
    """Indices of the graph's datasets whose code cannot be traced symbolically.

    One trial trace per kind of dataset (analysis class and model classes): the first dataset of
    each kind is traced with its own symbolic parameters.  One
    :class:`NumpyLikelihoodWarning` per kind names the datasets that run as numpy code.

    Raises
    ------
    FactorGraphError
        When such a dataset holds a parameter of a marginalised population (its grid needs
        the symbolic log-likelihood).
    """
    xp = pytensor_namespace()
    verdicts: dict[Any, Trace] = {}
    found: dict[Any, list[int]] = {}
    for index, factor in enumerate(graph.factors):
        analysis = factor.analysis
        if is_black_box(analysis):
            continue
        key = (type(analysis), _classes(factor.prior_model))
        if key not in verdicts:
            instance = factor.prior_model.instance_from(tensors, xp)
            try:
                verdict = trace_analysis(analysis, instance, xp)
                if not verdict.symbolic and not _runs_on_numbers(factor):
                    verdict = Trace(True)  # wrong code either way: the compiler reports it
            except GraphfitError as error:
                in_observation = isinstance(error, DataError) and analysis.uses_observation()
                where = f"{type(analysis).__name__}.observation(): " if in_observation else ""
                raise for_dataset(plan.names[index], error, where) from None
            verdicts[key] = verdict
        if not verdicts[key].symbolic:
            found.setdefault(key, []).append(index)
    for key, indices in found.items():
        names = [plan.names[k] for k in indices]
        if marginalised & set(indices):
            raise FactorGraphError(
                f"dataset {names[0]!r}: {key[0].__name__}'s code cannot be compiled "
                f"symbolically ({verdicts[key].reason}), and a marginalised population needs "
                "it. Write the code with the array namespace xp, or give the population "
                "parametrization='non_centred'."
            )
        shown = ", ".join(repr(n) for n in names[:3]) + (
            f" and {len(names) - 3} more" if len(names) > 3 else ""
        )
        warn_numpy_path(shown, graph.factors[indices[0]].analysis, verdicts[key].reason)
    return {k for indices in found.values() for k in indices}

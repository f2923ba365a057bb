"""Pointwise log-likelihood of every posterior draw at once, with no compiled C code.

PyMC's ``compute_log_likelihood`` compiles the pointwise log-likelihood with PyTensor's C
backend and calls it once per draw.  In a fresh process the C backend first loads PyTensor's
index of compiled modules (seconds, and it grows with every model ever compiled on the
machine), and on a machine that never compiled this graph it compiles C code (more seconds).
For fits whose sampler needs no C (nutpie compiles with numba), that is the one thing left
that does.

Here the graph is instead *vectorised* over the draws
(:func:`pytensor.graph.replace.vectorize_graph`): every free variable gets a leading draw
dimension, and the whole graph is evaluated for a block of draws in one call of PyTensor's
Python backend, where each operation is one NumPy call on arrays of all the block's draws.  It
needs no compiler and no compiled-module index, and it costs a few NumPy calls per block
instead of one function call per draw.  Every fit's post-processing uses it
(``graphfit.search.base.finish_idata``).  A graph that cannot be vectorised (an operation
without a batched form) gives ``None``, and the caller falls back to PyMC's per-draw function.
:func:`vectorized_log_density` vectorises the model's whole log density the same way, over a
batch of unconstrained points (``gf.Emcee``'s walkers), compiled with PyTensor's default mode.

Examples
--------
>>> import numpy as np
>>> import pymc as pm
>>> from graphfit.backend.pointwise import vectorized_log_likelihood
>>> with pm.Model() as model:
...     mu = pm.Normal("mu")
...     obs = pm.Normal("obs", mu, 1.0, observed=[0.0, 1.0])
>>> function = vectorized_log_likelihood(model, ["obs"])
>>> out = function({"mu": np.zeros((2, 3))})  # 2 chains x 3 draws
>>> out["obs"].shape
(2, 3, 2)
>>> bool(np.isclose(out["obs"][0, 0, 1], -0.5 - 0.5 * np.log(2 * np.pi)))
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import reduce
from typing import Any, cast

import numpy as np

__all__ = [
    "BLOCK_VALUES",
    "VECTORIZE_MAX_VALUES",
    "checks_to_switches",
    "python_default",
    "python_mode",
    "vectorized_log_density",
    "vectorized_log_likelihood",
]

#: Values (draws x pointwise size, all observed nodes) evaluated per call; each NumPy operation
#: of a block then works on half a megabyte, which stays in the processor's cache (blocks of
#: 2**21 values took three times as long at 1,000 data points).
BLOCK_VALUES = 2**16
#: Most data values (all observed nodes) for which the log-likelihood is vectorised; above,
#: PyMC's compiled C function per draw is faster (its fused loop over the data beats one NumPy
#: pass per operation).  Measured with 4,000 draws of a Gaussian-profile model: 0.006 s
#: against 0.074 s at 100 data points, 0.055 s against 0.087 s at 1,000, even at 10,000, and
#: 3x slower at 100,000.
VECTORIZE_MAX_VALUES = 4096


def python_mode() -> Any:
    """PyTensor mode that runs every operation in Python/NumPy (no C compile, no C-module
    index): PyTensor's usual rewrites except elementwise fusion, whose fused operations would
    run element by element in Python.

    Examples
    --------
    >>> import pytensor
    >>> import pytensor.tensor as pt
    >>> from graphfit.backend.pointwise import python_mode
    >>> x = pt.dvector("x")
    >>> f = pytensor.function([x], pt.exp(x) + 1.0, mode=python_mode())
    >>> f([0.0, 0.0]).tolist()
    [2.0, 2.0]
    """
    from pytensor.compile.mode import Mode
    from pytensor.link.basic import PerformLinker

    # PyTensor's plain Python linker, not its VM: the VM's first use imports the C backend's
    # exceptions and with them setuptools (0.3-0.6 s in a fresh process, with the setuptools
    # that Python 3.11's venv installs), and runs a small graph no faster (32 against 37 us)
    mode = Mode(linker=PerformLinker(), optimizer="fast_run")
    return mode.excluding("fusion").register((_binary_rewriter(), 100.0))


def checks_to_switches(outs: Sequence[Any], check_bounds: bool) -> list[Any]:
    """``outs`` with every replaceable PyMC parameter check made a switch to ``-inf`` (or
    removed when the model does not check bounds), as PyMC's compile does later."""
    from pymc.logprob.utils import (
        CheckParameterValue,
        local_check_parameter_to_ninf_switch,
        local_remove_check_parameter,
    )
    from pytensor.graph.replace import clone_replace
    from pytensor.graph.traversal import applys_between, graph_inputs

    rewriter = (
        local_check_parameter_to_ninf_switch if check_bounds else local_remove_check_parameter
    )
    outs = list(outs)
    done: set[Any] = set()
    while True:  # one at a time: a replacement may hold another check
        for node in applys_between(list(graph_inputs(outs)), outs):
            if isinstance(node.op, CheckParameterValue) and node not in done:
                done.add(node)
                new = rewriter.transform(None, node)
                if new:
                    outs = clone_replace(outs, replace={node.outputs[0]: new[0]})
                    break
        else:
            return outs


def _binary_rewriter() -> Any:
    """A rewrite splitting elementwise sums and products of more than two terms into pairs:
    NumPy's ``add``/``multiply`` take two arrays, and PyTensor runs the n-ary ones element by
    element in Python."""

    import pytensor.scalar as ps
    import pytensor.tensor as pt
    from pytensor.graph.rewriting.basic import in2out, node_rewriter
    from pytensor.tensor.elemwise import Elemwise

    @node_rewriter([Elemwise])
    def binary_add_mul(fgraph: Any, node: Any) -> Any:
        scalar_op = node.op.scalar_op
        if len(node.inputs) <= 2 or not isinstance(scalar_op, ps.Add | ps.Mul):
            return None
        pair = pt.add if isinstance(scalar_op, ps.Add) else pt.mul
        out = reduce(pair, node.inputs)
        return [out] if out.type == node.outputs[0].type else None

    return in2out(binary_add_mul, name="graphfit_binary_add_mul")


@contextlib.contextmanager
def python_default() -> Iterator[None]:
    """Make :func:`python_mode` PyTensor's default mode while inside: for the small functions
    that PyMC compiles behind the scenes (initial points, the lengths that ``pm.set_data``
    checks), which run a few times and are not worth a C compile.

    Examples
    --------
    >>> import pytensor
    >>> import pytensor.tensor as pt
    >>> from graphfit.backend.pointwise import python_default
    >>> with python_default():
    ...     float((pt.constant(2.0) ** 2).eval())
    4.0
    """
    import pytensor

    with pytensor.config.change_flags(mode=python_mode()):
        yield


def vectorized_log_likelihood(
    model: Any, observed: Sequence[str]
) -> Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]] | None:
    """A function of the draws returning the pointwise log-likelihood of ``observed``.

    Parameters
    ----------
    model
        A PyMC model without value transforms (the free variables' values are the constrained
        ones, as in a posterior: ``remove_value_transforms(model)``); its data containers are
        read when the function runs.
    observed
        Names of observed variables.

    Returns
    -------
    callable or None
        ``f(draws)``, where ``draws`` maps every free variable's name to its values with two
        leading sample dimensions (chain, draw); it returns, by observed name, the pointwise
        log-likelihood with the same two leading dimensions.  ``None`` when the graph cannot
        be vectorised over the draws, or when the observed data hold more than
        :data:`VECTORIZE_MAX_VALUES` values (PyMC's per-draw function is faster then).

    Raises
    ------
    ValueError
        If the model has value transforms.
    """
    import pytensor.tensor as pt
    from pytensor.graph.replace import vectorize_graph

    transformed = [rv.name for rv, t in model.rvs_to_transforms.items() if t is not None]
    if transformed:
        raise ValueError(
            "vectorized_log_likelihood: the model must have no value transforms (the draws are "
            f"constrained values), but these variables have one: {', '.join(transformed)}; pass "
            "pymc.model.transform.conditioning.remove_value_transforms(model)."
        )
    try:
        from pymc.backends.arviz import find_observations

        data = find_observations(model)
        if sum(int(np.size(data[name])) for name in observed) > VECTORIZE_MAX_VALUES:
            return None
        outs = model.logp(vars=[model[name] for name in observed], sum=False)
        # a parameter check holds per draw: made a switch to -inf before vectorising (a
        # vectorised check would be one condition for all the draws of a block)
        outs = checks_to_switches(outs, model.check_bounds)
        values = [model.rvs_to_values[rv] for rv in model.free_RVs]
        names = [rv.name for rv in model.free_RVs]
        batched = [
            pt.tensor(dtype=v.type.dtype, shape=(None, *v.type.shape), name=v.name) for v in values
        ]
        vectorized = vectorize_graph(list(outs), replace=dict(zip(values, batched, strict=True)))
        # PyMC's compile: its rewrites too (a parameter check becomes -inf, as in PyMC's own
        # log-likelihood function)
        function = model.compile_fn(
            vectorized, inputs=batched, mode=python_mode(), point_fn=False, on_unused_input="ignore"
        )
    except Exception:  # no batched form of some operation: PyMC's per-draw function instead
        return None
    if not names:
        return None
    core_ndims = [out.type.ndim for out in outs]

    def evaluate(draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        arrays = [np.asarray(draws[name]) for name in names]
        sample_shape = arrays[0].shape[:2]
        n = int(np.prod(sample_shape))
        flat = [a.reshape(n, *a.shape[2:]) for a in arrays]
        blocks: list[list[np.ndarray]] = []
        start, step = 0, 1  # one draw first, to size the blocks
        while start < n:
            stop = min(n, start + step)
            results = function(*(a[start:stop] for a in flat))
            blocks.append(
                [
                    np.broadcast_to(r, (stop - start, *r.shape)) if r.ndim == core else r
                    for r, core in zip(results, core_ndims, strict=True)
                ]
            )
            if start == 0:
                per_draw = sum(int(np.prod(r.shape[1:])) for r in blocks[0])
                step = max(1, BLOCK_VALUES // max(per_draw, 1))
            start = stop
        return {
            name: np.concatenate([block[k] for block in blocks]).reshape(
                *sample_shape, *blocks[0][k].shape[1:]
            )
            for k, name in enumerate(observed)
        }

    return evaluate


def vectorized_log_density(
    model: Any, layout: Sequence[tuple[str, slice, tuple[int, ...]]]
) -> Callable[[np.ndarray], np.ndarray] | None:
    """The model's log density (Jacobian included) of a batch of flat unconstrained vectors.

    ``layout`` gives each value variable's name, slice of the vector and shape.  The function
    maps an ``(n, size)`` array to the ``n`` log densities (``-inf`` where not finite), in one
    call of a compiled function of the graph with a leading batch dimension.  ``None`` when
    the graph cannot be vectorised.

    Examples
    --------
    >>> import numpy as np
    >>> import pymc as pm
    >>> from graphfit.backend.pointwise import vectorized_log_density
    >>> with pm.Model() as model:
    ...     mu = pm.Normal("mu")
    >>> function = vectorized_log_density(model, [("mu", slice(0, 1), ())])
    >>> np.round(function(np.array([[0.0], [1.0]])) + 0.5 * np.log(2 * np.pi), 6).tolist()
    [0.0, -0.5]
    """
    import pytensor.tensor as pt
    from pytensor.graph.replace import vectorize_graph

    by_name = {v.name: v for v in model.value_vars}
    values = [by_name[name] for name, _, _ in layout]
    batched = [pt.tensor(dtype=v.type.dtype, shape=(None, *v.type.shape)) for v in values]
    try:
        # a parameter check holds per vector: a switch to -inf, not one check for the batch
        terms = checks_to_switches(model.logp(jacobian=True, sum=False), model.check_bounds)
        # tensors in, tensors out (vectorize_graph's annotation says Variable)
        terms = cast(
            "list[Any]", vectorize_graph(terms, replace=dict(zip(values, batched, strict=True)))
        )
        total = sum(t.sum(axis=tuple(range(1, t.ndim))) if t.ndim > 1 else t for t in terms)
        function = model.compile_fn(total, inputs=batched, point_fn=False, on_unused_input="ignore")
    except Exception:  # no batched form of some operation
        return None

    def log_density(x: np.ndarray) -> np.ndarray:
        n = len(x)
        with np.errstate(all="ignore"):
            out = function(*[x[:, where].reshape(n, *shape) for _, where, shape in layout])
        out = np.broadcast_to(np.asarray(out, dtype=float), (n,))
        return np.where(np.isfinite(out), out, -np.inf)

    return log_density

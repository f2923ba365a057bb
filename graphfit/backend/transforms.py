"""PyMC's value transforms in numpy: a point of the model's free variables moved between
constrained and unconstrained space without compiling anything, and the bounds of each variable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    pass

__all__ = ["backward_values", "forward_values", "ravel_pair", "transform_bounds"]


def ravel_pair(outputs: Any) -> tuple[float, np.ndarray]:
    logp, *grads = outputs
    return logp, np.concatenate([np.ravel(g) for g in grads]) if grads else np.zeros(0)


def transform_bounds(transform: Any, rv: Any) -> tuple[Any, Any]:
    """The numeric bounds of ``rv``'s interval ``transform`` (``None`` for an open side):
    constants, the current values of ``pm.Data`` containers (a swappable model's prior
    arguments), either with broadcast axes added, or their logarithms."""
    out = []
    for bound in transform.args_fn(*rv.owner.inputs):
        out.append(None if bound is None else _bound_value(bound))
    return out[0], out[1]


def _bound_value(bound: Any) -> np.ndarray:
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant
    from pytensor.scalar import Log
    from pytensor.tensor.elemwise import DimShuffle

    if isinstance(bound, Constant):
        return np.asarray(bound.data, dtype=float)
    if isinstance(bound, SharedVariable):
        return np.asarray(bound.get_value(), dtype=float)
    if isinstance(bound, np.ndarray | float | int):
        return np.asarray(bound, dtype=float)
    owner = getattr(bound, "owner", None)
    if owner is not None and isinstance(getattr(owner.op, "scalar_op", None), Log):
        return np.log(_bound_value(owner.inputs[0]))  # a log-uniform prior's
    if owner is not None and isinstance(owner.op, DimShuffle):
        order, inner = owner.op.new_order, _bound_value(owner.inputs[0])
        kept = [i for i in order if i != "x"]
        if len(kept) != inner.ndim:  # drops an axis
            raise NotImplementedError("bounds that are not constants")
        inner = np.transpose(inner, kept)
        sizes = iter(inner.shape)
        return inner.reshape([1 if i == "x" else next(sizes) for i in order])
    raise NotImplementedError("bounds that are not constants")


def backward_values(transform: Any, x: np.ndarray, rv: Any) -> np.ndarray:
    """Unconstrained -> constrained for the transforms graphfit's priors use (numpy)."""
    from pymc.distributions import transforms

    if transform is None:
        return x
    if isinstance(transform, transforms.ChainedTransform):
        for part in reversed(transform.transform_list):
            x = backward_values(part, x, rv)
        return x
    if isinstance(transform, transforms.LogTransform):
        return np.exp(x)
    if isinstance(transform, transforms.IntervalTransform):
        lower, upper = transform_bounds(transform, rv)
        if lower is not None and upper is not None:
            return lower + (upper - lower) / (1.0 + np.exp(-x))
        if lower is not None:
            return lower + np.exp(x)
        if upper is not None:
            return upper - np.exp(x)
        return x
    raise NotImplementedError(type(transform).__name__)


def forward_values(transform: Any, x: np.ndarray, rv: Any) -> np.ndarray:
    """Constrained -> unconstrained, the inverse of :func:`backward_values`."""
    from pymc.distributions import transforms

    if transform is None:
        return x
    if isinstance(transform, transforms.ChainedTransform):
        for part in transform.transform_list:
            x = forward_values(part, x, rv)
        return x
    if isinstance(transform, transforms.LogTransform):
        return np.log(x)
    if isinstance(transform, transforms.IntervalTransform):
        lower, upper = transform_bounds(transform, rv)
        with np.errstate(all="ignore"):
            if lower is not None and upper is not None:
                fraction = (x - lower) / (upper - lower)
                return np.log(fraction) - np.log1p(-fraction)
            if lower is not None:
                return np.log(x - lower)
            if upper is not None:
                return np.log(upper - x)
        return x
    raise NotImplementedError(type(transform).__name__)

"""Vectorisation: factors that share structure become one observed node over stacked data.

Factors are *alike* when their analyses return the same
:meth:`~graphfit.Analysis.vectorize_key` (same analysis type and data shape) and their models have
the same component tree.  For a group of
alike factors the compiler builds one *batched instance* of the user's class: a parameter shared
by the group is a scalar, a parameter that differs is a vector over the group reshaped to
``(n, 1, ..., 1)``, so elementwise component code broadcasts to model data of shape
``(n, *data_shape)``; per-dataset constants in relations (the ``x`` of ``m*x + c``) become
vectors.  The compiler evaluates the first analysis's ``observation`` once on that instance.

Whether a group really can be batched is checked numerically, not assumed: the batched model
data is computed with numpy at two parameter points and compared with each factor evaluated on
its own.  Code that reduces over the data axis, or analyses whose predictions depend on more than
their data, fail the check and are compiled one node per factor.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphfit.spec.model import AbstractModel, Collection, CollectionInstance, Model
from graphfit.spec.observations import Observation
from graphfit.spec.priors import Prior
from graphfit.spec.relations import _BINARY, Relation

__all__ = ["BatchContext", "NotBatchable", "batched_instance", "group_factors", "model_signature"]


class NotBatchable(Exception):
    """Internal: a group of factors cannot be evaluated as one batch."""


def model_signature(model: AbstractModel) -> tuple:
    """Component classes and attribute names of a model tree (not the values)."""
    cls = model.cls if isinstance(model, Model) else Collection
    return (
        cls,
        tuple(
            (k, model_signature(v) if isinstance(v, AbstractModel) else None)
            for k, v in model.items()
        ),
    )


def group_factors(factors: Sequence[Any]) -> list[list[int]]:
    """Indices of alike factors, grouped (groups of one are factors compiled on their own)."""
    groups: dict[Any, list[int]] = {}
    order: list[Any] = []
    for index, factor in enumerate(factors):
        analysis = factor.analysis
        key = analysis.vectorize_key() if analysis.uses_observation() else None
        if key is None:
            key = ("single", index)
        key = (key, model_signature(factor.prior_model))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(index)
    return [groups[k] for k in order]


@dataclass
class BatchContext:
    """How to get values of priors for one batch: scalars and vectors over the group.

    Parameters
    ----------
    scalar
        Value of one prior (a scalar tensor or float).
    vector
        Values of several priors, one per factor, as a 1D tensor or array.
    xp
        Array namespace used for relations.
    ndim
        Number of data dimensions; vectors are reshaped to ``(n,) + (1,) * ndim``.
    """

    scalar: Callable[[Prior], Any]
    vector: Callable[[list[Prior]], Any]
    xp: Any
    ndim: int

    def column(self, vector: Any) -> Any:
        """A per-factor vector shaped to broadcast against the data axes."""
        if self.ndim == 0:
            return vector
        return vector[(slice(None),) + (None,) * self.ndim]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def batch_value(objects: list[Any], ctx: BatchContext) -> Any:
    """The batched value of one model slot, given the object in that slot for each factor."""
    first = objects[0]
    if all(o is first for o in objects):
        if isinstance(first, Prior):
            return ctx.scalar(first)
        if isinstance(first, Relation):
            return _relation(first, ctx)
        return first
    if all(isinstance(o, Prior) for o in objects):
        return ctx.column(ctx.vector(objects))
    if all(_is_number(o) for o in objects):
        if all(o == first for o in objects):
            return first
        return ctx.column(np.asarray(objects, dtype=float))
    if all(isinstance(o, np.ndarray) for o in objects):
        if all(o.shape == first.shape and np.array_equal(o, first) for o in objects):
            return first
        raise NotBatchable("fixed arrays differ between datasets")
    if all(isinstance(o, Relation) for o in objects):
        if any(o.op != first.op or len(o.operands) != len(first.operands) for o in objects):
            raise NotBatchable("relations of different form")
        args = [
            batch_value([o.operands[k] for o in objects], ctx) for k in range(len(first.operands))
        ]
        return _apply(first.op, args, ctx.xp)
    raise NotBatchable("values of different kinds in one model slot")


def _relation(relation: Relation, ctx: BatchContext) -> Any:
    args = [
        batch_value([operand], ctx) if isinstance(operand, Prior | Relation) else operand
        for operand in relation.operands
    ]
    return _apply(relation.op, args, ctx.xp)


def _apply(op: str, args: list[Any], xp: Any) -> Any:
    if op in _BINARY:
        return _BINARY[op][1](*args)
    if op == "neg":
        return -args[0]
    return getattr(xp, op)(args[0])


def batched_instance(models: Sequence[AbstractModel], ctx: BatchContext) -> Any:
    """One instance of the user's classes holding batched values (see the module docstring)."""
    first = models[0]
    values = {
        name: (
            batched_instance([m._values[name] for m in models], ctx)
            if isinstance(value, AbstractModel)
            else batch_value([m._values[name] for m in models], ctx)
        )
        for name, value in first.items()
    }
    if isinstance(first, Model):
        return first.cls(**values)
    return CollectionInstance(values)


def _stacked(point: dict[Prior, float], priors: Sequence[Prior]) -> np.ndarray:
    """The values of ``priors`` at ``point``, as one array."""
    return np.asarray([point[p] for p in priors])


def numpy_check(
    models: Sequence[AbstractModel],
    analyses: Sequence[Any],
    observations: Sequence[Observation],
    rng: np.random.Generator,
) -> bool:
    """True when batched numpy evaluation equals per-factor evaluation at two random points.

    Every quantity an observation takes from the model or the analysis
    (:meth:`~graphfit.spec.observations.Observation.predicted`) is compared.
    """
    priors: dict[int, Prior] = {}
    for model in models:
        for prior in model.priors():
            priors.setdefault(id(prior), prior)
    ndim = observations[0].data.ndim
    for attempt in range(2):
        point = {
            p: p.median() * (1.0 + (0.05 * rng.uniform(-1, 1) if attempt else 0.0))
            for p in priors.values()
        }
        ctx = BatchContext(
            scalar=point.__getitem__,
            vector=functools.partial(_stacked, point),
            xp=np,
            ndim=ndim,
        )
        shape = observations[0].data.shape
        try:
            with np.errstate(all="ignore"):
                instance = batched_instance(models, ctx)
                batched = analyses[0].observation(instance, np).predicted()
                separate = [
                    a.observation(m.instance_from(point, np), np).predicted()
                    for m, a in zip(models, analyses, strict=True)
                ]
                for key, value in batched.items():
                    stacked = np.stack(
                        [np.broadcast_to(np.asarray(s[key], dtype=float), shape) for s in separate]
                    )
                    value = np.broadcast_to(np.asarray(value, dtype=float), stacked.shape)
                    if not np.allclose(value, stacked, rtol=1e-10, atol=1e-12, equal_nan=True):
                        return False
        except Exception:  # any failure of user code on batched values means "do not batch"
            return False
    return True

"""Search chaining: prior passing from a fit to the next, and PyAutoFit's ``take_attributes`` and
``as_model``.

``result.model`` is a new model of the dataset (:func:`centred_model`): each free prior is
replaced by a Gaussian centred on the posterior median, of width the larger of the lower and
upper errors at 3 sigma (PyAutoFit's rule when it passes errors), truncated to the original
prior's limits (a :class:`~graphfit.TruncatedGaussianPrior`; a plain
:class:`~graphfit.GaussianPrior` when the original had no limits).  Where the posterior has no
spread (an optimiser's single sample) the width is the original prior's own: half the distance
between its 0.159 and 0.841 quantiles.  Relations, assertions, fixed values and shared
priors keep their structure with the new priors (:func:`with_priors`).  The input model is
never changed.

:func:`take_attributes` copies into a model the values (from an instance) or priors (from a
model) found at its parameters' paths; :func:`as_model` turns an instance back into a model,
freeing the components of the classes asked for.  ``graphfit.results`` registers both as the
``take_attributes`` and ``as_model`` services (:mod:`graphfit.spec.services`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from graphfit.exceptions import ConstraintError, SamplesError
from graphfit.results.instance_tree import instance_fields
from graphfit.spec.model import AbstractModel, Collection, CollectionInstance, Model
from graphfit.spec.priors import GaussianPrior, Prior, TruncatedGaussianPrior
from graphfit.spec.relations import Assertion, Expression, Relation

__all__ = ["as_model", "centred_model", "gaussian_like", "take_attributes", "with_priors"]

#: The sigma of the errors that set the width of a passed prior (PyAutoFit's default).
PASSING_SIGMA = 3.0


def _substitute(value: Any, mapping: Mapping[Prior, Prior]) -> Any:
    if isinstance(value, Prior):
        return mapping.get(value, value)
    if isinstance(value, Relation):
        return Relation(value.op, tuple(_substitute(o, mapping) for o in value.operands))
    if isinstance(value, Assertion):
        return Assertion(
            value.op, _substitute(value.left, mapping), _substitute(value.right, mapping)
        )
    return value


def _at(model: Any, path: Sequence[str]) -> Any:
    for name in path:
        model = getattr(model, name)
    return model


def with_priors(model: AbstractModel, mapping: Mapping[Prior, Prior]) -> AbstractModel:
    """A copy of ``model`` with each prior ``p`` replaced by ``mapping[p]`` (where given).

    Relations are rebuilt on the new priors, assertions too, and a prior used in several places
    is replaced by the same new prior everywhere, so sharing is kept.  ``model`` is unchanged.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.chaining import with_priors
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> model.sigma = model.normalization * 0.5
    >>> new_centre = gf.GaussianPrior(50.0, 1.0)
    >>> new = with_priors(model, {model.centre: new_centre})
    >>> new.centre is new_centre, new.normalization is model.normalization, new is model
    (True, True, False)
    """
    new = model.copy()
    for path, value in model.leaves():
        if isinstance(value, Expression):
            setattr(_at(new, path[:-1]), path[-1], _substitute(value, mapping))
    owners = [new] + [_at(new, p[:-1]) for p, _ in model.leaves() if len(p) > 1]
    done: set[int] = set()
    for owner in owners:
        if id(owner) in done:
            continue
        done.add(id(owner))
        assertions = owner.__dict__.get("_assertions")
        if assertions:
            owner.__dict__["_assertions"] = [_substitute(a, mapping) for a in assertions]
    return new


def gaussian_like(prior: Prior, mean: float, width: float) -> GaussianPrior:
    """A Gaussian prior of ``mean`` and ``width`` within ``prior``'s limits, keeping its name.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.chaining import gaussian_like
    >>> gaussian_like(gf.UniformPrior(0.0, 100.0), 50.0, 2.0)
    TruncatedGaussianPrior(mean=50.0, sigma=2.0, lower_limit=0.0, upper_limit=100.0)
    >>> gaussian_like(gf.GaussianPrior(0.0, 10.0), 1.0, 0.5)
    GaussianPrior(mean=1.0, sigma=0.5)
    """
    lower, upper = prior.support()
    if math.isfinite(lower) or math.isfinite(upper):
        return TruncatedGaussianPrior(mean, width, lower, upper, name=prior.name)
    return GaussianPrior(mean, width, name=prior.name)


def _fallback_width(prior: Prior) -> float:
    """Half the distance between the prior's 1-sigma-equivalent quantiles."""
    tail = 0.5 * (1.0 - math.erf(1.0 / math.sqrt(2.0)))
    low, high = (float(np.asarray(prior.quantile(q))) for q in (tail, 1.0 - tail))
    return 0.5 * (high - low)


def centred_model(
    model: AbstractModel,
    priors: Sequence[Prior],
    medians: Sequence[float],
    widths: Sequence[float] | Callable[[Prior, float], float],
    owner: str = "result.model",
) -> AbstractModel:
    """``model`` with each of ``priors`` replaced by :func:`gaussian_like` at its median.

    ``widths`` gives one width per prior, or computes it from ``(prior, median)``; a width that
    is not > 0 falls back to the prior's own (see the module docstring).
    """
    mapping = {}
    for k, (prior, median) in enumerate(zip(priors, medians, strict=True)):
        width = widths(prior, median) if callable(widths) else widths[k]
        if not (math.isfinite(width) and width > 0.0):
            width = _fallback_width(prior)
        if not (math.isfinite(width) and width > 0.0):
            raise SamplesError(
                f"{owner}: the passed prior of {prior!r} has width {width!r}; give a width "
                "> 0, e.g. result.model_centred_absolute(a=1.0)."
            )
        mapping[prior] = gaussian_like(prior, float(median), float(width))
    return with_priors(model, mapping)


def _get(source: Any, name: str) -> Any:
    if isinstance(source, Mapping):
        return source[name]
    return getattr(source, name)


def _takeable(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real | Expression):
        return True
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number)


def take_attributes(model: AbstractModel, source: Any) -> None:
    """Set each parameter of ``model`` that ``source`` has at the same path, in place.

    ``source`` is an instance (its values become fixed numbers), a model (its priors, relations
    or fixed values are used; a prior taken is the same parameter in both models) or a dict.
    Parameters missing from ``source`` and relations of ``model`` are left as they are.

    Raises
    ------
    ConstraintError
        When ``model`` has assertions (taking attributes would replace priors they use); call
        ``take_attributes`` before ``add_assertion``.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.chaining import take_attributes
    >>> model = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian))
    >>> instance = gf.Collection(
    ...     gaussian=gf.Model(gf.ex.Gaussian, centre=50.0, normalization=25.0, sigma=10.0)
    ... ).instance_from({})
    >>> take_attributes(model, instance)
    >>> model.gaussian.centre, model.total_free_parameters
    (50.0, 0)
    """
    if model.assertions:
        raise ConstraintError(
            f"take_attributes: the model has {len(model.assertions)} assertion(s) "
            f"({model.assertions[0]!r}, ...), whose priors it could replace; call "
            "take_attributes before add_assertion."
        )
    for path, value in list(model.leaves()):
        if isinstance(value, Relation):
            continue
        try:
            found = source
            for name in path:
                found = _get(found, name)
        except (AttributeError, KeyError, TypeError):
            continue
        if _takeable(found):
            setattr(_at(model, path[:-1]), path[-1], found)


def as_model(
    instance: Any,
    model_classes: type | tuple[type, ...] = (),
    excluded_classes: type | tuple[type, ...] = (),
) -> Any:
    """A model of ``instance``: each component a :class:`~graphfit.Model` of its class with its
    values fixed, except components of ``model_classes``, which become free models of their
    class (its ``default_priors``).

    Collection instances, dicts and lists become :class:`~graphfit.Collection`\\ s; priors,
    models, numbers and arrays are kept as they are.  Components of ``excluded_classes`` keep
    their values: they and everything inside them stay fixed, even where they are also of
    ``model_classes``.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.chaining import as_model
    >>> instance = gf.Collection(
    ...     gaussian=gf.Model(gf.ex.Gaussian, centre=50.0, normalization=25.0, sigma=10.0)
    ... ).instance_from({})
    >>> as_model(instance).total_free_parameters
    0
    >>> as_model(instance, model_classes=gf.ex.Gaussian).gaussian
    Model(Gaussian, free parameters: 3)
    >>> as_model(instance, gf.ex.Gaussian, excluded_classes=gf.ex.Gaussian).gaussian
    Model(Gaussian, free parameters: 0)
    """

    if isinstance(instance, Prior | AbstractModel | Expression):
        return instance
    if isinstance(instance, excluded_classes):
        model_classes = ()  # fixed, with whatever it holds

    def convert(value: Any) -> Any:
        return as_model(value, model_classes, excluded_classes)

    if isinstance(instance, CollectionInstance):
        return Collection(**{k: convert(v) for k, v in instance.items()})
    if isinstance(instance, Mapping):
        return Collection(**{str(k): convert(v) for k, v in instance.items()})
    if isinstance(instance, list | tuple) and not isinstance(instance, str):
        return Collection(*[convert(v) for v in instance])
    fields = instance_fields(instance)
    if fields is None:
        return instance
    if isinstance(instance, model_classes):
        return Model(type(instance))
    return Model(type(instance), **{name: convert(value) for name, value in fields})

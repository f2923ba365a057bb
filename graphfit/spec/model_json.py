"""Models as JSON-able dictionaries: ``model.dict()`` and ``gf.Model.from_dict(d)``.

The layout follows PyAutoFit's, so that files written by either can be read here:

* a model: ``{"type": "model", "class_path": "package.module.Class", "arguments": {...}}``; a
  collection: ``{"type": "collection", "arguments": {...}}``; an array:
  ``{"type": "array", "shape": [2, 2], "arguments": {"prior_0_0": ...}}``; each may hold
  ``"assertions"``: ``[{"op": ">", "left": ..., "right": ...}]``;
* a prior: ``{"type": "UniformPrior", "id": 0, "lower_limit": 0.0, "upper_limit": 1.0}``, with
  ``"name"`` when it has one and ``"class_path"`` for a kind defined outside graphfit.  The
  ``id`` numbers the model's priors in their canonical order; every use of one prior has the
  same ``id`` and comes back as one object.  Infinite limits are written ``"inf"``/``"-inf"``;
* a relation: ``{"type": "relation", "op": "mul", "operands": [...]}``;
* a fixed value: the number itself, or ``{"type": "ndarray", "dtype": ..., "values": [...]}``;
  a parameter without a value: ``null``.

Component classes are stored by their import path and imported again when read, so they must
be importable (defined at the top level of a module).  PyAutoFit's prior names (``"Uniform"``,
``"TruncatedGaussian"``), its ``"instance"`` and ``"constant"`` entries and its tuples are read
too.

The model classes register themselves in ``KINDS`` (by their ``serial_type``), so this
module needs no import of them.
"""

from __future__ import annotations

import importlib
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from graphfit.exceptions import GraphfitError
from graphfit.spec import priors as prior_kinds
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Assertion, Relation

__all__ = ["KINDS", "ModelInputError", "from_dict", "import_class", "to_dict"]

#: The model classes by the ``"type"`` of their dictionaries (filled as they are defined).
KINDS: dict[str, type] = {}

#: Keys of a PyAutoFit prior's dictionary that describe nothing graphfit uses.
_PYAUTOFIT_PRIOR_KEYS = ("width_modifier", "limits")


class ModelInputError(GraphfitError, ValueError):
    """A vector, unit vector or dictionary given to a model does not fit it.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.Model(gf.ex.Gaussian).instance_from_vector([1.0, 2.0])
    ... except gf.ModelInputError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    instance_from_vector: vector has 2 values, but the model has 3 free parameters ...
    """


def _builtin_priors() -> dict[str, type[Prior]]:
    kinds: dict[str, type[Prior]] = {}
    for name in prior_kinds.__all__:
        kind = getattr(prior_kinds, name)
        if isinstance(kind, type) and issubclass(kind, Prior) and kind.arguments:
            kinds[name] = kind
            kinds[name.removesuffix("Prior")] = kind  # PyAutoFit's names
    return kinds


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def import_class(path: str) -> type:
    """The class at the import path ``path`` (``"graphfit.ex.components.Gaussian"``).

    Raises
    ------
    ModelInputError
        If no module of the path can be imported, the class is not in it, the object is not a
        class, or the class was defined inside a function.

    Examples
    --------
    >>> from graphfit.spec.model_json import import_class
    >>> import_class("graphfit.ex.components.Gaussian").__name__
    'Gaussian'
    """
    if not isinstance(path, str) or not path:
        raise ModelInputError(f"from_dict: class_path must be an import path, got {path!r}.")
    if "<locals>" in path:
        raise ModelInputError(
            f"from_dict: the class {path!r} was defined inside a function and cannot be "
            "imported again; define it at the top level of a module."
        )
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            obj: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name is not None and not module_name.startswith(error.name):
                raise  # the module exists but one of its own imports is missing
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute, None)
        if isinstance(obj, type):
            return obj
        raise ModelInputError(
            f"from_dict: {path!r} is not a class (module {module_name!r} has "
            f"{'no ' + repr('.'.join(parts[cut:])) if obj is None else repr(obj)}); the "
            "model's class must be importable at the path it was saved with."
        )
    raise ModelInputError(
        f"from_dict: cannot import a module of the class path {path!r}; the model's class "
        "must be importable at the path it was saved with."
    )


# -- writing -------------------------------------------------------------------------------------
def _limit(value: float) -> float | str:
    return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")


def _fixed(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"type": "ndarray", "dtype": value.dtype.str, "values": value.tolist()}
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return _limit(float(value))
    raise ModelInputError(  # pragma: no cover - models accept no other values
        f"dict: cannot write the value {value!r} of type {type(value).__name__}."
    )


def _prior(prior: Prior, index: Mapping[int, int]) -> dict[str, Any]:
    d: dict[str, Any] = {"type": type(prior).__name__, "id": index[id(prior)]}
    if _builtin_priors().get(type(prior).__name__) is not type(prior):
        d["class_path"] = _class_path(type(prior))
    d.update({k: _limit(float(v)) for k, v in prior.values.items()})
    if prior.name is not None:
        d["name"] = prior.name
    return d


def _encode(value: Any, index: Mapping[int, int]) -> Any:
    if value is None:
        return None
    if isinstance(value, Prior):
        return _prior(value, index)
    if isinstance(value, Relation):
        return {
            "type": "relation",
            "op": value.op,
            "operands": [_encode(o, index) for o in value.operands],
        }
    kind = getattr(type(value), "serial_type", None)
    if kind in KINDS:
        d: dict[str, Any] = {"type": kind}
        if kind == "model":
            d["class_path"] = _class_path(value.cls)
        if kind == "array":
            d["shape"] = list(value.shape)
        d["arguments"] = {k: _encode(v, index) for k, v in value.items()}
        own = {id(p) for p in value.priors()}
        assertions = [
            {"op": a.op, "left": _encode(a.left, index), "right": _encode(a.right, index)}
            for a in value.__dict__.get("_assertions", [])
            if all(id(p) in own for p in a.priors())
        ]
        if assertions:
            d["assertions"] = assertions
        return d
    return _fixed(value)


def to_dict(model: Any) -> dict[str, Any]:
    """The dictionary of a model (see the module docstring); ``model.dict()`` calls it."""
    index = {id(p): k for k, p in enumerate(model.priors())}
    return _encode(model, index)


# -- reading -------------------------------------------------------------------------------------
def _number(value: Any, where: str) -> Any:
    if isinstance(value, str) and value.lower() in ("inf", "+inf", "infinity", "-inf", "-infinity"):
        return float(value)
    if isinstance(value, numbers.Real):
        return value
    raise ModelInputError(f"from_dict: {where} must be a number, got {value!r}.")


def _read_prior(d: Mapping[str, Any], loaded: dict[Any, Prior], where: str) -> Prior:
    key = d.get("id")
    if key is not None and key in loaded:
        return loaded[key]
    kinds = _builtin_priors()
    if "class_path" in d:
        kind = import_class(d["class_path"])
        if not issubclass(kind, Prior):
            raise ModelInputError(
                f"from_dict: {where}: {d['class_path']!r} is not a prior kind: the class "
                f"{kind.__name__} is not a subclass of gf.Prior."
            )
    else:
        kind = kinds[d["type"]]
    reserved = ("type", "id", "name", "class_path", *_PYAUTOFIT_PRIOR_KEYS)
    arguments = {k: v for k, v in d.items() if k not in reserved}
    unknown = sorted(set(arguments) - set(kind.arguments))
    if unknown:
        raise ModelInputError(
            f"from_dict: {where}: {kind.__name__} has no argument {unknown[0]!r}; its "
            f"arguments are: {', '.join(kind.arguments)}."
        )
    values = {k: _number(v, f"{where}.{k}") for k, v in arguments.items()}
    prior = kind(**values, name=d.get("name"))
    if key is not None:
        loaded[key] = prior
    return prior


def _set(model: Any, arguments: Mapping[str, Any], loaded: dict[Any, Prior], where: str) -> None:
    for name, value in arguments.items():
        setattr(model, name, _decode(value, loaded, f"{where}.{name}"))


def _read_model(d: Mapping[str, Any], loaded: dict[Any, Prior], where: str) -> Any:
    kind = d["type"]
    arguments = d.get("arguments") or {}
    if not isinstance(arguments, Mapping):
        raise ModelInputError(
            f"from_dict: {where}.arguments must be a dictionary of argument name -> value, got "
            f"{type(arguments).__name__}."
        )
    arguments = dict(arguments)
    if kind in ("model", "instance"):
        model = KINDS["model"](import_class(d.get("class_path", "")))
    elif kind == "collection":
        model = KINDS["collection"]()
    else:  # an array: graphfit writes its shape beside the arguments, PyAutoFit among them
        shape = d.get("shape", arguments.pop("shape", None))
        arguments.pop("indices", None)
        model = KINDS["array"](shape=tuple(_decode(shape, loaded, f"{where}.shape")))
    _set(model, arguments, loaded, where)
    for k, a in enumerate(d.get("assertions") or []):
        at = f"{where}.assertions[{k}]"
        try:
            assertion = Assertion(
                a["op"], _decode(a["left"], loaded, at), _decode(a["right"], loaded, at)
            )
        except (KeyError, TypeError):
            raise ModelInputError(
                f"from_dict: {at} must be a dictionary with 'op', 'left' and 'right'."
            ) from None
        model.add_assertion(assertion)
    return model


def _decode(value: Any, loaded: dict[Any, Prior], where: str) -> Any:
    if value is None or isinstance(value, bool | numbers.Real):
        return value
    if isinstance(value, str):
        return _number(value, where)
    if isinstance(value, list):
        return [_decode(v, loaded, f"{where}[{k}]") for k, v in enumerate(value)]
    if not isinstance(value, Mapping) or "type" not in value:
        raise ModelInputError(
            f"from_dict: {where} must be a number, null, a list or a dictionary with a 'type', "
            f"got {value!r}."
        )
    kind = value["type"]
    if kind in ("model", "instance", "collection", "array"):
        return _read_model(value, loaded, where)
    if kind == "relation":
        operands = [_decode(o, loaded, where) for o in value.get("operands", [])]
        return Relation(value["op"], tuple(operands))
    if kind == "ndarray":
        return np.asarray(value["values"], dtype=np.dtype(value["dtype"]))
    if kind == "constant":  # PyAutoFit
        return _decode(value["value"], loaded, where)
    if kind in ("tuple", "list"):  # PyAutoFit's containers
        return [_decode(v, loaded, where) for v in value["values"]]
    if kind in _builtin_priors() or "class_path" in value:
        return _read_prior(value, loaded, where)
    allowed = ["model", "collection", "array", "relation", "ndarray", *_builtin_priors()]
    raise ModelInputError(
        f"from_dict: {where} has type {kind!r}; the types graphfit reads are: {', '.join(allowed)}."
    )


def from_dict(d: Mapping[str, Any]) -> Any:
    """The model a dictionary of :func:`to_dict` (or PyAutoFit's ``model.dict()``) describes.

    ``gf.Model.from_dict(d)`` calls it.
    """
    if not isinstance(d, Mapping) or d.get("type") not in ("model", "collection", "array"):
        kind = d.get("type") if isinstance(d, Mapping) else type(d).__name__
        raise ModelInputError(
            f"from_dict: expected the dictionary of a model, collection or array (its 'type' "
            f"is 'model', 'collection' or 'array'), got {kind!r}."
        )
    return _read_model(d, {}, "model")

"""Model instances as trees of numbers: their leaves, read and rebuilt, so that instances can be
interpolated field by field."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.spec.model import CollectionInstance, _init_parameters

if TYPE_CHECKING:
    pass

__all__ = ["build_instance", "instance_fields", "instance_leaves", "is_number"]


def is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def instance_fields(obj: Any) -> list[tuple[str, Any]] | None:
    """The parts of an instance to interpolate: a collection's items, or a component's
    ``__init__`` arguments; ``None`` for a leaf."""

    if isinstance(obj, CollectionInstance):
        return list(obj.items())
    if is_number(obj) or isinstance(obj, np.ndarray | str | bytes) or obj is None:
        return None
    names = _init_parameters(type(obj))
    if names and all(hasattr(obj, n) for n in names):
        return [(n, getattr(obj, n)) for n in names]
    return None


def instance_leaves(obj: Any, path: tuple[str, ...], out: dict[tuple[str, ...], Any]) -> None:
    fields = instance_fields(obj)
    if fields is None:
        out[path] = obj
        return
    for name, value in fields:
        instance_leaves(value, (*path, name), out)


def build_instance(template: Any, path: tuple[str, ...], values: dict[tuple[str, ...], Any]) -> Any:
    fields = instance_fields(template)
    if fields is None:
        return values[path]
    built = {name: build_instance(value, (*path, name), values) for name, value in fields}
    if isinstance(template, CollectionInstance):
        return CollectionInstance(built)
    return type(template)(**built)

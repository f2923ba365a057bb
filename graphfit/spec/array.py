"""Arrays of parameters: :class:`Array`, PyAutoFit's ``af.Array``.

An :class:`Array` is a model whose instance is a numpy array: each element is a parameter of its
own (a prior, a relation or a fixed number), addressed by its index (``array[0, 1]``) or by the
attribute ``prior_0_1``, the name it has in paths, ``model.info`` and the posterior.  Elements
are independent priors unless the same prior object is given to several of them.  When the
model is compiled, the instance is built with the array namespace ``xp`` (``xp.stack`` of the
elements), so user code gets a numpy array in results and a PyTensor tensor in the fit.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from graphfit.exceptions import ModelAttributeError
from graphfit.spec.model import AbstractModel
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Expression

__all__ = ["Array"]


def _check_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if (
        not dims
        or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in dims)
        or not all(n >= 1 for n in dims)
    ):
        raise ModelAttributeError(
            f"gf.Array: shape must be a tuple of integers >= 1 (e.g. (3,) or (2, 2)), got "
            f"{shape!r}."
        )
    return tuple(int(n) for n in dims)


class Array(AbstractModel):
    """An array-valued parameter whose elements are independent parameters.

    Parameters
    ----------
    shape
        Shape of the array: a tuple of integers ``>= 1``, or one integer.
    prior
        Prior of the elements: each gets a new prior of the same kind and arguments
        (``prior.new()``).  Without one, every element must be set before the model is used.

    Raises
    ------
    ModelAttributeError
        For a bad shape or prior, an index outside the shape, or an element set to anything
        but a prior, a relation or a number.

    Examples
    --------
    >>> import graphfit as gf
    >>> coefficients = gf.Array(shape=(2, 2), prior=gf.GaussianPrior(mean=0.0, sigma=1.0))
    >>> coefficients[0, 0] = 1.0                    # a fixed element
    >>> coefficients[1, 1] = coefficients[0, 1]     # one parameter for two elements
    >>> coefficients.prior_count, coefficients.paths
    (2, [('prior_0_1',), ('prior_1_0',)])
    >>> coefficients.instance_from_vector([0.5, -0.5])
    array([[ 1. ,  0.5],
           [-0.5,  0.5]])

    An array is a parameter of a component like any other:

    >>> class Polynomial:
    ...     def __init__(self, coefficients):
    ...         self.coefficients = coefficients
    >>> model = gf.Model(Polynomial, coefficients=gf.Array((3,), gf.UniformPrior(-1.0, 1.0)))
    >>> model.instance_from_prior_medians().coefficients
    array([0., 0., 0.])
    """

    serial_type = "array"

    def __init__(self, shape: int | tuple[int, ...], prior: Prior | None = None) -> None:
        shape = _check_shape(shape)
        if prior is not None and not isinstance(prior, Prior):
            raise ModelAttributeError(
                f"gf.Array: prior must be a prior (e.g. gf.GaussianPrior(mean=0.0, sigma=1.0)) "
                f"or None, got {prior!r} of type {type(prior).__name__}."
            )
        object.__setattr__(self, "_shape", shape)
        object.__setattr__(
            self,
            "_values",
            {
                self._key(index): None if prior is None else prior.new()
                for index in np.ndindex(*shape)
            },
        )

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the array."""
        return self._shape

    @property
    def indices(self) -> list[tuple[int, ...]]:
        """Every index of the array, in C order (the order of its parameters)."""
        return list(np.ndindex(*self._shape))

    @property
    def component_name(self) -> str:
        return "Array"

    @staticmethod
    def _key(index: tuple[int, ...]) -> str:
        return "prior_" + "_".join(str(i) for i in index)

    def _index_key(self, index: Any) -> str:
        full = (index,) if not isinstance(index, tuple) else index
        if (
            len(full) != len(self._shape)
            or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in full)
            or not all(-n <= i < n for i, n in zip(full, self._shape, strict=True))
        ):
            raise ModelAttributeError(
                f"gf.Array: index {index!r} is not an element of an array of shape "
                f"{self._shape}; give {len(self._shape)} integer(s) within the shape."
            )
        return self._key(tuple(int(i) % n for i, n in zip(full, self._shape, strict=True)))

    def _checked(self, where: str, value: Any) -> Any:
        if isinstance(value, np.ndarray | np.generic) and np.ndim(value) == 0:
            value = value.item()
        numeric = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if isinstance(value, Expression) or (numeric and np.isfinite(value)):
            return value
        raise ModelAttributeError(
            f"gf.Array: element {where} got {value!r} of type {type(value).__name__}; an "
            "element may be a prior, a relation of priors or a finite number."
        )

    def __getitem__(self, index: int | tuple[int, ...]) -> Any:
        return self._values[self._index_key(index)]

    def __setitem__(self, index: int | tuple[int, ...], value: Any) -> None:
        self._values[self._index_key(index)] = self._checked(repr(index), value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._values:
            raise ModelAttributeError(
                f"gf.Array of shape {self._shape} has no element '{name}'; set elements by "
                f"index (array[0] = ...) or by name ({self._key((0,) * len(self._shape))}, ...)."
            )
        self._values[name] = self._checked(name, value)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        shape = self.__dict__.get("_shape")
        if shape is None:  # not built yet (copy, unpickling): no elements to name
            raise AttributeError(f"Array has no element '{name}'")
        raise AttributeError(
            f"gf.Array of shape {shape} has no element '{name}'; get elements by index "
            f"(array[0]) or by name ({self._key((0,) * len(shape))}, ...)."
        )

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values.values())

    def __len__(self) -> int:
        return self._shape[0]

    def copy(self) -> Array:
        new = Array.__new__(Array)
        object.__setattr__(new, "_shape", self._shape)
        object.__setattr__(new, "_values", dict(self._values))
        object.__setattr__(new, "_assertions", list(self.__dict__.get("_assertions", [])))
        return new

    def instance_from(self, values: Mapping[Prior, Any], xp: Any = np) -> Any:
        """The array with each element's value (a numpy array, or a tensor for PyTensor's
        ``xp``)."""
        self.check_complete()
        elements = [xp.asarray(self._resolve(v, values, xp)) for v in self._values.values()]
        return xp.reshape(xp.stack(elements), self._shape)

    def __repr__(self) -> str:
        return f"Array(shape={self._shape}, free parameters: {len(self.priors())})"

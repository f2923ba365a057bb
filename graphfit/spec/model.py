"""Models: a plain Python class whose ``__init__`` arguments are the parameters.

:class:`Model` wraps one class; :class:`Collection` groups several components.  Assigning an
attribute sets that parameter to a prior, a relation, a nested model or a fixed number.  Both hold
structure and numbers only; :mod:`graphfit.backend.compile` turns them into PyMC variables and
:meth:`~graphfit.Model.instance_from` builds instances of the user's class from parameter values.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from graphfit.exceptions import ConstraintError, MissingPriorError, ModelAttributeError
from graphfit.spec.model_api import ModelAPI
from graphfit.spec.parameter_names import init_parameters as _init_parameters
from graphfit.spec.parameter_names import missing_name
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Assertion, Expression
from graphfit.spec.services import call

__all__ = ["AbstractModel", "Collection", "CollectionInstance", "Model", "Path", "path_text"]

#: A location in a model tree, e.g. ``("gaussian", "sigma")``.
Path = tuple[str, ...]


def path_text(path: Path) -> str:
    """Dotted form of a model path: ``("gaussian", "sigma")`` -> ``"gaussian.sigma"``."""
    return ".".join(path)


def _check_value(owner: str, name: str, value: Any) -> Any:
    """Validate a value assigned to a model attribute and return what to store.

    As in PyAutoFit, a class becomes ``Model(cls)`` and a list or dict a ``Collection``.
    """
    if value is None or isinstance(value, Expression | AbstractModel):
        return value
    if isinstance(value, type):
        return Model(value)
    if isinstance(value, list | dict):
        return Collection(value)
    if isinstance(value, np.ndarray | np.generic) and np.ndim(value) == 0:
        value = value.item()  # a Python number: the same text in model.info after a round trip
    if isinstance(value, bool) or (isinstance(value, np.ndarray) and value.dtype == bool):
        raise ModelAttributeError(
            f"{owner}.{name}: got {value!r} of type {type(value).__name__}; a fixed value must "
            "be a finite real number (1.0, not True) or an array of them."
        )
    if isinstance(value, numbers.Real):
        if not isinstance(value, numbers.Integral) and not math.isfinite(value):
            shown = "NaN" if math.isnan(value) else repr(value)
            raise ModelAttributeError(
                f"{owner}.{name}: the fixed value is {shown}; a fixed value must be a finite "
                "real number (or give the parameter a prior)."
            )
        return value
    if isinstance(value, numbers.Complex) or (
        isinstance(value, np.ndarray) and value.dtype.kind == "c"
    ):
        raise ModelAttributeError(
            f"{owner}.{name}: got {value!r}, a complex value; a fixed value must be a finite real "
            "number or an array of them: use the real part (value.real) or the magnitude."
        )
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        if not np.all(np.isfinite(value)):
            raise ModelAttributeError(
                f"{owner}.{name}: the fixed array contains NaN or inf; give finite numbers."
            )
        return value.copy()  # the model's own: changing the caller's array changes nothing
    raise ModelAttributeError(
        f"{owner}.{name}: got {value!r} of type {type(value).__name__}; a parameter may be set "
        "to a prior (e.g. gf.UniformPrior), a relation of priors, a nested gf.Model, "
        "gf.Collection or gf.Array, a component class, a list or dict of these, or a fixed "
        "finite real number or array of them."
    )


class AbstractModel(ModelAPI):
    """Behaviour shared by :class:`Model` and :class:`Collection` (and the vectors, paths and
    JSON of :class:`~graphfit.spec.model_api.ModelAPI`)."""

    _values: dict[str, Any]

    # -- structure -------------------------------------------------------------------------
    def items(self) -> Iterator[tuple[str, Any]]:
        """The model's own attributes as ``(name, value)`` pairs, in order."""
        return iter(self._values.items())

    def leaves(self, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
        """Every parameter slot below this model as ``(path, value)``, depth first.

        ``value`` is a :class:`~graphfit.Prior`, a :class:`~graphfit.Relation`,
        a fixed value, or ``None`` for a parameter that has not been set.
        """
        for name, value in self._values.items():
            if isinstance(value, AbstractModel):
                yield from value.leaves((*prefix, name))
            else:
                yield (*prefix, name), value

    def priors(self) -> list[Prior]:
        """The distinct free priors of the model, in order of first appearance."""
        found: dict[int, Prior] = {}
        for _, value in self.leaves():
            if isinstance(value, Expression):
                for prior in value.priors():
                    found.setdefault(id(prior), prior)
        return list(found.values())

    @property
    def prior_count(self) -> int:
        """Number of free parameters (distinct priors)."""
        self.check_complete()
        return len(self.priors())

    @property
    def total_free_parameters(self) -> int:
        """Number of free parameters; alias of ``prior_count``."""
        return self.prior_count

    def missing(self, prefix: Path = ()) -> list[tuple[Path, str]]:
        """Paths of parameters with neither a prior nor a value, with their owner's class name."""
        out = []
        for name, value in self._values.items():
            if isinstance(value, AbstractModel):
                out.extend(value.missing((*prefix, name)))
            elif value is None:
                out.append(((*prefix, name), self.component_name))
        return out

    # -- assertions ----------------------------------------------------------------------------
    def add_assertion(self, assertion: Assertion) -> None:
        """Restrict the fit to where ``assertion`` holds, e.g. ``model.a > model.b``.

        The assertion compares this model's parameters (priors or relations of them) with each
        other or with numbers using ``>``, ``<``, ``>=`` or ``<=``.  It becomes a hard
        constraint of the compiled model: the posterior is zero where it fails, and chains start
        only where every assertion holds.  A copy of the model keeps its assertions while it
        still has the parameters they name.

        Raises
        ------
        ConstraintError
            If ``assertion`` is not an :class:`~graphfit.Assertion`, or names a prior
            that is not a parameter of this model.

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Exponential)
        >>> model.add_assertion(model.centre > 40.0)
        >>> model.add_assertion(model.rate <= model.normalization / 10.0)
        >>> model.assertions[0]  # doctest: +ELLIPSIS
        Assertion(UniformPrior#... > 40.0)
        """
        owner = f"{self.component_name}.add_assertion"
        if not isinstance(assertion, Assertion):
            raise ConstraintError(
                f"{owner}: got {assertion!r} of type {type(assertion).__name__}; give a "
                "comparison of the model's parameters, e.g. model.add_assertion(model.a > "
                "model.b) or model.add_assertion(model.a > 0.5)."
            )
        own = {id(p) for p in self.priors()}
        missing = [p for p in assertion.priors() if id(p) not in own]
        if missing:
            raise ConstraintError(
                f"{owner}: {assertion!r} uses {missing[0]!r}, which is not a parameter of this "
                "model; compare the model's own attributes (e.g. model.centre)."
            )
        self.__dict__.setdefault("_assertions", []).append(assertion)

    @property
    def assertions(self) -> list[Assertion]:
        """This model's and its nested models' assertions that apply to its parameters."""
        own = {id(p) for p in self.priors()}
        found: dict[int, Assertion] = {}
        for assertion in self.__dict__.get("_assertions", []):
            if all(id(p) in own for p in assertion.priors()):
                found.setdefault(id(assertion), assertion)
        for _, value in self._values.items():
            if isinstance(value, AbstractModel):
                for assertion in value.assertions:
                    found.setdefault(id(assertion), assertion)
        return list(found.values())

    def check_complete(self, context: str = "model") -> None:
        """Raise :class:`~graphfit.MissingPriorError` if a parameter has neither prior nor value."""
        missing = self.missing()
        if missing:
            listing = ", ".join(f"'{path_text(p)}' (parameter of {owner})" for p, owner in missing)
            first = path_text(missing[0][0])
            raise MissingPriorError(
                f"{context}: {listing} has neither a prior nor a value. Assign one, e.g. "
                f"model.{first} = gf.UniformPrior(lower_limit=0.0, upper_limit=1.0) or "
                f"model.{first} = 1.0, or declare it in the class's default_priors."
            )

    @property
    def component_name(self) -> str:
        raise NotImplementedError

    @property
    def info(self) -> str:
        """Text summary of the model (free-parameter count, then one line per parameter)."""
        self.check_complete()
        return call("model_info", self)

    def _repr_html_(self) -> str:
        return call("model_html", self)

    def copy(self) -> AbstractModel:
        """A copy whose nested models are copies and whose priors are the same objects.

        Parameters that are not re-assigned on the copy stay shared with the original;
        assigning a new prior to the copy makes a new, independent parameter.
        """
        raise NotImplementedError

    def instance_from(self, values: Mapping[Prior, Any], xp: Any = np) -> Any:
        """Instance of the user's class with each prior replaced by ``values[prior]``.

        Relations are evaluated with the namespace ``xp`` (numpy, or PyTensor in the compiler).
        """
        raise NotImplementedError

    def _resolve(self, value: Any, values: Mapping[Prior, Any], xp: Any) -> Any:
        if isinstance(value, AbstractModel):
            return value.instance_from(values, xp)
        if isinstance(value, Expression):
            return value.evaluate(values, xp)
        return value


class Model(AbstractModel):
    """A model of one component: any Python class whose ``__init__`` arguments are parameters.

    Parameters
    ----------
    cls
        The component class.  It may declare ``default_priors``, a mapping from parameter
        name to a :class:`~graphfit.Prior`; each new ``Model`` gets fresh copies of them.
    **kwargs
        Values for parameters: priors, relations, nested models or fixed numbers.

    Raises
    ------
    ModelAttributeError
        When a keyword or later attribute is not an ``__init__`` argument of ``cls``, or when a
        value is of an unsupported type.

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    >>> model.sigma = 10.0
    >>> model.total_free_parameters
    2
    """

    serial_type = "model"

    def __init__(self, cls: type, **kwargs: Any) -> None:
        if not isinstance(cls, type):
            raise ModelAttributeError(
                f"gf.Model takes a class, got {cls!r} of type {type(cls).__name__}."
            )
        parameters = _init_parameters(cls)
        object.__setattr__(self, "_cls", cls)
        object.__setattr__(self, "_parameters", parameters)
        values: dict[str, Any] = dict.fromkeys(parameters)
        defaults = getattr(cls, "default_priors", None) or {}
        for name, prior in defaults.items():
            if name not in parameters:
                raise ModelAttributeError(
                    f"{cls.__name__}.default_priors names '{name}', which is not an argument "
                    f"of {cls.__name__}.__init__ (arguments: {', '.join(parameters) or 'none'})."
                )
            if not isinstance(prior, Prior):
                raise ModelAttributeError(
                    f"{cls.__name__}.default_priors['{name}'] is {prior!r}; it must be a prior."
                )
            values[name] = prior.new()
        object.__setattr__(self, "_values", values)
        for name, value in kwargs.items():
            setattr(self, name, value)

    @property
    def cls(self) -> type:
        """The wrapped component class."""
        return self._cls

    @property
    def component_name(self) -> str:
        return self._cls.__name__

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._parameters:
            allowed = ", ".join(self._parameters) or "none"
            raise ModelAttributeError(
                f"{self._cls.__name__} has no parameter '{name}'; the arguments of "
                f"{self._cls.__name__}.__init__ are: {allowed}."
            )
        self._values[name] = _check_value(self._cls.__name__, name, value)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        cls = self.__dict__.get("_cls")
        owner = cls.__name__ if cls is not None else "Model"
        raise missing_name(f"{owner} model", "parameter", name, values or ())

    def copy(self) -> Model:
        new = Model.__new__(Model)
        object.__setattr__(new, "_cls", self._cls)
        object.__setattr__(new, "_parameters", self._parameters)
        object.__setattr__(
            new,
            "_values",
            {k: v.copy() if isinstance(v, AbstractModel) else v for k, v in self._values.items()},
        )
        object.__setattr__(new, "_assertions", list(self.__dict__.get("_assertions", [])))
        return new

    def instance_from(self, values: Mapping[Prior, Any], xp: Any = np) -> Any:
        self.check_complete()
        kwargs = {k: self._resolve(v, values, xp) for k, v in self._values.items()}
        return self._cls(**kwargs)

    def __repr__(self) -> str:
        return f"Model({self._cls.__name__}, free parameters: {len(self.priors())})"


class CollectionInstance:
    """Instance of a :class:`Collection`: components by attribute (``.gaussian``) or index.

    Examples
    --------
    >>> import graphfit as gf
    >>> gaussian = gf.Model(gf.ex.Gaussian, centre=50.0, normalization=25.0, sigma=10.0)
    >>> instance = gf.Collection(gaussian=gaussian).instance_from({})
    >>> instance.gaussian
    Gaussian(centre=50.0, normalization=25.0, sigma=10.0)
    >>> instance[0] is instance.gaussian, len(instance)
    (True, 1)
    """

    def __init__(self, items: Mapping[str, Any]) -> None:
        self._items = dict(items)

    def __getattr__(self, name: str) -> Any:
        items = self.__dict__.get("_items", {})
        if name in items:
            return items[name]
        raise missing_name("collection instance", "component", name, items)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return self._items[key]
        return list(self._items.values())[key]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items.values())

    def items(self) -> Iterator[tuple[str, Any]]:
        """Components as ``(name, instance)`` pairs."""
        return iter(self._items.items())

    def as_model(
        self,
        model_classes: type | tuple[type, ...] = (),
        excluded_classes: type | tuple[type, ...] = (),
    ) -> Collection:
        """A :class:`Collection` of this instance, as PyAutoFit's ``instance.as_model()``: each
        component a :class:`Model` of its class with its values fixed, except components of
        ``model_classes``, which become free models (their class's ``default_priors``), and of
        ``excluded_classes``, which stay as they are (see
        :func:`graphfit.results.chaining.as_model`).

        Examples
        --------
        >>> import graphfit as gf
        >>> gaussian = gf.Model(gf.ex.Gaussian, centre=50.0, normalization=25.0, sigma=10.0)
        >>> instance = gf.Collection(gaussian=gaussian).instance_from({})
        >>> instance.as_model().gaussian.centre
        50.0
        >>> instance.as_model(model_classes=gf.ex.Gaussian).total_free_parameters
        3
        """
        return call("as_model", self, model_classes, excluded_classes)

    def __repr__(self) -> str:
        return f"CollectionInstance({', '.join(self._items)})"


class Collection(AbstractModel):
    """A group of components, each a model, prior, relation or fixed value.

    Each component is a :class:`Model`, ``Collection``, :class:`~graphfit.Array`, prior,
    relation or fixed value; a class becomes ``Model(cls)`` and a list or dict a
    ``Collection``, as in PyAutoFit.

    Parameters
    ----------
    *components
        Components named by position (``"0"``, ``"1"``, ...); one list is its items, one dict
        names them by its keys.
    **named
        Components named by keyword.

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian))
    >>> model.gaussian.centre = gf.UniformPrior(0.0, 100.0)
    >>> model.total_free_parameters
    3
    >>> gf.Collection([gf.ex.Gaussian, gf.ex.Exponential]).paths[3]
    ('1', 'centre')
    """

    serial_type = "collection"

    def __init__(self, *components: Any, **named: Any) -> None:
        object.__setattr__(self, "_values", {})
        if len(components) == 1 and isinstance(components[0], dict):
            named = {**components[0], **named}
            components = ()
        elif len(components) == 1 and isinstance(components[0], list | tuple):
            components = tuple(components[0])
        for index, component in enumerate(components):
            self._values[str(index)] = _check_value("Collection", str(index), component)
        for name, component in named.items():
            setattr(self, name, component)

    @property
    def component_name(self) -> str:
        return "Collection"

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            raise ModelAttributeError(
                f"Collection: component names may not start with '_' (got '{name}')."
            )
        self._values[name] = _check_value("Collection", name, value)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise missing_name("Collection", "component", name, values or ())

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return self._values[key]
        return list(self._values.values())[key]

    def __len__(self) -> int:
        return len(self._values)

    def copy(self) -> Collection:
        new = Collection()
        for k, v in self._values.items():
            new._values[k] = v.copy() if isinstance(v, AbstractModel) else v
        object.__setattr__(new, "_assertions", list(self.__dict__.get("_assertions", [])))
        return new

    def instance_from(self, values: Mapping[Prior, Any], xp: Any = np) -> CollectionInstance:
        self.check_complete()
        return CollectionInstance(
            {k: self._resolve(v, values, xp) for k, v in self._values.items()}
        )

    def __repr__(self) -> str:
        return f"Collection({', '.join(self._values)}; free parameters: {len(self.priors())})"

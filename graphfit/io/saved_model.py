"""A saved fit's model, rebuilt from its ``model.json`` without importing or running saved code.

An output folder's ``model.json`` (:func:`graphfit.plan.fingerprint.model_description`) holds
every prior (kind, arguments, name), each dataset's model tree (component classes by import
path, priors by number, relations as operator trees, fixed numbers), the hierarchical factors
and the assertions.  :func:`saved_graph` turns it back into graphfit models, so the aggregator
can name the saved posterior's variables with :func:`graphfit.plan.naming.plan_graph`, build
:class:`~graphfit.Samples` and instances, and give the model (``agg.values("model")``).

Nothing named in the file is imported.  The component class of each model is, in this order:

1. the class given for its model path in ``reference`` (``{"gaussian": Gaussian}``; ``""`` is
   the dataset's whole model), as PyAutoFit's ``Aggregator.from_directory(reference=...)``;
2. the class of the saved import path if its module is already imported in this session and its
   ``__init__`` takes the saved parameters (``graphfit.ex.Gaussian``, or a class of a script
   that is running);
3. else a stand-in class of the same name (a :class:`SavedComponent`), whose instances hold
   the parameters as attributes (``instance.gaussian.centre``) and have no methods of yours.

Fixed arrays are saved as a hash only, and prior kinds defined outside graphfit by name only:
models with them cannot be rebuilt (a :class:`~graphfit.ResultLoadError` says so); load such a
fit with its model, ``agg.load(k, model=...)``.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphfit.exceptions import ResultLoadError
from graphfit.spec import priors as prior_kinds
from graphfit.spec.array import Array
from graphfit.spec.hierarchical import HierarchicalFactor
from graphfit.spec.model import AbstractModel, Collection, Model, Path, _init_parameters
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Assertion, Relation

__all__ = [
    "SavedComponent",
    "SavedFactor",
    "SavedGraph",
    "check_reference",
    "saved_graph",
    "stand_in",
]

_ARRAY_CLASS = "graphfit.spec.array.Array"


class SavedComponent:
    """Base class of the stand-ins for component classes a saved fit names but this session
    does not have: an instance holds its parameters as attributes.

    Examples
    --------
    >>> from graphfit.io.saved_model import stand_in
    >>> Gaussian = stand_in("my_package.profiles.Gaussian", ("centre", "sigma"))
    >>> Gaussian(centre=50.0, sigma=10.0)
    Gaussian(centre=50.0, sigma=10.0)
    >>> Gaussian.__module__, Gaussian.__qualname__
    ('my_package.profiles', 'Gaussian')
    """

    def __init__(self, **parameters: Any) -> None:
        self.__dict__.update(parameters)

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({values})"


def stand_in(class_path: str, parameters: tuple[str, ...]) -> type:
    """A :class:`SavedComponent` subclass named as ``class_path`` whose ``__init__`` takes
    ``parameters`` (so :class:`~graphfit.Model` sees the saved parameters)."""
    module, _, qualname = class_path.rpartition(".")

    def __init__(self: SavedComponent, **values: Any) -> None:
        SavedComponent.__init__(self, **values)

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("self", kind)] + [inspect.Parameter(p, kind) for p in parameters]
    )
    name = qualname.rpartition(".")[2] or class_path
    namespace = {"__init__": __init__, "__module__": module, "__qualname__": qualname or name}
    return type(name, (SavedComponent,), namespace)


def _imported(class_path: str) -> type | None:
    """The class at ``class_path`` if its module is already imported: nothing is imported,
    and names are looked up in the namespaces themselves (no module ``__getattr__`` runs)."""
    parts = class_path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is None:
            continue
        value: Any = module
        for name in parts[split:]:
            value = getattr(value, "__dict__", {}).get(name)
        return value if isinstance(value, type) else None
    return None


def check_reference(reference: Any, owner: str = "Aggregator") -> dict[str, type]:
    """``reference`` as a dict of model path -> class, or a :class:`~graphfit.ResultLoadError`.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.io.saved_model import check_reference
    >>> check_reference({"gaussian": gf.ex.Gaussian})
    {'gaussian': <class 'graphfit.ex.components.Gaussian'>}
    >>> check_reference({"gaussian": "graphfit.ex.Gaussian"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphfit.exceptions.ResultLoadError: Aggregator: reference['gaussian'] is 'graphfit.ex...
    """
    if reference is None:
        return {}
    if not isinstance(reference, Mapping):
        raise ResultLoadError(
            f"{owner}: reference must be a dict of model path -> component class, e.g. "
            f"{{'gaussian': Gaussian}}, got {reference!r} of type {type(reference).__name__}."
        )
    for key, value in reference.items():
        if not isinstance(key, str):
            raise ResultLoadError(
                f"{owner}: reference keys are model paths as text ('gaussian', '' for the whole "
                f"model), got {key!r}."
            )
        if not isinstance(value, type):
            raise ResultLoadError(
                f"{owner}: reference[{key!r}] is {value!r}; give the class itself (graphfit "
                "never imports a name given as text or read from a file), e.g. "
                "reference={'gaussian': Gaussian}."
            )
    return dict(reference)


@dataclass
class SavedFactor:
    """One dataset of a saved fit: its model (rebuilt) and name; the analysis is not saved."""

    prior_model: AbstractModel
    name: str
    analysis: None = None


@dataclass
class SavedGraph:
    """The parts of a :class:`~graphfit.FactorGraphModel` a saved fit describes: each dataset's
    model, the hierarchical factors and the assertions, with the priors shared as they were.

    It has the attributes :func:`graphfit.plan.naming.plan_graph` and the results read
    (``factors``, ``names``, ``priors()``, ``hierarchical_factors``, ...); it cannot be fitted.
    """

    factors: list[SavedFactor]
    hierarchical_factors: list[HierarchicalFactor] = field(default_factory=list)
    hierarchical_names: list[str] = field(default_factory=list)
    assertions: list[Assertion] = field(default_factory=list)
    vectorize: bool = True

    @property
    def names(self) -> list[str]:
        """The datasets' names, in order."""
        return [f.name for f in self.factors]

    def priors(self) -> list[Prior]:
        """Distinct free priors of the whole graph, in order of first appearance."""
        found = {id(p): p for f in self.factors for p in f.prior_model.priors()}
        for population in self.hierarchical_factors:
            for _, prior in population.hyper_priors():
                found.setdefault(id(prior), prior)
        return list(found.values())

    def model(self) -> AbstractModel:
        """The one dataset's model, or a :class:`~graphfit.Collection` of every dataset's model
        by name (shared priors are the same objects, so it has the joint free parameters)."""
        if len(self.factors) == 1:
            return self.factors[0].prior_model
        return Collection(**{f.name: f.prior_model for f in self.factors})


class _Builder:
    """Rebuilds the models of one ``model.json`` (see the module docstring)."""

    def __init__(self, description: dict[str, Any], reference: dict[str, type], where: str):
        self.where = where
        self.reference = reference
        self.classes: dict[tuple[str, tuple[str, ...]], type] = {}
        self.priors = [self._prior(k, p) for k, p in enumerate(description["priors"])]

    def fail(self, what: str) -> ResultLoadError:
        return ResultLoadError(
            f"{self.where}: {what}; load this fit with its model instead: "
            "gf.load_result(folder, model=factor_graph) or agg.load(k, model=...)."
        )

    def _prior(self, k: int, saved: dict[str, Any]) -> Prior:
        kind = getattr(prior_kinds, str(saved.get("kind")), None)
        if not (isinstance(kind, type) and issubclass(kind, Prior) and kind.arguments):
            raise self.fail(f"prior {k} is of kind {saved.get('kind')!r}, not one of graphfit's")
        arguments = {name: _number(v) for name, v in saved["arguments"].items()}
        return kind(**arguments, name=saved.get("name"))

    def value(self, saved: Any, path: Path) -> Any:
        """The model slot ``saved`` at ``path``: a prior, relation, nested model or number."""
        if isinstance(saved, bool | int | float | str):
            return _number(saved)
        if not isinstance(saved, dict):
            raise self.fail(f"'{'.'.join(path)}' holds {saved!r}, which is not a model value")
        if "prior" in saved:
            return self.priors[saved["prior"]]
        if "op" in saved:
            return Relation(saved["op"], tuple(self.value(o, path) for o in saved["operands"]))
        if "collection" in saved:
            items = {k: self.value(v, (*path, k)) for k, v in saved["collection"].items()}
            return Collection(**items)
        if saved.get("class") == _ARRAY_CLASS and "items" in saved:
            return self._array(saved["items"], path)
        if "class" in saved and "parameters" in saved:
            parameters = {k: self.value(v, (*path, k)) for k, v in saved["parameters"].items()}
            return Model(self._class(saved["class"], tuple(parameters), path), **parameters)
        if "array" in saved:
            raise self.fail(f"the fixed array at '{'.'.join(path)}' is saved as a hash only")
        raise self.fail(f"'{'.'.join(path)}' holds {saved!r}, which graphfit cannot rebuild")

    def _array(self, items: dict[str, Any], path: Path) -> Array:
        indices = [tuple(int(i) for i in key.split("_")[1:]) for key in items]
        array = Array(tuple(max(i[d] for i in indices) + 1 for d in range(len(indices[0]))))
        for key, saved in items.items():
            setattr(array, key, self.value(saved, (*path, key)))
        return array

    def _class(self, class_path: str, parameters: tuple[str, ...], path: Path) -> type:
        label = ".".join(path)
        given = self.reference.get(label)
        if given is not None:
            if _init_parameters(given) != parameters:
                raise ResultLoadError(
                    f"{self.where}: reference[{label!r}] is {given.__name__}, whose __init__ "
                    f"takes ({', '.join(_init_parameters(given))}), but the fitted {class_path} "
                    f"took ({', '.join(parameters)}); give the class that was fitted."
                )
            return given
        found = _imported(class_path)
        if found is not None and _init_parameters(found) == parameters:
            return found
        key = (class_path, parameters)
        if key not in self.classes:
            self.classes[key] = stand_in(class_path, parameters)
        return self.classes[key]


def _number(value: Any) -> Any:
    """A number as saved (non-finite floats are written as text)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ResultLoadError(f"model.json holds {value!r} where a number belongs") from None
    return value


def saved_graph(
    description: dict[str, Any], reference: dict[str, type] | None = None, where: str = "fit"
) -> SavedGraph:
    """Rebuild the models of a saved fit from its ``model.json`` (see the module docstring).

    Parameters
    ----------
    description
        The parsed ``model.json`` of an output folder.
    reference
        Component classes by model path (:func:`check_reference`).
    where
        The folder, for error messages.

    Raises
    ------
    ResultLoadError
        For a prior kind defined outside graphfit, a fixed array, or a ``reference`` class whose
        ``__init__`` takes other parameters than the fitted class.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.io.saved_model import saved_graph
    >>> from graphfit.plan.fingerprint import model_description
    >>> model = gf.Collection(gaussian=gf.ex.Gaussian)
    >>> model.gaussian.sigma = 2.0 * model.gaussian.centre
    >>> analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    >>> graph = gf.FactorGraphModel(gf.AnalysisFactor(model, analysis))
    >>> saved = saved_graph(model_description(graph))
    >>> saved.names, saved.model().gaussian.cls is gf.ex.Gaussian
    (['dataset_0'], True)
    >>> saved.model().instance_from_vector([50.0, 25.0]).gaussian
    Gaussian(centre=50.0, normalization=25.0, sigma=100.0)
    """
    builder = _Builder(description, check_reference(reference), where)
    factors = [
        SavedFactor(builder.value(saved["model"], ()), saved["name"])
        for saved in description["factors"]
    ]
    graph = SavedGraph(factors, vectorize=bool(description.get("vectorize", True)))
    for saved in description.get("hierarchical", []):
        kind = getattr(prior_kinds, saved["distribution"], None)
        if not isinstance(kind, type) or not issubclass(kind, Prior):
            raise builder.fail(f"a population of kind {saved['distribution']!r}")
        parameters = {
            argument: builder.value(saved["parameters"][argument], (saved["name"], argument))
            for argument in kind.arguments
            if argument in saved["parameters"]
        }
        population = HierarchicalFactor(
            kind, name=saved["name"], parametrization=saved["parametrization"], **parameters
        )
        for k in saved["drawn"]:
            population.add_drawn_variable(builder.priors[k])
        graph.hierarchical_factors.append(population)
        graph.hierarchical_names.append(saved["name"])
    for saved in description.get("assertions", []):
        left, right = (builder.value(saved[side], ("assertion",)) for side in ("left", "right"))
        assertion = Assertion(saved["op"], left, right)
        graph.assertions.append(assertion)
        owned = {id(p) for p in assertion.priors()}
        for factor in factors:  # on the first dataset's model that has all its parameters
            if owned <= {id(p) for p in factor.prior_model.priors()}:
                factor.prior_model.add_assertion(assertion)
                break
    return graph

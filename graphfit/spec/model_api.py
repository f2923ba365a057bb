"""The vector and path API of models: parameters as a flat vector, as PyAutoFit users know it.

A model's free parameters (its distinct priors) have one canonical order: the order of first
appearance in the model tree, the order of ``model.priors()`` and of the ``[k]`` numbers in
``model.info``.  :attr:`~ModelAPI.paths` names them in that order, and a vector of values in
that order makes an instance (:meth:`~ModelAPI.instance_from_vector`); unit values are mapped
through each prior's quantile function (:meth:`~ModelAPI.instance_from_unit_vector`).  Unlike
PyAutoFit, where the order follows the priors' creation and changes when a prior is replaced,
replacing a prior here keeps its place.

:class:`ModelAPI` is a mixin of :class:`~graphfit.Model`, :class:`~graphfit.Collection` and
:class:`~graphfit.Array`; it also gives them the JSON round trip of
:mod:`graphfit.spec.model_json` (``model.dict()``, ``gf.Model.from_dict``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from graphfit.exceptions import ConstraintError
from graphfit.spec import model_json
from graphfit.spec.model_json import ModelInputError
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Relation
from graphfit.spec.services import call

__all__ = ["ModelAPI", "ModelInputError"]

#: A location in a model tree, e.g. ``("gaussian", "sigma")``.
_Path = tuple[str, ...]

#: Draws :meth:`ModelAPI.random_instance` makes before giving up on the model's assertions.
RANDOM_TRIES = 1000


def _text(path: _Path) -> str:
    return ".".join(path)


class ModelAPI:
    """Vectors, paths and the JSON round trip of a model (mixin of the model classes).

    The classes using it define ``priors()``, ``leaves()``, ``items()``, ``check_complete()``,
    ``instance_from()`` and ``assertions``.
    """

    #: The ``"type"`` of the kind in :meth:`dict`; a subclass that sets it is registered.
    serial_type: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "serial_type" in cls.__dict__ and cls.serial_type is not None:
            model_json.KINDS[cls.serial_type] = cls

    # -- paths and names ---------------------------------------------------------------------
    def _prior_paths(self) -> list[tuple[Prior, list[_Path]]]:
        """Each free prior, in canonical order, with every path where it is used.

        A prior used only inside a relation is named by the relation's path and its own name
        (or ``prior_<k>``, its place among the relation's priors).
        """
        self.check_complete()  # type: ignore[attr-defined]
        priors = self.priors()  # type: ignore[attr-defined]
        found: dict[int, list[_Path]] = {id(p): [] for p in priors}
        leaves = list(self.leaves())  # type: ignore[attr-defined]
        for path, value in leaves:
            if isinstance(value, Prior):
                found[id(value)].append(path)
        direct = {key for key, paths in found.items() if paths}
        for path, value in leaves:
            if isinstance(value, Relation):
                for k, prior in enumerate(value.priors()):
                    if id(prior) not in direct:
                        found[id(prior)].append((*path, prior.name or f"prior_{k}"))
        return [(p, found[id(p)]) for p in priors]

    @property
    def paths(self) -> list[_Path]:
        """The path of each free parameter, in the order of the model's vectors.

        One path per parameter (the first where it is used), so ``len(model.paths)`` is
        ``prior_count``; :attr:`all_paths` lists every path of a shared prior.

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Collection(gaussian=gf.ex.Gaussian, exponential=gf.ex.Exponential)
        >>> model.exponential.centre = model.gaussian.centre  # one shared parameter
        >>> model.paths  # doctest: +NORMALIZE_WHITESPACE
        [('gaussian', 'centre'), ('gaussian', 'normalization'), ('gaussian', 'sigma'),
         ('exponential', 'normalization'), ('exponential', 'rate')]
        """
        return [paths[0] for _, paths in self._prior_paths()]

    @property
    def all_paths(self) -> list[tuple[_Path, ...]]:
        """Every path of each free parameter, in the order of the model's vectors.

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Collection(a=gf.ex.Gaussian, b=gf.ex.Gaussian)
        >>> model.b.centre = model.a.centre
        >>> model.all_paths[0]
        (('a', 'centre'), ('b', 'centre'))
        """
        return [tuple(paths) for _, paths in self._prior_paths()]

    @property
    def parameter_names(self) -> list[str]:
        """The last part of each path, e.g. ``["centre", "normalization", "sigma"]``.

        Examples
        --------
        >>> import graphfit as gf
        >>> gf.Model(gf.ex.Gaussian).parameter_names
        ['centre', 'normalization', 'sigma']
        """
        return [path[-1] for path in self.paths]

    @property
    def parameter_labels(self) -> list[str]:
        """Plot labels of the parameters, in the order of :attr:`paths`.

        A component class may declare ``parameter_labels``, a mapping from its parameter
        names to labels (e.g. ``{"sigma": r"\\sigma"}``), as it declares ``default_priors``;
        any other parameter is labelled by its name.

        Examples
        --------
        >>> import graphfit as gf
        >>> class Line:
        ...     parameter_labels = {"slope": "m"}
        ...     def __init__(self, slope, intercept):
        ...         self.slope, self.intercept = slope, intercept
        >>> model = gf.Model(Line, slope=gf.UniformPrior(), intercept=gf.UniformPrior())
        >>> model.parameter_labels
        ['m', 'intercept']
        """
        labels = []
        for path in self.paths:
            owner: Any = self
            for name in path[:-1]:
                owner = getattr(owner, "_values", {}).get(name)
            declared = getattr(getattr(owner, "cls", None), "parameter_labels", None)
            if isinstance(declared, Mapping) and path[-1] in declared:
                labels.append(str(declared[path[-1]]))
            else:
                labels.append(path[-1])
        return labels

    # -- vectors -----------------------------------------------------------------------------
    def _vector(self, method: str, argument: str, vector: Any) -> tuple[list[Prior], np.ndarray]:
        """The priors and ``vector`` as a checked float array of one value per prior."""
        priors_paths = self._prior_paths()
        priors = [p for p, _ in priors_paths]
        names = ", ".join(_text(paths[0]) for _, paths in priors_paths) or "none"
        try:
            array = np.asarray(vector, dtype=float)
        except (TypeError, ValueError):
            raise ModelInputError(
                f"{method}: {argument} must be a sequence of numbers, got {vector!r} of type "
                f"{type(vector).__name__}; give one number per path in model.paths ({names})."
            ) from None
        if array.ndim != 1:
            raise ModelInputError(
                f"{method}: {argument} must be one-dimensional, got an array of shape "
                f"{array.shape}; give one number per path in model.paths ({names})."
            )
        if len(array) != len(priors):
            raise ModelInputError(
                f"{method}: {argument} has {len(array)} values, but the model has "
                f"{len(priors)} free parameters (in order: {names}); give one value per path "
                "in model.paths."
            )
        for k, value in enumerate(array.tolist()):
            if not math.isfinite(value):
                raise ModelInputError(
                    f"{method}: {argument}[{k}] = {value!r} ({_text(priors_paths[k][1][0])}) "
                    "is not finite; give finite numbers."
                )
        return priors, array

    def _instance(self, method: str, values: dict[Prior, Any], ignore_assertions: bool) -> Any:
        if not ignore_assertions:
            names = {p: _text(paths[0]) for p, paths in self._prior_paths()}
            for assertion in self.assertions:  # type: ignore[attr-defined]
                if not bool(np.all(assertion.holds(values))):
                    raise ConstraintError(
                        f"{method}: the values break the model's assertion "
                        f"{assertion.expression_text(names)}; give values where it holds, or "
                        "pass ignore_assertions=True."
                    )
        return self.instance_from(values)  # type: ignore[attr-defined]

    def instance_from_vector(self, vector: Sequence[float], ignore_assertions: bool = False) -> Any:
        """Instance of the model with the free parameters set to ``vector``.

        Parameters
        ----------
        vector
            One value per free parameter, in the order of :attr:`paths`.
        ignore_assertions
            Build the instance even where the model's assertions do not hold.

        Returns
        -------
        object
            An instance of the model's class (a :class:`~graphfit.CollectionInstance` for a
            collection, a numpy array for a :class:`~graphfit.Array`).

        Raises
        ------
        ModelInputError
            If ``vector`` is not one finite number per free parameter.
        ConstraintError
            If the values break one of the model's assertions.

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> model.paths
        [('centre',), ('normalization',), ('sigma',)]
        >>> model.instance_from_vector([30.0, 2.0, 3.0])
        Gaussian(centre=30.0, normalization=2.0, sigma=3.0)
        """
        priors, array = self._vector("instance_from_vector", "vector", vector)
        values = {p: float(v) for p, v in zip(priors, array, strict=True)}
        return self._instance("instance_from_vector", values, ignore_assertions)

    def vector_from_unit_vector(self, unit_vector: Sequence[float]) -> list[float]:
        """Values of the free parameters at the quantiles ``unit_vector`` of their priors.

        Raises
        ------
        ModelInputError
            If ``unit_vector`` is not one number per free parameter in ``[0, 1]``, or a value
            maps to an infinite parameter (0 or 1 for a prior without that limit).

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)  # centre ~ U(0, 100), sigma ~ U(0, 25)
        >>> [round(v, 6) for v in model.vector_from_unit_vector([0.5, 0.5, 0.2])]
        [50.0, 1.0, 5.0]
        """
        method = "vector_from_unit_vector"
        return list(self._unit_values(method, unit_vector).values())

    def _unit_values(self, method: str, unit_vector: Any) -> dict[Prior, float]:
        priors, array = self._vector(method, "unit_vector", unit_vector)
        paths = self.paths
        values = {}
        for k, (prior, q) in enumerate(zip(priors, array.tolist(), strict=True)):
            if not 0.0 <= q <= 1.0:
                raise ModelInputError(
                    f"{method}: unit_vector[{k}] = {q!r} ({_text(paths[k])}) is outside the "
                    "unit interval; each value must be in [0, 1]."
                )
            value = float(prior.quantile(q))
            if not math.isfinite(value):
                raise ModelInputError(
                    f"{method}: unit_vector[{k}] = {q!r} maps {_text(paths[k])} ({prior!r}) "
                    f"to {value}; give a value strictly between 0 and 1."
                )
            values[prior] = value
        return values

    def instance_from_unit_vector(
        self, unit_vector: Sequence[float], ignore_assertions: bool = False
    ) -> Any:
        """Instance of the model with each free parameter at a quantile of its prior.

        ``unit_vector[k]`` in ``[0, 1]`` becomes ``prior.ppf(unit_vector[k])`` of the k-th
        parameter of :attr:`paths` (as a nested-sampling prior transform does).

        Raises
        ------
        ModelInputError
            See :meth:`vector_from_unit_vector`.
        ConstraintError
            If the values break one of the model's assertions.

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> model.instance_from_unit_vector([0.5, 0.5, 0.2])
        Gaussian(centre=50.0, normalization=1.0, sigma=5.0)
        """
        method = "instance_from_unit_vector"
        values = self._unit_values(method, unit_vector)
        return self._instance(method, values, ignore_assertions)

    def instance_from_prior_medians(self, ignore_assertions: bool = False) -> Any:
        """Instance of the model with every free parameter at its prior's median.

        Examples
        --------
        >>> import graphfit as gf
        >>> gf.Model(gf.ex.Gaussian).instance_from_prior_medians()
        Gaussian(centre=50.0, normalization=1.0, sigma=12.5)
        """
        self.check_complete()  # type: ignore[attr-defined]
        values = {p: float(p.median()) for p in self.priors()}  # type: ignore[attr-defined]
        return self._instance("instance_from_prior_medians", values, ignore_assertions)

    def random_instance(self, seed: Any = None, ignore_assertions: bool = False) -> Any:
        """Instance of the model with every free parameter drawn from its prior.

        With assertions, draws are repeated until one satisfies them all.

        Parameters
        ----------
        seed
            Seed or ``numpy.random.Generator`` for the draws; fresh entropy by default.
        ignore_assertions
            Keep the first draw even where the model's assertions do not hold.

        Raises
        ------
        ConstraintError
            If no draw in 1000 satisfies the assertions.

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> instance = model.random_instance(seed=1)
        >>> 0.0 <= instance.centre <= 100.0
        True
        >>> model.random_instance(seed=1).centre == instance.centre
        True
        """
        self.check_complete()  # type: ignore[attr-defined]
        rng = np.random.default_rng(seed)
        priors = self.priors()  # type: ignore[attr-defined]
        assertions = [] if ignore_assertions else self.assertions  # type: ignore[attr-defined]
        for _ in range(RANDOM_TRIES):
            values = {p: float(p.draw(rng=rng)) for p in priors}
            if all(bool(np.all(a.holds(values))) for a in assertions):
                return self.instance_from(values)  # type: ignore[attr-defined]
        names = {p: _text(paths[0]) for p, paths in self._prior_paths()}
        texts = "; ".join(a.expression_text(names) for a in assertions)
        raise ConstraintError(
            f"random_instance: none of {RANDOM_TRIES} draws from the priors satisfies the "
            f"model's assertions ({texts}); check that they can hold within the priors, or "
            "pass ignore_assertions=True."
        )

    # -- search chaining -----------------------------------------------------------------------
    def take_attributes(self, source: Any) -> None:
        """Take into this model, in place, what ``source`` has at its parameters' paths, as
        PyAutoFit's ``model.take_attributes(source)`` does.

        ``source`` is an instance (a fit's ``result.instance``: its values become fixed
        numbers), a model (``result.model``: its priors are taken, each the same parameter in
        both models) or a dict.  Parameters ``source`` does not have, and relations, are kept
        (see :func:`graphfit.results.chaining.take_attributes`).

        Raises
        ------
        ConstraintError
            When the model has assertions: call ``take_attributes`` before ``add_assertion``.

        Examples
        --------
        >>> import graphfit as gf
        >>> earlier = gf.Collection(gaussian=gf.ex.Gaussian)
        >>> earlier.gaussian.sigma = gf.GaussianPrior(mean=10.0, sigma=1.0)
        >>> model = gf.Collection(gaussian=gf.ex.Gaussian, background=gf.ex.Exponential)
        >>> model.take_attributes(earlier)
        >>> model.gaussian.sigma is earlier.gaussian.sigma, model.total_free_parameters
        (True, 6)
        >>> model.take_attributes({"gaussian": {"centre": 50.0}})
        >>> model.gaussian.centre
        50.0
        """
        call("take_attributes", self, source)

    # -- JSON ----------------------------------------------------------------------------------
    def dict(self) -> dict[str, Any]:
        """The model as a JSON-able dictionary (see :mod:`graphfit.spec.model_json`).

        Component classes are stored by their import path, priors by kind and arguments, with
        an ``id`` shared by every use of one prior; :meth:`from_dict` rebuilds the model.

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian, sigma=2.0)
        >>> d = model.dict()
        >>> d["class_path"], d["arguments"]["centre"]
        ('graphfit.ex.components.Gaussian', {'type': 'UniformPrior', 'id': 0, 'lower_limit': 0.0, 'upper_limit': 100.0})
        >>> gf.Model.from_dict(d).info == model.info
        True
        """  # noqa: E501
        return model_json.to_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Any:
        """The model described by ``d`` (a :meth:`dict`), whichever class it is called on.

        Priors with the same ``id`` become one shared prior.  Dictionaries written by
        PyAutoFit's ``model.dict()`` are read too (its prior kinds, fixed values and classes).

        Raises
        ------
        ModelInputError
            If ``d`` is malformed, or a class it names cannot be imported.

        Examples
        --------
        >>> import graphfit as gf
        >>> d = {"type": "model", "class_path": "graphfit.ex.Gaussian",
        ...      "arguments": {"centre": {"type": "UniformPrior", "lower_limit": 0.0,
        ...                               "upper_limit": 10.0}}}
        >>> gf.Model.from_dict(d).centre
        UniformPrior(lower_limit=0.0, upper_limit=10.0)
        """
        return model_json.from_dict(d)

    def to_json(self, file: str | os.PathLike[str]) -> None:
        """Write :meth:`dict` to the JSON file ``file`` (read it back with :meth:`from_json`).

        Examples
        --------
        >>> import os, tempfile
        >>> import graphfit as gf
        >>> file = os.path.join(tempfile.mkdtemp(), "model.json")
        >>> gf.Collection(gaussian=gf.ex.Gaussian).to_json(file)
        >>> gf.Collection.from_json(file).paths[0]
        ('gaussian', 'centre')
        """
        with open(file, "w", encoding="utf-8") as handle:
            json.dump(self.dict(), handle, indent=4)

    @classmethod
    def from_json(cls, file: str | os.PathLike[str]) -> Any:
        """The model stored in the JSON file ``file`` (written by :meth:`to_json`, or by
        ``json.dump(model.dict(), f)``)."""
        with open(file, encoding="utf-8") as handle:
            try:
                d = json.load(handle)
            except json.JSONDecodeError as error:
                raise ModelInputError(
                    f"from_json: {os.fspath(file)!r} is not a JSON file ({error})."
                ) from None
        return model_json.from_dict(d)

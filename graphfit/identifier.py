"""Stable identifiers of fits: a hash of the model specification, the data and the search settings.

The identifier names a fit's output folder, so rerunning a script with the same inputs finds the
finished fit.  It must not depend on anything that changes between Python sessions (object ids,
the order in which dicts were filled, hash randomisation), so each part is first turned into a
canonical JSON text (keys sorted, floats written exactly) and then hashed with SHA-256:

* the **model**: every prior (kind, arguments, name) numbered in order of first appearance, each
  dataset's model tree (component classes by module and name, priors by number, relations as
  operator trees, fixed values), the analysis classes, hierarchical factors and the graph's
  ``vectorize`` setting;
* the **data**: the attributes of each dataset's analysis (arrays by dtype, shape and bytes);
* the **search**: the search class and its public settings, leaving out those that do not change
  the result (``name``, ``path_prefix``, ``output_path``, ``progressbar``, ``cores``).

The source code of component and analysis classes is not hashed: editing a component's
``model_data_from`` keeps the identifier, so delete the output folder (or change ``name``) after
such an edit.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.model import AbstractModel, Collection, Model
from graphfit.priors import Prior
from graphfit.relations import Relation

if TYPE_CHECKING:
    from graphfit.factor_graph import FactorGraphModel

__all__ = [
    "IDENTIFIER_LENGTH",
    "SETTINGS_IGNORED",
    "canonical_json",
    "data_fingerprint",
    "fit_identity",
    "model_description",
    "model_hash",
    "search_settings",
]

#: Hex characters kept of the SHA-256 digest (64 bits).
IDENTIFIER_LENGTH = 16
#: Search attributes that do not change the result and so are not part of the identifier.
SETTINGS_IGNORED = frozenset({"name", "path_prefix", "output_path", "progressbar", "cores"})


def _qualname(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _number(value: Any) -> Any:
    """A JSON-safe exact form of a number (non-finite floats as strings)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else repr(value)


def canonical_json(value: Any) -> str:
    """JSON text with sorted keys and no spaces: the same value always gives the same text.

    Examples
    --------
    >>> from graphfit.identifier import canonical_json
    >>> canonical_json({"b": 1.5, "a": [1, "x"]})
    '{"a":[1,"x"],"b":1.5}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _array_digest(array: np.ndarray) -> str:
    array = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(array.tobytes())
    return h.hexdigest()


def _encode(value: Any, index: dict[int, int]) -> Any:
    """Canonical form of one model slot (prior, relation, nested model or fixed value)."""
    if isinstance(value, Prior):
        return {"prior": index[id(value)]}
    if isinstance(value, Relation):
        return {"op": value.op, "operands": [_encode(o, index) for o in value.operands]}
    if isinstance(value, Model):
        return {
            "class": _qualname(value.cls),
            "parameters": {k: _encode(v, index) for k, v in value.items()},
        }
    if isinstance(value, Collection):
        return {"collection": {k: _encode(v, index) for k, v in value.items()}}
    if isinstance(value, AbstractModel):  # pragma: no cover - no other kinds today
        items = {k: _encode(v, index) for k, v in value.items()}
        return {"class": _qualname(value), "items": items}
    if isinstance(value, np.ndarray):
        return {"array": _array_digest(value)}
    if isinstance(value, numbers.Number):
        return _number(value)
    return {"value": _qualname(value)}


def model_description(graph: FactorGraphModel) -> dict[str, Any]:
    """Canonical, JSON-able description of a factor graph's model (no data).

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.identifier import model_description
    >>> model = gf.Model(gf.ex.Gaussian, centre=gf.UniformPrior(0.0, 100.0))
    >>> graph = gf.FactorGraphModel(
    ...     gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0)))
    ... )
    >>> description = model_description(graph)
    >>> description["priors"][0]
    {'kind': 'UniformPrior', 'arguments': {'lower_limit': 0.0, 'upper_limit': 100.0}, 'name': None}
    >>> description["factors"][0]["model"]["parameters"]["centre"]
    {'prior': 0}
    """
    priors = graph.priors()
    index = {id(p): k for k, p in enumerate(priors)}
    return {
        "priors": [
            {
                "kind": type(p).__name__,
                "arguments": {k: _number(v) for k, v in p.values.items()},
                "name": p.name,
            }
            for p in priors
        ],
        "factors": [
            {
                "name": name,
                "model": _encode(factor.prior_model, index),
                "analysis": _qualname(factor.analysis),
            }
            for name, factor in zip(graph.names, graph.factors, strict=True)
        ],
        "hierarchical": [
            {
                "name": hname,
                "distribution": population.distribution.__name__,
                "parametrization": population.resolved_parametrization,
                "parameters": {k: _encode(v, index) for k, v in population.parameters.items()},
                "drawn": [index[id(p)] for p in population.drawn],
            }
            for hname, population in zip(
                graph.hierarchical_names, graph.hierarchical_factors, strict=True
            )
        ],
        "vectorize": graph.vectorize,
    }


def model_hash(graph: FactorGraphModel) -> str:
    """SHA-256 hex digest of :func:`model_description`."""
    return _digest(canonical_json(model_description(graph)))


def _feed(h: Any, value: Any, depth: int, seen: set[int]) -> None:
    """Add a canonical byte form of ``value`` (an analysis attribute) to the hash ``h``."""
    plain = isinstance(value, bool | str | numbers.Number) and not isinstance(value, np.generic)
    if value is None or plain:
        h.update(f"{type(value).__name__}:{value!r};".encode())
        return
    if isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        if array.dtype.kind == "O":
            h.update(f"object{array.shape}[".encode())
            for item in array.ravel():
                _feed(h, item, depth + 1, seen)
            h.update(b"]")
        else:
            h.update(f"array:{_array_digest(array)};".encode())
        return
    if isinstance(value, list | tuple):
        h.update(f"{type(value).__name__}[{len(value)}]".encode())
        for item in value:
            _feed(h, item, depth + 1, seen)
        return
    if isinstance(value, dict):
        h.update(f"dict[{len(value)}]".encode())
        for key in sorted(value, key=repr):
            h.update(f"{key!r}=".encode())
            _feed(h, value[key], depth + 1, seen)
        return
    h.update(f"<{_qualname(value)}>".encode())
    if hasattr(value, "to_numpy"):  # pandas objects and the like: their values
        _feed(h, np.asarray(value.to_numpy()), depth + 1, seen)
        return
    state = getattr(value, "__dict__", None)
    if state is None or depth > 6 or id(value) in seen or callable(value):
        return
    seen.add(id(value))
    _feed(h, dict(state), depth + 1, seen)


def data_fingerprint(graph: FactorGraphModel) -> str:
    """SHA-256 hex digest of every dataset's analysis state (its arrays and settings).

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.identifier import data_fingerprint
    >>> def graph(seed):
    ...     analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed))
    ...     return gf.FactorGraphModel(gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), analysis))
    >>> data_fingerprint(graph(0)) == data_fingerprint(graph(0))
    True
    >>> data_fingerprint(graph(0)) == data_fingerprint(graph(1))
    False
    """
    h = hashlib.sha256()
    for name, factor in zip(graph.names, graph.factors, strict=True):
        h.update(f"dataset {name!r}:".encode())
        _feed(h, factor.analysis, 0, set())
    return h.hexdigest()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Number | np.bool_):
        return _number(value)
    if isinstance(value, np.ndarray):
        return {"array": _array_digest(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return {"value": _qualname(value)}


def search_settings(search: Any) -> dict[str, Any]:
    """The settings of a search that change its result, as a JSON-able dict.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.identifier import search_settings
    >>> search_settings(gf.MAP(n_random=50, random_seed=3, name="fit"))
    {'search': 'MAP', 'n_optimise': 4, 'n_random': 50, 'random_seed': 3}
    """
    settings = {
        key: _jsonable(value)
        for key, value in sorted(vars(search).items())
        if not key.startswith("_") and key not in SETTINGS_IGNORED
    }
    return {"search": type(search).__name__, **settings}


def fit_identity(graph: FactorGraphModel, search: Any) -> dict[str, Any]:
    """The hashes of a fit's model, data and search settings, and its ``identifier``.

    Returns
    -------
    dict
        ``identifier`` (16 hex characters), ``model_hash``, ``data_hash``, ``search_hash``,
        and the JSON-able ``model`` description and ``search`` settings they were made from.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.identifier import fit_identity
    >>> analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    >>> graph = gf.FactorGraphModel(gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), analysis))
    >>> a = fit_identity(graph, gf.MAP(random_seed=1))
    >>> b = fit_identity(graph, gf.MAP(random_seed=2))
    >>> len(a["identifier"]), a["identifier"] == b["identifier"], a["model_hash"] == b["model_hash"]
    (16, False, True)
    """
    model = model_description(graph)
    settings = search_settings(search)
    parts = {
        "model_hash": _digest(canonical_json(model)),  # = model_hash(graph)
        "data_hash": data_fingerprint(graph),
        "search_hash": _digest(canonical_json(settings)),
    }
    identifier = _digest(canonical_json(parts))[:IDENTIFIER_LENGTH]
    return {"identifier": identifier, **parts, "model": model, "search": settings}

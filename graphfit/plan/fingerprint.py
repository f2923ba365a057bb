"""Fingerprints of a factor graph: canonical descriptions of its model and a hash of its data.

They key both the compile cache (:mod:`graphfit.backend.cache`: any change to a prior, relation,
assertion or data recompiles) and the output folders' identifiers (:mod:`graphfit.io.identifier`).
Each part is first turned into a canonical JSON text (keys sorted, floats written exactly) and then
hashed with SHA-256, so nothing depends on object ids, dict order or hash randomisation:

* the **model**: every prior (kind, arguments, name) numbered in order of first appearance, each
  dataset's model tree (component classes by module and name, priors by number, relations as
  operator trees, fixed values), the analysis classes, hierarchical factors, the assertions and
  the graph's ``vectorize`` setting;
* the **data**: the attributes of each dataset's analysis (arrays by dtype, shape and bytes).
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.spec.model import AbstractModel, Collection, Model
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Relation

if TYPE_CHECKING:
    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = [
    "array_digest",
    "canonical_json",
    "data_fingerprint",
    "digest",
    "graph_fingerprint",
    "model_description",
    "model_hash",
    "qualname",
]


def qualname(obj: Any) -> str:
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
    >>> from graphfit.plan.fingerprint import canonical_json
    >>> canonical_json({"b": 1.5, "a": [1, "x"]})
    '{"a":[1,"x"],"b":1.5}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def array_digest(array: np.ndarray) -> str:
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
            "class": qualname(value.cls),
            "parameters": {k: _encode(v, index) for k, v in value.items()},
        }
    if isinstance(value, Collection):
        return {"collection": {k: _encode(v, index) for k, v in value.items()}}
    if isinstance(value, AbstractModel):  # the other model kinds: gf.Array
        items = {k: _encode(v, index) for k, v in value.items()}
        return {"class": qualname(value), "items": items}
    if isinstance(value, np.ndarray):
        return {"array": array_digest(value)}
    if isinstance(value, numbers.Number):
        return _number(value)
    return {"value": qualname(value)}


def model_description(graph: FactorGraphModel, resolve: bool = True) -> dict[str, Any]:
    """Canonical, JSON-able description of a factor graph's model (no data).

    Its assertions are included when it has any.  With ``resolve=False`` a population's
    ``"auto"`` parametrisation is described as asked for, without measuring the data.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.plan.fingerprint import model_description
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
    assertions = [
        {"op": a.op, "left": _encode(a.left, index), "right": _encode(a.right, index)}
        for a in graph.assertions
    ]
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
                "analysis": qualname(factor.analysis),
            }
            for name, factor in zip(graph.names, graph.factors, strict=True)
        ],
        "hierarchical": [
            {
                "name": hname,
                "distribution": population.distribution.__name__,
                "parametrization": (
                    population.resolved_parametrization if resolve else population.parametrization
                ),
                "parameters": {k: _encode(v, index) for k, v in population.parameters.items()},
                "drawn": [index[id(p)] for p in population.drawn],
            }
            for hname, population in zip(
                graph.hierarchical_names, graph.hierarchical_factors, strict=True
            )
        ],
        "vectorize": graph.vectorize,
        **({"assertions": assertions} if assertions else {}),
    }


def model_hash(graph: FactorGraphModel) -> str:
    """SHA-256 hex digest of :func:`model_description`."""
    return digest(canonical_json(model_description(graph)))


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
            h.update(f"array:{array_digest(array)};".encode())
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
    h.update(f"<{qualname(value)}>".encode())
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
    >>> from graphfit.plan.fingerprint import data_fingerprint
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


def graph_fingerprint(graph: FactorGraphModel) -> str:
    """SHA-256 hex digest of the graph's model (as asked for, nothing measured) and its data.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.plan.fingerprint import graph_fingerprint
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    >>> graph = gf.FactorGraphModel(gf.AnalysisFactor(model, analysis))
    >>> before = graph_fingerprint(graph)
    >>> model.centre = gf.UniformPrior(60.0, 70.0)
    >>> graph_fingerprint(graph) == before
    False
    """
    model = canonical_json(model_description(graph, resolve=False))
    return digest(model + data_fingerprint(graph))

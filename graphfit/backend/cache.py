"""Compiled models, kept here and not in the spec: one per graph object and state of its spec.

:func:`compiled_graph` keys each graph's compiled models by a fingerprint of its model and data
(:func:`graphfit.plan.fingerprint.graph_fingerprint`): a prior replaced, a relation or an
assertion added, a prior's arguments or the data changed all give a new key, so the next fit
compiles again (and the populations' ``"auto"`` choices are measured again first); an unchanged
graph reuses what it compiled.  One-dataset graphs made by :func:`~graphfit.fit_each` go through
:func:`graphfit.backend.structures.compile_shared` instead (:func:`share_structure`), which reuses
one model per structure with the data swapped in.
"""

from __future__ import annotations

import weakref
from typing import Any

from graphfit.backend.compile import compile_graph
from graphfit.backend.compiled import CompiledGraph
from graphfit.backend.structures import compile_shared
from graphfit.plan.fingerprint import graph_fingerprint
from graphfit.spec.factor_graph import FactorGraphModel

__all__ = ["compiled_graph", "share_structure"]

_COMPILED: weakref.WeakKeyDictionary[FactorGraphModel, dict[Any, Any]] = weakref.WeakKeyDictionary()
_SHARED: weakref.WeakSet[FactorGraphModel] = weakref.WeakSet()


def share_structure(graph: FactorGraphModel) -> FactorGraphModel:
    """Mark a one-factor ``graph`` to compile through the per-process structure cache; returns
    it."""
    _SHARED.add(graph)
    return graph


def compiled_graph(graph: FactorGraphModel, vectorize: bool | None = None) -> CompiledGraph:
    """The compiled model of ``graph`` as it is now (``vectorize`` overrides its own setting).

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    >>> graph = gf.FactorGraphModel(gf.AnalysisFactor(model, analysis))
    >>> compiled_graph(graph) is compiled_graph(graph)
    True
    >>> first = compiled_graph(graph)
    >>> model.centre = gf.UniformPrior(60.0, 70.0)
    >>> compiled_graph(graph) is first
    False
    """
    vectorize = graph.vectorize if vectorize is None else bool(vectorize)
    key = graph_fingerprint(graph)
    entry = _COMPILED.setdefault(graph, {})
    if entry.get("key") != key:
        if key != graph.measured_fingerprint:
            graph.measure()  # the spec changed since its populations were measured
        entry.clear()
        entry["key"] = key
    if vectorize not in entry:
        if graph in _SHARED:
            entry[vectorize] = compile_shared(graph)
        else:
            entry[vectorize] = compile_graph(graph, vectorize=vectorize)
    return entry[vectorize]

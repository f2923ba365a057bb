"""Compiled models, kept here and not in the spec: one per graph object and state of its spec.

:func:`compiled_graph` keys each graph's compiled models by a fingerprint of its model and data
(:func:`graphfit.plan.fingerprint.graph_fingerprint`): a prior replaced, a relation or an
assertion added, a prior's arguments or the data changed all give a new key, so the next fit
compiles again (and the populations' ``"auto"`` choices are measured again first); an unchanged
graph reuses what it compiled.  A new key goes through
:func:`graphfit.backend.structures.compile_joint`, which reuses the model of an earlier graph of
the same structure with the new data swapped in (a refit with new data, or the same graph built
again); one-dataset graphs made by :func:`~graphfit.fit_each` go through
:func:`graphfit.backend.structures.compile_shared` instead (:func:`share_structure`).  Either way
the compiled graph returned holds its own data in the model's containers.
"""

from __future__ import annotations

import weakref
from typing import Any

from graphfit.backend.compile import compile_graph
from graphfit.backend.compiled import CompiledGraph
from graphfit.backend.structures import compile_joint, compile_shared
from graphfit.plan.fingerprint import graph_fingerprint
from graphfit.spec.factor_graph import FactorGraphModel

__all__ = ["compiled_graph", "owned_graph", "share_structure"]

_COMPILED: weakref.WeakKeyDictionary[FactorGraphModel, dict[Any, Any]] = weakref.WeakKeyDictionary()
_SHARED: weakref.WeakSet[FactorGraphModel] = weakref.WeakSet()


def share_structure(graph: FactorGraphModel) -> FactorGraphModel:
    """Mark a one-factor ``graph`` to compile through the per-process structure cache; returns
    it."""
    _SHARED.add(graph)
    return graph


def compiled_graph(graph: FactorGraphModel, vectorize: bool | None = None) -> CompiledGraph:
    """The compiled model of ``graph`` as it is now (``vectorize`` overrides its own setting),
    its data set into the model's containers (for a model shared with other graphs; callers
    that may run beside another fit hold :data:`graphfit.backend.compiled.LOCK`).

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
    entry = _entry(graph)
    if vectorize not in entry:
        if graph in _SHARED:
            entry[vectorize] = compile_shared(graph)
        else:
            entry[vectorize] = compile_joint(graph, vectorize=vectorize)
    compiled = entry[vectorize]
    compiled.activate()
    return compiled


def _entry(graph: FactorGraphModel) -> dict[Any, Any]:
    """The graph's compiled models for its spec as it is now (emptied when the spec changed)."""
    key = graph_fingerprint(graph)
    entry = _COMPILED.setdefault(graph, {})
    if entry.get("key") != key:
        if key != graph.measured_fingerprint:
            graph.measure()  # the spec changed since its populations were measured
        entry.clear()
        entry["key"] = key
    return entry


def owned_graph(graph: FactorGraphModel, vectorize: bool | None = None) -> CompiledGraph:
    """The compiled model of ``graph`` as :func:`compiled_graph` gives it, but one that no other
    graph shares: a model handed to the user (``FactorGraphModel.to_pymc``), who may extend it,
    is compiled for this graph alone, and its later fits use it.

    Examples
    --------
    >>> import graphfit as gf
    >>> def graph(seed):
    ...     analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed))
    ...     return gf.FactorGraphModel(gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), analysis))
    >>> first, second = graph(0), graph(1)
    >>> compiled_graph(first).model is compiled_graph(second).model  # one structure
    True
    >>> owned = owned_graph(first)
    >>> owned.model is compiled_graph(second).model, compiled_graph(first) is owned
    (False, True)
    """
    vectorize = graph.vectorize if vectorize is None else bool(vectorize)
    if graph in _SHARED:
        return compiled_graph(graph, vectorize)  # fit_each's, never handed out
    entry = _entry(graph)
    compiled = entry.get(vectorize)
    if compiled is None or compiled.data_layout:  # not compiled yet, or a shared model
        compiled = entry[vectorize] = compile_graph(graph, vectorize=vectorize)
    return compiled

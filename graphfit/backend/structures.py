"""One compiled model per structure: datasets of the same shape share it, their data swapped in.

:func:`~graphfit.fit_each` fits each dataset as a one-factor graph.  Datasets whose models have
the same component tree and priors, whose analyses have the same class and
``vectorize_key()``, whose Gaussian observations have the same shape, and whose model data agree
at two parameter points, share one ``pm.Model`` compiled with ``pm.Data`` containers: a later
dataset's data are set into it with ``pm.set_data`` instead of compiling again
(:func:`compile_shared`).  The models are kept per process, least recently used dropped beyond
:data:`CACHE_SIZE`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from graphfit.backend.compile import compile_graph
from graphfit.backend.compiled import CompiledGraph
from graphfit.backend.pointwise import python_default
from graphfit.spec.factor_graph import AnalysisFactor, FactorGraphModel
from graphfit.spec.model import AbstractModel, Model
from graphfit.spec.observations import GaussianObservation
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Expression

__all__ = [
    "CACHE_SIZE",
    "LOCK",
    "clear_cache",
    "compile_shared",
    "compile_stats",
    "structure",
    "warm_imports",
]

#: Structures kept compiled per process (least recently used are dropped beyond this).
CACHE_SIZE = 32
_CACHE: OrderedDict[Any, tuple[AnalysisFactor, CompiledGraph]] = OrderedDict()
_STATS = {"compiles": 0, "reuses": 0}
#: One fit at a time per process, since a shared model holds one dataset's data at a time.
LOCK = threading.RLock()


def clear_cache() -> None:
    """Forget the models compiled by earlier fits in this process (the next fit of each
    structure compiles again).

    Examples
    --------
    >>> from graphfit.backend.structures import clear_cache
    >>> clear_cache()
    """
    _CACHE.clear()


def compile_stats() -> dict[str, int]:
    """Compiles and reuses of shared models in this process so far.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.backend.structures import compile_stats
    >>> sorted(compile_stats())
    ['compiles', 'reuses']
    """
    return dict(_STATS)


class _Unshareable(Exception):
    pass


def _prior_signature(prior: Prior, order: dict[int, int]) -> tuple:
    index = order.setdefault(id(prior), len(order))
    return ("prior", index, type(prior), prior.name, tuple(sorted(prior.values.items())))


def _model_signature(model: AbstractModel, order: dict[int, int]) -> tuple:
    head: tuple = ("Model", model.cls) if isinstance(model, Model) else ("Collection",)
    items = []
    for name, value in model.items():
        if isinstance(value, AbstractModel):
            items.append((name, _model_signature(value, order)))
        elif isinstance(value, Prior):
            items.append((name, _prior_signature(value, order)))
        elif isinstance(value, Expression):
            raise _Unshareable  # relations: compile per dataset rather than compare trees
        elif isinstance(value, np.ndarray):
            items.append((name, ("array", value.shape, str(value.dtype))))
        else:
            # The value itself is left out: a fixed value that changes the model data (and so
            # the compiled graph) fails the model-data check of _same_model_data; one that
            # does not (a covariate such as ``time``) lets the datasets share the model.
            items.append((name, ("fixed", type(value).__name__)))
    return (*head, tuple(items))


def _medians(model: AbstractModel, scale: float = 1.0) -> dict[Prior, float]:
    return {p: p.median() * scale for p in model.priors()}


def structure(factor: AnalysisFactor) -> tuple[Any, Any]:
    """(key, observation at the prior medians) of a shareable factor, or ``(None, None)``."""
    analysis = factor.analysis
    if not analysis.uses_observation():
        return None, None
    vkey = analysis.vectorize_key()
    if vkey is None:
        return None, None
    try:
        signature = _model_signature(factor.prior_model, {})
        hash(vkey)
        with np.errstate(all="ignore"):
            observation = analysis.observation(
                factor.prior_model.instance_from(_medians(factor.prior_model), np), np
            )
    except (_Unshareable, TypeError):
        return None, None
    if type(observation) is not GaussianObservation:
        return None, None
    key = (type(analysis), vkey, signature, observation.data.shape, observation.dims)
    return key, observation


def _same_model_data(first: AnalysisFactor, other: AnalysisFactor) -> bool:
    """True when both analyses predict the same model data at two parameter points."""
    for scale in (1.0, 1.03):
        try:
            with np.errstate(all="ignore"):
                values = [
                    np.asarray(
                        f.analysis.observation(
                            f.prior_model.instance_from(_medians(f.prior_model, scale), np), np
                        ).model_data,
                        dtype=float,
                    )
                    for f in (first, other)
                ]
        except Exception:  # user code failing here: do not share
            return False
        if values[0].shape != values[1].shape or not np.allclose(
            values[0], values[1], rtol=1e-12, atol=0.0, equal_nan=True
        ):
            return False
    return True


def compile_shared(graph: FactorGraphModel) -> CompiledGraph:
    """Compile ``graph`` (one factor), or reuse the model of an earlier one of its structure."""
    import pymc as pm  # import time: `import graphfit` loads numpy only

    factor = graph.factors[0]
    key, observation = structure(factor)
    if key is None:
        _STATS["compiles"] += 1
        return compile_graph(graph)
    entry = _CACHE.get(key)
    if entry is not None and _same_model_data(entry[0], factor):
        _CACHE.move_to_end(key)
        template = entry[1]
        names = template.data_names
        arrays = {"data": observation.data, **observation.fixed()}
        with python_default():  # its length checks compile a function once: no C for it
            pm.set_data({names[k]: v for k, v in arrays.items()}, model=template.model)
        _STATS["reuses"] += 1
        return CompiledGraph(
            model=template.model,
            plan=graph.compile_plan(),
            nodes=[dataclasses.replace(template.nodes[0], name=graph.names[0])],
            data_names=dict(names),
            cache=template.cache,
        )
    compiled = compile_graph(graph, data_containers=True)
    _STATS["compiles"] += 1
    _CACHE[key] = (factor, compiled)
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled


def warm_imports(c_cache: bool = True) -> None:
    """Import PyMC, PyTensor, nutpie (when installed) and the samplers, and, with ``c_cache``,
    load PyTensor's C-module index, so that a worker process's first fit does not pay for them.
    """

    # import time: `import graphfit` loads numpy only; a worker loads these before its first fit
    import pymc  # noqa: F401
    import pytensor.tensor  # noqa: F401

    if importlib.util.find_spec("nutpie") is not None:
        import nutpie  # noqa: F401
    if c_cache:
        with contextlib.suppress(Exception):  # no C compiler: PyTensor falls back to Python
            from pytensor.link.c.basic import get_module_cache

            get_module_cache()

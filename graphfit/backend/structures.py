"""One compiled model per structure: graphs of the same shape share it, their data swapped in.

**Joint graphs** (:func:`compile_joint`).  A factor graph whose every dataset declares an
observation (``gf.GaussianObservation``, ``gf.PoissonObservation``, ``gf.StudentTObservation``)
and has no marginalised population compiles with its observed data and per-point arrays in
``pm.Data`` containers.  Another graph with the same structure (the same model description,
populations' chosen parametrisations and ``vectorize`` setting; per dataset the same analysis
class, ``vectorize_key()``, observation kind, data shapes and dtypes, and the same predicted
quantities at two parameter points, i.e. the same x values and fixed parameters) reuses that
model and everything searches compiled from it (nutpie's model, the start finder, the
log-likelihood function): only its data are set into the containers
(:meth:`~graphfit.backend.compiled.CompiledGraph.activate`).  A notebook that refits with new
data, or builds the same graph again, so skips compiling.  Custom or black-box likelihoods
and marginalised populations hold their data inside user code or grids: those graphs compile
on their own, as before.

**One-dataset graphs of** :func:`~graphfit.fit_each`.  Datasets whose models have
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
from collections import OrderedDict
from typing import Any

import numpy as np

from graphfit.backend.compile import compile_graph
from graphfit.backend.compiled import LOCK, CompiledGraph
from graphfit.backend.observed import DISTRIBUTIONS
from graphfit.plan.fingerprint import array_digest, canonical_json, model_description, qualname
from graphfit.spec.black_box import is_black_box
from graphfit.spec.factor_graph import AnalysisFactor, FactorGraphModel
from graphfit.spec.model import AbstractModel, Model
from graphfit.spec.observations import GaussianObservation, Observation
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Expression

__all__ = [
    "CACHE_SIZE",
    "JOINT_CACHE_SIZE",
    "LOCK",
    "clear_cache",
    "compile_joint",
    "compile_shared",
    "compile_stats",
    "joint_structure",
    "layout_values",
    "structure",
    "warm_imports",
]

#: Structures kept compiled per process (least recently used are dropped beyond this).
CACHE_SIZE = 32
_CACHE: OrderedDict[Any, tuple[AnalysisFactor, CompiledGraph]] = OrderedDict()
_STATS = {"compiles": 0, "reuses": 0}
#: Joint structures kept compiled per process (least recently used are dropped beyond this).
JOINT_CACHE_SIZE = 8
_JOINT: OrderedDict[Any, CompiledGraph] = OrderedDict()


def clear_cache() -> None:
    """Forget the models compiled by earlier fits in this process (the next fit of each
    structure compiles again).

    Examples
    --------
    >>> from graphfit.backend.structures import clear_cache
    >>> clear_cache()
    """
    _CACHE.clear()
    _JOINT.clear()


def compile_stats() -> dict[str, int]:
    """Compiles and reuses of :func:`~graphfit.fit_each`'s shared models in this process so far.

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
        _STATS["reuses"] += 1
        return CompiledGraph(
            model=template.model,
            plan=graph.compile_plan(),
            nodes=[dataclasses.replace(template.nodes[0], name=graph.names[0])],
            data_names=dict(names),
            data={names[k]: _frozen(v) for k, v in arrays.items()},
            data_layout=template.data_layout,
            cache=template.cache,
        )
    compiled = compile_graph(graph, data_containers=True)
    _STATS["compiles"] += 1
    _CACHE[key] = (factor, compiled)
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled


def joint_structure(
    graph: FactorGraphModel, vectorize: bool
) -> tuple[Any, dict[int, Observation]] | tuple[None, None]:
    """(structure key, each dataset's numpy observation at its prior medians) of a graph whose
    compiled model can be shared (see the module docstring), or ``(None, None)``."""
    if any(p.resolved_parametrization == "marginalized" for p in graph.hierarchical_factors):
        return None, None
    entries: list[Any] = []
    observations: dict[int, Observation] = {}
    for index, factor in enumerate(graph.factors):
        analysis = factor.analysis
        if not analysis.uses_observation() or is_black_box(analysis):
            return None, None
        try:
            vkey = analysis.vectorize_key()
            hash(vkey)
            probes = []
            for scale in (1.0, 1.03):
                instance = factor.prior_model.instance_from(_medians(factor.prior_model, scale), np)
                with np.errstate(all="ignore"):
                    probes.append(analysis.observation(instance, np))
            predicted = [
                (k, array_digest(np.asarray(v, dtype=float)))
                for probe in probes
                for k, v in sorted(probe.predicted().items())
            ]
        except Exception:  # user code failing on numpy floats: compile on its own
            return None, None
        first = probes[0]
        if not isinstance(first, Observation) or first.distribution not in DISTRIBUTIONS:
            return None, None
        arrays = {"data": first.data, **first.fixed()}
        entries.append(
            (
                qualname(analysis),
                vkey,
                qualname(first),
                first.dims,
                tuple((k, np.shape(v), np.asarray(v).dtype.str) for k, v in arrays.items()),
                tuple(predicted),
            )
        )
        observations[index] = first
    description = canonical_json(model_description(graph))
    return (description, bool(vectorize), tuple(entries)), observations


def layout_values(
    layout: dict[str, tuple[tuple[int, ...], str]], observations: dict[int, Observation]
) -> dict[str, np.ndarray]:
    """The value of each data container of ``layout`` (a compiled graph's ``data_layout``)
    from the datasets' observations."""
    values = {}
    for name, (members, key) in layout.items():
        arrays = [np.asarray(getattr(observations[k], key)) for k in members]
        values[name] = _frozen(np.stack(arrays) if len(members) > 1 else arrays[0])
    return values


def _frozen(array: np.ndarray) -> np.ndarray:
    """A read-only copy: the fit keeps its data when the caller changes the array later."""
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def compile_joint(graph: FactorGraphModel, vectorize: bool = True) -> CompiledGraph:
    """Compile ``graph``, or reuse the model of an earlier graph of its structure with this
    graph's data (see the module docstring).

    Examples
    --------
    >>> import graphfit as gf
    >>> def graph(seed):
    ...     analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed))
    ...     return gf.FactorGraphModel(gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), analysis))
    >>> first, second = compile_joint(graph(0)), compile_joint(graph(1))
    >>> second.model is first.model  # compiled once, the second graph's data swapped in
    True
    >>> (second.data["dataset_0.obs.data"] == first.data["dataset_0.obs.data"]).all()
    np.False_
    """
    key, observations = joint_structure(graph, vectorize)
    if key is None:
        return compile_graph(graph, vectorize=vectorize)
    template = _JOINT.get(key)
    if template is None:
        compiled = compile_graph(graph, vectorize=vectorize, swappable=True)
        _JOINT[key] = compiled
        while len(_JOINT) > JOINT_CACHE_SIZE:
            _JOINT.popitem(last=False)
        return compiled
    _JOINT.move_to_end(key)
    return dataclasses.replace(
        template,
        plan=graph.compile_plan(),
        data=layout_values(template.data_layout, observations),
        assertion_list=list(graph.assertions),
    )


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

"""One compiled model per structure: graphs of the same shape share it, their data swapped in.

**Joint graphs** (:func:`compile_joint`).  A factor graph whose every dataset declares an
observation (``gf.GaussianObservation``, ``gf.PoissonObservation``, ``gf.StudentTObservation``)
and has no marginalised population compiles with its observed data and per-point arrays in
``pm.Data`` containers, and so are the arguments of most of its priors (all but those in
assertions, drawn from populations, or truncated normals: see
:func:`~graphfit.backend.variables.value_container_priors`).  Another graph with the same
structure (the same model description but for those prior values, the same populations' chosen
parametrisations and ``vectorize`` setting; per dataset the same analysis class,
``vectorize_key()``, observation kind, data shapes and dtypes, and the same predicted
quantities at two parameter points, i.e. the same x values and fixed parameters, see
:class:`Probes`) reuses that model and everything searches compiled from it (nutpie's model,
the start finder, the log-likelihood function): only its data and prior values are set into
the containers (:meth:`~graphfit.backend.compiled.CompiledGraph.activate`).  A notebook that
refits with new data or new prior values, or builds the same graph again, so skips
compiling.  Custom or black-box likelihoods
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
from graphfit.backend.variables import prior_container_values, value_container_priors
from graphfit.plan.fingerprint import array_digest, canonical_json, model_description, qualname
from graphfit.plan.naming import GraphPlan
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
    "Probes",
    "clear_cache",
    "compile_joint",
    "compile_shared",
    "compile_stats",
    "joint_structure",
    "layout_values",
    "structure",
    "structure_description",
    "warm_imports",
]

#: Structures kept compiled per process (least recently used are dropped beyond this).
CACHE_SIZE = 32
_CACHE: OrderedDict[Any, tuple[AnalysisFactor, CompiledGraph]] = OrderedDict()
_STATS = {"compiles": 0, "reuses": 0}
#: Joint structures kept compiled per process (least recently used are dropped beyond this).
JOINT_CACHE_SIZE = 8
_JOINT: OrderedDict[Any, list[tuple[Probes, CompiledGraph]]] = OrderedDict()


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


@dataclasses.dataclass(frozen=True)
class Probes:
    """Where a graph's analyses were probed and what they predicted there: per factor, the
    values of its model's priors at two points (the prior medians, and 3% above), and digests
    of the observation's predicted quantities at each.  Two graphs of one structure predict the
    same at the same points: the same x values and fixed parameters."""

    points: tuple[tuple[tuple[float, ...], ...], ...]
    digests: tuple[Any, ...]


def _probe(factor: AnalysisFactor, points: Any) -> tuple[list[Any], list[Any]]:
    """One factor's numpy observations at ``points`` (values of its model's priors, in order)
    and digests of their predicted quantities."""
    priors = factor.prior_model.priors()
    observations, digests = [], []
    for values in points:
        instance = factor.prior_model.instance_from(dict(zip(priors, values, strict=True)), np)
        with np.errstate(all="ignore"):
            observation = factor.analysis.observation(instance, np)
        observations.append(observation)
        digests.append(
            tuple(
                (k, array_digest(np.asarray(v, dtype=float)))
                for k, v in sorted(observation.predicted().items())
            )
        )
    return observations, digests


def _predictions(graph: FactorGraphModel, points: Any) -> tuple[Any, ...]:
    """Digests of each factor's predicted quantities at ``points`` (see :class:`Probes`)."""
    return tuple(
        digest
        for factor, factor_points in zip(graph.factors, points, strict=True)
        for digest in _probe(factor, factor_points)[1]
    )


def _same_predictions(graph: FactorGraphModel, own: Probes, template: Probes) -> bool:
    """Whether ``graph`` (probed as ``own``) predicts what the template did at its points."""
    if own.points == template.points:
        return own.digests == template.digests
    try:
        return _predictions(graph, template.points) == template.digests
    except Exception:  # user code failing at the template's points: compile on its own
        return False


def structure_description(graph: FactorGraphModel, plan: GraphPlan) -> dict[str, Any]:
    """The graph's model description without the values of the priors a swappable model holds
    in containers (:func:`~graphfit.backend.variables.value_container_priors`): their kind,
    PyMC form and the arguments it is given stay."""
    description = model_description(graph)
    swap = value_container_priors(graph, plan)
    for entry, prior in zip(description["priors"], graph.priors(), strict=True):
        if id(prior) in swap:
            form = prior.pymc_form()
            given = sorted(k for k, v in form.parameters.items() if v is not None)
            entry["arguments"] = {"form": form.distribution, "given": given}
    return description


def joint_structure(
    graph: FactorGraphModel, vectorize: bool, plan: GraphPlan
) -> tuple[Any, dict[int, Observation], Probes] | tuple[None, None, None]:
    """(structure key, each dataset's numpy observation at its prior medians, the graph's
    :class:`Probes`) of a graph whose compiled model can be shared (see the module docstring),
    or ``(None, None, None)``."""
    if any(p.resolved_parametrization == "marginalized" for p in graph.hierarchical_factors):
        return None, None, None
    entries: list[Any] = []
    observations: dict[int, Observation] = {}
    points, digests = [], []
    for index, factor in enumerate(graph.factors):
        analysis = factor.analysis
        if not analysis.uses_observation() or is_black_box(analysis):
            return None, None, None
        try:
            vkey = analysis.vectorize_key()
            hash(vkey)
            medians = [p.median() for p in factor.prior_model.priors()]
            own = tuple(tuple(m * scale for m in medians) for scale in (1.0, 1.03))
            outcomes, predicted = _probe(factor, own)
        except Exception:  # user code failing on numpy floats: compile on its own
            return None, None, None
        first = outcomes[0]
        if not isinstance(first, Observation) or first.distribution not in DISTRIBUTIONS:
            return None, None, None
        points.append(own)
        digests.extend(predicted)
        arrays = {"data": first.data, **first.fixed()}
        entries.append(
            (
                qualname(analysis),
                vkey,
                qualname(first),
                first.dims,
                tuple((k, np.shape(v), np.asarray(v).dtype.str) for k, v in arrays.items()),
            )
        )
        observations[index] = first
    probes = Probes(tuple(points), tuple(digests))
    description = canonical_json(structure_description(graph, plan))
    return (description, bool(vectorize), tuple(entries)), observations, probes


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
    plan = graph.compile_plan()
    key, observations, probes = joint_structure(graph, vectorize, plan)
    if key is None:
        return compile_graph(graph, vectorize=vectorize)
    assert observations is not None and probes is not None  # given with every key
    entries = _JOINT.get(key, [])
    template = next((c for p, c in entries if _same_predictions(graph, probes, p)), None)
    if template is None:
        compiled = compile_graph(graph, vectorize=vectorize, swappable=True)
        _JOINT[key] = [*entries[-(JOINT_CACHE_SIZE - 1) :], (probes, compiled)]
        _JOINT.move_to_end(key)
        while len(_JOINT) > JOINT_CACHE_SIZE:
            _JOINT.popitem(last=False)
        return compiled
    _JOINT.move_to_end(key)
    return dataclasses.replace(
        template,
        plan=plan,
        data={
            **layout_values(template.data_layout, observations),
            **prior_container_values(template.prior_layout, plan),
        },
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

"""The likelihood nodes of the joint model: an observed node per dataset or per batch of alike
datasets, or a potential holding a custom log-likelihood."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend.compiled import (
    DATA_OBS,
    FactorNode,
    container_names,
)
from graphfit.backend.observed import DISTRIBUTIONS, observed_node
from graphfit.backend.tensor_namespace import pytensor_namespace
from graphfit.exceptions import DataError, FactorGraphError, GraphfitError, for_dataset
from graphfit.plan.batching import (
    BatchContext,
    NotBatchable,
    batch_value,
    batched_instance,
    numpy_check,
)
from graphfit.plan.naming import GraphPlan
from graphfit.spec.analysis import call_log_likelihood
from graphfit.spec.observations import Observation
from graphfit.spec.priors import (
    Prior,
)

if TYPE_CHECKING:
    import pymc as pm

    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = [
    "batchable",
    "batched_observation",
    "batched_relations",
    "check_shapes",
    "checked_observation",
    "container",
    "dataset_node",
    "loglike_shape",
    "median_observation",
    "numpy_observations",
    "observation_dims",
    "potential_node",
    "tensor_context",
    "vector_node",
]


def container(name: str, value: Any, dims: tuple[str, ...] | None) -> Any:
    """A ``pm.Data`` container of ``value``, its shape static in the graph.

    PyTensor's key of the compiled log density then holds the containers' shapes, not their
    values: the same model with other data of those shapes loads its compiled code from disk,
    in a new process too, where data compiled in as constants made every new dataset a new
    numba compile (5-9 s for the cookbook's three-dataset model, measured in
    ``benchmarks/refit.py``).  A structure never compiled before costs about 1.5 s more
    than with constants when PyTensor's caches hold other models (nutpie's callback reading
    the containers), and more on a machine whose caches are empty (the cold rows of
    ``benchmarks/cold_start.py``).  The static shape gives
    PyTensor's rewrites what constants gave them: the shapes, known when the graph is built.
    """
    import pymc as pm  # import time: `import graphfit` loads numpy only

    return pm.Data(name, value, dims=dims, shape=np.shape(value))


def checked_observation(name: str, analysis: Any, instance: Any, xp: Any) -> Observation:
    """``analysis.observation(instance, xp)``, checked; data errors name the dataset."""
    try:
        observation = analysis.observation(instance, xp)
    except DataError as error:  # e.g. a noise map built in observation(): name where
        raise for_dataset(name, error, f"{type(analysis).__name__}.observation(): ") from None
    if not isinstance(observation, Observation) or observation.distribution not in DISTRIBUTIONS:
        raise FactorGraphError(
            f"dataset {name!r}: {type(analysis).__name__}.observation() returned "
            f"{type(observation).__name__}; it must return an observation: "
            "gf.GaussianObservation, gf.PoissonObservation or gf.StudentTObservation."
        )
    if xp is np:
        check_shapes(name, analysis, observation)
    return observation


def check_shapes(name: str, analysis: Any, observation: Observation) -> None:
    """Every predicted quantity (numpy) must broadcast to the data's shape."""
    shape = observation.data.shape
    for key, value in observation.predicted().items():
        given = np.shape(value)
        try:
            fits = np.broadcast_shapes(given, shape) == shape
        except ValueError:
            fits = False
        if not fits:
            raise DataError(
                f"dataset {name!r}: {type(analysis).__name__}.observation() gives {key} of shape "
                f"{given} for data of shape {shape}; it must have the data's shape (or "
                "broadcast to it). Check fixed array parameters of the model, which must match "
                "the data (or be scalars)."
            )


def median_observation(name: str, factor: Any) -> Observation | None:
    """The factor's observation at its prior medians, with numpy: checks data and shapes at
    build time.  ``None`` when user code cannot run on numpy floats there."""
    medians = {p: p.median() for p in factor.prior_model.priors()}
    try:
        instance = factor.prior_model.instance_from(medians, np)
        with np.errstate(all="ignore"):
            return checked_observation(name, factor.analysis, instance, np)
    except GraphfitError:
        raise
    except Exception:
        return None


def observation_dims(name: str, observation: Observation) -> tuple[str, ...]:
    data = observation.data
    local_dims = observation.dims or tuple(f"obs_dim_{k}" for k in range(data.ndim))
    if len(local_dims) != data.ndim:
        raise FactorGraphError(
            f"dataset {name!r}: observation dims {local_dims} do not match the data's "
            f"{data.ndim} dimension(s) (shape {data.shape})."
        )
    return tuple(local_dims)


def dataset_node(
    name: str,
    observation: Observation,
    model: pm.Model,
    data_containers: bool = False,
    containers: dict[str, str] | None = None,
    layout: dict[str, tuple[tuple[int, ...], str]] | None = None,
    index: int = 0,
) -> tuple[str, dict[str, str]]:
    """The observation's observed node.

    With ``data_containers`` its data and per-point arrays are ``pm.Data`` containers named
    ``obs.data``, ``obs.<array>`` (listed in ``containers``) and its names carry no dataset
    name, so the model can be reused for another dataset.  With ``layout`` (a swappable joint
    model, see :mod:`graphfit.backend.structures`) they are containers named after the node,
    ``<dataset>.obs.data``, each recorded in ``layout`` as coming from dataset ``index``.
    """

    data = observation.data
    local_dims = observation_dims(name, observation)
    if data_containers:
        var_name, joint_dims = DATA_OBS, tuple(local_dims)
    else:
        var_name, joint_dims = f"{name}.obs", tuple(f"{name}.{d}" for d in local_dims)
    for dim, size in zip(joint_dims, data.shape, strict=True):
        model.add_coord(dim, np.arange(size))
    observed: Any = data
    fixed: dict[str, Any] = observation.fixed()
    if data_containers or layout is not None:
        names = container_names(observation, var_name)
        observed = container(names["data"], data, joint_dims)
        fixed = {k: container(names[k], v, joint_dims) for k, v in fixed.items()}
        if containers is not None and data_containers:
            containers.update(names)
        if layout is not None:
            layout.update({n: ((index,), key) for key, n in names.items()})
    observed_node(observation, var_name, observed, fixed, joint_dims)
    return var_name, dict(zip(joint_dims, local_dims, strict=True))


def loglike_shape(factor: Any, loglike: Any) -> tuple[int, ...]:
    """Shape of a custom log-likelihood: static if PyTensor knows it, else from numpy."""
    if all(size is not None for size in loglike.type.shape):
        return tuple(int(s) for s in loglike.type.shape)
    medians = {p: p.median() for p in factor.prior_model.priors()}
    instance = factor.prior_model.instance_from(medians, np)
    return np.shape(call_log_likelihood(factor.analysis, instance, np))


def potential_node(name: str, loglike: Any, shape: tuple[int, ...], model: pm.Model) -> FactorNode:
    """A custom pointwise log-likelihood: its sum as a potential, the values kept as
    ``<dataset>.obs``."""
    import pymc as pm

    pm.Potential(f"{name}.log_likelihood", loglike.sum())
    var_name = f"{name}.obs"
    joint_dims = tuple(f"{name}.obs_dim_{k}" for k in range(loglike.ndim))
    for dim, size in zip(joint_dims, shape, strict=True):
        model.add_coord(dim, np.arange(size))
    pm.Deterministic(var_name, loglike, dims=joint_dims or None)
    local = {d: d.removeprefix(f"{name}.") for d in joint_dims}
    return FactorNode(name, var_name, "potential", local)


def tensor_context(
    tensors: dict[Prior, Any], vectors: dict[Prior, tuple[Any, int, int]], ndim: int
) -> BatchContext:
    """Batch context over the model's tensors: a run of one vector variable is used whole."""
    import pytensor.tensor as pt

    def vector(priors: list[Prior]) -> Any:
        entries = [vectors.get(p) for p in priors]
        found = [e for e in entries if e is not None]
        if len(found) == len(entries) and all(e[0] is found[0][0] for e in found):
            variable, _, size = found[0]
            index = [e[1] for e in found]
            return variable if index == list(range(size)) else variable[np.asarray(index)]
        return pt.stack([pt.as_tensor(tensors[p]) for p in priors])

    return BatchContext(
        scalar=lambda p: tensors[p], vector=vector, xp=pytensor_namespace(), ndim=ndim
    )


def batched_relations(
    relations: list[Any], tensors: dict[Prior, Any], vectors: dict[Prior, tuple[Any, int, int]]
) -> Any:
    """Per-dataset relations as one vector expression (stacked one by one if not alike)."""
    import pytensor.tensor as pt

    ctx = tensor_context(tensors, vectors, 0)
    try:
        value = pt.as_tensor(batch_value(list(relations), ctx))
    except NotBatchable:
        value = None
    if value is None or value.ndim != 1:
        xp = pytensor_namespace()
        return pt.stack([pt.as_tensor(r.evaluate(tensors, xp)) for r in relations])
    return value


def numpy_observations(graph: FactorGraphModel, members: list[int]) -> list[Observation]:
    """Each member's observation evaluated with numpy at its prior medians."""
    out = []
    for k in members:
        observation = median_observation(graph.names[k], graph.factors[k])
        if observation is None:
            raise NotBatchable("user code fails at the prior medians")
        out.append(observation)
    return out


def batchable(graph: FactorGraphModel, members: list[int]) -> list[Observation] | None:
    """The members' numpy observations if alike factors can share one node (same observation
    form, and the numpy check passes), else ``None``."""
    try:
        observations = numpy_observations(graph, members)
    except GraphfitError:  # bad data or a bad observation: report it now, naming the dataset
        raise
    except Exception:  # user code failing at the medians: leave it to the per-factor path
        return None
    first = observations[0]
    if not all(
        type(o) is type(first)
        and o.data.shape == first.data.shape
        and o.dims == first.dims
        and sorted(o.fixed()) == sorted(first.fixed())
        for o in observations
    ):
        return None
    models = [graph.factors[k].prior_model for k in members]
    analyses = [graph.factors[k].analysis for k in members]
    if not numpy_check(models, analyses, observations, np.random.default_rng(0)):
        return None
    return observations


def batched_observation(
    graph: FactorGraphModel,
    plan: GraphPlan,
    members: list[int],
    observations: list[Observation],
    tensors: dict[Prior, Any],
    vectors: dict[Prior, tuple[Any, int, int]],
) -> tuple[Observation, np.ndarray, dict[str, np.ndarray]]:
    """The alike factors' observation over the model's tensors (predictions batched over the
    members), with their data and per-point arrays stacked on a leading axis."""
    first = observations[0]
    ctx = tensor_context(tensors, vectors, first.data.ndim)
    instance = batched_instance([graph.factors[k].prior_model for k in members], ctx)
    observation = checked_observation(
        plan.names[members[0]], graph.factors[members[0]].analysis, instance, pytensor_namespace()
    )
    data = np.stack([o.data for o in observations])
    fixed = {key: np.stack([o.fixed()[key] for o in observations]) for key in first.fixed()}
    return observation, data, fixed


def vector_node(
    graph: FactorGraphModel,
    plan: GraphPlan,
    members: list[int],
    observations: list[Observation],
    label: str,
    tensors: dict[Prior, Any],
    vectors: dict[Prior, tuple[Any, int, int]],
    model: pm.Model,
    layout: dict[str, tuple[tuple[int, ...], str]] | None = None,
) -> dict[int, FactorNode]:
    """One observed node for alike factors ``members``; returns each member's FactorNode.

    With ``layout`` (a swappable joint model) the stacked data and per-point arrays are
    ``pm.Data`` containers (``obs.data``, ``obs.noise_map``), recorded in ``layout``."""

    first = observations[0]
    names = [plan.names[k] for k in members]
    local_dims = observation_dims(names[0], first)
    if label == "obs":
        dataset_dim, joint_dims = "dataset", tuple(local_dims)
    else:
        dataset_dim = f"{label}.dataset"
        joint_dims = tuple(f"{label}.{d}" for d in local_dims)
        model.add_coord(dataset_dim, names)
    for dim, size in zip(joint_dims, first.data.shape, strict=True):
        if dim not in model.coords:
            model.add_coord(dim, np.arange(size))

    observation, data, fixed = batched_observation(
        graph, plan, members, observations, tensors, vectors
    )
    dims = (dataset_dim, *joint_dims)
    if layout is not None:
        containers = container_names(first, label)
        data = container(containers["data"], data, dims)
        fixed = {k: container(containers[k], v, dims) for k, v in fixed.items()}
        layout.update({n: (tuple(members), key) for key, n in containers.items()})
    observed_node(observation, label, data, fixed, dims)
    renames = dict(zip(joint_dims, local_dims, strict=True))
    return {
        k: FactorNode(name, label, "observed", renames, {dataset_dim: name})
        for k, name in zip(members, names, strict=True)
    }

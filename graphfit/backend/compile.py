"""The compiler: a factor graph becomes one ``pm.Model``.

This is the only module that builds PyMC models.  It follows the
:class:`~graphfit.plan.naming.GraphPlan`:
one random variable per prior group (``dims="dataset"`` for per-dataset groups), one
``pm.Deterministic`` per relation group, and per dataset either a real observed node (for an
analysis that declares an :class:`~graphfit.spec.observations.Observation`) or a potential with its
pointwise log-likelihood recorded (for a custom ``log_likelihood_function``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend.black_box_op import black_box_log_likelihood
from graphfit.backend.compiled import (
    CompiledGraph,
    FactorNode,
)
from graphfit.backend.marginal import MarginalGroup, log_cell_terms
from graphfit.backend.nodes import (
    batchable,
    batched_observation,
    batched_relations,
    checked_observation,
    dataset_node,
    loglike_shape,
    median_observation,
    potential_node,
    vector_node,
)
from graphfit.backend.tensor_namespace import pytensor_namespace
from graphfit.backend.tracing import numpy_code_factors
from graphfit.backend.variables import (
    assertion_potentials,
    creation_order,
    population_variable,
    prior_variable,
    shifted_variable,
    split_assertions,
    value_container_priors,
)
from graphfit.exceptions import FactorGraphError, GraphfitError
from graphfit.plan.batching import (
    group_factors,
)
from graphfit.plan.naming import GraphPlan, Group
from graphfit.spec.analysis import call_log_likelihood
from graphfit.spec.black_box import is_black_box
from graphfit.spec.observations import Observation
from graphfit.spec.priors import (
    Prior,
)
from graphfit.spec.relations import Expression

if TYPE_CHECKING:
    import pymc as pm

    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = ["CompiledGraph", "FactorNode", "compile_graph"]


def compile_graph(
    graph: FactorGraphModel,
    vectorize: bool = True,
    data_containers: bool = False,
    swappable: bool = False,
) -> CompiledGraph:
    """Compile ``graph`` into a :class:`~graphfit.backend.compiled.CompiledGraph` holding one
    ``pm.Model``.

    With ``vectorize`` (the default), alike factors become one observed node over stacked data
    (see :mod:`graphfit.plan.batching`); otherwise every factor gets its own node.

    With ``data_containers`` (for a graph of one factor whose analysis declares an observation;
    used by :func:`graphfit.batch.fit_each.fit_each`), the observed data and noise map are
    ``pm.Data`` containers (names in ``CompiledGraph.data_names``) and the observed node is
    named ``obs`` with the observation's own dims, so the model holds nothing specific to the
    dataset and is reused for others of the same structure by swapping the data.

    With ``swappable`` (used by :func:`graphfit.backend.structures.compile_joint`), every
    observed node's data and per-point arrays are ``pm.Data`` containers named after the node
    (``obs.data``, ``dataset_0.obs.noise_map``); ``CompiledGraph.data`` holds their values and
    ``CompiledGraph.data_layout`` where each comes from, so another graph of the same
    structure reuses the model with its own data.  So are the arguments of its priors (see
    :func:`~graphfit.backend.variables.value_container_priors`; their origins in
    ``CompiledGraph.prior_layout``), so it is reused with other prior values too.
    """

    if data_containers and (
        len(graph.factors) != 1 or not graph.factors[0].analysis.uses_observation()
    ):
        raise FactorGraphError(
            "compile_graph: data_containers=True needs a graph of one factor whose analysis "
            f"declares an observation; got {graph!r}."
        )

    plan = graph.compile_plan()
    compiled = _build(graph, plan, vectorize, data_containers, marginal=False, swappable=swappable)
    if any(
        g.population is not None and g.population.resolved_parametrization == "marginalized"
        for g in plan.prior_groups
    ):
        compiled.sampling = _build(graph, plan, vectorize, False, marginal=True)
    return compiled


def _marginal_members(
    graph: FactorGraphModel, plan: GraphPlan
) -> tuple[list[Group], dict[int, tuple[str, int]]]:
    """The marginalised prior groups, and for each dataset holding one of their members the
    group's name and the member's position."""
    groups = [
        g
        for g in plan.prior_groups
        if g.population is not None and g.population.resolved_parametrization == "marginalized"
    ]
    where: dict[int, tuple[str, int]] = {}
    for group in groups:
        for m, prior in enumerate(group.members):
            for k, factor in enumerate(graph.factors):
                if any(q is prior for q in factor.prior_model.priors()):
                    where[k] = (group.name, m)
    return groups, where


def _build(
    graph: FactorGraphModel,
    plan: GraphPlan,
    vectorize: bool,
    data_containers: bool,
    marginal: bool,
    swappable: bool = False,
) -> CompiledGraph:
    """The model of :func:`compile_graph`; with ``marginal``, the sampling model in which the
    marginalised populations' drawn parameters are integrated out over their grids."""
    import pymc as pm
    import pytensor.tensor as pt

    xp = pytensor_namespace()
    nodes: dict[int, FactorNode] = {}
    black_box: list[str] = []
    finite_differences: list[str] = []
    containers: dict[str, str] = {}
    layout: dict[str, tuple[tuple[int, ...], str]] | None = (
        {} if swappable or data_containers else None
    )
    # a swappable model's prior arguments: pm.Data containers (see value_container_priors)
    swap_priors = value_container_priors(graph, plan) if swappable else set()
    prior_layout: dict[str, tuple[str, str]] = {}
    marginal_groups, depends = _marginal_members(graph, plan) if marginal else ([], {})
    marginal_names = {g.name for g in marginal_groups}
    placeholders: dict[str, Any] = {}
    loglikes: dict[int, Any] = {}  # dataset index -> its summed log-likelihood (marginal)
    with pm.Model(coords={"dataset": plan.names}) as model:
        tensors: dict[Prior, Any] = {}
        vectors: dict[Prior, tuple[Any, int, int]] = {}
        numeric, shifted, wall = split_assertions(graph.assertions, plan)
        for group in creation_order(plan, shifted):
            first = group.members[0]
            if group.name in marginal_names:
                variable = pt.vector(group.name, shape=(len(group.members),))
                placeholders[group.name] = variable
                for k, prior in enumerate(group.members):
                    tensors[prior] = variable[k]
                    if group.vector:
                        vectors[prior] = (variable, k, len(group.members))
                continue
            if group.population is not None:
                variable = population_variable(group, tensors)
            elif first in shifted:
                side, other = shifted[first]
                variable = shifted_variable(group, side, other.evaluate(tensors, xp))
            else:
                swap = id(first) in swap_priors  # (the whole group or none of it)
                variable = prior_variable(group, numeric.get(first), prior_layout if swap else None)
            for k, prior in enumerate(group.members):
                tensors[prior] = variable[k] if group.vector else variable
                if group.vector:
                    vectors[prior] = (variable, k, len(group.members))
        for group in plan.relation_groups:
            if group.vector:
                value = batched_relations(group.members, tensors, vectors)
            else:
                value = group.members[0].evaluate(tensors, xp)
            if placeholders and _uses(value, placeholders):
                continue  # recomputed from the centred model after sampling
            pm.Deterministic(group.name, value, dims="dataset" if group.vector else None)

        assertions = assertion_potentials(graph.assertions, wall, plan, tensors)

        numpy_code = numpy_code_factors(graph, plan, tensors, set(depends))
        groups = (
            group_factors(graph.factors) if vectorize else [[k] for k in range(len(plan.names))]
        )
        groups = [[k for k in g if k not in numpy_code] for g in groups]
        groups = [g for g in groups if g]
        if depends:  # datasets with a marginalised parameter are stacked only with their like
            groups = [
                part
                for g in groups
                for part in ([k for k in g if k in depends], [k for k in g if k not in depends])
                if part
            ]
        checked = {tuple(g): batchable(graph, g) for g in groups if len(g) > 1}
        batched = [list(g) for g, observations in checked.items() if observations is not None]
        for number, members in enumerate(batched):
            label = (
                "obs" if len(batched) == 1 and len(members) == len(plan.names) else f"obs_{number}"
            )
            observations = checked[tuple(members)]
            assert observations is not None  # `batched` holds the groups that batch
            if members[0] in depends:
                summed = _vector_loglike(graph, plan, members, observations, tensors, vectors)
                for i, k in enumerate(members):
                    loglikes[k] = summed[i]
                continue
            for k, node in vector_node(
                graph, plan, members, observations, label, tensors, vectors, model, layout
            ).items():
                nodes[k] = node
        for index, (name, factor) in enumerate(zip(plan.names, graph.factors, strict=True)):
            if index in nodes or index in loglikes:
                continue
            analysis = factor.analysis
            if is_black_box(analysis) or index in numpy_code:
                # numpy code: an Op, without gradient for a black box (graphfit.spec.black_box),
                # else with finite-difference gradients (graphfit.backend.tracing)
                (black_box if index not in numpy_code else finite_differences).append(name)
                loglike = black_box_log_likelihood(
                    name, factor, tensors, gradient=index in numpy_code
                )
                nodes[index] = potential_node(name, loglike, tuple(loglike.type.shape), model)
                continue
            instance = factor.prior_model.instance_from(tensors, xp)
            if analysis.uses_observation():
                median_observation(name, factor)
                try:
                    observation = checked_observation(name, analysis, instance, xp)
                except GraphfitError:
                    raise
                except Exception as error:  # e.g. a fixed array that does not fit the data
                    raise FactorGraphError(
                        f"dataset {name!r}: {type(analysis).__name__}.observation() failed on "
                        f"the model's parameters ({type(error).__name__}: {error}). Check that "
                        "fixed array parameters of the model match the data's shape (or are "
                        "scalars)."
                    ) from error
                if index in depends:
                    loglikes[index] = pt.sum(observation.log_likelihood(xp))
                    continue
                var_name, dims = dataset_node(
                    name, observation, model, data_containers, containers, layout, index
                )
                nodes[index] = FactorNode(name, var_name, "observed", dims)
            else:
                loglike = pt.as_tensor(call_log_likelihood(analysis, instance, xp))
                if index in depends:
                    loglikes[index] = pt.sum(loglike)
                    continue
                pm.Potential(f"{name}.log_likelihood", loglike.sum())
                var_name = f"{name}.obs"
                joint_dims = tuple(f"{name}.obs_dim_{k}" for k in range(loglike.ndim))
                shape = loglike_shape(factor, loglike)
                for dim, size in zip(joint_dims, shape, strict=True):
                    model.add_coord(dim, np.arange(size))
                pm.Deterministic(var_name, loglike, dims=joint_dims or None)
                local = {d: d.removeprefix(f"{name}.") for d in joint_dims}
                nodes[index] = FactorNode(name, var_name, "potential", local)
        marginal_info = [
            _marginal_potential(group, placeholders[group.name], depends, loglikes, tensors)
            for group in marginal_groups
        ]
    return CompiledGraph(
        model=model,
        plan=plan,
        nodes=[nodes[k] for k in range(len(plan.names)) if k in nodes],
        vectorized_groups=batched,
        black_box=black_box,
        finite_differences=finite_differences,
        data_names=containers,
        data={**_container_values(model, layout), **_container_values(model, prior_layout)},
        data_layout=layout or {},
        prior_layout=prior_layout,
        assertions=assertions,
        assertion_list=graph.assertions,
        marginal_groups=marginal_info,
    )


def _container_values(model: pm.Model, layout: dict[str, Any] | None) -> dict[str, np.ndarray]:
    """The values the model's data containers were created with, by name (read-only copies)."""
    values = {name: model[name].get_value() for name in layout or {}}
    for value in values.values():
        value.setflags(write=False)
    return values


def _uses(value: Any, placeholders: dict[str, Any]) -> bool:
    """Whether tensor ``value`` depends on any of the placeholders."""
    from pytensor.graph.traversal import ancestors  # as backend/pointwise.py imports

    inputs = set(placeholders.values())
    return any(v in inputs for v in ancestors([value]))


def _vector_loglike(
    graph: FactorGraphModel,
    plan: GraphPlan,
    members: list[int],
    observations: list[Observation],
    tensors: dict[Prior, Any],
    vectors: dict[Prior, tuple[Any, int, int]],
) -> Any:
    """Summed log-likelihood of each of the alike factors ``members``, as one vector."""
    import pytensor.tensor as pt

    observation, data, fixed = batched_observation(
        graph, plan, members, observations, tensors, vectors
    )
    # the observation was made for this call: give it the stacked data and per-point arrays
    observation.data = data
    for key, value in fixed.items():
        setattr(observation, key, value)
    loglike = pt.as_tensor(observation.log_likelihood(pytensor_namespace()))
    loglike = pt.broadcast_to(loglike, observation.data.shape)
    return loglike.sum(axis=tuple(range(1, loglike.ndim))) if loglike.ndim > 1 else loglike


def _marginal_potential(
    group: Group,
    placeholder: Any,
    depends: dict[int, tuple[str, int]],
    loglikes: dict[int, Any],
    tensors: dict[Prior, Any],
) -> MarginalGroup:
    """The potential integrating ``group``'s drawn parameters out over their grid."""
    import pymc as pm
    import pytensor.tensor as pt
    from pytensor.graph.replace import vectorize_graph

    population = group.population
    by_member = {m: k for k, (name, m) in depends.items() if name == group.name}
    loglike = pt.stack([loglikes[by_member[m]] for m in range(len(group.members))])
    edges = population.grid
    grid = np.broadcast_to(edges[:, None], (len(edges), len(group.members))).copy()
    on_grid = vectorize_graph(loglike, replace={placeholder: pt.as_tensor(grid)})
    xp = pytensor_namespace()
    args = {}
    for name in population.distribution.arguments:
        value = population.parameters.get(name)
        if value is None:
            continue
        args[name] = value.evaluate(tensors, xp) if isinstance(value, Expression) else value
    log_weights = log_cell_terms(population.distribution, args, edges, on_grid)
    pm.Potential(f"{group.name}.marginal", pt.logsumexp(log_weights, axis=0).sum())
    return MarginalGroup(
        name=group.name,
        distribution=population.distribution,
        edges=population.grid,
        log_weights=log_weights,
        loglike=on_grid,
        args=args,
        size=len(group.members),
        vector=group.vector,
    )

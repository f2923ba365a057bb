"""The compiler: a factor graph becomes one ``pm.Model``.

This is the only module that builds PyMC models.  It follows the
:class:`~graphfit.plan.naming.GraphPlan`:
one random variable per prior group (``dims="dataset"`` for per-dataset groups), one
``pm.Deterministic`` per relation group, and per dataset either a real observed node (for an
analysis that declares an :class:`~graphfit.spec.observations.Observation`) or a potential with its
pointwise log-likelihood recorded (for a custom ``log_likelihood_function``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend.black_box_op import black_box_log_likelihood
from graphfit.backend.marginal import MarginalGroup, log_cell_terms
from graphfit.backend.observed import DISTRIBUTIONS, observed_node
from graphfit.backend.tensor_namespace import pytensor_namespace
from graphfit.exceptions import ConstraintError, DataError, FactorGraphError, GraphfitError
from graphfit.plan.batching import (
    BatchContext,
    NotBatchable,
    batch_value,
    batched_instance,
    group_factors,
    numpy_check,
)
from graphfit.plan.naming import GraphPlan, Group
from graphfit.spec.black_box import is_black_box
from graphfit.spec.observations import Observation
from graphfit.spec.priors import (
    GaussianPrior,
    LogGaussianPrior,
    LogUniformPrior,
    Prior,
    UniformPrior,
)
from graphfit.spec.relations import Expression

if TYPE_CHECKING:
    import pymc as pm

    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = ["CompiledGraph", "FactorNode", "compile_graph"]

#: Names of the observed node and of its data containers in a model compiled with
#: ``data_containers=True``.
DATA_OBS = "obs"
DATA_NAMES = {"data": "obs.data"}


def container_names(observation: Observation) -> dict[str, str]:
    """Names of the ``pm.Data`` containers of a model compiled with ``data_containers``: the
    data (``obs.data``) and each per-point array of the observation (``obs.noise_map``)."""
    return {**DATA_NAMES, **{k: f"{DATA_OBS}.{k}" for k in observation.fixed()}}


@dataclass
class FactorNode:
    """What the compiler made for one dataset."""

    name: str
    #: Joint name of the variable holding the dataset's pointwise log-likelihood.
    loglike_name: str
    #: ``"observed"`` for a PyMC observed node, ``"potential"`` for a custom likelihood.
    kind: str
    #: Map from the joint model's dim names of that variable to the per-dataset names.
    dims: dict[str, str] = field(default_factory=dict)
    #: For a vectorised node: ``{dataset dim: this dataset's name}`` to select its slice.
    select: dict[str, str] = field(default_factory=dict)


@dataclass
class CompiledGraph:
    """A compiled factor graph: the PyMC model and the maps needed to split results."""

    model: pm.Model
    plan: GraphPlan
    nodes: list[FactorNode]
    #: Groups of dataset indices compiled as one vectorised observed node.
    vectorized_groups: list[list[int]] = field(default_factory=list)
    #: Names of datasets with a black-box likelihood (no gradient; see graphfit.spec.black_box).
    black_box: list[str] = field(default_factory=list)
    #: Names of the ``pm.Data`` containers holding the observed data and noise map (only when
    #: compiled with ``data_containers=True``; swap them with ``pm.set_data``).
    data_names: dict[str, str] = field(default_factory=dict)
    #: Objects compiled from ``model`` by searches (start finder, sampler), reused by later fits
    #: of the same model with other data.
    cache: dict[Any, Any] = field(default_factory=dict)
    #: Name of each wall assertion's ``pm.Potential`` -> the assertion as text in joint names
    #: (assertions compiled as transform bounds have no potential).
    assertions: dict[str, str] = field(default_factory=dict)
    #: Every assertion of the graph, in order.
    assertion_list: list[Any] = field(default_factory=list)
    #: For a graph with marginalised populations (see :mod:`graphfit.backend.marginal`): the graph
    #: whose model NUTS samples, without the drawn parameters; ``None`` otherwise.
    sampling: CompiledGraph | None = None
    #: The sampling model's marginalised populations (only on ``sampling``).
    marginal_groups: list[Any] = field(default_factory=list)

    def assertion_checks(self) -> list[tuple[str, Any]]:
        """``(text, check)`` per assertion; ``check(values)`` tells whether it holds, with
        every prior it names inside its prior's limits, for the values of the model's variables
        by name (as :meth:`graphfit.search.start.StartFinder.values` gives them)."""
        where: dict[Prior, tuple[str, int | None]] = {}
        for group in self.plan.prior_groups:
            for k, prior in enumerate(group.members):
                where[prior] = (group.name, k if group.vector else None)
        names = _joint_names(self.plan)

        def check_for(assertion: Any) -> Any:
            def check(values: dict[str, Any]) -> bool:
                point = {}
                for prior in assertion.priors():
                    name, k = where[prior]
                    point[prior] = values[name] if k is None else values[name][k]
                    lower, upper = _prior_support(prior)
                    if (lower is not None and not point[prior] >= lower) or (
                        upper is not None and not point[prior] <= upper
                    ):
                        return False
                with np.errstate(all="ignore"):
                    return bool(np.all(assertion.holds(point, np)))

            return check

        return [(a.expression_text(names), check_for(a)) for a in self.assertion_list]

    @property
    def loglike_names(self) -> list[str]:
        """Distinct names of the variables holding pointwise log-likelihoods."""
        return list(dict.fromkeys(n.loglike_name for n in self.nodes))

    @property
    def potential_loglikes(self) -> list[str]:
        """Names of deterministics that hold custom pointwise log-likelihoods."""
        return list(dict.fromkeys(n.loglike_name for n in self.nodes if n.kind == "potential"))


def _stack(priors: list[Prior], attribute: str, vector: bool) -> Any:
    values = [getattr(p, attribute) for p in priors]
    return np.asarray(values, dtype=float) if vector else values[0]


def _log_uniform(name: str, lower: Any, upper: Any, dims: Any, transform: Any = None) -> Any:
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions import transforms

    log_lower, log_upper = np.log(lower), np.log(upper)

    def dist(lo: Any, hi: Any, size: Any) -> Any:
        return pt.exp(pm.Uniform.dist(pt.log(lo), pt.log(hi), size=size))

    if transform is None:
        transform = transforms.Chain(
            [
                transforms.log,
                transforms.Interval(
                    bounds_fn=lambda *_: (pt.as_tensor(log_lower), pt.as_tensor(log_upper))
                ),
            ]
        )
    return pm.CustomDist(name, lower, upper, dist=dist, dims=dims, transform=transform)


def _prior_support(prior: Prior) -> tuple[float | None, float | None]:
    """The prior's own limits (``None`` for an infinite side)."""
    if isinstance(prior, LogGaussianPrior):
        return 0.0, None
    lower = getattr(prior, "lower_limit", -np.inf)
    upper = getattr(prior, "upper_limit", np.inf)
    return (
        float(lower) if np.isfinite(lower) else None,
        float(upper) if np.isfinite(upper) else None,
    )


def _bounded_transform(prior: Prior, bounds: dict[str, list[float]], name: str) -> Any:
    """Interval transform onto the prior's support cut by numeric assertion bounds."""
    import pytensor.tensor as pt
    from pymc.distributions import transforms

    own_lower, own_upper = _prior_support(prior)
    lowers = bounds["lower"] + ([] if own_lower is None else [own_lower])
    uppers = bounds["upper"] + ([] if own_upper is None else [own_upper])
    lower = max(lowers) if lowers else None
    upper = min(uppers) if uppers else None
    if lower is not None and upper is not None and not lower < upper:
        raise ConstraintError(
            f"the assertions on {name!r} cannot hold: with the limits of its prior {prior!r} "
            f"they leave the empty interval ({lower!r}, {upper!r}). Relax the assertions or "
            "widen the prior."
        )
    if isinstance(prior, LogUniformPrior):
        log_bounds = (pt.as_tensor(np.log(lower)), pt.as_tensor(np.log(upper)))
        return transforms.Chain(
            [transforms.log, transforms.Interval(bounds_fn=lambda *_: log_bounds)]
        )
    limits = tuple(None if v is None else pt.as_tensor(float(v)) for v in (lower, upper))
    return transforms.Interval(bounds_fn=lambda *_: limits)


def _prior_logp(prior: Prior, value: Any) -> Any:
    """Log density of ``prior`` at ``value`` (a tensor), normalisation included."""
    import pymc as pm
    import pytensor.tensor as pt

    if isinstance(prior, UniformPrior):
        dist = pm.Uniform.dist(prior.lower_limit, prior.upper_limit)
    elif isinstance(prior, LogUniformPrior):
        lower, upper = prior.lower_limit, prior.upper_limit
        inside = (value >= lower) & (value <= upper)
        density = -pt.log(value) - np.log(np.log(upper) - np.log(lower))
        return pt.switch(inside, density, -np.inf)
    elif isinstance(prior, GaussianPrior) and prior.truncated:
        lower = prior.lower_limit if np.isfinite(prior.lower_limit) else None
        upper = prior.upper_limit if np.isfinite(prior.upper_limit) else None
        dist = pm.TruncatedNormal.dist(prior.mean, prior.sigma, lower=lower, upper=upper)
    elif isinstance(prior, GaussianPrior):
        dist = pm.Normal.dist(prior.mean, prior.sigma)
    else:
        dist = pm.LogNormal.dist(prior.mean, prior.sigma)
    return pm.logp(dist, value)


def _shifted_variable(group: Group, side: str, bound: Any) -> Any:
    """A prior restricted to one side of an expression of other priors.

    ``value = bound + gap`` (``side == "lower"``) or ``bound - gap``, with a free variable
    ``<name>_gap`` on ``(0, inf)`` (log transform) and the prior's log density added as a
    potential.  The map from ``(gap, other priors)`` to ``(value, other priors)`` is a shift, so
    no Jacobian enters and an optimiser without transform Jacobians still finds the MAP.
    """
    import pymc as pm

    prior = group.members[0]
    gap = pm.HalfFlat(f"{group.name}_gap")
    value = pm.Deterministic(group.name, bound + gap if side == "lower" else bound - gap)
    pm.Potential(f"{group.name}_prior", _prior_logp(prior, value))
    return value


def _prior_variable(group: Group, bounds: dict[str, list[float]] | None = None) -> Any:
    """Create the PyMC random variable of one prior group (inside a model context).

    ``bounds`` (scalar groups only) holds numeric assertion bounds
    ``{"lower": [...], "upper": [...]}``: the variable then gets an interval transform onto the
    part of its support where they hold.
    """
    import pymc as pm

    priors: list[Prior] = group.members
    first, vector = priors[0], group.vector
    dims = "dataset" if vector else None
    extra: dict[str, Any] = {}
    if bounds is not None:
        # PyMC chains ``transform`` after the default transform unless that is switched off
        extra["transform"] = _bounded_transform(first, bounds, group.name)
        extra["default_transform"] = None

    def arg(attribute: str) -> Any:
        return _stack(priors, attribute, vector)

    if isinstance(first, UniformPrior):
        return pm.Uniform(group.name, arg("lower_limit"), arg("upper_limit"), dims=dims, **extra)
    if isinstance(first, LogUniformPrior):
        return _log_uniform(
            group.name, arg("lower_limit"), arg("upper_limit"), dims, extra.get("transform")
        )
    if isinstance(first, GaussianPrior):
        if first.truncated:
            lower = arg("lower_limit") if np.isfinite(first.lower_limit) else None
            upper = arg("upper_limit") if np.isfinite(first.upper_limit) else None
            return pm.TruncatedNormal(
                group.name,
                mu=arg("mean"),
                sigma=arg("sigma"),
                lower=lower,
                upper=upper,
                dims=dims,
                **extra,
            )
        return pm.Normal(group.name, mu=arg("mean"), sigma=arg("sigma"), dims=dims, **extra)
    if isinstance(first, LogGaussianPrior):
        return pm.LogNormal(group.name, mu=arg("mean"), sigma=arg("sigma"), dims=dims, **extra)
    raise TypeError(f"graphfit cannot compile a prior of type {type(first).__name__}")


def _population_variable(group: Group, tensors: dict[Prior, Any]) -> Any:
    """Random variable of parameters drawn from a hierarchical factor's population."""
    import pymc as pm

    population = group.population
    xp = pytensor_namespace()
    dims = "dataset" if group.vector else None

    def arg(name: str) -> Any:
        value = population.parameters.get(name)
        if isinstance(value, Expression):
            return value.evaluate(tensors, xp)
        return value

    name = group.name
    non_centred = population.resolved_parametrization == "non_centred"
    distribution = population.distribution
    limits = [population.parameters.get(k) for k in ("lower_limit", "upper_limit")]
    if issubclass(distribution, GaussianPrior) and any(v is not None for v in limits):
        return pm.TruncatedNormal(
            name, mu=arg("mean"), sigma=arg("sigma"), lower=limits[0], upper=limits[1], dims=dims
        )
    if issubclass(distribution, GaussianPrior | LogGaussianPrior):
        log = issubclass(distribution, LogGaussianPrior)
        if not non_centred:
            kind = pm.LogNormal if log else pm.Normal
            return kind(name, mu=arg("mean"), sigma=arg("sigma"), dims=dims)
        offset = pm.Normal(f"{name}_offset", 0.0, 1.0, dims=dims)
        value = arg("mean") + arg("sigma") * offset
        return pm.Deterministic(name, xp.exp(value) if log else value, dims=dims)
    # UniformPrior population
    if not non_centred:
        return pm.Uniform(name, lower=arg("lower_limit"), upper=arg("upper_limit"), dims=dims)
    unit = pm.Uniform(f"{name}_offset", 0.0, 1.0, dims=dims)
    lower, upper = arg("lower_limit"), arg("upper_limit")
    return pm.Deterministic(name, lower + (upper - lower) * unit, dims=dims)


def _observation(name: str, analysis: Any, instance: Any, xp: Any) -> Observation:
    """``analysis.observation(instance, xp)``, checked; data errors name the dataset."""
    try:
        observation = analysis.observation(instance, xp)
    except DataError as error:
        raise DataError(f"dataset {name!r}: {error}") from None
    if not isinstance(observation, Observation) or observation.distribution not in DISTRIBUTIONS:
        raise FactorGraphError(
            f"dataset {name!r}: {type(analysis).__name__}.observation() returned "
            f"{type(observation).__name__}; it must return an observation: "
            "gf.GaussianObservation, gf.PoissonObservation or gf.StudentTObservation."
        )
    if xp is np:
        _check_shapes(name, analysis, observation)
    return observation


def _check_shapes(name: str, analysis: Any, observation: Observation) -> None:
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


def _median_observation(name: str, factor: Any) -> Observation | None:
    """The factor's observation at its prior medians, with numpy: checks data and shapes at
    build time.  ``None`` when user code cannot run on numpy floats there."""
    medians = {p: p.median() for p in factor.prior_model.priors()}
    try:
        instance = factor.prior_model.instance_from(medians, np)
        with np.errstate(all="ignore"):
            return _observation(name, factor.analysis, instance, np)
    except GraphfitError:
        raise
    except Exception:
        return None


def _local_dims(name: str, observation: Observation) -> tuple[str, ...]:
    data = observation.data
    local_dims = observation.dims or tuple(f"obs_dim_{k}" for k in range(data.ndim))
    if len(local_dims) != data.ndim:
        raise FactorGraphError(
            f"dataset {name!r}: observation dims {local_dims} do not match the data's "
            f"{data.ndim} dimension(s) (shape {data.shape})."
        )
    return tuple(local_dims)


def _observed_node(
    name: str,
    observation: Observation,
    model: pm.Model,
    data_containers: bool = False,
    containers: dict[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """The observation's observed node; with ``data_containers`` its data and per-point arrays
    are ``pm.Data`` containers named ``obs.data``, ``obs.<array>`` (listed in ``containers``)
    and its names carry no dataset name, so the model can be reused for another dataset."""
    import pymc as pm

    data = observation.data
    local_dims = _local_dims(name, observation)
    if data_containers:
        var_name, joint_dims = DATA_OBS, tuple(local_dims)
    else:
        var_name, joint_dims = f"{name}.obs", tuple(f"{name}.{d}" for d in local_dims)
    for dim, size in zip(joint_dims, data.shape, strict=True):
        model.add_coord(dim, np.arange(size))
    observed: Any = data
    fixed: dict[str, Any] = observation.fixed()
    if data_containers:
        names = container_names(observation)
        observed = pm.Data(names["data"], data, dims=joint_dims)
        fixed = {k: pm.Data(names[k], v, dims=joint_dims) for k, v in fixed.items()}
        if containers is not None:
            containers.update(names)
    observed_node(observation, var_name, observed, fixed, joint_dims)
    return var_name, dict(zip(joint_dims, local_dims, strict=True))


def _loglike_shape(factor: Any, loglike: Any) -> tuple[int, ...]:
    """Shape of a custom log-likelihood: static if PyTensor knows it, else from numpy."""
    if all(size is not None for size in loglike.type.shape):
        return tuple(int(s) for s in loglike.type.shape)
    medians = {p: p.median() for p in factor.prior_model.priors()}
    instance = factor.prior_model.instance_from(medians, np)
    return np.shape(factor.analysis.log_likelihood_function(instance, np))


def compile_graph(
    graph: FactorGraphModel, vectorize: bool = True, data_containers: bool = False
) -> CompiledGraph:
    """Compile ``graph`` into a :class:`CompiledGraph` holding one ``pm.Model``.

    With ``vectorize`` (the default), alike factors become one observed node over stacked data
    (see :mod:`graphfit.plan.batching`); otherwise every factor gets its own node.

    With ``data_containers`` (for a graph of one factor whose analysis declares an observation;
    used by :func:`graphfit.batch.fit_each.fit_each`), the observed data and noise map are
    ``pm.Data`` containers (names in ``CompiledGraph.data_names``) and the observed node is
    named ``obs`` with the observation's own dims, so the model holds nothing specific to the
    dataset and is reused for others of the same structure by swapping the data.
    """

    if data_containers and (
        len(graph.factors) != 1 or not graph.factors[0].analysis.uses_observation()
    ):
        raise FactorGraphError(
            "compile_graph: data_containers=True needs a graph of one factor whose analysis "
            f"declares an observation; got {graph!r}."
        )

    plan = graph.compile_plan()
    compiled = _build(graph, plan, vectorize, data_containers, marginal=False)
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
) -> CompiledGraph:
    """The model of :func:`compile_graph`; with ``marginal``, the sampling model in which the
    marginalised populations' drawn parameters are integrated out over their grids."""
    import pymc as pm
    import pytensor.tensor as pt

    xp = pytensor_namespace()
    nodes: dict[int, FactorNode] = {}
    black_box: list[str] = []
    containers: dict[str, str] = {}
    marginal_groups, depends = _marginal_members(graph, plan) if marginal else ([], {})
    marginal_names = {g.name for g in marginal_groups}
    placeholders: dict[str, Any] = {}
    loglikes: dict[int, Any] = {}  # dataset index -> its summed log-likelihood (marginal)
    with pm.Model(coords={"dataset": plan.names}) as model:
        tensors: dict[Prior, Any] = {}
        vectors: dict[Prior, tuple[Any, int, int]] = {}
        numeric, shifted, wall = _split_assertions(graph.assertions, plan)
        for group in _creation_order(plan, shifted):
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
                variable = _population_variable(group, tensors)
            elif first in shifted:
                side, other = shifted[first]
                variable = _shifted_variable(group, side, other.evaluate(tensors, xp))
            else:
                variable = _prior_variable(group, numeric.get(first))
            for k, prior in enumerate(group.members):
                tensors[prior] = variable[k] if group.vector else variable
                if group.vector:
                    vectors[prior] = (variable, k, len(group.members))
        for group in plan.relation_groups:
            if group.vector:
                value = _batched_relations(group.members, tensors, vectors)
            else:
                value = group.members[0].evaluate(tensors, xp)
            if placeholders and _uses(value, placeholders):
                continue  # recomputed from the centred model after sampling
            pm.Deterministic(group.name, value, dims="dataset" if group.vector else None)

        assertions = _assertion_potentials(graph.assertions, wall, plan, tensors)

        groups = (
            group_factors(graph.factors) if vectorize else [[k] for k in range(len(plan.names))]
        )
        if depends:  # datasets with a marginalised parameter are stacked only with their like
            groups = [
                part
                for g in groups
                for part in ([k for k in g if k in depends], [k for k in g if k not in depends])
                if part
            ]
        checked = {tuple(g): _batchable(graph, g) for g in groups if len(g) > 1}
        batched = [list(g) for g, observations in checked.items() if observations is not None]
        for number, members in enumerate(batched):
            label = (
                "obs" if len(batched) == 1 and len(members) == len(plan.names) else f"obs_{number}"
            )
            observations = checked[tuple(members)]
            if members[0] in depends:
                summed = _vector_loglike(graph, plan, members, observations, tensors, vectors)
                for i, k in enumerate(members):
                    loglikes[k] = summed[i]
                continue
            for k, node in _vector_node(
                graph, plan, members, observations, label, tensors, vectors, model
            ).items():
                nodes[k] = node
        for index, (name, factor) in enumerate(zip(plan.names, graph.factors, strict=True)):
            if index in nodes or index in loglikes:
                continue
            analysis = factor.analysis
            if is_black_box(analysis):
                # numpy-only likelihood: an Op without gradient (see graphfit.spec.black_box)
                black_box.append(name)
                loglike = black_box_log_likelihood(name, factor, tensors)
                nodes[index] = _potential_node(name, loglike, tuple(loglike.type.shape), model)
                continue
            instance = factor.prior_model.instance_from(tensors, xp)
            if analysis.uses_observation():
                _median_observation(name, factor)
                try:
                    observation = _observation(name, analysis, instance, xp)
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
                var_name, dims = _observed_node(
                    name, observation, model, data_containers, containers
                )
                nodes[index] = FactorNode(name, var_name, "observed", dims)
            else:
                loglike = pt.as_tensor(analysis.log_likelihood_function(instance, xp))
                if index in depends:
                    loglikes[index] = pt.sum(loglike)
                    continue
                pm.Potential(f"{name}.log_likelihood", loglike.sum())
                var_name = f"{name}.obs"
                joint_dims = tuple(f"{name}.obs_dim_{k}" for k in range(loglike.ndim))
                shape = _loglike_shape(factor, loglike)
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
        data_names=containers,
        assertions=assertions,
        assertion_list=graph.assertions,
        marginal_groups=marginal_info,
    )


def _uses(value: Any, placeholders: dict[str, Any]) -> bool:
    """Whether tensor ``value`` depends on any of the placeholders."""
    from pytensor.graph.basic import ancestors

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

    observation, data, fixed = _batched_observation(
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


def _potential_node(name: str, loglike: Any, shape: tuple[int, ...], model: pm.Model) -> FactorNode:
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


def _joint_names(plan: GraphPlan) -> dict[Prior, str]:
    """Each prior's name in the joint model, ``name[dataset]`` for a per-dataset entry."""
    return {
        p: f"{ref.name}[{ref.dataset}]" if ref.dataset is not None else ref.name
        for p, ref in plan.prior_refs.items()
    }


def _scalar_prior(side: Any, plan: GraphPlan) -> Prior | None:
    """``side`` if it is a prior compiled as its own scalar variable (not drawn, not a vector)."""
    if not isinstance(side, Prior):
        return None
    ref = plan.prior_refs.get(side)
    if ref is None or ref.dataset is not None or side in plan.drawn_from:
        return None
    return side


def _split_assertions(
    assertions: list[Any], plan: GraphPlan
) -> tuple[dict[Prior, dict[str, list[float]]], dict[Prior, tuple[str, Any]], list[int]]:
    """How each assertion is compiled.

    With ``prior`` a scalar variable (its own prior, not per dataset, not drawn from a
    population), an assertion ``prior > number`` (or ``<``, ``>=``, ``<=``, either way round)
    becomes a bound of ``prior``'s interval transform (*numeric*), and one assertion
    ``prior > expression`` of other priors makes ``prior`` *shifted*: ``prior = expression +
    gap`` with a free ``gap > 0`` (see :func:`_shifted_variable`), while the variables'
    dependencies stay acyclic.  Every other assertion is a ``pm.Potential`` wall.  Returns the
    numeric bounds per prior, the shifted priors with ``(side, expression)``, and the indices
    of the wall assertions.
    """
    numeric: dict[Prior, dict[str, list[float]]] = {}
    shifted: dict[Prior, tuple[str, Any]] = {}
    depends: dict[int, set[int]] = {}
    wall: list[int] = []

    def reaches(start: int, target: int) -> bool:
        stack, seen = [start], set()
        while stack:
            node = stack.pop()
            if node == target:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(depends.get(node, ()))
        return False

    for k, assertion in enumerate(assertions):
        done = False
        for prior, other, op in (
            (assertion.left, assertion.right, assertion.op),
            (assertion.right, assertion.left, _FLIP[assertion.op]),
        ):
            prior = _scalar_prior(prior, plan)
            if prior is None or prior in shifted:
                continue
            side = "lower" if op in (">", ">=") else "upper"
            if not isinstance(other, Expression):
                numeric.setdefault(prior, {"lower": [], "upper": []})[side].append(other)
                done = True
                break
            others = other.priors()
            if prior in numeric or any(p is prior for p in others):
                continue
            if any(plan.prior_refs.get(p) is None for p in others):
                continue
            if any(reaches(id(p), id(prior)) for p in others):
                continue  # would make a cycle: a > b and b > a
            shifted[prior] = (side, other)
            depends.setdefault(id(prior), set()).update(id(p) for p in others)
            done = True
            break
        if not done:
            wall.append(k)
    return numeric, shifted, wall


_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">="}


def _creation_order(plan: GraphPlan, shifted: dict[Prior, tuple[str, Any]]) -> list[Group]:
    """Prior groups in an order where every variable comes after those it depends on:
    hyperparameters before populations, the priors in an assertion bound before the bounded."""
    needs: dict[int, set[int]] = {}
    owner = {id(p): id(g) for g in plan.prior_groups for p in g.members}
    for group in plan.prior_groups:
        deps: set[int] = set()
        for prior in group.members:
            if prior in shifted:
                deps.update(owner[id(p)] for p in shifted[prior][1].priors())
        if group.population is not None:
            for value in group.population.parameters.values():
                if isinstance(value, Expression):
                    deps.update(owner[id(p)] for p in value.priors() if id(p) in owner)
        deps.discard(id(group))
        needs[id(group)] = deps
    ordered: list[Group] = []
    done: set[int] = set()
    pending = list(plan.prior_groups)
    while pending:
        ready = [g for g in pending if needs[id(g)] <= done]
        if not ready:  # cannot happen: _split_assertions keeps dependencies acyclic
            raise FactorGraphError("circular dependency between assertion bounds")
        for group in ready:
            ordered.append(group)
            done.add(id(group))
        pending = [g for g in pending if id(g) not in done]
    return ordered


def _assertion_potentials(
    assertions: list[Any], wall: list[int], plan: GraphPlan, tensors: dict[Prior, Any]
) -> dict[str, str]:
    """One ``pm.Potential`` per wall assertion: 0 where it holds, ``-inf`` elsewhere."""
    import pymc as pm

    names = _joint_names(plan)
    out = {}
    for k in wall:
        name = f"assertion_{k}"
        pm.Potential(name, assertions[k].log_potential(tensors, pytensor_namespace()))
        out[name] = assertions[k].expression_text(names)
    return out


def _tensor_context(
    tensors: dict[Prior, Any], vectors: dict[Prior, tuple[Any, int, int]], ndim: int
) -> BatchContext:
    """Batch context over the model's tensors: a run of one vector variable is used whole."""
    import pytensor.tensor as pt

    def vector(priors: list[Prior]) -> Any:
        entries = [vectors.get(p) for p in priors]
        if all(e is not None and e[0] is entries[0][0] for e in entries):
            variable, _, size = entries[0]
            index = [e[1] for e in entries]
            return variable if index == list(range(size)) else variable[np.asarray(index)]
        return pt.stack([pt.as_tensor(tensors[p]) for p in priors])

    return BatchContext(
        scalar=lambda p: tensors[p], vector=vector, xp=pytensor_namespace(), ndim=ndim
    )


def _batched_relations(
    relations: list[Any], tensors: dict[Prior, Any], vectors: dict[Prior, tuple[Any, int, int]]
) -> Any:
    """Per-dataset relations as one vector expression (stacked one by one if not alike)."""
    import pytensor.tensor as pt

    ctx = _tensor_context(tensors, vectors, 0)
    try:
        value = pt.as_tensor(batch_value(list(relations), ctx))
    except NotBatchable:
        value = None
    if value is None or value.ndim != 1:
        xp = pytensor_namespace()
        return pt.stack([pt.as_tensor(r.evaluate(tensors, xp)) for r in relations])
    return value


def _numpy_observations(graph: FactorGraphModel, members: list[int]) -> list[Observation]:
    """Each member's observation evaluated with numpy at its prior medians."""
    out = []
    for k in members:
        observation = _median_observation(graph.names[k], graph.factors[k])
        if observation is None:
            raise NotBatchable("user code fails at the prior medians")
        out.append(observation)
    return out


def _batchable(graph: FactorGraphModel, members: list[int]) -> list[Observation] | None:
    """The members' numpy observations if alike factors can share one node (same observation
    form, and the numpy check passes), else ``None``."""
    try:
        observations = _numpy_observations(graph, members)
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


def _batched_observation(
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
    ctx = _tensor_context(tensors, vectors, first.data.ndim)
    instance = batched_instance([graph.factors[k].prior_model for k in members], ctx)
    observation = _observation(
        plan.names[members[0]], graph.factors[members[0]].analysis, instance, pytensor_namespace()
    )
    data = np.stack([o.data for o in observations])
    fixed = {key: np.stack([o.fixed()[key] for o in observations]) for key in first.fixed()}
    return observation, data, fixed


def _vector_node(
    graph: FactorGraphModel,
    plan: GraphPlan,
    members: list[int],
    observations: list[Observation],
    label: str,
    tensors: dict[Prior, Any],
    vectors: dict[Prior, tuple[Any, int, int]],
    model: pm.Model,
) -> dict[int, FactorNode]:
    """One observed node for alike factors ``members``; returns each member's FactorNode."""
    first = observations[0]
    names = [plan.names[k] for k in members]
    local_dims = _local_dims(names[0], first)
    if label == "obs":
        dataset_dim, joint_dims = "dataset", tuple(local_dims)
    else:
        dataset_dim = f"{label}.dataset"
        joint_dims = tuple(f"{label}.{d}" for d in local_dims)
        model.add_coord(dataset_dim, names)
    for dim, size in zip(joint_dims, first.data.shape, strict=True):
        if dim not in model.coords:
            model.add_coord(dim, np.arange(size))

    observation, data, fixed = _batched_observation(
        graph, plan, members, observations, tensors, vectors
    )
    observed_node(observation, label, data, fixed, (dataset_dim, *joint_dims))
    renames = dict(zip(joint_dims, local_dims, strict=True))
    return {
        k: FactorNode(name, label, "observed", renames, {dataset_dim: name})
        for k, name in zip(members, names, strict=True)
    }

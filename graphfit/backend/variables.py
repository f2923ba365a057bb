"""Prior and population variables of the joint model, and the assertions that cut their intervals,
shift them or restrict them with potentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend.compiled import (
    joint_names,
    prior_support,
)
from graphfit.backend.nodes import container
from graphfit.backend.tensor_namespace import pytensor_namespace
from graphfit.exceptions import ConstraintError, FactorGraphError
from graphfit.plan.naming import GraphPlan, Group
from graphfit.spec.priors import Prior, PyMCForm
from graphfit.spec.relations import Expression

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "COMPILED_IN_FORMS",
    "FLIP",
    "assertion_potentials",
    "bounded_transform",
    "creation_order",
    "distribution",
    "log_uniform",
    "log_uniform_logp",
    "population_variable",
    "prior_constants_mode",
    "prior_container_values",
    "prior_logp",
    "prior_variable",
    "scalar_prior",
    "shifted_variable",
    "split_assertions",
    "stack_arguments",
    "value_container_priors",
]


def stack_arguments(forms: list[PyMCForm], argument: str, vector: bool) -> Any:
    """One argument of a group's PyMC forms: the first prior's, or a vector of all."""
    values = [form.parameters[argument] for form in forms]
    if values[0] is None:  # left out by every member (their batch keys are equal)
        return None
    return np.asarray(values, dtype=float) if vector else values[0]


def log_uniform(name: str, lower: Any, upper: Any, dims: Any = None, transform: Any = None) -> Any:
    """A variable with density proportional to ``1/x`` on ``[lower, upper]``: a uniform in
    ``log x`` (the ``"LogUniform"`` form of :class:`~graphfit.LogUniformPrior`)."""
    import pymc as pm
    import pytensor.tensor as pt
    from pymc.distributions import transforms

    # the bounds of the transform: numbers, or graphs of the ``pm.Data`` containers of a
    # swappable model (see prior_variable)
    log_lower, log_upper = pt.log(lower), pt.log(upper)

    def dist(lo: Any, hi: Any, size: Any) -> Any:
        return pt.exp(pm.Uniform.dist(pt.log(lo), pt.log(hi), size=size))

    if transform is None:
        transform = transforms.Chain(
            [
                transforms.log,
                transforms.Interval(bounds_fn=lambda *_: (log_lower, log_upper)),
            ]
        )
    return pm.CustomDist(name, lower, upper, dist=dist, dims=dims, transform=transform)


def log_uniform_logp(value: Any, lower: Any, upper: Any) -> Any:
    """Log density of the ``"LogUniform"`` form at ``value``, normalisation included."""
    import pytensor.tensor as pt

    inside = (value >= lower) & (value <= upper)
    density = -pt.log(value) - np.log(np.log(upper) - np.log(lower))
    return pt.switch(inside, density, -np.inf)


#: The PyMC forms graphfit defines itself (every other form is the PyMC distribution of that
#: name): ``(variable(name, *arguments, dims, transform), logp(value, *arguments))``.
CUSTOM_FORMS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "LogUniform": (log_uniform, log_uniform_logp),
}


def distribution(form: PyMCForm, prior: Prior) -> Any:
    """The PyMC distribution class a prior's form names."""
    import pymc as pm

    kind = getattr(pm, form.distribution, None)
    if not (isinstance(kind, type) and issubclass(kind, pm.Distribution)):
        raise TypeError(
            f"graphfit cannot compile {prior!r}: its pymc_form() names {form.distribution!r}, "
            f"which is neither a PyMC distribution nor one of graphfit's ({sorted(CUSTOM_FORMS)})."
        )
    return kind


def bounded_transform(prior: Prior, bounds: dict[str, list[float]], name: str) -> Any:
    """Interval transform onto the prior's support cut by numeric assertion bounds."""
    import pytensor.tensor as pt
    from pymc.distributions import transforms

    own_lower, own_upper = prior_support(prior)
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
    if prior.pymc_form().log_interval:
        assert lower is not None and upper is not None  # a log-interval prior has both limits
        log_bounds = (pt.as_tensor(np.log(lower)), pt.as_tensor(np.log(upper)))
        return transforms.Chain(
            [transforms.log, transforms.Interval(bounds_fn=lambda *_: log_bounds)]
        )
    limits = tuple(None if v is None else pt.as_tensor(float(v)) for v in (lower, upper))
    return transforms.Interval(bounds_fn=lambda *_: limits)


def prior_logp(prior: Prior, value: Any) -> Any:
    """Log density of ``prior`` at ``value`` (a tensor), normalisation included."""
    import pymc as pm

    form = prior.pymc_form()
    arguments = {k: v for k, v in form.parameters.items() if v is not None}
    if form.distribution in CUSTOM_FORMS:
        return CUSTOM_FORMS[form.distribution][1](value, **arguments)
    return pm.logp(distribution(form, prior).dist(**arguments), value)


def shifted_variable(group: Group, side: str, bound: Any) -> Any:
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
    pm.Potential(f"{group.name}_prior", prior_logp(prior, value))
    return value


def prior_variable(
    group: Group,
    bounds: dict[str, list[float]] | None = None,
    containers: dict[str, tuple[str, str]] | None = None,
) -> Any:
    """Create the PyMC random variable of one prior group (inside a model context).

    ``bounds`` (scalar groups only) holds numeric assertion bounds
    ``{"lower": [...], "upper": [...]}``: the variable then gets an interval transform onto the
    part of its support where they hold.  With ``containers`` (a swappable model, see
    :mod:`graphfit.backend.structures`), the distribution's arguments are ``pm.Data``
    containers named ``<group>::<argument>``, each recorded in ``containers`` as
    ``(group name, argument)``, so another graph of the structure sets its own prior values.
    """
    priors: list[Prior] = group.members
    first, vector = priors[0], group.vector
    dims = "dataset" if vector else None
    extra: dict[str, Any] = {}
    if bounds is not None:
        # PyMC chains ``transform`` after the default transform unless that is switched off
        extra["transform"] = bounded_transform(first, bounds, group.name)
        extra["default_transform"] = None

    forms = [p.pymc_form() for p in priors]
    form = forms[0]
    arguments = {k: stack_arguments(forms, k, vector) for k in form.parameters}
    if containers is not None:
        for argument, value in arguments.items():
            if value is not None:
                name = f"{group.name}::{argument}"
                arguments[argument] = container(name, np.asarray(value, dtype=float), None)
                containers[name] = (group.name, argument)
    if form.distribution in CUSTOM_FORMS:
        variable = CUSTOM_FORMS[form.distribution][0]
        return variable(group.name, **arguments, dims=dims, transform=extra.get("transform"))
    return distribution(form, first)(group.name, **arguments, dims=dims, **extra)


#: The PyMC forms whose arguments are always compiled in (never containers).  A truncated
#: normal's normalisation with symbolic arguments calls ``erfcx``, which PyTensor's numba backend
#: does not cache on disk, so every new process would compile the log density again (with
#: numbers it is folded away).
COMPILED_IN_FORMS = frozenset({"TruncatedNormal"})


def value_container_priors(graph: Any, plan: GraphPlan) -> set[int]:
    """``id`` of each prior of ``graph`` whose arguments a swappable model holds in
    ``pm.Data`` containers (see :func:`prior_variable`): the members of each prior group
    compiled as its own distribution.  Left out, their values compiled in: groups drawn from a
    population (their own arguments are not used), groups with a prior in an assertion
    (bounds and shifts are built from their values) and the forms of
    :data:`COMPILED_IN_FORMS`."""
    left_out = {id(p) for assertion in graph.assertions for p in assertion.priors()}
    out: set[int] = set()
    for group in plan.prior_groups:
        if (
            group.population is None
            and not any(id(p) in left_out for p in group.members)
            and group.members[0].pymc_form().distribution not in COMPILED_IN_FORMS
        ):
            out.update(id(p) for p in group.members)
    return out


def prior_container_values(
    layout: dict[str, tuple[str, str]], plan: GraphPlan
) -> dict[str, np.ndarray]:
    """The value of each prior container of ``layout`` (a compiled graph's ``prior_layout``,
    see :func:`prior_variable`) for the graph ``plan`` was made from."""
    groups = {group.name: group for group in plan.prior_groups}
    values = {}
    for name, (group_name, argument) in layout.items():
        group = groups[group_name]
        forms = [p.pymc_form() for p in group.members]
        value = np.asarray(stack_arguments(forms, argument, group.vector), dtype=float)
        value.setflags(write=False)
        values[name] = value
    return values


def prior_constants_mode(model: Any, layout: dict[str, tuple[str, str]]) -> Any:
    """A PyTensor compilation mode in which the prior containers of ``model`` (named in
    ``layout``, a compiled graph's ``prior_layout``) are constants: their values when a
    function is compiled.

    PyMC's own NUTS compiles its log density and gradient for every fit; given this mode,
    they hold the graph's prior values as numbers, which PyTensor folds: one evaluation of
    the cookbook's relational model was measured 25% cheaper than reading the containers
    (``benchmarks/cookbook.py``).  A function compiled with it is the graph's alone: another
    graph's prior values need another compile (PyTensor's disk cache keeps each).
    """
    import pytensor.tensor as pt
    from pytensor.compile.mode import get_default_mode
    from pytensor.graph.rewriting.basic import GraphRewriter

    containers = {model.named_vars[name] for name in layout}

    class ConstantPriors(GraphRewriter):
        """Replace each prior container used in the graph with a constant of its value."""

        def apply(self, fgraph: Any) -> None:
            for variable in list(fgraph.inputs):
                if variable in containers and fgraph.clients.get(variable):
                    value = np.asarray(variable.get_value(borrow=False), dtype=variable.dtype)
                    constant = variable.type.filter_variable(pt.constant(value))
                    fgraph.replace(variable, constant, reason="prior_constants_mode")

    # before every other rewrite, so that constant folding and the rest see the numbers
    return get_default_mode().register((ConstantPriors(), -1))


def population_variable(group: Group, tensors: dict[Prior, Any]) -> Any:
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
    family = population.family
    if population.truncated:  # a truncated normal has no non-centred form
        limits = [population.parameters.get(k) for k in ("lower_limit", "upper_limit")]
        return pm.TruncatedNormal(
            name, mu=arg("mean"), sigma=arg("sigma"), lower=limits[0], upper=limits[1], dims=dims
        )
    if family.shape == "gaussian":
        if not non_centred:
            kind = pm.LogNormal if family.log else pm.Normal
            return kind(name, mu=arg("mean"), sigma=arg("sigma"), dims=dims)
        offset = pm.Normal(f"{name}_offset", 0.0, 1.0, dims=dims)
        value = arg("mean") + arg("sigma") * offset
        return pm.Deterministic(name, xp.exp(value) if family.log else value, dims=dims)
    # a uniform population
    if not non_centred:
        return pm.Uniform(name, lower=arg("lower_limit"), upper=arg("upper_limit"), dims=dims)
    unit = pm.Uniform(f"{name}_offset", 0.0, 1.0, dims=dims)
    lower, upper = arg("lower_limit"), arg("upper_limit")
    return pm.Deterministic(name, lower + (upper - lower) * unit, dims=dims)


def scalar_prior(side: Any, plan: GraphPlan) -> Prior | None:
    """``side`` if it is a prior compiled as its own scalar variable (not drawn, not a vector)."""
    if not isinstance(side, Prior):
        return None
    ref = plan.prior_refs.get(side)
    if ref is None or ref.dataset is not None or side in plan.drawn_from:
        return None
    return side


def split_assertions(
    assertions: list[Any], plan: GraphPlan
) -> tuple[dict[Prior, dict[str, list[float]]], dict[Prior, tuple[str, Any]], list[int]]:
    """How each assertion is compiled.

    With ``prior`` a scalar variable (its own prior, not per dataset, not drawn from a
    population), an assertion ``prior > number`` (or ``<``, ``>=``, ``<=``, either way round)
    becomes a bound of ``prior``'s interval transform (*numeric*), and one assertion
    ``prior > expression`` of other priors makes ``prior`` *shifted*: ``prior = expression +
    gap`` with a free ``gap > 0`` (see :func:`shifted_variable`), while the variables'
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
            (assertion.right, assertion.left, FLIP[assertion.op]),
        ):
            prior = scalar_prior(prior, plan)
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


FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">="}


def creation_order(plan: GraphPlan, shifted: dict[Prior, tuple[str, Any]]) -> list[Group]:
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
        if not ready:  # cannot happen: split_assertions keeps dependencies acyclic
            raise FactorGraphError("circular dependency between assertion bounds")
        for group in ready:
            ordered.append(group)
            done.add(id(group))
        pending = [g for g in pending if id(g) not in done]
    return ordered


def assertion_potentials(
    assertions: list[Any], wall: list[int], plan: GraphPlan, tensors: dict[Prior, Any]
) -> dict[str, str]:
    """One ``pm.Potential`` per wall assertion: 0 where it holds, ``-inf`` elsewhere."""
    import pymc as pm

    names = joint_names(plan)
    out = {}
    for k in wall:
        name = f"assertion_{k}"
        pm.Potential(name, assertions[k].log_potential(tensors, pytensor_namespace()))
        out[name] = assertions[k].expression_text(names)
    return out

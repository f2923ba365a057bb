"""The naming plan of a factor graph: which PyMC variable holds each parameter.

This module is pure Python (no PyMC).  It decides, once per graph, the name of every variable of
the joint model and how each dataset's own model paths map onto them:

* a prior used by several datasets (or the only dataset) is one scalar variable, named by the
  prior's ``name`` or by the first model path that uses it (``centre``, ``gaussian.sigma``);
* when every dataset has its own prior of the same kind at the same path, those priors are one
  variable with ``dims="dataset"`` named by the path (``normalization``);
* other per-dataset priors are scalars named ``<dataset>.<path>``;
* relations at model paths become deterministics following the same rules;
* a prior used only inside relations is named ``<relation path>_<k>`` unless it has a ``name``.

The compiler builds the PyMC model from the plan and the results use it to split the joint
posterior into per-dataset views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphfit.plan.labels import parameter_label
from graphfit.spec.model import AbstractModel, Path, path_text
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Relation

if TYPE_CHECKING:
    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = ["GraphPlan", "Group", "VarRef", "plan_graph"]


@dataclass(frozen=True)
class VarRef:
    """Where a value lives in the joint posterior: variable ``name``, sliced at ``dataset``."""

    name: str
    dataset: str | None = None

    @property
    def label(self) -> str:
        """The value's label in the joint posterior (``sigma[dataset_0]``, ``centre``): see
        :mod:`graphfit.plan.labels`."""
        return parameter_label(self.name, *(() if self.dataset is None else (self.dataset,)))


@dataclass
class Group:
    """One variable of the joint model: a prior or relation, or one per dataset (vector)."""

    name: str
    members: list[Any]  # priors or relations; one per dataset when ``vector``
    vector: bool
    #: The hierarchical factor the members are drawn from, if any.
    population: Any = None


@dataclass
class GraphPlan:
    """Variable names and per-dataset maps of a factor graph (see the module docstring)."""

    names: list[str]
    priors: list[Prior]
    prior_groups: list[Group] = field(default_factory=list)
    relation_groups: list[Group] = field(default_factory=list)
    prior_refs: dict[Prior, VarRef] = field(default_factory=dict)
    relation_refs: dict[Relation, VarRef] = field(default_factory=dict)
    users: dict[Any, list[int]] = field(default_factory=dict)
    #: Per dataset: ``(local name, VarRef)`` of every free prior and relation it uses.
    factor_vars: list[list[tuple[str, VarRef]]] = field(default_factory=list)
    #: Per dataset: the priors it uses, in order.
    factor_priors: list[list[Prior]] = field(default_factory=list)
    #: Hierarchical factors with their names, and which population each drawn prior is in.
    populations: list[tuple[str, Any]] = field(default_factory=list)
    drawn_from: dict[Prior, Any] = field(default_factory=dict)

    def display_names(self) -> dict[Prior, str]:
        """Name of each prior as written in relation formulas."""
        return {p: ref.name for p, ref in self.prior_refs.items()}


class _Names:
    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, name: str) -> str:
        candidate, k = name, 1
        while candidate in self.used:
            candidate = f"{name}_{k}"
            k += 1
        self.used.add(candidate)
        return candidate


def plan_graph(graph: FactorGraphModel) -> GraphPlan:
    """Make the :class:`GraphPlan` of ``graph``."""
    models: Sequence[AbstractModel] = [f.prior_model for f in graph.factors]
    n = len(models)
    leaves = [list(m.leaves()) for m in models]
    plan = GraphPlan(names=list(graph.names), priors=graph.priors())

    # Which datasets use each prior and relation, and where each prior first sits directly.
    users: dict[Any, list[int]] = {}
    first_path: dict[Prior, Path] = {}
    first_relation_path: dict[Prior, tuple[Path, int]] = {}
    for index, factor_leaves in enumerate(leaves):
        for path, value in factor_leaves:
            if isinstance(value, Prior):
                first_path.setdefault(value, path)
            if isinstance(value, Relation):
                for k, prior in enumerate(value.priors()):
                    first_relation_path.setdefault(prior, (path, k))
            if isinstance(value, Relation | Prior):
                for obj in (value, *value.priors()) if isinstance(value, Relation) else (value,):
                    owners = users.setdefault(obj, [])
                    if not owners or owners[-1] != index:
                        owners.append(index)
    plan.users = users

    names = _Names()
    # Hierarchical factors: hyperparameters are named <factor>.<argument> and count as used by
    # every dataset whose parameters the population draws.
    plan.populations = list(zip(graph.hierarchical_names, graph.hierarchical_factors, strict=True))
    hyper: list[tuple[str, Prior, list[int]]] = []
    for hname, population in plan.populations:
        owners = sorted({k for p in population.drawn for k in users.get(p, [])})
        for prior in population.drawn:
            plan.drawn_from[prior] = population
        for argument, prior in population.hyper_priors():
            users[prior] = owners
            hyper.append((f"{hname}.{argument}", prior, owners))

    def is_local(obj: Any) -> bool:
        return n > 1 and len(users[obj]) == 1

    for name, prior, _ in hyper:
        plan.prior_refs[prior] = VarRef(names.take(name))
    for prior in plan.priors:  # explicit names are reserved first
        if prior.name is not None and prior not in plan.prior_refs:
            plan.prior_refs[prior] = VarRef(names.take(prior.name))

    # Vector groups: every dataset has its own prior (or relation) at the same path.
    if n > 1:
        leaf_maps = [dict(factor_leaves) for factor_leaves in leaves]
        for path, _ in leaves[0]:
            at_path = [leaf_map.get(path) for leaf_map in leaf_maps]
            priors_at = [v for v in at_path if isinstance(v, Prior)]
            relations_at = [v for v in at_path if isinstance(v, Relation)]
            if (
                len(priors_at) == len(at_path)
                and all(
                    v.name is None and is_local(v) and v not in plan.prior_refs for v in priors_at
                )
                and len({v.batch_key() for v in priors_at}) == 1
                and len({id(plan.drawn_from.get(v)) for v in priors_at}) == 1
            ):
                population = plan.drawn_from.get(priors_at[0])
                group = Group(names.take(path_text(path)), priors_at, True, population)
                plan.prior_groups.append(group)
                for name, prior in zip(plan.names, priors_at, strict=True):
                    plan.prior_refs[prior] = VarRef(group.name, name)
            elif len(relations_at) == len(at_path) and all(is_local(v) for v in relations_at):
                group = Group(names.take(path_text(path)), relations_at, vector=True)
                plan.relation_groups.append(group)
                for name, relation in zip(plan.names, relations_at, strict=True):
                    plan.relation_refs[relation] = VarRef(group.name, name)

    # Every other prior is a scalar variable.
    in_vector = {id(p) for g in plan.prior_groups for p in g.members}
    for prior in plan.priors:
        if prior in plan.prior_refs:
            if id(prior) not in in_vector:
                group = Group(plan.prior_refs[prior].name, [prior], False)
                group.population = plan.drawn_from.get(prior)
                plan.prior_groups.append(group)
            continue
        if prior in first_path:
            base = path_text(first_path[prior])
        else:
            relation_path, k = first_relation_path[prior]
            base = f"{path_text(relation_path)}_{k}"
        if is_local(prior):
            base = f"{plan.names[users[prior][0]]}.{base}"
        ref = VarRef(names.take(base))
        plan.prior_refs[prior] = ref
        plan.prior_groups.append(Group(ref.name, [prior], False, plan.drawn_from.get(prior)))

    # Relations at model paths that are not in a vector group.
    for index, factor_leaves in enumerate(leaves):
        for path, value in factor_leaves:
            if isinstance(value, Relation) and value not in plan.relation_refs:
                base = path_text(path)
                if is_local(value):
                    base = f"{plan.names[index]}.{base}"
                ref = VarRef(names.take(base))
                plan.relation_refs[value] = ref
                plan.relation_groups.append(Group(ref.name, [value], vector=False))

    # Per-dataset maps from local names to joint variables.
    for dataset, factor_leaves, model in zip(plan.names, leaves, models, strict=True):
        local: dict[str, VarRef] = {}
        for path, value in factor_leaves:
            if isinstance(value, Prior):
                local[path_text(path)] = plan.prior_refs[value]
            elif isinstance(value, Relation):
                local[path_text(path)] = plan.relation_refs[value]
        direct = {p for _, p in factor_leaves if isinstance(p, Prior)}
        factor_priors = model.priors()
        for prior in factor_priors:
            if prior not in direct:
                name = plan.prior_refs[prior].name.removeprefix(f"{dataset}.")
                while name in local:
                    name = f"{name}_"
                local[name] = plan.prior_refs[prior]
        for name, prior, owners in hyper:  # a dataset's results show its population
            if plan.names.index(dataset) in owners:
                local[name] = plan.prior_refs[prior]
                factor_priors = [*factor_priors, prior]
        plan.factor_vars.append(list(local.items()))
        plan.factor_priors.append(factor_priors)
    return plan

"""What compiling a factor graph gives: the :class:`CompiledGraph` and a :class:`FactorNode` per
dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.plan.naming import GraphPlan
from graphfit.spec.observations import Observation
from graphfit.spec.priors import Prior

if TYPE_CHECKING:
    import pymc as pm


__all__ = [
    "DATA_NAMES",
    "DATA_OBS",
    "CompiledGraph",
    "FactorNode",
    "container_names",
    "joint_names",
    "prior_support",
]


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
        names = joint_names(self.plan)

        def check_for(assertion: Any) -> Any:
            def check(values: dict[str, Any]) -> bool:
                point = {}
                for prior in assertion.priors():
                    name, k = where[prior]
                    point[prior] = values[name] if k is None else values[name][k]
                    lower, upper = prior_support(prior)
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


def prior_support(prior: Prior) -> tuple[float | None, float | None]:
    """The prior's own limits (:meth:`~graphfit.Prior.support`, ``None`` for an infinite side)."""
    lower, upper = prior.support()
    return (lower if np.isfinite(lower) else None, upper if np.isfinite(upper) else None)


def joint_names(plan: GraphPlan) -> dict[Prior, str]:
    """Each prior's name in the joint model, ``name[dataset]`` for a per-dataset entry."""
    return {
        p: f"{ref.name}[{ref.dataset}]" if ref.dataset is not None else ref.name
        for p, ref in plan.prior_refs.items()
    }

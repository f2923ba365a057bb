"""What compiling a factor graph gives: the :class:`CompiledGraph` and a :class:`FactorNode` per
dataset."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.backend.pointwise import python_default
from graphfit.plan.naming import GraphPlan
from graphfit.spec.observations import Observation
from graphfit.spec.priors import Prior

if TYPE_CHECKING:
    import pymc as pm


__all__ = [
    "DATA_NAMES",
    "DATA_OBS",
    "LOCK",
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


def container_names(observation: Observation, node: str = DATA_OBS) -> dict[str, str]:
    """Names of the ``pm.Data`` containers of the observed node ``node``: its data
    (``<node>.data``) and each per-point array of the observation (``<node>.noise_map``)."""
    return {"data": f"{node}.data", **{k: f"{node}.{k}" for k in observation.fixed()}}


#: One user at a time of a model shared by graphs of one structure (see
#: :mod:`graphfit.backend.structures`), since it holds one graph's data at a time: fits, and
#: what is computed later from their model (posterior predictive draws), hold it.
LOCK = threading.RLock()

#: Key in ``CompiledGraph.cache`` of the compiled graph whose data the shared model holds.
_ACTIVE = "active data"


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
    #: Names of datasets whose code runs as numpy with finite-difference gradients (see
    #: graphfit.backend.tracing).
    finite_differences: list[str] = field(default_factory=list)
    #: Names of the ``pm.Data`` containers holding the observed data and noise map (only when
    #: compiled with ``data_containers=True``; swap them with ``pm.set_data``).
    data_names: dict[str, str] = field(default_factory=dict)
    #: The values of the model's ``pm.Data`` containers for this graph's datasets and priors, by
    #: container name (empty for a model without containers).  Graphs of one structure share one
    #: ``model`` (see :mod:`graphfit.backend.structures`); :meth:`activate` sets these values
    #: into it before it is used.
    data: dict[str, np.ndarray] = field(default_factory=dict)
    #: Where each container's value comes from: container name -> (dataset indices, the
    #: observation's field, ``"data"`` or a per-point array such as ``"noise_map"``); the
    #: values of several indices are stacked on a leading axis (a vectorised node).
    data_layout: dict[str, tuple[tuple[int, ...], str]] = field(default_factory=dict)
    #: The containers holding prior arguments: container name -> (prior group name, argument of
    #: its PyMC distribution); see :func:`graphfit.backend.variables.prior_variable`.
    prior_layout: dict[str, tuple[str, str]] = field(default_factory=dict)
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

    def __post_init__(self) -> None:
        if self.data and _ACTIVE not in self.cache:  # a new model holds the data it was built on
            self.cache[_ACTIVE] = self

    def activate(self) -> None:
        """Set this graph's ``data`` into the model's containers, unless they hold them
        already (the model is shared by every graph of its structure).  Callers that may run
        beside another fit hold :data:`LOCK`."""
        if not self.data or self.cache.get(_ACTIVE) is self:
            return
        import pymc as pm  # import time: `import graphfit` loads numpy only

        with python_default():  # its length checks compile a function once: no C for it
            pm.set_data(self.data, model=self.model)
        self.cache[_ACTIVE] = self

    def drop_containers(self, idata: Any) -> None:
        """Remove the data containers from ``idata``'s ``constant_data`` group (and the group
        when nothing else is left), where PyMC's sampling functions put the ones not observed
        (the noise maps): they are the datasets' own arrays, kept by their analyses, and a
        model without containers has no such group."""
        if not self.data or not stack.has_group(idata, "constant_data"):
            return
        constant = stack.group(idata, "constant_data")
        constant = constant.drop_vars([name for name in self.data if name in constant])
        stack.drop_group(idata, "constant_data")
        if constant.data_vars:
            stack.set_group(idata, "constant_data", constant)

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
    return {p: ref.label for p, ref in plan.prior_refs.items()}

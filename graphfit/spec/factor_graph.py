"""Factor graphs: one model fitted to many datasets.

An :class:`AnalysisFactor` pairs a model with the analysis of one dataset.  A
:class:`FactorGraphModel` joins factors: priors shared by identity across factors are one
parameter, the log-likelihoods add up.  :meth:`~graphfit.FactorGraphModel.to_pymc` compiles the
graph to one ``pm.Model`` whose ``coords["dataset"]`` are the factor names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphfit.exceptions import ConstraintError, FactorGraphError, SearchError, check_name
from graphfit.spec.analysis import Analysis
from graphfit.spec.black_box import is_black_box
from graphfit.spec.expectation_propagation import ExpectationPropagation, ep_error
from graphfit.spec.graph_checks import check_prior_names, dataset_names
from graphfit.spec.hierarchical import HierarchicalFactor
from graphfit.spec.model import AbstractModel
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Assertion
from graphfit.spec.services import call

if TYPE_CHECKING:
    import graphviz
    import pymc as pm

    from graphfit.backend.compiled import CompiledGraph
    from graphfit.plan.naming import GraphPlan

__all__ = ["AnalysisFactor", "FactorGraphModel", "GlobalPriorModel", "as_graph"]


class AnalysisFactor:
    """One dataset's analysis paired with the model fitted to it.

    Parameters
    ----------
    prior_model
        A :class:`~graphfit.Model` or :class:`~graphfit.Collection`.  Priors that
        are the same objects in several factors' models are shared parameters.
    analysis
        An :class:`~graphfit.Analysis` holding the dataset.
    name
        The dataset's name in results and in the PyMC model's ``dataset`` coordinate; by default
        ``dataset_<i>`` from the factor's position in its graph.
    optimiser
        PyAutoFit's search of this factor in an expectation-propagation fit.  graphfit fits the
        whole graph with one search, so anything but ``None`` raises
        :class:`~graphfit.ExpectationPropagationError`.

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=1)
    >>> factor = gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), gf.ex.Analysis(data, noise_map))
    >>> factor.prior_model.total_free_parameters
    3
    """

    def __init__(
        self,
        prior_model: AbstractModel,
        analysis: Analysis,
        name: str | None = None,
        *,
        optimiser: Any = None,
    ) -> None:
        if optimiser is not None:
            raise ep_error(
                "AnalysisFactor(optimiser=...)",
                "Leave out optimiser= (one search fits the graph) and call",
            )
        if not isinstance(prior_model, AbstractModel):
            raise FactorGraphError(
                f"AnalysisFactor: prior_model must be a gf.Model or gf.Collection, got "
                f"{prior_model!r} of type {type(prior_model).__name__}."
            )
        if not isinstance(analysis, Analysis):
            raise FactorGraphError(
                f"AnalysisFactor: analysis must be an instance of a gf.Analysis subclass, got "
                f"{analysis!r} of type {type(analysis).__name__}."
            )
        check_name("AnalysisFactor", name, FactorGraphError)
        label = f"AnalysisFactor {name!r}" if name else "AnalysisFactor"
        prior_model.check_complete(context=label)
        self.prior_model = prior_model
        self.analysis = analysis
        self.name = name

    def __repr__(self) -> str:
        return (
            f"AnalysisFactor(name={self.name!r}, model={self.prior_model!r}, "
            f"analysis={type(self.analysis).__name__})"
        )


class FactorGraphModel(ExpectationPropagation):
    """Several :class:`AnalysisFactor` objects fitted jointly.

    Parameters
    ----------
    *factors
        One factor per dataset, at least one.
    vectorize
        Compile alike factors (same analysis type and data shape, same model structure) into
        one observed node over stacked data, with per-dataset parameters as one variable with a
        ``dataset`` dim (the default).  ``False`` gives one observed node per dataset, for
        debugging and comparison; results look exactly the same either way.

    Raises
    ------
    FactorGraphError
        With no factors, a non-factor argument, the same factor twice, two factors with the
        same name, or two different priors with the same name (see
        :mod:`graphfit.spec.graph_checks`).

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> factors = [
    ...     gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)))
    ...     for s in range(3)
    ... ]
    >>> graph = gf.FactorGraphModel(*factors)
    >>> graph.names
    ['dataset_0', 'dataset_1', 'dataset_2']
    >>> graph.global_prior_model.total_free_parameters
    3
    """

    def __init__(
        self, *factors: AnalysisFactor | HierarchicalFactor, vectorize: bool = True
    ) -> None:
        hierarchical = [f for f in factors if isinstance(f, HierarchicalFactor)]
        analysis_factors = tuple(f for f in factors if not isinstance(f, HierarchicalFactor))
        if not analysis_factors:
            raise FactorGraphError(
                "FactorGraphModel needs at least one AnalysisFactor; got none. Pass them as "
                "gf.FactorGraphModel(*analysis_factor_list)."
            )
        names = dataset_names(analysis_factors, AnalysisFactor)
        self.factors: tuple[AnalysisFactor, ...] = analysis_factors
        self.names: list[str] = names
        self.hierarchical_factors: list[HierarchicalFactor] = hierarchical
        self.hierarchical_names: list[str] = [
            h.name if h.name is not None else f"hierarchical_{k}"
            for k, h in enumerate(hierarchical)
        ]
        self.vectorize = bool(vectorize)
        self._assertions: list[Assertion] = []
        #: :func:`~graphfit.plan.fingerprint.graph_fingerprint` of the spec when its populations
        #: were last measured (:meth:`measure`).
        self.measured_fingerprint: str | None = None
        self.measure()

    def measure(self) -> None:
        """Measure the populations' grids and reset their data-strength probes for the spec as
        it is now; the compiler calls it again when the spec changed since (see
        :mod:`graphfit.backend.cache`)."""
        self._check_hierarchical()
        check_prior_names(self)
        for population in self.hierarchical_factors:
            population.set_factors(self.factors)
        self._measure_grids()
        self.measured_fingerprint = call("graph_fingerprint", self)

    def _measure_grids(self) -> None:
        """Decide which populations can be marginalised over a grid (see
        :mod:`graphfit.backend.marginal`); an explicitly marginalised one that cannot raises."""
        if not self.hierarchical_factors:
            return
        holding: dict[int, list[AnalysisFactor]] = {}
        factor_priors = {}
        for factor in self.factors:
            factor_priors[id(factor)] = [id(q) for q in factor.prior_model.priors()]
            for ident in dict.fromkeys(factor_priors[id(factor)]):
                holding.setdefault(ident, []).append(factor)
        taken: set[int] = set()
        for hname, population in zip(
            self.hierarchical_names, self.hierarchical_factors, strict=True
        ):
            drawn = {id(p) for p in population.drawn}
            owners, problem = [], None
            for prior in population.drawn:
                holders = holding.get(id(prior), [])
                if len(holders) != 1:
                    problem = f"drawn variable {prior!r} is in {len(holders)} datasets' models"
                    break
                owners.append(holders[0])
            for factor in owners if problem is None else []:
                ids = factor_priors[id(factor)]
                if sum(i in drawn for i in ids) > 1:
                    problem = "a dataset's model holds two of its drawn variables"
                elif any(i in taken for i in ids):
                    problem = (
                        "a dataset also holds a marginalised drawn variable of another population"
                    )
                elif is_black_box(factor.analysis):
                    problem = "a dataset has a black-box likelihood"
                if problem:
                    break
            for other in self.hierarchical_factors:
                if problem is None and any(id(p) in drawn for _, p in other.hyper_priors()):
                    problem = "its drawn variables are hyperparameters of a population"
            for assertion in self.assertions:
                if problem is None and any(id(p) in drawn for p in assertion.priors()):
                    problem = "an assertion uses its drawn variables"
            population.measure_grid(owners, problem)
            if population.parametrization == "marginalized" and population.grid is None:
                raise FactorGraphError(
                    f"FactorGraphModel: hierarchical factor {hname!r} cannot be marginalised: "
                    f"{population.grid_problem}. Use parametrization='centred' or "
                    "'non_centred' (or 'auto')."
                )
            if population.marginalized:
                taken |= drawn

    def _check_hierarchical(self) -> None:
        used = {id(p) for p in self._factor_priors()}
        owner: dict[int, str] = {}
        for hname in self.hierarchical_names:
            if hname in self.names:
                raise FactorGraphError(
                    f"FactorGraphModel: the hierarchical factor and a dataset are both named "
                    f"{hname!r}; names must be unique."
                )
        if len(set(self.hierarchical_names)) != len(self.hierarchical_names):
            raise FactorGraphError(
                f"FactorGraphModel: hierarchical factors share a name: {self.hierarchical_names}."
            )
        for hname, population in zip(
            self.hierarchical_names, self.hierarchical_factors, strict=True
        ):
            if not population.drawn:
                raise FactorGraphError(
                    f"FactorGraphModel: hierarchical factor {hname!r} has no drawn variables; "
                    "call add_drawn_variable(model.parameter) for each dataset's parameter."
                )
            for prior in population.drawn:
                if id(prior) in owner:
                    raise FactorGraphError(
                        f"FactorGraphModel: {prior!r} is a drawn variable of both "
                        f"{owner[id(prior)]!r} and {hname!r}; a parameter can be drawn from one "
                        "population only."
                    )
                owner[id(prior)] = hname
                if id(prior) not in used:
                    raise FactorGraphError(
                        f"FactorGraphModel: drawn variable {prior!r} of {hname!r} is not a "
                        "parameter of any factor's model; add the prior object the model uses "
                        "(e.g. model.centre)."
                    )

    def _factor_priors(self) -> list[Prior]:
        found: dict[int, Prior] = {}
        for factor in self.factors:
            for prior in factor.prior_model.priors():
                found.setdefault(id(prior), prior)
        return list(found.values())

    def __len__(self) -> int:
        return len(self.factors)

    def add_assertion(self, assertion: Assertion) -> None:
        """Restrict the joint fit to where ``assertion`` holds; it may compare parameters of
        different datasets (``graph.add_assertion(model_a.centre > model_b.centre)``).

        Same as :meth:`graphfit.Model.add_assertion`, for the parameters of the whole graph.

        Examples
        --------
        >>> import graphfit as gf
        >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
        >>> first, second = gf.Model(gf.ex.Gaussian), gf.Model(gf.ex.Gaussian)
        >>> graph = gf.FactorGraphModel(
        ...     gf.AnalysisFactor(first, gf.ex.Analysis(data, noise_map)),
        ...     gf.AnalysisFactor(second, gf.ex.Analysis(data, noise_map)),
        ... )
        >>> graph.add_assertion(first.sigma < second.sigma)
        >>> print(graph.info.split("Assertions")[1].strip())
        sigma[dataset_0] < sigma[dataset_1]
        """
        if not isinstance(assertion, Assertion):
            raise ConstraintError(
                f"FactorGraphModel.add_assertion: got {assertion!r} of type "
                f"{type(assertion).__name__}; give a comparison of the graph's parameters, e.g. "
                "graph.add_assertion(model_a.centre > model_b.centre)."
            )
        used = {id(p) for p in self.priors()}
        missing = [p for p in assertion.priors() if id(p) not in used]
        if missing:
            raise ConstraintError(
                f"FactorGraphModel.add_assertion: {assertion!r} uses {missing[0]!r}, which is "
                "not a parameter of any factor's model."
            )
        self._assertions.append(assertion)
        try:
            self.measure()
        except FactorGraphError:
            self._assertions.pop()
            self.measure()
            raise

    @property
    def assertions(self) -> list[Assertion]:
        """The graph's own and every factor model's assertions, each once."""
        found: dict[int, Assertion] = {id(a): a for a in self._assertions}
        for factor in self.factors:
            for assertion in factor.prior_model.assertions:
                found.setdefault(id(assertion), assertion)
        return list(found.values())

    @property
    def global_prior_model(self) -> GlobalPriorModel:
        """The joint model of all factors (pass it as ``model=`` to a search)."""
        return GlobalPriorModel(self)

    def priors(self) -> list[Prior]:
        """Distinct free priors of the whole graph, in order of first appearance."""
        found = {id(p): p for p in self._factor_priors()}
        for population in self.hierarchical_factors:
            for _, prior in population.hyper_priors():
                found.setdefault(id(prior), prior)
        return list(found.values())

    @property
    def info(self) -> str:
        """Same as ``global_prior_model.info``."""
        return self.global_prior_model.info

    def compile_plan(self) -> GraphPlan:
        """The :class:`~graphfit.plan.naming.GraphPlan`: joint variable names and per-dataset
        maps."""
        return call("plan_graph", self)

    def compile(self, vectorize: bool | None = None) -> CompiledGraph:
        """The compiled model (a :class:`~graphfit.backend.compiled.CompiledGraph`) of the graph as
        it is now.

        ``vectorize`` overrides the graph's own setting.  The compiled model is kept by the
        backend (:mod:`graphfit.backend.cache`), not by the graph: it is reused until a prior,
        relation, assertion or the data change, and built again after.
        """
        return call("compile_graph", self, vectorize)

    def to_pymc(self) -> pm.Model:
        """The compiled ``pm.Model``: one observed node per dataset, ``coords["dataset"]``.

        The model is this graph's own (graphs of one structure otherwise share a model, their
        data swapped in, see :mod:`graphfit.backend.structures`): it may be extended by hand,
        and later fits of this graph with a graphfit search use it as extended.

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> graph = gf.FactorGraphModel(
        ...     gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0)))
        ... )
        >>> pymc_model = graph.to_pymc()
        >>> list(pymc_model.coords["dataset"])
        ['dataset_0']
        """
        return call("own_model", self).model

    def graphviz(self, vectorize: bool | None = None, **kwargs: Any) -> graphviz.Digraph:
        """Draw the compiled ``pm.Model`` with ``pm.model_to_graphviz``.

        Returns a ``graphviz.Digraph`` (shown as a picture in a notebook); keyword arguments
        pass through to ``pm.model_to_graphviz``.  Needs the ``graphviz`` extra
        (``pip install 'graphfit[graphviz]'``); rendering it (display, ``render``, ``pipe``)
        also needs Graphviz's ``dot`` program, and without it raises an error saying how to
        install it.  The DOT text, ``.source``, needs no ``dot``.

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> graph = gf.FactorGraphModel(
        ...     gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0)))
        ... )
        >>> "dataset_0.obs" in graph.graphviz().source
        True
        """
        return call("model_graph", self, vectorize, **kwargs)

    def __repr__(self) -> str:
        return f"FactorGraphModel({len(self.factors)} factors: {', '.join(self.names)})"

    def _repr_html_(self) -> str:
        return call("graph_html", self)


class GlobalPriorModel:
    """The joint model of a factor graph, as given to ``search.fit(model=...)``.

    Examples
    --------
    >>> import graphfit as gf
    >>> graph = gf.FactorGraphModel(
    ...     gf.AnalysisFactor(gf.Model(gf.ex.Gaussian),
    ...                       gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0)))
    ... )
    >>> print(graph.global_prior_model.info.splitlines()[0])
    Total Free Parameters = 3
    """

    def __init__(self, graph: FactorGraphModel) -> None:
        self.graph = graph

    def priors(self) -> list[Prior]:
        """Distinct free priors of the whole graph."""
        return self.graph.priors()

    def add_assertion(self, assertion: Assertion) -> None:
        """Same as :meth:`FactorGraphModel.add_assertion`."""
        self.graph.add_assertion(assertion)

    @property
    def prior_count(self) -> int:
        """Number of free parameters of the joint model."""
        return len(self.priors())

    @property
    def total_free_parameters(self) -> int:
        """Alias of ``prior_count``."""
        return self.prior_count

    @property
    def info(self) -> str:
        """Text summary of the joint model (shared parameters once, then per dataset)."""
        return call("graph_info", self.graph)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, GlobalPriorModel) and other.graph is self.graph

    def __hash__(self) -> int:
        return hash(id(self.graph))

    def __repr__(self) -> str:
        return f"GlobalPriorModel({self.graph!r}, free parameters: {self.prior_count})"

    def _repr_html_(self) -> str:
        return call("graph_html", self.graph)


def as_graph(model: Any, analysis: Any) -> tuple[FactorGraphModel, bool]:
    """The factor graph to fit and whether the user fitted a single analysis."""
    if isinstance(analysis, FactorGraphModel):
        if model is not None and not (
            isinstance(model, GlobalPriorModel) and model.graph is analysis
        ):
            raise SearchError(
                "fit: with a FactorGraphModel as analysis, model must be that graph's "
                f"global_prior_model (got {model!r}); call "
                "search.fit(model=factor_graph.global_prior_model, analysis=factor_graph)."
            )
        return analysis, False
    if isinstance(analysis, Analysis):
        if not isinstance(model, AbstractModel):
            raise SearchError(
                f"fit: model must be a gf.Model or gf.Collection for a single analysis, got "
                f"{model!r} of type {type(model).__name__}."
            )
        return FactorGraphModel(AnalysisFactor(model, analysis)), True
    raise SearchError(
        f"fit: analysis must be a gf.Analysis or a gf.FactorGraphModel, got {analysis!r} of "
        f"type {type(analysis).__name__}."
    )

"""Checks of a factor graph's structure, made when it is built: each factor once, each dataset
name once, each prior name on one parameter only.

:class:`~graphfit.FactorGraphModel` calls :func:`dataset_names` when it is built and
:func:`check_prior_names` whenever it measures its spec (when it is built and when the compiler
finds the spec changed since), so a mistake is reported before anything is compiled or fitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphfit.exceptions import FactorGraphError
from graphfit.spec.model import path_text
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Expression

__all__ = ["check_prior_names", "dataset_names"]


def dataset_names(factors: Sequence[Any], factor_type: type) -> list[str]:
    """The dataset name of each factor (its ``name``, else ``dataset_<i>``).

    Raises
    ------
    FactorGraphError
        For an argument that is not a ``factor_type``, the same factor object given twice (its
        data would be fitted twice), or two factors with the same name.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.spec.graph_checks import dataset_names
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> factor = gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), gf.ex.Analysis(data, noise_map))
    >>> try:
    ...     dataset_names([factor, factor], gf.AnalysisFactor)
    ... except gf.FactorGraphError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    FactorGraphModel: arguments 0 and 1 are the same AnalysisFactor object; its dataset would ...
    """
    position: dict[int, int] = {}
    for index, factor in enumerate(factors):
        if not isinstance(factor, factor_type):
            raise FactorGraphError(
                f"FactorGraphModel: argument {index} is {factor!r} of type "
                f"{type(factor).__name__}; every argument must be a gf.AnalysisFactor "
                "or gf.HierarchicalFactor."
            )
        if id(factor) in position:
            raise FactorGraphError(
                f"FactorGraphModel: arguments {position[id(factor)]} and {index} are the same "
                "AnalysisFactor object; its dataset would be fitted twice. Pass each factor once "
                "(a second dataset needs its own gf.AnalysisFactor)."
            )
        position[id(factor)] = index
    names = [f.name if f.name is not None else f"dataset_{i}" for i, f in enumerate(factors)]
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise FactorGraphError(
                f"FactorGraphModel: factors {seen[name]} and {index} are both named "
                f"{name!r}; every dataset needs a unique name (AnalysisFactor(..., name=...))."
            )
        seen[name] = index
    return names


def _where_used(graph: Any) -> dict[int, str]:
    """Where each prior of the graph is first used: ``"<dataset>'s <path>"`` or
    ``"<hierarchical factor>'s <argument>"``."""
    where: dict[int, str] = {}
    for name, factor in zip(graph.names, graph.factors, strict=True):
        for path, value in factor.prior_model.leaves():
            if isinstance(value, Expression):
                for prior in value.priors():
                    where.setdefault(id(prior), f"{name}'s {path_text(path)}")
    for hname, population in zip(graph.hierarchical_names, graph.hierarchical_factors, strict=True):
        for argument, prior in population.hyper_priors():
            where.setdefault(id(prior), f"{hname}'s {argument}")
    return where


def check_prior_names(graph: Any) -> None:
    """Raise :class:`~graphfit.FactorGraphError` when two different priors of ``graph`` have the
    same ``name``: a name is one parameter of the fit, and graphfit will not rename one of them.

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> first, second = gf.Model(gf.ex.Gaussian), gf.Model(gf.ex.Gaussian)
    >>> first.centre = gf.UniformPrior(0.0, 100.0, name="p")
    >>> second.centre = gf.UniformPrior(0.0, 100.0, name="p")
    >>> try:
    ...     gf.FactorGraphModel(
    ...         gf.AnalysisFactor(first, gf.ex.Analysis(data, noise_map)),
    ...         gf.AnalysisFactor(second, gf.ex.Analysis(data, noise_map)),
    ...     )
    ... except gf.FactorGraphError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    FactorGraphModel: two different priors are both named 'p': UniformPrior(...) at ...
    """
    named: dict[str, Prior] = {}
    for prior in graph.priors():
        if prior.name is None:
            continue
        other = named.setdefault(prior.name, prior)
        if other is not prior:
            where = _where_used(graph)
            raise FactorGraphError(
                f"FactorGraphModel: two different priors are both named {prior.name!r}: "
                f"{other!r} at {where.get(id(other), '?')} and {prior!r} at "
                f"{where.get(id(prior), '?')}. A name is one parameter of the fit: to share it, "
                "use the same prior object in both places (model_b.centre = model_a.centre); "
                "else give them different names, or none (each is then named by its model path)."
            )

"""The resume identifier changes with everything that changes the fit.

A rerun of a named search loads the finished folder whose identifier matches, so two models
that differ only in a fixed value, a relation, the ``vectorize`` setting or a hierarchical
factor must never share one: the rerun would load the other model's fit.
"""

from __future__ import annotations

import pytest

import graphfit as gf
from graphfit.io.identifier import fit_identity
from graphfit.plan.fingerprint import graph_fingerprint


def graph(
    sigma: object = 10.0,
    relation: str = "m*x+c",
    vectorize: bool = True,
    population: dict | None = None,
) -> gf.FactorGraphModel:
    """Two datasets; the first with ``sigma`` (a fixed value), the second's sigma a relation
    of shared priors, and optionally a population of the two centres."""
    m, c = gf.UniformPrior(0.5, 3.0), gf.UniformPrior(1.0, 5.0)
    relations = {
        "m*x+c": lambda x: m * x + c,
        "m*x-c": lambda x: m * x - c,
        "m*(x+1)+c": lambda x: m * (x + 1.0) + c,
        "c*x+m": lambda x: c * x + m,
    }
    models = [gf.Model(gf.ex.Gaussian, sigma=sigma), gf.Model(gf.ex.Gaussian)]
    models[1].sigma = relations[relation](2.0)
    factors = [
        gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=k)))
        for k, model in enumerate(models)
    ]
    parts: list = [*factors]
    if population is not None:
        settings = {"mean": gf.UniformPrior(0.0, 100.0), "sigma": 5.0, **population}
        settings.setdefault("parametrization", "centred")
        drawn = settings.pop("drawn", ("centre", "centre"))
        factor = gf.HierarchicalFactor(gf.GaussianPrior, **settings)
        for model, name in zip(models, drawn, strict=True):
            factor.add_drawn_variable(getattr(model, name))
        parts.append(factor)
    return gf.FactorGraphModel(*parts, vectorize=vectorize)


def identifier(g: gf.FactorGraphModel) -> str:
    return fit_identity(g, gf.MAP(random_seed=1))["identifier"]


CHANGES = {
    "a fixed value": {"sigma": 12.0},
    "a relation's operator": {"relation": "m*x-c"},
    "a relation's constant": {"relation": "m*(x+1)+c"},
    "a relation's operands": {"relation": "c*x+m"},
    "vectorize=": {"vectorize": False},
    "a hierarchical factor": {"population": {}},
}
POPULATIONS = {
    "its fixed hyperparameter": {"sigma": 6.0},
    "its hyperprior": {"mean": gf.UniformPrior(0.0, 90.0)},
    "its parametrisation": {"parametrization": "non_centred"},
    "its drawn variables": {"drawn": ("centre", "normalization")},
}


def test_equal_models_share_the_identifier():
    assert identifier(graph()) == identifier(graph())
    assert identifier(graph(population={})) == identifier(graph(population={}))


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_a_change_to_the_model_changes_the_identifier(change):
    changed = graph(**CHANGES[change])
    assert identifier(changed) != identifier(graph())
    assert graph_fingerprint(changed) != graph_fingerprint(graph())  # the compile cache's key


@pytest.mark.parametrize("change", list(POPULATIONS), ids=list(POPULATIONS))
def test_a_change_to_a_hierarchical_factor_changes_the_identifier(change):
    assert identifier(graph(population=POPULATIONS[change])) != identifier(graph(population={}))

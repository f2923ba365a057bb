"""The compiled model lives in the backend, keyed by the spec: a changed spec compiles again."""

import numpy as np
import pytest

import graphfit as gf
from graphfit.plan.fingerprint import graph_fingerprint


def gaussian_graph(seed=0):
    model = gf.Model(gf.ex.Gaussian)
    analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed))
    return model, gf.FactorGraphModel(gf.AnalysisFactor(model, analysis))


def test_an_unchanged_graph_reuses_its_compiled_model():
    _, graph = gaussian_graph()
    assert graph.compile() is graph.compile()
    assert graph.compile(vectorize=False) is graph.compile(vectorize=False)
    assert not hasattr(graph, "_compiled")  # the spec object holds no compiled state


def test_a_new_prior_refits_inside_it(tmp_path):
    """Fit, replace a prior, fit again: the second fit uses the new prior (it used to return
    the first fit's centre, outside the new prior, and end in a KeyError with ``name=``)."""
    model, graph = gaussian_graph()
    first = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    centre = float(first[0].max_log_likelihood_instance.centre)
    assert 40.0 < centre < 60.0
    model.centre = gf.UniformPrior(60.0, 70.0)
    assert "lower_limit = 60.0, upper_limit = 70.0" in graph.info
    second = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    assert 60.0 <= float(second[0].max_log_likelihood_instance.centre) <= 70.0

    named = gf.MAP(random_seed=1, name="fit", output_path=tmp_path)
    model.centre = gf.UniformPrior(0.0, 100.0)
    saved = named.fit(model=graph.global_prior_model, analysis=graph)
    assert abs(float(saved[0].max_log_likelihood_instance.centre) - centre) < 0.5
    model.centre = gf.UniformPrior(60.0, 70.0)
    moved = named.fit(model=graph.global_prior_model, analysis=graph)
    assert 60.0 <= float(moved[0].max_log_likelihood_instance.centre) <= 70.0
    assert len([p for p in (tmp_path / "fit").iterdir() if not p.name.startswith(".")]) == 2


def test_an_assertion_a_prior_argument_or_the_data_compile_again():
    model, graph = gaussian_graph()
    compiled = graph.compile()
    key = graph_fingerprint(graph)

    model.add_assertion(model.centre > 55.0)
    constrained = graph.compile()
    assert constrained is not compiled
    assert graph_fingerprint(graph) != key
    assert graph.compile() is constrained

    model.sigma.upper_limit = 20.0  # a prior's argument changed in place
    assert graph.compile() is not constrained

    before = graph.compile()
    graph.factors[0].analysis.data[0] += 1.0  # the data changed in place
    after = graph.compile()
    assert after is not before
    rv = after.model.observed_RVs[0]
    data = graph.factors[0].analysis.data
    assert np.array_equal(np.ravel(after.model.rvs_to_values[rv].data), np.ravel(data))
    rv_before = before.model.observed_RVs[0]
    assert not np.array_equal(np.ravel(before.model.rvs_to_values[rv_before].data), np.ravel(data))


def test_the_identifier_changes_with_an_assertion():
    from graphfit.io.identifier import fit_identity

    model, graph = gaussian_graph()
    plain = fit_identity(graph, gf.MAP())
    assert "assertions" not in plain["model"]  # identifiers of unconstrained fits are as before
    model.add_assertion(model.centre > 55.0)
    constrained = fit_identity(graph, gf.MAP())
    assert constrained["identifier"] != plain["identifier"]
    assert constrained["model"]["assertions"] == [{"op": ">", "left": {"prior": 0}, "right": 55.0}]


def test_a_population_is_measured_again_when_its_drawn_priors_change():
    models = [gf.Model(gf.ex.Gaussian) for _ in range(4)]
    factors = [
        gf.AnalysisFactor(m, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)))
        for s, m in enumerate(models)
    ]
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.UniformPrior(0.0, 100.0),
        sigma=gf.UniformPrior(0.5, 20.0),
        parametrization="marginalized",
    )
    for model in models:
        population.add_drawn_variable(model.centre)
    graph = gf.FactorGraphModel(*factors, population)
    grid = population.grid.copy()
    graph.compile()
    for model in models:
        model.centre.lower_limit, model.centre.upper_limit = 45.0, 55.0
    graph.compile()
    assert graph.measured_fingerprint == graph_fingerprint(graph)
    assert population.grid[0] > grid[0] and population.grid[-1] < grid[-1]


@pytest.mark.slow
def test_a_refit_of_the_same_graph_reuses_nutpies_model_and_stays_right():
    model, graph = gaussian_graph(seed=3)
    first = gf.NUTS(random_seed=1, progressbar=False).fit(graph.global_prior_model, graph)
    compiled = graph.compile()
    nutpie_model = compiled.cache["nutpie"]
    again = gf.NUTS(random_seed=1, progressbar=False).fit(graph.global_prior_model, graph)
    other = gf.NUTS(random_seed=2, progressbar=False).fit(graph.global_prior_model, graph)
    assert graph.compile() is compiled and compiled.cache["nutpie"] is nutpie_model
    centre = first[0].idata.posterior["centre"].values
    assert np.array_equal(again[0].idata.posterior["centre"].values, centre)  # same seed
    assert not np.array_equal(other[0].idata.posterior["centre"].values, centre)
    assert abs(other[0].idata.posterior["centre"].mean() - centre.mean()) < 3 * centre.std()

    model.centre = gf.UniformPrior(20.0, 80.0)  # a changed spec: a new model for nutpie too
    changed = gf.NUTS(random_seed=1, progressbar=False).fit(graph.global_prior_model, graph)
    assert graph.compile() is not compiled
    assert graph.compile().cache["nutpie"] is not nutpie_model
    assert changed[0].idata.posterior["centre"].min() >= 20.0

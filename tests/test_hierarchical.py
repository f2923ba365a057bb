"""Hierarchical factors: structure, naming, errors, and recovery of a population."""

import numpy as np
import pytest

import graphfit as gf
from tests.conftest import search

RNG_SEED = 5
TRUE_MEAN, TRUE_SIGMA = 50.0, 10.0


def population_graph(parametrization="auto", normalization=1.5, centre_prior=None):
    """10 datasets whose centres are drawn from Normal(50, 10); the profile shape is known.
    ``centre_prior`` (a callable giving a prior) replaces the centres' own priors."""
    centres = np.random.default_rng(RNG_SEED).normal(TRUE_MEAN, TRUE_SIGMA, 10)
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.UniformPrior(0.0, 100.0),
        sigma=gf.UniformPrior(0.0, 50.0),
        parametrization=parametrization,
    )
    factors = []
    for k, centre in enumerate(centres):
        data, noise = gf.ex.simulate_gaussian_dataset(
            centre=centre, normalization=normalization, sigma=5.0, seed=300 + k
        )
        model = gf.Model(gf.ex.Gaussian, normalization=normalization, sigma=5.0)
        if centre_prior is not None:
            model.centre = centre_prior()
        population.add_drawn_variable(model.centre)
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)))
    return gf.FactorGraphModel(*factors, population), centres


def test_compiled_population_and_names():
    graph, _ = population_graph()
    model = graph.to_pymc()
    assert [rv.name for rv in model.free_RVs] == [
        "hierarchical_0.mean",
        "hierarchical_0.sigma",
        "centre",
    ]
    assert model.named_vars_to_dims["centre"] == ("dataset",)
    graph, _ = population_graph("non_centred")
    model = graph.to_pymc()
    assert [rv.name for rv in model.free_RVs] == [
        "hierarchical_0.mean",
        "hierarchical_0.sigma",
        "centre_offset",
    ]
    assert [d.name for d in model.deterministics] == ["centre"]
    assert graph.global_prior_model.total_free_parameters == 12


def test_info_shows_population_and_drawn_variables():
    from tests.test_info import check_snapshot

    graph, _ = population_graph()
    text = graph.global_prior_model.info
    assert "HierarchicalFactor GaussianPrior (centred), drawn in 0 - 9" in text
    assert text.count("Drawn from hierarchical_0") == 10
    check_snapshot("hierarchical_info", text)


def test_custom_name():
    population = gf.HierarchicalFactor(
        gf.GaussianPrior, name="pop", mean=gf.UniformPrior(0, 100), sigma=gf.UniformPrior(0, 50)
    )
    model = gf.Model(gf.ex.Gaussian)
    population.add_drawn_variable(model.centre)
    data, noise = gf.ex.simulate_gaussian_dataset(seed=0)
    graph = gf.FactorGraphModel(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)), population)
    assert {rv.name for rv in graph.to_pymc().free_RVs} >= {"pop.mean", "pop.sigma"}


def test_bad_input():
    with pytest.raises(
        gf.PriorError,
        match=r"the prior of sigma, UniformPrior\(lower_limit=-1.0, upper_limit=5.0\), allows values <= 0; .* lower_limit=0.0",
    ):
        gf.HierarchicalFactor(
            gf.GaussianPrior, mean=gf.UniformPrior(0, 1), sigma=gf.UniformPrior(-1.0, 5.0)
        )
    with pytest.raises(gf.PriorError, match=r"allows values <= 0"):
        gf.HierarchicalFactor(
            gf.GaussianPrior, mean=gf.UniformPrior(0, 1), sigma=gf.GaussianPrior(1.0, 1.0)
        )
    with pytest.raises(gf.FactorGraphError, match=r"missing argument\(s\) sigma"):
        gf.HierarchicalFactor(gf.GaussianPrior, mean=gf.UniformPrior(0, 1))
    with pytest.raises(gf.FactorGraphError, match=r"distribution must be one of"):
        gf.HierarchicalFactor(gf.LogUniformPrior, lower_limit=1.0, upper_limit=2.0)
    a = gf.HierarchicalFactor(
        gf.GaussianPrior, mean=gf.UniformPrior(0, 1), sigma=gf.UniformPrior(0, 1)
    )
    b = gf.HierarchicalFactor(
        gf.GaussianPrior, mean=gf.UniformPrior(0, 1), sigma=gf.UniformPrior(0, 1)
    )
    model = gf.Model(gf.ex.Gaussian)
    a.add_drawn_variable(model.centre)
    b.add_drawn_variable(model.centre)
    factor = gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0)))
    with pytest.raises(
        gf.FactorGraphError,
        match=r"is a drawn variable of both 'hierarchical_0' and 'hierarchical_1'",
    ):
        gf.FactorGraphModel(factor, a, b)
    with pytest.raises(gf.FactorGraphError, match=r"was already added"):
        a.add_drawn_variable(model.centre)
    c = gf.HierarchicalFactor(
        gf.GaussianPrior, mean=gf.UniformPrior(0, 1), sigma=gf.UniformPrior(0, 1)
    )
    with pytest.raises(gf.FactorGraphError, match=r"'hierarchical_0' has no drawn variables"):
        gf.FactorGraphModel(factor, c)
    c.add_drawn_variable(gf.UniformPrior(0, 1))
    with pytest.raises(gf.FactorGraphError, match=r"is not a parameter of any factor's model"):
        gf.FactorGraphModel(factor, c)


@pytest.mark.slow
def test_population_is_recovered():
    graph, centres = population_graph()
    result_list = search().fit(model=graph.global_prior_model, analysis=graph)
    diagnostics = result_list.diagnostics
    assert diagnostics.max_rhat <= 1.01 and diagnostics.divergences == 0
    population = result_list.population
    for name, truth in (("mean", TRUE_MEAN), ("sigma", TRUE_SIGMA)):
        low, high = np.quantile(population[name].values, [0.025, 0.975])
        assert low <= truth <= high, (name, low, high)
    # every dataset's result holds the hyperparameters
    for result in result_list:
        assert {"centre", "hierarchical_0.mean", "hierarchical_0.sigma"} <= set(
            result.idata.posterior.data_vars
        )
    # predictive draws for a new dataset spread like the population
    assert population["predictive"].std() > population["sigma"].mean() * 0.8
    # each centre is recovered
    posterior = result_list.idata.posterior["centre"]
    np.testing.assert_array_less(np.abs(posterior.mean(("chain", "draw")).values - centres), 3.0)


def test_auto_parametrization_follows_the_strength_of_the_data():
    """'auto' is centred when each dataset pins its parameter far tighter than the population's
    posterior spread; when it barely does, it is marginalised over a grid (the centres have
    bounded priors) or else non-centred.  The reason is one line."""
    strong, centres = population_graph(normalization=1.5)  # peak S/N 3 per pixel
    strong_pop = strong.hierarchical_factors[0]
    # each dataset's own standard deviation of its centre is the Fisher one,
    # 1 / sqrt(A^2 sqrt(pi) / (2 s noise^2)) with A the peak: 0.79 pixels
    peak = 1.5 / (5.0 * np.sqrt(2.0 * np.pi))
    fisher = 1.0 / np.sqrt(peak**2 * np.sqrt(np.pi) / (2.0 * 5.0 * 0.04**2))
    assert strong_pop.resolved_parametrization == "centred"
    assert strong_pop._strength["median_sd"] == pytest.approx(fisher, rel=0.05)
    # the population's spread (truth 10, sample sd of the centres 6.4) is far wider
    assert 3.0 < strong_pop._strength["q10"] < np.std(centres)
    assert strong_pop.data_strength < 0.3
    assert strong_pop.parametrization_reason.startswith(
        "centred: a drawn parameter's standard deviation from its dataset alone (median 0.8"
    )
    assert strong_pop.parametrization_reason.endswith("not above 1")
    weak, _ = population_graph(normalization=0.01)  # peak S/N 0.02 per pixel
    weak_pop = weak.hierarchical_factors[0]
    assert weak_pop.resolved_parametrization == "marginalized"
    assert not weak_pop.data_strength_measured  # not needed to choose
    assert weak_pop.parametrization_reason.startswith(
        "marginalized: the data constrain the drawn parameters so weakly that a grid of"
    )
    unbounded, _ = population_graph(
        normalization=0.01, centre_prior=lambda: gf.GaussianPrior(50.0, 20.0)
    )
    unbounded_pop = unbounded.hierarchical_factors[0]
    assert unbounded_pop.grid is None
    assert "no finite limits" in unbounded_pop.grid_problem
    assert unbounded_pop.resolved_parametrization == "non_centred"
    assert unbounded_pop.data_strength > 10.0
    assert "offset" in " ".join(rv.name for rv in unbounded.to_pymc().free_RVs)
    forced, _ = population_graph(parametrization="centred", normalization=0.01)
    assert forced.hierarchical_factors[0].resolved_parametrization == "centred"
    assert (
        forced.hierarchical_factors[0].parametrization_reason
        == 'centred: chosen with parametrization="centred"'
    )


def independent_graph(normalization):
    """The same datasets as population_graph, each centre fitted on its own (no population)."""
    centres = np.random.default_rng(RNG_SEED).normal(TRUE_MEAN, TRUE_SIGMA, 10)
    factors = []
    for k, centre in enumerate(centres):
        data, noise = gf.ex.simulate_gaussian_dataset(
            centre=centre, normalization=normalization, sigma=5.0, seed=300 + k
        )
        model = gf.Model(gf.ex.Gaussian, normalization=normalization, sigma=5.0)
        model.centre = gf.UniformPrior(0.0, 100.0)
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)))
    return gf.FactorGraphModel(*factors)

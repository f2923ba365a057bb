"""Search chaining as PyAutoFit users write it: ``result.model`` (prior passing) from a fast
``gf.MAP`` fit into ``gf.NUTS``, ``model.take_attributes(source)`` and
``instance.as_model(model_classes)``, checked on the values of real fits."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import graphfit as gf

TRUTH = {"centre": 50.0, "normalization": 25.0, "sigma": 10.0}


def one_sigma_half_width(prior: gf.Prior) -> float:
    """Half the distance between a prior's 15.87% and 84.13% quantiles."""
    tail = 0.5 * math.erfc(1.0 / math.sqrt(2.0))
    return 0.5 * float(prior.quantile(1.0 - tail) - prior.quantile(tail))


@pytest.fixture(scope="module")
def dataset():
    data, noise_map = gf.ex.simulate_gaussian_dataset(**TRUTH, seed=7)
    return gf.ex.Analysis(data=data, noise_map=noise_map)


@pytest.fixture(scope="module")
def map_result(dataset):
    model = gf.Collection(
        gaussian=gf.Model(
            gf.ex.Gaussian,
            centre=gf.UniformPrior(lower_limit=0.0, upper_limit=100.0),
            normalization=gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2),
            sigma=gf.UniformPrior(lower_limit=0.0, upper_limit=25.0),
        )
    )
    return gf.MAP(random_seed=1).fit(model=model, analysis=dataset)


def test_result_model_centres_each_prior_on_the_map_point(map_result):
    fitted = map_result.prior_model.gaussian
    passed = map_result.model.gaussian
    best = map_result.max_log_likelihood_instance.gaussian
    assert map_result.model is not map_result.prior_model
    for name in TRUTH:
        old, new = getattr(fitted, name), getattr(passed, name)
        assert isinstance(new, gf.TruncatedGaussianPrior)
        # an optimiser's single sample has no spread: the width is the old prior's own
        assert new.mean == pytest.approx(getattr(best, name), rel=1e-9)
        assert new.sigma == pytest.approx(one_sigma_half_width(old), rel=1e-9)
        assert new.support() == old.support()
        assert new.mean == pytest.approx(TRUTH[name], rel=0.05)
    assert passed.centre.sigma == pytest.approx(0.5 * (84.134 - 15.866), abs=1e-3)
    # the fitted model is unchanged
    assert isinstance(fitted.centre, gf.UniformPrior)


def test_map_into_nuts_passes_the_priors_and_narrows_them_to_the_posterior(map_result, dataset):
    """The structure of prior passing from a short NUTS run (whether the posterior holds the
    truth is the slow test's below)."""
    search = gf.NUTS(
        draws=100, tune=100, chains=2, cores=1, sampler="pymc", random_seed=3, progressbar=False
    )
    with warnings.catch_warnings():  # 100 draws: the convergence check says so
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        result = search.fit(model=map_result.model, analysis=dataset)
    assert result.prior_model.gaussian.centre is map_result.model.gaussian.centre
    upper = result.samples.errors_at_upper_sigma(sigma=3.0, as_dict=True)
    lower = result.samples.errors_at_lower_sigma(sigma=3.0, as_dict=True)
    median = result.samples.median_pdf(as_dict=True)
    narrowed = result.model.gaussian
    for name in TRUTH:
        key = f"gaussian.{name}"
        prior = getattr(narrowed, name)
        assert isinstance(prior, gf.TruncatedGaussianPrior)
        assert prior.sigma == pytest.approx(max(upper[key], lower[key]))
        assert prior.sigma < getattr(map_result.model.gaussian, name).sigma
        assert prior.mean == pytest.approx(median[key])
        assert prior.support() == getattr(map_result.model.gaussian, name).support()


@pytest.mark.slow  # the truth inside each 3-sigma interval needs a real NUTS run
def test_map_into_nuts_through_result_model(map_result, dataset):
    search = gf.NUTS(draws=500, tune=500, random_seed=3, progressbar=False)
    result = search.fit(model=map_result.model, analysis=dataset)
    assert result.prior_model.gaussian.centre is map_result.model.gaussian.centre
    # the truth is inside each 3-sigma interval
    intervals = result.samples.values_at_sigma(sigma=3.0, as_dict=True)
    for name, truth in TRUTH.items():
        lower, upper = intervals[f"gaussian.{name}"]
        assert lower < truth < upper, name
    # the next passing narrows the priors to the posterior (width: larger error at 3 sigma)
    upper = result.samples.errors_at_upper_sigma(sigma=3.0, as_dict=True)
    lower = result.samples.errors_at_lower_sigma(sigma=3.0, as_dict=True)
    narrowed = result.model.gaussian
    for name in TRUTH:
        key = f"gaussian.{name}"
        assert getattr(narrowed, name).sigma == pytest.approx(max(upper[key], lower[key]))
        assert getattr(narrowed, name).sigma < getattr(map_result.model.gaussian, name).sigma


def test_take_attributes_from_a_result(map_result):
    # priors from result.model: the same parameters, the other component untouched
    model = gf.Collection(gaussian=gf.ex.Gaussian, background=gf.ex.Exponential)
    background = model.background.priors()
    model.take_attributes(source=map_result.model)
    for name in TRUTH:
        assert getattr(model.gaussian, name) is getattr(map_result.model.gaussian, name)
    assert model.background.priors() == background
    assert model.total_free_parameters == 6

    # values from result.instance: fixed at the MAP point
    fixed = gf.Collection(gaussian=gf.ex.Gaussian)
    fixed.take_attributes(map_result.instance)
    assert fixed.total_free_parameters == 0
    for name in TRUTH:
        value = getattr(map_result.instance.gaussian, name)
        assert getattr(fixed.gaussian, name) == value

    # a component model takes from a component
    component = gf.Model(gf.ex.Gaussian)
    component.take_attributes(map_result.model.gaussian)
    assert component.sigma is map_result.model.gaussian.sigma


def test_take_attributes_keeps_relations_and_refuses_assertions(map_result):
    model = gf.Collection(gaussian=gf.ex.Gaussian)
    model.gaussian.sigma = model.gaussian.centre * 0.2
    model.take_attributes(map_result.model)
    assert isinstance(model.gaussian.sigma, gf.Relation)
    assert model.gaussian.centre is map_result.model.gaussian.centre

    constrained = gf.Collection(gaussian=gf.ex.Gaussian)
    constrained.add_assertion(constrained.gaussian.sigma < constrained.gaussian.centre)
    with pytest.raises(gf.ConstraintError, match=r"^take_attributes: the model has 1 assertion"):
        constrained.take_attributes(map_result.model)


def test_instance_as_model(map_result):
    instance = map_result.instance
    assert isinstance(instance, gf.CollectionInstance)
    fixed = instance.as_model()
    assert isinstance(fixed, gf.Collection)
    assert fixed.total_free_parameters == 0
    values = fixed.instance_from({}).gaussian
    for name in TRUTH:
        assert getattr(values, name) == getattr(instance.gaussian, name)

    freed = instance.as_model(model_classes=gf.ex.Gaussian)
    assert freed.total_free_parameters == 3
    assert isinstance(freed.gaussian.centre, gf.UniformPrior)
    assert freed.gaussian.centre.support() == (0.0, 100.0)  # the class's default_priors

    # an excluded class stays fixed at its values, even when it is also a model class
    kept = instance.as_model(model_classes=gf.ex.Gaussian, excluded_classes=(gf.ex.Gaussian,))
    assert kept.total_free_parameters == 0
    assert kept.gaussian.sigma == instance.gaussian.sigma


def test_a_fixed_component_from_one_fit_in_the_next(map_result, dataset):
    """PyAutoFit's pattern: the first fit's component fixed, a new one free."""
    model = map_result.instance.as_model()
    model.background = gf.Model(gf.ex.Gaussian, centre=80.0, sigma=5.0)
    model.background.normalization = gf.UniformPrior(lower_limit=0.0, upper_limit=10.0)
    result = gf.MAP(random_seed=2).fit(model=model, analysis=dataset)
    assert result.prior_model.total_free_parameters == 1
    assert result.instance.gaussian.centre == map_result.instance.gaussian.centre
    # no second Gaussian in the data: its normalization goes to the prior's lower end
    assert result.instance.background.normalization < 0.5
    assert np.isfinite(result.max_log_likelihood_instance.background.normalization)

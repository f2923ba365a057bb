"""``result.samples``, ``result.info``, ``result.instance`` and prior passing (``result.model``,
``take_attributes``, ``as_model``), checked against the ``InferenceData`` of real fits."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import graphfit as gf
from graphfit.results.chaining import as_model, take_attributes
from tests.conftest import X_RELATIONAL, cookbook_model, relational_analyses, search

pytestmark = pytest.mark.slow

TRUTH = {"centre": 50.0, "normalization": 25.0, "sigma": 10.0}


@pytest.fixture(scope="module")
def single() -> tuple[gf.Result, gf.Model]:
    model = cookbook_model()
    data, noise_map = gf.ex.simulate_gaussian_dataset(**TRUTH, seed=3)
    with warnings.catch_warnings():  # a short run: low ESS is expected
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        result = search(draws=300, tune=300, chains=2).fit(
            model=model, analysis=gf.ex.Analysis(data, noise_map)
        )
    return result, model


@pytest.fixture(scope="module")
def relational() -> gf.ResultList:
    """Two datasets sharing ``centre``; sigma a relation of two named priors."""
    shared = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian))
    shared.gaussian.centre = gf.UniformPrior(0.0, 100.0)
    m = gf.UniformPrior(-10.0, 10.0, name="sigma_m")
    c = gf.UniformPrior(-10.0, 10.0, name="sigma_c")
    factors = []
    for x, analysis in zip(X_RELATIONAL, relational_analyses(), strict=True):
        model = shared.copy()
        model.gaussian.normalization = gf.LogUniformPrior(1e-2, 1e3)
        model.gaussian.sigma = m * x + c
        factors.append(gf.AnalysisFactor(model, analysis))
    graph = gf.FactorGraphModel(*factors)
    with warnings.catch_warnings():  # a short run: low ESS is expected
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        return search(draws=300, tune=300, chains=2).fit(
            model=graph.global_prior_model, analysis=graph
        )


def _draws(result: gf.Result, name: str) -> np.ndarray:
    return result.idata.posterior[name].values.reshape(-1)


def test_median_and_sigma_values_are_posterior_quantiles(single):
    result, _ = single
    samples = result.samples
    assert samples.parameter_paths == [("centre",), ("normalization",), ("sigma",)]
    assert samples.total_samples == 600 == len(samples.log_likelihood_list)
    median = samples.median_pdf(as_instance=False)
    upper = samples.values_at_upper_sigma(3.0, as_instance=False)
    lower = samples.values_at_lower_sigma(3.0, as_instance=False)
    pairs = samples.values_at_sigma(1.0, as_instance=False)
    tail1 = 0.5 * (1 - math.erf(1 / math.sqrt(2)))
    for k, name in enumerate(["centre", "normalization", "sigma"]):
        draws = _draws(result, name)
        assert median[k] == pytest.approx(float(result.idata.posterior[name].median()))
        assert upper[k] == pytest.approx(np.quantile(draws, 0.99865), rel=1e-4)
        assert lower[k] == pytest.approx(np.quantile(draws, 0.00135), rel=1e-4)
        assert pairs[k] == pytest.approx(
            (np.quantile(draws, tail1), np.quantile(draws, 1 - tail1)), rel=1e-12
        )
        assert abs(median[k] - TRUTH[name]) < 3 * draws.std()  # recovers the truth


def test_errors_are_distances_from_the_median(single):
    samples = single[0].samples
    median = np.array(samples.median_pdf(as_instance=False))
    upper = np.array(samples.values_at_upper_sigma(2.0, as_instance=False))
    lower = np.array(samples.values_at_lower_sigma(2.0, as_instance=False))
    np.testing.assert_allclose(
        samples.errors_at_upper_sigma(2.0, as_instance=False), upper - median
    )
    np.testing.assert_allclose(
        samples.errors_at_lower_sigma(2.0, as_instance=False), median - lower
    )
    pairs = samples.errors_at_sigma(2.0, as_instance=False)
    np.testing.assert_allclose(pairs, np.column_stack([median - lower, upper - median]))
    assert all(lo >= 0 and hi >= 0 for lo, hi in pairs)


def test_instances_are_the_users_classes(single):
    result, _ = single
    samples = result.samples
    median = samples.median_pdf()
    assert isinstance(median, gf.ex.Gaussian)
    assert median.centre == samples.median_pdf(as_instance=False)[0]
    assert samples.median_pdf(as_dict=True) == dict(
        zip(
            ["centre", "normalization", "sigma"],
            samples.median_pdf(as_instance=False),
            strict=True,
        )
    )
    errors = samples.errors_at_sigma(3.0)
    assert isinstance(errors, gf.ex.Gaussian) and isinstance(errors.sigma, tuple)
    assert errors.sigma == tuple(samples.errors_at_sigma(3.0, as_instance=False)[2])
    best = samples.max_log_likelihood()
    assert vars(best) == vars(result.max_log_likelihood_instance) == vars(result.instance)
    assert vars(samples.instance) == vars(best)


def test_lists_and_max_log_likelihood(single):
    result, model = single
    samples = result.samples
    loglike = np.array(samples.log_likelihood_list)
    np.testing.assert_allclose(loglike, result.result_list.joint_log_likelihood().values.ravel())
    k = int(np.argmax(loglike))
    assert samples.max_log_likelihood(as_instance=False) == samples.parameter_lists[k]
    centre = _draws(result, "centre")
    assert [row[0] for row in samples.parameter_lists] == centre.tolist()
    # log posterior: log-likelihood plus every prior's log density
    params = np.array(samples.parameter_lists)
    prior = sum(p.logpdf(params[:, j]) for j, p in enumerate(model.priors()))
    np.testing.assert_allclose(samples.log_posterior_list, loglike + prior)
    k_post = int(np.argmax(samples.log_posterior_list))
    assert samples.max_log_posterior(as_instance=False) == samples.parameter_lists[k_post]
    assert samples.weight_list == [1.0] * 600
    assert samples.log_evidence is None


def test_bad_sigma_is_named():
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    result = gf.MAP(random_seed=1).fit(
        model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    )
    samples = result.samples
    message = (
        "result 'dataset_0'.samples.values_at_upper_sigma: sigma = 0; sigma must be a finite "
        "number > 0"
    )
    with pytest.raises(gf.SamplesError, match=message):
        samples.values_at_upper_sigma(0)
    with pytest.raises(ValueError, match=r"errors_at_sigma: sigma = -1.0; sigma must be"):
        samples.errors_at_sigma(-1.0)
    with pytest.raises(gf.SamplesError, match=r"sigma = '3' of type str; sigma must be"):
        samples.values_at_sigma("3")
    with pytest.raises(gf.SamplesError, match=r"model_centred_absolute: a = 0.0; a must be"):
        result.model_centred_absolute(0.0)
    # an optimiser: one sample, every quantile at it
    assert samples.total_samples == 1
    assert samples.values_at_sigma(3.0, as_instance=False) == [
        (v, v) for v in samples.median_pdf(as_instance=False)
    ]


def test_result_model_is_centred_on_the_median_with_the_limits_kept(single):
    result, model = single
    passed = result.model
    assert passed is not model and passed is result.model  # cached, never the input
    assert result.prior_model is model
    samples = result.samples
    median = samples.median_pdf(as_instance=False)
    errors = samples.errors_at_sigma(3.0, as_instance=False)
    old = model.priors()
    new = passed.priors()
    assert [type(p) for p in new] == [gf.TruncatedGaussianPrior] * 3
    for k, (before, after) in enumerate(zip(old, new, strict=True)):
        assert after.mean == pytest.approx(median[k])
        assert after.sigma == pytest.approx(max(errors[k]))
        assert (after.lower_limit, after.upper_limit) == before.support()
    assert (new[0].lower_limit, new[0].upper_limit) == (0.0, 100.0)
    assert (new[2].lower_limit, new[2].upper_limit) == (0.0, math.inf)
    # the input model is untouched
    assert model.centre.__class__ is gf.UniformPrior
    relative = result.model_centred_relative(0.1).priors()
    assert relative[0].sigma == pytest.approx(0.1 * median[0])
    assert result.model_centred_absolute(2.0).priors()[1].sigma == 2.0


def test_fitting_the_passed_model_again(single):
    result, _ = single
    data, noise_map = gf.ex.simulate_gaussian_dataset(**TRUTH, seed=3)
    again = gf.MAP(random_seed=2).fit(model=result.model, analysis=gf.ex.Analysis(data, noise_map))
    first = result.samples.median_pdf(as_instance=False)
    for k, value in enumerate(again.samples.median_pdf(as_instance=False)):
        assert value == pytest.approx(first[k], rel=0.02)


def test_map_result_model_falls_back_to_the_prior_width():
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    model = gf.Model(gf.ex.Gaussian, sigma=10.0)
    model.centre = gf.UniformPrior(0.0, 100.0)
    model.normalization = gf.GaussianPrior(20.0, 4.0)
    result = gf.MAP(random_seed=1).fit(model=model, analysis=gf.ex.Analysis(data, noise_map))
    centre, normalization = result.model.priors()
    assert centre.sigma == pytest.approx(0.5 * (84.1345 - 15.8655), rel=1e-4)
    assert type(normalization) is gf.GaussianPrior and normalization.sigma == pytest.approx(4.0)
    assert result.model.sigma == 10.0


def test_relations_and_sharing_survive_prior_passing(relational):
    first = relational[0]
    samples = first.samples
    assert samples.parameter_paths == [
        ("gaussian", "centre"),
        ("gaussian", "normalization"),
        ("sigma_m",),
        ("sigma_c",),
    ]
    centre, _, m, c = samples.median_pdf(as_instance=False)
    median = samples.median_pdf()
    assert median.gaussian.centre == centre
    assert median.gaussian.sigma == pytest.approx(m * X_RELATIONAL[0] + c)  # relation evaluated
    pairs = samples.values_at_sigma(1.0)
    assert isinstance(pairs.gaussian.centre, tuple) and isinstance(pairs.gaussian.sigma, tuple)
    # prior passing: the relation is rebuilt on the new priors, the shared centre stays shared
    passed_first, passed_second = first.model, relational[1].model
    new_m, new_c = passed_first.gaussian.sigma.priors()
    assert (new_m.name, new_c.name) == ("sigma_m", "sigma_c")
    assert type(new_m) is gf.TruncatedGaussianPrior and new_m.mean == pytest.approx(m)
    assert (new_m.lower_limit, new_m.upper_limit) == (-10.0, 10.0)
    assert passed_first.gaussian.sigma.evaluate({new_m: 2.0, new_c: 1.0}) == 2.0 * 1.0 + 1.0
    assert passed_second.gaussian.centre.mean == pytest.approx(centre)


def test_joint_samples_and_info(relational):
    samples = relational.samples
    assert samples.parameter_paths == [
        ("gaussian", "centre"),
        ("gaussian", "normalization", "dataset_0"),
        ("sigma_m",),
        ("sigma_c",),
        ("gaussian", "normalization", "dataset_1"),
        ("gaussian", "normalization", "dataset_2"),
    ]
    posterior = relational.idata.posterior
    median = samples.median_pdf(as_dict=True)
    assert median["gaussian.normalization[dataset_1]"] == pytest.approx(
        float(posterior["gaussian.normalization"].sel(dataset="dataset_1").median())
    )
    assert median["gaussian.centre"] == relational[2].samples.median_pdf().gaussian.centre
    instance = relational.instance
    assert isinstance(instance, gf.CollectionInstance)
    assert [name for name, _ in instance.items()] == relational.names
    assert vars(instance.dataset_1.gaussian) == vars(
        relational[1].max_log_likelihood_instance.gaussian
    )
    lines = relational.info.splitlines()
    assert lines[:6] == [
        lines[0],
        "",
        "Maximum Log Likelihood Model:",
        "",
        "gaussian",
        f"    centre{' ' * 70}{samples.max_log_likelihood(as_instance=False)[0]:.3f}",
    ]
    assert lines[6:10] == ["    normalization"] + [
        f"        {name}{' ' * (72 - len(name))}{value:.3f}"
        for name, value in zip(
            relational.names,
            np.array(samples.max_log_likelihood(as_instance=False))[[1, 4, 5]],
            strict=True,
        )
    ]
    assert "Summary (3.0 sigma limits):" in lines and "Summary (1.0 sigma limits):" in lines


def test_result_info_layout(single):
    result, _ = single
    lines = result.info.splitlines()
    samples = result.samples
    best = max(samples.log_likelihood_list)
    assert lines[0] == f"{'Maximum Log Likelihood':<80}{best:.8f}"  # values start at column 80
    assert lines[2] == "Maximum Log Likelihood Model:"
    start = lines.index("Summary (3.0 sigma limits):") + 2
    median = samples.median_pdf(as_instance=False)[0]
    lo, hi = samples.values_at_sigma(3.0, as_instance=False)[0]
    assert lines[start] == f"{'centre':<80}{median:.3f} ({lo:.3f}, {hi:.3f})"


def test_take_attributes_and_as_model(single):
    result, _ = single
    model = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian), other=gf.Model(gf.ex.Gaussian))
    source = gf.Collection(gaussian=result.model)
    other_centre = model.other.centre
    take_attributes(model, source)
    assert model.gaussian.centre is source.gaussian.centre  # the same parameter
    assert model.other.centre is other_centre  # no 'other' in the source: kept
    take_attributes(model.other, result.instance)
    assert model.other.centre == result.instance.centre
    model.add_assertion(model.gaussian.centre > 10.0)
    with pytest.raises(
        gf.ConstraintError, match=r"take_attributes: the model has 1 assertion\(s\)"
    ):
        take_attributes(model, source)
    instance = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian, **TRUTH)).instance_from({})
    fixed = as_model(instance)
    assert fixed.total_free_parameters == 0 and fixed.gaussian.centre == 50.0
    freed = as_model(instance, model_classes=(gf.ex.Gaussian,))
    assert freed.gaussian.total_free_parameters == 3

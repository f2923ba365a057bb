import math

import numpy as np
import pytest

import graphfit as gf


def test_reprs_are_readable():
    assert repr(gf.UniformPrior(0.0, 100.0)) == "UniformPrior(lower_limit=0.0, upper_limit=100.0)"
    assert (
        repr(gf.LogUniformPrior(1e-2, 1e2))
        == "LogUniformPrior(lower_limit=0.01, upper_limit=100.0)"
    )
    assert (
        repr(gf.GaussianPrior(10.0, 5.0, lower_limit=0.0, upper_limit=np.inf))
        == "GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)"
    )
    assert repr(gf.GaussianPrior(1.0, 2.0)) == "GaussianPrior(mean=1.0, sigma=2.0)"
    assert (
        repr(gf.TruncatedGaussianPrior(1.0, 2.0, -1.0, 3.0))
        == "TruncatedGaussianPrior(mean=1.0, sigma=2.0, lower_limit=-1.0, upper_limit=3.0)"
    )
    assert repr(gf.LogGaussianPrior(0.0, 1.0)) == "LogGaussianPrior(mean=0.0, sigma=1.0)"
    assert (
        repr(gf.UniformPrior(0, 1, name="m"))
        == "UniformPrior(lower_limit=0.0, upper_limit=1.0, name='m')"
    )


def test_info_text():
    prior = gf.UniformPrior(0.0, 100.0)
    assert prior.info_text(3) == "UniformPrior [3], lower_limit = 0.0, upper_limit = 100.0"


def test_each_prior_is_a_new_parameter_and_new_copies():
    a = gf.UniformPrior(0.0, 1.0)
    b = gf.UniformPrior(0.0, 1.0)
    assert a is not b and a.id != b.id
    c = a.new()
    assert c is not a and c.values == a.values


def test_gaussian_truncation_flag_and_medians():
    assert not gf.GaussianPrior(0.0, 1.0).truncated
    assert gf.GaussianPrior(0.0, 1.0, lower_limit=0.0).truncated
    assert gf.GaussianPrior(2.0, 1.0).median() == pytest.approx(2.0)
    # half-normal median: sigma * sqrt(2) * erfinv(0.5) = 0.6745 sigma
    assert gf.GaussianPrior(0.0, 1.0, lower_limit=0.0).median() == pytest.approx(0.67449, abs=1e-4)
    assert gf.UniformPrior(0.0, 10.0).median() == 5.0
    assert gf.LogUniformPrior(1e-2, 1e2).median() == pytest.approx(1.0)
    assert gf.LogGaussianPrior(1.0, 0.5).median() == pytest.approx(math.e)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: gf.UniformPrior(1.0, 1.0),
            r"UniformPrior: lower_limit = 1.0 must be smaller than upper_limit = 1.0",
        ),
        (
            lambda: gf.UniformPrior(5.0, 1.0),
            r"UniformPrior: lower_limit = 5.0 must be smaller than upper_limit = 1.0",
        ),
        (lambda: gf.UniformPrior(float("nan"), 1.0), r"UniformPrior: lower_limit is NaN"),
        (lambda: gf.UniformPrior(0.0, np.inf), r"UniformPrior: upper_limit = inf is not finite"),
        (
            lambda: gf.UniformPrior("0", 1.0),
            r"UniformPrior: lower_limit must be a real number, got '0' of type str",
        ),
        (lambda: gf.LogUniformPrior(0.0, 1.0), r"LogUniformPrior: lower_limit = 0.0 must be > 0"),
        (lambda: gf.LogUniformPrior(-1.0, 1.0), r"LogUniformPrior: lower_limit = -1.0 must be > 0"),
        (
            lambda: gf.LogUniformPrior(2.0, 1.0),
            r"LogUniformPrior: lower_limit = 2.0 must be smaller",
        ),
        (lambda: gf.GaussianPrior(0.0, 0.0), r"GaussianPrior: sigma = 0.0 must be > 0"),
        (lambda: gf.GaussianPrior(0.0, -1.0), r"GaussianPrior: sigma = -1.0 must be > 0"),
        (
            lambda: gf.GaussianPrior(0.0, 1.0, lower_limit=2.0, upper_limit=1.0),
            r"GaussianPrior: lower_limit = 2.0 must be smaller",
        ),
        (
            lambda: gf.GaussianPrior(0.0, 1.0, lower_limit=float("nan")),
            r"GaussianPrior: lower_limit is NaN",
        ),
        (lambda: gf.GaussianPrior(float("nan"), 1.0), r"GaussianPrior: mean is NaN"),
        (
            lambda: gf.TruncatedGaussianPrior(0.0, 1.0, 3.0, 3.0),
            r"TruncatedGaussianPrior: lower_limit = 3.0 must be smaller",
        ),
        (
            lambda: gf.TruncatedGaussianPrior(0.0, -2.0, 0.0, 3.0),
            r"TruncatedGaussianPrior: sigma = -2.0 must be > 0",
        ),
        (lambda: gf.LogGaussianPrior(0.0, 0.0), r"LogGaussianPrior: sigma = 0.0 must be > 0"),
        (
            lambda: gf.UniformPrior(0.0, 1.0, name=""),
            r"UniformPrior: name must be a non-empty string",
        ),
    ],
)
def test_bad_prior_arguments_raise_value_errors(build, message):
    with pytest.raises(gf.PriorError, match=message) as info:
        build()
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        (-np.inf, np.inf),
        (0.0, np.inf),
        (-np.inf, 0.0),
        (2.0, 5.0),
        (-5.0, -2.0),
        (-1.0, 1.0),
        (8.0, np.inf),
        (30.0, 40.0),  # a tail holding ~1e-197 of the mass: scipy's own code
    ],
)
def test_gaussian_quantiles_match_scipy_truncnorm(lower, upper):
    """The quantile function nested sampling and the start search use: scipy.stats.truncnorm's
    values (to 1e-9) from scipy.special's normal CDF and its inverse."""
    from scipy import stats

    q = np.concatenate([np.random.default_rng(0).uniform(size=500), [1e-9, 0.5, 1.0 - 1e-9]])
    mean, sigma = 3.0, 2.0
    got = gf.GaussianPrior.ppf(q, mean, sigma, mean + sigma * lower, mean + sigma * upper)
    want = stats.truncnorm.ppf(q, lower, upper, loc=mean, scale=sigma)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    assert np.all((got >= mean + sigma * lower) & (got <= mean + sigma * upper))


def test_gaussian_quantiles_of_several_priors_at_once():
    """One call for a vector of priors (as a group of per-dataset priors is transformed)."""
    from scipy import stats

    q = np.array([0.25, 0.5, 0.9])
    mean, sigma = np.array([1.0, 3.0, 5.0]), np.array([2.0, 2.0, 1.0])
    lower, upper = np.array([0.0, -np.inf, 5.0]), np.array([np.inf, np.inf, 6.0])
    got = gf.GaussianPrior.ppf(q, mean, sigma, lower, upper)
    want = stats.truncnorm.ppf(q, (lower - mean) / sigma, (upper - mean) / sigma, mean, sigma)
    np.testing.assert_allclose(got, want, rtol=1e-12)

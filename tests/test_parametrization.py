"""Choosing a population's parametrisation from the data (graphfit.parametrization), checked on
eight schools against quadrature and on the workspace's hierarchical datasets."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import graphfit as gf
from graphfit.parametrization import dataset_estimate, spread_posterior

Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
WORKSPACE = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / "example_1d"
) / "gaussian_x1__hierarchical"


class School:
    """One school's treatment effect."""

    def __init__(self, theta=0.0):
        self.theta = theta


class SchoolAnalysis(gf.Analysis):
    """One estimate ``y`` with known standard error ``sigma``."""

    def __init__(self, y, sigma):
        self.y, self.sigma = float(y), float(sigma)

    def log_likelihood_function(self, instance, xp=np):
        return -0.5 * ((self.y - instance.theta) / self.sigma) ** 2 - xp.log(
            self.sigma * math.sqrt(2.0 * math.pi)
        )


def eight_schools(parametrization="auto"):
    """Rubin's eight schools: mu ~ N(0, 5), tau ~ U(0, 50), theta_j ~ N(mu, tau)."""
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.GaussianPrior(0.0, 5.0),
        sigma=gf.UniformPrior(0.0, 50.0),
        parametrization=parametrization,
    )
    factors = []
    for y, sigma in zip(Y, SIGMA, strict=True):
        model = gf.Model(School)
        model.theta = gf.GaussianPrior(0.0, 100.0)
        population.add_drawn_variable(model.theta)
        factors.append(gf.AnalysisFactor(model, SchoolAnalysis(y, sigma)))
    return gf.FactorGraphModel(*factors, population), population


def quadrature():
    """Posterior mean and sd of mu, tau and theta_1 by 2-D quadrature over (mu, tau), theta_1
    integrated analytically (its conditional posterior is normal)."""
    mu = np.linspace(-30.0, 30.0, 1201)[:, None]
    tau = np.linspace(1e-6, 50.0, 2001)[None, :]
    log_post = stats.norm.logpdf(mu, 0.0, 5.0) + sum(
        stats.norm.logpdf(y, mu, np.sqrt(s**2 + tau**2)) for y, s in zip(Y, SIGMA, strict=True)
    )
    weight = np.exp(log_post - log_post.max())
    weight /= weight.sum()
    precision = 1.0 / SIGMA[0] ** 2 + 1.0 / tau**2
    mean_1 = (Y[0] / SIGMA[0] ** 2 + mu / tau**2) / precision
    moments = {}
    for name, value, variance in (
        ("mu", mu + 0 * tau, 0.0),
        ("tau", tau + 0 * mu, 0.0),
        ("theta_1", mean_1, 1.0 / precision),
    ):
        mean = (weight * value).sum()
        moments[name] = (mean, math.sqrt((weight * ((value - mean) ** 2 + variance)).sum()))
    return moments


def test_spread_posterior_matches_quadrature_with_a_flat_mean():
    """The spread's posterior from normal estimates equals brute-force 2-D integration."""
    tau = np.linspace(1e-4, 50.0, 5001)
    mu = np.linspace(-100.0, 100.0, 801)[:, None]
    log_like = sum(
        stats.norm.logpdf(y, mu, np.sqrt(s**2 + tau**2)) for y, s in zip(Y, SIGMA, strict=True)
    )
    density = np.exp(log_like - log_like.max()).sum(axis=0)
    cdf = np.cumsum(density) / density.sum()
    exact_q10, exact_median = np.interp([0.1, 0.5], cdf, tau)
    posterior = spread_posterior(Y, SIGMA, support=(0.0, 50.0))
    assert posterior.datasets == 8
    assert posterior.q10 == pytest.approx(exact_q10, rel=0.02)
    assert posterior.median == pytest.approx(exact_median, rel=0.02)
    # with a hyperprior the posterior moves: an exponential prior of mean 2 pulls tau down
    pulled = spread_posterior(Y, SIGMA, lambda t: -t / 2.0, support=(0.0, 50.0))
    assert pulled.median < posterior.median
    # fewer than two informative datasets: nothing to say
    assert spread_posterior(Y[:1], SIGMA[:1]) is None
    assert spread_posterior(Y[:2], np.array([np.inf, 1.0])) is None


def test_dataset_estimate_of_a_single_measurement_is_exact():
    """A school's own estimate is its measurement and standard error."""
    model = gf.Model(School)
    model.theta = gf.GaussianPrior(0.0, 100.0)
    estimate = dataset_estimate(gf.AnalysisFactor(model, SchoolAnalysis(28.0, 15.0)), model.theta)
    assert estimate.value == pytest.approx(28.0, abs=0.05)
    assert estimate.sd == pytest.approx(15.0, rel=0.01)


def test_eight_schools_is_non_centred_because_the_posterior_spread_is_small():
    """The prior median of tau is 25, larger than every school's standard error, which made the
    old rule centre the population; its posterior's 10% quantile is about 1."""
    _, population = eight_schools()
    assert population.resolved_parametrization == "non_centred"
    assert population.data_strength > 5.0
    assert population.parametrization_reason.startswith(
        "non_centred: a drawn parameter's standard deviation from its dataset alone (median 11 "
        "over 8 datasets) is"
    )
    assert population.parametrization_reason.endswith("above 1")


@pytest.mark.slow
def test_eight_schools_at_the_defaults_matches_quadrature():
    """Every default (auto parametrisation, nutpie, 4 x 1000 draws): at most 3 divergences, and
    the posterior means of mu, tau and theta_1 within 2 Monte Carlo standard errors of
    quadrature (the issue's criterion); their standard deviations within 3 (six checks at 2
    would fail one in four correct fits)."""
    import arviz as az

    graph, _ = eight_schools()
    result_list = gf.NUTS(random_seed=1, progressbar=False).fit(graph.global_prior_model, graph)
    assert result_list.diagnostics.divergences <= 3
    posterior = result_list.idata.posterior
    draws = {
        "mu": posterior["hierarchical_0.mean"],
        "tau": posterior["hierarchical_0.sigma"],
        "theta_1": posterior["theta"].sel(dataset="dataset_0"),
    }
    for name, (mean, sd) in quadrature().items():
        values = draws[name].values
        mcse_mean = float(np.ravel(az.mcse(values))[0])
        # the sd's standard error from the squared deviations' (delta method)
        mcse_sd = float(np.ravel(az.mcse((values - values.mean()) ** 2))[0]) / (2.0 * values.std())
        assert abs(values.mean() - mean) <= 2.0 * mcse_mean, (name, values.mean(), mean)
        assert abs(values.std() - sd) <= 3.0 * mcse_sd, (name, values.std(), sd)


def workspace_graph():
    """The workspace's hierarchical datasets as the HowToFit tutorial fits them: each centre
    drawn from a population, normalization and sigma free per dataset."""
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.GaussianPrior(mean=50.0, sigma=10.0, lower_limit=0.0, upper_limit=100.0),
        sigma=gf.GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=100.0),
    )
    factors = []
    for k in range(10):
        folder = WORKSPACE / f"dataset_{k}"
        data = np.array(json.loads((folder / "data.json").read_text()))
        noise = np.array(json.loads((folder / "noise_map.json").read_text()))
        model = gf.Model(gf.ex.Gaussian)
        model.centre = gf.GaussianPrior(mean=50.0, sigma=20.0, lower_limit=0.0, upper_limit=100.0)
        model.normalization = gf.GaussianPrior(mean=3.0, sigma=5.0, lower_limit=0.0)
        model.sigma = gf.GaussianPrior(mean=10.0, sigma=10.0, lower_limit=0.0)
        population.add_drawn_variable(model.centre)
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)))
    return gf.FactorGraphModel(*factors, population), population


needs_workspace = pytest.mark.skipif(
    not WORKSPACE.is_dir(), reason="the workspace datasets (../shared) are not beside the clone"
)


@needs_workspace
def test_workspace_hierarchy_is_non_centred():
    """Faint peaks (signal-to-noise 1 per pixel) with free widths: weak data, non-centred."""
    _, population = workspace_graph()
    assert population.resolved_parametrization == "non_centred"
    assert population.data_strength > 2.0


@needs_workspace
@pytest.mark.slow
def test_workspace_hierarchy_at_the_defaults():
    """The workspace's data, every default: the hyperparameters mix (R-hat <= 1.01) and cover
    the population's truth (mean 50, sigma 10) at 95%.  Divergences, which the sub-pixel widths
    its sigma prior allows cause (as in a hand-written PyMC model of it), are warned about."""
    import warnings

    graph, _ = workspace_graph()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result_list = gf.NUTS(random_seed=1, progressbar=False).fit(graph.global_prior_model, graph)
    diagnostics = result_list.diagnostics
    table = diagnostics.table.loc[["hierarchical_0.mean", "hierarchical_0.sigma"]]
    assert (table["r_hat"] <= 1.01).all()
    population = result_list.population
    for name, truth in (("mean", 50.0), ("sigma", 10.0)):
        low, high = np.quantile(population[name].values, [0.025, 0.975])
        assert low <= truth <= high, (name, low, high)
    messages = [str(w.message) for w in caught if issubclass(w.category, gf.ConvergenceWarning)]
    if diagnostics.divergences:
        assert any(f"{diagnostics.divergences} divergent transition" in m for m in messages)

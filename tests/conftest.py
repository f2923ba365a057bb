"""Shared fixtures: simulated cookbook datasets with known truth, and fits run once per session.

Every fit uses real PyMC sampling with fixed seeds.  The fits are session-scoped so that each
cookbook problem is sampled once and checked by several tests.  The full fits (4 chains of 1000
draws) serve the recovery tests, marked slow; the fast tier's tests of a result's structure use
``small_identical_fit``.
"""

from __future__ import annotations

import signal
import warnings

import matplotlib
import numpy as np
import pytest

import graphfit as gf

matplotlib.use("Agg")

# A shell starts background jobs (`pytest &`, nohup) with Ctrl-C ignored, and graphfit rightly
# does not treat an ignored SIGINT as an interrupt; the interrupt tests and doctests send Ctrl-C,
# so the tests run with Python's own handler wherever they are started from.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

TRUTH_IDENTICAL = {"centre": 50.0, "normalization": 25.0, "sigma": 10.0}
TRUTH_VARIABLE = {"centre": 50.0, "normalization": 50.0, "sigma": [10.0, 20.0, 30.0]}
TRUTH_RELATIONAL = {"centre": 50.0, "normalization": 50.0, "sigma_m": 5.0, "sigma_c": 3.0}
X_RELATIONAL = [1.0, 2.0, 3.0]


def cookbook_model() -> gf.Model:
    """The cookbook's single-Gaussian model with its priors."""
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    model.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2)
    model.sigma = gf.GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=np.inf)
    return model


def identical_analyses() -> list[gf.ex.Analysis]:
    return [
        gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(**TRUTH_IDENTICAL, seed=seed))
        for seed in range(3)
    ]


def variable_analyses() -> list[gf.ex.Analysis]:
    return [
        gf.ex.Analysis(
            *gf.ex.simulate_gaussian_dataset(
                centre=50.0, normalization=50.0, sigma=sigma, seed=10 + k
            )
        )
        for k, sigma in enumerate(TRUTH_VARIABLE["sigma"])
    ]


def relational_analyses() -> list[gf.ex.Analysis]:
    m, c = TRUTH_RELATIONAL["sigma_m"], TRUTH_RELATIONAL["sigma_c"]
    return [
        gf.ex.Analysis(
            *gf.ex.simulate_gaussian_dataset(
                centre=50.0, normalization=50.0, sigma=m * x + c, seed=20 + k
            )
        )
        for k, x in enumerate(X_RELATIONAL)
    ]


def identical_graph() -> gf.FactorGraphModel:
    model = cookbook_model()
    factors = [gf.AnalysisFactor(prior_model=model, analysis=a) for a in identical_analyses()]
    return gf.FactorGraphModel(*factors)


def variable_graph() -> gf.FactorGraphModel:
    model = cookbook_model()
    factors = []
    for analysis in variable_analyses():
        model_analysis = model.copy()
        model_analysis.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2)
        model_analysis.sigma = gf.GaussianPrior(
            mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=np.inf
        )
        factors.append(gf.AnalysisFactor(prior_model=model_analysis, analysis=analysis))
    return gf.FactorGraphModel(*factors)


def relational_graph(named: bool = True) -> gf.FactorGraphModel:
    model = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian))
    sigma_m = gf.UniformPrior(
        lower_limit=-10.0, upper_limit=10.0, name="sigma_m" if named else None
    )
    sigma_c = gf.UniformPrior(
        lower_limit=-10.0, upper_limit=10.0, name="sigma_c" if named else None
    )
    factors = []
    for x, analysis in zip(X_RELATIONAL, relational_analyses(), strict=True):
        model_analysis = model.copy()
        model_analysis.gaussian.sigma = (sigma_m * x) + sigma_c
        factors.append(gf.AnalysisFactor(prior_model=model_analysis, analysis=analysis))
    return gf.FactorGraphModel(*factors)


def search(**kwargs) -> gf.NUTS:
    """The tests' NUTS: PyMC's sampler by default (nutpie has its own test)."""
    kwargs.setdefault("random_seed", 1)
    kwargs.setdefault("sampler", "pymc")
    return gf.NUTS(progressbar=False, **kwargs)


@pytest.fixture(scope="session")
def identical_fit() -> gf.ResultList:
    graph = identical_graph()
    return search().fit(model=graph.global_prior_model, analysis=graph)


@pytest.fixture(scope="session")
def small_identical_fit() -> gf.ResultList:
    """The identical datasets' joint fit from a short NUTS run (2 chains of 200 draws, one
    process): for tests of a NUTS result's structure and of what is computed from its draws
    (splits, LOO, deferred log-likelihoods), not of recovery, which use ``identical_fit``."""
    graph = identical_graph()
    with warnings.catch_warnings():  # a short run: its low ESS is said, and not what is tested
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        return search(draws=200, tune=200, chains=2, cores=1).fit(
            model=graph.global_prior_model, analysis=graph
        )


@pytest.fixture(scope="session")
def single_fit() -> gf.Result:
    return search().fit(model=cookbook_model(), analysis=identical_analyses()[0])


@pytest.fixture(scope="session")
def variable_fit() -> gf.ResultList:
    graph = variable_graph()
    return search().fit(model=graph.global_prior_model, analysis=graph)


@pytest.fixture(scope="session")
def relational_fit() -> gf.ResultList:
    graph = relational_graph()
    return search().fit(model=graph.global_prior_model, analysis=graph)


def within_sd(samples, truth: float, n_sd: float = 3.0) -> bool:
    """True when the posterior median lies within ``n_sd`` posterior sd of ``truth``."""
    values = np.asarray(samples).ravel()
    return abs(np.median(values) - truth) <= n_sd * values.std()

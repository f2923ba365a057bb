"""Tests that kill mutants mutmut found surviving in ``graphfit/backend/compile.py``
(docs/guides/testing.md).

The fast tier holds no marginalised population, so the mutants of ``_marginal_members`` and
``_marginal_potential`` (which groups are marginalised, which dataset holds which member, the
population's arguments, the axis of the sum over the grid, the ``MarginalGroup`` handed to the
draws after the fit) survived it; ``tests/test_marginal.py`` checks the same integral on ten
datasets and three population kinds.
"""

from __future__ import annotations

import functools

import numpy as np
import pytensor
import pytest
from scipy import stats

import graphfit as gf
from graphfit.backend import stack
from graphfit.backend.compile import compile_graph

CENTRES = (42.0, 50.0, 61.0)
NORMALIZATION, SIGMA = 2.0, 5.0  # a peak signal-to-noise of 4 per pixel (noise 0.04)
THETA = np.linspace(-200.0, 300.0, 100_001)


def datasets() -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        gf.ex.simulate_gaussian_dataset(
            centre=c, normalization=NORMALIZATION, sigma=SIGMA, seed=500 + k
        )
        for k, c in enumerate(CENTRES)
    ]


def marginal_graph() -> gf.FactorGraphModel:
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.UniformPrior(0.0, 100.0),
        sigma=gf.UniformPrior(0.0, 50.0),
        parametrization="marginalized",
    )
    factors = []
    for data, noise in datasets():
        model = gf.Model(gf.ex.Gaussian, normalization=NORMALIZATION, sigma=SIGMA)
        population.add_drawn_variable(model.centre)
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)))
    return gf.FactorGraphModel(*factors, population)


@functools.cache
def loglike_on_theta() -> np.ndarray:
    """Each dataset's log-likelihood of its centre at every ``THETA``, ``(dataset, theta)``."""
    x = np.arange(100.0)
    out = []
    for data, noise in datasets():
        rows = []
        for block in np.array_split(THETA, 20):
            profile = NORMALIZATION / (SIGMA * np.sqrt(2 * np.pi))
            model = profile * np.exp(-0.5 * ((x[None, :] - block[:, None]) / SIGMA) ** 2)
            rows.append(stats.norm.logpdf(data, model, noise).sum(axis=1))
        out.append(np.concatenate(rows))
    return np.array(out)


def test_the_marginal_potential_is_the_integral_over_each_datasets_member():
    sampling = compile_graph(marginal_graph()).sampling.model
    # the members are integrated out: only the population's hyperparameters are sampled
    assert [rv.name for rv in sampling.free_RVs] == [
        "hierarchical_0.mean",
        "hierarchical_0.sigma",
    ]
    (potential,) = sampling.potentials
    function = pytensor.function(sampling.free_RVs, potential)
    loglike = loglike_on_theta()
    for mean, sigma in [(50.0, 10.0), (45.0, 3.0), (60.0, 25.0)]:
        total = loglike + stats.norm.logpdf(THETA, mean, sigma)
        peak = total.max(axis=1, keepdims=True)
        exact = peak[:, 0] + np.log(np.trapezoid(np.exp(total - peak), THETA, axis=1))
        # linear interpolation of log L between the grid's edges: at most 1/72 per dataset
        assert float(function(mean, sigma)) == pytest.approx(exact.sum(), abs=3 / 72)


def test_a_marginalised_fit_draws_each_datasets_member_near_its_own_centre():
    graph = marginal_graph()
    result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    for k, result in enumerate(result_list):
        centres = stack.group(result.idata, "posterior")["centre"].values.ravel()
        assert np.all(np.abs(centres - CENTRES[k]) < 3.0), (k, centres)

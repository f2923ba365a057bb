"""PyAutoFit's expectation-propagation names, as HowToFit's graphical-models tutorial 5 calls
them: each raises ``gf.ExpectationPropagationError`` naming the joint fit to call instead."""

from __future__ import annotations

import re

import numpy as np
import pytest

import graphfit as gf

#: How every message goes on after saying what was called.
TAIL = (
    "belongs to PyAutoFit's expectation propagation (EP), which fits each factor of a graph on "
    "its own and approximates the joint posterior from messages passed between those fits. "
    "graphfit has no EP: it fits the factor graph jointly and exactly, compiling every factor "
    "into one PyMC model and sampling the joint posterior with NUTS. "
)
CALL = (
    "gf.NUTS().fit(model=factor_graph.global_prior_model, analysis=factor_graph) instead "
    "(gf.MAP() for a quick point estimate); the guide 'Coming from PyAutoFit' maps HowToFit's "
    "EP tutorial to this fit."
)


def exact(what: str, instead: str = "Call") -> str:
    return "^" + re.escape(f"{what} {TAIL}{instead} {CALL}") + "$"


def shared_centre_graph(n: int = 3) -> tuple[gf.FactorGraphModel, list[gf.AnalysisFactor]]:
    """Datasets of one shared centre (50), each with its own normalization and sigma."""
    centre = gf.GaussianPrior(mean=50.0, sigma=30.0)
    factors = []
    for k in range(n):
        data, noise_map = gf.ex.simulate_gaussian_dataset(
            centre=50.0, normalization=20.0 + k, sigma=8.0 + k, seed=10 + k
        )
        gaussian = gf.Model(gf.ex.Gaussian)
        gaussian.centre = centre
        gaussian.normalization = gf.TruncatedGaussianPrior(mean=20.0, sigma=10.0, lower_limit=0.0)
        gaussian.sigma = gf.TruncatedGaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)
        model = gf.Collection(gaussian=gaussian)
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise_map), name=f"d{k}"))
    return gf.FactorGraphModel(*factors), factors


@pytest.mark.parametrize(
    ("build", "what"),
    [
        (lambda: gf.LaplaceOptimiser(), "gf.LaplaceOptimiser()"),
        (lambda: gf.EPHistory(kl_tol=0.05), "gf.EPHistory()"),
        (lambda: gf.EPAnalysisFactor(prior_model=None, analysis=None), "gf.EPAnalysisFactor()"),
        (lambda: gf.EPMeanField(factor_graph=None, factor_mean_field={}), "gf.EPMeanField()"),
        (lambda: gf.EPOptimiser(None), "gf.EPOptimiser()"),
    ],
)
def test_the_ep_classes_say_what_to_call_instead(build, what):
    with pytest.raises(gf.ExpectationPropagationError, match=exact(what)) as caught:
        build()
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, gf.GraphfitError)


def test_tutorial_5_fails_at_its_first_ep_line_and_the_joint_fit_it_names_runs():
    graph, factors = shared_centre_graph()
    # each factor with its own search, as the tutorial's analysis factors are made
    with pytest.raises(
        gf.ExpectationPropagationError,
        match=exact(
            "AnalysisFactor(optimiser=...)",
            "Leave out optimiser= (one search fits the graph) and call",
        ),
    ):
        gf.AnalysisFactor(
            prior_model=factors[0].prior_model,
            analysis=factors[0].analysis,
            optimiser=gf.NUTS(),
            name="dataset_0",
        )
    with pytest.raises(gf.ExpectationPropagationError, match=exact("factor_graph.optimise(...)")):
        graph.optimise(optimiser=None, paths=None, ep_history=None, max_steps=5)
    with pytest.raises(
        gf.ExpectationPropagationError, match=exact("factor_graph.mean_field_approximation()")
    ):
        graph.mean_field_approximation()
    # optimiser=None is what AnalysisFactor has always been given
    assert gf.AnalysisFactor(factors[0].prior_model, factors[0].analysis, optimiser=None)

    # the fit the message names (its quick form), on the graph the tutorial built
    result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    centres = [result.max_log_likelihood_instance.gaussian.centre for result in result_list]
    assert np.allclose(centres, centres[0])  # one shared parameter
    assert abs(centres[0] - 50.0) < 1.0


def test_the_names_are_public():
    names = ["EPAnalysisFactor", "EPHistory", "EPMeanField", "EPOptimiser", "LaplaceOptimiser"]
    assert set(names) | {"ExpectationPropagationError"} <= set(gf.__all__)
    assert all(isinstance(getattr(gf, name), type) for name in names)

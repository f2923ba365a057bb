"""The per-dataset split, checked on a MAP fit in a second: each result is its own dataset's.

The three datasets have different true widths (10, 20, 30), so a split that handed every
result the same dataset's parameters, data or log-likelihood shows at once.  (The slow tests
in ``test_results.py`` check the same views on NUTS fits.)
"""

from __future__ import annotations

import numpy as np
import pytest

import graphfit as gf
from tests.conftest import TRUTH_VARIABLE, variable_analyses, variable_graph


@pytest.fixture(scope="module")
def map_fit() -> gf.ResultList:
    graph = variable_graph()
    return gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)


def test_each_result_holds_its_own_datasets_parameters(map_fit):
    joint = map_fit.idata.posterior["sigma"]
    for k, (result, truth) in enumerate(zip(map_fit, TRUTH_VARIABLE["sigma"], strict=True)):
        assert result.idata.posterior["sigma"].dims == ("chain", "draw")
        sigma = result.idata.posterior["sigma"].item()
        assert sigma == joint.sel(dataset=result.name).item() == joint[..., k].item()
        assert sigma == pytest.approx(truth, rel=0.1)
        assert float(result.median_pdf_instance.sigma) == pytest.approx(sigma)
        assert float(result.max_log_likelihood_instance.sigma) == pytest.approx(sigma)
        assert float(result.instance_at(0, 0).sigma) == pytest.approx(sigma)
    # the shared centre is the same in every result
    assert len({result.idata.posterior["centre"].item() for result in map_fit}) == 1


def test_each_result_holds_its_own_data_and_log_likelihood(map_fit):
    analyses = variable_analyses()
    totals = []
    for result, analysis in zip(map_fit, analyses, strict=True):
        np.testing.assert_array_equal(result.idata.observed_data["obs"].values, analysis.data)
        log_likelihood = result.idata.log_likelihood["obs"].values
        assert log_likelihood.shape == (1, 1, len(analysis.data))
        # the dataset's own Gaussian log-likelihood at its own fitted parameters
        instance = result.max_log_likelihood_instance
        model = instance.model_data_from(np.arange(len(analysis.data)))
        expected = -0.5 * (
            ((analysis.data - model) / analysis.noise_map) ** 2
            + np.log(2 * np.pi * analysis.noise_map**2)
        )
        np.testing.assert_allclose(log_likelihood[0, 0], expected, rtol=1e-6, atol=1e-8)
        totals.append(float(log_likelihood.sum()))
    assert len(set(totals)) == len(totals)

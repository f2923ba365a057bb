"""Acceptance: datasets of different kinds (1D Gaussian-noise profiles on different x grids, a
Poisson histogram, a 2D image) fitted jointly with one shared centre."""

import numpy as np
import pytest

from tests.conftest import search, within_sd
from tests.test_observations import mixed_graph

TRUE_CENTRE = 48.0


def check_split(graph, result_list):
    """Each result holds only its own dataset's observed data and pointwise log-likelihood."""
    expected = {
        "fine": ("x",),
        "coarse": ("x",),
        "coarse_2": ("x",),
        "hist": ("bin",),
        "image": ("y", "x"),
    }
    shapes = {"fine": (60,), "coarse": (80,), "coarse_2": (80,), "hist": (40,), "image": (30, 40)}
    for k, result in enumerate(result_list):
        idata = result.idata
        assert list(idata.observed_data.data_vars) == ["obs"]
        assert list(idata.log_likelihood.data_vars) == ["obs"]
        assert idata.observed_data.obs.dims == expected[result.name]
        assert idata.observed_data.obs.shape == shapes[result.name]
        assert idata.log_likelihood.obs.dims == ("chain", "draw", *expected[result.name])
        analysis = graph.factors[k].analysis
        own = analysis.counts if result.name == "hist" else analysis.data
        np.testing.assert_array_equal(idata.observed_data.obs.values, own)
    assert result_list["hist"].idata.observed_data.obs.dtype.kind == "i"
    assert sorted(result_list["image"].idata.posterior.data_vars) == [
        "centre_x",
        "centre_y",
        "normalization",
        "sigma",
    ]
    # the joint log-likelihood is the sum over the datasets' own pointwise values
    total = sum(float(r.idata.log_likelihood.obs.sum()) for r in result_list)
    assert float(result_list.joint_log_likelihood().sum()) == pytest.approx(total)


@pytest.mark.slow
def test_joint_fit_of_a_profile_a_histogram_and_an_image_recovers_the_shared_centre():
    graph = mixed_graph()
    result_list = search().fit(model=graph.global_prior_model, analysis=graph)
    posterior = result_list.idata.posterior
    assert within_sd(posterior["centre"], TRUE_CENTRE)
    assert within_sd(posterior["image.centre_y"], 40.0)
    assert float(result_list.diagnostics.table["r_hat"].max()) <= 1.01
    assert result_list.diagnostics.divergences == 0
    # the shared centre is the same variable in every dataset's view
    for result in result_list:
        name = "centre_x" if result.name == "image" else "centre"
        np.testing.assert_array_equal(result.idata.posterior[name].values, posterior.centre.values)
    check_split(graph, result_list)

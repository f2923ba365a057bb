"""Parameter recovery on simulated cookbook datasets with real NUTS sampling (fixed seeds).

These are the acceptance tests of the core: the identical-datasets, variable and relational
cookbook models.  Each fit is run once per session (see conftest.py).
"""

import numpy as np
import pytest

from tests.conftest import (
    TRUTH_IDENTICAL,
    TRUTH_RELATIONAL,
    TRUTH_VARIABLE,
    X_RELATIONAL,
    within_sd,
)

pytestmark = pytest.mark.slow


def assert_converged(result_list):
    diagnostics = result_list.diagnostics
    assert diagnostics.max_rhat <= 1.01
    assert diagnostics.divergences == 0
    assert diagnostics.ok, diagnostics.problems


def test_identical_datasets_recover_truth(identical_fit):
    assert_converged(identical_fit)
    posterior = identical_fit.idata.posterior
    for name, truth in TRUTH_IDENTICAL.items():
        assert within_sd(posterior[name], truth), name
    # every result reports the same values
    first = identical_fit[0].max_log_likelihood_instance
    for result in identical_fit:
        instance = result.max_log_likelihood_instance
        assert (instance.centre, instance.normalization, instance.sigma) == (
            first.centre,
            first.normalization,
            first.sigma,
        )
        np.testing.assert_array_equal(result.idata.posterior["centre"], posterior["centre"])


def test_joint_fit_constrains_better_than_one_dataset(identical_fit, single_fit):
    joint_sd = float(identical_fit.idata.posterior["centre"].std())
    single_sd = float(single_fit.idata.posterior["centre"].std())
    assert joint_sd < single_sd
    # three datasets: sd shrinks by about sqrt(3)
    assert joint_sd / single_sd == pytest.approx(1 / np.sqrt(3), rel=0.25)


def test_single_dataset_fit_returns_a_result(single_fit):
    import graphfit as gf

    assert isinstance(single_fit, gf.Result)
    assert single_fit.diagnostics.ok and single_fit.result_list[0] is single_fit
    assert sorted(single_fit.idata.posterior.data_vars) == ["centre", "normalization", "sigma"]
    for name, truth in TRUTH_IDENTICAL.items():
        assert within_sd(single_fit.idata.posterior[name], truth), name


def test_variable_model_recovers_each_sigma(variable_fit):
    assert_converged(variable_fit)
    centre = variable_fit.idata.posterior["centre"]
    assert within_sd(centre, TRUTH_VARIABLE["centre"])
    for result, sigma in zip(variable_fit, TRUTH_VARIABLE["sigma"], strict=True):
        posterior = result.idata.posterior
        assert within_sd(posterior["sigma"], sigma), result.name
        assert within_sd(posterior["normalization"], TRUTH_VARIABLE["normalization"]), result.name
        np.testing.assert_array_equal(posterior["centre"].values, centre.values)
    sigmas = [r.max_log_likelihood_instance.sigma for r in variable_fit]
    assert sigmas[0] < sigmas[1] < sigmas[2]


def test_relational_model_recovers_m_and_c(relational_fit):
    assert_converged(relational_fit)
    posterior = relational_fit.idata.posterior
    assert within_sd(posterior["sigma_m"], TRUTH_RELATIONAL["sigma_m"])
    assert within_sd(posterior["sigma_c"], TRUTH_RELATIONAL["sigma_c"])
    assert within_sd(posterior["gaussian.centre"], TRUTH_RELATIONAL["centre"])
    for result, x in zip(relational_fit, X_RELATIONAL, strict=True):
        own = result.idata.posterior
        np.testing.assert_allclose(
            own["gaussian.sigma"].values,
            own["sigma_m"].values * x + own["sigma_c"].values,
            rtol=1e-12,
        )
        instance = result.max_log_likelihood_instance
        m = instance_value(relational_fit, "sigma_m")
        c = instance_value(relational_fit, "sigma_c")
        assert instance.gaussian.sigma == pytest.approx(m * x + c, rel=1e-12)


def instance_value(result_list, name):
    chain, draw = result_list.max_log_likelihood_index
    return float(result_list.idata.posterior[name].isel(chain=chain, draw=draw))

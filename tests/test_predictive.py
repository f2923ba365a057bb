"""Posterior predictive draws: joint, per dataset, cached, and refused for custom likelihoods."""

import numpy as np
import pytest

import graphfit as gf
from graphfit.backend import stack
from graphfit.results.plotting import fit_band
from tests.conftest import variable_analyses, variable_graph


class LineLikelihood(gf.Analysis):
    """A custom log-likelihood (no observed node): a line through noisy points."""

    def __init__(self, y, noise):
        self.x = np.arange(len(y), dtype=float)
        self.y, self.noise = np.asarray(y), np.asarray(noise)

    def log_likelihood_function(self, instance, xp=np):
        model_y = instance.slope * self.x + instance.intercept
        return -0.5 * ((self.y - model_y) / self.noise) ** 2


class Line:
    def __init__(self, slope=1.0, intercept=0.0):
        self.slope, self.intercept = slope, intercept


def line_fit():
    rng = np.random.default_rng(3)
    y = 2.0 * np.arange(10.0) + 1.0 + rng.normal(0.0, 0.5, 10)
    model = gf.Model(
        Line, slope=gf.UniformPrior(-10.0, 10.0), intercept=gf.UniformPrior(-10.0, 10.0)
    )
    return gf.MAP(random_seed=1).fit(model=model, analysis=LineLikelihood(y, np.full(10, 0.5)))


@pytest.mark.slow
def test_dataset_predictive_is_its_slice_of_the_joint_draws(variable_fit):
    joint = variable_fit.posterior_predictive()
    assert set(stack.group_names(joint)) == {"posterior_predictive", "observed_data"}
    assert joint.posterior_predictive["obs"].dims == ("chain", "draw", "dataset", "x")
    assert joint.posterior_predictive["obs"].shape == (4, 1000, 3, 100)
    assert variable_fit.posterior_predictive() is joint  # drawn once, cached
    for result in variable_fit:
        idata = result.posterior_predictive()
        assert set(stack.group_names(idata)) == {
            "posterior",
            "posterior_predictive",
            "log_likelihood",
            "observed_data",
            "constant_data",
            "sample_stats",
        }
        draws = idata.posterior_predictive["obs"]
        assert draws.dims == ("chain", "draw", "x")
        assert idata.observed_data["obs"].dims == ("x",)
        np.testing.assert_array_equal(
            draws.values, joint.posterior_predictive["obs"].sel(dataset=result.name).values
        )
        # result.idata itself is left as it was
        assert "posterior_predictive" not in stack.group_names(result.idata)


@pytest.mark.slow
def test_predictive_draws_follow_the_model_and_the_noise(variable_fit):
    # Datasets have different widths (sigma 10, 20, 30): a wrong slice would miss by far more
    # than the tolerances here.
    for result, analysis in zip(variable_fit, variable_analyses(), strict=True):
        draws = result.posterior_predictive().posterior_predictive["obs"]
        mean = draws.mean(("chain", "draw")).values
        spread = draws.std(("chain", "draw")).values
        median_model = fit_band(result, draws=400).median
        # 4000 draws: the mean's sd is noise / 63; the model's own posterior spread is smaller
        # than the noise, so the predictive sd is the noise to within a few per cent.
        assert np.max(np.abs(mean - median_model) / analysis.noise_map) < 0.15
        assert np.median(spread / analysis.noise_map) == pytest.approx(1.0, abs=0.05)
        assert np.all(spread > 0.85 * analysis.noise_map)


@pytest.mark.slow
def test_plot_ppc_works_on_a_dataset(variable_fit):
    """ArviZ's posterior predictive plot of one dataset, drawn by the stack's own function."""
    import matplotlib.pyplot as plt

    figure = variable_fit[2].plot_ppc(num_samples=20)
    (ax,) = figure.axes
    lines = ax.get_lines()
    if stack.ARVIZ_1:  # plot_ppc_dist: one curve per predictive draw and the observed one
        assert len(lines) == 21
    else:  # plot_ppc: one curve per draw (unlabelled) and three labelled ones
        labels = [line.get_label() for line in lines]
        assert {"Observed", "Posterior predictive", "Posterior predictive mean"} <= set(labels)
        assert sum(label.startswith("_") for label in labels) == 20
    plt.close(figure)


def test_per_dataset_nodes_give_the_same_structure():
    graph = variable_graph()
    graph.vectorize = False
    result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    joint = result_list.posterior_predictive(random_seed=5)
    assert sorted(joint.posterior_predictive.data_vars) == [
        "dataset_0.obs",
        "dataset_1.obs",
        "dataset_2.obs",
    ]
    for result in result_list:
        draws = result.posterior_predictive(random_seed=5).posterior_predictive["obs"]
        assert draws.dims == ("chain", "draw", "x")
        assert draws.shape == (1, 1, 100)
        np.testing.assert_array_equal(
            draws.values, joint.posterior_predictive[f"{result.name}.obs"].values
        )
    # another seed gives other draws, and both are kept
    other = result_list.posterior_predictive(random_seed=6)
    assert other is not joint
    assert not np.array_equal(
        other.posterior_predictive["dataset_0.obs"], joint.posterior_predictive["dataset_0.obs"]
    )
    assert result_list.posterior_predictive(random_seed=5) is joint


def test_custom_likelihood_has_no_predictive():
    result = line_fit()
    with pytest.raises(
        gf.PredictiveError,
        match=r"dataset\(s\) 'dataset_0' have no posterior predictive: their analysis "
        r"\(LineLikelihood\) overrides log_likelihood_function",
    ):
        result.posterior_predictive()
    with pytest.raises(gf.PredictiveError, match=r"Return a gf\.GaussianObservation"):
        result.result_list.posterior_predictive()


def test_map_result_has_one_predictive_draw():
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=4)
    result = gf.MAP(random_seed=1).fit(
        model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    )
    draws = result.posterior_predictive().posterior_predictive["obs"]
    assert draws.shape == (1, 1, 100)
    residual = (draws.values.ravel() - fit_band(result).median) / noise_map
    assert np.std(residual) == pytest.approx(1.0, abs=0.25)


def test_posterior_predictive_draws_log_no_pymc_record(caplog):
    """PyMC logs "Sampling: [obs]" at INFO for each forward draw, which a notebook shows under
    the cell: graphfit's draws leave it out, and leave PyMC's logger level as it was."""
    import logging

    analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    result = gf.MAP(random_seed=1).fit(model=gf.Model(gf.ex.Gaussian), analysis=analysis)
    forward = logging.getLogger("pymc.sampling.forward")
    before = forward.level
    with caplog.at_level(logging.INFO):
        draws = result.posterior_predictive()
    assert "obs" in draws.posterior_predictive
    assert not [r for r in caplog.records if r.name.startswith("pymc.sampling")]
    assert forward.level == before

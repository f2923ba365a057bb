import numpy as np
import pytest

import graphfit as gf


@pytest.mark.parametrize(
    ("data", "noise", "message"),
    [
        (
            np.ones(5),
            np.ones(4),
            r"ex.Analysis: data has shape \(5,\) but noise_map has shape \(4,\); they must have the same shape",
        ),
        (
            np.array([1.0, np.nan, 2.0]),
            np.ones(3),
            r"ex.Analysis: data has 1 NaN or inf value\(s\), the first at index 1 \(nan\); all values must be finite",
        ),
        (
            np.array([1.0, 2.0, np.inf]),
            np.ones(3),
            r"ex.Analysis: data has 1 NaN or inf value\(s\), the first at index 2 \(inf\)",
        ),
        (
            np.ones(3),
            np.array([1.0, np.inf, 1.0]),
            r"ex.Analysis: noise_map has 1 NaN or inf value\(s\), the first at index 1",
        ),
        (
            np.ones(3),
            np.array([1.0, 0.0, -1.0]),
            r"ex.Analysis: noise_map has 2 value\(s\) <= 0, the first at index 1 \(0.0\); a noise map holds standard deviations, which must be > 0",
        ),
        (np.ones((2, 2)), np.ones((2, 2)), r"ex.Analysis: data must be 1D, got shape \(2, 2\)"),
        ([], [], r"ex.Analysis: data is empty"),
        (["a", "b"], [1.0, 1.0], r"ex.Analysis: data holds text \(dtype <U1\); give real numbers"),
    ],
)
def test_bad_data(data, noise, message):
    with pytest.raises(gf.DataError, match=message) as info:
        gf.ex.Analysis(data=data, noise_map=noise)
    assert isinstance(info.value, ValueError)


class CustomLine(gf.Analysis):
    def __init__(self, x, y, noise):
        self.x, self.y, self.noise = x, y, noise

    def log_likelihood_function(self, instance, xp=np):
        model_y = instance.slope * self.x + instance.intercept
        return -0.5 * ((self.y - model_y) / self.noise) ** 2


class Line:
    def __init__(self, slope, intercept):
        self.slope, self.intercept = slope, intercept


class RobustGaussian(gf.ex.Analysis):
    """Overrides the likelihood below a class that declares an observation."""

    def log_likelihood_function(self, instance, xp=np):
        residual = (self.model_data_from(instance, xp) - self.data) / self.noise_map
        return -xp.log1p(residual**2)


def test_uses_observation_follows_the_most_derived_override():
    assert gf.ex.Analysis.uses_observation()
    assert not CustomLine.uses_observation()
    assert not RobustGaussian.uses_observation()
    assert not gf.Analysis.uses_observation()


def test_base_analysis_says_what_to_override():
    with pytest.raises(
        NotImplementedError,
        match="defines neither observation\\(\\) nor log_likelihood_function\\(\\)",
    ):
        gf.Analysis().log_likelihood_function(None)


def test_full_gaussian_likelihood_includes_normalisation():
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=4)
    analysis = gf.ex.Analysis(data, noise_map)
    instance = gf.ex.Gaussian(50.0, 25.0, 10.0)
    expected = np.sum(
        -0.5 * ((data - instance.model_data_from(analysis.xvalues)) / noise_map) ** 2
        - 0.5 * np.log(2 * np.pi * noise_map**2)
    )
    assert analysis.log_likelihood_function(instance).sum() == pytest.approx(expected, rel=1e-12)
    # the normalisation term is what PyAutoFit leaves out: +229.99 for 100 pixels of noise 0.04
    assert -0.5 * np.sum(np.log(2 * np.pi * noise_map**2)) == pytest.approx(229.99, abs=0.01)


def test_compiled_observed_node_matches_numpy_likelihood():
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=4)
    analysis = gf.ex.Analysis(data, noise_map)
    model = gf.Model(gf.ex.Gaussian)
    graph = gf.FactorGraphModel(gf.AnalysisFactor(model, analysis))
    pymc_model = graph.to_pymc()
    import pymc as pm

    point = {"centre": 49.0, "normalization": 24.0, "sigma": 11.0}
    obs = pymc_model["dataset_0.obs"]
    logp = pm.logp(obs, data).sum()
    rvs = {pymc_model[k]: np.float64(v) for k, v in point.items()}
    import pytensor

    value = pytensor.graph.replace.graph_replace(logp, rvs).eval()
    instance = gf.ex.Gaussian(**point)
    expected = analysis.log_likelihood_function(instance).sum()
    assert float(value) == pytest.approx(expected, rel=1e-10)


def test_custom_likelihood_compiles_to_potential_and_records_pointwise():
    rng = np.random.default_rng(0)
    x = np.linspace(0.0, 1.0, 20)
    y = 2.0 * x + 1.0 + rng.normal(0, 0.1, x.size)
    model = gf.Model(Line, slope=gf.UniformPrior(-5.0, 5.0), intercept=gf.UniformPrior(-5.0, 5.0))
    graph = gf.FactorGraphModel(gf.AnalysisFactor(model, CustomLine(x, y, 0.1), name="line"))
    pymc_model = graph.to_pymc()
    assert [p.name for p in pymc_model.potentials] == ["line.log_likelihood"]
    assert pymc_model.named_vars_to_dims["line.obs"] == ("line.obs_dim_0",)
    assert len(pymc_model.coords["line.obs_dim_0"]) == 20
    result = gf.MAP(random_seed=0).fit(model=graph.global_prior_model, analysis=graph)[0]
    instance = result.max_log_likelihood_instance
    assert instance.slope == pytest.approx(2.0, abs=0.2)
    assert instance.intercept == pytest.approx(1.0, abs=0.1)
    assert list(result.idata.log_likelihood.data_vars) == ["obs"]
    assert result.idata.log_likelihood.obs.dims == ("chain", "draw", "obs_dim_0")
    assert "line.obs" not in result.idata.posterior

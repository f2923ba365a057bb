"""Black-box (numpy-only) likelihoods: wrapped as an Op, sampled without gradients."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest
from scipy import stats

import graphfit as gf
from graphfit.backend import stack
from graphfit.exceptions import SamplerFallbackWarning
from tests.conftest import cookbook_model, identical_analyses, search


class LegacyGaussianAnalysis(gf.BlackBoxAnalysis):
    """The cookbook's 1D Gaussian likelihood written with numpy only (as a legacy code would)."""

    def __init__(self, analysis: gf.ex.Analysis) -> None:
        self.x = analysis.xvalues
        self.data = analysis.data
        self.noise_map = analysis.noise_map

    def log_likelihood_function(self, instance):
        profile = instance.model_data_from(self.x)  # floats in, numpy out
        assert isinstance(profile, np.ndarray)
        return stats.norm.logpdf(self.data, loc=profile, scale=self.noise_map)


class FlaggedAnalysis(gf.Analysis):
    """Any analysis can say it is a black box with the class attribute."""

    black_box = True

    def __init__(self, analysis: gf.ex.Analysis) -> None:
        self.inner = LegacyGaussianAnalysis(analysis)

    def log_likelihood_function(self, instance):
        return float(np.sum(self.inner.log_likelihood_function(instance)))


def black_box_graph(kind=LegacyGaussianAnalysis) -> gf.FactorGraphModel:
    model = cookbook_model()
    return gf.FactorGraphModel(
        *[gf.AnalysisFactor(model, kind(analysis)) for analysis in identical_analyses()]
    )


@pytest.fixture(scope="module")
def black_box_fit() -> gf.ResultList:
    graph = black_box_graph()
    with pytest.warns(SamplerFallbackWarning, match="sampling with gf.SMC"):
        return search(draws=1000, chains=2).fit(model=graph.global_prior_model, analysis=graph)


def test_compiled_graph_marks_black_box_datasets():
    compiled = black_box_graph().compile()
    assert compiled.black_box == ["dataset_0", "dataset_1", "dataset_2"]
    assert [node.kind for node in compiled.nodes] == ["potential"] * 3
    assert len(compiled.model.coords["dataset_0.obs_dim_0"]) == 100
    assert tuple(compiled.model["dataset_0.obs"].shape.eval()) == (100,)


def test_nuts_switches_to_smc_and_says_why():
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(cookbook_model(), FlaggedAnalysis(identical_analyses()[0]))
    )
    # a warning (which a notebook shows), not a log record
    with pytest.warns(
        SamplerFallbackWarning,
        match=r"^NUTS: dataset\(s\) dataset_0 have a black-box likelihood \(black_box = True\), "
        r"which has no gradient, so NUTS cannot run; sampling with gf\.SMC \(pm\.sample_smc, "
        r"gradient-free\) instead, draws=100, chains=2\. Use gf\.SMC directly to choose its "
        r"settings\.$",
    ):
        # a short run: which sampler ran and what it recorded is checked, not its accuracy
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        result_list = search(draws=100, chains=2).fit(
            model=graph.global_prior_model, analysis=graph
        )
    # SMC ran: stage statistics and a log evidence
    assert "beta" in result_list.idata.sample_stats
    assert result_list.log_evidence.method == "smc"
    # a scalar black-box likelihood is one "point" per draw
    assert result_list[0].idata.log_likelihood["obs"].dims == ("chain", "draw")


@pytest.mark.slow
def test_black_box_posterior_agrees_with_xp_version(black_box_fit, identical_fit):
    """The same model written with xp (NUTS on observed nodes) and as a black box (SMC)."""
    for name in ("centre", "normalization", "sigma"):
        a = black_box_fit.idata.posterior[name]
        b = identical_fit.idata.posterior[name]
        mcse = np.hypot(
            float(az.mcse(black_box_fit.idata, var_names=[name])[name]),
            float(az.mcse(identical_fit.idata, var_names=[name])[name]),
        )
        assert abs(float(a.mean()) - float(b.mean())) < 4 * mcse, name
        assert float(a.std()) == pytest.approx(float(b.std()), rel=0.1), name
    assert black_box_fit.diagnostics is not None and black_box_fit.diagnostics.ok


@pytest.mark.slow
def test_black_box_pointwise_log_likelihood_is_recorded(black_box_fit, identical_fit):
    analyses = identical_analyses()
    posterior = black_box_fit.idata.posterior
    for k, result in enumerate(black_box_fit):
        loglike = result.idata.log_likelihood["obs"]
        assert loglike.dims == ("chain", "draw", "obs_dim_0") and loglike.sizes["obs_dim_0"] == 100
        draw = {
            n: float(posterior[n].isel(chain=1, draw=7))
            for n in ("centre", "normalization", "sigma")
        }
        profile = gf.ex.Gaussian(**draw).model_data_from(analyses[k].xvalues)
        expected = stats.norm.logpdf(analyses[k].data, profile, analyses[k].noise_map)
        np.testing.assert_allclose(loglike.isel(chain=1, draw=7).values, expected, rtol=1e-10)
    # same LOO as the xp version, within Monte Carlo error
    assert stack.elpd_total(black_box_fit.loo()) == pytest.approx(
        stack.elpd_total(identical_fit.loo()), abs=1.0
    )


def test_map_optimises_black_box_without_gradients():
    graph = black_box_graph(FlaggedAnalysis)
    black_box = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    model = cookbook_model()
    graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in identical_analyses()])
    xp = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    for name in ("centre", "normalization", "sigma"):
        assert getattr(black_box[0].max_log_likelihood_instance, name) == pytest.approx(
            getattr(xp[0].max_log_likelihood_instance, name), rel=1e-3
        )


def test_black_box_with_an_observation_is_rejected():
    class Confused(gf.ex.Analysis):
        black_box = True

    analysis = identical_analyses()[0]
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(cookbook_model(), Confused(analysis.data, analysis.noise_map))
    )
    with pytest.raises(
        gf.FactorGraphError,
        match=r"dataset 'dataset_0': Confused sets black_box = True but declares observation\(\)",
    ):
        graph.compile()

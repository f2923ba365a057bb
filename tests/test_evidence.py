"""Log evidence: gf.SMC and gf.DynestyStatic against each other and against a closed form."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import graphfit as gf
from graphfit.backend import stack
from graphfit.exceptions import ResumedFitWarning
from graphfit.results.evidence import LogEvidence
from graphfit.search.dynesty import prior_transform
from tests import linear_gaussian as lg
from tests.conftest import TRUTH_IDENTICAL, identical_graph, within_sd


@pytest.fixture(scope="module")
def smc_identical() -> gf.ResultList:
    graph = identical_graph()
    search = gf.SMC(draws=1000, chains=4, cores=1, random_seed=1, progressbar=False)
    return search.fit(model=graph.global_prior_model, analysis=graph)


@pytest.fixture(scope="module")
def linear_data() -> list[np.ndarray]:
    return lg.simulate([0.5, -0.5], seed=0)


def check_smc_evidence(result_list: gf.ResultList, chains: int, draws: int) -> LogEvidence:
    """An SMC fit's log evidence is the mean of its chains' last-stage estimates, its error their
    standard error, and the stages and draws are recorded; returns the evidence."""
    evidence = result_list.log_evidence
    assert isinstance(evidence, LogEvidence)
    assert evidence.method == "smc" and len(evidence.chains) == chains
    assert np.isfinite(evidence.value) and evidence.value == pytest.approx(np.mean(evidence.chains))
    assert evidence.error == pytest.approx(np.std(evidence.chains, ddof=1) / np.sqrt(chains))
    stats = result_list.idata.sample_stats
    assert stats["log_marginal_likelihood"].dims == ("chain", "stage")
    last = [row[np.isfinite(row)][-1] for row in stats["log_marginal_likelihood"].values]
    np.testing.assert_allclose(last, evidence.chains)
    assert stats["beta"].max() == 1.0
    posterior = result_list.idata.posterior
    assert posterior.sizes["chain"] == chains and posterior.sizes["draw"] == draws
    return evidence


@pytest.fixture(scope="module")
def short_smc(linear_data) -> gf.ResultList:
    """A short SMC run of the two-intercept linear model: for what a result holds, not its
    accuracy (pm.sample_smc's compiling, not its draws, is most of its time)."""
    graph = lg.graph(linear_data, shared_intercept=False)
    search = gf.SMC(draws=100, chains=2, cores=1, random_seed=1, progressbar=False)
    with warnings.catch_warnings():  # a short run: its low ESS is said, and not what is tested
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        return search.fit(model=graph.global_prior_model, analysis=graph)


def test_a_short_smc_run_gives_the_log_evidence_of_its_chains(short_smc):
    """The fast tier's check of the SMC path: the evidence is made from the chains' last
    stage, the stages are recorded, each dataset gets its log-likelihood."""
    check_smc_evidence(short_smc, chains=2, draws=100)
    posterior = short_smc.idata.posterior
    assert posterior["intercept"].dims == ("chain", "draw", "dataset")
    for result in short_smc:
        assert result.idata.log_likelihood["obs"].sizes["x"] == lg.X.size
    assert sorted(short_smc.diagnostics.table.index) == [
        "intercept[dataset_0]",
        "intercept[dataset_1]",
        "slope",
    ]


@pytest.mark.slow  # the evidence's error and the posterior's recovery need 4 chains of 1000 draws
def test_smc_gives_log_evidence_posterior_and_log_likelihood(smc_identical):
    evidence = check_smc_evidence(smc_identical, chains=4, draws=1000)
    assert 0.0 < evidence.error < 0.3
    posterior = smc_identical.idata.posterior
    for name, truth in TRUTH_IDENTICAL.items():
        assert within_sd(posterior[name], truth)
    for result in smc_identical:
        assert result.idata.log_likelihood["obs"].sizes["x"] == 100
    assert smc_identical.diagnostics.ok
    assert list(smc_identical.diagnostics.table.index) == ["centre", "normalization", "sigma"]
    assert smc_identical[0].loo().n_data_points == 100


def test_log_evidence_survives_netcdf(short_smc, tmp_path):
    path = tmp_path / "smc.nc"
    stack.write_netcdf(short_smc.idata, str(path))
    loaded = stack.read_netcdf(str(path))
    attrs = stack.group(loaded, "posterior").attrs
    assert LogEvidence.from_attrs(attrs) == short_smc.log_evidence


def test_nuts_has_no_log_evidence(small_identical_fit):
    assert small_identical_fit.log_evidence is None


@pytest.mark.slow
def test_dynesty_agrees_with_smc_on_identical_datasets(smc_identical):
    graph = identical_graph()
    dynesty = gf.DynestyStatic(nlive=300, random_seed=1).fit(
        model=graph.global_prior_model, analysis=graph
    )
    smc, nested = smc_identical.log_evidence, dynesty.log_evidence
    assert nested.method == "dynesty" and 0.0 < nested.error < 0.5
    tolerance = max(3.0 * np.hypot(smc.error, nested.error), 0.5)
    assert abs(smc.value - nested.value) < tolerance
    posterior = dynesty.idata.posterior
    assert posterior.sizes["chain"] == 1 and posterior.sizes["draw"] > 1000
    for name, truth in TRUTH_IDENTICAL.items():
        assert within_sd(posterior[name], truth)
        assert float(posterior[name].mean()) == pytest.approx(
            float(smc_identical.idata.posterior[name].mean()),
            abs=4 * float(smc_identical.idata.posterior[name].std()) / np.sqrt(1000),
        )
    assert dynesty[2].idata.log_likelihood["obs"].sizes["x"] == 100
    assert int(dynesty.idata.sample_stats["n_calls"]) > 1000


# agreement with the closed form at Monte Carlo precision needs the full runs: slow; the fast
# tier runs both searches' evidence paths in test_a_short_smc_run_gives_the_log_evidence_of_its_chains
# and test_a_short_dynesty_run_gives_a_log_evidence_and_per_dataset_vectors
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["smc", "dynesty"])
def test_evidence_matches_closed_form_gaussian_linear_model(kind, linear_data):
    """Two datasets sharing a slope, each with its own intercept (a per-dataset vector)."""
    graph = lg.graph(linear_data, shared_intercept=False)
    if kind == "smc":
        search = gf.SMC(draws=1000, chains=4, cores=1, random_seed=2, progressbar=False)
    else:
        search = gf.DynestyStatic(nlive=300, random_seed=2)
    result_list = search.fit(model=graph.global_prior_model, analysis=graph)
    exact = lg.log_evidence(linear_data, shared_intercept=False)
    evidence = result_list.log_evidence
    assert abs(evidence.value - exact) < 3.0 * max(evidence.error, 0.05)
    assert abs(evidence.value - exact) < 0.5
    assert result_list.idata.posterior["intercept"].dims == ("chain", "draw", "dataset")


def test_a_short_dynesty_run_gives_a_log_evidence_and_per_dataset_vectors(linear_data):
    """The fast tier's check of the Dynesty path on the two-intercept linear model: a log
    evidence with its error, one chain, and the per-dataset intercepts as a vector."""
    graph = lg.graph(linear_data, shared_intercept=False)
    with warnings.catch_warnings():  # a short run: its convergence notes are not tested here
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        result_list = gf.DynestyStatic(nlive=50, dlogz=5.0, random_seed=2).fit(
            model=graph.global_prior_model, analysis=graph
        )
    evidence = result_list.log_evidence
    assert isinstance(evidence, LogEvidence) and evidence.method == "dynesty"
    assert np.isfinite(evidence.value) and evidence.error > 0.0
    posterior = result_list.idata.posterior
    assert posterior.sizes["chain"] == 1
    assert posterior["intercept"].dims == ("chain", "draw", "dataset")
    assert int(result_list.idata.sample_stats["n_calls"]) > 0


def test_prior_transform_is_each_priors_quantile_function():
    from scipy import stats

    from graphfit.plan.naming import Group

    priors = [
        gf.UniformPrior(2.0, 6.0),
        gf.LogUniformPrior(1e-2, 1e2),
        gf.GaussianPrior(1.0, 2.0),
        gf.TruncatedGaussianPrior(10.0, 5.0, 0.0, 30.0),
        gf.GaussianPrior(10.0, 5.0, lower_limit=0.0),
        gf.LogGaussianPrior(0.5, 0.3),
    ]
    transform, layout = prior_transform(
        [Group(f"p{k}", [p], vector=False) for k, p in enumerate(priors)]
    )
    u = np.array([0.25, 0.75, 0.1, 0.6, 0.5, 0.9])
    expected = [
        3.0,
        10.0,
        stats.norm.ppf(0.1, 1.0, 2.0),
        stats.truncnorm.ppf(0.6, -2.0, 4.0, loc=10.0, scale=5.0),
        gf.GaussianPrior(10.0, 5.0, lower_limit=0.0).median(),
        np.exp(stats.norm.ppf(0.9, 0.5, 0.3)),
    ]
    np.testing.assert_allclose(transform(u), expected, rtol=1e-10)
    assert [name for name, _, _ in layout] == [f"p{k}" for k in range(6)]


def test_dynesty_rejects_hierarchical_graphs():
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.UniformPrior(0.0, 100.0),
        sigma=gf.UniformPrior(0.1, 20.0),
    )
    factors = []
    for analysis in [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in (0, 1)]:
        model = gf.Model(gf.ex.Gaussian)
        population.add_drawn_variable(model.centre)
        factors.append(gf.AnalysisFactor(model, analysis))
    graph = gf.FactorGraphModel(*factors, population)
    with pytest.raises(
        gf.SearchError,
        match=r"DynestyStatic: the graph has hierarchical factor\(s\) \(hierarchical_0\), whose "
        r"prior is not a product of independent priors.*fit it with gf.SMC",
    ):
        gf.DynestyStatic(nlive=50).fit(model=graph.global_prior_model, analysis=graph)


def test_bad_settings_are_rejected():
    with pytest.raises(gf.SearchError, match=r"SMC: draws must be an integer >= 2, got 1\."):
        gf.SMC(draws=1)
    with pytest.raises(gf.SearchError, match=r"SMC: threshold must be in \(0, 1\), got 1\.5\."):
        gf.SMC(threshold=1.5)
    with pytest.raises(gf.SearchError, match=r"DynestyStatic: nlive must be an integer >= 2"):
        gf.DynestyStatic(nlive=1)
    with pytest.raises(gf.SearchError, match=r"DynestyStatic: dlogz must be > 0 or None, got 0"):
        gf.DynestyStatic(dlogz=0)


def test_smc_fit_is_saved_and_resumed_with_its_evidence(tmp_path):
    """A named SMC fit goes to an output folder and comes back with its log evidence."""
    graph = lg.graph(lg.simulate([1.0, -1.0]), shared_intercept=False)
    # a short run: what is checked is that the saved evidence comes back, not its accuracy
    settings = {"draws": 200, "chains": 2, "random_seed": 4, "progressbar": False}
    with warnings.catch_warnings():  # its low ESS is said, and not what is tested
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        first = gf.SMC(name="evidence", output_path=tmp_path, **settings).fit(
            model=graph.global_prior_model, analysis=graph
        )
    with pytest.warns(ResumedFitWarning, match="loaded the finished fit"):
        again = gf.SMC(name="evidence", output_path=tmp_path, **settings).fit(
            model=graph.global_prior_model, analysis=graph
        )
    assert again.resumed and again.output_folder == first.output_folder
    assert again.log_evidence.value == pytest.approx(first.log_evidence.value, abs=1e-12)
    assert again.log_evidence.error == pytest.approx(first.log_evidence.error, abs=1e-12)

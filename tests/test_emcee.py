"""gf.Emcee: the real emcee ensemble sampler on the compiled model's unconstrained space.

The linear-Gaussian model of ``tests/linear_gaussian.py`` has a Gaussian posterior in closed
form, which the walkers must reproduce; the cookbook's three identical datasets check the
results' layout (per dataset, as NUTS's), the output folder and the keywords.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from scipy import stats

import graphfit as gf
from graphfit.backend import stack
from graphfit.exceptions import ResumedFitWarning
from graphfit.io.identifier import search_settings
from graphfit.search.emcee import walkers_rhat_max
from tests import linear_gaussian as lg
from tests.conftest import TRUTH_IDENTICAL, identical_graph, within_sd
from tests.test_assertions import NOISE, N, two_levels
from tests.test_modes import TwoModes, centre_model

PYAUTOFIT = (
    "number_of_cores, seed, silence, iterations_per_update, iterations_per_full_update, "
    "iterations_per_quick_update, live_visual_update, session, force_x1_cpu"
)
STATS = ["lp", "acceptance_fraction", "n_steps", "burn_in", "thin", "autocorr_time", "converged"]


def exact_posterior(ys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of (slope, intercept_0, intercept_1, ...) given the datasets."""
    blocks = []
    for k, _ in enumerate(ys):
        block = np.zeros((lg.X.size, 1 + len(ys)))
        block[:, 0] = lg.X
        block[:, 1 + k] = 1.0
        blocks.append(block)
    design = np.vstack(blocks)
    prior_mean = np.array([lg.A_PRIOR[0]] + [lg.B_PRIOR[0]] * len(ys))
    prior_precision = np.diag([lg.A_PRIOR[1] ** -2] + [lg.B_PRIOR[1] ** -2] * len(ys))
    cov = np.linalg.inv(design.T @ design / lg.NOISE**2 + prior_precision)
    mean = cov @ (design.T @ np.concatenate(ys) / lg.NOISE**2 + prior_precision @ prior_mean)
    return mean, cov


@pytest.fixture(scope="module")
def linear_data() -> list[np.ndarray]:
    return lg.simulate([0.5, -0.5], seed=0)


@pytest.fixture(scope="module")
def cookbook_fit(tmp_path_factory: pytest.TempPathFactory) -> gf.ResultList:
    graph = identical_graph()
    search = gf.Emcee(
        nwalkers=16,
        nsteps=3000,
        random_seed=3,
        progressbar=False,
        name="emcee",
        output_path=tmp_path_factory.mktemp("output"),
    )
    return search.fit(model=graph.global_prior_model, analysis=graph)


@pytest.mark.slow
@pytest.mark.parametrize("initializer", [gf.InitializerBall(), gf.InitializerPrior()])
def test_walkers_reproduce_the_exact_posterior(linear_data, initializer):
    """Two datasets sharing a slope, each with its own intercept: the posterior is Gaussian
    with a known mean and covariance."""
    graph = lg.graph(linear_data, shared_intercept=False)
    # 4000 steps: the longest autocorrelation time is near 40 steps, and 2000 steps are fewer
    # than 50 of them for some seeds and stacks (a ConvergenceWarning)
    search = gf.Emcee(
        nwalkers=20, nsteps=4000, random_seed=1, progressbar=False, initializer=initializer
    )
    result_list = search.fit(model=graph.global_prior_model, analysis=graph)
    posterior = result_list.idata.posterior
    intercepts = posterior["intercept"].transpose("chain", "draw", "dataset").values
    draws = np.column_stack(
        [
            posterior["slope"].values.ravel(),
            *(intercepts[..., k].ravel() for k in range(intercepts.shape[-1])),
        ]
    )
    mean, cov = exact_posterior(linear_data)
    sd = np.sqrt(np.diag(cov))
    ess = result_list.diagnostics.table["ess_bulk"].to_numpy()
    # the means within 4 Monte Carlo standard errors, the spreads and correlations close
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4.0 * sd / np.sqrt(ess.min()))
    np.testing.assert_allclose(draws.std(axis=0), sd, rtol=0.1)
    exact_corr = cov / np.outer(sd, sd)
    np.testing.assert_allclose(np.corrcoef(draws.T), exact_corr, atol=0.08)
    assert within_sd(posterior["slope"], 2.0)
    assert result_list.diagnostics.ok


@pytest.mark.slow
def test_results_are_split_per_dataset_like_the_other_searches(cookbook_fit):
    idata = cookbook_fit.idata
    assert sorted(stack.group_names(idata)) == sorted(
        [
            "posterior",
            "log_likelihood",
            "sample_stats",
            "observed_data",
            "constant_data",
        ]
    )  # the order of the groups differs between ArviZ 0.x and 1
    posterior = stack.group(idata, "posterior")
    stats = stack.group(idata, "sample_stats")
    assert list(posterior.data_vars) == ["centre", "normalization", "sigma"]
    steps, burn_in, thin = int(stats["n_steps"]), int(stats["burn_in"]), int(stats["thin"])
    kept = len(range(burn_in + thin - 1, steps, thin))
    assert dict(posterior.sizes) == {"chain": 16, "draw": kept}
    assert all(posterior[name].dims == ("chain", "draw") for name in posterior.data_vars)
    assert list(stats.data_vars) == STATS
    assert stats["lp"].dims == ("chain", "draw")
    assert stats["acceptance_fraction"].dims == ("chain",)
    assert all(stats[name].dims == () for name in STATS[2:])
    assert 0.2 < float(stats["acceptance_fraction"].mean()) < 0.9
    tau = float(stats["autocorr_time"])
    assert burn_in == int(np.ceil(3.0 * tau)) and thin == int(tau / 2.0)
    assert steps >= 50 * tau
    assert stack.group(idata, "log_likelihood")["obs"].dims == ("chain", "draw", "dataset", "x")
    for result in cookbook_fit:
        view = result.idata
        assert sorted(stack.group_names(view)) == sorted(stack.group_names(idata))
        assert stack.group(view, "log_likelihood")["obs"].dims == ("chain", "draw", "x")
        assert stack.group(view, "log_likelihood")["obs"].shape == (16, kept, 100)
        assert stack.group(view, "observed_data")["obs"].shape == (100,)
    for name, truth in TRUTH_IDENTICAL.items():
        assert within_sd(posterior[name], truth)
    assert cookbook_fit.diagnostics.ok
    assert list(cookbook_fit.diagnostics.table.index) == ["centre", "normalization", "sigma"]
    assert cookbook_fit[0].loo().n_data_points == 100
    assert set(cookbook_fit.timings) >= {"build", "start", "sample", "postprocess", "total"}


@pytest.mark.slow
def test_a_named_fit_is_saved_and_loaded_again(cookbook_fit):
    folder = cookbook_fit.output_folder
    assert (folder / "search.json").is_file()
    settings = search_settings(gf.Emcee(nwalkers=16, nsteps=3000, random_seed=3, progressbar=False))
    assert settings == {
        "search": "Emcee",
        "change_threshold": 0.01,
        "check_for_convergence": True,
        "check_size": 100,
        "initializer": "ball",
        "nsteps": 3000,
        "nwalkers": 16,
        "random_seed": 3,
        "required_length": 50,
        "sampler_kwargs": {},
    }
    graph = identical_graph()
    with pytest.warns(ResumedFitWarning, match="loaded the finished fit"):
        again = gf.Emcee(
            nwalkers=16,
            nsteps=3000,
            random_seed=3,
            progressbar=False,
            name="emcee",
            output_path=folder.parents[1],
        ).fit(model=graph.global_prior_model, analysis=graph)
    assert again.resumed and again.output_folder == folder
    loaded, fitted = again.idata, cookbook_fit.idata
    np.testing.assert_array_equal(loaded.posterior["centre"], fitted.posterior["centre"])
    for name in STATS:
        np.testing.assert_array_equal(loaded.sample_stats[name], fitted.sample_stats[name])


@pytest.mark.slow
def test_the_same_seed_gives_the_same_draws(linear_data):
    graph = lg.graph(linear_data, shared_intercept=False)
    short = gf.AutoCorrelationsSettings(check_for_convergence=False)

    def fit(seed: int) -> gf.ResultList:
        search = gf.Emcee(
            nwalkers=8,
            nsteps=200,
            random_seed=seed,
            progressbar=False,
            auto_correlation_settings=short,
        )
        with pytest.warns(gf.ConvergenceWarning) as record:  # a short run, said so
            result_list = search.fit(model=graph.global_prior_model, analysis=graph)
        assert any("Emcee ran 200 steps, fewer than 50 " in str(w.message) for w in record)
        return result_list

    first, second, other = fit(5), fit(5), fit(6)
    assert int(first.idata.sample_stats["n_steps"]) == 200
    for name in ("slope", "intercept"):
        np.testing.assert_array_equal(first.idata.posterior[name], second.idata.posterior[name])
        assert not np.array_equal(first.idata.posterior[name], other.idata.posterior[name])
    np.testing.assert_array_equal(first.idata.sample_stats["lp"], second.idata.sample_stats["lp"])


@pytest.mark.slow
def test_an_assertion_truncates_the_posterior():
    """``a > b`` between two datasets' levels: ``a - b`` follows the normal it would follow
    without the assertion, truncated to ``a - b > 0``."""
    graph = two_levels(lambda a, b: a > b, truths=(0.1, 0.0))
    search = gf.Emcee(nwalkers=16, random_seed=1, progressbar=False)
    posterior = search.fit(model=graph.global_prior_model, analysis=graph).idata.posterior
    difference = (posterior["a"] - posterior["b"]).values.ravel()
    means = [float(f.analysis.data.mean()) for f in graph.factors]
    sd = np.sqrt(2.0) * NOISE / np.sqrt(N)
    truncated = stats.truncnorm(-(means[0] - means[1]) / sd, np.inf, means[0] - means[1], sd)
    assert difference.min() > 0
    assert abs(difference.mean() - truncated.mean()) < 4 * truncated.std() / np.sqrt(400)
    assert difference.std() == pytest.approx(truncated.std(), rel=0.1)
    # the assertion's gap variable has a flat prior, which has no draws to start walkers at
    with pytest.raises(
        gf.SearchError,
        match=r"^Emcee: InitializerPrior cannot draw from the model's prior: a variable has none "
        r"to draw from \(e.g. the flat gap of an assertion\); use the default InitializerBall\.$",
    ):
        gf.Emcee(nwalkers=16, initializer="prior", progressbar=False).fit(
            model=graph.global_prior_model, analysis=graph
        )


@pytest.mark.slow
def test_separated_modes_are_warned_about_and_the_walkers_start_in_one():
    search = gf.Emcee(nwalkers=8, nsteps=300, random_seed=2, progressbar=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = search.fit(centre_model(), TwoModes())
    (mode_warning,) = [w for w in caught if w.category is gf.MultimodalityWarning]
    assert str(mode_warning.message).startswith(
        "graphfit start search: the posterior has 2 separated modes of comparable probability: "
    )
    assert "All 8 Emcee walkers start in the first; emcee's moves seldom cross" in str(
        mode_warning.message
    )
    assert mode_warning.filename == __file__
    signs = np.sign(result.idata.posterior["centre"].values)
    assert np.all(signs == signs[0, 0])  # every walker stayed in its mode


def test_a_typo_fails_when_the_search_is_built():
    with pytest.raises(gf.SearchKeywordError) as raised:
        gf.Emcee(nwalker=30)
    assert str(raised.value) == (
        "Emcee got an unknown keyword 'nwalker'; did you mean 'nwalkers'? Emcee takes nwalkers, "
        "nsteps, random_seed, name, path_prefix, progressbar, initializer, "
        "auto_correlation_settings, output_path, unique_tag, plots, sampler_kwargs; and PyAutoFit's "
        f"bookkeeping keywords {PYAUTOFIT}. Options of the sampler itself go in "
        "sampler_kwargs={...}."
    )
    with pytest.raises(
        gf.SearchKeywordError,
        match=r"^Emcee got an unknown keyword 'auto_correlations_settings'; did you mean "
        r"'auto_correlation_settings'\? ",
    ):
        gf.Emcee(auto_correlations_settings=gf.AutoCorrelationsSettings())


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: gf.Emcee(nwalkers=1), "Emcee: nwalkers must be an integer >= 2, got 1."),
        (lambda: gf.Emcee(nsteps=0), "Emcee: nsteps must be an integer >= 1, got 0."),
        (lambda: gf.Emcee(nsteps=10.5), "Emcee: nsteps must be an integer >= 1, got 10.5."),
        (
            lambda: gf.Emcee(initializer="grid"),
            "Emcee: initializer must be 'ball', 'prior', gf.InitializerBall() or "
            "gf.InitializerPrior(), got 'grid'.",
        ),
        (
            lambda: gf.Emcee(auto_correlation_settings={"check_size": 10}),
            "Emcee: auto_correlation_settings must be a gf.AutoCorrelationsSettings or None, "
            "got {'check_size': 10}.",
        ),
        (
            lambda: gf.AutoCorrelationsSettings(check_size=0),
            "AutoCorrelationsSettings: check_size must be an integer >= 1, got 0.",
        ),
        (
            lambda: gf.AutoCorrelationsSettings(required_length=True),
            "AutoCorrelationsSettings: required_length must be an integer >= 1, got True.",
        ),
        (
            lambda: gf.AutoCorrelationsSettings(change_threshold=0.0),
            "AutoCorrelationsSettings: change_threshold must be > 0, got 0.0.",
        ),
        (
            lambda: gf.InitializerBall(lower_limit=0.6, upper_limit=0.4),
            "InitializerBall: the limits must satisfy 0 <= lower_limit < upper_limit <= 1, got "
            "lower_limit=0.6, upper_limit=0.4.",
        ),
        (
            lambda: gf.Emcee(sampler_kwargs=["moves"]),
            "Emcee: sampler_kwargs must be a dict of keyword arguments or None, got ['moves'].",
        ),
    ],
)
def test_bad_values_are_refused_when_built(build, message):
    with pytest.raises(gf.SearchError) as raised:
        build()
    assert str(raised.value) == message


def test_pyautofit_keywords_and_settings_objects():
    search = gf.Emcee(
        nwalkers=30,
        nsteps=1000,
        initializer=gf.InitializerBall(lower_limit=0.49, upper_limit=0.51),
        auto_correlation_settings=gf.AutoCorrelationsSettings(
            check_for_convergence=True, check_size=100, required_length=50, change_threshold=0.01
        ),
        number_of_cores=1,
        seed=4,
        silence=True,
    )
    assert (search.nwalkers, search.nsteps, search.initializer) == (30, 1000, "ball")
    assert search.random_seed == 4 and search.progressbar is False
    assert search.auto_correlation_settings == gf.AutoCorrelationsSettings()
    assert repr(search) == "Emcee(nwalkers=30, nsteps=1000, initializer='ball', random_seed=4)"
    with pytest.warns(gf.IgnoredKeywordWarning) as record:
        gf.Emcee(number_of_cores=4, iterations_per_update=500)
    assert [str(w.message) for w in record] == [
        "Emcee ignores PyAutoFit's number_of_cores=4: Emcee runs in one process; "
        "iterations_per_update=500: graphfit writes a fit's output folder once, when the fit "
        "has finished, and nothing while it runs."
    ]
    with pytest.warns(gf.IgnoredKeywordWarning) as record:
        gf.Emcee(initializer=gf.InitializerBall(lower_limit=0.4, upper_limit=0.6))
    assert str(record[0].message) == (
        "Emcee ignores the limits of PyAutoFit's InitializerBall(lower_limit=0.4, "
        "upper_limit=0.6): graphfit starts the walkers around the optimum its start search "
        "finds, each coordinate jittered by about one conditional posterior standard "
        "deviation, not around the priors' medians."
    )
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gf.Emcee(initializer=gf.InitializerPrior()).initializer == "prior"


def test_rhat_bound_grows_with_the_walkers():
    assert walkers_rhat_max(4) == 1.01  # graphfit's bound for NUTS's 4 chains
    assert walkers_rhat_max(16) == 1.039
    assert walkers_rhat_max(50) == 1.118


def test_too_few_walkers_for_the_free_parameters_are_refused_at_fit_time():
    # data of its own: a graph no other test compiles, so its cache starts empty
    model = gf.Model(gf.ex.Gaussian)
    analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=4321))
    graph = gf.FactorGraphModel(gf.AnalysisFactor(model, analysis))
    with pytest.raises(
        gf.SearchError,
        match=r"^Emcee: nwalkers=4 is fewer than twice the model's 3 free coordinates, and "
        r"emcee's stretch move needs at least twice as many walkers; use "
        r"gf.Emcee\(nwalkers=6\) or more\.$",
    ):
        gf.Emcee(nwalkers=4, progressbar=False).fit(model=graph.global_prior_model, analysis=graph)
    # refused before the start search compiled its functions (a few seconds)
    assert not [key for key in graph.compile().cache if key[0] == "start_finder"]


def test_without_emcee_the_error_names_the_extra(monkeypatch):
    search = gf.Emcee(progressbar=False)  # built without emcee: it is imported by a fit
    monkeypatch.setitem(sys.modules, "emcee", None)  # as if it were not installed
    graph = identical_graph()
    with pytest.raises(
        gf.SearchError, match=r"^Emcee needs the emcee package: pip install 'graphfit\[emcee\]'\.$"
    ):
        search.fit(model=graph.global_prior_model, analysis=graph)

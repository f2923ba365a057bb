"""Deferred pointwise log-likelihood (graphfit.backend.deferred): big fits compute it on first use.

The threshold is set small (monkeypatched) so small real fits take the deferred path; every
value is checked against the eager path of the same posterior.
"""

from __future__ import annotations

import copy
import pickle
import warnings

import arviz as az
import numpy as np
import pytest

import graphfit as gf
from graphfit.backend import deferred, stack
from graphfit.backend.deferred import deferred_source
from graphfit.results.elpd import dataset_log_likelihood, pointwise_log_likelihood
from graphfit.results.result_list import ResultList
from graphfit.search.base import finish_idata
from tests.conftest import TRUTH_IDENTICAL, identical_analyses, identical_graph, search

NEVER = 10**18  # a threshold no test fit reaches: the eager path


def refinished(result_list: ResultList, threshold: int) -> ResultList:
    """The same fit with its log-likelihood made again by ``finish_idata`` (deferred when it
    holds more than ``threshold`` values)."""
    source = result_list.idata
    idata = stack.make_idata(
        posterior=stack.group(source, "posterior"),
        sample_stats=stack.group(source, "sample_stats"),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deferred, "DEFER_LOG_LIKELIHOOD_SIZE", threshold)
        idata = finish_idata(idata, result_list.compiled)
    return ResultList(result_list.graph, result_list.compiled, idata, result_list.diagnostics)


def map_fit(threshold: int, graph: gf.FactorGraphModel | None = None, **kwargs) -> ResultList:
    graph = identical_graph() if graph is None else graph
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deferred, "DEFER_LOG_LIKELIHOOD_SIZE", threshold)
        return gf.MAP(random_seed=1, **kwargs).fit(model=graph.global_prior_model, analysis=graph)


def source_of(result_list: ResultList, name: str = "obs") -> deferred.DeferredLogLikelihood:
    source = deferred_source(result_list.idata.log_likelihood[name])
    assert source is not None
    return source


def assert_same_log_likelihood(lazy: az.InferenceData, eager: az.InferenceData) -> None:
    """Same variables, dims, coords, dtype and shapes, and values to 1e-12."""
    lazy_group, eager_group = lazy.log_likelihood, eager.log_likelihood
    assert list(lazy_group.data_vars) == list(eager_group.data_vars)
    assert dict(lazy_group.sizes) == dict(eager_group.sizes)
    assert sorted(lazy_group.attrs) == sorted(eager_group.attrs)
    for name in eager_group.data_vars:
        a, b = lazy_group[name], eager_group[name]
        assert a.dims == b.dims and a.shape == b.shape
        assert a.dtype == b.dtype == np.float64
        assert list(a.coords) == list(b.coords)
        for coord in b.coords:
            np.testing.assert_array_equal(a[coord].values, b[coord].values)
        np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def lazy_and_eager(small_identical_fit):
    """The session's short NUTS fit (log-likelihood from pm.sample) and the same posterior with a
    deferred log-likelihood."""
    return refinished(small_identical_fit, 0), small_identical_fit


def test_deferred_equals_eager_joint_and_per_dataset(lazy_and_eager):
    lazy, eager = lazy_and_eager
    assert deferred_source(eager.idata.log_likelihood["obs"]) is None
    assert source_of(lazy).computations == 0
    assert_same_log_likelihood(lazy.idata, eager.idata)
    for lazy_result, eager_result in zip(lazy, eager, strict=True):
        assert_same_log_likelihood(lazy_result.idata, eager_result.idata)
    # the eager path of finish_idata gives the same too
    assert_same_log_likelihood(refinished(eager, NEVER).idata, eager.idata)
    assert source_of(lazy).computations == 1


def test_fitting_and_splitting_do_not_compute_and_reads_compute_once():
    result_list = map_fit(0)
    source = source_of(result_list)
    assert source.computations == 0 and not source.computed
    for result in result_list:
        idata = result.idata
        assert set(stack.group_names(idata)) >= {"posterior", "log_likelihood", "observed_data"}
        # the shared centre, fitted to the three datasets simulated at 50
        assert idata.posterior["centre"].item() == pytest.approx(TRUTH_IDENTICAL["centre"], abs=1.0)
        assert idata.log_likelihood["obs"].dims == ("chain", "draw", "x")
        assert deferred_source(idata.log_likelihood["obs"]) is source  # a lazy view
        repr(idata.log_likelihood)
    repr(result_list.idata)
    predictive = result_list[0].posterior_predictive()
    assert predictive.posterior_predictive["obs"].dims == ("chain", "draw", "x")
    assert deferred_source(predictive.log_likelihood["obs"]) is source
    assert copy.copy(source) is source and copy.deepcopy(source) is source
    assert source.computations == 0

    eager = map_fit(NEVER)
    for _ in range(3):
        for result, eager_result in zip(result_list, eager, strict=True):
            np.testing.assert_array_equal(
                result.idata.log_likelihood["obs"].values,
                eager_result.idata.log_likelihood["obs"].values,
            )
        np.testing.assert_array_equal(
            result_list.joint_log_likelihood().values, eager.joint_log_likelihood().values
        )
    assert source.computations == 1
    assert source._compute is None  # the model and posterior it held are let go
    # the cache is shared by every view: it is read-only
    values = result_list[0].idata.log_likelihood["obs"].values
    with pytest.raises(ValueError, match="read-only"):
        values[0, 0, 0] = 0.0
    assert values.copy().flags.writeable


def test_threshold_is_the_number_of_values():
    """3 datasets x 100 points x 1 chain x 1 draw = 300 values: deferred above 299 only."""
    at = map_fit(300)
    data = at.idata.log_likelihood["obs"].variable._data
    assert isinstance(data, np.ndarray) and data.flags.writeable
    assert deferred_source(at.idata.log_likelihood["obs"]) is None
    assert deferred_source(at[0].idata.log_likelihood["obs"]) is None
    above = map_fit(299)
    assert source_of(above).computations == 0


def test_default_threshold_keeps_small_fits_eager(small_identical_fit):
    assert deferred.DEFER_LOG_LIKELIHOOD_SIZE == 100_000_000
    graph = identical_graph()
    result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    for idata in (
        result_list.idata,
        result_list[0].idata,
        refinished(small_identical_fit, NEVER).idata,
    ):
        assert deferred_source(idata.log_likelihood["obs"]) is None
    assert isinstance(result_list.idata.log_likelihood["obs"].variable._data, np.ndarray)


def test_arviz_and_comparison_functions_give_the_eager_numbers(lazy_and_eager):
    lazy, eager = refinished(lazy_and_eager[1], 0), lazy_and_eager[1]
    source = source_of(lazy)
    for lazy_result, eager_result in zip(lazy, eager, strict=True):
        a, b = az.loo(lazy_result.idata, pointwise=True), az.loo(eager_result.idata, pointwise=True)
        assert stack.elpd_total(a) == pytest.approx(stack.elpd_total(b), abs=1e-9)
        np.testing.assert_allclose(a.pareto_k.values, b.pareto_k.values, atol=1e-9)
        if not stack.ARVIZ_1:  # ArviZ 1 has no WAIC
            assert stack.elpd_total(lazy_result.waic()) == pytest.approx(
                stack.elpd_total(eager_result.waic()), abs=1e-9
            )
        assert lazy_result.max_log_likelihood_instance.centre == (
            eager_result.max_log_likelihood_instance.centre
        )
    if not stack.ARVIZ_1:
        assert stack.elpd_total(az.waic(lazy.idata)) == pytest.approx(
            stack.elpd_total(az.waic(eager.idata)), abs=1e-9
        )
    assert lazy.max_log_likelihood_index == eager.max_log_likelihood_index
    np.testing.assert_allclose(
        pointwise_log_likelihood(lazy).values, pointwise_log_likelihood(eager).values, atol=1e-12
    )
    np.testing.assert_allclose(
        dataset_log_likelihood(lazy).values, dataset_log_likelihood(eager).values, atol=1e-12
    )
    assert stack.elpd_total(lazy.loo()) == pytest.approx(stack.elpd_total(eager.loo()), abs=1e-9)
    lodo_lazy = lazy.leave_one_dataset_out(warn=False)
    lodo_eager = eager.leave_one_dataset_out(warn=False)
    np.testing.assert_allclose(lodo_lazy["elpd_loo"], lodo_eager["elpd_loo"], atol=1e-9)
    table = gf.compare({"lazy": lazy, "eager": eager}).to_frame()
    elpd, _ = stack.compare_columns("loo")
    for dataset in ["(joint)", *lazy.names]:
        assert table.loc[(dataset, "lazy"), elpd] == pytest.approx(
            table.loc[(dataset, "eager"), elpd], abs=1e-9
        )
    assert source.computations == 1


def test_copy_shares_and_pickle_computes_once(lazy_and_eager):
    lazy, eager = refinished(lazy_and_eager[1], 0), lazy_and_eager[1]
    source = source_of(lazy)
    copied = lazy.idata.copy()
    deep = copy.deepcopy(lazy[1].idata)
    assert deferred_source(copied.log_likelihood["obs"]) is source
    assert source.computations == 0
    restored = pickle.loads(pickle.dumps(lazy.idata))
    assert source.computations == 1
    assert_same_log_likelihood(restored, eager.idata)
    assert_same_log_likelihood(copied, eager.idata)
    np.testing.assert_array_equal(
        deep.log_likelihood["obs"].values, eager[1].idata.log_likelihood["obs"].values
    )
    # a computed source pickles its arrays; the copy in the new object is its own
    again = pickle.loads(pickle.dumps(lazy[2].idata))
    np.testing.assert_array_equal(
        again.log_likelihood["obs"].values, eager[2].idata.log_likelihood["obs"].values
    )
    assert source.computations == 1


def test_saving_writes_the_values_and_loading_reads_them(tmp_path):
    saved = map_fit(0, name="deferred", output_path=tmp_path)
    eager = map_fit(NEVER)
    assert source_of(saved).computations == 1  # computed once, for the NetCDF files
    loaded = gf.load_result(saved.output_folder)
    assert_same_log_likelihood(loaded.idata, eager.idata)
    for loaded_result, eager_result in zip(loaded, eager, strict=True):
        assert_same_log_likelihood(loaded_result.idata, eager_result.idata)
    np.testing.assert_array_equal(
        loaded.joint_log_likelihood().values, eager.joint_log_likelihood().values
    )


class _Custom(gf.Analysis):
    """A custom log-likelihood: a potential, whose pointwise values the sampler records."""

    def __init__(self, data, noise_map):
        self.data, self.noise_map = data, noise_map

    def log_likelihood_function(self, instance, xp):
        model = gf.ex.Analysis(self.data, self.noise_map).model_data_from(instance, xp)
        return -0.5 * ((self.data - model) / self.noise_map) ** 2


def mixed_graph() -> gf.FactorGraphModel:
    """Two observed nodes (not vectorised) and one custom log-likelihood."""
    analyses = identical_analyses()
    model = gf.Model(gf.ex.Gaussian)
    return gf.FactorGraphModel(
        gf.AnalysisFactor(model, analyses[0]),
        gf.AnalysisFactor(model, analyses[1]),
        gf.AnalysisFactor(model, _Custom(analyses[2].data, analyses[2].noise_map)),
        vectorize=False,
    )


def test_separate_nodes_compute_together_and_custom_likelihoods_stay_eager():
    # both fits of one graph, which compiles once (a custom likelihood shares no structure, so
    # a graph built again would compile the whole model again)
    graph = mixed_graph()
    lazy, eager = map_fit(0, graph), map_fit(NEVER, graph)
    names = list(eager.idata.log_likelihood.data_vars)
    assert len(names) == 3
    custom = [n for n in names if deferred_source(lazy.idata.log_likelihood[n]) is None]
    assert len(custom) == 1 and custom[0] == lazy.compiled.nodes[2].loglike_name
    sources = {id(source_of(lazy, n)) for n in names if n not in custom}
    assert len(sources) == 1
    source = source_of(lazy, names[0] if names[0] not in custom else names[1])
    assert source.computations == 0
    assert_same_log_likelihood(lazy.idata, eager.idata)
    for lazy_result, eager_result in zip(lazy, eager, strict=True):
        assert_same_log_likelihood(lazy_result.idata, eager_result.idata)
    assert source.computations == 1


def test_fit_each_keeps_each_fits_data(monkeypatch):
    """fit_each swaps the shared model's data between fits: a log-likelihood read after all
    fits still uses its own dataset's data."""
    from graphfit.batch.fit_each import clear_cache

    model = gf.Model(gf.ex.Gaussian)
    factors = [
        gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(sigma=s, seed=s)))
        for s in (5, 10, 20)
    ]
    clear_cache()
    eager = gf.fit_each(factors, gf.MAP(random_seed=1), progressbar=False)
    monkeypatch.setattr(deferred, "DEFER_LOG_LIKELIHOOD_SIZE", 0)
    # the structure compiled for the eager fits is reused (not compiled again): its data are
    # the last eager fit's when the lazy fits start swapping theirs in
    lazy = gf.fit_each(factors, gf.MAP(random_seed=1), progressbar=False)
    sources = [deferred_source(r.idata.log_likelihood["obs"]) for r in lazy]
    assert all(s is not None and s.computations == 0 for s in sources)
    for lazy_result, eager_result in zip(lazy, eager, strict=True):
        assert_same_log_likelihood(lazy_result.idata, eager_result.idata)
    assert [s.computations for s in sources] == [1, 1, 1]


# slow: nutpie's numba compile (5 s warm, 40 s cold); the fast tier defers through MAP fits here
# and fits with nutpie in tests/test_searches.py
@pytest.mark.slow
def test_nutpie_fit_defers_and_matches_the_eager_fit(monkeypatch):
    """End to end with nutpie, whose draws get their log-likelihood from finish_idata."""
    pytest.importorskip("nutpie")
    short = {"sampler": "nutpie", "draws": 100, "tune": 100, "chains": 2}
    with warnings.catch_warnings():  # a short run: its low ESS is said, and not what is tested
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        graph = identical_graph()
        eager = search(**short).fit(model=graph.global_prior_model, analysis=graph)
        monkeypatch.setattr(deferred, "DEFER_LOG_LIKELIHOOD_SIZE", 0)
        graph = identical_graph()
        lazy = search(**short).fit(model=graph.global_prior_model, analysis=graph)
    source = source_of(lazy)
    assert source.computations == 0
    np.testing.assert_array_equal(
        lazy.idata.posterior["centre"].values, eager.idata.posterior["centre"].values
    )
    assert_same_log_likelihood(lazy.idata, eager.idata)
    for lazy_result, eager_result in zip(lazy, eager, strict=True):
        assert_same_log_likelihood(lazy_result.idata, eager_result.idata)
    assert source.computations == 1

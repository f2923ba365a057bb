"""Exact structure of the per-dataset results and their use with ArviZ."""

import arviz as az
import numpy as np
import pytest
import xarray as xr

import graphfit as gf
from graphfit.backend import stack
from tests.conftest import identical_analyses, relational_analyses

pytestmark = pytest.mark.slow


def test_result_list_is_a_sequence_in_factor_order(identical_fit):
    assert len(identical_fit) == 3
    assert [r.name for r in identical_fit] == ["dataset_0", "dataset_1", "dataset_2"]
    assert identical_fit["dataset_1"] is identical_fit[1]
    with pytest.raises(
        KeyError, match="no dataset named 'nope'; datasets: dataset_0, dataset_1, dataset_2"
    ):
        identical_fit["nope"]


def test_per_dataset_idata_structure(identical_fit):
    analyses = identical_analyses()
    for result, analysis in zip(identical_fit, analyses, strict=True):
        idata = result.idata
        assert isinstance(idata, type(stack.make_idata()))
        assert set(stack.group_names(idata)) == {
            "posterior",
            "log_likelihood",
            "observed_data",
            "constant_data",
            "sample_stats",
        }
        assert sorted(idata.posterior.data_vars) == ["centre", "normalization", "sigma"]
        assert all(idata.posterior[v].dims == ("chain", "draw") for v in idata.posterior.data_vars)
        assert list(idata.log_likelihood.data_vars) == ["obs"]
        assert idata.log_likelihood["obs"].dims == ("chain", "draw", "x")
        assert idata.log_likelihood["obs"].shape == (4, 1000, 100)
        assert list(idata.observed_data.data_vars) == ["obs"]
        np.testing.assert_array_equal(idata.observed_data["obs"].values, analysis.data)
        np.testing.assert_array_equal(idata.observed_data["x"].values, analysis.xvalues)
        assert list(idata.constant_data.data_vars) == ["noise_map"]
        np.testing.assert_array_equal(idata.constant_data["noise_map"].values, analysis.noise_map)
        assert "dataset" not in idata.posterior.dims


def test_per_dataset_log_likelihood_is_its_own(identical_fit):
    joint = identical_fit.idata.log_likelihood
    assert joint["obs"].dims == ("chain", "draw", "dataset", "x")  # one vectorised node
    for result in identical_fit:
        np.testing.assert_array_equal(
            result.idata.log_likelihood["obs"].values,
            joint["obs"].sel(dataset=result.name).values,
        )
    a = identical_fit[0].idata.log_likelihood["obs"].values
    b = identical_fit[1].idata.log_likelihood["obs"].values
    assert not np.array_equal(a, b)


def test_joint_idata_has_dataset_dims(variable_fit):
    posterior = variable_fit.idata.posterior
    assert posterior["normalization"].dims == ("chain", "draw", "dataset")
    assert list(posterior["dataset"].values) == ["dataset_0", "dataset_1", "dataset_2"]
    assert posterior["centre"].dims == ("chain", "draw")
    for k, result in enumerate(variable_fit):
        np.testing.assert_array_equal(
            result.idata.posterior["sigma"].values, posterior["sigma"].isel(dataset=k).values
        )


def test_relational_result_names_follow_the_dataset_model(relational_fit):
    for result, analysis in zip(relational_fit, relational_analyses(), strict=True):
        assert sorted(result.idata.posterior.data_vars) == [
            "gaussian.centre",
            "gaussian.normalization",
            "gaussian.sigma",
            "sigma_c",
            "sigma_m",
        ]
        np.testing.assert_array_equal(result.idata.observed_data["obs"].values, analysis.data)


def test_arviz_functions_work_on_each_result(variable_fit):
    import matplotlib.pyplot as plt

    result = variable_fit[1]
    summary = az.summary(result.idata)
    assert list(summary.index) == ["centre", "normalization", "sigma"]  # model order
    assert summary.loc["sigma", "r_hat"] <= 1.01
    loo = az.loo(result.idata)
    assert np.isfinite(stack.elpd_total(loo))
    # elpd is a sum over this dataset's 100 points only
    assert loo.n_data_points == 100
    if stack.ARVIZ_1:  # arviz-plots: a trace and a density per variable, then one density each
        assert len(stack.figure_of(az.plot_trace_dist(result.idata)).axes) == 6
        assert len(stack.figure_of(az.plot_dist(result.idata)).axes) == 3
    else:
        axes = az.plot_trace(result.idata)
        assert axes.shape == (3, 2)
        axes = az.plot_posterior(result.idata)
        assert len(np.ravel(axes)) == 3
    plt.close("all")
    assert result.summary().shape[0] == 3


def test_instances_hold_floats_and_compute(variable_fit):
    x = np.arange(100.0)
    for result in variable_fit:
        for instance in (
            result.max_log_likelihood_instance,
            result.max_log_posterior_instance,
            result.median_pdf_instance,
        ):
            assert isinstance(instance, gf.ex.Gaussian)
            assert all(
                isinstance(v, float)
                for v in (instance.centre, instance.normalization, instance.sigma)
            )
            model_data = instance.model_data_from(x)
            residual = (result.analysis.data - model_data) / result.analysis.noise_map
            assert np.std(residual) == pytest.approx(1.0, abs=0.3)


def test_max_log_likelihood_is_the_best_sample(variable_fit):
    total = variable_fit.joint_log_likelihood()
    chain, draw = variable_fit.max_log_likelihood_index
    assert float(total.isel(chain=chain, draw=draw)) == pytest.approx(float(total.max()))


def test_to_datatree(variable_fit):
    tree = variable_fit.to_datatree()
    assert isinstance(tree, xr.DataTree)
    assert list(tree.children) == ["dataset_0", "dataset_1", "dataset_2"]
    assert set(tree["dataset_2"].children) == {
        "posterior",
        "log_likelihood",
        "observed_data",
        "constant_data",
        "sample_stats",
    }
    np.testing.assert_array_equal(
        tree["dataset_2/posterior/sigma"].values, variable_fit[2].idata.posterior["sigma"].values
    )


def test_views_are_not_copies(variable_fit):
    joint = variable_fit.idata.posterior["centre"].values
    view = variable_fit[0].idata.posterior["centre"].values
    assert np.shares_memory(joint, view)


def test_split_is_the_same_whichever_way_the_model_was_compiled(identical_fit):
    from tests.conftest import identical_graph, search

    graph = identical_graph()
    graph.vectorize = False
    unvectorised = search().fit(model=graph.global_prior_model, analysis=graph)
    assert [rv.name for rv in unvectorised.model.observed_RVs] == [
        "dataset_0.obs",
        "dataset_1.obs",
        "dataset_2.obs",
    ]
    for a, b in zip(identical_fit, unvectorised, strict=True):
        assert set(stack.group_names(a.idata)) == set(stack.group_names(b.idata))
        for group in ("posterior", "log_likelihood", "observed_data"):
            assert list(a.idata[group].data_vars) == list(b.idata[group].data_vars)
            for name in a.idata[group].data_vars:
                assert a.idata[group][name].dims == b.idata[group][name].dims
                assert a.idata[group][name].shape == b.idata[group][name].shape
        np.testing.assert_array_equal(a.idata.observed_data["obs"], b.idata.observed_data["obs"])
        # same posterior within Monte Carlo error
        for name in ("centre", "normalization", "sigma"):
            x, y = a.idata.posterior[name], b.idata.posterior[name]
            assert abs(float(x.mean()) - float(y.mean())) < 0.2 * float(x.std())


def test_one_result_type_subclasses_only_add():
    """``IndependentResultList`` and ``LoadedResultList`` are ``ResultList`` without some joint
    parts: they override nothing of the base but their constructor and reprs (what needs a
    missing part raises through ``ResultList.require``), and their entries are plain
    ``Result`` objects or failures."""
    allowed = {"__init__", "__repr__", "_repr_html_", "__doc__", "__module__"}
    allowed |= {"__abstractmethods__", "_abc_impl"}
    for kind in (gf.IndependentResultList, gf.LoadedResultList):
        overridden = sorted((set(vars(kind)) & set(vars(gf.ResultList))) - allowed)
        assert overridden == [], (kind.__name__, overridden)
    assert gf.Result.__subclasses__() == []


def test_a_result_list_without_joint_parts_says_why():
    missing = lambda what: gf.IndependentFitsError(f"{what}: no joint fit here")  # noqa: E731
    result_list = gf.ResultList(None, None, None, names=["a", "b"], entries=[], missing=missing)
    for call, what in (
        (lambda: result_list.model, "model"),
        (lambda: result_list.joint_log_likelihood(), "joint_log_likelihood"),
        (lambda: result_list.max_log_posterior_index, "max_log_posterior_index"),
        (lambda: result_list.log_evidence, "log_evidence"),
    ):
        with pytest.raises(gf.IndependentFitsError, match=f"^{what}: no joint fit here$"):
            call()
    assert result_list.populations == {} and result_list.failed == []
    with pytest.raises(TypeError, match="a list without a joint part needs missing="):
        gf.ResultList(None, None, None, names=["a"])

"""Model comparison: LOO/WAIC per dataset and jointly, leave-one-dataset-out, gf.compare."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest
import xarray as xr

import graphfit as gf
from graphfit.backend import stack
from tests import linear_gaussian as lg
from tests.conftest import identical_analyses, search


@pytest.fixture(scope="module")
def linear_fit() -> tuple[gf.ResultList, list[np.ndarray]]:
    """Three datasets sharing slope and intercept (closed-form leave-one-dataset-out)."""
    ys = lg.simulate([0.5, 0.5, 0.5], seed=3)
    graph = lg.graph(ys, shared_intercept=True)
    return search(draws=1000, tune=1000, chains=4).fit(
        model=graph.global_prior_model, analysis=graph
    ), ys


def test_result_loo_is_az_loo_of_its_slice_of_the_joint_node(small_identical_fit):
    joint = stack.group(small_identical_fit.idata, "log_likelihood")
    for result in small_identical_fit:
        own = stack.make_idata(
            posterior=stack.group(result.idata, "posterior"),
            log_likelihood=joint[["obs"]].sel(dataset=result.name),
        )
        direct = az.loo(own, var_name="obs")
        ours = result.loo()
        assert stack.elpd_total(ours) == pytest.approx(stack.elpd_total(direct), rel=1e-12)
        assert ours.se == pytest.approx(direct.se, rel=1e-12)
        assert ours.n_data_points == 100
        if stack.ARVIZ_1:  # ArviZ 1 has no WAIC
            with pytest.raises(gf.ComparisonError, match="WAIC is not part of ArviZ 1"):
                result.waic()
            continue
        direct_waic = az.waic(own, var_name="obs", pointwise=True)
        assert stack.elpd_total(result.waic()) == pytest.approx(
            stack.elpd_total(direct_waic), rel=1e-12
        )


def test_joint_loo_uses_every_point_of_every_dataset(small_identical_fit):
    # the identical fit is one vectorised node over all 300 points: az.loo on it is the joint
    direct = az.loo(small_identical_fit.idata, var_name="obs", pointwise=True)
    ours = small_identical_fit.loo(pointwise=True)
    assert ours.n_data_points == 300
    assert stack.elpd_total(ours) == pytest.approx(stack.elpd_total(direct), rel=1e-12)
    np.testing.assert_allclose(
        np.sort(ours.pareto_k.values), np.sort(direct.pareto_k.values.ravel()), rtol=1e-10
    )
    points = stack.elpd_pointwise(ours)["point"].values
    assert list(points[:2]) == ["dataset_0[0]", "dataset_0[1]"]
    # per-dataset LOO values add up to the joint one
    assert sum(stack.elpd_total(r.loo()) for r in small_identical_fit) == pytest.approx(
        stack.elpd_total(ours), abs=0.5
    )
    if not stack.ARVIZ_1:  # ArviZ 1 has no WAIC
        assert stack.elpd_total(small_identical_fit.waic()) == pytest.approx(
            stack.elpd_total(az.waic(small_identical_fit.idata, var_name="obs", pointwise=True)),
            rel=1e-12,
        )


def check_leave_one_dataset_out_is_psis(result_list: gf.ResultList, **kwargs):
    """``leave_one_dataset_out()``'s table is ArviZ's PSIS-LOO of each dataset's summed
    log-likelihood; returns the table."""
    summed = stack.group(result_list.idata, "log_likelihood")["obs"].sum("x")
    direct = az.loo(
        stack.make_idata(
            posterior=stack.group(result_list.idata, "posterior"),
            log_likelihood=xr.Dataset({"summed": summed}),
        ),
        var_name="summed",
        pointwise=True,
    )
    table = result_list.leave_one_dataset_out(**kwargs)
    assert list(table.index) == ["dataset_0", "dataset_1", "dataset_2"]
    assert list(table.columns) == ["elpd_loo", "p_loo", "pareto_k", "reliable"]
    np.testing.assert_allclose(table["elpd_loo"], stack.elpd_pointwise(direct), rtol=1e-12)
    np.testing.assert_allclose(table["pareto_k"], direct.pareto_k.values, rtol=1e-12)
    return table


def test_leave_one_dataset_out_table_is_psis_of_each_datasets_summed_log_likelihood(
    small_identical_fit,
):
    # the short fit: the same computation; whether its Pareto k are reliable (400 draws) is
    # not the point here, so graphfit's warning about them is turned off, and ArviZ's (whose
    # threshold is lower for fewer draws: 0.62 for 400 on ArviZ 1) is ignored
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = check_leave_one_dataset_out_is_psis(small_identical_fit, warn=False)
    assert table["reliable"].dtype == bool


@pytest.mark.slow  # reliable Pareto k for a whole dataset left out need the full fit's draws
def test_leave_one_dataset_out_is_psis_on_summed_log_likelihood(identical_fit):
    # the full fit: leaving out a whole dataset needs its 4000 draws for reliable Pareto k
    table = check_leave_one_dataset_out_is_psis(identical_fit)
    assert table["reliable"].all()


@pytest.mark.slow
def test_leave_one_dataset_out_matches_closed_form(linear_fit):
    """log p(y_d | y_-d) = log Z(all) - log Z(all but d) for the Gaussian-linear model."""
    result_list, ys = linear_fit
    table = result_list.leave_one_dataset_out()
    full = lg.log_evidence(ys, shared_intercept=True)
    for k, name in enumerate(result_list.names):
        rest = [y for j, y in enumerate(ys) if j != k]
        exact = full - lg.log_evidence(rest, shared_intercept=True)
        assert table.loc[name, "elpd_loo"] == pytest.approx(exact, abs=0.15)
        assert table.loc[name, "pareto_k"] < 0.7


@pytest.mark.slow
def test_compare_prefers_the_true_model():
    """Datasets with different intercepts: per-dataset intercepts (true) beat a shared one."""
    ys = lg.simulate([0.5, -0.5, 1.0], seed=4)
    fits = {}
    for label, shared in (("shared intercept", True), ("own intercepts", False)):
        graph = lg.graph(ys, shared_intercept=shared)
        fits[label] = search(draws=1000, tune=1000, chains=4).fit(
            model=graph.global_prior_model, analysis=graph
        )
    import warnings

    with warnings.catch_warnings():
        # the wrong model misfits every point: ArviZ warns about its Pareto k, which is the point
        warnings.simplefilter("ignore", UserWarning)
        comparison = gf.compare(fits)
        waic = None if stack.ARVIZ_1 else gf.compare(fits, ic="waic")  # ArviZ 1: no WAIC
    assert comparison.best == "own intercepts"
    joint = comparison.joint
    assert list(joint.index) == ["own intercepts", "shared intercept"]
    elpd, p = stack.compare_columns("loo")
    assert {"rank", elpd, p, "elpd_diff", "dse", "weight"} <= set(joint.columns)
    # ArviZ 0.x gives the worse model's elpd_diff as a positive number, ArviZ 1 as a negative one
    difference = abs(joint.loc["shared intercept", "elpd_diff"])
    assert difference > 3 * joint.loc["shared intercept", "dse"]
    assert joint.loc["own intercepts", elpd] == pytest.approx(
        stack.elpd_total(fits["own intercepts"].loo())
    )
    for name in ("dataset_0", "dataset_1", "dataset_2"):
        assert comparison[name].index[0] == "own intercepts"
        assert comparison[name].loc["own intercepts", elpd] == pytest.approx(
            stack.elpd_total(fits["own intercepts"][name].loo())
        )
    assert comparison.leave_one_dataset_out.index[0] == "own intercepts"
    frame = comparison.to_frame()
    assert frame.index.names == ["dataset", "model"]
    assert list(frame.index.get_level_values("dataset").unique()) == [
        "(joint)",
        "dataset_0",
        "dataset_1",
        "dataset_2",
    ]
    assert comparison["(joint)"] is comparison.joint
    import matplotlib.pyplot as plt

    figure = comparison.plot()  # the best model's label comes first on both stacks
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels[0] == "own intercepts" and "shared intercept" in labels
    plt.close(figure)
    if not stack.ARVIZ_1:  # ArviZ 1 has no WAIC
        assert waic.best == "own intercepts" and waic.leave_one_dataset_out is None


def test_compare_names_the_datasets_that_differ(small_identical_fit):
    analyses = identical_analyses()[:2]
    model = gf.Model(gf.ex.Gaussian)
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(model, analyses[0], name="dataset_0"),
        gf.AnalysisFactor(model, analyses[1], name="other"),
    )
    other = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    with pytest.raises(
        gf.ComparisonError,
        match=r"models 'A' and 'B' were fitted to different datasets: 'dataset_1', 'dataset_2' "
        r"only in 'A'; 'other' only in 'B'\.",
    ):
        gf.compare({"A": small_identical_fit, "B": other})
    with pytest.raises(
        gf.ComparisonError, match="needs posterior samples, but the fit holds 1 draw"
    ):
        other.loo()
    single = gf.MAP(random_seed=1).fit(model=gf.Model(gf.ex.Gaussian), analysis=analyses[0])
    with pytest.raises(
        gf.ComparisonError,
        match=r"leave_one_dataset_out: needs a joint fit of at least two datasets, got 1 "
        r"\(dataset_0\); use loo\(\) for one dataset\.",
    ):
        single.result_list.leave_one_dataset_out()
    with pytest.raises(gf.ComparisonError, match=r"needs at least two fits to compare, got 1"):
        gf.compare({"A": small_identical_fit})
    with pytest.raises(gf.ComparisonError, match=r"ic must be 'loo' or 'waic', got 'bic'"):
        gf.compare({"A": small_identical_fit, "B": small_identical_fit}, ic="bic")
    with pytest.raises(
        gf.ComparisonError, match=r"one dataset \('dataset_0'\) of a joint fit of 3"
    ):
        gf.compare({"A": small_identical_fit[0], "B": small_identical_fit})


def test_a_dataset_that_moves_the_posterior_warns_by_name():
    """A dataset far from the others (centre 60 where two say 50, each pinning the shared
    centre to a fraction of a pixel): leaving it out moves the posterior beyond what importance
    sampling can reweight, so its Pareto k is high and the warning names it."""
    model = gf.Model(gf.ex.Gaussian, normalization=25.0, sigma=10.0)
    model.centre = gf.UniformPrior(0.0, 100.0)
    analyses = [
        gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(centre=centre, seed=k))
        for k, centre in enumerate([50.0, 50.0, 60.0])
    ]
    graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
    with warnings.catch_warnings():  # 200 draws: ESS is not the point here
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        result_list = search(draws=200, tune=200, chains=2, cores=1).fit(
            model=graph.global_prior_model, analysis=graph
        )
    with pytest.warns(
        gf.DatasetInfluenceWarning, match=r"Pareto k > 0\.\d+ for dataset\(s\)"
    ) as record:
        table = result_list.leave_one_dataset_out()
    (message,) = [str(w.message) for w in record]
    assert "dataset_2" in message and "refit without that dataset" in message
    assert not table.loc["dataset_2", "reliable"] and table.loc["dataset_2", "pareto_k"] > 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result_list.leave_one_dataset_out(warn=False)  # asked not to: silent

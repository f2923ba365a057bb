"""One label per value across datasets (graphfit.plan.labels): ArviZ's own."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import graphfit as gf
from graphfit.backend import stack
from graphfit.io.summaries import parameter_table
from graphfit.plan.labels import (
    element_labels,
    legacy_label,
    parameter_label,
    variable_dataset,
    with_dataset,
)
from graphfit.plan.naming import VarRef


def posterior() -> xr.Dataset:
    rng = np.random.default_rng(0)
    return xr.Dataset(
        {
            "c": (("chain", "draw"), rng.normal(size=(2, 50))),
            "g.s": (("chain", "draw", "dataset"), rng.normal(size=(2, 50, 2))),
            "x": (("chain", "draw", "dataset", "k"), rng.normal(size=(2, 50, 2, 2))),
            "t 1.n": (("chain", "draw"), rng.normal(size=(2, 50))),
        },
        coords={"dataset": ["dataset_0", "t 1"], "k": ["a", "b"]},
    )


def test_labels_are_those_of_arviz_summary_on_this_stack():
    idata = stack.make_idata(posterior=posterior())
    arviz = list(stack.summary(idata).index)
    assert arviz == [
        "c", "g.s[dataset_0]", "g.s[t 1]", "x[dataset_0, a]", "x[dataset_0, b]", "x[t 1, a]",
        "x[t 1, b]", "t 1.n",
    ]  # fmt: skip
    ours = [
        label for name in posterior().data_vars for *_, label in element_labels(posterior()[name])
    ]
    assert ours == arviz
    table = parameter_table(idata)
    assert list(table.index) == arviz
    assert list(table["dataset"].fillna("")) == [
        "",
        "dataset_0",
        "t 1",
        "dataset_0",
        "dataset_0",
        "t 1",
        "t 1",
        "t 1",
    ]
    assert list(table["element"]) == ["", "", "", "a", "b", "a", "b", ""]


def test_label_functions():
    assert parameter_label("gaussian.sigma", "t0") == "gaussian.sigma[t0]"
    assert parameter_label("x", "dataset_0", np.int64(1)) == "x[dataset_0, 1]"
    assert VarRef("sigma", "dataset_0").label == "sigma[dataset_0]"
    assert VarRef("centre").label == "centre"
    assert with_dataset("gaussian.sigma", "t0") == "gaussian.sigma[t0]"
    assert with_dataset("x[a, 1]", "t0") == "x[t0, a, 1]"
    # the longest dataset name that prefixes the variable
    assert variable_dataset("night.1.sigma", ["night", "night.1"]) == "night.1"
    assert variable_dataset("nights.sigma", ["night"]) is None
    datasets = ["dataset_0", "dataset_1"]
    assert legacy_label("dataset_1.gaussian.sigma", datasets) == (
        "gaussian.sigma[dataset_1]",
        "dataset_1",
    )
    assert legacy_label("x[dataset_0, 1]", datasets) == ("x[dataset_0, 1]", None)


def test_fit_each_summary_labels_each_fit_as_a_joint_fit_labels_its_datasets():
    factors = [
        gf.AnalysisFactor(
            gf.Model(gf.ex.Gaussian),
            gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed)),
            name=f"t{seed}",
        )
        for seed in (0, 1)
    ]
    result_list = gf.fit_each(factors, gf.MAP(random_seed=1), progressbar=False)
    summary = result_list.summary()
    assert list(summary.index) == [
        f"{name}[{dataset}]"
        for dataset in ("t0", "t1")
        for name in ("centre", "normalization", "sigma")
    ]
    own = result_list[1].summary()  # a dataset's own results keep the bare names
    assert list(own.index) == ["centre", "normalization", "sigma"]
    assert summary.loc["sigma[t1]", "value"] == pytest.approx(own.loc["sigma", "value"])

"""gf.Aggregator: listing, filtering and loading finished fits under an output folder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import graphfit as gf
from graphfit.io.layout import MARKER, METADATA


def own_sigma(model: gf.Model) -> gf.Model:
    """A copy of the model with its own sigma (centre and normalization stay shared)."""
    own = model.copy()
    own.sigma = gf.UniformPrior(lower_limit=0.0, upper_limit=30.0)
    return own


def graph(centre: float, seeds: tuple[int, ...], names: list[str] | None = None):
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    factors = [
        gf.AnalysisFactor(
            own_sigma(model),
            gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(centre=centre, seed=seed)),
            name=None if names is None else names[k],
        )
        for k, seed in enumerate(seeds)
    ]
    return gf.FactorGraphModel(*factors)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Two real MAP fits (centre 30 and 70), an unfinished copy and a copy in another format."""
    root = tmp_path_factory.mktemp("agg")
    fits = {
        "low": graph(30.0, (0, 1)),
        "high": graph(70.0, (2,), names=["night_2"]),
    }
    results = {}
    for name, g in fits.items():
        search = gf.MAP(random_seed=1, name=name, path_prefix="survey", output_path=root)
        results[name] = search.fit(model=g.global_prior_model, analysis=g)
    unfinished = root / "broken" / "unfinished" / "0000"
    shutil.copytree(results["low"].output_folder, unfinished)
    (unfinished / MARKER).unlink()
    future = root / "broken" / "future" / "0000"
    shutil.copytree(results["low"].output_folder, future)
    metadata = json.loads((future / METADATA).read_text())
    metadata["format_version"] = 99
    (future / METADATA).write_text(json.dumps(metadata))
    return root, results


def test_lists_finished_fits_with_their_figures(root):
    path, results = root
    agg = gf.Aggregator(path)
    assert len(agg) == 2
    table = agg.table
    # parameter columns in order of first appearance; fits sorted by folder path
    figures = ["centre", "normalization", "sigma", "dataset_0.sigma", "dataset_1.sigma"]
    assert list(table.columns) == [
        "name", "path_prefix", "identifier", "search", "n_datasets", "datasets", "max_r_hat",
        "min_ess_bulk", "divergences",
        *[f"{p}_{k}" for p in figures for k in ("median", "lower", "upper")],
        "path",
    ]  # fmt: skip
    high, low = table.iloc[0], table.iloc[1]  # sorted by folder path
    assert (high["name"], low["name"]) == ("high", "low")
    assert low["path_prefix"] == "survey" and low["search"] == "MAP"
    assert low["identifier"] == results["low"].output_folder.name
    assert low["datasets"] == ["dataset_0", "dataset_1"] and low["n_datasets"] == 2
    assert high["datasets"] == ["night_2"]
    assert np.isnan(low["max_r_hat"]) and np.isnan(low["divergences"])  # MAP: no diagnostics
    optimum = results["low"].idata.posterior
    assert low["centre_median"] == optimum["centre"].item()
    assert low["dataset_1.sigma_median"] == optimum["sigma"].sel(dataset="dataset_1").item()
    assert np.isnan(high["dataset_1.sigma_median"])  # that fit has no such parameter
    assert high["centre_median"] == pytest.approx(70.0, abs=1.0)
    assert set(agg.skipped) == {
        str(path / "broken" / "unfinished" / "0000"),
        str(path / "broken" / "future" / "0000"),
    }
    assert agg.skipped[str(path / "broken" / "unfinished" / "0000")] == (
        "unfinished (no completion marker)"
    )
    assert "format version 99" in agg.skipped[str(path / "broken" / "future" / "0000")]


def test_parameters_in_long_form(root):
    path, results = root
    long = gf.Aggregator(path).parameters
    low = long[long["name"] == "low"].set_index("parameter")
    assert sorted(low.index) == ["centre", "dataset_0.sigma", "dataset_1.sigma", "normalization"]
    assert low.loc["dataset_0.sigma", "dataset"] == "dataset_0"
    assert pd.isna(low.loc["centre", "dataset"])  # shared by both datasets
    assert low.loc["centre", "median"] == results["low"].idata.posterior["centre"].item()
    assert set(long["fit"]) == {0, 1}


def test_filter_and_query(root):
    path, _ = root
    agg = gf.Aggregator(path)
    assert list(agg.filter(name="low").table["name"]) == ["low"]
    assert list(agg.filter(dataset="night_2").table["name"]) == ["high"]
    assert len(agg.filter(path_prefix="survey")) == 2
    assert len(agg.filter(path_prefix="other")) == 0
    assert len(agg.filter(search="NUTS")) == 0
    assert list(agg.query("centre_median > 50").table["name"]) == ["high"]
    assert list(agg.query("`dataset_1.sigma_median` > 5").table["name"]) == ["low"]
    chained = agg.filter(path_prefix="survey").query("centre_median < 50")
    assert list(chained.table["name"]) == ["low"] and len(chained.parameters) == 4
    assert len(agg.query("centre_median > 1000").query("centre_median > 0")) == 0


def test_load_by_position_and_identifier(root):
    path, results = root
    agg = gf.Aggregator(path)
    loaded = agg.filter(name="low").load(0)
    assert isinstance(loaded, gf.LoadedResultList)
    assert loaded.idata.posterior.equals(results["low"].idata.posterior)
    identifier = results["high"].output_folder.name
    by_id = agg.load(identifier, model=graph(70.0, (2,), names=["night_2"]))
    assert by_id.names == ["night_2"]
    assert by_id[0].max_log_likelihood_instance.centre == pytest.approx(70.0, abs=1.0)
    with pytest.raises(KeyError, match="no fit with identifier 'nope'"):
        agg.load("nope")
    with pytest.raises(IndexError, match="fit 5 out of range; there are 2"):
        agg.load(5)


def test_empty_and_missing_roots(tmp_path):
    agg = gf.Aggregator(tmp_path / "missing")
    assert len(agg) == 0 and list(agg.table.columns)[:3] == ["name", "path_prefix", "identifier"]
    assert len(agg.query("name == 'x'")) == 0 and len(agg.parameters) == 0


def test_default_root_is_the_search_default(tmp_path, monkeypatch, root):
    path, _ = root
    monkeypatch.setenv("GRAPHFIT_OUTPUT_PATH", str(path))
    assert len(gf.Aggregator()) == 2
    monkeypatch.delenv("GRAPHFIT_OUTPUT_PATH")
    monkeypatch.chdir(tmp_path)
    shutil.copytree(path / "survey", tmp_path / "output" / "survey")
    assert sorted(gf.Aggregator().table["name"]) == ["high", "low"]

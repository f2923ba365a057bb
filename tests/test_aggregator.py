"""gf.Aggregator: listing, filtering and loading finished fits under an output folder."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import graphfit as gf
from graphfit.io.layout import MARKER, METADATA, dataset_file


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
    figures = [
        "centre", "normalization", "sigma", "sigma[dataset_0]", "sigma[dataset_1]"
    ]  # fmt: skip
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
    assert low["sigma[dataset_1]_median"] == optimum["sigma"].sel(dataset="dataset_1").item()
    assert np.isnan(high["sigma[dataset_1]_median"])  # that fit has no such parameter
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
    assert sorted(low.index) == ["centre", "normalization", "sigma[dataset_0]", "sigma[dataset_1]"]
    assert low.loc["sigma[dataset_0]", "dataset"] == "dataset_0"
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
    assert list(agg.query("`sigma[dataset_1]_median` > 5").table["name"]) == ["low"]
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


# -- labels: one scheme across az.summary, summary.csv, graphfit.json and the Aggregator --------


def mixed_graph() -> gf.FactorGraphModel:
    """Datasets t0 and t1: centre shared, sigma per dataset (one variable with a dataset dim),
    normalization of a different prior kind in each (a variable per dataset)."""
    factors = []
    for k, prior in enumerate((gf.UniformPrior, gf.LogUniformPrior)):
        model = gf.Model(gf.ex.Gaussian)
        model.centre = SHARED_CENTRE
        model.sigma = gf.UniformPrior(lower_limit=0.5, upper_limit=30.0)
        model.normalization = prior(lower_limit=1.0, upper_limit=100.0)
        analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=k))
        factors.append(gf.AnalysisFactor(model, analysis, name=f"t{k}"))
    return gf.FactorGraphModel(*factors)


SHARED_CENTRE = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
ARVIZ_LABELS = ["sigma[t0]", "sigma[t1]", "centre", "t0.normalization", "t1.normalization"]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("labels")
    graph = mixed_graph()
    search = gf.MAP(random_seed=1, name="mixed", output_path=root)
    return root, search.fit(model=graph.global_prior_model, analysis=graph)


def test_every_table_labels_a_parameter_as_az_summary_does(mixed):
    root, result_list = mixed
    labels = list(result_list.summary().index)  # az.summary of the joint posterior
    assert labels == ARVIZ_LABELS
    agg = gf.Aggregator(root)
    medians = [c.removesuffix("_median") for c in agg.table.columns if c.endswith("_median")]
    assert medians == labels
    assert list(agg.parameters["parameter"]) == labels
    samples = next(agg.values("samples"))  # the joint samples, rebuilt from the folder
    assert sorted(samples.parameter_names) == sorted(labels)
    assert (
        samples.median_pdf(as_dict=True)["sigma[t1]"]
        == result_list.samples.median_pdf(as_dict=True)["sigma[t1]"]
    )
    assert list(agg.parameters["dataset"].fillna("")) == ["t0", "t1", "", "t0", "t1"]
    metadata = json.loads((result_list.output_folder / METADATA).read_text())
    assert list(metadata["parameters"]) == labels
    assert metadata["parameter_datasets"] == {
        "sigma[t0]": "t0", "sigma[t1]": "t1", "t0.normalization": "t0", "t1.normalization": "t1"
    }  # fmt: skip
    summary = pd.read_csv(result_list.output_folder / "summary.csv")
    assert list(summary.columns[:3]) == ["dataset", "parameter", "label"]
    rows = list(zip(summary["dataset"], summary["parameter"], summary["label"], strict=True))
    assert rows == [
        ("t0", "centre", "centre"),
        ("t0", "normalization", "t0.normalization"),
        ("t0", "sigma", "sigma[t0]"),
        ("t1", "centre", "centre"),
        ("t1", "normalization", "t1.normalization"),
        ("t1", "sigma", "sigma[t1]"),
    ]
    # each dataset's own results keep the bare names
    assert list(result_list[1].summary().index) == ["centre", "normalization", "sigma"]
    posterior = result_list.idata.posterior
    row = agg.table.iloc[0]
    assert row["sigma[t1]_median"] == posterior["sigma"].sel(dataset="t1").item()
    assert row["t0.normalization_median"] == posterior["t0.normalization"].item()
    assert summary.set_index("label").loc["sigma[t1]", "median"] == row["sigma[t1]_median"]


def test_query_takes_the_labels_in_backticks(mixed):
    root, result_list = mixed
    agg = gf.Aggregator(root)
    sigma = result_list.idata.posterior["sigma"].sel(dataset="t1").item()
    assert len(agg.query(f"`sigma[t1]_median` > {sigma - 0.01}")) == 1
    assert len(agg.query(f"`sigma[t1]_median` > {sigma + 0.01}")) == 0
    assert len(agg.query("`t0.normalization_median` > 0 and centre_median > 40")) == 1


def legacy_copy(folder, destination, version):
    """A copy of a saved fit as graphfit wrote it in format version 1 or 2: ``graphfit.json``
    labels a per-dataset value ``<dataset>.<name>`` and has no ``parameter_datasets``.  Only
    ``graphfit.json`` is rewritten, which is all the Aggregator reads to list a fit."""
    from graphfit.io.verify import METADATA_HASH, seal

    target = destination / folder.name
    shutil.copytree(folder, target)
    metadata = json.loads((target / METADATA).read_text())
    old = {}
    for label, figures in metadata["parameters"].items():
        dataset = metadata["parameter_datasets"].get(label)
        if label.endswith(f"[{dataset}]"):  # an element of a per-dataset variable
            label = f"{dataset}.{label.removesuffix(f'[{dataset}]')}"
        old[label] = figures
    metadata["parameters"] = old
    del metadata["parameter_datasets"], metadata[METADATA_HASH]
    metadata["format_version"] = version
    # their layout: one NetCDF file per dataset besides joint.nc (not read by the listing)
    metadata.pop("split", None)
    metadata["dataset_files"] = [dataset_file(k) for k in range(len(metadata["datasets"]))]
    if version == 1:  # written before the hashes
        del metadata["sha256"]
    else:
        metadata = seal(metadata)
    (target / METADATA).write_text(json.dumps(metadata))
    return target


@pytest.mark.parametrize("version", [1, 2])
def test_folders_of_format_versions_1_and_2_are_listed_with_todays_labels(mixed, tmp_path, version):
    root, result_list = mixed
    legacy = legacy_copy(result_list.output_folder, tmp_path, version)
    assert "sigma" not in json.loads((legacy / METADATA).read_text())["parameters"]
    old = set(json.loads((legacy / METADATA).read_text())["parameters"])
    assert {"t0.sigma", "t1.sigma", "t0.normalization", "t1.normalization"} <= old
    agg = gf.Aggregator(tmp_path)
    assert agg.skipped == {}
    new = gf.Aggregator(root)
    translated = new.table.drop(columns="path")
    renamed = {
        f"t{k}.normalization_{s}": f"normalization[t{k}]_{s}"
        for k in (0, 1)
        for s in ("median", "lower", "upper")
    }
    pd.testing.assert_frame_equal(
        agg.table.drop(columns="path"), translated.rename(columns=renamed)
    )
    long = agg.parameters.set_index("parameter")
    assert long.loc["sigma[t0]", "dataset"] == "t0" and pd.isna(long.loc["centre", "dataset"])
    # a variable of one dataset alone is not told apart from a per-dataset element in those
    # folders: it reads as the element
    assert "normalization[t0]" in long.index and "t0.normalization" not in long.index
    assert len(agg.query("`sigma[t0]_median` > 0")) == 1


def test_version_1_folders_written_by_graphfit_are_listed():
    """The cross-stack fits in tests/saved_fits were written in format version 1; their
    parameters are shared by the three datasets, so their labels need no translation."""
    from tests import saved_fits

    agg = gf.Aggregator(saved_fits.PATH)
    assert len(agg) == len(saved_fits.STACK_FOLDERS) and agg.skipped == {}
    medians = [c for c in agg.table.columns if c.endswith("_median")]
    assert medians == ["centre_median", "normalization_median", "sigma_median"]
    assert agg.parameters["dataset"].isna().all()
    assert len(agg.query("centre_median > 0")) == len(agg)

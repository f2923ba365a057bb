"""Output folders: layout, stable identifiers, resuming, loading, atomic writes, bad folders."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest

import graphfit as gf
from graphfit.backend import stack
from graphfit.exceptions import ResumedFitWarning
from graphfit.io.identifier import fit_identity
from graphfit.io.layout import FORMAT_VERSION, MARKER, METADATA
from graphfit.io.output import fit_folder
from tests.conftest import cookbook_model, identical_graph, search

ROOT = Path(__file__).resolve().parents[1]
# a short run in this process (cores=1, which search.json and the identifier leave out): the
# tests check the folder, not the posterior
NUTS_SETTINGS = {"draws": 100, "tune": 100, "chains": 2, "cores": 1}


def small_graph(seeds=(0, 1), centre_upper=100.0, bump=0.0) -> gf.FactorGraphModel:
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=centre_upper)
    analyses = []
    for seed in seeds:
        data, noise_map = gf.ex.simulate_gaussian_dataset(seed=seed)
        data = data.copy()
        data[0] += bump
        analyses.append(gf.ex.Analysis(data, noise_map))
    return gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])


def map_fit(graph, root, name="fit", **kwargs) -> gf.ResultList:
    search = gf.MAP(random_seed=1, name=name, output_path=root, **kwargs)
    return search.fit(model=graph.global_prior_model, analysis=graph)


@pytest.fixture(scope="module")
def nuts_fit(tmp_path_factory):
    """A named NUTS fit with no seed: a rerun can only reproduce its draws by loading them."""
    root = tmp_path_factory.mktemp("nuts")
    graph = identical_graph()
    with warnings.catch_warnings():  # a short run may fail the ESS check; not tested here
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        result_list = search(
            random_seed=None,
            name="identical",
            path_prefix="cookbook/runs",
            output_path=root,
            **NUTS_SETTINGS,
        ).fit(model=graph.global_prior_model, analysis=graph)
    return root, graph, result_list


@pytest.fixture(scope="module")
def map_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("map")
    result_list = map_fit(small_graph(), root)
    return root, result_list


def copy_result(folder: Path, destination: Path) -> Path:
    target = destination / folder.name
    shutil.copytree(folder, target)
    return target


# -- layout -------------------------------------------------------------------------------------


def test_named_fit_writes_the_folder_layout(nuts_fit):
    root, graph, result_list = nuts_fit
    identifier = fit_identity(graph, search(random_seed=None, **NUTS_SETTINGS))["identifier"]
    folder = root / "cookbook" / "runs" / "identical" / identifier
    assert result_list.output_folder == folder
    # one NetCDF file per fit, and no plots unless asked for
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [
        MARKER,
        "diagnostics.csv",
        METADATA,
        "joint.nc",
        "model.info",
        "model.json",
        "search.json",
        "summary.csv",
    ]
    assert (folder / "model.info").read_text() == graph.info
    settings = json.loads((folder / "search.json").read_text())
    assert settings == {
        "search": "NUTS",
        "chains": 2,
        "draws": 100,
        "random_seed": None,
        "sampler": "pymc",
        "sampler_kwargs": {},
        "target_accept": "auto",
        "tune": 100,
    }
    joint = stack.read_netcdf(folder / "joint.nc")
    assert joint.posterior.equals(result_list.idata.posterior)
    assert joint.log_likelihood.equals(result_list.idata.log_likelihood)
    assert joint.constant_data.equals(result_list.idata.constant_data)
    assert set(joint.fit_band.data_vars) == {"obs.median", "obs.lower", "obs.upper"}
    loaded = gf.load_result(folder)  # each dataset's view built from joint.nc
    for result, again in zip(result_list, loaded, strict=True):
        assert again.idata.posterior.equals(result.idata.posterior)
        assert again.idata.observed_data.equals(result.idata.observed_data)
        assert again.idata.log_likelihood.equals(result.idata.log_likelihood)
        assert again.idata.constant_data.equals(result.idata.constant_data)
    metadata = json.loads((folder / METADATA).read_text())
    assert "dataset_files" not in metadata
    assert metadata["split"][1] == {
        "vars": [
            ["centre", "centre", None],
            ["normalization", "normalization", None],
            ["sigma", "sigma", None],
        ],
        "node": "obs",
        "dims": {"x": "x"},
        "select": {"dataset": "dataset_1"},
    }
    assert metadata["format_version"] == FORMAT_VERSION
    assert metadata["datasets"] == ["dataset_0", "dataset_1", "dataset_2"]
    assert metadata["diagnostics"]["divergences"] == result_list.diagnostics.divergences
    assert metadata["diagnostics"]["max_r_hat"] == pytest.approx(result_list.diagnostics.max_rhat)


def test_summary_csv_holds_each_datasets_parameters(nuts_fit):
    _, _, result_list = nuts_fit
    summary = pd.read_csv(result_list.output_folder / "summary.csv")
    assert list(summary.columns) == [
        "dataset", "parameter", "label", "mean", "sd", "median", "hdi_3%", "hdi_97%", "r_hat",
        "ess_bulk", "ess_tail",
    ]  # fmt: skip
    assert list(summary["dataset"]) == [n for n in result_list.names for _ in range(3)]
    assert list(summary["parameter"]) == ["centre", "normalization", "sigma"] * 3
    assert list(summary["label"].unique()) == list(az.summary(result_list.idata).index)
    centre = result_list.idata.posterior["centre"].values
    row = summary.iloc[0]
    assert row["median"] == pytest.approx(np.median(centre))
    assert row["sd"] == pytest.approx(centre.std(ddof=1))
    lower, upper = stack.hdi_bounds(stack.group(result_list.idata, "posterior")[["centre"]], 0.94)
    assert [row["hdi_3%"], row["hdi_97%"]] == pytest.approx(
        [float(lower["centre"]), float(upper["centre"])]
    )
    assert row["r_hat"] == pytest.approx(float(az.rhat(result_list.idata)["centre"]))


def test_diagnostics_table_is_saved_and_loaded(nuts_fit):
    _, _, result_list = nuts_fit
    loaded = gf.load_result(result_list.output_folder)
    pd.testing.assert_frame_equal(loaded.diagnostics.table, result_list.diagnostics.table)
    assert loaded.diagnostics.problems == result_list.diagnostics.problems
    assert loaded.diagnostics.divergences == result_list.diagnostics.divergences


def test_unnamed_fit_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRAPHFIT_OUTPUT_PATH", raising=False)
    graph = small_graph()
    result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    assert result_list.output_folder is None
    assert list(tmp_path.iterdir()) == []


def test_output_root_from_environment_and_argument(tmp_path, monkeypatch, map_root):
    _, reference = map_root
    identifier = reference.output_folder.name
    monkeypatch.setenv("GRAPHFIT_OUTPUT_PATH", str(tmp_path / "env"))
    folder, _ = fit_folder(gf.MAP(random_seed=1, name="fit"), small_graph())
    assert folder == tmp_path / "env" / "fit" / identifier
    folder, _ = fit_folder(
        gf.MAP(random_seed=1, name="fit", output_path=tmp_path / "arg"), small_graph()
    )
    assert folder == tmp_path / "arg" / "fit" / identifier
    monkeypatch.delenv("GRAPHFIT_OUTPUT_PATH")
    monkeypatch.chdir(tmp_path)
    folder, _ = fit_folder(gf.MAP(random_seed=1, name="fit"), small_graph())
    assert folder == Path("output") / "fit" / identifier


# -- identifiers --------------------------------------------------------------------------------

IDENTIFIER_SCRIPT = textwrap.dedent(
    """
    import graphfit as gf
    from graphfit.io.identifier import fit_identity
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    factors = [
        gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)))
        for s in (0, 1)
    ]
    graph = gf.FactorGraphModel(*factors)
    print(fit_identity(graph, gf.MAP(random_seed=1, name="fit"))["identifier"])
    """
)


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    )


def test_identifier_is_the_same_in_separate_processes():
    first = run_python(IDENTIFIER_SCRIPT, PYTHONHASHSEED="1").stdout.strip()
    second = run_python(IDENTIFIER_SCRIPT, PYTHONHASHSEED="2").stdout.strip()
    here = fit_identity(small_graph(), gf.MAP(random_seed=1))["identifier"]
    assert len(first) == 16
    assert first == second == here


def test_identifier_changes_with_prior_data_and_settings():
    def identifier(graph=None, search_=None):
        graph = graph or small_graph()
        return fit_identity(graph, search_ or gf.MAP(random_seed=1))["identifier"]

    base = identifier()
    assert identifier(small_graph(centre_upper=90.0)) != base  # a prior's argument
    assert identifier(small_graph(bump=1e-9)) != base  # one data value
    assert identifier(small_graph(seeds=(0, 1, 2))) != base  # one more dataset
    assert identifier(search_=gf.MAP(random_seed=2)) != base  # a search setting
    assert identifier(search_=gf.MAP(random_seed=1, n_random=100)) != base
    graph = small_graph()
    graph.factors[0].prior_model.sigma = gf.UniformPrior(0.0, 30.0)  # a per-dataset prior
    assert identifier(graph) != base
    assert identifier(small_graph()) == base  # new but equal objects: same identifier
    labels = gf.MAP(random_seed=1, name="other", path_prefix="x", progressbar=True)
    assert identifier(search_=labels) == base  # labels and display settings are not hashed


# -- resuming -----------------------------------------------------------------------------------


def test_rerun_loads_the_finished_fit_instead_of_sampling(nuts_fit):
    root, _, first = nuts_fit
    graph = identical_graph()  # new objects, same model and data
    rerun = search(
        random_seed=None, name="identical", path_prefix="cookbook/runs", output_path=root,
        **NUTS_SETTINGS,
    )  # fmt: skip
    loaded = (  # a warning (which a notebook shows), not a log record
        rf"^graphfit: loaded the finished fit from {re.escape(str(first.output_folder))} instead "
        r"of fitting again \(same model, data and search settings\)\. Delete that folder to fit "
        r"again\.$"
    )
    with pytest.warns(ResumedFitWarning, match=loaded):
        second = rerun.fit(model=graph.global_prior_model, analysis=graph)
    assert second.resumed and not first.resumed
    # no seed was given, so identical draws prove nothing was sampled again
    assert second.idata.posterior.equals(first.idata.posterior)
    assert second.timings == pytest.approx(first.timings)
    assert second.graph is graph
    assert second[1].median_pdf_instance.centre == pytest.approx(
        first[1].median_pdf_instance.centre
    )
    assert sorted(p.name for p in first.output_folder.parent.iterdir()) == [
        first.output_folder.name
    ]


def test_single_analysis_resumes_as_a_result(tmp_path):
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=3)

    def fit():
        search_ = gf.MAP(random_seed=1, name="single", output_path=tmp_path)
        return search_.fit(model=cookbook_model(), analysis=gf.ex.Analysis(data, noise_map))

    first = fit()
    with pytest.warns(ResumedFitWarning, match="loaded the finished fit"):
        second = fit()
    assert isinstance(second, gf.Result) and second.result_list.resumed
    assert second.max_log_likelihood_instance.centre == first.max_log_likelihood_instance.centre


def test_changed_prior_fits_into_a_new_folder(tmp_path, map_root):
    _, reference = map_root
    copy_result(reference.output_folder, tmp_path / "fit")
    with pytest.warns(ResumedFitWarning, match="loaded the finished fit"):
        first = map_fit(small_graph(), tmp_path)
    second = map_fit(small_graph(centre_upper=90.0), tmp_path)
    assert first.resumed and not second.resumed
    assert second.output_folder.name != first.output_folder.name
    assert second.output_folder.parent == first.output_folder.parent == tmp_path / "fit"
    assert sorted(p.name for p in (tmp_path / "fit").iterdir()) == sorted(
        [first.output_folder.name, second.output_folder.name]
    )


def test_folder_without_marker_is_fitted_again(tmp_path, map_root):
    _, reference = map_root
    folder = copy_result(reference.output_folder, tmp_path / "fit")
    (folder / MARKER).unlink()
    (folder / "joint.nc").write_bytes(b"half-written")
    result_list = map_fit(small_graph(), tmp_path)  # a ResumedFitWarning would be an error
    assert not result_list.resumed
    assert result_list.output_folder == folder and (folder / MARKER).is_file()
    assert gf.load_result(folder).idata.posterior.equals(reference.idata.posterior)


def edit_joint(folder: Path, edit) -> None:
    """Rewrite the folder's joint.nc with ``edit(idata)`` (as an older, interrupted fit left it)."""
    from graphfit.io.loading import read_netcdf

    idata = edit(read_netcdf(folder / "joint.nc"))
    stack.write_netcdf(idata, str(folder / "joint.nc"))


def with_nan(idata):
    values = idata.posterior["centre"].values.copy()
    values[..., -5:] = np.nan  # nutpie's padding
    idata.posterior["centre"] = idata.posterior["centre"].copy(data=values)
    return idata


def test_a_finished_folder_holding_nan_is_fitted_again_and_replaced(tmp_path, map_root):
    _, reference = map_root
    folder = copy_result(reference.output_folder, tmp_path / "fit")
    edit_joint(folder, with_nan)
    with pytest.raises(
        gf.ResultLoadError,
        match=r"is marked finished but holds an incomplete posterior \(non-finite draws \(NaN or "
        r"inf\) in centre\): the fit was stopped early \(e\.g\. interrupted\) and saved by an "
        r"older graphfit\. It is not a finished fit; delete the folder and fit again \(a rerun "
        r"of the same named search does so\)\.$",
    ):
        gf.load_result(folder)
    with pytest.warns(
        gf.IncompleteResultWarning,
        match=r"^graphfit: not loading the saved fit: '.*' is marked finished but holds an "
        r"incomplete posterior \(non-finite draws \(NaN or inf\) in centre\).* Fitting again\.$",
    ):
        result_list = map_fit(small_graph(), tmp_path)
    assert not result_list.resumed and result_list.output_folder == folder
    assert gf.load_result(folder).idata.posterior.equals(reference.idata.posterior)  # replaced


def test_a_finished_folder_with_fewer_draws_than_its_search_is_not_loaded(tmp_path, nuts_fit):
    from graphfit.io.output import resume

    _, graph, result_list = nuts_fit
    folder = copy_result(result_list.output_folder, tmp_path)
    edit_joint(folder, lambda idata: idata.isel(draw=slice(0, 40)))
    with pytest.raises(
        gf.ResultLoadError,
        match=r"incomplete posterior \(40 draw\(s\) where search\.json asks for 100\)",
    ):
        gf.load_result(folder, model=graph)
    with pytest.warns(gf.IncompleteResultWarning, match=r"40 draw\(s\) where search\.json"):
        assert resume(folder, graph) is None
    edit_joint(folder, lambda idata: idata.isel(chain=[0]))
    with pytest.warns(
        gf.IncompleteResultWarning,
        match=r"1 chain\(s\) where search\.json asks for 2; 40 draw\(s\) where",
    ):
        assert resume(folder, graph) is None


# -- loading ------------------------------------------------------------------------------------


def test_load_result_without_model(map_root):
    _, reference = map_root
    loaded = gf.load_result(reference.output_folder)
    assert isinstance(loaded, gf.LoadedResultList) and isinstance(loaded, gf.ResultList)
    assert loaded.names == reference.names == ["dataset_0", "dataset_1"]
    assert loaded.diagnostics is None  # an optimiser has none
    assert loaded.timings == pytest.approx(reference.timings)
    assert loaded.max_log_likelihood_index == reference.max_log_likelihood_index
    for k in range(2):
        assert loaded[k].idata.posterior.equals(reference[k].idata.posterior)
        assert loaded[k].idata.log_likelihood.equals(reference[k].idata.log_likelihood)
    assert loaded["dataset_1"].name == "dataset_1"
    message = r"instances needs the fitted model.*gf.load_result\(.*, model=factor_graph\)"
    with pytest.raises(gf.ResultLoadError, match=message):
        loaded[0].max_log_likelihood_instance
    with pytest.raises(gf.ResultLoadError, match="populations needs the fitted model"):
        loaded.populations


def test_load_result_with_model_rebuilds_instances(map_root):
    _, reference = map_root
    graph = small_graph()
    loaded = gf.load_result(reference.output_folder, model=graph.global_prior_model)
    assert type(loaded) is gf.ResultList and loaded.graph is graph
    assert loaded[1].max_log_likelihood_instance.sigma == pytest.approx(
        reference[1].max_log_likelihood_instance.sigma
    )


def test_load_result_with_other_data_is_refused(map_root):
    _, reference = map_root
    with pytest.raises(gf.ResultLoadError, match=r"the data given differs from the data saved in"):
        gf.load_result(reference.output_folder, model=small_graph(bump=0.5))
    with pytest.raises(gf.ResultLoadError, match=r"the model given differs"):
        gf.load_result(reference.output_folder, model=small_graph(centre_upper=50.0))


# -- bad input ----------------------------------------------------------------------------------


def test_loading_a_folder_that_is_not_a_result(tmp_path):
    (tmp_path / "notes.txt").write_text("not a fit")
    with pytest.raises(gf.ResultLoadError, match=r"is not a graphfit result folder: it has no"):
        gf.load_result(tmp_path)
    with pytest.raises(gf.ResultLoadError, match=r"notes.txt' is not a folder"):
        gf.load_result(tmp_path / "notes.txt")
    (tmp_path / METADATA).write_text("{not json")
    with pytest.raises(gf.ResultLoadError, match=r"graphfit.json' is not valid JSON"):
        gf.load_result(tmp_path)
    (tmp_path / METADATA).write_text('{"format": "something else"}')
    with pytest.raises(gf.ResultLoadError, match=r"graphfit.json' is not a graphfit result"):
        gf.load_result(tmp_path)


def test_loading_an_unfinished_result(tmp_path, map_root):
    folder = copy_result(map_root[1].output_folder, tmp_path)
    (folder / MARKER).unlink()
    with pytest.raises(gf.ResultLoadError, match=r"holds an unfinished fit \(no COMPLETED"):
        gf.load_result(folder)


def test_loading_a_truncated_netcdf_names_the_file(tmp_path, map_root):
    folder = copy_result(map_root[1].output_folder, tmp_path)
    path = folder / "joint.nc"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(
        gf.ResultLoadError,
        match=r"joint.nc' could not be read as NetCDF; the file is truncated or damaged "
        r"\(.*\)\. Delete the result folder and fit again\.$",
    ):
        gf.load_result(folder)
    path.unlink()
    with pytest.raises(
        gf.ResultLoadError,
        match=r"joint.nc' is missing from the result folder\. Delete the result folder and fit "
        r"again\.$",
    ):
        gf.load_result(folder)
    shutil.copy(map_root[1].output_folder / "joint.nc", folder / "joint.nc")
    loaded = gf.load_result(folder)
    assert loaded[0].idata.posterior.equals(map_root[1][0].idata.posterior)


def test_loading_another_format_version_names_the_file(tmp_path, map_root):
    folder = copy_result(map_root[1].output_folder, tmp_path)
    metadata = json.loads((folder / METADATA).read_text())
    metadata["format_version"] = FORMAT_VERSION + 1
    (folder / METADATA).write_text(json.dumps(metadata))
    message = (
        rf"graphfit.json' was written in result format version {FORMAT_VERSION + 1} .* reads "
        rf"versions 1, 2 and {FORMAT_VERSION} only"
    )
    with pytest.raises(gf.ResultLoadError, match=message):
        gf.load_result(folder)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "a/b", r"name must be one folder name without '/'"),
        ("name", "", r"name must be a non-empty string or None, got ''"),
        ("path_prefix", "../up", r"path_prefix must be a relative path .* got '../up'"),
        ("path_prefix", "/abs", r"path_prefix must be a relative path .* got '/abs'"),
        ("name", ".hidden", r"name must be a relative path whose parts do not start with '.'"),
        (
            "name",
            "a\x00b",
            r"name must not contain control characters such as NUL or a newline \(it names "
            r"folders\), got 'a\\x00b'\.$",
        ),
        ("path_prefix", "runs\nnight", r"path_prefix must not contain control characters"),
    ],
)
def test_bad_names_are_refused_when_the_search_is_built(field, value, message):
    with pytest.raises(gf.SearchError, match=f"NUTS: {message}"):
        gf.NUTS(**{field: value})


# -- atomic writes: kill a real fitting process -------------------------------------------------

KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import graphfit as gf
    import graphfit.io.output as output

    root, slow = sys.argv[1], sys.argv[2] == "slow"
    if slow:  # stall after the first file is written, so the test can kill mid-write
        write = output._write_netcdf
        def stalled(idata, path):
            write(idata, path)
            print("WROTE", path, flush=True)
            time.sleep(120)
        output._write_netcdf = stalled
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    factors = [
        gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)))
        for s in (0, 1)
    ]
    graph = gf.FactorGraphModel(*factors)
    search = gf.MAP(random_seed=1, name="killed", output_path=root)
    result_list = search.fit(model=graph.global_prior_model, analysis=graph)
    print("RESUMED", result_list.resumed, result_list.output_folder, flush=True)
    """
)


@pytest.mark.slow
def test_fit_killed_mid_write_leaves_no_finished_result(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", KILL_SCRIPT, str(tmp_path)]
    process = subprocess.Popen([*command, "slow"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()  # blocks until the first file is written
        assert line.startswith("WROTE") and line.strip().endswith("joint.nc"), line
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    parent = tmp_path / "killed"
    leftovers = list(parent.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".")  # only the hidden temp
    assert (leftovers[0] / "joint.nc").is_file() and not (leftovers[0] / MARKER).exists()
    assert len(gf.Aggregator(tmp_path)) == 0

    start = time.perf_counter()
    rerun = subprocess.run([*command, "fast"], capture_output=True, text=True, env=env, check=True)
    assert rerun.stdout.startswith("RESUMED False"), rerun.stdout + rerun.stderr
    assert time.perf_counter() - start < 120
    folder = Path(rerun.stdout.split()[2])
    assert [p.name for p in parent.iterdir()] == [folder.name]  # the stale temp was removed
    loaded = gf.load_result(folder)
    assert loaded.names == ["dataset_0", "dataset_1"]
    assert loaded[0].idata.posterior["centre"].item() == pytest.approx(50.0, abs=1.0)


def test_aggregator_row_of_a_sampled_fit(nuts_fit):
    root, _, result_list = nuts_fit
    row = gf.Aggregator(root).table.iloc[0]
    diagnostics = result_list.diagnostics
    assert (row["name"], row["path_prefix"]) == ("identical", "cookbook/runs")
    assert row["max_r_hat"] == diagnostics.max_rhat
    assert row["min_ess_bulk"] == diagnostics.min_ess_bulk
    assert row["divergences"] == diagnostics.divergences
    sigma = result_list.idata.posterior["sigma"]
    lower, upper = stack.hdi_bounds(stack.group(result_list.idata, "posterior")[["sigma"]], 0.94)
    assert row["sigma_median"] == pytest.approx(float(sigma.median()))
    assert [row["sigma_lower"], row["sigma_upper"]] == pytest.approx(
        [float(lower["sigma"]), float(upper["sigma"])]
    )


def test_fit_plots_in_the_folder_are_the_datasets_fits(tmp_path):
    """With plots=True, each PNG in plots/ is a real rendered figure of its dataset (not an
    empty file), hashed with the other files; plots=False is the same fit (identifier)."""
    import matplotlib.image

    graph = small_graph()
    result_list = map_fit(graph, tmp_path, plots=True)
    assert result_list.output_folder.name == map_fit(graph, tmp_path / "other").output_folder.name
    metadata = json.loads((result_list.output_folder / METADATA).read_text())
    assert sorted(k for k in metadata["sha256"] if k.startswith("plots/")) == [
        "plots/fit_dataset_0.png",
        "plots/fit_dataset_1.png",
    ]
    for result in result_list:
        path = result_list.output_folder / "plots" / f"fit_{result.name}.png"
        pixels = matplotlib.image.imread(path)
        assert pixels.ndim == 3 and min(pixels.shape[:2]) > 100
        assert pixels[..., :3].std() > 0.05  # drawn content, not a blank canvas


def test_a_dataset_that_cannot_be_drawn_does_not_stop_the_save(tmp_path, caplog):
    """A custom likelihood without observation() has no fit plot; the fit is saved anyway."""

    class Likelihood(gf.Analysis):
        def __init__(self, data, noise_map):
            self.data, self.noise_map = data, noise_map

        def log_likelihood_function(self, instance, xp):
            model = gf.ex.Analysis(self.data, self.noise_map).model_data_from(instance, xp)
            return -0.5 * xp.sum(((self.data - model) / self.noise_map) ** 2)

    data, noise = gf.ex.simulate_gaussian_dataset(seed=3)
    model = gf.Model(gf.ex.Gaussian)
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)),
        gf.AnalysisFactor(model, Likelihood(data, noise)),
    )
    with caplog.at_level("WARNING", logger="graphfit"):
        result_list = gf.MAP(random_seed=0, name="mixed", output_path=tmp_path, plots=True).fit(
            model=graph.global_prior_model, analysis=graph
        )
    plots = sorted(p.name for p in (result_list.output_folder / "plots").iterdir())
    assert plots == ["fit_dataset_0.png"]
    assert "no fit plot for dataset_1" in caplog.text
    assert (result_list.output_folder / "COMPLETED").exists()

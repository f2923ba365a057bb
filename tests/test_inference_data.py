"""A fit's InferenceData is complete: its observed points are labelled by the analysis's
coordinates, ``constant_data`` holds the noise maps, and a saved fit (one NetCDF file) redraws
its fit plots without the analysis or the user's classes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

import graphfit as gf
from graphfit.backend import stack
from graphfit.io.layout import METADATA
from graphfit.results.fit_band import fit_band

ROOT = Path(__file__).resolve().parents[1]
#: The x values of the tests' pairs of datasets: not the default 0, 1, 2, ... (which a lost x
#: would give too), and the same in each test, so that their graphs share one compiled model
#: (graphfit's structure cache compares the model's predictions, which depend on x).
X = np.linspace(10.0, 60.0, 100)


def profile_analyses(xs) -> list[gf.ex.Analysis]:
    return [
        gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(size=len(x), seed=k), xvalues=x)
        for k, x in enumerate(xs)
    ]


def fit_graph(analyses, **kwargs) -> gf.ResultList:
    """A MAP fit of ``analyses``, each with the cookbook's Gaussian model."""
    model = gf.Model(gf.ex.Gaussian)
    graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
    return gf.MAP(random_seed=1, **kwargs).fit(model=graph.global_prior_model, analysis=graph)


class ShiftedAnalysis(gf.ex.Analysis):
    """Datasets on different x grids stacked into one node (the key leaves x out; the model
    data use the x values through the instance only, so the batch check holds)."""

    def model_data_from(self, instance, xp=np):
        return instance.normalization + 0.0 * instance.centre + 0.0 * self.xvalues[0]

    def vectorize_key(self):
        return (type(self), self.data.shape)


class NoCoords(gf.ex.Analysis):
    def coords(self):
        return {}


# -- coordinates --------------------------------------------------------------------------------


def test_observed_data_and_log_likelihood_use_the_analyses_x_values():
    x = X
    result_list = fit_graph(profile_analyses([x, x]))
    joint = result_list.idata
    assert joint.observed_data["obs"].dims == ("dataset", "x")
    np.testing.assert_array_equal(joint.observed_data["x"].values, x)
    np.testing.assert_array_equal(joint.log_likelihood["x"].values, x)
    for result in result_list:
        for group in ("observed_data", "log_likelihood", "constant_data"):
            np.testing.assert_array_equal(stack.group(result.idata, group)["x"].values, x)


def test_stacked_datasets_with_their_own_x_values_keep_them_per_dataset():
    x0, x1 = np.arange(20.0), np.arange(20.0) * 3.0 + 5.0
    data = [gf.ex.simulate_gaussian_dataset(size=20, seed=k) for k in range(2)]
    analyses = [ShiftedAnalysis(d, n, xvalues=x) for (d, n), x in zip(data, (x0, x1), strict=True)]
    result_list = fit_graph(analyses)
    assert result_list.compiled.vectorized_groups == [[0, 1]]
    observed = result_list.idata.observed_data
    assert observed["x_value"].dims == ("dataset", "x")
    np.testing.assert_array_equal(observed["x"].values, np.arange(20))  # no common x index
    np.testing.assert_array_equal(observed["x_value"].values, np.stack([x0, x1]))
    for result, x in zip(result_list, (x0, x1), strict=True):
        view = result.idata
        assert "x_value" not in view.observed_data.coords
        np.testing.assert_array_equal(view.observed_data["x"].values, x)
        np.testing.assert_array_equal(view.log_likelihood["x"].values, x)
        np.testing.assert_array_equal(view.constant_data["x"].values, x)


def test_posterior_predictive_draws_have_the_observed_datas_coordinates():
    # PyMC's draws are indexed 0, 1, 2, ... by the shared model; the joint draws get the fit's
    # coordinates (a stacked node's 2-D x_value) and each dataset's view its own x
    x0, x1 = np.arange(20.0), np.arange(20.0) * 3.0 + 5.0
    data = [gf.ex.simulate_gaussian_dataset(size=20, seed=k) for k in range(2)]
    analyses = [ShiftedAnalysis(d, n, xvalues=x) for (d, n), x in zip(data, (x0, x1), strict=True)]
    result_list = fit_graph(analyses)
    joint = result_list.posterior_predictive().posterior_predictive
    np.testing.assert_array_equal(joint["x_value"].values, np.stack([x0, x1]))
    for result, x in zip(result_list, (x0, x1), strict=True):
        draws = result.posterior_predictive().posterior_predictive
        assert "x_value" not in draws.coords
        np.testing.assert_array_equal(draws["x"].values, x)

    result = fit_graph(profile_analyses([X]))[0]  # one dataset: its x is the index itself
    np.testing.assert_array_equal(result.posterior_predictive().posterior_predictive["x"].values, X)


def test_images_use_y_and_x_and_histograms_their_bin_centres():
    data, noise = gf.ex.simulate_image(gf.ex.Gaussian2D(10.0, 8.0, 100.0, 3.0), shape=(12, 16))
    image = gf.ex.ImagingAnalysis(data, noise, pixel_scale=0.5)
    result = gf.MAP(random_seed=1).fit(model=gf.Model(gf.ex.Gaussian2D), analysis=image)
    observed = result.idata.observed_data
    assert observed["obs"].dims == ("y", "x")
    np.testing.assert_array_equal(observed["y"].values, np.arange(12) * 0.5)
    np.testing.assert_array_equal(observed["x"].values, np.arange(16) * 0.5)
    np.testing.assert_array_equal(result.idata.constant_data["noise_map"].values, noise)

    counts, edges = gf.ex.simulate_histogram(gf.ex.Gaussian(50.0, 500.0, 8.0), seed=0)
    histogram = gf.ex.HistogramAnalysis(counts, edges)
    result = gf.MAP(random_seed=1).fit(model=gf.Model(gf.ex.Gaussian), analysis=histogram)
    assert result.idata.observed_data["obs"].dims == ("bin",)
    np.testing.assert_array_equal(result.idata.observed_data["bin"].values, histogram.bin_centres)
    assert not stack.has_group(result.idata, "constant_data")  # Poisson: no per-point arrays


def test_an_analysis_without_coordinates_keeps_0_1_2():
    data, noise = gf.ex.simulate_gaussian_dataset(size=30, seed=0)
    result = gf.MAP(random_seed=1).fit(
        model=gf.Model(gf.ex.Gaussian), analysis=NoCoords(data, noise, xvalues=np.arange(30) * 2.0)
    )
    np.testing.assert_array_equal(result.idata.observed_data["x"].values, np.arange(30))
    np.testing.assert_array_equal(result.idata.constant_data["noise_map"].values, noise)


def test_constant_data_holds_the_noise_maps_with_the_data_coordinates():
    x = np.linspace(0.0, 99.0, 100)
    analyses = profile_analyses([x, x])
    analyses.append(gf.ex.Analysis(analyses[0].data, 2.0 * analyses[0].noise_map, x + 1.0))
    result_list = fit_graph(analyses)
    constant = result_list.idata.constant_data
    assert sorted(constant.data_vars) == ["dataset_2.obs.noise_map", "obs_0.noise_map"]
    np.testing.assert_array_equal(constant["dataset_2.x"].values, x + 1.0)
    for analysis, result in zip(analyses, result_list, strict=True):
        noise = result.idata.constant_data["noise_map"]
        assert noise.dims == ("x",)
        np.testing.assert_array_equal(noise.values, analysis.noise_map)
        np.testing.assert_array_equal(noise["x"].values, analysis.xvalues)


@pytest.mark.parametrize(
    ("coords", "message"),
    [
        (
            {"x": np.arange(3.0)},
            r"dataset 'dataset_0': Bad\.coords\(\)\['x'\] has shape \(3,\), but the observation "
            r"has 40 points along 'x'; give one value per point\.$",
        ),
        (
            {"wavelength": np.arange(40.0)},
            r"dataset 'dataset_0': Bad\.coords\(\) names the dim 'wavelength', which its "
            r"observation does not have \(its dims: 'x'\); name the dims given to its "
            r"observation \(dims=\.\.\.\)\.$",
        ),
        (
            [("x", np.arange(40.0))],
            r"dataset 'dataset_0': Bad\.coords\(\) returned list; it must return a dict of "
            r"coordinate values by dim name, such as \{'x': xvalues\}\.$",
        ),
    ],
)
def test_bad_coordinates_are_refused_before_the_fit(coords, message):
    class Bad(gf.ex.Analysis):
        def coords(self):
            return coords

    data, noise = gf.ex.simulate_gaussian_dataset(size=40, seed=0)
    with pytest.raises(gf.DataError, match=message):
        gf.MAP(random_seed=1).fit(model=gf.Model(gf.ex.Gaussian), analysis=Bad(data, noise))


# -- a saved fit: one NetCDF file, plots redrawn without the analysis ---------------------------


def test_a_loaded_fit_redraws_its_fit_plots_without_the_analysis(tmp_path):
    x = X
    result_list = fit_graph(profile_analyses([x, x]), name="fit", output_path=tmp_path)
    folder = result_list.output_folder
    assert sorted(p.suffix for p in folder.iterdir() if p.suffix == ".nc") == [".nc"]
    assert not (folder / "plots").exists()
    loaded = gf.load_result(folder)
    assert isinstance(loaded, gf.LoadedResultList) and loaded.compiled is None
    for live, again in zip(result_list, loaded, strict=True):
        figure = again.plot_fit()
        line = figure.axes[0].get_lines()[-1]
        np.testing.assert_allclose(line.get_xdata(), x)
        np.testing.assert_allclose(line.get_ydata(), fit_band(live).median)
        assert figure.axes[0].get_title() == live.name
    figure = loaded.plot_fits()
    assert len(figure.axes) == 4  # two panels per dataset
    plt.close("all")


def test_the_saved_band_is_the_live_fits_band(tmp_path):
    result_list = fit_graph(profile_analyses([X, X]), name="fit", output_path=tmp_path)
    loaded = gf.load_result(result_list.output_folder)
    for live, again in zip(result_list, loaded, strict=True):
        computed, saved = fit_band(live), fit_band(again)
        for field in ("data", "noise_map", "median", "lower", "upper", "x"):
            np.testing.assert_allclose(getattr(saved, field), getattr(computed, field))
        assert (saved.dims, saved.draws, saved.name) == (computed.dims, computed.draws, live.name)


@pytest.mark.slow  # a fit in a new process
def test_a_loaded_fit_plots_in_a_process_without_the_users_classes(tmp_path):
    script = textwrap.dedent(
        f"""
        import numpy as np
        import graphfit as gf

        class Line:
            def __init__(self, slope=1.0, intercept=0.0):
                self.slope, self.intercept = slope, intercept

        class LineAnalysis(gf.Analysis):
            def __init__(self, x, y, noise):
                self.x, self.y, self.noise = x, y, noise
            def coords(self):
                return {{"x": self.x}}
            def observation(self, instance, xp=np):
                return gf.GaussianObservation(
                    instance.slope * self.x + instance.intercept, self.y, self.noise, dims=("x",)
                )

        x = np.linspace(1.0, 5.0, 9)
        y = 2.0 * x + 1.0 + np.random.default_rng(0).normal(0.0, 0.1, x.size)
        search = gf.MAP(random_seed=1, name="line", output_path={str(tmp_path)!r})
        model = gf.Model(Line)
        model.slope = gf.UniformPrior(lower_limit=0.0, upper_limit=5.0)
        model.intercept = gf.UniformPrior(lower_limit=-5.0, upper_limit=5.0)
        result = search.fit(model=model, analysis=LineAnalysis(x, y, np.full(9, 0.1)))
        print(result.result_list.output_folder)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    folder = run.stdout.strip().splitlines()[-1]
    assert json.loads((Path(folder) / METADATA).read_text())["format_version"] == 3
    loaded = gf.load_result(folder)  # this process has no Line or LineAnalysis
    figure = loaded[0].plot_fit()
    line = figure.axes[0].get_lines()[-1]
    np.testing.assert_allclose(line.get_xdata(), np.linspace(1.0, 5.0, 9))
    np.testing.assert_allclose(line.get_ydata(), 2.0 * line.get_xdata() + 1.0, atol=0.2)
    plt.close("all")


def test_a_dataset_without_a_saved_band_says_how_to_plot_it(tmp_path):
    counts, edges = gf.ex.simulate_histogram(gf.ex.Gaussian(50.0, 500.0, 8.0), seed=0)
    search = gf.MAP(random_seed=1, name="histogram", output_path=tmp_path)
    result = search.fit(
        model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.HistogramAnalysis(counts, edges)
    )
    loaded = gf.load_result(result.result_list.output_folder)
    with pytest.raises(
        gf.PlotError,
        match=r"dataset 'dataset_0': cannot plot the fit: the saved result holds no fit band for "
        r"it \(it was saved by an older graphfit, or the dataset cannot be drawn\)\. Load it with "
        r"its model and analysis: gf\.load_result\(folder, model=factor_graph\)\.$",
    ):
        loaded[0].plot_fit()


def test_plots_must_be_true_or_false():
    with pytest.raises(gf.SearchError, match=r"^NUTS: plots must be True or False, got 'yes'\.$"):
        gf.NUTS(plots="yes")
    assert gf.MAP(plots=True).plots and not gf.MAP().plots


def test_fit_each_writes_one_netcdf_file_per_fit(tmp_path):
    analyses = profile_analyses([np.arange(30.0), np.arange(30.0)])
    search = gf.MAP(random_seed=1, name="each", output_path=tmp_path)
    model = gf.Model(gf.ex.Gaussian)
    factors = [gf.AnalysisFactor(model, a) for a in analyses]
    result_list = gf.fit_each(factors, search, executor=None, progressbar=False)
    files = sorted(p.relative_to(tmp_path).parts[-1] for p in tmp_path.rglob("*.nc"))
    assert files == ["joint.nc", "joint.nc"]
    assert not list(tmp_path.rglob("*.png"))
    for result in result_list:
        np.testing.assert_array_equal(result.idata.observed_data["x"].values, np.arange(30.0))

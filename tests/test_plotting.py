"""Fit plots and the model graph, checked by their contents after rendering to PNG."""

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.image import AxesImage

import graphfit as gf
from graphfit.results.plotting import fit_band
from tests.conftest import (
    TRUTH_RELATIONAL,
    X_RELATIONAL,
    identical_analyses,
    identical_graph,
    relational_graph,
)

ROOT = Path(__file__).resolve().parents[1]


def render(figure) -> np.ndarray:
    """Render to PNG in memory and read the pixels back."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=50)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    buffer.seek(0)
    return matplotlib.image.imread(buffer, format="png")


def check_1d_panels(top, bottom, name, band):
    """The upper panel holds data with error bars, band and median; the lower the residuals."""
    assert top.get_title() == name
    errorbars = [c for c in top.containers if isinstance(c, ErrorbarContainer)]
    assert len(errorbars) == 1
    data_line, _, (bars,) = errorbars[0].lines
    np.testing.assert_array_equal(data_line.get_ydata(), band.data)
    assert len(bars.get_segments()) == band.data.size  # one error bar per point
    bands = [c for c in top.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1 and bands[0].get_label() == "68% band"
    medians = [line for line in top.get_lines() if line.get_label() == "posterior median model"]
    assert len(medians) == 1
    np.testing.assert_allclose(medians[0].get_ydata(), band.median)
    assert [t.get_text() for t in top.get_legend().get_texts()] == [
        "68% band",
        "posterior median model",
        "data",
    ]
    assert bottom.get_ylabel() == "residual / noise"
    assert bottom.get_xlabel() == "x"
    lines = bottom.get_lines()
    assert len(lines) == 2  # the zero line and the residual points
    np.testing.assert_allclose(lines[1].get_ydata(), band.residuals)


@pytest.mark.slow
def test_plot_fit_draws_data_band_model_and_residuals(identical_fit):
    result = identical_fit[1]
    figure = result.plot_fit()
    pixels = render(figure)
    assert pixels.shape[:2] == (225, 300)  # 6 x 4.5 inches at 50 dpi
    assert len(figure.axes) == 2
    band = fit_band(result)
    check_1d_panels(*figure.axes, "dataset_1", band)
    np.testing.assert_array_equal(band.data, identical_analyses()[1].data)
    assert band.draws == 200
    assert np.all(band.lower <= band.median) and np.all(band.median <= band.upper)
    assert np.all(band.upper > band.lower)  # a real posterior has a band of some width
    # the fit is good: normalised residuals scatter like unit Gaussians
    assert np.std(band.residuals) == pytest.approx(1.0, abs=0.2)
    plt.close(figure)


@pytest.mark.slow
def test_plot_fits_is_a_grid_of_every_dataset(identical_fit):
    figure = identical_fit.plot_fits(draws=50, ncols=2)
    render(figure)
    assert len(figure.subfigs) == 4  # 2 x 2 cells, the last one empty
    assert tuple(figure.get_size_inches()) == (12.0, 9.0)
    assert len(figure.axes) == 6
    tops = figure.axes[0::2]
    assert [ax.get_title() for ax in tops] == ["dataset_0", "dataset_1", "dataset_2"]
    for k, result in enumerate(identical_fit):
        check_1d_panels(*figure.subfigs[k].axes, result.name, fit_band(result, draws=50))
    assert figure.subfigs[3].axes == []
    plt.close(figure)


@pytest.fixture(scope="module")
def named_fit():
    """A cheap fit (MAP) of two datasets whose names are not safe file names ('/' is refused
    in names altogether, see tests/test_input_hardening.py)."""
    model = gf.Model(gf.ex.Gaussian)
    factors = [
        gf.AnalysisFactor(model, analysis, name=name)
        for analysis, name in zip(identical_analyses(), ["epoch 1:a", "epoch 1_a"], strict=False)
    ]
    graph = gf.FactorGraphModel(*factors)
    return gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)


def test_save_plots_writes_one_png_per_dataset(tmp_path, named_fit):
    folder = tmp_path / "fit" / "plots"
    open_figures = plt.get_fignums()
    paths = named_fit.save_plots(folder, dpi=40)
    # unsafe characters become "_"; names that then clash get the dataset's index
    assert paths == [folder / "fit_epoch_1_a.png", folder / "fit_epoch_1_a_1.png"]
    assert sorted(os.listdir(folder)) == ["fit_epoch_1_a.png", "fit_epoch_1_a_1.png"]  # no temps
    for path in paths:
        assert matplotlib.image.imread(path).shape[:2] == (180, 240)
    assert plt.get_fignums() == open_figures  # no new pyplot figure left open
    assert fit_band(named_fit[0]).draws == 1  # MAP: one sample, the band is the optimum
    # saving again replaces the files
    assert named_fit.save_plots(folder, dpi=20) == paths
    assert matplotlib.image.imread(paths[0]).shape[:2] == (90, 120)


class Plane:
    def __init__(self, slope_x=0.0, slope_y=0.0, offset=0.0):
        self.slope_x, self.slope_y, self.offset = slope_x, slope_y, offset


class ImageAnalysis(gf.Analysis):
    """2D data: a plane on a 6 x 8 grid (dims y, x)."""

    def __init__(self, data, noise_map):
        self.data, self.noise_map = np.asarray(data), np.asarray(noise_map)
        self.y, self.x = np.indices(self.data.shape, dtype=float)

    def observation(self, instance, xp=np):
        model = instance.slope_x * self.x + instance.slope_y * self.y + instance.offset
        return gf.GaussianObservation(model, self.data, self.noise_map, dims=self.dims)

    dims = ("y", "x")


def plane_model():
    return gf.Model(
        Plane,
        slope_x=gf.UniformPrior(-5.0, 5.0),
        slope_y=gf.UniformPrior(-5.0, 5.0),
        offset=gf.UniformPrior(-10.0, 10.0),
    )


def test_2d_data_is_drawn_as_three_images():
    y, x = np.indices((6, 8), dtype=float)
    rng = np.random.default_rng(0)
    data = 0.5 * x - 0.3 * y + 2.0 + rng.normal(0.0, 0.1, x.shape)
    result = gf.MAP(random_seed=1).fit(
        model=plane_model(), analysis=ImageAnalysis(data, np.full(x.shape, 0.1))
    )
    figure = result.plot_fit()
    render(figure)
    images = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in images] == [
        "data",
        "posterior median model",
        "residual / noise",
    ]
    assert len(figure.axes) == 6  # three images and their colour bars
    assert all(isinstance(ax.images[0], AxesImage) for ax in images)
    np.testing.assert_array_equal(images[0].images[0].get_array(), data)
    band = fit_band(result)
    np.testing.assert_allclose(images[2].images[0].get_array(), band.residuals)
    assert (images[0].get_xlabel(), images[0].get_ylabel()) == ("x", "y")
    assert figure.get_suptitle() == "dataset_0"
    plt.close(figure)


def test_data_of_three_dims_is_refused():
    class CubeAnalysis(ImageAnalysis):
        dims = ("z", "y", "x")

        def __init__(self, data, noise_map):
            self.data, self.noise_map = np.asarray(data), np.asarray(noise_map)

        def observation(self, instance, xp=np):
            return gf.GaussianObservation(
                instance.offset + 0.0 * self.data, self.data, self.noise_map, dims=self.dims
            )

    result = gf.MAP(random_seed=1).fit(
        model=plane_model(), analysis=CubeAnalysis(np.zeros((2, 3, 4)), np.ones((2, 3, 4)))
    )
    with pytest.raises(
        gf.PlotError,
        match=r"dataset 'dataset_0': cannot plot the fit of data with shape \(2, 3, 4\) "
        r"\(3 dims\); fit plots draw 1D data",
    ):
        result.plot_fit()


class LineLikelihood(gf.Analysis):
    def __init__(self, y):
        self.y = np.asarray(y)
        self.x = np.arange(len(y), dtype=float)

    def log_likelihood_function(self, instance, xp=np):
        return -0.5 * ((self.y - instance.slope_x * self.x - instance.offset) / 0.5) ** 2


class LineObservation(gf.Analysis):
    def __init__(self, y):
        LineLikelihood.__init__(self, y)

    def observation(self, instance, xp=np):
        model = instance.slope_x * self.x + instance.offset
        return gf.GaussianObservation(model, self.y, np.full(self.y.shape, 0.5), dims=("t",))


class LineWithObservation(LineObservation):
    """A custom likelihood below a class that declares an observation (kept for plots)."""

    log_likelihood_function = LineLikelihood.log_likelihood_function


def test_custom_likelihood_plots_only_with_an_observation():
    y = 2.0 * np.arange(10.0) + 1.0 + np.random.default_rng(3).normal(0.0, 0.5, 10)
    model = gf.Model(
        Plane, slope_x=gf.UniformPrior(-5.0, 5.0), slope_y=0.0, offset=gf.UniformPrior(-5.0, 5.0)
    )
    search = gf.MAP(random_seed=1)
    result = search.fit(model=model, analysis=LineLikelihood(y))
    with pytest.raises(
        gf.PlotError,
        match=r"dataset 'dataset_0': cannot plot the fit: its analysis \(LineLikelihood\) "
        r"defines log_likelihood_function but not observation\(\)",
    ):
        result.plot_fit()
    result = search.fit(model=model, analysis=LineWithObservation(y))
    assert not LineWithObservation.uses_observation()
    figure = result.plot_fit()
    render(figure)
    top, bottom = figure.axes
    assert bottom.get_xlabel() == "t"
    np.testing.assert_allclose(top.get_lines()[-1].get_ydata(), fit_band(result).median)
    with pytest.raises(gf.PredictiveError, match="overrides log_likelihood_function"):
        result.posterior_predictive()
    plt.close(figure)


@pytest.mark.slow
def test_relations_are_evaluated_per_dataset_in_the_band():
    # sigma = sigma_m * x + sigma_c differs per dataset; the band must use each dataset's x
    graph = relational_graph()
    result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    m, c = TRUTH_RELATIONAL["sigma_m"], TRUTH_RELATIONAL["sigma_c"]
    for result, x in zip(result_list, X_RELATIONAL, strict=True):
        band = fit_band(result)
        assert np.std(band.residuals) == pytest.approx(1.0, abs=0.2)
        truth = gf.ex.Gaussian(centre=50.0, normalization=50.0, sigma=m * x + c)
        expected = truth.model_data_from(np.arange(100.0))
        assert np.max(np.abs(band.median - expected) / band.noise_map) < 1.0


def test_bad_draws_and_columns_are_refused(named_fit):
    result_list = named_fit
    with pytest.raises(gf.PlotError, match=r"fit plot: draws must be an integer >= 1, got 0\."):
        result_list[0].plot_fit(draws=0)
    with pytest.raises(gf.PlotError, match=r"plot_fits: ncols must be an integer >= 1, got 0\."):
        result_list.plot_fits(ncols=0)


def test_graphviz_source_names_the_datasets():
    graph = identical_graph()
    digraph = graph.graphviz()
    import graphviz

    assert isinstance(digraph, graphviz.Digraph)
    source = digraph.source
    assert "cluster" in source and "dataset (3)" in source  # the vectorised plate
    for name in ("centre", "normalization", "sigma", "obs"):
        assert f"\t{name} [" in source
    assert "::" not in source and "Data" not in source  # no containers: as written by hand
    graph.vectorize = False
    source = graph.graphviz().source
    for name in ("dataset_0.obs", "dataset_1.obs", "dataset_2.obs"):
        assert f'"{name}" [' in source


@pytest.mark.skipif(shutil.which("dot") is not None, reason="Graphviz's dot is installed")
def test_rendering_without_dot_says_how_to_install_it(tmp_path):
    import graphviz

    digraph = identical_graph().graphviz()
    message = r"rendering the model graph needs Graphviz's `dot` program, which is not on PATH"
    with pytest.raises(graphviz.ExecutableNotFound, match=message):
        digraph.pipe(format="svg")
    with pytest.raises(graphviz.ExecutableNotFound, match=r"apt-get install graphviz"):
        digraph.render(tmp_path / "model", format="png")
    with pytest.raises(graphviz.ExecutableNotFound, match=r"graphviz\(\)\.source"):
        digraph._repr_mimebundle_()  # what a notebook calls to show it


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_rendering_with_dot(tmp_path):
    digraph = identical_graph().graphviz()
    assert digraph.pipe(format="svg").startswith(b"<?xml")


def test_graphviz_without_the_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    with pytest.raises(ImportError, match=r"pip install 'graphfit\[graphviz\]'"):
        identical_graph().graphviz()


def test_import_graphfit_does_not_load_matplotlib_or_graphviz():
    code = "import sys, graphfit; print(sorted(m for m in ('matplotlib', 'graphviz') if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"

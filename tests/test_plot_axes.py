"""Plots that compose: every plotting function draws into the user's Axes (``ax=`` / ``axes=``)
and returns what it drew on; many datasets are drawn as small multiples, in pages."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.container import ErrorbarContainer

import graphfit as gf
from graphfit.backend import stack
from graphfit.results.plot_grid import FULL_UP_TO, plot_fits
from graphfit.results.plotting import fit_band, plot_fit

matplotlib.use("Agg")

MANY = 50


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def analyses(count: int) -> list[gf.ex.Analysis]:
    return [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in range(count)]


def map_fit(count: int) -> gf.ResultList:
    model = gf.Model(gf.ex.Gaussian)
    graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses(count)])
    return gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)


@pytest.fixture(scope="module")
def three():
    return map_fit(3)


@pytest.fixture(scope="module")
def many():
    return map_fit(MANY)


def errorbars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def check_band(ax, result, draws: int = 200) -> None:
    """``ax`` holds ``result``'s data (error bars), its 68% band and its median model."""
    band = fit_band(result, draws)
    (container,) = errorbars(ax)
    np.testing.assert_array_equal(container.lines[0].get_ydata(), band.data)
    np.testing.assert_array_equal(container.lines[0].get_ydata(), result.analysis.data)
    (shade,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert shade.get_label() == "68% band"
    (median,) = [line for line in ax.get_lines() if line.get_label() == "posterior median model"]
    np.testing.assert_allclose(median.get_ydata(), band.median)


def test_plot_fit_draws_into_one_axes_of_the_users_grid(three):
    result = three[1]
    figure, grid = plt.subplots(2, 2)
    returned = result.plot_fit(ax=grid[0, 1])
    assert returned is grid[0, 1]
    check_band(grid[0, 1], result)
    assert grid[0, 1].get_title() == "dataset_1"
    assert len(grid[0, 1].get_lines()) == 2  # the data's markers and the median
    assert len(figure.axes) == 4  # no new Axes, no residual panel
    for ax in (grid[0, 0], grid[1, 0], grid[1, 1]):
        assert not ax.has_data() and ax.get_title() == ""
    assert plt.get_fignums() == [figure.number]  # no figure of its own


def test_plot_fit_takes_two_axes_for_band_and_residuals(three):
    result = three[0]
    _, axes = plt.subplots(2, 1, sharex=True)
    assert plot_fit(result, axes=axes) is axes
    check_band(axes[0], result)
    _, points = axes[1].get_lines()  # the zero line and the residuals
    np.testing.assert_allclose(points.get_ydata(), fit_band(result).residuals)
    assert axes[1].get_ylabel() == "residual / noise"
    listed = plt.subplots(1, 2)[1]
    returned = result.plot_fit(axes=list(listed))
    assert isinstance(returned, np.ndarray) and list(returned) == list(listed)


def test_matplotlib_keywords_reach_the_artists(three):
    ax = plt.subplots()[1]
    three[2].plot_fit(
        ax=ax,
        data_kwargs={"color": "tab:green", "marker": "s"},
        model_kwargs={"color": "tab:purple", "linestyle": "--"},
        band_kwargs={"alpha": 0.1},
        legend=False,
    )
    (container,) = errorbars(ax)
    assert container.lines[0].get_color() == "tab:green"
    assert container.lines[0].get_marker() == "s"
    (median,) = [line for line in ax.get_lines() if line.get_label() == "posterior median model"]
    assert (median.get_color(), median.get_linestyle()) == ("tab:purple", "--")
    (shade,) = ax.collections[:1]
    np.testing.assert_allclose(shade.get_facecolor()[0], to_rgba("tab:purple", 0.1))
    assert ax.get_legend() is None


def test_plot_fit_keeps_its_own_figure_without_axes(three):
    figure = three[0].plot_fit(figsize=(5.0, 4.0))
    assert isinstance(figure, matplotlib.figure.Figure)
    assert tuple(figure.get_size_inches()) == (5.0, 4.0)
    assert [ax.get_title() for ax in figure.axes] == ["dataset_0", ""]


def test_wrong_axes_are_refused(three):
    figure, axes = plt.subplots(1, 3)
    with pytest.raises(gf.PlotError, match=r"give ax \(one Axes\) or axes \(several\), not both"):
        three[0].plot_fit(ax=axes[0], axes=axes[1:])
    with pytest.raises(gf.PlotError, match=r"holds 1D data, drawn on 2 Axes \(band, residuals\)"):
        three[0].plot_fit(axes=axes)
    with pytest.raises(gf.PlotError, match="axes must be matplotlib Axes"):
        three[0].plot_fit(axes=[figure, axes[0]])
    with pytest.raises(gf.PlotError, match=r"3 datasets need 6 Axes .* got 3"):
        three.plot_fits(axes=axes, residuals=True)


def test_plot_fits_fills_the_users_grid_in_order(three):
    figure, grid = plt.subplots(2, 2, sharex=True)
    assert three.plot_fits(axes=grid, draws=20) is grid
    for ax, result in zip(grid.flat, three, strict=False):
        check_band(ax, result, draws=20)
        assert ax.get_title() == result.name
    assert not grid[1, 1].has_data()  # an Axes more than datasets: left as it was
    assert len(figure.axes) == 4
    figure, pairs = plt.subplots(2, 3)
    plot_fits(three, draws=20, axes=pairs.T, residuals=True)  # columns of (band, residuals)
    for column, result in zip(pairs.T, three, strict=True):
        check_band(column[0], result, draws=20)
        assert column[1].get_ylabel() == "residual / noise"


def test_plot_fits_of_few_datasets_keeps_the_two_panel_grid(three):
    figure = three.plot_fits(draws=20)
    assert len(figure.subfigs) == 3 and len(figure.axes) == 6
    assert tuple(figure.get_size_inches()) == (18.0, 4.5)
    assert figure.legends == []  # one legend per dataset, in its panel
    assert figure.get_suptitle() == ""


def test_fifty_datasets_are_small_multiples_on_one_figure(many):
    assert len(many) == MANY > FULL_UP_TO
    figure = many.plot_fits(draws=20)
    axes = figure.axes
    assert len(axes) == MANY  # one compact panel per dataset, no empty cells
    assert [ax.get_title() for ax in axes] == [r.name for r in many]
    for ax, result in zip(axes, many, strict=True):
        check_band(ax, result, draws=20)
        assert ax.get_legend() is None
        (text,) = ax.texts
        band = fit_band(result, 20)
        assert text.get_text() == f"chi2/N = {np.mean(band.residuals**2):.2f}"
    assert len(figure.legends) == 1  # one legend for the figure
    assert axes[0].get_shared_x_axes().joined(axes[0], axes[-1])  # same x everywhere
    assert not axes[0].get_shared_y_axes().joined(axes[0], axes[1])
    assert (figure.get_supxlabel(), figure.get_supylabel()) == ("x", "data")
    width, height = figure.get_size_inches()
    assert width == pytest.approx(8 * 2.8) and height < 20.0  # 8 columns, 7 rows


def test_fifty_datasets_paginate(many, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pages = many.plot_fits(draws=20, per_page=20, ncols=5, sharey=True)
    assert isinstance(pages, list) and [len(f.axes) for f in pages] == [20, 20, 10]
    titles = [ax.get_title() for figure in pages for ax in figure.axes]
    assert titles == [r.name for r in many]  # every dataset drawn exactly once, in order
    assert [f.get_suptitle() for f in pages] == [
        "datasets 1-20 of 50 (page=0 of 3 pages)",
        "datasets 21-40 of 50 (page=1 of 3 pages)",
        "datasets 41-50 of 50 (page=2 of 3 pages)",
    ]
    first = pages[0].axes
    assert first[0].get_shared_y_axes().joined(first[0], first[7])
    for k, ax in enumerate(first):  # shared axes: tick labels on the outer panels only
        assert ax.xaxis.get_tick_params()["labelbottom"] == (k >= 15)
        assert ax.yaxis.get_tick_params()["labelleft"] == (k % 5 == 0)
    last = many.plot_fits(draws=20, per_page=20, page=2)
    assert isinstance(last, matplotlib.figure.Figure)
    assert [ax.get_title() for ax in last.axes] == [r.name for r in many[40:]]
    check_band(last.axes[3], many[43], draws=20)
    assert [ax.get_title() for ax in plot_fits(many, draws=5, page=1).axes] == [
        r.name
        for r in many[20:40]  # 20 to a page by default
    ]
    few = plot_fits(many, draws=5, per_page=4, page=0, compact=False)
    assert len(few.subfigs) == 6 and len(few.axes) == 8  # 2 rows of 3 cells, 4 datasets
    assert list(tmp_path.iterdir()) == []  # nothing written to disk
    with pytest.raises(gf.PlotError, match=r"page=3 is out of range: 50 datasets at per_page=20"):
        many.plot_fits(per_page=20, page=3)
    with pytest.raises(gf.PlotError, match=r"per_page must be an integer >= 1, got 0"):
        many.plot_fits(per_page=0)


def test_plot_ppc_draws_into_the_users_axes(three):
    figure, (left, right) = plt.subplots(1, 2)
    assert three[0].plot_ppc(num_samples=1, ax=right) is right
    assert right.get_lines() and not left.has_data()
    assert len(figure.axes) == 2 and plt.get_fignums() == [figure.number]
    assert isinstance(three[0].plot_ppc(num_samples=1), matplotlib.figure.Figure)


def test_comparison_plot_draws_into_the_users_axes(small_identical_fit):
    # one short NUTS fit under two labels: where the plot goes does not depend on the models
    fits = {"shared centre": small_identical_fit, "own centres": small_identical_fit}
    comparison = gf.compare(fits)
    figure, (left, right) = plt.subplots(1, 2)
    assert comparison.plot(ax=left) is left
    labels = [t.get_text() for t in left.get_yticklabels()]
    assert set(labels) >= {"shared centre", "own centres"}
    assert not right.has_data() and plt.get_fignums() == [figure.number]
    if stack.ARVIZ_1:  # arviz-plots asks for its grid of Axes: ax= stands for a grid of one
        import arviz_plots.backend.matplotlib as backend

        with pytest.raises(gf.PlotError, match="ArviZ's plot needs 2 Axes here; ax= takes one"):
            stack._onto_axes(left, lambda: backend.create_plotting_grid(2, 1, 2))


def test_plot_profile_1d_returns_the_axes_it_was_given():
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    _, axes = plt.subplots(1, 2)
    returned = gf.ex.plot_profile_1d(range(len(data)), data, noise_map=noise_map, ax=axes[1])
    assert returned is axes[1]
    np.testing.assert_array_equal(errorbars(axes[1])[0].lines[0].get_ydata(), data)
    line = gf.ex.plot_profile_1d(range(3), [1.0, 2.0, 3.0], ax=axes[0], color="tab:red")
    assert line is axes[0] and axes[0].get_lines()[0].get_color() == "tab:red"
    assert isinstance(gf.ex.plot_profile_1d(range(3), [1.0, 2.0, 3.0]), matplotlib.figure.Figure)


def test_2d_data_take_three_axes_each():
    from tests.test_plotting import ImageAnalysis, plane_model

    y, x = np.indices((6, 8), dtype=float)
    rng = np.random.default_rng(0)
    images = [0.5 * x - 0.3 * y + k + rng.normal(0.0, 0.1, x.shape) for k in range(2)]
    model = plane_model()
    graph = gf.FactorGraphModel(
        *[gf.AnalysisFactor(model, ImageAnalysis(d, np.full(x.shape, 0.1))) for d in images]
    )
    result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    with pytest.raises(gf.PlotError, match=r"holds 2D data, drawn as three images: give axes="):
        result_list[0].plot_fit(ax=plt.subplots()[1])
    figure, rows = plt.subplots(2, 3)
    assert result_list.plot_fits(axes=rows, image_kwargs={"cmap": "magma"}) is rows
    for row, data in zip(rows, images, strict=True):
        np.testing.assert_array_equal(row[0].images[0].get_array(), data)
        assert row[0].images[0].get_cmap().name == "magma"
        assert [ax.get_title() for ax in row[1:]] == ["posterior median model", "residual / noise"]
    assert [row[0].get_title() for row in rows] == ["dataset_0: data", "dataset_1: data"]
    assert len(figure.axes) == 12  # six images and their colour bars
    pages = result_list.plot_fits(per_page=1, compact=True)
    assert [len(page.axes) for page in pages] == [6, 6]
    assert tuple(pages[0].get_size_inches()) == (7.5, 2.2)

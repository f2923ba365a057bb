"""Fit plots of many datasets: a grid of figures, small multiples, pages, or the user's Axes.

:func:`plot_fits` draws every dataset's fit (:mod:`graphfit.results.plotting`).  Up to
:data:`FULL_UP_TO` datasets to a figure, each gets the full two-panel plot (band above,
normalised residuals below), three to a row.  More datasets are drawn as small multiples: one
compact panel each (data, posterior median model and 68% band) titled by the dataset name and
its reduced chi-square ``chi2/N = mean(residual**2)``, x shared when every dataset has the same
x values, one legend and axis labels for the figure, so that 50 datasets stay readable on one
figure.  ``per_page`` splits the datasets into pages of that many (a figure each), ``page``
picks one.  ``axes=`` draws into the user's own grid instead.  Nothing is written to disk.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import PlotError
from graphfit.results.plotting import (
    FitBand,
    _check_drawable,
    _size,
    axes_array,
    draw_band_1d,
    draw_band_2d,
    draw_figure,
    fit_band,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import matplotlib.axes
    import matplotlib.figure

    from graphfit.results.result import Result
    from graphfit.results.result_list import ResultList

__all__ = ["FULL_UP_TO", "PER_PAGE", "fit_pages", "plot_fits"]

#: Most datasets a figure holds with the full two-panel plot each; more are small multiples.
FULL_UP_TO = 6
#: Datasets per page when ``page`` is given without ``per_page``.
PER_PAGE = 20
#: Longest dataset name shown in a small-multiples title (longer ones end with "...").
TITLE_CHARS = 28


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise PlotError(f"plot_fits: {name} must be an integer >= 1, got {value!r}.")
    return int(value)


def fit_pages(total: int, per_page: int | None) -> list[range]:
    """The dataset indices of each page: ``per_page`` to a page, all on one without it.

    Examples
    --------
    >>> from graphfit.results.plot_grid import fit_pages
    >>> fit_pages(50, 20)
    [range(0, 20), range(20, 40), range(40, 50)]
    >>> fit_pages(3, None)
    [range(0, 3)]
    """
    step = max(total, 1) if per_page is None else _count(per_page, "per_page")
    return [range(start, min(start + step, total)) for start in range(0, max(total, 1), step)]


def _short(name: str) -> str:
    return name if len(name) <= TITLE_CHARS else name[: TITLE_CHARS - 3] + "..."


def _compact_1d(band: FitBand, ax: matplotlib.axes.Axes, style: Mapping[str, Any]) -> None:
    """One small-multiples panel: the band with a short title and its reduced chi-square."""
    draw_band_1d(band, ax, None, **{**style, "legend": False})
    ax.set_title(_short(band.name), fontsize="small", pad=3)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(labelsize="x-small")
    ax.text(
        0.98,
        0.96,
        f"chi2/N = {float(np.mean(band.residuals**2)):.2f}",
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize="x-small",
    )


def _small_multiples(
    figure: matplotlib.figure.Figure,
    bands: list[FitBand],
    ncols: int,
    sharey: bool,
    style: Mapping[str, Any],
) -> None:
    nrows = math.ceil(len(bands) / ncols)
    x0 = bands[0].x
    same_x = x0 is not None and all(
        b.x is not None and b.x.shape == x0.shape and np.all(b.x == x0) for b in bands
    )
    grid = figure.add_gridspec(nrows, ncols)
    first = None
    for k, band in enumerate(bands):
        row, col = divmod(k, ncols)
        ax = figure.add_subplot(
            grid[row, col],
            sharex=first if same_x else None,
            sharey=first if sharey else None,
        )
        first = ax if first is None else first
        _compact_1d(band, ax, style)
        below = k + ncols < len(bands)  # a panel under this one shows the shared x labels
        if same_x and below:
            ax.tick_params(labelbottom=False)
        if sharey and col > 0:
            ax.tick_params(labelleft=False)
    assert first is not None  # bands is not empty
    handles, labels = first.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right upper", fontsize="small")
    figure.supxlabel(bands[0].dims[0], fontsize="small")
    figure.supylabel("data", fontsize="small")


def _page_figure(
    bands: list[FitBand],
    ncols: int | None,
    compact: bool | None,
    sharey: bool,
    figsize: tuple[float, float] | None,
    style: dict[str, Any],
    image_kwargs: Mapping[str, Any] | None,
    title: str | None,
) -> matplotlib.figure.Figure:
    import matplotlib.pyplot as plt

    flat = all(b.data.ndim == 1 for b in bands)
    compact = len(bands) > FULL_UP_TO if compact is None else compact
    if compact and flat:
        ncols = min(8, math.ceil(math.sqrt(len(bands)))) if ncols is None else ncols
        ncols = min(ncols, len(bands))
        size = (2.8 * ncols, 2.1 * math.ceil(len(bands) / ncols) + 0.6)
        figure = plt.figure(figsize=figsize or size, layout="constrained")
        _small_multiples(figure, bands, ncols, sharey, style)
    else:
        ncols = min(3 if ncols is None else ncols, len(bands)) if flat else 1
        nrows = math.ceil(len(bands) / ncols)
        width, height = max(_size(b.data.ndim) for b in bands)
        if compact:  # 2D data: one row of three small images per dataset
            width, height = 7.5, 2.2
        size = (width * ncols, height * nrows)
        figure = plt.figure(figsize=figsize or size, layout="constrained")
        cells = figure.subfigures(nrows, ncols, squeeze=False).ravel()
        for cell, band in zip(cells, bands, strict=False):
            draw_figure(band, cell, image_kwargs=image_kwargs, **style)
    if title is not None:
        figure.suptitle(title, fontsize="medium")
    return figure


def _into_axes(
    bands: list[FitBand],
    axes: Any,
    residuals: bool,
    style: dict[str, Any],
    image_kwargs: Mapping[str, Any] | None,
) -> np.ndarray:
    array = axes_array(axes, "plot_fits")
    flat = list(array.flat)
    sizes = [3 if b.data.ndim == 2 else 2 if residuals else 1 for b in bands]
    if sum(sizes) > len(flat):
        raise PlotError(
            f"plot_fits: {len(bands)} datasets need {sum(sizes)} Axes (one per 1D dataset, two "
            f"with residuals=True, three per 2D dataset), got {len(flat)}: give more Axes, or "
            "per_page= and page= to draw some of the datasets."
        )
    position = 0
    for band, size in zip(bands, sizes, strict=True):
        cells = flat[position : position + size]
        position += size
        if band.data.ndim == 2:
            titles = (f"{band.name}: data", "posterior median model", "residual / noise")
            draw_band_2d(band, cells, titles=titles, image_kwargs=image_kwargs)
        elif residuals:
            draw_band_1d(band, cells[0], cells[1], **style)
        else:
            _compact_1d(band, cells[0], style)
            cells[0].set_xlabel(band.dims[0], fontsize="small")
    return array


def plot_fits(
    result_list: ResultList | Sequence[Result],
    draws: int = 200,
    ncols: int | None = None,
    *,
    per_page: int | None = None,
    page: int | None = None,
    axes: Sequence[matplotlib.axes.Axes] | np.ndarray | None = None,
    compact: bool | None = None,
    residuals: bool = False,
    sharey: bool = False,
    figsize: tuple[float, float] | None = None,
    data_kwargs: Mapping[str, Any] | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    band_kwargs: Mapping[str, Any] | None = None,
    image_kwargs: Mapping[str, Any] | None = None,
) -> matplotlib.figure.Figure | list[matplotlib.figure.Figure] | np.ndarray:
    """Plot every dataset's fit: one figure, a list of pages, or into the user's Axes.

    Parameters
    ----------
    result_list
        The results (a :class:`~graphfit.ResultList` or a sequence of ``Result``).
    draws
        Number of posterior samples each model band is computed from.
    ncols
        Columns of the grid: by default three full plots, or ``ceil(sqrt(n))`` (at most 8)
        small multiples.
    per_page
        Datasets to a figure; with it, the datasets are drawn in pages.
    page
        Which page to draw (from 0); ``per_page`` defaults to :data:`PER_PAGE` with it.
    axes
        The user's Axes (any shape, filled in order): one per 1D dataset (two with
        ``residuals=True``), three per 2D dataset; extra Axes are left as they are.
    compact
        Small multiples (``True``) or the full two-panel plot of each dataset (``False``);
        by default small multiples when a figure holds more than :data:`FULL_UP_TO` datasets.
    residuals
        With ``axes``: draw each 1D dataset's residuals on the Axes after its band's.
    sharey
        Whether small multiples share their y axis.
    figsize
        Size of each figure.
    data_kwargs, model_kwargs, band_kwargs, image_kwargs
        Matplotlib keywords as in :func:`graphfit.results.plotting.plot_fit`.

    Returns
    -------
    matplotlib.figure.Figure or list of matplotlib.figure.Figure or numpy.ndarray
        With ``axes``: the Axes as an array (the array itself when one was given).  With
        ``per_page`` and no ``page``: a list of Figures, one per page (each titled with its
        datasets).  Otherwise one Figure: every dataset, or the datasets of ``page``.

    Raises
    ------
    PlotError
        A dataset that cannot be drawn, a page out of range, too few ``axes``.

    Notes
    -----
    Each figure is a pyplot figure (shown in a notebook, closed with ``plt.close``); for very
    many pages, draw one at a time with ``page=`` and close it, as pyplot warns when more than
    20 figures are open.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> analyses = [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in range(3)]
    >>> graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
    >>> result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    >>> len(plot_fits(result_list).axes)  # three datasets, two panels each
    6
    >>> pages = plot_fits(result_list, per_page=2)
    >>> [len(figure.axes) for figure in pages]  # full plots: two panels per dataset
    [4, 2]
    >>> len(plot_fits(result_list, compact=True).axes)  # small multiples: one panel each
    3
    >>> figure, grid = plt.subplots(2, 2)
    >>> plot_fits(result_list, axes=grid) is grid
    True
    >>> [ax.get_title() for ax in grid.flat]
    ['dataset_0', 'dataset_1', 'dataset_2', '']
    >>> plt.close("all")
    """
    results = list(result_list)
    if not results:
        raise PlotError("plot_fits: there are no datasets to plot.")
    if ncols is not None:
        ncols = _count(ncols, "ncols")
    if page is not None:
        per_page = PER_PAGE if per_page is None else per_page
        if isinstance(page, bool) or not isinstance(page, int | np.integer) or page < 0:
            raise PlotError(f"plot_fits: page must be an integer >= 0, got {page!r}.")
    pages = fit_pages(len(results), per_page)
    if page is not None and page >= len(pages):
        raise PlotError(
            f"plot_fits: page={page} is out of range: {len(results)} datasets at "
            f"per_page={per_page} make {len(pages)} pages (0 to {len(pages) - 1})."
        )
    style = {"data_kwargs": data_kwargs, "model_kwargs": model_kwargs, "band_kwargs": band_kwargs}
    chosen = pages if page is None else [pages[page]]
    bands = {k: fit_band(results[k], draws) for indices in chosen for k in indices}
    for band in bands.values():
        _check_drawable(band)
    if axes is not None:
        return _into_axes(list(bands.values()), axes, residuals, style, image_kwargs)
    figures = []
    for indices in chosen:
        title = None
        if len(pages) > 1:
            title = (
                f"datasets {indices.start + 1}-{indices.stop} of {len(results)} "
                f"(page={pages.index(indices)} of {len(pages)} pages)"
            )
        drawn = [bands[k] for k in indices]
        figure = _page_figure(drawn, ncols, compact, sharey, figsize, style, image_kwargs, title)
        figures.append(figure)
    if per_page is not None and page is None:
        return figures
    return figures[0]

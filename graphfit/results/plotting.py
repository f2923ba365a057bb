"""Fit plots: each dataset with its posterior model.

The model curve of a dataset is computed with numpy, not PyMC: for a thinned, evenly spaced
subset of the posterior samples (``draws``, 200 by default), the dataset's model builds an
instance of the user's class (``instance_from(values, numpy)``) and its analysis's
``observation(instance, numpy)`` gives the model data, the data and the noise map
(:mod:`graphfit.results.fit_band`); a fit loaded without its model draws the band saved with
it.  The plot
shows the pointwise posterior median of the model data and its 68% band (16th to 84th
percentiles), the data with error bars (the noise map) and the normalised residuals
``(data - median model) / noise_map``.

1D data (and scalars) are drawn as a curve over ``x`` with a residual panel below it; 2D data as
three images (data, median model, normalised residuals).  :func:`plot_fit` draws a new figure
or into the user's Axes (``ax=`` one, ``axes=`` several); :mod:`graphfit.results.plot_grid`
draws many datasets as small multiples, in pages.  Matplotlib is imported inside the functions.
:func:`save_fit_plots` writes one PNG per dataset (``result_list.save_plots``, and an output
folder's ``plots/`` when the search is given ``plots=True``).
"""

from __future__ import annotations

import logging
import os
import pathlib
import re
import tempfile
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import PlotError
from graphfit.results.fit_band import FitBand, fit_band

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import matplotlib.axes
    import matplotlib.figure

    from graphfit.results.result import Result
    from graphfit.results.result_list import ResultList

__all__ = [
    "FitBand",
    "axes_array",
    "draw_band_1d",
    "draw_band_2d",
    "draw_figure",
    "draw_fit",
    "fit_band",
    "plot_filename",
    "plot_fit",
    "save_fit_plots",
]

#: Colours of the parts of a fit plot.
DATA_COLOR = "k"
MODEL_COLOR = "C3"


def _kwargs(defaults: dict[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**defaults, **(given or {})}


def draw_band_1d(
    band: FitBand,
    ax: matplotlib.axes.Axes,
    residual_ax: matplotlib.axes.Axes | None = None,
    *,
    legend: bool = True,
    title: str | None = None,
    data_kwargs: Mapping[str, Any] | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    band_kwargs: Mapping[str, Any] | None = None,
) -> None:
    """Draw a 1D band on ``ax`` (68% band, data with error bars, median model) and, when
    given, the normalised residuals on ``residual_ax``.

    ``data_kwargs`` go to ``Axes.errorbar`` (and the residual points' colour), ``model_kwargs``
    to ``Axes.plot`` of the median, ``band_kwargs`` to ``Axes.fill_between`` (its colour
    follows the model's).  ``title`` defaults to the dataset name.
    """
    model = _kwargs(
        {"color": MODEL_COLOR, "linewidth": 1.5, "label": "posterior median model"}, model_kwargs
    )
    data = _kwargs(
        {
            "color": DATA_COLOR,
            "linestyle": "none",
            "marker": ".",
            "markersize": 3,
            "elinewidth": 0.8,
            "label": "data",
        },
        data_kwargs,
    )
    shade = _kwargs(
        {"color": model["color"], "alpha": 0.3, "linewidth": 0, "label": "68% band"}, band_kwargs
    )
    x: np.ndarray = band.x  # type: ignore[assignment]  # a 1D band has x values
    ax.fill_between(x, band.lower, band.upper, **shade)
    ax.errorbar(x, band.data, yerr=band.noise_map, **data)
    ax.plot(x, band.median, **model)
    ax.set_title(band.name if title is None else title)
    ax.set_ylabel("data")
    if legend:
        ax.legend(loc="best", fontsize="small")
    if residual_ax is None:
        ax.set_xlabel(band.dims[0])
        return
    if ax.get_shared_x_axes().joined(ax, residual_ax):
        ax.tick_params(labelbottom=False)
    else:
        ax.set_xlabel(band.dims[0])
    residual_ax.axhline(0.0, color="0.5", linewidth=0.8)
    residual_ax.plot(
        x, band.residuals, color=data["color"], linestyle="none", marker=".", markersize=3
    )
    residual_ax.set_xlabel(band.dims[0])
    residual_ax.set_ylabel("residual / noise")


def draw_band_2d(
    band: FitBand,
    axes: Sequence[matplotlib.axes.Axes],
    *,
    colorbar: bool = True,
    titles: Sequence[str] = ("data", "posterior median model", "residual / noise"),
    image_kwargs: Mapping[str, Any] | None = None,
) -> None:
    """Draw a 2D band as three images on ``axes``: the data, the median model (one colour scale,
    ``image_kwargs`` to their ``Axes.imshow``) and the normalised residuals."""
    limits = {"vmin": float(np.min(band.data)), "vmax": float(np.max(band.data))}
    bound = float(np.max(np.abs(band.residuals)))
    styles = _kwargs({"cmap": "viridis", "origin": "lower", **limits}, image_kwargs)
    panels = [
        (band.data, styles),
        (band.median, styles),
        (band.residuals, {"cmap": "RdBu_r", "origin": "lower", "vmin": -bound, "vmax": bound}),
    ]
    for ax, text, (image, style) in zip(axes, titles, panels, strict=True):
        shown = ax.imshow(image, **style)
        ax.set_title(text)
        ax.set_xlabel(band.dims[1])
        ax.set_ylabel(band.dims[0])
        if colorbar:
            ax.figure.colorbar(shown, ax=ax, shrink=0.8)


def draw_figure(band: FitBand, figure: Any, image_kwargs: Any = None, **style: Any) -> None:
    """Draw ``band`` into an empty figure or subfigure: two panels for 1D data (the band and
    the residuals; ``style``: :func:`draw_band_1d`'s keywords), three images for 2D data."""
    if band.data.ndim == 1:
        grid = {"height_ratios": [3, 1], "hspace": 0.05}
        top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw=grid)
        draw_band_1d(band, top, bottom, **style)
    else:
        draw_band_2d(band, figure.subplots(1, 3), image_kwargs=image_kwargs)
        figure.suptitle(band.name)


def _check_drawable(band: FitBand) -> None:
    if band.data.ndim > 2:
        raise PlotError(
            f"dataset {band.name!r}: cannot plot the fit of data with shape {band.data.shape} "
            f"({band.data.ndim} dims); fit plots draw 1D data (error bars) and 2D data "
            "(images). Use graphfit.results.plotting.fit_band(result) for the numbers, or "
            "result.posterior_predictive() with ArviZ."
        )


def draw_fit(
    result: Result, figure: matplotlib.figure.Figure | matplotlib.figure.SubFigure, draws: int = 200
) -> FitBand:
    """Draw ``result``'s fit into an existing figure or subfigure; returns the band drawn."""
    band = fit_band(result, draws)
    _check_drawable(band)
    draw_figure(band, figure)
    return band


def _size(band_ndim: int) -> tuple[float, float]:
    return (6.0, 4.5) if band_ndim == 1 else (12.0, 3.6)


def axes_array(axes: Any, owner: str) -> np.ndarray:
    """``axes`` (one Axes, a sequence or an array of them) as an object array; an array given
    is returned itself."""
    import matplotlib.axes

    array = axes if isinstance(axes, np.ndarray) else np.empty(np.shape(axes), dtype=object)
    if array is not axes:
        array[...] = axes if array.ndim else np.asarray(axes, dtype=object)
    bad = [type(a).__name__ for a in array.flat if not isinstance(a, matplotlib.axes.Axes)]
    if bad or array.size == 0:
        raise PlotError(
            f"{owner}: axes must be matplotlib Axes (a sequence or an array of them, e.g. "
            f"from plt.subplots), got {type(axes).__name__} holding {bad or 'nothing'}."
        )
    return array


def plot_fit(
    result: Result,
    draws: int = 200,
    *,
    ax: matplotlib.axes.Axes | None = None,
    axes: Sequence[matplotlib.axes.Axes] | np.ndarray | None = None,
    legend: bool = True,
    figsize: tuple[float, float] | None = None,
    data_kwargs: Mapping[str, Any] | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    band_kwargs: Mapping[str, Any] | None = None,
    image_kwargs: Mapping[str, Any] | None = None,
) -> matplotlib.figure.Figure | matplotlib.axes.Axes | np.ndarray:
    """Plot one dataset's fit (see the module docstring), in a new figure or in given axes.

    Parameters
    ----------
    result
        The dataset's result.
    draws
        Number of evenly spaced posterior samples the model band is computed from.
    ax
        One Axes to draw 1D data in: the data with error bars, the posterior median model
        and its 68% band, titled by the dataset name (no residual panel).
    axes
        Several Axes: two for 1D data (the band, then the normalised residuals), three for 2D
        data (the data, the median model and the normalised residuals, with colour bars).
    legend
        Whether the band's panel gets a legend (1D data).
    figsize
        Size of the new figure (without ``ax`` or ``axes``).
    data_kwargs, model_kwargs, band_kwargs
        Matplotlib keywords of the data (``Axes.errorbar``), the median model (``Axes.plot``)
        and the band (``Axes.fill_between``; its colour follows the model's), for 1D data.
    image_kwargs
        Matplotlib keywords of the data and model images (``Axes.imshow``), for 2D data.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.axes.Axes or numpy.ndarray
        Without ``ax`` or ``axes``: a new Figure (1D data: the band above and the residuals
        below; 2D data: three images with colour bars, the dataset name as its title).  With
        ``ax``: that Axes.  With ``axes``: the Axes as an array (the array itself when one was
        given).

    Raises
    ------
    PlotError
        When the analysis has no ``observation()``, the data have more than two dims, both
        ``ax`` and ``axes`` are given, or their number does not fit the data.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    ... )
    >>> figure = plot_fit(result)
    >>> [ax.get_title() for ax in figure.axes]
    ['dataset_0', '']
    >>> figure, (left, right) = plt.subplots(1, 2)
    >>> plot_fit(result, ax=right, model_kwargs={"color": "C0"}) is right
    True
    >>> right.get_title(), right.get_lines()[-1].get_color()
    ('dataset_0', 'C0')
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    if ax is not None and axes is not None:
        raise PlotError("plot_fit: give ax (one Axes) or axes (several), not both.")
    band = fit_band(result, draws)
    _check_drawable(band)
    style: dict[str, Any] = {
        "data_kwargs": data_kwargs,
        "model_kwargs": model_kwargs,
        "band_kwargs": band_kwargs,
    }
    style["legend"] = legend
    if ax is None and axes is None:
        size = _size(band.data.ndim) if figsize is None else figsize
        figure = plt.figure(figsize=size, layout="constrained")
        draw_figure(band, figure, image_kwargs=image_kwargs, **style)
        return figure
    needed = 2 if band.data.ndim == 1 else 3
    if ax is not None:
        if band.data.ndim == 2:
            raise PlotError(
                f"plot_fit: dataset {band.name!r} holds 2D data, drawn as three images: give "
                "axes=(data_ax, model_ax, residual_ax) instead of ax."
            )
        draw_band_1d(band, axes_array(ax, "plot_fit").item(), None, **style)
        return ax
    array = axes_array(axes, "plot_fit")
    if array.size != needed:
        raise PlotError(
            f"plot_fit: dataset {band.name!r} holds {band.data.ndim}D data, drawn on {needed} "
            f"Axes ({'band, residuals' if needed == 2 else 'data, model, residuals'}); got "
            f"{array.size}."
        )
    flat = list(array.flat)
    if needed == 2:
        draw_band_1d(band, flat[0], flat[1], **style)
    else:
        titles = (f"{band.name}: data", "posterior median model", "residual / noise")
        draw_band_2d(band, flat, titles=titles, image_kwargs=image_kwargs)
    return array


def plot_filename(name: str) -> str:
    """File name of a dataset's fit plot: ``fit_<name>.png``, unsafe characters as ``_``.

    Examples
    --------
    >>> from graphfit.results.plotting import plot_filename
    >>> plot_filename("dataset_0"), plot_filename("epoch 2/b")
    ('fit_dataset_0.png', 'fit_epoch_2_b.png')
    """
    return f"fit_{re.sub(r'[^A-Za-z0-9._-]', '_', name)}.png"


def save_fit_plots(
    result_list: ResultList,
    folder: str | os.PathLike[str],
    draws: int = 200,
    dpi: int = 100,
    *,
    skip_undrawable: bool = False,
) -> list[pathlib.Path]:
    """Write each dataset's fit plot to ``folder/fit_<dataset>.png``; returns the paths.

    The folder is created if needed.  Each file is written to a temporary file in the folder
    and renamed into place, so a killed process never leaves a half-written PNG.  Figures are
    built without pyplot, so nothing is shown and nothing stays open.  With
    ``skip_undrawable``, a dataset graphfit cannot draw (:class:`~graphfit.exceptions.PlotError`)
    is logged and skipped instead of stopping the others.
    """
    import matplotlib.figure

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[pathlib.Path] = []
    used: set[str] = set()
    for result in result_list:
        try:
            band = fit_band(result, draws)
            _check_drawable(band)
        except PlotError as error:
            if not skip_undrawable:
                raise
            logging.getLogger("graphfit").warning("no fit plot for %s: %s", result.name, error)
            continue
        filename = plot_filename(result.name)
        if filename in used:  # two names that differ only in unsafe characters
            filename = filename.removesuffix(".png") + f"_{result.index}.png"
        used.add(filename)
        figure = matplotlib.figure.Figure(figsize=_size(band.data.ndim), layout="constrained")
        draw_figure(band, figure)
        path = folder / filename
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                figure.savefig(stream, format="png", dpi=dpi)
            os.replace(temporary, path)
        except BaseException:
            pathlib.Path(temporary).unlink(missing_ok=True)
            raise
        paths.append(path)
    return paths

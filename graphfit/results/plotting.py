"""Fit plots: each dataset with its posterior model.

The model curve of a dataset is computed with numpy, not PyMC: for a thinned, evenly spaced
subset of the posterior samples (``draws``, 200 by default), the dataset's model builds an
instance of the user's class (``instance_from(values, numpy)``) and its analysis's
``observation(instance, numpy)`` gives the model data, the data and the noise map.  The plot
shows the pointwise posterior median of the model data and its 68% band (16th to 84th
percentiles), the data with error bars (the noise map) and the normalised residuals
``(data - median model) / noise_map``.

1D data (and scalars) are drawn as a curve over ``x`` with a residual panel below it; 2D data as
three images (data, median model, normalised residuals).  Matplotlib is imported inside the
functions.  :func:`save_fit_plots` writes one PNG per dataset (used for output folders).
"""

from __future__ import annotations

import logging
import os
import pathlib
import re
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import PlotError
from graphfit.spec.analysis import Analysis, _definer

if TYPE_CHECKING:
    from collections.abc import Sequence

    import matplotlib.figure

    from graphfit.results.result import Result
    from graphfit.results.result_list import ResultList

__all__ = [
    "FitBand",
    "draw_fit",
    "fit_band",
    "plot_filename",
    "plot_fit",
    "plot_fits",
    "save_fit_plots",
]

#: Colours of the parts of a fit plot.
DATA_COLOR = "k"
MODEL_COLOR = "C3"


@dataclass
class FitBand:
    """A dataset's data and the posterior of its model data, ready to plot.

    Attributes
    ----------
    name
        The dataset's name.
    data
        The observed data.
    noise_map
        Its standard deviations.
    median
        Pointwise posterior median of the model data.
    lower
        Pointwise 16th percentile of the model data.
    upper
        Pointwise 84th percentile of the model data.
    draws
        Number of posterior samples the band was computed from.
    dims
        Names of the data's dims (``("x",)``).
    x
        The x values of 1D data: the analysis's ``xvalues`` when it has them with the data's
        length, else ``0, 1, 2, ...``; ``None`` for other shapes.
    """

    name: str
    data: np.ndarray
    noise_map: np.ndarray
    median: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    draws: int
    dims: tuple[str, ...]
    x: np.ndarray | None = None

    @property
    def residuals(self) -> np.ndarray:
        """Normalised residuals ``(data - median) / noise_map``."""
        return (self.data - self.median) / self.noise_map


def _sample_indices(total: int, draws: int) -> np.ndarray:
    """``min(draws, total)`` evenly spaced indices into ``total`` flattened samples."""
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise PlotError(f"fit plot: draws must be an integer >= 1, got {draws!r}.")
    return np.unique(np.linspace(0, total - 1, min(int(draws), total)).round().astype(int))


def _analysis_observation(result: Result, instance: Any) -> Any:
    analysis = result.analysis
    if _definer(type(analysis), "observation") is Analysis:
        raise PlotError(
            f"dataset {result.name!r}: cannot plot the fit: its analysis "
            f"({type(analysis).__name__}) defines log_likelihood_function but not observation(), "
            "so graphfit does not know its data, noise map or model data. Define "
            "observation(instance, xp) returning a gf.GaussianObservation (it is used for plots "
            "even when log_likelihood_function is the likelihood)."
        )
    observation = analysis.observation(instance, np)
    if getattr(observation, "noise_map", None) is None:
        raise PlotError(
            f"dataset {result.name!r}: cannot plot the fit: its observation "
            f"({type(observation).__name__}) has no noise_map; fit plots need a "
            "gf.GaussianObservation."
        )
    return observation


def fit_band(result: Result, draws: int = 200) -> FitBand:
    """The model data of ``result``'s dataset on ``draws`` posterior samples, summarised.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.plotting import fit_band
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    ... )
    >>> band = fit_band(result)
    >>> band.draws, band.median.shape, band.dims
    (1, (100,), ('x',))
    """
    result_list = result.result_list
    plan = result_list.compiled.plan
    posterior = stack.group(result_list.idata, "posterior")
    total = posterior.sizes["chain"] * posterior.sizes["draw"]
    indices = _sample_indices(total, draws)
    columns = {}
    for prior in plan.factor_priors[result.index]:
        ref = plan.prior_refs[prior]
        array = posterior[ref.name]
        if ref.dataset is not None:
            array = array.sel(dataset=ref.dataset)
        columns[prior] = np.asarray(array.transpose("chain", "draw").values).reshape(-1)[indices]
    model = result.prior_model
    observation = None
    curves = []
    for k in range(len(indices)):
        instance = model.instance_from({p: float(v[k]) for p, v in columns.items()}, np)
        observation = _analysis_observation(result, instance)
        curves.append(np.asarray(observation.model_data, dtype=float))
    data = np.asarray(observation.data, dtype=float)
    noise = np.asarray(observation.noise_map, dtype=float)
    drawn = np.stack([np.broadcast_to(c, data.shape) for c in curves])
    lower, median, upper = np.percentile(drawn, [16.0, 50.0, 84.0], axis=0)
    dims = tuple(observation.dims or (f"obs_dim_{k}" for k in range(data.ndim)))
    x = None
    if data.ndim <= 1:
        data, noise = np.atleast_1d(data), np.atleast_1d(noise)
        lower, median, upper = (np.atleast_1d(a) for a in (lower, median, upper))
        x = np.asarray(getattr(result.analysis, "xvalues", np.arange(data.size)), dtype=float)
        if x.shape != data.shape:
            x = np.arange(data.size, dtype=float)
        dims = dims or ("x",)
    return FitBand(result.name, data, noise, median, lower, upper, len(indices), dims, x)


def _draw_1d(band: FitBand, figure: matplotlib.figure.Figure | matplotlib.figure.SubFigure) -> None:
    top, bottom = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05}
    )
    x = band.x
    top.fill_between(
        x, band.lower, band.upper, color=MODEL_COLOR, alpha=0.3, linewidth=0, label="68% band"
    )
    top.errorbar(
        x,
        band.data,
        yerr=band.noise_map,
        color=DATA_COLOR,
        linestyle="none",
        marker=".",
        markersize=3,
        elinewidth=0.8,
        label="data",
    )
    top.plot(x, band.median, color=MODEL_COLOR, linewidth=1.5, label="posterior median model")
    top.set_title(band.name)
    top.set_ylabel("data")
    top.legend(loc="best", fontsize="small")
    top.tick_params(labelbottom=False)
    bottom.axhline(0.0, color="0.5", linewidth=0.8)
    bottom.plot(x, band.residuals, color=DATA_COLOR, linestyle="none", marker=".", markersize=3)
    bottom.set_xlabel(band.dims[0])
    bottom.set_ylabel("residual / noise")


def _draw_2d(band: FitBand, figure: matplotlib.figure.Figure | matplotlib.figure.SubFigure) -> None:
    axes = figure.subplots(1, 3)
    limits = {"vmin": float(np.min(band.data)), "vmax": float(np.max(band.data))}
    bound = float(np.max(np.abs(band.residuals)))
    panels = [
        ("data", band.data, {"cmap": "viridis", **limits}),
        ("posterior median model", band.median, {"cmap": "viridis", **limits}),
        ("residual / noise", band.residuals, {"cmap": "RdBu_r", "vmin": -bound, "vmax": bound}),
    ]
    for ax, (title, image, style) in zip(axes, panels, strict=True):
        shown = ax.imshow(image, origin="lower", **style)
        ax.set_title(title)
        ax.set_xlabel(band.dims[1])
        ax.set_ylabel(band.dims[0])
        figure.colorbar(shown, ax=ax, shrink=0.8)
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
    (_draw_1d if band.data.ndim == 1 else _draw_2d)(band, figure)
    return band


def _size(band_ndim: int) -> tuple[float, float]:
    return (6.0, 4.5) if band_ndim == 1 else (12.0, 3.6)


def plot_fit(result: Result, draws: int = 200) -> matplotlib.figure.Figure:
    """A matplotlib Figure of one dataset's fit (see the module docstring).

    1D data: an upper panel with the data and error bars, the posterior median model and its
    68% band, titled by the dataset name, and a lower panel with the normalised residuals.
    2D data: images of the data, the median model and the normalised residuals.

    Raises
    ------
    PlotError
        When the analysis has no ``observation()`` or the data have more than two dims.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    ... )
    >>> figure = plot_fit(result)
    >>> [ax.get_title() for ax in figure.axes]
    ['dataset_0', '']
    """
    import matplotlib.pyplot as plt

    band = fit_band(result, draws)
    _check_drawable(band)
    figure = plt.figure(figsize=_size(band.data.ndim), layout="constrained")
    (_draw_1d if band.data.ndim == 1 else _draw_2d)(band, figure)
    return figure


def plot_fits(
    result_list: ResultList | Sequence[Result], draws: int = 200, ncols: int = 3
) -> matplotlib.figure.Figure:
    """One figure with every dataset's fit plot, ``ncols`` to a row (a subfigure each)."""
    import matplotlib.pyplot as plt

    results = list(result_list)
    if isinstance(ncols, bool) or not isinstance(ncols, int | np.integer) or ncols < 1:
        raise PlotError(f"plot_fits: ncols must be an integer >= 1, got {ncols!r}.")
    bands = [fit_band(r, draws) for r in results]
    for band in bands:
        _check_drawable(band)
    ncols = min(int(ncols), len(bands))
    nrows = -(-len(bands) // ncols)
    width, height = max(_size(b.data.ndim) for b in bands)
    if any(b.data.ndim == 2 for b in bands):
        ncols = 1
        nrows = len(bands)
    figure = plt.figure(figsize=(width * ncols, height * nrows), layout="constrained")
    cells = figure.subfigures(nrows, ncols, squeeze=False).ravel()
    for cell, band in zip(cells, bands, strict=False):
        (_draw_1d if band.data.ndim == 1 else _draw_2d)(band, cell)
    return figure


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
        (_draw_1d if band.data.ndim == 1 else _draw_2d)(band, figure)
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

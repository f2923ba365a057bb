"""Plotting helpers for 1D example data."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import PlotError

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.figure

__all__ = ["plot_profile_1d"]


def plot_profile_1d(
    xvalues: Any,
    profile_1d: Any,
    *,
    noise_map: Any = None,
    model_data: Any = None,
    title: str | None = None,
    ylabel: str = "Profile normalization",
    ax: matplotlib.axes.Axes | None = None,
    output_path: str | os.PathLike[str] | None = None,
    errors: Any = None,
    color: Any = "k",
    output_filename: str | None = None,
    **kwargs: Any,
) -> matplotlib.figure.Figure | matplotlib.axes.Axes:
    """Plot a 1D profile (with error bars when ``noise_map`` is given), in a new figure or ``ax``.

    PyAutoFit's keywords work too: ``errors`` (the error bars), ``color``, and
    ``output_path`` with ``output_filename`` (saved as ``<output_path>/<output_filename>.png``).

    Parameters
    ----------
    xvalues, profile_1d
        The x values and the profile (data) to plot.
    noise_map
        Optional standard deviations drawn as error bars.
    model_data
        Optional model curve drawn over the data in red.
    title, ylabel
        Plot labels.
    ax
        Matplotlib Axes to draw on (e.g. one of the user's ``plt.subplots`` grid); a new figure
        by default.
    output_path
        If given, the figure is saved there (PNG by extension); with ``output_filename``, the
        folder the PNG is saved in.
    errors
        The error bars, as PyAutoFit names them: the same as ``noise_map``.
    color
        Colour of the data and its error bars.
    output_filename
        Name of the PNG file (without ``.png``) in ``output_path`` (default: the current folder).
    **kwargs
        Further matplotlib keywords for the data (``Axes.errorbar`` with error bars, else
        ``Axes.plot``), e.g. ``marker="o"`` or ``alpha=0.5``.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.axes.Axes
        The new Figure, or ``ax`` when one is given (the plot drawn on it).

    Raises
    ------
    PlotError
        If both ``noise_map`` and ``errors`` are given.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> figure = gf.ex.plot_profile_1d(range(len(data)), data, noise_map=noise_map)
    >>> len(figure.axes)
    1
    >>> figure = gf.ex.plot_profile_1d(range(len(data)), data, errors=noise_map, color="b",
    ...                                title="dataset 0", ylabel="Data Values", alpha=0.5)
    >>> figure.axes[0].get_title()
    'dataset 0'
    >>> import matplotlib.pyplot as plt
    >>> figure, axes = plt.subplots(1, 2)
    >>> gf.ex.plot_profile_1d(range(len(data)), data, ax=axes[1], color="C2") is axes[1]
    True
    >>> plt.close("all")
    """
    if errors is not None and noise_map is not None:
        raise PlotError(
            "plot_profile_1d: got both noise_map and errors; they are the same error bars, "
            "give one of them."
        )
    noise_map = errors if noise_map is None else noise_map
    import matplotlib.pyplot as plt

    drawn_alone = ax is None
    if ax is None:
        figure, ax = plt.subplots(figsize=(6, 4))
    else:
        figure = ax.figure.figure  # the root Figure, also for an Axes in a SubFigure
    x = np.asarray(list(xvalues), dtype=float)
    y = np.asarray(profile_1d, dtype=float)
    if noise_map is not None:
        style = {"ecolor": color, "linestyle": " ", "elinewidth": 1, "capsize": 2}
        style.update({"color": color, "label": "data", **kwargs})
        ax.errorbar(x, y, yerr=noise_map, **style)
    else:
        ax.plot(x, y, **{"color": color, "label": "data", **kwargs})
    if model_data is not None:
        ax.plot(x, np.asarray(model_data, dtype=float), color="r", label="model")
    ax.set_xlabel("x values of profile")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if output_filename is not None:
        folder = os.fspath(output_path) if output_path is not None else "."
        os.makedirs(folder, exist_ok=True)
        output_path = os.path.join(folder, f"{output_filename}.png")
    if output_path is not None:
        figure.savefig(output_path, dpi=100, bbox_inches="tight")
    return figure if drawn_alone else ax

"""Plotting helpers for 1D example data."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_profile_1d"]


def plot_profile_1d(
    xvalues: Any,
    profile_1d: Any,
    *,
    noise_map: Any = None,
    model_data: Any = None,
    title: str | None = None,
    ylabel: str = "Profile normalization",
    ax: Any = None,
    output_path: str | None = None,
) -> Any:
    """Plot a 1D profile (with error bars when ``noise_map`` is given) and return the Figure.

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
        Matplotlib axes to draw on; a new figure by default.
    output_path
        If given, the figure is saved there (PNG by extension).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> figure = gf.ex.plot_profile_1d(range(len(data)), data, noise_map=noise_map)
    >>> len(figure.axes)
    1
    """
    import matplotlib.pyplot as plt

    if ax is None:
        figure, ax = plt.subplots(figsize=(6, 4))
    else:
        figure = ax.figure
    x = np.asarray(list(xvalues), dtype=float)
    y = np.asarray(profile_1d, dtype=float)
    if noise_map is not None:
        ax.errorbar(
            x,
            y,
            yerr=noise_map,
            color="k",
            ecolor="k",
            linestyle=" ",
            elinewidth=1,
            capsize=2,
            label="data",
        )
    else:
        ax.plot(x, y, color="k", label="data")
    if model_data is not None:
        ax.plot(x, np.asarray(model_data, dtype=float), color="r", label="model")
    ax.set_xlabel("x values of profile")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if output_path is not None:
        figure.savefig(output_path, dpi=100, bbox_inches="tight")
    return figure

"""Plot helper shared by the example scripts.

``save_fit_plot`` draws, for each dataset of a fit, the data with error bars and the model of
the maximum log-likelihood sample, using :func:`graphfit.ex.plot_profile_1d`, and saves all
panels in one PNG under ``examples/output/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import graphfit as gf

OUTPUT = Path(__file__).resolve().parent / "output"


def save_fit_plot(results: Iterable[gf.Result], filename: str, title: str) -> Path:
    """Save data + max-likelihood model of every result as ``examples/output/<filename>``.

    Prints the path of the file it wrote.

    Parameters
    ----------
    results
        A ``gf.ResultList`` or a list holding one ``gf.Result``.
    filename
        Name of the PNG file.
    title
        Figure title; each panel is titled by its dataset name.

    Returns
    -------
    pathlib.Path
        Where the figure was written.
    """
    results = list(results)
    figure, axes = plt.subplots(
        1, len(results), figsize=(4.5 * len(results), 3.8), squeeze=False, sharey=True
    )
    for ax, result in zip(axes[0], results, strict=True):
        analysis = result.analysis
        instance = result.max_log_likelihood_instance
        gf.ex.plot_profile_1d(
            analysis.xvalues,
            analysis.data,
            noise_map=analysis.noise_map,
            model_data=analysis.model_data_from(instance),
            title=result.name,
            ax=ax,
        )
    axes[0][0].legend(loc="upper left")
    figure.suptitle(title)
    figure.tight_layout()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / filename
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"fit plot: {path}")
    return path

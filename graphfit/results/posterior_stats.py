"""Posterior figures of each variable: mean, sd, median and the 94% highest-density interval.

The one place they are computed for graphfit's tables: the saved parameter table
(``summary.csv``, :func:`graphfit.io.summaries.parameter_table`) and the results' HTML reprs
(:mod:`graphfit.results.html`).  Each figure is an ``xarray.DataArray`` over the variable's
dims other than ``chain`` and ``draw``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from graphfit.backend import stack

__all__ = ["HDI_PROB", "posterior_stats"]

#: Probability mass of the highest-density intervals in summaries (ArviZ's default).
HDI_PROB = 0.94


def posterior_stats(posterior: Any, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``mean``, ``sd``, ``median``, ``lower`` and ``upper`` (the :data:`HDI_PROB` HDI) of each
    variable of ``names`` in ``posterior`` (an ``xarray.Dataset`` with ``chain`` and ``draw``).

    The sd of a single draw is 0; with 2 draws or fewer there is no interval (``lower`` and
    ``upper`` are ``None``).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from graphfit.results.posterior_stats import posterior_stats
    >>> posterior = xr.Dataset({"c": (("chain", "draw"), np.arange(8.0).reshape(2, 4))})
    >>> figures = posterior_stats(posterior, ["c"])["c"]
    >>> float(figures["mean"]), float(figures["median"]), figures["lower"] is None
    (3.5, 3.5, False)
    """
    n = posterior.sizes["chain"] * posterior.sizes["draw"]
    hdi = None
    if n > 2 and names:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            hdi = stack.hdi_bounds(posterior[list(names)], HDI_PROB)
    out = {}
    for name in names:
        array = posterior[name]
        out[name] = {
            "mean": array.mean(("chain", "draw")),
            "sd": array.std(("chain", "draw"), ddof=1 if n > 1 else 0),
            "median": array.median(("chain", "draw")),
            "lower": None if hdi is None else hdi[0][name],
            "upper": None if hdi is None else hdi[1][name],
        }
    return out

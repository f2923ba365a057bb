"""A dataset's fit band: its data, noise map and the posterior median and 68% band of its model.

:func:`fit_band` computes it with numpy for a thinned, evenly spaced subset of the posterior
samples (``draws``): the dataset's model builds an instance of the user's class
(``instance_from(values, numpy)``) and its analysis's ``observation(instance, numpy)`` gives the
model data, the data and the noise map.  The plots (:mod:`graphfit.results.plotting`,
:mod:`graphfit.results.plot_grid`) draw it.

A saved fit keeps its bands so that it is redrawn without the user's classes or data: when a
named fit is saved, :func:`band_group` computes every dataset's band and puts its median,
lower and upper curves in the ``fit_band`` group of ``joint.nc``, each named
``<node>.<curve>`` with the dims and coordinates of the dataset's observed node (small: three
numbers per data point, not the draws).  :func:`saved_band` rebuilds a dataset's band from its
view (:attr:`graphfit.Result.idata`): those curves, its ``observed_data`` (the data, and ``x``
its coordinate) and its ``constant_data`` (the noise map).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.backend.predictive import OBS
from graphfit.exceptions import PlotError
from graphfit.results.split import FIT_BAND, prior_column
from graphfit.spec.analysis import Analysis, _definer

if TYPE_CHECKING:
    import xarray as xr

    from graphfit.results.result import Result
    from graphfit.results.result_list import ResultList

__all__ = ["BAND_CURVES", "FitBand", "band_group", "fit_band", "saved_band"]

#: The curves of a band saved in the ``fit_band`` group.
BAND_CURVES = ("median", "lower", "upper")


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

    Computed from the dataset's model and analysis; for a fit loaded without its model, the
    band saved with it (:func:`saved_band`), whatever ``draws``.

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
    if result_list.compiled is None:
        return saved_band(result)
    plan = result_list.compiled.plan
    posterior = stack.group(result_list.idata, "posterior")
    total = posterior.sizes["chain"] * posterior.sizes["draw"]
    indices = _sample_indices(total, draws)
    columns = {}
    for prior in plan.factor_priors[result.index]:
        column = prior_column(posterior, plan.prior_refs[prior])
        columns[prior] = np.asarray(column.values).reshape(-1)[indices]
    model = result.prior_model
    observation: Any = None
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


def saved_band(result: Result) -> FitBand:
    """The band saved with ``result``'s fit (see the module docstring).

    Raises
    ------
    PlotError
        When the saved fit holds no band for the dataset (saved by a graphfit before bands
        were saved, or of a dataset that cannot be drawn).
    """
    view = result.idata
    band = stack.group(view, FIT_BAND, None)
    observed = stack.group(view, "observed_data", None)
    constant = stack.group(view, "constant_data", None)
    if (
        band is None
        or observed is None
        or constant is None
        or "noise_map" not in constant
        or any(curve not in band for curve in BAND_CURVES)
        or bool(np.isnan(band["median"].values).all())
    ):
        raise PlotError(
            f"dataset {result.name!r}: cannot plot the fit: the saved result holds no fit band "
            "for it (it was saved by an older graphfit, or the dataset cannot be drawn). Load "
            "it with its model and analysis: gf.load_result(folder, model=factor_graph)."
        )
    data = observed[OBS]
    curves = [np.asarray(band[curve].values, dtype=float) for curve in BAND_CURVES]
    x = None
    if data.ndim == 1:
        x = np.asarray(data[data.dims[0]].values)
        numeric = np.issubdtype(x.dtype, np.number)
        x = x.astype(float) if numeric else np.arange(data.size, dtype=float)
    return FitBand(
        result.name,
        np.asarray(data.values, dtype=float),
        np.asarray(constant["noise_map"].values, dtype=float),
        curves[0],
        curves[1],
        curves[2],
        int(band.attrs.get("draws", 0)),
        tuple(str(d) for d in data.dims),
        x,
    )


def band_group(result_list: ResultList, draws: int = 200) -> xr.Dataset | None:
    """Every drawable dataset's band (:func:`fit_band`) as the ``fit_band`` group of the joint
    ``InferenceData``: ``<node>.median``, ``.lower`` and ``.upper`` with the dims and
    coordinates of each observed node (NaN for a stacked node's datasets that cannot be
    drawn); ``None`` when no dataset can be drawn.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.fit_band import band_group
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian),
    ...     analysis=gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0)),
    ... )
    >>> sorted(band_group(result.result_list).data_vars)
    ['dataset_0.obs.lower', 'dataset_0.obs.median', 'dataset_0.obs.upper']
    """
    import xarray as xr

    observed = stack.group(result_list.idata, "observed_data", None)
    if observed is None or result_list.compiled is None:
        return None
    arrays: dict[str, xr.DataArray] = {}
    used = 0
    for result, node in zip(result_list, result_list.compiled.nodes, strict=True):
        if node.kind != "observed" or node.loglike_name not in observed:
            continue
        try:
            band = fit_band(result, draws)
        except PlotError:
            continue
        template = observed[node.loglike_name]
        for curve in BAND_CURVES:
            name = f"{node.loglike_name}.{curve}"
            if name not in arrays:
                arrays[name] = xr.full_like(template, np.nan, dtype=float).rename(name)
            values = np.asarray(getattr(band, curve), dtype=float)
            target = arrays[name].values  # the dataset's slice of it, written in place
            where: list[Any] = [slice(None)] * target.ndim
            for dim, dataset in node.select.items():
                labels = [str(label) for label in template[dim].values]
                where[template.dims.index(dim)] = labels.index(dataset)
            if values.size != target[tuple(where)].size:
                break
            target[tuple(where)] = values.reshape(target[tuple(where)].shape)
        used = max(used, band.draws)
    if not arrays:
        return None
    return xr.Dataset(arrays, attrs={"draws": used, "band": "16th, 50th, 84th percentiles"})

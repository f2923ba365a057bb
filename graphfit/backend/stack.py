"""The installed PyMC/ArviZ stack: the one module that knows which one it is.

graphfit runs on two stacks: PyMC 5 with ArviZ 0.x (Python 3.11), whose results are
``arviz.InferenceData`` objects, and PyMC 6 with ArviZ 1 (Python 3.12 and later), whose
results are ``xarray.DataTree`` objects with the same groups (``posterior``,
``log_likelihood``, ``sample_stats``, ``observed_data``, ...).  Everything else in graphfit
reads and builds results through the functions here, so that a fit is native to the stack it
ran on: ``result.idata`` is what that stack's ArviZ functions take.

Each group is handed out and taken in as an ``xarray.Dataset`` on both stacks.

Examples
--------
>>> import numpy as np
>>> from graphfit.backend import stack
>>> idata = stack.from_arrays(posterior={"a": np.zeros((2, 50))})
>>> stack.group_names(idata)
['posterior']
>>> stack.set_group(idata, "sample_stats", stack.group(idata, "posterior").rename(a="lp"))
>>> stack.group_names(idata)
['posterior', 'sample_stats']
>>> stack.group(idata, "posterior")["a"].shape
(2, 50)
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import ComparisonError, PlotError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ARVIZ_1",
    "PYMC_6",
    "compare",
    "compare_columns",
    "drop_group",
    "elpd_pointwise",
    "elpd_total",
    "ess",
    "external_nuts",
    "figure_of",
    "from_arrays",
    "group",
    "group_names",
    "has_group",
    "hdi_bounds",
    "loo",
    "make_idata",
    "plot_compare",
    "plot_ppc",
    "read_netcdf",
    "rhat",
    "sampled_dataset",
    "set_group",
    "summary",
    "to_datatree",
    "waic",
    "write_netcdf",
]


def _major(package: str) -> int:
    return int(version(package).split(".")[0])


#: Whether ArviZ 1 is installed, whose results are ``xarray.DataTree`` objects (ArviZ 0.x's
#: are ``az.InferenceData``).
ARVIZ_1: bool = _major("arviz") >= 1
#: Whether PyMC 6 is installed (else PyMC 5).
PYMC_6: bool = _major("pymc") >= 6


def group_names(idata: Any) -> list[str]:
    """The names of ``idata``'s groups, in order."""
    if ARVIZ_1:
        return list(idata.children)
    return list(idata.groups())


def has_group(idata: Any, name: str) -> bool:
    """Whether ``idata`` has the group ``name``."""
    return name in group_names(idata)


_MISSING = object()


def group(idata: Any, name: str, default: Any = _MISSING) -> Any:
    """The group ``name`` of ``idata`` as an ``xarray.Dataset`` sharing its arrays; a changed
    group goes back with :func:`set_group`.  When ``idata`` has no such group: ``default``
    if given, else ``KeyError``."""
    names = group_names(idata)
    if name not in names:
        if default is not _MISSING:
            return default
        raise KeyError(f"the results have no {name!r} group; they have {names}")
    if ARVIZ_1:
        return idata[name].to_dataset()
    return idata[name]


def set_group(idata: Any, name: str, dataset: Any) -> None:
    """Put the ``xarray.Dataset`` ``dataset`` into ``idata`` as its group ``name``, replacing
    any group of that name."""
    if ARVIZ_1:
        import xarray as xr

        idata[name] = xr.DataTree(dataset)
    elif name in idata.groups():
        setattr(idata, name, dataset)
    else:
        idata.add_groups({name: dataset})


def drop_group(idata: Any, name: str) -> None:
    """Remove the group ``name`` from ``idata`` (nothing when it has none)."""
    if name not in group_names(idata):
        return
    if ARVIZ_1:
        del idata[name]
    else:
        delattr(idata, name)


def to_datatree(idata: Any) -> Any:
    """``idata`` as an ``xarray.DataTree`` (on ArviZ 1 it is one already)."""
    if ARVIZ_1:
        return idata
    return idata.to_datatree()


def make_idata(**groups: Any) -> Any:
    """The stack's results object holding ``groups`` (name -> ``xarray.Dataset``), in order."""
    if ARVIZ_1:
        import xarray as xr

        return xr.DataTree(children={name: xr.DataTree(ds) for name, ds in groups.items()})
    import arviz as az

    return az.InferenceData(**groups)


def from_arrays(
    *, coords: dict[str, Any] | None = None, dims: dict[str, list[str]] | None = None, **groups: Any
) -> Any:
    """The stack's results object from arrays: ``groups`` maps each group name to
    ``{variable: array}`` with ``(chain, draw, ...)`` leading dims for the sampled groups;
    ``coords`` and ``dims`` name the other dims (as ``arviz.from_dict``)."""
    import arviz as az

    arrays = {
        name: {k: np.asarray(v) for k, v in values.items()} for name, values in groups.items()
    }
    if ARVIZ_1:
        return az.from_dict(arrays, coords=coords, dims=dims)
    return az.from_dict(**arrays, coords=coords, dims=dims)


def write_netcdf(idata: Any, path: str) -> None:
    """Write ``idata`` to the netCDF file ``path`` (HDF5, one netCDF group per group): the
    same layout on both stacks, so a file written on one loads on the other."""
    idata.to_netcdf(str(path), engine="h5netcdf")


def read_netcdf(path: str) -> Any:
    """The stack's results object read (fully, the file closed) from the netCDF file
    ``path`` written by :func:`write_netcdf` on either stack."""
    if ARVIZ_1:
        import xarray as xr

        with xr.open_datatree(str(path), engine="h5netcdf") as tree:
            return tree.load()
    import arviz as az

    with az.rc_context({"data.load": "eager"}):
        return az.from_netcdf(str(path), engine="h5netcdf")


def sampled_dataset(arrays: dict[str, Any], coords: Any, dims: Any) -> Any:
    """``arrays`` (chain, draw, ...) as the ``xarray.Dataset`` PyMC makes of sampled values:
    its dims, coords and attributes (``coords`` and ``dims`` as PyMC's
    ``coords_and_dims_for_inferencedata`` gives them)."""
    import pymc as pm

    sample_dims = ["chain", "draw"]
    if ARVIZ_1:
        from arviz_base import dict_to_dataset

        named = {"inference_library": pm, "sample_dims": sample_dims}
    else:
        from arviz import dict_to_dataset  # type: ignore[no-redef, unused-ignore]  # per stack

        named = {"library": pm, "default_dims": sample_dims}
    return dict_to_dataset(arrays, dims=dims, coords=coords, skip_event_dims=True, **named)


def hdi_bounds(posterior: Any, prob: float) -> tuple[Any, Any]:
    """The highest-density interval of probability ``prob`` of each variable of the
    ``xarray.Dataset`` ``posterior`` (``chain`` and ``draw`` dims): two Datasets, the lower
    and the upper bounds."""
    import arviz as az

    if ARVIZ_1:
        hdi = az.hdi(posterior, prob=prob)
        return hdi.sel(ci_bound="lower", drop=True), hdi.sel(ci_bound="upper", drop=True)
    hdi = az.hdi(posterior, hdi_prob=prob)
    return hdi.sel(hdi="lower", drop=True), hdi.sel(hdi="higher", drop=True)


def rhat(posterior: Any) -> Any:
    """ArviZ's rank-normalised R-hat of each variable of ``posterior`` (a Dataset)."""
    import arviz as az

    return az.rhat(posterior)


def ess(posterior: Any, method: str) -> Any:
    """ArviZ's effective sample size (``method`` ``"bulk"`` or ``"tail"``) of each variable
    of ``posterior`` (a Dataset).  The tail ESS is the smaller of the 5% and 95% quantiles'
    (Vehtari et al. 2021, ArviZ 0.x's default) on both stacks: ArviZ 1's own default takes the
    quantiles of its 89% interval, 11% and 89%."""
    import arviz as az

    if ARVIZ_1 and method == "tail":
        return az.ess(posterior, method=method, prob=(0.05, 0.95))
    return az.ess(posterior, method=method)


def summary(idata: Any, **kwargs: Any) -> pd.DataFrame:
    """ArviZ's ``summary`` of ``idata``'s posterior (keyword arguments pass through), or, for
    a point estimate, its values.

    A posterior of one chain of one draw (``gf.MAP``'s optimum) has no spread, no interval and
    no convergence figures: its table has one column, ``value``, unrounded (``round_to``
    rounds it), one row per element as ArviZ labels them (``var_names``, ``filter_vars`` and
    ``coords`` select them; ``kind`` is ignored), without the warnings ArviZ gives for the
    statistics of a single draw.

    Examples
    --------
    >>> import numpy as np
    >>> from graphfit.backend import stack
    >>> point = stack.from_arrays(posterior={"a": [[1.5]], "b": [[[2.0, 3.0]]]})
    >>> stack.summary(point)
          value
    a       1.5
    b[0]    2.0
    b[1]    3.0
    >>> draws = stack.from_arrays(posterior={"a": np.random.default_rng(0).normal(size=(2, 100))})
    >>> "r_hat" in stack.summary(draws).columns
    True
    """
    import arviz as az

    posterior = group(idata, "posterior", None)
    if posterior is None or posterior.sizes.get("chain", 1) * posterior.sizes.get("draw", 1) > 1:
        return az.summary(idata, **kwargs)
    kwargs = {"round_to": "none", **kwargs, "kind": "stats"}
    # the standard deviation of one draw is 0 / 0: numpy warns, and the column is dropped
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        table = az.summary(idata, **kwargs)
    return table[["mean"]].rename(columns={"mean": "value"})


def loo(idata: Any, var_name: str, pointwise: bool = False, **kwargs: Any) -> Any:
    """ArviZ's PSIS-LOO of the log-likelihood variable ``var_name`` of ``idata``: the stack's
    own ``ELPDData``."""
    import arviz as az

    return az.loo(idata, pointwise=pointwise, var_name=var_name, **kwargs)


def waic(idata: Any, var_name: str, pointwise: bool = False, **kwargs: Any) -> Any:
    """ArviZ 0.x's WAIC of the log-likelihood variable ``var_name`` of ``idata``, labelled
    ``elpd_waic`` whether pointwise or not.  ArviZ 1 has no WAIC: a
    :class:`~graphfit.ComparisonError` there, saying to use PSIS-LOO."""
    import arviz as az

    if ARVIZ_1:
        _no_waic()
    elpd = az.waic(idata, pointwise=pointwise, var_name=var_name, **kwargs)
    # ArviZ 0.23 labels a non-pointwise estimate ``waic``, a pointwise one ``elpd_waic``
    if "waic" in elpd.index and "elpd_waic" not in elpd.index:
        elpd.index = ["elpd_waic" if label == "waic" else label for label in elpd.index]
    return elpd


def _no_waic() -> None:
    raise ComparisonError(
        f"WAIC is not part of ArviZ 1 (the installed ArviZ is {version('arviz')}); use loo() "
        "(PSIS-LOO), which ArviZ recommends over WAIC, or ArviZ 0.x on Python 3.11."
    )


def elpd_pointwise(elpd: Any) -> Any:
    """The pointwise expected log predictive densities of a pointwise ``ELPDData`` (an
    ``xarray.DataArray``)."""
    return elpd.elpd_i if ARVIZ_1 else elpd.loo_i if hasattr(elpd, "loo_i") else elpd.waic_i


def elpd_total(elpd: Any) -> float:
    """The expected log predictive density an ``ELPDData`` estimates (PSIS-LOO's or WAIC's)."""
    if ARVIZ_1:
        return float(elpd.elpd)
    return float(elpd["elpd_loo"] if "elpd_loo" in elpd.index else elpd["elpd_waic"])


def compare_columns(ic: str) -> tuple[str, str]:
    """The names of the estimate's and the effective number of parameters' columns of
    :func:`compare`'s table for the criterion ``ic`` (``"loo"`` or ``"waic"``)."""
    if ARVIZ_1:
        return "elpd", "p"
    return f"elpd_{ic}", f"p_{ic}"


def compare(elpds: dict[str, Any], ic: str, **kwargs: Any) -> Any:
    """ArviZ's ``compare`` of the models' ``ELPDData`` (``ic`` ``"loo"`` or ``"waic"``, as
    they were computed): the stack's own table, one row per model."""
    import arviz as az

    if ARVIZ_1:
        if ic != "loo":
            _no_waic()
        # ArviZ 1 rounds the table by default; graphfit hands out the numbers as computed
        kwargs.setdefault("round_to", "none")
        return az.compare(elpds, **kwargs)
    return az.compare(elpds, ic=ic, **kwargs)


def external_nuts(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword of ``pm.sample`` that passes ``kwargs`` on to an external NUTS sampler
    (numpyro's): ``nuts`` on PyMC 6, ``nuts_sampler_kwargs`` on PyMC 5."""
    return {"nuts": kwargs} if PYMC_6 else {"nuts_sampler_kwargs": kwargs}


def figure_of(plot: Any) -> Any:
    """The matplotlib ``Figure`` an ArviZ plot drew on: ArviZ 0.x returns axes (or an array of
    them), ArviZ 1 a ``PlotCollection``."""
    if hasattr(plot, "viz"):
        return plot.viz["figure"].item()
    return np.ravel(plot)[0].figure


#: Held while ArviZ 1's plotting grid is redirected to a user's Axes (:func:`_onto_axes`).
_GRID_LOCK = threading.Lock()


def _onto_axes(ax: Any, draw: Callable[[], Any]) -> Any:
    """Run ``draw`` (an arviz-plots function of one plot) with its new figure replaced by
    ``ax``: arviz-plots takes no Axes, but asks its backend for a grid of plotting targets,
    here ``ax`` alone."""
    # import time: arviz-plots, ArviZ 1's plotting part, is loaded with arviz
    import arviz_plots.backend.matplotlib as backend

    def one_target(number: int, *args: Any, squeeze: bool = True, **kwargs: Any) -> Any:
        if number != 1:
            raise PlotError(
                f"ArviZ's plot needs {number} Axes here; ax= takes one: leave it out to get a "
                "new figure."
            )
        return ax.figure, (ax if squeeze else np.array([[ax]], dtype=object))

    with _GRID_LOCK:
        original = backend.create_plotting_grid
        backend.create_plotting_grid = one_target
        try:
            return draw()
        finally:
            backend.create_plotting_grid = original


def plot_ppc(
    idata: Any, num_samples: int = 100, random_seed: int = 0, *, ax: Any = None, **kwargs: Any
) -> Any:
    """Posterior predictive check of ``idata``: the observed data's distribution over
    ``num_samples`` replicated ones.

    ``az.plot_ppc`` on ArviZ 0.x, arviz-plots' ``plot_ppc_dist`` on ArviZ 1 (which picks its
    draws itself: ``random_seed`` applies to ArviZ 0.x only).  Keyword arguments pass through.
    Returns the matplotlib ``Figure``, or ``ax`` when given (the plot drawn on it).
    """
    import arviz as az

    if ARVIZ_1:

        def draw() -> Any:
            return az.plot_ppc_dist(idata, num_samples=num_samples, **kwargs)

        plot = draw() if ax is None else _onto_axes(ax, draw)
    else:
        plot = az.plot_ppc(
            idata, num_pp_samples=num_samples, random_seed=random_seed, ax=ax, **kwargs
        )
    return figure_of(plot) if ax is None else ax


def plot_compare(table: Any, *, ax: Any = None, **kwargs: Any) -> Any:
    """ArviZ's plot of a ``compare`` table (keyword arguments pass through); returns the
    matplotlib ``Figure``, or ``ax`` when given (the plot drawn on it)."""
    import arviz as az

    if ax is None:
        return figure_of(az.plot_compare(table, **kwargs))
    if ARVIZ_1:
        _onto_axes(ax, lambda: az.plot_compare(table, **kwargs))
    else:
        az.plot_compare(table, ax=ax, **kwargs)
    return ax

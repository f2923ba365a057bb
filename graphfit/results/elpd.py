"""Predictive accuracy of a fit: PSIS-LOO and WAIC per dataset and jointly, and
leave-one-dataset-out.

Every fit keeps each dataset's pointwise log-likelihood (observed nodes and custom likelihoods
alike), so predictive accuracy can be estimated three ways:

* per dataset: ``result.loo()`` / ``result.waic()`` use that dataset's points only;
* jointly: ``result_list.loo()`` / ``result_list.waic()`` use every observed point of every
  dataset (one pointwise vector, datasets concatenated);
* per whole dataset: ``result_list.leave_one_dataset_out()`` treats each dataset's *summed*
  log-likelihood as one "point" and importance-samples the posterior without that dataset
  (Pareto-smoothed, PSIS), so it estimates how well the other datasets predict it, with no
  refit.  Its Pareto-k values say when that estimate cannot be trusted (> 0.7): a dataset
  that moves the posterior a lot needs a real refit without it.

ArviZ does the computing; this module chooses which log-likelihood values go in.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import ComparisonError

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd
    import xarray as xr

    from graphfit.results.result import Result
    from graphfit.results.result_list import ResultList

__all__ = [
    "DatasetInfluenceWarning",
    "dataset_log_likelihood",
    "joint_loo",
    "joint_waic",
    "leave_one_dataset_out",
    "pointwise_log_likelihood",
    "result_loo",
    "result_waic",
]

#: Name of the log-likelihood variable in the InferenceData handed to ArviZ.
_POINTS = "log_likelihood"


def _check_samples(idata: az.InferenceData, what: str) -> None:
    posterior = idata.posterior
    n = posterior.sizes.get("chain", 1) * posterior.sizes.get("draw", 1)
    if n < 2:
        raise ComparisonError(
            f"{what}: needs posterior samples, but the fit holds {n} draw (an optimiser such as "
            "gf.MAP gives a point estimate); fit with a sampler (gf.NUTS, gf.SMC)."
        )


def pointwise_log_likelihood(result_list: ResultList) -> xr.DataArray:
    """Every observed point's log-likelihood: dims ``(chain, draw, point)``.

    Datasets are concatenated in factor order; each point is labelled ``<dataset>[<k>]`` with
    ``k`` its flat index in the dataset's data, and the ``dataset`` coordinate along ``point``
    names its dataset.
    """
    import xarray as xr

    arrays = []
    for result in result_list:
        array = stack.group(result.idata, "log_likelihood")["obs"]
        other = [d for d in array.dims if d not in ("chain", "draw")]
        values = array.transpose("chain", "draw", *other).values
        values = values.reshape(values.shape[0], values.shape[1], -1)
        size = values.shape[-1]
        arrays.append(
            xr.DataArray(
                values,
                dims=("chain", "draw", "point"),
                coords={
                    "chain": array["chain"].values,
                    "draw": array["draw"].values,
                    "point": [f"{result.name}[{k}]" for k in range(size)],
                    "dataset": ("point", [result.name] * size),
                },
            )
        )
    return xr.concat(arrays, dim="point")


def dataset_log_likelihood(result_list: ResultList) -> xr.DataArray:
    """Each dataset's summed log-likelihood: dims ``(chain, draw, dataset)``."""
    import xarray as xr

    arrays = []
    for result in result_list:
        array = stack.group(result.idata, "log_likelihood")["obs"]
        other = [d for d in array.dims if d not in ("chain", "draw")]
        arrays.append(array.sum(other) if other else array)
    total = xr.concat(arrays, dim="dataset").assign_coords(dataset=list(result_list.names))
    return total.transpose("chain", "draw", "dataset").rename(_POINTS)


def _idata_with(result_list: ResultList, log_likelihood: xr.DataArray) -> az.InferenceData:
    """The joint posterior with one log-likelihood variable (what ``az.loo`` reads)."""
    import xarray as xr

    _check_samples(result_list.idata, "loo/waic")
    return stack.make_idata(
        posterior=stack.group(result_list.idata, "posterior"),
        log_likelihood=xr.Dataset({_POINTS: log_likelihood.rename(_POINTS)}),
    )


def joint_loo(result_list: ResultList, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
    """PSIS-LOO over all observed points of all datasets (see :meth:`~graphfit.ResultList.loo`)."""
    idata = _idata_with(result_list, pointwise_log_likelihood(result_list))
    return stack.loo(idata, _POINTS, pointwise=pointwise, **kwargs)


def joint_waic(result_list: ResultList, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
    """WAIC over every observed point of every dataset (see :meth:`~graphfit.ResultList.waic`)."""
    idata = _idata_with(result_list, pointwise_log_likelihood(result_list))
    return stack.waic(idata, _POINTS, pointwise=pointwise, **kwargs)


def result_loo(result: Result, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
    """PSIS-LOO of one dataset's points (see :meth:`~graphfit.Result.loo`)."""
    _check_samples(result.idata, f"loo of dataset {result.name!r}")
    return stack.loo(result.idata, "obs", pointwise=pointwise, **kwargs)


def result_waic(result: Result, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
    """WAIC of one dataset's points (see :meth:`~graphfit.Result.waic`)."""
    _check_samples(result.idata, f"waic of dataset {result.name!r}")
    return stack.waic(result.idata, "obs", pointwise=pointwise, **kwargs)


class DatasetInfluenceWarning(UserWarning):
    """Leave-one-dataset-out is unreliable for some datasets (Pareto k above the threshold).

    The posterior without such a dataset is too far from the joint posterior for importance
    sampling; refit without that dataset to measure how well the others predict it.

    Examples
    --------
    It is a ``UserWarning``, so the usual filters apply:

    >>> import warnings
    >>> import graphfit as gf
    >>> issubclass(gf.DatasetInfluenceWarning, UserWarning)
    True
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", gf.DatasetInfluenceWarning)  # make it an error
    """


def _dataset_elpd(result_list: ResultList) -> az.ELPDData:
    """``az.loo`` on the per-dataset summed log-likelihood, ArviZ's own k warning silenced
    (:func:`leave_one_dataset_out` reports it by dataset name instead)."""
    idata = _idata_with(result_list, dataset_log_likelihood(result_list))
    # the tails of a dataset the others predict badly overflow in ArviZ 0.23's Pareto fit
    # (``exp`` of its length scales): a weight of 0, as meant, which numpy warns about
    with warnings.catch_warnings(), np.errstate(over="ignore"):
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        return stack.loo(idata, _POINTS, pointwise=True)


def leave_one_dataset_out(result_list: ResultList, warn: bool = True) -> pd.DataFrame:
    """Leave-one-dataset-out predictive accuracy by PSIS, without refitting.

    See :meth:`~graphfit.ResultList.leave_one_dataset_out`.
    """
    import pandas as pd

    if len(result_list) < 2:
        raise ComparisonError(
            f"leave_one_dataset_out: needs a joint fit of at least two datasets, got "
            f"{len(result_list)} ({', '.join(result_list.names)}); use loo() for one dataset."
        )
    elpd = _dataset_elpd(result_list)
    loo_i = np.asarray(stack.elpd_pointwise(elpd), dtype=float)
    pareto_k = np.asarray(elpd.pareto_k.values, dtype=float)
    summed = dataset_log_likelihood(result_list)
    values = summed.stack(sample=("chain", "draw")).transpose("dataset", "sample").values
    from scipy.special import logsumexp

    lppd = logsumexp(values, axis=1) - np.log(values.shape[1])
    threshold = float(elpd.good_k)
    table = pd.DataFrame(
        {
            "elpd_loo": loo_i,
            "p_loo": lppd - loo_i,
            "pareto_k": pareto_k,
            "reliable": pareto_k <= threshold,
        },
        index=pd.Index(list(result_list.names), name="dataset"),
    )
    bad = [name for name, ok in zip(result_list.names, table["reliable"], strict=True) if not ok]
    if warn and bad:
        warnings.warn(
            f"leave-one-dataset-out: Pareto k > {threshold:.2f} for dataset(s) "
            f"{', '.join(bad)} ({', '.join(f'{k:.2f}' for k in pareto_k[~table['reliable']])}); "
            "each of them moves the posterior too much for importance sampling, so their "
            "elpd_loo is not reliable: refit without that dataset to measure it.",
            DatasetInfluenceWarning,
            stacklevel=3,
        )
    return table

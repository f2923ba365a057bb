"""Model comparison: PSIS-LOO and WAIC per dataset and jointly, and leave-one-dataset-out.

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

:func:`compare` runs ``az.compare`` on each dataset and on the joint fit of several models.
ArviZ does the computing; this module chooses which log-likelihood values go in.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import ComparisonError

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd
    import xarray as xr

    from graphfit.results import Result, ResultList

__all__ = [
    "JOINT",
    "Comparison",
    "DatasetInfluenceWarning",
    "compare",
    "dataset_log_likelihood",
    "joint_loo",
    "joint_waic",
    "leave_one_dataset_out",
    "pointwise_log_likelihood",
]

#: Label of the joint rows in :meth:`Comparison.to_frame`.
JOINT = "(joint)"
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
        array = result.idata.log_likelihood["obs"]
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
        array = result.idata.log_likelihood["obs"]
        other = [d for d in array.dims if d not in ("chain", "draw")]
        arrays.append(array.sum(other) if other else array)
    total = xr.concat(arrays, dim="dataset").assign_coords(dataset=list(result_list.names))
    return total.transpose("chain", "draw", "dataset").rename(_POINTS)


def _idata_with(result_list: ResultList, log_likelihood: xr.DataArray) -> az.InferenceData:
    """The joint posterior with one log-likelihood variable (what ``az.loo`` reads)."""
    import arviz as az
    import xarray as xr

    _check_samples(result_list.idata, "loo/waic")
    return az.InferenceData(
        posterior=result_list.idata.posterior,
        log_likelihood=xr.Dataset({_POINTS: log_likelihood.rename(_POINTS)}),
    )


def _fix_waic_label(elpd: az.ELPDData) -> az.ELPDData:
    """ArviZ 0.23 labels a non-pointwise WAIC estimate ``waic``; call it ``elpd_waic`` as in
    the pointwise case and in ``az.compare``."""
    if "waic" in elpd.index and "elpd_waic" not in elpd.index:
        elpd.index = ["elpd_waic" if label == "waic" else label for label in elpd.index]
    return elpd


def joint_loo(result_list: ResultList, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
    """PSIS-LOO over all observed points of all datasets (see :meth:`~graphfit.ResultList.loo`)."""
    import arviz as az

    idata = _idata_with(result_list, pointwise_log_likelihood(result_list))
    return az.loo(idata, pointwise=pointwise, var_name=_POINTS, **kwargs)


def joint_waic(result_list: ResultList, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
    """WAIC over every observed point of every dataset (see :meth:`~graphfit.ResultList.waic`)."""
    import arviz as az

    idata = _idata_with(result_list, pointwise_log_likelihood(result_list))
    return _fix_waic_label(az.waic(idata, pointwise=pointwise, var_name=_POINTS, **kwargs))


def result_loo(result: Result, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
    """PSIS-LOO of one dataset's points (see :meth:`~graphfit.Result.loo`)."""
    import arviz as az

    _check_samples(result.idata, f"loo of dataset {result.name!r}")
    return az.loo(result.idata, pointwise=pointwise, var_name="obs", **kwargs)


def result_waic(result: Result, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
    """WAIC of one dataset's points (see :meth:`~graphfit.Result.waic`)."""
    import arviz as az

    _check_samples(result.idata, f"waic of dataset {result.name!r}")
    return _fix_waic_label(az.waic(result.idata, pointwise=pointwise, var_name="obs", **kwargs))


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
    import arviz as az

    idata = _idata_with(result_list, dataset_log_likelihood(result_list))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        return az.loo(idata, pointwise=True, var_name=_POINTS)


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
    loo_i = np.asarray(elpd.loo_i.values, dtype=float)
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


def _as_list(owner: str, label: str, fit: Any) -> ResultList:
    from graphfit.results import Result, ResultList

    if isinstance(fit, Result):
        if len(fit.result_list) != 1:
            raise ComparisonError(
                f"{owner}: model {label!r} is one dataset ({fit.name!r}) of a joint fit of "
                f"{len(fit.result_list)} datasets; pass the whole ResultList."
            )
        return fit.result_list
    if not isinstance(fit, ResultList):
        raise ComparisonError(
            f"{owner}: model {label!r} must be a ResultList (or the Result of a single-dataset "
            f"fit), got {type(fit).__name__}."
        )
    return fit


def _n_points(result: Result) -> int:
    array = result.idata.log_likelihood["obs"]
    return int(np.prod([array.sizes[d] for d in array.dims if d not in ("chain", "draw")]))


def _check_same_datasets(owner: str, lists: dict[str, ResultList]) -> list[str]:
    labels = list(lists)
    reference = lists[labels[0]]
    names = list(reference.names)
    for label in labels[1:]:
        other = list(lists[label].names)
        if set(other) != set(names):
            missing = [n for n in names if n not in other]
            extra = [n for n in other if n not in names]
            parts = []
            if missing:
                parts.append(f"{', '.join(map(repr, missing))} only in {labels[0]!r}")
            if extra:
                parts.append(f"{', '.join(map(repr, extra))} only in {label!r}")
            raise ComparisonError(
                f"{owner}: models {labels[0]!r} and {label!r} were fitted to different datasets: "
                f"{'; '.join(parts)}. Models can only be compared on the same datasets."
            )
        for name in names:
            size_a = _n_points(reference[name])
            size_b = _n_points(lists[label][name])
            if size_a != size_b:
                raise ComparisonError(
                    f"{owner}: dataset {name!r} has {size_a} observed points in model "
                    f"{labels[0]!r} but {size_b} in {label!r}; models can only be compared on "
                    "the same data."
                )
    return names


@dataclass
class Comparison:
    """Model comparison tables from :func:`compare`.

    Every table is an ``az.compare`` DataFrame: one row per model, ranked (``rank`` 0 is the
    best), with ``elpd_loo`` (or ``elpd_waic``), ``p_loo``, ``elpd_diff`` from the best,
    ``weight``, ``se``, ``dse`` and ``warning``.

    Attributes
    ----------
    joint
        Every observed point of every dataset.
    datasets
        One table per dataset name, from that dataset's points only (index with
        ``comparison["dataset_0"]``).
    leave_one_dataset_out
        For joint fits of two or more datasets (``ic="loo"``): the comparison of how well each
        model predicts a whole unseen dataset from the others (see
        :meth:`~graphfit.ResultList.leave_one_dataset_out`); ``None`` otherwise.
    ic
        ``"loo"`` or ``"waic"``.

    Examples
    --------
    Two models of the same two datasets: one shared centre, or one centre each.

    >>> import graphfit as gf
    >>> analyses = [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in (0, 1)]
    >>> shared = gf.Model(gf.ex.Gaussian, normalization=25.0, sigma=10.0)
    >>> graphs = {
    ...     "shared centre": gf.FactorGraphModel(*[gf.AnalysisFactor(shared, a) for a in analyses]),
    ...     "own centres": gf.FactorGraphModel(
    ...         *[gf.AnalysisFactor(shared.copy(), a) for a in analyses]
    ...     ),
    ... }
    >>> graphs["own centres"].factors[1].prior_model.centre = gf.UniformPrior(0.0, 100.0)
    >>> search = gf.NUTS(draws=1000, tune=500, chains=2, random_seed=1, progressbar=False)
    >>> fits = {}
    >>> for label, graph in graphs.items():
    ...     fits[label] = search.fit(model=graph.global_prior_model, analysis=graph)
    >>> comparison = gf.compare(fits)
    >>> sorted(comparison.joint.index) == sorted(fits)
    True
    >>> list(comparison.datasets)
    ['dataset_0', 'dataset_1']
    """

    joint: pd.DataFrame
    datasets: dict[str, pd.DataFrame]
    ic: str
    leave_one_dataset_out: pd.DataFrame | None = None
    _elpd: dict[str, Any] = field(default_factory=dict, repr=False)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name == JOINT:
            return self.joint
        if name not in self.datasets:
            raise KeyError(f"no dataset named {name!r}; datasets: {', '.join(self.datasets)}")
        return self.datasets[name]

    @property
    def best(self) -> str:
        """Name of the model ranked first on the joint comparison."""
        return str(self.joint.index[0])

    def to_frame(self) -> pd.DataFrame:
        """All tables in one DataFrame indexed by ``(dataset, model)``; the joint rows are
        labelled ``"(joint)"`` and come first."""
        import pandas as pd

        tables = {JOINT: self.joint, **self.datasets}
        return pd.concat(tables, names=["dataset", "model"])

    def plot(self, **kwargs: Any) -> Any:
        """``az.plot_compare`` of the joint table (keyword arguments pass through)."""
        import arviz as az

        return az.plot_compare(self.joint, **kwargs)


def compare(fits: dict[str, Any], ic: str = "loo", **kwargs: Any) -> Comparison:
    """Compare models fitted to the same datasets, per dataset and jointly.

    Parameters
    ----------
    fits
        ``{model label: ResultList}`` (a single-dataset fit's ``Result`` is accepted too), at
        least two, all fitted to datasets of the same names and sizes.
    ic
        ``"loo"`` (PSIS-LOO, the default) or ``"waic"``.
    **kwargs
        Passed to ``az.compare`` (e.g. ``method="BB-pseudo-BMA"``).

    Returns
    -------
    Comparison
        ``comparison.joint`` (all points), ``comparison["<dataset>"]`` (one dataset's points),
        ``comparison.leave_one_dataset_out`` and ``comparison.to_frame()`` (everything in one
        DataFrame indexed by ``(dataset, model)``).

    Raises
    ------
    ComparisonError
        Fewer than two fits; a fit that is not a result; fits of different datasets (the
        message names the datasets that differ) or of datasets of different sizes.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.compare({"A": None, "B": None})
    ... except gf.ComparisonError as error:
    ...     print(error)
    compare: model 'A' must be a ResultList (or the Result of a single-dataset fit), got NoneType.
    """
    import arviz as az

    if not isinstance(fits, dict) or len(fits) < 2:
        given = list(fits) if isinstance(fits, dict) else fits
        count = len(given) if isinstance(given, list) else type(fits).__name__
        raise ComparisonError(
            f"compare: needs at least two fits to compare, got {count} "
            f"({', '.join(map(repr, given)) if isinstance(given, list) else given}); "
            'pass a dict such as {"model A": result_list_a, "model B": result_list_b}.'
        )
    if ic not in ("loo", "waic"):
        raise ComparisonError(f"compare: ic must be 'loo' or 'waic', got {ic!r}.")
    lists = {str(label): _as_list("compare", label, fit) for label, fit in fits.items()}
    names = _check_same_datasets("compare", lists)
    single = joint_loo if ic == "loo" else joint_waic
    per = result_loo if ic == "loo" else result_waic
    elpd = {label: single(rl, pointwise=True) for label, rl in lists.items()}
    joint = az.compare(elpd, ic=ic, **kwargs)
    datasets = {
        name: az.compare(
            {label: per(rl[name], pointwise=True) for label, rl in lists.items()}, ic=ic, **kwargs
        )
        for name in names
    }
    lodo = None
    if ic == "loo" and len(names) > 1:
        lodo = az.compare(
            {label: _dataset_elpd(rl) for label, rl in lists.items()}, ic="loo", **kwargs
        )
    return Comparison(joint=joint, datasets=datasets, ic=ic, leave_one_dataset_out=lodo, _elpd=elpd)

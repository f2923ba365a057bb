"""The figures a saved fit carries: ``summary.csv`` and the parameters of ``graphfit.json``.

:func:`parameter_table` summarises every element of the joint posterior under its joint label
(:mod:`graphfit.plan.labels`); :func:`dataset_summary` lists each dataset's parameters under
its own names and their joint labels (``summary.csv``); :func:`summary_json` gives the medians,
intervals and convergence figures of ``graphfit.json`` that the :class:`~graphfit.Aggregator`
lists.  :func:`graphfit.io.output.save_result` writes them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.io.layout import HDI_PROB
from graphfit.plan.labels import element_labels, parameter_label, variable_dataset
from graphfit.results.posterior_stats import posterior_stats

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd

    from graphfit.results.result_list import ResultList

__all__ = ["dataset_summary", "parameter_table", "summary_json"]


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def parameter_table(idata: az.InferenceData, datasets: Sequence[str] | None = None) -> pd.DataFrame:
    """Posterior summary of every posterior variable, one row per scalar element.

    Rows are labelled as ArviZ labels them (:mod:`graphfit.plan.labels`): ``centre`` for a
    shared parameter, ``sigma[dataset_0]`` for an element of a per-dataset variable.  Columns:
    ``variable`` (the joint model's variable), ``dataset`` (the dataset the value belongs to:
    the element's ``dataset`` coordinate, or the dataset of a variable of one dataset alone,
    ``t0.sigma``; missing for a shared value), ``element`` (the element's other coordinates as
    in its label, ``""`` for none), ``mean``, ``sd``, ``median``, ``hdi_3%``, ``hdi_97%`` (94%
    highest-density interval), ``r_hat``, ``ess_bulk``, ``ess_tail`` (NaN when there are too
    few chains or draws to compute them).  ``datasets`` are the dataset names; by default the
    ``dataset`` coordinate of the ``InferenceData``'s groups.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from graphfit.backend import stack
    >>> from graphfit.io.summaries import parameter_table
    >>> rng = np.random.default_rng(0)
    >>> posterior = xr.Dataset(
    ...     {"c": (("chain", "draw"), rng.normal(size=(2, 100))),
    ...      "s": (("chain", "draw", "dataset"), rng.normal(size=(2, 100, 2)))},
    ...     coords={"dataset": ["a", "b"]},
    ... )
    >>> table = parameter_table(stack.make_idata(posterior=posterior))
    >>> list(table.index), list(table["dataset"].fillna("-"))
    (['c', 's[a]', 's[b]'], ['-', 'a', 'b'])
    """
    import pandas as pd

    posterior = stack.group(idata, "posterior")
    if datasets is None:
        datasets = _dataset_names(idata)
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    mixed = chains > 1 and draws >= 4
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = stack.rhat(posterior) if mixed else None
        ess_bulk = stack.ess(posterior, "bulk") if mixed else None
        ess_tail = stack.ess(posterior, "tail") if mixed else None
    figures = posterior_stats(posterior, list(posterior.data_vars))
    rows: dict[str, dict[str, Any]] = {}
    for name, array in posterior.data_vars.items():
        shape = [array.sizes[d] for d in array.dims if d not in ("chain", "draw")]
        own = figures[name]
        stats = {key: own[key].values for key in ("mean", "sd", "median")}
        # no interval from 2 draws or fewer: the median stands for both bounds
        stats["hdi_3%"] = (own["median"] if own["lower"] is None else own["lower"]).values
        stats["hdi_97%"] = (own["median"] if own["upper"] is None else own["upper"]).values
        for key, table in (("r_hat", rhat), ("ess_bulk", ess_bulk), ("ess_tail", ess_tail)):
            stats[key] = table[name].values if table is not None else np.full(shape, np.nan)
        for position, coords, label in element_labels(array):
            dataset = coords.pop("dataset", None)
            row = {
                "variable": str(name),
                "dataset": variable_dataset(str(name), datasets) if dataset is None else dataset,
                "element": ", ".join(str(c) for c in coords.values()),
            }
            row.update({k: float(np.asarray(v)[position]) for k, v in stats.items()})
            rows[label] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "label"
    return table


def _dataset_names(idata: az.InferenceData) -> list[str]:
    """The ``dataset`` coordinate of the groups of ``idata`` that have one."""
    names: dict[str, None] = {}
    for group in ("posterior", "log_likelihood", "observed_data"):
        data = stack.group(idata, group, None)
        if data is not None and "dataset" in data.coords:
            names.update((str(v), None) for v in data["dataset"].values)
    return list(names)


def dataset_summary(result_list: ResultList, joint: pd.DataFrame) -> pd.DataFrame:
    """Per-dataset summary (``summary.csv``): every parameter of each dataset, in dataset
    order, under its name in that dataset's own model and its joint label.

    Columns: ``dataset``, ``parameter`` (the name in the dataset's own results, as
    ``result.summary()`` labels it: ``sigma``), ``label`` (the joint label, as
    ``az.summary(result_list.idata)`` and the :class:`~graphfit.Aggregator` label it:
    ``sigma[dataset_0]``, or ``centre`` for a shared parameter, which is on each of its
    datasets' rows), then :func:`parameter_table`'s figures.  ``joint`` is
    :func:`parameter_table` of ``result_list.idata``.
    """
    import pandas as pd

    plan = result_list.compiled.plan  # type: ignore[union-attr]  # a fit being saved
    columns = ["dataset", "parameter", "label", *_SUMMARY_FIGURES]
    rows = []
    by_variable = {name: frame for name, frame in joint.groupby("variable", sort=False)}
    for dataset, local_vars in zip(plan.names, plan.factor_vars, strict=True):
        for local, ref in local_vars:
            frame = by_variable.get(ref.name)
            if frame is None:
                continue
            for label, row in frame.iterrows():
                if ref.dataset is not None and row["dataset"] != ref.dataset:
                    continue
                parameter = parameter_label(local, row["element"]) if row["element"] else local
                rows.append([dataset, parameter, label, *row[_SUMMARY_FIGURES]])
    return pd.DataFrame(rows, columns=columns)


_SUMMARY_FIGURES = ["mean", "sd", "median", "hdi_3%", "hdi_97%", "r_hat", "ess_bulk", "ess_tail"]


def summary_json(joint: pd.DataFrame, diagnostics: Any) -> dict[str, Any]:
    """The figures of ``graphfit.json``: ``parameters`` by joint label, and
    ``parameter_datasets``, the dataset of each per-dataset label (which marks the labels of
    :mod:`graphfit.plan.labels`; older folders have none)."""
    parameters = {
        label: {
            "median": _finite(row["median"]),
            "lower": _finite(row["hdi_3%"]),
            "upper": _finite(row["hdi_97%"]),
            "mean": _finite(row["mean"]),
            "sd": _finite(row["sd"]),
            "r_hat": _finite(row["r_hat"]),
            "ess_bulk": _finite(row["ess_bulk"]),
        }
        for label, row in joint.iterrows()
    }
    datasets = {
        str(label): row["dataset"]
        for label, row in joint.iterrows()
        if isinstance(row["dataset"], str)
    }
    if diagnostics is None:
        figures = None
    else:
        figures = {
            "divergences": int(diagnostics.divergences),
            "problems": list(diagnostics.problems),
            "notes": list(diagnostics.notes),
            "max_r_hat": _finite(diagnostics.max_rhat),
            "min_ess_bulk": _finite(diagnostics.min_ess_bulk),
            "min_ess_tail": _finite(diagnostics.table["ess_tail"].min())
            if len(diagnostics.table)
            else None,
        }
    return {
        "hdi_prob": HDI_PROB,
        "parameters": parameters,
        "parameter_datasets": datasets,
        "diagnostics": figures,
    }

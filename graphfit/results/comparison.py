"""Model comparison: :func:`~graphfit.compare` runs ``az.compare`` on each dataset and on the joint
fit of several models (the log-likelihood values chosen by :mod:`graphfit.results.elpd`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import ComparisonError
from graphfit.results.elpd import _dataset_elpd, joint_loo, joint_waic, result_loo, result_waic
from graphfit.results.html import comparison_html
from graphfit.results.result import Result
from graphfit.results.result_list import ResultList

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.figure
    import pandas as pd

__all__ = ["JOINT", "Comparison", "compare"]

#: Label of the joint rows in :meth:`~graphfit.Comparison.to_frame`.
JOINT = "(joint)"


def _as_list(owner: str, label: str, fit: Any) -> ResultList:
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
    array = stack.group(result.idata, "log_likelihood")["obs"]
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
    """Model comparison tables from :func:`~graphfit.compare`.

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

    def plot(
        self, *, ax: matplotlib.axes.Axes | None = None, **kwargs: Any
    ) -> matplotlib.figure.Figure | matplotlib.axes.Axes:
        """ArviZ's ``plot_compare`` of the joint table (keyword arguments pass through to it).

        Returns
        -------
        matplotlib.figure.Figure or matplotlib.axes.Axes
            A new Figure, on either stack; with ``ax``, the plot is drawn on it and ``ax`` is
            returned.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> import graphfit as gf
        >>> analyses = [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in (0, 1)]
        >>> shared = gf.Model(gf.ex.Gaussian, normalization=25.0, sigma=10.0)
        >>> own = gf.FactorGraphModel(*[gf.AnalysisFactor(shared.copy(), a) for a in analyses])
        >>> own.factors[1].prior_model.centre = gf.UniformPrior(0.0, 100.0)
        >>> one = gf.FactorGraphModel(*[gf.AnalysisFactor(shared, a) for a in analyses])
        >>> graphs = {"shared centre": one, "own centres": own}
        >>> search = gf.NUTS(draws=1000, tune=500, chains=2, random_seed=1, progressbar=False)
        >>> fits = {
        ...     label: search.fit(model=graph.global_prior_model, analysis=graph)
        ...     for label, graph in graphs.items()
        ... }
        >>> comparison = gf.compare(fits)
        >>> figure, (left, right) = plt.subplots(1, 2)
        >>> comparison.plot(ax=right) is right
        True
        >>> plt.close("all")
        """
        return stack.plot_compare(self.joint, ax=ax, **kwargs)

    def _repr_html_(self) -> str:
        return comparison_html(self)


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
    joint = stack.compare(elpd, ic, **kwargs)
    datasets = {
        name: stack.compare(
            {label: per(rl[name], pointwise=True) for label, rl in lists.items()}, ic, **kwargs
        )
        for name in names
    }
    lodo = None
    if ic == "loo" and len(names) > 1:
        lodo = stack.compare(
            {label: _dataset_elpd(rl) for label, rl in lists.items()}, "loo", **kwargs
        )
    return Comparison(joint=joint, datasets=datasets, ic=ic, leave_one_dataset_out=lodo, _elpd=elpd)

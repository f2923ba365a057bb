"""The fit of one dataset: a view of the joint posterior, or a dataset's own fit.

A :class:`Result` belongs to a :class:`~graphfit.ResultList`.  Its ``idata`` holds only what
belongs to its dataset: the shared parameters and its own, named as in its own model
(``centre``, ``gaussian.sigma``; relations included), its observed data and its pointwise
log-likelihood, each under the name ``obs`` and labelled by its analysis's coordinates, and its
noise map (``constant_data``), selected and renamed from the joint ``InferenceData`` on first
use by :mod:`graphfit.results.split`, also for a result loaded without its model.  What needs
a part the list does not have (the model of a loaded fit) raises the list's error saying how
to get it.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import arviz as az
    import matplotlib.axes
    import matplotlib.figure
    import pandas as pd

    from graphfit.results.diagnostics import Diagnostics
    from graphfit.results.result_list import ResultList
    from graphfit.spec.factor_graph import AnalysisFactor

from graphfit.backend import stack
from graphfit.backend.predictive import dataset_posterior_predictive
from graphfit.exceptions import SamplesError
from graphfit.results import elpd
from graphfit.results.chaining import PASSING_SIGMA, centred_model
from graphfit.results.html import result_html
from graphfit.results.plotting import plot_fit
from graphfit.results.samples import Samples, dataset_samples
from graphfit.results.split import dataset_view, prior_column, split_entries

__all__ = ["Result"]


def _positive(value: Any, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise SamplesError(f"{owner}: {name} = {value!r}; {name} must be a finite number > 0.")
    if not (np.isfinite(value) and value > 0):
        raise SamplesError(f"{owner}: {name} = {value!r}; {name} must be a finite number > 0.")
    return float(value)


class Result:
    """The fit of one dataset: a view of a joint fit, or a dataset's own fit.

    Not created by users: ``search.fit`` returns one for a single analysis, and a
    :class:`ResultList` of them for a factor graph.

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    ... )
    >>> result.name, sorted(result.idata.posterior.data_vars)
    ('dataset_0', ['centre', 'normalization', 'sigma'])
    >>> round(result.max_log_likelihood_instance.sigma)
    10
    """

    def __init__(self, result_list: ResultList, index: int) -> None:
        self._list = result_list
        self.index = index
        self.name: str = result_list.names[index]
        self._passed_model: Any = None

    @property
    def result_list(self) -> ResultList:
        """The :class:`ResultList` of the joint fit this result belongs to."""
        return self._list

    @property
    def diagnostics(self) -> Diagnostics | None:
        """Convergence figures of the joint fit (``None`` for an optimiser)."""
        return self._list.diagnostics  # type: ignore[return-value]  # a joint fit's list

    @property
    def factor(self) -> AnalysisFactor:
        """The :class:`~graphfit.AnalysisFactor` of this dataset."""
        graph = self._list.require("graph", f"result {self.name!r}: the model and analysis")
        return graph.factors[self.index]

    @property
    def prior_model(self) -> Any:
        """The dataset's model as fitted, with its priors as given (``factor.prior_model``)."""
        return self.factor.prior_model

    @property
    def model(self) -> Any:
        """A new model of this dataset for the next search (prior passing), as in PyAutoFit.

        Each free prior is replaced by a Gaussian centred on its posterior median, of width
        the larger of its lower and upper errors at 3 sigma, truncated to the original prior's
        limits (:func:`graphfit.results.chaining.centred_model`); relations, assertions,
        fixed values and shared parameters keep their structure.  Never the fitted model
        (that is :attr:`prior_model`).  Assign to it to pass a model of your own.

        Examples
        --------
        >>> import graphfit as gf
        >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> analysis = gf.ex.Analysis(data, noise_map)
        >>> result = gf.MAP(random_seed=1).fit(model=model, analysis=analysis)
        >>> result.model is model, type(result.model.centre).__name__
        (False, 'TruncatedGaussianPrior')
        >>> round(result.model.centre.mean) == round(result.samples.median_pdf().centre)
        True
        """
        if self._passed_model is None:
            self._passed_model = self._centred(lambda prior, median: self._passing_widths[prior])
        return self._passed_model

    @model.setter
    def model(self, model: Any) -> None:
        self._passed_model = model

    @property
    def model_centred(self) -> Any:
        """Same as :attr:`model` (PyAutoFit's name since 2025)."""
        return self.model

    def model_centred_absolute(self, a: float) -> Any:
        """Like :attr:`model`, with every passed prior of width ``a`` (> 0)."""
        width = _positive(a, "a", f"result {self.name!r}.model_centred_absolute")
        return self._centred(lambda prior, median: width)

    def model_centred_relative(self, r: float) -> Any:
        """Like :attr:`model`, with each passed prior of width ``r * |median|`` (``r`` > 0)."""
        factor = _positive(r, "r", f"result {self.name!r}.model_centred_relative")
        return self._centred(lambda prior, median: factor * abs(median))

    @cached_property
    def _passing_widths(self) -> dict[Any, float]:
        errors = self.samples.errors_at_sigma(PASSING_SIGMA, as_instance=False)
        return {p: max(e) for p, e in zip(self.samples._priors, errors, strict=True)}

    def _centred(self, width: Any) -> Any:
        samples = self.samples
        model = self.prior_model
        priors = [p for p in samples._priors if p in set(model.priors())]
        medians = dict(zip(samples._priors, samples.median_pdf(as_instance=False), strict=True))
        return centred_model(
            model, priors, [medians[p] for p in priors], width, f"result {self.name!r}.model"
        )

    @cached_property
    def samples(self) -> Samples:
        """This dataset's :class:`~graphfit.Samples` (PyAutoFit's ``result.samples``)."""
        return dataset_samples(self)

    @property
    def instance(self) -> Any:
        """The maximum log-likelihood instance (PyAutoFit's ``result.instance``)."""
        return self.max_log_likelihood_instance

    @property
    def info(self) -> str:
        """Text summary of this dataset's fit in PyAutoFit's layout
        (:mod:`graphfit.results.info`): maximum log-likelihood model, then the median with
        the values at 3 and 1 sigma of each parameter, then the fixed values."""
        return self.samples.info

    @property
    def analysis(self) -> Any:
        """The dataset's analysis."""
        return self.factor.analysis

    @cached_property
    def idata(self) -> az.InferenceData:
        """This dataset's ``InferenceData``: shared and own parameters, its data labelled by
        its analysis's coordinates, log-likelihood and constant data (the noise map), split
        from the joint one (see :mod:`graphfit.results.split`)."""
        if self._list.compiled is None and self._list.dataset_idata is not None:
            return self._list.dataset_idata(self.index)
        joint = self._list.require("idata", f"result {self.name!r}: idata")
        compiled = self._list.require("compiled", f"result {self.name!r}: idata")
        entry = split_entries(compiled)[self.index]
        return dataset_view(joint, entry)

    def _plan(self) -> Any:
        return self._list.require("plan", f"result {self.name!r}: instances")

    def _values_at(self, chain: int, draw: int) -> dict[Any, float]:
        plan = self._plan()
        posterior = stack.group(self._list.idata, "posterior")
        values = {}
        for prior in plan.factor_priors[self.index]:
            ref = plan.prior_refs[prior]
            array = posterior[ref.name].isel(chain=chain, draw=draw)
            if ref.dataset is not None:
                array = array.sel(dataset=ref.dataset)
            values[prior] = float(array)
        return values

    def instance_at(self, chain: int, draw: int) -> Any:
        """Instance of the user's model class at one posterior sample."""
        # The values first: without a compiled model the error names instances, not the model.
        values = self._values_at(chain, draw)
        return self.prior_model.instance_from(values, np)

    @property
    def max_log_likelihood_instance(self) -> Any:
        """Instance at the sample with the highest joint log-likelihood (all datasets)."""
        return self.instance_at(*self._list.max_log_likelihood_index)

    @property
    def max_log_posterior_instance(self) -> Any:
        """Instance at the sample with the highest joint log posterior density."""
        return self.instance_at(*self._list.max_log_posterior_index)

    @property
    def median_pdf_instance(self) -> Any:
        """Instance built from the posterior median of each free parameter.

        Relations are evaluated at those medians.
        """
        plan = self._plan()
        posterior = stack.group(self._list.idata, "posterior")
        values = {}
        for prior in plan.factor_priors[self.index]:
            column = prior_column(posterior, plan.prior_refs[prior])
            values[prior] = float(column.median(("chain", "draw")))
        return self.prior_model.instance_from(values, np)

    def summary(self, **kwargs: Any) -> pd.DataFrame:
        """``az.summary`` of this dataset's posterior (keyword arguments pass through); for a
        point estimate (``gf.MAP``), its values in one column (see
        :func:`graphfit.backend.stack.summary`)."""
        return stack.summary(self.idata, **kwargs)

    def posterior_predictive(self, random_seed: int | None = 0) -> az.InferenceData:
        """This dataset's ``InferenceData`` with a ``posterior_predictive`` group.

        Replicated data ``obs`` (same dims as ``observed_data.obs``) drawn by PyMC from the
        dataset's observed node at every posterior sample, so ``az.plot_ppc`` works on the
        returned object.  The draws are made once for the joint model (see
        :meth:`ResultList.posterior_predictive`) and selected per dataset; ``self.idata`` is
        not changed.

        Raises
        ------
        PredictiveError
            When the dataset's analysis has a custom ``log_likelihood_function`` (no observed
            node, so no distribution to draw data from).

        Examples
        --------
        >>> import graphfit as gf
        >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
        >>> result = gf.MAP(random_seed=1).fit(
        ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
        ... )
        >>> result.posterior_predictive().posterior_predictive["obs"].dims
        ('chain', 'draw', 'x')
        """

        return dataset_posterior_predictive(self, random_seed)

    def plot_ppc(
        self,
        num_samples: int = 100,
        random_seed: int = 0,
        *,
        ax: matplotlib.axes.Axes | None = None,
        **kwargs: Any,
    ) -> matplotlib.figure.Figure | matplotlib.axes.Axes:
        """A posterior predictive check of this dataset: the distribution of its observed data
        over ``num_samples`` replicated datasets drawn by :meth:`posterior_predictive`.

        ArviZ draws it (``az.plot_ppc`` on ArviZ 0.x, ``az.plot_ppc_dist`` on ArviZ 1), so it
        looks the same as calling that function on :meth:`posterior_predictive`'s result;
        further keywords pass through to it.

        Returns
        -------
        matplotlib.figure.Figure or matplotlib.axes.Axes
            A new Figure on either stack; with ``ax``, the plot is drawn on it and ``ax`` is
            returned.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> import graphfit as gf
        >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
        >>> result = gf.MAP(random_seed=1).fit(
        ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
        ... )
        >>> figure = result.plot_ppc(num_samples=1)
        >>> len(figure.axes)
        1
        >>> figure, (left, right) = plt.subplots(1, 2)
        >>> result.plot_ppc(num_samples=1, ax=right) is right
        True
        >>> plt.close("all")
        """
        predictive = self.posterior_predictive(random_seed)
        return stack.plot_ppc(
            predictive, num_samples=num_samples, random_seed=random_seed, ax=ax, **kwargs
        )

    def plot_fit(
        self,
        draws: int = 200,
        *,
        ax: matplotlib.axes.Axes | None = None,
        axes: Any = None,
        **kwargs: Any,
    ) -> matplotlib.figure.Figure | matplotlib.axes.Axes | np.ndarray:
        """The fit: data with error bars, the posterior median model and its 68% band, and
        the normalised residuals below, in a new figure or in the user's Axes.

        The model data are computed with numpy on ``draws`` evenly spaced posterior samples
        (see :mod:`graphfit.results.plotting`); 2D data are drawn as images.  ``ax`` (one
        Axes) takes the band without residuals; ``axes`` two Axes (band, residuals) or three
        for 2D data.  Further keywords (``legend``, ``figsize``, ``data_kwargs``,
        ``model_kwargs``, ``band_kwargs``, ``image_kwargs``) are those of
        :func:`graphfit.results.plotting.plot_fit`.

        Returns
        -------
        matplotlib.figure.Figure or matplotlib.axes.Axes or numpy.ndarray
            A new Figure; with ``ax``, that Axes; with ``axes``, the Axes as an array.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> import graphfit as gf
        >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
        >>> result = gf.MAP(random_seed=1).fit(
        ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
        ... )
        >>> len(result.plot_fit().axes)
        2
        >>> figure, axes = plt.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        >>> result.plot_fit(axes=axes) is axes
        True
        >>> plt.close("all")
        """

        return plot_fit(self, draws, ax=ax, axes=axes, **kwargs)

    def loo(self, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
        """PSIS-LOO of this dataset's observed points (``az.loo`` on its log-likelihood only).

        Keyword arguments pass through to ``az.loo``.  The other datasets of a joint fit enter
        only through the posterior they helped to shape.
        """
        return elpd.result_loo(self, pointwise=pointwise, **kwargs)

    def waic(self, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
        """WAIC of this dataset's observed points (``az.waic`` on its log-likelihood only)."""
        return elpd.result_waic(self, pointwise=pointwise, **kwargs)

    def __repr__(self) -> str:
        parameters = list(stack.group(self.idata, "posterior").data_vars)
        return f"Result(name={self.name!r}, parameters={parameters})"

    def _repr_html_(self) -> str:
        return result_html(self)

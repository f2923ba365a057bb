"""The one result type: a list of per-dataset results with optional joint parts.

``search.fit`` returns a :class:`ResultList` holding the fitted graph, its compiled model and the
joint ``InferenceData``, with one :class:`~graphfit.Result` per dataset (a view of the joint
posterior, built on first use).  The joint parts are optional: :func:`graphfit.fit_each`'s
independent fits have none (each entry is its own fit, or a
:class:`~graphfit.results.independent.FailedResult`), and a folder loaded without its model has
the posterior but no graph or compiled model.  What needs a missing part raises one error
saying why it is missing and what to do (:meth:`~graphfit.ResultList.require`); the subclasses
:class:`~graphfit.IndependentResultList` and :class:`~graphfit.LoadedResultList` only add what
their origin has (failures, warnings, the saved summary).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, overload

import numpy as np

if TYPE_CHECKING:
    import os
    import pathlib

    import arviz as az
    import matplotlib.figure
    import pandas as pd
    import xarray as xr

    from graphfit.backend.compiled import CompiledGraph
    from graphfit.plan.naming import GraphPlan
    from graphfit.results.diagnostics import Diagnostics
    from graphfit.results.evidence import LogEvidence
    from graphfit.spec.factor_graph import FactorGraphModel

from graphfit.backend import stack
from graphfit.backend.predictive import joint_posterior_predictive
from graphfit.exceptions import FactorGraphError, IndependentFitsError
from graphfit.plan.labels import with_dataset
from graphfit.results import elpd
from graphfit.results.evidence import LogEvidence
from graphfit.results.html import result_list_html
from graphfit.results.plot_grid import plot_fits
from graphfit.results.plotting import save_fit_plots
from graphfit.results.populations import population_draw, sample_index
from graphfit.results.result import Result
from graphfit.results.samples import Samples, joint_samples

__all__ = ["ResultList"]


class ResultList(Sequence[Result]):
    """Results of a joint fit: one :class:`Result` per dataset, in factor order.

    Index by position (``result_list[0]``) or by dataset name (``result_list["dataset_0"]``).

    Attributes
    ----------
    idata
        The joint ``InferenceData`` of the compiled model.
    graph
        The fitted :class:`~graphfit.FactorGraphModel`.
    compiled
        The :class:`~graphfit.backend.compiled.CompiledGraph` (``compiled.model`` is the
        ``pm.Model``).
    diagnostics
        Convergence figures (:class:`~graphfit.Diagnostics`), or ``None`` for an
        optimiser.

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> graph = gf.FactorGraphModel(
    ...     *[
    ...         gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)))
    ...         for s in (0, 1)
    ...     ]
    ... )
    >>> result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    >>> result_list
    ResultList(2 datasets: dataset_0, dataset_1)
    >>> result_list["dataset_1"] is result_list[1]
    True
    >>> round(result_list[0].max_log_likelihood_instance.centre)
    50
    """

    def __init__(
        self,
        graph: FactorGraphModel | None,
        compiled: CompiledGraph | None,
        idata: az.InferenceData | None,
        diagnostics: Diagnostics | dict[str, Diagnostics | None] | None = None,
        *,
        names: Sequence[str] | None = None,
        entries: Sequence[Any] | None = None,
        loglike_names: Sequence[str] | None = None,
        dataset_idata: Callable[[int], az.InferenceData] | None = None,
        missing: Callable[[str], Exception] | None = None,
        plan: GraphPlan | None = None,
    ) -> None:
        self.graph = graph
        self.compiled = compiled
        self._plan = plan
        self.idata = idata
        self.diagnostics = diagnostics
        # names= is given whenever there is no compiled graph
        self.names: list[str] = list(compiled.plan.names if names is None else names)  # type: ignore[union-attr]
        #: The joint log-likelihood variables (one per observed node).
        if loglike_names is None:
            loglike_names = compiled.loglike_names if compiled is not None else ()
        self.loglike_names: list[str] = list(loglike_names)
        #: Reads dataset ``k``'s ``InferenceData`` when there is no compiled graph to select it
        #: from the joint one (a result loaded without its model).
        self.dataset_idata = dataset_idata
        if missing is None and any(part is None for part in (graph, compiled, idata)):
            raise TypeError("ResultList: a list without a joint part needs missing=")
        self._missing = missing
        #: Seconds spent building the model (``build``), finding starts (``start``), setting up
        #: and running the sampler (``sampler_setup``, ``sample``) and in all (``total``).
        self.timings: dict[str, float] = {}
        #: The output folder the fit was saved to or loaded from (``None`` when not saved), and
        #: whether it was loaded from there instead of being fitted again.
        self.output_folder: pathlib.Path | None = None
        self.resumed = False
        self._results = (
            [Result(self, k) for k in range(len(self.names))] if entries is None else list(entries)
        )

    @property
    def plan(self) -> GraphPlan | None:
        """The joint model's naming plan (:class:`~graphfit.plan.naming.GraphPlan`): the
        compiled model's, or the one given for a fit read without compiling its model (the
        aggregator's); ``None`` when there is neither."""
        if self._plan is not None:
            return self._plan
        return None if self.compiled is None else self.compiled.plan

    def require(self, part: str, what: str) -> Any:
        """The joint part ``part`` (``"graph"``, ``"compiled"``, ``"plan"`` or ``"idata"``), or
        the error saying why ``what`` is not available here.

        Examples
        --------
        >>> import graphfit as gf
        >>> result_list = gf.ResultList(
        ...     None, None, None, names=["a"], missing=lambda what: gf.IndependentFitsError(what)
        ... )
        >>> result_list.require("idata", "the joint posterior")
        Traceback (most recent call last):
        ...
        graphfit.exceptions.IndependentFitsError: the joint posterior
        """
        value = getattr(self, part)
        if value is None:
            raise self._missing(what)  # type: ignore[misc]  # given with a missing part
        return value

    @property
    def failed(self) -> list[Any]:
        """The entries of datasets whose fit failed (:func:`graphfit.fit_each`), in order."""
        return [r for r in self._results if not isinstance(r, Result)]

    @property
    def succeeded(self) -> list[Result]:
        """The results of datasets whose fit finished, in order."""
        return [r for r in self._results if isinstance(r, Result)]

    @overload
    def __getitem__(self, key: int | str) -> Result: ...

    @overload
    def __getitem__(self, key: slice) -> list[Result]: ...

    def __getitem__(self, key: int | str | slice) -> Result | list[Result]:
        if isinstance(key, str):
            if key not in self.names:
                raise KeyError(f"no dataset named {key!r}; datasets: {', '.join(self.names)}")
            return self._results[self.names.index(key)]
        return self._results[key]

    def __len__(self) -> int:
        return len(self._results)

    def __iter__(self) -> Iterator[Result]:
        return iter(self._results)

    @property
    def model(self) -> Any:
        """The pm.Model that was fitted."""
        return self.require("compiled", "model").model

    def joint_log_likelihood(self) -> xr.DataArray:
        """Total log-likelihood of all datasets per (chain, draw)."""
        loglike = self.require("idata", "joint_log_likelihood").log_likelihood
        total: Any = 0.0
        for name in self.loglike_names:
            array = loglike[name]
            other = [d for d in array.dims if d not in ("chain", "draw")]
            total = total + (array.sum(other) if other else array)
        return total

    @cached_property
    def max_log_likelihood_index(self) -> tuple[int, int]:
        """(chain, draw) of the sample with the highest joint log-likelihood."""
        return sample_index(self.joint_log_likelihood().transpose("chain", "draw").values)

    @cached_property
    def max_log_posterior_index(self) -> tuple[int, int]:
        """(chain, draw) of the sample with the highest log posterior density."""
        stats = self.require("idata", "max_log_posterior_index").sample_stats
        for name in ("lp", "logp"):
            if name in stats:
                return sample_index(stats[name].transpose("chain", "draw").values)
        return self.max_log_likelihood_index

    @cached_property
    def populations(self) -> dict[str, xr.Dataset]:
        """Posterior of each hierarchical factor, by name.

        Each ``Dataset`` holds the hyperparameters (``mean``, ``sigma``, ...) and
        ``predictive``: one draw of the parameter of a new, unseen dataset per posterior sample.
        Independent fits (no joint posterior) have none: ``{}``.
        """
        import xarray as xr

        if self.idata is None and self.compiled is None:
            return {}
        plan = self.require("plan", "populations")
        posterior = stack.group(self.idata, "posterior")
        rng = np.random.default_rng(0)
        out = {}
        for hname, population in plan.populations:
            values = {}
            for argument in population.distribution.arguments:
                value = population.parameters.get(argument)
                if value is None:
                    continue
                if hasattr(value, "evaluate"):
                    priors = value.priors()
                    arrays = {p: posterior[plan.prior_refs[p].name] for p in priors}
                    values[argument] = value.evaluate(arrays, np)
                else:
                    draws = posterior["chain"] + posterior["draw"]
                    values[argument] = xr.full_like(draws, value, dtype=float)
            values["predictive"] = population_draw(population, values, rng)
            out[hname] = xr.Dataset(values)
        return out

    @property
    def population(self) -> xr.Dataset:
        """The posterior of the graph's only hierarchical factor (see :attr:`populations`).

        Raises
        ------
        FactorGraphError
            When the graph has no hierarchical factor, or several (then pick one from
            :attr:`populations` by name).
        IndependentFitsError
            For independent fits (:func:`graphfit.fit_each`), which fit no population.
        """
        populations = self.populations
        if len(populations) == 1:
            return next(iter(populations.values()))
        if self.idata is None and self.compiled is None:
            raise IndependentFitsError(
                "population: these are independent fits (gf.fit_each), which fit no "
                "population; fit the datasets jointly, in a gf.FactorGraphModel with a "
                "gf.HierarchicalFactor, to get one."
            )
        if not populations:
            raise FactorGraphError(
                "population: the graph has no hierarchical factor, so the fit has no "
                "population; add a gf.HierarchicalFactor to the graph "
                "(gf.FactorGraphModel(*factors, hierarchical_factor)) to fit one."
            )
        names = list(populations)
        raise FactorGraphError(
            f"population: the graph has {len(names)} hierarchical factors ({', '.join(names)}); "
            f"pick one by name: result_list.populations[{names[0]!r}]."
        )

    def to_datatree(self) -> xr.DataTree:
        """One ``xarray.DataTree`` with a child per dataset (its groups below it)."""
        import xarray as xr

        return xr.DataTree(children={r.name: stack.to_datatree(r.idata) for r in self.succeeded})

    def summary(self, **kwargs: Any) -> pd.DataFrame:
        """``az.summary`` of the joint posterior; without one (independent fits), of every
        finished fit, rows labelled as a joint fit's per-dataset values (``sigma[t0]``; see
        :mod:`graphfit.plan.labels`).  For a point estimate (``gf.MAP``), the values in one
        column (see :func:`graphfit.backend.stack.summary`)."""
        import pandas as pd

        if self.idata is not None:
            return stack.summary(self.idata, **kwargs)
        frames = []
        for result in self.succeeded:
            frame = result.summary(**kwargs)
            frame.index = [with_dataset(str(label), result.name) for label in frame.index]
            frames.append(frame)
        return pd.concat(frames) if frames else pd.DataFrame()

    def posterior_predictive(self, random_seed: int | None = 0) -> az.InferenceData:
        """Posterior predictive draws of every observed node of the joint model.

        ``pm.sample_posterior_predictive`` on the compiled model at every posterior sample,
        made once per ``random_seed`` and cached; the returned ``InferenceData`` holds the
        groups ``posterior_predictive`` and ``observed_data`` with the joint model's variable
        names.  Per dataset, use :meth:`Result.posterior_predictive`.

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> analyses = [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in (0, 1)]
        >>> graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
        >>> result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
        >>> result_list.posterior_predictive().posterior_predictive["obs"].dims
        ('chain', 'draw', 'dataset', 'x')
        """

        return joint_posterior_predictive(self, random_seed)

    def plot_fits(
        self, draws: int = 200, ncols: int | None = None, **kwargs: Any
    ) -> matplotlib.figure.Figure | list[matplotlib.figure.Figure] | np.ndarray:
        """Every dataset's fit: in one figure, in pages, or in the user's Axes.

        Up to six datasets to a figure get :meth:`Result.plot_fit`'s two panels each, three to
        a row; more are small multiples (one panel each, with the dataset name and its
        reduced chi-square).  Keywords (``per_page``, ``page``, ``axes``, ``compact``,
        ``residuals``, ``sharey``, ``figsize``, ``data_kwargs``, ``model_kwargs``,
        ``band_kwargs``, ``image_kwargs``) are those of
        :func:`graphfit.results.plot_grid.plot_fits`.

        Returns
        -------
        matplotlib.figure.Figure or list of matplotlib.figure.Figure or numpy.ndarray
            One Figure; with ``per_page`` (and no ``page``) a list of Figures, one per page;
            with ``axes``, the Axes as an array (the array given).

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> analyses = [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in (0, 1)]
        >>> graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
        >>> result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
        >>> figure, axes = plt.subplots(1, 2, sharey=True)
        >>> result_list.plot_fits(axes=axes) is axes
        True
        >>> [len(figure.axes) for figure in result_list.plot_fits(per_page=1)]
        [2, 2]
        >>> plt.close("all")
        """

        return plot_fits(self, draws, ncols, **kwargs)

    def save_plots(
        self,
        folder: str | os.PathLike[str],
        draws: int = 200,
        dpi: int = 100,
        *,
        skip_undrawable: bool = False,
    ) -> list[pathlib.Path]:
        """Write each dataset's fit plot as ``<folder>/fit_<dataset name>.png`` (atomically).

        Returns the paths written, in dataset order.  With ``skip_undrawable``, datasets that
        cannot be drawn are logged and skipped.  See
        :func:`graphfit.results.plotting.save_fit_plots`.

        Examples
        --------
        >>> import tempfile
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> analyses = [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in (0, 1)]
        >>> graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
        >>> result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     [path.name for path in result_list.save_plots(folder, dpi=20)]
        ['fit_dataset_0.png', 'fit_dataset_1.png']
        """

        return save_fit_plots(self, folder, draws, dpi, skip_undrawable=skip_undrawable)

    def loo(self, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
        """Joint PSIS-LOO over every observed point of every dataset.

        The datasets' pointwise log-likelihoods are concatenated into one vector (labelled
        ``<dataset>[<k>]``) and passed to ``az.loo`` with the joint posterior.
        """
        return elpd.joint_loo(self, pointwise=pointwise, **kwargs)

    def waic(self, pointwise: bool = False, **kwargs: Any) -> az.ELPDData:
        """Joint WAIC over every observed point of every dataset."""
        return elpd.joint_waic(self, pointwise=pointwise, **kwargs)

    def leave_one_dataset_out(self, warn: bool = True) -> pd.DataFrame:
        """How well the other datasets predict each whole dataset, without refitting.

        Each dataset's log-likelihood is summed over its points and treated as one observation
        by PSIS-LOO (``az.loo`` on a ``(chain, draw, dataset)`` array): the joint posterior is
        importance-weighted towards the posterior without that dataset.

        Returns
        -------
        pandas.DataFrame
            Indexed by dataset: ``elpd_loo`` (log predictive density of the whole dataset given
            the others), ``p_loo``, ``pareto_k`` and ``reliable`` (``pareto_k`` at most ArviZ's
            threshold, 0.7 for large samples).  With ``warn`` a
            :class:`~graphfit.DatasetInfluenceWarning` names the unreliable datasets.
        """
        return elpd.leave_one_dataset_out(self, warn=warn)

    @property
    def log_evidence(self) -> LogEvidence | None:
        """Log marginal likelihood of the model, with its error, when the search computes it
        (:class:`~graphfit.search.smc.SMC`, :class:`~graphfit.search.dynesty.DynestyStatic`);
        ``None`` otherwise.  Read from the joint posterior's attributes, so it survives a
        NetCDF round trip."""

        return LogEvidence.from_attrs(self.require("idata", "log_evidence").posterior.attrs)

    @cached_property
    def samples(self) -> Samples:
        """The :class:`~graphfit.Samples` of every free parameter of the joint fit.

        A parameter's path is its joint variable's name, with the dataset for a per-dataset
        variable (``("sigma", "dataset_1")``); an instance holds every dataset's instance by
        name.  Each dataset's own view is ``result_list[i].samples``.
        """
        return joint_samples(self)

    @property
    def instance(self) -> Any:
        """Every dataset's instance at the sample of highest joint log-likelihood, by dataset
        name (a :class:`~graphfit.CollectionInstance`)."""
        return self.samples.max_log_likelihood()

    @property
    def info(self) -> str:
        """Text summary of the joint fit in PyAutoFit's layout (:mod:`graphfit.results.info`).

        Examples
        --------
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> analyses = [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in (0, 1)]
        >>> graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
        >>> result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
        >>> print(result_list.info.splitlines()[2])
        Maximum Log Likelihood Model:
        """
        return self.samples.info

    def __repr__(self) -> str:
        return f"ResultList({len(self)} datasets: {', '.join(self.names)})"

    def _repr_html_(self) -> str:
        return result_list_html(self)

"""Results: the joint posterior and its per-dataset views.

``search.fit`` returns a :class:`ResultList` holding the joint ``InferenceData`` of the compiled
model and one :class:`Result` per dataset.  A result's ``idata`` holds only what belongs to its
dataset: the shared parameters and its own, named as in its own model (``centre``,
``gaussian.sigma``; relations included), its observed data and its pointwise log-likelihood, each
under the name ``obs``.  Per-dataset views are built on first use from the joint one by selection
and renaming, so nothing is copied per dataset up front.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
    from graphfit.results.diagnostics import Diagnostics
    from graphfit.results.evidence import LogEvidence
    from graphfit.spec.factor_graph import AnalysisFactor, FactorGraphModel

from graphfit.backend.predictive import (
    OBS,
    dataset_posterior_predictive,
    joint_posterior_predictive,
)
from graphfit.results import elpd
from graphfit.results.evidence import LogEvidence
from graphfit.results.plotting import plot_fit, plot_fits, save_fit_plots
from graphfit.results.populations import population_draw, sample_index

__all__ = ["Result", "ResultList"]


class Result:
    """The fit of one dataset, from a joint fit.

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

    @property
    def result_list(self) -> ResultList:
        """The :class:`ResultList` of the joint fit this result belongs to."""
        return self._list

    @property
    def diagnostics(self) -> Diagnostics | None:
        """Convergence figures of the joint fit (``None`` for an optimiser)."""
        return self._list.diagnostics

    @property
    def factor(self) -> AnalysisFactor:
        """The :class:`~graphfit.AnalysisFactor` of this dataset."""
        return self._list.graph.factors[self.index]

    @property
    def model(self) -> Any:
        """The dataset's prior model."""
        return self.factor.prior_model

    @property
    def analysis(self) -> Any:
        """The dataset's analysis."""
        return self.factor.analysis

    @cached_property
    def idata(self) -> az.InferenceData:
        """This dataset's ``InferenceData`` (shared and own parameters, data, log-likelihood)."""
        import arviz as az
        import xarray as xr

        joint = self._list.idata
        compiled = self._list.compiled
        plan = compiled.plan
        posterior = {}
        for local, ref in plan.factor_vars[self.index]:
            array = joint.posterior[ref.name]
            if ref.dataset is not None:
                array = array.sel(dataset=ref.dataset, drop=True)
            posterior[local] = array.rename(local)
        groups: dict[str, xr.Dataset] = {
            "posterior": xr.Dataset(posterior, attrs=dict(joint.posterior.attrs))
        }
        node = compiled.nodes[self.index]
        for group in ("log_likelihood", "observed_data", "posterior_predictive"):
            if group in joint.groups() and node.loglike_name in joint[group]:
                array = joint[group][node.loglike_name]
                if node.select:
                    array = array.sel(node.select, drop=True)
                renames = {old: new for old, new in node.dims.items() if old in array.dims}
                array = array.rename(renames).rename(OBS)
                groups[group] = xr.Dataset({OBS: array}, attrs=dict(joint[group].attrs))
        if "sample_stats" in joint.groups():
            groups["sample_stats"] = joint.sample_stats
        return az.InferenceData(**groups)

    def _values_at(self, chain: int, draw: int) -> dict[Any, float]:
        plan = self._list.compiled.plan
        posterior = self._list.idata.posterior
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
        return self.model.instance_from(self._values_at(chain, draw), np)

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
        plan = self._list.compiled.plan
        posterior = self._list.idata.posterior
        values = {}
        for prior in plan.factor_priors[self.index]:
            ref = plan.prior_refs[prior]
            array = posterior[ref.name]
            if ref.dataset is not None:
                array = array.sel(dataset=ref.dataset)
            values[prior] = float(array.median(("chain", "draw")))
        return self.model.instance_from(values, np)

    def summary(self, **kwargs: Any) -> pd.DataFrame:
        """``az.summary`` of this dataset's posterior (keyword arguments pass through)."""
        import arviz as az

        return az.summary(self.idata, **kwargs)

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

    def plot_fit(self, draws: int = 200) -> matplotlib.figure.Figure:
        """A matplotlib Figure of the fit: data with error bars, the posterior median model
        and its 68% band, and the normalised residuals below.

        The model data are computed with numpy on ``draws`` evenly spaced posterior samples
        (see :mod:`graphfit.results.plotting`); 2D data are drawn as images.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import graphfit as gf
        >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
        >>> result = gf.MAP(random_seed=1).fit(
        ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
        ... )
        >>> len(result.plot_fit().axes)
        2
        """

        return plot_fit(self, draws)

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
        return f"Result(name={self.name!r}, parameters={list(self.idata.posterior.data_vars)})"


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
        graph: FactorGraphModel,
        compiled: CompiledGraph,
        idata: az.InferenceData,
        diagnostics: Diagnostics | None = None,
    ) -> None:
        self.graph = graph
        self.compiled = compiled
        self.idata = idata
        self.diagnostics = diagnostics
        self.names: list[str] = list(compiled.plan.names)
        #: Seconds spent building the model (``build``), finding starts (``start``), setting up
        #: and running the sampler (``sampler_setup``, ``sample``) and in all (``total``).
        self.timings: dict[str, float] = {}
        #: The output folder the fit was saved to or loaded from (``None`` when not saved), and
        #: whether it was loaded from there instead of being fitted again.
        self.output_folder: pathlib.Path | None = None
        self.resumed = False
        self._results = [Result(self, k) for k in range(len(self.names))]

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
        return self.compiled.model

    def joint_log_likelihood(self) -> xr.DataArray:
        """Total log-likelihood of all datasets per (chain, draw)."""
        loglike = self.idata.log_likelihood
        total = 0.0
        for name in self.compiled.loglike_names:
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
        stats = self.idata.sample_stats
        for name in ("lp", "logp"):
            if name in stats:
                return sample_index(stats[name].transpose("chain", "draw").values)
        return self.max_log_likelihood_index

    @cached_property
    def populations(self) -> dict[str, xr.Dataset]:
        """Posterior of each hierarchical factor, by name.

        Each ``Dataset`` holds the hyperparameters (``mean``, ``sigma``, ...) and
        ``predictive``: one draw of the parameter of a new, unseen dataset per posterior sample.
        """
        import xarray as xr

        plan = self.compiled.plan
        posterior = self.idata.posterior
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
        """The posterior of the graph's only hierarchical factor (see :attr:`populations`)."""
        if len(self.populations) != 1:
            raise ValueError(
                f"the graph has {len(self.populations)} hierarchical factors; use "
                "result_list.populations[name]"
            )
        return next(iter(self.populations.values()))

    def to_datatree(self) -> xr.DataTree:
        """One ``xarray.DataTree`` with a child per dataset (its groups below it)."""
        import xarray as xr

        return xr.DataTree(children={r.name: r.idata.to_datatree() for r in self._results})

    def summary(self, **kwargs: Any) -> pd.DataFrame:
        """``az.summary`` of the joint posterior."""
        import arviz as az

        return az.summary(self.idata, **kwargs)

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

    def plot_fits(self, draws: int = 200, ncols: int = 3) -> matplotlib.figure.Figure:
        """One matplotlib Figure with every dataset's :meth:`Result.plot_fit`, in a grid."""

        return plot_fits(self, draws, ncols)

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

        return LogEvidence.from_attrs(self.idata.posterior.attrs)

    def __repr__(self) -> str:
        return f"ResultList({len(self)} datasets: {', '.join(self.names)})"

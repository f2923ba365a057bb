"""PyAutoFit's ``samples`` object, read from a fit's ``InferenceData``.

``result.samples`` (one dataset) and ``result_list.samples`` (the joint fit) are views of the
joint posterior: each free parameter is a column of the ``(chain, draw)`` array of its joint
variable, read when asked (nothing is copied when the object is made).  The methods keep
PyAutoFit's names and meanings:

* ``sigma`` is a Gaussian-equivalent two-sided interval: ``values_at_sigma(sigma)`` gives the
  quantiles ``(1 - erf(sigma / sqrt(2))) / 2`` and ``(1 + erf(sigma / sqrt(2))) / 2`` of each
  parameter's marginal posterior (0.00135 and 0.99865 for ``sigma=3``), weighted by
  ``Samples.weight_list``; errors are measured from the median.
* ``as_instance=True`` (the default) returns an instance of the user's classes (relations
  evaluated at the values), ``as_instance=False`` a flat list in the order of
  ``Samples.parameter_paths`` (the order of ``model.priors()`` and ``model.paths``), and
  ``as_dict=True`` a dict keyed by the dotted paths.  A pair per parameter (``values_at_sigma``,
  ``errors_at_sigma``) makes an instance whose free parameters are ``(lower, upper)`` tuples.
* Samples are listed chain by chain (``chain`` major); the log-likelihood of a sample is the
  *joint* log-likelihood of every dataset of the fit, as for
  :attr:`~graphfit.Result.max_log_likelihood_instance`, so every dataset's samples describe the
  same draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import SamplesError
from graphfit.results.info import samples_info
from graphfit.results.instance_tree import build_instance, instance_leaves, is_number
from graphfit.results.populations import sample_index
from graphfit.results.split import prior_column
from graphfit.spec.model import CollectionInstance, path_text
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Expression

if TYPE_CHECKING:
    import xarray as xr

    from graphfit.results.result import Result
    from graphfit.results.result_list import ResultList

__all__ = [
    "Samples",
    "check_sigma",
    "dataset_samples",
    "joint_samples",
    "model_paths",
    "sigma_quantiles",
    "weighted_quantile",
]

Path = tuple[str, ...]


def check_sigma(sigma: Any, owner: str = "samples") -> float:
    """``sigma`` as a float, or a :class:`~graphfit.SamplesError` unless it is a finite
    number > 0.

    Examples
    --------
    >>> from graphfit.results.samples import check_sigma
    >>> check_sigma(3)
    3.0
    >>> check_sigma(0.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphfit.exceptions.SamplesError: samples: sigma = 0.0; sigma must be a finite number > 0 ...
    """
    if isinstance(sigma, bool) or not isinstance(sigma, int | float | np.number):
        raise SamplesError(
            f"{owner}: sigma = {sigma!r} of type {type(sigma).__name__}; sigma must be a "
            "finite number > 0 (the width of the interval in Gaussian standard deviations, "
            "e.g. sigma=3.0)."
        )
    value = float(sigma)
    if not (math.isfinite(value) and value > 0.0):
        raise SamplesError(
            f"{owner}: sigma = {sigma!r}; sigma must be a finite number > 0 (the width of the "
            "interval in Gaussian standard deviations, e.g. sigma=3.0)."
        )
    return value


def sigma_quantiles(sigma: float) -> tuple[float, float]:
    """Lower and upper quantile of a two-sided interval of ``sigma`` Gaussian standard
    deviations.

    Examples
    --------
    >>> from graphfit.results.samples import sigma_quantiles
    >>> [round(q, 5) for q in sigma_quantiles(3.0)]
    [0.00135, 0.99865]
    """
    tail = 0.5 * (1.0 - math.erf(sigma / math.sqrt(2.0)))
    return tail, 1.0 - tail


def weighted_quantile(values: Any, q: Any, weights: Any = None) -> np.ndarray:
    """Quantiles ``q`` of ``values`` with sample ``weights``.

    The weighted empirical distribution is interpolated linearly between the sorted values,
    the ``k``-th of ``n`` at cumulative weight ``sum(w[:k]) / sum(w[:n-1])``, so equal weights
    give ``numpy.quantile``'s default (linear) quantiles exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from graphfit.results.samples import weighted_quantile
    >>> x = np.array([3.0, 1.0, 2.0, 4.0])
    >>> weighted_quantile(x, [0.25, 0.5]).tolist(), np.quantile(x, [0.25, 0.5]).tolist()
    ([1.75, 2.5], [1.75, 2.5])
    >>> weighted_quantile(x, [0.25, 0.5], weights=[2.0, 2.0, 2.0, 2.0]).tolist()
    [1.75, 2.5]
    >>> weighted_quantile(x, 0.5, weights=[0.0, 1.0, 1.0, 0.0]).tolist()  # no weight on 3, 4
    [2.0]
    """
    x = np.asarray(values, dtype=float).reshape(-1)
    q = np.atleast_1d(np.asarray(q, dtype=float))
    if x.size == 1:
        return np.full(q.shape, x[0])
    if weights is None:
        return np.quantile(x, q)
    w = np.asarray(weights, dtype=float).reshape(-1)
    order = np.argsort(x, kind="stable")
    cdf = np.concatenate([[0.0], np.cumsum(w[order])[:-1]])
    if cdf[-1] <= 0.0:
        return np.full(q.shape, x[order][-1])
    return np.interp(q, cdf / cdf[-1], x[order])


class Samples:
    """The posterior samples of a fit, with PyAutoFit's ``samples`` methods.

    Made by ``result.samples`` (one dataset's parameters) or ``result_list.samples`` (every
    free parameter of the joint fit), not by users.  See the module docstring for the
    conventions (``sigma``, ``as_instance``, the order of the values).

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    ... )
    >>> samples = result.samples
    >>> samples.parameter_paths
    [('centre',), ('normalization',), ('sigma',)]
    >>> samples.total_samples, samples.log_evidence
    (1, None)
    >>> round(samples.median_pdf().centre)
    50
    >>> [round(v) for v in samples.max_log_likelihood(as_instance=False)]
    [50, 25, 10]
    >>> samples.values_at_sigma(3.0, as_dict=True)["sigma"] == (
    ...     samples.median_pdf(as_instance=False)[2],
    ... ) * 2
    True
    """

    def __init__(
        self,
        result_list: ResultList,
        priors: Sequence[Prior],
        paths: Sequence[Path],
        build: Callable[[dict[Prior, Any]], Any],
        expression_paths: Sequence[Path] = (),
        owner: str = "samples",
        fixed: Sequence[tuple[Path, Any]] = (),
        names: Sequence[str] | None = None,
    ) -> None:
        self._list = result_list
        self._priors = list(priors)
        self._paths = [tuple(p) for p in paths]
        self._names = [path_text(p) for p in self._paths] if names is None else list(names)
        self._build = build
        self._expression_paths = {tuple(p) for p in expression_paths}
        self._owner = owner
        #: The model's fixed parameters as ``(path, value)``, for :attr:`info`.
        self.fixed_values = [(tuple(p), v) for p, v in fixed]

    # -- the columns ---------------------------------------------------------------------------
    def _column(self, prior: Prior) -> xr.DataArray:
        plan = self._list.require("plan", f"{self._owner}: the samples")
        posterior = stack.group(self._list.require("idata", f"{self._owner}"), "posterior")
        return prior_column(posterior, plan.prior_refs[prior])

    def _flat(self, array: Any) -> np.ndarray:
        return np.asarray(array.transpose("chain", "draw").values, dtype=float).reshape(-1)

    def _quantiles(self, q: Sequence[float]) -> list[np.ndarray]:
        weights = self._weights()
        return [weighted_quantile(self._flat(self._column(p)), q, weights) for p in self._priors]

    def _weights(self) -> np.ndarray | None:
        """Stored sample weights, or ``None`` for equal weights."""
        stats = stack.group(self._list.require("idata", self._owner), "sample_stats", {})
        if "weight" in stats and set(stats["weight"].dims) == {"chain", "draw"}:
            return self._flat(stats["weight"])
        return None

    # -- output forms --------------------------------------------------------------------------
    def _values(self, vector: Sequence[float]) -> dict[Prior, Any]:
        return dict(zip(self._priors, vector, strict=True))

    def _output(self, vector: list[Any], as_instance: bool, as_dict: bool) -> Any:
        if as_dict:
            return dict(zip(self._names, vector, strict=True))
        if not as_instance:
            return vector
        if vector and isinstance(vector[0], tuple):
            return self._pair_instance(vector)
        return self._build(self._values(vector))

    def _pair_instance(self, pairs: list[tuple[float, float]]) -> Any:
        """An instance whose free parameters (and relations) are ``(lower, upper)`` pairs."""
        lower = self._build(self._values([p[0] for p in pairs]))
        upper = self._build(self._values([p[1] for p in pairs]))
        low_leaves: dict[Path, Any] = {}
        high_leaves: dict[Path, Any] = {}
        instance_leaves(lower, (), low_leaves)
        instance_leaves(upper, (), high_leaves)
        combined = {
            path: (value, high_leaves[path])
            if path in self._expression_paths and is_number(value)
            else value
            for path, value in low_leaves.items()
        }
        return build_instance(lower, (), combined)

    # -- PyAutoFit's API -----------------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The model whose free parameters these samples are (the dataset's prior model)."""
        return getattr(self._build, "model", None)

    @property
    def parameter_paths(self) -> list[Path]:
        """The path of each free parameter, in the order of the values (``model.paths``)."""
        return list(self._paths)

    @property
    def paths(self) -> list[Path]:
        """Same as :attr:`parameter_paths`."""
        return self.parameter_paths

    @property
    def parameter_names(self) -> list[str]:
        """Each parameter's label (in a joint fit ``sigma[t0]``), the keys of ``as_dict``."""
        return list(self._names)

    @property
    def total_samples(self) -> int:
        """The number of samples, chains times draws."""
        posterior = stack.group(self._list.require("idata", self._owner), "posterior")
        return int(posterior.sizes["chain"] * posterior.sizes["draw"])

    @property
    def parameter_lists(self) -> list[list[float]]:
        """One list of parameter values per sample (samples chain by chain)."""
        columns = [self._flat(self._column(p)) for p in self._priors]
        if not columns:
            return [[] for _ in range(self.total_samples)]
        return np.column_stack(columns).tolist()

    @property
    def log_likelihood_list(self) -> list[float]:
        """Joint log-likelihood (all datasets, full normalisation) of each sample."""
        return self._flat(self._list.joint_log_likelihood()).tolist()

    @property
    def log_prior_list(self) -> list[float]:
        """The log prior density of each sample, the sum of every free prior's log density.

        Raises
        ------
        SamplesError
            For a graph with hierarchical factors (its drawn parameters' prior is their
            population, which depends on the sample).
        """
        plan = self._list.require("plan", f"{self._owner}.log_prior_list")
        if plan.populations:
            raise SamplesError(
                f"{self._owner}.log_prior_list: the graph has hierarchical factors "
                f"({', '.join(name for name, _ in plan.populations)}), whose parameters' prior "
                "depends on the sample; use the sampler's log density, "
                "result_list.idata.sample_stats['lp'], or max_log_posterior()."
            )
        total = np.zeros(self.total_samples)
        for prior in plan.priors:
            total = total + np.asarray(prior.logpdf(self._flat(self._column(prior))), float)
        return total.tolist()

    @property
    def log_posterior_list(self) -> list[float]:
        """The unnormalised log posterior of each sample, log-likelihood plus log prior."""
        return (np.asarray(self.log_likelihood_list) + np.asarray(self.log_prior_list)).tolist()

    @property
    def weight_list(self) -> list[float]:
        """The weight of each sample, the search's stored weights, or 1.0 for every sample (MCMC,
        SMC, optimisers and dynesty, whose posterior is an equal-weight resample)."""
        weights = self._weights()
        if weights is None:
            return [1.0] * self.total_samples
        return weights.tolist()

    @property
    def log_evidence(self) -> float | None:
        """Log evidence (SMC, dynesty) as a float, or ``None``; ``result_list.log_evidence``
        has its error."""
        evidence = self._list.log_evidence
        return None if evidence is None else float(evidence)

    def _index_vector(self, chain: int, draw: int) -> list[float]:
        return [float(self._column(p).values[chain, draw]) for p in self._priors]

    def max_log_likelihood(self, as_instance: bool = True, as_dict: bool = False) -> Any:
        """The sample with the highest joint log-likelihood."""
        vector = self._index_vector(*self._list.max_log_likelihood_index)
        return self._output(vector, as_instance, as_dict)

    def max_log_posterior(self, as_instance: bool = True, as_dict: bool = False) -> Any:
        """The sample with the highest log posterior (:attr:`log_posterior_list`; for a graph
        with hierarchical factors, the sampler's own log density)."""
        plan = self._list.require("plan", f"{self._owner}.max_log_posterior")
        if plan.populations:
            index = self._list.max_log_posterior_index
        else:
            draws = stack.group(self._list.idata, "posterior").sizes["draw"]
            index = sample_index(np.reshape(self.log_posterior_list, (-1, draws)))
        return self._output(self._index_vector(*index), as_instance, as_dict)

    def median_pdf(self, as_instance: bool = True, as_dict: bool = False) -> Any:
        """The median of each parameter's marginal posterior."""
        vector = [float(v[0]) for v in self._quantiles([0.5])]
        return self._output(vector, as_instance, as_dict)

    def values_at_sigma(self, sigma: float, as_instance: bool = True, as_dict: bool = False) -> Any:
        """``(lower, upper)`` values of each parameter at a ``sigma`` two-sided interval."""
        sigma = check_sigma(sigma, f"{self._owner}.values_at_sigma")
        pairs = [(float(lo), float(hi)) for lo, hi in self._quantiles(sigma_quantiles(sigma))]
        return self._output(pairs, as_instance, as_dict)

    def values_at_upper_sigma(
        self, sigma: float, as_instance: bool = True, as_dict: bool = False
    ) -> Any:
        """Upper value of each parameter at ``sigma`` (the ``(1 + erf(sigma/sqrt 2))/2``
        quantile)."""
        sigma = check_sigma(sigma, f"{self._owner}.values_at_upper_sigma")
        vector = [float(v[0]) for v in self._quantiles([sigma_quantiles(sigma)[1]])]
        return self._output(vector, as_instance, as_dict)

    def values_at_lower_sigma(
        self, sigma: float, as_instance: bool = True, as_dict: bool = False
    ) -> Any:
        """Lower value of each parameter at ``sigma`` (the ``(1 - erf(sigma/sqrt 2))/2``
        quantile)."""
        sigma = check_sigma(sigma, f"{self._owner}.values_at_lower_sigma")
        vector = [float(v[0]) for v in self._quantiles([sigma_quantiles(sigma)[0]])]
        return self._output(vector, as_instance, as_dict)

    def _errors(self, sigma: float, owner: str) -> list[tuple[float, float]]:
        sigma = check_sigma(sigma, f"{self._owner}.{owner}")
        low, high = sigma_quantiles(sigma)
        out = []
        for lower, median, upper in self._quantiles([low, 0.5, high]):
            out.append((float(median - lower), float(upper - median)))
        return out

    def errors_at_sigma(self, sigma: float, as_instance: bool = True, as_dict: bool = False) -> Any:
        """``(lower, upper)`` errors of each parameter: its distances from the median to the
        values at ``sigma``, both >= 0."""
        return self._output(self._errors(sigma, "errors_at_sigma"), as_instance, as_dict)

    def errors_at_upper_sigma(
        self, sigma: float, as_instance: bool = True, as_dict: bool = False
    ) -> Any:
        """Upper error of each parameter: value at upper ``sigma`` minus the median."""
        errors = self._errors(sigma, "errors_at_upper_sigma")
        return self._output([e[1] for e in errors], as_instance, as_dict)

    def errors_at_lower_sigma(
        self, sigma: float, as_instance: bool = True, as_dict: bool = False
    ) -> Any:
        """Lower error of each parameter: the median minus the value at lower ``sigma``."""
        errors = self._errors(sigma, "errors_at_lower_sigma")
        return self._output([e[0] for e in errors], as_instance, as_dict)

    @property
    def instance(self) -> Any:
        """The maximum log-likelihood instance."""
        return self.max_log_likelihood()

    @property
    def info(self) -> str:
        """Text summary in PyAutoFit's layout (:func:`graphfit.results.info.samples_info`)."""
        return samples_info(self)

    def __len__(self) -> int:
        return self.total_samples

    def __repr__(self) -> str:
        return f"Samples({self.total_samples} samples, {len(self._priors)} parameters)"


class _DatasetBuild:
    """Builds one dataset's instance from prior values (keeps the model for ``samples.model``)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, values: dict[Prior, Any]) -> Any:
        return self.model.instance_from(values, np)


def model_paths(model: Any, priors: Sequence[Prior], fallback: dict[Prior, str]) -> list[Path]:
    """The path of each of ``priors`` in ``model``: the first leaf that is the prior, else
    ``fallback[prior]`` (its variable name in the dataset's ``InferenceData``) split at dots."""
    first: dict[int, Path] = {}
    for path, value in model.leaves():
        if isinstance(value, Prior):
            first.setdefault(id(value), tuple(path))
    return [first.get(id(p)) or tuple(fallback[p].split(".")) for p in priors]


def _expression_paths(model: Any, prefix: Path = ()) -> list[Path]:
    return [(*prefix, *path) for path, value in model.leaves() if isinstance(value, Expression)]


def _fixed(model: Any, prefix: Path = ()) -> list[tuple[Path, Any]]:
    return [
        ((*prefix, *path), value)
        for path, value in model.leaves()
        if is_number(value) or isinstance(value, np.ndarray)
    ]


def dataset_samples(result: Result) -> Samples:
    """The :class:`Samples` of one dataset of a fit (``result.samples``)."""
    owner = f"result {result.name!r}.samples"
    plan = result.result_list.require("plan", owner)
    model = result.factor.prior_model
    priors = plan.factor_priors[result.index]
    local = {ref: name for name, ref in plan.factor_vars[result.index]}
    fallback = {p: local[plan.prior_refs[p]] for p in priors}
    paths = model_paths(model, priors, fallback)
    return Samples(
        result.result_list,
        priors,
        paths,
        _DatasetBuild(model),
        _expression_paths(model),
        owner,
        _fixed(model),
    )


def joint_samples(result_list: ResultList) -> Samples:
    """The :class:`Samples` of every free parameter of a joint fit (``result_list.samples``).

    A parameter's path is its joint variable's name split at dots, with the dataset for a
    per-dataset variable (``("sigma", "dataset_1")``), its name its label; an instance is a
    :class:`~graphfit.CollectionInstance` of every dataset's instance, by dataset name.
    """
    plan = result_list.require("plan", "result_list.samples")
    graph = result_list.require("graph", "result_list.samples")
    models = [factor.prior_model for factor in graph.factors]
    refs = [plan.prior_refs[prior] for prior in plan.priors]
    paths = [(*ref.name.split("."), *((ref.dataset,) if ref.dataset else ())) for ref in refs]
    names = [ref.label for ref in refs]

    def build(values: dict[Prior, Any]) -> CollectionInstance:
        return CollectionInstance(
            {
                name: model.instance_from(values, np)
                for name, model in zip(result_list.names, models, strict=True)
            }
        )

    expressions = [
        path
        for name, model in zip(result_list.names, models, strict=True)
        for path in _expression_paths(model, (name,))
    ]
    fixed = [
        item
        for name, model in zip(result_list.names, models, strict=True)
        for item in _fixed(model, (name,))
    ]
    return Samples(
        result_list, plan.priors, paths, build, expressions, "result_list.samples", fixed, names
    )

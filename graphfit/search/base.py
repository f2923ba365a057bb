"""What every search shares: turning ``fit(model, analysis)`` into a compiled graph and results."""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import importlib.util
import logging
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from graphfit.backend import stack
from graphfit.backend.data_groups import joint_coords, label_data
from graphfit.backend.pointwise import python_default, vectorized_log_likelihood
from graphfit.backend.structures import LOCK
from graphfit.exceptions import SearchError
from graphfit.io.output import check_label, fit_folder, resume, save_result
from graphfit.results.diagnostics import ESS_MIN, RHAT_MAX, check_convergence
from graphfit.results.result_list import ResultList
from graphfit.search.progress import StageReporter, StageTimings
from graphfit.spec.factor_graph import as_graph

if TYPE_CHECKING:
    import arviz as az

    from graphfit.backend.compiled import CompiledGraph
    from graphfit.results.diagnostics import Diagnostics
    from graphfit.results.result import Result
    from graphfit.spec.analysis import Analysis
    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = [
    "Search",
    "as_graph",
    "check_fit",
    "finish_idata",
    "freeze_at_exit",
    "paused_gc",
    "positive_int",
    "require_extra",
]


def positive_int(owner: str, field: str, value: Any, minimum: int) -> int:
    """``value`` as an int, checked to be an integer ``>= minimum`` (a ``SearchError``
    naming ``owner`` and ``field`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise SearchError(f"{owner}: {field} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def require_extra(owner: str, module: str, extra: str) -> Any:
    """Import the optional package ``module`` that the search ``owner`` runs, or raise a
    ``SearchError`` naming graphfit's ``extra`` that installs it.

    Examples
    --------
    >>> from graphfit.search.base import require_extra
    >>> require_extra("MAP", "json", "none").__name__
    'json'
    >>> try:
    ...     require_extra("Sampler", "no_such_package_here", "sampler")
    ... except ValueError as error:
    ...     print(error)
    Sampler needs the no_such_package_here package: pip install 'graphfit[sampler]'.
    """
    if importlib.util.find_spec(module) is None:
        raise SearchError(f"{owner} needs the {module} package: pip install 'graphfit[{extra}]'.")
    return importlib.import_module(module)


logger = logging.getLogger("graphfit")


def freeze_at_exit() -> None:
    """Make the interpreter's exit quick after a fit: at exit, move every object to the garbage
    collector's permanent generation (registered once per process).

    A process that has compiled and sampled a model holds some 700,000 objects (PyTensor
    graphs, PyMC's and numba's caches).  Without this, the collections CPython runs while it
    tears the modules down took about 2.4 s after a cookbook script's last line on two cores
    (the ``startup+exit`` column of ``benchmarks/cold_start.py``); with it, 0.1-0.2 s.  What
    it gives up: objects that are only kept alive by reference cycles are not finalised at
    exit, which CPython does not promise either; ``atexit`` handlers, ``weakref.finalize``
    callbacks and objects freed by reference counting are unaffected.
    """
    global _EXIT_FREEZE
    if not _EXIT_FREEZE:
        atexit.register(gc.freeze)
        _EXIT_FREEZE = True


_EXIT_FREEZE = False


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while compiling.

    Building and rewriting a PyTensor graph and numba's compile create many short-lived objects;
    the collector's full passes over everything alive took about 20% of a nutpie compile
    (measured: 2.6 s paused against 3.3 s, more when the process holds many objects). Reference
    counting still frees memory meanwhile; the collector runs again, as it was, afterwards.
    Sampling itself (long loops with PyMC's sampler) is never run paused.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def finish_idata(idata: az.InferenceData, compiled: CompiledGraph) -> az.InferenceData:
    """Complete a joint ``InferenceData``: log-likelihood for every dataset, observed data.

    Custom log-likelihoods were recorded as deterministics; they move to ``log_likelihood``.
    Observed nodes get their pointwise log-likelihood when it is missing, computed from PyMC's
    graph vectorised over the draws (see :mod:`graphfit.backend.pointwise`). When it would hold
    more than :data:`graphfit.backend.deferred.DEFER_LOG_LIKELIHOOD_SIZE` values (all observed
    nodes, chains and draws), it is not computed here: the ``log_likelihood`` variables of the
    observed nodes are lazily indexed arrays (same dims, coords and dtype) computed by the same
    code on first use, once (see :mod:`graphfit.backend.deferred`).
    """
    import xarray as xr

    model = compiled.model
    compiled.drop_containers(idata)  # PyMC's sampler puts the noise maps in constant_data
    # Samplers other than PyMC's keep the unconstrained (transformed) values: drop them.
    hidden = [
        model.rvs_to_values[rv].name
        for rv in model.free_RVs
        if model.rvs_to_values[rv].name != rv.name
    ]
    posterior = stack.group(idata, "posterior")
    hidden = [name for name in hidden if name in posterior]
    if hidden:
        posterior = posterior.drop_vars(hidden)
        # and the coordinates of their dims (e.g. ``normalization_chain___dim_0``)
        used = {dim for array in posterior.data_vars.values() for dim in array.dims}
        stray = [name for name, coord in posterior.coords.items() if not set(coord.dims) <= used]
        stack.set_group(idata, "posterior", posterior.drop_vars(stray))
    observed = list(dict.fromkeys(n.loglike_name for n in compiled.nodes if n.kind == "observed"))
    if observed and (
        not stack.has_group(idata, "log_likelihood")
        or any(name not in stack.group(idata, "log_likelihood") for name in observed)
    ):
        if not _defer_log_likelihood(idata, compiled, observed):  # else computed on first use
            _reused_log_likelihood(idata, compiled, observed)
    custom = compiled.potential_loglikes
    if custom:
        posterior = stack.group(idata, "posterior")
        moved = posterior[custom]
        stack.set_group(idata, "posterior", posterior.drop_vars(custom))
        if stack.has_group(idata, "log_likelihood"):
            moved = xr.merge([stack.group(idata, "log_likelihood"), moved])
        stack.set_group(idata, "log_likelihood", moved)
    if observed and not stack.has_group(idata, "observed_data"):
        from pymc.backends.arviz import find_observations

        data = find_observations(model)
        arrays = {
            name: xr.DataArray(
                np.asarray(data[name]),
                dims=model.named_vars_to_dims[name],
                coords={d: np.asarray(model.coords[d]) for d in model.named_vars_to_dims[name]},
            )
            for name in observed
        }
        stack.set_group(idata, "observed_data", xr.Dataset(arrays))
    return idata


def _reused_log_likelihood(
    idata: az.InferenceData, compiled: CompiledGraph, observed: list[str]
) -> None:
    """What ``pm.compute_log_likelihood`` gives, without PyTensor's C backend: all draws at
    once in NumPy (:func:`graphfit.backend.pointwise.vectorized_log_likelihood`), with the
    function kept in ``compiled.cache`` for the next fit of the same model, whose data
    containers may hold other data by then (see :mod:`graphfit.backend.structures`).  PyMC's
    function compiled the log-likelihood to C and, in a fresh process, loaded PyTensor's index
    of compiled modules first: 2-3 s of a 3-dataset cookbook fit's post-processing."""
    posterior = stack.group(idata, "posterior")
    loglike = _reused_log_likelihood_dataset(compiled, observed, posterior, compiled.data)
    stack.set_group(idata, "log_likelihood", loglike)


def _reused_log_likelihood_dataset(
    compiled: CompiledGraph, observed: list[str], posterior: Any, data: dict[str, Any]
) -> Any:
    """The pointwise log-likelihood ``Dataset`` of :func:`_reused_log_likelihood`, for the
    data ``data`` (container name -> values)."""
    import pymc as pm
    from pymc.backends.arviz import apply_function_over_dataset, coords_and_dims_for_inferencedata
    from pymc.model.transform.conditioning import remove_value_transforms

    key = ("log_likelihood", tuple(observed))
    entry = compiled.cache.get(key)
    if entry is None:
        umodel = remove_value_transforms(compiled.model)
        # all draws at once in NumPy (no C compile); PyMC's per-draw function if it cannot be
        vectorized = vectorized_log_likelihood(umodel, observed)
        function = None
        if vectorized is None:
            function = umodel.compile_fn(
                inputs=umodel.value_vars,
                outs=umodel.logp(vars=[umodel[name] for name in observed], sum=False),
                on_unused_input="ignore",
            )
        entry = (umodel, vectorized, function, *coords_and_dims_for_inferencedata(umodel))
        compiled.cache[key] = entry
    umodel, vectorized, function, coords, dims = entry
    # the clone has its own data containers: give it the data of the fit
    with python_default():  # its length checks compile a function once: no C for it
        pm.set_data(data, model=umodel)
    names = [rv.name for rv in umodel.free_RVs]
    if vectorized is not None:
        arrays = vectorized({name: posterior[name].values for name in names})
        return stack.sampled_dataset(arrays, coords, dims)
    return apply_function_over_dataset(
        function,
        posterior[names],
        output_var_names=observed,
        sample_dims=("chain", "draw"),
        dims=dims,
        coords=coords,
        progressbar=False,
    )


def _pointwise_shapes(model: Any, observed: list[str]) -> dict[str, tuple[int, ...]] | None:
    """Shape (without chain and draw) of each observed node's pointwise log-likelihood: its
    data's shape for a univariate distribution; ``None`` when not known without computing."""
    from pymc.backends.arviz import find_observations

    data = find_observations(model)
    shapes = {}
    for name in observed:
        owner = model[name].owner
        if name not in data or owner is None or getattr(owner.op, "ndim_supp", None) != 0:
            return None
        shapes[name] = tuple(int(n) for n in np.shape(data[name]))
    return shapes


def _defer_log_likelihood(
    idata: az.InferenceData, compiled: CompiledGraph, observed: list[str]
) -> bool:
    """Put a deferred pointwise log-likelihood of ``observed`` into ``idata`` when it would
    hold more than ``DEFER_LOG_LIKELIHOOD_SIZE`` values (see :mod:`graphfit.backend.deferred`);
    ``False`` (nothing done) otherwise."""
    from graphfit.backend import deferred  # import time: it loads xarray

    if stack.has_group(idata, "log_likelihood") or not stack.has_group(idata, "posterior"):
        return False
    model = compiled.model
    posterior = stack.group(idata, "posterior")
    if "chain" not in posterior.sizes or "draw" not in posterior.sizes:
        return False
    shapes = _pointwise_shapes(model, observed)
    if shapes is None:
        return False
    samples = posterior.sizes["chain"] * posterior.sizes["draw"]
    size = samples * sum(int(np.prod(shape)) for shape in shapes.values())
    if size <= deferred.DEFER_LOG_LIKELIHOOD_SIZE:
        return False
    names = [rv.name for rv in model.free_RVs]
    if any(name not in posterior for name in names):
        return False
    free = posterior[names]  # a new Dataset sharing the arrays: later edits of idata don't matter

    # data containers get other data after this fit: keep this fit's
    data = compiled.data

    def compute() -> Any:
        with LOCK:  # one user of a shared model at a time
            return _reused_log_likelihood_dataset(compiled, observed, free, data)

    from pymc.backends.arviz import coords_and_dims_for_inferencedata

    # dims, coords and attributes made as PyMC makes them, from zero-stride arrays (no memory)
    coords, dims = coords_and_dims_for_inferencedata(model)
    chain, draw = posterior.sizes["chain"], posterior.sizes["draw"]
    zero = np.zeros((), dtype=np.float64)
    template = stack.sampled_dataset(
        {name: np.broadcast_to(zero, (chain, draw, *shapes[name])) for name in observed},
        coords,
        dims,
    )
    expected = {name: (template[name].dims, template[name].shape) for name in observed}
    source = deferred.DeferredLogLikelihood(compute, expected)
    stack.set_group(idata, "log_likelihood", deferred.deferred_dataset(source, template))
    return True


def check_fit(
    idata: az.InferenceData,
    compiled: CompiledGraph,
    *,
    note_single_chain: bool = True,
    rhat_max: float = RHAT_MAX,
) -> Diagnostics:
    """R-hat, ESS and divergence checks of every prior and relation variable of the graph
    (see :func:`graphfit.results.diagnostics.check_convergence`)."""

    plan = compiled.plan
    var_names = [g.name for g in plan.prior_groups] + [g.name for g in plan.relation_groups]
    return check_convergence(
        idata,
        var_names,
        rhat_max=rhat_max,
        ess_min=ESS_MIN,
        note_single_chain=note_single_chain,
    )


class Search:
    """Base class of searches.

    Parameters
    ----------
    name, path_prefix
        With a ``name``, the fit is saved to
        ``<output root>/<path_prefix>/<name>/<identifier>/`` and rerunning with the same model,
        data and settings loads it instead of fitting again (see :mod:`graphfit.io.output`).
        Without one, nothing is written.
    unique_tag
        A label that is part of the fit's identifier (as PyAutoFit's ``unique_tag``): fits
        that differ only by their tag get folders of their own.
    output_path
        The output root; default the ``GRAPHFIT_OUTPUT_PATH`` environment variable, else
        ``./output``.
    random_seed
        Seed for everything random in the search.
    progressbar
        Show progress: a line per stage of the fit (building the model, compiling it, finding
        start values, sampling, post-processing, saving) with its time, updated in place in a
        terminal or notebook (see :mod:`graphfit.search.progress`), and the sampler's own
        progress bar.  ``False``: nothing is written.
    plots
        With ``name``, also write each dataset's fit plot as a PNG into the folder's
        ``plots/`` (not part of the identifier).  Default ``False``: a saved fit redraws its
        plots when asked (``gf.load_result(folder)[0].plot_fit()``), and
        ``result_list.save_plots(folder)`` writes them at any time.

    Examples
    --------
    >>> import graphfit as gf
    >>> isinstance(gf.NUTS(), gf.Search), isinstance(gf.MAP(), gf.Search)
    (True, True)
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        path_prefix: str | None = None,
        random_seed: int | None = None,
        progressbar: bool = True,
        output_path: str | os.PathLike[str] | None = None,
        unique_tag: str | None = None,
        plots: bool = False,
    ) -> None:
        owner = type(self).__name__
        name = check_label(owner, "name", name)
        path_prefix = check_label(owner, "path_prefix", path_prefix)
        self.unique_tag = check_label(owner, "unique_tag", unique_tag)
        if random_seed is not None and not isinstance(random_seed, int | np.integer):
            raise SearchError(
                f"{type(self).__name__}: random_seed must be an int or None, got {random_seed!r}."
            )
        self.name = name
        self.path_prefix = path_prefix
        self.random_seed = None if random_seed is None else int(random_seed)
        self.progressbar = bool(progressbar)
        self.output_path = None if output_path is None else os.fspath(output_path)
        if not isinstance(plots, bool | np.bool_):
            raise SearchError(f"{owner}: plots must be True or False, got {plots!r}.")
        self._plots = bool(plots)  # private: not a setting of the identifier

    @property
    def plots(self) -> bool:
        """Whether a named fit writes its fit plots (PNG) into its folder."""
        return getattr(self, "_plots", False)  # a search pickled before the keyword: False

    @overload
    def fit(self, model: Any, analysis: FactorGraphModel) -> ResultList: ...
    @overload
    def fit(self, model: Any, analysis: Analysis) -> Result: ...
    @overload
    def fit(self, model: Any, analysis: Any) -> ResultList | Result: ...
    def fit(self, model: Any, analysis: Any) -> ResultList | Result:
        """Fit ``model`` to ``analysis``.

        Parameters
        ----------
        model
            ``factor_graph.global_prior_model`` for a factor graph, or a ``gf.Model`` /
            ``gf.Collection`` for a single analysis.
        analysis
            A :class:`~graphfit.FactorGraphModel` or a single
            :class:`~graphfit.Analysis`.

        Returns
        -------
        ResultList or Result
            A :class:`~graphfit.ResultList` (one result per dataset) for a factor graph;
            a single :class:`~graphfit.Result` for a single analysis.
        """

        graph, single = as_graph(model, analysis)
        folder = None
        if self.name is not None:  # a named fit is saved, and loaded when already finished
            folder, identity = fit_folder(self, graph)
            loaded = resume(folder, graph)
            if loaded is not None:
                return loaded[0] if single else loaded
        start = time.perf_counter()
        freeze_at_exit()
        # the stages' times, each reported as it begins and ends (graphfit.search.progress)
        timings = self._timings = StageTimings(StageReporter(self.progressbar))
        try:
            timings.begin("build")
            # one fit at a time of a model shared by graphs of one structure, which holds one
            # graph's data at a time (see graphfit.backend.structures)
            with LOCK:
                with paused_gc():
                    compiled = graph.compile()
                coords = joint_coords(graph, compiled)  # checked before the fit
                timings["build"] = time.perf_counter() - start
                idata, diagnostics = self._run(compiled)
                label_data(idata, compiled, coords)
            timings["total"] = time.perf_counter() - start
            result_list = ResultList(graph, compiled, idata, diagnostics)
            result_list.timings = dict(timings)
            if folder is not None:
                timings.begin("save")
                result_list.output_folder = save_result(
                    result_list, folder, search=self, identity=identity, single=single
                )
            timings.close(total=time.perf_counter() - start)
        finally:
            timings.close()
            # a plain dict: the search pickles as before (a StageTimings while it fits)
            self._timings = dict(timings)  # type: ignore[assignment]
        return result_list[0] if single else result_list

    def _run(self, compiled: CompiledGraph) -> tuple[az.InferenceData, Any]:
        raise NotImplementedError

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.random_seed)

"""``gf.Emcee``: ensemble MCMC with emcee's affine-invariant stretch move (an optional extra).

emcee moves an ensemble of walkers; a walker's proposal is a random stretch along the line
through another walker, so it needs no gradient, and the ensemble's spread sets the scale and
the correlations of the moves.

**Where the walkers move.**  In the unconstrained space of the compiled PyMC model (each
bounded parameter through PyMC's log or logit transform), with the model's log density there,
Jacobian included: the density NUTS samples, so the draws mapped back are draws of the
posterior.  Not in the prior unit cube (PyAutoFit's space for its start ball, and dynesty's):
the cube has walls on which stretch proposals are wasted, its quantile map squeezes a
well-measured parameter into a sliver (a badly conditioned ensemble), and it exists only for
products of independent priors, so a graph with a hierarchical factor has none.  The
unconstrained space has no walls, posteriors are closer to Gaussian there, and every graph has
one.

**Start.**  Walkers start in a ball around the optimum of graphfit's start search (see
:mod:`graphfit.search.start`), each coordinate jittered by about one conditional posterior
standard deviation, or at draws from the prior (:class:`~graphfit.InitializerPrior`).

**Stopping, burn-in and thinning** follow PyAutoFit's ``af.Emcee``, which follows emcee's
documentation.  Every ``check_size`` steps emcee estimates each coordinate's integrated
autocorrelation time ``tau``; sampling stops before ``nsteps`` once the run is longer than
``required_length * tau`` for every coordinate and no ``tau`` changed by more than the fraction
``change_threshold`` since the previous check (:class:`~graphfit.AutoCorrelationsSettings`).
Then the first ``3 * tau`` steps are dropped as burn-in (at most half the run) and every
``tau / 2``-th step is kept (``tau`` the largest, of the whole run).

**Results.**  Each walker is a chain of the posterior (as ``arviz.from_emcee`` has it): ArviZ's
ESS pools the autocorrelation over chains as emcee's ``tau`` pools it over walkers, and R-hat
over walkers started in one small ball shows a burn-in that was too short.  Walkers are many
short chains, whose R-hat lies above 1 even when they mix, so it is checked against the bound
of :func:`walkers_rhat_max` (1.118 for 50 walkers) instead of 1.01; and a run shorter than
``required_length * tau`` is a :class:`~graphfit.ConvergenceWarning`.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.backend.pointwise import python_default, python_mode, vectorized_log_density
from graphfit.backend.transforms import backward_values, forward_values
from graphfit.exceptions import SearchError
from graphfit.results.diagnostics import ESS_MIN, RHAT_MAX, ConvergenceWarning
from graphfit.search.base import (
    Search,
    check_fit,
    finish_idata,
    paused_gc,
    positive_int,
    require_extra,
)
from graphfit.search.emcee_settings import (
    AutoCorrelationsSettings,
    InitializerBall,
    InitializerPrior,
    initializer_kind,
)
from graphfit.search.interrupts import check_complete, interruptible
from graphfit.search.keywords import sampler_options, settle_keywords
from graphfit.search.modes import MultimodalityWarning, describe, separated_modes
from graphfit.search.start import StartFinder, cached_start_finder
from graphfit.util import one_thread

if TYPE_CHECKING:
    from collections.abc import Callable

    import arviz as az
    import xarray as xr

    from graphfit.backend.compiled import CompiledGraph
    from graphfit.results.diagnostics import Diagnostics

__all__ = ["Emcee", "walkers_rhat_max"]

#: Burn-in dropped, in autocorrelation times (at most half the run), and the thinning step.
BURN_IN_TAUS = 3.0
THIN_TAUS = 0.5


def walkers_rhat_max(nwalkers: int) -> float:
    """The R-hat bound of ``nwalkers`` walkers: ``sqrt(1 + 2 * nwalkers / ESS_MIN)``, at least
    ``RHAT_MAX``.

    Chains at stationarity have ``R-hat ** 2`` of about ``1 + m / ESS`` for ``m`` (split)
    chains (Vats & Knudson 2021), so many short chains have R-hat well above 1 even when they
    mix.  graphfit's bound for 4 chains, 1.01, is that value at its minimum ESS of 400; the
    same rule gives the bound for ``nwalkers`` chains.

    Examples
    --------
    >>> from graphfit.search.emcee import walkers_rhat_max
    >>> walkers_rhat_max(4), walkers_rhat_max(50)
    (1.01, 1.118)
    """
    return max(RHAT_MAX, round(math.sqrt(1.0 + 2.0 * nwalkers / ESS_MIN), 3))


class Emcee(Search):
    """Ensemble MCMC with emcee (gradient-free), on the unconstrained space of the PyMC model.

    Needs the ``emcee`` extra (``pip install 'graphfit[emcee]'``).  The posterior has one chain
    per walker, its draws the steps kept after burn-in and thinning (see
    :mod:`graphfit.search.emcee` for where the walkers move and why, and for the rules);
    ``idata.sample_stats`` holds ``lp`` (the log density of each kept step), each walker's
    ``acceptance_fraction``, and ``n_steps`` (steps run), ``burn_in``, ``thin``,
    ``autocorr_time`` (the largest ``tau``, in steps) and ``converged`` (whether the
    autocorrelation check stopped the run).  R-hat and ESS are checked as for NUTS, and a run
    shorter than ``required_length`` autocorrelation times is a
    :class:`~graphfit.ConvergenceWarning`.

    The defaults are PyAutoFit's (``af.Emcee``): 50 walkers, at most 2000 steps, stopped by
    the autocorrelation check of :class:`~graphfit.AutoCorrelationsSettings`.  emcee needs at
    least twice as many walkers as free coordinates.

    Parameters
    ----------
    nwalkers
        Walkers of the ensemble (at least twice the number of free coordinates).
    nsteps
        Most steps each walker takes.
    random_seed, name, path_prefix, progressbar, output_path, unique_tag, plots
        As for :class:`~graphfit.search.base.Search`; ``random_seed`` seeds the start search,
        the start ball and emcee.
    initializer
        ``"ball"`` or :class:`~graphfit.InitializerBall` (walkers around graphfit's start point), or
        ``"prior"`` or :class:`~graphfit.InitializerPrior` (walkers at draws from the prior).
    auto_correlation_settings
        When to stop before ``nsteps`` (:class:`~graphfit.AutoCorrelationsSettings`; default its
        defaults).
    sampler_kwargs
        A dict of other keywords passed to ``emcee.EnsembleSampler`` (e.g. ``moves=``).
    **kwargs
        PyAutoFit's bookkeeping keywords (see ``graphfit.search.keywords``); graphfit runs
        emcee in one process, so ``number_of_cores`` above 1 is ignored, with a note.  Any
        other keyword is a :class:`~graphfit.SearchKeywordError`, raised here.

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.Emcee(nwalkers=30, nsteps=1000, random_seed=1)
    Emcee(nwalkers=30, nsteps=1000, initializer='ball', random_seed=1)
    >>> search = gf.Emcee(
    ...     auto_correlation_settings=gf.AutoCorrelationsSettings(check_for_convergence=False)
    ... )
    >>> search.auto_correlation_settings.check_for_convergence
    False
    """

    def __init__(
        self,
        nwalkers: int = 50,
        nsteps: int = 2000,
        random_seed: int | None = None,
        name: str | None = None,
        path_prefix: str | None = None,
        progressbar: bool = True,
        *,
        initializer: str | InitializerBall | InitializerPrior = "ball",
        auto_correlation_settings: AutoCorrelationsSettings | None = None,
        output_path: str | os.PathLike[str] | None = None,
        unique_tag: str | None = None,
        plots: bool = False,
        sampler_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        own = settle_keywords(Emcee, kwargs, random_seed=random_seed, progressbar=progressbar)
        super().__init__(
            name=name,
            path_prefix=path_prefix,
            random_seed=own["random_seed"],
            progressbar=own["progressbar"],
            output_path=output_path,
            unique_tag=unique_tag,
            plots=plots,
        )
        self.nwalkers = positive_int("Emcee", "nwalkers", nwalkers, 2)
        self.nsteps = positive_int("Emcee", "nsteps", nsteps, 1)
        self.initializer = initializer_kind(initializer)
        settings = auto_correlation_settings
        if settings is None:
            settings = AutoCorrelationsSettings()
        if not isinstance(settings, AutoCorrelationsSettings):
            raise SearchError(
                "Emcee: auto_correlation_settings must be a gf.AutoCorrelationsSettings or "
                f"None, got {auto_correlation_settings!r}."
            )
        # plain settings, so that the output folder's identifier holds their values
        self.check_for_convergence = bool(settings.check_for_convergence)
        self.check_size = int(settings.check_size)
        self.required_length = int(settings.required_length)
        self.change_threshold = float(settings.change_threshold)
        self.sampler_kwargs = sampler_options("Emcee", sampler_kwargs)

    @property
    def auto_correlation_settings(self) -> AutoCorrelationsSettings:
        """The autocorrelation check's settings."""
        return AutoCorrelationsSettings(
            self.check_for_convergence, self.check_size, self.required_length, self.change_threshold
        )

    def __repr__(self) -> str:
        return (
            f"Emcee(nwalkers={self.nwalkers}, nsteps={self.nsteps}, "
            f"initializer={self.initializer!r}, random_seed={self.random_seed})"
        )

    def _check_walkers(self, ndim: int | None) -> None:
        """Refuse fewer walkers than twice the ``ndim`` free coordinates (``None``: unknown)."""
        if ndim is not None and self.nwalkers < 2 * ndim:
            raise SearchError(
                f"Emcee: nwalkers={self.nwalkers} is fewer than twice the model's {ndim} free "
                f"coordinates, and emcee's stretch move needs at least twice as many walkers; "
                f"use gf.Emcee(nwalkers={2 * ndim}) or more."
            )

    def _run(self, compiled: CompiledGraph) -> tuple[az.InferenceData, Diagnostics]:
        emcee = require_extra("Emcee", "emcee", "emcee")
        # the model with the drawn parameters of populations, never their marginalised form:
        # its grid likelihood holds near the mode only (+5e11 measured 3 units away from it in
        # the unconstrained space), and emcee's stretch moves go far
        model = compiled.model
        rng = self._rng()
        timings = getattr(self, "_timings", {})
        clock = time.perf_counter()
        # checked before the start search compiles anything (a few seconds)
        self._check_walkers(_free_size(model))
        with paused_gc():
            finder = cached_start_finder(compiled, jacobian=True)
        ndim = finder.x0.size
        self._check_walkers(ndim)
        with one_thread():  # small SciPy and numpy work: a multi-threaded BLAS only slows it
            if self.initializer == "prior":
                starts = _prior_starts(finder, model, self.nwalkers, rng)
            else:
                starts = self._ball_starts(finder, rng)
        log_prob, vectorize = _log_prob_function(compiled, finder, starts)
        seed = int(rng.integers(2**31 - 1))
        timings["start"] = time.perf_counter() - clock
        clock = time.perf_counter()
        sampler = emcee.EnsembleSampler(
            self.nwalkers, ndim, log_prob, vectorize=vectorize, **self.sampler_kwargs
        )
        state = emcee.State(starts, random_state=np.random.RandomState(seed).get_state())
        with interruptible("Emcee"), one_thread():
            converged = self._sample(sampler, state)
        timings["sample"] = time.perf_counter() - clock
        clock = time.perf_counter()
        steps = int(sampler.iteration)
        tau = np.asarray(sampler.get_autocorr_time(tol=0), dtype=float)
        tau_max = float(np.max(tau)) if np.all(np.isfinite(tau)) else float(steps)
        burn_in = min(math.ceil(BURN_IN_TAUS * tau_max), steps // 2)
        thin = max(1, int(THIN_TAUS * tau_max))
        stats: dict[str, Any] = {"n_steps": steps, "burn_in": burn_in, "thin": thin}
        stats.update(autocorr_time=tau_max, converged=converged)
        with warnings.catch_warnings(), paused_gc():
            # ArviZ's note on fewer draws than chains: here many walkers of few draws each
            warnings.filterwarnings("ignore", "More chains", UserWarning)
            idata = _idata(compiled, finder, sampler, stats)
            check_complete(idata, "Emcee")
            diagnostics = check_fit(idata, compiled, rhat_max=walkers_rhat_max(self.nwalkers))
        if steps < self.required_length * tau_max:
            problem = (
                f"Emcee ran {steps} steps, fewer than {self.required_length} autocorrelation "
                f"times (the longest is {tau_max:.0f} steps), so the burn-in, the thinning and "
                "the effective sample size rest on an uncertain autocorrelation time; raise "
                f"nsteps (e.g. gf.Emcee(nsteps={math.ceil(self.required_length * tau_max)}))"
            )
            diagnostics.problems.append(problem)
            warnings.warn(
                f"graphfit convergence check: {problem}", ConvergenceWarning, stacklevel=3
            )
        timings["postprocess"] = time.perf_counter() - clock
        return idata, diagnostics

    def _sample(self, sampler: Any, state: Any) -> bool:
        """Run ``sampler`` from ``state`` for at most ``nsteps`` steps; whether the
        autocorrelation check stopped it."""
        steps = sampler.sample(state, iterations=self.nsteps, progress=self.progressbar)
        previous = None
        try:
            for _ in steps:
                done = sampler.iteration
                if not self.check_for_convergence or done % self.check_size:
                    continue
                tau = np.asarray(sampler.get_autocorr_time(tol=0), dtype=float)
                if previous is not None and np.all(np.isfinite(tau)):
                    change = np.abs(previous - tau) / tau
                    if np.all(tau * self.required_length < done) and np.all(
                        change < self.change_threshold
                    ):
                        return True
                previous = tau
        finally:
            steps.close()  # closes the progress bar of a run stopped early
        return False

    def _ball_starts(self, finder: StartFinder, rng: np.random.Generator) -> np.ndarray:
        """Walkers around the best optimum of the start search, each coordinate jittered by
        about one conditional posterior standard deviation."""
        optima = finder.chain_optima(finder.find_optima(rng), rng)
        modes = separated_modes(finder, optima)
        if len(modes.optima) > 1:
            warnings.warn(
                f"graphfit start search: the posterior has {len(modes.optima)} separated modes "
                f"of comparable probability: {describe(finder, modes)}. All {self.nwalkers} "
                "Emcee walkers start in the first; emcee's moves seldom cross between separated "
                "modes, so the posterior is likely to miss the others. Check the model for a "
                "symmetry or degeneracy, narrow the priors to one mode, or use a search made "
                "for several modes (gf.SMC, gf.DynestyStatic).",
                MultimodalityWarning,
                stacklevel=4,
            )
        return np.asarray(finder.chain_starts(modes.optima[0], self.nwalkers, rng))


def _layout(finder: StartFinder) -> list[tuple[str, slice, tuple[int, ...]]]:
    """``(value variable, slice of the flat vector, shape)`` in the start finder's order."""
    layout, start = [], 0
    for name, value in finder.initial_point.items():
        size = int(np.size(value))
        layout.append((name, slice(start, start + size), tuple(np.shape(value))))
        start += size
    return layout


def _log_prob_function(
    compiled: CompiledGraph, finder: StartFinder, starts: np.ndarray
) -> tuple[Callable[[np.ndarray], Any], bool]:
    """The model's log density of unconstrained vectors, Jacobian included (``-inf`` where it
    is not finite), and whether it takes all of emcee's walkers at once (``vectorize=True``).

    The vectorised function (the log density's graph with a leading walker dimension, see
    :func:`graphfit.backend.pointwise.vectorized_log_density`) is compiled once per model and
    kept in ``compiled.cache`` (it reads the data containers when it runs, so a model given
    another graph's data reuses it).  emcee's moves then cost one call per half-ensemble
    instead of one per walker: 1000 steps of 50 walkers on the cookbook's three datasets took
    1.5 s, against 4.2 s walker by walker.  A graph that cannot be vectorised, or whose function
    disagrees with the start finder's on the starting walkers, is evaluated one walker at a
    time by the start finder's compiled function.
    """
    function = compiled.cache.get(("emcee_log_prob",), False)
    if function is False:
        with paused_gc():
            function = vectorized_log_density(compiled.model, _layout(finder))
        compiled.cache[("emcee_log_prob",)] = function
    if function is not None:
        with np.errstate(all="ignore"):
            batch = function(starts)
        single = np.array([finder.logp(x) for x in starts])
        if np.allclose(batch, single, rtol=1e-8, atol=1e-8, equal_nan=False):
            return function, True
    return finder.logp, False


def _free_size(model: Any) -> int | None:
    """The number of free coordinates of ``model`` from its value variables' static shapes
    (``None`` when a shape is known only at run time)."""
    size = 0
    for value in model.value_vars:
        if any(n is None for n in value.type.shape):
            return None
        size += math.prod(value.type.shape)
    return size


def _prior_starts(
    finder: StartFinder, model: Any, nwalkers: int, rng: np.random.Generator
) -> np.ndarray:
    """Walkers at draws from the prior where the model's density is finite."""
    import pymc as pm

    try:
        with python_default():  # evaluated once: not worth a C compile
            seed = rng.integers(2**31 - 1)
            draws = pm.draw(model.free_RVs, draws=4 * nwalkers, random_seed=seed)
    except NotImplementedError as error:  # e.g. the flat gap variable of an assertion
        raise SearchError(
            "Emcee: InitializerPrior cannot draw from the model's prior: a variable has none to "
            "draw from (e.g. the flat gap of an assertion); use the default InitializerBall."
        ) from error
    values = {rv.name: np.asarray(d) for rv, d in zip(model.free_RVs, draws, strict=True)}
    by_name = {v.name: v for v in model.value_vars}
    parts = []
    for name, _, shape in _layout(finder):
        rv = model.values_to_rvs[by_name[name]]
        try:
            x = forward_values(model.rvs_to_transforms.get(rv), values[rv.name], rv)
        except NotImplementedError as error:
            raise SearchError(
                f"Emcee: InitializerPrior cannot start walkers at prior draws of {rv.name}, "
                "whose bounds depend on other parameters; use the default InitializerBall."
            ) from error
        parts.append(np.reshape(x, (4 * nwalkers, int(np.prod(shape, dtype=int)))))
    candidates = np.concatenate(parts, axis=1)
    finite = [x for x in candidates if np.all(np.isfinite(x)) and np.isfinite(finder.logp(x))]
    if len(finite) < nwalkers:
        raise SearchError(
            f"Emcee: only {len(finite)} of {len(candidates)} draws from the prior have a finite "
            f"log density, fewer than the {nwalkers} walkers; use the default InitializerBall."
        )
    return np.asarray(finite[:nwalkers])


def _idata(
    compiled: CompiledGraph, finder: StartFinder, sampler: Any, stats: dict[str, Any]
) -> az.InferenceData:
    """The fit's ``InferenceData``: one chain per walker, the steps kept after
    ``stats["burn_in"]`` every ``stats["thin"]``; ``stats`` go in ``sample_stats`` too."""
    import pymc as pm
    import xarray as xr

    model = compiled.model
    burn_in, thin = stats["burn_in"], stats["thin"]
    chain = np.swapaxes(sampler.get_chain(discard=burn_in, thin=thin), 0, 1)
    posterior = _posterior(finder, model, chain)
    if model.deterministics:
        extra = pm.compute_deterministics(
            posterior, model=model, progressbar=False, compile_kwargs={"mode": python_mode()}
        )
        posterior = xr.merge([posterior, extra], combine_attrs="override")
    lp = sampler.get_log_prob(discard=burn_in, thin=thin).T
    arrays = {
        "lp": (("chain", "draw"), lp),
        "acceptance_fraction": (("chain",), np.asarray(sampler.acceptance_fraction)),
    }
    where = {"chain": posterior["chain"].values, "draw": posterior["draw"].values}
    sample_stats = xr.Dataset({**arrays, **stats}, coords=where)
    idata = stack.make_idata(posterior=posterior, sample_stats=sample_stats)
    return finish_idata(idata, compiled)


def _posterior(finder: StartFinder, model: Any, chain: np.ndarray) -> xr.Dataset:
    """The free variables (constrained) of ``chain``, unconstrained vectors with dims
    (walker, step, coordinate), as the posterior ``Dataset`` PyMC would make."""
    from pymc.backends.arviz import coords_and_dims_for_inferencedata

    walkers, steps, ndim = chain.shape
    by_name = {v.name: v for v in model.value_vars}
    arrays = {}
    try:  # all draws at once in numpy
        for name, where, shape in _layout(finder):
            rv = model.values_to_rvs[by_name[name]]
            x = chain[..., where].reshape(walkers, steps, *shape)
            arrays[rv.name] = backward_values(model.rvs_to_transforms.get(rv), x, rv)
    except NotImplementedError:  # bounds that depend on other variables: one draw at a time
        points = [finder.free_values(x) for x in chain.reshape(-1, ndim)]
        arrays = {
            name: np.stack([p[name] for p in points]).reshape(walkers, steps, *np.shape(value))
            for name, value in points[0].items()
        }
    coords, dims = coords_and_dims_for_inferencedata(model)
    return stack.sampled_dataset(arrays, coords, dims)

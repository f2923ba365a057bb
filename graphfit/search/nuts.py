"""``gf.NUTS``: Hamiltonian Monte Carlo with PyMC's sampler or nutpie."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.backend.marginal import draw_marginalized
from graphfit.backend.pointwise import python_default
from graphfit.backend.variables import prior_constants_mode
from graphfit.exceptions import SamplerFallbackWarning, SearchError
from graphfit.search.adaptation import TARGET_ACCEPT, check_target_accept, choose
from graphfit.search.base import Search, check_fit, finish_idata, paused_gc, positive_int
from graphfit.search.interrupts import check_complete, interruptible, watched_context
from graphfit.search.keywords import sampler_options, settle_keywords
from graphfit.search.modes import (
    Modes,
    MultimodalityWarning,
    chain_modes,
    describe,
    separated_modes,
)
from graphfit.search.nutpie_model import compile_nutpie
from graphfit.search.smc import SMC, default_cores
from graphfit.search.start import cached_start_finder
from graphfit.util import one_thread

if TYPE_CHECKING:
    from collections.abc import Callable

    import arviz as az

    from graphfit.backend.compiled import CompiledGraph
    from graphfit.results.diagnostics import Diagnostics

__all__ = ["NUTS"]

SAMPLERS = ("pymc", "nutpie", "numpyro")
_EXTRA = {"nutpie": ("nutpie", "nutpie"), "numpyro": ("numpyro", "jax")}


class NUTS(Search):
    """The No-U-Turn sampler on the compiled PyMC model.

    Chains start near the best of several quick optimisations (see :mod:`graphfit.search.start`),
    jittered by the local curvature, so they begin where the model is well defined.  After
    sampling, R-hat, ESS and divergences are checked and any failure is warned about by name.

    Parameters
    ----------
    draws, tune
        Draws kept per chain and tuning steps per chain.
    chains
        Number of chains (at least 2 for R-hat).
    cores
        Chains run in parallel: processes (PyMC's sampler) or threads (nutpie); default: the
        cores this process may use, at most ``chains``; PyAutoFit's ``number_of_cores`` sets it.
    random_seed
        Seed of the start search and the sampler: same draws from the same compiled code.  A
        model's first fit on a machine compiles nutpie's log density, later ones load it from
        PyTensor's cache; the two can differ in the last bits (same posterior, other draws).
    name, path_prefix, output_path, unique_tag, plots
        Save the fit to ``<output_path>/<path_prefix>/<name>/<identifier>/`` and load it
        instead of sampling when rerun; ``unique_tag`` is part of the identifier (see
        :class:`~graphfit.search.base.Search`).
    progressbar
        Show the fit's stages with their times (see :mod:`graphfit.search.progress`) and the
        sampler's progress bar.
    sampler
        ``"auto"`` (the default: nutpie when it is installed, else PyMC's sampler; nutpie was
        the fastest in ``benchmarks/`` from 3 to 1000 datasets), ``"pymc"`` (PyMC's own NUTS),
        ``"nutpie"`` (Rust NUTS; the ``nutpie`` extra) or ``"numpyro"`` (JAX; the ``jax``
        extra).  Every chain starts at its own jittered copy of the optimum, whichever the
        sampler.
    target_accept
        Target acceptance rate of step size adaptation: a number in (0, 1), or ``"auto"`` (the
        default): 0.95 when a hierarchical population's datasets constrain their drawn
        parameters weakly (a non-centred population), where 0.8 left divergences and stuck
        chains, else 0.8 (see
        :mod:`graphfit.search.adaptation`).  The value used is in the fit's
        ``sample_stats.attrs["target_accept"]``.
    sampler_kwargs
        A dict of keywords passed to ``pm.sample`` (PyMC's sampler and numpyro) or
        ``nutpie.sample``, e.g. ``sampler_kwargs={"max_treedepth": 12}``.
    **kwargs
        PyAutoFit's bookkeeping keywords (``number_of_cores``, ``iterations_per_update``, ...;
        see ``graphfit.search.keywords``).  Any other keyword is a
        :class:`~graphfit.SearchKeywordError`, raised here.

    Examples
    --------
    >>> import graphfit as gf
    >>> search = gf.NUTS(draws=500, tune=500, chains=2, random_seed=1, progressbar=False)
    >>> search.sampler in ("nutpie", "pymc")  # "auto" picks nutpie when installed
    True
    """

    def __init__(
        self,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        random_seed: int | None = None,
        name: str | None = None,
        path_prefix: str | None = None,
        progressbar: bool = True,
        sampler: str = "auto",
        *,
        output_path: str | os.PathLike[str] | None = None,
        cores: int | None = None,
        target_accept: float | str = "auto",
        unique_tag: str | None = None,
        plots: bool = False,
        sampler_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        own = settle_keywords(
            NUTS, kwargs, cores=cores, random_seed=random_seed, progressbar=progressbar
        )
        cores = own["cores"]
        super().__init__(
            name=name,
            path_prefix=path_prefix,
            random_seed=own["random_seed"],
            progressbar=own["progressbar"],
            output_path=output_path,
            unique_tag=unique_tag,
            plots=plots,
        )
        self.draws = positive_int("NUTS", "draws", draws, 1)
        self.tune = positive_int("NUTS", "tune", tune, 0)
        self.chains = positive_int("NUTS", "chains", chains, 1)
        self.cores = (
            default_cores(self.chains) if cores is None else positive_int("NUTS", "cores", cores, 1)
        )
        if sampler == "auto":
            sampler = "nutpie" if importlib.util.find_spec("nutpie") is not None else "pymc"
        if sampler not in SAMPLERS:
            raise SearchError(
                f"NUTS: sampler must be 'auto' or one of {SAMPLERS}, got {sampler!r}."
            )
        if sampler in _EXTRA:
            module, extra = _EXTRA[sampler]
            if importlib.util.find_spec(module) is None:
                raise SearchError(
                    f"NUTS(sampler={sampler!r}) needs {module}: pip install 'graphfit[{extra}]'."
                )
        self.sampler = sampler
        self.target_accept = check_target_accept(target_accept)
        #: the value a fit uses (set per fit from ``target_accept``, see ``_run``)
        self._accept = TARGET_ACCEPT if self.target_accept == "auto" else self.target_accept
        self.sampler_kwargs = sampler_options("NUTS", sampler_kwargs)

    def __repr__(self) -> str:
        return (
            f"NUTS(draws={self.draws}, tune={self.tune}, chains={self.chains}, "
            f"sampler={self.sampler!r}, random_seed={self.random_seed})"
        )

    def _run(self, compiled: CompiledGraph) -> tuple[az.InferenceData, Diagnostics]:
        if compiled.black_box:
            return self._run_gradient_free(compiled)
        # marginalised populations: sample the model without their drawn parameters
        target = compiled.sampling or compiled
        model = target.model
        rng = self._rng()
        requested = self.sampler_kwargs.get("target_accept", self.target_accept)
        self._accept, reason = choose(requested, compiled)
        self._timings.note(f"NUTS {reason}")  # shown with the stages, logged at INFO
        # numpy code (finite-difference gradients) runs in Python: only PyMC's sampler calls it
        sampler = "pymc" if compiled.finite_differences else self.sampler
        precompiled, logp_grad, setup = None, None, 0.0
        if sampler == "nutpie":
            # compile nutpie first and let the start search use its log density and gradient,
            # instead of compiling a second function of the same graph
            clock = self._timings.begin("compile")
            precompiled = _nutpie_model(target)
            logp_grad = precompiled.logp_func
            setup = time.perf_counter() - clock
        step = None
        # PyMC's step, compiled for this fit, holds the prior values as constants
        compile_kwargs = _compile_kwargs(target) if sampler == "pymc" else {}
        if sampler == "pymc" and set(self.sampler_kwargs) <= {"target_accept"}:
            # build PyMC's NUTS step first and let the start search use its compiled log density
            # and gradient (one compile instead of two); its mass matrix is set from the starts
            clock = self._timings.begin("compile")
            with paused_gc():
                step, logp_grad = self._pymc_step(model, rng, compile_kwargs)
            setup = time.perf_counter() - clock
        clock = self._timings.begin("start")
        with paused_gc():
            finder = cached_start_finder(target, jacobian=True, logp_grad=logp_grad)
        with one_thread():  # small SciPy work: a multi-threaded BLAS only slows it
            optima = finder.chain_optima(finder.find_optima(rng), rng)
            modes = separated_modes(finder, optima)
        if len(modes) > 1:
            warn_multimodal(finder, modes, self.chains)
        assignment = chain_modes(self.chains, len(modes))
        starts = [finder.chain_starts(modes.optima[m], 1, rng)[0] for m in assignment]
        seed = int(rng.integers(2**31 - 1))
        self._timings["start"] = time.perf_counter() - clock
        clock = self._timings.begin("sample")  # the sampler draws its own progress bar
        if sampler == "pymc":
            initvals = [finder.free_values(x) for x in starts]
            if step is not None:
                # as PyMC's init="adapt_diag": the adaptation starts at the chains' mean
                step.potential._initial_mean = np.mean(starts, axis=0)
                step.potential.reset()
            idata = self._sample_pymc(model, initvals, seed, step, compile_kwargs)
        elif sampler == "numpyro":
            initvals = [finder.free_values(x) for x in starts]
            idata = self._sample_numpyro(model, initvals, seed)
        else:
            groups = [
                (_chain_starts(finder, mode, seed + k), assignment.count(k))
                for k, mode in enumerate(modes.optima)
                if k in assignment
            ]
            idata = self._sample_nutpie(precompiled, groups, seed, compile_seconds=setup)
        elapsed = time.perf_counter() - clock + setup
        sampling = float(idata.posterior.attrs.get("sampling_time", elapsed))
        self._timings["sampler_setup"] = max(elapsed - sampling, 0.0)
        self._timings["sample"] = sampling
        clock = time.perf_counter()
        with paused_gc():
            if compiled.sampling is not None:
                idata = draw_marginalized(
                    idata,
                    target.marginal_groups,
                    target.model,
                    compiled.model,
                    rng,
                    cache=target.cache,
                )
            idata = finish_idata(idata, compiled)
            idata.sample_stats.attrs["target_accept"] = self._accept
            diagnostics = check_fit(idata, compiled)
        self._timings["postprocess"] = time.perf_counter() - clock
        return idata, diagnostics

    def _run_gradient_free(self, compiled: CompiledGraph) -> tuple[az.InferenceData, Diagnostics]:
        """Black-box likelihoods have no gradient: sample with SMC instead (same draws and
        chains), saying so."""

        warnings.warn(  # a warning, not a log record: a notebook shows it
            f"NUTS: dataset(s) {', '.join(compiled.black_box)} have a black-box likelihood "
            "(black_box = True), which has no gradient, so NUTS cannot run; sampling with gf.SMC "
            f"(pm.sample_smc, gradient-free) instead, draws={self.draws}, chains={self.chains}. "
            "Use gf.SMC directly to choose its settings.",
            SamplerFallbackWarning,
            stacklevel=4,
        )
        smc = SMC(
            draws=max(self.draws, 2),
            chains=self.chains,
            random_seed=self.random_seed,
            progressbar=self.progressbar,
            cores=1,
        )
        smc._timings = self._timings
        return smc._run(compiled)

    def _pymc_step(
        self, model: Any, rng: np.random.Generator, compile_kwargs: dict[str, Any]
    ) -> tuple[Any, Any]:
        """PyMC's NUTS step for ``model`` (mass matrix adapted from the identity, as with
        ``init="adapt_diag"``) and its compiled log density and gradient of the flat vector
        (compiled with ``compile_kwargs``, see :func:`_compile_kwargs`)."""
        import pymc as pm
        from pymc.blocking import DictToArrayBijection
        from pymc.step_methods.hmc import quadpotential

        size = DictToArrayBijection.map(model.initial_point()).data.size
        potential = quadpotential.QuadPotentialDiagAdapt(
            size, np.zeros(size), np.ones(size), 10, rng=int(rng.integers(2**31 - 1))
        )
        step = pm.NUTS(
            model=model,
            potential=potential,
            target_accept=self._accept,
            **compile_kwargs,
        )
        function = step._logp_dlogp_func
        function.set_extra_values({})

        def logp_grad(x: np.ndarray) -> tuple[Any, np.ndarray]:
            logp, grad = function(x)
            return logp, np.asarray(grad)

        return step, logp_grad

    def _sample_pymc(
        self,
        model: Any,
        initvals: list[dict],
        seed: int,
        step: Any = None,
        compile_kwargs: dict[str, Any] | None = None,
    ) -> az.InferenceData:
        import pymc as pm

        # Chains start at the jittered optimum; the mass matrix starts at the identity and adapts.
        # (Starting it at the optimiser's inverse-Hessian diagonal was measured to be over 2x
        # slower at 100 datasets: L-BFGS's estimate is poor in many dimensions.)
        if step is not None:  # built by _pymc_step, its mass matrix set from the starts
            kwargs: dict[str, Any] = {"step": step}
        else:
            kwargs = dict(self.sampler_kwargs)
            kwargs.setdefault("init", "adapt_diag")
            kwargs.setdefault("target_accept", self._accept)
            own = kwargs.get("compile_kwargs", {})
            kwargs["compile_kwargs"] = {**(compile_kwargs or {}), **own}
        # PyMC catches Ctrl-C and returns the draws so far: raise it instead (interruptible)
        with interruptible(self._what()) as interrupt:
            kwargs["callback"] = interrupt.callback(kwargs.get("callback"))
            kwargs["mp_ctx"] = watched_context(kwargs.get("mp_ctx"))  # chains die with us
            idata = pm.sample(
                draws=self.draws,
                tune=self.tune,
                chains=self.chains,
                cores=self.cores,
                random_seed=seed,
                progressbar=self.progressbar,
                initvals=initvals,
                compute_convergence_checks=False,
                model=model,
                **kwargs,
            )
        check_complete(idata, self._what(), chains=self.chains, draws=self.draws)
        return idata

    def _sample_numpyro(self, model: Any, initvals: list[dict], seed: int) -> az.InferenceData:
        import pymc as pm

        kwargs = dict(self.sampler_kwargs)
        nuts_kwargs = {"jitter": False, "chain_method": "parallel"}
        nuts_kwargs.update(kwargs.pop("nuts_sampler_kwargs", {}))
        nuts_kwargs.update(kwargs.pop("nuts", {}))  # PyMC 6's name for the same
        # JAX runs the draws as one computation: Ctrl-C takes effect when it returns
        with interruptible(self._what()):
            idata = pm.sample(
                draws=self.draws,
                tune=self.tune,
                chains=self.chains,
                random_seed=seed,
                progressbar=self.progressbar,
                initvals=initvals,
                nuts_sampler="numpyro",
                target_accept=kwargs.pop("target_accept", self._accept),
                compute_convergence_checks=False,
                **stack.external_nuts(nuts_kwargs),
                model=model,
                **kwargs,
            )
        check_complete(idata, self._what(), chains=self.chains, draws=self.draws)
        return idata

    def _sample_nutpie(
        self,
        compiled: Any,
        groups: list[tuple[Callable[[Any], np.ndarray], int]],
        seed: int,
        compile_seconds: float = 0.0,
    ) -> az.InferenceData:
        """Sample nutpie's compiled model (see :func:`_nutpie_model`).

        ``groups`` holds ``(starts, chains)`` per mode the chains start in (one group unless
        the start search found separated modes, see :mod:`graphfit.search.modes`): ``starts`` gives
        a chain's start from nutpie's seed for the chain (see :func:`_chain_starts`).  nutpie
        takes one start function for all chains and does not say which chain asks, so each
        group is sampled by its own call (seeded ``seed + k``) and the chains are joined.
        """
        import nutpie

        kwargs = dict(self.sampler_kwargs)
        kwargs.setdefault("target_accept", self._accept)
        clock = time.perf_counter()
        parts = []
        # nutpie catches Ctrl-C and returns the draws so far padded with NaN: raise it instead
        with interruptible(self._what()):
            for k, (starts, chains) in enumerate(groups):
                # nutpie asks for one initial point per chain, in its flat layout (the free
                # variables' unconstrained values in model order, as in graphfit.search.start)
                parts.append(
                    nutpie.sample(
                        dataclasses.replace(compiled, initial_point_func=starts),
                        draws=self.draws,
                        tune=self.tune,
                        chains=chains,
                        cores=min(self.cores, chains),
                        seed=seed + k,
                        progress_bar=self.progressbar,
                        **kwargs,
                    )
                )
        idata = parts[0] if len(parts) == 1 else _join_chains(parts)
        check_complete(idata, self._what(), chains=self.chains, draws=self.draws)
        idata.posterior.attrs["sampling_time"] = time.perf_counter() - clock
        idata.posterior.attrs["compile_time"] = compile_seconds
        return idata

    def _what(self) -> str:
        """The search as messages name it."""
        return f"NUTS(sampler={self.sampler!r})"


def _join_chains(parts: list[Any]) -> Any:
    """One ``InferenceData`` of the chains of several, numbered on (groups all have)."""
    import xarray as xr

    groups = {}
    for name in stack.group_names(parts[0]):
        pieces, offset = [], 0
        for part in parts:
            group = stack.group(part, name)
            pieces.append(group.assign_coords(chain=group["chain"].values + offset))
            offset += group.sizes["chain"]
        groups[name] = xr.concat(pieces, dim="chain")
        groups[name].attrs = dict(pieces[0].attrs)
    return stack.make_idata(**groups)


def warn_multimodal(finder: Any, modes: Modes, chains: int) -> None:
    """Warn that the start search found separated modes, naming them and where chains start."""

    placed = min(len(modes), chains)
    warnings.warn(
        f"graphfit start search: the posterior has {len(modes)} separated modes of comparable "
        f"probability: {describe(finder, modes)}. The {chains} chains start in "
        f"{'the first ' + str(placed) + ' of these modes' if placed < len(modes) else 'the modes'}"
        " in turn, so R-hat shows whether they mix; NUTS seldom crosses between separated modes, "
        "and then weighs them by its chains instead of by their probability. Check the model "
        "for a symmetry or degeneracy, narrow the priors to one mode, or use a search made for "
        "several modes (gf.SMC, gf.DynestyStatic).",
        MultimodalityWarning,
        stacklevel=4,
    )


def _compile_kwargs(target: Any) -> dict[str, Any]:
    """Keywords for compiling PyMC's NUTS step of ``target`` (a compiled graph): a model
    shared by graphs of one structure reads its prior values from containers, which PyMC's
    step takes as numbers instead (:func:`~graphfit.backend.variables.prior_constants_mode`;
    it is compiled for every fit anyway)."""
    if not target.prior_layout:
        return {}
    return {"mode": prior_constants_mode(target.model, target.prior_layout)}


def _nutpie_model(target: Any) -> Any:
    """nutpie's compiled model of ``target`` (a :class:`~graphfit.backend.compiled.CompiledGraph`,
    or a bare PyMC model), for the data its containers hold now.

    nutpie's model is kept in the compiled graph's cache, so a graph fitted again unchanged (the
    backend keeps one compiled graph per state of the spec, see :mod:`graphfit.backend.cache`)
    is not compiled again.  A model shared by graphs of one structure, their data swapped into
    its containers (see :mod:`graphfit.backend.structures`), also compiles once: later fits
    only hand nutpie the new data.  Its ``logp_func`` (the PyTensor function of the log density
    and gradient) reads the containers when it runs, so it is right for the current data too.
    """
    graph = target if hasattr(target, "data_names") else None
    model = target.model if graph is not None else target
    if graph is not None and (cached := graph.cache.get("nutpie")) is not None:
        return cached.with_data(**graph.data) if graph.data else cached
    with paused_gc(), python_default():
        # nutpie compiles the log density with numba; the rest it compiles with the default
        # mode (PyMC's initial-point functions, evaluated once) needs no C backend
        compiled = compile_nutpie(model)
    if graph is not None:
        graph.cache["nutpie"] = compiled
    return compiled


def _chain_starts(finder: Any, optimum: Any, seed: int) -> Callable[[Any], np.ndarray]:
    """A thread-safe ``chain seed -> start`` function for nutpie: the optimum jittered by its
    scale (:meth:`graphfit.search.start.StartFinder.chain_starts`), drawn with a generator seeded by
    ``seed`` and nutpie's seed for the chain.

    Each chain's start depends on its own seed only, not on the order in which nutpie's
    threads ask for starts: with ``cores > 1`` that order changes from run to run, and handing
    out a fixed list of starts in turn made fits with the same ``random_seed`` differ.
    """

    lock = threading.Lock()  # the start finder's compiled function is not thread-safe

    def initial_point(chain_seed: Any = None) -> np.ndarray:
        rng = np.random.default_rng([int(seed), int(chain_seed or 0)])
        with lock:
            (start,) = finder.chain_starts(optimum, 1, rng)
        return np.ascontiguousarray(start, dtype=np.float64)

    return initial_point

"""``gf.DynestyStatic``: static nested sampling with dynesty (an optional extra).

Nested sampling needs two functions of the free parameters: a *prior transform* from the unit
cube to the parameters, and the *log-likelihood*.  graphfit's priors are independent (outside
hierarchical factors), so the transform is each prior's quantile function (scipy's ``ppf``),
applied coordinate by coordinate.  The log-likelihood is one compiled PyTensor function of the
constrained parameter values: the sum of every observed node's log density and every potential
(custom and black-box likelihoods) of the compiled model.  dynesty returns weighted samples and
the log evidence with its error; the posterior kept is an equal-weight resample.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.backend.pointwise import python_mode
from graphfit.exceptions import SearchError
from graphfit.results.evidence import LogEvidence
from graphfit.search.base import (
    Search,
    check_fit,
    finish_idata,
    positive_int,
    require_extra,
)
from graphfit.search.interrupts import check_complete, interruptible
from graphfit.search.keywords import IgnoredKeywordWarning, sampler_options, settle_keywords
from graphfit.spec.priors import (
    Prior,
)

if TYPE_CHECKING:
    import arviz as az

    from graphfit.backend.compiled import CompiledGraph
    from graphfit.plan.naming import Group
    from graphfit.results.diagnostics import Diagnostics

__all__ = ["DynestyStatic", "prior_transform"]

#: Log-likelihood given to dynesty where the model's is not finite.
_LOG_ZERO = -1e300


def _ppf(priors: list[Prior]) -> Any:
    """Vectorised quantile function of a list of priors of one kind (see
    :meth:`~graphfit.Prior.ppf`)."""
    kind = type(priors[0])
    values = {
        argument: np.asarray([getattr(p, argument) for p in priors], dtype=float)
        for argument in kind.arguments
    }
    return lambda u: kind.ppf(u, **values)


def prior_transform(groups: list[Group]) -> tuple[Any, list[tuple[str, slice, bool]]]:
    """The unit-cube transform of the prior groups of a plan, and the layout of the cube.

    Returns ``(transform, layout)``: ``transform(u)`` maps a unit-cube vector to the parameter
    vector; ``layout`` lists ``(variable name, slice of the vector, is a per-dataset vector)``.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.plan.naming import Group
    >>> from graphfit.search.dynesty import prior_transform
    >>> groups = [
    ...     Group("a", [gf.UniformPrior(0.0, 10.0)], vector=False),
    ...     Group("b", [gf.GaussianPrior(1.0, 2.0), gf.GaussianPrior(3.0, 2.0)], vector=True),
    ... ]
    >>> transform, layout = prior_transform(groups)
    >>> transform([0.25, 0.5, 0.5]).tolist(), [(name, vector) for name, _, vector in layout]
    ([2.5, 1.0, 3.0], [('a', False), ('b', True)])
    """
    parts = []
    layout = []
    start = 0
    for group in groups:
        size = len(group.members) if group.vector else 1
        members = group.members if group.vector else group.members[:1]
        parts.append((slice(start, start + size), _ppf(members)))
        layout.append((group.name, slice(start, start + size), group.vector))
        start += size

    def transform(u: Any) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        out = np.empty_like(u)
        for where, ppf in parts:
            out[where] = ppf(u[where])
        return out

    return transform, layout


class DynestyStatic(Search):
    """Static nested sampling with dynesty; gives the log evidence with dynesty's error.

    Needs the ``dynesty`` extra (``pip install 'graphfit[dynesty]'``).  The fit's
    ``result_list.log_evidence`` is a :class:`~graphfit.results.evidence.LogEvidence`; the posterior
    is one chain of equal-weight draws resampled from the nested samples, with every
    dataset's pointwise log-likelihood.  Graphs with a hierarchical factor are not supported
    (their prior is not a product of independent priors); use :class:`~graphfit.search.smc.SMC`.

    The defaults are PyAutoFit's (``af.DynestyStatic``): 50 live points, ``walks=5``,
    ``facc=0.2``, ``slices=5`` and dynesty's own stopping rule, so a PyAutoFit script's search
    does the same amount of work here.  For a more precise evidence, raise ``nlive``.

    Parameters
    ----------
    nlive
        Live points.  More gives a smaller evidence error (it scales as ``1/sqrt(nlive)``).
    bound, sample
        dynesty's bounding and sampling methods (``"multi"`` ellipsoids and ``"auto"``, which
        dynesty picks by the number of parameters).
    dlogz
        Stop when the estimated remaining evidence is below this (in log units); ``None``:
        dynesty's default (``0.01 + 0.001 * (nlive - 1)``).
    maxcall, maxiter
        Stop after this many likelihood calls or iterations (``None``: no limit).
    logl_max
        Stop when a live point's log-likelihood reaches this.
    walks, facc, slices, bootstrap, enlarge, update_interval, first_update
        dynesty's settings of its random walks, slices and bounds (``dynesty.NestedSampler``).
    fmove, max_move
        dynesty 2's settings of its random walks; dynesty 3 has none (a value other than the
        default is then ignored, with an :class:`~graphfit.IgnoredKeywordWarning`).
    random_seed, name, path_prefix, progressbar, output_path, unique_tag, plots
        As for :class:`~graphfit.search.base.Search`.
    sampler_kwargs
        A dict of other keywords passed to ``dynesty.NestedSampler``.
    **kwargs
        PyAutoFit's bookkeeping keywords (see ``graphfit.search.keywords``); graphfit runs
        dynesty in one process, so ``number_of_cores`` above 1 is ignored, with a note.  Any
        other keyword is a :class:`~graphfit.SearchKeywordError`, raised here.

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.DynestyStatic(nlive=200, random_seed=1)
    DynestyStatic(nlive=200, bound='multi', sample='auto', dlogz=None, random_seed=1)
    >>> gf.DynestyStatic(path_prefix="features", sample="rwalk", name="fit").walks
    5
    """

    def __init__(
        self,
        nlive: int = 50,
        bound: str = "multi",
        sample: str = "auto",
        dlogz: float | None = None,
        maxcall: int | None = None,
        random_seed: int | None = None,
        name: str | None = None,
        path_prefix: str | None = None,
        progressbar: bool = False,
        *,
        output_path: str | os.PathLike[str] | None = None,
        unique_tag: str | None = None,
        plots: bool = False,
        walks: int = 5,
        facc: float = 0.2,
        slices: int = 5,
        bootstrap: int | None = None,
        enlarge: float | None = None,
        update_interval: float | None = None,
        first_update: dict[str, Any] | None = None,
        fmove: float = 0.9,
        max_move: int = 100,
        maxiter: int | None = None,
        logl_max: float = float("inf"),
        sampler_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        own = settle_keywords(
            DynestyStatic, kwargs, random_seed=random_seed, progressbar=progressbar
        )
        super().__init__(
            name=name,
            path_prefix=path_prefix,
            random_seed=own["random_seed"],
            progressbar=own["progressbar"],
            output_path=output_path,
            unique_tag=unique_tag,
            plots=plots,
        )
        owner = "DynestyStatic"
        self.nlive = positive_int(owner, "nlive", nlive, 2)
        if dlogz is not None and not float(dlogz) > 0.0:
            raise SearchError(f"DynestyStatic: dlogz must be > 0 or None, got {dlogz!r}.")
        if not 0.0 < float(facc) <= 1.0:
            raise SearchError(f"DynestyStatic: facc must be in (0, 1], got {facc!r}.")
        self.bound = bound
        self.sample = sample
        self.dlogz = None if dlogz is None else float(dlogz)
        self.maxcall = None if maxcall is None else positive_int(owner, "maxcall", maxcall, 1)
        self.maxiter = None if maxiter is None else positive_int(owner, "maxiter", maxiter, 1)
        self.logl_max = float(logl_max)
        self.walks = positive_int(owner, "walks", walks, 1)
        self.facc = float(facc)
        self.slices = positive_int(owner, "slices", slices, 1)
        self.bootstrap = bootstrap
        self.enlarge = enlarge
        self.update_interval = update_interval
        self.first_update = first_update
        self.fmove = float(fmove)
        self.max_move = positive_int(owner, "max_move", max_move, 1)
        self.sampler_kwargs = sampler_options(owner, sampler_kwargs)

    def __repr__(self) -> str:
        return (
            f"DynestyStatic(nlive={self.nlive}, bound={self.bound!r}, sample={self.sample!r}, "
            f"dlogz={self.dlogz!r}, random_seed={self.random_seed})"
        )

    def _sampler_settings(self, sampler: Any) -> dict[str, Any]:
        """The keywords of ``dynesty.NestedSampler`` (``sampler``) that this search sets.

        ``fmove`` and ``max_move`` are given only to a dynesty that takes them (dynesty 2);
        for another, a value other than the default is ignored with a warning."""
        settings = {
            "nlive": self.nlive,
            "bound": self.bound,
            "sample": self.sample,
            "walks": self.walks,
            "facc": self.facc,
            "slices": self.slices,
            "bootstrap": self.bootstrap,
            "enlarge": self.enlarge,
            "update_interval": self.update_interval,
            "first_update": self.first_update,
        }
        # dynesty 3 warns of walks given to a slice sampler, and of slices to a random walk
        if self.sample == "rwalk":
            del settings["slices"]
        elif self.sample in ("slice", "rslice"):
            del settings["walks"]
        takes = inspect.signature(sampler).parameters
        defaults = {"fmove": 0.9, "max_move": 100}
        dropped = []
        for key, default in defaults.items():
            value = getattr(self, key)
            if key in takes:
                settings[key] = value
            elif value != default:
                dropped.append(f"{key}={value!r}")
        if dropped:
            warnings.warn(
                f"DynestyStatic ignores {', '.join(dropped)}: the installed dynesty has no such "
                "setting (dynesty 3 removed them).",
                IgnoredKeywordWarning,
                stacklevel=4,
            )
        return settings

    def _run(self, compiled: CompiledGraph) -> tuple[az.InferenceData, Diagnostics]:
        import pymc as pm
        import xarray as xr

        dynesty = require_extra("DynestyStatic", "dynesty", "dynesty")
        plan = compiled.plan
        if plan.populations:
            names = ", ".join(name for name, _ in plan.populations)
            raise SearchError(
                f"DynestyStatic: the graph has hierarchical factor(s) ({names}), whose prior is "
                "not a product of independent priors, so it has no coordinate-wise unit-cube "
                "transform; fit it with gf.SMC (which also gives the log evidence)."
            )
        model = compiled.model
        free = {rv.name for rv in model.free_RVs}
        groups = list(plan.prior_groups)
        missing = free - {g.name for g in groups}
        if missing:
            raise SearchError(
                f"DynestyStatic: free variable(s) {sorted(missing)} of the compiled model have no "
                "graphfit prior (e.g. the gap variable of an assertion between parameters, such "
                "as model.sigma < model.centre); nested sampling supports graphs of priors and "
                "relations only: fit with gf.SMC, which also gives the log evidence."
            )
        transform, layout = prior_transform(groups)
        loglike = _loglike_function(model, layout)
        ndim = layout[-1][1].stop
        timings = getattr(self, "_timings", {})
        clock = time.perf_counter()
        sampler = dynesty.NestedSampler(
            loglike,
            transform,
            ndim,
            rstate=self._rng(),
            **{**self._sampler_settings(dynesty.NestedSampler), **self.sampler_kwargs},
        )
        with interruptible("DynestyStatic"):  # Ctrl-C always raises, whatever dynesty does
            sampler.run_nested(
                dlogz=self.dlogz,
                maxcall=self.maxcall,
                maxiter=self.maxiter,
                logl_max=self.logl_max,
                print_progress=self.progressbar,
            )
        results = sampler.results
        timings["sample"] = time.perf_counter() - clock
        clock = time.perf_counter()
        draws = results.samples_equal(rstate=self._rng())
        arrays = {}
        for name, where, vector in layout:
            values = draws[:, where]
            dims: tuple[str, ...] = ("chain", "draw")
            coords: dict[str, Any] = {"chain": [0], "draw": np.arange(len(draws))}
            if vector:
                dims = (*dims, "dataset")
                coords["dataset"] = list(model.coords["dataset"])
                arrays[name] = xr.DataArray(values[None, :, :], dims=dims, coords=coords)
            else:
                arrays[name] = xr.DataArray(values[None, :, 0], dims=dims, coords=coords)
        posterior = xr.Dataset(arrays)
        extra = pm.compute_deterministics(
            posterior, model=model, progressbar=False, compile_kwargs={"mode": python_mode()}
        )
        deterministics = xr.merge([posterior, extra], combine_attrs="override")
        evidence = LogEvidence(
            value=float(results.logz[-1]), error=float(results.logzerr[-1]), method="dynesty"
        )
        log_weights = np.asarray(results.logwt, dtype=float)
        weights = np.exp(log_weights - log_weights.max())
        sample_stats = xr.Dataset(
            {
                "n_calls": xr.DataArray(int(np.sum(results.ncall))),
                "n_iterations": xr.DataArray(int(results.niter)),
                "kish_ess": xr.DataArray(float(weights.sum() ** 2 / (weights**2).sum())),
            }
        )
        idata = stack.make_idata(posterior=deterministics, sample_stats=sample_stats)
        idata = finish_idata(idata, compiled)
        idata.posterior.attrs.update(evidence.to_attrs())
        check_complete(idata, "DynestyStatic")
        # one chain of equal-weight draws (not a Markov chain): no R-hat, and no note about it
        diagnostics = check_fit(idata, compiled, note_single_chain=False)
        timings["postprocess"] = time.perf_counter() - clock
        return idata, diagnostics


def _loglike_function(model: Any, layout: list[tuple[str, slice, bool]]) -> Any:
    """Compiled ``log L(parameters)``: observed nodes plus potentials, constrained values in."""
    from pymc.model.transform.conditioning import remove_value_transforms

    plain = remove_value_transforms(model)
    terms = list(plain.observed_RVs) + list(plain.potentials)
    logl = plain.logp(vars=terms, jacobian=False)
    by_name = {plain.values_to_rvs[v].name: v for v in plain.value_vars}
    inputs = [by_name[name] for name, _, _ in layout]
    # numba, not PyTensor's C backend: a C compile loads PyTensor's C-module index first, which
    # grows with every model the user has compiled (2.6 s at 700 entries), and numba's compile is
    # cached on disk by PyTensor too (the cookbook's identical fit, a rerun with 700 entries:
    # 7.6-9.1 s -> 5.6 s for the whole process; empty caches: 10.2 s -> 8.3 s)
    mode = "NUMBA" if importlib.util.find_spec("numba") is not None else None
    function = plain.compile_fn(logl, inputs=inputs, point_fn=False, mode=mode)
    shapes = [(where, vector) for _, where, vector in layout]

    def loglike(theta: np.ndarray) -> float:
        args = [theta[where] if vector else theta[where][0] for where, vector in shapes]
        with np.errstate(all="ignore"):
            value = float(function(*args))
        return value if np.isfinite(value) else _LOG_ZERO

    return loglike

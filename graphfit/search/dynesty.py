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
import os
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import SearchError
from graphfit.results.evidence import LogEvidence
from graphfit.search.base import Search, check_fit, finish_idata, positive_int
from graphfit.search.interrupts import check_complete, interruptible
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


def _require_dynesty() -> Any:
    if importlib.util.find_spec("dynesty") is None:
        raise SearchError(
            "DynestyStatic needs the dynesty package: pip install 'graphfit[dynesty]'."
        )
    import dynesty

    return dynesty


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

    Parameters
    ----------
    nlive
        Live points.  More gives a smaller evidence error (it scales as ``1/sqrt(nlive)``).
    bound, sample
        dynesty's bounding and sampling methods (``"multi"`` ellipsoids and ``"auto"``).
    dlogz
        Stop when the estimated remaining evidence is below this (in log units).
    maxcall
        Stop after this many likelihood calls (``None``: no limit).
    random_seed, name, path_prefix, progressbar, output_path
        As for :class:`~graphfit.search.base.Search`.
    **sampler_kwargs
        Passed to ``dynesty.NestedSampler``.

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.DynestyStatic(nlive=200, random_seed=1)
    DynestyStatic(nlive=200, bound='multi', sample='auto', dlogz=0.1, random_seed=1)
    """

    def __init__(
        self,
        nlive: int = 500,
        bound: str = "multi",
        sample: str = "auto",
        dlogz: float = 0.1,
        maxcall: int | None = None,
        random_seed: int | None = None,
        name: str | None = None,
        path_prefix: str | None = None,
        progressbar: bool = False,
        *,
        output_path: str | os.PathLike[str] | None = None,
        **sampler_kwargs: Any,
    ) -> None:
        super().__init__(
            name=name,
            path_prefix=path_prefix,
            random_seed=random_seed,
            progressbar=progressbar,
            output_path=output_path,
        )
        self.nlive = positive_int("DynestyStatic", "nlive", nlive, 2)
        if not float(dlogz) > 0.0:
            raise SearchError(f"DynestyStatic: dlogz must be > 0, got {dlogz!r}.")
        self.bound = bound
        self.sample = sample
        self.dlogz = float(dlogz)
        self.maxcall = maxcall
        self.sampler_kwargs = sampler_kwargs

    def __repr__(self) -> str:
        return (
            f"DynestyStatic(nlive={self.nlive}, bound={self.bound!r}, sample={self.sample!r}, "
            f"dlogz={self.dlogz}, random_seed={self.random_seed})"
        )

    def _run(self, compiled: CompiledGraph) -> tuple[az.InferenceData, Diagnostics]:
        import pymc as pm
        import xarray as xr

        dynesty = _require_dynesty()
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
                "graphfit prior; nested sampling supports graphs of priors and relations only."
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
            nlive=self.nlive,
            bound=self.bound,
            sample=self.sample,
            rstate=self._rng(),
            **self.sampler_kwargs,
        )
        with interruptible("DynestyStatic"):  # Ctrl-C always raises, whatever dynesty does
            sampler.run_nested(
                dlogz=self.dlogz, maxcall=self.maxcall, print_progress=self.progressbar
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
        extra = pm.compute_deterministics(posterior, model=model, progressbar=False)
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
    function = plain.compile_fn(logl, inputs=inputs, point_fn=False)
    shapes = [(where, vector) for _, where, vector in layout]

    def loglike(theta: np.ndarray) -> float:
        args = [theta[where] if vector else theta[where][0] for where, vector in shapes]
        with np.errstate(all="ignore"):
            value = float(function(*args))
        return value if np.isfinite(value) else _LOG_ZERO

    return loglike

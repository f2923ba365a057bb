"""``gf.SMC``: sequential Monte Carlo (``pm.sample_smc``), with the log evidence.

SMC moves a population of particles from the prior to the posterior through tempered
distributions ``prior * likelihood**beta``, ``beta`` rising from 0 to 1.  The product of the
stages' mean incremental weights estimates the marginal likelihood; every chain is an
independent run, so the spread of the chains' estimates gives its error.  SMC needs no
gradients, which makes it the sampler for black-box likelihoods too.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import SearchError
from graphfit.results.evidence import LogEvidence
from graphfit.search.base import Search, check_fit, finish_idata, positive_int
from graphfit.search.interrupts import check_complete, interruptible, watched_context
from graphfit.search.keywords import sampler_options, settle_keywords

if TYPE_CHECKING:
    import arviz as az
    import xarray as xr

    from graphfit.backend.compiled import CompiledGraph
    from graphfit.results.diagnostics import Diagnostics

__all__ = ["SMC", "default_cores"]


def default_cores(chains: int) -> int:
    """The default ``cores`` of a search that runs ``chains`` chains in parallel: the cores
    this process may run on (``os.sched_getaffinity``, which a container's or a job
    scheduler's CPU limit narrows, where the system has it; else ``os.cpu_count()``), at most
    one per chain.

    Examples
    --------
    >>> from graphfit.search.smc import default_cores
    >>> default_cores(1)
    1
    >>> 1 <= default_cores(4) <= 4
    True
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(int(chains), usable or 1))


def _chain_rows(array: Any, chains: int) -> list[np.ndarray]:
    """Per-chain float vectors of one SMC stage statistic (PyMC stores ragged object arrays)."""
    values = np.asarray(array.values, dtype=object)
    # Equal stage counts give (chain, stage); ragged ones an object array of per-chain lists,
    # which ArviZ may wrap in a leading chain axis of size 1.
    while values.ndim > 1 and values.shape[0] == 1 and chains > 1:
        values = values[0]
    rows = list(values) if chains > 1 else [values]
    out = []
    for row in rows:
        flat = [v for v in np.ravel(np.asarray(row, dtype=object))]
        out.append(np.asarray([np.nan if v is None else float(v) for v in flat], dtype=float))
    return out


def stage_stats(stats: xr.Dataset, chains: int) -> tuple[xr.Dataset, np.ndarray]:
    """SMC's per-stage statistics as float arrays with dims ``(chain, stage)`` (NaN-padded),
    and each chain's log marginal likelihood (the last finite value of its stages)."""
    import xarray as xr

    arrays = {}
    log_ml = np.full(chains, np.nan)
    for name in stats.data_vars:
        rows = _chain_rows(stats[name], chains)
        stages = max(len(r) for r in rows)
        table = np.full((len(rows), stages), np.nan)
        for k, row in enumerate(rows):
            table[k, : len(row)] = row
        arrays[str(name)] = xr.DataArray(
            table,
            dims=("chain", "stage"),
            coords={"chain": np.arange(len(rows)), "stage": np.arange(stages)},
        )
        if name == "log_marginal_likelihood":
            for k, row in enumerate(rows):
                finite = row[np.isfinite(row)]
                log_ml[k] = finite[-1] if finite.size else np.nan
    attrs = {k: v for k, v in stats.attrs.items() if isinstance(v, int | float | str)}
    return xr.Dataset(arrays, attrs=attrs), log_ml


class SMC(Search):
    """Sequential Monte Carlo with PyMC's ``pm.sample_smc``; gives the log evidence.

    The fit's ``result_list.log_evidence`` is a :class:`~graphfit.results.evidence.LogEvidence`: the
    mean of the chains' log marginal likelihoods, with the standard error of that mean
    (so use at least 2 chains; 4 or more for a useful error).  The pointwise log-likelihood of
    every dataset is stored, and R-hat and ESS over the chains are checked as for NUTS.
    ``idata.sample_stats`` holds SMC's per-stage statistics (``beta``, ``accept_rate``,
    ``log_marginal_likelihood``) with dims ``(chain, stage)``.

    SMC needs no gradients: :class:`~graphfit.search.nuts.NUTS` hands black-box likelihoods to
    it.

    Parameters
    ----------
    draws
        Particles per chain, which are also the posterior draws kept per chain.
    chains
        Independent SMC runs (at least 1; 2 or more for R-hat and the evidence error).
    random_seed
        Seed of the sampler.
    name, path_prefix, progressbar, output_path, unique_tag, plots
        As for :class:`~graphfit.search.base.Search`.
    cores
        Processes to run chains in; default: the cores this process may use, at most
        ``chains`` (``graphfit.search.smc.default_cores``).  PyAutoFit's
        ``number_of_cores`` sets it too.
    threshold
        Effective-sample-size fraction that sets each tempering step (PyMC's ``threshold``);
        higher means more, smaller stages and a more accurate evidence.
    correlation_threshold
        PyMC's IMH kernel setting: lower means more MCMC steps per stage.
    sampler_kwargs
        A dict of keywords passed to ``pm.sample_smc``.
    **kwargs
        PyAutoFit's bookkeeping keywords (see ``graphfit.search.keywords``).  Any other
        keyword is a :class:`~graphfit.SearchKeywordError`, raised here.

    Examples
    --------
    >>> import graphfit as gf
    >>> search = gf.SMC(draws=500, chains=4, random_seed=1)
    >>> search
    SMC(draws=500, chains=4, threshold=0.5, random_seed=1)
    """

    def __init__(
        self,
        draws: int = 2000,
        chains: int = 4,
        random_seed: int | None = None,
        name: str | None = None,
        path_prefix: str | None = None,
        progressbar: bool = True,
        *,
        cores: int | None = None,
        threshold: float = 0.5,
        correlation_threshold: float = 0.01,
        output_path: str | os.PathLike[str] | None = None,
        unique_tag: str | None = None,
        plots: bool = False,
        sampler_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        own = settle_keywords(
            SMC, kwargs, cores=cores, random_seed=random_seed, progressbar=progressbar
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
        self.draws = positive_int("SMC", "draws", draws, 2)
        self.chains = positive_int("SMC", "chains", chains, 1)
        self.cores = (
            default_cores(self.chains) if cores is None else positive_int("SMC", "cores", cores, 1)
        )
        if not 0.0 < float(threshold) < 1.0:
            raise SearchError(f"SMC: threshold must be in (0, 1), got {threshold!r}.")
        if not 0.0 < float(correlation_threshold) < 1.0:
            raise SearchError(
                f"SMC: correlation_threshold must be in (0, 1), got {correlation_threshold!r}."
            )
        self.threshold = float(threshold)
        self.correlation_threshold = float(correlation_threshold)
        self.sampler_kwargs = sampler_options("SMC", sampler_kwargs)

    def __repr__(self) -> str:
        return (
            f"SMC(draws={self.draws}, chains={self.chains}, threshold={self.threshold}, "
            f"random_seed={self.random_seed})"
        )

    def _run(self, compiled: CompiledGraph) -> tuple[az.InferenceData, Diagnostics]:
        import pymc as pm

        timings = getattr(self, "_timings", {})
        clock = time.perf_counter()
        seed = int(self._rng().integers(2**31 - 1))
        # its chain processes exit if this process is killed (see watched_context)
        mp_ctx = watched_context(self.sampler_kwargs.get("mp_ctx"))
        with interruptible("SMC"):  # Ctrl-C always raises, even if PyMC caught it
            idata = pm.sample_smc(
                draws=self.draws,
                chains=self.chains,
                cores=self.cores,
                random_seed=seed,
                model=compiled.model,
                progressbar=self.progressbar,
                compute_convergence_checks=False,
                threshold=self.threshold,
                correlation_threshold=self.correlation_threshold,
                **{**self.sampler_kwargs, "mp_ctx": mp_ctx},
            )
        check_complete(idata, "SMC", chains=self.chains, draws=self.draws)
        timings["sample"] = time.perf_counter() - clock
        clock = time.perf_counter()
        stats, log_ml = stage_stats(stack.group(idata, "sample_stats"), self.chains)
        stack.set_group(idata, "sample_stats", stats)
        evidence = LogEvidence.from_chains(log_ml, method="smc")
        idata = finish_idata(idata, compiled)
        idata.posterior.attrs.update(evidence.to_attrs())
        diagnostics = check_fit(idata, compiled)
        timings["postprocess"] = time.perf_counter() - clock
        return idata, diagnostics

"""``gf.MAP``: a fast optimised point estimate with the same result types as sampling."""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.search.base import Search, finish_idata
from graphfit.search.interrupts import interruptible
from graphfit.search.keywords import settle_keywords
from graphfit.search.modes import MultimodalityWarning, describe, separated_modes
from graphfit.search.start import cached_start_finder
from graphfit.util import one_thread

if TYPE_CHECKING:
    import arviz as az

    from graphfit.backend.compiled import CompiledGraph

__all__ = ["MAP"]


class MAP(Search):
    """Maximum a posteriori estimate by L-BFGS from the best of many random starts.

    The result's ``idata`` holds one chain of one draw (the optimum), with the pointwise
    log-likelihood, so result instances and plots work as for a sampled fit.  There are no
    uncertainties and no convergence diagnostics (``result_list.diagnostics`` is ``None``).

    A table of the values: ``result.summary()`` (:func:`graphfit.backend.stack.summary`) gives
    one column, ``value``, one row per parameter, without a warning.
    ``az.summary(result.idata)`` is ArviZ's summary of a one-draw posterior and is left as
    ArviZ makes it: its ``mean`` is the optimum and every other column (sd, interval, MCSE,
    ESS, R-hat) is NaN, since one draw has none of them; ArviZ 0.x also warns about it
    (numpy runtime warnings and "Shape validation failed").  graphfit does not pad the
    posterior with copies of the optimum to quieten it: that would show a spread of zero and
    an R-hat as if the fit had been sampled.

    Parameters
    ----------
    n_random
        Random starting points scored before optimising.
    n_optimise
        How many of the best starts are optimised.
    random_seed, name, path_prefix, progressbar, output_path, unique_tag, plots
        As for :class:`~graphfit.search.base.Search`.
    **kwargs
        PyAutoFit's bookkeeping keywords (see ``graphfit.search.keywords``); MAP runs in one
        process, so ``number_of_cores`` above 1 is ignored, with a note.  Any other keyword is
        a :class:`~graphfit.SearchKeywordError`, raised here.

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=2)
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    ... )
    >>> round(result.max_log_likelihood_instance.centre)
    50
    >>> table = result.summary()
    >>> list(table.columns), list(table.index)
    (['value'], ['centre', 'normalization', 'sigma'])
    """

    def __init__(
        self,
        n_random: int = 200,
        n_optimise: int = 4,
        random_seed: int | None = None,
        name: str | None = None,
        path_prefix: str | None = None,
        progressbar: bool = False,
        output_path: str | os.PathLike[str] | None = None,
        *,
        unique_tag: str | None = None,
        plots: bool = False,
        **kwargs: Any,
    ) -> None:
        own = settle_keywords(MAP, kwargs, random_seed=random_seed, progressbar=progressbar)
        super().__init__(
            name=name,
            path_prefix=path_prefix,
            random_seed=own["random_seed"],
            progressbar=own["progressbar"],
            output_path=output_path,
            unique_tag=unique_tag,
            plots=plots,
        )
        self.n_random = int(n_random)
        self.n_optimise = int(n_optimise)

    def _run(self, compiled: CompiledGraph) -> tuple[az.InferenceData, Any]:
        import xarray as xr

        model = compiled.model
        finder = cached_start_finder(compiled, jacobian=False)
        # Ctrl-C always raises, whatever the optimiser does with it; small SciPy work: a
        # multi-threaded BLAS only slows it
        with interruptible("MAP"), one_thread():
            optima = finder.find_optima(
                self._rng(), n_random=self.n_random, n_optimise=self.n_optimise
            )
            modes = separated_modes(finder, optima)
        optimum = optima[0]
        if len(modes) > 1:
            warnings.warn(
                f"graphfit MAP: the posterior has {len(modes)} separated modes of comparable "
                f"probability: {describe(finder, modes)}. MAP returns the highest; a sampler "
                "(gf.SMC, gf.DynestyStatic) gives each its weight.",
                MultimodalityWarning,
                stacklevel=3,
            )
        values = finder.values(optimum.x)
        arrays = {}
        for name, value in values.items():
            if name not in model.named_vars or name.endswith("__"):
                continue
            dims = model.named_vars_to_dims.get(name) or tuple(
                f"{name}_dim_{k}" for k in range(np.ndim(value))
            )
            coords = {d: np.asarray(model.coords[d]) for d in dims if d in model.coords}
            arrays[name] = xr.DataArray(
                np.asarray(value)[None, None, ...],
                dims=("chain", "draw", *dims),
                coords={"chain": [0], "draw": [0], **coords},
            )
        posterior = xr.Dataset(arrays)
        sample_stats = xr.Dataset(
            {
                "lp": xr.DataArray(
                    [[optimum.logp]], dims=("chain", "draw"), coords={"chain": [0], "draw": [0]}
                )
            }
        )
        idata = stack.make_idata(posterior=posterior, sample_stats=sample_stats)
        return finish_idata(idata, compiled), None

"""Convergence checks run after every fit: R-hat, effective sample size and divergences.

Problems are never hidden: each becomes a :class:`ConvergenceWarning` naming the parameter (and
the dataset, for per-dataset parameters), and the full table is kept on the results.  A check
that could not be made is never silent either: a posterior of one chain has no R-hat, and one
of fewer than 4 draws per chain has neither R-hat nor ESS; each is a *note*, also warned as a
:class:`ConvergenceWarning` and kept in ``Diagnostics.notes``, that says how to make the
check (a note is not a failed check: :attr:`~graphfit.Diagnostics.ok` stays ``True``).  Non-finite
draws (NaN or inf, which a finished sampler never returns) are a problem, naming the parameters.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ConvergenceWarning", "Diagnostics", "check_convergence", "diagnostics_table"]

#: Largest acceptable R-hat.
RHAT_MAX = 1.01
#: Smallest acceptable bulk and tail effective sample size.
ESS_MIN = 400


class ConvergenceWarning(UserWarning):
    """The sampler's output fails a convergence check (R-hat, ESS or divergences).

    Examples
    --------
    Two chains stuck in different places fail the R-hat and ESS checks:

    >>> import warnings
    >>> import numpy as np
    >>> from graphfit.backend import stack
    >>> import graphfit as gf
    >>> from graphfit.results.diagnostics import check_convergence
    >>> draws = np.random.default_rng(0).normal(size=(2, 200)) + np.array([[0.0], [5.0]])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     diagnostics = check_convergence(stack.from_arrays(posterior={"a": draws}), ["a"])
    >>> {w.category for w in caught} == {gf.ConvergenceWarning}, len(caught)
    (True, 3)
    """


@dataclass
class Diagnostics:
    """Convergence figures of a fit.

    Attributes
    ----------
    table
        One row per parameter (per dataset for per-dataset parameters) with ``r_hat``,
        ``ess_bulk`` and ``ess_tail``.
    divergences
        Number of divergent transitions after tuning.
    problems
        One sentence per failed check; empty when the fit passed.
    notes
        One sentence per check that could not be made (R-hat of a single chain; R-hat and
        ESS of fewer than 4 draws per chain), saying how to make it.  Notes do not make
        ``ok`` false: nothing failed, but nothing was shown either.

    Examples
    --------
    >>> import numpy as np
    >>> from graphfit.backend import stack
    >>> from graphfit.results.diagnostics import check_convergence
    >>> draws = np.random.default_rng(0).normal(size=(4, 1000))
    >>> diagnostics = check_convergence(stack.from_arrays(posterior={"a": draws}), ["a"])
    >>> diagnostics.ok, diagnostics.divergences, list(diagnostics.table.columns)
    (True, 0, ['r_hat', 'ess_bulk', 'ess_tail'])
    """

    table: pd.DataFrame
    divergences: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no check failed (see ``notes`` for checks that could not be made)."""
        return not self.problems

    @property
    def max_rhat(self) -> float:
        """Largest R-hat over all parameters (NaN for a single chain)."""
        return float(self.table["r_hat"].max()) if len(self.table) else float("nan")

    @property
    def min_ess_bulk(self) -> float:
        """Smallest bulk ESS over all parameters."""
        return float(self.table["ess_bulk"].min()) if len(self.table) else float("nan")


def diagnostics_table(posterior: Any, var_names: Sequence[str]) -> pd.DataFrame:
    """Rank-normalised split R-hat, bulk ESS and tail ESS of every element of ``var_names``.

    The same statistics as ``az.summary(..., kind="diagnostics")`` (Vehtari et al. 2021:
    R-hat is the larger of the bulk and folded split R-hat of the rank-normalised draws; bulk
    ESS uses the rank-normalised split chains; tail ESS is the smaller ESS of the indicators
    of the 5% and 95% quantiles), computed for all elements of a variable at once instead of
    one element at a time, and not rounded.  Rows are labelled like ArviZ's summary
    (``sigma[dataset_1]``).

    Parameters
    ----------
    posterior
        An ``xarray.Dataset`` with ``chain`` and ``draw`` dims (``idata.posterior``).
    var_names
        Variables to include, in order.

    Returns
    -------
    pandas.DataFrame
        Columns ``r_hat``, ``ess_bulk`` and ``ess_tail``.

    Examples
    --------
    >>> import numpy as np
    >>> from graphfit.backend import stack
    >>> from graphfit.results.diagnostics import diagnostics_table
    >>> rng = np.random.default_rng(0)
    >>> idata = stack.from_arrays(posterior={"a": rng.normal(size=(4, 500, 2))})
    >>> table = diagnostics_table(stack.group(idata, "posterior"), ["a"])
    >>> list(table.index), bool((table["r_hat"] < 1.01).all())
    (['a[0]', 'a[1]'], True)
    """
    labels, draws = _flatten(posterior, var_names)
    return _table(labels, draws)


def _flatten(posterior: Any, var_names: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Row labels (as ArviZ's summary) and the draws of every element, ``(element, chain,
    draw)``."""
    labels: list[str] = []
    columns: list[np.ndarray] = []
    for name in var_names:
        array = posterior[name]
        other = [d for d in array.dims if d not in ("chain", "draw")]
        array = array.transpose("chain", "draw", *other)
        values = np.asarray(array.values, dtype=float)
        n_chain, n_draw = values.shape[:2]
        columns.append(np.moveaxis(values.reshape(n_chain, n_draw, -1), 2, 0))
        if not other:
            labels.append(name)
            continue
        grids = np.meshgrid(*[array[d].values for d in other], indexing="ij")
        for index in zip(*(g.ravel() for g in grids), strict=True):
            labels.append(f"{name}[{', '.join(str(i) for i in index)}]")
    if not columns:
        return labels, np.empty((0, 0, 0))
    return labels, np.ascontiguousarray(np.concatenate(columns, axis=0))


def _table(labels: list[str], draws: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    if not labels:
        return pd.DataFrame(columns=["r_hat", "ess_bulk", "ess_tail"], dtype=float)
    finite = np.isfinite(draws).all(axis=(1, 2))
    # inf makes the statistics NaN or meaningless: compute them on finite rows only
    clean = np.where(finite[:, None, None], draws, 0.0)
    with np.errstate(all="ignore"):
        table = pd.DataFrame(
            {
                "r_hat": _rhat_rank(clean),
                "ess_bulk": _ess_bulk(clean),
                "ess_tail": _ess_tail(clean),
            },
            index=labels,
        )
    table.loc[~finite] = np.nan  # undefined, as in ArviZ
    return table


def _split_chains(draws: np.ndarray) -> np.ndarray:
    """(k, chain, draw) -> (k, 2 chain, draw // 2): first and last halves of every chain."""
    half = draws.shape[2] // 2
    return np.concatenate([draws[:, :, :half], draws[:, :, draws.shape[2] - half :]], axis=1)


def _z_scale(draws: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks of each variable (Blom's offset 3/8)."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    k, n_chain, n_draw = draws.shape
    size = n_chain * n_draw
    ranks = rankdata(draws.reshape(k, size), method="average", axis=1)
    return ndtri((ranks - 0.375) / (size + 0.25)).reshape(draws.shape)


def _rhat(draws: np.ndarray) -> np.ndarray:
    n_draw = draws.shape[2]
    with np.errstate(all="ignore"):
        between = n_draw * np.var(draws.mean(axis=2), axis=1, ddof=1)
        within = np.var(draws, axis=2, ddof=1).mean(axis=1)
        return np.sqrt((between / within + n_draw - 1) / n_draw)


def _rhat_rank(draws: np.ndarray) -> np.ndarray:
    out = np.full(draws.shape[0], np.nan)
    if draws.shape[1] < 2 or draws.shape[2] < 4:
        return out
    split = _split_chains(draws)
    median = np.median(split.reshape(split.shape[0], -1), axis=1)
    folded = np.abs(split - median[:, None, None])
    bulk, tail = _rhat(_z_scale(split)), _rhat(_z_scale(folded))
    valid = ~np.isnan(draws).any(axis=(1, 2))
    out[valid] = np.fmax(bulk, tail)[valid]
    return out


def _ess(draws: np.ndarray) -> np.ndarray:
    """Effective sample size of each variable (Geyer's initial monotone sequence estimator)."""
    k, n_chain, n_draw = draws.shape
    out = np.full(k, np.nan)
    total = n_chain * n_draw
    centred = draws - draws.mean(axis=2, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n_draw)))
    spectrum = np.fft.rfft(centred, n=size, axis=2)
    acov = np.fft.irfft(spectrum * np.conjugate(spectrum), n=size, axis=2)[..., :n_draw] / n_draw
    mean_acov = acov.mean(axis=1)  # (k, draw)
    mean_var = mean_acov[:, 0] * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus = var_plus + np.var(draws.mean(axis=2), axis=1, ddof=1)
    with np.errstate(all="ignore"):
        rho = 1.0 - (mean_var[:, None] - mean_acov) / var_plus[:, None]
    spread = draws.max(axis=(1, 2)) - draws.min(axis=(1, 2))
    for j in range(k):
        if np.isnan(spread[j]):
            continue
        if spread[j] < np.finfo(float).resolution:
            out[j] = total
            continue
        out[j] = total / _tau(rho[j], n_draw, total)
    return out


def _tau(rho_all: np.ndarray, n_draw: int, total: int) -> float:
    """Integrated autocorrelation time from autocorrelations ``rho_all`` (lag 0, 1, ...)."""
    rho = np.zeros(n_draw)
    rho[0] = even = 1.0
    rho[1] = odd = rho_all[1]
    # Geyer's initial positive sequence: sum pairs of lags while their sum stays positive.
    t = 1
    while t < n_draw - 3 and even + odd > 0.0:
        even, odd = rho_all[t + 1], rho_all[t + 2]
        if even + odd >= 0:
            rho[t + 1], rho[t + 2] = even, odd
        t += 2
    max_t = t - 2
    if even > 0:
        rho[max_t + 1] = even
    # Initial monotone sequence: pair sums may not increase.
    t = 1
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2.0
        t += 2
    tau = -1.0 + 2.0 * rho[: max_t + 1].sum() + rho[max_t + 1 : max_t + 2].sum()
    if np.isnan(rho).any():
        return np.nan
    return max(tau, 1.0 / np.log10(total))


def _ess_bulk(draws: np.ndarray) -> np.ndarray:
    if draws.shape[2] < 4:
        return np.full(draws.shape[0], np.nan)
    return _ess(_z_scale(_split_chains(draws)))


def _ess_tail(draws: np.ndarray) -> np.ndarray:
    if draws.shape[2] < 4:
        return np.full(draws.shape[0], np.nan)
    low, high = np.quantile(draws.reshape(draws.shape[0], -1), [0.05, 0.95], axis=1)
    return np.fmin(
        _ess(_split_chains((draws <= low[:, None, None]).astype(float))),
        _ess(_split_chains((draws <= high[:, None, None]).astype(float))),
    )


def _fmt(rows: pd.Series, digits: int) -> str:
    return ", ".join(f"{name} ({value:.{digits}f})" for name, value in rows.items())


def _nonfinite(labels: list[str], draws: np.ndarray) -> str:
    """``"a (3 of 400 draws), b[x] (...)"`` for the elements with NaN or inf draws."""
    if not labels:
        return ""
    per_draw = draws.shape[1] * draws.shape[2]
    counts = per_draw - np.count_nonzero(np.isfinite(draws), axis=(1, 2))
    return ", ".join(
        f"{label} ({count} of {per_draw} draws)"
        for label, count in zip(labels, counts.tolist(), strict=True)
        if count
    )


def check_convergence(
    idata: Any,
    var_names: Sequence[str],
    *,
    rhat_max: float = RHAT_MAX,
    ess_min: float = ESS_MIN,
    warn: bool = True,
    note_single_chain: bool = True,
) -> Diagnostics:
    """Compute R-hat, bulk/tail ESS and divergences of ``var_names`` and warn on failures.

    Problems (each a :class:`ConvergenceWarning` starting ``graphfit convergence check:``, and
    ``Diagnostics.ok`` false): R-hat above ``rhat_max``, bulk or tail ESS below ``ess_min``,
    divergent transitions, and non-finite draws (NaN or inf; a sampler stopped early pads
    with NaN), each naming the parameters.  Notes (each a :class:`ConvergenceWarning`
    starting ``graphfit convergence note:``, kept in ``Diagnostics.notes``; ``ok`` unchanged):
    R-hat not computed for a single chain, R-hat and ESS not computed for fewer than 4 draws
    per chain.

    Parameters
    ----------
    idata
        ``InferenceData`` with a ``posterior`` (and ``sample_stats`` for divergences).
    var_names
        Variables to check.
    rhat_max, ess_min
        Thresholds; R-hat above ``rhat_max`` or an ESS below ``ess_min`` is a problem.
    warn
        Emit a :class:`ConvergenceWarning` for each problem and note.
    note_single_chain
        Note that R-hat was not computed when the posterior has one chain.  ``False`` for a
        posterior that is one chain by construction, such as nested sampling's resample, for
        which more chains are not an option.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from graphfit.backend import stack
    >>> from graphfit.results.diagnostics import check_convergence
    >>> rng = np.random.default_rng(0)
    >>> idata = stack.from_arrays(posterior={"a": rng.normal(size=(4, 1000))})
    >>> check_convergence(idata, ["a"]).ok
    True
    >>> one_chain = stack.from_arrays(posterior={"a": rng.normal(size=(1, 1000))})
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     diagnostics = check_convergence(one_chain, ["a"])
    >>> diagnostics.ok, diagnostics.notes  # doctest: +NORMALIZE_WHITESPACE
    (True, ['R-hat was not computed: the posterior has 1 chain and R-hat compares chains;
    sample chains >= 2 (e.g. gf.NUTS(chains=4)) to check that they agree'])
    """
    posterior = stack.group(idata, "posterior")
    labels, draws = _flatten(posterior, var_names)
    table = _table(labels, draws)
    divergences = 0
    stats = stack.group(idata, "sample_stats", {})
    if "diverging" in stats:
        divergences = int(np.asarray(stats["diverging"]).sum())
    problems = []
    notes = []
    n_chains = posterior.sizes.get("chain", 1)
    n_draws = posterior.sizes.get("draw", 1)
    nonfinite = _nonfinite(labels, draws)
    if nonfinite:
        problems.append(
            f"non-finite draws (NaN or inf) for: {nonfinite}; a sampler stopped early (e.g. "
            "interrupted) pads the draws it did not make with NaN, so this is not a finished "
            "fit: fit again"
        )
    if n_draws < 4:
        notes.append(
            f"R-hat and ESS were not computed: {n_draws} draw(s) per chain, and they need at "
            "least 4; sample more draws (e.g. gf.NUTS(draws=1000)) to check convergence"
        )
    elif n_chains < 2 and note_single_chain:
        notes.append(
            "R-hat was not computed: the posterior has 1 chain and R-hat compares chains; "
            "sample chains >= 2 (e.g. gf.NUTS(chains=4)) to check that they agree"
        )
    if n_chains > 1:
        high = table["r_hat"][table["r_hat"] > rhat_max]
        if len(high):
            problems.append(f"R-hat above {rhat_max} for: {_fmt(high, 3)}")
    for column, label in (("ess_bulk", "bulk ESS"), ("ess_tail", "tail ESS")):
        low = table[column][table[column] < ess_min]
        if len(low):
            problems.append(f"{label} below {ess_min:g} for: {_fmt(low, 0)}")
    if divergences:
        total = int(np.prod([posterior.sizes[d] for d in ("chain", "draw")]))
        used = getattr(stats, "attrs", {}).get("target_accept")
        higher = 0.99 if used is not None and float(used) >= 0.95 else 0.95
        at = f" at target_accept={float(used):g}" if used is not None else ""
        problems.append(
            f"{divergences} divergent transition(s) in {total} draws{at}; the posterior "
            f"geometry is hard for NUTS (try target_accept={higher:g} or reparametrise)"
        )
    if warn:
        for problem in problems:
            warnings.warn(
                f"graphfit convergence check: {problem}", ConvergenceWarning, stacklevel=3
            )
        for note in notes:
            warnings.warn(f"graphfit convergence note: {note}", ConvergenceWarning, stacklevel=3)
    return Diagnostics(table=table, divergences=divergences, problems=problems, notes=notes)

"""Convergence checks run after every fit: R-hat, effective sample size and divergences.

R-hat and the bulk and tail ESS are ArviZ's (``rhat``, ``ess``, called through
:mod:`graphfit.backend.stack` on either stack); graphfit adds the rows per element, the
thresholds and the messages.  (graphfit's former vectorised numpy copy of ArviZ's functions
was only 1.1 to 1.6 times as fast on 10 to 2000 parameters: ``benchmarks/diagnostics.py``.)

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
from graphfit.plan.labels import parameter_label

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

    ArviZ's ``rhat`` and ``ess`` (Vehtari et al. 2021; through :mod:`graphfit.backend.stack`,
    on either stack, the tail ESS at the 5% and 95% quantiles), unrounded, one row per element
    labelled like ArviZ's summary (``sigma[dataset_1]``).  A statistic that cannot be computed
    is NaN, without a warning: R-hat of a single chain, both of fewer than 4 draws per chain,
    and every statistic of an element with a non-finite draw (NaN or inf, undefined as in
    ArviZ).

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
    return _table(posterior, var_names)[0]


def _elements(array: Any) -> tuple[list[str], list[str]]:
    """The dims of ``array`` other than ``chain`` and ``draw``, and the row label of each of
    its elements in their order (as ArviZ's summary: ``name[a, b]``)."""
    other = [str(d) for d in array.dims if d not in ("chain", "draw")]
    if not other:
        return other, [str(array.name)]
    grids = np.meshgrid(*[array[d].values for d in other], indexing="ij")
    labels = [
        parameter_label(str(array.name), *index)
        for index in zip(*(g.ravel() for g in grids), strict=True)
    ]
    return other, labels


def _table(posterior: Any, var_names: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`diagnostics_table`, and the number of non-finite draws of each row."""
    import pandas as pd
    import xarray as xr

    columns = ["r_hat", "ess_bulk", "ess_tail"]
    names = [name for name in var_names if posterior[name].size]
    labels: list[str] = []
    order: dict[str, list[str]] = {}
    counts: list[np.ndarray] = []
    clean = {}
    for name in names:
        array = posterior[name].astype(float)
        other, rows = _elements(array)
        labels += rows
        order[name] = other
        finite = np.isfinite(array)
        counts.append(np.ravel((~finite).sum(("chain", "draw")).transpose(*other).values))
        # ArviZ warns about NaN and gives inf meaningless figures: an element with a non-finite
        # draw is computed as a constant (no warning), and its row set to NaN below
        clean[name] = array.where(finite.all(("chain", "draw")), 0.0)
    nonfinite = np.concatenate(counts) if counts else np.zeros(0, int)
    if not labels:
        return pd.DataFrame(columns=columns, dtype=float), nonfinite
    n_chains = posterior.sizes.get("chain", 1)
    n_draws = posterior.sizes.get("draw", 1)
    dataset = xr.Dataset(clean)
    figures = {}
    # ArviZ needs 2 chains for R-hat and 4 draws for both (and logs "Shape validation failed"
    # otherwise); a constant element's R-hat is 0 / 0 (a numpy RuntimeWarning): NaN, quietly
    with np.errstate(all="ignore"):
        if n_chains >= 2 and n_draws >= 4:
            figures["r_hat"] = stack.rhat(dataset)
        if n_draws >= 4:
            figures["ess_bulk"] = stack.ess(dataset, "bulk")
            figures["ess_tail"] = stack.ess(dataset, "tail")
    data = {}
    for column in columns:
        if column not in figures:
            data[column] = np.full(len(labels), np.nan)
            continue
        data[column] = np.concatenate(
            [np.ravel(figures[column][name].transpose(*order[name]).values) for name in names]
        ).astype(float)
    table = pd.DataFrame(data, index=labels)
    table.loc[nonfinite > 0] = np.nan  # undefined, as in ArviZ
    return table, nonfinite


def _fmt(rows: pd.Series, digits: int) -> str:
    return ", ".join(f"{name} ({value:.{digits}f})" for name, value in rows.items())


def _nonfinite(labels: Sequence[str], counts: np.ndarray, per_draw: int) -> str:
    """``"a (3 of 400 draws), b[x] (...)"`` for the elements with NaN or inf draws."""
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
    table, counts = _table(posterior, var_names)
    divergences = 0
    stats = stack.group(idata, "sample_stats", {})
    if "diverging" in stats:
        divergences = int(np.asarray(stats["diverging"]).sum())
    problems = []
    notes = []
    n_chains = posterior.sizes.get("chain", 1)
    n_draws = posterior.sizes.get("draw", 1)
    nonfinite = _nonfinite(list(table.index), counts, n_chains * n_draws)
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

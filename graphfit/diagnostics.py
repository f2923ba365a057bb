"""Convergence checks run after every fit: R-hat, effective sample size and divergences.

Problems are never hidden: each becomes a :class:`ConvergenceWarning` naming the parameter (and
the dataset, for per-dataset parameters), and the full table is kept on the results.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ConvergenceWarning", "Diagnostics", "check_convergence"]

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
    >>> import numpy as np, arviz as az
    >>> import graphfit as gf
    >>> from graphfit.diagnostics import check_convergence
    >>> draws = np.random.default_rng(0).normal(size=(2, 200)) + np.array([[0.0], [5.0]])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     diagnostics = check_convergence(az.from_dict(posterior={"a": draws}), ["a"])
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

    Examples
    --------
    >>> import numpy as np, arviz as az
    >>> from graphfit.diagnostics import check_convergence
    >>> draws = np.random.default_rng(0).normal(size=(4, 1000))
    >>> diagnostics = check_convergence(az.from_dict(posterior={"a": draws}), ["a"])
    >>> diagnostics.ok, diagnostics.divergences, list(diagnostics.table.columns)
    (True, 0, ['r_hat', 'ess_bulk', 'ess_tail'])
    """

    table: pd.DataFrame
    divergences: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.problems

    @property
    def max_rhat(self) -> float:
        """Largest R-hat over all parameters (NaN for a single chain)."""
        return float(self.table["r_hat"].max()) if len(self.table) else float("nan")

    @property
    def min_ess_bulk(self) -> float:
        """Smallest bulk ESS over all parameters."""
        return float(self.table["ess_bulk"].min()) if len(self.table) else float("nan")


def _fmt(rows: pd.Series, digits: int) -> str:
    return ", ".join(f"{name} ({value:.{digits}f})" for name, value in rows.items())


def check_convergence(
    idata: Any,
    var_names: Sequence[str],
    *,
    rhat_max: float = RHAT_MAX,
    ess_min: float = ESS_MIN,
    warn: bool = True,
) -> Diagnostics:
    """Compute R-hat, bulk/tail ESS and divergences of ``var_names`` and warn on failures.

    Parameters
    ----------
    idata
        ``InferenceData`` with a ``posterior`` (and ``sample_stats`` for divergences).
    var_names
        Variables to check.
    rhat_max, ess_min
        Thresholds; R-hat above ``rhat_max`` or an ESS below ``ess_min`` is a problem.
    warn
        Emit a :class:`ConvergenceWarning` for each failed check.

    Examples
    --------
    >>> import numpy as np, arviz as az
    >>> from graphfit.diagnostics import check_convergence
    >>> rng = np.random.default_rng(0)
    >>> idata = az.from_dict(posterior={"a": rng.normal(size=(4, 1000))})
    >>> check_convergence(idata, ["a"]).ok
    True
    """
    import arviz as az

    table = az.summary(idata, var_names=list(var_names), kind="diagnostics")
    table = table[["r_hat", "ess_bulk", "ess_tail"]]
    divergences = 0
    if "sample_stats" in idata and "diverging" in idata.sample_stats:
        divergences = int(np.asarray(idata.sample_stats["diverging"]).sum())
    problems = []
    n_chains = idata.posterior.sizes.get("chain", 1)
    if n_chains > 1:
        high = table["r_hat"][table["r_hat"] > rhat_max]
        if len(high):
            problems.append(f"R-hat above {rhat_max} for: {_fmt(high, 3)}")
    for column, label in (("ess_bulk", "bulk ESS"), ("ess_tail", "tail ESS")):
        low = table[column][table[column] < ess_min]
        if len(low):
            problems.append(f"{label} below {ess_min:g} for: {_fmt(low, 0)}")
    if divergences:
        total = int(np.prod([idata.posterior.sizes[d] for d in ("chain", "draw")]))
        problems.append(
            f"{divergences} divergent transition(s) in {total} draws; the posterior geometry is "
            "hard for NUTS (try target_accept=0.95 or reparametrise)"
        )
    if warn:
        for problem in problems:
            warnings.warn(
                f"graphfit convergence check: {problem}", ConvergenceWarning, stacklevel=3
            )
    return Diagnostics(table=table, divergences=divergences, problems=problems)

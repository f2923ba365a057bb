"""The log evidence (log marginal likelihood) of a fit, with its error.

Searches that estimate the evidence (:class:`~graphfit.search.smc.SMC`,
:class:`~graphfit.search.dynesty.DynestyStatic`) store it in the joint posterior's attributes
(``log_evidence``, ``log_evidence_error``, ``log_evidence_method`` and, for SMC,
``log_evidence_chains``), so it is saved and loaded with the ``InferenceData``;
``result_list.log_evidence`` reads it back as a :class:`LogEvidence`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LogEvidence"]


@dataclass(frozen=True)
class LogEvidence:
    """A log evidence estimate.

    Attributes
    ----------
    value
        Natural log of the marginal likelihood ``p(data | model)`` of all datasets together
        (full likelihood normalisation included).
    error
        Its standard error: the spread over SMC chains divided by ``sqrt(chains)``, or dynesty's
        own estimate.
    method
        ``"smc"`` or ``"dynesty"``.
    chains
        SMC's per-chain estimates (empty for dynesty).

    Examples
    --------
    >>> from graphfit.results.evidence import LogEvidence
    >>> evidence = LogEvidence.from_chains([-10.2, -10.0, -10.1, -9.9], method="smc")
    >>> round(evidence.value, 2), round(evidence.error, 3)
    (-10.05, 0.065)
    >>> round(float(evidence), 2)
    -10.05
    >>> LogEvidence.from_attrs(evidence.to_attrs()) == evidence
    True
    """

    value: float
    error: float
    method: str
    chains: tuple[float, ...] = field(default=())

    @classmethod
    def from_chains(cls, values: Any, method: str = "smc") -> LogEvidence:
        """Mean of independent per-chain estimates with the standard error of that mean
        (``nan`` error for one chain)."""
        array = np.asarray(values, dtype=float).ravel()
        error = float(array.std(ddof=1) / np.sqrt(array.size)) if array.size > 1 else np.nan
        return cls(float(array.mean()), error, method, tuple(float(v) for v in array))

    def to_attrs(self) -> dict[str, Any]:
        """Attributes to store on a posterior ``Dataset`` (NetCDF-safe types only)."""
        attrs: dict[str, Any] = {
            "log_evidence": self.value,
            "log_evidence_error": self.error,
            "log_evidence_method": self.method,
        }
        if self.chains:
            attrs["log_evidence_chains"] = np.asarray(self.chains, dtype=float)
        return attrs

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> LogEvidence | None:
        """The evidence stored by :meth:`to_attrs`, or ``None`` when there is none."""
        if "log_evidence" not in attrs:
            return None
        chains = tuple(float(v) for v in np.ravel(attrs.get("log_evidence_chains", [])))
        return cls(
            float(attrs["log_evidence"]),
            float(attrs.get("log_evidence_error", np.nan)),
            str(attrs.get("log_evidence_method", "")),
            chains,
        )

    def __float__(self) -> float:
        return self.value

    def __str__(self) -> str:
        return f"{self.value:.3f} ± {self.error:.3f} ({self.method})"

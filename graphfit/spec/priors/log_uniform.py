"""The log-uniform prior."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphfit.exceptions import PriorError
from graphfit.spec.priors.base import Prior, PyMCForm, check_limits, check_number

__all__ = ["LogUniformPrior"]


class LogUniformPrior(Prior):
    """Prior uniform in ``log x`` on ``[lower_limit, upper_limit]``, ``0 < lower_limit``.

    Its density is ``1 / (x * log(upper_limit / lower_limit))``.  It compiles to a uniform in
    ``log x`` (the backend's ``"LogUniform"`` form).

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2)
    LogUniformPrior(lower_limit=0.01, upper_limit=100.0)
    """

    __slots__ = ("lower_limit", "upper_limit")
    arguments = ("lower_limit", "upper_limit")

    def __init__(
        self, lower_limit: float = 1e-6, upper_limit: float = 1e6, *, name: str | None = None
    ):
        kind = type(self).__name__
        self.lower_limit = check_number(kind, "lower_limit", lower_limit)
        self.upper_limit = check_number(kind, "upper_limit", upper_limit)
        if self.lower_limit <= 0.0:
            raise PriorError(
                f"{kind}: lower_limit = {self.lower_limit!r} must be > 0 (the prior is uniform "
                "in log x); use a small positive number such as 1e-6."
            )
        check_limits(kind, self.lower_limit, self.upper_limit)
        super().__init__(name=name)

    def pymc_form(self) -> PyMCForm:
        return PyMCForm(
            "LogUniform",
            {"lower": self.lower_limit, "upper": self.upper_limit},
            log_interval=True,
        )

    @classmethod
    def ppf(cls, q: Any, lower_limit: Any = 1e-6, upper_limit: Any = 1e6) -> Any:
        lower, upper = np.log(lower_limit), np.log(upper_limit)
        return np.exp(lower + np.asarray(q, dtype=float) * (upper - lower))

    def median(self) -> float:
        return math.sqrt(self.lower_limit * self.upper_limit)

    def logpdf(self, x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        inside = (x >= self.lower_limit) & (x <= self.upper_limit)
        norm = math.log(math.log(self.upper_limit / self.lower_limit))
        with np.errstate(all="ignore"):
            return np.where(inside, -np.log(x) - norm, -np.inf)

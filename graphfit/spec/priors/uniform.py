"""The uniform prior."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphfit.spec.priors.base import (
    PopulationFamily,
    Prior,
    PyMCForm,
    check_limits,
    check_number,
)

__all__ = ["UniformPrior"]


class UniformPrior(Prior):
    """Uniform prior on ``[lower_limit, upper_limit]``; compiles to ``pm.Uniform``.

    Parameters
    ----------
    lower_limit, upper_limit
        Finite bounds, ``lower_limit < upper_limit``.
    name
        Optional parameter name (see :class:`~graphfit.Prior`).

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    UniformPrior(lower_limit=0.0, upper_limit=100.0)
    """

    __slots__ = ("lower_limit", "upper_limit")
    arguments = ("lower_limit", "upper_limit")
    population_family = PopulationFamily("uniform", required=("lower_limit", "upper_limit"))

    def __init__(
        self, lower_limit: float = 0.0, upper_limit: float = 1.0, *, name: str | None = None
    ):
        kind = type(self).__name__
        self.lower_limit = check_number(kind, "lower_limit", lower_limit)
        self.upper_limit = check_number(kind, "upper_limit", upper_limit)
        check_limits(kind, self.lower_limit, self.upper_limit)
        super().__init__(name=name)

    def pymc_form(self) -> PyMCForm:
        return PyMCForm("Uniform", {"lower": self.lower_limit, "upper": self.upper_limit})

    @classmethod
    def ppf(cls, q: Any, lower_limit: Any = 0.0, upper_limit: Any = 1.0) -> Any:
        lower, upper = np.asarray(lower_limit, float), np.asarray(upper_limit, float)
        return lower + np.asarray(q, dtype=float) * (upper - lower)

    def median(self) -> float:
        return 0.5 * (self.lower_limit + self.upper_limit)

    def logpdf(self, x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        inside = (x >= self.lower_limit) & (x <= self.upper_limit)
        return np.where(inside, -math.log(self.upper_limit - self.lower_limit), -np.inf)

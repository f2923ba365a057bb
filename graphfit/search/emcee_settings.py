"""The settings objects of PyAutoFit's ``af.Emcee`` for :class:`~graphfit.Emcee`.

PyAutoFit scripts give ``af.Emcee`` an
``auto_correlation_settings=af.AutoCorrelationsSettings(...)`` and an
``initializer=af.InitializerBall(...)`` or ``af.InitializerPrior()``; these are the same objects
under ``gf.``, with PyAutoFit's defaults, checked when they are built.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from graphfit.exceptions import SearchError
from graphfit.search.base import positive_int
from graphfit.search.keywords import IgnoredKeywordWarning

__all__ = ["AutoCorrelationsSettings", "InitializerBall", "InitializerPrior", "initializer_kind"]


@dataclass(frozen=True)
class AutoCorrelationsSettings:
    """When :class:`~graphfit.Emcee` stops before ``nsteps`` (``af.AutoCorrelationsSettings``).

    Every ``check_size`` steps, emcee estimates the integrated autocorrelation time ``tau`` of
    every coordinate; sampling stops once the run is longer than ``required_length * tau`` for
    all of them and no ``tau`` changed by more than the fraction ``change_threshold`` since the
    previous check.  The defaults are PyAutoFit's (and emcee's documentation's).

    Parameters
    ----------
    check_for_convergence
        Check and stop early (``True``), or always run ``nsteps`` steps.
    check_size
        Steps between two checks.
    required_length
        Autocorrelation times the run must be longer than.
    change_threshold
        Largest relative change of ``tau`` between two checks.

    Examples
    --------
    >>> import graphfit as gf
    >>> settings = gf.AutoCorrelationsSettings(check_size=200)
    >>> settings.check_size, settings.required_length, settings.change_threshold
    (200, 50, 0.01)
    """

    check_for_convergence: bool = True
    check_size: int = 100
    required_length: int = 50
    change_threshold: float = 0.01

    def __post_init__(self) -> None:
        owner = "AutoCorrelationsSettings"
        positive_int(owner, "check_size", self.check_size, 1)
        positive_int(owner, "required_length", self.required_length, 1)
        if not float(self.change_threshold) > 0.0:
            raise SearchError(
                f"{owner}: change_threshold must be > 0, got {self.change_threshold!r}."
            )


@dataclass(frozen=True)
class InitializerBall:
    """Start :class:`~graphfit.Emcee`'s walkers in a small ball around graphfit's start point.

    PyAutoFit's ``af.InitializerBall`` draws each walker's unit-cube values between
    ``lower_limit`` and ``upper_limit``: a ball around the priors' medians, which may lie far
    from the posterior.  graphfit centres the ball on the optimum its start search finds
    (:mod:`graphfit.search.start`), each coordinate jittered by about one conditional posterior
    standard deviation, so the walkers start inside the posterior whatever the priors' widths.
    The limits are accepted so that PyAutoFit scripts run; values other than the defaults are
    ignored, with a :class:`~graphfit.IgnoredKeywordWarning`.  This is the default.

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.Emcee(initializer=gf.InitializerBall(lower_limit=0.49, upper_limit=0.51)).initializer
    'ball'
    """

    lower_limit: float = 0.49
    upper_limit: float = 0.51

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.lower_limit) < float(self.upper_limit) <= 1.0:
            raise SearchError(
                "InitializerBall: the limits must satisfy 0 <= lower_limit < upper_limit <= 1, "
                f"got lower_limit={self.lower_limit!r}, upper_limit={self.upper_limit!r}."
            )


@dataclass(frozen=True)
class InitializerPrior:
    """Start each of :class:`~graphfit.Emcee`'s walkers at a draw from the prior.

    As PyAutoFit's ``af.InitializerPrior``.  Draws where the model's density is not finite (an
    assertion fails) are replaced by others.  Walkers spread over the prior take longer to burn
    in than the default :class:`~graphfit.InitializerBall`'s.

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.Emcee(initializer=gf.InitializerPrior()).initializer
    'prior'
    """


def initializer_kind(value: Any) -> str:
    """``"ball"`` or ``"prior"`` for an ``initializer`` given to :class:`~graphfit.Emcee`
    (a PyAutoFit initializer with limits other than the defaults is noted).

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.search.emcee_settings import initializer_kind
    >>> initializer_kind(gf.InitializerBall()), initializer_kind("prior")
    ('ball', 'prior')
    """
    if isinstance(value, str) and value in ("ball", "prior"):
        return value
    if isinstance(value, InitializerPrior):
        return "prior"
    if isinstance(value, InitializerBall):
        if (value.lower_limit, value.upper_limit) != (0.49, 0.51):
            warnings.warn(
                "Emcee ignores the limits of PyAutoFit's InitializerBall("
                f"lower_limit={value.lower_limit!r}, upper_limit={value.upper_limit!r}): "
                "graphfit starts the walkers around the optimum its start search finds, each "
                "coordinate jittered by about one conditional posterior standard deviation, "
                "not around the priors' medians.",
                IgnoredKeywordWarning,
                stacklevel=3,
            )
        return "ball"
    raise SearchError(
        "Emcee: initializer must be 'ball', 'prior', gf.InitializerBall() or "
        f"gf.InitializerPrior(), got {value!r}."
    )

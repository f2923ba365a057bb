"""Separated modes found by the start search, and which chain starts in which.

NUTS explores one mode well and seldom crosses a valley of low density between two.  If every
chain starts in the same mode, every convergence check passes while the other mode's mass is
missing.  So the optima polished by :meth:`graphfit.search.start.StartFinder.find_optima` are
compared:

- two optima are **separated** when they are at least ``MIN_SEPARATION`` (4) curvature scales
  apart in some coordinate *and* the log density dips by more than ``BARRIER`` (2) below the
  lower of the two somewhere on the straight line between them (points on one ridge or plateau
  are one mode);
- a separated optimum is **comparable** when its Laplace estimate of probability mass,
  ``exp(logp) * prod(scale)`` (the curvature scales of
  :meth:`~graphfit.search.start.StartFinder.curvature_scale`), is at least ``1 / MODE_MASS_RATIO``
  (1/20) of the largest.

Chains are then spread over the comparable modes in turn (most probable first), so R-hat sees
chains that do not mix, and a :class:`~graphfit.MultimodalityWarning` names the parameters that
differ and each mode's values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "BARRIER",
    "MIN_SEPARATION",
    "MODE_MASS_RATIO",
    "Modes",
    "MultimodalityWarning",
    "chain_modes",
    "separated_modes",
]

#: Coordinates (in curvature scales) two optima must be apart to be different modes ...
MIN_SEPARATION = 4.0
#: ... and the dip of the log density between them below the lower one.
BARRIER = 2.0
#: A mode is comparable when its Laplace mass is at least 1/MODE_MASS_RATIO of the largest.
MODE_MASS_RATIO = 20.0
#: Optima whose log density is more than this below the best are not considered.
_LOGP_WINDOW = 10.0 + math.log(MODE_MASS_RATIO)


class MultimodalityWarning(UserWarning):
    """The start search found separated modes of comparable probability.

    NUTS seldom moves between separated modes: chains are started in each (so R-hat shows it),
    but the posterior may weigh the modes by the number of chains in each rather than by their
    probability.

    Examples
    --------
    >>> import warnings
    >>> import graphfit as gf
    >>> issubclass(gf.MultimodalityWarning, UserWarning)
    True
    """


@dataclass
class Modes:
    """The comparable separated modes of a posterior, most probable first.

    Attributes
    ----------
    optima
        One :class:`~graphfit.search.start.Optimum` per mode.
    masses
        Each mode's share of their summed Laplace masses.
    """

    optima: list[Any]
    masses: list[float]

    def __len__(self) -> int:
        return len(self.optima)


def _log_mass(optimum: Any) -> float:
    return float(optimum.logp + np.sum(np.log(np.asarray(optimum.scale, dtype=float))))


def _same_basin(finder: Any, a: Any, b: Any) -> bool:
    """True unless ``a`` and ``b`` are far apart with a valley of low density between them."""
    scale = np.maximum(np.asarray(a.scale, float), np.asarray(b.scale, float))
    if float(np.max(np.abs(a.x - b.x) / scale)) < MIN_SEPARATION:
        return True
    floor = min(a.logp, b.logp) - BARRIER
    for t in np.linspace(0.0, 1.0, 13)[1:-1]:
        if finder.logp(a.x + t * (b.x - a.x)) < floor:
            return False
    return True


def separated_modes(finder: Any, optima: list[Any]) -> Modes:
    """The comparable separated modes among ``optima`` (see the module notes).

    Parameters
    ----------
    finder
        The :class:`~graphfit.search.start.StartFinder` that found them.
    optima
        Its :meth:`~graphfit.search.start.StartFinder.find_optima`, best first; the first's
        ``scale``
        is its curvature scale.  Other optima that become modes get theirs computed here (with
        generators of their own, so the search's random stream is unchanged).

    Returns
    -------
    Modes
        At least the best optimum.
    """
    best = optima[0]
    modes = [best]
    for k, optimum in enumerate(optima[1:], start=1):
        if not (optimum.converged and np.isfinite(optimum.logp)):
            continue
        if optimum.logp < best.logp - _LOGP_WINDOW:
            continue
        if any(_same_basin(finder, mode, optimum) for mode in modes):
            continue
        if finder.gradient:
            optimum.scale = finder.curvature_scale(
                optimum.x, np.random.default_rng(k), fallback=optimum.scale
            )
        if any(_same_basin(finder, mode, optimum) for mode in modes):
            continue  # closer than it looked with L-BFGS's scale
        modes.append(optimum)
    masses = np.array([_log_mass(m) for m in modes])
    keep = masses >= masses.max() - math.log(MODE_MASS_RATIO)
    order = [k for k in np.argsort(-masses) if keep[k]]
    shares = np.exp(masses[order] - masses[order].max())
    shares /= shares.sum()
    return Modes([modes[k] for k in order], [float(v) for v in shares])


def chain_modes(chains: int, modes: int) -> list[int]:
    """The mode each chain starts in: the modes in turn, most probable first.

    Examples
    --------
    >>> from graphfit.search.modes import chain_modes
    >>> chain_modes(4, 2), chain_modes(4, 1), chain_modes(2, 3)
    ([0, 1, 0, 1], [0, 0, 0, 0], [0, 1])
    """
    return [c % max(modes, 1) for c in range(chains)]


def _labels(finder: Any) -> list[tuple[str, str]]:
    """For each coordinate of the flat unconstrained vector: (variable, element label)."""
    model = finder.model
    names = {value.name: rv.name for rv, value in model.rvs_to_values.items()}
    out = []
    for value_name, shape, size, _ in finder._start.point_map_info:
        name = names.get(value_name, value_name)
        dims = model.named_vars_to_dims.get(name) or ()
        for flat in range(int(size)):
            if not shape:
                out.append((name, name))
                continue
            index = np.unravel_index(flat, shape)
            parts = []
            for axis, position in enumerate(index):
                coords = model.coords.get(dims[axis]) if axis < len(dims) else None
                parts.append(str(coords[position]) if coords is not None else str(position))
            out.append((name, f"{name}[{', '.join(parts)}]"))
    return out


def describe(finder: Any, modes: Modes, *, most: int = 3) -> str:
    """The parameters that differ most between the modes and each mode's values of them."""
    labels = _labels(finder)
    values = [finder.free_values(m.x) for m in modes.optima]
    first = modes.optima[0]
    spread = np.zeros(first.x.size)
    for other in modes.optima[1:]:
        scale = np.maximum(np.asarray(first.scale, float), np.asarray(other.scale, float))
        spread = np.maximum(spread, np.abs(other.x - first.x) / scale)
    picks = [int(k) for k in np.argsort(-spread)[:most] if spread[k] >= MIN_SEPARATION]
    if not picks:
        picks = [int(np.argmax(spread))]
    pieces = []
    for k, (optimum, share, named) in enumerate(
        zip(modes.optima, modes.masses, values, strict=True), start=1
    ):
        shown = []
        offsets: dict[str, int] = {}
        for index, (name, label) in enumerate(labels):
            offsets.setdefault(name, index)
            if index in picks:
                value = np.ravel(np.asarray(named[name]))[index - offsets[name]]
                shown.append(f"{label} = {value:.4g}")
        pieces.append(
            f"mode {k} (log density {optimum.logp:.2f}, about {100 * share:.0f}% of the mass by "
            f"a Laplace estimate): {', '.join(shown)}"
        )
    return "; ".join(pieces)

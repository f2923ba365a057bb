"""Start values from the plan: every prior variable at its prior median, and for a hierarchical
graph each drawn parameter at its own dataset's estimate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.spec.priors import Prior

if TYPE_CHECKING:
    pass

__all__ = ["data_start", "prior_medians"]


def prior_medians(plan: Any) -> dict[str, Any]:
    """Median of every prior variable of a :class:`~graphfit.plan.naming.GraphPlan`, by name."""
    return {
        group.name: (
            np.asarray([p.median() for p in group.members])
            if group.vector
            else group.members[0].median()
        )
        for group in plan.prior_groups
    }


def data_start(plan: Any) -> dict[str, Any] | None:
    """Prior medians with hierarchical populations started from the datasets' own fits.

    Each drawn parameter that a :class:`~graphfit.HierarchicalFactor` fitted to its dataset
    alone is put at that estimate, and the population's hyperparameters at the estimates'
    centre and spread (:meth:`~graphfit.HierarchicalFactor.start_values`); a non-centred
    population's offsets follow.  ``None`` when the graph has no population that could be
    measured (or only marginalised ones, whose drawn parameters are not variables).

    From the prior medians every drawn parameter sits at the population's centre: a dataset
    whose peak lies several widths away gives the optimiser no gradient there, and the chains
    then start, and stay, on a plateau far from that dataset's own answer.
    """

    medians = prior_medians(plan)
    changed = False
    for _, population in plan.populations:
        parametrization = population.resolved_parametrization
        if parametrization == "marginalized":
            continue
        values = population.start_values()
        if not values:
            continue
        changed = True
        hyper = {}
        for argument in ("mean", "sigma", "lower_limit", "upper_limit"):
            value = population.parameters.get(argument)
            hyper[argument] = values.get(value, value) if isinstance(value, Prior) else value
        for group in plan.prior_groups:
            members = [values.get(member) for member in group.members]
            if any(v is not None for v in members):
                old = np.atleast_1d(np.asarray(medians[group.name], dtype=float))
                new = np.array([o if v is None else v for o, v in zip(old, members, strict=True)])
                medians[group.name] = new if group.vector else float(new[0])
            if group.population is population and parametrization == "non_centred":
                offsets = _offsets(population, hyper, members)
                if offsets is not None:
                    medians[f"{group.name}_offset"] = offsets if group.vector else offsets[0]
    return medians if changed else None


def _offsets(population: Any, hyper: dict[str, Any], members: list[Any]) -> np.ndarray | None:
    """Non-centred offsets of drawn values ``members`` (0, the population's centre, where
    ``None``) under hyperparameter values ``hyper``; ``None`` when a hyperparameter is not a
    number here (a relation)."""

    def number(name: str) -> float | None:
        value = hyper.get(name)
        return float(value) if isinstance(value, int | float | np.floating) else None

    if population.family.shape == "uniform":
        low, high = number("lower_limit"), number("upper_limit")
        if low is None or high is None or not high > low:
            return None
        units = [0.5 if v is None else (v - low) / (high - low) for v in members]
        return np.clip(np.array(units), 0.01, 0.99)
    mean, sigma = number("mean"), number("sigma")
    if mean is None or sigma is None or not sigma > 0:
        return None
    log = population.family.log
    offsets = []
    for v in members:
        if v is None or (log and v <= 0):
            offsets.append(0.0)
        else:
            offsets.append(((np.log(v) if log else v) - mean) / sigma)
    return np.array(offsets)

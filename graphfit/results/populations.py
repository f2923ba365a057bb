"""Draws from a fitted population: new members' parameters for every posterior draw."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["population_draw", "sample_index"]


def sample_index(values: Any) -> tuple[int, int]:
    """(chain, draw) of the largest value of a (chain, draw) array."""
    array = np.asarray(values)
    array = np.where(np.isfinite(array), array, -np.inf)
    chain, draw = np.unravel_index(int(np.argmax(array)), array.shape)
    return int(chain), int(draw)


def population_draw(population: Any, values: dict[str, Any], rng: np.random.Generator) -> Any:
    """One draw from the population per posterior sample (posterior predictive of a new
    dataset's parameter)."""

    shape = next(iter(values.values())).shape
    if population.family.shape == "gaussian":
        mean, sigma = values["mean"], values["sigma"]
        lower = population.parameters.get("lower_limit")
        upper = population.parameters.get("upper_limit")
        if lower is not None or upper is not None:
            from scipy import stats

            a = ((-np.inf if lower is None else lower) - mean) / sigma
            b = ((np.inf if upper is None else upper) - mean) / sigma
            draw = stats.truncnorm.rvs(
                a.values, b.values, loc=mean.values, scale=sigma.values, random_state=rng
            )
            return mean.copy(data=draw)
        draw = mean + sigma * rng.normal(size=shape)
        return np.exp(draw) if population.family.log else draw
    lower, upper = values["lower_limit"], values["upper_limit"]
    return lower + (upper - lower) * rng.uniform(size=shape)

"""Measurements that decide how a population is compiled, from its datasets' likelihoods (numpy).

These are the probes behind :class:`~graphfit.HierarchicalFactor`'s ``"auto"`` choice: the grid
a population's drawn parameters would be marginalised over (:func:`measure_grid`), the data's
strength against the population's spread (:func:`measure_data_strength`, through
:mod:`graphfit.plan.parametrization`) and start values from the datasets' own fits
(:func:`start_values`).  The population object keeps the results; it calls these through
:mod:`graphfit.spec.services` when a factor graph is built or a value is first needed.
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from typing import Any

import numpy as np

from graphfit.plan.parametrization import (
    PROBED_DATASETS,
    dataset_estimate,
    factor_log_likelihood,
    spread_posterior,
)
from graphfit.spec.analysis import call_log_likelihood
from graphfit.spec.hierarchical import (
    CELLS_PER_SD,
    FLAT_TOLERANCE,
    MAX_CELLS,
    HierarchicalFactor,
)
from graphfit.spec.priors import Prior
from graphfit.util import one_thread

__all__ = ["measure_data_strength", "measure_grid", "start_values"]

#: Datasets whose likelihood is probed when the grid is measured, and points per dataset.
_PROBED_DATASETS = 20
_PROBES_PER_DATASET = 7


def measure_grid(
    population: HierarchicalFactor, factors: list[Any], problem: str | None = None
) -> np.ndarray | None:
    """Choose the grid its drawn parameters would be marginalised over.

    ``factors[k]`` is the :class:`~graphfit.AnalysisFactor` whose likelihood
    holds drawn parameter ``k`` (the only one of it).  ``problem``, when given, is a reason
    the graph's structure rules marginalisation out.  The grid spans the drawn parameters'
    prior range (cut to the population's own limits when they are fixed numbers), with
    cells of a third (``CELLS_PER_SD``) of the narrowest likelihood standard deviation
    found, probing the likelihood of up to 20 datasets at 7 points across the range.
    Sets and returns ``grid`` (``None`` with the reason in ``grid_problem``).
    """
    population.grid, population.grid_work = None, 0
    population.grid_problem = problem or _grid_problem(population, factors)
    if population.grid_problem is not None:
        return None
    lower, upper = _grid_range(population)
    picks = np.unique(np.linspace(0, len(factors) - 1, _PROBED_DATASETS).round().astype(int))
    lower, upper = _flat_range(population, lower, upper, [factors[k] for k in picks], picks)
    probes = np.linspace(lower, upper, _PROBES_PER_DATASET + 2)[1:-1]
    sds = [
        _likelihood_sd(factors[k], population.drawn[k], float(value))
        for k in picks
        for value in probes
    ]
    sds = [sd for sd in sds if math.isfinite(sd) and sd > 0]
    if not sds:
        population.grid_problem = "the likelihood's width could not be measured with numpy"
        return None
    cells = math.ceil((upper - lower) / (min(sds) / CELLS_PER_SD))
    cells = max(cells, 16)
    if cells > MAX_CELLS:
        population.grid_problem = (
            f"the data pin the drawn parameters too tightly for a grid over "
            f"[{lower:g}, {upper:g}] ({cells} cells needed, at most {MAX_CELLS})"
        )
        return None
    population.grid = np.linspace(lower, upper, cells + 1)
    points = sum(_data_size(factor) for factor in factors)
    population.grid_work = int((cells + 2) * points)
    return population.grid


def _flat_range(
    population: HierarchicalFactor,
    lower: float,
    upper: float,
    factors: list[Any],
    picks: np.ndarray,
) -> tuple[float, float]:
    """Widen ``[lower, upper]`` on each side until the probed likelihoods are flat beyond it
    (within :data:`FLAT_TOLERANCE` of their value far away), by up to 4 times its width,
    inside the population's own limits."""
    width = upper - lower
    limit_low, limit_high = _population_limits(population)
    out = []
    for side, edge in ((-1.0, lower), (1.0, upper)):
        far = edge + side * 1e3 * width
        chosen = edge
        for margin in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0):
            point = edge + side * margin * width
            if not limit_low <= point <= limit_high:
                break
            chosen = point
            flat = [
                abs(
                    _log_likelihood(f, population.drawn[k], point)
                    - _log_likelihood(f, population.drawn[k], far)
                )
                <= FLAT_TOLERANCE
                for f, k in zip(factors, picks, strict=True)
            ]
            if all(flat):
                break
        out.append(chosen)
    return out[0], out[1]


def _population_limits(population: HierarchicalFactor) -> tuple[float, float]:
    """The population's own support where its limits are fixed numbers."""
    if population.family.log:
        return 0.0, math.inf
    if population.family.bounded:
        fixed = [population.parameters.get(k) for k in ("lower_limit", "upper_limit")]
        return (
            float(fixed[0]) if isinstance(fixed[0], numbers.Real) else -math.inf,
            float(fixed[1]) if isinstance(fixed[1], numbers.Real) else math.inf,
        )
    return -math.inf, math.inf


def _grid_range(population: HierarchicalFactor) -> tuple[float, float]:
    lows, highs = zip(*(p.support() for p in population.drawn), strict=True)
    lower, upper = min(lows), max(highs)
    if population.family.bounded:
        fixed = [population.parameters.get(k) for k in ("lower_limit", "upper_limit")]
        if isinstance(fixed[0], numbers.Real):
            lower = max(lower, float(fixed[0])) if math.isfinite(lower) else float(fixed[0])
        if isinstance(fixed[1], numbers.Real):
            upper = min(upper, float(fixed[1])) if math.isfinite(upper) else float(fixed[1])
    if population.family.log and math.isfinite(upper):
        lower = max(lower, upper * 1e-6)
    return lower, upper


def _grid_problem(population: HierarchicalFactor, factors: list[Any]) -> str | None:
    if len(factors) != len(population.drawn):
        return "a drawn variable is not in exactly one dataset's likelihood"
    lower, upper = _grid_range(population)
    if not (math.isfinite(lower) and math.isfinite(upper) and lower < upper):
        return (
            "its drawn variables' priors have no finite limits (the grid spans them; give "
            "them e.g. gf.UniformPrior(lower_limit, upper_limit))"
        )
    return None


def measure_data_strength(population: HierarchicalFactor, factors: Any) -> float | None:
    """Set and return ``data_strength`` from the datasets of ``factors``.

    ``factors`` are the graph's :class:`~graphfit.AnalysisFactor` objects.
    Up to :data:`~graphfit.plan.parametrization.PROBED_DATASETS` drawn parameters are fitted to
    their datasets alone, and the population's spread is estimated from those fits (see
    :mod:`graphfit.plan.parametrization`).  Returns ``None`` when that was impossible (then
    ``"auto"`` is non-centred, the safe choice for data of unknown strength).
    """
    population._factors = list(factors)
    owners = []
    for prior in population.drawn:
        for factor in population._factors:
            if any(p is prior for p in factor.prior_model.priors()):
                owners.append((prior, factor))
                break
    picks = np.unique(np.linspace(0, len(owners) - 1, PROBED_DATASETS).round().astype(int))
    log_space = population.family.log
    values, sds = [], []
    with one_thread():  # small SciPy problems: a multi-threaded BLAS only slows them
        estimates = [
            dataset_estimate(owners[k][1], owners[k][0], _drawn_support(population, owners[k][0]))
            for k in (picks if owners else [])
        ]
    population._estimates = [
        (owners[k][0], e.value, e.sd)
        for k, e in zip(picks if owners else [], estimates, strict=True)
        if math.isfinite(e.value) and math.isfinite(e.sd)
    ]
    for estimate in estimates:
        value, sd = estimate.value, estimate.sd
        if log_space:
            value, sd = (math.log(value), sd / value) if value > 0 else (math.nan, math.nan)
        values.append(value)
        sds.append(sd)
    population._strength = {"datasets": len(values), "median_sd": math.nan, "q10": math.nan}
    population.data_strength_measured = True
    known = [sd for sd in sds if not math.isnan(sd)]
    if not known:
        population._data_strength = None
        return None
    median_sd = float(np.median(known))
    sigma = population.parameters.get("sigma")
    if isinstance(sigma, numbers.Real):
        q10 = float(sigma)
    else:
        log_prior, support = None, (0.0, math.inf)
        if isinstance(sigma, Prior):
            log_prior = sigma.logpdf
            low, high = sigma.support()
            support = (max(low, 0.0), high)
            if log_space is False and population.family.shape == "uniform":
                log_prior = None
        posterior = spread_posterior(np.array(values), np.array(sds), log_prior, support)
        if posterior is None:
            population._data_strength = None
            population._strength.update(median_sd=median_sd)
            return None
        q10 = posterior.q10
    population._strength.update(median_sd=median_sd, q10=q10)
    population._data_strength = median_sd / q10 if q10 > 0 else math.inf
    return population._data_strength


def start_values(population: HierarchicalFactor) -> dict[Prior, float]:
    """Where the start search can begin, from the datasets' own fits.

    Every probed drawn parameter (see :meth:`measure_data_strength`) at its dataset's
    estimate, and the population's mean and sigma, where they are priors, at the mean and
    spread of those estimates (in log space for a ``LogGaussianPrior`` population), each
    kept inside its prior's support.  Prior medians put every drawn parameter at the
    population's centre, where a dataset whose signal lies far away gives the optimiser no
    gradient; these values start it at each dataset's own peak.  Empty when the datasets
    could not be fitted alone (or fewer than two were).
    """
    # the caller (HierarchicalFactor.start_values) measured the data first
    estimates = population._estimates
    if len(estimates) < 2:
        return {}
    values: dict[Prior, float] = {prior: _inside(prior, value) for prior, value, _ in estimates}
    drawn = np.array([value for _, value, _ in estimates])
    if population.family.log:
        if np.any(drawn <= 0):
            return values
        drawn = np.log(drawn)
    # the estimates' scatter, at least a typical dataset's own uncertainty
    spread = float(max(np.std(drawn, ddof=1), np.median([sd for _, _, sd in estimates])))
    if population.family.shape == "uniform":
        centre = {
            "lower_limit": float(np.min(drawn)) - spread,
            "upper_limit": float(np.max(drawn)) + spread,
        }
    else:
        centre = {"mean": float(np.mean(drawn)), "sigma": spread}
    for argument, value in centre.items():
        prior = population.parameters.get(argument)
        if isinstance(prior, Prior):
            values[prior] = _inside(prior, value)
    return values


def _drawn_support(population: HierarchicalFactor, prior: Prior) -> tuple[float, float]:
    """Where a drawn parameter can lie: its prior's limits inside the population's."""
    low, high = prior.support()
    limit_low, limit_high = _population_limits(population)
    return max(low, limit_low), min(high, limit_high)


def _likelihood_sd(factor: Any, prior: Prior, value: float) -> float:
    """Standard deviation of ``prior`` from the factor's likelihood alone, at ``value``.

    ``1 / sqrt(I)`` with ``I`` the curvature of the log-likelihood of noise-free data (the
    Fisher information) for an observation, or of the actual log-likelihood for a custom
    ``log_likelihood_function``; ``inf`` where the curvature is not negative, NaN on failure.
    """
    model, analysis = factor.prior_model, factor.analysis
    values = {p: p.median() for p in model.priors()}
    step = 1e-3 * max(abs(value), 1e-3)

    def instance(theta: float) -> Any:
        return model.instance_from({**values, prior: theta}, np)

    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if analysis.uses_observation():
                expected = np.asarray(analysis.observation(instance(value), np).model_data)

                def loglike(theta: float) -> float:
                    observation = copy.copy(analysis.observation(instance(theta), np))
                    observation.data = expected
                    return float(np.sum(observation.log_likelihood(np)))

            else:

                def loglike(theta: float) -> float:
                    return float(np.sum(call_log_likelihood(analysis, instance(theta), np)))

            centre = loglike(value)
            curvature = (loglike(value + step) - 2.0 * centre + loglike(value - step)) / step**2
    except Exception:  # any failure only means "no measurement"
        return math.nan
    if not math.isfinite(curvature):
        return math.nan
    return 1.0 / math.sqrt(-curvature) if curvature < 0 else math.inf


def _log_likelihood(factor: Any, prior: Prior, value: float) -> float:
    """The factor's log-likelihood (numpy) at its prior medians with ``prior`` at ``value``;
    NaN on failure."""
    values = {p: p.median() for p in factor.prior_model.priors()}
    values[prior] = value
    return factor_log_likelihood(factor, values)


def _inside(prior: Prior, value: float) -> float:
    """``value`` moved inside ``prior``'s support (by 1% of its range, or of the value's
    scale where the range is unbounded), so that its unconstrained image is finite."""
    low, high = prior.support()
    span = high - low if math.isfinite(high - low) else max(abs(value), 1.0)
    return float(min(max(value, low + 0.01 * span), high - 0.01 * span))


def _data_size(factor: Any) -> int:
    """Number of data points of a factor's dataset (1 when it cannot be told)."""
    data = getattr(factor.analysis, "data", None)
    try:
        return max(int(np.size(data)), 1) if data is not None else 1
    except Exception:
        return 1

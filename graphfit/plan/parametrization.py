"""How strongly the data pin a population's drawn parameters, measured on the data themselves.

A centred hierarchy (``x_k ~ Normal(mean, sigma)``) samples well when each dataset pins its
``x_k`` far tighter than the population's spread; when the data are weak against that spread it
has a funnel, and the non-centred form (``x_k = mean + sigma * z_k``) is the one that samples.
What matters is the spread the *posterior* gives the population, not its prior: eight schools'
population sigma has a prior median of 25 but a posterior whose lower tail reaches 0, where
every school's data are weak.

So for ``parametrization="auto"`` graphfit estimates both from the data before compiling:

1. **Each dataset's own estimate.**  For up to :data:`PROBED_DATASETS` datasets (evenly
   spaced), the drawn parameter and the dataset's other parameters are fitted to that dataset
   alone (its likelihood times the other parameters' priors; the drawn parameter flat inside its
   own prior's limits) with numpy: a scan of the drawn parameter across its range, then L-BFGS
   from the best two points of the scan.  The Laplace approximation at the best fit gives the
   estimate ``x_k`` and its standard deviation ``s_k``, marginal over the dataset's other
   parameters.
2. **The population's spread.**  With those normal approximations, the posterior of the spread
   (``sigma``; for a log-Gaussian population in log space; for a uniform one
   ``(upper - lower) / sqrt(12)``) is computed on a grid: the mean integrated out under a flat
   prior, ``p(sigma | x) ∝ p(sigma) V^(1/2) prod_k (s_k^2 + sigma^2)^(-1/2)
   exp(-(x_k - m)^2 / (2 (s_k^2 + sigma^2)))`` with ``m`` and ``V`` the precision-weighted mean
   and its variance (Gelman et al., *Bayesian Data Analysis*, 3rd ed., section 5.4), and
   ``p(sigma)`` the hyperprior's own density.
3. **The rule.**  ``ratio = median_k(s_k) / q10``, with ``q10`` the 10% quantile of that
   posterior: the lower tail is where a funnel forms.  Above
   :data:`~graphfit.spec.hierarchical.WEAK_DATA_RATIO` the
   population is non-centred, otherwise centred.

All of it evaluates the analyses' own numpy code; nothing is compiled.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from graphfit.spec.analysis import call_log_likelihood

__all__ = [
    "PROBED_DATASETS",
    "DatasetEstimate",
    "SpreadPosterior",
    "dataset_estimate",
    "factor_log_likelihood",
    "spread_posterior",
]

#: Datasets fitted on their own to measure the strength of the data (evenly spaced).
PROBED_DATASETS = 16
#: Points of the profile of the drawn parameter across its range ...
SCAN_POINTS = 20
#: ... and around its maximum.
REFINE_POINTS = 11
#: Above this many parameters a dataset's other parameters stay at their prior medians (the
#: profile is the likelihood along the drawn parameter alone).
MAX_JOINT_PARAMETERS = 12
#: Seconds the likelihood evaluations of one dataset's profile may take (judged from the
#: quickest of three); slower user code leaves the other parameters at their medians.
TIME_BUDGET = 1.0


def factor_log_likelihood(factor: Any, values: dict[Any, float]) -> float:
    """The factor's summed log-likelihood (numpy) with its priors at ``values``; NaN on failure."""
    model, analysis = factor.prior_model, factor.analysis
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            instance = model.instance_from(values, np)
            if analysis.uses_observation():
                return float(np.sum(analysis.observation(instance, np).log_likelihood(np)))
            return float(np.sum(call_log_likelihood(analysis, instance, np)))
    except Exception:  # user code failing here only means "no measurement"
        return math.nan


@dataclass(frozen=True)
class DatasetEstimate:
    """A drawn parameter fitted to its dataset alone.

    Attributes
    ----------
    value
        The best fit.
    sd
        Standard deviation of the Laplace approximation there, marginal over the dataset's
        other parameters (``inf`` when the likelihood is flat; NaN when it failed).
    """

    value: float
    sd: float


def _scale(prior: Any) -> float:
    """A typical width of a prior: its interquartile range (1 if it cannot be computed)."""
    with np.errstate(all="ignore"):
        width = float(prior.quantile(0.75) - prior.quantile(0.25))
    return width if math.isfinite(width) and width > 0 else 1.0


def _scan_range(prior: Any, support: tuple[float, float]) -> tuple[float, float]:
    """Where to look for the drawn parameter: its prior's 0.5% to 99.5% quantiles, inside
    ``support``."""
    with np.errstate(all="ignore"):
        low, high = (float(v) for v in prior.quantile([0.005, 0.995]))
    low, high = max(low, support[0]), min(high, support[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        centre = prior.median()
        low, high = centre - 10.0 * _scale(prior), centre + 10.0 * _scale(prior)
    return low, high


def dataset_estimate(
    factor: Any, prior: Any, support: tuple[float, float] | None = None
) -> DatasetEstimate:
    """Fit the drawn parameter ``prior`` to ``factor``'s dataset alone (see the module notes).

    The profile of the dataset's log density along the drawn parameter (its other parameters
    maximised at each point, with their priors) is computed on a grid across the parameter's
    range, refined around its maximum; the estimate and standard deviation are the mean and
    standard deviation of that profile taken as a density (log-linear between grid points).
    A faint signal's plateau (the likelihood barely falls away from the peak) thus widens the
    standard deviation as it widens the posterior, where a Laplace approximation at the peak
    would not.

    Parameters
    ----------
    factor
        The :class:`~graphfit.AnalysisFactor` whose likelihood holds ``prior``.
    prior
        The drawn parameter; its own prior only gives its range (``support``, by default the
        prior's limits).

    Returns
    -------
    DatasetEstimate

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.plan.parametrization import dataset_estimate
    >>> data, noise = gf.ex.simulate_gaussian_dataset(centre=40.0, normalization=25.0, seed=1)
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> estimate = dataset_estimate(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)),
    ...                             model.centre)
    >>> round(estimate.value), round(estimate.sd, 2)  # Fisher: 1 / sqrt(55.4) = 0.134
    (40, 0.13)
    """
    from scipy.optimize import minimize

    support = prior.support() if support is None else support
    priors = list(dict.fromkeys(factor.prior_model.priors()))
    others = [p for p in priors if p is not prior]
    medians = {p: p.median() for p in priors}
    low, high = _scan_range(prior, support)

    def log_density(theta: float, rest: np.ndarray | None) -> float:
        values = dict(medians)
        values[prior] = theta
        total = 0.0
        if rest is not None:
            for p, value in zip(others, rest, strict=True):
                values[p] = value
                total += float(p.logpdf(value))
        if not math.isfinite(total):
            return -math.inf
        total += factor_log_likelihood(factor, values)
        return total if math.isfinite(total) else -math.inf

    # The other parameters are profiled when that fits the time budget (about 60 evaluations
    # per grid point), else they stay at their prior medians.  The budget bounds slow user
    # code: the quickest of three evaluations of the dataset's likelihood is timed (the priors'
    # densities are graphfit's own, of bounded cost), and the budget is some 18 times what the
    # cookbook's Gaussian needs, so that a busy machine does not change the choice.
    start = dict(medians)
    start[prior] = prior.median() if low <= prior.median() <= high else 0.5 * (low + high)
    per_evaluation = math.inf
    for _ in range(3):
        clock = time.perf_counter()
        factor_log_likelihood(factor, start)
        per_evaluation = min(per_evaluation, time.perf_counter() - clock)
    free = others if others and len(priors) <= MAX_JOINT_PARAMETERS else []
    if free and per_evaluation * 60 * (SCAN_POINTS + REFINE_POINTS) > TIME_BUDGET:
        free = []
    widths = np.array([_scale(p) for p in free])
    centres = np.array([medians[p] for p in free])
    bounds = []
    for p, c, w in zip(free, centres, widths, strict=True):
        lo, hi = p.support()
        margin = 1e-9 * max(abs(lo) if math.isfinite(lo) else 1.0, 1.0)
        bounds.append(
            (
                (lo + margin - c) / w if math.isfinite(lo) else None,
                (hi - margin - c) / w if math.isfinite(hi) else None,
            )
        )

    def profile(theta: float, z0: np.ndarray | None) -> tuple[float, np.ndarray]:
        if not free:
            return log_density(theta, None), np.zeros(0)

        def negative(z: np.ndarray) -> float:
            value = log_density(theta, centres + widths * z)
            return -value if math.isfinite(value) else 1e300

        start = np.zeros(len(free)) if z0 is None else z0
        with np.errstate(all="ignore"):
            result = minimize(negative, start, method="SLSQP", bounds=bounds)
        best = -float(result.fun) if result.fun < 1e300 else -math.inf
        return best, result.x

    grid = list(np.linspace(low, high, SCAN_POINTS + 2)[1:-1])
    curve = [profile(float(t), None) for t in grid]
    heights = np.array([c[0] for c in curve])
    if not np.isfinite(heights).any():
        return DatasetEstimate(math.nan, math.nan)
    top = int(np.argmax(heights))
    # refine around the maximum: the peak of strong data is far narrower than the grid
    z_top = curve[top][1]

    def negative_all(v: np.ndarray) -> float:
        value = log_density(float(v[0]), centres + widths * v[1:] if free else None)
        return -value if math.isfinite(value) else 1e300

    step = (high - low) / (SCAN_POINTS + 1)
    theta_bounds = [(max(support[0], low - step), min(support[1], high + step))]
    with np.errstate(all="ignore"):
        polished = minimize(
            negative_all,
            np.concatenate([[grid[top]], z_top]),
            method="L-BFGS-B",
            bounds=theta_bounds + bounds,
        )
    peak = float(polished.x[0])
    local = _conditional_sd(lambda t: -negative_all(np.concatenate([[t], polished.x[1:]])), peak)
    width = min(local if math.isfinite(local) else step, step)
    fine = peak + width * np.linspace(-4.0, 4.0, REFINE_POINTS)
    fine = fine[(fine > theta_bounds[0][0]) & (fine < theta_bounds[0][1])]
    for t in fine:
        grid.append(float(t))
        curve.append(profile(float(t), polished.x[1:] if free else None))
    order = np.argsort(grid)
    thetas = np.asarray(grid)[order]
    heights = np.array([c[0] for c in curve])[order]
    mean, sd = _moments(thetas, heights)
    return DatasetEstimate(mean, sd)


def _conditional_sd(log_density: Any, theta: float) -> float:
    """``1 / sqrt(-d2 log_density / d theta2)`` at ``theta`` (central differences); ``inf``
    where the curvature is not negative, NaN where it cannot be computed."""
    step = 1e-4 * max(abs(theta), 1.0)
    values = [log_density(theta - step), log_density(theta), log_density(theta + step)]
    if not all(math.isfinite(v) for v in values):
        return math.nan
    curvature = (values[0] - 2.0 * values[1] + values[2]) / step**2
    return 1.0 / math.sqrt(-curvature) if curvature < 0 else math.inf


def _moments(thetas: np.ndarray, heights: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the density ``exp(heights)`` on the sorted grid
    ``thetas``, log-linear between grid points."""
    keep = np.isfinite(heights)
    thetas, heights = thetas[keep], heights[keep] - heights[keep].max()
    if len(thetas) < 2:
        return (float(thetas[0]) if len(thetas) else math.nan), math.nan
    a, b = heights[:-1], heights[1:]
    x0, dx = thetas[:-1], np.diff(thetas)
    slope = b - a
    small = np.abs(slope) < 1e-6
    safe = np.where(small, 1.0, slope)
    ea, eb = np.exp(a), np.exp(b)
    # integrals over each interval of exp(a + slope t), t*exp(...), t^2*exp(...) for t in [0, 1]
    m0 = np.where(small, 0.5 * (ea + eb), (eb - ea) / safe)
    m1 = np.where(small, 0.5 * eb, (eb - m0) / safe)
    m2 = np.where(small, 0.5 * eb, (eb - 2.0 * m1) / safe)
    mass = (m0 * dx).sum()
    if not mass > 0:
        return math.nan, math.nan
    first = ((x0 * m0 + dx * m1) * dx).sum() / mass
    second = ((x0**2 * m0 + 2.0 * x0 * dx * m1 + dx**2 * m2) * dx).sum() / mass
    return float(first), float(math.sqrt(max(second - first**2, 0.0)))


@dataclass(frozen=True)
class SpreadPosterior:
    """The posterior of a population's spread from its datasets' own estimates.

    Attributes
    ----------
    q10
        Its 10% quantile.
    median
        Its median.
    datasets
        Number of datasets that informed it.
    """

    q10: float
    median: float
    datasets: int


def spread_posterior(
    values: np.ndarray,
    sds: np.ndarray,
    log_prior: Any = None,
    support: tuple[float, float] = (0.0, math.inf),
) -> SpreadPosterior | None:
    """Posterior of a normal population's spread given each dataset's normal estimate.

    Parameters
    ----------
    values, sds
        Each dataset's estimate and its standard deviation (datasets with a non-finite
        estimate or standard deviation carry no information and are left out).
    log_prior
        The spread's log prior density (numpy, vectorised); ``None`` for a flat prior.
    support
        The spread's range.

    Returns
    -------
    SpreadPosterior or None
        ``None`` when fewer than two datasets inform it.

    Examples
    --------
    Eight schools (Rubin 1981): the posterior of tau under a flat prior reaches down to 0.

    >>> import numpy as np
    >>> from graphfit.plan.parametrization import spread_posterior
    >>> y = np.array([28, 8, -3, 7, -1, 1, 18, 12.0])
    >>> s = np.array([15, 10, 16, 11, 9, 11, 10, 18.0])
    >>> posterior = spread_posterior(y, s, support=(0.0, 50.0))
    >>> posterior.q10 < 2.0 < posterior.median < 10.0
    True
    """
    values, sds = np.asarray(values, float), np.asarray(sds, float)
    keep = np.isfinite(values) & np.isfinite(sds) & (sds > 0)
    values, sds = values[keep], sds[keep]
    if len(values) < 2:
        return None
    scale = max(float(np.std(values)), float(np.median(sds)), 1e-12)
    low = max(support[0], 1e-4 * scale)
    high = min(support[1], 50.0 * scale)
    if not low < high:
        return None
    tau = np.geomspace(low, high, 600)
    variance = sds[None, :] ** 2 + tau[:, None] ** 2
    weights = 1.0 / variance
    mean = (weights * values).sum(axis=1) / weights.sum(axis=1)
    log_post = (
        -0.5 * np.log(variance).sum(axis=1)
        - 0.5 * np.log(weights.sum(axis=1))
        - 0.5 * (weights * (values[None, :] - mean[:, None]) ** 2).sum(axis=1)
        + np.log(tau)  # the grid is uniform in log(tau)
    )
    if log_prior is not None:
        with np.errstate(all="ignore"):
            log_post = log_post + np.asarray(log_prior(tau), dtype=float)
    finite = np.isfinite(log_post)
    if not finite.any():
        return None
    density = np.where(finite, np.exp(log_post - log_post[finite].max()), 0.0)
    cdf = np.cumsum(density)
    cdf /= cdf[-1]
    q10, median = np.interp([0.1, 0.5], cdf, tau)
    return SpreadPosterior(float(q10), float(median), len(values))

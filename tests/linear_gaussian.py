"""A Gaussian-linear model with closed-form evidence, for the evidence and LOO tests.

Datasets ``y_d = a * x + b_d + noise`` (or a shared ``b``) with Gaussian priors on ``a`` and
``b`` and Gaussian noise: the marginal likelihood of all data is the multivariate normal density
of ``y`` with mean ``X mu`` and covariance ``Sigma_noise + X Sigma_prior X^T``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

import graphfit as gf

A_PRIOR = (1.0, 2.0)  # mean, sigma of the slope
B_PRIOR = (0.0, 3.0)  # mean, sigma of each intercept
NOISE = 0.3
X = np.linspace(0.0, 1.0, 12)


class Line:
    def __init__(self, slope: float, intercept: float) -> None:
        self.slope = slope
        self.intercept = intercept


class LineAnalysis(gf.Analysis):
    def __init__(self, y: np.ndarray) -> None:
        self.y = np.asarray(y, dtype=float)
        self.noise = np.full_like(self.y, NOISE)

    def observation(self, instance, xp=np):
        return gf.GaussianObservation(
            model_data=instance.slope * X + instance.intercept,
            data=self.y,
            noise_map=self.noise,
            dims=("x",),
        )


def simulate(intercepts: list[float], slope: float = 2.0, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [slope * X + b + rng.normal(0.0, NOISE, X.size) for b in intercepts]


def graph(ys: list[np.ndarray], shared_intercept: bool) -> gf.FactorGraphModel:
    """Datasets sharing the slope, and the intercept too when ``shared_intercept``."""
    slope = gf.GaussianPrior(*A_PRIOR)
    intercept = gf.GaussianPrior(*B_PRIOR)
    factors = []
    for y in ys:
        model = gf.Model(Line)
        model.slope = slope
        model.intercept = intercept if shared_intercept else gf.GaussianPrior(*B_PRIOR)
        factors.append(gf.AnalysisFactor(model, LineAnalysis(y)))
    return gf.FactorGraphModel(*factors)


def log_evidence(ys: list[np.ndarray], shared_intercept: bool) -> float:
    """Closed-form log marginal likelihood of the datasets ``ys``."""
    n_b = 1 if shared_intercept else len(ys)
    rows = []
    for k, _ in enumerate(ys):
        block = np.zeros((X.size, 1 + n_b))
        block[:, 0] = X
        block[:, 1 + (0 if shared_intercept else k)] = 1.0
        rows.append(block)
    design = np.vstack(rows)
    mean = np.array([A_PRIOR[0]] + [B_PRIOR[0]] * n_b)
    prior_cov = np.diag([A_PRIOR[1] ** 2] + [B_PRIOR[1] ** 2] * n_b)
    cov = NOISE**2 * np.eye(design.shape[0]) + design @ prior_cov @ design.T
    return float(stats.multivariate_normal(design @ mean, cov).logpdf(np.concatenate(ys)))

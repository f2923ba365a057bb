"""Grid marginalisation of a hierarchical factor's drawn parameters.

When every dataset constrains its drawn parameter weakly, the parameter's likelihood can have
several separated modes (a faint peak's centre may sit on the real peak or on a noise bump),
and no parametrisation lets a gradient sampler move between them.  A population with
``parametrization="marginalized"`` (chosen by ``"auto"`` where it pays, see
:mod:`graphfit.spec.hierarchical`) avoids sampling those parameters at all: each one is integrated
out over a grid of cells, the sampler sees only the hyperparameters (and the other
parameters), and the drawn parameters are drawn afterwards, draw by draw, from their exact
conditional distribution on the grid.

For drawn parameter ``theta_k`` of dataset ``k`` with likelihood ``L_k`` and population density
``p(theta | h)`` (``h`` the hyperparameters) the compiled model adds, per dataset::

    log sum_c  L_k(t_c) * P(theta in cell c | h)

The cells are the grid's ``G`` intervals between ``edges[0] < ... < edges[G]`` plus the two
tails ``(-inf, edges[0]]`` and ``[edges[G], inf)``.  ``t_c`` is the cell's midpoint (the tails
use their finite edge), and the population's mass of each cell is exact (differences of its
cumulative distribution function, computed in log space).  So the integral is exact for a
likelihood constant on each cell and its error is second order in the cell width, which is a
fifth of the likelihood's standard deviation (the population may be arbitrarily narrow: a
population inside one cell puts all its mass there).  Beyond the grid, which spans the drawn
parameters' own prior range, the likelihood is taken as flat at its edge value: exact for a
profile centred outside the data, an approximation otherwise, weighted by the population's mass
there.

Afterwards, for every posterior draw of the hyperparameters, each ``theta_k`` is drawn: a cell
with probability proportional to its term above, then a value inside the cell from the
population restricted to it (inverse cumulative distribution function).  The posterior then
holds the drawn parameters exactly as a centred fit would, and the log-likelihood, the
deterministics and the per-dataset split are computed from the centred model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack

if TYPE_CHECKING:
    import arviz as az

    from graphfit.spec.priors import PopulationFamily, Prior

__all__ = [
    "MarginalGroup",
    "cell_bounds",
    "draw_in_cells",
    "draw_marginalized",
    "log_cell_terms",
]

_SQRT2 = float(np.sqrt(2.0))
_LOG_HALF = float(np.log(0.5))
_TINY = 1e-300


def _family(distribution: type[Prior]) -> PopulationFamily:
    """The population family of a population's ``distribution`` (a kind that has one)."""
    family = distribution.population_family
    assert family is not None, "HierarchicalFactor accepts only prior kinds with a family"
    return family


def _log_ndtr(z: Any) -> Any:
    """``log Phi(z)`` in PyTensor, stable for any finite ``z`` with finite gradients (each
    branch of the switch only sees inputs it handles, so no NaN leaks into the gradient)."""
    import pytensor.tensor as pt

    low = pt.lt(z, -1.0)
    z_low = pt.switch(low, z, -2.0)
    z_high = pt.switch(low, 0.0, z)
    return pt.switch(
        low,
        pt.log(pt.erfcx(-z_low / _SQRT2) / 2.0) - pt.sqr(z_low) / 2.0,
        pt.log1p(-pt.erfc(z_high / _SQRT2) / 2.0),
    )


def _log_ndtr_interval(za: Any, zb: Any) -> Any:
    """``log(Phi(zb) - Phi(za))`` for finite ``za <= zb``, stable in both tails (about
    ``-690`` for an empty interval)."""
    import pytensor.tensor as pt

    upper = pt.gt(za, 0.0)  # both above the mean: use the survival function
    lower = pt.lt(zb, 0.0)  # both below: use the cumulative function
    middle = ~(upper | lower)

    def one_side(near: Any, far: Any) -> Any:
        # log(0.5 * (erfc(near) - erfc(far))) for 0 <= near <= far, via erfcx
        gap = pt.erfcx(near) - pt.exp(pt.sqr(near) - pt.sqr(far)) * pt.erfcx(far)
        return _LOG_HALF - pt.sqr(near) + pt.log(pt.maximum(gap, _TINY))

    u_near = pt.switch(upper, za, 1.0) / _SQRT2
    u_far = pt.switch(upper, zb, 2.0) / _SQRT2
    l_near = pt.switch(lower, -zb, 1.0) / _SQRT2
    l_far = pt.switch(lower, -za, 2.0) / _SQRT2
    m_a = pt.switch(middle, za, -1.0) / _SQRT2
    m_b = pt.switch(middle, zb, 1.0) / _SQRT2
    mid = _LOG_HALF + pt.log(pt.maximum(pt.erf(m_b) - pt.erf(m_a), _TINY))
    return pt.switch(upper, one_side(u_near, u_far), pt.switch(lower, one_side(l_near, l_far), mid))


def _log_normal_mass(a: np.ndarray, b: np.ndarray, mean: Any, sigma: Any) -> Any:
    """``log P(a <= x <= b)`` for ``x ~ Normal(mean, sigma)``; ``a``, ``b`` numpy columns,
    each entry finite or an infinite tail."""
    import pytensor.tensor as pt

    if np.all(np.isneginf(a)):
        return _log_ndtr((b - mean) / sigma)
    if np.all(np.isposinf(b)):
        return _log_ndtr((mean - a) / sigma)
    return _log_ndtr_interval((a - mean) / sigma, (b - mean) / sigma) + pt.zeros(())


def _log_expm1_ratio(x: Any) -> Any:
    """``log(expm1(x) / x)``, stable for any ``x`` (0 at ``x = 0``)."""
    import pytensor.tensor as pt

    small = pt.lt(pt.abs(x), 1e-6)
    big = pt.gt(x, 30.0)
    x_mid = pt.switch(small | big, 1.0, x)
    x_big = pt.switch(big, x, 31.0)
    return pt.switch(
        small,
        x / 2.0,
        pt.switch(big, x_big - pt.log(x_big), pt.log(pt.expm1(x_mid) / x_mid)),
    )


def _row(value: Any) -> Any:
    """A scalar or a vector over the members as a ``(1, members)`` row."""
    import pytensor.tensor as pt

    return pt.atleast_1d(pt.as_tensor(value))[None, :]


def _space(distribution: type[Prior], values: np.ndarray) -> np.ndarray:
    """Values in the space where the population is Gaussian (log for a log-Gaussian one)."""

    if _family(distribution).log:
        with np.errstate(divide="ignore"):
            return np.log(np.maximum(values, 0.0))
    return values


def cell_bounds(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the ``len(edges) + 1`` cells (tails included).

    Examples
    --------
    >>> lower, upper = cell_bounds(np.array([0.0, 1.0]))
    >>> lower.tolist(), upper.tolist()
    ([-inf, 0.0, 1.0], [0.0, 1.0, inf])
    """
    edges = np.asarray(edges, dtype=float)
    return np.concatenate([[-np.inf], edges]), np.concatenate([edges, [np.inf]])


def log_cell_terms(
    distribution: type[Prior], args: dict[str, Any], edges: np.ndarray, loglike: Any
) -> Any:
    """``log`` of each cell's share of ``integral L(theta) p(theta | args) dtheta``.

    ``L`` is taken log-linear between the grid's edges (in log space for a log-Gaussian
    population) and flat beyond them; each term is then exact (closed form).  Returns a
    PyTensor matrix ``(cells, members)`` whose ``logsumexp`` over cells is the log of the
    integral.

    Parameters
    ----------
    distribution
        The population's prior class (``gf.GaussianPrior``, ``gf.TruncatedGaussianPrior``,
        ``gf.LogGaussianPrior`` or ``gf.UniformPrior``).
    args
        Its arguments as tensors or numbers, scalars or vectors over the drawn variables.
    edges
        The grid's ``G + 1`` increasing edges; there are ``G + 2`` cells, the tails first and
        last.
    loglike
        ``log L`` at the edges, a tensor ``(G + 1, members)``.

    Examples
    --------
    A flat likelihood gives the population's probability of each cell:

    >>> import numpy as np
    >>> import graphfit as gf
    >>> from graphfit.backend.marginal import log_cell_terms
    >>> terms = log_cell_terms(
    ...     gf.GaussianPrior, {"mean": 0.0, "sigma": 1.0}, np.array([-1.0, 1.0]), np.zeros((2, 1))
    ... )
    >>> np.round(np.exp(terms.eval()).ravel(), 4).tolist()
    [0.1587, 0.6827, 0.1587]
    """
    import pytensor.tensor as pt

    edges = np.asarray(edges, dtype=float)
    loglike = pt.as_tensor(loglike)
    y_l, y_r = loglike[:-1], loglike[1:]
    y_first, y_last = loglike[:1], loglike[-1:]
    if _family(distribution).shape == "uniform":
        low, high = _row(args["lower_limit"]), _row(args["upper_limit"])
        l0, r0 = edges[:-1, None], edges[1:, None]
        slope = (y_r - y_l) / (r0 - l0)
        l1, r1 = pt.maximum(l0, low), pt.minimum(r0, high)
        width = pt.maximum(r1 - l1, _TINY)
        inner = y_l + slope * (l1 - l0) + pt.log(width) + _log_expm1_ratio(slope * width)
        below = pt.log(pt.maximum(pt.minimum(edges[0], high) - low, _TINY)) + y_first
        above = pt.log(pt.maximum(high - pt.maximum(edges[-1], low), _TINY)) + y_last
        return pt.concatenate([below, inner, above], axis=0) - pt.log(high - low)
    mean, sigma = _row(args["mean"]), _row(args["sigma"])
    space = _space(distribution, edges)
    l0, r0 = space[:-1, None], space[1:, None]
    tail_low, tail_high = np.array([[-np.inf]]), np.array([[np.inf]])
    norm = 0.0
    if _family(distribution).truncated:
        lo, hi = float(args["lower_limit"]), float(args["upper_limit"])
        l1, r1 = np.clip(l0, lo, hi), np.clip(r0, lo, hi)
        tail_low, tail_high = np.array([[lo]]), np.array([[hi]])
        first, last = np.clip(space[:1, None], lo, hi), np.clip(space[-1:, None], lo, hi)
        norm = _log_normal_mass(np.array([[lo]]), np.array([[hi]]), mean, sigma)
    else:
        l1, r1 = l0, r0
        first, last = space[:1, None], space[-1:, None]
    slope = (y_r - y_l) / (r0 - l0)
    shifted = mean + slope * sigma**2
    inner = (
        y_l
        + slope * (mean - l0)
        + 0.5 * pt.sqr(slope * sigma)
        + _log_ndtr_interval((l1 - shifted) / sigma, (r1 - shifted) / sigma)
    )
    below = y_first + _log_normal_mass(tail_low, first, mean, sigma)
    above = y_last + _log_normal_mass(last, tail_high, mean, sigma)
    return pt.concatenate([below, inner, above], axis=0) - norm


def _gaussian_inverse(
    lower: np.ndarray, upper: np.ndarray, mean: np.ndarray, sigma: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Inverse-CDF draw of Normal(mean, sigma) restricted to [lower, upper], tail-stable."""
    from scipy.special import ndtr, ndtri

    za, zb = (lower - mean) / sigma, (upper - mean) / sigma
    above = za > 0  # work with survival probabilities there, which keep their precision
    with np.errstate(all="ignore"):
        pa = np.where(above, ndtr(-za), ndtr(za))
        pb = np.where(above, ndtr(-zb), ndtr(zb))
        p = pa + u * (pb - pa)
        z = np.where(above, -ndtri(p), ndtri(p))
        value = mean + sigma * z
    bad = ~np.isfinite(value) | (pa == pb)
    if np.any(bad):  # underflow: fall back to a uniform draw in the (finite) cell
        lo = np.where(np.isfinite(lower), lower, upper)
        hi = np.where(np.isfinite(upper), upper, lower)
        value = np.where(bad, lo + u * (hi - lo), value)
    return np.clip(value, lower, upper)


def _exponential_inverse(lower: np.ndarray, upper: np.ndarray, slope: np.ndarray, u: np.ndarray):
    """Inverse-CDF draw of a density proportional to ``exp(slope * x)`` on [lower, upper]."""
    width = np.maximum(upper - lower, 0.0)
    x = slope * width
    with np.errstate(all="ignore"):
        up = upper + np.log(u + (1.0 - u) * np.exp(-x)) / slope
        down = lower + np.log1p(u * np.expm1(x)) / slope
    value = np.where(np.abs(x) < 1e-9, lower + u * width, np.where(slope > 0, up, down))
    return np.clip(value, lower, upper)


def draw_in_cells(
    distribution: type[Prior],
    args: dict[str, np.ndarray],
    lower: np.ndarray,
    upper: np.ndarray,
    slope: np.ndarray,
    u: np.ndarray,
) -> np.ndarray:
    """Values from the population times ``exp(slope * x)`` restricted to cells ``[lower,
    upper]`` (numpy): the conditional distribution of a drawn parameter in its cell when its
    log-likelihood there is linear with that slope (in log space for a log-Gaussian one).

    ``args`` are the population's arguments broadcast to the shape of ``lower``; ``u`` are
    uniform numbers of that shape.

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> from graphfit.backend.marginal import draw_in_cells
    >>> x = draw_in_cells(
    ...     gf.GaussianPrior, {"mean": np.zeros(3), "sigma": np.ones(3)},
    ...     np.array([-np.inf, 0.0, 5.0]), np.array([-5.0, 1.0, np.inf]), np.zeros(3),
    ...     np.full(3, 0.5),
    ... )
    >>> bool(x[0] < -5.0 and 0.0 < x[1] < 1.0 and x[2] > 5.0)
    True
    """

    if _family(distribution).shape == "uniform":
        lo = np.maximum(lower, args["lower_limit"])
        hi = np.maximum(np.minimum(upper, args["upper_limit"]), lo)
        return _exponential_inverse(lo, hi, slope, u)
    mean, sigma = args["mean"], args["sigma"]
    shifted = mean + slope * sigma**2
    if _family(distribution).truncated:
        lo, hi = args["lower_limit"], args["upper_limit"]
        return _gaussian_inverse(np.clip(lower, lo, hi), np.clip(upper, lo, hi), shifted, sigma, u)
    if _family(distribution).log:
        return np.exp(
            _gaussian_inverse(_space(distribution, lower), np.log(upper), shifted, sigma, u)
        )
    return _gaussian_inverse(lower, upper, shifted, sigma, u)


@dataclass
class MarginalGroup:
    """One marginalised population's drawn parameters in the sampling model."""

    #: Name of the drawn parameters' variable in the centred model (e.g. ``centre``).
    name: str
    #: The population's distribution class.
    distribution: type[Prior]
    #: The grid's edges (``G + 1``).
    edges: np.ndarray
    #: Log of each cell's term, a tensor ``(G + 2, members)`` of the sampling model's variables.
    log_weights: Any
    #: The drawn parameters' log-likelihood at the edges, a tensor ``(G + 1, members)``.
    loglike: Any
    #: The population's arguments as tensors (scalars or vectors over the members).
    args: dict[str, Any] = field(default_factory=dict)
    #: Number of drawn parameters.
    size: int = 1
    #: Whether the centred model holds them as one vector over the ``dataset`` dim.
    vector: bool = True


def _posterior_function(model: Any, groups: list[MarginalGroup]) -> tuple[list[str], Any]:
    """A compiled function of a batch of draws of the free variables giving each group's log
    weights and arguments, batched over the leading axis."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.replace import vectorize_graph

    free = list(model.free_RVs)
    outputs = []
    for group in groups:
        outputs.extend([group.log_weights, group.loglike])
        for key in sorted(group.args):
            outputs.append(pt.broadcast_to(pt.as_tensor(group.args[key]), (group.size,)))
    batched = {rv: pt.tensor(dtype=rv.dtype, shape=(None, *rv.type.shape)) for rv in free}
    vectorized = vectorize_graph(outputs, replace=batched)
    function = pytensor.function([batched[rv] for rv in free], vectorized, on_unused_input="ignore")
    return [rv.name for rv in free], function


def draw_marginalized(
    idata: az.InferenceData,
    groups: list[MarginalGroup],
    sampling_model: Any,
    centred_model: Any,
    rng: np.random.Generator,
    cache: dict[Any, Any] | None = None,
    batch: int = 32,
) -> az.InferenceData:
    """Add the marginalised drawn parameters to ``idata.posterior``, one draw per posterior draw
    from their conditional distribution, then every deterministic of the centred model.

    Parameters
    ----------
    idata
        Draws of the sampling model (hyperparameters and the other free variables).
    groups
        The sampling model's marginalised populations.
    sampling_model, centred_model
        The model that was sampled and the centred model it marginalises.
    rng
        Random numbers for the draws.
    cache
        Where the compiled function is kept between calls.
    batch
        Posterior draws evaluated at once (memory grows with it).
    """
    import pymc as pm
    import xarray as xr

    key = ("marginal_draws",)
    entry = cache.get(key) if cache is not None else None
    if entry is None:
        entry = _posterior_function(sampling_model, groups)
        if cache is not None:
            cache[key] = entry
    names, function = entry
    posterior = stack.group(idata, "posterior")
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    flat = {
        n: np.asarray(posterior[n].values).reshape(chains * draws, *posterior[n].shape[2:])
        for n in names
    }
    total = chains * draws
    drawn = {group.name: np.empty((total, group.size)) for group in groups}
    for start in range(0, total, batch):
        stop = min(start + batch, total)
        outputs = function(*[flat[n][start:stop] for n in names])
        position = 0
        for group in groups:
            n = stop - start  # outputs that do not depend on the draws come unbatched
            cells = len(group.edges) + 1
            log_w = np.broadcast_to(outputs[position], (n, cells, group.size))
            loglike = np.broadcast_to(outputs[position + 1], (n, cells - 1, group.size))
            position += 2
            args = {}
            for arg_name in sorted(group.args):
                args[arg_name] = np.broadcast_to(outputs[position], (n, group.size))
                position += 1
            weights = np.exp(log_w - log_w.max(axis=1, keepdims=True))
            cumulative = np.cumsum(weights, axis=1)
            pick = rng.random((stop - start, 1, group.size)) * cumulative[:, -1:, :]
            cell = np.minimum((cumulative < pick).sum(axis=1), log_w.shape[1] - 1)
            lower, upper = cell_bounds(group.edges)
            space = _space(group.distribution, group.edges)
            slopes = np.zeros((stop - start, len(group.edges) + 1, group.size))
            slopes[:, 1:-1] = np.diff(loglike, axis=1) / np.diff(space)[None, :, None]
            slope = np.take_along_axis(slopes, cell[:, None, :], axis=1)[:, 0]
            values = draw_in_cells(
                group.distribution,
                args,
                lower[cell],
                upper[cell],
                slope,
                rng.random(cell.shape),
            )
            drawn[group.name][start:stop] = values
    dims_of = centred_model.named_vars_to_dims
    new = {}
    for group in groups:
        values = drawn[group.name].reshape(chains, draws, group.size)
        dims = ["chain", "draw", *dims_of.get(group.name, ())]
        if not group.vector:
            values = values[..., 0]
        coords = {d: posterior.coords[d] for d in ("chain", "draw")}
        for dim in dims[2:]:
            coords[dim] = np.asarray(centred_model.coords[dim])
        new[group.name] = xr.DataArray(values, dims=dims, coords=coords)
    posterior = xr.merge([posterior, xr.Dataset(new)], combine_attrs="override")
    deterministics = [v.name for v in centred_model.deterministics]
    if deterministics:
        missing = [n for n in deterministics if n not in posterior]
        if missing:
            extra = pm.compute_deterministics(
                posterior, var_names=missing, model=centred_model, progressbar=False
            )
            posterior = xr.merge([posterior, extra], combine_attrs="override")
    stack.set_group(idata, "posterior", posterior)
    return idata

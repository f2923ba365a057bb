"""Interpolation over a covariate: model instances, and whole posteriors.

Datasets taken at several values of a covariate (time, temperature, wavelength) and fitted one by
one give one set of parameters per value.  The interpolators estimate the parameters between
those values:

* :class:`LinearInterpolator` and :class:`SplineInterpolator` take model instances that each
  carry the covariate (e.g. instances of ``gf.Collection(gaussian=..., time=t)``) and return an
  instance of the same structure at a new covariate value:
  ``interpolator[interpolator.time == 1.5]``.
* :func:`~graphfit.interpolate` does the same for every posterior draw of a list of results, so the
  interpolated parameters come with credible intervals.

Covariate values must be strictly increasing (sorted, no duplicates).  Outside the fitted range
a query is an error unless ``extrapolate=True``, which extrapolates with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import InterpolationError
from graphfit.results.instance_tree import build_instance, instance_leaves, is_number

if TYPE_CHECKING:
    import arviz as az

__all__ = [
    "Covariate",
    "Interpolator",
    "LinearInterpolator",
    "Query",
    "SplineInterpolator",
    "interpolate",
]

METHODS = ("linear", "spline")


# -- numbers ------------------------------------------------------------------------------------


def check_covariate(
    values: Any, owner: str, field: str = "covariate", per: str = "result"
) -> np.ndarray:
    """``values`` as a float vector of at least 2 strictly increasing finite numbers, one per
    ``per`` (a result, an instance)."""
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InterpolationError(f"{owner}: {field} must be numbers, got {values!r}.") from None
    if x.ndim > 1:
        raise InterpolationError(
            f"{owner}: {field} must be one value per {per} (a 1-D sequence of numbers); got an "
            f"array of shape {x.shape}."
        )
    if x.ndim != 1 or x.size < 2:
        raise InterpolationError(
            f"{owner}: needs at least 2 {field} values in a 1D list, got {x.size} "
            f"(shape {x.shape})."
        )
    if not np.all(np.isfinite(x)):
        raise InterpolationError(f"{owner}: {field} has NaN or inf values: {x.tolist()}.")
    steps = np.diff(x)
    if np.any(steps == 0):
        k = int(np.argmax(steps == 0))
        raise InterpolationError(
            f"{owner}: {field} has the duplicate value {float(x[k])!r} at positions {k} and "
            f"{k + 1}; each covariate value may appear once (combine those datasets, or fit "
            "them jointly)."
        )
    if np.any(steps < 0):
        k = int(np.argmax(steps < 0))
        raise InterpolationError(
            f"{owner}: {field} must be strictly increasing, but {float(x[k + 1])!r} at "
            f"position {k + 1} follows {float(x[k])!r}; give the datasets in covariate order."
        )
    return x


def _check_at(at: Any, x: np.ndarray, extrapolate: bool, owner: str) -> np.ndarray:
    try:
        query = np.atleast_1d(np.asarray(at, dtype=float))
    except (TypeError, ValueError):
        raise InterpolationError(f"{owner}: at must be numbers, got {at!r}.") from None
    if query.ndim != 1 or not np.all(np.isfinite(query)):
        raise InterpolationError(
            f"{owner}: at must be a finite number or a 1D list of them, got {at!r}."
        )
    outside = query[(query < x[0]) | (query > x[-1])]
    if outside.size:
        where = f"{outside.tolist()} outside the fitted range [{x[0]:g}, {x[-1]:g}]"
        if not extrapolate:
            raise InterpolationError(
                f"{owner}: at = {where}; pass extrapolate=True to extrapolate (with a warning)."
            )
        warnings.warn(
            f"{owner}: extrapolating to {where}; extrapolated values rest on the end points "
            "only and can be far off.",
            UserWarning,
            stacklevel=3,
        )
    return query


def _interpolate(
    x: np.ndarray, y: np.ndarray, at: np.ndarray, method: str, fit: str = "piecewise"
) -> np.ndarray:
    """Values ``y`` (first axis along ``x``) at ``at``: shape ``(len(at), *y.shape[1:])``."""
    if method == "spline":
        from scipy.interpolate import CubicSpline

        return CubicSpline(x, y, axis=0, extrapolate=True)(at)
    if fit == "line":  # least-squares straight line through all points
        design = np.stack([x, np.ones_like(x)], axis=1)
        coefficients, *_ = np.linalg.lstsq(design, y.reshape(len(x), -1), rcond=None)
        out = np.stack([at, np.ones_like(at)], axis=1) @ coefficients
        return out.reshape((len(at), *y.shape[1:]))
    # piecewise linear between neighbouring points (end segments continued outside)
    k = np.clip(np.searchsorted(x, at, side="right") - 1, 0, len(x) - 2)
    weight = ((at - x[k]) / (x[k + 1] - x[k])).reshape((-1,) + (1,) * (y.ndim - 1))
    return (1.0 - weight) * y[k] + weight * y[k + 1]


# -- instances ----------------------------------------------------------------------------------


class Covariate:
    """``interpolator.<name>``: compare it with a value to make a query.

    Examples
    --------
    >>> from graphfit.results.interpolate import Covariate
    >>> Covariate("time") == 1.5
    Query(time == 1.5)
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, value: Any) -> Query:  # type: ignore[override]
        return Query(self.name, value)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Covariate({self.name!r})"


class Query:
    """A covariate name and the value to interpolate to (``interpolator.time == 1.5``).

    Examples
    --------
    >>> from graphfit.results.interpolate import Query
    >>> query = Query("time", 1.5)
    >>> query.name, query.value
    ('time', 1.5)
    """

    def __init__(self, name: str, value: Any) -> None:
        self.name, self.value = name, value

    def __repr__(self) -> str:
        return f"Query({self.name} == {self.value!r})"


class Interpolator:
    """Base class of :class:`LinearInterpolator` and :class:`SplineInterpolator`.

    Holds the instances, finds their numeric parameters, and answers queries
    ``interpolator[interpolator.<covariate> == value]``.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.interpolate import Interpolator
    >>> issubclass(gf.SplineInterpolator, Interpolator)
    True
    """

    method = "linear"

    def __init__(self, instances: Sequence[Any], *, extrapolate: bool = False) -> None:
        owner = type(self).__name__
        if isinstance(instances, str | bytes) or not isinstance(instances, Sequence):
            raise InterpolationError(
                f"{owner}: instances must be a list of model instances, got "
                f"{type(instances).__name__}."
            )
        if len(instances) < 2:
            raise InterpolationError(
                f"{owner}: needs at least 2 instances to interpolate between, got {len(instances)}."
            )
        self.instances = list(instances)
        self.extrapolate = bool(extrapolate)
        self._leaves = []
        for instance in self.instances:
            leaves: dict[tuple[str, ...], Any] = {}
            instance_leaves(instance, (), leaves)
            self._leaves.append(leaves)
        first = self._leaves[0]
        for k, leaves in enumerate(self._leaves[1:], start=1):
            if leaves.keys() != first.keys():
                raise InterpolationError(
                    f"{owner}: instance {k} has parameters {sorted('.'.join(p) for p in leaves)}"
                    f" but instance 0 has {sorted('.'.join(p) for p in first)}; all instances "
                    "must have the same structure."
                )

    def __getattr__(self, name: str) -> Covariate:
        if name.startswith("_"):
            raise AttributeError(name)
        leaves = self.__dict__.get("_leaves") or [{}]
        if (name,) not in leaves[0]:
            raise AttributeError(
                f"{type(self).__name__}: the instances have no top-level covariate {name!r}; "
                f"they have: {', '.join(p[0] for p in leaves[0] if len(p) == 1)}."
            )
        return Covariate(name)

    def _values(self, query: Query) -> tuple[np.ndarray, np.ndarray]:
        owner = type(self).__name__
        x = check_covariate(
            [leaves[(query.name,)] for leaves in self._leaves], owner, f"'{query.name}'", "instance"
        )
        at = _check_at(query.value, x, self.extrapolate, owner)
        if at.size != 1:
            raise InterpolationError(
                f"{owner}: a query takes one value, got {query.value!r}; use gf.interpolate "
                "for several."
            )
        return x, at

    def _fit(self) -> str:
        return "piecewise"

    def __getitem__(self, query: Query) -> Any:
        if not isinstance(query, Query):
            raise InterpolationError(
                f"{type(self).__name__}: index with a query such as "
                f"interpolator[interpolator.time == 1.5], got {query!r}."
            )
        x, at = self._values(query)
        values = {}
        for path, first in self._leaves[0].items():
            column = [leaves[path] for leaves in self._leaves]
            numeric = all(is_number(v) for v in column) or all(
                isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.number) for v in column
            )
            if not numeric:
                values[path] = first
                continue
            y = np.asarray(column, dtype=float)
            value = _interpolate(x, y, at, self.method, self._fit())[0]
            values[path] = float(value) if np.ndim(value) == 0 else value
        values[(query.name,)] = float(at[0])
        return build_instance(self.instances[0], (), values)


class LinearInterpolator(Interpolator):
    """Linear interpolation of model instances over a covariate.

    By default **piecewise linear**: at a query value between two neighbouring covariate values
    every numeric parameter is the straight line between those two instances' values.  With
    ``fit="line"`` it is instead one straight line fitted by least squares through all the
    instances (a global linear trend).

    Parameters
    ----------
    instances
        Model instances that each carry the covariate as a top-level number (e.g. instances of
        ``gf.Collection(gaussian=..., time=t)``), in strictly increasing covariate order.
    fit
        ``"piecewise"`` (the default) or ``"line"``.
    extrapolate
        Allow queries outside the covariate range (with a warning); otherwise they raise.

    Raises
    ------
    InterpolationError
        Fewer than 2 instances, instances of different structure, covariates not strictly
        increasing or duplicated, a query outside the range without ``extrapolate``.

    Examples
    --------
    >>> import graphfit as gf
    >>> instances = [
    ...     gf.Collection(gaussian=gf.Model(gf.ex.Gaussian, centre=c, normalization=50.0,
    ...                                     sigma=20.0), time=t).instance_from({})
    ...     for c, t in [(40.0, 0.0), (50.0, 1.0), (62.0, 2.0)]
    ... ]
    >>> interpolator = gf.LinearInterpolator(instances)
    >>> interpolator[interpolator.time == 1.5].gaussian
    Gaussian(centre=56.0, normalization=50.0, sigma=20.0)
    >>> line = gf.LinearInterpolator(instances, fit="line")
    >>> round(line[line.time == 1.5].gaussian.centre, 2)
    56.17
    """

    def __init__(
        self, instances: Sequence[Any], *, fit: str = "piecewise", extrapolate: bool = False
    ) -> None:
        if fit not in ("piecewise", "line"):
            raise InterpolationError(
                f"LinearInterpolator: fit must be 'piecewise' or 'line', got {fit!r}."
            )
        self.fit = fit
        super().__init__(instances, extrapolate=extrapolate)

    def _fit(self) -> str:
        return self.fit


class SplineInterpolator(Interpolator):
    """Cubic-spline interpolation of model instances over a covariate.

    Every numeric parameter follows a cubic spline through the instances' values
    (``scipy.interpolate.CubicSpline`` with not-a-knot end conditions: with 3 points, the
    parabola through them; with 2, the straight line).

    Parameters
    ----------
    instances
        Model instances that each carry the covariate as a top-level number, in strictly
        increasing covariate order.
    extrapolate
        Allow queries outside the covariate range (with a warning); otherwise they raise.

    Examples
    --------
    >>> import graphfit as gf
    >>> instances = [
    ...     gf.Collection(gaussian=gf.Model(gf.ex.Gaussian, centre=c, normalization=50.0,
    ...                                     sigma=20.0), time=t).instance_from({})
    ...     for c, t in [(40.0, 0.0), (50.0, 1.0), (62.0, 2.0)]
    ... ]
    >>> interpolator = gf.SplineInterpolator(instances)
    >>> round(interpolator[interpolator.time == 1.5].gaussian.centre, 2)
    55.75
    """

    method = "spline"


# -- posteriors ---------------------------------------------------------------------------------


def interpolate(
    result_list: Sequence[Any],
    covariate: Sequence[float] | str,
    at: float | Sequence[float],
    *,
    method: str = "linear",
    extrapolate: bool = False,
    var_names: Sequence[str] | None = None,
    dim: str = "covariate",
) -> az.InferenceData:
    """Interpolate every posterior draw of several fits to new covariate values.

    Draw ``(chain, draw)`` of every dataset's posterior is interpolated over the covariate, so
    the result is a posterior of the parameters at ``at`` and credible intervals come out of
    it (``az.hdi``, ``az.summary``).  For independent fits (:func:`graphfit.fit_each`) pairing
    draws by index samples the product of the independent posteriors; for a joint fit it keeps
    the joint posterior's correlations.

    Parameters
    ----------
    result_list
        A :class:`~graphfit.ResultList` or a list of
        :class:`~graphfit.Result`, one per covariate value.  Every fit needs the same
        number of chains and draws.
    covariate
        The covariate value of each result, strictly increasing; or the name of a fixed
        number every result's model carries (``"time"`` for ``gf.Collection(..., time=t)``).
    at
        Value(s) to interpolate to.
    method
        ``"linear"`` (piecewise linear between neighbouring values) or ``"spline"`` (cubic
        spline, as :class:`SplineInterpolator`).
    extrapolate
        Allow values of ``at`` outside the covariate range (with a warning); otherwise they
        raise :class:`~graphfit.exceptions.InterpolationError`.
    var_names
        Parameters to interpolate (default: every parameter of the first result's posterior).
    dim
        Name of the new dimension holding ``at``.

    Returns
    -------
    arviz.InferenceData
        Its ``posterior`` holds each parameter with dims ``(chain, draw, <dim>, ...)``.

    Raises
    ------
    InterpolationError
        Covariates not strictly increasing or duplicated, lengths that differ, a failed fit in
        the list, draws that differ in number, ``at`` outside the range without
        ``extrapolate``, an unknown method.

    Examples
    --------
    >>> import graphfit as gf
    >>> factors = [
    ...     gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), gf.ex.Analysis(
    ...         *gf.ex.simulate_gaussian_dataset(centre=c, seed=k)))
    ...     for k, c in enumerate([40.0, 50.0, 60.0])
    ... ]
    >>> fits = gf.fit_each(factors, gf.MAP(random_seed=1), progressbar=False)
    >>> posterior = gf.interpolate(fits, covariate=[0.0, 1.0, 2.0], at=[0.5, 1.5]).posterior
    >>> posterior["centre"].dims
    ('chain', 'draw', 'covariate')
    >>> [round(float(v)) for v in posterior["centre"].mean(("chain", "draw"))]
    [45, 55]
    """
    import xarray as xr

    owner = "interpolate"
    if method not in METHODS:
        raise InterpolationError(f"{owner}: method must be one of {METHODS}, got {method!r}.")
    results = list(result_list)
    if len(results) < 2:
        raise InterpolationError(
            f"{owner}: needs at least 2 results to interpolate between, got {len(results)}."
        )
    failed = [r.name for r in results if getattr(r, "failed", False)]
    if failed:
        raise InterpolationError(
            f"{owner}: the fits of {', '.join(failed)} failed; interpolate the others "
            "(result_list.succeeded) with their covariate values."
        )
    if isinstance(covariate, str):
        name = covariate
        # checked to be numbers on the next line
        covariate = [getattr(r.prior_model, name, None) for r in results]  # type: ignore[misc]
        if not all(is_number(v) for v in covariate):
            raise InterpolationError(
                f"{owner}: covariate={name!r} must name a fixed number of every result's "
                f"model (e.g. gf.Collection(..., {name}=1.0)); got {covariate}."
            )
    try:
        n_covariate = len(covariate)
    except TypeError:
        raise InterpolationError(
            f"{owner}: covariate must be a list of numbers, got {covariate!r}."
        ) from None
    shape: tuple[int, ...] = np.asarray(covariate, dtype=object).shape
    if len(shape) > 1:
        raise InterpolationError(
            f"{owner}: covariate must be one value per result (a 1-D sequence of "
            f"{len(results)} numbers); got an array of shape {shape}."
        )
    if n_covariate != len(results):
        raise InterpolationError(
            f"{owner}: got {len(results)} results but {n_covariate} covariate values; give "
            "one covariate value per result."
        )
    x = check_covariate(covariate, owner)
    query = _check_at(at, x, extrapolate, owner)
    posteriors = [stack.group(r.idata, "posterior") for r in results]
    names = list(var_names) if var_names is not None else list(posteriors[0].data_vars)
    shape = (posteriors[0].sizes["chain"], posteriors[0].sizes["draw"])
    for result, posterior in zip(results, posteriors, strict=True):
        here = (posterior.sizes["chain"], posterior.sizes["draw"])
        if here != shape:
            raise InterpolationError(
                f"{owner}: {result.name!r} has {here[0]} chains x {here[1]} draws but "
                f"{results[0].name!r} has {shape[0]} x {shape[1]}; fit every dataset with the "
                "same search settings."
            )
        missing = [n for n in names if n not in posterior]
        if missing:
            raise InterpolationError(
                f"{owner}: {result.name!r} has no parameter(s) {missing}; its parameters are "
                f"{list(posterior.data_vars)}."
            )
    arrays = {}
    for name in names:
        template = posteriors[0][name].transpose("chain", "draw", ...)
        y = np.stack([p[name].transpose("chain", "draw", ...).values for p in posteriors])
        values = _interpolate(x, y, query, method)  # (at, chain, draw, ...)
        values = np.moveaxis(values, 0, 2)
        dims = ("chain", "draw", dim, *template.dims[2:])
        coords = {d: template.coords[d] for d in template.dims if d in template.coords}
        arrays[name] = xr.DataArray(values, dims=dims, coords={**coords, dim: query})
    posterior = xr.Dataset(
        arrays, attrs={"interpolation": method, "covariate": [float(v) for v in x]}
    )
    return stack.make_idata(posterior=posterior)

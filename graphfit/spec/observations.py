"""Observations: how an analysis declares a real observed node of the PyMC model.

An :class:`~graphfit.Analysis` whose ``observation`` method returns one of these gets a
genuine PyMC likelihood node (``pm.Normal``, ``pm.Poisson`` or ``pm.StudentT`` with
``observed=data``), so PyMC itself provides the pointwise log-likelihood and posterior predictive
draws.  Every log-likelihood is the full one, normalisation terms included.

An observation separates what it holds into three kinds, which the compiler uses to stack alike
datasets into one node (see :mod:`graphfit.plan.batching`):

* :meth:`~graphfit.Observation.predicted`: quantities the likelihood takes from the model or
  the analysis (the model data, Student-t's ``nu``), tensors in the compiler.  Before datasets
  are stacked, these are computed for the batch and for each dataset alone with numpy and
  compared;
* :meth:`~graphfit.Observation.fixed`: per-point arrays of the dataset (a noise map), stacked
  along the dataset axis.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from graphfit.exceptions import DataError

__all__ = [
    "NOISE_FLOOR",
    "GaussianObservation",
    "Observation",
    "PoissonObservation",
    "StudentTObservation",
    "check_counts",
    "check_data",
    "check_noise_map",
    "real_array",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


#: What each non-numeric kind of numpy array holds, and how to turn it into real numbers.
_NOT_REAL = {
    "b": ("booleans", "use values.astype(float) if True and False stand for 1 and 0"),
    "c": (
        "complex numbers",
        "use the real part (values.real) or the magnitude (np.abs(values)); an imaginary part "
        "is never dropped silently",
    ),
    "U": ("text", "convert it with np.asarray(values, dtype=float)"),
    "S": ("bytes", "convert it with np.asarray(values, dtype=float)"),
}
#: Noise-map values below this times the data's largest ``|value|`` (or 1) make
#: ``((data - model) / noise_map) ** 2`` overflow for residuals of the data's size.
NOISE_FLOOR = 1e-100


def _first(bad: np.ndarray, array: np.ndarray) -> str:
    """``"<count> ... the first at index <i> (<value>)"`` of the ``bad`` entries of ``array``."""
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = index[0] if len(index) == 1 else index
    value = array[index]
    shown = repr(float(value)) if isinstance(value, numbers.Real) else repr(value)
    return f"the first at index {where} ({shown})"


def real_array(values: Any, *, field: str = "data", owner: str = "Analysis") -> np.ndarray:
    """``values`` as a float array, not copied when it is one, raising
    :class:`~graphfit.DataError` unless it holds real numbers (no ``None``, booleans, complex
    numbers or text).  NaN and inf pass: :func:`check_data` rejects them.

    Examples
    --------
    >>> import numpy as np
    >>> from graphfit.spec.observations import real_array
    >>> real_array([1, 2]).dtype
    dtype('float64')
    >>> try:
    ...     real_array(np.array([1.0 + 2.0j]), field="noise_map", owner="MyAnalysis")
    ... except ValueError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    MyAnalysis: noise_map holds complex numbers (dtype complex128); give real numbers: use ...
    """
    if values is None:
        raise DataError(f"{owner}: {field} is None; give an array of finite real numbers.")
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:  # e.g. rows of different lengths
        raise DataError(f"{owner}: {field} could not be read as numbers ({error}).") from None
    kind = array.dtype.kind
    if kind == "O":  # a sequence mixing numbers with something else
        bad = np.frompyfunc(
            lambda v: isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Real), 1, 1
        )(array).astype(bool)
        if bad.any():
            raise DataError(
                f"{owner}: {field} has {int(bad.sum())} value(s) that are not real numbers, "
                f"{_first(bad, array)}; give real numbers only (remove missing values from the "
                "data and the noise map alike)."
            )
    elif kind in _NOT_REAL:
        what, hint = _NOT_REAL[kind]
        raise DataError(
            f"{owner}: {field} holds {what} (dtype {array.dtype}); give real numbers: {hint}."
        )
    elif kind not in "iuf":
        raise DataError(f"{owner}: {field} holds values of dtype {array.dtype}; give real numbers.")
    return np.asarray(array, dtype=float)


def _check_finite(array: np.ndarray, field: str, owner: str, advice: str) -> None:
    if array.size == 0:
        raise DataError(f"{owner}: {field} is empty; give at least one value.")
    bad = ~np.isfinite(array)
    if bad.any():
        raise DataError(
            f"{owner}: {field} has {int(bad.sum())} NaN or inf value(s), {_first(bad, array)}; "
            f"{advice}"
        )


def check_data(
    data: Any, *, field: str = "data", owner: str = "Analysis", copy: bool = True
) -> np.ndarray:
    """Return ``data`` as a float array, raising :class:`~graphfit.DataError` on ``None``,
    booleans, complex numbers, text, NaN, inf or no values.

    The array is a copy (unless ``copy=False``), the analysis's own: changing the caller's
    array afterwards changes nothing.

    Examples
    --------
    >>> import numpy as np
    >>> from graphfit.spec.observations import check_data
    >>> values = np.array([1.0, 2.0])
    >>> checked = check_data(values)
    >>> values[0] = np.nan  # the caller's array, changed after the check
    >>> checked
    array([1., 2.])
    """
    array = real_array(data, field=field, owner=owner)
    advice = "all values must be finite. Mask or remove them."
    _check_finite(array, field, owner, advice)
    return array.copy() if copy else array


def check_noise_map(
    noise_map: Any,
    data: np.ndarray,
    *,
    field: str = "noise_map",
    owner: str = "Analysis",
    copy: bool = True,
) -> np.ndarray:
    """Check a noise map (standard deviations) against its data and return it as floats (a
    copy, unless ``copy=False``).

    Raises
    ------
    DataError
        On a value that is not a real number, a shape different from the data's, NaN or inf,
        a value ``<= 0``, or one so small (below :data:`NOISE_FLOOR` times the data's largest
        absolute value, or 1) that the squared residuals overflow.

    Examples
    --------
    >>> import numpy as np
    >>> from graphfit.spec.observations import check_noise_map
    >>> try:
    ...     check_noise_map([0.1, 1e-300], np.ones(2), owner="MyAnalysis")
    ... except ValueError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    MyAnalysis: noise_map has 1 value(s) too small to use, the first at index 1 (1e-300): ...
    """
    noise = real_array(noise_map, field=field, owner=owner)
    floor = (
        "set a noise floor, e.g. noise_map = np.fmax(noise_map, floor) with floor a small "
        "fraction of the typical noise (np.fmax also replaces NaN)"
    )
    _check_finite(
        noise,
        field,
        owner,
        "a noise map holds standard deviations, which must be finite and > 0: remove those "
        f"points from the data and the noise map alike, or {floor}.",
    )
    if noise.shape != data.shape:
        raise DataError(
            f"{owner}: data has shape {data.shape} but {field} has shape {noise.shape}; "
            "they must have the same shape (one noise value per data point)."
        )
    bad = noise <= 0.0
    if bad.any():
        raise DataError(
            f"{owner}: {field} has {int(bad.sum())} value(s) <= 0, {_first(bad, noise)}; a "
            f"noise map holds standard deviations, which must be > 0: {floor}."
        )
    scale = float(np.max(np.abs(data))) if data.size else 0.0
    bad = noise < NOISE_FLOOR * (scale if 0.0 < scale < np.inf else 1.0)
    if bad.any():
        raise DataError(
            f"{owner}: {field} has {int(bad.sum())} value(s) too small to use, "
            f"{_first(bad, noise)}: ((data - model) / {field})**2 overflows to inf, so the "
            f"log-likelihood is -inf for every parameter value: {floor}."
        )
    return noise.copy() if copy else noise


def check_counts(data: Any, *, field: str = "data", owner: str = "Analysis") -> np.ndarray:
    """Return event counts as an integer array, raising :class:`~graphfit.DataError` unless every
    value is a non-negative integer (``3.0`` is accepted, ``2.5``, ``-1`` and ``True`` are not).

    Examples
    --------
    >>> from graphfit.spec.observations import check_counts
    >>> check_counts([0, 3.0, 7])
    array([0, 3, 7])
    >>> try:
    ...     check_counts([1, -2, 4], field="counts", owner="MyAnalysis")
    ... except ValueError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    MyAnalysis: counts has 1 negative value(s), the first at index 1 (-2.0); counts must be ...
    """
    array = check_data(data, field=field, owner=owner)
    for bad, what in ((array < 0, "negative"), (array != np.round(array), "non-integer")):
        if bad.any():
            raise DataError(
                f"{owner}: {field} has {int(bad.sum())} {what} value(s), {_first(bad, array)}; "
                "counts must be non-negative integers (0, 1, 2, ...)."
            )
    return array.astype(np.int64)


def _dims(dims: Any) -> tuple[str, ...] | None:
    return tuple(dims) if dims is not None else None


def _gammaln(value: Any, xp: Any) -> Any:
    """``log Gamma(value)`` with numpy (scipy) or with the PyTensor namespace."""
    if xp is np:
        from scipy.special import gammaln

        return gammaln(value)
    return xp.gammaln(value)


class Observation:
    """Base class of observed-node declarations.

    A subclass sets :attr:`distribution`, holds ``model_data``, ``data`` and ``dims``, and
    implements :meth:`log_likelihood` (numpy or PyTensor).  The backend
    (:mod:`graphfit.backend.observed`) creates ``pm.<distribution>`` from :meth:`predicted` and
    :meth:`fixed`: ``model_data`` is its ``mu``, ``noise_map`` its ``sigma``, other names pass
    as they are (``nu``).

    Examples
    --------
    >>> import graphfit as gf
    >>> issubclass(gf.GaussianObservation, gf.Observation)
    True
    >>> gf.GaussianObservation.distribution, gf.PoissonObservation.distribution
    ('Normal', 'Poisson')
    """

    #: Name of the PyMC distribution the compiler uses.
    distribution: str = ""
    model_data: Any
    data: np.ndarray
    dims: tuple[str, ...] | None

    def log_likelihood(self, xp: Any = np) -> Any:
        """Pointwise log-likelihood computed with namespace ``xp``."""
        raise NotImplementedError

    def predicted(self) -> dict[str, Any]:
        """Quantities taken from the model or the analysis, by name (tensors in the compiler)."""
        return {"model_data": self.model_data}

    def fixed(self) -> dict[str, np.ndarray]:
        """Per-point arrays of the dataset (same shape as ``data``), by name."""
        return {}


class GaussianObservation(Observation):
    """Data with independent Gaussian noise of known standard deviation (a noise map).

    ``log L = sum(-0.5 * ((data - model_data) / noise_map)**2 - log(noise_map) - 0.5 * log(2 pi))``

    Parameters
    ----------
    model_data
        The model's prediction of ``data`` (array or tensor of the same shape).
    data
        Observed values.
    noise_map
        Standard deviation of each value, ``> 0``.
    dims
        Optional names of the data's dimensions (e.g. ``("x",)``); default ``obs_dim_0``, ...

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> obs = gf.GaussianObservation(np.zeros(2), np.zeros(2), np.ones(2))
    >>> round(float(obs.log_likelihood().sum()), 4)
    -1.8379
    """

    distribution = "Normal"

    def __init__(
        self,
        model_data: Any,
        data: Any,
        noise_map: Any,
        dims: tuple[str, ...] | None = None,
    ) -> None:
        self.model_data = model_data
        self.data = check_data(data, owner="GaussianObservation", copy=False)
        self.noise_map = check_noise_map(
            noise_map, self.data, owner="GaussianObservation", copy=False
        )
        self.dims = _dims(dims)

    def log_likelihood(self, xp: Any = np) -> Any:
        residual = (self.model_data - self.data) / self.noise_map
        return -0.5 * residual**2 - np.log(self.noise_map) - 0.5 * _LOG_2PI

    def fixed(self) -> dict[str, np.ndarray]:
        return {"noise_map": self.noise_map}


class PoissonObservation(Observation):
    """Event counts: each value is Poisson distributed with mean ``model_data``.

    ``log L = sum(data * log(model_data) - model_data - log(data!))``

    The model data are the *expected counts* (e.g. a rate times an exposure, or a profile
    integrated over each bin) and must be ``> 0`` where data are ``> 0``.

    Parameters
    ----------
    model_data
        Expected counts, same shape as ``data`` (array or tensor).
    data
        Observed counts: non-negative integers (floats such as ``3.0`` are accepted).
    dims
        Optional names of the data's dimensions (e.g. ``("bin",)``).

    Raises
    ------
    DataError
        When a count is negative, not an integer, NaN or inf.

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> obs = gf.PoissonObservation(model_data=np.array([2.0, 2.0]), data=[0, 3], dims=("bin",))
    >>> obs.data
    array([0, 3])
    >>> round(float(obs.log_likelihood().sum()), 4)  # log(e^-2) + log(2^3 e^-2 / 3!)
    -3.7123
    >>> try:
    ...     gf.PoissonObservation(np.ones(2), [1.0, 2.5])
    ... except gf.DataError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    PoissonObservation: data has 1 non-integer value(s), the first at index 1 (2.5); ...
    """

    distribution = "Poisson"

    def __init__(self, model_data: Any, data: Any, dims: tuple[str, ...] | None = None) -> None:
        self.model_data = model_data
        self.data = check_counts(data, field="data", owner="PoissonObservation")
        self.dims = _dims(dims)

    def log_likelihood(self, xp: Any = np) -> Any:
        from scipy.special import gammaln

        log_factorial = gammaln(self.data + 1.0)
        if xp is np:
            from scipy.special import xlogy

            return xlogy(self.data, self.model_data) - self.model_data - log_factorial
        return self.data * xp.log(self.model_data) - self.model_data - log_factorial


class StudentTObservation(Observation):
    """Data with Student-t noise: a Gaussian-like core with heavy tails, robust to outliers.

    Each value is ``StudentT(nu, mu=model_data, sigma=noise_map)``:

    ``log L = sum(lgamma((nu+1)/2) - lgamma(nu/2) - 0.5*log(nu*pi) - log(noise_map)
    - (nu+1)/2 * log(1 + ((data - model_data)/noise_map)**2 / nu))``

    ``noise_map`` is the *scale* of the distribution; for ``nu > 2`` the standard deviation is
    ``noise_map * sqrt(nu / (nu - 2))``.  ``nu`` (the degrees of freedom) sets how heavy the tails
    are: small ``nu`` lets a few outliers sit far from the model without pulling it, and
    ``nu -> inf`` is the Gaussian.

    ``nu`` is either a fixed number (default 4: heavy tails, finite variance, a common robust
    choice) or a free parameter: make it a parameter of the fitted model with a prior (e.g. a
    ``gf.Collection`` component ``nu = gf.LogUniformPrior(1.0, 100.0)``) and pass
    ``instance.nu`` here.  A fitted ``nu`` is only constrained when the data hold outliers.

    Parameters
    ----------
    model_data
        The model's prediction of ``data`` (array or tensor of the same shape).
    data
        Observed values.
    noise_map
        Scale of each value, ``> 0``, same shape as ``data``.
    nu
        Degrees of freedom, ``> 0``: a number, or a value of the model instance.
    dims
        Optional names of the data's dimensions.

    Raises
    ------
    DataError
        On a noise map of another shape than the data, or a fixed ``nu <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> obs = gf.StudentTObservation(np.zeros(1), np.zeros(1), np.ones(1), nu=1.0)
    >>> round(float(obs.log_likelihood()[0]), 4)  # Cauchy density at 0 is 1/pi
    -1.1447
    """

    distribution = "StudentT"

    def __init__(
        self,
        model_data: Any,
        data: Any,
        noise_map: Any,
        nu: Any = 4.0,
        dims: tuple[str, ...] | None = None,
    ) -> None:
        self.model_data = model_data
        self.data = check_data(data, owner="StudentTObservation", copy=False)
        self.noise_map = check_noise_map(
            noise_map, self.data, owner="StudentTObservation", copy=False
        )
        if isinstance(nu, np.ndarray | np.generic) and np.ndim(nu) == 0:
            nu = nu.item()
        if isinstance(nu, bool) or (
            isinstance(nu, numbers.Complex) and not isinstance(nu, numbers.Real)
        ):
            raise DataError(
                f"StudentTObservation: nu = {nu!r} of type {type(nu).__name__}; the degrees of "
                "freedom must be a finite real number > 0 or a model parameter."
            )
        if isinstance(nu, numbers.Real):
            # typeshed's numbers.Real declares no `>`; a real number compares with 0
            if not (math.isfinite(nu) and nu > 0):  # type: ignore[operator]
                raise DataError(
                    f"StudentTObservation: nu = {nu!r}; the degrees of freedom must be a finite "
                    "number > 0 (or a model parameter with a prior on positive values)."
                )
            nu = float(nu)
        self.nu = nu
        self.dims = _dims(dims)

    def log_likelihood(self, xp: Any = np) -> Any:
        nu = self.nu
        residual = (self.data - self.model_data) / self.noise_map
        log_norm = (
            _gammaln((nu + 1.0) / 2.0, xp)
            - _gammaln(nu / 2.0, xp)
            - 0.5 * xp.log(nu * np.pi)
            - np.log(self.noise_map)
        )
        return log_norm - (nu + 1.0) / 2.0 * xp.log1p(residual**2 / nu)

    def predicted(self) -> dict[str, Any]:
        return {"model_data": self.model_data, "nu": self.nu}

    def fixed(self) -> dict[str, np.ndarray]:
        return {"noise_map": self.noise_map}

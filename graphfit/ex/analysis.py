"""The example analyses: a 1D profile with Gaussian or Student-t noise, a histogram of event
counts (Poisson) and a 2D image with Gaussian noise.

Each checks its arrays with :mod:`graphfit.spec.observations`'s checks, which copy them: an
analysis holds its own data, so changing the caller's array after building it changes nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphfit.exceptions import DataError
from graphfit.spec.analysis import Analysis as _AnalysisBase
from graphfit.spec.analysis import accepts_xp
from graphfit.spec.observations import (
    GaussianObservation,
    PoissonObservation,
    StudentTObservation,
    check_counts,
    check_data,
    check_noise_map,
)
from graphfit.spec.priors.base import check_number

__all__ = ["Analysis", "HistogramAnalysis", "ImagingAnalysis", "RobustAnalysis"]


def _profile(instance: Any, xvalues: np.ndarray, xp: Any) -> Any:
    """A component's ``model_data_from(xvalues)``, or the sum over a Collection's components."""
    if hasattr(instance, "model_data_from"):
        return _model_data(instance, xvalues, xp)
    total = 0.0
    for component in instance:
        if hasattr(component, "model_data_from"):
            total = total + _model_data(component, xvalues, xp)
    return total


def _model_data(component: Any, xvalues: np.ndarray, xp: Any) -> Any:
    """``component.model_data_from(xvalues, xp=xp)``, or without ``xp`` for a component written
    with numpy only (PyAutoFit's signature)."""
    method = component.model_data_from
    return method(xvalues, xp=xp) if accepts_xp(method) else method(xvalues)


def _xvalues(owner: str, xvalues: Any, size: int) -> np.ndarray:
    if xvalues is None:
        return np.arange(size, dtype=float)
    array = check_data(xvalues, field="xvalues", owner=owner)
    if array.shape != (size,):
        raise DataError(
            f"{owner}: data has shape ({size},) but xvalues has shape {array.shape}; give one "
            "x value per data point."
        )
    return array


class Analysis(_AnalysisBase):
    """Fit 1D data with Gaussian noise by a component or the sum of a Collection's components.

    The x values are ``arange(len(data))`` unless ``xvalues`` are given.  The likelihood is a
    real PyMC ``Normal`` node with the noise map as its standard deviation (full Gaussian
    likelihood, normalisation included).

    Parameters
    ----------
    data
        1D array of measured values.
    noise_map
        1D array of their standard deviations, same length, all ``> 0``.
    xvalues
        Optional x value of each data point (any grid); default ``arange(len(data))``.
        The arrays are copied: changing the caller's arrays afterwards changes nothing here.

    Raises
    ------
    DataError
        On data, noise map or x values of different lengths, values that are not finite real
        numbers (``None``, booleans, complex numbers, text, NaN, inf), or noise ``<= 0`` (or
        too small to square, see :func:`~graphfit.spec.observations.check_noise_map`).

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> analysis = gf.ex.Analysis(data=data, noise_map=noise_map)
    >>> analysis.xvalues[:3]
    array([0., 1., 2.])
    """

    _owner = "ex.Analysis"

    def __init__(self, data: Any, noise_map: Any, xvalues: Any = None) -> None:
        owner = self._owner
        self.data = check_data(data, field="data", owner=owner)
        if self.data.ndim != 1:
            raise DataError(f"{owner}: data must be 1D, got shape {self.data.shape}.")
        self.noise_map = check_noise_map(noise_map, self.data, owner=owner)
        self.xvalues = _xvalues(owner, xvalues, self.data.shape[0])

    def model_data_from(self, instance: Any, xp: Any = np) -> Any:
        """The model's prediction of the data: a component's profile, or the sum over a
        Collection's components."""
        return _profile(instance, self.xvalues, xp)

    def coords(self) -> dict[str, Any]:
        """The observed points are labelled by their x values."""
        return {"x": self.xvalues}

    def vectorize_key(self) -> Any:
        """Analyses of data on the same x grid can be stacked."""
        return (type(self), self.data.shape, self.xvalues.tobytes())

    # RobustAnalysis, a subclass, returns a StudentTObservation
    def observation(self, instance: Any, xp: Any = np) -> GaussianObservation | StudentTObservation:
        return GaussianObservation(
            model_data=self.model_data_from(instance, xp),
            data=self.data,
            noise_map=self.noise_map,
            dims=("x",),
        )


class RobustAnalysis(Analysis):
    """Like :class:`Analysis`, but with Student-t noise: robust to a few outliers.

    The likelihood is a :class:`~graphfit.StudentTObservation` whose scale is the noise map.
    ``nu`` is a fixed number, or the string name of a parameter of the fitted
    :class:`~graphfit.Collection` (e.g. ``"nu"`` for a component ``nu=gf.LogUniformPrior(1, 100)``),
    in which case the degrees of freedom are fitted.

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> data[10] += 5.0  # an outlier
    >>> analysis = gf.ex.RobustAnalysis(data, noise_map, nu=3.0)
    >>> instance = gf.ex.Gaussian(centre=50.0, normalization=25.0, sigma=10.0)
    >>> analysis.observation(instance).distribution
    'StudentT'
    """

    _owner = "ex.RobustAnalysis"

    def __init__(
        self, data: Any, noise_map: Any, nu: float | str = 4.0, xvalues: Any = None
    ) -> None:
        super().__init__(data, noise_map, xvalues)
        if not isinstance(nu, str):
            StudentTObservation(self.data, self.data, self.noise_map, nu=nu)  # validates nu
        self.nu = nu

    def observation(self, instance: Any, xp: Any = np) -> StudentTObservation:
        nu = getattr(instance, self.nu) if isinstance(self.nu, str) else self.nu
        return StudentTObservation(
            model_data=self.model_data_from(instance, xp),
            data=self.data,
            noise_map=self.noise_map,
            nu=nu,
            dims=("x",),
        )


class HistogramAnalysis(_AnalysisBase):
    """A histogram of event counts, fitted with a Poisson likelihood.

    The expected count in a bin is the model's 1D profile at the bin centre times the bin width,
    so a component whose ``normalization`` is its area (like :class:`~graphfit.ex.Gaussian`)
    has ``normalization`` = the expected total number of events (for bins narrow compared with
    the profile's width).  An optional constant ``background`` adds expected counts per unit x.

    Parameters
    ----------
    counts
        Number of events in each bin: non-negative integers.
    bin_edges
        Increasing bin edges, one more than ``counts``.
    background
        Expected background events per unit x (``>= 0``), added to the model.

    Raises
    ------
    DataError
        On negative or non-integer counts, or bin edges of the wrong length or not increasing.

    Examples
    --------
    >>> import graphfit as gf
    >>> counts, bin_edges = gf.ex.simulate_histogram(gf.ex.Gaussian(50.0, 500.0, 8.0), seed=0)
    >>> analysis = gf.ex.HistogramAnalysis(counts, bin_edges)
    >>> analysis.bin_centres[:2], int(counts.sum()) > 400
    (array([1.25, 3.75]), True)
    >>> try:
    ...     gf.ex.HistogramAnalysis([3, -1], [0.0, 1.0, 2.0])
    ... except gf.DataError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    ex.HistogramAnalysis: counts has 1 negative value(s), the first at index 1 (-1.0); ...
    """

    def __init__(self, counts: Any, bin_edges: Any, background: float = 0.0) -> None:
        owner = "ex.HistogramAnalysis"
        self.counts = check_counts(counts, field="counts", owner=owner)
        if self.counts.ndim != 1:
            raise DataError(f"{owner}: counts must be 1D, got shape {self.counts.shape}.")
        edges = check_data(bin_edges, field="bin_edges", owner=owner)
        if edges.shape != (self.counts.size + 1,):
            raise DataError(
                f"{owner}: {self.counts.size} counts need {self.counts.size + 1} bin_edges, got "
                f"shape {edges.shape}."
            )
        if np.any(np.diff(edges) <= 0):
            raise DataError(f"{owner}: bin_edges must be strictly increasing.")
        background = check_number(owner, "background", background, error=DataError)
        if background < 0:
            raise DataError(f"{owner}: background = {background!r} must be a number >= 0.")
        self.bin_edges = edges
        self.bin_centres = 0.5 * (edges[1:] + edges[:-1])
        self.bin_widths = np.diff(edges)
        self.background = float(background)

    def model_data_from(self, instance: Any, xp: Any = np) -> Any:
        """Expected counts per bin."""
        expected = _profile(instance, self.bin_centres, xp) * self.bin_widths
        return expected + self.background * self.bin_widths if self.background else expected

    def coords(self) -> dict[str, Any]:
        """The bins are labelled by their centres."""
        return {"bin": self.bin_centres}

    def vectorize_key(self) -> Any:
        """Histograms with the same bins and background can be stacked."""
        return (type(self), self.bin_edges.tobytes(), self.background)

    def observation(self, instance: Any, xp: Any = np) -> PoissonObservation:
        return PoissonObservation(
            model_data=self.model_data_from(instance, xp), data=self.counts, dims=("bin",)
        )


class ImagingAnalysis(_AnalysisBase):
    """A 2D image with Gaussian noise, fitted by a 2D component (or a Collection's sum).

    Pixel ``[i, j]`` is at ``y = i * pixel_scale``, ``x = j * pixel_scale``; the model is
    ``component.image_from(x_grid, y_grid, xp)``.  The observed node has dims ``("y", "x")``.

    Parameters
    ----------
    data
        2D image.
    noise_map
        Standard deviation of each pixel, same shape, ``> 0``.
    pixel_scale
        Size of one pixel in the units of the component's coordinates.

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_image(gf.ex.Gaussian2D(20.0, 15.0, 100.0, 4.0), seed=0)
    >>> analysis = gf.ex.ImagingAnalysis(data, noise_map)
    >>> analysis.data.shape, analysis.x_grid.shape
    ((40, 40), (40, 40))
    """

    def __init__(self, data: Any, noise_map: Any, pixel_scale: float = 1.0) -> None:
        owner = "ex.ImagingAnalysis"
        self.data = check_data(data, field="data", owner=owner)
        if self.data.ndim != 2:
            raise DataError(f"{owner}: data must be a 2D image, got shape {self.data.shape}.")
        self.noise_map = check_noise_map(noise_map, self.data, owner=owner)
        pixel_scale = check_number(owner, "pixel_scale", pixel_scale, error=DataError)
        if pixel_scale <= 0:
            raise DataError(f"{owner}: pixel_scale = {pixel_scale!r} must be a number > 0.")
        self.pixel_scale = float(pixel_scale)
        ny, nx = self.data.shape
        self.y_grid, self.x_grid = np.meshgrid(
            np.arange(ny) * self.pixel_scale, np.arange(nx) * self.pixel_scale, indexing="ij"
        )

    def model_data_from(self, instance: Any, xp: Any = np) -> Any:
        """The model image."""
        if hasattr(instance, "image_from"):
            return instance.image_from(self.x_grid, self.y_grid, xp=xp)
        total = 0.0
        for component in instance:
            if hasattr(component, "image_from"):
                total = total + component.image_from(self.x_grid, self.y_grid, xp=xp)
        return total

    def coords(self) -> dict[str, Any]:
        """The pixels are labelled by their ``y`` and ``x`` positions."""
        return {"y": self.y_grid[:, 0], "x": self.x_grid[0]}

    def vectorize_key(self) -> Any:
        """Images of the same shape and pixel scale can be stacked."""
        return (type(self), self.data.shape, self.pixel_scale)

    def observation(self, instance: Any, xp: Any = np) -> GaussianObservation:
        return GaussianObservation(
            model_data=self.model_data_from(instance, xp),
            data=self.data,
            noise_map=self.noise_map,
            dims=("y", "x"),
        )

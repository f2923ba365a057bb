"""Seeded simulators of the example datasets: 1D profiles, histograms of counts, 2D images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from graphfit.ex.components import Gaussian

__all__ = [
    "simulate_dataset",
    "simulate_gaussian_dataset",
    "simulate_histogram",
    "simulate_image",
]


def simulate_dataset(
    components: Sequence[Any] | Any,
    *,
    size: int = 100,
    noise: float = 0.04,
    seed: int | None = None,
    xvalues: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate 1D data: the sum of ``components``' profiles plus Gaussian noise.

    Parameters
    ----------
    components
        One component instance, or a sequence of them, each with ``model_data_from``.
    size
        Number of pixels; x = ``arange(size)`` unless ``xvalues`` are given.
    noise
        Standard deviation of the noise in every pixel.
    seed
        Seed of the random generator (``numpy.random.default_rng``).
    xvalues
        Optional x grid (then ``size`` is ignored); pass the same grid to ``gf.ex.Analysis``.

    Returns
    -------
    data, noise_map
        Two float arrays of length ``size``.

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_dataset(gf.ex.Gaussian(50.0, 25.0, 10.0), seed=1)
    >>> data.shape, float(noise_map[0])
    ((100,), 0.04)
    """
    if not isinstance(components, Sequence):
        components = [components]
    if xvalues is None:
        xvalues = np.arange(size, dtype=float)
    xvalues = np.asarray(xvalues, dtype=float)
    size = xvalues.size
    signal = np.zeros(size)
    for component in components:
        signal = signal + component.model_data_from(xvalues, xp=np)
    rng = np.random.default_rng(seed)
    noise_map = np.full(size, float(noise))
    return signal + rng.normal(0.0, noise_map), noise_map


def simulate_gaussian_dataset(
    centre: float = 50.0,
    normalization: float = 25.0,
    sigma: float = 10.0,
    *,
    size: int = 100,
    noise: float = 0.04,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate one noisy 1D Gaussian (the cookbook's example data).

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(centre=40.0, seed=3)
    >>> int(data.argmax()) in range(35, 46)
    True
    """
    return simulate_dataset(
        Gaussian(centre=centre, normalization=normalization, sigma=sigma),
        size=size,
        noise=noise,
        seed=seed,
    )


def simulate_histogram(
    components: Sequence[Any] | Any,
    bin_edges: Any = None,
    *,
    background: float = 0.0,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate a histogram of event counts: Poisson draws around the expected counts.

    The expected count in a bin is the sum of the components' profiles at the bin centre times
    the bin width, plus ``background`` per unit x (as :class:`~graphfit.ex.HistogramAnalysis`
    models it).

    Parameters
    ----------
    components
        One 1D component instance, or a sequence of them.
    bin_edges
        Bin edges; default 41 edges from 0 to 100 (40 bins of width 2.5).
    background
        Expected background events per unit x.
    seed
        Seed of the random generator.

    Returns
    -------
    counts, bin_edges
        Integer counts per bin and the bin edges.

    Examples
    --------
    >>> import graphfit as gf
    >>> counts, edges = gf.ex.simulate_histogram(gf.ex.Gaussian(50.0, 1000.0, 10.0), seed=2)
    >>> counts.dtype.kind, counts.shape, edges.shape
    ('i', (40,), (41,))
    """
    if not isinstance(components, Sequence):
        components = [components]
    edges = np.linspace(0.0, 100.0, 41) if bin_edges is None else np.asarray(bin_edges, float)
    centres, widths = 0.5 * (edges[1:] + edges[:-1]), np.diff(edges)
    expected = background * widths
    for component in components:
        expected = expected + component.model_data_from(centres, xp=np) * widths
    counts = np.random.default_rng(seed).poisson(expected)
    return counts.astype(np.int64), edges


def simulate_image(
    components: Sequence[Any] | Any,
    *,
    shape: tuple[int, int] = (40, 40),
    noise: float = 0.05,
    pixel_scale: float = 1.0,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate a 2D image: the sum of components' ``image_from`` plus Gaussian noise.

    Pixel ``[i, j]`` is at ``y = i * pixel_scale``, ``x = j * pixel_scale``, as in
    :class:`~graphfit.ex.ImagingAnalysis`.

    Returns
    -------
    data, noise_map
        Two float arrays of ``shape``.

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_image(
    ...     gf.ex.Gaussian2D(20.0, 10.0, 50.0, 3.0), noise=0.01, seed=1
    ... )
    >>> data.shape, int(data.argmax() // 40), int(data.argmax() % 40)
    ((40, 40), 10, 20)
    """
    if not isinstance(components, Sequence):
        components = [components]
    ny, nx = shape
    y_grid, x_grid = np.meshgrid(
        np.arange(ny) * pixel_scale, np.arange(nx) * pixel_scale, indexing="ij"
    )
    image = np.zeros(shape)
    for component in components:
        image = image + component.image_from(x_grid, y_grid, xp=np)
    noise_map = np.full(shape, float(noise))
    return image + np.random.default_rng(seed).normal(0.0, noise_map), noise_map

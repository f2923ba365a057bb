"""A seeded simulator of the 1D example datasets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from graphfit.ex.components import Gaussian

__all__ = ["simulate_dataset", "simulate_gaussian_dataset"]


def simulate_dataset(
    components: Sequence[Any] | Any,
    *,
    size: int = 100,
    noise: float = 0.04,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate 1D data: the sum of ``components``' profiles plus Gaussian noise.

    Parameters
    ----------
    components
        One component instance, or a sequence of them, each with ``model_data_from``.
    size
        Number of pixels; x = ``arange(size)``.
    noise
        Standard deviation of the noise in every pixel.
    seed
        Seed of the random generator (``numpy.random.default_rng``).

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
    xvalues = np.arange(size, dtype=float)
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

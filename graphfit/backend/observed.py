"""Observed PyMC nodes of observations (:mod:`graphfit.spec.observations`).

An observation names its PyMC distribution (``Normal``, ``Poisson``, ``StudentT``) and gives its
arguments as :meth:`~graphfit.spec.observations.Observation.predicted` (tensors from the model)
and :meth:`~graphfit.spec.observations.Observation.fixed` (per-point arrays, stacked along the
dataset axis for a batched node).  ``model_data`` becomes the distribution's ``mu``,
``noise_map`` its ``sigma``; other names (Student-t's ``nu``) pass unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphfit.spec.observations import Observation

__all__ = ["ARGUMENT_NAMES", "DISTRIBUTIONS", "observed_node"]

#: The PyMC distributions an observation may name (``pm.<name>``).
DISTRIBUTIONS = ("Normal", "Poisson", "StudentT")
#: Observation field name -> PyMC argument name, where they differ.
ARGUMENT_NAMES = {"model_data": "mu", "noise_map": "sigma"}


def observed_node(
    observation: Observation,
    name: str,
    data: np.ndarray,
    fixed: dict[str, np.ndarray],
    dims: tuple[str, ...],
) -> Any:
    """Create the observed variable ``name`` of ``observation`` (inside a model context).

    ``data`` and ``fixed`` are the observation's own, or those of several datasets stacked on a
    leading axis, in which case the predicted quantities broadcast against them.

    Examples
    --------
    >>> import numpy as np
    >>> import pymc as pm
    >>> import graphfit as gf
    >>> observation = gf.GaussianObservation(np.zeros(3), np.ones(3), np.ones(3))
    >>> with pm.Model() as model:
    ...     node = observed_node(observation, "obs", observation.data, observation.fixed(), None)
    >>> model.observed_RVs
    [obs]
    """
    import pymc as pm  # import time: `import graphfit` loads numpy only

    arguments = {ARGUMENT_NAMES.get(k, k): v for k, v in observation.predicted().items()}
    arguments.update({ARGUMENT_NAMES.get(k, k): v for k, v in fixed.items()})
    return getattr(pm, observation.distribution)(name, observed=data, dims=dims, **arguments)

"""The :class:`Analysis` base class: how one dataset is compared with a model instance."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from graphfit.spec.observations import Observation

__all__ = ["Analysis"]


class Analysis:
    """Base class for the analysis of one dataset.

    A subclass does one of two things:

    * override :meth:`observation` to return an
      :class:`~graphfit.spec.observations.Observation` (model data, data and noise model).  The
      compiler then makes a real PyMC observed node, so PyMC provides the pointwise
      log-likelihood and posterior predictive draws.  :class:`graphfit.ex.Analysis` does this.
    * override :meth:`log_likelihood_function` to return a log-likelihood, a scalar or a
      pointwise array, written with the array namespace ``xp``.  The compiler adds it to the
      joint model as a potential and records it as the dataset's pointwise log-likelihood.

    If a subclass overrides ``log_likelihood_function`` below a class that defines
    ``observation``, its own log-likelihood is used.

    A likelihood written with numpy only (no ``xp``, no gradient) is accepted when the class
    sets ``black_box = True`` (see :class:`~graphfit.spec.black_box.BlackBoxAnalysis`).

    Examples
    --------
    >>> import numpy as np
    >>> import graphfit as gf
    >>> class LineAnalysis(gf.Analysis):
    ...     def __init__(self, x, y, noise):
    ...         self.x, self.y, self.noise = x, y, noise
    ...     def log_likelihood_function(self, instance, xp=np):
    ...         model_y = instance.slope * self.x + instance.intercept
    ...         return -0.5 * ((self.y - model_y) / self.noise) ** 2
    """

    #: True for a numpy-only likelihood without gradients (see ``BlackBoxAnalysis``).
    black_box: ClassVar[bool] = False

    def observation(self, instance: Any, xp: Any = np) -> Observation:
        """Declare the observed node of this dataset for a model ``instance``.

        ``instance`` holds tensors when the compiler calls this (``xp`` is then the PyTensor
        namespace) and floats when results call it (``xp`` is numpy).
        """
        raise NotImplementedError(
            f"{type(self).__name__} defines neither observation() nor log_likelihood_function(); "
            "override one of them."
        )

    def log_likelihood_function(self, instance: Any, xp: Any = np) -> Any:
        """Log-likelihood of the data for a model ``instance`` (scalar or pointwise array).

        The default evaluates :meth:`observation`'s full log-likelihood.
        """
        return self.observation(instance, xp).log_likelihood(xp)

    def vectorize_key(self) -> Any:
        """A hashable that is equal for analyses whose datasets can be stacked, else ``None``.

        Return a key (e.g. the class and the data shape) when :meth:`observation` depends on this
        analysis only through its data and noise map, so that the first analysis of a group can
        compute the model data of all of them from a batched instance.  graphfit checks the
        claim numerically before stacking.  The default, ``None``, never stacks.
        """
        return None

    @classmethod
    def uses_observation(cls) -> bool:
        """True when this class declares an observed node rather than a custom likelihood."""
        observation_owner = _definer(cls, "observation")
        likelihood_owner = _definer(cls, "log_likelihood_function")
        if observation_owner is Analysis:
            return False
        if likelihood_owner is Analysis:
            return True
        mro = cls.__mro__
        return mro.index(observation_owner) <= mro.index(likelihood_owner)


def _definer(cls: type, attribute: str) -> type:
    for klass in cls.__mro__:
        if attribute in klass.__dict__:
            return klass
    return object

"""Priors: the free parameters of a model.

A prior object *is* a parameter: using the same object in two places makes one shared parameter,
and every new prior object is a new parameter.  Priors hold numbers only.  Each prior kind is
one module here and declares everything the rest of graphfit needs of it (see
:mod:`graphfit.spec.priors.base`): the backend (:mod:`graphfit.backend.variables`) builds the
PyMC distribution it names.

==========================  ============================================================
graphfit                    PyMC distribution it compiles to
==========================  ============================================================
``UniformPrior``            ``pm.Uniform(lower, upper)``
``LogUniformPrior``         density proportional to ``1/x`` on ``[lower, upper]`` (sampled
                            as a uniform in ``log x``)
``GaussianPrior``           ``pm.Normal``, or ``pm.TruncatedNormal`` when a limit is finite
``TruncatedGaussianPrior``  ``pm.TruncatedNormal(mu, sigma, lower, upper)``
``LogGaussianPrior``        ``pm.LogNormal(mu=mean, sigma=sigma)``: ``log x ~ Normal``
==========================  ============================================================
"""

from graphfit.spec.priors.base import PopulationFamily, Prior, PyMCForm
from graphfit.spec.priors.gaussian import GaussianPrior, TruncatedGaussianPrior
from graphfit.spec.priors.log_gaussian import LogGaussianPrior
from graphfit.spec.priors.log_uniform import LogUniformPrior
from graphfit.spec.priors.uniform import UniformPrior

__all__ = [
    "GaussianPrior",
    "LogGaussianPrior",
    "LogUniformPrior",
    "PopulationFamily",
    "Prior",
    "PyMCForm",
    "TruncatedGaussianPrior",
    "UniformPrior",
]

"""graphfit: fit one model to many datasets at once, compiled to PyMC.

Users write ``import graphfit as gf``; everything a tutorial needs is reachable from ``gf``.
"""

from importlib.metadata import PackageNotFoundError, version

from graphfit import ex, math, util
from graphfit.analysis import Analysis
from graphfit.assertions import Assertion
from graphfit.diagnostics import ConvergenceWarning, Diagnostics
from graphfit.exceptions import (
    ConstraintError,
    DataError,
    FactorGraphError,
    GraphfitError,
    MissingPriorError,
    ModelAttributeError,
    PriorError,
    RelationError,
    SearchError,
)
from graphfit.factor_graph import AnalysisFactor, FactorGraphModel, GlobalPriorModel
from graphfit.hierarchical import HierarchicalFactor
from graphfit.model import Collection, CollectionInstance, Model
from graphfit.observations import (
    GaussianObservation,
    Observation,
    PoissonObservation,
    StudentTObservation,
)
from graphfit.priors import (
    GaussianPrior,
    LogGaussianPrior,
    LogUniformPrior,
    Prior,
    TruncatedGaussianPrior,
    UniformPrior,
)
from graphfit.relations import Relation
from graphfit.results import Result, ResultList
from graphfit.search import MAP, NUTS, Search

try:
    __version__ = version("graphfit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    # priors and relations
    "GaussianPrior",
    "LogGaussianPrior",
    "LogUniformPrior",
    "Prior",
    "Assertion",
    "Relation",
    "TruncatedGaussianPrior",
    "UniformPrior",
    "math",
    # models
    "Collection",
    "CollectionInstance",
    "Model",
    # analyses and observations
    "Analysis",
    "GaussianObservation",
    "Observation",
    "PoissonObservation",
    "StudentTObservation",
    # factor graphs
    "AnalysisFactor",
    "FactorGraphModel",
    "GlobalPriorModel",
    "HierarchicalFactor",
    # searches
    "MAP",
    "NUTS",
    "Search",
    # results and diagnostics
    "ConvergenceWarning",
    "Diagnostics",
    "Result",
    "ResultList",
    # errors
    "ConstraintError",
    "DataError",
    "FactorGraphError",
    "GraphfitError",
    "MissingPriorError",
    "ModelAttributeError",
    "PriorError",
    "RelationError",
    "SearchError",
    # helpers
    "__version__",
    "ex",
    "util",
]

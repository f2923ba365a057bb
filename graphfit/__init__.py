"""graphfit: fit one model to many datasets at once, compiled to PyMC.

Users write ``import graphfit as gf``; everything a tutorial needs is reachable from ``gf``.
"""

from importlib.metadata import PackageNotFoundError, version

from graphfit import ex, math, util
from graphfit.aggregator import Aggregator
from graphfit.analysis import Analysis
from graphfit.assertions import Assertion
from graphfit.black_box import BlackBoxAnalysis
from graphfit.comparison import Comparison, DatasetInfluenceWarning, compare
from graphfit.diagnostics import ConvergenceWarning, Diagnostics
from graphfit.evidence import LogEvidence
from graphfit.exceptions import (
    ComparisonError,
    ConstraintError,
    DataError,
    ExecutorError,
    FactorGraphError,
    GraphfitError,
    IndependentFitsError,
    InterpolationError,
    MissingPriorError,
    ModelAttributeError,
    PlotError,
    PredictiveError,
    PriorError,
    RelationError,
    ResultLoadError,
    SearchError,
)
from graphfit.factor_graph import AnalysisFactor, FactorGraphModel, GlobalPriorModel
from graphfit.hierarchical import HierarchicalFactor
from graphfit.independent_fits import fit_dataset, fit_each, warm_worker
from graphfit.independent_results import FailedResult, IndependentResultList
from graphfit.interpolate import LinearInterpolator, SplineInterpolator, interpolate
from graphfit.interrupts import FitInterrupted
from graphfit.loading import IncompleteResultWarning, LoadedResultList, load_result
from graphfit.model import Collection, CollectionInstance, Model
from graphfit.modes import MultimodalityWarning
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
from graphfit.search import MAP, NUTS, SMC, DynestyStatic, Search

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
    "BlackBoxAnalysis",
    "GaussianObservation",
    "Observation",
    "PoissonObservation",
    "StudentTObservation",
    # factor graphs
    "AnalysisFactor",
    "FactorGraphModel",
    "GlobalPriorModel",
    "HierarchicalFactor",
    # independent fits and interpolation
    "FailedResult",
    "FitInterrupted",
    "IndependentResultList",
    "LinearInterpolator",
    "SplineInterpolator",
    "fit_dataset",
    "fit_each",
    "warm_worker",
    "interpolate",
    # searches
    "MAP",
    "NUTS",
    "SMC",
    "DynestyStatic",
    "Search",
    # results and diagnostics
    "ConvergenceWarning",
    "MultimodalityWarning",
    "Diagnostics",
    "Result",
    "ResultList",
    # output folders
    "Aggregator",
    "IncompleteResultWarning",
    "LoadedResultList",
    "load_result",
    # model comparison and evidence
    "Comparison",
    "DatasetInfluenceWarning",
    "LogEvidence",
    "compare",
    # errors
    "ConstraintError",
    "ComparisonError",
    "DataError",
    "ExecutorError",
    "FactorGraphError",
    "GraphfitError",
    "IndependentFitsError",
    "InterpolationError",
    "MissingPriorError",
    "ModelAttributeError",
    "PlotError",
    "PredictiveError",
    "PriorError",
    "RelationError",
    "ResultLoadError",
    "SearchError",
    # helpers
    "__version__",
    "ex",
    "util",
]

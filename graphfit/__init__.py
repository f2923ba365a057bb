"""graphfit: fit one model to many datasets at once, compiled to PyMC.

Users write ``import graphfit as gf``; everything a tutorial needs is reachable from ``gf``.
"""

from graphfit import ex, math, util
from graphfit.backend.tracing import NumpyLikelihoodWarning
from graphfit.batch.fit_each import fit_each
from graphfit.batch.tasks import fit_dataset, warm_worker
from graphfit.exceptions import (
    ComparisonError,
    ConstraintError,
    DataError,
    ExecutorError,
    ExpectationPropagationError,
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
    ResumedFitWarning,
    SamplerFallbackWarning,
    SamplesError,
    SearchError,
    SearchKeywordError,
)
from graphfit.io.aggregator import Aggregator
from graphfit.io.loading import IncompleteResultWarning, LoadedResultList, load_result
from graphfit.results.comparison import Comparison, compare
from graphfit.results.diagnostics import ConvergenceWarning, Diagnostics
from graphfit.results.elpd import DatasetInfluenceWarning
from graphfit.results.evidence import LogEvidence
from graphfit.results.independent import FailedResult, IndependentResultList
from graphfit.results.interpolate import LinearInterpolator, SplineInterpolator, interpolate
from graphfit.results.model_plotter import ModelPlotter
from graphfit.results.result import Result
from graphfit.results.result_list import ResultList
from graphfit.results.samples import Samples
from graphfit.search import (
    MAP,
    NUTS,
    SMC,
    AutoCorrelationsSettings,
    DynestyStatic,
    Emcee,
    InitializerBall,
    InitializerPrior,
    Search,
)
from graphfit.search.interrupts import FitInterrupted
from graphfit.search.keywords import IgnoredKeywordWarning
from graphfit.search.modes import MultimodalityWarning
from graphfit.spec.analysis import Analysis
from graphfit.spec.array import Array
from graphfit.spec.black_box import BlackBoxAnalysis
from graphfit.spec.expectation_propagation import (
    EPAnalysisFactor,
    EPHistory,
    EPMeanField,
    EPOptimiser,
    LaplaceOptimiser,
)
from graphfit.spec.factor_graph import AnalysisFactor, FactorGraphModel, GlobalPriorModel
from graphfit.spec.hierarchical import HierarchicalFactor
from graphfit.spec.model import Collection, CollectionInstance, Model
from graphfit.spec.model_json import ModelInputError
from graphfit.spec.observations import (
    GaussianObservation,
    Observation,
    PoissonObservation,
    StudentTObservation,
)
from graphfit.spec.priors import (
    GaussianPrior,
    LogGaussianPrior,
    LogUniformPrior,
    PopulationFamily,
    Prior,
    PyMCForm,
    TruncatedGaussianPrior,
    UniformPrior,
)
from graphfit.spec.relations import Assertion, Relation

__version__ = util.package_version()

__all__ = [
    # priors and relations
    "GaussianPrior",
    "LogGaussianPrior",
    "LogUniformPrior",
    "Prior",
    "PyMCForm",
    "PopulationFamily",
    "Assertion",
    "Relation",
    "TruncatedGaussianPrior",
    "UniformPrior",
    "math",
    # models
    "Array",
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
    # PyAutoFit's expectation propagation: each raises ExpectationPropagationError
    "EPAnalysisFactor",
    "EPHistory",
    "EPMeanField",
    "EPOptimiser",
    "LaplaceOptimiser",
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
    "Emcee",
    "AutoCorrelationsSettings",
    "InitializerBall",
    "InitializerPrior",
    "Search",
    "IgnoredKeywordWarning",
    # results and diagnostics
    "ConvergenceWarning",
    "MultimodalityWarning",
    "NumpyLikelihoodWarning",
    "Diagnostics",
    "ModelPlotter",
    "Result",
    "ResultList",
    "Samples",
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
    "ExpectationPropagationError",
    "FactorGraphError",
    "GraphfitError",
    "IndependentFitsError",
    "InterpolationError",
    "MissingPriorError",
    "ModelAttributeError",
    "ModelInputError",
    "PlotError",
    "PredictiveError",
    "PriorError",
    "RelationError",
    "ResultLoadError",
    "ResumedFitWarning",
    "SamplerFallbackWarning",
    "SamplesError",
    "SearchError",
    "SearchKeywordError",
    # helpers
    "__version__",
    "ex",
    "util",
]

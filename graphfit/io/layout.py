"""The names inside an output folder (see :mod:`graphfit.io.output` for what each file holds)."""

__all__ = [
    "DATASETS",
    "DIAGNOSTICS",
    "ENV_VAR",
    "FORMAT_VERSION",
    "HDI_PROB",
    "JOINT",
    "MARKER",
    "METADATA",
    "SEARCH",
    "SUMMARY",
]

#: Version of the folder format; :func:`~graphfit.load_result` reads this version only.
FORMAT_VERSION = 1
#: Environment variable giving the output root when a search has no ``output_path``.
ENV_VAR = "GRAPHFIT_OUTPUT_PATH"
METADATA = "graphfit.json"
MARKER = "COMPLETED"
JOINT = "joint.nc"
DATASETS = "datasets"
SUMMARY = "summary.csv"
SEARCH = "search.json"
DIAGNOSTICS = "diagnostics.csv"
#: Probability mass of the highest-density intervals in summaries.
HDI_PROB = 0.94

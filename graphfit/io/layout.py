"""The names inside an output folder (see :mod:`graphfit.io.output` for what each file holds).

File names are fixed by this layout: a loader derives every path from it (never from a name
stored in a file), so a folder's files are always read from inside the folder.
"""

from graphfit.results.posterior_stats import HDI_PROB  # the summaries' interval, kept here too

__all__ = [
    "DATASETS",
    "DIAGNOSTICS",
    "ENV_VAR",
    "FILE_HASHES",
    "FORMAT_VERSION",
    "HDI_PROB",
    "JOINT",
    "MARKER",
    "METADATA",
    "METADATA_HASH",
    "MODEL_INFO",
    "MODEL_JSON",
    "PLOTS",
    "READ_FORMAT_VERSIONS",
    "SEARCH",
    "SPLIT",
    "SUMMARY",
    "dataset_file",
]

#: Version of the folder format that graphfit writes.  Version 3 folders hold one NetCDF file,
#: ``joint.nc`` (with each dataset's fit band), and in ``graphfit.json`` each dataset's split
#: entry (``split``), from which a dataset's view is built on load; version 2 folders also
#: hold a copy of each dataset's view in ``datasets/<k>.nc``.  Version 2 and 3 folders must
#: hold the SHA-256 hashes of their files and metadata (see :mod:`graphfit.io.verify`);
#: version 1 folders were written before the hashes existed and are read with the hash checks
#: skipped.
FORMAT_VERSION = 3
#: Folder format versions :func:`~graphfit.load_result` reads.
READ_FORMAT_VERSIONS = (1, 2, 3)
#: Environment variable giving the output root when a search has no ``output_path``.
ENV_VAR = "GRAPHFIT_OUTPUT_PATH"
METADATA = "graphfit.json"
MARKER = "COMPLETED"
JOINT = "joint.nc"
DATASETS = "datasets"
SUMMARY = "summary.csv"
SEARCH = "search.json"
MODEL_JSON = "model.json"
MODEL_INFO = "model.info"
#: The folder of the fit plots (PNG), written only when the search is given ``plots=True``.
PLOTS = "plots"
#: Key of the metadata holding each dataset's split entry (format version 3).
SPLIT = "split"
DIAGNOSTICS = "diagnostics.csv"
#: Key of the metadata holding the SHA-256 of each file the fit wrote, by relative path.
FILE_HASHES = "sha256"
#: Key of the metadata holding the SHA-256 of the metadata's other fields.
METADATA_HASH = "metadata_sha256"


def dataset_file(index: int) -> str:
    """The relative path of dataset ``index``'s NetCDF file (format versions 1 and 2).

    Examples
    --------
    >>> from graphfit.io.layout import dataset_file
    >>> dataset_file(1)
    'datasets/0001.nc'
    """
    return f"{DATASETS}/{index:04d}.nc"

"""Output folders: where a named fit is saved, how it is written, and resuming a finished one.

A search given ``name=`` writes its fit to ``<root>/<path_prefix>/<name>/<identifier>/``, the
root being the search's ``output_path``, else the ``GRAPHFIT_OUTPUT_PATH`` environment variable,
else ``./output``; the identifier is a hash of the model, the data and the search settings
(:mod:`graphfit.io.identifier`).  The folder holds:

==========================  ================================================================
``graphfit.json``           format version, name, identifier and hashes, dataset names and
                            files, timings, convergence figures and every parameter's
                            posterior median and 94% HDI (what :class:`~graphfit.Aggregator`
                            reads)
``model.info``              the model's ``info`` text
``model.json``              the canonical model description that was hashed
``search.json``             the search settings that were hashed
``joint.nc``                the joint ``InferenceData`` (NetCDF)
``datasets/<k>.nc``         each dataset's ``InferenceData`` (NetCDF), in dataset order
``summary.csv``             per dataset and parameter: mean, sd, median, 94% HDI, R-hat, ESS
``diagnostics.csv``         the convergence table (sampling searches only)
``plots/``                  fit plots, one PNG per dataset
``COMPLETED``               the completion marker, written last
==========================  ================================================================

``graphfit.json`` also holds the SHA-256 of every file above but the plots (``sha256``) and a
SHA-256 of its own other fields (``metadata_sha256``); loading and resuming check them (see
:mod:`graphfit.io.verify`).

Writes are atomic: everything goes to a hidden temporary folder next to the final one, the
marker is written last, and the temporary folder is renamed into place with ``os.replace``.  A
fit killed at any point leaves either no folder or a complete one; leftovers of killed writers
are removed by the next write of the same fit.  An interrupted fit (Ctrl-C) is never saved:
the search raises ``KeyboardInterrupt`` before saving (see :mod:`graphfit.search.interrupts`), and
an interrupt while saving removes the temporary folder.  A folder marked finished whose posterior
is incomplete (written by an older graphfit) is not loaded: :func:`resume` warns and the fit
runs again.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pathlib
import re
import shutil
import tempfile
import time
import warnings
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import ResultLoadError, ResumedFitWarning, SearchError
from graphfit.io.identifier import fit_identity
from graphfit.io.layout import (
    DATASETS,
    DIAGNOSTICS,
    ENV_VAR,
    FILE_HASHES,
    FORMAT_VERSION,
    HDI_PROB,
    JOINT,
    MARKER,
    METADATA,
    MODEL_INFO,
    MODEL_JSON,
    SEARCH,
    SUMMARY,
    dataset_file,
)
from graphfit.io.loading import (
    IncompleteResultWarning,
    _IncompleteResult,
    load_result,
    read_joint,
    read_metadata,
)
from graphfit.io.verify import file_hashes, seal, verify_file
from graphfit.results.posterior_stats import posterior_stats
from graphfit.util import package_version

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd

    from graphfit.results.result_list import ResultList
    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = [
    "check_label",
    "fit_folder",
    "is_complete",
    "output_root",
    "parameter_table",
    "resume",
    "save_result",
]

logger = logging.getLogger("graphfit")

_TMP = ".tmp-"


def output_root(output_path: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """The output root: ``output_path``, else ``$GRAPHFIT_OUTPUT_PATH``, else ``./output``.

    Examples
    --------
    >>> from graphfit.io.output import output_root
    >>> output_root("/data/fits").as_posix()
    '/data/fits'
    """
    if output_path is not None:
        return Path(output_path)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path("output")


def check_label(owner: str, field: str, value: Any) -> str | None:
    """Validate a search's ``name`` (one folder) or ``path_prefix`` (relative folders).

    Raises
    ------
    SearchError
        For a non-string, an empty string, an absolute path, ``.`` / ``..`` parts, parts starting
        with ``.`` (hidden, so never listed), control characters (NUL, newline, ...), or a ``/``
        in ``name``.

    Examples
    --------
    >>> from graphfit.io.output import check_label
    >>> check_label("NUTS", "path_prefix", "survey/night_1")
    'survey/night_1'
    >>> try:
    ...     check_label("NUTS", "name", "a/b")
    ... except ValueError as error:
    ...     print(error)
    NUTS: name must be one folder name without '/' or '\\', got 'a/b'.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SearchError(f"{owner}: {field} must be a non-empty string or None, got {value!r}.")
    if field == "name" and ("/" in value or "\\" in value):
        raise SearchError(
            f"{owner}: name must be one folder name without '/' or '\\', got {value!r}."
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise SearchError(
            f"{owner}: {field} must not contain control characters such as NUL or a newline "
            f"(it names folders), got {value!r}."
        )
    parts = PurePosixPath(value.replace("\\", "/")).parts
    if value.startswith(("/", "\\")) or any(p in (".", "..") or p.startswith(".") for p in parts):
        raise SearchError(
            f"{owner}: {field} must be a relative path whose parts do not start with '.', got "
            f"{value!r}."
        )
    return value


def fit_folder(search: Any, graph: FactorGraphModel) -> tuple[pathlib.Path, dict[str, Any]]:
    """The output folder of fitting ``graph`` with ``search`` (which has a ``name``), and the
    identity (:func:`~graphfit.io.identifier.fit_identity`) it was named from."""

    identity = fit_identity(graph, search)
    folder = output_root(getattr(search, "output_path", None))
    if search.path_prefix:
        folder = folder / search.path_prefix
    return folder / search.name / identity["identifier"], identity


def is_complete(folder: str | os.PathLike[str]) -> bool:
    """True when ``folder`` holds a finished fit (its completion marker exists).

    Examples
    --------
    >>> import tempfile
    >>> from graphfit.io.output import is_complete
    >>> is_complete(tempfile.mkdtemp())
    False
    """
    return (Path(folder) / MARKER).is_file()


def resume(folder: pathlib.Path, graph: FactorGraphModel) -> ResultList | None:
    """Load the finished fit in ``folder`` (saying so with a
    :class:`~graphfit.exceptions.ResumedFitWarning`), or ``None`` if unfinished.

    A folder marked finished whose posterior is incomplete (non-finite draws, or fewer
    chains or draws than its ``search.json`` asks for: a fit stopped early and saved by an
    older graphfit) is unfinished: an :class:`~graphfit.IncompleteResultWarning` says so, and
    the fit runs again and replaces it.

    Raises
    ------
    ResultLoadError
        For a folder that :func:`~graphfit.load_result` refuses, one saved for another
        identifier (the fit of other search settings, moved here), or a file that does not
        match its SHA-256 (every file is checked, each dataset's included).
    """
    if not is_complete(folder):
        return None
    metadata = read_metadata(folder)
    if metadata["identifier"] != folder.name:
        raise ResultLoadError(
            f"{str(folder)!r} holds the fit with identifier {metadata['identifier']!r}, not "
            f"{folder.name!r}: it was moved or copied here from another fit. Delete the folder "
            "to fit again."
        )
    for relative in (MODEL_JSON, SUMMARY, DIAGNOSTICS, MODEL_INFO):
        if (folder / relative).exists() or relative in metadata.get(FILE_HASHES, {}):
            verify_file(folder, relative, metadata)
    for k in range(len(metadata["datasets"])):
        verify_file(folder, dataset_file(k), metadata)
    try:
        result_list = load_result(folder, model=graph)
    except _IncompleteResult as error:
        warnings.warn(
            f"graphfit: not loading the saved fit: {error} Fitting again.",
            IncompleteResultWarning,
            stacklevel=3,
        )
        return None
    warnings.warn(  # a warning, not a log record: a notebook shows it
        f"graphfit: loaded the finished fit from {folder} instead of fitting again (same model, "
        "data and search settings). Delete that folder to fit again.",
        ResumedFitWarning,
        stacklevel=3,
    )
    result_list.resumed = True
    return result_list


# -- summaries ---------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def parameter_table(idata: az.InferenceData) -> pd.DataFrame:
    """Posterior summary of every posterior variable, one row per scalar element.

    Rows are labelled like the joint model's names: ``centre`` for a scalar and
    ``<dataset>.<variable>`` for an element of a per-dataset variable (``dataset_0.sigma``).
    Columns: ``variable``, ``dataset``, ``mean``, ``sd``, ``median``, ``hdi_3%``, ``hdi_97%``
    (94% highest-density interval), ``r_hat``, ``ess_bulk``, ``ess_tail`` (NaN when there are
    too few chains or draws to compute them).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from graphfit.backend import stack
    >>> from graphfit.io.output import parameter_table
    >>> rng = np.random.default_rng(0)
    >>> posterior = xr.Dataset(
    ...     {"c": (("chain", "draw"), rng.normal(size=(2, 100))),
    ...      "s": (("chain", "draw", "dataset"), rng.normal(size=(2, 100, 2)))},
    ...     coords={"dataset": ["a", "b"]},
    ... )
    >>> idata = stack.make_idata(posterior=posterior)
    >>> list(parameter_table(idata).index)
    ['c', 'a.s', 'b.s']
    """
    import pandas as pd

    posterior = stack.group(idata, "posterior")
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    mixed = chains > 1 and draws >= 4
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = stack.rhat(posterior) if mixed else None
        ess_bulk = stack.ess(posterior, "bulk") if mixed else None
        ess_tail = stack.ess(posterior, "tail") if mixed else None
    figures = posterior_stats(posterior, list(posterior.data_vars))
    rows: dict[str, dict[str, Any]] = {}
    for name, array in posterior.data_vars.items():
        dims = [d for d in array.dims if d not in ("chain", "draw")]
        shape = [array.sizes[d] for d in dims]
        own = figures[name]
        stats = {key: own[key].values for key in ("mean", "sd", "median")}
        # no interval from 2 draws or fewer: the median stands for both bounds
        stats["hdi_3%"] = (own["median"] if own["lower"] is None else own["lower"]).values
        stats["hdi_97%"] = (own["median"] if own["upper"] is None else own["upper"]).values
        for key, table in (("r_hat", rhat), ("ess_bulk", ess_bulk), ("ess_tail", ess_tail)):
            stats[key] = table[name].values if table is not None else np.full(shape, np.nan)
        for position in np.ndindex(*shape):
            labels = [str(array[d].values[k]) for d, k in zip(dims, position, strict=True)]
            dataset = None
            if not dims:
                label = str(name)
            elif dims == ["dataset"]:
                dataset = labels[0]
                label = f"{dataset}.{name}"
            else:
                label = f"{name}[{', '.join(labels)}]"
            row = {"variable": str(name), "dataset": dataset}
            row.update({k: float(np.asarray(v)[position]) for k, v in stats.items()})
            rows[label] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "parameter"
    return table


def dataset_summary(result_list: ResultList, joint: pd.DataFrame) -> pd.DataFrame:
    """Per-dataset summary: each dataset's parameters under its own names (``summary.csv``)."""
    import pandas as pd

    plan = result_list.compiled.plan
    frames = []
    for dataset, local_vars in zip(plan.names, plan.factor_vars, strict=True):
        labels, names = [], []
        for local, ref in local_vars:
            label = ref.name if ref.dataset is None else f"{ref.dataset}.{ref.name}"
            if label in joint.index:
                labels.append(label)
                names.append(local)
        frame = joint.loc[labels].drop(columns=["variable", "dataset"])
        frame.insert(0, "parameter", names)
        frame.insert(0, "dataset", dataset)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _summary_json(joint: pd.DataFrame, diagnostics: Any) -> dict[str, Any]:
    parameters = {
        label: {
            "median": _finite(row["median"]),
            "lower": _finite(row["hdi_3%"]),
            "upper": _finite(row["hdi_97%"]),
            "mean": _finite(row["mean"]),
            "sd": _finite(row["sd"]),
            "r_hat": _finite(row["r_hat"]),
            "ess_bulk": _finite(row["ess_bulk"]),
        }
        for label, row in joint.iterrows()
    }
    if diagnostics is None:
        figures = None
    else:
        figures = {
            "divergences": int(diagnostics.divergences),
            "problems": list(diagnostics.problems),
            "notes": list(diagnostics.notes),
            "max_r_hat": _finite(diagnostics.max_rhat),
            "min_ess_bulk": _finite(diagnostics.min_ess_bulk),
            "min_ess_tail": _finite(diagnostics.table["ess_tail"].min())
            if len(diagnostics.table)
            else None,
        }
    return {"hdi_prob": HDI_PROB, "parameters": parameters, "diagnostics": figures}


# -- writing -----------------------------------------------------------------------------------


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, allow_nan=False) + "\n", encoding="utf-8")


def _write_netcdf(idata: az.InferenceData, path: Path) -> None:
    stack.write_netcdf(idata, str(path))


def _write_plots(result_list: ResultList, folder: Path) -> None:
    """Write one fit plot per dataset into ``folder`` (the ``plots/`` subfolder).

    Datasets graphfit cannot draw (a custom likelihood without ``observation()``, data of
    three or more dimensions) are logged and skipped: a plot is never a reason to lose a fit.
    """
    result_list.save_plots(folder, skip_undrawable=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(parent: Path, identifier: str) -> None:
    """Remove temporary folders of this identifier left by writers that no longer run."""
    pattern = re.compile(rf"^\.{re.escape(identifier)}{re.escape(_TMP)}(\d+)-")
    for entry in parent.iterdir() if parent.is_dir() else ():
        match = pattern.match(entry.name)
        if match and entry.is_dir() and not _pid_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def _whole(folder: Path) -> bool:
    """True when the finished fit in ``folder`` holds a whole posterior (see
    :func:`graphfit.io.loading.incomplete_reason`); a damaged one, or one that fails its
    checks (:func:`graphfit.io.loading.read_joint`), is not."""
    try:
        read_joint(folder)
    except ResultLoadError:
        return False
    return True


def save_result(
    result_list: ResultList,
    folder: str | os.PathLike[str],
    *,
    search: Any,
    identity: dict[str, Any],
    single: bool = False,
) -> pathlib.Path:
    """Write ``result_list`` to ``folder`` atomically (see the module docstring) and return it.

    ``identity`` is :func:`~graphfit.io.identifier.fit_identity` of the fitted graph and search.
    """
    folder = Path(folder)
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(parent, folder.name)
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}{_TMP}{os.getpid()}-"))
    try:
        graph = result_list.graph
        (tmp / MODEL_INFO).write_text(graph.info, encoding="utf-8")
        _write_json(tmp / MODEL_JSON, identity["model"])
        _write_json(tmp / SEARCH, identity["search"])
        _write_netcdf(result_list.idata, tmp / JOINT)
        (tmp / DATASETS).mkdir()
        dataset_files = []
        for k, result in enumerate(result_list):
            relative = dataset_file(k)
            _write_netcdf(result.idata, tmp / relative)
            dataset_files.append(relative)
        joint = parameter_table(result_list.idata)
        dataset_summary(result_list, joint).to_csv(tmp / SUMMARY, index=False)
        diagnostics = result_list.diagnostics
        if diagnostics is not None:
            diagnostics.table.to_csv(tmp / DIAGNOSTICS, index_label="parameter")
        (tmp / "plots").mkdir()
        _write_plots(result_list, tmp / "plots")
        metadata = {
            "format": "graphfit-result",
            "format_version": FORMAT_VERSION,
            "graphfit_version": package_version(),
            "name": search.name,
            "path_prefix": search.path_prefix,
            "identifier": identity["identifier"],
            "model_hash": identity["model_hash"],
            "data_hash": identity["data_hash"],
            "search_hash": identity["search_hash"],
            "search": type(search).__name__,
            "single": bool(single),
            "datasets": list(result_list.names),
            "dataset_files": dataset_files,
            "loglike_names": list(result_list.compiled.loglike_names),
            "timings": {k: float(v) for k, v in result_list.timings.items()},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **_summary_json(joint, diagnostics),
            FILE_HASHES: file_hashes(
                tmp,
                [MODEL_INFO, MODEL_JSON, SEARCH, JOINT, *dataset_files, SUMMARY, DIAGNOSTICS],
            ),
        }
        _write_json(tmp / METADATA, seal(metadata))
        (tmp / MARKER).write_text(f"{identity['identifier']}\n", encoding="utf-8")
        if is_complete(folder) and _whole(folder):
            # another process finished the same fit first: keep it
            shutil.rmtree(tmp)
            return folder
        if folder.exists():  # an unfinished folder is never loaded: replace it
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder

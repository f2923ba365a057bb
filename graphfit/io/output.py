"""Output folders: where a named fit is saved, how it is written, and resuming a finished one.

A search given ``name=`` writes its fit to ``<root>/<path_prefix>/<name>/<identifier>/``, the
root being the search's ``output_path``, else the ``GRAPHFIT_OUTPUT_PATH`` environment variable,
else ``./output``; the identifier is a hash of the model, the data and the search settings
(:mod:`graphfit.io.identifier`).  The folder holds:

==========================  ================================================================
``graphfit.json``           format version, name, identifier and hashes, dataset names and
                            each one's split entry (how its view is selected from
                            ``joint.nc``), timings, convergence figures and every parameter's
                            posterior median and 94% HDI (what :class:`~graphfit.Aggregator`
                            reads)
``model.info``              the model's ``info`` text
``model.json``              the canonical model description that was hashed
``search.json``             the search settings that were hashed
``joint.nc``                the joint ``InferenceData`` (NetCDF), the only one: each
                            dataset's view is built from it on load; its observed data are
                            labelled by the analyses' coordinates, ``constant_data`` holds the
                            noise maps and ``fit_band`` each dataset's fit plot (median model
                            and 68% band), so a loaded fit redraws its plots
``summary.csv``             per dataset and parameter (own name and joint label): mean, sd,
                            median, 94% HDI, R-hat, ESS
``diagnostics.csv``         the convergence table (sampling searches only)
``plots/``                  fit plots, one PNG per dataset, only with ``plots=True``
``COMPLETED``               the completion marker, written last
==========================  ================================================================

Folders of format version 1 and 2 also hold ``datasets/<k>.nc``, a copy of each dataset's
view; they still load.  ``graphfit.json`` also holds the SHA-256 of every file above
(``sha256``) and a
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
import os
import pathlib
import re
import shutil
import tempfile
import time
import warnings
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from graphfit.backend import stack
from graphfit.exceptions import ResultLoadError, ResumedFitWarning, SearchError
from graphfit.io.identifier import fit_identity
from graphfit.io.layout import (
    DIAGNOSTICS,
    ENV_VAR,
    FILE_HASHES,
    FORMAT_VERSION,
    JOINT,
    MARKER,
    METADATA,
    MODEL_INFO,
    MODEL_JSON,
    PLOTS,
    SEARCH,
    SPLIT,
    SUMMARY,
)
from graphfit.io.loading import (
    IncompleteResultWarning,
    _IncompleteResult,
    load_result,
    read_joint,
    read_metadata,
)
from graphfit.io.summaries import dataset_summary, parameter_table
from graphfit.io.summaries import summary_json as _summary_json
from graphfit.io.verify import file_hashes, seal, verify_file
from graphfit.results.fit_band import band_group
from graphfit.results.split import FIT_BAND, split_entries
from graphfit.util import package_version

if TYPE_CHECKING:
    import arviz as az

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
    for relative in metadata.get("dataset_files", []):  # format versions 1 and 2
        verify_file(folder, relative, metadata)
    for relative in metadata.get(FILE_HASHES, {}):  # every file; joint.nc when it is read
        if relative != JOINT:
            verify_file(folder, relative, metadata)
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


# -- writing -----------------------------------------------------------------------------------


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, allow_nan=False) + "\n", encoding="utf-8")


def _write_netcdf(idata: az.InferenceData, path: Path) -> None:
    stack.write_netcdf(idata, str(path))


def _with_bands(result_list: ResultList) -> az.InferenceData:
    """The joint ``InferenceData`` as saved: with every dataset's fit band in its ``fit_band``
    group (:func:`graphfit.results.fit_band.band_group`), so a loaded fit redraws its plots
    without its model; ``result_list.idata`` itself is not changed."""
    band = band_group(result_list)
    idata = result_list.idata
    if band is None:
        return idata
    names = [name for name in stack.group_names(idata) if name != FIT_BAND]
    return stack.make_idata(**{name: stack.group(idata, name) for name in names}, fit_band=band)


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
        (tmp / MODEL_INFO).write_text(graph.info, encoding="utf-8")  # type: ignore[union-attr]
        _write_json(tmp / MODEL_JSON, identity["model"])
        _write_json(tmp / SEARCH, identity["search"])
        _write_netcdf(_with_bands(result_list), tmp / JOINT)
        joint = parameter_table(result_list.idata, result_list.names)
        dataset_summary(result_list, joint).to_csv(tmp / SUMMARY, index=False)
        diagnostics = result_list.diagnostics
        if diagnostics is not None:
            diagnostics.table.to_csv(tmp / DIAGNOSTICS, index_label="parameter")  # type: ignore[union-attr]
        plots = []
        if getattr(search, "plots", False):
            (tmp / PLOTS).mkdir()
            _write_plots(result_list, tmp / PLOTS)
            plots = sorted(f"{PLOTS}/{path.name}" for path in (tmp / PLOTS).iterdir())
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
            SPLIT: split_entries(result_list.require("compiled", "saving a fit")),
            "loglike_names": list(result_list.compiled.loglike_names),  # type: ignore[union-attr]
            "timings": {k: float(v) for k, v in result_list.timings.items()},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **_summary_json(joint, diagnostics),
            FILE_HASHES: file_hashes(
                tmp,
                [MODEL_INFO, MODEL_JSON, SEARCH, JOINT, SUMMARY, DIAGNOSTICS, *plots],
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

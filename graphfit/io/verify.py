"""Checks that make an output folder safe to read: it is data from outside, never trusted.

A result folder can be edited, damaged, copied together from several fits or crafted; before
graphfit reads it, these functions check it:

* **Paths.**  Every file is named by the folder layout (:mod:`graphfit.io.layout`), never by a
  name stored in a file: in a folder of format version 1 or 2, ``dataset_files`` in
  ``graphfit.json`` must be exactly ``datasets/0000.nc``, ``datasets/0001.nc``, ...
  (:func:`check_metadata`); a version 3 folder has one NetCDF file, ``joint.nc``, and each
  dataset's split entry (``split``, checked against its schema).  Every path in the folder
  must resolve inside it, so absolute paths, ``..`` and symlinks out are refused
  (:func:`inside`, :func:`check_paths`).
* **Metadata.**  ``graphfit.json`` is checked against a schema (each entry's JSON type, the
  identifier being the hash of its model, data and search hashes) and against
  ``metadata_sha256``, a SHA-256 of all its other fields written with it: an edited median,
  dataset name, label or file hash is detected without opening any NetCDF file, which keeps
  :class:`~graphfit.Aggregator` listings quick.
* **Files.**  ``graphfit.json`` holds the SHA-256 of every file the fit wrote (``sha256``, by
  relative path, the plots included); a file is hashed when it is read (resuming a fit hashes
  every file) and refused if it differs
  (:func:`verify_file`).  ``model.json`` and ``search.json`` are also checked against the model
  and search hashes the identifier is made of (:func:`check_description`).

Folders written before the hashes existed (format version 1, no ``sha256`` entry) pass the
schema and path checks and are read with the hash checks skipped; a folder of a later version
without its hashes is refused.  The hashes detect damage, edits and files copied
between fits; they are not a signature (someone who rewrites the hashes too is not detected).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from graphfit.exceptions import ResultLoadError
from graphfit.io.identifier import IDENTIFIER_LENGTH
from graphfit.io.layout import (
    DATASETS,
    DIAGNOSTICS,
    FILE_HASHES,
    JOINT,
    MARKER,
    METADATA,
    METADATA_HASH,
    MODEL_INFO,
    MODEL_JSON,
    PLOTS,
    SEARCH,
    SPLIT,
    SUMMARY,
    dataset_file,
)
from graphfit.plan.fingerprint import canonical_json, digest

__all__ = [
    "check_description",
    "check_metadata",
    "check_paths",
    "file_hashes",
    "file_sha256",
    "inside",
    "metadata_digest",
    "read_json",
    "seal",
    "verify_file",
]

_CHUNK = 1 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_HEX_ID = re.compile(rf"[0-9a-f]{{{IDENTIFIER_LENGTH}}}\Z")
#: The description files and the metadata hash each must match.
_DESCRIBED = {MODEL_JSON: "model_hash", SEARCH: "search_hash"}
_REFIT = "Delete the result folder and fit again."


# -- reading JSON -------------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def read_json(path: Path) -> Any:
    """Parse the JSON file ``path`` strictly (no ``NaN``, no infinite numbers).

    Raises
    ------
    ResultLoadError
        For a missing or unreadable file or text that is not strict JSON, naming the file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from graphfit.io.verify import read_json
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = path.write_text('{"median": NaN}')
    >>> read_json(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphfit.exceptions.ResultLoadError: '...a.json' is not valid JSON (NaN is not a JSON number).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultLoadError(f"{str(path)!r} is missing from the result folder.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ResultLoadError(f"{str(path)!r} could not be read ({error}).") from None
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as error:
        raise ResultLoadError(f"{str(path)!r} is not valid JSON ({error}).") from None


# -- paths --------------------------------------------------------------------------------------


def inside(folder: Path, relative: str) -> Path:
    """``folder / relative``, refused unless it resolves inside ``folder``.

    Raises
    ------
    ResultLoadError
        When the path (an absolute path, ``..`` parts, or a symlink on the way) leads out of
        the folder; the message names the entry and where it points.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from graphfit.io.verify import inside
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> inside(folder, "joint.nc") == folder / "joint.nc"
    True
    >>> inside(folder, "../other/joint.nc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphfit.exceptions.ResultLoadError: '...': '../other/joint.nc' resolves to '...', outside ...
    """
    path = folder / relative
    try:
        root, resolved = folder.resolve(), path.resolve()
    except (OSError, RuntimeError) as error:  # a symlink loop
        raise ResultLoadError(
            f"{str(folder)!r}: {relative!r} could not be resolved ({error})."
        ) from None
    if not resolved.is_relative_to(root):
        raise ResultLoadError(
            f"{str(folder)!r}: {relative!r} resolves to {str(resolved)!r}, outside the result "
            "folder (an absolute path, '..' or a symlink out); graphfit reads a result's files "
            "from inside its folder only."
        )
    return path


def check_paths(folder: Path, metadata: dict[str, Any]) -> None:
    """Refuse a folder any of whose paths leads outside it.

    Each file of the layout that exists (the dataset files of a version 1 or 2 folder
    included) and every other path in the folder (the plots, anything added) is resolved with
    :func:`inside`; a missing file is left to the reader of that file.
    """
    names = [METADATA, MARKER, JOINT, SEARCH, MODEL_JSON, MODEL_INFO, SUMMARY, DIAGNOSTICS]
    names += [PLOTS, DATASETS, *(dataset_file(k) for k in range(len(metadata["datasets"])))]
    for name in names:
        path = folder / name
        if path.is_symlink() or path.exists():
            inside(folder, name)
    for directory in (folder, folder / PLOTS, folder / DATASETS):
        if directory.is_dir() and not directory.is_symlink():
            for path in directory.iterdir():
                inside(folder, path.relative_to(folder).as_posix())


# -- hashes -------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of the file at ``path``, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def file_hashes(folder: Path, relatives: Iterable[str]) -> dict[str, str]:
    """The SHA-256 of each of ``relatives`` (paths in ``folder``) that exists, by path."""
    return {r: file_sha256(folder / r) for r in relatives if (folder / r).is_file()}


def metadata_digest(metadata: dict[str, Any]) -> str:
    """SHA-256 of the metadata's fields other than ``metadata_sha256``, as canonical JSON.

    Examples
    --------
    >>> from graphfit.io.verify import metadata_digest, seal
    >>> sealed = seal({"datasets": ["a"], "parameters": {"c": {"median": 1.5}}})
    >>> sealed["metadata_sha256"] == metadata_digest(sealed)
    True
    >>> sealed["parameters"]["c"]["median"] = 2.0
    >>> sealed["metadata_sha256"] == metadata_digest(sealed)
    False
    """
    return digest(canonical_json({k: v for k, v in metadata.items() if k != METADATA_HASH}))


def seal(metadata: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` as it will read back from JSON, with its ``metadata_sha256`` added."""
    plain = json.loads(json.dumps(metadata, allow_nan=False))
    plain[METADATA_HASH] = metadata_digest(plain)
    return plain


def verify_file(folder: Path, relative: str, metadata: dict[str, Any]) -> None:
    """Refuse the file ``relative`` of ``folder`` unless its SHA-256 is the one saved for it.

    Folders saved without hashes (by graphfit before they existed) are not checked.

    Raises
    ------
    ResultLoadError
        For a file whose hash differs (changed, damaged or copied from another fit) or that
        has no hash in a folder that has them, naming the file.
    """
    hashes = metadata.get(FILE_HASHES)
    if hashes is None:
        return
    path = inside(folder, relative)
    if not path.is_file():
        raise ResultLoadError(f"{str(path)!r} is missing from the result folder. {_REFIT}")
    expected = hashes.get(relative)
    if expected is None:
        raise ResultLoadError(
            f"{str(path)!r} has no SHA-256 in {METADATA}, which lists the files the fit wrote: "
            f"it was not written by this fit. {_REFIT}"
        )
    if file_sha256(path) != expected:
        raise ResultLoadError(
            f"{str(path)!r} does not match the SHA-256 saved for it in {METADATA}: the file was "
            f"changed, damaged or copied from another fit after this fit was saved. {_REFIT}"
        )


def check_description(folder: Path, relative: str, value: Any, metadata: dict[str, Any]) -> Any:
    """``value``, read from ``model.json`` or ``search.json``, if it is what the identifier was
    made from (its canonical hash is the metadata's ``model_hash`` or ``search_hash``) and the
    file's SHA-256 matches; else a :class:`~graphfit.ResultLoadError` naming the file."""
    key = _DESCRIBED[relative]
    if digest(canonical_json(value)) != metadata[key]:
        raise ResultLoadError(
            f"{str(folder / relative)!r} does not match the {key} in {METADATA} (part of the "
            f"fit's identifier): it was changed or copied from another fit. {_REFIT}"
        )
    verify_file(folder, relative, metadata)
    return value


# -- the metadata schema ------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _mapping(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, dict) and all(check(v) for v in value.values())


def _split_entry(entry: Any) -> bool:
    """Whether ``entry`` is a dataset's split entry (see :mod:`graphfit.results.split`)."""
    if not isinstance(entry, dict) or set(entry) != {"vars", "node", "dims", "select"}:
        return False
    names = _mapping(lambda v: isinstance(v, str))
    return (
        isinstance(entry["node"], str)
        and names(entry["dims"])
        and names(entry["select"])
        and isinstance(entry["vars"], list)
        and all(
            isinstance(v, list)
            and len(v) == 3
            and _strings(v[:2])
            and (v[2] is None or isinstance(v[2], str))
            for v in entry["vars"]
        )
    )


_Check = tuple[Callable[[Any], bool], str]
_HEX64_CHECK: _Check = (lambda v: isinstance(v, str) and bool(_HEX64.match(v)), "64 hex digits")
_OPTIONAL_NUMBER: _Check = (lambda v: v is None or _number(v), "a number or null")
_STRINGS: _Check = (_strings, "a list of strings")
#: Entries every result has, and the check of each.
_REQUIRED: dict[str, _Check] = {
    "identifier": (
        lambda v: isinstance(v, str) and bool(_HEX_ID.match(v)),
        f"{IDENTIFIER_LENGTH} hex digits",
    ),
    "model_hash": _HEX64_CHECK,
    "data_hash": _HEX64_CHECK,
    "search_hash": _HEX64_CHECK,
    "search": (lambda v: isinstance(v, str), "a string"),
    "single": (lambda v: isinstance(v, bool), "true or false"),
    "datasets": (
        lambda v: _strings(v) and len(v) > 0 and len(set(v)) == len(v),
        "a non-empty list of distinct strings",
    ),
    "loglike_names": _STRINGS,
    "parameters": (lambda v: isinstance(v, dict), "an object of parameters"),
}
#: Entries that may be absent (or were added later), and the check of each.
_OPTIONAL: dict[str, _Check] = {
    "graphfit_version": (lambda v: isinstance(v, str), "a string"),
    "name": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "path_prefix": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "created": (lambda v: isinstance(v, str), "a string"),
    "hdi_prob": (_number, "a number"),
    "timings": (_mapping(_number), "an object of numbers"),
    "diagnostics": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "dataset_files": _STRINGS,
    SPLIT: (
        lambda v: isinstance(v, list) and all(_split_entry(e) for e in v),
        "a list of split entries (vars, node, dims, select)",
    ),
    "parameter_datasets": (_mapping(lambda v: isinstance(v, str)), "an object of strings"),
    FILE_HASHES: (_mapping(_HEX64_CHECK[0]), "an object of 64-hex-digit strings"),
    METADATA_HASH: _HEX64_CHECK,
}
#: The convergence figures of a sampling search.
_DIAGNOSTICS: dict[str, _Check] = {
    "divergences": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "problems": _STRINGS,
    "notes": _STRINGS,
    "max_r_hat": _OPTIONAL_NUMBER,
    "min_ess_bulk": _OPTIONAL_NUMBER,
    "min_ess_tail": _OPTIONAL_NUMBER,
}


def _problems(metadata: dict[str, Any]) -> Iterable[tuple[str, str | None, Any]]:
    """``(entry, expected, value)`` of each entry that breaks the schema (``expected`` is
    ``None`` for a missing entry)."""
    for table, required in ((_REQUIRED, True), (_OPTIONAL, False)):
        for key, (check, expected) in table.items():
            if key not in metadata:
                if required:
                    yield key, None, None
            elif not check(metadata[key]):
                yield key, expected, metadata[key]
    figures: Any  # each parameter's figures, then the diagnostics: JSON values
    for label, figures in metadata.get("parameters", {}).items():
        if not isinstance(figures, dict):
            yield f"parameters[{label!r}]", "an object of figures", figures
            continue
        for key, value in figures.items():
            if not _OPTIONAL_NUMBER[0](value):
                yield f"parameters[{label!r}][{key!r}]", _OPTIONAL_NUMBER[1], value
    figures = metadata.get("diagnostics")
    for key, (check, expected) in _DIAGNOSTICS.items() if figures else ():
        if key in figures and not check(figures[key]):
            yield f"diagnostics[{key!r}]", expected, figures[key]
        elif key not in figures and key in ("divergences", "problems"):
            yield f"diagnostics[{key!r}]", None, None


def _check_dataset_files(metadata: dict[str, Any], where: str) -> None:
    """A version 1 or 2 folder's ``dataset_files``: the layout's names, one per dataset."""
    if "dataset_files" not in metadata:
        raise ResultLoadError(
            f"{where} is not a valid result description: dataset_files is missing. {_REFIT}"
        )
    files = metadata["dataset_files"]
    if len(files) != len(metadata["datasets"]):
        raise ResultLoadError(
            f"{where} is not a valid result description: it lists {len(files)} dataset files "
            f"for {len(metadata['datasets'])} datasets. {_REFIT}"
        )
    for k, value in enumerate(files):
        if value != dataset_file(k):
            raise ResultLoadError(
                f"{where}: dataset_files[{k}] is {_short(value)}, not {dataset_file(k)!r}: a "
                "result's files are named by the folder layout (datasets/0000.nc, "
                "datasets/0001.nc, ... in dataset order) and lie inside its folder, so no "
                "other path is read. The file was edited; delete the result folder and fit again."
            )


def check_metadata(metadata: dict[str, Any], path: Path) -> dict[str, Any]:
    """``metadata`` (read from ``path``), checked: schema, file names, identifier, hash.

    Raises
    ------
    ResultLoadError
        For an entry of the wrong JSON type or missing (naming the entry and its value), a
        ``dataset_files`` entry that is not the layout's name (an absolute path, ``..``, any
        other name), an identifier that is not the hash of the model, data and search hashes,
        hashes without the metadata's own, or fields that do not match ``metadata_sha256``.
    """
    where = repr(str(path))
    problem = next(iter(_problems(metadata)), None)
    if problem is not None:
        entry, expected, value = problem
        wrong = "is missing" if expected is None else f"must be {expected}, got {_short(value)}"
        raise ResultLoadError(
            f"{where} is not a valid result description: {entry} {wrong}. The file was edited "
            "or damaged; delete the result folder and fit again."
        )
    datasets = len(metadata["datasets"])
    if metadata.get("format_version") in (1, 2):
        _check_dataset_files(metadata, where)
    elif SPLIT not in metadata or len(metadata[SPLIT]) != datasets:
        held = f"{len(metadata[SPLIT])}" if SPLIT in metadata else "no"
        raise ResultLoadError(
            f"{where} is not a valid result description: it holds {held} split entries for "
            f"{datasets} datasets (one per dataset builds its view of joint.nc). {_REFIT}"
        )
    parts = {key: metadata[key] for key in ("model_hash", "data_hash", "search_hash")}
    identifier = digest(canonical_json(parts))[:IDENTIFIER_LENGTH]
    if metadata["identifier"] != identifier:
        raise ResultLoadError(
            f"{where}: identifier {metadata['identifier']!r} is not the hash of its model_hash, "
            f"data_hash and search_hash ({identifier!r}): the file was edited. {_REFIT}"
        )
    sealed = METADATA_HASH in metadata
    if sealed != (FILE_HASHES in metadata):
        missing = FILE_HASHES if sealed else METADATA_HASH
        raise ResultLoadError(
            f"{where} is not a valid result description: it has no {missing} entry, which "
            f"graphfit writes together with {METADATA_HASH if sealed else FILE_HASHES}. {_REFIT}"
        )
    if not sealed and metadata.get("format_version") != 1:
        raise ResultLoadError(
            f"{where} is in result format version {metadata.get('format_version')!r}, whose "
            f"folders hold the SHA-256 of their files and metadata ({FILE_HASHES}, "
            f"{METADATA_HASH}), but it has neither: they were removed. {_REFIT}"
        )
    if sealed and metadata_digest(metadata) != metadata[METADATA_HASH]:
        raise ResultLoadError(
            f"{where} was changed after the fit was saved: its fields do not match its "
            f"{METADATA_HASH} (an edited figure, dataset name, label or file hash). {_REFIT}"
        )
    return metadata

"""Small file helpers (``gf.util``)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write_text", "numpy_array_from_json", "numpy_array_to_json"]


def numpy_array_from_json(file_path: str | os.PathLike[str]) -> np.ndarray:
    """Read a JSON list (or nested lists) of numbers into a float array.

    Examples
    --------
    >>> import tempfile, os
    >>> import graphfit as gf
    >>> path = os.path.join(tempfile.mkdtemp(), "data.json")
    >>> gf.util.numpy_array_to_json([1.0, 2.5], path)
    >>> gf.util.numpy_array_from_json(path)
    array([1. , 2.5])
    """
    with open(file_path, encoding="utf-8") as handle:
        return np.asarray(json.load(handle), dtype=float)


def numpy_array_to_json(array: Any, file_path: str | os.PathLike[str]) -> None:
    """Write an array as a JSON list, atomically (a temporary file, then a rename).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import graphfit as gf
    >>> path = Path(tempfile.mkdtemp()) / "noise_map.json"
    >>> gf.util.numpy_array_to_json([0.04, 0.04], path)
    >>> path.read_text()
    '[0.04, 0.04]'
    """
    atomic_write_text(file_path, json.dumps(np.asarray(array, dtype=float).tolist()))


def atomic_write_text(file_path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``file_path`` so that readers never see a half-written file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import graphfit as gf
    >>> path = Path(tempfile.mkdtemp()) / "notes" / "fit.txt"
    >>> gf.util.atomic_write_text(path, "centre = 50.0")
    >>> path.read_text()
    'centre = 50.0'
    """
    path = Path(file_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

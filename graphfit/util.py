"""Small helpers (``gf.util``): JSON arrays, atomic writes, and one BLAS thread for work that gains
nothing from more."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

__all__ = [
    "atomic_write_text",
    "numpy_array_from_json",
    "numpy_array_to_json",
    "one_thread",
    "package_version",
    "user_stacklevel",
]


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


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Limit the BLAS / OpenMP thread pools of this process to one thread while inside.

    :func:`~graphfit.fit_each` fits inside it, in whichever process fits: a fit uses one core
    (nutpie's chains run in ``search.cores`` threads of their own), and an idle multi-threaded
    BLAS spins on the other cores, which slows the other workers of a pool.  Small numpy and
    SciPy work (the start search's L-BFGS, the profiles of
    :mod:`graphfit.plan.parametrization`) runs inside it too: with the other core busy, a
    multi-threaded BLAS made each L-BFGS iteration of a 2-parameter problem 15 times slower.
    The previous limits are restored on exit.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from graphfit.util import one_thread
    >>> with one_thread():
    ...     all(pool["num_threads"] == 1 for pool in threadpool_info())
    True
    """
    import scipy.linalg  # noqa: F401  (load SciPy's BLAS too, which fits use, so it is limited)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def package_version() -> str:
    """graphfit's installed version (``"0.0.0"`` when run from a source tree not installed).

    Examples
    --------
    >>> import graphfit as gf
    >>> gf.util.package_version() == gf.__version__
    True
    """

    try:
        return version("graphfit")
    except PackageNotFoundError:
        return "0.0.0"


def user_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn``, called right here, that points at the first
    frame outside graphfit: the user's line that started the work (a ``search.fit`` call, say),
    however deep in graphfit the warning is raised.

    Examples
    --------
    >>> import warnings
    >>> from graphfit.util import user_stacklevel
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("note", UserWarning, stacklevel=user_stacklevel())
    >>> caught[0].filename.endswith("util.py")
    False
    """
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    # the caller of this function, the frame that calls warnings.warn
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back
        level += 1
    return level

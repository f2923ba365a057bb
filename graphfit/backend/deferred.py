"""Deferred pointwise log-likelihood: computed on first use for big fits.

A fit of N datasets of n points with C chains of D draws has ``C * D * N * n`` pointwise
log-likelihood values (4 x 1000 x 1000 x 100 = 400 million, 3.2 GB), and most fits never read
them. Above :data:`DEFER_LOG_LIKELIHOOD_SIZE` values, :func:`~graphfit.search.base.finish_idata`
does not compute them: the ``log_likelihood`` group holds variables whose data is an
``xarray`` lazily indexed array (:class:`DeferredLogLikelihoodArray`, the kind of array xarray's
file backends use). Dims, coords, names, dtype and shapes are those the eager computation gives.
Selecting (``.sel``, ``.isel``, the per-dataset views of :class:`~graphfit.ResultList`) stays
lazy; the first read of any value (``.values``, arithmetic, ``az.loo``, writing NetCDF,
pickling) computes the log-likelihood of every observed node once, by the same PyMC code as the
eager path, and every later read is served from that cache (:class:`DeferredLogLikelihood`).

The cached arrays are read-only, since every view of the fit (joint and per dataset) shares
them: copy before writing into one (``array.values.copy()``). ``copy.deepcopy`` and
``InferenceData.copy`` share the cache; pickling computes it first and pickles plain arrays.

This module imports xarray at the top (its array class subclasses xarray's ``BackendArray``);
``import graphfit`` does not import it (``finish_idata`` does, when it defers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

__all__ = [
    "DEFER_LOG_LIKELIHOOD_SIZE",
    "DeferredLogLikelihood",
    "DeferredLogLikelihoodArray",
    "deferred_dataset",
    "deferred_source",
]

#: Number of pointwise log-likelihood values (all observed nodes, all chains and draws) above
#: which :func:`~graphfit.search.base.finish_idata` defers computing them to first use.
#: 100 million float64 values are 800 MB: computing them eagerly costs at least 1.6 s of
#: first-touch memory alone on the 2-core benchmark machine (about 0.5 GB/s) plus PyMC's
#: per-draw loop (about 3.5 s per 100 million values measured at N = 1000), and holds the
#: memory even when the log-likelihood is never read. Smaller fits (up to 250 datasets of 100
#: points at 4 x 1000 draws) keep plain arrays: a second or two, a small part of their
#: sampling time, and no lazy machinery. A module attribute, read at each call, so it can be
#: set (tests set it small to exercise the deferred path).
DEFER_LOG_LIKELIHOOD_SIZE = 100_000_000


class DeferredLogLikelihood:
    """The pointwise log-likelihood of every observed node, computed once, on first use.

    Parameters
    ----------
    compute
        Called once with no arguments; returns an ``xarray.Dataset`` holding each name of
        ``expected``. The reference is dropped after the call (with the model and posterior
        it holds).
    expected
        Name -> ``(dims, shape)`` the computed variables must have.

    Attributes
    ----------
    computations
        How many times the log-likelihood was computed (0 or 1).

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> from graphfit.backend.deferred import DeferredLogLikelihood
    >>> source = DeferredLogLikelihood(
    ...     lambda: xr.Dataset({"obs": (("chain", "draw"), np.zeros((1, 2)))}),
    ...     {"obs": (("chain", "draw"), (1, 2))},
    ... )
    >>> source.computations, source.arrays()["obs"].shape, source.computations
    (0, (1, 2), 1)
    """

    def __init__(
        self,
        compute: Callable[[], xr.Dataset],
        expected: Mapping[str, tuple[tuple[str, ...], tuple[int, ...]]],
    ) -> None:
        self._compute: Callable[[], xr.Dataset] | None = compute
        self.expected = {name: (tuple(d), tuple(s)) for name, (d, s) in expected.items()}
        self._arrays: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()
        self.computations = 0

    @property
    def computed(self) -> bool:
        """Whether the values have been computed."""
        return self._arrays is not None

    def arrays(self) -> dict[str, np.ndarray]:
        """The computed arrays by name (read-only), computing them on the first call."""
        with self._lock:
            if self._arrays is None:
                assert self._compute is not None
                dataset = self._compute()
                arrays = {}
                for name, (dims, shape) in self.expected.items():
                    variable = dataset[name].variable
                    if variable.dims != dims or variable.shape != shape:
                        raise RuntimeError(
                            f"deferred log-likelihood {name!r}: computed dims "
                            f"{variable.dims} shape {variable.shape}, expected dims {dims} "
                            f"shape {shape}"
                        )
                    array = np.asarray(variable.values, dtype=np.float64)
                    array.flags.writeable = False
                    arrays[name] = array
                self._arrays = arrays
                self._compute = None  # drop the model and posterior it holds
                self.computations += 1
            return self._arrays

    def __getstate__(self) -> dict[str, Any]:
        arrays = self.arrays()
        return {"expected": self.expected, "arrays": arrays, "computations": self.computations}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.expected = state["expected"]
        self._arrays = {}
        for name, array in state["arrays"].items():
            array = np.array(array, dtype=np.float64)
            array.flags.writeable = False
            self._arrays[name] = array
        self._compute = None
        self._lock = threading.Lock()
        self.computations = state["computations"]

    def __copy__(self) -> DeferredLogLikelihood:
        return self  # the values are immutable: copies share them (and the one computation)

    def __deepcopy__(self, memo: dict[int, Any]) -> DeferredLogLikelihood:
        return self


class DeferredLogLikelihoodArray(BackendArray):
    """One variable of a :class:`DeferredLogLikelihood`, for xarray's lazy indexing.

    Indexed with basic (integer and slice) keys, which give views of the cached array;
    xarray applies other keys to that result.

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> from xarray.core import indexing
    >>> from graphfit.backend.deferred import DeferredLogLikelihood, DeferredLogLikelihoodArray
    >>> source = DeferredLogLikelihood(
    ...     lambda: xr.Dataset({"obs": (("chain", "draw"), np.arange(4.0).reshape(2, 2))}),
    ...     {"obs": (("chain", "draw"), (2, 2))},
    ... )
    >>> array = DeferredLogLikelihoodArray(source, "obs")
    >>> array[indexing.BasicIndexer((1, slice(None)))].tolist()
    [2.0, 3.0]
    """

    def __init__(self, source: DeferredLogLikelihood, name: str) -> None:
        self.source = source
        self.name = name
        self.shape = source.expected[name][1]
        self.dtype = np.dtype(np.float64)

    def __getitem__(self, key: Any) -> Any:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._getitem
        )

    def _getitem(self, key: tuple[Any, ...]) -> np.ndarray:
        return self.source.arrays()[self.name][key]

    def __repr__(self) -> str:
        state = "computed" if self.source.computed else "not computed"
        return f"DeferredLogLikelihoodArray({self.name!r}, shape={self.shape}, {state})"


def deferred_dataset(source: DeferredLogLikelihood, template: xr.Dataset) -> xr.Dataset:
    """A ``Dataset`` like ``template`` (dims, coords, attributes) whose variables named in
    ``source.expected`` read their values from ``source``, lazily.

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> from graphfit.backend.deferred import DeferredLogLikelihood, deferred_dataset
    >>> template = xr.Dataset({"obs": (("chain", "draw"), np.zeros((1, 3)))})
    >>> source = DeferredLogLikelihood(
    ...     lambda: xr.Dataset({"obs": (("chain", "draw"), np.arange(3.0)[None])}),
    ...     {"obs": (("chain", "draw"), (1, 3))},
    ... )
    >>> lazy = deferred_dataset(source, template)
    >>> part = lazy["obs"].isel(draw=slice(1, None))
    >>> source.computations, part.values.tolist(), source.computations
    (0, [[1.0, 2.0]], 1)
    """
    variables = {}
    for name, (dims, shape) in source.expected.items():
        old = template[name].variable
        if old.dims != dims or old.shape != shape:
            raise ValueError(
                f"deferred_dataset: template variable {name!r} has dims {old.dims} shape "
                f"{old.shape}, the source expects dims {dims} shape {shape}"
            )
        data = indexing.CopyOnWriteArray(
            # as xarray's own backends wrap it; its annotation names only duck arrays
            indexing.LazilyIndexedArray(DeferredLogLikelihoodArray(source, name))  # type: ignore[arg-type]
        )
        variables[name] = xr.Variable(dims, data, attrs=dict(old.attrs))
    return xr.Dataset(variables, coords=template.coords, attrs=dict(template.attrs))


def deferred_source(array: Any) -> DeferredLogLikelihood | None:
    """The :class:`DeferredLogLikelihood` behind a ``DataArray`` / ``Variable`` (also after
    lazy selections), or ``None`` when its values are in memory.

    Examples
    --------
    >>> import xarray as xr
    >>> from graphfit.backend.deferred import deferred_source
    >>> deferred_source(xr.DataArray([1.0])) is None
    True
    """
    data = getattr(array, "variable", array)
    data = getattr(data, "_data", None)
    while data is not None:
        if isinstance(data, DeferredLogLikelihoodArray):
            return data.source
        data = getattr(data, "array", None)
    return None

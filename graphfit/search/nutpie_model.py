"""nutpie's compiled model of a PyMC model, with C callbacks that compile fast and load from disk.

nutpie samples from Rust and calls the model through two C callbacks: the log density with its
gradient, and the "expand" function that turns an unconstrained point into the values stored in
the trace.  It builds them in two steps.  PyTensor compiles each function to numba, and caches
that on disk under a key that hashes the function graph with its constants (the data).  nutpie
then wraps each in a ``numba.cfunc``, which is neither cached nor quick: on two cores the two
wrappers took 9 of the 10.6 s of nutpie's compile of the three-dataset cookbook model, 4 s of it
numba compiling the error path of a whole-array copy.

:func:`compile_nutpie` builds nutpie's ``nutpie.compile_pymc.CompiledPyMCModel`` with
callbacks of its own: they copy element by element and call the PyTensor function directly
when it reads no shared variables (1-3 s each to compile where no cache holds anything yet,
4.5 s each for nutpie's with a warm cache), and their source is registered with PyTensor's
numba cache under a key made of the wrapped function's own PyTensor key, so a rerun of the
same model in a new process loads them from disk in milliseconds.  The key has to be that
one: numba's own cache key for a wrapper covers its code and the pickled function it calls, not
the constants compiled into that function, so two models that differ only in their data would
share one cached wrapper, and the second would sample the first one's posterior.

The callbacks follow nutpie's C interface (the signatures and return codes of its own
wrappers, ``nutpie/compile_pymc.py``).  Where the installed nutpie does not offer the pieces
used here, :func:`compile_nutpie` falls back to ``nutpie.compile_pymc_model``, which gives the
same model, only slower; ``tests/test_nutpie_model.py`` checks that the fast path is taken with
the nutpie the tests run on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
from typing import Any

import numpy as np

__all__ = ["WRAPPER_VERSION", "compile_nutpie", "fast_path_available"]

logger = logging.getLogger("graphfit")

#: A part of every callback's cache key, raised whenever the callbacks' source changes.
WRAPPER_VERSION = 1

# nutpie's C interface: ``logp(dim, x, grad_out, logp_out, user_data) -> status`` and
# ``expand(dim, n_expanded, x, values_out, user_data) -> status``.  Status 0 is success; -1 a
# size mismatch; 3 and 4 a non-finite gradient or log density (nutpie treats the point as a
# divergence); 1 and -2 an error inside the function.
_LOGP_SOURCE = """
def {name}(dim, x_, out_, logp_, user_data_):
    if dim != N_DIM:
        return -1
    try:
        x = carray(x_, (N_DIM,))
        out = carray(out_, (N_DIM,))
        logp = carray(logp_, ())
        value, grad = call(x, user_data_)
        logp[()] = value
        finite = True
        for i in range(N_DIM):
            out[i] = grad[i]
            if not isfinite(grad[i]):
                finite = False
        if not finite:
            return 3
        if not isfinite(value):
            return 4
    except Exception:
        return 1
    return 0
"""

_EXPAND_SOURCE = """
def {name}(dim, expanded, x_, out_, user_data_):
    if dim != N_DIM:
        return -1
    if expanded != N_EXPANDED:
        return -1
    try:
        x = carray(x_, (N_DIM,))
        out = carray(out_, (N_EXPANDED,))
        (values,) = call(x, user_data_)
        for i in range(N_EXPANDED):
            out[i] = values[i]
    except Exception:
        return -2
    return 0
"""


def fast_path_available() -> bool:
    """Whether the installed nutpie offers what :func:`compile_nutpie`'s own callbacks need."""
    try:
        from nutpie import compile_pymc
        from pytensor.link.numba import cache  # noqa: F401
    except ImportError:
        return False
    needed = (
        "CompiledPyMCModel",
        "_make_functions",
        "make_user_data",
        "make_extraction_fn",
        "_prepare_dims_and_coords",
    )
    return all(hasattr(compile_pymc, name) for name in needed)


def compile_nutpie(model: Any) -> Any:
    """nutpie's compiled model of the PyMC ``model`` (chains are started by graphfit: no jitter).

    Parameters
    ----------
    model
        A ``pymc.Model``.

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        What ``nutpie.compile_pymc_model(model, jitter_rvs=set())`` returns, with graphfit's
        callbacks when the installed nutpie allows (see the module's docstring).

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model() as model:
    ...     mu = pm.Normal("mu", 0.0, 1.0)
    >>> compiled = compile_nutpie(model)  # doctest: +SKIP
    >>> compiled.n_dim  # doctest: +SKIP
    1
    """
    import nutpie

    if not fast_path_available():
        logger.debug("nutpie's own callbacks: the installed nutpie lacks the pieces needed")
        return nutpie.compile_pymc_model(model, jitter_rvs=set())
    return _compile_fast(model)


def _compile_fast(model: Any) -> Any:
    from nutpie import compile_pymc
    from pymc.initial_point import make_initial_point_fn

    point_fn = make_initial_point_fn(model=model, jitter_rvs=set(), return_transformed=True)
    lock = threading.Lock()  # nutpie asks for initial points from its chains' threads

    def start_fn(seed: Any) -> Any:
        with lock:
            return point_fn(seed)

    functions = compile_pymc._make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=start_fn,
        var_names=None,
    )
    n_dim, n_expanded, logp_fn, expand_fn, initial_point_fn, shape_info = functions[:6]
    # nutpie 0.16.9 and later also return the names of the variables they reparametrise
    reparameterized = functions[6:]
    shared: dict[str, Any] = {}
    for variable in [*logp_fn.get_shared(), *expand_fn.get_shared()]:
        if shared.setdefault(variable.name, variable) is not variable:
            raise ValueError(f"shared variables need distinct names; {variable.name!r} is not")
    data = {}
    for name, variable in shared.items():
        data[name] = np.array(variable.get_value(), order="C", copy=True)
        data[name].flags.writeable = False
    # each shared variable's key in nutpie's user data is its name here; nutpie 0.16.9 and
    # later map the variables to their keys (``shared_var_keys``), earlier ones the names
    # to the variables
    fields = {f.name for f in dataclasses.fields(compile_pymc.CompiledPyMCModel)}
    extra: dict[str, Any] = {}
    if "shared_var_keys" in fields:
        extra["shared_var_keys"] = {variable: name for name, variable in shared.items()}
        user_data = compile_pymc.make_user_data(extra["shared_var_keys"], data)
    else:
        user_data = compile_pymc.make_user_data(shared, data)
    if reparameterized and "reparameterized_names" in fields:
        extra["reparameterized_names"] = reparameterized[0]

    logp = _callback("logp", logp_fn, data, user_data, {"N_DIM": n_dim})
    sizes = {"N_DIM": n_dim, "N_EXPANDED": n_expanded}
    expand = _callback("expand", expand_fn, data, user_data, sizes)
    dims, coords = compile_pymc._prepare_dims_and_coords(model, shape_info, *reparameterized)
    return compile_pymc.CompiledPyMCModel(
        _n_dim=n_dim,
        dims=dims,
        _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=logp,
        compiled_expand_func=expand,
        initial_point_func=initial_point_fn,
        shared_data=data,
        user_data=user_data,
        n_expanded=n_expanded,
        shape_info=shape_info,
        logp_func=logp_fn,
        expand_func=expand_fn,
        **extra,
    )


def _callback(
    kind: str,
    function: Any,
    data: dict[str, np.ndarray],
    user_data: np.ndarray,
    sizes: dict[str, int],
) -> Any:
    """The ``numba.cfunc`` callback ``kind`` (``"logp"`` or ``"expand"``) around the PyTensor
    ``function``, cached on disk when PyTensor cached ``function`` (see :func:`_cache_key`)."""
    import numba
    from nutpie import compile_pymc
    from pytensor.link.numba.cache import compile_numba_function_src

    name = f"graphfit_nutpie_{kind}"
    source = _SOURCES[kind]
    shared_names = [variable.name for variable in function.get_shared()]
    inner = function.vm.jit_fn
    if shared_names:
        # ``call(x, user_data)`` runs the PyTensor function with the shared variables' current
        # values, read from nutpie's user data (fit_each's data containers)
        call = compile_pymc.make_extraction_fn(inner, data, shared_names, user_data.dtype)
    else:
        call = inner
        source = source.replace("call(x, user_data_)", "call(x)")
    key = _cache_key(inner, source, sizes, {n: data[n] for n in shared_names})
    signature = _signature(kind)
    python = compile_numba_function_src(
        source.format(name=name),
        name,
        global_env={
            # numba's cached environment names the module of the function's globals
            "__name__": __name__,
            "call": call,
            "carray": numba.carray,
            "isfinite": np.isfinite,
            **sizes,
        },
        cache_key=key,
    )
    return numba.cfunc(signature, cache=key is not None)(python)


def _cache_key(inner: Any, source: str, sizes: dict[str, int], shared: dict) -> str | None:
    """The callback's key in PyTensor's numba cache: the PyTensor key of the function it wraps
    (which hashes the graph and its constants), the callback's source and sizes, and the shared
    variables' names, shapes and dtypes (their values are read at run time).  ``None`` when
    PyTensor did not cache the function: then the callback is not cached either."""
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    function = getattr(inner, "py_func", None)  # a weak-key lookup of None would raise
    inner_key = None if function is None else CACHED_SRC_FUNCTIONS.get(function)
    if inner_key is None:
        return None
    parts = [
        f"graphfit-nutpie-{WRAPPER_VERSION}",
        inner_key,
        source,
        repr(sorted(sizes.items())),
        repr([(n, a.shape, a.dtype.str) for n, a in shared.items()]),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


_SOURCES = {"logp": _LOGP_SOURCE, "expand": _EXPAND_SOURCE}


def _signature(kind: str) -> Any:
    """The C signature nutpie calls the callback ``kind`` with (see the sources above)."""
    from numba import types

    double = types.CPointer(types.double)
    if kind == "logp":  # (dim, x, gradient out, log density out, user data)
        return types.int64(types.uint64, double, double, double, types.voidptr)
    # (dim, n_expanded, x, values out, user data)
    return types.int64(types.uint64, types.uint64, double, double, types.voidptr)

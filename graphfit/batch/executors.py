"""Where independent fits run: this process, a process pool of fit_each's own, or a user's executor
(a Dask client's included), and how the datasets are chunked between workers."""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.batch.tasks import _remove_spills, _Task, warm_worker
from graphfit.exceptions import ExecutorError
from graphfit.search.base import Search
from graphfit.search.interrupts import stop_on_sigterm, watch_parent

if TYPE_CHECKING:
    from graphfit.search.base import Search

__all__ = [
    "CHUNK_DIVISOR",
    "MAX_CHUNKSIZE",
    "PING_TIMEOUT",
    "POOL_START_METHOD",
    "STOP_GRACE",
    "auto_chunk_sizes",
    "jax_running",
    "pool_start_method",
]


#: Seconds an executor given to fit_each has to run a test task before fitting starts.
PING_TIMEOUT = 120.0
#: Automatic chunks each take 1 / (CHUNK_DIVISOR x workers) of the datasets not yet handed
#: out (guided scheduling: chunks shrink towards the end, so the workers finish together) ...
CHUNK_DIVISOR = 2
#: ... and at most this many datasets per chunk (at least one).
MAX_CHUNKSIZE = 16
#: Start method of fit_each's own process pools; ``None``: :func:`pool_start_method` decides.
POOL_START_METHOD: str | None = None
#: Seconds the workers of fit_each's own pool have to stop after Ctrl-C before they are killed.
STOP_GRACE = 10.0


def _ping() -> int:
    return os.getpid()


def _open_executor(
    executor: Any, search: Search | None = None, factors: Sequence[Any] = ()
) -> tuple[Executor | None, bool]:
    """(executor to use, whether fit_each owns it and must shut it down); the pools started
    here warm their workers for ``search`` (and start as :func:`pool_start_method` says for
    ``search`` and ``factors``)."""
    if executor is None:
        return None, False
    if isinstance(executor, bool) or not isinstance(executor, int | np.integer | Executor):
        raise ExecutorError(
            "fit_each: executor must be None, a number of processes >= 1 or a "
            f"concurrent.futures.Executor (e.g. a Dask client.get_executor()); got {executor!r} "
            f"of type {type(executor).__name__}."
        )
    if isinstance(executor, Executor):
        try:
            executor.submit(_ping).result(timeout=PING_TIMEOUT)
        except TimeoutError:
            raise ExecutorError(
                f"fit_each: the executor {type(executor).__name__} did not run a test task "
                f"within {PING_TIMEOUT:g} s; does it have any workers?"
            ) from None
        except Exception as error:
            raise ExecutorError(
                f"fit_each: the executor {type(executor).__name__} cannot take work "
                f"({type(error).__name__}: {error}); it has been shut down or its client "
                "closed. Pass an open executor, or an int for a local process pool."
            ) from None
        return executor, False
    if executor < 1:
        raise ExecutorError(
            "fit_each: executor must be None, a number of processes >= 1 or a "
            f"concurrent.futures.Executor (e.g. a Dask client.get_executor()); got {executor!r}."
        )
    import multiprocessing

    context = multiprocessing.get_context(pool_start_method(search, factors))
    pool = ProcessPoolExecutor(
        max_workers=int(executor),
        mp_context=context,
        initializer=_start_worker,
        initargs=(search,),
    )
    return pool, True


def _start_worker(search: Search | None) -> None:
    """Initializer of fit_each's own pool workers: Ctrl-C is left to the calling process,
    which stops them with ``SIGTERM`` (see :func:`graphfit.search.interrupts.stop_on_sigterm`);
    if it dies (``kill -9``), they remove the spill directories it gave them and exit
    (:func:`graphfit.search.interrupts.watch_parent`); then :func:`warm_worker`."""
    stop_on_sigterm()
    watch_parent(on_orphaned=_remove_spills)
    warm_worker(search)


def _stop_pool(pool: Executor) -> None:
    """Stop the workers of a process pool that fit_each started, now: cancel what has not
    started, ``SIGTERM`` every worker (its fit unwinds as after Ctrl-C, removing its temporary
    output folder, and the process exits), ``SIGKILL`` those still running after
    ``STOP_GRACE`` seconds, and shut the pool down."""
    from multiprocessing.connection import wait

    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
    pending = {}
    for process in processes:
        with contextlib.suppress(ValueError):  # a closed process object: already gone
            pending[process.sentinel] = process
    for grace in (STOP_GRACE, 5.0):
        deadline = time.monotonic() + grace
        while pending and time.monotonic() < deadline:
            for sentinel in wait(list(pending), timeout=max(0.0, deadline - time.monotonic())):
                pending.pop(sentinel)
        for process in pending.values():
            with contextlib.suppress(OSError, ValueError):
                process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _in_main(factors: Sequence[Any]) -> bool:
    """Whether an analysis or model class of ``factors`` is defined in ``__main__`` (a notebook
    or a script): a spawned worker cannot unpickle it."""
    for factor in factors:
        classes = [
            type(getattr(factor, "analysis", None)),
            getattr(factor.prior_model, "cls", None),
        ]
        if any(getattr(cls, "__module__", None) == "__main__" for cls in classes):
            return True
    return False


def jax_running() -> bool:
    """Whether JAX has started its runtime in this process (its threads, and its warning at
    every fork).  Importing JAX starts neither, and ArviZ 1 imports it: a process that only
    imported JAX forks safely.

    Examples
    --------
    >>> from graphfit.batch.executors import jax_running
    >>> jax_running() in (True, False)
    True
    """
    bridge = sys.modules.get("jax._src.xla_bridge")  # JAX's backends, made when JAX first runs
    return bridge is not None and bool(getattr(bridge, "_backends", None))


def pool_start_method(search: Search | None = None, factors: Sequence[Any] = ()) -> str:
    """How the local pools of ``fit_each(executor=n)`` start their worker processes.

    ``"fork"`` on Linux: a worker is a copy of this process, with PyMC imported and the models
    already compiled here (:func:`~graphfit.fit_each` fits the first dataset of each repeated
    structure here before the workers start), so the workers neither import nor compile, and the
    structure is compiled once in all.  ``"spawn"`` elsewhere (macOS and Windows, where forking
    a process that has loaded system frameworks or threads is unsafe): each worker imports and
    compiles once.  ``"spawn"`` on Linux too when ``search`` samples with JAX
    (``gf.NUTS(sampler="numpyro")``), or once JAX has run in this process unless a class
    of ``factors`` is defined in ``__main__`` (a notebook's classes, which a spawned worker
    cannot import): JAX runs threads that a forked copy does not have, so a forked worker that
    uses JAX can deadlock (JAX warns ``os.fork() was called``); spawned workers start JAX
    afresh.  Set
    ``graphfit.batch.executors.POOL_START_METHOD`` to ``"spawn"`` to use fresh processes on
    Linux always.

    Examples
    --------
    >>> import sys
    >>> from graphfit.batch.fit_each import pool_start_method
    >>> linux = sys.platform.startswith("linux")
    >>> from graphfit.batch.executors import jax_running
    >>> pool_start_method() == ("fork" if linux and not jax_running() else "spawn")
    True
    """
    import multiprocessing

    if POOL_START_METHOD is not None:
        return POOL_START_METHOD
    linux = sys.platform.startswith("linux")
    if not linux or "fork" not in multiprocessing.get_all_start_methods():
        return "spawn"
    if getattr(search, "sampler", None) == "numpyro":
        return "spawn"
    return "spawn" if jax_running() and not _in_main(factors) else "fork"


def _worker_count(executor: Executor | int | None) -> int:
    """How many tasks ``executor`` runs at once, as far as it tells (else 4)."""
    if executor is None:
        return 1
    if isinstance(executor, int | np.integer):
        return int(executor)
    workers = getattr(executor, "_max_workers", None)  # concurrent.futures pools
    if isinstance(workers, int) and workers > 0:
        return workers
    client = getattr(executor, "_client", None)  # Dask's ClientExecutor
    try:
        return max(1, sum(client.nthreads().values()))  # type: ignore[union-attr]  # None: below
    except Exception:
        return 4


def _chunks(tasks: list[_Task], sizes: Sequence[int]) -> list[list[_Task]]:
    bounds = itertools.pairwise(np.cumsum([0, *sizes]).tolist())
    return [tasks[a:b] for a, b in bounds if b > a]


def _check_chunksize(chunksize: Any) -> None:
    if chunksize is not None and (
        isinstance(chunksize, bool) or not isinstance(chunksize, int | np.integer) or chunksize < 1
    ):
        raise ExecutorError(
            f"fit_each: chunksize must be None (automatic) or an integer >= 1, got {chunksize!r}."
        )


def auto_chunk_sizes(datasets: int, workers: int) -> list[int]:
    """Datasets per task, in order, when ``fit_each(chunksize=None)``.

    Guided scheduling: each task takes ``1 / (CHUNK_DIVISOR * workers)`` of the datasets not
    yet handed out, at most ``MAX_CHUNKSIZE`` and at least one.  Early tasks are large (fewer
    round trips to the executor), the last ones hold one dataset each, so no worker is left
    fitting a large chunk while the others are idle.

    Examples
    --------
    >>> from graphfit.batch.fit_each import auto_chunk_sizes
    >>> auto_chunk_sizes(40, 2)
    [10, 8, 6, 4, 3, 3, 2, 1, 1, 1, 1]
    >>> sizes = auto_chunk_sizes(200, 2)
    >>> sum(sizes), max(sizes), sizes[-1]
    (200, 16, 1)
    """
    sizes = []
    left = int(datasets)
    while left > 0:
        size = max(1, min(MAX_CHUNKSIZE, math.ceil(left / (CHUNK_DIVISOR * workers))))
        sizes.append(size)
        left -= size
    return sizes

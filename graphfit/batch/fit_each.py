"""Independent fits: every dataset fitted on its own, compiled once per structure.

:func:`fit_each` fits each :class:`~graphfit.AnalysisFactor` by itself, in this
process, in a local process pool or on any ``concurrent.futures.Executor`` (a Dask cluster's
``client.get_executor()`` included), and returns an
:class:`~graphfit.results.independent.IndependentResultList` in input order.

Each dataset's fit is :func:`fit_dataset`: an ordinary ``search.fit`` of a one-factor graph.
What makes 1,000 fits cheap is that graph's ``compile()``: datasets with the same structure
(same model tree and priors, same analysis type and
:meth:`~graphfit.spec.analysis.Analysis.vectorize_key`, same data shape, and the same model data at
two test points) share one PyMC model whose data and noise map are ``pm.Data`` containers.  The
first dataset of a structure compiles it (and the search compiles its start finder, nutpie's
sampler and the log-likelihood function on it); each later one only swaps the data
(``pm.set_data``, nutpie's ``with_data``).  The cache lives in each process.  The local pools
that ``fit_each(executor=n)`` starts fork their workers on Linux after the first dataset of each
repeated structure has been fitted in this process, so the workers inherit the compiled models
and a structure compiles once in all (see ``pool_start_method``); a Dask cluster, or a pool
of spawned processes, compiles once per structure per worker process.

Work is sent in chunks: one task fits several datasets one after another (``chunksize``), so
the search and the shared model tree are pickled once per chunk, and each finished chunk
returns its datasets' outcomes.  While a process fits, its BLAS thread pools are limited to one
thread (:func:`one_thread`): a fit is single-threaded by design (the parallelism is across
datasets), and an idle OpenBLAS thread spinning beside every fit was measured to take a whole
second core, so two pool workers ran no faster than one process.  Pools that ``fit_each``
starts itself run :func:`warm_worker` as their initializer; call it on a Dask cluster's
workers (``client.run(gf.warm_worker)``) to pay the imports before fitting.

A fit that raises becomes a :class:`~graphfit.FailedResult` carrying the
error; the other fits are kept.  A worker process that dies is a failure of the dataset(s) it
was running (Dask retries on another worker first, then reports ``KilledWorker``); the datasets
of a chunk lost with it are retried one by one, so only a dataset that kills its worker again
is recorded as failed.

Warnings raised during a fit are caught where it runs, with the caller's warning filters, and
come back with its outcome (:mod:`graphfit.batch.fit_warnings`): the results keep them per dataset
and ``fit_each`` re-emits one warning per category naming the datasets.

Ctrl-C stops the work and raises :class:`~graphfit.search.interrupts.FitInterrupted` (a
``KeyboardInterrupt``) carrying the finished fits; a partial fit is never recorded as a result
nor saved.  The workers of a pool that ``fit_each`` started are stopped at once (``SIGTERM``:
each unwinds its fit as after Ctrl-C and exits; killed if it has not within
``STOP_GRACE`` seconds), tasks not started are cancelled and the spill directory is removed.
An executor given by the user is not stopped (its workers are not ``fit_each``'s): its tasks
not started are cancelled, and those of this process's threads stop after their current
dataset.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import math
import os
import pickle
import socket
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend.cache import share_structure
from graphfit.backend.compile import CompiledGraph
from graphfit.backend.structures import (
    CACHE_SIZE,
    LOCK,
    clear_cache,
    compile_stats,
    structure,
    warm_imports,
)
from graphfit.batch.fit_warnings import CapturedWarning, capture, emit, portable_filters
from graphfit.exceptions import ExecutorError, FactorGraphError, SearchError
from graphfit.io.output import _remove_stale, fit_folder
from graphfit.results.independent import FailedResult, IndependentResultList
from graphfit.results.result_list import ResultList
from graphfit.search.base import Search
from graphfit.search.interrupts import (
    FitInterrupted,
    ignoring_interrupts,
    stop_on_sigterm,
    worker_task,
)
from graphfit.search.nuts import NUTS
from graphfit.spec.factor_graph import AnalysisFactor, FactorGraphModel
from graphfit.util import one_thread

if TYPE_CHECKING:
    from graphfit.results.independent import IndependentResultList
    from graphfit.results.result_list import ResultList
    from graphfit.search.base import Search

__all__ = [
    "auto_chunk_sizes",
    "clear_cache",
    "compile_stats",
    "dataset_search",
    "fit_dataset",
    "fit_each",
    "one_thread",
    "pool_start_method",
    "warm_worker",
]

#: Seconds an executor given to fit_each has to run a test task before fitting starts.
PING_TIMEOUT = 120.0
#: Automatic chunks: each takes 1 / (CHUNK_DIVISOR x workers) of the datasets not yet handed
#: out (guided scheduling: chunks shrink towards the end, so the workers finish together) ...
CHUNK_DIVISOR = 2
#: ... and at most this many datasets per chunk (at least one).
MAX_CHUNKSIZE = 16
#: Start method of fit_each's own process pools; ``None``: :func:`pool_start_method` decides.
POOL_START_METHOD: str | None = None
#: Seconds the workers of fit_each's own pool have to stop after Ctrl-C before they are killed.
STOP_GRACE = 10.0

# fit_each calls that were interrupted: their tasks still queued in this process's threads stop
_CANCELLED: set[str] = set()


def warm_worker(search: Search | None = None) -> int:
    """Do in this process what every first fit pays for once: import PyMC, PyTensor and nutpie
    (when installed), and load PyTensor's index of compiled C modules when ``search`` compiles
    C code.

    Pools that :func:`fit_each` starts run it as their initializer.  On a Dask cluster, run it
    on every worker before fitting, ``client.run(gf.warm_worker)``, so the first fit of each
    worker pays only its own compile.  Returns the process id.

    Parameters
    ----------
    search
        The search the fits will use.  ``gf.NUTS`` with nutpie compiles no C code in
        :func:`fit_each` (nutpie compiles with numba, and the log-likelihood is evaluated with
        NumPy, see ``graphfit.backend.pointwise``), so the C-module index (seconds to load, more
        the more models the machine has compiled) is not loaded for it.  ``None``: as for
        ``gf.NUTS()``'s default sampler (nutpie when installed).

    Examples
    --------
    >>> import os
    >>> import graphfit as gf
    >>> gf.warm_worker() == os.getpid()
    True
    """
    warm_imports(c_cache=_compiles_c(search))
    return os.getpid()


def _compiles_c(search: Search | None) -> bool:
    """Whether fitting a dataset with ``search`` compiles C code with PyTensor."""
    import importlib.util

    if search is None:
        return importlib.util.find_spec("nutpie") is None
    return not (isinstance(search, NUTS) and search.sampler == "nutpie")


# -- one dataset ------------------------------------------------------------------------------


def dataset_search(search: Search, name: str) -> Search:
    """The search that fits dataset ``name``: a copy with the sampler's own progress bar off,
    and, when ``search.name`` is set, named ``name`` under ``<path_prefix>/<search.name>``."""
    own = copy.copy(search)
    own.progressbar = False
    if search.name is not None:
        own.path_prefix = os.path.join(search.path_prefix or "", search.name)
        own.name = name
    return own


def fit_dataset(search: Search, factor: AnalysisFactor, name: str) -> ResultList:
    """Fit one dataset on its own: ``search.fit`` of a one-factor graph named ``name``.

    This is the one place :func:`fit_each` fits a dataset, in whichever process runs it.  The
    graph compiles through the per-process structure cache (see the module docstring); the
    rest is an ordinary ``search.fit``.

    Parameters
    ----------
    search
        The search, as given to :func:`fit_each`; the fit uses the copy made by
        ``graphfit.batch.fit_each.dataset_search``.
    factor
        The dataset's analysis factor.
    name
        The dataset's name (its results and output folder are named by it).

    Returns
    -------
    ResultList
        The one-dataset result list of ``search.fit``.

    Examples
    --------
    >>> import graphfit as gf
    >>> factor = gf.AnalysisFactor(gf.Model(gf.ex.Gaussian),
    ...                            gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0)))
    >>> gf.fit_dataset(gf.MAP(random_seed=1), factor, "epoch_1")
    ResultList(1 datasets: epoch_1)
    """
    graph = share_structure(
        FactorGraphModel(AnalysisFactor(factor.prior_model, factor.analysis, name=name))
    )
    return dataset_search(search, name).fit(model=graph.global_prior_model, analysis=graph)


@dataclass
class _Task:
    index: int
    name: str
    factor: AnalysisFactor
    search: Search
    #: 0, then 1 for the retry of a task whose worker died (also makes the retry a new task
    #: for executors that name tasks by their arguments, such as Dask's).
    attempt: int = 0
    #: The fit_each call (see ``_CANCELLED``).
    call: str = ""
    #: The caller's warning filters, applied where the fit runs if that is another process
    #: (``None``: that process's own) ...
    filters: tuple[tuple[Any, ...], ...] | None = None
    #: ... the caller's process id (its fits use its own filters, ``__main__`` ones included).
    origin: int = 0


@dataclass
class _Outcome:
    index: int
    name: str
    worker: str
    compiles: int = 0
    idata: Any = None
    diagnostics: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    #: Wall-clock and CPU seconds of the fit in the process that ran it (compile included).
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    nodes: Any = None
    error: BaseException | None = None
    traceback: str = ""
    #: Warnings raised during the fit, as strings (they pickle anywhere).
    warnings: list[CapturedWarning] = field(default_factory=list)


def _portable(error: BaseException) -> BaseException:
    """The error itself if it pickles (to travel back from a worker), else a RuntimeError."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _run_task(task: _Task) -> _Outcome:
    """Fit one dataset (in a worker or in this process), catching its warnings; never raises
    for a failed fit.  An interrupt (``KeyboardInterrupt``) is not a failed fit: it is raised."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    with LOCK:
        before = compile_stats()["compiles"]
        clock, cpu = time.perf_counter(), time.process_time()
        with capture(task.filters if os.getpid() != task.origin else None) as caught:
            try:
                result_list = fit_dataset(task.search, task.factor, task.name)
            except Exception as error:
                failure = (_portable(error), traceback.format_exc())
            else:
                failure = None
        if failure is not None:
            return _Outcome(
                task.index,
                task.name,
                worker,
                compiles=compile_stats()["compiles"] - before,
                seconds=time.perf_counter() - clock,
                cpu_seconds=time.process_time() - cpu,
                error=failure[0],
                traceback=failure[1],
                warnings=caught,
            )
        return _Outcome(
            task.index,
            task.name,
            worker,
            compiles=compile_stats()["compiles"] - before,
            idata=result_list.idata,
            diagnostics=result_list.diagnostics,
            timings=dict(result_list.timings),
            seconds=time.perf_counter() - clock,
            cpu_seconds=time.process_time() - cpu,
            nodes=result_list.compiled.nodes,
            warnings=caught,
        )


def _run_chunk(tasks: list[_Task]) -> list[_Outcome]:
    """Fit a chunk of datasets one after another, with one BLAS thread (see :func:`one_thread`);
    never raises for a failed fit.  Stops early when its fit_each call was interrupted (in
    this process's threads), and a pool worker asked to stop ends when its fit has unwound
    (see :func:`graphfit.search.interrupts.stop_on_sigterm`)."""
    outcomes = []
    with worker_task(), LOCK, one_thread():
        for task in tasks:
            if task.call in _CANCELLED:
                break
            outcomes.append(_run_task(task))
    return outcomes


@dataclass(frozen=True)
class _Spilled:
    """Where a worker left a chunk's pickled outcomes (see :func:`_run_spilled`)."""

    path: str

    def load(self) -> list[_Outcome]:
        try:
            with open(self.path, "rb") as file:
                return pickle.load(file)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(self.path)


def _run_spilled(tasks: list[_Task], directory: str) -> list[_Outcome] | _Spilled:
    """:func:`_run_chunk`, in a worker: the outcomes (megabytes each, mostly the pointwise
    log-likelihood) go back through a pickle file in ``directory``, the calling process's
    temporary directory, instead of the executor's channel: a process pool's pipe, which they
    crossed 64 kB at a time with a switch between processes each time, or Dask's TCP
    connections and serialisation, whose cost on cores busy with the other workers' fits made
    each fit about 1.3x slower.  A worker that does not see ``directory`` (on another machine)
    or cannot write there returns the outcomes through the channel."""
    import tempfile

    outcomes = _run_chunk(tasks)
    path = None
    if not os.path.isdir(directory):
        return outcomes
    try:
        handle, path = tempfile.mkstemp(prefix="chunk-", suffix=".pickle", dir=directory)
        with os.fdopen(handle, "wb") as file:
            pickle.dump(outcomes, file, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        if path is not None:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return outcomes
    return _Spilled(path)


def _rebuild(factor: AnalysisFactor, outcome: _Outcome) -> Any:
    """The dataset's Result (or FailedResult) in this process, from a worker's outcome."""

    if outcome.error is not None:
        return FailedResult(outcome.name, outcome.index, outcome.error, outcome.traceback)
    graph = FactorGraphModel(AnalysisFactor(factor.prior_model, factor.analysis, name=outcome.name))
    # The PyMC model is not kept: it is shared by the structure's fits and holds other data now.
    compiled = CompiledGraph(model=None, plan=graph.compile_plan(), nodes=outcome.nodes)
    result_list = ResultList(graph, compiled, outcome.idata, outcome.diagnostics)
    result_list.timings = dict(outcome.timings)
    return result_list[0]


# -- many datasets ----------------------------------------------------------------------------


def _check_inputs(factors: Any, search: Any) -> list[str]:

    if isinstance(factors, AnalysisFactor) or not isinstance(factors, Sequence):
        raise FactorGraphError(
            f"fit_each: factors must be a list of gf.AnalysisFactor, got {type(factors).__name__}."
        )
    if not factors:
        raise FactorGraphError("fit_each: factors is empty; give at least one gf.AnalysisFactor.")
    for index, factor in enumerate(factors):
        if not isinstance(factor, AnalysisFactor):
            raise FactorGraphError(
                f"fit_each: factors[{index}] is {factor!r} of type {type(factor).__name__}; "
                "every entry must be a gf.AnalysisFactor."
            )
    if not isinstance(search, Search):
        raise SearchError(
            f"fit_each: search must be a gf.Search (e.g. gf.NUTS()), got {search!r} of type "
            f"{type(search).__name__}."
        )
    names = [f.name if f.name is not None else f"dataset_{i}" for i, f in enumerate(factors)]
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise FactorGraphError(
                f"fit_each: factors {seen[name]} and {index} are both named {name!r}; every "
                "dataset needs a unique name (AnalysisFactor(..., name=...))."
            )
        seen[name] = index
    return names


def _ping() -> int:
    return os.getpid()


def _open_executor(executor: Any, search: Search | None = None) -> tuple[Executor | None, bool]:
    """(executor to use, whether fit_each owns it and must shut it down); the pools started
    here warm their workers for ``search``."""
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
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context(pool_start_method())
    pool = ProcessPoolExecutor(
        max_workers=int(executor),
        mp_context=context,
        initializer=_start_worker,
        initargs=(search,),
    )
    return pool, True


def _start_worker(search: Search | None) -> None:
    """Initializer of fit_each's own pool workers: Ctrl-C is left to the calling process,
    which stops them with ``SIGTERM`` (see :func:`graphfit.search.interrupts.stop_on_sigterm`), then
    :func:`warm_worker`."""
    stop_on_sigterm()
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


def pool_start_method() -> str:
    """How the local pools of ``fit_each(executor=n)`` start their worker processes.

    ``"fork"`` on Linux: a worker is a copy of this process, with PyMC imported and the models
    already compiled here (:func:`fit_each` fits the first dataset of each repeated structure
    here before the workers start), so the workers neither import nor compile, and the
    structure is compiled once in all.  ``"spawn"`` elsewhere (macOS and Windows, where forking
    a process that has loaded system frameworks or threads is unsafe): each worker imports and
    compiles once.  Set ``graphfit.batch.fit_each.POOL_START_METHOD`` to ``"spawn"`` to use
    fresh processes on Linux too.

    Examples
    --------
    >>> import sys
    >>> from graphfit.batch.fit_each import pool_start_method
    >>> pool_start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")
    True
    """
    import multiprocessing

    if POOL_START_METHOD is not None:
        return POOL_START_METHOD
    linux = sys.platform.startswith("linux")
    return "fork" if linux and "fork" in multiprocessing.get_all_start_methods() else "spawn"


def _leaders(tasks: list[_Task]) -> list[_Task]:
    """The first task of each structure that more than one task shares (see :func:`_structure`),
    in input order: fitted in this process before a forked pool starts, so that its workers
    inherit the compiled model instead of compiling it each."""
    first: dict[Any, _Task] = {}
    counts: dict[Any, int] = {}
    for task in tasks:
        try:
            key = structure(task.factor)[0]
        except Exception:  # user code failing here: the fit itself will report it
            key = None
        if key is None:
            continue
        first.setdefault(key, task)
        counts[key] = counts.get(key, 0) + 1
    leaders = [first[key] for key in first if counts[key] > 1][:CACHE_SIZE]
    return sorted(leaders, key=lambda task: task.index)


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
        return max(1, sum(client.nthreads().values()))
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


class _NoBar:
    def set_postfix(self, **_: Any) -> None:
        pass

    def update(self, _: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    # tqdm's text bar (on stderr) works in terminals and notebooks alike, without ipywidgets
    from tqdm import tqdm

    return tqdm(total=total, desc="fit_each", unit="dataset", leave=True)


def fit_each(
    factors: Sequence[AnalysisFactor],
    search: Search,
    executor: int | Executor | None = None,
    *,
    progress: bool = True,
    chunksize: int | None = None,
) -> IndependentResultList:
    """Fit every dataset on its own and return the results in input order.

    Datasets with the same structure share one compiled PyMC model whose data are swapped
    between fits, so N alike datasets compile once per process, not N times (see the module
    ``graphfit.batch.fit_each``).  A dataset whose fit fails is recorded as a
    :class:`~graphfit.FailedResult` with its error; every finished fit is kept.

    Parameters
    ----------
    factors
        One :class:`~graphfit.AnalysisFactor` per dataset.  Names are the factors'
        names, or ``dataset_<i>``.  Priors are per fit: a prior object used by several factors
        is fitted separately for each dataset.
    search
        The search, e.g. ``gf.NUTS(...)``.  Each fit uses a copy with the sampler's own
        progress bar off.  With ``sampler="nutpie"`` (the default when installed) the compiled
        sampler is reused too; PyMC's sampler compiles its step function on every fit.
    executor
        ``None``: fit in this process, one after another.  An int ``n``: a local pool of ``n``
        worker processes; on Linux they are forked from this process after it has fitted the
        first dataset of each repeated structure, and inherit its compiled models (elsewhere
        they are spawned and compile once each; see
        ``graphfit.batch.fit_each.pool_start_method()``; in a script, call ``fit_each``
        under ``if __name__ == "__main__":``).  Any ``concurrent.futures.Executor``, e.g. a Dask
        ``client.get_executor()``; everything sent to it is pickled.  A thread pool works but
        fits one dataset at a time per process (the shared model holds one dataset's data).
        On Dask, ``client.run(gf.warm_worker)`` before fitting pays the workers' imports up
        front.
    progress
        Show a progress bar over datasets with the counts of finished, failed and remaining
        fits.
    chunksize
        Datasets per task sent to the executor (fitted one after another by one worker, each
        written to its output folder as it finishes; the progress bar moves when a task
        returns).  ``None``: guided, from the executor's worker count: each task takes a
        quarter of the datasets left for 2 workers (an eighth for 4, ...), at most 16 and at
        least 1, so tasks shrink towards the end and the workers finish together (see
        ``graphfit.batch.fit_each.auto_chunk_sizes``).  Ignored when ``executor`` is
        ``None``.

    Returns
    -------
    IndependentResultList
        One entry per dataset, in input order: its :class:`~graphfit.Result` or a
        :class:`~graphfit.FailedResult`.  ``compile_count`` and ``stats``
        say how many compiles the fits took.  ``warnings`` holds every warning raised during
        the fits as ``(dataset, category, message)``, wherever they ran; they are also warned
        again here, one warning of each category naming its datasets (``"fit_each:
        ConvergenceWarning in 12 of 200 datasets: dataset_3 (R-hat above 1.01 for: centre
        (1.052)), ... and 4 more"``).  The fits run with this process's warning filters, so a
        warning ignored here is ignored there, and one turned into an error fails its fit.

    Raises
    ------
    FactorGraphError
        For an empty list, an entry that is not an ``AnalysisFactor`` or duplicate names.
    ExecutorError
        For an executor of the wrong type, or one that is shut down (checked before fitting),
        or a ``chunksize`` that is not a positive integer.
    FitInterrupted
        On Ctrl-C (a ``KeyboardInterrupt``): the work stops and its ``results`` hold the fits
        that finished, the other datasets marked as interrupted or not run; nothing partial is
        kept or saved.  The worker processes of ``executor=n`` are stopped at once (and
        killed if they have not exited within ``STOP_GRACE`` seconds); an executor given here
        is not stopped (its tasks not started are cancelled, a thread pool's after its
        current dataset).

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> factors = [
    ...     gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)))
    ...     for s in range(3)
    ... ]
    >>> from graphfit.batch.fit_each import clear_cache
    >>> clear_cache()  # for the example: nothing compiled yet in this process
    >>> result_list = gf.fit_each(factors, gf.MAP(random_seed=1), progress=False)
    >>> result_list.names, result_list.compile_count
    (['dataset_0', 'dataset_1', 'dataset_2'], 1)
    >>> [round(r.max_log_likelihood_instance.sigma) for r in result_list]
    [10, 10, 10]
    """

    names = _check_inputs(factors, search)
    _check_chunksize(chunksize)
    pool, owned = _open_executor(executor, search)
    call, filters = uuid.uuid4().hex, portable_filters()
    tasks = [
        _Task(k, name, factor, search, call=call, filters=filters, origin=os.getpid())
        for k, (name, factor) in enumerate(zip(names, factors, strict=True))
    ]
    outcomes: dict[int, _Outcome] = {}
    clock = time.perf_counter()
    bar = _progress_bar(len(tasks), progress)

    def record(outcome: _Outcome) -> None:
        outcomes[outcome.index] = outcome
        failed = sum(o.error is not None for o in outcomes.values())
        bar.set_postfix(
            finished=len(outcomes) - failed, failed=failed, remaining=len(tasks) - len(outcomes)
        )
        bar.update(1)

    def here(selected: list[_Task]) -> None:
        """Fit ``selected`` in this process, one after another."""
        with LOCK, one_thread():
            for task in selected:
                fitting[:] = [task.index]
                record(_run_task(task))
        fitting.clear()

    size = 1
    spill = None
    fitting: list[int] = []  # the dataset being fitted in this process
    futures: dict[Future, list[_Task]] = {}  # submitted, outcomes not recorded yet
    pools: list[Executor] = [pool] if owned else []  # the pools this call started
    try:
        if pool is None:
            here(tasks)
        else:
            remaining = tasks
            if owned and pool_start_method() == "fork":
                # fit each repeated structure's first dataset here: the forked workers then
                # inherit its compiled model (and PyMC's imports) instead of compiling it each
                warm_worker(search)
                here(_leaders(tasks))
                remaining = [task for task in tasks if task.index not in outcomes]
            if chunksize is None:
                sizes = auto_chunk_sizes(len(remaining), _worker_count(executor))
            else:
                sizes = [int(chunksize)] * math.ceil(len(remaining) / int(chunksize))
            size = max(sizes, default=1)
            remake = (lambda: _open_executor(int(executor), search)[0]) if owned else None
            import tempfile

            # workers that see this directory (on this machine) return outcomes through files
            spill = tempfile.mkdtemp(prefix="graphfit-fit_each-")
            _run_on(
                pool,
                _chunks(remaining, sizes),
                record,
                remake,
                spill=spill,
                futures=futures,
                pools=pools,
            )
    except KeyboardInterrupt:
        with ignoring_interrupts():  # a second Ctrl-C does not cut the clean-up short
            _CANCELLED.add(call)
            in_worker = _stop_after_interrupt(futures, pools, record, set(outcomes))
            if search.name is not None:
                _remove_temporaries(search, [t for t in tasks if t.index in in_worker])
            _close(spill, bar, [])
            reasons = dict.fromkeys(in_worker, INTERRUPTED_IN_WORKER)
            reasons.update(dict.fromkeys(set(fitting) - set(outcomes), INTERRUPTED))
            results = _interrupted_results(factors, names, outcomes, reasons, clock, size)
        raise FitInterrupted(_interrupt_message(results, search), results) from None
    except BaseException:
        _close(spill, bar, pools)
        raise
    _close(spill, bar, pools)
    result_list = _results(factors, names, outcomes, clock, size)
    emit(_captured(outcomes), len(names), stacklevel=2)
    return result_list


def _close(spill: str | None, bar: Any, pools: list[Executor]) -> None:
    """Remove the spill directory, close the progress bar, shut the pools down."""
    if spill is not None:
        import shutil

        shutil.rmtree(spill, ignore_errors=True)
    bar.close()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def _stats(outcomes: dict[int, _Outcome], clock: float, size: int) -> dict[str, Any]:
    done = list(outcomes.values())
    return {
        "compiles": sum(o.compiles for o in done),
        "fits": sum(o.error is None for o in done),
        "failed": sum(o.error is not None for o in done),
        "workers": len({o.worker for o in done if o.worker}),
        "chunksize": int(size),
        "seconds": time.perf_counter() - clock,
        "fit_seconds": sum(o.seconds for o in done),
        "fit_cpu_seconds": sum(o.cpu_seconds for o in done),
    }


def _captured(outcomes: dict[int, _Outcome]) -> list[tuple[str, CapturedWarning]]:
    """Every fit's warnings as ``(dataset, warning)``, in input order."""
    return [(outcomes[k].name, w) for k in sorted(outcomes) for w in outcomes[k].warnings]


def _results(
    factors: Sequence[AnalysisFactor],
    names: list[str],
    outcomes: dict[int, _Outcome],
    clock: float,
    size: int,
) -> IndependentResultList:

    entries = [_rebuild(factors[k], outcomes[k]) for k in range(len(names))]
    stats = _stats(outcomes, clock, size)
    return IndependentResultList(
        entries,
        names,
        compile_count=stats["compiles"],
        stats=stats,
        warnings=_captured(outcomes),
    )


#: Why a dataset has no result after Ctrl-C (``FailedResult.error`` is a KeyboardInterrupt):
#: its fit was running in this process, ...
INTERRUPTED = (
    "interrupted (Ctrl-C) while it was being fitted; the partial fit was discarded and not saved"
)
#: ... it was in a worker (being fitted, or next in line; the executor does not say which) ...
INTERRUPTED_IN_WORKER = (
    "interrupted (Ctrl-C) while it was in a worker, being fitted or next in line; the "
    "worker's fit of it was stopped or left to finish unused, and was not returned (with a "
    "named search a fit that finished is saved, and a rerun loads it)"
)
#: ... or it had not been started.
NOT_RUN = "not run: fit_each was interrupted (Ctrl-C) before this dataset's fit started"


def _interrupted_results(
    factors: Sequence[AnalysisFactor],
    names: list[str],
    outcomes: dict[int, _Outcome],
    reasons: dict[int, str],
    clock: float,
    size: int,
) -> IndependentResultList:
    """The results after Ctrl-C: finished fits, and a FailedResult for every other dataset
    (``reasons``: why each interrupted one has no result; the others were not run)."""

    entries: list[Any] = []
    for k, name in enumerate(names):
        if k in outcomes:
            entries.append(_rebuild(factors[k], outcomes[k]))
        else:
            entries.append(FailedResult(name, k, KeyboardInterrupt(reasons.get(k, NOT_RUN))))
    stats = _stats(outcomes, clock, size)
    stats["interrupted"] = sum(k in reasons for k in range(len(names)) if k not in outcomes)
    stats["not_run"] = len(names) - len(outcomes) - stats["interrupted"]
    return IndependentResultList(
        entries,
        names,
        compile_count=stats["compiles"],
        stats=stats,
        warnings=_captured(outcomes),
    )


def _interrupt_message(results: IndependentResultList, search: Search) -> str:
    stats = results.stats
    failed = f", {stats['failed']} failed" if stats["failed"] else ""
    rerun = (
        " Rerun the same call to fit only the rest: the finished fits are saved and loaded."
        if search.name is not None
        else ""
    )
    return (
        f"fit_each was interrupted (Ctrl-C): {stats['fits']} of {len(results)} datasets "
        f"finished{failed}, {stats['interrupted']} interrupted, {stats['not_run']} not run. "
        "Partial fits were discarded, never saved. The finished "
        "fits are in this exception's .results (except gf.FitInterrupted as error: "
        f"error.results).{rerun}"
    )


def _stop_after_interrupt(
    futures: dict[Future, list[_Task]],
    pools: list[Executor],
    record: Callable[[_Outcome], None],
    recorded: set[int],
) -> set[int]:
    """After Ctrl-C: cancel the tasks not started, stop the pools fit_each started (see
    :func:`_stop_pool`), record the chunks that had come back, and return the indices of the
    datasets whose chunk was running (or whose outcome was lost)."""
    for future in futures:
        future.cancel()
    for pool in pools:
        _stop_pool(pool)
    running: set[int] = set()
    for future, chunk in futures.items():
        if future.cancelled():
            continue
        came_back = None
        if future.done():
            try:
                came_back = future.result(timeout=0)
                if isinstance(came_back, _Spilled):
                    came_back = came_back.load()
            except BaseException:
                came_back = None
        for outcome in came_back or []:
            if outcome.index not in recorded:
                recorded.add(outcome.index)
                record(outcome)
        running |= {task.index for task in chunk} - recorded
    return running


def _remove_temporaries(search: Search, tasks: list[_Task]) -> None:
    """Remove the temporary output folders that stopped fits left (their writers are dead)."""

    for task in tasks:
        with contextlib.suppress(Exception):
            graph = share_structure(
                FactorGraphModel(
                    AnalysisFactor(task.factor.prior_model, task.factor.analysis, name=task.name)
                )
            )
            folder, _ = fit_folder(dataset_search(search, task.name), graph)
            _remove_stale(folder.parent, folder.name)


def _worker_died(error: BaseException) -> bool:
    """True for an executor's report that the process running a task died."""
    from concurrent.futures import BrokenExecutor

    return isinstance(error, BrokenExecutor) or type(error).__name__ == "KilledWorker"


def _lost(task: _Task, error: BaseException, retried: bool = True) -> _Outcome:
    message = (
        f"{type(error).__name__}: {error}. The worker process running dataset {task.name!r} "
        f"died or the executor lost the task{' (retried once on its own)' if retried else ''}; "
        "the other datasets' fits are kept."
    )
    return _Outcome(task.index, task.name, "", error=_portable(error), traceback=message)


def _run_on(
    pool: Executor,
    chunks: list[list[_Task]],
    record: Callable[[_Outcome], None],
    remake: Callable[[], Executor] | None = None,
    spill: str | None = None,
    futures: dict[Future, list[_Task]] | None = None,
    pools: list[Executor] | None = None,
) -> None:
    """Submit every chunk of tasks to ``pool`` and record its outcomes as it returns (through
    files in the directory ``spill`` when given, see :func:`_run_spilled`).

    A chunk whose worker process died (Dask's ``KilledWorker``, a broken process pool) may have
    been killed by one of its datasets or by a task running beside it, so after the others each
    of its datasets is run once more, on its own: only a dataset that kills its worker again is
    recorded as failed.  A broken pool that fit_each owns is replaced (``remake``) for the
    retries; one given by the user cannot be, and its lost datasets are recorded as failed.

    ``futures`` is filled with the submitted tasks whose outcomes are not recorded yet, and
    ``pools`` with the pools made by ``remake``, for :func:`fit_each` to stop after Ctrl-C.
    """
    died: list[tuple[_Task, BaseException]] = []
    futures = {} if futures is None else futures
    pools = [] if pools is None else pools
    for chunk in chunks:
        if spill is None:
            futures[pool.submit(_run_chunk, chunk)] = chunk
        else:
            futures[pool.submit(_run_spilled, chunk, spill)] = chunk
    for future in as_completed(list(futures)):
        chunk = futures[future]
        try:
            outcomes = future.result()
            if isinstance(outcomes, _Spilled):
                outcomes = outcomes.load()
        except BaseException as error:  # the executor's own error for this chunk
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            if _worker_died(error):
                died.extend((task, error) for task in chunk)
                continue
            outcomes = [_lost(task, error, retried=False) for task in chunk]
        del futures[future]
        for outcome in outcomes:
            record(outcome)

    def retry(task: _Task) -> _Outcome:
        future = pool.submit(_run_chunk, [task])
        futures[future] = [task]
        outcome = future.result()[0]
        del futures[future]
        return outcome

    spare: Executor | None = None
    for task, error in sorted(died, key=lambda pair: pair[0].index):
        task = dataclasses.replace(task, attempt=task.attempt + 1)
        try:
            outcome = retry(task)
        except BaseException as again:
            if isinstance(again, KeyboardInterrupt | SystemExit):
                raise
            from concurrent.futures import BrokenExecutor

            if isinstance(again, BrokenExecutor) and remake is not None:
                if spare is not None:
                    spare.shutdown(wait=False, cancel_futures=True)
                pool = spare = remake()
                pools.append(spare)
                try:
                    outcome = retry(task)
                except BaseException as last:
                    if isinstance(last, KeyboardInterrupt | SystemExit):
                        raise
                    outcome = _lost(task, last)
            else:
                outcome = _lost(task, again if _worker_died(again) else error)
        record(outcome)

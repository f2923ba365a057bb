"""Independent fits: every dataset fitted on its own, compiled once per structure.

:func:`~graphfit.fit_each` fits each :class:`~graphfit.AnalysisFactor` by itself, in this
process, in a local process pool or on any ``concurrent.futures.Executor`` (a Dask cluster's
``client.get_executor()`` included), and returns an
:class:`~graphfit.results.independent.IndependentResultList` in input order.

Each dataset's fit is :func:`~graphfit.fit_dataset`: an ordinary ``search.fit`` of a one-factor
graph. What makes 1,000 fits cheap is that graph's ``compile()``: datasets with the same structure
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
thread (:func:`~graphfit.util.one_thread`): a fit is single-threaded by design (the parallelism is
across datasets), and an idle OpenBLAS thread spinning beside every fit was measured to take a whole
second core, so two pool workers ran no faster than one process.  Pools that ``fit_each``
starts itself run :func:`~graphfit.warm_worker` as their initializer; call it on a Dask cluster's
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

import dataclasses
import math
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future, as_completed
from typing import TYPE_CHECKING, Any

from graphfit.backend.structures import (
    CACHE_SIZE,
    LOCK,
    clear_cache,
    compile_stats,
    structure,
)
from graphfit.batch.executors import (
    _check_chunksize,
    _chunks,
    _open_executor,
    _stop_pool,
    _worker_count,
    auto_chunk_sizes,
    pool_start_method,
)
from graphfit.batch.fit_warnings import emit, portable_filters
from graphfit.batch.progress import DatasetBar, progressbar_keyword
from graphfit.batch.stopping import (
    INTERRUPTED,
    INTERRUPTED_IN_WORKER,
    _interrupt_message,
    _interrupted_results,
    _lost,
    _remove_temporaries,
    _stop_after_interrupt,
    _worker_died,
)
from graphfit.batch.tasks import (
    _CANCELLED,
    _captured,
    _Outcome,
    _results,
    _run_chunk,
    _run_spilled,
    _run_task,
    _Spilled,
    _Task,
    dataset_search,
    fit_dataset,
    spill_directory,
    warm_worker,
)
from graphfit.exceptions import FactorGraphError, SearchError
from graphfit.results.independent import IndependentResultList
from graphfit.search.base import Search
from graphfit.search.interrupts import (
    FitInterrupted,
    ignoring_interrupts,
)
from graphfit.spec.factor_graph import AnalysisFactor
from graphfit.util import one_thread

if TYPE_CHECKING:
    from graphfit.results.independent import IndependentResultList
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


# -- one dataset ------------------------------------------------------------------------------


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


def fit_each(
    factors: Sequence[AnalysisFactor],
    search: Search,
    executor: int | Executor | None = None,
    *,
    progressbar: bool | None = None,
    chunksize: int | None = None,
    progress: bool | None = None,
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
        ``graphfit.batch.executors.pool_start_method()``; in a script, call ``fit_each``
        under ``if __name__ == "__main__":``).  Any ``concurrent.futures.Executor``, e.g. a Dask
        ``client.get_executor()``; everything sent to it is pickled.  A thread pool works but
        fits one dataset at a time per process (the shared model holds one dataset's data).
        On Dask, ``client.run(gf.warm_worker)`` before fitting pays the workers' imports up
        front.
    progressbar
        Show a progress bar over the datasets (default ``True``): how many are done and how
        many failed, the time so far and tqdm's estimate of the time left (see
        ``graphfit.batch.progress``).  The fits themselves show nothing.
    chunksize
        Datasets per task sent to the executor (fitted one after another by one worker, each
        written to its output folder as it finishes; the progress bar moves when a task
        returns).  ``None``: guided, from the executor's worker count: each task takes a
        quarter of the datasets left for 2 workers (an eighth for 4, ...), at most 16 and at
        least 1, so tasks shrink towards the end and the workers finish together (see
        ``graphfit.batch.executors.auto_chunk_sizes``).  Ignored when ``executor`` is
        ``None``.
    progress
        The old name of ``progressbar``: accepted with a ``FutureWarning`` until the next
        release (a ``TypeError`` with ``progressbar`` as well).

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
    >>> result_list = gf.fit_each(factors, gf.MAP(random_seed=1), progressbar=False)
    >>> result_list.names, result_list.compile_count
    (['dataset_0', 'dataset_1', 'dataset_2'], 1)
    >>> [round(r.max_log_likelihood_instance.sigma) for r in result_list]
    [10, 10, 10]
    """

    progressbar = progressbar_keyword(progressbar, progress)
    names = _check_inputs(factors, search)
    _check_chunksize(chunksize)
    pool, owned = _open_executor(executor, search, factors)
    call, filters = uuid.uuid4().hex, portable_filters()
    tasks = [
        _Task(k, name, factor, search, call=call, filters=filters, origin=os.getpid())
        for k, (name, factor) in enumerate(zip(names, factors, strict=True))
    ]
    outcomes: dict[int, _Outcome] = {}
    clock = time.perf_counter()
    bar = DatasetBar(len(tasks), progressbar)

    def record(outcome: _Outcome) -> None:
        outcomes[outcome.index] = outcome
        bar.done(failed=sum(o.error is not None for o in outcomes.values()))

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
    pools: list[Executor] = [pool] if owned and pool is not None else []  # started here
    try:
        if pool is None:
            here(tasks)
        else:
            remaining = tasks
            if owned and pool_start_method(search, factors) == "fork":
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

            def reopen() -> Executor:
                """A new pool of the same workers as the one this call started."""
                new, _ = _open_executor(executor, search, factors)
                assert new is not None  # the arguments that opened a pool open one again
                return new

            remake = reopen if owned else None

            # workers that see this directory (on this machine) return outcomes through files
            spill = spill_directory()
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


def _close(spill: str | None, bar: DatasetBar, pools: list[Executor]) -> None:
    """Remove the spill directory, close the progress bar, shut the pools down."""
    if spill is not None:
        shutil.rmtree(spill, ignore_errors=True)
    bar.close()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


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
    recorded as failed.  A broken pool that fit_each owns is stopped (``executors._stop_pool``:
    SIGTERM, then SIGKILL) and replaced (``remake``) for the retries; one
    given by the user cannot be, and its lost datasets are recorded as failed.

    ``futures`` is filled with the submitted tasks whose outcomes are not recorded yet, and
    ``pools`` with the pools made by ``remake``, for :func:`~graphfit.fit_each` to stop after
    Ctrl-C.
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

    def replace() -> Executor:
        # A process pool is broken once a worker died. Stop it before replacing it: its
        # manager thread joins every worker while it holds the pool's lock (which submit
        # takes), and a worker that does not end on SIGTERM would hold both for ever.
        _stop_pool(pool)
        assert remake is not None  # called only when there is a way to make a pool
        pools.append(remake())
        return pools[-1]

    if died and remake is not None:
        pool = replace()
    for task, first in sorted(died, key=lambda pair: pair[0].index):
        task = dataclasses.replace(task, attempt=task.attempt + 1)
        try:
            outcome = retry(task)
        except BaseException as again:
            if isinstance(again, KeyboardInterrupt | SystemExit):
                raise

            if isinstance(again, BrokenExecutor) and remake is not None:
                pool = replace()
                try:
                    outcome = retry(task)
                except BaseException as last:
                    if isinstance(last, KeyboardInterrupt | SystemExit):
                        raise
                    outcome = _lost(task, last)
            else:
                outcome = _lost(task, again if _worker_died(again) else first)
        record(outcome)

"""Stopping fit_each: Ctrl-C, a worker that died, and what the interrupted call hands back."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future
from typing import TYPE_CHECKING, Any

from graphfit.backend.cache import share_structure
from graphfit.batch.executors import (
    _stop_pool,
)
from graphfit.batch.tasks import (
    _captured,
    _Outcome,
    _portable,
    _rebuild,
    _Spilled,
    _stats,
    _Task,
    dataset_search,
)
from graphfit.io.output import _remove_stale, fit_folder
from graphfit.results.independent import FailedResult, IndependentResultList
from graphfit.search.base import Search
from graphfit.spec.factor_graph import AnalysisFactor, FactorGraphModel

if TYPE_CHECKING:
    from graphfit.results.independent import IndependentResultList
    from graphfit.search.base import Search

__all__ = ["INTERRUPTED", "INTERRUPTED_IN_WORKER", "NOT_RUN"]
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

    return isinstance(error, BrokenExecutor) or type(error).__name__ == "KilledWorker"


def _lost(task: _Task, error: BaseException, retried: bool = True) -> _Outcome:
    message = (
        f"{type(error).__name__}: {error}. The worker process running dataset {task.name!r} "
        f"died or the executor lost the task{' (retried once on its own)' if retried else ''}; "
        "the other datasets' fits are kept."
    )
    return _Outcome(task.index, task.name, "", error=_portable(error), traceback=message)

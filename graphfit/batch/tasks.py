"""One dataset's fit as a task that can run in any process: what goes to a worker, what comes back,
and the dataset's result rebuilt from it in the calling process."""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphfit.backend.structures import (
    LOCK,
    compile_stats,
)
from graphfit.batch.fit_warnings import CapturedWarning
from graphfit.results.independent import IndependentResultList
from graphfit.search.base import Search
from graphfit.spec.factor_graph import AnalysisFactor
from graphfit.util import one_thread

if TYPE_CHECKING:
    from graphfit.results.independent import IndependentResultList
    from graphfit.search.base import Search

import contextlib
import copy
import pickle
import socket
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graphfit.backend.cache import share_structure
from graphfit.backend.compiled import CompiledGraph
from graphfit.backend.structures import (
    warm_imports,
)
from graphfit.batch.fit_warnings import capture
from graphfit.results.independent import FailedResult
from graphfit.results.result_list import ResultList
from graphfit.search.base import Search
from graphfit.search.interrupts import _alive, worker_task
from graphfit.search.nuts import NUTS
from graphfit.spec.factor_graph import FactorGraphModel

if TYPE_CHECKING:
    from graphfit.results.result_list import ResultList
    from graphfit.search.base import Search

__all__ = ["SPILL_PREFIX", "dataset_search", "fit_dataset", "remove_orphaned_spills", "warm_worker"]


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

    if search is None:
        return importlib.util.find_spec("nutpie") is None
    return not (isinstance(search, NUTS) and search.sampler == "nutpie")


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
        ``graphfit.batch.tasks.dataset_search``.
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
                failure: tuple[BaseException, str] | None = (
                    _portable(error),
                    traceback.format_exc(),
                )
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
            nodes=result_list.require("compiled", "a fitted dataset's nodes").nodes,
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


#: Name prefix of fit_each's spill directories, followed by the calling process's id.
SPILL_PREFIX = "graphfit-fit_each-"
# The spill directories this worker process was given (removed if its caller dies).
_SPILLS: set[str] = set()


def spill_directory() -> str:
    """A new spill directory for this process's :func:`fit_each` (see :func:`_run_spilled`):
    private (mode 0700: only this user can read the pickles, or plant one for this process to
    load), named after this process's id, so that the next call removes it if this process was
    killed before it could (:func:`remove_orphaned_spills`)."""
    remove_orphaned_spills()
    return tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-")


def remove_orphaned_spills(root: str | None = None) -> list[str]:
    """Remove the spill directories in ``root`` (the temporary directory) that this user's
    fit_each calls left when their process was killed (``kill -9``): those whose process no
    longer exists.  Returns the directories removed."""
    root = tempfile.gettempdir() if root is None else root
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            pid = entry.name[len(SPILL_PREFIX) :].split("-", 1)[0]
            if not (entry.name.startswith(SPILL_PREFIX) and pid.isdigit()) or _alive(int(pid)):
                continue
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
                    shutil.rmtree(entry.path)
                    removed.append(entry.path)
    return removed


def _remove_spills() -> None:
    """In a pool worker whose caller died: remove the spill directories it was given."""
    for directory in _SPILLS:
        shutil.rmtree(directory, ignore_errors=True)


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

    _SPILLS.add(directory)
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


# fit_each calls that were interrupted: their tasks still queued in this process's threads stop
_CANCELLED: set[str] = set()


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

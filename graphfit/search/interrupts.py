"""Interrupts: Ctrl-C stops a fit, and nothing a sampler returns early is kept as finished.

nutpie and PyMC's samplers catch ``KeyboardInterrupt`` themselves and return what they have:
nutpie the draws so far padded with NaN, PyMC a shorter trace (and PyMC sampling chains one
after another goes on with the next chain).  graphfit therefore runs every sampler and
optimiser inside :class:`interruptible`, which notes a Ctrl-C that arrives while it runs and
raises ``KeyboardInterrupt`` once it has returned (for PyMC's sampler, its ``callback`` also
stops every later draw), and checks what came back with :func:`check_complete` (fewer chains
or draws than asked, or non-finite draws, are an error even when no interrupt was seen).  So an
interrupted fit is never post-processed, diagnosed or saved as finished.  A sampler that lets
``KeyboardInterrupt`` through (SMC, dynesty, the MAP optimiser) just stops; JAX (numpyro) runs
all draws as one computation, so Ctrl-C takes effect when that computation returns.

:func:`graphfit.fit_each` raises :class:`~graphfit.FitInterrupted`, a ``KeyboardInterrupt``
carrying the datasets that finished before the interrupt.  The worker processes of the pools
it starts ignore Ctrl-C (the calling process decides) and stop cleanly on ``SIGTERM``
(:func:`stop_on_sigterm`): the fit running there unwinds as after Ctrl-C, removing its
temporary output folder, and the process exits.

A worker process must not outlive the process that started it: after ``kill -9`` of the
calling process, nothing would ever stop it (PyMC's chain processes wait for the next message
on a pipe that siblings keep open, fit_each's pool workers for the next task).  So each one
watches its parent (``watch_parent``, a thread polling every ``PARENT_POLL`` seconds) and
exits once it has died: PyMC's chain processes through ``watched_context``, the
multiprocessing context graphfit gives ``pm.sample``, and fit_each's pool workers from their
initializer, after unwinding their fit as on ``SIGTERM`` (at most ``ORPHAN_GRACE`` seconds).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import SearchError

if TYPE_CHECKING:
    from graphfit.results.independent import IndependentResultList

__all__ = [
    "ORPHAN_GRACE",
    "PARENT_POLL",
    "FitInterrupted",
    "check_complete",
    "ignoring_interrupts",
    "interruptible",
    "stop_on_sigterm",
    "watch_parent",
    "watched_context",
    "worker_task",
]

#: Seconds between a worker process's checks that the process that started it is alive ...
PARENT_POLL = 1.0
#: ... and seconds an orphaned pool worker has to unwind its fit before it exits regardless.
ORPHAN_GRACE = 5.0


class FitInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`graphfit.fit_each`; ``results`` holds what finished before it.

    It is a ``KeyboardInterrupt``, so code that does not know it stops as after any Ctrl-C
    (``except Exception`` does not catch it).  Catch it to keep the finished fits.

    Attributes
    ----------
    results
        An :class:`~graphfit.IndependentResultList` with one entry per dataset, in input
        order: the :class:`~graphfit.Result` of every fit that finished, and a
        :class:`~graphfit.FailedResult` for every other dataset, whose ``error`` is a
        ``KeyboardInterrupt`` saying whether the dataset was being fitted when the interrupt
        came (``"interrupted ..."``) or had not started (``"not run ..."``).  Fits that failed
        before the interrupt keep their own error.  Partial fits are never among the results,
        and never saved.

    Examples
    --------
    >>> import graphfit as gf
    >>> factors = [
    ...     gf.AnalysisFactor(gf.Model(gf.ex.Gaussian),
    ...                       gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)))
    ...     for s in range(3)
    ... ]
    >>> try:
    ...     result_list = gf.fit_each(factors, gf.MAP(random_seed=1), progressbar=False)
    ... except gf.FitInterrupted as interrupt:  # Ctrl-C: keep what finished
    ...     result_list = interrupt.results
    >>> issubclass(gf.FitInterrupted, KeyboardInterrupt), len(result_list.succeeded)
    (True, 3)
    """

    def __init__(self, message: str, results: IndependentResultList | None = None) -> None:
        super().__init__(message)
        self.results = results


class _WorkerState:
    """A pool worker's state for :func:`stop_on_sigterm` (one per process)."""

    busy = False
    stopping = False


_WORKER = _WorkerState()


def _stop_worker(signum: int, frame: FrameType | None) -> None:
    """``SIGTERM`` handler of fit_each's pool workers (see :func:`stop_on_sigterm`)."""
    _WORKER.stopping = True
    if _WORKER.busy:
        raise KeyboardInterrupt("fit_each stopped this worker process (SIGTERM)")
    os._exit(128 + signum)  # idle: nothing to clean up


def stop_on_sigterm() -> None:
    """Make this process a pool worker that the calling process stops: Ctrl-C is ignored
    here, and ``SIGTERM`` stops the fit in progress as Ctrl-C would (the sampler stops, the
    temporary output folder is removed) and then ends the process; an idle worker ends at once.

    The pools that :func:`graphfit.fit_each` starts run it first thing in every worker.  A
    terminal's Ctrl-C reaches every process of the foreground group, and a notebook's
    interrupt reaches only the kernel; either way the calling process stops the workers it
    owns, so they ignore Ctrl-C themselves.

    Examples
    --------
    >>> import multiprocessing, signal
    >>> from graphfit.search.interrupts import stop_on_sigterm
    >>> process = multiprocessing.get_context("fork").Process(target=stop_on_sigterm)
    >>> process.start(); process.join(); process.exitcode
    0
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)


@contextlib.contextmanager
def worker_task() -> Iterator[None]:
    """Mark this process as fitting while inside (see :func:`stop_on_sigterm`); a worker
    that was asked to stop ends when the fit has unwound.

    Examples
    --------
    >>> from graphfit.search.interrupts import worker_task
    >>> with worker_task():
    ...     pass
    """
    busy = _WORKER.busy
    _WORKER.busy = True
    try:
        yield
    finally:
        _WORKER.busy = busy
        if _WORKER.stopping and not busy:
            os._exit(128 + signal.SIGTERM)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a zombie included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, another user's
        return True
    return True


def _orphaned(parent: int, ppid: int) -> bool:
    """Whether this process lost the process that started it (``parent``): the system
    re-parented it (its parent id is no longer ``ppid``, the one it started with), or
    ``parent`` no longer exists (it may not be the system parent, e.g. under a fork server)."""
    return os.getppid() != ppid or not _alive(parent)


def watch_parent(
    on_orphaned: Callable[[], None] | None = None, poll: float | None = None
) -> threading.Thread | None:
    """Exit this worker process once the process that started it has died.

    A daemon thread checks every ``poll`` seconds (``PARENT_POLL``) whether the parent is
    alive.  Once it is not, it calls ``on_orphaned`` (errors ignored), then, in a pool
    worker of :func:`graphfit.fit_each` (see :func:`stop_on_sigterm`), stops the fit in
    progress as ``SIGTERM`` does and gives it ``ORPHAN_GRACE`` seconds to unwind (removing
    its temporary output folder); then the process exits (``os._exit``), skipping clean-up
    that belongs to the dead parent.  Outside a multiprocessing child it does nothing.

    Parameters
    ----------
    on_orphaned
        Called first once the parent has died (e.g. to remove files meant for it).
    poll
        Seconds between checks; ``None``: ``PARENT_POLL``.

    Returns
    -------
    threading.Thread or None
        The watching thread, or ``None`` in a process not started by multiprocessing.

    Examples
    --------
    >>> from graphfit.search.interrupts import watch_parent
    >>> watch_parent() is None  # this process was not started by multiprocessing
    True
    """
    import multiprocessing  # import time: only worker processes watch

    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return None
    pid, ppid, every = parent.pid, os.getppid(), PARENT_POLL if poll is None else poll

    def watch() -> None:
        while not _orphaned(pid, ppid):
            time.sleep(every)
        with contextlib.suppress(BaseException):
            if on_orphaned is not None:
                on_orphaned()
        if signal.getsignal(signal.SIGTERM) is _stop_worker:
            os.kill(os.getpid(), signal.SIGTERM)  # the fit unwinds, then the process exits
            time.sleep(ORPHAN_GRACE)
        os._exit(128 + signal.SIGKILL)

    thread = threading.Thread(target=watch, name="graphfit-watch-parent", daemon=True)
    thread.start()
    return thread


def _run_watched(target: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> Any:
    """A process's target, run while :func:`watch_parent` watches its parent."""
    watch_parent()
    return target(*args, **kwargs)


class _WatchedContext:
    """A multiprocessing context whose ``Process`` watches its parent (see
    :func:`watched_context`); everything else is the wrapped context's."""

    def __init__(self, base: Any) -> None:
        self._base = base

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)

    def Process(  # the name of a multiprocessing context's attribute
        self,
        group: None = None,
        target: Callable[..., Any] | None = None,
        name: str | None = None,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        daemon: bool | None = None,
    ) -> Any:
        return self._base.Process(
            group=group,
            target=_run_watched,
            name=name,
            args=(target, tuple(args), dict(kwargs or {})),
            daemon=daemon,
        )


def watched_context(mp_ctx: Any = None) -> Any:
    """The multiprocessing context to give ``pm.sample`` (``mp_ctx=``): its processes (PyMC's
    chains) exit once the process that started them has died (:func:`watch_parent`), where
    PyMC's own would wait for ever on their pipe.

    Parameters
    ----------
    mp_ctx
        The user's ``mp_ctx`` (a start method's name or a context), wrapped.  ``None``:
        the default start method on Linux; elsewhere ``None`` (PyMC chooses, not watched).

    Examples
    --------
    >>> from graphfit.search.interrupts import watched_context
    >>> context = watched_context("spawn")
    >>> context.get_start_method()
    'spawn'
    """
    import multiprocessing  # import time: only parallel sampling needs it

    if mp_ctx is None and not sys.platform.startswith("linux"):
        return None
    if isinstance(mp_ctx, _WatchedContext):
        return mp_ctx
    base = mp_ctx if hasattr(mp_ctx, "Process") else multiprocessing.get_context(mp_ctx)
    return _WatchedContext(base)


@contextlib.contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """Ignore Ctrl-C while inside (in the main thread): for the clean-up after an interrupt,
    which a second Ctrl-C must not cut short.

    Examples
    --------
    >>> import signal
    >>> from graphfit.search.interrupts import ignoring_interrupts
    >>> with ignoring_interrupts():
    ...     signal.raise_signal(signal.SIGINT)  # ignored
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


def _watched() -> list[signal.Signals]:
    """Signals that mean "stop" in this process: Ctrl-C, and SIGTERM in a pool worker."""
    signals = [signal.SIGINT]
    if signal.getsignal(signal.SIGTERM) is _stop_worker:
        signals.append(signal.SIGTERM)
    return signals


class interruptible:
    """Run a sampler that swallows Ctrl-C, and raise ``KeyboardInterrupt`` after it returns.

    While inside (in the main thread; elsewhere signals cannot be handled and nothing is
    installed), a Ctrl-C is noted and then handled as before (by default Python raises
    ``KeyboardInterrupt``, which stops nutpie and PyMC's samplers early; an ignored SIGINT
    stays ignored and is not noted).  On leaving, the
    previous handler is restored and, if an interrupt was noted, ``KeyboardInterrupt`` is
    raised with a message naming ``what``: the sampler's partial output is never used.

    Parameters
    ----------
    what
        What runs inside, for the message (``"NUTS(sampler='nutpie')"``).

    Examples
    --------
    >>> import signal
    >>> from graphfit.search.interrupts import interruptible
    >>> try:
    ...     with interruptible("a sampler"):
    ...         try:
    ...             signal.raise_signal(signal.SIGINT)  # Ctrl-C ...
    ...         except KeyboardInterrupt:
    ...             pass  # ... swallowed, as samplers do
    ... except KeyboardInterrupt as error:
    ...     print(error)
    a sampler was interrupted (Ctrl-C); its partial output was discarded and nothing was saved.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        #: Whether an interrupt arrived while inside.
        self.received = False
        self._previous: dict[int, Any] = {}

    def callback(self, previous: Any = None) -> Any:
        """A ``callback`` for ``pm.sample`` that stops every later draw once an interrupt was
        noted (calling ``previous`` first): PyMC's sampler in one process catches Ctrl-C per
        chain and goes on with the next chain."""

        def callback(trace: Any, draw: Any) -> None:
            if previous is not None:
                previous(trace=trace, draw=draw)
            if self.received:
                raise KeyboardInterrupt

        return callback

    def _handler(self, previous: Any) -> Any:
        def handler(signum: int, frame: FrameType | None) -> None:
            if previous == signal.SIG_IGN:
                return  # ignored before: not an interrupt (pool workers leave it to the caller)
            self.received = True
            if callable(previous):
                previous(signum, frame)
            else:  # SIG_DFL: what the default does, end the process
                signal.signal(signum, signal.SIG_DFL)
                signal.raise_signal(signum)

        return handler

    def __enter__(self) -> interruptible:
        self.received = False
        if threading.current_thread() is threading.main_thread():
            for signum in _watched():
                previous = signal.getsignal(signum)
                if previous is None:  # installed from C: cannot be restored, leave it
                    continue
                signal.signal(signum, self._handler(previous))
                self._previous[signum] = previous
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:  # never swallows the exception: raises its own or lets it through
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous = {}
        if not self.received:
            return False
        # swallowed by the sampler, or raised where it arrived (e.g. while PyMC compiles)
        raise KeyboardInterrupt(
            f"{self.what} was interrupted (Ctrl-C); its partial output was discarded and "
            "nothing was saved."
        ) from error


def check_complete(
    idata: Any,
    what: str,
    *,
    chains: int | None = None,
    draws: int | None = None,
    var_names: Sequence[str] | None = None,
) -> None:
    """Refuse a sampler's output that is not a whole posterior.

    Samplers stopped early return fewer chains or draws than asked (PyMC) or pad the missing
    draws with NaN (nutpie); neither is a finished fit, whatever stopped them.

    Parameters
    ----------
    idata
        The sampler's ``InferenceData``.
    what
        The search, for the message.
    chains, draws
        How many chains and draws per chain were asked for (``None``: not checked).
    var_names
        Variables that must be finite in every draw; ``None``: every posterior variable
        (nutpie pads the draws it did not make with NaN in all of them; an accepted draw of
        a graphfit model is finite in every variable, relations included, since they enter
        the likelihood).

    Raises
    ------
    SearchError
        Naming what is missing and saying to refit.

    Examples
    --------
    >>> import numpy as np
    >>> from graphfit.backend import stack
    >>> from graphfit.search.interrupts import check_complete
    >>> short = stack.from_arrays(posterior={"a": np.zeros((2, 60))})
    >>> try:
    ...     check_complete(short, "NUTS", chains=2, draws=100)
    ... except ValueError as error:
    ...     print(error)  # doctest: +NORMALIZE_WHITESPACE
    NUTS returned an incomplete posterior: 60 draws per chain where 100 were asked for. A
    sampler stopped early (e.g. interrupted) returns what it has; it is not kept as a finished
    fit. Fit again.
    """
    posterior = stack.group(idata, "posterior")
    problems = []
    got_chains, got_draws = posterior.sizes.get("chain", 0), posterior.sizes.get("draw", 0)
    if chains is not None and got_chains < chains:
        problems.append(f"{got_chains} chain(s) where {chains} were asked for")
    if draws is not None and got_draws < draws:
        problems.append(f"{got_draws} draws per chain where {draws} were asked for")
    bad = []
    for name in posterior.data_vars if var_names is None else var_names:
        if name not in posterior:
            continue
        values = np.asarray(posterior[name].values)
        if np.issubdtype(values.dtype, np.number):
            count = int(values.size - np.count_nonzero(np.isfinite(values)))
            if count:
                bad.append(f"{name} ({count} of {values.size} values)")
    if bad:
        problems.append(f"non-finite draws (NaN or inf) in {', '.join(bad)}")
    if problems:
        raise SearchError(
            f"{what} returned an incomplete posterior: {'; '.join(problems)}. A sampler "
            "stopped early (e.g. interrupted) returns what it has; it is not kept as a "
            "finished fit. Fit again."
        )

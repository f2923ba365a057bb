"""Stage lines: what a fit is doing, and for how long.

Building the model, compiling it and finding start values can take most of a small fit's time,
before any sampler shows a bar.  With ``progressbar=True`` (every search's keyword, and
:func:`~graphfit.fit_each`'s) :meth:`Search.fit <graphfit.search.base.Search.fit>` reports each
stage on ``sys.stderr``, where progress bars go:

- **In a terminal or a notebook** the current stage is one line updated in place every
  ``INTERVAL`` seconds (a ``tqdm`` line with a timer thread that sleeps between updates:
  ``graphfit: compiling the model (3.2 s)``), left in place with its final time when the stage
  ends.  A notebook shows ``tqdm``'s widget when ``ipywidgets`` is installed, else the same text.
  While the sampler runs, its own progress bar is the only one drawn: the ``sampling`` line is
  written when it has finished, and nothing is redrawn meanwhile.
- **Anywhere else** (output to a file, a pipe, a CI log) each stage is one line written when it
  ends, nothing in between: a log file shows where the time went without carriage returns.

The last line gives the whole fit's time (``graphfit: finished (12.7 s)``).  Every stage is
also logged at DEBUG level to the ``"graphfit"`` logger.  With ``progressbar=False`` nothing is
written.

The stages are the keys of a fit's ``timings`` (``result_list.timings``):
:class:`StageTimings` is that dict, told when a stage begins (:meth:`StageTimings.begin`) and
when its time is recorded (``timings["sample"] = seconds``).  A search that only records its
times still gets a line per stage when each ends.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
from typing import IO, Any

__all__ = ["INTERVAL", "STAGES", "StageReporter", "StageTimings", "bar_class", "interactive"]

logger = logging.getLogger("graphfit")

#: The stages reported, by their key in a fit's timings, with what their line says.
STAGES = {
    "build": "building the model",
    "compile": "compiling the model",
    "start": "finding start values",
    "sample": "sampling",
    "postprocess": "post-processing",
    "save": "saving the fit",
}
#: Stages whose line is not redrawn while they run: the sampler draws its own progress bar.
QUIET = frozenset({"sample"})
#: The stage that follows the end of a stage in every search (``sample`` is followed by
#: ``postprocess``), begun on its own when a search records the first one's time.
FOLLOWS = {"sample": "postprocess"}
#: Seconds between updates of a stage's line in a terminal or notebook.
INTERVAL = 0.5


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython is never imported here)."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    try:
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # an unusual shell: take it as not a notebook
        return False


def interactive(file: IO[str] | None = None) -> bool:
    """Whether progress written to ``file`` (default ``sys.stderr``) is seen as it happens:
    a terminal, or a Jupyter notebook.  The environment variable ``GRAPHFIT_PROGRESS=lines``
    says it is not (one line per finished stage), for output that is recorded rather than
    watched, such as notebooks executed to build documentation.

    Examples
    --------
    >>> import io
    >>> from graphfit.search.progress import interactive
    >>> interactive(io.StringIO())
    False
    """
    if os.environ.get("GRAPHFIT_PROGRESS") == "lines":
        return False
    file = sys.stderr if file is None else file
    try:
        if file.isatty():
            return True
    except (AttributeError, ValueError, OSError):  # no isatty, or closed
        pass
    return in_notebook()


def bar_class(file: IO[str] | None = None) -> type:
    """The ``tqdm`` class for progress written to ``file``: the notebook widget in a Jupyter
    kernel with ``ipywidgets`` installed, else the text bar (which notebooks show too).  What
    ``tqdm.auto`` picks, without its warning when ``ipywidgets`` is missing.

    Examples
    --------
    >>> import io
    >>> from graphfit.search.progress import bar_class
    >>> bar_class(io.StringIO()).__module__
    'tqdm.std'
    """
    if in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm

        return tqdm
    from tqdm.std import tqdm

    return tqdm


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f} s"


class StageReporter:
    """Lines saying which stage of a fit runs and for how long (see the module docstring).

    Parameters
    ----------
    enabled
        Write anything at all (a search's ``progressbar``).
    file
        Where to write; default ``sys.stderr`` when the reporter is made.
    live
        Redraw the current stage's line in place; default: when ``file`` is a terminal or this
        is a notebook (:func:`interactive`).

    Examples
    --------
    >>> import io
    >>> from graphfit.search.progress import StageReporter
    >>> out = io.StringIO()
    >>> reporter = StageReporter(file=out)
    >>> reporter.begin("build")
    >>> reporter.recorded("build", 0.42)  # shown with the time since it began
    >>> reporter.recorded("sample", 2.0)  # a stage whose beginning nobody said
    >>> reporter.recorded("postprocess", 0.25)  # begun on its own after sampling
    >>> reporter.close(total=2.75)
    >>> print(out.getvalue(), end="")
    graphfit: building the model (0.0 s)
    graphfit: sampling (2.0 s)
    graphfit: post-processing (0.0 s)
    graphfit: finished (2.8 s)
    """

    def __init__(
        self, enabled: bool = True, file: IO[str] | None = None, live: bool | None = None
    ) -> None:
        self.enabled = bool(enabled)
        self.file = sys.stderr if file is None else file
        self.live = self.enabled and (interactive(self.file) if live is None else bool(live))
        self._stage: str | None = None
        self._clock = 0.0
        self._bar: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None  # redraws the live line; none otherwise

    def begin(self, stage: str) -> None:
        """End the current stage and begin ``stage`` (a key of :data:`STAGES`)."""
        if not self.enabled:
            return
        with self._lock:
            self._end(None)
            self._stage, self._clock = stage, time.perf_counter()
            if self.live and stage not in QUIET:
                self._bar = bar_class(self.file)(
                    file=self.file, bar_format="{desc}", leave=True, desc=self._text(0.0)
                )
        self._ticking()

    def recorded(self, key: str, seconds: float) -> None:
        """The fit recorded ``seconds`` for ``key``: the end of that stage, if it is one.  A
        stage said to begin is shown with the time since then (what the user waited, which
        may be more than the time recorded: a sampler's own set-up), else with ``seconds``."""
        if not self.enabled or key not in STAGES:
            return
        with self._lock:
            began = self._stage == key
            self._end(None)  # the current stage: ``key`` itself if it was said to begin
            if not began:
                self._stage = key
                self._end(seconds)
        if key in FOLLOWS:
            self.begin(FOLLOWS[key])
        else:
            self._ticking()

    def note(self, text: str) -> None:
        """Write ``text`` on a line of its own, as ``graphfit: <text>``."""
        if not self.enabled:
            return
        with self._lock:
            self._write(f"graphfit: {text}")

    def close(self, total: float | None = None) -> None:
        """End the current stage and stop updating; with ``total``, a last line giving the
        fit's time.  Safe to call more than once."""
        if not self.enabled:
            return
        with self._lock:
            self._end(None)
            if total is not None:
                self._write(f"graphfit: finished ({_seconds(total)})")
            self.enabled = False
        self._ticking()

    # -- internals (called holding the lock) -------------------------------------------------

    def _text(self, seconds: float) -> str:
        return f"graphfit: {STAGES.get(self._stage or '', self._stage)} ({_seconds(seconds)})"

    def _end(self, seconds: float | None) -> None:
        """Finish the current stage's line with ``seconds`` (default: the time since it
        began)."""
        if self._stage is None:
            return
        if seconds is None:
            seconds = time.perf_counter() - self._clock
        text = self._text(seconds)
        logger.debug(text)
        if self._bar is not None:
            self._bar.set_description_str(text, refresh=False)
            self._bar.close()
            self._bar = None
        else:
            self._write(text)
        self._stage = None

    def _write(self, text: str) -> None:
        if self._bar is not None:  # above the live line, which is drawn again below it
            self._bar.write(text, file=self.file)
        else:
            print(text, file=self.file, flush=True)

    def _ticking(self) -> None:
        """Run the thread that redraws the live line while there is one, and no thread
        otherwise (none while the sampler runs, which may fork its chains' processes).
        Called without the lock, which the thread takes."""
        if self._bar is not None and self._thread is None:
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._tick, args=(self._stop,), name="graphfit-progress", daemon=True
            )
            self._thread.start()
        elif self._bar is None and self._thread is not None:
            self._stop.set()  # it wakes at once and exits
            self._thread.join(timeout=1.0)
            self._thread = None

    def _tick(self, stop: threading.Event) -> None:
        while not stop.wait(INTERVAL):
            with self._lock:
                if self._bar is not None:
                    self._bar.set_description_str(
                        self._text(time.perf_counter() - self._clock), refresh=True
                    )


class StageTimings(dict[str, float]):
    """A fit's timings (stage -> seconds) that report its stages as they go.

    ``timings[key] = seconds`` records a time as in a plain dict and tells the
    :class:`StageReporter` that the stage ``key`` ended; :meth:`begin` says that one begins.

    Parameters
    ----------
    reporter
        Where the stages are reported; default one that writes nothing.

    Examples
    --------
    >>> import io
    >>> from graphfit.search.progress import StageReporter, StageTimings
    >>> out = io.StringIO()
    >>> timings = StageTimings(StageReporter(file=out))
    >>> timings["start"] = 1.25  # the stage "start" ended after 1.25 s
    >>> timings["total"] = 1.25  # not a stage: recorded only
    >>> timings.close()
    >>> dict(timings), out.getvalue()
    ({'start': 1.25, 'total': 1.25}, 'graphfit: finding start values (1.2 s)\\n')
    """

    def __init__(self, reporter: StageReporter | None = None) -> None:
        super().__init__()
        self.reporter = StageReporter(enabled=False) if reporter is None else reporter

    def begin(self, stage: str) -> float:
        """Say that ``stage`` begins (the current one ends); returns ``time.perf_counter()``,
        the clock to measure it from."""
        self.reporter.begin(stage)
        return time.perf_counter()

    def note(self, text: str) -> None:
        """Show ``text`` on a line of its own (when progress is shown), and log it at INFO."""
        logger.info(text)
        self.reporter.note(text)

    def close(self, total: float | None = None) -> None:
        """Stop reporting (see :meth:`StageReporter.close`)."""
        self.reporter.close(total)

    def __setitem__(self, key: str, seconds: float) -> None:
        super().__setitem__(key, seconds)
        self.reporter.recorded(key, seconds)

    def __reduce__(self) -> Any:  # pickled (e.g. with a search sent to a worker) as a dict
        return (dict, (dict(self),))

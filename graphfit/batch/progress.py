"""``fit_each``'s progress bar over datasets, and its ``progressbar=`` keyword.

The bar counts the datasets done and failed and gives tqdm's estimate of the time left
(``fit_each:  40%|####      | 4/10 [00:12<00:18, 3.02s/dataset, 1 failed]``).  In a terminal or
a notebook it moves as each dataset (or chunk of datasets) finishes; written to a file or a
pipe (a log, CI), it is redrawn at most every ``LOG_INTERVAL`` seconds, and at the end.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from graphfit.search.progress import bar_class, interactive

__all__ = ["LOG_INTERVAL", "DatasetBar", "progressbar_keyword"]

#: Seconds between redraws of the bar when its output is not a terminal or notebook.
LOG_INTERVAL = 30.0


def progressbar_keyword(progressbar: bool | None, progress: bool | None) -> bool:
    """``fit_each``'s ``progressbar`` from its two spellings: ``progress=`` is the old one,
    accepted with a ``FutureWarning`` until the next release; giving both is a ``TypeError``.

    Examples
    --------
    >>> from graphfit.batch.progress import progressbar_keyword
    >>> progressbar_keyword(None, None), progressbar_keyword(False, None)
    (True, False)
    >>> try:
    ...     progressbar_keyword(True, False)
    ... except TypeError as error:
    ...     print(error)
    fit_each: give progressbar= only (progress= is its old name, which will be removed).
    """
    if progress is not None:
        if progressbar is not None:
            raise TypeError(
                "fit_each: give progressbar= only (progress= is its old name, which will be "
                "removed)."
            )
        warnings.warn(
            "fit_each: progress= is renamed progressbar= (as for every search); progress= "
            "will be removed in the next release.",
            FutureWarning,
            stacklevel=3,
        )
        return bool(progress)
    return True if progressbar is None else bool(progressbar)


class DatasetBar:
    """A bar over ``total`` datasets, drawn on ``sys.stderr`` when ``enabled``.

    Examples
    --------
    >>> import io
    >>> from graphfit.batch.progress import DatasetBar
    >>> out = io.StringIO()
    >>> bar = DatasetBar(2, file=out)
    >>> bar.done(failed=0)
    >>> bar.done(failed=1)
    >>> bar.close()
    >>> "2/2" in out.getvalue() and "1 failed" in out.getvalue()
    True
    >>> DatasetBar(2, enabled=False).done(failed=0)  # draws nothing
    """

    def __init__(self, total: int, enabled: bool = True, file: Any = None) -> None:
        self._bar: Any = None
        if enabled:
            file = sys.stderr if file is None else file
            self._bar = bar_class(file)(
                total=total,
                desc="fit_each",
                unit="dataset",
                leave=True,
                file=file,
                mininterval=0.1 if interactive(file) else LOG_INTERVAL,
                postfix="0 failed",
            )

    def done(self, failed: int) -> None:
        """One more dataset finished; ``failed`` of all finished so far failed."""
        if self._bar is not None:
            self._bar.set_postfix_str(f"{failed} failed", refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        """Draw the bar a last time and leave it."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

"""Warnings of independent fits: caught where each dataset is fitted, reported by dataset.

:func:`graphfit.fit_each` fits each dataset in whichever process its executor chooses.  A
warning raised there (a :class:`~graphfit.ConvergenceWarning`, say) would otherwise be printed
on a worker's stderr, or nowhere, without saying which dataset it is about.  So every fit runs
inside :func:`capture`, with the caller's warning filters (:func:`portable_filters`, sent with
the task), and its warnings travel back with its outcome as plain strings
(:class:`CapturedWarning`).  The caller keeps them on the results
(``IndependentResultList.warnings``) and re-emits them with :func:`emit`: one warning per
category, of that category (so filters by category work), naming the datasets::

    fit_each: ConvergenceWarning in 12 of 200 datasets: dataset_3 (R-hat above 1.01 for:
    centre (1.052)), dataset_9 (...), ... and 4 more

Fits in this process take the same path, so warnings behave the same whatever the executor.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

__all__ = ["CapturedWarning", "capture", "emit", "portable_filters", "summaries"]

#: Datasets named in one summary; the others are counted ("... and 4 more").
LISTED = 5
#: Characters of one dataset's messages in a summary (longer ones end with "...").
DATASET_CHARS = 300
#: Prefixes left out of a summary (the summary says what the warning is about).
_PREFIXES = (("graphfit convergence check: ", ""), ("graphfit convergence note: ", "note: "))


class CapturedWarning(NamedTuple):
    """A warning raised during one dataset's fit, as strings (they pickle anywhere).

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.batch.fit_warnings import CapturedWarning
    >>> captured = CapturedWarning.of(gf.ConvergenceWarning("R-hat above 1.01 for: a (1.1)"))
    >>> captured.name, captured.resolve() is gf.ConvergenceWarning
    ('ConvergenceWarning', True)
    """

    module: str
    name: str
    message: str

    @classmethod
    def of(cls, message: Warning | str, category: type[Warning] | None = None) -> CapturedWarning:
        """The captured form of a warning (``message`` and its ``category``)."""
        if category is None:
            category = type(message) if isinstance(message, Warning) else UserWarning
        return cls(category.__module__, category.__qualname__, str(message))

    def resolve(self) -> type[Warning]:
        """The warning's category in this process (``UserWarning`` if it cannot be imported
        here)."""
        try:
            value: Any = importlib.import_module(self.module)
            for part in self.name.split("."):
                value = getattr(value, part)
        except (ImportError, AttributeError):
            return UserWarning
        if isinstance(value, type) and issubclass(value, Warning):
            return value
        return UserWarning


def portable_filters() -> tuple[tuple[Any, ...], ...]:
    """This process's warning filters, as far as another process can unpickle them (filters
    on categories defined in ``__main__`` stay here).

    Examples
    --------
    >>> import warnings
    >>> from graphfit.batch.fit_warnings import portable_filters
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     portable_filters()[0]
    ('ignore', None, <class 'DeprecationWarning'>, None, 0)
    """
    kept = []
    for entry in warnings.filters:
        if getattr(entry[2], "__module__", "__main__") == "__main__":
            continue
        try:
            pickle.dumps(entry)
        except Exception:
            continue
        kept.append(tuple(entry))
    return tuple(kept)


def _install(filters: Sequence[tuple[Any, ...]]) -> None:
    """Make ``filters`` this process's warning filters (inside ``catch_warnings``)."""
    warnings.resetwarnings()  # empties the list in place and invalidates "once" registries
    warnings.filters.extend(filters)  # type: ignore[attr-defined]


@contextlib.contextmanager
def capture(filters: Sequence[tuple[Any, ...]] | None = None) -> Iterator[list[CapturedWarning]]:
    """Catch the warnings raised while inside, into the list it yields (each once, in order).

    ``filters`` (from :func:`portable_filters` in the calling process) replace this process's
    filters while inside, so a fit in a worker ignores what the caller ignores and turns into
    an error what the caller turns into an error.  Warnings are not shown while inside.  The
    warning filters are process-wide: fits in other threads of this process are caught too.

    Examples
    --------
    >>> import warnings
    >>> from graphfit.batch.fit_warnings import capture
    >>> show_all = [("always", None, Warning, None, 0)]  # as warnings.simplefilter("always")
    >>> with capture(show_all) as caught:
    ...     warnings.warn("noise_map has a zero", RuntimeWarning)
    >>> caught
    [CapturedWarning(module='builtins', name='RuntimeWarning', message='noise_map has a zero')]
    """
    caught: list[CapturedWarning] = []
    with warnings.catch_warnings(record=True) as records:
        if filters is not None:
            _install(filters)
        try:
            yield caught
        finally:
            for record in records:
                entry = CapturedWarning.of(str(record.message), record.category)
                if entry not in caught:
                    caught.append(entry)


def _short(message: str) -> str:
    for prefix, replacement in _PREFIXES:
        if message.startswith(prefix):
            return replacement + message[len(prefix) :]
    return message


def summaries(
    captured: Sequence[tuple[str, CapturedWarning]], datasets: int
) -> list[tuple[type[Warning], str]]:
    """One ``(category, message)`` per category of the ``(dataset, warning)`` pairs, in the
    order the categories first appear; ``datasets`` is how many datasets were fitted.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.batch.fit_warnings import CapturedWarning, summaries
    >>> rhat = "graphfit convergence check: R-hat above 1.01 for: centre (1.052)"
    >>> pairs = [(f"d{k}", CapturedWarning.of(gf.ConvergenceWarning(rhat))) for k in range(7)]
    >>> [(category.__name__, text) for category, text in summaries(pairs, 200)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('ConvergenceWarning', 'fit_each: ConvergenceWarning in 7 of 200 datasets: d0 (R-hat above
    1.01 for: centre (1.052)), d1 (R-hat above 1.01 for: centre (1.052)), d2 (R-hat above 1.01
    for: centre (1.052)), d3 (R-hat above 1.01 for: centre (1.052)), d4 (R-hat above 1.01 for:
    centre (1.052)), ... and 2 more')]
    """
    grouped: dict[tuple[str, str], dict[str, list[str]]] = {}
    for dataset, warning in captured:
        by_dataset = grouped.setdefault((warning.module, warning.name), {})
        by_dataset.setdefault(dataset, []).append(_short(warning.message))
    out = []
    for (module, name), by_dataset in grouped.items():
        parts = []
        for dataset, messages in list(by_dataset.items())[:LISTED]:
            text = "; ".join(messages)
            if len(text) > DATASET_CHARS:
                text = text[: DATASET_CHARS - 3] + "..."
            parts.append(f"{dataset} ({text})")
        more = len(by_dataset) - LISTED
        if more > 0:
            parts.append(f"... and {more} more")
        category = CapturedWarning(module, name, "").resolve()
        label = name if category.__qualname__ == name else f"{name} (shown as {category.__name__})"
        message = f"fit_each: {label} in {len(by_dataset)} of {datasets} datasets: "
        out.append((category, message + ", ".join(parts)))
    return out


def emit(captured: Sequence[tuple[str, CapturedWarning]], datasets: int, stacklevel: int) -> None:
    """Warn each of :func:`summaries` (``stacklevel`` as for ``warnings.warn``, counted from
    the caller of this function)."""
    for category, message in summaries(captured, datasets):
        warnings.warn(message, category, stacklevel=stacklevel + 1)

"""Results of independent fits: one fit per dataset, failures recorded beside the successes.

:func:`graphfit.fit_each` returns an :class:`IndependentResultList`, a
:class:`~graphfit.ResultList` whose entries are the datasets' own fits: each successful
entry is the single :class:`~graphfit.Result` of that dataset's fit, with its own
``idata``, instances and diagnostics; a dataset whose fit raised is a :class:`FailedResult` that
carries the error.  Indexing by position or name, iteration, ``to_datatree`` and ``summary`` work
as for a joint fit; what only a joint fit has (the joint model and log-likelihood, the sample
indices) raises an :class:`~graphfit.IndependentFitsError`, and ``populations`` is ``{}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphfit.exceptions import IndependentFitsError
from graphfit.results.html import result_list_html
from graphfit.results.result import Result
from graphfit.results.result_list import ResultList

__all__ = ["FailedResult", "IndependentResultList"]


class FailedResult:
    """The entry of a dataset whose fit failed: the dataset's name and the error.

    Parameters
    ----------
    name
        The dataset's name.
    index
        Its position in the list given to :func:`graphfit.fit_each`.
    error
        The exception the fit raised (or that the executor raised for it, e.g. a worker that
        died).
    traceback
        The formatted traceback, from the process where the fit ran.

    Examples
    --------
    >>> import graphfit as gf
    >>> failed = gf.FailedResult("dataset_3", 3, ValueError("noise_map has a zero"))
    >>> failed
    FailedResult(name='dataset_3', error=ValueError('noise_map has a zero'))
    >>> failed.failed, failed.message, failed.interrupted
    (True, 'ValueError: noise_map has a zero', False)
    """

    #: Always ``True`` (a :class:`~graphfit.Result` has no ``failed`` attribute).
    failed = True

    def __init__(self, name: str, index: int, error: BaseException, traceback: str = "") -> None:
        self.name = name
        self.index = index
        self.error = error
        self.traceback = traceback

    @property
    def message(self) -> str:
        """``"<error type>: <error message>"``."""
        return f"{type(self.error).__name__}: {self.error}"

    @property
    def interrupted(self) -> bool:
        """True when the dataset has no result because Ctrl-C stopped :func:`graphfit.fit_each`
        (its ``error`` is a ``KeyboardInterrupt`` whose message says whether the fit was
        running or not started), not because its fit failed."""
        return isinstance(self.error, KeyboardInterrupt)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise AttributeError(
            f"dataset {self.__dict__.get('name')!r} has no {attribute!r}: its fit failed "
            f"({type(self.__dict__.get('error')).__name__}: {self.__dict__.get('error')})."
        )

    def __repr__(self) -> str:
        return f"FailedResult(name={self.name!r}, error={self.error!r})"


def _no_joint(what: str) -> IndependentFitsError:
    return IndependentFitsError(
        f"{what}: these are independent fits with no joint posterior; use each "
        "result's own (result_list[name].idata, .max_log_likelihood_instance, ...)."
    )


class IndependentResultList(ResultList):
    """Independent fits of several datasets, one entry per dataset in input order.

    Each entry is the :class:`~graphfit.Result` of that dataset's own fit (its own
    ``idata``, ``diagnostics``, ``max_log_likelihood_instance``, ...) or a
    :class:`FailedResult`.  Returned by :func:`graphfit.fit_each`; not created by users.

    Attributes
    ----------
    names
        Dataset names, in input order.
    diagnostics
        ``{name: Diagnostics}`` of the fits that finished (``None`` values for an optimiser).
    compile_count
        How many times a PyMC model was compiled for these fits, summed over every process
        that fitted (one per structure per process when datasets share a structure).
    stats
        ``compiles``, ``fits`` (finished), ``failed``, ``workers`` (distinct processes),
        ``chunksize`` (most datasets in one task sent to an executor), ``seconds`` (wall clock), and
        ``fit_seconds`` / ``fit_cpu_seconds``: the fits' own wall-clock and CPU seconds summed
        over the processes that ran them (more wall than CPU: the fits waited for a core).
        After Ctrl-C (:class:`~graphfit.FitInterrupted`) also ``interrupted`` and ``not_run``.
    warnings
        Every warning raised during the fits, as ``(dataset, category name, message)`` in
        input order (each once per dataset), wherever the fits ran.  ``fit_each`` also
        re-emits them, one warning per category naming the datasets.

    Examples
    --------
    >>> import graphfit as gf
    >>> factors = [
    ...     gf.AnalysisFactor(gf.Model(gf.ex.Gaussian),
    ...                       gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)), name=n)
    ...     for s, n in [(0, "a"), (1, "b")]
    ... ]
    >>> result_list = gf.fit_each(factors, gf.MAP(random_seed=1), progressbar=False)
    >>> result_list
    ResultList(2 independent fits: a, b)
    >>> round(result_list["b"].max_log_likelihood_instance.centre), result_list.failed
    (50, [])
    >>> result_list.warnings  # (dataset, category, message) of the fits' warnings
    []
    """

    def __init__(
        self,
        entries: Sequence[Result | FailedResult],
        names: Sequence[str],
        *,
        compile_count: int = 0,
        stats: dict[str, Any] | None = None,
        warnings: Sequence[tuple[str, Any]] = (),
    ) -> None:
        # No joint graph, model or posterior: every entry has its own.
        entries = list(entries)
        super().__init__(
            None,
            None,
            None,
            {r.name: r.diagnostics for r in entries if isinstance(r, Result)},
            names=names,
            entries=entries,
            missing=_no_joint,
        )
        self.compile_count = int(compile_count)
        self.stats: dict[str, Any] = dict(stats or {})
        # (dataset, CapturedWarning) pairs, as strings
        self.warnings: list[tuple[str, str, str]] = [
            (dataset, warning.name, warning.message) for dataset, warning in warnings
        ]

    def __repr__(self) -> str:
        text = f"ResultList({len(self)} independent fits: {', '.join(self.names)}"
        failed = self.failed
        if failed:
            text += f"; {len(failed)} failed: {', '.join(f.name for f in failed)}"
        return text + ")"

    def _repr_html_(self) -> str:
        count = len(self.warnings)
        notes = [f"{count} warnings during the fits (result_list.warnings)"] if count else []
        return result_list_html(self, notes=notes)

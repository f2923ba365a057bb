"""Thread pools: one BLAS thread for work that gains nothing from more."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["one_thread"]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Limit the BLAS / OpenMP thread pools of this process to one thread while inside.

    :func:`~graphfit.fit_each` fits inside it, in whichever process fits: a fit uses one core
    (nutpie's chains run in ``search.cores`` threads of their own), and an idle multi-threaded
    BLAS spins on the other cores, which slows the other workers of a pool.  Small numpy and
    SciPy work (the start search's L-BFGS, the profiles of
    :mod:`graphfit.parametrization`) runs inside it too: with the other core busy, a
    multi-threaded BLAS made each L-BFGS iteration of a 2-parameter problem 15 times slower.
    The previous limits are restored on exit.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> from graphfit.threads import one_thread
    >>> with one_thread():
    ...     all(pool["num_threads"] == 1 for pool in threadpool_info())
    True
    """
    import scipy.linalg  # noqa: F401  (load SciPy's BLAS too, which fits use, so it is limited)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield

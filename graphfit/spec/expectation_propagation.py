"""PyAutoFit's expectation-propagation (EP) names, each raising an error that says what to call
instead.

HowToFit's graphical-models chapter fits a factor graph by expectation propagation: every
``AnalysisFactor`` is given its own search (``optimiser=``), ``factor_graph.optimise(...)`` with
a ``LaplaceOptimiser`` and an ``EPHistory`` fits the factors one at a time, passing messages
between the fits, and the result is a mean field (``EPMeanField``) that approximates the joint
posterior factor by factor.

graphfit has no EP.  It compiles the whole factor graph into one PyMC model (alike datasets
into one vectorised node) and samples the joint posterior exactly with NUTS, which is
affordable for graphs of this size.  The names here exist so that a ported script stops at its
first EP line with a :class:`~graphfit.ExpectationPropagationError` that says so, and names the
call that replaces the EP fit::

    gf.NUTS().fit(model=factor_graph.global_prior_model, analysis=factor_graph)

:class:`~graphfit.FactorGraphModel` has ``optimise`` and ``mean_field_approximation`` from
:class:`ExpectationPropagation`, and ``AnalysisFactor(optimiser=...)`` raises the same error.
"""

from __future__ import annotations

from typing import Any, NoReturn

from graphfit.exceptions import ExpectationPropagationError

__all__ = [
    "JOINT_FIT",
    "EPAnalysisFactor",
    "EPHistory",
    "EPMeanField",
    "EPOptimiser",
    "ExpectationPropagation",
    "LaplaceOptimiser",
    "ep_error",
]

#: The call that replaces an EP fit of a factor graph.
JOINT_FIT = "gf.NUTS().fit(model=factor_graph.global_prior_model, analysis=factor_graph)"


def ep_error(what: str, instead: str = "Call") -> ExpectationPropagationError:
    """The error for ``what``, a use of PyAutoFit's EP; ``instead`` starts the sentence that
    names :data:`JOINT_FIT`.

    Examples
    --------
    >>> from graphfit.spec.expectation_propagation import ep_error
    >>> print(ep_error("factor_graph.optimise(...)"))  # doctest: +ELLIPSIS
    factor_graph.optimise(...) belongs to PyAutoFit's expectation propagation (EP), ...
    """
    return ExpectationPropagationError(
        f"{what} belongs to PyAutoFit's expectation propagation (EP), which fits each factor "
        "of a graph on its own and approximates the joint posterior from messages passed "
        "between those fits. graphfit has no EP: it fits the factor graph jointly and exactly, "
        "compiling every factor into one PyMC model and sampling the joint posterior with "
        f"NUTS. {instead} {JOINT_FIT} instead (gf.MAP() for a quick point estimate); the guide "
        "'Coming from PyAutoFit' maps HowToFit's EP tutorial to this fit."
    )


def _refuse(cls: type, *args: Any, **kwargs: Any) -> NoReturn:
    """The ``__new__`` of the EP classes: building one raises :func:`ep_error`."""
    raise ep_error(f"gf.{cls.__name__}()")


class LaplaceOptimiser:
    """Not in graphfit: PyAutoFit's optimiser of EP's factor fits.

    graphfit samples the whole factor graph jointly with :class:`~graphfit.NUTS`; building one
    raises :class:`~graphfit.ExpectationPropagationError`, which names that call.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.LaplaceOptimiser()
    ... except gf.ExpectationPropagationError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    gf.LaplaceOptimiser() belongs to PyAutoFit's expectation propagation (EP), ...
    """

    __new__ = _refuse


class EPHistory:
    """Not in graphfit: PyAutoFit's record and stopping rule (``kl_tol``) of EP's cycles.

    A joint NUTS fit has no cycles to stop; its convergence is checked by R-hat and the
    effective sample size.  Building one raises :class:`~graphfit.ExpectationPropagationError`.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.EPHistory(kl_tol=0.05)
    ... except gf.ExpectationPropagationError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    gf.EPHistory() belongs to PyAutoFit's expectation propagation (EP), ...
    """

    __new__ = _refuse


class EPAnalysisFactor:
    """Not in graphfit: PyAutoFit's analysis factor for EP fits.

    Use :class:`~graphfit.AnalysisFactor`; building one raises
    :class:`~graphfit.ExpectationPropagationError`.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.EPAnalysisFactor()
    ... except gf.ExpectationPropagationError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    gf.EPAnalysisFactor() belongs to PyAutoFit's expectation propagation (EP), ...
    """

    __new__ = _refuse


class EPMeanField:
    """Not in graphfit: PyAutoFit's mean-field approximation of the joint posterior
    (``autofit.graphical.EPMeanField``).

    graphfit's joint posterior is the fit's draws (``result_list.idata``,
    ``result_list.samples``); building one raises
    :class:`~graphfit.ExpectationPropagationError`.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.EPMeanField()
    ... except gf.ExpectationPropagationError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    gf.EPMeanField() belongs to PyAutoFit's expectation propagation (EP), ...
    """

    __new__ = _refuse


class EPOptimiser:
    """Not in graphfit: PyAutoFit's EP loop (``autofit.graphical.EPOptimiser``).

    Building one raises :class:`~graphfit.ExpectationPropagationError`.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.EPOptimiser()
    ... except gf.ExpectationPropagationError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    gf.EPOptimiser() belongs to PyAutoFit's expectation propagation (EP), ...
    """

    __new__ = _refuse


class ExpectationPropagation:
    """The EP methods of PyAutoFit's ``FactorGraphModel``, for
    :class:`~graphfit.FactorGraphModel`: each raises
    :class:`~graphfit.ExpectationPropagationError`.
    """

    def optimise(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not in graphfit: PyAutoFit's EP fit of the graph.

        Raises
        ------
        ExpectationPropagationError
            Always; the message names the joint fit that replaces it,
            ``gf.NUTS().fit(model=factor_graph.global_prior_model, analysis=factor_graph)``.

        Examples
        --------
        >>> import graphfit as gf
        >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=1)
        >>> factor_graph = gf.FactorGraphModel(
        ...     gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), gf.ex.Analysis(data, noise_map))
        ... )
        >>> try:
        ...     factor_graph.optimise(max_steps=5)
        ... except gf.ExpectationPropagationError as error:
        ...     print(error)  # doctest: +ELLIPSIS
        factor_graph.optimise(...) belongs to PyAutoFit's expectation propagation (EP), ...
        """
        raise ep_error("factor_graph.optimise(...)")

    def mean_field_approximation(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not in graphfit: PyAutoFit's starting mean field of an EP fit.

        Raises
        ------
        ExpectationPropagationError
            Always, naming the joint fit that replaces EP.

        Examples
        --------
        >>> import graphfit as gf
        >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=1)
        >>> factor_graph = gf.FactorGraphModel(
        ...     gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), gf.ex.Analysis(data, noise_map))
        ... )
        >>> try:
        ...     factor_graph.mean_field_approximation()
        ... except gf.ExpectationPropagationError as error:
        ...     print(error)  # doctest: +ELLIPSIS
        factor_graph.mean_field_approximation() belongs to PyAutoFit's expectation ...
        """
        raise ep_error("factor_graph.mean_field_approximation()")

"""Exceptions raised by graphfit, and the warnings of what a user must see.

Every error a user can trigger by building an object with bad input is one of these classes.  Each
subclasses :class:`ValueError` or :class:`TypeError`, so code that already catches those keeps
working, and each message names the argument, shows what was given and says what is allowed.
"""

from __future__ import annotations

__all__ = [
    "ComparisonError",
    "ConstraintError",
    "DataError",
    "ExecutorError",
    "ExpectationPropagationError",
    "FactorGraphError",
    "GraphfitError",
    "IndependentFitsError",
    "InterpolationError",
    "MissingPriorError",
    "ModelAttributeError",
    "PlotError",
    "PredictiveError",
    "PriorError",
    "RelationError",
    "ResultLoadError",
    "ResumedFitWarning",
    "SamplerFallbackWarning",
    "SamplesError",
    "SearchError",
    "SearchKeywordError",
    "check_name",
    "for_dataset",
]


class GraphfitError(Exception):
    """Base class of every exception graphfit raises on purpose.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.NUTS(draws=0)
    ... except gf.GraphfitError as error:  # catches every graphfit error
    ...     print(type(error).__name__)
    SearchError
    """


class PriorError(GraphfitError, ValueError):
    """A prior was given arguments outside what its distribution allows.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.GaussianPrior(mean=0.0, sigma=-1.0)
    ... except gf.PriorError as error:
    ...     print(error)
    GaussianPrior: sigma = -1.0 must be > 0.
    """


class RelationError(GraphfitError, TypeError):
    """A relation was built from something that is neither a prior, a relation nor a number.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.UniformPrior(0.0, 1.0) * "two"
    ... except gf.RelationError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    relation '*': got 'two' of type str; a relation may only mix priors, relations and ...
    """


class ModelAttributeError(GraphfitError, TypeError):
    """A model was given an attribute its class's ``__init__`` does not have, or a bad value.

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> try:
    ...     model.center = 50.0
    ... except gf.ModelAttributeError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    Gaussian has no parameter 'center'; the arguments of Gaussian.__init__ are: centre, ...
    """


class MissingPriorError(GraphfitError, ValueError):
    """A model parameter has neither a prior nor a fixed value.

    Examples
    --------
    >>> import graphfit as gf
    >>> class Line:
    ...     def __init__(self, slope, intercept):
    ...         self.slope, self.intercept = slope, intercept
    >>> model = gf.Model(Line, slope=gf.UniformPrior(-1.0, 1.0))
    >>> try:
    ...     model.info
    ... except gf.MissingPriorError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    model: 'intercept' (parameter of Line) has neither a prior nor a value. ...
    """


class DataError(GraphfitError, ValueError):
    """Data or a noise map given to an analysis are not usable (shape, NaN, inf, sign).

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.ex.Analysis(data=[1.0, 2.0], noise_map=[0.1, 0.0])
    ... except gf.DataError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    ex.Analysis: noise_map has 1 value(s) <= 0, the first at index 1 (0.0); ...
    """


class ConstraintError(GraphfitError, ValueError):
    """An assertion is malformed, or no starting point satisfies the model's assertions.

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> try:
    ...     model.add_assertion(model.centre > "sigma")
    ... except gf.GraphfitError as error:
    ...     print(type(error).__name__)
    RelationError
    >>> try:
    ...     model.add_assertion(True)
    ... except gf.ConstraintError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    Gaussian.add_assertion: got True of type bool; give a comparison of the model's ...
    """


class FactorGraphError(GraphfitError, ValueError):
    """A factor graph is malformed (no factors, duplicate names, wrong model passed to a search).

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.FactorGraphModel()
    ... except gf.FactorGraphError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    FactorGraphModel needs at least one AnalysisFactor; got none. ...
    """


class SearchError(GraphfitError, ValueError):
    """A search was configured with invalid settings or asked to fit something it cannot.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.NUTS(chains=0)
    ... except gf.SearchError as error:
    ...     print(error)
    NUTS: chains must be an integer >= 1, got 0.
    """


class SearchKeywordError(SearchError, TypeError):
    """A search was given a keyword it does not take (a typo, or another sampler's option).

    Raised when the search is built; the message names the search, the keyword and the
    nearest keyword the search does take.  A :class:`TypeError`, as Python's own error for
    an unexpected keyword argument is, and a :class:`SearchError`.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.NUTS(draw=100)
    ... except gf.SearchKeywordError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    NUTS got an unknown keyword 'draw'; did you mean 'draws'? ...
    """


class ExpectationPropagationError(GraphfitError, TypeError):
    """A name of PyAutoFit's expectation propagation (EP) was used: ``gf.LaplaceOptimiser``,
    ``factor_graph.optimise(...)``, ``AnalysisFactor(optimiser=...)`` and the like.

    graphfit fits a factor graph jointly and exactly, sampling the joint posterior with NUTS,
    so it has no EP; the message says what to call instead.  A :class:`TypeError`, as for any
    call graphfit does not take.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.LaplaceOptimiser()
    ... except gf.ExpectationPropagationError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    gf.LaplaceOptimiser() belongs to PyAutoFit's expectation propagation (EP), ...
    """


class SamplesError(GraphfitError, ValueError):
    """Bad input to a fit's samples or prior passing (``result.samples``, ``result.model``):
    a ``sigma`` that is not a number > 0, a width that is not > 0, or a quantity the fit
    cannot give.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.samples import check_sigma
    >>> try:
    ...     check_sigma(-1.0, "samples.values_at_sigma")
    ... except gf.SamplesError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    samples.values_at_sigma: sigma = -1.0; sigma must be a finite number > 0 ...
    """


class ResultLoadError(GraphfitError, ValueError):
    """A saved result cannot be loaded: not a graphfit result folder, an unfinished fit, a
    damaged file, a format this version of graphfit cannot read, or a model that does not match.

    The message names the file or folder.

    Examples
    --------
    >>> import tempfile
    >>> import graphfit as gf
    >>> folder = tempfile.mkdtemp()
    >>> try:
    ...     gf.load_result(folder)
    ... except gf.ResultLoadError as error:
    ...     print(str(error).replace(folder, "<folder>"))  # doctest: +ELLIPSIS
    '<folder>' is not a graphfit result folder: it has no graphfit.json. ...
    """


class PredictiveError(GraphfitError, ValueError):
    """A posterior predictive was asked of a dataset that has no distribution to draw from.

    An analysis that overrides ``log_likelihood_function`` gives a likelihood value but no
    distribution of its data, so PyMC cannot draw replicated data for it.

    Examples
    --------
    >>> import graphfit as gf
    >>> issubclass(gf.PredictiveError, ValueError)
    True
    """


class PlotError(GraphfitError, ValueError):
    """A fit plot was asked of a dataset graphfit cannot draw (no observation, data of 3+ dims).

    Examples
    --------
    >>> import graphfit as gf
    >>> issubclass(gf.PlotError, gf.GraphfitError)
    True
    """


class ComparisonError(GraphfitError, ValueError):
    """Fits cannot be compared: they hold different datasets, or a dataset has a different
    number of observed points, or there is nothing to compare.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.compare({"only one": None})
    ... except gf.ComparisonError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    compare: needs at least two fits to compare, got 1 ('only one'); ...
    """


class ExecutorError(GraphfitError, ValueError):
    """An executor given to :func:`graphfit.fit_each` cannot run fits (wrong type, shut down).

    Examples
    --------
    >>> import graphfit as gf
    >>> factor = gf.AnalysisFactor(gf.Model(gf.ex.Gaussian),
    ...                            gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0)))
    >>> try:
    ...     gf.fit_each([factor], gf.MAP(), executor=0)
    ... except gf.ExecutorError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    fit_each: executor must be None, a number of processes >= 1 or a ...
    """


class IndependentFitsError(GraphfitError, ValueError):
    """Asked the results of independent fits for something only a joint fit has.

    Examples
    --------
    >>> import graphfit as gf
    >>> result_list = gf.IndependentResultList([], [])
    >>> try:
    ...     result_list.joint_log_likelihood()
    ... except gf.IndependentFitsError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    joint_log_likelihood: these are independent fits with no joint posterior; ...
    """


class InterpolationError(GraphfitError, ValueError):
    """Bad input to an interpolator: covariates not strictly increasing, lengths that differ,
    a query outside the fitted range without ``extrapolate=True``.

    Examples
    --------
    >>> import graphfit as gf
    >>> try:
    ...     gf.interpolate([], covariate=[], at=[1.0])
    ... except gf.InterpolationError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    interpolate: needs at least 2 ...
    """


# -- warnings: what a user must see, also in a notebook (where ``logging`` output is hidden) --


class ResumedFitWarning(UserWarning):
    """A named search loaded its finished fit from the output folder instead of fitting again
    (same model, data and search settings); delete the folder to fit again.

    Examples
    --------
    >>> import warnings
    >>> from graphfit.exceptions import ResumedFitWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("graphfit: loaded the finished fit", ResumedFitWarning)
    >>> caught[0].category.__name__, issubclass(ResumedFitWarning, UserWarning)
    ('ResumedFitWarning', True)
    """


class SamplerFallbackWarning(UserWarning):
    """A search ran another sampler than the one asked for, because the model does not allow
    it (``gf.NUTS`` on a black-box likelihood, which has no gradient, runs ``gf.SMC``).

    Examples
    --------
    >>> from graphfit.exceptions import SamplerFallbackWarning
    >>> issubclass(SamplerFallbackWarning, UserWarning)
    True
    """


def check_name(owner: str, name: object, error: type[GraphfitError]) -> None:
    """Raise ``error`` unless ``name`` is ``None`` or a non-empty string without ``/`` or
    control characters (NUL, newline, ...): names become PyMC variables and coordinates (where
    ``/`` is not allowed) and entries of saved files (where NUL cannot be stored).

    Examples
    --------
    >>> from graphfit.exceptions import FactorGraphError, check_name
    >>> check_name("AnalysisFactor", "epoch 1", FactorGraphError)
    >>> try:
    ...     check_name("AnalysisFactor", "night/1", FactorGraphError)
    ... except FactorGraphError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    AnalysisFactor: name 'night/1' contains '/'; a name may not contain '/' or control ...
    """
    if name is not None and (not isinstance(name, str) or not name):
        raise error(f"{owner}: name must be a non-empty string, got {name!r}.")
    if name is None:
        return
    bad = [c for c in str(name) if c == "/" or ord(c) < 32 or ord(c) == 127]
    if bad:
        fixed = "".join("_" if c in bad else c for c in str(name))
        raise error(
            f"{owner}: name {name!r} contains {bad[0]!r}; a name may not contain '/' or control "
            "characters such as NUL or a newline (it names variables of the PyMC model and "
            f"entries of saved files). Use e.g. {fixed!r}."
        )


def for_dataset(name: str, error: GraphfitError, where: str = "") -> GraphfitError:
    """``error`` with ``dataset '<name>': <where>`` in front of its message (once), of the same
    class.

    Examples
    --------
    >>> from graphfit.exceptions import DataError, for_dataset
    >>> print(for_dataset("epoch_1", DataError("noise_map has 1 NaN value")))
    dataset 'epoch_1': noise_map has 1 NaN value
    """
    prefix = f"dataset {name!r}: "
    text = str(error)
    if text.startswith(prefix):
        return error
    return type(error)(prefix + where + text)

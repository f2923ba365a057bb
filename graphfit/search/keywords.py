"""The keywords of a search: checked when it is built, PyAutoFit's bookkeeping ones translated.

Every search takes its own keywords (``gf.NUTS(draws=...)``) and, so that a PyAutoFit script
runs unchanged, the bookkeeping keywords PyAutoFit's searches share:

* ``name``, ``path_prefix`` and ``unique_tag`` are every search's own (the output folder and its
  identifier, see :class:`~graphfit.search.base.Search`);
* ``number_of_cores`` is ``cores`` for a search that has it (NUTS: chains run in parallel; SMC:
  processes); ``seed`` is ``random_seed``; ``silence=True`` turns the progress bar off;
* the rest (:data:`IGNORED`) mean nothing to graphfit: they are accepted, and one
  :class:`IgnoredKeywordWarning` per search says which were ignored and why.

Any other keyword is a mistake, reported at once by a
:class:`~graphfit.exceptions.SearchKeywordError` naming the nearest keyword the search takes
(``gf.NUTS(draw=100)`` suggests ``draws``), instead of reaching the sampler.  Options of the
sampler itself go in the search's ``sampler_kwargs`` dict.
"""

from __future__ import annotations

import difflib
import inspect
import warnings
from typing import Any

from graphfit.exceptions import SearchError, SearchKeywordError

__all__ = [
    "ALIASES",
    "IGNORED",
    "IgnoredKeywordWarning",
    "own_keywords",
    "sampler_options",
    "settle_keywords",
]


class IgnoredKeywordWarning(UserWarning):
    """A search was given keywords of PyAutoFit's that have no meaning in graphfit.

    Said once per search built, naming every ignored keyword and why it does not apply.

    Examples
    --------
    >>> import warnings
    >>> import graphfit as gf
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     search = gf.MAP(iterations_per_full_update=500)
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    MAP ignores PyAutoFit's iterations_per_full_update=500: graphfit writes a fit's output ...
    """


_WRITES_ONCE = (
    "graphfit writes a fit's output folder once, when the fit has finished, and nothing while "
    "it runs"
)

#: PyAutoFit keywords that graphfit accepts and ignores, with the reason the note gives.
IGNORED: dict[str, str] = {
    "iterations_per_update": _WRITES_ONCE,
    "iterations_per_full_update": _WRITES_ONCE,
    "iterations_per_quick_update": _WRITES_ONCE,
    "live_visual_update": "graphfit draws no plots while a fit runs",
    "session": "graphfit keeps no SQLite database; gf.Aggregator reads the output folders",
    "force_x1_cpu": "graphfit uses no pool of worker processes for this search",
}

#: PyAutoFit keywords that set one of the search's own keywords.
ALIASES: dict[str, str] = {"number_of_cores": "cores", "seed": "random_seed"}

_PYAUTOFIT = (*ALIASES, "silence", *IGNORED)


def own_keywords(owner: type[object]) -> list[str]:
    """The keywords ``owner.__init__`` names (in order), without ``self`` and ``**kwargs``.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.search.keywords import own_keywords
    >>> own_keywords(gf.MAP)[:3]
    ['n_random', 'n_optimise', 'random_seed']
    """
    kinds = (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    parameters = inspect.signature(owner.__init__).parameters.values()
    return [p.name for p in parameters if p.name != "self" and p.kind not in kinds]


def _unknown_message(name: str, unknown: list[str], takes: list[str]) -> str:
    candidates = takes + [k for k in _PYAUTOFIT if k not in takes]

    def near(key: str) -> str | None:
        matches = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
        return matches[0] if matches else None

    if len(unknown) == 1:
        key, match = unknown[0], near(unknown[0])
        what = f"{name} got an unknown keyword {key!r}"
        what += f"; did you mean {match!r}?" if match else "."
    else:
        parts = []
        for key in unknown:
            match = near(key)
            parts.append(f"{key!r} (did you mean {match!r}?)" if match else repr(key))
        what = f"{name} got unknown keywords {', '.join(parts)}."
    extra = [k for k in _PYAUTOFIT if k not in takes]
    message = (
        f"{what} {name} takes {', '.join(takes)}; and PyAutoFit's bookkeeping keywords "
        f"{', '.join(extra)}."
    )
    if "sampler_kwargs" in takes:
        message += " Options of the sampler itself go in sampler_kwargs={...}."
    return message


def settle_keywords(owner: type, given: dict[str, Any], **own: Any) -> dict[str, Any]:
    """Check the keywords ``given`` to ``owner`` beyond its own, and apply PyAutoFit's.

    Parameters
    ----------
    owner
        The search class (its ``__init__`` names its own keywords).
    given
        The keywords its ``__init__`` collected in ``**kwargs``.
    **own
        The values of the search's own keywords that PyAutoFit's may set (``cores``,
        ``random_seed``, ``progressbar``): a search without ``cores`` leaves it out.

    Returns
    -------
    dict
        ``own``, with the values set by PyAutoFit's keywords.

    Raises
    ------
    SearchKeywordError
        For a keyword neither the search nor PyAutoFit's bookkeeping has (naming the nearest
        valid one), or an alias given with its target set to another value
        (``cores=2, number_of_cores=4``).

    Warns
    -----
    IgnoredKeywordWarning
        Once, naming every PyAutoFit keyword ignored (given ``None`` or ``False``, which ask for
        nothing, they are ignored silently).

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.search.keywords import settle_keywords
    >>> settle_keywords(gf.NUTS, {"number_of_cores": 4, "silence": True}, cores=None,
    ...                 random_seed=None, progressbar=True)
    {'cores': 4, 'random_seed': None, 'progressbar': False}
    """
    name = owner.__name__
    takes = own_keywords(owner)
    unknown = [key for key in given if key not in _PYAUTOFIT]
    if unknown:
        raise SearchKeywordError(_unknown_message(name, unknown, takes))
    own = dict(own)
    notes = []
    for key, value in given.items():
        target = ALIASES.get(key)
        if target is not None and target in own:
            if value is None:
                continue
            if own[target] is not None and own[target] != value:
                raise SearchKeywordError(
                    f"{name} got {target}={own[target]!r} and PyAutoFit's {key}={value!r}, "
                    f"which is another name for {target}; give one of them."
                )
            own[target] = value
        elif key == "silence":
            if value:
                own["progressbar"] = False
        elif key == "number_of_cores":
            if value is not None and value != 1:
                notes.append(f"number_of_cores={value!r}: {name} runs in one process")
        elif value is not None and value is not False:
            notes.append(f"{key}={value!r}: {IGNORED[key]}")
    if notes:
        warnings.warn(
            f"{name} ignores PyAutoFit's {'; '.join(notes)}.",
            IgnoredKeywordWarning,
            stacklevel=3,
        )
    return own


def sampler_options(owner: str, value: Any) -> dict[str, Any]:
    """A search's ``sampler_kwargs``: a dict of keywords for the sampler itself (a copy), or
    ``{}`` for ``None``.

    Examples
    --------
    >>> from graphfit.search.keywords import sampler_options
    >>> sampler_options("NUTS", {"max_treedepth": 12})
    {'max_treedepth': 12}
    >>> try:
    ...     sampler_options("NUTS", [1])
    ... except ValueError as error:
    ...     print(error)
    NUTS: sampler_kwargs must be a dict of keyword arguments or None, got [1].
    """
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SearchError(
            f"{owner}: sampler_kwargs must be a dict of keyword arguments or None, got {value!r}."
        )
    return dict(value)

"""The names a model answers to: a component class's parameters (its ``__init__`` arguments),
and the error for a name it does not have, which lists the names it has and the closest of
them to the one asked for, so that a typo reads as one.

Reading a missing name raises ``AttributeError`` (not a graphfit exception): ``hasattr``,
``getattr(model, name, default)``, ``copy`` and notebooks' display hooks rely on it.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable

__all__ = ["init_parameters", "missing_name"]


def init_parameters(cls: type[object]) -> tuple[str, ...]:
    """Names of the parameters of ``cls.__init__`` (no ``self``, no ``*args``/``**kwargs``).

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.spec.parameter_names import init_parameters
    >>> init_parameters(gf.ex.Gaussian)
    ('centre', 'normalization', 'sigma')
    """
    if cls.__init__ is object.__init__:
        return ()
    signature = inspect.signature(cls.__init__)
    names = []
    for index, parameter in enumerate(signature.parameters.values()):
        if index == 0:  # self
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        names.append(parameter.name)
    return tuple(names)


def missing_name(owner: str, kind: str, name: str, names: Iterable[str]) -> AttributeError:
    """The error for reading ``name``, which ``owner`` does not have among its ``names`` (each
    a ``kind``: ``"parameter"``, ``"component"``).

    Examples
    --------
    >>> from graphfit.spec.parameter_names import missing_name
    >>> print(missing_name("Line model", "parameter", "slop", ["slope", "c"]))
    Line model has no parameter 'slop' (did you mean 'slope'?); its parameters are: slope, c.
    >>> print(missing_name("Collection", "component", "gaussian", []))
    Collection has no component 'gaussian'; it has no components.
    """
    names = list(names)
    if not names:
        return AttributeError(f"{owner} has no {kind} '{name}'; it has no {kind}s.")
    close = difflib.get_close_matches(name, names, n=1)
    guess = f" (did you mean '{close[0]}'?)" if close else ""
    return AttributeError(
        f"{owner} has no {kind} '{name}'{guess}; its {kind}s are: {', '.join(names)}."
    )

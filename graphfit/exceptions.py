"""Exceptions raised by graphfit.

Every error a user can trigger by building an object with bad input is one of these classes.  Each
subclasses :class:`ValueError` or :class:`TypeError`, so code that already catches those keeps
working, and each message names the argument, shows what was given and says what is allowed.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "FactorGraphError",
    "GraphfitError",
    "MissingPriorError",
    "ModelAttributeError",
    "PriorError",
    "RelationError",
    "SearchError",
]


class GraphfitError(Exception):
    """Base class of every exception graphfit raises on purpose."""


class PriorError(GraphfitError, ValueError):
    """A prior was given arguments outside what its distribution allows."""


class RelationError(GraphfitError, TypeError):
    """A relation was built from something that is neither a prior, a relation nor a number."""


class ModelAttributeError(GraphfitError, TypeError):
    """A model was given an attribute its class's ``__init__`` does not have, or a bad value."""


class MissingPriorError(GraphfitError, ValueError):
    """A model parameter has neither a prior nor a fixed value."""


class DataError(GraphfitError, ValueError):
    """Data or a noise map given to an analysis are not usable (shape, NaN, inf, sign)."""


class FactorGraphError(GraphfitError, ValueError):
    """A factor graph is malformed (no factors, duplicate names, wrong model passed to a search)."""


class SearchError(GraphfitError, ValueError):
    """A search was configured with invalid settings or asked to fit something it cannot."""

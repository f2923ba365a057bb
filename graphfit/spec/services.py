"""Work that spec objects' own methods hand to the layers above them.

``model.info``, ``graph.compile()`` or a population's ``"auto"`` parametrisation are methods of
spec objects, but the work lives in :mod:`graphfit.plan` and :mod:`graphfit.backend`, which
import the spec, not the other way round.  Each of those layers registers its functions here
when it is imported (``import graphfit`` imports them all), and the spec calls them by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["call", "provide"]

_PROVIDERS: dict[str, Callable[..., Any]] = {}


def provide(name: str, function: Callable[..., Any]) -> None:
    """Register ``function`` as the provider of service ``name``."""
    _PROVIDERS[name] = function


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the provider of service ``name``.

    Raises
    ------
    RuntimeError
        When no layer registered it (only possible when a spec module is used without
        ``import graphfit``, which registers every provider).
    """
    try:
        function = _PROVIDERS[name]
    except KeyError:
        raise RuntimeError(
            f"graphfit service {name!r} is not registered; import graphfit first "
            "(import graphfit as gf) so that its plan and backend layers register their work."
        ) from None
    return function(*args, **kwargs)

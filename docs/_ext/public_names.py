"""Sphinx helpers for graphfit's API reference.

Resolve cross-references to graphfit objects by the public name they are documented under.

graphfit's classes live in submodules (``graphfit.search.nuts.NUTS``) but users, and the API
reference, know them by their public name (``graphfit.NUTS``).  Base classes, type hints and
docstrings often name the defining module; this extension sends such a reference to the page of
the public name.  A reference that matches no public name stays unresolved, so nitpicky mode
still reports it.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def public_aliases() -> dict[str, str]:
    """``{defining path: public path}`` for every class and function exported by graphfit."""
    import graphfit
    import graphfit.ex
    import graphfit.math
    import graphfit.util

    aliases: dict[str, str] = {}
    for module in (graphfit, graphfit.ex, graphfit.math, graphfit.util):
        for name in module.__all__:
            obj = getattr(module, name)
            defining = getattr(obj, "__module__", None)
            qualname = getattr(obj, "__qualname__", None)
            if not (isinstance(obj, type) or callable(obj)) or not defining or not qualname:
                continue
            canonical = f"{defining}.{qualname}"
            public = f"{module.__name__}.{name}"
            if canonical != public:
                aliases[canonical] = public
    return aliases


def _resolve(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    for canonical, public in public_aliases().items():
        if target == canonical or target.startswith(canonical + "."):
            new_target = public + target[len(canonical) :]
            domain = env.get_domain("py")
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], new_target, node, contnode
            )
    return None


def _dataclass_defaults(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: str | None, annotation: Any
) -> tuple[str | None, Any] | None:
    """Show dataclass fields with a default factory as ``= ...`` instead of ``= <factory>``.

    ``<factory>`` is not Python, so Sphinx cannot parse such a signature and splits it badly.
    """
    if signature and "<factory>" in signature:
        return signature.replace("<factory>", "..."), annotation
    return None


def setup(app: Any) -> dict[str, Any]:
    app.connect("missing-reference", _resolve)
    app.connect("autodoc-process-signature", _dataclass_defaults)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx helpers for graphfit's API reference.

Check that the API reference lists every public name, and resolve cross-references to graphfit
objects by the public name they are documented under.

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


def _check_api_index(app: Any) -> None:
    """Warn (an error under ``-W``) for a public name that ``api/index.rst`` does not list."""
    import re
    from pathlib import Path

    from sphinx.util import logging

    import graphfit

    index = Path(app.srcdir) / "api" / "index.rst"
    listed = set(re.findall(r"^\s+([\w.]+)\s*$", index.read_text(encoding="utf-8"), re.M))
    listed |= set(re.findall(r"^\.\. data:: ([\w.]+)", index.read_text(encoding="utf-8"), re.M))
    logger = logging.getLogger(__name__)
    for module in (graphfit, graphfit.ex, graphfit.math, graphfit.util):
        prefix = module.__name__.removeprefix("graphfit").removeprefix(".")
        for name in module.__all__:
            if name in ("ex", "math", "util"):
                continue
            entry = f"{prefix}.{name}" if prefix else name
            if entry not in listed:
                logger.warning(
                    "%s.%s is public (in __all__) but docs/api/index.rst does not list it; "
                    "add it to the autosummary of its section",
                    module.__name__,
                    name,
                    location="api/index",
                )


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _check_api_index)
    app.connect("missing-reference", _resolve)
    app.connect("autodoc-process-signature", _dataclass_defaults)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

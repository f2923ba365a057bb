"""The package's import structure: one-way layers, no import cycles, no PyMC outside the backend.

The layer contracts themselves are checked by import-linter (``lint-imports``, configured in
``pyproject.toml``, run by ``.ci/run``); these tests check what a contract cannot say.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import grimp

import graphfit

PACKAGE = pathlib.Path(graphfit.__file__).parent


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_between_modules():
    graph = grimp.build_graph("graphfit", exclude_type_checking_imports=True)
    # the package's own __init__ imports the public API from every layer; no module imports it
    assert graph.find_modules_that_directly_import("graphfit") == set()
    assert _cycles(graph) == []


def test_a_cycle_would_be_found():
    graph = grimp.ImportGraph()
    for module in ("p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    assert _cycles(graph) == []
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]


def test_import_linter_contracts_are_kept():
    done = subprocess.run(
        ["lint-imports", "--no-cache"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_at_most_twelve_top_level_entries_and_modules_of_at_most_500_lines():
    # py.typed is PEP 561's marker for type checkers, not a part of the code
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name not in ("__pycache__", "py.typed"))
    assert len(entries) <= 12, entries
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


#: Packages imported inside the functions that use them, and why (ARCHITECTURE.md, invariant 4).
#: Any other function-local import needs a ``# import time: ...`` or ``# optional: ...`` comment.
DEFERRED = {
    # import time: `import graphfit` loads numpy only; these load on a fit's first use
    "pymc": "import time",
    "pytensor": "import time",
    "arviz": "import time",
    "arviz_base": "import time",  # ArviZ 1's own part (the Python 3.12+ stack)
    "xarray": "import time",
    "pandas": "import time",
    "scipy": "import time",
    "matplotlib": "import time",
    "tqdm": "import time",  # 9 ms after numpy
    "threadpoolctl": "import time",  # 4 ms
    "multiprocessing": "import time",  # 2-7 ms, only for fit_each's own pool
    # optional extras: not installed with graphfit itself
    "nutpie": "optional",
    "numba": "optional",  # installed with nutpie; graphfit's nutpie callbacks compile with it
    "numpyro": "optional",
    "jax": "optional",
    "dynesty": "optional",
    "graphviz": "optional",
    "dask": "optional",
    "distributed": "optional",
}


def _imports_in_functions(path: pathlib.Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.level == 0:
                    found.append((inner.lineno, inner.module or ""))
                elif isinstance(inner, ast.Import):
                    found += [(inner.lineno, a.name) for a in inner.names]
    return found


def test_function_local_imports_have_a_reason():
    """A function-local import is of a package in ``DEFERRED`` (heavy or optional), or carries
    a ``# import time: ...`` or ``# optional: ...`` comment on its line or the line above.
    Cycles are not a reason; cheap standard-library modules go at the top."""
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for lineno, module in _imports_in_functions(path):
            if module.split(".")[0] in DEFERRED:
                continue
            context = " ".join(lines[max(lineno - 2, 0) : lineno])
            if "import time:" not in context and "optional:" not in context:
                unexplained.append(f"{path.relative_to(PACKAGE)}:{lineno} {module}")
    assert unexplained == []

"""A Sphinx directive that shows a benchmark's results from its JSON file.

The scripts in ``benchmarks/`` write ``benchmarks/results/<name>.json``: the rows of their table
and when, where and how they were run (``date``, ``machine``, ``command``). The directive

.. code-block:: markdown

    ```{benchmark-results} cookbook
    :columns: problem, sampler, variant, total s
    ```

turns one such file into a sentence saying when and on what machine it was run, the command
that made it, and a table of the chosen columns, so the page shows the committed results and no
number or date is copied by hand. ``:rows:`` picks another list of the file than ``rows``.

A missing file, a missing run fact or a column that no row has is a warning, so ``-W`` fails
the build.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx.util import logging

from _ext.calibration import _table

logger = logging.getLogger(__name__)

#: How a column's numbers are shown; any other float gets three significant digits.
FORMATS = {
    "max R-hat": "{:.3f}",
    "min ESS": "{:.0f}",
    "total / hand-written": "{:.2f}",
    "wall / PyAutoFit": "{:.2f}",
    "speed-up": "{:.2f}",
    "vs warm seq": "{:.2f}",
    "others' cores": "{:.2f}",
}
#: Free-text facts about a run that the page shows after the date and machine, when present.
NOTES = ("what", "process", "note")


def _cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if column in FORMATS:
        return FORMATS[column].format(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.3g}" if abs(value) < 1e3 else f"{value:.0f}"


def _machine(results: dict[str, Any]) -> str:
    machine = results.get("machine", {})
    parts = []
    if "python" in machine:
        parts.append(f"Python {machine['python']}")
    if "pymc" in machine and "arviz" in machine:
        parts.append(f"PyMC {machine['pymc']} / ArviZ {machine['arviz']}")
    if "processor" in machine:
        parts.append(machine["processor"])
    cores = machine.get("cores", results.get("cores"))
    if cores is not None:
        parts.append(f"{cores} cores")
    return ", ".join(parts)


def _commands(results: dict[str, Any]) -> str:
    if "commands" in results:
        return "\n".join(f"# {label}\n{command}" for label, command in results["commands"].items())
    return results.get("command", "")


class BenchmarkResults(Directive):
    """When, where and how a benchmark ran, then a table of its rows."""

    required_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {
        "columns": directives.unchanged_required,
        "rows": directives.unchanged,
    }

    def warn(self, message: str, *args: Any) -> list[nodes.Node]:
        env = self.state.document.settings.env
        logger.warning(message, *args, location=(env.docname, self.lineno))
        return []

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        name = self.arguments[0]
        folder = Path(env.config.benchmark_results)
        if not folder.is_absolute():
            folder = Path(env.srcdir) / folder
        path = folder / f"{name}.json"
        env.note_dependency(str(path))
        if not path.exists():
            return self.warn("benchmark results not found: %s", path)
        results = json.loads(path.read_text(encoding="utf-8"))
        missing = [key for key in ("date", "machine") if key not in results]
        if "command" not in results and "commands" not in results:
            missing.append("command")
        if missing:
            return self.warn("%s lacks %s", path.name, ", ".join(missing))
        columns = [c.strip() for c in self.options.get("columns", "").split(",") if c.strip()]
        rows = results.get(self.options.get("rows", "rows"), [])
        if not columns or not rows:
            return self.warn("no columns or no rows to show from %s", path.name)
        absent = [c for c in columns if not any(c in row for row in rows)]
        if absent:
            return self.warn("no row of %s has the column(s) %s", path.name, ", ".join(absent))

        versions = ", ".join(f"{k} {v}" for k, v in results.get("versions", {}).items())
        facts = f"Run on {results['date'][:10]} ({_machine(results)}"
        facts += f"; {versions})." if versions else ")."
        notes = [str(results[key]).rstrip(".") + "." for key in NOTES if key in results]
        notes = [note[0].upper() + note[1:] for note in notes]
        table = _table(
            columns,
            [[_cell(c, row.get(c)) for c in columns] for row in rows],
            classes="benchmark-table",
        )
        return [
            nodes.paragraph(text=" ".join([facts, *notes])),
            nodes.literal_block(text=_commands(results), language="bash"),
            table,
        ]


def setup(app: Any) -> dict[str, Any]:
    """Register the directive and the ``benchmark_results`` folder setting."""
    app.add_config_value("benchmark_results", "../benchmarks/results", "env", types=[str])
    app.add_directive("benchmark-results", BenchmarkResults)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}

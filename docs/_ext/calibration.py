"""Sphinx directives that show the calibration benchmark's results.

``benchmarks/calibration.py`` writes ``benchmarks/results/calibration.json``; these directives
turn it into tables when the documentation is built, so the page always shows the committed
results and no number is copied by hand:

- ``calibration-run``: when, how and with what versions the results were made (and a warning
  when the run is partial);
- ``calibration-table <problem>``: coverage and rank uniformity of each parameter (per-dataset
  parameters pooled over datasets), then the convergence diagnostics of both sides;
- ``calibration-breakdown <problem>``: coverage of per-dataset parameters split by how strongly
  the dataset's data constrain them.

A missing results file or problem is a warning, so ``-W`` fails the build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _table(
    header: list[str], rows: list[list[str]], classes: str = "calibration-table"
) -> nodes.table:
    """A docutils table with one header row."""
    table = nodes.table(classes=[classes])
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)

    def row(cells: list[str]) -> nodes.row:
        out = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(text=cell)
            out += entry
        return out

    head = nodes.thead()
    head += row(header)
    body = nodes.tbody()
    for cells in rows:
        body += row(cells)
    group += head
    group += body
    return table


def _coverage(row: dict, key: str) -> str:
    low, high = row[f"{key} band"]
    flag = " ✗" if row[f"{key} miss"] else ""
    return f"{row[key]:.3f} [{low:.2f}, {high:.2f}]{flag}"


class _ResultsDirective(Directive):
    """Base: loads the JSON and records it as a dependency of the page."""

    def results(self) -> dict[str, Any] | None:
        env = self.state.document.settings.env
        path = Path(env.config.calibration_results)
        if not path.is_absolute():
            path = Path(env.srcdir) / path
        env.note_dependency(str(path))
        if not path.exists():
            logger.warning("calibration results not found: %s", path, location=self.lineno)
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def problem(self) -> tuple[str, dict[str, Any]] | None:
        results = self.results()
        if results is None:
            return None
        name = self.arguments[0]
        data = results["problems"].get(name)
        if data is None:
            logger.warning("no calibration results for problem %r", name, location=self.lineno)
            return None
        rows = [row for row in results["rows"] if row["problem"] == name]
        return name, {**data, "rows": rows}


def _commands(results: dict[str, Any]) -> list[str]:
    """The commands that fitted the repeats, then the one that wrote the JSON if it differs."""
    commands = sorted({c for p in results["problems"].values() for c in p.get("fit commands", [])})
    if results["command"] not in commands:
        commands.append(results["command"])
    return commands


class CalibrationRun(_ResultsDirective):
    """When and how the results were made."""

    def run(self) -> list[nodes.Node]:
        results = self.results()
        if results is None:
            return []
        versions = ", ".join(f"{k} {v}" for k, v in results["versions"].items())
        commits = sorted({c for p in results["problems"].values() for c in p["commits"]})
        out: list[nodes.Node] = [
            nodes.paragraph(
                text=(
                    f"Results of {results['date'][:10]} (commit {', '.join(commits)}; {versions}; "
                    f"Python {results['machine']['python']}, {results['cores']} cores):"
                )
            ),
            nodes.literal_block(text="\n".join(_commands(results)), language="bash"),
        ]
        if results["partial"]:
            partial = [
                f"{name}: {min(p['repeats'].values())} of {p['requested repeats']} repeats"
                for name, p in results["problems"].items()
                if p["partial"]
            ]
            warning = nodes.warning()
            warning += nodes.paragraph(
                text="These results are partial (the run was not finished): " + "; ".join(partial)
            )
            out.append(warning)
        return out


class CalibrationTable(_ResultsDirective):
    """Coverage and rank uniformity of one problem, then its diagnostics."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        found = self.problem()
        if found is None:
            return []
        _, data = found
        rows = [
            [
                row["parameter"],
                row["side"],
                str(row["n"]),
                _coverage(row, "in50"),
                _coverage(row, "in90"),
                f"{row['chi2 p']:.2g}",
                str(row["r-hat fails"]),
            ]
            for row in data["rows"]
            if row["scalar"] or row["pooled"]
        ]
        coverage = _table(["parameter", "side", "n", "50%", "90%", "rank p", "R-hat > 1.01"], rows)
        diagnostics = _table(
            [
                "side",
                "fits",
                "errors",
                "fits with divergences",
                "divergences",
                "R-hat > 1.01",
                "bulk ESS < 400",
                "median s / fit",
            ],
            [
                [
                    d["side"],
                    str(d["fits"]),
                    str(d["errors"]),
                    str(d["with divergences"]),
                    str(d["divergences"]),
                    str(d["r-hat > 1.01"]),
                    str(d["ess < 400"]),
                    f"{d['median s']:.2g}",
                ]
                for d in data["diagnostics"]
            ],
        )
        out: list[nodes.Node] = [coverage, diagnostics]
        if "graphfit parametrizations" in data:
            chosen = ", ".join(f"{k} {v}" for k, v in data["graphfit parametrizations"].items())
            out.append(nodes.paragraph(text=f"graphfit's automatic parametrisation: {chosen}."))
        return out


class CalibrationBreakdown(_ResultsDirective):
    """Coverage of per-dataset parameters by signal-to-noise class (see the JSON)."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        found = self.problem()
        if found is None:
            return []
        name, data = found
        breakdown = data.get("breakdown")
        if not breakdown:
            logger.warning("no breakdown for problem %r", name, location=self.lineno)
            return []
        rows = [
            [
                row["parameter"],
                row["class"],
                row["side"],
                str(row["n"]),
                _coverage(row, "in50"),
                _coverage(row, "in90"),
            ]
            for row in breakdown
        ]
        return [_table(["parameter", "data", "side", "n", "50%", "90%"], rows)]


def setup(app: Any) -> dict[str, Any]:
    """Register the directives and the ``calibration_results`` setting."""
    app.add_config_value(
        "calibration_results", "../benchmarks/results/calibration.json", "env", types=[str]
    )
    app.add_directive("calibration-run", CalibrationRun)
    app.add_directive("calibration-table", CalibrationTable)
    app.add_directive("calibration-breakdown", CalibrationBreakdown)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}

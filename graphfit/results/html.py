"""HTML summaries of results for notebooks (``_repr_html_``).

A :class:`~graphfit.ResultList` shows where it was saved, the outcome of its convergence checks
(:mod:`graphfit.results.diagnostics`), a table with one row per dataset (its worst R-hat and
ESS, its divergences for independent fits, failures) and, per dataset, each parameter's mean,
sd, median, 94% HDI, R-hat and ESS.  A :class:`~graphfit.Result` shows its dataset's part.
R-hat above 1.01, an ESS below 400 (the thresholds of :mod:`graphfit.results.diagnostics`),
divergent transitions and failed fits are marked (class ``gf-fail``, a warning sign and a
tooltip saying why).

R-hat and ESS are read from the fit's own :class:`~graphfit.Diagnostics` table, the values from
the posterior (or, for a fit loaded without its model, from its saved ``summary.csv``), so the
numbers are those of ``result_list.diagnostics`` and the saved files.  The
:class:`~graphfit.Aggregator`'s and :class:`~graphfit.Comparison`'s tables are drawn here too.
Tables are built with :mod:`graphfit.plan.html`; all user text is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.plan.html import MAX_ROWS, Cell, frame, table
from graphfit.results.diagnostics import ESS_MIN, RHAT_MAX, Diagnostics, diagnostics_table
from graphfit.results.posterior_stats import posterior_stats

if TYPE_CHECKING:
    import pandas as pd

    from graphfit.results.comparison import Comparison
    from graphfit.results.result import Result
    from graphfit.results.result_list import ResultList

__all__ = ["aggregator_html", "comparison_html", "dataset_rows", "result_html", "result_list_html"]

#: Most datasets whose parameter tables are shown (each in a folded section).
MAX_DETAILS = 20

_BLANK = "\N{EN DASH}"  # a figure not computed
_STATS = ("mean", "sd", "median", "lower", "upper")
_DIAGNOSTICS = ("r_hat", "ess_bulk", "ess_tail")


# -- numbers -----------------------------------------------------------------------------------


def _finite(value: Any) -> bool:
    return value is not None and math.isfinite(float(value))


def _number(value: Any, digits: int = 4) -> Cell:
    text = f"{float(value):.{digits}g}" if _finite(value) else _BLANK
    return Cell(text, "gf-num")


def _rhat(value: Any) -> Cell:
    if not _finite(value):
        return Cell(_BLANK, "gf-num gf-dim", "not computed (one chain or fewer than 4 draws)")
    if value > RHAT_MAX:
        return Cell(f"{value:.3f}", "gf-num gf-fail", f"R-hat above {RHAT_MAX}: chains disagree")
    return Cell(f"{value:.3f}", "gf-num")


def _ess(value: Any, which: str) -> Cell:
    if not _finite(value):
        return Cell(_BLANK, "gf-num gf-dim", "not computed (fewer than 4 draws)")
    if value < ESS_MIN:
        return Cell(f"{value:.0f}", "gf-num gf-fail", f"{which} ESS below {ESS_MIN}")
    return Cell(f"{value:.0f}", "gf-num")


def _divergences(count: int) -> Cell:
    if count:
        return Cell(str(count), "gf-num gf-fail", "divergent transitions after tuning")
    return Cell("0", "gf-num")


# -- per-dataset rows --------------------------------------------------------------------------


def _variable_stats(posterior: Any, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Mean, sd, median and 94% HDI bounds of each variable (a float, or one per dataset)."""
    return {
        name: {key: _by_dataset(value) for key, value in figures.items()}
        for name, figures in posterior_stats(posterior, names).items()
    }


def _by_dataset(array: Any) -> float | dict[str, float] | None:
    """A scalar figure as a float; one per dataset (a ``dataset`` dim) as a dict by name."""
    if array is None or array.ndim == 0:
        return None if array is None else float(array)
    labels = [str(label) for label in array["dataset"].values]
    return dict(zip(labels, np.asarray(array.values, dtype=float).tolist(), strict=True))


def _at(value: float | dict[str, float] | None, dataset: str | None) -> float:
    if value is None:
        return float("nan")
    # a dict (by dataset) comes with its dataset
    return value[dataset] if isinstance(value, dict) and dataset is not None else float(value)  # type: ignore[arg-type]


def dataset_rows(
    result: Result, summary: pd.DataFrame | None = None, cache: dict[int, Any] | None = None
) -> list[dict[str, Any]]:
    """One dict per parameter of ``result``'s dataset: ``parameter`` (its name in the dataset's
    model), ``mean``, ``sd``, ``median``, ``lower`` and ``upper`` (94% HDI), ``r_hat``,
    ``ess_bulk`` and ``ess_tail``.

    R-hat and ESS come from the fit's :class:`~graphfit.Diagnostics` (NaN for an optimiser);
    with ``summary`` (a saved ``summary.csv``, of a fit loaded without its model) everything
    comes from it.  ``cache`` keeps the posterior figures of each joint fit between datasets.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.html import dataset_rows
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    ... )
    >>> [(row["parameter"], round(row["median"])) for row in dataset_rows(result)]
    [('centre', 50), ('normalization', 25), ('sigma', 10)]
    """
    if summary is not None:
        rows = summary[summary["dataset"].astype(str) == result.name]
        renamed = {"hdi_3%": "lower", "hdi_97%": "upper"}
        keys = ("parameter", *_STATS, *_DIAGNOSTICS)
        return [
            {key: row.get(key) for key in keys}
            | {new: row.get(old) for old, new in renamed.items()}
            for row in rows.to_dict("records")
        ]
    cache = {} if cache is None else cache
    owner = result.result_list
    plan = owner.plan
    diagnostics = result.diagnostics
    if plan is None or owner.idata is None:  # a dataset's own file: its names are local
        posterior = stack.group(result.idata, "posterior")
        names = [str(name) for name in posterior.data_vars]
        stats = _variable_stats(posterior, names)
        checks = diagnostics_table(posterior, names) if diagnostics is not None else None
        pairs: list[tuple[str, str, str | None, str]] = [(n, n, None, n) for n in names]
    else:
        if id(owner) not in cache:
            posterior = stack.group(owner.idata, "posterior")
            used = {ref.name for variables in plan.factor_vars for _, ref in variables}
            cache[id(owner)] = _variable_stats(
                posterior, [n for n in posterior.data_vars if n in used]
            )
        stats = cache[id(owner)]
        checks = None if diagnostics is None else diagnostics.table
        pairs = [
            (
                local,
                ref.name,
                ref.dataset,
                ref.label,
            )
            for local, ref in plan.factor_vars[result.index]
            if ref.name in stats
        ]
    rows = []
    for local, name, dataset, label in pairs:
        row: dict[str, Any] = {"parameter": local}
        row.update({key: _at(stats[name][key], dataset) for key in _STATS})
        for key in _DIAGNOSTICS:
            known = checks is not None and label in checks.index
            row[key] = float(checks.loc[label, key]) if known else float("nan")  # type: ignore[union-attr]
        rows.append(row)
    return rows


def _parameter_table(rows: list[dict[str, Any]], sampled: bool) -> str:
    if not sampled:
        return table(
            ["parameter", "value"], [[r["parameter"], _number(r["median"], 6)] for r in rows]
        )
    headers = [
        "parameter",
        "mean",
        "sd",
        "median",
        "hdi 3%",
        "hdi 97%",
        "R-hat",
        "ESS bulk",
        "ESS tail",
    ]
    body = [
        [
            r["parameter"],
            *(_number(r[key]) for key in _STATS),
            _rhat(r["r_hat"]),
            _ess(r["ess_bulk"], "bulk"),
            _ess(r["ess_tail"], "tail"),
        ]
        for r in rows
    ]
    return table(headers, body)


def _worst(rows: list[dict[str, Any]], key: str, worst: Any) -> float:
    values = [r[key] for r in rows if _finite(r[key])]
    return float(worst(values)) if values else float("nan")


# -- header lines ------------------------------------------------------------------------------


def _line(text: str, css: str = "", title: str = "") -> str:
    attributes = (f' class="{css}"' if css else "") + (
        f' title="{html.escape(title)}"' if title else ""
    )
    return f"<div{attributes}>{html.escape(text)}</div>"


def _folder(result_list: ResultList) -> str:
    folder = result_list.output_folder
    if folder is None:
        return _line(
            "Not saved (give the search name= to save the fit to an output folder).", "gf-dim"
        )
    how = " (loaded from there, not fitted again)" if result_list.resumed else ""
    return f"<div>Output folder: <code>{html.escape(str(folder))}</code>{html.escape(how)}</div>"


def _checks(diagnostics: Diagnostics | None) -> str:
    if diagnostics is None:
        return _line("No convergence checks (an optimiser's estimate).", "gf-dim")
    lines = []
    if diagnostics.divergences:
        lines.append(_line(f"⚠ {diagnostics.divergences} divergent transitions", "gf-fail"))
    if diagnostics.ok:
        lines.append(_line("✓ R-hat, ESS and divergence checks passed", "gf-ok"))
    else:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in diagnostics.problems)
        lines.append(f'<div class="gf-fail">⚠ Convergence checks failed:<ul>{items}</ul></div>')
    lines.extend(_line(f"Note: {note}", "gf-note") for note in diagnostics.notes)
    return "".join(lines)


# -- reprs -------------------------------------------------------------------------------------


def _sampled(result: Result) -> bool:
    owner = result.result_list  # its joint posterior, if it has one: no dataset file is read
    posterior = stack.group(owner.idata if owner.idata is not None else result.idata, "posterior")
    return posterior.sizes["chain"] * posterior.sizes["draw"] > 1


def result_html(result: Result) -> str:
    """HTML summary of one dataset's :class:`~graphfit.Result` (its ``_repr_html_``).

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    ... )
    >>> "<td>centre</td>" in result._repr_html_()
    True
    """
    owner = result.result_list
    n = len(owner)
    where = f"dataset {result.index + 1} of {n} of a joint fit" if n > 1 else "fit of one dataset"
    rows = dataset_rows(result)
    body = _parameter_table(rows, _sampled(result))
    return frame(
        "Result", f"{result.name} · {where}", _folder(owner), _checks(result.diagnostics), body
    )


def result_list_html(
    result_list: ResultList, summary: pd.DataFrame | None = None, notes: Sequence[str] = ()
) -> str:
    """HTML summary of a :class:`~graphfit.ResultList` (its ``_repr_html_``): output folder,
    convergence checks, one row per dataset, then each dataset's parameters.

    ``summary`` is a saved ``summary.csv`` to read the figures from (a fit loaded without its
    model); ``notes`` are lines of text shown below the checks.

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> analyses = [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in (0, 1)]
    >>> graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
    >>> result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    >>> text = result_list._repr_html_()
    >>> "<td>dataset_1</td>" in text, "Not saved" in text
    (True, True)
    """
    independent = isinstance(result_list.diagnostics, Mapping)
    failed = {id(entry): entry for entry in result_list.failed}
    cache: dict[int, Any] = {}
    overview: list[list[Any]] = []
    details: list[str] = []
    checked, shown = False, 0
    for entry in list(result_list)[:MAX_ROWS]:  # the table's rows: the rest are counted
        if id(entry) in failed:
            # a FailedResult (the entries of a list are typed as its results)
            message = Cell(f"failed: {entry.message}", "gf-fail", entry.traceback or entry.message)  # type: ignore[attr-defined]
            overview.append([entry.name, "", "", "", "", *([""] if independent else []), message])
            continue
        rows = dataset_rows(entry, summary, cache)
        shown += 1
        checked = checked or entry.diagnostics is not None
        overview.append(_overview_row(entry, rows, independent))
        if len(details) < MAX_DETAILS:
            title = f"{entry.name} · {len(rows)} parameters"
            details.append(
                f"<details{' open' if len(result_list) == 1 else ''}><summary>"
                f"{html.escape(title)}</summary>{_parameter_table(rows, _sampled(entry))}</details>"
            )
    headers = ["dataset", "parameters", "max R-hat", "min ESS bulk", "min ESS tail"]
    headers += [*(["divergences"] if independent else []), "status"]
    if not checked:  # an optimiser: no R-hat or ESS to show
        keep = [0, 1, len(headers) - 1]
        headers = [headers[k] for k in keep]
        overview = [[row[k] for k in keep] for row in overview]
    if independent:
        checks = _independent_checks(result_list, list(failed.values()), checked)
    else:
        checks = _checks(result_list.diagnostics)  # type: ignore[arg-type]  # a joint fit's
    checks += "".join(_line(note, "gf-note") for note in notes)
    total = result_list.timings.get("total")
    timing = _line(f"Fitted in {total:.1f} s", "gf-dim") if total is not None else ""
    parts = [_folder(result_list), checks, timing, table(headers, overview, caption="Datasets")]
    if len(result_list) > MAX_ROWS:
        parts.append(_line(f"… {len(result_list) - MAX_ROWS} more datasets", "gf-dim"))
    more = shown - len(details)
    if more > 0:
        details.append(_line(f"… {more} more datasets: see result_list[name]", "gf-dim"))
    subtitle = f"{len(result_list)} {'independent fits' if independent else 'datasets'}"
    return frame(type(result_list).__name__, subtitle, *parts, *details)


def _overview_row(entry: Result, rows: list[dict[str, Any]], independent: bool) -> list[Any]:
    """A dataset's row: worst R-hat and ESS (divergences of an independent fit), status."""
    diagnostics = entry.diagnostics
    cells: list[str | Cell] = [entry.name, str(len(rows))]
    cells += [_rhat(_worst(rows, "r_hat", max)), _ess(_worst(rows, "ess_bulk", min), "bulk")]
    cells.append(_ess(_worst(rows, "ess_tail", min), "tail"))
    if independent:
        cells.append(_divergences(diagnostics.divergences) if diagnostics else Cell(_BLANK))
    fails = [c.title for c in cells if isinstance(c, Cell) and "gf-fail" in c.css.split()]
    if diagnostics is not None and diagnostics.divergences and not independent:
        fails.append("divergent transitions in the joint fit")
    if diagnostics is None:
        status = Cell("estimate", "gf-dim", "an optimiser's estimate: no convergence checks")
    elif fails:
        status = Cell("check failed", "gf-fail", "; ".join(fails))
    else:
        status = Cell("ok", "gf-ok")
    return [*cells, status]


def _independent_checks(result_list: ResultList, failed: list[Any], checked: bool) -> str:
    diagnostics = result_list.diagnostics.items()  # type: ignore[union-attr]  # by dataset
    problems = [name for name, d in diagnostics if d is not None and not d.ok]
    finished = len(result_list) - len(failed)
    if problems:
        text = f"⚠ Convergence checks failed in {len(problems)} of {finished} fits: "
        lines = _line(text + ", ".join(problems), "gf-fail")
    elif checked:
        lines = _line(f"✓ Convergence checks passed in all {finished} finished fits", "gf-ok")
    else:
        lines = _line("No convergence checks (an optimiser's estimates).", "gf-dim")
    if failed:
        names = ", ".join(entry.name for entry in failed)
        lines += _line(f"⚠ {len(failed)} fits failed: {names}", "gf-fail")
    return lines


# -- aggregator and comparison -------------------------------------------------------------------


def _value(value: Any) -> str | Cell:
    if isinstance(value, bool | np.bool_):
        return Cell(str(bool(value)), "gf-fail" if value else "")
    if isinstance(value, float | np.floating):
        return _number(value)
    if isinstance(value, int | np.integer):
        return Cell(str(value), "gf-num")
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def aggregator_html(table_: pd.DataFrame, root: Any, skipped: Mapping[str, str]) -> str:
    """HTML summary of an :class:`~graphfit.Aggregator`: its ``table`` (without the parameter
    columns), failing checks marked, and the folders it skipped with the reason.

    Examples
    --------
    >>> import graphfit as gf
    >>> "0 fits under" in gf.Aggregator("an/empty/folder")._repr_html_()
    True
    """
    columns = ["name", "path_prefix", "search", "datasets", "max_r_hat", "min_ess_bulk"]
    columns += ["divergences", "identifier", "path"]
    rows = []
    for record in table_.to_dict("records"):
        row = [_value(record.get(column)) for column in columns]
        row[4] = _rhat(record["max_r_hat"])
        row[5] = _ess(record["min_ess_bulk"], "bulk")
        divergences = record["divergences"]
        row[6] = _divergences(int(divergences)) if _finite(divergences) else Cell(_BLANK, "gf-num")
        rows.append(row)
    headers = ["name", "path prefix", "search", "datasets", "max R-hat", "min ESS bulk"]
    headers += ["divergences", "identifier", "path"]
    parts = [table(headers, rows)]
    extra = len(table_.columns) - len(columns) - 1
    if extra > 0:
        parts.append(
            _line(
                f"agg.table also holds {extra} columns of each parameter's median and 94% HDI.",
                "gf-dim",
            )
        )
    if skipped:
        items = "".join(
            f"<li><code>{html.escape(str(path))}</code>: {html.escape(reason)}</li>"
            for path, reason in skipped.items()
        )
        parts.append(
            f"<details><summary>{len(skipped)} folders skipped</summary><ul>{items}</ul></details>"
        )
    return frame("Aggregator", f"{len(table_)} fits under {root}", *parts)


def _frame(frame_: pd.DataFrame, caption: str) -> str:
    """An ``az.compare`` table: its first row (ranked first) marked, ``warning`` marked."""
    headers = [str(frame_.index.name or "model"), *map(str, frame_.columns)]
    rows = []
    for k, (label, record) in enumerate(zip(frame_.index, frame_.to_dict("records"), strict=True)):
        first = Cell(str(label), "gf-ok", "ranked first") if k == 0 else Cell(str(label))
        rows.append([first, *(_value(value) for value in record.values())])
    return table(headers, rows, caption=caption)


def comparison_html(comparison: Comparison) -> str:
    """HTML summary of a :class:`~graphfit.Comparison`: the joint table, the
    leave-one-dataset-out table and each dataset's table (folded), as ``az.compare`` gave
    them.

    Examples
    --------
    >>> import pandas as pd
    >>> import graphfit as gf
    >>> joint = pd.DataFrame({"rank": [0, 1], "elpd_loo": [-10.0, -12.5]}, index=["A", "B"])
    >>> comparison = gf.Comparison(joint=joint, datasets={"d": joint}, ic="loo")
    >>> "<td>-12.5</td>" in comparison._repr_html_().replace(' class="gf-num"', "")
    True
    """
    parts = [_frame(comparison.joint, "All datasets (every observed point)")]
    if comparison.leave_one_dataset_out is not None:
        parts.append(_frame(comparison.leave_one_dataset_out, "Leave one dataset out"))
    for name, frame_ in comparison.datasets.items():
        parts.append(
            f"<details><summary>{html.escape(name)}</summary>{_frame(frame_, name)}</details>"
        )
    subtitle = f"{len(comparison.joint)} models by {comparison.ic} · best: {comparison.best}"
    return frame("Comparison", subtitle, *parts)

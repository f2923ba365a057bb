"""HTML summaries of models and factor graphs for notebooks (``_repr_html_``).

A model shows one row per parameter: its path, the component that owns it, and its prior
(kind, index ``[k]`` as in ``model.info``, arguments), relation, fixed value or a marked gap.
A factor graph shows its datasets (analysis, model, parameter counts) and its joint
variables: who uses each one, the model path it fills and its prior, then its hierarchical
factors and assertions.  Every piece of user text is escaped with ``html.escape``.

The small table builder here (:func:`table`, :class:`Cell`, :func:`frame`) is shared with
:mod:`graphfit.results.html`, which draws results the same way.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphfit.plan.info import range_label
from graphfit.spec.model import AbstractModel, Path, path_text
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Relation

if TYPE_CHECKING:
    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = ["MAX_ROWS", "Cell", "frame", "graph_html", "model_html", "table"]

#: Most rows a table shows; the rest are counted in a last row.
MAX_ROWS = 100

_STYLE = """<style>
.gf-repr {font-family: var(--jp-ui-font-family, sans-serif); font-size: 13px; line-height: 1.4}
.gf-repr table {border-collapse: collapse; margin: 4px 0 10px 0}
.gf-repr caption {text-align: left; font-weight: bold; padding: 2px 0}
.gf-repr th, .gf-repr td {padding: 2px 10px 2px 4px; text-align: left; vertical-align: top;
  border-bottom: 1px solid rgba(128, 128, 128, 0.3)}
.gf-repr td.gf-num {text-align: right; font-variant-numeric: tabular-nums}
.gf-repr .gf-fail {color: #c62828; font-weight: bold}
.gf-repr .gf-ok {color: #2e7d32}
.gf-repr .gf-note {color: #9a6700}
.gf-repr .gf-dim {opacity: 0.65}
.gf-repr details > summary {cursor: pointer}
</style>"""


@dataclass(frozen=True)
class Cell:
    """One table cell: its text (escaped when drawn), a CSS class and a tooltip.

    A cell of class ``gf-fail`` is drawn with a warning sign in front of its text, so a
    failed check shows without colour too.

    Examples
    --------
    >>> from graphfit.plan.html import Cell
    >>> Cell("1.05", "gf-num gf-fail", "R-hat above 1.01").html()
    '<td class="gf-num gf-fail" title="R-hat above 1.01">⚠ 1.05</td>'
    >>> Cell("<b>").html()
    '<td>&lt;b&gt;</td>'
    """

    text: str
    css: str = ""
    title: str = ""

    def html(self, tag: str = "td") -> str:
        """The cell as ``<td>`` (or ``tag``)."""
        attributes = f' class="{self.css}"' if self.css else ""
        if self.title:
            attributes += f' title="{html.escape(self.title)}"'
        sign = "⚠ " if "gf-fail" in self.css.split() else ""
        return f"<{tag}{attributes}>{sign}{html.escape(self.text)}</{tag}>"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str | Cell]],
    caption: str | None = None,
    limit: int = MAX_ROWS,
) -> str:
    """An HTML table; plain strings are escaped, at most ``limit`` rows are shown.

    Examples
    --------
    >>> from graphfit.plan.html import table
    >>> print(table(["a", "b"], [["1", "<2>"]], caption="T"))
    <table><caption>T</caption><thead><tr><th>a</th><th>b</th></tr></thead><tbody>
    <tr><td>1</td><td>&lt;2&gt;</td></tr>
    </tbody></table>
    """
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body: list[str] = []
    hidden = 0
    for row in rows:
        if len(body) == limit:
            hidden += 1
            continue
        cells = (c if isinstance(c, Cell) else Cell(str(c)) for c in row)
        body.append("<tr>" + "".join(c.html() for c in cells) + "</tr>")
    if hidden:
        body.append(
            f'<tr><td colspan="{len(headers)}" class="gf-dim">… {hidden} more rows</td></tr>'
        )
    top = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f"<table>{top}<thead><tr>{head}</tr></thead><tbody>\n"
        + "\n".join(body)
        + ("\n</tbody></table>")
    )


def frame(title: str, subtitle: str, *parts: str) -> str:
    """The outer ``<div>`` of a repr: style, a bold ``title``, an escaped ``subtitle`` and
    the ``parts`` (HTML) below.

    Examples
    --------
    >>> from graphfit.plan.html import frame
    >>> frame("Model", "Gaussian <x>", "<p>body</p>").splitlines()[-1]
    '<div class="gf-title"><b>Model</b> Gaussian &lt;x&gt;</div><p>body</p></div>'
    """
    head = f'<div class="gf-title"><b>{html.escape(title)}</b> {html.escape(subtitle)}</div>'
    return f'<div class="gf-repr">{_STYLE}\n{head}' + "".join(parts) + "</div>"


def _prior_text(prior: Prior) -> str:
    """A prior's arguments as in ``model.info`` (``lower_limit = 0.0, upper_limit = 1.0``)."""
    return ", ".join(f"{k} = {v!r}" for k, v in prior.shown_values().items())


def _walk(model: AbstractModel, prefix: Path = ()) -> Iterator[tuple[Path, str, Any]]:
    """``(path, owning component's name, value)`` of every parameter slot, depth first."""
    for name, value in model.items():
        if isinstance(value, AbstractModel):
            yield from _walk(value, (*prefix, name))
        else:
            yield (*prefix, name), model.component_name, value


def _assertions(assertions: Sequence[Any], names: Mapping[Prior, str]) -> str:
    if not assertions:
        return ""
    items = "".join(f"<li>{html.escape(a.expression_text(names))}</li>" for a in assertions)
    return f"<div><b>Assertions</b><ul>{items}</ul></div>"


def model_html(model: AbstractModel) -> str:
    """HTML summary of a :class:`~graphfit.Model` or ``Collection`` (its ``_repr_html_``).

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian, sigma=10.0)
    >>> text = model._repr_html_()
    >>> "UniformPrior [0]" in text, "lower_limit = 0.0, upper_limit = 100.0" in text
    (True, True)
    """
    priors = model.priors()
    index = {p: k for k, p in enumerate(priors)}
    names: dict[Prior, str] = {p: p.name or f"[{k}]" for k, p in enumerate(priors)}
    for path, value in reversed(list(model.leaves())):
        if isinstance(value, Prior):
            names[value] = path_text(path)
    direct = {id(v) for _, v in model.leaves() if isinstance(v, Prior)}
    rows: list[list[str | Cell]] = []
    for path, owner, value in _walk(model):
        dotted = path_text(path)
        if isinstance(value, Prior):
            rows.append(
                [dotted, owner, f"{type(value).__name__} [{index[value]}]", _prior_text(value)]
            )
        elif isinstance(value, Relation):
            rows.append([dotted, owner, "Relation", value.expression_text(names)])
            for prior in value.priors():
                if id(prior) not in direct:
                    kind = f"{type(prior).__name__} [{index[prior]}]"
                    rows.append([f"{dotted}: {names[prior]}", owner, kind, _prior_text(prior)])
        elif value is None:
            unset = Cell("missing", "gf-fail", "neither a prior nor a value: assign one")
            rows.append([dotted, owner, unset, ""])
        else:
            rows.append([dotted, owner, "fixed", repr(value)])
    missing = len(model.missing())
    subtitle = f"{len(priors)} free parameters"
    if model.component_name != "Collection":
        subtitle = f"{model.component_name} · {subtitle}"
    if missing:
        subtitle += f" · {missing} without a prior or value"
    parts = [table(["parameter", "component", "prior", "value"], rows)]
    return frame(type(model).__name__, subtitle, *parts, _assertions(model.assertions, names))


def _describe(model: AbstractModel) -> str:
    if model.component_name == "Collection":
        inner = ", ".join(
            f"{name}: {value.component_name}"
            for name, value in model.items()
            if isinstance(value, AbstractModel)
        )
        return f"Collection({inner})"
    return model.component_name


def _summarise(texts: list[str]) -> str:
    unique = list(dict.fromkeys(texts))
    if len(unique) == 1:
        return unique[0]
    shown = "; ".join(unique[:3])
    return f"{len(unique)} different: {shown}" + ("; …" if len(unique) > 3 else "")


def graph_html(graph: FactorGraphModel) -> str:
    """HTML summary of a :class:`~graphfit.FactorGraphModel` (its ``_repr_html_``).

    Examples
    --------
    >>> import graphfit as gf
    >>> model = gf.Model(gf.ex.Gaussian)
    >>> analyses = [gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)) for s in (0, 1)]
    >>> graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
    >>> text = graph._repr_html_()
    >>> "dataset_1" in text, "<td>centre</td><td>0 - 1</td><td>shared</td>" in text
    (True, True)
    """
    plan = graph.compile_plan()
    users = plan.users
    datasets = []
    for k, (name, factor) in enumerate(zip(graph.names, graph.factors, strict=True)):
        own = factor.prior_model.priors()
        shared = sum(len(users.get(p, [])) > 1 for p in own)
        model = _describe(factor.prior_model)
        datasets.append(
            [str(k), name, type(factor.analysis).__name__, model, str(len(own)), str(shared)]
        )
    headers = ["#", "dataset", "analysis", "model", "parameters", "shared"]
    parts = [table(headers, datasets, caption="Datasets")]

    local: dict[str, list[str]] = {}
    for variables in plan.factor_vars:
        for name, ref in variables:
            local.setdefault(ref.name, []).append(name)
    joint_names = plan.display_names()
    population_names = {id(p): name for name, p in plan.populations}
    hyper = {id(p) for _, population in plan.populations for _, p in population.hyper_priors()}
    rows: list[list[str | Cell]] = []
    for group in [*plan.prior_groups, *plan.relation_groups]:
        owners = sorted({k for m in group.members for k in users.get(m, [])})
        if id(group.members[0]) in hyper:
            role = "hyperparameter"
        elif group.vector:
            role = "one per dataset"
        elif len(owners) > 1:
            role = "shared"
        else:
            role = "own"
        if group.population is not None:
            text = f"drawn from {population_names.get(id(group.population), 'a population')}"
        elif isinstance(group.members[0], Relation):
            text = _summarise(
                [f"Relation: {m.expression_text(joint_names)}" for m in group.members]
            )
        else:
            text = _summarise([f"{type(m).__name__}, {_prior_text(m)}" for m in group.members])
        path = ", ".join(dict.fromkeys(local.get(group.name, [])))
        rows.append([group.name, range_label(owners), role, path, text])
    headers = ["variable", "datasets", "role", "model path", "prior"]
    parts.append(table(headers, rows, caption="Joint variables"))

    if plan.populations:
        populations = []
        for hname, population in plan.populations:
            drawn = sorted({k for p in population.drawn for k in users.get(p, [])})
            arguments = ", ".join(
                f"{argument} = "
                + (
                    value.expression_text(joint_names)
                    if hasattr(value, "expression_text")
                    else repr(value)
                )
                for argument, value in population.parameters.items()
                if value is not None
            )
            kind = population.distribution.__name__
            how = population.resolved_parametrization.replace("_", "-")
            populations.append([hname, f"{kind} ({how})", arguments, range_label(drawn)])
        headers = ["hierarchical factor", "distribution", "arguments", "drawn in"]
        parts.append(table(headers, populations, caption="Populations"))
    assertion_names = {p: ref.label for p, ref in plan.prior_refs.items()}
    parts.append(_assertions(graph.assertions, assertion_names))
    subtitle = f"{len(graph.factors)} datasets · {len(plan.priors)} free parameters"
    return frame("FactorGraphModel", subtitle, *parts)

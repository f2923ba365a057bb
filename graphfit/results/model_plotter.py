"""``gf.ModelPlotter(model).figure()``: a figure of a model's structure (PyAutoFit's).

The figure is the map of which ``model.info`` is the legend: one card per component (nested
components inside their owner's card), one pill per parameter coloured by what it is, and a
footer with the counts:

==============  =================================================================================
pill            meaning
==============  =================================================================================
white           a free parameter (``detail="priors"`` adds its prior, ``~ Uniform(0, 100)``)
grey            a fixed value (``= 50``; hidden with ``show_fixed=False``, the footer counts them)
cream           a relation of other parameters (``= 2.0 * gaussian.centre``)
red             a parameter with neither prior nor value
dashed          a path in ``solved_paths`` (solved during fitting), or folded by ``max_depth``
blue tag        ``shared``: a prior at several places of the model, or used by several datasets
violet tag      ``drawn from <name>``: a parameter drawn from a hierarchical factor's population
grey tag        ``one each``: in a group of alike components or datasets, each has its own
==============  =================================================================================

A factor graph (or its ``global_prior_model``) gets one card per dataset, or with ``collapse``
one dashed card per group of datasets of the same structure (``datasets 0 - 2``); then a card per
hierarchical factor and one of the assertions.  With ``collapse``, sibling components of a
collection with the same structure are one dashed card too.  The layout and drawing are in
:mod:`graphfit.results.model_figure`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import PlotError
from graphfit.plan.info import range_label
from graphfit.results.model_figure import FORMATS, Card, Row, char_width, draw, layout, output
from graphfit.spec.factor_graph import FactorGraphModel, GlobalPriorModel
from graphfit.spec.model import AbstractModel, Model, Path
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Relation

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.figure

__all__ = ["ModelPlotter", "prior_summary"]

_LEGEND = (
    "white: free · grey: fixed · cream: relation · blue: shared · violet: drawn from a "
    "population · red: missing · dashed card: a group of alike"
)


def prior_summary(prior: Prior) -> str:
    """A prior in a few characters: its kind without ``Prior`` and its finite arguments.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.model_plotter import prior_summary
    >>> prior_summary(gf.UniformPrior(lower_limit=0.0, upper_limit=100.0))
    'Uniform(0, 100)'
    >>> prior_summary(gf.TruncatedGaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0))
    'TruncatedGaussian(10, 5, 0)'
    """
    values = ", ".join(f"{v:g}" for v in prior.shown_values().values())
    return f"{type(prior).__name__.removesuffix('Prior')}({values})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _span(labels: list[str]) -> str:
    return ", ".join(labels) if len(labels) <= 3 else f"{labels[0]} … {labels[-1]}"


def _kind(value: Any) -> Any:
    if isinstance(value, AbstractModel):
        return value.component_name, tuple((k, _kind(v)) for k, v in value.items())
    if isinstance(value, Prior | Relation):
        return type(value).__name__
    return "missing" if value is None else "fixed"


def _fixed_text(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _same(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) else bool(a == b)


class _Cards:
    """Builds the cards of a model or graph (see the module docstring).

    ``users`` counts, per prior ``id``, the places (one model) or datasets (a graph) using it;
    ``drawn`` names the population of each drawn prior; ``names`` writes priors in formulas.
    """

    def __init__(self, detail: str, collapse: bool, max_depth: Any, show_fixed: bool) -> None:
        self.detail, self.collapse, self.max_depth = detail, collapse, max_depth
        self.show_fixed = show_fixed
        self.solved: set[str] = set()
        self.users: dict[int, int] = {}
        self.drawn: dict[int, str] = {}
        self.names: dict[Prior, str] = {}
        self.hidden = 0

    def name_priors(self, models: list[tuple[str, AbstractModel]]) -> None:
        """A prior is written as the first path it is at (``[k]`` when only in relations)."""
        for prefix, model in models:
            for path, value in model.leaves():
                if isinstance(value, Prior):
                    self.names.setdefault(value, ".".join((prefix, *path) if prefix else path))
        for k, prior in enumerate(p for _, m in models for p in m.priors()):
            self.names.setdefault(prior, prior.name or f"[{k}]")

    def components(self, models: list[tuple[str, AbstractModel]], path: Path) -> list[Card]:
        """Cards of sibling ``models`` (label, model); alike ones share one with ``collapse``."""
        groups: dict[Any, list[tuple[str, AbstractModel]]] = {}
        for label, model in models:
            groups.setdefault(_kind(model) if self.collapse else label, []).append((label, model))
        cards = []
        for members in groups.values():
            labels = [label for label, _ in members]
            card = Card(f"{_span(labels)}: {members[0][1].component_name}")
            if len(members) > 1:
                card.plate, card.badge = True, _plural(len(members), "component")
            self.fill(card, [m for _, m in members], (*path, labels[0]))
            cards.append(card)
        return cards

    def fill(self, card: Card, members: list[AbstractModel], path: Path) -> None:
        """The rows and nested cards of ``members``: one model, or a group of alike ones."""
        nested = []
        for name, value in members[0].items():
            values = [dict(m.items())[name] for m in members]
            if not isinstance(value, AbstractModel):
                row = self.row(name, values, (*path, name))
                card.rows.extend([row] if row is not None else [])
            elif self.max_depth is not None and len(path) > self.max_depth:
                count = sum(len(list(_components(v))) for v in values)
                priors = len({id(p) for v in values for p in v.priors()})
                text = f"{_plural(count, 'component')} / {_plural(priors, 'prior')}"
                card.rows.append(Row(f"{name} …", text, "folded"))
            elif len(members) == 1:
                nested.append((name, value))
            else:  # a group's nested components: one card per place, itself a group
                child = Card(f"{name}: {value.component_name}", plate=True)
                self.fill(child, values, (*path, name))
                card.children.append(child)
        card.children[:0] = self.components(nested, path)

    def row(self, name: str, values: list[Any], path: Path) -> Row | None:
        """The pill of parameter ``name`` of alike models (its value in each)."""
        value = values[0]
        one_each = len(values) > 1 and not all(v is value for v in values)
        if ".".join(path[1:]) in self.solved:
            return Row(name, "solved during fitting", "solved")
        if value is None:
            return Row(name, "no prior or value", "missing")
        if isinstance(value, Prior):
            text = f"~ {prior_summary(value)}" if self.detail == "priors" else ""
            if id(value) in self.drawn:
                return Row(name, text, "free", f"drawn from {self.drawn[id(value)]}")
            if one_each:
                return Row(name, text, "free", "one each")
            return Row(name, text, "free", "shared" if self.users.get(id(value), 1) > 1 else "")
        if isinstance(value, Relation):
            text = f"= {value.expression_text(self.names)}"
            return Row(name, text, "relation", "one each" if one_each else "")
        if not self.show_fixed:
            self.hidden += 1
            return None
        same = all(_same(v, value) for v in values)
        return Row(name, f"= {_fixed_text(value)}" if same else "= one each", "fixed")

    def footer(self, models: list[AbstractModel], free: int, assertions: int, datasets: int) -> str:
        """The counts line: ``free`` parameters (a graph's include its hyperparameters)."""
        leaves = [leaf for m in models for _, leaf in m.leaves()]
        counts = {
            "free parameter": free,
            "fixed value": sum(
                v is not None and not isinstance(v, Prior | Relation) for v in leaves
            ),
            "relation": sum(isinstance(v, Relation) for v in leaves),
            "shared prior": sum(n > 1 for n in self.users.values()),
            "assertion": assertions,
            "dataset": datasets,
        }
        parts = [
            _plural(n, word) + " hidden" * (word == "fixed value" and self.hidden > 0)
            for word, n in counts.items()
            if n
        ]
        return " · ".join(parts)


def _components(model: AbstractModel) -> Any:
    yield model
    for _, value in model.items():
        if isinstance(value, AbstractModel):
            yield from _components(value)


class ModelPlotter:
    """Draw a model's structure, as PyAutoFit's ``af.ModelPlotter(model).figure()``.

    Parameters
    ----------
    model
        A :class:`~graphfit.Model`, :class:`~graphfit.Collection` or :class:`~graphfit.Array`,
        a component class, a :class:`~graphfit.FactorGraphModel` or its ``global_prior_model``.
    analysis
        Optional, with a single model: the analysis it is fitted with, shown as a card with its
        class and the size of its ``data``.
    solved_paths
        Paths (``"gaussian.sigma"`` or ``("gaussian", "sigma")``) of parameters to draw as
        solved during fitting.

    Raises
    ------
    PlotError
        When ``model`` is none of the above, or ``analysis`` is given with a factor graph.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import graphfit as gf
    >>> model = gf.Collection(gaussian=gf.ex.Gaussian)
    >>> model.gaussian.sigma = 2.0 * model.gaussian.centre
    >>> figure = gf.ModelPlotter(model).figure(format=None, detail="priors")
    >>> for text in figure.axes[0].texts[:5]:
    ...     print(text.get_text())
    model: Collection
    gaussian: Gaussian
    centre  ~ Uniform(0, 100)
    normalization  ~ LogUniform(1e-06, 1e+06)
    sigma  = 2.0 * gaussian.centre
    >>> figure.axes[0].texts[-1].get_text()
    '2 free parameters · 1 relation'
    """

    def __init__(self, model: Any, analysis: Any = None, solved_paths: Any = ()) -> None:
        if isinstance(model, type):
            model = Model(model)
        if isinstance(model, GlobalPriorModel):
            model = model.graph
        if not isinstance(model, AbstractModel | FactorGraphModel):
            raise PlotError(
                "ModelPlotter: model must be a gf.Model, gf.Collection or gf.Array, a component "
                f"class, or a gf.FactorGraphModel or its global_prior_model; got {model!r} of "
                f"type {type(model).__name__}."
            )
        if analysis is not None and isinstance(model, FactorGraphModel):
            raise PlotError(
                "ModelPlotter: analysis= goes with a single model; a factor graph holds its "
                "analyses (give the graph alone)."
            )
        self.model = model
        self.analysis = analysis
        self.solved_paths = [p if isinstance(p, str) else ".".join(p) for p in solved_paths]

    def cards(
        self,
        detail: str = "names",
        collapse: bool = True,
        max_depth: int | None = None,
        show_fixed: bool = True,
    ) -> tuple[list[Card], str]:
        """The figure's cards and its footer line, before layout (for tests and other drawings).

        Examples
        --------
        >>> import graphfit as gf
        >>> cards, footer = gf.ModelPlotter(gf.Model(gf.ex.Gaussian, sigma=10.0)).cards()
        >>> [(row.name, row.text, row.state) for row in cards[0].rows]
        [('centre', '', 'free'), ('normalization', '', 'free'), ('sigma', '= 10', 'fixed')]
        >>> footer
        '2 free parameters · 1 fixed value'
        """
        _check_cards(detail, max_depth)
        make = _Cards(detail, collapse, max_depth, show_fixed)
        make.solved = set(self.solved_paths)
        if isinstance(self.model, AbstractModel):
            model = self.model
            make.name_priors([("", model)])
            for _, leaf in model.leaves():
                if isinstance(leaf, Prior):
                    make.users[id(leaf)] = make.users.get(id(leaf), 0) + 1
            cards = make.components([("model", model)], ())
            models, assertions, datasets = [model], model.assertions, 0
            if self.analysis is not None:
                data = getattr(self.analysis, "data", None)
                size = "data" if data is None else f"data: {_plural(np.size(data), 'value')}"
                cards.append(Card(f"analysis: {type(self.analysis).__name__}", [Row(size)]))
                cards[-1].rows[0].state = "fixed"
        else:
            cards, models = self._graph(self.model, make)
            assertions, datasets = self.model.assertions, len(models)
        if assertions:
            rows = [
                Row(f"assert {a.expression_text(make.names)}", "", "constraint") for a in assertions
            ]
            cards.append(Card("assertions", rows))
        free = len(self.model.priors())
        return cards, make.footer(models, free, len(assertions), datasets)

    def _graph(
        self, graph: FactorGraphModel, make: _Cards
    ) -> tuple[list[Card], list[AbstractModel]]:
        models = [factor.prior_model for factor in graph.factors]
        make.name_priors(list(zip(graph.names, models, strict=True)))
        for model in models:
            for prior in model.priors():
                make.users[id(prior)] = make.users.get(id(prior), 0) + 1
        populations = list(zip(graph.hierarchical_names, graph.hierarchical_factors, strict=True))
        make.drawn = {id(p): name for name, population in populations for p in population.drawn}
        groups: dict[Any, list[int]] = {}
        for k, model in enumerate(models):
            groups.setdefault(_kind(model) if make.collapse else k, []).append(k)
        cards = []
        for members in groups.values():
            names = [graph.names[k] for k in members]
            title = names[0] if len(members) == 1 else _span(names)
            if len(members) > 1 and names == [f"dataset_{k}" for k in members]:
                title = f"datasets {range_label(members)}"
            card = Card(f"{title}: {models[members[0]].component_name}")
            if len(members) > 1:
                card.plate, card.badge = True, _plural(len(members), "dataset")
            make.fill(card, [models[k] for k in members], (names[0],))
            cards.append(card)
        for name, population in populations:
            kind = population.distribution.__name__.removesuffix("Prior")
            card = Card(f"{name}: {kind} population ({population.parametrization})")
            for argument in population.distribution.arguments:
                value = population.parameters.get(argument)
                row = None if value is None else make.row(argument, [value], (name, argument))
                card.rows.extend([row] if row is not None else [])
            drawn = _plural(len(population.drawn), "parameter")
            card.rows.append(Row("draws", drawn, "fixed", "drawn"))
            cards.append(card)
        return cards, models

    def figure(
        self,
        path: str | os.PathLike[str] | None = None,
        filename: str = "model",
        format: str | None = "show",
        detail: str = "names",
        collapse: bool = True,
        max_depth: int | None = None,
        show_fixed: bool = True,
        width: float = 14.0,
        *,
        ax: matplotlib.axes.Axes | None = None,
        fontsize: float = 9.0,
        dpi: float = 100.0,
        **text_kwargs: Any,
    ) -> matplotlib.figure.Figure | matplotlib.axes.Axes | None:
        """Draw the model's structure, and show it or write it to a file as PyAutoFit does.

        Parameters
        ----------
        path
            The folder to write ``<filename>.<format>`` to (made if needed); ``None`` writes
            nothing.
        filename
            The file's name without extension.
        format
            ``"show"`` (``plt.show()``), ``"png"``, ``"pdf"`` or ``"svg"``, or ``None`` to return
            the figure without showing or writing it.
        detail
            ``"names"``, or ``"priors"`` to write each free parameter's prior on its pill.
        collapse
            One card per group of alike datasets, and of alike sibling components.
        max_depth
            Fold components nested deeper than this into one row each (``None``: no folding).
        show_fixed
            Draw fixed values (else the footer counts the hidden ones).
        width
            Width budget in inches: top-level cards wrap within it; text is never shrunk.
        ax
            Draw into this Axes instead, scaled to fit it; its figure is the caller's, so
            ``format="show"`` neither shows nor closes it (file formats save it).
        fontsize
            Size of the text in points; the size of a figure of its own follows from it.
        dpi
            Resolution of a figure of its own (and of its PNG file).
        **text_kwargs
            Matplotlib text properties for every label (``fontfamily="serif"``, ``color=...``);
            widths are measured for monospace text.

        Returns
        -------
        matplotlib.figure.Figure or matplotlib.axes.Axes or None
            The Figure (closed from pyplot after it is written to a file, as PyAutoFit does),
            the given ``ax``, or ``None`` after ``format="show"`` (as PyAutoFit, so that a
            notebook does not draw it twice).

        Raises
        ------
        PlotError
            For an unknown ``format`` or ``detail``, or a ``width``, ``fontsize`` or
            ``max_depth`` that is not a number > 0 (``max_depth`` >= 0).

        Examples
        --------
        >>> import os
        >>> import tempfile
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import graphfit as gf
        >>> folder = tempfile.mkdtemp()
        >>> figure = gf.ModelPlotter(gf.Model(gf.ex.Gaussian)).figure(path=folder, format="png")
        >>> os.listdir(folder)
        ['model.png']
        """
        if format is not None and format not in FORMATS:
            raise PlotError(
                f"ModelPlotter.figure: format must be None or one of "
                f"{', '.join(map(repr, FORMATS))}; got {format!r}."
            )
        for name, value in (("width", width), ("fontsize", fontsize), ("dpi", dpi)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise PlotError(f"ModelPlotter.figure: {name} must be a number > 0, got {value!r}.")
        cards, footer = self.cards(detail, collapse, max_depth, show_fixed)
        notes = [_LEGEND, footer]
        char = char_width(fontsize, dpi, text_kwargs)
        across, down, lines = layout(cards, width * 72.0 / fontsize, notes, char)
        figure, drawn = draw(cards, (across, down), lines, ax, fontsize, dpi, text_kwargs, char)
        if output(figure, ax is None, path, filename, format):
            return None
        return figure if ax is None else drawn


def _check_cards(detail: Any, max_depth: Any) -> None:
    if detail not in ("names", "priors"):
        raise PlotError(f"ModelPlotter: detail must be 'names' or 'priors', got {detail!r}.")
    if max_depth is not None and (
        isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0
    ):
        raise PlotError(
            f"ModelPlotter: max_depth must be None or an integer >= 0, got {max_depth!r}."
        )

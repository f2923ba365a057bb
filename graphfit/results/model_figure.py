"""Layout and drawing of :class:`~graphfit.ModelPlotter`'s figure: cards of pills, in matplotlib.

:mod:`graphfit.results.model_plotter` turns a model into :class:`Card` objects (a title, one
:class:`Row` per parameter, nested cards); this module measures them, places them and draws them.
Everything is measured in units of the font size (``em``), the text being monospace (the width
of a character is measured with matplotlib's renderer), so a figure of its own has the size its
text needs at ``fontsize`` and a given Axes gets the figure scaled to fit.  Top-level cards are
placed in reading order in rows that wrap within the width budget; a card's children are stacked
under its rows, as wide as their owner.  Matplotlib is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FORMATS", "Card", "Row", "char_width", "draw", "layout", "output"]

#: ``state -> (face, edge, text colour, dashed)`` of a pill.
PILLS = {
    "free": ("#ffffff", "#b4b4c0", "#17171d", False),
    "fixed": ("#e3e3e9", "#b4b4c0", "#4c4c57", False),
    "relation": ("#fdf3e1", "#9c4a06", "#17171d", False),
    "missing": ("#fceceb", "#a81f16", "#a81f16", False),
    "solved": ("#ffffff", "#4c4c57", "#17171d", True),
    "folded": ("#f4f4f8", "#b4b4c0", "#4c4c57", True),
    "constraint": ("#ffffff", "#9c4a06", "#9c4a06", True),
}
#: Tag colours (fill, text) by the tag's first word: blue is sharing, violet a population draw.
TAGS = {"shared": ("#e2ecfb", "#15539e"), "drawn": ("#f1eaf8", "#6a4b8c")}
_TAG = ("#ececf1", "#4c4c57")
_TINTS = ("#ffffff", "#f5f5f9", "#ebebf1")
#: The ``format`` values of :meth:`graphfit.ModelPlotter.figure` besides ``None``.
FORMATS = ("show", "png", "pdf", "svg")
_PILL, _GAP, _PAD, _TITLE, _MARGIN = 1.5, 0.3, 0.7, 2.0, 1.0
_SAMPLE = "abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ.0123456789 ~=*()"


@dataclass
class Row:
    """One pill: a parameter's ``name``, its ``text`` (prior, value, formula), its ``state``
    (a key of ``PILLS``) and a ``tag`` drawn at its right end."""

    name: str
    text: str = ""
    state: str = "free"
    tag: str = ""

    @property
    def label(self) -> str:
        return f"{self.name}  {self.text}" if self.text else self.name


@dataclass
class Card:
    """A component (or a group of alike ones, ``plate``): title, badge, rows, nested cards;
    ``x``, ``y``, ``width`` and ``height`` (em) are set by :func:`layout`."""

    title: str
    rows: list[Row] = field(default_factory=list)
    children: list[Card] = field(default_factory=list)
    badge: str = ""
    plate: bool = False
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


def char_width(fontsize: float, dpi: float, text_kwargs: dict[str, Any]) -> float:
    """The mean width of a character (em) of the text as drawn: measured by matplotlib's
    renderer at ``dpi`` (hinting rounds glyphs to whole pixels), bold or not, whichever is
    wider."""
    import matplotlib.figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = matplotlib.figure.Figure(dpi=dpi)
    renderer = FigureCanvasAgg(figure).get_renderer()
    style = {"fontsize": fontsize, "fontfamily": "monospace", **text_kwargs}
    widths = []
    for weight in ("normal", "bold"):
        text = figure.text(0.0, 0.0, _SAMPLE, **{**style, "fontweight": weight})
        widths.append(text.get_window_extent(renderer).width)
    pixels_per_em = fontsize / 72.0 * dpi
    return max(widths) / len(_SAMPLE) / pixels_per_em


def _measure(card: Card, char: float) -> None:
    """The natural width and height of ``card`` and its children (em)."""
    for child in card.children:
        _measure(child, char)
    widths = [(len(card.title) + (len(card.badge) + 3 if card.badge else 0)) * char]
    for row in card.rows:
        widths.append(len(row.label) * char + 1.0 + (len(row.tag) * char + 1.6 if row.tag else 0))
    widths += [child.width for child in card.children]
    card.width = max(widths) + 2 * _PAD
    card.height = _TITLE + len(card.rows) * (_PILL + _GAP) + _PAD
    card.height += sum(child.height + _GAP for child in card.children)


def _place(card: Card, x: float, y: float, width: float) -> None:
    card.x, card.y, card.width = x, y, width
    top = y + _TITLE + len(card.rows) * (_PILL + _GAP)
    for child in card.children:
        _place(child, x + _PAD, top, width - 2 * _PAD)
        top += child.height + _GAP


def _wrap(note: str, columns: int) -> list[str]:
    """``note`` in lines of at most ``columns`` characters, broken at its `` · `` separators."""
    lines: list[str] = []
    for part in note.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= columns:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return lines


def layout(
    cards: list[Card], budget: float, notes: list[str], char: float = 0.6
) -> tuple[float, float, list[str]]:
    """Place the top-level ``cards`` in rows wrapping within ``budget`` em, with the ``notes``
    (legend, footer) below, broken into lines as wide as the cards (at least 60 characters);
    returns the figure's width and height in em and the lines of the notes.  ``char`` is the
    width of a character in em (:func:`char_width`).

    Examples
    --------
    >>> from graphfit.results.model_figure import Card, Row, layout
    >>> cards = [Card("a: A", [Row("x")]), Card("b: B", [Row("y"), Row("z")])]
    >>> width, height, lines = layout(cards, 8.0, ["footer"])
    >>> cards[1].y > cards[0].y  # the second card does not fit beside the first
    True
    """
    x = y = _MARGIN
    row_height = right = 0.0
    for card in cards:
        _measure(card, char)
        if x > _MARGIN and x + card.width > budget - _MARGIN:
            x, y, row_height = _MARGIN, y + row_height + 2 * _GAP, 0.0
        _place(card, x, y, card.width)
        x += card.width + 2 * _GAP
        right, row_height = max(right, x), max(row_height, card.height)
    columns = max(60, int((right - _MARGIN) / char))
    lines = [line for note in notes for line in _wrap(note, columns)]
    width = max(right, max(len(line) for line in lines) * char + 2 * _MARGIN)
    return width + _MARGIN, y + row_height + _MARGIN + len(lines) * _TITLE, lines


def _box(ax: Any, x: float, y: float, w: float, h: float, colours: tuple, z: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    face, edge, dashed = colours
    patch = FancyBboxPatch(
        (x, y),
        w,
        h,
        boxstyle="round,pad=0,rounding_size=0.3",
        facecolor=face,
        edgecolor=edge,
        linewidth=0.8,
        linestyle=(0, (3, 2)) if dashed else "solid",
        zorder=z,
    )
    ax.add_patch(patch)


def _draw_card(ax: Any, card: Card, level: int, style: dict[str, Any], char: float) -> None:
    tint = _TINTS[min(level, len(_TINTS) - 1)]
    edge = "#6f6f7d" if card.plate else "#9c9ca8"
    _box(ax, card.x, card.y, card.width, card.height, (tint, edge, card.plate), level + 1)
    middle = card.y + _TITLE / 2 + 0.2
    text = {"color": "#17171d", "zorder": level + 1.5, **style}
    ax.text(card.x + _PAD, middle, card.title, **{"fontweight": "bold", **text})
    if card.badge:
        left = card.x + card.width - _PAD - len(card.badge) * char
        ax.text(left, middle, card.badge, **{**text, "color": "#4c4c57"})
    y, inner = card.y + _TITLE, card.width - 2 * _PAD
    for row in card.rows:
        face, edge, colour, dashed = PILLS[row.state]
        _box(ax, card.x + _PAD, y, inner, _PILL, (face, edge, dashed), 40 + level)
        text = {"color": colour, "zorder": 60 + level, **style}
        ax.text(card.x + _PAD + 0.5, y + _PILL / 2, row.label, **text)
        if row.tag:
            fill, colour = TAGS.get(row.tag.split()[0], _TAG)
            width = len(row.tag) * char + 0.8
            left = card.x + card.width - _PAD - width - 0.2
            _box(ax, left, y + 0.2, width, _PILL - 0.4, (fill, fill, False), 50 + level)
            ax.text(left + 0.4, y + _PILL / 2, row.tag, **{**text, "color": colour})
        y += _PILL + _GAP
    for child in card.children:
        _draw_card(ax, child, level + 1, style, char)


def draw(
    cards: list[Card],
    size: tuple[float, float],
    notes: list[str],
    ax: Any,
    fontsize: float,
    dpi: float,
    text_kwargs: dict[str, Any],
    char: float = 0.6,
) -> tuple[Any, Any]:
    """Draw placed ``cards`` and ``notes`` into ``ax`` (scaled to fit it) or, with ``ax=None``,
    into a new pyplot figure of the size the text needs; returns ``(figure, axes)``."""
    import matplotlib.pyplot as plt

    width, height = size
    if ax is None:
        figure = plt.figure(figsize=(width * fontsize / 72, height * fontsize / 72), dpi=dpi)
        ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    else:
        figure = ax.figure
        box = ax.get_position()
        fig_width, fig_height = figure.get_size_inches()
        fitting = min(box.width * fig_width * 72 / width, box.height * fig_height * 72 / height)
        fontsize = min(fontsize, fitting)
    ax.set_xlim(0.0, width)
    ax.set_ylim(height, 0.0)
    ax.set_aspect("equal", adjustable="box")
    ax.axis("off")
    style = {"fontsize": fontsize, "fontfamily": "monospace", "va": "center", **text_kwargs}
    for card in cards:
        _draw_card(ax, card, 0, style, char)
    y = height - _MARGIN - len(notes) * _TITLE
    for note in notes:
        y += _TITLE
        ax.text(_MARGIN, y - _TITLE / 2, note, **{"color": "#4c4c57", **style})
    return figure, ax


def output(figure: Any, own: bool, path: Any, filename: str, format: str | None) -> bool:
    """Show or write ``figure`` as PyAutoFit's plotters do; returns whether it was shown.

    ``format=None`` does nothing; ``"show"`` calls ``plt.show()`` and closes a figure of the
    plotter's own (a given Axes' figure is the caller's: it is neither shown nor closed);
    ``"png"``, ``"pdf"`` and ``"svg"`` write ``<path>/<filename>.<format>`` when ``path`` is
    given (PNG files without the software's name, so that equal figures give equal bytes) and
    close a figure of the plotter's own.
    """
    import matplotlib.pyplot as plt

    if format is None or (format == "show" and not own):
        return False
    if format == "show":
        plt.show()
        plt.close(figure)
        return True
    if path is not None:
        Path(path).mkdir(parents=True, exist_ok=True)
        metadata = {"Software": None} if format == "png" else None
        target = Path(path) / f"{filename}.{format}"
        figure.savefig(target, format=format, dpi=figure.dpi, metadata=metadata)
    if own:
        plt.close(figure)
    return False

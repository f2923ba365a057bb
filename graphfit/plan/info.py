"""Text summaries of models and factor graphs (``model.info``).

The layout follows the cookbook: ``Total Free Parameters = N``, a blank line, then a tree with
each entry's path on the left and, in an aligned column, its component class or prior.  Priors are
numbered ``[k]`` in order of first appearance in the model, so the text is stable.  For a factor
graph, the model structure is shown once per group of alike datasets, parameters shared by several
datasets are listed once under their range (``0 - 2``), and each dataset's own parameters and
relations (with their constants) under its index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from graphfit.spec.model import AbstractModel, Model, Path
from graphfit.spec.priors import Prior
from graphfit.spec.relations import Relation

if TYPE_CHECKING:
    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = ["graph_info", "model_info", "range_label"]

_INDENT = "    "


def range_label(indices: Sequence[int]) -> str:
    """Compact label for dataset indices: ``[0, 1, 2]`` -> ``"0 - 2"``, ``[0, 2]`` -> ``"0, 2"``."""
    parts, start = [], None
    indices = sorted(indices)
    for k, value in enumerate(indices):
        if start is None:
            start = value
        if k + 1 == len(indices) or indices[k + 1] != value + 1:
            parts.append(str(start) if start == value else f"{start} - {value}")
            start = None
    return ", ".join(parts)


def _value_text(value: Any, index: dict[Prior, int], names: dict[Prior, str]) -> str:
    if isinstance(value, Prior):
        return value.info_text(index[value])
    if isinstance(value, Relation):
        return f"Relation: {value.expression_text(names)}"
    return repr(value)


def _render(lines: list[tuple[int, str, str]]) -> str:
    """Lay out ``(depth, name, text)`` rows with the text in one aligned column."""
    width = max((len(_INDENT) * d + len(name) for d, name, text in lines if text), default=0)
    width = max(width + 4, 40)
    out = []
    for depth, name, text in lines:
        left = f"{_INDENT * depth}{name}"
        out.append(f"{left.ljust(width)}{text}".rstrip())
    return "\n".join(out)


def _tree_rows(entries: Iterable[tuple[Path, str]], depth: int) -> list[tuple[int, str, str]]:
    """Rows of a path tree: shared path prefixes are printed once."""
    rows: list[tuple[int, str, str]] = []
    printed: list[Path] = []
    for path, text in entries:
        for level in range(len(path) - 1):
            prefix = path[: level + 1]
            if prefix not in printed:
                printed.append(prefix)
                rows.append((depth + level, path[level], ""))
        rows.append((depth + len(path) - 1, path[-1], text))
        printed.append(path)
    return rows


def _structure_rows(model: AbstractModel, depth: int, name: str) -> list[tuple[int, str, str]]:
    rows = [(depth, name, f"{model.component_name} (N={len(model.priors())})")]
    for child_name, value in model.items():
        if isinstance(value, AbstractModel):
            rows.extend(_structure_rows(value, depth + 1, child_name))
    return rows


def _structure(model: AbstractModel) -> tuple:
    return (
        model.component_name,
        tuple(
            (k, _structure(v) if isinstance(v, AbstractModel) else None) for k, v in model.items()
        ),
    )


def model_info(model: AbstractModel) -> str:
    """``model.info`` of a single :class:`~graphfit.Model` or ``Collection``."""
    priors = model.priors()
    index = {p: k for k, p in enumerate(priors)}
    names = {p: p.name or f"[{k}]" for k, p in enumerate(priors)}
    rows = [(0, "model", f"{model.component_name} (N={len(priors)})")]

    def walk(m: AbstractModel, depth: int) -> None:
        for name, value in m.items():
            if isinstance(value, AbstractModel):
                rows.append((depth, name, f"{value.component_name} (N={len(value.priors())})"))
                walk(value, depth + 1)
            else:
                rows.append((depth, name, _value_text(value, index, names)))
                if isinstance(value, Relation):
                    for prior in value.priors():
                        rows.append((depth + 1, names[prior], prior.info_text(index[prior])))

    walk(model, 1)
    paths = dict(names)
    for path, value in reversed(list(model.leaves())):
        if isinstance(value, Prior):
            paths[value] = ".".join(path)
    return f"Total Free Parameters = {len(priors)}\n\n{_render(rows)}\n" + _assertion_text(
        model.assertions, paths
    )


def _assertion_text(assertions: Sequence[Any], names: dict[Prior, str]) -> str:
    """The ``Assertions`` section of an info text (empty without assertions)."""
    if not assertions:
        return ""
    lines = "".join(f"{_INDENT}{a.expression_text(names)}\n" for a in assertions)
    return f"\nAssertions\n{lines}"


def graph_info(graph: FactorGraphModel) -> str:
    """``global_prior_model.info`` of a factor graph."""
    plan = graph.compile_plan()
    n = len(graph.factors)
    index = {p: k for k, p in enumerate(plan.priors)}
    names = plan.display_names()
    rows: list[tuple[int, str, str]] = [(0, "model", f"GlobalPriorModel (N={len(plan.priors)})")]

    # Model structure, once per group of datasets with the same component tree.
    structures: dict[tuple, list[int]] = {}
    for k, factor in enumerate(graph.factors):
        structures.setdefault(_structure(factor.prior_model), []).append(k)
    for members in structures.values():
        model = graph.factors[members[0]].prior_model
        rows.extend(_structure_rows(model, 1, range_label(members))[:1])
        rows.extend(_structure_rows(model, 1, "")[1:])

    # Populations of hierarchical factors: the distribution, its hyperparameters, who is drawn.
    population_names = {id(p): name for name, p in plan.populations}
    for hname, population in plan.populations:
        drawn = sorted({k for p in population.drawn for k in plan.users.get(p, [])})
        rows.append(
            (
                1,
                hname,
                f"HierarchicalFactor {population.distribution.__name__} "
                f"({population.resolved_parametrization.replace('_', '-')}), "
                f"drawn in {range_label(drawn)}",
            )
        )
        for argument in population.distribution.arguments:
            value = population.parameters.get(argument)
            if value is not None:
                rows.append((2, argument, _value_text(value, index, names)))

    # Parameters, grouped by the set of datasets that share them.
    sections: dict[tuple[int, ...], list[tuple[Path, str]]] = {}
    leaf_maps = [dict(f.prior_model.leaves()) for f in graph.factors]
    for k in range(len(graph.factors)):
        direct = {id(v) for v in leaf_maps[k].values() if isinstance(v, Prior)}
        for path, value in leaf_maps[k].items():
            if isinstance(value, Prior | Relation):
                owners = tuple(plan.users[value])
            else:  # a fixed value is shared when every dataset has the same one there
                same = all(_same_fixed(leaf_map.get(path), value) for leaf_map in leaf_maps)
                owners = tuple(range(n)) if same else (k,)
            if owners[0] != k:
                continue  # listed with the first dataset that has it
            entries = sections.setdefault(owners, [])
            if isinstance(value, Prior) and value in plan.drawn_from:
                text = f"Drawn from {population_names[id(plan.drawn_from[value])]}"
            else:
                text = _value_text(value, index, names)
            entries.append((path, text))
            if isinstance(value, Relation):
                for prior in value.priors():
                    prior_owners = tuple(plan.users[prior])
                    if id(prior) not in direct:
                        operand_entries = sections.setdefault(prior_owners, [])
                        entry = ((*path, names[prior]), prior.info_text(index[prior]))
                        if entry not in operand_entries:
                            operand_entries.append(entry)
    ordered = sorted(sections, key=lambda owners: (-len(owners), owners))
    for owners in ordered:
        label = range_label(owners)
        if len(owners) == 1 and plan.names[owners[0]] != f"dataset_{owners[0]}":
            label = f"{label} ({plan.names[owners[0]]})"
        rows.append((1, label, ""))
        rows.extend(_tree_rows(sections[owners], 2))
    joint_names = {p: ref.label for p, ref in plan.prior_refs.items()}
    return f"Total Free Parameters = {len(plan.priors)}\n\n{_render(rows)}\n" + _assertion_text(
        graph.assertions, joint_names
    )


def _same_fixed(a: Any, b: Any) -> bool:
    if isinstance(a, Prior | Relation | Model) or a is None:
        return False
    try:
        return bool(a == b) if not hasattr(a, "shape") else bool((a == b).all())
    except (TypeError, ValueError):
        return False

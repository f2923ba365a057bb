"""Text summaries of a fit (``result.info``, ``result_list.info``) in PyAutoFit's layout.

The text has, in order: the log evidence (``Bayesian Evidence``) when the search gives one, the
highest joint log-likelihood (``Maximum Log Likelihood``), the parameters at that sample
(``Maximum Log Likelihood Model:``), the posterior median of each parameter with the values at
3 and at 1 sigma (``Summary (3.0 sigma limits):``, ``Summary (1.0 sigma limits):``, as
``median (lower, upper)``), and the model's fixed values (``instances``).  Each line is a
parameter's path, nested paths indented by four spaces, with its value starting in the
80th column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from graphfit.results.samples import Samples

__all__ = ["samples_info"]

#: The column at which values start.
LINE_LENGTH = 80
_INDENT = "    "


def _number(value: Any) -> str:
    value = float(value)
    if value == 0.0 or 1e-2 <= abs(value) < 1e6 or not np.isfinite(value):
        return f"{value:.3f}"
    return f"{value:.3e}"


def _header(label: str, value: float) -> str:
    text = f"{value:.8f}"
    return f"{label}{text.rjust(LINE_LENGTH - len(label) + len(text))}"


def _tree(entries: Iterable[tuple[Sequence[str], str]]) -> list[str]:
    """Lines of a path tree: entries under one prefix together, each prefix once, values
    aligned at :data:`LINE_LENGTH`."""
    root: dict[str, Any] = {}
    for path, text in entries:
        node = root
        for name in path[:-1]:
            node = node.setdefault(str(name), {})
        node[str(path[-1])] = text
    lines: list[str] = []

    def render(node: dict[str, Any], depth: int) -> None:
        for name, value in node.items():
            left = f"{_INDENT * depth}{name}"
            if isinstance(value, dict):
                lines.append(left)
                render(value, depth + 1)
            else:
                lines.append(f"{left}{' ' * max(LINE_LENGTH - len(left), 1)}{value}")

    render(root, 0)
    return lines


def samples_info(samples: Samples) -> str:
    """The text summary of ``samples`` (see the module docstring).

    Examples
    --------
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian, sigma=10.0), analysis=gf.ex.Analysis(data, noise_map)
    ... )
    >>> print(result.info)  # doctest: +ELLIPSIS
    Maximum Log Likelihood                                                          185.8...
    <BLANKLINE>
    Maximum Log Likelihood Model:
    <BLANKLINE>
    centre                                                                          49.844
    normalization                                                                   25.453
    <BLANKLINE>
    <BLANKLINE>
    Summary (3.0 sigma limits):
    <BLANKLINE>
    centre ... 49.844 (49.844, 49.844)
    normalization ... 25.453 (25.453, 25.453)
    <BLANKLINE>
    <BLANKLINE>
    Summary (1.0 sigma limits):
    <BLANKLINE>
    centre ... 49.844 (49.844, 49.844)
    normalization ... 25.453 (25.453, 25.453)
    <BLANKLINE>
    <BLANKLINE>
    instances
    <BLANKLINE>
    sigma                                                                           10.0
    """
    paths = samples.parameter_paths
    lines: list[str] = []
    evidence = samples.log_evidence
    if evidence is not None:
        lines.append(_header("Bayesian Evidence ", evidence))
    lines.append(_header("Maximum Log Likelihood ", max(samples.log_likelihood_list)))
    lines += ["", "Maximum Log Likelihood Model:", ""]
    best = samples.max_log_likelihood(as_instance=False)
    lines += _tree(zip(paths, map(_number, best), strict=True))
    median = samples.median_pdf(as_instance=False)
    for sigma in (3.0, 1.0):
        bounds = samples.values_at_sigma(sigma, as_instance=False)
        texts = [
            f"{_number(m)} ({_number(lo)}, {_number(hi)})"
            for m, (lo, hi) in zip(median, bounds, strict=True)
        ]
        lines += ["", "", f"Summary ({sigma} sigma limits):", ""]
        lines += _tree(zip(paths, texts, strict=True))
    lines += ["", "", "instances", ""]
    lines += _tree((path, repr(value)) for path, value in samples.fixed_values)
    return "\n".join(lines)

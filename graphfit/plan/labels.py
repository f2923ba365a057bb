"""The label of a value of the joint posterior: ArviZ's own, used wherever datasets meet.

ArviZ labels each scalar element of a posterior variable in ``az.summary``, ``az.plot_forest``
and ``az.plot_trace``; graphfit cannot change those labels, so it uses the same ones wherever
values of several datasets are shown side by side: ``result_list.summary()`` (a joint fit's and
``fit_each``'s), the :class:`~graphfit.Aggregator`'s columns, ``agg.parameters``,
``summary.csv`` and the figures in ``graphfit.json``:

* a parameter shared by its datasets is its variable's name: ``centre``, ``gaussian.centre``;
* a per-dataset value is ``name[dataset]``: ``sigma[dataset_0]``, ``gaussian.sigma[t0]``, with
  the dataset's name (``AnalysisFactor(..., name=...)``, else ``dataset_<i>``);
* an element of a variable with further dims adds its coordinates as ArviZ does:
  ``x[dataset_0, 1]``;
* a parameter of one dataset that is not part of a per-dataset variable (the other datasets
  have no parameter of that kind at that path) is a variable of its own, named
  ``<dataset>.<path>`` by :mod:`graphfit.plan.naming`: ArviZ shows that name, ``t0.sigma``.

Within one dataset's own results (``result_list[i].idata``, ``result.summary()``) a parameter
keeps its bare name in that dataset's model (``sigma``).  Output folders of format versions 1
and 2 labelled a per-dataset value ``<dataset>.<name>``: :func:`legacy_label` reads those.
The guide is ``docs/guides/parameter_names.md``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

import numpy as np

__all__ = [
    "element_labels",
    "legacy_label",
    "parameter_label",
    "variable_dataset",
    "with_dataset",
]

#: The dims of draws, which a label leaves out.
SAMPLE_DIMS = ("chain", "draw")


def parameter_label(variable: str, *coords: Any) -> str:
    """The label of ``variable`` at ``coords`` (one value per dim, in the variable's order):
    ``variable`` alone, or ``variable[c1, c2]`` as ArviZ writes it.

    Examples
    --------
    >>> from graphfit.plan.labels import parameter_label
    >>> parameter_label("centre"), parameter_label("sigma", "dataset_0")
    ('centre', 'sigma[dataset_0]')
    >>> parameter_label("x", "dataset_0", 1)
    'x[dataset_0, 1]'
    """
    if not coords:
        return str(variable)
    return f"{variable}[{', '.join(str(c) for c in coords)}]"


def element_labels(array: Any) -> Iterator[tuple[tuple[int, ...], dict[str, Any], str]]:
    """Each scalar element of ``array`` (an ``xarray.DataArray`` of a posterior variable),
    in ArviZ's order: its position among the dims other than ``chain`` and ``draw``, its
    coordinate on each of those dims, and its label.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from graphfit.plan.labels import element_labels
    >>> array = xr.DataArray(
    ...     np.zeros((1, 3, 2)), dims=("chain", "draw", "dataset"), coords={"dataset": ["a", "b"]},
    ...     name="sigma",
    ... )
    >>> [label for _, _, label in element_labels(array)]
    ['sigma[a]', 'sigma[b]']
    """
    dims = [str(d) for d in array.dims if d not in SAMPLE_DIMS]
    values = [array[d].values if d in array.coords else np.arange(array.sizes[d]) for d in dims]
    for position in np.ndindex(*[array.sizes[d] for d in dims]):
        coords = {d: _plain(v[k]) for d, v, k in zip(dims, values, position, strict=True)}
        yield position, coords, parameter_label(str(array.name), *coords.values())


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def with_dataset(label: str, dataset: str) -> str:
    """A label of one dataset's own results as a label among several datasets: the dataset
    becomes the first coordinate (``sigma`` → ``sigma[t0]``, ``x[1]`` → ``x[t0, 1]``), as in a
    joint model's per-dataset variable.

    Examples
    --------
    >>> from graphfit.plan.labels import with_dataset
    >>> with_dataset("centre", "t0"), with_dataset("x[1]", "t0")
    ('centre[t0]', 'x[t0, 1]')
    """
    if label.endswith("]") and "[" in label:
        name, _, inner = label[:-1].partition("[")
        return f"{name}[{dataset}, {inner}]"
    return f"{label}[{dataset}]"


def variable_dataset(variable: str, datasets: Collection[str]) -> str | None:
    """The dataset of a variable of one dataset alone (``t0.sigma``: ``t0``), else ``None``.

    Examples
    --------
    >>> from graphfit.plan.labels import variable_dataset
    >>> variable_dataset("t0.sigma", ["t0", "t1"]), variable_dataset("centre", ["t0", "t1"])
    ('t0', None)
    """
    found = [d for d in datasets if variable.startswith(f"{d}.")]
    return max(found, key=len) if found else None


def legacy_label(label: str, datasets: Collection[str]) -> tuple[str, str | None]:
    """A label written in output folders of format versions 1 and 2, in today's scheme, and
    its dataset (``None`` for a shared parameter).

    Those folders labelled a per-dataset value ``<dataset>.<name>`` (``dataset_0.sigma``); it
    reads as ``sigma[dataset_0]``.  They did not record whether the value was an element of a
    per-dataset variable or a variable of that dataset alone (see the module notes), so both
    read as the element; other labels were ArviZ's already.

    Examples
    --------
    >>> from graphfit.plan.labels import legacy_label
    >>> legacy_label("dataset_0.gaussian.sigma", ["dataset_0", "dataset_1"])
    ('gaussian.sigma[dataset_0]', 'dataset_0')
    >>> legacy_label("centre", ["dataset_0"])
    ('centre', None)
    """
    dataset = variable_dataset(label, datasets)
    if dataset is None:
        return label, None
    return parameter_label(label[len(dataset) + 1 :], dataset), dataset

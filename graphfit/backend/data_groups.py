"""The analyses' coordinates and constant data in a joint ``InferenceData``.

Datasets of one structure share one compiled ``pm.Model`` (see
:mod:`graphfit.backend.structures`), whose observed dims are indexed ``0, 1, 2, ...``: the
coordinates of each fit's data are set here, on its ``InferenceData``, never in the shared
model.  :func:`joint_coords` reads each analysis's :meth:`~graphfit.Analysis.coords` (``x``
for 1D profiles, ``y`` and ``x`` for images, bin centres for histograms), checks them against
its observed node's dims before the fit, and :func:`label_data` puts them on the
``observed_data``, ``log_likelihood`` and ``posterior_predictive`` groups, and adds the
``constant_data`` group: each observed node's per-point arrays (the noise map), named
``<node>.<field>`` like the model's data containers (``obs_0.noise_map``), with the same dims
and coordinates as its data.

A stacked node (datasets of one structure batched into one node with dims ``(dataset, x)``)
gets ``x`` as its index when every dataset gives the same values; otherwise ``x`` stays
``0, 1, 2, ...`` and each dataset's values are the 2-D coordinate ``<x>_value`` of dims
``(dataset, x)``, which a dataset's view (:attr:`graphfit.Result.idata`) makes its own ``x``
index (:func:`own_coords`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import DataError

if TYPE_CHECKING:
    import xarray as xr

    from graphfit.backend.compiled import CompiledGraph
    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = ["LABELLED_GROUPS", "VALUE_SUFFIX", "joint_coords", "label_data", "own_coords"]

#: Suffix of the 2-D coordinate holding each stacked dataset's own values of a dim.
VALUE_SUFFIX = "_value"
#: The groups whose observed dims get the analyses' coordinates.
LABELLED_GROUPS = ("observed_data", "log_likelihood", "posterior_predictive")

#: Joint coordinates: dim name -> (dims, values); 1-D ones are the dim's index.
Coords = dict[str, tuple[tuple[str, ...], np.ndarray]]


def _given(name: str, analysis: Any, local_dims: list[str], sizes: dict[str, int]) -> dict:
    """The analysis's ``coords()``, checked against its observed node's dims and sizes."""
    method = getattr(analysis, "coords", None)
    given = method() if callable(method) else {}
    owner = f"dataset {name!r}: {type(analysis).__name__}.coords()"
    if not isinstance(given, dict):
        raise DataError(
            f"{owner} returned {type(given).__name__}; it must return a dict of coordinate "
            "values by dim name, such as {'x': xvalues}."
        )
    out = {}
    for dim, values in given.items():
        if dim not in sizes:
            raise DataError(
                f"{owner} names the dim {dim!r}, which its observation does not have (its dims: "
                f"{', '.join(map(repr, local_dims))}); name the dims given to its observation "
                "(dims=...)."
            )
        array = np.asarray(values)
        if array.shape != (sizes[dim],):
            raise DataError(
                f"{owner}[{dim!r}] has shape {array.shape}, but the observation has "
                f"{sizes[dim]} points along {dim!r}; give one value per point."
            )
        out[dim] = array
    return out


def joint_coords(graph: FactorGraphModel, compiled: CompiledGraph) -> Coords:
    """The coordinates of the joint model's observed dims given by the analyses.

    Raises
    ------
    DataError
        When an analysis's ``coords()`` is not a dict, names a dim its observation does not
        have, or does not hold one value per point along it.
    """
    model = compiled.model
    sizes = {name: len(values) for name, values in model.coords.items()}
    members: dict[str, dict[str, np.ndarray]] = {}  # joint dim -> {dataset: values}
    batch_dim: dict[str, str] = {}
    for k, node in enumerate(compiled.nodes):
        if node.kind != "observed":
            continue
        local = {own: sizes[joint] for joint, own in node.dims.items() if joint in sizes}
        given = _given(node.name, graph.factors[k].analysis, list(node.dims.values()), local)
        for joint, own in node.dims.items():
            if own in given:
                members.setdefault(joint, {})[node.name] = given[own]
                for selected in node.select:
                    batch_dim[joint] = selected
    coords: Coords = {}
    for joint, by_dataset in members.items():
        if joint not in batch_dim:
            coords[joint] = ((joint,), next(iter(by_dataset.values())))
            continue
        selected = batch_dim[joint]
        names = [str(n) for n in model.coords[selected]]
        default = np.arange(sizes[joint])
        rows = [by_dataset.get(n, default) for n in names]
        if all(np.array_equal(rows[0], row) for row in rows[1:]) and len(by_dataset) == len(names):
            coords[joint] = ((joint,), rows[0])
        else:
            coords[joint + VALUE_SUFFIX] = ((selected, joint), np.stack(rows))
    return coords


def label_data(idata: Any, compiled: CompiledGraph, coords: Coords) -> Any:
    """Put ``coords`` (:func:`joint_coords`) on ``idata``'s observed groups and add the noise
    maps of ``compiled``'s observed nodes as ``constant_data``; returns ``idata``."""
    import xarray as xr

    for name in LABELLED_GROUPS:
        group = stack.group(idata, name, None)
        if group is None:
            continue
        present = {key: value for key, value in coords.items() if set(value[0]) <= set(group.dims)}
        if present:
            stack.set_group(idata, name, group.assign_coords(present))
    observed = stack.group(idata, "observed_data", None)
    if observed is None:
        return idata
    arrays = {}
    for container, (_, field) in compiled.data_layout.items():
        node = container.removesuffix(f".{field}")
        if field == "data" or node == container or node not in observed:
            continue
        values = np.asarray(compiled.data[container])
        data = observed[node]
        if values.shape == data.shape:
            arrays[container] = data.copy(data=values.astype(float, copy=False))
    if arrays:
        constant = stack.group(idata, "constant_data", None)
        dataset = xr.Dataset(arrays)
        stack.set_group(
            idata, "constant_data", dataset if constant is None else constant.merge(dataset)
        )
    return idata


def own_coords(array: xr.DataArray, renames: dict[str, str]) -> xr.DataArray:
    """A dataset's slice ``array`` of a joint variable, its dims renamed by ``renames`` (joint
    name -> the dataset's), with each ``<joint dim>_value`` coordinate made its own index."""
    for joint in renames:
        extra = joint + VALUE_SUFFIX
        if extra in array.coords:
            array = array.assign_coords({joint: array[extra].values}).drop_vars(extra)
    return array.rename({old: new for old, new in renames.items() if old in array.dims})

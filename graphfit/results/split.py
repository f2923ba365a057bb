"""The split of a joint ``InferenceData`` into one dataset's view.

A dataset's view (:attr:`graphfit.Result.idata`) is selected and renamed from the joint
``InferenceData``, as described by its *split entry*, plain data that a saved folder keeps in
its ``graphfit.json`` so that a fit loaded without its model builds the same views
(:func:`split_entries`):

* ``vars``: ``[local name, joint variable, dataset or null]`` for each posterior variable of
  the dataset (its own model's names; the joint variable sliced at ``dataset``);
* ``node``: the joint variable of its observed node (``obs_0``), whose ``log_likelihood``,
  ``observed_data`` and ``posterior_predictive`` become ``obs``, and whose per-point arrays
  ``<node>.<field>`` in ``constant_data`` (the noise map) and ``fit_band`` (the saved fit plot:
  median model and 68% band) become ``<field>``;
* ``dims``: the node's dims renamed to the dataset's (``{"obs_0.x": "x"}``);
* ``select``: for a stacked node, ``{dataset dim: the dataset's name}``.

Coordinates given per dataset of a stacked node (``<dim>_value``, see
:mod:`graphfit.backend.data_groups`) become the view's own index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphfit.backend import stack
from graphfit.backend.data_groups import own_coords
from graphfit.backend.predictive import OBS

if TYPE_CHECKING:
    import arviz as az
    import xarray as xr

    from graphfit.backend.compiled import CompiledGraph

__all__ = [
    "FIT_BAND",
    "NODE_GROUPS",
    "PER_POINT_GROUPS",
    "dataset_view",
    "prior_column",
    "split_entries",
]

#: The group of a saved fit plot (:func:`graphfit.results.fit_band.band_group`).
FIT_BAND = "fit_band"
#: Groups holding the observed node itself, named ``obs`` in a dataset's view.
NODE_GROUPS = ("log_likelihood", "observed_data", "posterior_predictive")
#: Groups holding per-point arrays ``<node>.<field>``, named ``<field>`` in a dataset's view.
PER_POINT_GROUPS = ("constant_data", FIT_BAND)


def split_entries(compiled: CompiledGraph) -> list[dict[str, Any]]:
    """Each dataset's split entry (see the module docstring) of the compiled graph
    ``compiled``, JSON-able.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.results.split import split_entries
    >>> result = gf.MAP(random_seed=1).fit(
    ...     model=gf.Model(gf.ex.Gaussian),
    ...     analysis=gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0)),
    ... )
    >>> entry = split_entries(result.result_list.compiled)[0]
    >>> entry["vars"][0], entry["node"], entry["dims"]
    (['centre', 'centre', None], 'dataset_0.obs', {'dataset_0.x': 'x'})
    """
    return [
        {
            "vars": [[local, ref.name, ref.dataset] for local, ref in local_vars],
            "node": node.loglike_name,
            "dims": dict(node.dims),
            "select": dict(node.select),
        }
        for local_vars, node in zip(compiled.plan.factor_vars, compiled.nodes, strict=True)
    ]


def _node_array(array: xr.DataArray, entry: dict[str, Any]) -> xr.DataArray:
    if entry["select"]:
        array = array.sel(entry["select"], drop=True)
    return own_coords(array, entry["dims"])


def dataset_view(joint: az.InferenceData, entry: dict[str, Any]) -> az.InferenceData:
    """One dataset's ``InferenceData``, selected and renamed from ``joint`` by its split
    ``entry`` (:func:`split_entries`)."""
    import xarray as xr

    joint_posterior = stack.group(joint, "posterior")
    posterior = {}
    for local, name, dataset in entry["vars"]:
        array = joint_posterior[name]
        if dataset is not None:
            array = array.sel(dataset=dataset, drop=True)
        posterior[local] = array.rename(local)
    groups: dict[str, xr.Dataset] = {
        "posterior": xr.Dataset(posterior, attrs=dict(joint_posterior.attrs))
    }
    node = entry["node"]
    for name in NODE_GROUPS:
        group = stack.group(joint, name, {})
        if node in group:
            array = _node_array(group[node], entry).rename(OBS)
            groups[name] = xr.Dataset({OBS: array}, attrs=dict(group.attrs))
    for name in PER_POINT_GROUPS:
        group = stack.group(joint, name, None)
        if group is None:
            continue
        prefix = f"{node}."
        fields = {
            str(variable)[len(prefix) :]: _node_array(group[variable], entry)
            for variable in group.data_vars
            if str(variable).startswith(prefix) and "." not in str(variable)[len(prefix) :]
        }
        if fields:
            groups[name] = xr.Dataset(
                {field: array.rename(field) for field, array in fields.items()},
                attrs=dict(group.attrs),
            )
    if stack.has_group(joint, "sample_stats"):
        groups["sample_stats"] = stack.group(joint, "sample_stats")
    return stack.make_idata(**groups)


def prior_column(posterior: Any, ref: Any) -> Any:
    """A prior's draws in one dataset, dims ``(chain, draw)``: the joint posterior variable of
    its :class:`~graphfit.plan.naming.VarRef` ``ref``, at the dataset's entry when the variable
    is per dataset.

    Examples
    --------
    >>> import numpy as np
    >>> import xarray as xr
    >>> from graphfit.plan.naming import VarRef
    >>> from graphfit.results.split import prior_column
    >>> posterior = xr.Dataset(
    ...     {"sigma": (("chain", "draw", "dataset"), np.arange(12.0).reshape(1, 6, 2))},
    ...     coords={"dataset": ["a", "b"]},
    ... )
    >>> prior_column(posterior, VarRef("sigma", "b")).values.tolist()
    [[1.0, 3.0, 5.0, 7.0, 9.0, 11.0]]
    """
    array = posterior[ref.name]
    if ref.dataset is not None:
        array = array.sel(dataset=ref.dataset)
    return array.transpose("chain", "draw")

"""Posterior predictive draws of the observed data, for the joint model and per dataset.

PyMC draws replicated data for every observed node of the compiled model at every posterior
sample (``pm.sample_posterior_predictive``), once for the joint model; each dataset's draws are
then selected from the joint ones exactly as its log-likelihood is (its slice of a vectorised
node, or its own node), renamed to ``obs`` with the dataset's own dim names.

A dataset whose analysis overrides ``log_likelihood_function`` has a potential in the model, not
an observed node: a likelihood value is not a distribution one can draw data from, so such a
dataset has no posterior predictive and :class:`~graphfit.exceptions.PredictiveError` says so.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.backend.compiled import LOCK
from graphfit.backend.data_groups import own_coords
from graphfit.exceptions import PredictiveError

if TYPE_CHECKING:
    import arviz as az
    import xarray as xr

    from graphfit.backend.compiled import CompiledGraph, FactorNode
    from graphfit.results.result import Result
    from graphfit.results.result_list import ResultList

__all__ = ["OBS", "dataset_posterior_predictive", "joint_posterior_predictive", "node_slice"]

#: Name of a dataset's observed / log-likelihood variable in its own ``idata``.
OBS = "obs"

#: Attribute of a ResultList holding its posterior predictive draws, by random seed.
_CACHE = "_posterior_predictive_cache"


#: PyMC's logger of forward sampling, which logs the variables it draws ("Sampling: [obs]").
_FORWARD_LOGGER = "pymc.sampling.forward"


@contextlib.contextmanager
def _quiet_forward() -> Iterator[None]:
    """PyMC's "Sampling: [obs]" record left out: graphfit names the draws itself, and a notebook
    shows every INFO record of PyMC's logger (PyMC sets it to INFO when it samples)."""
    logger = logging.getLogger(_FORWARD_LOGGER)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def node_slice(array: xr.DataArray, node: FactorNode) -> xr.DataArray:
    """One dataset's part of a variable of the joint model, named ``obs`` with local dims.

    ``array`` is the joint variable named ``node.loglike_name`` (in ``log_likelihood``,
    ``observed_data`` or ``posterior_predictive``); a vectorised node is sliced at the dataset,
    and the dataset's own values of a dim (``<dim>_value``) become its index, as in its view.
    """
    if node.select:
        array = array.sel(node.select, drop=True)
    return own_coords(array, node.dims).rename(OBS)


def _custom_message(result_list: ResultList, names: list[str]) -> str:
    analyses = sorted({type(result_list[n].analysis).__name__ for n in names})
    return (
        f"dataset(s) {', '.join(repr(n) for n in names)} have no posterior predictive: their "
        f"analysis ({', '.join(analyses)}) overrides log_likelihood_function, which gives a "
        "likelihood value but no distribution to draw data from. Return a "
        "gf.GaussianObservation from observation() instead (and do not override "
        "log_likelihood_function) to get a real observed node and its predictive draws; "
        "result.plot_fit() needs only observation()."
    )


def joint_posterior_predictive(
    result_list: ResultList, random_seed: int | None = 0
) -> az.InferenceData:
    """Posterior predictive draws of every observed node of the joint model (cached).

    Returns an ``InferenceData`` with groups ``posterior_predictive`` and ``observed_data``,
    the variables named as in the joint model (``obs``, ``obs_<g>``, ``<dataset>.obs``).  The
    draws are made once per ``random_seed`` and kept on the result list.

    Raises
    ------
    PredictiveError
        When no dataset has an observed node (every analysis has a custom likelihood).
    """
    cache: dict[Any, az.InferenceData] = result_list.__dict__.setdefault(_CACHE, {})
    if random_seed in cache:
        return cache[random_seed]
    import pymc as pm

    compiled: CompiledGraph = result_list.require("compiled", "posterior predictive draws")
    nodes = compiled.nodes
    observed = list(dict.fromkeys(n.loglike_name for n in nodes if n.kind == "observed"))
    if not observed:
        raise PredictiveError(_custom_message(result_list, [n.name for n in nodes]))
    with LOCK, _quiet_forward():  # the model may be shared: this fit's data in its containers
        compiled.activate()
        predictive = pm.sample_posterior_predictive(
            _trace(result_list.require("idata", "posterior predictive draws"), compiled.data),
            model=compiled.model,
            var_names=observed,
            random_seed=random_seed,
            progressbar=False,
            extend_inferencedata=False,
        )
    compiled.drop_containers(predictive)
    _label_like_observed(predictive, result_list.require("idata", "posterior predictive draws"))
    cache[random_seed] = predictive
    return predictive


def _label_like_observed(predictive: az.InferenceData, idata: az.InferenceData) -> None:
    """Give ``predictive``'s draws the coordinates of the fit's observed data (the analyses'
    ``x``, and a stacked node's ``<dim>_value``), which PyMC's draws, indexed by the shared
    model's ``0, 1, 2, ...``, do not have."""
    observed = stack.group(idata, "observed_data", None)
    group = stack.group(predictive, "posterior_predictive", None)
    if observed is None or group is None:
        return
    coords = {
        name: coord
        for name, coord in observed.coords.items()
        if set(coord.dims) <= set(group.dims)
        and all(group.sizes[dim] == size for dim, size in coord.sizes.items())
    }
    if coords:
        stack.set_group(predictive, "posterior_predictive", group.assign_coords(coords))


def _trace(idata: az.InferenceData, containers: dict[str, Any]) -> az.InferenceData:
    """The posterior, with the containers' values as its ``constant_data``: PyMC resamples from
    the prior every variable that depends on a container whose value it cannot find there
    (the priors' arguments of a shared model, see :mod:`graphfit.backend.structures`)."""
    if not containers:
        return idata
    import xarray as xr

    constant = xr.Dataset(
        {
            name: xr.DataArray(value, dims=[f"{name}_dim_{k}" for k in range(np.ndim(value))])
            for name, value in containers.items()
        }
    )
    return stack.make_idata(posterior=stack.group(idata, "posterior"), constant_data=constant)


def dataset_posterior_predictive(result: Result, random_seed: int | None = 0) -> az.InferenceData:
    """One dataset's ``InferenceData`` with its ``posterior_predictive`` group added.

    The groups of ``result.idata`` (posterior, log-likelihood, observed data, sample stats) and
    ``posterior_predictive`` holding ``obs`` with the same dims as ``observed_data.obs``, so
    ``az.plot_ppc`` works on it directly.  ``result.idata`` itself is left unchanged.

    Raises
    ------
    PredictiveError
        When the dataset's analysis has a custom ``log_likelihood_function``.
    """
    import xarray as xr

    compiled: CompiledGraph = result.result_list.require("compiled", "posterior predictive draws")
    node = compiled.nodes[result.index]
    if node.kind != "observed":
        raise PredictiveError(_custom_message(result.result_list, [result.name]))
    joint = joint_posterior_predictive(result.result_list, random_seed)
    group = stack.group(joint, "posterior_predictive")
    array = node_slice(group[node.loglike_name], node)
    own = result.idata
    groups = {name: stack.group(own, name) for name in stack.group_names(own)}
    groups["posterior_predictive"] = xr.Dataset({array.name: array}, attrs=dict(group.attrs))
    return stack.make_idata(**groups)

"""What :meth:`graphfit.Aggregator.values` reads from one saved fit, by PyAutoFit's names.

=============  ==================================================================================
name           value of one fit
=============  ==================================================================================
``samples``    :class:`~graphfit.Samples`: what ``result.samples`` gave after the fit
               (``result_list.samples`` for a factor graph, whose paths hold the dataset)
``instance``   the maximum log-likelihood instance, ``result.instance`` (``result_list.instance``)
``model``      the fitted model, rebuilt (:mod:`graphfit.io.saved_model`): the dataset's
               ``gf.Model`` / ``gf.Collection``, or a ``gf.Collection`` of every dataset's
               model by name
``search``     the search's settings as saved in ``search.json``, a dict
               (``{"search": "NUTS", "draws": 1000, ...}``)
=============  ==================================================================================

``samples`` and ``instance`` read the fit's ``model.json`` and ``joint.nc``; ``model`` and
``search`` read JSON only.  Each file is verified as :func:`~graphfit.load_result` verifies
it (:mod:`graphfit.io.verify`): ``model.json`` and ``search.json`` must be what the fit's
identifier was made from, and every file must match its SHA-256.  The instances are of your
classes when they are given in ``reference`` or already imported (see
:mod:`graphfit.io.saved_model`).  Other names
PyAutoFit's workspace asks for (files its analyses write, ``samples_summary``, ``info``,
``latent``) have no graphfit file: :func:`check_value_name` says what to use instead.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from graphfit.backend import stack
from graphfit.exceptions import ResultLoadError
from graphfit.io.layout import MODEL_JSON, SEARCH
from graphfit.io.loading import needs_model, read_dataset, read_diagnostics, read_joint
from graphfit.io.saved_model import saved_graph
from graphfit.io.verify import check_description, check_paths, inside, read_json
from graphfit.plan.naming import GraphPlan, plan_graph
from graphfit.results.result_list import ResultList

__all__ = ["VALUE_NAMES", "check_value_name", "fit_value", "saved_result_list"]

#: The names :meth:`graphfit.Aggregator.values` takes.
VALUE_NAMES = ("samples", "instance", "model", "search")

_TABLE = "agg.table (each parameter's median and 94% HDI, convergence figures)"
_DATA = (
    "graphfit saves each dataset's observed data in its InferenceData: "
    "agg.load(k)[i].idata.observed_data['obs']"
)
#: What to use instead of PyAutoFit names that have no graphfit file.
_INSTEAD = {
    "samples_summary": f"use values('samples') (median_pdf(), values_at_sigma(...)) or {_TABLE}",
    "samples_info": f"use values('samples') (total_samples, log_evidence) or {_TABLE}",
    "info": (
        "graphfit saves no info dictionary; label fits with the search's name= or "
        "path_prefix= and select them with agg.filter(name=..., path_prefix=...)"
    ),
    "latent": "graphfit saves no latent variables; relations of the parameters are in "
    "values('samples') and its instances",
    "data": _DATA,
    "noise_map": _DATA,
    "dataset": _DATA,
    "model_data": "give the model to agg.load(k, model=...) and use result.plot_fit() or "
    "result.posterior_predictive()",
    "covariance": "use values('samples').parameter_lists with numpy.cov",
}
_INSTEAD["latent_samples"] = _INSTEAD["latent_summary"] = _INSTEAD["latent"]


def check_value_name(name: Any) -> str:
    """``name`` if :meth:`graphfit.Aggregator.values` takes it, else a
    :class:`~graphfit.ResultLoadError` listing the names (and what to use for a PyAutoFit name
    graphfit has no file for).

    Examples
    --------
    >>> from graphfit.io.fit_values import check_value_name
    >>> check_value_name("samples")
    'samples'
    >>> check_value_name("samples_summary")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphfit.exceptions.ResultLoadError: Aggregator.values('samples_summary'): ... use values(...
    """
    if isinstance(name, str) and name in VALUE_NAMES:
        return name
    allowed = ", ".join(repr(n) for n in VALUE_NAMES)
    hint = _INSTEAD.get(name) if isinstance(name, str) else None
    raise ResultLoadError(
        f"Aggregator.values({name!r}): graphfit saves no such value"
        + (f"; {hint}" if hint else "")
        + f". The names are {allowed}."
    )


def _json(folder: Path, relative: str, metadata: dict[str, Any]) -> Any:
    """``model.json`` or ``search.json`` of the fit in ``folder``, verified."""
    value = read_json(inside(folder, relative))
    return check_description(folder, relative, value, metadata)


def _check_plan(plan: GraphPlan, idata: Any, folder: Path) -> None:
    """Every joint variable the rebuilt model names is in the saved posterior."""
    posterior = stack.group(idata, "posterior")
    for ref in (*plan.prior_refs.values(), *plan.relation_refs.values()):
        array = posterior.get(ref.name)
        if array is None or (
            ref.dataset is not None
            and ("dataset" not in array.dims or ref.dataset not in array["dataset"].values)
        ):
            raise ResultLoadError(
                f"{str(folder)!r}: the model rebuilt from model.json has the variable {ref.label}, "
                "which joint.nc does not hold: the folder was written by another graphfit "
                "version or changed since. Load it with its model: agg.load(k, model=...)."
            )


def saved_result_list(
    folder: Path, metadata: dict[str, Any], reference: dict[str, type] | None = None
) -> ResultList:
    """A :class:`~graphfit.ResultList` of the saved fit in ``folder`` with its model rebuilt
    from ``model.json``: samples, instances and prior passing work; what needs the compiled
    model or the analyses (predictive draws, fit plots) raises the error of a result loaded
    without its model."""
    check_paths(folder, metadata)
    model = _json(folder, MODEL_JSON, metadata)
    graph = saved_graph(model, reference, where=repr(str(folder)))
    plan = plan_graph(graph)  # type: ignore[arg-type]
    idata = read_joint(folder)
    _check_plan(plan, idata, folder)
    result_list = ResultList(
        graph,  # type: ignore[arg-type]
        None,
        idata,
        read_diagnostics(folder, metadata),
        names=metadata["datasets"],
        loglike_names=metadata["loglike_names"],
        dataset_idata=lambda k: read_dataset(folder, k, metadata, idata),
        missing=functools.partial(needs_model, folder=folder),
        plan=plan,
    )
    result_list.timings = dict(metadata.get("timings", {}))
    result_list.output_folder = folder
    return result_list


def fit_value(
    folder: Path, metadata: dict[str, Any], name: str, reference: dict[str, type] | None = None
) -> Any:
    """The value ``name`` (one of :data:`VALUE_NAMES`) of the saved fit in ``folder``.

    A fit of one analysis (``search.fit(model=..., analysis=...)``) gives its dataset's
    ``samples`` and ``instance``, a factor graph's fit those of the joint fit.
    """
    if name == "search":
        return _json(folder, SEARCH, metadata)
    if name == "model":
        model = _json(folder, MODEL_JSON, metadata)
        return saved_graph(model, reference, repr(str(folder))).model()
    result_list = saved_result_list(folder, metadata, reference)
    owner: Any = result_list[0] if metadata.get("single") else result_list
    return owner.samples if name == "samples" else owner.instance

"""Loading saved fits: ``gf.load_result(folder)`` gives a :class:`~graphfit.ResultList` back.

Only NetCDF (through xarray / ArviZ), JSON and CSV files are read: nothing is unpickled and no
class or function named in a file is imported.  Instances of the user's model classes therefore
need the model: pass the factor graph (or the model and analysis, as given to ``search.fit``) as
``load_result(folder, model=...)`` to get a full :class:`~graphfit.ResultList` whose instances,
populations and compiled model work as after a fit.  Without it, a :class:`LoadedResultList`
gives the joint and per-dataset ``InferenceData``, names, diagnostics, timings, summaries and the
maximum-likelihood sample, and says what to pass when an instance is asked for.

The folder is data from outside: its ``graphfit.json`` is checked against a schema and its own
hash, every file is read from inside the folder under the layout's name, and each file's SHA-256
is checked when the file is read (:mod:`graphfit.io.verify`).
"""

from __future__ import annotations

import functools
import os
import pathlib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.backend import stack
from graphfit.exceptions import ResultLoadError
from graphfit.io.layout import (
    DIAGNOSTICS,
    JOINT,
    MARKER,
    METADATA,
    READ_FORMAT_VERSIONS,
    SEARCH,
    SUMMARY,
    dataset_file,
)
from graphfit.io.verify import (
    check_description,
    check_metadata,
    check_paths,
    inside,
    read_json,
    verify_file,
)
from graphfit.plan.fingerprint import data_fingerprint, model_hash
from graphfit.results.diagnostics import Diagnostics
from graphfit.results.html import result_list_html
from graphfit.results.result_list import ResultList
from graphfit.results.split import dataset_view
from graphfit.spec.factor_graph import FactorGraphModel, GlobalPriorModel, as_graph

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd

    from graphfit.results.diagnostics import Diagnostics
    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = [
    "IncompleteResultWarning",
    "LoadedResultList",
    "incomplete_reason",
    "load_result",
    "needs_model",
    "read_dataset",
    "read_diagnostics",
    "read_joint",
    "read_metadata",
]


class IncompleteResultWarning(UserWarning):
    """A saved fit marked finished holds an incomplete posterior, so it is fitted again.

    A search given ``name=`` loads its finished fit instead of fitting again; a folder whose
    joint posterior has non-finite draws, or fewer chains or draws than its ``search.json``
    asked for (a fit stopped early and saved by an older graphfit), is not a finished fit:
    it is reported with this warning, fitted again and replaced.

    Examples
    --------
    >>> import graphfit as gf
    >>> issubclass(gf.IncompleteResultWarning, UserWarning)
    True
    """


class _IncompleteResult(ResultLoadError):
    """Raised by :func:`load_result` for a folder whose posterior is incomplete."""


def needs_model(what: str, folder: Path) -> ResultLoadError:
    """The error for ``what``, which needs the fitted model a saved folder does not hold."""
    return ResultLoadError(
        f"{what} needs the fitted model, which a saved result does not store as code: load it "
        f"with gf.load_result({str(folder)!r}, model=factor_graph) (or model=..., analysis=... "
        "for a single analysis)."
    )


def read_metadata(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a result folder's ``graphfit.json``: format, version, completion, and
    :func:`~graphfit.io.verify.check_metadata` (schema, file names, identifier, its own hash).

    Raises
    ------
    ResultLoadError
        When the folder does not exist, is not a graphfit result, is unfinished, was written
        in a format version this graphfit cannot read, or its ``graphfit.json`` fails the
        checks; the message names the file (and the entry).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultLoadError(f"{str(folder)!r} is not a folder; give a graphfit result folder.")
    path = folder / METADATA
    if not path.is_file():
        raise ResultLoadError(
            f"{str(folder)!r} is not a graphfit result folder: it has no {METADATA}. A result "
            "folder is <output root>/<path_prefix>/<name>/<identifier>/."
        )
    metadata = read_json(inside(folder, METADATA))
    if not isinstance(metadata, dict) or metadata.get("format") != "graphfit-result":
        raise ResultLoadError(
            f'{str(path)!r} is not a graphfit result description (no "format": "graphfit-result").'
        )
    version = metadata.get("format_version")
    if version not in READ_FORMAT_VERSIONS or isinstance(version, bool):
        *first, last = (str(v) for v in READ_FORMAT_VERSIONS)
        readable = f"{', '.join(first)} and {last}" if first else last
        raise ResultLoadError(
            f"{str(path)!r} was written in result format version {version!r} (by graphfit "
            f"{metadata.get('graphfit_version', 'unknown')}); this graphfit reads versions "
            f"{readable} only. Refit, or load it with the graphfit version that wrote it."
        )
    if not (folder / MARKER).is_file():
        raise ResultLoadError(
            f"{str(folder)!r} holds an unfinished fit (no {MARKER} marker): the fit was stopped "
            "before it was saved. Rerun the fit."
        )
    return check_metadata(metadata, path)


def read_netcdf(path: Path) -> az.InferenceData:
    """Read an ``InferenceData`` from NetCDF into memory, with a clear error for a bad file."""
    if not path.is_file():
        raise ResultLoadError(
            f"{str(path)!r} is missing from the result folder. Delete the result folder and fit "
            "again."
        )
    try:
        return stack.read_netcdf(str(path))
    except (OSError, ValueError, KeyError) as error:
        raise ResultLoadError(
            f"{str(path)!r} could not be read as NetCDF; the file is truncated or damaged "
            f"({type(error).__name__}: {error}). Delete the result folder and fit again."
        ) from None


def incomplete_reason(folder: str | os.PathLike[str], idata: Any = None) -> str | None:
    """Why the saved fit in ``folder`` is not a whole posterior, or ``None`` when it is.

    Its joint posterior (``idata``, else read from ``joint.nc``) must be finite in every draw
    and, for a search with ``chains`` and ``draws`` settings in ``search.json`` (NUTS, SMC),
    hold at least that many chains and draws per chain.

    Examples
    --------
    >>> import tempfile
    >>> import graphfit as gf
    >>> from graphfit.io.loading import incomplete_reason
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> search = gf.MAP(random_seed=1, name="example", output_path=tempfile.mkdtemp())
    >>> analysis = gf.ex.Analysis(data, noise_map)
    >>> result = search.fit(model=gf.Model(gf.ex.Gaussian), analysis=analysis)
    >>> incomplete_reason(result.result_list.output_folder) is None
    True
    """

    folder = Path(folder)
    if idata is None:
        idata = read_netcdf(inside(folder, JOINT))
    try:
        settings = read_json(inside(folder, SEARCH))
    except ResultLoadError:
        settings = {}
    posterior = stack.group(idata, "posterior")
    reasons = []
    for key, dim in (("chains", "chain"), ("draws", "draw")):
        asked = settings.get(key) if isinstance(settings, dict) else None
        held = int(posterior.sizes.get(dim, 0))
        if isinstance(asked, int) and not isinstance(asked, bool) and held < asked:
            reasons.append(f"{held} {dim}(s) where {SEARCH} asks for {asked}")
    bad = []
    for name, array in posterior.data_vars.items():
        values = np.asarray(array.values)
        if np.issubdtype(values.dtype, np.number) and not np.isfinite(values).all():
            bad.append(str(name))
    if bad:
        reasons.append(f"non-finite draws (NaN or inf) in {', '.join(bad)}")
    return "; ".join(reasons) or None


def read_joint(folder: Path, metadata: dict[str, Any] | None = None) -> az.InferenceData:
    """The joint ``InferenceData`` of a finished fit (``joint.nc``), verified.

    ``metadata`` is the folder's checked ``graphfit.json`` (:func:`read_metadata`; read when
    not given).  ``joint.nc`` and ``search.json`` must match their SHA-256 in it, and
    ``search.json`` the search hash of the identifier.

    Raises
    ------
    ResultLoadError
        For a missing or damaged file, a posterior that is not whole
        (:func:`incomplete_reason`), or a file that does not match its hash.
    """
    if metadata is None:
        metadata = read_metadata(folder)
    idata = read_netcdf(inside(folder, JOINT))
    reason = incomplete_reason(folder, idata)
    if reason is not None:
        raise _IncompleteResult(
            f"{str(folder)!r} is marked finished but holds an incomplete posterior ({reason}): "
            "the fit was stopped early (e.g. interrupted) and saved by an older graphfit. It "
            "is not a finished fit; delete the folder and fit again (a rerun of the same "
            "named search does so)."
        )
    verify_file(folder, JOINT, metadata)
    check_description(folder, SEARCH, read_json(inside(folder, SEARCH)), metadata)
    return idata


def read_dataset(
    folder: Path, index: int, metadata: dict[str, Any], joint: Any = None
) -> az.InferenceData:
    """Dataset ``index``'s ``InferenceData``: its view of the joint one (``joint``, else read
    from ``joint.nc``), split by the entry saved for it in ``graphfit.json``
    (:func:`graphfit.results.split.dataset_view`); in a folder of format version 1 or 2,
    ``datasets/<k>.nc`` (the layout's name), verified against its SHA-256 in ``metadata``."""
    if "split" in metadata:
        if joint is None:
            joint = read_joint(folder, metadata)
        return dataset_view(joint, metadata["split"][index])
    relative = dataset_file(index)
    idata = read_netcdf(inside(folder, relative))
    verify_file(folder, relative, metadata)
    return idata


def read_diagnostics(folder: Path, metadata: dict[str, Any]) -> Diagnostics | None:
    """The saved convergence figures (``diagnostics.csv``), or ``None`` for an optimiser."""
    import pandas as pd

    figures = metadata.get("diagnostics")
    if figures is None:
        return None
    path = inside(folder, DIAGNOSTICS)
    verify_file(folder, DIAGNOSTICS, metadata)
    try:
        table = pd.read_csv(path, index_col="parameter")
    except (OSError, ValueError) as error:
        raise ResultLoadError(
            f"{str(path)!r} could not be read as CSV ({error}). Delete the result folder "
            "and fit again."
        ) from None
    table.index.name = None
    return Diagnostics(
        table=table,
        divergences=int(figures["divergences"]),
        problems=list(figures["problems"]),
        notes=list(figures.get("notes", [])),
    )


def _graph_from(model: Any, analysis: Any) -> FactorGraphModel | None:
    if model is None and analysis is None:
        return None
    if analysis is None:
        if isinstance(model, FactorGraphModel):
            return model
        if isinstance(model, GlobalPriorModel):
            return model.graph
        raise ResultLoadError(
            f"load_result: model must be a gf.FactorGraphModel or its global_prior_model, or "
            f"a gf.Model / gf.Collection given with analysis=..., got {model!r}."
        )
    return as_graph(model, analysis)[0]


def load_result(
    path: str | os.PathLike[str], model: Any = None, analysis: Any = None
) -> ResultList:
    """Load a saved fit from its output folder.

    Parameters
    ----------
    path
        The fit's folder, ``<output root>/<path_prefix>/<name>/<identifier>``.
    model, analysis
        Optional: what was fitted, as given to ``search.fit`` (a factor graph or its
        ``global_prior_model``; or a ``gf.Model`` / ``gf.Collection`` with its ``analysis``).
        With it, the result is a full :class:`~graphfit.ResultList` (instances, populations,
        the compiled model); it must be the same model and data as the saved fit.  Without it,
        a :class:`LoadedResultList` (everything but instances; see the module notes).

    Returns
    -------
    ResultList
        One result per dataset, as after the fit; ``output_folder`` is ``path``.

    Raises
    ------
    ResultLoadError
        For a folder that is not a finished graphfit result (no completion marker, or a
        posterior with non-finite draws or fewer chains or draws than its search asked for: a
        fit stopped early), a truncated or damaged NetCDF file, a result in another format
        version, a ``graphfit.json`` that fails its checks, a file outside the folder or
        that does not match its SHA-256 (each dataset's file is checked when it is first
        read), or a ``model`` that differs from the saved one.

    Examples
    --------
    >>> import tempfile
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> search = gf.MAP(random_seed=1, name="example", output_path=tempfile.mkdtemp())
    >>> analysis = gf.ex.Analysis(data, noise_map)
    >>> result = search.fit(model=gf.Model(gf.ex.Gaussian), analysis=analysis)
    >>> loaded = gf.load_result(result.result_list.output_folder)
    >>> loaded.names, round(float(loaded[0].idata.posterior["centre"].mean()))
    (['dataset_0'], 50)
    """
    folder = Path(path)
    metadata = read_metadata(folder)
    check_paths(folder, metadata)
    graph = _graph_from(model, analysis)
    idata = read_joint(folder, metadata)
    diagnostics = read_diagnostics(folder, metadata)
    if graph is None:
        result_list: ResultList = LoadedResultList(folder, metadata, idata, diagnostics)
    else:
        for key, what, value in (
            ("model_hash", "model", model_hash(graph)),
            ("data_hash", "data", data_fingerprint(graph)),
        ):
            if value != metadata.get(key):
                raise ResultLoadError(
                    f"load_result: the {what} given differs from the {what} saved in "
                    f"{str(folder / METADATA)!r}; pass the model and data that were fitted."
                )
        result_list = ResultList(graph, graph.compile(), idata, diagnostics)
    result_list.timings = dict(metadata.get("timings", {}))
    result_list.output_folder = folder
    return result_list


class LoadedResultList(ResultList):
    """A :class:`~graphfit.ResultList` read from an output folder without the model.

    It has the joint and per-dataset ``InferenceData``, ``names``, ``diagnostics``, ``timings``,
    ``summary()``, ``summary_table`` (the saved per-dataset ``summary.csv``) and the sample
    indices; ``graph`` and ``compiled`` are ``None`` and instances, ``populations`` and ``model``
    raise a :class:`~graphfit.ResultLoadError` saying to pass ``model=`` to
    :func:`load_result`.

    Examples
    --------
    >>> import tempfile
    >>> import graphfit as gf
    >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    >>> search = gf.MAP(random_seed=1, name="example", output_path=tempfile.mkdtemp())
    >>> analysis = gf.ex.Analysis(data, noise_map)
    >>> result = search.fit(model=gf.Model(gf.ex.Gaussian), analysis=analysis)
    >>> loaded = gf.load_result(result.result_list.output_folder)
    >>> type(loaded).__name__, list(loaded.summary_table["parameter"])
    ('LoadedResultList', ['centre', 'normalization', 'sigma'])
    """

    def __init__(
        self,
        folder: pathlib.Path,
        metadata: dict[str, Any],
        idata: az.InferenceData,
        diagnostics: Diagnostics | None,
    ) -> None:
        self.folder = folder
        self.metadata = metadata
        super().__init__(
            None,
            None,
            idata,
            diagnostics,
            names=metadata["datasets"],
            loglike_names=metadata["loglike_names"],
            dataset_idata=self._read_dataset,
            missing=functools.partial(needs_model, folder=folder),
        )
        self.timings = dict(metadata.get("timings", {}))
        self.output_folder = folder

    def _read_dataset(self, index: int) -> az.InferenceData:
        """Dataset ``index``'s ``InferenceData``, built from the joint one (read from
        ``datasets/<k>.nc`` in a folder of format version 1 or 2)."""
        return read_dataset(self.folder, index, self.metadata, self.idata)

    @cached_property
    def summary_table(self) -> pd.DataFrame:
        """The saved per-dataset summary (``summary.csv``): one row per dataset and parameter,
        with ``dataset``, ``parameter`` (its name in the dataset's model), ``label`` (its
        label in the joint fit, :mod:`graphfit.plan.labels`; folders of format versions 1 and
        2 have no ``label``) and the posterior figures."""
        import pandas as pd

        path = inside(self.folder, SUMMARY)
        verify_file(self.folder, SUMMARY, self.metadata)
        try:
            return pd.read_csv(path)
        except (OSError, ValueError) as error:
            raise ResultLoadError(
                f"{str(path)!r} could not be read as CSV ({error}). Delete the result folder "
                "and fit again."
            ) from None

    def __repr__(self) -> str:
        return f"LoadedResultList({len(self)} datasets from {str(self.folder)!r})"

    def _repr_html_(self) -> str:
        return result_list_html(self, summary=self.summary_table)

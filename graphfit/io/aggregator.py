"""``gf.Aggregator``: every finished fit under an output folder as a table, to filter and load.

Listing reads one small JSON file per fit (``graphfit.json``, written at fit time with each
parameter's posterior median and 94% HDI and the convergence figures), checked against its
schema and its own SHA-256 (:mod:`graphfit.io.verify`): a folder that fails is listed in
``skipped`` with the reason, and the others are listed.  NetCDF files are opened (and
verified) only when a fit is loaded.  PyAutoFit's ``Aggregator.from_directory`` and
``agg.values(name)`` are here too; what ``values`` reads of each fit is in
:mod:`graphfit.io.fit_values`.
"""

from __future__ import annotations

import logging
import os
import pathlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import ResultLoadError
from graphfit.io.fit_values import check_value_name, fit_value
from graphfit.io.layout import MARKER, METADATA
from graphfit.io.loading import load_result, read_metadata
from graphfit.io.output import output_root
from graphfit.io.saved_model import check_reference
from graphfit.plan.labels import legacy_label
from graphfit.results.html import aggregator_html

if TYPE_CHECKING:
    import pandas as pd

    from graphfit.results.result_list import ResultList

__all__ = ["Aggregator"]

logger = logging.getLogger("graphfit")

_FIXED = [
    "name",
    "path_prefix",
    "identifier",
    "search",
    "n_datasets",
    "datasets",
    "max_r_hat",
    "min_ess_bulk",
    "divergences",
]


def _scan(root: Path) -> tuple[list[tuple[Path, dict[str, Any]]], dict[str, str]]:
    """Finished fits under ``root`` (sorted by path) and folders skipped with the reason."""

    found: list[tuple[Path, dict[str, Any]]] = []
    skipped: dict[str, str] = {}
    for directory, subdirs, files in os.walk(root):
        if METADATA in files:
            subdirs[:] = []  # a result folder: its datasets/ and plots/ hold no fits
            if MARKER not in files:
                skipped[directory] = "unfinished (no completion marker)"
                continue
            try:
                found.append((Path(directory), read_metadata(directory)))
            except ResultLoadError as error:
                skipped[directory] = str(error)
            continue
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
    found.sort(key=lambda item: str(item[0]))
    return found, skipped


class Aggregator:
    """Every finished fit under an output folder, as a pandas table you can filter and load.

    Parameters
    ----------
    output_root
        The folder to search (recursively); default the output root searches use
        (``GRAPHFIT_OUTPUT_PATH`` or ``./output``).  Unfinished fits are not listed; folders
        that cannot be read are listed in ``skipped`` with the reason.
    reference
        Component classes by model path (``{"gaussian": Gaussian}``, ``""`` for a dataset's
        whole model) for the instances :meth:`values` builds; see
        :mod:`graphfit.io.saved_model`.  :meth:`from_directory` is the same with PyAutoFit's
        argument names.

    Attributes
    ----------
    skipped
        Folders holding a ``graphfit.json`` that are not listed, by path, with the reason: an
        unfinished fit, another format version, or a ``graphfit.json`` that fails its checks
        (a wrong JSON type, an edited figure or dataset name; see
        :mod:`graphfit.io.verify`).  One bad folder never stops the listing.
    table
        One row per fit: ``name``, ``path_prefix``, ``identifier``, ``search``, ``n_datasets``,
        ``datasets``, ``max_r_hat``, ``min_ess_bulk``, ``divergences`` (``NaN`` for an
        optimiser), then ``<parameter>_median``, ``<parameter>_lower`` and
        ``<parameter>_upper`` (94% highest-density interval) for every parameter, labelled as
        ``az.summary`` labels the joint fit (:mod:`graphfit.plan.labels`): ``centre_median``
        for a shared parameter, ``sigma[dataset_0]_median`` for a per-dataset one; then
        ``path``.  Folders of format versions 1 and 2 labelled a per-dataset value
        ``dataset_0.sigma``: their labels are translated (``sigma[dataset_0]``).
    parameters
        The same figures in long form: one row per fit and parameter, with ``fit`` (the row of
        ``table``), ``name``, ``identifier``, ``parameter`` (the label, ``sigma[dataset_0]``),
        ``dataset`` (missing for a shared parameter), ``median``, ``lower``, ``upper``,
        ``r_hat``, ``ess_bulk``.

    Examples
    --------
    >>> import tempfile
    >>> import graphfit as gf
    >>> root = tempfile.mkdtemp()
    >>> for seed in (0, 1):
    ...     data, noise_map = gf.ex.simulate_gaussian_dataset(seed=seed)
    ...     result = gf.MAP(random_seed=1, name=f"fit_{seed}", output_path=root).fit(
    ...         model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    ...     )
    >>> agg = gf.Aggregator(root)
    >>> list(agg.table["name"])
    ['fit_0', 'fit_1']
    >>> len(agg.filter(name="fit_1")), len(agg.query("centre_median > 0"))
    (1, 2)
    >>> agg.load(0)
    LoadedResultList(1 datasets from '...fit_0...')
    >>> [round(samples.median_pdf().centre) for samples in agg.values("samples")]
    [50, 50]
    """

    def __init__(
        self,
        output_root: str | os.PathLike[str] | None = None,
        *,
        reference: Mapping[str, type] | None = None,
    ) -> None:
        self.root = _root(output_root)
        self.reference = check_reference(reference)
        records, self.skipped = _scan(self.root)
        self._init(records)

    @classmethod
    def from_directory(
        cls,
        directory: str | os.PathLike[str],
        completed_only: bool = False,
        reference: Mapping[str, type] | None = None,
    ) -> Aggregator:
        """Every finished fit under ``directory``, as PyAutoFit's
        ``Aggregator.from_directory(directory, completed_only, reference)``.

        Parameters
        ----------
        directory
            The folder to search, recursively.
        completed_only
            Accepted for PyAutoFit's scripts; either value lists the same fits.  graphfit writes
            a fit's folder in one step once the fit has finished, so there are no unfinished
            fits to include; a folder without its completion marker is listed in ``skipped``.
        reference
            Component classes by model path for the instances of :meth:`values` (PyAutoFit
            maps paths to class paths; graphfit takes the classes, as it never imports a name).

        Raises
        ------
        ResultLoadError
            For a ``completed_only`` that is not a bool, or a ``reference`` that is not a dict
            of model paths to classes.

        Examples
        --------
        >>> import graphfit as gf
        >>> gf.Aggregator.from_directory("an/empty/folder", completed_only=True)
        Aggregator(0 fits under 'an/empty/folder')
        """
        if not isinstance(completed_only, bool):
            raise ResultLoadError(
                f"Aggregator.from_directory: completed_only must be True or False, got "
                f"{completed_only!r}."
            )
        return cls(directory, reference=reference)

    def _init(self, records: list[tuple[Path, dict[str, Any]]]) -> None:
        self._records = records
        self.table = _table(records)
        self._parameters: pd.DataFrame | None = None

    @classmethod
    def _subset(cls, parent: Aggregator, keep: list[int]) -> Aggregator:
        new = cls.__new__(cls)
        new.root = parent.root
        new.reference = parent.reference
        new.skipped = parent.skipped
        new._init([parent._records[k] for k in keep])
        return new

    # -- access ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[pathlib.Path]:
        """The fits' folders, in table order."""
        return iter(path for path, _ in self._records)

    @property
    def paths(self) -> list[pathlib.Path]:
        """The fits' folders, in table order."""
        return list(self)

    @property
    def parameters(self) -> pd.DataFrame:
        """One row per fit and parameter (see the class notes)."""
        import pandas as pd

        if self._parameters is None:
            rows = []
            for k, (_, meta) in enumerate(self._records):
                for label, dataset, figures in _parameters(meta):
                    rows.append(
                        {
                            "fit": k,
                            "name": meta.get("name"),
                            "identifier": meta.get("identifier"),
                            "parameter": label,
                            "dataset": dataset,
                            **{key: figures.get(key) for key in _FIGURES},
                        }
                    )
            columns = ["fit", "name", "identifier", "parameter", "dataset", *_FIGURES]
            self._parameters = pd.DataFrame(rows, columns=columns)
        return self._parameters

    # -- selection ------------------------------------------------------------------------------
    def filter(
        self,
        *,
        name: str | None = None,
        path_prefix: str | None = None,
        identifier: str | None = None,
        dataset: str | None = None,
        search: str | None = None,
    ) -> Aggregator:
        """The fits matching every given label exactly (``dataset``: the fit has that dataset).

        Examples
        --------
        >>> import graphfit as gf
        >>> agg = gf.Aggregator("an/empty/folder")
        >>> len(agg.filter(name="fit_1"))
        0
        """
        keep = []
        for k, (_, meta) in enumerate(self._records):
            if name is not None and meta.get("name") != name:
                continue
            if path_prefix is not None and meta.get("path_prefix") != path_prefix:
                continue
            if identifier is not None and meta.get("identifier") != identifier:
                continue
            if search is not None and meta.get("search") != search:
                continue
            if dataset is not None and dataset not in meta.get("datasets", []):
                continue
            keep.append(k)
        return Aggregator._subset(self, keep)

    def query(self, expression: str) -> Aggregator:
        """The fits whose ``table`` row satisfies a ``pandas.DataFrame.query`` expression.

        Column names with brackets, dots or spaces need backticks:
        ``agg.query("`sigma[dataset_0]_median` > 5 and max_r_hat < 1.01")``.

        Examples
        --------
        >>> import tempfile
        >>> import graphfit as gf
        >>> model = gf.Model(gf.ex.Gaussian)
        >>> factors = []
        >>> for seed in (0, 1):
        ...     own = model.copy()
        ...     own.sigma = gf.UniformPrior(lower_limit=0.0, upper_limit=30.0)
        ...     analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed))
        ...     factors.append(gf.AnalysisFactor(own, analysis))
        >>> graph = gf.FactorGraphModel(*factors)
        >>> root = tempfile.mkdtemp()
        >>> search = gf.MAP(random_seed=1, name="fit", output_path=root)
        >>> result_list = search.fit(model=graph.global_prior_model, analysis=graph)
        >>> agg = gf.Aggregator(root)
        >>> len(agg.query("`sigma[dataset_1]_median` > 5 and centre_median > 40"))
        1
        """
        if not len(self):
            return Aggregator._subset(self, [])
        table = self.table.reset_index(drop=True)
        keep = [int(k) for k in table.query(expression).index]
        return Aggregator._subset(self, keep)

    # -- loading --------------------------------------------------------------------------------
    def values(self, name: str, parser: Callable[[Any], Any] | None = None) -> Iterator[Any]:
        """One value per fit, in table order, read when the generator reaches it.

        Parameters
        ----------
        name
            ``"samples"`` (the :class:`~graphfit.Samples` ``result.samples`` gave; a factor
            graph's joint ``result_list.samples``), ``"instance"`` (``result.instance``, the
            maximum log-likelihood instance), ``"model"`` (the fitted model, rebuilt) or
            ``"search"`` (the search's settings, a dict).  See :mod:`graphfit.io.fit_values`.
        parser
            A function applied to each value, as in PyAutoFit.

        Returns
        -------
        Iterator
            A generator: a fit's files are read when it is reached, so memory holds one fit's
            posterior at a time.

        Raises
        ------
        ResultLoadError
            At once for a name not above (the message lists them); while iterating, for a fit
            whose files cannot be read or whose model cannot be rebuilt (load it with
            :meth:`load` and ``model=``).

        Examples
        --------
        >>> import tempfile
        >>> import graphfit as gf
        >>> root = tempfile.mkdtemp()
        >>> data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
        >>> result = gf.MAP(random_seed=1, name="fit", output_path=root).fit(
        ...     model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
        ... )
        >>> agg = gf.Aggregator.from_directory(root)
        >>> [instance.sigma == result.instance.sigma for instance in agg.values("instance")]
        [True]
        >>> next(agg.values("search"))["search"]
        'MAP'
        """
        name = check_value_name(name)
        if parser is not None and not callable(parser):
            raise ResultLoadError(f"Aggregator.values: parser must be callable, got {parser!r}.")
        records, reference = list(self._records), self.reference
        parse = parser if parser is not None else _same
        return (parse(fit_value(path, meta, name, reference)) for path, meta in records)

    def load(self, key: int | str, model: Any = None, analysis: Any = None) -> ResultList:
        """Load one fit: by row position in ``table`` or by identifier.

        ``model`` / ``analysis`` are passed to :func:`~graphfit.load_result` (give them for
        instances of your model classes).
        """

        if isinstance(key, str):
            matches = [p for p, meta in self._records if meta.get("identifier") == key]
            if not matches:
                raise KeyError(f"Aggregator: no fit with identifier {key!r} under {self.root}")
            if len(matches) > 1:
                raise KeyError(
                    f"Aggregator: {len(matches)} fits have identifier {key!r} (different names or "
                    "path prefixes); filter by name first or load by position."
                )
            path = matches[0]
        else:
            if not -len(self) <= key < len(self):
                raise IndexError(f"Aggregator: fit {key} out of range; there are {len(self)}.")
            path = self._records[key][0]
        return load_result(path, model=model, analysis=analysis)

    def __repr__(self) -> str:
        return f"Aggregator({len(self)} fits under {str(self.root)!r})"

    def _repr_html_(self) -> str:
        return aggregator_html(self.table, self.root, self.skipped)


_FIGURES = ["median", "lower", "upper", "r_hat", "ess_bulk"]


def _same(value: Any) -> Any:
    return value


#: Folder format versions whose ``graphfit.json`` labels a per-dataset value
#: ``<dataset>.<name>`` (:func:`graphfit.plan.labels.legacy_label`).
_LEGACY_LABELS = (1, 2)


def _parameters(meta: dict[str, Any]) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    """``(label, dataset, figures)`` of each parameter in a fit's ``graphfit.json``, labelled
    as in :mod:`graphfit.plan.labels` (the labels of older folders translated)."""
    datasets = meta.get("datasets", [])
    marked = meta.get("parameter_datasets")
    legacy = not isinstance(marked, dict) and meta.get("format_version") in _LEGACY_LABELS
    for label, figures in meta.get("parameters", {}).items():
        if legacy:
            label, dataset = legacy_label(label, datasets)
        else:
            dataset = marked.get(label) if isinstance(marked, dict) else None
            dataset = dataset if dataset in datasets else None
        yield label, dataset, figures


def _root(value: str | os.PathLike[str] | None) -> Path:
    return output_root(value)


def _table(records: list[tuple[Path, dict[str, Any]]]) -> pd.DataFrame:
    import pandas as pd

    rows = []
    parameter_columns: dict[str, None] = {}
    for path, meta in records:
        figures = meta.get("diagnostics") or {}
        row: dict[str, Any] = {
            "name": meta.get("name"),
            "path_prefix": meta.get("path_prefix"),
            "identifier": meta.get("identifier"),
            "search": meta.get("search"),
            "n_datasets": len(meta.get("datasets", [])),
            "datasets": list(meta.get("datasets", [])),
            "max_r_hat": figures.get("max_r_hat", np.nan),
            "min_ess_bulk": figures.get("min_ess_bulk", np.nan),
            "divergences": figures.get("divergences", np.nan),
        }
        for label, _, values in _parameters(meta):
            for key in ("median", "lower", "upper"):
                column = f"{label}_{key}"
                parameter_columns[column] = None
                row[column] = values.get(key)
        row["path"] = str(path)
        rows.append(row)
    columns = [*_FIXED, *parameter_columns, "path"]
    table = pd.DataFrame(rows, columns=columns)
    for column in ("max_r_hat", "min_ess_bulk", "divergences", *parameter_columns):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    return table

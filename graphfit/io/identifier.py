"""Stable identifiers of fits: a hash of the model specification, the data and the search settings.

The identifier names a fit's output folder, so rerunning a script with the same inputs finds the
finished fit.  It must not depend on anything that changes between Python sessions (object ids,
the order in which dicts were filled, hash randomisation), so each part is first turned into a
canonical JSON text (keys sorted, floats written exactly) and then hashed with SHA-256:

* the **model** and the **data**, described by :mod:`graphfit.plan.fingerprint` (the model with
  each population's parametrisation as resolved);
* the **search**: the search class and its public settings, leaving out those that do not change
  the result (``name``, ``path_prefix``, ``output_path``, ``progressbar``, ``cores``), and its
  ``unique_tag`` when it has one (PyAutoFit's label that gives otherwise equal fits folders of
  their own; without a tag, the settings are what they were before tags existed).

The source code of component and analysis classes is not hashed: editing a component's
``model_data_from`` keeps the identifier, so delete the output folder (or change ``name``) after
such an edit.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.plan.fingerprint import (
    _number,
    array_digest,
    canonical_json,
    data_fingerprint,
    digest,
    model_description,
    qualname,
)

if TYPE_CHECKING:
    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = [
    "IDENTIFIER_LENGTH",
    "OPTIONAL_SETTINGS",
    "SETTINGS_IGNORED",
    "fit_identity",
    "search_settings",
]

#: Hex characters kept of the SHA-256 digest (64 bits).
IDENTIFIER_LENGTH = 16
#: Search attributes that do not change the result and so are not part of the identifier.
SETTINGS_IGNORED = frozenset({"name", "path_prefix", "output_path", "progressbar", "cores"})
#: Search attributes left out while ``None``, so that identifiers made before they existed hold.
OPTIONAL_SETTINGS = frozenset({"unique_tag"})


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Number | np.bool_):
        return _number(value)
    if isinstance(value, np.ndarray):
        return {"array": array_digest(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return {"value": qualname(value)}


def search_settings(search: Any) -> dict[str, Any]:
    """The settings of a search that change its result, as a JSON-able dict.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.io.identifier import search_settings
    >>> search_settings(gf.MAP(n_random=50, random_seed=3, name="fit"))
    {'search': 'MAP', 'n_optimise': 4, 'n_random': 50, 'random_seed': 3}
    >>> search_settings(gf.MAP(random_seed=3, unique_tag="night_1"))["unique_tag"]
    'night_1'
    """
    settings = {
        key: _jsonable(value)
        for key, value in sorted(vars(search).items())
        if not key.startswith("_")
        and key not in SETTINGS_IGNORED
        and not (key in OPTIONAL_SETTINGS and value is None)
    }
    return {"search": type(search).__name__, **settings}


def fit_identity(graph: FactorGraphModel, search: Any) -> dict[str, Any]:
    """The hashes of a fit's model, data and search settings, and its ``identifier``.

    Returns
    -------
    dict
        ``identifier`` (16 hex characters), ``model_hash``, ``data_hash``, ``search_hash``,
        and the JSON-able ``model`` description and ``search`` settings they were made from.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.io.identifier import fit_identity
    >>> analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    >>> graph = gf.FactorGraphModel(gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), analysis))
    >>> a = fit_identity(graph, gf.MAP(random_seed=1))
    >>> b = fit_identity(graph, gf.MAP(random_seed=2))
    >>> len(a["identifier"]), a["identifier"] == b["identifier"], a["model_hash"] == b["model_hash"]
    (16, False, True)
    """
    model = model_description(graph)
    settings = search_settings(search)
    parts = {
        "model_hash": digest(canonical_json(model)),  # = model_hash(graph)
        "data_hash": data_fingerprint(graph),
        "search_hash": digest(canonical_json(settings)),
    }
    identifier = digest(canonical_json(parts))[:IDENTIFIER_LENGTH]
    return {"identifier": identifier, **parts, "model": model, "search": settings}

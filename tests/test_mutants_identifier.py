"""Tests that kill mutants mutmut found surviving in the identifier modules
(docs/guides/testing.md): ``graphfit/io/identifier.py`` and ``graphfit/plan/fingerprint.py``.

A rerun of a named fit loads the folder whose identifier matches, so a setting that changes the
fit must change the identifier (or the rerun loads the other fit), a setting that does not change
it must not (or the rerun fits again), and the identifier of a given model, data and search must
stay the same from one graphfit version to the next (or earlier folders are no longer resumed).
"""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import graphfit as gf
from graphfit.io.identifier import fit_identity, search_settings
from graphfit.plan.fingerprint import (
    array_digest,
    data_fingerprint,
    graph_fingerprint,
    model_description,
    model_hash,
)


def one_dataset_graph() -> gf.FactorGraphModel:
    model = gf.Model(
        gf.ex.Gaussian,
        centre=gf.UniformPrior(0.0, 100.0),
        normalization=gf.LogUniformPrior(0.01, 100.0, name="norm"),
        sigma=10.0,
    )
    analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    return gf.FactorGraphModel(gf.AnalysisFactor(model, analysis))


def identifier(search: object) -> str:
    return fit_identity(one_dataset_graph(), search)["identifier"]


def test_the_identifier_of_a_model_and_search_is_pinned():
    # any change to the canonical forms (a key renamed, the class name or a setting dropped)
    # changes every identifier, and folders saved by earlier versions stop being resumed; if
    # such a change is meant, update these values and say so in CHANGELOG.md
    identity = fit_identity(one_dataset_graph(), gf.MAP(random_seed=1))
    assert identity["search"] == {
        "search": "MAP",
        "n_optimise": 4,
        "n_random": 200,
        "random_seed": 1,
    }
    assert identity["model"] == model_description(one_dataset_graph())
    assert identity["search_hash"] == (
        "8e4efbd27beab00b6588e3039f6027dc27d66e12ad26aa5aa0e703177180713a"
    )
    assert identity["model_hash"] == (
        "faccd485e227bb5c07c6a51e6ebfae151b1e95e8275c782b49f1b6a8a99dfba1"
    )
    parts = {k: identity[k] for k in ("model_hash", "data_hash", "search_hash")}
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    assert identity["identifier"] == hashlib.sha256(text.encode()).hexdigest()[:16]


SAME_FIT = {
    "name": {"name": "other"},
    "path_prefix": {"path_prefix": "runs"},
    "progressbar": {"progressbar": True},
    "plots": {"plots": True},
}
OTHER_FIT = {
    "random_seed": {"random_seed": 2},
    "unique_tag": {"unique_tag": "night_2"},
    "n_random": {"n_random": 100},
}


@pytest.mark.parametrize("change", list(SAME_FIT), ids=list(SAME_FIT))
def test_settings_that_do_not_change_the_fit_keep_the_identifier(change):
    # `key not in SETTINGS_IGNORED` inverted or or-ed, `not key.startswith("_")` changed
    assert identifier(gf.MAP(random_seed=1, **SAME_FIT[change])) == identifier(
        gf.MAP(random_seed=1)
    )


@pytest.mark.parametrize("change", list(OTHER_FIT), ids=list(OTHER_FIT))
def test_settings_that_change_the_fit_change_the_identifier(change):
    # `settings = None`, `_jsonable(None)`, the unique_tag condition inverted
    base = {"random_seed": 1, "unique_tag": "night_1"}
    assert identifier(gf.MAP(**{**base, **OTHER_FIT[change]})) != identifier(gf.MAP(**base))


def test_string_list_dict_and_array_settings_reach_the_identifier():
    # _jsonable: strings, list items, dict keys and values, and arrays are each hashed
    def nuts(**sampler_kwargs: object) -> gf.NUTS:
        return gf.NUTS(random_seed=1, sampler="pymc", sampler_kwargs=sampler_kwargs)

    base = identifier(nuts(jitter=[1, 2], initvals=np.array([1.0, 2.0])))
    assert identifier(gf.NUTS(random_seed=1, sampler="nutpie")) != identifier(
        gf.NUTS(random_seed=1, sampler="pymc")
    )
    assert identifier(nuts(jitter=[1, 3], initvals=np.array([1.0, 2.0]))) != base
    assert identifier(nuts(jitter=[1, 2], initvals=np.array([1.0, 3.0]))) != base
    assert identifier(nuts(other=[1, 2], initvals=np.array([1.0, 2.0]))) != base
    assert identifier(nuts(jitter=[1, 2], initvals=np.array([1.0, 2.0]))) == base


def test_a_search_subclass_with_equal_settings_has_its_own_identifier():
    # {"search": type(search).__name__} -> type(None).__name__
    class OtherMAP(gf.MAP):
        pass

    assert search_settings(OtherMAP(random_seed=1))["search"] == "OtherMAP"
    assert identifier(OtherMAP(random_seed=1)) != identifier(gf.MAP(random_seed=1))


class StepA:
    """A stand-in for an object passed in a search's settings (a step method)."""


class StepB:
    """Another one."""


def test_objects_and_arrays_in_settings_are_written_by_kind_and_content():
    # _jsonable: {"value": qualname(value)} and {"array": array_digest(value)} (their keys are
    # part of every identifier of a search with such settings, their contents tell them apart)
    initvals = np.array([1.0, 2.0])
    settings = search_settings(
        gf.NUTS(random_seed=1, sampler="pymc", sampler_kwargs={"step": StepA(), "x": initvals})
    )
    assert settings["sampler_kwargs"] == {
        "step": {"value": f"{__name__}.StepA"},
        "x": {"array": array_digest(initvals)},
    }
    assert identifier(gf.NUTS(random_seed=1, sampler="pymc", sampler_kwargs={"step": StepA()})) != (
        identifier(gf.NUTS(random_seed=1, sampler="pymc", sampler_kwargs={"step": StepB()}))
    )


def collection_graph(normalization: float) -> gf.FactorGraphModel:
    slope = gf.GaussianPrior(10.0, 5.0, lower_limit=0.0)
    model = gf.Model(
        gf.ex.Gaussian, centre=gf.UniformPrior(0.0, 100.0), normalization=normalization
    )
    model.sigma = 2.0 * slope
    analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    return gf.FactorGraphModel(gf.AnalysisFactor(gf.Collection(g=model), analysis))


def test_a_collections_models_and_relations_are_described_in_full():
    # fingerprint._encode: the "collection", "op" and "operands" keys, the items of a
    # collection encoded as None; _number: an infinite limit written as repr(None)
    description = model_description(collection_graph(2.0))
    assert description["priors"][1]["arguments"] == {
        "mean": 10.0,
        "sigma": 5.0,
        "lower_limit": 0.0,
        "upper_limit": "inf",
    }
    assert description["factors"][0]["model"] == {
        "collection": {
            "g": {
                "class": "graphfit.ex.components.Gaussian",
                "parameters": {
                    "centre": {"prior": 0},
                    "normalization": 2.0,
                    "sigma": {"op": "mul", "operands": [2.0, {"prior": 1}]},
                },
            }
        }
    }
    search = gf.MAP(random_seed=1)
    first = fit_identity(collection_graph(2.0), search)["identifier"]
    assert fit_identity(collection_graph(3.0), search)["identifier"] != first


def test_a_boolean_setting_reaches_the_identifier():
    # fingerprint._number: `return bool(value)` -> `bool(None)` wrote every flag as false
    def nuts(flag: bool) -> gf.NUTS:
        return gf.NUTS(random_seed=1, sampler="pymc", sampler_kwargs={"discard_tuned": flag})

    assert search_settings(nuts(True))["sampler_kwargs"] == {"discard_tuned": True}
    assert identifier(nuts(False)) != identifier(nuts(True))


class _Line:
    def __init__(self, coefficients=(0.0, 0.0)):
        self.coefficients = coefficients


def array_graph(upper: float, first: float | None = None) -> gf.FactorGraphModel:
    model = gf.Model(_Line)
    model.coefficients = gf.Array(shape=2, prior=gf.UniformPrior(0.0, upper))
    if first is not None:  # the first element fixed
        model.coefficients[0] = first
    analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    return gf.FactorGraphModel(gf.AnalysisFactor(model, analysis))


def test_a_gf_array_is_described_in_full():
    # fingerprint._encode, the branch of gf.Array (a model kind besides Model and Collection):
    # `items` -> None, each item encoded as None, the keys renamed or the class left out: the
    # description (and so every identifier of a model with an array) changes, and earlier
    # folders stop being resumed
    first, other = model_description(array_graph(1.0)), model_description(array_graph(2.0))
    assert first != other
    coefficients = first["factors"][0]["model"]["parameters"]["coefficients"]
    assert coefficients["class"] == "graphfit.spec.array.Array"
    assert sorted(coefficients["items"]) == ["prior_0", "prior_1"]
    # each element's prior is encoded, as a Model's parameters are
    assert coefficients["items"] == {"prior_0": {"prior": 0}, "prior_1": {"prior": 1}}


def test_a_fixed_element_of_a_gf_array_is_in_the_identifier():
    # fingerprint._encode, gf.Array's branch with each element encoded as `_encode(None)`:
    # an array whose first element is fixed at 1.0 and one fixed at 2.0 got one description,
    # so a rerun with the other value would resume the first fit
    first = model_description(array_graph(1.0, first=1.0))
    other = model_description(array_graph(1.0, first=2.0))
    assert first != other
    items = first["factors"][0]["model"]["parameters"]["coefficients"]["items"]
    assert items == {"prior_0": 1.0, "prior_1": {"prior": 0}}


class _Zoo(gf.ex.Analysis):
    """An analysis holding a value of every kind that the data fingerprint reads."""

    def __init__(self, data: np.ndarray, noise_map: np.ndarray) -> None:
        super().__init__(data, noise_map)
        self.settings = {
            "flag": True,
            "label": "epoch",
            "missing": None,
            "count": 3,
            "scale": 0.5,
            "single": np.float32(1.5),
            "pair": (1, [2.0, "x"]),
            # an object 3 lists down, at the depth whose state is read
            "lists": [[[_nested(2)]]],
            # an object 3 levels down an object array: below the depth whose state is read
            "objects": np.array([None, 1, _nested(3)], dtype=object),
            "table": pd.Series([1.0, 2.0]),
            "frame": {"t": pd.Series([_nested(2)], dtype=object)},  # objects in pandas
            "mixed": {1: "one", "two": 2},  # keys that do not compare
            "builtin": len,  # no __dict__
            "at7": {"a": {"b": {"c": {"d": SimpleNamespace(k=1.0)}}}},
            "deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}},
        }
        self.itself = self  # a cycle
        self.rule = _rule  # a function: its kind only


def _rule(x: float) -> float:
    return x


def _nested(levels: int) -> SimpleNamespace:
    """An object holding a list and, ``levels - 1`` times over, another such object."""
    inner = _nested(levels - 1) if levels > 1 else None
    return SimpleNamespace(k=[2.0 * levels], inner=inner)


def pinned_graph() -> gf.FactorGraphModel:
    """Every part of a model description and of the data: priors of three kinds (one named,
    one with an infinite limit), fixed integers, floats, NumPy scalars and arrays, relations,
    a collection, a gf.Array with a fixed element, a population of parametrisation "auto", an
    assertion, a dataset name and ``vectorize=False``; exact data (multiples of 0.25)."""
    data = np.arange(100) % 7 * 0.25
    shared = gf.UniformPrior(0.0, 100.0)
    slope = gf.GaussianPrior(1.0, 0.5, lower_limit=0.0)
    first = gf.Model(gf.ex.Gaussian, centre=shared, normalization=2, sigma=slope * 4.0 + 1.5)
    second = gf.Model(gf.ex.Gaussian, normalization=gf.LogUniformPrior(0.1, 10.0, name="norm"))
    second.sigma = np.float64(10.0)
    line = gf.Model(_Line, coefficients=gf.Array(shape=2, prior=gf.UniformPrior(-1.0, 1.0)))
    line.coefficients[1] = 0.25
    fixed = gf.Model(_Line, coefficients=np.array([0.5, -0.5]))
    population = gf.HierarchicalFactor(
        gf.GaussianPrior, mean=gf.UniformPrior(30.0, 70.0), sigma=5.0
    )
    population.add_drawn_variable(first.centre)
    population.add_drawn_variable(second.centre)
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(first, gf.ex.Analysis(data, np.full(100, 0.5))),
        gf.AnalysisFactor(
            gf.Collection(g=second, line=line, fixed=fixed),
            _Zoo(data[::-1].copy(), np.full(100, 0.5)),
            name="epoch_b",
        ),
        population,
        vectorize=False,
    )
    graph.add_assertion(first.centre < second.centre)
    return graph


def test_the_fingerprints_of_a_graph_with_every_part_are_pinned():
    # fingerprint.model_description, _encode and _feed: a key renamed, a part left out or
    # encoded as None changes these digests, so earlier folders stop being resumed (and a
    # part encoded as None no longer tells two models or datasets apart); if such a change is
    # meant, update the values and say so in CHANGELOG.md
    assert _Line.__module__ == "tests.test_mutants_identifier"  # the class names are hashed
    graph = pinned_graph()
    description = model_description(graph)
    assert description["hierarchical"][0]["parametrization"] == "non_centred"  # "auto"
    assert model_description(graph, resolve=False)["hierarchical"][0]["parametrization"] == "auto"
    assert description["assertions"] == [{"op": "<", "left": {"prior": 0}, "right": {"prior": 2}}]
    assert description["factors"][1]["model"]["collection"]["fixed"]["parameters"] == {
        "coefficients": {"array": array_digest(np.array([0.5, -0.5]))}
    }
    assert model_hash(graph) == ("fbd526d7f6afef68b1b55a0e397b5043de5a05fd0edb7d2459c86ce5c3d3cbbb")
    assert data_fingerprint(graph) == (
        "e78cd05532054bbfa9c82bc827933500290ff34a8e0c5cebfe4740b876f80c85"
    )
    assert graph_fingerprint(graph) == (
        "ca336f35b9a05bc918da8bd45874231585057f85bfd6e17e3036a73aa1bc4810"
    )

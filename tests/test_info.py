"""Snapshot tests of ``model.info``: the text is compared with files in ``tests/snapshots``.

To update a snapshot after an intended change of layout, run
``GRAPHFIT_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_info.py`` and review the diff.
"""

import os
from pathlib import Path

import pytest

import graphfit as gf
from tests.conftest import cookbook_model, identical_graph, relational_graph, variable_graph

SNAPSHOTS = Path(__file__).parent / "snapshots"


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("GRAPHFIT_UPDATE_SNAPSHOTS"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_single_model_info():
    check_snapshot("model_info", cookbook_model().info)


def test_collection_with_relation_info():
    model = gf.Collection(
        gaussian=gf.Model(gf.ex.Gaussian), exponential=gf.Model(gf.ex.Exponential)
    )
    width = gf.UniformPrior(0.0, 10.0, name="width")
    model.gaussian.sigma = width * 2.0 + 1.0
    model.exponential.centre = 40.0
    check_snapshot("collection_info", model.info)


def test_identical_datasets_info():
    check_snapshot("identical_info", identical_graph().global_prior_model.info)


def test_variable_model_info():
    text = variable_graph().global_prior_model.info
    assert text.startswith("Total Free Parameters = 7\n\n")
    check_snapshot("variable_info", text)


def test_relational_model_info():
    text = relational_graph().global_prior_model.info
    assert "Relation: (sigma_m * 2.0) + sigma_c" in text
    check_snapshot("relational_info", text)


def test_custom_names_appear_in_dataset_labels():
    from tests.conftest import identical_analyses

    model = cookbook_model()
    other = model.copy()
    other.sigma = gf.UniformPrior(0.0, 30.0)
    analyses = identical_analyses()
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(model, analyses[0], name="epoch_a"),
        gf.AnalysisFactor(model, analyses[1], name="epoch_b"),
        gf.AnalysisFactor(other, analyses[2], name="epoch_c"),
    )
    check_snapshot("partly_shared_info", graph.global_prior_model.info)


@pytest.mark.parametrize("factory", [identical_graph, variable_graph, relational_graph])
def test_info_is_stable_across_builds(factory):
    assert factory().global_prior_model.info == factory().global_prior_model.info

import numpy as np
import pytest

import graphfit as gf
from tests.conftest import cookbook_model, identical_analyses, relational_graph, variable_graph


def test_names_default_and_custom():
    analyses = identical_analyses()
    model = cookbook_model()
    graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
    assert graph.names == ["dataset_0", "dataset_1", "dataset_2"]
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(model, analyses[0], name="epoch_a"), gf.AnalysisFactor(model, analyses[1])
    )
    assert graph.names == ["epoch_a", "dataset_1"]


def test_free_parameter_counts():
    model = cookbook_model()
    graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in identical_analyses()])
    assert graph.global_prior_model.total_free_parameters == 3
    assert variable_graph().global_prior_model.total_free_parameters == 7
    assert relational_graph().global_prior_model.prior_count == 4


def test_no_factors():
    with pytest.raises(
        gf.FactorGraphError, match=r"FactorGraphModel needs at least one AnalysisFactor; got none"
    ):
        gf.FactorGraphModel()


def test_duplicate_names():
    model, analysis = cookbook_model(), identical_analyses()[0]
    with pytest.raises(
        gf.FactorGraphError,
        match=r"factors 0 and 1 are both named 'a'; every dataset needs a unique name",
    ):
        gf.FactorGraphModel(
            gf.AnalysisFactor(model, analysis, name="a"),
            gf.AnalysisFactor(model, analysis, name="a"),
        )
    with pytest.raises(gf.FactorGraphError, match=r"factors 0 and 1 are both named 'dataset_1'"):
        gf.FactorGraphModel(
            gf.AnalysisFactor(model, analysis, name="dataset_1"), gf.AnalysisFactor(model, analysis)
        )


def test_bad_factor_arguments():
    model, analysis = cookbook_model(), identical_analyses()[0]
    with pytest.raises(
        gf.FactorGraphError,
        match=r"argument 1 is 3 of type int; every argument must be a gf.AnalysisFactor",
    ):
        gf.FactorGraphModel(gf.AnalysisFactor(model, analysis), 3)
    with pytest.raises(
        gf.FactorGraphError,
        match=r"^AnalysisFactor: prior_model must be a gf.Model or gf.Collection, got 'm' of "
        r"type str\.$",
    ):
        gf.AnalysisFactor("m", analysis)
    with pytest.raises(
        gf.FactorGraphError,
        match=r"^AnalysisFactor: analysis must be an instance of a gf.Analysis subclass, got "
        r"1.0 of type float\.$",
    ):
        gf.AnalysisFactor(model, 1.0)


def test_to_pymc_structure_identical():
    model = cookbook_model()
    graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in identical_analyses()])
    pymc_model = graph.to_pymc()
    assert list(pymc_model.coords["dataset"]) == ["dataset_0", "dataset_1", "dataset_2"]
    assert sorted(rv.name for rv in pymc_model.free_RVs) == ["centre", "normalization", "sigma"]
    # alike datasets: one observed node over the stacked data
    assert [rv.name for rv in pymc_model.observed_RVs] == ["obs"]
    assert pymc_model.named_vars_to_dims["obs"] == ("dataset", "x")
    assert graph.to_pymc() is pymc_model  # compiled once
    assert graph.compile().vectorized_groups == [[0, 1, 2]]


def test_unvectorised_compile_has_one_node_per_dataset():
    model = cookbook_model()
    factors = [gf.AnalysisFactor(model, a) for a in identical_analyses()]
    graph = gf.FactorGraphModel(*factors, vectorize=False)
    pymc_model = graph.to_pymc()
    assert [rv.name for rv in pymc_model.observed_RVs] == [
        "dataset_0.obs",
        "dataset_1.obs",
        "dataset_2.obs",
    ]
    assert pymc_model.named_vars_to_dims["dataset_1.obs"] == ("dataset_1.x",)
    assert graph.compile().vectorized_groups == []
    assert [
        rv.name for rv in gf.FactorGraphModel(*factors).compile(vectorize=False).model.observed_RVs
    ] == [
        "dataset_0.obs",
        "dataset_1.obs",
        "dataset_2.obs",
    ]


def test_to_pymc_structure_variable_and_relational():
    pymc_model = variable_graph().to_pymc()
    assert pymc_model.named_vars_to_dims["normalization"] == ("dataset",)
    assert pymc_model.named_vars_to_dims["sigma"] == ("dataset",)
    assert "centre" not in pymc_model.named_vars_to_dims
    pymc_model = relational_graph().to_pymc()
    assert sorted(rv.name for rv in pymc_model.free_RVs) == [
        "gaussian.centre",
        "gaussian.normalization",
        "sigma_c",
        "sigma_m",
    ]
    assert [d.name for d in pymc_model.deterministics] == ["gaussian.sigma"]
    assert pymc_model.named_vars_to_dims["gaussian.sigma"] == ("dataset",)


def test_unnamed_relation_priors_get_path_names():
    pymc_model = relational_graph(named=False).to_pymc()
    assert sorted(rv.name for rv in pymc_model.free_RVs) == [
        "gaussian.centre",
        "gaussian.normalization",
        "gaussian.sigma_0",
        "gaussian.sigma_1",
    ]


def test_partly_shared_priors_get_dataset_prefixed_names():
    analyses = identical_analyses()
    model = cookbook_model()
    other = model.copy()
    other.sigma = gf.UniformPrior(0.0, 30.0)  # only dataset_2 has its own sigma
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(model, analyses[0]),
        gf.AnalysisFactor(model, analyses[1]),
        gf.AnalysisFactor(other, analyses[2]),
    )
    plan = graph.compile_plan()
    assert [g.name for g in plan.prior_groups] == [
        "centre",
        "normalization",
        "sigma",
        "dataset_2.sigma",
    ]
    assert dict(plan.factor_vars[2])["sigma"].name == "dataset_2.sigma"
    assert dict(plan.factor_vars[0])["sigma"].name == "sigma"
    pymc_model = graph.to_pymc()
    assert sorted(rv.name for rv in pymc_model.free_RVs) == [
        "centre",
        "dataset_2.sigma",
        "normalization",
        "sigma",
    ]


def test_fixed_values_are_not_parameters():
    model = cookbook_model()
    model.sigma = 10.0
    graph = gf.FactorGraphModel(gf.AnalysisFactor(model, identical_analyses()[0]))
    assert sorted(rv.name for rv in graph.to_pymc().free_RVs) == ["centre", "normalization"]
    assert np.isfinite(graph.to_pymc().compile_logp()(graph.to_pymc().initial_point()))

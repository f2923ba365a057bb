"""The vectorising compiler: grouping, batching, fall-backs, and equivalence with one node per
dataset (property tests over randomly built factor graphs)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphfit as gf
from tests.conftest import relational_graph, variable_graph


def observed_names(graph, vectorize):
    return [rv.name for rv in graph.compile(vectorize=vectorize).model.observed_RVs]


def test_variable_and_relational_graphs_are_one_node():
    for graph in (variable_graph(), relational_graph()):
        compiled = graph.compile()
        assert observed_names(graph, True) == ["obs"]
        assert compiled.vectorized_groups == [[0, 1, 2]]
        assert compiled.model.named_vars_to_dims["obs"] == ("dataset", "x")


def test_datasets_of_different_lengths_are_not_stacked_together():
    model = gf.Model(gf.ex.Gaussian)
    analyses = [
        gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(size=size, seed=k))
        for k, size in enumerate([100, 100, 80, 80, 60])
    ]
    graph = gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])
    compiled = graph.compile()
    assert compiled.vectorized_groups == [[0, 1], [2, 3]]
    assert observed_names(graph, True) == ["obs_0", "obs_1", "dataset_4.obs"]
    dims = compiled.model.named_vars_to_dims
    assert dims["obs_0"] == ("obs_0.dataset", "obs_0.x")
    assert list(compiled.model.coords["obs_1.dataset"]) == ["dataset_2", "dataset_3"]
    assert len(compiled.model.coords["obs_1.x"]) == 80


class NormalisedGaussian:
    """Divides by its own sum over x: a reduction that must not be batched."""

    default_priors = {
        "centre": gf.UniformPrior(0.0, 100.0),
        "normalization": gf.LogUniformPrior(1e-2, 1e2),
        "sigma": gf.UniformPrior(1.0, 25.0),
    }

    def __init__(self, centre, normalization, sigma):
        self.centre, self.normalization, self.sigma = centre, normalization, sigma

    def model_data_from(self, xvalues, xp=np):
        profile = xp.exp(-0.5 * ((xp.asarray(xvalues) - self.centre) / self.sigma) ** 2)
        return self.normalization * profile / xp.sum(profile)


def test_components_that_reduce_over_the_data_fall_back_to_one_node_per_dataset():
    model = gf.Model(NormalisedGaussian)
    factors = []
    for k in range(3):
        per = model.copy()
        per.sigma = gf.UniformPrior(1.0, 25.0)
        data, noise = gf.ex.simulate_gaussian_dataset(seed=k)
        factors.append(gf.AnalysisFactor(per, gf.ex.Analysis(data, noise)))
    graph = gf.FactorGraphModel(*factors)
    assert graph.compile().vectorized_groups == []
    assert observed_names(graph, True) == ["dataset_0.obs", "dataset_1.obs", "dataset_2.obs"]


class WidestGaussian(NormalisedGaussian):
    """Takes the widest of the widths it is given: a reduction over its own parameter, which
    batching would take across the datasets.  At equal widths (each dataset's prior at its
    median, the check's first pass) batched and per-dataset values agree; only the second pass,
    each prior moved by its own random factor, tells them apart."""

    def model_data_from(self, xvalues, xp=np):
        sigma = xp.max(self.sigma)
        profile = xp.exp(-0.5 * ((xp.asarray(xvalues) - self.centre) / sigma) ** 2)
        return self.normalization * profile


def test_a_fall_back_that_only_the_jittered_second_pass_finds():
    model = gf.Model(WidestGaussian)
    factors = []
    for k in range(3):
        per = model.copy()
        per.sigma = gf.UniformPrior(1.0, 25.0)  # the same median in every dataset
        data, noise = gf.ex.simulate_gaussian_dataset(seed=k)
        factors.append(gf.AnalysisFactor(per, gf.ex.Analysis(data, noise)))
    x = np.arange(100.0)
    equal, unequal = np.full((3, 1), 13.0), np.array([[12.0], [13.0], [14.0]])
    at = {"centre": 50.0, "normalization": 1.0}
    batched = WidestGaussian(sigma=equal, **at).model_data_from(x)
    assert np.allclose(batched, WidestGaussian(sigma=13.0, **at).model_data_from(x))
    batched = WidestGaussian(sigma=unequal, **at).model_data_from(x)
    assert not np.allclose(batched, WidestGaussian(sigma=12.0, **at).model_data_from(x))
    graph = gf.FactorGraphModel(*factors)
    assert graph.compile().vectorized_groups == []
    assert observed_names(graph, True) == ["dataset_0.obs", "dataset_1.obs", "dataset_2.obs"]


def random_point(model, rng):
    point = model.initial_point()
    return {k: v + rng.uniform(-0.5, 0.5, np.shape(v)) for k, v in point.items()}


def logp_and_pointwise(compiled):
    """One compiled function (Python mode, no C compile): joint logp and each node's pointwise
    log-likelihood."""
    model = compiled.model
    names = compiled.loglike_names
    outputs = [model.logp(), *model.logp(vars=[model[name] for name in names], sum=False)]
    fn = model.compile_fn(outputs, point_fn=True, mode="FAST_COMPILE")

    def evaluate(point):
        values = fn(point)
        return float(values[0]), dict(zip(names, values[1:], strict=True))

    return evaluate


@st.composite
def factor_graphs(draw):
    """Random graphs of 2-4 datasets with shared, per-dataset, fixed and relational parameters."""
    n = draw(st.integers(2, 4))
    size = draw(st.sampled_from([20, 30]))
    shared_centre = gf.UniformPrior(20.0, 80.0)
    m = gf.UniformPrior(0.5, 3.0)
    c = gf.UniformPrior(1.0, 5.0)
    sigma_kind = draw(st.sampled_from(["shared", "per_dataset", "relation", "fixed"]))
    norm_kind = draw(st.sampled_from(["shared", "per_dataset", "mixed_kinds"]))
    collection = draw(st.booleans())
    shared_sigma = gf.GaussianPrior(10.0, 3.0, lower_limit=1.0)
    shared_norm = gf.LogUniformPrior(1.0, 100.0)
    factors = []
    for k in range(n):
        gaussian = gf.Model(gf.ex.Gaussian)
        gaussian.centre = shared_centre
        gaussian.sigma = {
            "shared": shared_sigma,
            "per_dataset": gf.GaussianPrior(10.0, 3.0, lower_limit=1.0),
            "relation": m * float(k + 1) + c,
            "fixed": 5.0 + k,
        }[sigma_kind]
        if norm_kind == "shared":
            gaussian.normalization = shared_norm
        elif norm_kind == "per_dataset":
            gaussian.normalization = gf.LogUniformPrior(1.0, 100.0)
        else:  # per-dataset priors of different kinds: not one vector variable
            gaussian.normalization = (
                gf.LogUniformPrior(1.0, 100.0) if k % 2 else gf.UniformPrior(1.0, 100.0)
            )
        model = gf.Collection(gaussian=gaussian) if collection else gaussian
        data, noise = gf.ex.simulate_gaussian_dataset(
            centre=50.0, normalization=20.0, sigma=8.0, size=size, seed=100 + k
        )
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)))
    return gf.FactorGraphModel(*factors)


@pytest.mark.slow  # 30 compiles (a minute); the fixed cases above stay in the fast tier
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=factor_graphs(), seed=st.integers(0, 2**16))
def test_vectorised_and_unvectorised_compiles_agree(graph, seed):
    vectorised = graph.compile(vectorize=True)
    separate = graph.compile(vectorize=False)
    assert vectorised.vectorized_groups == [list(range(len(graph.factors)))]
    assert len(separate.model.observed_RVs) == len(graph.factors)
    assert sorted(separate.model.initial_point()) == sorted(vectorised.model.initial_point())
    rng = np.random.default_rng(seed)
    evaluate_v, evaluate_s = logp_and_pointwise(vectorised), logp_and_pointwise(separate)
    for _ in range(3):
        point = random_point(vectorised.model, rng)
        (logp_v, pointwise_v), (logp_s, pointwise_s) = evaluate_v(point), evaluate_s(point)
        assert logp_v == pytest.approx(logp_s, rel=1e-8)
        for k, (node_v, node_s) in enumerate(zip(vectorised.nodes, separate.nodes, strict=True)):
            assert node_v.select == {"dataset": node_v.name}
            np.testing.assert_allclose(
                pointwise_v[node_v.loglike_name][k], pointwise_s[node_s.loglike_name], rtol=1e-8
            )

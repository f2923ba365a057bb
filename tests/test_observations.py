"""Built-in observed likelihoods (Gaussian, Poisson, Student-t), datasets of different kinds and
shapes in one graph, and their bad input.  No sampling here: compiled log densities are compared
with scipy, and the per-dataset split is checked on a MAP fit."""

import numpy as np
import pytest
from scipy import stats

import graphfit as gf
from tests.test_vectorize import logp_and_pointwise, random_point


def pointwise(graph, vectorize=True):
    """Each dataset's pointwise log-likelihood from the compiled PyMC model at its initial point."""
    compiled = graph.compile(vectorize=vectorize)
    evaluate = logp_and_pointwise(compiled)
    point = compiled.model.initial_point()
    _, values = evaluate(point)
    out = {}
    for k, node in enumerate(compiled.nodes):
        array = values[node.loglike_name]
        out[node.name] = array[compiled.vectorized_groups[0].index(k)] if node.select else array
    return compiled, point, out


# -- likelihood values ----------------------------------------------------------------------


def test_poisson_and_student_t_log_likelihoods_match_scipy():
    rate = np.array([0.5, 2.0, 7.5])
    counts = np.array([0, 3, 9])
    poisson = gf.PoissonObservation(rate, counts)
    np.testing.assert_allclose(poisson.log_likelihood(), stats.poisson.logpmf(counts, rate))
    mu, data, scale = np.array([0.0, 1.0]), np.array([0.3, -4.0]), np.array([0.5, 2.0])
    student = gf.StudentTObservation(mu, data, scale, nu=3.0)
    np.testing.assert_allclose(
        student.log_likelihood(), stats.t.logpdf(data, 3.0, loc=mu, scale=scale)
    )


class Level:
    """A constant profile: model data = level everywhere."""

    default_priors = {"level": gf.UniformPrior(0.5, 20.0)}

    def __init__(self, level):
        self.level = level

    def model_data_from(self, xvalues, xp=np):
        return self.level + 0.0 * xp.asarray(xvalues)


def test_compiled_poisson_and_student_t_nodes_have_the_full_log_likelihood():
    counts, edges = gf.ex.simulate_histogram(gf.ex.Gaussian(50.0, 400.0, 10.0), seed=0)
    data, noise = gf.ex.simulate_gaussian_dataset(seed=1, size=30)
    histogram_model = gf.Model(gf.ex.Gaussian)
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(histogram_model, gf.ex.HistogramAnalysis(counts, edges), name="hist"),
        gf.AnalysisFactor(gf.Model(Level), gf.ex.RobustAnalysis(data, noise, nu=2.5), name="t"),
    )
    compiled, point, values = pointwise(graph)
    assert compiled.model.named_vars_to_dims["hist.obs"] == ("hist.bin",)
    assert type(compiled.model["hist.obs"].owner.op).__name__ == "PoissonRV"
    assert type(compiled.model["t.obs"].owner.op).__name__ == "StudentTRV"
    values_fn = compiled.model.compile_fn(compiled.model.unobserved_value_vars, mode="FAST_COMPILE")
    constrained = values_fn(point)
    names = [v.name for v in compiled.model.unobserved_value_vars]
    at = dict(zip(names, constrained, strict=True))
    gaussian = gf.ex.Gaussian(at["hist.centre"], at["hist.normalization"], at["hist.sigma"])
    expected = gf.ex.HistogramAnalysis(counts, edges).model_data_from(gaussian)
    np.testing.assert_allclose(values["hist"], stats.poisson.logpmf(counts, expected), rtol=1e-10)
    level = at["t.level"]
    np.testing.assert_allclose(
        values["t"], stats.t.logpdf(data, 2.5, loc=level, scale=noise), rtol=1e-10
    )


# -- vectorisation ----------------------------------------------------------------------------


def histogram_graph(n=3, vectorize=True):
    model = gf.Model(gf.ex.Gaussian)
    factors = []
    for k in range(n):
        per = model.copy()
        per.normalization = gf.LogUniformPrior(10.0, 1e4)
        counts, edges = gf.ex.simulate_histogram(gf.ex.Gaussian(50.0, 300.0, 10.0), seed=k)
        factors.append(gf.AnalysisFactor(per, gf.ex.HistogramAnalysis(counts, edges)))
    return gf.FactorGraphModel(*factors, vectorize=vectorize)


def robust_graph(nus, fitted=None):
    model = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian))
    if fitted == "shared":
        model.nu = gf.LogUniformPrior(1.0, 50.0)
    factors = []
    for k, nu in enumerate(nus):
        per = model.copy()
        if fitted == "per_dataset":
            per.nu = gf.LogUniformPrior(1.0, 50.0)
        data, noise = gf.ex.simulate_gaussian_dataset(size=40, seed=40 + k)
        analysis = gf.ex.RobustAnalysis(data, noise, nu="nu" if fitted else nu)
        factors.append(gf.AnalysisFactor(per, analysis))
    return gf.FactorGraphModel(*factors)


def assert_equivalent(graph, seed=0):
    vectorised, separate = graph.compile(vectorize=True), graph.compile(vectorize=False)
    evaluate_v, evaluate_s = logp_and_pointwise(vectorised), logp_and_pointwise(separate)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        point = random_point(vectorised.model, rng)
        (logp_v, pointwise_v), (logp_s, pointwise_s) = evaluate_v(point), evaluate_s(point)
        assert logp_v == pytest.approx(logp_s, rel=1e-9)
        for node_v, node_s in zip(vectorised.nodes, separate.nodes, strict=True):
            row = vectorised.model.coords[next(iter(node_v.select))].index(node_v.name)
            np.testing.assert_allclose(
                pointwise_v[node_v.loglike_name][row], pointwise_s[node_s.loglike_name], rtol=1e-9
            )


def test_alike_histograms_are_one_poisson_node_and_agree_with_separate_nodes():
    graph = histogram_graph()
    compiled = graph.compile()
    assert compiled.vectorized_groups == [[0, 1, 2]]
    assert compiled.model.named_vars_to_dims["obs"] == ("dataset", "bin")
    assert type(compiled.model["obs"].owner.op).__name__ == "PoissonRV"
    assert_equivalent(graph, seed=1)


@pytest.mark.parametrize("fitted", [None, "shared", "per_dataset"])
def test_student_t_datasets_stack_and_agree_with_separate_nodes(fitted):
    graph = robust_graph([3.0, 3.0, 3.0], fitted=fitted)
    assert graph.compile().vectorized_groups == [[0, 1, 2]]
    assert_equivalent(graph, seed=2)


def test_student_t_datasets_with_different_fixed_nu_are_not_stacked():
    graph = robust_graph([3.0, 3.0, 5.0])
    assert graph.compile().vectorized_groups == []
    assert [rv.name for rv in graph.compile().model.observed_RVs] == [
        "dataset_0.obs",
        "dataset_1.obs",
        "dataset_2.obs",
    ]


# -- datasets of different kinds and shapes in one graph -------------------------------------


def mixed_graph():
    """Two 1D Gaussian-noise profiles on different x grids (60 and 80 points), a second 80-point
    profile (stacked with the first 80-point one), a Poisson histogram and a 2D image; all share
    one ``centre`` (true value 48)."""
    centre = gf.UniformPrior(0.0, 100.0, name="centre")
    x_fine = np.linspace(0.0, 100.0, 60)
    factors = []
    for name, xvalues, seed in (("fine", x_fine, 1), ("coarse", None, 2), ("coarse_2", None, 3)):
        data, noise = gf.ex.simulate_dataset(
            gf.ex.Gaussian(48.0, 25.0, 10.0), noise=0.1, xvalues=xvalues, size=80, seed=seed
        )
        model = gf.Model(gf.ex.Gaussian, centre=centre)
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise, xvalues), name=name))
    counts, edges = gf.ex.simulate_histogram(gf.ex.Gaussian(48.0, 300.0, 8.0), seed=4)
    model = gf.Model(gf.ex.Gaussian, centre=centre, normalization=gf.LogUniformPrior(10.0, 1e4))
    factors.append(gf.AnalysisFactor(model, gf.ex.HistogramAnalysis(counts, edges), name="hist"))
    image, noise = gf.ex.simulate_image(
        gf.ex.Gaussian2D(48.0, 40.0, 500.0, 6.0), shape=(30, 40), pixel_scale=2.5, seed=5
    )
    model = gf.Model(gf.ex.Gaussian2D, centre_x=centre, centre_y=gf.UniformPrior(0.0, 75.0))
    analysis = gf.ex.ImagingAnalysis(image, noise, pixel_scale=2.5)
    factors.append(gf.AnalysisFactor(model, analysis, name="image"))
    return gf.FactorGraphModel(*factors)


def test_datasets_of_different_kinds_are_separate_nodes_with_their_own_dims():
    compiled = mixed_graph().compile()
    assert compiled.vectorized_groups == [[1, 2]]  # only the two alike coarse profiles
    dims = compiled.model.named_vars_to_dims
    assert dims["obs_0"] == ("obs_0.dataset", "obs_0.x")
    assert dims["fine.obs"] == ("fine.x",)
    assert dims["hist.obs"] == ("hist.bin",)
    assert dims["image.obs"] == ("image.y", "image.x")
    assert [len(compiled.model.coords[d]) for d in dims["image.obs"]] == [30, 40]
    assert len(compiled.model.coords["fine.x"]) == 60
    assert len(compiled.model.coords["obs_0.x"]) == 80


# -- bad input ------------------------------------------------------------------------------


def test_negative_or_non_integer_counts_are_rejected_when_the_analysis_is_built():
    edges = np.arange(5.0)
    with pytest.raises(
        gf.DataError,
        match=r"^ex.HistogramAnalysis: counts has 2 negative value\(s\), the first at index 1 "
        r"\(-1.0\); counts must be non-negative integers \(0, 1, 2, ...\).$",
    ):
        gf.ex.HistogramAnalysis([3, -1, 2, -4], edges)
    with pytest.raises(
        gf.DataError,
        match=r"^ex.HistogramAnalysis: counts has 1 non-integer value\(s\), the first at index 2 "
        r"\(2.5\); counts must be non-negative integers \(0, 1, 2, ...\).$",
    ):
        gf.ex.HistogramAnalysis([3, 1, 2.5, 4], edges)
    with pytest.raises(gf.DataError, match=r"4 counts need 5 bin_edges, got shape \(4,\)"):
        gf.ex.HistogramAnalysis([3, 1, 2, 4], edges[:-1])


class RawCounts(gf.Analysis):
    """A user analysis passing its counts straight to PoissonObservation (no own checks)."""

    def __init__(self, counts):
        self.counts = counts

    def observation(self, instance, xp=np):
        x = np.arange(len(self.counts), dtype=float)
        return gf.PoissonObservation(instance.model_data_from(x, xp), self.counts, dims=("bin",))


def test_bad_counts_in_a_user_analysis_are_reported_with_the_dataset_when_the_graph_is_built():
    good = RawCounts(np.array([1, 2, 3]))
    bad = RawCounts(np.array([1.0, -2.0, 3.0]))
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(gf.Model(Level), good, name="run_a"),
        gf.AnalysisFactor(gf.Model(Level), bad, name="run_b"),
    )
    message = (
        r"^dataset 'run_b': RawCounts.observation\(\): PoissonObservation: data has 1 negative "
        r"value\(s\), the first at "
        r"index 1 \(-2.0\); counts must be non-negative integers \(0, 1, 2, ...\).$"
    )
    for vectorize in (True, False):
        with pytest.raises(gf.DataError, match=message):
            graph.compile(vectorize=vectorize)


def test_datasets_of_different_kinds_with_the_same_name_are_rejected():
    counts, edges = gf.ex.simulate_histogram(gf.ex.Gaussian(50.0, 300.0, 8.0), seed=0)
    image, noise = gf.ex.simulate_image(gf.ex.Gaussian2D(20.0, 20.0, 50.0, 3.0), seed=0)
    with pytest.raises(
        gf.FactorGraphError,
        match=r"^FactorGraphModel: factors 0 and 1 are both named 'survey'; every dataset needs "
        r"a unique name \(AnalysisFactor\(..., name=...\)\).$",
    ):
        gf.FactorGraphModel(
            gf.AnalysisFactor(
                gf.Model(gf.ex.Gaussian), gf.ex.HistogramAnalysis(counts, edges), "survey"
            ),
            gf.AnalysisFactor(
                gf.Model(gf.ex.Gaussian2D), gf.ex.ImagingAnalysis(image, noise), "survey"
            ),
        )


def test_a_fixed_array_of_the_wrong_shape_is_reported_when_the_graph_is_built():
    model = gf.Model(gf.ex.Gaussian)
    model.sigma = np.array([5.0, 10.0, 15.0])
    data, noise = gf.ex.simulate_gaussian_dataset(seed=0)
    graph = gf.FactorGraphModel(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise), name="a"))
    with pytest.raises(
        gf.FactorGraphError,
        match=r"^dataset 'a': Analysis.observation\(\) failed on the model's parameters "
        r"\(ValueError: .*\(100,\), \(3,\).*\). Check that fixed array parameters of the model "
        r"match the data's shape \(or are scalars\).$",
    ):
        graph.compile()


class Truncating(gf.ex.Analysis):
    """An analysis whose model data has the wrong length."""

    def observation(self, instance, xp=np):
        observation = super().observation(instance, xp)
        observation.model_data = observation.model_data[:50]
        return observation


def test_model_data_of_the_wrong_shape_is_reported_when_the_graph_is_built():
    data, noise = gf.ex.simulate_gaussian_dataset(seed=0)
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), Truncating(data, noise))
    )
    with pytest.raises(
        gf.DataError,
        match=r"^dataset 'dataset_0': Truncating.observation\(\) gives model_data of shape \(50,\) "
        r"for data of shape \(100,\); it must have the data's shape \(or broadcast to it\).",
    ):
        graph.compile()


def test_bad_student_t_and_x_grid_arguments():
    data, noise = gf.ex.simulate_gaussian_dataset(size=10, seed=0)
    with pytest.raises(
        gf.DataError,
        match=r"^StudentTObservation: nu = -1.0; the degrees of freedom must be a finite number > 0",
    ):
        gf.ex.RobustAnalysis(data, noise, nu=-1.0)
    with pytest.raises(
        gf.DataError,
        match=r"^ex.Analysis: data has shape \(10,\) but xvalues has shape \(9,\); give one x "
        r"value per data point.$",
    ):
        gf.ex.Analysis(data, noise, xvalues=np.arange(9.0))
    with pytest.raises(gf.DataError, match=r"^ex.ImagingAnalysis: data must be a 2D image"):
        gf.ex.ImagingAnalysis(data, noise)

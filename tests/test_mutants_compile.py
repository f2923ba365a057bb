"""Tests that kill mutants mutmut found surviving in ``graphfit/backend/compile.py``
(docs/guides/testing.md).

The fast tier holds no marginalised population, so the mutants of ``_marginal_members`` and
``_marginal_potential`` (which groups are marginalised, which dataset holds which member, the
population's arguments, the axis of the sum over the grid, the ``MarginalGroup`` handed to the
draws after the fit) survived it; ``tests/test_marginal.py`` checks the same integral on ten
datasets and three population kinds.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytensor
import pytest
from scipy import stats

import graphfit as gf
from graphfit.backend import stack
from graphfit.backend.compile import compile_graph

CENTRES = (42.0, 50.0, 61.0)
NORMALIZATION, SIGMA = 2.0, 5.0  # a peak signal-to-noise of 4 per pixel (noise 0.04)
THETA = np.linspace(-200.0, 300.0, 100_001)


def datasets() -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        gf.ex.simulate_gaussian_dataset(
            centre=c, normalization=NORMALIZATION, sigma=SIGMA, seed=500 + k
        )
        for k, c in enumerate(CENTRES)
    ]


def gaussian_population() -> gf.HierarchicalFactor:
    """A marginalised Gaussian population with uniform hyperpriors of its mean and width."""
    return gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.UniformPrior(0.0, 100.0),
        sigma=gf.UniformPrior(0.0, 50.0),
        parametrization="marginalized",
    )


def marginal_graph(analysis_class: type = gf.ex.Analysis) -> gf.FactorGraphModel:
    population = gaussian_population()
    factors = []
    for data, noise in datasets():
        model = gf.Model(gf.ex.Gaussian, normalization=NORMALIZATION, sigma=SIGMA)
        population.add_drawn_variable(model.centre)
        factors.append(gf.AnalysisFactor(model, analysis_class(data, noise)))
    return gf.FactorGraphModel(*factors, population)


@functools.cache
def loglike_on_theta() -> np.ndarray:
    """Each dataset's log-likelihood of its centre at every ``THETA``, ``(dataset, theta)``."""
    x = np.arange(100.0)
    out = []
    for data, noise in datasets():
        rows = []
        for block in np.array_split(THETA, 20):
            profile = NORMALIZATION / (SIGMA * np.sqrt(2 * np.pi))
            model = profile * np.exp(-0.5 * ((x[None, :] - block[:, None]) / SIGMA) ** 2)
            rows.append(stats.norm.logpdf(data, model, noise).sum(axis=1))
        out.append(np.concatenate(rows))
    return np.array(out)


def test_the_marginal_potential_is_the_integral_over_each_datasets_member():
    sampling = compile_graph(marginal_graph()).sampling.model
    # the members are integrated out: only the population's hyperparameters are sampled
    assert [rv.name for rv in sampling.free_RVs] == [
        "hierarchical_0.mean",
        "hierarchical_0.sigma",
    ]
    (potential,) = sampling.potentials
    function = pytensor.function(sampling.free_RVs, potential)
    loglike = loglike_on_theta()
    for mean, sigma in [(50.0, 10.0), (45.0, 3.0), (60.0, 25.0)]:
        total = loglike + stats.norm.logpdf(THETA, mean, sigma)
        peak = total.max(axis=1, keepdims=True)
        exact = peak[:, 0] + np.log(np.trapezoid(np.exp(total - peak), THETA, axis=1))
        # linear interpolation of log L between the grid's edges: at most 1/72 per dataset
        assert float(function(mean, sigma)) == pytest.approx(exact.sum(), abs=3 / 72)


def test_a_marginalised_fit_draws_each_datasets_member_near_its_own_centre():
    graph = marginal_graph()
    result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    for k, result in enumerate(result_list):
        centres = stack.group(result.idata, "posterior")["centre"].values.ravel()
        assert np.all(np.abs(centres - CENTRES[k]) < 3.0), (k, centres)


def histogram_graph(mean, sigma) -> gf.FactorGraphModel:
    """Three histograms (Poisson likelihoods) whose centres are marginalised, with one width
    prior shared by every dataset (a prior the batched node reads from the model's tensors)."""
    population = gf.HierarchicalFactor(
        gf.GaussianPrior, mean=mean, sigma=sigma, parametrization="marginalized"
    )
    width = gf.UniformPrior(2.0, 20.0)
    factors = []
    for k, centre in enumerate(CENTRES):
        counts, edges = gf.ex.simulate_histogram(
            gf.ex.Gaussian(centre, 30.0, 8.0), bin_edges=np.linspace(0.0, 100.0, 11), seed=k
        )
        model = gf.Model(gf.ex.Gaussian, normalization=30.0)
        # a narrow range keeps the grid (and the test) small
        model.centre = gf.UniformPrior(30.0, 70.0)
        model.sigma = width
        population.add_drawn_variable(model.centre)
        factors.append(gf.AnalysisFactor(model, gf.ex.HistogramAnalysis(counts, edges)))
    return gf.FactorGraphModel(*factors, population)


def marginal_potential(graph: gf.FactorGraphModel, vectorize: bool = True):
    """The sampling model's marginal potential as a function of its free variables by name,
    and the sampling model's batched groups."""
    compiled = compile_graph(graph, vectorize=vectorize).sampling
    (potential,) = compiled.model.potentials
    free = compiled.model.free_RVs
    # FAST_COMPILE: no C compilation, the values are the same
    function = pytensor.function(free, potential, mode="FAST_COMPILE")
    names = [rv.name for rv in free]
    return (lambda **values: float(function(*[values[n] for n in names]))), compiled


def test_a_batched_poisson_marginal_potential_is_the_per_dataset_one():
    # _vector_loglike: batched_observation(..., tensors -> None, ...) loses the shared width
    # prior; observation.log_likelihood(pytensor_namespace()) -> log_likelihood(None) breaks
    # the Poisson likelihood (it calls xp.log on the model's tensors)
    graph = histogram_graph(gf.UniformPrior(0.0, 100.0), gf.UniformPrior(1.0, 10.0))
    batched, compiled = marginal_potential(graph, vectorize=True)
    assert compiled.vectorized_groups == [[0, 1, 2]]  # the batched path is the one checked
    alone, compiled = marginal_potential(graph, vectorize=False)
    assert compiled.vectorized_groups == []
    for mean, sigma, width in [(50.0, 5.0, 8.0), (45.0, 2.0, 12.0)]:
        values = {"hierarchical_0.mean": mean, "hierarchical_0.sigma": sigma, "sigma": width}
        assert batched(**values) == pytest.approx(alone(**values), rel=1e-10, abs=1e-10)
        assert np.isfinite(batched(**values))


def test_a_populations_numbers_and_relations_are_its_arguments_on_the_grid():
    # _marginal_potential: `value.evaluate(tensors, xp) if isinstance(value, Expression) else
    # value` -> `... or True ...` (a fixed sigma has no evaluate); `xp = pytensor_namespace()`
    # -> None or `evaluate(tensors, None)` (gf.math.exp of a hyperprior on None).  Dropping the
    # namespace is equivalent: numpy's exp on a PyTensor tensor gives PyTensor's exp.
    log_mean = gf.UniformPrior(0.0, 5.0)
    related, _ = marginal_potential(histogram_graph(gf.math.exp(log_mean), 4.0))
    direct, _ = marginal_potential(histogram_graph(gf.UniformPrior(0.0, 100.0), 4.0))
    for mean, width in [(50.0, 8.0), (44.0, 6.0)]:
        expected = direct(**{"hierarchical_0.mean": mean, "sigma": width})
        got = related(**{"hierarchical_0.mean_0": math.log(mean), "sigma": width})
        assert got == pytest.approx(expected, rel=1e-10)


def test_compile_graph_batches_alike_datasets_unless_asked_not_to():
    # compile_graph(vectorize=True) -> vectorize=False as the default
    graph = gf.FactorGraphModel(
        *[
            gf.AnalysisFactor(
                gf.Model(gf.ex.Gaussian, normalization=NORMALIZATION, sigma=SIGMA),
                gf.ex.Analysis(data, noise),
            )
            for data, noise in datasets()[:2]
        ]
    )
    assert compile_graph(graph).vectorized_groups == [[0, 1]]
    assert compile_graph(graph, vectorize=False).vectorized_groups == []
    # a batch of some of the datasets is `obs_<number>`, not `obs` (`and` -> `or`)
    mixed = gf.FactorGraphModel(
        *graph.factors, histogram_graph(gf.UniformPrior(0.0, 100.0), 4.0).factors[0]
    )
    compiled = compile_graph(mixed)
    assert compiled.vectorized_groups == [[0, 1]]
    assert [rv.name for rv in compiled.model.observed_RVs] == ["obs_0", "dataset_2.obs"]


def one_dataset_graph(n: int = 1) -> gf.FactorGraphModel:
    return gf.FactorGraphModel(
        *[
            gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), gf.ex.Analysis(data, noise))
            for data, noise in datasets()[:n]
        ]
    )


class _CustomLikelihood(gf.ex.Analysis):
    """An analysis with a likelihood of its own (no observation to put in containers)."""

    def log_likelihood_function(self, instance, xp=np):
        residual = (self.model_data_from(instance, xp) - self.data) / self.noise_map
        return -0.5 * xp.sum(residual**2)


def test_data_containers_need_a_graph_of_one_factor_with_an_observation():
    # `len(graph.factors) != 1 or not ...uses_observation()` -> `and` / `!= 2`: two factors
    # accepted; `not` dropped / `factors[1]`: an observation refused (the containers test below)
    message = r"data_containers=True needs a graph of one factor whose analysis declares"
    with pytest.raises(gf.FactorGraphError, match=message):
        compile_graph(one_dataset_graph(2), data_containers=True)
    data, noise = datasets()[0]
    custom = gf.FactorGraphModel(
        gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), _CustomLikelihood(data, noise))
    )
    with pytest.raises(gf.FactorGraphError, match=message):
        compile_graph(custom, data_containers=True)


def test_a_swappable_model_holds_its_data_and_prior_arguments_in_containers():
    # compile_graph: `_build(..., swappable=swappable)` -> `swappable=None` / left out: the
    # joint model of a structure kept the first graph's data for every graph sharing it
    compiled = compile_graph(one_dataset_graph(2), swappable=True)
    assert compiled.data_layout == {
        "obs.data": ((0, 1), "data"),
        "obs.noise_map": ((0, 1), "noise_map"),
    }
    assert {"obs.data", "obs.noise_map", "centre::lower", "sigma::upper"} <= set(compiled.data)
    assert compiled.prior_layout["centre::lower"] == ("centre", "lower")


def test_a_swappable_model_records_each_unbatched_datasets_own_containers():
    # _build: `dataset_node(..., layout, index)` -> `index` None or left out (0): datasets of
    # different sizes are not batched, and a refit of the structure with new data would have
    # put dataset 0's data into every dataset's containers
    graph = gf.FactorGraphModel(
        *[
            gf.AnalysisFactor(
                gf.Model(gf.ex.Gaussian),
                gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(size=size, seed=k)),
            )
            for k, size in enumerate((30, 40))
        ]
    )
    compiled = compile_graph(graph, swappable=True)
    assert compiled.vectorized_groups == []
    assert compiled.data_layout == {
        "dataset_0.obs.data": ((0,), "data"),
        "dataset_0.obs.noise_map": ((0,), "noise_map"),
        "dataset_1.obs.data": ((1,), "data"),
        "dataset_1.obs.noise_map": ((1,), "noise_map"),
    }
    np.testing.assert_array_equal(
        compiled.data["dataset_1.obs.data"], graph.factors[1].analysis.data
    )


def test_the_sampling_model_sums_the_members_apart_and_holds_no_containers():
    # _build(swappable=False) -> True as its default, compile_graph's
    # `_build(graph, plan, vectorize, False, marginal=True)` -> `True` for data_containers:
    # the sampling model is built for its graph alone (CompiledGraph.activate swaps the data
    # of the centred model only)
    # two more datasets outside the population: their node is the sampling model's own too
    graph = histogram_graph(gf.UniformPrior(0.0, 100.0), 4.0)
    graph = gf.FactorGraphModel(
        *graph.factors, *one_dataset_graph(2).factors, *graph.hierarchical_factors
    )
    compiled = compile_graph(graph)
    sampling = compiled.sampling
    assert sampling.vectorized_groups == [[0, 1, 2], [3, 4]]
    # the histograms' members are stacked apart from the other datasets and summed into the
    # marginal potential; the others keep their node's name: not `_build`'s `k in depends` ->
    # `not in` (or the reverse), `continue` -> `break` after the marginal batch, nor every
    # node named "obs"
    assert [rv.name for rv in compiled.model.observed_RVs] == ["obs_0", "obs_1"]
    assert [rv.name for rv in sampling.model.observed_RVs] == ["obs_1"]
    assert (sampling.data, sampling.data_names, sampling.data_layout) == ({}, {}, {})
    assert sampling.prior_layout == {}


def test_the_values_of_a_models_data_containers_are_read_only():
    # _container_values: value.setflags(write=False) -> write=None / write=True; the values
    # are what another dataset's data are swapped against, and must not be changed in place.
    # Also compile_graph's `_build(..., data_containers -> None, ...)` (no containers) and
    # the one-factor check turned against a graph that passes it (`== 1`, `not` dropped,
    # `factors[1]`), and _build's `containers = {}` -> None
    compiled = compile_graph(one_dataset_graph(), data_containers=True)
    # the containers by the observation's field (fit_each swaps each dataset's arrays in by it)
    assert compiled.data_names == {"data": "obs.data", "noise_map": "obs.noise_map"}
    assert set(compiled.data) == {"obs.data", "obs.noise_map"}
    for name, value in compiled.data.items():
        assert not value.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            value[...] = 0.0


class _NestedAnalysis(gf.ex.Analysis):
    """The example analysis of a collection's ``peak`` component."""

    def observation(self, instance, xp=np):
        return super().observation(instance.peak, xp)


def test_drawn_parameters_at_different_paths_are_drawn_as_scalars():
    # _marginal_potential: `MarginalGroup(..., vector=group.vector)` left out (default True):
    # members at different model paths are scalar variables of their own, and their draws
    # after the fit were shaped as a vector over the datasets
    from graphfit.backend.marginal import draw_marginalized

    population = gaussian_population()
    (data_0, noise_0), (data_1, noise_1) = datasets()[:2]
    plain = gf.Model(gf.ex.Gaussian, normalization=NORMALIZATION, sigma=SIGMA)
    nested = gf.Collection(peak=gf.Model(gf.ex.Gaussian, normalization=NORMALIZATION, sigma=SIGMA))
    population.add_drawn_variable(plain.centre)
    population.add_drawn_variable(nested.peak.centre)
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(plain, gf.ex.Analysis(data_0, noise_0)),
        gf.AnalysisFactor(nested, _NestedAnalysis(data_1, noise_1)),
        population,
    )
    compiled = compile_graph(graph)
    sampling = compiled.sampling
    assert [(g.name, g.vector) for g in sampling.marginal_groups] == [
        ("dataset_0.centre", False),
        ("dataset_1.peak.centre", False),
    ]
    idata = stack.from_arrays(
        posterior={
            "hierarchical_0.mean": np.full((1, 50), 50.0),
            "hierarchical_0.sigma": np.full((1, 50), 10.0),
        }
    )
    # FAST_COMPILE: no C compilation of the draws' function (seconds under load), same values
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        idata = draw_marginalized(
            idata,
            sampling.marginal_groups,
            sampling.model,
            compiled.model,
            np.random.default_rng(3),
        )
    posterior = stack.group(idata, "posterior")
    for name, centre in [("dataset_0.centre", CENTRES[0]), ("dataset_1.peak.centre", CENTRES[1])]:
        assert posterior[name].dims == ("chain", "draw")
        assert abs(float(posterior[name].mean()) - centre) < 3.0


def test_a_prior_above_a_function_of_another_is_shifted_above_its_value():
    # _build: `shifted_variable(group, side, other.evaluate(tensors, xp))` -> namespace None:
    # `centre > 40 + 2 exp(sigma / 10)` (gf.math.exp of the other side) failed to compile
    model = gf.Model(gf.ex.Gaussian, normalization=NORMALIZATION)
    model.add_assertion(model.centre > 40.0 + 2.0 * gf.math.exp(model.sigma / 10.0))
    data, noise = datasets()[0]
    pymc_model = (
        gf.FactorGraphModel(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise))).compile().model
    )
    assert [rv.name for rv in pymc_model.free_RVs] == ["sigma", "centre_gap"]
    centre = pytensor.function(
        [pymc_model["sigma"], pymc_model["centre_gap"]], pymc_model["centre"], mode="FAST_COMPILE"
    )
    assert float(centre(5.0, 1.5)) == pytest.approx(40.0 + 2.0 * math.exp(0.5) + 1.5, rel=1e-12)


def test_shared_and_per_dataset_relations_are_the_models_values():
    # _build: a shared relation (one group for every dataset) `value = members[0].evaluate(
    # tensors, xp)` -> None, evaluated on None or without PyTensor's namespace; per-dataset
    # relations with `batched_relations(members, tensors, vectors)` -> vectors None, and the
    # vector prior groups' `vectors[prior] = (variable, k, n)` -> None
    width = 2.0 * gf.math.exp(gf.UniformPrior(0.0, 3.0))
    factors = []
    for data, noise in datasets()[:2]:
        model = gf.Model(gf.ex.Gaussian)
        model.sigma = width
        model.normalization = 0.5 * gf.math.exp(gf.UniformPrior(0.0, 3.0)) + model.centre / 100
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)))
    compiled = gf.FactorGraphModel(*factors).compile()
    assert [(g.name, g.vector) for g in compiled.plan.relation_groups] == [
        ("normalization", True),
        ("sigma", False),
    ]
    pymc_model = compiled.model
    free = ["centre", "dataset_0.normalization_0", "sigma_0", "dataset_1.normalization_0"]
    assert [rv.name for rv in pymc_model.free_RVs] == free
    values = pytensor.function(
        pymc_model.free_RVs,
        [pymc_model["normalization"], pymc_model["sigma"]],
        mode="FAST_COMPILE",
    )
    normalization, sigma = values(np.array([40.0, 50.0]), 0.1, 0.5, 0.2)
    np.testing.assert_allclose(
        normalization, 0.5 * np.exp([0.1, 0.2]) + np.array([0.4, 0.5]), rtol=1e-12
    )
    assert float(sigma) == pytest.approx(2.0 * math.exp(0.5), rel=1e-12)


def test_priors_created_after_a_marginalised_group_are_in_the_sampling_model():
    # _build: `continue` after a marginalised group's placeholder -> `break`: the groups
    # created after it (here the shared width, shifted above a tenth of the first dataset's
    # normalization, so made once that is) were never made
    graph = histogram_graph(gf.UniformPrior(0.0, 100.0), 4.0)
    first = graph.factors[0].prior_model
    first.normalization = gf.UniformPrior(20.0, 40.0)
    first.add_assertion(first.sigma > first.normalization / 10.0)
    graph = gf.FactorGraphModel(*graph.factors, *graph.hierarchical_factors)
    sampling = compile_graph(graph).sampling.model
    names = [rv.name for rv in sampling.free_RVs]
    assert "sigma_gap" in names and "hierarchical_0.mean" in names, names


def test_the_sampling_model_keeps_the_relations_free_of_marginalised_parameters():
    # _build: `if placeholders and _uses(value, placeholders): continue` with `value` or
    # `placeholders` replaced or left out, and `continue` -> `break`: a relation of the drawn
    # centres (recomputed from the centred model after sampling) stays out of the sampling
    # model, one free of them (the shared width) stays in
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.UniformPrior(0.0, 100.0),
        sigma=4.0,
        parametrization="marginalized",
    )
    width = 4.0 * gf.math.exp(gf.UniformPrior(0.0, 1.0))
    factors = []
    for k, centre in enumerate(CENTRES):
        counts, edges = gf.ex.simulate_histogram(
            gf.ex.Gaussian(centre, 30.0, 8.0), bin_edges=np.linspace(0.0, 100.0, 11), seed=k
        )
        model = gf.Model(gf.ex.Gaussian)
        model.centre = gf.UniformPrior(30.0, 70.0)
        model.normalization = 25.0 + model.centre / 10.0
        model.sigma = width
        population.add_drawn_variable(model.centre)
        factors.append(gf.AnalysisFactor(model, gf.ex.HistogramAnalysis(counts, edges)))
    compiled = compile_graph(gf.FactorGraphModel(*factors, population))
    assert [d.name for d in compiled.model.deterministics] == ["normalization", "sigma"]
    sampling = compiled.sampling.model
    assert [d.name for d in sampling.deterministics] == ["sigma"]
    (potential,) = sampling.potentials
    value = pytensor.function(sampling.free_RVs, potential, mode="FAST_COMPILE")
    assert np.isfinite(float(value(*[np.asarray(0.5) for _ in sampling.free_RVs])))


class _Line:
    def __init__(self, slope: float = 1.0, intercept: float = 0.0) -> None:
        self.slope, self.intercept = slope, intercept


class _BranchingAnalysis(gf.Analysis):
    """Python control flow on a parameter: the code cannot trace, it runs as numpy code."""

    def __init__(self) -> None:
        self.x = np.linspace(0.0, 1.0, 5)
        self.y = 2.0 * self.x + 1.0

    def log_likelihood_function(self, instance):
        if instance.slope > 0:
            return -0.5 * ((self.y - (instance.slope * self.x + instance.intercept)) / 0.1) ** 2
        return -np.inf


def test_numpy_code_is_differentiated_numerically_not_a_black_box():
    # _build: `(black_box if index not in numpy_code else finite_differences).append(name)`
    # -> always `black_box` (`... or True`) or `append(None)`: NUTS refuses a black box and
    # falls back to a gradient-free sampler, while numpy code has finite-difference gradients
    model = gf.Model(_Line, slope=gf.UniformPrior(0.0, 5.0), intercept=gf.UniformPrior(-2.0, 2.0))
    graph = gf.FactorGraphModel(gf.AnalysisFactor(model, _BranchingAnalysis()))
    with pytest.warns(gf.NumpyLikelihoodWarning):
        compiled = compile_graph(graph)
    assert (compiled.black_box, compiled.finite_differences) == ([], ["dataset_0"])


def test_a_custom_likelihood_enters_the_marginal_potential_as_an_observation_does():
    # _build: a custom likelihood of a marginalised member, `loglikes[index] = pt.sum(loglike)`
    # -> None / pt.sum(None), and `continue` -> `break` (the datasets after the first one left
    # out of the potential)
    custom, compiled = marginal_potential(marginal_graph(_CustomLikelihood))
    assert compiled.vectorized_groups == []  # a custom likelihood is never batched
    observed, _ = marginal_potential(marginal_graph())
    # the custom likelihood leaves out the Gaussian's constants, -log(noise * sqrt(2 pi)) a point;
    # the two agree to 7e-4, not to rounding (each model's grid and its constants are computed
    # apart); a dataset left out of the potential would change it by about 230
    constant = sum(float(np.log(noise * np.sqrt(2.0 * np.pi)).sum()) for _, noise in datasets())
    for mean, sigma in [(50.0, 5.0), (45.0, 20.0)]:
        values = {"hierarchical_0.mean": mean, "hierarchical_0.sigma": sigma}
        assert custom(**values) - observed(**values) == pytest.approx(constant, abs=1e-2)


class _MaskedLikelihood(gf.ex.Analysis):
    """A pointwise custom likelihood of the points a mask of the residuals keeps (every point):
    PyTensor does not know its length before it runs."""

    def log_likelihood_function(self, instance, xp=np):
        residual = (self.model_data_from(instance, xp) - self.data) / self.noise_map
        return (-0.5 * residual**2)[residual > -np.inf]


def test_a_custom_likelihood_of_unknown_length_is_measured_at_the_prior_medians():
    # _build: `loglike_shape(factor, loglike)` -> `loglike_shape(None, loglike)`: the length of
    # a pointwise likelihood PyTensor cannot infer is found by running it on the medians
    data, noise = gf.ex.simulate_gaussian_dataset(seed=0)
    analysis = _MaskedLikelihood(data, noise)
    graph = gf.FactorGraphModel(gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), analysis))
    compiled = compile_graph(graph)
    assert compiled.nodes[0].kind == "potential"
    assert len(compiled.model.coords["dataset_0.obs_dim_0"]) == data.size

"""The compiled model lives in the backend, keyed by the spec: a changed spec compiles again."""

import numpy as np
import pytest

import graphfit as gf
from graphfit.backend.structures import JOINT_CACHE_SIZE, clear_cache, compile_joint
from graphfit.plan.fingerprint import graph_fingerprint


def gaussian_graph(seed=0):
    model = gf.Model(gf.ex.Gaussian)
    analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed))
    return model, gf.FactorGraphModel(gf.AnalysisFactor(model, analysis))


def test_an_unchanged_graph_reuses_its_compiled_model():
    _, graph = gaussian_graph()
    assert graph.compile() is graph.compile()
    assert graph.compile(vectorize=False) is graph.compile(vectorize=False)
    assert not hasattr(graph, "_compiled")  # the spec object holds no compiled state


def test_a_new_prior_refits_inside_it(tmp_path):
    """Fit, replace a prior, fit again: the second fit uses the new prior (it used to return
    the first fit's centre, outside the new prior, and end in a KeyError with ``name=``)."""
    model, graph = gaussian_graph()
    first = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    centre = float(first[0].max_log_likelihood_instance.centre)
    assert 40.0 < centre < 60.0
    model.centre = gf.UniformPrior(60.0, 70.0)
    assert "lower_limit = 60.0, upper_limit = 70.0" in graph.info
    second = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    assert 60.0 <= float(second[0].max_log_likelihood_instance.centre) <= 70.0

    named = gf.MAP(random_seed=1, name="fit", output_path=tmp_path)
    model.centre = gf.UniformPrior(0.0, 100.0)
    saved = named.fit(model=graph.global_prior_model, analysis=graph)
    assert abs(float(saved[0].max_log_likelihood_instance.centre) - centre) < 0.5
    model.centre = gf.UniformPrior(60.0, 70.0)
    moved = named.fit(model=graph.global_prior_model, analysis=graph)
    assert 60.0 <= float(moved[0].max_log_likelihood_instance.centre) <= 70.0
    assert len([p for p in (tmp_path / "fit").iterdir() if not p.name.startswith(".")]) == 2


def test_an_assertion_a_prior_argument_or_the_data_compile_again():
    model, graph = gaussian_graph()
    compiled = graph.compile()
    key = graph_fingerprint(graph)

    model.add_assertion(model.centre > 55.0)
    constrained = graph.compile()
    assert constrained is not compiled
    assert graph_fingerprint(graph) != key
    assert graph.compile() is constrained

    model.sigma.upper_limit = 20.0  # a prior's argument changed in place
    assert graph.compile() is not constrained

    before = graph.compile()
    old = graph.factors[0].analysis.data.copy()
    graph.factors[0].analysis.data[0] += 1.0  # the data changed in place
    after = graph.compile()
    assert after is not before and after.model is before.model  # the same structure
    rv = after.model.observed_RVs[0]
    data = graph.factors[0].analysis.data
    assert np.array_equal(after.model.rvs_to_values[rv].get_value(), data)
    assert np.array_equal(after.data["dataset_0.obs.data"], data)
    assert np.array_equal(before.data["dataset_0.obs.data"], old)  # a copy: not changed
    before.activate()
    assert np.array_equal(before.model.rvs_to_values[rv].get_value(), old)


def test_the_identifier_changes_with_an_assertion():
    from graphfit.io.identifier import fit_identity

    model, graph = gaussian_graph()
    plain = fit_identity(graph, gf.MAP())
    assert "assertions" not in plain["model"]  # identifiers of unconstrained fits are as before
    model.add_assertion(model.centre > 55.0)
    constrained = fit_identity(graph, gf.MAP())
    assert constrained["identifier"] != plain["identifier"]
    assert constrained["model"]["assertions"] == [{"op": ">", "left": {"prior": 0}, "right": 55.0}]


def test_a_population_is_measured_again_when_its_drawn_priors_change():
    models = [gf.Model(gf.ex.Gaussian) for _ in range(4)]
    factors = [
        gf.AnalysisFactor(m, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)))
        for s, m in enumerate(models)
    ]
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.UniformPrior(0.0, 100.0),
        sigma=gf.UniformPrior(0.5, 20.0),
        parametrization="marginalized",
    )
    for model in models:
        population.add_drawn_variable(model.centre)
    graph = gf.FactorGraphModel(*factors, population)
    grid = population.grid.copy()
    graph.compile()
    for model in models:
        model.centre.lower_limit, model.centre.upper_limit = 45.0, 55.0
    graph.compile()
    assert graph.measured_fingerprint == graph_fingerprint(graph)
    assert population.grid[0] > grid[0] and population.grid[-1] < grid[-1]


@pytest.mark.slow
def test_a_refit_of_the_same_graph_reuses_nutpies_model_and_stays_right():
    model, graph = gaussian_graph(seed=3)
    first = gf.NUTS(random_seed=1, progressbar=False).fit(graph.global_prior_model, graph)
    compiled = graph.compile()
    nutpie_model = compiled.cache["nutpie"]
    again = gf.NUTS(random_seed=1, progressbar=False).fit(graph.global_prior_model, graph)
    other = gf.NUTS(random_seed=2, progressbar=False).fit(graph.global_prior_model, graph)
    assert graph.compile() is compiled and compiled.cache["nutpie"] is nutpie_model
    centre = first[0].idata.posterior["centre"].values
    assert np.array_equal(again[0].idata.posterior["centre"].values, centre)  # same seed
    assert not np.array_equal(other[0].idata.posterior["centre"].values, centre)
    assert abs(other[0].idata.posterior["centre"].mean() - centre.mean()) < 3 * centre.std()

    # a changed prior: a new compiled graph, whose values nutpie's model (compiled once for
    # the structure) takes; the truth, 50, is outside the new prior
    model.centre = gf.UniformPrior(55.0, 80.0)
    # a posterior against its prior's bound has an exponential tail in the unconstrained space,
    # where the default target_accept=0.8 gave a divergence in 1 of 20 seeds (a loud
    # ConvergenceWarning, as it should): a smaller step, so that the seed is not a coin toss
    changed = gf.NUTS(random_seed=1, target_accept=0.95, progressbar=False).fit(
        graph.global_prior_model, graph
    )
    assert graph.compile() is not compiled
    assert graph.compile().cache["nutpie"] is nutpie_model
    assert changed[0].idata.posterior["centre"].min() >= 55.0
    assert float(changed[0].idata.posterior["centre"].mean()) < 56.0


def variable_graph(seed, xvalues=None, size=100, centre=None):
    """The cookbook's variable model: shared centre, per-dataset normalization and sigma."""
    centre = gf.UniformPrior(0.0, 100.0) if centre is None else centre
    factors = []
    for k, sigma in enumerate([10.0, 20.0, 30.0]):
        data, noise = gf.ex.simulate_gaussian_dataset(
            45.0 + 5.0 * seed, 50.0, sigma, seed=seed + k, size=size
        )
        model = gf.Model(gf.ex.Gaussian, centre=centre)
        model.sigma = gf.GaussianPrior(10.0, 5.0, lower_limit=0.0)
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise, xvalues)))
    return gf.FactorGraphModel(*factors)


def test_new_data_reuse_the_compiled_model_with_their_own_data():
    """A refit with new data swaps them into the model compiled for the old ones: the same
    ``pm.Model`` and search caches, each compiled graph with its own data."""
    graph = variable_graph(seed=1)
    first = graph.compile()
    old = np.stack([f.analysis.data for f in graph.factors])
    assert first.data_layout == {
        "obs.data": ((0, 1, 2), "data"),
        "obs.noise_map": ((0, 1, 2), "noise_map"),
    }
    assert np.array_equal(first.data["obs.data"], old)
    new = variable_graph(seed=2)
    for factor, other in zip(graph.factors, new.factors, strict=True):
        factor.analysis.data = other.analysis.data
    second = graph.compile()
    assert second is not first
    assert second.model is first.model and second.cache is first.cache
    assert np.array_equal(second.data["obs.data"], np.stack([f.analysis.data for f in new.factors]))
    assert np.array_equal(first.data["obs.data"], old)  # the earlier fit keeps its data
    assert np.array_equal(first.model["obs.data"].get_value(), second.data["obs.data"])
    first.activate()
    assert np.array_equal(first.model["obs.data"].get_value(), old)
    # the same graph built again shares the model too (a notebook cell run twice)
    assert variable_graph(seed=2).compile().model is first.model


def test_a_fit_after_a_data_swap_is_the_fit_of_the_new_data():
    """The MAP of the swapped-in data equals the MAP of a model compiled for them alone, and
    differs from the old data's."""
    graph = variable_graph(seed=1)
    old = gf.MAP(random_seed=0).fit(graph.global_prior_model, graph)
    new = variable_graph(seed=2)
    for factor, other in zip(graph.factors, new.factors, strict=True):
        factor.analysis.data = other.analysis.data
    swapped = gf.MAP(random_seed=0).fit(graph.global_prior_model, graph)
    assert swapped.compiled.model is old.compiled.model
    clear_cache()
    alone = gf.MAP(random_seed=0).fit(new.global_prior_model, new)
    assert alone.compiled.model is not old.compiled.model
    for name in ("centre", "normalization", "sigma"):
        values = swapped.idata.posterior[name].values
        assert np.allclose(values, alone.idata.posterior[name].values, rtol=1e-5), name
    centre = float(swapped.idata.posterior["centre"].squeeze())
    assert (
        abs(centre - 55.0) < 1.0
        and abs(float(old.idata.posterior["centre"].squeeze()) - 50.0) < 1.0
    )
    assert np.array_equal(
        swapped.idata.observed_data["obs"].values, np.stack([f.analysis.data for f in new.factors])
    )


def test_new_prior_values_reuse_the_compiled_model_and_give_the_fit_of_the_new_priors():
    """A refit with other prior values sets them into the model compiled for the old ones
    (its prior arguments are containers too): the same ``pm.Model`` and search caches, and
    the MAP and the start search of a model compiled for the new priors alone."""
    from graphfit.search.start import cached_start_finder

    clear_cache()
    graph = variable_graph(seed=1)
    first = graph.compile()
    assert first.prior_layout == {  # sigma's truncated normal is compiled in
        "centre::lower": ("centre", "lower"),
        "centre::upper": ("centre", "upper"),
        "normalization::lower": ("normalization", "lower"),
        "normalization::upper": ("normalization", "upper"),
    }
    assert np.array_equal(first.data["normalization::upper"], np.full(3, 1e6))
    old = gf.MAP(random_seed=0).fit(graph.global_prior_model, graph)  # centre near 50

    def narrowed():
        graph = variable_graph(seed=1, centre=gf.UniformPrior(52.0, 70.0))
        for factor in graph.factors:
            factor.prior_model.normalization = gf.LogUniformPrior(1.0, 1e3)
        return graph

    narrow = narrowed()
    swapped = gf.MAP(random_seed=0).fit(narrow.global_prior_model, narrow)
    assert swapped.compiled.model is old.compiled.model
    assert swapped.compiled.cache is old.compiled.cache
    assert float(swapped.compiled.data["centre::lower"]) == 52.0
    assert np.array_equal(swapped.compiled.data["normalization::upper"], np.full(3, 1e3))
    start = cached_start_finder(swapped.compiled, jacobian=False).x0
    clear_cache()
    narrow = narrowed()
    alone = gf.MAP(random_seed=0).fit(narrow.global_prior_model, narrow)
    assert alone.compiled.model is not old.compiled.model
    assert np.allclose(cached_start_finder(alone.compiled, jacobian=False).x0, start)
    for name in ("centre", "normalization", "sigma"):
        values = swapped.idata.posterior[name].values
        assert np.allclose(values, alone.idata.posterior[name].values, rtol=1e-5), name
    assert float(swapped.idata.posterior["centre"].squeeze()) == pytest.approx(52.0, abs=0.05)
    assert abs(float(old.idata.posterior["centre"].squeeze()) - 50.0) < 1.0


def test_the_prior_constants_mode_compiles_the_prior_values_in():
    """PyMC's NUTS step compiles the shared model's log density with the prior containers as
    numbers (25% cheaper per evaluation): the same value as read from the containers, no
    container left in the compiled graph, and the values of the moment it was compiled."""
    import pytensor

    from graphfit.backend.variables import prior_constants_mode

    clear_cache()
    compiled = variable_graph(seed=1).compile()
    model = compiled.model
    logp = model.logp(jacobian=True)
    inputs = model.value_vars
    read = pytensor.function(inputs, logp)
    frozen = pytensor.function(
        inputs, logp, mode=prior_constants_mode(model, compiled.prior_layout)
    )
    values = model.initial_point()
    assert float(frozen(**values)) == pytest.approx(float(read(**values)), rel=1e-12)
    used = {v.name for v in frozen.maker.fgraph.inputs if frozen.maker.fgraph.clients.get(v)}
    assert used.isdisjoint(compiled.prior_layout)
    assert {"obs.data", "obs.noise_map"} <= used  # the data stay containers
    model["centre::upper"].set_value(np.asarray(200.0))  # another graph's prior values
    changed = float(read(**values))
    assert changed != pytest.approx(float(frozen(**values)))
    again = pytensor.function(inputs, logp, mode=prior_constants_mode(model, compiled.prior_layout))
    assert float(again(**values)) == pytest.approx(changed, rel=1e-12)
    clear_cache()


@pytest.mark.slow
def test_a_pymc_nuts_refit_with_new_prior_values_samples_the_new_priors():
    """``NUTS(sampler="pymc")`` compiles its step with the graph's prior values as numbers:
    a refit of the same structure with other prior values reuses the model and its start
    search, with this fit's step, and samples the new priors."""
    clear_cache()
    search = dict(draws=1000, tune=500, chains=2, sampler="pymc", random_seed=3)
    graph = variable_graph(seed=1)
    old = gf.NUTS(**search).fit(graph.global_prior_model, graph)
    narrow = variable_graph(seed=1, centre=gf.UniformPrior(52.0, 70.0))
    new = gf.NUTS(**search).fit(narrow.global_prior_model, narrow)
    assert new.compiled.model is old.compiled.model
    centre = new.idata.posterior["centre"].values
    assert centre.min() > 52.0 and centre.max() < 70.0
    assert np.median(centre) < 53.0  # the likelihood pushes it to the new lower limit
    assert abs(float(old.idata.posterior["centre"].median()) - 50.0) < 1.5
    # the start search shares the step's log density: this fit's, with the new prior values
    finder = new.compiled.cache[("start_finder", True, True)]
    shared, _ = finder._logp_grad(finder._start)
    expected = new.compiled.model.compile_logp(jacobian=True)(finder.initial_point)
    assert float(shared) == pytest.approx(float(expected), rel=1e-9)
    clear_cache()


def test_prior_values_compiled_in_are_part_of_the_structure():
    """Priors in an assertion keep their values in the compiled model, and another prior kind
    or PyMC form (a truncation added) is another structure: changing them compiles a new
    model."""
    clear_cache()
    base = compile_joint(variable_graph(seed=1)).model
    asserted = variable_graph(seed=1)
    asserted.factors[0].prior_model.add_assertion(asserted.factors[0].prior_model.centre > 40.0)
    first = compile_joint(asserted)
    assert first.model is not base and "centre::lower" not in first.prior_layout
    moved = variable_graph(seed=1, centre=gf.UniformPrior(10.0, 90.0))
    moved.factors[0].prior_model.add_assertion(moved.factors[0].prior_model.centre > 40.0)
    assert compile_joint(moved).model is not first.model

    logs = [variable_graph(seed=1, centre=gf.LogUniformPrior(1.0, u)) for u in (100.0, 200.0)]
    log_models = [compile_joint(g) for g in logs]
    assert log_models[0].model is not base  # another prior kind
    assert log_models[1].model is log_models[0].model  # its other values
    assert float(log_models[1].data["centre::upper"]) == 200.0

    # a truncated normal's values are compiled in (see COMPILED_IN_FORMS)
    truncated = variable_graph(seed=1, centre=gf.GaussianPrior(50.0, 10.0, lower_limit=0.0))
    model = compile_joint(truncated).model
    again = variable_graph(seed=1, centre=gf.GaussianPrior(40.0, 20.0, lower_limit=5.0))
    assert compile_joint(again).model is not model
    assert compile_joint(
        variable_graph(seed=2, centre=gf.GaussianPrior(40.0, 20.0, 5.0))
    ).model is (compile_joint(again).model)
    plain = [variable_graph(seed=1, centre=gf.GaussianPrior(m, 10.0)) for m in (50.0, 40.0)]
    assert compile_joint(plain[1]).model is compile_joint(plain[0]).model


def test_the_data_containers_have_static_shapes_and_no_values_in_the_log_density():
    """The fast tier's check of what lets PyTensor's disk cache serve new data (the nutpie
    round trip is test_new_data_in_a_new_process_load_the_compiled_log_density_from_disk):
    static container shapes, and a log density that reads the containers when it runs."""
    clear_cache()
    first = compile_joint(variable_graph(seed=1))
    assert first.model["obs.data"].type.shape == (3, 100)
    assert first.model["obs.noise_map"].type.shape == (3, 100)
    first.activate()
    logp = first.model.compile_logp()
    point = first.model.initial_point()
    before = float(logp(point))
    second = compile_joint(variable_graph(seed=2))
    assert second.model is first.model
    second.activate()  # the shared model holds the second graph's data
    assert float(logp(point)) != pytest.approx(before)
    first.activate()
    assert float(logp(point)) == pytest.approx(before, rel=1e-12)
    clear_cache()


@pytest.mark.slow  # compiles nutpie's callbacks (numba) twice; the fast tier checks the shapes above
def test_new_data_in_a_new_process_load_the_compiled_log_density_from_disk():
    """The containers' shapes are static and their values are not in the compiled log density,
    so another graph of the structure (here after the per-process cache is cleared, as in a
    new process) loads nutpie's callback from PyTensor's disk cache, and it computes the new
    data's log density."""
    pytest.importorskip("nutpie")
    from graphfit.search.nutpie_model import compile_nutpie
    from tests.test_nutpie_model import logp_and_grad

    clear_cache()
    first = compile_joint(variable_graph(seed=1))
    assert first.model["obs.data"].type.shape == (3, 100)
    assert first.model["obs.noise_map"].type.shape == (3, 100)
    compile_nutpie(first.model)
    clear_cache()
    second = compile_joint(variable_graph(seed=2))
    assert second.model is not first.model
    compiled = compile_nutpie(second.model)
    assert compiled.compiled_logp_func.cache_hits == 1
    x = np.linspace(-0.5, 0.5, compiled.n_dim)
    names, slices, shapes = compiled.shape_info
    point = {
        name: x[part].reshape(shape)
        for name, part, shape in zip(names, slices, shapes, strict=True)
        if part.stop <= compiled.n_dim
    }
    status, logp, _ = logp_and_grad(compiled, x)
    assert status == 0
    assert logp == pytest.approx(float(second.model.compile_logp()(point)))
    assert logp != pytest.approx(float(first.model.compile_logp()(point)))


def test_another_structure_compiles_its_own_model():
    """Other x values, another data length, a custom likelihood or a marginalised population
    do not share a model: their graph differs beyond the data."""
    clear_cache()
    base = compile_joint(variable_graph(seed=1))
    assert (
        compile_joint(variable_graph(seed=1, xvalues=np.arange(100) * 0.5)).model is not base.model
    )
    assert compile_joint(variable_graph(seed=1, size=80)).model is not base.model
    assert compile_joint(variable_graph(seed=1, size=100)).model is base.model

    class Custom(gf.ex.Analysis):
        def log_likelihood_function(self, instance, xp=np):
            return super().log_likelihood_function(instance, xp)

        def uses_observation(self):
            return False

    def custom(seed):
        analysis = Custom(*gf.ex.simulate_gaussian_dataset(seed=seed))
        return gf.FactorGraphModel(gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), analysis))

    first = compile_joint(custom(0))
    assert first.data == {} and compile_joint(custom(0)).model is not first.model


def test_the_structure_cache_keeps_the_latest_structures():
    clear_cache()
    sizes = range(50, 50 + JOINT_CACHE_SIZE + 1)
    models = [compile_joint(variable_graph(seed=1, size=n)).model for n in sizes]
    assert compile_joint(variable_graph(seed=3, size=sizes[-1])).model is models[-1]
    assert compile_joint(variable_graph(seed=3, size=sizes[0])).model is not models[0]  # dropped


@pytest.mark.slow
def test_a_nuts_refit_with_new_data_reuses_nutpie_and_keeps_earlier_results_right():
    """NUTS on swapped data: nutpie's model is compiled once, the new posterior recovers the
    new data's truth, and the first fit's posterior predictive still uses its own data."""
    graph = variable_graph(seed=1)
    search = gf.NUTS(random_seed=1, progressbar=False, draws=500, tune=500)
    first = search.fit(graph.global_prior_model, graph)
    nutpie_model = graph.compile().cache["nutpie"]
    old = np.stack([f.analysis.data for f in graph.factors])
    new = variable_graph(seed=3)  # centre 60
    for factor, other in zip(graph.factors, new.factors, strict=True):
        factor.analysis.data = other.analysis.data
    second = search.fit(graph.global_prior_model, graph)
    assert second.compiled.model is first.compiled.model
    assert second.compiled.cache["nutpie"] is nutpie_model
    for result, truth in ((first, 50.0), (second, 60.0)):
        centre = result.idata.posterior["centre"]
        assert abs(float(centre.mean()) - truth) < 4 * float(centre.std()) + 0.05
        assert result.diagnostics.ok
    predictive = first.posterior_predictive()
    assert np.array_equal(predictive.observed_data["obs"].values, old)
    mean = predictive.posterior_predictive["obs"].mean(("chain", "draw")).values
    assert (
        np.abs(mean - old).mean()
        < np.abs(mean - np.stack([f.analysis.data for f in new.factors])).mean()
    )


def test_a_model_handed_out_by_to_pymc_is_the_graphs_own():
    """A user may extend ``to_pymc()``'s model: it is not the model other graphs share."""
    import pymc as pm

    first, second = variable_graph(seed=1), variable_graph(seed=2)
    shared = second.compile().model
    assert first.compile().model is shared
    pymc_model = first.to_pymc()
    assert pymc_model is not shared
    assert first.to_pymc() is pymc_model and first.compile().model is pymc_model
    with pymc_model:
        pm.Deterministic("twice", 2.0 * pymc_model["centre"])
    assert "twice" not in second.compile().model.named_vars
    assert variable_graph(seed=3).compile().model is shared

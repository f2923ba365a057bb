"""Tests that kill mutants mutmut found surviving in the spec modules (docs/guides/testing.md).

Each test names the mutation it catches: a changed comparison, default or argument that the
rest of the suite let through although it changes a fit (a prior's density or support, what a
copied model shares with its original).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats

import graphfit as gf


@pytest.mark.parametrize(
    ("prior", "reference"),
    [
        (gf.UniformPrior(2.0, 6.0), stats.uniform(2.0, 4.0)),
        (gf.LogUniformPrior(0.5, 8.0), stats.loguniform(0.5, 8.0)),
    ],
    ids=["UniformPrior", "LogUniformPrior"],
)
def test_the_density_includes_both_limits(prior, reference):
    # `x >= lower` -> `x > lower`, `x <= upper` -> `x < upper`: PyMC's density (and SciPy's)
    # is finite at the limits, where a start value clipped to the support lands
    limits = np.array([prior.lower_limit, prior.upper_limit])
    np.testing.assert_allclose(prior.logpdf(limits), reference.logpdf(limits), rtol=1e-12)
    outside = np.array([prior.lower_limit - 1e-9, prior.upper_limit + 1e-9])
    assert np.all(prior.logpdf(outside) == -np.inf)


def test_log_gaussian_density_at_and_below_zero_is_minus_infinity():
    # `x > 0` -> `x >= 0`: at zero the density would be nan (inf - inf), not -inf
    prior = gf.LogGaussianPrior(mean=0.5, sigma=0.7)
    assert prior.logpdf(0.0) == -np.inf
    assert prior.logpdf(-1.0) == -np.inf
    x = np.array([0.3, 1.0, 4.0])
    reference = stats.lognorm(s=0.7, scale=math.exp(0.5)).logpdf(x)
    np.testing.assert_allclose(prior.logpdf(x), reference, rtol=1e-12)


def test_log_gaussian_support_and_defaults():
    # `return 0.0, math.inf` -> `1.0, ...` moves the population grid and start clipping;
    # `mean=0.0` -> `1.0` and `sigma=1.0` -> `2.0` change the prior a user asked for
    assert gf.LogGaussianPrior().support() == (0.0, math.inf)
    assert gf.LogGaussianPrior().values == {"mean": 0.0, "sigma": 1.0}
    assert gf.LogGaussianPrior(mean=0.5, sigma=0.7, name="amp").name == "amp"


@pytest.mark.parametrize("argument", ["mean", "sigma"])
def test_log_gaussian_argument_errors_name_the_kind_and_argument(argument):
    # check_number(kind, "mean", ...) -> check_number(None, ...) / (kind, None, ...)
    with pytest.raises(gf.PriorError, match=rf"^LogGaussianPrior: {argument} "):
        gf.LogGaussianPrior(**{argument: "wide"})


def test_a_copied_collection_copies_its_models_and_shares_its_priors():
    # Collection.copy: `v.copy() if isinstance(v, AbstractModel)` -> never / always copied
    centre = gf.UniformPrior(0.0, 100.0)
    collection = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian, centre=centre), offset=centre)
    copy = collection.copy()
    assert copy.gaussian is not collection.gaussian
    assert copy.gaussian.centre is centre and copy.offset is centre
    copy.gaussian.sigma = gf.UniformPrior(1.0, 2.0)
    assert collection.gaussian.sigma is not copy.gaussian.sigma
    assert collection.total_free_parameters == 3  # centre (shared), normalization, sigma
    assert copy.total_free_parameters == 3


def test_a_copied_collection_keeps_its_assertions():
    # Collection.copy: the "_assertions" attribute renamed, or read from a wrong key
    collection = gf.Collection(first=gf.ex.Gaussian, second=gf.ex.Gaussian)
    collection.add_assertion(collection.first.centre < collection.second.centre)
    copy = collection.copy()
    assert len(copy.assertions) == 1
    assert repr(copy.assertions[0]) == repr(collection.assertions[0])


class Shifted:
    """A component holding another component (a nested model) and a shift."""

    def __init__(self, profile: object, shift: float = 0.0) -> None:
        self.profile, self.shift = profile, shift


def test_a_copied_model_copies_nested_models_and_keeps_its_assertions():
    # Model.copy: `v.copy() if isinstance(v, AbstractModel)` -> never copied; the
    # "_assertions" attribute renamed or read from a wrong key (the copy fits unconstrained)
    model = gf.Model(Shifted, profile=gf.Model(gf.ex.Gaussian), shift=gf.UniformPrior(0.0, 1.0))
    model.add_assertion(model.profile.sigma > model.shift)
    copy = model.copy()
    assert copy.profile is not model.profile and copy.shift is model.shift
    assert copy.profile.centre is model.profile.centre
    copy.profile.centre = gf.UniformPrior(10.0, 20.0)
    assert model.profile.centre is not copy.profile.centre
    assert [repr(a) for a in copy.assertions] == [repr(a) for a in model.assertions]
    assert len(copy.assertions) == 1


MEAN = gf.UniformPrior(0.0, 100.0)


@pytest.mark.parametrize(
    ("parameters", "error", "message"),
    [
        (
            {"parametrization": "centered"},
            gf.FactorGraphError,
            "HierarchicalFactor: parametrization must be one of ",
        ),
        (
            {"sigma": 5.0, "scale": 1.0},
            gf.FactorGraphError,
            "HierarchicalFactor(GaussianPrior): unknown argument(s) scale; it takes mean, sigma, "
            "lower_limit, upper_limit.",
        ),
        (
            {"sigma": "wide"},
            gf.FactorGraphError,
            "HierarchicalFactor: sigma must be a prior, a relation or a finite number, got 'wide'.",
        ),
        (
            {"sigma": np.inf},
            gf.FactorGraphError,
            "HierarchicalFactor: sigma must be a prior, a relation or a finite number, got inf.",
        ),
        ({"sigma": 0.0}, gf.PriorError, "HierarchicalFactor: sigma = 0.0 must be > 0."),
    ],
    ids=["parametrization", "unknown", "not-a-number", "infinite", "zero-sigma"],
)
def test_a_population_with_bad_arguments_is_refused(parameters, error, message):
    # each check of HierarchicalFactor.__init__: dropped (`unknown = None`, `or` for `and`,
    # `sigma < 0`) or its message replaced by None
    settings = {"mean": MEAN, **parameters}
    with pytest.raises(error, match=f"^{re.escape(message)}"):
        gf.HierarchicalFactor(gf.GaussianPrior, **settings)


def test_a_truncated_population_needs_fixed_limits_and_takes_small_sigmas():
    # `not isinstance(parameters[limit], numbers.Real)` inverted; `sigma <= 0` -> `sigma <= 1`
    with pytest.raises(
        gf.FactorGraphError,
        match=re.escape(
            "HierarchicalFactor(TruncatedGaussianPrior): upper_limit must be a fixed number, "
            "got UniformPrior("
        ),
    ):
        gf.HierarchicalFactor(
            gf.TruncatedGaussianPrior,
            mean=MEAN,
            sigma=5.0,
            lower_limit=0.0,
            upper_limit=gf.UniformPrior(90.0, 110.0),
        )
    population = gf.HierarchicalFactor(
        gf.TruncatedGaussianPrior, mean=MEAN, sigma=0.5, lower_limit=0.0, upper_limit=100.0
    )
    assert population.parameters["sigma"] == 0.5
    assert population.data_strength_measured is False and population.grid is None


def test_hyperpriors_of_a_relation_are_numbered():
    # hyper_priors: `argument if value is prior else f"{argument}_{k}"` -> always `argument`
    slope, offset = gf.UniformPrior(0.0, 1.0), gf.UniformPrior(0.0, 10.0)
    population = gf.HierarchicalFactor(gf.GaussianPrior, mean=MEAN, sigma=slope * 2.0 + offset)
    assert population.hyper_priors() == [("mean", MEAN), ("sigma_1", slope), ("sigma_2", offset)]


def test_an_assertions_numpy_potential_is_zero_where_it_holds():
    # Assertion.log_potential: np.where(holds, 0.0, -np.inf) with an argument replaced
    low, high = gf.UniformPrior(0.0, 10.0), gf.UniformPrior(0.0, 10.0)
    values = {low: np.array([1.0, 3.0, 2.0]), high: np.array([2.0, 2.0, 2.0])}
    potential = (low < high).log_potential(values, np)
    np.testing.assert_array_equal(potential, [0.0, -np.inf, -np.inf])


def test_gaussian_defaults_names_and_limits():
    # GaussianPrior: default mean/sigma changed, name dropped (also by TruncatedGaussianPrior),
    # the no-room check `lower == inf or upper == -inf` -> `and`
    assert gf.GaussianPrior().values == {
        "mean": 0.0,
        "sigma": 1.0,
        "lower_limit": -np.inf,
        "upper_limit": np.inf,
    }
    assert gf.GaussianPrior(name="a").name == "a"
    assert gf.TruncatedGaussianPrior(0.0, 1.0, -1.0, 1.0, name="b").name == "b"
    message = "GaussianPrior: lower_limit = inf and upper_limit = inf leave no room; "
    with pytest.raises(gf.PriorError, match=f"^{re.escape(message)}"):
        gf.GaussianPrior(0.0, 1.0, lower_limit=np.inf)
    for argument in ("sigma", "upper_limit"):
        with pytest.raises(gf.PriorError, match=rf"^GaussianPrior: {argument} "):
            gf.GaussianPrior(**{argument: "wide"})


def test_a_truncated_gaussian_density_includes_its_limits():
    # GaussianPrior.logpdf: `x >= lower` -> `x > lower`, `x <= upper` -> `x < upper`
    prior = gf.GaussianPrior(1.0, 2.0, lower_limit=0.0, upper_limit=3.0)
    reference = stats.truncnorm(-0.5, 1.0, loc=1.0, scale=2.0)
    limits = np.array([0.0, 3.0])
    np.testing.assert_allclose(prior.logpdf(limits), reference.logpdf(limits), rtol=1e-12)


def test_a_truncated_gaussian_quantile_far_in_the_tail_stays_inside_its_limits():
    # GaussianPrior.ppf: the exact branch for a truncation of tiny mass (`tiny = ...`,
    # `np.any(tiny)`, `np.where(tiny, exact, z)`) and the clip to [a, b]
    q = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    ppf = gf.GaussianPrior.ppf(q, mean=0.0, sigma=1.0, lower_limit=40.0, upper_limit=41.0)
    assert np.all(np.isfinite(ppf)) and np.all((ppf >= 40.0) & (ppf <= 41.0))
    assert np.all(np.diff(ppf) > 0.0)
    below = gf.GaussianPrior.ppf(q, mean=0.0, sigma=1.0, lower_limit=-41.0, upper_limit=-40.0)
    np.testing.assert_allclose(below, -ppf[::-1], rtol=1e-9)
    expected = stats.truncnorm(2.0, 3.0).ppf(q)
    ppf = gf.GaussianPrior.ppf(q, mean=0.0, sigma=1.0, lower_limit=2.0, upper_limit=3.0)
    np.testing.assert_allclose(ppf, expected, rtol=1e-9)


def test_priors_batch_only_with_the_same_kind_and_left_out_arguments():
    # Prior.batch_key: `left_out = None`, `v is None` -> `v is not None`, type(None)
    key = gf.GaussianPrior(0.0, 1.0).batch_key()
    assert key == gf.GaussianPrior(5.0, 2.0).batch_key()
    assert key != gf.GaussianPrior(0.0, 1.0, lower_limit=0.0).batch_key()
    assert (
        gf.GaussianPrior(0.0, 1.0, lower_limit=0.0).batch_key()
        != gf.GaussianPrior(0.0, 1.0, upper_limit=1.0).batch_key()
    )
    truncated = gf.TruncatedGaussianPrior(0.0, 1.0, -1.0, 1.0)
    assert truncated.batch_key()[0] is gf.TruncatedGaussianPrior
    assert truncated.batch_key() != gf.GaussianPrior(0.0, 1.0, -1.0, 1.0).batch_key()


def test_an_assertion_between_relations_holds_with_numpy():
    # Assertion._values / holds: the namespace passed on to the relations
    low, high = gf.UniformPrior(0.0, 10.0), gf.UniformPrior(0.0, 10.0)
    values = {low: np.array([1.0, 3.0]), high: np.array([2.0, 2.0])}
    assertion = 2.0 * low < gf.math.exp(high) - 5.0  # exp(2) - 5 = 2.39
    np.testing.assert_array_equal(assertion.holds(values, np), [True, False])
    np.testing.assert_array_equal(assertion.log_potential(values, np), [0.0, -np.inf])


def test_a_collection_instance_survives_pickling():
    # CollectionInstance.__getattr__: `self.__dict__.get("_items", {})` -> None breaks the
    # lookups pickle makes before the instance's state is set
    import pickle

    collection = gf.Collection(gaussian=gf.ex.Gaussian)
    instance = collection.instance_from_prior_medians()
    copy = pickle.loads(pickle.dumps(instance))
    assert copy.gaussian.centre == instance.gaussian.centre


def test_a_collection_names_the_position_of_a_bad_component():
    # Collection.__init__: _check_value("Collection", str(index), ...) arguments replaced
    with pytest.raises(gf.ModelAttributeError, match=r"^Collection\.1: got "):
        gf.Collection(gf.ex.Gaussian, "not a component")


def test_an_assertions_pytensor_potential_is_zero_where_it_holds():
    # Assertion.log_potential with PyTensor: xp.switch(holds, 0.0, -inf), 0.0 -> 1.0
    import pytensor.tensor as pt

    from graphfit.backend.tensor_namespace import pytensor_namespace

    low, high = gf.UniformPrior(0.0, 10.0), gf.UniformPrior(0.0, 10.0)
    values = {low: pt.as_tensor(np.array([1.0, 3.0])), high: pt.as_tensor(np.array([2.0, 2.0]))}
    potential = (low < high).log_potential(values, pytensor_namespace())
    np.testing.assert_array_equal(potential.eval(), [0.0, -np.inf])


def test_a_relation_takes_a_zero_dimensional_array_as_its_number():
    # as_operand: `value.ndim == 0` -> `!= 0` / `== 1`, `value = value.item()` -> None; a
    # 0-d array (np.asarray(2.0), a reduction with keepdims) was refused or lost
    prior = gf.UniformPrior(0.0, 1.0)
    relation = prior * np.asarray(2.0)
    assert relation.operands == (prior, 2.0)
    assert relation.evaluate({prior: 0.25}) == 0.5


class _Scale(gf.Prior):
    """A prior kind with no limits and no support() of its own: Prior.support's defaults."""

    __slots__ = ("scale",)
    arguments = ("scale",)

    def __init__(self, scale: float = 1.0, *, name: str | None = None) -> None:
        self.scale = float(scale)
        super().__init__(name=name)

    def pymc_form(self) -> gf.PyMCForm:
        return gf.PyMCForm("Normal", {"mu": 0.0, "sigma": self.scale})


def test_a_prior_kind_without_limits_has_the_whole_real_line_as_support():
    # Prior.support: getattr(self, "lower_limit", -math.inf) with the default dropped, None or
    # +inf; likewise "upper_limit" (start values are clipped to the support, and a population's
    # grid spans it)
    assert _Scale(2.0).support() == (-math.inf, math.inf)
    assert gf.UniformPrior(-1.0, 3.0).support() == (-1.0, 3.0)


def test_log_uniform_defaults():
    # LogUniformPrior.__init__: lower_limit=1e-6 -> 1.000001, upper_limit=1e6 -> 1000001.0
    prior = gf.LogUniformPrior()
    assert (prior.lower_limit, prior.upper_limit) == (1e-6, 1e6)


def test_an_assertion_on_a_log_uniform_prior_cuts_its_interval_in_log_x():
    # LogUniformPrior.pymc_form: log_interval=True -> None / False / left out; the cut variable
    # is then sampled uniformly in x, not in log x: the middle of its unconstrained space is
    # the geometric mean of (4, 100), 20, not 52
    import pytensor.tensor as pt

    model = gf.Model(gf.ex.Gaussian)
    model.sigma = gf.LogUniformPrior(1.0, 100.0)
    model.add_assertion(model.sigma > 4.0)
    analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    pymc_model = gf.FactorGraphModel(gf.AnalysisFactor(model, analysis)).to_pymc()
    variable = pymc_model["sigma"]
    transform = pymc_model.rvs_to_transforms[variable]
    middle = transform.backward(pt.as_tensor(0.0), *variable.owner.inputs).eval()
    assert float(middle) == pytest.approx(20.0, rel=1e-12)


def _gaussian_factor(model: gf.Model, seed: int) -> gf.AnalysisFactor:
    data, noise = gf.ex.simulate_gaussian_dataset(seed=seed)
    return gf.AnalysisFactor(model, gf.ex.Analysis(data, noise))


def test_a_graph_is_fitted_with_its_own_global_prior_model_only():
    # as_graph: `model is not None and not (...)` -> `model is None and ...` (any model
    # accepted) and `isinstance(...) and model.graph is analysis` -> `or` (another graph's
    # global prior model accepted)
    graph = gf.FactorGraphModel(*[_gaussian_factor(gf.Model(gf.ex.Gaussian), s) for s in (0, 1)])
    other = gf.FactorGraphModel(*[_gaussian_factor(gf.Model(gf.ex.Gaussian), s) for s in (0, 1)])
    message = r"^fit: with a FactorGraphModel as analysis, model must be that graph's"
    for model in (gf.Model(gf.ex.Gaussian), other.global_prior_model):
        with pytest.raises(gf.SearchError, match=message):
            gf.MAP().fit(model=model, analysis=graph)


def test_a_population_whose_drawn_variables_are_asserted_on_is_not_marginalised():
    # HierarchicalFactor.measure_grid: call("measure_grid", self, factors, problem) with the
    # problem the graph found dropped: a grid was measured although the structure rules
    # marginalisation out
    population = gf.HierarchicalFactor(
        gf.GaussianPrior, mean=gf.UniformPrior(0.0, 100.0), sigma=gf.UniformPrior(0.0, 50.0)
    )
    factors = []
    for seed in (0, 1, 2):
        model = gf.Model(gf.ex.Gaussian)
        population.add_drawn_variable(model.centre)
        factors.append(_gaussian_factor(model, seed))
    factors[0].prior_model.add_assertion(factors[0].prior_model.centre > 10.0)
    gf.FactorGraphModel(*factors, population)
    assert population.grid is None
    assert population.grid_problem == "an assertion uses its drawn variables"
    assert not population.marginalized


def test_a_classs_named_default_prior_keeps_its_name_in_each_new_model():
    # Prior.new: `name=self.name` -> `name=None` / left out: a default prior's name (its label
    # in every table) was lost in the models built from the class
    class Named:
        default_priors = {"centre": gf.UniformPrior(0.0, 1.0, name="position")}

        def __init__(self, centre=0.5):
            self.centre = centre

    first, second = gf.Model(Named), gf.Model(Named)
    assert first.centre.name == second.centre.name == "position"
    assert first.centre is not second.centre  # a new parameter in each model


class _BlackBoxGaussian(gf.Analysis):
    """The example Gaussian's likelihood as numpy code behind ``black_box = True``."""

    black_box = True

    def __init__(self, seed: int) -> None:
        self.data, self.noise_map = gf.ex.simulate_gaussian_dataset(seed=seed)
        self.x = np.arange(self.data.size, dtype=float)

    def log_likelihood_function(self, instance):
        model = instance.model_data_from(self.x)
        return float(-0.5 * np.sum(((self.data - model) / self.noise_map) ** 2))


def _factors(models: list[gf.Model]) -> list[gf.AnalysisFactor]:
    """One simulated Gaussian dataset per model, seeded by its position."""
    return [_gaussian_factor(model, seed) for seed, model in enumerate(models)]


def _centres_population(**settings) -> gf.HierarchicalFactor:
    return gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.UniformPrior(0.0, 100.0),
        sigma=gf.UniformPrior(0.0, 50.0),
        **settings,
    )


def _shared_drawn_variable(**settings) -> tuple[list, gf.HierarchicalFactor]:
    population = _centres_population(**settings)
    models = [gf.Model(gf.ex.Gaussian) for _ in range(3)]
    models[1].centre = models[0].centre  # one drawn variable in two datasets' models
    population.add_drawn_variable(models[0].centre)
    population.add_drawn_variable(models[2].centre)
    return _factors(models), population


def _two_drawn_in_one_model(**settings) -> tuple[list, gf.HierarchicalFactor]:
    population = _centres_population(**settings)
    models = [gf.Model(gf.ex.Gaussian) for _ in range(2)]
    population.add_drawn_variable(models[0].centre)
    population.add_drawn_variable(models[0].normalization)
    population.add_drawn_variable(models[1].centre)
    return _factors(models), population


def _black_box_dataset(**settings) -> tuple[list, gf.HierarchicalFactor]:
    population = _centres_population(**settings)
    models = [gf.Model(gf.ex.Gaussian) for _ in range(3)]
    for model in models:
        population.add_drawn_variable(model.centre)
    factors = _factors(models[:2])
    factors.append(gf.AnalysisFactor(models[2], _BlackBoxGaussian(seed=2)))
    return factors, population


STRUCTURES = {
    "a drawn variable shared by two datasets": (
        _shared_drawn_variable,
        r"drawn variable UniformPrior\(lower_limit=0\.0, upper_limit=100\.0\) is in 2 "
        r"datasets' models",
    ),
    "two drawn variables in one dataset's model": (
        _two_drawn_in_one_model,
        r"a dataset's model holds two of its drawn variables",
    ),
    "a black-box dataset": (_black_box_dataset, r"a dataset has a black-box likelihood"),
}


@pytest.mark.parametrize("structure", list(STRUCTURES), ids=list(STRUCTURES))
def test_a_structure_that_rules_out_marginalisation_is_named(structure):
    # FactorGraphModel._measure_grids: each rule's problem set to None, `break` turned into
    # `return` (no population measured), the rules of a dataset's model skipped (`and False`,
    # `is not None`), `> 1` turned into `> 2`: a population was marginalised over the one
    # dataset holding its drawn variable, or an explicit "marginalized" was not refused
    build, problem = STRUCTURES[structure]
    factors, population = build()
    gf.FactorGraphModel(*factors, population)
    assert population.grid is None and not population.marginalized
    assert re.fullmatch(problem, population.grid_problem)
    factors, population = build(parametrization="marginalized")
    with pytest.raises(
        gf.FactorGraphError,
        match=rf"^FactorGraphModel: hierarchical factor 'hierarchical_0' cannot be "
        rf"marginalised: {problem}\. Use parametrization='centred' or 'non_centred' "
        r"\(or 'auto'\)\.$",
    ):
        gf.FactorGraphModel(*factors, population)


def test_a_dataset_holding_a_marginalised_variable_of_another_population_is_named():
    # _measure_grids: `taken |= drawn` and the "also holds" rule: two populations over the
    # same datasets (centres and normalisations) were both marginalised, each grid ignoring
    # the other's parameter in the same likelihood
    centres, normalizations = _centres_population(), _centres_population()
    models = [gf.Model(gf.ex.Gaussian) for _ in range(3)]
    for model in models:
        centres.add_drawn_variable(model.centre)
        normalizations.add_drawn_variable(model.normalization)
    factors = _factors(models)
    gf.FactorGraphModel(*factors, centres, normalizations)
    assert centres.marginalized and centres.grid is not None
    assert normalizations.grid is None and not normalizations.marginalized
    assert normalizations.grid_problem == (
        "a dataset also holds a marginalised drawn variable of another population"
    )


def test_a_population_whose_drawn_variable_is_a_hyperparameter_is_not_marginalised():
    # _measure_grids: the hyperparameter rule (`problem is None` inverted, `id(None)`, the
    # problem set to None): the centres were marginalised although the first centre is also
    # the mean of the widths' population, which then had no variable to read
    centres = _centres_population()
    models = [gf.Model(gf.ex.Gaussian) for _ in range(3)]
    widths = gf.HierarchicalFactor(
        gf.GaussianPrior, mean=models[0].centre, sigma=gf.UniformPrior(0.0, 50.0)
    )
    for model in models:
        centres.add_drawn_variable(model.centre)
        widths.add_drawn_variable(model.sigma)
    factors = _factors(models)
    gf.FactorGraphModel(*factors, centres, widths)
    assert centres.grid is None and not centres.marginalized
    assert centres.grid_problem == "its drawn variables are hyperparameters of a population"


def test_a_marginalised_variable_rules_out_a_later_population_after_another_one():
    # _measure_grids: `taken |= drawn` -> `taken = drawn`: the centres of datasets 3-5 replaced
    # those of datasets 0-2 as taken, so the normalisations of datasets 0-2 were marginalised
    # too, each grid ignoring the other marginalised parameter in the same likelihood
    first, second, normalizations = (_centres_population() for _ in range(3))
    models = [gf.Model(gf.ex.Gaussian) for _ in range(6)]
    for model in models[:3]:
        first.add_drawn_variable(model.centre)
        normalizations.add_drawn_variable(model.normalization)
    for model in models[3:]:
        second.add_drawn_variable(model.centre)
    factors = _factors(models)
    gf.FactorGraphModel(*factors, first, second, normalizations)
    assert first.marginalized and second.marginalized
    assert not normalizations.marginalized
    assert normalizations.grid_problem == (
        "a dataset also holds a marginalised drawn variable of another population"
    )


def test_an_assertion_on_other_parameters_leaves_a_population_marginalised():
    # _measure_grids: `problem is None and any(...)` -> `or`: any assertion in the graph ruled
    # out marginalisation, also one on parameters the population does not draw
    population = _centres_population()
    models = [gf.Model(gf.ex.Gaussian) for _ in range(3)]
    for model in models:
        population.add_drawn_variable(model.centre)
    models[0].add_assertion(models[0].sigma > 1.0)
    factors = _factors(models)
    gf.FactorGraphModel(*factors, population)
    assert population.marginalized and population.grid is not None
    assert population.grid_problem is None


class _NoDefaults:
    def __init__(self, a):
        self.a = a


class _TwoArguments:
    def __init__(self, a, b):
        self.a, self.b = a, b


class _TwoArgumentsAndAThird:
    default_priors = {"c": gf.UniformPrior(0.0, 1.0)}

    def __init__(self, a, b):
        self.a, self.b = a, b


class _NoArguments:
    default_priors = {"b": gf.UniformPrior(0.0, 1.0)}

    def __init__(self):
        pass


def _graph_errors() -> dict[str, tuple]:
    """Each graph-structure mistake: what builds it, and its whole message."""
    models = [gf.Model(gf.ex.Gaussian) for _ in range(2)]
    factors = _factors(models)

    def population(*drawn, name=None):
        factor = gf.HierarchicalFactor(gf.GaussianPrior, mean=1.0, sigma=1.0, name=name)
        for prior in drawn:
            factor.add_drawn_variable(prior)
        return factor

    centre, other = models[0].centre, gf.UniformPrior(0.0, 1.0)
    return {
        "no factors": (
            lambda: gf.FactorGraphModel(),
            "FactorGraphModel needs at least one AnalysisFactor; got none. Pass them as "
            "gf.FactorGraphModel(*analysis_factor_list).",
        ),
        "no drawn variables": (
            lambda: gf.FactorGraphModel(*factors, population()),
            "FactorGraphModel: hierarchical factor 'hierarchical_0' has no drawn variables; "
            "call add_drawn_variable(model.parameter) for each dataset's parameter.",
        ),
        "drawn by two populations": (
            lambda: gf.FactorGraphModel(*factors, population(centre), population(centre)),
            f"FactorGraphModel: {centre!r} is a drawn variable of both 'hierarchical_0' and "
            "'hierarchical_1'; a parameter can be drawn from one population only.",
        ),
        "drawn but in no model": (
            lambda: gf.FactorGraphModel(*factors, population(other)),
            f"FactorGraphModel: drawn variable {other!r} of 'hierarchical_0' is not a "
            "parameter of any factor's model; add the prior object the model uses (e.g. "
            "model.centre).",
        ),
        "two missing parameters": (
            lambda: gf.AnalysisFactor(gf.Model(_TwoArguments), factors[0].analysis),
            "AnalysisFactor: 'a' (parameter of _TwoArguments), 'b' (parameter of _TwoArguments) "
            "has neither a prior nor a value. Assign one, e.g. model.a = "
            "gf.UniformPrior(lower_limit=0.0, upper_limit=1.0) or model.a = 1.0, or declare it "
            "in the class's default_priors.",
        ),
        "a default prior of no argument": (
            lambda: gf.Model(_NoArguments),
            "_NoArguments.default_priors names 'b', which is not an argument of "
            "_NoArguments.__init__ (arguments: none).",
        ),
        "a default prior of a third argument": (
            lambda: gf.Model(_TwoArgumentsAndAThird),
            "_TwoArgumentsAndAThird.default_priors names 'c', which is not an argument of "
            "_TwoArgumentsAndAThird.__init__ (arguments: a, b).",
        ),
        "limits the wrong way round": (
            lambda: gf.UniformPrior(2.0, 1.0),
            "UniformPrior: lower_limit = 2.0 must be smaller than upper_limit = 1.0; swap them "
            "or widen the range.",
        ),
        "a prior argument of one dimension": (
            lambda: gf.UniformPrior(np.array([0.0]), 2.0),
            "UniformPrior: lower_limit must be a real number, got array([0.]) of type ndarray.",
        ),
        "a missing parameter, no name": (
            lambda: gf.AnalysisFactor(gf.Model(_NoDefaults), factors[0].analysis),
            "AnalysisFactor: 'a' (parameter of _NoDefaults) has neither a prior nor a value. "
            "Assign one, e.g. model.a = gf.UniformPrior(lower_limit=0.0, upper_limit=1.0) or "
            "model.a = 1.0, or declare it in the class's default_priors.",
        ),
    }


@pytest.mark.parametrize("mistake", list(_graph_errors()), ids=list(_graph_errors()))
def test_each_graph_structure_mistake_reads_in_full(mistake):
    # FactorGraphModel.__init__, _check_hierarchical, check_complete's list, Model.__init__'s
    # "(arguments: none)", check_limits: each message's words (mutmut's "XX...XX" and case
    # changes); AnalysisFactor's label of an unnamed factor; check_number's `ndim == 0` turned
    # into `!= 0` (a one-element array taken as its number)
    build, message = _graph_errors()[mistake]
    with pytest.raises(gf.GraphfitError) as raised:
        build()
    assert str(raised.value) == message


def test_prior_arguments_take_zero_dimensional_arrays_and_uniform_defaults():
    # check_number: `value.ndim == 0` -> `!= 0` or `== 1`, or `value.item()` -> None, refused
    # a 0-d array (what NumPy reductions give); UniformPrior's default limits (0, 1)
    prior = gf.UniformPrior(np.array(0.0), np.array(2.0))
    assert (prior.lower_limit, prior.upper_limit) == (0.0, 2.0)
    assert type(prior.lower_limit) is float
    default = gf.UniformPrior()
    assert (default.lower_limit, default.upper_limit) == (0.0, 1.0)

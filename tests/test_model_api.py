"""The model API PyAutoFit users call: bare classes and lists as components, vectors and unit
vectors, paths and names, the JSON round trip, ``gf.Array`` and the one-sided truncated
Gaussian, written in the style of PyAutoFit's model cookbook (not copied from it)."""

import json
import math
import re

import numpy as np
import pytest
from scipy import stats

import graphfit as gf
from graphfit.plan.fingerprint import graph_fingerprint, model_description


class Polynomial:
    """A background ``c0 + c1 t + c2 t**2`` with ``t = x / 100``, its coefficients an array."""

    parameter_labels = {"coefficients": "c"}

    def __init__(self, coefficients):
        self.coefficients = coefficients

    def model_data_from(self, xvalues, xp=np):
        t = xp.asarray(xvalues) / 100.0
        c = self.coefficients
        return c[0] + c[1] * t + c[2] * t**2


class Line:
    parameter_labels = {"slope": "m"}

    def __init__(self, slope, intercept):
        self.slope = slope
        self.intercept = intercept


def every_kind_model() -> gf.Collection:
    """A nested model with every prior kind, fixed values, a shared prior, a relation of a
    named prior, an assertion and an array."""
    model = gf.Collection(
        gaussian=gf.ex.Gaussian,
        lines=[Line, gf.Model(Line, intercept=2)],
        background=gf.Model(Polynomial, coefficients=gf.Array((3,), gf.GaussianPrior(0.0, 1.0))),
    )
    model.gaussian.centre = gf.UniformPrior(0.0, 100.0)
    model.gaussian.normalization = gf.LogUniformPrior(1e-2, 1e2)
    model.gaussian.sigma = gf.TruncatedGaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)
    model.lines[0].slope = gf.LogGaussianPrior(0.0, 1.0)
    model.lines[0].intercept = gf.GaussianPrior(0.0, 3.0, upper_limit=5.0)
    model.lines[1].slope = model.lines[0].slope  # shared
    scale = gf.UniformPrior(1.0, 2.0, name="scale")
    model.background.coefficients[2] = scale * 2.0 - model.gaussian.centre / 100.0
    model.background.coefficients[1] = np.float64(0.5)
    model.add_assertion(model.gaussian.sigma < model.gaussian.centre)
    return model


# -- bare classes and lists ----------------------------------------------------------------------
def test_classes_lists_and_dicts_become_models_and_collections():
    model = gf.Collection(gaussian=gf.ex.Gaussian)
    assert isinstance(model.gaussian, gf.Model) and model.gaussian.cls is gf.ex.Gaussian
    assert model.prior_count == 3

    listed = gf.Collection(gaussians=[gf.Model(gf.ex.Gaussian), gf.Model(gf.ex.Gaussian)])
    assert isinstance(listed.gaussians, gf.Collection) and len(listed.gaussians) == 2
    classes = gf.Collection(gaussians=[gf.ex.Gaussian, gf.ex.Exponential])
    assert [m.cls for m in classes.gaussians._values.values()] == [
        gf.ex.Gaussian,
        gf.ex.Exponential,
    ]
    positional = gf.Collection([gf.ex.Gaussian, gf.ex.Gaussian])
    assert [path[0] for path in positional.paths] == ["0"] * 3 + ["1"] * 3
    named = gf.Collection({"a": gf.ex.Gaussian}, b=gf.ex.Exponential)
    assert [path[0] for path in named.paths] == ["a"] * 3 + ["b"] * 3

    instance = classes.instance_from_vector([10.0, 1.0, 2.0, 20.0, 3.0, 0.5])
    assert isinstance(instance.gaussians[0], gf.ex.Gaussian)
    assert isinstance(instance.gaussians[1], gf.ex.Exponential)
    assert instance.gaussians[1].rate == 0.5


def test_a_model_attribute_given_a_class_or_a_list():
    class Pair:
        def __init__(self, first, second):
            self.first, self.second = first, second

    model = gf.Model(Pair, first=gf.ex.Gaussian)
    model.second = [gf.ex.Gaussian, gf.Model(gf.ex.Gaussian, sigma=1.0)]
    assert isinstance(model.first, gf.Model) and isinstance(model.second, gf.Collection)
    assert model.prior_count == 3 + 3 + 2
    instance = model.instance_from_prior_medians()
    assert isinstance(instance.first, gf.ex.Gaussian) and instance.second[1].sigma == 1.0
    with pytest.raises(gf.ModelAttributeError, match="a component class, a list or dict"):
        model.first = "Gaussian"


# -- vectors -------------------------------------------------------------------------------------
def test_instance_from_vector_sets_the_users_class_in_path_order():
    model = gf.Collection(gaussian=gf.ex.Gaussian, line=Line)
    model.line.intercept = model.gaussian.sigma * 2.0  # a relation: not a free parameter
    model.line.slope = gf.UniformPrior(-1.0, 1.0)
    assert model.paths == [
        ("gaussian", "centre"),
        ("gaussian", "normalization"),
        ("gaussian", "sigma"),
        ("line", "slope"),
    ]
    instance = model.instance_from_vector([30.0, 2.0, 3.0, 0.25])
    assert isinstance(instance.gaussian, gf.ex.Gaussian) and isinstance(instance.line, Line)
    assert (instance.gaussian.centre, instance.gaussian.normalization) == (30.0, 2.0)
    assert (instance.gaussian.sigma, instance.line.slope, instance.line.intercept) == (
        3.0,
        0.25,
        6.0,
    )


def test_paths_are_the_order_of_model_info():
    model = every_kind_model()
    numbered = re.findall(r"^\s*(\S+)\s+\w+Prior \[(\d+)\]", model.info, flags=re.M)
    order = [int(k) for _, k in numbered]
    assert sorted(set(order)) == list(range(model.prior_count))
    first_seen = list(dict.fromkeys(order))
    assert first_seen == list(range(model.prior_count))  # info numbers in order of appearance
    assert [path[-1] for path in model.paths] == [
        next(name for name, k in numbered if int(k) == i) for i in range(model.prior_count)
    ]
    assert model.paths == [
        ("gaussian", "centre"),
        ("gaussian", "normalization"),
        ("gaussian", "sigma"),
        ("lines", "0", "slope"),
        ("lines", "0", "intercept"),
        ("background", "coefficients", "prior_0"),
        ("background", "coefficients", "prior_2", "scale"),
    ]
    assert len(model.paths) == model.prior_count == len(model.priors())
    assert model.all_paths[3] == (("lines", "0", "slope"), ("lines", "1", "slope"))
    assert model.parameter_names == [
        "centre",
        "normalization",
        "sigma",
        "slope",
        "intercept",
        "prior_0",
        "scale",
    ]
    assert model.parameter_labels == [
        "centre",
        "normalization",
        "sigma",
        "m",
        "intercept",
        "prior_0",
        "scale",
    ]


def test_unit_vector_maps_through_each_priors_ppf():
    model = every_kind_model()
    unit = [0.4, 0.3, 0.5, 0.7, 0.9, 0.2, 0.6]
    priors = model.priors()
    vector = model.vector_from_unit_vector(unit)
    expected = [float(type(p).ppf(q, **p.values)) for p, q in zip(priors, unit, strict=True)]
    assert vector == pytest.approx(expected, rel=1e-12)
    # the same numbers from SciPy's distributions, written out per kind
    assert vector[0] == pytest.approx(40.0)  # U(0, 100)
    assert vector[1] == pytest.approx(10 ** (-2 + 4 * 0.3))  # log-uniform on [1e-2, 1e2]
    a = (0.0 - 10.0) / 5.0
    assert vector[2] == pytest.approx(stats.truncnorm.ppf(0.5, a, np.inf, loc=10.0, scale=5.0))
    assert vector[3] == pytest.approx(math.exp(stats.norm.ppf(0.7)))  # log-Gaussian(0, 1)
    b = (5.0 - 0.0) / 3.0
    assert vector[4] == pytest.approx(stats.truncnorm.ppf(0.9, -np.inf, b, scale=3.0))
    assert vector[5] == pytest.approx(stats.norm.ppf(0.2))
    instance = model.instance_from_unit_vector(unit)
    assert instance.gaussian.sigma == pytest.approx(vector[2])
    assert instance.lines[1].slope == instance.lines[0].slope == pytest.approx(vector[3])
    assert instance.lines[1].intercept == 2
    np.testing.assert_allclose(
        instance.background.coefficients,
        [vector[5], 0.5, vector[6] * 2.0 - vector[0] / 100.0],
    )


def test_prior_medians_and_random_instances():
    model = gf.Model(gf.ex.Gaussian)
    model.sigma = gf.TruncatedGaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)
    medians = model.instance_from_prior_medians()
    assert (medians.centre, medians.normalization) == (50.0, pytest.approx(1.0))
    assert medians.sigma == pytest.approx(model.sigma.median())
    assert medians.sigma == pytest.approx(model.instance_from_unit_vector([0.5] * 3).sigma)

    first = model.random_instance(seed=3)
    assert model.random_instance(seed=3).centre == first.centre
    assert model.random_instance(seed=4).centre != first.centre
    draws = [model.random_instance(seed=s) for s in range(50)]
    assert all(0.0 <= d.centre <= 100.0 and d.sigma >= 0.0 for d in draws)

    model.add_assertion(model.centre > 90.0)
    assert all(model.random_instance(seed=s).centre > 90.0 for s in range(20))
    model.add_assertion(model.centre < 10.0)
    with pytest.raises(
        gf.ConstraintError,
        match=re.escape(
            "random_instance: none of 1000 draws from the priors satisfies the model's "
            "assertions (centre > 90.0; centre < 10.0); check that they can hold within the "
            "priors, or pass ignore_assertions=True."
        ),
    ):
        model.random_instance(seed=0)
    assert model.random_instance(seed=0, ignore_assertions=True).centre >= 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda m: m.instance_from_vector([1.0, 2.0]),
            "instance_from_vector: vector has 2 values, but the model has 3 free parameters "
            "(in order: centre, normalization, sigma); give one value per path in model.paths.",
        ),
        (
            lambda m: m.instance_from_vector([1.0, float("nan"), 2.0]),
            "instance_from_vector: vector[1] = nan (normalization) is not finite; give finite "
            "numbers.",
        ),
        (
            lambda m: m.instance_from_vector([[1.0, 2.0, 3.0]]),
            "instance_from_vector: vector must be one-dimensional, got an array of shape (1, 3); "
            "give one number per path in model.paths (centre, normalization, sigma).",
        ),
        (
            lambda m: m.instance_from_vector("abc"),
            "instance_from_vector: vector must be a sequence of numbers, got 'abc' of type str; "
            "give one number per path in model.paths (centre, normalization, sigma).",
        ),
        (
            lambda m: m.instance_from_unit_vector([0.5, 1.5, 0.5]),
            "instance_from_unit_vector: unit_vector[1] = 1.5 (normalization) is outside the "
            "unit interval; each value must be in [0, 1].",
        ),
        (
            lambda m: m.instance_from_unit_vector([0.5, 0.5, 0.0]),
            "instance_from_unit_vector: unit_vector[2] = 0.0 maps sigma (GaussianPrior(mean=10.0,"
            " sigma=5.0)) to -inf; give a value strictly between 0 and 1.",
        ),
        (
            lambda m: m.instance_from_unit_vector([0.5, math.inf, 0.5]),
            "instance_from_unit_vector: unit_vector[1] = inf (normalization) is not finite; "
            "give finite numbers.",
        ),
    ],
)
def test_bad_vectors_name_the_argument_value_and_what_is_allowed(call, message):
    model = gf.Model(gf.ex.Gaussian, sigma=gf.GaussianPrior(10.0, 5.0))
    with pytest.raises(gf.ModelInputError, match=re.escape(message)):
        call(model)


def test_vectors_that_break_an_assertion():
    model = gf.Model(gf.ex.Gaussian)
    model.add_assertion(model.sigma < model.centre)
    with pytest.raises(
        gf.ConstraintError,
        match=re.escape(
            "instance_from_vector: the values break the model's assertion sigma < centre; give "
            "values where it holds, or pass ignore_assertions=True."
        ),
    ):
        model.instance_from_vector([5.0, 1.0, 10.0])
    instance = model.instance_from_vector([5.0, 1.0, 10.0], ignore_assertions=True)
    assert instance.sigma == 10.0
    with pytest.raises(gf.MissingPriorError):
        gf.Model(Line).instance_from_vector([1.0])


# -- the JSON round trip -------------------------------------------------------------------------
def _graph(model, analysis):
    return gf.FactorGraphModel(gf.AnalysisFactor(model, analysis))


def test_dict_round_trip_gives_an_equal_model(tmp_path):
    model = every_kind_model()
    model.gaussian.centre = gf.UniformPrior(0.0, 100.0, name="centre_0")
    model.add_assertion(model.gaussian.sigma < model.gaussian.centre)
    text = json.dumps(model.dict(), allow_nan=False)  # strict JSON: no NaN or Infinity
    loaded = gf.Collection.from_dict(json.loads(text))
    assert isinstance(loaded, gf.Collection)
    assert loaded.info == model.info
    assert loaded.lines[1].slope is loaded.lines[0].slope  # one shared prior again
    assert loaded.background.coefficients.shape == (3,)
    assert loaded.background.coefficients[1] == 0.5
    assert type(loaded.lines[1].intercept) is int
    assert loaded.gaussian.sigma.upper_limit == math.inf
    assert [a.op for a in loaded.assertions] == ["<", "<"]
    analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    assert model_description(_graph(loaded, analysis)) == model_description(_graph(model, analysis))
    assert graph_fingerprint(_graph(loaded, analysis)) == graph_fingerprint(_graph(model, analysis))
    # a file, and a plain model with a fixed array
    line = gf.Model(Line, slope=gf.UniformPrior(-1.0, 1.0), intercept=np.array([1.0, 2.0]))
    line.to_json(tmp_path / "line.json")
    again = gf.Model.from_json(tmp_path / "line.json")
    assert again.cls is Line and again.info == line.info
    np.testing.assert_array_equal(again.intercept, [1.0, 2.0])
    assert again.instance_from_vector([0.5]).slope == 0.5


def test_the_round_tripped_model_fits():
    """A Gaussian on a polynomial background (an array of coefficients), the Gaussian's sigma
    with a prior truncated at 0 only, written to JSON and read back, then fitted."""
    x = np.arange(100.0)
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=2)
    data = data + 1.0 + 0.5 * (x / 100.0) - 0.8 * (x / 100.0) ** 2
    model = gf.Collection(
        gaussian=gf.ex.Gaussian,
        background=gf.Model(Polynomial, coefficients=gf.Array(3, gf.UniformPrior(-5.0, 5.0))),
    )
    model.gaussian.sigma = gf.TruncatedGaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)
    loaded = gf.Collection.from_dict(json.loads(json.dumps(model.dict())))
    result = gf.MAP(random_seed=1).fit(model=loaded, analysis=gf.ex.Analysis(data, noise_map))
    best = result.max_log_likelihood_instance
    assert best.gaussian.centre == pytest.approx(50.0, abs=1.0)
    assert best.gaussian.sigma == pytest.approx(10.0, abs=1.0)
    np.testing.assert_allclose(best.background.coefficients, [1.0, 0.5, -0.8], atol=0.15)
    assert isinstance(best.background.coefficients, np.ndarray)
    assert "background.coefficients.prior_1" in result.idata.posterior


def test_pyautofit_dictionaries_are_read():
    d = {
        "type": "collection",
        "arguments": {
            "gaussian": {
                "type": "model",
                "class_path": "graphfit.ex.components.Gaussian",
                "arguments": {
                    "centre": {"type": "Uniform", "id": 7, "lower_limit": 0.0, "upper_limit": 2.0},
                    "normalization": {"type": "constant", "value": 1.5},
                    "sigma": {
                        "type": "TruncatedGaussian",
                        "id": 9,
                        "mean": 1.0,
                        "sigma": 2.0,
                        "lower_limit": 0.0,
                        "upper_limit": float("inf"),
                        "width_modifier": {"type": "Relative", "value": 0.5},
                    },
                },
            },
            "fixed": {
                "type": "instance",
                "class_path": "graphfit.ex.components.Gaussian",
                "arguments": {"centre": 0.0, "normalization": 0.1, "sigma": 0.01},
            },
        },
    }
    model = gf.Model.from_dict(d)
    assert isinstance(model, gf.Collection) and model.prior_count == 2
    assert model.gaussian.centre.upper_limit == 2.0 and model.gaussian.normalization == 1.5
    assert isinstance(model.gaussian.sigma, gf.TruncatedGaussianPrior)
    assert model.instance_from_prior_medians().fixed.sigma == 0.01


def _local_class():
    class Local:
        def __init__(self, a):
            self.a = a

    return Local


@pytest.mark.parametrize(
    ("d", "message"),
    [
        (
            {"type": "UniformPrior"},
            "from_dict: expected the dictionary of a model, collection or array (its 'type' is "
            "'model', 'collection' or 'array'), got 'UniformPrior'.",
        ),
        (
            {"type": "model", "class_path": "graphfit.ex.components.Gausian", "arguments": {}},
            "from_dict: 'graphfit.ex.components.Gausian' is not a class (module "
            "'graphfit.ex.components' has no 'Gausian'); the model's class must be importable "
            "at the path it was saved with.",
        ),
        (
            {"type": "model", "class_path": "no_such_package.Gaussian", "arguments": {}},
            "from_dict: cannot import a module of the class path 'no_such_package.Gaussian'; "
            "the model's class must be importable at the path it was saved with.",
        ),
        (
            gf.Model(_local_class(), a=1.0).dict(),
            "from_dict: the class 'tests.test_model_api._local_class.<locals>.Local' was "
            "defined inside a function and cannot be imported again; define it at the top "
            "level of a module.",
        ),
        (
            {
                "type": "collection",
                "arguments": {"p": {"type": "UniformPrior", "lower": 0.0, "upper_limit": 1.0}},
            },
            "from_dict: model.p: UniformPrior has no argument 'lower'; its arguments are: "
            "lower_limit, upper_limit.",
        ),
        (
            {"type": "collection", "arguments": {"p": {"type": "Beta", "alpha": 1.0}}},
            "from_dict: model.p has type 'Beta'; the types graphfit reads are: model, "
            "collection, array, relation, ndarray,",
        ),
    ],
)
def test_bad_dictionaries_say_what_is_wrong(d, message):
    with pytest.raises(gf.ModelInputError, match=re.escape(message)):
        gf.Model.from_dict(d)


# -- gf.Array ------------------------------------------------------------------------------------
def test_array_elements_are_independent_parameters():
    array = gf.Array(shape=(2, 2), prior=gf.GaussianPrior(mean=0.0, sigma=1.0))
    assert array.prior_count == 4 and array.shape == (2, 2)
    assert len({id(p) for p in array.priors()}) == 4
    assert array.paths == [("prior_0_0",), ("prior_0_1",), ("prior_1_0",), ("prior_1_1",)]
    np.testing.assert_array_equal(array.instance_from_prior_medians(), np.zeros((2, 2)))
    np.testing.assert_array_equal(
        array.instance_from_vector([0.0, 1.0, 2.0, 3.0]), [[0.0, 1.0], [2.0, 3.0]]
    )
    array[0, 0] = gf.UniformPrior(0.0, 1.0)  # replacing a prior keeps its place
    assert array.paths[0] == ("prior_0_0",)
    array[0, 1] = array[1, 0]
    array[1, 1] = 5.0
    assert array.prior_count == 2 and array.prior_1_1 == 5.0
    instance = array.random_instance(seed=0)
    assert instance[0, 1] == instance[1, 0] and instance[1, 1] == 5.0
    copy = array.copy()
    assert copy[0, 0] is array[0, 0]
    assert "prior_0_0                           UniformPrior [0]" in array.info


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: gf.Array((2, 0)),
            "gf.Array: shape must be a tuple of integers >= 1 (e.g. (3,) or (2, 2)), got (2, 0).",
        ),
        (
            lambda: gf.Array(3, prior=1.0),
            "gf.Array: prior must be a prior (e.g. gf.GaussianPrior(mean=0.0, sigma=1.0)) or "
            "None, got 1.0 of type float.",
        ),
        (
            lambda: gf.Array(3).__setitem__(3, 1.0),
            "gf.Array: index 3 is not an element of an array of shape (3,); give 1 integer(s) "
            "within the shape.",
        ),
        (
            lambda: gf.Array(3).__setitem__(0, gf.ex.Gaussian),
            "gf.Array: element 0 got <class 'graphfit.ex.components.Gaussian'> of type type; "
            "an element may be a prior, a relation of priors or a finite number.",
        ),
    ],
)
def test_bad_arrays(make, message):
    with pytest.raises(gf.ModelAttributeError, match=re.escape(message)):
        make()


def test_an_array_without_a_prior_must_be_filled():
    model = gf.Model(Polynomial, coefficients=gf.Array(2))
    with pytest.raises(
        gf.MissingPriorError, match=r"'coefficients.prior_0' \(parameter of Array\)"
    ):
        model.info
    model.coefficients[0] = gf.UniformPrior()
    model.coefficients.prior_1 = 2.0
    assert model.prior_count == 1


def test_alike_datasets_with_arrays_compile_to_one_node():
    x = np.arange(100.0) / 100.0
    factors = []
    shared = gf.UniformPrior(-5.0, 5.0)
    for seed in range(2):
        data = 1.0 + 0.5 * x + np.random.default_rng(seed).normal(0.0, 0.04, 100)
        model = gf.Model(Polynomial, coefficients=gf.Array(3, gf.UniformPrior(-5.0, 5.0)))
        model.coefficients[0] = shared
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, np.full(100, 0.04))))
    pymc_model = gf.FactorGraphModel(*factors).to_pymc()
    assert [rv.name for rv in pymc_model.observed_RVs] == ["obs"]
    assert sorted(rv.name for rv in pymc_model.free_RVs) == [
        "coefficients.prior_0",
        "coefficients.prior_1",
        "coefficients.prior_2",
    ]


# -- the truncated Gaussian's default limits -----------------------------------------------------
def test_truncated_gaussian_limits_default_to_infinity():
    prior = gf.TruncatedGaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)
    assert prior.support() == (0.0, math.inf)
    assert prior.pymc_form().parameters == {"mu": 10.0, "sigma": 5.0, "lower": 0.0, "upper": None}
    assert repr(prior) == "TruncatedGaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)"
    assert prior.median() == pytest.approx(stats.truncnorm.median(-2.0, np.inf, 10.0, 5.0))
    upper_only = gf.TruncatedGaussianPrior(mean=0.0, sigma=1.0, upper_limit=0.0)
    assert upper_only.support() == (-math.inf, 0.0)
    assert upper_only.median() == pytest.approx(stats.norm.ppf(0.25))


# -- plot helpers ---------------------------------------------------------------------------------
def test_plot_profile_1d_takes_pyautofits_and_matplotlibs_keywords(tmp_path):
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    figure = gf.ex.plot_profile_1d(
        xvalues=np.arange(data.shape[0]),
        profile_1d=data,
        title="dataset 0",
        ylabel="Data Values",
        errors=noise_map,
        color="b",
        alpha=0.5,
        output_path=tmp_path / "images",
        output_filename="data",
    )
    assert (tmp_path / "images" / "data.png").stat().st_size > 0
    ax = figure.axes[0]
    assert ax.get_title() == "dataset 0" and ax.get_ylabel() == "Data Values"
    points = ax.containers[0].lines[0]
    assert points.get_color() == "b" and points.get_alpha() == 0.5
    line = gf.ex.plot_profile_1d(range(3), [1.0, 2.0, 3.0], color="r", linestyle="--")
    assert line.axes[0].lines[0].get_linestyle() == "--"
    with pytest.raises(gf.PlotError, match="got both noise_map and errors"):
        gf.ex.plot_profile_1d(range(3), [1.0, 2.0, 3.0], noise_map=[1.0] * 3, errors=[1.0] * 3)

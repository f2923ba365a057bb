"""Bad input rejected where it is given, with messages that point at the fix (issue 19).

Each case is reproduced as a user would meet it: arrays changed after an analysis is built,
values that are not finite real numbers, mistakes in a graph's structure, and likelihood code
that cannot be compiled.  Real fits (``gf.MAP`` on tiny simulated data) only where the result
itself is checked.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import graphfit as gf

X = np.arange(30.0)


def _small_dataset(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return gf.ex.simulate_gaussian_dataset(30.0, 20.0, 5.0, size=30, noise=0.1, seed=seed)


def _gaussian_model() -> gf.Model:
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(0.0, 30.0)
    model.normalization = gf.UniformPrior(1.0, 50.0)
    model.sigma = gf.UniformPrior(0.0, 15.0)
    return model


def _map(model: gf.Model, analysis: gf.Analysis) -> gf.ex.Gaussian:
    result = gf.MAP(random_seed=1, progressbar=False).fit(model=model, analysis=analysis)
    return result.max_log_posterior_instance


# -- inputs cannot change behind the fit ------------------------------------------------------


def test_the_example_analyses_keep_their_own_copies_of_the_arrays():
    data, noise = _small_dataset()
    kept = data.copy()
    xvalues = X.copy()
    analyses = [
        gf.ex.Analysis(data, noise, xvalues=xvalues),
        gf.ex.RobustAnalysis(data, noise, nu=3.0),
    ]
    image, image_noise = np.ones((3, 4)), np.full((3, 4), 0.1)
    imaging = gf.ex.ImagingAnalysis(image, image_noise)
    counts, edges = np.array([3, 5, 2]), np.array([0.0, 1.0, 2.0, 3.0])
    histogram = gf.ex.HistogramAnalysis(counts, edges)
    for array in (data, noise, xvalues, image, image_noise, edges):
        array[...] = np.nan
    counts[...] = -1
    for analysis in analyses:
        np.testing.assert_array_equal(analysis.data, kept)
        assert np.all(analysis.noise_map == 0.1)
    np.testing.assert_array_equal(analyses[0].xvalues, X)
    assert np.all(imaging.data == 1.0) and np.all(imaging.noise_map == 0.1)
    assert histogram.counts.tolist() == [3, 5, 2] and histogram.bin_edges.tolist()[-1] == 3.0


def test_a_fit_after_the_callers_array_changed_uses_the_data_as_given():
    data, noise = _small_dataset()
    analysis = gf.ex.Analysis(data, noise)
    data[:] = np.nan  # before: PyMC imputed the NaNs, then the fit failed after 31 s
    best = _map(_gaussian_model(), analysis)
    assert abs(best.centre - 30.0) < 0.5 and abs(best.sigma - 5.0) < 0.5


def test_a_fixed_array_of_a_model_is_its_own_copy():
    class Polynomial:
        def __init__(self, coefficients):
            self.coefficients = coefficients

    coefficients = np.array([1.0, 2.0])
    model = gf.Model(Polynomial, coefficients=coefficients)
    coefficients[0] = np.nan
    assert model.coefficients.tolist() == [1.0, 2.0]


# -- finite reals only, rejected where they are set --------------------------------------------


FINITE = r"; a fixed value must be a finite real number \(or give the parameter a prior\)\.$"
NOT_BOOL = r"; a fixed value must be a finite real number \(1\.0, not True\) or an array of them\.$"
NOT_COMPLEX = (
    r", a complex value; a fixed value must be a finite real number or an array of them: use "
    r"the real part \(value\.real\) or the magnitude\.$"
)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.inf, r"^Gaussian\.centre: the fixed value is inf" + FINITE),
        (-math.inf, r"^Gaussian\.centre: the fixed value is -inf" + FINITE),
        (np.float32("inf"), r"^Gaussian\.centre: the fixed value is inf" + FINITE),
        (np.array(np.nan), r"^Gaussian\.centre: the fixed value is NaN" + FINITE),
        (True, r"^Gaussian\.centre: got True of type bool" + NOT_BOOL),
        (np.True_, r"^Gaussian\.centre: got True of type bool" + NOT_BOOL),
        (np.array([True]), r"^Gaussian\.centre: got array\(\[ True\]\) of type ndarray" + NOT_BOOL),
        (2j, r"^Gaussian\.centre: got 2j" + NOT_COMPLEX),
        (np.array([1.0 + 1.0j]), r"^Gaussian\.centre: got array\(\[1\.\+1\.j\]\)" + NOT_COMPLEX),
    ],
)
def test_a_fixed_value_must_be_a_finite_real_number(value, message):
    model = gf.Model(gf.ex.Gaussian)
    with pytest.raises(gf.ModelAttributeError, match=message) as info:
        model.centre = value
    assert isinstance(info.value, TypeError)
    assert isinstance(model.centre, gf.Prior)  # nothing was set
    with pytest.raises(gf.ModelAttributeError, match=message):
        gf.Model(gf.ex.Gaussian, centre=value)


def test_a_collection_rejects_an_infinite_component():
    with pytest.raises(
        gf.ModelAttributeError, match=r"^Collection\.offset: the fixed value is inf" + FINITE
    ):
        gf.Collection(offset=math.inf)


REAL = r"; give real numbers: "


@pytest.mark.parametrize(
    ("data", "noise", "message"),
    [
        (
            None,
            np.ones(3),
            r"^ex\.Analysis: data is None; give an array of finite real numbers\.$",
        ),
        (
            np.ones(3),
            None,
            r"^ex\.Analysis: noise_map is None; give an array of finite real numbers\.$",
        ),
        (
            np.array(["1.0", "2.0"]),
            np.ones(2),
            r"^ex\.Analysis: data holds text \(dtype <U3\)" + REAL + r"convert it with "
            r"np\.asarray\(values, dtype=float\)\.$",
        ),
        (
            np.array([True, False]),
            np.ones(2),
            r"^ex\.Analysis: data holds booleans \(dtype bool\)" + REAL + r"use "
            r"values\.astype\(float\) if True and False stand for 1 and 0\.$",
        ),
        (
            np.array([1.0 + 2.0j, 3.0]),
            np.ones(2),
            r"^ex\.Analysis: data holds complex numbers \(dtype complex128\)" + REAL + r"use the "
            r"real part \(values\.real\) or the magnitude \(np\.abs\(values\)\); an imaginary "
            r"part is never dropped silently\.$",
        ),
        (
            np.ones(2),
            np.array([0.1, 0.1j]),
            r"^ex\.Analysis: noise_map holds complex numbers \(dtype complex128\)" + REAL,
        ),
        (
            [1.0, None, 3.0],
            np.ones(3),
            r"^ex\.Analysis: data has 1 value\(s\) that are not real numbers, the first at index "
            r"1 \(None\); give real numbers only \(remove missing values from the data and the "
            r"noise map alike\)\.$",
        ),
    ],
)
def test_data_and_noise_must_be_real_numbers(data, noise, message):
    with pytest.raises(gf.DataError, match=message) as info:
        gf.ex.Analysis(data, noise)
    assert isinstance(info.value, ValueError)


def test_the_other_example_analyses_and_observations_check_their_inputs():
    cases = [
        (
            lambda: gf.ex.HistogramAnalysis([True, False], [0.0, 1.0, 2.0]),
            r"^ex\.HistogramAnalysis: counts holds booleans \(dtype bool\)" + REAL,
        ),
        (
            lambda: gf.ex.HistogramAnalysis([1, 2], [0.0, 1.0, 2.0], background=True),
            r"^ex\.HistogramAnalysis: background must be a real number, got True of type "
            r"bool\.$",
        ),
        (
            lambda: gf.ex.ImagingAnalysis(np.ones((2, 2)), np.ones((2, 2)), pixel_scale=1j),
            r"^ex\.ImagingAnalysis: pixel_scale must be a real number, got 1j of type complex\.$",
        ),
        (
            lambda: gf.ex.ImagingAnalysis(np.ones((2, 2)) * 1j, np.ones((2, 2))),
            r"^ex\.ImagingAnalysis: data holds complex numbers \(dtype complex128\)" + REAL,
        ),
        (
            lambda: gf.ex.RobustAnalysis(np.ones(2), np.ones(2), nu=True),
            r"^StudentTObservation: nu = True of type bool; the degrees of freedom must be a "
            r"finite real number > 0 or a model parameter\.$",
        ),
        (
            lambda: gf.GaussianObservation(np.zeros(2), np.array([1.0j, 1.0]), np.ones(2)),
            r"^GaussianObservation: data holds complex numbers \(dtype complex128\)" + REAL,
        ),
    ]
    for build, message in cases:
        with pytest.raises(gf.DataError, match=message):
            build()


FLOOR = (
    r"set a noise floor, e\.g\. noise_map = np\.fmax\(noise_map, floor\) with floor a small "
    r"fraction of the typical noise \(np\.fmax also replaces NaN\)\.$"
)
TINY = (
    r"noise_map has 30 value\(s\) too small to use, the first at index 0 \(1e-300\): "
    r"\(\(data - model\) / noise_map\)\*\*2 overflows to inf, so the log-likelihood is -inf for "
    r"every parameter value: " + FLOOR
)


def test_a_noise_map_too_small_to_square_is_rejected_with_a_noise_floor():
    data, _ = _small_dataset()
    with pytest.raises(gf.DataError, match=r"^ex\.Analysis: " + TINY):
        gf.ex.Analysis(data, np.full(30, 1e-300))
    gf.ex.Analysis(data, np.full(30, 1e-90))  # tiny, but squares to a finite number


class NoiseInObservation(gf.Analysis):
    """Builds its noise map inside observation(), as user analyses do."""

    def __init__(self, data, noise):
        self.data, self.noise = data, noise

    def observation(self, instance, xp=np):
        return gf.GaussianObservation(instance.model_data_from(X, xp=xp), self.data, self.noise)


@pytest.mark.parametrize(
    ("noise", "message"),
    [
        pytest.param(np.full(30, 1e-300), TINY, id="tiny"),
        pytest.param(
            np.where(X == 4.0, np.nan, 0.1),
            r"noise_map has 1 NaN or inf value\(s\), the first at index 4 \(nan\); a noise map "
            r"holds standard deviations, which must be finite and > 0: remove those points from "
            r"the data and the noise map alike, or " + FLOOR,
            id="nan",
        ),
        pytest.param(
            np.where(X == 2.0, 0.0, 0.1),
            r"noise_map has 1 value\(s\) <= 0, the first at index 2 \(0\.0\); a noise map holds "
            r"standard deviations, which must be > 0: " + FLOOR,
            id="zero",
        ),
    ],
)
def test_a_bad_noise_map_built_in_observation_is_blamed_on_the_noise_map(noise, message):
    """Before: "no starting point ... check that the model's prediction is finite", or PyMC's
    "Masked arrays or arrays with nan entries are not supported"."""
    data, _ = _small_dataset()
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(_gaussian_model(), NoiseInObservation(data, noise), name="night_1")
    )
    prefix = r"^dataset 'night_1': NoiseInObservation\.observation\(\): GaussianObservation: "
    with pytest.raises(gf.DataError, match=prefix + message):
        graph.compile()


# -- structure mistakes rejected at construction ----------------------------------------------


def test_the_same_factor_twice_is_rejected():
    factor = gf.AnalysisFactor(_gaussian_model(), gf.ex.Analysis(*_small_dataset()))
    with pytest.raises(
        gf.FactorGraphError,
        match=r"^FactorGraphModel: arguments 0 and 1 are the same AnalysisFactor object; its "
        r"dataset would be fitted twice\. Pass each factor once \(a second dataset needs its own "
        r"gf\.AnalysisFactor\)\.$",
    ):
        gf.FactorGraphModel(factor, factor)


def _two_named(name_a: str | None, name_b: str | None) -> tuple[gf.Model, gf.Model, list]:
    first, second = _gaussian_model(), _gaussian_model()
    first.centre = gf.UniformPrior(0.0, 30.0, name=name_a)
    second.centre = gf.UniformPrior(0.0, 30.0, name=name_b)
    data, noise = _small_dataset()
    factors = [
        gf.AnalysisFactor(first, gf.ex.Analysis(data, noise), name="a"),
        gf.AnalysisFactor(second, gf.ex.Analysis(data, noise), name="b"),
    ]
    return first, second, factors


SAME_NAME = (
    r"^FactorGraphModel: two different priors are both named 'p': UniformPrior\(lower_limit=0\.0, "
    r"upper_limit=30\.0, name='p'\) at a's centre and UniformPrior\(lower_limit=0\.0, "
    r"upper_limit=30\.0, name='p'\) at b's centre\. A name is one parameter of the fit: to share "
    r"it, use the same prior object in both places \(model_b\.centre = model_a\.centre\); else "
    r"give them different names, or none \(each is then named by its model path\)\.$"
)


def test_two_different_priors_with_one_name_are_rejected():
    """Before: silently named ``p`` and ``p_1``, two parameters."""
    _, _, factors = _two_named("p", "p")
    with pytest.raises(gf.FactorGraphError, match=SAME_NAME):
        gf.FactorGraphModel(*factors)


def test_a_name_given_twice_after_the_graph_was_built_is_rejected_before_compiling():
    _, second, factors = _two_named("p", "q")
    graph = gf.FactorGraphModel(*factors)
    second.centre = gf.UniformPrior(0.0, 30.0, name="p")
    with pytest.raises(gf.FactorGraphError, match=SAME_NAME):
        graph.compile()


def test_one_named_prior_shared_by_identity_is_one_parameter():
    first, second, factors = _two_named("p", None)
    second.centre = first.centre
    graph = gf.FactorGraphModel(*factors)
    assert [g.name for g in graph.compile_plan().prior_groups].count("p") == 1


NAME = (
    r"; a name may not contain '/' or control characters such as NUL or a newline \(it names "
    r"variables of the PyMC model and entries of saved files\)\. Use e\.g\. 'night_1'\.$"
)


@pytest.mark.parametrize("name", ["night/1", "night\x001", "night\n1"])
def test_names_with_a_slash_or_a_control_character_are_rejected_when_given(name):
    """Before: '/' failed in PyMC; NUL failed when the folder was saved, after the fit."""
    shown = re.escape(repr(name))
    char = re.escape(repr(next(c for c in name if not c.isalnum())))
    analysis = gf.ex.Analysis(*_small_dataset())
    with pytest.raises(
        gf.FactorGraphError, match=rf"^AnalysisFactor: name {shown} contains {char}" + NAME
    ):
        gf.AnalysisFactor(_gaussian_model(), analysis, name=name)
    with pytest.raises(gf.PriorError, match=rf"^UniformPrior: name {shown} contains {char}"):
        gf.UniformPrior(0.0, 1.0, name=name)
    with pytest.raises(
        gf.FactorGraphError, match=rf"^HierarchicalFactor: name {shown} contains {char}"
    ):
        gf.HierarchicalFactor(
            gf.GaussianPrior,
            name=name,
            mean=gf.UniformPrior(0.0, 30.0),
            sigma=gf.UniformPrior(0.1, 10.0),
        )


# -- errors that point at the fix -------------------------------------------------------------


class ReturnsNothing(gf.Analysis):
    def __init__(self, data, noise):
        self.data, self.noise = data, noise

    def log_likelihood_function(self, instance, xp=np):
        model = instance.model_data_from(X, xp=xp)
        -0.5 * xp.sum(((self.data - model) / self.noise) ** 2)  # no return


class ReturnsNothingNumpy(ReturnsNothing):
    def log_likelihood_function(self, instance):  # PyAutoFit's signature, numpy code
        model = instance.model_data_from(X)
        -0.5 * np.sum(((self.data - model) / self.noise) ** 2)  # no return


class ReturnsNothingBlackBox(ReturnsNothingNumpy):
    black_box = True


@pytest.mark.parametrize("cls", [ReturnsNothing, ReturnsNothingNumpy, ReturnsNothingBlackBox])
def test_a_log_likelihood_of_none_is_an_error_before_any_sampling(cls):
    """Before: "no starting point with a finite log density ... the model's prediction"."""
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(_gaussian_model(), cls(*_small_dataset()), name="night_1")
    )
    with pytest.raises(
        gf.FactorGraphError,
        match=rf"^dataset 'night_1': {cls.__name__}\.log_likelihood_function\(\) returned None; "
        r"it must return the log-likelihood, a number or an array of one value per data point "
        r"\(is a `return` missing\?\), computed with the array namespace xp \(def "
        r"log_likelihood_function\(self, instance, xp=np\): \.\.\. return -0\.5 \* "
        r"xp\.sum\(\.\.\.\)\), or with numpy on a class that sets black_box = True \(no "
        r"gradients\)\.$",
    ):
        graph.compile()


class WithXp(gf.Analysis):
    """A Gaussian likelihood with an extra ``-log(sigma)`` term, written with ``xp``."""

    def __init__(self, data, noise):
        self.data, self.noise = data, noise

    def log_likelihood_function(self, instance, xp=np):
        model = instance.model_data_from(X, xp=xp)
        return -0.5 * xp.sum(((self.data - model) / self.noise) ** 2) - xp.log(instance.sigma)


class WithMathLog(WithXp):
    def log_likelihood_function(self, instance, xp=np):
        model = instance.model_data_from(X, xp=xp)
        return -0.5 * xp.sum(((self.data - model) / self.noise) ** 2) - math.log(instance.sigma)


class WithIf(WithXp):
    def log_likelihood_function(self, instance, xp=np):
        chi = -0.5 * xp.sum(((self.data - instance.model_data_from(X, xp=xp)) / self.noise) ** 2)
        if instance.sigma > 0.0:  # always true within the prior
            return chi - xp.log(instance.sigma)
        return -np.inf


ADVICE = (
    r"\)\. graphfit runs it as numpy code, with gradients from finite differences .* use xp\.exp, "
    r"xp\.sum, xp\.where, \.\.\. where the code has np\.exp, np\.sum, math\.log, if, \.\.\. on "
    r"parameters\. Code that cannot be written so, or has no useful gradient \(a simulator, a "
    r"jump\), sets black_box = True on its class and is fitted without gradients\.$"
)


@pytest.mark.parametrize(
    ("cls", "cause"),
    [
        pytest.param(
            WithMathLog,
            r"it passes a parameter to a function of Python's math module \(math\.log, "
            r"math\.exp, \.\.\.\) or to float\(\), which take numbers only; use xp\.log, xp\.exp, "
            r"\.\.\. instead \(it raised TypeError: TensorVariables cannot be converted to Python "
            r"float\. Call `\.astype\(float\)` for the symbolic equivalent",
            id="math.log",
        ),
        pytest.param(
            WithIf,
            r"it tests a parameter with Python's if \(or and, or, min, max\); write the choice "
            r"with xp\.where\(condition, value_if_true, value_if_false\) instead \(it raised "
            r"TypeError: TensorVariable cannot be converted to Python boolean\. Call "
            r"`\.astype\(bool\)` for the symbolic equivalent",
            id="if",
        ),
    ],
)
def test_math_log_or_an_if_on_a_parameter_runs_as_numpy_code_and_says_how_to_fix_it(cls, cause):
    """Before, math.log crashed the fit with "math domain error" when a finite-difference step
    left the prior's range; now that side counts as outside, and the optimum is right."""
    data, noise = _small_dataset()
    with pytest.warns(
        gf.NumpyLikelihoodWarning,
        match=rf"^dataset\(s\) 'dataset_0': {cls.__name__}'s code cannot be compiled "
        rf"symbolically: {cause}" + ADVICE,
    ):
        best = _map(_gaussian_model(), cls(data, noise))
    want = _map(_gaussian_model(), WithXp(data, noise))
    np.testing.assert_allclose(
        [best.centre, best.normalization, best.sigma],
        [want.centre, want.normalization, want.sigma],
        rtol=1e-3,
    )

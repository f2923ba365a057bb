"""Analyses and components written with numpy and PyAutoFit's signatures (no ``xp``)."""

from __future__ import annotations

import numpy as np
import pytest

import graphfit as gf
from graphfit.backend.tensor_namespace import pytensor_namespace
from graphfit.backend.tracing import trace_analysis


class NumpyGaussian:
    """A profile written with numpy calls on its parameters, as PyAutoFit's examples are."""

    def __init__(self, centre=30.0, normalization=1.0, sigma=5.0):
        self.centre = centre
        self.normalization = normalization
        self.sigma = sigma

    def model_data_from(self, xvalues):
        shifted = np.subtract(xvalues, self.centre)
        peak = np.divide(self.normalization, self.sigma * np.sqrt(2.0 * np.pi))
        return np.multiply(peak, np.exp(-0.5 * np.square(np.divide(shifted, self.sigma))))


class ChiSquaredAnalysis(gf.Analysis):
    """``log_likelihood_function(self, instance)``: no ``xp``, Python's ``sum`` over points."""

    def __init__(self, data, noise_map):
        self.data, self.noise_map = data, noise_map

    def log_likelihood_function(self, instance):
        xvalues = np.arange(self.data.shape[0])
        residual = self.data - instance.model_data_from(xvalues=xvalues)
        chi_squared = sum((residual / self.noise_map) ** 2.0)
        return -0.5 * (chi_squared + np.sum(np.log(2 * np.pi * self.noise_map**2.0)))


class ArithmeticAnalysis(gf.Analysis):
    """No ``xp`` either, but only arithmetic on the parameters: it traces symbolically."""

    def __init__(self, x, y, noise):
        self.x, self.y, self.noise = x, y, noise

    def log_likelihood_function(self, instance):
        return -0.5 * ((self.y - (instance.slope * self.x + instance.intercept)) / self.noise) ** 2


class BranchingAnalysis(ArithmeticAnalysis):
    def log_likelihood_function(self, instance):
        if instance.slope > 0:  # Python control flow on a parameter
            return super().log_likelihood_function(instance)
        return -np.inf


class Line:
    def __init__(self, slope=1.0, intercept=0.0):
        self.slope, self.intercept = slope, intercept


def _gaussian_data(n=60, seed=3):
    rng = np.random.default_rng(seed)
    x = np.arange(float(n))
    truth = NumpyGaussian(centre=30.0, normalization=20.0, sigma=6.0)
    noise = np.full(n, 0.4)
    return truth.model_data_from(x) + rng.normal(0.0, 0.4, n), noise


def _gaussian_model():
    model = gf.Model(NumpyGaussian)
    model.centre = gf.UniformPrior(0.0, 60.0)
    model.normalization = gf.UniformPrior(0.0, 50.0)
    model.sigma = gf.UniformPrior(0.5, 20.0)
    return model


def _symbolic_instance(model):
    import pytensor.tensor as pt

    tensors = {p: pt.dscalar(f"p{k}") for k, p in enumerate(model.priors())}
    xp = pytensor_namespace()
    return model.instance_from(tensors, xp), xp


def test_each_kind_of_code_is_found_before_compiling():
    data, noise = _gaussian_data()
    instance, xp = _symbolic_instance(_gaussian_model())
    verdict = trace_analysis(ChiSquaredAnalysis(data, noise), instance, xp)
    assert not verdict.symbolic
    # Python's sum() turns numpy's object array back into one (huge) tensor
    assert verdict.reason.startswith("its graph has more than 250 operations")
    pointwise = trace_analysis(gf.ex.Analysis(data, noise), instance, xp)
    assert pointwise.reason.startswith("numpy made an array of 60 separate symbolic values")

    line = gf.Model(Line, slope=gf.UniformPrior(-5.0, 5.0), intercept=gf.UniformPrior(-5, 5))
    x = np.linspace(0.0, 1.0, 20)
    instance, xp = _symbolic_instance(line)
    assert trace_analysis(ArithmeticAnalysis(x, x, np.ones(20)), instance, xp).symbolic
    branching = trace_analysis(BranchingAnalysis(x, x, np.ones(20)), instance, xp)
    assert not branching.symbolic
    assert branching.reason.startswith("it tests a parameter with Python's if")


def test_numpy_code_has_the_gradient_of_the_same_model_written_with_xp():
    """The finite-difference gradient of the numpy analysis matches PyTensor's exact gradient of
    graphfit's own Gaussian with the same data, at several points."""
    import pytensor
    import pytensor.tensor as pt

    data, noise = _gaussian_data()
    numpy_graph = gf.FactorGraphModel(
        gf.AnalysisFactor(_gaussian_model(), ChiSquaredAnalysis(data, noise))
    )
    with pytest.warns(gf.NumpyLikelihoodWarning, match=r"dataset\(s\) 'dataset_0': Chi") as got:
        numpy_model = numpy_graph.compile().model
    # the notice points at the user's line, not at graphfit's code
    assert [w.filename for w in got] == [__file__]
    exact = gf.Model(gf.ex.Gaussian)
    exact.centre = gf.UniformPrior(0.0, 60.0)
    exact.normalization = gf.UniformPrior(0.0, 50.0)
    exact.sigma = gf.UniformPrior(0.5, 20.0)
    exact_graph = gf.FactorGraphModel(gf.AnalysisFactor(exact, gf.ex.Analysis(data, noise)))
    exact_model = exact_graph.compile().model

    def logp_and_grad(model):
        values = model.value_vars
        logp = model.logp()
        # the gradients compared are the Op's finite differences and PyTensor's symbolic ones,
        # whatever the mode runs them: FAST_COMPILE skips C compilation (half this test's time)
        return pytensor.function(values, [logp, *pt.grad(logp, values)], mode="FAST_COMPILE")

    numpy_f, exact_f = logp_and_grad(numpy_model), logp_and_grad(exact_model)
    for point in ([0.1, 0.3, -0.2], [0.4, -0.5, 0.6], [-0.3, 0.2, 0.0]):
        got, want = numpy_f(*point), exact_f(*point)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-10)
        np.testing.assert_allclose(np.array(got[1:]), np.array(want[1:]), rtol=1e-5, atol=1e-5)


def test_a_pyautofit_style_analysis_fits_with_an_optimiser():
    data, noise = _gaussian_data()
    with pytest.warns(gf.NumpyLikelihoodWarning, match="finite differences"):
        result = gf.MAP(random_seed=1, progressbar=False).fit(
            model=_gaussian_model(), analysis=ChiSquaredAnalysis(data, noise)
        )
    best = result.max_log_posterior_instance
    assert isinstance(best, NumpyGaussian)
    exact = gf.Model(gf.ex.Gaussian)
    exact.centre = gf.UniformPrior(0.0, 60.0)
    exact.normalization = gf.UniformPrior(0.0, 50.0)
    exact.sigma = gf.UniformPrior(0.5, 20.0)
    reference = gf.MAP(random_seed=1, progressbar=False).fit(
        model=exact, analysis=gf.ex.Analysis(data, noise)
    )
    want = reference.max_log_posterior_instance
    np.testing.assert_allclose(
        [best.centre, best.normalization, best.sigma],
        [want.centre, want.normalization, want.sigma],
        rtol=1e-3,
    )


def test_a_numpy_component_in_graphfits_analysis():
    """gf.ex.Analysis calls model_data_from(xvalues) without xp when the component takes none."""
    data, noise = _gaussian_data()
    with pytest.warns(gf.NumpyLikelihoodWarning, match="Analysis's code"):
        result = gf.MAP(random_seed=1, progressbar=False).fit(
            model=_gaussian_model(), analysis=gf.ex.Analysis(data, noise)
        )
    best = result.max_log_posterior_instance
    np.testing.assert_allclose(best.centre, 30.0, rtol=0.05)


def test_numba_runs_the_numpy_code_without_its_object_mode_warning():
    """PyTensor's numba backend (PyMC 6's default, and nutpie's) calls the numpy code in numba's
    object mode, where it warns once per ``Op``; graphfit's Ops leave that warning out, and the
    numba-compiled log density and gradient equal the default backend's."""
    pytest.importorskip("numba")
    import warnings

    import pytensor
    import pytensor.tensor as pt

    data, noise = _gaussian_data()
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(_gaussian_model(), ChiSquaredAnalysis(data, noise))
    )
    with pytest.warns(gf.NumpyLikelihoodWarning):
        model = graph.compile().model
    logp = model.logp()
    outputs = [logp, *pt.grad(logp, model.value_vars)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        numba_f = pytensor.function(model.value_vars, outputs, mode="NUMBA")
        got = numba_f(0.1, 0.3, -0.2)
    assert not [w for w in caught if "object mode" in str(w.message)]
    want = pytensor.function(model.value_vars, outputs)(0.1, 0.3, -0.2)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-10)

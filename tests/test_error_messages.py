"""Every graphfit error a user can meet has a test of its message (issue 19).

Each case is triggered through the public API the way a user would meet it, and the message is
checked from its start: the object or dataset it names, what was given and what is allowed.
Construction-time errors only, or errors raised while a fit is compiled, before any sampling.
The errors of results and output folders are in ``test_error_messages_results.py``.
"""

from __future__ import annotations

import re
import sys
from concurrent.futures import Executor, Future

import numpy as np
import pytest

import graphfit as gf
from graphfit.batch import executors


def _gaussian_model() -> gf.Model:
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(0.0, 100.0)
    model.normalization = gf.UniformPrior(1.0, 100.0)
    model.sigma = gf.UniformPrior(1.0, 30.0)
    return model


def _analysis(seed: int = 0) -> gf.ex.Analysis:
    return gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed))


def _map() -> gf.MAP:
    return gf.MAP(random_seed=1, progressbar=False)


# -- spec: observations (the checks every analysis's data goes through) -----------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            [[1.0, 2.0], [3.0]],
            r"^ex\.Analysis: data could not be read as numbers \(.*inhomogeneous.*\)\.$",
            id="ragged-rows",
        ),
        pytest.param(
            np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"),
            r"^ex\.Analysis: data holds values of dtype datetime64\[D\]; give real numbers\.$",
            id="datetimes",
        ),
    ],
)
def test_data_that_are_not_numbers_are_refused(data, message):
    with pytest.raises(gf.DataError, match=message):
        gf.ex.Analysis(data, [1.0, 1.0])


def test_empty_data_of_an_observation_are_refused():
    with pytest.raises(
        gf.DataError, match=r"^GaussianObservation: data is empty; give at least one value\.$"
    ):
        gf.GaussianObservation(model_data=np.ones(0), data=[], noise_map=[])


# -- spec: priors and relations ------------------------------------------------------------


class HalfWrittenPrior(gf.Prior):
    """A prior kind of a user's that declares none of what a kind must define."""

    arguments = ()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: HalfWrittenPrior().pymc_form(),
            r"^HalfWrittenPrior does not define pymc_form\(\)$",
            id="pymc_form",
        ),
        pytest.param(
            lambda: HalfWrittenPrior.ppf(0.5),
            r"^HalfWrittenPrior does not define ppf\(\)$",
            id="ppf",
        ),
        pytest.param(
            lambda: HalfWrittenPrior().logpdf(0.5),
            r"^HalfWrittenPrior does not define logpdf\(\)$",
            id="logpdf",
        ),
    ],
)
def test_a_prior_kind_without_its_methods_says_which_is_missing(call, message):
    with pytest.raises(NotImplementedError, match=message):
        call()


def test_an_unknown_relation_operation_is_refused():
    a = gf.UniformPrior(0.0, 1.0, name="a")
    with pytest.raises(
        gf.RelationError,
        match=r"^Relation: op must be one of add, sub, mul, truediv, pow, neg, exp, log, log10, "
        r"log1p, expm1, sqrt, abs, sin, cos, tan, arcsin, arccos, arctan, sinh, cosh, tanh, "
        r"got 'pow2'\.$",
    ):
        gf.Relation("pow2", (a, 2.0))


@pytest.mark.parametrize(
    ("op", "left", "right", "message"),
    [
        pytest.param(
            "=~",
            "prior",
            1.0,
            r"^Assertion: op must be one of \['>', '<', '>=', '<='\], got '=~'\.$",
            id="unknown-op",
        ),
        pytest.param(
            ">",
            2.0,
            1.0,
            r"^Assertion: 2\.0 > 1\.0 compares two numbers; an assertion needs a prior or "
            r"relation on at least one side\.$",
            id="two-numbers",
        ),
    ],
)
def test_a_bad_assertion_is_refused(op, left, right, message):
    prior = gf.UniformPrior(0.0, 1.0, name="a")
    left = prior if left == "prior" else left
    with pytest.raises(gf.ConstraintError, match=message):
        gf.Assertion(op, left, right)


# -- spec: models, collections and arrays ---------------------------------------------------


def test_a_fixed_array_with_nan_names_the_parameter():
    class Polynomial:
        def __init__(self, coefficients):
            self.coefficients = coefficients

    with pytest.raises(
        gf.ModelAttributeError,
        match=r"^Polynomial\.coefficients: the fixed array contains NaN or inf; give finite "
        r"numbers\.$",
    ):
        gf.Model(Polynomial, coefficients=np.array([1.0, np.nan]))


def test_a_default_prior_that_is_not_a_prior_is_refused():
    class Line:
        default_priors = {"slope": 1.0}

        def __init__(self, slope):
            self.slope = slope

    with pytest.raises(
        gf.ModelAttributeError,
        match=r"^Line\.default_priors\['slope'\] is 1\.0; it must be a prior\.$",
    ):
        gf.Model(Line)


def test_an_assertion_on_another_models_parameter_is_refused():
    model, other = gf.Model(gf.ex.Gaussian), gf.Model(gf.ex.Gaussian)
    with pytest.raises(
        gf.ConstraintError,
        match=r"^Gaussian\.add_assertion: Assertion\(.* > 1\.0\) uses UniformPrior.*, which is "
        r"not a parameter of this model; compare the model's own attributes \(e\.g\. "
        r"model\.centre\)\.$",
    ):
        model.add_assertion(other.centre > 1.0)


def test_a_collection_component_name_may_not_start_with_an_underscore():
    collection = gf.Collection()
    with pytest.raises(
        gf.ModelAttributeError,
        match=r"^Collection: component names may not start with '_' \(got '_hidden'\)\.$",
    ):
        collection._hidden = gf.Model(gf.ex.Gaussian)


class Constant:
    """A component without parameters."""

    def value(self, xp):
        return 1.0


@pytest.mark.parametrize(
    ("get", "message"),
    [
        pytest.param(
            lambda: gf.Model(gf.ex.Gaussian).center,
            r"^Gaussian model has no parameter 'center' \(did you mean 'centre'\?\); its "
            r"parameters are: centre, normalization, sigma\.$",
            id="model",
        ),
        pytest.param(
            lambda: gf.Collection(gaussian=gf.Model(gf.ex.Gaussian)).gausian,
            r"^Collection has no component 'gausian' \(did you mean 'gaussian'\?\); its "
            r"components are: gaussian\.$",
            id="collection",
        ),
        pytest.param(
            lambda: (
                gf.Collection(
                    gaussian=gf.Model(gf.ex.Gaussian, centre=1.0, normalization=1.0, sigma=1.0)
                )
                .instance_from({})
                .gausian
            ),
            r"^collection instance has no component 'gausian' \(did you mean 'gaussian'\?\); "
            r"its components are: gaussian\.$",
            id="collection-instance",
        ),
        pytest.param(
            lambda: gf.Collection(gf.ex.Gaussian, time=1.0).speed,
            r"^Collection has no component 'speed'; its components are: 0, time\.$",
            id="collection-no-close-name",
        ),
        pytest.param(
            lambda: gf.Collection().gaussian,
            r"^Collection has no component 'gaussian'; it has no components\.$",
            id="empty-collection",
        ),
        pytest.param(
            lambda: gf.Model(Constant).value,
            r"^Constant model has no parameter 'value'; it has no parameters\.$",
            id="model-of-a-class-without-parameters",
        ),
        pytest.param(
            lambda: gf.Array((2,), gf.UniformPrior(0.0, 1.0)).b,
            r"^gf\.Array of shape \(2,\) has no element 'b'; get elements by index "
            r"\(array\[0\]\) or by name \(prior_0, \.\.\.\)\.$",
            id="array",
        ),
    ],
)
def test_reading_a_missing_attribute_names_it(get, message):
    with pytest.raises(AttributeError, match=message):
        get()


def test_a_missing_name_is_still_an_attribute_error_for_hasattr_and_getattr():
    model = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian))
    assert not hasattr(model, "gausian") and not hasattr(model.gaussian, "center")
    assert getattr(model.gaussian, "center", "default") == "default"


def test_setting_an_array_element_by_a_wrong_name_says_how_to_set_one():
    array = gf.Array((2,), gf.UniformPrior(0.0, 1.0))
    with pytest.raises(
        gf.ModelAttributeError,
        match=r"^gf\.Array of shape \(2,\) has no element 'b'; set elements by index "
        r"\(array\[0\] = \.\.\.\) or by name \(prior_0, \.\.\.\)\.$",
    ):
        array.b = 1.0


# -- spec: model files (to_json / from_json, dict / from_dict) -------------------------------


def test_from_json_of_a_file_that_is_not_json_names_the_file(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("centre: 1.0")
    with pytest.raises(
        gf.ModelInputError,
        match=rf"^from_json: {re.escape(repr(str(path)))} is not a JSON file \(Expecting value: "
        r"line 1 column 1 \(char 0\)\)\.$",
    ):
        gf.Model.from_json(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            lambda d: d.__setitem__("class_path", ""),
            r"^from_dict: class_path must be an import path, got ''\.$",
            id="class_path",
        ),
        pytest.param(
            lambda d: d.__setitem__("arguments", [1.0]),
            r"^from_dict: model\.arguments must be a dictionary of argument name -> value, got "
            r"list\.$",
            id="arguments",
        ),
        pytest.param(
            lambda d: d["arguments"].__setitem__(
                "centre", {"type": "prior", "class_path": "collections.OrderedDict"}
            ),
            r"^from_dict: model\.centre: 'collections\.OrderedDict' is not a prior kind: the class "
            r"OrderedDict is not a subclass of gf\.Prior\.$",
            id="prior-kind",
        ),
        pytest.param(
            lambda d: d.__setitem__("assertions", [{"op": ">", "left": 1.0}]),
            r"^from_dict: model\.assertions\[0\] must be a dictionary with 'op', 'left' and "
            r"'right'\.$",
            id="assertion",
        ),
        pytest.param(
            lambda d: d["arguments"].__setitem__("centre", {"lower_limit": 0.0}),
            r"^from_dict: model\.centre must be a number, null, a list or a dictionary with a "
            r"'type', got \{'lower_limit': 0\.0\}\.$",
            id="value",
        ),
        pytest.param(
            lambda d: d["arguments"]["centre"].__setitem__("lower_limit", "zero"),
            r"^from_dict: model\.centre\.lower_limit must be a number, got 'zero'\.$",
            id="number",
        ),
    ],
)
def test_from_dict_names_the_bad_entry(edit, message):
    d = _gaussian_model().dict()
    edit(d)
    with pytest.raises(gf.ModelInputError, match=message):
        gf.Model.from_dict(d)


# -- spec: hierarchical factors and factor graphs --------------------------------------------


def _population(name: str | None = None) -> gf.HierarchicalFactor:
    return gf.HierarchicalFactor(
        gf.GaussianPrior,
        name=name,
        mean=gf.UniformPrior(0.0, 100.0),
        sigma=gf.UniformPrior(0.0, 10.0),
    )


def test_a_population_sigma_number_must_be_positive():
    with pytest.raises(gf.PriorError, match=r"^HierarchicalFactor: sigma = -1\.0 must be > 0\.$"):
        gf.HierarchicalFactor(gf.GaussianPrior, mean=gf.UniformPrior(0.0, 1.0), sigma=-1.0)


def test_a_drawn_variable_must_be_a_prior():
    with pytest.raises(
        gf.FactorGraphError,
        match=r"^add_drawn_variable: expected a prior \(a model's free parameter\), got 50\.0 "
        r"of type float\.$",
    ):
        _population().add_drawn_variable(50.0)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        pytest.param(
            ("dataset", "population"),
            r"^FactorGraphModel: the hierarchical factor and a dataset are both named 'night'; "
            r"names must be unique\.$",
            id="dataset-name",
        ),
        pytest.param(
            ("population", "population"),
            r"^FactorGraphModel: hierarchical factors share a name: \['night', 'night'\]\.$",
            id="two-populations",
        ),
    ],
)
def test_hierarchical_factor_names_must_be_unique(names, message):
    models = [_gaussian_model(), _gaussian_model()]
    factors = [
        gf.AnalysisFactor(m, _analysis(k), name="night" if k == 0 and "dataset" in names else None)
        for k, m in enumerate(models)
    ]
    populations = []
    for k, kind in enumerate(names):
        if kind == "population":
            population = _population(name="night")
            population.add_drawn_variable(models[k].centre)
            populations.append(population)
    with pytest.raises(gf.FactorGraphError, match=message):
        gf.FactorGraphModel(*factors, *populations)


# -- ex: the example analyses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda: gf.ex.HistogramAnalysis(np.ones((2, 2)), [0.0, 1.0, 2.0]),
            r"^ex\.HistogramAnalysis: counts must be 1D, got shape \(2, 2\)\.$",
            id="counts-2d",
        ),
        pytest.param(
            lambda: gf.ex.HistogramAnalysis([1, 2], [0.0, 2.0, 1.0]),
            r"^ex\.HistogramAnalysis: bin_edges must be strictly increasing",
            id="bin-edges",
        ),
        pytest.param(
            lambda: gf.ex.HistogramAnalysis([1, 2], [0.0, 1.0, 2.0], background=-0.5),
            r"^ex\.HistogramAnalysis: background = -0\.5 must be a number >= 0\.$",
            id="background",
        ),
        pytest.param(
            lambda: gf.ex.ImagingAnalysis(np.ones((2, 2)), np.ones((2, 2)), pixel_scale=0.0),
            r"^ex\.ImagingAnalysis: pixel_scale = 0\.0 must be a number > 0\.$",
            id="pixel-scale",
        ),
    ],
)
def test_the_example_analyses_name_the_bad_argument(make, message):
    with pytest.raises(gf.DataError, match=message):
        make()


# -- backend: what an analysis's code returns, checked when the fit is compiled -------------


class NotAnObservation(gf.ex.Analysis):
    def observation(self, instance, xp=np):
        return {"model_data": instance.model_data_from(np.arange(100.0))}


class WrongDims(gf.ex.Analysis):
    def observation(self, instance, xp=np):
        observation = super().observation(instance, xp)
        observation.dims = ("x", "y")
        return observation


class BrokenBlackBox(gf.BlackBoxAnalysis):
    def __init__(self, data):
        self.data = data

    def log_likelihood_function(self, instance):
        return self.data["missing"]


class UnwrittenBlackBox(gf.BlackBoxAnalysis):
    """A black-box analysis whose author forgot log_likelihood_function."""


@pytest.mark.parametrize(
    ("analysis", "message"),
    [
        pytest.param(
            NotAnObservation(*gf.ex.simulate_gaussian_dataset(seed=0)),
            r"^dataset 'dataset_0': NotAnObservation\.observation\(\) returned dict; it must "
            r"return an observation: gf\.GaussianObservation, gf\.PoissonObservation or "
            r"gf\.StudentTObservation\.$",
            id="not-an-observation",
        ),
        pytest.param(
            WrongDims(*gf.ex.simulate_gaussian_dataset(seed=0)),
            r"^dataset 'dataset_0': observation dims \('x', 'y'\) do not match the data's 1 "
            r"dimension\(s\) \(shape \(100,\)\)\.$",
            id="dims",
        ),
        pytest.param(
            BrokenBlackBox({}),
            r"^dataset 'dataset_0': the numpy log-likelihood of BrokenBlackBox did not return "
            r"numbers at the prior medians \(KeyError: 'missing'\)\.$",
            id="black-box-raises",
        ),
        pytest.param(
            UnwrittenBlackBox(),
            r"^dataset 'dataset_0': the numpy log-likelihood of UnwrittenBlackBox did not return "
            r"numbers at the prior medians \(NotImplementedError: UnwrittenBlackBox is a "
            r"black-box analysis but does not define log_likelihood_function\(instance\)\.\)\.$",
            id="black-box-missing",
        ),
    ],
)
def test_bad_analysis_code_is_reported_before_the_fit(analysis, message):
    with pytest.raises(gf.FactorGraphError, match=message):
        _map().fit(model=_gaussian_model(), analysis=analysis)


def test_graphviz_without_the_graphviz_package_says_what_to_install(monkeypatch):
    graph = gf.FactorGraphModel(gf.AnalysisFactor(_gaussian_model(), _analysis()))
    monkeypatch.setitem(sys.modules, "graphviz", None)  # not installed
    with pytest.raises(
        ImportError,
        match=r"^FactorGraphModel\.graphviz\(\) needs the graphviz Python package: pip install "
        r"'graphfit\[graphviz\]' \(rendering also needs Graphviz's `dot` program\)\.$",
    ):
        graph.graphviz()


# -- batch: fit_each's arguments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        pytest.param(
            lambda: gf.AnalysisFactor(_gaussian_model(), _analysis()),
            r"^fit_each: factors must be a list of gf\.AnalysisFactor, got AnalysisFactor\.$",
            id="one-factor",
        ),
        pytest.param(
            lambda: [_analysis()],
            r"^fit_each: factors\[0\] is <graphfit\.ex\.analysis\.Analysis object at 0x[0-9a-f]+> "
            r"of type Analysis; every entry must be a gf\.AnalysisFactor\.$",
            id="an-entry",
        ),
    ],
)
def test_fit_each_names_a_bad_factors_argument(factors, message):
    with pytest.raises(gf.FactorGraphError, match=message):
        gf.fit_each(factors(), _map(), progressbar=False)


class NoWorkers(Executor):
    """An executor that takes tasks and never runs them (a Dask cluster without workers)."""

    def submit(self, fn, /, *args, **kwargs):
        return Future()


def test_fit_each_with_an_executor_that_runs_nothing_says_so(monkeypatch):
    monkeypatch.setattr(executors, "PING_TIMEOUT", 0.05)
    factor = gf.AnalysisFactor(_gaussian_model(), _analysis())
    with pytest.raises(
        gf.ExecutorError,
        match=r"^fit_each: the executor NoWorkers did not run a test task within 0\.05 s; does "
        r"it have any workers\?$",
    ):
        gf.fit_each([factor], _map(), executor=NoWorkers(), progressbar=False)


# -- search: settings checked when a search is built, and before it runs --------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda: gf.DynestyStatic(facc=0.0),
            r"^DynestyStatic: facc must be in \(0, 1\], got 0\.0\.$",
            id="dynesty-facc",
        ),
        pytest.param(
            lambda: gf.SMC(correlation_threshold=1.0),
            r"^SMC: correlation_threshold must be in \(0, 1\), got 1\.0\.$",
            id="smc-correlation-threshold",
        ),
    ],
)
def test_search_settings_out_of_range_are_refused(make, message):
    with pytest.raises(gf.SearchError, match=message):
        make()


class MostlyImpossible(gf.BlackBoxAnalysis):
    """A likelihood that is zero (log -inf) except for centre > 99."""

    def log_likelihood_function(self, instance):
        return 0.0 if instance.centre > 99.0 else -np.inf


def test_emcee_prior_starts_with_too_few_finite_draws_say_what_to_use():
    pytest.importorskip("emcee")
    search = gf.Emcee(nwalkers=8, nsteps=10, random_seed=1, progressbar=False, initializer="prior")
    with pytest.raises(
        gf.SearchError,
        match=r"^Emcee: only \d of 32 draws from the prior have a finite log density, fewer "
        r"than the 8 walkers; use the default InitializerBall\.$",
    ):
        search.fit(model=_gaussian_model(), analysis=MostlyImpossible())


def test_dynesty_names_the_assertion_variable_it_cannot_sample():
    pytest.importorskip("dynesty")
    model = _gaussian_model()
    model.add_assertion(model.sigma < model.centre)
    search = gf.DynestyStatic(nlive=10, maxcall=50, random_seed=1, progressbar=False)
    with pytest.raises(
        gf.SearchError,
        match=r"^DynestyStatic: free variable\(s\) \['sigma_gap'\] of the compiled model have no "
        r"graphfit prior \(e\.g\. the gap variable of an assertion between parameters, such as "
        r"model\.sigma < model\.centre\); nested sampling supports graphs of priors and "
        r"relations only: fit with gf\.SMC, which also gives the log evidence\.$",
    ):
        search.fit(model=model, analysis=_analysis())

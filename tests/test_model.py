import numpy as np
import pytest

import graphfit as gf


class Line:
    def __init__(self, slope, intercept):
        self.slope = slope
        self.intercept = intercept


class WithDefaults:
    default_priors = {"a": gf.UniformPrior(0.0, 1.0)}

    def __init__(self, a, b):
        self.a, self.b = a, b


def test_parameters_come_from_init_and_defaults_are_fresh():
    model_1 = gf.Model(gf.ex.Gaussian)
    model_2 = gf.Model(gf.ex.Gaussian)
    assert isinstance(model_1.centre, gf.UniformPrior)
    assert model_1.centre is not model_2.centre  # a new Model gets new parameters
    assert model_1.total_free_parameters == 3
    assert model_1.prior_count == 3


def test_assignment_prior_relation_and_fixed_value():
    model = gf.Model(Line)
    model.slope = gf.UniformPrior(-1.0, 1.0)
    model.intercept = 2.0
    assert model.total_free_parameters == 1
    model.intercept = model.slope * 2.0
    assert model.total_free_parameters == 1
    instance = model.instance_from({model.slope: 0.25})
    assert isinstance(instance, Line)
    assert instance.slope == 0.25 and instance.intercept == 0.5


def test_keyword_arguments_set_parameters():
    model = gf.Model(Line, slope=1.0, intercept=gf.GaussianPrior(0.0, 1.0))
    assert model.slope == 1.0
    assert model.total_free_parameters == 1


def test_copy_keeps_prior_identity_and_new_priors_are_new_parameters():
    model = gf.Model(gf.ex.Gaussian)
    copy = model.copy()
    assert copy.centre is model.centre and copy.sigma is model.sigma
    copy.sigma = gf.UniformPrior(0.0, 30.0)
    assert copy.sigma is not model.sigma
    assert model.sigma is not None and isinstance(model.sigma, gf.UniformPrior)
    collection = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian))
    collection_copy = collection.copy()
    assert collection_copy.gaussian is not collection.gaussian
    assert collection_copy.gaussian.centre is collection.gaussian.centre


def test_collection_instance_by_name_and_index():
    collection = gf.Collection(
        gaussian=gf.Model(gf.ex.Gaussian), exponential=gf.Model(gf.ex.Exponential)
    )
    assert collection.total_free_parameters == 6
    values = {p: p.median() for p in collection.priors()}
    instance = collection.instance_from(values)
    assert isinstance(instance.gaussian, gf.ex.Gaussian)
    assert instance[0] is instance.gaussian
    assert instance[1] is instance.exponential
    assert instance["exponential"] is instance.exponential
    assert len(instance) == 2
    assert collection[0] is collection.gaussian


def test_default_priors_declared_in_code():
    model = gf.Model(WithDefaults)
    assert isinstance(model.a, gf.UniformPrior)
    assert model.b is None


def test_missing_prior_is_an_error_naming_path():
    model = gf.Model(WithDefaults)
    with pytest.raises(
        gf.MissingPriorError,
        match=r"model: 'b' \(parameter of WithDefaults\) has neither a prior nor a value",
    ):
        model.total_free_parameters
    collection = gf.Collection(component=gf.Model(WithDefaults))
    with pytest.raises(gf.MissingPriorError, match=r"'component.b' \(parameter of WithDefaults\)"):
        collection.info
    with pytest.raises(gf.MissingPriorError, match=r"AnalysisFactor 'd': 'component.b'"):
        gf.AnalysisFactor(collection, gf.ex.Analysis(np.ones(3), np.ones(3)), name="d")


def test_unknown_attribute_is_an_error():
    model = gf.Model(gf.ex.Gaussian)
    with pytest.raises(
        gf.ModelAttributeError,
        match=r"Gaussian has no parameter 'centr'; the arguments of Gaussian.__init__ are: centre, normalization, sigma.",
    ) as info:
        model.centr = gf.UniformPrior(0.0, 1.0)
    assert isinstance(info.value, TypeError)
    with pytest.raises(gf.ModelAttributeError, match="Gaussian has no parameter 'width'"):
        gf.Model(gf.ex.Gaussian, width=1.0)


def test_bad_values_are_errors():
    model = gf.Model(gf.ex.Gaussian)
    with pytest.raises(
        gf.ModelAttributeError,
        match=r"Gaussian.centre: got '50' of type str; a parameter may be set to a prior",
    ):
        model.centre = "50"
    with pytest.raises(gf.ModelAttributeError, match=r"Gaussian.centre: the fixed value is NaN"):
        model.centre = float("nan")
    with pytest.raises(gf.ModelAttributeError, match=r"gf.Model takes a class, got 3 of type int"):
        gf.Model(3)


def test_bad_default_priors():
    class Bad:
        default_priors = {"z": gf.UniformPrior(0.0, 1.0)}

        def __init__(self, a):
            self.a = a

    with pytest.raises(
        gf.ModelAttributeError,
        match=r"Bad.default_priors names 'z', which is not an argument of Bad.__init__ \(arguments: a\)",
    ):
        gf.Model(Bad)

"""Assertions: comparisons of priors restrict the posterior (model.add_assertion)."""

import warnings

import numpy as np
import pytest
from scipy import stats

import graphfit as gf
from tests.conftest import search

N, NOISE = 25, 1.0


class Level:
    """A constant profile: with n points of noise s the posterior of ``level`` is
    Normal(mean(data), s / sqrt(n)) under a wide uniform prior."""

    default_priors = {"level": gf.UniformPrior(-10.0, 10.0)}

    def __init__(self, level):
        self.level = level

    def model_data_from(self, xvalues, xp=np):
        return self.level + 0.0 * xp.asarray(xvalues)


def level_analysis(truth, seed):
    data = truth + np.random.default_rng(seed).normal(0.0, NOISE, N)
    return gf.ex.Analysis(data, np.full(N, NOISE))


# -- the objects ----------------------------------------------------------------------------


def test_comparisons_make_assertions_and_leave_identity_alone():
    a = gf.UniformPrior(0.0, 1.0, name="a")
    b = gf.UniformPrior(0.0, 1.0, name="b")
    assert repr(a > b) == "Assertion(a > b)"
    assert repr(a <= 2 * b - 0.5) == "Assertion(a <= (2.0 * b) - 0.5)"
    assert repr(0.5 < a) == "Assertion(a > 0.5)"
    assert repr(a + b >= 1) == "Assertion(a + b >= 1.0)"
    assert isinstance(a < 0.3, gf.Assertion)
    # equality and hashing are still by identity: priors stay usable as dict keys
    twin = gf.UniformPrior(0.0, 1.0, name="a")
    assert a == a and a != twin and {a: 1, twin: 2}[a] == 1
    with pytest.raises(gf.ConstraintError, match=r"^Assertion\(a > 0.5\) has no truth value"):
        bool(a > 0.5)
    with pytest.raises(gf.RelationError, match=r"assertion '>': got 'b' of type str"):
        a > "b"  # noqa: B015


def test_add_assertion_rejects_what_is_not_an_assertion_of_the_model_or_graph():
    model = gf.Model(Level)
    with pytest.raises(
        gf.ConstraintError,
        match=r"^Level.add_assertion: got True of type bool; give a comparison of the model's "
        r"parameters, e.g. model.add_assertion\(model.a > model.b\)",
    ):
        model.add_assertion(True)
    stranger = gf.UniformPrior(0.0, 1.0, name="stranger")
    with pytest.raises(
        gf.ConstraintError,
        match=r"^Level.add_assertion: Assertion\(UniformPrior#\d+ > stranger\) uses "
        r"UniformPrior\(lower_limit=0.0, upper_limit=1.0, name='stranger'\), which is not a "
        r"parameter of this model",
    ):
        model.add_assertion(model.level > stranger)
    graph = gf.FactorGraphModel(gf.AnalysisFactor(model, level_analysis(0.0, 0)))
    with pytest.raises(
        gf.ConstraintError,
        match=r"^FactorGraphModel.add_assertion: Assertion\(UniformPrior#\d+ > stranger\) uses "
        r"UniformPrior\(lower_limit=0.0, upper_limit=1.0, name='stranger'\), which is not a "
        r"parameter of any factor's model.$",
    ):
        graph.add_assertion(model.level > stranger)


def two_levels(assertion=None, truths=(0.3, 0.0)):
    """Two datasets, each with its own level (``a`` and ``b``); the assertion compares them."""
    a = gf.UniformPrior(-10.0, 10.0, name="a")
    b = gf.UniformPrior(-10.0, 10.0, name="b")
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(gf.Model(Level, level=a), level_analysis(truths[0], 1)),
        gf.AnalysisFactor(gf.Model(Level, level=b), level_analysis(truths[1], 2)),
    )
    if assertion is not None:
        graph.global_prior_model.add_assertion(assertion(a, b))
    return graph


def test_how_assertions_are_compiled_and_shown():
    graph = two_levels(lambda a, b: a > b)
    compiled = graph.compile()
    model = compiled.model
    # a > b: a = b + a_gap, a_gap > 0 (no potential wall for the assertion itself)
    assert [rv.name for rv in model.free_RVs] == ["b", "a_gap"]
    assert [p.name for p in model.potentials] == ["a_prior"]
    assert compiled.assertions == {}
    assert graph.info.endswith("\nAssertions\n    a > b\n")
    # a number bound: the interval transform is cut, nothing else changes
    model_1 = gf.Model(Level)
    model_1.add_assertion(model_1.level >= 2.5)
    compiled_1 = gf.FactorGraphModel(gf.AnalysisFactor(model_1, level_analysis(0.0, 0))).compile()
    transform = compiled_1.model.rvs_to_transforms[compiled_1.model["level"]]
    lower, upper = (float(v.data) for v in transform.args_fn())
    assert (lower, upper) == (2.5, 10.0)
    assert compiled_1.model.potentials == []
    # a relation on both sides: a potential wall
    graph_2 = two_levels(lambda a, b: a + b < 1.0)
    compiled_2 = graph_2.compile()
    assert compiled_2.assertions == {"assertion_0": "a + b < 1.0"}
    assert [p.name for p in compiled_2.model.potentials] == ["assertion_0"]


def test_impossible_assertions_are_clear_errors():
    model = gf.Model(Level)
    model.add_assertion(model.level > 30.0)
    graph = gf.FactorGraphModel(gf.AnalysisFactor(model, level_analysis(0.0, 0)))
    with pytest.raises(
        gf.ConstraintError,
        match=r"^the assertions on 'level' cannot hold: with the limits of its prior "
        r"UniformPrior\(lower_limit=-10.0, upper_limit=10.0\) they leave the empty interval "
        r"\(30.0, 10.0\). Relax the assertions or widen the prior.$",
    ):
        graph.compile()
    graph = two_levels(lambda a, b: a - b > 25.0)
    with pytest.raises(
        gf.ConstraintError,
        match=r"^no starting point satisfies all of the model's assertions: none of 201 points "
        r"drawn around the priors' centres does \(points satisfying each assertion: "
        r"a - b > 25.0: 0\)",
    ):
        gf.MAP(random_seed=0).fit(model=graph.global_prior_model, analysis=graph)


def test_map_respects_a_wall_assertion():
    # the unconstrained optimum (a + b near 0.3) violates the assertion
    graph = two_levels(lambda a, b: a + b < -0.5, truths=(0.3, 0.0))
    result_list = gf.MAP(random_seed=0).fit(model=graph.global_prior_model, analysis=graph)
    a, b = (float(result_list.idata.posterior[n].values.ravel()[0]) for n in ("a", "b"))
    assert a + b < -0.5
    # (L-BFGS stops at the wall, not necessarily on the constrained optimum a + b = -0.5)


# -- sampling -------------------------------------------------------------------------------


def fit(graph, chains=2):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        return search(draws=1000, tune=1000, chains=chains, target_accept=0.95).fit(
            model=graph.global_prior_model, analysis=graph
        )


def short_fit(graph):
    """2 chains of 100 draws: enough to check what every draw must satisfy, not the shape of
    the posterior (the slow tests below)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        return search(draws=100, tune=100, chains=2, cores=1).fit(
            model=graph.global_prior_model, analysis=graph
        )


def test_every_draw_satisfies_a_number_bound_and_a_greater_than_b():
    # one fit for both (a NUTS run's compile is most of its time): b's number bound cuts its
    # interval transform, a > b makes a = b + a_gap
    graph = two_levels(lambda a, b: a > b, truths=(0.1, 0.0))
    b = graph.factors[1].prior_model.level
    cut = float(graph.factors[1].analysis.data.mean()) + 0.1  # just above b's posterior mode
    graph.global_prior_model.add_assertion(b > cut)
    result_list = short_fit(graph)
    posterior = result_list.idata.posterior
    assert posterior["b"].values.min() > cut
    assert (posterior["a"] - posterior["b"]).values.min() > 0
    # every dataset's own view has its level as usual
    assert list(result_list[1].idata.posterior.data_vars) == ["level"]
    np.testing.assert_array_equal(result_list[1].idata.posterior["level"], posterior["b"])


@pytest.mark.slow
def test_a_number_bound_gives_the_truncated_posterior():
    model = gf.Model(Level)
    analysis = level_analysis(2.0, 0)
    mean, sd = float(analysis.data.mean()), NOISE / np.sqrt(N)
    cut = mean + 0.1  # cuts the posterior just above its mode
    model.add_assertion(model.level > cut)
    # four chains: R-hat from two chains of a posterior piled at a wall is too noisy to check
    result = fit(gf.FactorGraphModel(gf.AnalysisFactor(model, analysis)), chains=4)
    draws = result[0].idata.posterior["level"].values.ravel()
    assert draws.min() > cut
    truncated = stats.truncnorm((cut - mean) / sd, np.inf, loc=mean, scale=sd)
    assert abs(draws.mean() - truncated.mean()) < 4 * truncated.std() / np.sqrt(400)
    assert draws.std() == pytest.approx(truncated.std(), rel=0.15)
    assert float(result.diagnostics.table["r_hat"].max()) <= 1.01


@pytest.mark.slow
def test_a_greater_than_b_gives_the_truncated_joint_posterior():
    graph = two_levels(lambda a, b: a > b, truths=(0.1, 0.0))
    result_list = fit(graph)
    posterior = result_list.idata.posterior
    difference = (posterior["a"] - posterior["b"]).values.ravel()
    assert difference.min() > 0
    assert result_list.diagnostics.divergences == 0
    # without the assertion a - b ~ Normal(mean_a - mean_b, sqrt(2) s / sqrt(n)); with it,
    # that normal truncated to a - b > 0
    means = [float(f.analysis.data.mean()) for f in graph.factors]
    sd = np.sqrt(2.0) * NOISE / np.sqrt(N)
    truncated = stats.truncnorm(-(means[0] - means[1]) / sd, np.inf, means[0] - means[1], sd)
    assert abs(difference.mean() - truncated.mean()) < 4 * truncated.std() / np.sqrt(400)
    assert difference.std() == pytest.approx(truncated.std(), rel=0.15)
    # every dataset's own view has its level as usual
    assert list(result_list[1].idata.posterior.data_vars) == ["level"]
    np.testing.assert_array_equal(result_list[1].idata.posterior["level"], posterior["b"])


def test_nuts_draws_satisfy_a_wall_assertion():
    graph = two_levels(lambda a, b: a + b < 0.0, truths=(0.3, 0.0))
    with warnings.catch_warnings():  # a hard wall makes NUTS report divergent transitions
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        result_list = short_fit(graph)
    posterior = result_list.idata.posterior
    assert float((posterior["a"] + posterior["b"]).max()) < 0.0

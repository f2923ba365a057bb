"""Each prior kind declares what graphfit needs of it in one place (its class): a kind defined
here, outside graphfit, compiles, stacks, bounds, transforms for dynesty and fits; and every
built-in kind's declared PyMC form has the density of its numpy logpdf."""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate

import graphfit as gf
from graphfit.backend.variables import prior_logp, prior_variable
from graphfit.plan.naming import Group
from graphfit.search.dynesty import prior_transform


class ExponentialPrior(gf.Prior):
    """A prior kind graphfit does not ship: density ``rate * exp(-rate * x)`` on ``x >= 0``."""

    __slots__ = ("rate",)
    arguments = ("rate",)

    def __init__(self, rate: float = 1.0, *, name: str | None = None) -> None:
        self.rate = float(rate)
        super().__init__(name=name)

    def pymc_form(self) -> gf.PyMCForm:
        return gf.PyMCForm("Exponential", {"lam": self.rate})

    @classmethod
    def ppf(cls, q, rate=1.0):
        return -np.log1p(-np.asarray(q, dtype=float)) / rate

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x >= 0, math.log(self.rate) - self.rate * x, -np.inf)

    def support(self):
        return 0.0, math.inf


KINDS = [
    gf.UniformPrior(-1.0, 3.0),
    gf.LogUniformPrior(0.1, 10.0),
    gf.GaussianPrior(1.0, 2.0),
    gf.GaussianPrior(1.0, 2.0, lower_limit=0.0),
    gf.TruncatedGaussianPrior(1.0, 2.0, -1.0, 2.5),
    gf.LogGaussianPrior(0.5, 0.7),
    ExponentialPrior(0.5),
]


@pytest.mark.parametrize("prior", KINDS, ids=repr)
def test_the_declared_pymc_form_has_the_numpy_density(prior):
    """The compiled variable's log density (PyMC) equals the kind's numpy ``logpdf``, inside
    and outside the support; the numpy ``logpdf`` integrates to 1 and its CDF inverts ``ppf``."""
    import pymc as pm

    low = prior.support()[0]
    inside = prior.quantile(np.array([0.05, 0.3, 0.5, 0.9]))
    with pm.Model():
        variable = prior_variable(Group("p", [prior], vector=False))
    # PyTensor keeps a float argument that float32 holds exactly (-1.0, 3.0) as float32, so a
    # constant such as -log(4) is exact to float32's 1e-7, not float64's
    expected = prior.logpdf(inside)
    np.testing.assert_allclose(pm.logp(variable, inside).eval(), expected, rtol=1e-6)
    np.testing.assert_allclose(prior_logp(prior, inside).eval(), expected, rtol=1e-6)
    if math.isfinite(low):
        assert np.all(np.isneginf(prior.logpdf(low - 1.0)))
        assert np.isneginf(prior_logp(prior, np.float64(low - 1.0)).eval())
    density = lambda x: math.exp(float(prior.logpdf(x)))  # noqa: E731
    lo, hi = prior.quantile(1e-9), prior.quantile(1.0 - 1e-9)
    assert integrate.quad(density, lo, hi, limit=200)[0] == pytest.approx(1.0, abs=1e-6)
    assert integrate.quad(density, lo, inside[1], limit=200)[0] == pytest.approx(0.3, abs=1e-6)
    assert prior.median() == pytest.approx(float(prior.quantile(0.5)), rel=1e-9)
    draws = prior.draw(20000, rng=np.random.default_rng(0))
    assert np.mean(draws <= inside[2]) == pytest.approx(0.5, abs=0.015)


def test_a_new_kind_stacks_and_fits():
    """Two datasets with their own ``ExponentialPrior`` widths: one vector ``pm.Exponential``
    variable over the datasets; MAP recovers the simulated widths; dynesty's unit-cube
    transform is the kind's ``ppf``."""
    import pymc as pm

    factors = []
    truths = [4.0, 9.0]
    for k, sigma in enumerate(truths):
        data, noise = gf.ex.simulate_gaussian_dataset(
            centre=50.0, normalization=20.0, sigma=sigma, seed=k
        )
        model = gf.Model(gf.ex.Gaussian)
        model.sigma = ExponentialPrior(0.1)
        factors.append(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)))
    graph = gf.FactorGraphModel(*factors)
    pymc_model = graph.to_pymc()
    sigma = pymc_model["sigma"]
    assert isinstance(sigma.owner.op, pm.Exponential.rv_type)
    assert pymc_model.free_RVs[-1].type.shape in ((2,), (None,))
    assert "sigma" in graph.info and "ExponentialPrior [" in graph.info

    result_list = gf.MAP(random_seed=1).fit(graph.global_prior_model, graph)
    fitted = [float(result_list[k].max_log_likelihood_instance.sigma) for k in range(2)]
    np.testing.assert_allclose(fitted, truths, rtol=0.1)

    transform, layout = prior_transform([Group("s", [ExponentialPrior(2.0)], vector=False)])
    assert transform([0.5]).tolist() == [pytest.approx(math.log(2.0) / 2.0)]
    assert layout[0][0] == "s"


@pytest.mark.parametrize("bound", ["number", "expression"])
def test_a_new_kind_bounded_by_an_assertion(bound):
    """``width < 8`` cuts the new kind's interval (an interval transform on its support);
    ``width > centre / 5`` shifts it, its density then a potential from the declared form."""
    data, noise = gf.ex.simulate_gaussian_dataset(sigma=12.0, seed=3)
    model = gf.Model(gf.ex.Gaussian)
    model.sigma = ExponentialPrior(0.1)
    if bound == "number":
        model.add_assertion(model.sigma < 8.0)
    else:
        model.add_assertion(model.sigma > model.centre / 5.0)
    graph = gf.FactorGraphModel(gf.AnalysisFactor(model, gf.ex.Analysis(data, noise)))
    pymc_model = graph.to_pymc()
    if bound == "number":
        transform = pymc_model.rvs_to_transforms[pymc_model["sigma"]]
        assert type(transform).__name__ == "Interval"
    else:
        assert "sigma_prior" in pymc_model.named_vars
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gf.MultimodalityWarning)
        fitted = gf.MAP(random_seed=2).fit(graph.global_prior_model, graph)[0]
    sigma = fitted.max_log_likelihood_instance.sigma
    if bound == "number":  # the data want 12: the bound holds it at 8
        assert 7.9 < sigma < 8.0
    else:  # 50 / 5 = 10 < 12: the bound does not bind
        assert sigma == pytest.approx(12.0, rel=0.05)


def test_a_kind_without_a_population_family_is_not_a_population():
    with pytest.raises(gf.FactorGraphError) as caught:
        gf.HierarchicalFactor(ExponentialPrior, rate=1.0)
    assert str(caught.value).startswith(
        "HierarchicalFactor: distribution must be one of GaussianPrior, LogGaussianPrior, "
        "UniformPrior or TruncatedGaussianPrior (a prior kind with a population_family), got "
    )


def test_a_form_that_names_no_pymc_distribution_is_a_clear_error():
    class Broken(ExponentialPrior):
        __slots__ = ()

        def pymc_form(self):
            return gf.PyMCForm("NoSuchDistribution", {"lam": self.rate})

    model = gf.Model(gf.ex.Gaussian)
    model.sigma = Broken(1.0)
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0)))
    )
    with pytest.raises(TypeError, match=r"names 'NoSuchDistribution', which is neither a PyMC"):
        graph.to_pymc()

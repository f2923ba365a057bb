"""Pointwise log-likelihood over all draws in NumPy, and fit_each fitting with no C code."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pymc as pm
import pytest
from pymc.model.transform.conditioning import remove_value_transforms

import graphfit as gf
import graphfit.backend.pointwise as pointwise
import graphfit.batch.fit_each as independent_fits
from graphfit.backend import stack
from graphfit.backend.pointwise import VECTORIZE_MAX_VALUES, python_mode, vectorized_log_likelihood

ROOT = Path(__file__).resolve().parents[1]


def test_vectorized_log_likelihood_matches_pymc_per_draw():
    """Every draw's pointwise log-likelihood as PyMC's compute_log_likelihood gives it, for a
    model with an observed vector, a batched free vector and a term shared by all draws."""
    rng = np.random.default_rng(3)
    y = rng.normal(size=(5, 4))
    with pm.Model(coords={"row": range(5), "col": range(4)}) as model:
        mu = pm.Normal("mu", dims="col")
        sigma = pm.HalfNormal("sigma")
        scale = pm.Deterministic("scale", 2.0 * sigma)
        pm.Normal("obs", mu * scale * 0.5, sigma, observed=y, dims=("row", "col"))
        pm.Poisson("counts", pm.math.exp(mu[0]), observed=[1, 0, 3])
        # two parameter checks (alpha > 0, beta > 0) in one node
        pm.Beta("fractions", alpha=mu[1] + 1.0, beta=sigma, observed=[0.2, 0.7])
    draws = {"mu": rng.normal(size=(2, 7, 4)), "sigma": rng.uniform(0.5, 2.0, size=(2, 7))}
    draws["mu"][:, :, 1] = np.abs(draws["mu"][:, :, 1])
    # outside the support: -inf for that draw only, as PyMC gives it
    draws["sigma"][1, 3] = -1.0
    draws["mu"][0, 5, 1] = -3.0
    idata = stack.from_arrays(posterior={**draws, "scale": 2.0 * draws["sigma"]})
    expected = pm.compute_log_likelihood(
        idata,
        var_names=["obs", "counts", "fractions"],
        model=model,
        progressbar=False,
        extend_inferencedata=False,
    )
    with pytest.raises(
        ValueError,
        match=r"vectorized_log_likelihood: the model must have no value transforms \(the draws "
        r"are constrained values\), but these variables have one: sigma; pass "
        r"pymc\.model\.transform\.conditioning\.remove_value_transforms\(model\)\.",
    ):
        vectorized_log_likelihood(model, ["obs", "counts"])
    names = ["obs", "counts", "fractions"]
    function = vectorized_log_likelihood(remove_value_transforms(model), names)
    assert function is not None
    got = function(draws)
    assert got["obs"].shape == (2, 7, 5, 4) and got["counts"].shape == (2, 7, 3)
    assert np.all(np.isneginf(got["obs"][1, 3])) and np.isfinite(got["obs"][0]).all()
    np.testing.assert_allclose(got["obs"], expected["obs"].values, rtol=1e-12)
    np.testing.assert_allclose(got["counts"], expected["counts"].values, rtol=1e-12)
    assert np.isneginf(got["fractions"][[0, 1], [5, 3]]).all()
    assert np.isfinite(np.delete(got["fractions"].reshape(14, 2), [5, 10], axis=0)).all()
    np.testing.assert_allclose(got["fractions"], expected["fractions"].values, rtol=1e-12)


def test_vectorized_log_likelihood_in_small_blocks(monkeypatch):
    """Draws are evaluated in blocks of at most BLOCK_VALUES values; the result is the same."""
    with pm.Model() as model:
        mu = pm.Normal("mu")
        pm.Normal("obs", mu, 1.0, observed=np.arange(10.0))
    draws = {"mu": np.linspace(-1, 1, 3 * 11).reshape(3, 11)}
    whole = vectorized_log_likelihood(model, ["obs"])(draws)["obs"]
    assert pointwise.BLOCK_VALUES // 10 >= 32  # default: the first draw, then 32 at once
    monkeypatch.setattr("graphfit.backend.pointwise.BLOCK_VALUES", 25)  # 2 draws per block
    blocks = vectorized_log_likelihood(model, ["obs"])(draws)["obs"]
    np.testing.assert_array_equal(blocks, whole)
    expected = -0.5 * (np.arange(10.0) - draws["mu"][..., None]) ** 2 - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(whole, expected, rtol=1e-13)


def test_vectorized_log_likelihood_gives_none_for_unknown_variables_and_big_data():
    with pm.Model() as model:
        pm.Normal("obs", pm.Normal("mu"), 1.0, observed=np.zeros(VECTORIZE_MAX_VALUES))
        pm.Normal("more", model["mu"], 1.0, observed=[0.0])
    assert vectorized_log_likelihood(model, ["not_in_the_model"]) is None
    assert vectorized_log_likelihood(model, ["obs"]) is not None
    assert vectorized_log_likelihood(model, ["obs", "more"]) is None  # one value too many


def test_python_mode_splits_products_of_three_terms():
    """NumPy's multiply takes two arrays: a product of three runs as two binary products (an
    n-ary one would run element by element in Python)."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.scalar import Mul
    from pytensor.tensor.elemwise import Elemwise

    a, b, c = pt.dvector("a"), pt.dvector("b"), pt.dvector("c")
    function = pytensor.function([a, b, c], pt.exp(a * b * c), mode=python_mode())
    products = [
        node
        for node in function.maker.fgraph.apply_nodes
        if isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, Mul)
    ]
    assert len(products) == 2 and all(len(node.inputs) == 2 for node in products)
    assert function([1.0], [2.0], [0.5]).tolist() == [np.e]


def test_fit_each_log_likelihood_equals_pymc_on_the_dataset_own_model():
    """The log-likelihood fit_each computes (vectorised, on the shared model holding this
    dataset's data) is PyMC's on a model compiled for this dataset alone."""
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(0.0, 100.0)
    model.normalization = gf.LogUniformPrior(1e-2, 1e2)
    model.sigma = gf.GaussianPrior(10.0, 5.0, lower_limit=0.0)
    factors = [
        gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(centre=c, seed=k)))
        for k, c in enumerate([45.0, 55.0])
    ]
    independent_fits.clear_cache()
    search = gf.NUTS(draws=30, tune=30, chains=2, cores=1, random_seed=2, progressbar=False)
    with warnings.catch_warnings():  # a short run: only its log-likelihood is checked here
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        result_list = gf.fit_each(factors, search, progressbar=False)
    assert result_list.compile_count == 1
    for factor, result in zip(factors, result_list, strict=True):
        own = gf.FactorGraphModel(factor).compile()  # a model of its own, data as constants
        (own_name,) = [n.loglike_name for n in own.nodes]
        (name,) = list(result.idata.log_likelihood.data_vars)
        expected = pm.compute_log_likelihood(
            stack.make_idata(posterior=stack.group(result.idata, "posterior")),
            var_names=[own_name],
            model=own.model,
            progressbar=False,
            extend_inferencedata=False,
        )
        got = result.idata.log_likelihood[name]
        assert got.shape == (2, 30, 100)
        # NumPy and PyMC's C code order the operations (and round exp and log) differently:
        # equal to rounding.  Each value is a sum of terms up to about 10 in size (the squared
        # residual over the noise, the log of the noise), so a few ulp of those terms, about
        # 1e-14 in absolute terms, can remain where the sum nears 0 (values of 1e-3): there a
        # relative tolerance says nothing and the absolute one is set by the terms' size.
        terms = 10.0 * np.finfo(float).eps * 50  # 50 ulp of a term of size 10
        np.testing.assert_allclose(got.values, expected[own_name].values, rtol=1e-12, atol=terms)


@pytest.mark.slow
def test_fit_each_with_nutpie_compiles_no_c_code():
    """In a fresh process, fit_each with nutpie (sequential and on a forked pool) never loads
    PyTensor's C-module index nor compiles C: nutpie compiles with numba, the small PyMC
    functions run in Python and the log-likelihood in NumPy."""
    code = textwrap.dedent(
        """
        import warnings
        import graphfit as gf
        import graphfit.batch.fit_each as independent_fits
        import pytensor.link.c.cmodule as cmodule
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        model = gf.Model(gf.ex.Gaussian)
        model.centre = gf.UniformPrior(0.0, 100.0)
        model.normalization = gf.LogUniformPrior(1e-2, 1e2)
        model.sigma = gf.GaussianPrior(10.0, 5.0, lower_limit=0.0)
        factors = [
            gf.AnalysisFactor(
                model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(centre=c, seed=k))
            )
            for k, c in enumerate([40.0, 50.0, 60.0])
        ]
        search = gf.NUTS(draws=200, tune=200, chains=2, cores=1, random_seed=1,
                         sampler="nutpie", progressbar=False)
        for executor in (None, 2):
            independent_fits.clear_cache()  # the pool's first fit compiles in this process
            results = gf.fit_each(factors, search, executor=executor, progressbar=False)
            assert results.failed == [] and results.compile_count == 1, results.stats
        print("C MODULE CACHE LOADED:", cmodule._module_cache is not None)
        """
    )
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "C MODULE CACHE LOADED: False" in done.stdout


def test_warm_worker_loads_the_c_index_only_for_searches_that_compile_c():
    from graphfit.batch.tasks import _compiles_c

    assert not _compiles_c(gf.NUTS(sampler="nutpie"))
    assert _compiles_c(gf.NUTS(sampler="pymc"))
    assert _compiles_c(gf.MAP())
    assert _compiles_c(None) is (importlib.util.find_spec("nutpie") is None)

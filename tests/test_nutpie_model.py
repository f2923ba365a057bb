"""graphfit's nutpie callbacks: right values, keys that follow the data, reuse from disk."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nutpie")

import pymc as pm

from graphfit.search.nutpie_model import compile_nutpie, fast_path_available

ROOT = Path(__file__).resolve().parents[1]
DOUBLE = ctypes.POINTER(ctypes.c_double)


def normal_model(data: np.ndarray, container: bool = False) -> pm.Model:
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 2.0)
        observed = pm.Data("y", data) if container else data
        pm.Normal("obs", mu, sigma, observed=observed)
    return model


def logp_and_grad(compiled, x: np.ndarray) -> tuple[int, float, np.ndarray]:
    """Call the log-density callback the way nutpie does."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    grad, logp = np.zeros_like(x), np.zeros(())
    status = compiled.compiled_logp_func.ctypes(
        x.size,
        x.ctypes.data_as(DOUBLE),
        grad.ctypes.data_as(DOUBLE),
        logp.ctypes.data_as(DOUBLE),
        ctypes.c_void_p(compiled.user_data.ctypes.data),
    )
    return status, float(logp), grad


def pymc_logp_and_grad(model: pm.Model, x: np.ndarray) -> tuple[float, np.ndarray]:
    point = {"mu": x[0], "sigma_log__": x[1]}
    logp = float(model.compile_logp()(point))
    grad = np.asarray(model.compile_dlogp()(point))
    return logp, grad


def test_the_fast_path_is_taken_with_the_installed_nutpie():
    assert fast_path_available()
    compiled = compile_nutpie(normal_model(np.array([0.1, -0.4, 0.7])))
    assert type(compiled).__name__ == "CompiledPyMCModel"
    assert compiled.compiled_logp_func._pyfunc.__name__ == "graphfit_nutpie_logp"
    assert compiled.compiled_expand_func._pyfunc.__name__ == "graphfit_nutpie_expand"


def test_callbacks_give_pymc_log_density_gradient_and_values():
    model = normal_model(np.array([0.1, -0.4, 0.7, 2.5]))
    compiled = compile_nutpie(model)
    assert [name for name, *_ in zip(*compiled.shape_info, strict=True)][:2] == [
        "mu",
        "sigma_log__",
    ]
    for x in (np.array([0.3, -0.2]), np.array([-1.5, 0.8])):
        status, logp, grad = logp_and_grad(compiled, x)
        expected_logp, expected_grad = pymc_logp_and_grad(model, x)
        assert status == 0
        assert logp == pytest.approx(expected_logp, rel=1e-12)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-10)
        values = np.zeros(compiled.n_expanded)
        status = compiled.compiled_expand_func.ctypes(
            2,
            compiled.n_expanded,
            x.ctypes.data_as(DOUBLE),
            values.ctypes.data_as(DOUBLE),
            ctypes.c_void_p(compiled.user_data.ctypes.data),
        )
        assert status == 0
        np.testing.assert_allclose(values, [x[0], x[1], np.exp(x[1])])  # mu, sigma_log__, sigma


def test_a_non_finite_log_density_is_reported_to_nutpie():
    status, _, _ = logp_and_grad(compile_nutpie(normal_model(np.array([0.0, 1.0]))), [0.0, 800.0])
    assert status in (3, 4)


def test_models_that_differ_only_in_their_data_never_share_a_cached_callback():
    """numba's own cache key would give the second model the first one's compiled callback
    (its key covers the callback's code, not the data compiled into the function it calls)."""
    first, second = np.array([0.1, -0.4, 0.7]), np.array([5.0, 6.5, 4.2])
    x = np.array([0.3, -0.2])
    compile_nutpie(normal_model(first))
    other = normal_model(second)
    compiled = compile_nutpie(other)
    assert logp_and_grad(compiled, x)[1] == pytest.approx(pymc_logp_and_grad(other, x)[0])
    again = compile_nutpie(normal_model(first))
    assert again.compiled_logp_func.cache_hits == 1  # the first model's entry, from disk


def test_data_containers_are_read_when_the_callback_runs():
    model = normal_model(np.array([0.1, -0.4, 0.7]), container=True)
    compiled = compile_nutpie(model)
    x = np.array([0.3, -0.2])
    assert logp_and_grad(compiled, x)[1] == pytest.approx(pymc_logp_and_grad(model, x)[0])
    new = np.array([5.0, 6.5, 4.2])
    swapped = compiled.with_data(y=new)
    model["y"].set_value(new)
    expected = pymc_logp_and_grad(model, x)[0]
    assert logp_and_grad(swapped, x)[1] == pytest.approx(expected)
    assert logp_and_grad(compiled, x)[1] != pytest.approx(expected)


def test_nutpie_samples_the_right_posterior_through_the_callbacks():
    """Known variance: mu ~ N(0, 10), y_i ~ N(mu, 1), so mu | y is normal with precision
    n + 1/100; nutpie's own initial points (support point) are used."""
    import nutpie

    data = np.random.default_rng(3).normal(1.7, 1.0, 40)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("obs", mu, 1.0, observed=data)
    idata = nutpie.sample(
        compile_nutpie(model), chains=2, draws=1000, tune=500, seed=5, progress_bar=False
    )
    precision = data.size + 1.0 / 100.0
    mean, sd = data.sum() / precision, precision**-0.5
    draws = idata.posterior["mu"].values.ravel()
    standard_error = sd / np.sqrt(500)  # the ESS is above 500 for this posterior
    assert abs(draws.mean() - mean) < 4 * standard_error
    assert draws.std() == pytest.approx(sd, rel=0.1)


@pytest.mark.slow
def test_a_rerun_in_a_new_process_loads_the_callbacks_from_disk(tmp_path):
    script = tmp_path / "rerun.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np
            import pymc as pm
            from graphfit.search.nutpie_model import compile_nutpie

            with pm.Model() as model:
                mu = pm.Normal("mu", 0.0, 10.0)
                pm.Normal("obs", mu, 1.0, observed=np.array([1.25, 0.5, 2.0, 7.0]))
            compiled = compile_nutpie(model)
            print(compiled.compiled_logp_func.cache_hits, compiled.compiled_expand_func.cache_hits)
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, env=env, check=True
        )
        for _ in range(2)
    ]
    assert runs[1].stdout.split() == ["1", "1"]

"""What graphfit leaves to ArviZ and the platform, and how it makes that quiet and visible.

The convergence checks are ArviZ's ``rhat`` and ``ess`` (``benchmarks/diagnostics.py``: a
vectorised copy of them was only 1.1 to 1.6 times as fast), with the same figures as graphfit's
former code; a point estimate (``gf.MAP``)
is summarised without warnings; ``cores`` defaults to the cores the process may use; the
package ships ``py.typed``; and the executed docs leave PyTensor's BLAS warning out.
"""

import logging
import os
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest

import graphfit as gf
from graphfit.backend import stack
from graphfit.results import diagnostics
from graphfit.results.diagnostics import check_convergence, diagnostics_table
from graphfit.search.smc import default_cores

ROOT = Path(__file__).resolve().parents[1]


def _ar1(rng, shape, phi):
    noise = rng.normal(size=shape)
    x = np.zeros(shape)
    for t in range(1, shape[1]):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


@pytest.fixture
def arviz_log():
    """The records ArviZ logs (ArviZ 0.x logs "Shape validation failed" and "Array contains
    NaN-value" on its own logger, which does not reach pytest's warnings)."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    logger = logging.getLogger("arviz")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


# --- R-hat and ESS are ArviZ's ------------------------------------------------------------------

#: R-hat, bulk ESS and tail ESS that graphfit's former vectorised numpy code gave (before the
#: checks called ArviZ) on the posteriors of ``_posteriors``.
FORMER = {
    "joint": {
        "slow": (1.186496128495163, 17.569259155328027, 57.20998098883247),
        "ties[a]": (1.000581030845299, 366.67991889744394, 895.1654456638839),
        "ties[b]": (1.0086398606930933, 368.5760838951867, 649.8197637330159),
        "skewed": (0.9996742293320694, 1236.052843581952, 1046.533379360792),
        "constant": (np.nan, 1200.0, 1200.0),
    },
    "odd": {"a": (1.0661836093874386, 89.0826949611517, 144.0445293298868)},
    "one_chain": {"a": (np.nan, 167.5917693164887, 273.13615079639396)},
}


def _posteriors():
    rng = np.random.default_rng(20)
    joint = {
        "slow": _ar1(rng, (4, 300), 0.95),
        "ties": np.round(_ar1(rng, (4, 300, 2), 0.5), 1),  # many tied ranks
        "skewed": rng.exponential(size=(4, 300)),
        "constant": np.ones((4, 300)),
    }
    return {
        "joint": stack.from_arrays(
            posterior=joint, dims={"ties": ["dataset"]}, coords={"dataset": ["a", "b"]}
        ),
        "odd": stack.from_arrays(posterior={"a": _ar1(np.random.default_rng(21), (3, 201), 0.7)}),
        "one_chain": stack.from_arrays(
            posterior={"a": _ar1(np.random.default_rng(22), (1, 400), 0.3)}
        ),
    }


@pytest.mark.parametrize("case", sorted(FORMER))
def test_the_figures_are_those_of_the_former_code_to_1e_9(case):
    posterior = stack.group(_posteriors()[case], "posterior")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = diagnostics_table(posterior, list(posterior.data_vars))
    expected = FORMER[case]
    assert list(table.index) == list(expected)
    np.testing.assert_allclose(
        table.to_numpy(), np.array(list(expected.values())), rtol=1e-9, equal_nan=True
    )


def test_the_check_calls_arvizs_rhat_and_ess(monkeypatch):
    calls = []
    for name in ("rhat", "ess"):
        original = getattr(stack, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append((_name, *args[1:]))
            return _original(*args, **kwargs)

        monkeypatch.setattr(stack, name, spy)
    rng = np.random.default_rng(0)
    idata = stack.from_arrays(
        posterior={"a": rng.normal(size=(4, 200)), "b": rng.normal(size=(4, 200, 3))}
    )
    check_convergence(idata, ["a", "b"])
    assert calls == [("rhat",), ("ess", "bulk"), ("ess", "tail")]  # once each, all variables
    assert not [name for name in vars(diagnostics) if name in ("_ess", "_tau", "_z_scale")]


@pytest.mark.parametrize(
    ("shape", "rhat", "ess"),
    [((1, 400), False, True), ((2, 3), False, False), ((1, 1), False, False)],
)
def test_shapes_arviz_cannot_handle_are_nan_quietly(arviz_log, shape, rhat, ess):
    """One chain has no R-hat and fewer than 4 draws neither: ArviZ is not called for them
    (ArviZ 0.x would log "Shape validation failed"), the figure is NaN."""
    idata = stack.from_arrays(posterior={"a": np.random.default_rng(1).normal(size=shape)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = diagnostics_table(stack.group(idata, "posterior"), ["a"])
    assert np.isfinite(table.loc["a", "r_hat"]) == rhat
    assert np.isfinite(table.loc["a", ["ess_bulk", "ess_tail"]]).all() == ess
    assert arviz_log == []


def test_non_finite_and_constant_draws_are_nan_quietly(arviz_log):
    """NaN (ArviZ logs "Array contains NaN-value"), inf (ArviZ 1's tail ESS warns) and a
    constant (its R-hat is 0 / 0) give no warning and no log record; a non-finite element's
    figures are NaN, the others' as ArviZ computes them."""
    rng = np.random.default_rng(4)
    values = rng.normal(size=(4, 500, 4))
    values[0, 3, 0] = np.nan
    values[1, 7, 1] = np.inf
    values[..., 2] = 2.0
    idata = stack.from_arrays(posterior={"a": values})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = diagnostics_table(stack.group(idata, "posterior"), ["a"])
    assert table.loc[["a[0]", "a[1]"]].isna().all().all()
    assert np.isnan(table.loc["a[2]", "r_hat"]) and table.loc["a[2]", "ess_bulk"] == 2000
    reference = stack.rhat(
        stack.group(stack.from_arrays(posterior={"a": values[..., 3]}), "posterior")
    )
    assert table.loc["a[3]", "r_hat"] == pytest.approx(float(reference["a"]), rel=1e-12)
    assert arviz_log == []


# --- a point estimate's summary -----------------------------------------------------------------


def test_a_point_estimate_is_summarised_by_its_values_without_warnings(arviz_log):
    point = stack.from_arrays(
        posterior={"centre": [[50.123456789]], "sigma": [[[1.0, 2.0]]]},
        dims={"sigma": ["dataset"]},
        coords={"dataset": ["d0", "d1"]},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = stack.summary(point)
        only = stack.summary(point, var_names=["sigma"], round_to=1, kind="diagnostics")
    assert list(table.columns) == ["value"]
    assert list(table.index) == ["centre", "sigma[d0]", "sigma[d1]"]
    assert table.loc["centre", "value"] == 50.123456789  # not rounded
    assert list(only.index) == ["sigma[d0]", "sigma[d1]"] and list(only.columns) == ["value"]
    assert arviz_log == []


def test_a_sampled_posterior_gets_arvizs_own_summary():
    import arviz as az

    idata = stack.from_arrays(posterior={"a": np.random.default_rng(0).normal(size=(2, 100))})
    assert stack.summary(idata, round_to="none").equals(az.summary(idata, round_to="none"))


def test_a_map_fit_is_summarised_without_warnings(arviz_log):
    data, noise = gf.ex.simulate_gaussian_dataset(seed=2)
    result = gf.MAP(random_seed=1).fit(
        model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = stack.summary(result.idata)
    assert list(table.columns) == ["value"]
    assert list(table.index) == ["centre", "normalization", "sigma"]
    assert table.loc["centre", "value"] == pytest.approx(result.max_log_likelihood_instance.centre)
    assert result.diagnostics is None
    assert arviz_log == []


# --- cores --------------------------------------------------------------------------------------


def test_cores_default_to_the_usable_cores_at_most_one_per_chain(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert default_cores(4) == 4 and default_cores(12) == 8
    assert gf.NUTS(chains=4).cores == 4
    assert gf.SMC(chains=6).cores == 6
    assert gf.NUTS(chains=4, cores=1).cores == 1  # given: kept
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert gf.NUTS(chains=4).cores == 1 and gf.SMC(chains=4).cores == 1
    # no affinity (macOS, Windows): the CPU count
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert default_cores(4) == 3 and default_cores(2) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one
    assert default_cores(4) == 1


# --- packaging and docs -------------------------------------------------------------------------


def test_the_package_ships_py_typed():
    assert (ROOT / "graphfit" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["graphfit"]


def test_the_executed_docs_leave_out_pytensors_blas_warning_only():
    """docs/conf.py sets the filter in the environment the notebooks' kernels inherit: a
    process started with it hides PyTensor's BLAS warning and shows graphfit's."""
    env = {**os.environ, "GRAPHFIT_DOCS_EXECUTE": "off", "PYTHONWARNINGS": "default"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    read = subprocess.run(
        [sys.executable, "-c", "import os, runpy; runpy.run_path('docs/conf.py'); "
         "print(os.environ['PYTHONWARNINGS'])"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    options = read.stdout.strip().splitlines()[-1]
    assert options.startswith("default,")  # the builder's own options are kept
    kernel = subprocess.run(
        [sys.executable, "-c", "import warnings; "
         "warnings.warn('PyTensor could not link to a BLAS installation. Operations that might "
         "benefit from BLAS will be severely degraded.', UserWarning); "
         "warnings.warn('graphfit: a warning of its own', UserWarning)"],
        env={**os.environ, "PYTHONWARNINGS": options}, capture_output=True, text=True,
        check=True, timeout=60,
    )  # fmt: skip
    assert "BLAS" not in kernel.stderr
    assert "graphfit: a warning of its own" in kernel.stderr

"""graphfit.backend.stack: the one module that knows the installed PyMC/ArviZ stack."""

import pathlib
import re

import numpy as np
import pytest
import xarray as xr

import graphfit as gf
from graphfit.backend import stack
from graphfit.exceptions import ComparisonError, ResumedFitWarning
from tests import saved_fits

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "graphfit"

#: What a version switch looks like in the source.
SWITCH = re.compile(
    r"""(pymc|arviz|pytensor|xarray|nutpie)\.__version__|version\(\s*["'](pymc|arviz)"""
    r"""|\bARVIZ_1\b|\bPYMC_6\b|InferenceData\("""
)


def test_no_version_switch_outside_the_stack_module():
    """Only ``backend/stack.py`` asks which stack is installed or builds its results type."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "stack.py" and path.parent.name == "backend":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SWITCH.search(line) and not line.lstrip().startswith(("#", ">>>")):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_the_stack_is_the_installed_one():
    import arviz as az
    import pymc as pm

    assert stack.ARVIZ_1 == (int(az.__version__.split(".")[0]) >= 1)
    assert stack.PYMC_6 == (int(pm.__version__.split(".")[0]) >= 6)


def _idata():
    rng = np.random.default_rng(0)
    posterior = xr.Dataset(
        {
            "a": (("chain", "draw"), rng.normal(size=(2, 40))),
            "b": (("chain", "draw", "dataset"), rng.normal(size=(2, 40, 3))),
        },
        coords={"chain": [0, 1], "draw": np.arange(40), "dataset": ["x", "y", "z"]},
        attrs={"sampling_time": 1.5},
    )
    return stack.make_idata(posterior=posterior)


def test_groups_are_read_set_and_dropped_as_datasets():
    idata = _idata()
    assert stack.group_names(idata) == ["posterior"]
    posterior = stack.group(idata, "posterior")
    assert isinstance(posterior, xr.Dataset)
    assert posterior.attrs["sampling_time"] == 1.5
    assert posterior["b"].dims == ("chain", "draw", "dataset")

    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((2, 40), dtype=bool))})
    stack.set_group(idata, "sample_stats", stats)
    assert stack.group_names(idata) == ["posterior", "sample_stats"]
    assert stack.has_group(idata, "sample_stats")
    stack.set_group(idata, "posterior", posterior.drop_vars("a"))  # replaces the group
    assert list(stack.group(idata, "posterior").data_vars) == ["b"]
    assert stack.group_names(idata) == ["posterior", "sample_stats"]
    stack.drop_group(idata, "sample_stats")
    stack.drop_group(idata, "sample_stats")  # nothing to drop: no error
    assert stack.group_names(idata) == ["posterior"]
    with pytest.raises(KeyError, match="the results have no 'log_likelihood' group"):
        stack.group(idata, "log_likelihood")
    assert stack.group(idata, "log_likelihood", None) is None  # a default instead


def test_results_are_the_stacks_own_type():
    import arviz as az

    idata = _idata()
    if stack.ARVIZ_1:
        assert isinstance(idata, xr.DataTree)
    else:
        assert isinstance(idata, az.InferenceData)
    assert isinstance(stack.to_datatree(idata), xr.DataTree)
    assert list(stack.to_datatree(idata).children) == ["posterior"]
    summary = az.summary(idata)
    assert list(summary.index) == ["a", "b[x]", "b[y]", "b[z]"]


def test_a_netcdf_file_round_trips(tmp_path):
    idata = _idata()
    path = tmp_path / "joint.nc"
    stack.write_netcdf(idata, str(path))
    back = stack.read_netcdf(str(path))
    path.unlink()  # read fully: the file is no longer needed
    assert stack.group_names(back) == ["posterior"]
    posterior = stack.group(back, "posterior")
    assert np.array_equal(posterior["b"].values, stack.group(idata, "posterior")["b"].values)
    assert list(posterior["dataset"].values) == ["x", "y", "z"]


def test_interval_and_diagnostics_are_arvizs():
    posterior = stack.group(_idata(), "posterior")
    lower, upper = stack.hdi_bounds(posterior, 0.94)
    assert lower["b"].dims == upper["b"].dims == ("dataset",)
    assert bool((lower["b"] < upper["b"]).all())
    assert stack.rhat(posterior)["a"].shape == ()
    assert stack.ess(posterior, "tail")["b"].shape == (3,)


def test_pointwise_loo_and_waic_on_this_stack():
    rng = np.random.default_rng(1)
    idata = _idata()
    loglike = xr.Dataset({"obs": (("chain", "draw", "point"), rng.normal(-1.0, 0.1, (2, 40, 5)))})
    stack.set_group(idata, "log_likelihood", loglike)
    elpd = stack.loo(idata, "obs", pointwise=True)
    assert stack.elpd_pointwise(elpd).shape == (5,)
    if stack.ARVIZ_1:
        with pytest.raises(ComparisonError, match="WAIC is not part of ArviZ 1"):
            stack.waic(idata, "obs")
    else:
        assert "elpd_waic" in stack.waic(idata, "obs").index


@pytest.mark.parametrize("written_on", saved_fits.STACK_FOLDERS)
def test_a_fit_saved_on_either_stack_loads_and_resumes_on_this_one(written_on, tmp_path):
    """A folder written on the PyMC 5 / ArviZ 0.x stack and one written on the PyMC 6 / ArviZ 1
    stack (``tests/saved_fits``) both load here as this stack's results, and a rerun of the
    same fit finds the folder finished instead of sampling again."""
    import shutil

    folder = tmp_path / written_on
    shutil.copytree(saved_fits.PATH / written_on, folder)
    (identifier,) = [p.name for p in (folder / "cross_stack").iterdir()]
    loaded = gf.load_result(folder / "cross_stack" / identifier, model=saved_fits.graph())
    assert isinstance(loaded.idata, type(stack.make_idata()))
    assert stack.group_names(loaded.idata)[:1] == ["posterior"]
    draws = saved_fits.shared_centre(loaded)
    assert draws.shape == (2, 30)
    assert abs(float(np.median(draws)) - 20.0) < 1.0  # the simulated centre
    for result in loaded:
        own = stack.group(result.idata, "posterior")
        assert sorted(own.data_vars) == ["centre", "normalization", "sigma"]
        assert "dataset" not in own.dims
        assert stack.group(result.idata, "log_likelihood")["obs"].shape == (2, 30, 40)

    with pytest.warns(ResumedFitWarning, match="loaded the finished fit"):
        again = saved_fits.fit(folder)  # the same graph and search: the saved fit, not a new one
    assert again.resumed
    assert again.output_folder.name == identifier
    np.testing.assert_array_equal(saved_fits.shared_centre(again), draws)

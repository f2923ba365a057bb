"""Tests that kill mutants mutmut found surviving in the results modules
(docs/guides/testing.md): ``graphfit/results/result_list.py`` and ``graphfit/results/result.py``.

The fast tests fit with ``gf.MAP``, whose posterior is one sample, so a swapped chain and draw,
a sample read from the wrong dataset or a log-likelihood summed over the wrong axis would not
show.  Here the posterior of a real MAP fit of three datasets with different widths (10, 20 and
30) is spread over 2 chains of 3 draws with a different value at every sample, and each
dataset's log-likelihood peaks at a different sample from the joint one's.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr

import graphfit as gf
from graphfit.backend import stack
from tests.conftest import variable_graph

CHAINS, DRAWS = 2, 3
#: Joint log-likelihood of each (chain, draw), before the per-dataset offsets: the peak is at
#: chain 1, draw 0.
JOINT = np.array([[0.0, 1.0, 2.0], [6.0, 3.0, 4.0]])
#: Added to dataset k's third of the joint log-likelihood at each sample; they sum to zero over
#: the datasets, so dataset 0 alone peaks at (0, 2), dataset 1 alone at (0, 0).
OFFSETS = np.array(
    [
        [[0.0, 0.0, 9.0], [0.0, 0.0, 0.0]],
        [[9.0, 0.0, -9.0], [0.0, 0.0, 0.0]],
        [[-9.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
    ]
)


@pytest.fixture(scope="module")
def map_fit() -> gf.ResultList:
    """A MAP fit of the three datasets (a fixture, not a cached function: under mutmut each
    mutant's tests run in a process forked from one that already ran them, and a cached fit
    would have been made by the unmutated code)."""
    graph = variable_graph()
    return gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)


def scale() -> xr.DataArray:
    """A different factor near 1 for every (chain, draw)."""
    values = 1.0 + 0.01 * np.arange(CHAINS * DRAWS).reshape(CHAINS, DRAWS)
    return xr.DataArray(values, dims=("chain", "draw"), coords=dict(chain=[0, 1], draw=[0, 1, 2]))


def spread(dataset: xr.Dataset) -> xr.Dataset:
    """``dataset``'s one sample repeated over 2 chains and 3 draws."""
    return (
        dataset.isel(chain=0, draw=0, drop=True)
        .expand_dims(chain=[0, 1], draw=[0, 1, 2])
        .transpose("chain", "draw", ...)
    )


@pytest.fixture(scope="module")
def spread_fit(map_fit: gf.ResultList) -> gf.ResultList:
    """The MAP fit's graph and compiled model with a posterior of 6 distinct samples."""
    fit = map_fit
    posterior = spread(stack.group(fit.idata, "posterior")) * scale()
    obs = stack.group(fit.idata, "log_likelihood")["obs"]  # (chain, draw, dataset, x)
    total = JOINT[:, :, None] / 3.0 + OFFSETS.transpose(1, 2, 0)  # (chain, draw, dataset)
    npoints = obs.sizes["x"]
    values = np.repeat(total[..., None] / npoints, npoints, axis=-1)
    coords = {"chain": [0, 1], "draw": [0, 1, 2], **{d: obs[d].values for d in obs.dims[2:]}}
    loglike = xr.Dataset({"obs": (obs.dims, values)}, coords=coords)
    groups = {"posterior": posterior, "log_likelihood": loglike}
    for name in ("observed_data", "constant_data"):
        if stack.has_group(fit.idata, name):
            groups[name] = stack.group(fit.idata, name)
    return gf.ResultList(fit.graph, fit.compiled, stack.make_idata(**groups))


def test_each_result_is_its_own_datasets_fit(map_fit):
    fit = map_fit
    sigmas = [result.max_log_likelihood_instance.sigma for result in fit]
    assert sigmas == pytest.approx([10.0, 20.0, 30.0], rel=0.05)
    for k, result in enumerate(fit):
        assert fit[result.name] is result and fit[k] is result
        assert float(result.idata.posterior["sigma"].squeeze()) == sigmas[k]


def test_an_instance_at_a_sample_holds_that_samples_values_of_its_dataset(spread_fit):
    # _values_at: isel(chain=chain, draw=draw), .sel(dataset=ref.dataset), the priors of
    # dataset self.index
    fit = spread_fit
    posterior = stack.group(fit.idata, "posterior")
    for k, result in enumerate(fit):
        for chain in range(CHAINS):
            for draw in range(DRAWS):
                instance = result.instance_at(chain, draw)
                expected = posterior.isel(chain=chain, draw=draw, dataset=k)
                assert instance.sigma == float(expected["sigma"])
                assert instance.normalization == float(expected["normalization"])
                assert instance.centre == float(posterior["centre"].isel(chain=chain, draw=draw))


def test_the_joint_log_likelihood_sums_every_dataset_and_point(spread_fit):
    fit = spread_fit
    np.testing.assert_allclose(fit.joint_log_likelihood().values, JOINT, atol=1e-9)
    assert fit.max_log_likelihood_index == (1, 0)
    posterior = stack.group(fit.idata, "posterior")
    for k, result in enumerate(fit):
        expected = float(posterior["sigma"].isel(chain=1, draw=0, dataset=k))
        assert result.max_log_likelihood_instance.sigma == expected
        median = float(posterior["sigma"].isel(dataset=k).median())
        assert result.median_pdf_instance.sigma == median


def test_a_dataset_is_found_by_its_name_or_the_error_lists_the_names(map_fit):
    fit = map_fit
    # ResultList.__init__: a new fit is not resumed, has no folder and records its timings
    assert fit.resumed is False and fit.output_folder is None and isinstance(fit.timings, dict)
    assert [fit[name].index for name in fit.names] == [0, 1, 2]
    assert fit[1:] == [fit[1], fit[2]]
    message = "no dataset named 'dataset_9'; datasets: dataset_0, dataset_1, dataset_2"
    with pytest.raises(KeyError, match=re.escape(message)):
        fit["dataset_9"]


def test_a_missing_joint_part_raises_the_lists_error():
    result_list = gf.ResultList(
        None, None, None, names=["a"], missing=lambda what: gf.IndependentFitsError(what)
    )
    with pytest.raises(gf.IndependentFitsError, match=r"^the model$"):
        result_list.require("compiled", "the model")
    with pytest.raises(TypeError, match="a list without a joint part needs missing="):
        gf.ResultList(None, None, None, names=["a"])


@pytest.mark.parametrize("k", [0, 1, 2])
def test_centred_models_are_centred_on_the_datasets_medians(map_fit, k):
    # _centred: the medians of this dataset's priors; model_centred_absolute/relative: widths
    result = map_fit[k]
    sigma = result.median_pdf_instance.sigma
    absolute = result.model_centred_absolute(2.0)
    assert absolute.sigma.values == {
        "mean": sigma,
        "sigma": 2.0,
        "lower_limit": 0.0,
        "upper_limit": np.inf,
    }
    assert absolute.centre.values["mean"] == result.median_pdf_instance.centre
    assert absolute.centre.values["upper_limit"] == 100.0
    relative = result.model_centred_relative(0.1)
    assert relative.sigma.values["sigma"] == pytest.approx(0.1 * sigma, rel=1e-12)
    assert relative.sigma.values["mean"] == sigma


@pytest.mark.parametrize("value", [0.0, -1.0, np.inf, np.nan, True, "1"])
def test_centred_model_widths_must_be_finite_and_positive(map_fit, value):
    result = map_fit[0]
    for method, name in (("model_centred_absolute", "a"), ("model_centred_relative", "r")):
        message = (
            f"result 'dataset_0'.{method}: {name} = {value!r}; {name} must be a finite number > 0."
        )
        with pytest.raises(gf.SamplesError, match=f"^{re.escape(message)}$"):
            getattr(result, method)(value)


def test_summaries_pass_their_keywords_through(map_fit):
    fit = map_fit
    assert list(fit.summary(var_names=["centre"]).index) == ["centre"]
    assert list(fit[1].summary(var_names=["sigma"]).index) == ["sigma"]
    assert fit[1].summary()["value"]["sigma"] == fit[1].median_pdf_instance.sigma


def test_the_summary_of_independent_fits_labels_each_datasets_rows():
    # ResultList.summary without a joint posterior: each fit's rows, labelled by its dataset
    graph = variable_graph()
    fits = gf.fit_each(graph.factors[:2], gf.MAP(random_seed=1), progressbar=False)
    table = fits.summary()
    assert list(table.index) == [
        f"{name}[{dataset}]"
        for dataset in ("dataset_0", "dataset_1")
        for name in ("centre", "normalization", "sigma")
    ]
    assert table["value"]["sigma[dataset_1]"] == fits[1].median_pdf_instance.sigma
    assert table["value"]["sigma[dataset_1]"] == pytest.approx(20.0, rel=0.05)


def test_a_new_result_list_starts_unresumed_without_a_folder(map_fit):
    # ResultList.__init__: `self.resumed = False` -> None / True, `self.output_folder = None`
    # -> "", `self.timings = {}` -> None.  The list is made in the test (not taken from the
    # module's fixture) so that mutmut, which runs only the tests that reach a function,
    # runs this one for these mutants.
    fit = gf.ResultList(map_fit.graph, map_fit.compiled, map_fit.idata)
    assert fit.resumed is False
    assert fit.output_folder is None
    assert fit.timings == {}


def test_a_results_model_is_a_new_model_centred_on_its_medians(map_fit):
    # Result.__init__: `self._passed_model = None` -> "": `result.model` (prior passing)
    # handed back "" instead of the centred model
    fit = gf.ResultList(map_fit.graph, map_fit.compiled, map_fit.idata)
    result = fit[1]
    model = result.model
    assert isinstance(model, gf.Model) and model is not result.prior_model
    assert model.sigma.mean == pytest.approx(result.median_pdf_instance.sigma)
    assert result.model is model  # made once, then kept


def test_the_summary_of_independent_fits_that_all_failed_is_empty():
    # ResultList.summary: `pd.concat(frames) if frames else pd.DataFrame()` -> `... or True`:
    # pandas refuses to concatenate no frames, so the summary of a fit_each whose every
    # dataset failed raised instead of being an empty table
    class Failing(gf.ex.Analysis):
        def observation(self, instance, xp=np):
            raise RuntimeError("this dataset cannot be modelled")

    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    factor = gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), Failing(data, noise_map))
    fits = gf.fit_each([factor], gf.MAP(random_seed=1), progressbar=False)
    assert [failure.name for failure in fits.failed] == ["dataset_0"]
    table = fits.summary()
    assert table.empty

"""Every graphfit error a user can meet with a fit's results has a test of its message (issue 19).

The companion of ``test_error_messages.py`` for what comes after a fit: interpolation,
comparison, samples, output folders and the aggregator.  The fits are ``gf.MAP`` fits of tiny
simulated datasets (one tiny NUTS fit where draws are needed), run once per module; folders
are copied before they are damaged.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import graphfit as gf
from graphfit.io.layout import FILE_HASHES, METADATA, METADATA_HASH
from graphfit.io.verify import seal

TIMES = [0.0, 1.0, 2.0]


def _model(time: float | None = None) -> gf.Model | gf.Collection:
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(0.0, 100.0)
    model.normalization = gf.UniformPrior(1.0, 100.0)
    model.sigma = gf.UniformPrior(1.0, 30.0)
    return model if time is None else gf.Collection(gaussian=model, time=time)


def _analysis(seed: int = 0, size: int = 100) -> gf.ex.Analysis:
    return gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed, size=size))


def _map(**kwargs) -> gf.MAP:
    return gf.MAP(random_seed=1, progressbar=False, **kwargs)


def _graph(size: int = 100) -> gf.FactorGraphModel:
    model = _model()
    return gf.FactorGraphModel(
        *[gf.AnalysisFactor(model, _analysis(seed, size)) for seed in (0, 1)]
    )


class PoisonAnalysis(gf.ex.Analysis):
    """Fails to build its dataset's model: the dataset's fit fails, the others go on."""

    def observation(self, instance, xp=np):
        raise ValueError("detector saturated in this epoch")


@pytest.fixture(scope="module")
def time_fits() -> gf.ResultList:
    """Three datasets at times 0, 1, 2, fitted one by one with MAP."""
    factors = [
        gf.AnalysisFactor(_model(t), _analysis(k), name=f"time_{k}") for k, t in enumerate(TIMES)
    ]
    return gf.fit_each(factors, _map(), progressbar=False)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, gf.ResultList, gf.ResultList]:
    """The same two-dataset MAP fit saved twice, under the names "a" and "b"."""
    root = tmp_path_factory.mktemp("saved")
    fits = []
    for name in ("a", "b"):
        graph = _graph()
        fits.append(
            _map(name=name, output_path=root).fit(model=graph.global_prior_model, analysis=graph)
        )
    return root, fits[0], fits[1]


def _copy(saved, tmp_path: Path) -> Path:
    """A copy of fit "a"'s folder."""
    root, a, _ = saved
    folder = tmp_path / "root" / a.output_folder.relative_to(root)
    shutil.copytree(a.output_folder, folder)
    return folder


def _quoted(path: Path) -> str:
    return re.escape(repr(str(path)))


# -- results: interpolate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("covariate", "at", "message"),
    [
        pytest.param(
            [0.0, 1.0, "late"],
            0.5,
            r"^interpolate: covariate must be numbers, got \[0\.0, 1\.0, 'late'\]\.$",
            id="covariate-text",
        ),
        pytest.param(
            [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]],
            0.5,
            r"^interpolate: covariate must be one value per result \(a 1-D sequence of 3 "
            r"numbers\); got an array of shape \(3, 2\)\.$",
            id="covariate-2d",
        ),
        pytest.param(
            np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]]),
            0.5,
            r"^interpolate: covariate must be one value per result \(a 1-D sequence of 3 "
            r"numbers\); got an array of shape \(2, 3\)\.$",
            id="covariate-2d-transposed",
        ),
        pytest.param(
            [0.0, np.nan, 2.0],
            0.5,
            r"^interpolate: covariate has NaN or inf values: \[0\.0, nan, 2\.0\]\.$",
            id="covariate-nan",
        ),
        pytest.param(
            5.0,
            0.5,
            r"^interpolate: covariate must be a list of numbers, got 5\.0\.$",
            id="covariate-number",
        ),
        pytest.param(
            TIMES, "noon", r"^interpolate: at must be numbers, got 'noon'\.$", id="at-text"
        ),
        pytest.param(
            TIMES,
            [0.5, np.inf],
            r"^interpolate: at must be a finite number or a 1D list of them, got "
            r"\[0\.5, inf\]\.$",
            id="at-inf",
        ),
    ],
)
def test_interpolate_names_a_bad_covariate_or_at(time_fits, covariate, at, message):
    with pytest.raises(gf.InterpolationError, match=message):
        gf.interpolate(time_fits, covariate=covariate, at=at)


def test_an_interpolator_names_a_covariate_that_is_not_one_number_per_instance():
    gaussian = gf.Model(gf.ex.Gaussian, centre=50.0, normalization=25.0, sigma=10.0)
    instances = [
        gf.Collection(gaussian=gaussian, time=np.array([t, t + 0.5])).instance_from({})
        for t in TIMES
    ]
    interpolator = gf.LinearInterpolator(instances)
    with pytest.raises(
        gf.InterpolationError,
        match=r"^LinearInterpolator: 'time' must be one value per instance \(a 1-D sequence of "
        r"numbers\); got an array of shape \(3, 2\)\.$",
    ):
        interpolator[interpolator.time == 0.5]


def test_interpolate_refuses_failed_fits():
    # the models and analyses of time_fits but for the poisoned one: fit_each reuses the
    # structure that fixture compiled
    analyses = [
        _analysis(0),
        PoisonAnalysis(*gf.ex.simulate_gaussian_dataset(seed=1)),
        _analysis(2),
    ]
    factors = [
        gf.AnalysisFactor(_model(t), analysis, name=f"time_{k}")
        for k, (t, analysis) in enumerate(zip(TIMES, analyses, strict=True))
    ]
    fits = gf.fit_each(factors, _map(), progressbar=False)
    assert [f.name for f in fits.failed] == ["time_1"]
    with pytest.raises(
        gf.InterpolationError,
        match=r"^interpolate: the fits of time_1 failed; interpolate the others "
        r"\(result_list\.succeeded\) with their covariate values\.$",
    ):
        gf.interpolate(fits, covariate=TIMES, at=0.5)


def test_interpolate_refuses_fits_with_different_numbers_of_draws(time_fits):
    nuts = gf.NUTS(
        draws=5, tune=5, chains=1, cores=1, sampler="pymc", random_seed=1, progressbar=False
    )
    with pytest.warns(gf.ConvergenceWarning):
        sampled = nuts.fit(model=_model(TIMES[2]), analysis=_analysis(2))
    with pytest.raises(
        gf.InterpolationError,
        match=r"^interpolate: 'dataset_0' has 1 chains x 5 draws but 'time_0' has 1 x 1; fit "
        r"every dataset with the same search settings\.$",
    ):
        gf.interpolate([time_fits[0], time_fits[1], sampled], covariate=TIMES, at=0.5)


def test_an_interpolator_query_takes_one_value():
    instances = [
        gf.Collection(
            gaussian=gf.Model(gf.ex.Gaussian, centre=c, normalization=1.0, sigma=1.0), time=t
        ).instance_from({})
        for c, t in zip([40.0, 50.0, 60.0], TIMES, strict=True)
    ]
    interpolator = gf.LinearInterpolator(instances)
    with pytest.raises(
        gf.InterpolationError,
        match=r"^LinearInterpolator: a query takes one value, got \[0\.5, 1\.5\]; use "
        r"gf\.interpolate for several\.$",
    ):
        interpolator[interpolator.time == [0.5, 1.5]]


# -- results: comparison and samples ----------------------------------------------------------


def test_compare_refuses_datasets_of_different_sizes(saved):
    _, long, _ = saved  # the module's fit of _graph(), 100 points per dataset
    graph = _graph(90)
    fits = {"short": _map().fit(model=graph.global_prior_model, analysis=graph), "long": long}
    with pytest.raises(
        gf.ComparisonError,
        match=r"^compare: dataset 'dataset_0' has 90 observed points in model 'short' but 100 "
        r"in 'long'; models can only be compared on the same data\.$",
    ):
        gf.compare(fits)


@pytest.fixture(scope="module")
def two_populations() -> gf.ResultList:
    """A MAP fit of two datasets whose centres and widths are two hierarchical factors."""
    models = [_model(), _model()]
    populations = []
    for name, parameter, upper in (("centres", "centre", 100.0), ("widths", "sigma", 30.0)):
        population = gf.HierarchicalFactor(
            gf.GaussianPrior,
            name=name,
            mean=gf.UniformPrior(0.0, upper),
            sigma=gf.UniformPrior(0.0, 10.0),
        )
        for model in models:
            population.add_drawn_variable(getattr(model, parameter))
        populations.append(population)
    graph = gf.FactorGraphModel(
        *[gf.AnalysisFactor(m, _analysis(k)) for k, m in enumerate(models)], *populations
    )
    return _map().fit(model=graph.global_prior_model, analysis=graph)


def test_log_prior_list_of_a_hierarchical_fit_says_what_to_use(two_populations):
    fit = two_populations
    with pytest.raises(
        gf.SamplesError,
        match=r"^result_list\.samples\.log_prior_list: the graph has hierarchical factors "
        r"\(centres, widths\), whose parameters' prior depends on the sample; use the "
        r"sampler's log density, result_list\.idata\.sample_stats\['lp'\], or "
        r"max_log_posterior\(\)\.$",
    ):
        fit.samples.log_prior_list


def test_population_of_a_graph_without_hierarchical_factors_says_how_to_get_one(saved):
    _, a, _ = saved
    assert a.populations == {}
    with pytest.raises(
        gf.FactorGraphError,
        match=r"^population: the graph has no hierarchical factor, so the fit has no "
        r"population; add a gf\.HierarchicalFactor to the graph "
        r"\(gf\.FactorGraphModel\(\*factors, hierarchical_factor\)\) to fit one\.$",
    ):
        a.population
    loaded = gf.load_result(a.output_folder, model=_graph())
    with pytest.raises(gf.FactorGraphError, match=r"^population: the graph has no hierarchical"):
        loaded.population


def test_population_of_independent_fits_says_they_fit_none(time_fits):
    with pytest.raises(
        gf.IndependentFitsError,
        match=r"^population: these are independent fits \(gf\.fit_each\), which fit no "
        r"population; fit the datasets jointly, in a gf\.FactorGraphModel with a "
        r"gf\.HierarchicalFactor, to get one\.$",
    ):
        time_fits.population


def test_population_of_a_graph_with_two_hierarchical_factors_names_them(two_populations):
    fit = two_populations
    assert sorted(fit.populations) == ["centres", "widths"]
    with pytest.raises(
        gf.FactorGraphError,
        match=r"^population: the graph has 2 hierarchical factors \(centres, widths\); pick "
        r"one by name: result_list\.populations\['centres'\]\.$",
    ):
        fit.population


# -- io: loading a saved fit ------------------------------------------------------------------


def test_load_result_with_a_model_that_is_not_a_graph(saved):
    _, a, _ = saved
    with pytest.raises(
        gf.ResultLoadError,
        match=r"^load_result: model must be a gf\.FactorGraphModel or its global_prior_model, "
        r"or a gf\.Model / gf\.Collection given with analysis=\.\.\., got 'gaussian'\.$",
    ):
        gf.load_result(a.output_folder, model="gaussian")


def test_a_missing_file_of_a_folder_with_hashes_says_to_refit(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    (folder / "summary.csv").unlink()
    with pytest.raises(
        gf.ResultLoadError,
        match=rf"^{_quoted(folder / 'summary.csv')} is missing from the result folder\. "
        r"Delete the result folder and fit again\.$",
    ):
        gf.load_result(folder).summary_table


def test_a_file_without_a_hash_in_a_folder_with_hashes_is_refused(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    metadata = json.loads((folder / METADATA).read_text())
    del metadata[FILE_HASHES]["summary.csv"]
    metadata = seal({k: v for k, v in metadata.items() if k != METADATA_HASH})
    (folder / METADATA).write_text(json.dumps(metadata))
    with pytest.raises(
        gf.ResultLoadError,
        match=rf"^{_quoted(folder / 'summary.csv')} has no SHA-256 in graphfit\.json, which "
        r"lists the files the fit wrote: it was not written by this fit\. Delete the result "
        r"folder and fit again\.$",
    ):
        gf.load_result(folder).summary_table


def test_a_missing_netcdf_file_is_named(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    (folder / "joint.nc").unlink()  # a fit's one NetCDF file (folder format 3)
    with pytest.raises(
        gf.ResultLoadError,
        match=rf"^{_quoted(folder / 'joint.nc')} is missing from the result folder\. Delete the "
        r"result folder and fit again\.$",
    ):
        gf.load_result(folder)[0].idata


def test_a_missing_json_file_is_named(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    (folder / "search.json").unlink()
    with pytest.raises(
        gf.ResultLoadError,
        match=rf"^{_quoted(folder / 'search.json')} is missing from the result folder\.$",
    ):
        gf.load_result(folder).search


def test_an_infinite_number_in_the_metadata_is_refused(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    text = (folder / METADATA).read_text()
    (folder / METADATA).write_text(text.replace("{", '{"extra": 1e999, ', 1))
    with pytest.raises(
        gf.ResultLoadError,
        match=rf"^{_quoted(folder / METADATA)} is not valid JSON \(1e999 is not a finite "
        r"number\)\.$",
    ):
        gf.load_result(folder)


# -- io: the aggregator ---------------------------------------------------------------------


def test_the_aggregator_refuses_reference_keys_that_are_not_paths(saved):
    root, _, _ = saved
    with pytest.raises(
        gf.ResultLoadError,
        match=r"^Aggregator: reference keys are model paths as text \('gaussian', '' for the "
        r"whole model\), got 0\.$",
    ):
        gf.Aggregator.from_directory(root, reference={0: gf.ex.Gaussian})


def test_the_aggregator_asks_for_a_name_when_two_fits_share_an_identifier(saved):
    root, a, b = saved
    identifier = a.output_folder.name
    assert b.output_folder.name == identifier  # the name is not part of the identifier
    agg = gf.Aggregator.from_directory(root)
    with pytest.raises(
        KeyError,
        match=rf"^\"Aggregator: 2 fits have identifier '{identifier}' \(different names or "
        r"path prefixes\); filter by name first or load by position\.\"$",
    ):
        agg.load(identifier)

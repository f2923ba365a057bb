"""graphfit's public API used as a user's script does, for the type checker.

``mypy`` (``[tool.mypy] files`` in ``pyproject.toml``, run by ``.ci/run``) checks this file
with the package, so the annotations users see are checked where they are used: a call that
the annotations reject, or a result whose type is not the one ``assert_type`` names, fails
the CI run.  Nothing here runs at import: pytest's ``--doctest-modules`` imports the file
and finds no tests, and the functions are never called.
"""

from __future__ import annotations

import tempfile
from typing import Any, assert_type

import matplotlib.pyplot as plt
import numpy as np

import graphfit as gf


class Line:
    """A user's component: its ``__init__`` arguments are the parameters."""

    def __init__(self, slope: float = 1.0, intercept: float = 0.0) -> None:
        self.slope = slope
        self.intercept = intercept

    def model_data_from(self, x: Any, xp: Any = np) -> Any:
        return self.slope * x + self.intercept


class LineAnalysis(gf.Analysis):
    """A user's analysis: the data and the observation the model predicts."""

    def __init__(self, x: np.ndarray, data: np.ndarray, noise_map: np.ndarray) -> None:
        self.x = x
        self.data = data
        self.noise_map = noise_map

    def observation(self, instance: Any, xp: Any = np) -> gf.Observation:
        return gf.GaussianObservation(
            model_data=instance.model_data_from(self.x, xp),
            data=self.data,
            noise_map=self.noise_map,
        )


def shared_centre_graph(seeds: tuple[int, ...] = (0, 1, 2)) -> gf.FactorGraphModel:
    """The cookbook's graph: one centre shared, each dataset's own width and area."""
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    factors = []
    for seed in seeds:
        data, noise_map = gf.ex.simulate_gaussian_dataset(seed=seed)
        model_analysis = model.copy()
        model_analysis.sigma = gf.GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)
        model_analysis.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e3)
        analysis = gf.ex.Analysis(data=data, noise_map=noise_map)
        factors.append(gf.AnalysisFactor(model_analysis, analysis, name=f"epoch_{seed}"))
    graph = gf.FactorGraphModel(*factors)
    assert_type(graph.global_prior_model, gf.GlobalPriorModel)
    return graph


def joint_fit(graph: gf.FactorGraphModel) -> None:
    """A joint fit and what users do with its results."""
    search = gf.NUTS(draws=200, tune=200, chains=2, random_seed=1, progressbar=False)
    result_list = search.fit(model=graph.global_prior_model, analysis=graph)
    assert_type(result_list, gf.ResultList)
    first = result_list[0]
    assert_type(first, gf.Result)
    assert_type(result_list["epoch_1"], gf.Result)
    assert_type(result_list[1:], list[gf.Result])
    names: list[str] = [result.name for result in result_list]
    print(len(result_list), names, first.max_log_likelihood_instance)
    print(first.samples.median_pdf(), first.idata, result_list.idata)

    fig, axes = plt.subplots(1, len(result_list), figsize=(9, 3))
    for ax, result in zip(axes, result_list, strict=True):
        result.plot_fit(ax=ax)
    fig.savefig(tempfile.mktemp(suffix=".png"))
    result_list.plot_fits(ncols=3)
    first.plot_ppc(num_samples=20, ax=axes[0])


def single_fit() -> None:
    """One dataset of the user's own analysis, fitted by an optimiser."""
    x = np.linspace(0.0, 10.0, 50)
    data = 2.0 * x + 1.0
    model = gf.Model(Line)
    model.slope = gf.UniformPrior(lower_limit=-5.0, upper_limit=5.0)
    model.intercept = gf.GaussianPrior(mean=0.0, sigma=3.0)
    result = gf.MAP(random_seed=0).fit(
        model=model, analysis=LineAnalysis(x, data, np.full_like(x, 0.1))
    )
    assert_type(result, gf.Result)
    print(result.max_log_likelihood_instance.slope)


def independent_and_saved(graph: gf.FactorGraphModel, output_root: str) -> None:
    """Each dataset fitted on its own, and fits read back from their folders."""
    each = gf.fit_each(list(graph.factors), gf.MAP(random_seed=0))
    assert_type(each, gf.IndependentResultList)
    print(each.failed, [result.name for result in each])

    gf.MAP(random_seed=0, name="saved", output_path=output_root).fit(
        model=graph.global_prior_model, analysis=graph
    )
    aggregator = gf.Aggregator(output_root)
    loaded = gf.load_result(aggregator.table["path"][0], model=graph)
    assert_type(loaded, gf.ResultList)
    print(aggregator.table, loaded[0].idata)

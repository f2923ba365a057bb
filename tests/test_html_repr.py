"""Notebook HTML reprs (``_repr_html_``) of models, graphs, results, the aggregator and
comparisons: their content, not just that they exist."""

from __future__ import annotations

import html
import json
import re
import warnings

import numpy as np
import pytest

import graphfit as gf
from graphfit.backend import stack
from graphfit.results.diagnostics import Diagnostics
from tests.conftest import cookbook_model, identical_analyses, identical_graph, search

DASH = "\N{EN DASH}"  # a figure not computed


def cells(text: str, first: str) -> list[str]:
    """The cells (their inner HTML) of the table row whose first cell is ``first``."""
    for row in re.findall(r"<tr>(.*?)</tr>", text, re.S):
        found = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if found and found[0] == first:
            return found
    raise AssertionError(f"no row starting with {first!r}")


def cell_tags(text: str, first: str) -> list[str]:
    """The opening ``<td ...>`` tags of that row (class and title)."""
    for row in re.findall(r"<tr>(.*?)</tr>", text, re.S):
        found = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if found and found[0] == first:
            return re.findall(r"<td[^>]*>", row)
    raise AssertionError(f"no row starting with {first!r}")


def quiet(function, *args, **kwargs):
    """Call ``function`` with short fits' convergence warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        return function(*args, **kwargs)


def tiny_nuts(**kwargs) -> gf.NUTS:
    """Two short chains, one after the other in this process (no chain processes to start)."""
    return search(draws=200, tune=200, chains=2, cores=1, **kwargs)


@pytest.fixture(scope="module")
def saved_fit(tmp_path_factory) -> gf.ResultList:
    """A short joint NUTS fit of three datasets, saved to an output folder."""
    root = tmp_path_factory.mktemp("output")
    graph = identical_graph()
    fit = tiny_nuts(name="html_fit", path_prefix="repr", output_path=root).fit
    return quiet(fit, model=graph.global_prior_model, analysis=graph)


# -- models and graphs ------------------------------------------------------------------------


def test_model_html_lists_each_parameter_with_its_prior():
    model = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian), exp=gf.ex.Exponential)
    model.gaussian.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    model.gaussian.sigma = model.gaussian.centre * 0.5 + gf.UniformPrior(0.0, 1.0, name="<b>off")
    model.exp.rate = 2.0
    model.add_assertion(model.gaussian.centre > 3.0)
    text = model._repr_html_()
    assert "<b>Collection</b> 5 free parameters" in text
    assert cells(text, "gaussian.centre") == [
        "gaussian.centre",
        "Gaussian",
        "UniformPrior [0]",
        "lower_limit = 0.0, upper_limit = 100.0",
    ]
    assert cells(text, "gaussian.normalization")[2:] == [
        "LogUniformPrior [1]",
        "lower_limit = 1e-06, upper_limit = 1000000.0",
    ]
    assert cells(text, "gaussian.sigma")[2:] == [
        "Relation",
        "(gaussian.centre * 0.5) + &lt;b&gt;off",
    ]
    assert cells(text, "gaussian.sigma: &lt;b&gt;off")[2] == "UniformPrior [2]"
    assert cells(text, "exp.rate") == ["exp.rate", "Exponential", "fixed", "2.0"]
    assert "<li>gaussian.centre &gt; 3.0</li>" in text
    assert "<b>off" not in text  # the prior's name is escaped everywhere
    # the same figures as model.info
    assert "Total Free Parameters = 5" in model.info


def test_model_html_marks_a_parameter_without_a_prior():
    class Line:
        def __init__(self, slope, intercept):
            self.slope, self.intercept = slope, intercept

    model = gf.Model(Line, slope=gf.UniformPrior(0.0, 1.0))
    text = model._repr_html_()  # no error: model.info would raise
    assert "<b>Model</b> Line · 1 free parameters · 1 without a prior or value" in text
    tags = cell_tags(text, "intercept")
    assert 'class="gf-fail"' in tags[2] and "neither a prior nor a value" in tags[2]
    assert cells(text, "intercept")[2] == "⚠ missing"


def test_graph_html_shows_datasets_and_joint_variables():
    shared = gf.UniformPrior(0.0, 100.0)
    models = [gf.Model(gf.ex.Gaussian, centre=shared) for _ in range(3)]
    population = gf.HierarchicalFactor(
        gf.GaussianPrior, mean=gf.UniformPrior(0.0, 100.0), sigma=gf.LogUniformPrior(1.0, 10.0)
    )
    for model in models[:2]:
        population.add_drawn_variable(model.normalization)
    models[2].sigma = models[2].normalization * 0.1
    names = ["night", "<b>night", "day & dusk"]
    analyses = identical_analyses()
    factors = [
        gf.AnalysisFactor(model, analysis, name=name)
        for model, analysis, name in zip(models, analyses, names, strict=True)
    ]
    graph = gf.FactorGraphModel(*factors, population)
    text = graph._repr_html_()
    assert "<b>FactorGraphModel</b> 3 datasets · 8 free parameters" in text
    assert cells(text, "1") == ["1", "&lt;b&gt;night", "Analysis", "Gaussian", "3", "1"]
    assert cells(text, "2") == ["2", "day &amp; dusk", "Analysis", "Gaussian", "2", "1"]
    assert "<b>night" not in text and "day & dusk" not in text
    assert cells(text, "centre") == [
        "centre",
        "0 - 2",
        "shared",
        "centre",
        "UniformPrior, lower_limit = 0.0, upper_limit = 100.0",
    ]
    assert cells(text, "&lt;b&gt;night.normalization")[1:] == [
        "1",
        "own",
        "normalization",
        "drawn from hierarchical_0",
    ]
    assert cells(text, "hierarchical_0.mean")[2] == "hyperparameter"
    assert cells(text, "day &amp; dusk.sigma")[4] == "Relation: day &amp; dusk.normalization * 0.1"
    assert cells(text, "hierarchical_0") == [
        "hierarchical_0",
        "GaussianPrior (centred)",
        "mean = hierarchical_0.mean, sigma = hierarchical_0.sigma",
        "0 - 1",
    ]
    assert graph.global_prior_model._repr_html_() == text


def test_graph_html_of_per_dataset_variables_and_assertions():
    graph = identical_graph()
    models = [f.prior_model for f in graph.factors]
    own = [m.copy() for m in models]
    for model in own:
        model.sigma = gf.GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)
    graph = gf.FactorGraphModel(
        *[gf.AnalysisFactor(m, f.analysis) for m, f in zip(own, graph.factors, strict=True)]
    )
    graph.add_assertion(own[0].sigma < own[1].sigma)
    text = graph._repr_html_()
    assert cells(text, "sigma")[1:] == [
        "0 - 2",
        "one per dataset",
        "sigma",
        "GaussianPrior, mean = 10.0, sigma = 5.0, lower_limit = 0.0",
    ]
    assert "<li>sigma[dataset_0] &lt; sigma[dataset_1]</li>" in text


# -- results ----------------------------------------------------------------------------------


def test_result_list_html_numbers_are_the_fits_own(saved_fit):
    text = saved_fit._repr_html_()
    folder = str(saved_fit.output_folder)
    assert f"Output folder: <code>{html.escape(folder)}</code>" in text
    assert "repr" in folder and "html_fit" in folder
    assert "<b>ResultList</b> 3 datasets" in text
    table = saved_fit.diagnostics.table
    posterior = stack.group(saved_fit.idata, "posterior")
    # one folded section per dataset; the first holds dataset_0's parameters
    sections = re.findall(r"<details><summary>(.*?)</summary>(.*?)</details>", text, re.S)
    assert [title for title, _ in sections] == [f"dataset_{k} · 3 parameters" for k in range(3)]
    section = sections[0][1]
    for name in ("centre", "normalization", "sigma"):
        row = cells(section, name)
        strip = [re.sub(r"^⚠ ", "", value) for value in row]
        assert strip[1] == f"{float(posterior[name].mean()):.4g}"
        assert strip[3] == f"{float(posterior[name].median()):.4g}"
        assert strip[6] == f"{table.loc[name, 'r_hat']:.3f}"
        assert strip[7] == f"{table.loc[name, 'ess_bulk']:.0f}"
        assert strip[8] == f"{table.loc[name, 'ess_tail']:.0f}"
        # failing figures are marked, passing ones are not
        tags = cell_tags(section, name)
        assert ("gf-fail" in tags[6]) == (table.loc[name, "r_hat"] > 1.01)
        assert ("gf-fail" in tags[7]) == (table.loc[name, "ess_bulk"] < 400)
        assert row[6].startswith("⚠") == (table.loc[name, "r_hat"] > 1.01)
    # the fit's own summary gives the same R-hat and ESS (ArviZ rounds them)
    summary = saved_fit[0].summary()
    for name in ("centre", "sigma"):
        row = [re.sub(r"^⚠ ", "", v) for v in cells(section, name)]
        assert abs(float(row[6]) - float(summary.loc[name, "r_hat"])) <= 0.006
        assert abs(float(row[7]) - float(summary.loc[name, "ess_bulk"])) <= 1.0
    # the overview row: the worst figures of the dataset
    overview = [re.sub(r"^⚠ ", "", v) for v in cells(text, "dataset_1")]
    assert overview[:5] == [
        "dataset_1",
        "3",
        f"{table['r_hat'].max():.3f}",
        f"{table['ess_bulk'].min():.0f}",
        f"{table['ess_tail'].min():.0f}",
    ]
    assert overview[5] == ("ok" if saved_fit.diagnostics.ok else "check failed")
    for problem in saved_fit.diagnostics.problems:
        assert f"<li>{html.escape(problem)}</li>" in text


def test_failing_checks_are_marked(saved_fit, monkeypatch):
    table = saved_fit.diagnostics.table.copy()
    table["r_hat"] = [1.001, 1.002, 1.25]
    table["ess_bulk"] = [1000.0, 350.0, 1000.0]
    table["ess_tail"] = 900.0
    problems = [
        "R-hat above 1.01 for: sigma (1.250)",
        "bulk ESS below 400 for: normalization (350)",
    ]
    diagnostics = Diagnostics(table=table, divergences=3, problems=problems)
    monkeypatch.setattr(saved_fit, "diagnostics", diagnostics)
    text = saved_fit._repr_html_()
    section = re.findall(
        r"<details><summary>dataset_2 · 3 parameters</summary>(.*?)</details>", text, re.S
    )[0]
    tags = cell_tags(section, "sigma")
    assert tags[6] == '<td class="gf-num gf-fail" title="R-hat above 1.01: chains disagree">'
    assert cells(section, "sigma")[6:] == ["⚠ 1.250", "1000", "900"]
    assert cells(section, "centre")[6:] == ["1.001", "1000", "900"]
    assert 'class="gf-num gf-fail" title="bulk ESS below 400">⚠ 350<' in section
    assert '<div class="gf-fail">⚠ 3 divergent transitions</div>' in text
    status = cell_tags(text, "dataset_0")[-1]
    assert 'class="gf-fail"' in status and "divergent transitions in the joint fit" in status
    assert "<li>R-hat above 1.01 for: sigma (1.250)</li>" in text
    # a Result shows its dataset's part, marked the same way
    result_text = saved_fit[2]._repr_html_()
    assert "<b>Result</b> dataset_2 · dataset 3 of 3 of a joint fit" in result_text
    assert cells(result_text, "sigma")[6] == "⚠ 1.250"


def test_loaded_result_list_html_reads_the_saved_summary(saved_fit):
    loaded = gf.load_result(saved_fit.output_folder)
    text = loaded._repr_html_()
    assert "<b>LoadedResultList</b> 3 datasets" in text
    assert f"<code>{html.escape(str(saved_fit.output_folder))}</code>" in text
    fitted = saved_fit._repr_html_()
    start = fitted.index("<table><caption>Datasets")
    assert text[text.index("<table><caption>Datasets") :] == fitted[start:]


def test_optimiser_result_html():
    result = gf.MAP(random_seed=1).fit(model=cookbook_model(), analysis=identical_analyses()[0])
    text = result._repr_html_()
    assert "<b>Result</b> dataset_0 · fit of one dataset" in text
    assert "Not saved (give the search name= to save the fit to an output folder)." in text
    assert "No convergence checks (an optimiser&#x27;s estimate)." in text
    posterior = stack.group(result.idata, "posterior")
    assert cells(text, "centre") == ["centre", f"{float(posterior['centre'].median()):.6g}"]
    list_text = result.result_list._repr_html_()
    assert cells(list_text, "dataset_0") == ["dataset_0", "3", "estimate"]
    assert "<details open><summary>dataset_0 · 3 parameters</summary>" in list_text


class FailingAnalysis(gf.ex.Analysis):
    """Raises while the model is built, for the dataset flagged ``fail``."""

    def __init__(self, data, noise_map, fail=False):
        super().__init__(data, noise_map)
        self.fail = fail

    def observation(self, instance, xp=np):
        if self.fail:
            raise ValueError("detector <saturated>")
        return super().observation(instance, xp)


def test_independent_fits_html_shows_failures_and_each_fits_checks():
    analyses = identical_analyses()
    factors = [
        gf.AnalysisFactor(
            cookbook_model(),
            FailingAnalysis(a.data, a.noise_map, fail=(k == 1)),
            name=f"epoch_{k}",
        )
        for k, a in enumerate(analyses)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gf.ConvergenceWarning)
        # two short chains: enough for the R-hat, ESS and divergences each row shows
        short = search(draws=50, tune=50, chains=2, cores=1)
        result_list = gf.fit_each(factors, short, progressbar=False)
    text = result_list._repr_html_()
    assert "<b>IndependentResultList</b> 3 independent fits" in text
    failed = cells(text, "epoch_1")
    assert failed[-1] == "⚠ failed: ValueError: detector &lt;saturated&gt;"
    assert "gf-fail" in cell_tags(text, "epoch_1")[-1]
    assert '<div class="gf-fail">⚠ 1 fits failed: epoch_1</div>' in text
    for name in ("epoch_0", "epoch_2"):
        diagnostics = result_list[name].diagnostics
        row = [re.sub(r"^⚠ ", "", v) for v in cells(text, name)]
        assert row[2] == f"{diagnostics.table['r_hat'].max():.3f}"
        assert row[3] == f"{diagnostics.table['ess_bulk'].min():.0f}"
        assert row[5] == str(diagnostics.divergences)
        assert ("gf-fail" in cell_tags(text, name)[5]) == (diagnostics.divergences > 0)
    assert [t for t in re.findall(r"<summary>(.*?)</summary>", text)] == [
        "epoch_0 · 3 parameters",
        "epoch_2 · 3 parameters",
    ]


# -- aggregator and comparison ---------------------------------------------------------------------


def test_aggregator_html(tmp_path):
    for k in (0, 1):
        gf.MAP(random_seed=1, name=f"fit_{k}", output_path=tmp_path).fit(
            model=cookbook_model(), analysis=identical_analyses()[k]
        )
    broken = tmp_path / "broken" / "abc"
    broken.mkdir(parents=True)
    (broken / "graphfit.json").write_text(json.dumps({"format": "<nonsense>"}))
    (broken / "COMPLETED").write_text("")
    agg = gf.Aggregator(tmp_path)
    text = agg._repr_html_()
    assert f"<b>Aggregator</b> 2 fits under {html.escape(str(tmp_path))}" in text
    record = agg.table.iloc[1]
    assert cells(text, "fit_1") == [
        "fit_1",
        "",
        "MAP",
        "dataset_0",
        DASH,
        DASH,
        DASH,
        record["identifier"],
        html.escape(record["path"]),
    ]
    assert "agg.table also holds 9 columns of each parameter&#x27;s median and 94% HDI." in text
    assert "<summary>1 folders skipped</summary>" in text
    assert f"<code>{html.escape(str(broken))}</code>: " in text
    assert "<nonsense>" not in text


def test_aggregator_html_marks_failing_fits(saved_fit):
    root = saved_fit.output_folder.parents[2]
    agg = gf.Aggregator(root)
    row = agg.table.iloc[0]
    text = agg._repr_html_()
    tags, values = cell_tags(text, "html_fit"), cells(text, "html_fit")
    assert values[1:4] == ["repr", "NUTS", "dataset_0, dataset_1, dataset_2"]
    assert re.sub(r"^⚠ ", "", values[4]) == f"{row['max_r_hat']:.3f}"
    assert ("gf-fail" in tags[4]) == (row["max_r_hat"] > 1.01)
    assert ("gf-fail" in tags[5]) == (row["min_ess_bulk"] < 400)
    assert values[6] == str(int(row["divergences"])) or values[6] == f"⚠ {int(row['divergences'])}"


def test_comparison_html(saved_fit):
    # the module's fit under two labels: the HTML shows whatever the comparison's tables hold,
    # and two more NUTS fits would only cost their compiling (gf.compare's ranking of models
    # that differ is tests/test_comparison.py's, in the slow tier)
    fits = {"shared <centre>": saved_fit, "own centres": saved_fit}
    comparison = quiet(gf.compare, fits)
    text = comparison._repr_html_()
    best = comparison.best
    assert f"<b>Comparison</b> 2 models by loo · best: {html.escape(best)}" in text
    assert "<caption>All datasets (every observed point)</caption>" in text
    assert "<caption>Leave one dataset out</caption>" in text
    assert "shared <centre>" not in text and "shared &lt;centre&gt;" in text
    joint = text[: text.index("<caption>Leave one dataset out")]
    for label, record in zip(
        comparison.joint.index, comparison.joint.to_dict("records"), strict=True
    ):
        row = cells(joint, html.escape(label))
        for value, shown in zip(record.values(), row[1:], strict=True):
            if isinstance(value, float) and np.isfinite(value):
                assert shown == f"{value:.4g}"
    assert f'<td class="gf-ok" title="ranked first">{html.escape(best)}</td>' in joint
    assert [s for s in re.findall(r"<summary>(.*?)</summary>", text)] == [
        "dataset_0",
        "dataset_1",
        "dataset_2",
    ]


def test_long_lists_are_cut(monkeypatch):
    from graphfit.results import html as results_html

    monkeypatch.setattr(results_html, "MAX_ROWS", 2)
    monkeypatch.setattr(results_html, "MAX_DETAILS", 1)
    graph = identical_graph()
    result_list = gf.MAP(random_seed=1).fit(model=graph.global_prior_model, analysis=graph)
    text = result_list._repr_html_()
    assert cells(text, "dataset_0")[0] == "dataset_0" and cells(text, "dataset_1")
    with pytest.raises(AssertionError, match="no row"):
        cells(text, "dataset_2")
    assert '<div class="gf-dim">… 1 more datasets</div>' in text
    assert re.findall(r"<summary>(.*?)</summary>", text) == ["dataset_0 · 3 parameters"]
    assert '<div class="gf-dim">… 1 more datasets: see result_list[name]</div>' in text

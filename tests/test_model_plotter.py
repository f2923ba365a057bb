"""gf.ModelPlotter(model).figure(): PyAutoFit's figure of a model's structure, in matplotlib.

The figures are drawn with the Agg backend and read back: their texts (card titles, one pill per
parameter with its prior, value or formula, tags, the footer's counts), the patches drawn, the
files written, and what is shown, closed and returned.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import FancyBboxPatch

import graphfit as gf
from graphfit.results.model_plotter import prior_summary


def two_components() -> gf.Collection:
    model = gf.Collection(gaussian=gf.ex.Gaussian, exponential=gf.ex.Exponential)
    model.gaussian.sigma = 2.0 * model.gaussian.centre
    model.exponential.centre = 50.0
    model.add_assertion(model.exponential.rate > 0.1)
    return model


def texts(figure) -> list[str]:
    (ax,) = figure.axes
    return [text.get_text() for text in ax.texts]


def footer(figure) -> str:
    """The footer's line(s), after the legend's."""
    lines = texts(figure)
    end = next(k for k, line in enumerate(lines) if line.endswith("a group of alike"))
    return " · ".join(lines[end + 1 :])


def graph(n: int = 3, hierarchical: bool = False) -> gf.FactorGraphModel:
    shared = gf.Model(gf.ex.Gaussian)
    population = gf.HierarchicalFactor(
        gf.GaussianPrior, mean=gf.UniformPrior(0.0, 100.0), sigma=gf.UniformPrior(0.0, 20.0)
    )
    factors = []
    for seed in range(n):
        model = gf.Model(gf.ex.Gaussian, centre=shared.centre)
        if hierarchical:
            population.add_drawn_variable(model.normalization)
        analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=seed))
        factors.append(gf.AnalysisFactor(model, analysis))
    return gf.FactorGraphModel(*factors, *([population] if hierarchical else []))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_one_card_per_component_and_one_pill_per_parameter():
    model = two_components()
    figure = gf.ModelPlotter(model).figure(format=None)
    assert isinstance(figure, matplotlib.figure.Figure) and len(figure.axes) == 1
    assert texts(figure)[:11] == [
        "model: Collection",
        "gaussian: Gaussian",
        "centre",
        "normalization",
        "sigma  = 2.0 * gaussian.centre",
        "exponential: Exponential",
        "centre  = 50",
        "normalization",
        "rate",
        "assertions",
        "assert exponential.rate > 0.1",
    ]
    assert " · ".join(texts(figure)[11:]) == (
        "white: free · grey: fixed · cream: relation · blue: shared · violet: drawn from a "
        "population · red: missing · dashed card: a group of alike · 4 free parameters · "
        "1 fixed value · 1 relation · 1 assertion"
    )
    # the pills are the model's parameters: every free one, the relation and the fixed value
    pills = {t.split("  ")[0] for t in texts(figure)[2:9]} - {"exponential: Exponential"}
    assert pills == {path[-1] for path, _ in model.leaves()}
    assert len(model.paths) == 4
    # 4 cards (model, two components, assertions), 6 parameter pills and 1 assertion pill
    boxes = [p for p in figure.axes[0].patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == 4 + 6 + 1
    colours = {t.get_text(): matplotlib.colors.to_hex(t.get_color()) for t in figure.axes[0].texts}
    assert colours["sigma  = 2.0 * gaussian.centre"] == "#17171d"
    assert colours["centre  = 50"] == "#4c4c57"  # a fixed value is grey


def test_priors_detail_shows_each_prior():
    model = two_components()
    figure = gf.ModelPlotter(model).figure(format=None, detail="priors")
    assert f"centre  ~ {prior_summary(model.gaussian.centre)}" in texts(figure)
    assert "rate  ~ Uniform(0, 10)" in texts(figure)
    assert prior_summary(gf.LogGaussianPrior(mean=1.0, sigma=0.5)) == "LogGaussian(1, 0.5)"


def test_factor_graph_alike_datasets_share_one_card():
    collapsed = texts(gf.ModelPlotter(graph().global_prior_model).figure(format=None))
    assert collapsed[:7] == [
        "datasets 0 - 2: Gaussian",
        "3 datasets",
        "centre",
        "shared",
        "normalization",
        "one each",
        "sigma",
    ]
    assert " · ".join(collapsed).endswith("7 free parameters · 1 shared prior · 3 datasets")
    flat = texts(gf.ModelPlotter(graph()).figure(format=None, collapse=False))
    titles = [t for t in flat if t.endswith(": Gaussian")]
    assert titles == ["dataset_0: Gaussian", "dataset_1: Gaussian", "dataset_2: Gaussian"]
    assert flat.count("shared") == 3 and "one each" not in flat


def test_hierarchical_factor_and_named_datasets():
    figure = gf.ModelPlotter(graph(hierarchical=True)).figure(format=None)
    lines = texts(figure)
    assert "drawn from hierarchical_0" in lines
    assert footer(figure) == "9 free parameters · 1 shared prior · 3 datasets"  # with mean, sigma
    start = lines.index("hierarchical_0: Gaussian population (auto)")
    assert lines[start + 1 : start + 5] == ["mean", "sigma", "draws  3 parameters", "drawn"]
    factors = [
        gf.AnalysisFactor(
            gf.Model(gf.ex.Gaussian),
            gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=k)),
            name=name,
        )
        for k, name in enumerate(["night_1", "night_2"])
    ]
    named = texts(gf.ModelPlotter(gf.FactorGraphModel(*factors)).figure(format=None))
    assert named[0] == "night_1, night_2: Gaussian"


def test_fixed_values_depth_and_solved_paths():
    model = two_components()
    hidden = gf.ModelPlotter(model).figure(format=None, show_fixed=False)
    assert "centre  = 50" not in texts(hidden)
    assert footer(hidden) == "4 free parameters · 1 fixed value hidden · 1 relation · 1 assertion"
    folded = texts(gf.ModelPlotter(model).figure(format=None, max_depth=0))
    assert folded[:3] == ["model: Collection", "gaussian …  1 component / 2 priors", (
        "exponential …  1 component / 2 priors"
    )]  # fmt: skip
    solved = gf.ModelPlotter(model, solved_paths=["gaussian.normalization"])
    assert "normalization  solved during fitting" in texts(solved.figure(format=None))
    alike = gf.Collection(a=gf.ex.Gaussian, b=gf.ex.Gaussian)
    alike.b.centre = alike.a.centre
    grouped = texts(gf.ModelPlotter(alike).figure(format=None))
    assert grouped[1:5] == ["a, b: Gaussian", "2 components", "centre", "shared"]
    separate = texts(gf.ModelPlotter(alike).figure(format=None, collapse=False))
    assert "a: Gaussian" in separate and "b: Gaussian" in separate


def test_analysis_and_bare_class():
    analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    lines = texts(gf.ModelPlotter(gf.ex.Gaussian, analysis=analysis).figure(format=None))
    assert lines[:5] == [
        "model: Gaussian",
        "centre",
        "normalization",
        "sigma",
        "analysis: Analysis",
    ]
    assert lines[5] == "data: 100 values"


def test_writes_files_as_pyautofit(tmp_path):
    plotter = gf.ModelPlotter(two_components())
    folder = tmp_path / "figures"
    figure = plotter.figure(path=folder, format="png")
    assert isinstance(figure, matplotlib.figure.Figure)
    assert figure.number not in plt.get_fignums()  # written, then closed, as PyAutoFit does
    png = (folder / "model.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    plotter.figure(path=folder, filename="again", format="png")
    assert (folder / "again.png").read_bytes() == png  # the same model gives the same bytes
    width, height = figure.get_size_inches() * figure.dpi
    rows, columns = matplotlib.image.imread(folder / "model.png").shape[:2]
    assert abs(rows - height) <= 1 and abs(columns - width) <= 1
    plotter.figure(path=folder, filename="model", format="svg")
    plotter.figure(path=folder, filename="model", format="pdf")
    assert (folder / "model.svg").read_text().lstrip().startswith("<?xml")
    assert (folder / "model.pdf").read_bytes().startswith(b"%PDF")
    assert plotter.figure(format="png") is not None  # no path: nothing written
    assert sorted(p.name for p in folder.iterdir()) == [
        "again.png", "model.pdf", "model.png", "model.svg"
    ]  # fmt: skip


def test_show_returns_none(monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.get_fignums()))
    assert gf.ModelPlotter(gf.Model(gf.ex.Gaussian)).figure() is None
    assert len(shown) == 1 and len(shown[0]) == 1  # the figure was open when shown
    assert plt.get_fignums() == []  # and closed after


def test_draws_into_a_given_axes_with_text_keywords(monkeypatch, tmp_path):
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(True))
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot([0.0, 1.0], [0.0, 1.0])
    out = gf.ModelPlotter(gf.Model(gf.ex.Gaussian)).figure(ax=right, fontfamily="serif")
    assert out is right and shown == []  # the caller's figure: not shown, not closed
    assert figure.number in plt.get_fignums()
    assert [t.get_text() for t in right.texts][:2] == ["model: Gaussian", "centre"]
    assert {t.get_fontfamily()[0] for t in right.texts} == {"serif"}
    assert len(left.lines) == 1 and len(left.texts) == 0
    assert max(t.get_fontsize() for t in right.texts) < 9.0  # scaled to fit the Axes
    gf.ModelPlotter(gf.Model(gf.ex.Gaussian)).figure(ax=left, path=tmp_path, format="png")
    assert (tmp_path / "model.png").is_file()
    big = gf.ModelPlotter(gf.Model(gf.ex.Gaussian)).figure(format=None, fontsize=18, dpi=50)
    small = gf.ModelPlotter(gf.Model(gf.ex.Gaussian)).figure(format=None)
    assert big.get_size_inches()[1] > 1.8 * small.get_size_inches()[1] and big.dpi == 50


def test_errors():
    plotter = gf.ModelPlotter(gf.Model(gf.ex.Gaussian))
    with pytest.raises(gf.PlotError) as error:
        plotter.figure(format="jpg")
    assert str(error.value) == (
        "ModelPlotter.figure: format must be None or one of 'show', 'png', 'pdf', 'svg'; got 'jpg'."
    )
    with pytest.raises(gf.PlotError) as error:
        plotter.figure(format=None, detail="values")
    assert str(error.value) == "ModelPlotter: detail must be 'names' or 'priors', got 'values'."
    with pytest.raises(gf.PlotError, match=r"width must be a number > 0, got 0"):
        plotter.figure(format=None, width=0)
    with pytest.raises(gf.PlotError, match=r"max_depth must be None or an integer >= 0, got -1"):
        plotter.figure(format=None, max_depth=-1)
    with pytest.raises(gf.PlotError) as error:
        gf.ModelPlotter("gaussian")
    assert str(error.value) == (
        "ModelPlotter: model must be a gf.Model, gf.Collection or gf.Array, a component class, "
        "or a gf.FactorGraphModel or its global_prior_model; got 'gaussian' of type str."
    )
    with pytest.raises(gf.PlotError, match="analysis= goes with a single model"):
        gf.ModelPlotter(graph(), analysis=gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset()))
    assert plt.get_fignums() == []  # no figure is made before the arguments are checked

"""Working in a notebook, outside one: the tutorial's fit with the text forms of its reprs.

Three 1D Gaussians share their centre (50) and have their own normalization and sigma
(40/10, 60/15, 80/20); the factors are named ``epoch_0`` to ``epoch_2``.  The script prints
what a notebook shows as tables (the model, the factor graph, the result list, the
``Aggregator``) as text, fits with the stage lines of ``progressbar=True`` on stderr, and
writes the page's plots: the fits on a grid of our own Axes, ``plot_fits``' small multiples,
ArviZ's forest and trace plots, and a fit next to its posterior predictive check.

Run from the repository root::

    python examples/working_in_a_notebook.py

The plots are written to ``examples/output/working_in_a_notebook/``; the fit is saved in a
temporary folder, deleted at the end.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import arviz as az
import matplotlib.pyplot as plt

import graphfit as gf

OUTPUT = Path(__file__).resolve().parent / "output" / "working_in_a_notebook"
#: (normalization, sigma) of each dataset; all have centre 50.
TRUTHS = ((40.0, 10.0), (60.0, 15.0), (80.0, 20.0))


def build() -> tuple[gf.Model, gf.FactorGraphModel]:
    """The shared-centre model and the factor graph of the three simulated datasets."""
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    model.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e3)
    model.sigma = gf.UniformPrior(lower_limit=0.0, upper_limit=50.0)
    factors = []
    for seed, (normalization, sigma) in enumerate(TRUTHS):
        data, noise_map = gf.ex.simulate_gaussian_dataset(
            centre=50.0, normalization=normalization, sigma=sigma, seed=60 + seed
        )
        model_analysis = model.copy()
        model_analysis.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e3)
        model_analysis.sigma = gf.UniformPrior(lower_limit=0.0, upper_limit=50.0)
        factors.append(
            gf.AnalysisFactor(
                prior_model=model_analysis,
                analysis=gf.ex.Analysis(data=data, noise_map=noise_map),
                name=f"epoch_{seed}",
            )
        )
    return model, gf.FactorGraphModel(*factors)


def save(figure: matplotlib.figure.Figure, name: str) -> None:
    """Write ``figure`` to the output folder and close it."""
    figure.savefig(OUTPUT / name, dpi=100)
    plt.close(figure)
    print(f"plot: {OUTPUT / name}")


def main(random_seed: int = 7) -> gf.ResultList:
    """Build, fit with stage lines, print the text forms and write the plots."""
    model, factor_graph = build()
    print(model.info)
    print(factor_graph.info)

    with tempfile.TemporaryDirectory() as output_root:
        search = gf.NUTS(
            draws=400,
            tune=400,
            chains=4,
            random_seed=random_seed,
            progressbar=True,
            name="three_epochs",
            output_path=output_root,
        )
        result_list = search.fit(model=factor_graph.global_prior_model, analysis=factor_graph)
        print(result_list)
        print(result_list.diagnostics.table)
        print(az.summary(result_list.idata, var_names=["centre", "sigma"]))
        aggregator = gf.Aggregator(output_root)
        print(aggregator)
        print(aggregator.table[["name", "n_datasets", "max_r_hat", "centre_median"]])

    OUTPUT.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3), layout="constrained")
    for ax, result in zip(axes, result_list, strict=True):
        result.plot_fit(ax=ax)
        ax.set_title(result.name)
    save(fig, "own_axes.png")
    save(result_list.plot_fits(ncols=3, residuals=True, figsize=(10, 4)), "plot_fits.png")

    # ArviZ's plots make their own figure (the current one) on ArviZ 0.x and 1 alike.
    az.plot_forest(result_list.idata, var_names=["sigma"], combined=True)
    save(plt.gcf(), "forest_sigma.png")
    az.plot_trace(result_list[0].idata)
    save(plt.gcf(), "trace_epoch_0.png")

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3), layout="constrained")
    result_list[2].plot_fit(ax=left)
    result_list[2].plot_ppc(num_samples=50, ax=right)
    save(fig, "fit_and_ppc.png")
    return result_list


if __name__ == "__main__":
    main()

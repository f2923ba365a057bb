"""Compare two models of the same datasets: LOO per dataset and jointly, and the log evidence.

Three noisy observations of one 1D Gaussian (the cookbook's identical datasets: centre 50,
normalization 25, sigma 10).  Model A shares every parameter between the datasets; model B
gives every dataset its own sigma.  Both are fitted with ``gf.SMC``, which gives the posterior,
every dataset's pointwise log-likelihood and the log evidence in one run, then:

* ``gf.compare`` ranks the models by PSIS-LOO, jointly and per dataset;
* ``result_list.leave_one_dataset_out()`` asks how well the other datasets predict each one;
* ``result_list.log_evidence`` gives the Bayes factor, cross-checked with ``gf.DynestyStatic``
  (nested sampling) when dynesty is installed.

Run from the repository root::

    python examples/model_comparison.py

The comparison plot is written to ``examples/output/model_comparison.png``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np

import graphfit as gf

OUTPUT = Path(__file__).resolve().parent / "output"


def datasets() -> list[gf.ex.Analysis]:
    """The cookbook's identical datasets: one signal, three noise realisations."""
    return [
        gf.ex.Analysis(
            *gf.ex.simulate_gaussian_dataset(centre=50.0, normalization=25.0, sigma=10.0, seed=seed)
        )
        for seed in (0, 1, 2)
    ]


def sigma_prior() -> gf.GaussianPrior:
    return gf.GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=np.inf)


def shared_sigma_graph(analyses: list[gf.ex.Analysis]) -> gf.FactorGraphModel:
    """Model A: one Gaussian, every parameter shared by all datasets."""
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    model.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2)
    model.sigma = sigma_prior()
    return gf.FactorGraphModel(*[gf.AnalysisFactor(model, a) for a in analyses])


def own_sigma_graph(analyses: list[gf.ex.Analysis]) -> gf.FactorGraphModel:
    """Model B: shared centre and normalization, a sigma per dataset (same prior)."""
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    model.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2)
    factors = []
    for analysis in analyses:
        model_analysis = model.copy()
        model_analysis.sigma = sigma_prior()
        factors.append(gf.AnalysisFactor(model_analysis, analysis))
    return gf.FactorGraphModel(*factors)


def main(random_seed: int = 1) -> dict[str, gf.ResultList]:
    """Fit both models with SMC, compare them, and print the evidences."""
    analyses = datasets()
    fits = {}
    for label, graph in (
        ("shared sigma", shared_sigma_graph(analyses)),
        ("own sigma", own_sigma_graph(analyses)),
    ):
        search = gf.SMC(draws=500, chains=4, cores=1, random_seed=random_seed, progressbar=False)
        fits[label] = search.fit(model=graph.global_prior_model, analysis=graph)

    comparison = gf.compare(fits)
    print("Joint comparison (all 300 points):")
    print(comparison.joint[["rank", "elpd_loo", "p_loo", "elpd_diff", "dse", "weight"]])
    for name in comparison.datasets:
        best = comparison[name].index[0]
        diff, dse = comparison[name][["elpd_diff", "dse"]].iloc[1]
        print(f"{name}: best {best!r}, the other is worse by {diff:.2f} +- {dse:.2f}")
    print()
    print("Leave one dataset out (model A):")
    print(fits["shared sigma"].leave_one_dataset_out())
    print()
    for label, result_list in fits.items():
        print(f"log evidence, {label}: {result_list.log_evidence}")
    bayes = fits["shared sigma"].log_evidence.value - fits["own sigma"].log_evidence.value
    print(f"log Bayes factor, shared sigma vs own sigma: {bayes:.2f}")

    if importlib.util.find_spec("dynesty") is not None:
        graph = shared_sigma_graph(analyses)
        nested = gf.DynestyStatic(nlive=200, random_seed=random_seed).fit(
            model=graph.global_prior_model, analysis=graph
        )
        print(f"log evidence, shared sigma, nested sampling: {nested.log_evidence}")

    OUTPUT.mkdir(exist_ok=True)
    ax = comparison.plot()
    path = OUTPUT / "model_comparison.png"
    ax.figure.savefig(path, dpi=90, bbox_inches="tight")
    print(f"saved {path}")
    return fits


if __name__ == "__main__":
    main()

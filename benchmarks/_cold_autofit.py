"""One PyAutoFit fit in a fresh process, for ``cold_start.py``; run with a Python that has autofit.

Run as ``python _cold_autofit.py PROBLEM WORKSPACE`` in an empty working folder (PyAutoFit writes
its output folder there).  The model and search are the cookbook's: the workspace datasets,
``af.ex.Gaussian``, the cookbook's priors and ``af.DynestyStatic(sample="rwalk")``; the
hierarchical problem uses the priors of the HowToFit chapter on graphical models.  It prints one
line ``RESULT {json}``: the seconds of each stage from the top of this script, and Kish's
effective sample size of the weighted samples.
"""

import time

CLOCK = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

FOLDERS = {
    "identical": [f"gaussian_x1_identical_{k}" for k in range(3)],
    "variable": [f"gaussian_x1_variable/sigma_{k}" for k in range(3)],
    "relational": [f"gaussian_x1_variable/sigma_{k}" for k in range(3)],
    "hierarchical": [f"gaussian_x1__hierarchical/dataset_{k}" for k in range(10)],
}


def gaussian(af):
    """The truncated Gaussian prior: recent autofit releases moved the cookbook's
    ``GaussianPrior(..., lower_limit=..., upper_limit=...)`` to ``TruncatedGaussianPrior``."""
    return getattr(af, "TruncatedGaussianPrior", af.GaussianPrior)


def graph(af, problem, analyses):
    if problem == "identical":
        model = af.Model(af.ex.Gaussian)
        model.centre = af.UniformPrior(lower_limit=0.0, upper_limit=100.0)
        model.normalization = af.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2)
        model.sigma = gaussian(af)(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=np.inf)
        return af.FactorGraphModel(*[af.AnalysisFactor(model, a) for a in analyses])
    if problem == "variable":
        model = af.Model(af.ex.Gaussian)
        model.centre = af.UniformPrior(lower_limit=0.0, upper_limit=100.0)
        factors = []
        for analysis in analyses:
            own = model.copy()
            own.normalization = af.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2)
            own.sigma = gaussian(af)(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=np.inf)
            factors.append(af.AnalysisFactor(own, analysis))
        return af.FactorGraphModel(*factors)
    if problem == "relational":
        model = af.Collection(gaussian=af.Model(af.ex.Gaussian))
        sigma_m = af.UniformPrior(lower_limit=-10.0, upper_limit=10.0)
        sigma_c = af.UniformPrior(lower_limit=-10.0, upper_limit=10.0)
        factors = []
        for x, analysis in zip([1.0, 2.0, 3.0], analyses, strict=True):
            own = model.copy()
            own.gaussian.sigma = (sigma_m * x) + sigma_c
            factors.append(af.AnalysisFactor(own, analysis))
        return af.FactorGraphModel(*factors)
    population = af.HierarchicalFactor(
        af.GaussianPrior,
        mean=gaussian(af)(mean=50.0, sigma=10.0, lower_limit=0.0, upper_limit=100.0),
        sigma=gaussian(af)(mean=10.0, sigma=5.0, lower_limit=0.0, upper_limit=100.0),
    )
    factors = []
    for analysis in analyses:
        model = af.Model(af.ex.Gaussian)
        model.centre = gaussian(af)(mean=50.0, sigma=20.0, lower_limit=0.0, upper_limit=100.0)
        model.normalization = gaussian(af)(mean=3.0, sigma=5.0, lower_limit=0.0)
        model.sigma = gaussian(af)(mean=10.0, sigma=10.0, lower_limit=0.0)
        population.add_drawn_variable(model.centre)
        factors.append(af.AnalysisFactor(model, analysis))
    return af.FactorGraphModel(*factors, population)


def main() -> None:
    problem, workspace = sys.argv[1], Path(sys.argv[2])
    stages = {}
    clock = time.perf_counter()
    import autofit as af

    stages["import"] = time.perf_counter() - clock
    clock = time.perf_counter()
    analyses = []
    for name in FOLDERS[problem]:
        data = np.array(json.loads((workspace / name / "data.json").read_text()))
        noise = np.array(json.loads((workspace / name / "noise_map.json").read_text()))
        analyses.append(af.ex.Analysis(data=data, noise_map=noise))
    factor_graph = graph(af, problem, analyses)
    stages["build"] = time.perf_counter() - clock
    clock = time.perf_counter()
    search = af.DynestyStatic(sample="rwalk")
    result = search.fit(model=factor_graph.global_prior_model, analysis=factor_graph)
    stages["sample"] = time.perf_counter() - clock
    weights = np.asarray(result.samples.weight_list, dtype=float)
    ess = float(weights.sum() ** 2 / (weights**2).sum())
    out = {"stages": stages, "ess": ess, "in-process": time.perf_counter() - CLOCK}
    print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

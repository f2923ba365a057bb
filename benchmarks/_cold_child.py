"""One fit in a fresh process, for ``cold_start.py``: graphfit or the hand-written PyMC model.

Run as ``python benchmarks/_cold_child.py SIDE PROBLEM [--refit]`` with SIDE ``graphfit`` or
``handwritten``.  It prints one line ``RESULT {json}`` with the seconds of each stage (from the
top of this script), the smallest bulk ESS of the problem's parameters, and, with ``--refit``,
the seconds of a second fit of the same model in the same process.
"""

from __future__ import annotations

import time

CLOCK = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

# the checkout's graphfit is the one measured, not an installed copy
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]
WORKSPACE = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "example_1d"
FOLDERS = {
    "identical": [f"gaussian_x1_identical_{k}" for k in range(3)],
    "variable": [f"gaussian_x1_variable/sigma_{k}" for k in range(3)],
    "relational": [f"gaussian_x1_variable/sigma_{k}" for k in range(3)],
    "hierarchical": [f"gaussian_x1__hierarchical/dataset_{k}" for k in range(10)],
}
#: The parameters whose smallest bulk ESS is reported, per side.
ESS_NAMES = {
    "identical": (["centre", "normalization", "sigma"], ["centre", "normalization", "sigma"]),
    "variable": (["centre", "normalization", "sigma"], ["centre", "normalization", "sigma"]),
    "relational": (
        ["gaussian.centre", "gaussian.normalization", "sigma_m", "sigma_c"],
        ["gaussian.centre", "gaussian.normalization", "sigma_m", "sigma_c"],
    ),
    "hierarchical": (["hierarchical_0.mean", "hierarchical_0.sigma"], ["mean", "sigma"]),
}


def load(problem: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The workspace's datasets of ``problem``: (data, noise map) pairs."""
    out = []
    for name in FOLDERS[problem]:
        folder = WORKSPACE / name
        data = json.loads((folder / "data.json").read_text())
        noise = json.loads((folder / "noise_map.json").read_text())
        out.append((np.array(data), np.array(noise)))
    return out


def min_ess(idata, names) -> float:
    import arviz as az

    ess = az.ess(idata, var_names=list(names))
    return float(min(ess[name].min() for name in names))


def run_graphfit(problem: str, datasets, refit: bool) -> dict:
    stages = {}
    clock = time.perf_counter()
    import pymc  # noqa: F401  (graphfit's build imports it: timed here as the import)

    import graphfit as gf

    stages["import"] = time.perf_counter() - clock
    import cookbook
    import divergences

    builders = {
        "identical": cookbook.graph_identical,
        "variable": cookbook.graph_population,
        "relational": cookbook.graph_relational,
        "hierarchical": divergences.graphfit_graph,
    }
    graph = builders[problem](datasets)
    search = gf.NUTS(random_seed=1, progressbar=False)
    result = search.fit(model=graph.global_prior_model, analysis=graph)
    timings = result.timings
    stages["build"] = timings["build"]
    stages["start"] = timings["start"]
    stages["compile"] = timings["sampler_setup"]
    stages["sample"] = timings["sample"]
    stages["post-process"] = timings["postprocess"]
    out = {"stages": stages, "ess": min_ess(result.idata, ESS_NAMES[problem][0])}
    if refit:
        clock = time.perf_counter()
        search.fit(model=graph.global_prior_model, analysis=graph)
        out["refit"] = time.perf_counter() - clock
    return out


def run_handwritten(problem: str, datasets, refit: bool) -> dict:
    stages = {}
    clock = time.perf_counter()
    import nutpie
    import pymc  # noqa: F401

    stages["import"] = time.perf_counter() - clock
    import _common
    import cookbook
    import divergences

    builders = {
        "identical": cookbook.hand_identical,
        "variable": _common.handwritten_population,
        "relational": cookbook.hand_relational,
        "hierarchical": divergences.handwritten,
    }

    def fit() -> object:
        clock = time.perf_counter()
        model = builders[problem](datasets)
        stages["build"] = time.perf_counter() - clock
        clock = time.perf_counter()
        compiled = nutpie.compile_pymc_model(model)
        stages["compile"] = time.perf_counter() - clock
        clock = time.perf_counter()
        idata = nutpie.sample(compiled, chains=4, cores=2, seed=1, progress_bar=False)
        stages["sample"] = time.perf_counter() - clock
        return idata

    idata = fit()
    out = {"stages": dict(stages), "ess": min_ess(idata, ESS_NAMES[problem][1])}
    if refit:
        clock = time.perf_counter()
        fit()
        out["refit"] = time.perf_counter() - clock
    return out


def main() -> None:
    side, problem = sys.argv[1], sys.argv[2]
    refit = "--refit" in sys.argv[3:]
    datasets = load(problem)
    warnings.simplefilter("ignore")  # convergence warnings: the ESS is reported instead
    run = run_graphfit if side == "graphfit" else run_handwritten
    out = run(problem, datasets, refit)
    out["in-process"] = time.perf_counter() - CLOCK
    print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

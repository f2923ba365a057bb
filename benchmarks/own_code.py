"""Own code: a user's Gaussian and analysis written with numpy, with ``xp``, and as a black box.

The tutorial "Your own model and analysis" (``docs/tutorials/own_code.md``) shows the ways a
user's own component and analysis run in graphfit; this script times them.  Each fits one
workspace dataset (``example_1d/gaussian_x1``: one Gaussian of centre 50, normalization 25 and
sigma 10 on 100 points, noise 0.04) with ``gf.NUTS()`` at its defaults (4 chains of 1000 draws
after 1000 tuning steps):

- ``numpy``: PyAutoFit's signatures, ``model_data_from(self, xvalues)`` and
  ``log_likelihood_function(self, instance)``, with numpy calls on the parameters
  (``np.exp``, ``np.sum``).  graphfit's trial trace fails on them, so the likelihood runs as
  numpy code with finite-difference gradients (one ``gf.NumpyLikelihoodWarning``) and NUTS
  runs on PyMC's sampler.
- ``numpy, sum()``: the same code with Python's ``sum`` over the points, as PyAutoFit's
  example analysis has.  It traces, into a graph of about two operations per data point.
- ``xp``: the same code written with the array namespace ``xp``: a small symbolic graph with
  exact gradients, sampled by the default sampler (nutpie when installed).
- ``black box``: the numpy code with ``black_box = True``: no gradient at all, so ``gf.NUTS``
  hands the fit to ``gf.SMC``.

Each path runs in a fresh Python process (this file with ``--child PATH``), as a script does,
with PyTensor's and numba's disk caches as earlier runs left them (a rerun of a script, not a
first run on a new machine).  In that process it imports graphfit and PyMC, fits once (``fresh
fit s``: building the model, finding starts, compiling, sampling and the results), then builds
a new model and analysis of the same code and fits again (``warm fit s``: a notebook cell run
again).  ``min ESS`` and ``max R-hat`` are the fresh fit's smallest bulk ESS and largest R-hat
over the three parameters; ``centre``, ``normalization`` and ``sigma`` its posterior means, with
the true values in the last row, and ``max |z|`` the largest distance of a mean from its true
value in posterior standard deviations.  ``import s`` runs from the top of this file until
graphfit and PyMC are imported; ``process s`` is the whole process, both fits included.

Run from the repository root (it takes a few minutes)::

    python benchmarks/own_code.py

It prints a markdown table and writes ``benchmarks/results/own_code.json``; with ``--smoke``
(few draws, a test of this script) nothing is written.
"""

from __future__ import annotations

import time

CLOCK = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

# the checkout's graphfit is the one measured, not an installed copy
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]
import graphfit as gf  # noqa: E402

HERE = Path(__file__).resolve().parent
DATASET = HERE.parents[1] / "shared" / "datasets" / "example_1d" / "gaussian_x1"
TRUTH = {"centre": 50.0, "normalization": 25.0, "sigma": 10.0}
PATHS = ("numpy", "numpy, sum()", "xp", "black box")
COLUMNS = [
    "path",
    "path taken",
    "sampler",
    "process s",
    "import s",
    "fresh fit s",
    "sampling s",
    "warm fit s",
    "min ESS",
    "max R-hat",
    "centre",
    "normalization",
    "sigma",
    "max |z|",
]


class NumpyGaussian:
    """PyAutoFit's signature, numpy calls on the parameters."""

    def __init__(self, centre=30.0, normalization=1.0, sigma=5.0):
        self.centre, self.normalization, self.sigma = centre, normalization, sigma

    def model_data_from(self, xvalues):
        peak = np.divide(self.normalization, self.sigma * np.sqrt(2.0 * np.pi))
        return peak * np.exp(-0.5 * np.square(np.divide(xvalues - self.centre, self.sigma)))


class NumpyAnalysis(gf.Analysis):
    """PyAutoFit's signature, ``np.sum`` over the points."""

    def __init__(self, data, noise_map):
        self.data, self.noise_map = data, noise_map

    def log_likelihood_function(self, instance):
        model_data = instance.model_data_from(xvalues=np.arange(self.data.shape[0]))
        chi_squared = np.sum(((self.data - model_data) / self.noise_map) ** 2)
        return -0.5 * (chi_squared + np.sum(np.log(2.0 * np.pi * self.noise_map**2)))


class SumAnalysis(NumpyAnalysis):
    """Python's ``sum`` over the points, as PyAutoFit's example analysis has."""

    def log_likelihood_function(self, instance):
        model_data = instance.model_data_from(xvalues=np.arange(self.data.shape[0]))
        chi_squared = sum(((self.data - model_data) / self.noise_map) ** 2)
        return -0.5 * (chi_squared + np.sum(np.log(2.0 * np.pi * self.noise_map**2)))


class XpGaussian(NumpyGaussian):
    """The same profile with the array namespace ``xp``."""

    def model_data_from(self, xvalues, xp=np):
        peak = self.normalization / (self.sigma * xp.sqrt(2.0 * xp.pi))
        return peak * xp.exp(-0.5 * ((xp.asarray(xvalues) - self.centre) / self.sigma) ** 2)


class XpAnalysis(NumpyAnalysis):
    """The same likelihood with the array namespace ``xp``."""

    def log_likelihood_function(self, instance, xp=np):
        model_data = instance.model_data_from(np.arange(self.data.shape[0]), xp)
        chi_squared = xp.sum(((self.data - model_data) / self.noise_map) ** 2)
        return -0.5 * (chi_squared + np.sum(np.log(2.0 * np.pi * self.noise_map**2)))


class BlackBox(NumpyAnalysis):
    """The numpy likelihood, declared a black box."""

    black_box = True


#: The component and analysis classes of each path.
CLASSES = {
    "numpy": (NumpyGaussian, NumpyAnalysis),
    "numpy, sum()": (NumpyGaussian, SumAnalysis),
    "xp": (XpGaussian, XpAnalysis),
    "black box": (NumpyGaussian, BlackBox),
}


def child(path: str, smoke: bool) -> None:
    """Fit ``path`` twice in this process; prints ``RESULT {json}``."""
    import pymc  # noqa: F401  (the first fit imports it: timed here as the import)

    imported = time.perf_counter() - CLOCK
    from _common import convergence

    data = np.array(json.loads((DATASET / "data.json").read_text()))
    noise_map = np.array(json.loads((DATASET / "noise_map.json").read_text()))
    component, analysis_class = CLASSES[path]
    settings = {"draws": 100, "tune": 100} if smoke else {}

    def fit() -> tuple[gf.ResultList, float, list[str]]:
        model = gf.Model(
            component,
            centre=gf.UniformPrior(lower_limit=0.0, upper_limit=100.0),
            normalization=gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2),
            sigma=gf.UniformPrior(lower_limit=0.0, upper_limit=25.0),
        )
        graph = gf.FactorGraphModel(gf.AnalysisFactor(model, analysis_class(data, noise_map)))
        search = gf.NUTS(random_seed=1, progressbar=False, **settings)
        clock = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result_list = search.fit(model=graph.global_prior_model, analysis=graph)
        seconds = time.perf_counter() - clock
        return result_list, seconds, sorted({type(w.message).__name__ for w in caught})

    result_list, fresh, caught = fit()
    _, warm, _ = fit()
    compiled = result_list.compiled
    posterior = result_list.idata.posterior
    names = list(TRUTH)
    ess, r_hat = convergence(result_list.idata, names)
    if compiled.black_box:
        taken, sampler = "black box", "SMC"
    elif compiled.finite_differences:
        taken, sampler = "finite differences", "pymc"
    else:
        taken, sampler = "symbolic", gf.NUTS().sampler
    out = {
        "path taken": taken,
        "sampler": sampler,
        "warnings": caught,
        "import s": imported,
        "fresh fit s": fresh,
        "sampling s": result_list.timings["sample"],
        "warm fit s": warm,
        "min ESS": ess,
        "max R-hat": r_hat,
        "max |z|": max(
            abs(float(posterior[n].mean()) - TRUTH[n]) / float(posterior[n].std()) for n in names
        ),
        **{n: float(posterior[n].mean()) for n in names},
    }
    print("RESULT " + json.dumps(out), flush=True)


def run(path: str, smoke: bool) -> dict:
    """One fresh process of ``path``: its wall time and what it reported."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", path]
    if smoke:
        command.append("--smoke")
    clock = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - clock
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{path} failed:\n{done.stderr[-3000:]}")
    return {"path": path, "process s": wall, **json.loads(lines[-1][len("RESULT ") :])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--smoke", action="store_true", help="few draws; nothing written")
    parser.add_argument("--child", choices=PATHS, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.smoke)
        return

    from _common import markdown_table, write_json

    rows = []
    for path in args.paths:
        rows.append(run(path, args.smoke))
        print(markdown_table(rows[-1:], COLUMNS), flush=True)
    rows.append({"path": "truth", **TRUTH})
    print(markdown_table(rows, COLUMNS))
    if not args.smoke:
        settings = {
            "search": "gf.NUTS(random_seed=1, progressbar=False), otherwise the defaults",
            "dataset": "example_1d/gaussian_x1 (100 points)",
            "process": "one per path, two fits in each (fresh, then warm)",
        }
        print(write_json("own_code", rows, settings))


if __name__ == "__main__":
    main()

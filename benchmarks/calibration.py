"""Calibration benchmark: simulation-based calibration of graphfit against hand-written PyMC.

Simulation-based calibration (SBC; Talts et al. 2018, arXiv:1804.06788): for every repeat, draw
the true parameters from the priors, simulate data from the model with them, fit, and record
where each truth falls in its posterior.  If the inference is right, the rank of a truth among
``L`` posterior draws is uniform on ``0 .. L``, and a central ``p`` interval holds the truth in a
fraction ``p`` of the repeats, whatever the priors.  The ranks use ``L`` draws spread evenly over
the chains (``--thin-to``, default 199 of the 4 x 1000), so that neighbouring draws are about 20
iterations apart and little autocorrelated; the intervals use all draws.

Problems (``--problems``):

- ``gaussian``: one dataset of the cookbook Gaussian (100 pixels, noise 0.04), with the
  cookbook's priors: centre Uniform(0, 100), normalization LogUniform(0.01, 100), sigma
  Gaussian(10, 5) cut at 0.
- ``variable``: the cookbook's "variable model", 3 datasets with a shared centre and each its
  own normalization and sigma, with the same priors.
- ``hierarchical``: 8 datasets of known normalization (1.5) and width (5), whose centres are
  drawn from a ``gf.HierarchicalFactor(gf.GaussianPrior, mean=Uniform(25, 75),
  sigma=Uniform(0, 10))``; the truths of the hyperparameters are drawn from these hyperpriors
  and the centres from the population.

Both sides fit the same data with nutpie, 4 chains x 1000 draws after 1000 tuning steps, the
same seed: graphfit at its defaults (``gf.NUTS(random_seed=..., progressbar=False)``, one compile
per fit, as a user's script does) and a hand-written PyMC model of the same priors and
likelihood, compiled once per problem with ``pm.Data`` containers and given each repeat's data
with ``nutpie``'s ``with_data`` (the sampler's own default chain starts).

Run from the repository root (hours on 2 cores; each repeat takes about 4 s for graphfit)::

    PYTHONPATH=. python benchmarks/calibration.py --repeats 200 --problems gaussian variable
    PYTHONPATH=. python benchmarks/calibration.py --repeats 100 --problems hierarchical

Each finished repeat is appended to ``benchmarks/results/calibration/<problem>.jsonl`` at once;
``--resume`` continues a killed run from those records (same seed and settings) instead of
starting the file again; without it, the records of the sides being fitted are replaced and
the other side's kept (``--sides graphfit`` refits graphfit alone after a change).  When the
fits are done (or with ``--report`` alone, which fits nothing), the script reads every
problem's records, prints the tables, writes ``benchmarks/results/calibration.json`` and
draws the rank histograms into ``docs/_static/calibration/<problem>.png``.  The documentation
page "How we check the posteriors" shows that JSON and those figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import _calibration_report as report
import numpy as np
from _common import RESULTS

import graphfit as gf

RUNS = RESULTS / "calibration"
SIZE = 100  # pixels per dataset
NOISE = 0.04  # noise per pixel, as gf.ex.simulate_gaussian_dataset
X = np.arange(SIZE, dtype=float)

# cookbook priors (sections "identical datasets" and "variable model")
CENTRE = (0.0, 100.0)
NORMALIZATION = (1e-2, 1e2)
SIGMA = (10.0, 5.0)  # Gaussian mean and sigma, cut at 0

# hierarchical problem
HIER_N = 8
HIER_MEAN = (25.0, 75.0)
HIER_SIGMA = (0.0, 10.0)
HIER_NORMALIZATION, HIER_WIDTH = 1.5, 5.0
HIER = "hierarchical_0"

SNR_CLASSES = (3.0, 10.0)  # breakdown of coverage by the fitted peak's signal-to-noise ratio
TRAPPED = 3.0  # pixels: a centre whose posterior median is further from its truth is held off


def _truncated_sigma(rng: np.random.Generator, size: int | None = None) -> Any:
    """Draws of Gaussian(10, 5) cut at 0 (the prior's exact distribution, by inverse CDF)."""
    from scipy import stats

    mean, sd = SIGMA
    low = stats.norm.cdf(-mean / sd)
    return mean + sd * stats.norm.ppf(rng.uniform(low, 1.0, size))


def _log_uniform(rng: np.random.Generator, size: int | None = None) -> Any:
    low, high = NORMALIZATION
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


# ---------------------------------------------------------------------------------------------
# truths
# ---------------------------------------------------------------------------------------------


def truths_gaussian(rng: np.random.Generator) -> dict[str, Any]:
    """Truths of the single-dataset problem, drawn from its priors."""
    return {
        "centre": rng.uniform(*CENTRE),
        "normalization": _log_uniform(rng),
        "sigma": _truncated_sigma(rng),
    }


def truths_variable(rng: np.random.Generator) -> dict[str, Any]:
    """Truths of the variable model: a shared centre, three normalizations and sigmas."""
    return {
        "centre": rng.uniform(*CENTRE),
        "normalization": _log_uniform(rng, 3),
        "sigma": _truncated_sigma(rng, 3),
    }


def truths_hierarchical(rng: np.random.Generator) -> dict[str, Any]:
    """Hyperparameters drawn from their hyperpriors, then the centres from the population."""
    mean = rng.uniform(*HIER_MEAN)
    sigma = rng.uniform(*HIER_SIGMA)
    return {
        f"{HIER}.mean": mean,
        f"{HIER}.sigma": sigma,
        "centre": rng.normal(mean, sigma, HIER_N),
    }


def profiles(problem: str, truths: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Per-dataset (centre, normalization, sigma) arrays of the simulated Gaussians."""
    if problem == "hierarchical":
        centres = np.asarray(truths["centre"], dtype=float)
        return (
            centres,
            np.full(centres.size, HIER_NORMALIZATION),
            np.full(centres.size, HIER_WIDTH),
        )
    n = PROBLEMS[problem].datasets
    return tuple(
        np.broadcast_to(np.asarray(truths[k], dtype=float), (n,)).copy()
        for k in ("centre", "normalization", "sigma")
    )


def simulate(problem: str, truths: dict[str, Any], seed: int) -> list[tuple]:
    """The datasets of one repeat: one ``(data, noise_map)`` per dataset, each with its own seed."""
    return [
        gf.ex.simulate_gaussian_dataset(
            float(c), float(a), float(s), size=SIZE, noise=NOISE, seed=seed + k
        )
        for k, (c, a, s) in enumerate(zip(*profiles(problem, truths), strict=True))
    ]


def peak_snr(centre: Any, normalization: Any, sigma: Any) -> np.ndarray:
    """Signal-to-noise ratio of each true profile: ``sqrt(sum((profile / noise)**2))`` over
    the pixels, what an ideal matched filter would detect it at (below about 3, no peak)."""
    centre, normalization, sigma = (
        np.atleast_1d(v)[:, None] for v in (centre, normalization, sigma)
    )
    profile = (
        normalization / (sigma * np.sqrt(2.0 * np.pi)) * np.exp(-0.5 * ((X - centre) / sigma) ** 2)
    )
    return np.sqrt(np.sum((profile / NOISE) ** 2, axis=1))


def _snr_class(snr: float) -> str:
    if snr < SNR_CLASSES[0]:
        return f"S/N < {SNR_CLASSES[0]:g}"
    if snr < SNR_CLASSES[1]:
        return f"S/N {SNR_CLASSES[0]:g}-{SNR_CLASSES[1]:g}"
    return f"S/N >= {SNR_CLASSES[1]:g}"


def _median(record: dict, name: str, k: int) -> float:
    elements = record["elements"]
    label = name if name in elements else f"{name}[{k}]"
    return elements[label]["quantiles"][2]


def classes_by_snr(problem: str, record: dict) -> dict[str, str]:
    """Each parameter's class by the signal-to-noise ratio of its dataset's fitted profile (the
    profile at the posterior medians; all datasets together for the shared centre).

    The class is a function of the data, not of the truths: the posterior is calibrated given
    the data, so coverage holds within any such class, while classes chosen by the truths
    (a true S/N between 1 and 10, say) select truths in one part of the posterior and miss
    coverage even when the posterior is exact."""
    n = PROBLEMS[problem].datasets
    snr = peak_snr(
        *(
            np.array([_median(record, name, k) for k in range(n)])
            for name in ("centre", "normalization", "sigma")
        )
    )
    out = {}
    for label in record["elements"]:
        if "[" in label:
            out[label] = _snr_class(snr[int(label.split("[")[1].rstrip("]"))])
        else:
            out[label] = _snr_class(float(np.sqrt(np.sum(snr**2))))
    return out


def classes_by_rhat(problem: str, record: dict) -> dict[str, str]:
    """One class per fit: whether every parameter's R-hat passed graphfit's check (<= 1.01),
    i.e. whether graphfit would have warned about the fit."""
    kind = RHAT_ORDER[0] if record["max_rhat"] <= 1.01 else RHAT_ORDER[1]
    return dict.fromkeys(record["elements"], kind)


def far_off(problem: str, record: dict) -> bool:
    """Whether some centre's posterior median lies more than ``TRAPPED`` pixels from its truth,
    where the data pin every centre to a fraction of a pixel: chains held in a local mode of
    that centre's likelihood (a noise bump, or flat ground away from the peak)."""
    truths = np.asarray(record["truths"]["centre"], dtype=float)
    medians = np.array([_median(record, "centre", k) for k in range(truths.size)])
    return bool(np.any(np.abs(medians - truths) > TRAPPED))


SNR_ORDER = tuple(_snr_class(v) for v in (0.0, SNR_CLASSES[0], SNR_CLASSES[1]))
RHAT_ORDER = ("R-hat <= 1.01", "R-hat > 1.01")


# ---------------------------------------------------------------------------------------------
# graphfit side: the user's script
# ---------------------------------------------------------------------------------------------


def _cookbook_model(centre: Any = None) -> gf.Model:
    model = gf.Model(gf.ex.Gaussian)
    model.centre = centre if centre is not None else gf.UniformPrior(*CENTRE)
    model.normalization = gf.LogUniformPrior(*NORMALIZATION)
    model.sigma = gf.GaussianPrior(*SIGMA, lower_limit=0.0, upper_limit=np.inf)
    return model


def graphfit_gaussian(datasets: list[tuple], search: gf.NUTS) -> tuple[Any, dict]:
    """One dataset, ``search.fit(model=model, analysis=analysis)``: a single ``Result``."""
    ((data, noise),) = datasets
    result = search.fit(model=_cookbook_model(), analysis=gf.ex.Analysis(data, noise))
    return result.idata, {}


def graphfit_variable(datasets: list[tuple], search: gf.NUTS) -> tuple[Any, dict]:
    """The cookbook's variable model: ``model.copy()`` with new normalization and sigma priors."""
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(*CENTRE)
    factors = []
    for data, noise in datasets:
        own = model.copy()
        own.normalization = gf.LogUniformPrior(*NORMALIZATION)
        own.sigma = gf.GaussianPrior(*SIGMA, lower_limit=0.0, upper_limit=np.inf)
        factors.append(gf.AnalysisFactor(prior_model=own, analysis=gf.ex.Analysis(data, noise)))
    graph = gf.FactorGraphModel(*factors)
    result_list = search.fit(model=graph.global_prior_model, analysis=graph)
    return result_list.idata, {}


def graphfit_hierarchical(datasets: list[tuple], search: gf.NUTS) -> tuple[Any, dict]:
    """Centres drawn from a Gaussian population; graphfit picks the parametrisation."""
    population = gf.HierarchicalFactor(
        gf.GaussianPrior,
        mean=gf.UniformPrior(*HIER_MEAN),
        sigma=gf.UniformPrior(*HIER_SIGMA),
    )
    factors = []
    for data, noise in datasets:
        model = gf.Model(gf.ex.Gaussian, normalization=HIER_NORMALIZATION, sigma=HIER_WIDTH)
        population.add_drawn_variable(model.centre)
        factors.append(gf.AnalysisFactor(prior_model=model, analysis=gf.ex.Analysis(data, noise)))
    graph = gf.FactorGraphModel(*factors, population)
    result_list = search.fit(model=graph.global_prior_model, analysis=graph)
    return result_list.idata, {"parametrization": population.resolved_parametrization}


# ---------------------------------------------------------------------------------------------
# hand-written side: what a PyMC user writes, with data containers
# ---------------------------------------------------------------------------------------------


def _profile(pm: Any, centre: Any, normalization: Any, sigma: Any) -> Any:
    return (normalization / (sigma * np.sqrt(2.0 * np.pi))) * pm.math.exp(
        -0.5 * ((X - centre) / sigma) ** 2
    )


def _containers(pm: Any, n: int) -> tuple[Any, Any]:
    data = pm.Data("data", np.zeros((n, SIZE)), dims=("dataset", "x"))
    noise = pm.Data("noise", np.full((n, SIZE), NOISE), dims=("dataset", "x"))
    return data, noise


def _coords(n: int) -> dict[str, Any]:
    return {"dataset": [f"dataset_{k}" for k in range(n)], "x": X}


def hand_cookbook(n: int) -> Any:
    """Cookbook priors; a shared centre; normalization and sigma shared when ``n == 1``, else
    one per dataset (``dims="dataset"``)."""
    import pymc as pm

    dims = "dataset" if n > 1 else None
    with pm.Model(coords=_coords(n)) as model:
        data, noise = _containers(pm, n)
        centre = pm.Uniform("centre", *CENTRE)
        log_norm = pm.Uniform("log_normalization", *np.log(NORMALIZATION), dims=dims)
        normalization = pm.Deterministic("normalization", pm.math.exp(log_norm), dims=dims)
        sigma = pm.TruncatedNormal("sigma", mu=SIGMA[0], sigma=SIGMA[1], lower=0.0, dims=dims)
        if n > 1:
            normalization, sigma = normalization[:, None], sigma[:, None]
        mu = _profile(pm, centre, normalization, sigma)
        pm.Normal("obs", mu=mu, sigma=noise, observed=data, dims=("dataset", "x"))
    return model


def hand_hierarchical(n: int) -> Any:
    """Centred Gaussian population of the centres (the data pin each centre to a fraction of a
    pixel, where the centred form is the usual choice)."""
    import pymc as pm

    with pm.Model(coords=_coords(n)) as model:
        data, noise = _containers(pm, n)
        mean = pm.Uniform(f"{HIER}.mean", *HIER_MEAN)
        sigma = pm.Uniform(f"{HIER}.sigma", *HIER_SIGMA)
        centre = pm.Normal("centre", mu=mean, sigma=sigma, dims="dataset")
        mu = _profile(pm, centre[:, None], HIER_NORMALIZATION, HIER_WIDTH)
        pm.Normal("obs", mu=mu, sigma=noise, observed=data, dims=("dataset", "x"))
    return model


# ---------------------------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One calibration problem: how to draw truths, fit with graphfit, and build by hand."""

    key: int  # part of every repeat's seed, so problems draw independent truths
    datasets: int
    truths: Callable[[np.random.Generator], dict[str, Any]]
    graphfit: Callable[[list[tuple], gf.NUTS], tuple[Any, dict]]
    handwritten: Callable[[int], Any]
    parameters: tuple[str, ...]
    label: str
    # record -> {parameter: class} for the breakdown, and the order of the classes
    classes: Callable[[str, dict], dict[str, str]]
    class_order: tuple[str, ...]
    # whether a fit is far off the truths (a wrong answer), where a problem can tell
    far_off: Callable[[str, dict], bool] | None = None


PROBLEMS: dict[str, Problem] = {
    "gaussian": Problem(
        1,
        1,
        truths_gaussian,
        graphfit_gaussian,
        hand_cookbook,
        ("centre", "normalization", "sigma"),
        "one dataset, cookbook priors",
        classes_by_snr,
        SNR_ORDER,
    ),
    "variable": Problem(
        2,
        3,
        truths_variable,
        graphfit_variable,
        hand_cookbook,
        ("centre", "normalization", "sigma"),
        "cookbook variable model: 3 datasets, shared centre",
        classes_by_snr,
        SNR_ORDER,
    ),
    "hierarchical": Problem(
        3,
        HIER_N,
        truths_hierarchical,
        graphfit_hierarchical,
        hand_hierarchical,
        (f"{HIER}.mean", f"{HIER}.sigma", "centre"),
        f"{HIER_N} datasets, centres from a Gaussian population",
        classes_by_rhat,
        RHAT_ORDER,
        far_off,
    ),
}
SIDES = ("graphfit", "hand-written")


@cache
def compiled_handwritten(problem: str) -> Any:
    """nutpie's compiled hand-written model of ``problem`` (once per process)."""
    import nutpie

    spec = PROBLEMS[problem]
    return nutpie.compile_pymc_model(spec.handwritten(spec.datasets))


# ---------------------------------------------------------------------------------------------
# one repeat
# ---------------------------------------------------------------------------------------------


def repeat_setup(problem: str, repeat: int, seed: int) -> tuple[dict, list[tuple], int]:
    """Truths, datasets and sampler seed of one repeat (the same for both sides)."""
    rng = np.random.default_rng([seed, PROBLEMS[problem].key, repeat])
    truths = PROBLEMS[problem].truths(rng)
    data_seed = int(rng.integers(2**31 - 1_000))
    sampler_seed = int(rng.integers(2**31 - 1))
    return truths, simulate(problem, truths, data_seed), sampler_seed


def fit_side(problem: str, side: str, datasets: list[tuple], seed: int, settings: dict):
    """Fit one side; returns (InferenceData, extra record fields)."""
    spec = PROBLEMS[problem]
    if side == "graphfit":
        search = gf.NUTS(random_seed=seed, progressbar=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gf.ConvergenceWarning)  # counted in the tables
            return spec.graphfit(datasets, search)
    import nutpie

    data = np.stack([d for d, _ in datasets])
    noise = np.stack([s for _, s in datasets])
    compiled = compiled_handwritten(problem).with_data(data=data, noise=noise)
    idata = nutpie.sample(
        compiled,
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        cores=min(settings["chains"], 2),
        seed=seed,
        progress_bar=False,
    )
    return idata, {}


def run_repeat(problem: str, repeat: int, side: str, settings: dict) -> dict:
    """Fit one side of one repeat and return its record (ranks, coverage, diagnostics)."""
    truths, datasets, sampler_seed = repeat_setup(problem, repeat, settings["seed"])
    record: dict[str, Any] = {
        "problem": problem,
        "repeat": repeat,
        "side": side,
        "settings": settings,
        "truths": {k: np.asarray(v).tolist() for k, v in truths.items()},
    }
    clock = time.perf_counter()
    try:
        idata, extra = fit_side(problem, side, datasets, sampler_seed, settings)
    except Exception as error:  # a failed fit is a result too: counted, not hidden
        record.update(seconds=time.perf_counter() - clock, error=f"{type(error).__name__}: {error}")
        return record
    record["seconds"] = round(time.perf_counter() - clock, 3)
    record.update(extra)
    record.update(report.posterior_record(idata, truths, PROBLEMS[problem].parameters, settings))
    return record


# ---------------------------------------------------------------------------------------------
# resumable runs
# ---------------------------------------------------------------------------------------------


def run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """What a record must share with the run to be reused by ``--resume``."""
    return {
        "seed": args.seed,
        "draws": 1000,
        "tune": 1000,
        "chains": 4,
        "thin_to": args.thin_to,
    }


def read_records(problem: str) -> list[dict]:
    """Every record in ``problem``'s JSONL file (a line cut short by a kill is skipped)."""
    path = RUNS / f"{problem}.jsonl"
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def run_problem(problem: str, args: argparse.Namespace, commit: str, command: str) -> None:
    """Fit ``args.repeats`` repeats of ``problem`` on both sides, appending each record."""
    settings = run_settings(args)
    path = RUNS / f"{problem}.jsonl"
    RUNS.mkdir(parents=True, exist_ok=True)
    done: set[tuple[int, str]] = set()
    if args.resume:
        for record in read_records(problem):
            if record["settings"] == settings:
                done.add((record["repeat"], record["side"]))
        print(f"{problem}: resuming, {len(done)} fits already in {path}", flush=True)
    else:
        # a new run of these sides: keep only the other sides' records of the same settings
        kept = [
            r
            for r in read_records(problem)
            if r["side"] not in args.sides and r["settings"] == settings
        ]
        path.write_text("".join(json.dumps(r) + "\n" for r in kept))
    for repeat in range(args.repeats):
        for side in args.sides:
            if (repeat, side) in done:
                continue
            record = run_repeat(problem, repeat, side, settings)
            record["commit"] = commit
            record["requested"] = args.repeats
            record["command"] = command
            with path.open("a") as stream:
                stream.write(json.dumps(report.rounded(record)) + "\n")
            status = record.get("error") or (
                f"max R-hat {record['max_rhat']:.3f}, {record['divergences']} divergences"
            )
            print(
                f"{problem} {repeat:4d} {side:12s} {record['seconds']:6.1f} s  {status}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--repeats", type=int, default=200, help="repeats per problem")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    parser.add_argument(
        "--thin-to", type=int, default=199, help="posterior draws each rank is taken among (L)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the records of a killed run"
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="fit nothing: only build the tables, JSON and figures from the records",
    )
    args = parser.parse_args()
    logging.getLogger("pymc").setLevel(logging.WARNING)
    logging.getLogger("graphfit").setLevel(logging.WARNING)
    command = "python benchmarks/calibration.py " + " ".join(sys.argv[1:])
    commit = report.git_commit()
    if not args.report:
        for problem in args.problems:
            run_problem(problem, args, commit, command)
    records = {problem: read_records(problem) for problem in PROBLEMS}
    summary = report.summarise(records, PROBLEMS, command=command)
    print(report.tables_text(summary))
    print(f"\nwrote {report.write(summary)}")
    for path in report.draw_histograms(summary):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

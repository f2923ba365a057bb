"""Exact posteriors on a grid for the calibration benchmark's weak datasets.

Where graphfit and the hand-written model both miss coverage, either both samplers are wrong in
the same way or the miss belongs to the problem.  For weak datasets (a faint peak or none) the
posterior has few dimensions that matter, so it can be computed exactly on a grid and compared
with the sampled one.  This script reads the records of ``calibration.py`` (same seed, so it
simulates the same datasets) and prints, for each selection of repeats, the coverage of the
exact posterior, of graphfit and of the hand-written model:

- ``gaussian``: the single-Gaussian problem on a grid over centre, log normalization and sigma
  (801 x 241 x 400 points), for repeats selected by the *true* signal-to-noise ratio (S/N
  between 1 and 10) and by the *fitted* one (below 10; :func:`calibration.classes_by_snr`);
- ``variable``: each weak dataset (fitted S/N below 3) of the variable model whose shared
  centre the other datasets pin (posterior sd below 1 pixel), on a grid over its normalization
  and sigma with the centre at its posterior median;
- ``hierarchical``: the population's mean and sigma, on a grid over both (501 x 200 points),
  each dataset's centre integrated out exactly on a 0.05-pixel grid (its normalization and
  width are known), for every repeat.

Run from the repository root after ``calibration.py`` (about 15 minutes on one core)::

    PYTHONPATH=. python benchmarks/calibration_grid.py

It writes ``benchmarks/results/calibration_grid.json``, keeping the rows of problems it did not
rerun.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys

import numpy as np
from _calibration_report import git_commit
from _common import RESULTS, markdown_table, write_json
from calibration import (
    HIER,
    HIER_MEAN,
    HIER_NORMALIZATION,
    HIER_SIGMA,
    HIER_WIDTH,
    NOISE,
    NORMALIZATION,
    SIGMA,
    X,
    peak_snr,
    read_records,
    repeat_setup,
)

CENTRES = np.linspace(0.0, 100.0, 801)
LOG_NORMALIZATIONS = np.linspace(*np.log(NORMALIZATION), 241)
SIGMAS = np.linspace(0.02, 40.0, 400)  # the prior above 40 holds 1e-9 of its mass


def _log_sigma_prior(sigmas: np.ndarray) -> np.ndarray:
    from scipy import stats

    mean, sd = SIGMA
    return stats.truncnorm.logpdf(sigmas, -mean / sd, np.inf, mean, sd)


def _profiles(centre: float, sigmas: np.ndarray) -> np.ndarray:
    """Unit-area Gaussian profiles at ``centre``, one row per sigma."""
    s = sigmas[:, None]
    return np.exp(-0.5 * ((X - centre) / s) ** 2) / (s * np.sqrt(2.0 * np.pi))


def _log_posterior_slice(
    data: np.ndarray, centre: float, normalizations: np.ndarray, sigmas: np.ndarray
) -> np.ndarray:
    """Log posterior (up to a constant) over (normalization, sigma) at one centre; the
    normalization prior is uniform in log, so on a grid of log normalization it is flat."""
    g = _profiles(centre, sigmas)
    w = 1.0 / NOISE**2
    dg = (g * data).sum(axis=1) * w
    gg = (g * g).sum(axis=1) * w
    a = normalizations[:, None]
    return a * dg[None, :] - 0.5 * a * a * gg[None, :] + _log_sigma_prior(sigmas)[None, :]


def _cdf_at(grid: np.ndarray, marginal: np.ndarray, value: float) -> float:
    return float(np.interp(value, grid, np.cumsum(marginal) / marginal.sum()))


def _covered(pit: float, level: float) -> bool:
    return (1.0 - level) / 2.0 <= pit <= (1.0 + level) / 2.0


def gaussian_pits(data: np.ndarray, truths: dict) -> dict[str, float]:
    """Exact posterior CDF at each truth of the single-Gaussian problem (its PIT)."""
    normalizations = np.exp(LOG_NORMALIZATIONS)
    log_post = np.stack([_log_posterior_slice(data, c, normalizations, SIGMAS) for c in CENTRES])
    post = np.exp(log_post - log_post.max())
    return {
        "centre": _cdf_at(CENTRES, post.sum(axis=(1, 2)), truths["centre"]),
        "normalization": _cdf_at(
            LOG_NORMALIZATIONS, post.sum(axis=(0, 2)), np.log(truths["normalization"])
        ),
        "sigma": _cdf_at(SIGMAS, post.sum(axis=(0, 1)), truths["sigma"]),
    }


def _summary(selection: str, parameter: str, rows: list[dict]) -> dict:
    out = {"selection": selection, "parameter": parameter, "n": len(rows)}
    for level in (0.5, 0.9):
        key = f"in{round(level * 100)}"
        out[f"exact {key}"] = float(np.mean([_covered(r["pit"], level) for r in rows]))
        for side in ("graphfit", "hand-written"):
            out[f"{side} {key}"] = float(np.mean([r[side][key] for r in rows]))
    out["exact mean PIT"] = float(np.mean([r["pit"] for r in rows]))
    return out


def _by_repeat(problem: str) -> dict[int, dict[str, dict]]:
    out: dict[int, dict[str, dict]] = {}
    for record in read_records(problem):
        if "error" not in record:
            out.setdefault(record["repeat"], {})[record["side"]] = record
    return {k: v for k, v in out.items() if len(v) == 2}


def check_gaussian() -> list[dict]:
    """Exact against sampled coverage on repeats selected by true and by fitted S/N."""
    rows: dict[str, list[dict]] = {"true S/N 1-10": [], "fitted S/N < 10": []}
    for repeat, sides in sorted(_by_repeat("gaussian").items()):
        record = sides["graphfit"]
        seed = record["settings"]["seed"]
        truths, datasets, _ = repeat_setup("gaussian", repeat, seed)
        true_snr = peak_snr(truths["centre"], truths["normalization"], truths["sigma"])[0]
        medians = [
            record["elements"][k]["quantiles"][2] for k in ("centre", "normalization", "sigma")
        ]
        fitted_snr = peak_snr(*medians)[0]
        selections = [
            name
            for name, chosen in (
                ("true S/N 1-10", 1.0 <= true_snr < 10.0),
                ("fitted S/N < 10", fitted_snr < 10.0),
            )
            if chosen
        ]
        if not selections:
            continue
        pits = gaussian_pits(datasets[0][0], truths)
        for name in selections:
            for parameter, pit in pits.items():
                rows[name].append(
                    {
                        "parameter": parameter,
                        "pit": pit,
                        **{side: sides[side]["elements"][parameter] for side in sides},
                    }
                )
        print(
            f"gaussian {repeat:4d}  true S/N {true_snr:6.2f}  fitted {fitted_snr:6.2f}", flush=True
        )
    return [
        _summary(name, parameter, [r for r in selected if r["parameter"] == parameter])
        for name, selected in rows.items()
        for parameter in ("centre", "normalization", "sigma")
    ]


def check_variable() -> list[dict]:
    """Exact against sampled coverage of the weak datasets' sigma and normalization."""
    normalizations = np.exp(LOG_NORMALIZATIONS)
    sigmas = np.linspace(0.01, 45.0, 1500)
    rows = []
    for repeat, sides in sorted(_by_repeat("variable").items()):
        record = sides["graphfit"]
        centre = record["elements"]["centre"]
        if centre["sd"] > 1.0:
            continue
        truths, datasets, _ = repeat_setup("variable", repeat, record["settings"]["seed"])
        for k, (data, _) in enumerate(datasets):
            a = record["elements"][f"normalization[{k}]"]["quantiles"][2]
            s = record["elements"][f"sigma[{k}]"]["quantiles"][2]
            if peak_snr(centre["quantiles"][2], a, s)[0] >= 3.0:
                continue
            log_post = _log_posterior_slice(data, centre["quantiles"][2], normalizations, sigmas)
            post = np.exp(log_post - log_post.max())
            pits = {
                "normalization": _cdf_at(
                    LOG_NORMALIZATIONS, post.sum(axis=1), np.log(truths["normalization"][k])
                ),
                "sigma": _cdf_at(sigmas, post.sum(axis=0), truths["sigma"][k]),
            }
            for parameter, pit in pits.items():
                rows.append(
                    {
                        "parameter": parameter,
                        "pit": pit,
                        **{side: sides[side]["elements"][f"{parameter}[{k}]"] for side in sides},
                    }
                )
    selection = "weak datasets (fitted S/N < 3), centre pinned"
    return [
        _summary(selection, parameter, [r for r in rows if r["parameter"] == parameter])
        for parameter in ("normalization", "sigma")
    ]


def hierarchical_pits(datasets: list[tuple], truths: dict) -> dict[str, float]:
    """Exact posterior CDF at the population's true mean and sigma (uniform hyperpriors).

    Each dataset's likelihood of its centre is tabulated on a 0.05-pixel grid where it is
    within 40 nats of its peak (the rest, the flat far side, as one constant), and convolved
    with the population's Normal(mean, sigma) at every grid point of (mean, sigma); below 0.1
    pixel the population is narrower than that grid and its density is taken as a point mass.
    """
    means = np.linspace(*HIER_MEAN, 501)
    sigmas = np.linspace(HIER_SIGMA[0] + 0.005, HIER_SIGMA[1], 200)
    step = 0.05
    centres = np.arange(-40.0, 140.0, step)
    peak = HIER_NORMALIZATION / (HIER_WIDTH * np.sqrt(2.0 * np.pi))
    profiles = peak * np.exp(-0.5 * ((X[None, :] - centres[:, None]) / HIER_WIDTH) ** 2)
    log_post = np.zeros((means.size, sigmas.size))
    for data, noise in datasets:
        loglike = -0.5 * np.sum(((data - profiles) / noise) ** 2, axis=1)
        near = loglike > loglike.max() - 40.0
        like = np.exp(loglike[near] - loglike.max())
        far = np.exp(loglike[~near].max() - loglike.max()) if (~near).any() else 0.0
        c = centres[near]
        marginal = np.empty_like(log_post)
        for j, s in enumerate(sigmas):
            if s < 2.0 * step:
                marginal[:, j] = np.interp(means, c, like, left=0.0, right=0.0)
            else:
                density = np.exp(-0.5 * ((c[None, :] - means[:, None]) / s) ** 2)
                marginal[:, j] = density @ like * step / (s * np.sqrt(2.0 * np.pi))
        log_post += np.log(marginal + far + 1e-300)
    post = np.exp(log_post - log_post.max())
    return {
        f"{HIER}.mean": _cdf_at(means, post.sum(axis=1), truths[f"{HIER}.mean"]),
        f"{HIER}.sigma": _cdf_at(sigmas, post.sum(axis=0), truths[f"{HIER}.sigma"]),
    }


def check_hierarchical() -> list[dict]:
    """Exact against sampled coverage of the population's mean and sigma, every repeat."""
    rows = []
    for repeat, sides in sorted(_by_repeat("hierarchical").items()):
        seed = sides["graphfit"]["settings"]["seed"]
        truths, datasets, _ = repeat_setup("hierarchical", repeat, seed)
        for parameter, pit in hierarchical_pits(datasets, truths).items():
            elements = {side: sides[side]["elements"][parameter] for side in sides}
            rows.append({"parameter": parameter, "pit": pit, "repeat": repeat, **elements})
        print(f"hierarchical {repeat:4d}", flush=True)
    out = []
    for parameter in (f"{HIER}.mean", f"{HIER}.sigma"):
        chosen = [r for r in rows if r["parameter"] == parameter]
        summary = _summary("every repeat", parameter, chosen)
        # repeats where graphfit's 90% interval and the exact one disagree on the truth
        summary["graphfit in90 differs"] = [
            r["repeat"] for r in chosen if r["graphfit"]["in90"] != _covered(r["pit"], 0.9)
        ]
        out.append(summary)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=["gaussian", "variable", "hierarchical"])
    args = parser.parse_args()
    checks = {
        "gaussian": check_gaussian,
        "variable": check_variable,
        "hierarchical": check_hierarchical,
    }
    rows = [{"problem": p, **row} for p in args.problems for row in checks[p]()]
    columns = ["problem", "selection", "parameter", "n"] + [
        f"{who} in{level}" for level in (50, 90) for who in ("exact", "graphfit", "hand-written")
    ]
    print(markdown_table(rows, [*columns, "exact mean PIT"]))
    command = "python benchmarks/calibration_grid.py " + " ".join(sys.argv[1:])
    settings = {
        "grid": "centre 801, log normalization 241, sigma 400 (variable: 1500); "
        "hierarchical: mean 501, sigma 200, centres 0.05 pixel"
    }
    path = RESULTS / "calibration_grid.json"
    if path.exists():  # keep the rows of the problems not rerun
        old = json.loads(path.read_text())["rows"]
        rows = [r for r in old if r["problem"] not in args.problems] + rows
    extra = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command,
        "commit": git_commit(),
    }
    print(f"\nwrote {write_json('calibration_grid', rows, settings, extra)}")


if __name__ == "__main__":
    main()

"""Convergence diagnostics: ArviZ's R-hat and bulk/tail ESS against a vectorised numpy copy.

Every NUTS, SMC and emcee fit checks R-hat, bulk ESS and tail ESS of every parameter
(``graphfit.results.diagnostics``).  graphfit used to compute them with its own numpy code,
vectorised over the parameters (it matched ArviZ to 1e-12); that code is kept here, and only
here, as ``vectorised`` to show why it was dropped.  The rows time, on one posterior variable of
``--parameters`` elements with 4 chains of 1000 draws (AR(1) draws, autocorrelation 0.5):

- ``vectorised``: the former numpy code: the draws of every element gathered into one array,
  then the three figures (the per-figure columns time each on the gathered draws);
- ``ArviZ``: ArviZ's ``rhat`` and ``ess`` (bulk, and tail at the 5% and 95% quantiles) through
  ``graphfit.backend.stack``, on the posterior ``Dataset``;
- ``graphfit``: ``graphfit.results.diagnostics.diagnostics_table``, what a fit's check calls
  (the ArviZ calls plus its row labels and its handling of non-finite draws).

Each figure is the best of ``--repeats`` calls in one process after a first, untimed call
(warm: imports done, caches filled), the implementations called in turn so that they share
the machine's load alike.  ``speed-up`` is the ArviZ row's total over the row's
total; ``max rel diff`` the largest relative difference of the row's figures from ArviZ's.

Run from the repository root::

    python benchmarks/diagnostics.py

It prints a markdown table and writes ``benchmarks/results/diagnostics.json`` (``--name``:
another file, for another stack's rows, e.g. ``diagnostics_pymc6``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import markdown_table, write_json

from graphfit.backend import stack
from graphfit.results.diagnostics import diagnostics_table

COLUMNS = [
    "parameters",
    "implementation",
    "rhat s",
    "ess bulk s",
    "ess tail s",
    "total s",
    "speed-up",
    "max rel diff",
]
STATISTICS = ("r_hat", "ess_bulk", "ess_tail")


# --- graphfit's former vectorised numpy code (Vehtari et al. 2021), kept for the comparison ---


def _split_chains(draws: np.ndarray) -> np.ndarray:
    half = draws.shape[2] // 2
    return np.concatenate([draws[:, :, :half], draws[:, :, draws.shape[2] - half :]], axis=1)


def _z_scale(draws: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri
    from scipy.stats import rankdata

    k, n_chain, n_draw = draws.shape
    size = n_chain * n_draw
    ranks = rankdata(draws.reshape(k, size), method="average", axis=1)
    return ndtri((ranks - 0.375) / (size + 0.25)).reshape(draws.shape)


def _rhat(draws: np.ndarray) -> np.ndarray:
    n_draw = draws.shape[2]
    between = n_draw * np.var(draws.mean(axis=2), axis=1, ddof=1)
    within = np.var(draws, axis=2, ddof=1).mean(axis=1)
    return np.sqrt((between / within + n_draw - 1) / n_draw)


def vectorised_rhat(draws: np.ndarray) -> np.ndarray:
    split = _split_chains(draws)
    median = np.median(split.reshape(split.shape[0], -1), axis=1)
    folded = np.abs(split - median[:, None, None])
    return np.fmax(_rhat(_z_scale(split)), _rhat(_z_scale(folded)))


def _tau(rho_all: np.ndarray, n_draw: int, total: int) -> float:
    rho = np.zeros(n_draw)
    rho[0] = even = 1.0
    rho[1] = odd = rho_all[1]
    t = 1
    while t < n_draw - 3 and even + odd > 0.0:
        even, odd = rho_all[t + 1], rho_all[t + 2]
        if even + odd >= 0:
            rho[t + 1], rho[t + 2] = even, odd
        t += 2
    max_t = t - 2
    if even > 0:
        rho[max_t + 1] = even
    t = 1
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2.0
        t += 2
    tau = -1.0 + 2.0 * rho[: max_t + 1].sum() + rho[max_t + 1 : max_t + 2].sum()
    return max(tau, 1.0 / np.log10(total))


def _ess(draws: np.ndarray) -> np.ndarray:
    k, n_chain, n_draw = draws.shape
    total = n_chain * n_draw
    centred = draws - draws.mean(axis=2, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n_draw)))
    spectrum = np.fft.rfft(centred, n=size, axis=2)
    acov = np.fft.irfft(spectrum * np.conjugate(spectrum), n=size, axis=2)[..., :n_draw] / n_draw
    mean_acov = acov.mean(axis=1)
    mean_var = mean_acov[:, 0] * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw + np.var(draws.mean(axis=2), axis=1, ddof=1)
    rho = 1.0 - (mean_var[:, None] - mean_acov) / var_plus[:, None]
    return np.array([total / _tau(rho[j], n_draw, total) for j in range(k)])


def vectorised_ess_bulk(draws: np.ndarray) -> np.ndarray:
    return _ess(_z_scale(_split_chains(draws)))


def vectorised_ess_tail(draws: np.ndarray) -> np.ndarray:
    low, high = np.quantile(draws.reshape(draws.shape[0], -1), [0.05, 0.95], axis=1)
    return np.fmin(
        _ess(_split_chains((draws <= low[:, None, None]).astype(float))),
        _ess(_split_chains((draws <= high[:, None, None]).astype(float))),
    )


# --- timing ---


def interleaved(functions: dict[Any, Callable[[], Any]], repeats: int) -> dict[Any, Any]:
    """``{name: (value, best seconds)}`` of each function: one untimed call of each, then
    ``repeats`` rounds calling each in turn, so that they share the machine's load alike."""
    values = {name: function() for name, function in functions.items()}
    seconds: dict[Any, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            t0 = time.perf_counter()
            values[name] = function()
            seconds[name].append(time.perf_counter() - t0)
    return {name: (values[name], min(seconds[name])) for name in functions}


def ar1(rng: np.random.Generator, shape: tuple[int, ...], phi: float) -> np.ndarray:
    """Autocorrelated chains along axis 1: x_t = phi x_{t-1} + noise."""
    noise = rng.normal(size=shape)
    x = np.zeros(shape)
    for t in range(1, shape[1]):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def vectorised_table(posterior: Any, name: str) -> dict[str, np.ndarray]:
    """The former code's whole path: the draws of every element, then the three figures."""
    values = posterior[name].transpose("chain", "draw", ...).values
    flat = np.ascontiguousarray(np.moveaxis(values.reshape(*values.shape[:2], -1), 2, 0))
    return {
        "r_hat": vectorised_rhat(flat),
        "ess_bulk": vectorised_ess_bulk(flat),
        "ess_tail": vectorised_ess_tail(flat),
    }


def arviz_table(posterior: Any, name: str) -> dict[str, np.ndarray]:
    """ArviZ's three calls on the posterior ``Dataset``."""
    return {
        "r_hat": stack.rhat(posterior)[name].values,
        "ess_bulk": stack.ess(posterior, "bulk")[name].values,
        "ess_tail": stack.ess(posterior, "tail")[name].values,
    }


def measure(n: int, chains: int, draws: int, repeats: int, seed: int) -> list[dict[str, Any]]:
    """The three rows of one posterior of ``n`` parameters."""
    rng = np.random.default_rng(seed)
    values = ar1(rng, (chains, draws, n), 0.5)
    idata = stack.from_arrays(posterior={"x": values}, dims={"x": ["parameter"]})
    posterior = stack.group(idata, "posterior")
    flat = np.ascontiguousarray(np.moveaxis(values, 2, 0))  # (parameter, chain, draw)
    steps = interleaved(
        {
            ("ArviZ", "rhat s"): lambda: stack.rhat(posterior),
            ("ArviZ", "ess bulk s"): lambda: stack.ess(posterior, "bulk"),
            ("ArviZ", "ess tail s"): lambda: stack.ess(posterior, "tail"),
            ("vectorised", "rhat s"): lambda: vectorised_rhat(flat),
            ("vectorised", "ess bulk s"): lambda: vectorised_ess_bulk(flat),
            ("vectorised", "ess tail s"): lambda: vectorised_ess_tail(flat),
        },
        repeats,
    )
    parts: dict[str, dict[str, float]] = {"ArviZ": {}, "vectorised": {}, "graphfit": {}}
    for (name, column), (_, seconds) in steps.items():
        parts[name][column] = seconds
    results = interleaved(
        {
            "ArviZ": lambda: arviz_table(posterior, "x"),
            "vectorised": lambda: vectorised_table(posterior, "x"),
            "graphfit": lambda: {
                key: values.to_numpy()
                for key, values in diagnostics_table(posterior, ["x"]).items()
            },
        },
        repeats,
    )
    reference, arviz_seconds = results["ArviZ"]
    rows = []
    for name, (figures, seconds) in results.items():
        rel = max(
            float(np.max(np.abs(np.ravel(figures[key]) / np.ravel(reference[key]) - 1.0)))
            for key in STATISTICS
        )
        rows.append(
            {
                "parameters": n,
                "implementation": name,
                **parts[name],
                "total s": seconds,
                "speed-up": arviz_seconds / seconds,
                "max rel diff": rel,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parameters", type=int, nargs="+", default=[10, 100, 2000])
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="diagnostics", help="results file name")
    parser.add_argument("--note", default=None, help="a sentence shown with the results")
    args = parser.parse_args()

    rows = []
    for n in args.parameters:
        rows += measure(n, args.chains, args.draws, args.repeats, args.seed)
    print(markdown_table(rows, COLUMNS))
    settings = {
        "parameters": args.parameters,
        "chains": args.chains,
        "draws": args.draws,
        "repeats": args.repeats,
        "seed": args.seed,
        "draws_model": "AR(1), autocorrelation 0.5",
    }
    path = write_json(args.name, rows, settings, {"note": args.note} if args.note else None)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()

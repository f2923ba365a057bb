"""Helpers shared by the benchmark scripts: problems, hand-written PyMC models, timing, tables."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

#: The repository these scripts belong to: its graphfit is the one measured, before any
#: installed copy (a script's own folder, not the working directory, starts ``sys.path``).
REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

import graphfit as gf  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def simulate_population(n: int, size: int = 100, seed: int = 0):
    """N datasets of one Gaussian: shared centre 50, per-dataset normalization and sigma."""
    rng = np.random.default_rng(seed)
    normalizations = rng.uniform(20.0, 30.0, n)
    sigmas = rng.uniform(6.0, 14.0, n)
    datasets = [
        gf.ex.simulate_gaussian_dataset(50.0, a, s, size=size, seed=seed * 100_000 + k)
        for k, (a, s) in enumerate(zip(normalizations, sigmas, strict=True))
    ]
    return datasets, {"centre": 50.0, "normalization": normalizations, "sigma": sigmas}


def graph_population(datasets, vectorize: bool = True) -> gf.FactorGraphModel:
    """graphfit spec of the population problem (cookbook 'variable model' at scale)."""
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(0.0, 100.0)
    factors = []
    for data, noise in datasets:
        own = model.copy()
        own.normalization = gf.LogUniformPrior(1e-2, 1e2)
        own.sigma = gf.GaussianPrior(10.0, 5.0, lower_limit=0.0)
        factors.append(gf.AnalysisFactor(own, gf.ex.Analysis(data, noise)))
    return gf.FactorGraphModel(*factors, vectorize=vectorize)


def handwritten_population(datasets):
    """What a PyMC expert writes by hand for the same problem: one vectorised node."""
    import pymc as pm

    data = np.stack([d for d, _ in datasets])
    noise = np.stack([s for _, s in datasets])
    n, size = data.shape
    x = np.arange(size, dtype=float)
    with pm.Model(coords={"dataset": [f"d{k}" for k in range(n)], "x": x}) as model:
        centre = pm.Uniform("centre", 0.0, 100.0)
        log_norm = pm.Uniform("log_normalization", np.log(1e-2), np.log(1e2), dims="dataset")
        normalization = pm.Deterministic("normalization", pm.math.exp(log_norm), dims="dataset")
        sigma = pm.TruncatedNormal("sigma", mu=10.0, sigma=5.0, lower=0.0, dims="dataset")
        profile = (normalization[:, None] / (sigma[:, None] * np.sqrt(2 * np.pi))) * pm.math.exp(
            -0.5 * ((x[None, :] - centre) / sigma[:, None]) ** 2
        )
        pm.Normal("obs", mu=profile, sigma=noise, observed=data, dims=("dataset", "x"))
    return model


def sample_handwritten(
    model, *, sampler: str, draws: int, tune: int, chains: int, seed: int, log_likelihood=True
):
    """Sample a hand-written model; returns (idata, compile seconds, sampling seconds).

    With ``log_likelihood`` the pointwise log-likelihood is stored too, since graphfit's results
    always hold it (it is what a PyMC user who wants LOO writes); its cost counts as compile.
    """
    import pymc as pm

    if sampler == "nutpie":
        import nutpie

        t0 = time.perf_counter()
        compiled = nutpie.compile_pymc_model(model)
        t1 = time.perf_counter()
        idata = nutpie.sample(
            compiled, draws=draws, tune=tune, chains=chains, cores=2, seed=seed, progress_bar=False
        )
        t2 = time.perf_counter()
        if log_likelihood:
            pm.compute_log_likelihood(idata, model=model, progressbar=False)
        return idata, (t1 - t0) + (time.perf_counter() - t2), t2 - t1
    t0 = time.perf_counter()
    idata = pm.sample(
        draws=draws,
        tune=tune,
        chains=chains,
        cores=2,
        random_seed=seed,
        progressbar=False,
        nuts_sampler=sampler,
        model=model,
        compute_convergence_checks=False,
        idata_kwargs={"log_likelihood": log_likelihood},
    )
    total = time.perf_counter() - t0
    sampling = float(idata.posterior.attrs.get("sampling_time", total))
    return idata, total - sampling, sampling


def convergence(idata, var_names) -> tuple[float, float]:
    """(min bulk ESS, max R-hat) over ``var_names``, unrounded (az.summary rounds R-hat to two
    decimals, which would report 1.014 as 1.01)."""
    from graphfit.results.diagnostics import diagnostics_table

    table = diagnostics_table(idata.posterior, list(var_names))
    return float(table["ess_bulk"].min()), float(table["r_hat"].max())


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = function()
    return out, time.perf_counter() - t0


def markdown_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.0f}"
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_json(
    name: str,
    rows: list[dict[str, Any]],
    settings: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``results/<name>.json``: the rows, the settings, and when, where and how they were
    made (``date``, ``machine``, ``command``), which the documentation's benchmarks page shows."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "settings": settings,
        "machine": {
            "python": platform.python_version(),
            # the stack the rows ran on (PyMC 5 / ArviZ 0.x or PyMC 6 / ArviZ 1)
            "pymc": version("pymc"),
            "arviz": version("arviz"),
            "processor": platform.machine(),
            "cores": os.cpu_count(),
        },
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]]),
        "rows": rows,
        **(extra or {}),
    }
    path.write_text(json.dumps(payload, indent=2, default=float))
    return path

"""Cookbook "Interpolation": fit datasets one by one, then interpolate over time.

Three datasets of a 1D Gaussian (normalization 50, sigma 20) were taken at time 0, 1 and 2; the
Gaussian's centre moves from 40 to 50 to 60.  Each dataset is fitted on its own with
``gf.fit_each`` (one compile for all three, since they share a structure), then:

* ``gf.LinearInterpolator`` gives the model instance at time 1.5 from the three best-fit
  instances (each carries its ``time``);
* ``gf.interpolate`` interpolates every posterior draw, so the centre at time 1.5 comes with a
  95% credible interval;
* the joint alternative fits all three datasets at once with the relation
  ``centre = m * time + c`` (two shared parameters instead of three centres), which uses the
  assumption that the centre moves linearly in time, and predicts the centre at any time.

Run from the repository root::

    python examples/interpolation.py

The figure is written to ``examples/output/interpolation.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import arviz as az
import numpy as np

import graphfit as gf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _plotting import OUTPUT

TIMES = [0.0, 1.0, 2.0]
CENTRES = [40.0, 50.0, 60.0]
QUERY = 1.5


def gaussian_model() -> gf.Model:
    gaussian = gf.Model(gf.ex.Gaussian)
    gaussian.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    gaussian.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e3)
    gaussian.sigma = gf.UniformPrior(lower_limit=0.0, upper_limit=50.0)
    return gaussian


def analyses() -> list[gf.ex.Analysis]:
    return [
        gf.ex.Analysis(
            *gf.ex.simulate_gaussian_dataset(centre=centre, normalization=50.0, sigma=20.0, seed=k)
        )
        for k, centre in enumerate(CENTRES)
    ]


def fit_one_by_one(search: gf.Search) -> gf.IndependentResultList:
    """Each dataset on its own; its model carries its time as a fixed value."""
    factors = [
        gf.AnalysisFactor(gf.Collection(gaussian=gaussian_model(), time=t), a, name=f"time_{t:g}")
        for t, a in zip(TIMES, analyses(), strict=True)
    ]
    return gf.fit_each(factors, search, progressbar=False)


def fit_jointly(search: gf.Search) -> gf.ResultList:
    """All datasets at once, the centre following ``m * time + c``."""
    m = gf.UniformPrior(lower_limit=-50.0, upper_limit=50.0, name="centre_m")
    c = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0, name="centre_c")
    factors = []
    for t, analysis in zip(TIMES, analyses(), strict=True):
        model = gf.Collection(gaussian=gaussian_model())
        model.gaussian.centre = m * t + c
        factors.append(gf.AnalysisFactor(model, analysis, name=f"time_{t:g}"))
    graph = gf.FactorGraphModel(*factors)
    return search.fit(model=graph.global_prior_model, analysis=graph)


def main(random_seed: int = 1) -> dict[str, float]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    search = gf.NUTS(draws=1000, tune=1000, chains=2, random_seed=random_seed, progressbar=False)

    # 1. one by one, then interpolate instances and posteriors
    fits = fit_one_by_one(search)
    print(fits, "compiles:", fits.compile_count)
    instances = [r.max_log_likelihood_instance for r in fits]
    interpolator = gf.LinearInterpolator(instances)
    instance = interpolator[interpolator.time == QUERY]
    print(f"LinearInterpolator at time {QUERY}: {instance.gaussian}")

    grid = np.linspace(0.0, 2.0, 41)
    idata = gf.interpolate(fits, covariate="time", at=grid, var_names=["gaussian.centre"])
    centre = idata.posterior["gaussian.centre"]
    low, high = az.hdi(centre.sel(covariate=QUERY), hdi_prob=0.95)[centre.name].values
    print(
        f"one by one: centre at time {QUERY} = {float(centre.sel(covariate=QUERY).mean()):.3f}, "
        f"95% interval [{low:.3f}, {high:.3f}] (width {high - low:.3f})"
    )

    # 2. the joint alternative
    joint = fit_jointly(search)
    posterior = joint.idata.posterior
    joint_centre = posterior["centre_m"] * QUERY + posterior["centre_c"]
    jlow, jhigh = az.hdi(joint_centre.rename("centre"), hdi_prob=0.95)["centre"].values
    print(
        f"joint relation: centre at time {QUERY} = {float(joint_centre.mean()):.3f}, "
        f"95% interval [{jlow:.3f}, {jhigh:.3f}] (width {jhigh - jlow:.3f})"
    )
    print(joint.summary(var_names=["centre_m", "centre_c"], kind="stats"))

    # 3. figure: both estimates against time
    band = az.hdi(centre, hdi_prob=0.95)[centre.name].values
    figure, ax = plt.subplots(figsize=(6, 3.5))
    ax.fill_between(grid, band[:, 0], band[:, 1], alpha=0.3, label="interpolated, 95%")
    ax.plot(grid, centre.mean(("chain", "draw")), label="interpolated, mean")
    line = (
        posterior["centre_m"].values.ravel()[:, None] * grid
        + posterior["centre_c"].values.ravel()[:, None]
    )
    ax.plot(grid, line.mean(0), "--", label="joint m * time + c")
    fitted = [r.idata.posterior["gaussian.centre"] for r in fits]
    ax.errorbar(
        TIMES,
        [float(f.mean()) for f in fitted],
        yerr=[2 * float(f.std()) for f in fitted],
        fmt="o",
        label="fitted one by one",
    )
    ax.axvline(QUERY, color="grey", lw=0.5)
    ax.set_xlabel("time")
    ax.set_ylabel("Gaussian centre")
    ax.legend()
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / "interpolation.png"
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    print(f"wrote {path}")
    return {"low": float(low), "high": float(high), "joint_low": jlow, "joint_high": jhigh}


if __name__ == "__main__":
    main()

"""Cookbook "Individual Sequential Searches": many datasets, each fitted on its own.

Eight datasets of a 1D Gaussian with centres spread between 30 and 70 are fitted one at a time
with ``gf.fit_each``: the model is compiled once and only the data are swapped between fits.
One dataset is broken on purpose (its analysis raises); its entry records the error and the
others are kept.  The same fits then run on a local pool of 2 processes and on a Dask
``LocalCluster`` of 2 worker processes (``pip install 'graphfit[dask]'``).

Run from the repository root::

    python examples/independent_fits.py

The figure is written to ``examples/output/independent_fits.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import graphfit as gf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _plotting import OUTPUT

CENTRES = [30.0, 36.0, 42.0, 48.0, 54.0, 60.0, 66.0, 70.0]


class CheckedAnalysis(gf.ex.Analysis):
    """The example analysis, refusing datasets flagged as saturated."""

    def __init__(self, data, noise_map, saturated: bool = False):
        super().__init__(data, noise_map)
        self.saturated = saturated

    def observation(self, instance, xp=np):
        if self.saturated:
            raise ValueError("the detector saturated during this exposure")
        return super().observation(instance, xp)


def model() -> gf.Model:
    gaussian = gf.Model(gf.ex.Gaussian)
    gaussian.centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0)
    gaussian.normalization = gf.LogUniformPrior(lower_limit=1e-2, upper_limit=1e2)
    gaussian.sigma = gf.GaussianPrior(mean=10.0, sigma=5.0, lower_limit=0.0)
    return gaussian


def factors(broken: int | None = None) -> list[gf.AnalysisFactor]:
    shared = model()
    return [
        gf.AnalysisFactor(
            shared,
            CheckedAnalysis(
                *gf.ex.simulate_gaussian_dataset(centre=c, seed=k), saturated=(k == broken)
            ),
            name=f"exposure_{k}",
        )
        for k, c in enumerate(CENTRES)
    ]


def main(random_seed: int = 1, distributed: bool = True) -> gf.IndependentResultList:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    search = gf.NUTS(
        draws=1000, tune=500, chains=2, cores=1, random_seed=random_seed, progressbar=False
    )
    result_list = gf.fit_each(factors(broken=5), search)
    print(result_list)
    print("compiles:", result_list.compile_count, "stats:", result_list.stats)
    for failed in result_list.failed:
        print(f"{failed.name} failed: {failed.message}")
    for result in result_list.succeeded:
        centre = result.idata.posterior["centre"]
        print(f"{result.name}: centre = {float(centre.mean()):.3f} +- {float(centre.std()):.3f}")

    if distributed:
        pool = gf.fit_each(factors(), search, executor=2, progressbar=False)
        print("process pool:", pool, "compiles:", pool.compile_count)
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            print("Dask is not installed: pip install 'graphfit[dask]'")
        else:
            with (
                LocalCluster(
                    n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
                ) as cluster,
                Client(cluster) as client,
            ):
                on_dask = gf.fit_each(
                    factors(), search, executor=client.get_executor(), progressbar=False
                )
            print("Dask:", on_dask, "compiles:", on_dask.compile_count)

    figure, ax = plt.subplots(figsize=(6, 3.5))
    for result in result_list.succeeded:
        centre = result.idata.posterior["centre"]
        truth = CENTRES[result_list.names.index(result.name)]
        ax.errorbar(truth, float(centre.mean()) - truth, yerr=2 * float(centre.std()), fmt="o")
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.set_xlabel("true centre")
    ax.set_ylabel("fitted - true centre (2 sd bars)")
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / "independent_fits.png"
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    print(f"wrote {path}")
    return result_list


if __name__ == "__main__":
    main()

"""A different analysis per dataset: a 1D profile, a histogram of counts and a 2D image.

Three datasets of different kinds constrain one shared parameter, the ``centre`` of a source:

* a 1D profile with Gaussian noise on an irregular x grid (``gf.ex.Analysis``),
* a histogram of event counts with a Poisson likelihood (``gf.ex.HistogramAnalysis``),
* a 2D image with Gaussian noise (``gf.ex.ImagingAnalysis``), whose ``centre_x`` is the centre.

Each analysis class declares its own observed node (``gf.GaussianObservation`` or
``gf.PoissonObservation``) with its own dims; the joint fit shares the centre, and each dataset's
result holds only its own data and pointwise log-likelihood.  A constraint between datasets is
added with ``add_assertion``.

Run from the repository root::

    python examples/different_analysis_classes.py

The fit plot is written to ``examples/output/different_analysis_classes.png``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

import graphfit as gf

OUTPUT = Path(__file__).resolve().parent / "output"
CENTRE = 48.0


def simulate() -> tuple[gf.ex.Analysis, gf.ex.HistogramAnalysis, gf.ex.ImagingAnalysis]:
    """The three datasets, each with its own analysis class."""
    xvalues = np.sort(np.random.default_rng(0).uniform(0.0, 100.0, 60))
    data, noise_map = gf.ex.simulate_dataset(
        gf.ex.Gaussian(CENTRE, 25.0, 10.0), noise=0.1, xvalues=xvalues, seed=1
    )
    profile = gf.ex.Analysis(data, noise_map, xvalues=xvalues)
    counts, bin_edges = gf.ex.simulate_histogram(gf.ex.Gaussian(CENTRE, 300.0, 8.0), seed=2)
    histogram = gf.ex.HistogramAnalysis(counts, bin_edges)
    image, image_noise = gf.ex.simulate_image(
        gf.ex.Gaussian2D(CENTRE, 40.0, 500.0, 6.0),
        shape=(30, 40),
        pixel_scale=2.5,
        noise=0.5,
        seed=3,
    )
    imaging = gf.ex.ImagingAnalysis(image, image_noise, pixel_scale=2.5)
    return profile, histogram, imaging


def factor_graph(analyses: tuple) -> gf.FactorGraphModel:
    """One shared centre; every other parameter belongs to one dataset."""
    profile, histogram, imaging = analyses
    centre = gf.UniformPrior(lower_limit=0.0, upper_limit=100.0, name="centre")
    profile_model = gf.Model(gf.ex.Gaussian, centre=centre)
    profile_model.normalization = gf.LogUniformPrior(lower_limit=1.0, upper_limit=100.0)
    histogram_model = gf.Model(gf.ex.Gaussian, centre=centre)
    histogram_model.normalization = gf.LogUniformPrior(lower_limit=10.0, upper_limit=1e4)
    # named, so that it is a scalar variable of its own (see the assertion below)
    histogram_model.sigma = gf.UniformPrior(lower_limit=0.0, upper_limit=25.0, name="hist_sigma")
    image_model = gf.Model(gf.ex.Gaussian2D, centre_x=centre)
    image_model.centre_y = gf.UniformPrior(lower_limit=0.0, upper_limit=75.0)
    graph = gf.FactorGraphModel(
        gf.AnalysisFactor(profile_model, profile, name="profile"),
        gf.AnalysisFactor(histogram_model, histogram, name="histogram"),
        gf.AnalysisFactor(image_model, imaging, name="image"),
    )
    # the histogram's events come from a source no wider than the profile's
    graph.add_assertion(histogram_model.sigma < profile_model.sigma)
    return graph


def plot(result_list: gf.ResultList) -> plt.Figure:
    """Data and median model of each dataset, one panel per kind."""
    figure, axes = plt.subplots(1, 4, figsize=(15, 3.4))
    profile, histogram, image = result_list
    gf.ex.plot_profile_1d(
        profile.analysis.xvalues,
        profile.analysis.data,
        noise_map=profile.analysis.noise_map,
        model_data=profile.analysis.model_data_from(profile.median_pdf_instance),
        title="profile (Gaussian noise)",
        ax=axes[0],
    )
    analysis = histogram.analysis
    axes[1].stairs(analysis.counts, analysis.bin_edges, color="k", label="counts")
    axes[1].plot(
        analysis.bin_centres,
        analysis.model_data_from(histogram.median_pdf_instance),
        "r.-",
        label="expected",
    )
    axes[1].set_title("histogram (Poisson)")
    axes[1].set_xlabel("x")
    axes[1].legend()
    extent = (0, 100, 75, 0)
    axes[2].imshow(image.analysis.data, extent=extent)
    axes[2].set_title("image (Gaussian noise)")
    residual = image.analysis.data - image.analysis.model_data_from(image.median_pdf_instance)
    axes[3].imshow(residual / image.analysis.noise_map, extent=extent, cmap="RdBu", vmin=-3, vmax=3)
    axes[3].set_title("image residual / noise")
    for ax in axes[2:]:
        ax.axvline(CENTRE, color="w", lw=0.8, ls="--")
    figure.tight_layout()
    return figure


def main(random_seed: int = 1) -> gf.ResultList:
    """Simulate the datasets, fit them jointly with NUTS, print and plot the results."""
    graph = factor_graph(simulate())
    print(graph.global_prior_model.info)
    search = gf.NUTS(draws=500, tune=500, chains=2, random_seed=random_seed, progressbar=False)
    result_list = search.fit(model=graph.global_prior_model, analysis=graph)
    centre = result_list.idata.posterior["centre"]
    print(f"centre {float(centre.mean()):.2f} +- {float(centre.std()):.2f} (truth {CENTRE})")
    for result in result_list:
        print(result.name, dict(result.idata.log_likelihood["obs"].sizes))
    print(result_list.diagnostics.table)
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / "different_analysis_classes.png"
    plot(result_list).savefig(path, dpi=100, bbox_inches="tight")
    print(f"wrote {path}")
    return result_list


if __name__ == "__main__":
    main()

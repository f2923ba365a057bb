"""Fits saved by each PyMC/ArviZ stack, loaded by the other in ``tests/test_stack.py``.

Each subfolder was written by ``python -m tests.saved_fits`` (run from the repository root) on
one stack: ``pymc5_arviz0`` on Python 3.11, ``pymc6_arviz1`` on Python 3.12.  Run it again on a
stack after a change to the output format, and commit the folder it writes.  They were written
before graphfit saved file hashes in ``graphfit.json``, so they also check that such folders
still load and resume with the hash checks skipped (as ``tests/test_folder_hardening.py`` does).
"""

import pathlib

import numpy as np

import graphfit as gf
from graphfit.backend import stack

#: The subfolder of the installed stack.
STACK_FOLDER = "pymc6_arviz1" if stack.ARVIZ_1 else "pymc5_arviz0"
#: The folder of the saved fits.
PATH = pathlib.Path(__file__).parent
#: Both subfolders.
STACK_FOLDERS = ("pymc5_arviz0", "pymc6_arviz1")


def graph() -> gf.FactorGraphModel:
    """The saved fits' graph: three simulated Gaussians sharing their centre (20)."""
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(0.0, 100.0)
    model.normalization = gf.LogUniformPrior(1e-2, 1e2)
    model.sigma = gf.UniformPrior(0.0, 30.0)
    factors = []
    for k, sigma in enumerate([5.0, 10.0, 15.0]):
        data, noise = gf.ex.simulate_gaussian_dataset(20.0, 25.0, sigma, seed=40 + k, size=40)
        factors.append(gf.AnalysisFactor(model.copy(), gf.ex.Analysis(data, noise)))
    graph = gf.FactorGraphModel(*factors)
    for factor in graph.factors[1:]:
        factor.prior_model.centre = graph.factors[0].prior_model.centre
    return graph


def search(output_path) -> gf.NUTS:
    """The saved fits' search: a short NUTS run with PyMC's sampler, saved under
    ``output_path``."""
    return gf.NUTS(
        draws=30,
        tune=100,
        chains=2,
        sampler="pymc",
        target_accept=0.8,  # the default when these folders were written (now "auto")
        random_seed=7,
        progressbar=False,
        name="cross_stack",
        output_path=output_path,
    )


def fit(output_path) -> gf.ResultList:
    """Fit :func:`graph` with :func:`search` (or load the fit saved under ``output_path``)."""
    factor_graph = graph()
    return search(output_path).fit(model=factor_graph.global_prior_model, analysis=factor_graph)


def shared_centre(result_list: gf.ResultList) -> np.ndarray:
    """The draws of the shared centre."""
    return stack.group(result_list.idata, "posterior")["centre"].values

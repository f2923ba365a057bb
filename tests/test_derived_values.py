"""Derived parameters (relations) in the gradient-free searches' posteriors.

``gf.DynestyStatic`` and ``gf.Emcee`` compute each draw's derived values after sampling (not
with a compiled C function: see ``graphfit/search/dynesty.py``); the relational model's
per-dataset ``sigma = sigma_m * x + sigma_c`` must equal the relation applied to the same draw.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import graphfit as gf
from tests.conftest import X_RELATIONAL, relational_graph


@pytest.mark.parametrize(
    "search",
    [
        # short runs: the relation is checked draw by draw, whatever the draws' accuracy
        gf.DynestyStatic(dlogz=5.0, maxcall=300, random_seed=1),
        gf.Emcee(nwalkers=16, nsteps=60, random_seed=1, progressbar=False),
    ],
    ids=["dynesty", "emcee"],
)
def test_relation_is_applied_to_every_draw(search):
    graph = relational_graph()
    with warnings.catch_warnings():  # a short run's convergence notes: not what is tested here
        warnings.simplefilter("ignore")
        result_list = search.fit(model=graph.global_prior_model, analysis=graph)
    posterior = result_list.idata.posterior
    assert posterior["gaussian.sigma"].dims == ("chain", "draw", "dataset")
    m, c = posterior["sigma_m"].values, posterior["sigma_c"].values
    expected = m[..., None] * np.asarray(X_RELATIONAL, dtype=float) + c[..., None]
    np.testing.assert_allclose(posterior["gaussian.sigma"].values, expected, rtol=1e-12)
    for k, result in enumerate(result_list):
        own = result.idata.posterior["gaussian.sigma"].values
        np.testing.assert_allclose(own, expected[..., k], rtol=1e-12)

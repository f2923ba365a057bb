import arviz as az
import numpy as np
import pytest

import graphfit as gf
from graphfit.diagnostics import check_convergence


def test_good_chains_pass():
    rng = np.random.default_rng(0)
    idata = az.from_dict(
        posterior={"a": rng.normal(size=(4, 1000))},
        sample_stats={"diverging": np.zeros((4, 1000), bool)},
    )
    diagnostics = check_convergence(idata, ["a"])
    assert diagnostics.ok and diagnostics.divergences == 0
    assert list(diagnostics.table.columns) == ["r_hat", "ess_bulk", "ess_tail"]


def test_stuck_chains_warn_naming_the_parameter_and_dataset():
    rng = np.random.default_rng(0)
    stuck = rng.normal(size=(4, 500, 2))
    stuck[0, :, 1] += 5.0  # one chain of dataset_b elsewhere
    idata = az.from_dict(
        posterior={"sigma": stuck},
        dims={"sigma": ["dataset"]},
        coords={"dataset": ["dataset_a", "dataset_b"]},
    )
    with pytest.warns(gf.ConvergenceWarning) as record:
        diagnostics = check_convergence(idata, ["sigma"])
    messages = [str(w.message) for w in record]
    assert any(
        m.startswith("graphfit convergence check: R-hat above 1.01 for: sigma[dataset_b] (")
        for m in messages
    )
    assert not any("sigma[dataset_a]" in m for m in messages)
    assert not diagnostics.ok
    assert diagnostics.max_rhat > 1.01


def test_low_ess_and_divergences_warn():
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.normal(size=(4, 300)), axis=1)  # strongly autocorrelated
    diverging = np.zeros((4, 300), bool)
    diverging[0, :3] = True
    idata = az.from_dict(posterior={"a": walk}, sample_stats={"diverging": diverging})
    with pytest.warns(gf.ConvergenceWarning) as record:
        diagnostics = check_convergence(idata, ["a"])
    messages = [str(w.message) for w in record]
    assert any("bulk ESS below 400 for: a" in m for m in messages)
    assert any("3 divergent transition(s) in 1200 draws" in m for m in messages)
    assert diagnostics.divergences == 3

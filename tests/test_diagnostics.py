import warnings

import arviz as az
import numpy as np
import pytest

import graphfit as gf
from graphfit.backend import stack
from graphfit.results.diagnostics import check_convergence


def test_good_chains_pass():
    rng = np.random.default_rng(0)
    idata = stack.from_arrays(
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
    idata = stack.from_arrays(
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
    idata = stack.from_arrays(posterior={"a": walk}, sample_stats={"diverging": diverging})
    with pytest.warns(gf.ConvergenceWarning) as record:
        diagnostics = check_convergence(idata, ["a"])
    messages = [str(w.message) for w in record]
    assert any("bulk ESS below 400 for: a" in m for m in messages)
    assert (
        "graphfit convergence check: 3 divergent transition(s) in 1200 draws; the posterior "
        "geometry is hard for NUTS (try target_accept=0.95 or reparametrise)"
    ) in messages
    assert diagnostics.divergences == 3


@pytest.mark.parametrize(("used", "advice"), [(0.8, 0.95), (0.95, 0.99)])
def test_divergence_warning_names_the_target_accept_used(used, advice):
    """The fit's ``target_accept`` (``sample_stats.attrs``) is named, and the advice is a
    higher one than it."""
    diverging = np.zeros((2, 100), bool)
    diverging[1, 5] = True
    rng = np.random.default_rng(2)
    idata = stack.from_arrays(
        posterior={"a": rng.normal(size=(2, 100))}, sample_stats={"diverging": diverging}
    )
    idata.sample_stats.attrs["target_accept"] = used  # as gf.NUTS records it
    with pytest.warns(gf.ConvergenceWarning) as record:
        check_convergence(idata, ["a"])
    assert [str(w.message) for w in record if "divergent" in str(w.message)] == [
        f"graphfit convergence check: 1 divergent transition(s) in 200 draws at "
        f"target_accept={used:g}; the posterior geometry is hard for NUTS (try "
        f"target_accept={advice:g} or reparametrise)"
    ]


def _arviz_table(idata):
    """ArviZ's R-hat and bulk/tail ESS of every variable, one row per element as in
    ``az.summary``: its own functions, the tail ESS at the 5%/95% quantiles on both stacks
    (see :func:`graphfit.backend.stack.ess`)."""
    posterior = stack.group(idata, "posterior")
    columns = {
        "r_hat": stack.rhat(posterior),
        "ess_bulk": stack.ess(posterior, "bulk"),
        "ess_tail": stack.ess(posterior, "tail"),
    }
    summary = az.summary(idata, kind="diagnostics", round_to="none")
    for column, values in columns.items():
        flat = [np.ravel(values[name].values) for name in posterior.data_vars]
        summary[column] = np.concatenate(flat)
    return summary


def _ar1(rng, shape, phi):
    """Autocorrelated chains: x_t = phi x_{t-1} + noise, along axis 1."""
    noise = rng.normal(size=shape)
    x = np.zeros(shape)
    for t in range(1, shape[1]):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning:arviz")
def test_table_equals_arviz_summary():
    """R-hat, bulk and tail ESS are ArviZ's own (unrounded), in ``az.summary``'s rows, on
    awkward chains."""
    from graphfit.results.diagnostics import diagnostics_table

    rng = np.random.default_rng(1)
    posterior = {
        "slow": _ar1(rng, (4, 1000), 0.95),
        "shifted": _ar1(rng, (4, 1000, 6), 0.5) + np.linspace(0.0, 0.4, 4)[:, None, None],
        "skewed": rng.exponential(size=(4, 1000, 2, 3)),
        "missing": np.where(rng.uniform(size=(4, 1000)) < 0.01, np.nan, 0.0),
        "constant": np.ones((4, 1000)),
    }
    posterior["shifted"][..., 0] = np.round(posterior["shifted"][..., 0], 1)  # many ties
    idata = stack.from_arrays(posterior=posterior, dims={"shifted": ["dataset"]})
    table = diagnostics_table(stack.group(idata, "posterior"), list(posterior))
    reference = _arviz_table(idata).loc[table.index]
    assert list(table.index[:3]) == ["slow", "shifted[0]", "shifted[1]"]
    assert len(table) == 1 + 6 + 6 + 1 + 1
    for column in ("r_hat", "ess_bulk", "ess_tail"):
        np.testing.assert_allclose(
            table[column].to_numpy(), reference[column].to_numpy(), rtol=1e-12, equal_nan=True
        )
    assert table.loc["slow", "ess_bulk"] < 300  # the autocorrelation is really measured


def test_table_with_an_odd_number_of_draws():
    from graphfit.results.diagnostics import diagnostics_table

    rng = np.random.default_rng(2)
    idata = stack.from_arrays(posterior={"a": _ar1(rng, (2, 999, 3), 0.7)})
    table = diagnostics_table(stack.group(idata, "posterior"), ["a"])
    reference = _arviz_table(idata).loc[table.index]
    for column in ("r_hat", "ess_bulk", "ess_tail"):
        np.testing.assert_allclose(table[column], reference[column], rtol=1e-12)


def test_non_finite_draws_fail_the_check_naming_the_parameters():
    """A sampler stopped early pads with NaN; NaN > 1.01 is false, so this must be explicit."""
    rng = np.random.default_rng(3)
    sigma = rng.normal(size=(4, 1000, 2))
    sigma[2, 600:, 1] = np.nan  # padding of an interrupted chain
    centre = rng.normal(size=(4, 1000))
    centre[0, 5] = np.inf
    idata = stack.from_arrays(
        posterior={"centre": centre, "sigma": sigma, "fine": rng.normal(size=(4, 1000))},
        dims={"sigma": ["dataset"]},
        coords={"dataset": ["dataset_a", "dataset_b"]},
    )
    with pytest.warns(
        gf.ConvergenceWarning,
        match=r"^graphfit convergence check: non-finite draws \(NaN or inf\) for: centre "
        r"\(1 of 4000 draws\), sigma\[dataset_b\] \(400 of 4000 draws\); a sampler stopped early "
        r"\(e\.g\. interrupted\) pads the draws it did not make with NaN, so this is not a "
        r"finished fit: fit again$",
    ):
        diagnostics = check_convergence(idata, ["centre", "sigma", "fine"])
    assert not diagnostics.ok
    assert diagnostics.problems[0].startswith("non-finite draws (NaN or inf) for: centre")
    table = diagnostics.table
    assert table.loc[["centre", "sigma[dataset_b]"]].isna().all().all()  # undefined
    assert table.loc[["sigma[dataset_a]", "fine"], "r_hat"].lt(1.01).all()  # still computed


def test_a_single_chain_says_that_r_hat_was_not_computed():
    idata = stack.from_arrays(posterior={"a": np.random.default_rng(0).normal(size=(1, 2000))})
    with pytest.warns(
        gf.ConvergenceWarning,
        match=r"^graphfit convergence note: R-hat was not computed: the posterior has 1 chain and "
        r"R-hat compares chains; sample chains >= 2 \(e\.g\. gf\.NUTS\(chains=4\)\) to check "
        r"that they agree$",
    ) as record:
        diagnostics = check_convergence(idata, ["a"])
    assert len(record) == 1  # the ESS of 2000 independent draws passes
    assert diagnostics.ok  # a note is not a failed check ...
    assert diagnostics.notes == [str(record[0].message).removeprefix("graphfit convergence note: ")]
    assert np.isnan(diagnostics.max_rhat)  # ... and nothing pretends R-hat was fine
    # a posterior that is one chain by construction (nested sampling) gets no note
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_convergence(idata, ["a"], note_single_chain=False).notes == []


def test_too_few_draws_say_that_r_hat_and_ess_were_not_computed():
    idata = stack.from_arrays(posterior={"a": np.random.default_rng(0).normal(size=(2, 3))})
    with pytest.warns(
        gf.ConvergenceWarning,
        match=r"^graphfit convergence note: R-hat and ESS were not computed: 3 draw\(s\) per "
        r"chain, and they need at least 4; sample more draws \(e\.g\. gf\.NUTS\(draws=1000\)\) "
        r"to check convergence$",
    ):
        diagnostics = check_convergence(idata, ["a"])
    assert diagnostics.ok and len(diagnostics.notes) == 1

"""Separated modes: the start search finds them, warns, and starts chains in each."""

import warnings

import numpy as np
import pytest

import graphfit as gf


class Centre:
    """One parameter."""

    def __init__(self, centre=0.0):
        self.centre = centre


class TwoModes(gf.Analysis):
    """A likelihood in ``centre**2 - 400``: modes at -20 and +20 of equal height."""

    def log_likelihood_function(self, instance, xp=np):
        return -0.5 * ((instance.centre**2 - 400.0) / 20.0) ** 2


class Lopsided(gf.Analysis):
    """Modes at -20 and +20, the one at -20 exp(-8) times lower: not comparable."""

    def log_likelihood_function(self, instance, xp=np):
        return -0.5 * ((instance.centre**2 - 400.0) / 20.0) ** 2 - 8.0 * (instance.centre < 0)


class Pair:
    """Two parameters."""

    def __init__(self, a=0.0, b=0.0):
        self.a, self.b = a, b


class Ridge(gf.Analysis):
    """Only ``a + b`` is measured: a long ridge, one mode however far apart optima land."""

    def log_likelihood_function(self, instance, xp=np):
        return -0.5 * ((instance.a + instance.b - 1.0) / 0.1) ** 2


def centre_model():
    model = gf.Model(Centre)
    model.centre = gf.UniformPrior(-50.0, 50.0)
    return model


MODES = r"2 separated modes of comparable probability: mode 1 \(log density -?[\d.]+, about 50% of the mass by a Laplace estimate\): centre = -?20; mode 2 \(.*\): centre = -?20"


def test_map_warns_of_two_modes_and_returns_one():
    with pytest.warns(gf.MultimodalityWarning, match=r"graphfit MAP: the posterior has " + MODES):
        result = gf.MAP(random_seed=1).fit(centre_model(), TwoModes())
    assert abs(result.max_log_likelihood_instance.centre) == pytest.approx(20.0, abs=1e-3)


def test_a_ridge_and_a_minor_mode_are_not_warned_about():
    model = gf.Model(Pair)
    model.a = gf.UniformPrior(-10.0, 10.0)
    model.b = gf.UniformPrior(-10.0, 10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gf.MAP(random_seed=1).fit(model, Ridge())
        result = gf.MAP(random_seed=1).fit(centre_model(), Lopsided())
    assert result.max_log_likelihood_instance.centre == pytest.approx(20.0, abs=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["nutpie", "pymc"])
def test_nuts_starts_chains_in_both_modes_and_r_hat_sees_it(sampler):
    """With every chain in one mode all checks used to pass with half the mass missing; now
    the chains start in each mode in turn, and both the mode warning and R-hat say so."""
    search = gf.NUTS(draws=300, tune=300, random_seed=2, progressbar=False, sampler=sampler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = search.fit(centre_model(), TwoModes())
    kinds = {w.category for w in caught}
    assert gf.MultimodalityWarning in kinds
    (mode_warning,) = [w for w in caught if w.category is gf.MultimodalityWarning]
    assert "The 4 chains start in the modes in turn" in str(mode_warning.message)
    assert any("R-hat above 1.01 for: centre" in str(w.message) for w in caught)
    signs = np.sign(result.idata.posterior["centre"].mean("draw").values)
    assert sorted(signs) == [-1.0, -1.0, 1.0, 1.0]
    assert result.diagnostics.max_rhat > 1.5

"""Behaviour that type checking (mypy, run by .ci/run) found wrong, and that stays fixed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

import graphfit as gf


def test_a_loaded_fit_says_why_it_has_no_posterior_predictive(tmp_path):
    # the compiled model was None here, which gave an AttributeError on None
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    gf.MAP(random_seed=1, name="fit", output_path=tmp_path).fit(
        model=gf.Model(gf.ex.Gaussian), analysis=gf.ex.Analysis(data, noise_map)
    )
    loaded = gf.Aggregator(tmp_path).load(0)
    message = r"posterior predictive draws needs the fitted model, which a saved result"
    with pytest.raises(gf.ResultLoadError, match=message):
        loaded.posterior_predictive()
    with pytest.raises(gf.ResultLoadError, match=message):
        loaded[0].posterior_predictive()


def test_a_profile_drawn_in_a_subfigure_is_saved_with_its_figure(tmp_path):
    # a SubFigure has no savefig: the profile is saved with the Figure that holds it
    figure = plt.figure(figsize=(6, 3))
    left, _ = figure.subfigures(1, 2)
    ax = left.subplots()
    data, noise_map = gf.ex.simulate_gaussian_dataset(seed=0)
    path = tmp_path / "profile.png"
    returned = gf.ex.plot_profile_1d(
        range(len(data)), data, noise_map=noise_map, ax=ax, output_path=path
    )
    assert returned is ax
    assert path.stat().st_size > 0
    plt.close(figure)

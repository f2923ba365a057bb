import numpy as np
import pytest

import graphfit as gf


def test_gaussian_profile_area_is_normalization():
    profile = gf.ex.Gaussian(centre=50.0, normalization=25.0, sigma=5.0)
    x = np.linspace(0, 100, 100001)
    assert np.trapezoid(profile.model_data_from(x), x) == pytest.approx(25.0, rel=1e-6)
    peak = profile.model_data_from(np.array([50.0]))[0]
    assert peak == pytest.approx(25.0 / (5.0 * np.sqrt(2 * np.pi)))


def test_exponential_profile_area_is_normalization():
    profile = gf.ex.Exponential(centre=50.0, normalization=20.0, rate=0.5)
    x = np.linspace(0, 100, 200001)
    assert np.trapezoid(profile.model_data_from(x), x) == pytest.approx(20.0, rel=1e-4)


def test_components_build_pytensor_graphs_with_gradients():
    import pytensor
    import pytensor.tensor as pt

    from graphfit.backend.tensor_namespace import pytensor_namespace

    centre = pt.dscalar("centre")
    profile = gf.ex.Gaussian(centre=centre, normalization=25.0, sigma=10.0)
    out = profile.model_data_from(np.arange(100.0), xp=pytensor_namespace()).sum()
    grad = pytensor.grad(out, centre)
    value = pytensor.function([centre], [out, grad])(50.0)
    expected = gf.ex.Gaussian(50.0, 25.0, 10.0).model_data_from(np.arange(100.0)).sum()
    assert value[0] == pytest.approx(expected)
    assert np.isfinite(value[1])


def test_simulator_is_seeded():
    a, noise = gf.ex.simulate_gaussian_dataset(seed=7)
    b, _ = gf.ex.simulate_gaussian_dataset(seed=7)
    c, _ = gf.ex.simulate_gaussian_dataset(seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (100,) and np.all(noise == 0.04)
    truth = gf.ex.Gaussian(50.0, 25.0, 10.0).model_data_from(np.arange(100.0))
    assert np.std(a - truth) == pytest.approx(0.04, rel=0.2)


def test_simulate_sums_components():
    components = [gf.ex.Gaussian(30.0, 10.0, 5.0), gf.ex.Exponential(70.0, 5.0, 0.2)]
    data, _ = gf.ex.simulate_dataset(components, noise=1e-9, seed=0)
    x = np.arange(100.0)
    np.testing.assert_allclose(data, sum(c.model_data_from(x) for c in components), atol=1e-6)


def test_json_round_trip(tmp_path):
    path = tmp_path / "sub" / "data.json"
    gf.util.numpy_array_to_json(np.array([1.0, 2.5, -3.0]), path)
    np.testing.assert_array_equal(gf.util.numpy_array_from_json(path), [1.0, 2.5, -3.0])
    assert not list(path.parent.glob("*.tmp"))


def test_plot_profile_1d(tmp_path):
    data, noise = gf.ex.simulate_gaussian_dataset(seed=0)
    model_data = gf.ex.Gaussian(50.0, 25.0, 10.0).model_data_from(np.arange(100.0))
    output = tmp_path / "fit.png"
    figure = gf.ex.plot_profile_1d(
        range(100),
        data,
        noise_map=noise,
        model_data=model_data,
        title="fit",
        output_path=str(output),
    )
    ax = figure.axes[0]
    assert len(ax.containers) == 1  # one errorbar container
    red = [line for line in ax.get_lines() if line.get_color() == "r"]
    assert len(red) == 1  # the model curve
    np.testing.assert_allclose(red[0].get_ydata(), model_data)
    np.testing.assert_allclose(ax.containers[0].lines[0].get_ydata(), data)
    assert ax.get_title() == "fit"
    assert output.stat().st_size > 1000


def test_collection_analysis_sums_components():
    data, noise = gf.ex.simulate_dataset(
        [gf.ex.Gaussian(30.0, 10.0, 5.0), gf.ex.Exponential(70.0, 5.0, 0.2)], seed=1
    )
    analysis = gf.ex.Analysis(data, noise)
    collection = gf.Collection(
        gaussian=gf.Model(gf.ex.Gaussian), exponential=gf.Model(gf.ex.Exponential)
    )
    values = {}
    for prior, value in zip(collection.priors(), [30.0, 10.0, 5.0, 70.0, 5.0, 0.2], strict=True):
        values[prior] = value
    instance = collection.instance_from(values)
    model_data = analysis.model_data_from(instance)
    assert np.std(data - model_data) == pytest.approx(0.04, rel=0.25)


def test_shared_example_data_matches_profile_when_present():
    """Cross-check gf.ex.Gaussian against the PyAutoFit workspace data when it is present."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "example_1d"
    if not root.exists():
        pytest.skip("shared example datasets not present")
    for name in ("gaussian_x1", "gaussian_x1_identical_0", "gaussian_x1_identical_1"):
        folder = root / name
        data = gf.util.numpy_array_from_json(folder / "data.json")
        noise = gf.util.numpy_array_from_json(folder / "noise_map.json")
        truth = json.loads((folder / "model.json").read_text())["arguments"]
        residual = (data - gf.ex.Gaussian(**truth).model_data_from(np.arange(data.size))) / noise
        assert abs(residual.mean()) < 0.5 and residual.std() == pytest.approx(1.0, abs=0.25)

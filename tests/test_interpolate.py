"""Interpolation over a covariate: instances (linear, spline) and whole posteriors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import graphfit as gf
from graphfit.backend import stack

TIMES = [0.0, 1.0, 2.0]
CENTRES = [40.0, 50.0, 60.0]


def instance(centre: float, time: float, sigma: float = 20.0):
    gaussian = gf.Model(gf.ex.Gaussian, centre=centre, normalization=50.0, sigma=sigma)
    return gf.Collection(gaussian=gaussian, time=time).instance_from({})


def time_model(time: float) -> gf.Collection:
    gaussian = gf.Model(gf.ex.Gaussian)
    gaussian.centre = gf.UniformPrior(0.0, 100.0)
    gaussian.normalization = gf.LogUniformPrior(1e-2, 1e3)
    gaussian.sigma = gf.UniformPrior(0.0, 50.0)
    return gf.Collection(gaussian=gaussian, time=time)


def time_factors(seed: int = 0) -> list[gf.AnalysisFactor]:
    return [
        gf.AnalysisFactor(
            time_model(t),
            gf.ex.Analysis(
                *gf.ex.simulate_gaussian_dataset(
                    centre=c, normalization=50.0, sigma=20.0, seed=seed + k
                )
            ),
            name=f"time_{k}",
        )
        for k, (t, c) in enumerate(zip(TIMES, CENTRES, strict=True))
    ]


@pytest.mark.slow
def test_acceptance_centre_at_time_one_and_a_half():
    """Three datasets with centre 40, 50, 60 at time 0, 1, 2, fitted one by one: the centre
    interpolated to time 1.5 has 55 inside its 95% interval."""
    search = gf.NUTS(
        draws=1000, tune=500, chains=2, cores=1, sampler="nutpie", random_seed=1, progressbar=False
    )
    fits = gf.fit_each(time_factors(), search, progressbar=False)
    assert fits.failed == [] and fits.compile_count == 1  # the fixed time does not split them
    idata = gf.interpolate(fits, covariate="time", at=[0.5, 1.5])
    centre = idata.posterior["gaussian.centre"].sel(covariate=1.5)
    low, high = (float(b["gaussian.centre"]) for b in stack.hdi_bounds(centre.to_dataset(), 0.95))
    width = high - low
    print(f"centre at time 1.5: 95% interval [{low:.3f}, {high:.3f}], width {width:.3f}")
    assert low < 55.0 < high
    assert 0.02 < width < 1.0  # noise 0.04 per pixel pins each centre to ~0.1
    # the interpolated posterior is the average of the two neighbouring fits' draws
    expected = 0.5 * (
        fits[1].idata.posterior["gaussian.centre"] + fits[2].idata.posterior["gaussian.centre"]
    )
    np.testing.assert_allclose(centre.values, expected.values)
    assert idata.posterior["gaussian.sigma"].dims == ("chain", "draw", "covariate")
    # the spline through three points is the parabola through them
    spline = gf.interpolate(fits, covariate=TIMES, at=1.5, method="spline").posterior
    assert abs(float(spline["gaussian.centre"].mean()) - 55.0) < 0.3
    # the same with instances: the maximum-likelihood instances carry their time
    instances = [r.max_log_likelihood_instance for r in fits]
    assert [i.time for i in instances] == TIMES
    interpolator = gf.LinearInterpolator(instances)
    at = interpolator[interpolator.time == 1.5]
    assert at.time == 1.5 and abs(at.gaussian.centre - 55.0) < 0.3


def test_linear_interpolator_is_piecewise_between_neighbours():
    instances = [instance(c, t) for c, t in [(40.0, 0.0), (50.0, 1.0), (62.0, 2.0)]]
    interpolator = gf.LinearInterpolator(instances)
    result = interpolator[interpolator.time == 1.5]
    assert isinstance(result, gf.CollectionInstance)
    assert isinstance(result.gaussian, gf.ex.Gaussian)
    assert result.gaussian.centre == pytest.approx(56.0)
    assert result.gaussian.normalization == pytest.approx(50.0)
    assert result.time == 1.5
    assert interpolator[interpolator.time == 0.25].gaussian.centre == pytest.approx(42.5)
    assert interpolator[interpolator.time == 2.0].gaussian.centre == pytest.approx(62.0)
    line = gf.LinearInterpolator(instances, fit="line")
    # least squares through (0, 40), (1, 50), (2, 62): slope 11, intercept 39.667
    assert line[line.time == 1.5].gaussian.centre == pytest.approx(39.0 + 2 / 3 + 16.5)


def test_spline_interpolator_reproduces_a_cubic():
    times = [0.0, 1.0, 2.5, 3.0, 4.0]
    cubic = [1.0 + t - 0.5 * t**2 + 0.25 * t**3 for t in times]
    instances = [instance(c, t, sigma=5.0 + t) for c, t in zip(cubic, times, strict=True)]
    interpolator = gf.SplineInterpolator(instances)
    result = interpolator[interpolator.time == 1.7]
    assert result.gaussian.centre == pytest.approx(1.0 + 1.7 - 0.5 * 1.7**2 + 0.25 * 1.7**3)
    assert result.gaussian.sigma == pytest.approx(6.7)
    assert result.gaussian.centre == pytest.approx(float(CubicSpline(times, cubic)(1.7)))


def test_interpolate_posteriors_of_map_fits():
    fits = gf.fit_each(time_factors(), gf.MAP(random_seed=1), progressbar=False)
    posterior = gf.interpolate(fits, covariate=TIMES, at=[0.0, 0.5, 2.0]).posterior
    centre = posterior["gaussian.centre"].isel(chain=0, draw=0).values
    fitted = [float(r.idata.posterior["gaussian.centre"].values.ravel()[0]) for r in fits]
    np.testing.assert_allclose(centre, [fitted[0], 0.5 * (fitted[0] + fitted[1]), fitted[2]])
    assert list(posterior.covariate.values) == [0.0, 0.5, 2.0]
    assert posterior.attrs["interpolation"] == "linear"
    only = gf.interpolate(
        list(fits), covariate=TIMES, at=1.0, var_names=["gaussian.centre"], dim="time"
    )
    assert list(only.posterior.data_vars) == ["gaussian.centre"] and "time" in only.posterior.dims
    with pytest.warns(UserWarning, match=r"extrapolating to \[3\.0\] outside the fitted range"):
        extrapolated = gf.interpolate(fits, covariate=TIMES, at=3.0, extrapolate=True)
    expected = fitted[2] + (fitted[2] - fitted[1])
    assert float(extrapolated.posterior["gaussian.centre"].squeeze()) == pytest.approx(expected)


def test_bad_input_errors():
    instances = [instance(c, t) for c, t in zip(CENTRES, TIMES, strict=True)]
    with pytest.raises(gf.InterpolationError, match="needs at least 2 instances"):
        gf.LinearInterpolator(instances[:1])
    with pytest.raises(gf.InterpolationError, match="instances must be a list"):
        gf.SplineInterpolator(instances[0])
    with pytest.raises(gf.InterpolationError, match="fit must be 'piecewise' or 'line'"):
        gf.LinearInterpolator(instances, fit="cubic")
    swapped = gf.LinearInterpolator([instances[1], instances[0], instances[2]])
    with pytest.raises(
        gf.InterpolationError,
        match=r"'time' must be strictly increasing, but 0\.0 at position 1 follows 1\.0",
    ):
        swapped[swapped.time == 1.5]
    twice = gf.LinearInterpolator([instances[0], instances[1], instance(55.0, 1.0)])
    with pytest.raises(gf.InterpolationError, match=r"duplicate value 1\.0 at positions 1 and 2"):
        twice[twice.time == 0.5]
    interpolator = gf.LinearInterpolator(instances)
    with pytest.raises(
        gf.InterpolationError,
        match=r"at = \[2\.5\] outside the fitted range \[0, 2\]; pass extrapolate=True",
    ):
        interpolator[interpolator.time == 2.5]
    with pytest.raises(AttributeError, match="no top-level covariate 'epoch'"):
        interpolator.epoch
    with pytest.raises(gf.InterpolationError, match="index with a query"):
        interpolator[1.5]
    loose = gf.LinearInterpolator(instances, extrapolate=True)
    with pytest.warns(UserWarning, match="extrapolating"):
        assert loose[loose.time == -1.0].gaussian.centre == pytest.approx(30.0)
    other = gf.Collection(
        gaussian=gf.Model(gf.ex.Gaussian, centre=1.0, normalization=1.0, sigma=1.0)
    ).instance_from({})
    with pytest.raises(gf.InterpolationError, match="instance 1 has parameters"):
        gf.LinearInterpolator([instances[0], other])


def test_interpolate_bad_input_errors():
    fits = gf.fit_each(time_factors(), gf.MAP(random_seed=1), progressbar=False)
    with pytest.raises(gf.InterpolationError, match="got 3 results but 2 covariate values"):
        gf.interpolate(fits, covariate=[0.0, 1.0], at=0.5)
    with pytest.raises(gf.InterpolationError, match=r"duplicate value 1\.0 at positions 1 and 2"):
        gf.interpolate(fits, covariate=[0.0, 1.0, 1.0], at=0.5)
    with pytest.raises(gf.InterpolationError, match="must be strictly increasing"):
        gf.interpolate(fits, covariate=[2.0, 1.0, 0.0], at=0.5)
    with pytest.raises(gf.InterpolationError, match=r"outside the fitted range \[0, 2\]"):
        gf.interpolate(fits, covariate=TIMES, at=[1.0, -0.5])
    with pytest.raises(gf.InterpolationError, match="method must be one of"):
        gf.interpolate(fits, covariate=TIMES, at=0.5, method="cubic")
    with pytest.raises(gf.InterpolationError, match=r"has no parameter\(s\) \['amplitude'\]"):
        gf.interpolate(fits, covariate=TIMES, at=0.5, var_names=["amplitude"])
    with pytest.raises(gf.InterpolationError, match="covariate='epoch' must name a fixed number"):
        gf.interpolate(fits, covariate="epoch", at=0.5)
    failed = gf.FailedResult("time_1", 1, ValueError("bad"))
    with pytest.raises(gf.InterpolationError, match="the fits of time_1 failed"):
        gf.interpolate([fits[0], failed, fits[2]], covariate=TIMES, at=0.5)

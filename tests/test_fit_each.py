"""fit_each: independent fits, one compile per structure, executors, failures, progress."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import graphfit as gf
import graphfit.batch.executors as executors
import graphfit.batch.fit_each as independent_fits
from graphfit.exceptions import ResumedFitWarning
from tests.conftest import cookbook_model

ROOT = Path(__file__).resolve().parents[1]
CENTRES = [40.0, 45.0, 50.0, 55.0, 60.0]


def nuts(**kwargs) -> gf.NUTS:
    kwargs.setdefault("random_seed", 1)
    return gf.NUTS(
        draws=1000, tune=500, chains=2, cores=1, sampler="nutpie", progressbar=False, **kwargs
    )


def factors(centres=CENTRES, model=None, analysis=gf.ex.Analysis) -> list[gf.AnalysisFactor]:
    model = cookbook_model() if model is None else model
    return [
        gf.AnalysisFactor(
            model,
            analysis(*gf.ex.simulate_gaussian_dataset(centre=c, seed=30 + k)),
            name=f"epoch_{k}",
        )
        for k, c in enumerate(centres)
    ]


@pytest.fixture(autouse=True, scope="module")
def no_structures_outside_this_module():
    """The module starts with no compiled structures and leaves none to other modules, whose
    tests count compiles; inside it, a test that counts none reuses the structures an earlier
    test compiled (a compile is most of a small MAP fit's time)."""
    independent_fits.clear_cache()
    yield
    independent_fits.clear_cache()


@pytest.fixture
def empty_cache():
    """The test starts with no compiled structures in this process: it counts compiles, or
    forks workers that would inherit them.  What it compiles is left to the module's later
    tests."""
    independent_fits.clear_cache()


def run_with_timeout(function, seconds: float):
    """Run ``function`` in a daemon thread; fail the test (not hang) if it takes too long."""
    box: dict = {}

    def target():
        try:
            box["value"] = function()
        except BaseException as error:  # re-raised in the test's thread
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"fit_each did not finish within {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


class PoisonAnalysis(gf.ex.Analysis):
    """Raises for a flagged dataset (bad data found while building the model)."""

    def __init__(self, data, noise_map, poison=False):
        super().__init__(data, noise_map)
        self.poison = poison

    def observation(self, instance, xp=np):
        if self.poison:
            raise ValueError("detector saturated in this epoch")
        return super().observation(instance, xp)


class KillerAnalysis(gf.ex.Analysis):
    """Kills the worker process that fits it (never the test process itself)."""

    def __init__(self, data, noise_map, parent_pid=None):
        super().__init__(data, noise_map)
        self.parent_pid = parent_pid

    def observation(self, instance, xp=np):
        if self.parent_pid is not None and os.getpid() != self.parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().observation(instance, xp)


@pytest.mark.usefixtures("empty_cache")
@pytest.mark.slow
def test_five_alike_datasets_compile_once_and_match_a_fresh_fit():
    result_list = fit = gf.fit_each(factors(), nuts(), progressbar=False)
    assert isinstance(result_list, gf.ResultList)
    assert result_list.compile_count == 1
    assert result_list.stats["compiles"] == 1
    assert result_list.stats["fits"] == 5 and result_list.stats["failed"] == 0
    assert result_list.names == [f"epoch_{k}" for k in range(5)]
    assert result_list.failed == []
    for k, centre in enumerate(CENTRES):
        result = result_list[f"epoch_{k}"]
        assert result is result_list[k] and result.name == f"epoch_{k}"
        posterior = result.idata.posterior
        assert sorted(posterior.data_vars) == ["centre", "normalization", "sigma"]
        samples = posterior["centre"].values.ravel()
        assert abs(np.median(samples) - centre) < 3 * samples.std() + 0.05
        observed = result.idata.observed_data["obs"].values
        np.testing.assert_array_equal(observed, result.analysis.data)  # its own data, swapped in
        assert result.idata.log_likelihood["obs"].dims == ("chain", "draw", "x")
        assert result.diagnostics is result_list.diagnostics[f"epoch_{k}"]
        assert result.diagnostics.ok
    # the reused model gives the same posterior as fitting that dataset by itself
    own = nuts().fit(model=cookbook_model(), analysis=factors()[3].analysis)
    for name in ("centre", "normalization", "sigma"):
        a = fit[3].idata.posterior[name].values.ravel()
        b = own.idata.posterior[name].values.ravel()
        assert abs(a.mean() - b.mean()) < 0.2 * b.std()
    # pointwise log-likelihood computed with the swapped-in data, not the first dataset's
    ll = fit[3].idata.log_likelihood["obs"].sum("x").mean().item()
    assert abs(ll - own.idata.log_likelihood["obs"].sum("x").mean().item()) < 2.0
    summary = result_list.summary(kind="stats")
    assert "centre[epoch_4]" in summary.index
    tree = result_list.to_datatree()
    assert sorted(tree.children) == result_list.names


@pytest.mark.usefixtures("empty_cache")
def test_structures_are_compiled_once_each_and_relations_fit_on_their_own():
    narrow = cookbook_model()
    narrow.sigma = gf.UniformPrior(1.0, 30.0)  # another prior: another structure
    line = gf.Collection(gaussian=gf.Model(gf.ex.Gaussian))
    line.gaussian.sigma = gf.UniformPrior(0.0, 5.0) * 2.0 + 1.0  # relation: compiled alone
    analyses = [f.analysis for f in factors([40.0, 45.0, 50.0, 55.0, 50.0])]
    models = [cookbook_model(), cookbook_model(), narrow, cookbook_model(), line]
    mixed = [
        gf.AnalysisFactor(m, a, name=n)
        for m, a, n in zip(models, analyses, ["a", "b", "narrow", "c", "line"], strict=True)
    ]
    result_list = gf.fit_each(mixed, gf.MAP(random_seed=1), progressbar=False)
    assert result_list.compile_count == 3
    assert [round(r.max_log_likelihood_instance.centre) for r in result_list[:4]] == [
        40,
        45,
        50,
        55,
    ]
    assert round(result_list["line"].max_log_likelihood_instance.gaussian.sigma) == 10
    # a second call in the same process reuses the compiled structures
    again = gf.fit_each(mixed[:2], gf.MAP(random_seed=1), progressbar=False)
    assert again.compile_count == 0


def test_a_failing_dataset_is_recorded_and_the_others_kept():
    data = [gf.ex.simulate_gaussian_dataset(centre=c, seed=k) for k, c in enumerate(CENTRES[:3])]
    factors_ = [
        gf.AnalysisFactor(
            cookbook_model(), PoisonAnalysis(d, n, poison=(k == 1)), name=f"epoch_{k}"
        )
        for k, (d, n) in enumerate(data)
    ]
    result_list = gf.fit_each(factors_, gf.MAP(random_seed=1), progressbar=False)
    assert [f.name for f in result_list.failed] == ["epoch_1"]
    failed = result_list["epoch_1"]
    assert isinstance(failed, gf.FailedResult) and failed.failed and failed.index == 1
    assert isinstance(failed.error, ValueError)
    assert failed.message == "ValueError: detector saturated in this epoch"
    assert "detector saturated" in failed.traceback
    with pytest.raises(AttributeError, match=r"dataset 'epoch_1' has no 'idata': its fit failed"):
        failed.idata
    assert [r.name for r in result_list.succeeded] == ["epoch_0", "epoch_2"]
    assert round(result_list["epoch_2"].max_log_likelihood_instance.centre) == 50
    assert result_list.stats["failed"] == 1 and result_list.stats["fits"] == 2
    assert repr(result_list) == (
        "ResultList(3 independent fits: epoch_0, epoch_1, epoch_2; 1 failed: epoch_1)"
    )
    assert sorted(result_list.to_datatree().children) == ["epoch_0", "epoch_2"]


def test_joint_only_features_raise_clear_errors():
    result_list = gf.fit_each(factors(CENTRES[:1]), gf.MAP(random_seed=1), progressbar=False)
    for call in (
        lambda: result_list.joint_log_likelihood(),
        lambda: result_list.max_log_likelihood_index,
        lambda: result_list.model,
    ):
        with pytest.raises(gf.IndependentFitsError, match="independent fits with no joint"):
            call()
    assert result_list.populations == {}


def test_bad_input_errors():
    search = gf.MAP()
    with pytest.raises(gf.FactorGraphError, match="fit_each: factors is empty"):
        gf.fit_each([], search)
    with pytest.raises(gf.FactorGraphError, match=r"factors\[1\] is 3 of type int"):
        gf.fit_each([factors(CENTRES[:1])[0], 3], search)
    same = factors(CENTRES[:1])[0]
    with pytest.raises(gf.FactorGraphError, match="factors 0 and 1 are both named 'epoch_0'"):
        gf.fit_each([same, same], search)
    with pytest.raises(gf.SearchError, match=r"search must be a gf\.Search"):
        gf.fit_each([same], "NUTS")
    for bad in (0, -2, "dask", True):
        with pytest.raises(gf.ExecutorError, match="executor must be None, a number"):
            gf.fit_each([same], search, executor=bad)
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    with pytest.raises(
        gf.ExecutorError,
        match=r"cannot take work .*cannot schedule new futures after shutdown.*shut down",
    ):
        gf.fit_each([same], search, executor=pool)


@pytest.mark.usefixtures("empty_cache")
def test_thread_pool_and_progress_bar(capsys):
    with ThreadPoolExecutor(2) as pool:
        result_list = gf.fit_each(factors(CENTRES[:3]), gf.MAP(random_seed=1), executor=pool)
    assert result_list.compile_count == 1  # one process: one compile, fits one at a time
    assert [round(r.max_log_likelihood_instance.centre) for r in result_list] == [40, 45, 50]
    err = capsys.readouterr().err
    assert "fit_each" in err and "3/3" in err
    assert "3/3 [" in err and "<00:00" in err and "0 failed]" in err  # done, time left, failed
    gf.fit_each(factors(CENTRES[:1]), gf.MAP(random_seed=1), progressbar=False)
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("empty_cache")
@pytest.mark.slow
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_local_process_pool_compiles_once_per_structure_or_per_spawned_worker(monkeypatch, start):
    if start not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {start!r} start method on this platform")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setattr(executors, "POOL_START_METHOD", start)
    result_list = run_with_timeout(
        lambda: gf.fit_each(factors(CENTRES[:4]), nuts(), executor=2, progressbar=False), 600
    )
    assert result_list.failed == []
    if start == "fork":
        # the first dataset is fitted here and compiles; the forked workers inherit the model
        assert result_list.compile_count == 1
        assert 2 <= result_list.stats["workers"] <= 3  # this process and 1-2 workers
    else:
        assert 1 <= result_list.stats["workers"] <= 2
        assert result_list.compile_count == result_list.stats["workers"]
    for result, centre in zip(result_list, CENTRES, strict=False):
        samples = result.idata.posterior["centre"].values.ravel()
        assert abs(np.median(samples) - centre) < 3 * samples.std() + 0.05


@pytest.mark.usefixtures("empty_cache")
@pytest.mark.slow
def test_local_process_pool_survives_a_killed_worker(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    data = [gf.ex.simulate_gaussian_dataset(centre=c, seed=k) for k, c in enumerate(CENTRES[:3])]
    factors_ = [
        gf.AnalysisFactor(
            cookbook_model(),
            KillerAnalysis(d, n, parent_pid=os.getpid() if k == 1 else None),
            name=f"e{k}",
        )
        for k, (d, n) in enumerate(data)
    ]
    result_list = run_with_timeout(
        lambda: gf.fit_each(factors_, gf.MAP(random_seed=1), executor=2, progressbar=False), 600
    )
    assert [f.name for f in result_list.failed] == ["e1"]
    assert type(result_list["e1"].error).__name__ == "BrokenProcessPool"
    assert "retried once on its own" in result_list["e1"].traceback
    assert [round(r.max_log_likelihood_instance.centre) for r in result_list.succeeded] == [
        40,
        50,
    ]


@pytest.mark.usefixtures("empty_cache")
@pytest.mark.slow
def test_dask_cluster_with_a_worker_killed_mid_fit(monkeypatch):
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    data = [gf.ex.simulate_gaussian_dataset(centre=c, seed=k) for k, c in enumerate(CENTRES[:4])]
    model = cookbook_model()
    factors_ = [
        gf.AnalysisFactor(
            model, KillerAnalysis(d, n, parent_pid=os.getpid() if k == 1 else None), name=f"e{k}"
        )
        for k, (d, n) in enumerate(data)
    ]

    def run():
        # no retries of a task whose worker died, so the failure comes back at once; one task
        # per worker at a time, so only the task that killed its worker is lost with it
        settings = {
            "distributed.scheduler.allowed-failures": 0,
            "distributed.scheduler.worker-saturation": 1.0,
        }
        with (
            dask.config.set(settings),
            distributed.LocalCluster(
                n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            return gf.fit_each(factors_, nuts(), executor=client.get_executor(), progressbar=False)

    result_list = run_with_timeout(run, 900)
    assert [f.name for f in result_list.failed] == ["e1"], [f.traceback for f in result_list.failed]
    failed = result_list["e1"]
    assert type(failed.error).__name__ == "KilledWorker"
    assert "died or the executor lost the task" in failed.traceback
    assert [r.name for r in result_list.succeeded] == ["e0", "e2", "e3"]
    for name, centre in (("e0", 40.0), ("e2", 50.0), ("e3", 55.0)):
        samples = result_list[name].idata.posterior["centre"].values.ravel()
        assert abs(np.median(samples) - centre) < 3 * samples.std() + 0.05
    # every worker process that fitted compiled the structure once
    assert result_list.compile_count == result_list.stats["workers"]
    # the executor of a closed client is refused up front
    with (
        distributed.LocalCluster(
            n_workers=1, processes=False, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        executor = client.get_executor()
    with pytest.raises(gf.ExecutorError, match=r"cannot take work .*ClosedClientError"):
        gf.fit_each(factors_[:1], gf.MAP(), executor=executor)


def test_each_dataset_gets_its_own_named_search(tmp_path):
    """The hook for output folders: a named search fits each dataset under its own name."""
    search = gf.MAP(name="survey", path_prefix="runs", progressbar=True, output_path=tmp_path)
    own = independent_fits.dataset_search(search, "epoch_3")
    assert (own.name, own.path_prefix, own.progressbar) == (
        "epoch_3",
        os.path.join("runs", "survey"),
        False,
    )
    assert (search.name, search.path_prefix, search.progressbar) == ("survey", "runs", True)
    unnamed = independent_fits.dataset_search(gf.MAP(), "epoch_3")
    assert (unnamed.name, unnamed.path_prefix) == (None, None)
    result_list = gf.fit_dataset(search, factors(CENTRES[:1])[0], "epoch_3")
    assert result_list.names == ["epoch_3"]
    assert result_list.compiled.data_names == {"data": "obs.data", "noise_map": "obs.noise_map"}
    names = set(result_list.model.named_vars)
    assert {"centre", "normalization", "sigma", "obs", "obs.data", "obs.noise_map"} <= names
    assert not any("epoch" in name for name in names)  # nothing specific to the dataset


def test_named_fits_are_saved_as_they_finish_and_a_rerun_fits_only_what_is_missing(tmp_path):
    """With a named search each dataset gets its own output folder; rerunning loads the
    finished ones and fits only the dataset that failed before."""
    data = [gf.ex.simulate_gaussian_dataset(centre=c, seed=k) for k, c in enumerate(CENTRES[:3])]

    def run(poisoned):
        factors_ = [
            gf.AnalysisFactor(
                cookbook_model(), PoisonAnalysis(d, n, poison=(k == poisoned)), name=f"epoch_{k}"
            )
            for k, (d, n) in enumerate(data)
        ]
        search = gf.MAP(random_seed=1, name="epochs", path_prefix="run", output_path=tmp_path)
        return gf.fit_each(factors_, search, progressbar=False)

    first = run(poisoned=1)
    assert [f.name for f in first.failed] == ["epoch_1"]
    saved = {p.parent.parent.name for p in (tmp_path / "run" / "epochs").glob("*/*/COMPLETED")}
    assert saved == {"epoch_0", "epoch_2"}  # the failed dataset wrote nothing
    with pytest.warns(ResumedFitWarning) as caught:  # carried back and warned once, per category
        second = run(poisoned=None)
    assert not second.failed
    (loaded,) = [str(w.message) for w in caught if w.category is ResumedFitWarning]
    assert loaded.startswith("fit_each: ResumedFitWarning in 2 of 3 datasets: epoch_0 (graphfit: ")
    assert "loaded the finished fit" in loaded
    loaded = [m for _, category, m in second.warnings if category == "ResumedFitWarning"]
    assert len(loaded) == 2
    assert [any(f"epoch_{k}" in m for m in loaded) for k in range(3)] == [True, False, True]
    saved = {p.parent.parent.name for p in (tmp_path / "run" / "epochs").glob("*/*/COMPLETED")}
    assert saved == {"epoch_0", "epoch_1", "epoch_2"}
    for k in (0, 2):  # loaded, not refitted: the very same draws
        assert second[k].idata.posterior.equals(first[k].idata.posterior)


# -- warnings raised during the fits ---------------------------------------------------------------


class DetectorWarning(UserWarning):
    """A warning of the user's own analysis."""


class WarningAnalysis(gf.ex.Analysis):
    """Warns (a DetectorWarning naming the detector) when its model is evaluated."""

    def __init__(self, data, noise_map, detector=None):
        super().__init__(data, noise_map)
        self.detector = detector

    def observation(self, instance, xp=np):
        if self.detector is not None:
            warnings.warn(f"detector {self.detector} is saturated", DetectorWarning, stacklevel=2)
        return super().observation(instance, xp)


def warning_factors(detectors):
    return [
        gf.AnalysisFactor(
            cookbook_model(),
            WarningAnalysis(*gf.ex.simulate_gaussian_dataset(seed=k), detector=detector),
            name=f"epoch_{k}",
        )
        for k, detector in enumerate(detectors)
    ]


def test_warnings_of_the_fits_come_back_once_per_category_naming_the_datasets():
    detectors = [None, "A", "B", None, "C", "D", "E" * 400, "F", "G"]
    with pytest.warns(
        DetectorWarning,  # the real category: users filter it as usual
        match=r"^fit_each: DetectorWarning in 7 of 9 datasets: epoch_1 \(detector A is "
        r"saturated\), epoch_2 \(detector B is saturated\), epoch_4 \(detector C is saturated\), "
        r"epoch_5 \(detector D is saturated\), epoch_6 \(detector E{288}\.\.\.\), \.\.\. and 2 "
        r"more$",
    ) as record:
        result_list = gf.fit_each(
            warning_factors(detectors), gf.MAP(random_seed=1), progressbar=False
        )
    assert len(record) == 1  # the fits' own warnings were caught, not shown
    assert result_list.failed == []
    assert result_list.warnings[0] == ("epoch_1", "DetectorWarning", "detector A is saturated")
    assert [w[0] for w in result_list.warnings] == [
        f"epoch_{k}" for k, d in enumerate(detectors) if d is not None
    ]
    # the caller's filters apply where the fits run: ignored is ignored ...
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DetectorWarning)
        quiet = gf.fit_each(warning_factors(["A"]), gf.MAP(random_seed=1), progressbar=False)
    assert quiet.warnings == [] and quiet.failed == []
    # ... and an error is an error: that dataset's fit fails with it
    with warnings.catch_warnings():
        warnings.simplefilter("error", DetectorWarning)
        strict = gf.fit_each(warning_factors([None, "A"]), gf.MAP(random_seed=1), progressbar=False)
    assert [f.name for f in strict.failed] == ["epoch_1"]
    assert strict["epoch_1"].message == "DetectorWarning: detector A is saturated"


@pytest.mark.usefixtures("empty_cache")
@pytest.mark.slow
def test_convergence_warnings_from_pool_workers_reach_the_caller_naming_the_datasets(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    search = gf.NUTS(
        draws=40, tune=40, chains=2, cores=1, sampler="nutpie", random_seed=1, progressbar=False
    )
    with pytest.warns(
        gf.ConvergenceWarning,
        match=r"^fit_each: ConvergenceWarning in 4 of 4 datasets: epoch_0 \(.*bulk ESS below 400 "
        r"for: .*\), epoch_1 \(.*\), epoch_2 \(.*\), epoch_3 \(.*bulk ESS below 400 for: .*\)$",
    ) as record:
        result_list = run_with_timeout(
            lambda: gf.fit_each(factors(CENTRES[:4]), search, executor=2, progressbar=False), 600
        )
    # Python 3.12+ also warns that the pool forks a process with threads (graphfit forks on
    # purpose on Linux, see pool_start_method): that warning is Python's, not a fit's
    fits = [w for w in record if "use of fork() may lead to deadlocks" not in str(w.message)]
    assert [str(w.message).split(":")[0] for w in fits] == ["fit_each"]
    assert result_list.failed == []
    assert result_list.stats["workers"] >= 2  # fitted here (the first) and in the workers
    named = {dataset for dataset, category, _ in result_list.warnings}
    assert named == {f"epoch_{k}" for k in range(4)}
    assert all(category == "ConvergenceWarning" for _, category, _ in result_list.warnings)
    assert all(not result.diagnostics.ok for result in result_list)

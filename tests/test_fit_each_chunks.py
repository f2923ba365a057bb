"""fit_each on executors: chunks of datasets per task, one BLAS thread per fit."""

from __future__ import annotations

import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import graphfit as gf
import graphfit.batch.executors as executors
import graphfit.batch.fit_each as independent_fits
from tests.conftest import cookbook_model
from tests.test_fit_each import KillerAnalysis, PoisonAnalysis, run_with_timeout

ROOT = Path(__file__).resolve().parents[1]
CENTRES = [40.0, 45.0, 50.0, 55.0, 60.0]


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


def poisoned_factors(poisoned: set[int]) -> list[gf.AnalysisFactor]:
    data = [gf.ex.simulate_gaussian_dataset(centre=c, seed=k) for k, c in enumerate(CENTRES)]
    return [
        gf.AnalysisFactor(
            cookbook_model(), PoisonAnalysis(d, n, poison=k in poisoned), name=f"e{k}"
        )
        for k, (d, n) in enumerate(data)
    ]


@pytest.mark.usefixtures("empty_cache")
def test_chunks_keep_input_order_and_per_dataset_failures(capsys):
    # chunks [e0, e1], [e2, e3], [e4]: a failure inside a chunk loses only its own dataset
    with ThreadPoolExecutor(2) as pool:
        result_list = gf.fit_each(
            poisoned_factors({1, 4}), gf.MAP(random_seed=1), executor=pool, chunksize=2
        )
    assert result_list.names == ["e0", "e1", "e2", "e3", "e4"]
    assert [r.name for r in result_list] == result_list.names
    assert [f.name for f in result_list.failed] == ["e1", "e4"]
    assert result_list["e1"].message == "ValueError: detector saturated in this epoch"
    assert [round(r.max_log_likelihood_instance.centre) for r in result_list.succeeded] == [
        40,
        50,
        55,
    ]
    assert result_list.stats["chunksize"] == 2
    assert (result_list.stats["fits"], result_list.stats["failed"]) == (3, 2)
    assert result_list.compile_count == 1  # one process: one compile for the structure
    assert result_list.stats["fit_seconds"] > 0 and result_list.stats["fit_cpu_seconds"] > 0
    err = capsys.readouterr().err
    assert "5/5" in err and "2 failed" in err


def test_automatic_chunksize_and_bad_chunksize():
    sizes = independent_fits.auto_chunk_sizes(200, 2)  # guided: a quarter of what is left
    assert sizes[:10] == [16] * 9 + [14] and sizes[-4:] == [1, 1, 1, 1] and sum(sizes) == 200
    assert sizes == sorted(sizes, reverse=True)
    assert independent_fits.auto_chunk_sizes(5, 2) == [2, 1, 1, 1]
    assert independent_fits.auto_chunk_sizes(1, 3) == [1]
    assert independent_fits.auto_chunk_sizes(0, 2) == []
    assert set(independent_fits.auto_chunk_sizes(10_000, 8)[:600]) == {16}
    assert independent_fits._worker_count(None) == 1
    assert independent_fits._worker_count(3) == 3
    with ThreadPoolExecutor(3) as pool:
        assert independent_fits._worker_count(pool) == 3
        result_list = gf.fit_each(
            poisoned_factors(set())[:3], gf.MAP(random_seed=1), executor=pool, progressbar=False
        )
    assert result_list.stats["chunksize"] == 1 and result_list.failed == []
    # in this process the chunk size does not apply
    sequential = gf.fit_each(poisoned_factors(set())[:2], gf.MAP(random_seed=1), progressbar=False)
    assert sequential.stats["chunksize"] == 1
    factor = poisoned_factors(set())[0]
    for bad in (0, -1, 2.5, True, "4"):
        with pytest.raises(
            gf.ExecutorError,
            match=rf"fit_each: chunksize must be None \(automatic\) or an integer >= 1, "
            rf"got {bad!r}\.",
        ):
            gf.fit_each([factor], gf.MAP(), executor=1, chunksize=bad)


class ThreadCountAnalysis(gf.ex.Analysis):
    """Records the BLAS thread counts of the process each time the model is evaluated inside a
    fit (``fit_dataset`` on the stack; the parent also evaluates it outside the fits)."""

    seen: list[int] = []

    def observation(self, instance, xp=np):
        frame = sys._getframe()
        while frame is not None and frame.f_code is not gf.fit_dataset.__code__:
            frame = frame.f_back
        if frame is not None:
            ThreadCountAnalysis.seen.extend(pool["num_threads"] for pool in threadpool_info())
        return super().observation(instance, xp)


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info()]


@pytest.mark.usefixtures("empty_cache")
def test_fits_run_with_one_blas_thread_and_the_limits_are_restored():
    import scipy.linalg  # noqa: F401  (SciPy's BLAS, which fits use, is loaded up front)

    before = blas_threads()
    if max(before) == 1:
        pytest.skip("BLAS runs one thread here already (one core): nothing to limit")
    factors_ = [
        gf.AnalysisFactor(
            cookbook_model(),
            ThreadCountAnalysis(*gf.ex.simulate_gaussian_dataset(centre=c, seed=k)),
            name=f"e{k}",
        )
        for k, c in enumerate(CENTRES[:2])
    ]
    for executor in (None, ThreadPoolExecutor(2)):
        ThreadCountAnalysis.seen = []
        result_list = gf.fit_each(
            factors_, gf.MAP(random_seed=1), executor=executor, progressbar=False
        )
        assert result_list.failed == []
        assert ThreadCountAnalysis.seen and set(ThreadCountAnalysis.seen) == {1}
        assert blas_threads() == before  # this process's settings are back
        if executor is not None:
            executor.shutdown()
    with independent_fits.one_thread():
        assert set(blas_threads()) == {1}
    assert blas_threads() == before


@pytest.mark.usefixtures("empty_cache")
@pytest.mark.slow
def test_process_pool_retries_each_dataset_of_a_chunk_whose_worker_died(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    data = [gf.ex.simulate_gaussian_dataset(centre=c, seed=k) for k, c in enumerate(CENTRES[:4])]
    factors_ = [
        gf.AnalysisFactor(
            cookbook_model(),
            KillerAnalysis(d, n, parent_pid=os.getpid() if k == 1 else None),
            name=f"e{k}",
        )
        for k, (d, n) in enumerate(data)
    ]
    # e0 (the structure's first dataset) is fitted in this process before the pool forks
    # (on Linux), then chunks [e1, e2], [e3]: e1 kills the worker running e1 and e2
    result_list = run_with_timeout(
        lambda: gf.fit_each(
            factors_, gf.MAP(random_seed=1), executor=2, chunksize=2, progressbar=False
        ),
        600,
    )
    assert result_list.stats["chunksize"] == 2
    assert [f.name for f in result_list.failed] == ["e1"]
    assert type(result_list["e1"].error).__name__ == "BrokenProcessPool"
    assert "retried once on its own" in result_list["e1"].traceback
    assert [r.name for r in result_list.succeeded] == ["e0", "e2", "e3"]
    assert [round(r.max_log_likelihood_instance.centre) for r in result_list.succeeded] == [
        40,
        50,
        55,
    ]


class TrapAnalysis(gf.ex.Analysis):
    """In a pool worker (never this process): ``"kill"`` kills the worker, ``"deaf"`` makes it
    ignore SIGTERM from then on.  One class for every dataset, so they share one structure."""

    def __init__(self, data, noise_map, trap=None, parent_pid=None):
        super().__init__(data, noise_map)
        self.trap, self.parent_pid = trap, parent_pid

    def observation(self, instance, xp=np):
        if self.trap is not None and os.getpid() != self.parent_pid:
            if self.trap == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return super().observation(instance, xp)


@pytest.mark.usefixtures("empty_cache")
@pytest.mark.slow
def test_a_worker_deaf_to_sigterm_does_not_hang_the_retries_after_another_died(monkeypatch):
    """A broken pool's manager thread joins every worker while holding the pool's lock; a
    worker that survives SIGTERM held it for ever, and fit_each with it (seen once on Python
    3.12).  fit_each stops the broken pool itself, SIGKILL after STOP_GRACE, then retries."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setattr(executors, "STOP_GRACE", 1.0)
    data = [gf.ex.simulate_gaussian_dataset(centre=c, seed=k) for k, c in enumerate(CENTRES[:4])]
    pid = os.getpid()
    # e0 is fitted in this process before the pool forks (on Linux); e1 kills its worker, e2
    # and e3 make theirs deaf to SIGTERM
    analyses = [
        TrapAnalysis(*data[0]),
        TrapAnalysis(*data[1], trap="kill", parent_pid=pid),
        TrapAnalysis(*data[2], trap="deaf", parent_pid=pid),
        TrapAnalysis(*data[3], trap="deaf", parent_pid=pid),
    ]
    factors_ = [
        gf.AnalysisFactor(cookbook_model(), analysis, name=f"e{k}")
        for k, analysis in enumerate(analyses)
    ]
    result_list = run_with_timeout(
        lambda: gf.fit_each(
            factors_, gf.MAP(random_seed=1), executor=2, chunksize=1, progressbar=False
        ),
        120,
    )
    assert [f.name for f in result_list.failed] == ["e1"]
    assert [r.name for r in result_list.succeeded] == ["e0", "e2", "e3"]
    assert [round(r.max_log_likelihood_instance.centre) for r in result_list.succeeded] == [
        40,
        50,
        55,
    ]


def test_outcomes_come_back_through_a_file_when_the_worker_sees_the_directory(tmp_path):
    """_run_spilled leaves a chunk's outcomes in a pickle file of the caller's directory (read
    once, then removed); a worker that does not see the directory returns them directly."""
    tasks = [
        independent_fits._Task(k, f.name, f, gf.MAP(random_seed=1))
        for k, f in enumerate(poisoned_factors({1})[:2])
    ]
    spilled = independent_fits._run_spilled(tasks, str(tmp_path))
    assert isinstance(spilled, independent_fits._Spilled)
    assert [p.name for p in tmp_path.iterdir()] == [Path(spilled.path).name]
    outcomes = spilled.load()
    assert list(tmp_path.iterdir()) == []  # read once, then removed
    assert [(o.index, o.name) for o in outcomes] == [(0, "e0"), (1, "e1")]
    assert outcomes[0].error is None and outcomes[0].idata is not None
    assert str(outcomes[1].error) == "detector saturated in this epoch"
    # another machine's worker: no such directory, the outcomes themselves
    direct = independent_fits._run_spilled(tasks, str(tmp_path / "elsewhere"))
    assert [(o.index, o.name, o.error is None) for o in direct] == [
        (0, "e0", True),
        (1, "e1", False),
    ]

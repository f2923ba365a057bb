"""Ctrl-C: searches and fit_each stop, clean up and raise; nothing partial is kept or saved.

The subprocess tests send a real SIGINT to a real fit: the child prints ``SAMPLING <pid>
<dataset>`` just before the sampler starts the dataset the test interrupts (and ``QUICK ...``
before the datasets it lets finish, which it samples with the search's own small ``draws``),
so the test waits for sampling to have begun rather than sleeping blindly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import graphfit as gf
from graphfit.backend import stack
from graphfit.search.interrupts import check_complete, interruptible

ROOT = Path(__file__).resolve().parents[1]

# The child: fits named searches under argv[1]; argv[2] is the mode, argv[3] the sampler,
# argv[4] the datasets to interrupt (comma-separated), sampled with a million draws.
CHILD = textwrap.dedent(
    """
    import os, sys
    import graphfit as gf
    import graphfit.batch.fit_each as independent_fits

    root, mode, sampler, slow = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")

    def dataset_name():  # the dataset being fitted, from fit_each's task (else "single")
        frame = sys._getframe()
        while frame is not None:
            task = frame.f_locals.get("task")
            if isinstance(task, independent_fits._Task):
                return task.name
            frame = frame.f_back
        return "single"

    def announce(module, attribute):  # print a marker, and sample long for the slow datasets
        real = getattr(module, attribute)
        def sample(*args, **kwargs):
            name = dataset_name()
            if name in slow:
                kwargs["draws"] = 10**6
            # one write per line: print() writes each piece apart when Python runs unbuffered
            # (PYTHONUNBUFFERED), and the pool's workers share this pipe
            sys.stdout.write(f"{'SAMPLING' if name in slow else 'QUICK'} {os.getpid()} {name}\\n")
            sys.stdout.flush()
            return real(*args, **kwargs)
        setattr(module, attribute, sample)

    if sampler == "nutpie":
        import nutpie
        announce(nutpie, "sample")
    else:
        import pymc
        announce(pymc, "sample")

    def factor(k, upper=100.0):
        model = gf.Model(gf.ex.Gaussian)
        model.centre = gf.UniformPrior(0.0, upper)
        analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=k))
        return gf.AnalysisFactor(model, analysis, name=f"d{k}")

    search = gf.NUTS(
        draws=200, tune=200, chains=2, cores=int(os.environ.get("CORES", "2")), sampler=sampler,
        random_seed=1, progressbar=False, name="run", output_path=root,
    )
    if __name__ == "__main__":
        if mode == "single":
            f = factor(0)
            search.fit(model=f.prior_model, analysis=f.analysis)
            print("FINISHED", flush=True)
        else:
            # pool: each dataset its own structure, so none is fitted here before the pool
            factors = [factor(k, 100.0 + k) for k in range(5 if mode == "pool" else 4)]
            executor = 2 if mode == "pool" else None
            try:
                result_list = gf.fit_each(factors, search, executor, progressbar=False, chunksize=1)
            except gf.FitInterrupted as error:
                for entry in error.results:
                    status = entry.message if getattr(entry, "failed", False) else "finished"
                    print("ENTRY", entry.name, status, flush=True)
                raise
            print("DONE", len(result_list.succeeded), flush=True)
    """
)


def run_child(
    tmp_path: Path,
    mode: str,
    sampler: str,
    slow: str,
    interrupt_at: int = 1,
    group: bool = False,
    cores: int = 2,
):
    """Start the child, send SIGINT once ``interrupt_at`` slow datasets are sampling (to the
    child only, as a notebook's interrupt does, or with ``group`` to its whole process group,
    as a terminal's Ctrl-C does), and return (stdout, stderr, returncode, pids of the
    processes that sampled, seconds from SIGINT to exit)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CORES": str(cores)}
    command = [sys.executable, "-c", CHILD, str(tmp_path), mode, sampler, slow]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=group,
    )
    lines, pids, sampling = [], set(), 0
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith(("SAMPLING", "QUICK")):
                pids.add(int(line.split()[1]))
            if line.startswith("SAMPLING"):
                sampling += 1
                if sampling == interrupt_at:
                    break
        assert sampling == interrupt_at, "".join(lines) + process.stderr.read()
        time.sleep(1.0)  # well inside the million draws
        if group:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
        clock = time.perf_counter()
        out, err = process.communicate(timeout=120)
        seconds = time.perf_counter() - clock
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return "".join(lines) + out, err, process.returncode, pids, seconds


def rerun(tmp_path: Path, mode: str, sampler: str) -> list[str]:
    """The same child with nothing slow: it finishes, loading what the first run saved; the
    datasets it sampled."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", CHILD, str(tmp_path), mode, sampler, "none"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0 and "DONE 4" in done.stdout, done.stdout + done.stderr
    return sorted(line.split()[2] for line in done.stdout.splitlines() if line.startswith("QUICK"))


def saved(tmp_path: Path) -> tuple[list[str], list[Path]]:
    """(datasets with a finished folder, hidden temporary folders) under the output root."""
    finished = sorted(p.parent.parent.name for p in tmp_path.rglob("COMPLETED"))
    hidden = [p for p in tmp_path.rglob(".*") if p.is_dir()]
    return finished, hidden


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# -- single searches --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sampler", "cores"),
    [
        ("nutpie", 2),  # nutpie's threads: it catches Ctrl-C and pads with NaN
        ("pymc", 1),  # chains one after another: PyMC catches Ctrl-C per chain
        ("pymc", 2),  # chains in processes: PyMC catches Ctrl-C and returns a short trace
    ],
)
def test_ctrl_c_stops_a_single_fit_and_saves_nothing(tmp_path, sampler, cores):
    if sampler == "nutpie":
        pytest.importorskip("nutpie")
    out, err, code, _, seconds = run_child(tmp_path, "single", sampler, "single", cores=cores)
    assert code == -signal.SIGINT, out + err  # an uncaught KeyboardInterrupt
    assert (
        f"KeyboardInterrupt: NUTS(sampler='{sampler}') was interrupted (Ctrl-C); its partial "
        "output was discarded and nothing was saved." in err
    ), err
    assert "FINISHED" not in out
    assert seconds < 60
    assert saved(tmp_path) == ([], [])  # no finished folder and no temporary leftovers
    assert len(gf.Aggregator(tmp_path)) == 0


# -- fit_each ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_stops_fit_each_in_this_process_and_keeps_the_finished_fits(tmp_path):
    pytest.importorskip("nutpie")
    out, err, code, _, _ = run_child(tmp_path, "each", "nutpie", "d2")
    # Python exits by SIGINT for an uncaught KeyboardInterrupt itself, with 1 for a subclass
    assert code == 1, out + err
    assert "graphfit.search.interrupts.FitInterrupted: " in err, err
    assert (
        "fit_each was interrupted (Ctrl-C): 2 of 4 datasets finished, 1 interrupted, 1 not "
        "run." in err
    ), err
    entries = [line.split(" ", 2)[1:] for line in out.splitlines() if line.startswith("ENTRY")]
    assert entries == [
        ["d0", "finished"],
        ["d1", "finished"],
        [
            "d2",
            "KeyboardInterrupt: interrupted (Ctrl-C) while it was being fitted; the partial "
            "fit was discarded and not saved",
        ],
        [
            "d3",
            "KeyboardInterrupt: not run: fit_each was interrupted (Ctrl-C) before this "
            "dataset's fit started",
        ],
    ]
    assert saved(tmp_path) == (["d0", "d1"], [])
    # a rerun loads the two finished fits and samples only the other two
    assert rerun(tmp_path, "each", "nutpie") == ["d2", "d3"]


@pytest.mark.slow
@pytest.mark.parametrize("group", [False, True], ids=["notebook", "terminal"])
def test_ctrl_c_stops_a_fit_each_pool_and_its_workers(tmp_path, group):
    """SIGINT to the calling process only (a notebook's interrupt) or to its process group (a
    terminal's Ctrl-C): either way fit_each stops its workers itself, without waiting for
    their chunks, and they exit."""
    pytest.importorskip("nutpie")
    out, err, code, pids, seconds = run_child(
        tmp_path, "pool", "nutpie", "d2,d3,d4", interrupt_at=2, group=group
    )
    assert code == 1 and "graphfit.search.interrupts.FitInterrupted: " in err, out + err
    assert "fit_each was interrupted (Ctrl-C): 2 of 5 datasets finished" in err, err
    entries = dict(line.split(" ", 2)[1:] for line in out.splitlines() if line.startswith("ENTRY"))
    assert entries["d0"] == entries["d1"] == "finished"
    interrupted = "KeyboardInterrupt: interrupted (Ctrl-C) while it was in a worker, being fitted"
    assert entries["d2"].startswith(interrupted) and entries["d3"].startswith(interrupted)
    assert entries["d4"].startswith(("KeyboardInterrupt: not run", interrupted))
    assert seconds < 60  # the workers were stopped, not waited for (a million draws each)
    assert os.getpid() not in pids and len(pids) >= 2
    assert all(gone(pid) for pid in pids)  # every worker process has exited
    assert saved(tmp_path) == (["d0", "d1"], [])
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("graphfit-fit_each-*/chunk-*"))


# -- in this process: the guard, the checks, the exception of fit_each --------------------------


def test_interruptible_raises_after_a_sampler_that_swallowed_ctrl_c():
    with pytest.raises(
        KeyboardInterrupt,
        match=r"^a sampler was interrupted \(Ctrl-C\); its partial output was discarded and "
        r"nothing was saved\.$",
    ):
        with interruptible("a sampler") as interrupt:
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                pass  # as nutpie and PyMC do
            assert interrupt.received
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    with interruptible("a sampler") as interrupt:  # no interrupt: nothing happens
        pass
    assert not interrupt.received


def test_an_ignored_ctrl_c_stays_ignored():
    """fit_each's pool workers ignore SIGINT (the calling process stops them): no interrupt."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interruptible("a sampler") as interrupt:
            signal.raise_signal(signal.SIGINT)
        assert not interrupt.received
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_interruptible_stops_later_pymc_chains_through_the_callback():
    interrupt = interruptible("a sampler")
    callback = interrupt.callback()
    callback(trace=None, draw=None)  # nothing noted: sampling goes on
    interrupt.received = True
    with pytest.raises(KeyboardInterrupt):
        callback(trace=None, draw=None)


def test_an_incomplete_posterior_is_never_a_finished_fit():
    rng = np.random.default_rng(0)
    short = stack.from_arrays(posterior={"a": rng.normal(size=(2, 60))})
    with pytest.raises(
        gf.SearchError,
        match=r"^NUTS\(sampler='pymc'\) returned an incomplete posterior: 1 chain\(s\) where 2 "
        r"were asked for; 60 draws per chain where 100 were asked for\. A sampler stopped early "
        r"\(e\.g\. interrupted\) returns what it has; it is not kept as a finished fit\. Fit "
        r"again\.$",
    ):
        check_complete(
            stack.from_arrays(posterior={"a": rng.normal(size=(1, 60))}),
            "NUTS(sampler='pymc')",
            chains=2,
            draws=100,
        )
    padded = rng.normal(size=(2, 100, 3))
    padded[1, 70:] = np.nan  # nutpie pads the draws it did not make with NaN
    idata = stack.from_arrays(posterior={"b": padded, "a": rng.normal(size=(2, 100))})
    with pytest.raises(
        gf.SearchError,
        match=r"incomplete posterior: non-finite draws \(NaN or inf\) in b \(90 of 600 values\)\.",
    ):
        check_complete(idata, "NUTS(sampler='nutpie')", chains=2, draws=100)
    check_complete(short, "NUTS", chains=2, draws=60)  # whole: nothing raised


class CtrlCAnalysis(gf.ex.Analysis):
    """Presses Ctrl-C (a real SIGINT to this process) while its dataset is being fitted."""

    def __init__(self, data, noise_map, press=False):
        super().__init__(data, noise_map)
        self.press = press

    def observation(self, instance, xp=np):
        if self.press:
            signal.raise_signal(signal.SIGINT)
        return super().observation(instance, xp)


def test_fit_each_raises_fit_interrupted_with_the_finished_fits(tmp_path):
    factors = [
        gf.AnalysisFactor(
            gf.Model(gf.ex.Gaussian),
            CtrlCAnalysis(*gf.ex.simulate_gaussian_dataset(seed=k)),
            name=f"e{k}",
        )
        for k in range(3)
    ]
    factors[1].analysis.press = True  # once built: Ctrl-C while e1 is fitted
    search = gf.MAP(random_seed=1, name="run", output_path=tmp_path)
    with pytest.raises(
        gf.FitInterrupted,
        match=r"^fit_each was interrupted \(Ctrl-C\): 1 of 3 datasets finished, 1 interrupted, "
        r"1 not run\. Partial fits were discarded, never saved\. The "
        r"finished fits are in this exception's \.results \(except gf\.FitInterrupted as error: "
        r"error\.results\)\. Rerun the same call to fit only the rest: the finished fits are "
        r"saved and loaded\.$",
    ) as caught:
        gf.fit_each(factors, search, progressbar=False)
    results = caught.value.results
    assert isinstance(caught.value, KeyboardInterrupt)
    assert isinstance(results, gf.IndependentResultList)
    assert [r.name for r in results.succeeded] == ["e0"]
    assert [(f.name, f.interrupted) for f in results.failed] == [("e1", True), ("e2", True)]
    assert results["e1"].message.startswith("KeyboardInterrupt: interrupted (Ctrl-C)")
    assert results["e2"].message.startswith("KeyboardInterrupt: not run")
    assert results.stats["interrupted"] == 1 and results.stats["not_run"] == 1
    assert round(results["e0"].max_log_likelihood_instance.centre) == 50
    assert sorted(p.parent.parent.name for p in tmp_path.rglob("COMPLETED")) == ["e0"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

"""``kill -9`` of the calling process: its worker processes exit, its spill files go.

PyMC's chain processes (``sampler="pymc"``, ``cores=2``) and the workers of ``fit_each``'s own
pool watch the process that started them (``graphfit.search.interrupts.watch_parent``) and exit
within seconds of its death; the pool workers remove the spill directory they were given, and
the next ``fit_each`` removes any a killed call left (``graphfit.batch.tasks``).  The
subprocess tests start a real fit in a child, wait until it samples, ``SIGKILL`` the child and
look for its descendants in ``/proc``.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from graphfit.batch.tasks import (
    SPILL_PREFIX,
    _run_spilled,
    _Spilled,
    remove_orphaned_spills,
    spill_directory,
)
from graphfit.search.interrupts import _orphaned, watch_parent, watched_context

ROOT = Path(__file__).resolve().parents[1]
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# The child: argv[1] is the mode ("pymc": one fit with PyMC's sampler on two cores; "pool":
# fit_each on a pool of two workers; "quick": fit_each on a pool, MAP, to the end).
CHILD = textwrap.dedent(
    """
    import os, sys
    import pymc
    import graphfit as gf

    real = pymc.sample
    def sample(*args, **kwargs):
        # one write per line: with PYTHONUNBUFFERED, print's pieces from two workers interleave
        sys.stdout.write(f"SAMPLING {os.getpid()}\\n")
        sys.stdout.flush()
        return real(*args, **kwargs)
    pymc.sample = sample

    def factor(k):  # each dataset its own structure: none is fitted here before the pool
        model = gf.Model(gf.ex.Gaussian)
        model.centre = gf.UniformPrior(0.0, 100.0 + k)
        analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=k))
        return gf.AnalysisFactor(model, analysis, name=f"d{k}")

    if __name__ == "__main__":
        mode = sys.argv[1]
        slow = gf.NUTS(draws=10**6, tune=10, chains=2, sampler="pymc", random_seed=1,
                       progressbar=False, cores=2 if mode == "pymc" else 1)
        if mode == "pymc":
            f = factor(0)
            slow.fit(model=f.prior_model, analysis=f.analysis)
        elif mode == "pool":
            gf.fit_each([factor(k) for k in range(3)], slow, 2, progressbar=False, chunksize=1)
        else:
            results = gf.fit_each([factor(k) for k in range(3)], gf.MAP(random_seed=1), 2,
                                  progressbar=False, chunksize=1)
            print("DONE", len(results.succeeded), flush=True)
    """
)


def descendants(pid: int) -> set[int]:
    """The living processes below ``pid`` (from ``/proc``; zombies are not living)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def living(pids: set[int]) -> set[int]:
    """Those of ``pids`` that still run (not gone, not zombies)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def kill_while_sampling(tmp: Path, mode: str, workers: int) -> tuple[set[int], float]:
    """Start the child with ``TMPDIR=tmp``, wait until ``workers`` processes below it sample,
    ``SIGKILL`` it, and return (its descendants at that moment, seconds until all had exited,
    or ``inf``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    children: set[int] = set()
    try:
        marks = 0
        for line in process.stdout:
            marks += line.count("SAMPLING")
            if marks == (1 if mode == "pymc" else workers):
                break
        deadline = time.monotonic() + 120
        while len(children) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
            children = descendants(process.pid)
        assert len(children) >= workers, process.stderr.read() if process.poll() else children
        time.sleep(2.0)  # sampling, well inside the million draws
        children = descendants(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        clock = time.monotonic()
        while living(children) and time.monotonic() - clock < 30:
            time.sleep(0.2)
        return children, (time.monotonic() - clock if not living(children) else float("inf"))
    finally:
        if process.poll() is None:
            process.kill()
        # never leave a process behind, even on failure (first: they hold the child's pipes)
        for pid in living(children | descendants(process.pid)):
            os.kill(pid, signal.SIGKILL)
        process.communicate()


@linux
@pytest.mark.slow
def test_pymc_chain_processes_exit_when_the_parent_is_killed(tmp_path):
    children, seconds = kill_while_sampling(tmp_path, "pymc", workers=2)
    assert len(children) >= 2 and seconds < 10, (children, seconds)


@linux
@pytest.mark.slow
def test_fit_each_pool_workers_exit_and_spill_files_go_when_the_parent_is_killed(tmp_path):
    children, seconds = kill_while_sampling(tmp_path, "pool", workers=2)
    assert len(children) >= 2 and seconds < 10, (children, seconds)
    # the workers removed the spill directory their caller made
    assert not list(tmp_path.glob(f"{SPILL_PREFIX}*")), list(tmp_path.rglob("*"))
    # one a killed call left without workers to remove it goes with the next fit_each
    stale = tmp_path / f"{SPILL_PREFIX}{dead_pid()}-abc"
    stale.mkdir(mode=0o700)
    (stale / "chunk-1.pickle").write_bytes(b"left over")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "quick"], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0 and "DONE 3" in done.stdout, done.stdout + done.stderr
    assert not list(tmp_path.glob(f"{SPILL_PREFIX}*"))


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# -- the pieces, in this process ---------------------------------------------------------------


@linux
def test_spill_directories_are_private_and_stale_ones_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead, outside = dead_pid(), tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("not a spill")
    stale = tmp_path / f"{SPILL_PREFIX}{dead}-abc"
    stale.mkdir()
    (stale / "chunk-1.pickle").write_bytes(b"left over")
    linked = tmp_path / f"{SPILL_PREFIX}{dead}-link"
    linked.symlink_to(outside, target_is_directory=True)
    mine = tmp_path / f"{SPILL_PREFIX}{os.getpid()}-live"  # a running call's: kept
    mine.mkdir()
    spill = Path(spill_directory())  # removes the stale one on the way
    assert spill.parent == tmp_path and spill.name.startswith(f"{SPILL_PREFIX}{os.getpid()}-")
    assert stat.S_IMODE(spill.stat().st_mode) == 0o700
    assert not stale.exists() and mine.exists() and linked.is_symlink()
    assert (outside / "keep").exists()  # a symlink is never followed
    assert remove_orphaned_spills(str(tmp_path)) == []


def test_a_spilled_chunk_is_private_and_deleted_once_read():
    spill = spill_directory()
    try:
        spilled = _run_spilled([], spill)  # what a pool worker does with a finished chunk
        assert isinstance(spilled, _Spilled) and Path(spilled.path).parent == Path(spill)
        assert stat.S_IMODE(os.stat(spilled.path).st_mode) == 0o600
        assert spilled.load() == [] and not os.listdir(spill)
    finally:
        os.rmdir(spill)


def test_watch_parent_and_the_chain_context():
    assert watch_parent() is None  # not a multiprocessing child: nothing to watch
    assert not _orphaned(os.getppid(), os.getppid())
    assert _orphaned(dead_pid(), os.getppid()) and _orphaned(os.getppid(), -1)
    context = watched_context("spawn")
    assert context.get_start_method() == "spawn" and watched_context(context) is context

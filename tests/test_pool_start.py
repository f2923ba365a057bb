"""How fit_each's own pool starts its workers (graphfit.batch.executors.pool_start_method).

Forked on Linux, so the workers inherit the compiled model; spawned once JAX is in the
process or the search samples with JAX: a forked copy of a process running JAX's threads can
deadlock, and JAX warns at every fork ("os.fork() was called ..."), which made a pool test's
warnings depend on whether an earlier test had run numpyro.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import graphfit as gf
from graphfit.batch import executors

ROOT = Path(__file__).resolve().parents[1]
FORK = sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _bridge(backends: dict) -> types.ModuleType:
    """A stand-in for JAX's backend module, with the backends JAX made when it first ran."""
    module = types.ModuleType("jax._src.xla_bridge")
    module._backends = backends
    return module


@pytest.mark.skipif(not FORK, reason="fit_each forks its workers on Linux only")
def test_pools_fork_unless_jax_is_in_the_process_or_the_search_runs_on_jax(monkeypatch):
    searches = [gf.MAP(), gf.NUTS(sampler="pymc"), gf.NUTS(sampler="numpyro")]
    monkeypatch.delitem(sys.modules, "jax._src.xla_bridge", raising=False)
    assert [executors.pool_start_method(s) for s in searches] == ["fork", "fork", "spawn"]
    assert executors.pool_start_method() == "fork"
    monkeypatch.setitem(sys.modules, "jax._src.xla_bridge", _bridge({}))  # imported, not run
    assert [executors.pool_start_method(s) for s in searches] == ["fork", "fork", "spawn"]
    monkeypatch.setitem(sys.modules, "jax._src.xla_bridge", _bridge({"cpu": object()}))  # ran
    assert [executors.pool_start_method(s) for s in searches] == ["spawn"] * 3
    assert executors.pool_start_method() == "spawn"
    monkeypatch.setattr(executors, "POOL_START_METHOD", "fork")  # the user's choice wins
    assert [executors.pool_start_method(s) for s in searches] == ["fork"] * 3


@pytest.mark.skipif(not FORK, reason="fit_each forks its workers on Linux only")
def test_a_notebooks_classes_keep_the_pool_forked_when_only_the_caller_has_jax(monkeypatch):
    """A spawned worker cannot import a class defined in __main__ (a notebook's): with JAX in
    the calling process only, such datasets are fitted in forked workers, as before; a search
    that runs on JAX still spawns."""

    class NotebookAnalysis(gf.ex.Analysis):
        pass

    data, noise = gf.ex.simulate_gaussian_dataset(seed=0)
    packaged = gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), gf.ex.Analysis(data, noise))
    notebook = gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), NotebookAnalysis(data, noise))
    monkeypatch.setattr(NotebookAnalysis, "__module__", "__main__")
    monkeypatch.setitem(sys.modules, "jax._src.xla_bridge", _bridge({"cpu": object()}))
    assert executors.pool_start_method(gf.MAP(), [packaged]) == "spawn"
    assert executors.pool_start_method(gf.MAP(), [packaged, notebook]) == "fork"
    assert executors.pool_start_method(gf.NUTS(sampler="numpyro"), [notebook]) == "spawn"


@pytest.mark.slow  # a new process imports JAX (10 s); the fast tier reads a stand-in bridge above
def test_jax_running_is_false_after_an_import_and_true_once_jax_has_run():
    """ArviZ 1 imports JAX: an import alone must keep pools forked; JAX's runtime, once it has
    run, must be seen (guards the JAX internal that ``jax_running`` reads)."""
    pytest.importorskip("jax")
    code = (
        "import jax, jax.numpy as jnp\n"
        "from graphfit.batch.executors import jax_running\n"
        "before = jax_running()\n"
        "jnp.ones(1).block_until_ready()\n"
        "print(before, jax_running())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


SCRIPT = textwrap.dedent(
    """
    import sys
    import warnings

    import jax.numpy as jnp

    import graphfit as gf
    from graphfit.batch import executors


    def main():
        jnp.zeros(1).block_until_ready()  # JAX runs: its threads, and its fork warning, start
        if sys.argv[1] != "auto":
            executors.POOL_START_METHOD = sys.argv[1]
        factors = [
            gf.AnalysisFactor(
                gf.Model(gf.ex.Gaussian),
                gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(centre=c, seed=k)),
            )
            for k, c in enumerate([40.0, 45.0, 50.0, 55.0])
        ]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fits = gf.fit_each(factors, gf.MAP(random_seed=1), executor=2, progressbar=False)
        jax_warnings = sum("JAX is multithreaded" in str(w.message) for w in caught)
        centres = [round(r.max_log_likelihood_instance.centre) for r in fits.succeeded]
        print(executors.pool_start_method(), jax_warnings, centres, len(fits.failed))


    if __name__ == "__main__":
        main()
    """
)


@pytest.mark.slow  # spawned workers import PyMC and compile: tens of seconds on a busy machine
@pytest.mark.skipif(not FORK, reason="fit_each forks its workers on Linux only")
def test_a_pool_started_after_jax_spawns_its_workers_and_jax_never_warns(tmp_path):
    pytest.importorskip("jax")
    script = tmp_path / "pool_after_jax.py"
    script.write_text(SCRIPT)

    def run(method: str) -> str:
        done = subprocess.run(
            [sys.executable, str(script), method],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.strip().splitlines()[-1]

    assert run("auto") == "spawn 0 [40, 45, 50, 55] 0"
    # forced to fork, the same pool makes JAX warn once per forked worker
    method, warned, *_ = run("fork").split()
    assert method == "fork" and int(warned) >= 1

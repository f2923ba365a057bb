"""Independent fits benchmark: ``gf.fit_each`` sequential, on a process pool and on Dask.

N datasets of the cookbook's 1D Gaussian (centre, normalization, sigma: 3 free parameters each)
are fitted one by one with NUTS (nutpie; by default ``gf.NUTS``'s own 4 chains x 1000 draws +
1000 tuning steps, all chains of a fit in one thread), each mode in a fresh
Python process (started by this script, so "cold" means nothing imported or compiled yet):

* ``sequential``: ``executor=None``, every fit in this process (cold: the clock includes
  importing PyMC and the one compile, as for a user's first call);
* ``sequential-warm``: the same after ``gf.warm_worker()`` (imports done before the clock, the
  compile inside it);
* ``pool``: ``executor=2``, a local pool of 2 worker processes that ``fit_each`` starts (cold).
  On Linux the workers are forked after the first dataset was fitted (and compiled) in the
  calling process, so they inherit PyMC and the compiled model: one compile in all;
* ``pool-warm``: the same after ``gf.warm_worker()`` (the like-for-like of ``sequential-warm``);
* ``dask``: ``client.get_executor()`` of a ``dask.distributed.LocalCluster`` with 2 worker
  processes of 1 thread each (Dask's defaults; ``--no-dask-profile`` turns its statistical
  profiler off), started inside the clock (cold; closing it is not timed); Dask's workers are
  separate processes, so each imports and compiles once;
* ``dask-warm``: the same cluster started, and its workers warmed with
  ``client.run(gf.warm_worker)``, before the clock starts: how a user with a running cluster
  fits (each worker's one compile is still inside the clock).

Every dataset has the same structure (the ``compiles`` column: 1 for sequential and the forked
pool, one per worker process for Dask).  Target on 2 cores: pool and Dask at least 1.7x faster
than sequential.  ``speed-up`` is against ``sequential`` (cold), ``vs warm seq`` against
``sequential-warm``.  Every run uses one thread per fit (``cores=1``; ``fit_each`` limits BLAS
to one thread while fitting).

Run from the repository root::

    PYTHONPATH=. python benchmarks/fit_each.py            # N = 200
    PYTHONPATH=. python benchmarks/fit_each.py --n 40     # a quick run
    PYTHONPATH=. python benchmarks/fit_each.py --repeats 3  # the README table: medians

It prints a markdown table (with the machine's load average before each run, as the machine
may be shared, and the cores other processes used during each run, from ``/proc/stat`` less
this process tree's own CPU time) and writes ``benchmarks/results/fit_each.json``.  ``fit s``
and ``fit cpu s`` are the sums of the fits' own wall-clock and CPU times in the processes that
ran them (compiles included; more wall than CPU means the fits waited for a core).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from _common import markdown_table, timed, write_json

import graphfit as gf

COLUMNS = [
    "mode",
    "clock starts",
    "workers",
    "chunk",
    "fits",
    "failed",
    "compiles",
    "total s",
    "fit s",
    "fit cpu s",
    "s / fit",
    "speed-up",
    "vs warm seq",
    "load",
    "others' cores",
    "median centre error / sd",
]

CLOCK = {
    "sequential": "cold (imports, compile)",
    "sequential-warm": "warm process (compile)",
    "pool": "cold (imports, compile, worker start)",
    "pool-warm": "warm process (compile, worker start)",
    "dask": "cold (cluster start, imports, compiles)",
    "dask-warm": "warm workers (compiles)",
}


def factors(n: int, seed: int = 0) -> tuple[list[gf.AnalysisFactor], np.ndarray]:
    """N cookbook Gaussians with centres spread over 30-70 (one model object, priors per fit)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(30.0, 70.0, n)
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(0.0, 100.0)
    model.normalization = gf.LogUniformPrior(1e-2, 1e2)
    model.sigma = gf.GaussianPrior(10.0, 5.0, lower_limit=0.0)
    out = [
        gf.AnalysisFactor(
            model,
            gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(centre=c, seed=seed * 100_000 + k)),
            name=f"dataset_{k}",
        )
        for k, c in enumerate(centres)
    ]
    return out, centres


class CpuMeter:
    """CPU seconds the whole machine and this process tree (this process, its live and its
    finished child processes) used between ``start()`` and ``stop()``; the difference over the
    wall time is how many cores other users took during a run."""

    @staticmethod
    def machine() -> float:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal: busy = all but idle and iowait
        busy = sum(fields[:8]) - fields[3] - fields[4]
        return busy / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def ours() -> float:
        import resource

        import psutil

        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            total += usage.ru_utime + usage.ru_stime
        for child in psutil.Process().children(recursive=True):
            try:
                times = child.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def start(self) -> None:
        self.begin = (self.machine(), self.ours())

    def others(self, seconds: float) -> float:
        machine, ours = self.machine() - self.begin[0], self.ours() - self.begin[1]
        return max(machine - ours, 0.0) / seconds


def row(
    mode: str,
    workers: int,
    result_list,
    seconds: float,
    centres: np.ndarray,
    load: float,
    others: float,
) -> dict:
    errors = []
    for result, centre in zip(result_list, centres, strict=True):
        if getattr(result, "failed", False):
            continue
        samples = result.idata.posterior["centre"].values.ravel()
        errors.append(abs(np.median(samples) - centre) / samples.std())
    return {
        "mode": mode,
        "clock starts": CLOCK[mode],
        "workers": workers,
        "chunk": result_list.stats["chunksize"] if workers > 1 else "-",
        "fits": result_list.stats["fits"],
        "failed": result_list.stats["failed"],
        "compiles": result_list.compile_count,
        "total s": seconds,
        "fit s": result_list.stats["fit_seconds"],
        "fit cpu s": result_list.stats["fit_cpu_seconds"],
        "s / fit": seconds / len(result_list),
        "load": load,
        "others' cores": others,
        "median centre error / sd": float(np.median(errors)),
    }


def run_mode(mode: str, args, fits, search, centres) -> dict:
    """Run one mode in this (fresh) process and return its table row."""
    meter = CpuMeter()
    warm = mode.endswith("-warm")
    if warm and not mode.startswith("dask"):
        gf.warm_worker()  # imports (and PyTensor's C-module index) before the clock
    load = os.getloadavg()[0]  # 1-minute load average just before the run
    meter.start()
    if mode.startswith("sequential"):
        result_list, seconds = timed(lambda: gf.fit_each(fits, search, progressbar=args.progress))
        return row(mode, 1, result_list, seconds, centres, load, meter.others(seconds))
    if mode.startswith("pool"):
        result_list, seconds = timed(
            lambda: gf.fit_each(
                fits,
                search,
                executor=args.workers,
                progressbar=args.progress,
                chunksize=args.chunksize,
            )
        )
        return row(mode, args.workers, result_list, seconds, centres, load, meter.others(seconds))
    import dask
    from distributed import Client, LocalCluster

    # Dask's statistical profiler samples every worker thread each 10 ms (on by default)
    dask.config.set({"distributed.worker.profile.enabled": not args.no_dask_profile})

    def cluster():
        return LocalCluster(
            n_workers=args.workers, processes=True, threads_per_worker=1, dashboard_address=":0"
        )

    def fit_on(client):
        return gf.fit_each(
            fits,
            search,
            executor=client.get_executor(),
            progressbar=args.progress,
            chunksize=args.chunksize,
        )

    if not warm:
        opened = []

        def run_dask(opened=opened):
            started = cluster()
            opened.append(started)
            opened.append(Client(started))
            return fit_on(opened[-1])

        # the clock stops when fit_each returns; the cluster is closed after
        try:
            result_list, seconds = timed(run_dask)
            others = meter.others(seconds)
        finally:
            for item in reversed(opened):
                item.close()
    else:
        with cluster() as started, Client(started) as client:
            client.wait_for_workers(args.workers)
            client.run(gf.warm_worker)
            load = os.getloadavg()[0]
            meter.start()
            result_list, seconds = timed(lambda: fit_on(client))
            others = meter.others(seconds)  # before the cluster's processes exit
    return row(mode, args.workers, result_list, seconds, centres, load, others)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="number of datasets")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["sequential", "sequential-warm", "pool", "pool-warm", "dask", "dask-warm"],
        choices=CLOCK,
    )
    parser.add_argument("--chunksize", type=int, default=None, help="default: automatic")
    parser.add_argument(
        "--no-dask-profile", action="store_true", help="turn Dask's worker profiler off"
    )
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs of every mode (alternating); median shown"
    )
    parser.add_argument("--progress", action="store_true", help="show fit_each's progress bar")
    parser.add_argument("--single", choices=CLOCK, help=argparse.SUPPRESS)  # one mode, internal
    args = parser.parse_args()
    # workers started with spawn import graphfit from the repository root
    root = str(Path(__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    sys.path.insert(0, root)

    if args.single is not None:  # the child process that runs one mode
        fits, centres = factors(args.n)
        search = gf.NUTS(
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            cores=1,  # one thread per fit: the parallelism is across datasets
            sampler="nutpie",
            random_seed=args.seed,
            progressbar=False,
        )
        print("ROW " + json.dumps(run_mode(args.single, args, fits, search, centres)), flush=True)
        return
    runs = []
    for repeat in range(args.repeats):
        for mode in args.modes:
            # every mode in a fresh process: "cold" means nothing imported or compiled before;
            # with repeats, the modes alternate, so a slow spell of the machine hits them all
            command = [sys.executable, __file__, *sys.argv[1:], "--single", mode]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [line for line in done.stdout.splitlines() if line.startswith("ROW ")]
            if done.returncode != 0 or not lines:
                sys.stderr.write(done.stdout + done.stderr)
                raise SystemExit(f"mode {mode!r} failed (exit code {done.returncode})")
            runs.append({"repeat": repeat, **json.loads(lines[-1][4:])})
            print(markdown_table([runs[-1]], COLUMNS).splitlines()[-1], flush=True)
    rows = []
    for mode in args.modes:  # the run with the median total time of each mode
        mine = sorted((r for r in runs if r["mode"] == mode), key=lambda r: r["total s"])
        totals = ", ".join(f"{r['total s']:.1f}" for r in mine)
        rows.append({**mine[(len(mine) - 1) // 2], "runs s": totals})
    baselines = {r["mode"]: r["total s"] for r in rows if r["mode"].startswith("sequential")}
    for r in rows:
        for column, baseline in (("speed-up", "sequential"), ("vs warm seq", "sequential-warm")):
            seconds = baselines.get(baseline)
            r[column] = seconds / r["total s"] if seconds else float("nan")
    print()
    print(
        f"{args.n} datasets, NUTS nutpie {args.chains} chains x {args.draws} draws "
        f"(+{args.tune} tune), one thread per fit"
    )
    if args.repeats > 1:
        print(f"median of {args.repeats} runs of each mode (all runs' totals: 'runs s')")
    print(markdown_table(rows, [*COLUMNS, "runs s"] if args.repeats > 1 else COLUMNS))
    print(f"\nwrote {write_json('fit_each', rows, vars(args), extra={'runs': runs})}")


if __name__ == "__main__":
    main()

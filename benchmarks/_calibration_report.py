"""Statistics, tables, JSON and figures of the calibration benchmark (``calibration.py``).

Per fit, :func:`posterior_record` keeps what calibration needs of the posterior: each truth's
rank among ``L`` thinned draws, whether it lies in the central 50% and 90% intervals, a few
quantiles, per-chain medians and the convergence diagnostics.  :func:`summarise` turns the
records of all repeats into coverage with Clopper-Pearson bands, chi-square tests of the rank
histograms and counts of failed diagnostics; :func:`write` and :func:`draw_histograms` save them.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from _common import markdown_table, write_json

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "_static" / "calibration"
LEVELS = (0.5, 0.9)
BAND = 0.99  # binomial bands and intervals are 99%
RHAT_LIMIT, ESS_LIMIT = 1.01, 400  # graphfit's convergence checks
MIN_PER_BIN = 10  # rank histograms get as many bins (up to 20) as keep >= 10 expected per bin
SIDES = ("graphfit", "hand-written")


# ---------------------------------------------------------------------------------------------
# one fit
# ---------------------------------------------------------------------------------------------


def thinned_indices(total: int, size: int) -> np.ndarray:
    """``size`` indices spread evenly over ``total`` draws (chain after chain)."""
    if size > total:
        raise ValueError(f"cannot thin {total} draws to {size}")
    return np.round(np.linspace(0, total - 1, size)).astype(int)


def element_labels(name: str, size: int) -> list[str]:
    """``name`` for a scalar parameter, ``name[k]`` (dataset k) for a per-dataset one."""
    return [name] if size == 1 else [f"{name}[{k}]" for k in range(size)]


def posterior_record(idata: Any, truths: dict, parameters: tuple[str, ...], settings: dict) -> dict:
    """Ranks, interval coverage, quantiles and diagnostics of one fit's ``parameters``.

    The rank of a truth is the number of the ``settings["thin_to"]`` thinned draws below it
    (0 to L); a tie, which only a stuck chain can make, counts half at random.
    """
    import arviz as az

    posterior = idata.posterior
    rng = np.random.default_rng(0)
    elements: dict[str, dict] = {}
    for name in parameters:
        values = np.asarray(posterior[name].values, dtype=float)
        chains, draws = values.shape[:2]
        flat = values.reshape(chains * draws, -1)
        chain_values = values.reshape(chains, draws, -1)
        truth = np.asarray(truths[name], dtype=float).reshape(-1)
        rhat = np.asarray(az.rhat(posterior[[name]])[name].values, dtype=float).reshape(-1)
        ess = np.asarray(
            az.ess(posterior[[name]], method="bulk")[name].values, dtype=float
        ).reshape(-1)
        thin = flat[thinned_indices(chains * draws, settings["thin_to"])]
        for k, label in enumerate(element_labels(name, truth.size)):
            below = int(np.sum(thin[:, k] < truth[k]))
            ties = int(np.sum(thin[:, k] == truth[k]))
            rank = below + (int(rng.integers(ties + 1)) if ties else 0)
            q = np.quantile(flat[:, k], [0.05, 0.25, 0.5, 0.75, 0.95])
            elements[label] = {
                "truth": float(truth[k]),
                "rank": rank,
                "in50": bool(q[1] <= truth[k] <= q[3]),
                "in90": bool(q[0] <= truth[k] <= q[4]),
                "quantiles": q.tolist(),
                "mean": float(flat[:, k].mean()),
                "sd": float(flat[:, k].std()),
                "chain_medians": np.median(chain_values[:, :, k], axis=1).tolist(),
                "rhat": float(rhat[k]),
                "ess_bulk": float(ess[k]),
            }
    return {
        "elements": elements,
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "max_rhat": max(e["rhat"] for e in elements.values()),
        "min_ess_bulk": min(e["ess_bulk"] for e in elements.values()),
    }


def rounded(value: Any, digits: int = 6) -> Any:
    """``value`` with every float rounded to ``digits`` significant digits (smaller records)."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return value


def git_commit() -> str:
    """``git describe --always --dirty`` of the checkout, or ``"unknown"``."""
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    return done.stdout.strip() or "unknown"


# ---------------------------------------------------------------------------------------------
# statistics over repeats
# ---------------------------------------------------------------------------------------------


def clopper_pearson(hits: int, n: int, level: float = BAND) -> tuple[float, float]:
    """Exact (Clopper-Pearson) ``level`` interval of a binomial proportion."""
    from scipy import stats

    interval = stats.binomtest(hits, n).proportion_ci(confidence_level=level, method="exact")
    return float(interval.low), float(interval.high)


def rank_bins(n: int, ranks_count: int) -> int:
    """Number of histogram bins: the largest of 20, 10, 8, 5, 4, 2 that divides the ``L + 1``
    possible ranks and leaves at least 10 expected repeats per bin (else 2)."""
    for bins in (20, 10, 8, 5, 4):
        if ranks_count % bins == 0 and n / bins >= MIN_PER_BIN:
            return bins
    return 2


def rank_statistics(ranks: list[int], thin_to: int) -> dict[str, Any]:
    """Binned rank histogram, its chi-square p-value against uniform, and the 99% band of one
    bin's count under uniformity."""
    from scipy import stats

    n = len(ranks)
    bins = rank_bins(n, thin_to + 1)
    counts = np.bincount(np.asarray(ranks) * bins // (thin_to + 1), minlength=bins)
    low, high = stats.binom.interval(BAND, n, 1.0 / bins)
    return {
        "bins": bins,
        "counts": counts.tolist(),
        "chi2 p": float(stats.chisquare(counts).pvalue),
        "band": [float(low), float(high)],
    }


def usable(records: list[dict]) -> list[dict]:
    """The newest record of each (repeat, side), from the newest run settings in the file."""
    if not records:
        return []
    settings = records[-1]["settings"]
    latest: dict[tuple[int, str], dict] = {}
    for record in records:
        if record["settings"] == settings:
            latest[(record["repeat"], record["side"])] = record
    return [latest[key] for key in sorted(latest)]


def coverage_row(parameter: str, side: str, elements: list[dict], thin_to: int) -> dict:
    """Coverage and rank statistics of ``elements`` (one per repeat, or pooled)."""
    n = len(elements)
    row: dict[str, Any] = {"parameter": parameter, "side": side, "n": n}
    for level in LEVELS:
        key = f"in{round(level * 100)}"
        hits = sum(e[key] for e in elements)
        low, high = clopper_pearson(hits, n)
        row[f"{key}"] = hits / n
        row[f"{key} band"] = [low, high]
        row[f"{key} miss"] = not low <= level <= high
    row.update(rank_statistics([e["rank"] for e in elements], thin_to))
    row["r-hat fails"] = sum(e["rhat"] > RHAT_LIMIT for e in elements)
    return row


def diagnostics_row(side: str, records: list[dict], problem: str, spec: Any) -> dict:
    """Failed fits, divergences, R-hat and ESS failures and time of one side's fits, and where
    the problem defines it, how many fits were far off the truths (and how many of those
    passed the R-hat check: a wrong answer without a warning)."""
    fits = [r for r in records if "error" not in r]
    extra = {}
    if spec.far_off is not None:
        far = [r for r in fits if spec.far_off(problem, r)]
        extra = {
            "far off": len(far),
            "far off, r-hat ok": sum(r["max_rhat"] <= RHAT_LIMIT for r in far),
        }
    return {
        "side": side,
        "fits": len(fits),
        "errors": len(records) - len(fits),
        "with divergences": sum(r["divergences"] > 0 for r in fits),
        "divergences": sum(r["divergences"] for r in fits),
        "r-hat > 1.01": sum(r["max_rhat"] > RHAT_LIMIT for r in fits),
        "ess < 400": sum(r["min_ess_bulk"] < ESS_LIMIT for r in fits),
        "median s": float(np.median([r["seconds"] for r in fits])) if fits else float("nan"),
        **extra,
    }


def summarise_problem(records: list[dict], spec: Any, problem: str) -> dict:
    """Everything the tables and figures of one problem need."""
    records = usable(records)
    thin_to = records[0]["settings"]["thin_to"]
    by_side = {side: [r for r in records if r["side"] == side] for side in SIDES}
    fits = {side: [r for r in rs if "error" not in r] for side, rs in by_side.items()}
    repeats = {side: len(rs) for side, rs in fits.items()}
    rows = []
    for name in spec.parameters:
        labels = [label for label in _labels(fits) if label.split("[")[0] == name]
        for label in labels:
            for side in SIDES:
                elements = [r["elements"][label] for r in fits[side]]
                if elements:
                    row = coverage_row(label, side, elements, thin_to)
                    rows.append({**row, "pooled": False, "scalar": len(labels) == 1})
        if len(labels) > 1:
            for side in SIDES:
                elements = [r["elements"][label] for r in fits[side] for label in labels]
                if elements:
                    row = coverage_row(f"{name} (all {len(labels)})", side, elements, thin_to)
                    rows.append({**row, "pooled": True, "scalar": False})
    breakdown = []
    for name in spec.parameters:
        for side in SIDES:
            grouped: dict[str, list[dict]] = {}
            for record in fits[side]:
                for label, kind in spec.classes(problem, record).items():
                    if label.split("[")[0] == name:
                        grouped.setdefault(kind, []).append(record["elements"][label])
            for kind in (k for k in spec.class_order if k in grouped):
                row = coverage_row(name, side, grouped[kind], thin_to)
                breakdown.append({**row, "class": kind})
    requested = max((r.get("requested", 0) for r in records), default=0)
    complete = min(repeats.values())
    summary = {
        "label": spec.label,
        "datasets": spec.datasets,
        "requested repeats": requested,
        "repeats": repeats,
        "partial": complete < requested,
        "commits": sorted({r.get("commit", "unknown") for r in records}),
        "fit commands": sorted({r["command"] for r in records if "command" in r}),
        "settings": records[0]["settings"],
        "diagnostics": [diagnostics_row(side, by_side[side], problem, spec) for side in SIDES],
        "rows": rows,
        "breakdown": breakdown,
    }
    parametrizations = Counter(
        r["parametrization"] for r in fits["graphfit"] if "parametrization" in r
    )
    if parametrizations:
        summary["graphfit parametrizations"] = dict(parametrizations)
    return summary


def _labels(fits: dict[str, list[dict]]) -> list[str]:
    for records in fits.values():
        if records:
            return list(records[0]["elements"])
    return []


def summarise(records: dict[str, list[dict]], problems: dict[str, Any], command: str) -> dict:
    """The summary of every problem that has records, with date, command and machine."""
    import multiprocessing

    out = {
        problem: summarise_problem(rs, problems[problem], problem)
        for problem, rs in records.items()
        if usable(rs)
    }
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command,
        "cores": multiprocessing.cpu_count(),
        "versions": {
            package: version(package)
            for package in ("graphfit", "pymc", "pytensor", "nutpie", "arviz", "numpy")
        },
        "partial": any(p["partial"] for p in out.values()),
        "problems": out,
    }


# ---------------------------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------------------------


def _coverage(row: dict, key: str) -> str:
    low, high = row[f"{key} band"]
    flag = " (miss)" if row[f"{key} miss"] else ""
    return f"{row[key]:.3f} [{low:.2f}, {high:.2f}]{flag}"


COVERAGE_COLUMNS = [
    "parameter",
    "side",
    "n",
    "50% [99% CI]",
    "90% [99% CI]",
    "ranks p",
    "R-hat>1.01",
]
DIAGNOSTIC_COLUMNS = [
    "side",
    "fits",
    "errors",
    "with divergences",
    "divergences",
    "r-hat > 1.01",
    "ess < 400",
    "median s",
]


def coverage_table(rows: list[dict]) -> str:
    """Markdown table of coverage and rank uniformity."""
    table = [
        {
            "parameter": row["parameter"],
            "side": row["side"],
            "n": row["n"],
            "50% [99% CI]": _coverage(row, "in50"),
            "90% [99% CI]": _coverage(row, "in90"),
            "ranks p": f"{row['chi2 p']:.3g} ({row['bins']} bins)",
            "R-hat>1.01": row["r-hat fails"],
        }
        for row in rows
    ]
    return markdown_table(table, COVERAGE_COLUMNS)


def breakdown_table(rows: list[dict]) -> str:
    """Markdown table of coverage by class."""
    table = [
        {
            "parameter": row["parameter"],
            "class": row["class"],
            "side": row["side"],
            "n": row["n"],
            "50% [99% CI]": _coverage(row, "in50"),
            "90% [99% CI]": _coverage(row, "in90"),
            "ranks p": f"{row['chi2 p']:.3g} ({row['bins']} bins)",
        }
        for row in rows
    ]
    return markdown_table(table, ["parameter", "class", *COVERAGE_COLUMNS[1:-1]])


def tables_text(summary: dict) -> str:
    """Every problem's tables, as printed by the script."""
    parts = []
    for problem, data in summary["problems"].items():
        partial = " PARTIAL" if data["partial"] else ""
        parts.append(
            f"\n## {problem}: {data['label']} ({data['repeats']} repeats of "
            f"{data['requested repeats']} requested{partial})\n"
        )
        parts.append(coverage_table(data["rows"]))
        parts.append("")
        columns = DIAGNOSTIC_COLUMNS + [
            c for c in ("far off", "far off, r-hat ok") if c in data["diagnostics"][0]
        ]
        parts.append(markdown_table(data["diagnostics"], columns))
        parts.append("\nBy class:\n")
        parts.append(breakdown_table(data["breakdown"]))
        if "graphfit parametrizations" in data:
            parts.append(f"\ngraphfit's parametrisation: {data['graphfit parametrizations']}")
    return "\n".join(parts)


def write(summary: dict) -> Path:
    """``benchmarks/results/calibration.json``."""
    rows = [
        {"problem": problem, **row}
        for problem, data in summary["problems"].items()
        for row in data["rows"]
    ]
    extra = {k: v for k, v in summary.items() if k != "problems"}
    extra["problems"] = {
        problem: {k: v for k, v in data.items() if k != "rows"}
        for problem, data in summary["problems"].items()
    }
    settings = {
        "sampler": "nutpie",
        "draws": 1000,
        "tune": 1000,
        "chains": 4,
        "band": BAND,
        "band method": "Clopper-Pearson (exact binomial), per row; histogram band: binomial "
        "quantiles of one bin's count under uniform ranks",
        "rank test": "chi-square of the binned rank histogram against uniform",
    }
    return write_json("calibration", rows, settings, extra)


def draw_histograms(summary: dict, folder: Path = FIGURES) -> list[Path]:
    """One PNG per problem: a row per parameter (per-dataset ones pooled), graphfit and the
    hand-written model side by side, the 99% band of a uniform histogram shaded."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for problem, data in summary["problems"].items():
        names = [r["parameter"] for r in data["rows"] if r["side"] == SIDES[0]]
        names = [n for n in names if _shown(data["rows"], n)]
        figure, axes = plt.subplots(
            len(names),
            2,
            figsize=(7.5, 1.7 * len(names) + 0.6),
            squeeze=False,
            sharex=True,
            sharey="row",
        )
        for i, name in enumerate(names):
            for j, side in enumerate(SIDES):
                ax = axes[i, j]
                row = next(
                    (r for r in data["rows"] if r["parameter"] == name and r["side"] == side),
                    None,
                )
                if row is None:
                    ax.set_axis_off()
                    continue
                bins = row["bins"]
                edges = np.linspace(0.0, 1.0, bins + 1)
                ax.axhspan(*row["band"], color="0.85", lw=0)
                ax.axhline(row["n"] / bins, color="0.5", lw=0.8)
                ax.stairs(row["counts"], edges, fill=True, color="C0" if j == 0 else "C1")
                ax.set_xlim(0.0, 1.0)
                ax.set_title(
                    f"{side}: {name}  (90%: {row['in90']:.2f}, p = {row['chi2 p']:.2g})",
                    fontsize=8,
                )
                ax.tick_params(labelsize=7)
        for ax in axes[-1]:
            ax.set_xlabel("rank of the truth / (L + 1)", fontsize=8)
        partial = ", PARTIAL" if data["partial"] else ""
        figure.suptitle(
            f"{problem}: {data['label']} ({min(data['repeats'].values())} repeats{partial})",
            fontsize=9,
        )
        figure.tight_layout()
        path = folder / f"{problem}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        paths.append(path)
    return paths


def _shown(rows: list[dict], name: str) -> bool:
    """Scalars and pooled rows get a histogram; single elements of a pooled one do not."""
    row = next(r for r in rows if r["parameter"] == name)
    return row["pooled"] or row["scalar"]

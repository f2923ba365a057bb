"""The main job: the identical-datasets and relational cookbook fits, end to end, with a check.

Runs :mod:`identical_datasets` (one Gaussian model shared by three datasets) and
:mod:`relational_model` (``sigma = sigma_m * x + sigma_c`` across three datasets), which print
their models, results and diagnostics and save fit plots in ``examples/output/``.  Then checks
that every true value lies within 3 posterior standard deviations of the posterior mean and that
the convergence checks (R-hat, ESS, divergences) passed, and prints one ``PASS`` or ``FAIL`` line.

Run from the repository root::

    python examples/main.py

The exit code is 0 on PASS and 1 on FAIL.
"""

from __future__ import annotations

import sys
from pathlib import Path

import graphfit as gf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import identical_datasets
import relational_model

#: Largest accepted distance between posterior mean and truth, in posterior standard deviations.
MAX_SD = 3.0


def recovery_rows(
    result: gf.Result, truth: dict[str, float]
) -> list[tuple[str, float, float, float]]:
    """``(name, truth, posterior mean, posterior sd)`` of each parameter in ``truth``."""
    posterior = result.idata.posterior
    rows = []
    for name, value in truth.items():
        samples = posterior[name]
        rows.append((f"{result.name}: {name}", value, float(samples.mean()), float(samples.std())))
    return rows


def main() -> int:
    """Run both fits, print the recovery table and PASS/FAIL; return the exit code."""
    print("=== Identical datasets: one model fitted to three datasets ===\n")
    identical = identical_datasets.main()
    print("\n=== Relational model: sigma = sigma_m * x + sigma_c ===\n")
    relational = relational_model.main()

    rows = recovery_rows(identical[0], identical_datasets.TRUTH)
    rows += recovery_rows(relational[0], relational_model.TRUTH)
    for x, result in zip(relational_model.X_LIST, relational, strict=True):
        true_sigma = relational_model.TRUTH["sigma_m"] * x + relational_model.TRUTH["sigma_c"]
        rows += recovery_rows(result, {"gaussian.sigma": true_sigma})

    print(f"\n{'parameter':<36}{'truth':>10}{'mean':>12}{'sd':>10}{'|z|':>8}")
    failed = []
    for name, value, mean, sd in rows:
        z = abs(mean - value) / sd
        print(f"{name:<36}{value:>10.4f}{mean:>12.4f}{sd:>10.4f}{z:>8.2f}")
        if not z <= MAX_SD:
            failed.append(name)
    problems = [*identical.diagnostics.problems, *relational.diagnostics.problems]

    if failed or problems:
        reasons = [f"beyond {MAX_SD:g} sd: {', '.join(failed)}"] if failed else []
        print("FAIL:", "; ".join(reasons + problems))
        return 1
    print(
        f"PASS: all {len(rows)} recovered values lie within {MAX_SD:g} posterior sd of the truth "
        "and both fits passed the convergence checks"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

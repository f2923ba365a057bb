"""Aggregator benchmark: listing, filtering and loading among 1,000 finished fits.

One real fit (MAP on three cookbook datasets) is saved with graphfit's writer, then copied under
``--fits`` different names, path prefixes and identifiers (files hard-linked, each copy's
``graphfit.json`` rewritten), so every folder is a complete, loadable result.  It times building
``gf.Aggregator`` (reads one JSON per fit), filtering by name, a value query, the long parameter
table and loading one fit, with and without the model.

Run from the repository root::

    python benchmarks/aggregator.py --fits 1000

It prints a markdown table and writes ``benchmarks/results/aggregator.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from _common import markdown_table, timed, write_json

import graphfit as gf
from graphfit.io.layout import METADATA

COLUMNS = ["operation", "fits", "matched", "seconds"]


def graph() -> gf.FactorGraphModel:
    model = gf.Model(gf.ex.Gaussian)
    model.centre = gf.UniformPrior(0.0, 100.0)
    factors = [
        gf.AnalysisFactor(model, gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=s)))
        for s in range(3)
    ]
    return gf.FactorGraphModel(*factors)


def populate(root: Path, fits: int) -> Path:
    """Save one real fit, then ``fits - 1`` linked copies with their own labels."""
    g = graph()
    search = gf.MAP(random_seed=1, name="fit_0", path_prefix="batch_0", output_path=root)
    template = search.fit(model=g.global_prior_model, analysis=g).output_folder
    metadata = json.loads((template / METADATA).read_text())
    for k in range(1, fits):
        name, prefix = f"fit_{k % 10}", f"batch_{k // 100}"
        identifier = f"{k:016x}"
        folder = root / prefix / name / identifier
        shutil.copytree(template, folder, copy_function=os.link)
        (folder / METADATA).unlink()  # a hard link: replace, do not write through
        copy = {**metadata, "name": name, "path_prefix": prefix, "identifier": identifier}
        copy["parameters"] = {
            label: {**values, "median": values["median"] + k * 0.01}
            for label, values in metadata["parameters"].items()
        }
        (folder / METADATA).write_text(json.dumps(copy, indent=1))
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=1000)
    parser.add_argument("--root", default=None, help="folder to write into (default: a temp dir)")
    args = parser.parse_args()

    root = Path(args.root or tempfile.mkdtemp(prefix="graphfit-aggregator-"))
    try:
        _, seconds = timed(lambda: populate(root, args.fits))
        rows = [{"operation": "write (1 fit + linked copies)", "fits": args.fits,
                 "matched": args.fits, "seconds": seconds}]  # fmt: skip
        agg, seconds = timed(lambda: gf.Aggregator(root))
        assert len(agg) == args.fits, (len(agg), agg.skipped)
        rows.append(
            {"operation": "list (Aggregator(root))", "matched": len(agg), "seconds": seconds}
        )
        subset, seconds = timed(lambda: agg.filter(name="fit_3"))
        rows.append(
            {"operation": "filter(name='fit_3')", "matched": len(subset), "seconds": seconds}
        )
        subset, seconds = timed(lambda: agg.query("centre_median > 55"))
        rows.append(
            {"operation": "query('centre_median > 55')", "matched": len(subset), "seconds": seconds}
        )
        table, seconds = timed(lambda: agg.parameters)
        rows.append({"operation": "parameters (long table)", "matched": len(table),
                     "seconds": seconds})  # fmt: skip
        _, seconds = timed(lambda: agg.load(500)[1].idata)
        rows.append({"operation": "load(500) + one dataset's idata", "matched": 1,
                     "seconds": seconds})  # fmt: skip
        _, seconds = timed(lambda: agg.load(0, model=graph())[1].median_pdf_instance)
        rows.append({"operation": "load(0, model=graph) + instance", "matched": 1,
                     "seconds": seconds})  # fmt: skip
        for row in rows:
            row.setdefault("fits", args.fits)
    finally:
        if args.root is None:
            shutil.rmtree(root, ignore_errors=True)
    print(markdown_table(rows, COLUMNS))
    path = write_json("aggregator", rows, {"fits": args.fits, "datasets_per_fit": 3})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()

"""Keep a mutmut run's verdicts in the repository, so that a run longer than one machine's
life can be continued on another (see docs/guides/testing.md, "Mutation testing").

mutmut keeps its verdicts in ``mutants/`` (ignored by git): one ``<source>.meta`` JSON file per
mutated module, holding each mutant's exit code (``exit_code_by_key``: 0 survived, 1 killed,
33 no test reaches it, ``null`` not checked yet, ...) and a hash of each mutated function
(``hash_by_function_name``).  When ``mutmut run`` builds its mutants it keeps the verdicts
of a ``.meta`` file it finds for every function whose hash is unchanged, and checks the rest
again.  So:

``python benchmarks/mutation_state.py save``
    writes the verdicts and hashes of ``mutants/`` to ``benchmarks/results/mutation_state.json``
    with each status counted;
``python benchmarks/mutation_state.py restore``
    writes them back as ``mutants/<source>.meta`` files (nothing else), before
    ``mutmut run --max-children 1`` continues the run: a function changed since the save is
    checked again, and the mutants already judged are not; with ``--recheck-untested`` the
    mutants that no test reached are checked again too, for a run whose test selection grew.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import platform
import sys
from pathlib import Path

from _common import RESULTS

MUTANTS = Path(__file__).resolve().parents[1] / "mutants"
STATE = RESULTS / "mutation_state.json"
#: mutmut's exit code of a check stopped by the user: no verdict, so checked again.
INTERRUPTED = 2
#: mutmut's code of a mutant that no test in the selection reached.
NO_TESTS = 33


def _status(code: int | None) -> str:
    from mutmut.stats import status_by_exit_code  # mutmut's own names, as `mutmut results`

    return str(status_by_exit_code[code])


def save(path: Path = STATE) -> dict:
    """The verdicts of every ``mutants/**/*.meta`` file, written to ``path``; returns them."""
    files = {}
    for meta in sorted(MUTANTS.glob("**/*.py.meta")):
        data = json.loads(meta.read_text())
        source = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
        files[source] = {
            "hash_by_function_name": data["hash_by_function_name"],
            "exit_code_by_key": data["exit_code_by_key"],
        }
    if not files:
        sys.exit(f"no mutmut verdicts under {MUTANTS}/: run `mutmut run` first")
    counts = collections.Counter(
        _status(code) for entry in files.values() for code in entry["exit_code_by_key"].values()
    )
    from importlib.metadata import version

    state = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "tool": f"mutmut {version('mutmut')}",
        "command": "mutmut run --max-children 1 (configuration: [tool.mutmut] in pyproject.toml)",
        "counts": dict(sorted(counts.items())),
        "files": files,
    }
    path.write_text(json.dumps(state, indent=1) + "\n")
    return state


def restore(path: Path = STATE, recheck_untested: bool = False) -> int:
    """Write the verdicts saved in ``path`` back as ``mutants/<source>.meta``; returns how many
    mutants have a verdict.

    With ``recheck_untested`` the mutants that no test reached lose their verdict, so that a run
    with a larger test selection checks them (mutmut keeps a "no tests" verdict otherwise).
    """
    state = json.loads(path.read_text())
    dropped = {INTERRUPTED, NO_TESTS} if recheck_untested else {INTERRUPTED}
    judged = 0
    for source, entry in state["files"].items():
        meta = MUTANTS / f"{source}.meta"
        meta.parent.mkdir(parents=True, exist_ok=True)
        codes = {
            key: None if code in dropped else code
            for key, code in entry["exit_code_by_key"].items()
        }
        judged += sum(code is not None for code in codes.values())
        meta.write_text(
            json.dumps(
                {
                    "exit_code_by_key": codes,
                    "hash_by_function_name": entry["hash_by_function_name"],
                    "type_check_error_by_key": {},
                    "durations_by_key": {},
                    "estimated_durations_by_key": {},
                },
                indent=2,
            )
        )
    return judged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["save", "restore"])
    parser.add_argument("--file", type=Path, default=STATE)
    parser.add_argument(
        "--recheck-untested",
        action="store_true",
        help="restore: drop the 'no tests' verdicts, for a run with a larger test selection",
    )
    args = parser.parse_args()
    if args.action == "save":
        state = save(args.file)
        print(json.dumps(state["counts"], indent=1))
    else:
        judged = restore(args.file, recheck_untested=args.recheck_untested)
        print(f"{judged} mutants keep their verdict; run `mutmut run` to go on")


if __name__ == "__main__":
    main()

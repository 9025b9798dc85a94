"""Mutation testing of the delivery and ingest modules where a bug hurts readers most (mutmut).

    pip install -e '.[dev,mutation]'
    python -m bench.mutation [--fresh] [--max-children 2] [bot/delivery/window.py ...]

On demand only: CI neither installs mutmut nor runs this.  The modules and test files are in
pyproject.toml ``[tool.mutmut]``; without arguments every listed module is mutated, otherwise
only those named.  mutmut works in ``mutants/`` and keeps earlier verdicts there (``--fresh``
starts over).  Prints one Markdown row per module: killed, survived, timeout, no tests (no
selected test reaches the function), not checked, other (suspicious, segfault), total and the
survival rate (survived over killed + survived + timeout); then the survivors' names for
``mutmut show <name>``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# mutmut's own exit-code → verdict table (mutmut/stats.py), restricted to what we report.
KILLED = {1, 3, 37}
SURVIVED = {0}
TIMEOUT = {36, 24, -24, 152, 255}
NO_TESTS = {5, 33}
COLUMNS = ("killed", "survived", "timeout", "no tests", "not checked", "other")


def configured_modules() -> list[str]:
    """The modules pyproject.toml lets mutmut mutate."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    modules = data["tool"]["mutmut"]["only_mutate"]
    assert isinstance(modules, list)
    return [str(m) for m in modules]


def mutant_glob(module: str) -> str:
    """The mutmut name glob of every mutant in ``module`` (``bot/x/y.py`` → ``bot.x.y.*``)."""
    return module.removesuffix(".py").replace("/", ".") + ".*"


def verdicts(module: str) -> dict[str, int | None]:
    """Mutant name → exit code, as mutmut recorded them for ``module``."""
    meta = ROOT / "mutants" / (module + ".meta")
    if not meta.exists():
        return {}
    data = json.loads(meta.read_text("utf-8"))
    codes = data["exit_code_by_key"]
    assert isinstance(codes, dict)
    return codes


def tally(codes: dict[str, int | None]) -> Counter[str]:
    """Counts of one module's verdicts by kind (``COLUMNS``)."""
    counts: Counter[str] = Counter()
    for code in codes.values():
        if code in KILLED:
            counts["killed"] += 1
        elif code in SURVIVED:
            counts["survived"] += 1
        elif code in TIMEOUT:
            counts["timeout"] += 1
        elif code in NO_TESTS:
            counts["no tests"] += 1
        elif code is None:
            counts["not checked"] += 1
        else:
            counts["other"] += 1
    return counts


def print_report(modules: list[str]) -> None:
    """One Markdown row per module and a total, then the survivors."""
    print(
        "\n| module | " + " | ".join(COLUMNS) + " | total | survival |\n"
        "|---|" + "---|" * (len(COLUMNS) + 2)
    )
    overall: Counter[str] = Counter()
    survivors: list[str] = []
    for module in modules:
        codes = verdicts(module)
        counts = tally(codes)
        overall.update(counts)
        survivors += sorted(name for name, code in codes.items() if code in SURVIVED)
        print(_row(module, counts, len(codes)))
    print(_row("**all**", overall, sum(overall.values())))
    print("\nsurvivors:")
    for name in survivors:
        print(" ", name)


def _row(label: str, counts: Counter[str], total: int) -> str:
    # Of the mutants tests ran against: a mutant no test reaches is counted apart.
    checked = counts["killed"] + counts["survived"] + counts["timeout"]
    rate = f"{100 * counts['survived'] / checked:.1f} %" if checked else "—"
    cells = [counts[k] for k in COLUMNS]
    return f"| {label} | " + " | ".join(str(c) for c in cells) + f" | {total} | {rate} |"


def main(argv: list[str] | None = None) -> None:
    """Run mutmut over the chosen modules and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths from [tool.mutmut] only_mutate")
    parser.add_argument("--fresh", action="store_true", help="forget earlier verdicts")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--report-only", action="store_true", help="print the last verdicts")
    args = parser.parse_args(argv)

    known = configured_modules()
    unknown = [m for m in args.modules if m not in known]
    if unknown:
        parser.error(f"not in [tool.mutmut] only_mutate: {', '.join(unknown)}")
    modules = args.modules or known
    mutmut = Path(sys.executable).parent / "mutmut"
    if not mutmut.exists():
        parser.error("mutmut is not installed: pip install -e '.[dev,mutation]'")

    if not args.report_only:
        if args.fresh:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        started = time.monotonic()
        command = [str(mutmut), "run", "--max-children", str(args.max_children)]
        # mutmut's exit status says nothing about survivors; the table below does.
        subprocess.run([*command, *map(mutant_glob, modules)], cwd=ROOT, check=False)
        print(f"\nmutmut run: {time.monotonic() - started:.0f} s")
    print_report(modules)


if __name__ == "__main__":
    main()

"""Every benchmark's headline in one shape, and `make bench`: run them all, then one table.

Each benchmark ends its report with one line per figure it is judged by:

    BENCH-SUMMARY {"bench": ..., "figure": ..., "unit": "s", "floor": ..., "ratio": ...,
                   "goal": ..., "goal_ratio": ..., "met": ..., "load": [1 min, 5 min, 15 min]}

`figure` is what the benchmark measures (lower is better), `floor` the least any
implementation must do with the same input, measured beside it in the same run, `ratio` their
quotient (steadier than the figure on a shared machine), `goal` and `goal_ratio` the targets
(either may be null), `load` the load average when the benchmark started. A benchmark that
could not run prints the line with `skipped` and the reason.

Run:
    make bench                       # every benchmark, then the table
    python bench/summary.py          # the same
    python bench/summary.py --only ledger_load.py consolidate.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

MARKER = "BENCH-SUMMARY "
BENCH = Path(__file__).resolve().parent
# In the order `make bench` runs them, with the arguments it gives.
BENCHMARKS = (
    ("ledger_load.py",),
    ("consolidate.py",),
    ("build_example.py", "--example", "luzhou-2020"),
    ("build_example.py", "--example", "shanghai-putuo-shgzb-2024"),
    ("audit.py",),
    ("web_load.py",),
    ("payroll.py", "--skip-without-postgres"),
)
# The load when this benchmark's process started, before it added its own.
LOAD_AT_START = [round(x, 2) for x in os.getloadavg()]


def summary_line(
    bench: str,
    figure: float,
    unit: str,
    floor: float | None,
    goal: float | None,
    goal_ratio: float | None = None,
    *,
    what: str = "",
    floor_what: str = "",
) -> str:
    """The one line `make bench` collects: the figure, its floor, their ratio and the goals."""
    ratio = round(figure / floor, 2) if floor else None
    met = (goal is None or figure < goal) and (
        goal_ratio is None or (ratio is not None and ratio <= goal_ratio)
    )
    record = {
        "bench": bench,
        "what": what,
        "figure": figure,
        "unit": unit,
        "floor": floor,
        "floor_what": floor_what,
        "ratio": ratio,
        "goal": goal,
        "goal_ratio": goal_ratio,
        "met": met,
        "load": LOAD_AT_START,
    }
    return MARKER + json.dumps(record, ensure_ascii=False)


def skipped_line(bench: str, reason: str) -> str:
    return MARKER + json.dumps(
        {"bench": bench, "skipped": reason, "load": LOAD_AT_START}, ensure_ascii=False
    )


def collect(output: str) -> list[dict]:
    return [
        json.loads(line[len(MARKER) :]) for line in output.splitlines() if line.startswith(MARKER)
    ]


def table(records: list[dict]) -> str:
    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.3g}"

    header = ("benchmark", "figure", "floor", "ratio", "goal", "met", "load at start")
    rows = [header]
    for r in records:
        load = " ".join(f"{x:.2f}" for x in r.get("load", []))
        if "skipped" in r:
            rows.append((r["bench"], "skipped: " + r["skipped"], "", "", "", "", load))
            continue
        goals = [f"< {number(r['goal'])} {r['unit']}"] if r["goal"] is not None else []
        goals += [f"ratio ≤ {number(r['goal_ratio'])}"] if r["goal_ratio"] is not None else []
        rows.append(
            (
                r["bench"],
                f"{number(r['figure'])} {r['unit']}",
                "-" if r["floor"] is None else f"{number(r['floor'])} {r['unit']}",
                number(r["ratio"]),
                ", ".join(goals) or "-",
                "yes" if r["met"] else "NO",
                load,
            )
        )
    widths = [max(len(row[i]) for row in rows if len(row) > i) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    floors = [f"  {r['bench']}: floor = {r['floor_what']}" for r in records if r.get("floor_what")]
    return "\n".join([*lines, "", *floors])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", nargs="+", metavar="SCRIPT", help="run only these benchmarks")
    args = parser.parse_args(argv)
    records: list[dict] = []
    failed = []
    for script, *extra in BENCHMARKS:
        if args.only and script not in args.only:
            continue
        print(f"\n== {script} {' '.join(extra)}".rstrip(), flush=True)
        child = subprocess.run(
            [sys.executable, str(BENCH / script), *extra],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        print(child.stdout, end="", flush=True)
        found = collect(child.stdout)
        if child.returncode != 0 or not found:
            failed.append(f"{script} (exit {child.returncode}, {len(found)} summary lines)")
        records.extend(found)
    print("\n== summary (figure and floor measured in the same run; lower is better)")
    print(table(records))
    for failure in failed:
        print(f"FAILED: {failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: build the example's whole disclosure package, as `juesuan build` does.

What it measures: `juesuan build examples/luzhou-2020 -o <tmp>` as a fresh process (wall time,
imports included), after one untimed warm-up run that builds matplotlib's font cache; and, inside
one process, how long each step takes: load, prepare (statements, rules, narrative, text check)
and write (tables, figures, docx, pdf, html, checks, manifest, zip).

Floor: a fresh process that only reads the example (`load`, imports included): what any build
from this dataset pays before it computes or writes anything.

Target (printed beside the figure, not asserted): under 2 s wall on 2 cores.

Run:
    make bench
    python bench/build_example.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from summary import summary_line

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "luzhou-2020"
TARGET_SECONDS = 2.0
FLOOR_SCRIPT = "import sys; from juesuan.ledger.load import load; load(sys.argv[1])"


def wall(*args: str) -> float:
    """Wall time of a fresh Python process with these arguments."""
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def command_wall(out: Path) -> float:
    return wall("-m", "juesuan.cli", "build", str(EXAMPLE), "-o", str(out))


def steps(out: Path) -> dict[str, float]:
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare, write_package

    times = {}
    started = time.perf_counter()
    dataset, _ = load(EXAMPLE)
    times["load"] = time.perf_counter() - started
    started = time.perf_counter()
    prepared = prepare(dataset)
    times["prepare (tables, rules, narrative, text check)"] = time.perf_counter() - started
    started = time.perf_counter()
    write_package(prepared, out)
    times["write (xlsx, figures, docx, pdf, html, zip)"] = time.perf_counter() - started
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3, help="timed fresh-process builds")
    parser.add_argument(
        "--no-warmup", dest="warmup", action="store_false", help="no untimed build first"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        if args.warmup:
            command_wall(Path(folder) / "warm-up")  # builds matplotlib's font cache once
        walls = [command_wall(Path(folder) / f"run{i}") for i in range(args.runs)]
        floor = min(wall("-c", FLOOR_SCRIPT, str(EXAMPLE)) for _ in range(args.runs))
        detail = steps(Path(folder) / "steps")
    best = min(walls)
    print(f"build_example: juesuan build {EXAMPLE.relative_to(ROOT)} ({os.cpu_count()} cores)")
    print(f"  wall, fresh process ({len(walls)} runs)   {', '.join(f'{w:.2f}' for w in walls)} s")
    verdict = "ok" if best < TARGET_SECONDS else "MISSED"
    print(
        f"  best                           {best:.2f} s   target < {TARGET_SECONDS:.0f} s: {verdict}"
    )
    print(f"  floor: read only, fresh process     {floor:.2f} s   ratio {best / floor:.2f}")
    print("  in one process:")
    for step, seconds in detail.items():
        print(f"    {step:<46} {seconds:.2f} s")
    print(
        summary_line(
            "build_example",
            best,
            "s",
            floor,
            TARGET_SECONDS,
            what="juesuan build of the example, fresh process, best run",
            floor_what="a fresh process that only reads the example",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

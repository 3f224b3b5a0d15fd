"""Benchmark: build an example's whole disclosure package, as `juesuan build` does.

What it measures: `juesuan build examples/<example> -o <tmp>` as a fresh process (wall time,
imports included), after one untimed warm-up run that builds matplotlib's font cache; and, inside
one process, how long each step takes: load, prepare (statements, rules, narrative, text check)
and write (tables, figures, docx, pdf, html, checks, manifest, zip).

Floor: a fresh process that only reads the example (`load`, imports included): what any build
from this dataset pays before it computes or writes anything.

Target (printed beside the figure, not asserted): under 2 s wall on 2 cores, for each bundled
example (luzhou-2020 in sichuan-2020, shanghai-putuo-shgzb-2024 in shanghai-2024): one unit's
whole package while the user waits.

Run:
    make bench                                   # both examples
    python bench/build_example.py                # luzhou-2020
    python bench/build_example.py --example shanghai-putuo-shgzb-2024
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from summary import LOAD_AT_START, summary_line

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TARGET_SECONDS = 2.0
FLOOR_SCRIPT = "import sys; from juesuan.ledger.load import load; load(sys.argv[1])"


CPU: list[float] = []  # CPU seconds (user + system, its children included) of each `wall` run


def wall(*args: str) -> float:
    """Wall time of a fresh Python process with these arguments; its CPU time goes to CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed


def command_wall(example: Path, out: Path) -> float:
    return wall("-m", "juesuan.cli", "build", str(example), "-o", str(out))


def steps(example: Path, out: Path) -> dict[str, float]:
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare, write_package

    times = {}
    started = time.perf_counter()
    dataset, _ = load(example)
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
    parser.add_argument(
        "--example",
        default="luzhou-2020",
        choices=sorted(p.name for p in EXAMPLES.iterdir() if (p / "unit.toml").exists()),
        help="the bundled example to build (a folder of examples/)",
    )
    parser.add_argument("--runs", type=int, default=3, help="timed fresh-process builds")
    parser.add_argument(
        "--no-warmup", dest="warmup", action="store_false", help="no untimed build first"
    )
    args = parser.parse_args(argv)
    example = EXAMPLES / args.example
    with tempfile.TemporaryDirectory() as folder:
        if args.warmup:
            command_wall(example, Path(folder) / "warm-up")  # builds matplotlib's font cache once
        walls = [command_wall(example, Path(folder) / f"run{i}") for i in range(args.runs)]
        cpu = min(CPU[-args.runs :])
        floor = min(wall("-c", FLOOR_SCRIPT, str(example)) for _ in range(args.runs))
        detail = steps(example, Path(folder) / "steps")
    best = min(walls)
    load_now = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"build_example: juesuan build {example.relative_to(ROOT)} ({os.cpu_count()} cores)")
    load_start = " ".join(f"{x:.2f}" for x in LOAD_AT_START)
    print(f"  load average at start / now        {load_start} / {load_now}")
    print(f"  wall, fresh process ({len(walls)} runs)   {', '.join(f'{w:.2f}' for w in walls)} s")
    verdict = "ok" if best < TARGET_SECONDS else "MISSED"
    print(
        f"  best                           {best:.2f} s   target < {TARGET_SECONDS:.0f} s: {verdict}"
    )
    print(f"  floor: read only, fresh process     {floor:.2f} s   ratio {best / floor:.2f}")
    # Steadier than wall time on a shared machine; more than wall when the build uses both cores.
    print(f"  CPU of the build, least of the runs  {cpu:.2f} s (user + system, all processes)")
    print("  in one process:")
    for step, seconds in detail.items():
        print(f"    {step:<46} {seconds:.2f} s")
    print(
        summary_line(
            f"build_example ({args.example})",
            best,
            "s",
            floor,
            TARGET_SECONDS,
            what=f"juesuan build of examples/{args.example}, fresh process, best run",
            floor_what="a fresh process that only reads the example",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

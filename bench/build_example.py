"""Benchmark: build an example's whole disclosure package, as `juesuan build` does.

What it measures: `juesuan build examples/<example> -o <tmp>` as a fresh process (wall time,
imports included), after one untimed warm-up run that builds matplotlib's font cache; and, inside
one process, how long each step takes: load, prepare (statements, rules, narrative, text check)
and write (tables, figures, docx, pdf, html, checks, manifest, zip).

Timeline: one more fresh-process build, traced: each step's start and end (seconds since the
command started) and its CPU seconds, in the parent (P), on its PDF thread, and in the forked
drawer (D) and its helper (H); each process's total CPU at its end. The critical path is read
from it: the figures wait for the later of the drawer's imports and the parent's prepare, the
documents for the figures. Steps are traced by wrapping the functions named in TRACED (and the
modules of LATER as they are imported, with their import's cost), so the build runs unchanged.

Floor: a fresh process that only reads the example (`load`, imports included): what any build
from this dataset pays before it computes or writes anything.

Target (printed beside the figure, not asserted): under 2 s wall on 2 cores, for each bundled
example (luzhou-2020 in sichuan-2020, shanghai-putuo-shgzb-2024 in shanghai-2024): one unit's
whole package while the user waits.

Run:
    make bench                                   # both examples
    python bench/build_example.py                # luzhou-2020
    python bench/build_example.py --example shanghai-putuo-shgzb-2024
    python bench/build_example.py --timeline-only  # the traced build alone
"""

from __future__ import annotations

import argparse
import functools
import importlib.abc
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
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


# (module, functions) wrapped before the build runs; LATER's modules are wrapped as imported.
TRACED = (("juesuan.charts", ("ready_to_draw", "draw_figures", "require_chart_glyphs")),)
LATER = {
    "juesuan.ledger.load": ("load",),
    "juesuan.publish.package": (
        "prepare",
        "build",
        "evaluate",
        "evaluate_performance",
        "collect",
        "assemble",
        "check_text",
        "write_package",
        "checks_json",
        "font_records",
    ),
    "juesuan.publish.tables_xlsx": ("write_tables",),
    "juesuan.publish.docx": ("write_docx",),
    "juesuan.publish.html": ("write_html",),
    "juesuan.publish.pdf": ("write_pdf",),
    "juesuan.charts.draw": (),
}


def traced_build(example: str, out: str, log: str) -> int:
    """`juesuan build example -o out` with its steps appended to `log`, one JSON line each."""
    started = time.time()
    main_pid = os.getpid()

    def emit(step: str, start: float, cpu: float) -> None:
        record = {
            "pid": os.getpid(),
            "thread": threading.current_thread().name,
            "step": step,
            "start": start - started,
            "end": time.time() - started,
            "cpu": cpu,
        }
        with open(log, "a", encoding="utf-8") as handle:  # one write: whole lines from each
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def timed(step: str, run):
        start, cpu = time.time(), time.thread_time()
        try:
            return run()
        finally:
            emit(step, start, time.thread_time() - cpu)

    def wrap(module, name: str) -> None:
        function = getattr(module, name)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            return timed(name, lambda: function(*args, **kwargs))

        setattr(module, name, wrapper)

    class Wrapping(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name not in LATER:
                return None
            sys.meta_path.remove(self)
            try:
                spec = importlib.util.find_spec(name)
            finally:
                sys.meta_path.insert(0, self)
            execute = spec.loader.exec_module

            def exec_module(module):
                timed(f"import {name}", lambda: execute(module))
                for function in LATER[name]:
                    wrap(module, function)

            spec.loader.exec_module = exec_module
            return spec

    def total() -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        emit("process total", started, usage.ru_utime + usage.ru_stime)

    sys.meta_path.insert(0, Wrapping())
    cli = timed("import juesuan.cli", lambda: importlib.import_module("juesuan.cli"))
    for module, names in TRACED:
        for name in names:
            wrap(importlib.import_module(module), name)
    forked = importlib.import_module("juesuan.charts.forked")
    serve = forked._serve

    def serve_and_total(*args):  # a forked child leaves by os._exit: no atexit
        try:
            serve(*args)
        finally:
            total()

    forked._serve = serve_and_total
    try:
        return cli.main(["build", example, "-o", out])
    finally:
        if os.getpid() == main_pid:
            total()


def timeline(example: Path, out: Path) -> list[str]:
    """The traced build's steps as lines, by start; each process's total CPU; the parent's
    wait for the figures."""
    log = out.with_suffix(".jsonl")
    subprocess.run(
        [sys.executable, __file__, "--traced-build", str(example), str(out), str(log)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    steps = sorted((r for r in records if r["step"] != "process total"), key=lambda r: r["start"])
    names = dict(zip(dict.fromkeys(r["pid"] for r in steps), ("P", "D", "H"), strict=False))
    lines = [f"    {'who':<6} {'start':>6} {'end':>6} {'CPU':>6}  step"]
    for r in steps:
        who = names.get(r["pid"], "?") + ("" if r["thread"] == "MainThread" else "/t")
        lines.append(f"    {who:<6} {r['start']:6.2f} {r['end']:6.2f} {r['cpu']:6.2f}  {r['step']}")
    for r in records:
        if r["step"] == "process total":
            who = names.get(r["pid"], "?")
            lines.append(f"    {who:<6} {'':>6} {r['end']:6.2f} {r['cpu']:6.2f}  process total")
    return lines


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
    parser.add_argument(
        "--timeline-only", action="store_true", help="only the traced build's timeline"
    )
    parser.add_argument("--traced-build", nargs=3, help=argparse.SUPPRESS)  # the traced process
    args = parser.parse_args(argv)
    if args.traced_build:
        return traced_build(*args.traced_build)
    example = EXAMPLES / args.example
    if args.timeline_only:
        with tempfile.TemporaryDirectory() as folder:
            print(f"timeline of juesuan build {example.relative_to(ROOT)} (seconds):")
            print("\n".join(timeline(example, Path(folder) / "traced")))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        if args.warmup:
            command_wall(example, Path(folder) / "warm-up")  # builds matplotlib's font cache once
        walls = [command_wall(example, Path(folder) / f"run{i}") for i in range(args.runs)]
        cpu = min(CPU[-args.runs :])
        floor = min(wall("-c", FLOOR_SCRIPT, str(example)) for _ in range(args.runs))
        detail = steps(example, Path(folder) / "steps")
        traced = timeline(example, Path(folder) / "traced")
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
    print("  timeline of one more build (P parent, D drawer, H its helper; /t a thread):")
    print("\n".join(traced))
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

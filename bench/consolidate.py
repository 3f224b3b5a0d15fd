"""Benchmark: consolidate 5,000 unit datasets (about 1,000,000 lines) and compute every table.

What it measures, on datasets built in memory (generation is not timed):

* consolidate -- `juesuan.consolidate.consolidate(datasets)`: merge the units' ledgers and facts
                 and offset the transfers between them;
* tables      -- `juesuan.statements.build.build(merged, FORMAT)`: all tables of the format
                 (14 for sichuan-2020), with 舍位平衡;
* floor       -- the least any implementation must do with the same lines: one polars concat of
                 the units' frames and one group-by over the tags the tables use, run lazily as
                 the tables' group-by is, so that it reads only those tags and the amounts (run
                 eagerly, its best was 0.20 CPU-s against 0.15: an eager group-by first makes
                 every column of a frame in several chunks contiguous, notes and sources too).
                 The ratio ours / floor says how much the table machinery costs over reading
                 the data.

Each is also measured in CPU time (all threads of the process): on a shared machine the wall
figures follow the other processes' load, the CPU figures and their ratio much less so.

Targets (printed beside the figures, not asserted): consolidate + tables under 15 s on 2 cores,
ratio ours / floor at most 2.

Run:
    make bench                                   # runs this after bench/ledger_load.py
    python bench/consolidate.py --units 500      # a smaller size
    python bench/consolidate.py --json           # one JSON line
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from decimal import Decimal

import polars as pl

from juesuan.codes import economic_codes, function_codes
from juesuan.consolidate import consolidate
from juesuan.ledger.issues import Source
from juesuan.ledger.model import SCHEMA, Dataset, Ledger, ThreePublic, Unit
from juesuan.statements.build import build
from summary import summary_line

YEAR = 2020
FORMAT = "sichuan-2020"
GENERAL = "一般公共预算财政拨款"
TARGET_SECONDS = 15.0
TARGET_RATIO = 2.0


def codes() -> tuple[list[str], list[str], list[str]]:
    functions = [c.code for c in function_codes(YEAR) if c.level == "项"]
    economic = [c.code for c in economic_codes(YEAR) if c.level == "款"]
    personnel = [c for c in economic if c[:3] in ("301", "303")]
    public = [c for c in economic if c[:3] == "302"]
    return functions, personnel, public


def make_unit(index: int, lines: int, rng: random.Random, pools) -> Dataset:
    """One unit: spending lines on random codes and the income that funds them, all in 分."""
    functions, personnel, public = pools
    name = f"单位{index:05d}"
    rows = []
    income: dict[str, int] = {}
    for n in range(lines - len(functions) // 4):
        function = functions[rng.randrange(len(functions))]
        nature = ("人员经费", "公用经费", "项目支出")[n % 3]
        pool = personnel if nature == "人员经费" else public
        economic = pool[rng.randrange(len(pool))]
        fen = rng.randrange(1_000, 10_000_000)
        rows.append(
            (
                "支出",
                GENERAL,
                function,
                economic,
                nature,
                "专项" if nature == "项目支出" else None,
                fen,
                n,
            )
        )
        income[function] = income.get(function, 0) + fen
    for n, (function, fen) in enumerate(sorted(income.items())):
        rows.append(("收入", GENERAL, function, None, None, None, fen, lines + n))
    frame = pl.DataFrame(
        {
            "unit": [name] * len(rows),
            "year": [YEAR] * len(rows),
            "direction": [r[0] for r in rows],
            "phase": ["决算"] * len(rows),
            "fund": [r[1] for r in rows],
            "function_code": [r[2] for r in rows],
            "economic_code": [r[3] for r in rows],
            "nature": [r[4] for r in rows],
            "project": [r[5] for r in rows],
            "amount_fen": [r[6] for r in rows],
            "note": [None] * len(rows),
            "file": ["spending.csv"] * len(rows),
            "sheet": [None] * len(rows),
            "row": [r[7] + 2 for r in rows],
        },
        schema=SCHEMA,
    )
    reception = Decimal(rng.randrange(0, 500_000)) / 100
    return Dataset(
        unit=Unit(name=name, year=YEAR, code=f"{index:06d}", format=FORMAT, department="合成部门"),
        ledger=Ledger(frame),
        three_public=(
            ThreePublic(
                "国内公务接待费",
                GENERAL,
                reception,
                reception,
                1,
                3,
                Source("three_public.csv", row=2),
            ),
        ),
        origin=f"synthetic/{name}",
    )


def timed(work, *args, **kwargs) -> tuple[float, float, object]:
    """Wall and CPU seconds of `work(*args, **kwargs)`, and what it returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def floor(datasets: list[Dataset], rechunk: bool) -> tuple[float, float]:
    """concat + one lazy group-by; the best of a chunked and a contiguous concat is the floor."""
    wall, cpu, _ = timed(
        lambda: (
            pl.concat([d.ledger.frame for d in datasets], rechunk=rechunk)
            .lazy()
            .group_by(["direction", "phase", "fund", "function_code", "economic_code", "nature"])
            .agg(pl.col("amount_fen").sum())
            .collect()
        )
    )
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--lines-per-unit", type=int, default=180)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rng = random.Random(20201231)
    pools = codes()
    started = time.perf_counter()
    datasets = [make_unit(i, args.lines_per_unit, rng, pools) for i in range(args.units)]
    generated = time.perf_counter() - started
    lines = sum(len(d.ledger) for d in datasets)

    # Best of three, like the floor: both are deterministic, so the minimum is the fair figure.
    consolidated = tabled = consolidated_cpu = tabled_cpu = float("inf")
    for _ in range(3):
        wall, cpu, (merged, report) = timed(consolidate, datasets, name="合成部门（汇总）")
        consolidated, consolidated_cpu = min(consolidated, wall), min(consolidated_cpu, cpu)
        if merged is None:
            print("consolidation refused:", *report.problems, sep="\n  ", file=sys.stderr)
            return 1
        wall, cpu, statements = timed(build, merged, FORMAT)
        tabled, tabled_cpu = min(tabled, wall), min(tabled_cpu, cpu)
    floors = [floor(datasets, rechunk) for rechunk in (False, True) for _ in range(3)]
    floor_seconds = min(wall for wall, _ in floors)
    floor_cpu = min(cpu for _, cpu in floors)
    ours = consolidated + tabled
    ours_cpu = consolidated_cpu + tabled_cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "units": args.units,
        "lines": lines,
        "tables": len(statements.tables),
        "generate_s": round(generated, 2),
        "consolidate_s": round(consolidated, 3),
        "tables_s": round(tabled, 3),
        "ours_s": round(ours, 3),
        "floor_s": round(floor_seconds, 3),
        "ratio": round(ours / floor_seconds, 2),
        "consolidate_cpu_s": round(consolidated_cpu, 3),
        "tables_cpu_s": round(tabled_cpu, 3),
        "floor_cpu_s": round(floor_cpu, 3),
        "cpu_ratio": round(ours_cpu / floor_cpu, 2),
        "peak_mb": round(peak_mb),
        "cores": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return 0
    total = statements.table("summary").find("收入总计")[1].cells[0].shown
    print(
        f"consolidate: {args.units:,} units, {lines:,} lines (generated in {generated:.1f} s, not timed)"
    )
    print(f"  machine: {os.cpu_count()} cores, polars {pl.__version__}")
    print(f"  consolidate (best of 3)        {consolidated:7.3f} s")
    print(f"  all {len(statements.tables)} tables (best of 3)       {tabled:7.3f} s")
    verdict = "ok" if ours < TARGET_SECONDS else "MISSED"
    print(
        f"  ours (consolidate + tables)    {ours:7.3f} s   target < {TARGET_SECONDS:g} s: {verdict}"
    )
    print(f"  floor (concat + group-by, best){floor_seconds:7.3f} s")
    ratio = ours / floor_seconds
    verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
    print(
        f"  ratio ours / floor             {ratio:7.2f}     target <= {TARGET_RATIO:g}: {verdict}"
    )
    print(
        f"  CPU s (all threads): consolidate {consolidated_cpu:.3f} + tables {tabled_cpu:.3f} = "
        f"{ours_cpu:.3f}, floor {floor_cpu:.3f}, ratio {ours_cpu / floor_cpu:.2f}"
    )
    print(f"  peak memory (RSS)              {peak_mb:7.0f} MB")
    print(f"  收入总计 {total} 万元; eliminated {report.eliminated} 元")
    print(
        summary_line(
            "consolidate",
            ours,
            "s",
            floor_seconds,
            TARGET_SECONDS,
            TARGET_RATIO,
            what=f"{args.units:,} units consolidated and every table computed",
            floor_what="one polars concat of the units' lines and one group-by",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

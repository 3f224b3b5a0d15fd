"""Benchmark: load a million-line ledger folder and run every rule over it.

What it measures, in a fresh child process started after the data exists:

* load   -- `juesuan.ledger.load.load(folder)`: read the CSV files, validate every cell, build the
            Ledger (the Dataset);
* rules  -- the format's statements (`build`) and `evaluate(dataset, rules, statements)`: every
            rule of the unit's disclosure format;
* floor  -- the same CSV files read by polars and summed in one group-by over the tags the
            tables and rules ask about, nothing checked: the least any implementation must do
            with these files, timed as ours is, first thing in a fresh child process of its own;
* the peak resident memory of that process (`ru_maxrss`), and the outcome counts.

Ours and the floor each run --runs times (3), alternated, and each keeps its best: a second read
of the same files in one process costs about half the first (polars' memory is then mapped
already), so a floor timed after ours in ours' process would be a warm floor against a cold
figure.

Each timing is also taken in CPU seconds (all threads of the process) with its own ratio: on a
shared machine the wall figures follow the other processes' load, the CPU figures much less so.

Targets (printed beside the figures, not asserted): load + all rules under 5 s and at most 3×
the floor, peak memory under 2 GB, on 2 cores.

Two distributions of the lines' tags, each its own dataset: `unit`, one unit's ledger (a few
tens of thousands of distinct tag combinations, as a real unit's), and `province`, the same
lines spread over 20,000 units as in a province's consolidation (nearly every line distinct).

The dataset is synthetic and generated once under bench/_data/ (git-ignored): a unit.toml, a
spending.csv holding most lines (决算 and some 年初预算; 人员经费 on 301xx/303xx, 公用经费 on 302xx,
项目支出 on registered projects), an income.csv that balances spending per fund and function code,
and small projects / facts / prior_year / three_public / procurement / reasons tables made
consistent with the lines, so that every rule passes. Amounts are drawn as integer 分 from a
seeded generator; the same --lines always gives the same files.

Run:
    make bench                                   # both distributions, 1,000,000 lines each
    python bench/ledger_load.py --lines 100000   # a smaller size
    python bench/ledger_load.py --distribution province
    python bench/ledger_load.py --json           # one JSON line per distribution
    python bench/ledger_load.py --profile        # also print a cProfile listing (slower run)
    python bench/ledger_load.py --regenerate     # rebuild the cached datasets
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from juesuan.codes import economic_codes, function_codes
from juesuan.ledger.model import TAGS
from juesuan.ledger.schema import (
    BALANCES_TABLE,
    FACTS_TABLE,
    GENERAL_BUDGET,
    INCOME_TABLE,
    PRIOR_YEAR_TABLE,
    PROCUREMENT_TABLE,
    PROJECTS_TABLE,
    REASONS_TABLE,
    SPENDING_TABLE,
    THREE_PUBLIC_TABLE,
    Table,
)
from summary import summary_line

DATA_DIR = Path(__file__).resolve().parent / "_data"
GENERATOR_VERSION = 2  # bump when the generated data changes, so caches are rebuilt
SEED = 20201231
YEAR = 2020
DEFAULT_LINES = 1_000_000
MIN_LINES = 1_000
# Distributions of the lines' tags: one unit's ledger (few distinct combinations of tags, as a
# real unit's), or a province's consolidation, every line in one of many units (nearly every
# line a distinct combination).
ONE_UNIT, PROVINCE = "unit", "province"
PROVINCE_UNITS = 20_000

TARGET_SECONDS = 5.0
TARGET_RATIO = 3.0
TARGET_PEAK_MB = 2048.0
TARGET_CORES = 2

ACTUAL, BUDGET = "决算", "年初预算"
PERSONNEL, PUBLIC, PROJECT = "人员经费", "公用经费", "项目支出"
FUND_WEIGHTS = {
    GENERAL_BUDGET: 80,
    "政府性基金预算财政拨款": 6,
    "事业收入": 8,
    "其他收入": 6,
}
FISCAL = ("一般公共预算财政拨款", "政府性基金预算财政拨款", "国有资本经营预算财政拨款")
NATURE_WEIGHTS = {PERSONNEL: 45, PUBLIC: 15, PROJECT: 40}
# One line's amount in 分, by nature: (lowest, highest).
AMOUNT_RANGES = {
    PERSONNEL: (10_000, 2_000_000),
    PUBLIC: (1_000, 500_000),
    PROJECT: (1_000, 3_000_000),
}
# Shares of all lines; 决算 spending takes the rest.
BUDGET_SPENDING_SHARE = 0.06
INCOME_ACTUAL_SHARE = 0.03
INCOME_BUDGET_SHARE = 0.01
PROJECT_KINDS = ("专项经费", "工作经费", "补助资金")
# The 三公经费 items and the economic code each is booked on in the spending lines.
THREE_PUBLIC_CODES = {
    "因公出国（境）费": "30212",
    "公务用车购置费": "31013",
    "公务用车运行维护费": "30231",
    "国内公务接待费": "30217",
}


# ---- generation --------------------------------------------------------------------------------


def yuan(fen: int) -> str:
    """Integer 分 as 元 text with two decimals, without passing through float."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` into len(weights) integers of at least 1, proportional to the weights."""
    extra = total - len(weights)
    if extra < 0:
        raise ValueError("fewer items than groups")
    whole = sum(weights)
    shares = [extra * w // whole for w in weights]
    left = extra - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: -((extra * weights[i]) % whole))
    for i in by_remainder[:left]:
        shares[i] += 1
    return [1 + s for s in shares]


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` 分 as `parts` distinct positive amounts that add up to it exactly."""
    if total < parts * (parts + 1) // 2:
        raise ValueError(f"cannot split {total} into {parts} distinct amounts")
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    amounts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    while len(set(amounts)) < parts:  # equal parts: move one 分 between them, keeping the sum
        seen: dict[int, int] = {}
        for i, amount in enumerate(amounts):
            if amount in seen and amount > 1:
                amounts[i] -= 1
                amounts[seen[amount]] += 1
                break
            seen[amount] = i
        else:  # every duplicate is 1 分: take from the largest
            big = max(range(parts), key=amounts.__getitem__)
            small = amounts.index(1)
            amounts[big] -= 1
            amounts[small] += 1
    return amounts


def write_csv(path: Path, table: Table, rows) -> None:
    """Rows are lists in the table's column order, or dicts by column key (the rest left empty)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column.title for column in table.columns])
        for row in rows:
            writer.writerow(
                [row.get(c.key, "") for c in table.columns] if isinstance(row, dict) else row
            )


def generate(folder: Path, lines: int, distribution: str) -> dict:
    """Write a consistent dataset folder with exactly `lines` ledger lines; return a summary."""
    rng = random.Random(SEED + lines)
    # Units drawn apart, so that both distributions have the same codes and amounts.
    unit_rng = random.Random(SEED)

    def unit() -> str:
        if distribution == ONE_UNIT:
            return ""
        return f"下属单位{unit_rng.randrange(PROVINCE_UNITS):05d}"

    functions = function_codes(YEAR)
    economics = economic_codes(YEAR)
    items = [c for c in functions if len(c.code) == 7]
    # Small runs use fewer function codes, so that every combination still gets lines.
    wanted = min(len(items), max(3, lines // 10_000))
    items = sorted(rng.sample(items, wanted), key=lambda c: c.code)
    econ5 = [c for c in economics if len(c.code) == 5]
    pools = {
        PERSONNEL: [c for c in econ5 if c.code[:3] in ("301", "303")],
        PUBLIC: [c for c in econ5 if c.code[:3] == "302"],
        PROJECT: [c for c in econ5 if c.code[:3] in ("302", "310")],
    }
    econ_name = {c.code: c.name for c in econ5}
    func_name = {c.code: c.name for c in items}

    # Combinations (fund, function, nature): every one gets 决算 lines and 年初预算 lines.
    func_weight = {c.code: rng.randint(1, 20) for c in items}
    combos = [
        (fund, item.code, nature)
        for item in items
        for fund in FUND_WEIGHTS
        for nature in NATURE_WEIGHTS
    ]
    pairs = sorted({(fund, code) for fund, code, _ in combos})
    n_spend_budget = max(len(combos), round(lines * BUDGET_SPENDING_SHARE))
    n_income_actual = max(len(pairs), round(lines * INCOME_ACTUAL_SHARE))
    n_income_budget = max(len(pairs), round(lines * INCOME_BUDGET_SHARE))
    n_spend_actual = lines - n_spend_budget - n_income_actual - n_income_budget
    if n_spend_actual < len(combos):
        raise SystemExit(f"--lines {lines} is too small; use at least {MIN_LINES}")
    actual_counts = allocate(
        n_spend_actual,
        [FUND_WEIGHTS[f] * NATURE_WEIGHTS[n] * func_weight[c] for f, c, n in combos],
    )

    # Projects: one to three per (fund, function), each on a few economic codes.
    projects: dict[tuple[str, str], list[tuple[str, list[str]]]] = {}
    project_rows = []
    for fund, code in pairs:
        for _ in range(rng.randint(1, 3)):
            seq = len(project_rows) + 1
            kind = rng.choice(PROJECT_KINDS)
            name = f"{func_name[code]}{kind}{seq:04d}"
            codes = [c.code for c in rng.sample(pools[PROJECT], 5)]
            projects.setdefault((fund, code), []).append((name, codes))
            project_rows.append([name, f"51{YEAR}{seq:06d}", kind, f"资金来源：{fund}"])

    factor = {}  # budget as a percentage of actual, per function code
    for item in items:
        deviating = rng.random() < 0.1
        factor[item.code] = rng.randint(112, 125) if deviating else rng.randint(100, 108)

    spending = []
    combo_total: dict[tuple[str, str, str], int] = {}
    pair_total: dict[tuple[str, str], int] = defaultdict(int)
    by_fund_econ: dict[tuple[str, str], int] = defaultdict(int)
    voucher = 0
    for (fund, code, nature), count in zip(combos, actual_counts, strict=True):
        low, high = AMOUNT_RANGES[nature]
        pool = [c.code for c in pools[nature]]
        options = projects[(fund, code)] if nature == PROJECT else [(None, pool)]
        seen: set[tuple] = set()
        total = 0
        for _ in range(count):
            project, econ_options = rng.choice(options)
            econ = rng.choice(econ_options)
            amount = rng.randint(low, high)
            while (econ, project, amount) in seen:  # the loader rejects exact duplicates
                amount += 1
            seen.add((econ, project, amount))
            total += amount
            by_fund_econ[(fund, econ)] += amount
            voucher += 1
            spending.append(
                {
                    "phase": ACTUAL,
                    "fund": fund,
                    "function_code": code,
                    "function_name": func_name[code],
                    "economic_code": econ,
                    "economic_name": econ_name[econ],
                    "nature": nature,
                    "project": project or "",
                    "amount": yuan(amount),
                    "unit": unit(),
                    "note": f"记-{rng.randint(1, 12):02d}-{voucher:07d}",
                }
            )
        combo_total[(fund, code, nature)] = total
        pair_total[(fund, code)] += total

    # 年初预算 spending: per combination, the actual total times the function's factor.
    budget_counts = allocate(n_spend_budget, actual_counts)
    pair_budget: dict[tuple[str, str], int] = defaultdict(int)
    function_budget: dict[str, int] = defaultdict(int)
    function_actual: dict[str, int] = defaultdict(int)
    for (fund, code, nature), count in zip(combos, budget_counts, strict=True):
        actual = combo_total[(fund, code, nature)]
        total = actual * factor[code] // 100
        pair_budget[(fund, code)] += total
        function_budget[code] += total
        function_actual[code] += actual
        pool = [c.code for c in pools[nature]]
        options = projects[(fund, code)] if nature == PROJECT else [(None, pool)]
        for amount in split(total, count, rng):
            project, econ_options = rng.choice(options)
            econ = rng.choice(econ_options)
            spending.append(
                {
                    "phase": BUDGET,
                    "fund": fund,
                    "function_code": code,
                    "function_name": func_name[code],
                    "economic_code": econ,
                    "economic_name": econ_name[econ],
                    "nature": nature,
                    "project": project or "",
                    "amount": yuan(amount),
                    "unit": unit(),
                }
            )

    # Income: per (fund, function code), several receipts that add up to the spending.
    income = []
    weights = [pair_total[p] // 100 + 1 for p in pairs]
    for phase, n_lines, totals in (
        (ACTUAL, n_income_actual, pair_total),
        (BUDGET, n_income_budget, pair_budget),
    ):
        for (fund, code), count in zip(pairs, allocate(n_lines, weights), strict=True):
            for i, amount in enumerate(split(totals[(fund, code)], count, rng), start=1):
                income.append(
                    {
                        "phase": phase,
                        "fund": fund,
                        "function_code": code,
                        "function_name": func_name[code],
                        "amount": yuan(amount),
                        "unit": unit(),
                        "note": f"第{i}笔",
                    }
                )

    # Small tables, made consistent with the lines.
    def fiscal_econ(econ: str, fund: str | None = None) -> int:
        return sum(by_fund_econ[(f, econ)] for f in FISCAL if fund is None or f == fund)

    three_public = []
    three_public_total = 0
    for item, econ in THREE_PUBLIC_CODES.items():
        for fund in (f for f in FISCAL if f in FUND_WEIGHTS):
            actual = fiscal_econ(econ, fund)
            if fund != GENERAL_BUDGET and actual == 0:
                continue
            three_public_total += actual
            counted = item in ("因公出国（境）费", "国内公务接待费")
            batches = max(1, actual // 2_000_000) if counted and actual else ""
            persons = batches * rng.randint(2, 8) if batches else ""
            budget = actual * 105 // 100
            three_public.append(
                [item, fund, yuan(budget), yuan(actual), batches, persons, "与支出明细一致"]
            )
    three_public.append(["外事接待费", GENERAL_BUDGET, "0.00", "0.00", 0, 0, ""])

    public_general = sum(
        total
        for (fund, _, nature), total in combo_total.items()
        if fund == GENERAL_BUDGET and nature == PUBLIC
    )
    facts = [
        ["机关运行经费", yuan(public_general), "等于一般公共预算财政拨款公用经费"],
        ["编制人数", 120, ""],
        ["实有在职人数", 114, ""],
        ["离退休人数", 37, ""],
        ["车辆总数", 4, ""],
        ["车辆-执法执勤用车", 3, ""],
        ["车辆-应急保障用车", 1, ""],
        ["绩效目标项目数", len(project_rows), ""],
        ["绩效自评项目数", len(project_rows), ""],
        ["部门整体绩效自评得分", "92.5", ""],
    ]

    spent_total = sum(pair_total.values())
    fiscal_income = sum(t for (fund, _), t in pair_total.items() if fund in FISCAL)
    general_spending = sum(t for (fund, _), t in pair_total.items() if fund == GENERAL_BUDGET)
    fund_spending = sum(t for (fund, _), t in pair_total.items() if fund == FISCAL[1])
    budget_total = sum(pair_budget.values())
    prior = {  # last year: a few percent below this year, within the 10% threshold
        "收支总计": spent_total,
        "本年收入合计": spent_total,
        "本年支出合计": spent_total,
        "财政拨款收支总计": fiscal_income,
        "一般公共预算财政拨款支出": general_spending,
        "政府性基金预算财政拨款支出": fund_spending,
        "年初预算": budget_total,
        "机关运行经费": public_general,
    }
    prior_year = [[key, yuan(value * 95 // 100), "上年决算公开"] for key, value in prior.items()]
    # 三公经费 grew markedly, which the reasons table explains.
    prior_year.append(["三公经费", yuan(three_public_total * 70 // 100), "上年决算公开"])

    reasons = [["同比变动", "三公经费", "公务用车更新，运行维护费相应增加。"]]
    for code in sorted(function_budget):
        budget, actual = function_budget[code], function_actual[code]
        if abs(actual - budget) * 10 > budget:
            reasons.append(["预决算差异", code, "部分项目年内调减，按进度执行。"])

    goods = fiscal_econ("31002") + fiscal_econ("30201")
    services = fiscal_econ("30227")
    procurement = [
        ["货物", yuan(goods), yuan(goods * 80 // 100), yuan(goods * 50 // 100), ""],
        ["工程", "0.00", "0.00", "0.00", ""],
        ["服务", yuan(services), yuan(services * 60 // 100), yuan(services * 30 // 100), ""],
    ]

    folder.mkdir(parents=True)
    (folder / "unit.toml").write_text(
        "# Synthetic unit for bench/ledger_load.py; generated, do not edit.\n"
        "[unit]\n"
        'name = "基准测试合成单位"\n'
        'code = "999001"\n'
        f"year = {YEAR}\n"
        'format = "sichuan-2020"\n'
        'kind = "行政单位"\n'
        'department = "基准测试主管部门"\n',
        encoding="utf-8",
    )
    write_csv(folder / SPENDING_TABLE.file, SPENDING_TABLE, spending)
    write_csv(folder / INCOME_TABLE.file, INCOME_TABLE, income)
    write_csv(folder / BALANCES_TABLE.file, BALANCES_TABLE, [])
    write_csv(folder / PROJECTS_TABLE.file, PROJECTS_TABLE, project_rows)
    write_csv(folder / THREE_PUBLIC_TABLE.file, THREE_PUBLIC_TABLE, three_public)
    write_csv(folder / PROCUREMENT_TABLE.file, PROCUREMENT_TABLE, procurement)
    write_csv(folder / FACTS_TABLE.file, FACTS_TABLE, facts)
    write_csv(folder / PRIOR_YEAR_TABLE.file, PRIOR_YEAR_TABLE, prior_year)
    write_csv(folder / REASONS_TABLE.file, REASONS_TABLE, reasons)
    return {
        "lines": len(spending) + len(income),
        "spending_lines": len(spending),
        "income_lines": len(income),
        "projects": len(project_rows),
        "function_codes": len(items),
    }


def dataset_folder(lines: int, distribution: str, regenerate: bool) -> Path:
    """The cached dataset for `lines`, generated first when missing, stale or asked for."""
    folder = DATA_DIR / f"ledger-{distribution}-{lines}"
    marker = folder / ".complete"
    stamp = {"version": GENERATOR_VERSION, "seed": SEED, "lines": lines}
    if not regenerate and marker.exists():
        try:
            if json.loads(marker.read_text(encoding="utf-8")) == stamp:
                return folder
        except ValueError:
            pass
    print(f"generating {lines:,} ledger lines in {folder} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    scratch = folder.with_name(folder.name + ".tmp")
    for path in (scratch, folder):
        if path.exists():
            shutil.rmtree(path)
    summary = generate(scratch, lines, distribution)
    if summary["lines"] != lines:
        raise SystemExit(f"generator wrote {summary['lines']} lines, expected {lines}")
    marker_text = json.dumps(stamp)
    (scratch / ".complete").write_text(marker_text, encoding="utf-8")
    scratch.rename(folder)
    os.sync()  # flush the new files now, so the write-back does not land in the timed run
    print(
        f"generated in {time.perf_counter() - started:.1f} s: {summary}",
        file=sys.stderr,
        flush=True,
    )
    return folder


# ---- measurement (child process) ---------------------------------------------------------------


def floor(folder: Path) -> dict:
    """The same lines read by polars and summed in one group-by over the tags the tables and rules
    ask about, nothing checked: the least any implementation must do with these files (in wall
    and in CPU seconds; the same group-by as bench/consolidate.py's floor)."""
    import polars as pl

    title = {c.key: c.title for c in SPENDING_TABLE.columns}
    tags = [title[t] for t in ("phase", "fund", "function_code", "economic_code", "nature")]
    started, started_cpu = time.perf_counter(), time.process_time()
    lines = pl.concat(
        [
            pl.read_csv(folder / table.file, infer_schema=False).with_columns(
                pl.lit(direction).alias("direction")
            )
            for table, direction in ((SPENDING_TABLE, "支出"), (INCOME_TABLE, "收入"))
        ],
        how="diagonal",
    )
    lines.group_by(["direction", *(t for t in tags if t in lines.columns)]).agg(
        pl.col(title["amount"]).cast(pl.Decimal(18, 2)).sum()
    )
    return {
        "floor_s": round(time.perf_counter() - started, 3),
        "floor_cpu_s": round(time.process_time() - started_cpu, 3),
    }


def measure(folder: Path, profile: bool) -> dict:
    started = time.perf_counter()
    import polars as pl

    from juesuan.ledger.issues import ERROR
    from juesuan.ledger.load import load
    from juesuan.rules.engine import FAIL, evaluate, load_ruleset
    from juesuan.statements.build import build

    import_s = time.perf_counter() - started
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

    # CPU seconds count every thread of this process: on a shared machine they follow the other
    # processes' load much less than wall seconds do.
    started, started_cpu = time.perf_counter(), time.process_time()
    dataset, issues = load(folder)
    load_s, load_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    result: dict = {
        "folder": str(folder),
        "import_s": round(import_s, 3),
        "load_s": round(load_s, 3),
        "load_cpu_s": round(load_cpu, 3),
        "load_errors": sum(1 for i in issues if i.severity == ERROR),
        "load_warnings": sum(1 for i in issues if i.severity != ERROR),
        "load_issues_sample": [
            f"{i.severity} {i.source.file}:{i.source.row} {i.message}" for i in issues[:5]
        ],
    }
    if dataset is not None:
        started, started_cpu = time.perf_counter(), time.process_time()
        # The table rules need the statements, so building them is part of "all rules".
        statements = build(dataset, dataset.unit.format)
        outcomes = evaluate(dataset, load_ruleset(dataset.unit.format), statements)
        rules_s, rules_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        statuses: dict[str, int] = defaultdict(int)
        for outcome in outcomes:
            statuses[outcome.status] += 1
        failed = [o for o in outcomes if o.status == FAIL]
        result |= {
            "lines": len(dataset.ledger),
            "distinct_tags": dataset.ledger.frame.select(TAGS).n_unique(),
            "rules_s": round(rules_s, 3),
            "total_s": round(load_s + rules_s, 3),
            "rules_cpu_s": round(rules_cpu, 3),
            "total_cpu_s": round(load_cpu + rules_cpu, 3),
            "outcomes": len(outcomes),
            "statuses": dict(statuses),
            "passed": statuses["pass"],
            "failed": len(failed),
            "fatal_failed": sum(1 for o in failed if o.tier == "FATAL"),
            "failures": [
                {"rule": o.rule, "tier": o.tier, "bindings": o.bindings, "message": o.message}
                for o in failed[:20]
            ],
        }
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(20)
    result |= {
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cores": len(os.sched_getaffinity(0)),
        "polars_threads": pl.thread_pool_size(),
        "polars": pl.__version__,
        "python": sys.version.split()[0],
        "profiled": profile,
    }
    return result


# ---- report ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(result: dict) -> str:
    def figure(label: str, value: float, unit: str, target: str = "") -> str:
        return f"  {label:<34}{value:8.2f} {unit:<2}  {target}".rstrip()

    lines = result.get("lines")
    out = [
        f"ledger_load ({result['distribution']}): {lines:,} lines from {result['folder']}"
        if lines
        else f"ledger_load ({result['distribution']}): {result['folder']}",
        f"  machine: {result['cores']} cores (target {TARGET_CORES}), "
        f"polars {result['polars']} with {result['polars_threads']} threads, "
        f"python {result['python']}"
        + ("  [cProfile on: times inflated]" if result["profiled"] else ""),
        f"  best of {result.get('runs', 1)}, ours and the floor alternated, each first thing in "
        "a fresh process",
        figure("imports (not counted)", result["import_s"], "s"),
        figure("load (read + validate + build)", result["load_s"], "s"),
    ]
    if "rules_s" not in result:
        out.append(
            f"  LOAD FAILED: {result['load_errors']} errors, e.g. "
            + "; ".join(result["load_issues_sample"])
        )
    else:
        total_ok = result["total_s"] < TARGET_SECONDS
        ratio = result["total_s"] / result["floor_s"]
        out += [
            figure(f"all rules ({result['outcomes']} outcomes)", result["rules_s"], "s"),
            figure(
                "total (load + all rules)",
                result["total_s"],
                "s",
                f"target < {TARGET_SECONDS:.0f} s: {verdict(total_ok)}",
            ),
            figure("floor (polars read + group-by)", result["floor_s"], "s"),
            figure(
                "ratio total / floor",
                ratio,
                "",
                f"target <= {TARGET_RATIO:.0f}: {verdict(ratio <= TARGET_RATIO)}",
            ),
        ]
        out.append(
            f"  CPU s (all threads): load {result['load_cpu_s']:.2f} + rules "
            f"{result['rules_cpu_s']:.2f} = {result['total_cpu_s']:.2f}, floor "
            f"{result['floor_cpu_s']:.2f}, ratio {result['cpu_ratio']:.2f}"
        )
    peak_ok = result["peak_rss_mb"] < TARGET_PEAK_MB
    out.append(
        figure(
            "peak memory (RSS high-water mark)",
            result["peak_rss_mb"],
            "MB",
            f"target < {TARGET_PEAK_MB:.0f} MB: {verdict(peak_ok)}",
        )
    )
    out.append(f"  load issues: {result['load_errors']} errors, {result['load_warnings']} warnings")
    if "rules_s" in result:
        s = result["statuses"]
        out.append(
            f"  outcomes: {result['passed']} passed, {result['failed']} failed "
            f"({result['fatal_failed']} FATAL), {s.get('not_applicable', 0)} not applicable, "
            f"{s.get('insufficient_data', 0)} insufficient data"
        )
        out.append(f"  lines' tags: {result['distinct_tags']:,} distinct combinations")
        for failure in result["failures"]:
            out.append(f"    FAIL {failure['tier']} {failure['rule']}: {failure['message']}")
    return "\n".join(out)


def child(*args: str) -> dict | None:
    """The JSON line a fresh child process of this script prints (None, its output shown, when
    it fails)."""
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout, end="")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def best_of(folder: Path, runs: int, profile: bool) -> dict | None:
    """Ours and the floor, each first thing in fresh processes, alternated `runs` times: the
    run of ours with the least total and the quickest floor, with the highest peak of ours."""
    ours: list[dict] = []
    floors: list[dict] = []
    for _ in range(runs):
        found = child("--measure", str(folder), *(["--profile"] if profile else []))
        if found is None:
            return None
        ours.append(found)
        if "rules_s" not in found:  # the load failed: nothing to compare
            return found
        floor_run = child("--floor", str(folder))
        if floor_run is None:
            return None
        floors.append(floor_run)
    result = dict(min(ours, key=lambda r: r["total_s"]))
    result |= min(floors, key=lambda f: f["floor_s"])
    result["cpu_ratio"] = round(result["total_cpu_s"] / result["floor_cpu_s"], 2)
    result["peak_rss_mb"] = max(r["peak_rss_mb"] for r in ours)
    result["runs"] = runs
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=DEFAULT_LINES, help="ledger lines to generate")
    parser.add_argument(
        "--distribution",
        choices=(ONE_UNIT, PROVINCE, "both"),
        default="both",
        help=f"the lines' tags: one unit's (few combinations), a province's consolidation of "
        f"{PROVINCE_UNITS:,} units (nearly every line distinct), or both (default)",
    )
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached dataset")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--profile", action="store_true", help="print a cProfile listing")
    parser.add_argument("--runs", type=int, default=3, help="runs of ours and of the floor")
    parser.add_argument("--measure", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--floor", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:  # a child: time one load and one evaluation, print JSON
        print(json.dumps(measure(Path(args.measure), args.profile), ensure_ascii=False))
        return 0
    if args.floor:  # a child: time the floor once, print JSON
        print(json.dumps(floor(Path(args.floor))))
        return 0

    if args.lines < MIN_LINES:
        parser.error(f"--lines must be at least {MIN_LINES}")
    distributions = (ONE_UNIT, PROVINCE) if args.distribution == "both" else (args.distribution,)
    status = 0
    for distribution in distributions:
        folder = dataset_folder(args.lines, distribution, args.regenerate)
        result = best_of(folder, 1 if args.profile else max(1, args.runs), args.profile)
        if result is None:
            return 1
        result |= {
            "distribution": distribution,
            "target_total_s": TARGET_SECONDS,
            "target_ratio": TARGET_RATIO,
            "target_peak_mb": TARGET_PEAK_MB,
            "target_cores": TARGET_CORES,
        }
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(report(result))
        if "rules_s" not in result or result["fatal_failed"]:
            status = 1
            continue
        if not args.json:
            print(
                summary_line(
                    f"ledger_load ({distribution})",
                    result["total_s"],
                    "s",
                    result["floor_s"],
                    TARGET_SECONDS,
                    TARGET_RATIO,
                    what=f"{result['lines']:,} lines loaded and every rule run",
                    floor_what="polars reads the same CSV files, one group-by over the tags asked",
                )
            )
    return status


if __name__ == "__main__":
    sys.exit(main())

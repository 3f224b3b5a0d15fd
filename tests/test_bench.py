"""Every benchmark of bench/ runs to its end on a tiny size, so that a broken one fails the tests.

Figures are not checked here (timings live in bench/); what is checked is that each script
starts as `make bench` starts it, does its work and prints its report, ending with the summary
lines (figure, floor, ratio, goal) that `make bench` gathers into one table.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
POSTGRES = os.environ.get(
    "JUESUAN_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
_spec = importlib.util.spec_from_file_location("bench_summary", BENCH / "summary.py")
summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(summary)


def run(script: str, *args: str, timeout: int = 300) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def summaries(out: str, *benches: str) -> list[dict]:
    """The summary lines of a benchmark's output: one per name, each complete and consistent."""
    records = summary.collect(out)
    assert [r["bench"] for r in records] == list(benches), out
    for r in records:
        assert len(r["load"]) == 3
        if "skipped" in r:
            continue
        assert r["figure"] > 0 and r["floor"] > 0 and r["unit"] in ("s", "ms")
        assert r["ratio"] == round(r["figure"] / r["floor"], 2)
        assert r["goal"] is not None and r["floor_what"]
        assert r["met"] == (
            r["figure"] < r["goal"] and (r["goal_ratio"] is None or r["ratio"] <= r["goal_ratio"])
        )
    table = summary.table(records)
    for name in benches:
        assert name in table
    return records


def test_ledger_load():
    out = run("ledger_load.py", "--lines", "1000")
    assert "1,000" in out and "rules" in out
    summaries(out, "ledger_load (unit)", "ledger_load (province)")


def test_consolidate():
    out = run("consolidate.py", "--units", "3", "--lines-per-unit", "20")
    assert "3" in out and "floor" in out.lower()
    summaries(out, "consolidate")


@pytest.mark.parametrize("example", ["luzhou-2020", "shanghai-putuo-shgzb-2024"])
def test_build_example(example):
    out = run("build_example.py", "--example", example, "--runs", "1", "--no-warmup")
    assert f"examples/{example}" in out and "write" in out and "load average" in out
    summaries(out, f"build_example ({example})")


def test_make_bench_builds_both_examples():
    examples = [b[2] for b in summary.BENCHMARKS if b[0] == "build_example.py"]
    assert examples == ["luzhou-2020", "shanghai-putuo-shgzb-2024"]


def test_audit():
    out = run("audit.py", "--count", "2", "--pdf-count", "0", "--runs", "1")
    assert "docs/s" in out
    summaries(out, "audit", "audit (real PDF, 30 pages)")


def test_web_load():
    # PostgreSQL when it answers, SQLite otherwise (the benchmark says which).
    out = run("web_load.py", "--users", "2", "--rounds", "1", "--think", "0", "--deadline", "60")
    assert "p95" in out
    summaries(out, "web_load")


def test_payroll_says_it_needs_postgres():
    out = run("payroll.py", "--skip-without-postgres", "--postgres", "postgresql://127.0.0.1:9/x")
    assert "skipped, it needs PostgreSQL" in out
    (record,) = summaries(out, "payroll")
    assert "PostgreSQL" in record["skipped"]


@pytest.mark.skipif(
    not POSTGRES,
    reason="the payroll benchmark needs PostgreSQL (Debian: postgresql; "
    "set JUESUAN_TEST_DATABASE_URL to its server)",
)
def test_payroll():
    out = run("payroll.py", "--people", "300", "--failures", "3", "--postgres", POSTGRES)
    assert "COPY" in out
    summaries(out, "payroll month", "payroll result import")


def test_summary_table_lists_every_benchmark():
    records = [
        summary.collect(summary.summary_line("甲", 3.0, "s", 1.5, 5.0, 3.0))[0],
        summary.collect(summary.summary_line("乙", 300.0, "ms", 50.0, 200.0))[0],
        summary.collect(summary.skipped_line("丙", "no PostgreSQL answers"))[0],
    ]
    rows = summary.table(records).splitlines()
    assert rows[2].split()[:7] == ["甲", "3", "s", "1.5", "s", "2", "<"]
    assert "yes" in rows[2] and "ratio ≤ 3" in rows[2]
    assert rows[3].split()[:6] == ["乙", "300", "ms", "50", "ms", "6"] and "NO" in rows[3]
    assert "skipped: no PostgreSQL answers" in rows[4]

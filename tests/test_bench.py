"""Every benchmark of bench/ runs to its end on a tiny size, so that a broken one fails the tests.

Figures are not checked here (timings live in bench/); what is checked is that each script
starts as `make bench` starts it, does its work and prints its report.
"""

from __future__ import annotations

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


def test_ledger_load():
    out = run("ledger_load.py", "--lines", "1000")
    assert "1,000" in out and "rules" in out


def test_consolidate():
    out = run("consolidate.py", "--units", "3", "--lines-per-unit", "20")
    assert "3" in out and "floor" in out.lower()


def test_build_example():
    out = run("build_example.py", "--runs", "1", "--no-warmup")
    assert "build_example" in out and "write" in out


def test_audit():
    out = run("audit.py", "--count", "2", "--pdf-count", "0")
    assert "docs/s" in out


def test_web_load():
    # PostgreSQL when it answers, SQLite otherwise (the benchmark says which).
    out = run("web_load.py", "--users", "2", "--rounds", "1", "--think", "0", "--deadline", "60")
    assert "p95" in out


def test_payroll_says_it_needs_postgres():
    out = run("payroll.py", "--skip-without-postgres", "--postgres", "postgresql://127.0.0.1:9/x")
    assert "skipped, it needs PostgreSQL" in out


@pytest.mark.skipif(
    not POSTGRES,
    reason="the payroll benchmark needs PostgreSQL (Debian: postgresql; "
    "set JUESUAN_TEST_DATABASE_URL to its server)",
)
def test_payroll():
    out = run("payroll.py", "--people", "300", "--failures", "3", "--postgres", POSTGRES)
    assert "COPY" in out

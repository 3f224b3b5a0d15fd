"""The drawer of `juesuan build` (charts/forked.py): forked where that is safe, in the parent
where another thread runs."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from juesuan.charts.forked import FORK, Child

HERE = Path(__file__).resolve().parent


def _pid_and_sum(*numbers):
    return os.getpid(), sum(numbers)


@pytest.mark.skipif(not FORK, reason="fork is not available here")
def test_the_forked_drawer_in_a_process_of_its_own():
    """This run has other tests' threads, so the forked path is checked in a fresh pytest."""
    checks = HERE / "drawer_forked_checks.py"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(checks)],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "5 passed" in run.stdout, run.stdout[-2000:]


def test_nothing_is_forked_while_another_thread_runs():
    """The other thread could hold a lock the child would wait for: the step runs here."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        child = Child(ready=lambda: None)
        child.send(_pid_and_sum, 4, 5)
        assert not child.forked and child.result() == (os.getpid(), 9)
        child.close()
    finally:
        stop.set()
        other.join()

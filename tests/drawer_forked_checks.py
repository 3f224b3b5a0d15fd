"""The drawer process of `juesuan build` when it is forked: results and failures cross back, and a
build that fails while the figures are drawn leaves nothing of them behind.

Run by tests/test_charts_forked.py in a pytest process of their own: nothing is forked while
another thread runs (charts/forked.py), and a whole test run has threads left by other tests.
"""

import os

import pytest

from juesuan.charts.forked import FORK, Child
from juesuan.cli import main

from conftest import write_dataset

pytestmark = pytest.mark.skipif(not FORK, reason="fork is not available here")


def _pid_and_sum(*numbers):
    return os.getpid(), sum(numbers)


def _refuse(text):
    raise ValueError(f"拒绝：{text}")


def _ready():
    pass


def _forked(ready) -> Child:
    """A drawer that must be a forked process, or these tests would test nothing."""
    child = Child(ready=ready)
    assert child.forked, "not forked: another thread runs in this process"
    return child


def test_the_step_runs_in_the_child_and_its_result_comes_back():
    child = _forked(_ready)
    try:
        child.send(_pid_and_sum, 1, 2, 3)
        pid, total = child.result()
    finally:
        child.close()
    assert total == 6 and pid != os.getpid()


def test_the_steps_exception_is_raised_in_the_parent():
    child = _forked(_ready)
    try:
        child.send(_refuse, "甲")
        with pytest.raises(ValueError, match="拒绝：甲"):
            child.result()
    finally:
        child.close()


def test_a_failure_to_get_ready_is_told_when_the_result_is_asked():
    child = _forked(lambda: _refuse("未就绪"))
    try:
        child.send(_pid_and_sum, 1)
        with pytest.raises(ValueError, match="未就绪"):
            child.result()
    finally:
        child.close()


def test_a_child_sent_nothing_is_ended():
    child = _forked(_ready)
    child.close()
    assert child._process.exitcode is not None
    child.close()  # once is enough; again does nothing


def test_a_workbook_failure_while_figures_are_drawn_leaves_no_figures_behind(tmp_path, monkeypatch):
    import juesuan.publish.tables_xlsx

    def broken(*args, **kwargs):
        raise RuntimeError("workbook failed")

    monkeypatch.setattr(juesuan.publish.tables_xlsx, "write_tables", broken)
    drawers = []

    def recorded(ready):
        drawers.append(_forked(ready))
        return drawers[-1]

    monkeypatch.setattr("juesuan.cli.Child", recorded)
    dataset = write_dataset(tmp_path / "data")
    out = tmp_path / "pkg"
    with pytest.raises(RuntimeError, match="workbook failed"):
        main(["build", str(dataset), "-o", str(out)])
    # The drawer was waited for before the new folder went: nothing of it appears later either.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert len(drawers) == 1

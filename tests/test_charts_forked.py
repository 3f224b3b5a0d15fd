"""The drawer process of `juesuan build`: results and failures cross back, and a build that fails
while the figures are drawn leaves nothing of them behind."""

import os
import threading

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


def test_the_step_runs_in_the_child_and_its_result_comes_back():
    alone = threading.active_count() == 1  # another test's thread may still be ending
    child = Child(ready=_ready)
    try:
        child.send(_pid_and_sum, 1, 2, 3)
        pid, total = child.result()
    finally:
        child.close()
    assert total == 6 and child.forked == alone and (pid != os.getpid()) == alone


def test_nothing_is_forked_while_another_thread_runs():
    """The other thread could hold a lock the child would wait for: the step runs here."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        child = Child(ready=_ready)
        child.send(_pid_and_sum, 4, 5)
        assert not child.forked and child.result() == (os.getpid(), 9)
        child.close()
    finally:
        stop.set()
        other.join()


def test_the_steps_exception_is_raised_in_the_parent():
    child = Child(ready=_ready)
    try:
        child.send(_refuse, "甲")
        with pytest.raises(ValueError, match="拒绝：甲"):
            child.result()
    finally:
        child.close()


def test_a_failure_to_get_ready_is_told_when_the_result_is_asked():
    child = Child(ready=lambda: _refuse("未就绪"))
    try:
        child.send(_pid_and_sum, 1)
        with pytest.raises(ValueError, match="未就绪"):
            child.result()
    finally:
        child.close()


def test_a_child_sent_nothing_is_ended():
    child = Child(ready=_ready)
    child.close()
    assert child._process.exitcode is not None
    child.close()  # once is enough; again does nothing


def test_a_workbook_failure_while_figures_are_drawn_leaves_no_figures_behind(tmp_path, monkeypatch):
    import juesuan.publish.tables_xlsx

    def broken(*args, **kwargs):
        raise RuntimeError("workbook failed")

    monkeypatch.setattr(juesuan.publish.tables_xlsx, "write_tables", broken)
    dataset = write_dataset(tmp_path / "data")
    out = tmp_path / "pkg"
    with pytest.raises(RuntimeError, match="workbook failed"):
        main(["build", str(dataset), "-o", str(out)])
    # The drawer was waited for before the new folder went: nothing of it appears later either.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]

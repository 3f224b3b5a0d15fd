"""Two people at the same moment, on PostgreSQL (row locks): approving the same run, importing
the same bank file, importing two files that answer the same payments. Exactly one wins; the
other is told, and nothing is done twice.

Each contender runs in its own thread with its own database connection; the step pauses while
holding its locks so that the other really arrives while the first is inside."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from juesuan.disbursement import model as core
from juesuan.web.accounts.models import APPROVER, Grant, User
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import BankFile, Payment, ResultImport, Run
from juesuan.web.disbursement.services import common
from web.test_disbursement_support import bank_answers, person_id, set_up_unit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "concurrency with row locks is tested on PostgreSQL: set "
            "JUESUAN_TEST_DATABASE_URL=postgresql:///test (SQLite serialises every writer)"
        )


@pytest.fixture
def pause(monkeypatch):
    """Hold the step for a moment at a crash point (inside its transaction, locks taken)."""
    points: set[str] = set()
    original = common.crash_point

    def slow(name: str) -> None:
        if name in points:
            time.sleep(0.6)
        original(name)

    monkeypatch.setattr(common, "crash_point", slow)
    return points


def _together(*calls):
    """Run the calls in threads started at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def runner(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # reported below, never swallowed
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def _qyjs(paths):
    """The result file of the QYJS scheme (person 0, the one returned, is in QYJS)."""
    return next(p for p in paths if "QYJS" in p.name)


def _reviewed_run(world, tmp_path):
    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=6)
    run_id = services.prepare_run(world.unit, world.users["clerk"], core.Month(2020, 3)).data["run"]
    assert services.review_run(world.unit, world.users["reviewer"], run_id).changed
    return run_id


def test_two_approvers_at_once_exactly_one_approves(world, tmp_path, pause):
    run_id = _reviewed_run(world, tmp_path)
    second = User.objects.create_user("approver2", password="x-long-password-2")
    Grant.objects.create(user=second, unit=world.unit, role=APPROVER)
    pause.add("approve.sent")
    first, other = _together(
        lambda: services.approve_run(world.unit, world.users["approver"], run_id),
        lambda: services.approve_run(world.unit, second, run_id),
    )
    outcomes = [first, other]
    winners = [o for o in outcomes if o.changed]
    losers = [o for o in outcomes if not o.changed]
    assert len(winners) == 1 and len(losers) == 1, [o.message for o in outcomes]
    assert not losers[0].ok and "已审批通过" in losers[0].message
    run = Run.objects.get(pk=run_id)
    assert run.step == core.APPROVED
    assert BankFile.objects.filter(run=run).count() == len(run.schemes)
    assert Payment.objects.filter(run=run, status=core.SENT).count() == run.count
    assert services.conservation(world.unit).ok


def test_the_same_result_file_imported_twice_at_once(world, tmp_path, pause):
    run_id = _reviewed_run(world, tmp_path)
    services.approve_run(world.unit, world.users["approver"], run_id)
    run = Run.objects.get(pk=run_id)
    path = _qyjs(bank_answers(run, tmp_path, {person_id(0): "AC04"}))
    pause.add("results.applied")
    clerk = world.users["clerk"]
    outcomes = _together(
        lambda: services.import_results(world.unit, clerk, path, adapter_id="generic-csv"),
        lambda: services.import_results(world.unit, clerk, path, adapter_id="generic-csv"),
    )
    assert sorted(o.changed for o in outcomes) == [False, True], [o.message for o in outcomes]
    loser = next(o for o in outcomes if not o.changed)
    assert loser.ok and "导入过" in loser.message
    assert ResultImport.objects.filter(unit=world.unit).count() == 1
    assert Payment.objects.get(run=run, person_id=person_id(0)).status == core.RETURNED
    assert services.conservation(world.unit).ok


def test_two_files_answering_the_same_payments_at_once(world, tmp_path, pause):
    """Two different files (the bank sent its answer twice, with another serial): the second
    waits for the first and then finds every result already there — unchanged."""
    run_id = _reviewed_run(world, tmp_path)
    services.approve_run(world.unit, world.users["approver"], run_id)
    run = Run.objects.get(pk=run_id)
    first = _qyjs(bank_answers(run, tmp_path, {person_id(0): "AC01"}))
    copy = tmp_path / "again.csv"
    copy.write_bytes(first.read_bytes() + b"\r\n")  # same rows, another file (another SHA-256)
    pause.add("results.applied")
    clerk = world.users["clerk"]
    outcomes = _together(
        lambda: services.import_results(world.unit, clerk, first, adapter_id="generic-csv"),
        lambda: services.import_results(world.unit, clerk, copy, adapter_id="generic-csv"),
    )
    messages = [o.message for o in outcomes]
    assert all(o.ok for o in outcomes), messages
    assert sorted(o.changed for o in outcomes) == [False, True], messages
    loser = next(o for o in outcomes if not o.changed)
    assert "无变化" in loser.message
    paid = Payment.objects.filter(run=run, status=core.PAID, scheme__code="QYJS").count()
    assert paid == 2  # three QYJS payments, one returned — each counted once
    assert services.conservation(world.unit).ok


def test_two_clerks_prepare_the_same_month_at_once(world, tmp_path, pause):
    from juesuan.web.accounts.models import CLERK

    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=6)
    second = User.objects.create_user("clerk2", password="x-long-password-3")
    Grant.objects.create(user=second, unit=world.unit, role=CLERK)
    pause.add("prepare.persisted")
    month = core.Month(2020, 6)
    outcomes = _together(
        lambda: services.prepare_run(world.unit, world.users["clerk"], month),
        lambda: services.prepare_run(world.unit, second, month),
    )
    messages = [o.message for o in outcomes]
    assert sorted(o.changed for o in outcomes) == [False, True], messages
    assert "已经生成过" in next(o for o in outcomes if not o.changed).message
    assert Run.objects.filter(unit=world.unit, month="2020-06").count() == 1
    assert Payment.objects.filter(unit=world.unit, month="2020-06").count() == 6

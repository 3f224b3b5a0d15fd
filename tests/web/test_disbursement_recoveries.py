"""Settling recoveries (追回) in the database and on the page: a death reported after two more
months were paid leaves a receivable; 经办 records collections, 复核 checks them, a write-off
is approved by 审批; the outstanding amount never goes below zero; each step twice changes
nothing; every step is audit-logged; the computation's restatement of the same debt in a later
month keeps the one row as it is."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import date

import pytest
from django.urls import reverse

from juesuan.disbursement import model as core
from juesuan.disbursement import recoveries as rules
from juesuan.web.accounts.models import APPROVER, CLERK, REVIEWER, Grant, User
from juesuan.web.audit.models import AuditEntry
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import Recovery, RecoverySettlement, Run
from web.conftest import PASSWORD
from web.test_disbursement_support import STANDARD, bank_answers, person_id, set_up_unit

DEAD = person_id(0)  # QYJS, 1,100.00 元 a month


def _pay_month(unit, users, folder, month: core.Month) -> Run:
    outcome = services.prepare_run(unit, users[CLERK], month)
    assert outcome.ok and outcome.changed, outcome.message
    run = Run.objects.get(pk=outcome.data["run"])
    assert services.review_run(unit, users[REVIEWER], run.pk).ok
    assert services.approve_run(unit, users[APPROVER], run.pk).ok
    for path in bank_answers(run, folder):
        assert services.import_results(unit, users[CLERK], path, adapter_id="generic-csv").ok
    return run


@pytest.fixture
def late_death(world, tmp_path):
    """March to May paid; a death on 2020-03-20 reported in June; June and July computed."""
    unit, users = world.unit, world.users
    set_up_unit(unit, users[CLERK], tmp_path, people=4)
    for number in (3, 4, 5):
        _pay_month(unit, users, tmp_path, core.Month(2020, number))
    events = tmp_path / "人员变动.csv"
    events.write_text(
        "公民身份号码,补贴类别,变动类型,生效日期,报告日期\n"
        f"{DEAD},QYJS,死亡,2020-03-20,2020-06-02\n",
        encoding="utf-8",
    )
    assert services.record_events(unit, users[CLERK], events).ok
    for number in (6, 7):
        _pay_month(unit, users, tmp_path, core.Month(2020, number))
    return world


def _the_receivable(unit) -> Recovery:
    (recovery,) = services.receivables(unit)
    return recovery


def test_a_late_death_is_one_receivable_though_stated_every_month(late_death, tmp_path):
    unit, users = late_death.unit, late_death.users
    # June's computation found the debt; July's stated it again and left the one row as it was
    (recovery,) = Recovery.objects.filter(unit=unit, person_id=DEAD)
    assert (recovery.month, recovery.amount, recovery.via_bank) == (
        "2020-06",
        2 * STANDARD["QYJS"],
        True,
    )
    assert services.receivables(unit) == [recovery]
    totals = services.recovery_totals(unit)
    assert (totals.count, totals.due, totals.outstanding) == (1, 220000, 220000)
    # part collected, then August states the whole debt again: still one row, part collected
    entered = services.enter_settlement(
        unit, users[CLERK], recovery.pk, method=rules.FAMILY, amount=100000, day=date(2020, 8, 1)
    )
    assert services.check_settlement(unit, users[REVIEWER], entered.data["settlement"]).changed
    _pay_month(unit, users, tmp_path, core.Month(2020, 8))
    (after,) = Recovery.objects.filter(unit=unit, person_id=DEAD)
    assert (after.pk, after.amount, after.collected, after.status) == (
        recovery.pk,
        220000,
        100000,
        rules.PARTLY,
    )
    totals = services.recovery_totals(unit)
    assert (totals.count, totals.due, totals.outstanding) == (1, 220000, 120000)


def test_collections_and_a_write_off_settle_the_receivable(late_death):
    unit, users = late_death.unit, late_death.users
    recovery = _the_receivable(unit)
    day = date(2020, 7, 15)

    first = services.enter_settlement(
        unit, users[CLERK], recovery.pk, method=rules.FAMILY, amount=80000, day=day, note="收据 01"
    )
    assert first.ok and first.changed, first.message
    again = services.enter_settlement(
        unit, users[CLERK], recovery.pk, method=rules.FAMILY, amount=80000, day=day, note="收据 01"
    )
    assert again.ok and not again.changed and "无变化" in again.message
    assert RecoverySettlement.objects.filter(recovery=recovery).count() == 1
    settlement = first.data["settlement"]

    own = services.check_settlement(unit, users[CLERK], settlement)
    assert not own.ok and "复核权限" in own.message
    checked = services.check_settlement(unit, users[REVIEWER], settlement)
    assert checked.ok and checked.changed and "待追回 1,400.00 元" in checked.message
    twice = services.check_settlement(unit, users[REVIEWER], settlement)
    assert twice.ok and not twice.changed and "无变化" in twice.message
    recovery.refresh_from_db()
    assert (recovery.collected, recovery.outstanding, recovery.status) == (
        80000,
        140000,
        rules.PARTLY,
    )

    too_much = services.enter_settlement(
        unit, users[CLERK], recovery.pk, method=rules.BANK, amount=140001, day=day
    )
    assert not too_much.ok and "超过尚可登记的 1,400.00 元" in too_much.message

    write_off = services.enter_settlement(
        unit,
        users[CLERK],
        recovery.pk,
        method=rules.WRITE_OFF,
        amount=140000,
        day=day,
        note="无遗产",
    ).data["settlement"]
    assert services.check_settlement(unit, users[REVIEWER], write_off).ok
    recovery.refresh_from_db()
    assert recovery.outstanding == 140000  # a write-off counts only once approved
    refused = services.approve_write_off(unit, users[REVIEWER], write_off)
    assert not refused.ok
    approved = services.approve_write_off(unit, users[APPROVER], write_off)
    assert approved.ok and approved.changed, approved.message
    assert not services.approve_write_off(unit, users[APPROVER], write_off).changed
    recovery.refresh_from_db()
    assert (recovery.collected, recovery.written_off, recovery.outstanding, recovery.status) == (
        80000,
        140000,
        0,
        rules.WRITTEN_OFF,
    )
    closed = services.enter_settlement(
        unit, users[CLERK], recovery.pk, method=rules.FAMILY, amount=1, day=day
    )
    assert not closed.ok and "已核销" in closed.message
    totals = services.recovery_totals(unit)
    assert (totals.due, totals.collected, totals.written_off, totals.outstanding) == (
        220000,
        80000,
        140000,
        0,
    )
    actions = list(
        AuditEntry.objects.filter(action__startswith="pay_recovery").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == sorted(
        ["pay_recovery_enter"] * 2 + ["pay_recovery_check"] * 2 + ["pay_recovery_approve"]
    )


def test_two_entries_that_fit_alone_cannot_both_count(late_death):
    """Two clerks each record the whole amount: the second is refused while the first waits
    for 复核, and accepted once the first was rejected."""
    unit, users = late_death.unit, late_death.users
    recovery = _the_receivable(unit)
    clerk2 = User.objects.create_user("clerk2", password=PASSWORD)
    Grant.objects.create(user=clerk2, unit=unit, role=CLERK)
    day = date(2020, 7, 1)
    one = services.enter_settlement(
        unit, users[CLERK], recovery.pk, method=rules.BANK, amount=220000, day=day
    )
    assert one.ok
    two = services.enter_settlement(
        unit, clerk2, recovery.pk, method=rules.FAMILY, amount=220000, day=day
    )
    assert not two.ok and "尚待复核" in two.message
    assert services.check_settlement(unit, users[REVIEWER], one.data["settlement"], accept=False).ok
    two = services.enter_settlement(
        unit, clerk2, recovery.pk, method=rules.FAMILY, amount=220000, day=day
    )
    assert two.ok and two.changed
    recovery.refresh_from_db()
    assert (recovery.outstanding, recovery.status) == (220000, rules.OPEN)
    assert services.check_settlement(unit, users[REVIEWER], two.data["settlement"]).ok
    recovery.refresh_from_db()
    assert (recovery.outstanding, recovery.status) == (0, rules.RECOVERED)


def test_the_pages(late_death, client):
    unit, users = late_death.unit, late_death.users
    recovery = _the_receivable(unit)
    url = reverse("pay:recoveries", args=[unit.pk])

    client.force_login(users[CLERK])
    page = client.get(url).content.decode()
    assert "待追回款项" in page and "2,200.00" in page and "登记追回" in page
    answer = client.post(
        reverse("pay:recovery_settle", args=[unit.pk, recovery.pk]),
        {"method": rules.FAMILY, "amount": "500.5", "day": "2020-07-03", "note": "现金"},
        follow=True,
    ).content.decode()
    assert "已登记家属退回 500.50 元，待复核" in answer
    bad = client.post(
        reverse("pay:recovery_settle", args=[unit.pk, recovery.pk]),
        {"method": rules.FAMILY, "amount": "12.345", "day": "2020-07-03"},
        follow=True,
    ).content.decode()
    assert "追回登记未保存" in bad and "两位小数" in bad
    no_reason = client.post(
        reverse("pay:recovery_settle", args=[unit.pk, recovery.pk]),
        {"method": rules.WRITE_OFF, "amount": "10", "day": "2020-07-03"},
        follow=True,
    ).content.decode()
    assert "核销须写明原因" in no_reason
    assert RecoverySettlement.objects.count() == 1

    client.force_login(users[REVIEWER])
    settlement = RecoverySettlement.objects.get()
    page = client.get(url).content.decode()
    assert "待复核的登记" in page and "复核通过" in page
    client.post(reverse("pay:recovery_check", args=[unit.pk, settlement.pk]))
    recovery.refresh_from_db()
    assert recovery.collected == 50050

    client.force_login(users["finance"])
    balance = client.get(reverse("pay:balance", args=[unit.pk])).content.decode()
    assert "应追回" in balance and "2,200.00" in balance and "1,699.50" in balance
    assert DEAD not in balance


def test_the_command_lists_what_is_outstanding(late_death, capsys):
    from django.core.management import CommandError, call_command

    unit, users = late_death.unit, late_death.users
    call_command("disburse_recoveries", "--unit", str(unit.pk))
    out = capsys.readouterr().out
    assert "待追回 2,200.00 元（待追回）" in out and DEAD not in out
    assert "5105**********" in out
    with pytest.raises(CommandError, match=re.escape("有 1 笔款项待追回，共 2,200.00 元")):
        call_command("disburse_recoveries", "--unit", str(unit.pk), "--check")
    recovery = _the_receivable(unit)
    done = services.enter_settlement(
        unit, users[CLERK], recovery.pk, method=rules.BANK, amount=220000, day=date(2020, 8, 3)
    )
    assert services.check_settlement(unit, users[REVIEWER], done.data["settlement"]).changed
    capsys.readouterr()
    call_command("disburse_recoveries", "--unit", str(unit.pk), "--check", "--json")
    listed = json.loads(capsys.readouterr().out)
    assert (listed["due"], listed["collected"], listed["outstanding"], listed["open"]) == (
        220000,
        220000,
        0,
        [],
    )


@pytest.mark.django_db(transaction=True)
def test_two_clerks_at_the_same_moment_cannot_both_record_the_whole_amount(late_death, monkeypatch):
    """On PostgreSQL (row locks): the second waits for the first's lock, then finds the whole
    amount already recorded and is refused."""
    from django.db import connection, connections

    from juesuan.web.disbursement.services import recoveries as settling

    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (SQLite serialises every writer)")
    unit, users = late_death.unit, late_death.users
    clerk2 = User.objects.create_user("clerk2", password=PASSWORD)
    Grant.objects.create(user=clerk2, unit=unit, role=CLERK)
    recovery = _the_receivable(unit)
    slow_record = settling.record

    def record_slowly(*args, **kwargs):
        time.sleep(0.6)  # inside the step's transaction, the recovery locked
        return slow_record(*args, **kwargs)

    monkeypatch.setattr(settling, "record", record_slowly)
    barrier = threading.Barrier(2)
    outcomes = []

    def enter(user, method):
        try:
            barrier.wait()
            outcomes.append(
                services.enter_settlement(
                    unit, user, recovery.pk, method=method, amount=220000, day=date(2020, 7, 1)
                )
            )
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=enter, args=(users[CLERK], rules.FAMILY)),
        threading.Thread(target=enter, args=(clerk2, rules.BANK)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(o.ok for o in outcomes) == [False, True]
    assert "尚待复核" in next(o for o in outcomes if not o.ok).message
    assert RecoverySettlement.objects.filter(recovery=recovery).count() == 1

"""Every step of the office is also a command: units, users, grants, a scheme's bank adapter and
payer account, corrections and cancellations — checked as the pages check them, audit-logged —
and an import's warnings summarised (how many, the first few), not one line per row."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from juesuan.disbursement import model as core
from juesuan.disbursement.banks import RETURNED
from juesuan.web.accounts.models import CLERK, Grant, Unit, User
from juesuan.web.audit.models import AuditEntry
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import LifeEvent, Payment, Scheme
from web.test_disbursement_support import (
    approved_run,
    bank_answers,
    person_id,
    roster_csv,
    set_up_unit,
)


def run(*args) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return out.getvalue(), err.getvalue(), code


def test_units_users_and_grants(world):
    out, _, _ = run("units", "add", "泸州市老干部服务中心", "--parent", world.department.name)
    unit = Unit.objects.get(name="泸州市老干部服务中心")
    assert unit.parent == world.department and f"编号 {unit.pk}" in out
    assert "泸州市老干部服务中心" in run("units", "list")[0]
    with pytest.raises(CommandError, match="名称：已有同名单位"):
        run("units", "add", "泸州市老干部服务中心")

    out, _, _ = run("users", "add", "wangjb", "--name", "王经办")
    assert "初始密码：" in out  # shown once
    password = out.split("初始密码：")[1].split("（")[0]
    assert User.objects.get(username="wangjb").check_password(password)
    with pytest.raises(CommandError, match="用户名：这个用户名已经有人用了"):
        run("users", "add", "wangjb")

    out, _, _ = run("grants", "add", "--user", "wangjb", "--unit", unit.name, "--role", "经办")
    assert Grant.objects.filter(user__username="wangjb", unit=unit, role=CLERK).exists()
    assert (
        "无变化" in run("grants", "add", "--user", "wangjb", "--unit", unit.pk, "--role", CLERK)[0]
    )
    with pytest.raises(CommandError, match="可用的角色"):
        run("grants", "add", "--user", "wangjb", "--unit", unit.pk, "--role", "会计")
    assert "王经办" in run("users", "list")[0] and "经办" in run("grants", "list")[0]
    run("grants", "remove", "--user", "wangjb", "--unit", unit.pk, "--role", "clerk")
    assert not Grant.objects.filter(user__username="wangjb").exists()
    run("users", "deactivate", "wangjb")
    assert not User.objects.get(username="wangjb").is_active
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    for action in ("unit_create", "user_create", "grant_add", "grant_remove", "user_update"):
        assert action in actions


def test_a_schemes_bank_adapter_and_payer_account(world, tmp_path):
    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=2)
    common = ("disburse_scheme", "--unit", world.unit.pk, "--user", "clerk", "--scheme", "QYJS")
    _, err, code = run(*common, "--adapter", "excel", "--payer-account", "51050163010000000999")
    assert code == 0, err
    scheme = Scheme.objects.get(unit=world.unit, code="QYJS")
    assert (scheme.bank_adapter, scheme.payer_account) == ("excel", "51050163010000000999")
    assert scheme.standards.count() == 1  # the standards are kept as they were
    _, err, code = run(*common, "--adapter", "no-such-bank")
    assert code == 1 and "没有这个银行接口" in err
    assert Scheme.objects.get(pk=scheme.pk).bank_adapter == "excel"
    _, err, code = run(*common, "--payer-account", "=1+1")
    assert code == 1 and Scheme.objects.get(pk=scheme.pk).payer_account.startswith("5105")
    assert "generic-csv" in run(*common, "--adapters")[0]


@pytest.mark.django_db(transaction=True)
def test_corrections_and_cancellations_by_payment_number(world, tmp_path):
    unit = world.unit
    _answered(world, tmp_path, 4, {person_id(0): "AC01", person_id(2): "AC04"})
    first, second = Payment.objects.filter(status=RETURNED).order_by("person_id")
    as_clerk = ("--unit", unit.pk, "--user", "clerk")

    _, err, code = run("disburse_correct", *as_clerk, first.reference, "--bank", "中国银行")
    assert code == 1 and "--account" in err
    _, err, code = run(
        "disburse_correct", *as_clerk, first.reference, "--bank", "中国银行",
        "--account", "6216610200016587010",
    )  # fmt: skip
    assert code == 0, err
    as_reviewer = ("--unit", unit.pk, "--user", "reviewer")
    _out, err, code = run("disburse_correct", *as_reviewer, first.reference, "--check", "accept")
    assert code == 0 and first.corrections.get().status == "checked", err

    with pytest.raises(CommandError, match="--stop --continue"):  # must say which
        run("disburse_cancel", *as_clerk, second.reference, "--reason", "已死亡")
    _, err, code = run(
        "disburse_cancel", *as_clerk, second.reference, "--reason", "已死亡", "--stop"
    )
    assert code == 0, err
    assert Payment.objects.get(pk=second.pk).status == core.CANCELLED
    _, err, code = run(
        "disburse_cancel", *as_clerk, "QYJS-P999999999-202003-1", "--reason", "x", "--continue"
    )
    assert code == 1 and "没有付款" in err


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_records_a_death_on_its_date(world, tmp_path):
    unit = world.unit
    _answered(world, tmp_path, 2, {person_id(0): "AC04"})
    payment = Payment.objects.get(status=RETURNED)
    cancel = ("disburse_cancel", "--unit", unit.pk, "--user", "clerk", payment.reference)
    with pytest.raises(CommandError, match="请写作 2020-03-15"):
        run(*cancel, "--reason", "领取人已死亡", "--died", "三月十五")
    with pytest.raises(CommandError, match="not allowed with argument --died"):
        run(*cancel, "--reason", "领取人已死亡", "--died", "2020-03-15", "--stop")
    _, err, code = run(*cancel, "--reason", "领取人已死亡", "--died", "2099-01-01")
    assert code == 1 and "死亡日期 2099-01-01 晚于今天" in err
    assert Payment.objects.get(pk=payment.pk).status == RETURNED  # nothing changed
    assert not LifeEvent.objects.exists()
    out, err, code = run(*cancel, "--reason", "领取人已死亡", "--died", "2020/3/15")
    assert code == 0 and "已登记死亡（2020-03-15）" in out, err
    assert Payment.objects.get(pk=payment.pk).status == core.CANCELLED
    event = LifeEvent.objects.get()
    assert (event.kind, event.day.isoformat(), event.person_id) == (
        core.DEATH,
        "2020-03-15",
        payment.person_id,
    )


def _answered(world, tmp_path, people: int, returns: dict[str, str]) -> None:
    """An approved March run of `people`, answered by the bank: those in `returns` (person_id →
    reason code) returned, the others paid."""
    run = approved_run(world, tmp_path, core.Month(2020, 3), people=people)
    for path in bank_answers(run, tmp_path, returns):
        outcome = services.import_results(
            world.unit, world.users["clerk"], path, adapter_id="generic-csv"
        )
        assert outcome.ok, outcome.message


def test_warnings_are_summarised_not_one_line_per_row(world, tmp_path):
    clerk = world.users["clerk"]
    set_up_unit(world.unit, clerk, tmp_path, people=2)
    path = roster_csv(tmp_path / "big.csv", people=40)
    lines = path.read_text(encoding="utf-8").splitlines()
    # every account's check digit wrong: one warning per row
    broken = [lines[0]] + [
        ",".join(
            c[:-1] + str((int(c[-1]) + 1) % 10) if i == 6 else c
            for i, c in enumerate(row.split(","))
        )
        for row in lines[1:]
    ]
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    out, err, code = run("disburse_roster", "--unit", world.unit.pk, "--user", "clerk", str(path))
    assert code == 0 and "花名册已导入" in out
    assert "共 40 处，前 5 处" in err
    assert len(err.strip().splitlines()) == 6

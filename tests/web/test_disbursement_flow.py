"""The monthly payment through the pages: 经办 prepares, 复核 reviews, 审批 approves (nobody
approves their own work), the bank file holds every payment, the bank's result is imported
once (the second import changes nothing), a return is corrected, checked and re-issued once,
and the money balances at every step."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from juesuan.disbursement import model as core
from juesuan.web.accounts.models import APPROVER, CLERK, REVIEWER, Grant, User
from juesuan.web.audit.log import verify
from juesuan.web.audit.models import AuditEntry
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import (
    Beneficiary,
    Payment,
    ResultImport,
    Run,
    WithdrawnPayment,
)
from web.conftest import PASSWORD
from web.test_disbursement_support import (
    STANDARD,
    bank_answers,
    bank_file_rows,
    person_id,
    roster_csv,
    set_up_unit,
)


@pytest.fixture
def unit(world, tmp_path):
    set_up_unit(world.unit, world.users["clerk"], tmp_path, people=6)
    return world.unit


def _balanced(unit) -> services.Conservation:
    result = services.conservation(unit)
    assert result.ok, result.problems
    return result


def _post(client, user, name, *args, data=None):
    client.force_login(user)
    return client.post(reverse(name, args=args), data or {}, follow=True)


def test_full_flow_through_the_pages(client, world, unit, tmp_path):
    clerk, reviewer, approver = (world.users[r] for r in ("clerk", "reviewer", "approver"))

    # 经办 prepares March (as a job: sync in tests) and lands on the run's page
    page = _post(client, clerk, "pay:run_prepare", unit.pk, data={"month": "2020-03"})
    assert page.status_code == 200
    run = Run.objects.get(unit=unit)
    assert run.step == core.PREPARED and run.count == 6
    assert run.total == 3 * STANDARD["QYJS"] + 3 * STANDARD["LXRY"]
    assert set(Payment.objects.filter(run=run).values_list("status", flat=True)) == {"pending"}
    _balanced(unit)  # nothing approved yet: 0 = 0

    # preparing the same month again changes nothing and says so
    again = services.prepare_run(unit, clerk, core.Month(2020, 3))
    assert again.ok and not again.changed and "已经生成过" in again.message
    assert Run.objects.filter(unit=unit).count() == 1

    # the clerk may not review (no 复核 role: 403); the approver may not approve before review
    client.force_login(clerk)
    assert client.post(reverse("pay:run_review", args=[unit.pk, run.pk])).status_code == 403
    early = services.approve_run(unit, approver, run.pk)
    assert not early.ok and "先经复核" in early.message

    # 复核 passes it; 审批 approves: frozen, payments SENT, one bank file per scheme
    page = _post(client, reviewer, "pay:run_review", unit.pk, run.pk)
    assert "已复核通过" in page.content.decode()
    page = _post(client, approver, "pay:run_approve", unit.pk, run.pk)
    run.refresh_from_db()
    assert run.step == core.APPROVED and run.approved_by == approver
    assert set(Payment.objects.filter(run=run).values_list("status", flat=True)) == {"sent"}
    files = list(run.bank_files.all())
    assert sorted(f.scheme for f in files) == ["LXRY", "QYJS"]
    assert sum(f.count for f in files) == run.count == 6
    assert sum(f.total for f in files) == run.total
    assert sum(bank_file_rows(f) for f in files) == 6  # the files on disk hold every payment
    balance = _balanced(unit).balance
    assert balance.approved == balance.sent == run.total

    # approving again changes nothing (the same approver) or is refused (frozen)
    assert not services.approve_run(unit, approver, run.pk).changed
    frozen = services.send_back_run(unit, reviewer, run.pk, "晚了")
    assert not frozen.ok and "锁定" in frozen.message

    # the approver downloads a bank file: logged with its hash
    client.force_login(approver)
    response = client.get(reverse("pay:bank_file", args=[unit.pk, run.pk, files[0].pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
    assert AuditEntry.objects.filter(action="pay_download", summary__contains=files[0].sha256)

    # the bank pays all but one (AC01 wrong account)
    returned_id = person_id(0)
    results = bank_answers(run, tmp_path, {returned_id: "AC01"})
    for path in results:
        with open(path, "rb") as handle:
            page = _post(
                client,
                clerk,
                "pay:results_import",
                unit.pk,
                data={"file": handle, "adapter": "generic-csv"},
            )
        assert page.status_code == 200
    assert ResultImport.objects.filter(unit=unit).count() == 2
    statuses = dict(Payment.objects.filter(run=run).values_list("person_id", "status"))
    assert statuses.pop(returned_id) == core.RETURNED
    assert set(statuses.values()) == {core.PAID}
    balance = _balanced(unit).balance
    assert balance.returned == STANDARD["QYJS"] and balance.paid == run.total - STANDARD["QYJS"]

    # importing the same file again: nothing changes, and the page says so
    before = list(Payment.objects.order_by("pk").values_list("pk", "status", "paid_on"))
    again = services.import_results(unit, clerk, results[0], adapter_id="generic-csv")
    assert again.ok and not again.changed and "导入过" in again.message
    assert list(Payment.objects.order_by("pk").values_list("pk", "status", "paid_on")) == before
    assert ResultImport.objects.filter(unit=unit).count() == 2

    # the return: 经办 corrects, the same clerk cannot check, 复核 checks, 经办 re-issues
    original = Payment.objects.get(run=run, person_id=returned_id)
    page = _post(
        client,
        clerk,
        "pay:correction_enter",
        unit.pk,
        original.pk,
        data={
            "name": original.name,
            "bank": "中国银行泸州分行",
            "account": "6216610200016587010",
            "account_name": original.name,
        },
    )
    correction = original.corrections.get()
    both = User.objects.create_user("clerk_reviewer", password=PASSWORD)
    for role in (CLERK, REVIEWER):
        Grant.objects.create(user=both, unit=unit, role=role)
    correction.entered_by = both  # the same person entering and checking is refused
    correction.save()
    own = services.check_correction(unit, both, correction.pk)
    assert not own.ok and "不能复核自己录入" in own.message
    assert (
        _post(
            client,
            reviewer,
            "pay:correction_check",
            unit.pk,
            correction.pk,
            data={"decision": "accept"},
        ).status_code
        == 200
    )
    page = _post(client, clerk, "pay:supplementary", unit.pk, data={"month": original.month})
    supplementary = Run.objects.get(unit=unit, kind=core.SUPPLEMENTARY)
    assert supplementary.month == original.month  # booked in the month it pays, not today's
    reissue = Payment.objects.get(run=supplementary)
    assert (reissue.sequence, reissue.amount, reissue.account) == (
        2,
        original.amount,
        "6216610200016587010",
    )
    original.refresh_from_db()
    assert original.status == core.REISSUED
    assert _balanced(unit).balance.reissued == original.amount

    # a second supplementary run re-issues nothing: exactly once
    twice = services.prepare_supplementary_run(unit, clerk)
    assert twice.ok and not twice.changed

    # the supplementary run goes through 复核 and 审批 like any run, then the bank pays it
    assert services.review_run(unit, reviewer, supplementary.pk).changed
    assert services.approve_run(unit, approver, supplementary.pk).changed
    for path in bank_answers(supplementary, tmp_path):
        assert services.import_results(unit, clerk, path, adapter_id="generic-csv").changed
    final = _balanced(unit).balance
    assert final.paid == final.approved == run.total
    assert final.sent == final.returned == final.reissued == final.cancelled == 0

    # every step is in the audit log, and the chain is intact
    actions = set(AuditEntry.objects.filter(unit_id=unit.pk).values_list("action", flat=True))
    assert {
        "pay_roster",
        "pay_prepare",
        "pay_review",
        "pay_approve",
        "pay_results",
        "pay_correct",
        "pay_check_correction",
        "pay_supplementary",
    } <= actions
    assert verify().ok
    approve = AuditEntry.objects.filter(action="pay_approve").first()
    assert approve.after["files"][0]["sha256"] in {f.sha256 for f in files}


def test_nobody_approves_their_own_work(world, unit):
    clerk, reviewer, approver = (world.users[r] for r in ("clerk", "reviewer", "approver"))
    # one person holding all three roles
    boss = User.objects.create_user("boss", password=PASSWORD)
    for role in (CLERK, REVIEWER, APPROVER):
        Grant.objects.create(user=boss, unit=unit, role=role)
    run_id = services.prepare_run(unit, boss, core.Month(2020, 4)).data["run"]
    own_review = services.review_run(unit, boss, run_id)
    assert not own_review.ok and "不能是经办人本人" in own_review.message
    assert services.review_run(unit, reviewer, run_id).changed
    own_approval = services.approve_run(unit, boss, run_id)
    assert not own_approval.ok and "不能审批自己经手" in own_approval.message
    assert Run.objects.get(pk=run_id).step == core.REVIEWED
    # a reviewer without the approver role cannot approve either
    assert not services.approve_run(unit, reviewer, run_id).ok
    assert services.approve_run(unit, approver, run_id).changed
    del clerk


def test_send_back_withdraws_and_the_month_is_prepared_again(world, unit):
    clerk, reviewer = world.users["clerk"], world.users["reviewer"]
    first = services.prepare_run(unit, clerk, core.Month(2020, 5)).data["run"]
    back = services.send_back_run(unit, reviewer, first, "标准有误")
    assert back.changed
    assert not Payment.objects.filter(run_id=first).exists()
    withdrawn = WithdrawnPayment.objects.filter(run_id=first)
    assert withdrawn.count() == 6
    assert set(withdrawn.values_list("status", flat=True)) == {core.WITHDRAWN}
    again = services.prepare_run(unit, clerk, core.Month(2020, 5))
    assert again.changed and again.data["run"] != first
    assert Payment.objects.filter(run_id=again.data["run"]).count() == 6
    _balanced(unit)


def test_a_roster_with_errors_stores_nothing_and_lists_every_row(client, world, unit, tmp_path):
    bad = tmp_path / "坏花名册.csv"
    good = roster_csv(tmp_path / "x.csv", 2).read_text(encoding="utf-8").splitlines()
    bad.write_text(
        "\n".join(
            [
                *good,
                "王五,51050219490101001X,QYJS,,2020-01,工行,6222020200001234562,",
                "赵六,123,不存在的类别,,2020-01,工行,6222020200001234562,",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    before = Beneficiary.objects.count()
    client.force_login(world.users["clerk"])
    with open(bad, "rb") as handle:
        page = client.post(reverse("pay:roster_import", args=[unit.pk]), {"file": handle})
    text = page.content.decode()
    assert page.status_code == 200 and "花名册未导入" in text
    assert "第 4 行" in text and "第 5 行" in text  # row numbers as Excel shows them
    assert Beneficiary.objects.count() == before
    # the reviewer sees the roster with IDs masked; the finance officer cannot open it
    client.force_login(world.users["reviewer"])
    roster = client.get(reverse("pay:roster", args=[unit.pk])).content.decode()
    assert person_id(0) not in roster and person_id(0)[-4:] in roster
    client.force_login(world.users["finance"])
    assert client.get(reverse("pay:roster", args=[unit.pk])).status_code == 403


def test_pages_render_for_each_role(client, world, unit, tmp_path):
    """Every page answers 200 with content for the roles that may see it, after a whole month."""
    clerk, reviewer, approver = (world.users[r] for r in ("clerk", "reviewer", "approver"))
    run_id = services.prepare_run(unit, clerk, core.Month(2020, 3)).data["run"]
    services.review_run(unit, reviewer, run_id)
    services.approve_run(unit, approver, run_id)
    run = Run.objects.get(pk=run_id)
    for path in bank_answers(run, tmp_path, {person_id(1): "BE01"}):
        services.import_results(unit, clerk, path, adapter_id="generic-csv")
    names = [
        "pay:overview",
        "pay:roster",
        "pay:events",
        "pay:runs",
        "pay:results",
        "pay:returns",
        "pay:stats",
        "pay:balance",
    ]
    for role in ("clerk", "reviewer", "approver"):
        client.force_login(world.users[role])
        for name in names:
            response = client.get(reverse(name, args=[unit.pk]))
            assert response.status_code == 200, (role, name)
        page = client.get(reverse("pay:run", args=[unit.pk, run_id])).content.decode()
        assert "审批通过" in page and "银行文件" in page
    client.force_login(world.users["finance"])
    stats = client.get(reverse("pay:stats", args=[unit.pk]) + "?year=2020").content.decode()
    assert "2020-03" in stats and "33.33%" in stats  # LXRY: 1 returned of 3 payments made
    balance = client.get(reverse("pay:balance", args=[unit.pk])).content.decode()
    assert "资金守恒" in balance and "全部有着落" in balance
    response = client.get(reverse("pay:fund_request", args=[unit.pk, "2020-03"]))
    assert response.status_code == 200
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "合计" in values and 6 in values


def test_result_files_that_do_not_fit_change_nothing(world, unit, tmp_path):
    """Unknown payments, other amounts and results contradicting an earlier import: the whole
    file is refused with the rows listed, and the refusal is logged."""
    from juesuan.disbursement.banks import PAID, RETURNED, BatchHeader, Outcome, get_adapter
    from juesuan.disbursement.banks import write_results as bank_writes

    clerk, reviewer, approver = (world.users[r] for r in ("clerk", "reviewer", "approver"))
    run_id = services.prepare_run(unit, clerk, core.Month(2020, 3)).data["run"]
    services.review_run(unit, reviewer, run_id)
    services.approve_run(unit, approver, run_id)
    run = Run.objects.get(pk=run_id)
    adapter = get_adapter("generic-csv")
    header = BatchHeader(
        "单位", "1", "银行", "U", "B1", "QYJS", core.Month(2020, 3), core.Month(2020, 3).first_day()
    )
    qyjs = list(Payment.objects.filter(run=run, scheme__code="QYJS").order_by("person_id"))

    def answer(name, outcomes):
        path = tmp_path / name
        assert bank_writes(adapter, header, outcomes, path).ok
        return services.import_results(unit, clerk, path, adapter_id="generic-csv")

    stranger = core.PaymentKey("QYJS", person_id(99), core.Month(2020, 3), 1).reference(
        "P000000099"
    )
    unknown = answer("unknown.csv", [Outcome(stranger, 110000, PAID)])
    assert not unknown.ok and "对不上" in unknown.message
    assert unknown.problems[0]["value"] == stranger and unknown.problems[0]["row"]
    wrong = answer("amount.csv", [Outcome(qyjs[0].reference, 1, PAID)])
    assert not wrong.ok and "金额" in wrong.problems[0]["message"]
    assert set(Payment.objects.filter(run=run).values_list("status", flat=True)) == {"sent"}
    assert not ResultImport.objects.filter(unit=unit).exists()

    paid = answer("paid.csv", [Outcome(p.reference, p.amount, PAID) for p in qyjs])
    assert paid.changed and paid.data["paid"] == 3
    contradiction = answer(
        "later.csv", [Outcome(qyjs[1].reference, qyjs[1].amount, RETURNED, "AC04")]
    )
    assert not contradiction.ok and "不一致" in contradiction.problems[0]["message"]
    assert Payment.objects.get(pk=qyjs[1].pk).status == core.PAID
    assert AuditEntry.objects.filter(action="pay_results_rejected").count() == 3
    _balanced(unit)


def test_statistics_and_fund_requests_keep_to_their_period(client, world, unit, tmp_path):
    from openpyxl import load_workbook

    clerk, reviewer, approver = (world.users[r] for r in ("clerk", "reviewer", "approver"))
    for month in (core.Month(2020, 12), core.Month(2021, 1), core.Month(2021, 2)):
        prepared = services.prepare_run(unit, clerk, month)
        run = Run.objects.get(unit=unit, month=str(month))
        assert prepared.ok and services.review_run(unit, reviewer, run.pk).ok
        assert services.approve_run(unit, approver, run.pk).ok
        for path in bank_answers(run, tmp_path):
            assert services.import_results(unit, clerk, path, adapter_id="generic-csv").ok

    client.force_login(clerk)
    page = client.get(reverse("pay:stats", args=[unit.pk]) + "?year=2021").content.decode()
    assert "2021-02" in page and "2021-01" in page and "2020-12" not in page
    yearly = services.stored_payments(unit, "2021")
    assert sum(1 for _ in yearly) == 12  # 6 persons × 2 months, none of 2020's
    answer = client.get(reverse("pay:fund_request", args=[unit.pk, "2021-01"]))
    sheet = load_workbook(_saved(answer, tmp_path)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert 6 in values and 12 not in values and 18 not in values, values  # one month's 6 people

    # the year's ledger lines: one per scheme and month paid, as the engine posts them
    from juesuan.disbursement import statistics

    expected = statistics.ledger_postings(
        services.stored_payments(unit, "2021"), services.unit_schemes(unit), 2021
    )
    answer = client.get(reverse("pay:ledger", args=[unit.pk, 2021]))
    book = load_workbook(_saved(answer, tmp_path))
    rows = list(book["支出"].iter_rows(values_only=True))
    assert rows[0] == statistics.SPENDING_COLUMNS
    got = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(got) == len(expected) == 4  # two schemes × January and February
    for line, want in zip(got, expected, strict=True):
        assert Decimal(str(line["金额"])) == Decimal(want["金额"])
        assert {k: v for k, v in line.items() if k != "金额"} == {
            k: v for k, v in want.items() if k != "金额"
        }
    assert all(line["备注"].startswith("代发系统生成：2021年") for line in got)
    assert client.get(reverse("pay:ledger", args=[unit.pk, 1999])).status_code == 404


def _saved(response, folder):
    path = folder / "fund.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    return path


def test_preparing_all_schemes_after_one_prepares_the_others_and_names_the_done(world, unit):
    clerk = world.users["clerk"]
    month = core.Month(2020, 6)
    first = services.prepare_run(unit, clerk, month, ["QYJS"])
    assert first.changed and Run.objects.get(pk=first.data["run"]).schemes == ["QYJS"]

    # the whole month: LXRY is prepared in a run of its own, QYJS named as already done
    rest = services.prepare_run(unit, clerk, month)
    assert rest.changed, rest.message
    run = Run.objects.get(pk=rest.data["run"])
    assert run.schemes == ["LXRY"] and run.count == 3
    assert run.total == 3 * STANDARD["LXRY"]
    assert "QYJS 已在第 1 批" in rest.message
    paid = Payment.objects.filter(unit=unit, month="2020-06")
    assert sorted(paid.values_list("person_id", flat=True)) == sorted(
        Beneficiary.objects.filter(unit=unit).values_list("person_id", flat=True)
    )

    # and again: every scheme is done, nothing changes, each named with its run
    again = services.prepare_run(unit, clerk, month)
    assert again.ok and not again.changed
    assert "已经生成过" in again.message
    assert "QYJS 已在第 1 批" in again.message and "LXRY 已在第 2 批" in again.message
    assert Run.objects.filter(unit=unit, month="2020-06").count() == 2


def test_a_batch_is_not_approved_until_its_schemes_payer_account_is_set(client, world, tmp_path):
    from django.core.management import call_command

    from web.test_disbursement_support import PAYER

    unit = world.unit
    clerk, reviewer, approver = (world.users[r] for r in ("clerk", "reviewer", "approver"))
    set_up_unit(unit, clerk, tmp_path, people=4, payer=False)
    run_id = services.prepare_run(unit, clerk, core.Month(2020, 3)).data["run"]
    assert services.review_run(unit, reviewer, run_id).changed

    # refused, saying which schemes lack what and where it is set; nothing changes
    refused = services.approve_run(unit, approver, run_id)
    assert not refused.ok
    assert "企业教师生活补贴（QYJS）（缺付款账号、开户行、户名）" in refused.message
    assert "代发概览" in refused.message and "disburse_payer" in refused.message
    run = Run.objects.get(pk=run_id)
    assert run.step == core.REVIEWED and not run.bank_files.exists()
    assert set(Payment.objects.filter(run=run).values_list("status", flat=True)) == {"pending"}

    # the overview says so; the clerk sets QYJS's account on it, audit-logged
    client.force_login(clerk)
    page = client.get(reverse("pay:overview", args=[unit.pk])).content.decode()
    assert "未设置（缺付款账号、开户行、户名），批次不能审批" in page
    form = {"account": "5105 0163 0100 0000 0123", "bank": PAYER["bank"], "name": unit.name}
    page = _post(client, clerk, "pay:scheme_payer", unit.pk, "QYJS", data=form)
    assert "已设置" in page.content.decode()
    entry = AuditEntry.objects.get(action="pay_payer")
    assert entry.after["payer_account"] == PAYER["account"] and entry.before["payer_account"] == ""
    # only the roles that manage schemes may; a bad account or a formula is refused
    client.force_login(reviewer)
    assert client.post(reverse("pay:scheme_payer", args=[unit.pk, "LXRY"]), form).status_code == 403
    bad = services.set_payer(unit, clerk, "LXRY", account="12-34", bank="工行", name="单位")
    assert not bad.ok and "付款账号“12-34”" in bad.message
    hostile = services.set_payer(
        unit, clerk, "LXRY", account=PAYER["account"], bank="=1+1", name="x"
    )
    assert not hostile.ok and "公式" in hostile.message

    # still refused while LXRY lacks it; set by the command, then approved
    still = services.approve_run(unit, approver, run_id)
    assert not still.ok and "LXRY" in still.message and "QYJS" not in still.message
    call_command(
        "disburse_payer",
        "--unit", str(unit.pk), "--user", "clerk", "--scheme", "LXRY",
        "--account", PAYER["account"], "--bank", PAYER["bank"], "--name", unit.name,
    )  # fmt: skip
    assert services.approve_run(unit, approver, run_id).changed

    # the bank files carry the payer's account (never a placeholder)
    for bank_file in Run.objects.get(pk=run_id).bank_files.all():
        text = services.in_place(bank_file.full_path, bank_file.sha256).read_text(
            encoding="gb18030"
        )
        header = text.splitlines()[0].split(",")
        assert PAYER["account"] in header and PAYER["bank"] in header and unit.name in header


def test_downloads_have_safe_names_and_leave_nothing_on_the_server(client, world, unit):
    import tempfile
    from pathlib import Path
    from urllib.parse import unquote

    def downloads():
        found = Path(tempfile.gettempdir()).glob("juesuan-*")
        return {p for p in found if p.name.startswith(("juesuan-fund-", "juesuan-ledger-"))}

    unit.name = "社保局/本级"
    unit.save()
    client.force_login(world.users["clerk"])
    before = downloads()
    for answer in (
        client.get(reverse("pay:fund_request", args=[unit.pk, "2021-01"])),
        client.get(reverse("pay:ledger", args=[unit.pk, 2021])),
    ):
        assert answer.status_code == 200
        b"".join(answer.streaming_content)
        assert "社保局／本级2021年" in unquote(answer["Content-Disposition"])
    assert downloads() == before

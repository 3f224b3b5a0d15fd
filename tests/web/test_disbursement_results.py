"""Importing bank result files. On PostgreSQL the file is read and checked in a thread while
the import reads the payments it seems to answer and marks those awaiting the bank paid;
whatever the check then finds, the import is all or nothing, and payments the file does not
answer are never touched. On SQLite the same tests run the read-and-check-first way."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from juesuan.disbursement import model as core
from juesuan.disbursement.banks import PAID, RETURNED, BatchHeader, Outcome, get_adapter
from juesuan.disbursement.banks import write_results as bank_writes
from juesuan.web.audit.models import AuditEntry
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import Correction, Payment, ResultImport, Run
from juesuan.web.disbursement.services import results
from web.test_disbursement_support import approved_run, bank_answers, person_id

pytestmark = pytest.mark.django_db(transaction=True)
MARCH = core.Month(2020, 3)


@pytest.fixture
def approved(world, tmp_path) -> Run:
    """An approved March run of 12 people (6 QYJS, 6 LXRY), every payment awaiting the bank."""
    return approved_run(world, tmp_path, MARCH, people=12)


def _import(world, path):
    return services.import_results(world.unit, world.users["clerk"], path, adapter_id="generic-csv")


def _write(tmp_path, name: str, outcomes: list[Outcome], adapter_id: str = "generic-csv"):
    header = BatchHeader("单位", "1", "银行", "U", "B1", "QYJS", MARCH, MARCH.first_day())
    path = tmp_path / name
    assert bank_writes(get_adapter(adapter_id), header, outcomes, path).ok
    return path


def _qyjs(run: Run) -> list[Payment]:
    return list(Payment.objects.filter(run=run, scheme__code="QYJS").order_by("person_id"))


def _states(run: Run) -> dict[int, tuple]:
    return {
        p.pk: (p.status, p.reason_code, p.paid_on, p.result_import_id)
        for p in Payment.objects.filter(run=run)
    }


def test_a_whole_bank_file_pays_all_but_the_returned(world, approved, tmp_path):
    qyjs_path = next(
        p for p in bank_answers(approved, tmp_path, {person_id(2): "AC04"}) if "QYJS" in p.name
    )
    outcome = _import(world, qyjs_path)
    assert outcome.ok and outcome.changed, outcome.message
    assert (outcome.data["paid"], outcome.data["returned"]) == (5, 1)
    entry = ResultImport.objects.get(pk=outcome.data["import"])
    assert (entry.paid, entry.returned, entry.unchanged) == (5, 1, 0)
    qyjs = _qyjs(approved)
    returned = next(p for p in qyjs if p.person_id == person_id(2))
    assert (returned.status, returned.reason_code) == (core.RETURNED, "AC04")
    assert returned.paid_on is None and returned.result_import_id == entry.pk
    for p in qyjs:
        if p is not returned:
            assert p.status == core.PAID and p.paid_on and p.result_import_id == entry.pk
    assert set(
        Payment.objects.filter(run=approved, scheme__code="LXRY").values_list("status", flat=True)
    ) == {core.SENT}
    assert outcome.data["paid_fen"] == 5 * 110000 and outcome.data["returned_fen"] == 110000
    assert services.conservation(world.unit).ok


def test_the_returned_rows_are_updated_without_a_join_whatever_the_statistics(
    world, approved, tmp_path, monkeypatch
):
    """Statistics taken while every payment awaited the bank say none is paid: the update of the
    returned rows by id (paid a moment ago) must still not be planned as a loop over every
    payment per id (a join with the list of ids was: minutes for 20,000 returns)."""
    if connection.vendor != "postgresql":
        pytest.skip("the update by id is one statement per block of ids on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Payment._meta.db_table}")
    plans = []
    original = results._update_ids

    def explained(execute, sql, params, many, context):
        if sql.startswith(f"UPDATE {Payment._meta.db_table}"):
            context["cursor"].execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in context["cursor"].fetchall()))
        return execute(sql, params, many, context)

    def by_id(*args, **kwargs):
        with connection.execute_wrapper(explained):
            return original(*args, **kwargs)

    monkeypatch.setattr(results, "_update_ids", by_id)
    path = next(
        p for p in bank_answers(approved, tmp_path, {person_id(2): "AC04"}) if "QYJS" in p.name
    )
    outcome = _import(world, path)
    assert outcome.ok and outcome.data["returned"] == 1, outcome.message
    assert plans and not any("Nested Loop" in plan for plan in plans), plans
    returned = next(p for p in _qyjs(approved) if p.person_id == person_id(2))
    assert (returned.status, returned.reason_code) == (core.RETURNED, "AC04")


@pytest.mark.parametrize(
    ("adapter_id", "name"),
    [("fixed-txt", "r.ret"), ("excel", "r.xlsx"), ("pain001", "r.xml")],
)
def test_every_result_format_imports_the_same(world, approved, tmp_path, adapter_id, name):
    """Text and XML files show their references (the schemes and months are guessed from
    them); a workbook does not, and is read before any payment is touched."""
    qyjs = _qyjs(approved)
    rows = [Outcome(p.reference, p.amount, PAID) for p in qyjs]
    rows[4] = Outcome(qyjs[4].reference, qyjs[4].amount, RETURNED, "AC06")
    path = _write(tmp_path, name, rows, adapter_id)
    outcome = services.import_results(world.unit, world.users["clerk"], path, adapter_id=adapter_id)
    assert outcome.ok and (outcome.data["paid"], outcome.data["returned"]) == (5, 1)
    statuses = [Payment.objects.get(pk=p.pk).status for p in qyjs]
    assert statuses == [core.PAID] * 4 + [core.RETURNED, core.PAID]
    assert Payment.objects.get(pk=qyjs[4].pk).reason_code == "AC06"
    assert services.conservation(world.unit).ok


def test_a_bad_row_at_the_end_leaves_everything_as_it_was(world, approved, tmp_path):
    qyjs = _qyjs(approved)
    before = _states(approved)
    rows = [Outcome(p.reference, p.amount, PAID) for p in qyjs[:-1]]
    rows.append(Outcome(qyjs[-1].reference, qyjs[-1].amount + 1, PAID))
    outcome = _import(world, _write(tmp_path, "late.csv", rows))
    assert not outcome.ok and "对不上" in outcome.message
    assert [p["row"] for p in outcome.problems] == [len(rows) + 1]  # after the titles
    assert "金额" in outcome.problems[0]["message"]
    assert _states(approved) == before
    assert not ResultImport.objects.filter(unit=world.unit).exists()
    assert AuditEntry.objects.filter(action="pay_results_rejected").count() == 1
    assert not AuditEntry.objects.filter(action="pay_results").exists()


def test_a_refusal_stops_the_update_under_way(world, approved, tmp_path, monkeypatch):
    """The check refuses the file while the paid rows are still being written (held here by a
    sleep in the same statement's transaction): the write is cancelled, not waited for."""
    if connection.vendor != "postgresql":
        pytest.skip("the paid rows are written alongside the check on PostgreSQL only")
    original = results._mark_paid

    def slow(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(20)")
        return original(*args, **kwargs)

    monkeypatch.setattr(results, "_mark_paid", slow)
    qyjs = _qyjs(approved)
    before = _states(approved)
    rows = [Outcome(p.reference, p.amount, PAID) for p in qyjs]
    rows[3] = Outcome(
        core.PaymentKey("QYJS", person_id(99), MARCH, 1).reference("P000000099"), 110000, PAID
    )
    started = time.monotonic()
    outcome = _import(world, _write(tmp_path, "stranger.csv", rows))
    assert time.monotonic() - started < 15
    assert not outcome.ok and outcome.problems[0]["value"] == rows[3].reference
    assert _states(approved) == before
    assert not ResultImport.objects.filter(unit=world.unit).exists()


def test_an_error_in_the_check_rolls_everything_back(world, approved, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("payments could not be read")

    monkeypatch.setattr(results, "_check", broken)
    before = _states(approved)
    path = next(p for p in bank_answers(approved, tmp_path, {}) if "QYJS" in p.name)
    with pytest.raises(RuntimeError, match="could not be read"):
        _import(world, path)
    assert _states(approved) == before
    assert not ResultImport.objects.filter(unit=world.unit).exists()


def test_an_unreadable_file_changes_nothing(world, approved, tmp_path):
    qyjs = _qyjs(approved)
    path = _write(tmp_path, "bad.csv", [Outcome(p.reference, p.amount, PAID) for p in qyjs])
    text = path.read_bytes().decode("gb18030").replace("1100.00", "1100.0O", 1)
    path.write_bytes(text.encode("gb18030"))
    before = _states(approved)
    outcome = _import(world, path)
    assert not outcome.ok and "无法识别" in outcome.message, outcome.message
    assert outcome.problems[0]["row"] == 2 and "why" not in outcome.data
    assert _states(approved) == before
    assert not ResultImport.objects.filter(unit=world.unit).exists()
    rejected = AuditEntry.objects.get(action="pay_results_rejected")
    assert "1 处无法识别" in rejected.summary


def test_a_wrong_guess_of_the_files_scheme_pays_nothing_else(
    world, approved, tmp_path, monkeypatch
):
    """The schemes and months a file answers are guessed from its first and last references;
    a wrong guess (here: LXRY for a QYJS file) costs time, never another scheme's payments."""
    monkeypatch.setattr(results, "_scope_guess", lambda path: {("LXRY", "2020-03")})
    path = next(
        p for p in bank_answers(approved, tmp_path, {person_id(2): "AC01"}) if "QYJS" in p.name
    )
    outcome = _import(world, path)
    assert outcome.ok and (outcome.data["paid"], outcome.data["returned"]) == (5, 1)
    lxry = Payment.objects.filter(run=approved, scheme__code="LXRY")
    assert set(lxry.values_list("status", flat=True)) == {core.SENT}
    assert not lxry.exclude(result_import=None).exists()
    assert services.conservation(world.unit).ok


def test_a_file_answering_part_of_a_bank_file_touches_only_its_rows(world, approved, tmp_path):
    qyjs = _qyjs(approved)
    rows = [Outcome(p.reference, p.amount, PAID) for p in qyjs[:2]]
    rows.append(Outcome(qyjs[2].reference, qyjs[2].amount, RETURNED, "AC01"))
    outcome = _import(world, _write(tmp_path, "part.csv", rows))
    assert outcome.ok and (outcome.data["paid"], outcome.data["returned"]) == (2, 1)
    statuses = [Payment.objects.get(pk=p.pk).status for p in qyjs]
    assert statuses == [core.PAID, core.PAID, core.RETURNED] + [core.SENT] * 3
    # the rest comes in a second file; then a third with the same results changes nothing
    rest = [Outcome(p.reference, p.amount, PAID) for p in qyjs[3:]]
    assert _import(world, _write(tmp_path, "rest.csv", rest)).data["paid"] == 3
    again = _import(world, _write(tmp_path, "all.csv", rows + rest))
    assert again.ok and not again.changed and "无变化" in again.message
    assert again.data["unchanged"] == 6
    assert services.conservation(world.unit).ok


def test_payments_of_a_later_run_in_the_same_month_are_not_paid_by_an_earlier_file(
    world, approved, tmp_path
):
    """A re-issue awaiting the bank shares month and scheme with the first run's file. A second
    copy of that file (another SHA-256, the same results) changes nothing — the re-issue stays
    awaiting its own bank file."""
    clerk, reviewer, approver = (world.users[r] for r in ("clerk", "reviewer", "approver"))
    first = next(
        p for p in bank_answers(approved, tmp_path, {person_id(0): "AC01"}) if "QYJS" in p.name
    )
    assert _import(world, first).changed
    original = Payment.objects.get(run=approved, person_id=person_id(0))
    hostile = services.enter_correction(
        world.unit,
        clerk,
        original.pk,
        name=original.name,
        bank="中国银行",
        account="6216610200016587010",
        account_name='=HYPERLINK("http://x.invalid","点我")',
    )
    assert not hostile.ok and "账户名" in hostile.message and "公式" in hostile.message
    assert not Correction.objects.filter(payment=original).exists()
    assert services.enter_correction(
        world.unit,
        clerk,
        original.pk,
        name=original.name,
        bank="中国银行",
        account="6216610200016587010",
        account_name=original.name,
    ).changed
    correction = Correction.objects.get(payment=original)
    assert services.check_correction(world.unit, reviewer, correction.pk).changed
    supplementary = services.prepare_supplementary_run(world.unit, clerk).data["run"]
    assert services.review_run(world.unit, reviewer, supplementary).changed
    assert services.approve_run(world.unit, approver, supplementary).changed
    reissue = Payment.objects.get(run_id=supplementary)
    assert (reissue.status, reissue.month, reissue.scheme.code) == (core.SENT, "2020-03", "QYJS")

    copy = tmp_path / "again.csv"
    copy.write_bytes(first.read_bytes() + b"\r\n")
    again = _import(world, copy)
    assert again.ok and not again.changed, again.message
    reissue.refresh_from_db()
    assert reissue.status == core.SENT and reissue.result_import_id is None
    assert services.conservation(world.unit).ok
    # its own file pays it
    paid = _import(world, bank_answers(Run.objects.get(pk=supplementary), tmp_path, {})[0])
    assert paid.data["paid"] == 1
    reissue.refresh_from_db()
    assert reissue.status == core.PAID
    assert services.conservation(world.unit).ok


def test_a_contradicting_file_is_refused_whole(world, approved, tmp_path):
    qyjs = _qyjs(approved)
    paid = [Outcome(p.reference, p.amount, PAID) for p in qyjs]
    assert _import(world, _write(tmp_path, "paid.csv", paid)).data["paid"] == 6
    before = _states(approved)
    later = [Outcome(p.reference, p.amount, PAID) for p in qyjs[:-1]]
    later.append(Outcome(qyjs[-1].reference, qyjs[-1].amount, RETURNED, "AC04"))
    refused = _import(world, _write(tmp_path, "later.csv", later))
    assert not refused.ok and "不一致" in refused.problems[0]["message"]
    assert refused.problems[0]["value"] == qyjs[-1].reference
    assert _states(approved) == before
    assert ResultImport.objects.filter(unit=world.unit).count() == 1

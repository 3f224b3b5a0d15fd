"""The payment state rules (transitions) and the in-memory book: runs, results, re-issues."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from juesuan.disbursement import transitions as t
from juesuan.disbursement.book import Book, Done
from juesuan.disbursement.compute import compute_month
from juesuan.disbursement.model import (
    APPROVED,
    CANCELLED,
    DEATH,
    PAID,
    PENDING,
    PREPARED,
    REISSUED,
    RETURNED,
    REVIEWED,
    SENT,
    WITHDRAWN,
    Beneficiary,
    Component,
    LifeEvent,
    Month,
    Payment,
    PaymentKey,
    Scheme,
    Standard,
)
from juesuan.disbursement.transitions import Refusal, RunState

CLERK = {t.CLERK}
REVIEWER = {t.REVIEWER}
APPROVER = {t.APPROVER}
JAN = Month(2020, 1)

SCHEME = Scheme("QYJS", "企业教师生活补贴", 20, (Standard(JAN, 123000),))
SCHEMES = {"QYJS": SCHEME}
PEOPLE = (
    ("110101194501010011", "张三"),
    ("110101194602020021", "李四"),
    ("110101194703030031", "王五"),
)


def roster(people=PEOPLE) -> list[Beneficiary]:
    return [
        Beneficiary(pid, name, "QYJS", JAN, "工商银行", f"62220200000000000{i}", name)
        for i, (pid, name) in enumerate(people)
    ]


class Row:
    """A bank result row as `banks.read_results` gives it (key, status, reason, amount)."""

    def __init__(self, key, status, reason_code="", reason_text="", amount_fen=None):
        self.key, self.status = key, status
        self.reason_code, self.reason_text, self.amount_fen = reason_code, reason_text, amount_fen


def approved_month(book: Book, month: Month = JAN, events=()) -> str:
    computed = compute_month(SCHEMES, roster(), events, month, book.history())
    run = book.prepare_run(month, "QYJS", computed, "clerk1", CLERK)
    assert isinstance(run, Done), run
    assert isinstance(book.review(run.value.id, "rev1", REVIEWER), Done)
    assert isinstance(book.approve(run.value.id, "boss", APPROVER), Done)
    return run.value.id


def key(i: int, month: Month = JAN, sequence: int = 1) -> PaymentKey:
    return PaymentKey("QYJS", PEOPLE[i][0], month, sequence)


# ---- run steps -------------------------------------------------------------------------------


def test_run_goes_prepared_reviewed_approved_and_payments_are_sent() -> None:
    book = Book()
    computed = compute_month(SCHEMES, roster(), (), JAN, book.history())
    done = book.prepare_run(JAN, "QYJS", computed, "clerk1", CLERK)
    run_id = done.value.id
    assert {p.status for p in book.run_payments(run_id)} == {PENDING}
    assert book.balance().approved == 0
    book.review(run_id, "rev1", REVIEWER)
    assert book.runs[run_id].state.step == REVIEWED
    book.approve(run_id, "boss", APPROVER)
    assert book.runs[run_id].state == RunState(APPROVED, "clerk1", "rev1", "boss")
    assert [p.status for p in book.run_payments(run_id)] == [SENT, SENT, SENT]
    balance = book.balance()
    assert balance.ok and balance.approved == balance.sent == 3 * 123000


@pytest.mark.parametrize(
    ("state", "step", "user", "roles", "words"),
    [
        (RunState(PREPARED, "a"), REVIEWED, "a", REVIEWER | CLERK, "复核人不能是经办人"),
        (RunState(PREPARED, "a"), REVIEWED, "b", CLERK, "没有复核权限"),
        (RunState(PREPARED, "a"), APPROVED, "c", APPROVER, "须先经复核"),
        (RunState(REVIEWED, "a", "b"), APPROVED, "b", APPROVER, "不能是本批次的经办人或复核人"),
        (RunState(REVIEWED, "a", "b"), APPROVED, "a", APPROVER, "不能是本批次的经办人或复核人"),
        (RunState(APPROVED, "a", "b", "c"), t.SENT_BACK, "c", APPROVER, "已锁定"),
        (RunState(APPROVED, "a", "b", "c"), REVIEWED, "d", REVIEWER, "已锁定"),
        (RunState(t.SENT_BACK, "a"), REVIEWED, "d", REVIEWER, "已退回经办"),
        (None, PREPARED, "x", REVIEWER, "没有经办权限"),
    ],
)
def test_check_step_refuses(state, step, user, roles, words) -> None:
    refusal = t.check_step(state, step, user, roles)
    assert isinstance(refusal, Refusal) and words in refusal.text


def test_check_step_allows_the_right_people() -> None:
    assert t.check_step(None, PREPARED, "a", CLERK) is None
    assert t.check_step(RunState(PREPARED, "a"), REVIEWED, "b", REVIEWER) is None
    assert t.check_step(RunState(REVIEWED, "a", "b"), APPROVED, "c", APPROVER) is None
    assert t.check_step(RunState(REVIEWED, "a", "b"), t.SENT_BACK, "c", APPROVER) is None


def test_preparing_a_month_twice_returns_the_existing_run() -> None:
    book = Book()
    run_id = approved_month(book)
    computed = compute_month(SCHEMES, roster(), (), JAN, book.history())
    again = book.prepare_run(JAN, "QYJS", computed, "clerk2", CLERK)
    assert isinstance(again, Done) and not again.changed
    assert again.value.id == run_id and "已生成" in again.text and "审批通过" in again.text
    assert len(book.runs) == 1 and len(book.payments) == 3


def test_send_back_withdraws_and_the_month_can_be_prepared_again() -> None:
    book = Book()
    computed = compute_month(SCHEMES, roster(), (), JAN, book.history())
    first = book.prepare_run(JAN, "QYJS", computed, "clerk1", CLERK).value
    book.review(first.id, "rev1", REVIEWER)
    sent_back = book.send_back(first.id, "boss", APPROVER, "金额有误")
    assert isinstance(sent_back, Done)
    assert {p.status for p in book.payments.values()} == {WITHDRAWN}
    assert isinstance(book.approve(first.id, "boss", APPROVER), Refusal)
    second = book.prepare_run(JAN, "QYJS", computed, "clerk1", CLERK)
    assert isinstance(second, Done) and second.changed and second.value.id != first.id
    assert {p.status for p in book.payments.values()} == {PENDING}
    assert len(book.run_payments(first.id)) == 3  # the withdrawn ones stay on the old run
    assert book.balance().approved == 0


def test_approved_run_cannot_be_sent_back() -> None:
    book = Book()
    run_id = approved_month(book)
    refusal = book.send_back(run_id, "rev1", REVIEWER)
    assert isinstance(refusal, Refusal) and "已锁定" in refusal.text
    assert {p.status for p in book.payments.values()} == {SENT}


# ---- bank results ----------------------------------------------------------------------------


def test_apply_result_rules() -> None:
    paid = t.Result(t.RESULT_PAID, day=date(2020, 1, 15))
    returned = t.Result(t.RESULT_RETURNED, "AC01", "账号错误")
    assert t.apply_result(SENT, paid) == t.Change(PAID, day=date(2020, 1, 15))
    assert t.apply_result(SENT, returned) == t.Change(RETURNED, "AC01", "账号错误")
    assert t.apply_result(PAID, paid).text == "已导入，无变化"
    assert isinstance(t.apply_result(RETURNED, returned, "AC01"), t.Unchanged)
    assert isinstance(t.apply_result(REISSUED, returned, "AC01"), t.Unchanged)
    assert isinstance(t.apply_result(PAID, returned), t.Conflict)
    assert isinstance(t.apply_result(RETURNED, paid, "AC01"), t.Conflict)
    assert isinstance(
        t.apply_result(RETURNED, replace(returned, reason_code="BE01"), "AC01"), t.Conflict
    )
    assert isinstance(t.apply_result(PENDING, paid), t.Conflict)
    assert isinstance(t.apply_result(SENT, t.Result(t.RESULT_RETURNED)), t.Conflict)


def test_reimporting_the_same_file_changes_nothing_and_says_so() -> None:
    book = Book()
    approved_month(book)
    rows = [Row(key(0), PAID), Row(key(1), PAID), Row(key(2), RETURNED, "AC01", "账号错误")]
    first = book.import_results(rows, "a" * 64, day=date(2020, 1, 15))
    assert len(first.changed) == 3 and not first.already
    snapshot = dict(book.payments)
    again = book.import_results(rows, "a" * 64, day=date(2020, 1, 16))
    assert again.already and "已经导入过" in again.text
    assert book.payments == snapshot
    # The same rows in another file (another SHA-256): each row is unchanged.
    other = book.import_results(rows, "b" * 64)
    assert len(other.unchanged) == 3 and not other.changed and "无变化" in other.text
    assert book.payments == snapshot
    assert book.payments[key(0)].paid_on == date(2020, 1, 15)


def test_a_different_result_on_a_settled_payment_is_a_conflict() -> None:
    book = Book()
    approved_month(book)
    book.import_results([Row(key(0), PAID)], "a" * 64, day=date(2020, 1, 15))
    report = book.import_results([Row(key(0), RETURNED, "AC04", "账户已销户")], "c" * 64)
    assert report.conflicts and "不一致" in report.conflicts[0][1]
    assert book.payments[key(0)].status == PAID


def test_unknown_payment_and_wrong_amount_are_conflicts() -> None:
    book = Book()
    approved_month(book)
    stranger = PaymentKey("QYJS", "110101195001010018", JAN)
    report = book.import_results([Row(stranger, PAID), Row(key(0), PAID, amount_fen=1)], "d" * 64)
    assert len(report.conflicts) == 2
    assert book.payments[key(0)].status == SENT


# ---- correction, re-issue, cancellation ------------------------------------------------------


def returned_book() -> Book:
    book = Book()
    approved_month(book)
    book.import_results(
        [Row(key(0), PAID), Row(key(1), PAID), Row(key(2), RETURNED, "AC01", "账号错误")],
        "e" * 64,
        day=date(2020, 1, 15),
    )
    return book


def test_correction_by_the_same_person_is_refused_and_reissue_once() -> None:
    book = returned_book()
    entered = book.correct(
        key(2),
        name="王五",
        bank="农业银行",
        account="6228480000000000018",
        account_name="王五",
        user="clerk1",
        roles=CLERK | REVIEWER,
    )
    assert isinstance(entered, Done)
    own = book.check_correction(key(2), "clerk1", CLERK | REVIEWER)
    assert isinstance(own, Refusal) and "不能复核自己录入的更正" in own.text
    early = book.prepare_supplementary_run(JAN, "clerk1", CLERK)
    assert isinstance(early, Done) and early.value is None  # nothing checked yet
    assert isinstance(book.check_correction(key(2), "rev1", REVIEWER), Done)
    run = book.prepare_supplementary_run(JAN, "clerk1", CLERK).value
    reissue_key = key(2, sequence=2)
    assert run.keys == [reissue_key]
    assert book.payments[key(2)].status == REISSUED
    assert book.payments[reissue_key].amount == book.payments[key(2)].amount
    assert book.payments[reissue_key].account == "6228480000000000018"
    # Before approval the money sits in 'reissued'; the balance holds.
    balance = book.balance()
    assert balance.ok and balance.reissued == 123000 and balance.paid == 2 * 123000
    # A second re-issue of the same payment is refused.
    again = t.reissue(book.payments[key(2)], book.corrections[key(2)])
    assert isinstance(again, Refusal) and "已经重发过一次" in again.text
    assert book.prepare_supplementary_run(JAN, "clerk1", CLERK).value is None
    book.review(run.id, "rev1", REVIEWER)
    book.approve(run.id, "boss", APPROVER)
    book.import_results([Row(reissue_key, PAID)], "f" * 64, day=date(2020, 1, 18))
    balance = book.balance()
    assert balance.ok and balance.paid == balance.approved == 3 * 123000
    assert balance.reissued == balance.returned == 0


def test_sent_back_supplementary_run_gives_the_payment_back_to_returned() -> None:
    book = returned_book()
    book.correct(
        key(2),
        name="王五",
        bank="农业银行",
        account="6228480000000000018",
        account_name="王五",
        user="clerk1",
        roles=CLERK,
    )
    book.check_correction(key(2), "rev1", REVIEWER)
    run = book.prepare_supplementary_run(JAN, "clerk1", CLERK).value
    book.send_back(run.id, "rev1", REVIEWER)
    assert book.payments[key(2)].status == RETURNED
    assert book.payments[key(2, sequence=2)].status == WITHDRAWN
    assert book.balance().ok and book.balance().returned == 123000
    second = book.prepare_supplementary_run(JAN, "clerk1", CLERK).value
    assert second.keys == [key(2, sequence=2)]
    assert book.payments[key(2, sequence=2)].status == PENDING


def test_cancel_a_returned_payment_with_a_reason() -> None:
    book = returned_book()
    assert isinstance(book.cancel(key(0), "领取人已死亡", "clerk1", CLERK), Refusal)  # paid
    no_reason = book.cancel(key(2), "  ", "clerk1", CLERK)
    assert isinstance(no_reason, Refusal) and "原因" in no_reason.text
    done = book.cancel(key(2), "领取人已死亡", "clerk1", CLERK)
    assert isinstance(done, Done) and book.payments[key(2)].status == CANCELLED
    balance = book.balance()
    assert balance.ok and balance.cancelled == 123000 and balance.paid == 2 * 123000
    # A cancelled payment counts as not paid in the history.
    assert book.history().paid("QYJS", PEOPLE[2][0]) == {}
    assert book.history().paid("QYJS", PEOPLE[0][0]) == {JAN: 123000}


def test_balance_names_a_reissue_with_another_amount() -> None:
    original = Payment(key(0), "张三", "b", "1", "张三", 100, REISSUED)
    reissued = Payment(key(0, sequence=2), "张三", "b", "2", "张三", 90, PAID)
    balance = t.balance([original, reissued])
    assert not balance.ok and balance.approved == 100 and balance.paid == 90
    assert any(key(0, sequence=2).label in p for p in balance.problems)
    assert not any(key(0).person_id in p for p in balance.problems)  # masked in messages
    lonely = t.balance([original])
    assert not lonely.ok and "没有对应的重发付款" in lonely.problems[0]
    orphan = t.balance([reissued])
    assert not orphan.ok and "原付款不是" in orphan.problems[0]


def test_reissue_keeps_the_components() -> None:
    payment = Payment(key(0), "张三", "b", "1", "张三", 300, RETURNED)
    parts = (Component("standard", JAN, 200), Component("back_pay", Month(2019, 12), 100))
    correction = t.Correction(key(0), "张三", "b2", "2", "张三", "clerk1", "rev1")
    line = t.reissue(payment, correction, parts)
    assert line.key.sequence == 2 and line.components == parts and line.amount == 300
    unchecked = t.reissue(payment, replace(correction, checked_by=""))
    assert isinstance(unchecked, Refusal) and "尚未复核" in unchecked.text


# ---- state machine -----------------------------------------------------------------------------

MONTHS = [Month(2020, m) for m in range(1, 13)]
REASONS = [("AC01", "账号错误"), ("BE01", "户名不符"), ("AC04", "账户已销户")]


class BookMachine(RuleBasedStateMachine):
    """Random months, returns, corrections, deaths and re-imports over a small roster.

    After every step: money is conserved, and for every approved month every person entitled
    that month (alive at its start) has exactly one regular payment whose chain is not
    cancelled unless the person died — paid once, never twice."""

    def __init__(self) -> None:
        super().__init__()
        self.book = Book()
        self.events: list[LifeEvent] = []
        self.next_month = 0
        self.files: list[tuple[list[Row], str]] = []
        self.dead: dict[str, Month] = {}

    def _computed(self, month: Month):
        return compute_month(SCHEMES, roster(), self.events, month, self.book.history())

    @precondition(lambda self: self.next_month < len(MONTHS))
    @rule(send_back_first=st.booleans())
    def run_month(self, send_back_first: bool) -> None:
        month = MONTHS[self.next_month]
        self.next_month += 1
        first = self.book.prepare_run(month, "QYJS", self._computed(month), "c", CLERK).value
        if first is None:  # everyone died before this month: nothing to pay, no run
            assert all(died < month for died in self.dead.values())
            assert len(self.dead) == len(PEOPLE)
            return
        if send_back_first:
            self.book.send_back(first.id, "r", REVIEWER)
        run = self.book.prepare_run(month, "QYJS", self._computed(month), "c", CLERK).value
        assert (run.id == first.id) != send_back_first
        assert isinstance(self.book.review(run.id, "r", REVIEWER), Done)
        assert isinstance(self.book.approve(run.id, "a", APPROVER), Done)

    @rule(data=st.data(), paid_share=st.integers(0, 3))
    def bank_answers(self, data, paid_share: int) -> None:
        sent = sorted(k for k, p in self.book.payments.items() if p.status == SENT)
        if not sent:
            return
        rows = []
        for k in sent:
            if data.draw(st.integers(0, 3)) < paid_share:
                rows.append(Row(k, PAID))
            else:
                code, text = data.draw(st.sampled_from(REASONS))
                rows.append(Row(k, RETURNED, code, text))
        sha = f"{len(self.files):064d}"
        self.files.append((rows, sha))
        self.book.import_results(rows, sha, day=date(2020, 12, 1))

    @precondition(lambda self: self.files)
    @rule(data=st.data(), same_sha=st.booleans())
    def reimport(self, data, same_sha: bool) -> None:
        rows, sha = data.draw(st.sampled_from(self.files))
        before = dict(self.book.payments)
        report = self.book.import_results(rows, sha if same_sha else "f" + sha[1:])
        assert not report.changed and not report.conflicts
        assert self.book.payments == before

    @rule(data=st.data())
    def correct_and_reissue(self, data) -> None:
        returned = sorted(k for k, p in self.book.payments.items() if p.status == RETURNED)
        if not returned:
            return
        k = data.draw(st.sampled_from(returned))
        p = self.book.payments[k]
        self.book.correct(
            k,
            name=p.name,
            bank="建设银行",
            account="6217000000000000000",
            account_name=p.account_name,
            user="c",
            roles=CLERK,
        )
        assert isinstance(self.book.check_correction(k, "c", CLERK | REVIEWER), Refusal)
        self.book.check_correction(k, "r", REVIEWER)
        run = self.book.prepare_supplementary_run(MONTHS[-1], "c", CLERK).value
        if data.draw(st.booleans()):
            self.book.review(run.id, "r", REVIEWER)
            self.book.approve(run.id, "a", APPROVER)

    @rule(data=st.data())
    def approve_pending_supplementary(self, data) -> None:
        for run in list(self.book.runs.values()):
            if run.kind == "supplementary" and run.state.step == PREPARED:
                self.book.review(run.id, "r", REVIEWER)
                self.book.approve(run.id, "a", APPROVER)

    @precondition(lambda self: 0 < self.next_month < len(MONTHS))
    @rule(person=st.integers(0, len(PEOPLE) - 1))
    def death(self, person: int) -> None:
        pid = PEOPLE[person][0]
        if pid in self.dead:
            return
        month = MONTHS[self.next_month]  # dies in the month to be run next, reported in time
        self.events.append(LifeEvent(pid, "QYJS", DEATH, month.first_day(), month.first_day()))
        self.dead[pid] = month
        for k, p in list(self.book.payments.items()):
            if k.person_id == pid and p.status == RETURNED:
                self.book.cancel(k, "领取人已死亡", "c", CLERK)

    @invariant()
    def money_is_conserved(self) -> None:
        balance = self.book.balance()
        assert balance.ok, balance.problems

    @invariant()
    def everyone_entitled_is_paid_exactly_once_per_month(self) -> None:
        payments = self.book.payments
        for month in MONTHS[: self.next_month]:
            for pid, _ in PEOPLE:
                regular = [
                    p
                    for k, p in payments.items()
                    if k.person_id == pid
                    and k.month == month
                    and k.sequence == 1
                    and p.status != WITHDRAWN
                ]
                died = self.dead.get(pid)
                entitled = died is None or month <= died
                assert len(regular) == (1 if entitled else 0)
                if not regular:
                    continue
                # Follow the chain: at most one live end, and it is never cancelled for the living.
                end = regular[0]
                while end.status == REISSUED:
                    end = payments[replace(end.key, sequence=end.key.sequence + 1)]
                if end.status == CANCELLED:
                    assert died is not None


BookMachine.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBookMachine = BookMachine.TestCase

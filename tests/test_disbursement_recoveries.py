"""Settling a recovery (`disbursement.recoveries`): who may take which step, what counts, the
status, and that outstanding + collected + written off = amount over random sequences."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from juesuan.disbursement import recoveries as rec
from juesuan.disbursement.transitions import APPROVER, CLERK, REVIEWER

DAY = date(2020, 6, 1)
ALL = {CLERK, REVIEWER, APPROVER}


def entry(amount: int, method: str = rec.FAMILY, by: str = "jing") -> rec.Settlement:
    return rec.Settlement(method, amount, DAY, by)


def test_a_collection_counts_once_checked_by_another_person():
    r = rec.enter(rec.Receivable(100000), entry(30000))
    assert (r.outstanding, r.waiting, r.status) == (100000, 30000, rec.OPEN)
    assert "不能复核自己" in rec.check_review(r, 0, "jing", ALL).text
    assert "没有复核权限" in rec.check_review(r, 0, "fu", {CLERK}).text
    assert rec.check_review(r, 0, "fu", {REVIEWER}) is None
    r = rec.review(r, 0, "fu", accept=True)
    assert (r.collected, r.outstanding, r.waiting, r.status) == (30000, 70000, 0, rec.PARTLY)
    assert "无需再次复核" in rec.check_review(r, 0, "fu2", {REVIEWER}).text
    r = rec.review(rec.enter(r, entry(70000, rec.BANK)), 1, "fu", accept=True)
    assert (r.outstanding, r.status) == (0, rec.RECOVERED)
    refusal = rec.check_entry(r, entry(1), "jing", {CLERK})
    assert "已追回" in refusal.text and "不能再登记" in refusal.text


def test_a_rejected_collection_does_not_count():
    r = rec.review(rec.enter(rec.Receivable(5000), entry(5000)), 0, "fu", accept=False)
    assert (r.outstanding, r.status, r.waiting) == (5000, rec.OPEN, 0)
    assert "未通过" in rec.check_review(r, 0, "fu", {REVIEWER}).text
    assert rec.check_entry(r, entry(5000), "jing", {CLERK}) is None


def test_over_collection_is_refused_at_entry_counting_what_waits():
    r = rec.enter(rec.Receivable(100000), entry(60000))
    refusal = rec.check_entry(r, entry(50000), "jing", {CLERK})
    assert "超过尚可登记的 400.00 元" in refusal.text
    assert "600.00 元已登记" in refusal.text
    assert rec.check_entry(r, entry(40000), "jing", {CLERK}) is None
    assert "大于 0" in rec.check_entry(r, entry(0), "jing", {CLERK}).text
    assert "经办权限" in rec.check_entry(r, entry(1), "fu", {REVIEWER}).text
    assert "无法识别" in rec.check_entry(r, entry(1, "cash"), "jing", {CLERK}).text


def test_a_write_off_needs_review_then_approval_by_a_third_person():
    r = rec.review(rec.enter(rec.Receivable(100000), entry(30000)), 0, "fu", accept=True)
    r = rec.enter(r, entry(70000, rec.WRITE_OFF))
    assert "须先经复核" in rec.check_approval(r, 1, "shen", {APPROVER}).text
    r = rec.review(r, 1, "fu", accept=True)
    assert (r.outstanding, r.waiting, r.status) == (70000, 70000, rec.PARTLY)
    assert r.settlements[1].state_name == "已复核，待审批"
    assert "登记人或复核人" in rec.check_approval(r, 1, "fu", ALL).text
    assert "没有审批权限" in rec.check_approval(r, 1, "shen", {REVIEWER}).text
    assert "只有核销需要审批" in rec.check_approval(r, 0, "shen", {APPROVER}).text
    assert rec.check_approval(r, 1, "shen", {APPROVER}) is None
    r = rec.approve(r, 1, "shen", accept=True)
    assert (r.collected, r.written_off, r.outstanding, r.status) == (
        30000,
        70000,
        0,
        rec.WRITTEN_OFF,
    )
    assert "无需再次审批" in rec.check_approval(r, 1, "shen", {APPROVER}).text


def test_an_entry_that_no_longer_fits_is_refused_when_it_would_count():
    """Two entries each fitting alone cannot both count: the second is measured again."""
    r = rec.Receivable(10000, (entry(8000), rec.Settlement(rec.BANK, 8000, DAY, "jing2")))
    r = rec.review(r, 0, "fu", accept=True)
    assert "超过待追回的 20.00 元" in rec.check_review(r, 1, "fu", {REVIEWER}).text
    assert rec.check_review(r, 1, "fu", {REVIEWER}, accept=False) is None


STEP = st.tuples(
    st.sampled_from(("enter", "review", "approve")),
    st.sampled_from(tuple(rec.METHOD_NAMES)),
    st.integers(min_value=-5, max_value=120000),
    st.integers(min_value=0, max_value=9),
    st.booleans(),
    st.sampled_from(("jing", "fu", "shen")),
)


@settings(max_examples=300, deadline=None)
@given(amount=st.integers(min_value=1, max_value=100000), steps=st.lists(STEP, max_size=25))
def test_outstanding_collected_and_written_off_add_up_to_the_amount(amount, steps):
    """Any sequence of steps, each taken only when its check allows it: the outstanding amount
    stays ≥ 0, the three add up to the amount, and the status follows them."""
    r = rec.Receivable(amount)
    for action, method, value, index, accept, user in steps:
        if action == "enter":
            candidate = rec.Settlement(method, value, DAY, user)
            if rec.check_entry(r, candidate, user, ALL) is None:
                r = rec.enter(r, candidate)
        elif r.settlements:
            i = index % len(r.settlements)
            if action == "review":
                if rec.check_review(r, i, user, ALL, accept=accept) is None:
                    r = rec.review(r, i, user, accept=accept)
            elif rec.check_approval(r, i, user, ALL, accept=accept) is None:
                r = rec.approve(r, i, user, accept=accept)
        assert r.outstanding >= 0
        assert r.outstanding + r.collected + r.written_off == amount
        assert r.waiting <= r.outstanding
        if r.collected + r.written_off == 0:
            assert r.status == rec.OPEN
        elif r.outstanding:
            assert r.status == rec.PARTLY
        else:
            assert r.status == (rec.WRITTEN_OFF if r.written_off else rec.RECOVERED)

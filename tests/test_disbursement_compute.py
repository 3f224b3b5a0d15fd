"""The monthly computation: standard, death, suspension and back pay, retroactive standards,
recoveries; the vectorised path against a plain per-person reference."""

from __future__ import annotations

import random
from datetime import date

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from juesuan.disbursement.compute import (
    PAYMENT_SCHEMA,
    DictHistory,
    compute_month,
    roster_frame,
)
from juesuan.disbursement.model import (
    ACCOUNT_CHANGE,
    BACK_PAY,
    DEATH,
    RECOVERY,
    RESUME,
    STANDARD,
    STOP,
    SUSPEND,
    TIER_CHANGE,
    Beneficiary,
    Component,
    LifeEvent,
    Month,
    PaymentKey,
    Scheme,
    Standard,
)

M = Month
TEACHERS = Scheme("QYJS", "企业教师生活补贴", 10, (Standard(M(2020, 1), 110000),))
CADRES = Scheme(
    "LGB",
    "建国初期老干部困难补贴",
    10,
    (Standard(M(2020, 1), 58000, "一档"), Standard(M(2020, 1), 62000, "二档")),
)
SCHEMES = (TEACHERS, CADRES)


def pid(n: int) -> str:
    body = f"510502194901{n % 28 + 1:02d}{n:03d}"
    return body + ric.calc_check_digit(body + "0")


JANUARY, MARCH, JUNE = M(2020, 1), M(2020, 3), M(2020, 6)


def person(n: int, scheme: str = "QYJS", start: Month = JANUARY, tier: str = "") -> Beneficiary:
    return Beneficiary(
        pid(n), f"人员{n}", scheme, start, "工商银行", f"62220202{n:011d}", f"人员{n}", tier
    )


def months(first: Month, last: Month, amount: int) -> dict[Month, int]:
    out, at = {}, first
    while at <= last:
        out[at] = amount
        at = at.next()
    return out


def row(computed, n: int, scheme: str = "QYJS") -> dict | None:
    found = computed.payments.filter((pl.col("person_id") == pid(n)) & (pl.col("scheme") == scheme))
    return found.row(0, named=True) if found.height else None


def reason(computed, n: int) -> str:
    return computed.skipped.filter(pl.col("person_id") == pid(n)).row(0, named=True)["reason"]


# --- plain months -----------------------------------------------------------------------------


def test_plain_month_pays_each_tier_its_standard():
    roster = [person(1), person(2, "LGB", tier="一档"), person(3, "LGB", tier="二档")]
    history = DictHistory()
    computed = compute_month(SCHEMES, roster, [], M(2020, 5), history)
    assert computed.payments.schema == pl.Schema(PAYMENT_SCHEMA)
    assert [r["amount"] for r in computed.payments.iter_rows(named=True)] == [58000, 62000, 110000]
    assert computed.payments["month"].unique().to_list() == ["2020-05"]
    assert computed.payments["sequence"].unique().to_list() == [1]
    assert computed.details == {} and computed.recoveries == () and computed.skipped.height == 0
    totals = {r["scheme"]: r for r in computed.totals().iter_rows(named=True)}
    assert (totals["LGB"]["count"], totals["LGB"]["amount"]) == (2, 120000)
    assert (totals["QYJS"]["count"], totals["QYJS"]["amount"]) == (1, 110000)
    assert history.lookups == 0  # the ordinary case never reads the history
    (line,) = [x for x in computed.lines() if x.key.scheme == "QYJS"]
    assert line.amount == 110000 and line.components == (Component(STANDARD, M(2020, 5), 110000),)


def test_start_month_is_paid_and_later_starts_are_skipped():
    roster = [person(1, start=M(2020, 5)), person(2, start=M(2020, 6))]
    computed = compute_month(SCHEMES, roster, [], M(2020, 5))
    assert row(computed, 1)["amount"] == 110000
    assert row(computed, 2) is None and "2020-06" in reason(computed, 2)


def test_dataframe_and_beneficiaries_give_the_same_ordered_result():
    roster = [
        person(n, "LGB" if n % 2 else "QYJS", tier="一档" if n % 2 else "") for n in range(40)
    ]
    shuffled = roster[:]
    random.Random(7).shuffle(shuffled)
    from_list = compute_month(SCHEMES, roster, [], M(2020, 3))
    from_frame = compute_month({s.code: s for s in SCHEMES}, roster_frame(shuffled), [], M(2020, 3))
    assert from_list.payments.equals(from_frame.payments)
    keys = list(from_list.payments.select("scheme", "person_id").iter_rows())
    assert keys == sorted(keys)


def test_any_roster_order_gives_the_sorted_result():
    roster = [
        person(n, "LGB" if n % 3 else "QYJS", tier="二档" if n % 3 else "") for n in range(60)
    ]
    frame = roster_frame(roster)
    change = [LifeEvent(pid(7), "LGB", TIER_CHANGE, date(2020, 2, 1), detail={"tier": "一档"})]
    history = DictHistory({("LGB", pid(7)): months(JANUARY, M(2020, 2), 62000)})
    expected = compute_month(SCHEMES, frame, change, MARCH, history)
    for seed in range(3):
        shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed)
        assert compute_month(SCHEMES, shuffled, change, MARCH, history).payments.equals(
            expected.payments
        )
    keys = list(expected.payments.select("scheme", "person_id").iter_rows())
    assert keys == sorted(keys) and len(keys) == 60
    assert row(expected, 7, "LGB")["recovery"] == 4000  # February at 二档, owed 一档


def test_identifiers_that_are_not_id_numbers_still_sort_as_text():
    roster = [
        Beneficiary(code, "某人", "QYJS", JANUARY, "工商银行", "622202020000123456", "某人")
        for code in ("B10", "A2", "A10", "B1")
    ]
    computed = compute_month(SCHEMES, roster, [], MARCH)
    assert computed.payments["person_id"].to_list() == ["A10", "A2", "B1", "B10"]


def test_a_person_twice_in_a_scheme_is_paid_neither_time():
    roster = [person(1), person(1, start=M(2020, 2)), person(2)]
    computed = compute_month(SCHEMES, roster, [], M(2020, 3))
    assert computed.payments["person_id"].to_list() == [pid(2)]
    assert computed.skipped.filter(pl.col("person_id") == pid(1)).height == 2
    assert "多行" in reason(computed, 1)


def test_start_months_in_other_spellings_are_read_and_bad_ones_skipped():
    frame = roster_frame([person(1), person(2), person(3), person(4)]).with_columns(
        pl.Series("start", ["2020-1", "202003", "2020年4月", "2020-13"])
    )
    computed = compute_month(SCHEMES, frame, [], MARCH)
    assert computed.payments["person_id"].to_list() == [pid(1), pid(2)]
    assert "2020-04" in reason(computed, 3) and "2020-13" in reason(computed, 4)


def test_unknown_scheme_or_tier_is_skipped_with_the_reason():
    roster = [person(1, "XXX"), person(2, "LGB", tier="三档")]
    computed = compute_month(SCHEMES, roster, [], M(2020, 3))
    assert computed.payments.height == 0
    assert "XXX" in reason(computed, 1) and "三档" in reason(computed, 2)


# --- death ------------------------------------------------------------------------------------


def test_death_month_is_paid_in_full_and_nothing_after():
    death = [LifeEvent(pid(1), "QYJS", DEATH, date(2020, 3, 28), date(2020, 3, 29))]
    paid_so_far = {("QYJS", pid(1)): months(M(2020, 1), M(2020, 2), 110000)}
    march = compute_month(SCHEMES, [person(1)], death, M(2020, 3), DictHistory(paid_so_far))
    assert row(march, 1)["amount"] == 110000
    paid_so_far[("QYJS", pid(1))][M(2020, 3)] = 110000
    april = compute_month(SCHEMES, [person(1)], death, M(2020, 4), DictHistory(paid_so_far))
    assert row(april, 1) is None and "已死亡" in reason(april, 1)
    assert april.recoveries == ()


def test_late_death_recovers_exactly_the_months_paid_after_it():
    death = [LifeEvent(pid(1), "QYJS", DEATH, date(2020, 2, 10), date(2020, 5, 3))]
    history = DictHistory({("QYJS", pid(1)): months(M(2020, 1), M(2020, 4), 110000)})
    computed = compute_month(SCHEMES, [person(1), person(2)], death, M(2020, 5), history)
    assert row(computed, 1) is None and row(computed, 2)["amount"] == 110000
    (recovery,) = computed.recoveries
    assert recovery.person_id == pid(1) and recovery.via_bank
    assert recovery.months == (M(2020, 3), M(2020, 4))
    assert recovery.amount == 2 * 110000
    assert history.lookups == 1


def test_late_death_with_money_still_owed_says_so():
    # A rise back to February, announced after a death in April: February to April are owed the
    # difference, but nothing is paid into a deceased person's account.
    events = [LifeEvent(pid(1), "QYJS", DEATH, date(2020, 4, 10), date(2020, 6, 1))]
    history = DictHistory({("QYJS", pid(1)): months(M(2020, 1), M(2020, 4), 110000)})
    computed = compute_month(
        [raised(130000, M(2020, 2), M(2020, 6))], [person(1)], events, M(2020, 6), history
    )
    assert computed.payments.height == 0 and computed.recoveries == ()
    assert "600.00 元" in reason(computed, 1)  # 3 months × 200 元


def test_stop_ends_payment_from_its_month():
    stop = [LifeEvent(pid(1), "QYJS", STOP, date(2020, 4, 1))]
    history = DictHistory({("QYJS", pid(1)): months(M(2020, 1), M(2020, 3), 110000)})
    computed = compute_month(SCHEMES, [person(1)], stop, M(2020, 4), history)
    assert row(computed, 1) is None and "终止" in reason(computed, 1)


# --- suspension and back pay ------------------------------------------------------------------


def test_suspension_pays_nothing_and_resume_pays_every_suspended_month_back():
    suspend = LifeEvent(pid(1), "QYJS", SUSPEND, date(2020, 3, 1))
    history = DictHistory({("QYJS", pid(1)): months(M(2020, 1), M(2020, 2), 110000)})
    april = compute_month(SCHEMES, [person(1)], [suspend], M(2020, 4), history)
    assert row(april, 1) is None and "暂停" in reason(april, 1) and april.recoveries == ()

    resume = LifeEvent(pid(1), "QYJS", RESUME, date(2020, 6, 15))
    june = compute_month(SCHEMES, [person(1)], [suspend, resume], M(2020, 6), history)
    paid = row(june, 1)
    assert (paid["standard"], paid["back_pay"], paid["recovery"]) == (110000, 330000, 0)
    assert paid["amount"] == 440000
    key = PaymentKey("QYJS", pid(1), M(2020, 6))
    assert june.details[key] == (
        Component(STANDARD, M(2020, 6), 110000),
        Component(BACK_PAY, M(2020, 3), 110000),
        Component(BACK_PAY, M(2020, 4), 110000),
        Component(BACK_PAY, M(2020, 5), 110000),
    )
    (line,) = june.lines()
    assert line.amount == 440000


def test_a_suspension_is_explained_by_its_recorded_reason():
    history = DictHistory({("QYJS", pid(1)): months(M(2020, 1), M(2020, 2), 110000)})
    said = LifeEvent(pid(1), "QYJS", SUSPEND, date(2020, 3, 1), detail={"reason": "银行卡已冻结"})
    april = compute_month(SCHEMES, [person(1)], [said], M(2020, 4), history)
    assert reason(april, 1) == "暂停发放（银行卡已冻结，自 2020-03 起）"
    # a suspension imported from a file has no reason: it is the usual one
    silent = LifeEvent(pid(1), "QYJS", SUSPEND, date(2020, 3, 1))
    april = compute_month(SCHEMES, [person(1)], [silent], M(2020, 4), history)
    assert reason(april, 1) == "暂停发放（未资格认证，自 2020-03 起）"


def test_back_pay_is_paid_once():
    events = [
        LifeEvent(pid(1), "QYJS", SUSPEND, date(2020, 3, 1)),
        LifeEvent(pid(1), "QYJS", RESUME, date(2020, 6, 15)),
    ]
    history = DictHistory({("QYJS", pid(1)): months(M(2020, 1), M(2020, 2), 110000)})
    history.record(compute_month(SCHEMES, [person(1)], events, M(2020, 6), history))
    july = compute_month(SCHEMES, [person(1)], events, M(2020, 7), history)
    assert row(july, 1)["amount"] == 110000 and july.details == {}


# --- retroactive standards --------------------------------------------------------------------


def raised(amount: int, start: Month = MARCH, announced: Month = JUNE) -> Scheme:
    standards = (*TEACHERS.standards, Standard(start, amount, "", announced))
    return Scheme("QYJS", TEACHERS.name, 10, standards)


def test_retroactive_rise_pays_the_difference_back():
    history = DictHistory(
        {("QYJS", pid(n)): months(M(2020, 1), M(2020, 5), 110000) for n in (1, 2)}
    )
    computed = compute_month([raised(120000)], [person(1), person(2)], [], M(2020, 6), history)
    for n in (1, 2):
        paid = row(computed, n)
        assert (paid["standard"], paid["back_pay"], paid["amount"]) == (120000, 30000, 150000)
    assert computed.details[PaymentKey("QYJS", pid(1), M(2020, 6))][1:] == tuple(
        Component(BACK_PAY, m, 10000) for m in (M(2020, 3), M(2020, 4), M(2020, 5))
    )


def test_retroactive_standard_is_looked_at_only_around_its_announcement():
    history = DictHistory({("QYJS", pid(1)): months(M(2020, 1), M(2020, 8), 120000)})
    later = compute_month([raised(120000)], [person(1)], [], M(2020, 9), history)
    assert history.lookups == 0 and row(later, 1)["amount"] == 120000


def test_retroactive_cut_is_netted_never_below_zero_and_the_rest_carried():
    history = DictHistory({("QYJS", pid(1)): months(M(2020, 1), M(2020, 5), 110000)})
    small_cut = compute_month([raised(100000)], [person(1)], [], M(2020, 6), history)
    paid = row(small_cut, 1)
    assert (paid["standard"], paid["recovery"], paid["amount"]) == (100000, 30000, 70000)
    assert small_cut.details[PaymentKey("QYJS", pid(1), M(2020, 6))][1:] == tuple(
        Component(RECOVERY, m, -10000) for m in (M(2020, 3), M(2020, 4), M(2020, 5))
    )
    assert small_cut.recoveries == ()

    # A cut to 400 元 from March: 3 × 700 元 overpaid, June's 400 元 absorbs part of it.
    deep_cut = compute_month([raised(40000)], [person(1)], [], M(2020, 6), history)
    assert row(deep_cut, 1) is None and "抵扣" in reason(deep_cut, 1)
    (carried,) = deep_cut.recoveries
    assert carried.amount == 3 * 70000 - 40000 and not carried.via_bank
    assert carried.months == (M(2020, 3), M(2020, 4), M(2020, 5))

    # Flagged by the history, later months keep netting until the overpayment is gone.
    history.flag("QYJS", pid(1))
    open_amount = carried.amount
    month = M(2020, 7)
    while open_amount > 0:
        computed = compute_month([raised(40000)], [person(1)], [], month, history)
        history.record(computed)
        if computed.recoveries:
            assert computed.recoveries[0].amount == open_amount - 40000
            open_amount = computed.recoveries[0].amount
        else:
            first_paid = row(computed, 1)
            assert first_paid["amount"] == 40000 - open_amount
            open_amount = 0
        month = month.next()
    assert month == M(2020, 12)


# --- account and tier changes -----------------------------------------------------------------


def test_account_change_pays_to_the_new_account():
    change = LifeEvent(
        pid(1),
        "QYJS",
        ACCOUNT_CHANGE,
        date(2020, 4, 2),
        detail={"bank": "农行", "account": "6228480000000000000"},
    )
    history = DictHistory({("QYJS", pid(1)): months(M(2020, 1), M(2020, 4), 110000)})
    paid = row(compute_month(SCHEMES, [person(1)], [change], M(2020, 5), history), 1)
    assert (paid["bank"], paid["account"], paid["account_name"]) == (
        "农行",
        "6228480000000000000",
        "人员1",
    )
    assert paid["amount"] == 110000


def test_tier_change_reported_late_pays_the_difference():
    change = LifeEvent(pid(1), "LGB", TIER_CHANGE, date(2020, 3, 1), detail={"tier": "二档"})
    history = DictHistory({("LGB", pid(1)): months(M(2020, 1), M(2020, 4), 58000)})
    paid = row(
        compute_month(SCHEMES, [person(1, "LGB", tier="一档")], [change], M(2020, 5), history),
        1,
        "LGB",
    )
    assert (paid["standard"], paid["back_pay"]) == (62000, 2 * 4000)


# --- the vectorised path against a plain reference ----------------------------------------------


def reference_owed(
    b: Beneficiary, scheme: Scheme, events: list[LifeEvent], m: Month, now: Month
) -> int:
    """What `b` is owed for month `m`, knowing the events effective by `now` — written plainly."""
    known = sorted(
        (e for e in events if Month.of(e.day) <= now),
        key=lambda e: (
            e.day,
            [ACCOUNT_CHANGE, TIER_CHANGE, RESUME, SUSPEND, STOP, DEATH].index(e.kind),
        ),
    )
    if m < b.start:
        return 0
    deaths = [Month.of(e.day) for e in known if e.kind == DEATH]
    if deaths and m > deaths[0]:
        return 0
    stops = [Month.of(e.day) for e in known if e.kind == STOP]
    if stops and m >= stops[0]:
        return 0
    open_from = None
    for e in known:
        if e.kind == SUSPEND and open_from is None:
            open_from = Month.of(e.day)
        elif e.kind == RESUME:
            open_from = None
    if open_from is not None and m >= open_from:
        return 0
    tier = b.tier
    for e in known:
        if e.kind == TIER_CHANGE and Month.of(e.day) <= m:
            tier = e.detail["tier"]
    return scheme.standard(m, tier) or 0


event_kinds = st.sampled_from([DEATH, SUSPEND, RESUME, STOP, TIER_CHANGE, ACCOUNT_CHANGE])


@st.composite
def year_of_events(draw):
    size = draw(st.integers(1, 8))
    roster = []
    for n in range(size):
        scheme = draw(st.sampled_from(["QYJS", "LGB"]))
        tier = draw(st.sampled_from(["一档", "二档"])) if scheme == "LGB" else ""
        roster.append(person(n, scheme, M(2020, draw(st.integers(1, 6))), tier))
    events = []
    for b in roster:
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(event_kinds)
            day = date(2020, draw(st.integers(1, 12)), draw(st.integers(1, 28)))
            late = draw(st.integers(0, 90))
            reported = date.fromordinal(day.toordinal() + late)
            detail = {}
            if kind == TIER_CHANGE:
                if b.scheme != "LGB":
                    continue
                detail = {"tier": draw(st.sampled_from(["一档", "二档"]))}
            if kind == ACCOUNT_CHANGE:
                detail = {"bank": "农行", "account": "6228480000000000000"}
            events.append(LifeEvent(b.person_id, b.scheme, kind, day, reported, detail))
    raise_at = draw(st.sampled_from([None, *range(2, 12)]))
    schemes = list(SCHEMES)
    if raise_at is not None:
        start = M(2020, draw(st.integers(1, raise_at)))
        amount = draw(st.sampled_from([40000, 100000, 120000]))
        schemes[0] = raised(amount, start, M(2020, raise_at))
    return roster, events, schemes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(year_of_events())
def test_a_year_run_month_by_month_pays_exactly_what_is_owed(case):
    """Each month: events are known once reported; the vectorised run equals the per-person run
    (everyone compared with the history); and afterwards every person's payments add up to what
    they are owed, less exactly the open recovery (or plus what is owed to a deceased person)."""
    roster, events, schemes = case
    by_code = {s.code: s for s in schemes}
    history = DictHistory()
    month = M(2020, 1)
    while True:
        month_end = date(2020, month.month, 28)
        known = [e for e in events if (e.reported or e.day) <= month_end]
        everyone = DictHistory(history.as_dict(), [(b.scheme, b.person_id) for b in roster])
        computed = compute_month(schemes, roster, events, month, history, known_by=month_end)
        by_person = compute_month(schemes, roster, known, month, everyone)
        assert computed.payments.equals(by_person.payments)
        assert computed.details == by_person.details
        assert computed.recoveries == by_person.recoveries
        history.record(computed)
        if month == M(2020, 12):
            break
        month = month.next()

    final = [e for e in events if (e.reported or e.day) <= date(2020, 12, 28)]
    open_recoveries = {(r.scheme, r.person_id): r.amount for r in computed.recoveries}
    for b in roster:
        mine = [e for e in final if e.person_id == b.person_id and e.scheme == b.scheme]
        owed = sum(
            reference_owed(b, by_code[b.scheme], mine, m, M(2020, 12))
            for m in months(M(2020, 1), M(2020, 12), 0)
        )
        paid = sum(history.paid(b.scheme, b.person_id).values())
        difference = paid - owed
        if difference > 0:
            assert open_recoveries.get((b.scheme, b.person_id)) == difference
        else:
            assert (b.scheme, b.person_id) not in open_recoveries
            if difference < 0:
                # Only a person who cannot be paid now is left with money owed to them.
                assert computed.skipped.filter(pl.col("person_id") == b.person_id).height == 1


def test_large_plain_roster_never_touches_the_history():
    roster = pl.DataFrame(
        {
            "person_id": [pid(n) for n in range(500)],
            "name": [f"人员{n}" for n in range(500)],
            "scheme": ["QYJS"] * 500,
            "tier": [None] * 500,
            "start": [202001] * 500,
            "bank": ["工商银行"] * 500,
            "account": [f"62220202{n:011d}" for n in range(500)],
            "account_name": [None] * 500,
        }
    )
    history = DictHistory()
    computed = compute_month(SCHEMES, roster, [], M(2020, 2), history)
    assert computed.payments["amount"].sum() == 500 * 110000
    first = min(range(500), key=pid)
    assert computed.payments.row(0, named=True)["account_name"] == f"人员{first}"
    assert history.lookups == 0

"""The figures and the fund request aggregated by the database (`services.monthly_figures`,
`yearly_figures`, `fund_request`) equal the engine's (`disbursement.statistics` over every
stored payment) on random states: payments in every status over two years, chains of
re-issues, cancellations, withdrawn payments, persons paid in several months, paid dates on
either side of the payment day (a day past the month's end included), paid without a date, a
scheme with nothing paid. Runs on SQLite and, with JUESUAN_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from juesuan.disbursement import model as core
from juesuan.disbursement import statistics
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import SENT_BACK, Payment, Run, Scheme
from web.test_disbursement_support import person_id

MONTHS = [core.Month(2020, m) for m in (1, 2, 4, 12)] + [core.Month(2021, 2)]
ENDS = (core.SENT, core.PAID, core.PAID, core.RETURNED, core.CANCELLED, core.PENDING)


def _chain(rng: random.Random) -> list[str]:
    """The statuses of one key's sequence 1, 2, …"""
    if rng.random() < 0.7:
        return [rng.choice((*ENDS, core.WITHDRAWN))]
    chain = [core.REISSUED]
    while rng.random() < 0.3:
        chain.append(core.REISSUED)
    return [*chain, rng.choice((*ENDS, core.WITHDRAWN))]


def _paid_on(rng: random.Random, month: core.Month, payment_day: int) -> date | None:
    if rng.random() < 0.1:
        return None
    day = min(payment_day, 28)
    around = date(month.year, month.month, day) + timedelta(days=rng.choice((-3, -1, 0, 1, 2)))
    if rng.random() < 0.1:  # paid after the month (a late re-issue)
        around += timedelta(days=40)
    return around


def _random_state(unit, seed: int) -> None:
    rng = random.Random(seed)
    schemes = [
        Scheme.objects.create(unit=unit, code=code, name=f"补贴{code}", payment_day=day)
        for code, day in (("QYJS", 10), ("LXRY", 31), ("LGB", 28), ("NONE", 15))
    ]
    runs = {
        step: Run.objects.create(unit=unit, kind=core.REGULAR, month="2020-01", number=n, step=step)
        for n, step in enumerate((core.APPROVED, core.PREPARED, SENT_BACK), 1)
    }
    rows = []
    for _ in range(rng.randrange(30, 120)):
        scheme = rng.choice(schemes[:3])
        month = rng.choice(MONTHS)
        person = person_id(rng.randrange(15))  # few persons: several payments each
        amount = rng.choice((58000, 110000, 310000, 110050))
        for sequence, status in enumerate(_chain(rng), 1):
            run = {core.PENDING: core.PREPARED, core.WITHDRAWN: SENT_BACK}.get(
                status, core.APPROVED
            )
            paid = status == core.PAID or (status != core.PENDING and rng.random() < 0.05)
            rows.append(
                Payment(
                    unit=unit,
                    run=runs[run],
                    scheme=scheme,
                    person_id=person,
                    month=str(month),
                    sequence=sequence,
                    name="张三",
                    bank="银行",
                    account="6222020200000000001",
                    account_name="张三",
                    amount=amount,
                    status=status,
                    paid_on=_paid_on(rng, month, scheme.payment_day) if paid else None,
                )
            )
    Payment.objects.bulk_create(rows, ignore_conflicts=True)


@pytest.mark.parametrize("seed", range(10))
def test_database_figures_equal_the_engine(world, seed):
    unit = world.unit
    _random_state(unit, seed)
    payments = list(services.stored_payments(unit))
    schemes = services.unit_schemes(unit)
    assert payments and any(p.status == core.PAID for p in payments)
    for month in [*MONTHS, core.Month(2020, 3)]:
        assert services.monthly_figures(unit, month) == statistics.monthly_figures(
            payments, schemes, month
        ), month
        assert services.fund_request(unit, month) == statistics.fund_request(
            payments, schemes, month
        ), month
    for year in (2019, 2020, 2021):
        assert services.yearly_figures(unit, year) == statistics.yearly_figures(
            payments, schemes, year
        ), year


def test_figures_by_hand(world):
    """One scheme, one month, each rule seen once: a re-issue counts as a second payment made,
    the person once; on time is by the payment day (31 → 29 February 2020)."""
    unit = world.unit
    scheme = Scheme.objects.create(unit=unit, code="LXRY", name="离休", payment_day=31)
    Scheme.objects.create(unit=unit, code="QYJS", name="企业教师", project="教师补贴")
    run = Run.objects.create(
        unit=unit, kind=core.REGULAR, month="2020-02", number=1, step=core.APPROVED
    )
    common = dict(unit=unit, run=run, scheme=scheme, month="2020-02", amount=310000, name="张")

    def pay(n: int, sequence: int, status: str, paid_on: date | None = None) -> None:
        Payment.objects.create(
            person_id=person_id(n), sequence=sequence, status=status, paid_on=paid_on, **common
        )

    pay(1, 1, core.PAID, date(2020, 2, 29))  # on time: the last day of February
    pay(2, 1, core.REISSUED)
    pay(2, 2, core.PAID, date(2020, 3, 2))  # late
    pay(3, 1, core.CANCELLED)
    pay(4, 1, core.PENDING)
    lxry, qyjs = services.monthly_figures(unit, core.Month(2020, 2))
    assert (lxry.persons, lxry.payments, lxry.amount, lxry.returned, lxry.on_time) == (
        2,
        4,
        620000,
        2,
        1,
    )
    assert (qyjs.scheme, qyjs.persons, qyjs.payments, qyjs.amount) == ("QYJS", 0, 0, 0)
    request = services.fund_request(unit, core.Month(2020, 2))
    assert [(x.scheme, x.project, x.persons, x.payments, x.amount) for x in request] == [
        ("LXRY", "离休", 4, 4, 1240000),
        ("QYJS", "教师补贴", 0, 0, 0),
    ]


def test_a_unit_without_schemes_has_no_figures(world):
    unit = world.unit
    month = core.Month(2020, 3)
    assert services.monthly_figures(unit, month) == []
    assert services.yearly_figures(unit, 2020) == []
    assert services.fund_request(unit, month) == []

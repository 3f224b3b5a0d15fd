"""The conservation balance computed by the database (`services.stored_balance`) equals the
reference, `transitions.balance` over every stored payment, on random states: regular
payments in every status, chains of re-issues (approved, awaiting approval, returned again),
cancellations, withdrawn payments, a re-issue missing or with a tampered amount, and a re-issue
whose original was never re-issued. Runs on SQLite and, with JUESUAN_TEST_DATABASE_URL, on
PostgreSQL."""

from __future__ import annotations

import random

import pytest

from juesuan.disbursement import model as core
from juesuan.disbursement import transitions as rules
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import Payment, Run, Scheme
from web.test_disbursement_support import person_id

SETTLED = (core.SENT, core.PAID, core.RETURNED, core.CANCELLED)


def _chain(rng: random.Random) -> list[tuple[str, int]]:
    """(status, amount delta) for sequence 1, 2, …: one key's history."""
    kind = rng.random()
    if kind < 0.45:
        return [(rng.choice((*SETTLED, core.PENDING)), 0)]
    if kind < 0.5:
        return []  # only a withdrawn payment (the sent-back run's), or nothing
    statuses = [core.REISSUED]
    while rng.random() < 0.3:  # a re-issue returned and re-issued again
        statuses.append(core.REISSUED)
    statuses.append(rng.choice((*SETTLED, core.PENDING, core.WITHDRAWN)))
    chain = [(s, 0) for s in statuses]
    odd = rng.random()
    if odd < 0.1:
        chain = chain[:-1]  # the re-issue is missing
    elif odd < 0.2:
        position = rng.randrange(1, len(chain))
        chain[position] = (chain[position][0], rng.choice((-1, 1, 5000)))  # tampered amount
    elif odd < 0.25:
        chain[0] = (core.RETURNED, 0)  # a re-issue whose original is not REISSUED
    elif odd < 0.3:
        chain.insert(1, (core.WITHDRAWN, 0))  # a gap: sequence 2 withdrawn, 3 present
    return chain


def _random_state(unit, seed: int) -> None:
    rng = random.Random(seed)
    schemes = [Scheme.objects.create(unit=unit, code=code, name=code) for code in ("QYJS", "LGB")]
    runs = {
        step: Run.objects.create(unit=unit, kind=core.REGULAR, month="2020-03", number=n, step=step)
        for n, step in enumerate((core.APPROVED, core.PREPARED), 1)
    }
    rows = []
    for n in range(rng.randrange(20, 60)):
        scheme = rng.choice(schemes)
        month = rng.choice(("2020-02", "2020-03"))
        base = rng.choice((58000, 110000, 310000, 110050))
        for sequence, (status, delta) in enumerate(_chain(rng), 1):
            if status == core.WITHDRAWN:
                continue  # withdrawn payments leave the payment table
            run = runs[core.PREPARED if status == core.PENDING else core.APPROVED]
            rows.append(
                Payment(
                    unit=unit,
                    run=run,
                    scheme=scheme,
                    person_id=person_id(n),
                    month=month,
                    sequence=sequence,
                    name="张三",
                    bank="银行",
                    account="6222020200000000001",
                    account_name="张三",
                    amount=base + delta,
                    status=status,
                )
            )
    Payment.objects.bulk_create(rows, ignore_conflicts=True)


@pytest.mark.parametrize("seed", range(12))
def test_database_balance_equals_the_rule(world, seed):
    unit = world.unit
    _random_state(unit, seed)
    reference = rules.balance(services.stored_payments(unit))
    assert services.stored_balance(unit) == reference
    assert services.conservation(unit).balance == reference


def test_balance_of_an_empty_unit(world):
    assert services.stored_balance(world.unit) == rules.balance([])


def test_tampered_amount_is_a_problem(world):
    unit = world.unit
    scheme = Scheme.objects.create(unit=unit, code="QYJS", name="QYJS")
    run = Run.objects.create(
        unit=unit, kind=core.REGULAR, month="2020-03", number=1, step="approved"
    )
    common = dict(
        unit=unit,
        run=run,
        scheme=scheme,
        person_id=person_id(1),
        month="2020-03",
        name="张三",
        bank="银行",
        account="6222020200000000001",
        account_name="张三",
    )
    Payment.objects.create(sequence=1, amount=110000, status=core.REISSUED, **common)
    Payment.objects.create(sequence=2, amount=110001, status=core.PAID, **common)
    found = services.stored_balance(unit)
    assert found == rules.balance(services.stored_payments(unit))
    assert found.approved == 110000 and found.paid == 110001 and not found.ok
    assert "110001" in found.problems[0]

"""What a change would do to a person's next payment, before it is saved.

The change is made inside a transaction that is then rolled back, and the person's next month
is computed in between by `compute_month` over the stored history, as the monthly run computes
it: the preview cannot differ from what the run will pay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from juesuan.disbursement import model as core
from juesuan.web.accounts.models import Unit
from juesuan.web.disbursement.models import Beneficiary, LifeEvent, Run, Standard
from juesuan.web.disbursement.services.common import yuan
from juesuan.web.disbursement.services.roster import core_schemes


def next_month(unit: Unit) -> core.Month:
    """The month the next regular run pays: the one after the last approved, else this month."""
    return next_month_and_why(unit)[0]


def next_month_and_why(unit: Unit) -> tuple[core.Month, str]:
    """`next_month`, with the reason a page gives for it."""
    last = (
        Run.objects.filter(unit=unit, kind=core.REGULAR, step=core.APPROVED)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    if last:
        return core.Month.parse(last).next(), f"上一个已审批的月份 {last} 的次月"
    return core.Month.of(timezone.localdate()), (
        "本单位还没有审批通过的月度发放，暂按本月计；首次发放的月份在生成批次时选择"
    )


def office_years(unit: Unit) -> list[int]:
    """The years whose months the office picks from (newest first): the next month's year and
    the year before. Until a regular run is approved the next month is this month, so the list
    goes back to the year of the unit's latest standards: a unit set up with an earlier year's
    schemes (as the example's 2020 ones) pays that year's months first."""
    coming = next_month(unit).year
    first = coming - 1
    if not Run.objects.filter(unit=unit, kind=core.REGULAR, step=core.APPROVED).exists():
        latest = (
            Standard.objects.filter(scheme__unit=unit)
            .order_by("-start")
            .values_list("start", flat=True)
            .first()
        )
        if latest:
            first = min(first, core.Month.parse(latest).year)
    return list(range(coming, first - 1, -1))


@dataclass(frozen=True)
class NextPayment:
    """One person's payment for a month as the run would compute it (all amounts 分)."""

    month: core.Month
    amount: int = 0
    standard: int = 0
    back_pay: int = 0
    recovery: int = 0
    skipped: str = ""  # why nothing is paid, when nothing is
    owed_back: int = 0  # an open receivable left after this month
    bank: str = ""  # where it is paid, when it is
    account: str = ""

    def describe(self) -> str:
        """The payment in one Chinese sentence."""
        if not self.amount:
            text = f"{self.month} 不发放" + (f"：{self.skipped}" if self.skipped else "")
        else:
            parts = [f"当月标准 {yuan(self.standard)} 元"] if self.standard else []
            if self.back_pay:
                parts.append(f"补发 {yuan(self.back_pay)} 元")
            if self.recovery:
                parts.append(f"扣回 {yuan(self.recovery)} 元")
            text = f"{self.month} 发放 {yuan(self.amount)} 元（{'，'.join(parts)}）"
        if self.owed_back:
            text += f"；另有 {yuan(self.owed_back)} 元待追回"
        return text + "。"


@dataclass(frozen=True)
class Preview:
    before: NextPayment
    after: NextPayment

    @property
    def changes(self) -> bool:
        return self.before != self.after

    @property
    def new_account(self) -> bool:
        """Paid both times, into another account after the change."""
        before, after = self.before, self.after
        return bool(before.account and after.account) and (before.bank, before.account) != (
            after.bank,
            after.account,
        )


def next_payment(unit: Unit, scheme: str, person_id: str, month: core.Month) -> NextPayment:
    """The person's payment for `month` from the stored roster, events and history."""
    from juesuan.disbursement.compute import compute_month
    from juesuan.web.disbursement.services.runs import DatabaseHistory

    people = Beneficiary.objects.filter(unit=unit, scheme__code=scheme, person_id=person_id)
    events = LifeEvent.objects.filter(unit=unit, scheme__code=scheme, person_id=person_id)
    computed = compute_month(
        [s for s in core_schemes(unit) if s.code == scheme],
        [b.as_core() for b in people.select_related("scheme")],
        [e.as_core() for e in events.select_related("scheme")],
        month,
        DatabaseHistory(unit),
    )
    owed = sum(r.amount for r in computed.recoveries)
    rows = computed.payments.to_dicts()
    if rows:
        row = rows[0]
        return NextPayment(
            month,
            amount=row["amount"],
            standard=row["standard"],
            back_pay=row["back_pay"],
            recovery=row["recovery"],
            owed_back=owed,
            bank=row["bank"] or "",
            account=row["account"] or "",
        )
    reasons = computed.skipped["reason"].to_list() if computed.skipped.height else []
    return NextPayment(month, skipped="；".join(reasons), owed_back=owed)


def preview(
    unit: Unit, scheme: str, person_id: str, change: Callable[[], object], month=None
) -> Preview:
    """The person's next payment without and with `change` (a function making it in the
    database); the change is rolled back."""
    month = month or next_month(unit)
    before = next_payment(unit, scheme, person_id, month)
    with transaction.atomic():
        change()
        after = next_payment(unit, scheme, person_id, month)
        transaction.set_rollback(True)
    return Preview(before, after)

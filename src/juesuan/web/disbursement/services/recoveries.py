"""Recoveries (追回) settled in the database: a collection or write-off entered by 经办, checked
by 复核, a write-off approved by 审批; the totals the 资金守恒 page shows.

The rules — which step from which state, by whom, for how much — are
`juesuan.disbursement.recoveries`; each step here locks the recovery row, hands the rules the
recovery with all its settlements, stores what they decided, keeps the recovery's `collected`,
`written_off` and `status` in step, and writes the audit log, in one transaction.

Which recoveries are settled here: those the computation could not net against a later payment
(`detail.via_bank`: the person died or was terminated). The others are netted automatically by
the following months' computations, so money collected by hand for them would be recovered
twice. Each debt is one row (the monthly run updates it when the computation states it again,
`runs._store_recoveries`), so it is listed, settled and counted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from juesuan.disbursement import recoveries as rules
from juesuan.web.accounts.access import roles_on
from juesuan.web.accounts.models import Unit, User
from juesuan.web.audit.log import record
from juesuan.web.disbursement.models import Recovery, RecoverySettlement
from juesuan.web.disbursement.services.common import Outcome, refused, yuan


def receivables(unit: Unit) -> list[Recovery]:
    """The unit's recoveries to settle by hand (via the bank), oldest first."""
    rows = Recovery.objects.filter(unit=unit).select_related("scheme").order_by("month", "pk")
    return [recovery for recovery in rows if recovery.via_bank]


@dataclass(frozen=True)
class RecoveryTotals:
    """应追回 (due), 已追回 (collected), 已核销 (written off), 待追回 (outstanding), in 分."""

    count: int
    due: int
    collected: int
    written_off: int

    @property
    def outstanding(self) -> int:
        return self.due - self.collected - self.written_off


def recovery_totals(unit: Unit) -> RecoveryTotals:
    found = receivables(unit)
    return RecoveryTotals(
        count=len(found),
        due=sum(r.amount for r in found),
        collected=sum(r.collected for r in found),
        written_off=sum(r.written_off for r in found),
    )


def _receivable(recovery: Recovery) -> tuple[rules.Receivable, list[RecoverySettlement]]:
    rows = list(
        recovery.settlements.select_related("entered_by", "checked_by", "approved_by").order_by(
            "pk"
        )
    )
    return rules.Receivable(recovery.amount, tuple(s.as_rule() for s in rows)), rows


def _keep_sums(recovery: Recovery, receivable: rules.Receivable) -> dict:
    """Store what the settlements that count add up to; returns the recovery's before."""
    before = {
        "status": recovery.status,
        "collected_fen": recovery.collected,
        "written_off_fen": recovery.written_off,
    }
    recovery.collected = receivable.collected
    recovery.written_off = receivable.written_off
    recovery.status = receivable.status
    recovery.save(update_fields=["collected", "written_off", "status"])
    return before


def _after(recovery: Recovery) -> dict:
    return {
        "status": recovery.status,
        "collected_fen": recovery.collected,
        "written_off_fen": recovery.written_off,
        "outstanding_fen": recovery.outstanding,
    }


def _target(recovery: Recovery) -> str:
    return f"追回 {recovery.scheme.code}/{recovery.person_id}/{recovery.month}"


def _locked(unit: Unit, recovery_id: int) -> Recovery | None:
    return (
        Recovery.objects.select_for_update(of=("self",))
        .select_related("scheme")
        .filter(unit=unit, pk=recovery_id)
        .first()
    )


def enter_settlement(
    unit: Unit,
    user: User,
    recovery_id: int,
    *,
    method: str,
    amount: int,
    day: date,
    note: str = "",
) -> Outcome:
    """经办 records a collection (amount in 分) or asks for a write-off; it counts once checked
    (a write-off: once approved)."""
    with transaction.atomic():
        recovery = _locked(unit, recovery_id)
        if recovery is None:
            return refused("没有这笔追回。")
        if not recovery.via_bank:
            return refused(
                "这笔多发款在以后月份的发放中自动抵扣，无需登记；"
                "只有已无后续发放可抵扣（需通过银行或家属追回）的款项在这里登记。"
            )
        receivable, rows = _receivable(recovery)
        entry = rules.Settlement(method, amount, day, user.username, note.strip())
        for row, known in zip(rows, receivable.settlements, strict=True):
            same = (known.method, known.amount, known.day, known.entered_by, known.note)
            if known.waiting and same == (method, amount, day, user.username, note.strip()):
                return Outcome(
                    True, "同样的登记已录入，尚待复核，无变化。", data={"settlement": row.pk}
                )
        refusal = rules.check_entry(receivable, entry, user.username, roles_on(user, unit))
        if refusal:
            return refused(refusal.text)
        settlement = RecoverySettlement.objects.create(
            unit=unit,
            recovery=recovery,
            method=method,
            amount=amount,
            day=day,
            note=entry.note,
            entered_by=user,
        )
        record(
            "pay_recovery_enter",
            user=user,
            unit=unit,
            year=day.year,
            target=_target(recovery),
            summary=(
                f"登记{settlement.method_name}：{_target(recovery)}，{yuan(amount)} 元，"
                f"日期 {day.isoformat()}"
            ),
            after={
                "settlement": settlement.pk,
                "method": method,
                "amount_fen": amount,
                "day": day.isoformat(),
                "note": entry.note,
            },
        )
    waits = "待复核后由审批人审批" if method == rules.WRITE_OFF else "待复核"
    return Outcome(
        True,
        f"已登记{settlement.method_name} {yuan(amount)} 元，{waits}。",
        changed=True,
        data={"settlement": settlement.pk},
    )


def _decide(unit: Unit, user: User, settlement_id: int, *, accept: bool, approving: bool):
    """复核 (approving False) or 审批 (True) of one settlement, in one transaction."""
    recovery_id = (
        RecoverySettlement.objects.filter(unit=unit, pk=settlement_id)
        .values_list("recovery_id", flat=True)
        .first()
    )
    if recovery_id is None:
        return refused("没有这条追回登记。")
    with transaction.atomic():
        recovery = _locked(unit, recovery_id)  # the recovery first: its sums change
        receivable, rows = _receivable(recovery)
        index = next(i for i, row in enumerate(rows) if row.pk == settlement_id)
        entry = receivable.settlements[index]
        # This step taken already (or the settlement decided otherwise): nothing changes.
        if approving:
            already = entry.write_off and entry.state in (rules.APPROVED, rules.REJECTED)
        else:
            already = entry.state != rules.ENTERED
        if already:
            return Outcome(True, f"这条{rows[index].method_name}登记{entry.state_name}，无变化。")
        check = rules.check_approval if approving else rules.check_review
        refusal = check(receivable, index, user.username, roles_on(user, unit), accept=accept)
        if refusal:
            return refused(refusal.text)
        step = rules.approve if approving else rules.review
        receivable = step(receivable, index, user.username, accept=accept)
        row = rows[index]
        row.state = receivable.settlements[index].state
        if approving:
            row.approved_by, row.approved_at = user, timezone.now()
            fields = ["state", "approved_by", "approved_at"]
        else:
            row.checked_by, row.checked_at = user, timezone.now()
            fields = ["state", "checked_by", "checked_at"]
        row.save(update_fields=fields)
        before = _keep_sums(recovery, receivable)
        verb = ("审批" if approving else "复核") + ("通过" if accept else "未通过")
        record(
            "pay_recovery_approve" if approving else "pay_recovery_check",
            user=user,
            unit=unit,
            year=row.day.year,
            target=_target(recovery),
            summary=(
                f"{verb}{row.method_name}：{_target(recovery)}，{yuan(row.amount)} 元；"
                f"待追回 {yuan(recovery.outstanding)} 元"
            ),
            before={"settlement": row.pk, "state": entry.state, **before},
            after={"settlement": row.pk, "state": row.state, **_after(recovery)},
        )
    if not accept:
        text = f"{row.method_name} {yuan(row.amount)} 元{verb}，不计入追回。"
    elif row.state == rules.CHECKED and row.method == rules.WRITE_OFF:
        text = f"核销 {yuan(row.amount)} 元已复核，待审批。"
    else:
        done = "已审批同意" if row.method == rules.WRITE_OFF else "已入账"
        text = (
            f"{row.method_name} {yuan(row.amount)} 元{done}；"
            f"这笔追回{recovery.status_name}，待追回 {yuan(recovery.outstanding)} 元。"
        )
    return Outcome(True, text, changed=True, data={"recovery": recovery.pk})


def check_settlement(unit: Unit, user: User, settlement_id: int, *, accept: bool = True) -> Outcome:
    """复核 checks a settlement entered by someone else: a collection then counts."""
    return _decide(unit, user, settlement_id, accept=accept, approving=False)


def approve_write_off(
    unit: Unit, user: User, settlement_id: int, *, accept: bool = True
) -> Outcome:
    """审批 approves (or not) a checked write-off: it then counts."""
    return _decide(unit, user, settlement_id, accept=accept, approving=True)

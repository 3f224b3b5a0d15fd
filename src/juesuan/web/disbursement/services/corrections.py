"""Returned payments corrected, checked and re-issued in a supplementary run; cancellation."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from juesuan.disbursement import model as core
from juesuan.disbursement import transitions as rules
from juesuan.ledger.issues import ERROR
from juesuan.web.accounts.access import roles_on
from juesuan.web.accounts.models import Unit, User
from juesuan.web.audit.log import record
from juesuan.web.disbursement.models import (
    CHECKED,
    ENTERED,
    REJECTED,
    Correction,
    Payment,
    Run,
    Scheme,
)
from juesuan.web.disbursement.services import common, events
from juesuan.web.disbursement.services.common import (
    Outcome,
    refused,
    who,
    yuan,
)
from juesuan.web.disbursement.services.preview import Preview, preview
from juesuan.web.disbursement.services.runs import component_values, next_run_number, set_totals

# ---- corrections, re-issue, cancellation ---------------------------------------------------------


def record_correction_reveal(unit: Unit, user: User, correction: Correction, request=None):
    """The audit log's line for one look at a waiting correction's full account number."""
    reference = correction.payment.reference
    record(
        "pay_correction_reveal",
        request=request,
        user=user,
        unit=unit,
        target=reference,
        summary=f"复核时查看付款 {reference} 更正后的完整银行账号",
    )


def enter_correction(
    unit: Unit,
    user: User,
    payment_id: int,
    *,
    name: str,
    bank: str,
    account: str,
    account_name: str,
    note: str = "",
) -> Outcome:
    """经办 enters new payee details for a returned payment."""
    from juesuan.disbursement.banks.fields import FORMULA_ACCEPTED, FORMULA_REFUSED, formula_like
    from juesuan.disbursement.roster import check_account

    with transaction.atomic():
        payment = _locked_payment(unit, payment_id)
        if payment is None:
            return refused("没有这笔付款。")
        refusal = rules.check_correction_entry(payment.status, user.username, roles_on(user, unit))
        if refusal:
            return refused(refusal.text)
        digits, error, warning = check_account(account)
        if error:
            return refused(f"银行账号：{error}")
        if not (name.strip() and bank.strip()):
            return refused("请填写姓名和开户银行。")
        for title, text in (("姓名", name), ("开户银行", bank), ("账户名", account_name)):
            if formula_like(text.strip()):
                return refused(
                    f"{title}“{text.strip()}”{FORMULA_REFUSED}；应为{FORMULA_ACCEPTED}。"
                )
        live = Correction.objects.filter(payment=payment).exclude(status=REJECTED).first()
        if live is not None:
            return Outcome(True, f"这笔付款已有更正（{live.status_name}），无变化。")
        correction = Correction.objects.create(
            unit=unit,
            payment=payment,
            name=name.strip(),
            bank=bank.strip(),
            account=digits,
            account_name=(account_name or name).strip(),
            note=note,
            status=ENTERED,
            entered_by=user,
        )
        record(
            "pay_correct",
            user=user,
            unit=unit,
            year=int(payment.month[:4]),
            target=payment.reference,
            summary=f"录入更正：{payment.reference}（退回原因 {payment.reason_code}）",
            before={
                "name": payment.name,
                "bank": payment.bank,
                "account": payment.account,
                "account_name": payment.account_name,
            },
            after={
                "name": correction.name,
                "bank": correction.bank,
                "account": correction.account,
                "account_name": correction.account_name,
            },
        )
    text = "更正已录入，待复核。" + (f"（提示：{warning}）" if warning else "")
    return Outcome(True, text, changed=True, data={"correction": correction.pk})


def _core_correction(c: Correction) -> rules.Correction:
    return rules.Correction(
        key=c.payment.key,
        name=c.name,
        bank=c.bank,
        account=c.account,
        account_name=c.account_name,
        entered_by=who(c.entered_by),
        checked_by=who(c.checked_by) if c.status == CHECKED else "",
        note=c.note,
    )


def check_correction(unit: Unit, user: User, correction_id: int, *, accept: bool = True) -> Outcome:
    """复核 checks a correction entered by someone else: accept (it can be re-issued) or reject."""
    with transaction.atomic():
        correction = (
            Correction.objects.select_for_update(of=("self",))
            .select_related("payment__scheme", "entered_by", "checked_by")
            .filter(unit=unit, pk=correction_id)
            .first()
        )
        if correction is None:
            return refused("没有这条更正。")
        if correction.status == REJECTED:
            return Outcome(True, "这条更正已被退回，无变化。")
        refusal = rules.check_correction(
            _core_correction(correction), user.username, roles_on(user, unit)
        )
        if refusal:
            if correction.status == CHECKED:
                return Outcome(True, refusal.text)
            return refused(refusal.text)
        correction.status = CHECKED if accept else REJECTED
        correction.checked_by = user
        correction.checked_at = timezone.now()
        correction.save(update_fields=["status", "checked_by", "checked_at"])
        record(
            "pay_check_correction",
            user=user,
            unit=unit,
            year=int(correction.payment.month[:4]),
            target=correction.payment.reference,
            summary=f"复核更正{'通过' if accept else '未通过'}：{correction.payment.reference}",
            after={"status": correction.status},
        )
    return Outcome(
        True,
        "更正复核通过，可生成补发批次。" if accept else "更正已退回经办。",
        changed=True,
    )


def prepare_supplementary_run(unit: Unit, user: User, month: core.Month | None = None) -> Outcome:
    """经办 gathers the returned payments with checked corrections into a supplementary run
    (补发批次): each re-issued once (`transitions.reissue`), same amount, key sequence + 1.
    The run is booked in `month`, by default the latest month of the payments it re-issues."""
    refusal = rules.check_step(None, core.PREPARED, user.username, roles_on(user, unit))
    if refusal:
        return refused(refusal.text)
    with transaction.atomic():
        list(Scheme.objects.select_for_update().filter(unit=unit).order_by("pk"))
        corrections = list(
            Correction.objects.select_for_update(of=("self",))
            .select_related("payment__scheme", "entered_by", "checked_by")
            .filter(unit=unit, status=CHECKED, payment__status=core.RETURNED)
            .order_by("payment__scheme__code", "payment__person_id", "payment__month")
        )
        if not corrections:
            return Outcome(True, "没有已复核、待重发的退回付款，无变化。")
        payments = {
            p.pk: p
            for p in Payment.objects.select_for_update().filter(
                pk__in=[c.payment_id for c in corrections]
            )
        }
        # Booked in the month the re-issued payments are for (the latest of them), not today's.
        month = month or max(core.Month.parse(c.payment.month) for c in corrections)
        run = Run.objects.create(
            unit=unit,
            kind=core.SUPPLEMENTARY,
            month=str(month),
            number=next_run_number(unit),
            schemes=sorted({c.payment.scheme.code for c in corrections}),
            step=core.PREPARED,
            prepared_by=user,
            prepared_at=timezone.now(),
        )
        new = []
        for correction in corrections:
            original = payments[correction.payment_id]
            line = rules.reissue(
                original.as_core(correction.payment.scheme.code),
                _core_correction(correction),
                component_values(original.month, original.amount, original.components),
            )
            if isinstance(line, rules.Refusal):
                raise RuntimeError(f"{original.reference}：{line.text}")
            new.append(
                Payment(
                    unit=unit,
                    run=run,
                    scheme_id=original.scheme_id,
                    person_id=line.key.person_id,
                    month=str(line.key.month),
                    sequence=line.key.sequence,
                    name=line.name,
                    bank=line.bank,
                    account=line.account,
                    account_name=line.account_name,
                    standard=original.standard,
                    back_pay=original.back_pay,
                    recovery=original.recovery,
                    amount=line.amount,
                    status=core.PENDING,
                    reissue_of=original,
                    components=original.components,
                )
            )
        Payment.objects.bulk_create(new)
        Payment.objects.filter(pk__in=list(payments)).update(status=core.REISSUED)
        set_totals(run)
        common.crash_point("supplementary.persisted")
        record(
            "pay_supplementary",
            user=user,
            unit=unit,
            year=month.year,
            target=f"{month} 第 {run.number} 批（补发）",
            summary=f"生成补发批次第 {run.number} 批：重发 {run.count} 笔，{yuan(run.total)} 元",
            after={
                "run": run.number,
                "count": run.count,
                "total_fen": run.total,
                "reissued": [p.reference for p in list(payments.values())[:200]],
            },
        )
    common.crash_point("supplementary.committed")
    return Outcome(
        True,
        f"已生成补发批次第 {run.number} 批：{run.count} 笔，{yuan(run.total)} 元，待复核。",
        changed=True,
        data={"run": run.pk, "number": run.number},
    )


def _locked_payment(unit: Unit, payment_id: int) -> Payment | None:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("scheme")
        .filter(unit=unit, pk=payment_id)
        .first()
    )


def cancel_payment(
    unit: Unit,
    user: User,
    payment_id: int,
    reason: str,
    *,
    stop: bool = False,
    died: date | None = None,
) -> Outcome:
    """经办 cancels a returned payment that is not to be paid.

    A cancelled month is owed again, so the next run pays it as 补发 — unless `stop`: then the
    person's payments are suspended from that month (a 暂停 event with the reason) until a
    恢复 is recorded; or unless the person `died` on that day: a 死亡 event is recorded (checked
    as the 死亡 form checks it) and nothing is owed after the month of death."""
    with transaction.atomic():
        payment = _locked_payment(unit, payment_id)
        if payment is None:
            return refused("没有这笔付款。")
        if payment.status == core.CANCELLED:
            return Outcome(True, "这笔付款已取消，无变化。")
        event, refusal = _checked_cancel(unit, user, payment, reason, stop, died)
        if refusal:
            return refusal
        shown = preview(
            unit,
            payment.scheme.code,
            payment.person_id,
            lambda: _cancel(unit, user, payment, reason, event),
        )
        _cancel(unit, user, payment, reason, event)
        then = _then(event)
        record(
            "pay_cancel",
            user=user,
            unit=unit,
            year=int(payment.month[:4]),
            target=payment.reference,
            summary=(
                f"取消付款 {payment.reference}（{yuan(payment.amount)} 元）：{reason}；"
                f"{then}；下一次发放：{shown.after.describe()}"
            ),
            before={"status": core.RETURNED},
            after={
                "status": core.CANCELLED,
                "amount_fen": payment.amount,
                "stop": stop,
                "died": died.isoformat() if died else None,
                "next_before": shown.before.describe(),
                "next_after": shown.after.describe(),
            },
        )
    return Outcome(
        True,
        f"付款已取消，{then}。下一次发放：{shown.after.describe()}",
        changed=True,
    )


def cancel_preview(
    unit: Unit,
    user: User,
    payment_id: int,
    reason: str,
    *,
    stop: bool = False,
    died: date | None = None,
) -> Preview | list[dict]:
    """The person's next payment without and with the cancellation (nothing is saved), or the
    problems that keep it from being saved (issue dicts; a death's name their column)."""
    payment = Payment.objects.select_related("scheme").filter(unit=unit, pk=payment_id).first()
    if payment is None:
        return [{"column": None, "message": "没有这笔付款。"}]
    event, refusal = _checked_cancel(unit, user, payment, reason, stop, died)
    if refusal:
        return refusal.problems or [{"column": None, "message": refusal.message}]
    return preview(
        unit,
        payment.scheme.code,
        payment.person_id,
        lambda: _cancel(unit, user, payment, reason, event),
    )


def died_after_today(died: date) -> str | None:
    """The refusal of a death dated after today (the unit's local day), or None."""
    if died > timezone.localdate():
        return f"死亡日期 {died.isoformat()} 晚于今天，请核对。"
    return None


def _checked_cancel(
    unit: Unit, user: User, payment: Payment, reason: str, stop: bool, died: date | None
) -> tuple[core.LifeEvent | None, Outcome | None]:
    """The event a cancellation records with it, or the refusal: the cancellation rules' or,
    with the death's problems, the events reader's."""
    refusal = rules.check_cancel(payment.status, reason, user.username, roles_on(user, unit))
    if refusal:
        return None, refused(refusal.text)
    event, problems = _event_of_cancel(unit, payment, reason, stop, died)
    if problems:
        return None, Outcome(False, "付款未取消，请按提示修改。", problems=problems)
    return event, None


def _event_of_cancel(
    unit: Unit, payment: Payment, reason: str, stop: bool, died: date | None
) -> tuple[core.LifeEvent | None, list[dict]]:
    """The 人员变动 a cancellation records with it (none when the person's payments go on), or
    the problems of a death the events reader refuses."""
    if died is not None:
        if future := died_after_today(died):
            return None, [{"severity": ERROR, "column": "生效日期", "message": future}]
        entry = events.EventEntry(
            scheme=payment.scheme.code,
            person_id=payment.person_id,
            kind=core.DEATH,
            day=died,
            reported=timezone.localdate(),
            reason=reason,
        )
        return events.check_event(unit, entry)
    if stop:
        day = core.Month.parse(payment.month).first_day()
        detail = {"reason": reason.strip()[:200]}
        return core.LifeEvent(
            payment.person_id, payment.scheme.code, core.SUSPEND, day, None, detail
        ), []
    return None, []


def _then(event: core.LifeEvent | None) -> str:
    if event is None:
        return "此人继续发放"
    if event.kind == core.DEATH:
        return f"已登记死亡（{event.day.isoformat()}），此人死亡当月之后停发"
    return "此人自该月起暂停发放"


def _cancel(
    unit: Unit, user: User, payment: Payment, reason: str, event: core.LifeEvent | None
) -> None:
    Payment.objects.filter(pk=payment.pk).update(
        status=core.CANCELLED, reason_text=reason.strip()[:200]
    )
    Correction.objects.filter(payment=payment, status=ENTERED).update(status=REJECTED)
    if event is not None:
        events.store_event(unit, user, event)

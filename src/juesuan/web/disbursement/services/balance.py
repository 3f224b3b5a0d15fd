"""Conservation of money in the database, stored payments read back, what waits for whom."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q

from juesuan.disbursement import model as core
from juesuan.disbursement import transitions as rules
from juesuan.web.accounts.models import Unit
from juesuan.web.disbursement.models import (
    CHECKED,
    ENTERED,
    Correction,
    Payment,
    Run,
    Scheme,
)
from juesuan.web.disbursement.services.common import (
    sha256_file,
    yuan,
)
from juesuan.web.disbursement.services.files import in_place

# ---- conservation -----------------------------------------------------------------------------


def stored_payments(unit: Unit, period: str = "") -> Iterator[core.Payment]:
    """Every stored payment of the unit as the engine's value (withdrawn ones left out: they
    never counted, and their keys are taken again by the run prepared after). `period` ("2020"
    or "2020-03") keeps the payments for that year or month — re-issues carry their original's
    month, so they stay with it."""
    codes = dict(Scheme.objects.filter(unit=unit).values_list("pk", "code"))
    found = Payment.objects.filter(unit=unit)
    if period:
        found = found.filter(month__startswith=period)
    rows = (
        found.exclude(status=core.WITHDRAWN)
        .values_list(
            "scheme_id",
            "person_id",
            "month",
            "sequence",
            "name",
            "bank",
            "account",
            "account_name",
            "amount",
            "status",
            "run_id",
            "reason_code",
            "paid_on",
        )
        .iterator(chunk_size=20000)
    )
    for (
        scheme_id,
        pid,
        month,
        seq,
        name,
        bank,
        account,
        aname,
        amount,
        status,
        run,
        reason,
        day,
    ) in rows:
        yield core.Payment(
            key=core.PaymentKey(codes[scheme_id], pid, core.Month.parse(month), seq),
            name=name,
            bank=bank,
            account=account,
            account_name=aname,
            amount=amount,
            status=status,
            run=str(run),
            reason_code=reason,
            paid_on=day,
        )


_APPROVED_STATES = (core.SENT, core.PAID, core.RETURNED, core.REISSUED, core.CANCELLED)


def _payment_sums(unit: Unit) -> list[tuple[int, str, bool, int, int]]:
    """(run, status, regular, count, amount) over the unit's payments: one pass of the table,
    from which the balance and the runs' checks are taken."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT run_id, status, sequence <= 1, COUNT(*), COALESCE(SUM(amount), 0) "
            f"FROM {Payment._meta.db_table} WHERE unit_id = %s GROUP BY 1, 2, 3",
            [unit.pk],
        )
        return [(r, st, bool(reg), int(n), int(a)) for r, st, reg, n, a in cursor.fetchall()]


def stored_balance(unit: Unit, sums: list | None = None) -> rules.Balance:
    """`transitions.balance` over the unit's stored payments, without reading them all.

    The balance is a sum over chains (a regular payment and its re-issues, sequence + 1), each
    depending only on its own payments. A regular payment with no re-issue is its own chain
    and adds its amount to "approved" and to its status; those are summed in the database by
    status. The few payments in a chain of re-issues (REISSUED ones, re-issues, and the
    originals found by a self-join on sequence + 1) are read and given to `transitions.balance`
    itself, and their regular payments taken out of the database's sums."""
    table = Payment._meta.db_table
    sums = _payment_sums(unit) if sums is None else sums
    by_status = dict.fromkeys(_APPROVED_STATES, 0)
    chains_exist = False
    for _run, status, regular, _count, amount in sums:
        if regular and status in by_status:
            by_status[status] += amount
        chains_exist |= status == core.REISSUED or (not regular and status != core.WITHDRAWN)
    chained = []
    if chains_exist:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT scheme_id, person_id, month, sequence, amount, status "
                f"FROM {table} WHERE unit_id = %s AND status <> %s "
                "AND (status = %s OR sequence > 1) "
                "UNION "
                "SELECT o.scheme_id, o.person_id, o.month, o.sequence, o.amount, o.status "
                f"FROM {table} r JOIN {table} o ON o.unit_id = r.unit_id "
                "AND o.scheme_id = r.scheme_id AND o.person_id = r.person_id "
                "AND o.month = r.month AND o.sequence + 1 = r.sequence "
                "WHERE r.unit_id = %s AND r.status <> %s AND r.sequence > 1 AND o.status <> %s",
                [unit.pk, core.WITHDRAWN, core.REISSUED, unit.pk, core.WITHDRAWN, core.WITHDRAWN],
            )
            chained = cursor.fetchall()
    codes = dict(Scheme.objects.filter(unit=unit).values_list("pk", "code"))
    payments = []
    for scheme_id, person_id, month, sequence, amount, status in chained:
        key = core.PaymentKey(codes[scheme_id], person_id, core.Month.parse(month), sequence)
        payments.append(core.Payment(key, "", "", "", "", int(amount), status))
        if sequence <= 1 and status in by_status:  # counted by the chain below instead
            by_status[status] -= int(amount)
    chains = rules.balance(payments)
    approved = sum(by_status.values())
    return rules.Balance(
        approved=approved + chains.approved,
        paid=by_status[core.PAID] + chains.paid,
        sent=by_status[core.SENT] + chains.sent,
        returned=by_status[core.RETURNED] + chains.returned,
        reissued=by_status[core.REISSUED] + chains.reissued,
        cancelled=by_status[core.CANCELLED] + chains.cancelled,
        problems=chains.problems,
    )


@dataclass
class Conservation:
    """The balance (`transitions.balance`) plus what only the database can check."""

    balance: rules.Balance
    stored_problems: list[str]  # bank files and run totals against the payments

    @property
    def ok(self) -> bool:
        return self.balance.ok and not self.stored_problems

    @property
    def problems(self) -> list[str]:
        found = list(self.balance.problems)
        if self.balance.approved != self.balance.accounted:
            found.append(
                f"已审批 {yuan(self.balance.approved)} 元，而成功、在途、退回、重发和取消合计 "
                f"{yuan(self.balance.accounted)} 元，"
                f"相差 {yuan(self.balance.approved - self.balance.accounted)} 元。"
            )
        return found + self.stored_problems


def conservation(unit: Unit) -> Conservation:
    """资金守恒: approved = paid + sent + returned + reissued + cancelled (the rule's balance),
    and the stored runs agree with their payments and bank files (count and amount), the files
    on disk unchanged."""
    sums = _payment_sums(unit)
    balance = stored_balance(unit, sums)
    problems: list[str] = []
    runs = {
        r.pk: r
        for r in Run.objects.filter(unit=unit, step=core.APPROVED).prefetch_related("bank_files")
    }
    for run in runs.values():
        files = list(run.bank_files.all())
        count = sum(f.count for f in files)
        total = sum(f.total for f in files)
        if count != run.count or total != run.total:
            problems.append(
                f"第 {run.number} 批：银行文件共 {count} 笔 {yuan(total)} 元，"
                f"批次为 {run.count} 笔 {yuan(run.total)} 元。"
            )
        for f in files:
            placed = in_place(f.full_path, f.sha256)
            if placed is None:
                problems.append(f"第 {run.number} 批：银行文件 {f.name} 不在了。")
            elif sha256_file(placed) != f.sha256:
                problems.append(
                    f"第 {run.number} 批：银行文件 {f.name} 与生成时不一致（已被改动）。"
                )
    by_run: dict[int, list[int]] = {}
    pending = 0
    for run_id, status, _regular, count, amount in sums:
        if run_id not in runs:
            continue
        if status == core.PENDING:
            pending += count
        elif status != core.WITHDRAWN:
            n_s = by_run.setdefault(run_id, [0, 0])
            n_s[0] += count
            n_s[1] += amount
    for run_id, (n, total) in by_run.items():
        run = runs[run_id]
        if n != run.count or total != run.total:
            problems.append(
                f"第 {run.number} 批：付款 {n} 笔 {yuan(total)} 元，"
                f"与批次记录 {run.count} 笔 {yuan(run.total)} 元不符。"
            )
    for run in runs.values():
        if run.pk not in by_run and run.count:
            problems.append(f"第 {run.number} 批已审批，却没有已送银行的付款。")
    if pending:
        problems.append(f"已审批的批次中仍有 {pending} 笔付款处于待审批状态。")
    return Conservation(balance, problems)


# ---- what is waiting for whom -------------------------------------------------------------------


def waiting(unit: Unit) -> list[dict]:
    """The overview's to-do list: runs to review or approve, results to import, corrections to
    check, returned payments to correct."""
    items = []
    for run in Run.objects.filter(unit=unit, step__in=(core.PREPARED, core.REVIEWED)):
        who = "复核" if run.step == core.PREPARED else "审批"
        items.append(
            {
                "who": who,
                "text": f"{run.month} {run.kind_name}第 {run.number} 批待{who}",
                "run": run.pk,
            }
        )
    for run in Run.objects.filter(unit=unit, step=core.APPROVED).order_by("number"):
        # (run, status) is indexed: one small count per approved run
        sent = Payment.objects.filter(run=run, status=core.SENT).count()
        if sent:
            items.append(
                {
                    "who": "经办",
                    "text": f"{run.month} 第 {run.number} 批有 {sent} 笔待导入银行回盘",
                    "run": run.pk,
                }
            )
    returned = Payment.objects.filter(unit=unit, status=core.RETURNED)
    uncorrected = returned.exclude(corrections__status__in=(ENTERED, CHECKED)).count()
    if uncorrected:
        items.append({"who": "经办", "text": f"{uncorrected} 笔退回付款待更正或取消"})
    entered = Correction.objects.filter(unit=unit, status=ENTERED).count()
    if entered:
        items.append({"who": "复核", "text": f"{entered} 条更正待复核"})
    ready = returned.filter(corrections__status=CHECKED).count()
    if ready:
        items.append({"who": "经办", "text": f"{ready} 笔更正已复核，待生成补发批次"})
    return items


def month_status(unit: Unit, months: Iterable[core.Month]) -> list[dict]:
    """Per month: the runs and their steps, with counts and amounts by status."""
    out = []
    for month in months:
        runs = list(Run.objects.filter(unit=unit, month=str(month)).order_by("number"))
        by_status = dict(
            Payment.objects.filter(unit=unit, month=str(month))
            .exclude(status=core.WITHDRAWN)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        out.append({"month": str(month), "runs": runs, "by_status": by_status})
    return out


def payments_q(search: str) -> Q:
    search = search.strip()
    if not search:
        return Q()
    return Q(name__contains=search) | Q(person_id__startswith=search) | Q(account__endswith=search)

"""Monthly runs: prepare (compute and persist), review, approve (freeze and write the bank
files), send back."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from juesuan.disbursement import model as core
from juesuan.disbursement import transitions as rules
from juesuan.web.accounts.access import roles_on
from juesuan.web.accounts.models import Unit, User
from juesuan.web.audit.log import record
from juesuan.web.disbursement.models import (
    CANCELLED_RUN,
    OPEN,
    SENT_BACK,
    BankFile,
    Payment,
    PersonKey,
    Recovery,
    Run,
    Scheme,
    WithdrawnPayment,
)
from juesuan.web.disbursement.services import common, files, people
from juesuan.web.disbursement.services.common import (
    Outcome,
    Progress,
    copy_out,
    issue_dict,
    no_progress,
    refused,
    who,
    yuan,
)
from juesuan.web.disbursement.services.roster import (
    PAYER_WHERE,
    core_schemes,
    roster_frame,
    unit_events,
)

if TYPE_CHECKING:
    from juesuan.disbursement.banks import Adapter, BatchFile, BatchHeader

_GIVEN = (core.SENT, core.PAID, core.RETURNED)
T = TypeVar("T")


class DatabaseHistory:
    """`compute.History` over the stored payments: 分 approved so far for each month the money
    was for (components: standard, 补发, 追回 as negative), net of cancelled payments. A chain
    of re-issues counts once: the original is REISSUED and its re-issue carries the money (while
    the re-issue awaits approval, the original still counts)."""

    def __init__(self, unit: Unit):
        self.unit = unit
        self._flagged: list[tuple[str, str]] | None = None

    def paid(self, scheme: str, person_id: str) -> dict[core.Month, int]:
        rows = list(
            Payment.objects.filter(unit=self.unit, scheme__code=scheme, person_id=person_id)
            .exclude(status=core.WITHDRAWN)
            .values("month", "sequence", "status", "amount", "components")
        )
        by_key = {(r["month"], r["sequence"]): r for r in rows}
        totals: dict[core.Month, int] = defaultdict(int)
        for r in rows:
            counts = r["status"] in _GIVEN
            if r["status"] == core.REISSUED:
                following = by_key.get((r["month"], r["sequence"] + 1))
                counts = following is None or following["status"] == core.PENDING
            if not counts:
                continue
            for month, amount in _components(r["month"], r["amount"], r["components"]):
                totals[month] += amount
        return dict(totals)

    def flagged(self) -> list[tuple[str, str]]:
        """People the computation must look at one by one: with a cancelled payment (their
        history is not the ordinary one) or an open recovery."""
        if self._flagged is None:
            cancelled = Payment.objects.filter(unit=self.unit, status=core.CANCELLED).values_list(
                "scheme__code", "person_id"
            )
            recovering = Recovery.objects.filter(unit=self.unit, status=OPEN).values_list(
                "scheme__code", "person_id"
            )
            self._flagged = sorted(set(cancelled) | set(recovering))
        return self._flagged


def _components(month: str, amount: int, components) -> list[tuple[core.Month, int]]:
    if not components:
        return [(core.Month.parse(month), amount)]
    return [(core.Month.parse(c["month"]), int(c["amount"])) for c in components]


def component_values(month: str, amount: int, components) -> tuple[core.Component, ...]:
    if not components:
        return (core.Component(core.STANDARD, core.Month.parse(month), amount),)
    return tuple(
        core.Component(c["kind"], core.Month.parse(c["month"]), int(c["amount"]))
        for c in components
    )


# ---- runs: prepare, review, approve, send back ----------------------------------------------------


def next_run_number(unit: Unit) -> int:
    return (Run.objects.filter(unit=unit).aggregate(n=Max("number"))["n"] or 0) + 1


def prepare_run(
    unit: Unit,
    user: User | None,
    month: core.Month,
    scheme_codes: Iterable[str] | None = None,
    *,
    progress: Progress = no_progress,
) -> Outcome:
    """经办 prepares the month's regular run: compute (`compute_month`) and store the payments.

    The schemes of the month that already have a live run (prepared, reviewed or approved)
    are left as they are and named; the others are prepared in one new run. When every scheme
    asked for is done, nothing changes and the message says where each one is.
    """
    from juesuan.disbursement.compute import compute_month

    username = who(user)
    refusal = rules.check_step(None, core.PREPARED, username, roles_on(user, unit))
    if refusal:
        return refused(refusal.text)
    all_codes = list(Scheme.objects.filter(unit=unit).values_list("code", flat=True))
    codes = sorted(set(scheme_codes or all_codes))
    unknown = sorted(set(codes) - set(all_codes))
    if unknown:
        return refused(
            f"本单位没有补贴类别 {'、'.join(unknown)}；可选：{'、'.join(sorted(all_codes)) or '（无）'}。"
        )
    if not codes:
        return refused("本单位还没有补贴类别，请先导入补贴类别。")
    with transaction.atomic():
        list(Scheme.objects.select_for_update().filter(unit=unit).order_by("pk"))
        existing = _live_regular_runs(unit, month, codes)
        done = {code: run for run in existing for code in run.schemes if code in codes}
        already = "；".join(
            f"{'、'.join(sorted(c for c in done if done[c] is run))} 已在第 {run.number} 批"
            f"（{run.step_name}）"
            for run in existing
        )
        if len(done) == len(codes):
            run = existing[0]
            return Outcome(
                True,
                f"{month} 的发放批次已经生成过：{already}；无变化。",
                data={"run": run.pk, "number": run.number},
            )
        codes = [code for code in codes if code not in done]
        progress(10, "读取花名册和人员变动")
        schemes = core_schemes(unit)
        chosen = [s for s in schemes.schemes if s.code in codes]
        roster = roster_frame(unit, codes)
        events = unit_events(unit, codes)
        progress(30, f"计算 {roster.height} 人的发放金额")
        computed = compute_month(chosen, roster, events, month, DatabaseHistory(unit))
        payments = computed.payments
        if payments.height == 0:
            return refused(
                f"{month} {'、'.join(codes)} 没有应发放的人员（花名册为空，或都已停发、暂停）。"
                + (f"{already}。" if already else "")
            )
        run = Run.objects.create(
            unit=unit,
            kind=core.REGULAR,
            month=str(month),
            number=next_run_number(unit),
            schemes=codes,
            step=core.PREPARED,
            prepared_by=user,
            prepared_at=timezone.now(),
            bank_adapter="",
            skipped=_skipped(computed.skipped),
        )
        progress(55, f"保存 {payments.height} 笔付款")
        _store_payments(unit, run, payments, computed.details)
        _store_recoveries(unit, run, computed)
        set_totals(run, payments)
        common.crash_point("prepare.persisted")
        record(
            "pay_prepare",
            user=user,
            unit=unit,
            year=month.year,
            target=f"{month} 第 {run.number} 批",
            summary=(
                f"生成 {month} 发放批次第 {run.number} 批（{'、'.join(codes)}）："
                f"{run.count} 笔，{yuan(run.total)} 元"
            ),
            after={
                "run": run.number,
                "count": run.count,
                "total_fen": run.total,
                "totals": run.totals,
                "recoveries": len(computed.recoveries),
            },
        )
    common.crash_point("prepare.committed")
    _analyze_payments()
    return Outcome(
        True,
        f"已生成 {month} 发放批次第 {run.number} 批（{'、'.join(codes)}）：{run.count} 笔，"
        f"{yuan(run.total)} 元，待复核。"
        + (f"已生成过、未重复生成：{already}。" if already else ""),
        changed=True,
        data={"run": run.pk, "number": run.number, "count": run.count, "total": run.total},
    )


def _live_regular_runs(unit: Unit, month: core.Month, codes: list[str]) -> list[Run]:
    runs = Run.objects.filter(
        unit=unit,
        kind=core.REGULAR,
        month=str(month),
        step__in=(core.PREPARED, core.REVIEWED, core.APPROVED),
    )
    return [r for r in runs if set(r.schemes) & set(codes)]


def _skipped(frame: pl.DataFrame) -> list[dict]:
    if frame is None or frame.height == 0:
        return []
    return frame.head(2000).to_dicts()


# The columns a payment row shares with its withdrawn copy, in COPY order.
_PAYMENT_ROW = (
    "unit_id",
    "run_id",
    "scheme_id",
    "person_id",
    "month",
    "sequence",
    "name",
    "bank",
    "account",
    "account_name",
    "standard",
    "back_pay",
    "recovery",
    "amount",
)
PAYMENT_COLUMNS = (*_PAYMENT_ROW, "status", "reason_code", "reason_text", "components")


def _store_payments(unit: Unit, run: Run, payments: pl.DataFrame, details) -> None:
    """Insert the computed payments (PENDING). COPY on PostgreSQL; bulk_create elsewhere."""
    ids = dict(Scheme.objects.filter(unit=unit).values_list("code", "pk"))
    components = {
        (k.scheme, k.person_id, str(k.month), k.sequence): _components_json(parts)
        for k, parts in (details or {}).items()
    }
    frame = payments.with_columns(
        pl.col("scheme").replace_strict(ids, return_dtype=pl.Int64).alias("scheme_id"),
        pl.lit(unit.pk, dtype=pl.Int64).alias("unit_id"),
        pl.lit(run.pk, dtype=pl.Int64).alias("run_id"),
        pl.lit(core.PENDING).alias("status"),
        pl.lit("").alias("reason_code"),
        pl.lit("").alias("reason_text"),
    )
    if components:
        extra = pl.DataFrame(
            {
                "scheme": [k[0] for k in components],
                "person_id": [k[1] for k in components],
                "month": [k[2] for k in components],
                "sequence": [k[3] for k in components],
                "components": list(components.values()),
            },
            schema={
                "scheme": pl.String,
                "person_id": pl.String,
                "month": pl.String,
                "sequence": pl.Int64,
                "components": pl.String,
            },
        )
        frame = frame.join(extra, on=["scheme", "person_id", "month", "sequence"], how="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("components"))
    # In the unique key's order (unit, scheme id, person, month, sequence) rather than by scheme
    # code: in a unit's first month the key index is then filled page after page instead of
    # split in halves (its COPY costs the server a fifth to a quarter less, see docs.md). Only
    # which id each payment gets depends on it; bank files and lists are sorted by key.
    # `compute_month` gives each scheme's rows by person already: a stable sort on the scheme
    # id is all it takes.
    frame = frame.select(PAYMENT_COLUMNS).sort("scheme_id", maintain_order=True)
    if connection.vendor == "postgresql":
        copy_payments(frame)
        return
    import json

    batch = []
    for row in frame.iter_rows(named=True):
        row["components"] = json.loads(row["components"]) if row["components"] else None
        batch.append(Payment(**row))
        if len(batch) >= 5000:
            Payment.objects.bulk_create(batch)
            batch = []
    Payment.objects.bulk_create(batch)


def copy_payments(frame: pl.DataFrame, table: str | None = None) -> None:
    """COPY the rows of `frame` (columns PAYMENT_COLUMNS) into the payment table (PostgreSQL)."""
    table = table or Payment._meta.db_table
    sql = f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        step = 200_000
        for offset in range(0, frame.height, step):
            # Written by polars as UTF-8 bytes (the connection's encoding): no Python text is
            # made of each block only to be encoded again, which cost as much as the writing.
            block = io.BytesIO()
            frame.slice(offset, step).write_csv(block, include_header=False, null_value="\\N")
            copy.write(block.getvalue())


def _analyze_payments() -> None:
    """Fresh planner statistics for the payment table once a month's rows are in (PostgreSQL):
    without them the approval's reads plan for a few rows where there are millions (one index
    look-up per payment for its person key instead of one hash join)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Payment._meta.db_table}")


def _components_json(parts) -> str:
    import json

    return json.dumps(
        [{"kind": c.kind, "month": str(c.month), "amount": int(c.amount)} for c in parts],
        ensure_ascii=False,
    )


def _store_recoveries(unit: Unit, run: Run, computed) -> None:
    """One row per debt. The computation states an open receivable again in every month it
    looks at the person; a statement of a debt already stored (same scheme and person, an
    overpaid month in common) updates that row — its amount grows when another month was
    overpaid, shrinks as later payments net it — instead of adding one, so each debt is listed,
    settled and counted once. Its amount never falls below what was already settled by hand."""
    from juesuan.disbursement.recoveries import status_of

    ids = dict(Scheme.objects.filter(unit=unit).values_list("code", "pk"))
    for r in computed.recoveries:
        months = [str(m) for m in r.months]
        detail = {"months": months, "via_bank": r.via_bank, "name": r.name}
        stored = Recovery.objects.select_for_update().filter(
            unit=unit, scheme_id=ids[r.scheme], person_id=r.person_id
        )
        debt = next(
            (x for x in stored if set((x.detail or {}).get("months") or ()) & set(months)), None
        )
        if debt is None:
            Recovery.objects.get_or_create(
                unit=unit,
                scheme_id=ids[r.scheme],
                person_id=r.person_id,
                month=str(computed.month),
                defaults={
                    "amount": r.amount,
                    "reason": r.reason[:200],
                    "detail": detail,
                    "run": run,
                },
            )
            continue
        amount = max(r.amount, debt.collected + debt.written_off)
        if (debt.amount, debt.detail, debt.reason) == (amount, detail, r.reason[:200]):
            continue  # stated again, unchanged
        debt.amount, debt.detail, debt.reason = amount, detail, r.reason[:200]
        debt.status = status_of(amount, debt.collected, debt.written_off)
        debt.save(update_fields=("amount", "detail", "reason", "status"))


def set_totals(run: Run, stored: pl.DataFrame | None = None) -> None:
    """The run's count and amount, by scheme: summed over `stored`, the payments just stored
    for it (scheme, amount), rather than read back from millions of rows; otherwise over its
    stored payments."""
    if stored is not None:
        sums = stored.group_by("scheme").agg(n=pl.len(), s=pl.col("amount").sum())
        rows = sums.sort("scheme").rename({"scheme": "scheme__code"}).iter_rows(named=True)
    else:
        rows = (
            Payment.objects.filter(run=run)
            .values("scheme__code")
            .annotate(n=Count("id"), s=Sum("amount"))
            .order_by("scheme__code")
        )
    run.totals = {r["scheme__code"]: {"count": r["n"], "amount": int(r["s"] or 0)} for r in rows}
    run.count = sum(v["count"] for v in run.totals.values())
    run.total = sum(v["amount"] for v in run.totals.values())
    run.save(update_fields=["totals", "count", "total"])


def _run_state(run: Run) -> rules.RunState:
    step = run.step if run.step != CANCELLED_RUN else SENT_BACK
    return rules.RunState(
        step=step,
        prepared_by=who(run.prepared_by),
        reviewed_by=who(run.reviewed_by),
        approved_by=who(run.approved_by),
        sent_back_by=who(run.ended_by),
    )


def _locked_run(unit: Unit, run_id: int) -> Run | None:
    return (
        Run.objects.select_for_update(of=("self",))
        .select_related("prepared_by", "reviewed_by", "approved_by", "ended_by")
        .filter(unit=unit, pk=run_id)
        .first()
    )


def review_run(unit: Unit, user: User, run_id: int) -> Outcome:
    """复核 passes a prepared run (not their own)."""
    with transaction.atomic():
        run = _locked_run(unit, run_id)
        if run is None:
            return refused("没有这个发放批次。")
        if run.step == core.REVIEWED and run.reviewed_by_id == user.pk:
            return Outcome(True, f"第 {run.number} 批已由您复核通过，无变化。")
        refusal = rules.check_step(
            _run_state(run), core.REVIEWED, user.username, roles_on(user, unit)
        )
        if refusal:
            return refused(refusal.text, run=run.pk)
        before = {"step": run.step}
        run.step = core.REVIEWED
        run.reviewed_by = user
        run.reviewed_at = timezone.now()
        run.save(update_fields=["step", "reviewed_by", "reviewed_at"])
        record(
            "pay_review",
            user=user,
            unit=unit,
            year=int(run.month[:4]),
            target=f"{run.month} 第 {run.number} 批",
            summary=f"复核通过第 {run.number} 批：{run.count} 笔，{yuan(run.total)} 元",
            before=before,
            after={"step": run.step, "count": run.count, "total_fen": run.total},
        )
    common.crash_point("review.committed")
    return Outcome(
        True, f"第 {run.number} 批已复核通过，待审批。", changed=True, data={"run": run.pk}
    )


def approve_run(
    unit: Unit, user: User, run_id: int, *, progress: Progress = no_progress
) -> Outcome:
    """审批 approves a reviewed run: it is frozen, its payments become SENT and the bank files
    are written through the schemes' adapters (one file per scheme)."""
    files.sweep(unit, by=user)  # what a crashed approval left is put right first
    try:
        return _approve_run(unit, user, run_id, progress)
    except BankFileRefused as exc:
        return Outcome(
            False,
            "银行文件无法生成，批次未审批：" + str(exc),
            problems=[issue_dict(p) for p in exc.problems],
        )


def _approve_run(unit: Unit, user: User, run_id: int, progress: Progress) -> Outcome:
    # Alone in its transaction on PostgreSQL, the bank files are read and written on a
    # connection of their own while this one marks the payments SENT (see `_read_beside`).
    beside = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        run = _locked_run(unit, run_id)
        if run is None:
            return refused("没有这个发放批次。")
        if run.step == core.APPROVED and run.approved_by_id == user.pk:
            return Outcome(
                True, f"第 {run.number} 批已由您审批通过，无变化。", data={"run": run.pk}
            )
        refusal = rules.check_step(
            _run_state(run), core.APPROVED, user.username, roles_on(user, unit)
        )
        if refusal:
            return refused(refusal.text, run=run.pk)
        unpaid_from = [
            f"{s}（缺{'、'.join(s.payer_missing)}）"
            for s in Scheme.objects.filter(unit=unit, code__in=run.schemes).order_by("code")
            if s.payer_missing
        ]
        if unpaid_from:
            return refused(
                f"第 {run.number} 批不能审批：{'；'.join(unpaid_from)}未设置付款账户，"
                f"银行文件无法写明从哪个账户付款。{PAYER_WHERE}",
                run=run.pk,
            )
        progress(10, "锁定批次")
        schemes = {s.code: s for s in Scheme.objects.filter(unit=unit, code__in=run.schemes)}
        planned = _planned_files(unit, run, schemes)
        written = _read_beside(_files_beside, run, schemes, planned) if beside else None
        try:
            status = rules.status_on_step(core.APPROVED)
            changed = Payment.objects.filter(run=run, status=core.PENDING).update(status=status)
            if changed != run.count:
                raise RuntimeError(
                    f"批次 {run.pk} 应有 {run.count} 笔待审批付款，实有 {changed} 笔"
                )
            common.crash_point("approve.sent")
            run.step = core.APPROVED
            run.approved_by = user
            run.approved_at = timezone.now()
            run.save(update_fields=["step", "approved_by", "approved_at"])
            progress(30, "写银行文件")
            bank_files = _write_bank_files(unit, run, progress, schemes, planned, written)
        except BaseException:
            if written is not None:
                # its files finished before anything else looks at the pending folder (the
                # next approval's sweep removes them: no record names them)
                futures.wait([written])
            raise
        common.crash_point("approve.file_written")
        if run.kind == core.SUPPLEMENTARY:
            _settle_recoveries(run)
        record(
            "pay_approve",
            user=user,
            unit=unit,
            year=int(run.month[:4]),
            target=f"{run.month} 第 {run.number} 批",
            summary=(
                f"审批通过第 {run.number} 批：{run.count} 笔，{yuan(run.total)} 元；银行文件 "
                + "；".join(f"{f.name}（SHA-256 {f.sha256}）" for f in bank_files)
            ),
            before={"step": core.REVIEWED},
            after={
                "step": core.APPROVED,
                "count": run.count,
                "total_fen": run.total,
                "files": [
                    {"name": f.name, "sha256": f.sha256, "count": f.count, "total_fen": f.total}
                    for f in bank_files
                ],
            },
        )
    common.crash_point("approve.committed")
    return Outcome(
        True,
        f"第 {run.number} 批已审批通过：{run.count} 笔，{yuan(run.total)} 元；"
        f"已生成银行文件 {len(bank_files)} 个。",
        changed=True,
        data={"run": run.pk, "files": [f.name for f in bank_files]},
    )


def _settle_recoveries(run: Run) -> None:
    """Nothing to settle yet: recoveries via the bank are settled by hand (see docs.md)."""
    return None


class _Planned(NamedTuple):
    """One bank file of an approval: its scheme, adapter, header, rows' 用途 and final place."""

    code: str
    adapter: Adapter
    header: BatchHeader
    purpose: str
    name: str
    target: Path


def _planned_files(unit: Unit, run: Run, schemes: dict[str, Scheme]) -> list[_Planned]:
    from juesuan.disbursement.banks import BatchHeader, get_adapter

    folder = files.run_folder(run)
    month = core.Month.parse(run.month)
    planned = []
    for code in sorted(run.schemes):
        scheme = schemes[code]
        adapter = get_adapter(run.bank_adapter or scheme.bank_adapter)
        header = BatchHeader(
            payer_name=scheme.payer_name,
            payer_account=scheme.payer_account,
            payer_bank=scheme.payer_bank,
            payer_code=_ascii(unit.code) or f"U{unit.pk}",
            batch_id=f"{_ascii(unit.code) or 'U' + str(unit.pk)}-{run.number}-{code}"[:35],
            scheme=code,
            month=month,
            execution_date=date(month.year, month.month, min(scheme.payment_day, 28)),
        )
        name = adapter.file_name(header)
        target = settings.MEDIA_ROOT / folder / name
        planned.append(_Planned(code, adapter, header, _purpose(scheme, month), name, target))
    return planned


def _write_bank_files(
    unit: Unit,
    run: Run,
    progress: Progress,
    schemes: dict[str, Scheme],
    planned: list[_Planned],
    beside: Future | None = None,
) -> list[BankFile]:
    """One bank file per scheme of `run`, recorded: those written beside the approval's UPDATE
    (`_files_beside`) when it wrote them, else written here."""
    written = beside.result() if beside is not None else None
    if written is None:
        if connection.vendor == "postgresql":  # `_batch_frames` gives keys where missing
            written = _write_pending(run, planned, _batch_frames(run, schemes))
        else:
            people.ensure_keys(unit, run.payments.values_list("person_id", flat=True).distinct())
            written = _write_pending(run, planned)
    bank_files = []
    for index, (plan, batch, sha) in enumerate(written):
        expected = run.totals.get(plan.code, {"count": 0, "amount": 0})
        if batch.count != expected["count"] or batch.total_fen != expected["amount"]:
            raise RuntimeError(
                f"银行文件 {plan.name} 有 {batch.count} 笔 {batch.total_fen} 分，"
                f"批次为 {expected['count']} 笔 {expected['amount']} 分"
            )
        if sha != batch.sha256:
            raise RuntimeError(f"银行文件 {plan.name} 写入磁盘后与写出的内容不一致")
        bank_files.append(
            BankFile.objects.create(
                run=run,
                scheme=plan.code,
                adapter=plan.adapter.id,
                name=batch.file_name or plan.name,
                path=str(files.run_folder(run) / plan.name),
                sha256=sha,
                count=batch.count,
                total=batch.total_fen,
            )
        )
        files.place_on_commit(plan.target, "approve")
        progress(30 + int(60 * (index + 1) / max(1, len(written))), f"已写 {plan.name}")
    return bank_files


def _files_beside(
    run: Run, schemes: dict[str, Scheme], planned: list[_Planned]
) -> list[tuple[_Planned, BatchFile, str]] | None:
    """The bank files written from rows read on a connection of the thread's own, writing no
    row (`_read_beside`); None when a payee has no person key yet."""
    frames = _batch_frames(run, schemes, give_keys=False)
    return None if frames is None else _write_pending(run, planned, frames)


def _write_pending(
    run: Run, planned: list[_Planned], frames: dict[str, pl.DataFrame] | None = None
) -> list[tuple[_Planned, BatchFile, str]]:
    """Each planned file written beside its place (moved there when the approval commits,
    `services.files`) and flushed to disk: (plan, what was written, SHA-256 of what is on
    disk). Of `frames` (PostgreSQL), else streamed from the database."""
    from juesuan.disbursement.banks import write_batch, write_batch_frame

    written = []
    for plan in planned:
        pending = files.pending_path(plan.target)
        if frames is not None:
            frame = frames.pop(plan.code)  # each written frame let go at once: less memory held
            batch = write_batch_frame(
                plan.adapter,
                plan.header,
                frame,
                pending,
                lambda _: common.crash_point("approve.writing"),
            )
            del frame
        else:
            items = _batch_items(run, plan.code, plan.purpose)
            batch = write_batch(plan.adapter, plan.header, items, pending)
        if not batch.ok:
            raise BankFileRefused(batch.problems)
        written.append((plan, batch, files.make_durable(pending)))
    return written


class BankFileRefused(Exception):
    """The adapter could not write a row (a name too wide for its column, …)."""

    def __init__(self, problems):
        self.problems = tuple(problems)
        super().__init__("；".join(str(p) for p in self.problems[:5]))


def _ascii(text: str) -> str:
    return "".join(ch for ch in (text or "") if ch.isascii() and ch.isalnum())


def _purpose(scheme: Scheme, month: core.Month) -> str:
    """What a bank-file row says the money is for (用途)."""
    return f"{scheme.name}{month.year}年{month.month}月"


def _read_beside(read: Callable[..., T], *args) -> Future[T]:
    """Start `read(*args)` in a thread, on a database connection of its own (closed when it
    ends); its result (or error) comes through the future returned. That connection sees
    what is committed: `read` must read only rows the caller's transaction does not change
    before it waits — the approval's thread reads the run's payments, locked with the run,
    whose status alone its UPDATE changes — and write no row."""

    def on_own_connection() -> T:
        try:
            return read(*args)
        finally:
            connection.close()  # this thread's

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(on_own_connection)
    pool.shutdown(wait=False)
    return future


def _batch_frames(
    run: Run, schemes: dict[str, Scheme], give_keys: bool = True
) -> dict[str, pl.DataFrame] | None:
    """The run's payments as bank-file rows (banks.BATCH_COLUMNS), one frame per scheme code,
    each in key order. All schemes are read with one COPY — one pass over the payments and one
    join with the person keys, not one of each per scheme; the keys their numbers carry are
    joined in the query, so none of the unit's keys is brought into Python. Payees without a
    key (the roster import gives them) are given theirs first — or, without `give_keys` (read
    beside, writing nothing), None is returned."""
    month = core.Month.parse(run.month)
    codes = pl.DataFrame(
        {
            "scheme_id": [schemes[c].pk for c in run.schemes],
            "code": list(run.schemes),
            "purpose": [_purpose(schemes[c], month) for c in run.schemes],
        },
        schema={"scheme_id": pl.Int64, "code": pl.String, "purpose": pl.String},
    )
    texts = ("name", "account", "account_name", "bank")
    columns = ("scheme_id", "key", "month", "sequence", *texts, "amount_fen", "person_id")
    numbers = ("scheme_id", "sequence", "amount_fen")
    scheme_ids = ", ".join(str(int(i)) for i in codes["scheme_id"])
    sql = (
        "COPY (SELECT p.scheme_id, k.key, p.month, p.sequence, p.name, p.account, "
        f"p.account_name, p.bank, p.amount, p.person_id FROM {Payment._meta.db_table} AS p "
        f"LEFT JOIN {PersonKey._meta.db_table} AS k "
        f"ON k.unit_id = {int(run.unit_id)} AND k.person_id = p.person_id "
        f"WHERE p.run_id = {int(run.pk)} AND p.scheme_id IN ({scheme_ids})) "
        "TO STDOUT WITH (FORMAT csv)"
    )

    def read() -> pl.DataFrame:
        return pl.read_csv(
            copy_out(sql),
            has_header=False,
            new_columns=list(columns),
            schema={c: pl.Int64 if c in numbers else pl.String for c in columns},
        )

    frame = read()
    if frame["key"].null_count():
        if not give_keys:
            return None
        people.ensure_keys(run.unit, run.payments.values_list("person_id", flat=True).distinct())
        frame = read()
    reference = pl.concat_str(
        "code", "key", pl.col("month").str.replace_all("-", ""), "sequence", separator="-"
    )
    # Put in key order here, in memory on every core, rather than by a server sort that spills
    # millions of rows to disk; the order is the characters' (the same as "C"). The scheme is
    # not a sort column: the split below keeps this order within each scheme, and a constant
    # leading column makes polars' sort some three times dearer.
    rows = (
        frame.join(codes, on="scheme_id")
        .sort("person_id", "month", "sequence")
        .with_columns(pl.col(pl.String).fill_null(""))
        .select("code", reference.alias("reference"), *texts, "amount_fen", "purpose", "person_id")
    )
    del frame
    by_code = rows.partition_by("code", as_dict=True, include_key=False, maintain_order=True)
    empty = rows.clear().drop("code")
    return {code: by_code.get((code,), empty) for code in run.schemes}


def _batch_items(run: Run, code: str, purpose: str) -> Iterator[tuple]:
    """The run's payments of one scheme in key order, streamed from the database (where it is
    not PostgreSQL: `_batch_frames` there), numbered by the person keys."""
    from juesuan.disbursement.banks import BatchItem

    columns = (
        "person_id",
        "month",
        "sequence",
        "name",
        "account",
        "account_name",
        "bank",
        "amount",
    )
    keys = people.keys_of(run.unit, run.payments.values_list("person_id", flat=True))
    rows = (
        Payment.objects.filter(run=run, scheme__code=code)
        .order_by("person_id", "month", "sequence")
        .values_list(*columns)
        .iterator(chunk_size=5000)
    )
    for row, (person_id, month, sequence, name, account, account_name, bank, amount) in enumerate(
        rows
    ):
        if row == 1:
            common.crash_point("approve.writing")
        key = core.PaymentKey(code, person_id, core.Month.parse(month), sequence)
        yield BatchItem(
            key.reference(keys[person_id]),
            name,
            account,
            account_name,
            bank,
            int(amount),
            purpose,
            person_id,
        )


def send_back_run(unit: Unit, user: User, run_id: int, reason: str = "") -> Outcome:
    """复核 or 审批 sends a run back to 经办 before approval: its payments are WITHDRAWN (for a
    supplementary run, the returned payments it re-issued are RETURNED again)."""
    with transaction.atomic():
        run = _locked_run(unit, run_id)
        if run is None:
            return refused("没有这个发放批次。")
        if run.step == SENT_BACK:
            return Outcome(True, f"第 {run.number} 批已退回经办，无变化。")
        refusal = rules.check_step(_run_state(run), SENT_BACK, user.username, roles_on(user, unit))
        if refusal:
            return refused(refusal.text, run=run.pk)
        before = {"step": run.step}
        if run.kind == core.SUPPLEMENTARY:
            originals = Payment.objects.filter(
                reissued_as__run=run, status=core.REISSUED
            ).values_list("pk", flat=True)
            Payment.objects.filter(pk__in=list(originals)).update(status=core.RETURNED)
        _withdraw(run, rules.status_on_step(SENT_BACK))
        run.step = SENT_BACK
        run.ended_by = user
        run.ended_at = timezone.now()
        run.end_reason = reason
        run.save(update_fields=["step", "ended_by", "ended_at", "end_reason"])
        record(
            "pay_send_back",
            user=user,
            unit=unit,
            year=int(run.month[:4]),
            target=f"{run.month} 第 {run.number} 批",
            summary=f"退回第 {run.number} 批至经办：{reason or '未说明原因'}",
            before=before,
            after={"step": SENT_BACK, "withdrawn": run.count, "total_fen": run.total},
        )
    return Outcome(True, f"第 {run.number} 批已退回经办，可重新生成。", changed=True)


WITHDRAWN_COLUMNS = (*_PAYMENT_ROW, "reissue_of_id", "components")


def _withdraw(run: Run, status: str) -> int:
    """Move the run's pending payments to WithdrawnPayment with `status` (WITHDRAWN): they
    never counted, and their keys are free for the run prepared after."""
    payments = Payment._meta.db_table
    columns = ", ".join(WITHDRAWN_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WithdrawnPayment._meta.db_table} (payment_id, status, {columns}) "
            f"SELECT id, %s, {columns} FROM {payments} WHERE run_id = %s AND status = %s",
            [status, run.pk, core.PENDING],
        )
        moved = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {payments} WHERE run_id = %s AND status = %s", [run.pk, core.PENDING]
        )
        if cursor.rowcount != moved:
            raise RuntimeError(f"批次 {run.pk}：撤回 {moved} 笔，删除 {cursor.rowcount} 笔")
    return moved

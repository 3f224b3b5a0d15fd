"""The disbursement steps as database transactions: what the pages, the jobs and the commands call.

Each step runs in one transaction and takes row locks (`select_for_update`) on what it changes,
so two people doing the same thing at once are served one after the other: the first does it,
the second finds it done and is told so. Taking a step again (preparing a month already
prepared, importing a file already imported) changes nothing and says so. The rules — who may
take which step, what a bank result does to a payment, re-issue, the conservation balance — are
`juesuan.disbursement.transitions`; the computation is `compute.compute_month`; files are read
and written by `roster` and `banks`. This module persists, locks and logs.

Every step writes the audit log: who, what, before/after, counts and amounts, file hashes.

`JUESUAN_DISBURSE_CRASH_AT=<point>` makes the process end abruptly (`os._exit`) at that point
of a step: the crash test uses it to show that a step is all or nothing and a retried step
pays nobody twice. The points are listed in CRASH_POINTS.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from juesuan.disbursement import model as core
from juesuan.disbursement import transitions as rules
from juesuan.money import fmt_fen
from juesuan.web.accounts.access import roles_on
from juesuan.web.accounts.models import Unit, User
from juesuan.web.audit.log import record
from juesuan.web.disbursement.models import (
    CANCELLED_RUN,
    CHECKED,
    ENTERED,
    OPEN,
    REJECTED,
    SENT_BACK,
    BankFile,
    Beneficiary,
    Correction,
    LifeEvent,
    Payment,
    Recovery,
    ResultImport,
    Run,
    Scheme,
    Standard,
    WithdrawnPayment,
)

CRASH_POINTS = (
    "prepare.persisted",
    "prepare.committed",
    "review.committed",
    "approve.sent",
    "approve.file_written",
    "approve.committed",
    "results.applied",
    "results.committed",
    "supplementary.persisted",
    "supplementary.committed",
)
CRASH_ENV = "JUESUAN_DISBURSE_CRASH_AT"

Progress = Callable[[int, str], None]


def _no_progress(_percent: int, _message: str) -> None:
    return None


def crash_point(name: str) -> None:
    """End the process abruptly here when JUESUAN_DISBURSE_CRASH_AT names this point."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(75)


@dataclass
class Outcome:
    """What a step did, for a page, a job or a command: `ok` False means refused or rejected
    (the message says why); `changed` False means it was already done (the message says so)."""

    ok: bool
    message: str
    changed: bool = False
    data: dict = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)  # import errors, row by row

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "message": self.message,
            "changed": self.changed,
            "data": self.data,
            "problems": self.problems[:500],
        }


def _refused(text: str, **data) -> Outcome:
    return Outcome(False, text, data=data)


yuan = fmt_fen  # 1234567 → '12,345.67': the pages, messages and the audit log print 元 so


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _roles(user: User, unit: Unit) -> set[str]:
    return roles_on(user, unit)


def _who(user: User | None) -> str:
    return user.username if user is not None else ""


def _issue_dict(issue) -> dict:
    if hasattr(issue, "as_dict"):
        return issue.as_dict()
    return {  # banks.Problem
        "severity": "错误",
        "file": getattr(issue, "file", ""),
        "sheet": getattr(issue, "sheet", "") or None,
        "row": getattr(issue, "line", None),
        "column": getattr(issue, "column", "") or None,
        "value": getattr(issue, "snippet", "") or None,
        "message": getattr(issue, "message", str(issue)),
        "accepted": None,
    }


# ---- schemes, roster, events ---------------------------------------------------------------------


def core_schemes(unit: Unit):
    """The unit's schemes as the engine's `Schemes` value."""
    from juesuan.disbursement.schemes import Schemes

    rows = Scheme.objects.filter(unit=unit).prefetch_related("standards").order_by("code")
    return Schemes(schemes=tuple(s.as_core() for s in rows), file="数据库")


def import_schemes(unit: Unit, user: User | None, path: Path, *, file_name: str = "") -> Outcome:
    """补贴类别 and standards from a YAML file (`schemes.load_schemes`); a file with errors
    changes nothing. Standards of a scheme in the file are replaced by the file's."""
    from juesuan.disbursement.schemes import load_schemes

    loaded = load_schemes(path)
    name = file_name or Path(path).name
    if not loaded.ok:
        return Outcome(
            False,
            f"“{name}”有 {len(loaded.errors)} 处错误，补贴类别未导入。",
            problems=[_issue_dict(i) for i in loaded.errors],
        )
    changed, changed_names = [], []
    with transaction.atomic():
        for scheme in loaded.schemes:
            row, created = Scheme.objects.select_for_update().get_or_create(
                unit=unit,
                code=scheme.code,
                defaults={"name": scheme.name, "payment_day": scheme.payment_day},
            )
            before = _scheme_snapshot(row) if not created else None
            row.name = scheme.name
            row.payment_day = scheme.payment_day
            row.function_code = scheme.function_code
            row.economic_code = scheme.economic_code
            row.project = scheme.project
            row.save()
            row.standards.all().delete()
            Standard.objects.bulk_create(
                Standard(
                    scheme=row,
                    tier=s.tier,
                    start=str(s.start),
                    amount=s.amount,
                    announced=str(s.announced) if getattr(s, "announced", None) else "",
                )
                for s in scheme.standards
            )
            after = _scheme_snapshot(row)
            if before != after:
                changed.append(scheme.code)
                changed_names.append(f"{scheme.name}（{scheme.code}）")
        sha = sha256_file(Path(path))
        if changed:
            record(
                "pay_schemes",
                user=user,
                unit=unit,
                target=name,
                summary=f"导入补贴类别 {len(loaded.schemes)} 个，变动 {'、'.join(changed)}",
                after={"file": name, "sha256": sha, "changed": changed},
            )
    if not changed:
        return Outcome(True, f"“{name}”中的补贴类别与现有的一致，无变化。")
    return Outcome(True, f"已导入补贴类别：{'、'.join(changed_names)}。", changed=True)


def _scheme_snapshot(row: Scheme) -> dict:
    return {
        "name": row.name,
        "payment_day": row.payment_day,
        "function_code": row.function_code,
        "economic_code": row.economic_code,
        "project": row.project,
        "standards": sorted(
            (s.tier, s.start, s.amount, s.announced)
            for s in Standard.objects.filter(scheme_id=row.pk)
        ),
    }


def import_roster(unit: Unit, user: User | None, path: Path, *, file_name: str = "") -> Outcome:
    """花名册 from Excel/CSV (`roster.read_roster`). A file with any error stores nothing and
    the outcome lists every error by row and column. Rows are added or updated by (scheme,
    公民身份号码); people not in the file stay (stopping payment is a 人员变动)."""
    from juesuan.disbursement.roster import read_roster

    name = file_name or Path(path).name
    if user is not None and rules.CLERK not in _roles(user, unit):
        return _refused("只有经办人员可以导入花名册。")
    schemes = core_schemes(unit)
    if not len(schemes):
        return _refused("本单位还没有补贴类别，请先导入补贴类别（schemes.yaml）。")
    sha = sha256_file(Path(path))
    result = read_roster(Path(path), schemes, filename=name)
    warnings = [_issue_dict(i) for i in result.warnings]
    if not result.ok:
        record(
            "pay_roster_rejected",
            user=user,
            unit=unit,
            target=name,
            summary=f"花名册“{name}”有 {len(result.errors)} 处错误，未导入",
            after={"file": name, "sha256": sha, "errors": len(result.errors)},
        )
        return Outcome(
            False,
            f"“{name}”有 {len(result.errors)} 处错误，花名册未导入，原有花名册不变。",
            problems=[_issue_dict(i) for i in result.errors] + warnings,
        )
    by_code = {s.code: s for s in Scheme.objects.filter(unit=unit)}
    added = updated = same = 0
    fields = ("name", "tier", "start", "bank", "account", "account_name")
    with transaction.atomic():
        # Locking the unit's schemes serialises roster imports and run preparation of the unit.
        list(Scheme.objects.select_for_update().filter(unit=unit))
        existing = {
            (b.scheme_id, b.person_id): b for b in Beneficiary.objects.filter(unit=unit).iterator()
        }
        create, update = [], []
        for person in result.beneficiaries:
            scheme = by_code[person.scheme]
            values = {
                "name": person.name,
                "tier": person.tier,
                "start": str(person.start),
                "bank": person.bank,
                "account": person.account,
                "account_name": person.account_name,
            }
            row = existing.get((scheme.pk, person.person_id))
            if row is None:
                create.append(
                    Beneficiary(unit=unit, scheme=scheme, person_id=person.person_id, **values)
                )
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                update.append(row)
            else:
                same += 1
        Beneficiary.objects.bulk_create(create, batch_size=2000)
        if update:
            Beneficiary.objects.bulk_update(update, fields, batch_size=2000)
        added, updated = len(create), len(update)
        if added or updated:
            record(
                "pay_roster",
                user=user,
                unit=unit,
                target=name,
                summary=f"导入花名册“{name}”：新增 {added} 人，更新 {updated} 人，未变 {same} 人",
                after={"file": name, "sha256": sha, "added": added, "updated": updated},
            )
    data = {"added": added, "updated": updated, "same": same, "sha256": sha}
    if not (added or updated):
        return Outcome(
            True, f"“{name}”与现有花名册一致，无变化（{same} 人）。", data=data, problems=warnings
        )
    return Outcome(
        True,
        f"花名册已导入：新增 {added} 人，更新 {updated} 人，未变 {same} 人。",
        changed=True,
        data=data,
        problems=warnings,
    )


def record_events(unit: Unit, user: User | None, path: Path, *, file_name: str = "") -> Outcome:
    """人员变动 from Excel/CSV (`roster.read_events`); an event already recorded (same person,
    scheme, kind and day) is not recorded again. A file with errors stores nothing."""
    from juesuan.disbursement.roster import read_events

    name = file_name or Path(path).name
    if user is not None and rules.CLERK not in _roles(user, unit):
        return _refused("只有经办人员可以录入人员变动。")
    schemes = core_schemes(unit)
    roster = tuple(
        b.as_core() for b in Beneficiary.objects.filter(unit=unit).select_related("scheme")
    )
    result = read_events(Path(path), schemes, roster, filename=name)
    if not result.ok:
        return Outcome(
            False,
            f"“{name}”有 {len(result.errors)} 处错误，人员变动未录入。",
            problems=[_issue_dict(i) for i in result.errors],
        )
    by_code = {s.code: s for s in Scheme.objects.filter(unit=unit)}
    with transaction.atomic():
        list(Scheme.objects.select_for_update().filter(unit=unit))
        before = LifeEvent.objects.filter(unit=unit).count()
        LifeEvent.objects.bulk_create(
            (
                LifeEvent(
                    unit=unit,
                    scheme=by_code[e.scheme],
                    person_id=e.person_id,
                    kind=e.kind,
                    day=e.day,
                    reported=e.reported,
                    detail=_jsonable(e.detail),
                    recorded_by=user,
                )
                for e in result.events
            ),
            ignore_conflicts=True,
        )
        added = LifeEvent.objects.filter(unit=unit).count() - before
        if added:
            record(
                "pay_events",
                user=user,
                unit=unit,
                target=name,
                summary=f"录入人员变动 {added} 条（文件共 {len(result.events)} 条）",
                after={"file": name, "sha256": sha256_file(Path(path)), "added": added},
            )
    if not added:
        return Outcome(True, f"“{name}”中的 {len(result.events)} 条人员变动都已录入过，无变化。")
    return Outcome(True, f"已录入人员变动 {added} 条。", changed=True, data={"added": added})


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


# ---- reading the state for the computation --------------------------------------------------------


def roster_frame(unit: Unit, scheme_codes: Iterable[str] | None = None) -> pl.DataFrame:
    """The unit's roster as `compute.ROSTER_SCHEMA` (COPY on PostgreSQL: 2,000,000 rows in a
    few seconds; the ORM elsewhere)."""
    from juesuan.disbursement.compute import ROSTER_SCHEMA

    schemes = Scheme.objects.filter(unit=unit)
    if scheme_codes is not None:
        schemes = schemes.filter(code__in=list(scheme_codes))
    ids = {s.pk: s.code for s in schemes}
    if not ids:
        return pl.DataFrame(schema=ROSTER_SCHEMA)
    columns = ["person_id", "name", "scheme_id", "tier", "start", "bank", "account", "account_name"]
    if connection.vendor == "postgresql":
        sql = (
            f"COPY (SELECT {', '.join(columns)} FROM {Beneficiary._meta.db_table} "
            f"WHERE unit_id = {int(unit.pk)} AND scheme_id IN ({', '.join(map(str, ids))})"
            ") TO STDOUT WITH (FORMAT csv)"  # compute_month sorts its output itself
        )
        frame = pl.read_csv(
            _copy_out(sql),
            has_header=False,
            new_columns=columns,
            schema_overrides={c: pl.String for c in columns if c != "scheme_id"},
        ).with_columns(pl.col(pl.String).fill_null(""))  # CSV has no empty string vs NULL
    else:
        rows = Beneficiary.objects.filter(unit=unit, scheme_id__in=list(ids)).values_list(*columns)
        frame = pl.DataFrame(
            list(rows),
            schema={c: (pl.Int64 if c == "scheme_id" else pl.String) for c in columns},
            orient="row",
        )
    codes = pl.DataFrame(
        {"scheme_id": list(ids), "scheme": list(ids.values())},
        schema={"scheme_id": pl.Int64, "scheme": pl.String},
    )
    frame = frame.with_columns(pl.col("scheme_id").cast(pl.Int64)).join(codes, on="scheme_id")
    return frame.select(list(ROSTER_SCHEMA)).cast(ROSTER_SCHEMA)


def _copy_out(sql: str) -> bytes:
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for block in copy:
            buffer.write(block)
    return buffer.getvalue()


def unit_events(unit: Unit, scheme_codes: Iterable[str] | None = None) -> list[core.LifeEvent]:
    events = LifeEvent.objects.filter(unit=unit).select_related("scheme")
    if scheme_codes is not None:
        events = events.filter(scheme__code__in=list(scheme_codes))
    return [e.as_core() for e in events]


# Statuses whose money counts as given for a month: a chain of re-issues counts once, at its
# last approved payment; cancelled money was not given.
_GIVEN = (core.SENT, core.PAID, core.RETURNED)


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


def _component_values(month: str, amount: int, components) -> tuple[core.Component, ...]:
    if not components:
        return (core.Component(core.STANDARD, core.Month.parse(month), amount),)
    return tuple(
        core.Component(c["kind"], core.Month.parse(c["month"]), int(c["amount"]))
        for c in components
    )


# ---- runs: prepare, review, approve, send back ----------------------------------------------------


def _next_run_number(unit: Unit) -> int:
    return (Run.objects.filter(unit=unit).aggregate(n=Max("number"))["n"] or 0) + 1


def prepare_run(
    unit: Unit,
    user: User | None,
    month: core.Month,
    scheme_codes: Iterable[str] | None = None,
    *,
    progress: Progress = _no_progress,
) -> Outcome:
    """经办 prepares the month's regular run: compute (`compute_month`) and store the payments.

    Preparing a month whose schemes already have a live run (prepared, reviewed or approved)
    changes nothing and names that run.
    """
    from juesuan.disbursement.compute import compute_month

    username = _who(user)
    refusal = rules.check_step(None, core.PREPARED, username, _roles(user, unit))
    if refusal:
        return _refused(refusal.text)
    all_codes = list(Scheme.objects.filter(unit=unit).values_list("code", flat=True))
    codes = sorted(set(scheme_codes or all_codes))
    unknown = sorted(set(codes) - set(all_codes))
    if unknown:
        return _refused(
            f"本单位没有补贴类别 {'、'.join(unknown)}；可选：{'、'.join(sorted(all_codes)) or '（无）'}。"
        )
    if not codes:
        return _refused("本单位还没有补贴类别，请先导入补贴类别。")
    with transaction.atomic():
        list(Scheme.objects.select_for_update().filter(unit=unit).order_by("pk"))
        existing = _live_regular_runs(unit, month, codes)
        if existing:
            run = existing[0]
            return Outcome(
                True,
                f"{month} 的发放批次已经生成过（第 {run.number} 批，{run.step_name}），无变化。",
                data={"run": run.pk, "number": run.number},
            )
        progress(10, "读取花名册和人员变动")
        schemes = core_schemes(unit)
        chosen = [s for s in schemes.schemes if s.code in codes]
        roster = roster_frame(unit, codes)
        events = unit_events(unit, codes)
        progress(30, f"计算 {roster.height} 人的发放金额")
        computed = compute_month(chosen, roster, events, month, DatabaseHistory(unit))
        payments = computed.payments
        if payments.height == 0:
            return _refused(f"{month} 没有应发放的人员（花名册为空，或都已停发、暂停）。")
        run = Run.objects.create(
            unit=unit,
            kind=core.REGULAR,
            month=str(month),
            number=_next_run_number(unit),
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
        _set_totals(run)
        crash_point("prepare.persisted")
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
    crash_point("prepare.committed")
    return Outcome(
        True,
        f"已生成 {month} 发放批次第 {run.number} 批：{run.count} 笔，{yuan(run.total)} 元，"
        "待复核。",
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
    frame = frame.select(PAYMENT_COLUMNS)
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
            copy.write(frame.slice(offset, step).write_csv(include_header=False, null_value="\\N"))


def _components_json(parts) -> str:
    import json

    return json.dumps(
        [{"kind": c.kind, "month": str(c.month), "amount": int(c.amount)} for c in parts],
        ensure_ascii=False,
    )


def _store_recoveries(unit: Unit, run: Run, computed) -> None:
    ids = dict(Scheme.objects.filter(unit=unit).values_list("code", "pk"))
    Recovery.objects.bulk_create(
        (
            Recovery(
                unit=unit,
                scheme_id=ids[r.scheme],
                person_id=r.person_id,
                month=str(computed.month),
                amount=r.amount,
                reason=r.reason[:200],
                detail={
                    "months": [str(m) for m in r.months],
                    "via_bank": r.via_bank,
                    "name": r.name,
                },
                run=run,
            )
            for r in computed.recoveries
        ),
        ignore_conflicts=True,
    )


def _set_totals(run: Run) -> None:
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
        prepared_by=_who(run.prepared_by),
        reviewed_by=_who(run.reviewed_by),
        approved_by=_who(run.approved_by),
        sent_back_by=_who(run.ended_by),
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
            return _refused("没有这个发放批次。")
        if run.step == core.REVIEWED and run.reviewed_by_id == user.pk:
            return Outcome(True, f"第 {run.number} 批已由您复核通过，无变化。")
        refusal = rules.check_step(
            _run_state(run), core.REVIEWED, user.username, _roles(user, unit)
        )
        if refusal:
            return _refused(refusal.text, run=run.pk)
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
    crash_point("review.committed")
    return Outcome(
        True, f"第 {run.number} 批已复核通过，待审批。", changed=True, data={"run": run.pk}
    )


def approve_run(
    unit: Unit, user: User, run_id: int, *, progress: Progress = _no_progress
) -> Outcome:
    """审批 approves a reviewed run: it is frozen, its payments become SENT and the bank files
    are written through the schemes' adapters (one file per scheme)."""
    try:
        return _approve_run(unit, user, run_id, progress)
    except BankFileRefused as exc:
        return Outcome(
            False,
            "银行文件无法生成，批次未审批：" + str(exc),
            problems=[_issue_dict(p) for p in exc.problems],
        )


def _approve_run(unit: Unit, user: User, run_id: int, progress: Progress) -> Outcome:
    with transaction.atomic():
        run = _locked_run(unit, run_id)
        if run is None:
            return _refused("没有这个发放批次。")
        if run.step == core.APPROVED and run.approved_by_id == user.pk:
            return Outcome(
                True, f"第 {run.number} 批已由您审批通过，无变化。", data={"run": run.pk}
            )
        refusal = rules.check_step(
            _run_state(run), core.APPROVED, user.username, _roles(user, unit)
        )
        if refusal:
            return _refused(refusal.text, run=run.pk)
        progress(10, "锁定批次")
        status = rules.status_on_step(core.APPROVED)
        changed = Payment.objects.filter(run=run, status=core.PENDING).update(status=status)
        if changed != run.count:
            raise RuntimeError(f"批次 {run.pk} 应有 {run.count} 笔待审批付款，实有 {changed} 笔")
        crash_point("approve.sent")
        run.step = core.APPROVED
        run.approved_by = user
        run.approved_at = timezone.now()
        run.save(update_fields=["step", "approved_by", "approved_at"])
        progress(30, "写银行文件")
        files = _write_bank_files(unit, run, progress)
        crash_point("approve.file_written")
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
                + "；".join(f"{f.name}（SHA-256 {f.sha256}）" for f in files)
            ),
            before={"step": core.REVIEWED},
            after={
                "step": core.APPROVED,
                "count": run.count,
                "total_fen": run.total,
                "files": [
                    {"name": f.name, "sha256": f.sha256, "count": f.count, "total_fen": f.total}
                    for f in files
                ],
            },
        )
    crash_point("approve.committed")
    return Outcome(
        True,
        f"第 {run.number} 批已审批通过：{run.count} 笔，{yuan(run.total)} 元；"
        f"已生成银行文件 {len(files)} 个。",
        changed=True,
        data={"run": run.pk, "files": [f.name for f in files]},
    )


def _settle_recoveries(run: Run) -> None:
    """Nothing to settle yet: recoveries via the bank are settled by hand (see docs.md)."""
    return None


def _write_bank_files(unit: Unit, run: Run, progress: Progress) -> list[BankFile]:
    from juesuan.disbursement.banks import BatchHeader, get_adapter, write_batch

    files = []
    schemes = {s.code: s for s in Scheme.objects.filter(unit=unit, code__in=run.schemes)}
    folder = Path("disbursement") / str(unit.pk) / run.month / f"run-{run.number}"
    for index, code in enumerate(sorted(run.schemes)):
        scheme = schemes[code]
        adapter = get_adapter(run.bank_adapter or scheme.bank_adapter)
        month = core.Month.parse(run.month)
        header = BatchHeader(
            payer_name=unit.name,
            payer_account=scheme.payer_account or "0",
            payer_bank=scheme.payer_bank or unit.name,
            payer_code=_ascii(unit.code) or f"U{unit.pk}",
            batch_id=f"{_ascii(unit.code) or 'U' + str(unit.pk)}-{run.number}-{code}"[:35],
            scheme=code,
            month=month,
            execution_date=date(month.year, month.month, min(scheme.payment_day, 28)),
        )
        name = adapter.file_name(header)
        target = settings.MEDIA_ROOT / folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        purpose = f"{scheme.name}{month.year}年{month.month}月"
        written = write_batch(adapter, header, _batch_items(run, code, purpose), target)
        if not written.ok:
            raise BankFileRefused(written.problems)
        expected = run.totals.get(code, {"count": 0, "amount": 0})
        if written.count != expected["count"] or written.total_fen != expected["amount"]:
            raise RuntimeError(
                f"银行文件 {name} 有 {written.count} 笔 {written.total_fen} 分，"
                f"批次为 {expected['count']} 笔 {expected['amount']} 分"
            )
        files.append(
            BankFile.objects.create(
                run=run,
                scheme=code,
                adapter=adapter.id,
                name=written.file_name or name,
                path=str(folder / name),
                sha256=written.sha256,
                count=written.count,
                total=written.total_fen,
            )
        )
        progress(30 + int(60 * (index + 1) / max(1, len(run.schemes))), f"已写 {name}")
    return files


class BankFileRefused(Exception):
    """The adapter could not write a row (a name too wide for its column, …)."""

    def __init__(self, problems):
        self.problems = tuple(problems)
        super().__init__("；".join(str(p) for p in self.problems[:5]))


def _ascii(text: str) -> str:
    return "".join(ch for ch in (text or "") if ch.isascii() and ch.isalnum())


def _batch_items(run: Run, code: str, purpose: str) -> Iterator[tuple]:
    """The run's payments of one scheme in key order, streamed from the database."""
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
    if connection.vendor == "postgresql":
        scheme_id = Scheme.objects.get(unit_id=run.unit_id, code=code).pk
        sql = (
            f"COPY (SELECT {', '.join(columns)} FROM {Payment._meta.db_table} "
            f"WHERE run_id = {int(run.pk)} AND scheme_id = {int(scheme_id)} "
            f"ORDER BY person_id, month, sequence) TO STDOUT WITH (FORMAT csv)"
        )
        frame = pl.read_csv(
            _copy_out(sql),
            has_header=False,
            new_columns=list(columns),
            schema_overrides={c: pl.String for c in columns if c not in ("sequence", "amount")},
        ).with_columns(pl.col(pl.String).fill_null(""))
        for (
            person_id,
            month,
            sequence,
            name,
            account,
            account_name,
            bank,
            amount,
        ) in frame.iter_rows():
            reference = f"{code}-{person_id}-{month.replace('-', '')}-{sequence}"
            yield BatchItem(reference, name, account, account_name, bank, int(amount), purpose)
        return
    rows = (
        Payment.objects.filter(run=run, scheme__code=code)
        .order_by("person_id", "month", "sequence")
        .values_list(*columns)
        .iterator(chunk_size=5000)
    )
    for person_id, month, sequence, name, account, account_name, bank, amount in rows:
        key = core.PaymentKey(code, person_id, core.Month.parse(month), sequence)
        yield BatchItem(key.reference, name, account, account_name, bank, int(amount), purpose)


def send_back_run(unit: Unit, user: User, run_id: int, reason: str = "") -> Outcome:
    """复核 or 审批 sends a run back to 经办 before approval: its payments are WITHDRAWN (for a
    supplementary run, the returned payments it re-issued are RETURNED again)."""
    with transaction.atomic():
        run = _locked_run(unit, run_id)
        if run is None:
            return _refused("没有这个发放批次。")
        if run.step == SENT_BACK:
            return Outcome(True, f"第 {run.number} 批已退回经办，无变化。")
        refusal = rules.check_step(_run_state(run), SENT_BACK, user.username, _roles(user, unit))
        if refusal:
            return _refused(refusal.text, run=run.pk)
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


# ---- bank results --------------------------------------------------------------------------------


def import_results(
    unit: Unit,
    user: User | None,
    path: Path,
    *,
    adapter_id: str,
    file_name: str = "",
    progress: Progress = _no_progress,
) -> Outcome:
    """Import the bank's result file (回盘): each row's effect on its payment comes from
    `transitions.apply_result`. The same file twice changes nothing. A file with unreadable
    rows, unknown payments, amounts that differ from the payment, or results that contradict an
    earlier import changes nothing and lists them."""
    from juesuan.disbursement.banks import PAID, get_adapter, read_results

    name = file_name or Path(path).name
    if user is not None and rules.CLERK not in _roles(user, unit):
        return _refused("只有经办人员可以导入银行回盘。")
    sha = sha256_file(Path(path))
    already = ResultImport.objects.filter(unit=unit, sha256=sha).first()
    if already is not None:
        return _already_imported(already, name)
    progress(5, "读取回盘文件")
    adapter = get_adapter(adapter_id)
    result = read_results(adapter, Path(path))
    if not result.ok:
        _log_rejected(unit, user, name, sha, f"{len(result.problems)} 处无法识别")
        return Outcome(
            False,
            f"“{name}”有 {len(result.problems)} 处无法识别，回盘未导入，付款状态不变。",
            problems=[_issue_dict(p) for p in result.problems],
        )
    progress(25, "整理回盘结果")
    frame = _results_frame(result.rows)
    try:
        with transaction.atomic():
            # The import row first: a second import of the same file at the same moment fails on
            # the unique (unit, sha256) and is told the file was imported.
            entry = ResultImport.objects.create(
                unit=unit,
                sha256=sha,
                file_name=name,
                file_path="",
                adapter=adapter.id,
                rows=len(result.rows),
                imported_by=user,
            )
            outcome = _apply_results(unit, user, entry, frame, PAID, progress)
            if not outcome.ok:
                raise _Rejected(outcome)
            stored = _keep_file(unit, Path(path), sha, name)
            entry.file_path = stored
            entry.save(update_fields=["file_path"])
            crash_point("results.applied")
            record(
                "pay_results",
                user=user,
                unit=unit,
                year=outcome.data.get("year"),
                target=name,
                summary=(
                    f"导入银行回盘“{name}”：成功 {entry.paid} 笔，退回 {entry.returned} 笔，"
                    f"已导入无变化 {entry.unchanged} 笔"
                ),
                after={
                    "file": name,
                    "sha256": sha,
                    "paid": entry.paid,
                    "returned": entry.returned,
                    "unchanged": entry.unchanged,
                    "paid_fen": outcome.data["paid_fen"],
                    "returned_fen": outcome.data["returned_fen"],
                },
            )
    except _Rejected as rejected:
        # nothing was stored (the transaction rolled back); the refusal itself is logged
        _log_rejected(unit, user, name, sha, rejected.outcome.message)
        return rejected.outcome
    except IntegrityError:
        already = ResultImport.objects.filter(unit=unit, sha256=sha).first()
        if already is None:
            raise
        return _already_imported(already, name)
    crash_point("results.committed")
    outcome.changed = bool(entry.paid or entry.returned)
    outcome.data["import"] = entry.pk
    return outcome


class _Rejected(Exception):
    """A result file refused after matching: raised to roll the transaction back."""

    def __init__(self, outcome: Outcome):
        self.outcome = outcome
        super().__init__(outcome.message)


def _already_imported(entry: ResultImport, name: str) -> Outcome:
    when = timezone.localtime(entry.imported_at).strftime("%Y-%m-%d %H:%M")
    return Outcome(
        True,
        f"“{name}”已于 {when} 导入过"
        + ("" if entry.file_name == name else f"（当时的文件名为“{entry.file_name}”）")
        + "，本次无变化。",
        data={"import": entry.pk, "paid": 0, "returned": 0, "unchanged": entry.rows},
    )


def _log_rejected(unit, user, name, sha, why) -> None:
    record(
        "pay_results_rejected",
        user=user,
        unit=unit,
        target=name,
        summary=f"银行回盘“{name}”未导入：{why}",
        after={"file": name, "sha256": sha},
    )


def _keep_file(unit: Unit, source: Path, sha: str, name: str) -> str:
    relative = Path("disbursement") / str(unit.pk) / "results" / f"{sha[:16]}-{Path(name).name}"
    target = settings.MEDIA_ROOT / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(source, target)
    return str(relative)


def _results_frame(rows) -> pl.DataFrame:
    """The result rows as columns, the payment key split out of each reference."""
    if hasattr(rows, "frame"):  # the bank reader keeps its rows as a polars frame
        frame = rows.frame().select(
            "reference",
            pl.col("status").alias("outcome"),
            "reason_code",
            "reason_text",
            pl.col("amount_fen").alias("amount_r"),
            "line",
        )
    else:
        frame = pl.DataFrame(
            {
                "reference": [_reference(r) for r in rows],
                "outcome": [r.status for r in rows],
                "reason_code": [r.reason_code for r in rows],
                "reason_text": [r.reason_text for r in rows],
                "amount_r": [r.amount_fen for r in rows],
                "line": [r.line for r in rows],
            },
            schema={
                "reference": pl.String,
                "outcome": pl.String,
                "reason_code": pl.String,
                "reason_text": pl.String,
                "amount_r": pl.Int64,
                "line": pl.Int64,
            },
        )
    # PaymentKey.reference is scheme-person-YYYYMM-sequence; neither scheme codes nor ID numbers
    # contain a hyphen, and the reader has checked the shape.
    parts = pl.col("reference").str.split_exact("-", 3)
    compact = parts.struct.field("field_2")
    return frame.with_columns(
        parts.struct.field("field_0").alias("scheme"),
        parts.struct.field("field_1").alias("person_id"),
        (compact.str.slice(0, 4) + "-" + compact.str.slice(4, 2)).alias("month"),
        parts.struct.field("field_3").cast(pl.Int64).alias("sequence"),
        pl.col("reason_code").fill_null(""),
        pl.col("reason_text").fill_null(""),
    ).drop("reference")


def _reference(row) -> str:
    reference = getattr(row, "reference", None)
    return reference if reference else row.key.reference


def _apply_results(unit, user, entry, frame: pl.DataFrame, paid_outcome, progress) -> Outcome:
    """Match the rows with their payments (under the runs' locks), decide each row with
    `transitions.apply_result` — once per distinct (status, recorded reason, result) — and
    update the payments.

    The payments the file can answer (its months and schemes) are read in one go (COPY on
    PostgreSQL) and matched in polars, so millions of rows are never joined in SQL. The
    returned rows are updated by id; the paid ones, when they are every payment of a bank
    file still awaiting the bank, with one plain UPDATE of that file's payments."""
    months = frame["month"].unique().sort().to_list()
    schemes = dict(Scheme.objects.filter(unit=unit).values_list("code", "pk"))
    unknown_schemes = sorted(set(frame["scheme"].unique().to_list()) - set(schemes))
    if unknown_schemes:
        return _refused(f"回盘中的补贴类别 {'、'.join(unknown_schemes)} 不是本单位的，回盘未导入。")
    # Lock the unit's approved runs (a few rows): result files of a unit are applied one at a
    # time, so a second file waits and then sees what the first changed.
    list(Run.objects.select_for_update().filter(unit=unit, step=core.APPROVED).order_by("pk"))
    progress(40, "读取对应付款")
    wanted = {schemes[c] for c in frame["scheme"].unique().to_list()}
    stored = _payments_frame(unit, months, sorted(wanted))
    codes = pl.DataFrame(
        {"scheme_id": list(schemes.values()), "scheme": list(schemes)},
        schema={"scheme_id": pl.Int64, "scheme": pl.String},
    )
    progress(50, "核对对应付款")
    stored = stored.join(codes, on="scheme_id")
    matched = frame.join(stored, on=["scheme", "person_id", "month", "sequence"], how="left")
    problems: list[dict] = []
    missing = matched.filter(pl.col("id").is_null())
    for row in missing.sort("line").head(200).iter_rows(named=True):
        problems.append(
            _row_problem(entry, row, "找不到对应的付款（付款编号不属于本单位已审批的批次）")
        )
    differs = matched.filter(pl.col("id").is_not_null() & (pl.col("amount") != pl.col("amount_r")))
    for row in differs.sort("line").head(200).iter_rows(named=True):
        problems.append(
            _row_problem(
                entry,
                row,
                f"回盘金额 {yuan(row['amount_r'])} 元与付款金额 {yuan(row['amount'])} 元不符",
            )
        )
    # Two rows answering one payment share its id (rows without a payment are reported above);
    # the keys are compared only when ids repeat.
    duplicated = frame.clear()
    if matched["id"].is_duplicated().any() or missing.height:
        duplicated = frame.filter(
            pl.struct("scheme", "person_id", "month", "sequence").is_duplicated()
        )
    for row in duplicated.head(200).iter_rows(named=True):
        problems.append(_row_problem(entry, row, "同一笔付款在回盘中出现多次"))
    if problems:
        total = missing.height + differs.height + duplicated.height
        return Outcome(
            False,
            f"回盘“{entry.file_name}”有 {total} 行与付款对不上，回盘未导入，付款状态不变。",
            problems=problems,
        )
    # One decision per distinct situation: the rule is applied, not copied.
    situation = ["status", "reason_code_p", "outcome", "reason_code", "reason_text"]
    distinct = matched.select(situation).unique().with_row_index("situation")
    matched = matched.join(distinct.cast({"situation": pl.Int64}), on=situation, nulls_equal=True)
    situations = (
        matched.group_by("situation")
        .agg(pl.col(situation).first(), pl.len().alias("count"), pl.col("amount").sum())
        .sort("situation")
    )
    decisions = []
    conflicts = []
    for number, status, recorded, outcome, code, text, count, amount in situations.iter_rows():
        result = rules.Result(
            outcome=rules.RESULT_PAID if outcome == paid_outcome else rules.RESULT_RETURNED,
            reason_code=code or "",
            reason=text or "",
        )
        decision = rules.apply_result(status, result, recorded or "")
        decisions.append((number, status, decision, count, int(amount or 0)))
        if isinstance(decision, rules.Conflict):
            rows = matched.filter(pl.col("situation") == number).sort("line").head(100)
            for row in rows.iter_rows(named=True):
                conflicts.append(_row_problem(entry, row, decision.text))
    if conflicts:
        conflicts.sort(key=lambda p: p["row"] or 0)
        return Outcome(
            False,
            f"回盘“{entry.file_name}”有 {len(conflicts)} 笔结果与已导入的结果不一致或付款未送银行，"
            "回盘未导入，付款状态不变。",
            problems=conflicts,
        )
    progress(60, "更新付款状态")
    today = timezone.localdate()
    paid = returned = unchanged = paid_fen = returned_fen = 0
    # A bank file (run, scheme) whose payments awaiting the bank are all answered by this file
    # takes its largest change (the paid rows) as one plain UPDATE of what still awaits the
    # bank, after its other rows (the returned ones) were updated by id.
    waiting = stored.filter(pl.col("status") == core.SENT).group_by("run_id", "scheme_id").len()
    answered = matched.filter(pl.col("status") == core.SENT).group_by("run_id", "scheme_id").len()
    whole = {
        (r, s)
        for r, s, n, m in waiting.join(answered, on=["run_id", "scheme_id"]).iter_rows()
        if n == m
    }
    keyed, bulk = [], []  # (ids or (run, scheme), values, status of the payments, count)
    changes = {number: d for number, _s, d, _c, _a in decisions if isinstance(d, rules.Change)}
    if changes:
        groups = (
            matched.filter(pl.col("situation").is_in(list(changes)))
            .group_by("run_id", "scheme_id", "situation")
            .agg(pl.col("id"), pl.col("status").first())
            .with_columns(pl.col("id").list.len().alias("count"))
            .sort("run_id", "scheme_id", "count", descending=[False, False, True])
        )
        largest: set[tuple[int, int]] = set()
        for run_id, scheme_id, number, ids, status, count in groups.iter_rows():
            decision = changes[number]
            values = {
                "status": decision.status,
                "reason_code": decision.reason_code,
                "reason_text": (decision.reason or "")[:200],
                "paid_on": decision.day or (today if decision.status == core.PAID else None),
                "result_import_id": entry.pk,
            }
            group = (run_id, scheme_id)
            if status == core.SENT and group in whole and group not in largest:
                largest.add(group)
                bulk.append((group, values, status, count))
            else:
                keyed.append((ids, values, status, count))
    for ids, values, status, count in keyed:
        progress(65, f"逐笔更新付款（{core.STATUS_NAMES[values['status']]}）")
        if _update_ids(ids, values, expect_status=status) != count:
            raise RuntimeError("付款状态在导入过程中被改动，请重新导入")
    for (run_id, scheme_id), values, _status, count in bulk:
        progress(70, f"整批更新付款（{core.STATUS_NAMES[values['status']]}）")
        _update_bank_file(unit.pk, run_id, scheme_id, months, values, count)
    for _number, _status, decision, count, amount in decisions:
        if isinstance(decision, rules.Unchanged):
            unchanged += count
        elif decision.status == core.PAID:
            paid, paid_fen = paid + count, paid_fen + amount
        else:
            returned, returned_fen = returned + count, returned_fen + amount
    return _settled(entry, paid, returned, unchanged, paid_fen, returned_fen, frame)


def _update_bank_file(
    unit_id: int, run_id: int, scheme_id: int, months: list[str], values: dict, n: int
) -> int:
    """Set `values` on every payment of (run, scheme, months) still awaiting the bank: the
    caller has matched each of them (`n`) with a row of the file. No join, no list of ids."""
    # unit and scheme lead the key's index: a small scheme's rows are found without a full scan
    updated = Payment.objects.filter(
        unit_id=unit_id, scheme_id=scheme_id, month__in=months, run_id=run_id, status=core.SENT
    ).update(**values)
    if updated != n:
        raise RuntimeError("付款状态在导入过程中被改动，请重新导入")
    return updated


def _settled(entry, paid, returned, unchanged, paid_fen, returned_fen, frame) -> Outcome:
    """Record the import's counts; the outcome both paths return."""
    entry.paid, entry.returned, entry.unchanged = paid, returned, unchanged
    entry.report = {"paid_fen": paid_fen, "returned_fen": returned_fen}
    entry.save(update_fields=["paid", "returned", "unchanged", "report"])
    months = frame["month"].unique().sort().to_list()
    year = int(months[0][:4]) if months else None
    if not (paid or returned):
        message = f"回盘“{entry.file_name}”的 {unchanged} 笔结果都已导入过，无变化。"
    else:
        message = (
            f"回盘已导入：成功 {paid} 笔 {yuan(paid_fen)} 元，退回 {returned} 笔 "
            f"{yuan(returned_fen)} 元"
            + (f"，已导入无变化 {unchanged} 笔" if unchanged else "")
            + "。"
        )
    return Outcome(
        True,
        message,
        changed=bool(paid or returned),
        data={
            "paid": paid,
            "returned": returned,
            "unchanged": unchanged,
            "paid_fen": paid_fen,
            "returned_fen": returned_fen,
            "year": year,
        },
    )


def _row_problem(entry, row: dict, message: str) -> dict:
    key = core.PaymentKey(
        row["scheme"], row["person_id"], core.Month.parse(row["month"]), row["sequence"]
    )
    return {
        "severity": "错误",
        "file": entry.file_name,
        "sheet": None,
        "row": row.get("line"),
        "column": "付款编号",
        "value": key.reference,
        "message": message,
        "accepted": None,
    }


def _payments_frame(unit: Unit, months: list[str], scheme_ids: list[int]) -> pl.DataFrame:
    """The unit's payments of `months` and `scheme_ids` a result can answer (not withdrawn),
    with what matching and deciding need; COPY on PostgreSQL."""
    columns = [
        "id",
        "run_id",
        "scheme_id",
        "person_id",
        "month",
        "sequence",
        "status",
        "reason_code",
        "amount",
    ]
    schema = {
        "id": pl.Int64,
        "run_id": pl.Int64,
        "scheme_id": pl.Int64,
        "person_id": pl.String,
        "month": pl.String,
        "sequence": pl.Int64,
        "status": pl.String,
        "reason_code_p": pl.String,
        "amount": pl.Int64,
    }
    if not months or not scheme_ids:
        return pl.DataFrame(schema=schema)
    if connection.vendor == "postgresql":
        month_list = ", ".join(f"'{core.Month.parse(m)}'" for m in months)
        sql = (
            f"COPY (SELECT {', '.join(columns)} FROM {Payment._meta.db_table} "
            f"WHERE unit_id = {int(unit.pk)} AND month IN ({month_list}) "
            f"AND scheme_id IN ({', '.join(str(int(i)) for i in scheme_ids)}) "
            f"AND status <> '{core.WITHDRAWN}') TO STDOUT WITH (FORMAT csv)"
        )
        return pl.read_csv(
            _copy_out(sql),
            has_header=False,
            new_columns=list(schema),
            schema=schema,
        ).with_columns(pl.col(pl.String).fill_null(""))
    rows = (
        Payment.objects.filter(unit=unit, month__in=months, scheme_id__in=scheme_ids)
        .exclude(status=core.WITHDRAWN)
        .values_list(*columns)
    )
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def _update_ids(ids: list[int], values: dict, *, expect_status: str) -> int:
    """Set `values` on the payments `ids` still in `expect_status`; the number updated."""
    if connection.vendor == "postgresql":
        # The ids as one array joined with unnest (a hash join): a million ids in a few
        # statements. (`id = ANY(array)` would test each row against the whole array.)
        columns = ", ".join(f"{name} = %s" for name in values)
        sql = (
            f"UPDATE {Payment._meta.db_table} AS p SET {columns} "
            "FROM unnest(%s::bigint[]) AS chosen(id) WHERE p.id = chosen.id AND p.status = %s"
        )
        updated = 0
        with connection.cursor() as cursor:
            for offset in range(0, len(ids), 250_000):
                chunk = ids[offset : offset + 250_000]
                cursor.execute(sql, [*values.values(), chunk, expect_status])
                updated += cursor.rowcount
        return updated
    updated = 0
    for offset in range(0, len(ids), 500):
        chunk = ids[offset : offset + 500]
        updated += Payment.objects.filter(pk__in=chunk, status=expect_status).update(**values)
    return updated


# ---- corrections, re-issue, cancellation ---------------------------------------------------------


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
    from juesuan.disbursement.roster import check_account

    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("scheme")
            .filter(unit=unit, pk=payment_id)
            .first()
        )
        if payment is None:
            return _refused("没有这笔付款。")
        refusal = rules.check_correction_entry(payment.status, user.username, _roles(user, unit))
        if refusal:
            return _refused(refusal.text)
        digits, error, warning = check_account(account)
        if error:
            return _refused(f"银行账号：{error}")
        if not (name.strip() and bank.strip()):
            return _refused("请填写姓名和开户银行。")
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
            target=payment.key.reference,
            summary=f"录入更正：{payment.key.reference}（退回原因 {payment.reason_code}）",
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
        entered_by=_who(c.entered_by),
        checked_by=_who(c.checked_by) if c.status == CHECKED else "",
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
            return _refused("没有这条更正。")
        if correction.status == REJECTED:
            return Outcome(True, "这条更正已被退回，无变化。")
        refusal = rules.check_correction(
            _core_correction(correction), user.username, _roles(user, unit)
        )
        if refusal:
            if correction.status == CHECKED:
                return Outcome(True, refusal.text)
            return _refused(refusal.text)
        correction.status = CHECKED if accept else REJECTED
        correction.checked_by = user
        correction.checked_at = timezone.now()
        correction.save(update_fields=["status", "checked_by", "checked_at"])
        record(
            "pay_check_correction",
            user=user,
            unit=unit,
            year=int(correction.payment.month[:4]),
            target=correction.payment.key.reference,
            summary=f"复核更正{'通过' if accept else '未通过'}：{correction.payment.key.reference}",
            after={"status": correction.status},
        )
    return Outcome(
        True,
        "更正复核通过，可生成补发批次。" if accept else "更正已退回经办。",
        changed=True,
    )


def prepare_supplementary_run(unit: Unit, user: User, month: core.Month | None = None) -> Outcome:
    """经办 gathers the returned payments with checked corrections into a supplementary run
    (补发批次): each re-issued once (`transitions.reissue`), same amount, key sequence + 1."""
    refusal = rules.check_step(None, core.PREPARED, user.username, _roles(user, unit))
    if refusal:
        return _refused(refusal.text)
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
        month = month or core.Month.of(timezone.localdate())
        run = Run.objects.create(
            unit=unit,
            kind=core.SUPPLEMENTARY,
            month=str(month),
            number=_next_run_number(unit),
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
                _component_values(original.month, original.amount, original.components),
            )
            if isinstance(line, rules.Refusal):
                raise RuntimeError(f"{original.key.reference}：{line.text}")
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
        _set_totals(run)
        crash_point("supplementary.persisted")
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
                "reissued": [p.key.reference for p in payments.values()][:200],
            },
        )
    crash_point("supplementary.committed")
    return Outcome(
        True,
        f"已生成补发批次第 {run.number} 批：{run.count} 笔，{yuan(run.total)} 元，待复核。",
        changed=True,
        data={"run": run.pk, "number": run.number},
    )


def cancel_payment(unit: Unit, user: User, payment_id: int, reason: str) -> Outcome:
    """经办 cancels a returned payment that is not to be paid (e.g. the person died)."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("scheme")
            .filter(unit=unit, pk=payment_id)
            .first()
        )
        if payment is None:
            return _refused("没有这笔付款。")
        if payment.status == core.CANCELLED:
            return Outcome(True, "这笔付款已取消，无变化。")
        refusal = rules.check_cancel(payment.status, reason, user.username, _roles(user, unit))
        if refusal:
            return _refused(refusal.text)
        Payment.objects.filter(pk=payment.pk).update(
            status=core.CANCELLED, reason_text=reason.strip()[:200]
        )
        Correction.objects.filter(payment=payment, status=ENTERED).update(status=REJECTED)
        record(
            "pay_cancel",
            user=user,
            unit=unit,
            year=int(payment.month[:4]),
            target=payment.key.reference,
            summary=f"取消付款 {payment.key.reference}（{yuan(payment.amount)} 元）：{reason}",
            before={"status": core.RETURNED},
            after={"status": core.CANCELLED, "amount_fen": payment.amount},
        )
    return Outcome(True, "付款已取消。", changed=True)


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
            if not f.full_path.is_file():
                problems.append(f"第 {run.number} 批：银行文件 {f.name} 不在了。")
            elif sha256_file(f.full_path) != f.sha256:
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

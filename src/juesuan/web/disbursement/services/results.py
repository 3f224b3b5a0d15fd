"""Bank results: a result file read, matched to its payments and applied, once."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from juesuan.disbursement import model as core
from juesuan.disbursement import transitions as rules
from juesuan.web.accounts.access import roles_on
from juesuan.web.accounts.models import Unit, User
from juesuan.web.audit.log import record
from juesuan.web.disbursement.models import (
    Payment,
    ResultImport,
    Run,
    Scheme,
)
from juesuan.web.disbursement.services import common
from juesuan.web.disbursement.services.common import (
    Outcome,
    Progress,
    copy_out,
    issue_dict,
    no_progress,
    refused,
    sha256_file,
    yuan,
)

# ---- bank results --------------------------------------------------------------------------------


def import_results(
    unit: Unit,
    user: User | None,
    path: Path,
    *,
    adapter_id: str,
    file_name: str = "",
    progress: Progress = no_progress,
) -> Outcome:
    """Import the bank's result file (回盘): each row's effect on its payment comes from
    `transitions.apply_result`. The same file twice changes nothing. A file with unreadable
    rows, unknown payments, amounts that differ from the payment, or results that contradict an
    earlier import changes nothing and lists them."""
    from juesuan.disbursement.banks import PAID, get_adapter, read_results

    name = file_name or Path(path).name
    if user is not None and rules.CLERK not in roles_on(user, unit):
        return refused("只有经办人员可以导入银行回盘。")
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
            problems=[issue_dict(p) for p in result.problems],
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
            common.crash_point("results.applied")
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
    common.crash_point("results.committed")
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
        return refused(f"回盘中的补贴类别 {'、'.join(unknown_schemes)} 不是本单位的，回盘未导入。")
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
            copy_out(sql),
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

"""Bank results: a result file read, matched to its payments and applied, once."""

from __future__ import annotations

import contextlib
import io
import queue
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
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
from juesuan.web.disbursement.services import common, files, people
from juesuan.web.disbursement.services.common import (
    Outcome,
    Progress,
    bulk_work_mem,
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
    files.sweep(unit, by=user)  # what a crashed import left is put right first
    sha = sha256_file(Path(path))
    already = ResultImport.objects.filter(unit=unit, sha256=sha).first()
    if already is not None:
        return _already_imported(already, name, Path(path))
    progress(5, "读取回盘文件")
    adapter = get_adapter(adapter_id)
    reader = _Reader(lambda: read_results(adapter, Path(path)), name)
    # On PostgreSQL the paid rows of the payments the file seems to answer are written while
    # the file is read and checked in a thread (see `_apply_results`).
    guess = _scope_guess(Path(path)) if connection.vendor == "postgresql" else None
    alone = not connection.in_atomic_block
    if not guess:
        reader.run()
        if reader.unreadable is not None:
            _log_rejected(unit, user, name, sha, reader.unreadable.data.pop("why"))
            return reader.unreadable
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
                rows=0,
                imported_by=user,
            )
            outcome = _apply_results(unit, entry, reader, guess, PAID, progress, alone=alone)
            if not outcome.ok:
                raise _Rejected(outcome)
            stored = _keep_file(unit, Path(path), sha, name)
            if stored is None:
                raise _Rejected(
                    refused(f"“{name}”在导入过程中被改动，回盘未导入，付款状态不变；请重新导入。")
                )
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
        why = rejected.outcome.data.pop("why", rejected.outcome.message)
        _log_rejected(unit, user, name, sha, why)
        return rejected.outcome
    except IntegrityError:
        already = ResultImport.objects.filter(unit=unit, sha256=sha).first()
        if already is None:
            raise
        return _already_imported(already, name, Path(path))
    finally:
        reader.stop()
    common.crash_point("results.committed")
    outcome.changed = bool(entry.paid or entry.returned)
    outcome.data["import"] = entry.pk
    return outcome


class _Rejected(Exception):
    """A result file refused after matching: raised to roll the transaction back."""

    def __init__(self, outcome: Outcome):
        self.outcome = outcome
        super().__init__(outcome.message)


def _already_imported(entry: ResultImport, name: str, source: Path) -> Outcome:
    """The same file again changes no payment; it only puts back a kept copy that is missing
    (a check found it damaged, or it was lost), from this file with the recorded SHA-256."""
    when = timezone.localtime(entry.imported_at).strftime("%Y-%m-%d %H:%M")
    restored = ""
    if entry.file_path:
        final = settings.MEDIA_ROOT / entry.file_path
        if files.in_place(final, entry.sha256) is None and files.keep_copy(
            source, final, entry.sha256
        ):
            files.in_place(final, entry.sha256)
            restored = "留存的回盘副本已补存，"
    return Outcome(
        True,
        f"“{name}”已于 {when} 导入过"
        + ("" if entry.file_name == name else f"（当时的文件名为“{entry.file_name}”）")
        + f"，{restored}本次无变化。",
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


def _keep_file(unit: Unit, source: Path, sha: str, name: str) -> str | None:
    """Keep a copy of the imported file, in place when the import commits (`services.files`);
    None when the copy on disk is not the file that was read."""
    relative = files.results_folder(unit) / f"{sha[:16]}-{Path(name).name}"
    target = settings.MEDIA_ROOT / relative
    if not files.keep_copy(source, target, sha):
        return None
    files.place_on_commit(target, "results")
    return str(relative)


def _results_frame(rows) -> pl.DataFrame:
    """The result rows as columns: reference, outcome, reason_code, reason_text, amount_r, line,
    paid_on (the bank's day, null when its format has none)."""
    if hasattr(rows, "frame"):  # the bank reader keeps its rows as a polars frame
        frame = rows.frame().select(
            "reference",
            pl.col("status").alias("outcome"),
            "reason_code",
            "reason_text",
            pl.col("amount_fen").alias("amount_r"),
            "line",
            "paid_on",
        )
    else:
        frame = pl.DataFrame(
            {
                "reference": [r.reference for r in rows],
                "outcome": [r.status for r in rows],
                "reason_code": [r.reason_code for r in rows],
                "reason_text": [r.reason_text for r in rows],
                "amount_r": [r.amount_fen for r in rows],
                "line": [r.line for r in rows],
                "paid_on": [r.paid_on for r in rows],
            },
            schema={
                "reference": pl.String,
                "outcome": pl.String,
                "reason_code": pl.String,
                "reason_text": pl.String,
                "amount_r": pl.Int64,
                "line": pl.Int64,
                "paid_on": pl.Date,
            },
        )
    return frame.with_columns(
        pl.col("reason_code").fill_null(""), pl.col("reason_text").fill_null("")
    )


def _with_parts(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows with their reference's parts: scheme (code), person_key (the person's key, or
    the 公民身份号码 of a payment sent before keys), month (YYYY-MM) and sequence. A payment
    number is scheme-person-YYYYMM-sequence; the reader has checked the shape, so no part holds
    a hyphen. Split once, for the file's schemes and months and for its payments' keys."""
    parts = frame["reference"].str.split_exact("-", 3).struct.unnest()  # split once, not per part
    yyyymm = parts["field_2"]
    # a file has one or a few months: each written YYYY-MM once, then looked up
    months = {v: f"{v[:4]}-{v[4:6]}" for v in yyyymm.unique().to_list()}
    return frame.with_columns(
        parts["field_0"].alias("scheme"),
        parts["field_1"].alias("person_key"),
        yyyymm.replace_strict(months, return_dtype=pl.String).alias("month"),
        parts["field_3"].cast(pl.Int64).alias("sequence"),
    )


@dataclass
class _Checked:
    """A file's rows matched with the payments they answer, each distinct situation decided."""

    stored: pl.DataFrame  # the payments the file can answer, as read
    matched: pl.DataFrame  # the file's rows with their payment's columns and situation number
    decisions: list  # (situation, payment status, decision, rows, amount in 分)


def _apply_results(
    unit, entry, reader: _Reader, guess, paid_outcome, progress, *, alone: bool
) -> Outcome:
    """Match the rows with their payments (under the runs' locks), decide each row with
    `transitions.apply_result` — once per distinct (status, recorded reason, result) — and
    update the payments.

    The payments the file can answer (its months and schemes) are read in one go (COPY on
    PostgreSQL) and matched in polars on their key, so millions of rows are never joined in SQL.

    With a `guess` of the file's schemes and months (`_scope_guess`), the file is read by
    `reader` (a thread), and each row's reference turned into its payment's key, while this
    connection gives every payment of those schemes and months still awaiting the bank the
    rule's change for a paid result: the bulk of a result file, known before its rows. That
    UPDATE hands back the payments it changed (`_mark_paid`), so no second pass over the table
    reads them. The person keys the references carry are read first on this connection or,
    when the import is `alone` in its transaction, by the thread on a connection of its own
    (keys are only ever added). The rows are then matched with the payments the UPDATE
    changed, and the UPDATE stands when each of those payments is answered by exactly one row
    and every row answers one of them: the guess was the file's schemes and months, and the
    file answers just the payments awaiting the bank in the locked runs (whose payments
    awaiting the bank only an import under the same locks changes). The rows the bank returned
    are then changed again by id. Otherwise the UPDATE is rolled back to a savepoint and the
    rows are matched with every payment they can answer and written the usual way. A file the
    reader refuses, or a row naming a person the unit does not have, cancels the statement
    under way; an unreadable file is refused at once, the rest through the full check."""
    schemes = dict(Scheme.objects.filter(unit=unit).values_list("code", "pk"))
    # Lock the unit's approved runs (a few rows): result files of a unit are applied one at a
    # time, so a second file waits and then sees what the first changed.
    runs = list(
        Run.objects.select_for_update()
        .filter(unit=unit, step=core.APPROVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    paid_change = rules.apply_result(core.SENT, _rule_result(paid_outcome, "", "", paid_outcome))
    savepoint = marked = None
    if guess and {code for code, _month in guess} <= set(schemes):
        months = sorted({month for _code, month in guess})
        scheme_ids = sorted({schemes[code] for code, _month in guess})
        try:
            with reader.cancelling():
                if alone:  # read by the thread, on a connection of its own
                    keys = None
                else:
                    progress(30, "读取人员编号")
                    keys = people.keys_frame(unit)

                def locate(frame):
                    located = _located(
                        frame, people.keys_frame(unit) if keys is None else keys, schemes
                    )
                    # a row naming no person of the unit: the full check reports it
                    return None if located["person_id"].has_nulls() else located

                # before the thread starts, so that a cancel can only meet the UPDATE
                savepoint = transaction.savepoint()
                reader.check_with(guess, locate)
                reader.start()
                if not reader.failed.is_set():
                    progress(45, "整批更新付款（已到账），同时核对回盘")
                    marked = _mark_paid(
                        unit.pk, runs, scheme_ids, months, _values(paid_change, entry)
                    )
        except DatabaseError:
            if not reader.failed.is_set():
                raise
            marked = None
        progress(55, "等待核对完成")
    outcome = reader.finish()
    if outcome is not None:
        return outcome
    frame = reader.frame
    entry.rows = frame.height
    answered = reader.answered
    months = sorted({month for _code, month in answered})
    unknown_schemes = sorted({code for code, _month in answered} - set(schemes))
    if unknown_schemes:
        return refused(f"回盘中的补贴类别 {'、'.join(unknown_schemes)} 不是本单位的，回盘未导入。")
    checked = None
    if marked is not None and reader.located is not None:
        progress(58, "核对回盘与付款")
        checked = _check(entry, reader.located, marked, paid_outcome, partial=True)
        if isinstance(checked, Outcome):
            return checked
        if checked is not None and marked.height != frame.height:
            checked = None  # payments awaiting the bank the file does not answer
    paid_ahead = checked is not None
    if savepoint is not None:
        if paid_ahead:
            transaction.savepoint_commit(savepoint)
        else:
            transaction.savepoint_rollback(savepoint)
    if checked is None:  # no guess, not the file's schemes and months, or not only its rows
        progress(40, "读取并核对对应付款")
        located = reader.located
        if located is None:
            located = _located(frame, people.keys_frame(unit), schemes)
        scheme_ids = sorted({schemes[code] for code, _month in answered})
        stored = _payments_frame(unit, months, scheme_ids)
        checked = _check(entry, located, stored, paid_outcome)
        if isinstance(checked, Outcome):
            return checked
    progress(60, "更新付款状态")
    _update_payments(unit.pk, entry, checked, months, paid_ahead, progress)
    paid = returned = unchanged = paid_fen = returned_fen = 0
    for _number, _status, decision, count, amount in checked.decisions:
        if isinstance(decision, rules.Unchanged):
            unchanged += count
        elif decision.status == core.PAID:
            paid, paid_fen = paid + count, paid_fen + amount
        else:
            returned, returned_fen = returned + count, returned_fen + amount
    return _settled(entry, paid, returned, unchanged, paid_fen, returned_fen, months)


# A payment's key, and one 64-bit hash of it: rows and payments are joined on the hash (a third
# of the time of a join on the four columns), then the keys compared.
_KEY = ["scheme_id", "person_id", "month", "sequence"]
_KEY_HASH = pl.struct(_KEY).hash().alias("key_hash")


# A person key is P and nine digits (`core.PERSON_KEY`): rows and keys are joined on the
# number, less than half the time of a join on the texts. Null for an identity number.
_KEY_NUMBER = (
    pl.when(pl.col("person_key").str.starts_with("P"))
    .then(pl.col("person_key").str.slice(1).cast(pl.Int64, strict=False))
    .alias("key_number")
)


def _located(frame: pl.DataFrame, keys: pl.DataFrame, schemes: dict) -> pl.DataFrame:
    """The file's rows (`_with_parts`) with the key of the payment each reference names: scheme
    (its id from the scheme's code), person (by the person key the number carries, or the
    公民身份号码 of a payment sent before keys), month and sequence. The person is null for a
    key the unit does not have, the scheme for a code it does not have."""
    frame = frame.with_columns(
        pl.col("scheme")
        .replace_strict(schemes, default=None, return_dtype=pl.Int64)
        .alias("scheme_id"),
        _KEY_NUMBER,
    ).join(
        keys.select("person_id", _KEY_NUMBER), on="key_number", how="left", maintain_order="left"
    )
    if frame["reference"].str.contains(_LEGACY).any():  # an old number names the person itself
        legacy = pl.col("reference").str.contains(_LEGACY)
        person = pl.when(legacy).then(pl.col("person_key")).otherwise(pl.col("person_id"))
        frame = frame.with_columns(person.alias("person_id"))
    return frame.drop("scheme", "person_key", "key_number").with_columns(_KEY_HASH)


def _check(entry, frame: pl.DataFrame, stored: pl.DataFrame, paid_outcome, *, partial=False):
    """The file's rows (`_located`) matched with the `stored` payments on their key and
    decided, or the refusal listing the rows that match no payment, differ from it, repeat, or
    contradict an earlier result. With `partial` (`stored` are only some of the payments the
    rows can answer), None when a row matches none of them: only the full check can tell."""
    payments = stored.select(*_KEY, "id", "run_id", "status", "reason_code_p", "amount")
    matched = frame.join(
        payments.with_columns(_KEY_HASH), on="key_hash", how="left", suffix="_p"
    ).drop("key_hash")
    same = pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"{c}_p")) for c in _KEY)
    if (
        matched.height == frame.height
        and matched.select((pl.col("id").is_null() | same).all()).item()
    ):
        matched = matched.drop(f"{c}_p" for c in _KEY)
    else:  # two keys of one hash: joined on the columns themselves
        matched = frame.drop("key_hash").join(payments, on=_KEY, how="left")
    missing = matched.filter(pl.col("id").is_null())
    if partial and missing.height:
        return None
    problems: list[dict] = []
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
    # the references are compared only when ids repeat.
    duplicated = frame.clear()
    if matched["id"].is_duplicated().any() or missing.height:
        duplicated = frame.filter(pl.col("reference").is_duplicated())
    for row in duplicated.head(200).iter_rows(named=True):
        problems.append(_row_problem(entry, row, "同一笔付款在回盘中出现多次"))
    if problems:
        total = missing.height + differs.height + duplicated.height
        return Outcome(
            False,
            f"回盘“{entry.file_name}”有 {total} 行与付款对不上，回盘未导入，付款状态不变。",
            problems=problems,
        )
    # One decision per distinct situation: the rule is applied, not copied. The bank's day is
    # part of it (a file has one or a few), so each group of payments gets its own.
    situation = ["status", "reason_code_p", "outcome", "reason_code", "reason_text", "paid_on"]
    distinct = matched.select(situation).unique().with_row_index("situation")
    matched = matched.join(distinct.cast({"situation": pl.Int64}), on=situation, nulls_equal=True)
    situations = (
        matched.group_by("situation")
        .agg(pl.col(situation).first(), pl.len().alias("count"), pl.col("amount").sum())
        .sort("situation")
    )
    decisions = []
    conflicts = []
    for number, status, recorded, outcome, code, text, day, count, amount in situations.iter_rows():
        decision = rules.apply_result(
            status, _rule_result(outcome, code, text, paid_outcome, day), recorded or ""
        )
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
    return _Checked(stored, matched, decisions)


def _rule_result(
    outcome: str, code: str | None, text: str | None, paid_outcome, day=None
) -> rules.Result:
    return rules.Result(
        outcome=rules.RESULT_PAID if outcome == paid_outcome else rules.RESULT_RETURNED,
        reason_code=code or "",
        reason=text or "",
        day=day,
    )


def _values(decision: rules.Change, entry) -> dict:
    """The payment columns a decided change sets. 到账日期 is the bank's day or none: the day
    of the import is no stand-in (按时发放率 then says 无银行到账日期)."""
    return {
        "status": decision.status,
        "reason_code": decision.reason_code,
        "reason_text": (decision.reason or "")[:200],
        "paid_on": decision.day if decision.status == core.PAID else None,
        "result_import_id": entry.pk,
    }


def _mark_paid(unit_id: int, runs: list, scheme_ids: list, months: list, values: dict):
    """The bulk of a result file: one UPDATE of the payments of `runs`, `scheme_ids` and
    `months` awaiting the bank, which hands back what matching needs of each (its RETURNING
    rows, by COPY): the payments as they were, awaiting the bank, with no recorded reason
    (`apply_result` looks at one only for a payment the bank has already answered). A single
    run, scheme or month is not sent with every row (a quarter of the rows' output).

    The returned rows come joined into one text per block of ids, as `_payments_frame` reads
    them: COPY sends a message per row, and a million messages cost Python seconds."""
    constant = _constant_columns(run_id=runs, scheme_id=scheme_ids, month=months)
    names = [
        n
        for n in ("id", "run_id", "scheme_id", "person_id", "month", "sequence", "amount")
        if n not in constant
    ]
    sets = ", ".join(f"{name} = %s" for name in values)
    sql = (
        f"COPY (WITH changed AS (UPDATE {Payment._meta.db_table} SET {sets} WHERE unit_id = %s "
        "AND run_id = ANY(%s) AND scheme_id = ANY(%s) AND month = ANY(%s) AND status = %s "
        f"RETURNING {', '.join(names)}) "
        f"SELECT string_agg(concat_ws(',', {', '.join(names)}), chr(30)) FROM changed "
        "GROUP BY id / 16384) TO STDOUT"
    )
    params = [*values.values(), unit_id, runs, scheme_ids, months, core.SENT]
    buffer = io.BytesIO()
    # The RETURNING rows are held by the data-modifying WITH, then grouped: at the default
    # work_mem both went to temporary files, ~270 MB written and read back for 1,600,000
    # payments.
    with bulk_work_mem(), connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        for block in copy:
            buffer.write(block)
    schema = {n: _STORED[n] for n in names}
    if not buffer.tell():
        frame = pl.DataFrame(schema=schema)
    else:
        frame = pl.read_csv(
            buffer.getvalue().replace(b"\x1e", b"\n"),  # no column is NULL or holds a comma
            has_header=False,
            new_columns=names,
            schema=schema,
            quote_char=None,
        )
    return frame.with_columns(
        *(value.alias(name) for name, value in constant.items()),
        pl.lit(core.SENT).alias("status"),
        pl.lit("").alias("reason_code_p"),
    ).select(list(_STORED))


def _constant_columns(**values: list) -> dict:
    """The columns given a single value (one run, scheme or month), as literals of their
    `_STORED` type: a COPY need not send them with every row."""
    return {
        name: pl.lit(only[0], dtype=_STORED[name])
        for name, only in values.items()
        if len(only) == 1
    }


class _Reader(threading.Thread):
    """Reads a result file (`read`) and, in a thread of its own, locates its rows with what the
    importing thread hands over (`check_with`); `run` called directly only reads. A file that
    cannot be read or whose rows cannot be located cancels the statement the importing
    connection is running. The thread writes nothing; what it reads from the database it
    reads on a connection of its own, closed at the end."""

    def __init__(self, read, name: str) -> None:
        super().__init__(name="result-file", daemon=True)
        self._read = read
        self._name = name
        self._main = connection.connection  # the importing connection, to cancel
        self._handed: queue.Queue = queue.Queue(maxsize=1)
        self._released = False
        self._cancel_lock = threading.Lock()
        self._cancellable = False
        self.failed = threading.Event()
        self.unreadable: Outcome | None = None
        self.frame: pl.DataFrame | None = None
        self.answered: set[tuple[str, str]] = set()  # (scheme, YYYY-MM) of the rows
        self.located: pl.DataFrame | None = None  # the rows with their payment's key
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            result = self._read()
            if not result.ok:
                count = len(result.problems)
                self.unreadable = Outcome(
                    False,
                    f"“{self._name}”有 {count} 处无法识别，回盘未导入，付款状态不变。",
                    problems=[issue_dict(p) for p in result.problems],
                    data={"why": f"{count} 处无法识别"},
                )
                self._fail()
                return
            self.frame = _with_parts(_results_frame(result.rows))
            self.answered = set(self.frame.select("scheme", "month").unique().iter_rows())
            if threading.current_thread() is self:
                guess, check = self._handed.get()
                if check is not None and self.answered == guess:
                    self.located = check(self.frame)
                    if self.located is None:
                        self._fail()
        except BaseException as error:  # handed to the importing thread by `finish`
            self._error = error
            self._fail()
        finally:
            if threading.current_thread() is self:
                connection.close()  # the thread's own, if the check read from it

    def check_with(self, guess: set, check) -> None:
        """Locate the rows with `check` (None: they cannot all be located) if the file
        answers the schemes and months `guess`."""
        self._released = True
        self._handed.put((guess, check))

    @contextlib.contextmanager
    def cancelling(self):
        """While inside, a refusal cancels the importing connection's statement; outside, the
        connection is left alone (a cancel then could hit an unrelated statement)."""
        with self._cancel_lock:
            self._cancellable = True
        try:
            yield
        finally:
            with self._cancel_lock:
                self._cancellable = False

    def stop(self) -> None:
        """Let the thread end (no check to come) and wait for it."""
        if self.ident is not None:
            if not self._released:
                self.check_with(set(), None)
            self.join()

    def finish(self) -> Outcome | None:
        """Wait for the reading (and the check, if handed over), or read the file now if no
        thread was started; the file's refusal, if it cannot be read."""
        if self.ident is None and self.frame is None and self.unreadable is None:
            self.run()
        self.stop()
        if self._error is not None:
            raise self._error
        return self.unreadable

    def _fail(self) -> None:
        self.failed.set()
        with self._cancel_lock:
            if self._cancellable:
                self._main.cancel_safe()


def _scope_guess(path: Path) -> set[tuple[str, str]]:
    """(scheme, YYYY-MM) of the payment references at the start and end of a text result file,
    found by their shape alone (ASCII in any of the banks' encodings); empty for a file that
    shows none (xlsx). Only a guess, checked against the file's rows once they are read."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
        handle.seek(max(size - (1 << 20), len(head)))
        tail = handle.read()
    found = _REFERENCE_SCOPE.findall(head) + _REFERENCE_SCOPE.findall(tail)
    # tens of thousands of matches, a few distinct: each decoded once
    return {
        (code.decode(), f"{month[:4].decode()}-{month[4:].decode()}") for code, month in set(found)
    }


_REFERENCE_SCOPE = re.compile(
    rb"(?<![A-Za-z0-9_])([A-Za-z0-9_]{1,6})-(?:P\d{9}|\d{17}[\dX])-(\d{6})-[1-9]"
)
_LEGACY = r"^[^-]+-\d{17}[\dX]-"


def _update_payments(unit_id, entry, checked: _Checked, months, paid_ahead, progress):
    """Write each decided change. After `paid_ahead` (every payment the file answers that was
    awaiting the bank is already marked paid) only the other changes remain, written by id.
    Otherwise the returned rows are updated by id, and a bank file (run, scheme) whose payments
    awaiting the bank are all answered by this file takes its largest change (the paid rows) as
    one plain UPDATE of what still awaits the bank, after its other rows were updated by id."""
    stored, matched = checked.stored, checked.matched
    whole = set()
    if not paid_ahead:
        sent = pl.col("status") == core.SENT
        waiting = stored.filter(sent).group_by("run_id", "scheme_id").len()
        answered = matched.filter(sent).group_by("run_id", "scheme_id").len()
        whole = {
            (r, s)
            for r, s, n, m in waiting.join(answered, on=["run_id", "scheme_id"]).iter_rows()
            if n == m
        }
    keyed, bulk = [], []  # (ids or (run, scheme), values, status of the payments, count)
    changes = {
        number: decision
        for number, status, decision, _count, _amount in checked.decisions
        if isinstance(decision, rules.Change)
        # marked paid ahead, without a day: done; with the bank's day, written by id below
        and not (
            paid_ahead
            and status == core.SENT
            and decision.status == core.PAID
            and decision.day is None
        )
    }
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
            values = _values(changes[number], entry)
            group = (run_id, scheme_id)
            if paid_ahead and status == core.SENT:  # returned by the bank: marked paid just now
                keyed.append((ids, values, core.PAID, count))
            elif status == core.SENT and group in whole and group not in largest:
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
        _update_bank_file(unit_id, run_id, scheme_id, months, values, count)


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


def _settled(entry, paid, returned, unchanged, paid_fen, returned_fen, months) -> Outcome:
    """Record the import's counts; the outcome both paths return."""
    entry.paid, entry.returned, entry.unchanged = paid, returned, unchanged
    entry.report = {"paid_fen": paid_fen, "returned_fen": returned_fen}
    entry.save(update_fields=["rows", "paid", "returned", "unchanged", "report"])
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
    return {
        "severity": "错误",
        "file": entry.file_name,
        "sheet": None,
        "row": row.get("line"),
        "column": "付款编号",
        "value": row["reference"],
        "message": message,
        "accepted": None,
    }


# What matching and deciding need of each payment a result can answer.
_STORED = {
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


def _payments_frame(unit: Unit, months: list[str], scheme_ids: list[int]) -> pl.DataFrame:
    """The unit's payments of `months` and `scheme_ids` a result can answer (not withdrawn),
    with what matching and deciding need (`_STORED`); COPY on PostgreSQL."""
    columns = [c if c != "reason_code_p" else "reason_code" for c in _STORED]
    if not months or not scheme_ids:
        return pl.DataFrame(schema=_STORED)
    if connection.vendor == "postgresql":
        month_list = ", ".join(f"'{core.Month.parse(m)}'" for m in months)
        # A single scheme or month is not sent with every row. The rows come joined into one
        # text per block of ids (separated by chr(30), which text COPY leaves alone): a few
        # hundred messages instead of one per payment, so reading them costs Python almost
        # nothing. No column is NULL or holds a comma.
        constant = _constant_columns(scheme_id=scheme_ids, month=months)
        sent = [c for c, name in zip(columns, _STORED, strict=True) if name not in constant]
        sql = (
            f"COPY (SELECT string_agg(concat_ws(',', {', '.join(sent)}), chr(30)) "
            f"FROM {Payment._meta.db_table} "
            f"WHERE unit_id = {int(unit.pk)} AND month IN ({month_list}) "
            f"AND scheme_id IN ({', '.join(str(int(i)) for i in scheme_ids)}) "
            f"AND status <> '{core.WITHDRAWN}' GROUP BY id / 16384) TO STDOUT"
        )
        with bulk_work_mem():
            data = copy_out(sql).replace(b"\x1e", b"\n")
        if not data:
            return pl.DataFrame(schema=_STORED)
        names = [n for n in _STORED if n not in constant]
        frame = pl.read_csv(
            data,
            has_header=False,
            new_columns=names,
            schema={n: _STORED[n] for n in names},
            quote_char=None,
        )
        return frame.with_columns(
            *(value.alias(name) for name, value in constant.items()),
            pl.col("reason_code_p").fill_null(""),
        ).select(list(_STORED))
    rows = (
        Payment.objects.filter(unit=unit, month__in=months, scheme_id__in=scheme_ids)
        .exclude(status=core.WITHDRAWN)
        .values_list(*columns)
    )
    return pl.DataFrame(list(rows), schema=_STORED, orient="row")


def _update_ids(ids: list[int], values: dict, *, expect_status: str) -> int:
    """Set `values` on the payments `ids` still in `expect_status`; the number updated."""
    if connection.vendor == "postgresql":
        # The ids as one array: a million ids in a few statements. `id = ANY(array)` leaves
        # the planner no join to get wrong: it probes the primary key once per id, or scans
        # with the array hashed. (A join with unnest(array) was planned as a nested loop
        # scanning every payment once per id whenever the statistics held no payment in
        # `expect_status`, as just after a bulk change: minutes for 20,000 ids.)
        columns = ", ".join(f"{name} = %s" for name in values)
        sql = (
            f"UPDATE {Payment._meta.db_table} SET {columns} "
            "WHERE id = ANY(%s::bigint[]) AND status = %s"
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

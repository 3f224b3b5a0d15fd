"""Checking the rows of a result file, all formats alike, column-wise with polars.

Each reader turns its file into string columns (reference, amount, status, reason_code, reason,
bank_serial) plus the line number of each row; `check_rows` accepts them or says, per line and
column, what is wrong. Rows stay in a polars frame and become ResultRow values only when asked
for, so a 2,000,000-row file is read in a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import overload

import polars as pl

from juesuan.disbursement.banks.adapter import Column, Layout
from juesuan.disbursement.banks.fields import (
    AMOUNT_HINT,
    FEN_RE,
    REFERENCE,
    REFERENCE_HINT,
    YUAN_RE,
)
from juesuan.disbursement.banks.reasons import NARRATIVE, REASONS
from juesuan.disbursement.banks.values import PAID, RETURNED, Problem, ResultRow

MAX_PROBLEMS = 200  # a broken file lists at most this many of each kind of problem
COLUMNS = (
    "reference", "status", "reason_code", "reason_text", "amount_fen", "bank_serial", "line",
    "paid_on",
)  # fmt: skip
# pain.002's AccptncDtTm is an ISO date-time; its reader keeps the date part.
ISO_DATE = "%Y-%m-%d"


class ResultRows(Sequence[ResultRow]):
    """The accepted rows, kept as columns; ResultRow values are made on access."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame.select(COLUMNS)

    def __len__(self) -> int:
        return self._frame.height

    @overload
    def __getitem__(self, index: int) -> ResultRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[ResultRow]: ...
    def __getitem__(self, index):
        if isinstance(index, slice):
            return [ResultRow._make(r) for r in self._frame[index].iter_rows()]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return ResultRow._make(self._frame.row(index))

    def __iter__(self) -> Iterator[ResultRow]:
        make = ResultRow._make
        for chunk in self._frame.iter_slices(100_000):
            yield from map(make, chunk.iter_rows())

    def with_status(self, status: str) -> tuple[ResultRow, ...]:
        frame = self._frame.filter(pl.col("status") == status)
        return tuple(map(ResultRow._make, frame.iter_rows()))

    def sum_fen(self, status: str) -> int:
        return int(self._frame.filter(pl.col("status") == status)["amount_fen"].sum() or 0)

    def frame(self) -> pl.DataFrame:
        """The rows as a polars frame (columns as ResultRow's fields)."""
        return self._frame


# Columns a result file cannot do without when it has a title row.
_NEEDED = ("reference", "amount", "status", "reason", "reason_code")


def title_positions(layout: Layout, titles: list[str]) -> tuple[dict[str, int], list[Column]]:
    """Where each of the layout's columns stands in a row of `titles`, and the needed columns
    whose title is not there."""
    positions: dict[str, int] = {}
    missing: list[Column] = []
    for column in layout.columns:
        if column.title in titles:
            positions[column.field] = titles.index(column.title)
        elif column.field in _NEEDED:
            missing.append(column)
    return positions, missing


def totals_problem(
    frame: pl.DataFrame, count: int | None, total: int | None, file: str, line: int, sheet=""
) -> Problem | None:
    """A problem when the totals line (笔数 `count`, 金额 `total` 分) disagrees with the rows:
    how a truncated or edited file is caught."""
    rows_total = int(frame["amount_fen"].sum() or 0)
    if count == frame.height and total == rows_total:
        return None
    return Problem(
        file,
        f"合计行写 {count} 笔、{total} 分，明细为 {frame.height} 笔、{rows_total} 分；"
        "文件可能不完整或被改动",
        line=line,
        sheet=sheet,
    )


def _problems(
    frame: pl.DataFrame, mask: pl.Expr, file: str, column: str, value: str, message, sheet: str
) -> list[Problem]:
    bad = frame.filter(mask).head(MAX_PROBLEMS)
    return [
        Problem(
            file,
            message(row[value] or ""),
            line=row["line"],
            column=column,
            snippet=(row[value] or "")[:60],
            sheet=sheet,
        )
        for row in bad.iter_rows(named=True)
    ]


def _duplicated(frame: pl.DataFrame) -> pl.Expr:
    """References that appear more than once; compared as strings only when their 64-bit
    hashes repeat (a few hundred milliseconds saved on 2,000,000 rows)."""
    if frame.select(pl.col("reference").hash().is_duplicated().any()).item():
        return pl.col("reference").is_duplicated()
    return pl.repeat(False, pl.len())


def check_rows(
    frame: pl.DataFrame, layout: Layout, file: str
) -> tuple[pl.DataFrame | None, list[Problem]]:
    """`frame` has string columns named by field plus `line`; returns the accepted frame."""
    titles = {c.field: c.title for c in layout.columns}
    sheet = layout.sheet if layout.format == "xlsx" else ""
    texts = ("reference", "amount", "status", "reason_code", "reason", "bank_serial", "paid_on")
    for name in texts:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    # Strip, then compute every check in one pass; details only for files that fail one.
    frame = frame.with_columns(pl.col(c).str.strip_chars() for c in texts)
    if layout.format == "pain.002":
        status_map = {"ACSC": PAID, "ACCP": PAID, "RJCT": RETURNED}
    else:
        status_map = {v: PAID for v in layout.paid} | {v: RETURNED for v in layout.returned}
    accepted = "、".join(status_map)
    amount_re = YUAN_RE if layout.amount == "yuan" else FEN_RE
    code = pl.col("reason_code")
    paid_date = layout.paid_date
    date_format = ISO_DATE if layout.format == "pain.002" else paid_date and paid_date.date_format
    day = pl.col("paid_on").replace("", None)
    frame = frame.with_columns(
        (
            day.str.strptime(pl.Date, date_format, strict=False)
            if date_format
            else pl.lit(None, dtype=pl.Date)
        ).alias("_paid_on"),
    )
    frame = frame.with_columns(
        pl.col("reference").fill_null("").str.contains(f"^{REFERENCE}$").alias("_ref_ok"),
        pl.col("amount").fill_null("").str.contains(f"^{amount_re}$").alias("_amount_ok"),
        pl.col("status")
        .replace_strict(status_map, default=None, return_dtype=pl.String)
        .alias("status_norm"),
        (code.is_null() | (code == "") | code.str.contains(r"^[A-Z0-9]{4}$")).alias("_code_ok"),
        _duplicated(frame).alias("_duplicated"),
        (day.is_null() | pl.col("_paid_on").is_not_null()).alias("_day_ok"),
    )
    checks = [
        (~pl.col("_ref_ok"), "reference", lambda v: f"业务编号“{v}”无法识别；{REFERENCE_HINT}"),
        (
            ~pl.col("_amount_ok"),
            "amount",
            lambda v: f"金额“{v}”不合格式；应为{AMOUNT_HINT[layout.amount]}",
        ),
        (
            pl.col("status_norm").is_null(),
            "status",
            lambda v: f"处理结果“{v}”无法识别；可接受：{accepted}",
        ),
        (
            ~pl.col("_code_ok"),
            "reason_code",
            lambda v: f"原因代码“{v}”不合格式；应为 ISO 20022 四位代码，如 AC01",
        ),
        (
            ~pl.col("_day_ok"),
            "paid_on",
            lambda v: f"到账日期“{v}”不是日期；应写成 {_example_day(date_format)} 这样",
        ),
        (
            pl.col("_ref_ok") & pl.col("_duplicated"),
            "reference",
            lambda v: f"业务编号“{v}”在文件中出现不止一次；每笔付款只应有一个结果",
        ),
    ]
    failing = frame.select(mask.any().alias(str(i)) for i, (mask, _, _) in enumerate(checks)).row(0)
    problems: list[Problem] = []
    for failed, (mask, name, message) in zip(failing, checks, strict=True):
        if failed:
            problems += _problems(frame, mask, file, titles.get(name, name), name, message, sheet)
    if problems:
        return None, sorted(problems, key=lambda p: (p.line or 0, p.column))
    # reason: the code column if given, else the bank's wording mapped by the adapter, else NARR
    text = pl.col("reason").fill_null("")
    mapped = text.replace_strict(layout.reasons, default=None, return_dtype=pl.String)
    known_text = {code: r.text for code, r in REASONS.items()}
    returned = pl.col("status_norm") == RETURNED
    code = (
        pl.when(pl.col("reason_code").fill_null("") != "")
        .then(pl.col("reason_code"))
        .when(mapped.is_not_null())
        .then(mapped)
        .when(text.is_in(list(REASONS)))
        .then(text)
        .otherwise(pl.lit(NARRATIVE))
    )
    frame = frame.with_columns(
        pl.when(returned).then(code).otherwise(pl.lit("")).alias("reason_code"),
    )
    reason_text = (
        pl.when(~returned)
        .then(pl.lit(""))
        .when((text != "") & ~text.is_in(list(REASONS)))
        .then(text)
        .otherwise(
            pl.col("reason_code").replace_strict(
                known_text, default="未知退回原因", return_dtype=pl.String
            )
        )
    )
    frame = frame.with_columns(
        pl.col("status_norm").alias("status"),
        reason_text.alias("reason_text"),
        pl.col("amount").str.replace(".", "", literal=True).cast(pl.Int64).alias("amount_fen"),
        pl.col("bank_serial").fill_null(""),
        pl.col("_paid_on").alias("paid_on"),
    )
    return frame.select(COLUMNS), []


def _example_day(date_format: str | None) -> str:
    return date(2020, 3, 20).strftime(date_format or ISO_DATE)

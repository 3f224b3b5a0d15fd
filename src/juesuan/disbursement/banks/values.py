"""The values bank adapters take and give back. Money is integer 分 (fen)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

from juesuan.disbursement.model import Month, Reference

PAID, RETURNED = "paid", "returned"  # the two outcomes a bank reports for a payment


@dataclass(frozen=True)
class BatchHeader:
    """Who pays, which batch, when: everything a batch file says besides its rows."""

    payer_name: str  # 付款单位名称
    payer_account: str  # 付款账号
    payer_bank: str  # 付款开户行
    payer_code: str  # 单位代码 used in file names (ASCII)
    batch_id: str  # 批次号, ≤ 35 ASCII characters (pain.001 MsgId / PmtInfId)
    scheme: str  # Scheme.code
    month: Month
    execution_date: date  # 发放日期 / ReqdExctnDt
    created: datetime | None = None  # file creation time (pain.001 CreDtTm); now when None


class BatchItem(NamedTuple):
    """One row of a batch file. Plain tuples in this order are accepted too."""

    reference: str  # PaymentKey.reference: the person by key, never by identity number
    name: str  # 姓名
    account: str  # 收款账号
    account_name: str  # 账户名
    bank: str  # 开户行
    amount_fen: int
    purpose: str  # 用途 / 摘要
    person_id: str = ""  # 公民身份号码, for a format with a 身份证号 column (written masked)


@dataclass(frozen=True)
class Problem:
    """Something in a file that could not be accepted, with where it is and what would be."""

    file: str
    message: str  # Chinese, says what is accepted
    line: int | None = None  # 1-based line (text/XML) or row (xlsx)
    column: str = ""  # column title or key path
    snippet: str = ""
    sheet: str = ""

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f"工作表“{self.sheet}”")
        if self.line is not None:
            where.append(f"第{self.line}行")
        if self.column:
            where.append(f"“{self.column}”")
        text = "，".join(where) + "：" + self.message
        if self.snippet:
            text += f"（原文：{self.snippet}）"
        return text


@dataclass(frozen=True)
class BatchFile:
    """What `write_batch` wrote. With problems nothing was written (`path` is None)."""

    path: Path | None
    file_name: str
    count: int
    total_fen: int
    sha256: str
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


class Outcome(NamedTuple):
    """What the bank did with one payment; input of the simulator `write_results`."""

    reference: str
    amount_fen: int
    status: str  # PAID or RETURNED
    reason_code: str = ""  # ISO code (AC01 …) when returned
    reason_text: str = ""  # the bank's wording; the adapter's wording for the code when empty
    bank_serial: str = ""
    name: str = ""
    account: str = ""
    person_id: str = ""
    paid_on: date | None = None  # 到账日期, written when the result format has the column


class ResultRow(NamedTuple):
    """One payment's result as read from the bank's file."""

    reference: str  # the payment number as the bank sent it back (its shape checked on reading)
    status: str  # PAID or RETURNED
    reason_code: str  # ISO code (AC01 …); "" when paid, "NARR" when only text was given
    reason_text: str  # Chinese text (the bank's own words when it gave any)
    amount_fen: int
    bank_serial: str  # the bank's own serial (流水号), "" if none
    line: int  # line (text/XML) or row (xlsx) in the file
    paid_on: date | None = None  # the day the bank paid, when its format says (到账日期)

    @property
    def parsed(self) -> Reference:
        """The payment number's parts (parsed on use: a 2,000,000-row file is read without
        building 2,000,000 of them up front)."""
        return Reference.parse(self.reference)


@dataclass(frozen=True)
class ResultFile:
    """A read result (return) file. A file with problems yields no rows."""

    path: Path
    rows: Sequence[ResultRow] = ()  # a lazy sequence for large files; iterate or index it
    problems: tuple[Problem, ...] = ()
    batch_id: str = ""  # the batch the file answers, when the file says (pain.002 OrgnlMsgId)
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def returned(self) -> tuple[ResultRow, ...]:
        """The returned rows only (fast on large files)."""
        rows = self.rows
        if hasattr(rows, "with_status"):
            return rows.with_status(RETURNED)
        return tuple(r for r in rows if r.status == RETURNED)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def paid_fen(self) -> int:
        return self._sum(PAID)

    @property
    def returned_fen(self) -> int:
        return self._sum(RETURNED)

    def _sum(self, status: str) -> int:
        rows = self.rows
        if hasattr(rows, "sum_fen"):
            return rows.sum_fen(status)
        return sum(r.amount_fen for r in rows if r.status == status)


@dataclass(frozen=True)
class Reason:
    """A return reason: ISO 20022 code, Chinese text, and the ISO meaning."""

    code: str
    text: str
    iso: str = ""


class AdapterError(Exception):
    """An adapter file that cannot be used; each problem names the file and the key path."""

    def __init__(self, problems: tuple[Problem, ...] | list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

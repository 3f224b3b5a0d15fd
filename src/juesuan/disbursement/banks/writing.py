"""Shared by every writer: rows as field values, the two-pass assembly, atomic replace, hash.

Totals go before the rows in many bank formats (and pain.001's GrpHdr holds NbOfTxs and CtrlSum),
but `items` can be a generator of millions: the rows are streamed to a temporary body file while
count and total are summed, then prefix + body + suffix are copied into the target's temporary
file, which `juesuan.files.replaced` renames into place.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from juesuan.disbursement.banks.adapter import Cell, Layout, header_values
from juesuan.disbursement.banks.fields import (
    BATCH_REFERENCE_RE,
    FORMULA_ACCEPTED,
    FORMULA_REFUSED,
    REFERENCE_HINT,
    CellError,
    format_amount,
    formula_cell,
    formula_like,
    mask_person_id,
)
from juesuan.disbursement.banks.reasons import NARRATIVE, REASONS
from juesuan.disbursement.banks.results import ISO_DATE, MAX_PROBLEMS
from juesuan.disbursement.banks.values import (
    PAID,
    RETURNED,
    BatchFile,
    BatchHeader,
    BatchItem,
    Outcome,
    Problem,
)
from juesuan.files import replaced


class Collector:
    """Problems met while writing; after MAX_PROBLEMS only the count goes on."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.more = 0

    def add(self, message: str, column: str = "", snippet: str = "") -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(self.file, message, column=column, snippet=snippet[:60]))
        else:
            self.more += 1

    def result(self) -> tuple[Problem, ...]:
        if self.more:
            return (*self.problems, Problem(self.file, f"另有 {self.more} 处问题未逐一列出"))
        return tuple(self.problems)


class Abandoned(Exception):
    """Raised inside `juesuan.files.replaced` to drop a written file that has problems: the
    temporary file is removed and the target keeps what it had."""


def row_label(values: dict[str, str]) -> str:
    """How a problem names a row: 第3笔（张三，QYJS-…-1）."""
    return f"第{values['sequence']}笔（{values['name']}，{values['reference']}）"


# The free-text fields of a batch row, in the order `batch_records` checks them.
_TEXT_FIELDS = (
    ("name", "姓名"),
    ("account", "收款账号"),
    ("account_name", "户名"),
    ("bank", "开户行"),
    ("purpose", "用途"),
)


def header_problems(header: BatchHeader, problems: Collector) -> None:
    """The payer's details go into the file's header lines: the same formula rule as rows."""
    for title, text in (
        ("付款单位", header.payer_name),
        ("付款账号", header.payer_account),
        ("付款开户行", header.payer_bank),
    ):
        if formula_like(text):
            problems.add(
                f"{title}“{text}”{FORMULA_REFUSED}，不能写入银行文件；"
                f"请改正（应为{FORMULA_ACCEPTED}）",
                title,
                text,
            )


def batch_records(
    layout: Layout, items: Iterable[BatchItem | tuple], problems: Collector
) -> Iterator[tuple[dict[str, str], int]]:
    """Each item as {field: text} and its amount in 分; bad items become problems instead."""
    for seq, item in enumerate(items, 1):
        try:
            reference, name, account, account_name, bank, amount_fen, purpose, *person = item
            if len(person) > 1:
                raise ValueError
        except (TypeError, ValueError):
            problems.add(
                f"第{seq}笔：应为 7 或 8 项（付款编号、姓名、账号、户名、开户行、金额分、用途，"
                "公民身份号码）",
                snippet=repr(item),
            )
            continue
        who = f"第{seq}笔（{name}，{reference}）"
        if not isinstance(reference, str) or not BATCH_REFERENCE_RE.fullmatch(reference):
            problems.add(f"{who}：{REFERENCE_HINT}", "reference", str(reference))
            continue
        if not str(account).strip():
            problems.add(f"{who}：收款账号为空", "account")
            continue
        try:
            amount = format_amount(amount_fen, layout.amount)
        except CellError as exc:
            problems.add(f"{who}：{exc}", "amount", repr(amount_fen))
            continue
        if amount_fen == 0:
            problems.add(f"{who}：金额为 0，不应送银行", "amount", "0")
            continue
        texts = (str(name), str(account), str(account_name), str(bank), str(purpose))
        position = formula_cell(texts)
        if position is not None:
            field, title = _TEXT_FIELDS[position]
            problems.add(
                f"{who}：{title}“{texts[position]}”{FORMULA_REFUSED}，不能写入银行文件；"
                f"请改正（应为{FORMULA_ACCEPTED}）",
                field,
                texts[position],
            )
            continue
        person = str(person[0]) if person else ""
        values = {
            "sequence": str(seq),
            "reference": reference,
            "name": str(name),
            "account": str(account),
            "account_name": str(account_name),
            "bank": str(bank),
            "amount": amount,
            "purpose": str(purpose),
            "person_id": person,
            "person_id_masked": mask_person_id(person),
        }
        yield values, amount_fen


def result_records(
    layout: Layout, outcomes: Iterable[Outcome | tuple], problems: Collector
) -> Iterator[tuple[dict[str, str], int]]:
    """Each simulated outcome as {field: text} in the result file's wording."""
    wording = {}
    for text, code in layout.reasons.items():
        wording.setdefault(code, text)
    paid_date = layout.paid_date
    date_format = ISO_DATE if layout.format == "pain.002" else paid_date and paid_date.date_format
    for seq, raw in enumerate(outcomes, 1):
        outcome = Outcome(*raw)
        who = f"第{seq}笔（{outcome.reference}）"
        if outcome.status not in (PAID, RETURNED):
            problems.add(f"{who}：状态应为 paid 或 returned", "status", outcome.status)
            continue
        try:
            amount = format_amount(outcome.amount_fen, layout.amount)
        except CellError as exc:
            problems.add(f"{who}：{exc}", "amount", repr(outcome.amount_fen))
            continue
        returned = outcome.status == RETURNED
        code = outcome.reason_code if returned else ""
        if returned and not code:
            code = layout.reasons.get(outcome.reason_text, NARRATIVE)
        text = ""
        if returned:
            text = (
                outcome.reason_text
                or wording.get(code)
                or (REASONS[code].text if code in REASONS else code)
            )
        status = (layout.returned or ("RJCT",))[0] if returned else (layout.paid or ("ACSC",))[0]
        yield (
            {
                "sequence": str(seq),
                "reference": outcome.reference,
                "name": outcome.name,
                "account": outcome.account,
                "account_name": outcome.name,
                "bank": "",
                "amount": amount,
                "purpose": "",
                "person_id": outcome.person_id,
                "person_id_masked": mask_person_id(outcome.person_id),
                "status": status,
                "reason_code": code,
                "reason": text,
                "bank_serial": outcome.bank_serial,
                "paid_on": (
                    outcome.paid_on.strftime(date_format) if outcome.paid_on and date_format else ""
                ),
            },
            outcome.amount_fen,
        )


def row_getter(columns) -> Callable[[dict[str, str]], tuple[str, ...]]:
    """The cells of a row in column order, in one C call per row (it matters at 2,000,000)."""
    keys = [c.field + "_masked" if c.masked else c.field for c in columns]
    if len(keys) == 1:
        return lambda values: (values.get(keys[0], ""),)
    return itemgetter(*keys)


def fill(cell: Cell, context: dict[str, str]) -> str:
    return cell.value.format_map(context)


def template_context(header: BatchHeader, layout: Layout, count: int, total: int) -> dict[str, str]:
    return header_values(header) | {
        "count": str(count),
        "total": format_amount(total, layout.amount),
    }


@contextmanager
def body_file(out_path: Path) -> Iterator[BinaryIO]:
    """A scratch file beside the target for the streamed rows, sealed (`SealedFile`): names
    and account numbers never lie on disk in the clear, even when a crash leaves it. Removed
    afterwards."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out_path.stem}.", suffix=".body", dir=out_path.parent)
    try:
        with os.fdopen(fd, "w+b") as handle, io.BufferedRandom(SealedFile(handle), 1 << 20) as body:
            yield body
    finally:
        Path(name).unlink(missing_ok=True)


class SealedFile(io.RawIOBase):
    """A scratch file encrypted with AES-CTR under a key that only this process holds: what is
    on disk is noise to anyone else, and to everyone once the process ends. Written once from
    the start, then read (from any position)."""

    def __init__(self, handle: BinaryIO) -> None:
        self._file = handle
        self._key, self._nonce = os.urandom(32), int.from_bytes(os.urandom(16))
        self._encrypt = self._cipher(0).encryptor()
        self._written = 0
        self._decrypt = self._cipher(0).decryptor()

    def _cipher(self, offset: int) -> Cipher:
        counter = (self._nonce + offset // 16) % (1 << 128)  # CTR counts 16-byte blocks
        return Cipher(algorithms.AES(self._key), modes.CTR(counter.to_bytes(16)))

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self._file.tell() != self._written:
            raise io.UnsupportedOperation("a sealed scratch file is written once, in order")
        self._file.write(self._encrypt.update(bytes(data)))
        self._written += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = self._file.seek(offset, whence)
        self._decrypt = self._cipher(position).decryptor()
        self._decrypt.update(bytes(position % 16))
        return position

    def tell(self) -> int:
        return self._file.tell()

    def readinto(self, buffer) -> int:
        plain = self._decrypt.update(self._file.read(len(buffer)))
        buffer[: len(plain)] = plain
        return len(plain)

    def flush(self) -> None:
        self._file.flush()


def assemble(
    out_path: Path,
    prefix: bytes,
    body: BinaryIO,
    suffix: bytes,
    check: Callable[[Path], None] | None = None,
) -> str:
    """prefix + body + suffix into `out_path`, atomically; returns the SHA-256 (hex).

    `check` sees the complete temporary file before it replaces `out_path`; if it raises,
    `out_path` keeps what it had.
    """
    body.flush()
    body.seek(0)
    chunks = iter(lambda: body.read(1 << 20), b"")
    return write_hashed(out_path, itertools.chain((prefix,), chunks, (suffix,)), check)


def write_hashed(
    out_path: Path, chunks: Iterable[bytes], check: Callable[[Path], None] | None = None
) -> str:
    """`chunks` one after another into `out_path`, atomically (`files.replaced`), hashed as
    they are written; returns the SHA-256 (hex). `check` as for `assemble`."""
    digest = hashlib.sha256()
    with replaced(out_path) as temporary:
        with open(temporary, "wb") as target:
            for chunk in chunks:
                target.write(chunk)
                digest.update(chunk)
        if check is not None:
            check(temporary)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def finish(
    out_path: Path,
    problems: Collector,
    count: int,
    total: int,
    write: Callable[[], str],
) -> BatchFile:
    """Write only when there were no problems; otherwise report them and leave the target."""
    if problems.problems:
        return BatchFile(None, out_path.name, count, total, "", problems.result())
    sha = write()
    return BatchFile(out_path, out_path.name, count, total, sha)

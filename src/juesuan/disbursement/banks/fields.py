"""Cell values: amounts from integer 分 without float, masked ID numbers, byte-width padding."""

from __future__ import annotations

import re
from collections.abc import Sequence

from juesuan.disbursement.model import PERSON_KEY

# A payment number (PaymentKey.reference): scheme (≤ 6 ASCII letters/digits/_), the person's
# key (P and nine digits), month YYYYMM, sequence. Batch files carry only this form; a result may
# still answer a payment sent before person keys with the 18-character 公民身份号码 in its place.
REFERENCE_PARTS = r"[A-Za-z0-9_]{1,6}-(?:{person})-\d{4}(0[1-9]|1[0-2])-[1-9]\d{0,2}"
BATCH_REFERENCE = REFERENCE_PARTS.replace("{person}", PERSON_KEY)
REFERENCE = REFERENCE_PARTS.replace("{person}", PERSON_KEY + r"|\d{17}[\dX]")
BATCH_REFERENCE_RE = re.compile(BATCH_REFERENCE)
REFERENCE_RE = re.compile(REFERENCE)
REFERENCE_HINT = "业务编号应为“类别代码-人员编号-年月-序号”，如 QYJS-P000000123-202003-1"


# A cell starting with one of these is taken as a formula by Excel and WPS (=, +, -, @) or can
# hide one (a tab or carriage return first): a roster value such as `=HYPERLINK(…)` would run
# in the hands of whoever opens the bank file. Names, accounts and banks never start so.
FORMULA_START = "=+-@\t\r"
FORMULA_ACCEPTED = (
    "不以 = + - @、制表符或回车开头的文字（姓名、账户名、开户银行都不会以这些符号开头）"
)
FORMULA_REFUSED = "以 = + - @、制表符或回车开头，表格软件打开时会当作公式执行"
_FORMULA_CELL = re.compile("(?:^|\x00)[" + re.escape(FORMULA_START) + "]")


def formula_like(text: str) -> bool:
    """True when a spreadsheet would read `text` as (or as hiding) a formula."""
    return bool(text) and text[0] in FORMULA_START


def formula_cell(values: Sequence[str]) -> int | None:
    """The position of the first value a spreadsheet would read as a formula, or None. One
    search over the joined row (batch files have millions of rows); the loop only on a find."""
    if _FORMULA_CELL.search("\x00".join(values)) is None:
        return None
    return next(i for i, value in enumerate(values) if formula_like(value))


class CellError(ValueError):
    """A value that does not fit its cell; the message is Chinese and says what would."""


def format_amount(fen: int, fmt: str) -> str:
    """1100.00 (yuan) or 110000 (fen) from integer 分."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise CellError(f"金额应为整数分，收到 {fen!r}")
    if fen < 0:
        raise CellError(f"金额不能为负数：{fen} 分")
    if fmt == "fen":
        return str(fen)
    return f"{fen // 100}.{fen % 100:02d}"


YUAN_RE = r"\d{1,15}\.\d{2}"
FEN_RE = r"\d{1,17}"
AMOUNT_HINT = {
    "yuan": "以元为单位、两位小数的金额，如 1100.00",
    "fen": "以分为单位的整数，如 110000",
}


def parse_amount(text: str, fmt: str) -> int:
    """Integer 分 from a cell written as `format_amount` writes; CellError otherwise."""
    raw = text.strip()
    if re.fullmatch(YUAN_RE if fmt == "yuan" else FEN_RE, raw) is None:
        raise CellError(f"金额“{raw}”不合格式；应为{AMOUNT_HINT[fmt]}")
    return int(raw.replace(".", ""))


def mask_person_id(person_id: str) -> str:
    """110105********1234: the first six (region) and last four characters stay."""
    if len(person_id) <= 10:
        return "*" * len(person_id)
    return person_id[:6] + "*" * (len(person_id) - 10) + person_id[-4:]


def fit(text: str, width: int, align: str, pad: str, encoding: str) -> bytes:
    """`text` encoded and padded to exactly `width` bytes; CellError if it is wider.

    Widths are bytes of the file's encoding: a Chinese character is 2 bytes in GB18030 (4 for
    rare ones), 3 in UTF-8. Nothing is ever cut — a cut name pays the wrong person.
    """
    data = text.encode(encoding)
    if len(data) > width:
        raise CellError(f"“{text}”占 {len(data)} 字节（{encoding}），超过本栏宽度 {width} 字节")
    filler = pad.encode("ascii") * (width - len(data))
    return filler + data if align == "right" else data + filler

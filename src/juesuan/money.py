"""Money: Decimal 元 with two places from the moment a value is read; never float.

Ledgers keep integer 分 (fen) for speed; everything a person sees is Decimal 元 or 万元.
Display is 万元 with two places, rounded half-up (四舍五入). Percentages are computed from 元.
舍位平衡 rounds parts so they still add up to the rounded total, and records each adjustment.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
WAN = Decimal(10000)
HUNDRED = Decimal(100)

# The one rule for every number a person types (amounts, counts, years, codes): full-width forms
# from a Chinese input method are read as their ASCII characters; any other non-ASCII digit
# (①, ², ٣, ...) is refused, never guessed. Stated in the template's 填表说明 (DIGIT_RULE).
FULLWIDTH = dict(zip("０１２３４５６７８９．，－＋", "0123456789.,-+", strict=True))
_TO_ASCII = str.maketrans(FULLWIDTH)
DIGIT_RULE = (
    "数字用 0-9；全角数字（０-９）、全角小数点“．”和逗号“，”按半角读取；①、²等其他数字不接受"
)

# After that rule: thousands separators only every three digits, at most two decimals.
_WHOLE = r"^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)"
AMOUNT_PATTERN = _WHOLE + r"(?:\.[0-9]{1,2})?$"
# Ceiling: under 10^13 元 (10 万亿, five times the largest province's whole-year spending), so
# no real cell reaches it, Decimal sums stay exact in the default 28 digits, and one line is at
# most 10^15 分: the ledger sums in Int128 and cannot overflow at any number of lines.
MAX_AMOUNT_DIGITS = 13
MAX_AMOUNT = Decimal(10) ** MAX_AMOUNT_DIGITS - CENT
AMOUNT_ACCEPTED = (
    "以元为单位的数字，最多两位小数，千分位逗号只能每三位一个，"
    f"绝对值不超过 {MAX_AMOUNT:,}，如 12345.67 或 1,234,567.89"
)
# A dataset's amounts taken without sign add up to at most 10^15 元 (a hundred times the whole
# country's yearly spending): any sum over its lines then fits in Int64 分. A consolidation is
# held to the same ceiling, however many units it joins.
MAX_TOTAL = Decimal(10) ** 15
# Counts (人数, 批次, 年度): plain digits; twelve is more than any count a unit reports.
MAX_COUNT_DIGITS = 12
# Other numbers (thresholds, weights, scores, rates): at most this many places after the point.
MAX_NUMBER_PLACES = 6
_NUMBER = re.compile(_WHOLE + rf"(?:\.[0-9]{{1,{MAX_NUMBER_PLACES}}})?$")
_AMOUNT = re.compile(AMOUNT_PATTERN)
_UNIT_WORDS = ("万元", "亿元", "元", "万", "亿", "￥", "¥", "%")
_SHOWN = 40  # characters of a refused value repeated in a message


class AmountError(ValueError):
    """A cell that is not an amount in 元; the message says what was found and what is accepted."""


def to_ascii(text: str) -> str:
    """A typed number under the digit rule: stripped, full-width forms made ASCII.

    Raises AmountError naming the first other non-ASCII digit, which is refused, not read.
    """
    ascii_text = str(text).translate(_TO_ASCII).strip()
    for char in ascii_text:
        if not char.isascii() and unicodedata.category(char) in ("Nd", "No", "Nl"):
            raise AmountError(f"含有不接受的数字字符“{char}”；{DIGIT_RULE}")
    return ascii_text


def shown(text: object) -> str:
    """A value as repeated in a message: long ones cut, so a huge cell cannot flood a report."""
    text = str(text)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}…（共 {len(text)} 个字符）"


def parse_yuan(text: object) -> Decimal:
    """Read an amount in 元 (at most two decimals) from a cell; raise AmountError otherwise."""
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, int) and not isinstance(text, bool):
        value = Decimal(text)
    elif isinstance(text, float):
        # Spreadsheets hand us binary floats; repr gives the shortest decimal that round-trips,
        # which is what the person typed.
        value = Decimal(repr(text))
    else:
        raw = to_ascii(str(text))
        if not raw:
            raise AmountError("金额为空")
        for word in _UNIT_WORDS:
            if word in raw:
                raise AmountError(
                    f"金额“{shown(raw)}”带有单位或符号“{word}”；请只填以元为单位的数字，如 12345.67"
                )
        if re.fullmatch(r"[+-]?[0-9,]*\.[0-9]{3,}", raw):
            raise AmountError(f"金额“{shown(raw)}”超过两位小数；元金额最多到分")
        if "," in raw and re.fullmatch(r"[+-]?[0-9,]+(\.[0-9]*)?", raw) and not _AMOUNT.match(raw):
            raise AmountError(
                f"“{shown(raw)}”的千分位逗号位置不对（应每三位一个，如 1,234,567.89）；"
                "请核对是否漏填或多填了数字"
            )
        if not _AMOUNT.match(raw):
            raise AmountError(f"“{shown(raw)}”不是金额；请填以元为单位的数字，如 12345.67")
        value = Decimal(raw.replace(",", ""))
    if not value.is_finite():
        raise AmountError(f"“{shown(text)}”不是金额")
    if value.copy_abs() > MAX_AMOUNT:  # copy_abs is exact; abs() rounds and can overflow
        raise AmountError(f"金额“{shown(text)}”超过上限 {MAX_AMOUNT:,} 元；请核对是否多填了数字")
    if value != value.quantize(CENT):
        raise AmountError(f"金额“{shown(text)}”超过两位小数；元金额最多到分")
    return value.quantize(CENT)


def parse_count(text: object) -> int:
    """A count (人数, 批次, 年度): digits only under the digit rule; raise AmountError otherwise."""
    raw = to_ascii(str(text))
    if not re.fullmatch(r"[0-9]+", raw):
        raise AmountError("应为非负整数")
    digits = raw.lstrip("0")
    if len(digits) > MAX_COUNT_DIGITS:
        raise AmountError(f"数值过大（超过 {MAX_COUNT_DIGITS} 位）")
    return int(digits or "0")


def parse_number(text: object, *, percent: bool = False) -> Decimal:
    """A finite decimal number under the digit rule (a trailing % allowed when `percent`).

    Separators as for amounts; at most MAX_AMOUNT_DIGITS before the point and MAX_NUMBER_PLACES
    after. No exponent, NaN or Infinity. Raises AmountError otherwise.
    """
    raw = to_ascii(str(text))
    if percent and raw.endswith(("%", "％")):
        raw = raw[:-1].rstrip()
    if not _NUMBER.match(raw):
        raise AmountError("不是数字")
    whole = raw.lstrip("+-").split(".")[0].replace(",", "").lstrip("0")
    if len(whole) > MAX_AMOUNT_DIGITS:
        raise AmountError(f"数值过大（整数部分超过 {MAX_AMOUNT_DIGITS} 位）")
    return Decimal(raw.replace(",", ""))


def to_fen(yuan: Decimal) -> int:
    return int(yuan.quantize(CENT) * 100)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


def wan(yuan: Decimal) -> Decimal:
    """元 -> 万元, two places, half-up."""
    return (yuan / WAN).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole as a percentage with two places, half-up; None when whole is zero."""
    if whole == 0:
        return None
    return (part * HUNDRED / whole).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_fen(fen: int) -> str:
    """How an amount kept in 分 is printed in 元: 1234567 -> '12,345.67'."""
    return f"{from_fen(fen):,.2f}"


def fmt_wan(yuan: Decimal) -> str:
    """How a 万元 figure is printed: '5,686.09'."""
    return f"{wan(yuan):,.2f}"


@dataclass(frozen=True)
class Adjustment:
    """One displayed part moved by 0.01 so the rounded parts add up to the rounded total."""

    index: int
    rounded: Decimal  # the part rounded on its own
    shown: Decimal  # what is displayed after 舍位平衡


def round_preserving_total(
    parts: list[Decimal], total: Decimal | None = None, quantum: Decimal = CENT
) -> tuple[list[Decimal], list[Adjustment]]:
    """舍位平衡: round each part to `quantum` so that they add up to the rounded total.

    `total` defaults to the exact sum of the parts. Parts are first rounded half-up on their own;
    the gap to the rounded total is then closed one quantum at a time, moving the parts whose
    rounding lost (or gained) the most first (largest remainder). Every moved part is recorded.
    """
    exact_total = sum(parts, Decimal(0)) if total is None else total
    target = exact_total.quantize(quantum, rounding=ROUND_HALF_UP)
    rounded = [p.quantize(quantum, rounding=ROUND_HALF_UP) for p in parts]
    gap = target - sum(rounded, Decimal(0))
    steps = int(abs(gap) / quantum)
    if steps == 0:
        return rounded, []
    if steps > len(parts):
        raise ValueError(f"合计与各项之和相差 {gap}，超出舍位误差，不能做舍位平衡")
    step = quantum if gap > 0 else -quantum
    # Remainder lost by rounding: the parts that lost most are raised first (and the reverse).
    order = sorted(
        range(len(parts)),
        key=lambda i: (parts[i] - rounded[i]) * (1 if gap > 0 else -1),
        reverse=True,
    )
    shown = list(rounded)
    adjustments = []
    for i in order[:steps]:
        shown[i] += step
    for i in range(len(parts)):
        if shown[i] != rounded[i]:
            adjustments.append(Adjustment(index=i, rounded=rounded[i], shown=shown[i]))
    return shown, adjustments

"""Money: Decimal 元 with two places from the moment a value is read; never float.

Ledgers keep integer 分 (fen) for speed; everything a person sees is Decimal 元 or 万元.
Display is 万元 with two places, rounded half-up (四舍五入). Percentages are computed from 元.
舍位平衡 rounds parts so they still add up to the rounded total, and records each adjustment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
WAN = Decimal(10000)
HUNDRED = Decimal(100)

# "1,234.56", "-12", "１２３.４" (full-width digits are normalised first). Nothing else.
_AMOUNT = re.compile(r"^[+-]?\d+(\.\d+)?$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－＋　", "0123456789.,-+ ")
_UNIT_WORDS = ("万元", "亿元", "元", "万", "亿", "￥", "¥", "%")


class AmountError(ValueError):
    """A cell that is not an amount in 元; the message says what was found and what is accepted."""


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
        raw = str(text).translate(_FULLWIDTH).strip()
        if not raw:
            raise AmountError("金额为空")
        for word in _UNIT_WORDS:
            if word in raw:
                raise AmountError(
                    f"金额“{raw}”带有单位或符号“{word}”；请只填以元为单位的数字，如 12345.67"
                )
        cleaned = raw.replace(",", "").replace(" ", "")
        if not _AMOUNT.match(cleaned):
            raise AmountError(f"“{raw}”不是金额；请填以元为单位的数字，如 12345.67")
        try:
            value = Decimal(cleaned)
        except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
            raise AmountError(f"“{raw}”不是金额") from exc
    if not value.is_finite():
        raise AmountError(f"“{text}”不是金额")
    if value != value.quantize(CENT):
        raise AmountError(f"金额“{text}”超过两位小数；元金额最多到分")
    return value.quantize(CENT)


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

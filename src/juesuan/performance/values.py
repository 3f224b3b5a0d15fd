"""Indicator values as written in a 绩效目标 table: a number with a comparison and a unit, or words.

Grammar (the whole cell must match; spaces are ignored, full-width digits and signs are read as
half-width, and thousands separators are dropped):

    value     := deadline | [op] number [unit] [suffix]
    deadline  := "每月" integer ("日" | "号") ("前" | "之前" | "以前") words-without-digits
                 -> op ≤, the day of the month, unit 日 (e.g. 每月20日前发放到位)
    op        := ≥ | >= | ≧ | 大于等于 | 不低于 | 不少于 | 不小于 | 至少 | 达到     -> ≥
               | > | 大于 | 高于 | 超过                                          -> >
               | = | == | 等于                                                  -> =
               | ≤ | <= | ≦ | 小于等于 | 不高于 | 不超过 | 不大于 | 不多于 | 至多 | 控制在 -> ≤
               | < | 小于 | 低于 | 少于                                          -> <
    number    := digits [ "." digits ]
    unit      := one of UNITS (longest match first: 万元/人 before 万元 before 元)
    suffix    := 及以上 | 以上 -> ≥ ; 及以下 | 以下 | 以内 -> ≤   (must agree with a leading op)

Anything else is `Words` (a qualitative value): "2020年期间", "2020年内", "确保…及时到账".
A plain number carries no comparison (`op` None): the indicator's 方向 says how it is scored.
Written by hand because the forms' conventions ("<1%", "每月20日前", "1.71万元/人") are this
domain's own; a general units library would not read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

POSITIVE = ("≥", ">")
EQUAL = ("=",)
REVERSE = ("≤", "<")
OPERATORS = (*POSITIVE, *EQUAL, *REVERSE)
QUALITATIVE = "定性"

_OP_WORDS: dict[str, str] = {
    "≥": "≥",
    ">=": "≥",
    "≧": "≥",
    "大于等于": "≥",
    "大于或等于": "≥",
    "不低于": "≥",
    "不少于": "≥",
    "不小于": "≥",
    "至少": "≥",
    "达到": "≥",
    ">": ">",
    "大于": ">",
    "高于": ">",
    "超过": ">",
    "=": "=",
    "==": "=",
    "等于": "=",
    "≤": "≤",
    "<=": "≤",
    "≦": "≤",
    "小于等于": "≤",
    "小于或等于": "≤",
    "不高于": "≤",
    "不超过": "≤",
    "不大于": "≤",
    "不多于": "≤",
    "至多": "≤",
    "控制在": "≤",
    "<": "<",
    "小于": "<",
    "低于": "<",
    "少于": "<",
}
_SUFFIX_WORDS = {"及以上": "≥", "以上": "≥", "及以下": "≤", "以下": "≤", "以内": "≤"}

UNITS = (
    "万元/人",
    "元/人",
    "万元/户",
    "元/户",
    "亿元",
    "万元",
    "千元",
    "元",
    "%",
    "‰",
    "人次",
    "人",
    "户",
    "个月",
    "个",
    "项",
    "次",
    "笔",
    "工作日",
    "小时",
    "天",
    "日",
    "月",
    "年",
    "台",
    "套",
    "辆",
    "家",
    "件",
    "份",
    "场",
    "所",
    "批",
    "期",
    "分",
    "平方米",
    "公里",
)

_FULLWIDTH = str.maketrans("０１２３４５６７８９．，％＜＞＝＋－／", "0123456789.,%<>=+-/")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_DEADLINE = re.compile(r"每月(\d{1,2})[日号](?:之前|以前|前)([^\d]*)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")


@dataclass(frozen=True)
class Quantity:
    """A number with its unit and, when written with it, a comparison (the claim "<1%")."""

    number: Decimal
    unit: str | None = None
    op: str | None = None
    text: str = ""
    deadline: bool = False  # 每月N日前: number is the day of the month

    @property
    def sense(self) -> str | None:
        """positive (≥ >), equal (=) or reverse (≤ <) for the written comparison."""
        return sense_of(self.op)

    def shown(self) -> str:
        """As a person reads it: "≤ 1%", "949.68 万元", "每月20日前"."""
        if self.deadline:
            return f"每月{self.number}日前"
        number = show_number(self.number)
        unit = self.unit or ""
        spaced = "" if unit in ("%", "‰", "") else " "
        return f"{self.op + ' ' if self.op else ''}{number}{spaced}{unit}"


@dataclass(frozen=True)
class Words:
    """A value that is not a number: a qualitative target or actual, kept as written."""

    text: str

    def shown(self) -> str:
        return self.text


def sense_of(op: str | None) -> str | None:
    if op in POSITIVE:
        return "positive"
    if op in EQUAL:
        return "equal"
    if op in REVERSE:
        return "reverse"
    return None


def normalise(text: str) -> str:
    compact = re.sub(r"\s+", "", str(text)).translate(_FULLWIDTH)
    return _THOUSANDS.sub("", compact)


def parse_value(text: str | None, unit: str | None = None) -> Quantity | Words | None:
    """Read a target or actual cell; `unit` (计量单位) applies when the cell names none."""
    if text is None or not str(text).strip():
        return None
    written = str(text).strip()
    cell = normalise(written)
    deadline = _DEADLINE.fullmatch(cell)
    if deadline:
        return Quantity(Decimal(deadline.group(1)), "日", "≤", written, deadline=True)
    op = None
    for word in sorted(_OP_WORDS, key=len, reverse=True):
        if cell.startswith(word):
            op = _OP_WORDS[word]
            cell = cell[len(word) :]
            break
    number = _NUMBER.match(cell)
    if number is None:
        return Words(written)
    rest = cell[number.end() :]
    found_unit = None
    for candidate in UNITS:
        if rest.startswith(candidate):
            found_unit = candidate
            rest = rest[len(candidate) :]
            break
    if rest:
        suffix = _SUFFIX_WORDS.get(rest)
        if suffix is None or (op is not None and sense_of(op) != sense_of(suffix)):
            return Words(written)
        op = op or suffix
    return Quantity(Decimal(number.group()), found_unit or _clean_unit(unit), op, written)


def _clean_unit(unit: str | None) -> str | None:
    if unit is None:
        return None
    cleaned = normalise(unit)
    return cleaned or None


# ---- units ---------------------------------------------------------------------------------------

# unit -> (family, size in the family's base unit)
_SCALES: dict[str, tuple[str, Decimal]] = {
    "元": ("money", Decimal(1)),
    "千元": ("money", Decimal(1000)),
    "万元": ("money", Decimal(10000)),
    "亿元": ("money", Decimal(100000000)),
    "元/人": ("per_person", Decimal(1)),
    "万元/人": ("per_person", Decimal(10000)),
    "元/户": ("per_household", Decimal(1)),
    "万元/户": ("per_household", Decimal(10000)),
    "%": ("ratio", Decimal(1)),
    "‰": ("ratio", Decimal("0.1")),
}


def convert(number: Decimal, from_unit: str | None, to_unit: str | None) -> Decimal | None:
    """`number` in `from_unit` expressed in `to_unit`; None when the units do not compare.

    A value without a unit takes the other side's unit.
    """
    if from_unit is None or to_unit is None or from_unit == to_unit:
        return number
    source, target = _SCALES.get(from_unit), _SCALES.get(to_unit)
    if source is None or target is None or source[0] != target[0]:
        return None
    return number * source[1] / target[1]


def decimals(number: Decimal) -> int:
    """How many decimals a written number shows (1.47 -> 2, 1227 -> 0)."""
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def show_number(number: Decimal, places: int | None = None) -> str:
    """A number without float noise; `places` fixes the decimals (half-up)."""
    if places is not None:
        return f"{number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    return f"{number.normalize():f}"

"""What a consolidation did: the units, the eliminations, the problems and the notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

SHOWN_UNITS = 10  # how many unit names the readable summary lists before "等"


def yuan(amount: Decimal) -> str:
    """An amount in 元 as printed in report sentences: '1,234.50'."""
    return f"{amount:,.2f}"


def name_list(names: list[str] | tuple[str, ...], limit: int = 5) -> str:
    """Unit names joined with 、, shortened to `limit` names plus “等N个单位”."""
    if not names:
        return "无"
    if len(names) <= limit:
        return "、".join(names)
    return "、".join(names[:limit]) + f"等{len(names)}个单位"


@dataclass(frozen=True)
class Elimination:
    """One internal flow eliminated: what the paying units spent and the receiving units took in.

    `function_code` is None when the pair was matched in total rather than per function code.
    Amounts are Decimal 元.
    """

    pair: str  # e.g. 对附属单位补助支出—上级补助收入
    paid_nature: str  # the spending side: 支出性质
    fund: str  # the income side: 资金来源 (上级补助收入 / 附属单位上缴收入)
    phase: str
    function_code: str | None
    paid: Decimal
    received: Decimal
    eliminated: Decimal
    payers: tuple[str, ...] = ()
    receivers: tuple[str, ...] = ()

    @property
    def unmatched(self) -> Decimal:
        return abs(self.paid - self.received)

    @property
    def scope(self) -> str:
        code = f"，功能分类 {self.function_code}" if self.function_code else "，按合计"
        return f"{self.phase}{code}"

    def as_dict(self) -> dict:
        return {
            "pair": self.pair,
            "paid_nature": self.paid_nature,
            "fund": self.fund,
            "phase": self.phase,
            "function_code": self.function_code,
            "paid": str(self.paid),
            "received": str(self.received),
            "eliminated": str(self.eliminated),
            "unmatched": str(self.unmatched),
            "payers": list(self.payers),
            "receivers": list(self.receivers),
        }

    def __str__(self) -> str:
        text = (
            f"{self.pair}（{self.scope}）：支付 {yuan(self.paid)} 元，收到 {yuan(self.received)} 元，"
            f"抵消 {yuan(self.eliminated)} 元"
        )
        if self.unmatched:
            text += f"，未匹配 {yuan(self.unmatched)} 元"
        return text


@dataclass
class ConsolidationReport:
    units: list[str] = field(default_factory=list)
    lines: int = 0  # lines in the consolidated ledger, offset lines included
    offset_lines: int = 0
    eliminations: list[Elimination] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def eliminated(self) -> Decimal:
        return sum((e.eliminated for e in self.eliminations), Decimal("0.00"))

    def as_dict(self) -> dict:
        return {
            "units": list(self.units),
            "lines": self.lines,
            "offset_lines": self.offset_lines,
            "eliminated": str(self.eliminated),
            "eliminations": [e.as_dict() for e in self.eliminations],
            "problems": list(self.problems),
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        parts = []
        if self.units:
            parts.append(
                f"汇总 {len(self.units)} 个单位（{name_list(self.units, SHOWN_UNITS)}），"
                f"共 {self.lines} 条收支明细，其中抵消行 {self.offset_lines} 条。"
            )
        else:
            parts.append("未生成汇总数据集。")
        if self.eliminations:
            parts.append(f"内部往来抵消（合计 {yuan(self.eliminated)} 元）：")
            parts.extend(f"  - {e}" for e in self.eliminations)
        else:
            parts.append("内部往来抵消：无。")
        if self.problems:
            parts.append("问题：")
            parts.extend(f"  - {p}" for p in self.problems)
        if self.notes:
            parts.append("说明：")
            parts.extend(f"  - {n}" for n in self.notes)
        return "\n".join(parts)

"""What an indicator's 实际值来源 "计算:<name>" computes, from the ledger and the 绩效数据.

Names (per project):

    执行数            决算 spending tagged with the project (元)
    预算数 / 全年预算  调整预算 when entered, else 年初预算 (元)
    年初预算           年初预算 (元)
    执行率            执行数 / 预算数 (%)
    发放金额           绩效数据 (元), else the project's 执行数
    失败退回率         失败退回笔数 / 发放笔数 (%): a rate of payments made, never of persons
    人均补贴成本       发放金额 / 发放人数 (元/人); also 人均发放金额, 人均成本
    按时发放率         按时发放笔数 / 发放笔数 (%)
    any other name     the 绩效数据 row of that name (发放人数, 发放笔数, 失败退回笔数, 发放月数, ...)

A 绩效数据 row holds a value or names projects whose same item it sums (代发几类专项资金工作经费's
发放人数 = the three schemes' 发放人数). Numbers the disbursement system computes are passed in as
`external` and take precedence over the table, so the same names work once it feeds them; an
`ExternalMeasures` also names where they came from ("代发系统2020年"), and each value computed
from them says so in its `how`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from juesuan.ledger.model import Dataset, Measure
from juesuan.ledger.schema import ACTUAL, FISCAL_FUNDS, PERFORMANCE_DATA_KINDS, SPENDING
from juesuan.performance.values import show_number

PER_CAPITA = ("人均补贴成本", "人均发放金额", "人均成本")
RATE_OF_RETURNS = "失败退回率"
RATE_ON_TIME = "按时发放率"
COUNT_UNITS = {
    "发放人数": "人",
    "发放笔数": "笔",
    "失败退回笔数": "笔",
    "按时发放笔数": "笔",
    "发放月数": "个月",
}
EXTERNAL_SOURCE = "发放系统"


class Unavailable(Exception):
    """A computed value cannot be had: the data it needs is missing (insufficient_data)."""


@dataclass(frozen=True)
class Measured:
    """A computed value, its unit and how it was computed (in Chinese, for messages)."""

    value: Decimal
    unit: str | None
    how: str


@dataclass(frozen=True)
class Funds:
    """An amount in 元 with its 其中财政拨款 and 其它资金 parts."""

    total: Decimal
    fiscal: Decimal
    other: Decimal


@dataclass(frozen=True)
class ExternalMeasures:
    """Values computed outside the dataset, keyed by (project, name), and where they came from
    (shown beside every value taken from them). A value may be `Unavailable`: the system has
    the item but cannot give it (and the table's figure must not stand in for it)."""

    values: Mapping[tuple[str, str], Decimal | int | Unavailable]
    source: str = EXTERNAL_SOURCE


def yuan(value: Decimal) -> str:
    return f"{value:,.2f} 元"


class Measures:
    """Computes named values per project; memoised, with cycles in 汇总项目 reported."""

    def __init__(
        self,
        dataset: Dataset,
        external: ExternalMeasures | Mapping[tuple[str, str], Decimal | int] | None = None,
    ) -> None:
        if not isinstance(external, ExternalMeasures):
            external = ExternalMeasures(external or {})
        self.dataset = dataset
        self.ledger = dataset.ledger
        self.external = dict(external.values)
        self.source = external.source
        self.rows: dict[tuple[str, str], Measure] = {
            (m.project, m.key): m for m in dataset.performance_data
        }
        self._cache: dict[tuple[str, str], Measured | Unavailable] = {}
        self._stack: list[tuple[str, str]] = []

    # ---- money from the ledger ------------------------------------------------------------------

    def funds(self, project: str | None, phase: str, **where: object) -> Funds:
        if project is not None:
            where["project"] = project
        total = self.ledger.total(direction=SPENDING, phase=phase, **where)
        fiscal = self.ledger.total(direction=SPENDING, phase=phase, fund=FISCAL_FUNDS, **where)
        return Funds(total, fiscal, total - fiscal)

    def budget_phase(self, project: str | None, **where: object) -> str:
        """调整预算 when any is entered for the selection, else 年初预算."""
        if project is not None:
            where["project"] = project
        adjusted = self.ledger.count(direction=SPENDING, phase="调整预算", **where)
        return "调整预算" if adjusted else "年初预算"

    # ---- named values ---------------------------------------------------------------------------

    def get(self, project: str, name: str) -> Measured:
        key = (project, name)
        if key not in self._cache:
            if key in self._stack:
                raise Unavailable(f"“{project}”的{name}在汇总项目中循环引用")
            self._stack.append(key)
            try:
                self._cache[key] = self._compute(project, name)
            except Unavailable as exc:
                self._cache[key] = exc
            finally:
                self._stack.pop()
        found = self._cache[key]
        if isinstance(found, Unavailable):
            raise found
        return found

    def _compute(self, project: str, name: str) -> Measured:
        if name == "执行数":
            amount = self.funds(project, ACTUAL).total
            return Measured(amount, "元", f"执行数 {yuan(amount)}（账上决算）")
        if name in ("预算数", "全年预算"):
            phase = self.budget_phase(project)
            amount = self.funds(project, phase).total
            return Measured(amount, "元", f"全年预算 {yuan(amount)}（账上{phase}）")
        if name == "年初预算":
            amount = self.funds(project, "年初预算").total
            return Measured(amount, "元", f"年初预算 {yuan(amount)}（账上）")
        if name == "执行率":
            actual, budget = self.get(project, "执行数"), self.get(project, "预算数")
            if budget.value == 0:
                raise Unavailable(f"“{project}”没有预算数，无法计算执行率")
            rate = actual.value * 100 / budget.value
            return Measured(rate, "%", f"{actual.how} ÷ {budget.how}")
        if name == RATE_OF_RETURNS:
            return self._rate_of_returns(project)
        if name == RATE_ON_TIME:
            on_time, paid = self.get(project, "按时发放笔数"), self.get(project, "发放笔数")
            if paid.value == 0:
                raise Unavailable(f"“{project}”的发放笔数为 0，无法计算按时发放率")
            return Measured(on_time.value * 100 / paid.value, "%", f"{on_time.how} ÷ {paid.how}")
        if name in PER_CAPITA:
            amount, persons = self.get(project, "发放金额"), self.get(project, "发放人数")
            if persons.value == 0:
                raise Unavailable(f"“{project}”的发放人数为 0，无法计算人均")
            return Measured(amount.value / persons.value, "元/人", f"{amount.how} ÷ {persons.how}")
        if name == "发放金额" and not self._has_data(project, name):
            actual = self.get(project, "执行数")
            return Measured(actual.value, "元", f"发放金额取{actual.how}")
        return self._data(project, name)

    def _rate_of_returns(self, project: str) -> Measured:
        # The denominator is every payment made (发放笔数), not the number of persons.
        missing = [k for k in ("失败退回笔数", "发放笔数") if not self._has_data(project, k)]
        if missing:
            raise Unavailable(
                f"“{project}”缺少{'、'.join(missing)}：失败退回率 = 失败退回笔数 ÷ 全部发放笔数，"
                "分母是发放笔数而不是发放人数"
            )
        returned, paid = self.get(project, "失败退回笔数"), self.get(project, "发放笔数")
        if paid.value == 0:
            raise Unavailable(f"“{project}”的发放笔数为 0，无法计算失败退回率")
        return Measured(returned.value * 100 / paid.value, "%", f"{returned.how} ÷ {paid.how}")

    def _has_data(self, project: str, name: str) -> bool:
        return (project, name) in self.external or (project, name) in self.rows

    def _data(self, project: str, name: str) -> Measured:
        unit = unit_of(name)
        if (project, name) in self.external:
            given = self.external[(project, name)]
            if isinstance(given, Unavailable):  # the system knows it cannot say, and why
                raise given
            value = Decimal(given)
            return Measured(value, unit, f"{name} {show_measure(value, unit)}（{self.source}）")
        row = self.rows.get((project, name))
        if row is None:
            raise Unavailable(f"“{project}”缺少“{name}”（绩效数据）")
        if row.value is not None:
            value = Decimal(row.value)
            return Measured(value, unit, f"{name} {show_measure(value, unit)}（绩效数据）")
        parts = [self.get(other, name) for other in row.sum_of]
        value = sum((p.value for p in parts), Decimal(0))
        listed = " + ".join(show_measure(p.value, unit) for p in parts)
        return Measured(
            value,
            unit,
            f"{name} {show_measure(value, unit)}（{'、'.join(row.sum_of)}之和：{listed}）",
        )


def unit_of(name: str) -> str | None:
    """The unit of a 绩效数据 item: 元 for amounts, 人/笔/个月 for counts, None when unknown."""
    return "元" if PERFORMANCE_DATA_KINDS.get(name) == "amount" else COUNT_UNITS.get(name)


def show_measure(value: Decimal, unit: str | None) -> str:
    if unit == "元":
        return yuan(value)
    return f"{show_number(value)} {unit}" if unit else show_number(value)

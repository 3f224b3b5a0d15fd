"""The names and functions a rule expression may use over one Dataset.

Every amount is a Value in 元 carrying a readable description of the selection it came from, so
an outcome can say which lines (or facts) it compared. Ledger selections default to phase 决算.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from juesuan.codes import function_codes
from juesuan.ledger.model import Dataset
from juesuan.ledger.schema import ACTUAL, FACT_KEYS, FISCAL_FUNDS, INCOME, SPENDING
from juesuan.rules.expr import ExprError, Missing, Value
from juesuan.statements.model import Statements, Table

_FILTER_WORDS = {
    "direction": "",
    "phase": "",
    "fund": "",
    "nature": "",
    "project": "项目",
    "function": "功能分类",
    "economic": "经济分类",
}


def describe(where: dict) -> str:
    parts = []
    for key, value in where.items():
        shown = "/".join(value) if isinstance(value, (tuple, list)) else str(value)
        parts.append(f"{_FILTER_WORDS.get(key, key)}{shown}")
    return "·".join(parts)


class Context:
    """Functions for one dataset. Generators (for `foreach`) return lists of bindings."""

    def __init__(self, dataset: Dataset, statements: Statements | None = None):
        self.dataset = dataset
        self.statements = statements
        self.ledger = dataset.ledger
        self.codes = function_codes(dataset.unit.year)
        self._quantities: dict[str, Callable[[], Value]] = {}

    # ---- functions available in expressions ----

    def amount(self, **where: object) -> Value:
        where.setdefault("phase", ACTUAL)
        if "function" in where and where["function"] == "":
            where.pop("function")
        return Value(self.ledger.total(**where), "元", (describe(where),))

    def budget(self, **where: object) -> Value:
        """The budget to judge execution against: 调整预算 when entered, else 年初预算."""
        where = {k: v for k, v in where.items() if k != "phase"}
        adjusted = self.ledger.count(phase="调整预算", **where)
        phase = "调整预算" if adjusted else "年初预算"
        return self.amount(phase=phase, **where)

    def children_sum(self, code: str, **where: object) -> Value:
        """Sum of the totals of the next level down (类 for '', 款 for a 类, 项 for a 款)."""
        where.setdefault("phase", ACTUAL)
        digits = {0: 3, 3: 5, 5: 7}[len(code)]
        if code:
            where["function"] = code
        totals = self.ledger.sum_by_code_level("function_code", digits, **where)
        children = {c: v for c, v in totals.items() if len(c) == digits}
        described = describe({**where, "function": f"{code or ''}下各{_level(digits)}"})
        return Value(sum(children.values(), Decimal(0)), "元", (described,))

    def fact(self, key: str) -> Value:
        fact = self.dataset.facts.get(key)
        if fact is None:
            raise Missing(f"缺少“{key}”（其他事项）")
        unit = "元" if isinstance(fact.value, Decimal) and _is_money_fact(key) else ""
        return Value(Decimal(fact.value), unit, (f"其他事项·{key}",))

    def prior(self, key: str) -> Value:
        fact = self.dataset.prior_year.get(key)
        if fact is None:
            raise Missing(f"缺少上年数“{key}”")
        return Value(Decimal(fact.value), "元", (f"上年数·{key}",))

    def has_prior(self, key: str) -> bool:
        return key in self.dataset.prior_year

    def has_reason(self, kind: str, topic: str) -> bool:
        text = self.dataset.reasons.get((kind, str(topic)))
        return bool(text and text.strip())

    def three_public(
        self, field: str = "actual", item: str | None = None, fund: str | None = None
    ) -> Value:
        items = [
            t
            for t in self.dataset.three_public
            if (item is None or t.item == item) and (fund is None or t.fund == fund)
        ]
        if not self.dataset.three_public:
            raise Missing("没有“三公经费”表")
        total = sum((getattr(t, field) or 0 for t in items), Decimal(0))
        label = "预算数" if field == "budget" else "决算数" if field == "actual" else field
        unit = "元" if field in ("budget", "actual") else ""
        return Value(Decimal(total), unit, (f"三公经费·{item or '合计'}·{label}",))

    def procurement(self, field: str = "amount", kind: str | None = None) -> Value:
        items = [p for p in self.dataset.procurement if kind is None or p.kind == kind]
        if not self.dataset.procurement:
            raise Missing("没有“政府采购”表")
        total = sum((getattr(p, field) or Decimal(0) for p in items), Decimal(0))
        return Value(total, "元", (f"政府采购·{kind or '合计'}·{field}",))

    # ---- table cells: shown 万元 figures, as published ----

    def _table(self, table: str) -> Table:
        if self.statements is None:
            raise Missing("未生成报表，无法核对表内表间关系")
        found = self.statements.table(table)
        if found is None:
            raise Missing(f"没有表 {table}")
        return found

    def cell(self, table: str, row: str, column: str | None = None) -> Value:
        """A shown figure. A code row that is absent was left out for being zero."""
        found = self._table(table)
        located = found.find(str(row), column)
        label = f"{found.number}、{found.title}·{row}" + (f"·{column}" if column else "")
        if located is None:
            if str(row).isdigit():
                return Value(Decimal(0), "万元", (label,), 0)
            raise Missing(f"{found.title}中没有“{row}”{'/' + column if column else ''}")
        _, found_row, index = located
        shown = found_row.cells[index].shown
        return Value(shown if shown is not None else Decimal(0), "万元", (label,), 1)

    def children_cells(self, table: str, row: str, column: str | None = None) -> Value:
        """Sum of the shown figures one level below a code row (or below 合计: the 类 rows)."""
        found = self._table(table)
        for section in found.sections:
            parent = section.row(str(row))
            if parent is None:
                continue
            index = 0 if column is None else section.column_index(column)
            kids = section.children(parent)
            total = sum((k.cells[index].shown or Decimal(0) for k in kids), Decimal(0))
            label = f"{found.number}、{found.title}·{row}的下级科目·{column or ''}"
            return Value(total, "万元", (label,), len(kids))
        raise Missing(f"{found.title}中没有“{row}”")

    def rows(self, table: str, level: int | None = None, parents: bool = False) -> list[dict]:
        """Bindings {row, code, name} for the code rows of a table (a generator for foreach)."""
        if self.statements is None or self.statements.table(table) is None:
            return []
        found = self.statements.table(table)
        bindings = []
        for section in found.sections:
            for row in section.rows:
                is_parent = row.total or bool(row.code and section.children(row))
                if parents and not (is_parent and (row.code or row.total) and row.level < 3):
                    continue
                if not parents and (row.code is None or (level is not None and row.level != level)):
                    continue
                bindings.append({"row": row.key, "code": row.code or "", "name": row.label})
        return bindings

    def parent_cells(self, *tables: str) -> list[dict]:
        """Bindings {table, row, code, name, column} for every 合计/类/款 cell of code tables."""
        bindings = []
        for table in tables:
            found = self.statements.table(table) if self.statements else None
            if found is None:
                continue
            for section in found.sections:
                for row in section.rows:
                    if not section.children(row) or not (row.code or row.total):
                        continue
                    for column in section.columns:
                        bindings.append(
                            {
                                "table": table,
                                "row": row.key,
                                "code": row.code or "",
                                "name": row.label,
                                "column": column.key,
                            }
                        )
        return bindings

    def ratio(self, part: object, whole: object) -> Value:
        part_v = part if isinstance(part, Value) else Value(Decimal(part), "")
        whole_v = whole if isinstance(whole, Value) else Value(Decimal(whole), "")
        if whole_v.amount == 0:
            raise Missing("分母为零，无法计算比率")
        return Value(part_v.amount / whole_v.amount * 100, "%", part_v.refs + whole_v.refs)

    def threshold(self, name: str) -> Value:
        value = getattr(self.dataset.unit, name, None)
        if value is None:
            raise ExprError(f"未知的阈值：{name}")
        return Value(Decimal(value) * 100, "%", ())

    def unit_kind(self) -> str:
        return self.dataset.unit.kind or ""

    def functions(self) -> dict[str, Callable]:
        return {
            "amount": self.amount,
            "budget": self.budget,
            "children_sum": self.children_sum,
            "fact": self.fact,
            "prior": self.prior,
            "has_prior": self.has_prior,
            "has_fact": lambda *keys: all(k in self.dataset.facts for k in keys),
            "has_reason": self.has_reason,
            "three_public": self.three_public,
            "procurement": self.procurement,
            "ratio": self.ratio,
            "threshold": self.threshold,
            "unit_kind": self.unit_kind,
            "quantity": self.quantity,
            "cell": self.cell,
            "children_cells": self.children_cells,
            "abs": abs,
            "contains": lambda text, word: word in (text or ""),
        }

    def quantity(self, name: str) -> Value:
        if name not in self._quantities:
            raise ExprError(f"未定义的量：{name}")
        return self._quantities[name]()

    def define(self, name: str, compute: Callable[[], Value]) -> None:
        self._quantities[name] = compute

    # ---- generators for foreach ----

    def generators(self) -> dict[str, Callable[[], list[dict]]]:
        return {
            "function_parents": self.function_parents,
            "function_items": self.function_items,
            "fiscal_funds": lambda: [{"fund": f} for f in FISCAL_FUNDS],
            "rows": self.rows,
            "parent_cells": self.parent_cells,
        }

    def function_parents(self) -> list[dict]:
        """合计, each 类 and each 款 that has 决算 amounts, for income and for spending."""
        bindings = []
        for direction in (INCOME, SPENDING):
            if not self.ledger.count(direction=direction, phase=ACTUAL):
                continue
            bindings.append({"direction": direction, "code": "", "name": "合计"})
            for digits in (3, 5):
                codes = self.ledger.sum_by_code_level(
                    "function_code", digits, direction=direction, phase=ACTUAL
                )
                for code in sorted(c for c in codes if len(c) == digits):
                    name = self.codes.name(code) or ""
                    bindings.append({"direction": direction, "code": code, "name": name})
        return bindings

    def function_items(self) -> list[dict]:
        """Each 项 with spending in any phase (budget or actual)."""
        codes = self.ledger.values("function_code", direction=SPENDING)
        return [{"code": c, "name": self.codes.name(c) or ""} for c in codes if len(c) == 7]


def _level(digits: int) -> str:
    return {3: "类", 5: "款", 7: "项"}[digits]


def _is_money_fact(key: str) -> bool:
    return FACT_KEYS.get(key) == "amount"

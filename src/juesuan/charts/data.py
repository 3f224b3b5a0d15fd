"""What each of the six figures shows, as values: 万元 figures taken from the statements (the
shown figures after 舍位平衡) and shares computed from the exact 元 values, exactly as the
narrative prints them. Nothing here draws.

The process that draws unpickles these values without reading any data: the ledger and the
narrative are imported only to make them (`chart_specs`), so that a drawer forked as the
command starts imports matplotlib alone.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from juesuan.money import percent, wan

if TYPE_CHECKING:
    from juesuan.ledger.model import Dataset
    from juesuan.statements.model import Cell, Row, Section, Statements, Table

# (key, caption) in the order of 第二部分 of the reference case.
CAPTIONS: tuple[tuple[str, str], ...] = (
    ("figure1", "图1：收、支决算总计变动情况图"),
    ("figure2", "图2：收入决算结构图"),
    ("figure3", "图3：支出决算结构图"),
    ("figure4", "图4：财政拨款收、支决算总计变动情况"),
    ("figure5", "图5：一般公共预算财政拨款支出决算变动情况"),
    ("figure6", "图6：一般公共预算财政拨款支出决算结构"),
)

PRIOR_MISSING = "上年数未提供"
NO_DATA = "本年无数据"
TABLE_HEADERS = ("项目", "金额（万元）", "占比")  # of the value table beside a donut

_NUMBERING = re.compile(r"^[一二三四五六七八九十]+、")


@dataclass(frozen=True)
class Bars:
    """Previous year against this year for one or more totals; amounts in 万元."""

    groups: tuple[str, ...]
    years: tuple[str, str]  # ("2019年", "2020年")
    current: tuple[Decimal, ...]
    prior: tuple[Decimal, ...] | None  # None when last year's figure was not provided

    @property
    def empty(self) -> bool:
        """Nothing this year (last year's bars are still drawn when there are any)."""
        return all(v == 0 for v in self.current)

    @property
    def blank(self) -> bool:
        """Nothing in either year: no bar to draw."""
        return self.empty and all(v == 0 for v in self.prior or ())


@dataclass(frozen=True)
class Slice:
    label: str
    amount: Decimal  # 万元, as shown in the table
    share: Decimal | None  # percent of the total, two places, from 元


@dataclass(frozen=True)
class Pie:
    """Parts of a total; only positive parts are slices. Amounts in 万元."""

    slices: tuple[Slice, ...]
    total: Decimal | None  # the table's shown total

    @property
    def empty(self) -> bool:
        return not self.slices


@dataclass(frozen=True)
class Chart:
    key: str
    caption: str
    data: Bars | Pie
    notes: tuple[str, ...] = ()  # short remarks printed on the figure


def figure_text(chart: Chart) -> str:
    """Every string a figure prints: its caption, labels, groups, years and notes, and the
    value table's headers (which fonts must draw them)."""
    return " ".join([*TABLE_HEADERS, *_strings(chart)])


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [t for f in dataclasses.fields(value) for t in _strings(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [t for item in value for t in _strings(item)]
    return []


def _label(row: Row) -> str:
    return _NUMBERING.sub("", row.label).strip() or row.key


def _cell(table: Table | None, row: str, column: str | None = None) -> Cell | None:
    if table is None:
        return None
    found = table.find(row, column)
    if found is None:
        return None
    _section, found_row, index = found
    return found_row.cells[index] if index < len(found_row.cells) else None


def _shown(cell: Cell | None) -> Decimal:
    return cell.shown if cell is not None and cell.shown is not None else Decimal(0)


def _exact(cell: Cell | None) -> Decimal:
    return cell.exact if cell is not None and cell.exact is not None else Decimal(0)


def _prior(dataset: Dataset, key: str) -> Decimal | None:
    fact = dataset.prior_year.get(key)
    if fact is None:
        return None
    return wan(Decimal(fact.value))


def _years(dataset: Dataset) -> tuple[str, str]:
    year = dataset.unit.year
    return f"{year - 1}年", f"{year}年"


def _bars(
    dataset: Dataset, groups: tuple[str, ...], current: tuple[Decimal, ...], prior_key: str
) -> tuple[Bars, tuple[str, ...]]:
    prior = _prior(dataset, prior_key)
    bars = Bars(
        groups=groups,
        years=_years(dataset),
        current=current,
        prior=None if prior is None else tuple(prior for _ in groups),
    )
    notes = (PRIOR_MISSING,) if prior is None else ()
    return bars, notes


def _pie(parts: list[tuple[str, Cell | None]], total: Cell | None) -> Pie:
    whole = _exact(total)
    slices = tuple(
        Slice(label, _shown(cell), percent(_exact(cell), whole))
        for label, cell in parts
        if _exact(cell) > 0 and _shown(cell) > 0
    )
    return Pie(slices=slices, total=None if total is None else total.shown)


def _income_parts(table: Table | None) -> list[tuple[str, Cell | None]]:
    from juesuan.narrative.facts import INCOME_ROWS

    parts = []
    for key in INCOME_ROWS:
        found = None if table is None else table.find(key)
        if found is not None:
            _section, row, index = found
            parts.append((_label(row), row.cells[index]))
    return parts


def _class_rows(table: Table | None, column: str) -> tuple[Section | None, list[Row], int]:
    if table is None:
        return None, [], 0
    for section in table.sections:
        index = section.column_index(column)
        if index is None:
            continue
        rows = [r for r in section.rows if r.code is not None and len(r.code) == 3]
        if rows:
            return section, rows, index
    return None, [], 0


def chart_specs(dataset: Dataset, statements: Statements) -> list[Chart]:
    """The six figures' contents, in order."""
    from juesuan.narrative.facts import SPENDING_COLUMNS

    summary = statements.table("summary")
    spending = statements.table("spending")
    fiscal = statements.table("fiscal_summary")
    general = statements.table("general")
    captions = dict(CAPTIONS)
    charts: list[Chart] = []

    bars, notes = _bars(
        dataset,
        ("收入总计", "支出总计"),
        (_shown(_cell(summary, "收入总计")), _shown(_cell(summary, "支出总计"))),
        "收支总计",
    )
    charts.append(Chart("figure1", captions["figure1"], bars, notes))

    income = _pie(_income_parts(summary), _cell(summary, "本年收入合计"))
    charts.append(Chart("figure2", captions["figure2"], income))

    spending_parts = [(name, _cell(spending, "合计", name)) for name in SPENDING_COLUMNS]
    spent = _pie(spending_parts, _cell(spending, "合计", "本年支出合计"))
    charts.append(Chart("figure3", captions["figure3"], spent))

    bars, notes = _bars(
        dataset,
        ("财政拨款收入总计", "财政拨款支出总计"),
        (_shown(_cell(fiscal, "收入总计")), _shown(_cell(fiscal, "支出总计"))),
        "财政拨款收支总计",
    )
    charts.append(Chart("figure4", captions["figure4"], bars, notes))

    bars, notes = _bars(
        dataset,
        ("一般公共预算财政拨款支出",),
        (_shown(_cell(general, "合计", "合计")),),
        "一般公共预算财政拨款支出",
    )
    charts.append(Chart("figure5", captions["figure5"], bars, notes))

    _section, rows, index = _class_rows(general, "合计")
    classes = _pie([(_label(r), r.cells[index]) for r in rows], _cell(general, "合计", "合计"))
    charts.append(Chart("figure6", captions["figure6"], classes))

    return [
        Chart(c.key, c.caption, c.data, (*c.notes, NO_DATA)) if c.data.empty else c for c in charts
    ]

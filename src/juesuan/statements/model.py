"""Statement values: tables of cells, each cell with its exact 元 value, the 万元 figure shown after
舍位平衡, and the ledger selections it came from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property


@dataclass(frozen=True)
class Cell:
    exact: Decimal | None  # 元; None for a cell the layout leaves blank
    shown: Decimal | None  # 万元 with two places, after 舍位平衡
    sources: tuple[dict, ...] = ()  # ledger selections (or fact names) behind the value

    @property
    def is_zero(self) -> bool:
        return self.exact is None or self.exact == 0


@dataclass(frozen=True)
class Column:
    key: str  # unique within the section, e.g. "本年支出.合计"
    header: tuple[str, ...]  # header path, top level first, e.g. ("本年支出", "合计")


@dataclass(frozen=True)
class Row:
    key: str  # a code ("2080109") or a label ("本年收入合计")
    label: str  # as printed: "2080109 社会保险经办机构" is printed as code | name
    code: str | None = None
    level: int = 0  # 0 total, 1 类, 2 款, 3 项 (or depth of a labelled row)
    cells: tuple[Cell, ...] = ()
    total: bool = False  # a 合计/总计 row, printed bold


@dataclass(frozen=True)
class Section:
    """One block of a table. Two-sided tables (收入 | 支出) have two sections side by side."""

    name: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    code_header: str | None = None  # "功能分类科目编码" when rows carry codes

    def row(self, key: str) -> Row | None:
        """The first row whose key or label is `key`."""
        return self._rows_by_name.get(key)

    def children(self, parent: Row) -> tuple[Row, ...]:
        """The code rows one level below `parent` whose code starts with its code (every code
        row of that level below a row without a code), in order."""
        return self._rows_below.get((parent.level + 1, parent.code or ""), ())

    # Rules ask for rows and their children thousands of times: both are found once per section.
    @cached_property
    def _rows_by_name(self) -> dict[str, Row]:
        found: dict[str, Row] = {}
        for row in self.rows:
            found.setdefault(row.key, row)
            found.setdefault(row.label, row)
        return found

    @cached_property
    def _rows_below(self) -> dict[tuple[int, str], tuple[Row, ...]]:
        """Code rows by their level and each prefix of their code."""
        found: dict[tuple[int, str], list[Row]] = {}
        for row in self.rows:
            if row.code:
                for length in range(len(row.code) + 1):
                    found.setdefault((row.level, row.code[:length]), []).append(row)
        return {key: tuple(rows) for key, rows in found.items()}

    def column_index(self, key: str) -> int | None:
        for i, column in enumerate(self.columns):
            if column.key == key or column.header[-1] == key:
                return i
        return None


@dataclass(frozen=True)
class Adjustment:
    """A shown figure moved by 舍位平衡 away from its own rounding."""

    table: str
    section: str
    row: str
    column: str
    rounded: Decimal
    shown: Decimal


@dataclass(frozen=True)
class Table:
    id: str  # T01 …
    number: str  # 一、二 … as numbered in the document
    title: str
    unit: str
    sections: tuple[Section, ...]
    note: str = ""
    empty_statement: str = ""
    empty: bool = False  # no non-zero figure: printed with its empty statement
    adjustments: tuple[Adjustment, ...] = ()
    blank_zeros: bool = False  # the format prints a zero amount as an empty cell, not 0.00
    statement_after_note: bool = False  # the empty statement under the note ("说明：…故本表无数据")
    plain_header: bool = False  # only the columns' own heads: no 人员经费 | 公用经费 row, no 项目

    def records(self) -> Iterator[tuple[str, str, str, str, Decimal | None]]:
        """(section, row key, row label, column key, shown) for every cell, in order."""
        for section in self.sections:
            for row in section.rows:
                for column, cell in zip(section.columns, row.cells, strict=True):
                    yield section.name, row.key, row.label, column.key, cell.shown

    def find(self, row: str, column: str | None = None) -> tuple[Section, Row, int] | None:
        for section in self.sections:
            found = section.row(row)
            if found is None:
                continue
            index = 0 if column is None else section.column_index(column)
            if index is not None:
                return section, found, index
        return None


@dataclass(frozen=True)
class Statements:
    format: str
    unit: str
    year: int
    tables: tuple[Table, ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables)

    def table(self, key: str) -> Table | None:
        """The first table whose id or title is `key`."""
        return self._tables_by_name.get(key)

    @cached_property
    def _tables_by_name(self) -> dict[str, Table]:
        found: dict[str, Table] = {}
        for table in self.tables:
            found.setdefault(table.id, table)
            found.setdefault(table.title, table)
        return found

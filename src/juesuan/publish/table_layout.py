"""The printed layout of a statements Table, the same for every renderer (xlsx, docx, pdf, html).

A renderer draws a `TableLayout`; it decides nothing about which cell goes where, what it says,
how it is aligned or merged. Widths are relative: each renderer scales them to its page.

API (stable)
------------

`layout(table, *, unit_name="", year=None) -> TableLayout`

`TableLayout` (frozen):
  - `id`, `number`, `title` — the table's id (T01 / summary …), 一、二 …, official title.
  - `unit` — "万元"; `unit_text` — "单位：万元"; `unit_name` — the 编制单位 given (may be "");
    `org_text` — "编制单位：泸州市…" ("" without a unit name); `year_text` — "2020年度" or "".
  - `note` — "注：本表反映…" (may be ""); `empty` — the table has no non-zero figure;
    `empty_statement` — the statement printed under an empty table ("" when not empty);
    `below` — the two in the order the format prints them (the statement first, or after the note).
  - `columns: tuple[LayoutColumn, ...]` — the grid columns, left to right.
  - `header: tuple[LayoutRow, ...]` — header rows, top first. A header row lists only the cells
    that START in it (as HTML does); a cell covers `rowspan` rows down and `colspan` columns across.
  - `body: tuple[LayoutRow, ...]` — one row per printed line. Body rows list a cell for every grid
    column, except the columns covered by a cell's colspan (a code table's 合计 spans code + name).
  - `rows` — header + body; `header_rows` — len(header); `widths` — each column's width in
    character units; `fractions` — the widths as fractions of the total (sum 1);
    `total_width` — sum of widths.

`LayoutColumn(kind, section, index, width)`:
  - `kind`: "code" | "name" | "label" | "amount"; `section`: index of the Section it belongs to
    (side-by-side tables have several); `index`: the amount column's index in its section's
    `columns` (-1 for text columns); `width`: character units, CJK counting double.

`LayoutRow(cells, header, total)`: `header` — a header row; `total` — a 合计/总计 line (bold).

`LayoutCell(text, column, kind, colspan=1, rowspan=1, value=None, bold=False, indent=0,
align="left", shade=False)`:
  - `text`: what is printed. Header texts are unbroken ("\\n" never added here; use
    `break_lines(text, room)` with the room in the same character units to break between words).
    Amounts are "#,##0.00" ("5,686.09", zero "0.00", a None value "").
  - `column`: the first grid column it occupies (0-based).
  - `kind`: "header" | "code" | "label" | "total-label" | "amount" | "blank". "total-label" is the
    label of a total row (本年收入合计, 总计, a code table's 合计 across code and name); "blank"
    fills a side of a side-by-side table that has no row on this line.
  - `value`: the shown 万元 figure (Decimal) of an amount cell, None when blank.
  - `bold`: header cells and total rows. `indent`: indent level of a label (0, 1, 2 …).
  - `align`: "left" | "center" | "right" — headers centred, amounts right, 合计/总计 centred.
  - `shade`: a body cell printed on the header's grey (the section and column heads inside a
    form, `juesuan.performance.forms`); statements tables never shade body cells.

Forms (`juesuan.document.model.FormBlock`) are TableLayouts built cell by cell: no header rows,
an empty `unit` (no 编制单位/单位 line: `unit_text` and `org_text` are ""), body rows whose cells
may span columns (never rows), text in "label" cells and figures in "amount" cells whose `text`
gives the decimals shown.

Helpers: `display_width(text)` (CJK double), `break_lines(text, room)`, `header_width(text)`,
`break_cost(broken_text)` (breaks inside words), `indents(rows)`,
`amount_text(value)`, `TOTAL_LABELS`, `CELL_SLACK`.

Layout rules (as the official tables print): the header built from `Column.header` paths — the
leaf on the bottom row, a shorter path stretched down, equal prefixes merged across; code tables
get 项目 over 功能分类科目编码 | 科目名称 (not with a plain header: the table's columns' own heads
only); a section without labels (三公) has no 项目 column.
Several sections = side by side under a 收入 | 支出 row (none with a plain header), the rows
before each section's first total aligned from the top and the totals blocks from there on
(本年收入合计 faces 本年支出合计, 总计 faces 总计 on the last line). Code rows are indented by level
below the 类; rows without a code (the 年初/年末 funds too) are not indented.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from juesuan.statements.model import Row, Section, Table

if TYPE_CHECKING:
    from juesuan.document.model import TableBlock

TOTAL_LABELS = ("合计", "总计")
CELL_SLACK = 2.0  # width units a cell keeps free beside its text
MAX_LABEL_WIDTH = 40
MIN_LABEL_WIDTH = 16
MIN_AMOUNT_WIDTH = 11
MIN_CODE_WIDTH = 10


@functools.lru_cache(maxsize=1 << 16)  # the same labels and figures are measured many times
def display_width(text: str) -> int:
    """Width in character units: CJK, full-width and ambiguous characters (“”, as a Chinese
    font draws them) count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def amount_text(value: Decimal | None) -> str:
    """A shown 万元 figure as printed: "#,##0.00" ("5,686.09", "0.00"); None is ""."""
    return "" if value is None else f"{value:,.2f}"


# ---- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayoutColumn:
    kind: str  # "code" | "name" | "label" | "amount"
    section: int
    index: int = -1  # the amount column's index in its section
    width: float = 10.0  # character units


@dataclass(frozen=True)
class LayoutCell:
    text: str
    column: int
    kind: str  # "header" | "code" | "label" | "total-label" | "amount" | "blank"
    colspan: int = 1
    rowspan: int = 1
    value: Decimal | None = None
    bold: bool = False
    indent: int = 0
    align: str = "left"  # "left" | "center" | "right"
    shade: bool = False  # a section or column head inside a form

    @property
    def last_column(self) -> int:
        return self.column + self.colspan - 1


@dataclass(frozen=True)
class LayoutRow:
    cells: tuple[LayoutCell, ...]
    header: bool = False
    total: bool = False


@dataclass(frozen=True)
class TableLayout:
    id: str
    number: str
    title: str
    unit: str
    unit_name: str
    year: int | None
    note: str
    empty: bool
    empty_statement: str  # "" unless the table is empty
    columns: tuple[LayoutColumn, ...]
    header: tuple[LayoutRow, ...]
    body: tuple[LayoutRow, ...]
    statement_after_note: bool = False

    @property
    def below(self) -> tuple[str, ...]:
        """The lines under the table in print order: the note and the empty statement."""
        lines = (self.empty_statement, self.note)
        return tuple(t for t in (lines[::-1] if self.statement_after_note else lines) if t)

    @property
    def rows(self) -> tuple[LayoutRow, ...]:
        return self.header + self.body

    @property
    def header_rows(self) -> int:
        return len(self.header)

    @property
    def widths(self) -> tuple[float, ...]:
        return tuple(c.width for c in self.columns)

    @property
    def total_width(self) -> float:
        return sum(self.widths)

    @property
    def fractions(self) -> tuple[float, ...]:
        total = self.total_width
        return tuple(w / total for w in self.widths)

    @property
    def unit_text(self) -> str:
        return f"单位：{self.unit}" if self.unit else ""

    @property
    def org_text(self) -> str:
        return f"编制单位：{self.unit_name}" if self.unit_name else ""

    @property
    def year_text(self) -> str:
        return f"{self.year}年度" if self.year is not None else ""


# ---- layout ----------------------------------------------------------------------------------


def block_layout(block: TableBlock, unit_name: str, year: int) -> TableLayout:
    """A document's table laid out with the lines its format prints under the title: 编制单位,
    year and 单位, or 单位 alone (`unit_only`)."""
    if block.unit_only:
        return layout(block.table)
    return layout(block.table, unit_name=unit_name, year=year)


def layout(table: Table, *, unit_name: str = "", year: int | None = None) -> TableLayout:
    """The grid of `table`: columns with widths, header rows with merges, body rows."""
    sections = table.sections
    # side by side: a 收入 | 支出 row above each block's own header, unless the header is plain
    grouped = len(sections) > 1 and not table.plain_header
    depth = max(_section_depth(s, table.plain_header) for s in sections)
    top = 1 if grouped else 0
    columns: list[LayoutColumn] = []
    spans: list[tuple[int, LayoutCell]] = []  # (header row, cell)
    for number, section in enumerate(sections):
        first = len(columns)
        columns.extend(_section_columns(number, section))
        spans.extend(_section_header(section, first, top, depth, table.plain_header))
        if grouped:
            spans.append((0, _header_cell(section.name, 0, first, 0, len(columns) - 1)))
    header = tuple(
        LayoutRow(
            tuple(sorted((c for r, c in spans if r == row), key=lambda c: c.column)), header=True
        )
        for row in range(top + depth)
    )
    body = tuple(
        _body_row(columns, line, indents, table.blank_zeros) for line, indents in _lines(sections)
    )
    return TableLayout(
        id=table.id,
        number=table.number,
        title=table.title,
        unit=table.unit,
        unit_name=unit_name,
        year=year,
        note=table.note,
        empty=table.empty,
        empty_statement=table.empty_statement if table.empty else "",
        columns=tuple(columns),
        header=header,
        body=body,
        statement_after_note=table.statement_after_note,
    )


def _section_depth(section: Section, plain: bool = False) -> int:
    depth = max((len(c.header) for c in section.columns), default=1)
    return max(depth, 2) if section.code_header and not plain else depth


def _has_labels(section: Section) -> bool:
    return any(r.label for r in section.rows)


def _section_columns(number: int, section: Section) -> list[LayoutColumn]:
    columns: list[LayoutColumn] = []
    if section.code_header:
        codes = [r.code for r in section.rows if r.code]
        code_width = max(
            [display_width(c) + 3 for c in codes]
            + [header_width(section.code_header), MIN_CODE_WIDTH]
        )
        columns.append(LayoutColumn("code", number, width=code_width))
        columns.append(LayoutColumn("name", number, width=_label_width(section, "科目名称")))
    elif _has_labels(section):
        columns.append(LayoutColumn("label", number, width=_label_width(section, "项目")))
    for index, column in enumerate(section.columns):
        figures = [
            display_width(amount_text(r.cells[index].shown))
            for r in section.rows
            if index < len(r.cells) and r.cells[index].shown is not None
        ]
        leaf = header_width(column.header[-1]) if column.header else 0
        width = max([*(f + 3 for f in figures), leaf, MIN_AMOUNT_WIDTH])
        columns.append(LayoutColumn("amount", number, index, width))
    return columns


def _label_width(section: Section, heading: str) -> float:
    widths = [display_width(heading) + 2]
    for row, indent in zip(section.rows, indents(section.rows), strict=True):
        if row.total and row.label in TOTAL_LABELS:
            continue
        widths.append(display_width(row.label) + 2 * (indent + 1) + CELL_SLACK)
    return min(max([*widths, MIN_LABEL_WIDTH]), MAX_LABEL_WIDTH)


def indents(rows: Sequence[Row]) -> list[int]:
    """Indent levels: code rows by their level below the 类; rows without a code are not
    indented — the 年初/年末 funds under their 结转和结余 line start at the cell's edge, as
    published (Shanghai 2024 template, Putuo 2024), their 一、二、三、 marking them."""
    return [max(row.level - 1, 0) if row.code else 0 for row in rows]


def _header_cell(text: str, first_row: int, first_col: int, last_row: int, last_col: int):
    return LayoutCell(
        text,
        first_col,
        "header",
        colspan=last_col - first_col + 1,
        rowspan=last_row - first_row + 1,
        bold=True,
        align="center",
    )


def _section_header(
    section: Section, first: int, top: int, depth: int, plain: bool = False
) -> list[tuple[int, LayoutCell]]:
    """The section's header cells with their rows: 项目 over code | name, then the amount
    columns' paths, the leaf on the bottom row, a shorter path stretched down, equal prefixes
    merged across."""
    spans: list[tuple[int, LayoutCell]] = []
    bottom = top + depth - 1
    offset = first
    if section.code_header and plain:
        spans.append((top, _header_cell(section.code_header, top, offset, bottom, offset)))
        spans.append((top, _header_cell("科目名称", top, offset + 1, bottom, offset + 1)))
        offset += 2
    elif section.code_header:
        spans.append((top, _header_cell("项目", top, offset, bottom - 1, offset + 1)))
        spans.append((bottom, _header_cell(section.code_header, bottom, offset, bottom, offset)))
        spans.append((bottom, _header_cell("科目名称", bottom, offset + 1, bottom, offset + 1)))
        offset += 2
    elif _has_labels(section):
        spans.append((top, _header_cell("项目", top, offset, bottom, offset)))
        offset += 1
    count = len(section.columns)
    keys = [[_header_key(c.header, row, depth, i) for i, c in enumerate(section.columns)]
            for row in range(depth)]  # fmt: skip
    done = [[False] * count for _ in range(depth)]
    for row in range(depth):
        for col in range(count):
            if done[row][col]:
                continue
            key = keys[row][col]
            right = col
            while right + 1 < count and keys[row][right + 1] == key:
                right += 1
            down = row
            while down + 1 < depth and all(keys[down + 1][c] == key for c in range(col, right + 1)):
                down += 1
            for r in range(row, down + 1):
                for c in range(col, right + 1):
                    done[r][c] = True
            cell = _header_cell(key[-1], top + row, offset + col, top + down, offset + right)
            spans.append((top + row, cell))
    return spans


def _header_key(path: tuple[str, ...], row: int, depth: int, column: int) -> tuple:
    """What covers `row` of a column's header: a prefix of its path (shared with neighbours)
    or its own leaf. The leaf sits on the bottom row; the last prefix stretches to meet it."""
    if len(path) <= 1 or row >= depth - 1:
        return ("leaf", column, path[-1] if path else "")
    level = min(row, len(path) - 2)
    return ("prefix", *path[: level + 1])


def _lines(
    sections: Sequence[Section],
) -> list[tuple[tuple[Row | None, ...], tuple[int, ...]]]:
    """Body lines with each side's indent. One section: its rows. Side by side: the rows before
    each section's first total line up from the top, and the totals blocks (本年收入合计 … 总计)
    from there on, so 本年收入合计 faces 本年支出合计 and 总计 faces 总计: a shorter block is padded
    above its last line (the 财政拨款总表 prints 年初 by fund, not 年末)."""
    levels = [dict(zip(map(id, s.rows), indents(s.rows), strict=True)) for s in sections]
    if len(sections) == 1:
        aligned: list[tuple[Row | None, ...]] = [(r,) for r in sections[0].rows]
    else:
        heads, tails = [], []
        for section in sections:
            rows = list(section.rows)
            cut = next((i for i, r in enumerate(rows) if r.total), len(rows))
            heads.append(rows[:cut])
            tails.append(rows[cut:])
        head = max(len(h) for h in heads)
        tail = max(len(t) for t in tails)
        padded = [
            [*h, *([None] * (head - len(h))), *t[:-1], *([None] * (tail - len(t))), *t[-1:]]
            for h, t in zip(heads, tails, strict=True)
        ]
        aligned = list(zip(*padded, strict=True))
    return [
        (line, tuple(0 if r is None else levels[i][id(r)] for i, r in enumerate(line)))
        for line in aligned
    ]


def _body_row(
    columns: Sequence[LayoutColumn],
    line: tuple[Row | None, ...],
    levels: tuple[int, ...],
    blank_zeros: bool = False,
) -> LayoutRow:
    cells: list[LayoutCell] = []
    position = 0
    while position < len(columns):
        column = columns[position]
        row = line[column.section]
        cell = _body_cell(position, column, row, levels[column.section], blank_zeros)
        cells.append(cell)
        position += cell.colspan
    return LayoutRow(tuple(cells), total=any(r is not None and r.total for r in line))


def _body_cell(
    position: int, column: LayoutColumn, row: Row | None, indent: int, blank_zeros: bool = False
) -> LayoutCell:
    if row is None:  # the shorter side of a side-by-side table
        align = "right" if column.kind == "amount" else "left"
        return LayoutCell("", position, "blank", align=align)
    bold = row.total
    if column.kind == "amount":
        cell = row.cells[column.index] if column.index < len(row.cells) else None
        value = None if cell is None else cell.shown
        if value == 0 and blank_zeros:  # the format leaves a zero amount blank
            value = None
        return LayoutCell(amount_text(value), position, "amount", value=value, bold=bold,
                          align="right")  # fmt: skip
    if row.code is None and row.total and column.kind == "code":
        # A total of a code table (合计, 人员经费合计): its label across code and name.
        return LayoutCell(row.label, position, "total-label", colspan=2, bold=True,
                          align="center")  # fmt: skip
    if column.kind == "code":
        return LayoutCell(row.code or "", position, "code", bold=bold)
    align = "center" if row.total and row.label in TOTAL_LABELS else "left"
    kind = "total-label" if row.total else "label"
    return LayoutCell(row.label, position, kind, bold=bold, indent=indent, align=align)


# ---- header text -----------------------------------------------------------------------------

# Where a header may break between lines: after these words, or before these.
BREAK_AFTER = (
    "预算", "拨款", "支出", "收入", "结余", "结转", "补助", "经费", "经营", "单位", "分类", "科目",
    "合计", "费", "和", "及",
)  # fmt: skip
BREAK_BEFORE = ("（", "财政", "和", "及")
NO_LINE_START = "）)”’、，。：；"
NO_LINE_END = "（(“‘"


@functools.lru_cache(maxsize=4096)  # the renderers ask again for each size they try: once each
def break_lines(text: str, room: float) -> str:
    """The header text with line breaks so that it fits a cell `room` characters wide: as few
    lines as possible, broken between words where it can, balanced; unchanged if it fits."""
    usable = room - CELL_SLACK
    if display_width(text) <= usable or "\n" in text:
        return text
    best = None
    for count in (2, 3, 4):
        for parts in _splits(text, count):
            widths = [display_width(p) for p in parts]
            if max(widths) > usable:
                continue
            score = (_awkward_breaks(parts), max(widths))
            if best is None or score < best[0]:
                best = (score, parts)
        if best is not None:
            return "\n".join(best[1])
    return text


def break_cost(text: str) -> int:
    """How many of the line breaks in a broken header text ("\\n") fall inside a word."""
    return _awkward_breaks(text.split("\n"))


def header_width(text: str) -> float:
    """A column width for a header text: one line up to 12 units, else its best two lines."""
    width = display_width(text)
    if width <= 12:
        return width + CELL_SLACK
    options = [
        max(display_width(p) for p in parts) + 3 * _awkward_breaks(parts)
        for parts in _splits(text, 2)
    ]
    return min(options, default=width) + CELL_SLACK


def _splits(text: str, count: int) -> Iterable[tuple[str, ...]]:
    if count == 1:
        yield (text,)
        return
    for cut in range(1, len(text) - count + 2):
        head = text[:cut]
        if head[-1] in NO_LINE_END or text[cut] in NO_LINE_START:
            continue
        for rest in _splits(text[cut:], count - 1):
            yield (head, *rest)


def _awkward_breaks(parts: Sequence[str]) -> int:
    """How many breaks fall inside a word (not after BREAK_AFTER nor before BREAK_BEFORE)."""
    return sum(
        1
        for left, right in itertools.pairwise(parts)
        if not left.endswith(BREAK_AFTER) and not right.startswith(BREAK_BEFORE)
    )

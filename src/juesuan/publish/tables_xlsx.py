"""The tables workbook: one printable sheet per table of a disclosure's Statements.

Each sheet carries the official title, the 编制单位 / year / 单位 lines, the multi-row header built
from the columns' header paths (merged like the official tables), the rows with codes as text and
shown 万元 figures as real numbers, the note, and the empty-table statement when the table is
empty. Print setup: A4; on one page when it still reads well, in the orientation that prints it
larger, else one page wide with the header repeated on every page.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from juesuan.files import replaced
from juesuan.ledger.model import Unit
from juesuan.statements.model import Row, Section, Statements, Table

DRAFT_MARK = "草稿（未通过审核，不得公开）"
BODY_FONT = "宋体"  # SimSun; names only, the reading program substitutes what it has
TITLE_FONT = "黑体"  # SimHei
BODY_SIZE = 10
# Not a theme font (so a theme never replaces it); GB2312 character set, as Chinese Excel writes.
FONT = {"font_name": BODY_FONT, "font_scheme": "none", "font_charset": 134}
TITLE_SIZE = 16
MONEY_FORMAT = "#,##0.00"
LINE_POINTS = 13.0  # height of one line of 10 pt text
ROW_PADDING = 5.0
CELL_SLACK = 2.0  # width units a cell keeps free beside its text
MIN_ROW_POINTS = 18.0  # title lines and header rows
BODY_ROW_POINTS = 15.0
MARGIN_INCHES = 0.5  # left and right
TOP_INCHES = 0.75  # top and bottom, with room for the page header and footer
# A4 (210 × 297 mm) inside the margins, (width, height) in millimetres.
PORTRAIT_PAGE = (210 - 2 * MARGIN_INCHES * 25.4, 297 - 2 * TOP_INCHES * 25.4)
LANDSCAPE_PAGE = (297 - 2 * MARGIN_INCHES * 25.4, 210 - 2 * TOP_INCHES * 25.4)
# Landscape is chosen only when it prints at least this much larger than portrait.
PORTRAIT_SLACK = 1.02
# A table is shrunk onto one page only down to this scale (10 pt → 7.5 pt).
MIN_SCALE = 0.75
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
TOTAL_LABELS = ("合计", "总计")


def write_tables(statements: Statements, unit: Unit, path: Path, *, draft: bool = False) -> None:
    """Write one sheet per table of `statements` to `path` (XLSX), renamed into place when done.

    `draft` marks every page as a draft (page header and a red line under the title).
    """
    with replaced(path) as temporary:
        book = xlsxwriter.Workbook(
            temporary,
            {"default_format_properties": {**FONT, "font_size": BODY_SIZE}},
        )
        styles = _Styles(book)
        used: set[str] = set()
        for table in statements:
            sheet = book.add_worksheet(sheet_name(table, used))
            _write_table(sheet, table, styles, unit.name, statements.year, draft=draft)
        book.close()


def sheet_name(table: Table, used: set[str] | None = None) -> str:
    """The sheet's name, e.g. "一 收入支出决算总表": number and title, at most 31 characters,
    none that Excel forbids, unique within `used` (which it extends)."""
    name = SHEET_NAME_FORBIDDEN.sub("", f"{table.number} {table.title}").strip("' ")
    name = name[:SHEET_NAME_MAX] or table.id
    if used is not None:
        base, n = name, 2
        while name.casefold() in used:
            suffix = f"({n})"
            name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
            n += 1
        used.add(name.casefold())
    return name


def display_width(text: str) -> int:
    """Width in character units: CJK, full-width and ambiguous characters (“”, as a Chinese
    font draws them) count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


# ---- layout ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    kind: str  # "code" | "name" | "label" | "amount"
    section: int
    index: int = -1  # the amount column's index in its section
    width: float = 10.0


@dataclass(frozen=True)
class _Span:
    """A header cell, rows and columns inclusive and relative to the header's top-left."""

    text: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int


@dataclass(frozen=True)
class _Layout:
    columns: tuple[_Column, ...]
    header: tuple[_Span, ...]
    header_rows: int
    lines: tuple[tuple[Row | None, ...], ...]  # body lines; one row (or a gap) per section

    @property
    def width_mm(self) -> float:
        # Excel draws a column of width w at w × 7 + 5 pixels (default font), at 96 pixels per inch.
        return sum((c.width * 7 + 5) * 25.4 / 96 for c in self.columns)


def layout(table: Table) -> _Layout:
    """Columns, header spans and body lines of a table, sections side by side."""
    sections = table.sections
    grouped = len(sections) > 1  # side by side: a 收入 | 支出 row above each block's own header
    depth = max(_section_depth(s) for s in sections)
    columns: list[_Column] = []
    header: list[_Span] = []
    top = 1 if grouped else 0
    for number, section in enumerate(sections):
        first = len(columns)
        columns.extend(_section_columns(number, section))
        header.extend(_section_header(section, first, top, depth))
        if grouped:
            header.append(_Span(section.name, 0, first, 0, len(columns) - 1))
    columns = _widen_for_title(columns, table.title)
    return _Layout(tuple(columns), tuple(header), top + depth, _align_lines(sections))


def _section_depth(section: Section) -> int:
    depth = max((len(c.header) for c in section.columns), default=1)
    return max(depth, 2) if section.code_header else depth


def _has_labels(section: Section) -> bool:
    return any(r.label for r in section.rows)


def _section_columns(number: int, section: Section) -> list[_Column]:
    columns: list[_Column] = []
    if section.code_header:
        codes = [r.code for r in section.rows if r.code]
        code_width = max(
            [display_width(c) + 3 for c in codes] + [header_width(section.code_header), 10]
        )
        columns.append(_Column("code", number, width=code_width))
        columns.append(_Column("name", number, width=_label_width(section, "科目名称")))
    elif _has_labels(section):
        columns.append(_Column("label", number, width=_label_width(section, "项目")))
    for index, column in enumerate(section.columns):
        figures = [
            display_width(f"{r.cells[index].shown:,.2f}")
            for r in section.rows
            if index < len(r.cells) and r.cells[index].shown is not None
        ]
        leaf = header_width(column.header[-1]) if column.header else 0
        width = max([*(f + 3 for f in figures), leaf, 11])
        columns.append(_Column("amount", number, index, width))
    return columns


def _label_width(section: Section, heading: str) -> float:
    widths = [display_width(heading) + 2]
    for row, indent in zip(section.rows, _indents(section.rows), strict=True):
        if row.total and row.label in TOTAL_LABELS:
            continue
        widths.append(display_width(row.label) + 2 * (indent + 1) + CELL_SLACK)
    return min(max([*widths, 16]), 40)


def _indents(rows: Sequence[Row]) -> list[int]:
    """Indent levels: code rows by their level below the 类; a level-1 row listed after a
    total (the 年初/年末 funds under their 结转和结余 line) is a breakdown of that total."""
    indents = []
    after_total = False
    for row in rows:
        if row.code:
            indents.append(max(row.level - 1, 0))
        else:
            indents.append(1 if after_total and row.level >= 1 and not row.total else 0)
        after_total = after_total or row.total
    return indents


def _section_header(section: Section, first: int, top: int, depth: int) -> list[_Span]:
    """The section's header spans: 项目 over code | name, then the amount columns' paths, the leaf
    on the bottom row, a shorter path stretched down, equal prefixes merged across."""
    spans: list[_Span] = []
    bottom = top + depth - 1
    offset = first
    if section.code_header:
        spans.append(_Span("项目", top, offset, bottom - 1, offset + 1))
        spans.append(_Span(section.code_header, bottom, offset, bottom, offset))
        spans.append(_Span("科目名称", bottom, offset + 1, bottom, offset + 1))
        offset += 2
    elif _has_labels(section):
        spans.append(_Span("项目", top, offset, bottom, offset))
        offset += 1
    keys: list[list[tuple]] = []  # keys[row][column]: equal keys side by side merge
    for row in range(depth):
        keys.append([_header_key(c.header, row, depth, i) for i, c in enumerate(section.columns)])
    done = [[False] * len(section.columns) for _ in range(depth)]
    for row in range(depth):
        for col in range(len(section.columns)):
            if done[row][col]:
                continue
            key = keys[row][col]
            right = col
            while right + 1 < len(section.columns) and keys[row][right + 1] == key:
                right += 1
            down = row
            while down + 1 < depth and all(keys[down + 1][c] == key for c in range(col, right + 1)):
                down += 1
            for r in range(row, down + 1):
                for c in range(col, right + 1):
                    done[r][c] = True
            spans.append(_Span(key[-1], top + row, offset + col, top + down, offset + right))
    return spans


def _header_key(path: tuple[str, ...], row: int, depth: int, column: int) -> tuple:
    """What covers `row` of a column's header: a prefix of its path (shared with neighbours)
    or its own leaf. The leaf sits on the bottom row; the last prefix stretches to meet it."""
    if len(path) <= 1 or row >= depth - 1:
        return ("leaf", column, path[-1] if path else "")
    level = min(row, len(path) - 2)
    return ("prefix", *path[: level + 1])


def _align_lines(sections: Sequence[Section]) -> tuple[tuple[Row | None, ...], ...]:
    """Body lines. One section: its rows. Side by side: the rows before each section's first
    total line up from the top, and the totals blocks (本年收入合计 … 总计) from there on, so
    本年收入合计 faces 本年支出合计 and 总计 faces 总计."""
    if len(sections) == 1:
        return tuple((r,) for r in sections[0].rows)
    heads, tails = [], []
    for section in sections:
        rows = list(section.rows)
        cut = next((i for i, r in enumerate(rows) if r.total), len(rows))
        heads.append(rows[:cut])
        tails.append(rows[cut:])
    head = max(len(h) for h in heads)
    tail = max(len(t) for t in tails)
    padded = [
        [*h, *([None] * (head - len(h))), *t, *([None] * (tail - len(t)))]
        for h, t in zip(heads, tails, strict=True)
    ]
    return tuple(zip(*padded, strict=True))


def _widen_for_title(columns: list[_Column], title: str) -> list[_Column]:
    """Widen the text columns of a narrow table so that its title fits on one line."""
    need = display_width(title) * TITLE_SIZE / BODY_SIZE + 4
    have = sum(c.width for c in columns)
    texts = [i for i, c in enumerate(columns) if c.kind in ("name", "label")]
    if have >= need or not texts:
        return columns
    extra = (need - have) / len(texts)
    return [replace(c, width=c.width + extra) if i in texts else c for i, c in enumerate(columns)]


# ---- header text -----------------------------------------------------------------------------

# Where a header may break between lines: after these words, or before these.
BREAK_AFTER = (
    "预算", "拨款", "支出", "收入", "结余", "结转", "补助", "经费", "经营", "单位", "分类", "科目",
    "合计", "费", "和", "及",
)  # fmt: skip
BREAK_BEFORE = ("（", "财政", "和", "及")
NO_LINE_START = "）)”’、，。：；"
NO_LINE_END = "（(“‘"


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


def _lines(text: str, room: float) -> int:
    """Lines a (wrapped) text needs in a cell `room` characters wide."""
    usable = max(room - CELL_SLACK, 1.0)
    return sum(max(1, math.ceil(display_width(line) / usable)) for line in text.split("\n"))


# ---- page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSetup:
    landscape: bool
    one_page: bool  # fit the whole table on one page; otherwise one page wide, as long as needed
    scale: float  # the estimated print scale


def page_setup(width_mm: float, height_points: float) -> PageSetup:
    """Orientation and fitting for a table of this size on A4.

    One page when an orientation prints it whole at MIN_SCALE or more (or at the scale its width
    needs anyway), in the orientation that prints it larger (portrait on a tie). Otherwise one
    page wide over several pages, oriented by width alone.
    """
    height_mm = height_points * 25.4 / 72
    options = {}
    for landscape, (page_w, page_h) in ((False, PORTRAIT_PAGE), (True, LANDSCAPE_PAGE)):
        across = min(1.0, page_w / width_mm)
        options[landscape] = (across, min(across, page_h / height_mm))
    widest = max(a for a, _ in options.values())

    def choose(index: int) -> bool:
        return options[True][index] > options[False][index] * PORTRAIT_SLACK

    landscape = choose(1)
    whole = options[landscape][1]
    if whole >= min(MIN_SCALE, widest):
        return PageSetup(landscape, True, whole)
    landscape = choose(0)
    return PageSetup(landscape, False, options[landscape][0])


# ---- writing ---------------------------------------------------------------------------------


class _Styles:
    """Cell formats, made once per workbook and shared by every sheet."""

    def __init__(self, book: Workbook):
        self.book = book
        self.cache: dict[tuple, Format] = {}

    def get(self, **properties: object) -> Format:
        key = tuple(sorted(properties.items()))
        if key not in self.cache:
            base = {**FONT, "font_size": BODY_SIZE, "valign": "vcenter"}
            self.cache[key] = self.book.add_format({**base, **properties})
        return self.cache[key]

    def text(self, *, bold: bool = False, align: str = "left", indent: int = 0) -> Format:
        # Left-aligned text keeps one indent step off the border, as the figures do on the right.
        indent += 1 if align == "left" else 0
        return self.get(border=1, bold=bold, align=align, indent=indent, text_wrap=True)

    def money(self, *, bold: bool = False) -> Format:
        return self.get(border=1, bold=bold, num_format=MONEY_FORMAT, align="right", indent=1)

    def header(self) -> Format:
        return self.get(border=1, bold=True, align="center", text_wrap=True)


class _Sheet:
    """One table written to one worksheet, top to bottom, keeping each row's height."""

    def __init__(self, sheet: Worksheet, styles: _Styles, widths: Sequence[float]):
        self.sheet = sheet
        self.styles = styles
        self.widths = list(widths)
        self.last = len(widths) - 1
        self.heights: list[float] = []

    def room(self, first: int, last: int) -> float:
        return sum(self.widths[first : last + 1])

    def put(self, row: int, first: int, last: int, text: str, fmt: Format, rows: int = 1) -> None:
        if rows == 1 and first == last:
            self.sheet.write_string(row, first, text, fmt)
        else:
            self.sheet.merge_range(row, first, row + rows - 1, last, text, fmt)

    def set_heights(self, heights: Sequence[float]) -> None:
        for height in heights:
            self.sheet.set_row(len(self.heights), height)
            self.heights.append(height)

    def line(
        self, text: str, fmt: Format, *, size: float = BODY_SIZE, padding: float = ROW_PADDING
    ) -> None:
        """A text across the whole table width (title, notes), as tall as it needs."""
        row = len(self.heights)
        self.put(row, 0, self.last, text, fmt)
        scale = size / BODY_SIZE
        lines = _lines(text, self.room(0, self.last) / scale)
        self.set_heights([max(MIN_ROW_POINTS, lines * LINE_POINTS * scale + padding)])


def _write_table(
    sheet: Worksheet, table: Table, styles: _Styles, unit_name: str, year: int, *, draft: bool
) -> None:
    shape = layout(table)
    out = _Sheet(sheet, styles, [c.width for c in shape.columns])
    for index, width in enumerate(out.widths):
        sheet.set_column(index, index, width)

    # Title (a red line under it in a draft), year, 编制单位 … 单位.
    title = styles.get(
        font_name=TITLE_FONT,
        font_size=TITLE_SIZE,
        bold=True,
        align="center",
        text_wrap=True,
        **({"bottom": 5, "bottom_color": "#FF0000"} if draft else {}),
    )
    out.line(table.title, title, size=TITLE_SIZE, padding=14)
    out.line(f"{year}年度", styles.get(align="center"))
    _write_unit_line(out, unit_name, f"单位：{table.unit}")

    # Header.
    start = len(out.heights)
    heights = [MIN_ROW_POINTS + 2] * shape.header_rows
    for span in sorted(shape.header, key=lambda s: s.last_row - s.first_row):
        room = out.room(span.first_col, span.last_col)
        text = break_lines(span.text, room)
        rows = span.last_row - span.first_row + 1
        out.put(start + span.first_row, span.first_col, span.last_col, text, styles.header(), rows)
        need = _lines(text, room) * LINE_POINTS + ROW_PADDING
        have = sum(heights[span.first_row : span.last_row + 1])
        if need > have:
            heights[span.last_row] += need - have
    out.set_heights(heights)
    header_end = len(out.heights) - 1

    # Body.
    indents: dict[int, int] = {}
    for section in table.sections:
        indents.update(zip(map(id, section.rows), _indents(section.rows), strict=True))
    for line in shape.lines:
        row_number = len(out.heights)
        height = BODY_ROW_POINTS
        for position, column in enumerate(shape.columns):
            row = line[column.section]
            indent = indents.get(id(row), 0)
            text = _write_cell(out, row_number, position, column, row, indent)
            if text:
                room = out.widths[position] - 2 * (indent + 1)
                lines = _lines(text, room)
                if lines > 1:
                    height = max(height, lines * LINE_POINTS + ROW_PADDING)
        out.set_heights([height])

    # Under the table: the empty-table statement, then the note.
    plain = styles.get(align="left", text_wrap=True)
    if table.empty and table.empty_statement:
        out.line(table.empty_statement, plain)
    if table.note:
        out.line(table.note, plain)

    # Print.
    setup = page_setup(shape.width_mm, sum(out.heights))
    sheet.set_paper(9)  # A4
    if setup.landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 1 if setup.one_page else 0)
    sheet.set_margins(left=MARGIN_INCHES, right=MARGIN_INCHES, top=TOP_INCHES, bottom=TOP_INCHES)
    sheet.center_horizontally()
    sheet.repeat_rows(0, header_end)
    sheet.freeze_panes(header_end + 1, 0)
    sheet.set_footer(f'&C&"{BODY_FONT}"&9第 &P 页，共 &N 页', {"margin": 0.3})
    if draft:
        sheet.set_header(f'&C&"{TITLE_FONT},Bold"&14&KFF0000{DRAFT_MARK}', {"margin": 0.3})


def _write_unit_line(out: _Sheet, unit_name: str, unit_text: str) -> None:
    """编制单位 on the left, 单位 on the right (in the last column, or the last two)."""
    right = out.last
    if out.last >= 2 and out.widths[right] < display_width(unit_text) + 1:
        right -= 1
    row = len(out.heights)
    left_text = f"编制单位：{unit_name}"
    if right == 0:  # a one-column table: both on one line
        out.line(f"{left_text}　　{unit_text}", out.styles.get(align="left", text_wrap=True))
        return
    out.put(row, 0, right - 1, left_text, out.styles.get(align="left", text_wrap=True))
    out.put(row, right, out.last, unit_text, out.styles.get(align="right"))
    lines = _lines(left_text, out.room(0, right - 1))
    out.set_heights([max(MIN_ROW_POINTS, lines * LINE_POINTS + ROW_PADDING)])


def _write_cell(
    out: _Sheet, row_number: int, position: int, column: _Column, row: Row | None, indent: int
) -> str:
    """Write one body cell; return its text when it is a wrapping text (for the row height)."""
    sheet, styles = out.sheet, out.styles
    if row is None:  # the shorter side of a side-by-side table
        fmt = styles.money() if column.kind == "amount" else styles.text()
        sheet.write_blank(row_number, position, None, fmt)
        return ""
    bold = row.total
    if column.kind == "amount":
        cell = row.cells[column.index] if column.index < len(row.cells) else None
        fmt = styles.money(bold=bold)
        if cell is None or cell.shown is None:
            sheet.write_blank(row_number, position, None, fmt)
        else:
            # XlsxWriter takes a float: a 2-place Decimal under 10^13 round-trips exactly.
            sheet.write_number(row_number, position, float(cell.shown), fmt)
        return ""
    if row.code is None and row.total and column.kind in ("code", "name"):
        # A total of a code table (合计, 人员经费合计): its label across code and name.
        if column.kind == "code":
            fmt = styles.text(bold=True, align="center")
            sheet.merge_range(row_number, position, row_number, position + 1, row.label, fmt)
        return ""
    if column.kind == "code":
        sheet.write_string(row_number, position, row.code or "", styles.text(bold=bold))
        return ""
    align = "center" if row.total and row.label in TOTAL_LABELS else "left"
    sheet.write_string(
        row_number, position, row.label, styles.text(bold=bold, align=align, indent=indent)
    )
    return row.label

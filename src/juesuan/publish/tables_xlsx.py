"""The tables workbook: one printable sheet per table of a disclosure's Statements.

Each sheet carries the official title, the 编制单位 / year / 单位 lines, the multi-row header built
from the columns' header paths (merged like the official tables), the rows with codes as text and
shown 万元 figures as real numbers, the note, and the empty-table statement when the table is
empty. Print setup: A4; on one page when it still reads well, in the orientation that prints it
larger, else one page wide with the header repeated on every page. Which cell goes where (merged
header, two-sided alignment, indents, bold totals) is `juesuan.publish.table_layout`'s, shared
with the other renderers; this module draws it on a worksheet.

After the tables come the document's forms (`forms`: the 项目绩效目标完成情况表, the 部门整体支出
绩效自评评分表, the 项目支出绩效自评表), a sheet for each kind with its forms one under another,
each starting a printed page; their figures are numbers too, with the decimals the form shows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from juesuan.files import replaced
from juesuan.ledger.model import Unit
from juesuan.publish.table_layout import (
    CELL_SLACK,
    LayoutCell,
    LayoutRow,
    TableLayout,
    break_lines,
    display_width,
    layout,
)
from juesuan.statements.model import Statements, Table

__all__ = ["DRAFT_MARK", "break_lines", "display_width", "page_setup", "sheet_name", "write_tables"]

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


def write_tables(
    statements: Statements,
    unit: Unit,
    path: Path,
    *,
    draft: bool = False,
    forms: Iterable[tuple[str, Sequence[TableLayout]]] = (),
) -> None:
    """Write one sheet per table of `statements` to `path` (XLSX), renamed into place when done.

    `forms` are (sheet name, forms) pairs: each becomes one more sheet with its forms one under
    another. `draft` marks every page as a draft (page header and a red line under the title).
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
        for name, layouts in forms:
            if layouts:
                sheet = book.add_worksheet(_unique_name(name, used))
                _write_forms(sheet, layouts, styles, draft=draft)
        book.close()


def sheet_name(table: Table, used: set[str] | None = None) -> str:
    """The sheet's name, e.g. "一 收入支出决算总表": number and title, at most 31 characters,
    none that Excel forbids, unique within `used` (which it extends)."""
    name = SHEET_NAME_FORBIDDEN.sub("", f"{table.number} {table.title}").strip("' ")
    name = name[:SHEET_NAME_MAX] or table.id
    return _unique_name(name, used) if used is not None else name


def _unique_name(name: str, used: set[str]) -> str:
    name = SHEET_NAME_FORBIDDEN.sub("", name).strip("' ")[:SHEET_NAME_MAX] or "Sheet"
    base, n = name, 2
    while name.casefold() in used:
        suffix = f"({n})"
        name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    used.add(name.casefold())
    return name


# ---- layout (juesuan.publish.table_layout) ---------------------------------------------------


def _widths(shape: TableLayout) -> list[float]:
    """Column widths, the text columns of a narrow table widened so that its title (merged
    across the sheet, in the larger title font) fits on one line."""
    widths = list(shape.widths)
    need = display_width(shape.title) * TITLE_SIZE / BODY_SIZE + 4
    have = sum(widths)
    texts = [i for i, c in enumerate(shape.columns) if c.kind in ("name", "label")]
    if have >= need or not texts:
        return widths
    extra = (need - have) / len(texts)
    return [w + extra if i in texts else w for i, w in enumerate(widths)]


def _width_mm(widths: Sequence[float]) -> float:
    # Excel draws a column of width w at w × 7 + 5 pixels (default font), at 96 pixels per inch.
    return sum((w * 7 + 5) * 25.4 / 96 for w in widths)


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
    shape = layout(table, unit_name=unit_name, year=year)
    out = _Sheet(sheet, styles, _widths(shape))
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
    out.line(shape.title, title, size=TITLE_SIZE, padding=14)
    out.line(shape.year_text, styles.get(align="center"))
    _write_unit_line(out, shape.org_text, shape.unit_text)

    # Header: the one-row cells first, so that a taller cell only adds what they leave short.
    start = len(out.heights)
    heights = [MIN_ROW_POINTS + 2] * shape.header_rows
    spans = [(number, cell) for number, row in enumerate(shape.header) for cell in row.cells]
    for first, cell in sorted(spans, key=lambda s: s[1].rowspan):
        last = first + cell.rowspan - 1
        room = out.room(cell.column, cell.last_column)
        text = break_lines(cell.text, room)
        out.put(start + first, cell.column, cell.last_column, text, styles.header(), cell.rowspan)
        need = _lines(text, room) * LINE_POINTS + ROW_PADDING
        have = sum(heights[first : last + 1])
        if need > have:
            heights[last] += need - have
    out.set_heights(heights)
    header_end = len(out.heights) - 1

    # Body.
    for row in shape.body:
        row_number = len(out.heights)
        height = BODY_ROW_POINTS
        for cell in row.cells:
            _write_cell(out, row_number, shape.columns[cell.column].kind, cell)
            if cell.kind in ("label", "total-label") and cell.colspan == 1 and cell.text:
                room = out.widths[cell.column] - 2 * (cell.indent + 1)
                lines = _lines(cell.text, room)
                if lines > 1:
                    height = max(height, lines * LINE_POINTS + ROW_PADDING)
        out.set_heights([height])

    # Under the table: the note and the empty-table statement, in the format's order.
    plain = styles.get(align="left", text_wrap=True)
    for line in shape.below:
        out.line(line, plain)

    # Print.
    setup = page_setup(_width_mm(out.widths), sum(out.heights))
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


def _write_unit_line(out: _Sheet, left_text: str, unit_text: str) -> None:
    """编制单位 on the left, 单位 on the right (in the last column, or the last two)."""
    right = out.last
    if out.last >= 2 and out.widths[right] < display_width(unit_text) + 1:
        right -= 1
    row = len(out.heights)
    if right == 0:  # a one-column table: both on one line
        out.line(f"{left_text}　　{unit_text}", out.styles.get(align="left", text_wrap=True))
        return
    out.put(row, 0, right - 1, left_text, out.styles.get(align="left", text_wrap=True))
    out.put(row, right, out.last, unit_text, out.styles.get(align="right"))
    lines = _lines(left_text, out.room(0, right - 1))
    out.set_heights([max(MIN_ROW_POINTS, lines * LINE_POINTS + ROW_PADDING)])


# ---- forms -----------------------------------------------------------------------------------

SHADE = "#F2F2F2"  # the grey of a section or column head inside a form


def _number_format(text: str) -> str:
    """ "#,##0.00" for "949.68", "#,##0.0" for "17.0", "#,##0" for "20": the decimals shown."""
    places = len(text.rpartition(".")[2]) if "." in text else 0
    return "#,##0" + ("." + "0" * places if places else "")


def _write_forms(
    sheet: Worksheet, layouts: Sequence[TableLayout], styles: _Styles, *, draft: bool
) -> None:
    """Forms one under another, each with its title and year, each starting a printed page."""
    count = max(len(shape.columns) for shape in layouts)
    # Each column as wide as in the widest form, and two units for the texts' indent.
    widths = [
        max(shape.widths[i] for shape in layouts if i < len(shape.columns)) + 2
        for i in range(count)
    ]
    out = _Sheet(sheet, styles, widths)
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)
    title = styles.get(
        font_name=TITLE_FONT,
        font_size=TITLE_SIZE - 2,
        bold=True,
        align="center",
        text_wrap=True,
        **({"bottom": 5, "bottom_color": "#FF0000"} if draft else {}),
    )
    starts: list[int] = []
    tallest = 0.0
    for shape in layouts:
        start = len(out.heights)
        starts.append(start)
        out.line(shape.title, title, size=TITLE_SIZE - 2, padding=12)
        if shape.year_text:
            out.line(shape.year_text, styles.get(align="center"))
        for row in shape.body:
            _write_form_row(out, row)
        if shape.note:
            out.line(shape.note, styles.get(align="left", text_wrap=True))
        tallest = max(tallest, sum(out.heights[start:]))
        out.set_heights([MIN_ROW_POINTS])  # a blank line before the next form
    setup = page_setup(_width_mm(widths), tallest)
    sheet.set_paper(9)  # A4
    if setup.landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    # One page wide, as many tall as the forms need, each form starting a page.
    sheet.fit_to_pages(1, 0)
    sheet.set_h_pagebreaks(starts[1:])
    sheet.set_margins(left=MARGIN_INCHES, right=MARGIN_INCHES, top=TOP_INCHES, bottom=TOP_INCHES)
    sheet.center_horizontally()
    sheet.set_footer(f'&C&"{BODY_FONT}"&9第 &P 页，共 &N 页', {"margin": 0.3})
    if draft:
        sheet.set_header(f'&C&"{TITLE_FONT},Bold"&14&KFF0000{DRAFT_MARK}', {"margin": 0.3})


def _write_form_row(out: _Sheet, row: LayoutRow) -> None:
    """One body row of a form: texts wrap (the row as tall as its tallest cell), figures are
    numbers shown with the form's decimals, heads shaded."""
    styles, sheet = out.styles, out.sheet
    row_number = len(out.heights)
    height = BODY_ROW_POINTS
    for cell in row.cells:
        shade = {"bg_color": SHADE} if cell.shade else {}
        if cell.kind == "amount" and cell.value is not None:
            fmt = styles.get(
                border=1,
                bold=cell.bold,
                num_format=_number_format(cell.text),
                align="right",
                indent=1,
                **shade,
            )
            if cell.colspan > 1:
                sheet.merge_range(row_number, cell.column, row_number, cell.last_column, None, fmt)
            # XlsxWriter takes a float: a 2-place Decimal under 10^13 round-trips exactly.
            sheet.write_number(row_number, cell.column, float(cell.value), fmt)
            continue
        indent = 1 if cell.align == "left" else 0
        fmt = styles.get(
            border=1, bold=cell.bold, align=cell.align, indent=indent, text_wrap=True, **shade
        )
        out.put(row_number, cell.column, cell.last_column, cell.text, fmt)
        if cell.text:
            room = out.room(cell.column, cell.last_column) - 2 * indent
            lines = _lines(cell.text, room)
            height = max(height, lines * LINE_POINTS + ROW_PADDING)
    out.set_heights([height])


def _write_cell(out: _Sheet, row_number: int, kind: str, cell: LayoutCell) -> None:
    """Write one body cell of the layout (a column of kind `kind`)."""
    sheet, styles, position = out.sheet, out.styles, cell.column
    if cell.kind == "blank":  # the shorter side of a side-by-side table
        fmt = styles.money() if kind == "amount" else styles.text()
        sheet.write_blank(row_number, position, None, fmt)
    elif cell.kind == "amount":
        fmt = styles.money(bold=cell.bold)
        if cell.value is None:
            sheet.write_blank(row_number, position, None, fmt)
        else:
            # XlsxWriter takes a float: a 2-place Decimal under 10^13 round-trips exactly.
            sheet.write_number(row_number, position, float(cell.value), fmt)
    else:
        fmt = styles.text(bold=cell.bold, align=cell.align, indent=cell.indent)
        out.put(row_number, position, cell.last_column, cell.text, fmt)

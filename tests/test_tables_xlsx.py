"""The tables workbook: one printable sheet per table, read back with openpyxl."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from juesuan.ledger.load import load
from juesuan.publish.tables_xlsx import (
    DRAFT_MARK,
    break_lines,
    display_width,
    page_setup,
    sheet_name,
    write_tables,
)
from juesuan.statements.build import build
from juesuan.statements.model import Statements, Table

from conftest import write_dataset


@pytest.fixture(scope="module")
def statements(example) -> Statements:
    return build(example)


@pytest.fixture(scope="module")
def workbook_path(example, statements, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tables") / "附表.xlsx"
    write_tables(statements, example.unit, path)
    return path


@pytest.fixture(scope="module")
def book(workbook_path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(workbook_path)


def sheet_of(
    book: openpyxl.Workbook, statements: Statements, title: str
) -> tuple[Table, Worksheet]:
    table = statements.table(title)
    assert table is not None, title
    return table, book[sheet_name(table)]


def find(sheet: Worksheet, value: str, column: int | None = None) -> tuple[int, int]:
    """(row, column) of the first cell holding `value` (in `column`, if given)."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value == value and (column is None or cell.column == column):
                return cell.row, cell.column
    raise AssertionError(f"{value!r} not on sheet {sheet.title}")


def header_end(sheet: Worksheet) -> int:
    """The last header row, from the print titles ("$1:$5")."""
    return int(re.fullmatch(r"\$1:\$(\d+)", sheet.print_title_rows).group(1))


def test_one_sheet_per_table_in_order_with_its_title(book, statements):
    assert len(book.sheetnames) == 14
    assert book.sheetnames == [sheet_name(t) for t in statements]
    assert book.sheetnames[0] == "一 收入支出决算总表"
    for table, sheet in zip(statements, book.worksheets, strict=True):
        assert len(sheet.title) <= 31
        assert not re.search(r"[\[\]:*?/\\]", sheet.title)
        assert sheet["A1"].value == table.title
        assert sheet["A1"].font.b
        assert sheet["A2"].value == "2020年度"
        assert sheet["A3"].value == "编制单位：泸州市社会保险事业管理局"
        assert "单位：万元" in [c.value for c in sheet[3]]
        # The title is merged across the whole table.
        title_range = next(r for r in sheet.merged_cells.ranges if r.coord.startswith("A1:"))
        assert title_range.max_col == sheet.max_column


def test_totals_are_numbers_equal_to_the_shown_figures(book, statements):
    table, sheet = sheet_of(book, statements, "收入支出决算总表")
    row, column = find(sheet, "总计", column=1)
    cell = sheet.cell(row, column + 1)
    assert isinstance(cell.value, float)
    assert cell.value == 5686.09 == float(table.find("收入总计")[1].cells[0].shown)
    assert cell.number_format == "#,##0.00"
    assert cell.font.b

    table, sheet = sheet_of(book, statements, "支出决算表")
    row, _ = find(sheet, "208", column=1)
    _, column = find(sheet, "基本支出")
    assert sheet.cell(row, column).value == 4143.05


def test_side_by_side_blocks_face_each_other(book, statements):
    _, sheet = sheet_of(book, statements, "收入支出决算总表")
    row, _ = find(sheet, "本年收入合计", column=1)
    assert sheet.cell(row, 3).value == "本年支出合计"
    row, _ = find(sheet, "一、一般公共预算财政拨款收入", column=1)
    assert sheet.cell(row, 3).value == "一、一般公共服务支出"
    assert [sheet.cell(header_end(sheet) - 1, c).value for c in (1, 3)] == ["收入", "支出"]
    assert [sheet.cell(header_end(sheet), c).value for c in range(1, 5)] == [
        "项目",
        "决算数",
        "项目",
        "决算数",
    ]

    # 财政拨款收入支出决算总表: four amount columns on the right, blanks where a fund has no cell.
    _, sheet = sheet_of(book, statements, "财政拨款收入支出决算总表")
    assert sheet.max_column == 7
    row, _ = find(sheet, "本年收入合计", column=1)
    assert sheet.cell(row, 3).value == "本年支出合计"
    assert [sheet.cell(row, c).value for c in range(4, 8)] == [5686.09, 5686.09, 0, 0]
    totals = [r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "总计"]
    assert len(totals) == 1 and sheet.cell(totals[0], 3).value == "总计"
    row = totals[0] - 1  # 三、国有资本经营预算财政拨款 under 年末: only its own fund's cell
    assert [sheet.cell(row, c).value for c in range(4, 8)] == [0, None, None, 0]


def test_every_code_row_matches_its_cells(book, statements):
    for table in statements:
        section = table.sections[0]
        if len(table.sections) > 1 or not section.code_header:
            continue
        sheet = book[sheet_name(table)]
        first = header_end(sheet) + 1
        for offset, row in enumerate(section.rows):
            line = first + offset
            if row.code:
                cell = sheet.cell(line, 1)
                assert cell.value == row.code and cell.data_type == "s"
                assert sheet.cell(line, 2).value == row.label
            else:
                assert sheet.cell(line, 1).value == row.label  # 合计 across code and name
            values = [sheet.cell(line, 3 + i).value for i in range(len(section.columns))]
            expected = [None if c.shown is None else float(c.shown) for c in row.cells]
            assert values == expected, (table.title, row.key)


def test_codes_are_text(book, statements):
    _, sheet = sheet_of(book, statements, "支出决算表")
    row, column = find(sheet, "2080109")
    cell = sheet.cell(row, column)
    assert cell.data_type == "s" and cell.value == "2080109"
    assert sheet.cell(row, column + 1).value == "社会保险经办机构"


def test_code_table_header_has_the_project_block(book, statements):
    _, sheet = sheet_of(book, statements, "收入决算表")
    end = header_end(sheet)
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.cell(end - 1, 1).value == "项目"
    assert f"A{end - 1}:B{end - 1}" in merged
    assert sheet.cell(end, 1).value.replace("\n", "") == "功能分类科目编码"
    assert sheet.cell(end, 2).value == "科目名称"
    assert f"C{end - 1}:C{end}" in merged  # 本年收入合计 stretched over both header rows

    _, sheet = sheet_of(book, statements, "政府性基金预算财政拨款收入支出决算表")
    end = header_end(sheet)
    row, column = find(sheet, "本年支出")
    assert row == end - 1
    spans = {r.coord: r for r in sheet.merged_cells.ranges}
    span = next(r for r in spans.values() if r.min_row == row and r.min_col == column)
    assert span.max_col - span.min_col == 2  # over 合计 | 基本支出 | 项目支出
    assert [sheet.cell(end, column + i).value for i in range(3)] == ["合计", "基本支出", "项目支出"]


def test_three_level_header_of_the_three_public_table(book, statements):
    table, sheet = sheet_of(book, statements, "一般公共预算财政拨款“三公”经费支出决算表")
    end = header_end(sheet)
    start = end - 2  # three header rows
    spans = {(r.min_row, r.min_col): r for r in sheet.merged_cells.ranges}

    def span(text: str) -> tuple[int, int, int, int]:
        row, column = find(sheet, text)
        r = spans[(row, column)]
        return r.min_row - start, r.min_col, r.max_row - start, r.max_col

    assert span("合计") == (0, 1, 1, 2)  # two rows down, two columns across
    assert span("因公出国（境）费") == (0, 3, 1, 4)
    assert span("公务用车购置及运行维护费") == (0, 5, 0, 10)
    assert span("小计") == (1, 5, 1, 6)
    assert span("公务用车购置费") == (1, 7, 1, 8)
    assert span("公务用车运行维护费") == (1, 9, 1, 10)
    assert span("公务接待费") == (0, 11, 1, 12)
    assert [sheet.cell(end, c).value for c in range(1, 13)] == ["预算数", "决算数"] * 6
    data = [sheet.cell(end + 1, c).value for c in range(1, 13)]
    assert data == [float(c.shown) for c in table.sections[0].rows[0].cells]
    assert data[0] == data[-2] == 0.59  # 合计 = 公务接待费


def test_print_setup(book, statements):
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.paperSize == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert setup.fitToWidth in (None, 1)  # one page wide (1 is the default)
        assert sheet.print_title_rows.startswith("$1:$")
        assert sheet.freeze_panes == f"A{header_end(sheet) + 1}"
        assert setup.orientation in ("portrait", "landscape")
    orientation = {
        t.title: s.page_setup.orientation for t, s in zip(statements, book.worksheets, strict=True)
    }
    assert orientation["收入支出决算总表"] == "portrait"
    assert orientation["一般公共预算财政拨款基本支出决算表"] == "portrait"
    assert orientation["财政拨款支出决算明细表"] == "landscape"
    assert orientation["一般公共预算财政拨款“三公”经费支出决算表"] == "landscape"


def test_empty_table_keeps_its_format_and_carries_its_statement(book, statements):
    table, sheet = sheet_of(book, statements, "政府性基金预算财政拨款收入支出决算表")
    assert table.empty
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert table.empty_statement in texts
    assert table.note in texts
    assert texts.index(table.empty_statement) < texts.index(table.note)
    assert "年初结转和结余" in [t.replace("\n", "") for t in texts]  # the header is still there

    table, sheet = sheet_of(book, statements, "一般公共预算财政拨款项目支出决算表")
    assert not table.empty
    texts = [c.value for row in sheet.iter_rows() for c in row]
    assert table.empty_statement not in texts
    assert table.note in texts


def test_draft_marks_every_page(example, statements, tmp_path, book):
    path = tmp_path / "草稿.xlsx"
    write_tables(statements, example.unit, path, draft=True)
    draft = openpyxl.load_workbook(path)
    for sheet in draft.worksheets:
        assert sheet.oddHeader.center.text == DRAFT_MARK
        assert sheet["A1"].border.bottom.color.rgb.endswith("FF0000")
    for sheet in book.worksheets:
        assert not sheet.oddHeader.center.text
        assert sheet["A1"].border.bottom.style is None


def test_written_by_rename(example, statements, tmp_path):
    path = tmp_path / "out" / "附表.xlsx"
    path.parent.mkdir()
    path.write_bytes(b"old")
    write_tables(statements, example.unit, path)
    assert [p.name for p in path.parent.iterdir()] == ["附表.xlsx"]
    assert openpyxl.load_workbook(path).sheetnames[0] == "一 收入支出决算总表"


def test_a_small_dataset_writes_every_table(tmp_path):
    dataset, issues = load(write_dataset(tmp_path / "tiny"))
    assert dataset is not None, issues
    path = tmp_path / "tiny.xlsx"
    write_tables(build(dataset), dataset.unit, path)
    book = openpyxl.load_workbook(path)
    assert len(book.sheetnames) == 14
    sheet = book.worksheets[0]
    row, _ = find(sheet, "总计", column=1)
    assert sheet.cell(row, 2).value == 0.15  # 1 500 元 = 0.15 万元


def test_header_lines_break_between_words():
    assert display_width("一般公共预算") == 12
    assert break_lines("一般公共预算财政拨款", 14) == "一般公共预算\n财政拨款"
    assert break_lines("对附属单位补助支出", 12) == "对附属单位\n补助支出"
    assert break_lines("资本性支出（基本建设）", 14) == "资本性支出\n（基本建设）"
    assert break_lines("合计", 11) == "合计"


def test_page_setup_prefers_one_page():
    assert page_setup(150, 500) == page_setup(150, 500)
    narrow = page_setup(150, 500)
    assert not narrow.landscape and narrow.one_page and narrow.scale == 1.0
    wide = page_setup(350, 500)
    assert wide.landscape and wide.one_page
    long = page_setup(150, 3000)
    assert not long.landscape and not long.one_page


@pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui)",
)
def test_libreoffice_prints_it(workbook_path, tmp_path):
    profile = tmp_path / "profile"
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(workbook_path),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    pdf = tmp_path / f"{workbook_path.stem}.pdf"
    assert result.returncode == 0 and pdf.exists(), result.stderr.decode(errors="replace")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert pages >= 14  # every table on at least one page

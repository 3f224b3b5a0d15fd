"""The tables of a published PDF written out as a workbook: one sheet a table, its title and
单位 on top, column titles, then the rows as printed (codes and names as text, figures as
numbers in the table's own unit), and its note below.
"""

from __future__ import annotations

import re
from pathlib import Path

from juesuan.audit.grids import TableGrid, document_tables, figure
from juesuan.audit.limits import Budget, LimitExceeded
from juesuan.audit.pdfpage import PdfNotReadable, read_pages
from juesuan.files import replaced

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\：]")


class ExtractError(Exception):
    """The document cannot be read or has no table; the message says which and why."""


def extract(document: str | Path, output: str | Path) -> list[TableGrid]:
    """Write every ruled table of the PDF at `document` to the workbook `output` (replaced
    whole, only once it is complete); the tables written."""
    path = Path(document)
    if path.suffix.lower() != ".pdf":
        raise ExtractError(f"{path} 不是 PDF 文件：只能从 PDF 中取出表格")
    if not path.is_file():
        raise ExtractError(f"找不到文件：{path}")
    try:
        tables = document_tables(read_pages(path, Budget(path)))
    except (PdfNotReadable, LimitExceeded) as exc:
        raise ExtractError(str(exc)) from exc
    if not tables:
        raise ExtractError(f"{path} 中没有找到带表格线的表格，未写出工作簿")
    with replaced(output) as temporary:
        write_workbook(tables, temporary)
    return tables


def write_workbook(tables: list[TableGrid], path: Path) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    bold = workbook.add_format({"bold": True})
    text = workbook.add_format({"num_format": "@"})
    for index, table in enumerate(tables, 1):
        sheet = workbook.add_worksheet(_sheet_name(table, index))
        pages = "、".join(str(p) for p in table.pages)
        sheet.write_string(0, 0, table.title or f"第{pages}页的表格", bold)
        sheet.write_string(1, 0, f"单位：{table.unit or '未注明'}（第{pages}页）")
        for column, title in enumerate(table.columns):
            sheet.write_string(2, column, title, bold)
        for r, row in enumerate(table.rows, 3):
            for column, cell in enumerate(row):
                value = figure(cell) if cell not in ("-", "—", "－", "--") else None
                if value is not None and not _is_code(cell, table.columns[column]):
                    sheet.write_number(r, column, value)
                elif cell:
                    sheet.write_string(r, column, cell, text)
        if table.note:
            sheet.write_string(3 + len(table.rows) + 1, 0, table.note)
        sheet.set_column(0, max(len(table.columns) - 1, 0), 16)
    workbook.close()


def _is_code(cell: str, title: str) -> bool:
    """A subject code (201, 2010101) or a 类/款/项 part of one: text, so 01 keeps its zero."""
    return (
        "." not in cell
        and "," not in cell
        and (
            "编码" in title
            or "代码" in title
            or title.endswith(("/类", "/款", "/项"))
            or cell[0] == "0"
        )
    )


def _sheet_name(table: TableGrid, index: int) -> str:
    """Its number first, so names stay distinct when cut to Excel's 31 characters."""
    base = _SHEET_FORBIDDEN.sub("", table.title).strip("'") or "表"
    return f"{index}.{base}"[:31]

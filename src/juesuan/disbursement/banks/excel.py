"""Excel (.xlsx) files: the sheet streamed straight into the zip, read with openpyxl.

Amounts are written as text cells ("1100.00") so that what the bank reads is exactly what we
computed; numeric amount cells in a result file are accepted when they are exact to the 分.
Rows are written in order as they come, so an xlsx totals line can only be the last row.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import polars as pl
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter

from juesuan.disbursement.banks.adapter import Layout
from juesuan.disbursement.banks.fields import CellError, parse_amount
from juesuan.disbursement.banks.results import check_rows, title_positions, totals_problem
from juesuan.disbursement.banks.values import BatchFile, BatchHeader, Problem
from juesuan.disbursement.banks.writing import (
    Abandoned,
    Collector,
    file_sha256,
    fill,
    row_getter,
    template_context,
)
from juesuan.files import replaced

# The few fixed parts of a one-sheet workbook. The sheet itself is written row by row into the
# zip stream (zipfile.ZipFile.open(..., "w")): memory stays bounded at any number of rows and no
# scratch file holds a name or an account — XlsxWriter's constant-memory mode keeps the rows in
# scratch files of its own, in the clear.
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
        f'Type="{_DOCUMENT}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_DOCUMENT}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_DOCUMENT}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    # two cell formats: 0 plain, 1 bold (the column titles)
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_MAIN}"><fonts count="2">'
        '<font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="2">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    ),
}
_SHEET_OPEN = f'{_HEAD}<worksheet xmlns="{_MAIN}"><sheetData>'
_SHEET_CLOSE = "</sheetData></worksheet>"
_ROWS_PER_WRITE = 1000
_COLUMNS = [get_column_letter(n) for n in range(1, 703)]  # A … ZZ
# Characters XML 1.0 cannot hold, and text Excel would read as one of its _xHHHH_ escapes.
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


def _workbook_part(sheet: str) -> str:
    return (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_DOCUMENT}"><sheets>'
        f'<sheet name={quoteattr(sheet)} sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _row(number: int, values: Iterable[str], style: int = 0) -> str:
    """One <row> of text cells; `number` counts from 1."""
    shown = ' s="1"' if style else ""
    cells = []
    for col, value in enumerate(values):
        if _UNWRITABLE.search(value):
            value = _UNWRITABLE.sub(lambda m: f"_x{ord(m[0]):04X}_", value)
        text = escape(value)
        space = ' xml:space="preserve"' if text != text.strip() else ""
        cells.append(
            f'<c r="{_COLUMNS[col]}{number}"{shown} t="inlineStr"><is><t{space}>{text}</t></is></c>'
        )
    return f'<row r="{number}">{"".join(cells)}</row>'


def write_xlsx(
    layout: Layout,
    header: BatchHeader,
    records: Iterable[tuple[dict[str, str], int]],
    out_path: Path,
    problems: Collector,
) -> BatchFile:
    """Rows are written as they come (bounded memory); a file with problems is dropped."""
    count = total = 0
    try:
        with (
            replaced(out_path) as temporary,
            zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as book,
        ):
            for name, part in _PARTS.items():
                book.writestr(name, _HEAD + part)
            book.writestr("xl/workbook.xml", _workbook_part(layout.sheet))
            with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
                lines = [_SHEET_OPEN]
                context = template_context(header, layout, 0, 0)
                for cells in layout.header_lines:
                    lines.append(_row(len(lines), [fill(cell, context) for cell in cells]))
                if layout.titles:
                    lines.append(_row(len(lines), [c.title for c in layout.columns], style=1))
                number = len(lines)  # the next row's number
                cells = row_getter(layout.columns)
                for values, fen in records:
                    lines.append(_row(number, cells(values)))
                    number += 1
                    count += 1
                    total += fen
                    if len(lines) >= _ROWS_PER_WRITE:
                        sheet.write("".join(lines).encode())
                        lines = []
                if layout.totals:
                    context = template_context(header, layout, count, total)
                    lines.append(_row(number, [fill(cell, context) for cell in layout.totals]))
                lines.append(_SHEET_CLOSE)
                sheet.write("".join(lines).encode())
            if problems.problems:
                raise Abandoned
    except Abandoned:
        return BatchFile(None, out_path.name, 0, 0, "", problems.result())
    return BatchFile(out_path, out_path.name, count, total, file_sha256(out_path))


def _text(value: object, field: str, layout: Layout) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if field == "amount" and isinstance(value, int | float):
        # a clerk or a bank's export made the amount a number; accept it only if exact to the 分
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if layout.amount == "fen":
            return str(amount) if amount == amount.to_integral_value() else repr(value)
        return f"{amount:.2f}" if amount == amount.quantize(Decimal("0.01")) else repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if field == "paid_on" and isinstance(value, date):  # a date cell: its day, as declared
        return value.strftime(layout.paid_date.date_format)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def read_xlsx(layout: Layout, path: Path) -> tuple[pl.DataFrame | None, list[Problem]]:
    file = path.name
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        return None, [
            Problem(
                file,
                "无法作为 .xlsx 工作簿打开：文件已损坏，或不是 Excel 工作簿；请提供银行原始的 Excel 文件",
            )
        ]
    try:
        sheet = book[layout.sheet] if layout.sheet in book.sheetnames else book.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        name = sheet.title
    finally:
        book.close()
    skip = len(layout.header_lines) + layout.titles
    positions = {c.field: i for i, c in enumerate(layout.columns)}
    if layout.titles:
        if len(rows) < skip:
            return None, [
                Problem(file, "工作表没有栏目标题行；文件不完整", sheet=name, line=len(rows))
            ]
        found = [str(v).strip() if v is not None else "" for v in rows[skip - 1]]
        positions, missing = title_positions(layout, found)
        if missing:
            return None, [
                Problem(file, f"找不到栏目“{c.title}”；该行应为栏目标题", sheet=name, line=skip)
                for c in missing
            ]
    body = rows[skip:]
    while body and all(v is None or str(v).strip() == "" for v in body[-1]):
        body.pop()
    totals_row = None
    if layout.totals:
        if not body:
            return None, [
                Problem(
                    file, "缺少合计行（应在最后一行）；文件可能不完整", sheet=name, line=skip + 1
                )
            ]
        totals_row = body.pop()
    columns: dict[str, list[str]] = {f: [] for f in positions}
    lines = []
    for number, values in enumerate(body, skip + 1):
        for field, index in positions.items():
            value = values[index] if index < len(values) else None
            columns[field].append(_text(value, field, layout))
        lines.append(number)
    frame = pl.DataFrame(
        {f: pl.Series(v, dtype=pl.String) for f, v in columns.items()}
        | {"line": pl.Series(lines, dtype=pl.Int64)}
    )
    frame, problems = check_rows(frame, layout, file)
    if frame is not None and totals_row is not None:
        line = skip + len(body) + 1
        count = total = None
        for cell, value in zip(layout.totals, totals_row, strict=False):
            text = _text(value, "amount", layout).strip()
            try:
                if cell.value == "{count}":
                    count = int(text)
                elif cell.value == "{total}":
                    total = parse_amount(text, layout.amount)
            except (ValueError, CellError):
                problems.append(
                    Problem(
                        file,
                        "最后一行应为合计行（笔数、金额）；文件可能不完整",
                        sheet=name,
                        line=line,
                        snippet=text,
                    )
                )
        if not problems:
            disagree = totals_problem(frame, count, total, file, line, sheet=name)
            problems += [disagree] if disagree else []
    return (None, problems) if problems else (frame, [])

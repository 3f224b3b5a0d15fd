"""Excel (.xlsx) files: written with XlsxWriter in constant-memory mode, read with openpyxl.

Amounts are written as text cells ("1100.00") so that what the bank reads is exactly what we
computed; numeric amount cells in a result file are accepted when they are exact to the 分.
Constant-memory mode writes rows in order, so an xlsx totals line can only be the last row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import xlsxwriter
from openpyxl import load_workbook

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


def write_xlsx(
    layout: Layout,
    header: BatchHeader,
    records: Iterable[tuple[dict[str, str], int]],
    out_path: Path,
    problems: Collector,
) -> BatchFile:
    """Rows are written as they come (constant memory); a file with problems is dropped."""
    count = total = 0
    try:
        with replaced(out_path) as temporary:
            # XlsxWriter keeps the rows in scratch files of its own, in the clear; they go
            # beside the target, where a crash leaves them for the sweep of that folder.
            book = xlsxwriter.Workbook(
                str(temporary),
                {
                    "constant_memory": True,
                    "strings_to_numbers": False,
                    "tmpdir": str(out_path.parent),
                },
            )
            sheet = book.add_worksheet(layout.sheet)
            row = 0
            context = template_context(header, layout, 0, 0)
            for cells in layout.header_lines:
                for col, cell in enumerate(cells):
                    sheet.write_string(row, col, fill(cell, context))
                row += 1
            if layout.titles:
                bold = book.add_format({"bold": True})
                for col, column in enumerate(layout.columns):
                    sheet.write_string(row, col, column.title, bold)
                row += 1
            cells = row_getter(layout.columns)
            for values, fen in records:
                for col, value in enumerate(cells(values)):
                    sheet.write_string(row, col, value)
                row += 1
                count += 1
                total += fen
            if layout.totals:
                context = template_context(header, layout, count, total)
                for col, cell in enumerate(layout.totals):
                    sheet.write_string(row, col, fill(cell, context))
            book.close()
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
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def read_xlsx(layout: Layout, path: Path) -> tuple[pl.DataFrame | None, list[Problem]]:
    file = path.name
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        return None, [
            Problem(
                file,
                f"无法作为 .xlsx 工作簿打开（{type(exc).__name__}）；请提供银行原始的 Excel 文件",
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

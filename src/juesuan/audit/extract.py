"""The tables of a published PDF written out as a workbook: one sheet a table, its title and
单位 on top, column titles, then the rows as printed (codes and names as text, figures as
numbers in the table's own unit), and its note below. And a published 决算's figures written
as next year's 上年数 into a dataset folder's prior_year.csv.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
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


# ---- last year's published figures into a dataset's 上年数 -------------------------------------

PRIOR_YEAR_FILE = "prior_year.csv"
PRIOR_YEAR_HEADER = ("项目", "上年决算数", "备注")
WAN = Decimal(10000)

# 上年数 item -> (table id, row key, column key) of the published tables read as statements
PRIOR_YEAR_CELLS = {
    "收支总计": ("summary", "收入总计", "决算数"),
    "本年收入合计": ("summary", "本年收入合计", "决算数"),
    "本年支出合计": ("spending", "合计", "本年支出合计"),
    "财政拨款收支总计": ("fiscal_summary", "收入总计", "决算数"),
    "一般公共预算财政拨款支出": ("general", "合计", "合计"),
    "政府性基金预算财政拨款支出": ("government_fund", "合计", "本年支出.合计"),
    "国有资本经营预算财政拨款支出": ("state_capital", "合计", "本年支出.合计"),
    "三公经费": ("three_public", "数额", "合计.决算数"),
    "因公出国（境）费": ("three_public", "数额", "因公出国（境）费.决算数"),
    "公务用车购置及运行维护费": ("three_public", "数额", "公务用车购置及运行维护费.小计.决算数"),
    "公务用车购置费": ("three_public", "数额", "公务用车购置及运行维护费.公务用车购置费.决算数"),
    "公务用车运行维护费": (
        "three_public",
        "数额",
        "公务用车购置及运行维护费.公务用车运行维护费.决算数",
    ),
    "公务接待费": ("three_public", "数额", "公务接待费.决算数"),
}


@dataclass(frozen=True)
class PriorFigure:
    key: str  # a 上年数 item or a function class code
    amount: Decimal  # 元
    source: str  # where it is printed


def published_prior_figures(document: str | Path) -> list[PriorFigure]:
    """The figures a published 决算 (PDF, Word, HTML) gives for next year's 上年数: the totals
    and 三公 items of its tables, and each function class's spending (支出决算表, 本年支出合计).
    Only figures printed in a table the audit recognised; what a table lacks is left out."""
    from juesuan.audit import model as document_model
    from juesuan.audit.read import NotReadable, read
    from juesuan.audit.tables import statements_from_tables

    path = Path(document)
    try:
        built = document_model.build(read(path))
    except NotReadable as exc:
        raise ExtractError(str(exc)) from exc
    _, cells, _ = statements_from_tables(built)
    wanted = dict(PRIOR_YEAR_CELLS)
    for table_id, row, _column in cells:
        if table_id == "spending" and len(row) == 3 and row.isdigit():
            wanted[row] = ("spending", row, "本年支出合计")
    out = []
    for key, cell in wanted.items():
        if cell not in cells:
            continue
        shown, place, text = cells[cell]
        amount = (shown or Decimal(0)) * WAN
        out.append(
            PriorFigure(key, amount.quantize(Decimal("0.01")), f"{path.name} {place}：{text}")
        )
    if not out:
        raise ExtractError(
            f"{path} 中没有识别出决算总表、支出决算表或“三公”经费表，取不到上年数，未写入"
        )
    return out


def write_prior_year(
    document: str | Path, dataset: str | Path, *, force: bool = False
) -> list[PriorFigure]:
    """Write last year's published figures into the dataset folder's 上年数 table (prior_year.csv),
    replaced whole only when complete. A figure the table already holds with another amount is
    not overwritten unless `force`; then nothing is written and ExtractError lists them all.
    Returns the figures written (added or changed)."""
    folder = Path(dataset)
    if not folder.is_dir():
        raise ExtractError(
            f"{folder} 不是数据集文件夹：上年数只能写入数据集文件夹中的 {PRIOR_YEAR_FILE}"
        )
    if not (folder / "unit.toml").is_file():
        raise ExtractError(f"{folder} 中没有 unit.toml，不是数据集文件夹")
    target = folder / PRIOR_YEAR_FILE
    rows = _prior_rows(target)
    figures = published_prior_figures(document)
    clashes = []
    written = []
    for figure_ in figures:
        held = rows.get(figure_.key)
        if held is not None and held[0] == figure_.amount:
            continue
        if held is not None and not force:
            clashes.append(f"{figure_.key}：表中为 {held[0]} 元，公开数为 {figure_.amount} 元")
            continue
        rows[figure_.key] = (figure_.amount, f"取自 {figure_.source}")
        written.append(figure_)
    if clashes:
        raise ExtractError(
            f"{target} 中已有不同的上年数，未写入（确认以公开数为准请加 --force）：\n  "
            + "\n  ".join(clashes)
        )
    if written:
        with replaced(target) as temporary:
            with temporary.open("w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(PRIOR_YEAR_HEADER)
                for key, (amount, note) in rows.items():
                    writer.writerow((key, f"{amount:.2f}", note))
    return written


def _prior_rows(path: Path) -> dict[str, tuple[Decimal, str]]:
    """The 上年数 already in the file, in its order; a row whose amount is no number is an error
    naming its line (nothing is written over a file that cannot be read)."""
    if not path.exists():
        return {}
    rows: dict[str, tuple[Decimal, str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as source:
        reader = csv.reader(source)
        header = next(reader, None)
        if header is None or tuple(c.strip() for c in header[:2]) != PRIOR_YEAR_HEADER[:2]:
            raise ExtractError(f"{path} 第1行应为表头“项目,上年决算数,备注”，未写入")
        for number, row in enumerate(reader, 2):
            if not any(c.strip() for c in row):
                continue
            key = row[0].strip()
            raw = row[1].strip().replace(",", "") if len(row) > 1 else ""
            try:
                amount = Decimal(raw)
            except InvalidOperation:
                raise ExtractError(
                    f"{path} 第{number}行“上年决算数”列：“{raw}”不是金额（应为元，如 12345.67），未写入"
                ) from None
            rows[key] = (amount, row[2].strip() if len(row) > 2 else "")
    return rows

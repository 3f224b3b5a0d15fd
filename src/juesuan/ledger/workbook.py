"""Read the workbook form of a unit-year dataset (one .xlsx) into a RawDataset.

Sheets are named by table title (收入, 支出, ...), plus 单位信息 (项目 | 内容), 文字说明 (标题 | 内容),
填表说明 (instructions, ignored) and the hidden 代码表 (drop-down lists, ignored). Like the folder
reader, this only decodes the file and maps headers; values are judged by validation.
"""

from __future__ import annotations

import math
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from juesuan.ledger.issues import ERROR, WARNING, Issue, Source
from juesuan.ledger.raw import (
    RawDataset,
    RawTable,
    cell_text,
    frame_from_rows,
    map_headers,
    normalise_header,
)
from juesuan.ledger.schema import (
    MAX_UNPACKED_BYTES,
    TABLES,
    TEXTS_TABLE,
    UNIT_FIELDS,
    Column,
    Table,
)

UNIT_SHEET = "单位信息"
TEXTS_SHEET = TEXTS_TABLE.title
HELP_SHEET = "填表说明"
CODES_SHEET = "代码表"
IGNORED_SHEETS = (HELP_SHEET, CODES_SHEET)
SHEET_NAMES: tuple[str, ...] = (
    HELP_SHEET,
    UNIT_SHEET,
    *(t.title for t in TABLES),
    TEXTS_SHEET,
    CODES_SHEET,
)

_UNIT, _TEXTS, _IGNORED = "<unit>", "<texts>", "<ignored>"
# The sheet names a person may use (代码表 is the template's own hidden sheet).
_ACCEPTED = "、".join(SHEET_NAMES[:-1])

# Columns read from any sheet: every table has fewer; a cell far to the right (XFD1) would
# otherwise pad each row to 16,384 cells.
_MAX_COLUMNS = 64

UNIT_ITEM_HEADERS = ("项目", "字段", "key", "item")
UNIT_VALUE_HEADERS = ("内容", "值", "数值", "value")

# The first bytes of an OLE2 compound file: a password-protected .xlsx or an old .xls.
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# What openpyxl raises on a file that is not a readable .xlsx (damaged zip or deflate stream,
# missing parts, malformed XML, a cell or style it cannot decode, an encrypted or oddly
# compressed part).
_UNREADABLE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    KeyError,
    InvalidFileException,
    ParseError,
    SyntaxError,  # lxml's XMLSyntaxError, when openpyxl parses with lxml
    ValueError,
    TypeError,
    IndexError,
    EOFError,
    OSError,
)


def read_workbook(path: str | Path) -> RawDataset:
    """Read a dataset workbook; every problem found is an Issue in the result, never an exception."""
    path = Path(path)
    name = path.name
    unit_source = Source(name, UNIT_SHEET)
    problem = _unreadable_reason(path)
    if problem is None:
        try:
            return _read(path, name)
        except _UNREADABLE:
            problem = _not_xlsx(name)
    return RawDataset(
        origin=str(path),
        unit={},
        unit_source=unit_source,
        issues=[Issue(ERROR, Source(name), problem)],
    )


# ---- file-level problems -----------------------------------------------------------------------


def _not_xlsx(name: str) -> str:
    return f"文件“{name}”不是有效的 Excel 工作簿（.xlsx），无法读取；请用 Excel 或 WPS 另存为 .xlsx 后再导入"


def _unreadable_reason(path: Path) -> str | None:
    """Say why a file cannot be a workbook before handing it to openpyxl, when that is clear."""
    name = path.name
    try:
        if not path.exists():
            return f"找不到文件“{name}”；请检查路径和文件名"
        if path.is_dir():
            return f"“{name}”是文件夹，不是 Excel 工作簿（.xlsx）"
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return f"无法打开文件“{name}”；请检查文件是否存在、是否有读取权限"
    if not head:
        return f"文件“{name}”是空文件，没有任何内容；请选择填好数据的 .xlsx 工作簿"
    if head == _OLE2_MAGIC:
        return (
            f"文件“{name}”设置了打开密码，或是旧版 .xls 格式，无法读取；"
            "请取消密码保护并用 Excel 或 WPS 另存为 .xlsx 后再导入"
        )
    if not zipfile.is_zipfile(path):
        return _not_xlsx(name)
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return _not_xlsx(name)
    if unpacked > MAX_UNPACKED_BYTES:
        return (
            f"文件“{name}”解压后有 {unpacked / 2**20:,.0f} MB，超过上限 "
            f"{MAX_UNPACKED_BYTES // 2**20} MB，未读取；数据集工作簿通常不到 1 MB，请检查文件"
        )
    return None


# ---- reading -----------------------------------------------------------------------------------


def _read(path: Path, name: str) -> RawDataset:
    # What each sheet name (normalised; title or English key) is read as.
    roles: dict[str, str] = {}
    for table in TABLES:
        roles[normalise_header(table.title)] = table.key
        roles[normalise_header(table.key)] = table.key
    roles[normalise_header(UNIT_SHEET)] = roles["unit"] = _UNIT
    roles[normalise_header(TEXTS_SHEET)] = roles[TEXTS_TABLE.key] = _TEXTS
    for ignored in IGNORED_SHEETS:
        roles[normalise_header(ignored)] = _IGNORED
    tables = {table.key: table for table in TABLES}

    data = RawDataset(origin=str(path), unit={}, unit_source=Source(name, UNIT_SHEET))
    seen: dict[str, str] = {}  # role -> the name of the sheet read for it
    with warnings.catch_warnings():
        # openpyxl warns about features it drops (extensions, conditional formats); not our concern.
        warnings.simplefilter("ignore")
        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                sheet.reset_dimensions()  # some writers record a wrong used range; read it all
                title = str(sheet.title)
                role = roles.get(normalise_header(title))
                rows = sheet.iter_rows(values_only=True, max_col=_MAX_COLUMNS)
                if role == _IGNORED:
                    continue
                if role is None:
                    if _has_content(rows):
                        data.issues.append(
                            Issue(
                                WARNING,
                                Source(name, title),
                                "未识别的工作表，其内容已忽略",
                                accepted=_ACCEPTED,
                            )
                        )
                    continue
                if role in seen:
                    data.issues.append(
                        Issue(
                            ERROR,
                            Source(name, title),
                            f"与工作表“{seen[role]}”重复，本表内容未读取；请把数据合并到一张表中",
                        )
                    )
                    continue
                seen[role] = title
                if role == _UNIT:
                    _read_unit(data, rows, name, title)
                elif role == _TEXTS:
                    _read_texts(data, rows, name, title)
                else:
                    raw, issues = _read_table(tables[role], rows, name, title)
                    data.issues.extend(issues)
                    if raw is not None:
                        data.tables[role] = raw
            for chart in workbook.chartsheets:
                data.issues.append(
                    Issue(WARNING, Source(name, str(chart.title)), "图表工作表不含数据，已忽略")
                )
        finally:
            workbook.close()

    for table in TABLES:
        if table.required and table.key not in seen:
            data.issues.append(
                Issue(
                    ERROR,
                    Source(name, table.title),
                    f"工作簿“{name}”缺少必填的工作表“{table.title}”；请添加该表或检查工作表名称",
                    accepted=_ACCEPTED,
                )
            )
    if _UNIT in seen and not data.unit:
        data.issues.append(
            Issue(
                ERROR,
                data.unit_source,
                f"工作表“{seen[_UNIT]}”没有填写内容；请在“内容”列至少填写单位名称和年度",
                accepted="、".join(f.title for f in UNIT_FIELDS if f.required),
            )
        )
    if _UNIT not in seen:
        data.issues.append(
            Issue(
                ERROR,
                Source(name, UNIT_SHEET),
                f"工作簿“{name}”缺少工作表“{UNIT_SHEET}”（单位名称、年度等）；请添加该表或检查工作表名称",
                accepted=_ACCEPTED,
            )
        )
    return data


def _read_table(
    table: Table, rows: Iterator[tuple], name: str, title: str
) -> tuple[RawTable | None, list[Issue]]:
    header = next(rows, None)
    if header is None or all(cell_text(h) is None for h in header):
        if not table.required:
            return None, []  # an empty optional sheet says "nothing to report"
        header = ()
    columns, issues = map_headers(table, [_header_text(h) for h in header], Source(name, title))
    frame = frame_from_rows(table, columns, list(_numbered(rows, first=2)))
    return RawTable(table=table, frame=frame, file=name, sheet=title), issues


def _numbered(rows: Iterable[tuple], first: int) -> Iterator[tuple[int, list]]:
    """Numbered non-blank rows. A stray cell at A1048576 yields a million blank rows, passed over
    at C speed (tuple.count) rather than cell by cell."""
    for number, cells in enumerate(rows, start=first):
        if cells.count(None) != len(cells):
            yield number, [_cell_value(c) for c in cells]


def _read_unit(data: RawDataset, rows: Iterator[tuple], name: str, title: str) -> None:
    fields: dict[str, Column] = {}
    for column in UNIT_FIELDS:
        fields[normalise_header(column.title)] = column
        fields[normalise_header(column.key)] = column
    data.unit_source = Source(name, title)
    item_at, value_at = 0, 1
    first = 1
    header = next(rows, None)
    if header is not None:
        texts = [normalise_header(cell_text(h) or "") for h in header]
        items = [i for i, t in enumerate(texts) if t in UNIT_ITEM_HEADERS]
        values = [i for i, t in enumerate(texts) if t in UNIT_VALUE_HEADERS]
        if items or values:
            item_at = items[0] if items else 0
            value_at = values[0] if values else item_at + 1
            first = 2
        else:
            rows = _chain([header], rows)  # no header row: the first row is already data
    found: dict[str, int] = {}
    for number, cells in _numbered(rows, first=first):
        item = cell_text(cells[item_at]) if item_at < len(cells) else None
        value = cell_text(cells[value_at]) if value_at < len(cells) else None
        if item is None:
            if value is not None:
                data.issues.append(
                    Issue(
                        WARNING,
                        Source(name, title, number),
                        "有内容但没有项目名称，已忽略",
                        value=value,
                    )
                )
            continue
        column = fields.get(normalise_header(item))
        at = Source(name, title, number, column.title if column else item)
        if column is None:
            data.issues.append(
                Issue(
                    WARNING,
                    at,
                    "未识别的单位信息项目，已忽略",
                    value=item,
                    accepted="、".join(c.title for c in UNIT_FIELDS),
                )
            )
            continue
        if column.key in found:
            data.issues.append(
                Issue(ERROR, at, f"与第{found[column.key]}行重复，都是“{column.title}”")
            )
            continue
        found[column.key] = number
        data.unit_rows[column.key] = number
        if value is not None:
            data.unit[column.key] = value


def _read_texts(data: RawDataset, rows: Iterator[tuple], name: str, title: str) -> None:
    data.texts_source = Source(name, title)
    header = next(rows, None)
    if header is None:
        return
    columns, issues = map_headers(
        TEXTS_TABLE, [_header_text(h) for h in header], Source(name, title)
    )
    data.issues.extend(issues)
    at = {column.key: position for position, column in columns.items()}
    if "key" not in at or "body" not in at:
        return
    found: dict[str, int] = {}
    for number, cells in _numbered(rows, first=2):
        heading = cell_text(cells[at["key"]]) if at["key"] < len(cells) else None
        body = cell_text(cells[at["body"]]) if at["body"] < len(cells) else None
        if heading is None and body is None:
            continue
        if heading is None:
            data.issues.append(
                Issue(WARNING, Source(name, title, number, "标题"), "有内容但没有标题，已忽略")
            )
            continue
        if heading in found:
            data.issues.append(
                Issue(
                    ERROR,
                    Source(name, title, number, "标题"),
                    f"与第{found[heading]}行标题重复",
                    value=heading,
                )
            )
            continue
        found[heading] = number
        if body is None:
            data.issues.append(
                Issue(
                    WARNING,
                    Source(name, title, number, "内容"),
                    "只有标题没有内容，已忽略",
                    value=heading,
                )
            )
            continue
        data.texts[heading] = body
        data.text_sources[heading] = Source(name, title, number, "内容")


# ---- cells -------------------------------------------------------------------------------------


def _header_text(cell: object) -> str:
    return cell_text(cell) or ""


def _cell_value(cell: object) -> object:
    """Give cell_text what a person sees in Excel: dates as ISO text, numbers to 15 digits."""
    if isinstance(cell, datetime):
        if cell.time() == time(0, 0):
            return cell.date().isoformat()
        return cell.isoformat(sep=" ")
    if isinstance(cell, (date, time)):
        return cell.isoformat()
    if isinstance(cell, float) and math.isfinite(cell):
        text = repr(cell)
        if len(text) > 15 or "e" in text:
            # Excel shows and compares numbers to 15 significant digits: a formula such as =A2*0.1
            # stores 1234.5600000000002 and shows 1234.56, which is what the person means.
            shown = Decimal(format(cell, ".15g"))
            if "e" in text or shown != Decimal(text):
                return format(shown, "f")
    return cell


def _has_content(rows: Iterable[tuple]) -> bool:
    return any(cell_text(c) is not None for row in rows for c in row)


def _chain(first: list[tuple], rest: Iterator[tuple]) -> Iterator[tuple]:
    yield from first
    yield from rest

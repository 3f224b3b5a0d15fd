"""Read the folder form of a dataset: unit.toml, one CSV per table, texts/*.md."""

from __future__ import annotations

import codecs
import csv
import re
import tomllib
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import polars as pl

from juesuan.ledger.issues import ERROR, WARNING, Issue, Source, utf16_text
from juesuan.ledger.raw import CONTROL, ROW, RawDataset, RawTable, map_headers
from juesuan.ledger.schema import TABLES, UNIT_FIELDS, Table

UNIT_FILE = "unit.toml"
TEXTS_DIR = "texts"


def read_folder(path: str | Path) -> RawDataset:
    folder = Path(path)
    raw = RawDataset(origin=str(folder), unit={}, unit_source=Source(UNIT_FILE))
    _read_unit(folder, raw)
    known = {table.file for table in TABLES}
    for table in TABLES:
        file = folder / table.file
        if file.exists():
            data = _read_bytes(file, table.file, raw.issues)
            table_raw = None if data is None else _read_csv(data, file.name, table, raw.issues)
            if table_raw is not None:
                raw.tables[table.key] = table_raw
        elif table.required:
            raw.issues.append(
                Issue(
                    ERROR, Source(table.file), f"缺少“{table.title}”表的文件", accepted=table.file
                )
            )
    for stray in sorted(folder.glob("*.csv")):
        if stray.name not in known:
            raw.issues.append(
                Issue(
                    WARNING,
                    Source(stray.name),
                    "不是数据集的表，已忽略其内容",
                    accepted="、".join(t.file for t in TABLES),
                )
            )
    texts = folder / TEXTS_DIR
    raw.texts_source = Source(TEXTS_DIR)
    if texts.is_dir():
        for md in sorted(texts.glob("*.md")):
            name = f"{TEXTS_DIR}/{md.name}"
            data = _read_bytes(md, name, raw.issues)
            if data is None:
                continue
            try:
                raw.texts[md.stem] = data.decode("utf-8-sig")  # as written: lines counted from 1
            except UnicodeDecodeError:
                raw.issues.append(
                    Issue(ERROR, Source(name), "不是 UTF-8 编码的文本", accepted="UTF-8 文本")
                )
                continue
            raw.text_sources[md.stem] = Source(name)
    return raw


def _read_bytes(file: Path, name: str, issues: list[Issue]) -> bytes | None:
    """A file's bytes, or None and an issue when it is a folder or cannot be read."""
    if file.is_dir():
        issues.append(Issue(ERROR, Source(name), "这里是一个文件夹，应为文件", accepted=name))
        return None
    try:
        return file.read_bytes()
    except OSError as exc:
        issues.append(
            Issue(ERROR, Source(name), f"无法读取文件（{exc.strerror}）；请检查文件是否可读")
        )
        return None


def _read_unit(folder: Path, raw: RawDataset) -> None:
    file = folder / UNIT_FILE
    if not file.exists():
        raw.issues.append(
            Issue(ERROR, Source(UNIT_FILE), "缺少单位信息文件", accepted="unit.toml，含 [unit] 表")
        )
        return
    data = _read_bytes(file, UNIT_FILE, raw.issues)
    if data is None:
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raw.issues.append(
            Issue(ERROR, Source(UNIT_FILE), "不是 UTF-8 编码的文本", accepted=_TOML_ACCEPTED)
        )
        return
    try:
        document = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raw.issues.append(_toml_issue(str(exc)))
        return
    raw.unit_rows.update(_key_lines(text))
    unit = document.get("unit")
    if not isinstance(unit, dict):
        raw.issues.append(
            Issue(ERROR, Source(UNIT_FILE), "缺少 [unit] 表", accepted="[unit] 下写 name、year 等")
        )
        return
    by_header = {}
    for field in UNIT_FIELDS:
        for header in field.headers:
            by_header[header] = field
    for key, value in unit.items():
        field = by_header.get(key)
        if field is None:
            raw.issues.append(
                Issue(
                    WARNING,
                    Source(UNIT_FILE, column=key),
                    "未识别的单位信息项，已忽略",
                    accepted="、".join(f.key for f in UNIT_FIELDS),
                )
            )
            continue
        if isinstance(value, list | dict | bool | date | time):
            row = raw.unit_rows.get(field.key)
            raw.issues.append(
                Issue(
                    ERROR,
                    Source(UNIT_FILE, row=row, column=key),
                    f"应为一项文字或数字，现为{_TOML_KINDS.get(type(value), '日期或时间')}",
                    value=text.split("\n")[row - 1].strip() if row else key,
                    accepted=_TOML_ACCEPTED,
                )
            )
            continue
        raw.unit[field.key] = str(value)


_CSV_ACCEPTED = (
    "UTF-8 或 GB18030 编码、逗号分隔的 CSV：在 Excel 中“另存为”，"
    "保存类型选“CSV UTF-8（逗号分隔）”或“CSV（逗号分隔）”"
)
_TOML_ACCEPTED = (
    'UTF-8 编码的 TOML：[unit] 下一行一项，文字加英文双引号，如 name = "某某局"、year = 2024'
)
_TOML_KINDS = {list: "一组值（[ ]）", dict: "一个表（{ }）", bool: "真假值（true/false）"}
_UNPAIRED_QUOTE = "引号没有配对：文字两头都要有英文双引号，且在同一行"
# tomllib's messages (Python 3.11-3.13), said in words; the first that starts the message.
_TOML_WORDS = (
    ("Invalid value", "值的写法不对（文字要加英文双引号，数字不加）"),
    ("Expected '=' after a key", "项目名后面应为“=”"),
    (
        "Invalid initial character for a key",
        "项目名用英文字母、数字、_ 或 -，其他文字要加英文双引号",
    ),
    ("Unterminated string", _UNPAIRED_QUOTE),
    ("Illegal character '\\n'", _UNPAIRED_QUOTE),  # a line ends inside a string
    ("Unclosed", "括号没有配对"),
    ("Cannot overwrite a value", "同一项写了两次"),
    ("Cannot declare", "同一个表写了两次"),
    ("Expected newline or end of document", "一行只能写一项，这一项后面多了内容"),
    ("Expected ']", "表名的方括号没有配对"),
    ("Invalid statement", "这一行不是“项目名 = 值”的形式"),
    ("Illegal character", "有不能出现在这里的字符（如控制字符）"),
    ("Invalid date", "日期或时间的写法不对"),
)
_TOML_PLACE = re.compile(r"\(at line (\d+), column (\d+)\)$")
_TOML_KEY = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")


def _toml_issue(message: str) -> Issue:
    """A tomllib error as a sentence with its line and column, without tomllib's English."""
    words = next((w for prefix, w in _TOML_WORDS if message.startswith(prefix)), "写法不对")
    place = _TOML_PLACE.search(message)
    if place is None:  # "(at end of document)"
        where, line = "文件末尾", None
    else:
        line = int(place[1])
        where = f"第{place[2]}个字符处"
    return Issue(
        ERROR,
        Source(UNIT_FILE, row=line),
        f"不是有效的 TOML：{where}{words}",
        accepted=_TOML_ACCEPTED,
    )


def _key_lines(text: str) -> dict[str, int]:
    """The line of each unit field written in unit.toml (the first, if written twice)."""
    fields = {header: f.key for f in UNIT_FIELDS for header in f.headers}
    lines: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):  # lines as TOML counts them
        found = _TOML_KEY.match(line)
        key = found and fields.get(next(g for g in found.groups() if g is not None))
        if key:
            lines.setdefault(key, number)
    return lines


def _read_csv(data: bytes, name: str, table: Table, issues: list[Issue]) -> RawTable | None:
    utf16 = utf16_text(data, name, _CSV_ACCEPTED)
    if utf16 is not None:
        issues.append(utf16)
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    found: list[Issue] = []
    try:
        raw = _parse_csv(data, name, table, found)
    except UnicodeDecodeError:
        # polars reads UTF-8 only; Excel-saved CSV in China is often GB18030.
        try:
            data = data.decode("gb18030").encode("utf-8")
        except UnicodeDecodeError:
            issues.append(
                Issue(
                    ERROR,
                    Source(name),
                    "无法识别文件编码",
                    accepted=_CSV_ACCEPTED,
                )
            )
            return None
        found = []
        raw = _parse_csv(data, name, table, found)
    issues.extend(found)
    return raw


def _parse_csv(data: bytes, name: str, table: Table, issues: list[Issue]) -> RawTable | None:
    """The table from UTF-8 bytes; UnicodeDecodeError when they are not UTF-8.

    polars checks the encoding as it reads, so a valid file is not decoded twice.
    """
    end = data.find(b"\n")
    first_line = (data if end < 0 else data[:end]).decode("utf-8").rstrip("\r")
    if not first_line.strip():
        issues.append(Issue(ERROR, Source(name), "第一行是空的，应为列名", accepted="第一行为列名"))
        return None
    try:
        header = next(csv.reader([first_line]))
    except csv.Error:  # a carriage return alone inside the header line
        issues.append(
            Issue(
                ERROR,
                Source(name, row=1),
                "第一行（列名）中有单独的回车符，不是有效的 CSV 文件",
                accepted=_CSV_ACCEPTED,
            )
        )
        return None
    columns, header_issues = map_headers(table, header, Source(name))
    issues.extend(header_issues)
    index = ROW
    while index in header:  # a column of the file may bear the name: it is not one of ours
        index = "_" + index
    try:
        # Every cell is read as text; judging values is validation's job. The row numbers are
        # made by the reader, in the same chunks as the cells: a column of one chunk beside
        # columns of many makes every later query over the frame copy all its text first.
        frame = pl.read_csv(
            data,
            has_header=True,
            infer_schema=False,
            truncate_ragged_lines=True,
            row_index_name=index,
            row_index_offset=2,
        )
    except pl.exceptions.PolarsError as exc:
        if not _is_utf8(data):
            raise UnicodeDecodeError("utf-8", data, 0, len(data), "not UTF-8") from exc
        issues.append(Issue(ERROR, Source(name), f"不是有效的 CSV 文件：{exc}"))
        return None
    names = frame.columns[1:]  # after the row numbers
    wanted = [(column.key, names[p]) for p, column in columns.items() if p < len(names)]
    # The distinct values of the columns that repeat theirs, found for all of them in one
    # select, which runs them side by side.
    head = frame.head(_SAMPLE)
    repeating = [t for _, t in wanted if head.get_column(t).n_unique() < _REPEATING]
    found = frame.select(pl.col(t).unique().implode() for t in repeating) if repeating else None
    trimmed, distinct = [], {}
    for key, title in wanted:
        values = found.get_column(title)[0] if title in repeating else None
        expr, values = _trimmed(title, values)
        trimmed.append(expr.alias(key))
        if values is not None:
            distinct[key] = values.rename(key)
    frame = frame.select([*trimmed, pl.col(index).cast(pl.Int64).alias(ROW)])
    if wanted:
        blank = pl.all_horizontal([pl.col(key).is_null() for key, _ in wanted])
        if frame.select(blank.any()).item():
            frame = frame.filter(~blank)
    control_free = not data.translate(None, _NOT_CONTROL_LEAD)
    return RawTable(table, frame, name, control_free=control_free, distinct=distinct)


# A column whose first cells hold fewer distinct values than this is taken to repeat its values.
_REPEATING = 100
_SAMPLE = 1000


def _trimmed(name: str, values: pl.Series | None) -> tuple[pl.Expr, pl.Series | None]:
    """A column's cells without surrounding spaces, and empty cells as null; and the distinct
    values of the result, given those of the column when it repeats its values (else None).

    A column that repeats its values (phases, funds, codes, their names) needs that only if one
    of its distinct values does, which they tell at a third of the cost of trimming every cell;
    other columns (amounts, notes) are trimmed cell by cell, cheaper than finding their values.
    """
    column = pl.col(name)
    trimmed = column.str.strip_chars().replace("", None)
    if values is None:
        return trimmed, None
    changed = column.is_not_null() & (trimmed.is_null() | (trimmed != column))
    if not values.to_frame(name).select(changed.any()).item():
        return column, values
    return trimmed, values.to_frame(name).select(trimmed.unique()).to_series()


# Every byte but those a control character's UTF-8 can start with (C0, DEL, and C2, which leads
# U+0080–U+009F): a file left empty by deleting them has no control character in any cell. One
# pass over the bytes costs less than half of searching every column's cells.
_CONTROL_RE = re.compile(CONTROL)
_NOT_CONTROL_LEAD = bytes(
    b for b in range(256) if b != 0xC2 and not (b < 0x80 and _CONTROL_RE.match(chr(b)))
)


def _is_utf8(data: bytes) -> bool:
    """UTF-8 check without holding a decoded copy of a large file."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    step = 1 << 20
    try:
        for start in range(0, len(data), step):
            decoder.decode(view[start : start + step], final=start + step >= len(data))
    except UnicodeDecodeError:
        return False
    return True

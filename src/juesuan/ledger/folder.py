"""Read the folder form of a dataset: unit.toml, one CSV per table, texts/*.md."""

from __future__ import annotations

import codecs
import csv
import tomllib
from decimal import Decimal
from pathlib import Path

import polars as pl

from juesuan.ledger.issues import ERROR, WARNING, Issue, Source
from juesuan.ledger.raw import ROW, RawDataset, RawTable, map_headers
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
        document = tomllib.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raw.issues.append(Issue(ERROR, Source(UNIT_FILE), f"不是有效的 TOML 文件：{exc}"))
        return
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
        raw.unit[field.key] = str(value)


def _read_csv(data: bytes, name: str, table: Table, issues: list[Issue]) -> RawTable | None:
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
                    accepted="UTF-8 或 GB18030 编码的 CSV",
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
    header = next(csv.reader([first_line]))
    columns, header_issues = map_headers(table, header, Source(name))
    issues.extend(header_issues)
    try:
        # Every cell is read as text; judging values is validation's job.
        frame = pl.read_csv(data, has_header=True, infer_schema=False, truncate_ragged_lines=True)
    except pl.exceptions.PolarsError as exc:
        if not _is_utf8(data):
            raise UnicodeDecodeError("utf-8", data, 0, len(data), "not UTF-8") from exc
        issues.append(Issue(ERROR, Source(name), f"不是有效的 CSV 文件：{exc}"))
        return None
    names = frame.columns
    wanted = [(column.key, names[p]) for p, column in columns.items() if p < len(names)]
    frame = frame.with_row_index(ROW, offset=2).select(
        [pl.col(name).str.strip_chars().replace("", None).alias(key) for key, name in wanted]
        + [pl.col(ROW).cast(pl.Int64)]
    )
    if wanted:
        blank = pl.all_horizontal([pl.col(key).is_null() for key, _ in wanted])
        if frame.select(blank.any()).item():
            frame = frame.filter(~blank)
    return RawTable(table, frame, name)


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

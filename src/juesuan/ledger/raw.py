"""What a reader hands to validation: cells as text, with where each came from.

Both forms of a dataset (folder of CSV files, one workbook) read into a RawDataset; one validator
turns it into a Dataset. Readers only decode files and map headers; they judge no values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from juesuan.ledger.issues import ERROR, WARNING, Issue, Source
from juesuan.ledger.schema import Column, Table

ROW = "_row"  # the row number a person sees in the file or sheet (header = 1)
# Control characters other than tab and line breaks: invisible in a spreadsheet, they break the
# Word, PDF and web documents built later, so validation refuses them where they were typed.
CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]"

_BRACKETS = str.maketrans({"(": "（", ")": "）", "[": "（", "]": "）", "【": "（", "】": "）"})
_UNIT_SUFFIX = re.compile(r"（(元|万元|亿元|千元|人|个|次)）$")


@dataclass
class RawTable:
    table: Table
    frame: pl.DataFrame  # one String column per recognised Column.key, plus ROW (Int64)
    file: str  # the file name as the person knows it (spending.csv, or the workbook's name)
    sheet: str | None = None
    # The reader saw no control character anywhere in the file, so no cell needs searching.
    control_free: bool = False
    # The distinct values of the columns that repeat theirs, when the reader found them: checks
    # that depend on one such column judge these few values instead of every cell.
    distinct: dict[str, pl.Series] = field(default_factory=dict)

    def source(self, row: int | None = None, column: Column | None = None) -> Source:
        return Source(self.file, self.sheet, row, column.title if column else None)


@dataclass
class RawDataset:
    origin: str  # the folder or workbook path, for messages
    unit: dict[str, str]  # unit field key -> text
    unit_source: Source
    tables: dict[str, RawTable] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    texts_source: Source | None = None
    unit_rows: dict[str, int] = field(default_factory=dict)  # unit field key -> its sheet row
    text_sources: dict[str, Source] = field(default_factory=dict)  # text title -> where it is
    issues: list[Issue] = field(default_factory=list)  # problems found while reading


def normalise_header(text: str) -> str:
    return re.sub(r"\s+", "", str(text)).translate(_BRACKETS).replace("＊", "").replace("*", "")


def map_headers(
    table: Table, headers: list[str], where: Source
) -> tuple[dict[int, Column], list[Issue]]:
    """Match a header row to the table's columns: position -> Column, and the problems found.

    Accepts the Chinese title, the English key or an alias, with or without a unit suffix such as
    （元）. A money column whose header names another unit (万元) is an error, not a conversion.
    """
    wanted: dict[str, Column] = {}
    for column in table.columns:
        for name in column.headers:
            wanted[normalise_header(name)] = column
    found: dict[int, Column] = {}
    issues: list[Issue] = []
    for position, header in enumerate(headers):
        if header is None or str(header).strip() == "":
            continue
        name = normalise_header(header)
        unit = None
        match = _UNIT_SUFFIX.search(name)
        if match:
            unit = match.group(1)
            name = name[: match.start()]
        column = wanted.get(name)
        at = Source(where.file, where.sheet, 1, str(header))
        if column is None:
            issues.append(
                Issue(
                    WARNING,
                    at,
                    "未识别的列，已忽略其内容",
                    accepted="、".join(c.title for c in table.columns),
                )
            )
            continue
        if column.kind == "amount" and unit not in (None, "元"):
            issues.append(
                Issue(
                    ERROR,
                    at,
                    f"金额须以元为单位填写，此列标明为{unit}",
                    accepted=f"{column.title}（元）",
                )
            )
            continue
        if column in found.values():
            issues.append(Issue(ERROR, at, f"与前面的列重复，都是“{column.title}”"))
            continue
        found[position] = column
    present = set(found.values())
    for column in table.columns:
        if column.required and column not in present:
            issues.append(
                Issue(
                    ERROR,
                    Source(where.file, where.sheet, 1, column.title),
                    "缺少必填列",
                    accepted="、".join(column.headers),
                )
            )
    return found, issues


def frame_from_rows(
    table: Table, columns: dict[int, Column], rows: list[tuple[int, list]]
) -> pl.DataFrame:
    """Build the all-text frame from (row number, cells) pairs; blank rows are dropped."""
    data: dict[str, list] = {c.key: [] for c in columns.values()}
    numbers: list[int] = []
    for number, cells in rows:
        values = {}
        for position, column in columns.items():
            cell = cells[position] if position < len(cells) else None
            values[column.key] = cell_text(cell)
        if all(v is None for v in values.values()):
            continue
        numbers.append(number)
        for key, value in values.items():
            data[key].append(value)
    frame = pl.DataFrame(
        {**data, ROW: numbers}, schema={**{k: pl.String for k in data}, ROW: pl.Int64}
    )
    return frame


def cell_text(cell: object) -> str | None:
    """A cell as the text a person typed: numbers without float noise, blanks as None."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "是" if cell else "否"
    if isinstance(cell, float):
        text = repr(cell)
        return text[:-2] if text.endswith(".0") else text
    text = str(cell).strip()
    return text or None

"""Reading code tables: a user's CSV/XLSX (load_code_table) and the shipped tables by year."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path

from .table import (
    CONFIDENCES,
    ECONOMIC,
    FUNCTION,
    KIND_LABELS,
    Code,
    CodeTable,
    check_kind,
    lengths_text,
    level_of,
    normalize_code,
    parent_of,
)

# Shipped files per kind, in merge order: later files override earlier ones. The same files
# serve every year (see docs.md); base tables go last so that verified rows always win.
SHIPPED: dict[str, tuple[str, ...]] = {
    FUNCTION: ("function_classification_2020_supplement.csv", "function_classification_2024.csv"),
    ECONOMIC: ("economic_classification_dept_2024.csv",),
}
# The 类 rows of the 收入支出决算总表 by year, with the years each name is valid.
CLASSES_FILE = "function_classes.csv"
FIRST_YEAR = 2007  # 政府收支分类 took effect with the 2007 budget

# Accepted header spellings (compared without spaces, case-insensitively).
HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "编码", "科目编码", "代码", "科目代码", "分类编码"),
    "name": ("name", "名称", "科目名称", "分类名称"),
    "level": ("level", "级次", "级别", "层级", "科目级次"),
    "parent": ("parent", "上级编码", "上级科目编码", "上级", "父级编码"),
    "confidence": ("confidence", "可信度"),
    "source": ("source", "来源", "出处"),
}
_HEADER_SCAN_ROWS = 10
_SUFFIXES_CSV = (".csv", ".txt")
_SUFFIXES_XLSX = (".xlsx", ".xlsm")


def load_code_table(path: str | Path, kind: str, *, year: int | None = None) -> CodeTable:
    """Read a code table from CSV (UTF-8 with or without BOM, or GB18030) or XLSX (first sheet).

    Columns: code and name (required; 编码/科目编码, 名称/科目名称 accepted), level and parent
    (optional; checked against the code when given), confidence and source (optional). Any
    problem raises ValueError with one Chinese sentence naming the file and, where known, the row.
    """
    check_kind(kind)
    path = Path(path)
    label = path.name or str(path)
    if not path.is_file():
        raise ValueError(f"找不到科目表文件“{label}”")
    suffix = path.suffix.lower()
    if suffix in _SUFFIXES_CSV:
        rows = _read_csv(path, label)
    elif suffix in _SUFFIXES_XLSX:
        rows = _read_xlsx(path, label)
    elif suffix == ".xls":
        raise ValueError(
            f"科目表文件“{label}”是旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 CSV 后再导入"
        )
    else:
        raise ValueError(f"科目表文件“{label}”的类型不支持：请使用 .csv 或 .xlsx 文件")
    codes = _parse_rows(rows, label, kind, default_source=label)
    return CodeTable(kind, codes, year=year, complete=True, origin=f"科目表文件“{label}”")


def function_codes(year: int) -> CodeTable:
    """The 支出功能分类 table for `year`: the user's imported one, else the shipped one."""
    return _in_use(FUNCTION, check_year(year))


def economic_codes(year: int) -> CodeTable:
    """The 部门预算支出经济分类 table for `year`: the user's imported one, else the shipped one."""
    return _in_use(ECONOMIC, check_year(year))


def shipped_codes(kind: str, year: int) -> CodeTable:
    """The table shipped with juesuan for `year` (partial; see docs.md), whatever the user imported."""
    return _shipped(check_kind(kind), check_year(year))


def summary_classes(year: int) -> tuple[Code, ...]:
    """The 类 rows that `year`'s 收入支出决算总表 prints, in code order, named as in that year.

    Names come from the user's imported function table for the year when it has the code.
    """
    check_year(year)
    named = function_codes(year)
    return tuple(_renamed(row.code, named) for row in _classes_of(year) if row.printed)


def class_names() -> tuple[tuple[str, str], ...]:
    """Every (code, name) a 总表 class row has had in any year (old names too), for reading
    published documents of any year."""
    return tuple((row.code.code, row.code.name) for row in _class_rows())


def _in_use(kind: str, year: int) -> CodeTable:
    # Imported here: the store imports this module for parsing.
    from .store import stored_table

    return stored_table(kind, year) or _shipped(kind, year)


# -- shipped tables -----------------------------------------------------------------------------


def check_year(year: int) -> int:
    if not isinstance(year, int) or isinstance(year, bool) or year < FIRST_YEAR:
        raise ValueError(
            f"年度应为{FIRST_YEAR}年及以后的整数（政府收支分类自{FIRST_YEAR}年起施行），收到的是“{year}”"
        )
    return year


@cache
def _shipped_codes(kind: str) -> tuple[Code, ...]:
    merged: dict[str, Code] = {}
    for filename in SHIPPED[kind]:
        text = resources.files(__package__).joinpath("data", filename).read_text("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        for code in _parse_rows(rows, filename, kind, default_source=filename):
            merged[code.code] = code
    return tuple(merged.values())


@dataclass(frozen=True)
class _ClassRow:
    code: Code
    first_year: int | None
    last_year: int | None
    printed: bool  # printed in the 总表 even when empty; otherwise only a known class

    def in_year(self, year: int) -> bool:
        return (self.first_year or year) <= year <= (self.last_year or year)


@cache
def _class_rows() -> tuple[_ClassRow, ...]:
    text = resources.files(__package__).joinpath("data", CLASSES_FILE).read_text("utf-8")
    rows = []
    for line, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
        source = f"{CLASSES_FILE} 第{line}行: {row['source']}"
        code = Code(row["code"], row["name"], "类", None, row["confidence"], source)
        first, last = (int(row[k]) if row[k] else None for k in ("first_year", "last_year"))
        rows.append(_ClassRow(code, first, last, row["printed"] == "yes"))
    return tuple(rows)


def _classes_of(year: int) -> list[_ClassRow]:
    return [row for row in _class_rows() if row.in_year(year)]


def _renamed(code: Code, table: CodeTable) -> Code:
    name = table.name(code.code)
    return code if name is None or name == code.name else replace(code, name=name)


@cache
def _shipped(kind: str, year: int) -> CodeTable:
    codes = {code.code: code for code in _shipped_codes(kind)}
    if kind == FUNCTION:
        # The year's 类 names win where they differ (文化体育与传媒支出 until 2018).
        for row in _classes_of(year):
            known = codes.get(row.code.code)
            if known is None or known.name != row.code.name:
                codes[row.code.code] = row.code
    origin = f"内置{year}年{KIND_LABELS[kind]}科目表"
    return CodeTable(kind, codes.values(), year=year, complete=False, origin=origin)


# -- readers: bytes -> rows of cells ------------------------------------------------------------


def _read_csv(path: Path, label: str) -> list[list[object]]:
    try:
        data = path.read_bytes()
    except OSError:
        raise ValueError(f"无法读取科目表文件“{label}”") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(f"科目表文件“{label}”不是文本 CSV：请另存为 UTF-8 编码的 CSV") from None
    if "\x00" in text:
        raise ValueError(f"科目表文件“{label}”不是文本 CSV：请另存为 UTF-8 编码的 CSV")
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), strict=True)]
    except csv.Error:
        raise ValueError(f"科目表文件“{label}”不是有效的 CSV：引号或分隔符有误") from None


def _read_xlsx(path: Path, label: str) -> list[list[object]]:
    # Imported here so that the shipped CSV tables load without touching openpyxl.
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises zip, XML, key and type errors for damaged files
        raise ValueError(f"科目表文件“{label}”不是有效的 Excel 工作簿（.xlsx），无法打开") from None
    try:
        if not workbook.worksheets:
            raise ValueError(f"科目表文件“{label}”中没有工作表")
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    except ValueError:
        raise
    except Exception:
        raise ValueError(f"科目表文件“{label}”的第一个工作表已损坏，无法读取") from None
    finally:
        workbook.close()


# -- rows -> codes ------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_key(value: object) -> str:
    return "".join(_cell_text(value).split()).lower()


def _find_header(rows: Sequence[Sequence[object]], label: str) -> tuple[int, dict[str, int]]:
    """The first row (within the first few non-empty ones) naming both a code and a name column.

    A header matches a known spelling exactly, or else by its words: one with 编码/代码 is the
    code column and one with 名称 the name column (功能分类科目编码, 经济分类科目名称).
    """
    aliases = {alias.lower(): field for field, names in HEADERS.items() for alias in names}
    seen = 0
    for index, row in enumerate(rows):
        if not any(_cell_text(cell) for cell in row):
            continue
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            field = aliases.get(_header_key(cell)) or _field_by_words(_header_key(cell))
            if field is not None and field not in columns:
                columns[field] = position
        if "code" in columns and "name" in columns:
            return index, columns
        seen += 1
        if seen >= _HEADER_SCAN_ROWS:
            break
    if seen == 0:
        raise ValueError(f"科目表文件“{label}”是空的")
    raise ValueError(
        f"科目表文件“{label}”缺少表头：需要“编码”（code、科目编码）和“名称”（name、科目名称）两列"
    )


def _field_by_words(header: str) -> str | None:
    if "上级" in header:
        return None
    if "编码" in header or "代码" in header:
        return "code"
    if "名称" in header:
        return "name"
    return None


class CodeFileError(ValueError):
    """A code table file with bad rows: `problems` holds one Chinese sentence per bad cell."""

    def __init__(self, label: str, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"科目表文件“{label}”有{len(self.problems)}处错误：\n" + "\n".join(
                self.problems
            )
        super().__init__(message)


def _parse_rows(
    rows: Sequence[Sequence[object]], label: str, kind: str, *, default_source: str
) -> list[Code]:
    """Codes from the rows under the header; every bad row is named (row, column) before failing."""
    header_index, columns = _find_header(rows, label)
    header = rows[header_index]
    codes: dict[str, Code] = {}
    problems: list[str] = []

    def cell(row: Sequence[object], field: str) -> str:
        position = columns.get(field)
        if position is None or position >= len(row):
            return ""
        return _cell_text(row[position])

    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        line = index + 1  # as a person sees it in Excel or an editor
        if not any(_cell_text(value) for value in row):
            continue

        def bad(field: str, text: str, line: int = line) -> None:
            problems.append(
                f"科目表文件“{label}”第{line}行{_column_ref(header, columns[field])}：{text}"
            )

        written = cell(row, "code")
        code = normalize_code(written)
        name = cell(row, "name")
        if not code:
            bad("code", f"没有科目编码{f'（名称为“{name}”）' if name else ''}")
            continue
        level = level_of(code, kind)
        if level is None:
            bad(
                "code",
                f"科目编码“{written}”格式不对：{KIND_LABELS[kind]}应为{lengths_text(kind)}位数字",
            )
            continue
        if not name:
            bad("name", f"科目编码“{code}”没有名称")
            continue
        given_level = cell(row, "level")
        if given_level and given_level != level:
            bad(
                "level",
                f"科目编码“{code}”是{len(code)}位，级次应为“{level}”，填的是“{given_level}”",
            )
            continue
        parent = parent_of(code, kind)
        given_parent = normalize_code(cell(row, "parent"))
        if given_parent and given_parent != parent:
            bad(
                "parent",
                f"科目编码“{code}”的上级编码应为“{parent or '无'}”，填的是“{given_parent}”",
            )
            continue
        confidence = cell(row, "confidence") or "high"
        if confidence not in CONFIDENCES:
            bad("confidence", f"可信度应为 high、medium 或 unverified，填的是“{confidence}”")
            continue
        source = cell(row, "source") or f"{default_source} 第{line}行"
        previous = codes.get(code)
        if previous is not None:
            if previous.name != name:
                bad("name", f"科目编码“{code}”重复出现，名称不同（“{previous.name}”与“{name}”）")
            continue
        codes[code] = Code(code, name, level, parent, confidence, source)
    if problems:
        raise CodeFileError(label, problems)
    if not codes:
        raise ValueError(f"科目表文件“{label}”只有表头，没有任何科目行")
    return list(codes.values())


def _column_ref(header: Sequence[object], position: int) -> str:
    """ "B列（科目名称）": the column's letter as a spreadsheet shows it, and its header."""
    from openpyxl.utils import get_column_letter  # only when a message is written

    return f"{get_column_letter(position + 1)}列（{_cell_text(header[position])}）"

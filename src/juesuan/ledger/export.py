"""Write a Dataset back out: as the folder form, as a workbook, or as the empty template.

`table_rows` turns a Dataset into plain rows per schema table (Python values: Decimal 元, int,
str); both writers start from it, so the folder, the workbook and the template say the same thing.
The workbook is written with XlsxWriter: a 填表说明 sheet generated from the schema, one sheet per
table with bold frozen headers, drop-down lists, amounts as numbers in "#,##0.00", codes as text,
and a hidden 代码表 sheet holding the lists.
"""

from __future__ import annotations

import csv
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import tomli_w
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from juesuan.files import replaced, replaced_folder
from juesuan.ledger.model import Dataset
from juesuan.ledger.schema import (
    BALANCE_KINDS,
    BALANCES_TABLE,
    DEPARTMENT_SCORES_TABLE,
    FACT_HELP,
    FACT_KEYS,
    FACTS_TABLE,
    FUNDS,
    INCOME,
    INCOME_TABLE,
    INDICATORS_TABLE,
    MAX_UNPACKED_BYTES,
    MONITORING_TABLE,
    NATURES,
    PERFORMANCE_DATA_TABLE,
    PHASES,
    PRIOR_YEAR_KEYS,
    PRIOR_YEAR_TABLE,
    PROCUREMENT_KINDS,
    PROJECT_GOALS_TABLE,
    PROJECTS_TABLE,
    REASON_KINDS,
    SPENDING,
    SPENDING_TABLE,
    TABLES,
    TEXTS_TABLE,
    THREE_PUBLIC_ITEMS,
    UNIT_FIELDS,
    Column,
    Table,
)
from juesuan.money import CENT, DIGIT_RULE, MAX_AMOUNT, from_fen

UNIT_SHEET = "单位信息"
HELP_SHEET = "填表说明"
CODES_SHEET = "代码表"
UNIT_FILE = "unit.toml"
TEXTS_DIR = "texts"

VALIDATION_ROWS = 2000  # drop-downs reach at least this many data rows
EXCEL_CELL_MAX = 32767  # characters Excel keeps in one cell
AMOUNT_FORMAT = "#,##0.00"
COUNT_FORMAT = "0"

Row = dict[str, object]


# ---- rows ------------------------------------------------------------------------------------


def table_rows(dataset: Dataset) -> dict[str, list[Row]]:
    """Each schema table's rows, keyed by Column.key, with Python values (Decimal 元, int, str).

    Ledger lines go to 收入, 支出 or 结转结余 by direction; code names come from the shipped code
    tables for the dataset's year when they know the code.
    """
    rows: dict[str, list[Row]] = {table.key: [] for table in TABLES}
    rows.update(_line_rows(dataset))
    rows[FACTS_TABLE.key] = [
        _row(FACTS_TABLE, key=fact.key, value=fact.value, note=fact.note)
        for fact in _ordered(dataset.facts, tuple(FACT_KEYS))
    ]
    rows[PRIOR_YEAR_TABLE.key] = [
        _row(PRIOR_YEAR_TABLE, key=fact.key, amount=fact.value, note=fact.note)
        for fact in _ordered(dataset.prior_year, PRIOR_YEAR_KEYS)
    ]
    rows[PROJECTS_TABLE.key] = [
        _row(PROJECTS_TABLE, name=p.name, code=p.code, kind=p.kind, note=p.note)
        for p in dataset.projects.values()
    ]
    rows["units"] = [{"name": u.name, "note": u.note} for u in dataset.units]
    rows["purposes"] = [
        {"topic": topic, "purpose": purpose} for topic, purpose in dataset.purposes.items()
    ]
    reasons = sorted(dataset.reasons.items(), key=lambda item: _rank(REASON_KINDS, item[0][0]))
    rows["reasons"] = [
        {"kind": kind, "topic": topic, "reason": reason} for (kind, topic), reason in reasons
    ]
    three_public = sorted(
        dataset.three_public,
        key=lambda t: (_rank(THREE_PUBLIC_ITEMS, t.item), _rank(FUNDS, t.fund)),
    )
    rows["three_public"] = [
        {
            "item": t.item,
            "fund": t.fund,
            "budget": t.budget,
            "actual": t.actual,
            "batches": t.batches,
            "persons": t.persons,
            "note": t.note,
        }
        for t in three_public
    ]
    rows.update(_performance_rows(dataset))
    procurement = sorted(dataset.procurement, key=lambda p: _rank(PROCUREMENT_KINDS, p.kind))
    rows["procurement"] = [
        {
            "kind": p.kind,
            "amount": p.amount,
            "sme_amount": p.sme_amount,
            "small_micro_amount": p.small_micro_amount,
            "note": p.note,
        }
        for p in procurement
    ]
    return rows


def _performance_rows(dataset: Dataset) -> dict[str, list[Row]]:
    """预算绩效 tables in the order they were read: cells as written, numbers as Decimal."""
    return {
        INDICATORS_TABLE.key: [
            _row(
                INDICATORS_TABLE,
                project=i.project,
                level1=i.level1,
                level2=i.level2,
                level3=i.level3,
                direction=i.direction,
                target=i.target,
                unit=i.unit,
                weight=i.weight,
                actual=i.actual,
                tier=i.tier,
                actual_source=i.actual_source,
                score=i.score,
                reason=i.reason,
                note=i.note,
            )
            for i in dataset.indicators
        ],
        PROJECT_GOALS_TABLE.key: [
            _row(
                PROJECT_GOALS_TABLE,
                project=g.project,
                expected=g.expected,
                achieved=g.achieved,
                problems=g.problems,
                measures=g.measures,
                stated_rate=g.stated_rate,
                note=g.note,
            )
            for g in dataset.project_goals.values()
        ],
        MONITORING_TABLE.key: [
            _row(
                MONITORING_TABLE,
                project=c.project,
                period=c.period,
                planned=c.planned,
                actual=c.actual,
                reason=c.reason,
                action=c.action,
                note=c.note,
            )
            for c in dataset.monitoring
        ],
        DEPARTMENT_SCORES_TABLE.key: [
            _row(
                DEPARTMENT_SCORES_TABLE,
                item=d.item,
                score=d.score,
                explanation=d.explanation,
                note=d.note,
            )
            for d in dataset.department_scores
        ],
        PERFORMANCE_DATA_TABLE.key: [
            _row(
                PERFORMANCE_DATA_TABLE,
                project=m.project,
                key=m.key,
                value=m.value,
                sum_of="、".join(m.sum_of) or None,
                note=m.note,
            )
            for m in dataset.performance_data
        ],
    }


def unit_rows(dataset: Dataset | None) -> list[tuple[Column, str]]:
    """单位信息 as (field, text) in UNIT_FIELDS order; "" where the dataset has no value."""
    result = []
    for field in UNIT_FIELDS:
        value = getattr(dataset.unit, field.key, None) if dataset is not None else None
        result.append((field, "" if value is None else _plain(value)))
    return result


def _row(table: Table, **values: object) -> Row:
    return {column.key: values.get(column.key) for column in table.columns}


def _rank(vocabulary: Sequence[str], value: str | None) -> tuple[int, str]:
    """Sort by a vocabulary's own order; values outside it come after, alphabetically."""
    if value in vocabulary:
        return (vocabulary.index(value), "")
    return (len(vocabulary), value or "")


def _ordered(facts: Mapping[str, object], order: Sequence[str]) -> list:
    return [facts[key] for key in sorted(facts, key=lambda k: _rank(order, k))]


def _line_rows(dataset: Dataset) -> dict[str, list[Row]]:
    functions, economics = _code_tables(dataset.unit.year)
    income: list[tuple[tuple, Row]] = []
    spending: list[tuple[tuple, Row]] = []
    balances: list[tuple[tuple, Row]] = []
    own = dataset.unit.name
    for line in dataset.ledger.frame.iter_rows(named=True):
        amount = from_fen(line["amount_fen"])
        unit = None if line["unit"] == own else line["unit"]
        function_code = line["function_code"]
        economic_code = line["economic_code"]
        key = (
            unit or "",
            _rank(PHASES, line["phase"]),
            function_code or "",
            economic_code or "",
            _rank(NATURES, line["nature"]),
            line["project"] or "",
            amount,
            _rank(FUNDS, line["fund"]),
            line["note"] or "",
        )
        direction = line["direction"]
        if direction in (INCOME, SPENDING):
            row = {
                "phase": line["phase"],
                "fund": line["fund"],
                "function_code": function_code,
                "function_name": _name(functions, function_code),
                "economic_code": economic_code,
                "economic_name": _name(economics, economic_code),
                "nature": line["nature"],
                "project": line["project"],
                "amount": amount,
                "unit": unit,
                "note": line["note"],
            }
            table = INCOME_TABLE if direction == INCOME else SPENDING_TABLE
            target = income if direction == INCOME else spending
            target.append((key, {c.key: row.get(c.key) for c in table.columns}))
        else:
            row = {
                "kind": direction,
                "fund": line["fund"],
                "function_code": function_code,
                "amount": amount,
                "unit": unit,
                "note": line["note"],
            }
            balances.append(((_rank(BALANCE_KINDS, direction), *key), row))
    return {
        table.key: [row for _, row in sorted(found, key=lambda item: item[0])]
        for table, found in (
            (INCOME_TABLE, income),
            (SPENDING_TABLE, spending),
            (BALANCES_TABLE, balances),
        )
    }


def _code_tables(year: int | None) -> tuple[object | None, object | None]:
    """The shipped function and economic code tables for `year`, or None where unavailable."""
    try:
        from juesuan.codes import economic_codes, function_codes
    except ImportError:  # the code tables are optional for export: rows just lack names
        return None, None
    if year is None:
        year = date.today().year - 1  # a template is usually filled for last year's accounts
    try:
        return function_codes(year), economic_codes(year)
    except (ValueError, LookupError, OSError):
        return None, None


def _name(codes: object | None, code: str | None) -> str | None:
    if codes is None or not code:
        return None
    return codes.name(code)


# ---- texts -----------------------------------------------------------------------------------


def _plain(value: object) -> str:
    """A value as the text written to a CSV cell or unit.toml: Decimal never via float."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _cell(column: Column, value: object) -> str:
    if value is None:
        return ""
    if column.kind == "amount" and isinstance(value, Decimal):
        return format(value.quantize(CENT), "f")
    return _plain(value)


# ---- folder form -----------------------------------------------------------------------------

_BAD_NAME_CHARS = set('<>:"/\\|?*')


def write_folder(dataset: Dataset, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the folder form: unit.toml, one CSV per table, texts/<标题>.md.

    Everything is written into a temporary sibling folder first and renamed into place at the end,
    so a failure never leaves a half-written dataset. An existing non-empty folder is replaced only
    with `overwrite=True`.
    """
    target = Path(path)
    _check_target(target, overwrite, folder=True)
    for title in dataset.texts:
        _check_text_title(title)
    rows = table_rows(dataset)
    with replaced_folder(target) as temporary:
        unit = {}
        for field, text in unit_rows(dataset):
            value = getattr(dataset.unit, field.key, None)
            if value is None or text == "":
                continue
            unit[field.key] = value if isinstance(value, (int, Decimal)) else text
        (temporary / UNIT_FILE).write_text(tomli_w.dumps({"unit": unit}), encoding="utf-8")
        for table in TABLES:
            with (temporary / table.file).open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow([column.title for column in table.columns])
                for row in rows[table.key]:
                    writer.writerow([_cell(c, row.get(c.key)) for c in table.columns])
        if dataset.texts:
            texts = temporary / TEXTS_DIR
            texts.mkdir()
            for title, body in dataset.texts.items():
                (texts / f"{title}.md").write_text(body.rstrip("\n") + "\n", encoding="utf-8")
    return target


def _check_target(target: Path, overwrite: bool, *, folder: bool) -> None:
    if folder:
        if target.exists() and not target.is_dir():
            raise FileExistsError(f"“{target}”已存在且不是文件夹，不能写入数据集")
        if target.is_dir() and any(target.iterdir()) and not overwrite:
            raise FileExistsError(f"文件夹“{target}”已存在且不为空；如要覆盖，请指定覆盖")
    elif target.is_dir():
        raise IsADirectoryError(f"“{target}”是文件夹，不能写成工作簿")


def _check_text_title(title: str) -> None:
    bad = (
        not title
        or title.strip() != title
        or title in (".", "..")
        or any(ch in _BAD_NAME_CHARS or unicodedata.category(ch) == "Cc" for ch in title)
    )
    if bad:
        raise ValueError(
            f'文字说明的标题“{title}”不能用作文件名（不能为空，不能含 < > : " / \\ | ? * 等字符）'
        )


# ---- workbook form ---------------------------------------------------------------------------

_KIND_TEXT = {
    "text": "文字",
    "amount": "金额，以元为单位，最多两位小数",
    "count": "非负整数",
    "number": "数字",
    "function_code": "功能分类科目编码（按文本填写，3/5/7位）",
    "economic_code": "经济分类科目编码（按文本填写，3/5位）",
    "choice": "从下拉列表选择",
    "date": "日期",
}
_FACT_KIND_TEXT = {
    "amount": "金额（元）",
    "count": "整数（人数、辆数、台数、个数）",
    "number": "数字",
}
_TEXT_COLUMNS = ("function_code", "economic_code")  # kept as text so leading zeros survive
_CODES_AS_TEXT = {(PROJECTS_TABLE.key, "code"), ("purposes", "topic")}  # codes in a text column
_LIST_TITLES = {
    PHASES: "阶段",
    FUNDS: "资金来源",
    NATURES: "支出性质",
    BALANCE_KINDS: "结转结余类型",
    THREE_PUBLIC_ITEMS: "三公经费项目",
    PROCUREMENT_KINDS: "政府采购类别",
    REASON_KINDS: "变动原因类型",
}
EXCEL_MAX_ROW = 1_048_575  # the last row index (0-based) of a worksheet


def write_workbook(dataset: Dataset | None, path: str | Path) -> Path:
    """Write the workbook form of `dataset`; `None` writes the empty template.

    The file is written next to its destination and renamed into place when complete.
    """
    target = Path(path)
    _check_target(target, overwrite=True, folder=False)
    with replaced(target) as temporary:
        _write_workbook(dataset, temporary)
    return target


class _Lists:
    """The hidden 代码表 sheet: one column per list, each list written once and shared."""

    def __init__(self, book: xlsxwriter.Workbook, header) -> None:
        self.sheet = book.add_worksheet(CODES_SHEET)
        self.header = header
        self.next_column = 0
        self.ranges: dict[tuple[str, ...], str] = {}

    def add(self, title: str, values: Sequence[str], names: Sequence[str] | None = None) -> str:
        """Write a list (and optionally a names column beside it); return its absolute range."""
        values = tuple(values)
        if values in self.ranges:
            return self.ranges[values]
        column = self.next_column
        self.sheet.write_string(0, column, title, self.header)
        for row, value in enumerate(values, start=1):
            _write_text(self.sheet, row, column, value)
        self.sheet.set_column(column, column, _width([title, *values]))
        self.next_column += 1
        if names is not None:
            self.sheet.write_string(0, column + 1, title.replace("编码", "名称"), self.header)
            for row, name in enumerate(names, start=1):
                _write_text(self.sheet, row, column + 1, name)
            self.sheet.set_column(column + 1, column + 1, _width([title, *names]))
            self.next_column += 1
        letter = xl_col_to_name(column)
        last = max(len(values), 1) + 1
        reference = f"='{CODES_SHEET}'!${letter}$2:${letter}${last}"
        self.ranges[values] = reference
        return reference


def _write_workbook(dataset: Dataset | None, path: Path) -> None:
    book = xlsxwriter.Workbook(
        str(path), {"strings_to_numbers": False, "strings_to_formulas": False}
    )
    try:
        formats = _Formats(book)
        year = dataset.unit.year if dataset is not None else None
        if dataset is not None:
            book.set_properties({"title": f"{dataset.unit.name} {dataset.unit.year}年决算数据"})
        rows = table_rows(dataset) if dataset is not None else {t.key: [] for t in TABLES}
        help_sheet = book.add_worksheet(HELP_SHEET)
        unit_sheet = book.add_worksheet(UNIT_SHEET)
        table_sheets = [(table, book.add_worksheet(table.title)) for table in TABLES]
        texts_sheet = book.add_worksheet(TEXTS_TABLE.title)
        lists = _Lists(book, formats.header)
        lists.sheet.hide()

        vocabularies = _vocabularies(lists, rows, year)
        _write_help(help_sheet, formats)
        _write_unit(unit_sheet, dataset, formats)
        for table, sheet in table_sheets:
            _write_table(sheet, table, rows[table.key], formats, vocabularies)
        _write_texts(texts_sheet, dataset.texts if dataset is not None else {}, formats)
        help_sheet.activate()
    finally:
        book.close()


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter"}
        self.header = book.add_format(
            {**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
        )
        self.star = book.add_format({**base, "bold": True, "font_color": "#C00000"})
        self.bold = book.add_format({**base, "bold": True})
        self.title = book.add_format({**base, "bold": True, "font_size": 14})
        self.text = book.add_format({**base, "num_format": "@"})
        self.plain = book.add_format(base)
        self.wrap = book.add_format({**base, "text_wrap": True, "valign": "top"})
        self.amount = book.add_format({**base, "num_format": AMOUNT_FORMAT})
        self.count = book.add_format({**base, "num_format": COUNT_FORMAT})


def _vocabularies(lists: _Lists, rows: Mapping[str, list[Row]], year: int | None) -> dict:
    """Write every drop-down list to 代码表; return column key/choices -> (range, strict)."""
    found: dict[object, tuple[str, bool]] = {}
    for table in TABLES:
        for column in table.columns:
            if column.kind == "choice" and column.choices not in found:
                title = _LIST_TITLES.get(column.choices, f"{table.title}{column.title}")
                found[column.choices] = (lists.add(title, column.choices), True)
    found[(FACTS_TABLE.key, "key")] = (lists.add("其他事项", tuple(FACT_KEYS)), False)
    found[(PRIOR_YEAR_TABLE.key, "key")] = (lists.add("上年数项目", PRIOR_YEAR_KEYS), False)
    functions, economics = _code_tables(year)
    for kind, codes, title in (
        ("function_code", functions, "功能分类科目编码"),
        ("economic_code", economics, "经济分类科目编码"),
    ):
        known = {code.code: code.name for code in codes} if codes is not None else {}
        for table_rows_ in rows.values():
            for row in table_rows_:
                value = row.get(kind)
                if value and value not in known:
                    known[str(value)] = ""
        if known:
            ordered = sorted(known)
            found[kind] = (lists.add(title, ordered, [known[c] for c in ordered]), False)
    return found


def _write_help(sheet, formats: _Formats) -> None:
    sheet.set_column(0, 0, 14, formats.wrap)
    sheet.set_column(1, 1, 26, formats.wrap)
    sheet.set_column(2, 2, 6, formats.wrap)
    sheet.set_column(3, 3, 90, formats.wrap)
    sheet.set_paper(9)  # A4
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # as wide as one page, as long as it needs
    lines: list[tuple[object, ...]] = [
        ("部门决算数据填报说明",),
        (),
        ("一、通用规则",),
        (
            "1.",
            "金额",
            "",
            "一律以元为单位，最多两位小数（如 12345.67）；不要填万元，不要带单位或符号。"
            "千分位逗号只能每三位一个（1,234,567.89 可以，12,34 不可以）；"
            f"绝对值不超过 {MAX_AMOUNT:,} 元。",
        ),
        ("2.", "数字", "", f"{DIGIT_RULE}。适用于金额、人数、年度、编码等所有数字。"),
        (
            "3.",
            "文字",
            "",
            "可以换行；不能含看不见的控制字符（从网页或其他系统复制时可能带入），导入时会指出所在位置。",
        ),
        (
            "4.",
            "文件大小",
            "",
            f"工作簿解压后不超过 {MAX_UNPACKED_BYTES // 2**20} MB（约 40 万行），超过的不读取。",
        ),
        (
            "5.",
            "编码",
            "",
            "功能分类、经济分类编码按文本填写（如 2080109、30101），可从下拉列表选择；"
            "列表外的编码也能填写，导入时给出警告。",
        ),
        ("6.", "阶段", "", "“阶段”空着即为“决算”；年初预算、调整预算在同一张表中另起一行填写。"),
        ("7.", "必填", "", "表头带红色 * 的列为必填列。请不要修改工作表名称和表头。"),
        ("8.", "合计行", "", "不必填写合计、小计行，系统按明细计算；填了也会与明细核对。"),
        ("9.", "空表", "", "没有数据的表保留表头即可；“收入”“支出”两张表必须有。"),
        ("10.", "代码表", "", "隐藏的“代码表”工作表存放下拉列表的内容，请勿修改；导入时不读取。"),
        (),
        ("二、各工作表与列",),
        ("工作表", "列", "必填", "可填内容与说明"),
    ]
    lines.append(
        (UNIT_SHEET, "", "是", "单位名称、年度等基本信息：“项目”列不要改，在“内容”列填写。")
    )
    for field in UNIT_FIELDS:
        lines.append(("", field.title, _yes(field.required), _describe(field)))
    for table in (*TABLES, TEXTS_TABLE):
        lines.append((table.title, "", _yes(table.required), table.help))
        for column in table.columns:
            lines.append(("", _header_title(column), _yes(column.required), _describe(column)))
    lines += [
        (),
        ("三、“其他事项”可填的事项",),
        ("", "事项", "", "数值"),
        *(
            (
                "",
                key,
                "",
                _FACT_KIND_TEXT[kind] + (f"：{FACT_HELP[key]}" if key in FACT_HELP else ""),
            )
            for key, kind in FACT_KEYS.items()
        ),
        (),
        ("四、“上年数”可填的项目",),
        ("", "项目", "", "上年决算数"),
        *(("", key, "", "金额（元）") for key in PRIOR_YEAR_KEYS),
        (
            "",
            "功能分类编码",
            "",
            "金额（元）：也可填功能分类编码（3/5/7位，如 208），填该科目上年决算数",
        ),
    ]
    strong = {
        "一、通用规则",
        "二、各工作表与列",
        "三、“其他事项”可填的事项",
        "四、“上年数”可填的项目",
    }
    for row, cells in enumerate(lines):
        for column, value in enumerate(cells):
            text = str(value)
            if not text:
                continue
            if row == 0:
                fmt = formats.title
            elif text in strong or cells[0] == "工作表" or (column == 0 and len(cells) > 1):
                fmt = formats.bold
            else:
                fmt = formats.wrap
            _write_text(sheet, row, column, text, fmt)


def _yes(required: bool) -> str:
    return "是" if required else "否"


def _describe(column: Column) -> str:
    kind = "年份，如 2020" if column.key == "year" else _KIND_TEXT.get(column.kind, column.kind)
    parts = [kind + ("：" + "、".join(column.choices) if column.choices else "")]
    if column.help and column.help not in kind:
        parts.append(column.help)
    if column.default and "空着" not in column.help:
        parts.append(f"空着即“{column.default}”")
    others = [name for name in column.headers if name != column.title]
    if others:
        parts.append("表头也可写作 " + "、".join(others))
    return "；".join(parts)


def _header_title(column: Column) -> str:
    return f"{column.title}（元）" if column.kind == "amount" else column.title


def _write_header(sheet, row: int, column: int, title: str, required: bool, formats) -> None:
    if required:
        sheet.write_rich_string(
            row, column, formats.header, title, formats.star, "*", formats.header
        )
    else:
        sheet.write_string(row, column, title, formats.header)


def _write_unit(sheet, dataset: Dataset | None, formats: _Formats) -> None:
    sheet.write_string(0, 0, "项目", formats.header)
    sheet.write_string(0, 1, "内容", formats.header)
    sheet.write_string(0, 2, "说明", formats.header)
    values = unit_rows(dataset)
    for row, (field, text) in enumerate(values, start=1):
        _write_header(sheet, row, 0, field.title, field.required, formats)
        if text:
            _write_text(sheet, row, 1, text, formats.text)
        notes = ["必填" if field.required else "", field.help]
        if field.default:
            notes.append(f"空着即“{field.default}”")
        help_text = "；".join(note for note in notes if note)
        if help_text:
            _write_text(sheet, row, 2, help_text, formats.plain)
    sheet.set_column(0, 0, _width([f.title + "*" for f in UNIT_FIELDS]))
    sheet.set_column(1, 1, max(24, _width([t for _, t in values])), formats.text)
    sheet.set_column(2, 2, 50)
    sheet.freeze_panes(1, 0)


def _write_table(sheet, table: Table, rows: list[Row], formats: _Formats, lists: dict) -> None:
    if len(rows) > EXCEL_MAX_ROW:
        raise ValueError(
            f"“{table.title}”有 {len(rows)} 行，超过 Excel 工作表的行数上限；请改用文件夹形式导出"
        )
    for position, column in enumerate(table.columns):
        _write_header(sheet, 0, position, _header_title(column), column.required, formats)
    for number, row in enumerate(rows, start=1):
        fact_kind = FACT_KEYS.get(str(row.get("key"))) if table is FACTS_TABLE else None
        for position, column in enumerate(table.columns):
            value = row.get(column.key)
            if value is None or value == "":
                continue
            if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
                number_format = (
                    formats.amount
                    if column.kind == "amount" or fact_kind == "amount"
                    else formats.count
                    if isinstance(value, int)
                    else formats.plain
                )
                write_decimal(sheet, number, position, value, number_format)
            else:
                text_format = formats.text if column.kind in _TEXT_COLUMNS else None
                _write_text(sheet, number, position, str(value), text_format)
    last = min(max(VALIDATION_ROWS, len(rows) + 1000), EXCEL_MAX_ROW)
    for position, column in enumerate(table.columns):
        sample = [_cell(column, row.get(column.key)) for row in rows[:500]]
        width = _width([_header_title(column) + "*", *sample])
        if column.kind in _TEXT_COLUMNS or (table.key, column.key) in _CODES_AS_TEXT:
            sheet.set_column(position, position, width, formats.text)
        elif column.kind == "amount":
            sheet.set_column(position, position, max(width, 14), formats.amount)
        else:
            sheet.set_column(position, position, width)
        _add_validation(sheet, table, column, position, last, lists)
    sheet.freeze_panes(1, 0)
    sheet.ignore_errors({"number_stored_as_text": f"A2:{xl_rowcol_to_cell(last, 30)}"})


def _add_validation(sheet, table: Table, column: Column, position: int, last: int, lists) -> None:
    source: tuple[str, bool] | None = None
    if column.kind == "choice":
        source = lists.get(column.choices)
    elif column.kind in ("function_code", "economic_code"):
        source = lists.get(column.kind)
    elif (table.key, column.key) in lists:
        source = lists[(table.key, column.key)]
    elif table is SPENDING_TABLE and column.key == "project":
        letter = xl_col_to_name([c.key for c in PROJECTS_TABLE.columns].index("name"))
        source = (f"='{PROJECTS_TABLE.title}'!${letter}$2:${letter}${last + 1}", False)
    if source is None:
        return
    reference, strict = source
    options = {
        "validate": "list",
        "source": reference,
        "ignore_blank": True,
        "error_type": "stop" if strict else "warning",
        "error_title": column.title[:32],
        "error_message": (
            "请从下拉列表中选择。"
            if strict
            else "不在下拉列表中；可以保留，导入时会给出警告，请核对。"
        ),
    }
    sheet.data_validation(1, position, last, position, options)


def _write_texts(sheet, texts: Mapping[str, str], formats: _Formats) -> None:
    for position, column in enumerate(TEXTS_TABLE.columns):
        _write_header(sheet, 0, position, column.title, column.required, formats)
    for row, (title, body) in enumerate(texts.items(), start=1):
        _write_text(sheet, row, 0, title, formats.wrap)
        _write_text(sheet, row, 1, body, formats.wrap)
    sheet.set_column(0, 0, max(16, _width(list(texts))))
    sheet.set_column(1, 1, 100)
    sheet.freeze_panes(1, 0)


def _write_text(sheet, row: int, column: int, text: str, cell_format=None) -> None:
    if len(text) > EXCEL_CELL_MAX:
        raise ValueError(
            f"第{row + 1}行的内容有 {len(text)} 个字符，超过 Excel 单元格上限 {EXCEL_CELL_MAX}；"
            "请拆分后再导出"
        )
    sheet.write_string(row, column, text, cell_format)


def write_decimal(sheet, row: int, column: int, value: Decimal | int, cell_format) -> None:
    # The one float boundary: Excel keeps doubles to 15 digits, so write a number only if it reads
    # back at 15 significant digits as exactly this value; otherwise keep it as text, never rounded.
    number = float(value)
    if math.isfinite(number) and Decimal(format(number, ".15g")) == value:
        sheet.write_number(row, column, number, cell_format)
    else:
        _write_text(sheet, row, column, _plain(value))


def _width(texts: Iterable[str]) -> int:
    """A column width that fits the widest text; CJK characters count double."""
    widest = 0
    for text in texts:
        for line in str(text).splitlines() or [""]:
            size = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
            widest = max(widest, size)
    return min(max(widest + 2, 8), 60)

"""Published tables as a `Statements` value, so the project's table rules run on them unchanged.

Each recognized grid is mapped onto the layout its format declares (formats/*/tables.yaml):
row keys by code or by label, column keys by the printed headers (or by position when the
header cannot be read but the number of figures matches). Cells hold the shown figures in 万元.
A grid that cannot be mapped is reported in the notes, never guessed.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml

from juesuan.audit.model import Model, TableBlock, numbering_of, parse_decimal
from juesuan.audit.read import Place
from juesuan.codes import class_names
from juesuan.statements.model import Cell, Column, Row, Section, Statements, Table

_FORMATS = Path(__file__).parent.parent / "formats"
_CODE = re.compile(r"^\d{3}(?:\d{2}){0,2}$")
_CODE_NAME = re.compile(r"^(\d{3}(?:\d{2}){0,2})\s*(\S.*)$")
_NUMERIC = re.compile(r"^[-−－]?[\d,]+(?:\.\d+)?$|^[-—－]$")
TWO_SIDED = ("summary", "fiscal_summary")
ECONOMIC = ("general_basic", "general_project")
SINGLE_ROW = ("three_public", "government_fund_three_public")

Cells = dict[tuple[str, str, str], tuple[Decimal | None, Place, str]]


@cache
def _layouts() -> dict[str, dict]:
    """Table id -> its sections as declared in sichuan-2020 (the fullest set)."""
    data = yaml.safe_load((_FORMATS / "sichuan-2020" / "tables.yaml").read_text("utf-8"))
    classes = class_names()  # every year's names: a published 总表 of any year is read
    layouts = {}
    for table in data["tables"]:
        sections = []
        for section in table["sections"]:
            columns = [c["key"] for c in _flat(section.get("columns", []))]
            rows = section.get("rows")
            labelled = []
            if isinstance(rows, list):
                for row in rows:
                    if "classes" in row:
                        labelled.extend(classes)
                    elif "key" in row:
                        labelled.append((row["key"], row.get("label", row["key"])))
            sections.append({"name": section["name"], "columns": columns, "rows": labelled})
        layouts[table["id"]] = {"title": table["title"], "sections": sections}
    return layouts


def _flat(items: list) -> list[dict]:
    out = []
    for item in items:
        out.extend(_flat(item) if isinstance(item, list) else [item])
    return out


def label_key(text: str | None) -> str:
    """A row or column label as compared with a layout's: no spaces, numbering or （含…）,
    half-width brackets, 小计 read as 合计."""
    text = re.sub(r"\s+", "", text or "")
    numbering = numbering_of(text)
    if numbering:
        text = text[len(numbering.text.replace(" ", "")) :]
    text = re.sub(r"^\d+[.．、]", "", text)
    text = re.sub(r"[（(]含[^)）]*[)）]", "", text)
    return text.replace("（", "(").replace("）", ")").replace("小计", "合计")


def cell_value(text: str | None) -> Decimal | None:
    """A table cell's amount: None when empty, 0 for a dash."""
    if text is None:
        return None
    text = text.strip()
    if text in ("",):
        return None
    if text in ("-", "—", "－"):
        return Decimal(0)
    return parse_decimal(text)


def is_number_cell(text: str | None) -> bool:
    """The cell holds a figure or a lone dash (spaces ignored)."""
    return bool(text) and bool(_NUMERIC.match(text.strip().replace(" ", "")))


def _scale(unit: str) -> Decimal:
    return {"元": Decimal("0.0001"), "亿元": Decimal(10000)}.get(unit, Decimal(1))


def statements_from_tables(model: Model) -> tuple[Statements | None, Cells, list[str]]:
    layouts = _layouts()
    tables: list[Table] = []
    cells: Cells = {}
    notes: list[str] = []
    seen: set[str] = set()
    for block in model.tables:
        if block.id not in layouts or block.id in seen:
            continue
        layout = layouts[block.id]
        try:
            if block.id in TWO_SIDED:
                table = _two_sided(block, layout, cells)
            elif block.id in SINGLE_ROW:
                table = _single_row(block, layout, cells)
            elif block.id == "general_basic":
                table = _economic_sides(block, layout, cells)
            else:
                table = _code_table(block, layout, cells)
        except _Unmapped as exc:
            notes.append(f"{block.title or layout['title']}（{block.place}）：{exc}")
            continue
        if table is not None:
            seen.add(block.id)
            tables.append(table)
    if not tables:
        return None, cells, notes
    unit_name = ""
    return Statements("published", unit_name, 0, tuple(tables)), cells, notes


class _Unmapped(Exception):
    pass


def _table(block: TableBlock, layout: dict, sections: list[Section]) -> Table:
    numbering = numbering_of(block.title)
    number = numbering.text.rstrip("、.． ") if numbering else ""
    return Table(block.id or "", number, layout["title"], "万元", tuple(sections))


def _cell(value: Decimal | None, unit: str) -> Cell:
    shown = None if value is None else value * _scale(unit)
    return Cell(shown, shown if shown is not None else Decimal(0))


def first_data_row(rows) -> int:
    """The index of the first row past the header: a 合计, a code, or a row with a figure."""
    for index, row in enumerate(rows):
        first = label_key(next((c for c in row if c), ""))
        if first in ("合计", "总计") or _CODE.match(first) or _CODE_NAME.match(first):
            return index
        if sum(1 for c in row if is_number_cell(c)) >= 1 and index > 0:
            return index
    return len(rows)


def header_paths(rows, header_count: int, width: int) -> list[str]:
    """Each column's header cells joined top down (a merged cell read from its left)."""
    paths = []
    for column in range(width):
        parts = []
        for r in range(header_count):
            row = rows[r]
            text = row[column] if column < len(row) else None
            if text is None:
                left = column - 1
                while left >= 0 and (row[left] if left < len(row) else None) is None:
                    left -= 1
                text = row[left] if left >= 0 else None
            if text:
                parts.append(label_key(text))
        paths.append("".join(parts))
    return paths


def _match_columns(paths: list[str], columns: list[str]) -> dict[int, str]:
    scored = []
    for index, path in enumerate(paths):
        for key in columns:
            parts = [label_key(p) for p in key.split(".")]
            if all(p in path for p in parts):
                scored.append((sum(len(p) for p in parts), index, key))
    scored.sort(reverse=True)
    taken: dict[int, str] = {}
    used: set[str] = set()
    for _, index, key in scored:
        if index not in taken and key not in used:
            taken[index] = key
            used.add(key)
    return taken


# ---- tables with one row per code -------------------------------------------------------------


def split_code(row) -> tuple[str | None, str, int]:
    """(code, name, index of the first cell after the name) for a data row."""
    cells = [c or "" for c in row]
    for i, raw in enumerate(cells[:4]):
        text = raw.replace(" ", "")
        if not text:
            continue
        if label_key(text) in ("合计", "总计"):
            return "", "合计", i + 1
        match = _CODE_NAME.match(raw.strip())
        if match and not _CODE.match(text):
            return match.group(1), match.group(2).strip(), i + 1
        if _CODE.match(text):
            code = text
            j = i + 1
            while j < len(cells) and re.fullmatch(r"\d{2}", cells[j].strip()) and len(code) < 7:
                code += cells[j].strip()
                j += 1
            name = ""
            while j < len(cells) and not cells[j].strip():
                j += 1
            if j < len(cells) and not is_number_cell(cells[j]):
                name = cells[j].strip()
                j += 1
            return code, name, j
        return None, text, i + 1
    return None, "", 0


def _code_table(block: TableBlock, layout: dict, cells: Cells) -> Table | None:
    section_layout = layout["sections"][0]
    columns = section_layout["columns"]
    rows = block.grid_rows
    start = first_data_row(rows)
    if start >= len(rows):
        raise _Unmapped("找不到数据行")
    width = max(len(r) for r in rows)
    paths = header_paths(rows, start, width)
    parsed = []
    for offset, row in enumerate(rows[start:], start):
        code, name, after = split_code(row)
        if code is None:
            continue
        values = list(row[after:])
        parsed.append((offset, code, name, after, values))
    if not parsed:
        raise _Unmapped("找不到合计行或科目编码行")
    value_start = max((p[3] for p in parsed if p[1]), default=parsed[0][3])
    value_paths = paths[value_start:width]
    mapping = _match_columns(value_paths, columns)
    if len(mapping) < len(columns):
        counts = {
            sum(1 for v in block.grid_rows[p[0]][value_start:] if v not in (None, ""))
            for p in parsed
        }
        if width - value_start == len(columns) or max(counts) == len(columns):
            mapping = dict(enumerate(columns))
        elif not mapping:
            raise _Unmapped("表头与该表的栏目对应不上")
    levels = {3: 1, 5: 2} if block.id in ECONOMIC else {3: 1, 5: 2, 7: 3}
    out_rows = []
    for offset, code, name, _after, _values in parsed:
        values = list(block.grid_rows[offset][value_start:])
        key = code or "合计"
        row_cells = []
        for column in columns:
            position = next((i for i, k in mapping.items() if k == column), None)
            raw = values[position] if position is not None and position < len(values) else None
            value = cell_value(raw)
            row_cells.append(_cell(value, block.unit))
            shown = row_cells[-1].shown
            cells[(block.id or "", key, column)] = (
                shown,
                block.places[offset],
                block.row_text(offset),
            )
        out_rows.append(
            Row(
                key,
                name or key,
                code or None,
                levels.get(len(code), 0) if code else 0,
                tuple(row_cells),
                total=not code,
            )
        )
    section = Section(
        section_layout["name"],
        tuple(Column(c, tuple(c.split("."))) for c in columns),
        tuple(out_rows),
        "科目编码",
    )
    return _table(block, layout, [section])


# ---- two-sided summary tables --------------------------------------------------------------


def _label_map(section: dict) -> dict[str, str]:
    mapping = {}
    for key, label in section["rows"]:
        mapping.setdefault(label_key(label), key)
        mapping.setdefault(label_key(key), key)
        if _CODE.match(key):
            mapping.setdefault(label_key(label).removesuffix("支出"), key)
    return mapping


def _two_sided(block: TableBlock, layout: dict, cells: Cells) -> Table | None:
    rows = block.grid_rows
    width = max(len(r) for r in rows)
    # The two columns with the most words are the sides' 项目 columns; a figure column has
    # words only in its header. (The income side's rows are few, and do not grow with the
    # number of 类 rows the spending side prints.)
    words = {
        c: sum(1 for r in rows if c < len(r) and r[c] and not is_number_cell(r[c]))
        for c in range(width)
    }
    label_columns = sorted(c for c in sorted(words, key=words.__getitem__)[-2:] if words[c] > 3)
    if len(label_columns) < 2:
        raise _Unmapped("找不到收入、支出两侧的项目栏")
    left_label, right_label = label_columns
    income, spending = layout["sections"][0], layout["sections"][1]
    start = first_data_row(rows)
    paths = header_paths(rows, max(start, 1), width)
    right_columns = spending["columns"]
    right_positions = list(range(right_label + 1, width))
    mapping = _match_columns([paths[i] for i in right_positions], right_columns)
    if len(right_columns) == 1:
        mapping = {0: right_columns[0]}
    elif len(mapping) < len(right_columns):
        mapping = dict(enumerate(right_columns))
    left_map, right_map = _label_map(income), _label_map(spending)
    left_rows: dict[str, Row] = {}
    right_rows: dict[str, Row] = {}
    left_phase = right_phase = ""
    for offset, row in enumerate(rows):
        row = list(row) + [None] * (width - len(row))
        left = label_key(row[left_label])
        if left and not is_number_cell(row[left_label]) and left not in ("项目", "收入"):
            if "年初" in left and "结转" in left:
                left_phase = "年初."
            key = _side_key(left, left_map, left_phase, total_key="收入总计")
            if key and key not in left_rows:
                value = cell_value(row[left_label + 1]) if left_label + 1 < right_label else None
                cell = _cell(value, block.unit)
                cells[(block.id or "", key, income["columns"][0])] = (
                    cell.shown,
                    block.places[offset],
                    block.row_text(offset),
                )
                left_rows[key] = Row(key, row[left_label] or key, None, 1, (cell,), "合计" in left)
        right = label_key(row[right_label])
        if right and not is_number_cell(row[right_label]) and right not in ("项目", "支出"):
            if "年末" in right and "结转" in right:
                right_phase = "年末."
            key = _side_key(right, right_map, right_phase, total_key="支出总计")
            if key and key not in right_rows:
                row_cells = []
                for index, column in enumerate(right_columns):
                    position = next((i for i, k in mapping.items() if k == column), index)
                    at = right_positions[position] if position < len(right_positions) else None
                    value = cell_value(row[at]) if at is not None else None
                    row_cells.append(_cell(value, block.unit))
                    cells[(block.id or "", key, column)] = (
                        row_cells[-1].shown,
                        block.places[offset],
                        block.row_text(offset),
                    )
                code = key if _CODE.match(key) else None
                right_rows[key] = Row(
                    key, row[right_label] or key, code, 1, tuple(row_cells), "合计" in right
                )
    if not left_rows or not right_rows:
        raise _Unmapped("项目名称与该表的行对应不上")
    sections = [
        Section(
            income["name"],
            tuple(Column(c, (c,)) for c in income["columns"]),
            tuple(left_rows.values()),
        ),
        Section(
            spending["name"],
            tuple(Column(c, (c,)) for c in right_columns),
            tuple(right_rows.values()),
        ),
    ]
    return _table(block, layout, sections)


def _side_key(label: str, mapping: dict[str, str], phase: str, total_key: str) -> str | None:
    if label == "总计":
        return total_key
    if phase and label in (
        "一般公共预算财政拨款",
        "政府性基金预算财政拨款",
        "国有资本经营预算财政拨款",
    ):
        key = phase + label
        return key if any(k == key for k in mapping.values()) else mapping.get(label)
    if label in mapping:
        return mapping[label]
    bare = label.removesuffix("支出")
    return mapping.get(bare) or mapping.get(bare + "支出")


# ---- 基本支出表: two economic-code groups side by side -------------------------------------------


def _economic_sides(block: TableBlock, layout: dict, cells: Cells) -> Table | None:
    personnel, public = layout["sections"][0], layout["sections"][1]
    groups: dict[str, list[Row]] = {personnel["name"]: [], public["name"]: []}
    for offset, row in enumerate(block.grid_rows):
        cells_text = [c or "" for c in row]
        i = 0
        while i < len(cells_text):
            text = cells_text[i].strip().replace(" ", "")
            match = _CODE_NAME.match(cells_text[i].strip())
            if _CODE.match(text) or (match and not is_number_cell(text)):
                code, name = (text, "") if _CODE.match(text) else (match.group(1), match.group(2))
                j = i + 1
                if not name:
                    while j < len(cells_text) and not cells_text[j].strip():
                        j += 1
                    name = cells_text[j].strip() if j < len(cells_text) else ""
                    j += 1
                while (
                    j < len(cells_text)
                    and not is_number_cell(cells_text[j])
                    and not cells_text[j].strip() == ""
                ):
                    break
                k = j
                while k < len(cells_text) and not cells_text[k].strip():
                    k += 1
                next_is_code = (
                    k < len(cells_text)
                    and _CODE.match(cells_text[k].strip())
                    and k + 1 < len(cells_text)
                    and cells_text[k + 1].strip()
                    and not is_number_cell(cells_text[k + 1])
                )
                if k < len(cells_text) and is_number_cell(cells_text[k]) and not next_is_code:
                    value = cell_value(cells_text[k])
                else:
                    value, k = None, k - 1
                group = personnel["name"] if code[:3] in ("301", "303") else public["name"]
                cell = _cell(value, block.unit)
                cells[(block.id or "", code, "决算数")] = (
                    cell.shown,
                    block.places[offset],
                    block.row_text(offset),
                )
                groups[group].append(Row(code, name, code, 1 if len(code) == 3 else 2, (cell,)))
                i = k + 1
                continue
            label = label_key(text)
            if label in ("人员经费合计", "公用经费合计"):
                k = i + 1
                while k < len(cells_text) and not cells_text[k].strip():
                    k += 1
                value = cell_value(cells_text[k]) if k < len(cells_text) else None
                cell = _cell(value, block.unit)
                cells[(block.id or "", label, "决算数")] = (
                    cell.shown,
                    block.places[offset],
                    block.row_text(offset),
                )
                group = personnel["name"] if label.startswith("人员") else public["name"]
                groups[group].append(Row(label, label, None, 0, (cell,), total=True))
                i = k + 1
                continue
            i += 1
    if not any(groups.values()):
        raise _Unmapped("找不到经济分类科目行")
    sections = [
        Section(name, (Column("决算数", ("决算数",)),), tuple(rows), "经济分类科目编码")
        for name, rows in groups.items()
    ]
    return _table(block, layout, sections)


# ---- “三公”经费表: one row of figures ---------------------------------------------------------------


def _single_row(block: TableBlock, layout: dict, cells: Cells) -> Table | None:
    """One row of figures under the header. Its cells by column title, or by position when
    the row is as wide as the layout (national-9 prints a zero as an empty cell); a table with
    no row of figures whose note says it is empty (无数据, 空表) holds nothing."""
    columns = layout["sections"][0]["columns"]
    rows = block.grid_rows
    header = "".join(label_key(c) for r in rows for c in r if c and not is_number_cell(c))
    order = [header.find(w) for w in ("因公出国", "公务用车", "公务接待")]
    if any(o < 0 for o in order) or order != sorted(order):
        raise _Unmapped("表头的栏目顺序与“三公”经费表不同")
    figures = [
        (offset, row)
        for offset, row in enumerate(rows)
        if any(is_number_cell(c) for c in row) and all(not c or is_number_cell(c) for c in row)
    ]
    values: list[str | None] | None = None
    offset = 0
    if figures:
        offset, row = figures[0]
        numeric = [c for c in row if c]
        if len(row) == len(columns):
            paths = header_paths(rows, offset, len(row))
            mapping = _match_columns(paths, columns)
            if len(mapping) < len(columns):
                mapping = dict(enumerate(columns))
            by_key = {key: row[index] for index, key in mapping.items()}
            values = [by_key.get(c) for c in columns]
        elif len(numeric) == len(columns):
            values = numeric
    elif re.search(r"无数据|空表|没有.{0,12}“?三公”?经费", block.note):
        values = [None] * len(columns)
    if values is None and not figures:
        raise _Unmapped("表中没有数字，也没有说明本表为空")
    if values is None:
        raise _Unmapped(f"找不到一行 {len(columns)} 个数字的数据行")
    row_cells = []
    for column, raw in zip(columns, values, strict=True):
        row_cells.append(_cell(cell_value(raw), block.unit))
        cells[(block.id or "", "数额", column)] = (
            row_cells[-1].shown,
            block.places[offset],
            block.row_text(offset),
        )
    section = Section(
        layout["sections"][0]["name"],
        tuple(Column(c, tuple(c.split("."))) for c in columns),
        (Row("数额", "", None, 0, tuple(row_cells)),),
    )
    return _table(block, layout, [section])

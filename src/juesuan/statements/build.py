"""Evaluate a format's table declarations (tables.yaml) over a Dataset into Statements.

A cell is a ledger selection (`where`), an expression in the rules language (`expr`), or a sum of
other rows or columns (`sum`). Rows come from a list, from the 功能分类 present in the ledger
(`by: function`), from 经济分类 codes (`by: economic`) or from the 类 list of a summary table.
Shown figures are 万元 after 舍位平衡: totals are rounded on their own, and parts are rounded
so that they add up to their rounded total (top-down, largest remainder first).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import yaml

from juesuan.codes import economic_codes, function_codes, summary_classes
from juesuan.ledger.model import Dataset
from juesuan.money import CENT, WAN, round_preserving_total
from juesuan.rules.context import Context
from juesuan.rules.expr import Evaluator, Missing, as_value, parse
from juesuan.statements.model import Adjustment, Cell, Column, Row, Section, Statements, Table
from juesuan.statements.options import (
    EMPTY_CELLS,
    FORMATS_DIR,
    FormatError,
    FormatOptions,
    format_options,
)
from juesuan.yamltext import load_yaml

NUMERALS = "一二三四五六七八九十"


def chinese_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 24 -> 二十四 (enough for table and row numbering)."""
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else NUMERALS[tens - 1]
    return head + "十" + (NUMERALS[ones - 1] if ones else "")


def has_tables(name: str) -> bool:
    return (FORMATS_DIR / name / "tables.yaml").exists()


def load_format(name: str) -> dict:
    """A format's table declarations, `from:` references resolved (a fresh copy each call)."""
    return copy.deepcopy(_load_format(name))


@functools.cache
def _load_format(name: str) -> dict:
    path = FORMATS_DIR / name / "tables.yaml"
    if not path.exists():
        known = sorted(p.name for p in FORMATS_DIR.iterdir() if (p / "tables.yaml").exists())
        raise FormatError(f"没有公开格式“{name}”的表样；已有：{'、'.join(known)}")
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FormatError(f"{path}：不是有效的 YAML：{exc}") from exc
    document["_path"] = str(path)
    document["tables"] = [_inherit(document, t) for t in document.get("tables", [])]
    return document


def _inherit(document: dict, table: dict) -> dict:
    """A table declared as `from: other-format/table-id`, with this format's changes on top."""
    if "from" not in table:
        return table
    base_name, _, table_id = str(table["from"]).partition("/")
    base = load_format(base_name)
    found = next((t for t in base["tables"] if t["id"] == table_id), None)
    if found is None:
        raise FormatError(f"{document['_path']}：找不到 {table['from']}")
    merged = {**copy.deepcopy(found), **{k: v for k, v in table.items() if k != "from"}}
    position = merged.pop("total_position", None)
    if position:
        for section in merged["sections"]:
            if isinstance(section.get("rows"), dict):
                section["rows"] = {
                    **section["rows"],
                    "total": {"key": "合计", "position": position},
                }
    return merged


def build(dataset: Dataset, format_name: str | None = None) -> Statements:
    spec = load_format(format_name or dataset.unit.format)
    builder = _Builder(dataset, spec, format_options(spec.get("name", format_name)))
    tables = tuple(builder.table(t, i + 1) for i, t in enumerate(spec["tables"]))
    return Statements(
        spec.get("name", format_name or dataset.unit.format),
        dataset.unit.name,
        dataset.unit.year,
        tables,
    )


# ---- building ------------------------------------------------------------------------------------


@dataclass
class _Grid:
    """A section while it is being built: exact values (元), then shown values (万元)."""

    columns: list[dict]
    rows: list[dict]  # each: key, label, code, level, total, children (row keys) or None
    exact: dict[tuple[str, str], Decimal | None] = field(default_factory=dict)
    sources: dict[tuple[str, str], tuple] = field(default_factory=dict)
    shown: dict[tuple[str, str], Decimal | None] = field(default_factory=dict)


class _Builder:
    def __init__(self, dataset: Dataset, spec: dict, options: FormatOptions):
        self.dataset = dataset
        self.options = options
        self.ledger = dataset.ledger
        self.spec = spec
        self.year = dataset.unit.year
        self.functions = function_codes(self.year)
        self.economics = economic_codes(self.year)
        self.context = Context(dataset)
        self.evaluator = Evaluator({}, self.context.functions())
        self._by_code: dict[tuple, tuple[dict, dict]] = {}

    def table(self, spec: dict, position: int) -> Table:
        sections = []
        adjustments: list[Adjustment] = []
        for section_spec in spec["sections"]:
            section, moved = self.section(spec, section_spec)
            sections.append(section)
            adjustments.extend(moved)
        empty = all(cell.is_zero for s in sections for r in s.rows for cell in r.cells)
        return Table(
            id=spec["id"],
            number=spec.get("number") or chinese_number(position),
            title=spec["title"],
            unit=spec.get("unit", "万元"),
            sections=tuple(sections),
            note=spec.get("note", "").replace("{unit}", self.dataset.unit.name),
            empty_statement=spec.get("empty_statement", "").replace(
                "{unit}", self.dataset.unit.name
            ),
            empty=empty,
            adjustments=tuple(adjustments),
            blank_zeros=self.empty_cells(spec) == "blank",
            statement_after_note=self.options.empty_statement == "after_note",
            plain_header=self.header(spec) == "plain",
        )

    def header(self, spec: dict) -> str:
        """`plain`: the header is the columns' own heads only (the Shanghai 基本支出 table)."""
        value = spec.get("header", "full")
        if value not in ("full", "plain"):
            raise FormatError(f"表“{spec['title']}”的 header 为“{value}”，应为 full 或 plain")
        return value

    def empty_cells(self, spec: dict) -> str:
        """How the table prints a zero amount: its own `empty_cells`, else the format's."""
        value = spec.get("empty_cells", self.options.empty_cells)
        if value not in EMPTY_CELLS:
            raise FormatError(
                f"表“{spec['title']}”的 empty_cells 为“{value}”，应为 {' 或 '.join(EMPTY_CELLS)}"
            )
        return value

    # -- one section --

    def section(self, table: dict, spec: dict) -> tuple[Section, list[Adjustment]]:
        where = dict(spec.get("where") or {})
        columns = [dict(c) for c in _flatten(spec["columns"])]
        rows = self.rows(table, spec, where, columns)
        grid = _Grid(columns, rows)
        # Rows that hold values of their own, not sums of other rows (or blanks).
        own = [
            r
            for r in rows
            if not (
                r.get("sum") or r.get("blank") or (r.get("total") and r.get("children") is not None)
            )
        ]
        for column in columns:
            if "sum" not in column:
                self.fill_column(grid, own, where, column)
        for column in _sums_in_order(columns, table["id"]):  # a sum after the sums it adds up
            for row in rows:
                self.fill_sum(
                    grid, row["key"], column["key"], [(row["key"], p) for p in column["sum"]]
                )
        self.fill_row_sums(grid)
        if spec.get("only_nonzero") or (
            isinstance(spec.get("rows"), dict) and spec["rows"].get("only_nonzero", True)
        ):
            grid.rows = _drop_zero_rows(grid)
        balanced = self.options.rounding == "balance" or table["id"] in self.options.balanced
        moved = _round(grid, table["id"], spec.get("name", ""), balanced=balanced)
        # Rows the format adds up but does not print (the 财政拨款总表's 年末 by fund).
        omitted = set(table.get("omit_rows") or ())
        grid.rows = [r for r in grid.rows if r["key"] not in omitted]
        section = Section(
            name=spec.get("name", ""),
            columns=tuple(
                Column(c["key"], tuple(c.get("header") or c["key"].split("."))) for c in columns
            ),
            rows=tuple(
                Row(
                    key=r["key"],
                    label=r["label"],
                    code=r.get("code"),
                    level=r.get("level", 0),
                    total=r.get("total", False),
                    cells=tuple(
                        Cell(
                            grid.exact.get((r["key"], c["key"])),
                            grid.shown.get((r["key"], c["key"])),
                            grid.sources.get((r["key"], c["key"]), ()),
                        )
                        for c in columns
                    ),
                )
                for r in grid.rows
            ),
            code_header=spec.get("code_header"),
        )
        return section, moved

    def rows(self, table: dict, spec: dict, where: dict, columns: list[dict]) -> list[dict]:
        declared = spec["rows"]
        if isinstance(declared, dict):
            return self.code_rows(declared, where, columns)
        rows: list[dict] = []
        for entry in declared:
            if "classes" in entry:
                rows.extend(self.class_rows(entry, where, columns))
                continue
            row = {
                "key": str(entry["key"]),
                "label": entry.get("label", str(entry["key"])),
                "level": entry.get("level", 0),
                "total": entry.get("total", False),
                "where": entry.get("where"),
                "expr": entry.get("expr"),
                "sum": entry.get("sum"),
                "blank": entry.get("blank", False),
            }
            if row["sum"] == "classes":
                row["sum"] = [r["key"] for r in rows if r.get("class_row")]
            rows.append(row)
        return rows

    def class_rows(self, entry: dict, where: dict, columns: list[dict]) -> list[dict]:
        """The 类 rows of a summary table: the dataset year's list (`classes: year`) or the
        format's own, plus any class with money that the list lacks, in code order."""
        if entry["classes"] == "year":
            listing = [(c.code, c.name) for c in summary_classes(self.year)]
        elif isinstance(entry["classes"], list):
            listing = [(str(code), name) for code, name in entry["classes"]]
        else:
            raise FormatError(
                f"{self.spec['_path']}：类级科目行应写 classes: year（按数据年度的科目表）"
                f"或 [编码, 名称] 的清单，写的是“{entry['classes']}”"
            )
        listed = {code for code, _ in listing}
        selection = _merge(where, entry.get("where"))
        missing = self.present_codes("function", selection, columns, [3]) - listed
        if missing:
            extra = [(code, self.functions.name(code) or code) for code in missing]
            listing = sorted([*listing, *extra])
        rows = []
        for i, (code, name) in enumerate(listing, start=1):
            rows.append(
                {
                    "key": code,
                    "code": code,
                    "label": f"{chinese_number(i)}、{name}",
                    "level": 1,
                    "where": {**(entry.get("where") or {}), "function": code},
                    "class_row": True,
                }
            )
        return rows

    def code_rows(self, declared: dict, where: dict, columns: list[dict]) -> list[dict]:
        """Rows for every 功能分类 (or 经济分类) code present, with a 合计 row."""
        by = declared["by"]
        codes_table = self.functions if by == "function" else self.economics
        levels = declared.get("levels", [3, 5, 7] if by == "function" else [3, 5])
        listed = [str(c) for c in declared.get("codes", [])]
        codes = listed or sorted(self.present_codes(by, where, columns, levels))
        total = declared.get("total", {"key": "合计", "position": "top"})
        rows = []
        for code in codes:
            depth = levels.index(len(code)) + 1 if len(code) in levels else 1
            name = codes_table.name(code) or ""
            rows.append({"key": code, "code": code, "label": name, "level": depth, "by": by})
        by_key = {r["key"]: r for r in rows}
        for row in rows:
            row["children"] = []
        for row in rows:  # a row's parent is the longest listed code it starts with
            parent = next(
                (
                    by_key[row["code"][:n]]
                    for n in reversed(levels)
                    if n < len(row["code"]) and row["code"][:n] in by_key
                ),
                None,
            )
            if parent is not None and parent["level"] == row["level"] - 1:
                parent["children"].append(row["key"])
        if total:
            total_row = {
                "key": total.get("key", "合计"),
                "label": total.get("label", total.get("key", "合计")),
                "level": 0,
                "total": True,
                "children": [r["key"] for r in rows if r["level"] == 1],
                "by": by,
            }
            rows = (
                [total_row, *rows] if total.get("position", "top") == "top" else [*rows, total_row]
            )
        return rows

    def present_codes(
        self, by: str, where: dict | None, columns: list[dict], levels: list[int]
    ) -> set[str]:
        """Codes at `levels` digits under which some column of the section has money."""
        present: set[str] = set()
        if where is None:
            return present
        for column in columns:
            if "sum" in column or "expr" in column:
                continue
            selection = _merge(where, column.get("where"))
            if selection is None:
                continue
            for code in self.by_code(by, selection):
                present.update(code[:digits] for digits in levels if len(code) >= digits)
        return present

    # -- values --

    def fill_column(self, grid: _Grid, own: list[dict], where: dict, column: dict) -> None:
        """The column's cells in the rows `own` (those that hold a value of their own)."""
        column_key, column_where, column_expr = (
            column["key"],
            column.get("where"),
            column.get("expr"),
        )
        if column.get("blank"):
            for row in own:
                grid.exact[(row["key"], column_key)] = None
            self._fill_code_parents(grid, column)
            return
        # The selection of the rows that add none of their own (code rows): merged once.
        shared = _merge(where, column_where)
        # Code rows that add only their code to `shared` all read one set of totals by prefix
        # (what `total` would look up for each of them), fetched once for the column.
        by_prefix: dict[str, dict[str, Decimal]] = {}
        for row in own:
            key = (row["key"], column_key)
            expr = column_expr or row.get("expr")
            if expr:
                grid.exact[key] = self.expression(expr)
                grid.sources[key] = (expr,)
                continue
            row_where = row.get("where")
            selection = shared if row_where is None else _merge(where, row_where, column_where)
            by = row.get("by")
            if selection is not None and by:
                if by not in selection:
                    code = str(row["code"])
                    grid.sources[key] = ({**selection, by: code},)  # what _merge gives
                    if selection is shared and (by == "function" or "function" not in shared):
                        if by not in by_prefix:
                            by_prefix[by] = self.by_prefix(by, shared)
                        grid.exact[key] = by_prefix[by].get(code, Decimal(0))
                    else:
                        grid.exact[key] = self.total(grid.sources[key][0])
                    continue
                selection = _merge(selection, {by: row["code"]})
            if selection is None:  # the row and the column select different things: no value
                grid.exact[key] = None
                continue
            grid.exact[key] = self.total(selection)
            grid.sources[key] = (selection,)
        self._fill_code_parents(grid, column)

    def total(self, selection: dict) -> Decimal:
        """The selection's total. A code prefix (a 类 or 款 row) is answered from the totals by
        code of the rest of the selection, which its sibling rows share: one query, not one per row.
        """
        prefix_key = next((k for k in ("function", "economic") if k in selection), None)
        if prefix_key is None:
            return self.ledger.total(**ledger_where(selection))
        rest = {k: v for k, v in selection.items() if k != prefix_key}
        return self.by_prefix(prefix_key, rest).get(str(selection[prefix_key]), Decimal(0))

    def by_code(self, prefix_key: str, selection: dict) -> dict[str, Decimal]:
        """Non-zero totals by the code lines are booked on (cached per selection)."""
        return self._totals(prefix_key, selection)[0]

    def by_prefix(self, prefix_key: str, selection: dict) -> dict[str, Decimal]:
        """Totals by every code prefix (类, 款, 项) of the codes lines are booked on."""
        return self._totals(prefix_key, selection)[1]

    def _totals(self, prefix_key: str, selection: dict) -> tuple[dict, dict]:
        column = "function_code" if prefix_key == "function" else "economic_code"
        cache_key = (column, tuple(sorted((k, str(v)) for k, v in selection.items())))
        if cache_key not in self._by_code:
            totals = self.ledger.sum_by(column, **ledger_where(selection))
            leaves = {c: v for c, v in totals.items() if c is not None and v != 0}
            prefixes: dict[str, Decimal] = {}
            for code, value in leaves.items():
                for digits in range(3, len(code) + 1, 2):
                    prefixes[code[:digits]] = prefixes.get(code[:digits], Decimal(0)) + value
            self._by_code[cache_key] = (leaves, prefixes)
        return self._by_code[cache_key]

    def _fill_code_parents(self, grid: _Grid, column: dict) -> None:
        # Code rows hold their own selection (a 类 selects everything below it); the 合计 row
        # is the sum of the 类 rows.
        for row in grid.rows:
            if row.get("total") and row.get("children") is not None:
                self.fill_sum(
                    grid, row["key"], column["key"], [(c, column["key"]) for c in row["children"]]
                )

    def fill_sum(self, grid: _Grid, row: str, column: str, parts: list[tuple[str, str]]) -> None:
        values = [grid.exact.get(p) for p in parts]
        if all(v is None for v in values):
            grid.exact[(row, column)] = None
            return
        grid.exact[(row, column)] = sum((v or Decimal(0) for v in values), Decimal(0))
        grid.sources[(row, column)] = tuple(s for p in parts for s in grid.sources.get(p, ()))

    def fill_row_sums(self, grid: _Grid) -> None:
        for row in grid.rows:
            if row.get("sum"):
                for column in grid.columns:
                    self.fill_sum(
                        grid, row["key"], column["key"], [(p, column["key"]) for p in row["sum"]]
                    )

    def expression(self, text: str) -> Decimal:
        try:
            return as_value(self.evaluator.evaluate(parse(text))).amount
        except Missing:
            return Decimal(0)


def _sums_in_order(columns: list[dict], table: str) -> list[dict]:
    """Sum columns ordered so that every part is computed before the sum that uses it
    (合计 = 出国 + 小计 + 接待 is declared before 小计 = 购置 + 运行)."""
    pending = [c for c in columns if "sum" in c]
    done = {c["key"] for c in columns if "sum" not in c}
    ordered = []
    while pending:
        ready = [c for c in pending if all(p in done for p in c["sum"])]
        if not ready:
            keys = "、".join(c["key"] for c in pending)
            raise FormatError(f"表 {table} 的合计列引用了不存在或循环的列：{keys}")
        for column in ready:
            ordered.append(column)
            done.add(column["key"])
            pending.remove(column)
    return ordered


def _flatten(items: list) -> list:
    """Columns may splice a shared YAML list (an anchor) into their own list."""
    flat = []
    for item in items:
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat


def _merge(*selections: dict | None) -> dict | None:
    """Both selections at once; None when they cannot both hold (fund A and fund B)."""
    merged: dict = {}
    for selection in selections:
        for key, value in (selection or {}).items():
            values = set(value) if isinstance(value, (list, tuple)) else {value}
            if key in merged:
                if key in ("function", "economic"):  # prefixes: keep the longer, if compatible
                    old = merged[key]
                    if not (str(value).startswith(old) or old.startswith(str(value))):
                        return None
                    merged[key] = max(old, str(value), key=len)
                    continue
                values &= merged[key] if isinstance(merged[key], set) else {merged[key]}
                if not values:
                    return None
            merged[key] = values if key not in ("function", "economic") else str(value)
    return {k: (sorted(v) if isinstance(v, set) else v) for k, v in merged.items()}


def ledger_where(selection: dict) -> dict:
    """A cell's selection as Ledger filters (lists as tuples; phase 决算 unless it says otherwise)."""
    where = {k: (tuple(v) if isinstance(v, list) else v) for k, v in selection.items()}
    where.setdefault("phase", "决算")
    return where


def _drop_zero_rows(grid: _Grid) -> list[dict]:
    kept = []
    for row in grid.rows:
        if row.get("code") is None:
            kept.append(row)
            continue
        if any(grid.exact.get((row["key"], c["key"])) for c in grid.columns):
            kept.append(row)
    keys = {r["key"] for r in kept}
    for row in kept:
        if row.get("children") is not None:
            row["children"] = [c for c in row["children"] if c in keys]
    return kept


# ---- 舍位平衡 -------------------------------------------------------------------------------------


def _round(grid: _Grid, table: str, section: str, *, balanced: bool = True) -> list[Adjustment]:
    """Shown values: totals rounded alone; parts balanced to their rounded total (or, not
    `balanced`, every figure rounded on its own)."""
    children: dict[str, list[str]] = {}
    present = {r["key"] for r in grid.rows}
    for row in grid.rows:
        kids = row.get("sum") if row.get("sum") else row.get("children")
        if kids:
            children[row["key"]] = [k for k in kids if k in present]
    has_parent = {k for kids in children.values() for k in kids}
    column_parts = {c["key"]: list(c["sum"]) for c in grid.columns if "sum" in c}
    is_part = {p for parts in column_parts.values() for p in parts}
    adjustments: list[Adjustment] = []

    def to_wan(value: Decimal | None) -> Decimal | None:
        return None if value is None else value / WAN

    def rounded(value: Decimal | None) -> Decimal | None:
        # The rounding passed by position: as a keyword it costs the call twice as much.
        return None if value is None else value.quantize(CENT, ROUND_HALF_UP)

    def balance(parent: tuple[str, str], parts: list[tuple[str, str]]) -> None:
        total = grid.shown.get(parent)
        exact = [to_wan(grid.exact.get(p)) for p in parts]
        if not balanced or total is None or all(e is None for e in exact):
            for p, e in zip(parts, exact, strict=True):
                grid.shown[p] = rounded(e)
            return
        values = [e or Decimal(0) for e in exact]
        try:
            shown, _ = round_preserving_total(values, total)
        except ValueError:  # parts do not add up to the total: show each rounded on its own
            shown = [rounded(v) for v in values]
        for p, e, s in zip(parts, exact, shown, strict=True):
            grid.shown[p] = None if e is None else s

    def down_rows(column: str, key: str) -> None:
        kids = children.get(key)
        if not kids:
            return
        balance((key, column), [(k, column) for k in kids])
        for kid in kids:
            down_rows(column, kid)

    def across(column: str, row: str) -> None:
        parts = column_parts.get(column)
        if not parts:
            return
        balance((row, column), [(row, p) for p in parts])
        for part in parts:
            across(part, row)

    lead_columns = [c["key"] for c in grid.columns if c["key"] not in is_part]
    for column in lead_columns:
        for row in grid.rows:
            if row["key"] not in has_parent:
                grid.shown[(row["key"], column)] = rounded(
                    to_wan(grid.exact.get((row["key"], column)))
                )
                down_rows(column, row["key"])
        for row in grid.rows:
            across(column, row["key"])
    for row in grid.rows:
        for column in grid.columns:
            key = (row["key"], column["key"])
            exact = rounded(to_wan(grid.exact.get(key)))
            shown = grid.shown.get(key)
            if exact is not None and shown is not None and exact != shown:
                adjustments.append(
                    Adjustment(table, section, row["key"], column["key"], exact, shown)
                )
    return adjustments

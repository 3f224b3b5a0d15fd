"""Budget tables (预算公开) checked as budgets: each table's columns and code rows against their
totals, and the same amount across the tables that print it.

Budget layouts differ by province and year, so nothing here is keyed to one format. A table is
read from its grid and its header paths ("支出预算/基本支出"): code tables (a 类/款/项 or economic
code per row, 合计 row), tables of one row of figures (Jiangsu's 支出总表, the 三公 table) and
two-sided 总表 (收入 and 支出 side by side, each side a 项目 column and its figure columns).
Figures are compared in 元, each one printed figure ± half a unit of its last digit, so a document
that rounds every cell on its own (a 合计 of 22,118,861 for 22,118,861.34) passes.

Rules:
- a column titled 合计/小计/总计 is the sum of the columns under the same header (a nested 小计
  stands for its own columns; "其中" columns are parts of a part and left out), in every row;
- a 类 row is the sum of its 款 rows, a 款 of its 项 (economic codes alike), 合计 of the 类;
- a table's figures are part of a wider table's (一般公共预算 ⊆ 财政拨款 ⊆ all funds, by code and
  column): a part above the whole is an error, and when the two 合计 agree every row must agree;
  the 总表's 人员经费/公用经费 split and the economic table's split are such a pair;
- a two-sided 总表's 收入总计 equals its 支出总计.
A rule whose tables the document lacks is listed as unresolved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from juesuan.audit.facts import Evidence
from juesuan.audit.findings import CERTAIN, Finding, rounded, show
from juesuan.audit.model import Model, TableBlock
from juesuan.audit.tables import first_data_row, header_paths, is_number_cell, label_key, split_code

_TOTAL_WORDS = ("合计", "小计", "总计")
_UNIT_YUAN = {"元": Decimal(1), "万元": Decimal(10000), "亿元": Decimal(100000000)}
TOTAL = "合计"
_PART_ABOVE = "前表的数是后表同一数的一部分，不应更大"

# (narrower table, wider table): every figure of the first is part of the same figure of the second
SUBSETS = (
    ("budget_general", "budget_fiscal_spending"),
    ("budget_general", "budget_spending"),
    ("budget_government_fund", "budget_fiscal_spending"),
    ("budget_government_fund", "budget_spending"),
    ("budget_state_capital", "budget_spending"),
    ("budget_fiscal_spending", "budget_spending"),
    ("budget_general_basic", "budget_fiscal_basic"),
)


@dataclass(frozen=True)
class Figure:
    value: Decimal  # 元
    half: Decimal  # half a unit of the last printed digit, in 元
    text: str  # as printed
    block: TableBlock
    row: int

    @property
    def evidence(self) -> Evidence:
        title = self.block.title or self.block.id or ""
        return Evidence(
            self.block.places[self.row], f"{title}：{self.block.row_text(self.row)}", self.text
        )


@dataclass
class BudgetTable:
    """One budget grid: its value columns by header path, rows by code (or 合计 / a label)."""

    block: TableBlock
    columns: list[str]
    rows: dict[str, list[Figure | None]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # code -> name

    def column(self, last: str) -> int | None:
        """The column whose header ends with `last` (a lone figure column is the 合计)."""
        for index, path in enumerate(self.columns):
            if path.split("/")[-1] == last:
                return index
        if last == TOTAL and len(self.columns) == 1:
            return 0
        return None


def _figure(text: str | None, block: TableBlock, row: int) -> Figure | None:
    if not text or not is_number_cell(text):
        return None
    cleaned = text.strip().replace(",", "").replace(" ", "")
    scale = _UNIT_YUAN.get(block.unit, Decimal(1))
    if cleaned in ("-", "—", "－"):
        return Figure(Decimal(0), Decimal(0), text.strip(), block, row)
    decimals = len(cleaned.split(".")[1]) if "." in cleaned else 0
    half = Decimal(5) * Decimal(10) ** (-decimals - 1) * scale
    value = Decimal(cleaned.replace("−", "-").replace("－", "-")) * scale
    return Figure(value, half, text.strip(), block, row)


def _shown(value: Decimal, block: TableBlock) -> str:
    """An amount in 元 restated in the unit its table prints."""
    scale = _UNIT_YUAN.get(block.unit, Decimal(1))
    return f"{rounded(value / scale, 2):,f} {block.unit}"


def _zero(block: TableBlock, row: int) -> Figure:
    """An empty cell in a row of figures: the national formats print a zero as nothing."""
    return Figure(Decimal(0), Decimal(0), "", block, row)


def _data_start(rows) -> int:
    """The first row under the header; a header that begins with 合计 (a one-row table's
    column title) is still header while the row holds no figure."""
    start = first_data_row(rows)
    if start == 0 and not any(is_number_cell(c) for c in rows[0]):
        start = next(
            (i for i, r in enumerate(rows) if any(is_number_cell(c) for c in r)), len(rows)
        )
    return start


def _code_table(block: TableBlock) -> BudgetTable | None:
    rows = block.grid_rows
    start = _data_start(rows)
    if start == 0 or start >= len(rows):
        return None
    width = max(len(r) for r in rows)
    parsed = [(offset, *split_code(row)) for offset, row in enumerate(rows[start:], start)]
    coded = [p for p in parsed if p[1] is not None]
    if not any(p[1] for p in coded):
        if any(is_number_cell(c) for c in rows[start]):
            return _one_row(block, start, width)
        if not any(is_number_cell(c) for row in rows[start:] for c in row):
            return BudgetTable(block, [])  # an empty table (its 合计 row blank): nothing to add
        return None
    value_start = max(p[3] for p in coded if p[1])
    table = BudgetTable(block, header_paths(rows, start, width)[value_start:])
    for offset, code, name, _after, row in ((*p, rows[p[0]]) for p in coded):
        # a merged 合计 label leaves its row short: its figures sit under the last columns
        values = row[value_start:] if len(row) == width else row[-len(table.columns) :]
        key = code or TOTAL
        if key in table.rows:
            continue
        table.rows[key] = [_figure(v, block, offset) for v in values]
        table.names[key] = name
    return table


def _one_row(block: TableBlock, start: int, width: int) -> BudgetTable | None:
    """A table of one row of figures under its header (支出总表 of Jiangsu, the 三公 table)."""
    row = block.grid_rows[start]
    if len(row) != width or not all(not c or is_number_cell(c) for c in row):
        return None
    table = BudgetTable(block, header_paths(block.grid_rows, start, width))
    table.rows[TOTAL] = [_figure(c, block, start) or _zero(block, start) for c in row]
    return table


def _sides(block: TableBlock) -> list[BudgetTable]:
    """A two-sided 总表 as one BudgetTable per group: a 项目/名称 column and the figure columns
    after it, rows by their label."""
    rows = block.grid_rows
    start = _data_start(rows)
    if start == 0 or start >= len(rows):
        return []
    width = max(len(r) for r in rows)
    paths = header_paths(rows, start, width)
    labels = [i for i, p in enumerate(paths) if re.fullmatch(r"项目|.*名称", p.split("/")[-1])]
    groups = []
    for i, label in enumerate(labels):
        end = labels[i + 1] if i + 1 < len(labels) else width
        table = BudgetTable(block, paths[label + 1 : end])
        for offset in range(start, len(rows)):
            row = list(rows[offset]) + [None] * (width - len(rows[offset]))
            name = label_key(row[label])
            if not name or is_number_cell(row[label]) or name in table.rows:
                continue
            table.rows[name] = [_figure(c, block, offset) for c in row[label + 1 : end]]
        groups.append(table)
    return groups


# ---- checks -------------------------------------------------------------------------------------


def budget_checks(model: Model, out) -> None:
    blocks = {}
    for block in model.tables:
        if (block.id or "").startswith("budget_") and block.id not in blocks:
            blocks[block.id] = block
    if not blocks:
        return
    tables: dict[str, BudgetTable] = {}
    for table_id, block in blocks.items():
        if table_id in ("budget_summary", "budget_fiscal"):
            for side in _sides(block):
                _column_sums(side, out)
            _both_sides(block, out)
        elif table_id != "budget_procurement":
            table = _code_table(block)
            if table is None:
                out.skip(
                    "预算表",
                    f"{block.title}：没有按科目编码排列的数据行，表内运算未核对",
                    str(block.place),
                )
                continue
            tables[table_id] = table
            _column_sums(table, out)
            _code_sums(table, out)
    for narrow, wide in SUBSETS:
        if narrow in tables and wide in tables:
            _subset(tables[narrow], tables[wide], out)
        elif narrow in tables and not any(w in tables for n, w in SUBSETS if n == narrow):
            out.skip("预算表", f"{blocks[narrow].title}：文件中没有包含它的表，表间运算未核对")
    _personnel_split(blocks, tables, out)


def _report(out, figures: list[Figure], total: Figure, parts: list[Figure], what: str) -> bool:
    """total = sum(parts) within the printed precision; a gap beyond it is a 确定 finding."""
    point = sum((p.value for p in parts), Decimal(0))
    slack = total.half + sum((p.half for p in parts), Decimal(0))
    out.run += 1
    if abs(point - total.value) <= slack:
        return True
    title = total.block.title or total.block.id
    out.add(
        Finding(
            "budget-table",
            CERTAIN,
            f"预算表{what}不符",
            f"{title}：{what}，印为 {total.text}，按所列数应为 {_shown(point, total.block)}，"
            f"相差 {_shown(total.value - point, total.block)}",
            tuple(dict.fromkeys(f.evidence for f in figures))[:12],
            show(point),
            show(total.value),
            show(total.value - point),
        )
    )
    return False


def _subtotal_parts(columns: list[str]) -> dict[int, list[int]]:
    """Each 合计/小计 column -> the columns it adds up, by header path."""
    out = {}
    for index, path in enumerate(columns):
        parts = path.split("/")
        if parts[-1] not in _TOTAL_WORDS:
            continue
        prefix = parts[:-1]
        nested = [
            (j, c.split("/")[:-1])
            for j, c in enumerate(columns)
            if j != index and c.split("/")[-1] in _TOTAL_WORDS
        ]
        members = []
        for j, other in enumerate(columns):
            segments = other.split("/")
            if j == index or segments[: len(prefix)] != prefix or len(segments) == len(prefix):
                continue
            if any(s.startswith("其中") for s in segments):
                continue
            if any(k != j and len(n) > len(prefix) and segments[: len(n)] == n for k, n in nested):
                continue  # counted in its own 小计
            members.append(j)
        if len(members) >= 2:
            out[index] = members
    return out


def _column_sums(table: BudgetTable, out) -> None:
    for total_at, members in _subtotal_parts(table.columns).items():
        for key, figures in table.rows.items():
            total = figures[total_at] if total_at < len(figures) else None
            if total is None:
                continue
            parts = [
                figures[j] or _zero(total.block, total.row) for j in members if j < len(figures)
            ]
            name = table.names.get(key) or key
            header = table.columns[total_at].replace("/", "")
            _report(out, [total, *parts], total, parts, f"“{name}”行的{header}与各栏之和")


def _children(table: BudgetTable, key: str) -> list[str]:
    if key == TOTAL:
        return [k for k in table.rows if len(k) == 3]
    return [k for k in table.rows if len(k) == len(key) + 2 and k.startswith(key)]


def _code_sums(table: BudgetTable, out) -> None:
    for key, figures in table.rows.items():
        if key != TOTAL and len(key) not in (3, 5):
            continue
        kids = _children(table, key)
        if not kids:
            continue
        for column, total in enumerate(figures):
            if total is None:
                continue
            parts = [
                table.rows[k][column] or _zero(total.block, total.row)
                for k in kids
                if column < len(table.rows[k])
            ]
            header = table.columns[column].split("/")[-1] if column < len(table.columns) else ""
            name = f"{key} {table.names.get(key, '')}".strip() if key != TOTAL else TOTAL
            _report(out, [total, *parts], total, parts, f"{name}的{header}与下级科目之和")


def _subset(narrow: BudgetTable, wide: BudgetTable, out) -> None:
    """Every figure of `narrow` is part of the same code and column of `wide`: a part above its
    whole is wrong; when the columns' 合计 agree, every row must agree."""
    for column, header in enumerate(narrow.columns):
        last = header.split("/")[-1] if len(narrow.columns) > 1 else TOTAL
        at = wide.column(last)
        if at is None:
            continue
        totals = _pair(narrow, wide, TOTAL, column, at)
        totals_agree = totals is not None and _agree(*totals)
        for key in narrow.rows:
            pair = _pair(narrow, wide, key, column, at)
            if pair is None:
                continue
            part, whole = pair
            out.run += 1
            if _agree(part, whole):
                continue
            if totals_agree:
                _cross(out, part, whole, narrow, key, last, f"两表的{last}合计相同，各行也应相同")
            elif part.value > whole.value:
                _cross(out, part, whole, narrow, key, last, _PART_ABOVE)


def _pair(narrow: BudgetTable, wide: BudgetTable, key: str, column: int, at: int):
    a = narrow.rows.get(key)
    b = wide.rows.get(key)
    if a is None or b is None or column >= len(a) or at >= len(b):
        return None
    if a[column] is None or b[at] is None:
        return None
    return a[column], b[at]


def _agree(a: Figure, b: Figure) -> bool:
    return abs(a.value - b.value) <= a.half + b.half


def _cross(out, part: Figure, whole: Figure, narrow, key: str, column: str, why: str) -> None:
    a, b = part.block.title or part.block.id, whole.block.title or whole.block.id
    name = f"{key} {narrow.names.get(key, '')}".strip() if key != TOTAL else TOTAL
    out.add(
        Finding(
            "budget-cross-table",
            CERTAIN,
            "预算表之间同一科目的数不一致",
            f"{name}的{column}：{a}印为 {part.text}，{b}印为 {whole.text}（{why}），"
            f"相差 {_shown(part.value - whole.value, part.block)}",
            (part.evidence, whole.evidence),
            whole.text,
            part.text,
            show(part.value - whole.value),
        )
    )


def _both_sides(block: TableBlock, out) -> None:
    """收入总计 = 支出总计 on a two-sided 总表: the first figure after each label."""
    income = spending = None
    for offset, row in enumerate(block.grid_rows):
        cells = [c or "" for c in row]
        for i, cell in enumerate(cells):
            label = label_key(cell)
            side = "收入" if label in ("收入总计", "收入合计") else None
            side = side or ("支出" if label in ("支出总计", "支出合计") else None)
            if side is None:
                continue
            figure = next((f for c in cells[i + 1 :] if (f := _figure(c, block, offset))), None)
            if side == "收入":
                income = income or figure
            else:
                spending = spending or figure
    if income is None or spending is None:
        out.skip("预算表", f"{block.title}：找不到收入总计和支出总计，两侧是否相等未核对")
        return
    _report(out, [income, spending], income, [spending], "收入总计与支出总计")


def _personnel_split(blocks: dict, tables: dict, out) -> None:
    """The 总表's 人员经费 and 公用经费 (all funds) against the economic table's (一般公共预算):
    each is part of the other's; when the two 基本支出 (their sums) agree, each must agree."""
    if "budget_summary" not in blocks or "budget_general_basic" not in tables:
        return
    economic = tables["budget_general_basic"]
    spending = next(
        (s for s in _sides(blocks["budget_summary"]) if s.column("人员经费") is not None), None
    )
    if spending is None or economic.column("人员经费") is None:
        return  # this 总表 gives no split to compare
    total_row = next((k for k in spending.rows if k in ("支出总计", "支出合计")), None)
    if total_row is None or TOTAL not in economic.rows:
        out.skip("预算表", "总表或经济分类表没有合计行，人员经费、公用经费之分未核对")
        return
    pairs = {}
    for last in ("人员经费", "公用经费"):
        whole = spending.rows[total_row][spending.column(last)]
        part = economic.rows[TOTAL][economic.column(last)]
        if whole is None or part is None:
            return
        pairs[last] = (part, whole)
    (p1, w1), (p2, w2) = pairs.values()
    basic_agree = (
        abs(p1.value + p2.value - w1.value - w2.value) <= p1.half + p2.half + w1.half + w2.half
    )
    for last, (part, whole) in pairs.items():
        out.run += 1
        if _agree(part, whole):
            continue
        if basic_agree:
            why = "两表的基本支出（人员经费与公用经费之和）相同，人员经费、公用经费之分也应相同"
            _cross(out, part, whole, economic, TOTAL, last, why)
        elif part.value > whole.value:
            _cross(out, part, whole, economic, TOTAL, last, _PART_ABOVE)

"""The example's tables: reference figures, golden files, 舍位平衡, drill-down, table rules."""

import csv
import os
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from juesuan.ledger.load import load
from juesuan.rules.engine import FAIL, PASS, evaluate, load_ruleset
from juesuan.statements.build import build
from juesuan.statements.model import Cell

from conftest import write_dataset

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("JUESUAN_UPDATE_GOLDEN") == "1"


def shown(statements, table, row, column=None):
    _, found, index = statements.table(table).find(row, column)
    return found.cells[index].shown


@pytest.fixture(scope="module")
def sichuan(example):
    return build(example, "sichuan-2020")


def test_the_fourteen_tables_in_order(sichuan):
    assert [t.number for t in sichuan] == [
        "一",
        "二",
        "三",
        "四",
        "五",
        "六",
        "七",
        "八",
        "九",
        "十",
        "十一",
        "十二",
        "十三",
        "十四",
    ]
    assert sichuan.tables[9].title == "一般公共预算财政拨款“三公”经费支出决算表"
    assert [t.id for t in sichuan if t.empty] == [
        "government_fund", "government_fund_three_public", "state_capital", "state_capital_spending"
    ]  # fmt: skip


def test_reference_figures(sichuan):
    """Figures the 2020 disclosure of 泸州市社会保险事业管理局 states, in 万元."""
    expect = {
        ("summary", "收入总计", None): "5686.09",
        ("summary", "一般公共预算财政拨款收入", None): "5686.09",
        ("summary", "208", None): "5499.50",
        ("summary", "210", None): "57.13",
        ("summary", "221", None): "129.46",
        ("spending", "合计", "基本支出"): "4329.64",
        ("spending", "合计", "项目支出"): "1356.45",
        ("general", "2080109", "合计"): "842.96",
        ("general", "2089999", "合计"): "1236.05",
        ("general", "2210203", "合计"): "42.03",
        ("general_basic", "人员经费合计", None): "4190.24",
        ("general_basic", "公用经费合计", None): "139.40",
        ("three_public", "数额", "公务接待费.决算数"): "0.59",
        ("three_public", "数额", "合计.决算数"): "0.59",
        ("fiscal_summary", "本年支出合计", "一般公共预算财政拨款"): "5686.09",
    }
    for (table, row, column), value in expect.items():
        assert shown(sichuan, table, row, column) == Decimal(value), (table, row, column)


@pytest.mark.parametrize("format_name", ["sichuan-2020", "national-9"])
def test_every_table_rule_passes(example, format_name):
    statements = build(example, format_name)
    outcomes = evaluate(example, load_ruleset(format_name), statements)
    ledger_rules = {r.id for r in load_ruleset("ledger").rules}
    table_rules = [o for o in outcomes if o.rule not in ledger_rules]
    assert len(table_rules) > 100 and all(o.status == PASS for o in table_rules)
    assert {o.status for o in outcomes} <= {PASS, "not_applicable"}


def test_national_nine_layout(example):
    national = build(example, "national-9")
    assert [t.title for t in national][4:7] == [
        "一般公共预算财政拨款支出决算表", "一般公共预算财政拨款基本支出决算表", "财政拨款“三公”经费支出决算表"
    ]  # fmt: skip
    general = national.table("general").sections[0]
    assert general.rows[-1].key == "合计" and general.rows[0].key == "208"  # 合计 printed last
    assert national.table("government_fund").empty_statement.startswith(
        "说明：泸州市社会保险事业管理局本年度没有"
    )
    # 年末财政拨款结转和结余 is one line, its funds added up but not printed; 总计 faces 总计 on the
    # last line though 年初 on the other side is listed by fund.
    from juesuan.publish.table_layout import layout

    fiscal = national.table("fiscal_summary")
    spending = [r.key for r in fiscal.sections[1].rows]
    assert spending[-3:] == ["本年支出合计", "年末财政拨款结转和结余", "支出总计"]
    labels = [
        [c.text for c in line.cells if c.kind == "total-label"] for line in layout(fiscal).body
    ]
    assert labels[-6:-4] == [
        ["本年收入合计", "本年支出合计"], ["年初财政拨款结转和结余", "年末财政拨款结转和结余"]
    ]  # fmt: skip
    assert labels[-1] == ["总计", "总计"]
    # The 基本支出 table is headed by its columns only, as the template prints it.
    (head,) = layout(national.table("general_basic")).header
    assert [c.text for c in head.cells] == ["经济分类科目编码", "科目名称", "决算数"] * 2


@pytest.mark.parametrize("format_name", ["sichuan-2020", "national-9"])
def test_golden_tables(example, format_name):
    """Every shown figure of every table, as reviewed in tests/golden/<format>/<table>.csv."""
    folder = GOLDEN / format_name
    for table in build(example, format_name):
        path = folder / f"{table.number}-{table.id}.csv"
        rows = [["section", "row", "label", "column", "shown"]] + [
            [s, k, label, c, "" if v is None else str(v)] for s, k, label, c, v in table.records()
        ]
        if UPDATE:
            folder.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerows(rows)
        with path.open(encoding="utf-8", newline="") as handle:
            assert list(csv.reader(handle)) == rows, path.name


def test_cells_drill_down_to_their_lines(example, sichuan):
    ledger = example.ledger
    for table in sichuan:
        for section in table.sections:
            for row in section.rows:
                for cell in row.cells:
                    if (
                        not cell.sources
                        or not isinstance(cell.sources[0], dict)
                        or cell.exact is None
                    ):
                        continue
                    total = sum(
                        (
                            ledger.total(
                                **{k: tuple(v) if isinstance(v, list) else v for k, v in s.items()}
                                | {"phase": s.get("phase", "决算")}
                            )
                            for s in cell.sources
                        ),
                        Decimal(0),
                    )
                    assert total == cell.exact, (table.id, row.key)


def test_rounding_keeps_tables_balanced(tmp_path):
    """Three items of 3,333.33 元: each shows 0.33 万元 alone, yet the 合计 shows 1.00 (9,999.99 元)."""
    spending = (
        "阶段,资金来源,功能分类科目编码,经济分类科目编码,支出性质,项目名称,金额\n"
        + "\n".join(
            f"决算,一般公共预算财政拨款,{code},30302,人员经费,,3333.33"
            for code in ("2080501", "2080502", "2080505")
        )
    )
    income = "阶段,资金来源,功能分类科目编码,金额\n决算,一般公共预算财政拨款,2080501,9999.99\n"
    dataset, issues = load(
        write_dataset(tmp_path / "r", spending=spending, income=income, projects="项目名称\n")
    )
    assert dataset is not None, [str(i) for i in issues]
    statements = build(dataset, "sichuan-2020")
    table = statements.table("spending")
    items = [
        shown(statements, "spending", c, "本年支出合计") for c in ("2080501", "2080502", "2080505")
    ]
    assert shown(statements, "spending", "合计", "本年支出合计") == Decimal("1.00")
    assert sum(items) == Decimal("1.00") and sorted(items) == [
        Decimal("0.33"),
        Decimal("0.33"),
        Decimal("0.34"),
    ]
    moved = [a for a in table.adjustments if a.column == "本年支出合计" and a.row.startswith("208")]
    assert (
        len(moved) == 1
        and moved[0].rounded == Decimal("0.33")
        and moved[0].shown == Decimal("0.34")
    )
    outcomes = evaluate(dataset, load_ruleset("sichuan-2020"), statements)
    assert not [o for o in outcomes if o.status == FAIL and o.tier == "FATAL"]


def test_a_broken_table_fails_its_rules(example, sichuan):
    """Change one shown figure of 支出决算表: the row identity, hierarchy and 总表 rules catch it."""
    table = sichuan.table("spending")
    section = table.sections[0]
    rows = list(section.rows)
    index = next(i for i, r in enumerate(rows) if r.key == "208")
    cells = list(rows[index].cells)
    cells[0] = Cell(cells[0].exact, cells[0].shown + Decimal("1.00"), cells[0].sources)
    rows[index] = replace(rows[index], cells=tuple(cells))
    broken_table = replace(table, sections=(replace(section, rows=tuple(rows)),))
    broken = replace(
        sichuan, tables=tuple(broken_table if t.id == "spending" else t for t in sichuan)
    )
    outcomes = evaluate(example, load_ruleset("sichuan-2020"), broken)
    failed = {(o.rule, o.bindings.get("code", "")) for o in outcomes if o.status == FAIL}
    assert failed == {
        ("spending-row-identity", "208"),
        ("table-hierarchy", ""),  # 合计 ≠ Σ 类
        ("table-hierarchy", "208"),  # 208 ≠ Σ 款
        ("summary-classes", "208"),
    }


def test_a_sum_column_declared_before_the_sums_it_adds(example):
    """合计 = 出国 + 小计 + 接待 is declared before 小计 = 购置 + 运行; it must still include 小计."""
    items = tuple(
        replace(t, budget=Decimal("1000.00"), actual=Decimal("1000.00"))
        if t.item == "公务用车运行维护费"
        else t
        for t in example.three_public
    )
    statements = build(replace(example, three_public=items), "sichuan-2020")
    assert shown(
        statements, "three_public", "数额", "公务用车购置及运行维护费.小计.决算数"
    ) == Decimal("0.10")
    assert shown(statements, "three_public", "数额", "合计.决算数") == Decimal("0.69")


def test_independent_rounding_and_blank_cells_are_options_of_a_format(tmp_path, example):
    """shanghai-2024 differs from national-9 only in data: each figure rounded on its own (the
    三 items of 3,333.33 元 show 0.33 each under a 合计 of 1.00, nothing moved), the two 总表
    still balanced, the table rules passing with their declared rounding tolerance, and a zero
    cell left blank."""
    from juesuan.publish.table_layout import layout

    spending = (
        "阶段,资金来源,功能分类科目编码,经济分类科目编码,支出性质,项目名称,金额\n"
        + "\n".join(
            f"决算,一般公共预算财政拨款,{code},30302,人员经费,,3333.33"
            for code in ("2080501", "2080502", "2080505")
        )
    )
    income = "阶段,资金来源,功能分类科目编码,金额\n决算,一般公共预算财政拨款,2080501,9999.99\n"
    dataset, _ = load(
        write_dataset(tmp_path / "r", spending=spending, income=income, projects="项目名称\n")
    )
    statements = build(dataset, "shanghai-2024")
    items = [
        shown(statements, "spending", c, "本年支出合计") for c in ("2080501", "2080502", "2080505")
    ]
    assert items == [Decimal("0.33")] * 3
    assert shown(statements, "spending", "合计", "本年支出合计") == Decimal("1.00")
    assert not statements.table("spending").adjustments
    outcomes = evaluate(dataset, load_ruleset("shanghai-2024"), statements)
    assert not [o for o in outcomes if o.status == FAIL and o.tier == "FATAL"]
    # The example: national-9 moves one figure of 基本支出决算表 by 舍位平衡, shanghai-2024 none.
    assert build(example, "national-9").table("general_basic").adjustments
    independent = build(example, "shanghai-2024")
    assert not any(t.adjustments for t in independent)
    cells = [c for r in layout(independent.table("summary")).body for c in r.cells]
    zero = [c for c in cells if c.kind == "amount" and c.value is None]
    assert zero and all(c.text == "" for c in zero)
    national = [
        c for r in layout(build(example, "national-9").table("summary")).body for c in r.cells
    ]
    assert any(c.text == "0.00" for c in national)

"""Budget tables checked as budgets, both ways: real budgets of Shanghai and Jiangsu pass every
rule between and within their tables, and a copy with one cell changed is caught; the published
unit budget with its two known table errors (answer key U4, U5) is caught on those."""

from __future__ import annotations

import dataclasses

import pytest

from juesuan.audit import CERTAIN
from juesuan.audit.budget import budget_checks
from juesuan.audit.checks import Outcome
from juesuan.audit.model import build
from juesuan.audit.read import read
from shared_material import REAL_DOCUMENTS

SHANGHAI = "shanghai-putuo-2026-budget-justice-bureau-department.pdf"
JIANGSU = "jiangsu-2018-budget-procuratorate.pdf"


def real_model(name: str):
    path = REAL_DOCUMENTS / name
    if not path.exists():
        pytest.skip(f"{name} is not in {REAL_DOCUMENTS}")
    return build(read(path))


def checked(model) -> Outcome:
    out = Outcome()
    budget_checks(model, out)
    return out


def with_cell(model, table_id: str, row_text: str, column: int, text: str):
    """The model with one cell of one budget table printed differently."""
    tables = []
    for block in model.tables:
        if block.id == table_id:
            rows = [list(r) for r in block.grid_rows]
            (index,) = [i for i, r in enumerate(rows) if row_text in " ".join(c or "" for c in r)]
            rows[index][column] = text
            block = dataclasses.replace(block, grid_rows=tuple(tuple(r) for r in rows))
        tables.append(block)
    return dataclasses.replace(model, tables=tables)


@pytest.mark.parametrize("name", [SHANGHAI, JIANGSU])
def test_a_real_budget_passes_its_table_rules(name):
    out = checked(real_model(name))
    assert out.run > 50  # the tables were read and compared, not skipped
    assert out.findings == []


def test_a_function_row_whose_columns_do_not_add_up_is_proven():
    model = real_model(SHANGHAI)
    row = next(r for b in model.tables if b.id == "budget_spending" for r in b.grid_rows[1:])
    project = len(row) - 1
    broken = with_cell(model, "budget_spending", "行政运行", project, "1,000.00")
    findings = checked(broken).findings
    assert findings and all(f.severity == CERTAIN for f in findings)
    assert any("行政运行" in f.message and "各栏之和" in f.message for f in findings)
    # the class above it no longer adds up either, and the general-budget table now differs
    assert any(f.rule == "budget-cross-table" for f in findings)


def test_a_jiangsu_three_public_total_is_the_sum_of_its_nested_subtotals():
    model = real_model(JIANGSU)
    broken = with_cell(model, "budget_three_public", "1,384.74", 0, "1,385.74")
    (finding,) = checked(broken).findings
    assert "1,385.74" in finding.message and "1,384.74 万元" in finding.message
    # one cent off is within the rounding of the six figures it adds up
    assert not checked(with_cell(model, "budget_three_public", "1,384.74", 0, "1,384.75")).findings


def test_cells_rounded_on_their_own_are_not_errors():
    model = real_model("shanghai-putuo-2026-budget-justice-bureau-unit.pdf")
    # 支出预算总表 prints 22,118,861 for the 基本支出 of 22,118,861.34: never reported
    assert not any("22,118,861 " in f.message for f in checked(model).findings)


def test_the_unit_budget_known_errors_are_proven():
    findings = checked(real_model("shanghai-putuo-2026-budget-justice-bureau-unit.pdf")).findings
    values = {e.value for f in findings for e in f.evidence}
    assert "64,840,547.00" in values  # 行政运行's 项目支出 (U4)
    assert {"20,374,181", "1,744,680"} <= values  # 人员/公用经费 split (U5)
    assert all(f.severity == CERTAIN for f in findings)

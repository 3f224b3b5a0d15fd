"""The summary tables' 类 rows follow the dataset's year (names, the debt rows, unlisted classes)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from juesuan.ledger.load import load
from juesuan.statements.build import build

from conftest import UNIT_TOML, write_dataset

SPENDING = """阶段,资金来源,功能分类科目编码,经济分类科目编码,支出性质,项目名称,金额
决算,一般公共预算财政拨款,2101101,30110,人员经费,,1000.00
决算,一般公共预算财政拨款,2330101,30701,公用经费,,500.00
"""
INCOME = """阶段,资金来源,功能分类科目编码,金额
决算,一般公共预算财政拨款,2101101,1500.00
"""


def _summary_labels(tmp_path: Path, year: int, format_name: str) -> list[tuple[str, str]]:
    unit = UNIT_TOML.replace("year = 2020", f"year = {year}")
    folder = write_dataset(
        tmp_path / str(year), unit=unit, spending=SPENDING, income=INCOME, projects="项目名称\n"
    )
    dataset, issues = load(folder)
    assert dataset is not None, [str(i) for i in issues]
    statements = build(dataset, format_name)
    for table_id in ("summary", "fiscal_summary"):
        spending = statements.table(table_id).sections[1]
        assert spending.name == "支出"
        rows = [(row.code, row.label) for row in spending.rows if row.code]
        if table_id == "summary":
            found = rows
            by_code = {row.code: row for row in spending.rows if row.code}
            assert by_code["233"].cells[0].exact == Decimal("500.00")
            total = next(row for row in spending.rows if row.key == "本年支出合计")
            assert total.cells[0].exact == Decimal("1500.00")
        else:
            assert rows == found  # both summary tables list the same classes
    return found


@pytest.mark.parametrize("format_name", ["sichuan-2020", "national-9"])
def test_2024_summary_lists_the_debt_classes(tmp_path: Path, format_name: str) -> None:
    rows = _summary_labels(tmp_path, 2024, format_name)
    assert ("231", "二十四、债务还本支出") in rows
    assert ("232", "二十五、债务付息支出") in rows
    # 233 has money but the year's 总表 does not print it: it is added in code order
    assert rows[-2:] == [
        ("233", "二十六、债务发行费用支出"),
        ("234", "二十七、抗疫特别国债安排的支出"),
    ]
    assert ("210", "九、卫生健康支出") in rows


def test_2018_summary_uses_that_year_s_classes(tmp_path: Path) -> None:
    rows = _summary_labels(tmp_path, 2018, "sichuan-2020")
    assert ("210", "九、医疗卫生与计划生育支出") in rows
    assert ("207", "七、文化体育与传媒支出") in rows
    assert [code for code, _ in rows][-3:] == ["222", "229", "233"]
    assert len(rows) == 21  # the 20 rows of 2018 and the class with money

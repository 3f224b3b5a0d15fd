from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import polars as pl

from juesuan.consolidate import ConsolidationReport, Elimination, consolidate
from juesuan.ledger.export import write_folder
from juesuan.ledger.issues import ERROR
from juesuan.ledger.load import load
from juesuan.ledger.model import Dataset
from juesuan.rules.engine import FAIL, evaluate, load_ruleset

from conftest import write_dataset

INCOME = "阶段,资金来源,功能分类科目编码,金额,备注\n"
SPENDING = "阶段,资金来源,功能分类科目编码,经济分类科目编码,支出性质,项目名称,金额,备注\n"


def unit_toml(name: str, code: str, year: int = 2020) -> str:
    return (
        f'[unit]\nname = "{name}"\ncode = "{code}"\nyear = {year}\n'
        'format = "sichuan-2020"\nkind = "行政单位"\ndepartment = "测试局"\n'
    )


def unit(tmp_path: Path, name: str, code: str, *, year: int = 2020, **files: str) -> Dataset:
    folder = write_dataset(tmp_path / code, unit=unit_toml(name, code, year), **files)
    dataset, issues = load(folder)
    assert dataset is not None, [str(i) for i in issues]
    return dataset


def parent_and_child(tmp_path: Path, *, paid: str = "100.00", received: str = "100.00"):
    """测试局 pays its subordinate 测试中心 a subsidy; the centre spends it."""
    parent = unit(
        tmp_path,
        "测试局",
        "100",
        income=INCOME
        + "决算,一般公共预算财政拨款,2080109,1000.00,\n"
        + f"决算,事业收入,2080109,{paid},\n",
        spending=SPENDING
        + "决算,一般公共预算财政拨款,2080109,30101,人员经费,,1000.00,\n"
        + f"决算,事业收入,2080109,,对附属单位补助支出,,{paid},\n",
    )
    child = unit(
        tmp_path,
        "测试中心",
        "101",
        income=INCOME + f"决算,上级补助收入,2080109,{received},\n",
        spending=SPENDING + f"决算,上级补助收入,2080109,30201,公用经费,,{received},\n",
    )
    return parent, child


def offsets(dataset: Dataset) -> pl.DataFrame:
    return dataset.ledger.frame.filter(pl.col("file") == "汇总抵消")


# ---- merging ---------------------------------------------------------------------------------


def test_two_units_merge_with_line_counts_totals_and_sources_preserved(tmp_path):
    first = unit(
        tmp_path,
        "测试局",
        "100",
        facts="事项,数值\n机关运行经费,1000.00\n实有在职人数,10\n部门整体绩效自评得分,90\n",
        prior_year="项目,上年决算数\n收支总计,1200.00\n三公经费,50.00\n",
        three_public="项目,资金来源,预算数,决算数,批次,人次\n国内公务接待费,一般公共预算财政拨款,100.00,80.00,2,10\n",
        procurement="类别,采购金额,授予中小企业合同金额\n货物,300.00,200.00\n",
        reasons="类型,事项,原因\n同比变动,收支总计,业务增加\n",
    )
    second = unit(
        tmp_path,
        "测试中心",
        "101",
        income=INCOME + "决算,事业收入,2080109,700.00,\n",
        spending=SPENDING + "决算,事业收入,2080109,30101,人员经费,,700.00,\n",
        facts="事项,数值\n机关运行经费,250.50\n实有在职人数,5\n",
        prior_year="项目,上年决算数\n收支总计,600.00\n",
        three_public="项目,资金来源,预算数,决算数,批次,人次\n国内公务接待费,一般公共预算财政拨款,20.00,15.00,1,3\n",
        procurement="类别,采购金额\n货物,100.00\n服务,40.00\n",
    )

    merged, report = consolidate([first, second])

    assert merged is not None and report.problems == []
    ledger = merged.ledger
    assert len(ledger) == len(first.ledger) + len(second.ledger) == 7
    for direction in ("收入", "支出"):
        assert ledger.total(direction=direction) == first.ledger.total(
            direction=direction
        ) + second.ledger.total(direction=direction)
    assert ledger.total(direction="支出") == Decimal("2200.00")
    assert merged.unit.name == "测试局（汇总）" and merged.unit.year == 2020
    assert merged.unit.kind == "行政单位" and merged.unit.department == "测试局"
    # Drill-down: a line still names its own unit and where it was read.
    line = next(ledger.lines(unit="测试中心", direction="支出"))
    assert (line.amount, line.source.file, line.source.row) == (
        Decimal("700.00"),
        "spending.csv",
        2,
    )
    assert ledger.sum_by("unit", direction="收入") == {
        "测试局": Decimal("1500.00"),
        "测试中心": Decimal("700.00"),
    }
    # Facts: amounts and counts summed; the score is not summable and is left out, with a note.
    assert merged.facts["机关运行经费"].value == Decimal("1250.50")
    assert merged.facts["实有在职人数"].value == 15
    assert "部门整体绩效自评得分" not in merged.facts
    assert any("部门整体绩效自评得分" in n for n in report.notes)
    # Prior year: only keys every unit has; the dropped one is named.
    assert dict((k, f.value) for k, f in merged.prior_year.items()) == {
        "收支总计": Decimal("1800.00")
    }
    assert any("三公经费" in n and "上年数" in n for n in report.notes)
    (reception,) = merged.three_public
    assert (reception.budget, reception.actual, reception.batches, reception.persons) == (
        Decimal("120.00"),
        Decimal("95.00"),
        3,
        13,
    )
    procurement = {p.kind: p for p in merged.procurement}
    assert procurement["货物"].amount == Decimal("400.00")
    assert procurement["货物"].sme_amount == Decimal("200.00")
    assert procurement["服务"].amount == Decimal("40.00")
    # Reasons and texts come from the first dataset, and the report says so.
    assert merged.reasons == {("同比变动", "收支总计"): "业务增加"}
    assert any("第一个数据集" in n for n in report.notes)
    assert report.units == ["测试局", "测试中心"] and report.lines == 7
    assert report.eliminations == []


def test_name_and_code_can_be_given(tmp_path):
    first = unit(tmp_path, "甲单位", "201")
    merged, _ = consolidate([first], name="某某部门", code="201")
    assert merged is not None
    assert (merged.unit.name, merged.unit.code) == ("某某部门", "201")


def test_projects_with_one_name_merge_only_when_identical(tmp_path):
    projects = "项目名称,项目编码,项目类别,备注\n生活补贴,,代发补贴,\n工作经费,,{kind},\n"
    spending = (
        SPENDING
        + "决算,一般公共预算财政拨款,2089999,30305,项目支出,生活补贴,500.00,\n"
        + "决算,一般公共预算财政拨款,2089999,30201,项目支出,工作经费,{amount},\n"
    )
    a = unit(
        tmp_path,
        "甲单位",
        "201",
        projects=projects.format(kind="工作经费"),
        spending=spending.format(amount="10.00"),
    )
    b = unit(
        tmp_path,
        "乙单位",
        "202",
        projects=projects.format(kind="专项业务"),
        spending=spending.format(amount="20.00"),
    )

    merged, report = consolidate([a, b])

    assert merged is not None
    assert set(merged.projects) == {"生活补贴", "甲单位：工作经费", "乙单位：工作经费"}
    assert merged.ledger.total(project="生活补贴") == Decimal("1000.00")
    assert merged.ledger.total(project="甲单位：工作经费") == Decimal("10.00")
    assert merged.ledger.total(project="乙单位：工作经费") == Decimal("20.00")
    assert merged.ledger.count(project="工作经费") == 0
    assert any("工作经费" in n and "甲单位：工作经费" in n for n in report.notes)


# ---- eliminations ----------------------------------------------------------------------------


def test_subsidy_to_a_subordinate_is_eliminated_on_both_sides(tmp_path):
    parent, child = parent_and_child(tmp_path)

    merged, report = consolidate([parent, child])

    assert merged is not None and report.problems == []
    income = parent.ledger.total(direction="收入") + child.ledger.total(direction="收入")
    spending = parent.ledger.total(direction="支出") + child.ledger.total(direction="支出")
    assert merged.ledger.total(direction="收入") == income - 100
    assert merged.ledger.total(direction="支出") == spending - 100
    assert merged.ledger.total(fund="上级补助收入", direction="收入") == 0
    assert merged.ledger.total(nature="对附属单位补助支出") == 0
    # The offsetting lines are there, negative, marked, and carry the offset lines' tags.
    lines = offsets(merged).sort("unit")
    assert lines.select("unit", "direction", "fund", "function_code", "nature").rows() == [
        ("测试中心", "收入", "上级补助收入", "2080109", None),
        ("测试局", "支出", "事业收入", "2080109", "对附属单位补助支出"),
    ]
    assert lines["amount_fen"].to_list() == [-10000, -10000]
    assert lines["phase"].to_list() == ["决算", "决算"]
    assert all(note.startswith("汇总抵消：") for note in lines["note"])
    assert len(merged.ledger) == len(parent.ledger) + len(child.ledger) + 2
    assert report.offset_lines == 2
    (elimination,) = report.eliminations
    assert elimination == Elimination(
        pair="对附属单位补助支出—上级补助收入",
        paid_nature="对附属单位补助支出",
        fund="上级补助收入",
        phase="决算",
        function_code="2080109",
        paid=Decimal("100.00"),
        received=Decimal("100.00"),
        eliminated=Decimal("100.00"),
        payers=("测试局",),
        receivers=("测试中心",),
    )


def test_a_mismatch_eliminates_the_smaller_side_and_reports_the_rest(tmp_path):
    parent, child = parent_and_child(tmp_path, paid="100.00", received="80.00")

    merged, report = consolidate([parent, child])

    assert merged is not None  # still produced: the gap is a warning, not a refusal
    (elimination,) = report.eliminations
    assert (elimination.eliminated, elimination.unmatched) == (Decimal("80.00"), Decimal("20.00"))
    (problem,) = report.problems
    assert "100.00" in problem and "80.00" in problem and "未匹配 20.00 元" in problem
    assert "测试局" in problem and "测试中心" in problem
    assert merged.ledger.total(nature="对附属单位补助支出") == Decimal("20.00")
    assert merged.ledger.total(fund="上级补助收入", direction="收入") == 0
    assert offsets(merged)["amount_fen"].sum() == -16000


def test_remittance_to_the_superior_is_eliminated(tmp_path):
    parent = unit(
        tmp_path,
        "测试局",
        "100",
        income=INCOME
        + "决算,一般公共预算财政拨款,2080109,1000.00,\n"
        + "决算,附属单位上缴收入,2080109,50.00,\n",
        spending=SPENDING + "决算,一般公共预算财政拨款,2080109,30101,人员经费,,1050.00,\n",
    )
    child = unit(
        tmp_path,
        "测试中心",
        "101",
        income=INCOME + "决算,经营收入,2080109,300.00,\n",
        spending=SPENDING
        + "决算,经营收入,2080109,,经营支出,,250.00,\n"
        + "决算,经营收入,2080109,,上缴上级支出,,50.00,\n",
    )

    merged, report = consolidate([parent, child])

    assert merged is not None and report.problems == []
    (elimination,) = report.eliminations
    assert elimination.pair == "上缴上级支出—附属单位上缴收入"
    assert elimination.eliminated == Decimal("50.00")
    assert merged.ledger.total(direction="收入") == Decimal("1300.00")
    assert merged.ledger.total(direction="支出") == Decimal("1300.00")
    assert merged.ledger.total(fund="附属单位上缴收入") == 0
    assert set(offsets(merged)["unit"]) == {"测试局", "测试中心"}


def test_budget_phases_are_eliminated_too_and_split_lines_are_offset_in_full(tmp_path):
    parent = unit(
        tmp_path,
        "测试局",
        "100",
        income=INCOME + "年初预算,事业收入,2080109,90.00,\n",
        spending=SPENDING + "年初预算,事业收入,2080109,,对附属单位补助支出,,90.00,\n",
    )
    child = unit(
        tmp_path,
        "测试中心",
        "101",
        income=INCOME
        + "年初预算,上级补助收入,2080109,60.00,甲\n"
        + "年初预算,上级补助收入,2080109,30.00,乙\n",
        spending=SPENDING + "年初预算,上级补助收入,2080109,30201,公用经费,,90.00,\n",
    )

    merged, report = consolidate([parent, child])

    assert merged is not None and report.problems == []
    assert [(e.phase, e.eliminated) for e in report.eliminations] == [
        ("年初预算", Decimal("90.00"))
    ]
    assert merged.ledger.total(phase="年初预算", direction="收入") == Decimal("90.00")
    assert merged.ledger.total(phase="年初预算", direction="支出") == Decimal("90.00")
    # The two income lines share their tags, so one offset line takes both off.
    assert offsets(merged).filter(pl.col("direction") == "收入")["amount_fen"].to_list() == [-9000]
    assert set(offsets(merged)["phase"]) == {"年初预算"}


def test_without_function_codes_on_the_income_side_the_pair_is_matched_in_total(tmp_path):
    parent = unit(
        tmp_path,
        "测试局",
        "100",
        income=INCOME + "决算,事业收入,,100.00,\n",
        spending=SPENDING
        + "决算,事业收入,2080109,,对附属单位补助支出,,60.00,\n"
        + "决算,事业收入,2080501,,对附属单位补助支出,,40.00,\n",
    )
    child = unit(
        tmp_path,
        "测试中心",
        "101",
        income=INCOME + "决算,上级补助收入,,100.00,\n",
        spending=SPENDING + "决算,上级补助收入,2080109,30201,公用经费,,100.00,\n",
    )

    merged, report = consolidate([parent, child])

    assert merged is not None and report.problems == []
    (elimination,) = report.eliminations
    assert elimination.function_code is None and elimination.eliminated == Decimal("100.00")
    assert any("按合计抵消" in n for n in report.notes)
    assert merged.ledger.total(nature="对附属单位补助支出") == 0
    assert sorted(offsets(merged).filter(pl.col("direction") == "支出")["amount_fen"]) == [
        -6000,
        -4000,
    ]


def test_a_subsidy_whose_receiver_is_missing_is_reported_not_eliminated(tmp_path):
    parent, _ = parent_and_child(tmp_path)
    merged, report = consolidate([parent])
    assert merged is not None and offsets(merged).is_empty()
    (problem,) = report.problems
    assert "未匹配 100.00 元" in problem and "收到方（无）" in problem


def test_a_subsidy_paid_from_appropriation_is_eliminated_and_flagged(tmp_path):
    parent = unit(
        tmp_path,
        "测试局",
        "100",
        income=INCOME + "决算,一般公共预算财政拨款,2080109,100.00,\n",
        spending=SPENDING + "决算,一般公共预算财政拨款,2080109,,对附属单位补助支出,,100.00,\n",
    )
    _, child = parent_and_child(tmp_path)

    merged, report = consolidate([parent, child])

    assert merged is not None and report.eliminated == Decimal("100.00")
    (problem,) = report.problems
    assert "测试局" in problem and "一般公共预算财政拨款" in problem and "100.00" in problem


# ---- refusals --------------------------------------------------------------------------------


def test_different_years_give_no_dataset_and_say_why(tmp_path):
    a = unit(tmp_path, "甲单位", "201")
    b = unit(tmp_path, "乙单位", "202", year=2021)

    merged, report = consolidate([a, b])

    assert merged is None
    (problem,) = report.problems
    assert "年度" in problem and "2020" in problem and "2021" in problem
    assert "甲单位" in problem and "乙单位" in problem
    assert a.origin in problem and b.origin in problem


def test_the_same_unit_twice_is_refused(tmp_path):
    a = unit(tmp_path, "甲单位", "201")
    same_name = replace(a, unit=replace(a.unit, code="999"), origin="副本")
    same_code = replace(a, unit=replace(a.unit, name="丙单位"), origin="另一份")

    merged, report = consolidate([a, same_name, same_code])

    assert merged is None
    assert len(report.problems) == 2
    assert any("单位名称相同" in p and "副本" in p for p in report.problems)
    assert any("单位编码相同" in p and "另一份" in p and "丙单位" in p for p in report.problems)


def test_a_consolidation_that_already_holds_a_unit_is_refused_with_both_inputs(tmp_path):
    parent, child = parent_and_child(tmp_path)
    merged, _ = consolidate([parent, child], name="测试局汇总", code="100000")
    department, issues = load(write_folder(merged, tmp_path / "部门汇总"))
    assert department is not None, [str(i) for i in issues]
    other = unit(tmp_path, "另一单位", "102")

    again, report = consolidate([department, other, child])

    assert again is None
    (problem,) = report.problems
    assert department.origin in problem and child.origin in problem
    assert "“测试中心”" in problem and "所属单位" in problem and other.origin not in problem


def test_units_whose_amounts_together_pass_the_ceiling_are_refused_not_wrapped(tmp_path):
    """Each unit at a dataset's ceiling (100 lines of the largest amount, all received from the
    department): 93 of them pass what Int64 分 can hold."""
    from juesuan.ledger.model import Ledger
    from juesuan.money import MAX_AMOUNT, MAX_TOTAL, to_fen

    lines = int(MAX_TOTAL / MAX_AMOUNT)
    base = unit(tmp_path, "单位", "200", income=INCOME + "决算,上级补助收入,2080109,1.00,\n")
    line = base.ledger.frame.head(1)
    units = [
        replace(
            base,
            unit=replace(base.unit, name=f"单位{n}", code=str(300 + n)),
            ledger=Ledger(
                pl.concat([line] * lines).with_columns(
                    pl.lit(f"单位{n}").alias("unit"), pl.lit(to_fen(MAX_AMOUNT)).alias("amount_fen")
                )
            ),
            origin=f"单位{n}",
        )
        for n in range(93)
    ]

    merged, report = consolidate(units)

    assert merged is None
    (problem,) = report.problems
    assert "超过一个数据集的上限 1,000,000,000,000,000.00 元" in problem
    assert "“单位0”（单位0） 999,999,999,999,999.00 元" in problem


def test_nothing_to_consolidate():
    merged, report = consolidate([])
    assert merged is None and report.problems == ["没有要汇总的数据集。"]
    assert "未生成" in str(report)


# ---- the result is a dataset like any other --------------------------------------------------


def test_the_consolidated_dataset_writes_and_loads_back(tmp_path):
    parent, child = parent_and_child(tmp_path, paid="100.00", received="80.00")
    merged, _ = consolidate([parent, child])
    assert merged is not None

    folder = write_folder(merged, tmp_path / "out")
    again, issues = load(folder)

    assert again is not None, [str(i) for i in issues if i.severity == ERROR]
    assert again.unit.name == merged.unit.name
    assert len(again.ledger) == len(merged.ledger)
    for direction in ("收入", "支出"):
        assert again.ledger.total(direction=direction) == merged.ledger.total(direction=direction)
    back = again.ledger.frame.filter(pl.col("note").str.starts_with("汇总抵消："))
    assert sorted(back["amount_fen"]) == [-8000, -8000]


def test_the_example_with_a_second_unit_keeps_both_units_figures(example, tmp_path):
    second = unit(
        tmp_path,
        "泸州市社会保险事业管理局所属中心",
        "308504",
        income=INCOME + "决算,事业收入,2080109,1234.56,\n",
        spending=SPENDING + "决算,事业收入,2080109,30101,人员经费,,1234.56,\n",
        facts="事项,数值\n实有在职人数,3\n机关运行经费,100.00\n",
    )

    merged, report = consolidate([example, second])

    assert merged is not None and report.problems == []
    assert merged.unit.name == "泸州市人力资源和社会保障局（汇总）"
    assert len(merged.ledger) == len(example.ledger) + 1 + 1
    for where in (
        {"direction": "收入"},
        {"direction": "支出"},
        {"direction": "支出", "phase": "年初预算"},
        {"direction": "支出", "nature": "项目支出"},
        {"direction": "收入", "fund": "一般公共预算财政拨款"},
    ):
        assert merged.ledger.total(**where) == example.ledger.total(**where) + second.ledger.total(
            **where
        )
    assert merged.ledger.total(direction="收入", phase="决算") == Decimal("56860900.00") + Decimal(
        "1234.56"
    )
    example_only = merged.ledger.select(unit=example.unit.name)
    assert example_only.sum_by("function_code") == example.ledger.sum_by("function_code")
    assert merged.facts["实有在职人数"].value == example.facts["实有在职人数"].value + 3
    assert merged.facts["机关运行经费"].value == Decimal("1394100.00")
    assert merged.three_public == tuple(
        replace(t, source=m.source, note=m.note)
        for t, m in zip(example.three_public, merged.three_public, strict=True)
    )
    assert set(merged.projects) == {*example.projects, "生活补贴"}
    # It is checked like any other dataset, and nothing blocks publishing.
    outcomes = evaluate(merged, load_ruleset(merged.unit.format))
    assert [o.message for o in outcomes if o.status == FAIL and o.tier == "FATAL"] == []
    assert merged.texts == example.texts


def test_report_is_readable_and_serialisable(tmp_path):
    parent, child = parent_and_child(tmp_path, paid="100.00", received="80.00")
    _, report = consolidate([parent, child])
    assert isinstance(report, ConsolidationReport)
    data = json.loads(json.dumps(report.as_dict(), ensure_ascii=False))
    assert data["units"] == ["测试局", "测试中心"]
    assert data["eliminations"][0]["eliminated"] == "80.00"
    assert data["eliminations"][0]["unmatched"] == "20.00"
    assert data["eliminated"] == "80.00" and len(data["problems"]) == 1
    text = str(report)
    assert "汇总 2 个单位" in text and "内部往来抵消" in text and "未匹配 20.00 元" in text

"""Budget performance (预算绩效): the scoring rules, the value parser, weights, grades, the
department tree, the consistency checks, and the dataset tables that feed them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from juesuan.ledger.issues import ERROR
from juesuan.ledger.load import load
from juesuan.ledger.model import Indicator
from juesuan.performance import (
    Quantity,
    RuleSetError,
    Words,
    evaluate_performance,
    execution_score,
    load_department_tree,
    load_ruleset,
    parse_value,
    weights_for,
)
from juesuan.performance.scoring import score_qualitative, score_quantitative
from juesuan.rules.engine import FAIL, INSUFFICIENT, PASS

from conftest import write_dataset

NATIONAL = load_ruleset("national-2020")
D = Decimal


def _indicator(**values: object) -> Indicator:
    fields = {
        "project": "生活补贴",
        "level1": "产出指标",
        "level2": "数量指标",
        "level3": "发放人数",
        "target": "100",
        **values,
    }
    return Indicator(**fields)


def _score(target: str, actual: str, direction: str, weight: str = "10", rules=NATIONAL):
    target_value = parse_value(target)
    return score_quantitative(
        _indicator(target=target, actual=actual, direction=direction),
        D(weight),
        "产出",
        rules,
        direction,
        target_value,
        parse_value(actual),
        "填报",
    )


def _ruleset_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "variant.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ---- the text-target parser ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number", "unit", "op"),
    [
        ("<1%", "1", "%", "<"),
        ("≥95%", "95", "%", "≥"),
        (">=95 %", "95", "%", "≥"),
        ("1100", "1100", None, None),
        ("1.71 万元/人", "1.71", "万元/人", None),
        ("23132万元", "23132", "万元", None),
        ("12 个月", "12", "个月", None),
        ("不超过 1,000 元", "1000", "元", "≤"),
        ("控制在5万元以内", "5", "万元", "≤"),
        ("100%以上", "100", "%", "≥"),
        ("＜１％", "1", "%", "<"),
    ],
)
def test_targets_with_a_comparison_and_a_number_are_parsed(text, number, unit, op) -> None:
    value = parse_value(text)
    assert isinstance(value, Quantity)
    assert (value.number, value.unit, value.op) == (D(number), unit, op)
    assert value.text == text


def test_a_reverse_claim_is_in_the_reverse_family_and_a_deadline_is_a_day() -> None:
    assert parse_value("<1%").sense == "reverse"
    deadline = parse_value("每月 20 日前发放到位")
    assert isinstance(deadline, Quantity) and deadline.deadline
    assert (deadline.number, deadline.unit, deadline.op) == (D(20), "日", "≤")


@pytest.mark.parametrize(
    "text",
    ["2020 年期间", "2020年内", "确保企业教师生活补贴及时到账", "完成机关“中人”待遇兑现",
     "顺利兑现了全市2098名2014、2015年退休中人的新待遇", "≥95%以下"],
)  # fmt: skip
def test_other_texts_are_qualitative_words(text) -> None:
    assert parse_value(text) == Words(text)


def test_the_unit_column_applies_when_the_cell_names_none() -> None:
    assert parse_value("949.68", "万元") == Quantity(D("949.68"), "万元", None, "949.68")
    assert parse_value("1.47万元/人", "元/人").unit == "万元/人"  # the cell wins
    assert parse_value("") is None and parse_value(None) is None


# ---- each scoring rule -----------------------------------------------------------------------------


def test_positive_met_missed_proportionally_and_exceeded_capped() -> None:
    met = _score("644", "644", "≥", "6.25")
    assert (met.points, met.rule) == (D("6.25"), "positive.met")
    missed = _score("1100", "949.68", "≥", "6.25")
    assert (missed.points, missed.rule) == (D("5.40"), "positive.missed")  # 5.3959 half-up
    assert "6.25 × 949.68 ÷ 1100" in missed.how
    example = _score("500", "487", "≥", "20")  # performance.md Example 1
    assert example.points == D("19.48")
    exceeded = _score("500", "520", "≥", "20")
    assert (exceeded.points, exceeded.rule) == (D("20.00"), "positive.exceeded")
    assert "[vendor code]" in exceeded.support


def test_reverse_linear_by_default_and_ratio_as_a_data_change(tmp_path: Path) -> None:
    linear = _score("≤90万元", "99万元", "≤")  # performance.md Example 2
    assert (linear.points, linear.rule) == (D("9.00"), "reverse.linear")
    assert _score("≤90", "180", "≤").points == D("0.00")  # a ≥ 2t scores nothing
    assert _score("≤90", "85", "≤").points == D("10.00")
    ratio_rules = load_ruleset(
        _ruleset_file(
            tmp_path,
            "extends: national-2020\nid: ratio\nquantitative:\n  reverse:\n    method: ratio\n",
        )
    )
    ratio = _score("≤90万元", "99万元", "≤", rules=ratio_rules)
    assert (ratio.points, ratio.rule) == (D("9.09"), "reverse.ratio")
    assert "[secondary source]" in ratio.support


def test_equal_with_a_zero_target_and_with_a_positive_one() -> None:
    assert _score("=0", "0", "=").points == D("10.00")
    zero_missed = _score("=0", "1", "=")
    assert (zero_missed.points, zero_missed.rule) == (D("0.00"), "equal.zero")
    assert _score("=100%", "95%", "=").points == D("9.50")  # like a positive indicator


def test_negative_actual_counts_as_zero() -> None:
    assert _score("100", "-5", "≥").points == D("0.00")


def test_a_stated_claim_scores_only_when_it_implies_the_target() -> None:
    holds = _score("<1%", "<1%", "<")
    assert holds.points == D("10.00") and "本身满足" in holds.how
    vague = _score("<1%", "<5%", "<")
    assert vague.points is None and vague.status == INSUFFICIENT


@pytest.mark.parametrize(
    ("tier", "points", "low", "high"),
    [("达成", "30.00", 24, 30), ("部分达成", "21.00", 18, 24), ("未达成", "9.00", 0, 18)],
)
def test_qualitative_tiers_use_the_default_point_within_the_band(tier, points, low, high) -> None:
    indicator = _indicator(level1="效益指标", target="效果明显", direction="定性", tier=tier)
    score, problem = score_qualitative(indicator, D(30), "效益", NATIONAL, Words("效果明显"))
    assert score.points == D(points) and problem is None
    assert D(low) <= score.points <= D(high)


def test_a_stated_qualitative_score_must_lie_in_its_tier() -> None:
    inside = _indicator(direction="定性", tier="部分达成", score=D(21))
    score, problem = score_qualitative(inside, D(30), "效益", NATIONAL, Words("x"))
    assert score.points == D("21.00") and problem is None
    outside = _indicator(direction="定性", tier="部分达成", score=D(24))  # [18, 24) excludes 24
    score, problem = score_qualitative(outside, D(30), "效益", NATIONAL, Words("x"))
    assert score.points == D("21.00") and "不在完成档次" in problem


def test_missing_actual_is_insufficient_data_never_zero(tmp_path: Path) -> None:
    indicators = (
        "项目名称,一级指标,二级指标,三级指标,方向,指标值,计量单位,实际完成值,完成档次\n"
        "生活补贴,产出指标,数量指标,发放人数,≥,10,人,10,\n"
        "生活补贴,产出指标,质量指标,发放准确率,≥,100%,%,,\n"
        "生活补贴,效益指标,社会效益指标,保障生活,定性,及时足额,,,\n"
    )
    dataset, issues = load(write_dataset(tmp_path / "d", indicators=indicators, spending=SPENDING))
    assert dataset is not None, [str(i) for i in issues]
    project = evaluate_performance(dataset).project("生活补贴")
    by_name = {s.name: s for s in project.scores}
    assert by_name["发放准确率"].points is None
    assert by_name["发放准确率"].status == INSUFFICIENT
    assert by_name["保障生活"].points is None  # 定性 without 完成档次
    assert project.missing == ("发放准确率", "保障生活")
    assert project.grade is None
    assert project.total == by_name["预算执行率"].points + by_name["发放人数"].points


# ---- weights and grades ----------------------------------------------------------------------------


def test_without_satisfaction_its_points_go_to_output_and_benefit() -> None:
    indicators = (
        _indicator(level3="a"),
        _indicator(level3="b"),
        _indicator(level1="效益指标", level3="c"),
    )
    weights = weights_for(indicators, NATIONAL)
    # 满意度 10 split 50 : 30 → 产出 56.25, 效益 33.75
    assert sorted(weights.weights) == [D("28.12"), D("28.13"), D("33.75")]
    assert sum(weights.weights) == D(90)
    assert any("未设满意度指标" in note for note in weights.notes)
    assert weights.problems == ()


def test_given_weights_are_kept_and_wrong_sums_are_reported() -> None:
    indicators = (
        _indicator(level3="a", weight=D(30)),
        _indicator(level3="b"),
        _indicator(level1="效益指标", level3="c", weight=D(30)),
        _indicator(level1="满意度指标", level3="d", weight=D(20)),
    )
    weights = weights_for(indicators, NATIONAL)
    assert weights.weights[:2] == (D(30), D(20))
    assert any("应为 90.00" in p for p in weights.problems)  # 30 + 20 + 30 + 20 = 100
    assert any("满意度指标的分值合计 20.00，应为 10.00" in r for r in weights.remarks)


def test_grade_bands_come_from_the_rule_set_file(tmp_path: Path) -> None:
    assert [NATIONAL.grades.grade(D(s)) for s in ("90", "89.99", "80", "75", "60", "59.9")] == [
        "优",
        "良",
        "良",
        "中",
        "中",
        "差",
    ]
    sichuan = load_ruleset("sichuan-2020")
    assert sichuan.grades.grade(D(75)) == "良"  # the vendor bands 80/70/60: data only
    own = load_ruleset(
        _ruleset_file(
            tmp_path,
            "extends: national-2020\nid: own\ngrades:\n  bands:\n"
            "    - {name: 优秀, min: 95}\n    - {name: 合格, min: 0}\n",
        )
    )
    assert own.grades.grade(D(94)) == "合格" and own.grades.grade(D(95)) == "优秀"
    assert "优 ≥ 90" in NATIONAL.grades.describe()


def test_the_sichuan_rule_set_is_data_only() -> None:
    sichuan = load_ruleset("sichuan-2020")
    assert [(p.name, p.points) for p in sichuan.parts] == [("绩效指标", D(90))]
    assert sichuan.execution_points == D(10) and sichuan.explain_below == D("0.90")
    assert sichuan.reverse_method == "linear"  # inherited from national-2020
    assert sichuan.path.name == "sichuan-2020.yaml"


def test_rule_set_errors_name_the_file(tmp_path: Path) -> None:
    bad = _ruleset_file(tmp_path, "extends: national-2020\nexecution:\n  points: 20\n")
    with pytest.raises(RuleSetError, match=r"variant\.yaml"):
        load_ruleset(bad)
    with pytest.raises(RuleSetError, match="national-2020"):
        load_ruleset("no-such-rules")


# ---- 预算执行率 -------------------------------------------------------------------------------------


def test_execution_score_from_the_unrounded_rate() -> None:
    shanghai = execution_score(D("250000.00"), D("215457.60"), NATIONAL)
    assert shanghai.points == D("8.62")  # 86.183% × 10, the published form
    assert execution_score(D("20000.00"), D("9034.00"), NATIONAL).points == D("4.52")
    over = execution_score(D("10000.00"), D("12000.00"), NATIONAL)
    assert (over.points, over.rule) == (D("10.00"), "execution.cap")
    assert "inference" in over.support
    assert execution_score(D(0), D(5), NATIONAL).status == INSUFFICIENT


def test_the_cap_is_configurable(tmp_path: Path) -> None:
    uncapped = load_ruleset(
        _ruleset_file(
            tmp_path, "extends: national-2020\nid: u\nexecution:\n  cap:\n    enabled: false\n"
        )
    )
    assert execution_score(D("10000.00"), D("12000.00"), uncapped).points == D("12.00")


# ---- the example -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def result(published):
    """The example as published: its own contradictions (841 人, 4.68 万元/人) put back."""
    return evaluate_performance(published)


def test_example_projects_money_and_scores(result) -> None:
    totals = {p.name: (p.total, p.grade) for p in result.projects}
    assert totals == {
        "企业教师生活补贴": (D("97.78"), "优"),
        "建国初期老干部困难补贴": (D("96.64"), "优"),
        "市级破产改制企业离休人员生活补贴": (D("98.96"), "优"),
        "代发几类专项资金工作经费": (D("98.58"), "优"),
        "机关保险和职业年金工作经费": (D("97.98"), "优"),
    }
    teachers = result.project("企业教师生活补贴")
    assert teachers.budget_full.total == D("11000000.00") and teachers.budget_phase == "年初预算"
    assert teachers.actual.fiscal == D("9496800.00") and teachers.actual.other == D(0)
    assert teachers.execution.points == D("8.63")
    assert teachers.goal.stated_rate == "86.33%"
    assert len(teachers.monitoring) == 3
    assert [s.weight for s in teachers.scores] == [D(10)] + [D("6.25")] * 8 + [D(15)] * 2 + [D(10)]
    assert all(p.complete for p in result.projects)


def test_example_department_tree_adds_up_to_the_reference_score(result) -> None:
    department = result.department
    assert department.total == D("79.6") and department.stated_total == D("79.6")
    assert department.grade == "中"
    leaves = {leaf.node.id: (leaf.score, leaf.basis) for leaf in department.leaves()}
    assert leaves == {
        "A1": (D("8.0"), "填报"),
        "A2": (D("9.0"), "填报"),
        "B1": (D("5.0"), "计算"),  # 公用经费 12.88% off its budget
        "B2": (D("15.0"), "计算"),  # 6/9/11月 checkpoints met
        "B3": (D("9.5"), "计算"),  # 94.53% of the budget
        "C1": (D("8.1"), "计算"),  # projects at 88.08%: 20 − 11.92
        "C2": (D("5.0"), "填报"),
        "D": (D("10.0"), "填报"),
        "E": (D("10.0"), "填报"),
    }
    total = [o for o in result.outcomes if o.rule == "PERF-department-total"]
    assert [o.status for o in total] == [PASS]


def test_example_contradictions_are_flagged_with_the_computed_value(result) -> None:
    failed = {
        (o.bindings.get("项目"), o.bindings.get("指标")): o
        for o in result.outcomes
        if o.status == FAIL
    }
    assert set(failed) == {
        ("代发几类专项资金工作经费", "发放人数"),
        ("代发几类专项资金工作经费", "人均补贴成本"),
    }
    persons = failed[("代发几类专项资金工作经费", "发放人数")]
    assert persons.tier == "WARNING"
    assert "填报 841 人" in persons.message and "756 人" in persons.message
    assert "644 人 + 62 人 + 50 人" in persons.message
    per_capita = failed[("代发几类专项资金工作经费", "人均补贴成本")]
    assert "4.68" in per_capita.message and "1.62 万元/人" in per_capita.message
    assert "841 人计，为 1.46 万元/人" in per_capita.message
    assert per_capita.expected.amount.quantize(D("0.01")) == D("1.62")
    passed = [o for o in result.outcomes if o.rule == "PERF-execution-rate-stated"]
    assert len(passed) == 5 and all(o.status == PASS for o in passed)


def test_example_return_rate_needs_payments_not_persons(result) -> None:
    by_key = {(o.bindings.get("项目"), o.bindings.get("指标"), o.rule): o for o in result.outcomes}
    teachers = by_key[("企业教师生活补贴", "失败退回率", "PERF-actual-stated")]
    assert (
        teachers.status == PASS and "0.0388%" in teachers.message and "7728 笔" in teachers.message
    )
    insurance = by_key[("机关保险和职业年金工作经费", "失败退回率", "PERF-actual-computed")]
    assert insurance.status == INSUFFICIENT and "发放笔数" in insurance.message
    score = next(
        s for s in result.project("机关保险和职业年金工作经费").scores if s.name == "失败退回率"
    )
    assert score.points == D("8.33") and score.basis == "填报（计算数据不足）"


# ---- consistency checks on small datasets ------------------------------------------------------------

INDICATORS = "项目名称,一级指标,二级指标,三级指标,方向,指标值,计量单位,实际完成值,实际值来源\n"
SPENDING = (
    "阶段,资金来源,功能分类科目编码,经济分类科目编码,支出性质,项目名称,金额\n"
    "决算,一般公共预算财政拨款,2080501,30302,人员经费,,900.00\n"
    "决算,一般公共预算财政拨款,2080501,30201,公用经费,,100.00\n"
    "决算,一般公共预算财政拨款,2089999,30305,项目支出,生活补贴,500.00\n"
    "年初预算,一般公共预算财政拨款,2089999,30305,项目支出,生活补贴,500.00\n"
)


def _evaluate(tmp_path: Path, indicators: str, **files: str):
    files.setdefault("spending", SPENDING)
    dataset, issues = load(
        write_dataset(tmp_path / "d", indicators=INDICATORS + indicators, **files)
    )
    assert dataset is not None, [str(i) for i in issues]
    return evaluate_performance(dataset)


def test_a_false_claim_is_flagged_with_the_computed_rate(tmp_path: Path) -> None:
    result = _evaluate(
        tmp_path,
        "生活补贴,产出指标,质量指标,失败退回率,<,<1%,%,<1%,计算:失败退回率\n",
        performance_data="项目名称,数据项,数值\n生活补贴,失败退回笔数,2\n生活补贴,发放笔数,100\n",
    )
    claim = next(o for o in result.outcomes if o.rule == "PERF-actual-stated")
    assert claim.status == FAIL and "计算值为 2%" in claim.message and "不成立" in claim.message
    score = next(s for s in result.projects[0].scores if s.name == "失败退回率")
    assert score.points == D("0.00")  # scored on the computed 2%: linear, a ≥ 2t


def test_a_return_rate_is_not_computed_over_persons(tmp_path: Path) -> None:
    result = _evaluate(
        tmp_path,
        "生活补贴,产出指标,质量指标,失败退回率,<,<1%,%,,计算:失败退回率\n",
        performance_data="项目名称,数据项,数值\n生活补贴,失败退回笔数,2\n生活补贴,发放人数,10\n",
    )
    found = next(o for o in result.outcomes if o.rule == "PERF-actual-computed")
    assert found.status == INSUFFICIENT and "分母是发放笔数而不是发放人数" in found.message
    score = next(s for s in result.projects[0].scores if s.name == "失败退回率")
    assert score.status == INSUFFICIENT and score.points is None


def test_a_stated_execution_rate_is_checked_against_the_ledger(tmp_path: Path) -> None:
    result = _evaluate(
        tmp_path,
        "",
        project_goals="项目名称,预期目标,执行率\n生活补贴,按月发放,90%\n",
        spending=(
            "阶段,资金来源,功能分类科目编码,经济分类科目编码,支出性质,项目名称,金额\n"
            "决算,一般公共预算财政拨款,2089999,30305,项目支出,生活补贴,450.00\n"
            "年初预算,一般公共预算财政拨款,2089999,30305,项目支出,生活补贴,600.00\n"
            "调整预算,一般公共预算财政拨款,2089999,30305,项目支出,生活补贴,500.00\n"
        ),
    )
    project = result.projects[0]
    assert project.budget_phase == "调整预算" and project.budget_full.total == D("500.00")
    assert project.budget_initial.total == D("600.00")
    assert project.execution.points == D("9.00")
    stated = next(o for o in result.outcomes if o.rule == "PERF-execution-rate-stated")
    assert stated.status == PASS and "90.00%" in stated.message
    result = _evaluate(
        tmp_path / "x",
        "",
        project_goals="项目名称,预期目标,执行率\n生活补贴,按月发放,95%\n",
    )
    stated = next(o for o in result.outcomes if o.rule == "PERF-execution-rate-stated")
    assert stated.status == FAIL and "计算为 100.00%" in stated.message


def test_a_per_capita_value_is_amount_over_persons(tmp_path: Path) -> None:
    result = _evaluate(
        tmp_path,
        "生活补贴,项目完成指标,成本指标,人均补贴成本,≤,0.1万元/人,万元/人,0.06,计算:人均补贴成本\n",
        performance_data="项目名称,数据项,数值\n生活补贴,发放人数,10\n",
    )
    # 500.00 元 ÷ 10 人 = 50 元/人 = 0.005 万元/人
    found = next(o for o in result.outcomes if o.rule == "PERF-actual-stated")
    assert found.status == FAIL and "计算值为 0.0050 万元/人" in found.message


def test_computed_values_from_the_disbursement_system_take_precedence(tmp_path: Path) -> None:
    dataset, _ = load(
        write_dataset(
            tmp_path / "d",
            indicators=INDICATORS
            + "生活补贴,产出指标,数量指标,发放人数,≥,10,人,10,计算:发放人数\n",
        )
    )
    alone = evaluate_performance(dataset)
    assert any(
        o.rule == "PERF-actual-computed" and o.status == INSUFFICIENT for o in alone.outcomes
    )
    fed = evaluate_performance(dataset, measures={("生活补贴", "发放人数"): 8})
    score = next(s for s in fed.projects[0].scores if s.name == "发放人数")
    # the only part present takes all 90 points (满意度 and 效益 are absent): 90 × 8/10
    assert score.points == D("72.00") and score.basis == "计算"
    assert "发放系统" in next(o for o in fed.outcomes if o.rule == "PERF-actual-stated").message


def test_structural_problems_are_fatal(tmp_path: Path) -> None:
    result = _evaluate(
        tmp_path,
        "生活补贴,社会影响,社会效益指标,口碑,≥,100%,%,100%,填报\n"
        "生活补贴,产出指标,时效指标,发放时间,≥,每月及时,,及时,填报\n"
        "生活补贴,产出指标,质量指标,准确率,≤,≥95%,%,96%,填报\n",
    )
    fatal = {o.rule for o in result.outcomes if o.tier == "FATAL" and o.status == FAIL}
    assert {"PERF-level1", "PERF-target"} <= fatal
    direction = next(o for o in result.outcomes if o.rule == "PERF-direction")
    assert direction.status == FAIL and "≥" in direction.message
    assert (
        "indicators.csv 第2行"
        in next(o for o in result.outcomes if o.rule == "PERF-level1").message
    )


def test_over_target_is_a_suggestion(tmp_path: Path) -> None:
    result = _evaluate(tmp_path, "生活补贴,产出指标,数量指标,培训人次,≥,100,人次,140,填报\n")
    over = next(o for o in result.outcomes if o.rule == "PERF-over-target")
    assert over.tier == "SUGGEST" and "140.00%" in over.message


# ---- the department tree -------------------------------------------------------------------------------


def test_department_leaves_by_id_name_or_path_and_unknown_items(tmp_path: Path) -> None:
    tree = load_department_tree("department-sichuan")
    assert sum(n.points for n in tree.nodes) == D(100)
    assert tree.find("B2").name == "时点执行进度"
    assert tree.find("预算执行 / 时点执行进度").id == "B2"
    assert tree.find("自评公开").id == "D"
    assert tree.find("预算执行") is None  # a branch, not a leaf
    dataset, issues = load(
        write_dataset(
            tmp_path / "d",
            department_scores="指标,得分,说明\nA1,10,\n不存在的指标,3,\nD,12,超过分值\n",
        )
    )
    assert dataset is not None, [str(i) for i in issues]
    result = evaluate_performance(dataset)
    unknown = next(o for o in result.outcomes if o.rule == "PERF-department-item")
    assert unknown.tier == "FATAL" and "department_scores.csv 第3行" in unknown.message
    over = next(o for o in result.outcomes if "超过分值" in o.message)
    assert over.tier == "FATAL"
    assert not result.department.complete and result.department.grade is None
    assert "预算执行/时点执行进度" in result.department.missing  # no 绩效监控 rows


def test_department_tree_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "tree.yaml"
    bad.write_text(
        "id: t\ntotal: 100\ngrades: {bands: [{name: 优, min: 0}]}\n"
        "tree:\n  - {id: A, name: 甲, points: 60, children: [{id: A1, name: 乙, points: 50}]}\n"
        "  - {id: B, name: 丙, points: 40}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleSetError, match="下级分值合计 50"):
        load_department_tree(bad)


# ---- the dataset tables ------------------------------------------------------------------------------


def _errors(issues):
    return {(i.source.file, i.source.row, i.source.column) for i in issues if i.severity == ERROR}


def test_unknown_project_and_bad_direction_name_file_row_and_column(tmp_path: Path) -> None:
    indicators = (
        "项目名称,一级指标,二级指标,三级指标,方向,指标值,实际完成值,完成档次,实际值来源\n"
        "生活补贴,产出指标,数量指标,发放人数,正向,10,10,,填报\n"
        "生活补帖,产出指标,数量指标,发放金额,≥,10,10,,填报\n"
        "生活补贴,产出指标,质量指标,准确率,越大越好,10,10,,填报\n"
        "生活补贴,效益指标,社会效益指标,保障,定性,好,好,大致达成,填报\n"
        "生活补贴,产出指标,成本指标,成本,反向,10,10,,估计\n"
    )
    dataset, issues = load(write_dataset(tmp_path / "d", indicators=indicators))
    assert dataset is None
    assert _errors(issues) == {
        ("indicators.csv", 3, "项目名称"),
        ("indicators.csv", 4, "方向"),
        ("indicators.csv", 5, "完成档次"),
        ("indicators.csv", 6, "实际值来源"),
    }
    unknown = next(i for i in issues if i.source.row == 3)
    assert unknown.value == "生活补帖" and "生活补贴" in unknown.accepted
    bad = next(i for i in issues if i.source.row == 4)
    assert bad.value == "越大越好" and "≥" in bad.accepted


def test_direction_and_tier_synonyms_are_accepted(tmp_path: Path) -> None:
    indicators = (
        "项目,一级指标,二级指标,三级指标,指标性质,年度指标值,完成值,完成档次,实际值来源\n"
        "生活补贴,产出指标,数量指标,发放人数,正向,10,10,,填报\n"
        "生活补贴,产出指标,成本指标,成本,反向,10,10,, 计算：执行数\n"
        "生活补贴,效益指标,社会效益指标,保障,定性,好,好,部分达成年度指标并具有一定效果,\n"
    )
    dataset, issues = load(write_dataset(tmp_path / "d", indicators=indicators))
    assert dataset is not None, [str(i) for i in issues]
    assert [i.direction for i in dataset.indicators] == ["≥", "≤", "定性"]
    assert [i.actual_source for i in dataset.indicators] == ["填报", "计算:执行数", "填报"]
    assert dataset.indicators[2].tier == "部分达成"
    assert dataset.indicators[0].source.row == 2


def test_monitoring_goals_scores_and_data_are_validated(tmp_path: Path) -> None:
    dataset, issues = load(
        write_dataset(
            tmp_path / "d",
            monitoring="项目名称,监控时点,计划执行进度,实际执行进度\n"
            "生活补贴,2020-06,50%,40\n,6月,50,55\n生活补贴,13月,50,40\n"
            "生活补贴,2020年6月,50,41\n未登记,2020-09,75,70\n",
            project_goals="项目名称,预期目标,执行率\n生活补贴,按月发放,约九成\n",
            department_scores="指标,得分\nA1,-1\n",
            performance_data="项目名称,数据项,数值,汇总项目\n生活补贴,发放人数,,\n"
            "生活补贴,发放金额,12万,\n",
        )
    )
    assert dataset is None
    assert _errors(issues) == {
        ("monitoring.csv", 4, "监控时点"),
        ("monitoring.csv", 5, "监控时点"),  # the same month as row 2
        ("monitoring.csv", 6, "项目名称"),
        ("project_goals.csv", 2, "执行率"),
        ("department_scores.csv", 2, "得分"),
        ("performance_data.csv", 2, "数值"),
        ("performance_data.csv", 3, "数值"),
    }


def test_monitoring_reads_months_and_percentages(tmp_path: Path) -> None:
    dataset, issues = load(
        write_dataset(
            tmp_path / "d",
            monitoring="项目名称,监控时点,计划执行进度,实际执行进度,偏差原因\n"
            "生活补贴,2020-06,50%,40,\n,9月,75,80,\n",
        )
    )
    assert dataset is not None, [str(i) for i in issues]
    first, second = dataset.monitoring
    assert (first.project, first.month, first.planned, first.actual) == (
        "生活补贴",
        6,
        D(50),
        D(40),
    )
    assert (second.project, second.month) == (None, 9)
    result = evaluate_performance(dataset)
    reason = next(o for o in result.outcomes if o.rule == "PERF-monitoring-reason")
    assert reason.status == FAIL and "40%" in reason.message

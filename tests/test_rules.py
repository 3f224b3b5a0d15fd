"""Each ledger rule: the example passes it; a copy broken in one place fails exactly that rule."""

from dataclasses import replace
from decimal import Decimal

import polars as pl
import pytest

from juesuan.ledger.issues import Source
from juesuan.ledger.model import Fact, Ledger
from juesuan.rules.engine import (
    FAIL,
    INSUFFICIENT,
    NOT_APPLICABLE,
    PASS,
    evaluate,
    load_ruleset,
)

RULES = load_ruleset("ledger")  # the ledger rules every format includes


def failing(dataset) -> dict[str, list[dict]]:
    result: dict[str, list[dict]] = {}
    for outcome in evaluate(dataset, RULES):
        if outcome.status == FAIL:
            result.setdefault(outcome.rule, []).append(outcome)
    return result


def with_frame(dataset, frame: pl.DataFrame):
    return replace(dataset, ledger=Ledger(frame))


def add_line(dataset, **values):
    row = {
        "unit": dataset.unit.name,
        "year": dataset.unit.year,
        "phase": "决算",
        "function_code": None,
        "economic_code": None,
        "nature": None,
        "project": None,
        "note": None,
        "file": "test",
        "sheet": None,
        "row": 0,
        **values,
    }
    extra = pl.DataFrame([row], schema=dataset.ledger.frame.schema)
    return with_frame(dataset, pl.concat([dataset.ledger.frame, extra]))


def change_first(dataset, where: pl.Expr, **values):
    frame = dataset.ledger.frame.with_row_index("_i")
    index = frame.filter(where).sort("amount_fen")["_i"][0]
    changed = frame.with_columns(
        [
            pl.when(pl.col("_i") == index).then(pl.lit(v)).otherwise(pl.col(k)).alias(k)
            for k, v in values.items()
        ]
    ).drop("_i")
    return with_frame(dataset, changed)


def replace_three_public(dataset, item: str, **values):
    items = tuple(replace(t, **values) if t.item == item else t for t in dataset.three_public)
    return replace(dataset, three_public=items)


def test_example_passes_every_rule_that_applies(example):
    outcomes = evaluate(example, RULES)
    assert {o.status for o in outcomes} <= {PASS, "not_applicable"}
    assert sum(o.status == PASS for o in outcomes) > 40


def test_total_balance(example):
    broken = add_line(
        example, direction="收入", fund="事业收入", function_code="2080109", amount_fen=10000
    )
    failures = failing(broken)
    assert set(failures) == {"total-balance"}
    (outcome,) = failures["total-balance"]
    assert outcome.difference == Decimal("100.00")
    assert any("收入" in ref for ref in outcome.refs)


def test_fiscal_fund_balance(example):
    broken = add_line(
        example,
        direction="支出",
        fund="一般公共预算财政拨款",
        function_code="2080501",
        economic_code="30302",
        nature="人员经费",
        amount_fen=10000,
    )
    broken = add_line(
        broken, direction="收入", fund="事业收入", function_code="2080501", amount_fen=10000
    )
    failures = failing(broken)
    assert set(failures) == {"fiscal-fund-balance"}
    assert failures["fiscal-fund-balance"][0].bindings == {"fund": "一般公共预算财政拨款"}


def test_function_hierarchy_income_without_code(example):
    broken = change_first(
        example, (pl.col("direction") == "收入") & (pl.col("phase") == "决算"), function_code=None
    )
    failures = failing(broken)
    assert set(failures) == {"function-hierarchy"}
    (outcome,) = failures["function-hierarchy"]
    assert outcome.bindings["direction"] == "收入" and outcome.bindings["code"] == ""


def test_function_hierarchy_amount_booked_on_a_kuan(example):
    broken = change_first(
        example,
        (pl.col("direction") == "支出")
        & (pl.col("phase") == "决算")
        & (pl.col("function_code") == "2080501"),
        function_code="20805",
    )
    failures = failing(broken)
    assert set(failures) == {"function-hierarchy"}
    (outcome,) = failures["function-hierarchy"]
    assert outcome.bindings["code"] == "20805" and outcome.difference < 0


def test_personnel_economic_classes(example):
    broken = change_first(example, pl.col("nature") == "人员经费", economic_code="30201")
    assert set(failing(broken)) == {"personnel-economic-classes"}


def test_public_economic_classes(example):
    broken = change_first(
        example,
        (pl.col("nature") == "公用经费") & (pl.col("economic_code") != "30217"),
        economic_code="30101",
    )
    assert set(failing(broken)) == {"public-economic-classes"}


def test_budget_overrun(example):
    frame = example.ledger.frame.with_columns(
        pl.when((pl.col("phase") == "年初预算") & (pl.col("function_code") == "2080505"))
        .then(pl.col("amount_fen") * 95 // 100)
        .otherwise(pl.col("amount_fen"))
        .alias("amount_fen")
    )
    failures = failing(with_frame(example, frame))
    assert set(failures) == {"budget-overrun"}
    assert failures["budget-overrun"][0].bindings["code"] == "2080505"


def test_budget_deviation_needs_a_reason(example):
    reasons = {k: v for k, v in example.reasons.items() if k != ("预决算差异", "2089999")}
    failures = failing(replace(example, reasons=reasons))
    assert set(failures) == {"budget-deviation-reason"}
    (outcome,) = failures["budget-deviation-reason"]
    assert "87.42%" in outcome.message


def test_yoy_change_needs_a_reason(example):
    reasons = {k: v for k, v in example.reasons.items() if k != ("同比变动", "三公经费")}
    failures = failing(replace(example, reasons=reasons))
    assert set(failures) == {"yoy-reason"}
    assert "-66.04%" in failures["yoy-reason"][0].message


def test_missing_prior_year_is_insufficient_data_not_a_pass(example):
    prior = {k: v for k, v in example.prior_year.items() if k != "三公经费"}
    outcomes = evaluate(replace(example, prior_year=prior), RULES)
    (outcome,) = [
        o for o in outcomes if o.rule == "yoy-reason" and o.bindings["topic"] == "三公经费"
    ]
    assert outcome.status == INSUFFICIENT and "三公经费" in outcome.message


def test_missing_three_public_table_is_insufficient_data(example):
    outcomes = evaluate(replace(example, three_public=()), RULES)
    statuses = {o.status for o in outcomes if o.rule.startswith("three-public")}
    assert statuses == {INSUFFICIENT}


def test_three_public_within_budget(example):
    broken = replace_three_public(example, "国内公务接待费", budget=Decimal("5000.00"))
    failures = failing(broken)
    assert set(failures) == {"three-public-within-budget"}
    assert failures["three-public-within-budget"][0].difference == Decimal("900.00")


def test_three_public_counts(example):
    broken = replace_three_public(example, "国内公务接待费", persons=0)
    assert set(failing(broken)) == {"three-public-counts"}


def test_three_public_in_ledger(example):
    broken = replace_three_public(
        example, "公务用车运行维护费", budget=Decimal("100.00"), actual=Decimal("100.00")
    )
    failures = failing(broken)
    assert set(failures) == {"three-public-in-ledger"}
    assert failures["three-public-in-ledger"][0].bindings["economic"] == "30231"


def test_three_public_reception_in_ledger(example):
    broken = replace_three_public(
        example, "国内公务接待费", budget=Decimal("6000.00"), actual=Decimal("6000.00")
    )
    assert set(failing(broken)) == {"three-public-reception-in-ledger"}


def test_procurement_sme_share(example):
    items = tuple(
        replace(p, sme_amount=p.amount + Decimal("1.00")) if p.kind == "货物" else p
        for p in example.procurement
    )
    failures = failing(replace(example, procurement=items))
    assert set(failures) == {"procurement-sme-share"}


def test_operating_costs_equal_public(example):
    facts = dict(example.facts)
    facts["机关运行经费"] = Fact("机关运行经费", Decimal("1390000.00"), Source("test"))
    failures = failing(replace(example, facts=facts))
    assert set(failures) == {"operating-costs-equal-public"}
    assert failures["operating-costs-equal-public"][0].difference == Decimal("-4000.00")


def test_prior_year_consistent(example):
    # Last year's 三公经费 typed below one of its own parts.
    prior = dict(example.prior_year)
    prior["三公经费"] = Fact("三公经费", Decimal("1.00"), Source("test"))
    failures = failing(replace(example, prior_year=prior))
    assert set(failures) == {"prior-year-consistent"}
    assert all("三公经费" in o.message for o in failures["prior-year-consistent"])


def test_a_rule_that_does_not_apply_is_not_short_of_its_values(example):
    """`when` decides before the `let` values it does not need: without last year's 三公经费 the
    pairs that use it do not apply (不适用), rather than lack data (数据不足)."""
    prior = {k: v for k, v in example.prior_year.items() if k != "三公经费"}
    outcomes = [
        o
        for o in evaluate(replace(example, prior_year=prior), RULES)
        if o.rule == "prior-year-consistent"
    ]
    without = [o for o in outcomes if o.bindings["whole"] == "三公经费"]
    assert len(without) == 3 and {o.status for o in without} == {NOT_APPLICABLE}
    assert {o.status for o in outcomes if o not in without} == {PASS}


# 其他事项 the Shanghai 2024 text states side by side, consistent with the example (政府采购 1.58 万元,
# all of it to 中小企业), then each broken in one place.
SIDE_BY_SIDE = {
    "政府采购-面向中小企业预留": "15800.00",
    "政府采购-面向小微企业预留": "15800.00",
    "政府采购-中小企业预留项目由中小企业中标": "15800.00",
    "政府采购-小微企业预留项目由小微企业中标": "15800.00",
    "政府采购-其他项目由中小企业中标": "0.00",
    "单价100万元以上专用设备": 1,
    "单价100万元以上设备": 2,
    "车辆总数": 3,
    **{f"车辆-{k}": 0 for k in ("部级领导干部用车", "主要领导干部用车", "机要通信用车")},
    **{f"车辆-{k}": 0 for k in ("应急保障用车", "特种专业技术用车", "离退休干部用车")},
    "车辆-执法执勤用车": 2,
    "车辆-其他用车": 1,
    "绩效自评项目数": 3,
    "绩效评级-优": 2,
    "绩效评级-良": 1,
    "绩效评级-合格": 0,
    "绩效评级-不合格": 0,
    "绩效自评发现问题数": 4,
    "绩效自评已整改问题数": 3,
    "绩效自评正在整改问题数": 1,
    "绩效自评平均得分": "92.5",
}


def with_facts(dataset, **values):
    facts = dict(dataset.facts)
    for key, value in values.items():
        number = Decimal(value) if isinstance(value, str) else value
        facts[key] = Fact(key, number, Source("test"))
    return replace(dataset, facts=facts)


def test_side_by_side_facts_pass_when_consistent(example):
    assert failing(with_facts(example, **SIDE_BY_SIDE)) == {}


@pytest.mark.parametrize(
    "rule, change",
    [
        ("procurement-reserved-small-within-sme", {"政府采购-面向小微企业预留": "15800.01"}),
        (
            "procurement-small-won-within-sme-won",
            {"政府采购-小微企业预留项目由小微企业中标": "15800.01"},
        ),
        ("equipment-special-within-all", {"单价100万元以上专用设备": 3}),
        ("vehicles-by-category", {"车辆-其他用车": 2}),
        ("performance-grades-sum", {"绩效评级-合格": 1}),
        ("performance-problems-sum", {"绩效自评正在整改问题数": 0}),
        ("performance-average-score", {"绩效自评平均得分": "100.5"}),
    ],
)
def test_side_by_side_facts_break_their_rule(example, rule, change):
    assert set(failing(with_facts(example, **{**SIDE_BY_SIDE, **change}))) == {rule}


def test_procurement_won_by_smes_cannot_exceed_the_total(example):
    # The 普陀 document's own contradiction: all of it won in reserved projects, and again in
    # other projects. The sum also disagrees with 授予中小企业合同金额.
    broken = with_facts(example, **{**SIDE_BY_SIDE, "政府采购-其他项目由中小企业中标": "15800.00"})
    failures = failing(broken)
    assert set(failures) == {
        "procurement-sme-won-within-total",
        "procurement-sme-won-matches-contracts",
    }
    assert "31,600.00" in failures["procurement-sme-won-within-total"][0].message


def test_every_rule_has_a_breaking_test():
    tested = {
        "total-balance", "fiscal-fund-balance", "function-hierarchy", "personnel-economic-classes",
        "public-economic-classes", "budget-overrun", "budget-deviation-reason", "yoy-reason",
        "three-public-within-budget", "three-public-counts", "three-public-in-ledger",
        "three-public-reception-in-ledger", "procurement-sme-share", "operating-costs-equal-public",
        "prior-year-consistent", "procurement-reserved-small-within-sme",
        "procurement-sme-won-within-total", "procurement-small-won-within-sme-won",
        "procurement-sme-won-matches-contracts", "equipment-special-within-all",
        "vehicles-by-category", "performance-grades-sum", "performance-problems-sum",
        "performance-average-score",
    }  # fmt: skip
    assert {rule.id for rule in RULES.rules} == tested


@pytest.mark.parametrize("text", ["1 +", "__import__('os')", "open('x')", "a.b"])
def test_rule_expressions_are_sandboxed(text, example):
    from juesuan.rules.context import Context
    from juesuan.rules.expr import Evaluator, ExprError, parse

    with pytest.raises(ExprError):
        Evaluator({}, Context(example).functions()).evaluate(parse(text))

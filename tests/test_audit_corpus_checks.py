"""Checks for errors the real-document corpus showed the audit missing (tests/answer_key), each
both ways: a share whose whole is the total before its list, a completion rate of a zero budget,
a rate from two stated years, SMEs winning more than was bought, template notes and blank
reasons, shares moved to add up to 100% (疑似, not 确定), the document's year read from what it
says, and a comparison with the document's own year."""

from __future__ import annotations

import pytest

from juesuan.audit import CERTAIN, SUSPECTED, audit_text
from juesuan.audit.checks import run_all
from juesuan.audit.facts import gather, stated_year
from juesuan.audit.model import build
from juesuan.audit.read import read
from shared_material import REAL_DOCUMENTS


def found(text: str, rule: str, severity: str | None = None) -> list:
    return [
        f
        for f in audit_text(text).findings
        if f.rule == rule and (severity is None or f.severity == severity)
    ]


# the list set out in numbered paragraphs after its lead: "占 X%" names no whole
LISTED = (
    "（二）一般公共预算财政拨款支出决算结构情况\n\n"
    "一般公共预算财政拨款支出 200.00 万元，主要用于以下方面：\n\n"
    "1. 一般公共服务支出（类）150.00 万元，占 {a}。\n\n"
    "2. 住房保障支出（类）50.00 万元，占 25.00%。"
)


def test_a_share_with_no_named_whole_is_of_the_total_before_its_list():
    (finding,) = found(LISTED.format(a="80.00%"), "text-share", CERTAIN)
    assert "200.00" in finding.message and "75.00%" in finding.message
    assert not found(LISTED.format(a="75.00%"), "text-share")


def test_a_share_with_no_named_whole_that_truncation_explains_is_suspected():
    # C1 of shanghai-putuo-2024: 29.42 / 307.82 = 9.5575%, printed cut off as 9.55%
    text = (
        "一般公共预算财政拨款支出 307.82 万元，主要用于以下方面：一般公共服务支出（类）278.40 万元，"
        "占 {a}；住房保障支出（类）29.42 万元，占 9.55%。"
    )
    (finding,) = found(text.format(a="90.44%"), "text-share")
    assert finding.severity == SUSPECTED and "截尾" in finding.message


COMPLETION = (
    "一般公共预算财政拨款支出年初预算为 {start} 万元，全年预算为 321.02 万元，支出决算为 307.82 万元，"
    "完成{basis}预算的 95.89%。"
)


def test_a_completion_rate_of_a_zero_budget_is_proven_wrong():
    (finding,) = found(COMPLETION.format(start="0", basis="年初"), "text-completion", CERTAIN)
    assert "年初预算为 0万元" in finding.message and "321.02" in finding.message
    assert not found(COMPLETION.format(start="0", basis="全年"), "text-completion")


def test_a_completion_rate_is_checked_against_the_budget_it_names():
    # 307.82 / 300.00 = 102.61%: the 年初 budget named, the 全年 one gives the figure (疑似)
    (finding,) = found(COMPLETION.format(start="300.00", basis="年初"), "text-completion")
    assert finding.severity == SUSPECTED and "321.02" in finding.message
    assert not found(
        COMPLETION.format(start="300.00", basis="年初").replace("95.89%", "102.61%"),
        "text-completion",
    )


BOTH_YEARS = (
    "1、公共安全支出（204类）司法（06款）行政运行（01项）{now}万元。主要用于：行政单位的基本支出。"
    "2025年当年预算执行数为{before}万元，2026年预算安排{now}万元，比2025年预算执行数{word}{rate}。"
)


@pytest.mark.parametrize(
    ("now", "before", "word", "rate", "rule"),
    [
        ("1434.89", "1690.69", "减少", "1.10%", "text-yoy-rate"),  # 15.13%
        ("91.97", "77.99", "增加", "17.66%", "text-yoy-rate"),  # 17.93%
        ("170.03", "241.76", "增加", "21.74%", "text-yoy-direction"),  # a decrease
    ],
)
def test_a_rate_from_two_stated_years_both_ways(now, before, word, rate, rule):
    text = BOTH_YEARS.format(now=now, before=before, word=word, rate=rate)
    assert found(text, rule, CERTAIN)
    right = {"1.10%": "15.13%", "17.66%": "17.93%", "21.74%": "29.67%"}[rate]
    fixed = BOTH_YEARS.format(
        now=now, before=before, word="减少" if rule == "text-yoy-direction" else word, rate=right
    )
    assert not [f for f in audit_text(fixed).findings if f.rule.startswith("text-yoy")]


def test_a_rate_from_two_years_that_rounding_explains_is_no_finding():
    # 0.62 / 0.50 − 1 = 24%, but each figure to two places: 21.8%–26.3%
    text = BOTH_YEARS.format(now="0.62", before="0.50", word="增加", rate="22.22%")
    assert not [f for f in audit_text(text).findings if f.rule.startswith("text-yoy")]


PROCUREMENT = (
    "本部门2024年度政府采购金额（以合同签订为准）为21.07万元，其中：货物采购金额21.07万元、工程采购金额0万元、"
    "服务采购金额0万元。在面向中小企业预留的政府采购项目中，由中小企业供应商中标或成交的，采购金额21.07万元；"
    "在其他政府采购项目中，由中小企业供应商中标或成交的，采购金额{other}万元。"
)


def test_smes_cannot_win_more_than_was_bought_both_ways():
    (finding,) = found(PROCUREMENT.format(other="21.07"), "text-procurement", CERTAIN)
    assert "42.14" in finding.message and finding.evidence[0].value == "21.07万元"
    assert not found(PROCUREMENT.format(other="0"), "text-procurement")


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        (
            "无政府性基金预算财政拨款收入支出的，仍保留该表格式，并在本表下方作下述说明：",
            "说明：本单位本年度没有政府性基金预算财政拨款收入和支出，故本表无数据。",
        ),
        (
            "公务用车购置及运行费9.98万元，与2025年预算数持平，主要原因是。",
            "公务用车购置及运行费9.98万元，与2025年预算数持平，主要原因是车辆数量无变化。",
        ),
    ],
    ids=["empty-table-note", "blank-reason"],
)
def test_template_notes_and_blank_reasons_both_ways(wrong, right):
    assert found(wrong, "text-template-residue", CERTAIN)
    assert not found(right, "text-template-residue")


PLUGGED = (
    "本年支出预算合计 28849.38 万元，其中：基本支出 17123.19 万元，占 59.35%；"
    "项目支出 11543.27 万元，占 40.01%；单位预留机动经费 182.92 万元，占 {p}。"
)


def test_shares_moved_to_add_up_to_100_are_only_suspected():
    # 182.92 / 28849.38 = 0.634% → 0.63%; printed 0.64% so that the three make 100.00%
    (finding,) = found(PLUGGED.format(p="0.64%"), "text-share")
    assert finding.severity == SUSPECTED and "100%" in finding.message
    assert found(PLUGGED.format(p="0.65%"), "text-share", CERTAIN)  # two units off, 100.01%


def test_flat_said_of_a_part_after_其中_is_not_said_of_the_total():
    text = (
        "“三公”经费财政拨款支出决算数比2019年度减少1.15万元，下降66.04%，其中：因公出国（境）费"
        "支出决算与2019年度持平；公务接待费支出决算减少1.15万元，下降66.04%。"
    )
    assert not found(text, "text-yoy-flat")
    assert found(text.replace("，其中：因公出国（境）费支出决算", "，"), "text-yoy-flat", CERTAIN)


LONG_ITEMS = (
    "一般公共服务（类）支出 264.87 万元。\n\n"
    "一般公共预算财政拨款支出全年预算为 321.02 万元，支出决算为 264.87 万元。其中：\n\n"
    "1、一般公共服务支出（类）社会工作事务（款）行政运行（项）。主要用于：行政单位人员支出。"
    "全年预算为 52.00 万元，支出决算为 51.32 万元。\n\n"
    "2、一般公共服务支出（类）社会工作事务（款）其他社会工作事务支出（项）。主要用于：新建部门开办费、"
    "基层政权和社区建设项目支出。全年预算为 213.55 万元，支出决算为 {c} 万元。"
)


def test_an_items_figure_after_a_long_purpose_is_still_its_amount():
    assert not audit_text(LONG_ITEMS.format(c="213.55")).findings
    assert found(LONG_ITEMS.format(c="210.00"), "text-items-class", CERTAIN)


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        (
            "21. “卫生健康支出（类）卫生健康支出（款）计划生育事务（项）”科目20.00万元。",
            "21. “卫生健康支出（类）计划生育事务（款）计划生育服务（项）”科目20.00万元。",
        ),
        (
            "11、医疗卫生与计划生育支出（210类）行政事业单位医疗（11款）行政单位医疗（01项）98.27万元。",
            "11、卫生健康支出（210类）行政事业单位医疗（11款）行政单位医疗（01项）98.27万元。",
        ),
    ],
    ids=["kuan-as-xiang", "old-class-name"],
)
def test_item_names_the_years_classification_does_not_hold_there(wrong, right):
    cover = "上海市普陀区2026年区级部门预算\n\n"
    assert found(cover + wrong, "text-item-path", SUSPECTED)
    assert not found(cover + right, "text-item-path")


def test_item_names_are_not_checked_against_a_year_the_document_does_not_state():
    text = (
        "11、医疗卫生与计划生育支出（210类）行政事业单位医疗（11款）行政单位医疗（01项）98.27万元。"
    )
    report = audit_text(text)
    assert not found(text, "text-item-path")
    assert any(u.check == "text-item-path" and "年度" in u.reason for u in report.unresolved)


def real_model(name: str):
    path = REAL_DOCUMENTS / name
    if not path.exists():
        pytest.skip(f"{name} is not in {REAL_DOCUMENTS}")
    return build(read(path))


@pytest.mark.parametrize(
    ("name", "year"),
    [
        ("shanghai-putuo-2026-budget-justice-bureau-department.pdf", 2026),  # 2026年区级部门预算
        (
            "jiangsu-2017-budget-npc-office.pdf",
            2017,
        ),  # cover over two lines: …办公厅 / 2017年度部门预算
        ("jiangsu-2017-budget-party-office-tables.pdf", 2017),  # no cover: 2017年政府采购预算表
    ],
)
def test_a_real_documents_year_is_read_from_what_it_says(name, year):
    assert stated_year(real_model(name)) == (year, "预算")


def test_item_paths_of_a_real_2026_budget_name_the_2026_classification():
    model = real_model("shanghai-putuo-2026-budget-justice-bureau-department.pdf")
    outcome = run_all(model, gather(model))
    (finding,) = [f for f in outcome.findings if f.rule == "text-item-path"]
    assert "2026年政府收支分类科目" in finding.message and "2020" not in finding.message


OWN_YEAR = {
    # D1 of shanghai-putuo-2026 justice bureau (department): the 2026 budget against "2026年预算"
    "budget": (
        "上海市普陀区2026年区级部门预算\n\n财政拨款收入9628.22万元，比{y}年预算增加793.14万元；"
        "政府性基金拨款支出预算0万元，与{y}年预算持平。",
        2025,
    ),
    "final-accounts": (
        "某局2024年度部门决算\n\n本年收入支出总计307.82万元。与{y}年度相比，收入支出总计增加7.82万元，"
        "增长2.61%。",
        2023,
    ),
}


@pytest.mark.parametrize("kind", OWN_YEAR)
def test_a_comparison_with_the_documents_own_year_both_ways(kind):
    text, prior = OWN_YEAR[kind]
    year = prior + 1
    (finding,) = found(text.format(y=year), "text-compared-year", CERTAIN)
    assert finding.expected == f"{prior}年" and finding.actual == f"{year}年"
    assert not found(text.format(y=prior), "text-compared-year")


def test_a_final_account_against_its_own_years_budget_or_opening_balance_is_no_finding():
    text = (
        "某局2024年度部门决算\n\n一般公共预算财政拨款支出决算为307.82万元，比2024年预算减少13.20万元。"
        "年末结转和结余0.50万元，比2024年初增加0.50万元。"
    )
    assert not found(text, "text-compared-year")

"""The generated text: the reference figures, direction words, reasons, and the text check."""

from dataclasses import replace
from decimal import Decimal

import pytest

from juesuan.document.assemble import assemble
from juesuan.document.model import Paragraph, Ref, Span
from juesuan.ledger.issues import Source
from juesuan.ledger.model import Fact
from juesuan.narrative.check import check_text
from juesuan.narrative.facts import collect
from juesuan.rules.engine import FAIL, PASS
from juesuan.statements.build import build


def generated(example, format_name="sichuan-2020"):
    statements = build(example, format_name)
    facts = collect(example, statements)
    document, writer = assemble(example, statements, facts, [])
    text = "\n".join(b.text for b in document.blocks if isinstance(b, Paragraph))
    return document, writer, facts, statements, text


def test_the_reference_figures_are_stated(example):
    _, writer, _, _, text = generated(example)
    for phrase in (
        "2020 年度收、支总计 5686.09 万元。与 2019 年相比，收、支总计各减少 18394.43 万元，同比下降 76.39%。",
        "基本支出 4329.64 万元，占 76.14%；项目支出 1356.45 万元，占 23.86%",
        "社会保障和就业（类）支出 5499.50 万元，占 96.72%；卫生健康（类）支出 57.13 万元，占 1%；住房保障（类）支出 129.46 万元，占 2.28%",
        "人员经费 4190.24 万元",
        "日常公用经费 139.40 万元",
        "公务接待费支出决算比 2019 年减少 1.15 万元，下降 66.04%",
        "国内公务接待 5 批次，56 人次，共计支出 0.59 万元",
        "机关运行经费支出 139.40 万元，比 2019 年减少 0.58 万元，下降 0.42%",
        "政府采购支出总额 1.58 万元",
        "授予中小企业合同金额 1.58 万元，占政府采购支出总额的 100%",
        "社会保障和就业支出（类）人力资源和社会保障管理事务（款）社会保险经办机构（项）：支出决算为 842.96 万元",
    ):
        assert phrase in text, phrase
    assert writer.warnings == []


@pytest.mark.parametrize("format_name", ["sichuan-2020", "national-9"])
def test_text_check_has_no_failure(example, format_name):
    document, _, facts, statements, _ = generated(example, format_name)
    outcomes = check_text(document, facts, statements)
    assert len(outcomes) > 100 and all(o.status == PASS for o in outcomes)


def test_a_typed_or_wrong_number_fails_the_check(example):
    document, _, facts, statements, _ = generated(example)
    typed = Paragraph((Span("本年支出合计 5686.09 万元。"),))
    wrong = Paragraph((Span("本年支出合计 "), Ref("本年支出合计", "5686.10"), Span(" 万元。")))
    broken = replace(document, blocks=(*document.blocks, typed, wrong))
    failures = [o for o in check_text(broken, facts, statements) if o.status == FAIL]
    assert len(failures) == 2
    assert "没有对应的事实" in failures[0].message
    assert "应为 5686.09" in failures[1].message and "支出决算表" in failures[1].message


def test_direction_words_follow_the_numbers(example):
    prior = dict(example.prior_year)
    prior["收支总计"] = Fact("收支总计", Decimal("50000000.00"), Source("test"))
    _, _, _, _, text = generated(replace(example, prior_year=prior))
    assert "收、支总计各增加 686.09 万元，同比增长 13.72%" in text
    prior["收支总计"] = Fact("收支总计", Decimal("56860900.00"), Source("test"))
    _, _, _, _, text = generated(replace(example, prior_year=prior))
    assert "与 2019 年相比，收、支总计没有变动。" in text


def test_a_change_past_the_threshold_without_a_reason_warns_naming_the_sentence(example):
    reasons = {k: v for k, v in example.reasons.items() if k != ("同比变动", "收支总计")}
    _, writer, _, _, _ = generated(replace(example, reasons=reasons))
    (warning,) = [w for w in writer.warnings if w.rule == "narrative-yoy-reason"]
    assert warning.tier == "WARNING"
    assert "2020 年度收、支总计 5686.09 万元。与 2019 年相比" in warning.message


def test_empty_tables_and_zero_categories_get_their_statements(example):
    _, _, _, _, text = generated(example, "national-9")
    assert "泸州市社会保险事业管理局 2020 年度无政府性基金预算财政拨款收入和支出。" in text
    _, _, _, _, text = generated(example)
    assert (
        "2020 年政府性基金预算拨款支出 0 万元。" in text
        and "政府性基金预算财政拨款没有变动" in text
    )


def test_a_sparse_dataset_gets_a_document_without_invented_numbers(tiny):
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare

    dataset, _ = load(tiny)
    prepared = prepare(dataset, "sichuan-2020")
    assert not prepared.fatal  # every number in its text still names a fact
    missing = {o.bindings["fact"] for o in prepared.outcomes if o.rule == "narrative-missing-count"}
    assert {"车辆总数", "单价50万元以上通用设备", "因公出国（境）费.批次"} <= missing

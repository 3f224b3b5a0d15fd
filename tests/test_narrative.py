"""The generated text: the reference figures, direction words, reasons, and the text check."""

import shutil
from dataclasses import replace
from decimal import Decimal

import pytest

from juesuan.document.assemble import assemble
from juesuan.document.model import Paragraph, Ref, Span
from juesuan.ledger.issues import Source
from juesuan.ledger.load import load
from juesuan.ledger.model import Fact
from juesuan.narrative.check import check_text
from juesuan.narrative.facts import collect
from juesuan.rules.engine import FAIL, PASS
from juesuan.statements.build import build

from conftest import ROOT


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


def _prior(example, **values):
    prior = dict(example.prior_year)
    for key, value in values.items():
        if value is None:
            prior.pop(key, None)
        else:
            prior[key] = Fact(key, Decimal(value), Source("test"))
    return replace(example, prior_year=prior)


def test_no_reason_is_printed_without_a_stated_change(example):
    # The dataset gives a reason for 财政拨款收支总计, but without last year's figure the text
    # states no change, so a reason would explain nothing.
    assert example.reasons[("同比变动", "财政拨款收支总计")]
    _, _, _, _, text = generated(_prior(example, 财政拨款收支总计=None))
    assert "2020 年财政拨款收、支总计 5686.09 万元。\n" in text
    _, _, _, _, text = generated(_prior(example, 财政拨款收支总计="56860900.00"))
    assert "财政拨款收、支总计没有变动。\n" in text


def test_a_change_under_half_the_last_shown_place_reads_level(example):
    # 5686.09 万元 against 5686.0901 万元: 1 元 less, shown as 0.00 万元 — 没有变动, not
    # "减少 0 万元，下降 0%"; 49 元 still rounds to 0.00, 50 元 to 0.01 and is a change.
    for last_year in ("56860901.00", "56860949.00"):
        _, _, _, _, text = generated(_prior(example, 收支总计=last_year))
        assert "与 2019 年相比，收、支总计没有变动。" in text
        assert "收、支总计各减少 0 万元" not in text
    _, _, _, _, text = generated(_prior(example, 收支总计="56860950.00"))
    assert "收、支总计各减少 0.01 万元" in text


def test_no_placeholder_reaches_a_user(example):
    from juesuan.publish.package import prepare

    prepared = prepare(replace(example, prior_year={}), "sichuan-2020")
    insufficient = [o for o in prepared.outcomes if o.rule == "yoy-reason"]
    assert insufficient and all(o.status == "insufficient_data" for o in insufficient)
    assert any("事项填“收支总计”" in o.hint for o in insufficient)
    for outcome in prepared.outcomes:
        assert "{" not in outcome.message + outcome.hint, (outcome.rule, outcome.hint)


def test_a_text_the_format_does_not_know_is_refused_by_name(tmp_path):
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare

    from conftest import write_dataset

    folder = write_dataset(tmp_path / "unit")
    (folder / "texts").mkdir()
    (folder / "texts" / "部门决算单位构成.md").write_text("本部门由本级和下属单位组成。", "utf-8")
    (folder / "texts" / "情况说明导语.md").write_text("本单位代发几类补贴。", "utf-8")
    dataset, _ = load(folder)
    prepared = prepare(dataset, "sichuan-2020")
    (refused,) = [o for o in prepared.fatal if o.rule == "texts-known"]
    assert "unit/texts/部门决算单位构成.md" in refused.message
    assert "主要职能" in refused.hint and "机构设置" in refused.hint
    # A title another format prints is shown, not refused: the text would not appear.
    prepared = prepare(dataset, "national-9")
    (shown,) = [o for o in prepared.outcomes if o.bindings.get("text") == "情况说明导语"]
    assert shown.tier == "WARNING" and shown.status == FAIL


def test_last_years_figures_are_checked_against_each_other(example):
    from juesuan.publish.package import prepare

    prepared = prepare(_prior(example, 财政拨款收支总计="1000000.00"), "sichuan-2020")
    failed = [o for o in prepared.fatal if o.rule == "prior-year-consistent"]
    assert len(failed) == 1
    assert "财政拨款收支总计” 1,000,000.00 元" in failed[0].message
    assert "一般公共预算财政拨款支出” 240,805,200.00 元" in failed[0].message
    assert not [o for o in prepare(example, "sichuan-2020").fatal]


def test_a_format_that_differs_only_in_data_prints_its_own_way(example):
    """shanghai-2024 is a folder of data (tables from national-9, its options, national-9's
    wording): no space around numbers, percentages with two places, the same facts checked."""
    document, _, facts, statements, text = generated(example, "shanghai-2024")
    assert "泸州市社会保险事业管理局2020年度收入支出总计5686.09万元。与2019年度相比" in text
    assert "本年收入合计5686.09万元，其中：财政拨款收入5686.09万元，占100.00%。" in text
    assert "卫生健康支出（类）57.13万元，占1.00%" in text
    outcomes = check_text(document, facts, statements)
    assert len(outcomes) > 100 and all(o.status == PASS for o in outcomes)
    _, _, _, _, national = generated(example, "national-9")
    assert "泸州市社会保险事业管理局 2020 年度收入支出总计 5686.09 万元" in national


@pytest.mark.parametrize("format_name", ["national-9", "shanghai-2024"])
def test_a_sentence_names_the_budget_it_prints(format_name):
    """The 普陀 unit has 年初预算 0 and 全年预算 321.02: a sentence printing 321.02 calls it 全年预算,
    completion is against it, and so is the reason for the difference."""
    dataset, _ = load(ROOT / "examples" / "shanghai-putuo-shgzb-2024")
    _, _, _, _, text = generated(dataset, format_name)
    plain = text.replace(" ", "")
    assert "全年预算为321.02万元，支出决算为307.82万元，完成全年预算的95.89%。" in plain
    assert "决算数小于全年预算数的主要原因：人员经费支出数小于预算数。" in plain
    assert "年初预算为321.02" not in plain and "完成年初预算" not in plain
    assert "全年预算为52.00万元，支出决算为51.32万元" in plain  # 行政运行 (项)
    assert "年初预算为52.00" not in plain


def test_shanghai_2024_states_level_budgets_and_asks_for_missing_purposes(tmp_path):
    """A 项 whose 决算 reads as its budget says 持平 and asks no reason; a 项 without 主要用于 in
    the dataset gets none and a warning naming it; a purpose for neither a 项 nor a 三公 item is
    refused where it was written."""
    folder = tmp_path / "putuo"
    shutil.copytree(ROOT / "examples" / "shanghai-putuo-shgzb-2024", folder)
    purposes = folder / "purposes.csv"
    lines = purposes.read_text(encoding="utf-8").splitlines()
    purposes.write_text(
        "\n".join(line for line in lines if not line.startswith("2210203")), "utf-8"
    )
    dataset, _ = load(folder)
    _, writer, _, _, text = generated(dataset, "shanghai-2024")
    assert (
        "全年预算为11.72万元，支出决算为11.72万元，完成全年预算的100.00%。决算数与全年预算数持平。"
        in text
    )
    assert "购房补贴（项）。全年预算为11.72万元" in text
    (warning,) = [w for w in writer.warnings if w.rule == "narrative-missing-purpose"]
    assert "2210203" in warning.message

    purposes.write_text("科目或事项,主要用于\n20139,行政运行\n", "utf-8")
    dataset, issues = load(folder)
    assert dataset is None
    (issue,) = [i for i in issues if "三公" in i.message]
    assert "purposes.csv" in str(issue.source.file) and issue.source.row == 2


def test_a_damaged_compiled_template_is_compiled_again():
    from pathlib import Path

    from juesuan.narrative import wording

    cache = wording._compiled_templates()
    if cache is None:
        pytest.skip("no private folder for compiled templates on this machine")
    environment = wording._environment("sichuan-2020")
    environment.cache.clear()
    template = environment.get_template(wording.TEMPLATE)
    source = Path(template.filename).read_text(encoding="utf-8")
    bucket = cache.get_bucket(environment, wording.TEMPLATE, template.filename, source)
    entry = Path(cache._get_cache_filename(bucket))
    whole = entry.read_bytes()
    entry.write_bytes(whole[:50])
    environment.cache.clear()
    again = environment.get_template(wording.TEMPLATE)
    assert again.filename == template.filename
    assert entry.read_bytes() == whole  # compiled again and written whole


def test_compiled_templates_serve_only_the_same_code(monkeypatch):
    from juesuan.narrative import wording

    cache = wording._compiled_templates()
    if cache is None:
        pytest.skip("no private folder for compiled templates on this machine")
    checksum = cache.get_source_checksum("{{ x }}")
    assert cache.get_source_checksum("{{ y }}") != checksum
    # Other options or extension in wording.py compile the same text differently.
    monkeypatch.setattr(wording, "_code_identity", lambda: b"other code")
    assert cache.get_source_checksum("{{ x }}") != checksum

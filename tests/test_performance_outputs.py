"""The outputs of budget performance management: the 项目绩效目标完成情况表 and 十（四） text, the
项目支出绩效自评表 and the 部门整体 score table in 附件, the PERF-* outcomes in the package."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from juesuan.document.model import FormBlock, Heading, Paragraph, Ref
from juesuan.ledger.load import load
from juesuan.narrative.check import check_text
from juesuan.performance import evaluate_performance
from juesuan.performance.forms import (
    DEPARTMENT_FORM,
    GOAL_FORMS,
    SELF_EVALUATION_FORMS,
    department_form,
    goal_form,
    self_evaluation_form,
)
from juesuan.publish.package import prepare
from juesuan.rules.engine import FAIL, PASS

from conftest import write_dataset

# The five tables of 十（四）1 as the reference prints them: 预算数 and 执行数 (万元).
REFERENCE_FUNDS = {
    "企业教师生活补贴": ("1100", "949.68", "86.33"),
    "建国初期老干部困难补贴": ("55", "43.63", "79.33"),
    "市级破产改制企业离休人员生活补贴": ("250", "233.93", "93.57"),
    "代发几类专项资金工作经费": ("5", "5", "100"),
    "机关保险和职业年金工作经费": ("5", "3.99", "79.8"),
}


# The example as published, with its own contradictions (841 人, 4.68 万元/人) put back, so the
# forms show a contradicted statement beside the computed value.
@pytest.fixture(scope="module")
def result(published):
    return evaluate_performance(published)


@pytest.fixture(scope="module")
def prepared(published):
    return prepare(published)


def texts(form) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in form.body]


def row_of(form, first: str, column: int = 0) -> list[str]:
    return next(r for r in texts(form) if len(r) > column and r[column] == first)


def amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


# ---- (a) 项目绩效目标完成情况表 ---------------------------------------------------------------------


def test_goal_forms_carry_the_reference_figures(example, result):
    assert [p.name for p in result.projects] == list(REFERENCE_FUNDS)
    for project in result.projects:
        budget, actual, _ = REFERENCE_FUNDS[project.name]
        form = goal_form(project, example.unit)
        assert form.title == f"{project.name}项目绩效目标完成情况表"
        assert row_of(form, "项目名称") == ["项目名称", project.name]
        assert row_of(form, "预算单位") == ["预算单位", "308503-泸州市社会保险事业管理局"]
        planned = row_of(form, "预算数：")
        assert planned[2] == "执行数："
        assert (amount(planned[1]), amount(planned[3])) == (Decimal(budget), Decimal(actual))
        fiscal = row_of(form, "其中-财政拨款：")
        assert (amount(fiscal[1]), amount(fiscal[3])) == (Decimal(budget), Decimal(actual))
        other = row_of(form, "其它资金：")
        assert amount(other[1]) == amount(other[3]) == 0
        # One row per indicator, with the targets and actual values as the unit wrote them.
        heads = row_of(form, "一级指标")
        assert heads[3].startswith("预期指标值") and heads[4].startswith("实际完成指标值")
        assert len(texts(form)) - texts(form).index(heads) - 1 == len(project.indicators)

    teachers = goal_form(result.project("企业教师生活补贴"), example.unit)
    assert row_of(teachers, "发放人数", 2)[3:] == ["644", "644"]
    assert row_of(teachers, "人均补贴成本", 2)[3:] == ["1.71万元/人", "1.47万元/人"]
    assert row_of(teachers, "补贴发放金额", 2)[3:] == ["1100", "949.68"]
    goals = texts(teachers)[texts(teachers).index(["预期目标", "实际完成目标"]) + 1]
    assert goals == ["完成2020年度企业教师生活补贴的代发工作。"] * 2
    pooled = goal_form(result.project("代发几类专项资金工作经费"), example.unit)
    assert row_of(pooled, "发放人数", 2)[3:] == ["841", "841"]  # as published (README 6)


def test_goal_forms_are_forms_every_renderer_can_draw(example, result):
    form = goal_form(result.projects[0], example.unit)
    assert form.header == () and form.unit_text == "" and form.org_text == ""
    for row in form.body:
        # Every grid column is covered exactly once: no row spans, colspans add up.
        assert sum(c.colspan for c in row.cells) == len(form.columns)
        assert all(c.rowspan == 1 for c in row.cells)
    sections = [r.cells[0].text for r in form.body if r.cells[0].colspan == len(form.columns)]
    assert sections == ["预算执行情况（万元）", "年度目标完成情况", "绩效指标完成情况"]
    assert all(c.shade and c.bold for r in form.body if len(r.cells) == 1 for c in r.cells)
    figures = [c for r in form.body for c in r.cells if c.kind == "amount"]
    assert figures and all(c.value == amount(c.text) for c in figures)
    assert form.total_width <= 86.5  # a portrait page at 9 pt


# ---- (b) 项目支出绩效自评表 -----------------------------------------------------------------------


def test_self_evaluation_forms_add_up_to_the_project_total_with_grade(example, result):
    for project in result.projects:
        form = self_evaluation_form(project, example.unit, result)
        funds = row_of(form, "年度资金总额")
        execution = project.execution
        assert Decimal(funds[4].rstrip("%")) == Decimal(REFERENCE_FUNDS[project.name][2])
        assert funds[8] == execution.how and Decimal(funds[6]) == execution.points
        first = texts(form).index(row_of(form, "一级指标")) + 1
        lines = [funds, *texts(form)[first:-1]]
        assert len(lines) == len(project.scores)
        weights = sum(Decimal(r[5]) for r in lines)
        points = sum(Decimal(r[6]) for r in lines)
        total = texts(form)[-1]
        assert total[0] == "总分" and weights == Decimal(total[1]) == 100
        assert points == Decimal(total[2]) == project.total
        assert total[3].startswith(f"自评等级：{project.grade}（优 ≥ 90")
        # How each indicator earned its points, beside it.
        for line, score in zip(lines[1:], project.scores[1:], strict=True):
            assert line[2] == score.name and line[8] == score.how
    teachers = self_evaluation_form(result.project("企业教师生活补贴"), example.unit, result)
    assert texts(teachers)[-1][1:3] == ["100.00", "97.78"]
    amount_row = row_of(teachers, "补贴发放金额", 2)
    assert amount_row[5:7] == ["6.25", "5.40"]
    assert "6.25 × 949.68 ÷ 1100" in amount_row[8]
    assert amount_row[7].startswith("由于发放对象人员减少")


def test_self_evaluation_shows_the_computed_value_beside_a_contradicted_statement(example, result):
    pooled = result.project("代发几类专项资金工作经费")
    form = self_evaluation_form(pooled, example.unit, result)
    persons = row_of(form, "发放人数", 2)
    assert persons[4] == "841（按数据计算为756人）"
    assert persons[6] == "5.62" and "实际 756 人 < 指标值 841 人" in persons[8]
    per_capita = row_of(form, "人均补贴成本", 2)
    assert per_capita[4] == "4.68万元/人（按数据计算为1.62万元/人）"


# ---- (c) 部门整体支出绩效自评评分表 -----------------------------------------------------------------


def test_department_form_shows_each_leaf_with_its_source(example, result):
    department = result.department
    form = department_form(department, example.unit)
    assert form.title == DEPARTMENT_FORM
    assert texts(form)[0] == ["一级指标", "二级指标", "分值", "得分", "得分来源", "评分说明"]
    # name -> (分值, 得分, 得分来源, 评分说明); a name sits in its level's column.
    rows = {next(t for t in r[:-4] if t): r[-4:] for r in texts(form)[1:-1]}
    assert rows["预算编制科学性"][:3] == ["10", "8.0", "单位填报"]
    assert "预算编制基础数据收集不够充分" in rows["预算编制科学性"][3]
    assert rows["部门预算完成率"][1:3] == ["9.5", "按数据计算"]
    assert "94.53%" in rows["部门预算完成率"][3]
    assert rows["自评公开"][:3] == ["10", "10.0", "单位填报"]
    assert rows["预算编制"][:3] == ["20", "17.0", "下级合计"]
    leaves = [leaf.node.name for leaf in department.leaves()]
    assert sum(Decimal(rows[n][1]) for n in leaves) == department.total == Decimal("79.6")
    total = texts(form)[-1]
    assert total[:3] == ["总分", "100", "79.6"] and total[3].startswith("自评等级：中")


# ---- (d) 十（四） and 附件 in the document -----------------------------------------------------------


def test_section_ten_four_states_the_figures_as_facts_with_no_check_failure(prepared, example):
    from juesuan.document.assemble import assemble

    document, writer = assemble(
        example, prepared.statements, prepared.facts, [], performance=prepared.performance
    )
    blocks = list(document.blocks)
    start = blocks.index(
        next(b for b in blocks if getattr(b, "text", "") == "1. 项目绩效目标完成情况")
    )
    end = blocks.index(next(b for b in blocks if getattr(b, "text", "") == "第三部分 名词解释"))
    part = blocks[start:end]
    text = "\n".join(b.text for b in part if isinstance(b, Paragraph))
    assert (
        "反映“企业教师生活补贴”“建国初期老干部困难补贴”“市级破产改制企业离休人员生活补贴”等 5 个项目"
        in text
    )
    for budget, actual, rate in REFERENCE_FUNDS.values():
        sentence = (
            f"项目全年预算数 {Decimal(budget):.2f} 万元，执行数为 {Decimal(actual):.2f} 万元，"
            f"完成预算的 {rate}%。"
        )
        assert sentence in text, sentence
    assert "发现的主要问题：由于发放对象人员减少" in text
    assert "下一步改进措施：做好年初预算资金测算" in text
    assert "自评得分为 79.6 分，评价等级为“中”" in text and "见附件（附件1）" in text
    assert "见附件（附件2）" in text
    # The five forms follow their 综述, in project order.
    forms = [b for b in part if isinstance(b, FormBlock)]
    assert [f.group for f in forms] == [GOAL_FORMS] * 5
    assert [f.layout.title for f in forms] == [
        f"{n}项目绩效目标完成情况表" for n in REFERENCE_FUNDS
    ]
    # Every figure is a Ref to a fact, and the text check passes them all.
    refs = [s for b in part if isinstance(b, Paragraph) for s in b.segments if isinstance(s, Ref)]
    assert {r.fact for r in refs} >= {
        "绩效.企业教师生活补贴.全年预算",
        "绩效.企业教师生活补贴.执行数",
        "绩效.企业教师生活补贴.执行率",
        "绩效.项目数",
        "绩效.部门整体自评得分",
    }
    outcomes = check_text(document, prepared.facts, prepared.statements)
    assert outcomes and all(o.status == PASS for o in outcomes)
    checked = [o for o in outcomes if o.message.startswith("绩效.")]
    assert len(checked) >= 16
    assert writer.warnings == []


def test_a_wrong_performance_figure_fails_the_text_check(prepared, example):
    from dataclasses import replace

    from juesuan.document.assemble import assemble
    from juesuan.document.model import Span

    document, _ = assemble(example, prepared.statements, prepared.facts, [])
    wrong = Paragraph(
        (Span("完成预算的 "), Ref("绩效.企业教师生活补贴.执行率", "86.34"), Span("%。"))
    )
    broken = replace(document, blocks=(*document.blocks, wrong))
    (failure,) = [
        o for o in check_text(broken, prepared.facts, prepared.statements) if o.status == FAIL
    ]
    assert "应为 86.33" in failure.message


def test_attachments_hold_the_department_table_and_each_project_form(prepared, example):
    from juesuan.document.assemble import assemble

    document, _ = assemble(example, prepared.statements, prepared.facts, [])
    blocks = list(document.blocks)
    appendix = blocks.index(next(b for b in blocks if getattr(b, "text", "") == "第四部分 附件"))
    tables = blocks.index(next(b for b in blocks if getattr(b, "text", "") == "第五部分 附表"))
    part = blocks[appendix:tables]
    forms = [(i, b) for i, b in enumerate(part) if isinstance(b, FormBlock)]
    assert [b.group for _, b in forms] == [DEPARTMENT_FORM] + [SELF_EVALUATION_FORMS] * 5
    second = next(i for i, b in enumerate(part) if isinstance(b, Heading) and b.text == "附件2")
    assert forms[0][0] < second < forms[1][0]  # the score table in 附件1, after the report
    # The project reports in project order, each followed by its own 自评表.
    centred = [b.text for b in part if isinstance(b, Paragraph) and b.style == "center"]
    reports = [f"{n}项目2020年绩效评价报告" for n in REFERENCE_FUNDS]
    assert centred[1:] == reports
    for (position, form), name in zip(forms[1:], REFERENCE_FUNDS, strict=True):
        title = next(
            b.text
            for b in reversed(part[:position])
            if isinstance(b, Paragraph) and b.style == "center"
        )
        assert title == f"{name}项目2020年绩效评价报告"
        assert form.layout.title == f"{name}项目支出绩效自评表"


def test_a_dataset_without_performance_data_gets_no_performance_text(tmp_path):
    dataset, _ = load(write_dataset(tmp_path / "tiny"))
    prepared = prepare(dataset)
    assert prepared.performance is not None and prepared.performance.projects == ()
    from juesuan.document.assemble import assemble

    document, _ = assemble(dataset, prepared.statements, prepared.facts, [])
    assert not any(isinstance(b, FormBlock) for b in document.blocks)
    assert not any(isinstance(b, Heading) and "部门绩效评价结果" in b.text for b in document.blocks)
    assert not [o for o in prepared.outcomes if o.rule.startswith("PERF-")]


# ---- (e) the PERF-* outcomes in the package ----------------------------------------------------


def test_prepare_includes_the_performance_outcomes_and_stays_publishable(prepared):
    perf = [o for o in prepared.outcomes if o.rule.startswith("PERF-")]
    assert len(perf) == len(prepared.performance.outcomes) > 30
    (persons,) = [
        o
        for o in perf
        if o.rule == "PERF-actual-stated"
        and o.bindings.get("指标") == "发放人数"
        and o.status == FAIL
    ]
    assert persons.tier == "WARNING" and "填报 841 人，计算值为 756 人" in persons.message
    assert prepared.fatal == [] and prepared.summary["failed_by_tier"]["WARNING"] == 2


def test_a_fatal_performance_outcome_blocks_publishing(tmp_path):
    indicators = (
        "项目名称,一级指标,二级指标,三级指标,方向,指标值,计量单位,分值,实际完成值\n"
        "生活补贴,没有这种指标,数量指标,发放人数,≥,10,人,,10\n"
    )
    dataset, _ = load(write_dataset(tmp_path / "bad", indicators=indicators))
    prepared = prepare(dataset)
    assert any(o.rule == "PERF-level1" for o in prepared.fatal)


@pytest.fixture(scope="module")
def package(tmp_path_factory, published):
    from juesuan.publish.package import write_package

    out = tmp_path_factory.mktemp("perf") / "pkg"
    write_package(prepare(published), out)
    return out


def test_checks_json_lists_the_performance_outcomes(package):
    checks = json.loads((package / "checks.json").read_text(encoding="utf-8"))
    assert checks["publishable"] is True
    perf = [o for o in checks["outcomes"] if o["rule"].startswith("PERF-")]
    failed = [o for o in perf if o["status"] == "fail"]
    assert {o["tier"] for o in failed} == {"WARNING"}
    assert any("841" in o["message"] and "756" in o["message"] for o in failed)
    assert any(o["rule"] == "PERF-department-total" and o["status"] == "pass" for o in perf)


def test_the_workbook_has_a_sheet_for_each_kind_of_form(package):
    import openpyxl

    book = openpyxl.load_workbook(next(package.glob("*.xlsx")))
    assert book.sheetnames[14:] == [GOAL_FORMS, DEPARTMENT_FORM, SELF_EVALUATION_FORMS]
    goals = book[GOAL_FORMS]
    values = [[c.value for c in row] for row in goals.iter_rows()]
    titles = [r[0] for r in values if r[0] and str(r[0]).endswith("项目绩效目标完成情况表")]
    assert titles == [f"{n}项目绩效目标完成情况表" for n in REFERENCE_FUNDS]
    first = next(r for r in values if r[0] == "预算数：")
    assert first[1] == 1100 and first[3] == pytest.approx(949.68)  # numbers, not text
    assert any(r[2] == "人均补贴成本" and r[3:5] == ["1.71万元/人", "1.47万元/人"] for r in values)
    assert len(goals.row_breaks.brk) == 4  # each form starts a printed page
    evaluations = [[c.value for c in row] for row in book[SELF_EVALUATION_FORMS].iter_rows()]
    totals = [r for r in evaluations if r[0] == "总分"]
    assert [r[6] for r in totals] == [
        pytest.approx(float(v)) for v in (97.78, 96.64, 98.96, 98.58, 97.98)
    ]


def test_docx_and_html_contain_the_forms(package):
    import docx

    word = docx.Document(next(package.glob("*.docx")))
    paragraphs = [p.text for p in word.paragraphs]
    assert "企业教师生活补贴项目绩效目标完成情况表" in paragraphs
    assert "企业教师生活补贴项目支出绩效自评表" in paragraphs
    assert DEPARTMENT_FORM in paragraphs
    cells = {c.text for t in word.tables for r in t.rows for c in r.cells}
    assert {"308503-泸州市社会保险事业管理局", "1.71万元/人", "1.47万元/人", "949.68"} <= cells
    assert {
        "841（按数据计算为756人）",
        "自评等级：中（优 ≥ 90、良 ≥ 80、中 ≥ 60、差 < 60）",
    } <= cells
    assert len(word.tables) == 14 + 5 + 1 + 5
    page = next(package.glob("*.html")).read_text(encoding="utf-8")
    for text in (
        "企业教师生活补贴项目绩效目标完成情况表",
        "实际完成指标值（包含数字及文字描述）",
        "1.47万元/人",
        "代发几类专项资金工作经费项目支出绩效自评表",
        DEPARTMENT_FORM,
        'data-fact="绩效.企业教师生活补贴.执行率">86.33<',
    ):
        assert text in page, text


def test_the_pdf_prints_the_forms(package):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = next(package.glob("*.pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout
    flat = "".join(text.decode().split())
    for name in REFERENCE_FUNDS:
        assert f"{name}项目绩效目标完成情况表" in flat
        assert f"{name}项目支出绩效自评表" in flat
    assert "完成预算的86.33%" in flat and "1.47万元/人" in flat and DEPARTMENT_FORM in flat


def test_forms_render_alone_in_every_format(tmp_path, example, result):
    from juesuan.document.model import Document
    from juesuan.publish.docx import write_docx
    from juesuan.publish.html import html_page
    from juesuan.publish.pdf import typst_source

    project = result.projects[0]
    document = Document(
        "测试",
        example.unit.name,
        2020,
        (
            Paragraph.plain("前文"),
            FormBlock(goal_form(project, example.unit), GOAL_FORMS),
            FormBlock(self_evaluation_form(project, example.unit, result), SELF_EVALUATION_FORMS),
        ),
    )
    source = typst_source(document)
    assert "table.header" not in source and "fill: luma(242)" in source
    assert "flipped: true" in source  # the 自评表 is wide: a landscape page
    page = html_page(document)
    assert '<td class="label head"' in page and "<thead>" not in page
    path = tmp_path / "forms.docx"
    write_docx(document, path)
    assert Path(path).stat().st_size > 0

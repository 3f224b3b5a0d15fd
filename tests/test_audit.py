"""The audit of published disclosures: reading PDF/DOCX/text, the reference case's known
contradictions, zero findings on our own generated document, each text check both ways, and
the command's exit codes."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from juesuan.audit import CERTAIN, SUSPECTED, audit, audit_many, audit_text, read
from juesuan.audit.read import Grid, Line, NotReadable, read_many
from juesuan.cli import main

from conftest import EXAMPLE, ROOT, published_copy, write_dataset

REFERENCE = ROOT.parent / "shared" / "reference" / "000_e6104e96e231a2f4.txt"


def found(report, rule: str, severity: str | None = None) -> list:
    return [
        f
        for f in report.findings
        if f.rule == rule and (severity is None or f.severity == severity)
    ]


def rules(report) -> set[str]:
    return {f.rule for f in report.findings}


# ---- reading ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cjk_font() -> Path:
    from juesuan import fonts

    return fonts.find_cjk_font()  # the bundled font when the machine has none


@pytest.fixture(scope="module")
def tiny_document(tmp_path_factory):
    """A short disclosure of the tiny dataset: a heading, a sentence with figures, two tables."""
    from juesuan.document.model import Document, Heading, Paragraph, TableBlock
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare

    dataset, _ = load(write_dataset(tmp_path_factory.mktemp("tiny") / "tiny"))
    statements = prepare(dataset).statements
    blocks = (
        Heading(1, "第二部分 2020年度部门决算情况说明", "p2"),
        Heading(2, "三、支出决算情况说明", "p2-3"),
        Paragraph.plain(
            "2020 年本年支出合计 0.15 万元，其中：基本支出 0.10 万元，占 66.67%；"
            "项目支出 0.05 万元，占 33.33%。"
        ),
        Heading(1, "第五部分 附表", "p5"),
        TableBlock(statements.table("summary")),
        TableBlock(statements.table("spending")),
    )
    return Document("测试单位2020年度部门决算", "测试单位", 2020, blocks)


def test_reads_a_small_typst_pdf_with_places_and_ruled_tables(cjk_font, tiny_document, tmp_path):
    from juesuan.publish.pdf import write_pdf

    path = tmp_path / "small.pdf"
    write_pdf(tiny_document, path)
    document = read(path)
    assert document.kind == "pdf" and document.readable and not document.unreadable_pages
    lines = [b for b in document.blocks if isinstance(b, Line)]
    sentence = next(line for line in lines if "本年支出合计" in line.text)
    assert sentence.place.page is not None and sentence.place.line >= 1
    grids = [b for b in document.blocks if isinstance(b, Grid)]
    assert len(grids) >= 2 and all(g.ruled for g in grids)
    assert any("本年支出合计" in (cell or "") for g in grids for row in g.rows for cell in row)

    report = audit(path)
    tables = {t["id"] for t in report.document["tables"]}
    assert {"summary", "spending"} <= tables
    assert report.findings == []
    assert report.document["facts"]["tables_as_statements"] == ["summary", "spending"]
    assert report.exit_code == 0
    # table rules whose tables are absent are listed, never passed silently
    assert any(u.check.startswith("table:") for u in report.unresolved)


def test_reads_docx_paragraphs_and_tables_with_merged_cells_once(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("一、收入支出决算总体情况说明")
    document.add_paragraph("2020 年度收、支总计 100.00 万元。")
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "项目"
    table.cell(0, 2).text = "决算数"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "合计"
    table.cell(1, 1).text = "甲"
    table.cell(1, 2).text = "60.00"
    table.cell(2, 1).text = "乙"
    table.cell(2, 2).text = "40.00"
    path = tmp_path / "merged.docx"
    document.save(path)

    read_document = read(path)
    blocks = read_document.blocks
    assert [b.text for b in blocks if isinstance(b, Line)][:2] == [
        "一、收入支出决算总体情况说明",
        "2020 年度收、支总计 100.00 万元。",
    ]
    grid = next(b for b in blocks if isinstance(b, Grid))
    assert grid.rows[0] == ("项目", None, "决算数")  # merged across: text once
    assert grid.rows[1][0] == "合计" and grid.rows[2][0] is None  # merged down: text once
    assert str(blocks[1].place) == "第2段"


def test_image_only_page_is_reported_unreadable_not_guessed(cjk_font, tiny_document, tmp_path):
    import pypdfium2
    from PIL import Image

    from juesuan.publish.pdf import write_pdf

    text_pdf, scan_pdf, mixed = tmp_path / "text.pdf", tmp_path / "scan.pdf", tmp_path / "mixed.pdf"
    write_pdf(tiny_document, text_pdf)
    Image.new("RGB", (400, 560), "white").save(scan_pdf)

    scan = audit(scan_pdf)
    assert scan.exit_code == 2 and not scan.readable
    assert "扫描页" in scan.document["unreadable_pages"][0]["reason"]

    pdf = pypdfium2.PdfDocument(str(text_pdf))
    pdf.import_pages(pypdfium2.PdfDocument(str(scan_pdf)))
    pdf.save(str(mixed))
    document = read(mixed)
    last = document.pages[-1]
    assert not last.readable and last.number == len(document.pages)
    report = audit(mixed)
    assert report.readable and report.exit_code == 0
    assert any(f"第{last.number}页扫描页" in u.reason for u in report.unresolved)


def test_garbled_text_layer_is_unreadable(tmp_path):
    import audit_hostile as hostile

    path = tmp_path / "garbled.pdf"
    contents = [hostile.text_content(["Total 100.00"]), hostile.garbled_content(), b""]
    path.write_bytes(hostile.pdf_of_pages(contents))
    summary = read(path).summary()
    (unreadable,) = summary["unreadable_pages"]
    assert unreadable["page"] == 2 and "乱码" in unreadable["reason"]
    assert summary["blank_pages"] == [3]


def test_text_and_markdown_grids_and_missing_files(tmp_path):
    path = tmp_path / "a.md"
    path.write_text(
        "# 一、说明\n\n| 项目 | 决算数 |\n|---|---|\n| 合计 | 1.00 |\n", encoding="utf-8"
    )
    document = read(path)
    grid = next(b for b in document.blocks if isinstance(b, Grid))
    assert grid.rows == (("项目", "决算数"), ("合计", "1.00"))
    with pytest.raises(NotReadable, match="找不到文件"):
        read(tmp_path / "none.pdf")
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(NotReadable, match="不是 PDF"):
        read(tmp_path / "x.xlsx")
    (tmp_path / "bad.pdf").write_bytes(b"not a pdf")
    with pytest.raises(NotReadable):
        read(tmp_path / "bad.pdf")


def test_many_files_in_worker_processes_with_a_summary(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(
        "2020 年本年支出合计 100.00 万元，其中：基本支出 60.00 万元；项目支出 40.00 万元。", "utf-8"
    )
    bad = tmp_path / "bad.txt"
    bad.write_text(
        "2020 年本年支出合计 100.00 万元，其中：基本支出 60.00 万元；项目支出 41.00 万元。", "utf-8"
    )
    _documents, summary = read_many([good, bad, tmp_path / "missing.txt"], workers=2)
    assert summary["files"] == 3 and summary["read"] == 2 and len(summary["failed"]) == 1
    reports, summary = audit_many([good, bad], workers=2)
    assert [r.exit_code for r in reports] == [0, 1]
    assert summary["with_certain_findings"] == 1


# ---- the reference case -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference():
    if not REFERENCE.exists():
        pytest.skip("shared/reference is not present")
    return audit(REFERENCE)


def test_reference_items_do_not_add_up_to_the_total_or_the_class(reference):
    (total,) = found(reference, "text-parts-sum", CERTAIN)
    assert total.expected == "5686.09万元" and total.actual == "5581.36万元"
    assert total.difference == "-104.73万元"
    assert len(total.evidence) == 14 and all(e.place.line for e in total.evidence)
    (klass,) = found(reference, "text-items-class", CERTAIN)
    assert (klass.expected, klass.actual) == ("5499.50万元", "5394.77万元")


def test_reference_same_quantity_stated_differently(reference):
    messages = [f.message for f in found(reference, "text-same-quantity", CERTAIN)]
    assert any("失败退回" in m and "4人次" in m and "3人次" in m for m in messages)
    assert any("23939" in m and "23929" in m for m in messages)


def test_reference_numbering_symbols_residue_and_contents(reference):
    jumps = [(f.expected, f.actual) for f in found(reference, "text-numbering", CERTAIN)]
    assert ("24.", "34.") in jumps and ("2.", "3.") in jumps and ("4.", "3.") in jumps
    (stray,) = found(reference, "text-stray-symbol", CERTAIN)
    assert stray.actual == "0万元%"
    residue = " ".join(f.actual for f in found(reference, "text-template-residue"))
    assert "（可用表格形式反映）" in residue and "非涉密部门" in residue
    assert "说明项目绩效自评采用的组织实施步骤及方法" in residue
    assert found(reference, "text-toc-order", CERTAIN)
    (duplicate,) = found(reference, "text-list-duplicate", CERTAIN)
    assert duplicate.actual == "培训费、公务接待费"


def test_reference_claims_against_counts_and_other_projects(reference):
    claims = found(reference, "text-rate-claim", CERTAIN)
    assert any("0.039%" in f.message and "644" in f.message for f in claims)
    assert any("0.167%" in f.message for f in claims)
    beneficiaries = found(reference, "text-beneficiary", SUSPECTED)
    assert any("建国初期老干部" in f.message and "破产改制" in f.message for f in beneficiaries)
    per_capita = found(reference, "perf-per-capita", CERTAIN)
    assert {f.expected for f in per_capita} == {"1.67", "1.46"}
    (conflict,) = found(reference, "text-completion-conflict", SUSPECTED)
    assert "100%" in conflict.message and "94.53%" in conflict.message


def test_reference_rounding_explains_042_percent_so_it_is_not_a_finding(reference):
    assert not found(reference, "text-yoy-rate")
    explained = " ".join(reference.document["explained_by_rounding"])
    assert "0.42%" in explained and "66.04%" in explained
    # the 14 附表 are only titles: listed as not checked
    titles = [u for u in reference.unresolved if u.check == "附表"]
    assert len(titles) == 14
    assert reference.exit_code == 1


# ---- our own generated document -----------------------------------------------------------------


def clean_example(folder: Path) -> Path:
    """A copy of the example, which is internally consistent (its README lists each correction
    of the published document's own contradictions)."""
    shutil.copytree(EXAMPLE, folder)
    return folder


def example_document(folder: Path):
    from juesuan.document.assemble import assemble
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare

    dataset, _ = load(folder)
    prepared = prepare(dataset)
    document, _ = assemble(dataset, prepared.statements, prepared.facts, [])
    return document


@pytest.fixture(scope="module")
def example_docs(tmp_path_factory):
    if not EXAMPLE.exists():
        pytest.skip("examples/luzhou-2020 is not present")
    from juesuan.publish.docx import write_docx

    root = tmp_path_factory.mktemp("example")
    clean = example_document(clean_example(root / "clean"))
    verbatim = example_document(published_copy(root / "verbatim"))
    paths = {"clean": root / "clean.docx", "verbatim": root / "verbatim.docx"}
    write_docx(clean, paths["clean"])
    write_docx(verbatim, paths["verbatim"])
    return clean, paths


def test_our_generated_docx_has_no_findings_and_all_table_rules_run(example_docs):
    _, paths = example_docs
    report = audit(paths["clean"])
    assert report.findings == [], [f.message for f in report.findings]
    assert report.unresolved == []
    assert len(report.document["facts"]["tables_as_statements"]) == 14
    assert report.exit_code == 0


def test_our_generated_pdf_has_no_findings(example_docs, cjk_font, tmp_path):
    from juesuan.publish.pdf import write_pdf

    clean, _ = example_docs
    path = tmp_path / "clean.pdf"
    write_pdf(clean, path)
    report = audit(path)
    assert report.findings == [], [f.message for f in report.findings]
    assert len(report.document["facts"]["tables_as_statements"]) == 14


# Every bundled example in every format it builds in (the 普陀 unit's project spending has no
# economic codes, so sichuan-2020, whose 明细表 need them, refuses it: nothing to audit there).
OWN_BUILDS = (
    ("luzhou-2020", "sichuan-2020"),
    ("luzhou-2020", "national-9"),
    ("luzhou-2020", "shanghai-2024"),
    ("shanghai-putuo-shgzb-2024", "national-9"),
    ("shanghai-putuo-shgzb-2024", "shanghai-2024"),
)


@pytest.fixture(scope="module", params=OWN_BUILDS, ids=lambda b: f"{b[0]}·{b[1]}")
def own_outputs(request, tmp_path_factory) -> dict[str, Path]:
    """The example's document written once as DOCX, PDF and HTML, the way `juesuan build` does."""
    from juesuan.document.assemble import assemble
    from juesuan.ledger.load import load
    from juesuan.publish.docx import write_docx
    from juesuan.publish.html import write_html
    from juesuan.publish.package import prepare
    from juesuan.publish.pdf import write_pdf
    from juesuan.rules.engine import FAIL

    example, format_name = request.param
    dataset, _ = load(ROOT / "examples" / example)
    prepared = prepare(dataset, format_name)
    assert not [o for o in prepared.outcomes if o.status == FAIL and o.tier == "FATAL"]
    document, _ = assemble(
        dataset, prepared.statements, prepared.facts, [], performance=prepared.performance
    )
    folder = tmp_path_factory.mktemp(f"{example}-{format_name}")
    paths = {}
    for suffix, writer in (("docx", write_docx), ("pdf", write_pdf), ("html", write_html)):
        paths[suffix] = folder / f"document.{suffix}"
        writer(document, paths[suffix])
    return paths


@pytest.mark.parametrize("suffix", ["docx", "pdf", "html"])
def test_our_own_outputs_have_no_findings_in_any_format(own_outputs, suffix):
    report = audit(own_outputs[suffix])
    assert report.readable
    assert report.findings == [], [f"{f.rule}: {f.message}" for f in report.findings]
    assert report.document["facts"]["items"] > 0  # the 类/款/项 sentences were read and checked


def test_the_verbatim_example_flags_only_the_texts_people_wrote(example_docs):
    _, paths = example_docs
    report = audit(paths["verbatim"])
    assert rules(report) == {
        "text-same-quantity",
        "text-rate-claim",
        "text-beneficiary",
        "perf-per-capita",  # the 绩效目标完成情况表 print the indicators as published
    }


# ---- each text check, both ways -----------------------------------------------------------------


def check(text: str):
    return audit_text(text)


CASES = [
    (
        "text-parts-sum",
        "2020 年本年支出合计 100.00 万元，其中：基本支出 60.00 万元；项目支出 41.00 万元。",
        "2020 年本年支出合计 100.00 万元，其中：基本支出 60.00 万元；项目支出 40.00 万元。",
    ),
    (
        "text-share",
        "2020 年本年支出合计 100.00 万元，其中：基本支出 60.00 万元，占 61.00%；项目支出 40.00 万元，占 40.00%。",
        "2020 年本年支出合计 100.00 万元，其中：基本支出 60.00 万元，占 60.00%；项目支出 40.00 万元，占 40.00%。",
    ),
    (
        "text-completion",
        "项目全年预算数 100 万元，执行数为 80 万元，完成预算的 85%。",
        "项目全年预算数 100 万元，执行数为 80 万元，完成预算的 80%。",
    ),
    (
        "text-per-capita",
        "用于发放 10 名人员的生活补贴，总支出金额 12.00 万元，年人均发放 1.30 万元。",
        "用于发放 10 名人员的生活补贴，总支出金额 12.00 万元，年人均发放 1.20 万元。",
    ),
    (
        "text-yoy-rate",
        "2020 年度收、支总计 100.00 万元。与 2019 年相比，收、支总计各减少 25.00 万元，同比下降 25.00%。",
        "2020 年度收、支总计 100.00 万元。与 2019 年相比，收、支总计各减少 25.00 万元，同比下降 20.00%。",
    ),
    (
        "text-yoy-direction",
        "机关运行经费支出 100.00 万元，比 2019 年减少 25.00 万元，增长 20.00%。",
        "机关运行经费支出 100.00 万元，比 2019 年减少 25.00 万元，下降 20.00%。",
    ),
    (
        "text-yoy-flat",
        "机关运行经费支出 100.00 万元，比 2019 年减少 25.00 万元，与上年持平。",
        "机关运行经费支出 100.00 万元，比 2019 年减少 25.00 万元，基本与上年持平。",
    ),
    (
        "text-same-quantity",
        "2020 年本年支出合计 100.00 万元。\n\n本年支出合计 101.00 万元。",
        "2020 年本年支出合计 100.00 万元。\n\n本年支出合计 100.00 万元。",
    ),
    (
        "text-numbering",
        "1. 甲。\n\n2. 乙。\n\n4. 丙。",
        "1. 甲。\n\n2. 乙。\n\n3. 丙。",
    ),
    (
        "text-toc-order",
        "目录\n\n第一部分 概况.....3\n\n第二部分 说明.....5\n\n第三部分 名词解释.....4",
        "目录\n\n第一部分 概况.....3\n\n第二部分 说明.....4\n\n第三部分 名词解释.....5",
    ),
    (
        "text-stray-symbol",
        "因公出国（境）费支出决算0万元%。",
        "因公出国（境）费支出决算0万元，占0%。",
    ),
    (
        "text-template-residue",
        "收入支出总计增加（减少）5.00 万元，主要原因：XXXXXXXX。（如持平作持平表述）",
        "收入支出总计增加 5.00 万元，主要原因是人员增加。",
    ),
    (
        "text-rate-claim",
        "为 100 名人员按月发放生活补贴，全年失败退回 2 人次，失败退回率小于 0.01%。",
        "为 100 名人员按月发放生活补贴，全年失败退回 2 人次，失败退回率小于 1%。",
    ),
    ("text-list-count", "我局设有 3 个科室：甲科、乙科。", "我局设有 2 个科室：甲科、乙科。"),
    (
        "text-list-duplicate",
        "公用经费 10.00 万元，主要包括：办公费、水费、办公费。",
        "公用经费 10.00 万元，主要包括：办公费、水费、电费。",
    ),
    (
        "text-item-path",
        "某局2020年度部门决算\n\n"
        "1. 社会保障和就业支出（类）行政运行（款）社会保险经办机构（项）：指反映社会保险经办机构的支出。",
        "某局2020年度部门决算\n\n"
        "1. 社会保障和就业支出（类）人力资源和社会保障管理事务（款）社会保险经办机构（项）：指反映社会保险经办机构的支出。",
    ),
]

ITEMS = (
    "2020 年一般公共预算财政拨款支出 100.00 万元，主要用于以下方面：社会保障和就业（类）支出 90.00 万元，"
    "占 90%；卫生健康（类）支出 10.00 万元，占 10%。\n\n"
    "2020年一般公共预算支出决算数为100.00万元。其中：\n\n"
    "1. 社会保障和就业支出（类）行政事业单位养老支出（款）行政单位离退休（项）：支出决算为{a}万元。\n\n"
    "2. 社会保障和就业支出（类）行政事业单位养老支出（款）事业单位离退休（项）：支出决算为40.00万元。\n\n"
    "3. 卫生健康支出（类）行政事业单位医疗（款）行政单位医疗（项）：支出决算为10.00万元。"
)

PROJECTS = (
    "甲老干部补贴项目 2020 年绩效评价报告\n\n一、项目概况\n\n"
    "该项目是我局发放 10 名老干部的补贴。{clause}\n\n"
    "乙教师补贴项目 2020 年绩效评价报告\n\n一、项目概况\n\n该项目是我局发放 20 名教师的补贴。"
)

MEASURES = (
    "(1) 甲老干部补贴项目绩效目标完成情况综述。\n\n全年共发生失败退回 3 人次。\n\n"
    "全年共因账号户名错误等原因发放失败退回 {n} 人次。"
)


@pytest.mark.parametrize(("rule", "wrong", "right"), CASES, ids=[c[0] for c in CASES])
def test_text_check_finds_the_error_and_passes_the_correct_text(rule, wrong, right):
    assert found(check(wrong), rule), check(wrong).findings
    assert not found(check(right), rule), [f.message for f in check(right).findings]


def test_items_against_their_class_both_ways():
    assert found(check(ITEMS.format(a="41.00")), "text-items-class", CERTAIN)
    assert found(check(ITEMS.format(a="41.00")), "text-parts-sum", CERTAIN)
    assert not check(ITEMS.format(a="50.00")).findings


def test_a_report_naming_another_projects_beneficiaries_both_ways():
    wrong = check(PROJECTS.format(clause="用于发放 10 名乙教师的生活补贴。"))
    assert found(wrong, "text-beneficiary", SUSPECTED)
    assert not check(PROJECTS.format(clause="用于发放 10 名老干部的补贴。")).findings


def test_a_projects_measure_stated_twice_both_ways():
    assert found(check(MEASURES.format(n=4)), "text-same-quantity", CERTAIN)
    assert not check(MEASURES.format(n=3)).findings


def test_rounding_aware_yoy_is_never_certain_when_rounding_explains_it():
    text = "机关运行经费支出 139.40 万元，比 2019 年减少 0.58 万元，下降 0.42%。"
    report = check(text)
    assert not report.findings
    assert "0.42%" in report.document["explained_by_rounding"][0]
    assert found(check(text.replace("0.42%", "0.45%")), "text-yoy-rate", CERTAIN)


# ---- proof before 确定: a reading of the printed figures that explains a gap makes it 疑似 ----------

SHARE = "2024 年本年支出合计 307.82 万元，其中：住房保障支出 29.42 万元，占本年支出合计的 {p}。"
YOY = "机关运行经费支出 6100.00 万元，比 2019 年减少 300.00 万元，下降 {p}。"


@pytest.mark.parametrize(
    ("template", "rule", "truncated", "wrong"),
    [(SHARE, "text-share", "9.55%", "9.75%"), (YOY, "text-yoy-rate", "4.68%", "4.78%")],
    ids=["share", "yoy"],
)
def test_truncation_makes_a_share_and_a_rate_alike_only_suspected(template, rule, truncated, wrong):
    # 29.42 / 307.82 = 9.5575…% and 300 / 6400 = 4.6875%: cut off, not rounded
    (finding,) = found(check(template.format(p=truncated)), rule)
    assert finding.severity == SUSPECTED and "截尾" in finding.message
    assert found(check(template.format(p=wrong)), rule, CERTAIN)


def test_a_share_another_stated_denominator_explains_is_suspected():
    text = (
        "2024 年本年支出合计 200.00 万元，年初预算 250.00 万元。"
        "其中：住房保障支出 50.00 万元，占本年支出合计的 {p}。"
    )
    (finding,) = found(check(text.format(p="20.00%")), "text-share")  # 50 / 250
    assert finding.severity == SUSPECTED and "250.00" in finding.message
    assert found(check(text.format(p="22.00%")), "text-share", CERTAIN)


def test_a_page_number_glued_to_a_percentage_is_not_the_percentage():
    (finding,) = found(check(SHARE.format(p="129.56%")), "text-share")  # page 12 + 9.56%
    assert finding.severity == SUSPECTED and "页码" in finding.message


def test_numbering_is_not_checked_across_table_cells_nor_a_wrapped_figure():
    two_columns = (
        "一、收入\n\n六、其他收入    0.00    八、社会保障和就业支出    12.00\n\n"
        "七、附属单位上缴收入    0.00    九、卫生健康支出    30.00\n\n十、其他说明。"
    )
    assert not found(check(two_columns), "text-numbering")
    wrapped = "1、甲。\n\n2、本年支出决算为\n\n5、6 月份的支出。\n\n3、丙。"
    assert not found(check(wrapped), "text-numbering")
    assert found(check("1、甲。\n\n2、乙。\n\n5、丙。"), "text-numbering", CERTAIN)


def test_items_short_of_their_class_are_proven_only_when_the_list_is_complete():
    # the items are not the parts of a complete list: one may simply be left out of the text
    text = (
        "社会保障和就业（类）支出 90.00 万元。\n\n"
        "社会保障和就业支出（类）行政事业单位养老支出（款）行政单位离退休（项）支出 {a} 万元。"
    )
    (finding,) = found(check(text.format(a="40.00")), "text-items-class")
    assert finding.severity == SUSPECTED
    assert found(check(text.format(a="95.00")), "text-items-class", CERTAIN)
    assert found(check(ITEMS.format(a="41.00")), "text-items-class", CERTAIN)  # a complete list


def test_text_tables_run_the_projects_table_rules_and_text_against_tables():
    rows = [
        ("一、一般公共预算财政拨款收入", "100.00", "八、社会保障和就业支出", "100.00"),
        ("本年收入合计", "100.00", "本年支出合计", "100.00"),
        ("使用非财政拨款结余", "0.00", "结余分配", "0.00"),
        ("年初结转和结余", "0.00", "年末结转和结余", "0.00"),
        ("总计", "100.00", "总计", "{total}"),
    ]
    grid = "\n".join("\t".join(r) for r in [("项目", "决算数", "项目", "决算数"), *rows])
    text = "2020 年本年支出合计 {said} 万元。\n\n一、收入支出决算总表\n\n单位：万元\n\n" + grid
    good = check(text.format(said="100.00", total="100.00"))
    assert good.document["facts"]["tables_as_statements"] == ["summary"]
    assert not good.findings
    bad = check(text.format(said="101.00", total="101.00"))
    assert found(bad, "table:summary-balance", CERTAIN)
    assert found(bad, "table:summary-spending-grand-total", CERTAIN)
    mismatch = found(bad, "text-vs-table", CERTAIN)
    assert mismatch and mismatch[0].expected == "100.00万元"


def test_performance_table_per_capita_both_ways():
    table = (
        "甲补贴项目绩效目标完成情况表\n\n"
        "\t一级指标\t二级指标\t三级指标\t预期指标值\t实际完成指标值\n"
        "\t项目完成指标\t数量指标\t发放人数\t100\t100\n"
        "\t项目完成指标\t数量指标\t补贴发放金额\t200\t150\n"
        "\t项目完成指标\t成本指标\t人均补贴成本\t2 万元/人\t{actual} 万元/人\n"
    )
    assert not check(table.format(actual="1.5")).findings
    (finding,) = found(check(table.format(actual="1.7")), "perf-per-capita", CERTAIN)
    assert finding.expected == "1.50" and finding.actual == "1.7 万元/人"


def test_findings_carry_evidence_for_every_number():
    (finding,) = found(check(CASES[1][1]), "text-share")
    assert [e.value for e in finding.evidence] == ["61.00%", "60.00万元", "100.00万元"]
    assert all(str(e.place) == "第1行" and e.snippet for e in finding.evidence)
    assert finding.expected == "60.00%" and finding.difference == "1.00 个百分点"
    assert json.dumps(finding.as_dict(), ensure_ascii=False)


# ---- the command ---------------------------------------------------------------------------------


def test_audit_command_exit_codes_and_outputs(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text(CASES[0][2], "utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_text(CASES[0][1], "utf-8")

    assert main(["audit", str(good)]) == 0
    assert main(["audit", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "合计与所列分项不符" in out and "第1行" in out

    assert main(["audit", str(bad), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"document", "findings", "unresolved"}
    assert data["findings"][0]["severity"] == CERTAIN
    assert Decimal(data["findings"][0]["difference"].removesuffix("万元")) == Decimal("1.00")

    html = tmp_path / "report.html"
    assert main(["audit", str(good), str(bad), "--json", "--html", str(html)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert len(data["reports"]) == 2 and data["summary"]["files"] == 2
    page = html.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "合计与所列分项不符" in page
    assert "<link" not in page and "src=" not in page

    assert main(["audit", str(tmp_path / "missing.pdf")]) == 2
    assert main(["audit", str(tmp_path)]) == 2
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    assert main(["audit", str(tmp_path / "data.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "找不到文件" in err and "不是 PDF" in err and "Traceback" not in err

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 garbage")
    assert main(["audit", str(broken)]) == 2
    assert "无法" in capsys.readouterr().err


def test_the_json_report_is_the_same_in_every_process(tmp_path):
    """Sets of strings iterate in an order of the process's string hashes; nothing in the report
    may follow it. The first sentence with figures is a total, a share and a change at once."""
    import os
    import subprocess
    import sys

    document = tmp_path / "说明.txt"
    document.write_text(
        "2020年度部门决算情况说明\n\n一、收入支出决算总体情况说明\n"
        "2020年度支出总计1000.00万元，其中基本支出500.00万元，占支出总计的50.0%，"
        "比上年增加100.00万元，增长25.0%。\n",
        "utf-8",
    )
    reports = set()
    command = "import sys; from juesuan.cli import main; sys.exit(main(sys.argv[1:]))"
    for seed in range(6):
        done = subprocess.run(
            [sys.executable, "-c", command, "audit", str(document), "--json"],
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr.decode("utf-8", "replace")
        reports.add(done.stdout)
    assert len(reports) == 1
    data = json.loads(reports.pop())
    assert list(data["document"]["facts"]["sentences_by_kind"]) == ["同比", "占比", "合计"]


# ---- HTML ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_html(example_docs, tmp_path_factory) -> Path:
    """The clean example as the HTML disclosure `juesuan build` writes (no font needed)."""
    from juesuan.publish.html import write_html

    clean, _ = example_docs
    path = tmp_path_factory.mktemp("html") / "clean.html"
    write_html(clean, path)
    return path


def test_reads_html_blocks_in_order_and_tables_with_colspan_rowspan(tmp_path):
    path = tmp_path / "small.htm"
    path.write_text(
        "<!DOCTYPE html><html><head><title>标题不算</title><style>p{color:red}</style></head>"
        "<body><h2>一、收入支出决算总体情况说明</h2>"
        '<p>2020 年度收、支总计 <span class="ref">100.00</span> 万元&#xff0c;A&amp;B。</p>'
        "<script>var x = '不读';</script><svg><text>图中文字</text></svg>"
        '<img src="data:image/png;base64,AAAA" alt="图">'
        '<p class="scroll-hint" aria-hidden="true">表格较宽</p>'
        '<table><thead><tr><th colspan="2">项目</th><th>决算数</th></tr></thead><tbody>'
        '<tr><td rowspan="2">合计</td><td>甲</td><td>60.00</td></tr>'
        "<tr><td>乙</td><td>40.00</td></tr></tbody></table><p>完</p></body></html>",
        encoding="utf-8",
    )
    document = read(path)
    assert document.kind == "html" and document.readable
    blocks = document.blocks
    assert [b.text for b in blocks if isinstance(b, Line)] == [
        "一、收入支出决算总体情况说明",
        "2020 年度收、支总计 100.00 万元，A&B。",
        "完",
    ]
    (grid,) = [b for b in blocks if isinstance(b, Grid)]
    assert grid.rows == (
        ("项目", None, "决算数"),  # merged across: text once
        ("合计", "甲", "60.00"),
        (None, "乙", "40.00"),  # merged down: text once
    )
    assert blocks.index(grid) == 2 and str(grid.place) == "第3段"


def test_our_generated_html_has_no_findings_and_the_docx_tables(example_docs, example_html):
    _, paths = example_docs
    report = audit(example_html)
    assert report.document["kind"] == "html"
    assert report.findings == [], [f.message for f in report.findings]
    assert report.unresolved == []
    tables = report.document["facts"]["tables_as_statements"]
    assert tables == audit(paths["clean"]).document["facts"]["tables_as_statements"]
    assert len(tables) == 14
    assert report.exit_code == 0


def test_a_changed_table_amount_in_the_html_is_a_certain_finding(example_html, tmp_path):
    text = example_html.read_text(encoding="utf-8")
    start = text.index("一、收入支出决算总表</h")
    cell = '<td class="num">5,686.09</td>'
    at = text.index(cell, start)
    path = tmp_path / "changed.html"
    path.write_text(text[:at] + '<td class="num">5,696.09</td>' + text[at + len(cell) :])
    report = audit(path)
    certain = [f for f in report.findings if f.severity == CERTAIN]
    assert certain and all(f.rule.startswith("table:") for f in certain)
    assert report.exit_code == 1

"""Reading PDFs with pdfium: sentences keep their figures, page numbers stay out of the text, our
own PDF reads back as written. The real-document sentences were checked against the rendered
pages (pdftoppm -r 80)."""

from __future__ import annotations

import gc
import re

import pytest

import audit_hostile as hostile
from juesuan.audit.pdfpage import read_pages
from juesuan.audit.read import Grid, Line, NotReadable, read
from shared_material import REAL_DOCUMENTS

from conftest import write_dataset


def real(name: str):
    path = REAL_DOCUMENTS / name
    if not path.exists():
        pytest.skip(f"{name} is not in {REAL_DOCUMENTS}")
    return path


def lines_of(document, page: int) -> list[str]:
    return [b.text for b in document.pages[page - 1].blocks if isinstance(b, Line)]


def test_figures_drawn_after_their_sentence_are_read_in_place(tmp_path):
    # as Word exports: the words first, then the figures in a smaller font in the gaps left for
    # them; their boxes' tops differ from the words', their baseline is the same
    content = (
        b"BT /F1 12 Tf 1 0 0 1 72 700 Tm (Budget was) Tj 1 0 0 1 200 700 Tm (million, spending) Tj"
        b" /F1 9 Tf 1 0 0 1 150 700 Tm (0.95) Tj 1 0 0 1 320 700 Tm (0.00) Tj ET"
    )
    path = tmp_path / "word.pdf"
    path.write_bytes(hostile.pdf_of_pages([content]))
    assert lines_of(read(path), 1) == ["Budget was 0.95 million, spending 0.00"]


def test_a_real_word_export_keeps_each_sentences_figures():
    document = read(real("shanghai-putuo-2024-final-accounts-social-work-dept.pdf"))
    lines = lines_of(document, 18)
    assert "一般公共预算财政拨款支出年初预算为 0 万元，全年预算为" in lines
    assert "321.02万元，支出决算为307.82万元，完成年初预算的95.89%。" in lines
    assert "一般公共服务支出（类）264.87 万元，占86.05%；社会保障和就业" in lines
    assert lines[0] == "100.00%。与2023年度相比，一般公共预算财政拨款支出增加307.82"


def test_page_numbers_are_kept_out_of_the_text():
    path = real("jiangsu-2017-budget-party-office-text.pdf")
    pages = read_pages(path)
    assert [[m.text for m in p.margins] for p in pages[:5]] == [[f"— {n} —"] for n in range(1, 6)]
    lines = lines_of(read(path), 4)
    assert lines[0] == "向强化决策督查，抓好中央和省委重大决策、重要工作部署"
    assert lines[-1] == "行测算，合理预计执收计划数。"
    assert "干部处、机关后勤服务中心、机关文印中心等 20 个处室和" in lines
    assert not any(re.search(r"—\s*4\s*—", line) for line in lines)


def test_a_page_turned_by_rotate_reads_left_to_right():
    page = read_pages(real("jiangsu-2018-budget-party-office-tables.pdf"))[10]
    assert (page.width, page.height) == (1191, 842)
    assert page.lines[0].text == "“三公”经费、会议费、培训费支出预算表"
    assert page.lines[1].text == "部门：中共江苏省委办公厅 单位：万元"


def test_a_ruled_table_continued_from_the_previous_page_keeps_its_first_row():
    # page 12 opens mid-table: no line above its first row, the column lines end there
    document = read(real("jiangsu-2017-budget-high-court.pdf"))
    grid = next(b for b in document.pages[11].blocks if isinstance(b, Grid))
    assert [c for c in grid.rows[0] if c] == [
        "二、财政专户管理资金",
        "四、公共安全支出",
        "23,513.11",
    ]
    assert [c for c in grid.rows[-1] if c] == ["收入合计", "28,849.38", "支出合计", "28,849.38"]


def test_our_own_pdf_reads_back_as_written(tmp_path):
    from juesuan.document.model import Document, Heading, Paragraph, TableBlock
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare
    from juesuan.publish.pdf import write_pdf

    dataset, _ = load(write_dataset(tmp_path / "tiny"))
    summary = prepare(dataset).statements.table("summary")
    sentence = (
        "2020 年本年支出合计 0.15 万元，其中：基本支出 0.10 万元，占 66.67%；"
        "项目支出 0.05 万元，占 33.33%。"
    )
    blocks = (
        Heading(1, "第二部分 2020年度部门决算情况说明", "p2"),
        Paragraph.plain(sentence * 3),
        TableBlock(summary),
    )
    path = tmp_path / "ours.pdf"
    write_pdf(Document("测试单位2020年度部门决算", "测试单位", 2020, blocks), path)
    document = read(path)
    lines = lines_of(document, 2)
    assert lines[0] == "第二部分 2020年度部门决算情况说明"
    # the paragraph's lines, joined, are the sentence three times; a break may take a space
    assert "".join(lines[1:]).replace(" ", "") == (sentence * 3).replace(" ", "")
    assert lines[1].startswith(
        "2020 年本年支出合计 0.15 万元，其中：基本支出 0.10 万元，占 66.67%；"
    )
    grid = next(b for b in document.blocks if isinstance(b, Grid))
    # the header's two lines joined into one row of column titles
    assert grid.rows[0] == ("收入/项目", "收入/决算数", "支出/项目", "支出/决算数")
    assert ("一、一般公共预算财政拨款收入", "0.15", "一、一般公共服务支出", "0.00") in grid.rows
    assert grid.rows[-1] == ("总计", "0.15", "总计", "0.15")


def test_the_garbage_collector_runs_again_after_a_pdf_is_read_or_refused(tmp_path):
    # reading a PDF pauses it (its characters are in no reference cycle)
    good, refused = tmp_path / "good.pdf", tmp_path / "runs.pdf"
    good.write_bytes(hostile.pdf_of_pages([hostile.text_content(["Total 100.00"])]))
    refused.write_bytes(hostile.pdf_of_pages([hostile.many_runs(30_000)]))
    assert lines_of(read(good), 1) == ["Total 100.00"]
    assert gc.isenabled()
    with pytest.raises(NotReadable, match="文字段数"):
        read(refused)
    assert gc.isenabled()

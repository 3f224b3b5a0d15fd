"""Paragraphs of a PDF page: a line starts one when the space above it is wider than the page's
usual line spacing, so a page set with wide line spacing reads as paragraphs, not one per line.
The real-document paragraphs were checked against the rendered pages (pdftoppm -r 80)."""

from __future__ import annotations

import pytest

from juesuan.audit.model import build
from juesuan.audit.pdfpage import TextLine, paragraph_gaps
from juesuan.audit.read import read
from shared_material import REAL_DOCUMENTS

SIZE = 15.0


def lines_spaced(*gaps: float) -> list[TextLine]:
    """Lines of character height SIZE, each the given multiple of SIZE below the one before."""
    lines, top = [], 100.0
    for gap in (0.0, *gaps):
        top += gap * SIZE
        lines.append(TextLine("字", 72.0, top, 500.0, top + SIZE, top + SIZE * 0.9, SIZE, ()))
        top += SIZE
    return lines


def test_a_widely_spaced_page_breaks_only_where_paragraphs_have_extra_space():
    # putuo-2024: lines 1.07 of the height apart, paragraphs 3.1
    gaps = paragraph_gaps(lines_spaced(1.07, 1.07, 1.07, 3.1, 1.07, 1.07, 1.07), SIZE)
    assert gaps == [False, False, False, False, True, False, False, False]


def test_a_tightly_spaced_page_keeps_a_paragraph_space_of_one_line():
    gaps = paragraph_gaps(lines_spaced(0.2, 0.22, 1.1, 0.2, 0.22, 0.2, 1.0), SIZE)
    assert gaps == [False, False, False, True, False, False, False, True]


def test_a_page_of_a_few_lines_compares_against_the_character_height():
    # a table's title and its 单位 line: too few lines to say what the usual spacing is
    assert paragraph_gaps(lines_spaced(1.25), SIZE) == [False, True]
    assert paragraph_gaps(lines_spaced(0.5), SIZE) == [False, False]
    assert paragraph_gaps([], SIZE) == []


def test_a_real_widely_spaced_word_export_reads_as_its_paragraphs():
    path = REAL_DOCUMENTS / "shanghai-putuo-2024-final-accounts-social-work-dept.pdf"
    if not path.exists():
        pytest.skip(f"{path.name} is not in {REAL_DOCUMENTS}")
    paragraphs = [p.text for p in build(read(path)).paragraphs]
    assert "本年收入合计307.82万元，其中：财政拨款收入307.82万元，占100.00%。" in paragraphs
    assert (
        "一般公共预算财政拨款支出307.82万元，主要用于以下方面：一般公共服务支出（类）264.87 万元，"
        "占86.05%；社会保障和就业支出（类）10.82万元，占3.52%；卫生健康支出（类）2.71万元，"
        "占0.88%；住房保障支出（类）29.42万元，占9.55%。"
    ) in paragraphs
    # page 4's heading and its body stay apart, and the body is one paragraph
    assert "二、部门决算单位构成" in paragraphs
    assert sum(p.startswith("中共上海市普陀区委社会工作部负责贯彻落实") for p in paragraphs) == 1

"""The 单位构成 list is a short table read as part of the text (Putuo 2024 prints it at the
body's size under its sentence), not a statement table in small type."""

import re
from pathlib import Path

import pytest
from docx import Document as WordDocument

from juesuan.document.model import FormBlock

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shanghai-putuo-shgzb-2024"


@pytest.fixture(scope="module")
def document():
    from juesuan.document.assemble import assemble
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare

    dataset, _issues = load(EXAMPLE)
    prepared = prepare(dataset)
    built, _writer = assemble(dataset, prepared.statements, prepared.facts, [])
    return built


def test_the_units_form_is_read_as_part_of_the_text(document):
    (units,) = [b for b in document.blocks if isinstance(b, FormBlock) and b.layout.id == "units"]
    assert units.in_text


def test_pdf_sets_the_units_form_at_the_bodys_size_under_its_sentence(document):
    from juesuan.publish.pdf import BODY_SIZE, typst_source

    source = typst_source(document)
    form = source[source.index("编制范围的单位包括") : source.index('[#"单位名称"]')]
    assert f"set text(size: {BODY_SIZE}pt" in form
    assert '[#""]' not in form  # no empty title line between the sentence and the table


def test_docx_sets_the_units_form_larger_than_a_statement_table(document, tmp_path):
    from juesuan.publish.docx import TABLE_MAX_PT, write_docx

    path = tmp_path / "决算.docx"
    write_docx(document, path)
    word = WordDocument(str(path))
    (table,) = [t for t in word.tables if t.rows[0].cells[0].text == "序号"]
    sizes = {int(s) / 2 for s in re.findall(r'<w:sz w:val="(\d+)"/>', table._tbl.xml)}
    assert sizes and min(sizes) > TABLE_MAX_PT
    # the sentence that introduces it is right above it, without an empty title paragraph
    body = list(word.element.body)
    above = body[body.index(table._tbl) - 1]
    assert "编制范围的单位包括" in "".join(above.itertext())


def test_html_sets_the_units_form_at_the_bodys_size(document):
    from juesuan.publish.html import html_page

    page = html_page(document)
    assert re.search(r'<section class="statement[^"]* in-text"[^>]*table-units', page)
    assert ".in-text table { font-size: 1rem; }" in page

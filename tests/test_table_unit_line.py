"""The lines under a statement table's title, per format: the Shanghai 2024 template and the
Putuo 2024 disclosure print only "单位：万元" (no 编制单位, no year line); sichuan-2020 prints
编制单位, year and 单位."""

from pathlib import Path

import pytest
from docx import Document as WordDocument

from juesuan.document.assemble import _tables
from juesuan.document.model import TableBlock
from juesuan.publish.table_layout import block_layout
from juesuan.statements.options import FormatError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _document(name):
    from juesuan.document.assemble import assemble
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare

    dataset, _issues = load(EXAMPLES / name)
    prepared = prepare(dataset)
    return assemble(dataset, prepared.statements, prepared.facts, [])[0]


@pytest.fixture(scope="module")
def putuo():
    return _document("shanghai-putuo-shgzb-2024")


def test_shanghai_tables_carry_only_the_unit_line(putuo, tmp_path):
    from juesuan.publish.docx import write_docx
    from juesuan.publish.html import html_page
    from juesuan.publish.pdf import typst_source

    tables = [b for b in putuo.blocks if isinstance(b, TableBlock)]
    assert len(tables) == 9 and all(b.unit_only for b in tables)
    grid = block_layout(tables[0], putuo.unit, putuo.year)
    assert (grid.org_text, grid.year_text, grid.unit_text) == ("", "", "单位：万元")
    source = typst_source(putuo)
    assert "编制单位" not in source and source.count('[#"单位：万元"]') == 9
    assert "编制单位" not in html_page(putuo)
    write_docx(putuo, tmp_path / "决算.docx")
    texts = [p.text for p in WordDocument(str(tmp_path / "决算.docx")).paragraphs]
    assert not any("编制单位" in t for t in texts)
    assert sum(t.strip() == "单位：万元" for t in texts) == 9


def test_sichuan_tables_keep_the_unit_name_and_year():
    luzhou = _document("luzhou-2020")
    tables = [b for b in luzhou.blocks if isinstance(b, TableBlock)]
    assert tables and not any(b.unit_only for b in tables)
    grid = block_layout(tables[0], luzhou.unit, luzhou.year)
    assert grid.org_text == "编制单位：泸州市社会保险事业管理局" and grid.year_text == "2020年度"


def test_an_unknown_tables_option_is_a_located_error():
    with pytest.raises(FormatError, match=r"formats/x/document\.j2：@tables 不认识的选项 bold"):
        _tables([], "p2 bold", "x")

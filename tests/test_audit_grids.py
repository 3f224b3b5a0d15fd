"""Tables read into grids: held cell by cell to golden grids written by hand from real documents
(tests/golden/grids, see its README), and to our own documents' tables read back."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from juesuan.audit.grids import TableGrid, document_tables, figure, page_tables
from juesuan.audit.pdfpage import Char, PdfPage, Rule, read_pages, text_lines
from shared_material import REAL_DOCUMENTS

GOLDEN = Path(__file__).parent / "golden" / "grids"
DOCUMENTS = REAL_DOCUMENTS
GOLDEN_FILES = sorted(GOLDEN.glob("*.json"))


@cache
def _tables(name: str) -> list[TableGrid]:
    return document_tables(read_pages(DOCUMENTS / name))


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden_grid(path: Path) -> None:
    golden = json.loads(path.read_text("utf-8"))
    if not (DOCUMENTS / golden["document"]).exists():
        pytest.skip(f"{golden['document']} is not in {DOCUMENTS}")
    found = [
        t
        for t in _tables(golden["document"])
        if t.pages[0] == golden["pages"][0] and t.title == golden["title"]
    ]
    assert len(found) == 1, [(t.pages, t.title) for t in _tables(golden["document"])]
    table = found[0]
    assert table.pages == golden["pages"]
    assert table.unit == golden["unit"]
    assert table.columns == golden["columns"]
    for index, (row, expected) in enumerate(zip(table.rows, golden["rows"], strict=False)):
        assert row == expected, f"row {index}"
    assert len(table.rows) == len(golden["rows"])
    assert table.note == golden["note"]


def test_at_least_ten_documents_have_golden_grids() -> None:
    documents = {json.loads(p.read_text("utf-8"))["document"] for p in GOLDEN_FILES}
    assert len(documents) >= 10


def test_sides_split_income_and_spending() -> None:
    golden = json.loads((GOLDEN / "jiangsu-2017-budget-npc-office-p12.json").read_text("utf-8"))
    table = TableGrid(golden["title"], "万元", golden["columns"], golden["rows"], [12])
    income, spending = table.sides()
    assert income.columns == ["项目名称", "金额"]
    assert spending.columns == ["支出用途/项目名称", "支出用途/金额"]
    assert [r[0] for r in income.rows] == ["一、一般公共预算", "二、政府性基金预算", "收入合计"]
    assert spending.rows[-1] == ["支出合计", "13,649.07"]


def test_amounts_scaled_by_the_unit_line() -> None:
    table = TableGrid("表", "万元", ["金额"], [["1,234.56"]], [1])
    assert table.amount("1,234.56") == Decimal("12345600.00")
    assert TableGrid("表", "元", ["金额"], [], [1]).amount("17,280.00") == Decimal("17280.00")
    assert figure("—") == Decimal(0)
    assert figure("合计") is None and figure("") is None


# ---- damaged tables: never a traceback ----------------------------------------------------------


def _page(chars: list[Char], rules: list[Rule]) -> PdfPage:
    return PdfPage(1, 600, 800, tuple(chars), tuple(rules), (), tuple(text_lines(chars)))


def _char(text: str, x: float, y: float) -> Char:
    return Char(text, x, y, x + 10, y + 10, y + 9, 10)


def test_a_frame_with_no_text_is_an_empty_grid() -> None:
    rules = [
        Rule(10, 10, 200, 10),
        Rule(10, 50, 200, 50),
        Rule(10, 10, 10, 50),
        Rule(200, 10, 200, 50),
    ]
    (table,) = page_tables(_page([], rules))
    assert table.rows == [] and table.columns == [""]


def test_broken_rules_and_stray_text_do_not_raise() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    coordinate = st.floats(0, 600, allow_nan=False)
    rule = st.builds(
        lambda a, b, c, horizontal: (
            Rule(min(a, b), c, max(a, b), c) if horizontal else Rule(c, min(a, b), c, max(a, b))
        ),
        coordinate,
        coordinate,
        coordinate,
        st.booleans(),
    )
    char = st.builds(_char, st.sampled_from(list("合计12,.元表注单位：万")), coordinate, coordinate)

    @settings(max_examples=200, deadline=None)
    @given(st.lists(char, max_size=40), st.lists(rule, max_size=30))
    def check(chars, rules):
        for table in page_tables(_page(chars, rules)):
            width = len(table.columns)
            assert all(len(row) == width for row in table.rows)

    check()


# ---- a table drawn without lines: read by column alignment ----------------------------------

_UNRULED = """
#set page(paper: "a4", margin: 2cm)
#set text(font: "Juesuan Noto Serif SC", size: 10pt)
#align(center)[三、支出决算表]
#align(right)[单位：万元]
#table(columns: (auto, 9em, auto, auto, auto), stroke: none,
  align: (left, left, right, right, right),
  [科目编码], [科目名称], [本年支出合计], [基本支出], [项目支出],
  [], [合计], [1,356.45], [1,000.00], [356.45],
  [208], [社会保障和就业支出], [1,300.00], [1,000.00], [300.00],
  [20801], [人力资源和社会保障管理事务], [1,000.00], [800.00], [200.00],
  [221], [住房保障支出], [56.45], [0.00], [56.45],
)
注：本表反映部门本年度各项支出情况。
"""


def test_a_table_without_ruling_lines_is_read_by_alignment(tmp_path: Path) -> None:
    import typst

    from juesuan.fonts import BUNDLED_DIR

    path = tmp_path / "unruled.pdf"
    # the bundled font only, so that the page is the same on every machine
    typst.compile(
        _UNRULED.encode("utf-8"),
        output=str(path),
        font_paths=[str(BUNDLED_DIR)],
        ignore_system_fonts=True,
    )
    pages = read_pages(path)
    assert not pages[0].rules
    (table,) = document_tables(pages)
    assert not table.ruled
    assert (table.title, table.unit) == ("三、支出决算表", "万元")
    assert table.columns == ["科目编码", "科目名称", "本年支出合计", "基本支出", "项目支出"]
    assert table.rows == [
        ["", "合计", "1,356.45", "1,000.00", "356.45"],
        ["208", "社会保障和就业支出", "1,300.00", "1,000.00", "300.00"],
        # the name wrapped over two lines in its 9em column, joined
        ["20801", "人力资源和社会保障管理事务", "1,000.00", "800.00", "200.00"],
        ["221", "住房保障支出", "56.45", "0.00", "56.45"],
    ]
    assert table.note == "注：本表反映部门本年度各项支出情况。"

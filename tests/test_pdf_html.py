"""The document as PDF (typst) and as one self-contained HTML file."""

from __future__ import annotations

import dataclasses
import re
import shutil
import struct
import subprocess
import zlib
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from juesuan import fonts
from juesuan.document.model import (
    Contents,
    Document,
    Figure,
    Heading,
    PageBreak,
    Paragraph,
    Ref,
    Span,
    TableBlock,
)
from juesuan.publish import html as html_renderer
from juesuan.publish import pdf
from juesuan.publish.html import html_page, write_html
from juesuan.publish.pdf import (
    DRAFT_MARK,
    breaks_before_headings,
    cover_lines,
    cover_title,
    typst_source,
    typst_string,
    write_pdf,
)
from juesuan.statements.build import build
from juesuan.statements.model import Cell, Column, Row, Section, Table

UNIT = "测试单位"
SPECIAL = 'Typst 特殊字符：#set text(red) *粗* _斜_ $x^2$ [链接] <label> @ref \\ "引号" // 注释 /* 块 */ ` ~ - = + 1. 完'


def _cell(value: str) -> Cell:
    shown = Decimal(value)
    return Cell(shown * 10000, shown)


def spending_table(columns: int = 3) -> Table:
    """A code table: 项目 over code | name, amount columns under a shared 本年支出 header."""
    cols = tuple(Column(f"c{i}", ("本年支出", f"第{i}栏支出")) for i in range(columns))
    values = [f"{1000 + i}.5{i}" for i in range(columns)]
    rows = (
        Row("合计", "合计", None, 0, tuple(_cell(v) for v in values), total=True),
        Row("208", "社会保障和就业支出", "208", 1, tuple(_cell(v) for v in values)),
        Row("2080501", "行政单位离退休", "2080501", 3, tuple(_cell(v) for v in values)),
    )
    section = Section("支出决算表", cols, rows, code_header="功能分类科目编码")
    return Table(
        id="spending" if columns < 8 else "detail",
        number="三",
        title="支出决算表" if columns < 8 else "财政拨款支出决算明细表",
        unit="万元",
        sections=(section,),
        note="注：本表反映部门本年度各项支出情况。",
    )


def tiny_png(path: Path, width: int = 40, height: int = 20) -> Path:
    """An RGB PNG written by hand: a red band over white."""
    rows = b"".join(
        b"\x00" + (b"\xc0\x20\x20" if y < height // 2 else b"\xff\xff\xff") * width
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def sample(tmp_path: Path, *, draft: bool = False, tables: tuple[Table, ...] = ()) -> Document:
    figure = Figure("figure1", "图1：收、支决算总计变动情况图", tiny_png(tmp_path / "f1.png"))
    blocks = (
        Contents(),
        Heading(1, "第一部分 部门概况", "p1"),
        Heading(2, "一、基本职能及主要工作", "p1-1"),
        Heading(3, "（一）主要职能。", "p1-1-1"),
        Paragraph.plain("贯彻执行国家、省和市养老保险、工伤保险相关法律、法规、规章和政策。"),
        Paragraph.plain(SPECIAL),
        PageBreak(),
        Heading(1, "第二部分 2020年度部门决算情况说明", "p2"),
        Heading(2, "一、收入支出决算总体情况说明", "p2-1"),
        Paragraph(
            (Span("2020 年度收、支总计 "), Ref("收支总计", "5686.09"), Span(" 万元。")),
        ),
        figure,
        Paragraph.plain("注：<script>alert('x')</script> & “引号”", style="note"),
        Heading(1, "第五部分 附表", "p5"),
        TableBlock(spending_table()),
        *(TableBlock(t) for t in tables),
    )
    return Document(
        f"{UNIT}2020年度部门决算",
        UNIT,
        2020,
        blocks,
        cover_lines=("公开时间：2021年9月24日",),
        draft=draft,
    )


# ---- PDF -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cjk_font() -> Path:
    return fonts.find_cjk_font()  # the bundled font when the machine has none


def page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def outline_titles(data: bytes) -> list[str]:
    """The bookmark titles of a PDF (typst writes them uncompressed, as UTF-16 strings)."""
    titles = []
    for raw in re.findall(rb"/Title\s*(<[0-9A-Fa-f]*>|\((?:\\.|[^\\)])*\))", data):
        if raw.startswith(b"<"):
            value = bytes.fromhex(raw[1:-1].decode("ascii"))
        else:
            value = re.sub(rb"\\([\\()])", rb"\1", raw[1:-1])
        if value.startswith(b"\xfe\xff"):
            titles.append(value[2:].decode("utf-16-be"))
        else:
            titles.append(value.decode("latin-1"))
    return titles


def pdf_text(path: Path) -> str | None:
    """The text layer by poppler's pdftotext, when it is installed."""
    if shutil.which("pdftotext") is None:
        return None
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def sample_pdf(cjk_font, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pdf")
    path = folder / "决算.pdf"
    write_pdf(sample(folder, tables=(spending_table(13),)), path)
    return path


def test_pdf_is_written_with_embedded_cjk_fonts(sample_pdf):
    data = sample_pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert 4 <= page_count(data) <= 10  # cover, 目录, two text pages, two table pages
    assert b"/FontFile" in data
    _, body, headings = pdf._fonts(tuple(str(f) for f in fonts.font_chain()))
    assert body[0] == "Juesuan Noto Serif SC" and headings[0] == "Juesuan Noto Sans SC"
    embedded = pdf.embedded_fonts(data)
    # the body in the serif, headings in the sans (bold), each a subset of a bundled file
    assert sorted(name for name, _ in embedded) == [
        "JuesuanNotoSansSC-Bold",
        "JuesuanNotoSansSC-Regular",
        "JuesuanNotoSerifSC-Regular",
    ]
    assert all(file is not None and file.parent == fonts.BUNDLED_DIR for _, file in embedded)
    assert re.findall(rb"/BaseFont\s*/([A-Z]{6})\+", data)  # subset tags: only glyphs used
    assert not list(sample_pdf.parent.glob(".*.tmp*"))  # the temporary file was renamed


def test_pdf_bookmarks_hold_the_headings_and_tables(sample_pdf):
    titles = outline_titles(sample_pdf.read_bytes())
    for heading in ("第一部分 部门概况", "第二部分 2020年度部门决算情况说明", "第五部分 附表"):
        assert heading in titles
    assert "一、基本职能及主要工作" in titles
    assert "支出决算表" in titles and "财政拨款支出决算明细表" in titles


def test_pdf_text_contents_page_numbers_and_escaping(sample_pdf):
    text = pdf_text(sample_pdf)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pages = text.split("\f")
    cover = [line.replace(" ", "") for line in pages[0].split("\n") if line.strip()]
    # As the reference cover: 2020年度 / unit / 部门决算, then the cover lines.
    assert cover == ["2020年度", UNIT, "部门决算", "公开时间：2021年9月24日"]
    contents = pages[1]
    assert "目录" in contents
    # 目录 entries carry the page their heading is on; numbering starts after the cover.
    entry = re.search(r"第一部分 部门概况[\s.\u2060]*(\d+)", contents)  # typst joins with U+2060
    assert entry is not None
    number = int(entry.group(1))
    assert "第一部分 部门概况" in pages[number]
    assert re.search(rf"—\s*{number}\s*—", pages[number])
    # Every special character of the markup language came out as text.
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", SPECIAL) in flat
    assert "5,686.09" not in flat  # not in this sample: the figures come from the tables only
    assert "1,000.50" in flat and "注：本表反映部门本年度各项支出情况。" in flat


def test_wide_table_is_set_landscape_and_narrow_table_portrait(tmp_path):
    source = typst_source(sample(tmp_path, tables=(spending_table(13),)))
    assert source.count("#page(flipped: true") == 1
    assert "table.header(repeat: true" in source
    assert "colspan: 2" in source  # 合计 across code and name, 项目 over both


def test_pdf_draft_marks_every_page(cjk_font, tmp_path):
    path = tmp_path / "draft.pdf"
    write_pdf(sample(tmp_path, draft=True), path)
    text = pdf_text(path)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pages = [p for p in text.split("\f") if p.strip()]
    assert pages and all(DRAFT_MARK in p for p in pages)


def test_example_tables_fit_their_pages(cjk_font, example, tmp_path):
    statements = build(example)
    document = sample(tmp_path, tables=statements.tables)
    path = tmp_path / "example.pdf"
    write_pdf(document, path)
    pages = page_count(path.read_bytes())
    # 4 text pages and one page for each of the 15 tables: none runs onto a second page.
    assert pages == 4 + 1 + len(statements.tables)


def test_pdf_is_reproducible_with_source_date_epoch(cjk_font, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1632441600")  # 2021-09-24
    document = sample(tmp_path)
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    write_pdf(document, first)
    write_pdf(document, second)
    assert first.read_bytes() == second.read_bytes()
    assert b"D:20210924" in first.read_bytes()


def test_a_heading_never_ends_a_page():
    attachment, body = Heading(2, "附件2", "a2"), Paragraph.plain("报告")
    blocks = breaks_before_headings((Paragraph.plain("前文"), attachment, PageBreak(), body))
    assert blocks == [Paragraph.plain("前文"), PageBreak(), attachment, body]


def test_cover_lines_do_not_repeat_the_title(tmp_path):
    document = Document(
        f"{UNIT}2020年度部门决算", UNIT, 2020, (), cover_lines=("2020 年度", UNIT, "公开时间：X")
    )
    assert cover_title(document) == ["2020年度", UNIT, "部门决算"]
    assert cover_lines(document, cover_title(document)) == ["公开时间：X"]
    page = html_page(document)
    assert f"<span>2020年度</span><span>{UNIT}</span><span>部门决算</span>" in page
    assert page.count(f"<p>{UNIT}</p>") == 0


def test_typst_string_escapes_quotes_backslashes_and_newlines():
    assert typst_string('a"b\\c\nd\te') == '"a\\"b\\\\c\\nd\\te"'
    assert typst_string("\x01") == '"\\u{1}"'
    assert typst_string("#*$[]_<>@`/") == '"#*$[]_<>@`/"'  # inert inside a string literal


def test_missing_cjk_font_raises_with_install_hint(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "font_chain", lambda: [])
    target = tmp_path / "out.pdf"
    with pytest.raises(fonts.FontMissing, match="fonts-noto-cjk"):
        write_pdf(sample(tmp_path), target)
    assert not target.exists()


def test_a_character_no_font_can_draw_stops_the_pdf_and_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "font_chain", lambda: [fonts.BUNDLED["serif"], fonts.BUNDLED["sans"]])
    monkeypatch.setattr(
        fonts, "font_chain", lambda: [fonts.BUNDLED["serif"], fonts.BUNDLED["sans"]]
    )
    document = sample(tmp_path)
    document = dataclasses.replace(document, title="𠀾𠁀社区服务中心部门决算")
    target = tmp_path / "out.pdf"
    with pytest.raises(fonts.FontMissing, match=r"“𠀾”（U\+2003E，PDF 文本"):
        write_pdf(document, target)
    assert not target.exists()


# ---- HTML ------------------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.tags: list[str] = []
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.tags.append(tag)
        if "id" in values:
            self.ids.append(values["id"])
        if "href" in values:
            self.hrefs.append(values["href"])
        if "src" in values:
            self.srcs.append(values["src"])

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    return collector


def test_html_is_self_contained(tmp_path):
    path = tmp_path / "决算.html"
    write_html(sample(tmp_path), path)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    assert 'name="viewport"' in page
    for external in ('src="http', "src='http", 'href="http', "<link", "@import", "url(http"):
        assert external not in page
    parsed = parse(page)
    assert "script" not in parsed.tags
    assert parsed.srcs and all(s.startswith("data:image/") for s in parsed.srcs)
    assert "data:image/png;base64," in page
    assert not list(tmp_path.glob(".*.tmp*"))


def test_html_prefers_the_svg_figure(tmp_path):
    svg = tmp_path / "f.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>')
    figure = Figure("figure1", "图1", tiny_png(tmp_path / "f.png"), svg)
    page = html_page(Document("标题", UNIT, 2020, (figure,)))
    assert "data:image/svg+xml;base64," in page and "data:image/png" not in page


def test_html_headings_contents_and_anchors(tmp_path):
    document = sample(tmp_path)
    page = html_page(document)
    parsed = parse(page)
    assert '<h2 id="p1">第一部分 部门概况</h2>' in page
    assert '<h3 id="p1-1">一、基本职能及主要工作</h3>' in page
    assert '<h4 id="p1-1-1">（一）主要职能。</h4>' in page
    toc = page[page.index('<nav class="toc"') : page.index("</nav>")]
    for heading in document.headings(2):
        assert f'<a href="#{heading.anchor}">{heading.text}</a>' in toc
    assert "（一）主要职能。" not in toc  # level 3 stays out of the 目录
    for href in parsed.hrefs:
        assert href.startswith("#") and href[1:] in parsed.ids
    assert len(parsed.ids) == len(set(parsed.ids))


def test_html_tables_have_thead_merged_cells_and_right_aligned_numbers(tmp_path):
    page = html_page(sample(tmp_path, tables=(spending_table(13),)))
    assert page.count("<thead>") == 2
    assert '<th colspan="2" scope="colgroup">项目</th>' in page
    assert 'colspan="3" scope="colgroup">本年支出</th>' in page
    assert '<td colspan="2" class="label center">合计</td>' in page
    assert '<td class="num">1,000.50</td>' in page
    assert 'style="padding-left:2.5em">行政单位离退休</td>' in page  # 项 indented below 类
    assert page.count('<div class="table-wrap"') == 2  # each table scrolls on its own
    assert '<section class="statement wide"' in page  # the 13-column table prints landscape
    assert "编制单位：测试单位" in page and "单位：万元" in page
    assert "注：本表反映部门本年度各项支出情况。" in page


def test_html_escapes_text_and_marks_drafts(tmp_path):
    page = html_page(sample(tmp_path, draft=True))
    assert "<script>" not in page
    assert "注：&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; “引号”" in page
    assert '<span class="ref" data-fact="收支总计">5686.09</span>' in page
    assert f'<div class="draft-banner" role="note">{html_renderer.DRAFT_MARK}</div>' in page
    assert DRAFT_MARK not in html_page(sample(tmp_path, draft=False))


def test_the_font_juesuan_cjk_font_names_sets_body_and_headings(tmp_path, monkeypatch):
    chosen = tmp_path / "mine" / "HeiTi.otf"
    chosen.parent.mkdir()
    shutil.copyfile(fonts.BUNDLED["sans"], chosen)
    monkeypatch.setenv(fonts.ENV_VAR, str(chosen))
    fonts.clear_cache()
    try:
        target = tmp_path / "out.pdf"
        embedded = [name for name, _ in write_pdf(sample(tmp_path), target)]
    finally:
        monkeypatch.delenv(fonts.ENV_VAR)
        fonts.clear_cache()
    assert "JuesuanNotoSansSC-Regular" in embedded  # the body too is in the chosen (sans) face
    assert "JuesuanNotoSerifSC-Regular" not in embedded


def test_the_same_dataset_gives_the_same_html_and_typst_source_on_every_build():
    from juesuan.document.assemble import assemble
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare

    example = Path(__file__).resolve().parents[1] / "examples" / "luzhou-2020"
    built = []
    for _ in range(2):  # two loads: equal texts, different string objects
        dataset, _issues = load(example)
        prepared = prepare(dataset)
        document, _writer = assemble(dataset, prepared.statements, prepared.facts, [])
        built.append((html_page(document), typst_source(document)))
    assert built[0] == built[1]
    # the reports' headings are anchored, so the 目录 can link to them
    assert re.search(r'<h\d id="r-project1-\d+">', built[0][0])


def test_third_level_headings_are_bold_in_the_pdf(tmp_path):
    # Published documents set （一） headings bold at the body's size. The body face has no bold,
    # so such a heading keeps the heading face (bold), only its size set to the body's.
    source = typst_source(sample(tmp_path), body_font="Body Serif", heading_font="Head Sans")
    assert '#show heading: set text(font: ("Head Sans", "Body Serif",), weight: "bold")' in source
    level_3 = [line for line in source.splitlines() if "heading.where(level: 3)" in line]
    assert level_3 and all("font:" not in line and "weight" not in line for line in level_3)
    assert any(f"size: {pdf.BODY_SIZE}pt" in line for line in level_3)

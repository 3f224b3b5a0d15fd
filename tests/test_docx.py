"""The disclosure as DOCX: written with python-docx, read back with python-docx."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

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
from juesuan.publish.docx import DRAFT_MARK, fit_table, write_docx
from juesuan.publish.table_layout import layout
from juesuan.statements.build import build
from juesuan.statements.model import Statements


def write_png(path: Path, width: int = 240, height: int = 120) -> Path:
    """A small bar chart as PNG (RGB, no filter), enough to embed and look at."""
    bars = [
        (30, 60, (0x4E, 0x79, 0xA7)),
        (100, 90, (0xF2, 0x8E, 0x2B)),
        (170, 40, (0x59, 0xA1, 0x4F)),
    ]
    rows = []
    for y in range(height):
        line = bytearray(b"\x00")
        for x in range(width):
            colour = (255, 255, 255)
            for left, tall, fill in bars:
                if left <= x < left + 40 and y >= height - tall:
                    colour = fill
            line.extend(colour)
        rows.append(bytes(line))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"".join(rows)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(data))
        + chunk(b"IEND", b"")
    )
    return path


def sample_document(statements: Statements, folder: Path, *, draft: bool = False) -> Document:
    """A document in the reference case's shape: 目录, parts, headings of four levels,
    paragraphs with numbers, a figure, and the 14 tables under 第五部分 附表."""
    png = write_png(folder / "figure1.png")
    para = Paragraph.plain
    blocks: list = [
        Contents(),
        Heading(1, "第一部分 部门概况", "part1"),
        Heading(2, "一、基本职能及主要工作", "part1-1"),
        Heading(3, "（一）主要职能。", "part1-1-1"),
        para(
            "贯彻执行国家、省和市养老保险、工伤保险相关法律、法规、规章和政策，按照国家有关法律、"
            "法规履行社会保险经办工作职责。"
        ),
        Heading(4, "1.参保登记。", "part1-1-1-1"),
        para("负责市本级企业职工基本养老保险、机关事业单位养老保险、工伤保险的参保登记工作。"),
        Heading(2, "二、机构设置", "part1-2"),
        para("本单位为参照公务员法管理的事业单位，内设科室12个。"),
        PageBreak(),
        Heading(1, "第二部分 2020年度部门决算情况说明", "part2"),
        Heading(2, "一、收入支出决算总体情况说明", "part2-1"),
        Paragraph(
            (
                Span("2020年度收、支总计"),
                Ref("summary.total", "5,686.09"),
                Span("万元。与2019年相比，收、支总计各增加"),
                Ref("summary.total.change", "447.13"),
                Span("万元，增长"),
                Ref("summary.total.rate", "8.53%"),
                Span("。"),
            )
        ),
        Figure("figure1", "图1：收、支决算总计变动情况图", png),
        para("注：本表反映部门本年度的总收支情况。", style="note"),
        PageBreak(),
        Heading(1, "第五部分 附表", "part5"),
    ]
    for table in statements.tables[:-1]:
        # Page breaks before tables (some landscape) must not leave blank pages.
        blocks.append(PageBreak())
        blocks.append(Heading(2, f"{table.number}、{table.title}", f"table-{table.id}"))
        blocks.append(TableBlock(table))
    blocks.append(TableBlock(statements.tables[-1]))  # a table without a heading: its own title
    blocks.append(para("泸州市社会保险事业管理局", style="signature"))
    return Document(
        title="泸州市社会保险事业管理局2020年度部门决算",
        unit="泸州市社会保险事业管理局",
        year=2020,
        blocks=tuple(blocks),
        cover_lines=("公开时间：2021年9月24日",),
        draft=draft,
    )


@pytest.fixture(scope="module")
def statements(example) -> Statements:
    return build(example)


@pytest.fixture(scope="module")
def document(statements, tmp_path_factory) -> Document:
    return sample_document(statements, tmp_path_factory.mktemp("figures"))


@pytest.fixture(scope="module")
def docx_path(document, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("docx") / "部门决算.docx"
    write_docx(document, path)
    return path


@pytest.fixture(scope="module")
def word(docx_path):
    return docx.Document(str(docx_path))


def east_asia_font(style) -> str | None:
    fonts = style.element.rPr.find(qn("w:rFonts"))
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def cell_texts(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def test_styles_name_east_asian_fonts(word):
    styles = word.styles
    expected = {
        "Normal": "仿宋_GB2312",
        "Title": "方正小标宋简体",
        "Heading 1": "黑体",
        "Heading 2": "黑体",
        "Heading 3": "楷体_GB2312",
        "Heading 4": "仿宋_GB2312",
    }
    for name, font in expected.items():
        fonts = styles[name].element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == font, name
        assert fonts.get(qn("w:ascii")) == fonts.get(qn("w:hAnsi")) == font, name
        assert fonts.get(qn("w:asciiTheme")) is None, name  # a theme font would win
    assert styles["Normal"].font.size.pt == 16
    assert styles["Heading 4"].font.bold
    # （一） headings are bold in published documents (Shanghai 2024 template, Putuo 2024).
    assert styles["Heading 3"].font.bold and styles["Heading 3 Char"].font.bold
    assert styles["Heading 1"].paragraph_format.alignment == 1  # centred
    for level in range(1, 5):
        outline = styles[f"Heading {level}"].element.pPr.find(qn("w:outlineLvl"))
        assert outline.get(qn("w:val")) == str(level - 1)
    # The official fonts name their substitutes in the font table.
    part = next(r.target_part for r in word.part.rels.values() if r.reltype.endswith("/fontTable"))
    table = part.blob.decode("utf-8")
    assert re.search(r'w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>', table)
    assert re.search(r'w:name="方正小标宋简体"><w:altName w:val="宋体"/>', table)


def test_page_is_a4_with_official_margins(word):
    section = word.sections[1]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert round(section.top_margin.cm, 1) == 3.7 and round(section.left_margin.cm, 1) == 2.8


def test_headings_use_the_built_in_styles(word, document):
    headings = [
        (int(p.style.name.removeprefix("Heading ")), p.text)
        for p in word.paragraphs
        if p.style.name.startswith("Heading")
    ]
    expected = [(b.level, b.text) for b in document.blocks if isinstance(b, Heading)]
    assert headings == expected
    assert (1, "第一部分 部门概况") in headings and (4, "1.参保登记。") in headings


def test_cover_then_contents_with_a_toc_field(word, docx_path):
    texts = [p.text for p in word.paragraphs]
    assert texts[:3] == ["2020年度", "泸州市社会保险事业管理局", "部门决算"]
    assert "公开时间：2021年9月24日" in texts
    body = word.element.body.xml
    assert 'TOC \\o "1-2" \\h \\z \\u' in body
    # The stored result lists the level 1–2 headings before Word refreshes it.
    toc = [p.text for p in word.paragraphs if p.style.name in ("toc 1", "toc 2")]
    assert toc[0].startswith("第一部分 部门概况")
    assert any(t.startswith("一、收入支出决算总表") for t in toc)
    assert not any(t.startswith("（一）") for t in toc)
    assert word.settings.element.find(qn("w:updateFields")).get(qn("w:val")) == "true"


def test_cover_lines_repeating_the_title_are_printed_once(document, tmp_path):
    path = tmp_path / "封面.docx"
    lines = ("2020年度", "泸州市社会保险事业管理局", "部门决算", "公开时间：2021年9月24日")
    write_docx(replace(document, cover_lines=lines, blocks=()), path)
    texts = [p.text for p in docx.Document(str(path)).paragraphs if p.text]
    assert texts == list(lines)


def test_sections_end_in_an_empty_tiny_paragraph(word):
    """The paragraph that carries a section's properties must not push a page of its own."""
    holders = [p for p in word.paragraphs if p._p.pPr is not None and p._p.pPr.sectPr is not None]
    assert len(holders) == len(word.sections) - 1
    assert all(p.text == "" and p.style.name == "分节" for p in holders)


def test_no_section_is_empty(word):
    """A section without text or table would print as a blank page."""
    chunks: list[list] = [[]]
    for element in word.element.body.iterchildren():
        chunks[-1].append(element)
        ppr = element.find(qn("w:pPr"))
        if ppr is not None and ppr.find(qn("w:sectPr")) is not None:
            chunks.append([])
    for chunk in chunks[:-1]:
        texts = "".join(t.text or "" for e in chunk for t in e.iter(qn("w:t")))
        assert texts.strip() or any(e.tag == qn("w:tbl") for e in chunk)


def test_page_numbers_after_the_cover(word):
    cover, first = word.sections[0], word.sections[1]
    assert cover.footer.is_linked_to_previous  # no footer of its own: no number on the cover
    assert not first.footer.is_linked_to_previous
    footer = first.footer._element.xml
    assert "PAGE" in footer and "— " in first.footer.paragraphs[0].text
    assert first._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
    for later in word.sections[2:]:
        assert later.footer.is_linked_to_previous
        assert later._sectPr.find(qn("w:pgNumType")) is None


def test_a_word_table_per_table_block(word, statements):
    assert len(word.tables) == len(statements.tables) == 14
    summary = cell_texts(word.tables[0])
    assert summary[0][:4] == ["收入", "收入", "支出", "支出"]  # merged across its two columns
    assert summary[1] == ["项目", "决算数", "项目", "决算数"]
    total = next(r for r in summary if r[0] == "总计")
    assert total == ["总计", "5,686.09", "总计", "5,686.09"]
    facing = next(r for r in summary if r[0] == "本年收入合计")
    assert facing[2] == "本年支出合计"

    spending = cell_texts(word.tables[2])
    header = spending[0] + spending[1]
    column = spending[0].index("基本支出")
    row = next(r for r in spending if r[0] == "208")
    assert row[1] == "社会保障和就业支出" and row[column] == "4,143.05"
    assert "功能分类科目编码" in [h.replace("\n", "") for h in header]
    assert next(r for r in spending if r[0] == "2080109")[1] == "社会保险经办机构"

    # The heading naming a table is its title; a table without one prints its own.
    titled = next(p for p in word.paragraphs if p.text == "一、收入支出决算总表")
    assert titled.style.name == "Heading 2" and titled.alignment == 1
    last = statements.tables[-1].title
    assert [p.style.name for p in word.paragraphs if p.text == last] == ["表标题"]

    three = cell_texts(word.tables[9])
    assert three[0][4:10] == ["公务用车购置及运行维护费"] * 6
    assert three[1][4:6] == ["小计", "小计"]
    assert three[2] == ["预算数", "决算数"] * 6
    assert three[3][0] == "0.59"


def test_header_rows_repeat_and_merge(word):
    for table in word.tables:
        rows = table._tbl.tr_lst
        flags = [tr.trPr is not None and tr.trPr.find(qn("w:tblHeader")) is not None for tr in rows]
        count = flags.index(False)
        assert count >= 1 and not any(flags[count:])
    spending = word.tables[2]._tbl
    first = spending.tr_lst[0].tc_lst
    assert first[0].tcPr.find(qn("w:gridSpan")).get(qn("w:val")) == "2"  # 项目 over code | name
    assert first[1].tcPr.find(qn("w:vMerge")).get(qn("w:val")) == "restart"


def test_wide_tables_turn_the_page(word, statements):
    orientation = [s.orientation for s in word.sections]
    assert 1 in orientation  # some landscape section
    assert word.sections[-1].orientation == 0  # back to portrait after the last table
    shapes = {t.title: fit_table(layout(t)) for t in statements}
    assert not shapes["收入支出决算总表"].landscape
    assert shapes["财政拨款支出决算明细表"].landscape
    for fit in shapes.values():
        assert 7.5 <= fit.font_pt <= 10.5


def test_notes_and_empty_statements_under_tables(word, statements):
    texts = [p.text for p in word.paragraphs]
    for table in statements:
        assert table.note in texts
        if table.empty:
            assert texts.index(table.empty_statement) < texts.index(table.note)
        elif table.empty_statement:
            assert table.empty_statement not in texts
    assert "编制单位：泸州市社会保险事业管理局\t单位：万元" in texts


def test_paragraph_text_and_figure(word):
    texts = [p.text for p in word.paragraphs]
    assert (
        "2020年度收、支总计5,686.09万元。与2019年相比，收、支总计各增加447.13万元，增长8.53%。"
        in texts
    )
    images = [r for r in word.part.rels.values() if r.reltype.endswith("/image")]
    assert len(images) == 1 and images[0].target_part.blob.startswith(b"\x89PNG")
    shape = word.inline_shapes[0]
    assert 14 <= shape.width.cm <= 15
    caption = texts.index("图1：收、支决算总计变动情况图")
    assert word.paragraphs[caption].style.name == "Caption"


def test_draft_header_on_every_page(statements, tmp_path, word):
    path = tmp_path / "草稿.docx"
    write_docx(sample_document(statements, tmp_path, draft=True), path)
    draft = docx.Document(str(path))
    assert draft.sections[0].header.paragraphs[0].text == DRAFT_MARK
    assert all(s.header.is_linked_to_previous for s in draft.sections[1:])
    run = draft.sections[0].header.paragraphs[0].runs[0]
    assert str(run.font.color.rgb) == "FF0000"
    assert all(DRAFT_MARK not in p.text for s in word.sections for p in s.header.paragraphs)


def test_written_by_rename(document, tmp_path):
    path = tmp_path / "out" / "部门决算.docx"
    path.parent.mkdir()
    path.write_bytes(b"old")
    write_docx(document, path)
    assert [p.name for p in path.parent.iterdir()] == ["部门决算.docx"]
    assert docx.Document(str(path)).paragraphs[0].text == "2020年度"


def libreoffice_writer() -> bool:
    """soffice with its Writer module (libreoffice-writer-nogui), which opens .docx files."""
    soffice = shutil.which("soffice")
    return soffice is not None and any(
        (Path(soffice).resolve().parent / name).exists() for name in ("libswlo.so", "swlo.dll")
    )


@pytest.mark.skipif(
    not libreoffice_writer(),
    reason="LibreOffice Writer is not installed (apt-get install libreoffice-writer-nogui)",
)
def test_libreoffice_converts_it(docx_path, tmp_path):
    profile = tmp_path / "profile"
    result = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(docx_path),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    pdf = tmp_path / f"{docx_path.stem}.pdf"
    assert result.returncode == 0 and pdf.exists(), result.stderr.decode(errors="replace")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert pages >= 16  # cover, 目录, text, and every table on a page of its own

"""The disclosure as a Word document (DOCX), in the look of an official document (GB/T 9704).

`write_docx(document, path)` renders a `juesuan.document.model.Document`:

- **Page.** A4, margins 3.7 / 3.5 / 2.8 / 2.6 cm (top / bottom / left / right). The cover is its
  own section without a page number; from the next page on the footer carries "— N —" (a PAGE
  field, 宋体 四号, centred), numbered from 1. A draft (`Document.draft`) carries the red header
  草稿（未通过审核，不得公开） on every page, the cover included.
- **Styles.** Each style names its East-Asian font (`w:eastAsia`) as well as `w:ascii`/`w:hAnsi`;
  the official fonts are named with their common substitutes in the font table (`w:altName`), so
  a system without 仿宋_GB2312 uses 仿宋: body 仿宋_GB2312 三号, 1.5 lines, first line indented
  two characters; Title 方正小标宋简体 二号; Heading 1 (第X部分) 黑体 三号 centred; Heading 2
  (一、) 黑体 三号; Heading 3 ((一)) 楷体_GB2312 三号 bold, as published; Heading 4 仿宋_GB2312
  bold. Headings are Word's built-in "Heading 1–4" with outline levels, so they show in the navigation pane.
- **目录.** At the `Contents` block, on a page of its own: a TOC field (`TOC \\o "1-2" \\h \\z
  \\u`) that Word refreshes on opening (`w:updateFields` in settings.xml), with true page numbers;
  its stored result already lists the level 1–2 headings (each linked to a bookmark on the
  heading, with a PAGEREF whose number the refresh fills in), so the 目录 is never empty — a
  program that does not refresh fields (LibreOffice converting to PDF) shows the list without
  numbers.
- **Tables.** Each `TableBlock` starts a page, together with the headings right before it (the
  last one, when it names the table, centred as its title; else the table's own title in
  方正小标宋 小二 bold), the year, 编制单位 … 单位：万元, a Word table drawn from
  `juesuan.publish.table_layout` (merged header cells, header rows repeated on every page, codes
  as text, amounts right-aligned, indented names, bold totals), then the empty-table statement
  and the note. `fit_table` chooses the page: portrait when the table fits its width at 9 pt or
  more, else landscape (a section of its own; portrait again after it); 宋体 as large as fits
  (7.5–10.5 pt), names wrapping before figures do; a size smaller when that keeps the table on
  one page.
- **Forms.** A `FormBlock` (项目绩效目标完成情况表 …) is drawn as a table under its title (四号)
  and year: in the flow of the text, kept on one page when it fits one, when `fit_table` keeps it
  portrait; on a landscape section of its own when not. Its section and column heads are shaded.
  One read as part of the text (`in_text`: the 单位构成 list) may be as large as the body's 三号.
- **Figures.** The PNG 14.5 cm wide, centred, with its caption below. `PageBreak` breaks the page
  (never twice, never before a page that starts anyway).

The file is written beside its target and renamed into place.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape  # not xml.sax.saxutils's: it imports urllib.request
from pathlib import Path

import docx
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.section import Section as WordSection
from docx.shared import Cm, Emu, Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.text.paragraph import Paragraph as WordParagraph
from lxml import etree

from juesuan.document.model import (
    Contents,
    Document,
    Figure,
    FormBlock,
    Heading,
    PageBreak,
    Paragraph,
    TableBlock,
)
from juesuan.files import replaced
from juesuan.publish.table_layout import (
    CELL_SLACK,
    LayoutCell,
    TableLayout,
    block_layout,
    break_cost,
    break_lines,
    display_width,
    header_width,
)

DRAFT_MARK = "草稿（未通过审核，不得公开）"

# (name in the styles, substitute named in the font table, charset, family)
FANGSONG = ("仿宋_GB2312", "仿宋", "86", "roman")
XIAOBIAOSONG = ("方正小标宋简体", "宋体", "86", "roman")
HEITI = ("黑体", "SimHei", "86", "swiss")
KAITI = ("楷体_GB2312", "楷体", "86", "roman")
SONGTI = ("宋体", "SimSun", "86", "roman")
FONTS = (FANGSONG, XIAOBIAOSONG, HEITI, KAITI, SONGTI)

# Sizes in points, by their Chinese names.
ERHAO = 22.0  # 二号
XIAOER = 18.0  # 小二
SANHAO = 16.0  # 三号
SIHAO = 14.0  # 四号
XIAOSI = 12.0  # 小四

A4 = (Cm(21.0), Cm(29.7))
PORTRAIT_MARGINS = {
    "top": 3.7,
    "bottom": 3.5,
    "left": 2.8,
    "right": 2.6,
    "header": 1.5,
    "footer": 2.5,
}
LANDSCAPE_MARGINS = {
    "top": 2.6,
    "bottom": 2.4,
    "left": 2.5,
    "right": 2.5,
    "header": 1.2,
    "footer": 1.3,
}
FIGURE_WIDTH = Cm(14.5)

TABLE_FONT = SONGTI
TABLE_MAX_PT = 10.5  # 五号
TABLE_MIN_PT = 7.5
NOTE_PT = 10.5  # notes and empty-table statements under a table
TABLE_READABLE_PT = 9.0  # below this in portrait, a table turns landscape
TABLE_SHRINK_PT = 8.0  # a table is set this small at most to fit it on one page
TABLE_LINE = 1.3  # exact line height of table text, in font sizes
# Ways to fit a table's width, tried in order: (landscape, names capped at, compact figures).
FIT_STEPS = (
    (False, None, False),
    (False, 24, False),
    (True, None, False),
    (True, 24, False),
    (True, 24, True),
    (True, 16, True),
    (False, 24, True),
    (False, 16, True),
)
MIN_NAME_CHARS = 6  # a name column gives way down to this many characters
CELL_PADDING_PT = 2.85  # left and right cell margin (0.1 cm)
LINE_HEIGHT = 1.3  # a CJK font's single line, in font sizes (for estimates)

HEADING_STYLES = {1: "Heading 1", 2: "Heading 2", 3: "Heading 3", 4: "Heading 4"}
BOOKMARK_PREFIX = "_Toc"


def write_docx(document: Document, path: Path) -> None:
    """Write `document` to `path` as DOCX, renamed into place when done."""
    with replaced(path) as temporary:
        _Writer(document).build().save(str(temporary))


# ---- styles ----------------------------------------------------------------------------------


def _set_fonts(rpr, font: tuple[str, ...]) -> None:
    """Name `font` for every script on a run-properties element, replacing any theme font."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for key in list(fonts.attrib):
        del fonts.attrib[key]
    name = font[0]
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)
    fonts.set(qn("w:hint"), "eastAsia")


def _style_font(style: BaseStyle, font: tuple[str, ...], size: float, *, bold: bool = False):
    """Font, size and weight of a style, in black, upright, without theme fonts or colours."""
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    rpr = style.element.get_or_add_rPr()
    _set_fonts(rpr, font)
    color = rpr.find(qn("w:color"))
    for key in ("w:themeColor", "w:themeShade", "w:themeTint"):
        color.attrib.pop(qn(key), None)


def _indent_chars(paragraph_format, chars: float, size: float) -> None:
    """Indent the first line by a number of characters (`w:firstLineChars`, as Chinese Word
    sets it), with the equivalent length for programs that ignore character units."""
    paragraph_format.first_line_indent = Pt(chars * size)
    ind = paragraph_format._element.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), str(int(chars * 100)))


def _paragraph_style(
    styles,
    name: str,
    font: tuple[str, ...],
    size: float,
    *,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: float = 0,
    bold: bool = False,
    spacing: float = 1.5,
    before: float = 0,
    after: float = 0,
    base: str | None = "Normal",
    style_id: str | None = None,
):
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if style_id:
            style.element.set(qn("w:styleId"), style_id)
    if base:
        style.base_style = styles[base]
    _style_font(style, font, size, bold=bold)
    fmt = style.paragraph_format
    fmt.alignment = align
    fmt.line_spacing = spacing
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    # Always set, in characters too: Word inherits `w:firstLineChars` from the base style.
    _indent_chars(fmt, indent, size)
    return style


def _setup_styles(word: docx.document.Document) -> None:
    styles = word.styles
    # Document defaults: Chinese language, 仿宋; Normal: the body text.
    defaults = word.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr, FANGSONG)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    body = _paragraph_style(styles, "Normal", FANGSONG, SANHAO, indent=2, base=None)
    body.paragraph_format.widow_control = True

    _paragraph_style(
        styles,
        "Title",
        XIAOBIAOSONG,
        ERHAO,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        spacing=1.25,
        after=12,
    )
    title_ppr = styles["Title"].element.get_or_add_pPr()
    for border in title_ppr.findall(qn("w:pBdr")):
        title_ppr.remove(border)
    heading_specs = {
        1: (HEITI, WD_ALIGN_PARAGRAPH.CENTER, 0, False, 12, 12),
        2: (HEITI, WD_ALIGN_PARAGRAPH.LEFT, 2, False, 6, 0),
        3: (KAITI, WD_ALIGN_PARAGRAPH.LEFT, 2, True, 0, 0),
        4: (FANGSONG, WD_ALIGN_PARAGRAPH.LEFT, 2, True, 0, 0),
    }
    for level, (font, align, indent, bold, before, after) in heading_specs.items():
        style = _paragraph_style(
            styles,
            HEADING_STYLES[level],
            font,
            SANHAO,
            align=align,
            indent=indent,
            bold=bold,
            before=before,
            after=after,
        )
        style.paragraph_format.keep_with_next = True
        ppr = style.element.get_or_add_pPr()
        outline = ppr.find(qn("w:outlineLvl"))
        if outline is None:
            outline = OxmlElement("w:outlineLvl")
            ppr.append(outline)
        outline.set(qn("w:val"), str(level - 1))
        _style_font(styles[f"{HEADING_STYLES[level]} Char"], font, SANHAO, bold=bold)

    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph_style(
        styles, "目录标题", XIAOBIAOSONG, ERHAO, align=center, after=12, style_id="ContentsTitle"
    )
    for level in (1, 2):
        style = _paragraph_style(
            styles,
            f"toc {level}",
            HEITI if level == 1 else FANGSONG,
            SANHAO,
            align=WD_ALIGN_PARAGRAPH.LEFT,
            spacing=1.25,
            style_id=f"TOC{level}",
        )
        style.element.attrib.pop(qn("w:customStyle"), None)  # Word's own "toc N"
        style.paragraph_format.left_indent = Pt(0 if level == 1 else 2 * SANHAO)
        style.paragraph_format.tab_stops.add_tab_stop(
            _text_width(landscape=False), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS
        )
    _paragraph_style(styles, "封面", FANGSONG, SANHAO, align=center, style_id="CoverLine")
    _paragraph_style(styles, "居中", FANGSONG, SANHAO, align=center, style_id="Centered")
    _paragraph_style(
        styles, "落款", FANGSONG, SANHAO, align=WD_ALIGN_PARAGRAPH.RIGHT, style_id="Signature"
    )
    _paragraph_style(styles, "注释", FANGSONG, SIHAO, indent=2, style_id="NoteText")
    _paragraph_style(styles, "Caption", FANGSONG, XIAOSI, align=center, after=12, spacing=1.0)
    _paragraph_style(
        styles,
        "图片",
        FANGSONG,
        SANHAO,
        align=center,
        spacing=1.0,
        before=6,
        style_id="FigureImage",
    )
    styles["图片"].paragraph_format.keep_with_next = True
    _paragraph_style(
        styles,
        "表标题",
        XIAOBIAOSONG,
        XIAOER,
        align=center,
        bold=True,
        spacing=1.25,
        style_id="TableTitle",
    )
    styles["表标题"].paragraph_format.keep_with_next = True
    _paragraph_style(
        styles,
        "表说明",
        FANGSONG,
        XIAOSI,
        align=WD_ALIGN_PARAGRAPH.LEFT,
        spacing=1.25,
        style_id="TableCaption",
    )
    styles["表说明"].paragraph_format.keep_with_next = True
    _paragraph_style(
        styles, "表注", FANGSONG, NOTE_PT, spacing=1.25, before=3, style_id="TableNote"
    )
    _paragraph_style(
        styles,
        "表格文字",
        TABLE_FONT,
        TABLE_MAX_PT,
        align=WD_ALIGN_PARAGRAPH.LEFT,
        spacing=1.0,
        style_id="TableText",
    )
    for name in ("Header", "Footer"):
        _paragraph_style(styles, name, SONGTI, SIHAO, align=center, spacing=1.0)
    _paragraph_style(styles, "分节", SONGTI, 1, spacing=1.0, style_id="SectionBreak")
    styles["分节"].paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    styles["分节"].paragraph_format.line_spacing = Pt(1)


def _setup_fonts_and_settings(word: docx.document.Document) -> None:
    """Substitutes for the official fonts in the font table; Chinese theme language; fields
    refreshed when the document is opened."""
    part = next(
        (rel.target_part for rel in word.part.rels.values() if rel.reltype == RT.FONT_TABLE),
        None,
    )
    if part is not None:
        element = getattr(part, "element", None)
        table = element if element is not None else parse_xml(part.blob)
        existing = {f.get(qn("w:name")) for f in table.findall(qn("w:font"))}
        for name, alternative, charset, family in FONTS:
            if name in existing:
                continue
            table.append(
                parse_xml(
                    f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alternative}"/>'
                    f'<w:charset w:val="{charset}"/><w:family w:val="{family}"/>'
                    f'<w:pitch w:val="variable"/></w:font>'
                )
            )
        if element is None:  # a plain part: write the changed XML back as its bytes
            part._blob = etree.tostring(
                table, xml_declaration=True, encoding="UTF-8", standalone=True
            )

    settings = word.settings.element
    language = settings.find(qn("w:themeFontLang"))
    if language is not None:
        language.set(qn("w:eastAsia"), "zh-CN")
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    follower = next(
        (
            settings.find(qn(tag))
            for tag in ("w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat")
            if settings.find(qn(tag)) is not None
        ),
        None,
    )
    if follower is not None:
        follower.addprevious(update)
    else:
        settings.append(update)


# ---- page ------------------------------------------------------------------------------------


def _text_width(*, landscape: bool) -> Emu:
    margins = LANDSCAPE_MARGINS if landscape else PORTRAIT_MARGINS
    page = A4[1] if landscape else A4[0]
    return Emu(page - Cm(margins["left"]) - Cm(margins["right"]))


def _text_height(*, landscape: bool) -> float:
    margins = LANDSCAPE_MARGINS if landscape else PORTRAIT_MARGINS
    page = A4[0] if landscape else A4[1]
    return Emu(page - Cm(margins["top"]) - Cm(margins["bottom"])).pt


def _property(text: str, limit: int = 255) -> str:
    """A document property as Word keeps it: at most 255 characters (the text itself is whole)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _page_setup(section: WordSection, *, landscape: bool) -> None:
    margins = LANDSCAPE_MARGINS if landscape else PORTRAIT_MARGINS
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (A4[1], A4[0]) if landscape else A4
    section.top_margin = Cm(margins["top"])
    section.bottom_margin = Cm(margins["bottom"])
    section.left_margin = Cm(margins["left"])
    section.right_margin = Cm(margins["right"])
    section.header_distance = Cm(margins["header"])
    section.footer_distance = Cm(margins["footer"])


def _add_text(paragraph: WordParagraph, text: str):
    """`paragraph.add_run(text)`: the same markup, without the XPath query with which
    python-docx first empties the run it has just made (most of a short paragraph's cost)."""
    if not text or any(c in text for c in "\t\r\n"):  # tabs and breaks: python-docx's markup
        return paragraph.add_run(text)
    run = paragraph.add_run()
    run._r.add_t(text)
    return run


def _field(paragraph: WordParagraph, instruction: str, result: str = "") -> None:
    """A complex field (begin, instruction, separate, result, end) at the paragraph's end."""
    _field_begin(paragraph, instruction)
    if result:
        _add_text(paragraph, result)
    _field_end(paragraph)


def _field_char(paragraph: WordParagraph, kind: str) -> None:
    run = paragraph.add_run()
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    if kind == "begin":
        char.set(qn("w:dirty"), "true")
    run._r.append(char)


def _field_begin(paragraph: WordParagraph, instruction: str) -> None:
    _field_char(paragraph, "begin")
    run = paragraph.add_run()
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    run._r.append(text)
    _field_char(paragraph, "separate")


def _field_end(paragraph: WordParagraph) -> None:
    _field_char(paragraph, "end")


# ---- writer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableFit:
    landscape: bool
    font_pt: float
    widths_pt: tuple[float, ...]
    height_pt: float  # estimated, title to note


def fit_table(
    shape: TableLayout, *, above_pt: float = 0, largest_pt: float = TABLE_MAX_PT
) -> TableFit:
    """Orientation, font size and column widths (points) of a table on an A4 page.

    Portrait when the table fits its width at TABLE_READABLE_PT or more (long names may wrap
    onto two lines to get there), else landscape, where names wrap further and figure headers
    take three lines before the font gets smaller. The font is as large as fits, at most
    `largest_pt` (五号), at least TABLE_MIN_PT; codes and figures keep their width, the names take what is left, and any
    room to spare is shared out. A table a little too tall for one page is set a size or two
    smaller to fit it (down to TABLE_SHRINK_PT); failing that, the way of fitting its width that
    takes the fewest pages wins. `above_pt` is what stands above the table's title on its page.
    """
    candidates = []
    for landscape, cap, compact in FIT_STEPS:
        units = _column_units(shape, cap, compact=compact)
        room = _text_width(landscape=landscape).pt - len(units) * 2 * CELL_PADDING_PT
        candidates.append((landscape, units, room / (sum(units) / 2)))
    first = next(
        (c for c in candidates if c[2] >= TABLE_READABLE_PT), max(candidates, key=lambda c: c[2])
    )
    fit = _settle(shape, *first, above_pt=above_pt, largest_pt=largest_pt)
    if _pages(fit, above_pt) == 1:
        return fit
    # Too tall for a page: the way that takes the fewest pages, then the largest font.
    fits = [_settle(shape, *c, above_pt=above_pt, largest_pt=largest_pt) for c in candidates]
    fits = [f for f in fits if f.font_pt >= min(TABLE_SHRINK_PT, fit.font_pt)]
    return min([fit, *fits], key=lambda f: (_pages(f, above_pt), -f.font_pt))


def _pages(fit: TableFit, above_pt: float) -> int:
    return math.ceil(fit.height_pt / (_text_height(landscape=fit.landscape) - above_pt))


def _settle(
    shape: TableLayout,
    landscape: bool,
    units: Sequence[float],
    size: float,
    *,
    above_pt: float,
    largest_pt: float,
) -> TableFit:
    """The fit at the largest allowed size, made smaller (to TABLE_SHRINK_PT) when that puts
    the whole table on one page."""
    size = _half_points(max(TABLE_MIN_PT, min(largest_pt, size)))
    page = _text_height(landscape=landscape) - above_pt
    widths = _column_widths(shape, units, size, landscape=landscape)
    height = _table_height(shape, widths, size)
    smaller = size - 0.5
    while height > page and smaller >= min(size, TABLE_SHRINK_PT):
        narrower = _column_widths(shape, units, smaller, landscape=landscape)
        if _table_height(shape, narrower, smaller) <= page:
            size, widths = smaller, narrower
            height = _table_height(shape, widths, size)
        smaller -= 0.5
    return TableFit(landscape, size, widths, height)


def _half_points(size: float) -> float:
    return int(size * 2) / 2  # whole half-points, as Word sizes fonts


def _column_units(shape: TableLayout, cap: float | None, *, compact: bool) -> list[float]:
    """Column widths in character units: names capped at `cap` (they wrap); `compact` figure
    columns as wide as their figures, their headers broken onto up to three lines."""
    units = []
    for number, (column, width) in enumerate(zip(shape.columns, shape.widths, strict=True)):
        if column.kind in ("name", "label") and cap is not None:
            width = min(width, cap)
        elif column.kind == "amount" and compact:
            figures = [
                display_width(c.text) for r in shape.body for c in r.cells if c.column == number
            ]
            leaves = [
                _compact_header_units(c.text)
                for r in shape.header
                for c in r.cells
                if c.column == number and c.colspan == 1
            ]
            width = min(width, max([*(f + 2 for f in figures), *leaves, 8]))
        units.append(width)
    return units


def _column_widths(
    shape: TableLayout, units: Sequence[float], size: float, *, landscape: bool
) -> tuple[float, ...]:
    """Widths in points filling the text width: each column what its units need at `size`;
    room to spare goes to capped names first, then is shared in proportion; when short, the
    names give way first."""
    width = _text_width(landscape=landscape).pt
    need = [u * size / 2 + 2 * CELL_PADDING_PT for u in units]
    names = [i for i, c in enumerate(shape.columns) if c.kind in ("name", "label")]
    spare = width - sum(need)
    if spare >= 0:
        # Names capped to fit take back what they can first, then all share the rest.
        wants = {i: (shape.widths[i] - units[i]) * size / 2 for i in names}
        grow = min(1.0, spare / sum(wants.values())) if sum(wants.values()) > 0 else 0.0
        for i, want in wants.items():
            need[i] += want * grow
        spare = width - sum(need)
        return tuple(n + spare * u / sum(units) for n, u in zip(need, units, strict=True))
    floor = MIN_NAME_CHARS * size + 2 * CELL_PADDING_PT
    give = sum(max(need[i] - floor, 0) for i in names)
    if give > 0:
        share = min(1.0, -spare / give)
        for i in names:
            need[i] -= max(need[i] - floor, 0) * share
    total = sum(need)
    return tuple(n * width / total for n in need) if total > width else tuple(need)


def _compact_header_units(text: str) -> float:
    """The narrowest room (character units) for a header: two lines broken between words; else
    one line when short, or two lines as Word fills them."""
    natural = header_width(text)
    for room in range(8, math.ceil(natural)):
        broken = break_lines(text, room)
        if broken.count("\n") == 1 and break_cost(broken) == 0:
            return room
    if display_width(text) <= 12:
        return natural
    return min(natural, math.ceil(len(text) / 2) * 2 + CELL_SLACK)


def _text_lines(text: str, width_pt: float, size: float) -> int:
    room = max(width_pt - 2 * CELL_PADDING_PT, size)
    return sum(max(1, math.ceil(display_width(t) * size / 2 / room)) for t in text.split("\n"))


def _table_height(shape: TableLayout, widths: Sequence[float], size: float) -> float:
    """Estimated height in points of the table with its title, unit line and notes."""
    line = size * TABLE_LINE + 1
    heights = [0.0] * shape.header_rows
    for number, row in enumerate(shape.header):
        for cell in row.cells:
            if cell.rowspan == 1:
                room = sum(widths[cell.column : cell.last_column + 1])
                text = _header_text(cell.text, room, size)
                heights[number] = max(heights[number], _text_lines(text, room, size) * line)
    for number, row in enumerate(shape.header):
        for cell in row.cells:
            room = sum(widths[cell.column : cell.last_column + 1])
            need = _text_lines(_header_text(cell.text, room, size), room, size) * line
            last = number + cell.rowspan - 1
            have = sum(heights[number : last + 1])
            heights[last] += max(0.0, need - have)
    height = sum(max(h, line) for h in heights)
    for row in shape.body:
        lines = 1
        for cell in row.cells:
            if cell.kind in ("label", "total-label", "code"):
                room = sum(widths[cell.column : cell.last_column + 1]) - cell.indent * size
                lines = max(lines, _text_lines(cell.text, room, size))
        height += lines * line
    text_width = sum(widths)
    small = XIAOSI * 1.25 * LINE_HEIGHT
    height += XIAOER * 1.25 * LINE_HEIGHT + 2 * small  # title, year, unit line
    for note in shape.below:
        lines = math.ceil(display_width(note) * NOTE_PT / 2 / text_width)
        height += lines * NOTE_PT * 1.25 * LINE_HEIGHT + 3
    return height


def _header_text(text: str, room_pt: float, size: float) -> str:
    """A header text broken between words to fit a cell `room_pt` wide at `size`."""
    usable = room_pt - 2 * CELL_PADDING_PT
    broken = break_lines(text, usable / size * 2 + CELL_SLACK - 0.5)
    # Breaking inside a word, the line is better filled as Word wraps it.
    return broken if break_cost(broken) == 0 else text


class _Writer:
    def __init__(self, document: Document):
        self.document = document
        self.word = docx.Document()
        self.landscape = False
        self.fresh = True  # nothing written on the current page yet
        self.pending_break = False  # the next paragraph starts a new page
        self.bookmarks: dict[int, str] = {}  # id(heading) -> bookmark name
        self.bookmark_id = 0
        self.style_ids: dict[str, str | None] = {}  # paragraph style name -> its w:styleId

    # -- whole document --

    def build(self) -> docx.document.Document:
        word = self.word
        _setup_styles(word)
        _setup_fonts_and_settings(word)
        body = word.element.body
        for paragraph in list(body.iterchildren(qn("w:p"))):
            body.remove(paragraph)
        for number, heading in enumerate(self.document.headings(max_level=4), start=1):
            self.bookmarks[id(heading)] = f"{BOOKMARK_PREFIX}{number:08d}"
        core = word.core_properties
        core.title = _property(self.document.title)
        core.author = _property(self.document.unit)
        core.language = "zh-CN"

        _page_setup(word.sections[0], landscape=False)
        if self.document.draft:
            self._draft_header(word.sections[0])
        self._cover()
        section = self._new_section(landscape=False)
        section.footer.is_linked_to_previous = False
        self._page_number_footer(section)
        pages = OxmlElement("w:pgNumType")
        pages.set(qn("w:start"), "1")
        # In schema order: after the page size, margins and borders, before the columns.
        later = ("w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg", "w:docGrid")
        follower = next(
            (e for e in section._sectPr if e.tag in {qn(t) for t in later}),
            None,
        )
        if follower is not None:
            follower.addprevious(pages)
        else:
            section._sectPr.append(pages)
        self._blocks(self.document.blocks)
        return word

    def _cover(self) -> None:
        doc = self.document
        lines = _cover_title(doc)
        for index, line in enumerate(lines):
            paragraph = self._paragraph("Title")
            paragraph.paragraph_format.space_before = Pt(150 if index == 0 else 6)
            _add_text(paragraph, line).font.size = Pt(26)  # 一号 on the cover
        printed = {re.sub(r"\s", "", line) for line in lines}
        extra = [line for line in doc.cover_lines if re.sub(r"\s", "", line) not in printed]
        for index, line in enumerate(extra):
            paragraph = self._paragraph("封面")
            paragraph.paragraph_format.space_before = Pt(200 if index == 0 else 0)
            _add_text(paragraph, line)

    def _blocks(self, blocks: Sequence[object]) -> None:
        index = 0
        while index < len(blocks):
            block = blocks[index]
            end = index
            while end < len(blocks) and isinstance(blocks[end], Heading):
                end += 1
            if end > index and end < len(blocks) and isinstance(blocks[end], TableBlock):
                # Headings right before a table go with it onto its page, the last as its title.
                self._table(blocks[end], headings=blocks[index:end])
                index = end + 1
                continue
            if isinstance(block, TableBlock):
                self._table(block)
            elif isinstance(block, FormBlock):
                self._form(block)
            elif isinstance(block, PageBreak):
                self._page_break()
            else:
                if self.landscape:  # text after a landscape table: portrait again
                    self._new_section(landscape=False)
                if isinstance(block, Heading):
                    self._heading(block)
                elif isinstance(block, Paragraph):
                    self._text(block)
                elif isinstance(block, Figure):
                    self._figure(block)
                elif isinstance(block, Contents):
                    self._contents(block)
            index += 1

    # -- pages and sections --

    def _page_break(self) -> None:
        if not self.fresh:
            self.pending_break = True
            self.fresh = True

    def _new_section(self, *, landscape: bool) -> WordSection:
        """A section starting on a new page; the paragraph that ends the previous one is shrunk
        to nothing so that it never spills onto a page of its own."""
        word = self.word
        section = word.add_section(WD_SECTION.NEW_PAGE)
        # The section that ends keeps its properties in a new last paragraph of its own.
        holder = word.sections[-2]._sectPr.getparent()
        if holder is not None and holder.tag == qn("w:pPr"):
            paragraph = WordParagraph(holder.getparent(), word._body)
            paragraph.style = word.styles["分节"]
        pages = section._sectPr.find(qn("w:pgNumType"))
        if pages is not None:
            section._sectPr.remove(pages)
        _page_setup(section, landscape=landscape)
        self.landscape = landscape
        self.fresh = True
        self.pending_break = False
        return section

    def _paragraph(self, style: str) -> WordParagraph:
        # Each style's id is looked up once: python-docx looks through every style for the
        # default one at each lookup, which cost more than the rest of the paragraph.
        if style not in self.style_ids:
            self.style_ids[style] = self.word.part.get_style_id(style, WD_STYLE_TYPE.PARAGRAPH)
        # Before the body's last child, its section properties, as python-docx puts it, which
        # looks for them from the first child at each paragraph.
        body = self.word.element.body
        p = OxmlElement("w:p")
        if len(body) and body[-1].tag == qn("w:sectPr"):
            body[-1].addprevious(p)
        else:
            body.append(p)
        paragraph = WordParagraph(p, self.word._body)
        paragraph._p.style = self.style_ids[style]
        if self.pending_break:
            paragraph.paragraph_format.page_break_before = True
            self.pending_break = False
        self.fresh = False
        return paragraph

    def _draft_header(self, section: WordSection) -> None:
        header = section.header
        header.is_linked_to_previous = False
        paragraph = header.paragraphs[0]
        paragraph.style = self.word.styles["Header"]
        run = paragraph.add_run(DRAFT_MARK)
        run.font.color.rgb = RGBColor(0xFF, 0, 0)
        run.font.bold = True
        _set_fonts(run._r.get_or_add_rPr(), HEITI)

    def _page_number_footer(self, section: WordSection) -> None:
        paragraph = section.footer.paragraphs[0]
        paragraph.style = self.word.styles["Footer"]
        paragraph.add_run("— ")
        _field(paragraph, "PAGE", "1")
        paragraph.add_run(" —")

    # -- blocks --

    def _bookmark(self, paragraph: WordParagraph, name: str) -> None:
        self.bookmark_id += 1
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(self.bookmark_id))
        start.set(qn("w:name"), name)
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(self.bookmark_id))
        ppr = paragraph._p.pPr
        if ppr is not None:
            ppr.addnext(start)
        else:
            paragraph._p.insert(0, start)
        paragraph._p.append(end)

    def _heading(self, heading: Heading, *, centred: bool = False) -> WordParagraph:
        level = min(max(heading.level, 1), 4)
        paragraph = self._paragraph(HEADING_STYLES[level])
        _add_text(paragraph, heading.text)
        if centred:
            paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _indent_chars(paragraph.paragraph_format, 0, SANHAO)
        name = self.bookmarks.get(id(heading))
        if name:
            self._bookmark(paragraph, name)
        return paragraph

    def _text(self, block: Paragraph) -> None:
        style = {
            "body": "Normal",
            "note": "注释",
            "caption": "Caption",
            "center": "居中",
            "signature": "落款",
        }.get(block.style, "Normal")
        paragraph = self._paragraph(style)
        for segment in block.segments:
            _add_text(paragraph, segment.text)

    def _figure(self, figure: Figure) -> None:
        paragraph = self._paragraph("图片")
        paragraph.add_run().add_picture(str(figure.png), width=FIGURE_WIDTH)
        caption = self._paragraph("Caption")
        _add_text(caption, figure.caption)

    def _contents(self, contents: Contents) -> None:
        """The 目录: a TOC field whose stored result already lists the level 1–2 headings."""
        if not self.fresh:
            self._page_break()
        _add_text(self._paragraph("目录标题"), contents.title)
        headings = self.document.headings(max_level=2)
        first = self._paragraph("toc 1")
        _field_begin(first, 'TOC \\o "1-2" \\h \\z \\u')
        paragraph = first
        for number, heading in enumerate(headings):
            if number:
                paragraph = self._paragraph(f"toc {min(heading.level, 2)}")
            else:
                paragraph.style = self.word.styles[f"toc {min(heading.level, 2)}"]
            name = self.bookmarks[id(heading)]
            link = OxmlElement("w:hyperlink")
            link.set(qn("w:anchor"), name)
            link.set(qn("w:history"), "1")
            paragraph._p.append(link)
            holder = WordParagraph(link, paragraph._parent)
            _add_text(holder, heading.text)
            holder.add_run().add_tab()
            _field(holder, f"PAGEREF {name} \\h")
        _field_end(paragraph if headings else first)
        self._page_break()

    def _table(self, block: TableBlock, headings: Sequence[Heading] = ()) -> None:
        shape = block_layout(block, self.document.unit, self.document.year)
        heading = headings[-1] if headings else None
        named = heading is not None and _names(heading.text, shape.title)
        # What stands above the title: the headings; the last one is the title when it names it.
        above = len(headings) * (SANHAO * 1.5 * LINE_HEIGHT + 12)
        above -= XIAOER * 1.25 * LINE_HEIGHT if named else 0
        fit = fit_table(shape, above_pt=above)
        if fit.landscape != self.landscape:
            self._new_section(landscape=fit.landscape)
        else:
            self._page_break()
        for number, each in enumerate(headings):
            self._heading(each, centred=named and number == len(headings) - 1)
        if not named:
            _add_text(self._paragraph("表标题"), shape.title)
        if shape.year_text:
            year = self._paragraph("表说明")
            year.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _add_text(year, shape.year_text)
        unit_line = self._paragraph("表说明")
        unit_line.paragraph_format.tab_stops.add_tab_stop(
            _text_width(landscape=fit.landscape), WD_TAB_ALIGNMENT.RIGHT
        )
        unit_line.add_run(f"{shape.org_text}\t{shape.unit_text}")
        self._word_table(shape, fit)
        for line in shape.below:
            _add_text(self._paragraph("表注"), line)

    def _form(self, block: FormBlock) -> None:
        """A form under its title and year: in the flow of the text when it keeps portrait (on
        one page when it fits one), else on a landscape section of its own."""
        shape = block.layout
        above = SIHAO * 1.25 * LINE_HEIGHT + XIAOSI * 1.25 * LINE_HEIGHT
        largest = SANHAO if block.in_text else TABLE_MAX_PT
        fit = fit_table(shape, above_pt=above, largest_pt=largest)
        if fit.landscape:
            if self.landscape:
                self._page_break()
            else:
                self._new_section(landscape=True)
        elif self.landscape:
            self._new_section(landscape=False)
        if shape.title:  # an untitled form (单位构成) follows its sentence without a gap
            title = self._paragraph("表标题")
            _add_text(title, shape.title).font.size = Pt(SIHAO)
            title.paragraph_format.space_before = Pt(6)
        if shape.year_text:
            year = self._paragraph("表说明")
            year.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _add_text(year, shape.year_text)
        whole = fit.height_pt <= _text_height(landscape=fit.landscape)
        self._word_table(shape, fit, keep_together=whole)
        if shape.note:
            _add_text(self._paragraph("表注"), shape.note)

    def _word_table(
        self, shape: TableLayout, fit: TableFit, *, keep_together: bool = False
    ) -> None:
        # The table is written as one piece of markup and parsed once: element by element it
        # took a third of the document's time (tens of thousands of cells' parts).
        twips = [round(w * 20) for w in fit.widths_pt]
        grid = "".join(f'<w:gridCol w:w="{t}"/>' for t in twips)
        borders = "".join(_border(s) for s in BORDER_SIDES)
        rows: list[str] = []
        size = fit.font_pt
        covered: dict[tuple[int, int], LayoutCell] = {}  # (row, column) under a taller cell
        for number, row in enumerate(shape.header):
            starts = {c.column: c for c in row.cells}
            cells = []
            column = 0
            while column < len(twips):
                cell = starts.get(column)
                if cell is not None:
                    for below in range(1, cell.rowspan):
                        covered[(number + below, column)] = cell
                    room = sum(fit.widths_pt[column : cell.last_column + 1])
                    text = _header_text(cell.text, room, size)
                    merge = "restart" if cell.rowspan > 1 else None
                    cells.append(_cell_markup(cell, twips, size, text, merge=merge))
                    column += cell.colspan
                elif (number, column) in covered:
                    above = covered[(number, column)]
                    cells.append(_cell_markup(above, twips, size, "", merge="continue"))
                    column += above.colspan
                else:  # not expected from table_layout; keep the grid whole
                    cells.append(_cell_markup(LayoutCell("", column, "blank"), twips, size, ""))
                    column += 1
            rows.append(_row_markup(cells, header=True))
        for number, row in enumerate(shape.body):
            # Kept with the next row (all but the last), a table stays on one page.
            keep = keep_together and number < len(shape.body) - 1
            cells = [_cell_markup(c, twips, size, c.text, keep_next=keep) for c in row.cells]
            rows.append(_row_markup(cells, header=False))
        table = parse_xml(
            f"<w:tbl {nsdecls('w')}><w:tblPr>"
            f'<w:tblStyle w:val="TableGrid"/>'
            f'<w:tblW w:w="{sum(twips)}" w:type="dxa"/><w:jc w:val="center"/>'
            f"<w:tblBorders>{borders}</w:tblBorders>"
            f'<w:tblLayout w:type="fixed"/>'
            f'<w:tblCellMar><w:top w:w="0" w:type="dxa"/>'
            f'<w:left w:w="{round(CELL_PADDING_PT * 20)}" w:type="dxa"/>'
            f'<w:bottom w:w="0" w:type="dxa"/>'
            f'<w:right w:w="{round(CELL_PADDING_PT * 20)}" w:type="dxa"/></w:tblCellMar>'
            f'<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" '
            f'w:lastColumn="0" w:noHBand="1" w:noVBand="1"/>'
            f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}"
            f"</w:tbl>"
        )
        self.word.element.body._insert_tbl(table)
        self.fresh = False


BORDER_SIDES = ("top", "left", "bottom", "right", "insideH", "insideV")


def _border(side: str) -> str:
    return f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'


def _row_markup(cells: list[str], *, header: bool) -> str:
    heading = "<w:tblHeader/>" if header else ""
    return f"<w:tr><w:trPr><w:cantSplit/>{heading}</w:trPr>{''.join(cells)}</w:tr>"


def _cell_markup(
    cell: LayoutCell,
    twips: Sequence[int],
    size: float,
    text: str,
    merge: str | None = None,
    *,
    keep_next: bool = False,
) -> str:
    """A table cell (w:tc) as markup: width, spans, shading, then its text line by line."""
    properties = [f'<w:tcW w:w="{sum(twips[cell.column : cell.last_column + 1])}" w:type="dxa"/>']
    if cell.colspan > 1:
        properties.append(f'<w:gridSpan w:val="{cell.colspan}"/>')
    if merge == "restart":
        properties.append('<w:vMerge w:val="restart"/>')
    elif merge:
        properties.append("<w:vMerge/>")
    if cell.shade:
        properties.append('<w:shd w:val="clear" w:color="auto" w:fill="F2F2F2"/>')
    properties.append('<w:vAlign w:val="center"/>')

    paragraph = ['<w:pStyle w:val="TableText"/>']
    if keep_next:
        paragraph.append("<w:keepNext/>")
    paragraph.append(f'<w:spacing w:line="{round(size * TABLE_LINE * 20)}" w:lineRule="exact"/>')
    if cell.indent:
        paragraph.append(
            f'<w:ind w:left="{round(cell.indent * size * 20)}" w:leftChars="{cell.indent * 100}"/>'
        )
    paragraph.append(f'<w:jc w:val="{cell.align}"/>')

    bold = "<w:b/><w:bCs/>" if cell.bold else ""
    half_points = round(size * 2)
    run = f'<w:rPr>{bold}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>'
    runs = "".join(
        f"<w:r>{run}{'<w:br/>' if number else ''}"
        f'<w:t xml:space="preserve">{escape(line, quote=False)}</w:t></w:r>'
        for number, line in enumerate(text.split("\n") if text else [])
    )
    return (
        f"<w:tc><w:tcPr>{''.join(properties)}</w:tcPr>"
        f"<w:p><w:pPr>{''.join(paragraph)}</w:pPr>{runs}</w:p></w:tc>"
    )


def _names(heading: str, title: str) -> bool:
    """Whether a heading names the table ("一、收入支出决算总表" names 收入支出决算总表)."""
    return re.sub(r"\s", "", heading).endswith(re.sub(r"\s", "", title))


def _cover_title(document: Document) -> list[str]:
    """The cover's title lines: "2020年度 / 泸州市… / 部门决算" when the title is unit, year and
    kind, as the reference cover prints it; else the title and the unit."""
    title = re.sub(r"\s", "", document.title)
    year = f"{document.year}年度"
    unit = document.unit
    if unit and title.startswith(unit) and title[len(unit) :].startswith(year):
        rest = title[len(unit) + len(year) :]
        return [year, unit, *([rest] if rest else [])]
    return [document.title, *([unit] if unit and unit not in title else [])]


__all__ = ["DRAFT_MARK", "TableFit", "fit_table", "write_docx"]

"""The disclosure as PDF, typeset by Typst (the `typst` wheel, no external program).

`write_pdf(document, path)` turns a `Document` into Typst markup (`typst_source`) and compiles it
with the CJK fonts found on this system (`juesuan.fonts`), which are embedded in the PDF. The look
is that of an official document: A4, margins 3.7/3.5/2.8/2.6 cm, a 仿宋-like serif body (Noto
Serif CJK SC) with 黑体-like headings (Noto Sans CJK SC), 1.5 line spacing, 2-character first-line
indents; a cover page; the 目录 with true page numbers; headings as PDF bookmarks; page numbers
"— 1 —" from the page after the cover; figures 14 cm wide with their caption; the statements
tables as `juesuan.publish.table_layout` lays them out, on landscape pages when they are wide; the
forms (`FormBlock`: 项目绩效目标完成情况表 …) drawn the same way, in the flow of the text and kept
on one page when they fit the page's width and height, on landscape pages of their own when wide.

Every text of the document reaches Typst as a string literal (`#"…"`), never as markup, so no
character of it can be read as Typst syntax.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import typst

from juesuan.document.model import (
    Block,
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
from juesuan.fonts import (
    ENV_VAR,
    FontMissing,
    file_named,
    font_chain,
    font_source,
    is_serif,
    require_glyphs,
)
from juesuan.publish.table_layout import (
    CELL_SLACK,
    LayoutCell,
    TableLayout,
    block_layout,
    break_lines,
    display_width,
)

DRAFT_MARK = "草稿（未通过审核，不得公开）"
WATERMARK = "草稿"

# Page geometry (cm). Portrait text pages: top, bottom, left, right as for official documents.
MARGINS = (3.7, 3.5, 2.8, 2.6)
# Landscape pages for wide tables: narrower margins, so the table keeps a readable size.
WIDE_MARGINS = (2.2, 2.2, 2.5, 2.5)
A4 = (21.0, 29.7)
FIGURE_WIDTH_CM = 14.0

BODY_SIZE = 12  # pt, 小四
LEADING = 1.05  # em: with the cap height (about 0.75 em) a line pitch of 1.8 em
# A portrait table this many pages long is set at 8 pt when that keeps it on one page.
ALMOST_ONE_PAGE = 1.35
CELL_INSET = 3.5  # pt, left and right inside a table cell
ROW_INSET = 0.36  # em, above and below the text of a table row
TABLE_LEADING = 0.45  # em, between the lines of a wrapped cell
LINE_HEIGHT = 0.8  # em, the height of one line of CJK text (cap height to baseline, roughly)
CM = 72 / 2.54  # points per centimetre

# Preferred families when a font file holds several (a Noto CJK .ttc holds JP, KR, SC, TC, HK).
_SIMPLIFIED = re.compile(r"\b(SC|CN|GB|Simplified)\b|简")
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_\-.:]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# "/BaseFont/ABCDEF+NotoSerifCJKsc-Regular": a subset's tag, then the face's PostScript name
_BASE_FONT = re.compile(rb"/BaseFont\s*/(?:[A-Z]{6}\+)?([^\s/\[\]<>()]+)")


def write_pdf(document: Document, path: Path) -> list[tuple[str, Path | None]]:
    """Typeset `document` as a PDF at `path`, written to a temporary file and renamed into place;
    return the fonts it embeds (subsets: only the glyphs used), as `embedded_fonts` names them.

    With SOURCE_DATE_EPOCH set, the PDF's dates are that time and its bytes are reproducible.
    Raises `juesuan.fonts.FontMissing`, naming the characters and where they are, when a
    character of the text has no glyph in any font (it would print as a box), and
    `typst.TypstError` if the markup does not compile.
    """
    chain = font_chain()
    chosen = bool(chain) and font_source(chain[0]) == ENV_VAR  # the user's font leads both
    fonts, body, headings = _fonts(tuple(str(f) for f in chain), chosen)
    source = typst_source(document, body_font=body, heading_font=headings)
    require_glyphs([("PDF 文本", source)])
    with replaced(path) as temporary:
        typst.compile(
            source.encode("utf-8"),
            output=str(temporary),
            format="pdf",
            root="/",  # figures are referred to by absolute path
            font_paths=fonts,
            ignore_system_fonts=True,
            timestamp=_source_date(),
        )
    return embedded_fonts(path.read_bytes())


def embedded_fonts(data: bytes) -> list[tuple[str, Path | None]]:
    """The fonts a PDF embeds, as (PostScript name, font file or None when not one of ours)."""
    names = dict.fromkeys(
        name.decode("latin-1").removesuffix("-Identity-H") for name in _BASE_FONT.findall(data)
    )
    return [(name, file_named(name)) for name in names]


def _source_date() -> int | None:
    """SOURCE_DATE_EPOCH when set (reproducible builds: the same document gives the same bytes);
    otherwise None, and the PDF records the time it was made."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else None


def typst_source(
    document: Document,
    *,
    body_font: str | Sequence[str] = "Noto Serif CJK SC",
    heading_font: str | Sequence[str] = "Noto Sans CJK SC",
) -> str:
    """The Typst markup of `document` (what `write_pdf` compiles); a font is a family or a list
    of families, the first that has a glyph drawing each character."""
    return _Writer(document, body_font, heading_font).source()


def typst_string(text: str) -> str:
    """`text` as a Typst string literal: a backslash, a quote and control characters escaped."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
        .replace("\t", "\\t")
    )
    escaped = _CONTROL.sub(lambda m: f"\\u{{{ord(m.group()):x}}}", escaped)
    return f'"{escaped}"'


def _text(text: str) -> str:
    """`text` as markup content: a string literal embedded in markup."""
    return f"#{typst_string(text)}"


# ---- fonts -----------------------------------------------------------------------------------


@cache
def _fonts(
    files: tuple[str, ...], chosen: bool = False
) -> tuple[typst.Fonts, tuple[str, ...], tuple[str, ...]]:
    """The fonts typst may use (the folders of `files`, the chain of `juesuan.fonts`) and the
    body (serif first) and heading (sans first) families: the Simplified Chinese face of each
    file, in the chain's order, so a character missing from one is drawn by the next. A
    `chosen` first file (JUESUAN_CJK_FONT) leads both."""
    if not files:
        raise FontMissing()
    dirs = list(dict.fromkeys(str(Path(f).parent) for f in files))
    fonts = typst.Fonts(include_system_fonts=False, font_paths=dirs)
    by_file: dict[Path, list[str]] = {}
    for info in fonts.fonts():
        if info.path:
            by_file.setdefault(Path(info.path), []).append(info.family)
    chain: list[tuple[str, bool]] = []  # (family, serif)
    for file in map(Path, files):
        families = [f for f in by_file.get(file, []) if "mono" not in f.lower()]
        if families:
            family = next((f for f in families if _SIMPLIFIED.search(f)), families[0])
            chain.append((family, is_serif(f"{file.name} {family}")))
    if not chain:
        raise FontMissing()
    families = list(dict.fromkeys(family for family, _ in chain))
    serif = [family for family, is_serif in chain if is_serif]
    sans = [family for family, is_serif in chain if not is_serif]
    lead = families[:1] if chosen else []
    body = tuple(dict.fromkeys([*lead, *serif[:1], *families]))
    headings = tuple(dict.fromkeys([*lead, *sans[:1], *families]))
    return fonts, body, headings


# ---- markup ----------------------------------------------------------------------------------


def _font_list(families: Sequence[str]) -> str:
    """A Typst array of font families, each once, in order."""
    return "(" + ", ".join(typst_string(f) for f in dict.fromkeys(families)) + ",)"


def _page_margin(margins: Sequence[float]) -> str:
    top, bottom, left, right = margins
    return f"(top: {top}cm, bottom: {bottom}cm, left: {left}cm, right: {right}cm)"


class _Writer:
    def __init__(
        self, document: Document, body_font: str | Sequence[str], heading_font: str | Sequence[str]
    ):
        self.document = document
        body = [body_font] if isinstance(body_font, str) else list(body_font)
        headings = [heading_font] if isinstance(heading_font, str) else list(heading_font)
        self.fonts = _font_list([*body, *headings])
        self.heading_fonts = _font_list([*headings, *body])
        self.out: list[str] = []

    def source(self) -> str:
        self.preamble()
        self.cover()
        last_level = 0
        blocks = breaks_before_headings(self.document.blocks)
        leading: list[Heading] = []  # headings printed with the table they introduce
        for position, block in enumerate(blocks):
            if isinstance(block, Heading):
                if _introduces_table(blocks, position):
                    leading.append(block)
                else:
                    self.heading(block)
                last_level = block.level
            elif isinstance(block, Paragraph):
                self.paragraph(block)
            elif isinstance(block, Figure):
                self.figure(block)
            elif isinstance(block, TableBlock):
                titled = bool(leading) and block.table.title in leading[-1].text
                self.table(block, leading, None if titled else min(last_level + 1, 6))
                leading = []
            elif isinstance(block, FormBlock):
                self.form(block)
            elif isinstance(block, Contents):
                self.contents(block)
            elif isinstance(block, PageBreak):
                self.out.append("#pagebreak(weak: true)")
        return "\n".join(self.out) + "\n"

    # The look of every page.
    def preamble(self) -> None:
        doc = self.document
        draft = doc.draft
        header = (
            f"align(center, text(font: {self.heading_fonts}, size: 10.5pt, fill: rgb(200, 0, 0))"
            f"[{_text(DRAFT_MARK)}])"
            if draft
            else "none"
        )
        background = (
            f"place(center + horizon, rotate(-40deg, text(font: {self.heading_fonts}, "
            f"size: 110pt, fill: rgb(220, 0, 0, 30))[{_text(WATERMARK)}]))"
            if draft
            else "none"
        )
        self.out += [
            f"#set document(title: {typst_string(doc.title)}, author: {typst_string(doc.unit)})",
            f'#set text(font: {self.fonts}, size: {BODY_SIZE}pt, lang: "zh", region: "cn")',
            "#set page(",
            '  paper: "a4",',
            f"  margin: {_page_margin(MARGINS)},",
            f"  header: {header},",
            f"  background: {background},",
            "  footer: context align(center, text(size: 10.5pt)[— #counter(page).display() —]),",
            ")",
            # 1.5 line spacing as Word sets it for a Chinese font: a line pitch of about 1.8 em
            # (typst's leading is the gap between one line's baseline and the next's cap height).
            f"#set par(justify: true, leading: {LEADING}em, spacing: {LEADING}em,"
            " first-line-indent: (amount: 2em, all: true))",
            f"#set block(spacing: {LEADING}em)",
            "#set heading(numbering: none)",
            f'#show heading: set text(font: {self.heading_fonts}, weight: "bold")',
            "#show heading: set block(above: 1.4em, below: 1em)",
            "#show heading.where(level: 1): set text(size: 16pt)",
            "#show heading.where(level: 1): set align(center)",
            "#show heading.where(level: 1): set block(above: 1.8em, below: 1.2em)",
            "#show heading.where(level: 2): set text(size: 14pt)",
            # 一、（一）、1. are indented like the body's first lines, as in official documents.
            "#show heading.where(level: 2): it => block(sticky: true)[#h(2em)#it.body]",
            # （一） bold at the body's size, as published: in the heading face, which has a bold.
            f"#show heading.where(level: 3): set text(size: {BODY_SIZE}pt)",
            "#show heading.where(level: 3): it => block(sticky: true)[#h(2em)#it.body]",
            f"#show heading.where(level: 4): set text(font: {self.fonts}, size: {BODY_SIZE}pt)",
            "#show heading.where(level: 4): it => block(sticky: true)[#h(2em)#it.body]",
            "#show heading.where(level: 5): it => block(sticky: true)[#h(2em)#it.body]",
            "#show heading.where(level: 6): it => block(sticky: true)[#h(2em)#it.body]",
            "#set outline(indent: 2em)",
            "#show outline: set heading(bookmarked: true)",
            f"#show outline.entry.where(level: 1): set text(font: {self.heading_fonts})",
            "#show outline.entry.where(level: 1): set block(above: 1.1em)",
            "",
        ]

    def cover(self) -> None:
        doc = self.document
        lines = cover_title(doc)
        title = " \\ ".join(_text(line) for line in lines)
        self.out += [
            "#page(footer: none)[",
            "  #set par(first-line-indent: 0pt, justify: false, leading: 0.9em)",
            "  #v(18%)",
            f'  #align(center, text(font: {self.heading_fonts}, size: 26pt, weight: "bold")'
            f"[{title}])",
            "  #v(1fr)",
        ]
        for line in cover_lines(doc, lines):
            self.out.append(f"  #align(center, text(size: 15pt)[{_text(line)}])")
        self.out += ["  #v(16%)", "]", "#counter(page).update(1)", ""]

    def contents(self, block: Contents) -> None:
        self.out += [
            "#pagebreak(weak: true)",
            f"#outline(title: [{_text(block.title)}], depth: 2)",
            "#pagebreak(weak: true)",
        ]

    def heading(self, block: Heading) -> None:
        level = min(max(1, block.level), 6)
        label = f" <{block.anchor}>" if _LABEL.match(block.anchor) else ""
        self.out.append(f"#heading(level: {level})[{_text(block.text)}]{label}")

    def paragraph(self, block: Paragraph) -> None:
        text = _text(block.text)
        style = block.style
        if style == "center":
            line = f"#align(center)[{text}]"
        elif style == "caption":
            line = f"#align(center, text(size: 10.5pt)[{text}])"
        elif style == "signature":
            line = f"#align(right)[{text}]"
        elif style == "note":
            line = f"#text(size: 10.5pt, par[{text}])"
        else:
            line = f"#par[{text}]"
        self.out.append(line)

    def figure(self, block: Figure) -> None:
        png = Path(block.png).resolve()
        if not png.is_file():
            raise FileNotFoundError(f"图片文件不存在：{png}")
        image = typst_string(png.as_posix())
        self.out += [
            "#block(breakable: false, width: 100%, above: 1.2em, below: 1.4em)[",
            f"  #align(center, image({image}, width: {FIGURE_WIDTH_CM}cm,"
            f" alt: {typst_string(block.caption)}))",
            "  #v(0.3em)",
            f"  #align(center, text(size: 10.5pt, font: {self.heading_fonts})"
            f"[{_text(block.caption)}])",
            "]",
        ]

    def table(
        self, block: TableBlock, leading: Sequence[Heading], bookmark_level: int | None
    ) -> None:
        """The table on pages of its own (landscape when wide), after the headings that lead
        into it, so that a heading never ends a page with its table on the next."""
        doc = self.document
        grid = block_layout(block, doc.unit, doc.year)
        wide, size = _table_format(grid)
        self.out.append("#pagebreak(weak: true)")
        if wide:
            self.out.append(f"#page(flipped: true, margin: {_page_margin(WIDE_MARGINS)})[")
        # A leading heading that names the table (一、收入支出决算总表) is printed as its title.
        titled = bool(leading) and block.table.title in leading[-1].text
        for heading in leading[:-1] if titled else leading:
            self.heading(heading)
        title_markup = None
        if titled:
            last = leading[-1]
            label = f" <{last.anchor}>" if _LABEL.match(last.anchor) else ""
            title_markup = (
                "#[#show heading: it => align(center, text(size: 16pt)[#it.body])\n"
                f"#heading(level: {min(max(1, last.level), 6)})[{_text(last.text)}]{label}]"
            )
        width = _text_width(wide)
        self.out += _table_markup(
            grid, size, width, self.heading_fonts, bookmark_level, title_markup
        )
        if wide:
            self.out.append("]")
        self.out.append("#pagebreak(weak: true)")

    def form(self, block: FormBlock) -> None:
        """A form under its title: in the flow of the text (on one page when it fits one) when
        it fits the page's width, else on landscape pages of its own. One read as part of the
        text (the 单位构成 list) is set at the body's size when that fits across."""
        grid = block.layout
        wide, size = _table_format(grid)
        if block.in_text and _fits_across(grid, BODY_SIZE, False):
            wide, size = False, BODY_SIZE  # read as part of the text: at the body's size
        width = _text_width(wide)
        if wide:  # a size smaller when that keeps the form on one page
            page = _text_height(True)
            smaller = [s for s in (8.0, 7.5) if s < size and _fits_across(grid, s, True)]
            if _form_height(grid, size, width) > page:
                size = next((s for s in smaller if _form_height(grid, s, width) <= page), size)
        markup = _table_markup(
            grid,
            size,
            width,
            self.heading_fonts,
            None,
            title_size=FORM_TITLE,
            row_inset=FORM_ROW_INSET,
        )
        if wide:
            self.out += [
                "#pagebreak(weak: true)",
                f"#page(flipped: true, margin: {_page_margin(WIDE_MARGINS)})[",
                *markup,
                "]",
                "#pagebreak(weak: true)",
            ]
            return
        whole = _form_height(grid, size, width) <= _text_height(False) * 0.95
        self.out += [
            f"#block(breakable: {'false' if whole else 'true'}, width: 100%, above: 1.2em,"
            " below: 1.4em)[",
            *markup,
            "]",
        ]


FORM_TITLE = 14.0  # pt, the title of a form in the flow of the text


def _fits_across(grid: TableLayout, size: float, wide: bool) -> bool:
    return _needed_width(grid, size) <= _text_width(wide)


def _form_height(grid: TableLayout, size: float, width: float) -> float:
    """Estimated points a form takes: every row as tall as its most wrapped cell, the title,
    year and note around it."""
    points = _column_points(grid, size, width)
    line = size * LINE_HEIGHT
    gap = size * TABLE_LEADING
    height = FORM_TITLE * 1.6 + 10.5 * 1.6 + (10.5 * 1.6 * 2 if grid.note else 0)
    for row in grid.rows:
        lines = 1
        for cell in row.cells:
            room = sum(points[cell.column : cell.last_column + 1]) - 2 * CELL_INSET
            need = display_width(cell.text) * size / 2
            lines = max(lines, math.ceil(need / max(room, size)))
        height += lines * line + (lines - 1) * gap + 2 * size * FORM_ROW_INSET
    return height * FORM_SAFETY


FORM_ROW_INSET = 0.3  # em: a form's rows are closer than a table's, its texts wrap more
FORM_SAFETY = 1.05  # the estimate runs short: lines break before their last character


def cover_title(document: Document) -> list[str]:
    """The cover's title lines: "2020年度 / 泸州市… / 部门决算" when the title is unit, year and
    kind, as the reference cover prints it; else the title (and the unit when not in it)."""
    title = re.sub(r"\s", "", document.title)
    year = f"{document.year}年度"
    unit = document.unit
    if unit and title.startswith(unit) and title[len(unit) :].startswith(year):
        rest = title[len(unit) + len(year) :]
        return [year, unit, *([rest] if rest else [])]
    return [document.title, *([unit] if unit and unit not in title else [])]


def cover_lines(document: Document, title: Sequence[str]) -> list[str]:
    """The cover lines under the title, less those that only repeat a title line."""
    shown = {re.sub(r"\s", "", line) for line in title}
    return [line for line in document.cover_lines if re.sub(r"\s", "", line) not in shown]


def breaks_before_headings(blocks: Sequence[Block]) -> list[Block]:
    """The blocks with each page break that directly follows headings moved before them, so
    that a heading never ends a page while its text starts the next."""
    result: list[Block] = []
    for block in blocks:
        if isinstance(block, PageBreak):
            start = len(result)
            while start and isinstance(result[start - 1], Heading):
                start -= 1
            result.insert(start, block)
        else:
            result.append(block)
    return result


def _introduces_table(blocks: Sequence[object], position: int) -> bool:
    """Whether the heading at `position` is followed, after headings only, by a table."""
    for block in blocks[position + 1 :]:
        if not isinstance(block, Heading):
            return isinstance(block, TableBlock)
    return False


def _text_width(wide: bool) -> float:
    """Points across the text area of a portrait page, or of a landscape table page."""
    if wide:
        return (A4[1] - WIDE_MARGINS[2] - WIDE_MARGINS[3]) * CM
    return (A4[0] - MARGINS[2] - MARGINS[3]) * CM


def _text_height(wide: bool) -> float:
    if wide:
        return (A4[0] - WIDE_MARGINS[0] - WIDE_MARGINS[1]) * CM
    return (A4[1] - MARGINS[0] - MARGINS[1]) * CM


def _table_format(grid: TableLayout) -> tuple[bool, float]:
    """(landscape, font size) for a table. Portrait at a readable size (9 or 8 pt) when it fits
    across; otherwise the first of landscape 9 and 8 pt, portrait 7.5 pt and landscape 7.5 and 7 pt
    that fits across and on one page, else portrait 7.5 pt for a long table (more rows to a page),
    else the largest landscape size that fits across, down to 7 pt."""

    def fits(option: tuple[bool, float]) -> bool:
        return _needed_width(grid, option[1]) <= _text_width(option[0])

    def one_page(option: tuple[bool, float]) -> bool:
        return _pages(grid, *option) <= 1

    portrait = [o for o in ((False, 9.0), (False, 8.0)) if fits(o)]
    if portrait:
        if not one_page(portrait[0]) and _pages(grid, *portrait[0]) <= ALMOST_ONE_PAGE:
            return next((o for o in portrait if one_page(o)), portrait[0])
        return portrait[0]
    fitting = [
        o for o in ((True, 9.0), (True, 8.0), (False, 7.5), (True, 7.5), (True, 7.0)) if fits(o)
    ]
    for option in fitting:
        if one_page(option):
            return option
    if fits((False, 7.5)):
        return False, 7.5
    return fitting[0] if fitting else (True, 7.0)


def _pages(grid: TableLayout, wide: bool, size: float) -> float:
    """Estimated pages the table fills: rows of one line each, plus the header's broken lines,
    the title lines above and the note below."""
    line = size * LINE_HEIGHT
    row = line + 2 * size * ROW_INSET
    points = _column_points(grid, size, _text_width(wide))
    header = 0.0
    for layout_row in grid.header:
        lines = [
            _header_text(cell, points, size).count("\n") + 1
            for cell in layout_row.cells
            if cell.rowspan == 1
        ]
        header += row + (max(lines, default=1) - 1) * (line + size * TABLE_LEADING)
    around = 16 * 1.6 + 2 * 10.5 * 1.6 + (10.5 * 1.6 if grid.note else 0)
    return (around + header + len(grid.body) * row) / _text_height(wide)


def _needed_width(grid: TableLayout, size: float) -> float:
    """Points a table needs at font size `size`: its character units plus the cells' insets."""
    return grid.total_width * size / 2 + len(grid.columns) * 2 * CELL_INSET


def _column_points(grid: TableLayout, size: float, width: float) -> list[float]:
    """Each column's width in points, the layout's widths scaled to fill `width`."""
    scale = width / _needed_width(grid, size)
    return [(w * size / 2 + 2 * CELL_INSET) * scale for w in grid.widths]


def _header_text(cell: LayoutCell, points: Sequence[float], size: float) -> str:
    """A header text broken between words to fit its cell."""
    room = sum(points[cell.column : cell.last_column + 1]) - 2 * CELL_INSET
    return break_lines(cell.text, room / (size / 2) + CELL_SLACK)


def _table_markup(
    grid: TableLayout,
    size: float,
    width: float,
    heading_fonts: str,
    bookmark_level: int | None,
    title_markup: str | None = None,
    *,
    title_size: float = 16,
    row_inset: float = ROW_INSET,
) -> list[str]:
    """The table's title, year and 编制单位/单位 lines, the table, its empty statement and note."""
    title = _text(grid.title)
    if title_markup is not None:
        title_line = title_markup
    elif bookmark_level is None:
        title_line = (
            f"#align(center, text(font: {heading_fonts}, size: {title_size:g}pt,"
            f' weight: "bold")[{title}])'
        )
    else:
        # A heading (kept out of the 目录) so that the table gets a PDF bookmark.
        title_line = (
            "#[#show heading: it => align(center, text(size: 16pt)[#it.body])\n"
            f"#heading(level: {bookmark_level}, outlined: false, bookmarked: true)[{title}]]"
        )
    lines = ["#[", "#set par(first-line-indent: 0pt, justify: false)"]
    if grid.title or title_markup is not None:  # an untitled form (单位构成) has no empty line
        lines.append(title_line)
    sub = []
    if grid.year_text:
        sub.append(f"#align(center, text(size: 10.5pt)[{_text(grid.year_text)}])")
    if grid.org_text or grid.unit_text:
        sub.append(
            "#grid(columns: (1fr, auto), column-gutter: 1em,"
            f" align(left, [{_text(grid.org_text)}]), align(right, [{_text(grid.unit_text)}]))"
        )
    lines += [
        f"#block(sticky: true, width: 100%, below: 0.5em)[#set text(size: {min(size + 1.5, 10.5)}pt)",
        *sub,
        "]",
    ]

    points = _column_points(grid, size, width)
    columns = ", ".join(f"{w / sum(points):.4f}fr" for w in points)
    y_inset = f"{size * row_inset:.2f}pt"
    cells: list[str] = []
    header: list[str] = []
    for row in grid.header:
        for cell in row.cells:
            text = _header_text(cell, points, size)
            header.append(_cell_markup(cell, text, header=True, y_inset=y_inset))
    for row in grid.body:
        for cell in row.cells:
            cells.append(_cell_markup(cell, cell.text, header=False, y_inset=y_inset))
    lines += [
        "#{",
        f'  set text(size: {size}pt, number-width: "tabular")',
        f"  set par(leading: {TABLE_LEADING}em)",
        "  table(",
        f"    columns: ({columns},),",
        "    stroke: 0.5pt,",
        f"    inset: (x: {CELL_INSET}pt, y: {y_inset}),",
        "    align: horizon,",
        *([f"    table.header(repeat: true, {', '.join(header)}),"] if header else []),
        *(f"    {c}," for c in cells),
        "  )",
        "}",
    ]
    below = grid.below
    if below:
        lines.append(f"#block(above: 0.6em)[#set text(size: {min(size + 1.5, 10.5)}pt)")
        lines += [f"#par[{_text(t)}]" for t in below]
        lines.append("]")
    lines.append("]")
    return lines


def _cell_markup(cell: LayoutCell, text: str, *, header: bool, y_inset: str) -> str:
    """`table.cell(...)` for one layout cell."""
    args = []
    if cell.colspan > 1:
        args.append(f"colspan: {cell.colspan}")
    if cell.rowspan > 1:
        args.append(f"rowspan: {cell.rowspan}")
    align = {"left": "left", "center": "center", "right": "right"}.get(cell.align, "left")
    args.append(f"align: {align} + horizon")
    if cell.indent:
        args.append(
            f"inset: (left: {CELL_INSET}pt + {cell.indent}em, right: {CELL_INSET}pt, y: {y_inset})"
        )
    if header or cell.shade:
        args.append("fill: luma(242)")
    # An empty cell keeps a line's height, so a row with no figure (an empty table's) shows.
    content = _text(text) if text else "#hide[0]"
    if text and (cell.bold or header):
        content = f"#strong[{content}]"
    return f"table.cell({', '.join(args)})[{content}]"

"""The disclosure as one self-contained HTML file, readable on a phone and printable.

`write_html(document, path)` writes a single file with no external assets: the style sheet is
inline and the figures are embedded as data: URIs (the SVG when there is one, else the PNG). The
page has the cover, a 目录 linking to each heading's anchor, semantic headings (the document's
title is the one `h1`; heading level n is `h(n+1)`), and the statements tables as
`juesuan.publish.table_layout` lays them out — a real `<thead>`, merged cells as colspan/rowspan,
amounts right-aligned, each table scrolling sideways on a narrow screen — and the forms
(`FormBlock`: 项目绩效目标完成情况表 …) drawn the same way in the flow of the text, their section
and column heads shaded. A draft carries a banner. Every text is escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from juesuan.document.model import (
    Contents,
    Document,
    Figure,
    FormBlock,
    Heading,
    PageBreak,
    Paragraph,
    Ref,
    TableBlock,
)
from juesuan.files import replaced
from juesuan.publish.pdf import breaks_before_headings, cover_lines, cover_title
from juesuan.publish.table_layout import LayoutCell, LayoutRow, TableLayout, block_layout

DRAFT_MARK = "草稿（未通过审核，不得公开）"
PARAGRAPH_STYLES = ("body", "note", "caption", "center", "signature")
WIDE_TABLE = 100  # character units: a wider table prints on a landscape page
NARROW_TABLE = 40  # em: a table this narrow keeps to the width of the text

STYLE = """
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --rule: #9a9a9a; --head: #f1f3f5;
  --accent: #8b1a1a; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.8; font-size: 17px;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB",
  "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; }
main { padding: 0 1rem 3rem; }
.cover, main > h2, main > h3, main > h4, main > h5, main > h6, main > p, main > nav,
main > figure, main > hr { max-width: 44rem; margin-left: auto; margin-right: auto; }
.cover { text-align: center; padding: 3rem 1rem 2rem; border-bottom: 1px solid #ddd;
  margin-bottom: 1.5rem; }
.cover h1 { font-size: 1.75rem; line-height: 1.45; margin: 0 0 1rem; }
.cover h1 span { display: block; }
.cover p { margin: 0.3rem 0; color: var(--muted); text-align: center; }
h2, h3, h4, h5, h6 { line-height: 1.5; scroll-margin-top: 3.5rem; }
h2 { font-size: 1.4rem; text-align: center; margin: 2.5rem auto 1.25rem; }
h3 { font-size: 1.18rem; margin: 1.75rem auto 0.75rem; }
h4 { font-size: 1.05rem; margin: 1.25rem auto 0.5rem; }
h5, h6 { font-size: 1rem; margin: 1rem auto 0.5rem; }
p { margin: 0.6rem auto; text-align: justify; overflow-wrap: anywhere; }
p.body { text-indent: 2em; }
p.note { font-size: 0.9rem; color: var(--muted); text-indent: 2em; }
p.center, p.caption { text-align: center; }
p.caption { font-size: 0.92rem; }
p.signature { text-align: right; }
.ref { font-variant-numeric: tabular-nums; }
nav.toc { margin-top: 1rem; margin-bottom: 2rem; }
nav.toc h2 { margin-top: 1rem; }
nav.toc ol { list-style: none; margin: 0; padding: 0; }
nav.toc ol ol { padding-left: 2em; }
nav.toc li { margin: 0.25rem 0; }
nav.toc > ol > li > a { font-weight: 600; }
a { color: #0b4f9c; text-decoration: none; }
a:hover, a:focus { text-decoration: underline; }
figure { margin: 1.5rem auto; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.92rem; margin-top: 0.4rem; }
hr.page-break { border: 0; margin: 1.5rem auto; }
section.statement { max-width: 80rem; margin: 2.5rem auto; }
section.statement.narrow { max-width: 44rem; }
.scroll-hint { display: none; }
.statement .table-title { font-size: 1.2rem; font-weight: 700; text-align: center; margin: 0;
  line-height: 1.5; scroll-margin-top: 3.5rem; }
.statement .table-year { text-align: center; margin: 0; color: var(--muted); }
.statement .table-meta { display: flex; flex-wrap: wrap; justify-content: space-between;
  gap: 0 1rem; font-size: 0.88rem; margin: 0.25rem 0; }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; border: 1px solid var(--rule); }
table { border-collapse: collapse; font-size: 0.85rem; line-height: 1.45; width: 100%; }
th, td { border: 1px solid var(--rule); padding: 0.3rem 0.5rem; vertical-align: middle; }
.table-wrap table { border-style: hidden; }
thead th { background: var(--head); font-weight: 700; text-align: center; }
td { white-space: nowrap; }
td.label { white-space: normal; min-width: 9em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.center { text-align: center; }
tr.total td { font-weight: 700; }
td.head { background: var(--head); font-weight: 700; }
section.statement.form { margin: 1.5rem auto; }
.form td.label { min-width: 0; }
.in-text table { font-size: 1rem; }
.statement p.table-note { font-size: 0.88rem; margin: 0.4rem 0; text-align: left; }
.draft-banner { position: sticky; top: 0; z-index: 10; background: #b00020; color: #fff;
  text-align: center; font-weight: 700; padding: 0.45rem 1rem; letter-spacing: 0.05em; }
body.draft { background-image: repeating-linear-gradient(-35deg, transparent 0 140px,
  rgba(176, 0, 32, 0.04) 140px 220px); }
@media (max-width: 600px) {
  body { font-size: 16px; }
  main { padding: 0 0.85rem 2rem; }
  /* Justified lines this short spread the characters apart before a long number. */
  p { text-align: start; }
  .cover { padding-top: 2rem; }
  .cover h1 { font-size: 1.45rem; }
  h2 { font-size: 1.25rem; }
  table { font-size: 0.8rem; }
  .statement p.scroll-hint { display: block; font-size: 0.8rem; color: var(--muted); margin: 0;
    text-align: right; }
}
@media print {
  @page { size: A4; margin: 2.2cm 2cm; }
  @page wide { size: A4 landscape; margin: 1.2cm 1.5cm; }
  body { font-size: 12pt; line-height: 1.7; background: none; }
  main { padding: 0; }
  a { color: inherit; }
  .cover { min-height: 24cm; border: 0; break-after: page; padding-top: 6cm; }
  nav.toc { break-after: page; }
  hr.page-break { break-after: page; margin: 0; }
  h2, h3, h4, h5, h6, .table-title, .table-meta { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  section.statement { break-before: page; margin: 0; max-width: none; }
  section.statement.form { break-before: auto; margin: 1rem 0; }
  section.statement.form.narrow { break-inside: avoid; }
  section.statement.form.wide { break-before: page; }
  /* A heading that leads into a table starts the page, and the table follows it there. */
  :is(h2, h3, h4, h5, h6):has(+ section.statement) { break-before: page; }
  :is(h2, h3, h4, h5, h6) + section.statement { break-before: avoid; }
  section.statement.wide { page: wide; }
  .table-wrap { overflow: visible; border: 0; }
  .table-wrap table { border-style: solid; }
  table { font-size: 8pt; line-height: 1.3; }
  th, td { padding: 0.12rem 0.3rem; }
  .statement .table-title { font-size: 14pt; }
  thead { display: table-header-group; }
  .draft-banner { position: fixed; top: 0; left: 0; right: 0; padding: 0.1rem;
    font-size: 9pt; background: none; color: #b00020; }
}
"""


def write_html(document: Document, path: Path) -> None:
    """Write `document` as one self-contained HTML file at `path` (renamed into place)."""
    page = html_page(document)
    with replaced(path) as temporary:
        temporary.write_text(page, encoding="utf-8")


def html_page(document: Document) -> str:
    """The HTML of `document`, as `write_html` writes it."""
    return _Writer(document).page()


def _e(text: str) -> str:
    return html.escape(text, quote=True)


class _Writer:
    def __init__(self, document: Document):
        self.document = document
        self.out: list[str] = []
        self.ids: set[str] = set()
        self.blocks = breaks_before_headings(document.blocks)
        # Anchors of the headings, made unique, in document order.
        self.anchors: dict[int, str] = {}
        for position, block in enumerate(self.blocks):
            if isinstance(block, Heading):
                self.anchors[position] = self.unique(block.anchor or f"h{position}")

    def unique(self, anchor: str) -> str:
        base, n = anchor.strip().replace(" ", "-") or "section", 2
        anchor = base
        while anchor in self.ids:
            anchor = f"{base}-{n}"
            n += 1
        self.ids.add(anchor)
        return anchor

    def page(self) -> str:
        doc = self.document
        self.out += [
            "<!DOCTYPE html>",
            '<html lang="zh-CN">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(doc.title)}{'（草稿）' if doc.draft else ''}</title>",
            f'<meta name="author" content="{_e(doc.unit)}">',
            f"<style>{STYLE}</style>",
            "</head>",
            '<body class="draft">' if doc.draft else "<body>",
        ]
        if doc.draft:
            self.out.append(f'<div class="draft-banner" role="note">{_e(DRAFT_MARK)}</div>')
        self.cover()
        self.out.append("<main>")
        for position, block in enumerate(self.blocks):
            following = self.blocks[position + 1] if position + 1 < len(self.blocks) else None
            if isinstance(block, Heading) and _names_table(block, following):
                continue  # printed by table() as the table's title
            if isinstance(block, Heading):
                self.heading(block, self.anchors[position])
            elif isinstance(block, Paragraph):
                self.paragraph(block)
            elif isinstance(block, Figure):
                self.figure(block)
            elif isinstance(block, TableBlock):
                previous = self.blocks[position - 1] if position else None
                titled = isinstance(previous, Heading) and _names_table(previous, block)
                self.table(block, (previous, self.anchors[position - 1]) if titled else None)
            elif isinstance(block, FormBlock):
                self.form(block)
            elif isinstance(block, Contents):
                self.contents(block)
            elif isinstance(block, PageBreak):
                self.out.append('<hr class="page-break">')
        self.out += ["</main>", "</body>", "</html>", ""]
        return "\n".join(self.out)

    def cover(self) -> None:
        doc = self.document
        lines = cover_title(doc)
        title = "".join(f"<span>{_e(line)}</span>" for line in lines)
        self.out += ['<header class="cover">', f'<h1 aria-label="{_e(doc.title)}">{title}</h1>']
        self.out += [f"<p>{_e(line)}</p>" for line in cover_lines(doc, lines)]
        self.out.append("</header>")

    def contents(self, block: Contents) -> None:
        """The 目录: levels 1 and 2, nested, each linking to its heading."""
        toc_id = self.unique("toc")
        self.out += [
            f'<nav class="toc" aria-labelledby="{toc_id}">',
            f'<h2 id="{toc_id}">{_e(block.title)}</h2>',
            "<ol>",
        ]
        entries = [
            (b.level, b.text, self.anchors[i])
            for i, b in enumerate(self.blocks)
            if isinstance(b, Heading) and b.level <= 2
        ]
        top = min((level for level, _, _ in entries), default=1)
        groups: list[tuple[str, list[str]]] = []  # a top entry's link and its children's
        for level, text, anchor in entries:
            link = f'<a href="#{_e(anchor)}">{_e(text)}</a>'
            if level > top and groups:
                groups[-1][1].append(link)
            else:
                groups.append((link, []))
        for link, children in groups:
            if children:
                items = "".join(f"<li>{child}</li>" for child in children)
                self.out.append(f"<li>{link}<ol>{items}</ol></li>")
            else:
                self.out.append(f"<li>{link}</li>")
        self.out += ["</ol>", "</nav>"]

    def heading(self, block: Heading, anchor: str) -> None:
        tag = f"h{min(max(block.level, 1) + 1, 6)}"
        self.out.append(f'<{tag} id="{_e(anchor)}">{_e(block.text)}</{tag}>')

    def paragraph(self, block: Paragraph) -> None:
        parts = []
        for segment in block.segments:
            text = _e(segment.text).replace("\n", "<br>")
            if isinstance(segment, Ref):
                parts.append(f'<span class="ref" data-fact="{_e(segment.fact)}">{text}</span>')
            else:
                parts.append(text)
        style = block.style if block.style in PARAGRAPH_STYLES else "body"
        self.out.append(f'<p class="{style}">{"".join(parts)}</p>')

    def figure(self, block: Figure) -> None:
        self.out += [
            f'<figure id="{_e(self.unique(block.key))}">',
            f'<img src="{_figure_uri(block)}" alt="{_e(block.caption)}">',
            f"<figcaption>{_e(block.caption)}</figcaption>",
            "</figure>",
        ]

    def table(self, block: TableBlock, heading: tuple[Heading, str] | None = None) -> None:
        """The table; a heading that names it (一、收入支出决算总表) becomes its title."""
        doc = self.document
        self.grid(block_layout(block, doc.unit, doc.year), heading)

    def form(self, block: FormBlock) -> None:
        """A form under its own title, in the flow of the text; one read as part of the text
        (the 单位构成 list) at the body's size."""
        self.grid(block.layout, None, form=True, in_text=block.in_text)

    def grid(
        self,
        grid: TableLayout,
        heading: tuple[Heading, str] | None,
        *,
        form: bool = False,
        in_text: bool = False,
    ) -> None:
        size = " wide" if grid.total_width > WIDE_TABLE else ""
        size = " narrow" if _min_width(grid) <= NARROW_TABLE else size
        size += " form" if form else ""
        size += " in-text" if in_text else ""
        if heading is not None:
            title_id = heading[1]
            tag = f"h{min(max(heading[0].level, 1) + 1, 6)}"
            title = f'<{tag} class="table-title" id="{_e(title_id)}">{_e(heading[0].text)}</{tag}>'
        else:
            title_id = self.unique(f"table-{grid.id}".replace(" ", "-"))
            title = f'<p class="table-title" id="{title_id}">{_e(grid.title)}</p>'
        self.out += [f'<section class="statement{size}" aria-labelledby="{_e(title_id)}">', title]
        if grid.year_text:
            self.out.append(f'<p class="table-year">{_e(grid.year_text)}</p>')
        if grid.org_text or grid.unit_text:
            self.out += [
                '<div class="table-meta">',
                f"<span>{_e(grid.org_text)}</span><span>{_e(grid.unit_text)}</span>",
                "</div>",
            ]
        self.out += [
            '<p class="scroll-hint" aria-hidden="true">表格较宽，可左右滑动查看</p>',
            f'<div class="table-wrap" role="region" aria-labelledby="{title_id}" tabindex="0">',
            f'<table aria-labelledby="{title_id}" style="min-width:{_min_width(grid):.0f}em">',
            _colgroup(grid),
        ]
        if grid.header:
            self.out += [
                "<thead>",
                *(_row(row, header=True) for row in grid.header),
                "</thead>",
            ]
        self.out += [
            "<tbody>",
            *(_row(row, header=False) for row in grid.body),
            "</tbody>",
            "</table>",
            "</div>",
        ]
        for text in grid.below:
            self.out.append(f'<p class="table-note">{_e(text)}</p>')
        self.out.append("</section>")


def _min_width(grid: TableLayout) -> float:
    """The table's least width in em (of its own font): the layout's character units (two to
    an em, a little tighter than the printed tables) and each cell's padding."""
    return grid.total_width * 0.4 + len(grid.columns) * 1.0


def _colgroup(grid: TableLayout) -> str:
    cols = "".join(f'<col style="width:{f * 100:.1f}%">' for f in grid.fractions)
    return f"<colgroup>{cols}</colgroup>"


def _row(row: LayoutRow, *, header: bool) -> str:
    css = ' class="total"' if row.total else ""
    return f"<tr{css}>{''.join(_cell(c, header=header) for c in row.cells)}</tr>"


def _cell(cell: LayoutCell, *, header: bool) -> str:
    attrs = []
    if cell.colspan > 1:
        attrs.append(f'colspan="{cell.colspan}"')
    if cell.rowspan > 1:
        attrs.append(f'rowspan="{cell.rowspan}"')
    classes: Sequence[str] = ()
    if header:
        attrs.append('scope="colgroup"' if cell.colspan > 1 else 'scope="col"')
        tag = "th"
    else:
        tag = "td"
        if cell.kind == "amount" or (cell.kind == "blank" and cell.align == "right"):
            classes = ("num",)
        elif cell.kind in ("label", "total-label"):
            aligned = {"center": ("center",), "right": ("num",)}.get(cell.align, ())
            classes = ("label", *aligned)
        elif cell.align == "center":
            classes = ("center",)
        if cell.shade:
            classes = (*classes, "head")
    if classes:
        attrs.append(f'class="{" ".join(classes)}"')
    if cell.indent and not header:
        attrs.append(f'style="padding-left:{0.5 + cell.indent:g}em"')
    text = _e(cell.text)
    return f"<{tag}{' ' if attrs else ''}{' '.join(attrs)}>{text}</{tag}>"


def _names_table(heading: object, following: object) -> bool:
    return (
        isinstance(heading, Heading)
        and isinstance(following, TableBlock)
        and following.table.title in heading.text
    )


def _figure_uri(block: Figure) -> str:
    """The figure as a data: URI: the SVG when there is one (sharp at any size), else the PNG."""
    if block.svg is not None and Path(block.svg).is_file():
        data, kind = Path(block.svg).read_bytes(), "image/svg+xml"
    else:
        png = Path(block.png)
        if not png.is_file():
            raise FileNotFoundError(f"图片文件不存在：{png}")
        data, kind = png.read_bytes(), "image/png"
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"

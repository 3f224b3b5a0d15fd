"""The disclosure document as values: parts, headings, paragraphs whose numbers name facts,
figures, tables and forms. Renderers (docx, pdf, html) turn one Document into a file; none of them
computes or types a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from juesuan.publish.table_layout import TableLayout
from juesuan.statements.model import Table


@dataclass(frozen=True)
class Span:
    """Plain text."""

    text: str


@dataclass(frozen=True)
class Ref:
    """A number in the text, printed as `text`, that states the fact `fact` (see narrative.facts)."""

    fact: str
    text: str


@dataclass(frozen=True)
class Quote(Span):
    """Words a person wrote (a reason from the dataset) inside a generated sentence: its numbers
    are theirs, so the text check leaves them alone. Renders like any Span."""


Segment = Span | Ref


@dataclass(frozen=True)
class Paragraph:
    segments: tuple[Segment, ...]
    style: str = "body"  # body | note | caption | center | signature
    generated: bool = True  # False for text people wrote (texts/*.md): not checked against facts

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    @classmethod
    def plain(cls, text: str, style: str = "body", generated: bool = False) -> Paragraph:
        return cls((Span(text),), style, generated)


@dataclass(frozen=True)
class Heading:
    """level 1 = 第X部分, 2 = 一、, 3 = (一), 4 = 1. — numbering is part of `text`."""

    level: int
    text: str
    anchor: str  # stable id for bookmarks and the 目录


@dataclass(frozen=True)
class Figure:
    key: str  # figure1 … figure6
    caption: str  # 图1：收、支决算总计变动情况图
    png: Path  # raster for docx and pdf
    svg: Path | None = None  # vector for html when available
    fonts: tuple[Path, ...] = ()  # the font files its text is drawn with


@dataclass(frozen=True)
class TableBlock:
    table: Table
    # Under the title only "单位：万元", as the Shanghai 2024 template and the Putuo 2024
    # disclosure print it: no 编制单位, no year line (`@tables <anchor> unit-only`).
    unit_only: bool = False


@dataclass(frozen=True)
class FormBlock:
    """A form (表式) such as a 项目绩效目标完成情况表: not a grid of figures from the statements but
    a TableLayout its builder laid out cell by cell (section rows across the width, label cells,
    figures as text). Renderers draw it with their table drawing, under its title and year, in
    the flow of the text when it fits the page's width (landscape pages of its own when not).
    `group` names the kind of form; forms of one group share a sheet of the tables workbook.
    `in_text`: a short table read as part of the text (the 单位构成 list), set at the body's size
    as published, not in a statement table's small type."""

    layout: TableLayout
    group: str
    in_text: bool = False


@dataclass(frozen=True)
class Contents:
    """Where the 目录 goes: renderers list the headings of levels 1–2 with their page numbers."""

    title: str = "目录"


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Paragraph | Figure | TableBlock | FormBlock | Contents | PageBreak


@dataclass(frozen=True)
class Document:
    title: str  # 泸州市社会保险事业管理局2020年度部门决算
    unit: str
    year: int
    blocks: tuple[Block, ...]
    cover_lines: tuple[str, ...] = ()  # lines of the cover page under the title, e.g. 公开时间
    draft: bool = False  # watermark / header 草稿 on every page
    facts: dict = field(default_factory=dict)  # fact key -> narrative.facts.Fact

    def headings(self, max_level: int = 2) -> list[Heading]:
        return [b for b in self.blocks if isinstance(b, Heading) and b.level <= max_level]

"""The document model of an audit: paragraphs, headings and sections, sentences, every number
with its unit, the words around it and its place, and tables recognized by their titles.

Built from a read.Document (lines and grids in reading order). Paragraphs are rebuilt from
lines by the layout cues (a gap, an indent, a short last line, a heading) and joined across
page breaks when a sentence runs on. Nothing here judges a number.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import yaml

from juesuan.audit.limits import MAX_NUMBER_DIGITS
from juesuan.audit.read import Document, Grid, Line, Place

CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
CN_DIGITS |= {"八": 8, "九": 9}
CN_NUM = "一二三四五六七八九十百零两"
TERMINAL = "。！？；：!?;:"

# ---- numbering and headings ---------------------------------------------------------------------

PART, CHINESE, PAREN_CHINESE, ARABIC, PAREN_ARABIC = (
    "part",
    "chinese",
    "paren-chinese",
    "arabic",
    "paren-arabic",
)
LEVELS = {PART: 1, CHINESE: 2, PAREN_CHINESE: 3, ARABIC: 4, PAREN_ARABIC: 5}
_NUMBERING = (
    (PART, re.compile(rf"^第\s*([{CN_NUM}]+)\s*部分\s*")),
    (CHINESE, re.compile(rf"^([{CN_NUM}]+)\s*[、，]\s*")),
    (PAREN_CHINESE, re.compile(rf"^[（(]\s*([{CN_NUM}]+)\s*[)）]\s*[、.．]?\s*")),
    (ARABIC, re.compile(r"^(\d{1,2})\s*(?:[、．]|\.(?!\d))\s*")),
    (PAREN_ARABIC, re.compile(r"^[（(]\s*(\d{1,2})\s*[)）]\s*[、.．]?\s*")),
)
_FURNITURE = re.compile(
    r"^(?:[—–\-－]+\s*\d{1,4}\s*[—–\-－]+|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d{1,4}"
    r"|\d{1,4}\s*/\s*\d{1,4}|[-－—]\s*\d{1,4})$"
)
_TOC_ENTRY = re.compile(r"^(.*?\S)\s*(?:\.{3,}|…{2,}|·{3,}|-{4,})\s*(\d{1,4})$")
_APPENDIX = re.compile(r"^附\s*件\s*\d*\s*$|^附\s*表$|^目\s*录$")
_REPORT_TITLE = re.compile(
    r"(?:评价|自评|分析|总结)报告$|绩效目标完成情况表$|情况表$|决算表$|预算表$"
)


def chinese_number(text: str) -> int | None:
    """一 → 1, 十 → 10, 十四 → 14, 二十三 → 23, 一百零五 → 105."""
    if not text:
        return None
    total, current = 0, 0
    for ch in text:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch != "零":
            return None
    return total + current


@dataclass(frozen=True)
class Numbering:
    style: str
    value: int
    text: str  # as printed, e.g. "（三）"


def numbering_of(text: str) -> Numbering | None:
    for style, pattern in _NUMBERING:
        match = pattern.match(text)
        if not match:
            continue
        raw = match.group(1)
        value = int(raw) if raw.isdigit() else chinese_number(raw)
        if value is None:
            continue
        if style == ARABIC and re.match(r"^\d{1,2}\s*[.．、]\s*\d", text):
            continue  # 1.5 万元, 2.01 亿元 …
        return Numbering(style, value, match.group(0).strip())
    return None


# ---- numbers --------------------------------------------------------------------------------------

UNITS = (
    "亿元",
    "万元",
    "千元",
    "元",
    "个百分点",
    "%",
    "％",
    "‰",
    "万人次",
    "人次",
    "万人",
    "批次",
    "人",
    "名",
    "辆",
    "台（套）",
    "台(套)",
    "台套",
    "台",
    "套",
    "个",
    "次",
    "项",
    "件",
    "户",
    "家",
    "条",
    "分",
    "倍",
    "年",
    "月",
    "日",
    "天",
    "小时",
)
MONEY_UNITS = {
    "亿元": Decimal(10000),
    "万元": Decimal(1),
    "千元": Decimal("0.1"),
    "元": Decimal("0.0001"),
}
PERCENT_UNITS = {"%", "％"}
COUNT_UNITS = {
    "人",
    "名",
    "人次",
    "批次",
    "辆",
    "台（套）",
    "台",
    "套",
    "个",
    "次",
    "项",
    "件",
    "户",
}
COUNT_UNITS |= {"家", "条", "万人", "万人次"}
_NUMBER = re.compile(
    r"(?<![\d.,A-Za-z])(?P<sign>[-−－])?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<space>\s*)(?P<unit>" + "|".join(re.escape(u) for u in UNITS) + r")?"
)


@dataclass(frozen=True)
class Number:
    """A number as printed in a paragraph, with its unit and where it is."""

    value: Decimal
    text: str  # the digits as printed, e.g. "5,686.09"
    unit: str  # "万元", "%", "人次", … or "" when none follows
    decimals: int  # digits printed after the point: the precision the figure was rounded to
    start: int  # offsets in the paragraph text
    end: int
    paragraph: int  # index in Model.paragraphs
    place: Place

    @property
    def is_money(self) -> bool:
        return self.unit in MONEY_UNITS

    @property
    def is_percent(self) -> bool:
        return self.unit in PERCENT_UNITS

    @property
    def is_year(self) -> bool:
        return self.unit == "年" and self.decimals == 0 and 1900 <= self.value <= 2100

    @property
    def wan(self) -> Decimal:
        """A money figure in 万元."""
        return self.value * MONEY_UNITS.get(self.unit, Decimal(1))

    @property
    def half_step(self) -> Decimal:
        """Half a unit of the last printed digit: how far rounding may have moved the figure."""
        return Decimal(5) * Decimal(10) ** (-self.decimals - 1)

    def shown(self) -> str:
        return f"{self.text}{self.unit}"


def parse_decimal(text: str) -> Decimal | None:
    """The value of a printed figure; None when it is not one, or has more digits than any
    figure of a disclosure (Model.long_numbers lists those)."""
    cleaned = text.replace(",", "").replace("，", "").replace(" ", "").replace("−", "-")
    cleaned = cleaned.replace("－", "-")
    if not cleaned or _digits(cleaned) > MAX_NUMBER_DIGITS:
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


@dataclass(frozen=True)
class LongNumber:
    """A run of digits too long to be a figure: set aside, not checked, and reported."""

    text: str
    place: Place

    @property
    def reason(self) -> str:
        shown = self.text if len(self.text) <= 16 else self.text[:12] + "…"
        return (
            f"数字“{shown}”有 {_digits(self.text)} 位，超过可核对的 {MAX_NUMBER_DIGITS} 位，"
            "不当作数字核对"
        )


def long_numbers(document: Document) -> list[LongNumber]:
    found = []
    for block in document.blocks:
        texts = [block.text] if isinstance(block, Line) else [c for r in block.rows for c in r]
        for text in texts:
            found += [
                LongNumber(match.group("num"), block.place)
                for match in _NUMBER.finditer(text or "")
                if _digits(match.group("num")) > MAX_NUMBER_DIGITS
            ]
    return found


def find_numbers(text: str, paragraph: int = 0, place: Place | None = None) -> list[Number]:
    numbers = []
    for match in _NUMBER.finditer(text):
        raw = match.group("num")
        value = parse_decimal(raw)
        if value is None:
            continue
        if match.group("sign") and match.start() > 0 and text[match.start() - 1].isalnum():
            pass  # 2014-2015: a range, not a negative number
        elif match.group("sign"):
            value = -value
        unit = match.group("unit") or ""
        if unit in ("台(套)", "台套"):
            unit = "台（套）"
        if unit == "％":
            unit = "%"
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        end = match.end() if unit else match.end("num")
        numbers.append(
            Number(
                value,
                raw,
                unit,
                decimals,
                match.start("num"),
                end,
                paragraph,
                place or Place(None, 0),
            )
        )
    return numbers


# ---- paragraphs, sentences, sections ------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    index: int
    text: str
    places: tuple[tuple[int, Place], ...]  # (offset where the line starts, its place)
    kind: str = "body"  # body | heading | toc | furniture | title
    numbering: Numbering | None = None
    level: int = 0  # heading level (1 part … 5), 0 for body text
    section: tuple[str, ...] = ()  # the headings above it, outermost first
    scope: str = ""  # the project this paragraph is about, when inside a project's report

    @property
    def place(self) -> Place:
        return self.places[0][1]

    def place_at(self, offset: int) -> Place:
        found = self.places[0][1]
        for start, place in self.places:
            if start > offset:
                break
            found = place
        return found

    def snippet(self, start: int, end: int, around: int = 24) -> str:
        left = max(0, start - around)
        right = min(len(self.text), end + around)
        return (
            ("…" if left else "") + self.text[left:right] + ("…" if right < len(self.text) else "")
        )


@dataclass(frozen=True)
class Sentence:
    paragraph: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class TocEntry:
    title: str
    page: int
    place: Place


# ---- tables -------------------------------------------------------------------------------------

_FORMATS_DIR = Path(__file__).parent.parent / "formats"
EXTRA_TITLES = {
    "three_public": (
        "财政拨款“三公”经费支出决算表",
        "“三公”经费支出决算表",
        "一般公共预算财政拨款“三公”经费支出决算表",
    ),
    "state_capital": ("国有资本经营预算财政拨款收入支出决算表",),
    "state_capital_spending": ("国有资本经营预算财政拨款支出决算表",),
    "general_basic": ("一般公共预算财政拨款基本支出决算明细表",),
    "performance": ("项目绩效目标完成情况表", "绩效目标完成情况表", "项目支出绩效自评表"),
    "budget_summary": ("收支预算总表", "财务收支预算总表", "收支总表"),
    "budget_income": ("收入预算总表", "收入预算表", "收入总表"),
    "budget_spending": ("支出预算总表", "支出预算表", "支出总表"),
    "budget_fiscal": ("财政拨款收支预算总表", "财政拨款收支总表"),
    "budget_general": (
        "一般公共预算支出功能分类预算表",
        "一般公共预算支出预算表",
        "一般公共预算支出表",
        "一般公共预算拨款支出预算表",
    ),
    "budget_general_basic": (
        "一般公共预算基本支出部门预算经济分类预算表",
        "一般公共预算基本支出预算表",
        "一般公共预算基本支出表",
    ),
    "budget_fiscal_spending": ("财政拨款支出预算表",),
    "budget_fiscal_basic": ("财政拨款基本支出预算表",),
    "budget_government_fund": (
        "政府性基金预算支出功能分类预算表",
        "政府性基金预算支出表",
        "政府性基金支出预算表",
        "政府性基金预算财政拨款支出预算表",
    ),
    "budget_state_capital": ("国有资本经营预算支出功能分类预算表", "国有资本经营预算支出表"),
    "budget_three_public": (
        "“三公”经费和机关运行经费预算表",
        "“三公”经费预算表",
        "“三公”经费、会议费、培训费支出预算表",
    ),
    "budget_operating": ("机关运行经费支出预算表",),
    "budget_procurement": ("政府采购支出预算表", "政府采购预算表"),
}


@cache
def known_titles() -> tuple[tuple[str, str], ...]:
    """(normalized title, table id), longest first: the format YAMLs' titles and the variants."""
    pairs: dict[str, str] = {}
    for path in sorted(_FORMATS_DIR.glob("*/tables.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for table in data.get("tables") or []:
            if "id" in table and "title" in table:
                pairs.setdefault(normalize_title(table["title"]), table["id"])
    for table_id, titles in EXTRA_TITLES.items():
        for title in titles:
            pairs.setdefault(normalize_title(title), table_id)
    return tuple(sorted(pairs.items(), key=lambda p: -len(p[0])))


def normalize_title(text: str) -> str:
    text = re.sub(r"\s+", "", text)
    text = text.replace('"', "“").replace("”", "“").replace("‘", "“").replace("’", "“")
    return text.replace("（", "(").replace("）", ")")


def title_id(text: str) -> str | None:
    """The table id a title names, or None. '三、支出决算表' → 'spending'."""
    numbering = numbering_of(text)
    body = text[len(numbering.text) :] if numbering else text
    body = re.sub(r"^表\s*[\d一二三四五六七八九十]+\s*[:：、.]?", "", body.strip())
    body = re.sub(r"^(?:\d{4}\s*年度?)", "", body.strip())
    normalized = normalize_title(body)
    if len(normalized) > 60 or "。" in normalized:
        return None
    # a qualifier after the title: （经济科目）, (按功能分类), (2020年度)
    bare = re.sub(r"\([^()]{1,10}\)$", "", normalized)
    for title, table_id in known_titles():
        if normalized.endswith(title) or bare.endswith(title):
            return table_id
    return None


@dataclass(frozen=True)
class TableBlock:
    """A grid with what it is: the title it sits under, the table id, its unit."""

    index: int  # position among the model's tables
    grid_rows: tuple[tuple[str | None, ...], ...]
    places: tuple[Place, ...]  # one per row
    title: str = ""
    id: str | None = None
    unit: str = "万元"
    paragraph: int = -1  # the paragraph index it follows
    scope: str = ""
    ruled: bool = True
    title_paragraph: int = -1
    note: str = ""  # the 注/说明 lines under it (PDF)

    @property
    def place(self) -> Place:
        return self.places[0]

    def row_text(self, index: int) -> str:
        return " | ".join(c for c in self.grid_rows[index] if c)


@dataclass
class Model:
    document: Document
    paragraphs: list[Paragraph] = field(default_factory=list)
    tables: list[TableBlock] = field(default_factory=list)
    toc: list[TocEntry] = field(default_factory=list)
    titles_without_table: list[Paragraph] = field(default_factory=list)
    numbers: list[list[Number]] = field(default_factory=list)  # per paragraph
    sentences: list[list[Sentence]] = field(default_factory=list)  # per paragraph
    projects: tuple[str, ...] = ()
    long_numbers: list[LongNumber] = field(default_factory=list)

    def sentence_of(self, number: Number) -> Sentence:
        for sentence in self.sentences[number.paragraph]:
            if sentence.start <= number.start < sentence.end:
                return sentence
        return self.sentences[number.paragraph][-1]

    def numbers_in(self, sentence: Sentence) -> list[Number]:
        return [
            n for n in self.numbers[sentence.paragraph] if sentence.start <= n.start < sentence.end
        ]

    def all_sentences(self) -> list[Sentence]:
        return [s for group in self.sentences for s in group]

    def body(self) -> list[Paragraph]:
        return [p for p in self.paragraphs if p.kind in ("body", "heading")]


# ---- building the model ----------------------------------------------------------------------


def build(document: Document) -> Model:
    model = Model(document)
    items = _paragraphs_and_grids(document)
    _classify(model, items)
    _sections_and_scopes(model)
    for paragraph in model.paragraphs:
        model.numbers.append(
            [
                n if n.place == paragraph.place_at(n.start) else _placed(n, paragraph)
                for n in find_numbers(paragraph.text, paragraph.index, paragraph.place)
            ]
        )
        model.sentences.append(split_sentences(paragraph))
    model.long_numbers = long_numbers(document)
    return model


def _placed(number: Number, paragraph: Paragraph) -> Number:
    return Number(
        number.value,
        number.text,
        number.unit,
        number.decimals,
        number.start,
        number.end,
        number.paragraph,
        paragraph.place_at(number.start),
    )


def split_sentences(paragraph: Paragraph) -> list[Sentence]:
    sentences, start = [], 0
    text = paragraph.text
    for match in re.finditer(r"[。！？!?]+[”’」』)）]?", text):
        end = match.end()
        if text[start:end].strip():
            sentences.append(Sentence(paragraph.index, start, end, text[start:end]))
        start = end
    if start < len(text) and text[start:].strip():
        sentences.append(Sentence(paragraph.index, start, len(text), text[start:]))
    if not sentences:
        sentences.append(Sentence(paragraph.index, 0, len(text), text))
    return sentences


def _is_heading_line(text: str) -> bool:
    numbering = numbering_of(text)
    if numbering and len(text) <= 40 and not _has_amount(text):
        return True
    return bool(_APPENDIX.match(text)) or (len(text) <= 60 and bool(title_id(text)))


def _has_amount(text: str) -> bool:
    return any(n.is_money or n.is_percent for n in find_numbers(text))


def _furniture(document: Document) -> set[tuple[int, int]]:
    """(page, index) of running headers, footers and page numbers."""
    marks: set[tuple[int, int]] = set()
    edges: Counter[str] = Counter()
    pages = [p for p in document.pages if p.readable and p.blocks]
    for page in pages:
        lines = [b for b in page.blocks if isinstance(b, Line)]
        for line in lines[:1] + lines[-1:]:
            edges[re.sub(r"\d+", "#", line.text)] += 1
    for page in pages:
        lines = [(i, b) for i, b in enumerate(page.blocks) if isinstance(b, Line)]
        for position, (i, line) in enumerate(lines):
            edge = position == 0 or position == len(lines) - 1
            if not edge or document.kind != "pdf":
                continue
            if _FURNITURE.match(line.text.strip()):
                marks.add((page.number, i))
            elif len(pages) >= 4 and edges[re.sub(r"\d+", "#", line.text)] >= max(
                3, len(pages) // 3
            ):
                marks.add((page.number, i))
    return marks


def _paragraphs_and_grids(document: Document) -> list[tuple[str, object]]:
    """('para', (text, places, heading_hint)) and ('grid', [Grid]) in reading order."""
    furniture = _furniture(document)
    out: list[tuple[str, object]] = []
    current: list[Line] = []

    def flush() -> None:
        if current:
            out.append(("para", list(current)))
            current.clear()

    for page in document.pages:
        if not page.readable:
            flush()
            continue
        for i, block in enumerate(page.blocks):
            if (page.number, i) in furniture:
                continue
            if isinstance(block, Grid):
                flush()
                out.append(("grid", block))
                continue
            text = block.text.strip()
            if not text:
                continue
            if current and _continues(current, block, document.kind):
                current.append(block)
            else:
                flush()
                current.append(block)
    flush()
    return out


def _continues(current: list[Line], line: Line, kind: str) -> bool:
    previous = current[-1]
    joined = "".join(ln.text for ln in current)
    if line.whole or previous.whole:
        return False
    if _TOC_ENTRY.match(line.text) or _TOC_ENTRY.match(previous.text):
        return False
    ends_sentence = joined.rstrip().endswith(tuple(TERMINAL)) or joined.rstrip().endswith(
        ("）", ")", "”")
    )
    if kind == "pdf":
        if re.search(r"(?:增长|下降|增加|减少|为|达|占)$", joined.rstrip()) and re.match(
            r"[\d.,]+\s*(?:%|％|万元|亿元|元)", line.text.strip()
        ):
            return True  # "…，增长" / "129.97%。…": the figure of the sentence, after a wide gap
        if previous.place.page == line.place.page and (line.gap_before or line.indent):
            return False
        if previous.short or line.indent:
            return False
        numbering = numbering_of(line.text)
        if numbering and numbering.style in (PART, CHINESE, PAREN_CHINESE):
            return False
        if ends_sentence and (numbering or _is_heading_line(line.text)):
            return False
        if previous.place.page != line.place.page and ends_sentence:
            return False
        return True
    if (
        title_id(line.text)
        and not numbering_of(line.text)
        and not _is_heading_line(joined)
        and len(joined) <= 30
        and not ends_sentence
        and not numbering_of(joined)
    ):
        return True  # a title printed on two lines: "…生活补贴" / "项目绩效目标完成情况表"
    if _is_heading_line(line.text):
        return False
    if _is_heading_line(joined) and not (line.gap_before and "，" in joined and not ends_sentence):
        return False
    # text: a blank line ends a paragraph unless the sentence clearly runs on (a page break)
    if line.gap_before:
        return not ends_sentence and not numbering_of(line.text) and len(joined) > 12
    return not ends_sentence


def _join(lines: list[Line]) -> tuple[str, tuple[tuple[int, Place], ...]]:
    text, places = "", []
    for line in lines:
        piece = line.text.strip()
        if text and _needs_space(text[-1], piece[0]):
            text += " "
        places.append((len(text), line.place))
        text += piece
    return text, tuple(places)


def _needs_space(left: str, right: str) -> bool:
    return left.isascii() and right.isascii() and left.isalpha() and right.isalpha()


def _classify(model: Model, items: list[tuple[str, object]]) -> None:
    grids: list[tuple[Grid, int, tuple[Place, ...]]] = []
    for kind, item in items:
        if kind == "grid":
            grid: Grid = item  # type: ignore[assignment]
            places = _row_places(grid)
            going_on = grid.continued or (grids and grids[-1][1] == len(model.paragraphs))
            if grids and going_on and _toc_grid(grid) is None:
                before, after, before_places = grids[-1]
                grids[-1] = (_merge(before, grid), after, before_places + places)
            else:
                toc = _toc_grid(grid)
                if toc:
                    model.toc.extend(toc)
                else:
                    grids.append((grid, len(model.paragraphs), places))
            continue
        lines: list[Line] = item  # type: ignore[assignment]
        text, places = _join(lines)
        index = len(model.paragraphs)
        toc = _TOC_ENTRY.match(text)
        if toc:
            model.toc.append(TocEntry(toc.group(1).strip(), int(toc.group(2)), places[0][1]))
            model.paragraphs.append(Paragraph(index, text, places, kind="toc"))
            continue
        numbering = numbering_of(text)
        heading = _is_heading_line(text) or (
            numbering is not None
            and numbering.style in (PART, CHINESE, PAREN_CHINESE)
            and len(text) <= 50
            and not _has_amount(text)
            and text.count("。") <= 1
            and text.rstrip("。").count("，") == 0
        )
        if numbering is None and not heading and _REPORT_TITLE.search(text) and len(text) <= 60:
            heading = True
        level = LEVELS[numbering.style] if (heading and numbering) else (2 if heading else 0)
        if heading and numbering is None:
            level = 1 if _APPENDIX.match(text) else 2
        model.paragraphs.append(
            Paragraph(
                index,
                text,
                places,
                kind="heading" if heading else "body",
                numbering=numbering,
                level=level,
            )
        )
    for grid, after, places in grids:
        _add_table(model, grid, after, places)
    titled = {t.title_paragraph for t in model.tables if t.id}
    found = {t.id for t in model.tables if t.id}
    listed: set[str] = set()
    for paragraph in model.paragraphs:
        if paragraph.kind == "heading" and paragraph.index not in titled:
            table_id = title_id(paragraph.text)
            if table_id and table_id != "performance" and table_id not in found | listed:
                listed.add(table_id)
                model.titles_without_table.append(paragraph)


def _toc_grid(grid: Grid) -> list[TocEntry] | None:
    """A table of contents that came as a tab-separated grid ('标题.....\\t4')."""
    entries = []
    for offset, row in enumerate(grid.rows):
        cells = [c for c in row if c]
        if not cells:
            continue
        joined = " ".join(cells)
        match = _TOC_ENTRY.match(joined)
        if not match:
            return None
        place = Place(grid.place.page, grid.place.line + offset, grid.place.kind)
        entries.append(TocEntry(match.group(1).strip(), int(match.group(2)), place))
    return entries or None


def _row_places(grid: Grid) -> tuple[Place, ...]:
    return tuple(
        Place(grid.place.page, grid.place.line + i, grid.place.kind) for i in range(len(grid.rows))
    )


def _merge(first: Grid, second: Grid) -> Grid:
    """A table continued after a page break (or a blank line in text): one grid."""
    return replace(
        first,
        rows=first.rows + second.rows,
        ruled=first.ruled and second.ruled,
        note=second.note or first.note,
    )


def _add_table(model: Model, grid: Grid, after: int, places: tuple[Place, ...]) -> None:
    """Name the grid by the title read with it, or the nearest title above it (within a few
    paragraphs); its unit from its own 单位 line when it has one."""
    title, table_id, unit, title_at = "", None, "万元", -1
    for paragraph in reversed(model.paragraphs[max(0, after - 5) : after]):
        text = paragraph.text
        match = re.search(r"单位[:：]\s*(万元|元|亿元)", text)
        if match and unit == "万元":
            unit = match.group(1)
        found = title_id(text) or title_id(re.sub(r"[（(]\s*\d{4}\s*年度?\s*[)）]$", "", text))
        if found:
            title, table_id, title_at = text, found, paragraph.index
            break
    for row in grid.rows[:4]:
        for cell in row:
            match = re.search(r"单位[:：]\s*(万元|元|亿元)", cell or "")
            if match:
                unit = match.group(1)
    if not title and grid.rows:
        first = " ".join(c for c in grid.rows[0] if c)
        found = title_id(first)
        if found:
            title, table_id = first, found
    if grid.title and title_id(grid.title) and not table_id:
        title, table_id = grid.title, title_id(grid.title)
    model.tables.append(
        TableBlock(
            len(model.tables),
            grid.rows,
            places,
            title,
            table_id,
            grid.unit or unit,
            after - 1,
            "",
            grid.ruled,
            title_at,
            grid.note,
        )
    )


# ---- sections and project scopes ------------------------------------------------------------

_PROJECT_HEAD = re.compile(
    r"^(?:[（(]\s*\d+\s*[)）]\s*)?(?P<name>[^，。：:（(]{2,40}?)\s*(?:项目)?\s*"
    r"(?:\d{4}\s*年度?\s*)?(?:绩效评价报告|绩效目标完成情况(?:综述|表)|支出绩效自评表)"
)


def project_name(text: str) -> str | None:
    match = _PROJECT_HEAD.match(text.replace(" ", ""))
    if not match:
        return None
    name = re.sub(r"项目$", "", match.group("name")).strip()
    if not name or name.startswith(("部门", "本部门")) or "整体" in name:
        return None
    return name


def _sections_and_scopes(model: Model) -> None:
    stack: list[tuple[int, str]] = []
    scope, scope_level = "", 0
    projects: list[str] = []
    paragraphs = []
    for paragraph in model.paragraphs:
        level = paragraph.level if paragraph.kind == "heading" else 0
        name = project_name(paragraph.text) if paragraph.kind in ("heading", "body") else None
        canonical = _canonical_project(name, projects) if name else ""
        own_title = (
            bool(name)
            and canonical == scope
            and not paragraph.numbering
            and bool(title_id(paragraph.text))
        )
        if level:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, paragraph.text))
            if scope and level <= scope_level and not own_title:
                scope, scope_level = "", 0
        if name and not own_title:
            scope = canonical
            if paragraph.numbering:
                scope_level = LEVELS[paragraph.numbering.style]
            else:
                scope_level = 1 if paragraph.kind == "heading" else 3
        elif (
            paragraph.numbering
            and scope
            and not own_title
            and LEVELS[paragraph.numbering.style] <= scope_level
        ):
            scope = ""
        section = tuple(text for _, text in stack if text != paragraph.text)
        paragraphs.append(
            Paragraph(
                paragraph.index,
                paragraph.text,
                paragraph.places,
                paragraph.kind,
                paragraph.numbering,
                paragraph.level,
                section,
                scope,
            )
        )
    model.paragraphs = paragraphs
    model.projects = tuple(projects)
    tables = []
    for table in model.tables:
        owner = paragraphs[table.paragraph].scope if 0 <= table.paragraph < len(paragraphs) else ""
        if table.id == "performance" and table.title:
            name = project_name(re.sub(r"[（(]\s*\d{4}\s*年度?\s*[)）]$", "", table.title))
            owner = _canonical_project(name, projects) if name else owner
        tables.append(replace(table, scope=owner))
    model.tables = tables
    model.projects = tuple(projects)


def _canonical_project(name: str, projects: list[str]) -> str:
    """The same project written slightly differently maps to the first spelling seen."""
    for known in projects:
        if _similar(name, known):
            return known
    projects.append(name)
    return name


def _similar(a: str, b: str) -> bool:
    if a == b or a in b or b in a:
        return True
    common = sum((Counter(a) & Counter(b)).values())
    return common >= 0.8 * max(len(a), len(b))

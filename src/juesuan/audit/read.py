"""Reading a published disclosure: PDF (text layer), DOCX, HTML or plain text / Markdown ->
Document.

A Document is what the file shows, in reading order, with the place of everything: lines of
text (with the layout cues that tell where a paragraph starts) and tables as grids of strings.
Pages without a usable text layer (scans, glyphs with no Unicode mapping) are reported as
unreadable, never guessed. Nothing here interprets a number.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import re
import statistics
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from juesuan.audit import grids, limits, pdfpage
from juesuan.audit.limits import Budget, LimitExceeded

PDF, DOCX, HTML, TEXT = "pdf", "docx", "html", "text"
SUFFIXES = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".html": HTML,
    ".htm": HTML,
    ".txt": TEXT,
    ".md": TEXT,
    ".markdown": TEXT,
    ".text": TEXT,
}
GARBLED_SHARE = 0.3  # a page whose text is mostly unmapped glyphs is unreadable


class NotReadable(Exception):
    """The file cannot be read at all (missing, wrong kind, damaged); the message says why."""


@dataclass(frozen=True)
class Place:
    """Where something is: PDF page and line on it; for DOCX, HTML and text, page is None and
    `line` is the paragraph or table (DOCX, HTML: the block's number) or the line (text)."""

    page: int | None
    line: int
    kind: str = TEXT

    def __str__(self) -> str:
        if self.page is not None:
            return f"第{self.page}页第{self.line}行"
        return f"第{self.line}段" if self.kind in (DOCX, HTML) else f"第{self.line}行"

    def as_dict(self) -> dict:
        return {"page": self.page, "line": self.line, "text": str(self)}


@dataclass(frozen=True)
class Line:
    """One line of text with the cues for paragraph building."""

    text: str
    place: Place
    gap_before: bool = False  # a blank line or a vertical gap above it
    indent: bool = False  # starts further right than the page's text (a first line)
    short: bool = False  # ends well before the right margin (a last line)
    whole: bool = False  # already a whole paragraph (DOCX)
    x0: float | None = None
    top: float | None = None


@dataclass(frozen=True)
class Grid:
    """A table as printed: rows of cell strings; None marks a cell covered by a merged one.

    A PDF table comes from `grids`: its first row holds the column titles (a header of several
    lines joined top to bottom by "/"), and it brings the title, 单位 and note read around it;
    a table going on from the page before has no header row and `continued` set."""

    rows: tuple[tuple[str | None, ...], ...]
    place: Place
    ruled: bool = True  # from ruling lines / a Word table; False when read by column alignment
    title: str = ""
    unit: str = ""  # 元, 万元, … from the table's 单位 line; "" when not read with the table
    note: str = ""
    continued: bool = False

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


Block = Line | Grid


@dataclass(frozen=True)
class Page:
    number: int
    blocks: tuple[Block, ...]
    readable: bool = True
    problem: str = ""  # why the page is unreadable (or a note on a partly garbled one)
    blank: bool = False


@dataclass(frozen=True)
class Document:
    path: str
    kind: str  # pdf | docx | html | text
    pages: tuple[Page, ...] = ()
    error: str = ""  # why the file could not be read at all

    @property
    def blocks(self) -> list[Block]:
        return [b for p in self.pages if p.readable for b in p.blocks]

    @property
    def unreadable_pages(self) -> list[Page]:
        return [p for p in self.pages if not p.readable]

    @property
    def readable(self) -> bool:
        return not self.error and any(p.readable and p.blocks for p in self.pages)

    def summary(self) -> dict:
        return {
            "path": self.path,
            "kind": self.kind,
            "pages": len(self.pages) if self.kind == PDF else None,
            "unreadable_pages": [
                {"page": p.number, "reason": p.problem} for p in self.unreadable_pages
            ],
            "blank_pages": [p.number for p in self.pages if p.blank],
            "error": self.error or None,
        }


def kind_of(path: str | Path) -> str | None:
    return SUFFIXES.get(Path(path).suffix.lower())


def read(path: str | Path) -> Document:
    """Read one file. Raises NotReadable (with a one-sentence reason) when it cannot be opened."""
    path = Path(path)
    if not path.exists():
        raise NotReadable(f"找不到文件：{path}")
    if path.is_dir():
        raise NotReadable(f"{path} 是文件夹，不是文件")
    kind = kind_of(path)
    if kind is None:
        raise NotReadable(f"{path} 不是 PDF、Word（.docx）、网页（.html）或文本（.txt/.md）文件")
    budget = Budget(path)
    try:
        if kind == PDF:
            with _collector_paused():
                return _read_pdf(path, budget)
        if kind == DOCX:
            return _read_docx(path, budget)
        budget.file_size(path.stat().st_size)
        if kind == HTML:
            return read_html(_decode(path.read_bytes()), str(path), budget)
        return read_text(_decode(path.read_bytes()), str(path), budget)
    except NotReadable:
        raise
    except LimitExceeded as exc:
        raise NotReadable(str(exc)) from exc
    except Exception as exc:  # a damaged file: say so in one sentence, no traceback
        name = {PDF: "PDF", DOCX: "Word", HTML: "网页"}.get(kind, "文本")
        raise NotReadable(f"{path} 无法作为{name}文件读取：文件已损坏，或不是{name}文件") from exc


def read_safely(path: str | Path) -> Document:
    """Like read(), but a file that cannot be read becomes a Document with `error` set."""
    try:
        return read(path)
    except NotReadable as exc:
        return Document(str(path), kind_of(path) or "", (), str(exc))


def read_many(
    paths: Sequence[str | Path], workers: int | None = None
) -> tuple[list[Document], dict]:
    """Read many files in parallel processes (all cores by default), with a summary."""
    documents = list(map_files(read_safely, paths, workers))
    summary = {
        "files": len(documents),
        "read": sum(1 for d in documents if d.readable),
        "failed": [{"path": d.path, "error": d.error} for d in documents if d.error],
        "unreadable_pages": sum(len(d.unreadable_pages) for d in documents),
    }
    return documents, summary


def map_files(function, paths: Sequence[str | Path], workers: int | None = None) -> Iterable:
    """`function` over `paths` in worker processes, results in order (one process when small)."""
    paths = [str(p) for p in paths]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(paths) < 2:
        return map(function, paths)
    chunk = max(1, len(paths) // (workers * 8))
    # forkserver, not fork: a process that has run typst or pdfium holds threads whose locks a
    # forked child would inherit held, and the child would wait forever
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(function, paths, chunksize=chunk))


# ---- plain text and Markdown -------------------------------------------------------------------

_MD_PREFIX = re.compile(r"^(?:#{1,6}\s+|[-*+]\s+|>\s?)")
_MD_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise NotReadable("文本文件的编码无法识别（既不是 UTF-8 也不是 GB18030）")


def read_text(text: str, path: str = "<text>", budget: Budget | None = None) -> Document:
    """Plain text or Markdown: one Line per non-blank line; tab- or pipe-separated runs of lines
    become grids (not ruled)."""
    budget = budget or Budget(path)
    budget.text(len(text))
    blocks: list[Block] = []
    gap = False
    pending: list[tuple[int, list[str]]] = []

    def flush() -> None:
        if pending:
            place = Place(None, pending[0][0], TEXT)
            width = max(len(cells) for _, cells in pending)
            budget.table(len(pending) * width, str(place))
            rows = tuple(tuple(c.strip() for c in cells) for _, cells in pending)
            blocks.append(Grid(rows, place, ruled=False))
            pending.clear()

    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        stripped = raw.strip()
        if not stripped:
            flush()
            gap = True
            continue
        if "\t" in raw.strip(" \u3000") or (stripped.startswith("|") and stripped.count("|") >= 2):
            if _MD_RULE.match(stripped):
                continue
            if "\t" in stripped:
                cells = raw.rstrip().split("\t")
            else:
                cells = stripped.strip("|").split("|")
            pending.append((number, cells))
            gap = False
            continue
        flush()
        content = _MD_PREFIX.sub("", stripped).replace("**", "")
        blocks.append(Line(content, Place(None, number, TEXT), gap_before=gap))
        gap = False
    flush()
    return Document(path, TEXT, (Page(1, tuple(blocks)),))


# ---- HTML ------------------------------------------------------------------------------------

# elements whose content is never text of the disclosure
_HTML_SKIP = {"head", "script", "style", "svg", "math", "template", "noscript", "title", "object"}
# elements that end one line of text and start the next
_HTML_BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
    "table", "ul",
}  # fmt: skip
_HTML_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
              "track", "wbr"}  # fmt: skip
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")
# a line break and a tab the reader puts in, kept apart from the whitespace of the source
_HTML_BREAK, _HTML_TAB = "\x1e", "\x1f"
_HTML_CHUNK = 1 << 16


class _HtmlTable:
    def __init__(self) -> None:
        self.rows: list[list[tuple[str, int, int]]] = []  # (text, colspan, rowspan)
        self.cell: list[str] | None = None
        self.span = (1, 1)

    def grid_rows(self, budget: Budget, where: str) -> tuple[tuple[str | None, ...], ...]:
        """Cells laid out by colspan/rowspan: a merged cell's text once, the cells it covers
        None (as a Word table reads). A rowspan ends at the table's last row, as in a browser."""
        height = len(self.rows)
        rows = [
            [(text, colspan, min(rowspan, height - r)) for text, colspan, rowspan in row]
            for r, row in enumerate(self.rows)
        ]
        budget.spans(sum(c * s for row in rows for _, c, s in row), where)
        placed: dict[tuple[int, int], str | None] = {}
        for r, row in enumerate(rows):
            column = 0
            for text, colspan, rowspan in row:
                while (r, column) in placed:
                    column += 1
                for dr in range(rowspan):
                    for dc in range(colspan):
                        placed[(r + dr, column + dc)] = None
                placed[(r, column)] = text
                column += colspan
        width = max((c + 1 for _, c in placed), default=0)
        budget.table(height * width, where)
        return tuple(tuple(placed.get((r, c), "") for c in range(width)) for r in range(height))


class _HtmlReader(HTMLParser):
    def __init__(self, budget: Budget) -> None:
        super().__init__(convert_charrefs=True)
        self.budget = budget
        self.blocks: list[Block] = []
        self.text: list[str] = []
        self.skip: list[str] = []  # open elements whose content is skipped
        self.tables: list[_HtmlTable] = []
        self.container: str | None = None  # the block element the current text is directly in

    @staticmethod
    def _span(value: str | None) -> int:
        try:
            return max(1, min(int(value or 1), 1000))
        except ValueError:
            return 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip:
            if tag not in _HTML_VOID:
                self.skip.append(tag)
            return
        attributes = dict(attrs)
        hidden = "hidden" in attributes or attributes.get("aria-hidden") == "true"
        if tag in _HTML_SKIP or (hidden and tag not in _HTML_VOID):
            self.skip.append(tag)
            return
        if tag == "br":
            self._data(_HTML_BREAK)
            return
        table = self.tables[-1] if self.tables else None
        if tag == "table":
            self.flush()
            self.tables.append(_HtmlTable())
        elif table is not None and tag == "tr":
            table.rows.append([])
        elif table is not None and tag in ("td", "th"):
            self._end_cell(table)
            if not table.rows:
                table.rows.append([])
            table.cell = []
            table.span = (
                self._span(attributes.get("colspan")),
                self._span(attributes.get("rowspan")),
            )
        elif table is not None and table.cell is not None and tag in _HTML_BLOCKS:
            self._data(_HTML_BREAK)  # paragraphs in a cell: one line each, as in Word
        elif tag in _HTML_BLOCKS:
            self.flush()
            self.container = tag
        elif tag == "span" and self.container == "div" and "".join(self.text).strip():
            # boxes side by side in a div (编制单位… | 单位：万元) are apart, as Word's tab
            self._data(_HTML_TAB)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _HTML_VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag in self.skip:  # close up to the matching element (tolerates missing end tags)
                while self.skip and self.skip.pop() != tag:
                    pass
            return
        table = self.tables[-1] if self.tables else None
        if tag == "table" and table is not None:
            self._end_cell(table)
            self.tables.pop()
            place = Place(None, len(self.blocks) + 1, HTML)
            rows = table.grid_rows(self.budget, str(place))
            if rows:
                self.blocks.append(Grid(rows, place))
        elif table is not None and tag in ("td", "th", "tr"):
            self._end_cell(table)
        elif tag in _HTML_BLOCKS:
            self.flush()
            self.container = None

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.budget.text(len(data))
            self._data(data)

    def _data(self, data: str) -> None:
        table = self.tables[-1] if self.tables else None
        if table is not None and table.cell is not None:
            table.cell.append(data)
        else:  # text in a table outside its cells (a caption) reads as a line before it
            self.text.append(data)

    def _end_cell(self, table: _HtmlTable) -> None:
        if table.cell is not None:
            table.rows[-1].append((_html_text(table.cell), *table.span))
            table.cell = None

    def flush(self) -> None:
        text = _html_text(self.text)
        self.text = []
        if text:
            place = Place(None, len(self.blocks) + 1, HTML)
            self.blocks.append(Line(text, place, gap_before=True, whole=True))


def _html_text(parts: list[str]) -> str:
    lines = (
        "\t".join(_HTML_SPACE.sub(" ", cell).strip() for cell in line.split(_HTML_TAB)).strip()
        for line in "".join(parts).split(_HTML_BREAK)
    )
    return "\n".join(line for line in lines if line)


def read_html(text: str, path: str = "<html>", budget: Budget | None = None) -> Document:
    """HTML: the text of headings, paragraphs and other blocks as whole lines in document order,
    tables as grids (colspan/rowspan expanded, a merged cell's text once); scripts, styles, SVG,
    images and hidden elements skipped. The whole file is one page."""
    budget = budget or Budget(path)
    reader = _HtmlReader(budget)
    for start in range(0, len(text), _HTML_CHUNK):  # in pieces, to keep to the deadline
        reader.feed(text[start : start + _HTML_CHUNK])
        budget.check_time()
    reader.close()
    while reader.tables:  # a table left open at the end of the file
        reader.handle_endtag("table")
    reader.flush()
    return Document(path, HTML, (Page(1, tuple(reader.blocks)),))


# ---- DOCX ------------------------------------------------------------------------------------


def _docx_damage(exc: Exception, path: Path) -> str:
    """What is wrong with a .docx that python-docx gave up on, in words."""
    import zipfile
    import zlib

    if not zipfile.is_zipfile(path):
        return "不是 Word（.docx）文件（.docx 是一个压缩包，这个文件不是）；如是 .doc，请用 Word 另存为 .docx"
    if isinstance(exc, zipfile.BadZipFile | zlib.error | EOFError):
        return "文件已损坏（压缩的内容不完整，或与文件目录不符）；请重新导出或重新下载"
    if isinstance(exc, KeyError):
        return "压缩包里没有 Word 文档的正文部分，不是 Word（.docx）文件"
    return "文件已损坏，或不是 Word（.docx）文件"


def _read_docx(path: Path, budget: Budget) -> Document:
    import docx
    from docx.table import Table as DocxTable

    try:
        limits.check_zip(path, budget)
        document = docx.Document(str(path))
    except LimitExceeded:
        raise
    except Exception as exc:
        raise NotReadable(
            f"{path} 无法作为 Word（.docx）文件读取：{_docx_damage(exc, path)}"
        ) from exc
    blocks: list[Block] = []
    number = 0
    for item in document.iter_inner_content():
        number += 1
        place = Place(None, number, DOCX)
        if isinstance(item, DocxTable):
            blocks.append(Grid(_docx_rows(item, budget, str(place)), place, ruled=True))
            continue
        text = item.text.strip()
        budget.text(len(text), str(place))
        if text:
            blocks.append(Line(text, place, gap_before=True, whole=True))
    return Document(str(path), DOCX, (Page(1, tuple(blocks)),))


def _docx_rows(table, budget: Budget, where: str) -> tuple[tuple[str | None, ...], ...]:
    """Rows of cell text; a merged cell's text appears once, the cells it covers are None.

    Laid out from the XML rather than python-docx's row.cells, which repeats a cell once per
    column it spans and walks up a vertical merge from every row below it: a span or merge
    written to be huge would take minutes and gigabytes there. Same result, one step per cell.
    """
    from docx.table import _Cell

    rows = []
    count = 0
    above: dict = {}  # grid column where a cell starts -> the cell holding its text
    for index, tr in enumerate(table._tbl.tr_lst):
        cells: list[str | None] = []
        starts: dict = {}
        column = tr.grid_before
        for tc in tr.tc_lst:
            holder = tc
            if tc.vMerge == "continue":  # merged down: the text is in the cell above
                if index == 0 or column not in above:
                    raise ValueError(f"no cell above grid column {column}")
                holder = above[column]
            span = max(holder.grid_span, 1)
            count += span
            budget.spans(count, where)  # before the cells are made
            if holder is tc:
                text = _Cell(tc, table).text.strip()
                budget.text(len(text), where)
                cells += [text] + [None] * (span - 1)
            else:
                cells += [None] * span
            starts[column] = holder
            column += max(tc.grid_span, 1)
        above = starts
        rows.append(tuple(cells))
    budget.table(count, where)
    return tuple(rows)


# ---- PDF -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a PDF is read. Its pages make a named tuple
    per character, tens of thousands of them, in no reference cycle; the collector never
    stops tracking a tuple subclass (only plain tuples), so each collection the reading set
    off walked them all again: 0.02 of 0.33 CPU-s for our 64-page PDF, more in a process
    holding many objects. The characters are freed by their reference counts when the
    pages go, at the end of _read_pdf."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _read_pdf(path: Path, budget: Budget) -> Document:
    try:
        pages = pdfpage.read_pages(path, budget)
    except pdfpage.PdfNotReadable as exc:
        raise NotReadable(str(exc)) from exc
    tables = grids.pdf_tables(pages)
    return Document(
        str(path), PDF, tuple(_read_page(p, t, budget) for p, t in zip(pages, tables, strict=True))
    )


def _grid(table: grids.TableGrid, place: Place) -> Grid:
    header = () if table.continued or not any(table.columns) else (tuple(table.columns),)
    rows = header + tuple(tuple(row) for row in table.rows)
    return Grid(rows, place, table.ruled, table.title, table.unit, table.note, table.continued)


def _read_page(page: pdfpage.PdfPage, found: list[grids.TableGrid], budget: Budget) -> Page:
    number = page.number
    drawn = sum(1 for c in page.chars if not c.text.isspace())
    if not drawn:
        if page.images:
            return Page(number, (), False, "扫描页：只有图像，没有文字层，未识别")
        return Page(number, (), True, "", blank=True)
    bad = page.unmapped
    if bad / drawn > GARBLED_SHARE:
        return Page(number, (), False, "乱码：文字层的字形没有对应的汉字编码，未识别")
    problem = "部分字符无法识别（字形没有汉字编码）" if bad else ""

    tables = [t for t in found if t.rows or (len(t.columns) >= 2 and any(t.columns))]
    for table in tables:
        budget.table((len(table.rows) + 1) * len(table.columns), f"第{number}页")
    body = [ln for ln in page.lines if not any(grids.within(ln, t) for t in tables)]
    items: list[tuple[float, Block]] = []
    if body:
        left = min(ln.x0 for ln in body)
        right = max(ln.x1 for ln in body)
        size = statistics.median(ln.bottom - ln.top for ln in body) or 10.0
        gaps = pdfpage.paragraph_gaps(body, size)
        for index, ln in enumerate(body, 1):
            line = Line(
                ln.text,
                Place(number, index, PDF),
                gap_before=gaps[index - 1],
                indent=ln.x0 - left > 1.2 * size,
                short=right - ln.x1 > 2.5 * size,
                x0=ln.x0,
                top=ln.top,
            )
            items.append((ln.top, line))
    for table in tables:
        line_number = 1 + sum(1 for ln in body if ln.top < table.top)
        items.append((table.top, _grid(table, Place(number, line_number, PDF))))
    items.sort(key=lambda pair: pair[0])
    return Page(number, tuple(block for _, block in items), True, problem)


def place_text(place: Place | None) -> str:
    return "" if place is None else str(place)


__all__ = [
    "DOCX",
    "HTML",
    "PDF",
    "TEXT",
    "Block",
    "Document",
    "Grid",
    "Line",
    "NotReadable",
    "Page",
    "Place",
    "kind_of",
    "map_files",
    "read",
    "read_html",
    "read_many",
    "read_safely",
    "read_text",
]

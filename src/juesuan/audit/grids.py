"""Tables of a PDF read into grids of cells, from the page model of `pdfpage`.

A table is found by its ruling lines: the rules that touch one another make one frame, the
distinct x of its vertical rules are its column edges and the distinct y of its horizontal ones
its row edges. Where an edge is missing between two cells they are one merged cell, whose text
belongs to its top-left cell. Every character goes into the cell its centre falls in; the lines
of a cell are joined (a title or an item name wrapped inside its cell is one text).

The header is the rows above the first row of data (a figure, a code, a numbered item or
合计/总计); each column's title is the header cells above it, top to bottom, joined by "/". The
title is the line ending in 表 above the frame, the unit its 单位 line, the note the 注/说明 lines
right below it. A frame at the top of a page with no title above it, as many columns wide as the
last table of the page before, goes on that table (its header, when repeated, dropped).

Nothing here knows which table is which: `tables.py` recognises them by title and kind.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import attrgetter

from juesuan.audit.pdfpage import SPACE_GAP, Char, PdfPage, Rule

EDGE = 2.5  # rule positions closer than this (points) are one edge (a thick or doubled line)
TOUCH = 2.0  # rules this close are taken to touch
MIN_RULE = 3.0  # shorter strokes are no part of a table's frame
UNIT_SCALE = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10000)}
UNIT_SCALE["亿元"] = Decimal(100000000)
_UNIT = re.compile(r"(?:单位|金额单位)\s*[:：]\s*(亿元|万元|千元|元)")
_TITLE = re.compile(r"表(?:[（(][^（）()]*[)）])?[：:]?$")
_TABLE_NUMBER = re.compile(r"^(?:公开)?\d+表$|^表[一二三四五六七八九十\d]+$")
_FIGURE = re.compile(r"^[-−－]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?$")
_CODE = re.compile(r"^\d{3}(?:\d{2}){0,2}$")
_NUMBERED = re.compile(
    r"^(?:[一二三四五六七八九十]+、|\d{1,2}[.．、](?!\d)|[（(][一二三四五六七八九十\d]+[)）])"
)
_TOTALS = ("合计", "总计", "小计")
_NOTE = re.compile(r"^(?:注|说明|备注)\s*\d*\s*[:：]")
_BY_BOTTOM, _BY_X0 = attrgetter("bottom"), attrgetter("x0")
_WHITESPACE = re.compile(r"\s+")


@dataclass
class TableGrid:
    """One table as printed: column titles, body rows of cell texts (whitespace dropped, "" for
    an empty cell), its title, 单位 and note, the pages it is on, and whether it was ruled."""

    title: str
    unit: str  # 元, 万元, … or "" when the table states none
    columns: list[str]
    rows: list[list[str]]
    pages: list[int]
    note: str = ""
    ruled: bool = True
    top: float = 0.0  # on its first page, in points from the top
    bottom: float = 0.0  # on its last page
    header_rows: int = field(default=0, repr=False)
    x0: float = 0.0
    x1: float = 0.0
    continued: bool = False  # the rest of the last table of the page before (header dropped)
    header_cells: list[list[str]] = field(default_factory=list, repr=False)  # as `rows` are

    def amount(self, text: str) -> Decimal | None:
        """A printed figure in 元 (scaled by the table's 单位), None when the cell holds none."""
        value = figure(text)
        if value is None:
            return None
        return value * UNIT_SCALE.get(self.unit, Decimal(1))

    def sides(self) -> list[TableGrid]:
        """收入 and 支出 side by side split into two tables (by the header's top level); a table
        of one side comes back whole."""
        tops = [c.split("/")[0] for c in self.columns]
        groups = list(dict.fromkeys(tops))
        if len(groups) != 2 or not all(("收入" in g or "支出" in g) for g in groups):
            return [self]
        out = []
        for group in groups:
            picked = [i for i, top in enumerate(tops) if top == group]
            rows = [[row[i] for i in picked] for row in self.rows]
            out.append(
                TableGrid(
                    f"{self.title}（{group}）",
                    self.unit,
                    [self.columns[i].partition("/")[2] or group for i in picked],
                    [r for r in rows if any(r)],
                    self.pages,
                    self.note,
                    self.ruled,
                    self.top,
                    self.bottom,
                )
            )
        return out


def figure(text: str) -> Decimal | None:
    """The value of a printed figure ("1,234.50", "-3", "—" for nothing), None otherwise."""
    text = (text or "").strip()
    if text in ("-", "—", "－", "--"):
        return Decimal(0)
    if not _FIGURE.match(text) or text.endswith("%"):
        return None
    try:
        return Decimal(text.replace(",", "").replace("−", "-").replace("－", "-"))
    except InvalidOperation:
        return None


def is_figure(text: str) -> bool:
    return bool(_FIGURE.match((text or "").strip()))


# ---- a document's tables ------------------------------------------------------------------------


def document_tables(pages: list[PdfPage]) -> list[TableGrid]:
    """Every table of the pages, continued tables joined across pages."""
    tables: list[TableGrid] = []
    for found in pdf_tables(pages):
        if found and found[0].continued:
            _join(tables[-1], found.pop(0))
        tables.extend(found)
    return tables


def pdf_tables(pages: list[PdfPage]) -> list[list[TableGrid]]:
    """Each page's tables, top down: ruled ones, and those laid out by column alignment
    without lines. The first table of a page that goes on with the last of the page before
    is marked `continued` (its header, when repeated, is not among its rows)."""
    out: list[list[TableGrid]] = []
    before: TableGrid | None = None
    for page in pages:
        ruled = page_tables(page)
        found = sorted(ruled + aligned_tables(page, ruled), key=lambda t: t.top)
        if found and before is not None and _continues(before, found[0], page):
            going_on = found[0]
            if going_on.header_rows and going_on.columns != before.columns:
                going_on.rows[:0] = going_on.header_cells  # rows without figures, not a header
            going_on.continued, going_on.columns = True, before.columns
        if found:
            before = found[-1]
        out.append(found)
    return out


def _continues(before: TableGrid, table: TableGrid, page: PdfPage) -> bool:
    if table.title or before.pages[0] != page.number - 1:
        return False
    if len(table.columns) != len(before.columns):
        return False
    # no header, the header repeated, or rows without a figure (all taken for a header)
    return table.header_rows == 0 or table.columns == before.columns or not table.rows


def _join(before: TableGrid, table: TableGrid) -> None:
    before.rows.extend(table.rows)
    before.pages.append(table.pages[0])
    before.bottom = table.bottom
    before.note = table.note or before.note


def page_tables(page: PdfPage) -> list[TableGrid]:
    """The ruled tables of one page, top down."""
    frames = _frames(page.rules)
    lines = [line for line in page.lines]
    tables = []
    above = 0.0
    for index, (xs, ys, horizontals, verticals) in enumerate(frames):
        cells = _cells(xs, ys, horizontals, verticals)
        texts = _texts(page.chars, xs, ys, cells)
        header = _split(texts, cells)
        columns = _titles(texts[:header], cells[:header], len(xs) - 1)
        every = [
            [texts[r][c] if cells[r][c] == (r, c) else "" for c in range(len(xs) - 1)]
            for r in range(len(texts))
        ]
        rows = [r for r in every[header:] if any(r)]
        below = frames[index + 1][1][0] if index + 1 < len(frames) else page.height
        title, unit = _title_and_unit(
            [ln for ln in lines if above <= ln.top and ln.bottom <= ys[0] + 1]
        )
        note = _note([ln for ln in lines if ys[-1] - 1 <= ln.top and ln.bottom <= below])
        tables.append(
            TableGrid(
                title,
                unit,
                columns,
                rows,
                [page.number],
                note,
                True,
                ys[0],
                ys[-1],
                header,
                xs[0],
                xs[-1],
                header_cells=[r for r in every[:header] if any(r)],
            )
        )
        above = ys[-1]
    return tables


# ---- tables without ruling lines ------------------------------------------------------------------

COLUMN_GAP = 1.0  # a gap wider than this share of the font size between characters parts cells
ROW_GAP = 2.5  # lines further apart than this share of the font size are no longer one table


def aligned_tables(page: PdfPage, ruled: list[TableGrid]) -> list[TableGrid]:
    """Tables drawn without lines, read by the alignment of their character boxes: runs of
    lines broken into cells by wide gaps, three or more of them rows of figures across three or
    more columns. A column is the span the cells of the figure rows cover; header lines above
    the first figure row give the columns' titles, a line of one cell of words inside the run
    is the wrapped rest of the name above it."""
    free = [ln for ln in page.lines if not any(within(ln, t) for t in ruled)]
    pieces = [_pieces(ln) for ln in free]
    tables = []
    start = 0
    while start < len(free):
        end = start
        while end + 1 < len(free) and _runs_on(free, pieces, end):
            end += 1
        table = _aligned(page, free, pieces, start, end + 1, ruled + tables)
        if table is not None:
            tables.append(table)
        start = end + 1
    return tables


def within(line, table: TableGrid) -> bool:
    middle = (line.top + line.bottom) / 2
    return table.top - 1 <= middle <= table.bottom + 1 and line.x0 < table.x1 and line.x1 > table.x0


def _pieces(line, gap: float = COLUMN_GAP) -> list[tuple[float, float, str]]:
    """The line cut at gaps wider than `gap` of the font size: (x0, x1, text) of each piece."""
    out: list[list[Char]] = []
    for char in line.chars:
        if out and char.x0 - out[-1][-1].x1 <= gap * max(char.size, 1.0):
            out[-1].append(char)
        else:
            out.append([char])
    return [(p[0].x0, p[-1].x1, "".join([c.text for c in p])) for p in out]


def _cells_line(text: str) -> bool:
    squeezed = _squeeze(text)
    return not (_UNIT.search(squeezed) or _TITLE.search(squeezed))


def _runs_on(lines, pieces, index: int) -> bool:
    """Whether line index + 1 is in the same table as line `index` (both rows of cells, or the
    second a wrapped name between two rows of cells)."""
    here, after = lines[index], lines[index + 1]
    if after.top - here.bottom > ROW_GAP * max(here.size, 1.0):
        return False
    if not (_cells_line(here.text) and _cells_line(after.text)):
        return False
    if len(pieces[index + 1]) >= 2:
        return len(pieces[index]) >= 2 or (index > 0 and len(pieces[index - 1]) >= 2)
    return (
        len(pieces[index]) >= 2
        and not is_figure(pieces[index + 1][0][2])
        and index + 2 < len(lines)
        and len(pieces[index + 2]) >= 2
    )


def _aligned(page: PdfPage, lines, pieces, start: int, end: int, taken) -> TableGrid | None:
    run = list(range(start, end))
    data = [i for i in run if sum(1 for p in pieces[i] if is_figure(p[2])) >= 1]
    data = [i for i in data if not _column_numbers([p[2] for p in pieces[i]])]
    if len(data) < 3 or max(len(pieces[i]) for i in data) < 3:
        return None
    bands: list[list[float]] = []
    for x0, x1, _ in sorted(p for i in data for p in pieces[i]):
        if bands and x0 <= bands[-1][1] + 1:
            bands[-1][1] = max(bands[-1][1], x1)
        else:
            bands.append([x0, x1])
    if len(bands) < 3:
        return None

    def band(x0: float, x1: float) -> int:
        overlaps = [min(x1, b[1]) - max(x0, b[0]) for b in bands]
        best = max(range(len(bands)), key=lambda k: overlaps[k])
        if overlaps[best] > 0:
            return best
        return min(range(len(bands)), key=lambda k: abs((b := bands[k])[0] + b[1] - x0 - x1))

    first = data[0]
    header: list[list[str]] = []
    rows: list[list[str]] = []
    for i in run:
        cells = ["" for _ in bands]
        # header cells sit closer than figures do: cut them at every space
        for x0, x1, text in _pieces(lines[i], SPACE_GAP) if i < first else pieces[i]:
            cells[band(x0, x1)] += text
        if i < first:
            header.append(cells)
        elif len(pieces[i]) == 1 and rows and i not in data:
            k = band(pieces[i][0][0], pieces[i][0][1])
            rows[-1][k] += cells[k]  # the rest of a name wrapped to the next line
        else:
            rows.append(cells)
    columns = ["/".join(h[k] for h in header if h[k]) for k in range(len(bands))]
    top, bottom = lines[start].top, lines[end - 1].bottom
    above = max((t.bottom for t in taken if t.bottom <= top), default=0.0)
    below = min((t.top for t in taken if t.top >= bottom), default=page.height)
    title, unit = _title_and_unit(
        [ln for ln in page.lines if above <= ln.top and ln.bottom <= top + 1]
    )
    note = _note([ln for ln in page.lines if bottom - 1 <= ln.top and ln.bottom <= below])
    return TableGrid(
        title, unit, columns, rows, [page.number], note, False, top, bottom, len(header),
        bands[0][0], bands[-1][1], header_cells=header,
    )  # fmt: skip


# ---- frames and cells ------------------------------------------------------------------------------


def _frames(rules: tuple[Rule, ...]):
    """Groups of touching rules, each with its column edges, row edges and its rules, top down."""
    strokes = [r for r in rules if max(r.x1 - r.x0, r.bottom - r.top) >= MIN_RULE]
    parent = list(range(len(strokes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(strokes)), key=lambda i: strokes[i].top)
    for a_pos, a in enumerate(order):
        ra = strokes[a]
        for b in order[a_pos + 1 :]:
            rb = strokes[b]
            if rb.top > ra.bottom + TOUCH:
                break
            if rb.x0 <= ra.x1 + TOUCH and ra.x0 <= rb.x1 + TOUCH:
                parent[find(a)] = find(b)
    groups: dict[int, list[Rule]] = {}
    for i, rule in enumerate(strokes):
        groups.setdefault(find(i), []).append(rule)
    frames = []
    for group in groups.values():
        horizontals = [r for r in group if r.horizontal]
        verticals = [r for r in group if not r.horizontal]
        xs = _edges([r.x0 for r in verticals])
        ys = _edges([r.top for r in horizontals])
        if len(xs) < 2 or not ys:
            continue
        # a table cut by a page break has no line along the cut: it ends where its columns do
        for y in (min(r.top for r in verticals), max(r.bottom for r in verticals)):
            if min(abs(y - edge) for edge in ys) > EDGE:
                horizontals.append(Rule(xs[0], y, xs[-1], y))
                ys = sorted([*ys, y])
        if len(ys) < 2:
            continue
        frames.append((xs, ys, horizontals, verticals))
    frames.sort(key=lambda f: f[1][0])
    return frames


def _edges(values: list[float]) -> list[float]:
    edges: list[list[float]] = []
    for value in sorted(values):
        if edges and value - edges[-1][-1] <= EDGE:
            edges[-1].append(value)
        else:
            edges.append([value])
    return [sum(group) / len(group) for group in edges]


def _covered(spans: list[tuple[float, float]], start: float, end: float) -> bool:
    """Whether one of the `spans` (low, high) of the rules along an edge covers the middle of
    [start, end]."""
    middle, reach = (start + end) / 2, (end - start) / 4
    return any(low <= middle - reach and high >= middle + reach for low, high in spans)


def _cells(xs, ys, horizontals, verticals) -> list[list[tuple[int, int]]]:
    """For each (row, column) of the frame, the top-left cell of the merged cell it is part of."""
    rows, columns = len(ys) - 1, len(xs) - 1
    root = {(r, c): (r, c) for r in range(rows) for c in range(columns)}

    def find(cell):
        while root[cell] != cell:
            root[cell] = root[root[cell]]
            cell = root[cell]
        return cell

    def merge(a, b):
        a, b = find(a), find(b)
        root[max(a, b)] = min(a, b)  # the root is the top-left cell

    # the rules along each edge, found once for the edge rather than once for each of its cells
    along_x = [[(v.top, v.bottom) for v in verticals if abs(v.x0 - x) <= EDGE] for x in xs]
    along_y = [[(h.x0, h.x1) for h in horizontals if abs(h.top - y) <= EDGE] for y in ys]
    for r in range(rows):
        for c in range(columns):
            if c and not _covered(along_x[c], ys[r], ys[r + 1]):
                merge((r, c - 1), (r, c))
            if r and not _covered(along_y[r], xs[c], xs[c + 1]):
                merge((r - 1, c), (r, c))
    return [[find((r, c)) for c in range(columns)] for r in range(rows)]


def _texts(chars: tuple[Char, ...], xs, ys, cells) -> list[list[str]]:
    """Each cell's text, its lines joined, whitespace dropped; kept at its merged cell's origin."""
    buckets: defaultdict[tuple[int, int], list[Char]] = defaultdict(list)
    left, right, top, bottom = xs[0], xs[-1], ys[0], ys[-1]
    for char in chars:
        # most of a page's characters lie above or below the table: ruled out first
        cy = (char.top + char.bottom) / 2
        if not top < cy < bottom:
            continue
        cx = (char.x0 + char.x1) / 2
        if not left < cx < right or not char.text.strip():
            continue
        r = bisect.bisect(ys, cy) - 1
        c = bisect.bisect(xs, cx) - 1
        buckets[cells[r][c]].append(char)
    texts = [["" for _ in range(len(xs) - 1)] for _ in range(len(ys) - 1)]
    for (r, c), found in buckets.items():
        texts[r][c] = _join_lines(found)
    return texts


def _join_lines(chars: list[Char]) -> str:
    """The cell's characters (sorted here) as its lines' texts, top down, joined."""
    chars.sort(key=_BY_BOTTOM)
    lines: list[list[Char]] = []
    first = 0.0  # the bottom of the first character of the last line
    for char in chars:
        if lines and char.bottom - first <= 0.5 * max(char.size, 1.0):
            lines[-1].append(char)
        else:
            lines.append([char])
            first = char.bottom
    out = []
    for line in lines:
        line.sort(key=_BY_X0)
        previous = line[0]
        out.append(previous.text)
        for char in line[1:]:
            if char.text == previous.text and char.x0 - previous.x0 < 0.3 * (
                previous.x1 - previous.x0
            ):
                continue  # drawn twice a little apart: bold by overprinting
            out.append(char.text)
            previous = char
    return "".join(out)


# ---- header, title, unit, note ---------------------------------------------------------------------


def _is_data(row: list[str], own_first_cell: bool) -> bool:
    """A row of data: a figure (not the 栏次 row's 1 2 3 …), or a row that begins with a code,
    a numbered item or 合计/总计 in its own first cell (not a header cell reaching down)."""
    filled = [t for t in row if t]
    if any(is_figure(t) for t in filled) and not _column_numbers(filled):
        return True
    first = filled[0] if filled else ""
    return own_first_cell and (
        first in _TOTALS or bool(_CODE.match(first) or _NUMBERED.match(first))
    )


def _titled_total(row: list[str], below: list[list[str]]) -> bool:
    """合计 as the first column's title: words beside it, figures under them in the next row."""
    words = [c for c, t in enumerate(row) if t and not is_figure(t)]
    following = next((r for r in below if any(r)), None)
    return (
        len(words) > 1
        and following is not None
        and not any(is_figure(t) for t in row)
        and sum(1 for c in words if is_figure(following[c])) >= 2
    )


def _column_numbers(filled: list[str]) -> bool:
    return filled[0] in ("栏次", "行次") or all(t.isdigit() and int(t) <= 40 for t in filled)


def _split(texts: list[list[str]], cells) -> int:
    """How many rows the header has."""
    for index, row in enumerate(texts):
        reaching_down = index + 1 < len(cells) and any(o[0] <= index for o in cells[index + 1])
        if _is_data(row, cells[index][0][0] == index and not reaching_down):
            if _titled_total(row, texts[index + 1 :]):
                continue
            return index
    return len(texts)


def _titles(texts, cells, width: int) -> list[str]:
    titles = []
    for c in range(width):
        parts: list[str] = []
        seen: set[tuple[int, int]] = set()
        for r in range(len(texts)):
            origin = cells[r][c]
            if origin in seen:
                continue
            seen.add(origin)
            text = texts[origin[0]][origin[1]]
            if text:
                parts.append(text)
        titles.append("/".join(parts))
    return titles


def _squeeze(text: str) -> str:
    return _WHITESPACE.sub("", text)


def _title_and_unit(lines) -> tuple[str, str]:
    unit = ""
    title_at = None
    texts = [_squeeze(line.text) for line in lines]
    for index, text in enumerate(texts):
        found = _UNIT.search(text)
        if found:
            unit = found.group(1)
        elif _TITLE.search(text) and not _TABLE_NUMBER.match(text):
            title_at = index
    if title_at is None:
        return "", unit
    title = texts[title_at]
    # a title wrapped over two lines: the first half ends without 表, right above
    if title_at and len(title) <= 6:
        previous = texts[title_at - 1]
        if len(previous) >= 12 and not (_UNIT.search(previous) or _TITLE.search(previous)):
            title = previous + title
    return title, unit


def _note(lines) -> str:
    out: list[str] = []
    for line in lines:
        text = _squeeze(line.text)
        if not out and not _NOTE.match(text):
            break
        if out and (_TITLE.search(text) or _UNIT.search(text)) and not _NOTE.match(text):
            break
        out.append(text)
    return "\n".join(out)

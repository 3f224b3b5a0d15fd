"""What a PDF page shows, read with pdfium (pypdfium2): every character with its box, the ruling
lines and rectangles drawn on it, and its text rebuilt into lines in reading order, with the
running heads and page numbers set apart.

Coordinates are PDF points (1/72 inch) with the origin at the top-left corner of the page as
displayed (its crop box): x grows to the right, y (`top`, `bottom`, `baseline`) downwards.

Lines are rebuilt from the character boxes, not from the order the file draws them in: the
characters that share a baseline are one line, ordered by x, with a space where the gap is wide.
(A Word export draws the figures of a sentence in another font, after the Chinese text; grouped
by box top they end up at the end of the line or on a line of their own.)

Nothing here interprets a number or finds a table's cells: `grids` reads tables from what a
page gives here.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import re
import struct
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import NamedTuple

from juesuan.audit import limits
from juesuan.audit.limits import Budget

RULE_THICKNESS = 2.0  # a filled rectangle this thin (points) is drawn as a line
MARGIN_BAND = 0.12  # running heads and page numbers lie in this share of the page, top or bottom
SPACE_GAP = 0.3  # a gap wider than this share of the font size between two characters is a space
PARAGRAPH_GAP = 0.9  # a paragraph's space above a line is wider than this share of its height
PARAGRAPH_EXTRA = 0.4  # and wider than the page's usual line spacing by this share of its height
USUAL_PAIRS = 4  # the fewest pairs of lines on a page that show its usual line spacing
_SPACES = {" ", "\u3000", "\xa0", "\t", "\r", "\n"}
_MADE_UP = {" ", "\r", "\n"}  # what pdfium puts between runs (FPDFText_IsGenerated)
_BY_BASELINE, _BY_X0 = attrgetter("baseline"), attrgetter("x0")
_CURVED = itemgetter(2)  # of a path's point (x, y, reached by a curve)
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|\d{1,4}|[-—–－]?\s*[ivxlcIVXLC]{1,6}\s*[-—–－]?)$"
)


class PdfNotReadable(Exception):
    """The file cannot be opened as a PDF; the message says why in one sentence."""


class Char(NamedTuple):
    """One character as drawn: its text (one Unicode character), its box (the font's full
    height and the glyph's advance, so boxes on a line have the same top and bottom), its
    baseline and its size: the height of that box, about the font size. `unmapped`: the font gives no Unicode for it.

    A named tuple, not a frozen dataclass: a page makes one per character, and a tuple is made
    in a third of the time a frozen dataclass's __init__ takes (it sets each field through
    object.__setattr__)."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    baseline: float
    size: float
    unmapped: bool = False


class Rule(NamedTuple):
    """A ruling line, horizontal (top == bottom) or vertical (x0 == x1). A named tuple, as Char:
    a page of tables draws thousands."""

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def horizontal(self) -> bool:
        return self.top == self.bottom


@dataclass(frozen=True, slots=True)
class Rect:
    """A rectangle drawn on the page (a cell's shading, a frame), filled and/or stroked."""

    x0: float
    top: float
    x1: float
    bottom: float
    filled: bool
    stroked: bool


@dataclass(frozen=True, slots=True)
class TextLine:
    """Characters on one baseline, in x order, and their text (spaces where gaps are wide)."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    baseline: float
    size: float  # the median size of its characters
    chars: tuple[Char, ...]


@dataclass(frozen=True)
class PdfPage:
    number: int  # from 1
    width: float
    height: float
    chars: tuple[Char, ...]  # in the order the file draws them; no spaces pdfium made up
    rules: tuple[Rule, ...]
    rects: tuple[Rect, ...]
    lines: tuple[TextLine, ...]  # the page's text, top down, without `margins`
    margins: tuple[TextLine, ...] = ()  # running heads and page numbers
    images: int = 0

    @property
    def unmapped(self) -> int:
        """Characters that read as nothing: no Unicode mapping, private-use or U+FFFD."""
        return sum(
            1
            for c in self.chars
            if c.unmapped or c.text == "\ufffd" or "\ue000" <= c.text <= "\uf8ff"
        )


# ---- reading -------------------------------------------------------------------------------


def read_pages(path: str | Path, budget: Budget | None = None) -> list[PdfPage]:
    """Every page of the PDF at `path`, within the limits of `budget` (a page past a limit
    raises limits.LimitExceeded), running heads and page numbers set apart."""
    return mark_margins(list(iter_pages(path, budget)))


def iter_pages(path: str | Path, budget: Budget | None = None) -> Iterator[PdfPage]:
    """The pages one by one, margins not yet set apart (that needs every page)."""
    import pypdfium2

    path = Path(path)
    budget = budget or Budget(path)
    try:
        document = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        raise PdfNotReadable(_open_problem(path, exc)) from exc
    try:
        budget.pages(len(document))
        streams = _content_sizes(path)
        for index in range(len(document)):
            number = index + 1
            counter = budget.page(number)
            if streams is not None:
                counter.content(next(streams, 0))
            page = document[index]
            try:
                read = _read_page(page, number, counter)
                budget.text(len(read.chars), f"第{number}页")
                yield read
            finally:
                page.close()
    finally:
        document.close()


def _open_problem(path: Path, exc: Exception) -> str:
    import pypdfium2.raw as pdfium_c

    code = getattr(exc, "err_code", None)
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return f"{path} 用密码保护，需先解除密码再审核"
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return f"{path} 已加密，加密方式无法识别，需先解除加密再审核"
    if code == pdfium_c.FPDF_ERR_FILE:
        return f"{path} 无法打开"
    return f"{path} 不是有效的 PDF 文件，无法读取"


def _content_sizes(path: Path) -> Iterator[int] | None:
    """Each page's drawing instructions, inflated, in bytes, counted a chunk at a time before
    pdfium inflates them whole (it would take minutes and gigabytes on a stream built to
    inflate a thousandfold). pdfium has no call that gives a page's raw streams, so pdfminer
    walks the file for them; a file pdfminer cannot walk, pdfium still reads (None)."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    handle = open(path, "rb")
    try:
        pages = PDFPage.create_pages(PDFDocument(PDFParser(handle)))
    except Exception:
        handle.close()
        return None

    def sizes() -> Iterator[int]:
        with handle:
            try:
                for page in pages:
                    yield _inflated_content(page)
            except limits.LimitExceeded:
                raise
            except Exception:
                return

    return sizes()


def _inflated_content(page_obj) -> int:
    """The page's content streams and the forms it may draw, inflated (counted up to just past
    the limit)."""
    from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFStream, resolve1

    pending = list(page_obj.contents or [])
    resources = resolve1(page_obj.resources) or {}
    pending += list((resolve1(resources.get("XObject")) or {}).values())
    seen: set[int] = set()
    total = 0
    while pending and total <= limits.MAX_PAGE_CONTENT_BYTES:
        stream = resolve1(pending.pop())
        if not isinstance(stream, PDFStream) or id(stream) in seen:
            continue
        seen.add(id(stream))
        if stream.get("Subtype") is not None and resolve1(stream.get("Subtype")).name != "Form":
            continue  # an image: its pixels are never decoded
        form_resources = resolve1(stream.get("Resources")) or {}
        pending += list((resolve1(form_resources.get("XObject")) or {}).values())
        filters = stream.get_filters()
        if stream.rawdata is None or not filters or filters[0][0] not in LITERALS_FLATE_DECODE:
            total += len(stream.rawdata or b"")
            continue
        data = stream.rawdata
        if stream.decipher:
            data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
        total += limits.inflated_size(data, limits.MAX_PAGE_CONTENT_BYTES - total)
    return total


def _read_page(page, number: int, counter: limits.PageBudget) -> PdfPage:
    left, bottom, right, top = page.get_cropbox()
    view = _View(left, bottom, right, top, page.get_rotation() % 360)
    images, rules, rects = _drawing(page, view, counter)
    chars = _chars(page, view, counter)
    return PdfPage(
        number,
        view.width,
        view.height,
        chars,
        tuple(rules),
        tuple(rects),
        tuple(text_lines(chars)),
        images=images,
    )


class _View:
    """PDF user space -> the page as displayed: origin top-left, y down, turned by /Rotate."""

    def __init__(self, left: float, bottom: float, right: float, top: float, rotation: int):
        self.left, self.top, self.rotation = left, top, rotation
        self.w, self.h = right - left, top - bottom
        turned = rotation in (90, 270)
        self.width, self.height = (self.h, self.w) if turned else (self.w, self.h)

    def point(self, x: float, y: float) -> tuple[float, float]:
        dx, dy = x - self.left, self.top - y
        if self.rotation == 90:  # turned clockwise: the left edge becomes the top
            return self.h - dy, dx
        if self.rotation == 180:
            return self.w - dx, self.h - dy
        if self.rotation == 270:
            return dy, self.w - dx
        return dx, dy

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        """(x0, top, x1, bottom) of the box with corners (x0, y0), (x1, y1) in user space."""
        ax, ay = self.point(x0, y0)
        bx, by = self.point(x1, y1)
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


def _drawing(page, view: _View, counter: limits.PageBudget):
    """Text runs and images counted; ruling lines and rectangles from the page's paths, inside
    drawn forms too (a form's matrix carried down)."""
    import pypdfium2.raw as pdfium_c

    rules: list[Rule] = []
    rects: list[Rect] = []
    counts = {"images": 0}
    scratch = _Scratch()
    matrix, matrix_ref = scratch.matrix, scratch.matrix_ref
    get_matrix, get_type = scratch.calls.object_matrix, scratch.calls.object_type

    def own(obj, outer):
        if not get_matrix(obj, matrix_ref):
            return outer
        return _compose((matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f), outer)

    def walk(count: int, get, outer, depth: int) -> None:
        for index in range(count):
            obj = get(index)
            kind = get_type(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                counter.run()
                continue
            counter.graphic()
            if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                _path(obj, own(obj, outer), view, scratch, rules, rects)
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                counts["images"] += 1
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < 16:
                walk(
                    pdfium_c.FPDFFormObj_CountObjects(obj),
                    lambda i, form=obj: pdfium_c.FPDFFormObj_GetObject(form, i),
                    own(obj, outer),
                    depth + 1,
                )

    raw, get_object = page.raw, scratch.calls.page_object
    walk(
        pdfium_c.FPDFPage_CountObjects(raw),
        lambda i: get_object(raw, i),
        (1.0, 0.0, 0.0, 1.0, 0.0, 0.0),
        0,
    )
    return counts["images"], rules, rects


def _compose(inner: tuple, outer: tuple) -> tuple:
    """The matrix applying `inner` then `outer` (PDF order a b c d e f)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E,
            e * B + f * D + F)  # fmt: skip


class _Scratch:
    """What pdfium writes its answers into, made once per page rather than once per path, with
    the byref() of each to pass to the bare calls."""

    def __init__(self) -> None:
        import pypdfium2.raw as pdfium_c

        self.calls = _calls()
        self.matrix = pdfium_c.FS_MATRIX()
        self.fill, self.stroke = ctypes.c_int(), ctypes.c_int()
        self.x, self.y = ctypes.c_float(), ctypes.c_float()
        self.rgba = tuple(ctypes.c_uint() for _ in range(4))
        self.matrix_ref = ctypes.byref(self.matrix)
        self.fill_ref, self.stroke_ref = ctypes.byref(self.fill), ctypes.byref(self.stroke)
        self.x_ref, self.y_ref = ctypes.byref(self.x), ctypes.byref(self.y)
        self.rgba_refs = tuple(ctypes.byref(value) for value in self.rgba)


def _path(
    obj, m: tuple, view: _View, scratch: _Scratch, rules: list[Rule], rects: list[Rect]
) -> None:
    """An axis-aligned rectangle is a Rect (or a Rule when thinner than RULE_THICKNESS); the
    straight horizontal and vertical pieces of a stroked path are Rules."""
    import pypdfium2.raw as pdfium_c

    calls = scratch.calls
    calls.draw_mode(obj, scratch.fill_ref, scratch.stroke_ref)
    filled, stroked = scratch.fill.value != 0, scratch.stroke.value != 0
    if filled and not stroked and _invisible_fill(obj, scratch):
        filled = False  # a white or clear box (a cell's padding) is no line on paper
    if not (filled or stroked):
        return  # a clipping path: draws nothing
    x, y, x_ref, y_ref = scratch.x, scratch.y, scratch.x_ref, scratch.y_ref
    get_segment, get_point = calls.segment, calls.segment_point
    get_type, get_close = calls.segment_type, calls.segment_close
    move, bezier = pdfium_c.FPDF_SEGMENT_MOVETO, pdfium_c.FPDF_SEGMENT_BEZIERTO
    a, b, c, d, e, f = m
    left, top = view.left, view.top
    upright = view.rotation == 0
    subpaths: list[list[tuple[float, float, bool]]] = []  # points; True: reached by a curve
    current: list[tuple[float, float, bool]] = []
    for index in range(calls.count_segments(obj)):
        segment = get_segment(obj, index)
        get_point(segment, x_ref, y_ref)
        kind = get_type(segment)
        sx, sy = x.value, y.value
        px, py = a * sx + c * sy + e, b * sx + d * sy + f
        curved = kind == bezier
        point = (px - left, top - py, curved) if upright else (*view.point(px, py), curved)
        if kind == move or not subpaths:
            current = [point]
            subpaths.append(current)
        else:
            current.append(point)
        if get_close(segment):
            first = current[0]
            current.append((first[0], first[1], False))
    for points in subpaths:
        box = _rectangle(points)
        if box is not None:
            x0, top, x1, bottom = box
            if min(x1 - x0, bottom - top) <= RULE_THICKNESS:
                if x1 - x0 >= bottom - top:
                    middle = round((top + bottom) / 2, 2)
                    rules.append(Rule(x0, middle, x1, middle))
                else:
                    middle = round((x0 + x1) / 2, 2)
                    rules.append(Rule(middle, top, middle, bottom))
                continue
            rects.append(Rect(x0, top, x1, bottom, filled, stroked))
            if stroked:
                rules += [Rule(x0, top, x1, top), Rule(x0, bottom, x1, bottom),
                          Rule(x0, top, x0, bottom), Rule(x1, top, x1, bottom)]  # fmt: skip
            continue
        if not stroked:
            continue
        for (ax, ay, _), (bx, by, curved) in itertools.pairwise(points):
            if curved:
                continue
            if abs(ay - by) < 0.5 and abs(ax - bx) > 0.5:
                middle = round((ay + by) / 2, 2)
                rules.append(Rule(min(ax, bx), middle, max(ax, bx), middle))
            elif abs(ax - bx) < 0.5 and abs(ay - by) > 0.5:
                middle = round((ax + bx) / 2, 2)
                rules.append(Rule(middle, min(ay, by), middle, max(ay, by)))


def _invisible_fill(obj, scratch: _Scratch) -> bool:
    r, g, b, a = scratch.rgba
    if not scratch.calls.fill_color(obj, *scratch.rgba_refs):
        return False
    return a.value == 0 or min(r.value, g.value, b.value) >= 250


def _rectangle(points: list[tuple[float, float, bool]]) -> tuple[float, ...] | None:
    """(x0, top, x1, bottom) when the subpath is an axis-aligned rectangle."""
    if any(map(_CURVED, points)):
        return None
    count = len(points)
    x, y, _ = points[0]
    while (
        count > 4 and abs(points[count - 1][0] - x) <= 0.5 and abs(points[count - 1][1] - y) <= 0.5
    ):
        count -= 1  # closed by a line back to the start and/or a close flag
    if count != 4:
        return None
    corners = points[:4]
    xs, ys = _edges([p[0] for p in corners]), _edges([p[1] for p in corners])
    if xs is None or ys is None:
        return None
    for (ax, ay, _), (bx, by, _) in zip(corners, (*corners[1:], corners[0]), strict=True):
        if abs(ax - bx) > 0.05 and abs(ay - by) > 0.05:
            return None  # a slanted side
    return xs[0], ys[0], xs[-1], ys[-1]


def _edges(values: list[float]) -> tuple[float, ...] | None:
    """The least and greatest of `values` rounded to 0.1 point, when they round to at most two
    distinct values. Rounding keeps order, so with at most two distinct values before it only
    the two ends need rounding (the usual rectangle: two x and two y, each twice)."""
    distinct = set(values)
    if len(distinct) > 2:
        distinct = {round(value, 1) for value in values}
        if len(distinct) > 2:
            return None
    return round(min(distinct), 1), round(max(distinct), 1)


def _chars(page, view: _View, counter: limits.PageBudget) -> tuple[Char, ...]:
    import pypdfium2.raw as pdfium_c

    calls = _calls()
    get_box, get_origin = calls.loose_char_box, calls.char_origin
    map_error, generated = calls.unicode_map_error, calls.is_generated
    textpage = page.get_textpage()
    raw = textpage.raw
    box = pdfium_c.FS_RECTF()
    x, y = ctypes.c_double(), ctypes.c_double()
    box_ref, x_ref, y_ref = ctypes.byref(box), ctypes.byref(x), ctypes.byref(y)
    left, top = view.left, view.top
    upright = view.rotation == 0
    make = tuple.__new__  # Char(...) without the Python frame of a named tuple's __new__
    chars = []
    try:
        texts = _char_texts(raw)
        # pdfium makes up spaces and line breaks between runs (ours come from the boxes), and
        # nothing else: only those characters need asking
        drawn = [
            index
            for index, text in enumerate(texts)
            if text not in _MADE_UP or generated(raw, index) != 1
        ]
        counter.char(len(drawn))
        for index in drawn:
            get_box(raw, index, box_ref)
            get_origin(raw, index, x_ref, y_ref)
            if upright:  # view.box and view.point, inline: the page as the file draws it
                box_left, box_top, box_right, box_bottom = _unpack_box(box)
                x0, x1 = box_left - left, box_right - left
                y0, y1 = top - box_bottom, top - box_top
                if not x0 <= x1:  # put in order without making a tuple per character
                    x0, x1 = x1, x0
                if not y0 <= y1:
                    y0, y1 = y1, y0
                baseline = top - y.value
            else:
                x0, y0, x1, y1 = view.box(box.left, box.bottom, box.right, box.top)
                baseline = view.point(x.value, y.value)[1]
            unmapped = map_error(raw, index) == 1
            chars.append(make(Char, (texts[index], x0, y0, x1, y1, baseline, y1 - y0, unmapped)))
    finally:
        textpage.close()
    return tuple(chars)


_unpack_box = struct.Struct("4f").unpack  # FS_RECTF: left, top, right, bottom as C floats


class _Calls:
    """The pdfium functions a page calls once per character, page object or path segment,
    without pypdfium2's argument types. With them ctypes checks and converts every argument,
    which doubles the cost of a call; without them it passes each argument as it is, so the
    callers pass only what the C function takes: a handle pdfium gave (a pointer), a Python int
    for a C int and byref() of a C value for an answer."""

    def __init__(self) -> None:
        import pypdfium2.raw as pdfium_c

        def bare(function, restype=ctypes.c_int):
            call = ctypes.CFUNCTYPE(restype)(ctypes.cast(function, ctypes.c_void_p).value)
            call.argtypes = None
            return call

        self.loose_char_box = bare(pdfium_c.FPDFText_GetLooseCharBox)
        self.char_origin = bare(pdfium_c.FPDFText_GetCharOrigin)
        self.unicode_map_error = bare(pdfium_c.FPDFText_HasUnicodeMapError)
        self.is_generated = bare(pdfium_c.FPDFText_IsGenerated)
        self.page_object = bare(pdfium_c.FPDFPage_GetObject, pdfium_c.FPDF_PAGEOBJECT)
        self.object_type = bare(pdfium_c.FPDFPageObj_GetType)
        self.object_matrix = bare(pdfium_c.FPDFPageObj_GetMatrix)
        self.fill_color = bare(pdfium_c.FPDFPageObj_GetFillColor)
        self.draw_mode = bare(pdfium_c.FPDFPath_GetDrawMode)
        self.count_segments = bare(pdfium_c.FPDFPath_CountSegments)
        self.segment = bare(pdfium_c.FPDFPath_GetPathSegment, pdfium_c.FPDF_PATHSEGMENT)
        self.segment_point = bare(pdfium_c.FPDFPathSegment_GetPoint)
        self.segment_type = bare(pdfium_c.FPDFPathSegment_GetType)
        self.segment_close = bare(pdfium_c.FPDFPathSegment_GetClose)


@functools.cache
def _calls() -> _Calls:
    return _Calls()


def _char_texts(raw) -> list[str]:
    """Each character's text by index. The page's text in one call when it maps one to one onto
    the characters; pdfium leaves control characters out of it, so when its length differs it
    is asked character by character."""
    import pypdfium2.raw as pdfium_c

    count = pdfium_c.FPDFText_CountChars(raw)
    buffer = (ctypes.c_ushort * (2 * count + 1))()  # room for a surrogate pair per character
    written = pdfium_c.FPDFText_GetText(raw, 0, count, buffer)
    text = ctypes.string_at(buffer, 2 * max(written - 1, 0)).decode("utf-16-le", "surrogatepass")
    if len(text) == count:
        return list(text.replace("\0", "\ufffd"))
    codes = (pdfium_c.FPDFText_GetUnicode(raw, index) for index in range(count))
    return [chr(code) if 0 < code < 0x110000 else "\ufffd" for code in codes]


# ---- lines of text ---------------------------------------------------------------------------


def text_lines(chars: tuple[Char, ...] | list[Char]) -> list[TextLine]:
    """Characters grouped into lines by baseline, top down; each line in x order, a space where
    the file draws one or where the gap is wider than SPACE_GAP of the font's height."""
    lines: list[TextLine] = []
    group: list[Char] = []
    start = reach = 0.0  # the group's first baseline and how far below it the line reaches
    for char in sorted(chars, key=_BY_BASELINE):
        if group and char.baseline - start > reach:
            lines += _line(group)
            group = []
        if not group:
            start, reach = char.baseline, max(1.0, 0.3 * char.size)
        group.append(char)
    if group:
        lines += _line(group)
    return lines


def _line(group: list[Char]) -> list[TextLine]:
    group.sort(key=_BY_X0)
    kept: list[Char] = []
    parts: list[str] = []
    space = False
    previous = None
    for char in group:
        text = char.text
        if text in _SPACES:
            space = True
            continue
        if previous is not None:
            if text == previous.text and char.x0 - previous.x0 < 0.3 * (previous.x1 - previous.x0):
                continue  # drawn twice, a little apart: a bold made by overprinting
            gap = char.x0 - previous.x1
            if space or gap > SPACE_GAP * max(char.size, previous.size):
                parts.append(" ")
        parts.append(text)
        kept.append(char)
        previous = char
        space = False
    if not kept:
        return []
    _, x0s, tops, x1s, bottoms, baselines, sizes, _ = zip(*kept, strict=True)
    return [
        TextLine(
            "".join(parts),
            min(x0s),
            min(tops),
            max(x1s),
            max(bottoms),
            _median(list(baselines)),
            _median(list(sizes)),
            tuple(kept),
        )
    ]


def _median(values: list[float]) -> float:
    """statistics.median of floats, without its checks of the values' types (a line asks for
    two, every line of every page)."""
    values.sort()
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def paragraph_gaps(lines: Sequence[TextLine], size: float) -> list[bool]:
    """For each line (top down), whether a paragraph's space is above it: the gap to the line
    before is wider than PARAGRAPH_GAP of the character height `size` and wider than the page's
    usual line spacing by PARAGRAPH_EXTRA of it. On a page set with wide line spacing every gap
    passes PARAGRAPH_GAP, and only the extra space between paragraphs tells them apart. The
    usual spacing is the gap that a quarter of the page's line pairs do not pass, on a page of
    at least USUAL_PAIRS of them (a title, its 单位 line and a note say nothing of it)."""
    gaps = [line.top - before.bottom for before, line in itertools.pairwise(lines)]
    usual = sorted(gaps)[len(gaps) // 4] if len(gaps) >= USUAL_PAIRS else 0.0
    least = max(PARAGRAPH_GAP * size, usual + PARAGRAPH_EXTRA * size)
    return [False, *(gap > least for gap in gaps)] if lines else []


# ---- running heads and page numbers -----------------------------------------------------------


def mark_margins(pages: list[PdfPage]) -> list[PdfPage]:
    """Move running heads and page numbers out of each page's lines into its `margins`: a line
    at the very top or bottom of a page, in the outer MARGIN_BAND of it, that is a page number
    (3, - 3 -, 第3页, 3/20) or whose text (figures aside) recurs at that edge of other pages."""
    edges: Counter = Counter()
    for page in pages:
        seen = {(edge, _shape(line)) for edge, line in _edge_lines(page)}
        edges.update(seen)
    least = 2 if len(pages) <= 4 else 3
    out = []
    for page in pages:
        margins = {
            id(line)
            for edge, line in _edge_lines(page)
            if _PAGE_NUMBER.match(line.text) or edges[(edge, _shape(line))] >= least
        }
        if not margins:
            out.append(page)
            continue
        # only a run from the edge inwards: a line inside the page is never furniture
        body = list(page.lines)
        taken = []
        while body and id(body[0]) in margins:
            taken.append(body.pop(0))
        while body and id(body[-1]) in margins:
            taken.append(body.pop())
        out.append(replace(page, lines=tuple(body), margins=tuple(taken)))
    return out


def _edge_lines(page: PdfPage) -> Iterator[tuple[str, TextLine]]:
    """The two outermost lines at the top and at the bottom of the page, when in the band."""
    band = MARGIN_BAND * page.height
    for line in page.lines[:2]:
        if line.bottom <= band:
            yield "top", line
    for line in page.lines[-2:]:
        if line.top >= page.height - band:
            yield "bottom", line


def _shape(line: TextLine) -> str:
    return re.sub(r"\d+", "#", line.text.replace(" ", ""))

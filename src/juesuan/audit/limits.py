"""How much one document may ask of the reader: pages, characters and text runs per page, cells
per table, bytes unpacked from a .docx, digits in a number, and seconds.

A hostile or broken file (a span of a million columns, a page of 200,000 text runs, a zip bomb)
must be refused in seconds with a one-line reason, not exhaust the machine. Every reader counts
what it takes through a `Budget`; passing a limit raises `LimitExceeded`, which the reader turns
into the file's "unreadable" result. The limits are far above any real disclosure (30–60 pages,
about 1,500 characters and 1,200 ruled lines on the densest page, 14 tables of a few thousand
cells, a .docx of a few MB), so a real document never meets one.
"""

from __future__ import annotations

import time
import zipfile
import zlib
from pathlib import Path

MAX_FILE_BYTES = 50 * 1024 * 1024  # an HTML or text file (a PDF is read a page at a time)
MAX_PAGES = 2_000
MAX_PAGE_CHARS = 20_000  # characters drawn on one PDF page
MAX_PAGE_RUNS = 20_000  # text-showing operations (Tj/TJ) on one PDF page
MAX_PAGE_GRAPHICS = 10_000  # lines, rectangles, curves, images and drawn forms on one PDF page
MAX_PAGE_CONTENT_BYTES = 4 * 1024 * 1024  # a PDF page's drawing instructions, inflated
MAX_DOCUMENT_CHARS = 1_000_000  # text read from the whole document
MAX_TABLE_CELLS = 100_000  # cells of one table once its spans are laid out
MAX_DOCUMENT_CELLS = 500_000  # cells of all tables together
MAX_ZIP_ENTRIES = 5_000  # parts in a .docx package
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # all parts of a .docx, unpacked
MAX_PART_BYTES = 50 * 1024 * 1024  # one part of a .docx, unpacked
MAX_NUMBER_DIGITS = 20  # digits of a printed figure (10^16 万元 is beyond any budget)
MAX_SECONDS = 120.0  # reading one document

_MB = 1024 * 1024


class LimitExceeded(Exception):
    """A document passed one of the limits; the message is the one-line reason."""


class Budget:
    """The limits of reading one document, counted as the reader goes. `where` names the page
    or part (第3页, 第5段, word/document.xml) in the reason."""

    def __init__(self, path: str | Path, seconds: float | None = None) -> None:
        self.path = str(path)
        self.seconds = MAX_SECONDS if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds
        self.chars = 0
        self.cells = 0

    def refuse(self, where: str, what: str, limit: int | str) -> LimitExceeded:
        return LimitExceeded(
            f"{self.path} {where}{what}超过上限 {limit}（正常公开文本远达不到），为防止耗尽资源未读取"
        )

    def check_time(self, where: str = "") -> None:
        if time.monotonic() > self.deadline:
            raise self.refuse(where and f"读到{where}时", "读取时间", f"{self.seconds:g} 秒")

    def file_size(self, size: int) -> None:
        if size > MAX_FILE_BYTES:
            raise self.refuse("", "文件大小", f"{MAX_FILE_BYTES // _MB} MB")

    def pages(self, count: int) -> None:
        if count > MAX_PAGES:
            raise self.refuse("", "页数", f"{MAX_PAGES:,} 页")
        self.check_time(f"第{count}页")

    def text(self, length: int, where: str = "") -> None:
        """Characters read into the document, counted over the whole file."""
        self.chars += length
        if self.chars > MAX_DOCUMENT_CHARS:
            raise self.refuse(where and f"读到{where}时", "文字", f"{MAX_DOCUMENT_CHARS:,} 个字符")
        self.check_time(where)

    def spans(self, cells: int, where: str) -> None:
        """The cells one table's spans cover, checked before they are laid out."""
        if cells > MAX_TABLE_CELLS:
            raise self.refuse(
                where, f"的表格展开后有 {cells:,} 个单元格，", f"{MAX_TABLE_CELLS:,} 个"
            )
        self.check_time(where)

    def table(self, cells: int, where: str) -> None:
        """One table's cells as laid out, counted over the whole file."""
        self.spans(cells, where)
        self.cells += cells
        if self.cells > MAX_DOCUMENT_CELLS:
            raise self.refuse(f"读到{where}时", "表格单元格", f"{MAX_DOCUMENT_CELLS:,} 个")

    def page(self, number: int) -> PageBudget:
        return PageBudget(self, f"第{number}页")


class PageBudget:
    """What one PDF page draws, counted while it is drawn."""

    def __init__(self, budget: Budget, where: str) -> None:
        self.budget = budget
        self.where = where
        self.chars = self.runs = self.graphics = 0

    def char(self, count: int = 1) -> None:
        """`count` more characters, counted before their boxes are read."""
        self.chars += count
        if self.chars > MAX_PAGE_CHARS:
            raise self.budget.refuse(self.where, "的字符数", f"{MAX_PAGE_CHARS:,} 个")

    def run(self) -> None:
        self.runs += 1
        if self.runs > MAX_PAGE_RUNS:
            raise self.budget.refuse(self.where, "的文字段数", f"{MAX_PAGE_RUNS:,} 段")
        self.budget.check_time(self.where)

    def content(self, size: int) -> None:
        if size > MAX_PAGE_CONTENT_BYTES:
            raise self.budget.refuse(
                self.where, "的绘制指令解压后", f"{MAX_PAGE_CONTENT_BYTES // _MB} MB"
            )
        self.budget.check_time(self.where)

    def graphic(self) -> None:
        self.graphics += 1
        if self.graphics > MAX_PAGE_GRAPHICS:
            raise self.budget.refuse(self.where, "的图形数", f"{MAX_PAGE_GRAPHICS:,} 个")
        self.budget.check_time(self.where)


def check_zip(path: str | Path, budget: Budget) -> None:
    """A .docx package within the limits: few enough parts, and each part inflated a chunk at a
    time to count its real size (a declared size may lie), so a zip bomb is refused without
    ever being unpacked into memory."""
    with zipfile.ZipFile(path) as package:
        entries = package.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise budget.refuse("", "压缩包内的文件数", f"{MAX_ZIP_ENTRIES:,} 个")
        if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
            raise budget.refuse("", "解压后的大小", f"{MAX_UNPACKED_BYTES // _MB} MB")
        total = 0
        for entry in entries:
            size = 0
            with package.open(entry) as part:
                while chunk := part.read(_MB):
                    size += len(chunk)
                    total += len(chunk)
                    if size > MAX_PART_BYTES:
                        raise budget.refuse(
                            f"其中 {entry.filename} ", "解压后的大小", f"{MAX_PART_BYTES // _MB} MB"
                        )
                    if total > MAX_UNPACKED_BYTES:
                        raise budget.refuse("", "解压后的大小", f"{MAX_UNPACKED_BYTES // _MB} MB")
                    budget.check_time(entry.filename)


def inflated_size(data: bytes, cap: int) -> int:
    """The size of zlib-compressed `data` once inflated, counting no further than just past
    `cap` (a damaged stream counts as far as it inflates)."""
    inflater = zlib.decompressobj()
    size = 0
    pending = data
    try:
        while pending and size <= cap:
            size += len(inflater.decompress(pending, _MB))
            pending = inflater.unconsumed_tail
    except zlib.error:
        pass
    return size

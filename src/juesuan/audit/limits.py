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
from pathlib import Path

MAX_PAGES = 2_000
MAX_PAGE_CHARS = 50_000  # characters drawn on one PDF page
MAX_PAGE_RUNS = 50_000  # text-showing operations (Tj/TJ) on one PDF page
MAX_PAGE_GRAPHICS = 50_000  # paths, images and drawn forms on one PDF page
MAX_DOCUMENT_CHARS = 2_000_000  # text read from the whole document
MAX_TABLE_CELLS = 100_000  # cells of one table once its spans are laid out
MAX_DOCUMENT_CELLS = 500_000  # cells of all tables together
MAX_ZIP_ENTRIES = 5_000  # parts in a .docx package
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # all parts of a .docx, unpacked
MAX_PART_BYTES = 50 * 1024 * 1024  # one part of a .docx, unpacked
MAX_NUMBER_DIGITS = 20  # digits of a printed figure (10^16 万元 is beyond any budget)
MAX_SECONDS = 120.0  # reading one document

_MB = 1024 * 1024
_CHUNK = 1024 * 1024


class LimitExceeded(Exception):
    """A document passed one of the limits; the message is the one-line reason."""


def _count(value: int) -> str:
    return f"{value:,}"


class Budget:
    """The limits of reading one document, counted as the reader goes."""

    def __init__(self, path: str | Path, seconds: float = MAX_SECONDS) -> None:
        self.path = str(path)
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.chars = 0
        self.cells = 0

    def refuse(self, where: str, what: str, limit: int, unit: str) -> LimitExceeded:
        place = f"{where}" if where else ""
        return LimitExceeded(
            f"{self.path} {place}{what}超过上限 {_count(limit)} {unit}，"
            "远超正常公开文本，为防止耗尽资源未读取"
        )

    def check_time(self, where: str = "") -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                f"{self.path} 读取{where or ''}超过 {self.seconds:g} 秒仍未完成，"
                "远超正常公开文本，为防止耗尽资源已停止"
            )

    def pages(self, count: int) -> None:
        if count > MAX_PAGES:
            raise self.refuse("", "页数", MAX_PAGES, "页")

    def text(self, length: int, where: str = "") -> None:
        """Characters read into the document (counted over the whole file)."""
        self.chars += length
        if self.chars > MAX_DOCUMENT_CHARS:
            raise self.refuse(where and f"读到{where}时", "文字", MAX_DOCUMENT_CHARS, "个字符")
        self.check_time(where)

    def table(self, cells: int, where: str) -> None:
        """One table's cells once its spans are laid out, before they are laid out."""
        if cells > MAX_TABLE_CELLS:
            raise self.refuse(
                where, f"的表格展开后有 {_count(cells)} 个单元格，", MAX_TABLE_CELLS, "个"
            )
        self.cells += cells
        if self.cells > MAX_DOCUMENT_CELLS:
            raise self.refuse(where and f"读到{where}时", "表格单元格", MAX_DOCUMENT_CELLS, "个")
        self.check_time(where)

    def page(self, number: int) -> PageBudget:
        self.check_time(f"第{number}页")
        return PageBudget(self, number)


class PageBudget:
    """What one PDF page draws, counted while it is drawn."""

    def __init__(self, budget: Budget, number: int) -> None:
        self.budget = budget
        self.where = f"第{number}页"
        self.chars = self.runs = self.graphics = 0

    def char(self) -> None:
        self.chars += 1
        if self.chars > MAX_PAGE_CHARS:
            raise self.budget.refuse(self.where, "的字符数", MAX_PAGE_CHARS, "个")

    def run(self) -> None:
        self.runs += 1
        if self.runs > MAX_PAGE_RUNS:
            raise self.budget.refuse(self.where, "的文字段数", MAX_PAGE_RUNS, "段")
        self.budget.check_time(self.where)

    def graphic(self) -> None:
        self.graphics += 1
        if self.graphics > MAX_PAGE_GRAPHICS:
            raise self.budget.refuse(self.where, "的图形数", MAX_PAGE_GRAPHICS, "个")
        self.budget.check_time(self.where)


def check_zip(path: str | Path, budget: Budget) -> None:
    """A .docx package within the limits: few enough parts, and each part inflated in chunks to
    count its real size (a declared size may lie), so a zip bomb is refused without unpacking
    it into memory."""
    with zipfile.ZipFile(path) as package:
        entries = package.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise budget.refuse("", "压缩包内的文件数", MAX_ZIP_ENTRIES, "个")
        declared = sum(entry.file_size for entry in entries)
        if declared > MAX_UNPACKED_BYTES:
            raise _too_big(budget, "", MAX_UNPACKED_BYTES)
        total = 0
        for entry in entries:
            size = 0
            with package.open(entry) as part:
                while chunk := part.read(_CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    if size > MAX_PART_BYTES:
                        raise _too_big(budget, f"其中的 {entry.filename} ", MAX_PART_BYTES)
                    if total > MAX_UNPACKED_BYTES:
                        raise _too_big(budget, "", MAX_UNPACKED_BYTES)
                    budget.check_time(entry.filename)


def _too_big(budget: Budget, part: str, limit: int) -> LimitExceeded:
    return budget.refuse(part, "解压后的大小", limit // _MB, "MB")


def number_too_long(digits: str) -> bool:
    """A printed figure with more digits than any amount, rate or count in a disclosure."""
    return sum(ch.isdigit() for ch in digits) > MAX_NUMBER_DIGITS

"""Import problems as values: where (file, sheet, row, column), what was found, what is accepted."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from juesuan.money import shown

ERROR = "错误"
WARNING = "警告"


@dataclass(frozen=True)
class Source:
    """Where a value came from. `row` is the 1-based row as a person sees it (header is row 1)."""

    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"“{self.column}”列")
        return " ".join(parts)


@dataclass(frozen=True)
class Issue:
    severity: str  # ERROR blocks loading; WARNING is shown
    source: Source
    message: str  # what is wrong, in Chinese
    value: str | None = None  # the value found, as written
    accepted: str | None = None  # what would be accepted

    def __post_init__(self) -> None:
        # A huge cell is named, not repeated whole: reports stay readable.
        if self.value is not None:
            object.__setattr__(self, "value", shown(self.value))

    def __str__(self) -> str:
        text = f"[{self.severity}] {self.source}："
        if self.value is not None:
            text += f"值“{self.value}”，"
        text += self.message
        if self.accepted:
            text += f"（可接受：{self.accepted}）"
        return text

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "file": self.source.file,
            "sheet": self.source.sheet,
            "row": self.source.row,
            "column": self.source.column,
            "value": self.value,
            "message": self.message,
            "accepted": self.accepted,
        }


def has_errors(issues: list[Issue]) -> bool:
    return any(i.severity == ERROR for i in issues)


def utf16_text(data: bytes, name: str, accepted: str) -> Issue | None:
    """The error for Excel's "Unicode 文本" (UTF-16 with its BOM, tab-separated) given as a CSV:
    refused with how to save the file instead. None for any other bytes."""
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    message = "是 UTF-16 编码的文本（Excel 另存为“Unicode 文本”即是）"
    return Issue(ERROR, Source(name), message, accepted=accepted)

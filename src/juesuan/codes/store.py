"""The user's code store: official tables imported for a year, used instead of the shipped ones.

One CSV per classification and year (`<data dir>/codes/function-2024.csv`), in the shipped
tables' columns, written whole or not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from juesuan.datadir import data_dir
from juesuan.files import replaced

from .load import check_year, load_code_table, shipped_codes
from .table import KIND_LABELS, Code, CodeTable, check_kind

COLUMNS = ("code", "name", "level", "parent", "confidence", "source")
REPORT_LISTED = 20  # added codes listed by name in a report; the rest are counted


def store_dir() -> Path:
    return data_dir() / "codes"


def stored_path(kind: str, year: int) -> Path:
    return store_dir() / f"{check_kind(kind)}-{check_year(year)}.csv"


def stored_table(kind: str, year: int) -> CodeTable | None:
    """The user's imported table for the year, or None when there is none."""
    path = stored_path(kind, year)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return _read_stored(str(path), kind, year, stat.st_mtime_ns, stat.st_size)


class CodeStoreError(ValueError):
    """An imported table in the store that can no longer be read (edited or damaged by hand)."""


@lru_cache(maxsize=32)
def _read_stored(path: str, kind: str, year: int, mtime_ns: int, size: int) -> CodeTable:
    # Keyed on the file's time and size, so a new import is seen at the next lookup.
    try:
        table = load_code_table(path, kind, year=year)
    except ValueError as exc:
        raise CodeStoreError(
            f"已导入的{year}年{KIND_LABELS[kind]}科目表（{path}）无法读取：{exc}。"
            f"请重新导入，或删除该文件改用内置科目表"
        ) from None
    origin = f"已导入的{year}年{KIND_LABELS[kind]}科目表（{path}）"
    return CodeTable(kind, table, year=year, complete=True, origin=origin)


# -- import -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    """What an import stored, and how it differs from the table shipped for the same year."""

    kind: str
    year: int
    source: Path
    stored: Path
    replaced_import: bool  # an earlier import for the year was replaced
    imported: CodeTable
    shipped: CodeTable
    added: tuple[Code, ...]  # in the file, not shipped
    renamed: tuple[tuple[Code, Code], ...]  # (shipped, imported) with different names
    removed: tuple[Code, ...]  # shipped, not in the file: unknown from now on

    @property
    def unchanged(self) -> int:
        return len(self.imported) - len(self.added) - len(self.renamed)

    def lines(self) -> list[str]:
        """The report in Chinese, one line each."""
        label = f"{self.year}年{KIND_LABELS[self.kind]}科目表"
        levels = "、".join(
            f"{level} {count}" for level, count in _level_counts(self.imported).items()
        )
        lines = [
            f"已导入{label}：{self.source.name}（{len(self.imported)} 个科目：{levels}）",
            f"保存在 {self.stored}"
            + ("（替换了此前导入的同年科目表）" if self.replaced_import else ""),
            f"与内置{label}（{len(self.shipped)} 个科目）相比：新增 {len(self.added)} 个，"
            f"改名 {len(self.renamed)} 个，内置有而导入表没有 {len(self.removed)} 个，"
            f"相同 {self.unchanged} 个。",
        ]
        if self.renamed:
            lines.append("改名：")
            lines.extend(f"  {old.code} {old.name} → {new.name}" for old, new in self.renamed)
        if self.removed:
            lines.append("内置有而导入表没有（今后按导入表查不到，请核对是否已停用）：")
            lines.extend(f"  {code.label}" for code in self.removed)
        if self.added:
            lines.append("新增：")
            lines.extend(f"  {code.label}" for code in self.added[:REPORT_LISTED])
            if len(self.added) > REPORT_LISTED:
                lines.append(f"  ……另有 {len(self.added) - REPORT_LISTED} 个")
        return lines


def import_table(source: str | Path, kind: str, year: int) -> ImportReport:
    """Read the official table and keep it as the user's table for `year`.

    A file with any bad row raises ValueError naming every one, and nothing is stored.
    """
    check_kind(kind)
    check_year(year)
    source = Path(source)
    imported = load_code_table(source, kind, year=year)
    shipped = shipped_codes(kind, year)
    target = stored_path(kind, year)
    report = ImportReport(
        kind=kind,
        year=year,
        source=source,
        stored=target,
        replaced_import=target.exists(),
        imported=imported,
        shipped=shipped,
        added=tuple(code for code in imported if code.code not in shipped),
        renamed=tuple(
            (old, new)
            for new in imported
            if (old := shipped.get(new.code)) is not None and old.name != new.name
        ),
        removed=tuple(code for code in shipped if code.code not in imported),
    )
    with replaced(target) as temporary:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for code in imported:
                writer.writerow(
                    [
                        code.code,
                        code.name,
                        code.level,
                        code.parent or "",
                        code.confidence,
                        code.source,
                    ]
                )
    return report


# -- which table is in use ----------------------------------------------------------------------


def describe(kind: str, year: int) -> str:
    """One Chinese sentence: the table lookups use for the year, and where it came from."""
    label = f"{year}年{KIND_LABELS[check_kind(kind)]}"
    table = stored_table(kind, year)
    if table is None:
        shipped = shipped_codes(kind, year)
        return (
            f"{label}：用的是内置科目表（{len(shipped)} 个科目，不全；来源见 juesuan/codes/docs.md）。"
            f"可运行“juesuan codes import 财政部科目表.xlsx --year {year} --kind {kind}”"
            f"导入财政部当年科目表"
        )
    path = stored_path(kind, year)
    when = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    files = sorted({code.source.rsplit(" 第", 1)[0] for code in table})
    return (
        f"{label}：用的是已导入的科目表 {path}（{len(table)} 个科目，"
        f"{when} 导入自 {'、'.join(files)}）"
    )


def _level_counts(table: CodeTable) -> dict[str, int]:
    counts: dict[str, int] = {}
    for code in table:
        counts[code.level] = counts.get(code.level, 0) + 1
    return counts

"""A format's options (options.yaml in its folder): how its figures are rounded and printed, and
what its wording may draw on. Every option has the value today's formats were built with as its
default, so a folder states only what differs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from juesuan.yamltext import load_yaml

FORMATS_DIR = Path(__file__).parent.parent / "formats"

ROUNDINGS = ("balance", "independent")
EMPTY_CELLS = ("zero", "blank")
STATEMENT_PLACES = ("before_note", "after_note")
SPACINGS = ("spaced", "tight")


class FormatError(Exception):
    """A format folder that cannot be used; the message names the file and the table."""


@dataclass(frozen=True)
class FormatOptions:
    # balance: totals rounded alone, parts balanced to them (舍位平衡); independent: every shown
    # figure rounded on its own, only the `balanced` tables balanced, as the 决算报表 print them.
    # The table rules allow n × 0.005 万元 either way (`tolerance: rounding`).
    rounding: str = "balance"
    balanced: tuple[str, ...] = ()
    empty_cells: str = "zero"  # a zero amount printed as 0.00, or left blank
    empty_statement: str = "before_note"  # or after_note: where an empty table's statement goes
    percent_places: int | None = None  # None: as few as needed (76.39, 79.8, 100); 2: 100.00
    spacing: str = "spaced"  # "2020 年度" or "2020年度": a space between a number and CJK text
    prior_year: str = "number"  # last year in the wording: its number ("2023 年度") or these words
    wording: tuple[str, ...] = ()  # format folders whose templates this one falls back to
    texts: tuple[str, ...] = ()  # the unit texts (texts/<name>.md) the format prints
    text_suffixes: tuple[str, ...] = ()  # ... and those named by their ending (…绩效评价报告)

    def knows_text(self, name: str) -> bool:
        return name in self.texts or name.endswith(self.text_suffixes)


def format_options(name: str) -> FormatOptions:
    return _options(name)


@functools.cache
def _options(name: str) -> FormatOptions:
    path = FORMATS_DIR / name / "options.yaml"
    if not path.exists():
        return FormatOptions()
    try:
        spec = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise FormatError(f"{path}：不是有效的 YAML：{exc}") from exc
    allowed = {
        "rounding": ROUNDINGS,
        "empty_cells": EMPTY_CELLS,
        "empty_statement": STATEMENT_PLACES,
        "spacing": SPACINGS,
    }
    for key, values in allowed.items():
        if key in spec and spec[key] not in values:
            raise FormatError(f"{path}：{key} 为“{spec[key]}”，应为 {' 或 '.join(values)}")
    known = set(FormatOptions.__dataclass_fields__)
    unknown = sorted(set(spec) - known)
    if unknown:
        raise FormatError(
            f"{path}：不认识的选项 {'、'.join(unknown)}；可用：{'、'.join(sorted(known))}"
        )
    places = spec.get("percent_places")
    if places is not None and (not isinstance(places, int) or not 0 <= places <= 4):
        raise FormatError(f"{path}：percent_places 为“{places}”，应为 0 到 4 的整数或不填")
    tuples = {
        k: tuple(str(v) for v in spec[k])
        for k in ("balanced", "wording", "texts", "text_suffixes")
        if k in spec
    }
    return FormatOptions(**{**spec, **tuples})

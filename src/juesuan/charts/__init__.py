"""The six figures of 第二部分 (图1 … 图6), drawn from the statements as PNG and SVG files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from juesuan.charts.data import CAPTIONS, Chart, chart_specs
from juesuan.document.model import Figure
from juesuan.fonts import fonts_used, require_glyphs
from juesuan.ledger.model import Dataset
from juesuan.statements.model import Statements

__all__ = ["CAPTIONS", "Chart", "chart_specs", "render_figures"]


def render_figures(dataset: Dataset, statements: Statements, out_dir: Path) -> list[Figure]:
    """Write figure1.png/.svg … figure6.png/.svg into `out_dir`; return the Figures in order.

    Raises juesuan.fonts.FontMissing, naming the characters, when a text of a figure has a
    character that no Chinese font can draw.
    """
    from juesuan.charts.draw import TABLE_HEADERS, chart_fonts, draw  # matplotlib only to draw

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    charts = chart_specs(dataset, statements)
    texts = {chart.key: " ".join([*TABLE_HEADERS, *chart_text(chart)]) for chart in charts}
    require_glyphs((f"{chart.caption}", texts[chart.key]) for chart in charts)
    figures = []
    for chart in charts:
        png, svg = out / f"{chart.key}.png", out / f"{chart.key}.svg"
        draw(chart, png, svg)
        used = tuple(fonts_used(texts[chart.key], chart_fonts()))
        figures.append(Figure(chart.key, chart.caption, png, svg, used))
    return figures


def chart_text(value: object) -> list[str]:
    """Every string a chart prints: its caption, labels, groups, years and notes."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [t for f in dataclasses.fields(value) for t in chart_text(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [t for item in value for t in chart_text(item)]
    return []

"""The six figures of 第二部分 (图1 … 图6), drawn from the statements as PNG and SVG files."""

from __future__ import annotations

from pathlib import Path

from juesuan.charts.data import CAPTIONS, Chart, chart_specs
from juesuan.document.model import Figure
from juesuan.ledger.model import Dataset
from juesuan.statements.model import Statements

__all__ = ["CAPTIONS", "Chart", "chart_specs", "render_figures"]


def render_figures(dataset: Dataset, statements: Statements, out_dir: Path) -> list[Figure]:
    """Write figure1.png/.svg … figure6.png/.svg into `out_dir`; return the Figures in order.

    Raises juesuan.fonts.FontMissing when no Chinese font is installed.
    """
    from juesuan.charts.draw import draw  # matplotlib is imported only when drawing

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = []
    for chart in chart_specs(dataset, statements):
        png, svg = out / f"{chart.key}.png", out / f"{chart.key}.svg"
        draw(chart, png, svg)
        figures.append(Figure(chart.key, chart.caption, png, svg))
    return figures

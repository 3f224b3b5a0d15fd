"""The six figures of 第二部分 (图1 … 图6), drawn from the statements as PNG and SVG files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from juesuan.charts.data import CAPTIONS, Chart, chart_specs, figure_text
from juesuan.charts.forked import Child
from juesuan.fonts import require_glyphs

if TYPE_CHECKING:  # not imported by a drawer that imports matplotlib alone (charts.data)
    from juesuan.document.model import Figure
    from juesuan.ledger.model import Dataset
    from juesuan.statements.model import Statements

__all__ = [
    "CAPTIONS",
    "Chart",
    "chart_specs",
    "draw_figures",
    "ready_to_draw",
    "render_figures",
    "require_chart_glyphs",
]


def render_figures(dataset: Dataset, statements: Statements, out_dir: Path) -> list[Figure]:
    """Write figure1.png/.svg … figure6.png/.svg into `out_dir`; return the Figures in order."""
    charts = chart_specs(dataset, statements)
    require_chart_glyphs(charts)
    return draw_figures(charts, Path(out_dir))


def require_chart_glyphs(charts: list[Chart]) -> None:
    """Raises juesuan.fonts.FontMissing, naming the characters, when a text of a figure has a
    character that no Chinese font can draw."""
    require_glyphs((chart.caption, figure_text(chart)) for chart in charts)


def draw_figures(charts: list[Chart], out: Path, halves: bool = False) -> list[Figure]:
    """Draw the charts into the folder `out` (made if need be); the Figures in order.

    `halves`: a process forked from this one (matplotlib already imported) draws every other
    chart meanwhile, so that drawing takes both cores.
    """
    from juesuan.charts import draw  # matplotlib only to draw

    out.mkdir(parents=True, exist_ok=True)
    if not halves or len(charts) < 2:
        return draw.draw_figures(charts, out)
    helper = Child(ready=lambda: None)
    try:
        helper.send(draw_figures, charts[1::2], out)
        mine = draw.draw_figures(charts[0::2], out)
        theirs = helper.result()
    finally:
        helper.close()
    by_key = {figure.key: figure for figure in [*mine, *theirs]}
    return [by_key[chart.key] for chart in charts]


def ready_to_draw() -> None:
    """What the first figure of a process pays before it draws: matplotlib imported and told
    the fonts, and the first font's character map read (by which the figures' fonts are named).
    A process that will draw can do it while another prepares the charts; a helper it forks
    to draw starts with all of it."""
    from juesuan.charts.draw import chart_fonts, rc
    from juesuan.fonts import coverage

    rc()
    for path in chart_fonts()[:1]:
        coverage(path)

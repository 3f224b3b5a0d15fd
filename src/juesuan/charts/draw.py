"""Drawing the figures with matplotlib (Agg, no display): grouped bars and donuts with a value
table, in a restrained palette, with a Chinese font found by juesuan.fonts.

Amounts arrive as Decimal 万元 and are converted to float only where matplotlib needs a number
for a bar height or a wedge size; every printed figure is formatted from the Decimal.
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from juesuan.charts.data import NO_DATA, TABLE_HEADERS, Bars, Chart, Pie, figure_text
from juesuan.document.model import Figure
from juesuan.fonts import BUNDLED_DIR, cjk_font_files, fonts_used

DPI = 200
WIDTH = 6.3  # inches: 16 cm, the text width of an A4 page with 2.5 cm margins
BAR_HEIGHT = 3.3
FONT_SIZE = 9.0

INK = "#262626"  # text
MUTED = "#737373"  # notes, axis
RULE = "#D9D9D9"  # grid and rules
PRIOR_COLOUR = "#A6A6A6"
CURRENT_COLOUR = "#1F4E79"
# Slices in table order: dark and light alternate so neighbouring slices stay apart; one accent.
PALETTE = (
    "#1F4E79",
    "#9DC3E6",
    "#C55A11",
    "#7F7F7F",
    "#2E75B6",
    "#D0D0D0",
    "#404040",
    "#5B9BD5",
    "#BDD7EE",
    "#A6A6A6",
    "#1B3A5C",
    "#E7E6E6",
)
# Donut and value table, in inches.
SWATCH, SWATCH_PAD, COLUMN_GAP, LINE = 0.13, 0.08, 0.3, 0.3  # inches
MARGIN, DONUT_GAP = 0.2, 0.45  # inches
INSIDE_LABEL_MIN = Decimal(6)  # percent: smaller slices are labelled in the table only


def _family_for(path: Path) -> str:
    """The family name matplotlib knows the file by; for a collection, the Simplified face."""
    names = [e.name for e in font_manager.fontManager.ttflist if Path(e.fname) == path]
    if not names:
        font_manager.fontManager.addfont(path)
        names = [e.name for e in font_manager.fontManager.ttflist if Path(e.fname) == path]
    plain = [n for n in names if "mono" not in n.lower()] or names
    for marker in (" SC", "SC", " CN", "GB", "Hans"):
        for name in plain:
            if name.endswith(marker) or f"{marker} " in name:
                return name
    return plain[0]


def chart_fonts() -> list[Path]:
    """The font files a figure's text is drawn with, in order of fallback: sans faces first,
    then the system's serif ones (the bundled serif has no character the bundled sans lacks)."""
    serif = [f for f in cjk_font_files("serif") if f.parent != BUNDLED_DIR]
    return list(dict.fromkeys([*cjk_font_files("sans"), *serif]))


@cache
def rc() -> dict[str, object]:
    """matplotlib settings for every figure: the CJK fonts and deterministic output."""
    for path in sorted(BUNDLED_DIR.glob("*.otf")):  # the bundled bold face too
        font_manager.fontManager.addfont(path)
    families = list(dict.fromkeys(_family_for(path) for path in chart_fonts()))
    return {
        "font.family": [*families, "DejaVu Sans"],
        "font.size": FONT_SIZE,
        "axes.unicode_minus": False,
        "svg.hashsalt": "juesuan",
        "svg.fonttype": "path",  # glyphs as paths: the SVG looks the same without the font
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
        "text.color": INK,
        "axes.edgecolor": MUTED,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "xtick.labelcolor": INK,
        "ytick.labelcolor": INK,
    }


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _share(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}%"


def _notes(fig: MplFigure, notes: tuple[str, ...]) -> None:
    if notes:
        fig.text(0.985, 0.975, "；".join(notes), ha="right", va="top", fontsize=8, color=MUTED)


def _empty_donut(fig: MplFigure) -> None:
    width_in, height_in = fig.get_size_inches()
    diameter = min(height_in - 2 * MARGIN, 2.5)
    ax = fig.add_axes(
        (
            (width_in - diameter) / 2 / width_in,
            (height_in - diameter) / 2 / height_in,
            diameter / width_in,
            diameter / height_in,
        )
    )
    ax.set_aspect("equal")
    ax.axis("off")
    ax.pie([1.0], colors=["#EDEDED"], radius=1.0, wedgeprops={"width": 0.36})
    ax.text(0, 0, NO_DATA, ha="center", va="center", fontsize=12, color=MUTED)
    ax.set_xlim(-1.02, 1.02)
    ax.set_ylim(-1.02, 1.02)


# ---- bars --------------------------------------------------------------------------------------


def _draw_bars(fig: MplFigure, bars: Bars) -> None:
    """Grouped bars, last year in grey and this year in blue, each bar with its 万元 figure."""
    width_in = fig.get_size_inches()[0]
    ax = fig.add_axes((0.12, 0.12, 0.84, 0.72))
    n = len(bars.groups)
    series: list[tuple[str, str, tuple[Decimal, ...]]] = []
    if bars.prior is not None:
        series.append((bars.years[0], PRIOR_COLOUR, bars.prior))
    series.append((bars.years[1], CURRENT_COLOUR, bars.current))
    width = 0.3 if n > 1 else 0.24
    gap = 0.04
    offsets = [(i - (len(series) - 1) / 2) * (width + gap) for i in range(len(series))]
    values = [v for _, _, vs in series for v in vs]
    top = max([*values, Decimal(0)])
    bottom = min([*values, Decimal(0)])
    span = float(top - bottom) or 1.0
    ax.set_xlim(-0.6, n - 0.4) if n > 1 else ax.set_xlim(-0.9, 0.9)
    # Headroom for the value labels above (and below, for a negative figure) the bars.
    ax.set_ylim(
        float(bottom) - 0.18 * span if bottom < 0 else 0.0,
        float(top) + 0.18 * span if top > 0 else 1.0,
    )
    low, high = ax.get_ylim()
    if bars.blank:
        ax.set_yticks([0.0])
        places = 0
    else:
        locator = MaxNLocator(nbins=5, steps=[1, 2, 5, 10])
        ax.yaxis.set_major_locator(locator)
        values_at = locator.tick_values(low, high)
        places = max(0, -math.floor(math.log10(values_at[1] - values_at[0])))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:,.{places}f}"))

    # Room on the left for the widest tick label; value labels no wider than their bar pitch.
    ticks = [f"{t:,.{places}f}" for t in ax.get_yticks() if low <= t <= high]
    left = max(_text_width(fig, t, fontsize=FONT_SIZE) for t in ticks) + 0.2
    ax.set_position((left / width_in, 0.12, 1 - left / width_in - 0.04, 0.72))
    x_low, x_high = ax.get_xlim()
    axes_width = (1 - left / width_in - 0.04) * width_in
    pitch = (width + gap if len(series) > 1 else 1.0) * axes_width / (x_high - x_low)
    size = FONT_SIZE
    widest = max(values, key=lambda v: len(_money(v)))
    while size > 7 and _text_width(fig, _money(widest), fontsize=size) > pitch - 0.06:
        size -= 0.5

    for (label, colour, amounts), offset in zip(series, offsets, strict=True):
        xs = [i + offset for i in range(n)]
        heights = [float(v) for v in amounts]  # matplotlib boundary: heights only
        ax.bar(xs, heights, width=width, color=colour, label=label, zorder=3)
        for x, amount in zip(xs, amounts, strict=True):
            above = amount >= 0
            ax.text(
                x,
                float(amount) + (0.015 if above else -0.015) * span,
                _money(amount),
                ha="center",
                va="bottom" if above else "top",
                fontsize=size,
                color=INK,
                zorder=4,
            )
    ax.set_xticks(range(n), bars.groups)
    ax.grid(axis="y", color=RULE, linewidth=0.6, zorder=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(MUTED)
    if bottom < 0:  # the zero line inside the plot; the axis line stays at the bottom
        ax.spines["bottom"].set_visible(False)
        ax.axhline(0, color=MUTED, linewidth=0.8, zorder=3)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", length=0, pad=6)
    ax.set_ylabel("万元", rotation=0, color=MUTED)
    ax.yaxis.set_label_coords(0.0, 1.04)
    ax.yaxis.label.set_horizontalalignment("right")
    ax.yaxis.label.set_verticalalignment("bottom")
    ax.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.04),
        ncol=len(series),
        frameon=False,
        handlelength=1.2,
        handleheight=0.9,
        columnspacing=2.0,
    )
    if bars.blank:
        ax.text(
            0.5,
            0.5,
            NO_DATA,
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=12,
            color=MUTED,
        )


# ---- donut with a value table -------------------------------------------------------------------


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _text_width(fig: MplFigure, text: str, **kwargs: object) -> float:
    """Width of `text` in inches, measured with the renderer that will draw it."""
    renderer = fig.canvas.get_renderer()
    artist = fig.text(0, 0, text, **kwargs)
    width = artist.get_window_extent(renderer).width / fig.dpi
    artist.remove()
    return width


def _pie_height(pie: Pie) -> float:
    rows = max(len(pie.slices), 1)
    return max(3.0, 0.9 + 0.3 * (rows + 1))


def _table_widths(fig: MplFigure, pie: Pie, size: float) -> tuple[float, float, float]:
    columns = (
        [TABLE_HEADERS[0], *(s.label for s in pie.slices)],
        [TABLE_HEADERS[1], *(_money(s.amount) for s in pie.slices)],
        [TABLE_HEADERS[2], *(_share(s.share) for s in pie.slices)],
    )
    name, amount, share = (max(_text_width(fig, t, fontsize=size) for t in c) for c in columns)
    return name, amount, share


def _draw_pie(fig: MplFigure, pie: Pie) -> None:
    """A donut (left) and a value table (right), centred together on the figure."""
    width_in, height_in = fig.get_size_inches()
    room = width_in - 2 * MARGIN
    largest = min(height_in - 2 * MARGIN, 2.5)
    # Give way in this order: a smaller donut, a smaller table font, then a wider figure.
    for diameter, size in ((largest, 9.0), (2.1, 9.0), (2.1, 8.5), (2.1, 8.0), (1.9, 7.5)):
        diameter = min(diameter, largest)
        widths = _table_widths(fig, pie, size)
        table = SWATCH + SWATCH_PAD + widths[0] + 2 * COLUMN_GAP + widths[1] + widths[2]
        content = diameter + DONUT_GAP + table
        if content <= room:
            break
    if content > room:  # very long names: widen rather than overlap
        width_in = content + 2 * MARGIN
        fig.set_size_inches(width_in, height_in)
    left = (width_in - content) / 2
    ax = fig.add_axes(
        (
            left / width_in,
            (height_in - diameter) / 2 / height_in,
            diameter / width_in,
            diameter / height_in,
        )
    )
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(pie.slices))]
    _donut(ax, pie, colours)
    _value_table(fig, pie, colours, left + diameter + DONUT_GAP, size, widths)


def _donut(ax: Axes, pie: Pie, colours: list[str]) -> None:
    ax.set_aspect("equal")
    ax.axis("off")
    sizes = [float(s.amount) for s in pie.slices]  # matplotlib boundary: wedge sizes only
    ring = 0.36
    wedges, _ = ax.pie(
        sizes,
        colors=colours,
        startangle=90,
        counterclock=False,
        radius=1.0,
        wedgeprops={"width": ring, "edgecolor": "white", "linewidth": 1.2},
    )
    for wedge, part, colour in zip(wedges, pie.slices, colours, strict=True):
        if part.share is None or part.share < INSIDE_LABEL_MIN or len(pie.slices) == 1:
            continue
        angle = math.radians((wedge.theta1 + wedge.theta2) / 2)
        r = 1.0 - ring / 2
        ax.text(
            r * math.cos(angle),
            r * math.sin(angle),
            _share(part.share),
            ha="center",
            va="center",
            fontsize=8,
            color="white" if _luminance(colour) < 0.5 else INK,
        )
    total = pie.total if pie.total is not None else sum((s.amount for s in pie.slices), Decimal(0))
    centre = {"xy": (0, 0), "textcoords": "offset points", "ha": "center", "va": "center"}
    ax.annotate("合计", xytext=(0, 16), fontsize=8.5, color=MUTED, **centre)
    ax.annotate(_money(total), xytext=(0, 0), fontsize=11, fontweight="bold", **centre)
    ax.annotate("万元", xytext=(0, -16), fontsize=8.5, color=MUTED, **centre)
    ax.set_xlim(-1.02, 1.02)
    ax.set_ylim(-1.02, 1.02)


def _value_table(
    fig: MplFigure,
    pie: Pie,
    colours: list[str],
    left: float,
    size: float,
    widths: tuple[float, float, float],
) -> None:
    """A legend that is a small table: swatch, name, 万元, share — every slice, however thin."""
    width_in, height_in = fig.get_size_inches()
    w_name, w_amount, w_share = widths
    rows = len(pie.slices) + 1
    top = height_in / 2 + (rows - 1) * LINE / 2
    x_name = left + SWATCH + SWATCH_PAD
    x_amount = x_name + w_name + COLUMN_GAP + w_amount
    x_share = x_amount + COLUMN_GAP + w_share

    def put(x: float, y: float, text: str, ha: str, colour: str = INK) -> None:
        fig.text(x / width_in, y / height_in, text, ha=ha, va="center", fontsize=size, color=colour)

    put(x_name, top, TABLE_HEADERS[0], "left", MUTED)
    put(x_amount, top, TABLE_HEADERS[1], "right", MUTED)
    put(x_share, top, TABLE_HEADERS[2], "right", MUTED)
    rule_y = (top - LINE / 2) / height_in
    fig.add_artist(
        Line2D([left / width_in, x_share / width_in], [rule_y, rule_y], color=RULE, linewidth=0.8)
    )
    for i, (part, colour) in enumerate(zip(pie.slices, colours, strict=True), start=1):
        y = top - i * LINE
        fig.add_artist(
            Rectangle(
                (left / width_in, (y - SWATCH / 2) / height_in),
                SWATCH / width_in,
                SWATCH / height_in,
                facecolor=colour,
                edgecolor="none",
                transform=fig.transFigure,
            )
        )
        put(x_name, y, part.label, "left")
        put(x_amount, y, _money(part.amount), "right")
        put(x_share, y, _share(part.share), "right")


# ---- one figure ---------------------------------------------------------------------------------


def draw_figures(charts: list[Chart], out: Path) -> list[Figure]:
    """Draw each chart to `out`/<key>.png and .svg; the Figures, with the font files each
    one's text is drawn with."""
    fonts = chart_fonts()
    figures = []
    for chart in charts:
        png, svg = out / f"{chart.key}.png", out / f"{chart.key}.svg"
        draw(chart, png, svg)
        used = tuple(fonts_used(figure_text(chart), fonts))
        figures.append(Figure(chart.key, chart.caption, png, svg, used))
    return figures


def draw(chart: Chart, png: Path, svg: Path) -> None:
    """Draw one chart to a 200 dpi PNG and an SVG, byte-identical for the same input."""
    with matplotlib.rc_context(rc()):
        if isinstance(chart.data, Pie):
            size = (WIDTH, _pie_height(chart.data))
        else:
            size = (WIDTH, BAR_HEIGHT)
        fig = MplFigure(figsize=size, dpi=DPI)
        FigureCanvasAgg(fig)
        if isinstance(chart.data, Pie):
            _draw_pie(fig, chart.data) if chart.data.slices else _empty_donut(fig)
        else:
            _draw_bars(fig, chart.data)
        centred = chart.data.blank if isinstance(chart.data, Bars) else chart.data.empty
        _notes(fig, tuple(n for n in chart.notes if not (centred and n == NO_DATA)))
        fig.savefig(png, format="png", dpi=DPI, metadata={"Software": None, "Title": chart.caption})
        fig.savefig(
            svg, format="svg", metadata={"Date": None, "Creator": None, "Title": chart.caption}
        )

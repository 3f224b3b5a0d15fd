"""The six figures of 第二部分: contents from the statements, files, determinism, fonts."""

from __future__ import annotations

import dataclasses
import struct
from decimal import Decimal
from pathlib import Path

import pytest

from juesuan import fonts
from juesuan.charts import CAPTIONS, chart_specs, render_figures
from juesuan.charts.data import NO_DATA, PRIOR_MISSING, Bars, Pie
from juesuan.statements.build import build
from juesuan.statements.model import Statements

EXPECTED_CAPTIONS = [
    "图1：收、支决算总计变动情况图",
    "图2：收入决算结构图",
    "图3：支出决算结构图",
    "图4：财政拨款收、支决算总计变动情况",
    "图5：一般公共预算财政拨款支出决算变动情况",
    "图6：一般公共预算财政拨款支出决算结构",
]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def statements(example) -> Statements:
    return build(example)


@pytest.fixture(scope="module")
def rendered(example, statements, tmp_path_factory):
    return render_figures(example, statements, tmp_path_factory.mktemp("figures"))


# ---- contents (no font needed) -----------------------------------------------------------------


def test_contents_follow_the_statements(example, statements):
    charts = chart_specs(example, statements)
    assert [c.caption for c in charts] == EXPECTED_CAPTIONS
    assert [c.key for c in charts] == [f"figure{i}" for i in range(1, 7)]
    assert [caption for _, caption in CAPTIONS] == EXPECTED_CAPTIONS

    first = charts[0].data
    assert isinstance(first, Bars)
    assert first.years == ("2019年", "2020年")
    assert first.current == (Decimal("5686.09"), Decimal("5686.09"))
    assert first.prior == (Decimal("24080.52"), Decimal("24080.52"))

    income = charts[1].data
    assert isinstance(income, Pie)
    assert [(s.label, s.amount, s.share) for s in income.slices] == [
        ("一般公共预算财政拨款收入", Decimal("5686.09"), Decimal("100.00"))
    ]

    spending = charts[2].data
    assert [(s.label, s.amount, s.share) for s in spending.slices] == [
        ("基本支出", Decimal("4329.64"), Decimal("76.14")),
        ("项目支出", Decimal("1356.45"), Decimal("23.86")),
    ]

    general = charts[4].data
    assert general.current == (Decimal("5686.09"),)
    assert general.prior == (Decimal("24080.52"),)

    classes = charts[5].data
    assert [(s.label, s.amount, s.share) for s in classes.slices] == [
        ("社会保障和就业支出", Decimal("5499.50"), Decimal("96.72")),
        ("卫生健康支出", Decimal("57.13"), Decimal("1.00")),
        ("住房保障支出", Decimal("129.46"), Decimal("2.28")),
    ]
    assert classes.total == Decimal("5686.09")
    assert all(not c.notes for c in charts)


def test_missing_prior_year_and_no_data_are_noted(example, statements):
    without_prior = dataclasses.replace(example, prior_year={})
    charts = chart_specs(without_prior, statements)
    for index in (0, 3, 4):
        assert charts[index].data.prior is None
        assert charts[index].notes == (PRIOR_MISSING,)

    empty = Statements(format="sichuan-2020", unit="测试单位", year=2020)
    charts = chart_specs(example, empty)
    assert all(c.data.empty for c in charts)
    assert all(NO_DATA in c.notes for c in charts)
    # This year's bars are zero, last year's are still there to draw.
    assert charts[0].data.prior == (Decimal("24080.52"), Decimal("24080.52"))
    assert not charts[0].data.blank
    assert chart_specs(without_prior, empty)[0].data.blank


# ---- files ---------------------------------------------------------------------------------------


def test_six_figures_in_order_with_files(rendered):
    assert [f.caption for f in rendered] == EXPECTED_CAPTIONS
    for figure in rendered:
        assert figure.png.is_file() and figure.svg is not None and figure.svg.is_file()
        assert figure.png.suffix == ".png" and figure.svg.suffix == ".svg"
        width, height = _png_size(figure.png)
        # 16 cm wide at 200 dpi, landscape, not absurdly tall.
        assert 1200 <= width <= 1600
        assert 450 <= height <= width


def test_svg_carries_the_printed_figures(rendered):
    svg = {f.key: f.svg.read_text(encoding="utf-8") for f in rendered}
    assert "5,686.09" in svg["figure1"] and "24,080.52" in svg["figure1"]
    assert "2019年" in svg["figure1"] and "2020年" in svg["figure1"] and "万元" in svg["figure1"]
    assert "100.00%" in svg["figure2"]
    for text in ("4,329.64", "76.14%", "1,356.45", "23.86%"):
        assert text in svg["figure3"]
    assert "5,686.09" in svg["figure4"] and "5,686.09" in svg["figure5"]
    for text in ("社会保障和就业支出", "5,499.50", "96.72%", "57.13", "1.00%", "129.46", "2.28%"):
        assert text in svg["figure6"]


def test_same_input_gives_identical_files(example, statements, rendered, tmp_path):
    again = render_figures(example, statements, tmp_path)
    for first, second in zip(rendered, again, strict=True):
        assert first.png.read_bytes() == second.png.read_bytes()
        assert first.svg.read_bytes() == second.svg.read_bytes()


def test_missing_data_still_draws(example, tmp_path):
    empty = Statements(format="sichuan-2020", unit="测试单位", year=2020)
    figures = render_figures(dataclasses.replace(example, prior_year={}), empty, tmp_path)
    assert len(figures) == 6
    for figure in figures:
        text = figure.svg.read_text(encoding="utf-8")
        assert NO_DATA in text
        assert figure.png.stat().st_size > 0
    assert PRIOR_MISSING in figures[0].svg.read_text(encoding="utf-8")
    with_prior = render_figures(example, empty, tmp_path / "with-prior")
    text = with_prior[0].svg.read_text(encoding="utf-8")
    assert NO_DATA in text and "24,080.52" in text


# ---- fonts ---------------------------------------------------------------------------------------


@pytest.fixture
def no_system_fonts(monkeypatch):
    """A machine with no Chinese font of its own: only the bundled ones."""
    fonts.clear_cache()
    monkeypatch.setattr(fonts, "SEARCH_PATHS", {"sans": (), "serif": ()})
    monkeypatch.setattr(fonts.shutil, "which", lambda _name: None)
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    yield
    fonts.clear_cache()


def test_bundled_fonts_serve_a_machine_without_chinese_fonts(no_system_fonts):
    assert fonts.find_cjk_font() == fonts.BUNDLED["sans"]
    assert fonts.font_chain() == [fonts.BUNDLED["serif"], fonts.BUNDLED["sans"]]
    text = "2020年度泸州市社会保险事业管理局部门决算：收入合计 1,234.56 万元，增长 12.30%（≥ 10%）"
    assert fonts.missing_glyphs(text) == []
    assert fonts.fonts_used(text) == [fonts.BUNDLED["serif"]]
    assert fonts.font_source(fonts.BUNDLED["serif"]) == "bundled"


def test_a_character_no_font_has_is_named_with_where_it_is(no_system_fonts):
    name = "𠀾𠁀社区服务中心"  # two CJK Extension B characters, outside GB 2312
    assert fonts.missing_glyphs(name) == ["𠀾", "𠁀"]
    with pytest.raises(fonts.FontMissing) as raised:
        fonts.require_glyphs([("单位名称", name)])
    message = str(raised.value)
    assert "“𠀾”（U+2003E，单位名称：" in message and "U+20040" in message
    assert "方框" in message and "JUESUAN_CJK_FONT" in message


def test_font_missing_when_even_the_bundled_fonts_are_gone(no_system_fonts, monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "BUNDLED", {k: tmp_path / f"{k}.otf" for k in ("sans", "serif")})
    monkeypatch.setenv(fonts.ENV_VAR, str(tmp_path / "missing.ttf"))
    with (
        pytest.warns(UserWarning, match="JUESUAN_CJK_FONT"),
        pytest.raises(fonts.FontMissing) as raised,
    ):
        fonts.find_cjk_font()
    message = str(raised.value)
    assert message == fonts.INSTALL_HINT
    assert "重新安装" in message and "fonts-noto-cjk" in message and "JUESUAN_CJK_FONT" in message
    assert fonts.cjk_font_files("sans") == [] and fonts.font_dirs() == []


def test_environment_variable_comes_first(no_system_fonts, monkeypatch, tmp_path):
    chosen = tmp_path / "mine" / "HeiTi.ttf"
    chosen.parent.mkdir()
    chosen.write_bytes(b"")
    monkeypatch.setenv(fonts.ENV_VAR, str(chosen))
    assert fonts.find_cjk_font() == chosen
    assert fonts.cjk_font_files("serif") == [chosen, fonts.BUNDLED["serif"]]
    assert fonts.font_chain()[0] == chosen
    assert fonts.font_source(chosen) == fonts.ENV_VAR
    assert fonts.font_dirs() == [chosen.parent, fonts.BUNDLED_DIR]


def test_system_fonts_come_after_the_bundled_ones(no_system_fonts, monkeypatch, tmp_path):
    sans, serif = tmp_path / "NotoSansCJK-Regular.ttc", tmp_path / "NotoSerifCJK-Regular.ttc"
    sans.write_bytes(b"")
    serif.write_bytes(b"")
    fc_list = tmp_path / "fc-list"
    fc_list.write_text(
        "#!/bin/sh\n"
        f"echo '{serif}: Noto Serif CJK SC:style=Regular'\n"
        f"echo '{sans}: Noto Sans CJK SC:style=Regular'\n",
        encoding="utf-8",
    )
    fc_list.chmod(0o755)
    monkeypatch.setattr(fonts.shutil, "which", lambda _name: str(fc_list))
    assert fonts.find_cjk_font() == fonts.BUNDLED["sans"]
    assert fonts.cjk_font_files("serif") == [fonts.BUNDLED["serif"], serif]
    assert fonts.font_chain() == [fonts.BUNDLED["serif"], fonts.BUNDLED["sans"], sans, serif]
    assert fonts.font_source(sans) == "system"
    with pytest.raises(ValueError):
        fonts.cjk_font_files("mono")  # type: ignore[arg-type]

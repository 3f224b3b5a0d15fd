"""How the statements tables are laid out, against the published documents."""

from juesuan.publish.table_layout import layout
from juesuan.statements.build import build


def test_the_funds_under_the_opening_balance_start_at_the_cells_edge(example):
    # 财政拨款收入支出决算总表: 一、一般公共预算财政拨款 … under 年初财政拨款结转和结余 are set
    # flush, as the Shanghai 2024 template and the Putuo 2024 disclosure print them.
    for format_name in ("sichuan-2020", "national-9"):
        grid = layout(build(example, format_name).table("fiscal_summary"))
        labels = [c for line in grid.body for c in line.cells if c.kind in ("label", "total-label")]
        opening = next(i for i, c in enumerate(labels) if c.text == "年初财政拨款结转和结余")
        funds = [c for c in labels[opening:] if c.text.endswith("预算财政拨款")]
        assert {c.text[:2] for c in funds} == {"一、", "二、", "三、"}
        assert all(c.indent == 0 for c in funds), format_name

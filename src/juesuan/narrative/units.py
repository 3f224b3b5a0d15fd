"""部门决算单位构成 as the Shanghai 2024 template prints it: a form of 序号, 单位名称, 备注, one row
per unit the department's final accounts include (the dataset's 单位构成, in its order)."""

from __future__ import annotations

from juesuan.ledger.model import Dataset
from juesuan.publish.table_layout import (
    CELL_SLACK,
    LayoutCell,
    LayoutColumn,
    LayoutRow,
    TableLayout,
    display_width,
)

UNITS_FORM = "部门决算单位构成"


def units_form(dataset: Dataset) -> TableLayout:
    head = ("序号", "单位名称", "备注")
    rows = [
        LayoutRow(
            tuple(
                LayoutCell(t, i, "label", bold=True, align="center", shade=True)
                for i, t in enumerate(head)
            )
        )
    ]
    for number, unit in enumerate(dataset.units, start=1):
        rows.append(
            LayoutRow(
                (
                    LayoutCell(str(number), 0, "label", align="center"),
                    LayoutCell(unit.name, 1, "label"),
                    LayoutCell(unit.note or "", 2, "label"),
                )
            )
        )
    name_width = max(display_width(u.name) for u in dataset.units) + CELL_SLACK
    widths = (8.0, min(max(name_width, 30.0), 50.0), 20.0)
    return TableLayout(
        id="units",
        number="",
        title="",
        unit="",
        unit_name="",
        year=None,
        note="",
        empty=False,
        empty_statement="",
        columns=tuple(LayoutColumn("label", 0, -1, w) for w in widths),
        header=(),
        body=tuple(rows),
    )

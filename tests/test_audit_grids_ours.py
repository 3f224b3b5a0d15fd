"""Our own PDFs read back: every statement table of both examples, built in every format they
build in, read from the PDF into a grid whose column titles and cells are the ones the table
layout prints, cell by cell."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from juesuan.audit.grids import TableGrid, document_tables
from juesuan.audit.pdfpage import read_pages
from juesuan.cli import main
from juesuan.ledger.load import load
from juesuan.publish.package import prepare
from juesuan.publish.table_layout import TableLayout, layout

from conftest import ROOT

BUILDS = [
    ("luzhou-2020", "sichuan-2020"),
    ("luzhou-2020", "national-9"),
    ("luzhou-2020", "shanghai-2024"),
    ("shanghai-putuo-shgzb-2024", "national-9"),
    ("shanghai-putuo-shgzb-2024", "shanghai-2024"),
]


@cache
def _built(example: str, format_name: str, folder: str) -> tuple[list[TableGrid], list]:
    """The example built once per module run: the PDF's tables and the statement tables."""
    output = Path(folder) / f"{example}-{format_name}"
    dataset_path = ROOT / "examples" / example
    assert main(["build", str(dataset_path), "--format", format_name, "-o", str(output)]) == 0
    (pdf,) = output.glob("*.pdf")
    dataset, _ = load(dataset_path)
    return document_tables(read_pages(pdf)), list(prepare(dataset, format_name).statements)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("built"))


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _printed(table: TableLayout) -> tuple[list[str], list[list[str]]]:
    """Column titles (header levels top down, joined by "/") and body rows as printed: a cell's
    text in the first column it covers, "" in the rest; rows with no text are not printed."""
    width = len(table.columns)
    titles: list[list[str]] = [[] for _ in range(width)]
    for row in table.header:
        for cell in row.cells:
            for column in range(cell.column, cell.last_column + 1):
                if cell.text:  # a title over several columns heads each of them
                    titles[column].append(_squeeze(cell.text))
    rows = []
    for row in table.body:
        cells = ["" for _ in range(width)]
        for cell in row.cells:
            cells[cell.column] = _squeeze(cell.text)
        if any(cells):
            rows.append(cells)
    return ["/".join(t) for t in titles], rows


@pytest.mark.parametrize(("example", "format_name"), BUILDS, ids=lambda v: v)
def test_every_statement_table_reads_back_cell_by_cell(example, format_name, folder) -> None:
    grids, statements = _built(example, format_name, folder)
    assert statements
    for statement in statements:
        printed = layout(statement)
        title = f"{printed.number}、{printed.title}" if printed.number else printed.title
        found = [g for g in grids if _squeeze(g.title) == _squeeze(title)]
        assert len(found) == 1, (title, [g.title for g in grids])
        grid = found[0]
        columns, rows = _printed(printed)
        assert grid.unit == printed.unit, title
        assert grid.columns == columns, title
        for index, (row, expected) in enumerate(zip(grid.rows, rows, strict=False)):
            assert row == expected, f"{title} row {index}"
        assert len(grid.rows) == len(rows), title

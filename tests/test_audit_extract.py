"""`juesuan extract`: a published PDF's tables written out as a workbook."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from juesuan.cli import main
from shared_material import REAL_DOCUMENTS

DOCUMENT = REAL_DOCUMENTS / "shanghai-putuo-2025-budget-commerce-commission.pdf"


@pytest.mark.skipif(not DOCUMENT.exists(), reason=f"{DOCUMENT} is not here")
def test_every_table_a_sheet_codes_as_text_figures_as_numbers(tmp_path: Path) -> None:
    output = tmp_path / "表格.xlsx"
    assert main(["extract", str(DOCUMENT), "-o", str(output)]) == 0
    book = openpyxl.load_workbook(output)
    assert len(book.sheetnames) == 9
    sheet = next(s for s in book if "一般公共预算支出功能分类" in s.title)
    assert sheet["A1"].value == "2025年部门一般公共预算支出功能分类预算表"
    assert sheet["A2"].value.startswith("单位：元")
    assert [c.value for c in sheet[3]][:4] == [
        "项目/功能分类科目编码/类",
        "项目/功能分类科目编码/款",
        "项目/功能分类科目编码/项",
        "项目/功能分类科目名称",
    ]
    third = [c.value for c in sheet[6]]  # 201 13 01 行政运行
    assert third[:4] == ["201", "13", "01", "行政运行"]
    assert Decimal(str(third[4])) == Decimal("9389913.00")
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "合计" and Decimal(str(last[4])) == Decimal("371514655.00")
    three_public = book[book.sheetnames[-1]]
    assert three_public["A2"].value.startswith("单位：万元")


def test_not_a_pdf_is_refused_without_writing(tmp_path: Path, capsys) -> None:
    source = tmp_path / "决算.docx"
    source.write_bytes(b"PK")
    output = tmp_path / "out.xlsx"
    assert main(["extract", str(source), "-o", str(output)]) == 2
    assert "不是 PDF 文件" in capsys.readouterr().err
    assert not output.exists()


def test_a_damaged_pdf_is_refused_without_writing(tmp_path: Path, capsys) -> None:
    source = tmp_path / "决算.pdf"
    source.write_bytes(b"%PDF-1.4\nnot really")
    output = tmp_path / "out.xlsx"
    assert main(["extract", str(source), "-o", str(output)]) == 2
    assert "不是有效的 PDF" in capsys.readouterr().err
    assert not output.exists()

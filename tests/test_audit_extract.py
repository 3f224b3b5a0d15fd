"""`juesuan extract`: a published PDF's tables written out as a workbook."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from juesuan.cli import main
from shared_material import REAL_DOCUMENTS

from conftest import ROOT

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


# ---- --prior-year: last year's published figures into a dataset's 上年数 ------------------------

REAL_FINAL = REAL_DOCUMENTS / "shanghai-putuo-2024-final-accounts-social-work-dept.pdf"
EXAMPLE = ROOT / "examples" / "luzhou-2020"


def _dataset_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "下一年"
    shutil.copytree(EXAMPLE, folder)
    return folder


def _prior(folder: Path) -> dict:
    from juesuan.ledger.load import load

    dataset, _ = load(folder)
    return {key: fact.value for key, fact in dataset.prior_year.items()}


@pytest.mark.skipif(not REAL_FINAL.exists(), reason=f"{REAL_FINAL} is not here")
def test_prior_year_from_a_real_final_account(tmp_path: Path, capsys) -> None:
    folder = _dataset_copy(tmp_path)
    (folder / "prior_year.csv").unlink()
    assert main(["extract", str(REAL_FINAL), "--prior-year", str(folder)]) == 0
    assert "写入 17 个上年数" in capsys.readouterr().out
    prior = _prior(folder)
    # as printed in its tables (万元): 收入支出决算总表 总计 307.82, 支出决算表 201 264.87
    assert prior["收支总计"] == Decimal("3078200.00")
    assert prior["一般公共预算财政拨款支出"] == Decimal("3078200.00")
    assert prior["201"] == Decimal("2648700.00")
    assert prior["三公经费"] == Decimal(0)  # the table says it has no data
    assert "机关运行经费" not in prior  # in the text only, not in a table: left to the user


@pytest.fixture(scope="module")
def luzhou_pdf(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("luzhou")
    assert main(["build", str(EXAMPLE), "--format", "sichuan-2020", "-o", str(output)]) == 0
    (pdf,) = output.glob("*.pdf")
    return pdf


def test_prior_year_from_our_own_output_equals_this_years_figures(
    tmp_path: Path, luzhou_pdf: Path, capsys
) -> None:
    from juesuan.audit.extract import PRIOR_YEAR_CELLS
    from juesuan.ledger.load import load
    from juesuan.publish.package import prepare

    folder = _dataset_copy(tmp_path)
    before = (folder / "prior_year.csv").read_bytes()
    # the example's 上年数 are 2019's: different figures are refused, nothing written
    assert main(["extract", str(luzhou_pdf), "--prior-year", str(folder)]) == 2
    error = capsys.readouterr().err
    assert "已有不同的上年数" in error and "收支总计：表中为 240805200.00 元" in error
    assert (folder / "prior_year.csv").read_bytes() == before
    assert main(["extract", str(luzhou_pdf), "--prior-year", str(folder), "--force"]) == 0
    prior = _prior(folder)
    dataset, _ = load(EXAMPLE)
    statements = prepare(dataset, "sichuan-2020").statements
    for key, (table_id, row_key, column) in PRIOR_YEAR_CELLS.items():
        table = statements.table(table_id)
        for section in table.sections:
            row, index = section.row(row_key), section.column_index(column)
            if row is not None and index is not None:
                shown = row.cells[index].shown  # None: printed empty, nothing spent
                assert prior[key] == (shown or 0) * 10000, key
                break
        else:
            raise AssertionError(f"{key} not in the statements")
    for row in statements.table("spending").sections[0].rows:
        if row.code and len(row.code) == 3:
            assert prior[row.code] == row.cells[0].shown * 10000, row.code
    # what the publication does not print stays as it was
    assert prior["国内公务接待费"] == Decimal("17373.00")
    # written again from the same document: nothing changes
    assert main(["extract", str(luzhou_pdf), "--prior-year", str(folder)]) == 0
    assert "没有改动" in capsys.readouterr().out


def test_prior_year_needs_a_dataset_folder(tmp_path: Path, luzhou_pdf: Path, capsys) -> None:
    assert main(["extract", str(luzhou_pdf), "--prior-year", str(tmp_path / "无")]) == 2
    assert "不是数据集文件夹" in capsys.readouterr().err

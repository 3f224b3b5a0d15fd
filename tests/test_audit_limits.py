"""Hostile and broken documents given to the audit: each is refused (or its part set aside) with
a one-line reason naming the file and the limit, never a traceback. Each document is generated
here, small (tests/audit_hostile.py; run it as a script to measure memory and time)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import audit_hostile as hostile
from juesuan.audit import audit, audit_text, limits, read
from juesuan.audit.findings import rounded, show
from juesuan.audit.read import Grid, Line, NotReadable
from juesuan.cli import main

FORTY = "1234567890123456789012345678901234567890"


# ---- numbers ------------------------------------------------------------------------------------


def test_rounding_a_number_of_forty_digits_does_not_fail():
    assert rounded(Decimal(FORTY + ".125"), 2) == Decimal(FORTY + ".13")
    assert show(Decimal(FORTY + "0000"), 3) == FORTY + "0000.000"


def test_a_forty_digit_figure_is_set_aside_with_a_reason_not_checked():
    text = (
        "一、收入支出决算总体情况说明\n"
        f"2020年度支出总计100.00万元，其中：基本支出{FORTY}.12万元，项目支出5.00万元。\n"
    )
    report = audit_text(text, "forty.txt")
    assert report.readable
    set_aside = [u for u in report.unresolved if FORTY[:12] in u.reason]
    assert len(set_aside) == 1 and "第2行" in set_aside[0].where
    assert "42 位" in set_aside[0].reason and "20 位" in set_aside[0].reason
    # the other figures are still read: the two remaining parts do not make the total
    assert not any(FORTY[:12] in str(f.as_dict()) for f in report.findings)


def test_a_class_is_summed_without_visiting_every_corner(monkeypatch):
    from juesuan.audit import checks

    corners = checks.interval

    def few(function, *numbers):
        assert len(numbers) <= 3, f"rounding range over 2^{len(numbers)} corners"
        return corners(function, *numbers)

    monkeypatch.setattr(checks, "interval", few)
    text = (
        "2020 年一般公共预算财政拨款支出 9.00 万元，主要用于以下方面：社会保障和就业（类）支出"
        " 9.00 万元，占 100%。\n\n2020年一般公共预算支出决算数为9.00万元。其中：\n\n"
        + "\n\n".join(
            f"{i}. 社会保障和就业支出（类）行政事业单位养老支出（款）项目{i}（项）：支出决算为1.00万元。"
            for i in range(1, 9)
        )
    )
    (finding,) = [f for f in audit_text(text).findings if f.rule == "text-items-class"]
    assert (finding.expected, finding.actual) == ("9.00万元", "8.00万元")


# ---- refusals -----------------------------------------------------------------------------------


def refused(path: Path) -> str:
    """The one-line reason the audit gives for not reading `path` (exit status 2)."""
    report = audit(path)
    assert not report.readable and report.exit_code == 2
    reason = report.document["error"]
    assert reason.startswith(str(path)) and "\n" not in reason
    return reason


def test_html_spans_of_a_million_columns_are_refused(tmp_path):
    path = tmp_path / "spans.html"
    path.write_bytes(hostile.html_spans(rows=20))
    assert len(path.read_bytes()) < 2000
    reason = refused(path)
    assert "第1段的表格展开后有 210,000 个单元格" in reason and "上限 100,000 个" in reason


def test_html_spans_are_clamped_to_the_table(tmp_path):
    # colspan beyond 1000 counts as 1000 and a rowspan ends at the table's last row, as browsers
    # lay them out: two rows, not a million
    path = tmp_path / "clamped.html"
    path.write_bytes(hostile.html_spans(rows=2))
    (grid,) = [b for b in read(path).blocks if isinstance(b, Grid)]
    assert len(grid.rows) == 2 and grid.width == 2000
    assert grid.rows[0][:2] == ("1", None) and grid.rows[1][999:1001] == (None, "1")


def test_html_grid_wider_than_its_spans_is_refused(tmp_path):
    path = tmp_path / "wide.html"
    path.write_bytes(hostile.html_wide_and_long(rows=200))
    assert "展开后有 201,000 个单元格" in refused(path)


def test_docx_grid_span_of_ten_million_is_refused(tmp_path):
    path = hostile.docx_grid_span(tmp_path / "gridspan.docx", 10_000_000)
    reason = refused(path)
    assert "第2段的表格展开后有 10,000,000 个单元格" in reason and "100,000" in reason


def test_docx_merged_cells_read_as_python_docx_lays_them_out(tmp_path):
    import docx

    document = docx.Document()
    table = document.add_table(rows=4, cols=4)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"{r}{c}"
    table.cell(0, 0).merge(table.cell(2, 1))  # across and down
    table.cell(1, 3).merge(table.cell(3, 3))  # down only
    table.cell(3, 0).merge(table.cell(3, 2))  # across only
    path = tmp_path / "merged.docx"
    document.save(path)
    (grid,) = [b for b in read(path).blocks if isinstance(b, Grid)]

    seen, expected = set(), []
    for row in docx.Document(path).tables[0].rows:
        expected.append(
            tuple(None if c._tc in seen or seen.add(c._tc) else c.text for c in row.cells)
        )
    assert grid.rows == tuple(expected)
    assert grid.rows[0][:3] == ("00\n01\n10\n11\n20\n21", None, "02")


def test_docx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    path = hostile.docx_bomb(tmp_path / "bomb.docx", megabytes=60)
    assert path.stat().st_size < 200_000
    reason = refused(path)
    assert "其中 word/document.xml 解压后的大小超过上限 50 MB" in reason


def test_docx_with_a_lying_size_is_refused(tmp_path):
    path = hostile.docx_bomb(tmp_path / "lying.docx", megabytes=60, declared=4096)
    reason = refused(path)
    assert "文件已损坏（压缩的内容不完整，或与文件目录不符）" in reason and "Error" not in reason
    assert "BadZip" not in reason


def test_pdf_page_of_200000_text_runs_is_refused(tmp_path):
    path = tmp_path / "runs.pdf"
    path.write_bytes(hostile.pdf(hostile.many_runs(200_000)))
    assert path.stat().st_size < 10_000
    assert "第1页的文字段数超过上限 20,000 段" in refused(path)


def test_pdf_page_whose_drawing_inflates_past_the_limit_is_refused(tmp_path):
    path = tmp_path / "content.pdf"
    path.write_bytes(hostile.pdf(b"q Q\n" * 2_000_000))
    assert "第1页的绘制指令解压后超过上限 4 MB" in refused(path)


def test_pdf_with_too_many_pages_is_refused(tmp_path):
    path = tmp_path / "pages.pdf"
    path.write_bytes(hostile.pdf(hostile.text_content(["Total 100.00"]), pages=2_001))
    assert "页数超过上限 2,000 页" in refused(path)


def test_text_past_the_character_limit_is_refused(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("支出" * 500_001, "utf-8")
    assert "文字超过上限 1,000,000 个字符" in refused(path)


def test_reading_stops_at_the_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_SECONDS", 0.0)
    path = tmp_path / "slow.pdf"
    path.write_bytes(hostile.pdf(hostile.text_content(["Total 100.00"])))
    assert "读取时间超过上限 0 秒" in refused(path)


def test_pdf_with_a_user_password_says_it_needs_the_password(tmp_path):
    import pypdfium2

    path = tmp_path / "encrypted.pdf"
    path.write_bytes(hostile.pdf(hostile.text_content(["Total 100.00"]), user_password="secret"))
    pdf = pypdfium2.PdfDocument(path, password="secret")  # a real encrypted file
    assert pdf[0].get_textpage().get_text_range() == "Total 100.00"
    assert refused(path) == f"{path} 用密码保护，需先解除密码再审核"


def test_pdf_encrypted_without_a_user_password_is_read(tmp_path):
    # owner-only encryption (no copying, no printing) is common on published PDFs
    path = tmp_path / "owner-only.pdf"
    path.write_bytes(hostile.pdf(hostile.text_content(["Total 100.00"]), user_password=""))
    lines = [b.text for b in read(path).blocks if isinstance(b, Line)]
    assert lines == ["Total 100.00"]


def test_the_audit_command_gives_the_reason_and_exit_2(tmp_path, capsys):
    path = tmp_path / "spans.html"
    path.write_bytes(hostile.html_spans(rows=20))
    assert main(["audit", str(path)]) == 2
    captured = capsys.readouterr()
    assert "无法读取，未审核" in captured.out
    (line,) = captured.err.strip().splitlines()
    assert "表格展开后有 210,000 个单元格" in line and "Traceback" not in captured.err


def test_read_raises_not_readable_with_the_reason(tmp_path):
    path = tmp_path / "gridspan.docx"
    hostile.docx_grid_span(path, 200_000)
    with pytest.raises(NotReadable, match="展开后有 200,000 个单元格"):
        read(path)


def test_a_file_that_is_not_a_docx_is_said_to_be_so_in_words(tmp_path):
    import zipfile

    text = tmp_path / "not.docx"
    text.write_bytes(b"{\\rtf1 not a zip}")
    assert "不是 Word（.docx）文件（.docx 是一个压缩包，这个文件不是）" in refused(text)
    other = tmp_path / "other.docx"
    with zipfile.ZipFile(other, "w") as bundle:
        bundle.writestr("a.txt", "x")
    reason = refused(other)
    assert "压缩包里没有 Word 文档的正文部分" in reason and "KeyError" not in reason

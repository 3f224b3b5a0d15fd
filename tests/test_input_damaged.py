"""Damaged and hostile inputs: each one is a located error (exit 2), never a traceback; and a
property-based fuzz over CSV cells, CSV bytes and workbook cells: load() never raises, and an
accepted amount is exactly what its cell said."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import time
import unicodedata
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from juesuan.cli import main
from juesuan.ledger.issues import ERROR
from juesuan.ledger.load import load
from juesuan.money import MAX_AMOUNT

from conftest import EXAMPLE, write_dataset

INCOME_HEADER = "阶段,资金来源,功能分类科目编码,金额,备注\n"


def located(issues) -> bool:
    """Every issue names at least its file; every error about a cell names sheet/row/column."""
    return all(i.source.file for i in issues)


@pytest.fixture(scope="module")
def workbook_bytes(tmp_path_factory) -> bytes:
    from juesuan.ledger.export import write_workbook

    folder = write_dataset(tmp_path_factory.mktemp("wb") / "tiny")
    dataset, _ = load(folder)
    path = folder.parent / "tiny.xlsx"
    write_workbook(dataset, path)
    return path.read_bytes()


def _rezip(source: bytes, target: Path, change) -> Path:
    """A copy of the workbook with each part passed through change(name, data) -> data | None."""
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return target


def _damaged_deflate(source: bytes, target: Path) -> Path:
    raw = bytearray(source)
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        info = archive.getinfo("xl/worksheets/sheet3.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 4, start + 40):
        raw[k] ^= 0x5A
    target.write_bytes(bytes(raw))
    return target


@pytest.fixture(scope="module")
def bomb(workbook_bytes, tmp_path_factory) -> Path:
    """A workbook whose 收入 sheet unpacks to 300 MB of blanks (about 300 KB packed)."""
    target = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    with (
        zipfile.ZipFile(io.BytesIO(workbook_bytes)) as zin,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout,
    ):
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet3.xml":
                zout.writestr(info, zin.read(info.filename))
                continue
            head, tail = zin.read(info.filename).split(b"</sheetData>")
            with zout.open(info.filename, "w", force_zip64=True) as part:
                part.write(head)
                blanks = b" " * (1 << 20)
                for _ in range(300):
                    part.write(blanks)
                part.write(b"</sheetData>" + tail)
    return target


def _chart_sheet(target: Path) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(target))
    sheet = book.add_worksheet("收入")
    sheet.write_row(0, 0, ["阶段", "资金来源", "功能分类科目编码", "金额"])
    sheet.write_row(1, 0, ["决算", "一般公共预算财政拨款", "2080501", 1])
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=收入!$D$2:$D$2"})
    book.add_chartsheet("图表").set_chart(chart)
    book.close()
    return target


def _folder_where_a_file_should_be(tmp: Path, name: str) -> Path:
    folder = write_dataset(tmp / "dir", **{Path(name).stem: None} if "/" not in name else {})
    (folder / name).mkdir(parents=True)
    return folder


CORPUS = {
    "deflate stream damaged (zlib.error)": lambda b, t: _damaged_deflate(b, t / "zlib.xlsx"),
    "truncated zip (BadZipFile)": lambda b, t: _write(t / "cut.xlsx", b[: len(b) // 2]),
    "missing workbook part (KeyError)": lambda b, t: _rezip(
        b, t / "nopart.xlsx", lambda n, d: None if n == "xl/workbook.xml" else d
    ),
    "malformed sheet XML": lambda b, t: _rezip(
        b, t / "xml.xlsx", lambda n, d: d[:-40] if n.startswith("xl/worksheets/") else d
    ),
    "text file named .xlsx": lambda b, t: _write(t / "text.xlsx", "金额\n1".encode()),
    "unit.toml is a folder": lambda b, t: _folder_where_a_file_should_be(t, "unit.toml"),
    "income.csv is a folder": lambda b, t: _folder_where_a_file_should_be(t, "income.csv"),
    "a text .md is a folder": lambda b, t: _folder_where_a_file_should_be(t, "texts/职能.md"),
    "CSV in no known encoding": lambda b, t: _csv_bytes(t, b"\xff\xff\xfe\x80\x80\n\xff,1\n"),
    "enormous amount cell": lambda b, t: _csv_bytes(
        t, (INCOME_HEADER + "决算,一般公共预算财政拨款,2080501," + "9" * 2_000_000).encode()
    ),
    "NUL bytes in a CSV": lambda b, t: _csv_bytes(t, INCOME_HEADER.encode() + b"\x00\x00,\x00\n"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _csv_bytes(tmp: Path, data: bytes) -> Path:
    folder = write_dataset(tmp / "csv")
    (folder / "income.csv").write_bytes(data)
    return folder


@pytest.mark.parametrize("case", [*CORPUS, "zip bomb"])
def test_damaged_input_is_a_located_refusal_and_exit_2(
    case, workbook_bytes, bomb, tmp_path, capsys
):
    path = bomb if case == "zip bomb" else CORPUS[case](workbook_bytes, tmp_path)
    started = time.monotonic()
    dataset, issues = load(path)
    assert time.monotonic() - started < 10
    assert dataset is None
    assert issues and located(issues)
    assert all(len(i.value or "") < 200 for i in issues)  # a huge cell is named, not repeated
    assert main(["check", str(path), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert any(i["severity"] == ERROR for i in report["import_issues"])


def test_zip_bomb_is_refused_by_its_declared_size_with_one_line(bomb):
    assert bomb.stat().st_size < 2 << 20
    started = time.monotonic()
    _, issues = load(bomb)
    assert time.monotonic() - started < 1  # decided from the zip directory, nothing inflated
    (issue,) = issues
    assert "100 MB" in issue.message and "\n" not in issue.message


def test_a_chart_sheet_is_ignored_with_a_warning(tmp_path):
    _, issues = load(_chart_sheet(tmp_path / "chart.xlsx"))
    assert any(i.source.sheet == "图表" and "图表" in i.message for i in issues)
    assert located(issues)


def test_a_lone_carriage_return_in_the_header_line_is_a_located_refusal(tmp_path):
    folder = write_dataset(tmp_path / "d")
    (folder / "income.csv").write_bytes(
        ("\r" + INCOME_HEADER + "决算,一般公共预算财政拨款,2080501,1000.00,\n").encode()
    )
    dataset, issues = load(folder)
    assert dataset is None
    [issue] = [i for i in issues if i.source.file == "income.csv"]
    assert (issue.severity, issue.source.row) == (ERROR, 1)
    assert "回车符" in issue.message


def test_a_utf8_bom_csv_reads_like_one_without(tmp_path):
    plain = load(write_dataset(tmp_path / "plain"))[0]
    folder = write_dataset(tmp_path / "bom")
    for name in ("income.csv", "unit.toml"):
        path = folder / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    dataset, issues = load(folder)
    assert dataset is not None, [str(i) for i in issues]
    assert dataset.ledger.total(direction="收入") == plain.ledger.total(direction="收入")


def test_a_cell_far_right_and_far_down_is_read_quickly(workbook_bytes, tmp_path):
    path = _write(tmp_path / "far.xlsx", workbook_bytes)
    book = openpyxl.load_workbook(path)
    book["收入"]["XFD1048576"] = "远处"
    book.save(path)
    started = time.monotonic()
    dataset, issues = load(path)
    assert time.monotonic() - started < 10
    assert dataset is not None, [str(i) for i in issues]


def test_unknown_format_with_json_says_so_on_stdout(capsys):
    if not EXAMPLE.exists():
        pytest.skip("examples/luzhou-2020 is not present")
    assert main(["check", str(EXAMPLE), "--format", "无此格式", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert "无此格式" in report["error"]


# ---- fuzz --------------------------------------------------------------------------------------

_SAYABLE = set("0123456789.,+-０１２３４５６７８９．，＋－")


def said(text: str) -> Decimal | None:
    """What an amount cell unambiguously says, worked out apart from the code under test:
    digits (ASCII or full-width) with an optional sign, point and thousands groups of three."""
    text = text.strip()
    if not text or not set(text) <= _SAYABLE:
        return None
    text = unicodedata.normalize("NFKC", text)  # full-width forms to ASCII
    if "," in text and not re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", text):
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


_ODD = '²³⑤①٣۳߃०໓\u00a0\u3000 万元%eE_NaNInfinity\x00\x07\x1b\x7f\x85\n\t"'
amount_texts = st.one_of(
    # amounts written as people write them
    st.integers(min_value=-(10**15), max_value=10**15).map(
        lambda fen: f"{Decimal(fen) / 100:,.2f}" if fen % 3 else f"{Decimal(fen) / 100:f}"
    ),
    st.integers(min_value=0, max_value=10**9).map(
        lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    ),
    # and anything else made of the characters that matter
    st.text(alphabet=st.sampled_from(sorted(_SAYABLE | set(_ODD))), max_size=24),
)


def _amounts_of(dataset) -> dict[int, Decimal]:
    return {line.source.row: line.amount for line in dataset.ledger.lines(direction="收入")}


def _check_cells(cells: list[str], dataset, issues) -> None:
    assert located(issues)
    if dataset is None:
        assert any(i.severity == ERROR for i in issues)
        return
    amounts = _amounts_of(dataset)
    for row, cell in enumerate(cells, start=2):
        expected = said(cell)
        # Accepted means: it said a number, and that number is what the ledger holds.
        assert expected is not None, (cell, amounts.get(row))
        assert amounts[row] == expected, (cell, amounts[row])
        assert abs(expected) <= MAX_AMOUNT


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(amount_texts, min_size=1, max_size=3))
def test_fuzz_csv_amount_cells_are_read_exactly_or_refused_with_a_place(cells):
    with tempfile.TemporaryDirectory() as tmp:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["阶段", "资金来源", "功能分类科目编码", "金额", "备注"])
        for n, cell in enumerate(cells):
            writer.writerow(["决算", "一般公共预算财政拨款", "2080501", cell, f"第{n}行"])
        folder = write_dataset(Path(tmp) / "d", income=out.getvalue())
        dataset, issues = load(folder)
    _check_cells(cells, dataset, issues)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=120))
def test_fuzz_csv_bytes_never_raise_and_amounts_come_from_cells(noise, at):
    base = (INCOME_HEADER + "决算,一般公共预算财政拨款,2080501,1000.00,\n").encode()
    data = base[:at] + noise + base[at:]
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_dataset(Path(tmp) / "d")
        (folder / "income.csv").write_bytes(data)
        dataset, issues = load(folder)
    assert located(issues)
    if dataset is None:
        return
    # Whatever was read, each amount is what some cell of the file says.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    # newline="": csv's own line endings (a lone \r, as a file's reader meets it, ends a row)
    cells = {said(c) for row in csv.reader(io.StringIO(text, newline="")) for c in row}
    assert set(_amounts_of(dataset).values()) <= cells


workbook_cells = st.one_of(
    amount_texts.filter(lambda text: not ILLEGAL_CHARACTERS_RE.search(text)),  # XML cannot hold
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
)


def _workbook_said(cell) -> Decimal | None:
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        # What Excel shows: fifteen significant digits.
        return Decimal(format(cell, ".15g")) if cell == cell and abs(cell) != float("inf") else None
    return said(cell)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(workbook_cells, min_size=1, max_size=3),
    st.sampled_from(["2020", "２０２０", "2⁰20", 2020, 2020.5, None]),
    st.sampled_from(["1", "⑤", "１２", 3, -1, 1e300]),
)
def test_fuzz_workbook_cells_are_read_exactly_or_refused_with_a_place(cells, year, persons):
    book = openpyxl.Workbook()
    unit = book.active
    unit.title = "单位信息"
    unit.append(["项目", "内容"])
    unit.append(["单位名称", "测试单位"])
    unit.append(["年度", year])
    income = book.create_sheet("收入")
    income.append(["阶段", "资金来源", "功能分类科目编码", "金额", "备注"])
    for n, cell in enumerate(cells):
        income.append(["决算", "一般公共预算财政拨款", "2080501", cell, f"第{n}行"])
    spending = book.create_sheet("支出")
    spending.append(["资金来源", "功能分类科目编码", "经济分类科目编码", "支出性质", "金额"])
    spending.append(["一般公共预算财政拨款", "2080501", "30302", "人员经费", 1])
    three = book.create_sheet("三公经费")
    three.append(["项目", "资金来源", "预算数", "决算数", "人次"])
    three.append(["国内公务接待费", "一般公共预算财政拨款", 1, 1, persons])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.xlsx"
        book.save(path)
        dataset, issues = load(path)
    assert located(issues)
    if dataset is None:
        assert any(i.severity == ERROR for i in issues)
        return
    assert dataset.unit.year == 2020
    amounts = _amounts_of(dataset)
    for row, cell in enumerate(cells, start=2):
        if cell is None:
            assert row not in amounts
            continue
        expected = _workbook_said(cell)
        assert expected is not None and amounts[row] == expected, (cell, amounts.get(row))

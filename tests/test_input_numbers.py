"""Every number is read as the text the person typed: one digit rule, separators in place,
a ceiling per cell, sums that cannot wrap, and control characters refused where they were typed."""

from decimal import Decimal

import openpyxl
import pytest

from juesuan.ledger.folder import read_folder
from juesuan.ledger.issues import ERROR, Source
from juesuan.ledger.load import load
from juesuan.ledger.model import Ledger, Line
from juesuan.money import MAX_AMOUNT, MAX_TOTAL, AmountError, parse_count, parse_number, parse_yuan

from conftest import UNIT_TOML, write_dataset

INCOME_HEADER = "阶段,资金来源,功能分类科目编码,金额,备注\n"
THREE_PUBLIC_HEADER = "项目,资金来源,预算数,决算数,批次,人次\n"


def income(*amounts: str) -> str:
    rows = [f'决算,一般公共预算财政拨款,2080501,"{a}",' for a in amounts]
    return INCOME_HEADER + "\n".join(rows) + "\n"


def errors(issues):
    return [i for i in issues if i.severity == ERROR]


def refused(issues, file, row, column):
    """The one error at (file, row, column), which must also show the value found."""
    found = [
        i
        for i in errors(issues)
        if (i.source.file, i.source.row, i.source.column) == (file, row, column)
    ]
    assert len(found) == 1, [str(i) for i in issues]
    assert found[0].value is not None
    return found[0]


# ---- the digit rule --------------------------------------------------------------------------


def test_full_width_digits_are_read_as_ascii_in_amounts_counts_years_and_codes(tmp_path):
    folder = write_dataset(
        tmp_path / "fw",
        unit=UNIT_TOML.replace("year = 2020", 'year = "２０２０"'),
        income=INCOME_HEADER
        + "决算,一般公共预算财政拨款,２０８０５０１,１２３,\n"
        + '决算,一般公共预算财政拨款,2089999,"１，２３４．５６",\n',
        three_public=THREE_PUBLIC_HEADER
        + "国内公务接待费,一般公共预算财政拨款,１０,９．５,２,１５\n",
    )
    dataset, issues = load(folder)
    assert dataset is not None, [str(i) for i in issues]
    assert dataset.unit.year == 2020
    assert dataset.ledger.sum_by("function_code", direction="收入") == {
        "2080501": Decimal("123.00"),
        "2089999": Decimal("1234.56"),
    }
    (item,) = dataset.three_public
    assert (item.budget, item.actual, item.batches, item.persons) == (
        Decimal("10.00"),
        Decimal("9.50"),
        2,
        15,
    )


@pytest.mark.parametrize("amount", ["1²3", "⑤", "١٢٣", "１２³"])
def test_other_unicode_digits_in_an_amount_are_refused_by_cell(tmp_path, amount):
    dataset, issues = load(write_dataset(tmp_path / "odd", income=income(amount)))
    assert dataset is None
    error = refused(issues, "income.csv", 2, "金额")
    assert error.value == amount and "0-9" in error.message


def test_odd_digits_in_counts_year_and_thresholds_are_located_errors(tmp_path):
    unit = UNIT_TOML.replace("year = 2020", 'year = "2⁰20"') + 'yoy_reason_threshold = "NaN"\n'
    dataset, issues = load(write_dataset(tmp_path / "unit", unit=unit))
    assert dataset is None
    assert refused(issues, "unit.toml", 4, "年度").value == "2⁰20"
    assert refused(issues, "unit.toml", 7, "同比变动须说明原因的阈值").value == "NaN"

    folder = write_dataset(
        tmp_path / "odd",
        three_public=THREE_PUBLIC_HEADER + "国内公务接待费,一般公共预算财政拨款,1,1,⑤,²\n",
        facts="事项,数值\n编制人数," + "9" * 5000 + "\n部门整体绩效自评得分,Infinity\n",
    )
    dataset, issues = load(folder)
    assert dataset is None
    assert "⑤" in refused(issues, "three_public.csv", 2, "批次").message
    assert "²" in refused(issues, "three_public.csv", 2, "人次").message
    huge = refused(issues, "facts.csv", 2, "数值")
    assert "过大" in huge.message and len(huge.value) < 100  # named, not repeated whole
    assert refused(issues, "facts.csv", 3, "数值").value == "Infinity"


def test_parsers_state_the_rule_and_never_raise_anything_but_amount_error():
    assert parse_yuan("１２３．４５") == Decimal("123.45")
    assert parse_count("０７") == 7
    assert parse_number("１０％", percent=True) == Decimal(10)
    for text in ("²", "NaN", "sNaN", "-Infinity", "1e400", "1_000", "9" * 5000, "\x00", "٣"):
        for parse in (parse_yuan, parse_count, parse_number):
            with pytest.raises(AmountError):
                parse(text)


# ---- separators and the ceiling --------------------------------------------------------------


def test_thousands_separators_only_in_their_places(tmp_path):
    dataset, issues = load(write_dataset(tmp_path / "ok", income=income("1,234,567.89")))
    assert dataset is not None, [str(i) for i in issues]
    assert dataset.ledger.total(direction="收入") == Decimal("1234567.89")

    folder = write_dataset(tmp_path / "bad", income=income("1,2,3", "12,34", "1234,567"))
    dataset, issues = load(folder)
    assert dataset is None
    for row in (2, 3, 4):
        assert "千分位" in refused(issues, "income.csv", row, "金额").message

    folder = write_dataset(tmp_path / "small", procurement='类别,采购金额\n货物,"12,34"\n')
    dataset, issues = load(folder)
    assert dataset is None
    assert "千分位" in refused(issues, "procurement.csv", 2, "采购金额").message


def test_amounts_above_the_ceiling_are_refused_by_cell_never_wrapped(tmp_path):
    top = f"{MAX_AMOUNT:f}"
    dataset, issues = load(write_dataset(tmp_path / "top", income=income(top)))
    assert dataset is not None, [str(i) for i in issues]
    assert dataset.ledger.total(direction="收入") == MAX_AMOUNT

    folder = write_dataset(
        tmp_path / "over",
        income=income("10000000000000", "100000000000000000", "9" * 27, "-" + "9" * 40),
    )
    dataset, issues = load(folder)
    assert dataset is None
    for row in (2, 3, 4, 5):
        assert "上限" in refused(issues, "income.csv", row, "金额").message


def test_many_maximal_cells_sum_exactly_or_are_refused_as_a_whole(tmp_path):
    # 99 maximal cells and the tiny dataset's spending are under the dataset ceiling: loaded,
    # and summed exactly.
    count = int(MAX_TOTAL // MAX_AMOUNT) - 1
    rows = [f"决算,一般公共预算财政拨款,2080501,{MAX_AMOUNT:f},第{n}笔" for n in range(count)]
    dataset, issues = load(write_dataset(tmp_path / "many", income=INCOME_HEADER + "\n".join(rows)))
    assert dataset is not None, [str(i) for i in issues]
    assert dataset.ledger.total(direction="收入") == MAX_AMOUNT * count

    # Two more and the whole is refused, pointing at a line, rather than summed past Int64.
    rows += [f"决算,一般公共预算财政拨款,2080501,{MAX_AMOUNT:f},再一笔{n}" for n in (1, 2)]
    dataset, issues = load(write_dataset(tmp_path / "more", income=INCOME_HEADER + "\n".join(rows)))
    assert dataset is None
    (error,) = errors(issues)
    assert error.source.file == "income.csv" and error.source.row is not None
    assert "上限" in error.message


def test_ledger_totals_are_exact_past_the_int64_range():
    # Lines put together outside load (a consolidation, the payments) still sum exactly.
    line = Line(
        unit="甲",
        year=2020,
        direction="支出",
        phase="决算",
        fund="一般公共预算财政拨款",
        function_code="2080501",
        economic_code="30302",
        nature="人员经费",
        project=None,
        amount=MAX_AMOUNT,
        source=Source("spending.csv"),
    )
    ledger = Ledger.from_lines([line] * 20_000)  # 2 × 10^19 分: wraps in Int64
    assert ledger.total(direction="支出") == MAX_AMOUNT * 20_000
    assert ledger.sum_by("nature") == {"人员经费": MAX_AMOUNT * 20_000}


def test_workbook_amounts_follow_the_same_rule(tmp_path, tiny):
    from juesuan.ledger.export import write_workbook

    dataset, _ = load(tiny)
    path = tmp_path / "data.xlsx"
    write_workbook(dataset, path)
    book = openpyxl.load_workbook(path)
    sheet = book["收入"]
    column = next(c.column for c in sheet[1] if str(c.value).startswith("金额"))
    sheet.cell(row=2, column=column, value="１２３")
    book.save(path)
    dataset, issues = load(path)
    assert dataset is not None, [str(i) for i in issues]
    assert [
        line.amount for line in dataset.ledger.lines(direction="收入") if line.source.row == 2
    ] == [Decimal("123.00")]

    sheet.cell(row=2, column=column, value="1,2,3")
    sheet.cell(row=3, column=column, value=10**17)
    book.save(path)
    dataset, issues = load(path)
    assert dataset is None
    located = {(i.source.sheet, i.source.row, i.source.column) for i in errors(issues)}
    assert located == {("收入", 2, "金额"), ("收入", 3, "金额")}


# ---- control characters ----------------------------------------------------------------------


@pytest.mark.parametrize("control", ["\x01", "\x7f", "\x85", "\x9f"])
def test_each_range_of_control_characters_is_refused_in_a_cell(tmp_path, control):
    folder = write_dataset(
        tmp_path / "ctrl",
        income=INCOME_HEADER + f"决算,一般公共预算财政拨款,2080501,1500.00,备{control}注\n",
    )
    dataset, issues = load(folder)
    assert dataset is None
    (error,) = errors(issues)
    assert (error.source.file, error.source.row, error.source.column) == ("income.csv", 2, "备注")
    assert f"U+{ord(control):04X}" in error.message


def test_a_cell_with_a_middle_dot_is_not_taken_for_a_control_character(tmp_path):
    # "·" (U+00B7) is written C2 B7 in UTF-8, the same lead byte as the controls U+0080–U+009F.
    folder = write_dataset(
        tmp_path / "dot",
        income=INCOME_HEADER + "决算,一般公共预算财政拨款,2080501,1500.00,阿依古丽·买买提\n",
    )
    dataset, issues = load(folder)
    assert dataset is not None, [str(i) for i in errors(issues)]


@pytest.mark.parametrize(("note", "free"), [("备注", True), ("备\x85注", False), ("·", False)])
def test_only_a_file_with_a_control_lead_byte_has_its_cells_searched(tmp_path, note, free):
    folder = write_dataset(
        tmp_path / "f", income=INCOME_HEADER + f"决算,一般公共预算财政拨款,2080501,1500.00,{note}\n"
    )
    assert read_folder(folder).tables["income"].control_free is free


def test_control_characters_are_refused_by_file_and_line(tmp_path):
    folder = write_dataset(
        tmp_path / "ctrl",
        unit=UNIT_TOML.replace('name = "测试单位"', 'name = "测试\\u0000单位"'),
        income=INCOME_HEADER
        + "决算,一般公共预算财政拨款,2080501,1000.00,备\x07注\n"
        + '决算,一般公共预算财政拨款,2089999,500.00,"两行\n备注\t可以"\n',
    )
    (folder / "texts").mkdir()
    (folder / "texts" / "职能.md").write_text("\n第一行\n第二\x1b[31m行\n", encoding="utf-8")
    dataset, issues = load(folder)
    assert dataset is None
    located = {(i.source.file, i.source.row, i.source.column) for i in errors(issues)}
    assert located == {
        ("unit.toml", 2, "单位名称"),
        ("income.csv", 2, "备注"),
        ("texts/职能.md", 3, None),
    }
    assert all("控制字符" in i.message for i in errors(issues))


def test_control_characters_in_workbook_cells_and_texts_name_the_row(tmp_path, tiny):
    from juesuan.ledger.export import write_workbook

    dataset, _ = load(tiny)
    path = tmp_path / "data.xlsx"
    write_workbook(dataset, path)
    book = openpyxl.load_workbook(path)
    texts = book["文字说明"]
    texts["A2"], texts["B2"] = "职能", "坏\x7f字"  # XML allows U+007F-U+009F in a cell
    spending = book["支出"]
    note = next(c.column for c in spending[1] if c.value == "备注")
    spending.cell(row=2, column=note, value="备\x85注")
    book.save(path)
    dataset, issues = load(path)
    assert dataset is None
    located = {(i.source.sheet, i.source.row, i.source.column) for i in errors(issues)}
    assert located == {("文字说明", 2, "内容"), ("支出", 2, "备注")}


def test_unit_sheet_errors_name_their_row(tmp_path, tiny):
    from juesuan.ledger.export import write_workbook

    dataset, _ = load(tiny)
    path = tmp_path / "data.xlsx"
    write_workbook(dataset, path)
    book = openpyxl.load_workbook(path)
    sheet = book["单位信息"]
    row = next(r for r in sheet.iter_rows() if r[0].value == "年度*")
    row[1].value = "2⁰20"
    book.save(path)
    dataset, issues = load(path)
    assert dataset is None
    (error,) = errors(issues)
    assert (error.source.sheet, error.source.row, error.source.column) == (
        "单位信息",
        row[0].row,
        "年度",
    )

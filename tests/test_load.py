from decimal import Decimal

import pytest

from juesuan.ledger.issues import ERROR, WARNING
from juesuan.ledger.load import load

from conftest import SPENDING_CSV, write_dataset

HEADER = "阶段,资金来源,功能分类科目编码,经济分类科目编码,支出性质,项目名称,金额,备注\n"


def errors(issues):
    return [i for i in issues if i.severity == ERROR]


def test_tiny_dataset_loads_into_a_ledger(tiny):
    dataset, issues = load(tiny)
    assert dataset is not None, [str(i) for i in issues]
    ledger = dataset.ledger
    assert len(ledger) == 5
    assert ledger.total(direction="支出") == Decimal("1500.00")
    assert ledger.total(direction="支出", nature="人员经费") == Decimal("900.00")
    assert ledger.total(direction="支出", function="208") == Decimal("1500.00")
    assert ledger.sum_by("nature", direction="支出") == {
        "人员经费": Decimal("900.00"),
        "公用经费": Decimal("100.00"),
        "项目支出": Decimal("500.00"),
    }
    line = next(ledger.lines(direction="支出", nature="项目支出"))
    assert (
        line.project == "生活补贴" and line.source.file == "spending.csv" and line.source.row == 4
    )


def test_english_headers_and_gb18030_are_accepted(tmp_path):
    english = SPENDING_CSV.replace(
        HEADER, "phase,fund,function_code,economic_code,nature,project,amount,note\n"
    )
    folder = write_dataset(tmp_path / "en", spending=english)
    (folder / "income.csv").write_bytes(
        "阶段,资金来源,功能分类科目编码,金额\n决算,一般公共预算,2080501,1500.00\n".encode("gb18030")
    )
    dataset, issues = load(folder)
    assert dataset is not None, [str(i) for i in issues]
    assert dataset.ledger.total(direction="收入", fund="一般公共预算财政拨款") == Decimal("1500.00")


def test_gb18030_cells_under_an_ascii_header_are_read_as_gb18030(tmp_path):
    folder = write_dataset(tmp_path / "gb")
    (folder / "income.csv").write_bytes(
        "phase,fund,function_code,amount\n决算,一般公共预算,2080501,1500.00\n".encode("gb18030")
    )
    dataset, issues = load(folder)
    assert dataset is not None, [str(i) for i in issues]
    assert dataset.ledger.total(direction="收入", fund="一般公共预算财政拨款") == Decimal("1500.00")


def test_each_kind_of_mistake_is_reported_with_row_and_column(tmp_path):
    spending = HEADER + "\n".join(
        [
            "决算,一般公共预算财政拨款,20805X1,30302,人员经费,,1.00,",  # row 2: bad code
            "决算,一般公共预算财政拨款,2080501,30302,人员经费,,12万,",  # row 3: amount with unit
            "决算,一般公共预算财政拨款,2080501,30302,人员经费,,1.234,",  # row 4: three decimals
            "决算,财政拨款,2080501,30302,人员经费,,5.00,",  # row 5: fund not in list
            "决算,一般公共预算财政拨款,2080501,,人员经费,,6.00,",  # row 6: basic without econ
            "决算,一般公共预算财政拨款,2089999,30305,项目支出,,7.00,",  # row 7: project missing
            "决算,一般公共预算财政拨款,2089999,30305,项目支出,不存在的项目,8.00,",  # row 8
            "决算,一般公共预算财政拨款,2080501,30302,人员经费,,9.00,",  # row 9
            "决算,一般公共预算财政拨款,2080501,30302,人员经费,,9.00,",  # row 10: duplicate of 9
            "明年,一般公共预算财政拨款,2080501,30302,人员经费,,11.00,",  # row 11: bad phase
        ]
    )
    dataset, issues = load(write_dataset(tmp_path / "bad", spending=spending))
    assert dataset is None
    found = {(i.source.row, i.source.column) for i in errors(issues)}
    assert found == {
        (2, "功能分类科目编码"),
        (3, "金额"),
        (4, "金额"),
        (5, "资金来源"),
        (6, "经济分类科目编码"),
        (7, "项目名称"),
        (8, "项目名称"),
        (10, None),
        (11, "阶段"),
    }
    by_row = {i.source.row: i for i in errors(issues)}
    assert "单位" in by_row[3].message and by_row[3].value == "12万"
    assert "两位小数" in by_row[4].message
    assert "第9行" in by_row[10].message
    assert all(i.source.file == "spending.csv" for i in errors(issues))


def test_fifty_mistakes_give_fifty_errors(tmp_path):
    rows = [f"决算,一般公共预算财政拨款,2080501,30302,人员经费,,{n}元,#{n}" for n in range(50)]
    dataset, issues = load(write_dataset(tmp_path / "fifty", spending=HEADER + "\n".join(rows)))
    assert dataset is None
    assert sorted(i.source.row for i in errors(issues)) == list(range(2, 52))


def test_unknown_and_misnamed_codes_are_warnings_with_suggestions(tmp_path):
    spending = (
        "阶段,资金来源,功能分类科目编码,功能分类科目名称,经济分类科目编码,支出性质,项目名称,金额\n"
        "决算,一般公共预算财政拨款,2080501,行政单位离退休,30302,人员经费,,900.00\n"
        "决算,一般公共预算财政拨款,2080588,,30201,公用经费,,100.00\n"
        "决算,一般公共预算财政拨款,2089999,其它社保支出,30305,项目支出,生活补贴,500.00\n"
    )
    dataset, issues = load(write_dataset(tmp_path / "codes", spending=spending))
    assert dataset is not None
    warnings = {i.source.row: i for i in issues if i.severity == WARNING}
    assert set(warnings) == {3, 4}
    assert "2080588" in warnings[3].message and "2080501" in (warnings[3].accepted or "")
    assert "其他社会保障和就业支出" in warnings[4].message


def test_wrong_unit_header_and_missing_column(tmp_path):
    spending = (
        "阶段,资金来源,功能分类科目编码,经济分类科目编码,项目名称,金额（万元）\n"
        "决算,一般公共预算财政拨款,2080501,30302,,0.09\n"
    )
    dataset, issues = load(write_dataset(tmp_path / "units", spending=spending))
    assert dataset is None
    messages = {i.source.column: i.message for i in errors(issues)}
    assert "万元" in messages["金额（万元）"]
    assert "缺少必填列" in messages["支出性质"]
    assert "缺少必填列" in messages["金额"]


def test_subtotal_rows_are_checked_against_details(tmp_path):
    agreeing = SPENDING_CSV + "决算,一般公共预算财政拨款,20805,,人员经费,,900.00,小计\n"
    dataset, issues = load(write_dataset(tmp_path / "ok", spending=agreeing))
    assert dataset is not None
    assert dataset.ledger.total(direction="支出") == Decimal("1500.00")
    assert any(i.severity == WARNING and "小计行与明细一致" in i.message for i in issues)

    disagreeing = SPENDING_CSV + "决算,一般公共预算财政拨款,合计,,,,1600.00,\n"
    dataset, issues = load(write_dataset(tmp_path / "bad", spending=disagreeing))
    assert dataset is None
    (error,) = errors(issues)
    assert error.source.row == 5 and "1,600.00" in error.message and "1,500.00" in error.message


def test_a_line_written_twice_is_refused_at_the_second_and_same_amounts_alone_are_not(tmp_path):
    # Rows 2 and 3 share their amount only; row 5 repeats row 4 in every column.
    spending = SPENDING_CSV + "决算,一般公共预算财政拨款,2089999,30305,项目支出,生活补贴,500.00,\n"
    spending = spending.replace(",100.00,", ",900.00,")
    dataset, issues = load(write_dataset(tmp_path / "twice", spending=spending))
    assert dataset is None
    (error,) = errors(issues)
    assert error.source.row == 5 and "与第4行完全相同" in error.message


def test_unreadable_inputs_get_one_clear_sentence(tmp_path):
    dataset, issues = load(tmp_path / "nowhere")
    assert dataset is None and "找不到" in issues[0].message
    stray = tmp_path / "notes.txt"
    stray.write_text("hello", encoding="utf-8")
    dataset, issues = load(stray)
    assert dataset is None and len(issues) == 1 and "不是数据集" in issues[0].message
    folder = write_dataset(tmp_path / "nounit", unit=None)
    dataset, issues = load(folder)
    assert dataset is None and any("unit.toml" in str(i) for i in issues)


def test_facts_and_prior_year_keys_are_checked(tmp_path):
    folder = write_dataset(
        tmp_path / "facts",
        facts="事项,数值\n机关运行经费,100.00\n编制人数,5.5\n车俩总数,0\n",
        prior_year="项目,上年决算数\n收支总计,1200.00\n三公费,3.00\n",
    )
    dataset, issues = load(folder)
    assert dataset is None
    problems = {(i.source.file, i.source.row): i for i in errors(issues)}
    assert set(problems) == {("facts.csv", 3), ("facts.csv", 4), ("prior_year.csv", 3)}
    assert "车辆总数" in (problems[("facts.csv", 4)].accepted or "")
    assert "三公经费" in (problems[("prior_year.csv", 3)].accepted or "")


def test_empty_unit_table_is_an_error_not_silence(tmp_path):
    dataset, issues = load(write_dataset(tmp_path / "empty-unit", unit="[unit]\n"))
    assert dataset is None
    assert [i.source.file for i in errors(issues)] == ["unit.toml"]


def test_workbook_with_fifty_mistakes_reports_fifty_with_sheet_row_and_column(tmp_path, example):
    import openpyxl

    from juesuan.ledger.export import write_workbook

    path = tmp_path / "data.xlsx"
    write_workbook(example, path)
    book = openpyxl.load_workbook(path)
    sheet = book["支出"]
    amount_column = next(c.column for c in sheet[1] if str(c.value).startswith("金额"))
    for row in range(2, 52):
        sheet.cell(row=row, column=amount_column, value=f"{row}万元")
    book.save(path)
    dataset, issues = load(path)
    assert dataset is None
    found = errors(issues)
    assert len(found) == 50
    assert {(i.source.file, i.source.sheet, i.source.column) for i in found} == {
        ("data.xlsx", "支出", "金额")
    }
    assert sorted(i.source.row for i in found) == list(range(2, 52))


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            '[unit]\nname = "测试局"\nyear = 二〇二〇\n',
            3,
            "第8个字符处值的写法不对（文字要加英文双引号",
        ),
        ('[unit]\nname = "测试局\nyear = 2020\n', 2, "引号没有配对"),
        ('[unit]\nname "测试局"\n', 2, "项目名后面应为“=”"),
        ('[unit]\nname = "测试局"\nname = "另一局"\n', 3, "同一项写了两次"),
        ("[unit]\nyear = 2020 2021\n", 2, "一行只能写一项"),
        ('[unit]\nname = ["测试局"\n', None, "文件末尾括号没有配对"),
    ],
)
def test_a_unit_toml_that_is_not_toml_is_said_in_chinese_with_its_line(tmp_path, text, line, words):
    dataset, issues = load(write_dataset(tmp_path / "toml", unit=text))
    assert dataset is None
    (issue,) = [i for i in errors(issues) if i.source.file == "unit.toml"]
    assert issue.source.row == line and words in issue.message
    assert 'name = "某某局"' in issue.accepted
    assert not any(c.isascii() and c.isalpha() for c in issue.message.replace("TOML", ""))


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ('["测试局"]', "一组值"),
        ('{ a = "测试局" }', "一个表"),
        ("true", "真假值"),
        ("2020-01-01", "日期"),
    ],
)
def test_a_unit_field_of_the_wrong_type_is_refused_at_its_line(tmp_path, value, kind):
    text = f'[unit]\nyear = 2020\nformat = "sichuan-2020"\nname = {value}\n'
    dataset, issues = load(write_dataset(tmp_path / "type", unit=text))
    assert dataset is None
    (issue,) = [i for i in errors(issues) if "应为一项文字或数字" in i.message]
    assert issue.source.row == 4 and issue.source.column == "name" and kind in issue.message
    assert str(issue.source) == "unit.toml 第4行 “name”列" and issue.value.startswith("name = ")


def test_a_unit_field_refused_later_names_its_line_in_unit_toml(tmp_path):
    text = '[unit]\nname = "测试局"\n\nyear = 1900\nformat = "sichuan-2020"\n'
    dataset, issues = load(write_dataset(tmp_path / "year", unit=text))
    assert dataset is None
    assert [i.source.row for i in errors(issues) if i.source.file == "unit.toml"] == [4]


@pytest.mark.parametrize(
    ("bom", "encoding"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")]
)
def test_a_utf16_csv_is_refused_saying_how_to_save_it(tmp_path, bom, encoding):
    """Excel's "Unicode 文本" is UTF-16 with a BOM (and tab-separated)."""
    from conftest import INCOME_CSV

    folder = write_dataset(tmp_path / "utf16")
    (folder / "income.csv").write_bytes(bom + INCOME_CSV.replace(",", "\t").encode(encoding))
    dataset, issues = load(folder)
    assert dataset is None
    (issue,) = errors(issues)
    assert issue.source.file == "income.csv" and "UTF-16" in issue.message
    assert "CSV UTF-8（逗号分隔）" in issue.accepted and "GB18030" in issue.accepted


def test_cells_are_read_without_surrounding_spaces(tmp_path):
    """Spaces around a cell (ASCII or full-width) are not part of it, and a cell of spaces is
    empty: in columns that repeat their values (judged on those values) as in the others."""
    padded = SPENDING_CSV.replace(",人员经费,", ", 人员经费\u3000,").replace("900.00,", " 900.00 ,")
    repeated = "".join(
        f"决算,一般公共预算财政拨款 ,2080501,30201,公用经费,,{n}.01,  \n" for n in range(1, 200)
    )
    folder = write_dataset(tmp_path / "padded", spending=padded + repeated)
    dataset, issues = load(folder)
    assert dataset is not None, [str(i) for i in issues]
    ledger = dataset.ledger
    assert ledger.total(direction="支出", nature="人员经费") == Decimal("900.00")
    assert ledger.count(fund="一般公共预算财政拨款", direction="支出") == 3 + 199
    assert ledger.frame.filter(ledger.frame["file"] == "spending.csv")["note"].null_count() == 202

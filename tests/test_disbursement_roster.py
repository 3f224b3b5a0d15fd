"""Schemes, roster (花名册) and life-event (人员变动) import: values accepted, every error placed."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric

from juesuan.disbursement.model import ACCOUNT_CHANGE, DEATH, SUSPEND, TIER_CHANGE, Month
from juesuan.disbursement.roster import (
    EVENT_HEADERS,
    ROSTER_HEADERS,
    check_account,
    check_person_id,
    read_events,
    read_roster,
    write_template,
)
from juesuan.disbursement.schemes import load_schemes, parse_schemes

FIXTURES = Path(__file__).parent / "disbursement_fixtures"
SCHEMES = load_schemes(FIXTURES / "schemes.yaml")
HEADER = ",".join(ROSTER_HEADERS)


def person_id(region: str = "510502", born: str = "19490101", serial: str = "001") -> str:
    body = region + born + serial
    return body + ric.calc_check_digit(body + "0")


def account(prefix: str = "622202020000123456") -> str:
    return prefix + luhn.calc_check_digit(prefix)


def roster_csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode("utf-8")


def only(issues, column: str):
    found = [i for i in issues if i.source.column == column]
    assert len(found) == 1, [str(i) for i in issues]
    return found[0]


# --- schemes ----------------------------------------------------------------------------------


def test_schemes_fixture_loads_with_defaults():
    assert SCHEMES.ok, [str(e) for e in SCHEMES.errors]
    teachers = SCHEMES.get("QYJS")
    assert teachers.function_code == "2089999" and teachers.economic_code == "30305"
    assert teachers.project_name == "企业教师生活补贴"
    assert teachers.standard(Month(2020, 5)) == 110000
    assert SCHEMES.get("LGB").standard(Month(2020, 5), "二档") == 62000
    assert SCHEMES.get("LXRY").project_name == "市级破产改制离休人员生活补贴"
    assert SCHEMES.find("建国初期老干部困难补贴").code == "LGB"
    assert SCHEMES.find("qyjs").code == "QYJS"


def test_scheme_amounts_never_pass_through_float():
    schemes = parse_schemes(
        "schemes:\n  - {code: A, name: 甲, payment_day: 1,"
        " standards: [{start: 2020-01, amount: 1100.10}, {start: 2020-07, amount: 0.29}]}\n"
    )
    assert schemes.ok, [str(e) for e in schemes.errors]
    assert [s.amount for s in schemes.get("A").standards] == [110010, 29]


def test_retroactive_standard_keeps_its_announced_month():
    schemes = parse_schemes(
        "schemes:\n  - {code: A, name: 甲, payment_day: 1, standards: ["
        "{start: 2020-01, amount: '1100'}, {start: 2020-03, amount: '1200', announced: 2020-06}]}\n"
    )
    assert schemes.ok, [str(e) for e in schemes.errors]
    assert schemes.get("A").standards[1].announced == Month(2020, 6)
    early = parse_schemes(
        "schemes:\n  - {code: A, name: 甲, payment_day: 1, standards: ["
        "{start: 2020-03, amount: '1200', announced: 2020-01}]}\n"
    )
    assert [e.source.column for e in early.errors] == ["schemes[0].standards[0].announced"]


def test_scheme_errors_name_the_path_inside_the_file():
    text = """
schemes:
  - {code: QYJS, name: 企业教师生活补贴, payment_day: 10, standards: [{start: "2020-01", amount: "1100"}]}
  - code: lgb
    name: 老干部
    payment_day: 31
    standards:
      - {start: "2020-13", amount: "12.345"}
      - {start: "2020-01", amount: "-5"}
"""
    schemes = parse_schemes(text, "补贴类别.yaml")
    assert schemes.schemes == ()
    where = {e.source.column: e for e in schemes.errors}
    assert set(where) == {
        "schemes[1].code",
        "schemes[1].payment_day",
        "schemes[1].standards[0].start",
        "schemes[1].standards[0].amount",
        "schemes[1].standards[1].amount",
    }
    assert all(e.source.file == "补贴类别.yaml" for e in schemes.errors)
    assert where["schemes[1].standards[0].amount"].value == "12.345"
    assert "1–28" in where["schemes[1].payment_day"].accepted


def test_scheme_duplicate_codes_and_standards_are_errors():
    text = """
schemes:
  - {code: A, name: 甲, payment_day: 1, standards: [{start: "2020-01", amount: "1"}, {start: "2020-01", amount: "2"}]}
  - {code: A, name: 乙, payment_day: 1, standards: [{start: "2020-01", amount: "1"}]}
"""
    errors = parse_schemes(text).errors
    assert {e.source.column for e in errors} == {"schemes[0].standards[1].start", "schemes[1].code"}


def test_missing_scheme_file_is_an_error_value(tmp_path):
    result = load_schemes(tmp_path / "none.yaml")
    assert not result.ok and result.errors[0].source.file == "none.yaml"


# --- 公民身份号码 and accounts ------------------------------------------------------------------


def test_valid_id_and_lower_x_normalised():
    number = person_id(serial="002")
    assert check_person_id(number) == (number, None, None)
    with_x = next(
        person_id(serial=f"{n:03d}")
        for n in range(1000)
        if person_id(serial=f"{n:03d}").endswith("X")
    )
    assert check_person_id(with_x.lower()) == (with_x, None, None)


def test_bad_checksum_is_refused():
    number = person_id()
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    found, error, _ = check_person_id(wrong)
    assert found is None and "校验位" in error


def test_bad_birth_date_is_refused_even_with_a_right_check_digit():
    number = person_id(born="19490230")
    assert ric.calc_check_digit(number) == number[-1]
    found, error, _ = check_person_id(number)
    assert found is None and "19490230" in error


def test_fifteen_digit_old_numbers_are_refused_with_a_message():
    found, error, _ = check_person_id("510502490101001")
    assert found is None and "15 位" in error and "18 位" in error


def test_region_code_newer_than_birth_year_is_accepted():
    # 510502 (江阳区) exists since 1983; people born earlier carry it on numbers issued later.
    assert check_person_id(person_id(born="19280315"))[1] is None
    found, error, warning = check_person_id(person_id(region="990000"))
    assert found and error is None and "990000" in warning


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_any_seventeen_digits_with_the_right_check_digit_and_date_pass(body):
    number = body + ric.calc_check_digit(body + "0")
    try:
        date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
        real = date(int(body[6:10]), int(body[10:12]), int(body[12:14])) <= date.today()
    except ValueError:
        real = False
    found, error, _ = check_person_id(number)
    assert (found == number) == real
    assert (error is None) == real


def test_account_luhn_failure_is_a_warning_only():
    good = account()
    assert check_account(good) == (good, None, None)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    found, error, warning = check_account(bad)
    assert found == bad and error is None and "Luhn" in warning
    assert check_account("6222 0202 0000 1234 562")[0] == "6222020200001234562"
    assert check_account("62220202")[1] and check_account("6222-0202-0000-1234")[1]
    assert check_account(6.2220202e18)[1]  # Excel turned it into a number: digits are lost


# --- roster -----------------------------------------------------------------------------------


def test_roster_fixture_reads():
    result = read_roster(FIXTURES / "roster.csv", SCHEMES)
    assert result.ok and not result.warnings
    by_name = {b.name: b for b in result.beneficiaries}
    assert by_name["李建国"].scheme == "LGB" and by_name["李建国"].tier == "一档"
    assert by_name["张秀英"].account_name == "张秀英"  # defaults to 姓名
    assert by_name["王淑芬"].account_name == "王小明"
    assert by_name["王淑芬"].start == Month(2020, 3)
    frame = result.frame()
    assert frame.height == 3 and set(frame.columns) >= {"person_id", "start", "tier"}


def test_gb18030_csv_reads():
    data = roster_csv(
        f"张秀英,{person_id()},企业教师生活补贴,,2020-01,中国工商银行泸州分行,{account()},"
    )
    result = read_roster(data.decode("utf-8").encode("gb18030"), SCHEMES, filename="花名册.csv")
    assert result.ok and result.beneficiaries[0].name == "张秀英"


def test_utf16_text_is_refused_with_how_to_save_the_file():
    data = roster_csv(
        f"张秀英,{person_id()},企业教师生活补贴,,2020-01,中国工商银行泸州分行,{account()},"
    )
    unicode_text = data.decode("utf-8").replace(",", "\t").encode("utf-16")  # with its BOM
    result = read_roster(unicode_text, SCHEMES, filename="花名册.txt.csv")
    assert not result.ok and result.beneficiaries == ()
    (problem,) = result.errors
    assert "花名册.txt.csv" in str(problem) and "UTF-16" in problem.message
    assert "CSV UTF-8（逗号分隔）" in problem.accepted


def test_luhn_failure_warns_and_still_accepts():
    bad = account()[:-1] + str((int(account()[-1]) + 1) % 10)
    result = read_roster(
        roster_csv(f"张秀英,{person_id()},QYJS,,2020-01,工商银行,{bad},"), SCHEMES, filename="a.csv"
    )
    assert result.ok and len(result.beneficiaries) == 1
    warning = only(result.warnings, "银行账号")
    assert warning.source.row == 2 and warning.value == bad


def test_duplicate_scheme_rows_name_both_rows_and_nothing_is_accepted():
    same = person_id()
    result = read_roster(
        roster_csv(
            f"张秀英,{same},QYJS,,2020-01,工商银行,{account()},",
            f"李建国,{person_id(serial='003')},QYJS,,2020-01,工商银行,{account()},",
            f"张秀英,{same.lower()},企业教师生活补贴,,2020-02,工商银行,{account()},",
            f"张秀英,{same},LXRY,,2020-02,工商银行,{account()},",
        ),
        SCHEMES,
        filename="花名册.csv",
    )
    assert result.beneficiaries == ()
    error = only(result.errors, "公民身份号码")
    assert error.source.row == 4 and "第2行" in error.message


def test_unknown_scheme_lists_the_accepted_ones():
    result = read_roster(
        roster_csv(f"张秀英,{person_id()},离休补贴,,2020-01,工商银行,{account()},"),
        SCHEMES,
        filename="花名册.csv",
    )
    error = only(result.errors, "补贴类别")
    assert error.value == "离休补贴" and error.source.row == 2
    for scheme in SCHEMES:
        assert scheme.name in error.accepted and scheme.code in error.accepted


def test_errors_carry_file_sheet_row_column_value_and_accepted(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append(list(ROSTER_HEADERS))
    sheet.append(["张秀英", person_id(), "QYJS", "", "2020-01", "工商银行", account(), ""])
    sheet.append(["李建国", "510502490101001", "LGB", "三档", "2020-13", "", 6.2284800000e18, ""])
    sheet.append([None] * 8)  # a blank row keeps Excel's numbering for the rows after it
    sheet.append(
        ["", person_id(serial="005"), "QYJS", "", datetime(2020, 4, 1), "工商银行", "1", ""]
    )
    path = tmp_path / "花名册.xlsx"
    book.save(path)
    result = read_roster(path, SCHEMES)
    assert result.beneficiaries == ()
    placed = {(e.source.row, e.source.column) for e in result.errors}
    assert placed == {
        (3, "公民身份号码"),
        (3, "档次"),
        (3, "开始发放月份"),
        (3, "开户银行"),
        (3, "银行账号"),
        (5, "姓名"),
        (5, "银行账号"),
    }
    for error in result.errors:
        assert error.source.file == "花名册.xlsx" and error.source.sheet == "花名册"
    assert all(e.accepted for e in result.errors)
    tier = next(e for e in result.errors if e.source.column == "档次")
    assert tier.value == "三档" and "一档" in tier.accepted and "二档" in tier.accepted
    month = next(e for e in result.errors if e.source.column == "开始发放月份")
    assert month.value == "2020-13" and "2020-01" in month.accepted
    assert "第3行" in str(month) and "花名册.xlsx" in str(month)


def test_a_title_row_above_the_header_is_passed_over_with_a_warning(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2020年企业教师生活补贴花名册"])
    sheet.append(list(ROSTER_HEADERS))
    sheet.append(["张秀英", person_id(), "QYJS", "", "2020-01", "工商银行", account(), ""])
    sheet.append(["李建国", "bad", "QYJS", "", "2020-01", "工商银行", account(), ""])
    path = tmp_path / "花名册.xlsx"
    book.save(path)
    result = read_roster(path, SCHEMES)
    assert [(e.source.row, e.source.column) for e in result.errors] == [(4, "公民身份号码")]
    assert [w.source.row for w in result.warnings] == [1]


def test_missing_columns_are_one_error_each():
    header = "姓名,公民身份号码,补贴类别,开户银行"
    result = read_roster(
        roster_csv(f"张秀英,{person_id()},QYJS,工商银行", header=header), SCHEMES, filename="a.csv"
    )
    assert {e.source.column for e in result.errors} == {"开始发放月份", "银行账号"}
    assert all(e.source.row == 1 for e in result.errors)


def test_unknown_column_is_a_warning_not_silence():
    result = read_roster(
        roster_csv(
            f"张秀英,{person_id()},QYJS,,2020-01,工商银行,{account()},,1949",
            header=HEADER + ",出生年份",
        ),
        SCHEMES,
        filename="a.csv",
    )
    assert result.ok
    assert only(result.warnings, "出生年份").source.row == 1


def test_template_round_trips(tmp_path):
    path = write_template(tmp_path / "花名册模板.xlsx", "roster", SCHEMES)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["花名册", "填写说明"]
    assert [c.value for c in book["花名册"][1]] == list(ROSTER_HEADERS)
    help_titles = [row[0].value for row in book["填写说明"].iter_rows(min_row=2, max_row=9)]
    assert help_titles == list(ROSTER_HEADERS)
    # A filled-in template reads back.
    sheet = book["花名册"]
    sheet.append(
        ["张秀英", person_id(), "企业教师生活补贴", None, "2020-01", "工商银行", account()]
    )
    book.save(path)
    assert read_roster(path, SCHEMES).ok
    events = openpyxl.load_workbook(write_template(tmp_path / "变动.xlsx", "events"))
    assert [c.value for c in events["人员变动"][1]] == list(EVENT_HEADERS)


# --- events -----------------------------------------------------------------------------------

EVENT_HEADER = ",".join(EVENT_HEADERS)


def events_csv(*rows: str) -> bytes:
    return ("\n".join((EVENT_HEADER, *rows)) + "\n").encode("utf-8")


def roster_of_one():
    return read_roster(
        roster_csv(f"李建国,{person_id()},LGB,一档,2020-01,工商银行,{account()},"),
        SCHEMES,
        filename="花名册.csv",
    )


def test_events_read_with_their_details():
    someone = person_id()
    new_account = account("622848000000000000")
    result = read_events(
        events_csv(
            f"{someone},LGB,死亡,2020-03-15,2020/5/3,,,,",
            f"{someone},建国初期老干部困难补贴,暂停（未资格认证）,2020年2月1日,,,,,",
            f"{someone},LGB,变更账户,20200201,,农业银行,{new_account},李小华,",
            f"{someone},LGB,变更档次,2020-02-01,,,,,二档",
        ),
        SCHEMES,
        roster_of_one(),
        filename="变动.csv",
    )
    assert result.ok, [str(e) for e in result.errors]
    death, suspend, change, tier = result.events
    assert (death.kind, death.day, death.reported) == (DEATH, date(2020, 3, 15), date(2020, 5, 3))
    assert suspend.kind == SUSPEND and suspend.day == date(2020, 2, 1)
    assert change.kind == ACCOUNT_CHANGE
    assert change.detail == {"bank": "农业银行", "account": new_account, "account_name": "李小华"}
    assert tier.kind == TIER_CHANGE and tier.detail == {"tier": "二档"}


def test_event_errors_are_placed_and_block_the_file():
    someone = person_id()
    stranger = person_id(serial="007")
    result = read_events(
        events_csv(
            f"{someone},LGB,死亡,2020-03-15,,,,,",
            f"{someone},LGB,去世,2020-02-30,2020-01-01,,,,",
            f"{someone},LGB,变更账户,2020-02-01,,,,,",
            f"{someone},LGB,变更档次,2020-02-01,,,,,五档",
            f"{stranger},LGB,恢复,2020-02-01,,,,,",
        ),
        SCHEMES,
        roster_of_one(),
        filename="变动.csv",
    )
    assert result.events == ()
    placed = {(e.source.row, e.source.column) for e in result.errors}
    assert placed == {
        (3, "变动类型"),
        (3, "生效日期"),
        (4, "开户银行"),
        (4, "银行账号"),
        (5, "档次"),
        (6, "公民身份号码"),
    }
    kind = next(e for e in result.errors if e.source.column == "变动类型")
    assert kind.value == "去世" and "死亡" in kind.accepted and "恢复" in kind.accepted


def test_report_date_before_effective_date_is_an_error():
    result = read_events(
        events_csv(f"{person_id()},LGB,死亡,2020-03-15,2020-03-01,,,,"), SCHEMES, filename="b.csv"
    )
    assert only(result.errors, "报告日期").source.row == 2


def test_events_from_xlsx_dates(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "人员变动"
    sheet.append(list(EVENT_HEADERS))
    sheet.append([person_id(), "LGB", "恢复", datetime(2020, 6, 15), date(2020, 6, 20)])
    path = tmp_path / "变动.xlsx"
    book.save(path)
    result = read_events(path, SCHEMES)
    assert result.ok and result.events[0].day == date(2020, 6, 15)
    assert result.events[0].reported == date(2020, 6, 20)


def test_unsupported_file_kind_is_an_error_value(tmp_path):
    path = tmp_path / "花名册.pdf"
    path.write_bytes(b"%PDF-1.4")
    result = read_roster(path, SCHEMES)
    assert not result.ok and result.errors[0].source.file == "花名册.pdf"


@pytest.mark.parametrize(
    "text, month",
    [("2020-01", Month(2020, 1)), ("202003", Month(2020, 3)), ("2020年12月", Month(2020, 12))],
)
def test_start_month_spellings(text, month):
    result = read_roster(
        roster_csv(f"张秀英,{person_id()},QYJS,,{text},工商银行,{account()},"),
        SCHEMES,
        filename="a.csv",
    )
    assert result.beneficiaries[0].start == month


def test_values_a_spreadsheet_would_run_as_formulas_are_refused_by_cell(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append(list(ROSTER_HEADERS))
    rows = [
        ["=cmd|' /C calc'!A0", person_id(serial="001"), "QYJS", "", "2020-01", "工行", account()],
        ["张秀英", person_id(serial="002"), "QYJS", "", "2020-01", "@SUM(1+1)", account()],
        ["王淑芬", person_id(serial="003"), "QYJS", "", "2020-01", "工行", account()],
        ["赵志强", person_id(serial="004"), "QYJS", "", "2020-01", "工行", account()],
        ["+1", person_id(serial="005"), "QYJS", "", "2020-01", "工行", account()],
        ["-2", person_id(serial="006"), "QYJS", "", "2020-01", "工行", account()],
        ["陈玉珍", person_id(serial="008"), "QYJS", "", "2020-01", "中国银行-泸州分行", account()],
    ]
    names = ['=HYPERLINK("http://example.invalid","点我")', "\t=1+1"]
    for row, account_name in zip(rows, ["", "", *names, "", "", ""], strict=True):
        sheet.append([*row, account_name])
    for line in sheet.iter_rows():
        for cell in line:
            cell.data_type = "s"  # kept as the text typed, as a clerk's pasted value is
    path = tmp_path / "花名册.xlsx"
    book.save(path)
    result = read_roster(path, SCHEMES)
    assert result.beneficiaries == ()  # nothing of a file with errors is taken
    refused = {(e.source.row, e.source.column): e for e in result.errors}
    assert set(refused) == {
        (2, "姓名"),
        (3, "开户银行"),
        (4, "账户名"),
        (5, "账户名"),
        (6, "姓名"),
        (7, "姓名"),
    }
    name = refused[(2, "姓名")]
    assert name.value == "=cmd|' /C calc'!A0" and name.source.file == "花名册.xlsx"
    assert "公式" in name.message and "不以 = + - @" in name.accepted
    assert refused[(3, "开户银行")].value == "@SUM(1+1)"
    assert refused[(5, "账户名")].value == "\t=1+1"
    assert "第4行" in str(refused[(4, "账户名")])

    # the same rows without them are taken, a hyphen inside a bank's name included
    clean = read_roster(
        roster_csv(
            f"陈玉珍,{person_id(serial='008')},QYJS,,2020-01,中国银行-泸州分行,{account()},"
        ),
        SCHEMES,
        filename="花名册.csv",
    )
    assert clean.errors == () and clean.beneficiaries[0].bank == "中国银行-泸州分行"


def test_an_account_change_to_a_formula_is_refused():
    someone = person_id()
    result = read_events(
        events_csv(f"{someone},LGB,变更账户,2020-02-01,,=1+2,{account()},@A1,"),
        SCHEMES,
        roster_of_one(),
        filename="变动.csv",
    )
    assert result.events == ()
    placed = {(e.source.row, e.source.column): e.value for e in result.errors}
    assert placed == {(2, "开户银行"): "=1+2", (2, "账户名"): "@A1"}

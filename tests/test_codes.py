from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from juesuan.codes import (
    Code,
    CodeProblem,
    CodeTable,
    economic_codes,
    function_codes,
    load_code_table,
)

# Every function code the 2020 Luzhou reference case needs.
LUZHOU_FUNCTION_CODES = {
    "208": "社会保障和就业支出",
    "20801": "人力资源和社会保障管理事务",
    "2080107": "社会保险业务管理事务",
    "2080109": "社会保险经办机构",
    "20805": "行政事业单位养老支出",
    "2080501": "行政单位离退休",
    "2080502": "事业单位离退休",
    "2080505": "机关事业单位基本养老保险缴费支出",
    "2080506": "机关事业单位职业年金缴费支出",
    "2080599": "其他行政事业单位养老支出",
    "20808": "抚恤",
    "2080801": "死亡抚恤",
    "20899": "其他社会保障和就业支出",
    "2089999": "其他社会保障和就业支出",
    "210": "卫生健康支出",
    "21011": "行政事业单位医疗",
    "2101101": "行政单位医疗",
    "2101103": "公务员医疗补助",
    "2101199": "其他行政事业单位医疗支出",
    "221": "住房保障支出",
    "22102": "住房改革支出",
    "2210201": "住房公积金",
    "2210203": "购房补贴",
}


def _code(code: str, name: str) -> Code:
    levels = {3: "类", 5: "款", 7: "项"}
    parent = code[:-2] if len(code) > 3 else None
    return Code(code, name, levels[len(code)], parent, "high", "test")


# -- shipped tables ---------------------------------------------------------------------------


def test_2020_function_table_has_every_luzhou_code() -> None:
    table = function_codes(2020)
    assert table.kind == "function"
    for code, name in LUZHOU_FUNCTION_CODES.items():
        assert table.name(code) == name, code


def test_supplement_rows_are_unverified_and_shared_rows_keep_their_confidence() -> None:
    table = function_codes(2020)
    social = table.get("2080109")
    assert social is not None
    assert social.confidence == "unverified"
    assert "泸州市社会保险事业管理局" in social.source
    pension = table.get("2080501")
    assert pension is not None
    assert pension.confidence == "high"
    assert pension.source.startswith("shared/data/codes 2024; sources ")
    assert table.get("2010101").confidence == "medium"  # code sources only in shared/
    # shared rows, the Luzhou supplement, and the 15 classes of 2020 that shared/ lacks
    # (202, 203, 211, 213, 214, 217, 219, 222, 223, 224, 229, 231, 232, 233, 234)
    assert len(table) == 121 + 5 + 15


def test_economic_table_has_the_example_items() -> None:
    table = economic_codes(2020)
    assert table.kind == "economic"
    assert len(table) == 100
    assert table.name("30305") == "生活补助"
    assert table.name("30311") == "代缴社会保险费"
    assert table.name("30213") == "维修（护）费"
    assert table.level("30101") == "款"
    assert table.parent("30101") == "301"
    assert table.level("3010101") is None  # economic has no 项


def test_shipped_tables_are_cached_per_year() -> None:
    assert function_codes(2020) is function_codes(2020)
    assert function_codes(2024).year == 2024
    assert function_codes(2024).name("2080109") == "社会保险经办机构"


def test_year_must_be_a_plausible_integer() -> None:
    with pytest.raises(ValueError, match="年度"):
        function_codes(1999)
    with pytest.raises(ValueError, match="年度"):
        economic_codes("2020")  # type: ignore[arg-type]


# -- lookup -----------------------------------------------------------------------------------


def test_lookup_name_level_parent() -> None:
    table = function_codes(2020)
    code = table.get("2080109")
    assert code == Code(
        "2080109", "社会保险经办机构", "项", "20801", "unverified", code.source if code else ""
    )
    assert table.level("208") == "类"
    assert table.level("20801") == "款"
    assert table.level("2080109") == "项"
    assert table.level("2099999") == "项"  # unknown but well-formed
    assert table.level("208010") is None
    assert table.level("20a01") is None
    assert table.parent("2080109") == "20801"
    assert table.parent("20801") == "208"
    assert table.parent("208") is None
    assert table.parent("2080") is None
    assert table.name("2099999") is None
    assert "2080109" in table
    assert "2080199" not in table
    assert " 208 01 09 " in table  # printed with spaces
    assert "２０８０１０９" in table  # full-width digits


def test_children_and_order() -> None:
    table = function_codes(2020)
    assert [c.code for c in table.children("20801")] == ["2080107", "2080109"]
    assert [c.code for c in table.children("21011")] == [
        "2101101",
        "2101102",
        "2101103",
        "2101199",
    ]
    assert "20801" in [c.code for c in table.children("208")]
    assert all(c.level == "款" for c in table.children("208"))
    assert table.children("2080109") == []
    # 20101 has no row of its own but its items are still its children
    assert "20101" not in table
    assert [c.code for c in table.children("20101")] == ["2010101", "2010102"]
    codes = [c.code for c in table]
    assert codes == sorted(codes)
    assert codes.index("208") < codes.index("20801") < codes.index("2080107") < codes.index("20805")


# -- closest and check ------------------------------------------------------------------------


def test_closest_suggests_siblings_under_a_known_parent() -> None:
    table = function_codes(2020)
    near = table.closest("2080199")
    assert [c.code for c in near[:2]] == ["2080107", "2080109"]
    assert len(near) == 3
    assert [c.code for c in table.closest("2101104", n=2)] == ["2101101", "2101102"]


def test_closest_uses_the_name() -> None:
    table = function_codes(2020)
    # wrong class digit, right name: the named code comes first
    assert table.closest("2090109", "社会保险经办机构")[0].code == "2080109"
    # among siblings, the most similar name first
    assert table.closest("2101104", "公务员医疗补助费")[0].code == "2101103"


def test_check_passes_known_codes_with_matching_names() -> None:
    table = function_codes(2020)
    assert table.check("2080109") is None
    assert table.check("2080109", "社会保险经办机构") is None
    assert table.check("2080109", " 社会保险经办机构 ") is None
    assert table.check("2080109", "社会保险经办机构（项）") is None
    economic = economic_codes(2020)
    assert economic.check("30213", "维修(护)费") is None  # half-width brackets
    assert economic.check("30212", "因公出国 (境) 费用") is None


def test_check_unknown_code_lists_closest_with_names() -> None:
    problem = function_codes(2020).check("2080199")
    assert isinstance(problem, CodeProblem)
    assert problem.code == "2080199"
    assert problem.reason == "unknown"
    assert problem.message.startswith(
        "功能分类科目编码“2080199”不在2020年科目表中；最接近的有："
        "2080107 社会保险业务管理事务、2080109 社会保险经办机构、"
    )
    assert [c.code for c in problem.suggestions][:2] == ["2080107", "2080109"]
    assert "内置科目表不全" in problem.message


def test_check_misnamed_code_gives_the_right_name() -> None:
    problem = function_codes(2020).check("2080501", "行政单位退休")
    assert problem is not None
    assert problem.reason == "name"
    assert problem.message == "科目编码“2080501”的名称应为“行政单位离退休”，填的是“行政单位退休”"
    economic = economic_codes(2020).check("30239", "其他交通费")
    assert economic is not None
    assert economic.message == "科目编码“30239”的名称应为“其他交通费用”，填的是“其他交通费”"


def test_check_name_of_another_code_points_to_it() -> None:
    problem = function_codes(2020).check("2080505", "行政单位离退休")
    assert problem is not None
    assert problem.message.startswith(
        "科目编码“2080505”的名称应为“机关事业单位基本养老保险缴费支出”"
    )
    assert problem.message.endswith("；名称“行政单位离退休”对应的编码是2080501")
    assert [c.code for c in problem.suggestions] == ["2080501"]


def test_check_malformed_codes() -> None:
    table = function_codes(2020)
    for bad in ("208010", "2080", "20801090", "2o8", "", "30101-1"):
        problem = table.check(bad)
        assert problem is not None, bad
        assert problem.reason == "malformed"
        assert problem.message == f"科目编码“{bad}”格式不对：功能分类应为3/5/7位数字"
    problem = economic_codes(2020).check("3010101")
    assert problem is not None
    assert problem.message == "科目编码“3010101”格式不对：经济分类应为3/5位数字"


def test_merged_overrides_and_extends() -> None:
    base = function_codes(2020)
    official = CodeTable(
        "function",
        [_code("2080109", "社会保险经办机构（新）"), _code("2080101", "行政运行")],
        year=2020,
        complete=True,
    )
    merged = base.merged(official)
    assert merged.name("2080109") == "社会保险经办机构（新）"
    assert merged.name("2080101") == "行政运行"
    assert merged.name("2080501") == "行政单位离退休"
    assert len(merged) == len(base) + 1
    assert base.name("2080109") == "社会保险经办机构"  # the cached table is untouched
    problem = merged.check("2080199")
    assert problem is not None
    assert "最接近的有：2080101 行政运行" in problem.message
    assert "内置科目表不全" not in problem.message  # an official table was merged in
    with pytest.raises(ValueError, match="不能合并"):
        base.merged(economic_codes(2020))


# -- loading files ----------------------------------------------------------------------------


def test_load_csv_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "科目表.csv"
    text = "科目编码,科目名称\r\n208,社会保障和就业支出\r\n20801,人力资源和社会保障管理事务\r\n"
    text += "2080109,社会保险经办机构\r\n\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    table = load_code_table(path, "function", year=2021)
    assert [c.code for c in table] == ["208", "20801", "2080109"]
    code = table.get("2080109")
    assert code is not None
    assert code.name == "社会保险经办机构"
    assert code.level == "项"
    assert code.parent == "20801"
    assert code.confidence == "high"
    assert code.source == "科目表.csv 第4行"
    problem = table.check("2080199")
    assert problem is not None
    assert "不在2021年科目表中" in problem.message


def test_load_csv_with_all_columns_and_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "economic.csv"
    text = "code,name,level,parent,confidence,source\n301,工资福利支出,类,,high,x\n"
    text += "30101,基本工资,款,301,medium,y\n"
    path.write_bytes(text.encode("gb18030"))
    table = load_code_table(str(path), "economic")
    assert table.get("30101") == Code("30101", "基本工资", "款", "301", "medium", "y")


def test_load_xlsx_first_sheet_with_title_row(tmp_path: Path) -> None:
    path = tmp_path / "official.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["2020年支出功能分类科目"])
    sheet.append(["编码", "名称"])
    sheet.append([208, "社会保障和就业支出"])  # numeric cells, as Excel stores them
    sheet.append([20801, "人力资源和社会保障管理事务"])
    sheet.append(["2080101", "行政运行"])
    workbook.create_sheet("other").append(["编码", "名称"])
    workbook.save(path)
    table = load_code_table(path, "function")
    assert [c.code for c in table] == ["208", "20801", "2080101"]
    assert [c.code for c in table.children("20801")] == ["2080101"]
    assert table.get("2080101").source == "official.xlsx 第5行"


def test_corrupt_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "坏文件.xlsx"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ValueError) as info:
        load_code_table(path, "function")
    message = str(info.value)
    assert "坏文件.xlsx" in message
    assert "Excel" in message
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_csv_without_code_column_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "no_code.csv"
    path.write_text("名称,金额\n社会保险经办机构,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no_code\.csv.*缺少表头.*编码"):
        load_code_table(path, "function")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "code,name\n208010,x\n",
            r"第2行A列（code）：科目编码“208010”格式不对：功能分类应为3/5/7位数字",
        ),
        ("code,name\n208,\n", r"第2行B列（name）：科目编码“208”没有名称"),
        ("code,name,level\n208,社会保障和就业支出,款\n", r"第2行C列（level）：.*级次应为“类”"),
        (
            "code,name,parent\n2080109,社会保险经办机构,20805\n",
            r"第2行C列（parent）：.*上级编码应为“20801”",
        ),
        ("code,name\n208,a\n\n208,b\n", r"第4行B列（name）：.*重复出现"),
        ("code,name,confidence\n208,a,sure\n", r"第2行C列（confidence）：可信度"),
        ("code,name\n", r"只有表头"),
        ("", r"是空的"),
        ('code,name\n208,"a\n', r"科目表文件“t\.csv”"),
    ],
)
def test_bad_csv_rows_name_file_and_row(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=expected) as info:
        load_code_table(path, "function")
    assert "t.csv" in str(info.value)


def test_binary_csv_missing_file_and_unknown_type(tmp_path: Path) -> None:
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\x00\xff\xfe\x81\x00" * 50)
    with pytest.raises(ValueError, match=r"bin\.csv"):
        load_code_table(binary, "function")
    with pytest.raises(ValueError, match=r"找不到科目表文件“missing\.csv”"):
        load_code_table(tmp_path / "missing.csv", "function")
    other = tmp_path / "codes.json"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match=r"codes\.json"):
        load_code_table(other, "function")
    with pytest.raises(ValueError, match="function"):
        load_code_table(binary, "revenue")

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from juesuan.cli import main
from juesuan.codes import (
    Code,
    CodeProblem,
    CodeTable,
    class_names,
    describe,
    economic_codes,
    function_codes,
    import_table,
    load_code_table,
    shipped_codes,
    stored_table,
    summary_classes,
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


# -- years: the 总表 classes and their names ----------------------------------------------------


def _labels(year: int) -> list[str]:
    return [code.label for code in summary_classes(year)]


def test_2018_summary_prints_the_old_class_names() -> None:
    labels = _labels(2018)
    assert len(labels) == 20
    assert "207 文化体育与传媒支出" in labels
    assert "210 医疗卫生与计划生育支出" in labels
    assert "220 国土海洋气象等支出" in labels
    assert not any(label.startswith(("224 ", "231 ", "234 ")) for label in labels)
    assert function_codes(2018).name("207") == "文化体育与传媒支出"
    assert function_codes(2018).name("210") == "医疗卫生与计划生育支出"


def test_2019_renames_and_adds_disaster_management() -> None:
    labels = _labels(2019)
    assert "207 文化旅游体育与传媒支出" in labels
    assert "210 卫生健康支出" in labels
    assert "224 灾害防治及应急管理支出" in labels
    assert not any(label.startswith(("231 ", "232 ", "234 ")) for label in labels)
    assert function_codes(2019).name("210") == "卫生健康支出"


def test_2024_summary_has_the_debt_rows_in_the_published_order() -> None:
    labels = _labels(2024)
    assert len(labels) == 26  # as 普陀区委社会工作部 2024 prints its 收入支出决算总表
    assert labels[-4:] == [
        "229 其他支出",
        "231 债务还本支出",
        "232 债务付息支出",
        "234 抗疫特别国债安排的支出",
    ]
    # 债务发行费用支出 is a known class of the year, but no 总表 here prints it
    issuing = function_codes(2024).get("233")
    assert issuing is not None and issuing.confidence == "unverified"
    assert "233" not in [code.code for code in summary_classes(2024)]


def test_every_class_row_says_where_it_comes_from() -> None:
    for year in (2017, 2018, 2019, 2020, 2024):
        for code in summary_classes(year):
            assert code.confidence in ("high", "medium", "unverified"), code
            assert code.source.startswith("function_classes.csv 第"), code
    names = dict(class_names())
    assert ("207", "文化体育与传媒支出") in class_names()
    assert ("207", "文化旅游体育与传媒支出") in class_names()
    assert names["231"] == "债务还本支出"


# -- the user's code store --------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JUESUAN_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data" / "codes"


OFFICIAL_2024 = (
    "2024年支出功能分类科目\n"
    "功能分类科目编码,功能分类科目名称,说明\n"
    "208,社会保障和就业支出,\n"
    "20801,人力资源和社会保障管理事务,\n"
    "2080101,行政运行,\n"
    "2080109,社会保险经办机构（新）,改名\n"
    "210,卫生健康支出,\n"
)


def test_import_reports_changes_and_lookups_use_it(tmp_path: Path, store: Path) -> None:
    source = tmp_path / "财政部2024.csv"
    source.write_text(OFFICIAL_2024, encoding="utf-8")
    assert stored_table("function", 2024) is None
    report = import_table(source, "function", 2024)
    assert report.stored == store / "function-2024.csv" and report.stored.is_file()
    assert [c.code for c in report.added] == ["2080101"]
    assert [(old.name, new.name) for old, new in report.renamed] == [
        ("社会保险经办机构", "社会保险经办机构（新）")
    ]
    assert len(report.removed) == len(shipped_codes("function", 2024)) - 4
    assert report.unchanged == 3
    lines = report.lines()
    assert lines[0] == "已导入2024年功能分类科目表：财政部2024.csv（5 个科目：类 2、款 1、项 2）"
    assert "新增 1 个，改名 1 个" in lines[2]
    assert "  2080109 社会保险经办机构 → 社会保险经办机构（新）" in lines
    # lookups for 2024 now use the imported table; other years and the shipped table do not
    table = function_codes(2024)
    assert table.complete and len(table) == 5
    assert table.name("2080109") == "社会保险经办机构（新）"
    assert function_codes(2023).name("2080109") == "社会保险经办机构"
    assert shipped_codes("function", 2024).name("2080109") == "社会保险经办机构"
    problem = table.check("2080199")
    assert problem is not None
    assert str(store / "function-2024.csv") in problem.message
    assert "juesuan codes import 财政部科目表.xlsx --year 2024 --kind function" in problem.message
    assert "内置科目表不全" not in problem.message
    assert "已导入的科目表" in describe("function", 2024)
    assert "导入自 财政部2024.csv" in describe("function", 2024)
    assert describe("economic", 2024).startswith("2024年经济分类：用的是内置科目表")


def test_unknown_code_names_the_shipped_table_and_the_import_command(store: Path) -> None:
    problem = economic_codes(2022).check("39999")
    assert problem is not None
    assert "查的是内置2022年经济分类科目表，内置科目表不全" in problem.message
    assert "juesuan codes import 财政部科目表.xlsx --year 2022 --kind economic" in problem.message


def test_import_xlsx_economic(tmp_path: Path, store: Path) -> None:
    source = tmp_path / "经济分类.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["科目代码", "科目名称"])
    sheet.append([301, "工资福利支出"])
    sheet.append([30101, "基本工资"])
    sheet.append([399, "其他支出"])
    workbook.save(source)
    report = import_table(source, "economic", 2021)
    assert [c.code for c in report.added] == ["399"]
    assert economic_codes(2021).name("399") == "其他支出"
    assert economic_codes(2021).get("30101").source == "经济分类.xlsx 第3行"


def test_a_bad_file_changes_nothing_and_names_every_bad_cell(tmp_path: Path, store: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(OFFICIAL_2024, encoding="utf-8")
    import_table(good, "function", 2024)
    kept = (store / "function-2024.csv").read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "科目编码,科目名称\n208,社会保障和就业支出\n20801x,人力\n,社会保险经办机构\n2080109,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as info:
        import_table(bad, "function", 2024)
    message = str(info.value)
    assert message.startswith("科目表文件“bad.csv”有3处错误：")
    assert "第3行A列（科目编码）：科目编码“20801x”格式不对" in message
    assert "第4行A列（科目编码）：没有科目编码（名称为“社会保险经办机构”）" in message
    assert "第5行B列（科目名称）：科目编码“2080109”没有名称" in message
    assert (store / "function-2024.csv").read_bytes() == kept
    with pytest.raises(ValueError):
        import_table(bad, "function", 2023)
    assert not (store / "function-2023.csv").exists()
    assert sorted(p.name for p in store.iterdir()) == ["function-2024.csv"]  # no scratch left


def test_summary_classes_take_the_imported_names(tmp_path: Path, store: Path) -> None:
    source = tmp_path / "2018.csv"
    source.write_text("编码,名称\n207,文化体育与传媒支出（官方）\n", encoding="utf-8")
    import_table(source, "function", 2018)
    assert _labels(2018)[6] == "207 文化体育与传媒支出（官方）"


def test_cli_codes_import_and_show(
    tmp_path: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "财政部2024.csv"
    source.write_text(OFFICIAL_2024, encoding="utf-8")
    assert main(["codes", "import", str(source), "--year", "2024"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("已导入2024年功能分类科目表：财政部2024.csv")
    assert main(["codes", "show", "--year", "2024"]) == 0
    out = capsys.readouterr().out
    assert f"用的是已导入的科目表 {store / 'function-2024.csv'}" in out
    assert "2024年收入支出决算总表的类级科目（26 个）" in out
    assert "  232 债务付息支出（佐证不足）" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("编码,名称\n2o8,x\n", encoding="utf-8")
    assert main(["codes", "import", str(bad), "--year", "2024"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("未导入，科目库没有改动：科目表文件“bad.csv”第2行A列（编码）")
    assert function_codes(2024).name("2080109") == "社会保险经办机构（新）"


def test_a_damaged_imported_table_stops_a_command_with_its_name(
    tiny: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store.mkdir(parents=True)
    (store / "function-2020.csv").write_text("code,name\n2o8,x\n", encoding="utf-8")
    assert main(["check", str(tiny)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"已导入的2020年功能分类科目表（{store / 'function-2020.csv'}）无法读取："
    )
    assert "第2行A列（code）" in err and "删除该文件改用内置科目表" in err

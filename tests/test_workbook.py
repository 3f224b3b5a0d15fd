"""The workbook form: template, reading, problems reported as issues, and round trips."""

from __future__ import annotations

import dataclasses
import importlib.util
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from juesuan.ledger.export import table_rows, unit_rows, write_folder, write_workbook
from juesuan.ledger.issues import ERROR, WARNING, Source
from juesuan.ledger.model import (
    Checkpoint,
    Dataset,
    DepartmentScore,
    Fact,
    Indicator,
    Ledger,
    Line,
    Measure,
    Procurement,
    Project,
    ProjectGoal,
    ThreePublic,
    Unit,
)
from juesuan.ledger.raw import ROW, normalise_header
from juesuan.ledger.schema import (
    PHASES,
    SPENDING_TABLE,
    TABLES,
)
from juesuan.ledger.workbook import read_workbook
from juesuan.money import parse_yuan

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "luzhou-2020"
SHEETS = ["填表说明", "单位信息", *(t.title for t in TABLES), "文字说明", "代码表"]


# ---- a small dataset written inline ----------------------------------------------------------


def _line(direction: str, amount: str, **tags: object) -> Line:
    values = {
        "unit": "测试单位",
        "year": 2020,
        "direction": direction,
        "phase": "决算",
        "fund": "一般公共预算财政拨款",
        "function_code": None,
        "economic_code": None,
        "nature": None,
        "project": None,
        **tags,
    }
    return Line(amount=Decimal(amount), source=Source("t"), **values)


@pytest.fixture
def dataset() -> Dataset:
    src = Source("t")
    lines = [
        _line("支出", "1234.50", function_code="2080109", economic_code="30101", nature="人员经费"),
        _line("支出", "0.07", function_code="2080109", economic_code="30201", nature="公用经费"),
        _line(
            "支出",
            "56000.00",
            function_code="2089999",
            economic_code="30305",
            nature="项目支出",
            project="企业教师生活补贴",
            phase="年初预算",
        ),
        _line("收入", "57234.57", function_code="2080109", note="含=号开头的备注不是公式"),
        _line("年初结转和结余", "100.00"),
        _line("年末结转和结余", "-3.20", fund="事业收入", function_code="208"),
    ]
    return Dataset(
        unit=Unit(name="测试单位", year=2020, code="001234", kind="事业单位"),
        ledger=Ledger.from_lines(lines),
        three_public=(
            ThreePublic(
                "国内公务接待费",
                "一般公共预算财政拨款",
                Decimal("5900.00"),
                Decimal("5900.00"),
                5,
                56,
                src,
                "接待",
            ),
            ThreePublic(
                "因公出国（境）费",
                "一般公共预算财政拨款",
                Decimal("0.00"),
                Decimal("0.00"),
                0,
                0,
                src,
            ),
        ),
        procurement=(Procurement("服务", Decimal("1000.10"), Decimal("1000.10"), None, src),),
        facts={
            "机关运行经费": Fact("机关运行经费", Decimal("1394000.00"), src),
            "编制人数": Fact("编制人数", 57, src, "含工勤"),
            "部门整体绩效自评得分": Fact("部门整体绩效自评得分", Decimal("79.6"), src),
        },
        prior_year={"208": Fact("208", Decimal("240805200.00"), src)},
        projects={"企业教师生活补贴": Project("企业教师生活补贴", "P001", "代发补贴", None, src)},
        reasons={("同比变动", "收支总计"): "代发资金划转"},
        texts={"主要职能": "负责社会保险经办。\n\n第二段。", "机构设置": "内设科室8个。"},
        indicators=(
            Indicator(
                "企业教师生活补贴",
                "项目完成指标",
                "质量指标",
                "失败退回率",
                "<1%",
                direction="<",
                unit="%",
                weight=Decimal("6.25"),
                actual="<1%",
                actual_source="计算:失败退回率",
                note="=号、<号开头的文字不是公式",
            ),
            Indicator(
                "企业教师生活补贴",
                "效益指标",
                "社会效益指标",
                "保障根本利益",
                "确保及时到账",
                direction="定性",
                actual="确保及时到账",
                tier="达成",
                score=Decimal("15"),
                reason="无",
            ),
            Indicator("企业教师生活补贴", "产出指标", "数量指标", "发放人数", "644"),
        ),
        project_goals={
            "企业教师生活补贴": ProjectGoal(
                "企业教师生活补贴", "完成代发。", "完成代发。", "人数减少。", "合理测算。", "86.33%"
            )
        },
        monitoring=(
            Checkpoint("企业教师生活补贴", "2020-06", 6, Decimal("43.17"), Decimal("50")),
            Checkpoint(None, "9月", 9, Decimal("77.35"), None, "无", "无", "合成"),
        ),
        department_scores=(
            DepartmentScore("预算编制/预算编制科学性", Decimal("8"), "说明", "合成"),
            DepartmentScore("B2"),
        ),
        performance_data=(
            Measure("企业教师生活补贴", "发放人数", 644),
            Measure("企业教师生活补贴", "发放金额", Decimal("9496800.00")),
            Measure("企业教师生活补贴", "人均月数", Decimal("11.5")),
            Measure("代发几类", "发放人数", None, ("企业教师生活补贴", "建国初期老干部困难补贴")),
        ),
    )


def _expected_texts(dataset: Dataset) -> dict[str, list[dict[str, str | None]]]:
    """What each table's cells should read back as, amounts normalised to Decimal."""
    result = {}
    for table in TABLES:
        rows = []
        for row in table_rows(dataset)[table.key]:
            rows.append({c.key: _normal(c.kind, row.get(c.key)) for c in table.columns})
        result[table.key] = rows
    return result


def _normal(kind: str, value: object) -> object:
    if value is None:
        return None
    if kind == "amount":
        return parse_yuan(value)
    if kind == "number":
        return Decimal(str(value))
    return str(value)


def _frame_texts(frame: pl.DataFrame, table) -> list[dict[str, object]]:
    rows = []
    for record in frame.iter_rows(named=True):
        rows.append({c.key: _normal(c.kind, record.get(c.key)) for c in table.columns})
    return rows


# ---- the template ----------------------------------------------------------------------------


def test_template_sheets_headers_and_dropdowns(tmp_path: Path) -> None:
    out = write_workbook(None, tmp_path / "模板.xlsx")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == SHEETS
    assert book["代码表"].sheet_state == "hidden"
    assert book.active.title == "填表说明"

    spending = book["支出"]
    headers = [normalise_header(c.value) for c in spending[1]]
    titles = [c.title + ("（元）" if c.kind == "amount" else "") for c in SPENDING_TABLE.columns]
    assert headers == titles
    assert spending.freeze_panes == "A2"
    assert spending["A1"].font.b
    assert "*" in str(spending["B1"].value)  # 资金来源 is required
    assert "*" not in str(spending["A1"].value)  # 阶段 is not

    by_column = {}
    for validation in spending.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            by_column[cell_range.min_col] = (validation, cell_range)
    phase, phase_range = by_column[1]
    assert phase.type == "list"
    assert phase_range.min_row == 2 and phase_range.max_row >= 2001
    sheet, cells = phase.formula1.split("!")
    assert sheet.strip("'") == "代码表"
    listed = [c.value for row in book["代码表"][cells.replace("$", "")] for c in row]
    assert tuple(listed) == PHASES
    code, _ = by_column[3]  # 功能分类科目编码: unknown codes may be typed, with a warning
    assert code.type == "list" and code.errorStyle == "warning"
    assert book["填表说明"]["A1"].value == "部门决算数据填报说明"


def test_template_reads_back_with_only_the_empty_unit_reported(tmp_path: Path) -> None:
    raw = read_workbook(write_workbook(None, tmp_path / "t.xlsx"))
    assert set(raw.tables) == {t.key for t in TABLES}
    assert all(t.frame.height == 0 for t in raw.tables.values())
    assert [(i.severity, i.source.sheet) for i in raw.issues] == [(ERROR, "单位信息")]


# ---- reading a hand-made workbook ------------------------------------------------------------


def _book(sheets: dict[str, list[list[object]]], path: Path) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


UNIT = [["项目", "内容"], ["单位名称", "测试单位"], ["年度", 2020], ["yoy_reason_threshold", 0.1]]


def test_reads_handmade_workbook(tmp_path: Path) -> None:
    path = _book(
        {
            "单位信息": UNIT,
            "收入": [
                ["资金来源", "功能分类科目编码", "金额（元）", "备注"],
                ["一般公共预算财政拨款", 2080109, 1234.5, date(2021, 3, 1)],
                [None, None, None, None],
                ["事业收入", "208", 0.1 + 0.2, "  带空格  "],
            ],
            "支出": [
                ["阶段", "资金来源", "科目编码", "支出性质", "金额"],
                [None, "一般公共预算财政拨款", "2080109", "人员经费", 100],
            ],
            "文字说明": [["标题", "内容"], ["主要职能", "第一行\n第二行"]],
        },
        tmp_path / "手工.xlsx",
    )
    raw = read_workbook(path)
    assert raw.issues == []
    assert raw.unit == {"name": "测试单位", "year": "2020", "yoy_reason_threshold": "0.1"}
    assert raw.unit_source == Source("手工.xlsx", "单位信息")
    assert raw.texts == {"主要职能": "第一行\n第二行"}
    income = raw.tables["income"]
    assert (income.file, income.sheet) == ("手工.xlsx", "收入")
    assert income.frame.to_dicts() == [
        {
            "fund": "一般公共预算财政拨款",
            "function_code": "2080109",
            "amount": "1234.5",
            "note": "2021-03-01",
            ROW: 2,
        },
        {"fund": "事业收入", "function_code": "208", "amount": "0.3", "note": "带空格", ROW: 4},
    ]
    spending = raw.tables["spending"].frame
    assert spending.columns == ["phase", "fund", "function_code", "nature", "amount", ROW]
    assert spending.row(0) == (None, "一般公共预算财政拨款", "2080109", "人员经费", "100", 2)


def test_sheet_and_header_problems_are_specific(tmp_path: Path) -> None:
    path = _book(
        {
            "单位信息": UNIT,
            "收入": [["功能分类科目编码", "金额（万元）"], ["2080109", 1.5]],
            "支出表": [["阶段"], ["决算"]],
            "Sheet1": [],
        },
        tmp_path / "错.xlsx",
    )
    issues = read_workbook(path).issues
    found = {(i.severity, i.source.sheet, i.source.column, i.message) for i in issues}
    assert (ERROR, "收入", "资金来源", "缺少必填列") in found
    assert (ERROR, "收入", "金额", "缺少必填列") in found
    wan = [i for i in issues if i.source.column == "金额（万元）"]
    assert len(wan) == 1 and wan[0].severity == ERROR and "万元" in wan[0].message
    unknown = [i for i in issues if i.source.sheet == "支出表"]
    assert [(i.severity, i.message) for i in unknown] == [(WARNING, "未识别的工作表，其内容已忽略")]
    missing = [i for i in issues if i.source.sheet == "支出"]
    assert len(missing) == 1 and missing[0].severity == ERROR
    assert "错.xlsx" in missing[0].message and "“支出”" in missing[0].message
    assert "支出" in missing[0].accepted.split("、") and "收入" in missing[0].accepted
    assert not any(i.source.sheet == "Sheet1" for i in issues)  # an empty stray sheet is harmless


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(b"this is not a workbook at all"), "不是有效的 Excel 工作簿"),
        (lambda p: p.write_bytes(b""), "空文件"),
        (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), "密码"),
        (lambda p: _zip(p, {"readme.txt": "hello"}), "不是有效的 Excel 工作簿"),
        (
            lambda p: _zip(p, {"[Content_Types].xml": "<Types", "xl/workbook.xml": "<broken"}),
            "不是有效的 Excel 工作簿",
        ),
    ],
    ids=["garbage", "empty", "encrypted", "zip-without-workbook", "broken-xml"],
)
def test_unreadable_file_is_one_clear_error(tmp_path: Path, make, words: str) -> None:
    path = tmp_path / "坏文件.xlsx"
    make(path)
    raw = read_workbook(path)
    assert len(raw.issues) == 1
    issue = raw.issues[0]
    assert issue.severity == ERROR and words in issue.message and "坏文件.xlsx" in issue.message
    assert raw.tables == {} and raw.unit == {}


def test_truncated_workbook_and_missing_file(tmp_path: Path, dataset: Dataset) -> None:
    good = write_workbook(dataset, tmp_path / "好.xlsx").read_bytes()
    cut = tmp_path / "截断.xlsx"
    cut.write_bytes(good[: len(good) // 2])
    for path in (cut, tmp_path / "没有.xlsx"):
        issues = read_workbook(path).issues
        assert len(issues) == 1 and issues[0].severity == ERROR and path.name in issues[0].message


# ---- writing ---------------------------------------------------------------------------------


def test_table_rows_split_order_and_names(dataset: Dataset) -> None:
    rows = table_rows(dataset)
    assert [r["amount"] for r in rows["spending"]] == [
        Decimal("56000.00"),  # 年初预算 first
        Decimal("1234.50"),
        Decimal("0.07"),
    ]
    assert rows["income"][0]["amount"] == Decimal("57234.57")
    assert [(r["kind"], r["amount"]) for r in rows["balances"]] == [
        ("年初结转和结余", Decimal("100.00")),
        ("年末结转和结余", Decimal("-3.20")),
    ]
    if importlib.util.find_spec("juesuan.codes") is not None:
        assert rows["spending"][1]["economic_name"] == "基本工资"
    assert [r["key"] for r in rows["facts"]] == ["机关运行经费", "编制人数", "部门整体绩效自评得分"]
    assert dict((c.key, t) for c, t in unit_rows(dataset))["year"] == "2020"


def test_workbook_round_trip_keeps_every_cell(tmp_path: Path, dataset: Dataset) -> None:
    raw = read_workbook(write_workbook(dataset, tmp_path / "数据.xlsx"))
    assert raw.issues == []
    expected = _expected_texts(dataset)
    for table in TABLES:
        frame = raw.tables[table.key].frame
        assert frame[ROW].to_list() == list(range(2, frame.height + 2))
        assert _frame_texts(frame, table) == expected[table.key], table.key
    assert raw.texts == dict(dataset.texts)
    assert raw.unit == {c.key: t for c, t in unit_rows(dataset) if t}
    assert raw.unit["code"] == "001234"  # leading zeros survive


def test_amount_beyond_excel_precision_is_kept_exactly(tmp_path: Path, dataset: Dataset) -> None:
    big = Decimal("98765432109876543.21")
    changed = dataclasses.replace(
        dataset, facts={"机关运行经费": Fact("机关运行经费", big, Source("t"))}
    )
    raw = read_workbook(write_workbook(changed, tmp_path / "大.xlsx"))
    assert raw.tables["facts"].frame["value"].to_list() == [str(big)]
    book = openpyxl.load_workbook(tmp_path / "大.xlsx")
    assert book["支出"]["I3"].value == 1234.5 and book["支出"]["I3"].number_format == "#,##0.00"
    assert book["支出"]["C3"].data_type == "s"  # codes are text


def test_write_folder_is_atomic_and_refuses_to_overwrite(tmp_path: Path, dataset: Dataset) -> None:
    target = tmp_path / "out"
    write_folder(dataset, target)
    spending = (target / "spending.csv").read_text(encoding="utf-8").splitlines()
    header = spending[0].split(",")
    assert header[0] == "阶段"
    assert spending[2].split(",")[header.index("金额")] == "1234.50"
    assert (target / "texts" / "主要职能.md").read_text(encoding="utf-8").startswith("负责")
    with pytest.raises(FileExistsError):
        write_folder(dataset, target)
    bad = dataclasses.replace(dataset, texts={"a/b": "x"})
    with pytest.raises(ValueError, match="标题"):
        write_folder(bad, target, overwrite=True)
    assert (target / "unit.toml").exists()  # a refused write changed nothing
    write_folder(dataset, target, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folders left


# ---- the example, through both forms ---------------------------------------------------------


def _lines(dataset: Dataset) -> pl.DataFrame:
    frame = dataset.ledger.frame.drop("file", "sheet", "row")
    return frame.sort(frame.columns, nulls_last=True)


def _facts(dataset: Dataset) -> dict[str, object]:
    def plain(value: object) -> object:
        return {
            f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name != "source"
        }

    return {
        "unit": dataset.unit,
        "facts": {k: plain(v) for k, v in dataset.facts.items()},
        "prior_year": {k: plain(v) for k, v in dataset.prior_year.items()},
        "projects": {k: plain(v) for k, v in dataset.projects.items()},
        "reasons": dict(dataset.reasons),
        "three_public": sorted((plain(v) for v in dataset.three_public), key=str),
        "procurement": sorted((plain(v) for v in dataset.procurement), key=str),
        "texts": dict(dataset.texts),
        "indicators": [plain(v) for v in dataset.indicators],
        "project_goals": {k: plain(v) for k, v in dataset.project_goals.items()},
        "monitoring": [plain(v) for v in dataset.monitoring],
        "department_scores": [plain(v) for v in dataset.department_scores],
        "performance_data": [plain(v) for v in dataset.performance_data],
    }


def test_example_round_trip_through_workbook_and_folder(tmp_path: Path) -> None:
    if importlib.util.find_spec("juesuan.ledger.load") is None:
        pytest.skip("juesuan.ledger.load is not written yet")
    if not (EXAMPLE / "unit.toml").exists():
        pytest.skip("examples/luzhou-2020 is not written yet")
    from juesuan.ledger.load import load

    original, issues = load(EXAMPLE)
    assert original is not None, [str(i) for i in issues]
    xlsx = write_workbook(original, tmp_path / "luzhou.xlsx")
    from_xlsx, issues = load(xlsx)
    assert from_xlsx is not None, [str(i) for i in issues]
    folder = write_folder(from_xlsx, tmp_path / "luzhou")
    from_folder, issues = load(folder)
    assert from_folder is not None, [str(i) for i in issues]

    assert len(original.ledger) > 0
    assert len(original.indicators) == 53 and len(original.performance_data) > 0
    for other in (from_xlsx, from_folder):
        assert _lines(other).equals(_lines(original))
        assert _facts(other) == _facts(original)
    sheets = set(from_xlsx.ledger.frame["sheet"].unique().to_list())
    assert sheets <= {"收入", "支出", "结转结余"}  # sources name the sheet a line came from

import json
import shutil
import zipfile

import docx
import pytest

from juesuan.cli import main

from conftest import EXAMPLE, write_dataset


def test_check_example_passes_and_prints_a_chinese_report(capsys):
    assert main(["check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "泸州市社会保险事业管理局 2020 年度决算" in out
    assert "结论：没有致命问题，可以发布。" in out


def test_check_json_lists_every_outcome(capsys):
    assert main(["check", str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["publishable"] is True
    assert data["summary"]["failed_by_tier"]["FATAL"] == 0
    assert [o for o in data["outcomes"] if o["status"] == "fail"] == []
    assert len(data["outcomes"]) == data["summary"]["total"] > 40
    first = data["outcomes"][0]
    assert {
        "rule",
        "tier",
        "status",
        "message",
        "actual",
        "expected",
        "difference",
        "involved",
    } <= set(first)


def test_fatal_failure_exits_1_and_names_the_rule(tmp_path, capsys):
    folder = _broken_copy(tmp_path)
    assert main(["check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "total-balance" in out and "相差 100.00 元" in out and "不能发布" in out


def test_unreadable_input_exits_2_with_every_error(tmp_path, capsys):
    folder = write_dataset(
        tmp_path / "bad",
        spending="阶段,资金来源,功能分类科目编码,经济分类科目编码,支出性质,项目名称,金额\n"
        "决算,一般公共预算财政拨款,2080501,30302,人员经费,,12万\n"
        "决算,一般公共预算财政拨款,2080501,30302,人员经费,,abc\n",
    )
    assert main(["check", str(folder)]) == 2
    out = capsys.readouterr().out
    assert "spending.csv 第2行 “金额”列" in out and "spending.csv 第3行 “金额”列" in out
    assert "共 2 处错误" in out and "未保存任何数据" in out
    assert "Traceback" not in out


def test_missing_path_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "none"), "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert "找不到" in data["import_issues"][0]["message"]


def test_consolidate_writes_a_dataset_that_checks(tmp_path, capsys):
    second = write_dataset(
        tmp_path / "second",
        unit='[unit]\nname = "第二单位"\nyear = 2020\nformat = "sichuan-2020"\n',
    )
    out = tmp_path / "dept"
    assert main(["consolidate", str(EXAMPLE), str(second), "-o", str(out)]) == 0
    assert "已写出部门汇总数据集" in capsys.readouterr().out
    assert main(["check", str(out), "--json"]) in (0, 1)
    data = json.loads(capsys.readouterr().out)
    assert data["dataset"]["lines"] == 138 + 5
    assert not [o for o in data["outcomes"] if o["status"] == "fail" and o["tier"] == "FATAL"]


def _broken_copy(tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(EXAMPLE, folder)
    income = folder / "income.csv"
    income.write_text(
        income.read_text(encoding="utf-8") + "决算,事业收入,2080109,,100.00,\n", encoding="utf-8"
    )
    return folder


def test_build_writes_tables_checks_and_manifest(tmp_path, capsys):
    import hashlib

    import openpyxl

    out = tmp_path / "pkg"
    assert main(["build", str(EXAMPLE), "-o", str(out)]) == 0
    assert (
        "2020年度泸州市社会保险事业管理局部门决算附表.xlsx（公开附表）" in capsys.readouterr().out
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["draft"] is False and manifest["format"] == "sichuan-2020"
    roles = [o["role"] for o in manifest["outputs"]]
    assert set(roles) == {"tables", "figures", "document-docx", "document-pdf", "html", "checks"}
    assert roles.count("figures") == 12  # 图1–图6, PNG and SVG
    for output in manifest["outputs"]:
        assert hashlib.sha256((out / output["path"]).read_bytes()).hexdigest() == output["sha256"]
    from juesuan import fonts

    # the fonts: which file drew what, bundled first (the machine's fonts only fill gaps)
    used = {f["file"]: f for f in manifest["fonts"]}
    assert used["JuesuanNotoSerifSC-Regular.otf"]["used_by"] == ["pdf"]
    assert used["JuesuanNotoSansSC-Regular.otf"]["used_by"] == ["pdf", "figures"]
    assert used["JuesuanNotoSansSC-Bold.otf"]["faces"] == ["JuesuanNotoSansSC-Bold"]
    for record in manifest["fonts"]:
        assert record["source"] == "bundled"
        data = (fonts.BUNDLED_DIR / record["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record["sha256"]
    inputs = {i["path"]: i["sha256"] for i in manifest["inputs"]}
    assert (
        inputs["spending.csv"]
        == hashlib.sha256((EXAMPLE / "spending.csv").read_bytes()).hexdigest()
    )
    checks = json.loads((out / "checks.json").read_text(encoding="utf-8"))
    assert checks["publishable"] is True and checks["summary"]["failed_by_tier"]["FATAL"] == 0
    text_checks = [o for o in checks["outcomes"] if o["rule"] == "text-vs-table"]
    assert len(text_checks) > 100 and all(o["status"] == "pass" for o in text_checks)
    package = out / "2020年度泸州市社会保险事业管理局部门决算公开包.zip"
    with zipfile.ZipFile(package) as bundle:
        names = set(bundle.namelist())
    assert {o["path"] for o in manifest["outputs"]} | {"manifest.json"} == names
    book = openpyxl.load_workbook(
        out / "2020年度泸州市社会保险事业管理局部门决算附表.xlsx", read_only=True
    )
    assert len(book.sheetnames) == 14 + 3  # the tables, then the three kinds of 绩效 form
    sentence = "收、支总计各减少 18394.43 万元，同比下降 76.39%"
    html = (out / "2020年度泸州市社会保险事业管理局部门决算.html").read_text(encoding="utf-8")
    assert "18394.43" in html and "76.39" in html and 'src="http' not in html
    word = docx.Document(out / "2020年度泸州市社会保险事业管理局部门决算.docx")
    assert any(sentence in p.text for p in word.paragraphs)
    import pypdfium2

    pdf = pypdfium2.PdfDocument(out / "2020年度泸州市社会保险事业管理局部门决算.pdf")
    text = "".join(page.get_textpage().get_text_range() for page in pdf)
    assert all(s in text for s in ("5686.09", "76.39%", "目录"))


def test_build_national_nine(tmp_path):
    import openpyxl

    out = tmp_path / "n9"
    assert main(["build", str(EXAMPLE), "-o", str(out), "--format", "national-9"]) == 0
    book = openpyxl.load_workbook(next(out.glob("*.xlsx")), read_only=True)
    assert len(book.sheetnames) == 9 and book.sheetnames[6].startswith("七 财政拨款“三公”经费")


def test_build_refuses_on_fatal_unless_draft(tmp_path, capsys):
    broken = _broken_copy(tmp_path)
    out = tmp_path / "refused"
    assert main(["build", str(broken), "-o", str(out)]) == 1
    assert "未生成" in capsys.readouterr().out and not out.exists()
    draft = tmp_path / "draft"
    assert main(["build", str(broken), "-o", str(draft), "--draft"]) == 1
    manifest = json.loads((draft / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["draft"] is True
    assert "草稿" in capsys.readouterr().out


def test_build_into_a_file_is_a_clear_error(tmp_path, capsys):
    target = tmp_path / "out.txt"
    target.write_text("x", encoding="utf-8")
    assert main(["build", str(EXAMPLE), "-o", str(target)]) == 2
    assert "应为文件夹" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "x"


# ---- the output folder: written whole, under safe names, never over an input -----------------


def _unit(name: str) -> str:
    return f'[unit]\nname = "{name}"\nyear = 2020\nformat = "sichuan-2020"\n'


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_build_that_fails_midway_leaves_the_previous_package_intact(tmp_path, monkeypatch):
    import juesuan.publish.pdf

    out = tmp_path / "pkg"
    first = write_dataset(tmp_path / "first", unit=_unit("甲单位"))
    assert main(["build", str(first), "-o", str(out)]) == 0
    before = _files(out)
    second = write_dataset(tmp_path / "second", unit=_unit("乙单位"))

    def broken(document, path):  # after the figures, the workbook and the Word file
        path.write_bytes(b"%PDF-half")
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(juesuan.publish.pdf, "write_pdf", broken)
    with pytest.raises(RuntimeError):
        main(["build", str(second), "-o", str(out)])
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "pkg", "second"]


def test_unit_names_with_a_slash_or_300_characters_build_with_readable_names(
    tmp_path, capsys, monkeypatch
):
    out = tmp_path / "pkg"
    slashed = write_dataset(tmp_path / "slashed", unit=_unit("社保局/本级"))
    assert main(["build", str(slashed), "-o", str(out)]) == 0
    assert (out / "2020年度社保局／本级部门决算附表.xlsx").is_file()
    assert (out / "2020年度社保局／本级部门决算公开包.zip").is_file()

    long_name = "四川省泸州市社会保险事业管理局" * 20
    long = write_dataset(tmp_path / "long", unit=_unit(long_name))
    monkeypatch.chdir(out)
    assert main(["build", str(long), "-o", "."]) == 0  # replaces the previous package whole
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["unit"] == long_name
    names = [p.name for p in out.iterdir()]
    assert not any("社保局" in n for n in names)
    for name in names:
        assert len(name.encode()) <= 255
    tables = next(n for n in names if n.endswith("附表.xlsx"))
    assert tables.startswith("2020年度四川省泸州市社会保险事业管理局四川省") and "…" in tables
    archive = next(out.glob("*公开包.zip"))
    with zipfile.ZipFile(archive) as bundle:
        assert set(bundle.namelist()) == {o["path"] for o in manifest["outputs"]} | {
            "manifest.json"
        }
    assert archive.name in capsys.readouterr().out


def test_a_build_replaces_the_previous_package_and_keeps_the_users_other_files(tmp_path, capsys):
    out = tmp_path / "pkg"
    (out / "附件").mkdir(parents=True)
    notes = {"我的笔记.txt": "别删".encode(), "附件/说明.txt": b"keep"}
    for name, content in notes.items():
        (out / name).write_bytes(content)
    inode = (out / "我的笔记.txt").stat().st_ino
    first = write_dataset(tmp_path / "first", unit=_unit("甲单位"))
    assert main(["build", str(first), "-o", str(out)]) == 0
    second = write_dataset(tmp_path / "second", unit=_unit("乙单位"))
    assert main(["build", str(second), "-o", str(out)]) == 0
    files = _files(out)
    assert {name: files[name] for name in notes} == notes
    assert (out / "我的笔记.txt").stat().st_ino == inode  # the same file, not a copy
    assert not [name for name in files if "甲单位" in name]  # the previous package went whole
    assert any(name.startswith("2020年度乙单位") for name in files)

    mine = tmp_path / "mine"  # a file of the user's named as one of the package's
    mine.mkdir()
    (mine / "checks.json").write_text("我的", encoding="utf-8")
    capsys.readouterr()
    assert main(["build", str(second), "-o", str(mine)]) == 2
    assert "“checks.json”" in capsys.readouterr().err
    assert _files(mine) == {"checks.json": "我的".encode()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "mine", "pkg", "second"]


def test_build_refuses_a_folder_of_other_work(tmp_path, capsys):
    out = tmp_path / "home"
    out.mkdir()
    for number in range(1001):
        (out / f"{number}.txt").write_text("x", encoding="utf-8")
    dataset = write_dataset(tmp_path / "ds", unit=_unit("甲单位"))
    assert main(["build", str(dataset), "-o", str(out)]) == 2
    assert "1001 项" in capsys.readouterr().err
    assert len(list(out.iterdir())) == 1001
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "home"]


def test_commands_refuse_an_output_that_is_or_holds_an_input(tmp_path, capsys):
    a = write_dataset(tmp_path / "data" / "a", unit=_unit("甲单位"))
    b = write_dataset(tmp_path / "data" / "b", unit=_unit("乙单位"))
    before = _files(tmp_path)
    for into_a, into_b in ((a, b), (a / "汇总", b / "x.xlsx"), (tmp_path / "data",) * 2):
        merge = ["consolidate", str(a), str(b), "-o", str(into_a), "--overwrite"]
        assert main(merge) == 2
        assert f"与输入 {a}" in capsys.readouterr().err
        assert main(["export", str(b), str(into_b), "--overwrite"]) == 2
        assert f"与输入 {b}" in capsys.readouterr().err
    assert main(["build", str(a), "-o", str(a / "公开包")]) == 2
    assert f"与输入 {a}" in capsys.readouterr().err
    assert _files(tmp_path) == before
    report = tmp_path / "公开文本.txt"
    report.write_text("本年收入合计 100.00 万元。", encoding="utf-8")
    before = _files(tmp_path)
    assert main(["audit", str(report), "--html", str(report)]) == 2
    assert f"与输入 {report}" in capsys.readouterr().err
    assert _files(tmp_path) == before


def test_disburse_year_pays_the_example_and_reproduces_its_ledger(tmp_path, capsys):
    import shutil

    import openpyxl

    dataset = tmp_path / "dataset"
    shutil.copytree(EXAMPLE, dataset)
    # typed-over figures for the year's lines: the year's payments put the real ones back
    spending = (dataset / "spending.csv").read_text(encoding="utf-8")
    (dataset / "spending.csv").write_text(spending.replace(",9496800.00,", ",1.00,"), "utf-8")
    figures = (dataset / "performance_data.csv").read_text(encoding="utf-8")
    (dataset / "performance_data.csv").write_text(figures.replace(",7728,", ",1,"), "utf-8")
    out = tmp_path / "year"
    year = str(EXAMPLE / "disbursement")
    code = main(["disburse-year", year, "-o", str(out), "--update-dataset", str(dataset)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "644      7728            949.68         3     0.0388%  企业教师生活补贴" in printed
    assert "资金守恒：成立" in printed
    for name in ("spending.csv", "performance_data.csv"):
        assert (dataset / name).read_bytes() == (EXAMPLE / name).read_bytes(), name
    december = openpyxl.load_workbook(out / "资金申请表_202012.xlsx").active
    rows = [[c for c in row if c is not None] for row in december.iter_rows(values_only=True)]
    assert any("企业教师生活补贴" in row for row in rows)
    assert len(list((out / "银行文件").glob("*.result.csv"))) >= 36  # 3 schemes × 12 months


def test_disburse_year_refuses_a_missing_folder_and_a_full_output(tmp_path, capsys):
    assert main(["disburse-year", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == 2
    assert "找不到代发资料文件夹" in capsys.readouterr().err
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "x").write_text("x")
    assert main(["disburse-year", str(EXAMPLE / "disbursement"), "-o", str(tmp_path / "o")]) == 2
    assert "--overwrite" in capsys.readouterr().err
    year = str(EXAMPLE / "disbursement")
    out = str(tmp_path / "new")
    assert main(["disburse-year", year, "-o", out, "--update-dataset", str(tmp_path)]) == 2
    assert "缺少 spending.csv、performance_data.csv" in capsys.readouterr().err


def test_disburse_year_replaces_its_output_whole_or_not_at_all(tmp_path, capsys, monkeypatch):
    import shutil

    import juesuan.disbursement.statistics as statistics

    year = tmp_path / "disbursement"
    shutil.copytree(EXAMPLE / "disbursement", year)
    out = tmp_path / "o"
    out.mkdir()
    (out / "上次.txt").write_text("上次的结果", encoding="utf-8")
    before = _files(tmp_path)
    # the output inside the input folder would swap the input away
    assert main(["disburse-year", str(year), "-o", str(year / "结果"), "--overwrite"]) == 2
    assert f"与输入 {year}" in capsys.readouterr().err
    # a failure after the bank files were written: nothing of this run is left, the old stays
    real = statistics.write_fund_request
    calls = []

    def failing(lines, month, path):
        calls.append(month)
        if len(calls) == 6:
            raise OSError(28, "No space left on device")
        return real(lines, month, path)

    monkeypatch.setattr(statistics, "write_fund_request", failing)
    with pytest.raises(OSError):
        main(["disburse-year", str(year), "-o", str(out), "--overwrite"])
    assert len(calls) == 6
    assert _files(tmp_path) == before
    monkeypatch.setattr(statistics, "write_fund_request", real)
    # an input that cannot be read: the message, and the old output untouched
    roster = year / "roster.csv"
    roster.write_text(
        roster.read_text(encoding="utf-8").replace("512502193601248358", "5125021936", 1), "utf-8"
    )
    before = _files(tmp_path)
    assert main(["disburse-year", str(year), "-o", str(out), "--overwrite"]) == 1
    assert "代发年度未能完成" in capsys.readouterr().err
    assert _files(tmp_path) == before
    # a run that succeeds replaces the folder as a whole
    shutil.copy(EXAMPLE / "disbursement" / "roster.csv", roster)
    assert main(["disburse-year", str(year), "-o", str(out), "--overwrite"]) == 0
    assert not (out / "上次.txt").exists()
    assert (out / "资金申请表_202012.xlsx").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".juesuan-")] == []

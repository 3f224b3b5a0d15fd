"""Bank adapters: batch files out, result files in, for every shipped adapter."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from juesuan.disbursement.banks import (
    PAID,
    RETURNED,
    AdapterError,
    BatchHeader,
    BatchItem,
    Outcome,
    adapter_ids,
    check_adapter,
    get_adapter,
    load_adapter,
    read_results,
    reason,
    validate_pain001,
    write_batch,
    write_results,
)
from juesuan.disbursement.banks.fields import format_amount, parse_amount
from juesuan.disbursement.model import Month, PaymentKey, Reference, person_key

FIXTURES = Path(__file__).parent / "bank_fixtures"
HEADER = BatchHeader(
    payer_name="泸州市社会保险事业管理局",
    payer_account="51001234567890",
    payer_bank="中国工商银行泸州分行",
    payer_code="LZSB",
    batch_id="B202003001",
    scheme="QYJS",
    month=Month(2020, 3),
    execution_date=date(2020, 3, 20),
    created=datetime(2020, 3, 18, 9, 30),
)


def ref(n: int, sequence: int = 1) -> str:
    return PaymentKey("QYJS", f"1101051949{n:08d}", Month(2020, 3), sequence).reference(
        person_key(n)
    )


def item(n: int, name: str, amount_fen: int) -> BatchItem:
    return BatchItem(
        ref(n),
        name,
        f"62220212{n:010d}",
        name,
        "工商银行泸州分行",
        amount_fen,
        "2020年3月企业退休教师补贴",
        f"1101051949{n:08d}",
    )


ITEMS = [
    item(1, "张三", 110000),
    item(2, "欧阳娜娜", 1),
    item(3, "李四", 123456789012),
    item(4, "王五", 98050),
    item(5, "赵六", 110000),
]
# returns: wrong account, name mismatch, closed account
RETURNS = {ref(2): "AC01", ref(4): "BE01", ref(5): "AC04"}


def outcomes(items=ITEMS) -> list[Outcome]:
    return [
        Outcome(
            i.reference,
            i.amount_fen,
            RETURNED if i.reference in RETURNS else PAID,
            RETURNS.get(i.reference, ""),
            bank_serial=f"SN{n:06d}",
            name=i.name,
            account=i.account,
        )
        for n, i in enumerate(items)
    ]


@pytest.mark.parametrize("adapter_id", ["generic-csv", "fixed-txt", "excel", "pain001"])
def test_every_shipped_adapter_round_trips(tmp_path: Path, adapter_id: str) -> None:
    assert adapter_id in adapter_ids()
    adapter = get_adapter(adapter_id)
    batch = write_batch(adapter, HEADER, iter(ITEMS), tmp_path / adapter.file_name(HEADER))
    assert batch.ok, batch.problems
    assert batch.count == 5
    assert batch.total_fen == sum(i.amount_fen for i in ITEMS)
    assert batch.path.is_file() and len(batch.sha256) == 64
    assert batch.file_name == adapter.file_name(HEADER)

    sent = write_results(adapter, HEADER, outcomes(), tmp_path / adapter.result_file_name(HEADER))
    assert sent.ok, sent.problems
    result = read_results(adapter, sent.path)
    assert result.ok, [str(p) for p in result.problems]
    assert [r.reference for r in result.rows] == [i.reference for i in ITEMS]
    assert [r.amount_fen for r in result.rows] == [i.amount_fen for i in ITEMS]
    assert {r.reference: r.reason_code for r in result.returned} == RETURNS
    # the simulator writes the adapter's own wording for a code, else the code's Chinese text
    wording = {
        "generic-csv": ["账号不存在", "户名不符", "账户已销户"],
        "excel": ["账号不存在", "户名不符", "账户已销户"],
        "fixed-txt": ["账号错误", "户名与账号不符", "账户已销户"],
        "pain001": ["账号错误", "户名与账号不符", "账户已销户"],
    }
    assert [r.reason_text for r in result.returned] == wording[adapter_id]
    assert all(
        r.status == PAID and r.reason_code == "" for r in result.rows if r.reference not in RETURNS
    )
    assert [r.bank_serial for r in result.rows] == [f"SN{n:06d}" for n in range(5)]
    assert result.rows[1].parsed == Reference("QYJS", "P000000002", Month(2020, 3), 1)
    assert result.paid_fen + result.returned_fen == batch.total_fen
    lines = [r.line for r in result.rows]
    assert lines == sorted(lines) and len(set(lines)) == 5


def test_generic_csv_is_gb18030_with_header_totals_and_exact_amounts(tmp_path: Path) -> None:
    adapter = get_adapter("generic-csv")
    batch = write_batch(adapter, HEADER, ITEMS, tmp_path / "b.csv")
    data = batch.path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    lines = data.decode("gb18030").split("\r\n")
    assert lines[0].startswith("付款单位,泸州市社会保险事业管理局,")
    assert lines[1] == "合计,5,1234571070.63"  # 1100.00 + 0.01 + 1234567890.12 + 980.50 + 1100.00
    assert lines[2].split(",")[:3] == ["序号", "业务编号", "姓名"]
    rows = [line.split(",") for line in lines[3:8]]
    assert [r[7] for r in rows] == ["1100.00", "0.01", "1234567890.12", "980.50", "1100.00"]
    assert rows[1][2] == "欧阳娜娜"
    assert rows[1][3] == "110105********0002"  # masked 公民身份号码
    assert lines[8] == ""


def test_fixed_width_counts_bytes_of_gb18030(tmp_path: Path) -> None:
    adapter = get_adapter("fixed-txt")
    rare = "𠀀"  # outside the BMP: four bytes in GB18030
    items = [item(1, "张三", 110000), item(2, "欧阳娜娜", 1), item(3, "王" + rare, 250)]
    batch = write_batch(adapter, HEADER, items, tmp_path / "b.txt")
    assert batch.ok, batch.problems
    widths = [c.width for c in adapter.batch.columns]
    raw_lines = batch.path.read_bytes().split(b"\r\n")
    body = raw_lines[1:4]
    assert all(len(line) == sum(widths) for line in body)
    start = sum(widths[:3])  # 序号, 业务编号, 收款账号 before 户名
    names = [line[start : start + widths[3]] for line in body]
    assert names[0] == "张三".encode("gb18030") + b" " * 36
    assert names[1] == "欧阳娜娜".encode("gb18030") + b" " * 32
    assert names[2] == ("王" + rare).encode("gb18030") + b" " * 34
    amount = sum(widths[:4])
    assert body[1][amount : amount + 15] == b"000000000000001"
    totals = raw_lines[0]
    assert totals.startswith(b"H") and totals.endswith(b"0000000003" + b"00000000000110251")


def test_a_name_wider_than_its_column_is_an_error_naming_the_person(tmp_path: Path) -> None:
    adapter = get_adapter("fixed-txt")
    target = tmp_path / "b.txt"
    target.write_bytes(b"previous file")
    long_name = "阿卜杜热合曼·买买提明·艾合买提江·吐尔逊"  # 21 characters (· too): 42 bytes > 40
    batch = write_batch(adapter, HEADER, [item(1, "张三", 100), item(2, long_name, 100)], target)
    assert not batch.ok and batch.path is None
    (problem,) = batch.problems
    assert long_name in problem.message and ref(2) in problem.message
    assert "42 字节" in problem.message and "40 字节" in problem.message
    assert problem.column == "户名"
    assert target.read_bytes() == b"previous file"  # untouched: nothing half-written
    assert [p.name for p in tmp_path.iterdir()] == ["b.txt"]


@pytest.mark.parametrize(
    ("amount", "message"),
    [(-100, "负数"), (0, "为 0"), (1100.0, "整数分"), ("1100.00", "整数分")],
)
def test_bad_amounts_are_refused(tmp_path: Path, amount, message: str) -> None:
    bad = item(1, "张三", 1)._replace(amount_fen=amount)
    batch = write_batch(get_adapter("generic-csv"), HEADER, [bad], tmp_path / "b.csv")
    assert not batch.ok
    assert message in batch.problems[0].message and "张三" in batch.problems[0].message
    assert not (tmp_path / "b.csv").exists()


def test_pain001_validates_against_the_official_xsd_and_a_broken_one_does_not(
    tmp_path: Path,
) -> None:
    adapter = get_adapter("pain001")
    batch = write_batch(adapter, HEADER, ITEMS, tmp_path / "b.xml")
    assert batch.ok
    assert validate_pain001(batch.path) == []
    tree = etree.parse(str(batch.path))
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    assert tree.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=ns) == "5"
    assert tree.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == "1234571070.63"
    assert len(tree.findall(".//p:PmtInf", namespaces=ns)) == 1
    ids = [e.text for e in tree.findall(".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId", namespaces=ns)]
    assert ids == [i.reference for i in ITEMS]
    amounts = tree.findall(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", namespaces=ns)
    assert [(a.text, a.get("Ccy")) for a in amounts][1] == ("0.01", "CNY")

    # an element out of the schema's order makes the file invalid
    broken = tmp_path / "broken.xml"
    first = tree.find(".//p:CdtTrfTxInf", namespaces=ns)
    first.append(first.find("p:PmtId", namespaces=ns))
    tree.write(str(broken), xml_declaration=True, encoding="UTF-8")
    problems = validate_pain001(broken)
    assert problems and "PmtId" in problems[0].message and problems[0].line


def test_pain002_says_which_batch_and_reads_iso_statuses(tmp_path: Path) -> None:
    adapter = get_adapter("pain001")
    sent = write_results(adapter, HEADER, outcomes(), tmp_path / "r.xml")
    text = sent.path.read_text(encoding="utf-8")
    assert "<OrgnlMsgId>B202003001</OrgnlMsgId>" in text
    assert text.count("<TxSts>RJCT</TxSts>") == 3 and text.count("<TxSts>ACSC</TxSts>") == 2
    text = text.replace("<TxSts>ACSC</TxSts>", "<TxSts>ACCP</TxSts>", 1)
    sent.path.write_text(text, encoding="utf-8")
    result = read_results(adapter, sent.path)
    assert result.ok and result.batch_id == "B202003001"
    assert [r.status for r in result.rows].count(PAID) == 2


def test_a_real_bank_csv_maps_the_banks_own_words_to_reason_codes() -> None:
    result = read_results(get_adapter("generic-csv"), FIXTURES / "generic-csv-result.csv")
    assert result.ok, [str(p) for p in result.problems]
    got = [(r.status, r.reason_code, r.reason_text, r.amount_fen, r.line) for r in result.rows]
    assert got == [
        (PAID, "", "", 110000, 2),
        (RETURNED, "AC01", "账号不存在", 110000, 3),
        (RETURNED, "BE01", "户名不符", 98050, 4),
        (RETURNED, "NARR", "卡片已挂失", 110000, 5),  # wording no adapter knows is kept, as NARR
    ]
    assert result.rows[1].bank_serial == "20200320000002"


def _csv_result(tmp_path: Path, rows: list[str], totals: str | None) -> Path:
    lines = ["业务编号,姓名,收款账号,金额,处理结果,失败原因,银行流水号", *rows]
    if totals is not None:
        lines.append(totals)
    path = tmp_path / "result.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    return path


def test_bad_result_rows_are_reported_by_line_and_column_and_yield_nothing(tmp_path: Path) -> None:
    path = _csv_result(
        tmp_path,
        [
            f"{ref(1)},张三,1,1100.00,成功,,",
            "QYJS-12345-202003-1,李四,2,1100.00,成功,,",
            f"{ref(3)},王五,3,1100.5,成功,,",
            f"{ref(4)},赵六,4,1100.00,处理中,,",
        ],
        "合计,4,4400.50",
    )
    result = read_results(get_adapter("generic-csv"), path)
    assert not result.ok and len(result.rows) == 0
    found = {(p.line, p.column) for p in result.problems}
    assert found == {(3, "业务编号"), (4, "金额"), (5, "处理结果")}
    by_line = {p.line: p for p in result.problems}
    assert "QYJS-12345-202003-1" in by_line[3].snippet and "人员编号" in by_line[3].message
    assert "1100.5" in by_line[4].message and "两位小数" in by_line[4].message
    assert "成功" in by_line[5].message and "失败" in by_line[5].message  # what is accepted
    assert str(by_line[5]).startswith("result.csv，第5行，“处理结果”：")


def test_a_truncated_csv_result_is_caught_by_its_totals(tmp_path: Path) -> None:
    rows = [f"{ref(1)},张三,1,1100.00,成功,,", f"{ref(2)},李四,2,1100.00,成功,,"]
    cut = read_results(get_adapter("generic-csv"), _csv_result(tmp_path, rows, None))
    assert not cut.ok and "合计行" in cut.problems[0].message
    short = read_results(get_adapter("generic-csv"), _csv_result(tmp_path, rows, "合计,3,3300.00"))
    assert not short.ok
    assert "3 笔" in short.problems[0].message and "2 笔" in short.problems[0].message


def test_a_duplicated_reference_is_an_error(tmp_path: Path) -> None:
    rows = [f"{ref(1)},张三,1,1100.00,成功,,", f"{ref(1)},张三,1,1100.00,失败,账号不存在,"]
    result = read_results(get_adapter("generic-csv"), _csv_result(tmp_path, rows, "合计,2,2200.00"))
    assert not result.ok and {p.line for p in result.problems} == {2, 3}


def test_a_result_file_in_the_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    path = _csv_result(tmp_path, [f"{ref(1)},张三,1,1100.00,成功,,"], "合计,1,1100.00")
    path.write_bytes(path.read_bytes().replace("张三".encode("gb18030"), b"\xff\xff"))
    result = read_results(get_adapter("generic-csv"), path)
    assert (
        not result.ok and result.problems[0].line == 2 and "gb18030" in result.problems[0].message
    )


def test_truncated_pain002_gives_the_line(tmp_path: Path) -> None:
    adapter = get_adapter("pain001")
    sent = write_results(adapter, HEADER, outcomes(), tmp_path / "r.xml")
    data = sent.path.read_bytes()
    sent.path.write_bytes(data[: len(data) * 2 // 3])
    result = read_results(adapter, sent.path)
    assert not result.ok and len(result.rows) == 0
    assert "截断" in result.problems[0].message and result.problems[0].line > 1


def test_pain002_with_an_unknown_status_or_bad_amount(tmp_path: Path) -> None:
    adapter = get_adapter("pain001")
    sent = write_results(adapter, HEADER, outcomes(), tmp_path / "r.xml")
    text = sent.path.read_text(encoding="utf-8")
    text = text.replace("<TxSts>ACSC</TxSts>", "<TxSts>PDNG</TxSts>", 1)
    text = text.replace(">0.01</InstdAmt>", ">0.015</InstdAmt>")
    sent.path.write_text(text, encoding="utf-8")
    result = read_results(adapter, sent.path)
    messages = {p.line: p.message for p in result.problems}
    assert len(messages) == 2 and not result.rows
    assert any("PDNG" in m and "RJCT" in m for m in messages.values())
    assert any("0.015" in m for m in messages.values())


def test_fixed_width_result_with_a_short_line(tmp_path: Path) -> None:
    adapter = get_adapter("fixed-txt")
    sent = write_results(adapter, HEADER, outcomes(), tmp_path / "r.ret")
    lines = sent.path.read_bytes().split(b"\r\n")
    lines[2] = lines[2][:40]
    sent.path.write_bytes(b"\r\n".join(lines))
    result = read_results(adapter, sent.path)
    assert not result.ok and result.problems[0].line == 3 and "字节" in result.problems[0].message


def test_bad_adapter_yaml_names_each_key_path() -> None:
    adapter, problems = check_adapter(FIXTURES / "bad-adapter.yaml")
    assert adapter is None
    paths = {p.column for p in problems}
    assert {"format", "encoding", "file_name", "columns[1].field", "columns[2].width"} <= paths
    assert {"result.status.returned", "result.reasons.账号不存在"} <= paths
    assert {"columns[2].widht", "result.stauts"} <= paths  # typos are named, not ignored
    assert all(p.file.endswith("bad-adapter.yaml") for p in problems)
    assert any("{monthh}" in p.message for p in problems)
    with pytest.raises(AdapterError) as caught:
        load_adapter(FIXTURES / "bad-adapter.yaml")
    assert "columns[1].field" in str(caught.value)


def test_broken_yaml_and_unknown_adapter(tmp_path: Path) -> None:
    bad = tmp_path / "x.yaml"
    bad.write_text("id: x\ncolumns: [\n", encoding="utf-8")
    adapter, problems = check_adapter(bad)
    assert adapter is None and problems[0].line and "YAML" in problems[0].message
    with pytest.raises(AdapterError) as caught:
        get_adapter("no-such-bank")
    assert "generic-csv" in str(caught.value)


def test_reason_codes_have_chinese_text_and_iso_meaning() -> None:
    assert (reason("AC01").text, reason("AC01").iso) == ("账号错误", "IncorrectAccountNumber")
    assert reason("md07").text == "收款人已死亡"
    assert reason("ZZ99").text.startswith("未知")


def test_excel_results_accept_numeric_amounts_exact_to_the_fen(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    adapter = get_adapter("excel")
    sent = write_results(adapter, HEADER, outcomes(ITEMS[:2]), tmp_path / "r.xlsx")
    book = load_workbook(sent.path)
    sheet = book["处理结果"]
    sheet["C2"] = 1100  # a clerk retyped the amount as a number
    sheet["C3"] = 0.015
    book.save(sent.path)
    result = read_results(adapter, sent.path)
    assert not result.ok
    (problem,) = result.problems
    assert (problem.sheet, problem.line, problem.column) == ("处理结果", 3, "金额（元）")


def test_a_pain001_the_xsd_refuses_is_not_written_and_the_old_file_stays(tmp_path: Path) -> None:
    target = tmp_path / "b.xml"
    target.write_bytes(b"previous file")
    header = BatchHeader(**{**HEADER.__dict__, "batch_id": "B" * 40})  # MsgId is Max35Text
    batch = write_batch(get_adapter("pain001"), header, ITEMS, target)
    assert not batch.ok and batch.path is None
    assert "MsgId" in batch.problems[0].message and "官方 XSD" in batch.problems[0].message
    assert target.read_bytes() == b"previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.xml"]


def test_written_pain001_is_checked_in_slices_with_whole_file_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from juesuan.disbursement.banks import iso20022

    items = [item(n, f"收款人{n}", 100 * n) for n in range(1, 11)]
    batch = write_batch(get_adapter("pain001"), HEADER, items, tmp_path / "b.xml")
    data = batch.path.read_bytes()
    first = data.index(b"<CdtTrfTxInf>")
    end = data.rindex(b"</CdtTrfTxInf>\n") + len(b"</CdtTrfTxInf>\n")
    prefix, suffix = data[:first], data[end:]
    lines = data.split(b"\n")
    seventh = next(i for i, line in enumerate(lines) if ref(7).encode() in line)
    lines[seventh] = lines[seventh].replace(b"<Amt>", b"<Purp><Cd>X</Cd></Purp><Amt>")
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"\n".join(lines))
    monkeypatch.setattr(iso20022, "_CHUNK", 700)  # a few transactions a slice
    assert iso20022._validate_written("b.xml", batch.path, prefix, suffix) == []
    (problem,) = iso20022._validate_written("broken.xml", broken, prefix, suffix)
    assert problem.line == seventh + 1 and "Purp" in problem.message
    (streamed,) = validate_pain001(broken)
    assert streamed.line == seventh + 1


@given(st.integers(min_value=0, max_value=10**17 - 1), st.sampled_from(["yuan", "fen"]))
def test_amounts_round_trip_through_text_exactly(fen: int, fmt: str) -> None:
    text = format_amount(fen, fmt)
    assert parse_amount(text, fmt) == fen
    if fmt == "yuan":
        assert Decimal(text) * 100 == fen and text[-3] == "."


_GB18030_ROWS = [
    f"{ref(1)},张三,1,1100.00,成功,,S1",
    f"{ref(2)},𠀀欧阳,2,0.01,失败,账号不存在,S2",  # 𠀀 is four bytes in GB18030
    f"{ref(3)},李四,3,1234567890.12,退回,卡片已挂失,",
    f"{ref(4)},王五,4,980.50,已入账,,S4",
    f"{ref(5)},赵六,5,1100.00,失败,,S5",
]


def test_the_fast_csv_reader_and_the_careful_one_give_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from juesuan.disbursement.banks import textfiles

    path = _csv_result(tmp_path, _GB18030_ROWS, "合计,5,1234571070.63")
    adapter = get_adapter("generic-csv")
    assert textfiles._read_csv_fast(adapter.result, path.read_bytes(), path.name) is not None
    fast = read_results(adapter, path)
    monkeypatch.setattr(textfiles, "_read_csv_fast", lambda *args: None)
    careful = read_results(adapter, path)
    assert fast.ok and careful.ok
    assert list(fast.rows) == list(careful.rows)
    assert [(r.reason_code, r.reason_text, r.amount_fen, r.line) for r in fast.rows][1:3] == [
        ("AC01", "账号不存在", 1, 3),
        ("NARR", "卡片已挂失", 123456789012, 4),
    ]


_FIXED_WITH_NAMES = """\
id: fixed-names
name: 定长文本（含户名）
format: fixed
encoding: gb18030
line_ending: crlf
amount: fen
file_name: "{payer_code}{month}{batch}.txt"
titles: false
columns:
  - {title: 业务编号, field: reference, width: 35}
  - {title: 收款账号, field: account, width: 32}
  - {title: 户名, field: account_name, width: 12}
  - {title: 金额, field: amount, width: 15, align: right, pad: "0"}
result:
  format: fixed
  encoding: gb18030
  line_ending: crlf
  amount: fen
  file_name: "{payer_code}{month}{batch}.ret"
  titles: false
  totals:
    position: last
    cells:
      - {value: "T", width: 1}
      - {value: "{count}", width: 10, align: right, pad: "0"}
      - {value: "{total}", width: 17, align: right, pad: "0"}
  columns:
    - {title: 业务编号, field: reference, width: 35}
    - {title: 户名, field: name, width: 12}
    - {title: 金额, field: amount, width: 15, align: right, pad: "0"}
    - {title: 状态, field: status, width: 1}
    - {title: 原因代码, field: reason_code, width: 4}
    - {title: 原因说明, field: reason, width: 40}
  status:
    paid: ["S"]
    returned: ["F"]
"""


def _fixed_with_names(tmp_path: Path):
    """A fixed-width result whose names (2, 4 and 6 bytes, one a 4-byte rare character) come
    before the amount and status: any slicing by characters instead of bytes shows."""
    (tmp_path / "fixed-names.yaml").write_text(_FIXED_WITH_NAMES, encoding="utf-8")
    adapter = load_adapter(tmp_path / "fixed-names.yaml")
    rows = [
        Outcome(ref(1), 110000, PAID, name="张三"),
        Outcome(ref(2), 1, RETURNED, "AC01", name="欧阳娜娜"),
        Outcome(ref(3), 98050, PAID, name="\U00020000明"),
        Outcome(ref(4), 123456789012, RETURNED, "", "卡片已挂失", name="李"),
        Outcome(ref(5), 310000, RETURNED, "AC04", name="王五"),
    ]
    written = write_results(adapter, HEADER, rows, tmp_path / "r.ret")
    assert written.ok, written.problems
    return adapter, written.path


def test_the_fast_fixed_width_reader_and_the_careful_one_give_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from juesuan.disbursement.banks import textfiles

    adapter, path = _fixed_with_names(tmp_path)
    assert "\U00020000".encode("gb18030") in path.read_bytes()  # 4 bytes in 12
    assert textfiles._read_fixed_fast(adapter.result, path.read_bytes(), path.name) is not None
    fast = read_results(adapter, path)
    monkeypatch.setattr(textfiles, "_read_fixed_fast", lambda *args: None)
    careful = read_results(adapter, path)
    assert fast.ok and careful.ok
    assert list(fast.rows) == list(careful.rows)
    assert [(r.status, r.reason_code, r.reason_text, r.amount_fen) for r in fast.rows] == [
        (PAID, "", "", 110000),
        (RETURNED, "AC01", reason("AC01").text, 1),
        (PAID, "", "", 98050),
        (RETURNED, "NARR", "卡片已挂失", 123456789012),
        (RETURNED, "AC04", reason("AC04").text, 310000),
    ]
    assert [r.line for r in fast.rows] == [1, 2, 3, 4, 5]


def test_a_fixed_width_file_the_fast_reader_does_not_take_is_reported_by_line(
    tmp_path: Path,
) -> None:
    from juesuan.disbursement.banks import textfiles

    adapter, path = _fixed_with_names(tmp_path)
    data = path.read_bytes()
    broken = data.replace("欧阳娜娜".encode("gb18030"), b"\xff\xff\xff\xff\xff\xff\xff\xff")
    path.write_bytes(broken)
    assert textfiles._read_fixed_fast(adapter.result, broken, path.name) is None
    result = read_results(adapter, path)
    assert not result.ok and result.problems[0].line == 2
    assert "gb18030" in result.problems[0].message
    lines = data.split(b"\r\n")
    lines[3] = lines[3] + b" "  # one byte too long
    path.write_bytes(b"\r\n".join(lines))
    assert textfiles._read_fixed_fast(adapter.result, path.read_bytes(), path.name) is None
    result = read_results(adapter, path)
    assert not result.ok and [p.line for p in result.problems] == [4]


def test_lines_the_fast_reader_does_not_take_are_read_or_reported_by_line(tmp_path: Path) -> None:
    adapter = get_adapter("generic-csv")
    quoted = [*_GB18030_ROWS[:1], f'{ref(2)},"欧阳,娜娜",2,0.01,失败,账号不存在,S2']
    result = read_results(adapter, _csv_result(tmp_path, quoted, "合计,2,1100.01"))
    assert result.ok and [r.line for r in result.rows] == [2, 3]
    blank = [_GB18030_ROWS[0], "", _GB18030_ROWS[3]]
    result = read_results(adapter, _csv_result(tmp_path, blank, "合计,2,2080.50"))
    assert not result.ok and [(p.line, "空行" in p.message) for p in result.problems] == [(3, True)]
    short = [_GB18030_ROWS[0], f"{ref(2)},李四,2,1100.00"]
    result = read_results(adapter, _csv_result(tmp_path, short, "合计,2,2200.00"))
    assert not result.ok and {p.line for p in result.problems} == {3}


def test_each_shipped_adapter_keeps_its_declared_name():
    import yaml

    import juesuan.disbursement.banks as banks

    folder = Path(banks.__file__).parent / "adapters"
    shipped = sorted(folder.glob("*.yaml"))
    assert len(shipped) == 4
    for path in shipped:
        declared = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert banks.get_adapter(declared["id"]).name == declared["name"], path.name


@pytest.mark.parametrize("adapter_id", ["generic-csv", "excel", "fixed-txt", "pain001"])
def test_values_a_spreadsheet_would_run_as_formulas_are_never_written(
    tmp_path: Path, adapter_id: str
) -> None:
    adapter = get_adapter(adapter_id)
    target = tmp_path / f"b{Path(adapter.file_name(HEADER)).suffix}"
    hostile = [
        item(1, "=cmd|' /C calc'!A0", 100),
        item(2, "李四", 100)._replace(bank="@SUM(1+1)"),
        item(3, "王五", 100)._replace(account_name='=HYPERLINK("http://x.invalid","点我")'),
        item(4, "赵六", 100)._replace(account_name="\t=1+1"),
        item(5, "-2+3", 100),
    ]
    batch = write_batch(adapter, HEADER, [item(6, "张三", 100), *hostile], target)
    assert not batch.ok and not target.exists()
    assert [p.column for p in batch.problems] == [
        "name",
        "bank",
        "account_name",
        "account_name",
        "name",
    ]
    assert [p.snippet for p in batch.problems][:2] == ["=cmd|' /C calc'!A0", "@SUM(1+1)"]
    assert "公式" in batch.problems[0].message and ref(1) in batch.problems[0].message
    assert list(tmp_path.iterdir()) == []  # nothing left beside the target either

    # the payer's details go into the header lines under the same rule
    header = BatchHeader(**{**HEADER.__dict__, "payer_bank": "+86 工商银行"})
    refused = write_batch(adapter, header, [item(6, "张三", 100)], target)
    assert not refused.ok and refused.problems[0].column == "付款开户行"

    # legitimate values keep their hyphens and signs inside the text
    fine = item(7, "欧阳-娜娜", 100)._replace(bank="中国银行-泸州分行")
    assert write_batch(adapter, HEADER, [fine], target).ok


@pytest.mark.parametrize("adapter_id", ["generic-csv", "fixed-txt", "pain001", "excel"])
def test_scratch_files_never_hold_account_numbers_in_the_clear(
    tmp_path: Path, adapter_id: str
) -> None:
    """Rows are streamed through a scratch file while the totals are summed; looked at in the
    middle of writing (as a crash would leave it), nothing on disk shows an account."""
    adapter = get_adapter(adapter_id)
    target = tmp_path / f"b{Path(adapter.file_name(HEADER)).suffix}"
    given: list[str] = []
    seen: list[bytes] = []

    def items():
        for n in range(12_000):
            row = item(n + 1, "张三", 100)
            given.append(row.account)
            yield row
            if n == 11_000:  # well past the write buffers: the scratch file has the rows
                seen.extend(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())

    batch = write_batch(adapter, HEADER, items(), target)
    assert batch.ok and batch.count == 12_000
    assert sum(len(data) for data in seen) > 100_000  # the rows were on disk …
    shown = {m.decode() for data in seen for m in re.findall(rb"62220212\d{10}", data)}
    assert not shown & set(given)  # … but not readable
    written = target.read_bytes()  # the bank file itself holds them, of course
    if adapter_id == "excel":
        with zipfile.ZipFile(target) as book:
            written = book.read("xl/worksheets/sheet1.xml")
    assert given[0].encode() in written and given[-1].encode() in written
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_result_file_that_is_no_workbook_is_said_so_in_words(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04 cut short")
    result = read_results(get_adapter("excel"), path)
    (problem,) = result.problems
    assert not result.ok and "文件已损坏，或不是 Excel 工作簿" in problem.message
    assert "Error" not in str(problem) and "BadZip" not in str(problem)


def test_a_file_name_from_the_payers_name_is_safe(tmp_path: Path) -> None:
    from dataclasses import replace

    adapter = replace(get_adapter("generic-csv"), file_name_pattern="{payer_name}_{month}.csv")
    header = replace(HEADER, payer_name="社保局/本级:代发")
    assert adapter.file_name(header) == "社保局／本级：代发_202003.csv"
    batch = write_batch(adapter, header, ITEMS, tmp_path / adapter.file_name(header))
    assert batch.ok and [p.name for p in tmp_path.iterdir()] == ["社保局／本级：代发_202003.csv"]


def _frame(items: list[BatchItem]):
    import polars as pl

    from juesuan.disbursement.banks import BATCH_COLUMNS

    rows = [tuple(i) + ("",) * (len(BATCH_COLUMNS) - len(tuple(i))) for i in items]
    schema = {c: pl.Int64 if c == "amount_fen" else pl.String for c in BATCH_COLUMNS}
    return pl.DataFrame(rows, schema=schema, orient="row")


FRAME_ITEMS = [
    item(1, "张三", 110000),
    item(2, "欧阳娜娜", 5),
    BatchItem(ref(3), "李四", "6222", "李四", "工行", 62000, "补贴", "12345"),
    BatchItem(ref(4), "王五", "6223", "王五", "工行", 1, "补贴", "110105194901010044"),
]
# Rows the column-wise writer leaves to the row writer: refused, or needing CSV quotes.
AWKWARD = {
    "formula": BatchItem(ref(5), "=HYPERLINK(1)", "6224", "x", "工行", 100, "补贴", ""),
    "zero": item(6, "赵六", 0),
    "quote": BatchItem(ref(7), '钱"七', "6225", "钱七", "工行, 泸州", 100, "补贴", ""),
    "blank account": BatchItem(ref(8), "孙八", " ", "孙八", "工行", 100, "补贴", ""),
    "bad number": BatchItem("QYJS-1-2", "周九", "6226", "周九", "工行", 100, "补贴", ""),
}


@pytest.mark.parametrize("awkward", [None, *AWKWARD])
def test_a_csv_batch_from_a_frame_is_the_row_writers_file(tmp_path: Path, awkward) -> None:
    from juesuan.disbursement.banks import write_batch_frame
    from juesuan.disbursement.banks.textfiles import write_csv_frame
    from juesuan.disbursement.banks.writing import Collector

    items = FRAME_ITEMS + ([AWKWARD[awkward]] if awkward else [])
    adapter = get_adapter("generic-csv")
    by_rows = write_batch(adapter, HEADER, items, tmp_path / "rows.csv")
    by_frame = write_batch_frame(adapter, HEADER, _frame(items), tmp_path / "frame.csv")
    assert by_rows.ok == (awkward in (None, "quote"))
    assert (by_frame.ok, by_frame.count, by_frame.total_fen) == (
        by_rows.ok,
        by_rows.count,
        by_rows.total_fen,
    )
    assert [p.message for p in by_frame.problems] == [p.message for p in by_rows.problems]
    if by_rows.ok:
        assert (tmp_path / "frame.csv").read_bytes() == (tmp_path / "rows.csv").read_bytes()
    else:
        assert not (tmp_path / "frame.csv").exists()
    # Only the awkward rows went row by row: the rest were written column-wise.
    direct = write_csv_frame(
        adapter.batch, HEADER, _frame(items), tmp_path / "direct.csv", Collector("direct.csv")
    )
    assert (direct is not None) == (awkward is None)

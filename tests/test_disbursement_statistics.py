"""Statistics from payments: counts, rates, the fund request workbook, ledger postings, measures."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl

from juesuan.disbursement.model import (
    CANCELLED,
    PAID,
    PENDING,
    REISSUED,
    RETURNED,
    SENT,
    WITHDRAWN,
    Month,
    Payment,
    PaymentKey,
    Scheme,
    Standard,
)
from juesuan.disbursement.statistics import (
    SPENDING_COLUMNS,
    fund_request,
    ledger_postings,
    monthly_figures,
    performance_measures,
    sum_postings,
    write_fund_request,
    yearly_figures,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "luzhou-2020"
JAN, FEB = Month(2020, 1), Month(2020, 2)
A = Scheme("QYJS", "企业教师生活补贴", 20, (Standard(JAN, 100000),))
B = Scheme("JGLG", "建国初期老干部困难补贴", 10, (Standard(JAN, 60000),), project="老干部项目")
SCHEMES = {"QYJS": A, "JGLG": B}


def pay(scheme, person, month, status, amount, paid_on=None, sequence=1) -> Payment:
    key = PaymentKey(scheme, person, month, sequence)
    return Payment(key, person, "银行", "6222", person, amount, status, paid_on=paid_on)


PAYMENTS = [
    # January, QYJS: p1 paid on time, p2 paid late, p3 returned and re-issued (paid on time),
    # p4 returned and cancelled, p5 still pending in an unapproved run (not made).
    pay("QYJS", "p1", JAN, PAID, 100000, date(2020, 1, 15)),
    pay("QYJS", "p2", JAN, PAID, 100000, date(2020, 1, 21)),
    pay("QYJS", "p3", JAN, REISSUED, 100000),
    pay("QYJS", "p3", JAN, PAID, 100000, date(2020, 1, 18), sequence=2),
    pay("QYJS", "p4", JAN, CANCELLED, 100000),
    pay("QYJS", "p5", JAN, PENDING, 100000),
    pay("QYJS", "p6", JAN, WITHDRAWN, 100000),
    # February, QYJS: p1 paid, p2 returned (awaiting), p3 sent (awaiting the bank).
    pay("QYJS", "p1", FEB, PAID, 100000, date(2020, 2, 20)),
    pay("QYJS", "p2", FEB, RETURNED, 100000),
    pay("QYJS", "p3", FEB, SENT, 100000),
    # JGLG: one person, paid by the 10th in January, after it in February.
    pay("JGLG", "q1", JAN, PAID, 60050, date(2020, 1, 10)),
    pay("JGLG", "q1", FEB, PAID, 60050, date(2020, 2, 11)),
]


def test_monthly_figures_count_payments_made_and_paid_amounts() -> None:
    january = {f.scheme: f for f in monthly_figures(PAYMENTS, SCHEMES, JAN)}
    teachers = january["QYJS"]
    assert teachers.period == "2020-01"
    assert teachers.persons == 3  # p1, p2, p3 (p4 cancelled, p5 pending, p6 withdrawn)
    assert teachers.payments == 5  # p1, p2, p3 twice, p4: everything sent to the bank
    assert teachers.amount == 300000
    assert teachers.returned == 2  # p3's first payment and p4
    assert teachers.on_time == 2  # p1 (15th) and p3's re-issue (18th); p2 paid on the 21st
    assert teachers.return_rate == Decimal(2) * 100 / Decimal(5)
    assert teachers.on_time_rate == Decimal(40)
    assert january["JGLG"].on_time == 1 and january["JGLG"].amount_yuan == Decimal("600.50")


def test_yearly_figures_count_each_person_once() -> None:
    year = {f.scheme: f for f in yearly_figures(PAYMENTS, SCHEMES, 2020)}
    teachers = year["QYJS"]
    assert teachers.period == "2020"
    assert teachers.persons == 3 and teachers.payments == 8 and teachers.amount == 400000
    assert teachers.returned == 3
    assert teachers.return_rate == Decimal(300) / Decimal(8)
    assert year["JGLG"].persons == 1 and year["JGLG"].on_time == 1
    empty = yearly_figures(PAYMENTS, SCHEMES, 2021)
    assert all(f.payments == 0 and f.return_rate is None for f in empty)


def test_fund_request_workbook(tmp_path: Path) -> None:
    # 1.004 万元 three times: each rounds to 1.00, the total 3.012 to 3.01 — 舍位平衡 moves one.
    payments = [pay("QYJS", f"p{i}", JAN, SENT, 1_004_000) for i in range(2)]
    payments += [pay("JGLG", "q1", JAN, PENDING, 1_004_000), pay("JGLG", "q2", JAN, WITHDRAWN, 5)]
    payments.append(pay("QYJS", "p9", JAN, PAID, 7, sequence=2))  # a re-issue: not requested
    lines = fund_request(payments, SCHEMES, JAN)
    assert [(x.scheme, x.persons, x.amount) for x in lines] == [
        ("QYJS", 2, 2_008_000),
        ("JGLG", 1, 1_004_000),
    ]
    path = write_fund_request(lines, JAN, tmp_path / "申请表.xlsx", unit="泸州市社会保险事业管理局")
    sheet = openpyxl.load_workbook(path)["资金申请表"]
    assert sheet["A1"].value == "泸州市社会保险事业管理局2020年1月代发补贴资金申请表"
    assert [c.value for c in sheet[3]] == [
        "序号",
        "补贴类别",
        "项目名称",
        "发放人数（人）",
        "发放笔数（笔）",
        "申请金额（元）",
        "申请金额（万元）",
    ]
    first, second, total = sheet[4], sheet[5], sheet[6]
    assert [c.value for c in first[:6]] == [1, "企业教师生活补贴", "企业教师生活补贴", 2, 2, 20080]
    assert [c.value for c in second[1:6]] == ["建国初期老干部困难补贴", "老干部项目", 1, 1, 10040]
    assert total[0].value == "合计" and total[3].value == 3 and total[5].value == 30120
    assert Decimal(str(total[6].value)) == Decimal("3.01")
    shown = [Decimal(str(first[6].value)), Decimal(str(second[6].value))]
    assert sum(shown) == Decimal("3.01")  # 2.008 → 2.01 and 1.004 → 1.00 add up to 3.01
    assert first[5].number_format == "#,##0.00"


def test_fund_request_workbook_notes_a_rounding_adjustment(tmp_path: Path) -> None:
    schemes = {
        code: Scheme(code, f"补贴{code}", 20, (Standard(JAN, 1),)) for code in ("A1", "A2", "A3")
    }
    payments = [pay(code, "p", JAN, SENT, 1_004_000) for code in schemes]
    lines = fund_request(payments, schemes, JAN)
    sheet = openpyxl.load_workbook(write_fund_request(lines, JAN, tmp_path / "x.xlsx"))[
        "资金申请表"
    ]
    shown = [Decimal(str(sheet.cell(row=r, column=7).value)) for r in (4, 5, 6)]
    assert sum(shown) == Decimal(str(sheet.cell(row=7, column=7).value)) == Decimal("3.01")
    notes = [sheet.cell(row=r, column=1).value or "" for r in range(9, 12)]
    assert any("舍位平衡" in n and "1.00 万元调为 1.01 万元" in n for n in notes)


def test_ledger_postings_follow_the_spending_csv_layout() -> None:
    with (EXAMPLE / "spending.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == SPENDING_COLUMNS
    rows = ledger_postings(PAYMENTS, SCHEMES, 2020)
    assert [tuple(r) for r in rows] == [SPENDING_COLUMNS] * len(rows)
    assert [(r["项目名称"], r["金额"]) for r in rows] == [
        ("企业教师生活补贴", "3000.00"),
        ("企业教师生活补贴", "1000.00"),
        ("老干部项目", "600.50"),
        ("老干部项目", "600.50"),
    ]
    first = rows[0]
    assert first["阶段"] == "决算" and first["资金来源"] == "一般公共预算财政拨款"
    assert (first["功能分类科目编码"], first["功能分类科目名称"]) == (
        "2089999",
        "其他社会保障和就业支出",
    )
    assert (first["经济分类科目编码"], first["经济分类科目名称"]) == ("30305", "生活补助")
    assert first["支出性质"] == "项目支出" and "2020年1月" in first["备注"]
    other = ledger_postings(PAYMENTS, SCHEMES, 2020, fund="政府性基金预算财政拨款")
    assert {r["资金来源"] for r in other} == {"政府性基金预算财政拨款"}
    summed = sum_postings(rows)
    assert [(r["项目名称"], r["金额"]) for r in summed] == [
        ("企业教师生活补贴", "4000.00"),
        ("老干部项目", "1201.00"),
    ]


def test_performance_measures_by_project() -> None:
    measures = performance_measures(yearly_figures(PAYMENTS, SCHEMES, 2020), SCHEMES)
    assert measures[("企业教师生活补贴", "发放人数")] == 3
    assert measures[("企业教师生活补贴", "发放笔数")] == 8
    assert measures[("企业教师生活补贴", "失败退回笔数")] == 3
    assert measures[("企业教师生活补贴", "发放金额")] == Decimal("4000.00")
    assert measures[("老干部项目", "发放金额")] == Decimal("1201.00")
    assert all(
        isinstance(v, (int, Decimal)) and not isinstance(v, float) for v in measures.values()
    )


def test_schemes_paid_from_one_project_add_up_in_it() -> None:
    shared = {"QYJS": A, "JGLG": Scheme(B.code, B.name, B.payment_day, B.standards, project=A.name)}
    figures = yearly_figures(PAYMENTS, shared, 2020)
    measures = performance_measures(figures, shared)
    assert {project for project, _ in measures} == {A.name}
    for name, field in (
        ("发放人数", "persons"),
        ("发放笔数", "payments"),
        ("失败退回笔数", "returned"),
    ):
        assert measures[(A.name, name)] == sum(getattr(f, field) for f in figures)
    assert measures[(A.name, "发放金额")] == Decimal("5201.00")

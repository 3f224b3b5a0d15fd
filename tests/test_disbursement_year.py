"""The example's 2020 payments: totals and counts as the disclosure states them, and the example's
ledger and performance data regenerated from them."""

from __future__ import annotations

import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from stdnum import luhn
from stdnum.cn import ric

from juesuan.disbursement.model import PAID, REISSUED, Month
from juesuan.disbursement.roster import read_events, read_roster
from juesuan.disbursement.schemes import load_schemes
from juesuan.disbursement.statistics import write_fund_request
from juesuan.disbursement.year import example_texts, generate_example, run_year
from juesuan.ledger.load import load
from juesuan.performance.measures import Measures

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "luzhou-2020"
FOLDER = EXAMPLE / "disbursement"
INPUTS = ("schemes.yaml", "roster.csv", "events.csv", "bank_outcomes.yaml")


@pytest.fixture(scope="module")
def year():
    return run_year(FOLDER)


def test_the_year_runs_clean_and_balances(year) -> None:
    assert year.ok, year.problems
    balance = year.book.balance()
    assert balance.ok and balance.approved == balance.paid
    assert balance.sent == balance.returned == balance.reissued == balance.cancelled == 0


def test_the_year_reproduces_the_stated_totals_and_counts(year) -> None:
    # 原文十（四） and 附件2: 644 / 62 / 50 persons; 949.68 / 43.63 / 233.93 万元; 3 / 0 / 1 returns.
    stated = {
        "QYJS": (644, Decimal("9496800.00"), 3),
        "JGLG": (62, Decimal("436300.00"), 0),
        "PCLX": (50, Decimal("2339300.00"), 1),
    }
    found = {f.scheme: (f.persons, f.amount_yuan, f.returned) for f in year.year}
    assert found == stated
    # 企业教师's payments made: tests/test_performance.py reads 7728 in the example's data.
    assert year.figures("QYJS").payments == 7728
    # Paid by the 20th: every payment but the returned ones (their re-issues were paid on the 18th).
    assert [(f.payments, f.on_time) for f in year.year] == [(7728, 7725), (729, 729), (584, 583)]


def test_every_return_was_corrected_and_reissued_once(year) -> None:
    book = year.book
    reissued = [p for p in book.payments.values() if p.status == REISSUED]
    assert len(reissued) == 4
    for original in reissued:
        follow = book.payments[replace(original.key, sequence=2)]
        assert follow.status == PAID and follow.amount == original.amount
        correction = book.corrections[original.key]
        assert correction.entered_by != correction.checked_by
        assert follow.account == correction.account
    assert not [k for k in book.payments if k.sequence > 2]


def test_months_follow_the_events(year) -> None:
    teachers = {m: next(f for f in fs if f.scheme == "QYJS") for m, fs in year.months.items()}
    # June: one teacher suspended (资格认证); July pays July and June; October: a teacher died.
    assert teachers[Month(2020, 6)].persons == 643
    assert teachers[Month(2020, 7)].amount == teachers[Month(2020, 5)].amount + 123000
    assert [teachers[Month(2020, m)].persons for m in (10, 11, 12)] == [644, 643, 643]
    cadres = [next(f for f in year.months[Month(2020, m)] if f.scheme == "JGLG") for m in (1, 3, 4)]
    assert [c.persons for c in cadres] == [61, 62, 61]  # an entrant in March, a death in March


def test_committed_example_files_are_the_years_output(year) -> None:
    for name, text in example_texts(EXAMPLE, year).items():
        assert (EXAMPLE / name).read_text(encoding="utf-8") == text, name


def test_inputs_regenerate_identically(tmp_path: Path) -> None:
    generate_example(tmp_path)
    for name in INPUTS:
        assert (tmp_path / name).read_bytes() == (FOLDER / name).read_bytes(), name


def test_roster_is_valid_and_plausible() -> None:
    schemes = load_schemes(FOLDER / "schemes.yaml")
    roster = read_roster(FOLDER / "roster.csv", schemes)
    assert roster.ok and not roster.warnings, roster.errors[:3] or roster.warnings[:3]
    events = read_events(FOLDER / "events.csv", schemes, roster)
    assert events.ok and len(events.events) == 7
    counts: dict[str, int] = {}
    for person in roster.beneficiaries:
        counts[person.scheme] = counts.get(person.scheme, 0) + 1
        assert ric.is_valid(person.person_id) and luhn.is_valid(person.account)
        born = ric.get_birth_date(person.person_id).year
        low, high = {"QYJS": (1936, 1960), "JGLG": (1926, 1936), "PCLX": (1921, 1932)}[
            person.scheme
        ]
        assert low <= born <= high
    assert counts == {"QYJS": 644, "JGLG": 62, "PCLX": 50}
    ids = [p.person_id for p in roster.beneficiaries]
    assert len(set(ids)) == len(ids)


def test_measures_feed_the_performance_evaluation(year) -> None:
    dataset, _ = load(EXAMPLE)
    measures = Measures(dataset, year.measures)
    rate = measures.get("企业教师生活补贴", "失败退回率")
    assert rate.value == Decimal(300) / Decimal(7728) and "发放系统" in rate.how
    per_capita = measures.get("市级破产改制企业离休人员生活补贴", "人均补贴成本")
    assert per_capita.value == Decimal("2339300.00") / 50
    combined = measures.get("代发几类专项资金工作经费", "发放笔数")
    assert combined.value == 7728 + 729 + 584


def test_ledger_lines_equal_the_paid_amounts(year) -> None:
    dataset, _ = load(EXAMPLE)
    for project, amount in (
        ("企业教师生活补贴", "9496800.00"),
        ("建国初期老干部困难补贴", "436300.00"),
        ("市级破产改制企业离休人员生活补贴", "2339300.00"),
    ):
        booked = dataset.ledger.total(direction="支出", phase="决算", project=project)
        monthly = sum(Decimal(r["金额"]) for r in year.postings if r["项目名称"] == project)
        assert booked == monthly == Decimal(amount)


def test_a_months_fund_request(year, tmp_path: Path) -> None:
    month = Month(2020, 12)
    path = write_fund_request(year.fund_requests[month], month, tmp_path / "12.xlsx")
    sheet = openpyxl.load_workbook(path).active
    rows = {r[1]: r for r in sheet.iter_rows(min_row=4, max_row=6, values_only=True)}
    assert rows["企业教师生活补贴"][3] == 643
    assert Decimal(str(rows["企业教师生活补贴"][5])) == Decimal("7903.75") * 100


def test_bad_input_is_reported_not_raised(tmp_path: Path) -> None:
    for name in INPUTS:
        shutil.copy(FOLDER / name, tmp_path / name)
    roster = (tmp_path / "roster.csv").read_text(encoding="utf-8").splitlines()
    fields = roster[5].split(",")
    fields[1] = fields[1][:-1] + ("0" if fields[1][-1] != "0" else "1")  # a wrong check digit
    roster[5] = ",".join(fields)
    (tmp_path / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
    result = run_year(tmp_path)
    assert not result.ok and not result.book.payments
    assert any("roster.csv" in p and "第6行" in p and "公民身份号码" in p for p in result.problems)

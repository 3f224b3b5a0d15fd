"""Helpers for the disbursement web tests: a small unit with two schemes and a roster written
inline, and a bank that answers a run's files. (No tests here; the other test_disbursement_*
files import these.)"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from stdnum import luhn
from stdnum.cn import ric

SCHEMES_YAML = """\
schemes:
  - code: QYJS
    name: 企业教师生活补贴
    payment_day: 10
    standards:
      - {start: "2020-01", amount: "1100.00"}
  - code: LXRY
    name: 市级破产改制企业离休人员生活补贴
    payment_day: 15
    standards:
      - {start: "2020-01", amount: "3100.00"}
"""
STANDARD = {"QYJS": 110000, "LXRY": 310000}
SURNAMES = "张王李赵刘陈杨黄周吴"
GIVEN = "秀英建国淑芬志强桂兰德明玉珍永福"


def person_id(n: int) -> str:
    """A valid 公民身份号码 (region 510502, born 1935–1954, check digit computed)."""
    body = f"510502{1935 + n % 20}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def account(n: int) -> str:
    prefix = f"62220202{n:010d}"
    return prefix + luhn.calc_check_digit(prefix)


def name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[n % 7 * 2 : n % 7 * 2 + 2]


def roster_csv(path: Path, people: int = 6) -> Path:
    """`people` persons: even ones in QYJS, odd ones in LXRY."""
    lines = ["姓名,公民身份号码,补贴类别,档次,开始发放月份,开户银行,银行账号,账户名"]
    for n in range(people):
        scheme = "QYJS" if n % 2 == 0 else "LXRY"
        lines.append(
            f"{name(n)},{person_id(n)},{scheme},,2020-01,中国工商银行泸州分行,{account(n)},"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PAYER = {"account": "51050163010000000123", "bank": "中国建设银行泸州分行"}


def set_up_unit(unit, clerk, folder: Path, people: int = 6, *, payer: bool = True) -> None:
    """Schemes (with the account they are paid from, unless `payer` is False) and roster for
    `unit`, entered as the clerk would."""
    from juesuan.web.disbursement import services

    schemes = folder / "schemes.yaml"
    schemes.write_text(SCHEMES_YAML, encoding="utf-8")
    outcome = services.import_schemes(unit, clerk, schemes)
    assert outcome.ok, outcome.problems
    for code in STANDARD if payer else ():
        outcome = services.set_payer(unit, clerk, code, name=unit.name, **PAYER)
        assert outcome.changed, outcome.message
    outcome = services.import_roster(unit, clerk, roster_csv(folder / "花名册.csv", people))
    assert outcome.ok and outcome.data["added"] == people, (outcome.message, outcome.problems)


def approved_run(world, folder: Path, month, people: int):
    """A run for `month` of a unit set up with `people` people, prepared, reviewed and approved."""
    from juesuan.web.disbursement import services
    from juesuan.web.disbursement.models import Run

    clerk = world.users["clerk"]
    set_up_unit(world.unit, clerk, folder, people=people)
    run_id = services.prepare_run(world.unit, clerk, month).data["run"]
    assert services.review_run(world.unit, world.users["reviewer"], run_id).changed
    assert services.approve_run(world.unit, world.users["approver"], run_id).changed
    return Run.objects.get(pk=run_id)


def bank_answers(run, folder: Path, returns: dict[str, str] | None = None) -> list[Path]:
    """The bank's result files for an approved run: every payment paid (on the 10th, dated when
    the format has a 到账日期) except those whose person_id is in `returns` (person_id → reason
    code). One file per bank file."""
    from juesuan.disbursement.banks import (
        PAID,
        RETURNED,
        BatchHeader,
        Outcome,
        get_adapter,
        read_results,
        write_results,
    )
    from juesuan.disbursement.model import Month

    returns = returns or {}
    paths = []
    for item in run.bank_files.all():
        adapter = get_adapter(item.adapter)
        month = Month.parse(run.month)
        header = BatchHeader(
            "单位",
            "1",
            "银行",
            "U",
            f"B{run.number}",
            item.scheme,
            month,
            date(month.year, month.month, 10),
        )
        outcomes = []
        payments = run.payments.filter(scheme__code=item.scheme).order_by("person_id")
        for p in payments:
            if p.person_id in returns:
                outcomes.append(Outcome(p.reference, p.amount, RETURNED, returns[p.person_id]))
            else:
                # the bank pays on the batch's execution day and says so (到账日期)
                outcomes.append(Outcome(p.reference, p.amount, PAID, paid_on=header.execution_date))
        path = folder / f"result-{run.number}-{item.scheme}.csv"
        written = write_results(adapter, header, outcomes, path)
        assert written.ok, written.problems
        assert read_results(adapter, path).ok
        paths.append(path)
    return paths


def bank_file_rows(bank_file) -> int:
    """How many payment rows a written bank file holds, read back with the adapter's reader
    shape (for generic-csv: lines after the header that carry a payment reference)."""
    from juesuan.web.disbursement import services

    text = services.in_place(bank_file.full_path, bank_file.sha256).read_text(encoding="gb18030")
    return sum(1 for line in text.splitlines() if f",{bank_file.scheme}-" in line)

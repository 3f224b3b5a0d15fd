"""A whole year of payments through the book: the example's 2020 (`examples/luzhou-2020/disbursement`).

`generate_example(folder)` writes the synthetic inputs — schemes.yaml, roster.csv (花名册),
events.csv (人员变动) and bank_outcomes.yaml (what the bank returns and how it was corrected) —
from a fixed seed, so the files are reproducible and committed. `run_year(folder)` runs the 12
months: compute_month → Book (经办 → 复核 → 审批) → bank batch file (banks.write_batch) → bank
simulator result file (banks.write_results) → read_results → import → correction, 复核 and a
supplementary run for each return. It returns the book, statistics, ledger postings and
performance measures. `write_example(dataset, result)` rewrites the example's 30305 project
lines in spending.csv and the schemes' rows of performance_data.csv from the year.

The plan below is what the reference disclosure states (644 / 62 / 50 persons; 949.68 / 43.63 /
233.93 万元; 3 / 0 / 1 returns, all re-issued) plus synthetic detail: tiers and amounts, who died
or joined when, a suspension with back pay, an account change.
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml
from stdnum import luhn
from stdnum.cn import ric

from juesuan.disbursement import banks
from juesuan.disbursement import transitions as t
from juesuan.disbursement.book import Book, Done
from juesuan.disbursement.compute import compute_month
from juesuan.disbursement.model import (
    ACCOUNT_CHANGE,
    RETURNED,
    LifeEvent,
    Month,
    Scheme,
)
from juesuan.disbursement.roster import EVENT_HEADERS, ROSTER_HEADERS, read_events, read_roster
from juesuan.disbursement.schemes import load_schemes
from juesuan.disbursement.statistics import (
    SPENDING_COLUMNS,
    Figures,
    FundRequestLine,
    fund_request,
    ledger_postings,
    monthly_figures,
    performance_measures,
    sum_postings,
    yearly_figures,
)
from juesuan.files import replaced
from juesuan.money import wan

__all__ = [
    "YearResult",
    "example_texts",
    "generate_example",
    "performance_rows",
    "run_year",
    "spending_rows",
    "write_example",
]

YEAR = 2020
SEED = 2020
UNIT = "泸州市社会保险事业管理局"
# Who takes the steps (synthetic staff): 经办, 复核, 审批.
CLERK_USER, REVIEWER_USER, APPROVER_USER = "李晓梅", "王建华", "陈志刚"
CLERK_ROLES, REVIEWER_ROLES, APPROVER_ROLES = {t.CLERK}, {t.REVIEWER}, {t.APPROVER}
ADAPTER = "generic-csv"
PAYER = {
    "payer_name": UNIT,
    "payer_account": "51050163010000000123",  # synthetic
    "payer_bank": "中国建设银行泸州分行",
    "payer_code": "308503",
}

# ---- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Special:
    """A person whose year is not twelve plain months."""

    role: str  # death | entrant | suspension | account_change | return
    tier: str
    month: int = 0  # death / entry / suspension / return month
    day: int = 0
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    tiers: Mapping[str, str]  # tier → 元 per month
    ordinary: Mapping[str, int]  # tier → persons paid all twelve months without any event
    specials: tuple[Special, ...]
    born: tuple[int, int]  # birth years (inclusive)
    started: tuple[int, int]  # years the person first received the benefit (inclusive)
    target: str  # the year's paid total in 元, as the disclosure states it


PLANS = (
    Plan(
        "QYJS",
        "企业教师生活补贴",
        {"一档": "1315.00", "二档": "1230.00", "三档": "1155.00"},
        {"一档": 134, "二档": 344, "三档": 160},
        (
            Special("death", "二档", month=10, day=12),
            Special("suspension", "二档", month=6, day=1, detail={"resume_day": "2020-07-03"}),
            Special("account_change", "一档", month=5, day=6),
            Special("return", "二档", month=3, detail={"code": "AC01", "text": "账号不存在"}),
            Special("return", "一档", month=8, detail={"code": "BE01", "text": "户名不符"}),
            Special("return", "三档", month=11, detail={"code": "AC04", "text": "账户已销户"}),
        ),
        born=(1936, 1960),
        started=(2003, 2019),
        target="9496800.00",
    ),
    Plan(
        "JGLG",
        "建国初期老干部困难补贴",
        {"一档": "620.00", "二档": "550.00"},
        {"一档": 41, "二档": 18},
        (
            Special("death", "一档", month=3, day=21),
            Special("death", "二档", month=8, day=9),
            Special("entrant", "一档", month=3),
        ),
        born=(1926, 1936),
        started=(1995, 2019),
        target="436300.00",
    ),
    Plan(
        "PCLX",
        "市级破产改制企业离休人员生活补贴",
        {"一档": "4300.00", "二档": "4100.00", "三档": "3800.00"},
        {"一档": 5, "二档": 25, "三档": 16},
        (
            Special("death", "三档", month=6, day=17),
            Special("entrant", "二档", month=4),
            Special("entrant", "二档", month=9),
            Special("return", "三档", month=5, detail={"code": "AC06", "text": "账户冻结"}),
        ),
        born=(1921, 1932),
        started=(2020, 2020),  # the scheme was taken over by the agency in 2020
        target="2339300.00",
    ),
)

# 泸州's area codes as they were before 1983 (宜宾地区: 泸州市, 泸县, 合江县, 纳溪县, 叙永县,
# 古蔺县): `stdnum.cn.ric` accepts a code only if it existed in the birth year, and everyone
# here was born before 1963.
AREAS = ("512502", "512521", "512523", "512524", "512525", "512526")
# Banks with a synthetic 6-digit card prefix each (the accounts are made up, only Luhn-valid).
BANKS = (
    ("中国工商银行泸州分行", "622202"),
    ("中国农业银行泸州分行", "622848"),
    ("中国建设银行泸州分行", "621700"),
    ("中国银行泸州分行", "621661"),
    ("泸州银行", "623165"),
    ("四川泸州农村商业银行", "621458"),
)
SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
    "雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN_MALE = "国建志德明华文永福成树春庆家宝光忠荣兴海金昌伦清治祥贵富全顺学远"
GIVEN_FEMALE = "秀英兰芳桂珍玉淑凤琼素慧敏丽华萍芬莲琴翠云霞惠群桂英秀梅淑珍"


def _name(rng: random.Random, male: bool) -> str:
    chars = GIVEN_MALE if male else GIVEN_FEMALE
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.8 else "")
    return rng.choice(SURNAMES) + given


def _person_id(rng: random.Random, born: tuple[int, int], male: bool, taken: set[str]) -> str:
    while True:
        year = rng.randint(*born)
        birthday = date(year, rng.randint(1, 12), rng.randint(1, 28))
        sequence = rng.randrange(0, 998, 2) + (1 if male else 0)  # odd: male, even: female
        body = f"{rng.choice(AREAS)}{birthday:%Y%m%d}{sequence:03d}"
        number = body + ric.calc_check_digit(body + "0")  # the function ignores the last digit
        if number not in taken and ric.is_valid(number):
            taken.add(number)
            return number


def _account(rng: random.Random, prefix: str) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(12))
    return body + luhn.calc_check_digit(body)


def _bank(rng: random.Random) -> tuple[str, str]:
    name, prefix = rng.choice(BANKS)
    return name, _account(rng, prefix)


def _other_bank(rng: random.Random, current: str) -> tuple[str, str]:
    while True:
        name, account = _bank(rng)
        if name != current:
            return name, account


def _misspelt(rng: random.Random, name: str) -> str:
    """The name with its last character replaced (a typo at account opening)."""
    pool = [c for c in GIVEN_MALE + GIVEN_FEMALE if c != name[-1]]
    return name[:-1] + rng.choice(pool)


# ---- generating the example's inputs ---------------------------------------------------------


def generate_example(folder: str | Path, seed: int = SEED) -> list[Path]:
    """Write schemes.yaml, roster.csv, events.csv and bank_outcomes.yaml into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    taken: set[str] = set()
    roster: list[list[str]] = []
    events: list[list[str]] = []
    returns: list[dict] = []
    for plan in PLANS:
        people: list[tuple[str, Special | None]] = [
            (tier, None) for tier, n in plan.ordinary.items() for _ in range(n)
        ]
        people += [(s.tier, s) for s in plan.specials]
        rng.shuffle(people)
        for tier, special in people:
            male = rng.random() < (0.45 if plan.code == "QYJS" else 0.8)
            name = _name(rng, male)
            pid = _person_id(rng, plan.born, male, taken)
            bank, account = _bank(rng)
            account_name = name
            first = rng.randint(*plan.started)
            start = f"{first}-{rng.randint(1, 12 if first < YEAR else 1):02d}"
            if special is not None and special.role == "entrant":
                start = f"{YEAR}-{special.month:02d}"
            if special is not None:
                _special_rows(rng, plan, special, pid, name, bank, events, returns)
                if special.role == "return" and special.detail["code"] == "BE01":
                    account_name = _misspelt(rng, name)
                    returns[-1]["corrected"]["account_name"] = name
                    returns[-1]["corrected"]["bank"] = bank
                    returns[-1]["corrected"]["account"] = account
            roster.append([name, pid, plan.code, tier, start, bank, account, account_name])
    roster.sort(key=lambda r: ([p.code for p in PLANS].index(r[2]), r[1]))
    events.sort(key=lambda r: (r[3], r[0]))

    written = [
        _write_text(folder / "schemes.yaml", _schemes_yaml()),
        _write_csv(folder / "roster.csv", ROSTER_HEADERS, roster),
        _write_csv(folder / "events.csv", EVENT_HEADERS, events),
        _write_text(folder / "bank_outcomes.yaml", _outcomes_yaml(returns)),
    ]
    return written


def _special_rows(rng, plan, special, pid, name, bank, events, returns) -> None:
    when = date(YEAR, special.month, special.day or 1) if special.month else None
    if special.role == "death":
        reported = date(YEAR, special.month, min(special.day + 4, 28))
        events.append([pid, plan.code, "死亡", str(when), str(reported), "", "", "", ""])
    elif special.role == "suspension":
        events.append([pid, plan.code, "暂停", str(when), str(when), "", "", "", ""])
        resume = special.detail["resume_day"]
        events.append([pid, plan.code, "恢复", resume, resume, "", "", "", ""])
    elif special.role == "account_change":
        new_bank, new_account = _other_bank(rng, bank)
        events.append(
            [pid, plan.code, "变更账户", str(when), str(when), new_bank, new_account, name, ""]
        )
    elif special.role == "return":
        new_bank, new_account = _other_bank(rng, bank)
        returns.append(
            {
                "scheme": plan.code,
                "person_id": pid,
                "month": f"{YEAR}-{special.month:02d}",
                "reason_code": special.detail["code"],
                "reason": special.detail["text"],
                "corrected": {
                    "name": name,
                    "bank": new_bank,
                    "account": new_account,
                    "account_name": name,
                },
            }
        )


def _schemes_yaml() -> str:
    lines = [
        "# 补贴类别（2020年）。发放标准与档次为合成数据；名称、项目与发放日取自原文十（四）。",
        "schemes:",
    ]
    for plan in PLANS:
        lines += [
            f"  - code: {plan.code}",
            f"    name: {plan.name}",
            "    payment_day: 20                # 每月20日前发放到位",
            '    function_code: "2089999"',
            '    economic_code: "30305"',
            f"    project: {plan.name}",
            "    standards:",
        ]
        lines += [
            f'      - {{tier: {tier}, start: "2020-01", amount: "{amount}"}}'
            for tier, amount in plan.tiers.items()
        ]
    return "\n".join(lines) + "\n"


def _outcomes_yaml(returns: list[dict]) -> str:
    head = (
        "# 银行处理结果（合成数据）。常规批次每月 paid_day 日到账；下列付款被银行退回，\n"
        "# 经办按 corrected 更正（复核后生效，并作为该人此后的收款账户），补发批次 reissue_day 日到账。\n"
        "# 退回笔数与原文附件2一致：企业教师 3 人次，离休人员 1 人次，老干部 0 人次。\n"
    )
    body = {"paid_day": 15, "reissue_day": 18, "returns": returns}
    return head + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# ---- running the year ---------------------------------------------------------------------------


@dataclass
class YearResult:
    """What a year of payments gave. `problems` is non-empty when an input could not be read
    or a step was refused; the rest is then what was reached."""

    book: Book
    schemes: dict[str, Scheme]
    months: dict[Month, list[Figures]] = field(default_factory=dict)
    year: list[Figures] = field(default_factory=list)
    fund_requests: dict[Month, list[FundRequestLine]] = field(default_factory=dict)
    postings: list[dict[str, str]] = field(default_factory=list)
    measures: dict[tuple[str, str], Decimal | int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def figures(self, code: str) -> Figures:
        return next(f for f in self.year if f.scheme == code)


def run_year(folder: str | Path, out_dir: str | Path | None = None) -> YearResult:
    """Run the 12 months of `folder` (schemes.yaml, roster.csv, events.csv, bank_outcomes.yaml).

    Bank batch and result files are written under `out_dir` (a temporary directory when None,
    removed afterwards). Inputs that cannot be read give a result with `problems` naming file,
    row and column, and nothing run.
    """
    folder = Path(folder)
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="juesuan-year-") as tmp:
            result = _run(folder, Path(tmp))
            result.files = []
            return result
    return _run(folder, Path(out_dir))


def _run(folder: Path, out: Path) -> YearResult:
    book = Book()
    loaded = load_schemes(folder / "schemes.yaml")
    schemes = loaded.by_code
    result = YearResult(book, schemes)
    if not loaded.ok:
        result.problems += [str(i) for i in loaded.errors]
        return result
    roster = read_roster(folder / "roster.csv", loaded)
    if not roster.ok:
        result.problems += [str(i) for i in roster.errors]
        return result
    read = read_events(folder / "events.csv", loaded, roster)
    if not read.ok:
        result.problems += [str(i) for i in read.errors]
        return result
    outcomes, problems = _read_outcomes(folder / "bank_outcomes.yaml")
    if problems:
        result.problems += problems
        return result
    adapter = banks.get_adapter(ADAPTER)
    frame = roster.frame()
    events = list(read.events)
    out.mkdir(parents=True, exist_ok=True)

    for number in range(1, 13):
        month = Month(YEAR, number)
        computed = compute_month(schemes, frame, events, month, book.history())
        for code in schemes:
            done = book.prepare_run(month, code, computed, CLERK_USER, CLERK_ROLES)
            if not isinstance(done, Done):
                result.problems.append(f"{month} {code}：{done.text}")
                continue
            run = done.value
            if run is None:  # nobody to pay in this scheme this month
                continue
            for step in (
                book.review(run.id, REVIEWER_USER, REVIEWER_ROLES),
                book.approve(run.id, APPROVER_USER, APPROVER_ROLES),
            ):
                if not isinstance(step, Done):
                    result.problems.append(f"{run.id}：{step.text}")
            returned = outcomes["returns"].get((code, str(month)), {})
            day = date(YEAR, number, outcomes["paid_day"])
            _bank_round(book, adapter, run, returned, day, out, result)
        result.fund_requests[month] = fund_request(book.payments.values(), schemes, month)
        # Returns are corrected (经办), checked (复核) and re-issued in a supplementary run.
        for key, payment in sorted(book.payments.items()):
            if payment.status != RETURNED:
                continue
            fix = outcomes["corrections"].get((key.scheme, key.person_id, str(key.month)))
            if fix is None:
                result.problems.append(
                    f"{key.label}：被银行退回，但 bank_outcomes.yaml 没有更正信息"
                )
                continue
            steps = [
                book.correct(
                    key,
                    name=fix["name"],
                    bank=fix["bank"],
                    account=fix["account"],
                    account_name=fix["account_name"],
                    user=CLERK_USER,
                    roles=CLERK_ROLES,
                    note=f"银行退回（{payment.reason_code}），核实后更正",
                ),
                book.check_correction(key, REVIEWER_USER, REVIEWER_ROLES),
            ]
            result.problems += [s.text for s in steps if not isinstance(s, Done)]
            # The checked correction is the person's account from now on (变更账户).
            fixed_on = date(YEAR, number, outcomes["reissue_day"] - 1)
            events.append(
                LifeEvent(
                    key.person_id,
                    key.scheme,
                    ACCOUNT_CHANGE,
                    fixed_on,
                    fixed_on,
                    {k: fix[k] for k in ("bank", "account", "account_name")},
                )
            )
        done = book.prepare_supplementary_run(month, CLERK_USER, CLERK_ROLES)
        if isinstance(done, Done) and done.value is not None:
            run = done.value
            book.review(run.id, REVIEWER_USER, REVIEWER_ROLES)
            book.approve(run.id, APPROVER_USER, APPROVER_ROLES)
            day = date(YEAR, number, outcomes["reissue_day"])
            _bank_round(book, adapter, run, {}, day, out, result)
        elif not isinstance(done, Done):
            result.problems.append(done.text)
        result.months[month] = monthly_figures(book.payments.values(), schemes, month)

    payments = list(book.payments.values())
    result.year = yearly_figures(payments, schemes, YEAR)
    result.postings = ledger_postings(payments, schemes, YEAR)
    result.measures = performance_measures(result.year, schemes)
    balance = book.balance()
    if not balance.ok:
        result.problems += list(balance.problems) or ["已审批金额与去向不平衡"]
    return result


def _bank_round(book, adapter, run, returned, day: date, out: Path, result: YearResult) -> None:
    """Write the run's batch file, let the simulated bank answer, import its result file."""
    code = run.schemes[0]
    header = banks.BatchHeader(
        **PAYER,
        batch_id=run.id,
        scheme=code,
        month=run.month,
        execution_date=day,
    )
    payments = book.run_payments(run.id)
    items = [
        banks.BatchItem(
            book.reference(p.key),
            p.name,
            p.account,
            p.account_name,
            p.bank,
            p.amount,
            f"{run.month.year}年{run.month.month}月{_scheme_name(result, code)}",
            p.key.person_id,
        )
        for p in payments
    ]
    batch = banks.write_batch(adapter, header, items, out / adapter.file_name(header))
    if not batch.ok:
        result.problems += [str(p) for p in batch.problems]
        return
    answers = []
    for p in payments:
        reason = returned.get(p.key.person_id) if p.key.sequence == 1 else None
        if reason:
            answers.append(banks.Outcome(book.reference(p.key), p.amount, banks.RETURNED, *reason))
        else:
            answers.append(banks.Outcome(book.reference(p.key), p.amount, banks.PAID, paid_on=day))
    result_path = out / Path(batch.file_name).with_suffix(".result.csv").name
    written = banks.write_results(adapter, header, answers, result_path)
    if not written.ok:
        result.problems += [str(p) for p in written.problems]
        return
    read = banks.read_results(adapter, result_path)
    if not read.ok:
        result.problems += [str(p) for p in read.problems]
        return
    report = book.import_results(read.rows, read.sha256 or written.sha256, day=day)
    result.problems += [f"{ref}：{text}" for ref, text in report.conflicts]
    result.files += [out / batch.file_name, result_path]


def _scheme_name(result: YearResult, code: str) -> str:
    scheme = result.schemes.get(code)
    return scheme.name if scheme else code


def _read_outcomes(path: Path) -> tuple[dict, list[str]]:
    """bank_outcomes.yaml → {paid_day, reissue_day, returns {(scheme, month): {person: (code,
    text)}}, corrections {(scheme, person, month): {...}}}; problems name the file and key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        return {}, [f"{path.name}：无法读取（{exc}）"]
    problems: list[str] = []
    for key in ("paid_day", "reissue_day"):
        if not isinstance(data.get(key), int) or not 1 <= data[key] <= 28:
            problems.append(f"{path.name}：“{key}”应为 1–28 的日子，现为“{data.get(key)}”")
    returns: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    corrections: dict[tuple[str, str, str], dict[str, str]] = {}
    for i, item in enumerate(data.get("returns") or []):
        where = f"{path.name}：returns[{i}]"
        needed = ("scheme", "person_id", "month", "reason_code", "reason", "corrected")
        missing = [k for k in needed if not item.get(k)]
        fix = item.get("corrected") or {}
        missing += [
            f"corrected.{k}"
            for k in ("name", "bank", "account", "account_name")
            if isinstance(fix, dict) and not fix.get(k)
        ]
        if missing:
            problems.append(f"{where}：缺少 {'、'.join(missing)}")
            continue
        month = str(Month.parse(str(item["month"])))
        returns.setdefault((item["scheme"], month), {})[str(item["person_id"])] = (
            str(item["reason_code"]),
            str(item["reason"]),
        )
        corrections[(item["scheme"], str(item["person_id"]), month)] = {
            k: str(v) for k, v in fix.items()
        }
    outcomes = {
        "paid_day": data.get("paid_day"),
        "reissue_day": data.get("reissue_day"),
        "returns": returns,
        "corrections": corrections,
    }
    return outcomes, problems


# ---- the example's ledger and performance data -----------------------------------------------

DISBURSED_ECONOMIC = "30305"


def spending_rows(dataset: str | Path, result: YearResult) -> list[dict[str, str]]:
    """spending.csv with the schemes' 决算 lines (project = a scheme's project, economic 30305)
    replaced by the year's postings summed per scheme, keeping the file's order (决算 block
    sorted by function code, economic code, nature and project; then 年初预算)."""
    path = Path(dataset) / "spending.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    projects = {s.project_name for s in result.schemes.values()}

    def generated(row: dict[str, str]) -> bool:
        return (
            row["阶段"] == "决算"
            and row["项目名称"] in projects
            and row["经济分类科目编码"] == DISBURSED_ECONOMIC
        )

    kept = [r for r in rows if not generated(r)]
    # One line per scheme for the year (the monthly postings summed): the example's ledger
    # keeps its line count, and the amount is the document's 执行数.
    postings = [
        {
            **p,
            "备注": f"原文十（四）：执行数{wan_of(p['金额'])}万元；代发系统{YEAR}年1–12月实发合计",
        }
        for p in sum_postings(result.postings)
    ]
    actual = [r for r in kept if r["阶段"] == "决算"] + postings
    actual.sort(
        key=lambda r: (
            r["功能分类科目编码"],
            r["经济分类科目编码"],
            r["支出性质"],
            r["项目名称"],
        )
    )
    return actual + [r for r in kept if r["阶段"] != "决算"]


def wan_of(yuan: str) -> str:
    return f"{wan(Decimal(yuan)):.2f}"


PERFORMANCE_NAMES = ("发放人数", "发放笔数", "失败退回笔数")


def performance_rows(dataset: str | Path, result: YearResult) -> list[dict[str, str]]:
    """performance_data.csv with each scheme's 发放人数 / 发放笔数 / 失败退回笔数 taken from the
    year (备注 says so); other rows (the 代发几类 sums) are kept as they are."""
    path = Path(dataset) / "performance_data.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_project = {s.project_name: s for s in result.schemes.values()}
    out = []
    for row in rows:
        scheme = by_project.get(row["项目名称"])
        if scheme is None or row["数据项"] not in PERFORMANCE_NAMES:
            out.append(row)
            continue
        figures = result.figures(scheme.code)
        value = {
            "发放人数": figures.persons,
            "发放笔数": figures.payments,
            "失败退回笔数": figures.returned,
        }[row["数据项"]]
        note = {
            "发放人数": "代发系统2020年计算：全年实发人数（去重），与原文十（四）表、附件2一致",
            "发放笔数": "代发系统2020年计算：全年送银行的付款笔数（含重发）；原文未给",
            "失败退回笔数": "代发系统2020年计算：银行退回笔数，与附件2一致",
        }[row["数据项"]]
        out.append({**row, "数值": str(value), "备注": note})
    return out


def _csv_text(header: Iterable[str], rows: Iterable[Mapping[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def example_texts(dataset: str | Path, result: YearResult) -> dict[str, str]:
    """The contents spending.csv and performance_data.csv should have, from the year."""
    dataset = Path(dataset)
    with (dataset / "performance_data.csv").open(encoding="utf-8", newline="") as handle:
        performance_header = next(csv.reader(handle))
    return {
        "spending.csv": _csv_text(SPENDING_COLUMNS, spending_rows(dataset, result)),
        "performance_data.csv": _csv_text(performance_header, performance_rows(dataset, result)),
    }


def write_example(dataset: str | Path, result: YearResult) -> list[Path]:
    """Rewrite the example's spending.csv and performance_data.csv from the year."""
    if not result.ok:
        raise ValueError("代发年度运行有问题，未改写示例数据：\n" + "\n".join(result.problems))
    written = []
    for name, text in example_texts(dataset, result).items():
        path = Path(dataset) / name
        with replaced(path) as temporary:  # the dataset's file is never left half-written
            temporary.write_text(text, encoding="utf-8")
        written.append(path)
    return written

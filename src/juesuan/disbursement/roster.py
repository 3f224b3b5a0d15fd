"""The roster (花名册) and life events (人员变动) from Excel (.xlsx) or CSV (UTF-8 or GB18030).

Roster columns (titles in the first row, any order): 姓名, 公民身份号码, 补贴类别 (the scheme's
code or name), 档次 (optional), 开始发放月份, 开户银行, 银行账号, 账户名 (optional; the 姓名 when
empty). Event columns: 公民身份号码, 补贴类别, 变动类型 (死亡/暂停/恢复/变更账户/变更档次/终止),
生效日期, 报告日期 (optional); 变更账户 also needs 开户银行/银行账号 (账户名 optional), 变更档次 the
new 档次.

Every problem is an `Issue` naming file, sheet, row (as Excel shows it), column title, the value
and what is accepted. Names and banks that a spreadsheet would run as formulas (starting with
= + - @, a tab or a carriage return) are refused: they go into the bank's batch files. A file with any error yields nothing (no half-accepted roster) but all the
errors; warnings (e.g. an account number failing the Luhn check) do not block.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, TypeVar

import openpyxl
import polars as pl
import xlsxwriter
from stdnum import luhn, numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from juesuan.ledger.issues import ERROR, WARNING, Issue, Source, utf16_text

from .banks.fields import FORMULA_ACCEPTED, FORMULA_REFUSED, formula_like
from .compute import roster_frame
from .model import (
    ACCOUNT_CHANGE,
    EVENT_NAMES,
    TIER_CHANGE,
    Beneficiary,
    LifeEvent,
    Month,
)
from .schemes import Schemes

__all__ = [
    "EVENT_HEADERS",
    "ROSTER_HEADERS",
    "EventsImport",
    "RosterImport",
    "check_account",
    "check_person_id",
    "read_events",
    "read_roster",
    "roster_frame",
    "write_template",
]

ROSTER_HEADERS = (
    "姓名",
    "公民身份号码",
    "补贴类别",
    "档次",
    "开始发放月份",
    "开户银行",
    "银行账号",
    "账户名",
)
EVENT_HEADERS = (
    "公民身份号码",
    "补贴类别",
    "变动类型",
    "生效日期",
    "报告日期",
    "开户银行",
    "银行账号",
    "账户名",
    "档次",
)

Input = str | Path | bytes | BinaryIO


@dataclass(frozen=True)
class RosterImport:
    """What a roster file gave: beneficiaries (empty when there is any error), errors, warnings."""

    beneficiaries: tuple[Beneficiary, ...] = ()
    errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()
    file: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def frame(self) -> pl.DataFrame:
        """The beneficiaries as the DataFrame `compute_month` takes (see `roster_frame`)."""
        return roster_frame(self.beneficiaries)


@dataclass(frozen=True)
class EventsImport:
    """What an events file gave: events (empty when there is any error), errors, warnings."""

    events: tuple[LifeEvent, ...] = ()
    errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()
    file: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


_Import = TypeVar("_Import", RosterImport, EventsImport)

NAME, PERSON_ID, SCHEME, TIER, START, BANK, ACCOUNT, ACCOUNT_NAME = ROSTER_HEADERS
KIND, DAY, REPORTED = "变动类型", "生效日期", "报告日期"
_ROSTER_REQUIRED = (NAME, PERSON_ID, SCHEME, START, BANK, ACCOUNT)
_EVENT_REQUIRED = (PERSON_ID, SCHEME, KIND, DAY)
ROSTER_SHEET, EVENTS_SHEET, HELP_SHEET = "花名册", "人员变动", "填写说明"

# 变动类型 as people write it: the full name ("暂停（未资格认证）") or its short form ("暂停").
_KIND_SHORT = {kind: name.split("（")[0] for kind, name in EVENT_NAMES.items()}
EVENT_KINDS = {**{n: k for k, n in EVENT_NAMES.items()}, **{n: k for k, n in _KIND_SHORT.items()}}
_KIND_CHOICES = "、".join(_KIND_SHORT.values())

_KNOWN = set(ROSTER_HEADERS) | set(EVENT_HEADERS)
_MONTH_ACCEPTED = "年月，如 2020-01、202001 或 2020年1月"
_DATE_ACCEPTED = "日期，如 2020-03-15、2020/3/15 或 2020年3月15日"
_ID_ACCEPTED = "18 位公民身份号码（末位可为 X），出生日期和校验位正确"
_ACCOUNT_ACCEPTED = "12–30 位数字的银行账号"
# Excel keeps 15 significant digits: a long number typed into a number cell is already wrong.
_AS_NUMBER = "{what}被存成了数字，超过 15 位的数字已被 Excel 截断；请把该列设为文本格式后重新填写"


# --- single values ----------------------------------------------------------------------------


def check_person_id(value: object) -> tuple[str | None, str | None, str | None]:
    """(normalised 18-character 公民身份号码 with upper-case X, error, warning).

    Checks length, characters, the birth date and the check digit (stdnum `cn.ric`). 15-digit
    old numbers are refused. stdnum's `ric.validate` also insists that the region code existed in
    the birth year, which refuses most older people (泸州江阳区 510502 exists since 1983, numbers
    were issued later than birth); so an unknown region code is only a warning here."""
    if isinstance(value, float):
        return None, _AS_NUMBER.format(what="号码"), None
    text = _plain(value).replace(" ", "").upper()
    if not text:
        return None, "公民身份号码为空", None
    if len(text) == 15 and text.isdigit():
        return None, "这是 15 位旧号码，请填写 18 位公民身份号码", None
    if len(text) != 18:
        return None, f"公民身份号码应为 18 位，这里是 {len(text)} 位", None
    if not re.fullmatch(r"\d{17}[\dX]", text):
        return None, "号码前 17 位只能是数字，末位是数字或 X", None
    try:
        born = ric.get_birth_date(text)
    except InvalidComponent:
        return None, f"号码中的出生日期 {text[6:14]} 不存在", None
    if born > date.today():
        return None, f"号码中的出生日期 {text[6:14]} 晚于今天", None
    if ric.calc_check_digit(text) != text[-1]:
        return None, "校验位（最后一位）不对，可能有数字填错", None
    if not _known_region(text[:6]):
        return text, None, f"号码前 6 位的地区码 {text[:6]} 不在行政区划代码表中，请核对"
    return text, None, None


@functools.cache
def _known_region(code: str) -> bool:
    # stdnum's table lookup is slow (a linear scan); a roster repeats a few hundred codes.
    return any(props for _, props in numdb.get("cn/loc").info(code))


def check_account(value: object) -> tuple[str | None, str | None, str | None]:
    """(digits, error, warning) for a bank account: digits only (spaces are dropped), 12–30 long.

    A number failing the Luhn check (银行卡校验位) is a warning only: many passbook and
    corporate-style accounts carry no Luhn digit."""
    if isinstance(value, float):
        return None, _AS_NUMBER.format(what="账号"), None
    text = _plain(value).replace(" ", "").replace("\u3000", "")
    if not text:
        return None, "银行账号为空", None
    if not text.isdigit():
        return None, "银行账号只能是数字", None
    if not 12 <= len(text) <= 30:
        return None, f"银行账号应为 12–30 位数字，这里是 {len(text)} 位", None
    warning = None if luhn.is_valid(text) else "账号未通过银行卡校验位（Luhn）检查，请核对是否抄错"
    return text, None, warning


def parse_month(value: object) -> Month | None:
    """A month from a cell: a date, 202001, '2020-01', '2020/1', '2020年1月'; None if not one."""
    if isinstance(value, datetime | date):
        return Month.of(value)
    text = _plain(value)
    match = re.fullmatch(r"(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*月?|(\d{2}))", text)
    if not match:
        return None
    month = int(match.group(2) or match.group(3))
    if not 1 <= month <= 12:
        return None
    return Month(int(match.group(1)), month)


def parse_date(value: object) -> date | None:
    """A day from a cell: a date, '2020-03-15', '2020/3/15', '2020.3.15', '20200315',
    '2020年3月15日'; None if not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _plain(value)
    match = re.fullmatch(
        r"(\d{4})(?:\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))", text
    )
    if not match:
        return None
    month = match.group(2) or match.group(4)
    day = match.group(3) or match.group(5)
    try:
        return date(int(match.group(1)), int(month), int(day))
    except ValueError:
        return None


# --- reading a sheet --------------------------------------------------------------------------


@dataclass
class _Sheet:
    file: str
    sheet: str | None
    header_row: int
    columns: dict[str, int]  # title -> position
    rows: list[tuple[int, list[object]]]  # (row as Excel shows it, cells)


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _title(value: object) -> str:
    # "公民身份号码*" and "公民身份号码（必填）" both name the column 公民身份号码.
    text = re.sub(r"\s+", "", _plain(value))
    return re.sub(r"(\*|＊|[（(]必填[)）]|[（(]选填[)）])$", "", text)


def _open(source: Input, filename: str | None, prefer: str, issues: list[Issue]) -> _Sheet | None:
    if isinstance(source, str | Path):
        path = Path(source)
        name = filename or path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            issues.append(Issue(ERROR, Source(name), f"无法读取文件：{exc.strerror or exc}"))
            return None
    elif isinstance(source, bytes):
        name, data = filename or "上传文件", source
    else:
        name, data = filename or getattr(source, "name", "上传文件"), source.read()
    name = Path(str(name)).name
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm") or (not suffix and data[:2] == b"PK"):
        return _open_xlsx(name, data, prefer, issues)
    if suffix in (".csv", ".txt") or not suffix:
        return _open_csv(name, data, issues)
    issues.append(
        Issue(
            ERROR,
            Source(name),
            "不支持这种文件",
            suffix,
            "Excel 工作簿（.xlsx）或 CSV 文件（.csv）",
        )
    )
    return None


def _open_xlsx(name: str, data: bytes, prefer: str, issues: list[Issue]) -> _Sheet | None:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or non-xlsx file
        issues.append(
            Issue(ERROR, Source(name), f"无法作为 Excel 工作簿打开：{exc}", accepted=".xlsx 工作簿")
        )
        return None
    try:
        names = book.sheetnames
        chosen = prefer if prefer in names else next((n for n in names if n != HELP_SHEET), None)
        if chosen is None:
            issues.append(Issue(ERROR, Source(name), "工作簿中没有可读取的工作表"))
            return None
        rows = book[chosen].iter_rows(values_only=True)
        return _collect(name, chosen, ((i, list(r)) for i, r in enumerate(rows, start=1)), issues)
    finally:
        book.close()


_CSV_ACCEPTED = (
    "UTF-8 或 GB18030 编码、逗号分隔的 CSV：在 Excel 中“另存为”，"
    "保存类型选“CSV UTF-8（逗号分隔）”或“CSV（逗号分隔）”；或直接上传 .xlsx 工作簿"
)


def _open_csv(name: str, data: bytes, issues: list[Issue]) -> _Sheet | None:
    utf16 = utf16_text(data, name, _CSV_ACCEPTED)
    if utf16 is not None:
        issues.append(utf16)
        return None
    # Excel-saved CSV in China is often GB18030; UTF-8 (with or without BOM) is tried first.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        issues.append(Issue(ERROR, Source(name), "无法识别文件编码", accepted=_CSV_ACCEPTED))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    return _collect(name, None, ((reader.line_num, row) for row in reader), issues)


def _collect(
    name: str,
    sheet: str | None,
    rows: Iterator[tuple[int, list[object]]],
    issues: list[Issue],
) -> _Sheet | None:
    filled = [(number, cells) for number, cells in rows if any(_plain(c) for c in cells)]
    if not filled:
        issues.append(Issue(ERROR, Source(name, sheet), "文件是空的，第一行应为列名"))
        return None
    # The header is the first row naming two known columns: a title row above it (“2020年花名册”)
    # is common in hand-made sheets.
    at = next(
        (
            i
            for i, (_, cells) in enumerate(filled[:20])
            if len({_title(c) for c in cells} & _KNOWN) >= 2
        ),
        0,
    )
    for number, _ in filled[:at]:
        issues.append(
            Issue(WARNING, Source(name, sheet, number), "此行在列名行之前，未作为数据读取")
        )
    header_row, header = filled[at]
    body = filled[at + 1 :]
    columns: dict[str, int] = {}
    for position, cell in enumerate(header):
        title = _title(cell)
        if not title:
            continue
        if title in columns:
            issues.append(
                Issue(
                    ERROR,
                    Source(name, sheet, header_row, title),
                    f"列名重复（第 {columns[title] + 1} 列和第 {position + 1} 列）",
                    title,
                    "每个列名只出现一次",
                )
            )
            continue
        columns[title] = position
    return _Sheet(name, sheet, header_row, columns, body)


def _check_headers(
    table: _Sheet, required: Iterable[str], known: Iterable[str], issues: list[Issue]
) -> bool:
    known = tuple(known)
    ok = True
    for title in required:
        if title not in table.columns:
            ok = False
            issues.append(
                Issue(
                    ERROR,
                    Source(table.file, table.sheet, table.header_row, title),
                    f"缺少“{title}”列",
                    accepted="列名：" + "、".join(known),
                )
            )
    for title in table.columns:
        if title not in known:
            issues.append(
                Issue(
                    WARNING,
                    Source(table.file, table.sheet, table.header_row, title),
                    "不认识的列，已忽略",
                    title,
                    "列名：" + "、".join(known),
                )
            )
    return ok


class _Row:
    """One data row: reads cells by column title and records issues with their place."""

    def __init__(self, table: _Sheet, number: int, cells: list[object], issues: list[Issue]):
        self.table, self.number, self.cells, self.issues = table, number, cells, issues
        self.failed = False

    def raw(self, title: str) -> object:
        position = self.table.columns.get(title)
        if position is None or position >= len(self.cells):
            return None
        return self.cells[position]

    def text(self, title: str) -> str:
        return _plain(self.raw(title))

    def error(self, title: str, message: str, accepted: str | None = None) -> None:
        self.failed = True
        self._add(ERROR, title, message, accepted)

    def warn(self, title: str, message: str, accepted: str | None = None) -> None:
        self._add(WARNING, title, message, accepted)

    def _add(self, severity: str, title: str, message: str, accepted: str | None) -> None:
        raw = self.raw(title)
        value = None if raw is None else _shown(raw)
        source = Source(self.table.file, self.table.sheet, self.number, title)
        self.issues.append(Issue(severity, source, message, value, accepted))

    def required(self, title: str, what: str) -> str:
        if not self.text(title):
            self.error(title, f"缺少{what}", f"非空的{what}")
            return ""
        return self.free_text(title)

    def free_text(self, title: str) -> str:
        """A name or bank as written; refused when a spreadsheet would run it as a formula
        (these values go into the bank's batch files)."""
        text = self.text(title)
        if formula_like(text):
            self.error(title, FORMULA_REFUSED, FORMULA_ACCEPTED)
            return ""
        return text

    def person_id(self) -> str:
        found, problem, warning = check_person_id(self.raw(PERSON_ID))
        if problem:
            self.error(PERSON_ID, problem, _ID_ACCEPTED)
        elif warning:
            self.warn(PERSON_ID, warning)
        return found or ""

    def scheme(self, schemes: Schemes) -> str:
        text = self.text(SCHEME)
        if not text:
            self.error(SCHEME, "缺少补贴类别", schemes.accepted())
            return ""
        found = schemes.find(text)
        if found is None:
            self.error(SCHEME, "没有这个补贴类别", schemes.accepted())
            return ""
        return found.code

    def tier(self, schemes: Schemes, scheme: str, *, needed: bool = False) -> str:
        text = self.text(TIER)
        if not scheme:
            return text
        tiers = schemes.tiers(scheme)
        named = [t for t in tiers if t]
        if needed and not text:
            self.error(
                TIER, "变更档次需要填写新的档次", "、".join(named) or "（该补贴类别不分档次）"
            )
        elif text not in tiers:
            if named:
                self.error(TIER, "该补贴类别没有这个档次", "、".join(named))
            else:
                self.error(TIER, "该补贴类别不分档次，档次应留空", "空")
        return text

    def account(self) -> str:
        found, problem, warning = check_account(self.raw(ACCOUNT))
        if problem:
            self.error(ACCOUNT, problem, _ACCOUNT_ACCEPTED)
        elif warning:
            self.warn(ACCOUNT, warning)
        return found or ""

    def day(self, title: str, *, needed: bool) -> date | None:
        raw = self.raw(title)
        if not _plain(raw):
            if needed:
                self.error(title, f"缺少{title}", _DATE_ACCEPTED)
            return None
        found = parse_date(raw)
        if found is None:
            self.error(title, "不是有效的日期", _DATE_ACCEPTED)
        return found


def _shown(raw: object) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, float):
        return repr(raw)
    return str(raw)


# --- the roster -------------------------------------------------------------------------------


def read_roster(source: Input, schemes: Schemes, *, filename: str | None = None) -> RosterImport:
    """Read a 花名册 from a path, bytes or a binary file (then `filename` tells the kind).

    The sheet named 花名册 is read, or else the first sheet that is not 填写说明."""
    issues: list[Issue] = []
    table = _open(source, filename, ROSTER_SHEET, issues)
    if table is None or not _check_headers(table, _ROSTER_REQUIRED, ROSTER_HEADERS, issues):
        return _imported(RosterImport, table, (), issues, filename)
    found: list[Beneficiary] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in table.rows:
        row = _Row(table, number, cells, issues)
        name = row.required(NAME, "姓名")
        person = row.person_id()
        scheme = row.scheme(schemes)
        tier = row.tier(schemes, scheme)
        start = None
        if not row.text(START):
            row.error(START, "缺少开始发放月份", _MONTH_ACCEPTED)
        else:
            start = parse_month(row.raw(START))
            if start is None:
                row.error(START, "不是有效的月份", _MONTH_ACCEPTED)
        bank = row.required(BANK, "开户银行")
        account = row.account()
        account_name = row.free_text(ACCOUNT_NAME) or name
        if person and scheme:
            if (person, scheme) in seen:
                row.error(
                    PERSON_ID,
                    f"与第{seen[(person, scheme)]}行是同一人、同一补贴类别；一人在同一补贴类别只能有一行",
                    "每人每个补贴类别一行",
                )
            else:
                seen[(person, scheme)] = number
        if row.failed or start is None:
            continue
        found.append(
            Beneficiary(
                person_id=person,
                name=name,
                scheme=scheme,
                start=start,
                bank=bank,
                account=account,
                account_name=account_name,
                tier=tier,
            )
        )
    if not found and not any(i.severity == ERROR for i in issues) and not table.rows:
        issues.append(
            Issue(
                ERROR,
                Source(table.file, table.sheet),
                "花名册中没有人员",
                accepted="列名下每人一行",
            )
        )
    return _imported(RosterImport, table, found, issues, filename)


def _imported(
    kind: type[_Import],
    table: _Sheet | None,
    found: Iterable[object],
    issues: list[Issue],
    filename: str | None,
) -> _Import:
    errors = tuple(i for i in issues if i.severity == ERROR)
    warnings = tuple(i for i in issues if i.severity == WARNING)
    file = table.file if table is not None else (filename or "")
    # Nothing is half-accepted: any error keeps the whole file out.
    return kind(() if errors else tuple(found), errors, warnings, file)


# --- life events ------------------------------------------------------------------------------


def read_events(
    source: Input,
    schemes: Schemes,
    roster: RosterImport | Iterable[Beneficiary] | pl.DataFrame | None = None,
    *,
    filename: str | None = None,
) -> EventsImport:
    """Read 人员变动 from a path, bytes or a binary file.

    With `roster`, an event for a person who is not on it in that scheme is an error."""
    issues: list[Issue] = []
    table = _open(source, filename, EVENTS_SHEET, issues)
    if table is None or not _check_headers(table, _EVENT_REQUIRED, EVENT_HEADERS, issues):
        return _imported(EventsImport, table, (), issues, filename)
    known = _roster_keys(roster)
    found: list[LifeEvent] = []
    seen: dict[tuple[str, str, str, date], int] = {}
    for number, cells in table.rows:
        row = _Row(table, number, cells, issues)
        person = row.person_id()
        scheme = row.scheme(schemes)
        kind_text = row.text(KIND)
        kind = EVENT_KINDS.get(kind_text.replace(" ", ""))
        if kind is None:
            row.error(KIND, "没有这种变动类型" if kind_text else "缺少变动类型", _KIND_CHOICES)
        day = row.day(DAY, needed=True)
        reported = row.day(REPORTED, needed=False)
        if day and reported and reported < day:
            row.error(
                REPORTED, f"报告日期早于生效日期（{day.isoformat()}）", "不早于生效日期的日期"
            )
        detail: dict[str, str] = {}
        if kind == ACCOUNT_CHANGE:
            detail["bank"] = row.required(BANK, "新的开户银行")
            if not row.text(ACCOUNT):
                row.error(ACCOUNT, "变更账户需要填写新的银行账号", _ACCOUNT_ACCEPTED)
            else:
                detail["account"] = row.account()
            if row.text(ACCOUNT_NAME):
                detail["account_name"] = row.free_text(ACCOUNT_NAME)
        elif kind == TIER_CHANGE:
            detail["tier"] = row.tier(schemes, scheme, needed=True)
        if known is not None and person and scheme and (person, scheme) not in known:
            row.error(PERSON_ID, "花名册中没有此人在该补贴类别的记录", "花名册中已有的人员")
        if row.failed or kind is None or day is None:
            continue
        key = (person, scheme, kind, day)
        if key in seen:
            row.warn(KIND, f"与第{seen[key]}行的变动重复，已只保留一条")
            continue
        seen[key] = number
        found.append(LifeEvent(person, scheme, kind, day, reported, detail))
    return _imported(EventsImport, table, found, issues, filename)


def _roster_keys(roster) -> set[tuple[str, str]] | None:
    if roster is None:
        return None
    if isinstance(roster, RosterImport):
        roster = roster.beneficiaries
    if isinstance(roster, pl.DataFrame):
        return set(roster.select("person_id", "scheme").iter_rows())
    return {(b.person_id, b.scheme) for b in roster}


# --- templates --------------------------------------------------------------------------------

_ROSTER_HELP = (
    (NAME, "必填", "领取人姓名"),
    (PERSON_ID, "必填", "18 位公民身份号码，末位 X 大小写均可；15 位旧号码请换成 18 位"),
    (SCHEME, "必填", "补贴类别的名称或代码"),
    (TIER, "选填", "补贴分档次时填写档次名称；不分档次留空"),
    (START, "必填", "从哪个月开始发放，如 2020-01"),
    (BANK, "必填", "开户银行名称，如 中国工商银行泸州分行"),
    (ACCOUNT, "必填", "12–30 位数字，不要加空格以外的符号；请保持文本格式，避免 Excel 截断"),
    (ACCOUNT_NAME, "选填", "银行账户的户名；与姓名相同时可留空"),
)
_EVENTS_HELP = (
    (PERSON_ID, "必填", "18 位公民身份号码"),
    (SCHEME, "必填", "补贴类别的名称或代码"),
    (KIND, "必填", "死亡、暂停（未资格认证）、恢复、变更账户、变更档次、终止之一"),
    (DAY, "必填", "变动生效的日期，如 2020-03-15；死亡当月照常发放，次月起停发"),
    (REPORTED, "选填", "得知变动的日期；晚于已发放月份时，多发部分列入追回"),
    (BANK, "变更账户时必填", "新的开户银行"),
    (ACCOUNT, "变更账户时必填", "新的银行账号，12–30 位数字"),
    (ACCOUNT_NAME, "选填", "新账户的户名；留空则沿用原户名"),
    (TIER, "变更档次时必填", "新的档次"),
)


def write_template(path: str | Path, kind: str = "roster", schemes: Schemes | None = None) -> Path:
    """An empty workbook to fill in: kind 'roster' (花名册) or 'events' (人员变动), with a
    填写说明 sheet. With `schemes`, the 补贴类别 and 档次 columns offer their values in a list."""
    if kind not in ("roster", "events"):
        raise ValueError(f"kind must be 'roster' or 'events', not {kind!r}")
    path = Path(path)
    headers, help_rows, sheet_name = (
        (ROSTER_HEADERS, _ROSTER_HELP, ROSTER_SHEET)
        if kind == "roster"
        else (EVENT_HEADERS, _EVENTS_HELP, EVENTS_SHEET)
    )
    book = xlsxwriter.Workbook(str(path))
    try:
        bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        text = book.add_format({"num_format": "@"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        sheet = book.add_worksheet(sheet_name)
        for position, title in enumerate(headers):
            sheet.write_string(0, position, title, bold)
            # Every column is text: long numbers must not turn into 1.10105E+17.
            sheet.set_column(position, position, 24 if title in (PERSON_ID, ACCOUNT) else 16, text)
        sheet.freeze_panes(1, 0)

        def offer(title: str, values: list[str], **options: str) -> None:
            # A drop-down list on the column's first 10,000 rows.
            column = headers.index(title)
            sheet.data_validation(
                1, column, 10000, column, {"validate": "list", "source": values, **options}
            )

        if schemes is not None and len(schemes):
            offer(SCHEME, [s.name for s in schemes], error_type="warning")
            tiers = sorted({st.tier for s in schemes for st in s.standards if st.tier})
            if tiers:
                offer(TIER, tiers, error_type="warning")
        if kind == "events":
            offer(KIND, list(_KIND_SHORT.values()))
        helper = book.add_worksheet(HELP_SHEET)
        for position, title in enumerate(("列名", "是否必填", "填写要求")):
            helper.write_string(0, position, title, bold)
        for number, cells in enumerate(help_rows, start=1):
            for position, value in enumerate(cells):
                helper.write_string(number, position, value, wrap)
        helper.set_column(0, 0, 14)
        helper.set_column(1, 1, 16)
        helper.set_column(2, 2, 70)
        note = len(help_rows) + 2
        helper.write_string(note, 0, "说明", bold)
        helper.write_string(
            note,
            2,
            "第一行是列名，请勿改动；每行一条记录。有错误的文件整份不导入，"
            "系统会列出每个错误所在的行、列和可接受的写法。姓名、户名、开户银行不能以"
            " = + - @、制表符或回车开头（表格软件会把它们当作公式）。",
            wrap,
        )
        if schemes is not None and len(schemes):
            helper.write_string(note + 1, 0, "补贴类别", bold)
            helper.write_string(note + 1, 2, schemes.accepted(), wrap)
    finally:
        book.close()
    return path

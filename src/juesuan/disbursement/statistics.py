"""Figures from payments: monthly and yearly statistics per scheme, the monthly fund request
(资金申请表), ledger postings (one spending line per scheme per month) and the measures the
performance evaluation takes.

Everything here is a function of stored payments (`model.Payment`) and schemes; money is 分 in,
Decimal 元 out where a report or the ledger wants 元.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from juesuan.disbursement.model import (
    CANCELLED,
    PAID,
    REISSUED,
    RETURNED,
    SENT,
    WITHDRAWN,
    Month,
    Payment,
    Scheme,
)
from juesuan.files import replaced
from juesuan.money import from_fen, round_preserving_total
from juesuan.money import wan as to_wan

GENERAL_BUDGET = "一般公共预算财政拨款"
PROJECT_SPENDING = "项目支出"
ACTUAL = "决算"

# The columns of a spending CSV (examples/luzhou-2020/spending.csv; juesuan.ledger.schema).
SPENDING_COLUMNS = (
    "阶段",
    "资金来源",
    "功能分类科目编码",
    "功能分类科目名称",
    "经济分类科目编码",
    "经济分类科目名称",
    "支出性质",
    "项目名称",
    "金额",
    "备注",
)

# What 按时发放率 reads when the bank's result format gives no paid date: the import day is no
# stand-in for it, and a 0% rate would accuse the office of paying late.
NO_BANK_DATE = "无银行到账日期"

# Statuses of payments that went to the bank (发放人次 counts these).
MADE = (SENT, PAID, RETURNED, REISSUED, CANCELLED)


@dataclass(frozen=True)
class Figures:
    """One scheme over one period (a month or a year).

    persons   发放人数: distinct persons with at least one paid payment
    payments  发放人次: payments made, i.e. sent to the bank (regular and re-issues)
    amount    发放金额: paid amount, 分
    returned  失败退回人次: payments the bank returned
    on_time   payments paid on or before the scheme's payment day of their month
    undated   paid payments whose bank result gave no paid date (the format has none): while
              there are any, 按时发放率 cannot be known and reads NO_BANK_DATE
    """

    scheme: str
    period: str  # "2020-03" or "2020"
    persons: int
    payments: int
    amount: int
    returned: int
    on_time: int
    undated: int = 0

    @property
    def amount_yuan(self) -> Decimal:
        return Decimal(self.amount) / 100

    @property
    def return_rate(self) -> Decimal | None:
        """失败退回率 in %: returned ÷ payments made (发放人次, not persons); None without payments."""
        return _percent(self.returned, self.payments)

    @property
    def on_time_rate(self) -> Decimal | None:
        """按时发放率 in %: paid by the payment day ÷ payments made; None without payments or
        when a paid payment has no bank date (`on_time_unknown` says why)."""
        return None if self.undated else _percent(self.on_time, self.payments)

    @property
    def on_time_unknown(self) -> str:
        """Why 按时发放率 cannot be given (NO_BANK_DATE); "" when it can."""
        return NO_BANK_DATE if self.undated else ""


def _percent(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else Decimal(part) * 100 / Decimal(whole)


def monthly_figures(
    payments: Iterable[Payment], schemes: Mapping[str, Scheme], month: Month
) -> list[Figures]:
    """Figures per scheme (every scheme in `schemes`, zero when nothing was paid) for the
    payments belonging to `month`: key.month, so a re-issue counts in the month of the payment
    it replaces, and is paid on time only if paid by that month's payment day."""
    return _figures(payments, schemes, str(month), lambda m: m == month)


def yearly_figures(
    payments: Iterable[Payment], schemes: Mapping[str, Scheme], year: int
) -> list[Figures]:
    """Figures per scheme over the payments of all months of `year`. 发放人数 counts a person
    once for the year; the other figures are sums over the months."""
    return _figures(payments, schemes, str(year), lambda m: m.year == year)


def _figures(
    payments: Iterable[Payment],
    schemes: Mapping[str, Scheme],
    period: str,
    within: Callable[[Month], bool],
) -> list[Figures]:
    made: dict[str, list[Payment]] = defaultdict(list)
    for payment in payments:
        if payment.status in MADE and within(payment.key.month):
            made[payment.key.scheme].append(payment)
    found = []
    for code, scheme in schemes.items():
        rows = made.get(code, [])
        paid = [p for p in rows if p.status == PAID]
        found.append(
            Figures(
                scheme=code,
                period=period,
                persons=len({p.key.person_id for p in paid}),
                payments=len(rows),
                amount=sum(p.amount for p in paid),
                returned=sum(1 for p in rows if p.status in (RETURNED, REISSUED, CANCELLED)),
                on_time=sum(1 for p in paid if _on_time(p, scheme)),
                undated=sum(1 for p in paid if p.paid_on is None),
            )
        )
    return found


def _on_time(payment: Payment, scheme: Scheme) -> bool:
    if payment.paid_on is None:
        return False
    month = payment.key.month
    # A payment day past the month's end (31 in April) means the month's last day.
    day = min(scheme.payment_day, calendar.monthrange(month.year, month.month)[1])
    return payment.paid_on <= date(month.year, month.month, day)


@dataclass(frozen=True)
class FundRequestLine:
    """One scheme's line of the fund request: persons and amount of the month's regular run."""

    scheme: str
    name: str
    project: str
    persons: int
    payments: int
    amount: int  # 分


def fund_request(
    payments: Iterable[Payment], schemes: Mapping[str, Scheme], month: Month
) -> list[FundRequestLine]:
    """The monthly fund request (资金申请表): per scheme, the persons, payments and amount of the
    month's regular payments (sequence 1) that are prepared or approved (not withdrawn)."""
    rows: dict[str, list[Payment]] = defaultdict(list)
    for payment in payments:
        key = payment.key
        if key.month == month and key.sequence == 1 and payment.status != WITHDRAWN:
            rows[key.scheme].append(payment)
    return [
        FundRequestLine(
            code,
            scheme.name,
            scheme.project_name,
            len({p.key.person_id for p in rows.get(code, [])}),
            len(rows.get(code, [])),
            sum(p.amount for p in rows.get(code, [])),
        )
        for code, scheme in schemes.items()
    ]


def write_fund_request(
    lines: list[FundRequestLine], month: Month, path: Path, unit: str = ""
) -> Path:
    """Write the fund request as an xlsx workbook: one sheet 资金申请表 with a title, the
    columns 序号 / 补贴类别 / 项目名称 / 发放人数（人） / 发放笔数（笔） / 申请金额（元） /
    申请金额（万元） and a 合计 row. 元 are exact; 万元 are rounded half-up with 舍位平衡 so the
    lines add up to the 合计 (adjusted lines are noted under the table)."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    title = f"{unit}{month.year}年{month.month}月代发补贴资金申请表"
    yuan = [Decimal(line.amount) / 100 for line in lines]
    total_yuan = sum(yuan, Decimal(0))
    shown, adjustments = round_preserving_total([y / 10000 for y in yuan])
    total_wan = to_wan(total_yuan)

    with replaced(path) as temporary:
        workbook = xlsxwriter.Workbook(str(temporary))
        try:
            sheet = workbook.add_worksheet("资金申请表")
            bold = {"bold": True, "font_name": "宋体", "border": 1, "align": "center"}
            title_format = workbook.add_format(
                {"bold": True, "font_size": 16, "align": "center", "font_name": "宋体"}
            )
            head = workbook.add_format({**bold, "text_wrap": True, "valign": "vcenter"})
            text = workbook.add_format({"border": 1, "font_name": "宋体"})
            count = workbook.add_format({"border": 1, "num_format": "#,##0"})
            money = workbook.add_format({"border": 1, "num_format": "#,##0.00"})
            total_text = workbook.add_format({**bold})
            total_count = workbook.add_format({"border": 1, "bold": True, "num_format": "#,##0"})
            total_money = workbook.add_format({"border": 1, "bold": True, "num_format": "#,##0.00"})
            headers = (
                "序号",
                "补贴类别",
                "项目名称",
                "发放人数（人）",
                "发放笔数（笔）",
                "申请金额（元）",
                "申请金额（万元）",
            )
            sheet.merge_range(0, 0, 0, len(headers) - 1, title, title_format)
            sheet.write(1, 0, f"申请月份：{month.year}年{month.month}月")
            sheet.write(1, len(headers) - 1, "金额单位：元、万元")
            sheet.write_row(2, 0, headers, head)
            for i, (line, amount, wan_shown) in enumerate(zip(lines, yuan, shown, strict=True)):
                row = 3 + i
                sheet.write_number(row, 0, i + 1, count)
                sheet.write_string(row, 1, line.name, text)
                sheet.write_string(row, 2, line.project, text)
                sheet.write_number(row, 3, line.persons, count)
                sheet.write_number(row, 4, line.payments, count)
                # xlsx stores numbers as binary floats; the Decimal is exact to the cent here.
                sheet.write_number(row, 5, amount, money)
                sheet.write_number(row, 6, wan_shown, money)
            row = 3 + len(lines)
            sheet.merge_range(row, 0, row, 2, "合计", total_text)
            sheet.write_number(row, 3, sum(line.persons for line in lines), total_count)
            sheet.write_number(row, 4, sum(line.payments for line in lines), total_count)
            sheet.write_number(row, 5, total_yuan, total_money)
            sheet.write_number(row, 6, total_wan, total_money)
            note_row = row + 2
            sheet.write(
                note_row,
                0,
                "说明：万元数按四舍五入保留两位小数；为使各项之和等于合计，做了舍位平衡。",
            )
            for adjustment in adjustments:
                note_row += 1
                line = lines[adjustment.index]
                sheet.write(
                    note_row,
                    0,
                    f"{line.name}：{adjustment.rounded} 万元调为 {adjustment.shown} 万元（舍位平衡）。",
                )
            sheet.set_column(0, 0, 6)
            sheet.set_column(1, 2, 30)
            sheet.set_column(3, 6, 16)
        finally:
            workbook.close()
    return path


def ledger_postings(
    payments: Iterable[Payment],
    schemes: Mapping[str, Scheme],
    year: int,
    fund: str = GENERAL_BUDGET,
) -> list[dict[str, str]]:
    """Ledger spending lines (决算) for paid amounts: one per scheme per month with money paid,
    in the column layout of a spending CSV (`SPENDING_COLUMNS`): phase 决算, `fund` (一般公共预算
    财政拨款 unless configured), the scheme's function and economic codes with their names,
    nature 项目支出, project = the scheme's project name, amount in 元 with two places. A
    payment is booked in the month it is for (key.month), like the statistics."""
    payments = list(payments)
    months = [Month(year, number) for number in range(1, 13)]
    monthly = {m: monthly_figures(payments, schemes, m) for m in months}
    return postings_from_figures(monthly, schemes, year, fund)


def postings_from_figures(
    monthly: Mapping[Month, Iterable[Figures]],
    schemes: Mapping[str, Scheme],
    year: int,
    fund: str = GENERAL_BUDGET,
) -> list[dict[str, str]]:
    """`ledger_postings` from each month's figures per scheme (however they were counted)."""
    from juesuan.codes.load import economic_codes, function_codes

    functions, economics = function_codes(year), economic_codes(year)
    months = sorted(monthly)
    by_month = {m: {f.scheme: f for f in monthly[m]} for m in months}
    rows = []
    for code, scheme in schemes.items():
        for month in months:
            figures = by_month[month].get(code)
            if figures is None or figures.amount == 0:
                continue
            rows.append(
                {
                    "阶段": ACTUAL,
                    "资金来源": fund,
                    "功能分类科目编码": scheme.function_code,
                    "功能分类科目名称": functions.name(scheme.function_code) or "",
                    "经济分类科目编码": scheme.economic_code,
                    "经济分类科目名称": economics.name(scheme.economic_code) or "",
                    "支出性质": PROJECT_SPENDING,
                    "项目名称": scheme.project_name,
                    "金额": f"{figures.amount_yuan:.2f}",
                    "备注": f"代发系统生成：{month.year}年{month.month}月实发{figures.persons}人",
                }
            )
    return rows


def write_postings(rows: Iterable[Mapping[str, str]], path: Path) -> Path:
    """The posting rows as an xlsx workbook whose one sheet, 支出, has the dataset workbook's
    spending columns: its rows can be pasted into a dataset's 支出 sheet as they are."""
    import xlsxwriter

    from juesuan.ledger.export import write_decimal

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replaced(path) as temporary:
        book = xlsxwriter.Workbook(str(temporary))
        sheet = book.add_worksheet("支出")
        bold = book.add_format({"bold": True})
        amount = book.add_format({"num_format": "#,##0.00"})
        sheet.write_row(0, 0, SPENDING_COLUMNS, bold)
        money = SPENDING_COLUMNS.index("金额")
        for number, row in enumerate(rows, start=1):
            for position, column in enumerate(SPENDING_COLUMNS):
                if position == money:  # a number where Excel keeps it exactly, else text
                    write_decimal(sheet, number, position, Decimal(row[column]), amount)
                else:
                    sheet.write_string(number, position, row[column])
        sheet.set_column(0, len(SPENDING_COLUMNS) - 1, 16)
        book.close()
    return path


def sum_postings(rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Posting rows with the same tags (every column but 金额 and 备注) summed into one, in
    first-seen order; the 备注 of the first row is kept. For a ledger that books a scheme's
    year as one line."""
    summed: dict[tuple[str, ...], dict[str, str]] = {}
    totals: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    for row in rows:
        tags = tuple(row[c] for c in SPENDING_COLUMNS if c not in ("金额", "备注"))
        summed.setdefault(tags, dict(row))
        totals[tags] += Decimal(row["金额"])
    return [{**row, "金额": f"{totals[tags]:.2f}"} for tags, row in summed.items()]


def performance_measures(
    figures: Iterable[Figures], schemes: Mapping[str, Scheme]
) -> dict[tuple[str, str], Decimal | int]:
    """{(project, name): value} for `juesuan.performance.evaluate_performance(measures=...)`,
    from yearly figures: 发放人数 (persons), 发放笔数 (payments made, re-issues included),
    失败退回笔数 (returned payments), 发放金额 (元, Decimal) and 按时发放笔数. The evaluation
    computes 失败退回率 = 失败退回笔数 ÷ 发放笔数 and 人均补贴成本 = 发放金额 ÷ 发放人数 from these.
    Schemes paid from one project add up in it (persons too: each scheme's roster is its own).
    A project with paid payments the bank gave no date for gets no 按时发放笔数 but the reason
    (`Unavailable`), so 按时发放率 says 无银行到账日期 instead of a rate."""
    from juesuan.performance.measures import Unavailable

    totals: dict[str, dict[str, int]] = {}
    for item in figures:
        project = totals.setdefault(schemes[item.scheme].project_name, defaultdict(int))
        for name in ("persons", "payments", "returned", "amount", "on_time", "undated"):
            project[name] += getattr(item, name)
    measures: dict[tuple[str, str], Decimal | int | Unavailable] = {}
    for project, sums in totals.items():
        measures[(project, "发放人数")] = sums["persons"]
        measures[(project, "发放笔数")] = sums["payments"]
        measures[(project, "失败退回笔数")] = sums["returned"]
        measures[(project, "发放金额")] = from_fen(sums["amount"]).quantize(Decimal("0.01"))
        measures[(project, "按时发放笔数")] = (
            Unavailable(
                f"“{project}”有 {sums['undated']} 笔付款{NO_BANK_DATE}（银行回盘格式不含到账日期），"
                "无法计算按时发放率"
            )
            if sums["undated"]
            else sums["on_time"]
        )
    return measures


def wan(fen: int) -> Decimal:
    """分 → 万元 with two places, half up."""
    return to_wan(from_fen(fen))


__all__ = [
    "MADE",
    "NO_BANK_DATE",
    "SPENDING_COLUMNS",
    "Figures",
    "FundRequestLine",
    "fund_request",
    "ledger_postings",
    "monthly_figures",
    "performance_measures",
    "postings_from_figures",
    "sum_postings",
    "wan",
    "write_fund_request",
    "write_postings",
    "yearly_figures",
]

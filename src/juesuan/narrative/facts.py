"""Facts: every number the document's text may state, each with where it comes from.

A fact is computed once, from the statements (shown 万元 figures, so text and tables agree to the
cent), from the ledger (budgets), or from the dataset's other facts and last year's figures.
Percentages are computed from 元 values. The narrative refers to facts by key and never types a
number; the text check re-derives every printed number from its fact's source.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from juesuan.ledger.model import Dataset
from juesuan.ledger.schema import FACT_KEYS, FISCAL_FUNDS, GENERAL_BUDGET, SPENDING
from juesuan.money import CENT, percent, wan
from juesuan.performance import PerformanceResult, evaluate_performance
from juesuan.statements.model import Statements

MONEY = "万元"
PERCENT = "%"
SCORE = "分"


@dataclass(frozen=True)
class Fact:
    key: str
    value: Decimal  # 万元 for money, percentage points for rates, the count for counts
    unit: str  # 万元 | % | 年 | 人 | 人次 | 批次 | 辆 | 台（套） | 个 | 分
    source: str  # where it comes from, in words: 收入支出决算总表·总计, 上年数·收支总计, …
    cell: tuple[str, str, str | None] | None = None  # (table id, row, column) when from a table

    @property
    def text(self) -> str:
        return format_number(self.value, self.unit)


def format_number(value: Decimal, unit: str, percent_places: int | None = None) -> str:
    """As the reference case prints numbers in text: 5686.09 万元, 0 万元, 76.39%, 100%, 79.8%;
    with `percent_places` a percentage or a score keeps that many places (100.00%, 100.00 分)."""
    if unit == MONEY:
        return "0" if value == 0 else f"{value.quantize(CENT)}"
    if unit in (PERCENT, SCORE) and percent_places is not None:
        return f"{value.quantize(Decimal(1).scaleb(-percent_places), rounding=ROUND_HALF_UP)}"
    if unit == PERCENT:
        shown = value.quantize(CENT, rounding=ROUND_HALF_UP).normalize()
        return f"{shown:f}"
    return f"{value.normalize():f}"


class Facts(dict):
    """key -> Fact, with helpers to add the usual kinds."""

    def add(self, key: str, value: Decimal | int, unit: str, source: str, cell=None) -> Fact:
        fact = Fact(key, Decimal(value), unit, source, cell)
        self[key] = fact
        return fact

    def money_cell(
        self, key: str, statements: Statements, table: str, row: str, column: str | None = None
    ):
        found = statements.table(table)
        located = found.find(row, column) if found else None
        if located is None:  # a code row left out for being zero
            return self.add(
                key,
                Decimal(0),
                MONEY,
                f"{found.title if found else table}·{row}",
                (table, row, column),
            )
        _, found_row, index = located
        cell = found_row.cells[index]
        shown = cell.shown if cell.shown is not None else Decimal(0)
        exact = cell.exact if cell.exact is not None else Decimal(0)
        label = f"{found.title}·{found_row.label or row}" + (f"·{column}" if column else "")
        fact = self.add(key, shown, MONEY, label, (table, row, column))
        self.exact[key] = exact
        return fact

    def money_yuan(self, key: str, yuan: Decimal, source: str) -> Fact:
        self.exact[key] = yuan
        return self.add(key, wan(yuan), MONEY, source)

    def share(self, key: str, part: str, whole: str) -> Fact | None:
        value = percent(self.exact[part], self.exact[whole])
        if value is None:
            return None
        return self.add(key, value, PERCENT, f"{part} ÷ {whole}")

    def change(self, key: str, now: str, before: str) -> None:
        """key.变动 (万元, absolute), key.变动率 (%, absolute), key.方向 (+1, 0, -1)."""
        delta = self.exact[now] - self.exact[before]
        self.exact[f"{key}.变动"] = abs(delta)
        shown = self.add(f"{key}.变动", wan(abs(delta)), MONEY, f"|{now} − {before}|")
        # A change that shows as 0.00 万元 (under half of the last shown place) is 持平.
        self.direction[key] = 0 if shown.value == 0 else (delta > 0) - (delta < 0)
        rate = percent(abs(delta), self.exact[before])
        if rate is not None:
            self.add(f"{key}.变动率", rate, PERCENT, f"|{now} − {before}| ÷ {before}")

    def __init__(self) -> None:
        super().__init__()
        self.exact: dict[str, Decimal] = {}  # 元, for money facts: shares are computed from these
        self.direction: dict[str, int] = {}  # +1 increase, -1 decrease, 0 unchanged
        self.budget_phase = "年初预算"  # or 调整预算: what `.预算` facts hold


INCOME_ROWS = (
    "一般公共预算财政拨款收入",
    "政府性基金预算财政拨款收入",
    "国有资本经营预算财政拨款收入",
    "上级补助收入",
    "事业收入",
    "经营收入",
    "附属单位上缴收入",
    "其他收入",
)
SPENDING_COLUMNS = ("基本支出", "项目支出", "上缴上级支出", "经营支出", "对附属单位补助支出")
THREE_PUBLIC_PARTS = {
    "因公出国（境）费": "因公出国（境）费",
    "公务用车购置及运行维护费": "公务用车购置及运行维护费.小计",
    "公务用车购置费": "公务用车购置及运行维护费.公务用车购置费",
    "公务用车运行维护费": "公务用车购置及运行维护费.公务用车运行维护费",
    "公务接待费": "公务接待费",
}


def collect(
    dataset: Dataset, statements: Statements, performance: PerformanceResult | None = None
) -> Facts:
    """Every fact of the text. `performance` is the dataset's evaluation (evaluated here when not
    given) for the facts of 十（四） 预算绩效管理情况."""
    facts = Facts()
    unit = dataset.unit
    facts.add("年度", unit.year, "年", "单位信息·年度")
    facts.add("上年度", unit.year - 1, "年", "单位信息·年度 − 1")

    def prior(key: str, name: str | None = None) -> bool:
        fact = dataset.prior_year.get(name or key)
        if fact is None:
            return False
        facts.money_yuan(f"{key}.上年", Decimal(fact.value), f"上年数·{name or key}")
        facts.change(key, key, f"{key}.上年")
        return True

    # 一 收入支出决算总体情况
    facts.money_cell("收支总计", statements, "summary", "收入总计")
    facts.money_cell("支出总计", statements, "summary", "支出总计")
    prior("收支总计")
    # 二 收入
    facts.money_cell("本年收入合计", statements, "summary", "本年收入合计")
    for row in INCOME_ROWS:
        facts.money_cell(f"收入.{row}", statements, "summary", row)
        facts.share(f"收入.{row}.占比", f"收入.{row}", "本年收入合计")
    # the three funds' income as one, as the 收入决算表 prints it (the Shanghai 2024 wording)
    facts.money_cell("收入.财政拨款收入", statements, "income", "合计", "财政拨款收入")
    facts.share("收入.财政拨款收入.占比", "收入.财政拨款收入", "本年收入合计")
    # 三 支出
    facts.money_cell("本年支出合计", statements, "spending", "合计", "本年支出合计")
    for column in SPENDING_COLUMNS:
        facts.money_cell(f"支出.{column}", statements, "spending", "合计", column)
        facts.share(f"支出.{column}.占比", f"支出.{column}", "本年支出合计")
    # 四 财政拨款
    facts.money_cell("财政拨款收支总计", statements, "fiscal_summary", "收入总计")
    prior("财政拨款收支总计")
    # 五 一般公共预算财政拨款
    facts.money_cell("一般公共预算财政拨款支出", statements, "general", "合计", "合计")
    facts.share("一般公共预算财政拨款支出.占比", "一般公共预算财政拨款支出", "本年支出合计")
    prior("一般公共预算财政拨款支出")
    general = statements.table("general").sections[0]
    ledger = dataset.ledger
    budget_phase = "调整预算" if ledger.count(phase="调整预算") else "年初预算"
    facts.budget_phase = budget_phase
    budgets(facts, dataset, "一般公共预算财政拨款支出", GENERAL_BUDGET, None)
    for row in general.rows:
        if not row.code:
            continue
        key = f"功能.{row.code}"
        facts.money_cell(key, statements, "general", row.code, "合计")
        if len(row.code) == 3:
            facts.share(f"{key}.占比", key, "一般公共预算财政拨款支出")
        if len(row.code) == 7:
            budgets(facts, dataset, key, GENERAL_BUDGET, row.code)
    # 六 基本支出
    facts.money_cell("基本支出", statements, "general", "合计", "基本支出")
    facts.money_cell("人员经费", statements, "general_basic", "人员经费合计")
    facts.money_cell("公用经费", statements, "general_basic", "公用经费合计")
    # 七 三公
    for side, field in (("预算", "预算数"), ("决算", "决算数")):
        facts.money_cell(f"三公经费.{side}", statements, "three_public", "数额", f"合计.{field}")
        for name, column in THREE_PUBLIC_PARTS.items():
            facts.money_cell(
                f"{name}.{side}", statements, "three_public", "数额", f"{column}.{field}"
            )
    facts.share("三公经费.完成率", "三公经费.决算", "三公经费.预算")
    for name in THREE_PUBLIC_PARTS:
        facts.share(f"{name}.完成率", f"{name}.决算", f"{name}.预算")
        facts.share(f"{name}.占比", f"{name}.决算", "三公经费.决算")
    facts.exact["三公经费"] = facts.exact["三公经费.决算"]
    prior("三公经费")
    for name in THREE_PUBLIC_PARTS:
        facts.exact[name] = facts.exact[f"{name}.决算"]
        prior(name)
    for item in dataset.three_public:
        if item.fund not in FISCAL_FUNDS:
            continue
        for field, label in (("batches", "批次"), ("persons", "人次")):
            value = getattr(item, field)
            key = f"{item.item}.{label}"
            total = (facts[key].value if key in facts else Decimal(0)) + Decimal(value or 0)
            facts.add(key, total, label, f"三公经费·{item.item}·{label}")
    for label in ("批次", "人次"):  # 公务接待 as a whole: 国内 and 外宾
        parts = [
            facts[f"{i}.{label}"]
            for i in ("国内公务接待费", "外事接待费")
            if f"{i}.{label}" in facts
        ]
        if parts:
            total = sum((p.value for p in parts), Decimal(0))
            facts.add(f"公务接待费.{label}", total, label, f"三公经费·公务接待费·{label}")
    for item in ("国内公务接待费", "外事接待费"):
        amount = sum(
            (t.actual for t in dataset.three_public if t.item == item and t.fund in FISCAL_FUNDS),
            Decimal(0),
        )
        facts.money_yuan(f"{item}.决算", amount, f"三公经费·{item}·决算数")
    # 八 九 政府性基金 国有资本经营
    for key, table, fund, prefix in (
        ("政府性基金预算财政拨款支出", "government_fund", FISCAL_FUNDS[1], "政府性基金"),
        ("国有资本经营预算财政拨款支出", "state_capital", FISCAL_FUNDS[2], "国有资本经营"),
    ):
        facts.money_cell(key, statements, table, "合计", "本年支出.合计")
        facts.money_cell(f"{fund}收入", statements, table, "合计", "本年收入")
        facts.share(f"{key}.占比", key, "本年支出合计")
        prior(key)
        found = statements.table(table)
        for row in found.sections[0].rows if found else ():
            if row.code and len(row.code) == 7:
                item = f"{prefix}.{row.code}"
                facts.money_cell(item, statements, table, row.code, "本年支出.合计")
                budgets(facts, dataset, item, fund, row.code)
    # 十 其他重要事项
    running = dataset.facts.get("机关运行经费")
    if running is not None:
        facts.money_yuan("机关运行经费", Decimal(running.value), "其他事项·机关运行经费")
        prior("机关运行经费")
    procurement_total = sum((p.amount for p in dataset.procurement), Decimal(0))
    facts.money_yuan("政府采购", procurement_total, "政府采购·合计")
    for kind in ("货物", "工程", "服务"):
        amount = sum((p.amount for p in dataset.procurement if p.kind == kind), Decimal(0))
        facts.money_yuan(f"政府采购.{kind}", amount, f"政府采购·{kind}")
    for field, label in (("sme_amount", "中小企业"), ("small_micro_amount", "小微企业")):
        amount = sum((getattr(p, field) or Decimal(0) for p in dataset.procurement), Decimal(0))
        facts.money_yuan(f"政府采购.{label}", amount, f"政府采购·授予{label}合同金额")
        facts.share(f"政府采购.{label}.占比", f"政府采购.{label}", "政府采购")
    for key, fact in dataset.facts.items():
        if key == "机关运行经费":
            continue
        if FACT_KEYS.get(key) == "amount":
            facts.money_yuan(f"事项.{key}", Decimal(fact.value), f"其他事项·{key}")
        else:
            facts.add(f"事项.{key}", Decimal(fact.value), fact_unit(key), f"其他事项·{key}")
    performance_facts(facts, performance or evaluate_performance(dataset))
    return facts


def budgets(facts: Facts, dataset: Dataset, key: str, fund: str, code: str | None) -> None:
    """`key.预算`: the budget 决算 is measured against — 全年预算 (调整预算) when the dataset has
    one, else 年初预算 — and `key.完成率`; with 全年预算, `key.年初预算` too when the dataset gives
    one for `key` (a 年初预算 line, even of 0, for the whole; a non-zero one for a 项)."""
    where = {"direction": SPENDING, "fund": fund, **({"function": code} if code else {})}
    phase = facts.budget_phase
    budget = dataset.ledger.total(phase=phase, **where)
    if budget:
        facts.money_yuan(f"{key}.预算", budget, f"支出{phase}·{code or fund}")
        facts.share(f"{key}.完成率", key, f"{key}.预算")
    if phase == "调整预算":
        opening = dataset.ledger.total(phase="年初预算", **where)
        if opening or (code is None and dataset.ledger.count(phase="年初预算", **where)):
            facts.money_yuan(f"{key}.年初预算", opening, f"支出年初预算·{code or fund}")


def fact_unit(key: str) -> str:
    """The unit a count or number of 其他事项 is stated in."""
    if key.startswith("车辆") or key.startswith("公务用车"):
        return "辆"
    if "设备" in key:
        return "台（套）"
    if "得分" in key:
        return "分"
    if key.endswith(("项目数", "问题数")) or key.startswith("绩效评级"):
        return "个"
    return "人"


def performance_key(project: str) -> str:
    return f"绩效.{project}"


def performance_facts(facts: Facts, performance: PerformanceResult) -> None:
    """十（四）: the projects' 全年预算, 执行数 (万元) and 完成预算 (%), as their 绩效目标完成情况表
    show them; how many projects are reported; the department's self-evaluation score."""
    projects = performance.projects
    if projects:
        facts.add("绩效.项目数", len(projects), "个", "项目绩效目标完成情况表·项目数")
    for project in projects:
        key = performance_key(project.name)
        facts.money_yuan(
            f"{key}.全年预算",
            project.budget_full.total,
            f"项目绩效·{project.name}·全年预算数（{project.budget_phase}）",
        )
        facts.money_yuan(f"{key}.执行数", project.actual.total, f"项目绩效·{project.name}·执行数")
        facts.share(f"{key}.执行率", f"{key}.执行数", f"{key}.全年预算")
    department = performance.department
    if department is not None:
        if department.complete:
            facts.add(
                "绩效.部门整体自评得分",
                department.total,
                "分",
                f"{department.tree.title}·总分",
            )
        else:
            facts.add(
                "绩效.部门整体缺项数",
                len(department.missing),
                "个",
                f"{department.tree.title}·未评分的末级指标",
            )

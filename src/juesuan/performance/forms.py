"""The performance forms (绩效表式) of the disclosure, laid out cell by cell as `TableLayout`s.

- `goal_form` — 项目绩效目标完成情况表, one per project, in the reference case's layout (十（四）1):
  项目名称, 预算单位 "<code>-<unit>", 预算执行情况（万元） (预算数 | 执行数, 其中-财政拨款, 其它资金),
  年度目标完成情况 (预期目标 | 实际完成目标), 绩效指标完成情况 (一级 | 二级 | 三级 | 预期指标值 |
  实际完成指标值) with the targets and actual values as the unit wrote them.
- `self_evaluation_form` — 项目支出绩效自评表 (reference/performance.md §1.6, columns in the
  Sichuan order 执行率 | 分值 | 得分): the funds with the 预算执行率 score, the goals, every indicator
  with 分值 and 得分, and how each score was earned (`Score.how`); 总分 and 等级 at the foot.
- `department_form` — 部门整体支出绩效自评评分表: the points tree with each node's 分值, 得分, where
  the score came from (填报 / 计算 / 合计) and how.

A form has no header rows: its section rows span the width ("绩效指标完成情况"), its column heads
are shaded body rows, texts are "label" cells (they wrap) and figures "amount" cells whose text
is the figure as shown (万元 "#,##0.00" as in the tables; points with the rule set's decimals).
No cell spans rows, so every renderer draws a form as it draws a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from juesuan.ledger.model import Unit
from juesuan.money import percent, wan
from juesuan.performance.department import DepartmentResult, NodeScore
from juesuan.performance.evaluate import PerformanceResult, ProjectPerformance
from juesuan.performance.scoring import Score
from juesuan.performance.values import Quantity, show_number
from juesuan.publish.table_layout import (
    CELL_SLACK,
    LayoutCell,
    LayoutColumn,
    LayoutRow,
    TableLayout,
    amount_text,
    display_width,
)
from juesuan.rules.engine import FAIL

GOAL_FORMS = "项目绩效目标完成情况表"
SELF_EVALUATION_FORMS = "项目支出绩效自评表"
DEPARTMENT_FORM = "部门整体支出绩效自评评分表"

# Room for the form's columns, in character units (CJK double): a goal form and a department
# form fit a portrait page at 9 pt, a self-evaluation form a landscape one.
PORTRAIT_UNITS = 86.0
LANDSCAPE_UNITS = 150.0
BASIS_NAMES = {"填报": "单位填报", "计算": "按数据计算", "合计": "下级合计"}


# ---- cells -----------------------------------------------------------------------------------


def _text(
    text: str | None,
    column: int,
    colspan: int = 1,
    *,
    bold: bool = False,
    align: str = "left",
    shade: bool = False,
) -> LayoutCell:
    return LayoutCell(
        text or "", column, "label", colspan=colspan, bold=bold, align=align, shade=shade
    )


def _head(text: str, column: int, colspan: int = 1) -> LayoutCell:
    """A column head inside the form: bold, centred, shaded."""
    return _text(text, column, colspan, bold=True, align="center", shade=True)


def _section(text: str, width: int) -> LayoutRow:
    """A section row across the form ("绩效指标完成情况")."""
    return LayoutRow((_text(text, 0, width, bold=True, shade=True),))


def _number(text: str, value: Decimal | None, column: int, *, bold: bool = False) -> LayoutCell:
    return LayoutCell(text, column, "amount", value=value, bold=bold, align="right")


def _wan(yuan: Decimal, column: int, *, bold: bool = False) -> LayoutCell:
    """An amount in 元 shown in 万元 as the tables show it ("1,100.00", "949.68", "0.00")."""
    value = wan(yuan)
    return _number(amount_text(value), value, column, bold=bold)


def _points(value: Decimal | None, places: int, column: int, *, bold: bool = False) -> LayoutCell:
    if value is None:
        return _text("", column, align="right")
    shown = Decimal(show_number(value, places))
    return _number(show_number(value, places), shown, column, bold=bold)


def _row(*cells: LayoutCell, total: bool = False) -> LayoutRow:
    return LayoutRow(tuple(cells), total=total)


# ---- widths ----------------------------------------------------------------------------------


def _widths(
    rows: Sequence[LayoutRow], limits: Sequence[tuple[float, float]], room: float
) -> tuple[float, ...]:
    """Column widths (character units): each column as wide as its widest one-column cell,
    within its (floor, cap); when they need more than `room`, the columns above their floors
    give way in proportion to what they have above it."""
    natural = [floor for floor, _ in limits]
    for row in rows:
        for cell in row.cells:
            if cell.colspan == 1:
                extra = 3 if cell.kind == "amount" else CELL_SLACK
                floor, cap = limits[cell.column]
                want = min(max(display_width(cell.text) + extra, floor), cap)
                natural[cell.column] = max(natural[cell.column], want)
    excess = sum(natural) - room
    above = [w - floor for w, (floor, _) in zip(natural, limits, strict=True)]
    if excess > 0 and sum(above) > 0:
        share = min(1.0, excess / sum(above))
        natural = [w - a * share for w, a in zip(natural, above, strict=True)]
    return tuple(round(w, 1) for w in natural)


def _layout(
    form_id: str,
    title: str,
    year: int,
    rows: Sequence[LayoutRow],
    limits: Sequence[tuple[float, float]],
    room: float,
    note: str = "",
) -> TableLayout:
    widths = _widths(rows, limits, room)
    return TableLayout(
        id=form_id,
        number="",
        title=title,
        unit="",
        unit_name="",
        year=year,
        note=note,
        empty=False,
        empty_statement="",
        columns=tuple(LayoutColumn("label", 0, -1, w) for w in widths),
        header=(),
        body=tuple(rows),
    )


# ---- (a) 项目绩效目标完成情况表 ---------------------------------------------------------------------


def budget_unit(unit: Unit) -> str:
    """预算单位 as the reference prints it: "308503-泸州市社会保险事业管理局"."""
    return f"{unit.code}-{unit.name}" if unit.code else unit.name


def goal_form(project: ProjectPerformance, unit: Unit) -> TableLayout:
    """The 项目绩效目标完成情况表 of one project (the reference case's 十（四）1 tables)."""
    goal = project.goal
    budget, actual = project.budget_full, project.actual
    width = 5
    rows = [
        _row(_text("项目名称", 0, shade=True), _text(project.name, 1, 4)),
        _row(_text("预算单位", 0, shade=True), _text(budget_unit(unit), 1, 4)),
        _section("预算执行情况（万元）", width),
    ]
    for label, planned, done in (
        ("预算数：", budget.total, actual.total),
        ("其中-财政拨款：", budget.fiscal, actual.fiscal),
        ("其它资金：", budget.other, actual.other),
    ):
        executed = "执行数：" if label == "预算数：" else label
        rows.append(
            _row(
                _text(label, 0),
                _wan(planned, 1),
                _text(executed, 2),
                LayoutCell(
                    amount_text(wan(done)), 3, "amount", colspan=2, value=wan(done), align="right"
                ),
            )
        )
    rows += [
        _section("年度目标完成情况", width),
        _row(_head("预期目标", 0, 3), _head("实际完成目标", 3, 2)),
        _row(
            _text(goal.expected if goal else "", 0, 3),
            _text(goal.achieved if goal else "", 3, 2),
        ),
        _section("绩效指标完成情况", width),
        _row(
            _head("一级指标", 0),
            _head("二级指标", 1),
            _head("三级指标", 2),
            _head("预期指标值（包含数字及文字描述）", 3),
            _head("实际完成指标值（包含数字及文字描述）", 4),
        ),
    ]
    for indicator in project.indicators:
        rows.append(
            _row(
                _text(indicator.level1, 0),
                _text(indicator.level2, 1),
                _text(indicator.level3, 2),
                _text(indicator.target, 3),
                _text(indicator.actual, 4),
            )
        )
    limits = ((14, 18), (12, 16), (12, 20), (14, 24), (14, 24))
    return _layout(
        f"goal-{project.name}",
        f"{project.name}项目绩效目标完成情况表",
        unit.year,
        rows,
        limits,
        PORTRAIT_UNITS,
    )


# ---- (b) 项目支出绩效自评表 -----------------------------------------------------------------------


def _rate_text(project: ProjectPerformance) -> str:
    rate = percent(project.actual.total, project.budget_full.total)
    return "" if rate is None else f"{show_number(rate, 2)}%"


def _stated_differs(result: PerformanceResult | None, project: str, indicator: str) -> bool:
    """Whether the stated 实际完成值 disagrees with the value computed from the data."""
    if result is None:
        return False
    return any(
        o.rule == "PERF-actual-stated"
        and o.status == FAIL
        and o.bindings.get("项目") == project
        and o.bindings.get("指标") == indicator
        for o in result.outcomes
    )


def _actual_text(score: Score, project: str, result: PerformanceResult | None) -> str:
    """The 实际完成值 as the unit wrote it; when the data say otherwise, the computed value too
    (the score was earned on the computed value)."""
    indicator = score.indicator
    stated = (indicator.actual if indicator else None) or ""
    actual = score.actual
    if (
        indicator is not None
        and isinstance(actual, Quantity)
        and _stated_differs(result, project, indicator.level3)
    ):
        whole = actual.number == actual.number.to_integral_value()
        computed = f"{show_number(actual.number, 0 if whole else 2)}{actual.unit or ''}"
        return f"{stated}（按数据计算为{computed}）" if stated else computed
    return stated


def self_evaluation_form(
    project: ProjectPerformance, unit: Unit, result: PerformanceResult | None = None
) -> TableLayout:
    """The 项目支出绩效自评表 of one project: 分值 and 得分 of every line and how it was earned.

    `result` (the whole evaluation) lets the form show the computed 实际完成值 beside a stated
    one the data contradict."""
    places = result.ruleset.places if result is not None else 2
    width = 9
    execution = project.execution
    goal = project.goal
    rate = project.execution_rate
    reason = ""
    if goal is not None and goal.problems and rate is not None and rate < 1:
        reason = goal.problems
    rows = [
        _row(_text("项目名称", 0, shade=True), _text(project.name, 1, 8)),
        _row(
            _text("主管部门", 0, shade=True),
            _text(unit.department or unit.name, 1, 3),
            _text("实施单位", 4, shade=True),
            _text(unit.name, 5, 4),
        ),
        _row(
            _head("项目资金（万元）", 0),
            _head("年初预算数", 1),
            _head("全年预算数", 2),
            _head("全年执行数", 3),
            _head("执行率", 4),
            _head("分值", 5),
            _head("得分", 6),
            _head("执行偏差原因", 7),
            _head("评分说明", 8),
        ),
        _row(
            _text("年度资金总额", 0),
            _wan(project.budget_initial.total, 1),
            _wan(project.budget_full.total, 2),
            _wan(project.actual.total, 3),
            _text(_rate_text(project), 4, align="right"),
            _points(execution.weight, places, 5),
            _points(execution.points, places, 6),
            _text(reason, 7),
            _text(execution.how, 8),
        ),
    ]
    for label, part in (("其中：财政拨款", "fiscal"), ("其他资金", "other")):
        rows.append(
            _row(
                _text(label, 0),
                _wan(getattr(project.budget_initial, part), 1),
                _wan(getattr(project.budget_full, part), 2),
                _wan(getattr(project.actual, part), 3),
                *(_text("", c) for c in range(4, 9)),
            )
        )
    rows += [
        _section("年度总体目标", width),
        _row(_head("预期目标", 0, 4), _head("实际完成情况", 4, 5)),
        _row(
            _text(goal.expected if goal else "", 0, 4),
            _text(goal.achieved if goal else "", 4, 5),
        ),
        _section("绩效指标", width),
        _row(
            _head("一级指标", 0),
            _head("二级指标", 1),
            _head("三级指标", 2),
            _head("年度指标值", 3),
            _head("实际完成值", 4),
            _head("分值", 5),
            _head("得分", 6),
            _head("偏差原因分析及改进措施", 7),
            _head("评分说明", 8),
        ),
    ]
    for score in project.scores[1:]:
        indicator = score.indicator
        rows.append(
            _row(
                _text(indicator.level1 if indicator else score.part, 0),
                _text(indicator.level2 if indicator else "", 1),
                _text(score.name, 2),
                _text(indicator.target if indicator else "", 3),
                _text(_actual_text(score, project.name, result), 4),
                _points(score.weight, places, 5),
                _points(score.points, places, 6),
                _text(indicator.reason if indicator else "", 7),
                _text(score.how, 8),
            )
        )
    weight = sum((s.weight for s in project.scores), Decimal(0))
    if project.grade is not None:
        grade = f"自评等级：{project.grade}"
        if result is not None:
            grade += f"（{result.ruleset.grades.describe()}）"
    else:
        grade = f"尚有 {len(project.missing)} 项缺少数据，总分暂不含该项，不评等级"
    rows.append(
        _row(
            _text("总分", 0, 5, bold=True, align="center"),
            _points(weight, places, 5, bold=True),
            _points(project.total, places, 6, bold=True),
            _text(grade, 7, 2, bold=True),
            total=True,
        )
    )
    notes = []
    if result is not None:
        notes.append(f"评分依据：{result.ruleset.title}")
    notes += list(project.weight_notes)
    note = "注：" + "；".join(notes) + "。" if notes else ""
    limits = (
        (12, 15),  # 一级指标; 项目资金
        (10, 16),  # 二级指标; 年初预算数
        (12, 16),  # 三级指标; 全年预算数
        (12, 16),  # 年度指标值; 全年执行数
        (10, 18),  # 实际完成值; 执行率
        (7, 8),  # 分值
        (7, 8),  # 得分
        (12, 18),  # 偏差原因分析及改进措施
        (34, 64),  # 评分说明
    )
    return _layout(
        f"self-evaluation-{project.name}",
        f"{project.name}项目支出绩效自评表",
        unit.year,
        rows,
        limits,
        LANDSCAPE_UNITS,
        note,
    )


# ---- (c) 部门整体支出绩效自评评分表 --------------------------------------------------------------------


def _depth(nodes: Iterable[NodeScore]) -> int:
    return max((1 + _depth(n.children) if n.children else 1 for n in nodes), default=1)


LEVEL_NAMES = ("一级指标", "二级指标", "三级指标", "四级指标")


def department_form(department: DepartmentResult, unit: Unit) -> TableLayout:
    """The department's points tree: each node's 分值 and 得分, where the score came from and how;
    总分 and 等级 at the foot, the stated score beside it when it differs."""
    tree = department.tree
    places = tree.places
    depth = min(_depth(department.nodes), len(LEVEL_NAMES))
    heads = [*LEVEL_NAMES[:depth], "分值", "得分", "得分来源", "评分说明"]
    rows = [_row(*(_head(h, i) for i, h in enumerate(heads)))]

    def add(node: NodeScore, level: int) -> None:
        level = min(level, depth - 1)
        branch = bool(node.children)
        cells = [_text("", c) for c in range(level)]
        # The name from its level to the last level column (a leaf high in the tree spans on).
        cells.append(_text(node.node.name, level, depth - level, bold=branch))
        how = node.how
        if node.explanation:
            how = f"{how}：{node.explanation}" if how else node.explanation
        cells += [
            _points(node.node.points, 0, depth, bold=branch),
            _points(node.score, places, depth + 1, bold=branch),
            _text(BASIS_NAMES.get(node.basis, node.basis), depth + 2, align="center"),
            _text(how, depth + 3),
        ]
        rows.append(_row(*cells))
        for child in node.children:
            add(child, level + 1)

    for node in department.nodes:
        add(node, 0)
    if department.grade is not None:
        grade = f"自评等级：{department.grade}（{tree.grades.describe()}）"
    else:
        grade = f"尚有 {len(department.missing)} 项缺少数据，总分暂不含该项，不评等级"
    if department.stated_total is not None and department.stated_total != department.total:
        grade += f"；报告所述得分 {show_number(department.stated_total)} 分与评分表合计不符"
    rows.append(
        _row(
            _text("总分", 0, depth, bold=True, align="center"),
            _points(tree.total, 0, depth, bold=True),
            _points(department.total, places, depth + 1, bold=True),
            _text(grade, depth + 2, 2, bold=True),
            total=True,
        )
    )
    note = (
        f"注：评分表为“{tree.title}”；得分来源“单位填报”为单位自评得分，"
        "“按数据计算”为按账上预算、决算和绩效监控数据计算的得分，上级指标得分为下级指标得分之和。"
    )
    limits = [(10, 12)] + [(12, 20)] * (depth - 1) + [(6, 6), (6, 6), (10, 10), (32, 60)]
    return _layout(
        "department",
        DEPARTMENT_FORM,
        unit.year,
        rows,
        limits,
        PORTRAIT_UNITS,
        note,
    )


# ---- all -------------------------------------------------------------------------------------


def project_forms(
    result: PerformanceResult, unit: Unit
) -> list[tuple[ProjectPerformance, TableLayout, TableLayout]]:
    """Each project with its 绩效目标完成情况表 and its 自评表."""
    return [(p, goal_form(p, unit), self_evaluation_form(p, unit, result)) for p in result.projects]

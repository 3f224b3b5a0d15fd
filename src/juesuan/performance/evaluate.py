"""`evaluate_performance(dataset)`: every project's self-evaluation, the department's, and the
consistency outcomes — values only, no rendering.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from juesuan.ledger.model import Checkpoint, Dataset, Indicator, ProjectGoal
from juesuan.ledger.schema import ACTUAL, COMPUTED_PREFIX
from juesuan.performance.checks import (
    FATAL,
    SUGGEST,
    WARNING,
    outcome,
    stated_vs_computed,
    tolerance,
)
from juesuan.performance.department import (
    DepartmentResult,
    Tree,
    evaluate_department,
    load_department_tree,
)
from juesuan.performance.measures import (
    PER_CAPITA,
    ExternalMeasures,
    Funds,
    Measures,
    Unavailable,
    show_measure,
    unit_of,
)
from juesuan.performance.ruleset import RuleSet, load_ruleset
from juesuan.performance.scoring import (
    SCORED,
    Score,
    direction_of,
    execution_score,
    pts,
    score_qualitative,
    score_quantitative,
    weights_for,
)
from juesuan.performance.values import (
    QUALITATIVE,
    Quantity,
    convert,
    decimals,
    parse_value,
    sense_of,
    show_number,
)
from juesuan.rules.engine import FAIL, INSUFFICIENT, PASS, Outcome
from juesuan.rules.expr import Value

DEFAULT_RULESET = "national-2020"
DEFAULT_DEPARTMENT_TREE = "department-sichuan"


@dataclass(frozen=True)
class ProjectPerformance:
    """One project's self-evaluation: money from the ledger, goals, checkpoints and scores."""

    name: str
    budget_initial: Funds  # 年初预算
    budget_full: Funds  # 全年预算: 调整预算 when entered, else 年初预算
    budget_phase: str  # the phase 全年预算 was taken from
    actual: Funds  # 执行数 (决算)
    goal: ProjectGoal | None
    indicators: tuple[Indicator, ...]
    monitoring: tuple[Checkpoint, ...]
    scores: tuple[Score, ...]  # 预算执行率 first, then the indicators in table order
    weight_notes: tuple[str, ...]  # how the 分值 were set
    total: Decimal  # the sum of the scored lines
    missing: tuple[str, ...]  # indicators (三级指标) that lacked data
    grade: str | None  # None while any indicator lacks data

    @property
    def execution_rate(self) -> Decimal | None:
        """执行数 / 全年预算, unrounded; None without a budget."""
        if self.budget_full.total == 0:
            return None
        return self.actual.total / self.budget_full.total

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def execution(self) -> Score:
        return self.scores[0]


@dataclass(frozen=True)
class PerformanceResult:
    ruleset: RuleSet
    projects: tuple[ProjectPerformance, ...]
    department: DepartmentResult | None
    outcomes: tuple[Outcome, ...]

    def project(self, name: str) -> ProjectPerformance:
        return next(p for p in self.projects if p.name == name)


def evaluate_performance(
    dataset: Dataset,
    ruleset: str | Path | RuleSet = DEFAULT_RULESET,
    *,
    department: str | Path | Tree | None = None,
    measures: ExternalMeasures | Mapping[tuple[str, str], Decimal | int] | None = None,
) -> PerformanceResult:
    """Score every project with indicators or goals, and the department as a whole.

    `ruleset` names a file in performance/rulesets (or is a path, or a loaded RuleSet).
    `department` is the points tree; by default department-sichuan when the dataset has
    部门整体自评 rows. `measures` are values the disbursement system computed, keyed by
    (project, name) (an `ExternalMeasures` also names their source) — they take precedence over
    the 绩效数据 table, and each typed 绩效数据 figure they also give is compared with them.
    """
    rules = ruleset if isinstance(ruleset, RuleSet) else load_ruleset(ruleset)
    data = Measures(dataset, measures)
    outcomes: list[Outcome] = _typed_vs_external(data)
    names = [
        name
        for name in dataset.projects
        if name in dataset.project_goals or any(i.project == name for i in dataset.indicators)
    ]
    projects = []
    for name in names:
        project, found = _project(name, dataset, rules, data)
        projects.append(project)
        outcomes.extend(found)
    outcomes.extend(_monitoring(dataset))
    result_department = None
    if department is None and dataset.department_scores:
        department = DEFAULT_DEPARTMENT_TREE
    if department is not None:
        tree = department if isinstance(department, Tree) else load_department_tree(department)
        result_department, found = evaluate_department(dataset, tree, data)
        outcomes.extend(found)
    return PerformanceResult(rules, tuple(projects), result_department, tuple(outcomes))


def _typed_vs_external(data: Measures) -> list[Outcome]:
    """Each typed 绩效数据 figure that the external measures also give: the same number, or both
    numbers side by side (the external one is what the evaluation uses)."""
    found = []
    for (project, name), row in data.rows.items():
        given = data.external.get((project, name))
        if row.value is None or given is None or isinstance(given, Unavailable):
            continue  # nothing to compare with (the evaluation says why the value is missing)
        typed, computed = Decimal(row.value), Decimal(given)
        unit = unit_of(name)
        same = typed == computed
        found.append(
            outcome(
                "PERF-data-external",
                WARNING,
                PASS if same else FAIL,
                f"{project}·{name}：绩效数据填报 {show_measure(typed, unit)}，{data.source}"
                f"计算为 {show_measure(computed, unit)}"
                + ("，一致" if same else f"；评分按{data.source}的数"),
                hint=""
                if same
                else f"核对后按{data.source}的数改正绩效数据，或在偏差原因中说明差异",
                bindings={"项目": project, "数据项": name},
                actual=Value(typed, unit or ""),
                expected=Value(computed, unit or ""),
                refs=(str(row.source),),
            )
        )
    return found


# ---- one project ---------------------------------------------------------------------------------


def _project(
    name: str, dataset: Dataset, rules: RuleSet, data: Measures
) -> tuple[ProjectPerformance, list[Outcome]]:
    outcomes: list[Outcome] = []
    indicators = tuple(i for i in dataset.indicators if i.project == name)
    goal = dataset.project_goals.get(name)
    phase = data.budget_phase(name)
    initial = data.funds(name, "年初预算")
    full = data.funds(name, phase)
    actual = data.funds(name, ACTUAL)
    budget_name = "全年预算（调整预算）" if phase == "调整预算" else "全年预算（年初预算）"
    scores: list[Score] = [execution_score(full.total, actual.total, rules, budget_name)]
    bindings = {"项目": name}
    outcomes.extend(_execution_checks(name, goal, full, actual, rules, indicators))

    weights = weights_for(indicators, rules)
    for problem in weights.problems:
        outcomes.append(
            outcome("PERF-weights", FATAL, FAIL, f"{name}：{problem}", bindings=bindings)
        )
    for remark in weights.remarks:
        outcomes.append(
            outcome(
                "PERF-weights",
                WARNING,
                FAIL,
                f"{name}：{remark}（原则上按评分规则的各部分分值设置）",
                bindings=bindings,
            )
        )
    if indicators and not weights.problems:
        outcomes.append(
            outcome(
                "PERF-weights",
                FATAL,
                PASS,
                f"{name}：绩效指标分值合计 {pts(rules.indicator_points)}",
                bindings=bindings,
            )
        )
    for indicator, weight, part in zip(indicators, weights.weights, weights.parts, strict=True):
        score, found = _indicator(name, indicator, weight, part, rules, data, indicators)
        scores.append(score)
        outcomes.extend(found)

    total = sum((s.points for s in scores if s.points is not None), Decimal(0))
    missing = tuple(s.name for s in scores if s.status != SCORED)
    for score in scores:
        if score.status != SCORED and score.indicator is not None:
            outcomes.append(
                outcome(
                    "PERF-indicator-data",
                    WARNING,
                    INSUFFICIENT,
                    f"{name}·{score.name}：{score.how}；总分暂不含此项",
                    bindings={**bindings, "指标": score.name},
                    refs=(str(score.indicator.source),),
                )
            )
    project = ProjectPerformance(
        name=name,
        budget_initial=initial,
        budget_full=full,
        budget_phase=phase,
        actual=actual,
        goal=goal,
        indicators=indicators,
        monitoring=tuple(c for c in dataset.monitoring if c.project == name),
        scores=tuple(scores),
        weight_notes=weights.notes,
        total=total,
        missing=missing,
        grade=None if missing else rules.grades.grade(total),
    )
    return project, outcomes


def _execution_checks(
    name: str,
    goal: ProjectGoal | None,
    full: Funds,
    actual: Funds,
    rules: RuleSet,
    indicators: tuple[Indicator, ...],
) -> list[Outcome]:
    found: list[Outcome] = []
    bindings = {"项目": name}
    rate = actual.total * 100 / full.total if full.total else None
    if goal is not None and goal.stated_rate:
        stated = parse_value(goal.stated_rate, "%")
        refs = (str(goal.source),)
        if rate is None:
            found.append(
                outcome(
                    "PERF-execution-rate-stated",
                    WARNING,
                    INSUFFICIENT,
                    f"{name}：文中执行率 {goal.stated_rate}，但账上没有该项目的预算数",
                    bindings=bindings,
                    refs=refs,
                )
            )
        elif isinstance(stated, Quantity):
            ok = abs(rate - stated.number) <= tolerance(stated.number)
            places = max(2, decimals(stated.number))
            found.append(
                outcome(
                    "PERF-execution-rate-stated",
                    WARNING,
                    PASS if ok else FAIL,
                    f"{name}：文中执行率 {goal.stated_rate}，按账上执行数 {actual.total:,.2f} 元 ÷ "
                    f"预算数 {full.total:,.2f} 元 计算为 {show_number(rate, places)}%"
                    + ("，一致" if ok else ""),
                    hint="" if ok else "按账上数据更正文中执行率，或核对项目的预算与决算",
                    bindings=bindings,
                    actual=Value(stated.number, "%"),
                    expected=Value(rate, "%"),
                    refs=refs,
                )
            )
    if rules.explain_below is not None and rate is not None and rate < rules.explain_below * 100:
        explained = (goal is not None and bool(goal.problems)) or any(i.reason for i in indicators)
        found.append(
            outcome(
                "PERF-explain-rate",
                WARNING,
                PASS if explained else FAIL,
                f"{name}：预算执行率 {show_number(rate, 2)}% 低于 "
                f"{show_number(rules.explain_below * 100)}%"
                + ("，已说明原因" if explained else "，须说明原因"),
                hint="" if explained else "在“项目目标”的主要问题或指标的偏差原因中说明",
                bindings=bindings,
            )
        )
    return found


def _indicator(
    project: str,
    indicator: Indicator,
    weight: Decimal | None,
    part,
    rules: RuleSet,
    data: Measures,
    siblings: tuple[Indicator, ...],
) -> tuple[Score, list[Outcome]]:
    found: list[Outcome] = []
    bindings = {"项目": project, "指标": indicator.level3}
    where = str(indicator.source)
    refs = (where,)
    label = f"{project}·{indicator.level3}"
    target = parse_value(indicator.target, indicator.unit)
    direction, inferred = direction_of(indicator, target)
    part_name = part.name if part is not None else ""

    def unscored(how: str) -> Score:
        return Score(
            indicator.level3,
            part_name,
            weight or Decimal(0),
            None,
            INSUFFICIENT,
            "none",
            how,
            indicator=indicator,
            direction=direction,
            target=target,
        )

    if part is None or weight is None:
        found.append(
            outcome(
                "PERF-level1",
                FATAL,
                FAIL,
                f"{label}（{where}）：一级指标“{indicator.level1}”不属于评分规则“{rules.title}”"
                "的任何部分",
                hint="可用的一级指标："
                + "；".join(f"{p.name}：{'、'.join(p.level1)}" for p in rules.parts),
                bindings=bindings,
                refs=refs,
            )
        )
        return unscored(f"一级指标“{indicator.level1}”不属于评分规则的任何部分"), found

    # The actual value: computed when the source says so, else as stated.
    stated = parse_value(indicator.actual, indicator.unit)
    actual, basis = stated, "填报"
    if indicator.actual_source.startswith(COMPUTED_PREFIX):
        measure = indicator.actual_source[len(COMPUTED_PREFIX) :]
        unit = (target.unit if isinstance(target, Quantity) else None) or indicator.unit
        try:
            computed = data.get(project, measure)
        except Unavailable as exc:
            found.append(
                outcome(
                    "PERF-actual-computed",
                    WARNING,
                    INSUFFICIENT,
                    f"{label}：无法计算{measure}：{exc}"
                    + ("；按填报值评分" if stated is not None else ""),
                    bindings=bindings,
                    refs=refs,
                )
            )
            basis = "填报（计算数据不足）"
        else:
            unit = unit or computed.unit
            found.append(
                stated_vs_computed(
                    label,
                    stated,
                    computed,
                    unit,
                    bindings=bindings,
                    refs=refs,
                    also=_per_capita_alternative(project, measure, computed, unit, data, siblings),
                )
            )
            value = convert(computed.value, computed.unit, unit)
            if value is not None:
                actual = Quantity(value, unit, None, f"{computed.how}")
                basis = "计算"

    if direction == QUALITATIVE:
        score, problem = score_qualitative(indicator, weight, part_name, rules, target)
        if problem:
            found.append(
                outcome(
                    "PERF-tier", FATAL, FAIL, f"{label}：{problem}", bindings=bindings, refs=refs
                )
            )
        return score, found

    if not isinstance(target, Quantity):
        found.append(
            outcome(
                "PERF-target",
                FATAL,
                FAIL,
                f"{label}（{where}）：方向为“{direction}”，但指标值“{indicator.target}”不含数字",
                hint="定量指标写数字（可带比较符和单位，如 ≥95%）；文字指标值把方向改为“定性”",
                bindings=bindings,
                refs=refs,
            )
        )
        return unscored(f"指标值“{indicator.target}”不含数字，无法按“{direction}”评分"), found
    if target.op and sense_of(target.op) != sense_of(direction):
        found.append(
            outcome(
                "PERF-direction",
                WARNING,
                FAIL,
                f"{label}：方向填的是“{direction}”，指标值“{indicator.target}”写的是“{target.op}”；"
                f"按方向“{direction}”评分",
                bindings=bindings,
                refs=refs,
            )
        )
    score = score_quantitative(
        indicator, weight, part_name, rules, direction, target, actual, basis
    )
    if inferred:
        score = _with_how(score, f"{inferred}；{score.how}")
    if (
        score.status == SCORED
        and rules.flag_over is not None
        and sense_of(direction) == "positive"
        and isinstance(actual, Quantity)
        and actual.op is None
        and target.number > 0
    ):
        a = convert(actual.number, actual.unit, target.unit)
        if a is not None and a >= rules.flag_over * target.number:
            found.append(
                outcome(
                    "PERF-over-target",
                    SUGGEST,
                    FAIL,
                    f"{label}：实际 {show_number(a)} 达到指标值 {show_number(target.number)} 的 "
                    f"{show_number(a * 100 / target.number, 2)}%，超计划较大",
                    hint="分析原因；如指标值设定明显偏低，按偏离度适度调减分值并说明",
                    bindings=bindings,
                    refs=refs,
                )
            )
    if indicator.score is not None and score.points is not None:
        if indicator.score > weight:
            found.append(
                outcome(
                    "PERF-score-stated",
                    FATAL,
                    FAIL,
                    f"{label}：填报得分 {pts(indicator.score)} 大于分值 {pts(weight)}",
                    bindings=bindings,
                    refs=refs,
                )
            )
        else:
            ok = indicator.score == score.points
            found.append(
                outcome(
                    "PERF-score-stated",
                    WARNING,
                    PASS if ok else FAIL,
                    f"{label}：填报得分 {pts(indicator.score)}，按规则计算为 {pts(score.points)}"
                    + ("，一致" if ok else ""),
                    bindings=bindings,
                    actual=Value(indicator.score, ""),
                    expected=Value(score.points, ""),
                    refs=refs,
                )
            )
    return score, found


def _with_how(score: Score, how: str) -> Score:
    return replace(score, how=how)


def _per_capita_alternative(
    project: str,
    measure: str,
    computed,
    unit: str | None,
    data: Measures,
    siblings: tuple[Indicator, ...],
) -> str:
    """For a per-capita value: what it would be with the 发放人数 the table states, if different."""
    if measure not in PER_CAPITA:
        return ""
    for other in siblings:
        if other.actual_source != f"{COMPUTED_PREFIX}发放人数":
            continue
        stated = parse_value(other.actual, other.unit)
        if not isinstance(stated, Quantity) or stated.number == 0:
            return ""
        try:
            amount = data.get(project, "发放金额")
            persons = data.get(project, "发放人数")
        except Unavailable:
            return ""
        if stated.number == persons.value:
            return ""
        value = convert(amount.value / stated.number, "元/人", unit)
        if value is None:
            return ""
        return (
            f"若按表中填报的发放人数 {show_number(stated.number)} 人计，"
            f"为 {show_number(value, 2)} {unit or ''}".rstrip()
        )
    return ""


def _monitoring(dataset: Dataset) -> list[Outcome]:
    found = []
    for point in dataset.monitoring:
        if point.planned is None or point.actual >= point.planned or point.reason:
            continue
        who = point.project or "部门整体"
        found.append(
            outcome(
                "PERF-monitoring-reason",
                WARNING,
                FAIL,
                f"{who} {point.period}：实际执行进度 {show_number(point.actual)}% 低于计划 "
                f"{show_number(point.planned)}%，未说明偏差原因",
                hint="在“绩效监控”中填写偏差原因和纠偏措施",
                bindings={"项目": who, "监控时点": point.period},
                refs=(str(point.source),),
            )
        )
    return found

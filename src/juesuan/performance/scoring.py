"""Scoring one project: the execution rate, the indicator weights and each indicator's points.

Every Score says which rule of the rule set gave it (`rule`), how the points were earned (`how`,
in Chinese) and how well that rule is supported (`support`). An indicator without a usable actual
value is `insufficient_data` with no points — never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from juesuan.ledger.model import Indicator
from juesuan.money import round_preserving_total
from juesuan.performance.ruleset import Part, RuleSet
from juesuan.performance.values import (
    QUALITATIVE,
    Quantity,
    Words,
    convert,
    sense_of,
    show_number,
)
from juesuan.rules.engine import INSUFFICIENT

SCORED = "scored"
EXECUTION = "预算执行"


@dataclass(frozen=True)
class Score:
    """The points one line of the self-evaluation earned, and how."""

    name: str  # 三级指标, or 预算执行率
    part: str  # 预算执行, or the rule set's part (产出 / 效益 / 满意度 / 绩效指标)
    weight: Decimal  # 分值
    points: Decimal | None  # 得分; None when it could not be scored
    status: str  # scored | insufficient_data
    rule: str  # the rule applied: execution, positive.missed, reverse.linear, qualitative, ...
    how: str  # how the points were earned
    support: str = ""  # how well the rule is supported (from the rule set)
    indicator: Indicator | None = None
    direction: str | None = None  # as scored: ≥ > = ≤ < 定性
    target: Quantity | Words | None = None
    actual: Quantity | Words | None = None  # the value scored
    basis: str | None = None  # where the actual came from: 填报 / 计算 / 填报（计算数据不足）

    @property
    def scored(self) -> bool:
        return self.status == SCORED


def rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def pts(value: Decimal) -> str:
    return show_number(value, 2)


# ---- 预算执行率 -----------------------------------------------------------------------------------


def execution_score(
    budget: Decimal, actual: Decimal, rules: RuleSet, budget_name: str = "全年预算"
) -> Score:
    """得分 = 执行率 × 分值 from the unrounded rate; capped at 分值 when the rule set says so."""
    weight = rounded(rules.execution_points, rules.places)
    support = rules.support.get("execution", "")
    if budget <= 0:
        return Score(
            "预算执行率",
            EXECUTION,
            weight,
            None,
            INSUFFICIENT,
            "execution",
            f"没有{budget_name}，无法计算执行率",
            support,
        )
    rate = actual / budget
    raw = rate * weight
    how = (
        f"执行率 = {actual:,.2f} ÷ {budget:,.2f} = {show_number(rate * 100, 2)}%；"
        f"得分 = {show_number(rate * 100, 4)}% × {pts(weight)} = {show_number(raw, 4)}"
    )
    rule = "execution"
    if rules.execution_cap and raw > weight:
        raw = weight
        how += f"，超过分值，按分值 {pts(weight)} 计"
        rule = "execution.cap"
        support = f"{support}；{rules.support.get('execution.cap', '')}"
    points = rounded(raw, rules.places)
    how += f" → {pts(points)}"
    return Score("预算执行率", EXECUTION, weight, points, SCORED, rule, how, support)


# ---- weights ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """分值 per indicator (by position), the part each belongs to, and how they were set."""

    weights: tuple[Decimal | None, ...]  # None: the indicator's 一级指标 fits no part
    parts: tuple[Part | None, ...]
    notes: tuple[str, ...]  # redistribution and distribution, in words
    problems: tuple[str, ...]  # sums that do not add up to the indicator points (FATAL)
    remarks: tuple[str, ...] = ()  # a part whose given 分值 differ from its points (WARNING)


def weights_for(indicators: tuple[Indicator, ...], rules: RuleSet) -> Weights:
    """Each indicator's 分值: as given, or its part's remaining points shared per the rule set."""
    parts = tuple(rules.part_of(i.level1) for i in indicators)
    notes: list[str] = []
    problems: list[str] = []
    remarks: list[str] = []
    present = [p for p in rules.parts if any(q is p for q in parts)]
    points = {p.name: p.points for p in present}
    for part in rules.parts:
        if part in present or not present:
            continue
        recipients, split = rules.absent.get(part.name, ((), "proportional"))
        receivers = [p for p in present if p.name in recipients] or present
        shares = _split(part.points, receivers, split)
        for receiver, share in zip(receivers, shares, strict=True):
            points[receiver.name] += share
        given = "、".join(f"{r.name} +{pts(s)}" for r, s in zip(receivers, shares, strict=True))
        notes.append(f"未设{part.name}指标，其 {pts(part.points)} 分按规则调给{given}")
    weights: list[Decimal | None] = [None] * len(indicators)
    for part in present:
        members = [n for n, p in enumerate(parts) if p is part]
        given = [n for n in members if indicators[n].weight is not None]
        blank = [n for n in members if indicators[n].weight is None]
        for n in given:
            weights[n] = indicators[n].weight
        remaining = points[part.name] - sum((indicators[n].weight for n in given), Decimal(0))
        if blank:
            if remaining < 0:
                problems.append(
                    f"{part.name}指标已填分值合计超过该部分的 {pts(points[part.name])} 分"
                )
                remaining = Decimal(0)
            share = remaining / len(blank)
            shown, _ = round_preserving_total([share] * len(blank), remaining)
            for n, value in zip(blank, shown, strict=True):
                weights[n] = value
            notes.append(
                f"{part.name} {pts(points[part.name])} 分"
                + (f"（已填 {pts(points[part.name] - remaining)} 分）" if given else "")
                + f"由 {len(blank)} 个未填分值的指标平分，每个约 {pts(share)} 分"
            )
        elif remaining != 0 and len(present) > 1:
            remarks.append(
                f"{part.name}指标的分值合计 {pts(points[part.name] - remaining)}，"
                f"应为 {pts(points[part.name])}"
            )
    total = sum((w for w in weights if w is not None), Decimal(0))
    if present and total != rules.indicator_points:
        problems.append(f"绩效指标分值合计 {pts(total)}，应为 {pts(rules.indicator_points)}")
    return Weights(tuple(weights), parts, tuple(notes), tuple(problems), tuple(remarks))


def _split(points: Decimal, receivers: list[Part], split: str) -> list[Decimal]:
    if split == "equal":
        raw = [points / len(receivers)] * len(receivers)
    else:
        whole = sum((r.points for r in receivers), Decimal(0))
        raw = [points * r.points / whole for r in receivers]
    shown, _ = round_preserving_total(raw, points)
    return shown


# ---- one indicator ---------------------------------------------------------------------------------


def direction_of(indicator: Indicator, target: Quantity | Words | None) -> tuple[str, str | None]:
    """The 方向 to score with, and a note when it was inferred rather than given."""
    if indicator.direction:
        return indicator.direction, None
    if isinstance(target, Quantity) and target.op:
        return target.op, f"方向未填，按指标值中的“{target.op}”"
    if isinstance(target, Quantity):
        return "≥", "方向未填，指标值为数字，按正向（≥）"
    return QUALITATIVE, "方向未填，指标值为文字，按定性"


def score_qualitative(
    indicator: Indicator, weight: Decimal, part: str, rules: RuleSet, target
) -> tuple[Score, str | None]:
    """A 定性 indicator: its tier's default point, or the stated 得分 when it lies in the band.

    Returns the score and, when the stated 得分 lies outside the tier's band, a problem.
    """
    support = rules.support.get("qualitative", "")
    base = {
        "name": indicator.level3,
        "part": part,
        "weight": weight,
        "support": support,
        "indicator": indicator,
        "direction": QUALITATIVE,
        "target": target,
    }
    tier = rules.tier(indicator.tier) if indicator.tier else None
    actual = Words(indicator.actual) if indicator.actual else None
    if tier is None:
        return (
            Score(
                **base,
                points=None,
                status=INSUFFICIENT,
                rule="qualitative",
                how="定性指标未填完成档次（达成 / 部分达成 / 未达成），无法评分",
                actual=actual,
                basis="填报",
            ),
            None,
        )
    low, high = weight * tier.low, weight * tier.high
    top = tier.high >= 1
    band = f"[{pts(low)}, {pts(high)}{']' if top else ')'}"
    problem = None
    if indicator.score is not None:
        stated = indicator.score
        inside = low <= stated and (stated <= high if top else stated < high)
        if inside:
            return (
                Score(
                    **base,
                    points=rounded(stated, rules.places),
                    status=SCORED,
                    rule="qualitative",
                    how=f"定性，完成档次“{tier.label}”，区间 {band}，按填报得分 {pts(stated)}",
                    actual=actual,
                    basis="填报",
                ),
                None,
            )
        problem = (
            f"填报得分 {pts(stated)} 不在完成档次“{tier.label}”的区间 {band} 内，已按默认点计分"
        )
    points = rounded(weight * tier.default, rules.places)
    how = (
        f"定性，完成档次“{tier.label}”，区间 {band}，取默认点 "
        f"{show_number(tier.default * 100, 0)}% → {pts(points)}"
    )
    base["support"] = f"{support}；{rules.support.get('qualitative.default', '')}"
    return (
        Score(
            **base,
            points=points,
            status=SCORED,
            rule="qualitative",
            how=how,
            actual=actual,
            basis="填报",
        ),
        problem,
    )


def score_quantitative(
    indicator: Indicator,
    weight: Decimal,
    part: str,
    rules: RuleSet,
    direction: str,
    target: Quantity,
    actual: Quantity | Words | None,
    basis: str,
) -> Score:
    """A quantitative indicator scored by its direction's rule (see the rule set)."""
    base = {
        "name": indicator.level3,
        "part": part,
        "weight": weight,
        "indicator": indicator,
        "direction": direction,
        "target": target,
        "actual": actual,
        "basis": basis,
    }
    sense = sense_of(direction)
    unit = target.unit
    shown_t = _show(target.number, unit)

    def insufficient(how: str) -> Score:
        return Score(**base, points=None, status=INSUFFICIENT, rule=f"{sense}", how=how)

    if actual is None:
        return insufficient("缺少实际完成值，无法评分")
    if isinstance(actual, Words):
        return insufficient(f"实际完成值“{actual.text}”不是数字，无法按定量指标评分")
    a = convert(actual.number, actual.unit, unit)
    if a is None:
        return insufficient(f"实际完成值的单位“{actual.unit}”与指标值的单位“{unit}”不能比较")
    t = target.number
    if actual.op is not None:
        # A claim ("<1%") rather than a figure: it earns full points only when it implies the
        # target is met; otherwise the figure is needed.
        if _claim_meets(actual.op, a, sense, t):
            rule = f"reverse.{rules.reverse_method}" if sense == "reverse" else "positive.met"
            return Score(
                **base,
                points=rounded(weight, rules.places),
                status=SCORED,
                rule=rule,
                how=f"实际完成值“{actual.text}”本身满足指标值 {direction} {shown_t}，"
                f"按达标计满分 {pts(weight)}",
                support=rules.support.get(rule, ""),
            )
        return insufficient(f"实际完成值“{actual.text}”不是确数，不能据以判断是否达到 {shown_t}")
    shown_a = _show(a, unit)
    notes = ""
    if a < 0:
        notes = f"（实际值为负，按 0 计：{rules.support.get('negative_actual', '')}）"
        a = Decimal(0)
    if sense == "equal" and t == 0:
        met = a <= 0
        return _done(
            base,
            weight if met else Decimal(0),
            rules,
            "equal.zero",
            (f"指标值为 0，实际 {shown_a}，" + ("达标，满分" if met else "大于 0，得 0 分"))
            + notes,
        )
    if sense in ("positive", "equal"):
        prefix = "equal.nonzero/" if sense == "equal" else ""
        support_extra = rules.support.get("equal.nonzero", "") if sense == "equal" else ""
        if t <= 0 or a >= t:
            exceeded = t > 0 and a > t
            rule = "positive.exceeded" if exceeded else "positive.met"
            how = (
                f"实际 {shown_a} {'>' if exceeded else '≥'} 指标值 {shown_t}，"
                + ("超额完成，以分值为限" if exceeded else "达标")
                + "，得满分"
            )
            return _done(base, weight, rules, prefix + rule, how + notes, support_extra)
        raw = weight * a / t
        return _done(
            base,
            raw,
            rules,
            prefix + "positive.missed",
            f"实际 {shown_a} < 指标值 {shown_t}，按比例：{pts(weight)} × {show_measure(a)} ÷ "
            f"{show_number(t)} = {show_number(raw, 4)}" + notes,
            support_extra,
        )
    # reverse: ≤ <
    if a <= t:
        return _done(
            base,
            weight,
            rules,
            f"reverse.{rules.reverse_method}",
            f"实际 {shown_a} ≤ 指标值 {shown_t}（反向指标），达标，得满分" + notes,
        )
    if t <= 0:
        return _done(
            base,
            Decimal(0),
            rules,
            f"reverse.{rules.reverse_method}",
            f"指标值为 {shown_t}，实际 {shown_a} 超出，得 0 分" + notes,
        )
    if rules.reverse_method == "ratio":
        raw = weight * t / a
        how = (
            f"实际 {shown_a} > 指标值 {shown_t}（反向，比值法）：{pts(weight)} × "
            f"{show_number(t)} ÷ {show_measure(a)} = {show_number(raw, 4)}"
        )
        return _done(base, raw, rules, "reverse.ratio", how + notes)
    raw = max(Decimal(0), (1 - (a - t) / t) * weight)
    how = (
        f"实际 {shown_a} > 指标值 {shown_t}（反向，线性扣减）：{pts(weight)} × (1 − "
        f"({show_measure(a)} − {show_number(t)}) ÷ {show_number(t)}) = {show_number(raw, 4)}"
        + ("，超出一倍及以上得 0 分" if a >= 2 * t else "")
    )
    return _done(base, raw, rules, "reverse.linear", how + notes)


def _done(base: dict, raw: Decimal, rules: RuleSet, rule: str, how: str, extra: str = "") -> Score:
    points = rounded(raw, rules.places)
    key = rule.split("/")[-1]
    support = rules.support.get(key, "")
    if extra:
        support = f"{extra}；{support}"
    return Score(
        **base,
        points=points,
        status=SCORED,
        rule=rule.replace("/", "→"),
        how=f"{how} → {pts(points)}",
        support=support,
    )


def _claim_meets(op: str, bound: Decimal, sense: str | None, target: Decimal) -> bool:
    """Whether "actual <op> bound" guarantees the target of this sense is met."""
    claim = sense_of(op)
    if sense == "reverse":
        return claim == "reverse" and bound <= target
    if sense == "positive":
        return claim == "positive" and bound >= target
    return False


def _show(number: Decimal, unit: str | None) -> str:
    """A value for a sentence: as written, or to four decimals when computed."""
    unit = unit or ""
    spaced = "" if unit in ("%", "‰", "") else " "
    return f"{show_measure(number)}{spaced}{unit}"


def show_measure(number: Decimal) -> str:
    if -number.as_tuple().exponent > 4:
        return show_number(rounded(number, 4).normalize())
    return show_number(number)

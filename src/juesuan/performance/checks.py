"""Consistency of what a performance table states with what the data computes, as rule Outcomes.

Each check is one `juesuan.rules.engine.Outcome`: pass, fail (with the stated value as `actual`,
the computed one as `expected`, and the computed value in the message), or insufficient_data when
the data to compute it is missing — never a pass. A stated figure is compared at the precision it
was written with: "1.47" agrees with 1.4747, "1227" with 1227.24, "79.8%" with 79.80%.
"""

from __future__ import annotations

from decimal import Decimal

from juesuan.performance.measures import Measured
from juesuan.performance.values import Quantity, Words, convert, decimals, show_number
from juesuan.rules.engine import FAIL, INSUFFICIENT, NOT_APPLICABLE, PASS, Outcome
from juesuan.rules.expr import Value

FATAL, WARNING, SUGGEST = "FATAL", "WARNING", "SUGGEST"

# Rule ids, with their titles (the checks.json "title").
TITLES = {
    "PERF-execution-rate-stated": "文中所写执行率与账上计算一致",
    "PERF-actual-stated": "填报的实际完成值与计算值一致",
    "PERF-actual-computed": "实际完成值可由数据计算",
    "PERF-data-external": "填报的绩效数据与代发系统的数一致",
    "PERF-indicator-data": "绩效指标有可评分的实际完成值",
    "PERF-weights": "绩效指标分值合计正确",
    "PERF-level1": "一级指标属于评分规则的某一部分",
    "PERF-target": "定量指标的指标值含数字",
    "PERF-direction": "方向与指标值中的比较符一致",
    "PERF-tier": "定性指标得分在完成档次区间内",
    "PERF-score-stated": "填报得分与按规则计算的得分一致",
    "PERF-over-target": "实际完成值未大幅超过指标值",
    "PERF-explain-rate": "预算执行率偏低须说明原因",
    "PERF-monitoring-reason": "监控进度偏差须说明原因",
    "PERF-department-item": "部门整体自评的指标在评分表中",
    "PERF-department-leaf": "部门整体自评的末级指标可评分",
    "PERF-department-total": "文中所写部门整体自评得分与计算一致",
}


def outcome(
    rule: str,
    tier: str,
    status: str,
    message: str,
    *,
    hint: str = "",
    bindings: dict[str, str] | None = None,
    actual: Value | None = None,
    expected: Value | None = None,
    refs: tuple[str, ...] = (),
) -> Outcome:
    return Outcome(
        rule=rule,
        tier=tier,
        title=TITLES[rule],
        status=status,
        message=message,
        hint=hint,
        bindings=dict(bindings or {}),
        actual=actual,
        expected=expected,
        refs=refs,
    )


def tolerance(number: Decimal) -> Decimal:
    """Half a unit of the last written digit: the gap rounding alone explains."""
    return Decimal(5).scaleb(-decimals(number) - 1)


def shown(number: Decimal, unit: str | None, places: int) -> str:
    unit = unit or ""
    spaced = "" if unit in ("%", "‰", "") else " "
    return f"{show_number(number, places)}{spaced}{unit}"


def holds(op: str, left: Decimal, right: Decimal) -> bool:
    return {
        "≥": left >= right,
        ">": left > right,
        "=": left == right,
        "≤": left <= right,
        "<": left < right,
    }[op]


def stated_vs_computed(
    label: str,
    stated: Quantity | Words | None,
    computed: Measured,
    unit: str | None,
    *,
    bindings: dict[str, str],
    refs: tuple[str, ...],
    also: str = "",
) -> Outcome:
    """A stated figure or claim against the computed value, in the indicator's unit."""
    rule = "PERF-actual-stated"
    value = convert(computed.value, computed.unit, unit)
    if value is None:
        return outcome(
            rule,
            WARNING,
            INSUFFICIENT,
            f"{label}：计算值的单位“{computed.unit}”与指标的单位“{unit}”不能比较",
            bindings=bindings,
            refs=refs,
        )
    if stated is None:
        return outcome(
            rule,
            WARNING,
            NOT_APPLICABLE,
            f"{label}：未填实际完成值，以计算值 {shown(value, unit, 2)} 为准（{computed.how}）",
            bindings=bindings,
            refs=refs,
        )
    if isinstance(stated, Words):
        return outcome(
            rule,
            WARNING,
            NOT_APPLICABLE,
            f"{label}：填报值“{stated.text}”是文字，无法与计算值 {shown(value, unit, 2)} 核对",
            bindings=bindings,
            refs=refs,
        )
    bound = convert(stated.number, stated.unit, unit)
    if bound is None:
        return outcome(
            rule,
            WARNING,
            INSUFFICIENT,
            f"{label}：填报值“{stated.text}”的单位与指标的单位“{unit}”不能比较",
            bindings=bindings,
            refs=refs,
        )
    integral = value == value.to_integral_value()
    places = max(decimals(stated.number), 0 if integral else 2)
    if not integral and abs(value) < Decimal(1).scaleb(1 - places):
        places = max(places, 4)  # a small value keeps two significant digits: 0.0388%
    computed_text = shown(value, unit, places)
    actual = Value(bound, unit or "")
    expected = Value(value, unit or "")
    if stated.op is not None:
        ok = holds(stated.op, value, bound)
        verdict = "说法成立" if ok else "说法不成立"
        message = (
            f"{label}：填报“{stated.text}”，计算值为 {computed_text}（{computed.how}），{verdict}"
        )
    else:
        ok = abs(value - bound) <= tolerance(stated.number)
        message = (
            f"{label}：填报 {shown(bound, unit, decimals(stated.number))}，"
            f"计算值为 {computed_text}（{computed.how}）"
            + ("，一致" if ok else f"，相差 {shown(bound - value, unit, places)}")
        )
    if not ok and also:
        message += f"；{also}"
    return outcome(
        rule,
        WARNING,
        PASS if ok else FAIL,
        message,
        hint="" if ok else "核对原表：保留原值并说明，或按计算值更正",
        bindings=bindings,
        actual=actual,
        expected=expected,
        refs=refs,
    )

"""Checks over a read document: the project's table rules wherever the published tables allow,
and the text-level checks (sums, shares, rates, per-capita figures, year-over-year changes and
their direction words, text against tables, the same quantity stated twice, numbering, stray
symbols, template residue, claims against their counts, a project's report naming another
project's beneficiaries).

Tolerances are rounding-aware: a value computed from printed figures is an interval (each figure
may be off by half a unit of its last printed digit); a finding is 确定 only when no value in
that interval gives the printed result.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

from juesuan.audit.budget import budget_checks
from juesuan.audit.facts import (
    UP_WORDS,
    Evidence,
    Facts,
    cell_number,
    class_key,
    evidence,
    is_approximate,
    is_budget,
    is_change,
    text_evidence,
)
from juesuan.audit.findings import (
    CERTAIN,
    SUSPECTED,
    Finding,
    Unresolved,
    interval,
    show,
    show_wan,
    shows_as,
    sum_bounds,
)
from juesuan.audit.model import (
    ARABIC,
    CHINESE,
    LEVELS,
    PAREN_ARABIC,
    PAREN_CHINESE,
    PART,
    Model,
    Number,
    numbering_of,
)

HUNDRED = Decimal(100)


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    explained: list[str] = field(default_factory=list)  # gaps that rounding explains
    run: int = 0  # checks evaluated (each comparison counts once)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def skip(self, check: str, reason: str, where: str = "") -> None:
        self.unresolved.append(Unresolved(check, reason, where))


def run_all(model: Model, facts: Facts) -> Outcome:
    out = Outcome()
    for check in (
        table_rules,
        enumerations,
        items_against_classes,
        item_paths,
        shares,
        completions,
        per_capita,
        year_over_year,
        compared_year,
        text_against_tables,
        same_quantity,
        project_measures,
        numbering,
        toc_order,
        stray_symbols,
        template_residue,
        rate_claims,
        beneficiaries,
        list_counts,
        performance_per_capita,
        procurement,
        grid_arithmetic,
        budget_tables,
    ):
        check(model, facts, out)
    return out


def _wan(number: Number) -> Number:
    """A money figure restated in 万元, keeping the spread of its printed precision."""
    if not number.is_money or number.unit == "万元":
        return number
    scale = {"亿元": 4, "千元": -1, "元": -4}[number.unit]
    return Number(
        number.wan,
        number.text,
        "万元",
        number.decimals - scale,
        number.start,
        number.end,
        number.paragraph,
        number.place,
    )


def _ev(model: Model, *numbers: Number) -> tuple[Evidence, ...]:
    return tuple(evidence(model, n) for n in numbers)


# ---- 1. the project's table rules on the published tables ------------------------------------


def table_rules(model: Model, facts: Facts, out: Outcome) -> None:
    for paragraph in model.titles_without_table:
        out.skip(
            "附表",
            f"“{paragraph.text}”只有标题，文中没有表格内容，表内、表间审核公式不能运行",
            str(paragraph.place),
        )
    for note in facts.table_notes:
        out.skip("附表", f"表格未能对应到标准格式：{note}")
    budget = [t.title for t in model.tables if t.id and t.id.startswith("budget_")]
    if facts.statements is None:
        if not model.titles_without_table and not budget:
            out.skip("附表", "文中没有可识别的决算附表，表内、表间审核公式未运行")
        return
    from juesuan.codes.load import FIRST_YEAR
    from juesuan.ledger.model import Dataset, Ledger, Unit
    from juesuan.rules.engine import FAIL, INSUFFICIENT, PASS, evaluate, load_ruleset

    # the year only picks the code table that names a ledger's rows, and this ledger is empty
    year = facts.year or FIRST_YEAR
    dataset = Dataset(unit=Unit(name="", year=year), ledger=Ledger.empty())
    outcomes = evaluate(dataset, load_ruleset("tables"), facts.statements)  # type: ignore[arg-type]
    titles = {t.title: t.id for t in facts.statements.tables}  # type: ignore[union-attr]
    insufficient: dict[str, str] = {}
    for outcome in outcomes:
        if outcome.status == PASS:
            out.run += 1
        elif outcome.status == INSUFFICIENT:
            insufficient.setdefault(outcome.rule, f"{outcome.title}：{outcome.message}")
        elif outcome.status == FAIL:
            out.run += 1
            refs = []
            for ref in outcome.refs:
                refs.extend(_table_evidence(facts, titles, ref))
            out.add(
                Finding(
                    f"table:{outcome.rule}",
                    CERTAIN,
                    outcome.title,
                    outcome.message,
                    tuple(refs),
                    show_wan(outcome.expected.amount) if outcome.expected else None,
                    show_wan(outcome.actual.amount) if outcome.actual else None,
                    show_wan(outcome.difference) if outcome.difference is not None else None,
                )
            )
    for rule, reason in insufficient.items():
        out.skip(f"table:{rule}", reason)


def _table_evidence(facts: Facts, titles: dict[str, str], ref: str) -> list[Evidence]:
    head, _, rest = ref.partition("·")
    title = head.split("、", 1)[-1]
    table_id = titles.get(title)
    pieces = rest.split("·")
    row = pieces[0] if pieces else ""
    column = pieces[1] if len(pieces) > 1 else ""
    found = []
    for (tid, r, c), (shown, place, text) in facts.table_cells.items():
        if tid == table_id and r == row and (not column or c == column or column.startswith(c)):
            found.append(Evidence(place, f"{title}：{text}", "" if shown is None else str(shown)))
            break
    return found


# ---- 2. a total and its listed parts -----------------------------------------------------------


def enumerations(model: Model, facts: Facts, out: Outcome) -> None:
    for enumeration in facts.enumerations:
        total = _wan(enumeration.total)
        parts = [_wan(p) for p in enumeration.parts]
        out.run += 1
        low, high = sum_bounds(parts)
        point = sum((p.value for p in parts), Decimal(0))
        lo, hi = total.value - total.half_step, total.value + total.half_step
        unit = total.unit
        if low > hi or (enumeration.exhaustive and high < lo):
            listed = "、".join(p.shown() for p in enumeration.parts[:20])
            out.add(
                Finding(
                    "text-parts-sum",
                    CERTAIN,
                    "合计与所列分项不符",
                    f"“{enumeration.label}”{enumeration.total.shown()}，所列 {len(parts)} 项"
                    f"（{listed}）之和为 {show(point)}{unit}，相差 {show(point - total.value)}{unit}",
                    _ev(model, enumeration.total, *enumeration.parts[:20]),
                    f"{show(total.value)}{unit}",
                    f"{show(point)}{unit}",
                    f"{show(point - total.value)}{unit}",
                )
            )
        elif point != total.value and low <= hi and high >= lo:
            out.explained.append(
                f"“{enumeration.label}”{enumeration.total.shown()}与分项之和 {show(point)} 的差在舍入范围内"
            )


# ---- 3. items (项) against the class (类) they belong to --------------------------------------

_CLASS_AMOUNT = re.compile(r"([^\s，。；：:、\d]{2,20}?)\s*[（(]\s*类\s*[)）]\s*(?:支出)?\s*$")


def _class_statements(model: Model, item_paragraphs: set[int]) -> dict[str, list[Number]]:
    found: dict[str, list[Number]] = defaultdict(list)
    for paragraph in model.paragraphs:
        if paragraph.index in item_paragraphs or paragraph.kind != "body":
            continue
        for n in model.numbers[paragraph.index]:
            if not n.is_money or is_change(model, n):
                continue
            before = paragraph.text[max(0, n.start - 30) : n.start]
            match = _CLASS_AMOUNT.search(before) or re.search(
                r"([^\s，。；：:、\d]{2,20}?支出)\s*(?:为)?\s*$", before
            )
            if match:
                found[class_key(match.group(1))].append(n)
    return found


def items_against_classes(model: Model, facts: Facts, out: Outcome) -> None:
    items = [i for i in facts.items if i.amount is not None]
    if not items:
        return
    groups: dict[tuple[str, bool], list] = defaultdict(list)
    for item in items:
        groups[(class_key(item.class_name), item.budget)].append(item)
    stated = _class_statements(model, {i.paragraph for i in items})
    complete = {
        index
        for e in facts.enumerations
        if e.exhaustive and len(e.paragraphs) > 1
        for index in e.paragraphs[1:]
    }
    for (key, budget), members in groups.items():
        amounts = [_wan(i.amount) for i in members]
        totals = [n for n in stated.get(key, []) if is_budget(model, n) == budget]
        for class_total in totals[:1]:
            total = _wan(class_total)
            out.run += 1
            low, high = sum_bounds(amounts)
            point = sum((a.value for a in amounts), Decimal(0))
            if not shows_as(low, high, total):
                # more than the class is proven; less may be items the text does not list,
                # unless the items are the parts of a list the text gives as complete
                short = high < total.value - total.half_step
                listed = {i.paragraph for i in members} <= complete
                out.add(
                    Finding(
                        "text-items-class",
                        SUSPECTED if short and not listed else CERTAIN,
                        "各项（项级科目）之和与所属类不符",
                        f"{key}（类）{class_total.shown()}，文中列出的该类 {len(amounts)} 个项级科目之和为"
                        f" {show(point)}万元，相差 {show(point - total.value)}万元"
                        + (
                            "；若文中未列出该类全部项级科目则可能成立"
                            if short and not listed
                            else ""
                        ),
                        _ev(model, class_total, *[i.amount for i in members]),
                        f"{show(total.value)}万元",
                        f"{show(point)}万元",
                        f"{show(point - total.value)}万元",
                    )
                )


def item_paths(model: Model, facts: Facts, out: Outcome) -> None:
    """类（款）项 names against the function classification: the 款 must be the 项's parent."""
    from juesuan.codes import function_codes, name_key

    if not facts.items:
        return
    if facts.year is None:
        out.skip(
            "text-item-path",
            "文中没有写明年度（封面、标题都没有“××××年度预算/决算”），"
            "不知按哪一年的政府收支分类科目核对类、款、项名称，未核对",
        )
        return
    table = function_codes(facts.year)
    by_name: dict[str, list] = defaultdict(list)
    for code in table:
        by_name[name_key(code.name)].append(code)
    seen: set[tuple[str, str, str]] = set()
    for item in facts.items:
        key = (item.class_name, item.kuan, item.xiang)
        if key in seen:
            continue
        seen.add(key)
        candidates = [
            c
            for c in by_name.get(name_key(item.xiang), [])
            if len(c.code) == 7
            and name_key(table.name(c.code[:3]) or "").removesuffix("支出")
            == name_key(item.class_name).removesuffix("支出")
        ]
        if not candidates:
            _misplaced_name(model, table, by_name, item, out)
            continue
        out.run += 1
        parents = {table.name(c.code[:5]) or "" for c in candidates}
        if any(name_key(p) == name_key(item.kuan) for p in parents):
            continue
        codes = "、".join(f"{c.code}（{table.name(c.code[:5])}）" for c in candidates)
        out.add(
            Finding(
                "text-item-path",
                SUSPECTED,
                "款级科目名称与项级科目不符",
                f"“{item.xiang}（项）”写在“{item.kuan}（款）”下，按{table.year}年政府收支分类科目，"
                f"该项属于 {codes}",
                (text_evidence(model, item.paragraph, item.start, item.end),),
                "、".join(sorted(parents)),
                item.kuan,
            )
        )


def _misplaced_name(model: Model, table, by_name: dict, item, out: Outcome) -> None:
    """No 项 of that name under that 类: a 款's name written as the 项 ("卫生健康支出（类）卫生健康
    支出（款）计划生育事务（项）"), or a 类 under a name it no longer has ("医疗卫生与计划生育支出（类）
    行政事业单位医疗（款）行政单位医疗（项）", renamed 卫生健康支出 in 2018)."""
    from juesuan.codes import name_key

    def class_of(code) -> str:
        return name_key(table.name(code.code[:3]) or "").removesuffix("支出")

    printed_class = name_key(item.class_name).removesuffix("支出")
    kuan = [c for c in by_name.get(name_key(item.xiang), []) if len(c.code) == 5]
    kuan = [c for c in kuan if class_of(c) == printed_class]
    if kuan:
        what = f"“{item.xiang}”是款级科目（{kuan[0].code}），不是项级科目"
        expected = f"{table.name(kuan[0].code[:3])}（类）{item.xiang}（款）…（项）"
    else:
        # the 款 and 项 fit one class of the year, and the printed class is not its name
        known = [
            c
            for c in by_name.get(name_key(item.xiang), [])
            if len(c.code) == 7 and name_key(table.name(c.code[:5]) or "") == name_key(item.kuan)
        ]
        if len(known) != 1 or not table.name(known[0].code[:3]):
            return
        what = (
            f"“{item.class_name}”不是{table.year}年政府收支分类科目的类名，"
            f"{known[0].code}（{item.kuan}·{item.xiang}）属于“{table.name(known[0].code[:3])}”"
        )
        expected = f"{table.name(known[0].code[:3])}（类）"
    out.run += 1
    out.add(
        Finding(
            "text-item-path",
            SUSPECTED,
            "科目名称与政府收支分类科目不符",
            what,
            (text_evidence(model, item.paragraph, item.start, item.end),),
            expected,
            f"{item.class_name}（类）{item.kuan}（款）{item.xiang}（项）",
        )
    )


# ---- 4. shares, completion rates, per-capita figures -----------------------------------------


def shares(model: Model, facts: Facts, out: Outcome) -> None:
    by_whole: dict[int, list] = defaultdict(list)
    for share in facts.shares:
        if share.whole is not None:
            by_whole[id(share.whole)].append(share.share)
    for share in facts.shares:
        if share.whole is None:
            if share.whole_label:
                out.skip(
                    "占比",
                    f"找不到“{share.whole_label}”的数额，无法复核 {share.share.shown()}",
                    str(share.share.place),
                )
            continue
        part, whole = _wan(share.part), _wan(share.whole)
        if whole.value == 0:
            continue
        out.run += 1
        span = interval(lambda p, w: p / w * HUNDRED, part, whole)
        point = part.value / whole.value * HUNDRED
        if span is None:
            continue
        if not shows_as(span[0], span[1], share.share):
            severity, note = proof(span, share.share, share.explicit)
            other = _other_denominator(model, share.part, share.share, share.whole)
            if severity == CERTAIN and other is not None:
                severity, note = SUSPECTED, f"；按文中另一个数 {other.shown()} 作分母则相符"
            if severity == CERTAIN and _plugged_to_hundred(span, share.share, by_whole):
                severity, note = (
                    SUSPECTED,
                    "；同列各项占比之和恰为 100%，可能为凑足 100% 调整了尾差",
                )
            out.add(
                Finding(
                    "text-share",
                    severity,
                    "占比计算不符",
                    f"{share.part.shown()} ÷ {share.whole.shown()} = {show(point)}%，"
                    f"文中写 {share.share.shown()}{note}",
                    _ev(model, share.share, share.part, share.whole),
                    f"{show(point)}%",
                    share.share.shown(),
                    f"{show(share.share.value - point)} 个百分点",
                )
            )
        elif rounded_differs(point, share.share):
            out.explained.append(
                f"{share.part.shown()}/{share.whole.shown()} 按印出数为 {show(point, share.share.decimals)}%，"
                f"文中 {share.share.shown()} 在舍入范围内"
            )


def proof(span: tuple[Decimal, Decimal], printed: Number, sure: bool = True) -> tuple[str, str]:
    """确定 only when no reading of the printed figures explains the gap; else 疑似 and the
    reading that would (the same test for shares, rates, completion and per-capita figures)."""
    if _truncates_to(span, printed):
        return SUSPECTED, "；若按截尾（舍去尾数）取数则相符"
    if _glued_to_page_number(span, printed):
        return SUSPECTED, "；印出数去掉前面的数字后相符，可能与页码等相连"
    return (CERTAIN if sure else SUSPECTED), ""


def _plugged_to_hundred(span: tuple[Decimal, Decimal], printed: Number, by_whole: dict) -> bool:
    """The shares of one whole, as printed, add up to exactly 100% and this one is a unit of its
    last digit from the arithmetic: the writer moved the remainder to make the list whole."""
    listed = next((group for group in by_whole.values() if any(s is printed for s in group)), [])
    if len(listed) < 2 or sum(s.value for s in listed) != HUNDRED:
        return False
    step = Decimal(10) ** -printed.decimals
    return shows_as(span[0] - step, span[1] + step, printed)


def _other_denominator(model: Model, part: Number, printed: Number, used: Number) -> Number | None:
    """Another amount stated in the same or the previous paragraph that, as the denominator,
    gives the printed percentage (年初预算 where the sentence names 全年预算, and the like)."""
    numerator = _wan(part)
    for index in (part.paragraph - 1, part.paragraph):
        for other in model.numbers[index] if index >= 0 else []:
            if other is used or other is part or not other.is_money:
                continue
            denominator = _wan(other)
            if denominator.value <= 0:
                continue
            span = interval(lambda p, w: p / w * HUNDRED, numerator, denominator)
            if span and shows_as(span[0], span[1], printed):
                return other
    return None


def _glued_to_page_number(span: tuple[Decimal, Decimal], printed: Number) -> bool:
    """A page number read into a figure ("3" + "12.5%"): the figure without its leading one or
    two digits is what the arithmetic gives."""
    whole, _, fraction = printed.text.replace(",", "").partition(".")
    for cut in (1, 2):
        if len(whole) <= cut:
            break
        rest = Decimal(whole[cut:] + ("." + fraction if fraction else ""))
        if span[0] <= rest + printed.half_step and span[1] >= rest - printed.half_step:
            return True
    return False


def _truncates_to(span: tuple[Decimal, Decimal], printed: Number) -> bool:
    """Would cutting off the digits (instead of rounding) give the printed figure?"""
    step = Decimal(10) ** -printed.decimals
    return span[0] < printed.value + step and span[1] >= printed.value


def rounded_differs(value: Decimal, printed: Number) -> bool:
    from juesuan.audit.findings import rounded

    return rounded(value, printed.decimals) != printed.value


def completions(model: Model, facts: Facts, out: Outcome) -> None:
    by_actual: dict[tuple[Decimal, int], list] = defaultdict(list)
    for claim in facts.completions:
        if claim.actual is not None:
            by_actual[(claim.actual.wan, claim.actual.decimals)].append(claim)
        if claim.actual is None or claim.budget is None:
            continue
        actual, budget = _wan(claim.actual), _wan(claim.budget)
        if budget.value == 0:
            if claim.rate.value != 0:
                out.run += 1
                _completion_of_nothing(model, claim, out)
            continue
        out.run += 1
        span = interval(lambda a, b: a / b * HUNDRED, actual, budget)
        point = actual.value / budget.value * HUNDRED
        if span and not shows_as(span[0], span[1], claim.rate):
            severity, note = proof(span, claim.rate)
            other = _other_denominator(model, claim.actual, claim.rate, claim.budget)
            if severity == CERTAIN and other is not None:
                severity, note = SUSPECTED, f"；按文中另一个预算数 {other.shown()} 计算则相符"
            out.add(
                Finding(
                    "text-completion",
                    severity,
                    "预算完成率计算不符",
                    f"执行 {claim.actual.shown()} ÷ 预算 {claim.budget.shown()} = {show(point)}%，"
                    f"文中写 {claim.rate.shown()}{note}",
                    _ev(model, claim.rate, claim.actual, claim.budget),
                    f"{show(point)}%",
                    claim.rate.shown(),
                    f"{show(claim.rate.value - point)} 个百分点",
                )
            )
    for (value, _), claims in by_actual.items():
        if value < 1 or len(claims) < 2:
            continue
        rates = {c.rate.value for c in claims}
        if len(rates) < 2:
            continue
        out.run += 1
        with_budget = [c for c in claims if c.budget is not None]
        described = "；".join(
            f"{c.rate.shown()}"
            + (f"（按预算 {c.budget.shown()}）" if c.budget else "（未写预算数）")
            for c in claims
        )
        numbers = [n for c in claims for n in (c.rate, c.actual, c.budget) if n is not None]
        out.add(
            Finding(
                "text-completion-conflict",
                SUSPECTED,
                "同一决算数的预算完成率前后不一",
                f"决算数 {claims[0].actual.shown()} 的完成率写法不一：{described}"
                + (
                    "。若两处所指预算口径不同（年初预算或调整预算）则可能都成立"
                    if with_budget
                    else ""
                ),
                _ev(model, *numbers),
                with_budget[0].rate.shown() if with_budget else None,
                "、".join(sorted({c.rate.shown() for c in claims})),
            )
        )


def _completion_of_nothing(model: Model, claim, out: Outcome) -> None:
    """ "年初预算为 0 万元……完成年初预算的 95.89%": no rate completes a zero budget, so the
    words or the figure are wrong whichever was meant; the budget that gives the figure is named."""
    named = f"{claim.basis}预算" if claim.basis else "预算"
    other = _other_denominator(model, claim.actual, claim.rate, claim.budget)
    note = f"；{claim.rate.shown()} 是对文中另一个预算数 {other.shown()} 的完成率" if other else ""
    out.add(
        Finding(
            "text-completion",
            CERTAIN,
            "预算为零，完成率无从计算",
            f"{named}为 {claim.budget.shown()}，完成率无定义，文中却写“完成{named}的"
            f"{claim.rate.shown()}”{note}",
            _ev(model, claim.rate, claim.budget, claim.actual),
            "无（预算为 0）",
            claim.rate.shown(),
        )
    )


def per_capita(model: Model, facts: Facts, out: Outcome) -> None:
    for claim in facts.per_capita:
        total, value = _wan(claim.total), _wan(claim.value)
        if claim.count.value == 0:
            continue
        out.run += 1
        span = interval(lambda t, c: t / c, total, claim.count.value)
        point = total.value / claim.count.value
        if span and not shows_as(span[0], span[1], value):
            severity, note = proof(span, value)
            out.add(
                Finding(
                    "text-per-capita",
                    severity,
                    "人均数计算不符",
                    f"{claim.total.shown()} ÷ {claim.count.shown()} = {show(point)}万元/人，"
                    f"文中写 {claim.value.shown()}{note}",
                    _ev(model, claim.value, claim.total, claim.count),
                    f"{show(point)}万元",
                    claim.value.shown(),
                    f"{show(value.value - point)}万元",
                )
            )


# ---- 5. year over year ------------------------------------------------------------------------


def year_over_year(model: Model, facts: Facts, out: Outcome) -> None:
    for claim in facts.yoy:
        where = str(model.paragraphs[claim.sentence.paragraph].place_at(claim.sentence.start))
        up_change = claim.change_word in UP_WORDS
        if claim.change is not None and claim.rate is not None:
            out.run += 1
            up_rate = claim.rate_word in UP_WORDS
            if up_change != up_rate and claim.change.value != 0 and claim.rate.value != 0:
                out.add(
                    Finding(
                        "text-yoy-direction",
                        CERTAIN,
                        "增减方向用词前后矛盾",
                        f"同一句中变动额写“{claim.change_word}”，变动率写“{claim.rate_word}”",
                        _ev(model, claim.change, claim.rate),
                        None,
                        f"{claim.change_word}…{claim.rate_word}",
                    )
                )
                continue
        if claim.flat and claim.change is not None and claim.change.value != 0:
            text = claim.sentence.text
            if "基本" not in text[max(0, text.find(claim.flat) - 6) : text.find(claim.flat)]:
                out.run += 1
                out.add(
                    Finding(
                        "text-yoy-flat",
                        CERTAIN,
                        "写“持平”但有增减额",
                        f"句中写“{claim.flat}”，同时写{claim.change_word} {claim.change.shown()}",
                        _ev(model, claim.change),
                        "0",
                        claim.change.shown(),
                    )
                )
        if claim.rate is None:
            continue
        if claim.change is None and claim.prior is not None and claim.current is not None:
            _rate_from_both_years(model, claim, out)
            continue
        if claim.change is None or claim.current is None:
            if claim.rate.value != 0:
                out.skip(
                    "同比",
                    f"只写了变动率 {claim.rate.shown()}，没有同时写本年数和增减额（或上年数），无法复核",
                    where,
                )
            continue
        current, change = _wan(claim.current), _wan(claim.change)
        sign = Decimal(-1) if up_change else Decimal(1)
        prior_point = current.value + sign * change.value
        if prior_point == 0 and up_change and claim.rate.value != 0:
            out.run += 1  # a convention some write ("新增…增长 100%"), so only 疑似
            out.add(
                Finding(
                    "text-yoy-rate",
                    SUSPECTED,
                    "上年为零，增长率无从计算",
                    f"本年 {claim.current.shown()}，{claim.change_word} {claim.change.shown()}，上年为 0，"
                    f"增长率无定义，文中写 {claim.rate.shown()}（写“{claim.rate.shown()}”意味着上年为本年的一部分）",
                    _ev(model, claim.rate, claim.current, claim.change),
                    "无（上年为 0）",
                    claim.rate.shown(),
                )
            )
            continue
        if prior_point <= 0:
            continue
        out.run += 1
        span = interval(lambda c, d, s=sign: d / (c + s * d) * HUNDRED, current, change)
        point = change.value / prior_point * HUNDRED
        if span is None:
            continue
        if not shows_as(span[0], span[1], claim.rate):
            severity, note = proof(span, claim.rate, claim.confident)
            out.add(
                Finding(
                    "text-yoy-rate",
                    severity,
                    "同比变动率计算不符",
                    f"本年 {claim.current.shown()}，{claim.change_word} {claim.change.shown()}，上年应为"
                    f" {show(prior_point)}{current.unit}，变动率 {claim.change.shown()} ÷ {show(prior_point)}"
                    f" = {show(point)}%，文中写 {claim.rate.shown()}{note}",
                    _ev(model, claim.rate, claim.current, claim.change),
                    f"{show(point)}%",
                    claim.rate.shown(),
                    f"{show(claim.rate.value - point)} 个百分点",
                )
            )
        elif rounded_differs(point, claim.rate):
            out.explained.append(
                f"{where}：按印出数 {claim.change.shown()} ÷ {show(prior_point)} = "
                f"{show(point, claim.rate.decimals)}%，文中 {claim.rate.shown()}；在舍入范围"
                f"（{show(span[0], 3)}%～{show(span[1], 3)}%）内，不作为问题"
            )


def _rate_from_both_years(model: Model, claim, out: Outcome) -> None:
    """ "2025年执行数为 X 万元，2026年预算安排 Y 万元，比2025年增加 Z%": the direction and the
    rate from the two stated figures."""
    current, prior = _wan(claim.current), _wan(claim.prior)
    if prior.value <= 0 or claim.rate.value == 0:
        return
    out.run += 1
    up = claim.rate_word in UP_WORDS
    low, high = interval(lambda c, p: c - p, current, prior)
    evidence_ = _ev(model, claim.rate, claim.current, claim.prior)
    if (up and high < 0) or (not up and low > 0):
        actual = "减少" if high < 0 else "增加"
        out.add(
            Finding(
                "text-yoy-direction",
                CERTAIN,
                "增减方向与所列两年数相反",
                f"上年 {claim.prior.shown()}，本年 {claim.current.shown()}，是{actual}，"
                f"文中却写“{claim.rate_word}{claim.rate.shown()}”",
                evidence_,
                actual,
                claim.rate_word,
            )
        )
        return
    sign = Decimal(1) if up else Decimal(-1)
    span = interval(lambda c, p: sign * (c - p) / p * HUNDRED, current, prior)
    point = sign * (current.value - prior.value) / prior.value * HUNDRED
    if span is None or shows_as(span[0], span[1], claim.rate):
        return
    severity, note = proof(span, claim.rate, claim.confident)
    out.add(
        Finding(
            "text-yoy-rate",
            severity,
            "同比变动率计算不符",
            f"上年 {claim.prior.shown()}，本年 {claim.current.shown()}，变动率为 {show(point)}%，"
            f"文中写 {claim.rate.shown()}{note}",
            evidence_,
            f"{show(point)}%",
            claim.rate.shown(),
            f"{show(claim.rate.value - point)} 个百分点",
        )
    )


# "比2026年预算增加", "与2024年度相比", "与2026年预算持平": a comparison naming a year
_COMPARED_YEAR = re.compile(
    r"(?:比|较|与|同)\s*(?P<year>(?:19|20)\d{2})\s*年度?(?P<what>[^，。；：:\d]{0,12}?)"
    r"(?:相比|相较|持平|增加|减少|增长|下降|上升|降低)"
)


def compared_year(model: Model, facts: Facts, out: Outcome) -> None:
    """A comparison with the document's own year where the year before is meant: a 2026 budget
    "比2026年预算增加…", a 2024 final account "与2024年度相比". A final account's figure against
    its own year's budget ("比2024年预算") is how it was carried out, and a balance against the
    start of the year ("比2024年初") is no comparison of years: neither is reported."""
    hits = []
    for paragraph in model.paragraphs:
        if paragraph.kind not in ("body", "heading"):
            continue
        for match in _COMPARED_YEAR.finditer(paragraph.text):
            what = match["what"]
            if what.startswith(("初", "末", "底")) or (
                facts.year_kind == "决算" and "预算" in what
            ):
                continue
            hits.append((paragraph, match))
    if not hits:
        return
    if facts.year is None:
        out.skip("text-compared-year", "文中没有写明年度，比较的年份是否就是本年未核对")
        return
    out.run += 1
    own = [(p, m) for p, m in hits if int(m["year"]) == facts.year]
    if not own:
        return
    evidence_ = []
    for paragraph, match in own[:20]:
        clause_end = min(
            (i for i in (paragraph.text.find(c, match.end()) for c in "，,；;。") if i >= 0),
            default=len(paragraph.text),
        )
        figure = next(
            (n for n in model.numbers[paragraph.index] if match.end() <= n.start < clause_end),
            None,
        )
        evidence_.append(
            evidence(model, figure)
            if figure is not None
            else text_evidence(model, paragraph.index, match.start(), match.end())
        )
    said = "、".join(dict.fromkeys(f"“{m.group(0)}”" for _, m in own))
    out.add(
        Finding(
            "text-compared-year",
            CERTAIN,
            "比较的年份写成了本年",
            f"本文件是{facts.year}年{facts.year_kind}，文中却有 {len(own)} 处与{facts.year}年相比"
            f"（{said}），应是与上一年（{facts.year - 1}年）相比",
            tuple(evidence_),
            f"{facts.year - 1}年",
            f"{facts.year}年",
        )
    )


# ---- 6. text against the published tables -----------------------------------------------------

_LABEL_CELLS = {
    "收支总计": ("summary", "收入总计", "决算数"),
    "本年收入合计": ("summary", "本年收入合计", "决算数"),
    "本年支出合计": ("summary", "本年支出合计", "决算数"),
    "基本支出": ("spending", "合计", "基本支出"),
    "项目支出": ("spending", "合计", "项目支出"),
    "财政拨款收支总计": ("fiscal_summary", "收入总计", "决算数"),
    "一般公共预算财政拨款支出": ("general", "合计", "合计"),
    "一般公共预算财政拨款基本支出": ("general", "合计", "基本支出"),
    "人员经费": ("general_basic", "人员经费合计", "决算数"),
    "公用经费": ("general_basic", "公用经费合计", "决算数"),
    "三公经费": ("three_public", "数额", "合计.决算数"),
}


def text_against_tables(model: Model, facts: Facts, out: Outcome) -> None:
    if not facts.table_cells:
        return
    for labeled in facts.labeled:
        cell = _LABEL_CELLS.get(labeled.key)
        if cell is None or cell not in facts.table_cells:
            continue
        _compare_cell(model, facts, out, labeled.number, cell, f"正文“{labeled.label}”")
    general_rows = {}
    statements = facts.statements
    if statements is not None and statements.table("general") is not None:  # type: ignore[union-attr]
        for row in statements.table("general").sections[0].rows:  # type: ignore[union-attr]
            if row.code:
                general_rows.setdefault(class_key(row.label), row.code)
    for item in facts.items:
        if item.amount is None or item.budget:
            continue
        code = general_rows.get(class_key(item.xiang))
        if code and len(code) == 7:
            _compare_cell(
                model,
                facts,
                out,
                item.amount,
                ("general", code, "合计"),
                f"正文“{item.xiang}（项）”",
            )
    stated = _class_statements(model, {i.paragraph for i in facts.items if i.amount is not None})
    for key, numbers in stated.items():
        code = general_rows.get(key)
        if code and len(code) == 3:
            for number in [n for n in numbers if not is_budget(model, n)][:1]:
                _compare_cell(
                    model, facts, out, number, ("general", code, "合计"), f"正文“{key}（类）”"
                )


def _compare_cell(
    model: Model, facts: Facts, out: Outcome, number: Number, cell: tuple[str, str, str], what: str
) -> None:
    shown, place, row_text = facts.table_cells[cell]
    if shown is None:
        shown = Decimal(0)
    out.run += 1
    value = _wan(number)
    if shows_as(shown, shown, value):
        return
    table = facts.statements.table(cell[0]) if facts.statements is not None else None  # type: ignore[union-attr]
    title = table.title if table else cell[0]
    out.add(
        Finding(
            "text-vs-table",
            CERTAIN,
            "正文数字与附表不符",
            f"{what}写 {number.shown()}，{title}为 {show(shown)}万元",
            (evidence(model, number), Evidence(place, f"{title}：{row_text}", str(shown))),
            f"{show(shown)}万元",
            number.shown(),
            f"{show(value.value - shown)}万元",
        )
    )


# ---- 7. the same quantity stated differently -------------------------------------------------


def same_quantity(model: Model, facts: Facts, out: Outcome) -> None:
    groups: dict[str, list] = defaultdict(list)
    for labeled in facts.labeled:
        groups[labeled.key].append(labeled)
    for key, mentions in groups.items():
        if len(mentions) < 2:
            continue
        out.run += 1
        first = mentions[0]
        differing = [m for m in mentions[1:] if not _same(_wan(first.number), _wan(m.number))]
        if differing:
            values = "、".join(dict.fromkeys(m.number.shown() for m in mentions))
            out.add(
                Finding(
                    "text-same-quantity",
                    CERTAIN,
                    "同一数额前后不一",
                    f"“{key}”在文中有不同的数：{values}",
                    _ev(model, first.number, *[m.number for m in differing]),
                    first.number.shown(),
                    differing[0].number.shown(),
                )
            )


def _same(a: Number, b: Number) -> bool:
    return (
        a.value - a.half_step <= b.value + b.half_step
        and b.value - b.half_step <= a.value + a.half_step
    )


MEASURES = (
    ("失败退回", re.compile(r"失败退回(?!率)\s*$"), ("人次", "次", "笔")),
    ("基金征收", re.compile(r"基金征收(?:额)?\s*$"), ("万元", "元", "亿元")),
    ("待遇发放", re.compile(r"待遇发放(?:额)?\s*$"), ("万元", "元", "亿元")),
    ("发放人数", re.compile(r"(?:发放|代发|为|保证)\s*$"), ("名",)),
    ("年初预算", re.compile(r"年初预算(?:金额|资金|数)?(?:为|申报资金需求)?\s*$"), ("万元",)),
    ("决算执行数", re.compile(r"(?:决算)?执行数(?:为)?\s*$"), ("万元",)),
    ("实际发放", re.compile(r"实际发放\s*$"), ("万元",)),
)


TABLE_MEASURES = {
    "失败退回": r"失败退回(?!率)",
    "基金征收": r"基金征收",
    "待遇发放": r"待遇发放(?!准时)",
    "发放人数": r"^发放人数$",
}


def project_measures(model: Model, facts: Facts, out: Outcome) -> None:
    """Within one project's texts and table, a measure (失败退回, 基金征收…) stated twice."""
    mentions: dict[tuple[str, str], list[tuple[Decimal, Evidence, str]]] = defaultdict(list)
    for paragraph in model.paragraphs:
        if not paragraph.scope or paragraph.kind != "body":
            continue
        for n in model.numbers[paragraph.index]:
            if is_approximate(model, n) or is_change(model, n):
                continue
            before = paragraph.text[max(0, n.start - 14) : n.start]
            before = re.split(r"[，。；：:、]", before)[-1]
            before = re.sub(r"(?:共|全年|因账号户名错误等原因|完成|发生|了|的|达)", "", before)
            for name, pattern, units in MEASURES:
                if n.unit in units and pattern.search(before):
                    mentions[(paragraph.scope, name)].append(
                        (_wan(n).value, evidence(model, n), n.shown())
                    )
                    break
    for row in facts.performance:
        for name, _pattern, units in MEASURES:
            if name not in TABLE_MEASURES or not re.search(TABLE_MEASURES[name], row.name):
                continue
            parsed = cell_number(row.actual)
            if parsed and (parsed[2] in (*units, "人") or not parsed[2]):
                place = Evidence(
                    row.place, f"绩效目标完成情况表：{row.name} 实际完成 {row.actual}", row.actual
                )
                mentions[(row.project, name)].append((parsed[0], place, row.actual))
    for (project, name), found in mentions.items():
        if len(found) < 2:
            continue
        out.run += 1
        values = {v for v, _, _ in found}
        if len(values) > 1:
            shown = "、".join(dict.fromkeys(s for _, _, s in found))
            out.add(
                Finding(
                    "text-same-quantity",
                    CERTAIN,
                    "同一项目的同一数据前后不一",
                    f"{project}：“{name}”前后写作 {shown}",
                    tuple(e for _, e, _ in found),
                    found[0][2],
                    next(s for v, _, s in found if v != found[0][0]),
                )
            )


# ---- 8. numbering, table of contents --------------------------------------------------------


def numbering(model: Model, facts: Facts, out: Outcome) -> None:
    last: dict[str, tuple[int, int]] = {}  # style -> (value, paragraph)
    for paragraph in model.paragraphs:
        if paragraph.kind not in ("body", "heading"):
            continue
        if paragraph.kind == "heading" and paragraph.numbering is None and paragraph.level == 1:
            last.clear()
            continue
        numbering_ = paragraph.numbering
        if numbering_ is None:
            continue
        if _table_row(paragraph) or _continues_sentence(model, paragraph):
            last.pop(numbering_.style, None)  # no sequence runs across a table or a wrapped line
            continue
        style = numbering_.style
        level = LEVELS[style]
        for other in list(last):
            if LEVELS[other] > level:
                del last[other]
        if style == PART:
            last.clear()
        previous = last.get(style)
        last[style] = (numbering_.value, paragraph.index)
        if previous is None or numbering_.value == 1:
            continue
        out.run += 1
        value, at = previous
        if numbering_.value == value + 1:
            continue
        before = model.paragraphs[at]
        kind = "跳号" if numbering_.value > value + 1 else "重号或倒序"
        out.add(
            Finding(
                "text-numbering",
                CERTAIN,
                f"编号{kind}",
                f"“{before.text[:20]}”之后是“{paragraph.text[:20]}”：编号从 {value} 到 {numbering_.value}",
                (
                    Evidence(before.place, before.text[:40], numbering_text(style, value)),
                    Evidence(paragraph.place, paragraph.text[:40], numbering_.text),
                ),
                numbering_text(style, value + 1),
                numbering_.text,
            )
        )


def _table_row(paragraph) -> bool:
    """A row of a table read as a line: a second marker of the same style after a space or a
    figure ("七、附属单位上缴收入 12.00  九、卫生健康支出 30.00"), or, with no punctuation of a
    sentence, a figure printed without its unit ("三、国防支出 2,388.04")."""
    marker = paragraph.numbering
    rest = paragraph.text[len(marker.text) :]
    for match in re.finditer(r"[\s\d](\S{1,6})", rest):
        if re.search(r"[，。；]", rest[: match.start()]):
            break
        other = numbering_of(rest[match.start(1) :])
        if other is not None and other.style == marker.style:
            return True
    bare_figure = re.search(r"\d\.\d+(?!\s*(?:万元|亿元|元|%|％|个百分点))", rest)
    return bool(bare_figure) and not re.search(r"[，。；：]", rest)


def _continues_sentence(model: Model, paragraph) -> bool:
    """A number that starts a line inside a sentence ("…支出决算为\n2、…" is a wrapped figure,
    not item 2): the paragraph before is body text left without an end of sentence."""
    if paragraph.index == 0 or paragraph.numbering.style not in (ARABIC, CHINESE):
        return False
    before = model.paragraphs[paragraph.index - 1]
    return (
        before.kind == "body"
        and before.numbering is None
        and bool(before.text)
        and before.text.rstrip()[-1] not in "。；;：:！？!?）)”"
        and bool(re.search(r"[\d为是至和、及]$", before.text.rstrip()))
    )


def numbering_text(style: str, value: int) -> str:
    digits = "一二三四五六七八九十"
    chinese = digits[value - 1] if 1 <= value <= 10 else str(value)
    return {
        PART: f"第{chinese}部分",
        CHINESE: f"{chinese}、",
        PAREN_CHINESE: f"（{chinese}）",
        ARABIC: f"{value}.",
        PAREN_ARABIC: f"（{value}）",
    }[style]


def toc_order(model: Model, facts: Facts, out: Outcome) -> None:
    entries = model.toc
    if len(entries) < 2:
        return
    out.run += 1
    for before, after in pairwise(entries):
        if after.page < before.page:
            out.add(
                Finding(
                    "text-toc-order",
                    CERTAIN,
                    "目录页码倒序",
                    f"目录中“{before.title}”在第 {before.page} 页，其后的“{after.title}”却在第 {after.page} 页",
                    (
                        Evidence(before.place, f"{before.title}……{before.page}", str(before.page)),
                        Evidence(after.place, f"{after.title}……{after.page}", str(after.page)),
                    ),
                    f"不小于 {before.page}",
                    str(after.page),
                )
            )
            return


# ---- 9. stray symbols and template residue ---------------------------------------------------

_STRAY = (
    (re.compile(r"\d\s*(?:万元|亿元|元)\s*[%％]"), "金额后多出百分号"),
    (re.compile(r"[%％]\s*[%％]"), "百分号重复"),
    (re.compile(r"(?:占|为|达|计|增加|减少|增长|下降)\s*(?:万元|亿元|[%％])(?![\w/])"), "缺少数字"),
    (re.compile(r"(?:万元|亿元)\s*(?:万元|亿元)"), "单位重复"),
)
_RESIDUE = (
    (
        re.compile(
            r"(增加|减少|增长|下降|大于|小于|上升|降低)\s*[（(]\s*(增加|减少|增长|下降|大于|小于|上升|降低)\s*[)）]"
        ),
        CERTAIN,
    ),
    (re.compile(r"(?<![A-Za-z])[XＸ×]{2,}(?![A-Za-z])"), CERTAIN),
    (
        re.compile(
            r"[（(]\s*(?:如持平|如无|如有|若未|若无|不涉及|可用表格|非涉密|此处|请填|填写|制度名称|部门名称|单位名称|项目名称)[^（）()]{0,160}[)）]"
        ),
        CERTAIN,
    ),
    # the template's note under an empty table, left in: "…的，仍保留该表格式，并在本表下方作下述说明："
    (re.compile(r"[^，。；]{0,40}仍保留该表格式[^。：:]{0,30}(?:下述说明[：:]?)?"), CERTAIN),
    # a reason left blank: "…与2025年预算数持平，主要原因是。"
    (re.compile(r"主要原因(?:是|为|[：:])\s*(?=[。；;])"), CERTAIN),
    (
        re.compile(
            r"^(?:说明项目绩效自评采用的组织实施步骤及方法|结合自评情况，?分析存在的问题及原因|按上述格式依次说明到各项级科目)[^。]*。?$"
        ),
        CERTAIN,
    ),
    (
        re.compile(
            r"^(?:简要)?(?:说明|列明|简述|概述|阐述)[^，。\d]{4,30}(?:情况|方法|原因|依据|内容|步骤)。?$"
        ),
        SUSPECTED,
    ),
)


def stray_symbols(model: Model, facts: Facts, out: Outcome) -> None:
    for paragraph in model.paragraphs:
        if paragraph.kind not in ("body", "heading"):
            continue
        out.run += 1
        for pattern, what in _STRAY:
            for match in pattern.finditer(paragraph.text):
                out.add(
                    Finding(
                        "text-stray-symbol",
                        CERTAIN,
                        f"符号有误：{what}",
                        f"“{match.group(0)}”：{what}",
                        (text_evidence(model, paragraph.index, match.start(), match.end()),),
                        None,
                        match.group(0),
                    )
                )


def template_residue(model: Model, facts: Facts, out: Outcome) -> None:
    for paragraph in model.paragraphs:
        if paragraph.kind not in ("body", "heading"):
            continue
        out.run += 1
        text = paragraph.text
        taken: list[tuple[int, int]] = []
        hits: list[tuple[str, re.Match]] = []
        for pattern, severity in _RESIDUE:
            if pattern.pattern.startswith("^") and (
                paragraph.numbering or paragraph.kind != "body"
            ):
                continue
            for match in pattern.finditer(text):
                if any(match.start() < b and a < match.end() for a, b in taken):
                    continue
                taken.append((match.start(), match.end()))
                hits.append((severity, match))
        if not hits:
            continue
        severity = CERTAIN if any(s == CERTAIN for s, _ in hits) else SUSPECTED
        shown = "”“".join(dict.fromkeys(m.group(0)[:60] for _, m in hits))
        out.add(
            Finding(
                "text-template-residue",
                severity,
                "模板说明文字或占位符未删除",
                f"“{shown}”是模板中的填写说明或占位符，公开文本中应删除或替换为实际内容",
                tuple(
                    text_evidence(model, paragraph.index, m.start(), m.end()) for _, m in hits[:6]
                ),
                None,
                shown[:120],
            )
        )


# ---- 10. stated claims against their counts ---------------------------------------------------

_RATE_CLAIM = re.compile(
    r"(失败退回率|发放失败率|失败率|退回率|差错率)\s*(小于|低于|不超过|不高于|<|＜|≤)\s*(\d+(?:\.\d+)?)\s*[%％]"
)
_RETURNS = re.compile(r"(?:失败退回|退回|发放失败)\s*(\d+)\s*(?:人次|次|笔)")
_BASE = re.compile(r"(?:发放|代发|为|保证了|完成)\s*(\d+)\s*名")


def rate_claims(model: Model, facts: Facts, out: Outcome) -> None:
    for paragraph in model.paragraphs:
        if paragraph.kind != "body":
            continue
        for claim in _RATE_CLAIM.finditer(paragraph.text):
            returns = _RETURNS.search(paragraph.text)
            if not returns:
                continue
            count = Decimal(returns.group(1))
            if count == 0:
                continue
            base_match = _BASE.search(paragraph.text)
            base_paragraph = paragraph
            if not base_match and paragraph.scope:
                for other in model.paragraphs:
                    if other.scope == paragraph.scope and _BASE.search(other.text):
                        base_match, base_paragraph = _BASE.search(other.text), other
                        break
            if not base_match:
                out.skip(
                    "比率声明",
                    f"“{claim.group(0)}”：找不到发放人数，无法核对",
                    str(paragraph.place),
                )
                continue
            people = Decimal(base_match.group(1))
            scope_text = (
                "".join(p.text for p in model.paragraphs if p.scope == paragraph.scope)
                if paragraph.scope
                else paragraph.text
            )
            monthly = "按月" in paragraph.text or "按月" in scope_text
            payments = people * (12 if monthly else 1)
            bound = Decimal(claim.group(3))
            rate = count / payments * HUNDRED
            out.run += 1
            if rate >= bound:
                basis = f"{people} 人 × 12 个月 = {payments} 笔" if monthly else f"{people} 人"
                out.add(
                    Finding(
                        "text-rate-claim",
                        CERTAIN,
                        "比率声明与文中计数不符",
                        f"文中称“{claim.group(0)}”，但失败退回 {count} 人次，按 {basis}计，"
                        f"比率至少为 {show(rate, 3)}%",
                        (
                            text_evidence(model, paragraph.index, claim.start(), claim.end()),
                            text_evidence(model, paragraph.index, returns.start(), returns.end()),
                            text_evidence(
                                model, base_paragraph.index, base_match.start(), base_match.end()
                            ),
                        ),
                        f"{claim.group(2)} {bound}%",
                        f"{show(rate, 3)}%",
                    )
                )


# ---- 11. a project's report naming another project's beneficiaries -----------------------------

_GENERIC = set("生活补贴补助困难人员企业市级省级县级离休退休项目资金发放专项经费工作")


def _tokens(projects: list[str]) -> dict[str, set[str]]:
    grams = {
        p: {p[i : i + 2] for i in range(len(p) - 1) if not set(p[i : i + 2]) <= _GENERIC}
        for p in projects
    }
    return {
        p: {g for g in grams[p] if not any(g in grams[q] for q in projects if q != p)}
        for p in projects
    }


def beneficiaries(model: Model, facts: Facts, out: Outcome) -> None:
    projects = [p for p in model.projects if re.search(r"(补贴|补助|救助|慰问金)$", p)]
    if len(projects) < 2:
        return
    tokens = _tokens(projects)
    for paragraph in model.paragraphs:
        own = paragraph.scope
        if own not in tokens or paragraph.kind != "body":
            continue
        offset = 0
        for clause in re.split(r"(?<=[，。；])", paragraph.text):
            start, offset = offset, offset + len(clause)
            if any(t in clause for t in tokens[own]):
                continue
            others = [q for q in projects if q != own and any(t in clause for t in tokens[q])]
            if len(others) != 1:
                continue
            out.run += 1
            out.add(
                Finding(
                    "text-beneficiary",
                    SUSPECTED,
                    "项目报告写了另一个项目的对象",
                    f"“{own}”的内容中写的是“{others[0]}”的对象或用途：“{clause.strip('，。；')}”",
                    (text_evidence(model, paragraph.index, start, start + len(clause)),),
                    own,
                    others[0],
                )
            )


# ---- 12. stated counts against the listed items; repeated items ------------------------------

_COUNTED_LIST = re.compile(r"(\d+)\s*个([^：:，。；\d]{1,8})[：:]([^。]+)。")
_INCLUDES = re.compile(r"(?:主要包括|包括|主要有)[：:]([^。；]+)")


def list_counts(model: Model, facts: Facts, out: Outcome) -> None:
    for paragraph in model.paragraphs:
        if paragraph.kind != "body":
            continue
        for match in _COUNTED_LIST.finditer(paragraph.text):
            body = match.group(3)
            if body.rstrip().endswith("等") or "等" in body[-3:]:
                continue
            items = [i for i in re.split(r"[、，,]", body) if i.strip()]
            if len(items) < 2:
                continue
            out.run += 1
            stated = int(match.group(1))
            if stated != len(items):
                out.add(
                    Finding(
                        "text-list-count",
                        CERTAIN,
                        "所称个数与列举不符",
                        f"文中称“{match.group(1)}个{match.group(2)}”，实际列出 {len(items)} 个",
                        (text_evidence(model, paragraph.index, match.start(), match.end()),),
                        str(len(items)),
                        match.group(1),
                    )
                )
        for match in _INCLUDES.finditer(paragraph.text):
            items = [
                re.sub(r"(?:支出)?等$", "", i.strip()) for i in re.split(r"[、，,]", match.group(1))
            ]
            items = [i for i in items if i]
            if len(items) < 3:
                continue
            out.run += 1
            repeated = sorted({i for i in items if items.count(i) > 1}, key=items.index)
            if repeated:
                out.add(
                    Finding(
                        "text-list-duplicate",
                        CERTAIN,
                        "列举重复",
                        f"列举中重复出现：{'、'.join(repeated)}",
                        (text_evidence(model, paragraph.index, match.start(), match.end()),),
                        None,
                        "、".join(repeated),
                    )
                )


# ---- 13. performance tables: 人均 rows against the table's own amounts and counts --------------


def performance_per_capita(model: Model, facts: Facts, out: Outcome) -> None:
    by_table: dict[int, list] = defaultdict(list)
    for row in facts.performance:
        by_table[row.table].append(row)
    for rows in by_table.values():
        counts = [r for r in rows if "人数" in r.name]
        money = [r for r in rows if re.search(r"金额|成本", r.name) and "人均" not in r.name]
        for row in rows:
            if "人均" not in row.name or not counts:
                continue
            for column, label in (("target", "预期"), ("actual", "实际")):
                value = cell_number(getattr(row, column))
                people = cell_number(getattr(counts[0], column))
                if value is None or people is None or people[0] == 0:
                    continue
                candidates = []
                for m in money:
                    amount = cell_number(getattr(m, column))
                    if amount is None:
                        continue
                    candidates.append((m, amount))
                if not candidates:
                    continue
                out.run += 1
                explained = False
                for _m, amount in candidates:
                    half = Decimal(5) * Decimal(10) ** (-amount[1] - 1)
                    low, high = (amount[0] - half) / people[0], (amount[0] + half) / people[0]
                    printed = Number(value[0], str(value[0]), "", value[1], 0, 0, 0, row.place)
                    if shows_as(low, high, printed):
                        explained = True
                        break
                if explained:
                    continue
                main = next(
                    ((m, a) for m, a in candidates if re.search(r"补贴|发放", m.name)),
                    candidates[0],
                )
                expected = main[1][0] / people[0]
                out.add(
                    Finding(
                        "perf-per-capita",
                        CERTAIN,
                        "绩效指标“人均”与本表人数、金额不符",
                        f"{row.project}：{row.name}{label}值 {getattr(row, column)}，而本表 {main[0].name} "
                        f"{getattr(main[0], column)} ÷ {counts[0].name} {getattr(counts[0], column)} = {show(expected)}",
                        (
                            Evidence(
                                row.place,
                                f"{row.name}：{row.target} | {row.actual}",
                                getattr(row, column),
                            ),
                            Evidence(
                                main[0].place,
                                f"{main[0].name}：{main[0].target} | {main[0].actual}",
                                getattr(main[0], column),
                            ),
                            Evidence(
                                counts[0].place,
                                f"{counts[0].name}：{counts[0].target} | {counts[0].actual}",
                                getattr(counts[0], column),
                            ),
                        ),
                        show(expected),
                        getattr(row, column),
                    )
                )


# ---- 14. 政府采购: what SMEs won is part of what was bought ---------------------------------------


def procurement(model: Model, facts: Facts, out: Outcome) -> None:
    for stated in facts.procurement:
        total, reserved, other = (
            _wan(n) for n in (stated.total, stated.reserved_won, stated.other_won)
        )
        out.run += 1
        low, _ = sum_bounds([reserved, other])
        if low <= total.value + total.half_step:
            continue
        point = reserved.value + other.value
        out.add(
            Finding(
                "text-procurement",
                CERTAIN,
                "中小企业中标金额超过政府采购总额",
                f"预留项目中由中小企业中标 {stated.reserved_won.shown()}，其他项目中由中小企业中标"
                f" {stated.other_won.shown()}，合计 {show(point)}万元，超过政府采购总额"
                f" {stated.total.shown()}",
                _ev(model, stated.other_won, stated.reserved_won, stated.total),
                f"不超过 {stated.total.shown()}",
                f"{show(point)}万元",
                f"{show(point - total.value)}万元",
            )
        )


# ---- 15. the 决算 tables the table rules do not cover (明细表, 项目支出表): sums by code --------

_GRID_TABLES = {"fiscal_detail", "general_detail", "general_project", "state_capital_spending"}
_ROW_TOTAL = {"fiscal_detail", "general_detail"}  # 合计 = the economic classes beside it


def budget_tables(model: Model, facts: Facts, out: Outcome) -> None:
    budget_checks(model, out)


def grid_arithmetic(model: Model, facts: Facts, out: Outcome) -> None:
    from juesuan.audit.tables import cell_value, split_code

    for table in model.tables:
        if table.id not in _GRID_TABLES:
            continue  # budget tables vary too much in layout to sum by position
        rows = [(offset, *split_code(row), row) for offset, row in enumerate(table.grid_rows)]
        rows = [r for r in rows if r[1] is not None]
        if sum(1 for r in rows if r[1]) < 2:
            continue
        start = max(r[3] for r in rows if r[1])
        values: dict[str, tuple[int, list]] = {}
        for offset, code, _name, _after, row in rows:
            cells = [c or "" for c in row[start:]]
            values[code or "合计"] = (offset, [(cell_value(c), _decimals(c)) for c in cells])
        width = max(len(v[1]) for v in values.values())
        for code in values:
            if code != "合计" and len(code) not in (3, 5):
                continue
            kids = [
                k
                for k in values
                if k != "合计"
                and (
                    (code == "合计" and len(k) == 3)
                    or (code != "合计" and len(k) == len(code) + 2 and k.startswith(code))
                )
            ]
            for column in range(width if kids else 0):
                parts = [values[k][1][column] for k in kids if column < len(values[k][1])]
                rows_used = [values[code][0]] + [values[k][0] for k in kids]
                _sum_check(table, out, values[code][1], column, parts, rows_used, "下级科目之和")
        if table.id in _ROW_TOTAL:
            for offset, cells in values.values():
                if len(cells) >= 3:
                    _sum_check(table, out, cells, 0, cells[1:], [offset], "各栏之和")


def _sum_check(table, out: Outcome, cells: list, column: int, parts: list, rows: list, what: str):
    if column >= len(cells) or cells[column][0] is None:
        return
    total, places = cells[column]
    parts = [p for p in parts if p[0] is not None]
    half = sum((Decimal(5) * Decimal(10) ** (-d - 1) for _, d in parts), Decimal(0))
    half += Decimal(5) * Decimal(10) ** (-places - 1)
    point = sum((v for v, _ in parts), Decimal(0))
    out.run += 1
    if abs(point - total) <= half:
        return
    title = table.title or table.id
    out.add(
        Finding(
            "table-arithmetic",
            CERTAIN,
            f"表内数与{what}不符",
            f"{title}：{table.row_text(rows[0])[:40]} 第{column + 1}个数 {show(total)}，"
            f"{what}为 {show(point)}，相差 {show(total - point)}",
            tuple(
                Evidence(table.places[r], f"{title}：{table.row_text(r)}", "") for r in rows[:12]
            ),
            show(point),
            show(total),
            show(total - point),
        )
    )


def _decimals(text: str) -> int:
    text = (text or "").strip()
    return len(text.split(".")[1]) if "." in text else 0

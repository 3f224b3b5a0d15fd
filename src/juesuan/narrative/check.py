"""Text against tables: every number in the generated text is found, matched to the fact it names,
and compared — with the fact's value and, for figures taken from a table, with that table's cell.

A number in generated text that names no fact is a failure: it was typed, not computed. Numbers
that belong to the format's fixed wording (a list number, 12 月 31 日, the 50/100 万元 asset
thresholds, with or without the spaces around them, the number of an 附件) are the only exceptions.
"""

from __future__ import annotations

import re
from decimal import Decimal

from juesuan.document.model import Document, Paragraph, Quote, Ref
from juesuan.narrative.facts import MONEY, Facts, format_number
from juesuan.rules.engine import FAIL, PASS, Outcome
from juesuan.rules.expr import Value
from juesuan.statements.model import Statements
from juesuan.statements.options import format_options

NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
FIXED_WORDING = (
    re.compile(r"^\d+(\. |、)"),  # a numbered list item: "1. " or "1、"
    re.compile(r"12 ?月 ?31 ?日"),
    re.compile(r"单价 ?(50|100) ?万元(（含）)?以上"),
    re.compile(r"附件\d+"),  # the number of an attachment: 见附件（附件1）
)
RULE = "text-vs-table"
TITLE = "正文数字与报表一致"


def check_text(document: Document, facts: Facts, statements: Statements) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for index, block in enumerate(document.blocks):
        if isinstance(block, Paragraph) and block.generated:
            outcomes.extend(_paragraph(block, index, facts, statements))
    return outcomes


def _paragraph(
    paragraph: Paragraph, index: int, facts: Facts, statements: Statements
) -> list[Outcome]:
    text = paragraph.text
    refs: dict[int, Ref] = {}
    quoted: set[int] = set()
    offset = 0
    for segment in paragraph.segments:
        if isinstance(segment, Ref):
            refs[offset] = segment
        elif isinstance(segment, Quote):
            quoted.update(range(offset, offset + len(segment.text)))
        offset += len(segment.text)
    allowed = quoted | {
        m.start() + n
        for pattern in FIXED_WORDING
        for m in pattern.finditer(text)
        for n in range(len(m.group()))
    }
    outcomes = []
    for match in NUMBER.finditer(text):
        start, token = match.start(), match.group()
        if start in allowed:
            continue
        snippet = text[max(0, start - 20) : match.end() + 10]
        ref = refs.get(start)
        if ref is None or ref.text != token:
            outcomes.append(
                _outcome(
                    FAIL,
                    f"第 {index} 段的数字“{token}”没有对应的事实（手工录入？）：“…{snippet}…”",
                    token,
                    None,
                )
            )
            continue
        fact = facts.get(ref.fact)
        if fact is None:
            outcomes.append(
                _outcome(
                    FAIL, f"数字“{token}”引用了不存在的事实“{ref.fact}”：“…{snippet}…”", token, None
                )
            )
            continue
        printed = Decimal(token.replace(",", ""))
        expected = _expected(fact, statements)
        if printed != expected:
            outcomes.append(
                _outcome(
                    FAIL,
                    f"“{fact.key}”印为 {token}，应为 {expected}（{fact.source}）：“…{snippet}…”",
                    token,
                    expected,
                    fact.unit,
                )
            )
        else:
            outcomes.append(
                _outcome(PASS, f"{fact.key} = {token}（{fact.source}）", token, expected, fact.unit)
            )
    return outcomes


def _expected(fact, statements: Statements) -> Decimal:
    """The value the number must have: the table cell when the fact comes from one."""
    if fact.cell is not None and fact.unit == MONEY:
        table, row, column = fact.cell
        found = statements.table(table)
        located = found.find(row, column) if found else None
        if located is not None:
            cell = located[1].cells[located[2]]
            return cell.shown if cell.shown is not None else Decimal(0)
        return Decimal(0)
    return Decimal(
        format_number(fact.value, fact.unit, format_options(statements.format).percent_places)
    )


def _outcome(
    status: str, message: str, token: str, expected: Decimal | None, unit: str = ""
) -> Outcome:
    printed = Decimal(token.replace(",", ""))
    return Outcome(
        rule=RULE,
        tier="FATAL",
        title=TITLE,
        status=status,
        message=message,
        hint="正文中的数字必须引用数据中的事实，由系统生成，不能手工填写。"
        if status == FAIL
        else "",
        actual=Value(printed, unit),
        expected=Value(expected, unit) if expected is not None else None,
    )

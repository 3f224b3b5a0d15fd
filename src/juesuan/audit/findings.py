"""Findings of an audit and the report that carries them: Chinese message, severity 确定 (proven)
or 疑似 (a reading could explain it), expected, actual, difference, evidence (page and snippet
for every number used) and the rule id; plus what could not be checked and why.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from itertools import product

from juesuan.audit.facts import Evidence
from juesuan.audit.model import Number

CERTAIN, SUSPECTED = "确定", "疑似"
EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # 确定 | 疑似
    title: str
    message: str
    evidence: tuple[Evidence, ...] = ()
    expected: str | None = None
    actual: str | None = None
    difference: str | None = None

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "expected": self.expected,
            "actual": self.actual,
            "difference": self.difference,
            "evidence": [e.as_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class Unresolved:
    check: str
    reason: str
    where: str = ""

    def as_dict(self) -> dict:
        return {"check": self.check, "reason": self.reason, "where": self.where or None}


@dataclass
class Report:
    document: dict
    findings: list[Finding] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    readable: bool = True

    @property
    def certain(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == CERTAIN]

    @property
    def exit_code(self) -> int:
        if not self.readable:
            return EXIT_UNREADABLE
        return EXIT_FINDINGS if self.certain else EXIT_OK

    def as_dict(self) -> dict:
        return {
            "document": self.document,
            "findings": [f.as_dict() for f in self.findings],
            "unresolved": [u.as_dict() for u in self.unresolved],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)


# ---- rounding-aware arithmetic -----------------------------------------------------------------


def bounds(number: Number) -> tuple[Decimal, Decimal]:
    """Every value that prints as this figure (rounded half-up to its printed places)."""
    return number.value - number.half_step, number.value + number.half_step


def sum_bounds(numbers: list[Number]) -> tuple[Decimal, Decimal]:
    """Every value the sum of printed figures may stand for (at once, not corner by corner)."""
    low = sum((n.value - n.half_step for n in numbers), Decimal(0))
    high = sum((n.value + n.half_step for n in numbers), Decimal(0))
    return low, high


def interval(function, *numbers: Number | Decimal) -> tuple[Decimal, Decimal] | None:
    """The range of function(*values) over every value each printed figure may stand for.

    The functions used (ratios, differences) are monotone in each argument, so the corners of
    the box give the range: 2^n of them, so only for a few arguments (sums: sum_bounds).
    Exact Decimals (counts) have no spread.
    """
    ranges = [bounds(n) if isinstance(n, Number) else (n, n) for n in numbers]
    values = []
    for corner in product(*ranges):
        try:
            values.append(function(*corner))
        except (ZeroDivisionError, ArithmeticError):
            return None
    return min(values), max(values)


def shows_as(low: Decimal, high: Decimal, printed: Number) -> bool:
    """Could a value in [low, high], rounded to the printed places, print as `printed`?"""
    lo, hi = bounds(printed)
    return low <= hi and high >= lo


def rounded(value: Decimal, places: int) -> Decimal:
    with localcontext() as context:  # room for every digit: a long figure must not fail here
        context.prec = max(context.prec, value.adjusted() + places + 2)
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def show(value: Decimal, places: int = 2) -> str:
    return f"{rounded(value, places):f}"


def show_wan(value: Decimal) -> str:
    return f"{rounded(value, 2):,f} 万元"


# ---- HTML -----------------------------------------------------------------------------------------

_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;margin:2em;
color:#222;max-width:72em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5em 0}
td,th{border:1px solid #bbb;padding:.3em .5em;vertical-align:top;font-size:.92em}
th{background:#f2f2f2;text-align:left}
.s-确定{color:#fff;background:#b3261e;padding:0 .4em;border-radius:3px}
.s-疑似{color:#222;background:#f3c74b;padding:0 .4em;border-radius:3px}
.ev{color:#555;font-size:.88em}.muted{color:#777}
"""


def to_html(reports: list[Report], title: str = "决算公开文本审核报告") -> str:
    """A self-contained page (no external assets) for one or many documents."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='zh-Hans'><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if len(reports) > 1:
        parts.append("<table><tr><th>文件</th><th>确定</th><th>疑似</th><th>未能核对</th></tr>")
        for report in reports:
            parts.append(
                f"<tr><td>{e(str(report.document.get('path', '')))}</td>"
                f"<td>{len(report.certain)}</td>"
                f"<td>{len(report.findings) - len(report.certain)}</td>"
                f"<td>{len(report.unresolved)}</td></tr>"
            )
        parts.append("</table>")
    for report in reports:
        document = report.document
        parts.append(f"<h2>{e(str(document.get('path', '')))}</h2>")
        meta = [
            f"类型：{document.get('kind', '')}",
            f"页数：{document.get('pages')}" if document.get("pages") else "",
            f"段落：{document.get('paragraphs', 0)}",
            f"识别的表：{len(document.get('tables', []))}",
        ]
        parts.append(f"<p class='muted'>{e('　'.join(m for m in meta if m))}</p>")
        if document.get("error"):
            parts.append(f"<p><b>无法读取：</b>{e(document['error'])}</p>")
        certain = len(report.certain)
        parts.append(
            f"<p>发现问题 {len(report.findings)} 处（确定 {certain}，"
            f"疑似 {len(report.findings) - certain}）；未能核对 {len(report.unresolved)} 项。</p>"
        )
        if report.findings:
            parts.append(
                "<table><tr><th>#</th><th>程度</th><th>问题</th><th>应为</th><th>实为</th>"
                "<th>相差</th><th>依据</th><th>规则</th></tr>"
            )
            for i, finding in enumerate(report.findings, 1):
                evidence = "<br>".join(
                    f"<span class='ev'>{e(str(ev.place))}：{e(ev.snippet)}</span>"
                    for ev in finding.evidence
                )
                parts.append(
                    f"<tr><td>{i}</td><td><span class='s-{e(finding.severity)}'>"
                    f"{e(finding.severity)}</span></td>"
                    f"<td><b>{e(finding.title)}</b><br>{e(finding.message)}</td>"
                    f"<td>{e(finding.expected or '')}</td><td>{e(finding.actual or '')}</td>"
                    f"<td>{e(finding.difference or '')}</td><td>{evidence}</td>"
                    f"<td class='muted'>{e(finding.rule)}</td></tr>"
                )
            parts.append("</table>")
        if report.unresolved:
            parts.append("<h3>未能核对（不算通过）</h3><ul>")
            for item in report.unresolved:
                where = f"（{e(item.where)}）" if item.where else ""
                parts.append(f"<li>{e(item.check)}：{e(item.reason)}{where}</li>")
            parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)

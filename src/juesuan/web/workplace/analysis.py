"""Reading a stored version through the core: statements, outcomes, the narrative, drill-down.

Every figure on a page comes from `juesuan.publish.package.prepare` over the stored workbook —
the same call `juesuan check` makes. When the unit paid benefits through the disbursement app
(代发) in the version's year, the performance actuals of those schemes' projects are taken from
the payments (`juesuan.disbursement.statistics.performance_measures`), not from the typed
绩效数据. Prepared results are cached per (file, SHA-256, payments stamp) in the process, so moving
between the tables, checks and texts pages does not recompute, and a newly imported bank result
file is seen at once.
"""

from __future__ import annotations

import ast
import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from juesuan.codes import economic_codes, function_codes
from juesuan.disbursement.statistics import NO_BANK_DATE, Figures, performance_measures
from juesuan.document.model import Heading, Paragraph, Quote, Ref
from juesuan.ledger.issues import ERROR, Issue, Source
from juesuan.ledger.load import load
from juesuan.ledger.model import Dataset
from juesuan.performance import ExternalMeasures
from juesuan.performance.checks import TITLES
from juesuan.performance.measures import Unavailable, show_measure, unit_of
from juesuan.publish.package import Prepared, prepare, sha256
from juesuan.publish.table_layout import _lines, layout
from juesuan.rules.engine import FAIL, INSUFFICIENT, NOT_APPLICABLE, PASS, TIERS, RuleFileError
from juesuan.statements.build import FormatError, ledger_where
from juesuan.statements.model import Table

# Texts the disclosure uses (document/assemble.py and narrative/*.py read these keys); the
# evaluation reports (…绩效评价报告) are any further key.
STANDARD_TEXTS = (
    ("主要职能", "第一部分 部门概况：主要职能"),
    ("重点工作完成情况", "第一部分 部门概况：本年重点工作完成情况"),
    ("机构设置", "第一部分 部门概况：机构设置"),
    ("情况说明导语", "第二部分 情况说明开头的一段话（可不填）"),
    ("预算绩效管理情况", "第二部分 情况说明：预算绩效管理情况"),
    ("部门整体支出绩效评价报告", "第四部分 附件：部门整体支出绩效评价报告"),
)
REQUIRED_TEXTS = ("主要职能", "重点工作完成情况", "机构设置")
REASON_RULES = {"narrative-yoy-reason": "同比变动", "narrative-budget-reason": "预决算差异"}


class VersionUnreadable(Exception):
    """The stored file is missing, changed since it was stored, or no longer loads."""


# ---- the cache ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentActuals:
    """The unit's payments of one year as performance actuals: the yearly figures of the schemes
    that made payments (`Figures`), the project each scheme pays for, and the measures the
    evaluation takes from them."""

    year: int
    figures: tuple[Figures, ...]
    projects: dict[str, str]  # scheme code -> project name (the dataset's 项目名称)
    names: dict[str, str]  # scheme code -> scheme name
    measures: ExternalMeasures

    @property
    def payments(self) -> int:
        return sum(f.payments for f in self.figures)


@dataclass(frozen=True)
class Analysed:
    """A version read through the core: its dataset, the prepared package, and the payments its
    performance actuals were taken from (None when the unit made none in the version's year)."""

    dataset: Dataset
    prepared: Prepared
    actuals: PaymentActuals | None


_CACHE: OrderedDict[tuple[str, str, str], Analysed] = OrderedDict()
_CACHE_SIZE = 6
_LOCK = threading.Lock()
_LOADING: dict[tuple[str, str, str], threading.Lock] = {}  # one loader per key; the others wait


def prepared_for(version) -> tuple[Dataset, Prepared]:
    """The version's dataset and prepared package (statements, outcomes, facts)."""
    found = analysed(version)
    return found.dataset, found.prepared


def analysed(version, stamp: str | None = None) -> Analysed:
    """The version read and prepared with the unit's payments as they are now (`stamp`, when the
    caller already has it, is `payments_stamp` of the version's unit and year)."""
    if stamp is None:
        stamp = payments_stamp(version.unit_id, version.year)
    key = (str(version.path), version.sha256, stamp)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        loading = _LOADING.setdefault(key, threading.Lock())
    # Many pages asking at once for a version not yet read load it once, not once each.
    with loading:
        with _LOCK:
            if key in _CACHE:
                _CACHE.move_to_end(key)
                return _CACHE[key]
        try:
            found = _prepare(version, with_payments=bool(stamp))
        except BaseException:
            with _LOCK:
                _LOADING.pop(key, None)
            raise
        with _LOCK:
            _CACHE[key] = found
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
            _LOADING.pop(key, None)
    return found


def _prepare(version, *, with_payments: bool) -> Analysed:
    path = Path(version.path)
    if not path.is_file():
        raise VersionUnreadable(f"第 {version.number} 版的数据文件不见了：{version.file}")
    if sha256(path) != version.sha256:
        raise VersionUnreadable(f"第 {version.number} 版的数据文件在保存后被改动过（SHA-256 不符）")
    dataset, issues = load(path)
    if dataset is None:
        raise VersionUnreadable("；".join(str(i) for i in issues if i.severity == ERROR))
    actuals = payment_actuals(version.unit, version.year) if with_payments else None
    try:
        prepared = prepare(dataset, measures=actuals.measures if actuals else None)
    except (RuleFileError, FormatError) as exc:
        raise VersionUnreadable(f"公开格式或规则文件有误：{exc}") from exc
    return Analysed(dataset, prepared, actuals)


# ---- the unit's payments (代发) as performance actuals -------------------------------------------


def payments_stamp(unit_id: int, year: int) -> str:
    """A short text that changes whenever the unit's payments of `year` may have changed: a run
    prepared, approved or sent back, a bank result file imported, a scheme's project or payment
    day changed. "" when the unit has no run at all (nothing to take actuals from).

    Runs of every month count, not only `year`'s: a re-issue of a December payment is paid by a
    run of the next year and still counts in December."""
    from django.db.models import Count, Max

    from juesuan.web.disbursement.models import ResultImport, Run, Scheme

    runs = Run.objects.filter(unit_id=unit_id).aggregate(
        count=Count("pk"), last=Max("pk"), approved=Max("approved_at"), ended=Max("ended_at")
    )
    if not runs["count"]:
        return ""
    imports = ResultImport.objects.filter(unit_id=unit_id).aggregate(
        count=Count("pk"), last=Max("pk")
    )
    schemes = Scheme.objects.filter(unit_id=unit_id).order_by("code")
    digest = hashlib.sha256(repr((year, runs, imports)).encode())
    for row in schemes.values_list("code", "name", "project", "payment_day"):
        digest.update(repr(row).encode())
    return digest.hexdigest()[:16]


def payment_actuals(unit, year: int) -> PaymentActuals | None:
    """The unit's yearly figures per scheme, for the schemes that made payments in `year`, and
    the measures they give (`performance_measures`); None when no payment was made that year."""
    from juesuan.web.disbursement.services import unit_schemes, yearly_figures

    schemes = unit_schemes(unit)
    made = tuple(f for f in yearly_figures(unit, year) if f.payments)
    if not made:
        return None
    return PaymentActuals(
        year=year,
        figures=made,
        projects={f.scheme: schemes[f.scheme].project_name for f in made},
        names={f.scheme: schemes[f.scheme].name for f in made},
        measures=ExternalMeasures(performance_measures(made, schemes), f"代发系统{year}年"),
    )


TYPED_VS_PAYMENTS = "PERF-data-external"  # the check comparing typed 绩效数据 with the payments
# The measures shown per project, in this order (performance_measures gives them all).
SHOWN_MEASURES = ("发放人数", "发放笔数", "失败退回笔数", "发放金额", "按时发放笔数")


def actuals_summary(dataset: Dataset, actuals: PaymentActuals) -> dict:
    """What the checks page says about where the performance actuals came from: per scheme the
    measures taken from the payments, each with the typed 绩效数据 figure when that differs."""
    typed = {
        (m.project, m.key): Decimal(m.value)
        for m in dataset.performance_data
        if m.value is not None
    }
    rows = []
    for figures in actuals.figures:
        project = actuals.projects[figures.scheme]
        cells = []
        for name in SHOWN_MEASURES:
            given = actuals.measures.values[(project, name)]
            if isinstance(given, Unavailable):  # 按时发放笔数 without the bank's dates
                cells.append({"name": name, "shown": NO_BANK_DATE, "typed": ""})
                continue
            value = Decimal(given)
            unit = unit_of(name)
            stated = typed.get((project, name))
            cells.append(
                {
                    "name": name,
                    "shown": show_measure(value, unit),
                    "typed": show_measure(stated, unit)
                    if stated is not None and stated != value
                    else "",
                }
            )
        rate = figures.return_rate
        rows.append(
            {
                "project": project,
                "scheme": actuals.names[figures.scheme],
                "payments": f"{figures.payments:,}",
                "cells": cells,
                "return_rate": "" if rate is None else f"{rate:.2f}%",
                "in_dataset": project in dataset.projects,
            }
        )
    return {
        "year": actuals.year,
        "payments": f"{actuals.payments:,}",
        "rows": rows,
        "differences": sum(1 for r in rows for c in r["cells"] if c["typed"]),
        "check": TITLES[TYPED_VS_PAYMENTS],
    }


# ---- readiness ---------------------------------------------------------------------------------


def summarize_dataset(dataset: Dataset) -> tuple[dict, Issue | None]:
    """Readiness figures stored with a version; an Issue when the core cannot check it at all."""
    try:
        prepared = prepare(dataset)
    except (RuleFileError, FormatError) as exc:
        return {}, Issue(
            ERROR,
            Source(Path(dataset.origin).name, "单位信息", None, "公开格式"),
            f"公开格式不可用：{exc}",
            value=dataset.unit.format,
            accepted="sichuan-2020、national-9",
        )
    return summary_of(dataset, prepared), None


def summary_of(dataset: Dataset, prepared: Prepared) -> dict:
    summary = prepared.summary
    failed = summary["failed_by_tier"]
    return {
        "unit": dataset.unit.name,
        "year": dataset.unit.year,
        "format": prepared.statements.format,
        "lines": len(dataset.ledger),
        "checks": summary,
        "fatal": failed["FATAL"],
        "warning": failed["WARNING"],
        "suggest": failed["SUGGEST"],
        "insufficient": summary[INSUFFICIENT],
        "missing_reasons": missing_reasons(prepared),
        "texts": sorted(dataset.texts),
        "missing_texts": [k for k in REQUIRED_TEXTS if not dataset.texts.get(k)],
    }


def missing_reasons(prepared: Prepared) -> list[dict]:
    """The reasons the narrative needs and the dataset lacks: kind, topic, and the sentence."""
    found: dict[tuple[str, str], dict] = {}
    for outcome in prepared.outcomes:
        kind = REASON_RULES.get(outcome.rule)
        if kind is None or outcome.status != FAIL:
            continue
        topic = outcome.bindings.get("topic", "")
        found.setdefault((kind, topic), {"kind": kind, "topic": topic, "message": outcome.message})
    return list(found.values())


# ---- checks ------------------------------------------------------------------------------------

STATUS_ORDER = (FAIL, INSUFFICIENT, NOT_APPLICABLE, PASS)


def grouped_outcomes(prepared: Prepared) -> list[dict]:
    """Per tier: the failures, the ones that could not be judged, and the rest counted."""
    groups = []
    for tier in TIERS:
        outcomes = [o for o in prepared.outcomes if o.tier == tier]
        groups.append(
            {
                "tier": tier,
                "failed": [o for o in outcomes if o.status == FAIL],
                "insufficient": [o for o in outcomes if o.status == INSUFFICIENT],
                "passed": [o for o in outcomes if o.status == PASS],
                "not_applicable": [o for o in outcomes if o.status == NOT_APPLICABLE],
                "total": len(outcomes),
            }
        )
    return groups


# ---- tables and drill-down -----------------------------------------------------------------------


@dataclass(frozen=True)
class WebCell:
    text: str
    kind: str
    colspan: int = 1
    rowspan: int = 1
    bold: bool = False
    indent: int = 0
    align: str = "left"
    link: tuple[int, int, int] | None = None  # (section, row, column) for drill-down


def web_table(table: Table, unit_name: str, year: int) -> dict:
    """The table as the published layout draws it, each amount cell knowing its place."""
    grid = layout(table, unit_name=unit_name, year=year)
    lines = _lines(table.sections)
    row_numbers = [{id(r): n for n, r in enumerate(s.rows)} for s in table.sections]
    body = []
    for layout_row, (line, _indents) in zip(grid.body, lines, strict=True):
        cells = []
        for cell in layout_row.cells:
            link = None
            if cell.kind == "amount":
                column = grid.columns[cell.column]
                row = line[column.section]
                if row is not None:
                    source = row.cells[column.index]
                    if source.sources and source.exact not in (None, Decimal(0)):
                        link = (column.section, row_numbers[column.section][id(row)], column.index)
            cells.append(
                WebCell(
                    cell.text,
                    cell.kind,
                    cell.colspan,
                    cell.rowspan,
                    cell.bold,
                    cell.indent,
                    cell.align,
                    link,
                )
            )
        body.append({"cells": cells, "total": layout_row.total})
    header = [
        [WebCell(c.text, c.kind, c.colspan, c.rowspan, True, 0, "center") for c in row.cells]
        for row in grid.header
    ]
    return {"layout": grid, "header": header, "body": body}


FILTER_NAMES = {
    "direction": "收支",
    "phase": "阶段",
    "fund": "资金来源",
    "function": "功能分类",
    "function_code": "功能分类",
    "economic": "经济分类",
    "economic_code": "经济分类",
    "nature": "支出性质",
    "project": "项目",
    "unit": "单位",
}
LINE_LIMIT = 1000


def drill(dataset: Dataset, table: Table, section: int, row: int, column: int) -> dict:
    """A cell and the ledger lines (or the typed records) behind it, each with its source."""
    try:
        block = table.sections[section]
        line = block.rows[row]
        cell = line.cells[column]
        header = block.columns[column].header
    except IndexError as exc:
        raise LookupError("没有这个单元格") from exc
    selections = []
    year = dataset.unit.year
    for source in cell.sources:
        if isinstance(source, dict):
            where = ledger_where(source)
            selected = dataset.ledger.select(**where)
            lines = list(_limited(selected.lines(), LINE_LIMIT))
            selections.append(
                {
                    "kind": "ledger",
                    "filters": [
                        (FILTER_NAMES.get(k, k), _describe(v, CODE_KINDS.get(k), year))
                        for k, v in sorted(where.items())
                    ],
                    "lines": lines,
                    "count": len(selected),
                    "total": selected.total(),
                    "truncated": len(selected) > LINE_LIMIT,
                }
            )
        else:
            selections.append({"kind": "formula", "text": str(source), **_records(dataset, source)})
    ledger_total = sum((s["total"] for s in selections if s["kind"] == "ledger"), start=Decimal(0))
    shown = [line for s in selections if s["kind"] == "ledger" for line in s["lines"]]
    names = {
        "function": {c: code_name(c, "function", year) for c in {x.function_code for x in shown}},
        "economic": {c: code_name(c, "economic", year) for c in {x.economic_code for x in shown}},
    }
    return {
        "section": block.name,
        "row": line,
        "header": " / ".join(header),
        "cell": cell,
        "selections": selections,
        "ledger_total": ledger_total,
        "only_ledger": all(s["kind"] == "ledger" for s in selections),
        "names": names,
    }


def _limited(iterator, limit: int):
    for n, item in enumerate(iterator):
        if n >= limit:
            return
        yield item


CODE_KINDS = {
    "function": "function",
    "function_code": "function",
    "economic": "economic",
    "economic_code": "economic",
}


def code_name(code: object, kind: str, year: int) -> str:
    """The name of a 功能分类 or 经济分类 code in the shipped table of `year`; "" when the code
    or the year is not there (the tables shipped are partial)."""
    if not code:
        return ""
    try:
        table = function_codes(year) if kind == "function" else economic_codes(year)
    except ValueError:
        return ""
    found = table.get(str(code))
    return found.name if found is not None else ""


def code_label(code: object, kind: str, year: int) -> str:
    """ "2080107 社会保险业务管理事务", or the code alone when its name is not known."""
    name = code_name(code, kind, year)
    return f"{code} {name}" if name else str(code)


def _describe(value, code_kind: str | None = None, year: int = 0) -> str:
    if value is None:
        return "（空）"
    if isinstance(value, (tuple, list, set, frozenset)):
        return "、".join(_describe(v, code_kind, year) for v in value)
    if code_kind is not None:
        return code_label(value, code_kind, year)
    return str(value)


def _records(dataset: Dataset, expression: str) -> dict:
    """For a formula over the 三公经费 records (three_public.actual(item=…)), those records."""
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return {"records": []}
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "three_public"
    ):
        return {"records": []}
    wanted = {
        k.arg: k.value.value for k in node.keywords if k.arg and isinstance(k.value, ast.Constant)
    }
    records = [
        t
        for t in dataset.three_public
        if all(str(getattr(t, key, "")) == str(value) for key, value in wanted.items())
    ]
    return {"records": records, "field": node.func.attr}


# ---- the generated 情况说明 ---------------------------------------------------------------------


def explanation(dataset: Dataset, prepared: Prepared) -> list[dict]:
    """The generated 情况说明 as headings and paragraphs, each segment marked as a number from the
    tables (ref), words the unit wrote (quote) or generated text; a paragraph whose sentence
    needs a missing reason carries that reason's (kind, topic)."""
    from juesuan.document.assemble import assemble

    document, writer = assemble(dataset, prepared.statements, prepared.facts, [])
    wanted = [
        (REASON_RULES[o.rule], o.bindings.get("topic", ""), o.message)
        for o in writer.warnings
        if o.rule in REASON_RULES
    ]
    blocks = []
    inside = False
    for block in document.blocks:
        if isinstance(block, Heading) and block.level == 1:
            if inside:
                break
            inside = "情况说明" in block.text
            continue
        if not inside:
            continue
        if isinstance(block, Heading):
            blocks.append({"heading": True, "level": block.level, "text": block.text})
        elif isinstance(block, Paragraph):
            segments = [
                {
                    "text": s.text,
                    "kind": "ref"
                    if isinstance(s, Ref)
                    else "quote"
                    if isinstance(s, Quote)
                    else "",
                }
                for s in block.segments
            ]
            text = block.text
            needs = [
                {"kind": kind, "topic": topic}
                for kind, topic, message in wanted
                if (sentence := _quoted_sentence(message)) and sentence in text
            ]
            blocks.append(
                {"heading": False, "segments": segments, "needs": needs, "style": block.style}
            )
    return blocks


SENTENCE = re.compile(r"句子“(.+?)”所述")


def _quoted_sentence(message: str) -> str | None:
    found = SENTENCE.search(message)
    return found.group(1) if found else None

"""Put the disclosure together in the structure the format's document.j2 lays out.

Cover, 目录, 第一部分 部门概况 (the unit's own texts), 第二部分 情况说明 (generated from facts, with
the projects' 绩效目标完成情况表 in 十（四）), 第三部分 名词解释 (the format's glossary, numbered
without gaps), 第四部分 附件 (附件1: the department's evaluation report and its score table;
附件2: each project's evaluation report followed by its 项目支出绩效自评表), 第五部分 附表 (the tables).
"""

from __future__ import annotations

import re
from pathlib import Path

from juesuan.codes import function_codes
from juesuan.document.model import (
    Block,
    Document,
    Figure,
    FormBlock,
    Heading,
    PageBreak,
    Paragraph,
    TableBlock,
)
from juesuan.ledger.model import Dataset
from juesuan.narrative.facts import Facts
from juesuan.narrative.results import (
    DEPARTMENT_REPORT,
    attachment_plan,
    performance_results,
    report_of,
)
from juesuan.narrative.units import UNITS_FORM, units_form
from juesuan.narrative.wording import paragraphs, render
from juesuan.narrative.writer import Writer
from juesuan.performance import PerformanceResult, evaluate_performance
from juesuan.performance.forms import (
    DEPARTMENT_FORM,
    SELF_EVALUATION_FORMS,
    department_form,
    self_evaluation_form,
)
from juesuan.statements.build import FORMATS_DIR, chinese_number
from juesuan.statements.model import Statements
from juesuan.statements.options import FormatError, format_options
from juesuan.yamltext import load_yaml

ORDINAL = re.compile(r"^[一二三四五六七八九十]+、")
SUB_ORDINAL = re.compile(r"^（[一二三四五六七八九十]+）")
PART_NAMES = ("一", "二", "三", "四", "五")


def assemble(
    dataset: Dataset,
    statements: Statements,
    facts: Facts,
    figures: list[Figure],
    *,
    draft: bool = False,
    performance: PerformanceResult | None = None,
) -> tuple[Document, Writer]:
    """The whole document, and the writer that holds the narrative's warnings. `performance` is
    the dataset's evaluation (evaluated here when not given): the same one `facts` were
    collected with."""
    unit, year = dataset.unit.name, dataset.unit.year
    if performance is None:
        performance = evaluate_performance(dataset)
    places = format_options(statements.format).percent_places
    writer = Writer(dataset, facts, performance=performance, percent_places=places)
    tables = list(statements)
    builders = {
        "tables": lambda argument: _tables(tables, argument, statements.format),
        "glossary": lambda _: glossary(dataset, statements),
        "attachments": lambda _: attachments(dataset, performance),
        "performance": lambda _: performance_results(writer),
        "units": lambda _: (
            [FormBlock(units_form(dataset), UNITS_FORM, in_text=True)] if dataset.units else []
        ),
    }
    by_key = {f.key: f for f in figures}
    blocks = render(writer, statements, by_key, builders)

    document = Document(
        title=f"{unit}{year}年度部门决算",
        unit=unit,
        year=year,
        blocks=tuple(blocks),
        draft=draft,
        facts=dict(facts),
    )
    return document, writer


TABLE_OPTIONS = ("unit-only",)


def _tables(tables: list, argument: str, format_name: str) -> list[Block]:
    """Each table on its own page under a heading, so the 目录 lists the 附表 as the reference does.
    `argument`: the headings' anchor, then the format's options (unit-only: no 编制单位/year line)."""
    part, *options = argument.split()
    unknown = [o for o in options if o not in TABLE_OPTIONS]
    if unknown:
        raise FormatError(
            f"formats/{format_name}/document.j2：@tables 不认识的选项 {'、'.join(unknown)}；"
            f"可用：{'、'.join(TABLE_OPTIONS)}"
        )
    blocks: list[Block] = []
    for n, table in enumerate(tables):
        blocks += [PageBreak()] if n else []
        blocks += [
            Heading(2, f"{table.number}、{table.title}", f"{part}-{table.id}"),
            TableBlock(table, unit_only="unit-only" in options),
        ]
    return blocks


def _report(text: str, level: int, anchor: str) -> list[Block]:
    """A report the unit wrote: its 一、 lines become headings, the rest paragraphs.

    `anchor` begins its headings' anchors: the same for the same document on every build."""
    blocks: list[Block] = []
    for n, paragraph in enumerate(paragraphs(text)):
        if ORDINAL.match(paragraph) and len(paragraph) <= 40:
            blocks.append(Heading(level, paragraph, f"{anchor}-{n}"))
        elif SUB_ORDINAL.match(paragraph) and len(paragraph) <= 40:
            blocks.append(Heading(level + 1, paragraph, f"{anchor}-{n}"))
        else:
            blocks.append(Paragraph.plain(paragraph))
    return blocks


def attachments(dataset: Dataset, performance: PerformanceResult | None = None) -> list[Block]:
    """附件1: the department's evaluation report and its score table; 附件2: each project's report
    (in the order of the evaluated projects) followed by its 项目支出绩效自评表, and the 自评表 of
    evaluated projects without a report."""
    plan = attachment_plan(dataset, performance)
    unit = dataset.unit
    blocks: list[Block] = []
    if plan.department is not None:
        blocks.append(Heading(2, f"附件{plan.department}", f"p4-{plan.department}"))
        if DEPARTMENT_REPORT in dataset.texts:
            title = f"{unit.name}{unit.year}年部门整体支出绩效评价报告"
            blocks.append(Paragraph.plain(title, style="center"))
            blocks += _report(dataset.texts[DEPARTMENT_REPORT], 3, "r-department")
        department = performance.department if performance is not None else None
        if department is not None:
            blocks.append(FormBlock(department_form(department, unit), DEPARTMENT_FORM))
    if plan.projects is not None:
        if blocks:
            blocks.append(PageBreak())
        blocks.append(Heading(2, f"附件{plan.projects}", f"p4-{plan.projects}"))
        projects = performance.projects if performance is not None else ()
        keys = list(plan.project_reports)
        done: set[str] = set()
        first = True
        for number, key in enumerate(keys, start=1):
            named = [p for p in projects if report_of(p.name, [key]) == key]
            project = max(named, key=lambda p: len(p.name), default=None)
            blocks += [] if first else [PageBreak()]
            first = False
            blocks += [
                Paragraph.plain(key, style="center"),
                *_report(dataset.texts[key], 3, f"r-project{number}"),
            ]
            if project is not None and project.name not in done:
                done.add(project.name)
                form = self_evaluation_form(project, unit, performance)
                blocks.append(FormBlock(form, SELF_EVALUATION_FORMS))
        for project in projects:
            if project.name in done:
                continue
            blocks += [] if first else [PageBreak()]
            first = False
            form = self_evaluation_form(project, unit, performance)
            blocks.append(FormBlock(form, SELF_EVALUATION_FORMS))
    if not blocks:
        blocks.append(Paragraph.plain("本部门本年度未提供绩效评价报告。"))
    return blocks


def glossary(dataset: Dataset, statements: Statements) -> list[Block]:
    folders = (statements.format, *format_options(statements.format).wording)
    path = next((p for f in folders if (p := FORMATS_DIR / f / "glossary.yaml").exists()), None)
    if path is None:
        return [Paragraph.plain("（本公开格式未提供名词解释。）", style="note")]
    spec = load_yaml(Path(path).read_text(encoding="utf-8"))
    codes = function_codes(dataset.unit.year)
    entries: list[str] = [f"{term}：{text}" for term, text in spec.get("terms", [])]
    general = statements.table("general")
    reported = [
        r.code
        for s in (general.sections if general else ())
        for r in s.rows
        if r.code and len(r.code) == 7
    ]
    for code in reported:
        definition = spec.get("items", {}).get(code)
        if definition:
            names = [codes.name(code[:n]) or "" for n in (3, 5, 7)]
            entries.append(f"{names[0]}（类）{names[1]}（款）{names[2]}（项）：{definition}")
    entries += [f"{term}：{text}" for term, text in spec.get("closing", [])]
    chinese = spec.get("numbering") == "chinese"
    return [
        Paragraph.plain(f"{chinese_number(n)}、{e}" if chinese else f"{n}. {e}")
        for n, e in enumerate(entries, start=1)
    ]

"""十（四） of the Sichuan structure, built from the performance evaluation rather than worded in
a template: per evaluated project a 综述 and its 绩效目标完成情况表 (a form), the department's
result, and the plan of 第四部分 附件 the text refers to (which 附件 holds which report).
"""

from __future__ import annotations

from dataclasses import dataclass

from juesuan.document.model import Block, FormBlock, Heading, Quote
from juesuan.ledger.model import Dataset
from juesuan.narrative.facts import performance_key
from juesuan.narrative.writer import Part, Writer, amount
from juesuan.performance import PerformanceResult, ProjectPerformance
from juesuan.performance.forms import GOAL_FORMS, goal_form

DEPARTMENT_REPORT = "部门整体支出绩效评价报告"
REPORT_SUFFIX = "绩效评价报告"


@dataclass(frozen=True)
class Attachments:
    """What 第四部分 附件 holds and under which number: the department's evaluation (its report
    and score table), then the projects' (their reports and 项目支出绩效自评表)."""

    department: int | None
    projects: int | None
    project_reports: tuple[str, ...]  # keys of the project reports in dataset.texts, in order


def project_reports(dataset: Dataset, performance: PerformanceResult | None) -> list[str]:
    """The project reports of the dataset's texts: those of the evaluated projects in their
    order, then any other, by name."""
    keys = [k for k in dataset.texts if k.endswith(REPORT_SUFFIX) and k != DEPARTMENT_REPORT]
    ordered = []
    for project in performance.projects if performance is not None else ():
        found = report_of(project.name, keys)
        if found is not None and found not in ordered:
            ordered.append(found)
    return ordered + sorted(k for k in keys if k not in ordered)


def report_of(project: str, keys: list[str]) -> str | None:
    """The report of a project: "企业教师生活补贴项目2020年绩效评价报告" for 企业教师生活补贴 (the
    name, then 项目, the year or 绩效)."""
    for key in keys:
        if not key.startswith(project):
            continue
        rest = key[len(project) :].lstrip()
        if rest[:1].isdigit() or rest.startswith(("项目", "绩效")):
            return key
    return None


def attachment_plan(dataset: Dataset, performance: PerformanceResult | None) -> Attachments:
    reports = tuple(project_reports(dataset, performance))
    number = 0
    department = projects = None
    if DEPARTMENT_REPORT in dataset.texts or (
        performance is not None and performance.department is not None
    ):
        number += 1
        department = number
    if reports or (performance is not None and performance.projects):
        number += 1
        projects = number
    return Attachments(department, projects, reports)


def performance_results(writer: Writer) -> list[Block]:
    """1. 项目绩效目标完成情况: per project a 综述 from its facts and goals, then its 绩效目标完成
    情况表; 2. 部门绩效评价结果: the department's score and where the reports are."""
    result = writer.performance
    if result is None or not (result.projects or result.department is not None):
        return []
    blocks: list[Block] = []
    year = writer.ref("年度")
    dataset = writer.dataset
    plan = attachment_plan(dataset, result)
    projects = result.projects
    if projects:
        blocks.append(Heading(4, "1. 项目绩效目标完成情况", "p2-10-4-1"))
        listed = join([["“", Quote(p.name), "”"] for p in projects[:3]], "")
        count = writer.ref("绩效.项目数")
        if len(projects) > 3:
            which: list[Part] = [*listed, "等 ", count, " 个项目"]
        elif len(projects) > 1:
            which = [*listed, "共 ", count, " 个项目"]
        else:
            which = [*listed, "项目"]
        blocks.append(
            writer.para("本部门在 ", year, " 年度部门决算中反映", which, "绩效目标实际完成情况。")
        )
        for number, project in enumerate(projects, start=1):
            blocks.append(
                Heading(
                    5, f"（{number}）{project.name}项目绩效目标完成情况综述", f"p2-10-4-1-{number}"
                )
            )
            blocks.append(writer.para(project_summary(writer, project)))
            blocks.append(FormBlock(goal_form(project, dataset.unit), GOAL_FORMS))

    blocks.append(Heading(4, f"{2 if projects else 1}. 部门绩效评价结果", "p2-10-4-2"))
    unit = dataset.unit.name
    department = result.department
    if plan.department is not None:
        sentence: list[Part] = ["本部门按要求对 ", year, " 年部门整体支出绩效情况开展自评"]
        if writer.has("绩效.部门整体自评得分"):
            sentence += ["，自评得分为 ", writer.ref("绩效.部门整体自评得分"), " 分"]
            if department is not None and department.grade:
                sentence.append(f"，评价等级为“{department.grade}”")
        elif writer.has("绩效.部门整体缺项数"):
            sentence += [
                "，评分表尚有 ",
                writer.ref("绩效.部门整体缺项数"),
                " 项末级指标缺少数据，暂不计总分",
            ]
        sentence.append("。")
        what: list[Part] = []
        if DEPARTMENT_REPORT in dataset.texts:
            what = ["《", Quote(unit), year, "年部门整体支出绩效评价报告》"]
            what.append("及部门整体支出绩效自评评分表" if department is not None else "")
        else:
            what = ["部门整体支出绩效自评评分表"]
        blocks.append(writer.para(sentence, what, f"见附件（附件{plan.department}）。"))
    if projects and plan.projects is not None:
        first: list[Part] = ["“", Quote(projects[0].name), "”项目"]
        if len(projects) > 1:
            first += ["等 ", writer.ref("绩效.项目数"), " 个项目"]
        what_projects = (
            "各项目的绩效评价报告和项目支出绩效自评表"
            if plan.project_reports
            else "各项目的项目支出绩效自评表"
        )
        blocks.append(
            writer.para(
                "本部门对",
                first,
                f"开展了绩效自评，{what_projects}见附件（附件{plan.projects}）。",
            )
        )
    return blocks


def project_summary(writer: Writer, project: ProjectPerformance) -> list[Part]:
    """项目全年预算数 X 万元，执行数为 Y 万元，完成预算的 Z%。通过项目实施，…发现的主要问题：…
    下一步改进措施：… — the figures are facts, the rest the unit's own words (项目目标)."""
    key = performance_key(project.name)
    parts: list[Part] = [
        "项目全年预算数 ",
        *amount(writer, f"{key}.全年预算"),
        "，执行数为 ",
        *amount(writer, f"{key}.执行数"),
    ]
    if writer.has(f"{key}.执行率"):
        parts += ["，完成预算的 ", writer.ref(f"{key}.执行率"), "%"]
    parts.append("。")
    goal = project.goal
    if goal is None:
        return parts
    if goal.achieved:
        lead = "" if goal.achieved.lstrip().startswith("通过") else "通过项目实施，"
        parts += [lead, Quote(_sentence(goal.achieved))]
    if goal.problems:
        parts += ["发现的主要问题：", Quote(_sentence(goal.problems))]
    if goal.measures:
        parts += ["下一步改进措施：", Quote(_sentence(goal.measures))]
    return parts


def _sentence(text: str) -> str:
    return text.strip().rstrip("。；;，,") + "。"


def join(items: list[list[Part]], separator: str) -> list[Part]:
    joined: list[Part] = []
    for i, item in enumerate(items):
        if i:
            joined.append(separator)
        joined.extend(item)
    return joined

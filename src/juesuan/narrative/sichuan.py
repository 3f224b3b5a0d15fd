"""第二部分 决算情况说明 in the Sichuan wording of the reference case (sections 一 to 十).

Each section is a function of the facts; zero amounts and empty tables get their standard
sentences; reasons come from the dataset's 变动原因 table.
"""

from __future__ import annotations

from dataclasses import dataclass

from juesuan.codes import economic_codes, function_codes
from juesuan.document.model import Block, Figure, FormBlock, Heading, Paragraph, Quote
from juesuan.ledger.model import Dataset
from juesuan.narrative.facts import INCOME_ROWS, SPENDING_COLUMNS, performance_key
from juesuan.narrative.writer import Part, Writer, amount, share_of
from juesuan.performance import PerformanceResult, ProjectPerformance
from juesuan.performance.forms import GOAL_FORMS, goal_form
from juesuan.statements.model import Statements

CHINESE_ORDINALS = "一二三四五六七八九十"
DEPARTMENT_REPORT = "部门整体支出绩效评价报告"
REPORT_SUFFIX = "绩效评价报告"


def part_two(writer: Writer, statements: Statements, figures: dict[str, Figure]) -> list[Block]:
    blocks: list[Block] = []

    def heading(level: int, text: str, anchor: str) -> None:
        blocks.append(Heading(level, text, anchor))

    def add(*parts) -> Paragraph:
        paragraph = writer.para(*parts)
        blocks.append(paragraph)
        return paragraph

    def figure(key: str) -> None:
        if key in figures:
            blocks.append(figures[key])

    year = writer.ref("年度")
    intro = writer.dataset.texts.get("情况说明导语")
    if intro:
        blocks.extend(Paragraph.plain(p) for p in paragraphs(intro))

    # 一
    heading(2, "一、收入支出决算总体情况说明", "p2-1")
    sentence: list[Part] = [year, " 年度收、支总计 ", *amount(writer, "收支总计"), "。"]
    change = writer.yoy("收支总计", "收、支总计", each=True)
    add(sentence, change, writer.reason_sentence("收支总计", [*sentence, *change]))
    figure("figure1")

    # 二
    heading(2, "二、收入决算情况说明", "p2-2")
    parts: list[Part] = [year, " 年本年收入合计 ", *amount(writer, "本年收入合计"), "，其中："]
    items = [
        [row, " ", *amount(writer, f"收入.{row}"), *share_of(writer, f"收入.{row}")]
        for row in INCOME_ROWS
    ]
    add(parts, join(items, "；"), "。")
    figure("figure2")

    # 三
    heading(2, "三、支出决算情况说明", "p2-3")
    parts = [year, " 年本年支出合计 ", *amount(writer, "本年支出合计"), "，其中："]
    shown = [c for c in SPENDING_COLUMNS if not writer.zero(f"支出.{c}")] or [
        "基本支出",
        "项目支出",
    ]
    items = [
        [column, " ", *amount(writer, f"支出.{column}"), *share_of(writer, f"支出.{column}")]
        for column in shown
    ]
    add(parts, join(items, "；"), "。")
    figure("figure3")

    # 四
    heading(2, "四、财政拨款收入支出决算总体情况说明", "p2-4")
    sentence = [year, " 年财政拨款收、支总计 ", *amount(writer, "财政拨款收支总计"), "。"]
    change = writer.yoy("财政拨款收支总计", "财政拨款收、支总计", each=True)
    add(sentence, change, writer.reason_sentence("财政拨款收支总计", [*sentence, *change]))
    figure("figure4")

    # 五
    heading(2, "五、一般公共预算财政拨款支出决算情况说明", "p2-5")
    heading(3, "（一）一般公共预算财政拨款支出决算总体情况", "p2-5-1")
    key = "一般公共预算财政拨款支出"
    sentence = [year, " 年一般公共预算财政拨款支出 ", *amount(writer, key)]
    if writer.has(f"{key}.占比"):
        sentence += ["，占本年支出合计的 ", writer.ref(f"{key}.占比"), "%"]
    sentence.append("。")
    change = writer.yoy(key, "一般公共预算财政拨款支出")
    add(sentence, change, writer.reason_sentence(key, [*sentence, *change]))
    figure("figure5")

    heading(3, "（二）一般公共预算财政拨款支出决算结构情况", "p2-5-2")
    general = statements.table("general").sections[0]
    classes = [r for r in general.rows if r.code and len(r.code) == 3]
    functions = function_codes(writer.dataset.unit.year)
    if classes:
        items = [
            [
                f"{r.label.removesuffix('支出')}（类）支出 ",
                *amount(writer, f"功能.{r.code}"),
                *share_of(writer, f"功能.{r.code}"),
            ]
            for r in classes
        ]
        add(
            year,
            " 年一般公共预算财政拨款支出 ",
            *amount(writer, key),
            "，主要用于以下方面：",
            join(items, "；"),
            "。",
        )
    else:
        add(year, " 年无一般公共预算财政拨款支出。")
    figure("figure6")

    heading(3, "（三）一般公共预算财政拨款支出决算具体情况", "p2-5-3")
    total_sentence: list[Part] = [year, " 年一般公共预算支出决算数为 ", *amount(writer, key)]
    total_sentence += writer.completion(key)
    add(
        total_sentence,
        "。",
        writer.budget_reason("一般公共预算财政拨款支出", key, total_sentence),
        "其中：" if classes else "",
    )
    items_rows = [r for r in general.rows if r.code and len(r.code) == 7]
    for number, row in enumerate(items_rows, start=1):
        names = [functions.name(row.code[:n]) or "" for n in (3, 5)]
        fact = f"功能.{row.code}"
        sentence = [
            f"{number}. {names[0]}（类）{names[1]}（款）{row.label}（项）：支出决算为 ",
            *amount(writer, fact),
            *writer.completion(fact),
            "。",
        ]
        add(sentence, writer.budget_reason(row.code, fact, sentence))

    # 六
    heading(2, "六、一般公共预算财政拨款基本支出决算情况说明", "p2-6")
    basic = statements.table("general_basic")
    add(year, " 年一般公共预算财政拨款基本支出 ", *amount(writer, "基本支出"), "，其中：")
    economics = economic_codes(writer.dataset.unit.year)
    for section, key, label in (
        (basic.sections[0], "人员经费", "人员经费"),
        (basic.sections[1], "公用经费", "日常公用经费"),
    ):
        names = [
            economics.name(r.code) or r.label
            for r in section.rows
            if r.code and len(r.code) == 5 and r.cells[0].shown
        ]
        listing = f"，主要包括：{'、'.join(names)}" if names else ""
        add(f"{label} ", *amount(writer, key), f"{listing}。")

    # 七
    heading(2, "七、“三公”经费财政拨款支出决算情况说明", "p2-7")
    heading(3, "（一）“三公”经费财政拨款支出决算总体情况说明", "p2-7-1")
    sentence = [
        year,
        " 年“三公”经费财政拨款支出决算为 ",
        *amount(writer, "三公经费.决算"),
        *writer.completion("三公经费"),
        "。",
    ]
    add(sentence, writer.budget_reason("三公经费", "三公经费", sentence))
    heading(3, "（二）“三公”经费财政拨款支出决算具体情况说明", "p2-7-2")
    parts_three = [
        ("因公出国（境）费", "因公出国（境）费支出决算"),
        ("公务用车购置及运行维护费", "公务用车购置及运行维护费支出决算"),
        ("公务接待费", "公务接待费支出决算"),
    ]
    items = [
        [f"{label} ", *amount(writer, f"{name}.决算"), *share_of(writer, name)]
        for name, label in parts_three
    ]
    add(year, " 年“三公”经费财政拨款支出决算中，", join(items, "；"), "。")
    abroad = [
        "1. 因公出国（境）经费支出 ", *amount(writer, "因公出国（境）费.决算"), "。全年安排因公出国（境）团组 ",
        writer.count("因公出国（境）费.批次"),
        " 次，出国（境）", writer.count("因公出国（境）费.人次"), " 人。",
    ]  # fmt: skip
    abroad += three_public_yoy(writer, "因公出国（境）费", "因公出国（境）支出决算数")
    add(abroad)
    vehicles = [
        "2. 公务用车购置及运行维护费支出 ",
        *amount(writer, "公务用车购置及运行维护费.决算"),
        "。",
    ]
    vehicles += three_public_yoy(
        writer, "公务用车购置及运行维护费", "公务用车购置及运行维护费支出决算"
    )
    add(vehicles)
    add("其中：公务用车购置支出 ", *amount(writer, "公务用车购置费.决算"), "。")
    add("公务用车运行维护费支出 ", *amount(writer, "公务用车运行维护费.决算"), "。")
    reception = [
        "3. 公务接待费支出 ",
        *amount(writer, "公务接待费.决算"),
        *writer.completion("公务接待费"),
        "。",
    ]
    reception += three_public_yoy(writer, "公务接待费", "公务接待费支出决算")
    add(reception, "其中：")
    domestic = ["国内公务接待支出 ", *amount(writer, "国内公务接待费.决算"), "。"]
    if not writer.zero("国内公务接待费.决算"):
        domestic += [
            "国内公务接待 ", writer.ref("国内公务接待费.批次"), " 批次，", writer.ref("国内公务接待费.人次"),
            " 人次，共计支出 ", *amount(writer, "国内公务接待费.决算"), "。",
        ]  # fmt: skip
    add(domestic)
    foreign = ["外事接待支出 ", *amount(writer, "外事接待费.决算"), "，外事接待 "]
    foreign += [writer.count("外事接待费.批次"), " 批次。"]
    add(foreign)

    # 八 九
    for number, key, title, anchor in (
        ("八", "政府性基金预算财政拨款支出", "政府性基金预算支出决算情况说明", "p2-8"),
        ("九", "国有资本经营预算财政拨款支出", "国有资本经营预算支出决算情况说明", "p2-9"),
    ):
        heading(2, f"{number}、{title}", anchor)
        short = key.replace("财政拨款支出", "拨款支出")
        sentence = [year, f" 年{short} ", *amount(writer, key), "。"]
        if writer.has(f"{key}.占比"):
            sentence += ["占本年支出合计的 ", writer.ref(f"{key}.占比"), "%。"]
        change = writer.yoy(key, key.replace("支出", ""))
        add(sentence, change, writer.reason_sentence(key, [*sentence, *change]))

    # 十
    heading(2, "十、其他重要事项的情况说明", "p2-10")
    unit = writer.dataset.unit.name
    heading(3, "（一）机关运行经费支出情况", "p2-10-1")
    if writer.has("机关运行经费"):
        sentence = [year, f" 年，{unit}机关运行经费支出 ", *amount(writer, "机关运行经费")]
        change = running_yoy(writer)
        add(sentence, change, writer.reason_sentence("机关运行经费", [*sentence, *change], lead=""))
    else:
        add(year, f" 年，{unit}无机关运行经费支出。")

    heading(3, "（二）政府采购支出情况", "p2-10-2")
    if writer.zero("政府采购"):
        add(year, f" 年，{unit}无政府采购支出。")
    else:
        purposes = "、".join(p.note for p in writer.dataset.procurement if p.note and p.amount)
        add(
            year, f" 年，{unit}政府采购支出总额 ", *amount(writer, "政府采购"), "，其中：政府采购货物支出 ",
            *amount(writer, "政府采购.货物"), "、政府采购工程支出 ", *amount(writer, "政府采购.工程"),
            "、政府采购服务支出 ", *amount(writer, "政府采购.服务"), "。",
            ["主要用于", Quote(purposes), "。"] if purposes else "",
            "授予中小企业合同金额 ", *amount(writer, "政府采购.中小企业"), "，占政府采购支出总额的 ",
            writer.ref("政府采购.中小企业.占比"), "%，其中：授予小微企业合同金额 ", *amount(writer, "政府采购.小微企业"),
            "，占政府采购支出总额的 ", writer.ref("政府采购.小微企业.占比"), "%。",
        )  # fmt: skip

    heading(3, "（三）国有资产占有使用情况", "p2-10-3")
    vehicle_kinds = [
        k
        for k in (
            "主要领导干部用车",
            "机要通信用车",
            "应急保障用车",
            "执法执勤用车",
            "特种专业技术用车",
            "离退休干部用车",
            "其他用车",
        )
        if writer.has(f"事项.车辆-{k}")
    ]
    count = writer.count("事项.车辆总数")
    vehicles_text = join(
        [[f"{k} ", writer.ref(f"事项.车辆-{k}"), " 辆"] for k in vehicle_kinds], "、"
    )
    add(
        "截至 ", year, f" 年 12 月 31 日，{unit}共有车辆 ", count, " 辆",
        ["，其中：", *vehicles_text] if vehicle_kinds else [],
        "。单价 50 万元以上通用设备 ",
        writer.count("事项.单价50万元以上通用设备"),
        " 台（套），单价 100 万元以上专用设备 ",
        writer.count("事项.单价100万元以上专用设备"), " 台（套）。",
    )  # fmt: skip

    heading(3, "（四）预算绩效管理情况", "p2-10-4")
    if all(writer.has(f"事项.{k}") for k in ("绩效目标项目数", "绩效监控项目数", "绩效自评项目数")):
        add(
            "根据预算绩效管理要求，本部门在年初预算编制阶段，对 ", writer.ref("事项.绩效目标项目数"),
            " 个项目编制了绩效目标，预算执行过程中，选取 ", writer.ref("事项.绩效监控项目数"),
            " 个项目开展绩效监控，年终执行完毕后，对 ", writer.ref("事项.绩效自评项目数"), " 个项目开展了绩效目标完成情况自评。",
        )  # fmt: skip
    text = writer.dataset.texts.get("预算绩效管理情况")
    if text:
        blocks.extend(Paragraph.plain(p) for p in paragraphs(text))
    blocks += performance_results(writer)
    return blocks


# ---- 十（四） 1. 项目绩效目标完成情况, 2. 部门绩效评价结果 ------------------------------------------------


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


def three_public_yoy(writer: Writer, key: str, subject: str) -> list[Part]:
    """Sichuan: 较 2019 年没有增减 / 比 2019 年减少 X 万元，下降 Y%。主要原因是…"""
    if not writer.has(f"{key}.上年"):
        return []
    direction = writer.facts.direction.get(key, 0)
    if direction == 0:
        return [f"{subject}较 ", writer.ref("上年度"), " 年没有增减。"]
    verb, trend = ("增加", "增长") if direction > 0 else ("减少", "下降")
    sentence: list[Part] = [
        f"{subject}比 ",
        writer.ref("上年度"),
        f" 年{verb} ",
        writer.ref(f"{key}.变动"),
        " 万元",
    ]
    if writer.has(f"{key}.变动率"):
        sentence += [f"，{trend} ", writer.ref(f"{key}.变动率"), "%"]
    sentence.append("。")
    return [*sentence, *writer.reason_sentence(key, sentence, lead="主要原因是")]


def running_yoy(writer: Writer) -> list[Part]:
    key = "机关运行经费"
    if not writer.has(f"{key}.上年"):
        return ["。"]
    direction = writer.facts.direction.get(key, 0)
    if direction == 0:
        return ["，与 ", writer.ref("上年度"), " 年持平。"]
    verb, trend = ("增加", "增长") if direction > 0 else ("减少", "下降")
    parts: list[Part] = [
        "，比 ",
        writer.ref("上年度"),
        f" 年{verb} ",
        writer.ref(f"{key}.变动"),
        " 万元",
    ]
    if writer.has(f"{key}.变动率"):
        parts += [f"，{trend} ", writer.ref(f"{key}.变动率"), "%"]
    return [*parts, "。"]


def join(items: list[list[Part]], separator: str) -> list[Part]:
    joined: list[Part] = []
    for i, item in enumerate(items):
        if i:
            joined.append(separator)
        joined.extend(item)
    return joined


def paragraphs(text: str) -> list[str]:
    """Markdown text as paragraphs: blank lines separate them; headings lose their # marks."""
    chunks = [c.strip() for c in text.replace("\r\n", "\n").split("\n\n")]
    return [c.lstrip("#").strip().replace("\n", "") for c in chunks if c.strip()]

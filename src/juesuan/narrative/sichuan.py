"""第二部分 决算情况说明 in the Sichuan wording of the reference case (sections 一 to 十).

Each section is a function of the facts; zero amounts and empty tables get their standard
sentences; reasons come from the dataset's 变动原因 table.
"""

from __future__ import annotations

from juesuan.codes import economic_codes, function_codes
from juesuan.document.model import Block, Figure, Heading, Paragraph, Quote
from juesuan.narrative.facts import INCOME_ROWS, SPENDING_COLUMNS
from juesuan.narrative.writer import Part, Writer, amount, share_of
from juesuan.statements.model import Statements

CHINESE_ORDINALS = "一二三四五六七八九十"


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
    return blocks


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

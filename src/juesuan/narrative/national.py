"""决算情况说明 in the wording of the national nine-table template (Shanghai 2024): sections 一 to
十一, "不涉及的不列", "如持平作持平表述", 年初预算 against 决算 for each 项.
"""

from __future__ import annotations

from juesuan.document.model import Block, Figure, Heading, Paragraph
from juesuan.narrative.facts import INCOME_ROWS, SPENDING_COLUMNS
from juesuan.narrative.sichuan import join, paragraphs, running_yoy
from juesuan.narrative.writer import Part, Writer, amount, share_of
from juesuan.statements.model import Statements


def yoy(writer: Writer, key: str, subject: str) -> list[Part]:
    """与 2023 年度相比，{subject}增加（减少）X 万元，增长（下降）Y%。 / …持平。"""
    if not writer.has(f"{key}.上年"):
        return []
    direction = writer.facts.direction.get(key, 0)
    head: list[Part] = ["与 ", writer.ref("上年度"), " 年度相比，"]
    if direction == 0:
        return [*head, f"{subject}持平。"]
    verb, trend = ("增加", "增长") if direction > 0 else ("减少", "下降")
    parts: list[Part] = [*head, f"{subject}{verb} ", writer.ref(f"{key}.变动"), " 万元"]
    if writer.has(f"{key}.变动率"):
        parts += [f"，{trend} ", writer.ref(f"{key}.变动率"), "%"]
    return [*parts, "。"]


def part_two(writer: Writer, statements: Statements, figures: dict[str, Figure]) -> list[Block]:
    blocks: list[Block] = []
    unit = writer.dataset.unit.name
    year = writer.ref("年度")

    def heading(level: int, text: str, anchor: str) -> None:
        blocks.append(Heading(level, text, anchor))

    def add(*parts) -> None:
        blocks.append(writer.para(*parts))

    def with_reason(key: str, sentence: list[Part]) -> None:
        add(sentence, writer.reason_sentence(key, sentence, lead="主要原因："))

    heading(2, "一、收入支出决算总体情况说明", "p3-1")
    with_reason(
        "收支总计",
        [
            f"{unit} ",
            year,
            " 年度收入支出总计 ",
            *amount(writer, "收支总计"),
            "。",
            *yoy(writer, "收支总计", "收入支出总计"),
        ],
    )

    heading(2, "二、收入决算情况说明", "p3-2")
    fiscal = [
        "一般公共预算财政拨款收入",
        "政府性基金预算财政拨款收入",
        "国有资本经营预算财政拨款收入",
    ]
    rows = [r for r in INCOME_ROWS if r not in fiscal and not writer.zero(f"收入.{r}")]
    items = [
        [f"{r} ", *amount(writer, f"收入.{r}"), *share_of(writer, f"收入.{r}")]
        for r in fiscal
        if not writer.zero(f"收入.{r}")
    ]
    items += [[f"{r} ", *amount(writer, f"收入.{r}"), *share_of(writer, f"收入.{r}")] for r in rows]
    add(
        "本年收入合计 ",
        *amount(writer, "本年收入合计"),
        "，其中：",
        join(items, "；") if items else "无",
        "。",
    )

    heading(2, "三、支出决算情况说明", "p3-3")
    columns = [c for c in SPENDING_COLUMNS if not writer.zero(f"支出.{c}")]
    items = [
        [f"{c} ", *amount(writer, f"支出.{c}"), *share_of(writer, f"支出.{c}")] for c in columns
    ]
    add(
        "本年支出合计 ",
        *amount(writer, "本年支出合计"),
        "，其中：",
        join(items, "；") if items else "无",
        "。",
    )

    heading(2, "四、财政拨款收入支出决算总体情况说明", "p3-4")
    with_reason(
        "财政拨款收支总计",
        [
            f"{unit} ",
            year,
            " 年度财政拨款收入支出总计 ",
            *amount(writer, "财政拨款收支总计"),
            "。",
            *yoy(writer, "财政拨款收支总计", "财政拨款收入支出总计"),
        ],
    )

    heading(2, "五、一般公共预算财政拨款支出决算情况说明", "p3-5")
    key = "一般公共预算财政拨款支出"
    heading(3, "（一）一般公共预算财政拨款支出决算总体情况", "p3-5-1")
    sentence: list[Part] = ["一般公共预算财政拨款支出 ", *amount(writer, key)]
    if writer.has(f"{key}.占比"):
        sentence += ["，占本年支出合计的 ", writer.ref(f"{key}.占比"), "%"]
    with_reason(key, [*sentence, "。", *yoy(writer, key, "一般公共预算财政拨款支出")])
    heading(3, "（二）一般公共预算财政拨款支出决算结构情况", "p3-5-2")
    general = statements.table("general").sections[0]
    classes = [r for r in general.rows if r.code and len(r.code) == 3]
    items = [
        [f"{r.label}（类）", *amount(writer, f"功能.{r.code}"), *share_of(writer, f"功能.{r.code}")]
        for r in classes
    ]
    add(
        "一般公共预算财政拨款支出 ",
        *amount(writer, key),
        "，主要用于以下方面：",
        join(items, "；") if items else "无",
        "。",
    )
    heading(3, "（三）一般公共预算财政拨款支出决算具体情况", "p3-5-3")
    total: list[Part] = []
    if writer.has(f"{key}.预算"):
        total = [
            "一般公共预算财政拨款支出年初预算为 ",
            *amount(writer, f"{key}.预算"),
            "，支出决算为 ",
            *amount(writer, key),
        ]
        total += ["，完成年初预算的 ", writer.ref(f"{key}.完成率"), "%。"]
    else:
        total = ["一般公共预算财政拨款支出决算为 ", *amount(writer, key), "。"]
    add(total, writer.budget_reason("一般公共预算财政拨款支出", key, total), "其中：")
    from juesuan.codes import function_codes

    codes = function_codes(writer.dataset.unit.year)
    for number, row in enumerate([r for r in general.rows if r.code and len(r.code) == 7], start=1):
        fact = f"功能.{row.code}"
        names = [codes.name(row.code[:n]) or "" for n in (3, 5)]
        sentence = [f"{number}、{names[0]}（类）{names[1]}（款）{row.label}（项）。"]
        if writer.has(f"{fact}.预算"):
            sentence += ["年初预算为 ", *amount(writer, f"{fact}.预算"), "，"]
        sentence += ["支出决算为 ", *amount(writer, fact), "。"]
        add(sentence, writer.budget_reason(row.code, fact, sentence))

    heading(2, "六、一般公共预算财政拨款基本支出决算情况说明", "p3-6")
    basic = statements.table("general_basic")
    listed = []
    for section, fact, label in (
        (basic.sections[0], "人员经费", "人员经费"),
        (basic.sections[1], "公用经费", "公用经费"),
    ):
        names = [r.label for r in section.rows if r.code and len(r.code) == 5 and r.cells[0].shown]
        listed.append(
            [f"{label} ", *amount(writer, fact), f"，主要包括：{'、'.join(names)}" if names else ""]
        )
    add(
        "一般公共预算财政拨款基本支出 ",
        *amount(writer, "基本支出"),
        "。其中：",
        join(listed, "；"),
        "。",
    )

    heading(2, "七、财政拨款“三公”经费支出决算情况说明", "p3-7")
    heading(3, "（一）“三公”经费财政拨款支出决算总体情况说明", "p3-7-1")
    parts = [
        ("因公出国（境）费", "因公出国（境）费决算为 "),
        ("公务用车购置及运行维护费", "公务用车购置及运行维护费支出决算为 "),
        ("公务接待费", "公务接待费支出决算为 "),
    ]
    if writer.zero("三公经费.决算") and writer.zero("三公经费.预算"):
        add(f"{unit} ", year, " 年度无“三公”经费财政拨款支出。")
    else:
        items = [
            [label, *amount(writer, f"{name}.决算"), *writer.completion(name, "完成预算的")]
            for name, label in parts
        ]
        sentence = [
            "“三公”经费财政拨款支出年初预算为 ",
            *amount(writer, "三公经费.预算"),
            "，支出决算为 ",
            *amount(writer, "三公经费.决算"),
        ]
        sentence += [
            *writer.completion("三公经费", "完成预算的"),
            "，其中：",
            *join(items, "；"),
            "。",
        ]
        add(sentence, writer.budget_reason("三公经费", "三公经费", sentence))
        if writer.has("三公经费.上年"):
            direction = writer.facts.direction.get("三公经费", 0)
            if direction == 0:
                add(
                    year,
                    " 年度“三公”经费财政拨款支出决算数与 ",
                    writer.ref("上年度"),
                    " 年度持平。",
                )
            else:
                verb, trend = ("增加", "增长") if direction > 0 else ("减少", "下降")
                line = [
                    year,
                    " 年度“三公”经费财政拨款支出决算数比 ",
                    writer.ref("上年度"),
                    f" 年度{verb} ",
                    *amount(writer, "三公经费.变动"),
                ]
                if writer.has("三公经费.变动率"):
                    line += [f"，{trend} ", writer.ref("三公经费.变动率"), "%"]
                line.append("。")
                add(line, writer.reason_sentence("三公经费", line, lead="主要原因是"))
        heading(3, "（二）“三公”经费财政拨款支出决算具体情况说明", "p3-7-2")
        items = [
            [f"{name}支出决算 ", *amount(writer, f"{name}.决算"), *share_of(writer, name)]
            for name, _ in parts
        ]
        add("“三公”经费财政拨款支出决算中，", join(items, "；"), "。")
        add("1、因公出国（境）费支出 ", *amount(writer, "因公出国（境）费.决算"), "。全年安排因公出国（境）团组 ",
            writer.count("因公出国（境）费.批次"), " 个、累计 ",
            writer.count("因公出国（境）费.人次"), " 人次。")  # fmt: skip
        add("2、公务用车购置及运行维护费支出 ", *amount(writer, "公务用车购置及运行维护费.决算"), "。其中：公务用车购置支出为 ",
            *amount(writer, "公务用车购置费.决算"), "。公务用车运行维护支出 ", *amount(writer, "公务用车运行维护费.决算"), "。")  # fmt: skip
        reception = [
            "3、公务接待费支出 ",
            *amount(writer, "公务接待费.决算"),
            "。其中：国内公务接待支出 ",
            *amount(writer, "国内公务接待费.决算"),
        ]
        reception += ["（含外宾接待支出 ", *amount(writer, "外事接待费.决算"), "）"]
        if writer.has("国内公务接待费.批次"):
            reception += [
                "，接待 ",
                writer.ref("国内公务接待费.批次"),
                " 批次、",
                writer.ref("国内公务接待费.人次"),
                " 人次",
            ]
        add(reception, "。")

    for number, key, title, anchor in (
        ("八", "政府性基金预算财政拨款支出", "政府性基金预算财政拨款收入支出决算情况说明", "p3-8"),
        (
            "九",
            "国有资本经营预算财政拨款支出",
            "国有资本经营预算财政拨款收入支出决算情况说明",
            "p3-9",
        ),
    ):
        heading(2, f"{number}、{title}", anchor)
        name = key.removesuffix("支出")
        if writer.zero(key):
            add(f"{unit} ", year, f" 年度无{name}收入和支出。")
        else:
            add(f"{name}支出 ", *amount(writer, key), "。")

    heading(2, "十、预算绩效管理情况", "p3-10")
    if all(writer.has(f"事项.{k}") for k in ("绩效目标项目数", "绩效自评项目数")):
        add(f"{unit} ", year, " 年度预算绩效管理工作开展情况如下：编报绩效目标的项目 ", writer.ref("事项.绩效目标项目数"),
            " 个；绩效自评的项目 ", writer.ref("事项.绩效自评项目数"), " 个。")  # fmt: skip
    text = writer.dataset.texts.get("预算绩效管理情况")
    if text:
        blocks.extend(Paragraph.plain(p) for p in paragraphs(text))

    heading(2, "十一、其他重要事项的情况说明", "p3-11")
    heading(3, "（一）机关运行经费支出情况", "p3-11-1")
    if writer.has("机关运行经费"):
        sentence = [f"{unit} ", year, " 年度机关运行经费支出 ", *amount(writer, "机关运行经费")]
        change = running_yoy(writer)
        add(
            sentence,
            change,
            writer.reason_sentence("机关运行经费", [*sentence, *change], lead="主要原因是"),
        )
    else:
        add(f"{unit} ", year, " 年度无机关运行经费支出。")
    heading(3, "（二）政府采购支出情况", "p3-11-2")
    add(f"{unit} ", year, " 年度政府采购金额（以合同签订为准）为 ", *amount(writer, "政府采购"), "，其中：货物采购金额 ",
        *amount(writer, "政府采购.货物"), "、工程采购金额 ", *amount(writer, "政府采购.工程"), "、服务采购金额 ",
        *amount(writer, "政府采购.服务"), "。授予中小企业合同金额 ", *amount(writer, "政府采购.中小企业"),
        "，其中授予小微企业合同金额 ", *amount(writer, "政府采购.小微企业"), "。")  # fmt: skip
    heading(3, "（三）国有资产占有使用情况", "p3-11-3")
    count = writer.count("事项.车辆总数")
    add("截至 ", year, f" 年 12 月 31 日，{unit}共有车辆 ", count, " 辆。单价 100 万元以上专用设备 ",
        writer.count("事项.单价100万元以上专用设备"), " 台（套）。")  # fmt: skip
    return blocks

"""Facts a published document states, read from the model: totals and their parts, classes and
items, year-over-year claims, shares, completion rates, per-capita figures, performance table
rows, and the published tables as a `Statements` value (shown 万元 figures) so the project's
table rules run on them unchanged.

Each sentence is classified first (同比 / 占比 / 完成率 / 合计 / 人均); a claim is built only
from a sentence of its kind, so a number is recomputed only where the words say what it is.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from juesuan.audit.model import (
    ARABIC,
    PAREN_ARABIC,
    PAREN_CHINESE,
    Model,
    Number,
    Paragraph,
    Sentence,
    TableBlock,
    parse_decimal,
)
from juesuan.audit.read import Place

YOY, SHARE, COMPLETION, TOTAL, PER_CAPITA = "同比", "占比", "完成率", "合计", "人均"
_KINDS = (
    (
        YOY,
        re.compile(
            r"同比|相比|比\s*\d{4}\s*年|比上年|较上年|较\s*\d{4}\s*年|增幅|降幅|持平|没有增减|没有变动"
        ),
    ),
    (SHARE, re.compile(r"占[^，。；]{0,30}?\d[\d.,]*\s*%")),
    (COMPLETION, re.compile(r"完成(?:年初|全年)?预算|完成率|执行率|预算完成度")),
    (TOTAL, re.compile(r"合计|总计|共计|总额|其中|主要包括|主要用于")),
    (PER_CAPITA, re.compile(r"人均")),
)
UP_WORDS = ("增加", "增长", "上升", "增幅", "提高", "增支", "多")
DOWN_WORDS = ("减少", "下降", "降低", "降幅", "减幅", "节约", "减支", "少")
FLAT_WORDS = ("持平", "没有增减", "没有变动", "无变化", "未发生变化", "没有变化", "无增减")
_CHANGE_VERB = re.compile(r"(增加|减少|增长|下降|上升|降低|增幅|降幅|减幅|节约)(?:了|为|达)?\s*$")
_APPROX = re.compile(r"(超过|约|近|逾|不足|以上|左右|多于|少于|不到|大约)\s*$")


def classify(text: str) -> frozenset[str]:
    """The kinds of claim a sentence makes, before any number in it is recomputed."""
    return frozenset(kind for kind, pattern in _KINDS if pattern.search(text))


@dataclass(frozen=True)
class Evidence:
    place: Place
    snippet: str
    value: str = ""  # the figure as printed

    def as_dict(self) -> dict:
        return {"place": self.place.as_dict(), "snippet": self.snippet, "value": self.value}


def evidence(model: Model, number: Number, around: int = 24) -> Evidence:
    paragraph = model.paragraphs[number.paragraph]
    return Evidence(
        paragraph.place_at(number.start),
        paragraph.snippet(number.start, number.end, around),
        number.shown(),
    )


def text_evidence(model: Model, paragraph: int, start: int, end: int) -> Evidence:
    p = model.paragraphs[paragraph]
    return Evidence(p.place_at(start), p.snippet(start, end), p.text[start:end])


# ---- claims -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YoY:
    sentence: Sentence
    current: Number | None
    confident: bool  # the current figure is clearly the subject of the comparison
    change: Number | None
    change_word: str
    rate: Number | None
    rate_word: str
    flat: str  # the 持平 wording, if any
    prior: Number | None = None  # the compared year's own figure ("2025年执行数为 X"), if stated


@dataclass(frozen=True)
class Share:
    sentence: Sentence
    part: Number
    share: Number
    whole: Number | None
    whole_label: str
    explicit: bool  # the whole was named ("占本年支出合计的") or is the enumeration's total


@dataclass(frozen=True)
class Completion:
    sentence: Sentence
    actual: Number | None
    budget: Number | None
    rate: Number
    basis: str = ""  # the budget the rate names: 年初 or 全年 ("完成年初预算的"), if any


@dataclass(frozen=True)
class PerCapita:
    sentence: Sentence
    total: Number
    count: Number
    value: Number


@dataclass(frozen=True)
class Enumeration:
    total: Number
    label: str
    parts: tuple[Number, ...]
    exhaustive: bool
    paragraphs: tuple[int, ...]


@dataclass(frozen=True)
class Item:
    """A 功能分类 item named by its path: 社会保障和就业支出（类）…（款）…（项）."""

    paragraph: int
    class_name: str
    kuan: str
    xiang: str
    amount: Number | None
    start: int
    end: int
    budget: bool = False  # the amount is the item's budget: the text gives no other


@dataclass(frozen=True)
class Labeled:
    key: str
    number: Number
    label: str


@dataclass(frozen=True)
class Procurement:
    """The 政府采购 paragraph's amounts: the total and what SMEs won in the projects reserved
    for them and in the other projects (both are parts of the total)."""

    total: Number
    reserved_won: Number
    other_won: Number


@dataclass(frozen=True)
class PerfRow:
    project: str
    table: int
    row: int
    level1: str
    level2: str
    name: str
    target: str
    actual: str
    place: Place


@dataclass
class Facts:
    yoy: list[YoY] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)
    per_capita: list[PerCapita] = field(default_factory=list)
    enumerations: list[Enumeration] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    labeled: list[Labeled] = field(default_factory=list)
    performance: list[PerfRow] = field(default_factory=list)
    procurement: list[Procurement] = field(default_factory=list)
    sentence_kinds: dict[tuple[int, int], frozenset[str]] = field(default_factory=dict)
    statements: object | None = None  # juesuan.statements.model.Statements
    table_cells: dict[tuple[str, str, str], tuple[Decimal | None, Place, str]] = field(
        default_factory=dict
    )  # (table id, row key, column key) -> (shown 万元, place, row text)
    table_notes: list[str] = field(default_factory=list)
    year: int | None = None  # the year the document is for, as it states it (`stated_year`)
    year_kind: str = ""  # 预算 or 决算, as the same title says

    def counts(self) -> dict:
        kinds = Counter(kind for value in self.sentence_kinds.values() for kind in value)
        return {
            # in the kinds' own order: a set's order follows the process's string hashes
            "sentences_by_kind": {kind: kinds[kind] for kind, _ in _KINDS if kind in kinds},
            "yoy_claims": len(self.yoy),
            "shares": len(self.shares),
            "completion_rates": len(self.completions),
            "per_capita": len(self.per_capita),
            "enumerations": len(self.enumerations),
            "items": len(self.items),
            "performance_rows": len(self.performance),
            "tables_as_statements": (
                [t.id for t in self.statements.tables] if self.statements is not None else []
            ),
        }


def gather(model: Model) -> Facts:
    facts = Facts()
    facts.year, facts.year_kind = stated_year(model) or (None, "")
    for paragraph in model.paragraphs:
        if paragraph.kind not in ("body", "heading"):
            continue
        for sentence in model.sentences[paragraph.index]:
            kinds = classify(sentence.text)
            facts.sentence_kinds[(paragraph.index, sentence.start)] = kinds
            if YOY in kinds:
                facts.yoy.extend(_yoy(model, sentence))
            if SHARE in kinds:
                facts.shares.extend(_shares(model, sentence))
            if COMPLETION in kinds:
                facts.completions.extend(_completions(model, sentence))
            if PER_CAPITA in kinds:
                facts.per_capita.extend(_per_capita(model, sentence))
            if TOTAL in kinds:
                facts.enumerations.extend(_sentence_enumerations(model, sentence))
        facts.items.extend(_items(model, paragraph))
    facts.enumerations.extend(_paragraph_enumerations(model))
    facts.labeled = _labeled(model)
    facts.procurement = _procurement(model)
    facts.performance = _performance_rows(model)
    from juesuan.audit.tables import statements_from_tables

    statements, cells, notes = statements_from_tables(model)
    facts.statements, facts.table_cells, facts.table_notes = statements, cells, notes
    return facts


# ---- the document's year ---------------------------------------------------------------------

# "2026年区级部门预算", "2017年度部门预算表", "2024年度部门决算": a year, then what is for it
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?[^，。；：:\d]{0,30}?(预算|决算)(?!执行|数)")
_COVER = 8  # paragraphs that make the cover when there is no 目录 to end it


def stated_year(model: Model) -> tuple[int, str] | None:
    """The year the document is for and whether it is a 预算 or a 决算, as it says: its cover's
    title (the paragraphs before the 目录: "上海市普陀区2026年区级部门预算", or "江苏省人大常委会
    办公厅" / "2017年度部门预算"), else what most of its headings and table titles name
    ("2017年政府采购预算表", "第二部分 2018年度部门预算表"). None when it says neither: no
    year is assumed."""
    cover = []
    for paragraph in model.paragraphs[:_COVER]:
        if paragraph.kind == "toc" or re.sub(r"\s", "", paragraph.text).startswith("目录"):
            break
        cover.append(re.sub(r"\s", "", paragraph.text))
    found = _TITLE_YEAR.search("".join(cover))
    if found:
        return int(found[1]), found[2]
    titles = [p.text for p in model.paragraphs if p.kind == "heading"]
    titles += [t.title for t in model.tables]
    named = Counter(
        (int(m[1]), m[2]) for title in titles if (m := _TITLE_YEAR.search(re.sub(r"\s", "", title)))
    )
    return named.most_common(1)[0][0] if named else None


# ---- helpers over numbers --------------------------------------------------------------------


def _before(model: Model, number: Number, width: int = 12) -> str:
    text = model.paragraphs[number.paragraph].text
    return text[max(0, number.start - width) : number.start]


def is_change(model: Model, number: Number) -> bool:
    return bool(_CHANGE_VERB.search(_before(model, number, 8)))


_BUDGET_LABEL = re.compile(r"(?:年初|全年|调整)?预算(?:数|金额|资金|安排)?(?:为|是)?\s*$")


def is_budget(model: Model, number: Number) -> bool:
    """A budget figure ("年初预算为 X 万元"), not the amount spent or received: an item's or a
    part's own amount is its 决算, so a budget beside it is never read as that amount."""
    label = label_of(model, number)
    return bool(_BUDGET_LABEL.search(label)) and "决算" not in label


def is_approximate(model: Model, number: Number) -> bool:
    return bool(_APPROX.search(_before(model, number, 6))) or model.paragraphs[
        number.paragraph
    ].text[number.end : number.end + 3].startswith(("以上", "左右", "多"))


def label_of(model: Model, number: Number, width: int = 30) -> str:
    """The words right before a number, back to the previous clause break."""
    text = model.paragraphs[number.paragraph].text[: number.start]
    text = re.sub(r"收\s*、\s*支", "收支", text)
    cut = max(text.rfind(c) for c in "，。；：:、,;（(") if text else -1
    label = text[cut + 1 :][-width:]
    label = re.sub(r"\s+", "", label)
    label = re.sub(
        r"^(?:\d{4}年度?|截至\d{4}年\d{1,2}月\d{1,2}日|本年度?(?!收入|支出)|全年)", "", label
    )
    return re.sub(r"(?:为|达到|达|是|共计)$", "", label)


def _money(numbers: list[Number]) -> list[Number]:
    return [n for n in numbers if n.is_money]


def _previous_sentence(model: Model, sentence: Sentence) -> Sentence | None:
    group = model.sentences[sentence.paragraph]
    for i, s in enumerate(group):
        if s.start == sentence.start:
            return group[i - 1] if i else None
    return None


def _common(a: str, b: str, size: int = 2) -> bool:
    stop = {"支出", "万元", "决算", "年度", "经费", "本年"}
    a, b = re.sub(r"[\s“”\"]", "", a), re.sub(r"[\s“”\"]", "", b)
    for i in range(len(a) - size + 1):
        piece = a[i : i + size]
        if piece in b and piece not in stop and not piece.isdigit():
            return True
    return False


# ---- 同比 -------------------------------------------------------------------------------------

_COMPARE_START = re.compile(
    r"与\s*(?:\d{4}\s*年度?|上年度?|去年)\s*相比|比\s*(?:\d{4}\s*年度?|上年度?|去年)|较\s*(?:\d{4}\s*年度?|上年度?|去年)"
)


def _yoy(model: Model, sentence: Sentence) -> list[YoY]:
    """One claim per comparison: a sentence may hold several, separated by ；."""
    text = model.paragraphs[sentence.paragraph].text
    numbers = model.numbers_in(sentence)
    claims = []
    offset = sentence.start
    for index, segment in enumerate(re.split(r"(?<=[；;])", sentence.text)):
        seg_start, seg_end = offset, offset + len(segment)
        offset = seg_end
        compare = _COMPARE_START.search(segment)
        if not compare:
            continue
        anchor = seg_start + compare.start()
        change = change_word = rate = rate_word = None
        for n in numbers:
            if not anchor <= n.start < seg_end:
                continue
            verb = _CHANGE_VERB.search(text[max(0, n.start - 8) : n.start])
            if not verb:
                continue
            if n.is_money and change is None:
                change, change_word = n, verb.group(1)
            elif n.is_percent and rate is None:
                rate, rate_word = n, verb.group(1)
        # "…减少 1.15 万元，其中：因公出国（境）费…与2019年度持平": 持平 of another subject
        said = segment[compare.start() :].split("其中")[0]
        flat = next((w for w in FLAT_WORDS if w in said), "")
        if change is None and rate is None and not flat:
            continue
        current, confident = None, False
        before = [
            n for n in _money(numbers) if seg_start <= n.start < anchor and not is_change(model, n)
        ]
        prior = None
        year = re.search(r"\d{4}", compare.group(0))
        if change is None and year and len(before) >= 2:
            # "2025年执行数为 X 万元，2026年预算安排 Y 万元，比2025年…增加 Z%": X is the prior
            dated = [n for n in before if year.group(0) + "年" in _clause(text, n.start)]
            if len(dated) == 1:
                prior = dated[0]
                before = [n for n in before if n is not prior]
        if before:
            current, confident = before[-1], True
        elif index == 0:
            previous = _previous_sentence(model, sentence)
            if previous is not None:
                candidates = [
                    n for n in _money(model.numbers_in(previous)) if not is_change(model, n)
                ]
                if candidates:
                    current = candidates[-1]
                    first = change or rate
                    stop = first.start if first is not None else anchor
                    subject = re.sub(r"[，,\s]|各$", "", text[seg_start + compare.end() : stop])
                    subject = _CHANGE_VERB.sub("", subject)
                    confident = _common(subject, label_of(model, current)) or (
                        not subject and len(candidates) == 1
                    )
        claims.append(
            YoY(
                sentence,
                current,
                confident,
                change,
                change_word or "",
                rate,
                rate_word or "",
                flat,
                prior,
            )
        )
    return claims


def _clause(text: str, end: int) -> str:
    """The words before `end` back to the previous clause break (，；。)."""
    cut = max(text.rfind(c, 0, end) for c in "，,；;。")
    return text[cut + 1 : end]


# ---- 占比 -------------------------------------------------------------------------------------

_SHARE = re.compile(r"占(?P<whole>[^，。；%\d]{0,30}?)(?:的|比重|比例)?(?:为|达到|达)?\s*$")


def _shares(model: Model, sentence: Sentence) -> list[Share]:
    text = model.paragraphs[sentence.paragraph].text
    numbers = model.numbers_in(sentence)
    out = []
    for n in numbers:
        if not n.is_percent:
            continue
        head = text[max(sentence.start, n.start - 40) : n.start]
        at = head.rfind("占")
        if at < 0:
            continue
        match = _SHARE.match(head[at:])
        if not match:
            continue
        share_at = n.start - len(head) + at
        whole_label = re.sub(r"\s+", "", match.group("whole") or "").removesuffix("的")
        clause_start = max(text.rfind(c, sentence.start, share_at) for c in "；;。")
        candidates = [
            m
            for m in numbers
            if (m.is_money or m.unit in ("辆", "人", "名", "个"))
            and clause_start < m.start < share_at
            and not is_change(model, m)
        ]
        if candidates:
            part = candidates[-1]
        elif share_at - sentence.start <= 2:
            previous = _previous_sentence(model, sentence)
            money = _money(model.numbers_in(previous)) if previous else []
            if not money:
                continue
            part = money[-1]
        else:
            continue
        whole, explicit = None, False
        if whole_label:
            whole = _find_whole(model, whole_label, sentence, part)
            explicit = whole is not None
        else:
            whole, explicit = _lead_total(model, sentence, part)
        out.append(Share(sentence, part, n, whole, whole_label, explicit))
    return out


_LEAD = re.compile(r"其中|主要用于|主要包括|构成|如下")
_LEAD_END = re.compile(rf"(?:{_LEAD.pattern})[^，。；\d]{{0,8}}[：:]\s*$")  # "…以下方面：" ends it


def _lead_total(model: Model, sentence: Sentence, part: Number) -> tuple[Number | None, bool]:
    """The whole of a share that names none ("…29.42 万元，占 9.55%"): the total before the
    list's lead ("…支出 307.82 万元，主要用于以下方面："), in the sentence or, for a list set out
    over the following lines or numbered paragraphs, before them in the same section. The whole
    counts as stated when the lead is in the sentence or ends its paragraph, the list right after."""
    here = model.paragraphs[sentence.paragraph]
    for index in range(sentence.paragraph, max(-1, sentence.paragraph - 12), -1):
        paragraph = model.paragraphs[index]
        if index != sentence.paragraph:
            if paragraph.section != here.section or paragraph.kind not in ("body", "heading"):
                return None, False
            if paragraph.kind == "heading" and (
                paragraph.numbering is None
                or paragraph.numbering.style not in (ARABIC, PAREN_ARABIC)
            ):
                return None, False
        end = part.start if index == sentence.paragraph else len(paragraph.text)
        leads = list(_LEAD.finditer(paragraph.text, 0, end))
        if not leads:
            continue
        lead_at = leads[-1].start()
        floor = max(paragraph.text.rfind(c, 0, lead_at) for c in "。；;")
        totals = [
            m
            for m in _money(model.numbers[index])
            if floor < m.start < lead_at
            and not is_change(model, m)
            and (m.unit == part.unit or part.is_money)
            and m is not part
        ]
        if not totals:
            return None, False
        in_sentence = index == sentence.paragraph and lead_at >= sentence.start
        stated = in_sentence or bool(_LEAD_END.search(paragraph.text))
        return totals[-1], stated
    return None, False


def _find_whole(model: Model, label: str, sentence: Sentence, part: Number) -> Number | None:
    key = re.sub(r"[\s“”\"]", "", label)
    paragraphs = [sentence.paragraph] + [
        i for i in range(len(model.paragraphs)) if i != sentence.paragraph
    ]
    for index in paragraphs:
        for n in model.numbers[index]:
            if n is part or not (n.is_money or n.unit == part.unit) or is_change(model, n):
                continue
            if n.unit != part.unit and not (n.is_money and part.is_money):
                continue
            found = label_of(model, n)
            if found.endswith(key) and "预算" not in found.replace("一般公共预算", ""):
                return n
    return None


# ---- 完成率 -----------------------------------------------------------------------------------

_RATE_WORDS = re.compile(
    r"(?:完成(?:年初|全年)?预算(?:数)?的?|完成率(?:为|达到|达)?|执行率(?:为|达到|达)?|预算完成度(?:达到|为|达)?)\s*$"
)
_ACTUAL = re.compile(
    r"(?:执行数|决算数|决算执行数|支出决算|决算|实际发放|实际支出|执行)(?:为|是)?\s*$"
)
_BUDGET = re.compile(
    r"(?:预算数|年初预算|全年预算|预算金额|预算资金|预算安排|预算)(?:数)?(?:为|是)?\s*$"
)


def _completions(model: Model, sentence: Sentence) -> list[Completion]:
    text = model.paragraphs[sentence.paragraph].text
    out = []
    numbers = model.numbers_in(sentence)
    for n in numbers:
        if not n.is_percent or not _RATE_WORDS.search(text[max(0, n.start - 12) : n.start]):
            continue
        pool = [m for m in _money(numbers) if m.start < n.start and not is_change(model, m)]
        previous = _previous_sentence(model, sentence)
        if previous is not None:
            pool = [m for m in _money(model.numbers_in(previous)) if not is_change(model, m)] + pool
        actual = budget = None
        named = re.search(r"完成(年初|全年)预算", text[max(0, n.start - 12) : n.start])
        basis = named.group(1) + "预算" if named else ""
        budget_named = False  # the budget found is the one the rate names
        for m in pool:
            before = text[max(0, m.start - 10) : m.start]
            if _ACTUAL.search(before):
                actual = m
            elif _BUDGET.search(before) and not budget_named:
                budget, budget_named = m, bool(basis) and basis in before
        if actual is None:
            same = [m for m in _money(numbers) if m.start < n.start and not is_change(model, m)]
            if same and same[-1] is not budget:
                actual = same[-1]
        out.append(Completion(sentence, actual, budget, n, basis[:2]))
    return out


# ---- 人均 -------------------------------------------------------------------------------------


def _per_capita(model: Model, sentence: Sentence) -> list[PerCapita]:
    text = model.paragraphs[sentence.paragraph].text
    numbers = model.numbers_in(sentence)
    out = []
    for n in numbers:
        if not n.is_money or "人均" not in text[max(sentence.start, n.start - 10) : n.start]:
            continue
        totals = [
            m
            for m in _money(numbers)
            if m.start < n.start
            and m is not n
            and not is_change(model, m)
            and "人均" not in text[max(0, m.start - 10) : m.start]
        ]
        counts = [m for m in numbers if m.unit in ("名", "人") and m.value > 0]
        if totals and counts:
            out.append(PerCapita(sentence, totals[-1], counts[0], n))
    return out


# ---- enumerations: a total and its parts -----------------------------------------------------

_EXHAUSTIVE_LABEL = re.compile(
    r"合计|总计|总额|基本支出|项目支出|决算数|支出决算|收入预算|支出预算|预算数|“三公”经费|三公经费|政府采购|车辆|"
    r"公务用车购置及运行(?:维护)?费|公务接待费|编制"
)


def _parts_after(model: Model, paragraph: int, start: int, end: int, total: Number) -> list[Number]:
    text = model.paragraphs[paragraph].text
    parts = []
    offset = start
    for segment in re.split(r"[；;、，,]", text[start:end]):
        seg_start, seg_end = offset, offset + len(segment)
        offset = seg_end + 1
        for n in model.numbers[paragraph]:
            if not seg_start <= n.start < seg_end:
                continue
            if n.unit != total.unit and not (n.is_money and total.is_money):
                continue
            if is_change(model, n) or is_approximate(model, n):
                continue
            parts.append(n)
            break
    return parts


_COUNT_TOTAL_UNITS = ("人", "名", "辆", "件", "户", "个", "万人", "人次", "批次")


def _is_increase(model: Model, total: Number) -> bool:
    """ "…，增加基本支出 X 万元。其中：…": X is a change; what follows lists the year's totals."""
    return bool(re.search(r"增加|减少|增长|下降", label_of(model, total)))


def _sentence_enumerations(model: Model, sentence: Sentence) -> list[Enumeration]:
    text = model.paragraphs[sentence.paragraph].text
    leads = [sentence.start + m.start() for m in re.finditer(r"其中", sentence.text)]
    out = []
    floor = sentence.start
    for i, lead_at in enumerate(leads):
        limit = leads[i + 1] if i + 1 < len(leads) else sentence.end
        if limit != sentence.end:
            cut = max(text.rfind(c, lead_at, limit) for c in "；;")
            limit = cut if cut > lead_at else max(text.rfind(c, lead_at, limit) for c in "，,")
        numbers = model.numbers_in(sentence)
        totals = [
            n
            for n in numbers
            if floor <= n.start < lead_at
            and (n.is_money or n.unit in _COUNT_TOTAL_UNITS)
            and not is_change(model, n)
            and not is_approximate(model, n)
        ]
        floor = limit
        if not totals:
            continue
        total = totals[-1]
        if _is_increase(model, total):
            continue
        body = re.match(r"其中[：:]?", text[lead_at:])
        parts = _parts_after(model, sentence.paragraph, lead_at + len(body.group(0)), limit, total)
        if not parts:
            continue
        label = label_of(model, total)
        exhaustive = bool(_EXHAUSTIVE_LABEL.search(label)) and len(parts) >= 2
        out.append(Enumeration(total, label, tuple(parts), exhaustive, (sentence.paragraph,)))
    return out


def _paragraph_enumerations(model: Model) -> list[Enumeration]:
    """'…决算数为 X 万元。其中：' followed by one paragraph per part."""
    out = []
    paragraphs = model.paragraphs
    for paragraph in paragraphs:
        if paragraph.kind != "body" or not re.search(r"其中[：:]\s*$", paragraph.text):
            continue
        numbers = [
            n
            for n in model.numbers[paragraph.index]
            if n.is_money and not is_change(model, n) and not is_approximate(model, n)
        ]
        if not numbers:
            continue
        total = numbers[-1]
        if _is_increase(model, total):
            continue
        budget = is_budget(model, total)  # the parts are of the same kind: all 决算 or all 预算
        parts, used = [], []
        style = None
        for following in paragraphs[paragraph.index + 1 : paragraph.index + 60]:
            if following.kind == "heading" and following.numbering is None:
                break
            if following.kind not in ("body", "heading"):
                break
            numbering = following.numbering
            if style is None:
                style = numbering.style if numbering else ""
            elif (numbering.style if numbering else "") != style:
                break
            if numbering and numbering.style not in (ARABIC, PAREN_ARABIC, PAREN_CHINESE):
                break
            # the part's figure comes early: within 80 characters of the start, or of the end
            # of the 类/款/项 name it follows (a long name and its 主要用于 come first)
            named = _ITEM.search(following.text)
            reach = (named.end() if named else 0) + 80
            money = [
                n
                for n in model.numbers[following.index]
                if n.is_money
                and not is_change(model, n)
                and is_budget(model, n) == budget
                and n.start <= reach
            ]
            if not money:
                break
            parts.append(money[0])
            used.append(following.index)
        if len(parts) >= 2:
            label = label_of(model, total)
            out.append(
                Enumeration(
                    total,
                    label,
                    tuple(parts),
                    bool(_EXHAUSTIVE_LABEL.search(label)),
                    (paragraph.index, *used),
                )
            )
    return out


# ---- items named by 类/款/项 -----------------------------------------------------------------

_ITEM = re.compile(
    r"(?P<cls>[^\s（(，。：:、；\d.“”\"]{2,20}?)\s*[（(]\s*(?:\d{3}\s*)?类\s*[)）]"
    r"\s*(?P<kuan>[^（(，。：:；]{2,30}?)\s*[（(]\s*(?:\d{2}\s*)?款\s*[)）]"
    r"\s*(?P<xiang>[^（(，。：:；]{2,40}?)\s*[（(]\s*(?:\d{2}\s*)?项\s*[)）]"
)


def class_key(name: str) -> str:
    return re.sub(r"\s+", "", name).removesuffix("支出")


def _items(model: Model, paragraph: Paragraph) -> list[Item]:
    out = []
    matches = list(_ITEM.finditer(paragraph.text))
    for index, match in enumerate(matches):
        after = matches[index + 1] if index + 1 < len(matches) else None
        # the item's figures follow its name, before the next item's name: close by, or past
        # its 主要用于 in a paragraph of its own ("…（项）。主要用于：…。全年预算为 X，支出决算为 Y")
        reach = 40 if after is not None else 120
        end = min(match.end() + reach, after.start() if after else len(paragraph.text))
        near = [
            n
            for n in model.numbers[paragraph.index]
            if n.is_money and match.end() <= n.start <= end and not is_change(model, n)
        ]
        # "…（项）。年初预算为 X 万元，支出决算为 Y 万元": the item's amount is Y
        spent = [n for n in near if not is_budget(model, n)]
        amount = (spent or near or [None])[0]
        out.append(
            Item(
                paragraph.index,
                match.group("cls").strip(),
                match.group("kuan").strip(),
                match.group("xiang").strip(),
                amount,
                match.start(),
                match.end(),
                bool(amount is not None and not spent),
            )
        )
    return out


# ---- named amounts: the same quantity wherever it is stated -----------------------------------

LABELS = (
    ("财政拨款收支总计", re.compile(r"财政拨款收支(?:决算)?总计各?$")),
    ("收支总计", re.compile(r"^(?:部门)?收支(?:决算)?总计各?$|^收入支出(?:决算)?总计$")),
    ("本年收入合计", re.compile(r"^本年收入合计$")),
    ("本年支出合计", re.compile(r"^本年支出合计$")),
    ("一般公共预算财政拨款基本支出", re.compile(r"一般公共预算财政拨款基本支出$")),
    ("一般公共预算财政拨款支出", re.compile(r"^一般公共预算(?:财政拨款)?支出(?:决算数?)?$")),
    ("基本支出", re.compile(r"^基本支出$")),
    ("项目支出", re.compile(r"^项目支出$")),
    ("人员经费", re.compile(r"^人员经费$")),
    ("公用经费", re.compile(r"^(?:日常)?公用经费$")),
    ("三公经费", re.compile(r"^“三公”经费(?:财政拨款)?支出(?:决算)?$")),
    ("机关运行经费", re.compile(r"机关运行经费(?:支出)?$")),
    ("政府采购", re.compile(r"政府采购支出总额$")),
)


def _labeled(model: Model) -> list[Labeled]:
    out = []
    for paragraph in model.paragraphs:
        if paragraph.kind != "body" or paragraph.scope:
            continue
        for n in model.numbers[paragraph.index]:
            if not n.is_money or is_change(model, n) or is_approximate(model, n):
                continue
            label = label_of(model, n)
            if re.search(r"年初预算|预算数|全年预算|上年|预算为", label):
                continue
            for key, pattern in LABELS:
                if pattern.search(label):
                    out.append(Labeled(key, n, label))
                    break
    return out


# ---- 政府采购 ------------------------------------------------------------------------------------


def labelled_figures(model: Model) -> list[tuple[Number, str]]:
    """Each figure of the body text with the words right before it, back to the previous figure
    or to the previous 。 or ；, read over the lines of one section: a sentence cut by a line or
    page break keeps its words."""
    out: list[tuple[Number, str]] = []
    group: list[Paragraph] = []
    for paragraph in [*model.paragraphs, None]:
        if (
            paragraph is not None
            and paragraph.kind == "body"
            and (not group or paragraph.section == group[-1].section)
        ):
            group.append(paragraph)
            continue
        text, floor = "", 0
        for member in group:
            offset = len(text)
            text += member.text
            for n in model.numbers[member.index]:
                start = offset + n.start
                cut = max(floor, *(text.rfind(c, 0, start) + 1 for c in "。；;"))
                out.append((n, re.sub(r"\s+", "", text[cut:start])))
                floor = offset + n.end
        group = [paragraph] if paragraph is not None and paragraph.kind == "body" else []
    return out


_SME_WON = re.compile(r"由中小企业(?:供应商)?中标")


def _procurement(model: Model) -> list[Procurement]:
    total = reserved = other = None
    for n, label in labelled_figures(model):
        if not n.is_money:
            continue
        if re.search(r"政府采购(?:支出)?总?(?:金额|总额)", label) and not re.search(
            r"预留|中标|成交|预算|货物|工程|服务", label
        ):
            total = n
        elif _SME_WON.search(label) and "预留" in label:
            reserved = n
        elif _SME_WON.search(label) and "其他政府采购项目" in label:
            other = n
    if total is None or reserved is None or other is None:
        return []
    return [Procurement(total, reserved, other)]


# ---- performance tables -----------------------------------------------------------------------


def _performance_rows(model: Model) -> list[PerfRow]:
    out = []
    for table in model.tables:
        if table.id != "performance":
            continue
        header = None
        for index, row in enumerate(table.grid_rows):
            cells = [c or "" for c in row]
            joined = "".join(cells)
            if "三级指标" in joined:
                header = index
                continue
            if header is None:
                continue
            values = [c for c in cells if c.strip()]
            if len(values) < 4:
                continue
            level1, level2, name, target, actual = (values + [""] * 5)[-5:]
            if len(values) >= 5:
                level1, level2, name, target, actual = values[-5:]
            else:
                level1, (level2, name, target, actual) = "", values[-4:]
            out.append(
                PerfRow(
                    table.scope,
                    table.index,
                    index,
                    level1,
                    level2,
                    name,
                    target,
                    actual,
                    table.places[index],
                )
            )
    return out


def cell_number(text: str) -> tuple[Decimal, int, str] | None:
    """'1.71 万元/人' → (1.71, 2, '万元/人'); '644' → (644, 0, ''); '<1%' → None."""
    match = re.fullmatch(r"\s*([\d,]+(?:\.\d+)?)\s*(万元/人|元/人|万元|元|%|人|名|个|次)?\s*", text)
    if not match:
        return None
    value = parse_decimal(match.group(1))
    if value is None:
        return None
    decimals = len(match.group(1).split(".")[1]) if "." in match.group(1) else 0
    return value, decimals, match.group(2) or ""


def table_of(model: Model, index: int) -> TableBlock:
    return model.tables[index]

"""Building sentences from facts: every number goes in as a Ref to a fact, never as typed text.

Direction words (增加/减少, 增长/下降, 持平) are chosen from the facts' numbers; a change beyond
the unit's threshold without a reason in the dataset is recorded as a WARNING naming the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from juesuan.document.model import Paragraph, Quote, Ref, Segment, Span
from juesuan.ledger.model import Dataset
from juesuan.narrative.facts import Facts
from juesuan.performance import PerformanceResult
from juesuan.rules.engine import FAIL, Outcome

Part = str | Ref | Quote


@dataclass
class Writer:
    dataset: Dataset
    facts: Facts
    warnings: list[Outcome] = field(default_factory=list)
    performance: PerformanceResult | None = None  # for 十（四）: the projects and their forms

    # ---- pieces ----

    def ref(self, key: str) -> Ref:
        return Ref(key, self.facts[key].text)

    def count(self, key: str) -> Ref | Quote:
        """A count the dataset should give (车辆, 批次, 人次…); when it does not, the text says so
        rather than print a 0 nobody reported, and a WARNING names what is missing."""
        if key in self.facts:
            return self.ref(key)
        name = key.removeprefix("事项.")
        self.warnings.append(
            Outcome(
                rule="narrative-missing-count",
                tier="WARNING",
                title="正文需要的数字未填报",
                status=FAIL,
                message=f"正文需要“{name}”，数据中没有，文中写作“未填报”",
                hint=f"在“其他事项”或“三公经费”表中填报“{name}”（没有就填 0）。",
                bindings={"fact": name},
            )
        )
        return Quote("（未填报）")

    def has(self, key: str) -> bool:
        return key in self.facts

    def zero(self, key: str) -> bool:
        return key not in self.facts or self.facts[key].value == 0

    def para(self, *parts: Part | list[Part], style: str = "body") -> Paragraph:
        segments: list[Segment] = []
        for part in parts:
            for piece in part if isinstance(part, list) else [part]:
                if isinstance(piece, (Ref, Quote)):
                    segments.append(piece)
                elif piece:
                    if segments and type(segments[-1]) is Span:  # not into a Quote
                        segments[-1] = Span(segments[-1].text + piece)
                    else:
                        segments.append(Span(piece))
        return Paragraph(tuple(segments), style=style, generated=True)

    def reason(self, kind: str, topic: str) -> str | None:
        text = self.dataset.reasons.get((kind, topic))
        return text.strip() if text and text.strip() else None

    # ---- year-over-year ----

    def changed_beyond_threshold(self, key: str) -> bool:
        rate = self.facts.get(f"{key}.变动率")
        threshold = self.dataset.unit.yoy_reason_threshold * 100
        return rate is not None and rate.value > threshold

    def yoy(
        self, key: str, subject: str, *, each: bool = False, compare_word: str = "同比"
    ) -> list[Part]:
        """与 2019 年相比，{subject}（各）减少 X 万元，同比下降 Y%。 / …没有变动。 (Sichuan wording)."""
        if not self.has(f"{key}.上年"):
            return []
        direction = self.facts.direction.get(key, 0)
        head: list[Part] = ["与 ", self.ref("上年度"), " 年相比，"]
        if direction == 0:
            return [*head, f"{subject}没有变动。"]
        verb, trend = ("增加", "增长") if direction > 0 else ("减少", "下降")
        parts: list[Part] = [
            *head,
            f"{subject}{'各' if each else ''}{verb} ",
            self.ref(f"{key}.变动"),
            " 万元",
        ]
        if self.has(f"{key}.变动率"):
            parts += [f"，{compare_word}{trend} ", self.ref(f"{key}.变动率"), "%"]
        return [*parts, "。"]

    def reason_sentence(
        self, key: str, sentence: list[Part], lead: str = "主要变动原因："
    ) -> list[Part]:
        """The reason for a change, or a WARNING naming the sentence when one is needed and missing;
        nothing when the text states no change (no last year's figure, or 持平)."""
        if not self.has(f"{key}.上年") or self.facts.direction.get(key, 0) == 0:
            return []
        text = self.reason("同比变动", key)
        if text:
            return [lead, Quote(f"{text.rstrip('。')}。")]
        if self.changed_beyond_threshold(key):
            self.warn("同比变动", key, f"句子“{self.para(sentence).text}”所述变动超过阈值")
        return []

    def warn(self, kind: str, topic: str, what: str) -> None:
        """A sentence states a change past the threshold and the dataset gives no reason for it."""
        rule = "narrative-yoy-reason" if kind == "同比变动" else "narrative-budget-reason"
        self.warnings.append(
            Outcome(
                rule=rule,
                tier="WARNING",
                title=f"{kind}超过阈值的句子须说明原因",
                status=FAIL,
                message=f"{what}，但数据中没有“{topic}”的{kind}原因",
                hint=f"在“变动原因”表中填一行：类型“{kind}”，事项“{topic}”。",
                bindings={"topic": topic},
            )
        )

    def completion(self, key: str, lead: str = "完成预算") -> list[Part]:
        if not self.has(f"{key}.完成率"):
            return []
        return [f"，{lead} ", self.ref(f"{key}.完成率"), "%"]

    def budget_reason(self, topic: str, key: str, sentence: list[Part]) -> list[Part]:
        """Why 决算 differs from budget, when it does beyond the threshold."""
        rate = self.facts.get(f"{key}.完成率")
        if rate is None or rate.value == 100:
            return []
        text = self.reason("预决算差异", topic)
        word = "大于" if rate.value > 100 else "小于"
        if text:
            return [f"决算数{word}预算数的主要原因：", Quote(f"{text.rstrip('。')}。")]
        threshold = self.dataset.unit.budget_reason_threshold * 100
        if abs(rate.value - 100) > threshold:
            self.warn(
                "预决算差异",
                topic,
                f"句子“{self.para(sentence).text}”所述决算数{word}预算数超过阈值",
            )
        return []


def share_of(writer: Writer, key: str) -> list[Part]:
    """，占 Y% — when the share exists."""
    if not writer.has(f"{key}.占比"):
        return []
    return ["，占 ", writer.ref(f"{key}.占比"), "%"]


def amount(writer: Writer, key: str) -> list[Part]:
    return [writer.ref(key), " 万元"]


ZERO = Decimal(0)

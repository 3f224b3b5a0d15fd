"""Building sentences from facts: every number goes in as a Ref to a fact, never as typed text.

Direction words (增加/减少, 增长/下降, 持平) are chosen from the facts' numbers; a change beyond
the unit's threshold without a reason in the dataset is recorded as a WARNING naming the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from juesuan.document.model import Paragraph, Quote, Ref, Segment, Span
from juesuan.ledger.model import Dataset
from juesuan.narrative.facts import Facts, format_number
from juesuan.performance import PerformanceResult
from juesuan.rules.engine import FAIL, Outcome

Part = str | Ref | Quote


@dataclass
class Writer:
    dataset: Dataset
    facts: Facts
    warnings: list[Outcome] = field(default_factory=list)
    performance: PerformanceResult | None = None  # for 十（四）: the projects and their forms
    percent_places: int | None = None  # the format's option (statements/options.py)

    # ---- pieces ----

    def ref(self, key: str) -> Ref:
        fact = self.facts[key]
        return Ref(key, format_number(fact.value, fact.unit, self.percent_places))

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


def amount(writer: Writer, key: str) -> list[Part]:
    return [writer.ref(key), " 万元"]

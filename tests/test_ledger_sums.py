"""The ledger answers from sums by the tags each question uses, exactly as from every line.

The reference below is the earlier way: one cube of sums by every tag, filtered per question,
whose cost grew with the number of distinct lines. Both must give the same numbers and the same
rule outcomes, on the example and on ledgers where nearly every line is distinct.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import polars as pl
import pytest

from juesuan.ledger.model import COMPACT_TAGS, SCHEMA, TAGS, Ledger
from juesuan.rules.engine import evaluate, load_ruleset
from juesuan.statements.build import build


class CubeLedger(Ledger):
    """Every question answered from the sums by all the tags at once."""

    __slots__ = ()

    def sums(self, *tags: str) -> pl.DataFrame:
        return super().sums(*TAGS)


def spread(dataset, units: int, cls=Ledger):
    """The example's lines, each given to one of `units` units: a consolidation's ledger."""
    frame = dataset.ledger.frame.with_columns(
        (pl.lit("单位") + (pl.int_range(pl.len()) % units).cast(pl.String)).alias("unit")
    )
    return replace(dataset, ledger=cls(frame))


def outcomes(dataset) -> list[dict]:
    statements = build(dataset, dataset.unit.format)
    return [o.as_dict() for o in evaluate(dataset, load_ruleset(dataset.unit.format), statements)]


@pytest.mark.parametrize("units", [1, 7, 100_000])
def test_rule_outcomes_are_those_of_the_cube(example, units):
    ours = spread(example, units)
    cube = spread(example, units, CubeLedger)
    if units > len(ours.ledger):  # every line its own unit: every line distinct
        assert ours.ledger.frame.select(TAGS).n_unique() == len(ours.ledger)
    got, expected = outcomes(ours), outcomes(cube)
    assert len(got) > 100
    assert got == expected


def random_ledger(rng: random.Random, lines: int) -> Ledger:
    """Lines whose tags are drawn from small pools, with empty tags, nearly all distinct."""
    pools = {
        "unit": [f"单位{i}" for i in range(lines)],
        "year": [2020],
        "direction": ["收入", "支出"],
        "phase": ["决算", "年初预算", "调整预算"],
        "fund": ["一般公共预算财政拨款", "事业收入", "其他收入"],
        "function_code": ["2080501", "2080502", "2089999", "2010101", "20805", None],
        "economic_code": ["30101", "30201", "30305", "302", None],
        "nature": ["人员经费", "公用经费", "项目支出", None],
        "project": ["项目甲", "项目乙", None],
    }
    rows = [
        {
            **{tag: rng.choice(pool) for tag, pool in pools.items()},
            "amount_fen": rng.randrange(-(10**6), 10**15),
            "note": None,
            "file": "spending.csv",
            "sheet": None,
            "row": n + 2,
        }
        for n in range(lines)
    ]
    return Ledger(pl.DataFrame(rows, schema=SCHEMA))


def random_where(rng: random.Random) -> dict:
    choices = {
        "phase": ["决算", ("决算", "年初预算")],
        "fund": ["事业收入", ("一般公共预算财政拨款", "其他收入")],
        "direction": ["支出"],
        "nature": ["人员经费", None, ("公用经费", "项目支出")],
        "project": ["项目甲", None],
        "function": ["208", "20805", "2080501", ("201", "2089")],
        "economic": ["302", "30101"],
        "unit": ["单位3"],
    }
    keys = rng.sample(sorted(choices), rng.randrange(0, 4))
    return {key: rng.choice(choices[key]) for key in keys}


def test_every_question_is_answered_as_from_every_line():
    rng = random.Random(18)
    ledger = random_ledger(rng, 3000)
    cube = CubeLedger(ledger.frame)
    for _ in range(300):
        where = random_where(rng)
        assert ledger.total(**where) == cube.total(**where), where
        assert ledger.count(**where) == cube.count(**where), where
        assert ledger.sum_by("fund", **where) == cube.sum_by("fund", **where), where
        assert ledger.sum_by(("phase", "nature"), **where) == cube.sum_by(
            ("phase", "nature"), **where
        )
        assert ledger.sum_by_code_level("function_code", 5, **where) == cube.sum_by_code_level(
            "function_code", 5, **where
        )
        assert ledger.values("economic_code", **where) == cube.values("economic_code", **where)
    # And the reference itself is right: one question checked against the lines one by one.
    direct = sum(
        line.amount
        for line in ledger.lines()
        if line.phase == "决算" and (line.function_code or "").startswith("208")
    )
    assert ledger.total(phase="决算", function="208") == direct != Decimal(0)


def test_questions_are_answered_from_sums_by_their_own_tags():
    ledger = random_ledger(random.Random(5), 2000)
    assert ledger.total(phase="决算", function="208") > 0
    assert ledger.count(fund="事业收入") > 0
    assert ledger.count(unit="单位7") <= 2000
    # Sums by the tags asked about, by every compact tag (which they were taken from), and by
    # unit from the lines: none but the last has a row per line.
    made = {tags: frame.height for tags, frame in ledger._sums.items()}
    compact = tuple(sorted(COMPACT_TAGS))
    assert made.keys() == {("function_code", "phase"), ("fund",), compact, ("unit",)}
    assert made[("function_code", "phase")] <= 3 * 6 and made[("fund",)] == 3
    assert made[compact] < 2000 < made[("unit",)] * 2


def test_an_unknown_tag_is_refused():
    with pytest.raises(KeyError, match="colour"):
        Ledger.empty().total(colour="红")
    with pytest.raises(KeyError, match="note"):
        Ledger.empty().values("note")


def test_unusual_questions_are_answered_as_from_every_line():
    """Prefixes of several lengths, a prefix and a code at once, lists holding None, the year:
    each as the reference answers it, or refused the same way."""
    ledger = random_ledger(random.Random(7), 1500)
    cube = CubeLedger(ledger.frame)
    for where in (
        {"function": ("208", "2010"), "phase": "决算"},
        {"function": "208", "function_code": "2080501"},
        {"economic": ()},
        {"nature": (None, "人员经费"), "project": None},
        {"year": 2020, "fund": ["事业收入"]},
    ):
        assert ledger.total(**where) == cube.total(**where), where
        assert ledger.count(**where) == cube.count(**where), where
        assert ledger.sum_by("nature", **where) == cube.sum_by("nature", **where), where
    assert ledger.count(function=("208", "2010")) > ledger.count(function="208") > 0
    with pytest.raises(pl.exceptions.ComputeError):
        ledger.total(year="2020")

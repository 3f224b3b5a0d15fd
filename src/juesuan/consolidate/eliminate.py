"""内部往来抵消: money moving between units of one department is counted once.

Two pairs: a unit's 对附属单位补助支出 is its subordinate's 上级补助收入, and a unit's 上缴上级支出
is its superior's 附属单位上缴收入. For each pair and phase the amount eliminated is
min(total paid, total received) — per function code when every line on both sides carries one,
otherwise in total. Both sides are reduced by negative offset lines that copy the tags of the lines
they offset (one offset line per unit and tag combination), so the ledger stays additive and the
eliminated amounts stay visible. Everything is polars group-bys; no per-line Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from juesuan.consolidate.report import Elimination, name_list, yuan
from juesuan.ledger.model import SCHEMA, TAGS
from juesuan.ledger.schema import FISCAL_FUNDS, INCOME, PHASES, SPENDING
from juesuan.money import from_fen

OFFSET_FILE = "汇总抵消"
NOTE_PREFIX = "汇总抵消："
_KEY = "_match"  # the function code a group is matched on, or "" when matched in total
_ORDER = ["phase", _KEY, "unit", "fund", "function_code", "economic_code", "nature", "project"]


@dataclass(frozen=True)
class Pair:
    nature: str  # the paying unit's 支出性质
    fund: str  # the receiving unit's 资金来源
    payer_is: str  # who pays, seen from the receiver
    receiver_is: str  # who receives, seen from the payer

    @property
    def name(self) -> str:
        return f"{self.nature}—{self.fund}"


PAIRS = (
    Pair("对附属单位补助支出", "上级补助收入", payer_is="上级单位", receiver_is="所属单位"),
    Pair("上缴上级支出", "附属单位上缴收入", payer_is="所属单位", receiver_is="上级单位"),
)


def eliminate(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Elimination], list[str], list[str]]:
    """Offset lines, eliminations, problems (unmatched amounts) and notes for a merged frame."""
    offsets: list[pl.DataFrame] = []
    eliminations: list[Elimination] = []
    problems: list[str] = []
    notes: list[str] = []
    # One pass over the merged lines picks every line either pair could touch; the direction is
    # checked on these few below, not compared on every line. Only the tags and amounts are
    # taken: a merged frame keeps its note and source columns in the units' pieces, and a filter
    # over columns cut differently would first copy them all into one piece.
    candidates = frame.select(*TAGS, "amount_fen").filter(
        pl.col("nature").is_in([p.nature for p in PAIRS])
        | pl.col("fund").is_in([p.fund for p in PAIRS])
    )
    for pair in PAIRS:
        paid = candidates.filter(
            (pl.col("direction") == SPENDING) & (pl.col("nature") == pair.nature)
        )
        received = candidates.filter(
            (pl.col("direction") == INCOME) & (pl.col("fund") == pair.fund)
        )
        if paid.is_empty() and received.is_empty():
            continue
        problems.extend(_fiscal_payments(pair, paid))
        by_code, in_total = _matching(paid, received)
        notes.extend(
            f"{pair.name}（{phase}）有明细未填功能分类科目编码，按合计抵消。" for phase in in_total
        )
        key = (
            pl.when(pl.col("phase").is_in(by_code))
            .then(pl.col("function_code"))
            .otherwise(pl.lit(""))
            .alias(_KEY)
        )
        paid = paid.with_columns(key)
        received = received.with_columns(key)
        groups = _groups(paid, received)
        for row in groups.iter_rows(named=True):
            record = Elimination(
                pair=pair.name,
                paid_nature=pair.nature,
                fund=pair.fund,
                phase=row["phase"],
                function_code=row[_KEY] or None,
                paid=from_fen(row["paid"]),
                received=from_fen(row["received"]),
                eliminated=from_fen(row["eliminated"]),
                payers=tuple(row["payers"] or ()),
                receivers=tuple(row["receivers"] or ()),
            )
            eliminations.append(record)
        matched = groups.select("phase", _KEY, "eliminated").filter(pl.col("eliminated") > 0)
        if matched.is_empty():
            continue
        offsets.append(
            _offsets(
                paid,
                matched,
                f"的{pair.nature}与{pair.receiver_is}的{pair.fund}相抵",
            )
        )
        offsets.append(
            _offsets(
                received,
                matched,
                f"的{pair.fund}与{pair.payer_is}的{pair.nature}相抵",
            )
        )
    rank = {phase: i for i, phase in enumerate(PHASES)}
    eliminations.sort(
        key=lambda e: (
            [p.name for p in PAIRS].index(e.pair),
            rank.get(e.phase, len(rank)),
            e.function_code or "",
        )
    )
    pairs = {pair.name: pair for pair in PAIRS}
    problems.extend(_unmatched(pairs[e.pair], e) for e in eliminations if e.unmatched)
    if not offsets:
        return pl.DataFrame(schema=SCHEMA), eliminations, problems, notes
    lines = pl.concat(offsets).with_row_index("_index")
    lines = lines.with_columns((pl.col("_index").cast(pl.Int64) + 2).alias("row")).select(
        [pl.col(c).cast(t) for c, t in SCHEMA.items()]
    )
    return lines, eliminations, problems, notes


def _fiscal_payments(pair: Pair, paid: pl.DataFrame) -> list[str]:
    """Internal payments booked to a 财政拨款 fund: eliminating them unbalances that fund.

    对附属单位补助支出 and 上缴上级支出 are paid from income other than 财政拨款; a subordinate
    funded by appropriation receives it as 财政拨款 itself, not as 上级补助收入.
    """
    fiscal = (
        paid.filter(pl.col("fund").is_in(list(FISCAL_FUNDS)))
        .group_by("phase", "fund")
        .agg(pl.col("amount_fen").sum(), pl.col("unit").unique().sort().alias("units"))
        .sort("phase", "fund")
    )
    return [
        f"{name_list(units)}的{pair.nature}中有 {yuan(from_fen(fen))} 元（{phase}）列在“{fund}”下；"
        f"{pair.nature}应使用财政拨款以外的资金，抵消后{fund}的收支将不再平衡，请核对资金来源。"
        for phase, fund, fen, units in fiscal.iter_rows()
    ]


def _matching(paid: pl.DataFrame, received: pl.DataFrame) -> tuple[list[str], list[str]]:
    """Phases matched per function code, and phases with both sides present matched in total."""

    def stats(side: pl.DataFrame) -> dict[str, int]:
        grouped = side.group_by("phase").agg(pl.col("function_code").null_count().alias("nulls"))
        return dict(grouped.iter_rows())

    paid_nulls, received_nulls = stats(paid), stats(received)
    by_code, in_total = [], []
    for phase in sorted(set(paid_nulls) & set(received_nulls)):
        if paid_nulls[phase] == 0 and received_nulls[phase] == 0:
            by_code.append(phase)
        else:
            in_total.append(phase)
    return by_code, in_total


def _groups(paid: pl.DataFrame, received: pl.DataFrame) -> pl.DataFrame:
    """Per (phase, match key): paid, received and eliminated 分, with the units on each side."""
    keys = ["phase", _KEY]
    paid_g = paid.group_by(keys).agg(
        pl.col("amount_fen").sum().alias("paid"),
        pl.col("unit").unique().sort().alias("payers"),
    )
    received_g = received.group_by(keys).agg(
        pl.col("amount_fen").sum().alias("received"),
        pl.col("unit").unique().sort().alias("receivers"),
    )
    groups = paid_g.join(received_g, on=keys, how="full", coalesce=True)
    return groups.with_columns(
        pl.col("paid").fill_null(0),
        pl.col("received").fill_null(0),
    ).with_columns(
        pl.min_horizontal("paid", "received").clip(lower_bound=0).alias("eliminated"),
    )


def _offsets(side: pl.DataFrame, matched: pl.DataFrame, note_tail: str) -> pl.DataFrame:
    """Negative lines taking `eliminated` off one side of each group, unit by unit in tag order.

    Lines are first summed per unit and tag combination; the eliminated amount is then taken from
    them in a fixed order (unit, fund, codes, nature, project), each giving at most its own
    positive amount, so the offsets add up to exactly the eliminated amount.
    """
    keys = ["phase", _KEY]
    lines = (
        side.group_by([_KEY, *TAGS])
        .agg(pl.col("amount_fen").sum())
        .join(matched, on=keys, how="inner")
        .sort(_ORDER, nulls_last=True)
    )
    positive = pl.col("amount_fen").clip(lower_bound=0)
    taken_before = positive.cum_sum().over(keys) - positive
    offset = pl.min_horizontal(positive, pl.col("eliminated") - taken_before).clip(lower_bound=0)
    lines = lines.with_columns(offset.alias("_offset")).filter(pl.col("_offset") > 0)
    return lines.select(
        *TAGS,
        (-pl.col("_offset")).alias("amount_fen"),
        pl.concat_str(pl.lit(NOTE_PREFIX), pl.col("unit"), pl.lit(note_tail)).alias("note"),
        pl.lit(OFFSET_FILE).alias("file"),
        pl.lit(None, pl.String).alias("sheet"),
        pl.lit(None, pl.Int64).alias("row"),
    )


def _unmatched(pair: Pair, e: Elimination) -> str:
    """The sentence for a group whose two sides differ."""
    return (
        f"{pair.name}（{e.scope}）两边不相等：支付方（{name_list(e.payers)}）{pair.nature}合计 "
        f"{yuan(e.paid)} 元，收到方（{name_list(e.receivers)}）{pair.fund}合计 {yuan(e.received)} 元；"
        f"已抵消 {yuan(e.eliminated)} 元，未匹配 {yuan(e.unmatched)} 元，"
        "请核对双方账务或是否有单位未纳入汇总。"
    )

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juesuan.money import (
    AmountError,
    from_fen,
    parse_yuan,
    percent,
    round_preserving_total,
    to_fen,
    wan,
)

yuan = st.integers(min_value=-(10**12), max_value=10**12).map(lambda fen: Decimal(fen) / 100)
positive_yuan = st.integers(min_value=0, max_value=10**12).map(lambda fen: Decimal(fen) / 100)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.56", Decimal("1234.56")),
        ("1,234.5", Decimal("1234.50")),
        ("-12", Decimal("-12.00")),
        ("１２３．４", Decimal("123.40")),
        (1234.5, Decimal("1234.50")),
        (7, Decimal("7.00")),
    ],
)
def test_parse_yuan_accepts_amounts(text, expected):
    assert parse_yuan(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("12万", "单位"),
        ("100元", "单位"),
        ("12.345", "两位小数"),
        ("abc", "不是金额"),
        ("", "为空"),
        ("5%", "单位"),
    ],
)
def test_parse_yuan_rejects_with_reason(text, words):
    with pytest.raises(AmountError, match=words):
        parse_yuan(text)


def test_wan_rounds_half_up():
    assert wan(Decimal("5000.00")) == Decimal("0.50")
    assert wan(Decimal("50.00")) == Decimal("0.01")  # 0.005 rounds up, not to even
    assert wan(Decimal("49.99")) == Decimal("0.00")
    assert wan(Decimal("56860900.00")) == Decimal("5686.09")


def test_percent_from_yuan_and_zero_denominator():
    assert percent(Decimal("11473"), Decimal("17373")) == Decimal("66.04")
    assert percent(Decimal("1"), Decimal("0")) is None


@given(yuan)
def test_fen_round_trip(amount):
    assert from_fen(to_fen(amount)) == amount


@given(st.lists(positive_yuan, min_size=1, max_size=30))
def test_rounded_parts_add_up_to_rounded_total(parts):
    shown, adjustments = round_preserving_total(parts)
    assert sum(shown) == sum(parts).quantize(Decimal("0.01"))
    # Each displayed part is within one cent of its own rounding, and every move is recorded.
    moved = {a.index for a in adjustments}
    for i, (part, value) in enumerate(zip(parts, shown, strict=True)):
        assert abs(value - part) < Decimal("0.01") + Decimal("0.005")
        assert (i in moved) == (value != part.quantize(Decimal("0.01")))


@given(st.lists(st.integers(min_value=0, max_value=10**10), min_size=1, max_size=30))
def test_wan_display_balances(fens):
    """Parts in 元 shown in 万元: 舍位平衡 makes the shown parts add to the shown total."""
    parts_yuan = [Decimal(f) / 100 for f in fens]
    parts_wan = [p / 10000 for p in parts_yuan]
    shown, adjustments = round_preserving_total(parts_wan)
    assert sum(shown) == wan(sum(parts_yuan))
    assert len(adjustments) <= len(parts_wan) // 2 + 1


def test_adjustment_goes_to_largest_remainder():
    parts = [Decimal("0.334"), Decimal("0.333"), Decimal("0.333")]
    shown, adjustments = round_preserving_total(parts)
    assert shown == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]
    assert [(a.index, a.rounded, a.shown) for a in adjustments] == [
        (0, Decimal("0.33"), Decimal("0.34"))
    ]


def test_total_far_from_parts_is_refused():
    with pytest.raises(ValueError, match="超出舍位误差"):
        round_preserving_total([Decimal("1.00"), Decimal("2.00")], total=Decimal("10.00"))

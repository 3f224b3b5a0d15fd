"""Hostile and broken documents given to the audit: each is refused (or its part set aside) with
a one-line reason naming the file and the limit, within the limits of memory and time, never a
traceback. Each document is generated here, small."""

from __future__ import annotations

import time
from decimal import Decimal

from juesuan.audit import audit_text
from juesuan.audit.findings import rounded, show

FORTY = "1234567890123456789012345678901234567890"


# ---- numbers ------------------------------------------------------------------------------------


def test_rounding_a_number_of_forty_digits_does_not_fail():
    assert rounded(Decimal(FORTY + ".125"), 2) == Decimal(FORTY + ".13")
    assert show(Decimal(FORTY + "0000"), 3) == FORTY + "0000.000"


def test_a_forty_digit_figure_is_set_aside_with_a_reason_not_checked():
    text = (
        "一、收入支出决算总体情况说明\n"
        f"2020年度支出总计100.00万元，其中：基本支出{FORTY}.12万元，项目支出5.00万元。\n"
    )
    report = audit_text(text, "forty.txt")
    assert report.readable
    set_aside = [u for u in report.unresolved if FORTY[:12] in u.reason]
    assert len(set_aside) == 1 and "第2行" in set_aside[0].where
    assert "42 位" in set_aside[0].reason and "20 位" in set_aside[0].reason
    # the other figures are still read: the two remaining parts do not make the total
    assert not any(FORTY[:12] in str(f.as_dict()) for f in report.findings)


def test_a_class_with_many_items_is_summed_in_one_pass():
    # the sum's rounding range was taken over every corner of its parts: 2^30 sums for 30 items
    items = "\n\n".join(
        f"{i}. 社会保障和就业支出（类）行政事业单位养老支出（款）项目{i}（项）：支出决算为1.00万元。"
        for i in range(1, 31)
    )
    text = (
        "2020 年一般公共预算财政拨款支出 31.00 万元，主要用于以下方面：社会保障和就业（类）支出"
        f" 31.00 万元，占 100%。\n\n2020年一般公共预算支出决算数为31.00万元。其中：\n\n{items}"
    )
    started = time.monotonic()
    report = audit_text(text, "items.txt")
    assert time.monotonic() - started < 30
    (finding,) = [f for f in report.findings if f.rule == "text-items-class"]
    assert (finding.expected, finding.actual) == ("31.00万元", "30.00万元")

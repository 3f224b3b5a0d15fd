"""Hostile and broken documents given to the audit: each is refused (or its part set aside) with
a one-line reason naming the file and the limit, within the limits of memory and time, never a
traceback. Each document is generated here, small."""

from __future__ import annotations

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

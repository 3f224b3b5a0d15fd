"""The bank's day on imported results: stored per payment as the file gives it, never the day
of the import; without it the statistics pages say 无银行到账日期 instead of a rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from juesuan.disbursement import model as core
from juesuan.disbursement.banks import PAID, RETURNED, BatchHeader, Outcome, get_adapter
from juesuan.disbursement.banks import write_results as bank_writes
from juesuan.web.disbursement import services
from juesuan.web.disbursement.models import Payment, Run
from web.test_disbursement_support import approved_run

pytestmark = pytest.mark.django_db(transaction=True)
MARCH = core.Month(2020, 3)


@pytest.fixture
def approved(world, tmp_path) -> Run:
    """An approved March run; QYJS (6 people) is paid by the 10th of the month."""
    return approved_run(world, tmp_path, MARCH, people=12)


def _answer(world, run: Run, tmp_path, adapter_id: str, name: str, days: list[date | None]):
    """QYJS answered: the last payment returned, the others paid on `days`."""
    qyjs = list(Payment.objects.filter(run=run, scheme__code="QYJS").order_by("person_id"))
    rows = [
        Outcome(p.reference, p.amount, PAID, paid_on=day)
        for p, day in zip(qyjs[:-1], days, strict=True)
    ]
    rows.append(Outcome(qyjs[-1].reference, qyjs[-1].amount, RETURNED, "AC01"))
    header = BatchHeader("单位", "1", "银行", "U", "B1", "QYJS", MARCH, MARCH.first_day())
    path = tmp_path / name
    assert bank_writes(get_adapter(adapter_id), header, rows, path).ok
    outcome = services.import_results(world.unit, world.users["clerk"], path, adapter_id=adapter_id)
    assert outcome.ok and outcome.data["paid"] == len(days), outcome.message
    return qyjs


def _qyjs_figures(world):
    return next(f for f in services.monthly_figures(world.unit, MARCH) if f.scheme == "QYJS")


def _stats_page(client, world) -> str:
    client.force_login(world.users["finance"])
    page = client.get(reverse("pay:stats", args=[world.unit.pk]), {"year": "2020"})
    assert page.status_code == 200
    return page.content.decode()


def test_each_payment_keeps_the_day_the_bank_gave(world, approved, tmp_path, client):
    on_time, late = date(2020, 3, 9), date(2020, 3, 12)  # QYJS is paid by the 10th
    days = [on_time, on_time, on_time, late, on_time]
    qyjs = _answer(world, approved, tmp_path, "generic-csv", "dated.csv", days)
    stored = {p.pk: p.paid_on for p in Payment.objects.filter(run=approved, scheme__code="QYJS")}
    assert [stored[p.pk] for p in qyjs] == [*days, None]
    figures = _qyjs_figures(world)
    # 4 of 6 payments made were paid by the 10th (one late, one returned)
    assert (figures.on_time, figures.payments, figures.undated) == (4, 6, 0)
    assert figures.on_time_unknown == "" and round(figures.on_time_rate, 2) == Decimal("66.67")
    assert "66.67%" in _stats_page(client, world)


def test_a_format_without_a_paid_date_says_so_instead_of_a_rate(world, approved, tmp_path, client):
    _answer(world, approved, tmp_path, "fixed-txt", "undated.ret", [None] * 5)
    paid = Payment.objects.filter(run=approved, scheme__code="QYJS", status=core.PAID)
    assert paid.count() == 5 and not paid.filter(paid_on__isnull=False).exists()
    figures = _qyjs_figures(world)
    assert figures.undated == 5 and figures.on_time_rate is None
    assert figures.on_time_unknown == "无银行到账日期"
    page = _stats_page(client, world)
    row = page.split("<td>企业教师生活补贴</td>", 1)[1].split("</tr>", 1)[0]
    assert row.endswith('<td class="num"><span class="muted">无银行到账日期</span></td>')

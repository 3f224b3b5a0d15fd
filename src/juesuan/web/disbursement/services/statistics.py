"""A unit's disbursement figures read from the database: per scheme and month or year
(`juesuan.disbursement.statistics.Figures`), and the monthly fund request.

The meaning is the engine's (`disbursement.statistics.monthly_figures`, `yearly_figures`,
`fund_request` over the stored payments); here each is one aggregate query grouped by scheme,
so a month of hundreds of thousands of payments is counted by the database, not read into
Python. tests/web/test_disbursement_statistics.py compares both over random states.
"""

from __future__ import annotations

import calendar
from datetime import date

from django.db.models import Case, Count, DateField, Q, QuerySet, Sum, Value, When

from juesuan.disbursement import model as core
from juesuan.disbursement import statistics
from juesuan.web.accounts.models import Unit
from juesuan.web.disbursement.models import Payment, Scheme

# Statuses as the engine groups them: sent to the bank (发放人次), and returned by it.
_MADE = statistics.MADE
_RETURNED = (core.RETURNED, core.REISSUED, core.CANCELLED)


def unit_schemes(unit: Unit) -> dict[str, core.Scheme]:
    rows = Scheme.objects.filter(unit=unit).prefetch_related("standards")
    return {s.code: s.as_core() for s in rows}


def monthly_figures(unit: Unit, month: core.Month) -> list[statistics.Figures]:
    found = Payment.objects.filter(unit=unit, month=str(month))
    return _figures(unit, found, str(month), [month])


def yearly_figures(unit: Unit, year: int) -> list[statistics.Figures]:
    found = Payment.objects.filter(
        unit=unit, month__gte=f"{year:04d}-01", month__lte=f"{year:04d}-12"
    )
    months = [core.Month(year, number) for number in range(1, 13)]
    return _figures(unit, found, f"{year:04d}", months)


def fund_request(unit: Unit, month: core.Month) -> list[statistics.FundRequestLine]:
    """Per scheme: the month's regular payments (sequence 1) prepared or approved."""
    sums = {
        row["scheme_id"]: row
        for row in Payment.objects.filter(unit=unit, month=str(month), sequence=1)
        .exclude(status=core.WITHDRAWN)
        .order_by()
        .values("scheme_id")
        .annotate(
            persons=Count("person_id", distinct=True),
            payments=Count("id"),
            amount=Sum("amount"),
        )
    }
    lines = []
    for scheme in Scheme.objects.filter(unit=unit):
        row = sums.get(scheme.pk, {})
        lines.append(
            statistics.FundRequestLine(
                scheme.code,
                scheme.name,
                scheme.project or scheme.name,  # core.Scheme.project_name
                int(row.get("persons") or 0),
                int(row.get("payments") or 0),
                int(row.get("amount") or 0),
            )
        )
    return lines


def ledger_postings(unit: Unit, year: int) -> list[dict[str, str]]:
    """The year's ledger spending lines for paid amounts (`statistics.ledger_postings`): one per
    scheme per month, from each month's figures counted here."""
    months = [core.Month(year, number) for number in range(1, 13)]
    monthly = {month: monthly_figures(unit, month) for month in months}
    return statistics.postings_from_figures(monthly, unit_schemes(unit), year)


def _figures(
    unit: Unit, found: QuerySet, period: str, months: list[core.Month]
) -> list[statistics.Figures]:
    """One GROUP BY scheme over the period's payments. On time compares the paid date with a
    cut-off that depends on the scheme and the payment's month; the cut-offs (at most 12 per
    scheme) go into the query as a CASE."""
    schemes = list(Scheme.objects.filter(unit=unit))
    cutoff = Case(
        *(
            When(scheme_id=scheme.pk, month=str(month), then=Value(_cutoff(month, scheme)))
            for scheme in schemes
            for month in months
        ),
        default=None,
        output_field=DateField(),
    )
    paid = Q(status=core.PAID)
    sums = {
        row["scheme_id"]: row
        # order_by(): the model's ordering would join runs and units into the query
        for row in found.order_by()
        .values("scheme_id")
        .annotate(
            persons=Count("person_id", distinct=True, filter=paid),
            payments=Count("id", filter=Q(status__in=_MADE)),
            amount=Sum("amount", filter=paid),
            returned=Count("id", filter=Q(status__in=_RETURNED)),
            on_time=Count("id", filter=paid & Q(paid_on__lte=cutoff)),
            undated=Count("id", filter=paid & Q(paid_on__isnull=True)),
        )
    }
    figures = []
    for scheme in schemes:
        row = sums.get(scheme.pk, {})
        figures.append(
            statistics.Figures(
                scheme=scheme.code,
                period=period,
                **{
                    name: int(row.get(name) or 0)
                    for name in (
                        "persons",
                        "payments",
                        "amount",
                        "returned",
                        "on_time",
                        "undated",
                    )
                },
            )
        )
    return figures


def _cutoff(month: core.Month, scheme: Scheme) -> date:
    """The scheme's payment day in `month`; a day past the month's end is its last day (as in
    the engine's `statistics._on_time`)."""
    last = calendar.monthrange(month.year, month.month)[1]
    return date(month.year, month.month, min(scheme.payment_day, last))

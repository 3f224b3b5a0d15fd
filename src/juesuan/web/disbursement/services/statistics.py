"""A unit's disbursement figures read from the database: per scheme and month or year
(`juesuan.disbursement.statistics.Figures`), and the monthly fund request."""

from __future__ import annotations

from juesuan.disbursement import model as core
from juesuan.disbursement import statistics
from juesuan.web.accounts.models import Unit
from juesuan.web.disbursement.models import Scheme
from juesuan.web.disbursement.services.balance import stored_payments


def unit_schemes(unit: Unit) -> dict[str, core.Scheme]:
    rows = Scheme.objects.filter(unit=unit).prefetch_related("standards")
    return {s.code: s.as_core() for s in rows}


def monthly_figures(unit: Unit, month: core.Month) -> list[statistics.Figures]:
    return statistics.monthly_figures(stored_payments(unit, str(month)), unit_schemes(unit), month)


def yearly_figures(unit: Unit, year: int) -> list[statistics.Figures]:
    return statistics.yearly_figures(stored_payments(unit, f"{year:04d}"), unit_schemes(unit), year)


def fund_request(unit: Unit, month: core.Month) -> list[statistics.FundRequestLine]:
    return statistics.fund_request(stored_payments(unit, str(month)), unit_schemes(unit), month)

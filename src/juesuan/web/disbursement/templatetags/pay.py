"""Filters of the disbursement pages: 分 as 元, rates, masked identities and accounts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

from juesuan.disbursement.model import EVENT_NAMES, STATUS_NAMES
from juesuan.web.audit.masking import mask_account, mask_id_number
from juesuan.web.disbursement.services import yuan

register = template.Library()


@register.filter
def fen(value) -> str:
    """Integer 分 as 元 with thousands separators: 123456 → 1,234.56."""
    if value is None or value == "":
        return ""
    return yuan(int(value))


@register.filter
def rate(value) -> str:
    """A Decimal percentage with two places; — when there is none."""
    if value is None:
        return "—"
    return f"{Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


@register.filter
def person(value, access=None) -> str:
    """公民身份号码, masked unless the viewer's role works with it."""
    if access is not None and getattr(access, "can_see_personal_data", False):
        return value or ""
    return mask_id_number(value)


@register.filter
def account(value, access=None) -> str:
    if access is not None and getattr(access, "can_see_personal_data", False):
        return value or ""
    return mask_account(value)


@register.filter
def status_name(value) -> str:
    return STATUS_NAMES.get(value, value)


@register.filter
def event_name(value) -> str:
    return EVENT_NAMES.get(value, value)


@register.filter
def any_has(rows, key) -> bool:
    """Whether any row (a dict) has a value under `key`: a column shown only when used."""
    return any(isinstance(row, dict) and row.get(key) for row in rows or ())

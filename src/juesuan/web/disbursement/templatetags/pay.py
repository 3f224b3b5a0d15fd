"""Filters of the disbursement pages: 分 as 元, rates, masked identities and accounts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

from juesuan.disbursement.model import EVENT_NAMES, PENDING, PREPARED, STATUS_NAMES
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
def person(value, _access=None) -> str:
    """公民身份号码, masked: lists never show it in full (the person's page does, on request,
    to the roles that work with it, and logs each look)."""
    return mask_id_number(value)


@register.filter
def account(value, _access=None) -> str:
    """A bank account number, masked (as `person`)."""
    return mask_account(value)


@register.filter
def status_name(value) -> str:
    return STATUS_NAMES.get(value, value)


def status_names_in(run) -> dict[str, str]:
    """The payment statuses' names as `run` stands: a payment not yet approved waits for 复核
    while its run does, and for 审批 after."""
    if run.step == PREPARED:
        return {**STATUS_NAMES, PENDING: "待复核"}
    return STATUS_NAMES


@register.filter
def status_in(payment, run) -> str:
    """A payment's status as its run stands (`status_names_in`)."""
    return status_names_in(run).get(payment.status, payment.status)


@register.filter
def event_name(value) -> str:
    return EVENT_NAMES.get(value, value)


@register.filter
def any_has(rows, key) -> bool:
    """Whether any row (a dict) has a value under `key`: a column shown only when used."""
    return any(isinstance(row, dict) and row.get(key) for row in rows or ())

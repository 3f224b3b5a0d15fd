"""Filters for amounts, names and masking."""

from __future__ import annotations

from decimal import Decimal

from django import template

from juesuan.rules.engine import STATUS_NAMES, TIER_NAMES
from juesuan.web.accounts.models import ROLE_NAMES
from juesuan.web.audit.log import ACTION_NAMES
from juesuan.web.audit.masking import mask_text

register = template.Library()

ROLE_LABELS = {
    "tables": "公开附表（Excel）",
    "document-docx": "公开文本（Word）",
    "document-pdf": "公开文本（PDF）",
    "html": "网页版（单个文件）",
    "figures": "图表",
    "checks": "审核结果（JSON）",
}


@register.filter
def yuan(value) -> str:
    """Decimal 元 as 1,234,567.89."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"


@register.filter
def tier_name(tier: str) -> str:
    return TIER_NAMES.get(tier, tier)


@register.filter
def status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


@register.filter
def role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role)


@register.filter
def action_name(action: str) -> str:
    return ACTION_NAMES.get(action, action)


@register.filter
def output_role(role: str) -> str:
    return ROLE_LABELS.get(role, role)


@register.filter
def short(sha: str) -> str:
    return (sha or "")[:12]


@register.filter
def filesize(size) -> str:
    size = int(size or 0)
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@register.filter
def masked(value, access=None) -> str:
    """Personal data masked unless the viewer's role needs it ({{ text|masked:access }})."""
    if access is not None and getattr(access, "can_see_personal_data", False):
        return value
    return mask_text(value if value is None else str(value))


@register.filter
def get(mapping, key):
    if mapping is None:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        return None

"""Filters for amounts, names and masking."""

from __future__ import annotations

import functools
from decimal import Decimal

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.template.loader import get_template
from django.urls import get_script_prefix, reverse
from django.utils.safestring import mark_safe

from juesuan.rules.engine import STATUS_NAMES, TIER_NAMES
from juesuan.rules.expr import Value
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


MONEY_UNITS = ("元", "万元")


def _number(amount: Decimal, unit: str) -> str:
    if unit in MONEY_UNITS or unit == "%":
        return f"{Decimal(amount):,.2f}"
    # counts and other units (人, 笔, 个月): the number as it is, without padding zeros
    return f"{Decimal(amount).normalize():,f}"


@register.filter
def quantity(value) -> str:
    """A rule's value with its unit: 1,234.56元, 12.34%, 841人 (never 841.00人)."""
    if isinstance(value, Value):
        return _number(value.amount, value.unit) + value.unit
    if value is None or value == "":
        return ""
    return _number(Decimal(value), "")


@register.filter
def difference(outcome) -> str:
    """actual − expected of an outcome, in the actual value's unit."""
    found = outcome.difference
    if found is None:
        return ""
    unit = outcome.actual.unit
    return _number(found, unit) + unit


@register.filter
def topic_label(topic: str, year=None) -> str:
    """A reason's topic as people read it: a 功能分类 code gets its name
    ("2089999 其他社会保障和就业支出"); other topics (收支总计, 三公经费) are shown as they are."""
    from juesuan.web.workplace.analysis import code_label

    text = str(topic or "")
    if text.isdigit() and len(text) in (3, 5, 7) and year:
        return code_label(text, "function", int(year))
    return text


@register.filter
def format_title(name: str) -> str:
    """A disclosure format's Chinese name instead of its folder name (sichuan-2020)."""
    from juesuan.web.workplace.pages import format_title as title

    return title(name) if name else ""


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


@functools.lru_cache(maxsize=4096)
def _reversed(prefix: str, name: str, args: tuple) -> str:
    return reverse(name, args=args)


@register.simple_tag
def link(name: str, *args) -> str:
    """{% url %} remembered: the navigation drawn on every page asks for the same few URLs, and
    reversing one costs more than the lookup (the key includes the script prefix the URL
    depends on; the URL patterns do not change while the process runs)."""
    return _reversed(get_script_prefix(), name, tuple(args))


# ---- the frame of every page, drawn once per process for what it shows --------------------------

FRAGMENTS_KEPT = 4096  # drawn fragments remembered per process; all forgotten when full
_drawn: dict[tuple, str] = {}


def _drawn_once(key: tuple, name: str, values: dict) -> str:
    """The template `name` drawn with `values`, remembered under `key`, which names every value
    the template shows (and the script prefix its links depend on). Templates do not change
    while the process runs, and the values are what the key says, so a kept drawing is the one
    drawing it again would give."""
    found = _drawn.get(key)
    if found is None:
        found = get_template(name).render(values)
        if len(_drawn) >= FRAGMENTS_KEPT:
            _drawn.clear()
        _drawn[key] = found
    return found


def _typed(value) -> tuple:
    return (type(value), value)  # 2020 and 2020.0 are equal keys but drawn differently


@register.simple_tag(takes_context=True)
def unit_header(context) -> str:
    """_unit_header.html (breadcrumbs, the unit's name and year, the viewer's roles, the tabs)."""
    unit, access = context.get("unit"), context.get("access")
    year, tab = context.get("year"), context.get("tab")
    parent = unit.parent
    opens_parent = bool(access.opens_parent) if access is not None else False
    roles = tuple(access.role_names) if access is not None else ()
    key = (
        "unit_header",
        get_script_prefix(),
        unit.pk,
        unit.name,
        (parent.pk, parent.name) if parent is not None else None,
        opens_parent,
        roles,
        _typed(year),
        _typed(tab),
    )
    values = {
        "unit": unit,
        "access": {"opens_parent": opens_parent, "role_names": roles},
        "year": year,
        "tab": tab,
    }
    return _drawn_once(key, "juesuan/_unit_header.html", values)


@register.simple_tag(takes_context=True)
def top_bar(context) -> str:
    """_topbar.html (the app's name, the signed-in user and their links), its sign-out form's
    CSRF field drawn for each request as {% csrf_token %} would draw it there."""
    from juesuan.web.workplace.pages import CSRF_SLOT_TOKEN, csrf_slot

    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    shown = (
        (bool(user.is_administrator), str(user), user.display_name, user.username)
        if signed_in
        else ()
    )
    app_title = context.get("app_title")
    key = ("top_bar", get_script_prefix(), _typed(app_title), signed_in, shown)
    values = {"user": user, "app_title": app_title, "csrf_token": CSRF_SLOT_TOKEN}
    drawn = _drawn_once(key, "juesuan/_topbar.html", values)
    slot = csrf_slot()
    if slot in drawn:
        drawn = mark_safe(drawn.replace(slot, CsrfTokenNode().render(context)))
    return drawn

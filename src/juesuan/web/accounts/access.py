"""Who may see and do what on which unit.

A user's roles on a unit are the roles granted on that unit itself, plus 财政局 granted on any
unit above it (a finance bureau sees its 部门's whole subtree). Every unit page names the
capability it needs; a unit the user holds no role on is answered with 404 (its existence is not
disclosed), a unit the user holds a role on but not the capability with 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from juesuan.web.accounts.models import (
    APPROVER,
    BUREAU,
    CLERK,
    FINANCE,
    REVIEWER,
    ROLE_NAMES,
    Grant,
    Unit,
    User,
)
from juesuan.web.sql import Columns, rows

VIEW, EDIT, BUILD, DOWNLOAD, APPROVE, CONSOLIDATE, PERSONAL_DATA = (
    "view",
    "edit",
    "build",
    "download",
    "approve",
    "consolidate",
    "personal_data",
)
CAPABILITY_NAMES = {
    VIEW: "查看",
    EDIT: "导入数据、修改文字",
    BUILD: "生成公开包",
    DOWNLOAD: "下载",
    APPROVE: "审批公开包",
    CONSOLIDATE: "汇总",
    PERSONAL_DATA: "查看完整的个人信息",
}

# 代发 (benefit disbursement): see the pages; 经办 prepares runs, keeps the roster, imports bank
# results and enters corrections; 复核 reviews runs and checks corrections; 审批 approves runs
# and cancels returned payments; the bank files go to 经办 (who sends them) and 审批; statistics,
# fund requests and the conservation check are open to 财务 and 财政局 as well.
PAY_VIEW, PAY_PREPARE, PAY_REVIEW, PAY_APPROVE, PAY_FILES, PAY_STATS = (
    "pay_view",
    "pay_prepare",
    "pay_review",
    "pay_approve",
    "pay_files",
    "pay_stats",
)
CAPABILITY_NAMES.update(
    {
        PAY_VIEW: "查看代发",
        PAY_PREPARE: "办理代发（经办）",
        PAY_REVIEW: "复核代发",
        PAY_APPROVE: "审批代发",
        PAY_FILES: "下载代发银行文件",
        PAY_STATS: "查看代发统计",
    }
)

# Which role may do what on a unit it holds the role on.
CAPABILITIES: dict[str, frozenset[str]] = {
    FINANCE: frozenset({VIEW, EDIT, BUILD, DOWNLOAD, CONSOLIDATE, PAY_STATS}),
    CLERK: frozenset({VIEW, PERSONAL_DATA, PAY_VIEW, PAY_PREPARE, PAY_FILES, PAY_STATS}),
    REVIEWER: frozenset({VIEW, PERSONAL_DATA, PAY_VIEW, PAY_REVIEW, PAY_STATS}),
    APPROVER: frozenset(
        {VIEW, DOWNLOAD, APPROVE, PERSONAL_DATA, PAY_VIEW, PAY_APPROVE, PAY_FILES, PAY_STATS}
    ),
    BUREAU: frozenset({VIEW, DOWNLOAD, CONSOLIDATE, PAY_STATS}),
}

# What each role does, as the grant page tells an administrator (follows CAPABILITIES).
ROLE_DUTIES = {
    FINANCE: "导入决算数据、修改文字说明、生成和下载公开包，查看代发统计",
    CLERK: "办理代发：维护补贴类别和花名册，登记人员变动，生成月度批次，下载银行文件，"
    "导入银行回盘，录入更正、取消退回的付款和登记追回",
    REVIEWER: "复核代发批次、更正和追回登记（不能复核自己经办的）",
    APPROVER: "审批代发批次和核销，下载银行文件；查看、下载并审批公开包",
    BUREAU: "查看并下载所授单位及其全部下属单位的公开包，可汇总；查看代发统计",
}


def roles_on(user: User, unit: Unit) -> set[str]:
    """The roles `user` holds on `unit`, directly or (财政局) through a unit above it."""
    if not user.is_authenticated or not user.is_active:
        return set()
    above = [u.pk for u in unit.ancestors()]
    wanted = Q(unit_id=unit.pk)
    if above:
        wanted |= Q(unit_id__in=above, role=BUREAU)
    # One query for both: the roles here and a 财政局 grant anywhere above.
    found = Grant.objects.filter(wanted, user=user).values_list("unit_id", "role")
    return {role if unit_id == unit.pk else BUREAU for unit_id, role in found}


def capabilities(roles: set[str]) -> set[str]:
    found: set[str] = set()
    for role in roles:
        found |= CAPABILITIES.get(role, frozenset())
    return found


def can(user: User, unit: Unit, capability: str) -> bool:
    return capability in capabilities(roles_on(user, unit))


UNITS = Columns(Unit, "u")
# Units granted to the user, and every unit below one granted as 财政局 (UNION: a cycle ends).
VISIBLE_UNITS = f"""
WITH RECURSIVE below(id) AS (
    SELECT unit_id FROM accounts_grant WHERE user_id = %s AND role = %s
    UNION
    SELECT u.id FROM accounts_unit u JOIN below b ON u.parent_id = b.id
)
SELECT {UNITS.sql} FROM accounts_unit u
WHERE u.id IN (SELECT id FROM below)
   OR u.id IN (SELECT unit_id FROM accounts_grant WHERE user_id = %s)"""


def visible_units(user: User) -> list[Unit]:
    """Every unit the user holds any role on (a 财政局 grant brings its subtree), in one query."""
    if not user.is_authenticated or not user.is_active:
        return []
    return [UNITS.take(row) for row in rows(VISIBLE_UNITS, [user.pk, BUREAU, user.pk])]


def role_names(roles: set[str]) -> list[str]:
    order = list(ROLE_NAMES)
    return [ROLE_NAMES[r] for r in sorted(roles, key=order.index)]


class UnitAccess:
    """What a unit page knows about the request: the unit, the roles, the capabilities."""

    def __init__(self, unit: Unit, roles: set[str], user: User | None = None, opens_parent=None):
        self.unit = unit
        self.roles = roles
        self.capabilities = capabilities(roles)
        self._user = user
        self._opens_parent = opens_parent

    @property
    def opens_parent(self) -> bool:
        """Whether the user may open the page of the unit above (a breadcrumb links it only
        then: a unit's own clerk has no role on the 部门 above, whose page would be a 404)."""
        if self._opens_parent is None:
            parent = self.unit.parent
            self._opens_parent = (
                parent is not None and self._user is not None and bool(roles_on(self._user, parent))
            )
        return self._opens_parent

    def __contains__(self, capability: str) -> bool:
        return capability in self.capabilities

    @property
    def role_names(self) -> list[str]:
        return role_names(self.roles)

    # Template helpers: {% if access.can_edit %}
    @property
    def can_edit(self) -> bool:
        return EDIT in self.capabilities

    @property
    def can_build(self) -> bool:
        return BUILD in self.capabilities

    @property
    def can_download(self) -> bool:
        return DOWNLOAD in self.capabilities

    @property
    def can_approve(self) -> bool:
        return APPROVE in self.capabilities

    @property
    def can_consolidate(self) -> bool:
        return CONSOLIDATE in self.capabilities

    @property
    def can_see_personal_data(self) -> bool:
        return PERSONAL_DATA in self.capabilities


UNIT, PARENT = Columns(Unit, "u"), Columns(Unit, "p")
# The user's grants on the unit, on the unit above it and 财政局 grants anywhere, each with its
# unit and that unit's parent (web/sql.py: precomposed, as every unit page asks it).
GRANTS_NEAR = f"""
SELECT g.unit_id, g.role, {UNIT.sql}, {PARENT.sql}
FROM accounts_grant g
JOIN accounts_unit u ON u.id = g.unit_id
LEFT JOIN accounts_unit p ON p.id = u.parent_id
WHERE g.user_id = %s
  AND (g.unit_id = %s OR g.role = %s
       OR g.unit_id = (SELECT parent_id FROM accounts_unit WHERE id = %s))"""


def _unit_access(user: User, unit_id: int) -> UnitAccess:
    """The unit and the user's roles on it (and on the unit above, for the breadcrumb). Every
    page asks this, so the usual case — a role granted on the unit itself — takes one query: the
    user's grants here and on the unit above and 财政局 grants anywhere, with the unit joined.
    Otherwise the unit is read and `roles_on` decides."""
    if user.is_authenticated and user.is_active:
        grants = rows(GRANTS_NEAR, [user.pk, unit_id, BUREAU, unit_id])
        here = [g for g in grants if g[0] == unit_id]
        if here:
            unit = UNIT.take(here[0], 2)
            Unit.parent.field.set_cached_value(unit, PARENT.take(here[0], 2 + UNIT.width))
            roles = {role for _unit_id, role, *_ in here}
            above = [u.pk for u in unit.ancestors()]
            bureau = {g[0] for g in grants if g[1] == BUREAU}
            if bureau.intersection(above):
                roles.add(BUREAU)
            # the unit above opens with any grant on it, or a 财政局 grant on it or higher
            opens_parent = bool(above) and (
                any(g[0] == above[0] for g in grants) or bool(bureau.intersection(above))
            )
            return UnitAccess(unit, roles, user, opens_parent)
    unit = get_object_or_404(Unit.objects.select_related("parent"), pk=unit_id)
    return UnitAccess(unit, roles_on(user, unit), user)


def unit_access(user: User, unit_id: int, capability: str) -> UnitAccess:
    """The unit, if `user` may do `capability` on it; 404 when no role, 403 when not allowed."""
    access = _unit_access(user, unit_id)
    if not access.roles:
        raise Http404("没有这个单位，或您没有这个单位的权限")
    if capability not in access:
        raise PermissionDenied(f"您在“{access.unit.name}”的角色不能{CAPABILITY_NAMES[capability]}")
    return access


def requires(capability: str) -> Callable:
    """A unit view decorator: checks `capability` on the `unit_id` URL argument and passes the
    UnitAccess as `access`."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, unit_id: int, *args, **kwargs):
            access = unit_access(request.user, unit_id, capability)
            request.access = access
            return view(request, access, *args, **kwargs)

        wrapped.capability = capability  # type: ignore[attr-defined]
        return wrapped

    return decorate


def administrator_required(view: Callable) -> Callable:
    """管理员 only: 403 for everyone else."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_administrator:
            raise PermissionDenied("只有管理员可以管理账号、单位和授权")
        return view(request, *args, **kwargs)

    wrapped.capability = "admin"  # type: ignore[attr-defined]
    return wrapped

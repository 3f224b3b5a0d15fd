"""Users and units made by the 管理 page and by the office commands alike: created from a
checked form's data and written to the audit log (by the request's user, or `username` for a
command)."""

from __future__ import annotations

import secrets

from juesuan.web.accounts.models import UNIT_KIND_NAMES, Unit, User
from juesuan.web.audit.log import record


def create_user(data: dict, *, request=None, username: str | None = None) -> tuple[User, str]:
    """A user from `UserForm` data; the password given, or a new one made (returned)."""
    password = data["password"] or secrets.token_urlsafe(9)
    user = User.objects.create_user(
        data["username"],
        password=password,
        display_name=data["display_name"],
        is_superuser=data["is_admin"],
        is_staff=data["is_admin"],
    )
    record(
        "user_create",
        request=request,
        username=username,
        target=f"用户 {user.username}",
        summary=f"新建用户 {user.username}（{user.display_name or '未填姓名'}）"
        + ("，管理员" if user.is_superuser else ""),
        after={
            "username": user.username,
            "display_name": user.display_name,
            "admin": user.is_superuser,
        },
    )
    return user, password


def create_unit(data: dict, *, request=None, username: str | None = None) -> Unit:
    """A 部门 or 单位 from `UnitForm` data."""
    unit = Unit.objects.create(
        name=data["name"], code=data["code"], kind=data["kind"], parent=data["parent"]
    )
    record(
        "unit_create",
        request=request,
        username=username,
        unit=unit,
        target=f"单位 {unit.name}",
        summary=f"新建{UNIT_KIND_NAMES[unit.kind]} {unit.name}"
        + (f"，上级 {unit.parent.name}" if unit.parent else ""),
    )
    return unit

"""What the office commands (units, users, grants) share: finding a unit, a user or a role by
what a person would type, form errors as one line per field, and the audit log's name for the
console."""

from __future__ import annotations

from django.core.management.base import CommandError

from juesuan.web.accounts.models import GRANTABLE_ROLES, ROLE_NAMES, Unit, User

CONSOLE = "（命令行）"  # who the audit log names for a change made with a command


def find_unit(text: str) -> Unit:
    text = str(text).strip()
    found = Unit.objects.filter(name=text).first() or Unit.objects.filter(code=text).first()
    if found is None and text.isdigit():
        found = Unit.objects.filter(pk=int(text)).first()
    if found is None:
        raise CommandError(f"没有单位“{text}”（可用单位编号、编码或名称）")
    return found


def find_user(name: str) -> User:
    found = User.objects.filter(username=str(name).strip()).first()
    if found is None:
        raise CommandError(f"没有用户“{name}”")
    return found


def find_role(text: str) -> str:
    """A grantable role by its code (clerk) or Chinese name (经办)."""
    text = str(text).strip()
    for role in GRANTABLE_ROLES:
        if text in (role, ROLE_NAMES[role]):
            return role
    names = "、".join(f"{ROLE_NAMES[r]}（{r}）" for r in GRANTABLE_ROLES)
    raise CommandError(f"没有角色“{text}”；可用的角色：{names}")


def form_errors(form) -> CommandError:
    """A form's errors, one line per field, named as the page names them."""
    lines = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        lines.append(f"{label or '输入'}：{'；'.join(errors)}")
    return CommandError("没有保存：\n" + "\n".join(lines))

"""`python -m juesuan.web users`: list, add, stop, restart users and reset a password (as the
管理 page does). A password made here is shown once."""

from __future__ import annotations

import secrets

from django.core.management.base import BaseCommand

from juesuan.web.accounts.forms import UserForm
from juesuan.web.accounts.management.commands._office import CONSOLE, find_user, form_errors
from juesuan.web.accounts.models import User
from juesuan.web.accounts.office import create_user
from juesuan.web.audit.log import record


class Command(BaseCommand):
    help = "列出用户，或新建、停用、启用用户，重置密码"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("list", help="列出全部用户及其角色")
        add = actions.add_parser("add", help="新建用户（不给密码时生成一个并显示一次）")
        add.add_argument("username")
        add.add_argument("--name", default="", help="姓名")
        add.add_argument("--password", default="")
        add.add_argument("--admin", action="store_true", help="管理员")
        for action, text in (
            ("deactivate", "停用用户"),
            ("activate", "启用用户"),
            ("reset-password", "重置密码（新密码显示一次）"),
        ):
            actions.add_parser(action, help=text).add_argument("username")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "list":
            users = User.objects.prefetch_related("grants__unit").order_by("username")
            for user in users:
                roles = "；".join(f"{g.unit.name} {g.role_name}" for g in user.grants.all())
                state = "" if user.is_active else "（已停用）"
                admin = "，管理员" if user.is_superuser else ""
                self.stdout.write(
                    f"{user.username}{state}\t{user.display_name or '—'}{admin}\t{roles or '无角色'}"
                )
            return
        if action == "add":
            self._add(options)
            return
        user = find_user(options["username"])
        if action == "reset-password":
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save(update_fields=["password"])
            summary = f"重置用户 {user.username} 的密码"
            shown = f"{user.username} 的新密码：{password}（只显示这一次）"
        else:
            user.is_active = action == "activate"
            user.save(update_fields=["is_active"])
            summary = f"{'启用' if user.is_active else '停用'}用户 {user.username}"
            shown = summary + "。"
        record("user_update", username=CONSOLE, target=f"用户 {user.username}", summary=summary)
        self.stdout.write(shown)

    def _add(self, options):
        form = UserForm(
            {
                "username": options["username"],
                "display_name": options["name"],
                "password": options["password"],
                "is_admin": options["admin"],
            }
        )
        if not form.is_valid():
            raise form_errors(form)
        data = form.cleaned_data
        user, password = create_user(data, username=CONSOLE)
        self.stdout.write(f"已新建用户 {user.username}。")
        if not data["password"]:
            self.stdout.write(f"初始密码：{password}（只显示这一次）")

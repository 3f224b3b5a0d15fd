"""`python -m juesuan.web grants`: list, add and remove role grants (user × unit × role), as
the 管理 page does. Roles by code or Chinese name (clerk / 经办)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from juesuan.web.accounts.management.commands._office import (
    CONSOLE,
    find_role,
    find_unit,
    find_user,
)
from juesuan.web.accounts.models import Grant
from juesuan.web.audit.log import record


class Command(BaseCommand):
    help = "列出、授予或取消角色（用户 × 单位 × 角色）"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="列出授权")
        listing.add_argument("--unit", help="只列这个单位的")
        for action, text in (("add", "授予角色"), ("remove", "取消角色")):
            sub = actions.add_parser(action, help=text)
            sub.add_argument("--user", required=True, help="用户名")
            sub.add_argument("--unit", required=True, help="单位（编号、编码或名称）")
            sub.add_argument("--role", required=True, help="角色：财务、经办、复核、审批、财政局")

    def handle(self, *args, **options):
        if options["action"] == "list":
            grants = Grant.objects.select_related("user", "unit").order_by("unit_id", "user_id")
            if options["unit"]:
                grants = grants.filter(unit=find_unit(options["unit"]))
            for grant in grants:
                self.stdout.write(f"{grant.unit.name}\t{grant.user.username}\t{grant.role_name}")
            return
        user = find_user(options["user"])
        unit, role = find_unit(options["unit"]), find_role(options["role"])
        if options["action"] == "add":
            if not user.is_active:
                raise CommandError(f"用户 {user.username} 已停用，不能授权")
            grant, created = Grant.objects.get_or_create(user=user, unit=unit, role=role)
            if not created:
                self.stdout.write(f"这项授权已经存在：{grant}，无变化。")
                return
            verb = "授予"
        else:
            grant = Grant.objects.filter(user=user, unit=unit, role=role).first()
            if grant is None:
                self.stdout.write("没有这项授权，无变化。")
                return
            verb = "取消"
        with transaction.atomic():
            if verb == "取消":
                grant.delete()
            record(
                "grant_add" if verb == "授予" else "grant_remove",
                username=CONSOLE,
                unit=unit,
                target=f"用户 {user.username}",
                summary=f"{verb} {user.username} 在“{unit.name}”的{grant.role_name}角色",
            )
        self.stdout.write(f"已{verb}：{user.username} 在“{unit.name}”的{grant.role_name}角色。")

"""`python -m juesuan.web createadmin USERNAME [--password …]`: the first administrator."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "新建管理员账号（不给密码时生成一个随机密码并显示）"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password")

    def handle(self, *args, **options):
        from juesuan.web.commands import AdminError, make_admin

        try:
            password, generated = make_admin(options["username"], options["password"])
        except AdminError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已新建管理员 {options['username']}")
        if generated:
            self.stdout.write(f"初始密码：{password}（请登录后立即修改）")

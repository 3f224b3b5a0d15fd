"""`python -m juesuan.web verify_audit_log`: check the audit log's hash chain."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from juesuan.web.audit.log import verify


class Command(BaseCommand):
    help = "核对操作记录的哈希链，报告第一处断开的位置"

    def handle(self, *args, **options):
        result = verify()
        if not result.ok:
            raise CommandError(str(result))
        self.stdout.write(str(result))

"""`python -m juesuan.web disburse_roster`: import the 花名册 (Excel/CSV); a file with errors stores nothing."""

from __future__ import annotations

from pathlib import Path

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand


class Command(PayCommand):
    help = "导入花名册；文件有错误时不保存，并逐行列出错误"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file")

    def handle(self, *args, **options):
        outcome = services.import_roster(
            self.unit(options), self.user(options), Path(options["file"])
        )
        self.report(outcome, options)

"""`python -m juesuan.web disburse_results`: import a bank result file (回盘); the same file twice changes nothing."""

from __future__ import annotations

from pathlib import Path

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand


class Command(PayCommand):
    help = "导入银行回盘文件；同一文件重复导入不改变任何数据"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file")
        parser.add_argument("--adapter", default="generic-csv", help="银行接口（默认 generic-csv）")

    def handle(self, *args, **options):
        outcome = services.import_results(
            self.unit(options),
            self.user(options),
            Path(options["file"]),
            adapter_id=options["adapter"],
        )
        self.report(outcome, options)

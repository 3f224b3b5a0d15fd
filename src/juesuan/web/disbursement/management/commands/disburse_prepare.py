"""`python -m juesuan.web disburse_prepare`: 经办 prepares a month's regular run."""

from __future__ import annotations

from django.core.management.base import CommandError

from juesuan.disbursement.model import Month
from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand


class Command(PayCommand):
    help = "生成某月的发放批次（经办）；已生成的月份不重复生成"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("month", help="发放月份，例如 2020-03")
        parser.add_argument("--scheme", action="append", help="补贴类别代码（可多次；默认全部）")

    def handle(self, *args, **options):
        try:
            month = Month.parse(options["month"])
        except (ValueError, IndexError) as exc:
            raise CommandError(
                "发放月份“" + options["month"] + "”无法识别，请写作 2020-03"
            ) from exc
        outcome = services.prepare_run(
            self.unit(options), self.user(options), month, options.get("scheme")
        )
        self.report(outcome, options)

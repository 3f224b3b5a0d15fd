"""`python -m juesuan.web disburse_events`: record 人员变动 from Excel/CSV."""

from __future__ import annotations

from pathlib import Path

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand


class Command(PayCommand):
    help = "录入人员变动；已录入的不重复录入"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file")

    def handle(self, *args, **options):
        outcome = services.record_events(
            self.unit(options), self.user(options), Path(options["file"])
        )
        self.report(outcome, options)

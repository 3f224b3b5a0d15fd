"""`python -m juesuan.web disburse_schemes`: import 补贴类别 and standards from a YAML file."""

from __future__ import annotations

from pathlib import Path

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand


class Command(PayCommand):
    help = "导入补贴类别和发放标准（YAML）"
    needs_user = False

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file")

    def handle(self, *args, **options):
        outcome = services.import_schemes(self.unit(options), None, Path(options["file"]))
        self.report(outcome, options)

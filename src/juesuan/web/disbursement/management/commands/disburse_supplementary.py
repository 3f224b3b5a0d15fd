"""`python -m juesuan.web disburse_supplementary`: 经办 gathers checked corrections into a supplementary run."""

from __future__ import annotations

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand


class Command(PayCommand):
    help = "把已复核的更正生成补发批次（经办）"

    def handle(self, *args, **options):
        outcome = services.prepare_supplementary_run(self.unit(options), self.user(options))
        self.report(outcome, options)

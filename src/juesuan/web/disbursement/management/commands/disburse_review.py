"""`python -m juesuan.web disburse_review`: 复核 passes a prepared run."""

from __future__ import annotations

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand
from juesuan.web.disbursement.models import Run


class Command(PayCommand):
    help = "复核发放批次"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("run", type=int, help="批次号（本单位的第几批）")

    def handle(self, *args, **options):
        unit = self.unit(options)
        run = Run.objects.filter(unit=unit, number=options["run"]).first()
        if run is None:
            outcome = services.Outcome(False, f"本单位没有第 {options['run']} 批")
        else:
            outcome = services.review_run(unit, self.user(options), run.pk)
        self.report(outcome, options)

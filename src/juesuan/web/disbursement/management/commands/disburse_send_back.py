"""`python -m juesuan.web disburse_send_back`: 复核 or 审批 sends a run back to 经办 before approval."""

from __future__ import annotations

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand
from juesuan.web.disbursement.models import Run


class Command(PayCommand):
    help = "退回发放批次至经办（审批前）"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("run", type=int, help="批次号（本单位的第几批）")
        parser.add_argument("--reason", default="", help="退回原因")

    def handle(self, *args, **options):
        unit = self.unit(options)
        run = Run.objects.filter(unit=unit, number=options["run"]).first()
        if run is None:
            outcome = services.Outcome(False, f"本单位没有第 {options['run']} 批")
        else:
            outcome = services.send_back_run(unit, self.user(options), run.pk, options["reason"])
        self.report(outcome, options)

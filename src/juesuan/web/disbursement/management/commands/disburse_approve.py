"""`python -m juesuan.web disburse_approve`: 审批 approves a reviewed run and writes its bank files."""

from __future__ import annotations

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import PayCommand
from juesuan.web.disbursement.models import Run


class Command(PayCommand):
    help = "审批发放批次并生成银行文件"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("run", type=int, help="批次号（本单位的第几批）")

    def handle(self, *args, **options):
        unit = self.unit(options)
        run = Run.objects.filter(unit=unit, number=options["run"]).first()
        if run is None:
            outcome = services.Outcome(False, f"本单位没有第 {options['run']} 批")
        else:
            outcome = services.approve_run(unit, self.user(options), run.pk)
        self.report(outcome, options)

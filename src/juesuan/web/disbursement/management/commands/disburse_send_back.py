"""`python -m juesuan.web disburse_send_back`: 复核 or 审批 sends a run back to 经办 before approval."""

from __future__ import annotations

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import RunStepCommand


class Command(RunStepCommand):
    help = "退回发放批次至经办（审批前）"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--reason", default="", help="退回原因")

    def step(self, unit, user, run_id, options):
        return services.send_back_run(unit, user, run_id, options["reason"])

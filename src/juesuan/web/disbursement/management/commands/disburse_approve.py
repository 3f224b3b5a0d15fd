"""`python -m juesuan.web disburse_approve`: 审批 approves a reviewed run and writes its bank files."""

from __future__ import annotations

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import RunStepCommand


class Command(RunStepCommand):
    help = "审批发放批次并生成银行文件"

    def step(self, unit, user, run_id, options):
        return services.approve_run(unit, user, run_id)

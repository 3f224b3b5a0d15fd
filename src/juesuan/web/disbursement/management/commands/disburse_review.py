"""`python -m juesuan.web disburse_review`: 复核 passes a prepared run."""

from __future__ import annotations

from juesuan.web.disbursement import services
from juesuan.web.disbursement.management.commands._base import RunStepCommand


class Command(RunStepCommand):
    help = "复核发放批次"

    def step(self, unit, user, run_id, options):
        return services.review_run(unit, user, run_id)
